"""The compiled skip-gram (``backend="numba"``) against gensim's on the same walks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("gensim")

from hyperselect.data.graph import from_networkx
from hyperselect.represent.node2vec.skipgram import train_skipgram
from hyperselect.represent.node2vec.walks import generate_walks


def _two_cliques():  # type: ignore[no-untyped-def]
    g = nx.barbell_graph(12, 0)  # two 12-cliques joined by one edge
    return from_networkx(g)


def _separation(vectors: np.ndarray) -> float:
    """Mean cosine within the two cliques minus the mean cosine across them."""
    u = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    s = u @ u.T
    side = np.arange(len(u)) < 12
    same = side[:, None] == side[None, :]
    np.fill_diagonal(same, False)
    return float(s[same].mean() - s[side[:, None] != side[None, :]].mean())


@pytest.mark.parametrize(("backend", "shared"), [("gensim", None), ("numba", True), ("numba", False)])
def test_both_backends_separate_communities(backend: str, shared: bool | None) -> None:
    graph = _two_cliques()
    walks = generate_walks(graph, num_walks=20, walk_length=20, random_state=0).walks
    vec = train_skipgram(
        walks,
        graph.n_nodes,
        dimensions=16,
        window=5,
        epochs=3,
        workers=1,
        seed=0,
        backend=backend,
        shared_negatives=shared,
    )
    assert vec.vectors.shape == (graph.n_nodes, 16)
    assert np.isfinite(vec.vectors).all()
    assert _separation(vec.vectors) > 0.3


def test_numba_backend_reproducible_with_one_thread_and_seed_matters() -> None:
    graph = _two_cliques()
    walks = generate_walks(graph, num_walks=5, walk_length=20, random_state=0).walks
    kw = dict(dimensions=8, window=3, workers=1, backend="numba")
    a = train_skipgram(walks, graph.n_nodes, seed=1, **kw).vectors  # type: ignore[arg-type]
    b = train_skipgram(walks, graph.n_nodes, seed=1, **kw).vectors  # type: ignore[arg-type]
    c = train_skipgram(walks, graph.n_nodes, seed=2, **kw).vectors  # type: ignore[arg-type]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_numba_backend_unseen_nodes_are_nan_and_bad_backend_raises() -> None:
    walks = np.array([[0, 1, 0, 1, -1], [1, 0, 1, 0, 1]], dtype=np.int32)
    vec = train_skipgram(walks, 4, dimensions=4, window=2, workers=1, backend="numba").vectors
    assert np.isnan(vec[2:]).all() and np.isfinite(vec[:2]).all()
    with pytest.raises(ValueError, match="backend"):
        train_skipgram(walks, 4, backend="word2vec-c")


def test_shared_negatives_is_the_default_changes_the_draws_and_is_reproducible() -> None:
    graph = _two_cliques()
    walks = generate_walks(graph, num_walks=5, walk_length=20, random_state=0).walks
    kw = dict(dimensions=8, window=3, workers=1, backend="numba", seed=3)
    default = train_skipgram(walks, graph.n_nodes, **kw).vectors  # type: ignore[arg-type]
    shared = train_skipgram(walks, graph.n_nodes, shared_negatives=True, **kw).vectors  # type: ignore[arg-type]
    exact = train_skipgram(walks, graph.n_nodes, shared_negatives=False, **kw).vectors  # type: ignore[arg-type]
    assert np.array_equal(default, shared)
    assert not np.array_equal(shared, exact)
    again = train_skipgram(walks, graph.n_nodes, shared_negatives=False, **kw).vectors  # type: ignore[arg-type]
    assert np.array_equal(exact, again)


def test_shared_negatives_with_gensim_or_a_non_bool_is_a_clear_error() -> None:
    from hyperselect.represent.node2vec.model import Node2Vec

    walks = np.array([[0, 1, 0, 1]], dtype=np.int32)
    with pytest.raises(ValueError, match="shared_negatives"):
        train_skipgram(walks, 2, backend="gensim", shared_negatives=True)
    with pytest.raises(ValueError, match="shared_negatives"):
        Node2Vec(shared_negatives="yes").fit(_two_cliques())  # type: ignore[arg-type]
