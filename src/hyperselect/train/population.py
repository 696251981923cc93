"""The population trainer: K multi-layer perceptrons trained at once as one vectorised computation.

Small networks spend most of a training step in per-operation overhead, not arithmetic.  Stacking K members
into batched tensors (weights ``[K, in, out]``, ``torch.baddbmm``) pays that overhead once for all of them.

Layout.  All parameters of one member live in one row of a ``[K, P]`` matrix (``flat``); each layer's weight
``[K, in, out]`` is a strided view of it, and so is its gradient (``gflat``), which autograd accumulates into in
place.  The optimiser update is therefore a handful of tensor operations on whole ``[k, P]`` row blocks, with
each member's hyperparameters as a ``[k, 1]`` column, instead of a loop over members and layers.  Members are
ordered by activation so each activation works on a contiguous block of rows (every optimizer is one update
template with per-row coefficients, see ``_update``, so the optimizers need no blocks).

Widths.  Members of one population may have different hidden widths: they are zero-padded to the widest (and a
few units further up to a multiple of 16, where matrix products are faster: ``member_widths``) and a
gradient mask keeps the padding at zero (padded units have zero incoming and outgoing weights, so they never
change a real unit).  The planner decides by measurement whether to pad or to bucket by width.  Layer norm is
not padded (its statistics would count the padding): such members must share widths.

Equivalence.  Each member follows the trajectory of ``NetworkRun`` with the same config and seed: it starts from
``build_model(config, seed)``'s weights, sees the same batches (``EpochShuffler(data_seed)``) and applies the
same update formulas as torch's optimizers (coupled L2 in Adam/SGD, decoupled in AdamW, RMSprop alpha 0.99).
Learning-rate schedules are torch's own schedulers, stepped on a one-parameter stand-in optimizer per member,
so the learning rates are exactly the reference's.  Dropout masks are drawn from the population's own generator
(on a CPU 16 bits a unit, so a rate is rounded to a multiple of 1/65536): with dropout a member follows the
reference in distribution, not sample by sample.

Speed.  Members without norm layers (the common case) train by a hand-written backward pass (``_manual_step``)
into buffers kept from step to step; batch- and layer-normed members go through autograd (``_autograd_step``).
Both are tested against each other and against the single trainer.
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
from hyperselect.nn.losses import class_weights, make_loss, resolve_loss
from hyperselect.nn.mlp import LEAKY_SLOPE, build_model, count_parameters
from hyperselect.nn.optim import RMSPROP_ALPHA, make_scheduler
from hyperselect.tasks import Task
from hyperselect.train import _cpu_update
from hyperselect.train._dropout import fill_masks, member_key
from hyperselect.train.batching import EpochShuffler, RowSchedule, batch_bounds
from hyperselect.train.diagnostics import ConstantLoss, constant_loss
from hyperselect.train.early_stopping import EarlyStopping
from hyperselect.train.history import History
from hyperselect.train.metrics import (
    CLASS_BALANCED,
    ERROR_METRICS,
    class_scores,
    error_scores,
    score_from_logits,
)
from hyperselect.train.trainer import (
    INTERRUPTED,
    RunSummary,
    TrainResult,
    as_tensors,
    assemble_result,
    completed_reason,
    default_device,
    infer_n_outputs,
    summarize_run,
)

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


_aten = torch.ops.aten
SELU_ALPHA = 1.6732632423543772848170429916717  # torch.selu's constants: selu is elu(x, alpha) * scale
SELU_SCALE = 1.0507009873554804934193349852946


def _tanh_into(z: torch.Tensor, out: torch.Tensor) -> None:
    torch.mul(z, 2, out=out).sigmoid_().mul_(2).sub_(1)  # see _Tanh


# Activations written into a slice of a preallocated output (no split + cat), and their derivatives written
# into the incoming gradient in place: (grad, pre-activation z, activation a) -> grad.  The derivative kernels
# are the ones autograd calls, so the hand-written backward below matches autograd's to rounding.
_ACTIVATIONS_INTO: dict[str, Callable[[torch.Tensor, torch.Tensor], Any]] = {
    "relu": lambda z, o: _aten.clamp_min.out(z, 0, out=o),
    "leaky_relu": lambda z, o: _aten.leaky_relu.out(z, LEAKY_SLOPE, out=o),
    "gelu": lambda z, o: _aten.gelu.out(z, out=o),
    "elu": lambda z, o: _aten.elu.out(z, 1.0, 1, 1, out=o),
    "selu": lambda z, o: _aten.elu.out(z, SELU_ALPHA, SELU_SCALE, 1, out=o),
    "tanh": _tanh_into,
    "sigmoid": lambda z, o: _aten.sigmoid.out(z, out=o),
}
_ACTIVATION_GRADS: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any]] = {
    "relu": lambda g, z, a: _aten.threshold_backward.grad_input(g, a, 0, grad_input=g),
    "leaky_relu": lambda g, z, a: _aten.leaky_relu_backward.grad_input(
        g, z, LEAKY_SLOPE, False, grad_input=g
    ),
    "gelu": lambda g, z, a: _aten.gelu_backward.grad_input(g, z, grad_input=g),
    "elu": lambda g, z, a: _aten.elu_backward.grad_input(g, 1.0, 1, 1, False, z, grad_input=g),
    "selu": lambda g, z, a: _aten.elu_backward.grad_input(
        g, SELU_ALPHA, SELU_SCALE, 1, False, z, grad_input=g
    ),
    "tanh": lambda g, z, a: _aten.tanh_backward.grad_input(g, a, grad_input=g),
    "sigmoid": lambda g, z, a: _aten.sigmoid_backward.grad_input(g, a, grad_input=g),
}

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
    into one pass over the [k, P] rows.  The gradient rows are left as they are: the manual step overwrites
    them, the autograd step clears them first."""
    p.mul_(decay)
    gw = g + wd * p
    m1.mul_(c1).add_(c2 * gw)
    num = a2 * gw + a1 * m1
    m2.mul_(d1).add_(d2 * gw * gw)
    p.sub_(step * num / (m2.sqrt() * vscale + eps))


# The eager update makes about fifteen passes over the [k, P] rows; compiled (inductor, one C++/Triton loop)
# it makes one: measured 20x faster at K=32, width 128 on a CPU, where the eager update was ~40 % of a step.
# Compiled once per process and dtype (dynamic shapes: compaction does not recompile), ~3-8 s.  Used only
# where it pays back quickly (k * P >= COMPILE_MIN_ELEMENTS); HYPERSELECT_COMPILE=0 turns it off, =1 forces it.
# Any failure (no C++ compiler, no Triton) falls back to the eager update with one warning.
# On a CPU with numba installed the fused update of _cpu_update replaces it (see fused_wanted).
COMPILE_MIN_ELEMENTS = 1 << 16
COLUMN_STEPS = 64  # steps of optimizer coefficients computed at once (see PopulationTrainer._step_columns)
_compiled_update: Callable[..., None] | None = None
_compile_failed = False


def compile_wanted(n_elements: int) -> bool:
    """Whether a population with ``n_elements`` = k * P parameters uses the compiled update."""
    flag = os.environ.get("HYPERSELECT_COMPILE", "auto").lower()
    if _compile_failed or flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or n_elements >= COMPILE_MIN_ELEMENTS


def fused_wanted(device: torch.device) -> bool:
    """Whether a population on ``device`` uses the fused CPU update (``_cpu_update``: numba installed, a CPU,
    and not turned off with HYPERSELECT_FUSED=0)."""
    flag = os.environ.get("HYPERSELECT_FUSED", "auto").lower()
    if device.type != "cpu" or flag in ("0", "false", "no", "off"):
        return False
    return _cpu_update.available()


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


#: Populations pad a hidden layer up to the next multiple of WIDTH_ALIGN units where that adds at most
#: WIDTH_PAD units (not layer-normed ones, which cannot be padded).  Batched matrix products run markedly slower
#: just below such a multiple: K=18 members, 64 rows, 384 inputs, one thread, a layer's forward took 703 us at
#: width 45 and 474 us at 48, 984 us at 63 and 615 us at 64.  Whole steps (``benchmarks/width_alignment.py``):
#: 45 -> 48 and 63 -> 64 1.1-1.3x faster at 18 members, 60 -> 64 0.98-1.08x, but 120 -> 128 0.86-0.91x, so more
#: padding than that is not worth it.  The padding is masked like any other, so no member's result changes.
WIDTH_ALIGN = 16
WIDTH_PAD = 4


def _aligned(width: int) -> int:
    up = -(-width // WIDTH_ALIGN) * WIDTH_ALIGN
    return up if up - width <= WIDTH_PAD else width


def member_widths(configs: Sequence[MLPConfig]) -> tuple[int, ...]:
    """The padded hidden widths of a population: the widest member at each layer, padded up to a multiple of
    :data:`WIDTH_ALIGN` where that adds at most :data:`WIDTH_PAD` units (exact for layer norm: its statistics
    would count the padding)."""
    widest = tuple(max(c.hidden[layer] for c in configs) for layer in range(configs[0].depth))
    if configs[0].norm == "layer":
        return widest
    return tuple(_aligned(w) for w in widest)


def estimate_bytes(
    n_members: int, n_in: int, widths: Sequence[int], n_out: int, batch_size: int, norm: str, itemsize: int
) -> int:
    """Peak memory of a population, estimated before anything is allocated (the planner's memory guard).

    Rows of [k, P]: parameters, gradients, two optimizer moments, best weights, padding mask, the best
    weights kept for members already removed, and the step's weight-gradient buffers.  Activations: about six
    [k, batch, width] tensors per hidden layer live between forward and backward (pre-activation, norm,
    activation, dropout mask and their gradients), kept for the full and the last batch of an epoch.
    Evaluation chunks are capped at EVAL_ELEMENTS per tensor.
    """
    layout = _Layout(n_in, widths, n_out, norm)
    state = 8 * n_members * layout.size
    acts = 12 * n_members * batch_size * (sum(widths) + n_out)
    evaluation = 3 * EVAL_ELEMENTS
    return int((state + acts + evaluation) * itemsize)


class PopulationTrainer:
    """Train ``configs`` (multi-layer perceptrons sharing a batch size, depth, loss and norm) as one computation.

    Member ``i`` is ``configs[i]`` with initial weights ``build_model(configs[i], seed=seeds[i])``; every
    member sees the batches of ``EpochShuffler(n, data_seed, row_schedule)`` (``row_schedule``: the epochs that
    train on a subset of the rows, as :class:`~hyperselect.train.batching.RowSchedule`).  Stopped, pruned and
    diverged members are removed from the stacked tensors (compaction), so they cost nothing afterwards.  Never
    raises for a diverging member: it is recorded as ``status="diverged"`` and the others go on.
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
        row_schedule: RowSchedule | None = None,
        metric: str | None = None,
        y_scale: float | None = None,
    ) -> None:
        self.configs = list(configs)
        self.metric = metric  # the validation score (None: the task's own)
        # the sd a regression target was divided by: error scores (neg_mae, neg_rmse) read in the target's units
        self.y_scale = y_scale
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
        # the class weights of the members with class_weight="balanced" (one vector: they share the rows)
        weighted = next((c for c in self.configs if c.class_weight != "none"), None)
        cw = None if weighted is None else class_weights(weighted, task, self.ytr, n_classes)
        self._class_w = None if cw is None else cw.to(device=dev, dtype=dtype)
        # loss setting -> the best constant prediction's losses (_constant_loss)
        self._constant_cache: dict[tuple[Any, ...], ConstantLoss | None] = {}
        self.widths = member_widths(self.configs)
        self.layout = _Layout(self.n_in, self.widths, self.n_out, self.norm)
        self.bounds = batch_bounds(self.Xtr.shape[0], self.batch_size)  # of an epoch over every row
        self.shuffler = EpochShuffler(self.Xtr.shape[0], data_seed, row_schedule)
        seed = int(np.random.SeedSequence([int(s) for s in self.seeds]).generate_state(1)[0])
        self.generator = torch.Generator(device=dev)
        self.generator.manual_seed(seed)
        # CPU dropout masks (see _dropout_mask): each member draws from its own stream, seeded by its seed alone,
        # so its trajectory depends neither on the other members of its population nor on padding, and a
        # search gives the same result whether the planner stacks a member or trains it alone (cohort.py)
        self._drop_keys = np.array([member_key(s) for s in self.seeds], dtype=np.uint64)
        self._drop_used = np.zeros(len(self.seeds), dtype=np.int64)  # words of its stream each member used

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
        self._n_params = [0] * k
        for row, m in enumerate(self._ids):
            cfg = self.configs[m]
            model = build_model(cfg, self.n_in, self.n_out, seed=self.seeds[m]).to(device=dev, dtype=dt)
            self._n_params[m] = count_parameters(model)
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
        self._grad_clean = True  # gflat is all zeros (the autograd step must clear it after an update)
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

        # float64 host copies where torch computes in Python floats (bias corrections, decoupled decay)
        self._lr_np = np.array([self._lr_opts[m].param_groups[0]["lr"] for m in self._ids], dtype=np.float64)
        self._b1_np = np.array([c.beta1 for c in cfgs], dtype=np.float64)
        self._b2_np = np.array([c.beta2 for c in cfgs], dtype=np.float64)
        # (first step, per step (decay, step, vscale)): see _step_columns
        self._columns: tuple[int, torch.Tensor] | None = None
        self._eps = col([c.eps for c in cfgs])
        self._mom = col([c.momentum for c in cfgs])
        clips = [c.grad_clip for c in cfgs]
        self._clip = (
            col([math.inf if c is None else c for c in clips]) if any(c is not None for c in clips) else None
        )
        # members without clipping (an infinite bound): their factor is 1 even where the norm overflowed to inf,
        # whose inf / inf would be NaN (the single trainer does not scale their gradients at all)
        self._unclipped = None if self._clip is None else torch.isinf(self._clip)
        drops = [c.dropout for c in cfgs]
        self._drop = col(drops).unsqueeze(2) if any(d > 0 for d in drops) else None
        if self._drop is not None:
            self._keep_scale = 1 / (1 - self._drop)
            # 16-bit dropout draws: unit dropped when its draw u (uniform on 0..65535, stored as u - 32768) is
            # below round(p * 65536), i.e. p is rounded to a multiple of 1/65536
            # 16-bit draws: kept when the draw (0..65535) is >= round(p * 65536) (see _dropout.py)
            self._drop_thresholds = np.array([round(d * 65536) for d in drops], dtype=np.int64)
            self._keep_np = self._keep_scale.reshape(-1).cpu().numpy()  # in the population's dtype
        # [k, classes]: each member's class weights (ones for class_weight="none"); None: no member weighs
        self._cw: torch.Tensor | None = None
        if self._class_w is not None and any(c.class_weight != "none" for c in cfgs):
            self._cw = torch.stack(
                [self._class_w if c.class_weight != "none" else torch.ones_like(self._class_w) for c in cfgs]
            )
        smooth = [c.label_smoothing for c in cfgs]
        self._smooth = col(smooth).unsqueeze(2) if any(s > 0 for s in smooth) else None
        self._delta = col([c.huber_delta for c in cfgs]).unsqueeze(2)
        self._set_update_coefficients(cfgs, col)
        self._compile = compile_wanted(self.flat.numel())
        self._fused = fused_wanted(self.device)
        if self._fused:
            self._fused_setup()

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
        self._buffers: dict[int, dict[str, list[Any]]] = {}  # rows -> _step_buffers
        self._eval_buffers: dict[int, dict[str, Any]] = {}  # rows -> _eval_forward's buffers
        self._ids_np = np.array(self._ids, dtype=np.int64)
        self._drop_widths: dict[tuple[int, int], np.ndarray] = {}  # see _dropout_mask

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
        self._vscale_np = np.array([1.0 if r else 0.0 for r in rms], dtype=np.float64)
        self._adam_np = np.array(adam, dtype=bool)
        decoupled = [c.weight_decay if c.optimizer == "adamw" else 0.0 for c in cfgs]
        self._wd_dec_np = np.array(decoupled, dtype=np.float64)
        self._any_decoupled = any(d > 0 for d in decoupled)
        coupled = [0.0 if c.optimizer == "adamw" else c.weight_decay for c in cfgs]
        self._wd_c = col(coupled)
        self._any_coupled = any(d > 0 for d in coupled)
        # the template's constant columns in the order both compiled updates take them (_update_math, _cpu_update)
        self._coef_cols = (self._wd_c, self._c1, self._c2, self._a1, self._a2, self._d1, self._d2)

    def _fused_setup(self) -> None:
        """The arrays of the fused CPU update (``_cpu_update``) for the current member set: numpy views of the
        rows and coefficient columns, the manual step's weight-gradient buffer, and the segment table.

        A manual step writes each hidden layer's weight gradient into its own contiguous ``[k, in, out]`` block
        of one layer-major buffer (``_gw_major``), where the kernel reads it: no copy into ``gflat``.  Biases
        and the output layer (whose gradient is computed transposed) still go to ``gflat``; the autograd step
        writes everything there.  A segment is (flat offset, length, source 0 = gflat / 1 = layer-major, start
        in the source, stride from one member to the next); every weight matrix is a segment of its own, so the
        per-layer weight-gradient norms come out of the kernel's sums of squares.
        """
        k, lay, dt = len(self._ids), self.layout, self.dtype
        manual, size = self.norm == "none", lay.size
        per_layer = [k * lay.W[layer].size for layer in range(lay.depth)] if manual else []
        self._gw_major = torch.empty(max(sum(per_layer), 1), dtype=dt)
        self._gw_views: list[torch.Tensor] = []
        start = 0
        for layer in range(lay.depth if manual else 0):
            W = lay.W[layer]
            self._gw_views.append(self._gw_major[start : start + k * W.size].view(k, *W.shape))
            start += k * W.size

        def segments(buffers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            seg: list[tuple[int, int, int, int, int]] = []
            w_seg: list[int] = []
            start = 0
            for layer in range(lay.depth + 1):
                W = lay.W[layer]
                if buffers and layer < lay.depth:
                    seg.append((W.offset, W.size, 1, start, W.size))
                    start += k * W.size
                else:
                    seg.append((W.offset, W.size, 0, W.offset, size))
                w_seg.append(len(seg) - 1)
                rest = W.offset + W.size  # bias and norm weights, up to the next layer's weight
                end = lay.W[layer + 1].offset if layer < lay.depth else size
                if end > rest:
                    seg.append((rest, end - rest, 0, rest, size))
            # [5, segments], the weight matrices' segments, and the segments' sums of squares [k, segments]
            table = np.array(seg, dtype=np.int64).T.copy()
            return table, np.array(w_seg, dtype=np.int64), np.zeros((k, len(seg)), dtype=np.float64)

        def vec(t: torch.Tensor) -> np.ndarray:
            return t.reshape(-1).numpy()

        self._fa: dict[str, Any] = {
            "rows": (
                self.flat.numpy(),
                self.m1.numpy(),
                self.m2.numpy(),
                vec(self.gflat),
                self._gw_major.numpy(),
            ),
            "segments": {False: segments(False), True: segments(True)}
            if manual
            else {False: segments(False)},
            "mask": self.mask.numpy()
            if self.mask is not None
            else np.zeros((1, 1), dtype=self.flat.numpy().dtype),
            "coefficients": np.stack([vec(c) for c in (*self._coef_cols, self._eps_eff)]),
            "ones": np.ones(k, dtype=self.flat.numpy().dtype),
            "clip": vec(self._clip).astype(np.float64) if self._clip is not None else None,
            "unclipped": vec(self._unclipped) if self._unclipped is not None else None,
        }

    def _fused_apply(self, from_buffers: bool) -> torch.Tensor:
        """``_apply_gradients`` as one or two compiled passes (``_cpu_update``): the weight gradient norms."""
        a = self._fa
        seg, w_seg, sq = a["segments"][from_buffers]
        self._t += 1
        self._grad_clean = False
        first = self._column_block()[0]  # (also makes _columns_np)
        cols = self._columns_np[self._t - first]
        sq_norms, update = _cpu_update.kernels()
        p, m1, m2, g0, g1 = a["rows"]
        mask, use_mask = a["mask"], self.mask is not None
        if a["clip"] is None:  # the norms in the same pass as the update
            scale, want_sq = a["ones"], True
        else:  # the clipping factor needs the total norm first
            sq_norms(g0, g1, seg, mask, use_mask, sq)
            total = np.sqrt(sq.sum(1))
            total[a["unclipped"]] = 0.0  # their factor inf / eps clamps to 1 (inf / inf, an overflow, is NaN)
            scale, want_sq = np.minimum(a["clip"] / (total + CLIP_EPS), 1.0).astype(a["ones"].dtype), False
        update(p, m1, m2, g0, g1, seg, mask, use_mask, scale, want_sq, sq, a["coefficients"], cols)
        return torch.from_numpy(np.sqrt(sq[:, w_seg])).to(self.dtype)

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
        if not (h.requires_grad and torch.is_grad_enabled()):
            out = torch.empty_like(h)
            for a, b, name in self._act_blocks:
                _ACTIVATIONS_INTO[name](h[a:b], out[a:b])
            return out
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
            if layer == self.layout.depth:
                return self._output_layer(h)
            h = torch.baddbmm(self._b[layer], h, self._W[layer])
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
                h = h * self._dropout_mask(h.shape, layer)
        raise AssertionError("unreachable")

    def _output_layer(self, h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [k, rows, n_out] (a transposed view), computed as (W^T h^T)^T: with few outputs the plain
        product has a narrow [rows, n_out] result, which MKL runs at a third of the speed (measured on a CPU,
        [32, 64, 32] @ [32, 32, 10]: 72 us, transposed 22 us)."""
        depth = self.layout.depth
        b, w = self._b[depth].transpose(1, 2), self._W[depth].transpose(1, 2)
        return torch.baddbmm(b, w, h.transpose(1, 2), out=out).transpose(1, 2)

    def _dropout_mask(self, shape: torch.Size, layer: int, out: torch.Tensor | None = None) -> torch.Tensor:
        """Inverted-dropout multipliers, 0 or 1 / (1 - p) with each member's own p, of the given shape.

        On a CPU torch draws one Mersenne-twister number per float (measured ~2 ns an element, and the bool
        mask arithmetic after it as much again: a third of a K=32, width-128 step); here each unit takes 16
        bits of its member's own counter-based stream, drawn, compared and written in one compiled pass
        (``_dropout.fill_masks``; numpy's generators and a float mask made in torch cost a sixth of a K=32,
        width-32 step).  Each member draws ``rows x its own width`` units of hidden layer ``layer`` from its own
        stream; padding and members without dropout are always kept.  Elsewhere (CUDA) torch's generator is
        fast and used as is."""
        assert self._drop is not None
        if out is None:
            out = torch.empty(shape, device=self.device, dtype=self.dtype)
        if self.device.type != "cpu":
            u = torch.rand(shape, generator=self.generator, device=self.device, dtype=self.dtype)
            return out.copy_(u >= self._drop).mul_(self._keep_scale)
        width = shape[2]
        key = (layer, width)
        widths = self._drop_widths.get(key)
        if widths is None:  # units each member draws per row: its width in this layer, 0 without dropout
            widths = np.array(
                [
                    min(int(self.configs[m].hidden[layer]), width) if self.configs[m].dropout > 0 else 0
                    for m in self._ids
                ],
                dtype=np.int64,
            )
            self._drop_widths[key] = widths
        fill_masks(
            out.numpy(),
            self._ids_np,
            self._drop_keys,
            self._drop_used,
            widths,
            self._drop_thresholds,
            self._keep_np,
        )
        return out

    def _losses(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-member mean loss [k], the same formulas as ``nn.losses.make_loss`` (class weights included)."""
        k, rows = logits.shape[0], logits.shape[1]
        if self.loss_name == "cross_entropy":
            if self._smooth is None and self._cw is None:
                loss: torch.Tensor = _CrossEntropy.apply(logits, y.long())
                return loss
            logp = logits - logits.logsumexp(-1, keepdim=True)
            nll = -logp.gather(2, y.long().view(1, rows, 1).expand(k, rows, 1)).squeeze(2)
            if self._smooth is not None:
                nll = (1 - self._smooth.view(k, 1)) * nll + self._smooth.view(k, 1) * (-logp.mean(2))
            return self._row_mean(nll, y)
        target = y.to(logits.dtype).reshape(1, rows, -1)
        if self.loss_name == "bce":
            if self._smooth is not None:
                target = target * (1 - self._smooth) + 0.5 * self._smooth
            target = target.expand_as(logits)
            per_row = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(2)
            return self._row_mean(per_row, y)
        diff = logits - target
        if self.loss_name == "huber":
            ad = diff.abs()
            return torch.where(
                ad < self._delta, 0.5 * diff * diff, self._delta * (ad - 0.5 * self._delta)
            ).mean((1, 2))
        return (diff * diff).mean((1, 2))

    def _row_mean(self, per_row: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each member's mean of its rows' losses [k, rows], weighted by the rows' class weights where it has
        them (normalised by the weights' sum, as ``nn.losses.weighted_mean``)."""
        if self._cw is None:
            return per_row.mean(1)
        w = self._cw.index_select(1, y.long().reshape(-1))  # [k, rows]
        return (per_row * w).sum(1) / w.sum(1)

    def _scores(self, logits: torch.Tensor, y: torch.Tensor) -> list[float]:
        balanced = self.metric in CLASS_BALANCED
        if self.task is Task.MULTICLASS and logits.shape[2] > 1 and not balanced:
            # accuracy without argmax, whose CPU kernel is not vectorised (measured 0.94 ms for [32, 270, 10],
            # as long as the forward pass): a row is right when its label's logit is the row's only maximum
            k, rows, _ = logits.shape
            top = logits.amax(2, keepdim=True)
            if bool(
                ((logits == top).sum(2) != 1).any()
            ):  # a tie or a NaN: argmax decides, as in the reference
                return (logits.argmax(2) == y.long().unsqueeze(0)).double().mean(1).tolist()
            hit = logits.gather(2, y.long().view(1, rows, 1).expand(k, rows, 1)) == top
            return hit.squeeze(2).double().mean(1).tolist()
        if self.task in (Task.BINARY, Task.MULTICLASS):
            pred = (logits[..., 0] > 0).long() if logits.shape[2] == 1 else logits.argmax(2)
            if balanced:
                return class_scores(pred, y, max(2, logits.shape[2]), str(self.metric)).tolist()  # type: ignore[no-any-return]
            return (pred == y.long().unsqueeze(0)).double().mean(1).tolist()
        if self.task is Task.REGRESSION and self.metric in ERROR_METRICS:
            return error_scores(logits, y, str(self.metric), self.y_scale).tolist()  # type: ignore[no-any-return]
        return [score_from_logits(logits[j], y, self.task) for j in range(logits.shape[0])]

    def _train_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of every stacked member: (losses [k], weight gradient norms [k, layers]), both detached."""
        # index_select rather than advanced indexing: the same rows, a third of the time for a 64 x 384 batch
        xb, yb = self.Xtr.index_select(0, idx), self.ytr.index_select(0, idx)
        if self.norm == "none":
            return self._manual_step(xb, yb)
        return self._autograd_step(xb, yb)

    def _autograd_step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``_train_step`` through autograd: any norm (batch and layer norm are not written out by hand)."""
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
            return losses.detach(), self._apply_gradients()

    def _apply_gradients(self, from_buffers: bool = False) -> torch.Tensor:
        """Mask, diagnose, clip and apply the gradient rows in ``gflat`` (with the fused update and
        ``from_buffers``, the hidden weights' gradients in ``_gw_views``): the weight gradient norms [k, layers]."""
        if self._fused:
            return self._fused_apply(from_buffers)
        if self.mask is not None:
            self.gflat.mul_(self.mask)  # keeps padded units at exactly zero
        gn = torch.stack([torch.linalg.vector_norm(w.grad, dim=(1, 2)) for w in self._W], 1)  # type: ignore[arg-type]
        if self._clip is not None:
            total = torch.linalg.vector_norm(self.gflat, dim=1, keepdim=True)
            factor = (self._clip / (total + CLIP_EPS)).clamp_(max=1.0)
            self.gflat.mul_(factor.masked_fill_(self._unclipped, 1.0))  # type: ignore[arg-type]
        self._t += 1
        self._update()
        return gn

    @torch.no_grad()
    def _manual_step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``_train_step`` without autograd, for members without norm layers (the common case).

        The backward pass of an MLP is short enough to write out, and then every [k, rows, width] tensor of a
        step can live in a buffer kept from step to step (``_step_buffers``): on a CPU a fresh tensor of a
        megabyte or more can be fresh pages from the kernel, whose faults cost more than the arithmetic (at
        K=32, width 128, inside a step: ``a * mask`` 0.34 ms, the same product into a kept buffer 0.05 ms).
        The step's time is then about 60 % of the autograd step's at K=32, widths 32 and 128.  Activations and
        their derivatives run in place block by block (no split + cat), weight gradients are copied into their
        rows of ``gflat`` (no accumulation pass, no zeroing).  The derivative kernels are autograd's own, so
        the float64 trajectories agree with the autograd path and the single trainer.
        """
        depth = self.layout.depth
        k, rows = len(self._ids), xb.shape[0]
        buf = self._step_buffers(rows)
        h = xb.expand(k, *xb.shape)  # a stride-0 view: bmm reads the shared rows without copying them
        inputs: list[torch.Tensor] = []
        for layer in range(depth):
            inputs.append(h)
            h = a = self._hidden_layer(layer, h, buf)
            if self._drop is not None:
                mask = self._dropout_mask(a.shape, layer, out=buf["mask"][layer])
                h = torch.mul(a, mask, out=buf["dropped"][layer])
        inputs.append(h)
        losses, d = self._loss_and_grad(self._output_layer(h, out=buf["logits"][0]), yb)
        backward = [_ACTIVATION_GRADS[name] for _, _, name in self._act_blocks]
        for layer in range(depth, -1, -1):
            gw, gb = self._W[layer].grad, self._b[layer].grad
            assert gw is not None and gb is not None
            # a bmm straight into the strided row views loops over members: one bmm and a copy is faster;
            # the output layer's is computed transposed, for the reason given in _output_layer
            if layer == depth:
                gw.copy_(torch.bmm(d.transpose(1, 2), h, out=buf["gw"][layer]).transpose(1, 2))
            elif self._fused:  # the fused update reads it where it is (_fused_setup)
                torch.bmm(inputs[layer].transpose(1, 2), d, out=buf["gw"][layer])
            else:
                gw.copy_(torch.bmm(inputs[layer].transpose(1, 2), d, out=buf["gw"][layer]))
            torch.sum(d, 1, keepdim=True, out=gb)
            if layer == 0:
                break
            d = torch.bmm(d, self._W[layer].transpose(1, 2), out=buf["grad"][layer - 1])
            if self._drop is not None:
                d.mul_(buf["mask"][layer - 1])
            blocks = zip(
                backward,
                buf["grad_blocks"][layer - 1],
                buf["z_blocks"][layer - 1],
                buf["a_blocks"][layer - 1],
                strict=True,
            )
            for grad_fn, gb_, zb, ab in blocks:
                grad_fn(gb_, zb, ab)
        return losses, self._apply_gradients(from_buffers=True)

    def _step_buffers(self, rows: int) -> dict[str, list[Any]]:
        """The tensors of a manual step with ``rows`` rows, allocated once per (members, rows)."""
        bufs = self._buffers.get(rows)
        if bufs is None:
            k, dims = len(self._ids), self.layout.dims

            def new(*shape: int) -> torch.Tensor:
                return torch.empty(shape, device=self.device, dtype=self.dtype)

            bufs = {
                "z": [new(k, rows, w) for w in self.widths],
                "a": [new(k, rows, w) for w in self.widths],
                "grad": [new(k, rows, w) for w in self.widths],
                # weight gradients do not depend on the rows: one set for the full and the last batch
                "gw": next(iter(self._buffers.values()))["gw"]
                if self._buffers
                else (
                    self._gw_views
                    if self._fused
                    else [new(k, dims[i], dims[i + 1]) for i in range(len(dims) - 2)]
                )
                + [new(k, dims[-1], dims[-2])],
                "logits": [new(k, self.n_out, rows)],  # transposed: see _output_layer
            }
            if self._drop is not None:
                bufs["mask"] = [new(k, rows, w) for w in self.widths]
                bufs["dropped"] = [new(k, rows, w) for w in self.widths]
            for name in ("z", "a", "grad"):
                bufs[f"{name}_blocks"] = self._block_views(bufs[name])
            self._buffers[rows] = bufs
        return bufs

    def _loss_and_grad(self, logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-member losses [k] and the gradient of their sum with respect to ``logits``."""
        if self.loss_name == "cross_entropy" and self._smooth is None and self._cw is None:
            k, rows, _ = logits.shape  # _CrossEntropy's forward and backward in one
            z = logits.sub_(logits.amax(-1, keepdim=True))
            e = z.exp()
            s = e.sum(-1, keepdim=True)
            idx = y.long().view(1, rows, 1).expand(k, rows, 1)
            nll = (s.log() - z.gather(2, idx)).squeeze(2).mean(1)
            minus_one = torch.full((1, 1, 1), -1.0, dtype=e.dtype, device=e.device).expand(k, rows, 1)
            return nll, e.div_(s).scatter_add_(2, idx, minus_one).div_(rows)
        with torch.enable_grad():  # any other loss: autograd through the loss alone
            leaf = logits.requires_grad_()
            losses = self._losses(leaf, y)
            (d,) = torch.autograd.grad(losses.sum(), leaf)
        return losses.detach(), d

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
        p, g, m1, m2 = self.flat, self.gflat, self.m1, self.m2
        self._grad_clean = False
        decay, step, vscale = self._step_columns()
        if self._compile:
            args = (p, g, m1, m2, decay, *self._coef_cols)
            if _run_compiled_update(*args, vscale, self._eps_eff, step):
                return
            self._compile = False
        if self._any_decoupled:
            p.mul_(decay)  # AdamW: decay the weights before the step
        if self._any_coupled:
            g = torch.addcmul(g, p, self._wd_c)  # Adam/SGD/RMSprop: L2 added to the gradient
        if self._uses_m:
            m1.mul_(self._c1).add_(g * self._c2)
        num = (
            g * self._a2
            if not self._uses_m
            else (m1 * self._a1 if not self._any_a2 else torch.addcmul(g * self._a2, m1, self._a1))
        )
        if self._uses_v:
            m2.mul_(self._d1).addcmul_(g, g * self._d2)
            num.div_(m2.sqrt().mul_(vscale).add_(self._eps_eff))
        p.sub_(num.mul_(step))

    def _step_columns(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This step's (decay, step size, v scale) columns [k, 1]: decoupled decay 1 - lr wd, lr / (1 - b1^t)
        and 1 / sqrt(1 - b2^t) for Adam, lr and the RMSprop flag otherwise.  Computed in float64 on the host,
        as torch.optim computes them in Python floats, for COLUMN_STEPS steps at once and moved in one
        conversion: computed step by step they cost as much as the compiled update itself at K=32, width 32.
        The block is recomputed when the learning rates change (``_lr_np``) or the members do (``_rebuild``)."""
        block = self._column_block()
        # each column its own tensor: views at a different offset every step made torch.compile guard on
        # the offsets and recompile the update
        decay_, step_, vscale_ = (c.clone() for c in block[1][self._t - block[0]])
        return decay_, step_, vscale_

    def _column_block(self) -> tuple[int, torch.Tensor]:
        """(first step, columns [COLUMN_STEPS, 3, k, 1]) holding this step's, and with the fused update the same
        as numpy vectors in ``_columns_np`` (which is all it reads: cloning every step's columns when the block
        was made, 192 clones, was a fifth of the set-up of a planner's timing)."""
        t = self._t
        block = self._columns
        if block is None or not block[0] <= t < block[0] + COLUMN_STEPS:
            steps = np.arange(t, t + COLUMN_STEPS, dtype=np.float64)[:, None]
            lr, adam = self._lr_np, self._adam_np
            step = lr / np.where(adam, 1 - self._b1_np**steps, 1.0)
            with np.errstate(divide="ignore"):  # beta2 = 0: 1 - 0^t = 1; only non-Adam rows could divide by 0
                vscale = np.where(adam, 1 / np.sqrt(1 - self._b2_np**steps), self._vscale_np)
            decay = np.broadcast_to(1 - lr * self._wd_dec_np, step.shape)
            cols = torch.from_numpy(np.stack([decay, step, vscale], axis=1)[:, :, :, None])
            cols = cols.to(device=self.device, dtype=self.dtype)  # [steps, 3, k, 1]
            block = self._columns = (t, cols)
            if self._fused:  # the same columns as numpy vectors for the fused update
                self._columns_np = list(cols.reshape(COLUMN_STEPS, 3, -1).numpy())  # [3, k] each
        return block

    @torch.no_grad()
    def _evaluate(self) -> tuple[list[float], list[float]]:
        k = len(self._ids)
        rows = max(1, EVAL_ELEMENTS // (k * max([*self.widths, self.n_out])))
        forward = self._eval_forward if self.norm == "none" else (lambda x: self._forward(x, train=False))
        n = self.Xva.shape[0]
        logits = (
            forward(self.Xva)
            if rows >= n
            else torch.cat([forward(self.Xva[i : i + rows]) for i in range(0, n, rows)], dim=1)
        )
        return self._losses(logits, self.yva).tolist(), self._scores(logits, self.yva)

    def _block_views(self, tensors: list[torch.Tensor]) -> list[list[torch.Tensor]]:
        """Per tensor, its views on the rows of each activation block (``_act_blocks``)."""
        return [[t[r0:r1] for r0, r1, _ in self._act_blocks] for t in tensors]

    def _hidden_layer(self, layer: int, h: torch.Tensor, buf: dict[str, Any]) -> torch.Tensor:
        """Hidden layer ``layer`` without norm into kept buffers: ``z = h W + b`` into ``buf["z"]``, then each
        activation block of it into its block of ``buf["a"]`` (views made once with the buffers, in
        ``buf["z_blocks"]`` and ``buf["a_blocks"]``: slicing costs as much as a block).  Returns the activations."""
        z, a = buf["z"][layer], buf["a"][layer]
        torch.baddbmm(self._b[layer], h, self._W[layer], out=z)
        blocks = zip(self._act_blocks, buf["z_blocks"][layer], buf["a_blocks"][layer], strict=True)
        for (_, _, name), zb, ab in blocks:
            _ACTIVATIONS_INTO[name](zb, ab)
        return a

    @torch.no_grad()
    def _eval_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``_forward(x, train=False)`` without norm layers, into buffers kept from epoch to epoch (a view of
        them, valid until the next call): fresh [k, rows, width] tensors of megabytes cost page faults, measured
        as much as the bias broadcast they receive takes arithmetic (K=32, 270 rows, width 128: 0.95 ms a
        layer)."""
        k, rows = len(self._ids), x.shape[0]
        buf = self._eval_buffers.get(rows)
        if buf is None:

            def new(*shape: int) -> torch.Tensor:
                return torch.empty(shape, device=self.device, dtype=self.dtype)

            zs, acts = [new(k, rows, w) for w in self.widths], [new(k, rows, w) for w in self.widths]
            buf = self._eval_buffers[rows] = {
                "z": zs,
                "a": acts,
                "z_blocks": self._block_views(zs),
                "a_blocks": self._block_views(acts),
                "logits": new(k, self.n_out, rows),
            }
        h = x.expand(k, *x.shape)
        for layer in range(self.layout.depth):
            h = self._hidden_layer(layer, h, buf)
        return self._output_layer(h, out=buf["logits"])

    # ------------------------------------------------------------------ epochs
    def run_epochs(
        self,
        n_epochs: int,
        callback: MemberCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_epoch_end: Callable[[], None] | None = None,
    ) -> None:
        """Advance every active member by up to ``n_epochs``; ``callback(member, ...)`` True prunes it.

        ``should_stop()`` is asked before every training step: True interrupts the epoch and stops every
        running member as ``"pruned"`` with a reason starting :data:`INTERRUPTED` (the interrupted epoch is
        not recorded; a member keeps its best epoch's weights).  A wall-clock budget is then kept to within a
        step, not an epoch, which matters when one epoch of a large data set takes minutes.
        ``on_epoch_end()`` is called after every completed epoch, once the members that stopped in it are
        compacted away (their results are final).
        """
        for _ in range(n_epochs):
            if not self._ids:
                return
            if not self._one_epoch(callback, should_stop):
                return
            if on_epoch_end is not None:
                on_epoch_end()

    def _one_epoch(self, callback: MemberCallback | None, should_stop: Callable[[], bool] | None) -> bool:
        """One epoch of every stacked member; False when ``should_stop`` interrupted it."""
        te = time.perf_counter()
        k = len(self._ids)
        perm = self.shuffler.next_permutation().to(self.device)
        n_rows = int(perm.shape[0])  # fewer than all where a row schedule holds this epoch to a subset
        bounds = self.bounds if n_rows == self.Xtr.shape[0] else batch_bounds(n_rows, self.batch_size)
        loss_sum = torch.zeros(k, device=self.device, dtype=self.dtype)
        gn_sum = torch.zeros(k, self.layout.depth + 1, device=self.device, dtype=self.dtype)
        for s, e in bounds:
            if should_stop is not None and should_stop():
                seconds = (time.perf_counter() - te) / k
                for m in list(self._ids):
                    self._seconds[m] += seconds
                    self._stop(m, "pruned", f"{INTERRUPTED} during epoch {self._epochs[m]}")
                self._compact()
                return False
            losses, gn = self._train_step(perm[s:e])
            loss_sum.add_(losses, alpha=e - s)
            gn_sum.add_(gn)
        train_loss = (loss_sum / n_rows).tolist()
        grad_norms = (gn_sum / len(bounds)).tolist()
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
                if callback is not None:  # its last epoch is reported too; the member ended on its own
                    callback(m, epoch, vs, vl)
                continue
            if callback is not None and callback(m, epoch, vs, vl):
                self._stop(m, "pruned", f"pruned after epoch {epoch}")
                continue
            if self._epochs[m] >= cfg.max_epochs:
                self._stop(m, "completed", completed_reason(len(hist)))
        if improved:
            idx = torch.tensor(improved, device=self.device)
            self.best.index_copy_(0, idx, self.flat.index_select(0, idx))
            self.best_mean.index_copy_(0, idx, self.run_mean.index_select(0, idx))
            self.best_var.index_copy_(0, idx, self.run_var.index_select(0, idx))
        if lr_changed:
            self._lr_np = np.array(
                [self._lr_opts[m].param_groups[0]["lr"] for m in self._ids], dtype=np.float64
            )
            self._columns = None
        self._compact()
        return True

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

    def summary(self, i: int) -> RunSummary:
        """:meth:`result`'s figures without building the member's module or diagnosing it."""
        return summarize_run(
            self.configs[i],
            self.histories[i],
            self.stoppers[i],
            self._status[i],
            self._reason[i],
            self._seconds[i],
            self._n_params[i],
        )

    def result(self, i: int) -> TrainResult:
        """Member ``i`` as it stands, as the single trainer reports it, with a standard module."""
        return assemble_result(
            self.build_member_model(i),
            self.configs[i],
            self.task,
            self.histories[i],
            self.stoppers[i],
            self._status[i],
            self._reason[i],
            self._seconds[i],
            self.Xva,
            self._constant_loss(i),
        )

    def _constant_loss(self, i: int) -> ConstantLoss | None:
        """Member ``i``'s loss of the best constant prediction, as the single trainer's diagnostics use it; one
        fit per loss setting of the population (members nearly always share it)."""
        cfg = self.configs[i]
        weighted = cfg.class_weight != "none"
        key = (resolve_loss(cfg, self.task), cfg.label_smoothing, cfg.huber_delta, weighted)
        if key not in self._constant_cache:
            loss_fn = make_loss(cfg, self.task, self._class_w if weighted else None)
            self._constant_cache[key] = constant_loss(loss_fn, self.n_out, self.ytr, self.yva, self.task)
        return self._constant_cache[key]

    # ------------------------------------------------------------------ calibration
    def time_steps(
        self, n_steps: int = 5, warmup: int = 2, clock: Callable[[], float] = time.perf_counter
    ) -> float:
        """Median seconds of one training step of the whole population (changes the weights: a throwaway)."""
        n = self.Xtr.shape[0]
        idx = torch.arange(min(self.batch_size, n), device=self.device)
        times = []
        for j in range(warmup + n_steps):
            t0 = clock()
            _, gn = self._train_step(idx)
            float(gn.sum())  # a host sync, as at the end of an epoch, so CUDA timings are real
            if j >= warmup:
                times.append(clock() - t0)
        return float(np.median(times))
