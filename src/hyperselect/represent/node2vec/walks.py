"""node2vec random walks: exact second-order transition probabilities in O(edges) memory, parallel, seeded.

The node2vec step from ``cur`` (having come from ``prev``) picks neighbour ``x`` with probability proportional
to ``w(cur, x) * alpha(prev, x)``, where alpha is ``1/p`` for ``x == prev``, ``1`` when ``x`` is an out-neighbour
of ``prev`` and ``1/q`` otherwise.  Three ways to draw it, all exact:

``first_order``  p = q = 1: alpha is constant, a draw is a binary search on the row's cumulative weights.
``otf``          rejection sampling (as in KnightKing / PecanPy's SparseOTF idea), with the return edge folded
                 out of the envelope: the return step is taken with its exact mass and any other neighbour is
                 proposed from the first-order law (prev excluded) and accepted with ``alpha / max(1, 1/q)``.
                 Folding the return edge out keeps the acceptance rate high even for a small p (p = 0.25 would
                 otherwise put a 4x envelope on every neighbour).  Memory: the CSR arrays plus one float per edge.
                 The acceptance rate of the other neighbours can still fall to ``min(q, 1/q)`` (with q < 1 when
                 every candidate is a neighbour of prev, with q > 1 when none is and there is no way back), so
                 after 64 rejections a step is drawn exactly from its row, O(degree): the law stays exact and a
                 step's work stays bounded.
``precomp``      per-edge alias tables (memory sum over edges of the target's degree): only for small graphs.

Reproducibility: every walk has its own counter-based generator (splitmix64 seeded by the walk's index and
``random_state``), so the walks do not depend on the number of threads or on scheduling.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperselect.data.graph import Graph
from hyperselect.errors import ConfigError, require

logger = logging.getLogger(__name__)

__all__ = ["P_Q_MAX", "P_Q_MIN", "WALK_MODES", "WalkResult", "exact_transition_probs", "generate_walks"]

WALK_MODES = ("auto", "first_order", "otf", "precomp")
#: Above this many alias entries (sum over edges of the target's degree) precomputation is refused with a hint.
PRECOMP_MAX_ENTRIES = 50_000_000
_PRECOMP_WARN_ENTRIES = 5_000_000
#: The accepted range of p and q.  Beyond it the walk does not change in any useful way (at q = 1e-3 an outward
#: step is already 1,000 times likelier than a step among prev's neighbours), while 1/p and 1/q can overflow and
#: the otf sampler's acceptance rate, as low as min(q, 1/q), sends every step to the exact O(degree) draw.
P_Q_MIN, P_Q_MAX = 1e-3, 1e3


def _get_kernels() -> Any:
    """The compiled kernels, imported lazily so that importing hyperselect does not import numba."""
    from hyperselect.represent.node2vec import _kernels

    return _kernels


@dataclass
class WalkResult:
    """Walks as an int32 matrix of node indices (-1 pads walks that reached a node with no way out)."""

    walks: np.ndarray
    mode: str
    seconds: float
    p: float
    q: float

    def counts(self, n_nodes: int) -> np.ndarray:
        flat = self.walks.ravel()
        return np.bincount(flat[flat >= 0], minlength=n_nodes)


def resolve_mode(graph: Graph, p: float, q: float, mode: str) -> str:
    """Choose the walk mode; refuse invalid combinations, warn on valid but slow ones naming the better one."""
    if mode not in WALK_MODES:
        raise ConfigError(
            f"The 'mode' parameter must be one of {', '.join(map(repr, WALK_MODES))}. Got {mode!r}."
        )
    for name, value in (("p", p), ("q", q)):
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not P_Q_MIN <= value <= P_Q_MAX
        ):
            raise ConfigError(
                f"The {name!r} parameter must be a float in [{P_Q_MIN:g}, {P_Q_MAX:g}]. Got {value!r}."
            )
    first = p == 1 and q == 1
    if mode == "auto":
        return "first_order" if first else "otf"
    if mode == "first_order" and not first:
        raise ConfigError(f"mode='first_order' ignores the return and in-out biases; got {p=}, {q=}.")
    if mode in ("otf", "precomp") and first:
        warnings.warn(
            f"mode={mode!r} with p = q = 1 computes second-order weights that are all equal; "
            "mode='first_order' gives the same walks faster.",
            UserWarning,
            stacklevel=3,
        )
    if mode == "precomp":
        entries = int(graph.degree[graph.indices].sum())
        if entries > PRECOMP_MAX_ENTRIES:
            raise ConfigError(
                f"mode='precomp' needs {entries:,} alias entries (~{entries * 12 / 1e9:.1f} GB) for this graph; "
                "use mode='otf', which is exact in O(edges) memory."
            )
        if entries > _PRECOMP_WARN_ENTRIES:
            warnings.warn(
                f"mode='precomp' stores {entries:,} alias entries (~{entries * 12 / 1e6:.0f} MB); "
                "mode='otf' is exact with O(edges) memory.",
                UserWarning,
                stacklevel=3,
            )
    return mode


def _cumulative(graph: Graph) -> np.ndarray:
    return np.cumsum(graph.weights) if graph.weighted and len(graph.weights) else np.zeros(1)


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the system has one (a container or
    ``taskset`` limits it), else ``os.cpu_count()``.  ``os.cpu_count()`` counts the machine's CPUs, so where
    the process may use fewer, threads beyond them only contend for the same cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        return max(1, os.cpu_count() or 1)


def generate_walks(
    graph: Graph,
    *,
    num_walks: int = 10,
    walk_length: int = 80,
    p: float = 1.0,
    q: float = 1.0,
    mode: str = "auto",
    random_state: int | None = None,
    workers: int | None = None,
) -> WalkResult:
    """``num_walks`` walks from every node that has a way out, the start order shuffled per round.

    Nodes without outgoing edges start no walk (they cannot be embedded); in a directed graph they can still
    end one, and such walks are padded with -1.
    """
    if int(num_walks) < 1 or int(walk_length) < 1:
        raise ConfigError(f"num_walks and walk_length must be >= 1; got {num_walks=}, {walk_length=}.")
    mode = resolve_mode(graph, p, q, mode)
    kernels = _get_kernels()
    numba = require("numba", "graph")
    n_threads = max(1, min(int(workers or usable_cpus()), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n_threads)

    rng = np.random.default_rng(random_state)
    seed = int(rng.integers(0, 2**63 - 1))
    movable = np.flatnonzero(graph.degree > 0).astype(np.int32)
    starts = (
        np.concatenate([rng.permutation(movable) for _ in range(int(num_walks))]) if len(movable) else movable
    )

    t0 = time.perf_counter()
    cumw = _cumulative(graph)
    use_alias = mode == "precomp"
    if use_alias:
        alias_off = np.zeros(len(graph.indices) + 1, dtype=np.int64)
        np.cumsum(graph.degree[graph.indices], out=alias_off[1:])
        aj, aq = kernels.build_alias(graph.indptr, graph.indices, graph.weights, 1.0 / p, 1.0 / q, alias_off)
    else:
        alias_off = np.zeros(1, dtype=np.int64)
        aj, aq = np.zeros(1, dtype=np.int32), np.ones(1)
    walks = kernels.walk_kernel(
        graph.indptr,
        graph.indices,
        graph.weights,
        cumw,
        bool(graph.weighted),
        starts,
        int(walk_length),
        np.uint64(seed),
        mode != "first_order",
        1.0 / p,
        1.0 / q,
        alias_off,
        aj,
        aq,
        use_alias,
    )
    seconds = time.perf_counter() - t0
    logger.info(
        "%d walks of length %d (%s, p=%g, q=%g) in %.2fs", len(starts), walk_length, mode, p, q, seconds
    )
    return WalkResult(walks=walks, mode=mode, seconds=seconds, p=float(p), q=float(q))


def exact_transition_probs(graph: Graph, prev: int, cur: int, p: float, q: float) -> np.ndarray:
    """The exact node2vec law of the next node after ``prev -> cur`` over cur's row (a plain-Python reference)."""
    s, e = graph.indptr[cur], graph.indptr[cur + 1]
    prev_nbrs = set(graph.indices[graph.indptr[prev] : graph.indptr[prev + 1]].tolist())
    probs = np.empty(e - s)
    for k in range(s, e):
        x = int(graph.indices[k])
        a = 1.0 / p if x == prev else (1.0 if x in prev_nbrs else 1.0 / q)
        probs[k - s] = graph.weights[k] * a
    return probs / probs.sum()
