"""Dropout masks of a population on a CPU, written in one pass from each member's own counter-based stream.

Each member's stream is splitmix64 keyed by its seed: word ``c`` (counting from 1) is ``mix(key + c * GOLDEN)``,
so a member's draws depend on its seed and on how many words it has used, never on the other members of its
population or on padding (a search's result does not depend on how the planner stacked it).  A hidden unit
takes 16 bits (four units a word, in row-major order; the bits left over at the end of a call are dropped) and
is kept when those bits, read as an integer in 0..65535, are at least ``round(p * 65536)``.

Why not numpy's generators: drawing the bits alone cost ~2.9 ns a 64-bit word for PCG64, SFC64, Philox and
MT19937 alike (``random_raw``), and making the float mask from them took four more passes in torch; together
about a sixth of a K=32, width-32 step.  The compiled kernel (numba, from the ``graph`` extra) draws, compares
and writes each unit in one pass.  Without numba, :func:`fill_masks_numpy` computes the same masks, vectorised.
"""
# mypy: ignore-errors

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_DROPOUT_STREAM = 0x64726F70  # mixed into each member's seed for its dropout stream ("drop")


def member_key(seed: int) -> np.uint64:
    """The stream key of a member with seed ``seed``."""
    return np.random.SeedSequence([int(seed), _DROPOUT_STREAM]).generate_state(1, np.uint64)[0]


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def fill_masks_numpy(out, rows_member, keys, counters, widths, thresholds, keep):
    """The masks of :func:`fill_masks`, vectorised in numpy (the fallback without numba)."""
    k, rows, _ = out.shape
    out[...] = keep.reshape(k, 1, 1)
    with np.errstate(over="ignore"):
        for r in range(k):
            w = int(widths[r])
            if w == 0:
                continue
            m = rows_member[r]
            n = rows * w
            n_words = (n + 3) // 4
            c = np.arange(counters[m] + 1, counters[m] + 1 + n_words, dtype=np.uint64)
            words = _mix(keys[m] + c * GOLDEN)
            counters[m] += n_words
            units = (words[:, None] >> (np.arange(4, dtype=np.uint64) * np.uint64(16))) & np.uint64(0xFFFF)
            units = units.reshape(-1)[:n].reshape(rows, w)
            out[r, :, :w] = np.where(units >= np.uint64(thresholds[r]), keep[r], 0.0)


def _make_kernel():
    try:
        import numba
    except ImportError:
        return None

    # Two loops per member, both vectorised by LLVM: the words of its stream into a scratch buffer, then the
    # units, read as that buffer's 16-bit lanes (little-endian: lane q of word t is uint16 element 4 t + q, the
    # order the units are consumed in).  Measured 2-2.5x faster than one loop drawing a word every fourth unit.
    # error_model="numpy" and slices indexed from 0 keep numba's checks out of the loops.
    @numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
    def fill(out, rows_member, keys, counters, widths, thresholds, keep):  # pragma: no cover - compiled
        k, rows, width = out.shape
        scratch = np.empty((rows * width + 3) // 4, dtype=np.uint64)
        units = scratch.view(np.uint16)
        for r in range(k):
            w = widths[r]
            kr = keep[r]  # in out's dtype
            zero = kr - kr
            if w == 0:
                for i in range(rows):
                    o = out[r, i]
                    for j in range(width):
                        o[j] = kr
                continue
            m = rows_member[r]
            key = keys[m]
            c0 = np.uint64(counters[m])
            n_words = (rows * w + 3) // 4
            for t in range(n_words):
                z = key + (c0 + np.uint64(t + 1)) * np.uint64(0x9E3779B97F4A7C15)
                z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
                z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
                scratch[t] = z ^ (z >> np.uint64(31))
            thr = thresholds[r]
            for i in range(rows):
                o = out[r, i]
                u = units[i * w : i * w + w]
                for j in range(w):
                    o[j] = kr if np.int64(u[j]) >= thr else zero
                for j in range(w, width):
                    o[j] = kr
            counters[m] = c0 + np.uint64(n_words)

    return fill


_kernel = None
_kernel_tried = False


def fill_masks(out, rows_member, keys, counters, widths, thresholds, keep) -> None:
    """Write the inverted-dropout multipliers into ``out`` [k, rows, width] (float32/64, C-contiguous).

    Row ``r`` belongs to member ``rows_member[r]``, whose stream is ``keys[m]`` with ``counters[m]`` words used
    (advanced here).  Its first ``widths[r]`` units of every row are drawn (0: no dropout, nothing drawn) and
    kept with multiplier ``keep[r]`` (an array of ``out``'s dtype) when their 16 bits are >= ``thresholds[r]``;
    the rest (padding) are kept.
    """
    global _kernel, _kernel_tried
    if not _kernel_tried:
        _kernel_tried = True
        _kernel = _make_kernel()
    if _kernel is not None:
        _kernel(out, rows_member, keys, counters, widths, thresholds, keep)
    else:
        fill_masks_numpy(out, rows_member, keys, counters, widths, thresholds, keep)
