"""Higher-is-better scores computed on tensors (no host round trip per batch)."""

from __future__ import annotations

import torch

from hyperselect.nn.losses import predict_from_logits
from hyperselect.tasks import Task


def score_from_logits(logits: torch.Tensor, y: torch.Tensor, task: Task) -> float:
    """accuracy (binary/multiclass), micro-F1 (multilabel) or R^2 (regression)."""
    pred = predict_from_logits(logits, task)
    if task in (Task.BINARY, Task.MULTICLASS):
        return float((pred == y.long()).double().mean())
    if task is Task.MULTILABEL:
        yt = y.reshape(pred.shape).to(pred.dtype)
        tp = float((pred * yt).sum())
        fp = float((pred * (1 - yt)).sum())
        fn = float(((1 - pred) * yt).sum())
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    yt = y.reshape(pred.shape).to(pred.dtype)
    ss_res = float(((yt - pred) ** 2).sum())
    ss_tot = float(((yt - yt.mean(dim=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
