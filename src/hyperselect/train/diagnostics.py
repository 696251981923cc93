"""The field's classic optimisation problems, found in a training history, each with evidence and a remedy.

The rules are deliberately simple and stated in numbers so a user can check them against the history:

* vanishing gradients: the first layer's gradient norm is < 1e-3 of the last layer's (median over the epochs
  where the last layer has a gradient at all: where every gradient is zero the units are dead, not vanishing);
* exploding gradients: a non-finite loss or gradient, gradient norms growing by >= 3 orders of magnitude, a
  gradient norm above 1e6 (an lr so large that the first epoch already explodes), or a loss above 1e3 (a
  cross-entropy or standardised squared error that large: unscaled inputs or a far too large step).  Norms are measured before
  clipping;
* unstable training: the training loss jumps up by >= 50 % from one epoch to the next, by more than a tenth of
  its median and 2 % of its first epochs' level, at least twice (a learning rate too large for the loss surface; it may never diverge);
* dead ReLU units: a hidden layer where >= 50 % of the units are never active on a validation batch;
* plateau / saddle: >= 5 epochs where the training loss moves < 0.1 % per epoch while still within 3 % of its
  first epoch's value (the network has hardly learned: a loss that fell and then levelled off has converged,
  and converging is not a problem -- a linear model on noisy labels stops at 0.62 from 0.71, or at 0.675 from
  0.73);
* overfitting: validation loss >= 20 % above its best while the training loss kept falling (below its value
  at the best epoch, without a jump up on the way: a jumping loss is unstable training, not overfitting).

Remedies name the settings to change as ``name=value``, as ``--set`` takes them and the estimators'
parameters are spelt.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect.train.history import History

VANISHING_RATIO = 1e-3
EXPLODING_GROWTH = 1e3
EXPLODING_ABS = 1e6  # a gradient norm this large is explosion whatever it started from
#: a cross-entropy or a squared error on the standardised target this large means outputs blew up (an untrained
#: network starts near ln(classes) or 1)
EXPLODING_LOSS = 1e3
DEAD_FRACTION = 0.5
PLATEAU_EPOCHS = 5
PLATEAU_REL_CHANGE = 1e-3
PLATEAU_NEAR_START = 0.97  # flat while the loss is still above this fraction of its first epoch's value
OVERFIT_RISE = 1.2
UNSTABLE_JUMP = 1.5  # an epoch's training loss at least this multiple of the previous epoch's ...
UNSTABLE_SCALE = 0.1  # ... and higher by more than this share of the median training loss
UNSTABLE_START = 0.02  # ... and by more than this share of the first three epochs' median
UNSTABLE_JUMPS = 2  # ... this many times

RELU_FAMILY = ("relu",)


@dataclass
class Finding:
    kind: str  # vanishing_gradients | exploding_gradients | unstable_training | dead_relu | plateau | overfitting
    severity: str  # "warning" or "info"
    evidence: str
    remedy: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def _jumps(tl: list[float]) -> list[int]:
    """Epoch indices where the training loss jumped up (see :data:`UNSTABLE_JUMP`)."""
    if len(tl) < 3:
        return []
    # a jump must matter at the loss's own scale and at its starting scale: a memorising run's loss near zero
    # doubling (0.004 -> 0.009) is no instability
    scale = max(UNSTABLE_SCALE * float(np.median(tl)), UNSTABLE_START * float(np.median(tl[:3])))
    return [
        i + 1 for i, (a, b) in enumerate(itertools.pairwise(tl)) if b >= UNSTABLE_JUMP * a and b - a > scale
    ]


def _lr_now(h: History) -> str:
    lrs = _finite(list(h.lr))
    return f" (now {lrs[-1]:.3g})" if lrs else ""


def diagnose(
    history: History | dict[str, Any],
    activation: str,
    act_stats: list[dict[str, float]] | None = None,
    status: str = "",
    config: Any = None,
) -> list[Finding]:
    """Findings for one training run (history of a single network or of one population member).

    ``config`` (the run's :class:`~hyperselect.nn.MLPConfig` or CNN config), where given, tailors the remedies:
    clipping is not advised where it is on, another activation not where a ReLU-family one is used, and a CNN's
    activations are named as its convolution blocks."""
    h = history if isinstance(history, History) else History.from_dict(history)
    findings: list[Finding] = []
    gn = (
        np.array([row for row in h.grad_norms if len(row)], dtype=float) if h.grad_norms else np.zeros((0, 0))
    )
    clip = getattr(config, "grad_clip", None)
    norm = getattr(config, "norm", "none")
    cnn = getattr(config, "arch", "mlp") == "cnn"

    # exploding: non-finite values, or growth by orders of magnitude
    nonfinite_train = any(not math.isfinite(x) for x in h.train_loss)
    nonfinite_valid = any(not math.isfinite(x) for x in h.valid_loss)
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
    finite_losses = _finite([*h.train_loss, *h.valid_loss])
    huge_loss = max(finite_losses) if finite_losses else 0.0
    if (
        nonfinite_loss
        or nonfinite_grad
        or growth >= EXPLODING_GROWTH
        or largest >= EXPLODING_ABS
        or huge_loss >= EXPLODING_LOSS
    ):
        which = "training" if huge_loss in _finite(list(h.train_loss)) else "validation"
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
        steps = [f"Lower the learning rate{_lr_now(h)} by 10x"]
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
                },
            )
        )

    # unstable: the training loss jumps up again and again (too large a step), whether or not it explodes
    tl_all = list(h.train_loss)
    if not nonfinite_loss and not any(f.kind == "exploding_gradients" for f in findings):
        jumps = _jumps(tl_all)
        if len(jumps) >= UNSTABLE_JUMPS:
            shown = ", ".join(
                f"epoch {h.epoch[i]}: {tl_all[i - 1]:.4g} -> {tl_all[i]:.4g}" for i in jumps[:3]
            )
            findings.append(
                Finding(
                    "unstable_training",
                    "warning",
                    f"Unstable training: the training loss jumped up {len(jumps)} times ({shown}"
                    f"{', ...' if len(jumps) > 3 else ''}); the steps are too large for the loss surface.",
                    f"Lower the learning rate{_lr_now(h)} by 3-10x"
                    + (", clip gradients (grad_clip=1.0)" if clip is None else "")
                    + ", or use a larger batch_size.",
                    {"jumps": len(jumps), "epochs": [h.epoch[i] for i in jumps]},
                )
            )

    # vanishing: first layer far weaker than the last, over the epochs where the last layer has a gradient
    if gn.size and gn.shape[1] >= 3 and np.isfinite(gn).all():
        alive = gn[:, -1] > 1e-12
        if alive.any():
            ratio = float(np.median(gn[alive, 0] / gn[alive, -1]))
            if ratio < VANISHING_RATIO:
                relu = activation in ("relu", "leaky_relu", "elu", "gelu", "selu")
                remedy = (
                    "Add normalisation (norm=batch or norm=layer), He initialisation (init=he), or use fewer "
                    "layers."
                    if relu
                    else "Use a ReLU-family activation in hidden layers (activation=relu) with He initialisation "
                    "(init=he), add normalisation (norm=batch), or use fewer layers."
                )
                findings.append(
                    Finding(
                        "vanishing_gradients",
                        "warning",
                        f"Vanishing gradients: the first layer's gradient norm is {ratio:.2e} of the last layer's "
                        f"(median over {int(alive.sum())} epochs) across {gn.shape[1]} layers.",
                        remedy,
                        {"ratio": ratio},
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

    # plateau: a flat loss that has hardly come down from where it started (not a run that has converged)
    tl = _finite(tl_all)
    if len(tl) >= PLATEAU_EPOCHS + 1 and not nonfinite_loss:
        run, longest, end = 0, 0, 0
        for i, (a, b) in enumerate(itertools.pairwise(tl)):
            flat = abs(b - a) / max(abs(a), 1e-12) < PLATEAU_REL_CHANGE and b > PLATEAU_NEAR_START * tl[0]
            run = run + 1 if flat else 0
            if run > longest:
                longest, end = run, i + 1
        if longest >= PLATEAU_EPOCHS:
            first_flat = end - longest
            level = float(np.mean(tl[first_flat : end + 1]))
            escaped = tl[-1] < PLATEAU_NEAR_START * level
            findings.append(
                Finding(
                    "plateau",
                    "warning",
                    f"Plateau: the training loss moved less than {PLATEAU_REL_CHANGE:.1%} per epoch for {longest} "
                    f"epochs (epochs {h.epoch[first_flat]}-{h.epoch[end]}) at about {level:.4g}, within "
                    f"{1 - PLATEAU_NEAR_START:.0%} of the first epoch's {tl[0]:.4g}"
                    + (f"; it left the plateau later (last epoch {tl[-1]:.4g})." if escaped else "."),
                    f"Raise the learning rate{_lr_now(h)} or use optimizer=adam, re-initialise (init=he), or add "
                    "normalisation (norm=batch); if gradients are also vanishing, change the activation. If a "
                    "linear model does no better, the features may hold little signal.",
                    {
                        "epochs": longest,
                        "first_epoch": h.epoch[first_flat],
                        "last_epoch": h.epoch[end],
                        "level": level,
                    },
                )
            )

    # overfitting: valid rising while train falls (steadily: a jumping training loss is instability)
    vl = h.valid_loss
    if len(vl) >= 3 and all(math.isfinite(v) for v in vl):
        best = int(np.argmin(vl))
        after = tl_all[best:]
        steady = bool(after) and max(after) <= OVERFIT_RISE * after[0] and not _jumps(tl_all[best:])
        if best < len(vl) - 1 and vl[-1] >= OVERFIT_RISE * vl[best] and tl_all[-1] < tl_all[best] and steady:
            findings.append(
                Finding(
                    "overfitting",
                    "info",
                    f"Overfitting: the validation loss rose from {vl[best]:.4g} (epoch {h.epoch[best]}) to {vl[-1]:.4g} "
                    f"while the training loss kept falling ({tl_all[best]:.4g} -> {tl_all[-1]:.4g}); the weights of "
                    "the best epoch were kept.",
                    "More dropout or weight_decay, a smaller network, or more data; early stopping already limits "
                    "it.",
                    {"best_epoch": h.epoch[best]},
                )
            )
    return findings
