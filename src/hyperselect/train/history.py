"""Per-epoch training history, as plain lists so it serialises to JSON as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class History:
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_score: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norms: list[list[float]] = field(default_factory=list)  # per epoch: mean L2 norm per weight layer
    seconds: list[float] = field(default_factory=list)

    def append(self, **values: Any) -> None:
        for k, v in values.items():
            getattr(self, k).append(v)

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(**{k: list(d.get(k, [])) for k in cls.__dataclass_fields__})
