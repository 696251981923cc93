"""node2vec: exact second-order walks (numba), skip-gram (gensim), stable answers with support."""

from hyperselect.represent.node2vec.model import (
    Answer,
    Node2Vec,
    Recommendation,
    auto_effort,
    equivalence_classes,
    stability,
    topk_overlap,
)
from hyperselect.represent.node2vec.walks import generate_walks

__all__ = [
    "Answer",
    "Node2Vec",
    "Recommendation",
    "auto_effort",
    "equivalence_classes",
    "generate_walks",
    "stability",
    "topk_overlap",
]
