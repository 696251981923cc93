"""The loss follows the task; options refine it (label smoothing, Huber, class weights)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_VALID = {
    Task.BINARY: ("bce", "cross_entropy"),
    Task.MULTICLASS: ("cross_entropy",),
    Task.MULTILABEL: ("bce",),
    Task.REGRESSION: ("mse", "huber"),
}
_DEFAULT = {
    Task.BINARY: "bce",
    Task.MULTICLASS: "cross_entropy",
    Task.MULTILABEL: "bce",
    Task.REGRESSION: "mse",
}


def resolve_loss(config: MLPConfig, task: Task) -> str:
    name = _DEFAULT[task] if config.loss == "auto" else config.loss
    if name not in _VALID[task]:
        raise ConfigError(
            f"The 'loss' parameter of {type(config).__name__} must be one of "
            f"{', '.join(repr(v) for v in ('auto', *_VALID[task]))} for a {task.value} task. Got {config.loss!r}."
        )
    return name


def n_outputs_for(task: Task, n_classes: int | None, n_targets: int = 1, loss: str = "auto") -> int:
    """Width of the output layer: binary BCE needs one logit, binary cross-entropy two."""
    if task is Task.BINARY:
        return 2 if loss == "cross_entropy" else 1
    if task in (Task.MULTICLASS, Task.MULTILABEL):
        assert n_classes is not None
        return n_classes
    return n_targets


def class_weights(config: MLPConfig, task: Task, y: Any, n_classes: int | None = None) -> torch.Tensor | None:
    """Each class's weight in the loss: ``None`` for ``class_weight="none"``; for ``"balanced"``, scikit-learn's
    n / (classes present x rows of the class) from the training labels ``y`` (class codes), 1 for a class with
    no training row (it only weighs validation rows).  Float64, one entry per class code (``n_classes``, or the
    largest code + 1, at least 2)."""
    if config.class_weight == "none":
        return None
    if task not in (Task.BINARY, Task.MULTICLASS):
        raise ConfigError(
            f"The 'class_weight' parameter of {type(config).__name__} can be 'balanced' only for a binary or "
            f"multiclass task: it weighs rows by their class. Got class_weight={config.class_weight!r} for a "
            f"{task.value} task; use 'none'."
        )
    codes = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y).astype(np.int64).reshape(-1)
    size = max(2, int(n_classes or 0), int(codes.max()) + 1 if codes.size else 0)
    counts = np.bincount(codes, minlength=size).astype(np.float64)
    present = counts > 0
    weights = np.ones(size)
    weights[present] = codes.size / (present.sum() * counts[present])
    return torch.as_tensor(weights)


def weighted_mean(rows: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """The mean of per-row losses ``rows`` [..., n] with row i weighted by its class's weight (``weights[y_i]``),
    normalised by the weights' sum, as torch's weighted cross-entropy is; the plain mean without weights."""
    if weights is None:
        return rows.mean(-1)
    w = weights.to(device=rows.device, dtype=rows.dtype)[y.long().reshape(-1)]
    # a batch of rows whose classes all weigh 0 (a {label: 0} mapping) contributes 0, not 0 / 0
    return (rows * w).sum(-1) / w.sum().clamp_min(torch.finfo(rows.dtype).tiny)


def make_loss(config: MLPConfig, task: Task, weights: torch.Tensor | None = None) -> LossFn:
    """Mean loss over the batch; targets are class codes (int64) or floats as the task needs.

    ``weights`` (from :func:`class_weights`) weighs each row by its class: the loss is the weighted mean of
    the rows' losses (with label smoothing, a row's loss is (1 - ls) x its negative log-likelihood + ls x the
    mean over classes of -log p, weighted as a whole by its class)."""
    name = resolve_loss(config, task)
    if weights is not None and task not in (Task.BINARY, Task.MULTICLASS):
        raise ConfigError(f"class weights apply to binary and multiclass tasks only; got a {task.value} task")
    if name == "cross_entropy":
        ls = config.label_smoothing

        def ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if weights is None:
                return F.cross_entropy(logits, y.long(), label_smoothing=ls)
            logp = F.log_softmax(logits, dim=1)
            rows = -logp.gather(1, y.long().view(-1, 1)).squeeze(1)
            if ls > 0:
                rows = (1 - ls) * rows + ls * (-logp.mean(1))
            return weighted_mean(rows, y, weights)

        return ce
    if name == "bce":
        ls = config.label_smoothing

        def bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            target = y.to(logits.dtype).reshape(logits.shape)
            if ls > 0:
                target = target * (1 - ls) + 0.5 * ls
            if weights is None:
                return F.binary_cross_entropy_with_logits(logits, target)
            rows = F.binary_cross_entropy_with_logits(logits, target, reduction="none").reshape(-1)
            return weighted_mean(rows, y, weights)

        return bce
    if name == "huber":
        delta = config.huber_delta

        def huber(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.huber_loss(pred, y.to(pred.dtype).reshape(pred.shape), delta=delta)

        return huber

    def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred, y.to(pred.dtype).reshape(pred.shape))

    return mse


def predict_from_logits(logits: torch.Tensor, task: Task) -> torch.Tensor:
    """Class codes (classification), 0/1 matrix (multilabel) or values (regression)."""
    if task is Task.BINARY:
        return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)
    if task is Task.MULTICLASS:
        return logits.argmax(1)
    if task is Task.MULTILABEL:
        return (logits > 0).to(logits.dtype)
    return logits[:, 0] if logits.shape[1] == 1 else logits


def proba_from_logits(logits: torch.Tensor, task: Task) -> torch.Tensor:
    if task is Task.BINARY and logits.shape[1] == 1:
        p = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p, p], dim=1)
    if task is Task.MULTILABEL:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=1)
