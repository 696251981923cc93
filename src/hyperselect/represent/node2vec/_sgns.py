"""Compiled skip-gram with negative sampling (numba): gensim's ``sg=1, negative=k``, or shared negatives.

What is the same as gensim (so that quality compares like for like): vectors initialised uniform in
``[-1, 1) / dimensions`` and output weights at zero; frequent-token downsampling with gensim's formula for
``sample``; a shrinking window (each centre draws ``b`` in ``[0, window)`` and uses ``window - b`` on each side,
over the kept tokens); for each (centre, context) pair the context's input vector predicts the centre against
``negative`` draws from the unigram^0.75 distribution (through a slot table as in word2vec, sized to the
graph); linear learning-rate decay from ``alpha`` to ``min_alpha``.
What differs: the exact logistic function instead of a 1000-entry table clipped at +-6, and the corpus is the
walk matrix itself (no token strings, no Python producer thread holding the GIL), split into chunks that the
threads process Hogwild-style (lock-free shared updates, as gensim's threads do).  Each thread decays its own
learning rate over its own share, and each chunk has its own random stream, so a run with one thread is
bit-reproducible.  With ``shared`` (the library's default) a centre's negatives are drawn once for all of its
context pairs (Ji et al. 2016): the per-pair kernel is bound by loading random output rows, and this loads
each centre's rows once instead of once per pair (about 2x faster per thread at the same Macro-F1).
"""
# mypy: ignore-errors

from __future__ import annotations

import math

import numpy as np

from hyperselect.errors import require
from hyperselect.represent.node2vec._kernels import splitmix_raw as _next

numba = require("numba", "graph")
njit, prange = numba.njit, numba.prange


@njit(cache=True, nogil=True, fastmath=True)
def _train_chunk(
    walks, lo, hi, syn0, syn1, table, keep, window, negative, alpha0, alpha1, state, buf, neu, shared
):
    """Train on walks[lo:hi]; the learning rate goes linearly from alpha0 to alpha1 over the chunk."""
    dim = syn0.shape[1]
    n_table = table.shape[0]
    length = walks.shape[1]
    n_rows = hi - lo
    tgt = np.empty(negative + 1, dtype=np.int64)
    sink = np.float32(0.0)
    for r in range(lo, hi):
        alpha = alpha0 + (alpha1 - alpha0) * (r - lo) / max(n_rows, 1)
        # kept tokens of this walk (downsampling), into buf
        n = 0
        for t in range(length):
            w = walks[r, t]
            if w < 0:
                break
            state, z = _next(state)
            if keep[w] < 1.0 and keep[w] < (z >> np.uint64(11)) * (1.0 / 9007199254740992.0):
                continue
            buf[n] = w
            n += 1
        for i in range(n):
            word = buf[i]
            state, z = _next(state)
            reduced = window - np.int64(z % np.uint64(window))
            start = max(0, i - reduced)
            stop = min(n, i + reduced + 1)
            n_t = 0
            for j in range(start, stop):
                if j == i:
                    continue
                ctx = buf[j]
                if n_t == 0 or not shared:
                    # draw the targets first and touch every cache line of their output rows, so that the
                    # (random, mostly L2-missing) rows load in parallel instead of one after another; with
                    # ``shared`` the centre's first context draws them and all its contexts use them
                    n_t = 0
                    for d in range(negative + 1):
                        if d == 0:
                            tgt[n_t] = word
                        else:
                            state, z = _next(state)
                            target = table[np.int64(z % np.uint64(n_table))]
                            if target == word:
                                continue
                            tgt[n_t] = target
                        for k in range(0, dim, 16):
                            sink += syn1[tgt[n_t], k]
                        n_t += 1
                for k in range(dim):
                    neu[k] = np.float32(0.0)
                for d in range(n_t):
                    target = tgt[d]
                    label = 1.0 if d == 0 else 0.0
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += syn0[ctx, k] * syn1[target, k]
                    if f > 30.0:
                        sig = 1.0
                    elif f < -30.0:
                        sig = 0.0
                    else:
                        sig = 1.0 / (1.0 + math.exp(-f))
                    g = np.float32((label - sig) * alpha)
                    for k in range(dim):
                        neu[k] += g * syn1[target, k]
                        syn1[target, k] += g * syn0[ctx, k]
                for k in range(dim):
                    syn0[ctx, k] += neu[k]
    if sink == np.float32(1e30):  # never true: keeps the touches from being optimised away
        neu[0] += sink
    return state


@njit(cache=True, parallel=True, nogil=True)
def train_epochs(
    walks, syn0, syn1, table, keep, window, negative, alpha, min_alpha, epochs, n_threads, seed, shared
):
    """All epochs; thread t takes chunks t, t + T, ... in order and decays its learning rate over them."""
    n_walks = walks.shape[0]
    n_chunks = max(n_threads, min(n_walks, 64 * n_threads))
    per = (n_walks + n_chunks - 1) // n_chunks
    dim = syn0.shape[1]
    for t in prange(n_threads):
        buf = np.empty(walks.shape[1], dtype=np.int64)
        neu = np.empty(dim, dtype=np.float32)
        mine = (n_chunks - t + n_threads - 1) // n_threads
        total = max(1, mine * epochs)
        done = 0
        for e in range(epochs):
            for c in range(t, n_chunks, n_threads):
                lo = c * per
                hi = min(n_walks, lo + per)
                if lo >= hi:
                    done += 1
                    continue
                a0 = alpha - (alpha - min_alpha) * done / total
                a1 = alpha - (alpha - min_alpha) * (done + 1) / total
                state = np.uint64(seed) * np.uint64(1000003) + np.uint64(e * n_chunks + c + 1)
                _train_chunk(
                    walks, lo, hi, syn0, syn1, table, keep, window, negative, a0, a1, state, buf, neu, shared
                )
                done += 1


def train(
    walks: np.ndarray,
    counts: np.ndarray,
    *,
    dimensions: int,
    window: int,
    negative: int,
    epochs: int,
    alpha: float,
    min_alpha: float,
    sample: float,
    workers: int,
    seed: int,
    shared_negatives: bool = False,
) -> np.ndarray:
    """Input vectors (n_nodes x dimensions, float32) trained on ``walks`` (-1 padded); ``counts`` per node."""
    n_nodes = counts.shape[0]
    counts = counts.astype(np.float64)
    total = counts.sum()
    keep = np.ones(n_nodes, dtype=np.float64)
    if sample and total > 0:
        threshold = sample * total if sample < 1.0 else float(sample)
        seen = counts > 0
        prob = (np.sqrt(counts[seen] / threshold) + 1.0) * (threshold / counts[seen])
        keep[seen] = np.minimum(prob, 1.0)
    # unigram^0.75 sampling table (word2vec's construction; gensim bisects a cumulative table instead, which
    # costs a dozen mispredicted branches per draw): each node fills a share of the slots proportional to its
    # weight, at least 100 slots per node on average
    pw = counts**0.75
    n_slots = int(min(max(1_000_000, 100 * n_nodes), 50_000_000))
    bounds = np.round(np.cumsum(pw / pw.sum()) * n_slots).astype(np.int64)
    table = np.repeat(np.arange(n_nodes, dtype=np.int32), np.diff(bounds, prepend=0))
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((n_nodes, dimensions), dtype=np.float32) * 2.0 - 1.0) / dimensions).astype(np.float32)
    syn1 = np.zeros((n_nodes, dimensions), dtype=np.float32)
    w = np.ascontiguousarray(walks, dtype=np.int32)
    n_threads = max(1, min(int(workers), numba.config.NUMBA_NUM_THREADS))
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        train_epochs(
            w,
            syn0,
            syn1,
            table,
            keep,
            int(window),
            int(negative),
            float(alpha),
            float(min_alpha),
            int(epochs),
            n_threads,
            int(seed) % (2**63),
            bool(shared_negatives),
        )
    finally:
        numba.set_num_threads(previous)
    return syn0
