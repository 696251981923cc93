"""Skip-gram with negative sampling over walks: our compiled kernel (default) or gensim's Word2Vec.

Why the compiled kernel by default (decided by ``benchmarks/node2vec.py``, which runs both side by side as
``ours`` and ``ours-numba``): it is the same algorithm as gensim's ``sg=1`` negative sampling (see
:mod:`._sgns`), run directly over the walk matrix with every thread busy, where gensim needs a token string per
node and a Python producer thread.  On PPI (p=q=1 and p=0.25,q=4, 2 workers, two runs on a quiet machine) it
trained in 3.5-3.8 s against gensim's 8.1-8.9 s (2.3x), with Macro-F1 0.1795 / 0.1785 and 0.1756 / 0.1755
against gensim's 0.1830 / 0.1806 and 0.1712 / 0.1733 (PecanPy SparseOTF: 0.181-0.185 and 0.176-0.177):
equal within run-to-run noise.  ``backend="gensim"`` keeps the proven implementation one argument away.

How gensim is fed (decided by measurement): ``feed="iterable"`` (default) streams each walk as a list of shared
token strings, built lazily from the walk matrix, so no copy of the corpus is held; ``feed="file"`` writes the
walks to a temporary text file for gensim's ``corpus_file`` mode, where each thread reads its own slice without
the GIL.  On PPI the file mode gave Macro-F1 0.170 / 0.171 for two walk seeds against 0.181 / 0.176 fed as an
iterable, at a similar speed; quality decided.  The vocabulary is built from node counts (``np.bincount``).

The defaults match gensim's and PecanPy's (alpha 0.025, ``sample=1e-3``, 5 negatives, shrinking windows) so
that quality comparisons are like for like.  Embeddings are bit-reproducible only with ``workers=1``: with
several threads the updates interleave nondeterministically in both backends (the walks stay reproducible).
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


class _WalkCorpus:
    """Re-iterable view of a walk matrix as token lists; tokens are shared strings, rows are built on demand."""

    def __init__(self, walks: np.ndarray, n_nodes: int) -> None:
        self.walks = walks
        self.tokens = [str(i) for i in range(n_nodes)]

    def __iter__(self):  # type: ignore[no-untyped-def]
        tokens = self.tokens
        for row in self.walks:
            yield [tokens[v] for v in row.tolist() if v >= 0]


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
    feed: str = "iterable",
    backend: str = "numba",
    shared_negatives: bool | None = None,
) -> SkipGramResult:
    """Train SGNS on ``walks`` (int matrix of node indices) and return one vector per node index.

    ``backend="numba"`` (default) runs the algorithm compiled over the walk matrix (:mod:`._sgns`);
    ``backend="gensim"`` runs gensim's Word2Vec, and ``feed`` applies to it only.
    ``shared_negatives`` (numba only; default on there): a centre node's negative samples are drawn once and
    serve all of its context pairs (Ji et al. 2016, "Parallelizing Word2Vec in Shared and Distributed
    Memory"), so each centre's output rows are loaded once rather than once per pair: about 2x faster per
    thread at the same Macro-F1 on BlogCatalog, PPI and Wikipedia (``benchmarks/sgns_negatives.py``,
    ``benchmarks/node2vec.py``).  ``False`` is word2vec's and gensim's per-pair draws.
    """
    if backend not in ("gensim", "numba"):
        raise ValueError(f"backend must be 'gensim' or 'numba', got {backend=}")
    if backend == "gensim" and shared_negatives:
        raise ValueError("shared_negatives is a feature of backend='numba'; gensim draws negatives per pair")
    if feed not in ("iterable", "file"):
        raise ValueError(f"feed must be 'iterable' or 'file', got {feed=}")
    t0 = time.perf_counter()
    flat = walks.ravel()
    counts = np.bincount(flat[flat >= 0], minlength=n_nodes)
    seen = np.flatnonzero(counts)
    vectors = np.full((n_nodes, dimensions), np.nan, dtype=np.float32)
    if len(seen) == 0:
        return SkipGramResult(vectors, time.perf_counter() - t0)
    if backend == "numba":
        from hyperselect.represent.node2vec import _sgns

        trained = _sgns.train(
            walks,
            counts,
            dimensions=int(dimensions),
            window=int(window),
            negative=int(negative),
            epochs=int(epochs),
            alpha=float(alpha),
            min_alpha=float(min_alpha),
            sample=float(sample),
            workers=max(1, int(workers)),
            seed=int(seed),
            shared_negatives=True if shared_negatives is None else bool(shared_negatives),
        )
        vectors[seen] = trained[seen]
        seconds = time.perf_counter() - t0
        logger.info("skip-gram (numba) on %d tokens, %d epoch(s): %.2fs", int(counts.sum()), epochs, seconds)
        return SkipGramResult(vectors, seconds)
    models = require("gensim.models", "graph", package="gensim")
    n_tokens = int(counts.sum())
    path = None
    if feed == "file":
        fd, path = tempfile.mkstemp(prefix="hyperselect-walks-", suffix=".txt", dir=tmp_dir)
        os.close(fd)
    try:
        if path is not None:
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
        if path is not None:
            model.train(corpus_file=path, total_examples=len(walks), total_words=n_tokens, epochs=int(epochs))
        else:
            model.train(
                corpus_iterable=_WalkCorpus(walks, n_nodes),
                total_examples=len(walks),
                total_words=n_tokens,
                epochs=int(epochs),
            )
    finally:
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    kv = model.wv
    order = np.asarray([int(k) for k in kv.index_to_key], dtype=np.int64)
    vectors[order] = kv.vectors
    seconds = time.perf_counter() - t0
    logger.info("skip-gram on %d tokens, %d epoch(s): %.2fs", n_tokens, epochs, seconds)
    return SkipGramResult(vectors, seconds)
