"""A cohort: a set of configurations trained side by side, advanced rung by rung by the search.

The cohort is the one interface the search talks to.  How its members are trained is the planner's choice:
stacked into vectorised populations where that pays, one by one (``NetworkRun``) where it does not.  Member
``i`` is always ``configs[i]``, whatever the grouping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.trainer import NetworkRun, TrainResult

# (member index, epoch, valid score, valid loss) -> True to prune that member now
MemberCallback = Callable[[int, int, float, float], bool]


class Cohort:
    """Train ``configs`` together; ``seeds[i]`` seeds member ``i``'s weights, ``data_seed`` the shared batches."""

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
        mode: str = "auto",
    ) -> None:
        self.configs = list(configs)
        self.seeds = list(seeds) if seeds is not None else list(range(len(self.configs)))
        if len(self.seeds) != len(self.configs):
            raise ValueError(f"got {len(self.seeds)} seeds for {len(self.configs)} configs")
        self.task = Task(task)
        self.mode = mode
        # Sequential members; the population planner (train/planner.py) replaces groups of them with populations.
        self._runs: dict[int, NetworkRun] = {
            i: NetworkRun(c, X_train, y_train, X_valid, y_valid, task=self.task, n_classes=n_classes,
                          random_state=s, data_seed=data_seed, device=device, dtype=dtype)
            for i, (c, s) in enumerate(zip(self.configs, self.seeds, strict=True))
        }

    def __len__(self) -> int:
        return len(self.configs)

    def is_active(self, i: int) -> bool:
        return self._runs[i].active

    @property
    def active(self) -> list[int]:
        return [i for i, r in self._runs.items() if r.active]

    def run_epochs(self, n_epochs: int, callback: MemberCallback | None = None) -> None:
        """Advance every active member by up to ``n_epochs``."""
        for i, run in self._runs.items():
            if run.active:
                cb = None if callback is None else (lambda e, s, l, i=i: callback(i, e, s, l))
                run.run_epochs(n_epochs, cb)

    def prune(self, members: Sequence[int], reason: str = "pruned") -> None:
        for i in members:
            self._runs[i].stop("pruned", reason)

    def epochs_done(self, i: int) -> int:
        return self._runs[i].epoch

    def status(self, i: int) -> str:
        return self._runs[i].status

    def valid_scores(self, i: int) -> list[float]:
        return list(self._runs[i].history.valid_score)

    def result(self, i: int) -> TrainResult:
        return self._runs[i].result()
