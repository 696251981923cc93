"""Early stopping as a flag with a reason (Lightning's habit): it never raises."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class EarlyStopping:
    patience: int | None
    mode: str = "min"  # "min" for a loss, "max" for a score
    min_delta: float = 0.0
    best: float = field(default=math.inf, init=False)
    best_epoch: int = field(default=-1, init=False)
    bad_epochs: int = field(default=0, init=False)
    should_stop: bool = field(default=False, init=False)
    reason: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, epoch: int) -> bool:
        """Record this epoch's value; returns True when it is the best so far."""
        if self.improved(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        if self.patience is not None and self.bad_epochs >= self.patience:
            self.should_stop = True
            self.reason = (
                f"early stopping: no improvement of the monitored value for {self.bad_epochs} epochs "
                f"(best {self.best:.6g} at epoch {self.best_epoch})"
            )
        return False
