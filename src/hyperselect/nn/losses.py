"""The loss follows the task; options refine it (label smoothing, Huber)."""

from __future__ import annotations

from collections.abc import Callable

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


def make_loss(config: MLPConfig, task: Task) -> LossFn:
    """Mean loss over the batch; targets are class codes (int64) or floats as the task needs."""
    name = resolve_loss(config, task)
    if name == "cross_entropy":
        ls = config.label_smoothing

        def ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(logits, y.long(), label_smoothing=ls)

        return ce
    if name == "bce":
        ls = config.label_smoothing

        def bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            target = y.to(logits.dtype).reshape(logits.shape)
            if ls > 0:
                target = target * (1 - ls) + 0.5 * ls
            return F.binary_cross_entropy_with_logits(logits, target)

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
