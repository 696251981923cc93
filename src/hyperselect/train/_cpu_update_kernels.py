"""The compiled kernels of ``_cpu_update`` (imported on first use: importing numba takes about a second)."""
# mypy: ignore-errors

from __future__ import annotations

import numba
import numpy as np

_OPTS = dict(cache=True, nogil=True, error_model="numpy", boundscheck=False)


# Loops index slices from 0 (``x[j]``, never ``x[o + j]``): numba cannot prove an offset index is not
# negative, and its wrap-around check for negative indices stops vectorisation (measured 9x slower).
@numba.njit(fastmath={"reassoc", "nsz"}, **_OPTS)
def _sumsq(src, mk, use_mask):  # pragma: no cover - compiled
    acc = 0.0
    if use_mask:
        for j in range(src.shape[0]):
            g = np.float64(src[j] * mk[j])
            acc += g * g
    else:
        for j in range(src.shape[0]):
            g = np.float64(src[j])
            acc += g * g
    return acc


@numba.njit(**_OPTS)
def sq_norms(g0, g1, seg, mask, use_mask, sq):  # pragma: no cover - compiled
    for r in range(sq.shape[0]):
        mk = mask[r if use_mask else 0]
        for s in range(seg.shape[1]):
            src = g1 if seg[2, s] else g0
            so, o, n = seg[3, s] + r * seg[4, s], seg[0, s], seg[1, s]
            sq[r, s] = _sumsq(src[so : so + n], mk[o : o + n] if use_mask else mk, use_mask)


@numba.njit(**_OPTS)
def _update_segment(
    pr, mr, vr, src, mk, use_mask, sc, de, wd, c1, c2, a1, a2, d1, d2, vs, ep, st
):  # pragma: no cover
    if use_mask:
        for j in range(pr.shape[0]):
            x = pr[j] * de
            g = src[j] * mk[j] * sc + wd * x
            m = mr[j] * c1 + c2 * g
            mr[j] = m
            v = vr[j] * d1 + d2 * g * g
            vr[j] = v
            pr[j] = x - st * (a2 * g + a1 * m) / (np.sqrt(v) * vs + ep)
    else:
        for j in range(pr.shape[0]):
            x = pr[j] * de
            g = src[j] * sc + wd * x
            m = mr[j] * c1 + c2 * g
            mr[j] = m
            v = vr[j] * d1 + d2 * g * g
            vr[j] = v
            pr[j] = x - st * (a2 * g + a1 * m) / (np.sqrt(v) * vs + ep)


@numba.njit(**_OPTS)
def update(p, m1, m2, g0, g1, seg, mask, use_mask, scale, want_sq, sq, coef, cols):  # pragma: no cover
    for r in range(p.shape[0]):
        mk = mask[r if use_mask else 0]
        wd, c1, c2, a1, a2, d1, d2, eps = (
            coef[0, r],
            coef[1, r],
            coef[2, r],
            coef[3, r],
            coef[4, r],
            coef[5, r],
            coef[6, r],
            coef[7, r],
        )
        decay, step, vscale = cols[0, r], cols[1, r], cols[2, r]
        for s in range(seg.shape[1]):
            src = g1 if seg[2, s] else g0
            so, o, n = seg[3, s] + r * seg[4, s], seg[0, s], seg[1, s]
            gs = src[so : so + n]
            ms = mk[o : o + n] if use_mask else mk
            if want_sq:  # read while the segment is in cache
                sq[r, s] = _sumsq(gs, ms, use_mask)
            _update_segment(
                p[r, o : o + n],
                m1[r, o : o + n],
                m2[r, o : o + n],
                gs,
                ms,
                use_mask,
                scale[r],
                decay,
                wd,
                c1,
                c2,
                a1,
                a2,
                d1,
                d2,
                vscale,
                eps,
                step,
            )
