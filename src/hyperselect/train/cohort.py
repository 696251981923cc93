"""A cohort: a set of configurations trained side by side, advanced rung by rung by the search.

The cohort is the one interface the search talks to.  How its members are trained is the planner's choice:
stacked into vectorised populations where that pays, one by one (``NetworkRun``) where it does not.  Member
``i`` is always ``configs[i]``, whatever the grouping.

``mode``: "auto" lets the planner time both on the device and pick the faster; "population" stacks every member
that can be stacked; "sequential" trains each member alone (the reference).  In a population the callback is
called epoch by epoch for all its members, rather than member by member; each member's own sequence of calls
is the same.

Running out of memory is contained: when a population raises ``torch.OutOfMemoryError`` (or ``MemoryError``) its
running members are moved to two half-size units (recursively, down to single networks), rebuilt from their
initial weights and caught up to the epochs they had done without calling the callback again for those; a member
that runs out of memory alone is stopped as ``diverged`` with the reason ``"out of memory: ..."``, and the
others go on.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch

from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.batching import RowSchedule
from hyperselect.train.planner import Plan, Planner
from hyperselect.train.population import PopulationTrainer, population_key
from hyperselect.train.trainer import NetworkRun, RunSummary, TrainResult

log = logging.getLogger(__name__)

# (member index, epoch, valid score, valid loss) -> True to prune that member now
MemberCallback = Callable[[int, int, float, float], bool]

OUT_OF_MEMORY: tuple[type[BaseException], ...] = (torch.OutOfMemoryError, MemoryError)


def _oom_reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return "out of memory: " + (text.splitlines()[0] if text else type(exc).__name__)


class Cohort:
    """Train ``configs`` together; ``seeds[i]`` seeds member ``i``'s weights, ``data_seed`` the shared batches,
    ``row_schedule`` (optional) the epochs that train on a subset of the rows (every member the same)."""

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
        row_schedule: RowSchedule | None = None,
        metric: str | None = None,
        y_scale: float | None = None,
    ) -> None:
        """``y_scale``: the standard deviation a regression target was divided by, so that an error score
        (``neg_mae``, ``neg_rmse``) reads in the target's units (see :class:`NetworkRun`)."""
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
        self._data = (X_train, y_train, X_valid, y_valid)
        self._kw: dict[str, Any] = {
            "task": self.task,
            "n_classes": n_classes,
            "data_seed": data_seed,
            "device": device,
            "dtype": dtype,
            "row_schedule": row_schedule,
            "metric": metric,
            "y_scale": y_scale,
        }
        self._units: list[NetworkRun | PopulationTrainer] = []
        self._members: list[list[int]] = []  # unit -> its members (cohort indices), in unit order
        self._where: dict[int, tuple[int, int]] = {}  # member -> (unit, index inside the unit)
        self._retired: set[int] = set()  # populations whose running members moved away after an OOM
        self._should_stop: Callable[[], bool] | None = None  # set for the duration of run_epochs
        self._on_stop: Callable[[list[int]], None] | None = None  # likewise
        for unit in self.plan.units:
            self._add_unit(self._new_unit(unit.members, population=unit.kind == "population"), unit.members)

    def _new_unit(
        self, members: list[int], *, population: bool, device: Any = None, network: bool = False
    ) -> NetworkRun | PopulationTrainer:
        """A population of ``members``, or one member alone; ``network=True``: alone as a ``NetworkRun`` even
        with dropout (after running out of memory, where a lone member must be able to fail)."""
        kw = self._kw
        dev = kw["device"] if device is None else device
        if population:
            return PopulationTrainer(
                [self.configs[i] for i in members],
                *self._data,
                task=kw["task"],
                n_classes=kw["n_classes"],
                seeds=[self.seeds[i] for i in members],
                data_seed=kw["data_seed"],
                device=dev,
                dtype=kw["dtype"],
                row_schedule=kw["row_schedule"],
                metric=kw["metric"],
                y_scale=kw["y_scale"],
            )
        (i,) = members
        if not network and population_key(self.configs[i], kw["task"]) is not None:
            # alone, but as a population of one: its dropout masks come from its own stream as they would in
            # any population, so a search's result does not depend on the planner's timing-based choice; and
            # the population's hand-written backward and fused update make its step the faster one (mnist1d,
            # two hidden layers, Adam, one thread: 0.33 vs 0.59 ms at width 32, 2.5 vs 2.8 ms at 512)
            return self._new_unit(members, population=True, device=device)
        return NetworkRun(
            self.configs[i],
            *self._data,
            task=kw["task"],
            n_classes=kw["n_classes"],
            random_state=self.seeds[i],
            data_seed=kw["data_seed"],
            device=dev,
            dtype=kw["dtype"],
            row_schedule=kw["row_schedule"],
            metric=kw["metric"],
            y_scale=kw["y_scale"],
        )

    def _add_unit(self, unit: NetworkRun | PopulationTrainer, members: list[int]) -> int:
        u = len(self._units)
        self._units.append(unit)
        self._members.append(list(members))
        for j, i in enumerate(members):
            self._where[i] = (u, j)
        return u

    def __len__(self) -> int:
        return len(self.configs)

    def is_active(self, i: int) -> bool:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.is_active(j) if isinstance(unit, PopulationTrainer) else unit.active

    @property
    def active(self) -> list[int]:
        return [i for i in range(len(self.configs)) if self.is_active(i)]

    def run_epochs(
        self,
        n_epochs: int,
        callback: MemberCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_stop: Callable[[list[int]], None] | None = None,
    ) -> None:
        """Advance every active member by up to ``n_epochs``.

        ``should_stop()`` is asked before every training step of every unit: True stops the members of the
        unit in training (its epoch interrupted) and of every unit after it, as ``"pruned"`` with a reason
        starting ``"interrupted"`` (see :meth:`PopulationTrainer.run_epochs`).  ``on_stop(members)`` is called
        as soon as members stop during these epochs (early stopping, their last epoch, divergence, the callback
        or ``should_stop``): after the epoch they stop in, while the others of their population go on, so a
        search can record a finished trial without waiting for its slowest batch-mate."""
        self._should_stop = should_stop
        self._on_stop = on_stop
        try:
            for u in range(len(self._units)):  # units added by an out-of-memory split are run by the split
                if u not in self._retired:
                    self._run_unit(u, n_epochs, callback)
        finally:
            self._should_stop = None
            self._on_stop = None

    def _stopped_since(self, u: int, running: set[int]) -> None:
        """Call ``on_stop`` with the members of unit ``u`` in ``running`` that no longer run (and forget them)."""
        if self._on_stop is None:
            return
        done = [i for i in self._members[u] if i in running and not self.is_active(i)]
        if done:
            running.difference_update(done)
            self._on_stop(done)

    def _run_unit(self, u: int, n_epochs: int, callback: MemberCallback | None) -> None:
        unit, members = self._units[u], self._members[u]
        if isinstance(unit, PopulationTrainer):
            running = unit.active
            before = unit.epochs_done(running[0]) if running else 0  # members of a population step together
        alive = {i for i in members if self.is_active(i)}
        try:
            if isinstance(unit, PopulationTrainer):
                pcb = (
                    None
                    if callback is None
                    else (lambda j, e, s, loss, members=members: callback(members[j], e, s, loss))
                )
                unit.run_epochs(n_epochs, pcb, self._should_stop, lambda: self._stopped_since(u, alive))
                self._stopped_since(u, alive)  # an interrupted epoch stops its members without an epoch end
            elif unit.active:
                i = members[0]
                cb = None if callback is None else (lambda e, s, loss, i=i: callback(i, e, s, loss))
                unit.run_epochs(n_epochs, cb, self._should_stop)
                self._stopped_since(u, alive)
        except OUT_OF_MEMORY as exc:
            reason = _oom_reason(exc)
            del exc  # its traceback holds the frames, and with them the tensors that filled the memory
            _release_memory()
            if isinstance(unit, NetworkRun):
                log.warning("member %d stopped: %s", members[0], reason)
                unit.stop("diverged", reason)
            else:
                self._split(u, before, n_epochs, callback, reason)

    def _split(
        self, u: int, before: int, n_epochs: int, callback: MemberCallback | None, reason: str
    ) -> None:
        """Population ``u`` ran out of memory: move its running members into two halves, rebuilt from their
        initial weights, caught up to the epochs they had done (no callback: it has seen those epochs) and then
        given the rest of the ``n_epochs`` the population was asked for, starting from epoch ``before``."""
        pop = self._units[u]
        assert isinstance(pop, PopulationTrainer)
        running = pop.active
        if not running:
            return
        moved = [self._members[u][j] for j in running]
        done = pop.epochs_done(running[0])
        log.warning("population of members %s: %s; retrying them in two halves", moved, reason)
        pop.prune(running, f"moved to a smaller unit ({reason})")  # drops their rows: frees the memory
        self._retired.add(u)
        _release_memory()
        half = (len(moved) + 1) // 2
        for part in (moved[:half], moved[half:]):
            if len(part) > 1:
                try:
                    unit = self._new_unit(part, population=True)
                except OUT_OF_MEMORY:
                    _release_memory()
                    for i in part:  # too big even to build: one network at a time
                        self._place_alone(i, done, before + n_epochs - done, callback)
                    continue
                self._catch_up(self._add_unit(unit, part), done, before + n_epochs - done, callback)
            elif part:
                self._place_alone(part[0], done, before + n_epochs - done, callback)

    def _place_alone(self, i: int, done: int, n_epochs: int, callback: MemberCallback | None) -> None:
        try:
            unit = self._new_unit([i], population=False, network=True)
        except OUT_OF_MEMORY as exc:
            reason = _oom_reason(exc)
            del exc
            _release_memory()
            # not even one network fits on the device: keep a record of the member (on the CPU), stopped
            record = self._new_unit([i], population=False, device="cpu", network=True)
            assert isinstance(record, NetworkRun)
            record.stop("diverged", reason)
            self._add_unit(record, [i])
            return
        self._catch_up(self._add_unit(unit, [i]), done, n_epochs, callback)

    def _catch_up(self, v: int, done: int, n_epochs: int, callback: MemberCallback | None) -> None:
        if done:
            self._run_unit(v, done, None)
        if n_epochs > 0:
            self._run_unit(v, n_epochs, callback)

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

    def reason(self, i: int) -> str:
        """Why member ``i`` stopped ("" while it runs)."""
        u, j = self._where[i]
        unit = self._units[u]
        return unit.reason(j) if isinstance(unit, PopulationTrainer) else unit.reason

    def valid_scores(self, i: int) -> list[float]:
        u, j = self._where[i]
        unit = self._units[u]
        hist = unit.history(j) if isinstance(unit, PopulationTrainer) else unit.history
        return list(hist.valid_score)

    def summary(self, i: int) -> RunSummary:
        """Member ``i``'s figures as :meth:`result` reports them, without its module and diagnostics."""
        u, j = self._where[i]
        unit = self._units[u]
        return unit.summary(j) if isinstance(unit, PopulationTrainer) else unit.summary()

    def result(self, i: int) -> TrainResult:
        u, j = self._where[i]
        unit = self._units[u]
        return unit.result(j) if isinstance(unit, PopulationTrainer) else unit.result()

    def trained_by(self, i: int) -> str:
        """ "population" or "sequential": how the planner chose to train member ``i`` (a member with dropout
        trained alone runs as a population of one, see ``_new_unit``: still "sequential")."""
        u, _ = self._where[i]
        alone = len(self._members[u]) == 1
        return "population" if isinstance(self._units[u], PopulationTrainer) and not alone else "sequential"


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
