"""The field's classic optimisation problems, found in a training history, each with evidence and a remedy.

The rules are deliberately simple and stated in numbers so a user can check them against the history.  "The
constant's loss" is the loss of the best constant prediction (the class prior, the training mean), which the
trainer computes on the training and the validation rows (:func:`constant_loss`):

* vanishing gradients: the first layer's gradient norm is < 1e-3 of the last layer's, as the median over the
  epochs or in >= 3 consecutive epochs (an early stretch counts: Adam may break free later).  Epochs where the
  last layer has no gradient, or the first layer's is exactly 0, do not count: such units are dead or saturated
  (after an explosion, typically), not vanishing;
* exploding gradients: a non-finite loss or gradient, gradient norms growing by >= 3 orders of magnitude, a
  gradient norm above 1e6 (an lr so large that the first epoch already explodes), or a loss above 1e3 (a
  cross-entropy or standardised squared error that large: unscaled inputs or a far too large step).  Norms are
  measured before clipping.  The evidence adds a first layer left with no gradient and a final loss above the
  constant's;
* unstable training: the training loss jumps up by >= 50 % from one epoch to the next, by more than a tenth of
  its median and 2 % of its first epochs' level, while the validation loss rises by >= 10 % at the same epoch,
  at least twice (a learning rate too large for the loss surface; it may never diverge).  The validation loss
  is computed without dropout on fixed weights: a training loss that jumps alone is the noise of dropout
  and of a few mini-batches per epoch, not a bad step;
* dead ReLU units: a hidden layer where >= 50 % of the units are never active on a validation batch;
* stuck at the constant: the training and the validation loss both stay within 2 % of the constant's loss for
  >= 5 consecutive epochs, or for the last half of the run (the network predicts the class prior or the mean
  and ignores the features).  An info, not a warning, where the training loss later falls below that band and
  the validation loss never does: the features hold nothing that generalises (pure noise), which no setting
  of the optimiser changes;
* plateau / saddle: >= 6 epochs where the training loss stays within a 1.5 % band (jitter from epoch to epoch
  is tolerated) while it is no lower than 97 % of its first epoch's or 98 % of the constant's loss, and the
  validation loss does not fall by 4.5 % meanwhile (dropout can hold a learning network's training loss flat).
  A loss that fell and then levelled off below both has converged, and converging is not a problem;
* overfitting: validation loss >= 20 % above its best while the training loss kept falling (below its value
  at the best epoch, without a jump up on the way: a jumping loss is unstable training, not overfitting).  A
  warning where it ends >= 2x its best or above the constant's loss (gross overfitting), else an info (early
  stopping kept the best epoch's weights; this is its normal case).

Remedies name the settings to change as ``name=value`` with values derived from the run's own (its lr, batch
size, dropout, widths), as ``--set`` takes them and the estimators' parameters are spelt.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect.tasks import Task
from hyperselect.train.history import History

VANISHING_RATIO = 1e-3
VANISHING_EPOCHS = 3  # ... in this many consecutive epochs (or as the median over all)
EXPLODING_GROWTH = 1e3
EXPLODING_ABS = 1e6  # a gradient norm this large is explosion whatever it started from
#: a cross-entropy or a squared error on the standardised target this large means outputs blew up (an untrained
#: network starts near ln(classes) or 1)
EXPLODING_LOSS = 1e3
DEAD_FRACTION = 0.5
STUCK_TOL = 0.02  # a loss within this share of the constant's is the constant's
STUCK_EPOCHS = 5
PLATEAU_EPOCHS = 5
PLATEAU_BAND = 0.015  # the training loss stays within this band (max / min - 1) ...
#: ... while no lower than this fraction of the first epoch's loss (or 1 - STUCK_TOL of the constant's)
PLATEAU_NEAR_START = 0.97
OVERFIT_RISE = 1.2
OVERFIT_GROSS = 2.0  # a validation loss this multiple of its best is gross overfitting (a warning)
UNSTABLE_JUMP = 1.5  # an epoch's training loss at least this multiple of the previous epoch's ...
UNSTABLE_SCALE = 0.1  # ... and higher by more than this share of the median training loss
UNSTABLE_START = 0.02  # ... and by more than this share of the first three epochs' median
UNSTABLE_VALID_RISE = 1.1  # ... while the validation loss rose by this factor at the same epoch
UNSTABLE_JUMPS = 2  # ... this many times
CONSTANT_FIT_ROWS = (
    20_000  # the constant is fitted and scored on at most this many (evenly spaced) rows of each
)
# split: a 100k-row fit cost 0.13-1.4 s per trial (10-100 classes), and the loss of a constant on 20k rows is
# within a fraction of a percent of the whole split's

RELU_FAMILY = ("relu",)
_RELU_LIKE = ("relu", "leaky_relu", "elu", "gelu", "selu")


@dataclass
class Finding:
    # vanishing_gradients | exploding_gradients | unstable_training | dead_relu | stuck_at_constant | plateau |
    # overfitting
    kind: str
    severity: str  # "warning" or "info"
    evidence: str
    remedy: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConstantLoss:
    """The loss of the best constant prediction on the training and the validation rows; ``what`` names it
    ("the class prior", "the training mean")."""

    train: float
    valid: float
    what: str


def constant_loss(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    n_out: int,
    y_train: torch.Tensor,
    y_valid: torch.Tensor,
    task: Task | str,
) -> ConstantLoss | None:
    """The run's own loss (class weights, label smoothing, Huber included) of the constant output that minimises
    it on the training rows: for cross-entropy the log of the class prior, for MSE the mean (its loss the
    target's variance).  Fitted by L-BFGS on a convex problem of ``n_out`` numbers; None where it cannot be."""
    task = Task(task)
    what = {
        Task.REGRESSION: "the training mean",
        Task.MULTILABEL: "each label's training rate",
    }.get(task, "the class prior")
    n = int(y_train.shape[0])
    if n == 0 or int(y_valid.shape[0]) == 0:
        return None
    rows = y_train[:: -(-n // CONSTANT_FIT_ROWS)]
    try:
        with torch.enable_grad():
            c = torch.zeros(n_out, dtype=torch.float64, device=y_train.device, requires_grad=True)
            opt = torch.optim.LBFGS(
                [c],
                lr=1.0,
                max_iter=100,
                tolerance_grad=1e-10,
                tolerance_change=1e-12,
                line_search_fn="strong_wolfe",
            )

            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = loss_fn(c.expand(rows.shape[0], n_out), rows)
                loss.backward()
                return loss

            opt.step(closure)  # type: ignore[no-untyped-call]
        with torch.no_grad():
            const = c.detach()
            nv = int(y_valid.shape[0])
            valid = y_valid[:: -(-nv // CONSTANT_FIT_ROWS)]
            lt = float(loss_fn(const.expand(rows.shape[0], n_out), rows))
            lv = float(loss_fn(const.expand(valid.shape[0], n_out), valid))
    except (RuntimeError, ValueError):  # a diagnostic aid must never fail a run
        return None
    if not (math.isfinite(lt) and math.isfinite(lv)):
        return None
    return ConstantLoss(lt, lv, what)


@torch.no_grad()
def activation_stats(model: nn.Module, X: torch.Tensor) -> list[dict[str, float]]:
    """Per hidden activation: the fraction of units never active (output <= 0) and saturated on ``X``."""
    acts = getattr(model, "activations", None)
    if acts is None:
        return []
    outputs: list[torch.Tensor] = []
    hooks = [a.register_forward_hook(lambda _m, _i, o: outputs.append(o.detach())) for a in acts]
    was_training = model.training
    model.eval()
    try:
        model(X)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    stats = []
    for o in outputs:
        flat = o.transpose(0, 1).reshape(o.shape[1], -1) if o.dim() > 2 else o.T  # units x samples
        never_active = (flat <= 0).all(dim=1).float().mean().item()
        saturated = ((flat.abs() > 0.99).float().mean(dim=1) > 0.99).float().mean().item()
        stats.append({"dead_fraction": never_active, "saturated_fraction": saturated})
    return stats


def _finite(xs: list[float]) -> list[float]:
    return [x for x in xs if math.isfinite(x)]


def _jumps(tl: list[float], vl: list[float] | None = None) -> list[int]:
    """Epoch indices where the training loss jumped up (see :data:`UNSTABLE_JUMP`) and, where the validation
    losses ``vl`` are given, the validation loss rose too (see :data:`UNSTABLE_VALID_RISE`)."""
    if len(tl) < 3:
        return []
    # a jump must matter at the loss's own scale and at its starting scale: a memorising run's loss near zero
    # doubling (0.004 -> 0.009) is no instability
    scale = max(UNSTABLE_SCALE * float(np.median(tl)), UNSTABLE_START * float(np.median(tl[:3])))
    valid = vl if vl is not None and len(vl) == len(tl) else None
    return [
        i + 1
        for i, (a, b) in enumerate(itertools.pairwise(tl))
        if b >= UNSTABLE_JUMP * a
        and b - a > scale
        # weights that got worse show in the validation loss (no dropout, all rows); dropout and a few
        # mini-batches make the training loss alone jump
        and (valid is None or not valid[i + 1] < UNSTABLE_VALID_RISE * valid[i])
    ]


def _runs(flags: list[bool] | np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest stretch of True in ``flags`` (the first of equals; length 0 if none)."""
    best, start, run = (0, 0), 0, 0
    for i, f in enumerate(flags):
        if f:
            if run == 0:
                start = i
            run += 1
            if run > best[1]:
                best = (start, run)
        else:
            run = 0
    return best


def _band(tl: list[float], band: float, ok: list[bool]) -> tuple[int, int]:
    """(start, length) of the longest stretch of ``tl`` over epochs where ``ok`` holds whose largest value is
    within ``band`` of its smallest."""
    best = (0, 0)
    for i in range(len(tl)):
        if not ok[i]:
            continue
        lo = hi = tl[i]
        j = i
        while j + 1 < len(tl) and ok[j + 1] and max(hi, tl[j + 1]) <= (1 + band) * min(lo, tl[j + 1]):
            j += 1
            lo, hi = min(lo, tl[j]), max(hi, tl[j])
        if j - i + 1 > best[1]:
            best = (i, j - i + 1)
        if j == len(tl) - 1:
            break  # no later start can be longer
    return best


def _lr_value(h: History, config: Any) -> float | None:
    lrs = _finite(list(h.lr))
    if lrs:
        return lrs[-1]
    lr = getattr(config, "lr", None)
    return float(lr) if lr is not None else None


def _lr_now(h: History, config: Any = None) -> str:
    lr = _lr_value(h, config)
    return f" (now {lr:.3g})" if lr is not None else ""


def _g(x: float) -> str:
    """A setting's value as a user types it: 0.003, 1e-05, 0.3."""
    return f"{float(f'{x:.2g}'):g}"


def _lr_to(h: History, config: Any, factor: float) -> str:
    """'lr=X': the current lr times ``factor`` (or the factor, where the lr is unknown)."""
    lr = _lr_value(h, config)
    return f"lr={_g(lr * factor)}" if lr is not None else f"the learning rate x{_g(factor)}"


def _lr_range(h: History, config: Any, lo: float, hi: float) -> str:
    """'lr=A to lr=B (now C)': the current lr times ``lo`` and ``hi``."""
    return f"{_lr_to(h, config, lo)} to {_lr_to(h, config, hi)}{_lr_now(h, config)}"


def _smaller_hidden(config: Any) -> str | None:
    hidden = getattr(config, "hidden", None)
    if not hidden:
        return None
    return "hidden=" + ",".join(str(max(1, int(w) // 2)) for w in hidden)


def _regularise(config: Any) -> list[str]:
    """More dropout, more weight decay and half the widths, as settings, from the run's own values."""
    dropout = float(getattr(config, "dropout", 0.0) or 0.0)
    wd = float(getattr(config, "weight_decay", 0.0) or 0.0)
    steps = []
    if dropout < 0.5:
        steps.append(f"dropout={_g(0.3 if dropout < 0.3 else min(0.5, dropout + 0.2))}")
    steps.append(f"weight_decay={_g(wd * 10) if wd > 0 else '0.0001'}")
    smaller = _smaller_hidden(config)
    if smaller is not None:
        steps.append(smaller)
    return steps


def _epochs(h: History, first: int, last: int) -> str:
    return f"epoch {h.epoch[first]}" if first == last else f"epochs {h.epoch[first]}-{h.epoch[last]}"


def diagnose(
    history: History | dict[str, Any],
    activation: str,
    act_stats: list[dict[str, float]] | None = None,
    status: str = "",
    config: Any = None,
    constant: ConstantLoss | None = None,
) -> list[Finding]:
    """Findings for one training run (history of a single network or of one population member).

    ``config`` (the run's :class:`~hyperselect.nn.MLPConfig` or CNN config), where given, tailors the remedies:
    clipping is not advised where it is on, another activation not where a ReLU-family one is used, values are
    derived from the run's own, and a CNN's activations are named as its convolution blocks.  ``constant`` (see
    :func:`constant_loss`), where given, lets the rules compare the losses with a constant prediction's."""
    h = history if isinstance(history, History) else History.from_dict(history)
    findings: list[Finding] = []
    gn = (
        np.array([row for row in h.grad_norms if len(row)], dtype=float) if h.grad_norms else np.zeros((0, 0))
    )
    clip = getattr(config, "grad_clip", None)
    norm = getattr(config, "norm", "none")
    optimizer = getattr(config, "optimizer", None)
    cnn = getattr(config, "arch", "mlp") == "cnn"
    relu = activation in _RELU_LIKE
    tl_all = list(h.train_loss)
    vl_all = list(h.valid_loss)
    # a first layer with exactly no gradient while the last has one: dead or saturated units, not vanishing
    # (ELU units pushed to -1 by an explosion pass no gradient back)
    first_zero = (
        (gn[:, 0] == 0) & (gn[:, -1] > 1e-12)
        if gn.size and gn.shape[1] >= 2 and np.isfinite(gn).all()
        else np.zeros(0, dtype=bool)
    )

    # exploding: non-finite values, or growth by orders of magnitude
    nonfinite_train = any(not math.isfinite(x) for x in tl_all)
    nonfinite_valid = any(not math.isfinite(x) for x in vl_all)
    nonfinite_loss = nonfinite_train or nonfinite_valid or status == "diverged"
    nonfinite_grad = gn.size > 0 and not np.isfinite(gn).all()
    growth = 0.0
    if gn.size and gn.shape[0] >= 2 and np.isfinite(gn).all():
        per_epoch = gn.max(axis=1)
        first = max(per_epoch[0], 1e-12)
        growth = float(per_epoch.max() / first)
    largest = (
        float(np.nanmax(np.where(np.isfinite(gn), gn, np.nan))) if gn.size and np.isfinite(gn).any() else 0.0
    )
    finite_losses = _finite([*tl_all, *vl_all])
    huge_loss = max(finite_losses) if finite_losses else 0.0
    exploded = (
        nonfinite_loss
        or nonfinite_grad
        or growth >= EXPLODING_GROWTH
        or largest >= EXPLODING_ABS
        or huge_loss >= EXPLODING_LOSS
    )
    if exploded:
        which = "training" if huge_loss in _finite(tl_all) else "validation"
        what = (
            "the training loss became NaN/inf"
            if nonfinite_train
            else "the validation loss became NaN/inf"
            if nonfinite_valid
            else "a gradient norm became NaN/inf"
            if nonfinite_grad
            else "the run diverged"
            if status == "diverged" and growth < EXPLODING_GROWTH and largest < EXPLODING_ABS
            else f"the largest gradient norm grew {growth:.3g}x over training"
            if growth >= EXPLODING_GROWTH
            else f"a gradient norm reached {largest:.3g}"
            if largest >= EXPLODING_ABS
            else f"the {which} loss reached {huge_loss:.3g} (an untrained network starts near 1: the outputs blew up)"
        )
        if clip is not None and not nonfinite_loss:
            what += f" (measured before clipping at {clip:g}: each step was bounded, the gradients were not)"
        n_zero = int(first_zero.sum())
        if n_zero:
            zero_at = np.flatnonzero(first_zero)
            what += (
                f"; afterwards the first layer's gradient was exactly 0 in {n_zero} epoch"
                f"{'' if n_zero == 1 else 's'} ({_epochs(h, int(zero_at[0]), int(zero_at[-1]))}): its units are "
                "dead or saturated by the blow-up, not vanishing"
            )
        last_valid = _finite(vl_all)
        worse = (
            constant is not None and bool(last_valid) and last_valid[-1] > (1 + STUCK_TOL) * constant.valid
        )
        if worse:
            assert constant is not None
            what += (
                f"; the last validation loss {last_valid[-1]:.4g} is above the {constant.valid:.4g} of predicting "
                f"{constant.what}: the network does worse than a constant"
            )
        steps = [f"Lower the learning rate: {_lr_to(h, config, 0.1)}{_lr_now(h, config)}"]
        if clip is None:
            steps.append("clip gradients (grad_clip=1.0)")
        if norm == "none":
            steps.append("add normalisation (norm=batch or norm=layer)")
        remedy_text = ", ".join(steps[:-1]) + (" or " if len(steps) > 1 else "") + steps[-1]
        findings.append(
            Finding(
                "exploding_gradients",
                "warning",
                f"Exploding gradients: {what}.",
                remedy_text + "; features in very different units should be standardised.",
                {
                    "growth": growth,
                    "largest_norm": largest,
                    "largest_loss": huge_loss,
                    "nonfinite": "train_loss"
                    if nonfinite_train
                    else "valid_loss"
                    if nonfinite_valid
                    else "gradient"
                    if nonfinite_grad
                    else None,
                    "first_layer_zero_epochs": n_zero,
                    "worse_than_constant": worse,
                },
            )
        )

    # unstable: the training loss jumps up again and again (too large a step), whether or not it explodes
    if not exploded:
        jumps = _jumps(tl_all, vl_all)
        if len(jumps) >= UNSTABLE_JUMPS:
            shown = ", ".join(
                f"epoch {h.epoch[i]}: {tl_all[i - 1]:.4g} -> {tl_all[i]:.4g} (validation {vl_all[i - 1]:.4g} -> "
                f"{vl_all[i]:.4g})"
                for i in jumps[:3]
            )
            bs = getattr(config, "batch_size", None)
            findings.append(
                Finding(
                    "unstable_training",
                    "warning",
                    f"Unstable training: the training loss jumped up {len(jumps)} times, the validation loss with "
                    f"it ({shown}{', ...' if len(jumps) > 3 else ''}); the steps are too large for the loss "
                    "surface.",
                    f"Lower the learning rate: {_lr_range(h, config, 1 / 3, 0.1)}"
                    + (", clip gradients (grad_clip=1.0)" if clip is None else "")
                    + (
                        f", or use a larger batch (batch_size={2 * int(bs)})."
                        if bs
                        else ", or use a larger batch_size."
                    ),
                    {"jumps": len(jumps), "epochs": [h.epoch[i] for i in jumps]},
                )
            )

    # vanishing: first layer far weaker than the last, as the median over the epochs where both have a gradient,
    # or over a stretch of consecutive epochs (early on, typically: Adam may break free later)
    if gn.size and gn.shape[1] >= 3 and np.isfinite(gn).all():
        usable = (gn[:, -1] > 1e-12) & (gn[:, 0] > 0)
        if usable.any():
            ratios = np.where(usable, gn[:, 0] / np.where(usable, gn[:, -1], 1.0), np.nan)
            median = float(np.nanmedian(ratios))
            start, length = _runs(usable & (ratios < VANISHING_RATIO))
            n_usable = int(usable.sum())
            stretch = length >= VANISHING_EPOCHS
            if median < VANISHING_RATIO or stretch:
                remedy = (
                    "Add normalisation (norm=batch or norm=layer), He initialisation (init=he), or use fewer "
                    "layers."
                    if relu
                    else "Use a ReLU-family activation in hidden layers (activation=relu) with He initialisation "
                    "(init=he), add normalisation (norm=batch), or use fewer layers."
                )
                seg = ratios[start : start + length]
                if median < VANISHING_RATIO:
                    text = (
                        f"the first layer's gradient norm is {median:.2e} of the last layer's (median over "
                        f"{n_usable} epochs)"
                    )
                    ratio = median
                else:
                    ratio = float(np.median(seg))
                    text = (
                        f"the first layer's gradient norm was {float(seg.min()):.2e} to {float(seg.max()):.2e} of "
                        f"the last layer's for {length} consecutive epochs "
                        f"({_epochs(h, start, start + length - 1)}; median over all {n_usable} epochs {median:.2e})"
                    )
                findings.append(
                    Finding(
                        "vanishing_gradients",
                        "warning",
                        f"Vanishing gradients: {text} across {gn.shape[1]} layers.",
                        remedy,
                        {
                            "ratio": ratio,
                            "median_ratio": median,
                            "epochs": length,
                            "first_epoch": h.epoch[start] if length else None,
                        },
                    )
                )

    # dead ReLUs
    if act_stats and activation in RELU_FAMILY:
        worst = max(range(len(act_stats)), key=lambda i: act_stats[i]["dead_fraction"])
        frac = act_stats[worst]["dead_fraction"]
        if frac >= DEAD_FRACTION:
            where = (
                f"convolution block {worst + 1}'s channels"
                if cnn
                else f"the units of hidden layer {worst + 1}"
            )
            findings.append(
                Finding(
                    "dead_relu",
                    "warning",
                    f"Dead ReLU units: {frac:.0%} of {where} are never active on a validation batch.",
                    f"Switch to activation=leaky_relu or activation=elu, or lower the learning rate{_lr_now(h)}; "
                    "re-initialising (init=he) alone rarely helps once the learning rate kills them.",
                    {"layer": worst + 1, "dead_fraction": frac},
                )
            )

    # how to get a network off a constant or a flat stretch: the remedies that fit this run's settings
    vanishing = any(f.kind == "vanishing_gradients" for f in findings)
    moves = []
    if vanishing or activation in ("sigmoid", "tanh"):
        moves.append("activation=relu with init=he" if not relu else "init=he")
    if norm == "none":
        moves.append("norm=batch")
    if optimizer == "sgd":
        moves.append(f"optimizer=adam, or {_lr_to(h, config, 10)}{_lr_now(h, config)}")
    else:
        moves.append(f"a higher learning rate, {_lr_range(h, config, 3, 10)}")
    no_signal = " If a linear model does no better either, the features may hold no signal for this target."

    # stuck at the constant: training and validation loss where predicting the prior (or the mean) puts them
    stuck_span: tuple[int, int] | None = None
    if constant is not None and not exploded and constant.train > 1e-6 and constant.valid > 1e-6:
        n = min(len(tl_all), len(vl_all))
        at = [
            abs(tl_all[i] - constant.train) <= STUCK_TOL * constant.train
            and abs(vl_all[i] - constant.valid) <= STUCK_TOL * constant.valid
            for i in range(n)
        ]
        start, length = _runs(at)
        at_end = length >= 2 and start + length == n and 2 * length >= n
        if length >= STUCK_EPOCHS or at_end:
            end = start + length - 1
            stuck_span = (start, end)
            span = tl_all[start : end + 1]
            fitted = min(tl_all[end + 1 : n], default=math.inf) < (1 - STUCK_TOL) * constant.train
            generalised = min(vl_all[:n]) < (1 - STUCK_TOL) * constant.valid
            # the training rows fitted later, the validation rows never: nothing to learn that generalises (pure
            # noise), which no optimiser setting changes
            no_signal_found = fitted and not generalised
            if no_signal_found:
                later = (
                    f"; later the training loss fell to {min(tl_all[end + 1 : n]):.4g} but the validation loss never "
                    f"went below {1 - STUCK_TOL:.0%} of the constant's (best {min(vl_all[:n]):.4g}): the network "
                    "memorised the training rows and found nothing that generalises"
                )
            elif end < n - 1:
                later = f"; it left it later (last epoch: training loss {tl_all[-1]:.4g}, validation {vl_all[n - 1]:.4g})"
            else:
                later = "; the run ended there"
            findings.append(
                Finding(
                    "stuck_at_constant",
                    "info" if no_signal_found else "warning",
                    f"Learned nothing: for {length} epoch{'' if length == 1 else 's'} ({_epochs(h, start, end)}) "
                    f"the training loss ({min(span):.4g}-{max(span):.4g}) and the validation loss stayed within "
                    f"{STUCK_TOL:.0%} of the loss of predicting {constant.what} ({constant.train:.4g} on the "
                    f"training rows, {constant.valid:.4g} on the validation rows): the network did no better than "
                    f"predicting {constant.what} without the features{later}.",
                    (
                        "The features may hold no signal for this target: if a linear model does no better than a "
                        "constant either, no setting will help; otherwise regularise ("
                        + ", ".join(_regularise(config))
                        + ")."
                    )
                    if no_signal_found
                    else "Any of: " + "; ".join(moves) + "." + no_signal,
                    {
                        "epochs": length,
                        "first_epoch": h.epoch[start],
                        "last_epoch": h.epoch[end],
                        "constant_train_loss": constant.train,
                        "constant_valid_loss": constant.valid,
                        "ended_there": end == n - 1,
                        "no_signal_found": no_signal_found,
                    },
                )
            )

    # plateau: a flat loss that has hardly come down from where it started or from a constant's (not a run that
    # has converged below them); jitter within the band is tolerated
    tl = _finite(tl_all)
    if len(tl) >= PLATEAU_EPOCHS + 1 and not exploded and len(tl) == len(tl_all):
        near_start = [x >= PLATEAU_NEAR_START * tl[0] for x in tl]
        near_constant = [constant is not None and x >= (1 - STUCK_TOL) * constant.train for x in tl]
        start, length = _band(
            tl, PLATEAU_BAND, [a or b for a, b in zip(near_start, near_constant, strict=True)]
        )
        end = start + length - 1
        level = float(np.mean(tl[start : end + 1])) if length else 0.0
        ref_text = (
            f"within {1 - PLATEAU_NEAR_START:.0%} of the first epoch's {tl[0]:.4g}"
            if level >= PLATEAU_NEAR_START * tl[0] or constant is None
            else f"no lower than {1 - STUCK_TOL:.0%} of the {constant.train:.4g} of predicting {constant.what}"
        )
        overlaps = stuck_span is not None and start <= stuck_span[1] and stuck_span[0] <= end
        # a training loss flat under dropout's noise while the validation loss keeps falling is no stall
        vl_span = vl_all[start : end + 1]
        learning = len(vl_span) == length and length > 0 and vl_span[-1] < (1 - 3 * PLATEAU_BAND) * vl_span[0]
        if length - 1 >= PLATEAU_EPOCHS and not overlaps and not learning:
            escaped = tl[-1] < PLATEAU_NEAR_START * level
            findings.append(
                Finding(
                    "plateau",
                    "warning",
                    f"Plateau: the training loss stayed within {PLATEAU_BAND:.1%} for {length} epochs "
                    f"({_epochs(h, start, end)}) at about {level:.4g}, {ref_text}"
                    + (f"; it left the plateau later (last epoch {tl[-1]:.4g})." if escaped else "."),
                    "Any of: "
                    + "; ".join(moves)
                    + "; if gradients are also vanishing, change the activation."
                    + no_signal,
                    {
                        "epochs": length,
                        "first_epoch": h.epoch[start],
                        "last_epoch": h.epoch[end],
                        "level": level,
                    },
                )
            )

    # overfitting: valid rising while train falls (steadily: a jumping training loss is instability)
    vl = vl_all
    if len(vl) >= 3 and all(math.isfinite(v) for v in vl) and len(vl) == len(tl_all):
        best = int(np.argmin(vl))
        after = tl_all[best:]
        steady = bool(after) and max(after) <= OVERFIT_RISE * after[0] and not _jumps(after, vl[best:])
        if best < len(vl) - 1 and vl[-1] >= OVERFIT_RISE * vl[best] and tl_all[-1] < tl_all[best] and steady:
            rise = vl[-1] / vl[best]
            above_constant = constant is not None and vl[-1] > (1 + STUCK_TOL) * constant.valid
            gross = rise >= OVERFIT_GROSS or above_constant
            head = (
                f"Overfitting: the validation loss rose from {vl[best]:.4g} (epoch {h.epoch[best]}) to {vl[-1]:.4g} "
                f"({rise:.2f}x) while the training loss kept falling ({tl_all[best]:.4g} -> {tl_all[-1]:.4g})"
            )
            if gross:
                assert constant is not None or rise >= OVERFIT_GROSS
                why = (
                    f"above the {constant.valid:.4g} of predicting {constant.what}"
                    if above_constant and constant is not None
                    else f"at least {OVERFIT_GROSS:g}x its best"
                )
                evidence = (
                    f"{head}: gross overfitting, the last validation loss is {why}; the weights of the best epoch "
                    "were kept, but the network memorises the training rows."
                )
                remedy = (
                    "Regularise: "
                    + ", ".join(_regularise(config))
                    + " (each alone or together), or more data; a linear model may do as well."
                )
            else:
                evidence = (
                    f"{head}; mild (below {OVERFIT_GROSS:g}x its best), as an early stop sees it: the weights of "
                    "the best epoch were kept, so this is handled."
                )
                remedy = (
                    "Nothing is needed; to train longer before it starts: "
                    + " or ".join(_regularise(config)[:2])
                    + "."
                )
            findings.append(
                Finding(
                    "overfitting",
                    "warning" if gross else "info",
                    evidence,
                    remedy,
                    {"best_epoch": h.epoch[best], "rise": rise, "gross": gross},
                )
            )
    return findings
