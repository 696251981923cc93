"""Skip-gram with negative sampling over walks, using gensim's Word2Vec.

Why gensim and how it is fed (decided by measurement, see benchmarks/node2vec.py): its Cython kernels are the
proven implementation; the time goes into feeding them.  Walks are written once to a temporary text file and
trained with ``corpus_file``, where each worker thread reads its own slice of the file without the GIL; feeding
Python lists (``corpus_iterable``, as PecanPy does) was 1.5x slower per token on this 2-core machine.  The
vocabulary is built from node counts (``np.bincount``) instead of a scan over the walks.

The defaults match gensim's and PecanPy's (alpha 0.025, ``sample=1e-3``, 5 negatives, shrinking windows) so
that quality comparisons are like for like.  Embeddings are bit-reproducible only with ``workers=1``: with
several threads gensim's updates interleave nondeterministically (the walks stay reproducible).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from hyperselect.errors import require

logger = logging.getLogger(__name__)

__all__ = ["SkipGramResult", "train_skipgram", "write_walks"]


@dataclass
class SkipGramResult:
    """Vectors in node-index order; rows of nodes never seen on a walk are NaN."""

    vectors: np.ndarray
    seconds: float


def write_walks(walks: np.ndarray, path: str, chunk: int = 20_000) -> int:
    """Write walks as space-separated node indices, one per line (-1 padding dropped); returns token count."""
    n_tokens = 0
    with open(path, "w", encoding="ascii") as fh:
        for lo in range(0, len(walks), chunk):
            block = walks[lo : lo + chunk]
            lines = []
            for row in block.tolist():
                if row and row[-1] < 0:
                    row = [x for x in row if x >= 0]
                n_tokens += len(row)
                lines.append(" ".join(map(str, row)))
            fh.write("\n".join(lines))
            fh.write("\n")
    return n_tokens


def train_skipgram(
    walks: np.ndarray,
    n_nodes: int,
    *,
    dimensions: int = 128,
    window: int = 10,
    negative: int = 5,
    epochs: int = 1,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    sample: float = 1e-3,
    workers: int = 2,
    seed: int = 0,
    tmp_dir: str | None = None,
) -> SkipGramResult:
    """Train SGNS on ``walks`` (int matrix of node indices) and return one vector per node index."""
    models = require("gensim.models", "graph", package="gensim")
    t0 = time.perf_counter()
    flat = walks.ravel()
    counts = np.bincount(flat[flat >= 0], minlength=n_nodes)
    seen = np.flatnonzero(counts)
    vectors = np.full((n_nodes, dimensions), np.nan, dtype=np.float32)
    if len(seen) == 0:
        return SkipGramResult(vectors, time.perf_counter() - t0)
    fd, path = tempfile.mkstemp(prefix="hyperselect-walks-", suffix=".txt", dir=tmp_dir)
    os.close(fd)
    try:
        n_tokens = write_walks(walks, path)
        model = models.Word2Vec(
            vector_size=int(dimensions),
            window=int(window),
            min_count=0,
            sg=1,
            hs=0,
            negative=int(negative),
            alpha=float(alpha),
            min_alpha=float(min_alpha),
            sample=float(sample),
            workers=max(1, int(workers)),
            seed=int(seed) % (2**31),
        )
        model.build_vocab_from_freq({str(i): int(counts[i]) for i in seen})
        model.train(corpus_file=path, total_examples=len(walks), total_words=n_tokens, epochs=int(epochs))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    kv = model.wv
    order = np.asarray([int(k) for k in kv.index_to_key], dtype=np.int64)
    vectors[order] = kv.vectors
    seconds = time.perf_counter() - t0
    logger.info("skip-gram on %d tokens, %d epoch(s): %.2fs", n_tokens, epochs, seconds)
    return SkipGramResult(vectors, seconds)
