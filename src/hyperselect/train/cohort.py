"""A cohort: a set of configurations trained side by side, advanced rung by rung by the search.

The cohort is the one interface the search talks to.  How its members are trained is the planner's choice:
stacked into vectorised populations where that pays, one by one (``NetworkRun``) where it does not.  Member
``i`` is always ``configs[i]``, whatever the grouping.

``mode``: "auto" lets the planner time both on the device and pick the faster; "population" stacks every member
that can be stacked; "sequential" trains each member alone (the reference).  In a population the callback is
called epoch by epoch for all its members, rather than member by member; each member's own sequence of calls
is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.planner import Plan, Planner
from hyperselect.train.population import PopulationTrainer
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
        self.plan: Plan = Planner(
            self.configs,
            X_train,
            y_train,
            X_valid,
            y_valid,
            task=self.task,
            n_classes=n_classes,
            seeds=self.seeds,
            device=device,
            dtype=dtype,
        ).plan(mode)
        self._units: list[NetworkRun | PopulationTrainer] = []
        self._where: dict[int, tuple[int, int]] = {}  # member -> (unit, index inside the unit)
        for unit in self.plan.units:
            u = len(self._units)
            if unit.kind == "population":
                self._units.append(
                    PopulationTrainer(
                        [self.configs[i] for i in unit.members],
                        X_train,
                        y_train,
                        X_valid,
                        y_valid,
                        task=self.task,
                        n_classes=n_classes,
                        seeds=[self.seeds[i] for i in unit.members],
                        data_seed=data_seed,
                        device=device,
                        dtype=dtype,
                    )
                )
                for j, i in enumerate(unit.members):
                    self._where[i] = (u, j)
            else:
                (i,) = unit.members
                self._units.append(
                    NetworkRun(
                        self.configs[i],
                        X_train,
                        y_train,
                        X_valid,
                        y_valid,
                        task=self.task,
                        n_classes=n_classes,
                        random_state=self.seeds[i],
                        data_seed=data_seed,
                        device=device,
                        dtype=dtype,
                    )
                )
                self._where[i] = (u, 0)
        self._members: list[list[int]] = [u.members for u in self.plan.units]

    def __len__(self) -> int:
        return len(self.configs)

    def is_active(self, i: int) -> bool:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.is_active(j) if isinstance(unit, PopulationTrainer) else unit.active

    @property
    def active(self) -> list[int]:
        return [i for i in range(len(self.configs)) if self.is_active(i)]

    def run_epochs(self, n_epochs: int, callback: MemberCallback | None = None) -> None:
        """Advance every active member by up to ``n_epochs``."""
        for unit, members in zip(self._units, self._members, strict=True):
            if isinstance(unit, PopulationTrainer):
                pcb = (
                    None
                    if callback is None
                    else (lambda j, e, s, loss, members=members: callback(members[j], e, s, loss))
                )
                unit.run_epochs(n_epochs, pcb)
            elif unit.active:
                i = members[0]
                cb = None if callback is None else (lambda e, s, loss, i=i: callback(i, e, s, loss))
                unit.run_epochs(n_epochs, cb)

    def prune(self, members: Sequence[int], reason: str = "pruned") -> None:
        by_pop: dict[int, list[int]] = {}
        for i in members:
            u, j = self._where[i]
            unit = self._units[u]
            if isinstance(unit, PopulationTrainer):
                by_pop.setdefault(u, []).append(j)
            else:
                unit.stop("pruned", reason)
        for u, js in by_pop.items():
            pop = self._units[u]
            assert isinstance(pop, PopulationTrainer)
            pop.prune(js, reason)

    def epochs_done(self, i: int) -> int:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.epochs_done(j) if isinstance(unit, PopulationTrainer) else unit.epoch

    def status(self, i: int) -> str:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.status(j) if isinstance(unit, PopulationTrainer) else unit.status

    def valid_scores(self, i: int) -> list[float]:
        u, j = self._where[i]
        unit = self._units[u]
        hist = unit.history(j) if isinstance(unit, PopulationTrainer) else unit.history
        return list(hist.valid_score)

    def result(self, i: int) -> TrainResult:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.result(j) if isinstance(unit, PopulationTrainer) else unit.result()

    def trained_by(self, i: int) -> str:
        """ "population" or "sequential": how the planner chose to train member ``i``."""
        u, _ = self._where[i]
        return "population" if isinstance(self._units[u], PopulationTrainer) else "sequential"
