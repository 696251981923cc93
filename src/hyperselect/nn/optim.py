"""Optimizers and learning-rate schedules named by the config.

The population trainer re-implements these updates as batched tensor operations; the formulas must match
torch's exactly (the equivalence test checks it), so every choice here (coupled L2 in Adam/SGD, decoupled in
AdamW, RMSProp alpha 0.99 without momentum) is mirrored there.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from hyperselect.nn.config import MLPConfig

RMSPROP_ALPHA = 0.99
PLATEAU_FACTOR = 0.5


def make_optimizer(config: MLPConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    o, lr, wd = config.optimizer, config.lr, config.weight_decay
    if o == "adam":
        return torch.optim.Adam(
            params, lr=lr, betas=(config.beta1, config.beta2), eps=config.eps, weight_decay=wd
        )
    if o == "adamw":
        return torch.optim.AdamW(
            params, lr=lr, betas=(config.beta1, config.beta2), eps=config.eps, weight_decay=wd
        )
    if o == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if o == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if o == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, nesterov=True, weight_decay=wd)
    if o == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=RMSPROP_ALPHA, eps=config.eps, weight_decay=wd)
    raise AssertionError(o)  # the config validated it


def plateau_patience(config: MLPConfig) -> int:
    return max(1, (config.patience or 10) // 3)


def make_scheduler(config: MLPConfig, optimizer: torch.optim.Optimizer):  # type: ignore[no-untyped-def]
    """Epoch-level schedule, or None for a constant learning rate."""
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.max_epochs)
    if config.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=PLATEAU_FACTOR, patience=plateau_patience(config)
        )
    return None


def cosine_lr(base_lr: float, epoch: int, t_max: int) -> float:
    """Closed form of CosineAnnealingLR after ``epoch`` steps (eta_min = 0)."""
    import math

    return base_lr * (1 + math.cos(math.pi * epoch / t_max)) / 2
