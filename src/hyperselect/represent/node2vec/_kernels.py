"""Compiled node2vec walk kernels (numba), in their own module so that numba is imported only when walking.

``cache=True`` stores the machine code in ``__pycache__``: a new process loads it instead of recompiling, so a
grid over p and q on a small graph costs seconds, not a compilation per point.
"""
# mypy: ignore-errors

from __future__ import annotations

import numpy as np

from hyperselect.errors import require

numba = require("numba", "graph")
njit, prange = numba.njit, numba.prange


@njit(cache=True, inline="always")
def splitmix_raw(state):
    """splitmix64: the new state and a 64-bit random integer (also the skip-gram kernel's generator)."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def splitmix(state):
    """splitmix64: the new state and a uniform float in [0, 1) from its top 53 bits."""
    state, z = splitmix_raw(state)
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def find(indices, lo, hi, target):
    """Position of ``target`` in the sorted slice indices[lo:hi], or -1."""
    while lo < hi:
        mid = (lo + hi) >> 1
        v = indices[mid]
        if v < target:
            lo = mid + 1
        elif v > target:
            hi = mid
        else:
            return mid
    return -1


@njit(cache=True, inline="always")
def upper(cumw, lo, hi, r):
    """First position k in [lo, hi) with cumw[k] > r (clamped to hi - 1 against rounding)."""
    last = hi - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cumw[mid] > r:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo <= last else last


@njit(cache=True, inline="always")
def first_step(indptr, indices, cumw, weighted, cur, u):
    s = indptr[cur]
    e = indptr[cur + 1]
    if weighted:
        base = cumw[s - 1] if s > 0 else 0.0
        return indices[upper(cumw, s, e, base + u * (cumw[e - 1] - base))]
    k = s + np.int64(u * (e - s))
    return indices[k if k < e else e - 1]


#: Rejected proposals after which a step is drawn exactly from its row instead (see ``otf_step``).
MAX_REJECTIONS = 64


@njit(cache=True, inline="always")
def _bias(indices, ps, pe, x, prev, inv_p, inv_q):
    """node2vec's search bias of stepping to x from a walk that came from prev: 1/p back, 1 to a neighbour of
    prev, 1/q further out (prev's row is indices[ps:pe])."""
    return inv_p if x == prev else (1.0 if find(indices, ps, pe, x) >= 0 else inv_q)


@njit(cache=True)
def exact_step(indptr, indices, weights, cur, prev, inv_p, inv_q, state):
    """One step drawn from the exact second-order law over cur's row: O(degree) instead of O(1) expected."""
    s = indptr[cur]
    e = indptr[cur + 1]
    ps = indptr[prev]
    pe = indptr[prev + 1]
    mass = 0.0
    for k in range(s, e):
        mass += weights[k] * _bias(indices, ps, pe, indices[k], prev, inv_p, inv_q)
    state, u = splitmix(state)
    r = u * mass
    acc = 0.0
    for k in range(s, e):
        acc += weights[k] * _bias(indices, ps, pe, indices[k], prev, inv_p, inv_q)
        if acc > r:
            return indices[k], state
    return indices[e - 1], state


@njit(cache=True, inline="always")
def otf_step(indptr, indices, weights, cumw, weighted, cur, prev, inv_p, inv_q, state):
    # the acceptance rate of a proposal can be as low as min(q, 1/q) (every candidate a neighbour of prev with
    # q < 1, or none with q > 1 and no way back): after MAX_REJECTIONS the step is drawn exactly from the row,
    # which keeps the law exact (each round's accepted draw already follows it) and bounds the work per step
    s = indptr[cur]
    e = indptr[cur + 1]
    kp = find(indices, s, e, prev)
    if weighted:
        base = cumw[s - 1] if s > 0 else 0.0
        total = cumw[e - 1] - base
        w_ret = weights[kp] if kp >= 0 else 0.0
        before = (cumw[kp - 1] if kp > s else base) if kp >= 0 else 0.0
    else:
        base = 0.0
        total = float(e - s)
        w_ret = 1.0 if kp >= 0 else 0.0
        before = 0.0
    beta_max = inv_q if inv_q > 1.0 else 1.0
    env_ret = w_ret * inv_p
    env_all = env_ret + beta_max * (total - w_ret)
    ps = indptr[prev]
    pe = indptr[prev + 1]
    for _ in range(MAX_REJECTIONS):
        state, u = splitmix(state)
        if u * env_all < env_ret:
            return prev, state
        state, u2 = splitmix(state)
        # a first-order draw over the row with prev's own slot cut out
        if weighted:
            r = base + u2 * (total - w_ret)
            if kp >= 0 and r >= before:
                r += w_ret
            k = upper(cumw, s, e, r)
        else:
            m = e - s - (1 if kp >= 0 else 0)
            j = np.int64(u2 * m)
            if j >= m:
                j = m - 1
            k = s + j
            if kp >= 0 and k >= kp:
                k += 1
        x = indices[k]
        beta = 1.0 if find(indices, ps, pe, x) >= 0 else inv_q
        state, u3 = splitmix(state)
        if u3 * beta_max < beta:
            return x, state
    return exact_step(indptr, indices, weights, cur, prev, inv_p, inv_q, state)


@njit(cache=True, parallel=True, nogil=True)
def walk_kernel(indptr, indices, weights, cumw, weighted, starts, walk_length, seed, second, inv_p, inv_q,
                alias_off, alias_j, alias_q, use_alias):  # fmt: skip
    n = starts.shape[0]
    out = np.full((n, walk_length), -1, dtype=np.int32)
    for w in prange(n):
        state = np.uint64(seed) ^ (np.uint64(w) * np.uint64(0xD1B54A32D192ED03))
        state, _ = splitmix(state)
        cur = starts[w]
        prev = -1
        out[w, 0] = cur
        for step in range(1, walk_length):
            if indptr[cur + 1] == indptr[cur]:
                break
            if prev < 0 or not second:
                state, u = splitmix(state)
                nxt = first_step(indptr, indices, cumw, weighted, cur, u)
            elif use_alias:
                eidx = find(indices, indptr[prev], indptr[prev + 1], cur)
                off = alias_off[eidx]
                deg = indptr[cur + 1] - indptr[cur]
                state, u = splitmix(state)
                j = np.int64(u * deg)
                if j >= deg:
                    j = deg - 1
                state, u2 = splitmix(state)
                if u2 >= alias_q[off + j]:
                    j = alias_j[off + j]
                nxt = indices[indptr[cur] + j]
            else:
                nxt, state = otf_step(
                    indptr, indices, weights, cumw, weighted, cur, prev, inv_p, inv_q, state
                )
            out[w, step] = nxt
            prev = cur
            cur = nxt
    return out


@njit(cache=True, parallel=True)
def build_alias(indptr, indices, weights, inv_p, inv_q, alias_off):
    """Walker alias tables for every edge prev -> cur over cur's neighbours (Vose's method)."""
    n_edges = indices.shape[0]
    total = alias_off[n_edges]
    aj = np.zeros(total, dtype=np.int32)
    aq = np.ones(total, dtype=np.float64)
    n_nodes = indptr.shape[0] - 1
    for prev in prange(n_nodes):
        ps = indptr[prev]
        pe = indptr[prev + 1]
        for eidx in range(ps, pe):
            cur = indices[eidx]
            s = indptr[cur]
            e = indptr[cur + 1]
            d = e - s
            if d == 0:
                continue
            off = alias_off[eidx]
            probs = np.empty(d)
            tot = 0.0
            for k in range(d):
                x = indices[s + k]
                if x == prev:
                    a = inv_p
                elif find(indices, ps, pe, x) >= 0:
                    a = 1.0
                else:
                    a = inv_q
                probs[k] = weights[s + k] * a
                tot += probs[k]
            small = np.empty(d, dtype=np.int64)
            large = np.empty(d, dtype=np.int64)
            ns = 0
            nl = 0
            for k in range(d):
                probs[k] = probs[k] * d / tot
                if probs[k] < 1.0:
                    small[ns] = k
                    ns += 1
                else:
                    large[nl] = k
                    nl += 1
            while ns > 0 and nl > 0:
                ns -= 1
                sm = small[ns]
                nl -= 1
                lg = large[nl]
                aq[off + sm] = probs[sm]
                aj[off + sm] = lg
                probs[lg] = probs[lg] + probs[sm] - 1.0
                if probs[lg] < 1.0:
                    small[ns] = lg
                    ns += 1
                else:
                    large[nl] = lg
                    nl += 1
            # leftovers keep aq = 1 (numerical residue)
    return aj, aq
