"""The field's classic optimisation problems, found in a training history, each with evidence and a remedy.

The rules are deliberately simple and stated in numbers so a user can check them against the history:

* vanishing gradients: the first layer's gradient norm is < 1e-3 of the last layer's (median over epochs);
* exploding gradients: a non-finite loss or gradient, gradient norms growing by >= 3 orders of magnitude, or a
  gradient norm above 1e6 (an lr so large that the first epoch already explodes);
* dead ReLU units: a hidden layer where >= 50 % of the units are never active on a validation batch;
* plateau / saddle: >= 5 epochs where the training loss moves < 0.1 % per epoch while still within 10 % of its
  first epoch's value (the network has hardly learned: a loss that fell and then levelled off has converged,
  and converging is not a problem -- a linear model on noisy labels stops at 0.62 from 0.71);
* overfitting: validation loss >= 20 % above its best while the training loss kept falling.
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
DEAD_FRACTION = 0.5
PLATEAU_EPOCHS = 5
PLATEAU_REL_CHANGE = 1e-3
PLATEAU_NEAR_START = 0.9  # flat while the loss is still above this fraction of its first epoch's value
OVERFIT_RISE = 1.2

RELU_FAMILY = ("relu",)


@dataclass
class Finding:
    kind: str  # vanishing_gradients | exploding_gradients | dead_relu | plateau | overfitting
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


def diagnose(
    history: History | dict[str, Any],
    activation: str,
    act_stats: list[dict[str, float]] | None = None,
    status: str = "",
) -> list[Finding]:
    """Findings for one training run (history of a single network or of one population member)."""
    h = history if isinstance(history, History) else History.from_dict(history)
    findings: list[Finding] = []
    gn = (
        np.array([row for row in h.grad_norms if len(row)], dtype=float) if h.grad_norms else np.zeros((0, 0))
    )

    # exploding: non-finite values, or growth by orders of magnitude
    nonfinite_loss = any(not math.isfinite(x) for x in h.train_loss) or status == "diverged"
    nonfinite_grad = gn.size > 0 and not np.isfinite(gn).all()
    growth = 0.0
    if gn.size and gn.shape[0] >= 2 and np.isfinite(gn).all():
        per_epoch = gn.max(axis=1)
        first = max(per_epoch[0], 1e-12)
        growth = float(per_epoch.max() / first)
    largest = (
        float(np.nanmax(np.where(np.isfinite(gn), gn, np.nan))) if gn.size and np.isfinite(gn).any() else 0.0
    )
    if nonfinite_loss or nonfinite_grad or growth >= EXPLODING_GROWTH or largest >= EXPLODING_ABS:
        what = (
            "the loss became NaN/inf"
            if nonfinite_loss
            else "a gradient norm became NaN/inf"
            if nonfinite_grad
            else f"the largest gradient norm grew {growth:.3g}x over training"
            if growth >= EXPLODING_GROWTH
            else f"a gradient norm reached {largest:.3g}"
        )
        findings.append(
            Finding(
                "exploding_gradients",
                "warning",
                f"Exploding gradients: {what}.",
                "Lower the learning rate (e.g. by 10x), clip gradients (grad_clip=1.0), add batch or layer "
                "normalisation.",
                {"growth": growth},
            )
        )

    # vanishing: first layer far weaker than the last
    if gn.size and gn.shape[1] >= 3 and np.isfinite(gn).all():
        ratios = gn[:, 0] / np.maximum(gn[:, -1], 1e-30)
        ratio = float(np.median(ratios))
        if ratio < VANISHING_RATIO:
            findings.append(
                Finding(
                    "vanishing_gradients",
                    "warning",
                    f"Vanishing gradients: the first layer's gradient norm is {ratio:.2e} of the last layer's "
                    f"(median over {gn.shape[0]} epochs) across {gn.shape[1]} layers.",
                    "Use a ReLU-family activation in hidden layers with He initialisation, add batch/layer "
                    "normalisation, or use fewer layers.",
                    {"ratio": ratio},
                )
            )

    # dead ReLUs
    if act_stats and activation in RELU_FAMILY:
        worst = max(range(len(act_stats)), key=lambda i: act_stats[i]["dead_fraction"])
        frac = act_stats[worst]["dead_fraction"]
        if frac >= DEAD_FRACTION:
            findings.append(
                Finding(
                    "dead_relu",
                    "warning",
                    f"Dead ReLU units: {frac:.0%} of the units of hidden layer {worst + 1} are never active on a "
                    "validation batch.",
                    "Switch to leaky_relu or elu, re-initialise (He initialisation, zero biases), or lower the "
                    "learning rate.",
                    {"layer": worst + 1, "dead_fraction": frac},
                )
            )

    # plateau: a flat loss that has hardly come down from where it started (not a run that has converged)
    tl = _finite(h.train_loss)
    if len(tl) >= PLATEAU_EPOCHS + 1 and not nonfinite_loss:
        run, longest = 0, 0
        for a, b in itertools.pairwise(tl):
            flat = abs(b - a) / max(abs(a), 1e-12) < PLATEAU_REL_CHANGE and b > PLATEAU_NEAR_START * tl[0]
            run = run + 1 if flat else 0
            longest = max(longest, run)
        if longest >= PLATEAU_EPOCHS:
            findings.append(
                Finding(
                    "plateau",
                    "warning",
                    f"Plateau: the training loss moved less than {PLATEAU_REL_CHANGE:.1%} per epoch for {longest} "
                    f"epochs while still at {tl[-1]:.4g} (first epoch {tl[0]:.4g}).",
                    "Raise the learning rate or use Adam, re-initialise (He/Xavier), add normalisation; if gradients "
                    "are also vanishing, change the activation.",
                    {"epochs": longest},
                )
            )

    # overfitting: valid rising while train falls
    vl = h.valid_loss
    if len(vl) >= 3 and all(math.isfinite(v) for v in vl):
        best = int(np.argmin(vl))
        if best < len(vl) - 1 and vl[-1] >= OVERFIT_RISE * vl[best] and h.train_loss[-1] < h.train_loss[best]:
            findings.append(
                Finding(
                    "overfitting",
                    "info",
                    f"Overfitting: the validation loss rose from {vl[best]:.4g} (epoch {h.epoch[best]}) to {vl[-1]:.4g} "
                    "while the training loss kept falling; the weights of the best epoch were kept.",
                    "More dropout or weight decay, a smaller network, or more data; early stopping already limits it.",
                    {"best_epoch": h.epoch[best]},
                )
            )
    return findings
