"""The population trainer: K multi-layer perceptrons trained at once as one vectorised computation.

Small networks spend most of a training step in per-operation overhead, not arithmetic.  Stacking K members
into batched tensors (weights ``[K, in, out]``, ``torch.baddbmm``) pays that overhead once for all of them.

Layout.  All parameters of one member live in one row of a ``[K, P]`` matrix (``flat``); each layer's weight
``[K, in, out]`` is a strided view of it, and so is its gradient (``gflat``), which autograd accumulates into in
place.  The optimiser update is therefore a handful of tensor operations on whole ``[k, P]`` row blocks, with
each member's hyperparameters as a ``[k, 1]`` column, instead of a loop over members and layers.  Members are
ordered by (optimizer, activation) so each optimizer and each activation works on a contiguous block of rows.

Widths.  Members of one population may have different hidden widths: they are zero-padded to the widest and a
gradient mask keeps the padding at zero (padded units have zero incoming and outgoing weights, so they never
change a real unit).  The planner decides by measurement whether to pad or to bucket by width.  Layer norm is
not padded (its statistics would count the padding): such members must share widths.

Equivalence.  Each member follows the trajectory of ``NetworkRun`` with the same config and seed: it starts from
``build_model(config, seed)``'s weights, sees the same batches (``EpochShuffler(data_seed)``) and applies the
same update formulas as torch's optimizers (coupled L2 in Adam/SGD, decoupled in AdamW, RMSprop alpha 0.99).
Learning-rate schedules are torch's own schedulers, stepped on a one-parameter stand-in optimizer per member,
so the learning rates are exactly the reference's.  Dropout masks are drawn from the population's own generator:
with dropout a member follows the reference in distribution, not sample by sample.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hyperselect.nn.config import CNNConfig, MLPConfig
from hyperselect.nn.losses import resolve_loss
from hyperselect.nn.mlp import LEAKY_SLOPE, build_model, count_parameters
from hyperselect.nn.optim import RMSPROP_ALPHA, make_scheduler
from hyperselect.tasks import Task
from hyperselect.train.batching import EpochShuffler, batch_bounds
from hyperselect.train.diagnostics import activation_stats, diagnose
from hyperselect.train.early_stopping import EarlyStopping
from hyperselect.train.history import History
from hyperselect.train.metrics import score_from_logits
from hyperselect.train.trainer import DIAG_ROWS, TrainResult, as_tensors, default_device, infer_n_outputs

# (member index, epoch, valid score, valid loss) -> True to prune that member now
MemberCallback = Callable[[int, int, float, float], bool]

BN_EPS = 1e-5  # torch.nn.BatchNorm1d / LayerNorm defaults, mirrored so results match the single trainer
BN_MOMENTUM = 0.1
LN_EPS = 1e-5
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_ adds this to the total norm
EVAL_ELEMENTS = 1 << 24  # cap on k * rows * width of one evaluation chunk: bounds evaluation memory

# The weight views share storage with the [K, P] row matrix, so their gradients are strided views too; autograd
# warns (once per process) that this layout is unusual but accumulates into them in place, which is what we want.
_LAYOUT_WARNING = "grad and param do not obey the gradient layout contract"
_layout_warning_seen = False


class _Tanh(torch.autograd.Function):
    """tanh(x) = 2 sigmoid(2x) - 1: torch's CPU tanh kernel is several times slower than its sigmoid (measured
    3x over forward and backward on [32, 64, 32]); the results differ by rounding only."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = torch.sigmoid(x * 2).mul_(2).sub_(1)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.addcmul(grad, grad * y, y, value=-1)  # grad (1 - y^2)


class _CrossEntropy(torch.autograd.Function):
    """Per-member mean cross-entropy of logits [k, rows, C] against shared labels [rows], and its gradient
    (softmax - one-hot) / rows written by hand: torch's log_softmax over a short last dimension is slow on a
    CPU (measured 4x over forward and backward on [32, 64, 10])."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k, rows, _ = logits.shape
        z = logits - logits.amax(-1, keepdim=True)
        e = z.exp()
        s = e.sum(-1, keepdim=True)
        idx = y.view(1, rows, 1).expand(k, rows, 1)
        nll = (s.log() - z.gather(2, idx)).squeeze(2).mean(1)
        ctx.save_for_backward(e.div_(s), idx)
        return nll

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        probs, idx = ctx.saved_tensors
        k, rows, _ = probs.shape
        minus_one = torch.full((1, 1, 1), -1.0, dtype=probs.dtype, device=probs.device).expand(k, rows, 1)
        d = probs.scatter_add(2, idx, minus_one)
        return d.mul_((grad / rows).view(k, 1, 1)), None


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "leaky_relu": lambda h: F.leaky_relu(h, LEAKY_SLOPE),
    "gelu": F.gelu,
    "elu": F.elu,
    "selu": F.selu,
    "tanh": _Tanh.apply,
    "sigmoid": torch.sigmoid,
}


def _update_math(
    p: torch.Tensor,
    g: torch.Tensor,
    m1: torch.Tensor,
    m2: torch.Tensor,
    decay: torch.Tensor,
    wd: torch.Tensor,
    c1: torch.Tensor,
    c2: torch.Tensor,
    a1: torch.Tensor,
    a2: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    vscale: torch.Tensor,
    eps: torch.Tensor,
    step: torch.Tensor,
) -> None:
    """The update template of ``PopulationTrainer._update`` with no shortcuts, for ``torch.compile``: fused
    into one pass over the [k, P] rows.  Also clears the gradient rows for the next step."""
    p.mul_(decay)
    gw = g + wd * p
    m1.mul_(c1).add_(c2 * gw)
    num = a2 * gw + a1 * m1
    m2.mul_(d1).add_(d2 * gw * gw)
    p.sub_(step * num / (m2.sqrt() * vscale + eps))
    g.zero_()


# The eager update makes about fifteen passes over the [k, P] rows; compiled (inductor, one C++/Triton loop)
# it makes one: measured 20x faster at K=32, width 128 on a CPU, where the eager update was ~40 % of a step.
# Compiled once per process and dtype (dynamic shapes: compaction does not recompile), ~3-8 s.  Used only
# where it pays back quickly (k * P >= COMPILE_MIN_ELEMENTS); HYPERSELECT_COMPILE=0 turns it off, =1 forces it.
# Any failure (no C++ compiler, no Triton) falls back to the eager update with one warning.
COMPILE_MIN_ELEMENTS = 1 << 16
_compiled_update: Callable[..., None] | None = None
_compile_failed = False


def compile_wanted(n_elements: int) -> bool:
    """Whether a population with ``n_elements`` = k * P parameters uses the compiled update."""
    flag = os.environ.get("HYPERSELECT_COMPILE", "auto").lower()
    if _compile_failed or flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or n_elements >= COMPILE_MIN_ELEMENTS


def _run_compiled_update(*args: torch.Tensor) -> bool:
    """Run the compiled update; False (nothing changed) when compilation is unavailable."""
    global _compiled_update, _compile_failed
    if _compile_failed:
        return False
    try:
        if _compiled_update is None:
            _compiled_update = torch.compile(_update_math, dynamic=True)
        with warnings.catch_warnings():  # torch's own deprecation notices while inductor loads
            warnings.simplefilter("ignore", DeprecationWarning)
            _compiled_update(*args)
        return True
    except Exception as exc:  # a missing compiler or backend: the eager update is always correct
        _compile_failed = True
        warnings.warn(
            f"torch.compile of the population update failed ({type(exc).__name__}: {exc}); using the eager "
            "update (correct, slower). Set HYPERSELECT_COMPILE=0 to skip the attempt.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False


def population_key(config: MLPConfig, task: Task) -> tuple[Any, ...] | None:
    """Members with equal keys can share a population; ``None``: this config must train on its own.

    Batch size and depth fix the data stream and the layer structure, the loss fixes the output layer; the
    norm changes the layer's operations.  CNNs are not stacked (yet).
    """
    if isinstance(config, CNNConfig):
        return None
    return ("mlp", config.batch_size, config.depth, resolve_loss(config, task), config.norm)


@dataclass(frozen=True)
class _Slot:
    offset: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class _Layout:
    """Where each tensor of a member lives in its parameter row; weights are stored [in, out] for bmm."""

    def __init__(self, n_in: int, widths: Sequence[int], n_out: int, norm: str) -> None:
        self.dims = [n_in, *widths, n_out]
        self.depth = len(widths)
        self.norm = norm
        self.W: list[_Slot] = []
        self.b: list[_Slot] = []
        self.gamma: list[_Slot] = []
        self.beta: list[_Slot] = []
        off = 0

        def take(shape: tuple[int, ...]) -> _Slot:
            nonlocal off
            slot = _Slot(off, shape)
            off += slot.size
            return slot

        for layer in range(self.depth + 1):
            d_in, d_out = self.dims[layer], self.dims[layer + 1]
            self.W.append(take((d_in, d_out)))
            self.b.append(take((1, d_out)))
            if layer < self.depth and norm != "none":
                self.gamma.append(take((1, d_out)))
                self.beta.append(take((1, d_out)))
        self.size = off
        # batch-norm running statistics: one [k, sum(widths)] matrix, a column block per hidden layer
        self.stat_offsets = list(np.cumsum([0, *widths]))
        self.stat_size = int(sum(widths))


def member_widths(configs: Sequence[MLPConfig]) -> tuple[int, ...]:
    """The padded hidden widths of a population: the widest member at each layer."""
    return tuple(max(c.hidden[layer] for c in configs) for layer in range(configs[0].depth))


def estimate_bytes(
    n_members: int, n_in: int, widths: Sequence[int], n_out: int, batch_size: int, norm: str, itemsize: int
) -> int:
    """Peak memory of a population, estimated before anything is allocated (the planner's memory guard).

    Rows of [k, P]: parameters, gradients, two optimizer moments, best weights, padding mask, and the best
    weights kept for members already removed.  Activations: about six [k, batch, width] tensors per hidden
    layer live between forward and backward (pre-activation, norm, activation, dropout mask and their
    gradients).  Evaluation chunks are capped at EVAL_ELEMENTS per tensor.
    """
    layout = _Layout(n_in, widths, n_out, norm)
    state = 7 * n_members * layout.size
    acts = 6 * n_members * batch_size * (sum(widths) + n_out)
    evaluation = 3 * EVAL_ELEMENTS
    return int((state + acts + evaluation) * itemsize)


class PopulationTrainer:
    """Train ``configs`` (multi-layer perceptrons sharing a batch size, depth, loss and norm) as one computation.

    Member ``i`` is ``configs[i]`` with initial weights ``build_model(configs[i], seed=seeds[i])``; every
    member sees the batches of ``EpochShuffler(n, data_seed)``.  Stopped, pruned and diverged members are
    removed from the stacked tensors (compaction), so they cost nothing afterwards.  Never raises for a
    diverging member: it is recorded as ``status="diverged"`` and the others go on.
    """

    def __init__(
        self,
        configs: Sequence[MLPConfig],
        X_train: Any,
        y_train: Any,
        X_valid: Any,
        y_valid: Any,
        *,
        task: Task | str,
        n_classes: int | None = None,
        seeds: Sequence[int] | None = None,
        data_seed: int = 0,
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.configs = list(configs)
        if not self.configs:
            raise ValueError("a population needs at least one configuration, got 0")
        self.seeds = list(seeds) if seeds is not None else list(range(len(self.configs)))
        if len(self.seeds) != len(self.configs):
            raise ValueError(f"got {len(self.seeds)} seeds for {len(self.configs)} configs")
        self.task = task = Task(task)
        keys = {population_key(c, task) for c in self.configs}
        if None in keys or len(keys) != 1:
            raise ValueError(
                "population members must be MLPs sharing batch_size, depth, loss and norm; "
                f"got keys {sorted(map(str, keys))}"
            )
        first = self.configs[0]
        self.norm = first.norm
        self.loss_name = resolve_loss(first, task)
        self.batch_size = first.batch_size
        if self.norm == "layer" and len({c.hidden for c in self.configs}) > 1:
            raise ValueError(
                "layer-normed members cannot be padded: their hidden widths must be equal, got "
                f"{sorted({c.hidden for c in self.configs})}"
            )
        self.device = dev = torch.device(device) if device is not None else default_device()
        self.dtype = dtype
        self.Xtr, self.ytr = as_tensors(X_train, y_train, task, dev, dtype)
        self.Xva, self.yva = as_tensors(X_valid, y_valid, task, dev, dtype)
        self.n_in = int(self.Xtr.shape[1])
        self.n_out = infer_n_outputs(first, task, y_train, n_classes)
        self.widths = member_widths(self.configs)
        self.layout = _Layout(self.n_in, self.widths, self.n_out, self.norm)
        self.bounds = batch_bounds(self.Xtr.shape[0], self.batch_size)
        self.shuffler = EpochShuffler(self.Xtr.shape[0], data_seed)
        seed = int(np.random.SeedSequence([int(s) for s in self.seeds]).generate_state(1)[0])
        self.generator = torch.Generator(device=dev)
        self.generator.manual_seed(seed)

        n = len(self.configs)
        self.histories = [History() for _ in range(n)]
        self.stoppers = [
            EarlyStopping(
                c.patience, "min" if c.early_stopping_metric == "valid_loss" else "max", c.min_delta
            )
            for c in self.configs
        ]
        self._status = ["running"] * n
        self._reason = [""] * n
        self._epochs = [0] * n
        self._seconds = [0.0] * n
        self._has_best = [False] * n
        self._best_step = [0] * n  # optimizer steps at the best epoch: batch norm's num_batches_tracked
        self._removed: dict[int, dict[str, torch.Tensor]] = {}  # member -> rows kept after compaction
        # torch's own schedulers on a one-parameter stand-in optimizer: the exact learning rates of the reference
        self._lr_opts: list[torch.optim.Optimizer] = []
        self._scheds: list[Any] = []
        for c in self.configs:
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=c.lr)
            self._lr_opts.append(opt)
            self._scheds.append(make_scheduler(c, opt))
            opt.step()  # a no-op (no gradient) that tells the scheduler the optimizer has stepped: no warning
        self._t = 0  # optimizer steps taken: the same for every member, they step together

        # rows ordered by activation: each activation is applied to a contiguous block of rows
        self._ids = sorted(range(n), key=lambda i: (self.configs[i].activation, i))
        self._init_state()

    # ------------------------------------------------------------------ state
    def _init_state(self) -> None:
        k, lay, dev, dt = len(self._ids), self.layout, self.device, self.dtype
        self.flat = torch.zeros(k, lay.size, device=dev, dtype=dt)
        mask = torch.zeros(k, lay.size, device=dev, dtype=dt)
        padded = False
        for row, m in enumerate(self._ids):
            cfg = self.configs[m]
            model = build_model(cfg, self.n_in, self.n_out, seed=self.seeds[m]).to(device=dev, dtype=dt)
            for layer, (w, b, g, be) in enumerate(self._module_tensors(model)):
                d_in, d_out = w.shape[1], w.shape[0]
                padded |= (d_in, d_out) != lay.W[layer].shape
                self._row_view(self.flat, row, lay.W[layer])[:d_in, :d_out] = w.detach().T
                self._row_view(self.flat, row, lay.b[layer])[0, :d_out] = b.detach()
                self._row_view(mask, row, lay.W[layer])[:d_in, :d_out] = 1
                self._row_view(mask, row, lay.b[layer])[0, :d_out] = 1
                if g is not None and be is not None:
                    self._row_view(self.flat, row, lay.gamma[layer])[0, :d_out] = g.detach()
                    self._row_view(self.flat, row, lay.beta[layer])[0, :d_out] = be.detach()
                    self._row_view(mask, row, lay.gamma[layer])[0, :d_out] = 1
                    self._row_view(mask, row, lay.beta[layer])[0, :d_out] = 1
        self.mask: torch.Tensor | None = mask if padded else None
        self.gflat = torch.zeros_like(self.flat)
        self._grad_clean = True  # gflat is all zeros (the compiled update clears it after use)
        self.m1 = torch.zeros_like(self.flat)  # Adam first moment / SGD momentum buffer
        self.m2 = torch.zeros_like(self.flat)  # Adam second moment / RMSprop square average
        self.best = self.flat.clone()
        self.run_mean = torch.zeros(k, lay.stat_size, device=dev, dtype=dt)
        self.run_var = torch.ones(k, lay.stat_size, device=dev, dtype=dt)
        self.best_mean = self.run_mean.clone()
        self.best_var = self.run_var.clone()
        self._rebuild()

    @staticmethod
    def _module_tensors(model: nn.Module) -> list[tuple[Any, Any, Any, Any]]:
        """(weight [out, in], bias, norm weight, norm bias) per layer of an ``MLP``, output layer last."""
        mlp: Any = model
        out: list[tuple[Any, Any, Any, Any]] = []
        for lin, norm in zip(mlp.linears, mlp.norms, strict=True):
            out.append((lin.weight, lin.bias, getattr(norm, "weight", None), getattr(norm, "bias", None)))
        out.append((mlp.out.weight, mlp.out.bias, None, None))
        return out

    @staticmethod
    def _row_view(t: torch.Tensor, row: int, slot: _Slot) -> torch.Tensor:
        return t[row, slot.offset : slot.offset + slot.size].view(slot.shape)

    @staticmethod
    def _block_view(t: torch.Tensor, slot: _Slot) -> torch.Tensor:
        return t[:, slot.offset : slot.offset + slot.size].view(t.shape[0], *slot.shape)

    def _rebuild(self) -> None:
        """Views, hyperparameter columns and row blocks for the current (compacted) member set."""
        lay, dev, dt = self.layout, self.device, self.dtype
        cfgs = [self.configs[m] for m in self._ids]

        def leaf(slot: _Slot) -> torch.Tensor:
            p = self._block_view(self.flat, slot).detach().requires_grad_()
            p.grad = self._block_view(self.gflat, slot)  # autograd accumulates into the row matrix in place
            return p

        self._W = [leaf(s) for s in lay.W]
        self._b = [leaf(s) for s in lay.b]
        self._gamma = [leaf(s) for s in lay.gamma]
        self._beta = [leaf(s) for s in lay.beta]
        offs = lay.stat_offsets
        self._rm = [self.run_mean[:, offs[i] : offs[i + 1]] for i in range(lay.depth)]
        self._rv = [self.run_var[:, offs[i] : offs[i + 1]] for i in range(lay.depth)]

        def col(values: Sequence[float], dtype: torch.dtype = dt) -> torch.Tensor:
            return torch.tensor(list(values), device=dev, dtype=dtype).reshape(-1, 1)

        f64 = torch.float64
        # float64 copies where torch computes in Python floats (bias corrections, decoupled decay factor)
        self._lr64 = col([opt.param_groups[0]["lr"] for opt in (self._lr_opts[m] for m in self._ids)], f64)
        self._b1_64 = col([c.beta1 for c in cfgs], f64)
        self._b2_64 = col([c.beta2 for c in cfgs], f64)
        self._lr = self._lr64.to(dt)
        self._eps = col([c.eps for c in cfgs])
        self._mom = col([c.momentum for c in cfgs])
        clips = [c.grad_clip for c in cfgs]
        self._clip = (
            col([math.inf if c is None else c for c in clips]) if any(c is not None for c in clips) else None
        )
        drops = [c.dropout for c in cfgs]
        self._drop = col(drops).unsqueeze(2) if any(d > 0 for d in drops) else None
        if self._drop is not None:
            self._keep_scale = 1 / (1 - self._drop)
        smooth = [c.label_smoothing for c in cfgs]
        self._smooth = col(smooth).unsqueeze(2) if any(s > 0 for s in smooth) else None
        self._delta = col([c.huber_delta for c in cfgs]).unsqueeze(2)
        self._set_update_coefficients(cfgs, col)
        self._compile = compile_wanted(self.flat.numel())

        def blocks(key: Callable[[MLPConfig], str]) -> list[tuple[int, int, str]]:
            out: list[tuple[int, int, str]] = []
            for row, c in enumerate(cfgs):
                name = key(c)
                if out and out[-1][2] == name:
                    out[-1] = (out[-1][0], row + 1, name)
                else:
                    out.append((row, row + 1, name))
            return out

        self._act_blocks = blocks(lambda c: c.activation)

    def _set_update_coefficients(self, cfgs: list[MLPConfig], col: Callable[..., torch.Tensor]) -> None:
        """The per-member columns of the update template (see ``_update``)."""
        adam = [c.optimizer in ("adam", "adamw") for c in cfgs]
        rms = [c.optimizer == "rmsprop" for c in cfgs]
        mom = [c.optimizer in ("momentum", "nesterov") for c in cfgs]
        alpha = RMSPROP_ALPHA
        c1 = [c.beta1 if a else c.momentum if m else 0.0 for c, a, m in zip(cfgs, adam, mom, strict=True)]
        c2 = [1 - c.beta1 if a else 1.0 if m else 0.0 for c, a, m in zip(cfgs, adam, mom, strict=True)]
        d1 = [c.beta2 if a else alpha if r else 0.0 for c, a, r in zip(cfgs, adam, rms, strict=True)]
        d2 = [1 - c.beta2 if a else 1 - alpha if r else 0.0 for c, a, r in zip(cfgs, adam, rms, strict=True)]
        a1 = [
            1.0 if (a or c.optimizer == "momentum") else c.momentum if c.optimizer == "nesterov" else 0.0
            for c, a in zip(cfgs, adam, strict=True)
        ]
        a2 = [0.0 if (a or c.optimizer == "momentum") else 1.0 for c, a in zip(cfgs, adam, strict=True)]
        self._uses_m, self._uses_v, self._any_a2 = any(adam) or any(mom), any(adam) or any(rms), any(a2)
        self._c1, self._c2, self._d1, self._d2 = col(c1), col(c2), col(d1), col(d2)
        self._a1, self._a2 = col(a1), col(a2)
        self._eps_eff = col([c.eps if (a or r) else 1.0 for c, a, r in zip(cfgs, adam, rms, strict=True)])
        self._vscale64 = col([1.0 if r else 0.0 for r in rms], torch.float64)
        self._vscale = self._vscale64.to(self.dtype)
        self._is_adam = col(adam, torch.bool) if any(adam) else None
        decoupled = [c.weight_decay if c.optimizer == "adamw" else 0.0 for c in cfgs]
        self._wd_dec64 = col(decoupled, torch.float64)
        self._any_decoupled = any(d > 0 for d in decoupled)
        coupled = [0.0 if c.optimizer == "adamw" else c.weight_decay for c in cfgs]
        self._wd_c = col(coupled)
        self._any_coupled = any(d > 0 for d in coupled)

    # ------------------------------------------------------------------ public state
    def __len__(self) -> int:
        return len(self.configs)

    @property
    def active(self) -> list[int]:
        return [i for i, s in enumerate(self._status) if s == "running"]

    @property
    def n_stacked(self) -> int:
        """Members currently in the stacked tensors (the others were compacted away)."""
        return len(self._ids)

    def is_active(self, i: int) -> bool:
        return self._status[i] == "running"

    def status(self, i: int) -> str:
        return self._status[i]

    def reason(self, i: int) -> str:
        return self._reason[i]

    def epochs_done(self, i: int) -> int:
        return self._epochs[i]

    def history(self, i: int) -> History:
        return self.histories[i]

    def prune(self, members: Sequence[int], reason: str = "pruned") -> None:
        for i in members:
            self._stop(i, "pruned", reason)
        self._compact()

    def _stop(self, i: int, status: str, reason: str) -> None:
        if self._status[i] == "running":
            self._status[i], self._reason[i] = status, reason

    # ------------------------------------------------------------------ computation
    def _activate(self, h: torch.Tensor) -> torch.Tensor:
        if len(self._act_blocks) == 1:
            return _ACTIVATIONS[self._act_blocks[0][2]](h)
        # split, not slicing: the backward of a slice fills a full-size zero tensor per block, split's is one cat
        parts = h.split([b - a for a, b, _ in self._act_blocks])
        return torch.cat(
            [_ACTIVATIONS[name](x) for x, (_, _, name) in zip(parts, self._act_blocks, strict=True)]
        )

    def _forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        """Logits [k, rows, n_out] of every stacked member on the shared input rows ``x``."""
        k = len(self._ids)
        h = x.expand(k, *x.shape)  # a stride-0 view: bmm reads the shared rows without copying them
        for layer in range(self.layout.depth + 1):
            h = torch.baddbmm(self._b[layer], h, self._W[layer])
            if layer == self.layout.depth:
                return h
            if self.norm == "layer":
                h = torch.addcmul(
                    self._beta[layer], F.layer_norm(h, (h.shape[-1],), eps=LN_EPS), self._gamma[layer]
                )
            elif self.norm == "batch":
                if train:
                    mean = h.mean(1, keepdim=True)
                    var = h.var(1, unbiased=False, keepdim=True)
                    with torch.no_grad():
                        n = h.shape[1]
                        self._rm[layer].mul_(1 - BN_MOMENTUM).add_(mean.squeeze(1), alpha=BN_MOMENTUM)
                        self._rv[layer].mul_(1 - BN_MOMENTUM).add_(
                            var.squeeze(1) * (n / max(n - 1, 1)), alpha=BN_MOMENTUM
                        )
                else:
                    mean, var = self._rm[layer].unsqueeze(1), self._rv[layer].unsqueeze(1)
                h = torch.addcmul(
                    self._beta[layer], (h - mean) * torch.rsqrt(var + BN_EPS), self._gamma[layer]
                )
            h = self._activate(h)
            if train and self._drop is not None:
                keep = (
                    torch.rand(h.shape, generator=self.generator, device=h.device, dtype=h.dtype)
                    >= self._drop
                )
                h = h * (keep * self._keep_scale)
        raise AssertionError("unreachable")

    def _losses(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-member mean loss [k], the same formulas as ``nn.losses.make_loss``."""
        k, rows = logits.shape[0], logits.shape[1]
        if self.loss_name == "cross_entropy":
            if self._smooth is None:
                loss: torch.Tensor = _CrossEntropy.apply(logits, y.long())
                return loss
            logp = logits - logits.logsumexp(-1, keepdim=True)
            nll = -logp.gather(2, y.long().view(1, rows, 1).expand(k, rows, 1)).squeeze(2).mean(1)
            ls = self._smooth.view(k)
            return (1 - ls) * nll + ls * (-logp.mean(2).mean(1))
        target = y.to(logits.dtype).reshape(1, rows, -1)
        if self.loss_name == "bce":
            if self._smooth is not None:
                target = target * (1 - self._smooth) + 0.5 * self._smooth
            target = target.expand_as(logits)
            return F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean((1, 2))
        diff = logits - target
        if self.loss_name == "huber":
            ad = diff.abs()
            return torch.where(
                ad < self._delta, 0.5 * diff * diff, self._delta * (ad - 0.5 * self._delta)
            ).mean((1, 2))
        return (diff * diff).mean((1, 2))

    def _scores(self, logits: torch.Tensor, y: torch.Tensor) -> list[float]:
        if self.task in (Task.BINARY, Task.MULTICLASS):
            pred = (logits[..., 0] > 0).long() if logits.shape[2] == 1 else logits.argmax(2)
            return (pred == y.long().unsqueeze(0)).double().mean(1).tolist()
        return [score_from_logits(logits[j], y, self.task) for j in range(logits.shape[0])]

    def _train_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of every stacked member: (losses [k], weight gradient norms [k, layers]), both detached."""
        xb, yb = self.Xtr[idx], self.ytr[idx]
        if not self._grad_clean:
            self.gflat.zero_()
        losses = self._losses(self._forward(xb, train=True), yb)
        global _layout_warning_seen
        if _layout_warning_seen:
            losses.sum().backward()  # members are independent: d(sum)/d(member) is that member's own gradient
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_LAYOUT_WARNING)
                losses.sum().backward()
            _layout_warning_seen = True
        with torch.no_grad():
            if self.mask is not None:
                self.gflat.mul_(self.mask)  # keeps padded units at exactly zero
            gn = torch.stack([torch.linalg.vector_norm(w.grad, dim=(1, 2)) for w in self._W], 1)  # type: ignore[arg-type]
            if self._clip is not None:
                total = torch.linalg.vector_norm(self.gflat, dim=1, keepdim=True)
                self.gflat.mul_((self._clip / (total + CLIP_EPS)).clamp_(max=1.0))
            self._t += 1
            self._update()
        return losses.detach(), gn

    def _update(self) -> None:
        """One optimizer step of every stacked member as ONE update over the whole [k, P] row matrix.

        Every optimizer is an instance of one template with per-member coefficient columns (set in
        ``_rebuild``): m <- c1 m + c2 g; v <- d1 v + d2 g^2; p <- p - step (a1 m + a2 g) / (s sqrt(v) + e).
        Adam: (b1, 1-b1), (b2, 1-b2), numerator m, s = 1/sqrt(1-b2^t), step lr/(1-b1^t); RMSprop: v with
        alpha 0.99, numerator g; momentum: m <- mom m + g, numerator m; Nesterov: numerator g + mom m; SGD:
        numerator g, denominator exactly 1.  Unused terms are exact zeros/ones, so SGD's step is bit-exact and
        the others differ from torch's formulas only in rounding.  One template instead of a block per
        optimizer: with six optimizers and seven activations a mixed population would otherwise pay dozens of
        small operations per step (measured: the update dominated a K=32, width-32 step).
        """
        t, dt = self._t, self.dtype
        p, g, m1, m2 = self.flat, self.gflat, self.m1, self.m2
        if self._compile:
            if self._is_adam is not None:
                bc1 = torch.where(self._is_adam, 1 - self._b1_64**t, 1.0)
                step = (self._lr64 / bc1).to(dt)
                vscale = torch.where(self._is_adam, 1 / (1 - self._b2_64**t).sqrt(), self._vscale64).to(dt)
            else:
                step, vscale = self._lr, self._vscale
            decay = (1 - self._lr64 * self._wd_dec64).to(dt)
            args = (
                p,
                g,
                m1,
                m2,
                decay,
                self._wd_c,
                self._c1,
                self._c2,
                self._a1,
                self._a2,
                self._d1,
                self._d2,
            )
            if _run_compiled_update(*args, vscale, self._eps_eff, step):
                self._grad_clean = True
                return
            self._compile = False
        self._grad_clean = False
        if self._any_decoupled:
            p.mul_((1 - self._lr64 * self._wd_dec64).to(dt))  # AdamW: decay the weights before the step
        if self._any_coupled:
            g = torch.addcmul(g, p, self._wd_c)  # Adam/SGD/RMSprop: L2 added to the gradient
        if self._uses_m:
            m1.mul_(self._c1).add_(g * self._c2)
        num = (
            g * self._a2
            if not self._uses_m
            else (m1 * self._a1 if not self._any_a2 else torch.addcmul(g * self._a2, m1, self._a1))
        )
        if self._is_adam is not None:
            bc1 = torch.where(self._is_adam, 1 - self._b1_64**t, 1.0)
            step = (self._lr64 / bc1).to(dt)
            vscale = torch.where(self._is_adam, 1 / (1 - self._b2_64**t).sqrt(), self._vscale64).to(dt)
        else:
            step, vscale = self._lr, self._vscale
        if self._uses_v:
            m2.mul_(self._d1).addcmul_(g, g * self._d2)
            num.div_(m2.sqrt().mul_(vscale).add_(self._eps_eff))
        p.sub_(num.mul_(step))

    @torch.no_grad()
    def _evaluate(self) -> tuple[list[float], list[float]]:
        k = len(self._ids)
        rows = max(1, EVAL_ELEMENTS // (k * max([*self.widths, self.n_out])))
        logits = torch.cat(
            [self._forward(self.Xva[i : i + rows], train=False) for i in range(0, self.Xva.shape[0], rows)],
            dim=1,
        )
        return self._losses(logits, self.yva).tolist(), self._scores(logits, self.yva)

    # ------------------------------------------------------------------ epochs
    def run_epochs(self, n_epochs: int, callback: MemberCallback | None = None) -> None:
        """Advance every active member by up to ``n_epochs``; ``callback(member, ...)`` True prunes it."""
        for _ in range(n_epochs):
            if not self._ids:
                return
            self._one_epoch(callback)

    def _one_epoch(self, callback: MemberCallback | None) -> None:
        te = time.perf_counter()
        k = len(self._ids)
        perm = self.shuffler.next_permutation().to(self.device)
        loss_sum = torch.zeros(k, device=self.device, dtype=self.dtype)
        gn_sum = torch.zeros(k, self.layout.depth + 1, device=self.device, dtype=self.dtype)
        for s, e in self.bounds:
            losses, gn = self._train_step(perm[s:e])
            loss_sum += losses * (e - s)
            gn_sum += gn
        train_loss = (loss_sum / self.Xtr.shape[0]).tolist()
        grad_norms = (gn_sum / len(self.bounds)).tolist()
        valid_loss, valid_score = self._evaluate()
        seconds = (time.perf_counter() - te) / k  # the member's share of the population's epoch
        improved: list[int] = []
        lr_changed = False
        for row, m in enumerate(self._ids):
            cfg, hist, stopper = self.configs[m], self.histories[m], self.stoppers[m]
            epoch = self._epochs[m]
            self._epochs[m] += 1
            self._seconds[m] += seconds
            lr_now = self._lr_opts[m].param_groups[0]["lr"]
            tl, gns = train_loss[row], grad_norms[row]
            if not math.isfinite(tl) or not all(math.isfinite(g) for g in gns):
                hist.append(
                    epoch=epoch,
                    train_loss=tl,
                    valid_loss=math.nan,
                    valid_score=math.nan,
                    lr=lr_now,
                    grad_norms=gns,
                    seconds=seconds,
                )
                what = (
                    f"training loss became {tl}"
                    if not math.isfinite(tl)
                    else "gradient norm became non-finite"
                )
                self._stop(m, "diverged", f"diverged: the {what} at epoch {epoch}")
                continue
            vl, vs = valid_loss[row], valid_score[row]
            hist.append(
                epoch=epoch,
                train_loss=tl,
                valid_loss=vl,
                valid_score=vs,
                lr=lr_now,
                grad_norms=gns,
                seconds=seconds,
            )
            if not math.isfinite(vl):
                self._stop(m, "diverged", f"diverged: the validation loss became {vl} at epoch {epoch}")
                continue
            monitor_loss = cfg.early_stopping_metric == "valid_loss"
            if stopper.update(vl if monitor_loss else vs, epoch):
                improved.append(row)
                self._has_best[m] = True
                self._best_step[m] = self._t
            sched = self._scheds[m]
            if sched is not None:
                if cfg.lr_schedule == "plateau":
                    sched.step(vl)
                else:
                    sched.step()
                lr_changed = True
            if stopper.should_stop:
                self._stop(m, "early_stopped", stopper.reason)
                continue
            if callback is not None and callback(m, epoch, vs, vl):
                self._stop(m, "pruned", f"pruned after epoch {epoch}")
                continue
            if self._epochs[m] >= cfg.max_epochs:
                self._stop(m, "completed", f"completed {len(hist)} epochs")
        if improved:
            idx = torch.tensor(improved, device=self.device)
            self.best.index_copy_(0, idx, self.flat.index_select(0, idx))
            self.best_mean.index_copy_(0, idx, self.run_mean.index_select(0, idx))
            self.best_var.index_copy_(0, idx, self.run_var.index_select(0, idx))
        if lr_changed:
            self._lr64 = torch.tensor(
                [self._lr_opts[m].param_groups[0]["lr"] for m in self._ids],
                device=self.device,
                dtype=torch.float64,
            ).reshape(-1, 1)
            self._lr = self._lr64.to(self.dtype)
        self._compact()

    def _compact(self) -> None:
        """Drop the rows of members that stopped; keep what ``result`` needs of them."""
        keep = [row for row, m in enumerate(self._ids) if self._status[m] == "running"]
        if len(keep) == len(self._ids):
            return
        for row, m in enumerate(self._ids):
            if self._status[m] != "running":
                use_best = self._has_best[m] and self._status[m] != "diverged"
                self._removed[m] = {
                    "params": (self.best if use_best else self.flat)[row].clone(),
                    "mean": (self.best_mean if use_best else self.run_mean)[row].clone(),
                    "var": (self.best_var if use_best else self.run_var)[row].clone(),
                    "steps": torch.tensor(self._best_step[m] if use_best else self._t),
                }
        self._ids = [self._ids[row] for row in keep]
        idx = torch.tensor(keep, device=self.device, dtype=torch.long)
        for name in ("flat", "gflat", "m1", "m2", "best", "run_mean", "run_var", "best_mean", "best_var"):
            setattr(self, name, getattr(self, name).index_select(0, idx))
        if self.mask is not None:
            self.mask = self.mask.index_select(0, idx)
        self._rebuild()

    # ------------------------------------------------------------------ results
    def member_state(self, i: int) -> dict[str, torch.Tensor]:
        """Member ``i``'s parameter row and batch-norm statistics: best epoch's, else current (diverged: last)."""
        if i in self._removed:
            return self._removed[i]
        row = self._ids.index(i)
        use_best = self._has_best[i]
        return {
            "params": (self.best if use_best else self.flat)[row].clone(),
            "mean": (self.best_mean if use_best else self.run_mean)[row].clone(),
            "var": (self.best_var if use_best else self.run_var)[row].clone(),
            "steps": torch.tensor(self._best_step[i] if use_best else self._t),
        }

    @torch.no_grad()
    def build_member_model(self, i: int) -> nn.Module:
        """A standard ``MLP`` module holding member ``i``'s weights (``build_model`` + the member's row)."""
        cfg, lay = self.configs[i], self.layout
        model = build_model(cfg, self.n_in, self.n_out, seed=self.seeds[i]).to(
            device=self.device, dtype=self.dtype
        )
        state = self.member_state(i)
        row = state["params"].unsqueeze(0)
        offs = lay.stat_offsets
        for layer, (w, b, g, be) in enumerate(self._module_tensors(model)):
            d_out, d_in = w.shape
            w.copy_(self._row_view(row, 0, lay.W[layer])[:d_in, :d_out].T)
            b.copy_(self._row_view(row, 0, lay.b[layer])[0, :d_out])
            if g is not None and be is not None:
                g.copy_(self._row_view(row, 0, lay.gamma[layer])[0, :d_out])
                be.copy_(self._row_view(row, 0, lay.beta[layer])[0, :d_out])
            if layer < lay.depth and self.norm == "batch":
                bn: Any = model.norms[layer]  # type: ignore[index]
                bn.running_mean.copy_(state["mean"][offs[layer] : offs[layer] + d_out])
                bn.running_var.copy_(state["var"][offs[layer] : offs[layer] + d_out])
                bn.num_batches_tracked.fill_(int(state["steps"]))
        return model

    def result(self, i: int) -> TrainResult:
        """Member ``i`` as it stands, as the single trainer reports it, with a standard module."""
        model = self.build_member_model(i)
        cfg, hist, stopper = self.configs[i], self.histories[i], self.stoppers[i]
        best = stopper.best_epoch
        vl = hist.valid_loss[best] if best >= 0 else math.nan
        vs = hist.valid_score[best] if best >= 0 else math.nan
        status = "completed" if self._status[i] == "running" else self._status[i]
        reason = self._reason[i] or f"completed {len(hist)} epochs"
        stats = activation_stats(model, self.Xva[:DIAG_ROWS]) if status != "diverged" else []
        return TrainResult(
            model=model,
            config=cfg,
            task=self.task,
            history=hist,
            status=status,
            stop_reason=reason,
            best_epoch=best,
            best_valid_loss=vl,
            best_valid_score=vs,
            n_parameters=count_parameters(model),
            seconds=self._seconds[i],
            findings=diagnose(hist, cfg.activation, stats, status),
            activation_stats=stats,
        )

    # ------------------------------------------------------------------ calibration
    def time_steps(self, n_steps: int = 5, warmup: int = 2) -> float:
        """Median seconds of one training step of the whole population (changes the weights: a throwaway)."""
        n = self.Xtr.shape[0]
        idx = torch.arange(min(self.batch_size, n), device=self.device)
        times = []
        for j in range(warmup + n_steps):
            t0 = time.perf_counter()
            _, gn = self._train_step(idx)
            float(gn.sum())  # a host sync, as at the end of an epoch, so CUDA timings are real
            if j >= warmup:
                times.append(time.perf_counter() - t0)
        return float(np.median(times))
