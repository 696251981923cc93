"""The population's optimizer update on a CPU as one compiled pass per member row (numba).

``PopulationTrainer._update`` is one template for every optimizer (see its docstring); on a CPU the eager
template makes about fifteen passes over the ``[k, P]`` rows and ``torch.compile`` fuses them into one, but each
call of the compiled function pays ~50-100 us of dynamo guards and wrappers, and the gradients must first be
copied into the ``gflat`` rows, normed (three reductions) and masked.  Here one kernel does all of it:

* the gradient of a member row is read where the step wrote it: a list of *segments* (flat offset, length,
  source array, offset in the source row), so the hidden layers' weight gradients are read from the step's
  contiguous ``[k, in, out]`` buffers and never copied;
* the padding mask and the clipping factor are applied on the fly;
* the squared norm of every segment (before clipping) is accumulated in float64, from which the per-layer
  weight-gradient norms (diagnostics) and the clipping norm follow.

Without clipping the norms and the update are one call; with clipping the norms come first (the factor needs
the total norm) and the update second.  Measured on a 2-core CPU (float32, K=32): width 32 (P=3.6k) 44 us a
call against 95 us for the compiled update alone; width 128 (P=26k) 300 us against 350 us.

``error_model="numpy"`` matters: numba's default Python error model checks every division for a zero divisor,
which stops LLVM from vectorising the loop (measured 6x slower).  The sum of squares is a separate loop with
its own accumulator, so the update loop keeps IEEE semantics (no fast-math reassociation).
"""
# mypy: ignore-errors

from __future__ import annotations

import warnings

import numpy as np

_kernels = None
_tried = False


def _make_kernels():
    from hyperselect.train import _cpu_update_kernels as kernels_module

    return kernels_module.sq_norms, kernels_module.update


def kernels():
    """(sq_norms, update), or None where numba is not installed or cannot compile them (the caller then uses
    torch's update).  The first call imports numba (~1 s) and compiles, or loads from numba's cache, both
    kernels for float32 on a tiny problem, so a broken toolchain shows here and not in the middle of a run."""
    global _kernels, _tried
    if not _tried:
        _tried = True
        try:
            found = _make_kernels()
            _smoke(*found)
            _kernels = found
        except ImportError:
            _kernels = None
        except Exception as exc:
            warnings.warn(
                f"the fused CPU update could not be compiled ({type(exc).__name__}: {exc}); using torch's update "
                "(correct, slower). Set HYPERSELECT_FUSED=0 to skip the attempt.",
                RuntimeWarning,
                stacklevel=2,
            )
            _kernels = None
    return _kernels


def _smoke(sq_norms, update) -> None:
    k, n, f = 2, 8, np.float32
    p, m1, m2 = (np.zeros((k, n), f) for _ in range(3))
    g0, g1 = np.ones(k * n, f), np.zeros(1, f)
    seg = np.array([[0], [n], [0], [0], [n]], dtype=np.int64)
    sq, mask = np.zeros((k, 1)), np.zeros((1, 1), f)
    update(
        p, m1, m2, g0, g1, seg, mask, False, np.ones(k, f), True, sq, np.ones((8, k), f), np.ones((3, k), f)
    )
    sq_norms(g0, g1, seg, mask, False, sq)
    if not np.allclose(sq, n):
        raise RuntimeError(f"a smoke test of the kernels gave {sq.tolist()}, expected {n}")


def available() -> bool:
    return kernels() is not None
