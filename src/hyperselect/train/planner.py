"""The planner: which configurations train together as populations, and which train one by one.

Batching pays when per-step overhead dominates (narrow networks, small batches) and stops paying when the
arithmetic dominates (wide networks on a CPU): then a population is no faster than its members one after the
other.  Rather than guess, the planner times one step of each candidate population and of the single trainer on
the actual device and data, and keeps whichever is faster, so a plan is never slower than sequential training
(up to timing noise).  Members of different widths are either padded into one population or bucketed by width;
that too is decided by timing both.

The memory guard estimates a population's peak memory before anything is allocated and splits populations
that would not fit in half of the free memory (CUDA: ``torch.cuda.mem_get_info``; CPU: available RAM).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.population import PopulationTrainer, estimate_bytes, member_widths, population_key
from hyperselect.train.trainer import NetworkRun, as_tensors, check_device, infer_n_outputs

log = logging.getLogger(__name__)

MODES = ("auto", "population", "sequential")
CALIBRATION_MEMBERS = (
    16  # a population is timed with at most this many members and scaled linearly (pessimistic)
)
CALIBRATION_STEPS = 5
# the single trainer is timed on up to this many members of a bucket, spread over it: one member stood for the
# bucket before, and a cheap one (ReLU, SGD, no dropout) made sequential training look up to 2x cheaper than it was
SEQUENTIAL_SAMPLE = 4
POPULATION_MARGIN = 0.9  # choose a population only when it is timed >= 10 % faster: noise must not flip a tie
MEMORY_FRACTION = 0.5

# measured seconds per step, keyed by everything that changes them: a search calibrates once per shape
_TIMINGS: dict[tuple[Any, ...], float] = {}


@dataclass
class Unit:
    """A population (``kind="population"``) or one member trained alone (``kind="sequential"``)."""

    kind: str
    members: list[int]
    padded: bool = False


@dataclass
class Plan:
    units: list[Unit]
    notes: list[str] = field(default_factory=list)  # why: the timings behind each choice

    @property
    def n_populations(self) -> int:
        return sum(u.kind == "population" for u in self.units)


def available_memory(device: torch.device) -> int:
    """Bytes free for new tensors on ``device``."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # psutil is optional; Linux and macOS expose the same figure through sysconf
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def split_for_memory(members: list[int], bytes_for: Any, budget: float) -> list[list[int]]:
    """Split ``members`` into as few equal parts as keep ``bytes_for(part)`` within ``budget``."""
    n_parts = 1
    while n_parts < len(members):
        size = math.ceil(len(members) / n_parts)
        if bytes_for(members[:size]) <= budget:
            break
        n_parts += 1
    size = math.ceil(len(members) / n_parts)
    return [members[i : i + size] for i in range(0, len(members), size)]


class Planner:
    """Plan how ``configs`` train: ``mode`` "auto" (timed), "population" (forced) or "sequential"."""

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
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
        memory_budget: float | None = None,
    ) -> None:
        self.configs = list(configs)
        self.seeds = list(seeds) if seeds is not None else list(range(len(self.configs)))
        self.task = Task(task)
        self.data = (X_train, y_train, X_valid, y_valid)
        self.n_classes = n_classes
        # a ConfigError for a device this machine lacks ("gpu", "cuda" without CUDA), not torch's RuntimeError
        self.device = check_device(device)
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.n_in = (
            int(np.asarray(X_train).shape[1]) if not torch.is_tensor(X_train) else int(X_train.shape[1])
        )
        self._calib_data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------------ grouping
    def groups(self) -> tuple[list[list[int]], list[int]]:
        """Members that may share a population (same key), and members that must train alone."""
        by_key: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        alone: list[int] = []
        for i, c in enumerate(self.configs):
            key = population_key(c, self.task)
            if key is None:
                alone.append(i)
            else:
                by_key[key].append(i)
        return list(by_key.values()), alone

    @staticmethod
    def _buckets(configs: list[MLPConfig], members: list[int]) -> list[list[int]]:
        by_hidden: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i in members:
            by_hidden[configs[i].hidden].append(i)
        return [by_hidden[h] for h in sorted(by_hidden)]

    def plan(self, mode: str = "auto") -> Plan:
        if mode not in MODES:
            raise ValueError(
                f"The 'mode' parameter of Cohort must be one of {', '.join(map(repr, MODES))}. Got {mode!r}."
            )
        if mode == "sequential" or not self.configs:
            return Plan([Unit("sequential", [i]) for i in range(len(self.configs))], ["mode='sequential'"])
        groups, alone = self.groups()
        units = [Unit("sequential", [i]) for i in alone]
        notes = [
            f"member {i}: {type(self.configs[i]).__name__} trains alone (no population support)"
            for i in alone
        ]
        for group in groups:
            buckets = self._buckets(self.configs, group)
            if mode == "population":
                units += [Unit("population", b) for b in buckets]
                continue
            units += self._decide(group, buckets, notes)
        return Plan(self._guard_memory(units, notes), notes)

    # ------------------------------------------------------------------ timing
    def _tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if self._calib_data is None:
            Xtr, ytr, Xva, yva = self.data
            a = as_tensors(Xtr, ytr, self.task, self.device, self.dtype)
            b = as_tensors(Xva, yva, self.task, self.device, self.dtype)
            self._calib_data = (a[0], a[1], b[0], b[1])
        return self._calib_data

    def _shape_key(self, cfgs: list[MLPConfig]) -> tuple[Any, ...]:
        """What a step's time depends on, coarse enough that a search's later batches reuse the timings of its
        earlier ones: widths on a grid of quarter octaves (a step's time is within ~20 % across a cell), and
        for a population the set of activations (one block of kernels each) but not of optimizers (every
        optimizer is one fused update).  Exact keys made almost every batch of a search recalibrate: about a
        tenth of a small search's time went to timing."""
        c = cfgs[0]
        mix = (c.activation, c.optimizer) if len(cfgs) == 1 else tuple(sorted({x.activation for x in cfgs}))
        return (
            str(self.device),
            str(self.dtype),
            self.n_in,
            self._n_out(c),
            c.batch_size,
            population_key(c, self.task),
            tuple(_width_cell(w) for w in member_widths(cfgs)),
            mix,
            any(x.dropout > 0 for x in cfgs),
            any(x.grad_clip is not None for x in cfgs),
        )

    def _n_out(self, config: MLPConfig) -> int:
        return infer_n_outputs(config, self.task, self.data[1], self.n_classes)

    def time_sequential_members(self, members: list[int]) -> float:
        """Seconds of one step of each of ``members``, one after the other: the mean over a sample of up to
        SEQUENTIAL_SAMPLE of them, spread over the list, times their number."""
        sample = members[:: max(1, math.ceil(len(members) / SEQUENTIAL_SAMPLE))][:SEQUENTIAL_SAMPLE]
        return float(np.mean([self.time_sequential(i) for i in sample])) * len(members)

    def time_sequential(self, member: int) -> float:
        """Seconds of one step of ``configs[member]`` trained alone (median of a few), as the cohort trains it:
        as a population of one where populations support the configuration, else by the single trainer.
        Timing the single trainer for all made the planner prefer populations of wide members that were no
        faster than their members alone (measured 0.98x at width 512)."""
        cfg = self.configs[member]
        key = ("seq", *self._shape_key([cfg]))
        if key not in _TIMINGS:
            if population_key(cfg, self.task) is not None:
                _TIMINGS[key] = self._time_population_of([cfg], [self.seeds[member]])
            else:
                _TIMINGS[key] = self._time_single(cfg, self.seeds[member])
        return _TIMINGS[key]

    def _time_population_of(self, cfgs: list[MLPConfig], seeds: list[int]) -> float:
        pop = PopulationTrainer(
            cfgs,
            *self._tensors(),
            task=self.task,
            n_classes=self.n_classes,
            seeds=seeds,
            device=self.device,
            dtype=self.dtype,
        )
        return pop.time_steps(CALIBRATION_STEPS, clock=_clock(self.device))

    def _time_single(self, cfg: MLPConfig, seed: int) -> float:
        Xtr, ytr, Xva, yva = self._tensors()
        run = NetworkRun(
            cfg,
            Xtr,
            ytr,
            Xva,
            yva,
            task=self.task,
            n_classes=self.n_classes,
            random_state=seed,
            device=self.device,
            dtype=self.dtype,
        )
        idx = torch.arange(min(cfg.batch_size, Xtr.shape[0]), device=self.device)
        times = []
        clock = _clock(self.device)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            for j in range(2 + CALIBRATION_STEPS):
                t0 = clock()
                loss, _ = run.train_step(idx)
                float(loss)
                if j >= 2:
                    times.append(clock() - t0)
        return float(np.median(times))

    def time_floor(self, members: Sequence[int]) -> float:
        """Seconds of one step of the cheapest network the single trainer could train here: ReLU, plain SGD, no
        dropout, norm or clipping, at the members' batch size and loss, each hidden layer as narrow as the
        narrowest of ``members`` there (rounded down to a width cell, so that a search's batches share the
        timing).  Every configuration among them costs at least this in a step (the same calls, as many or more,
        on matrices as wide or wider), so a population timed below ``len(members) * floor`` is faster than its
        members one by one without timing each of them (``_decide``).  A floor of width one, as this was at
        first, bounded too loosely to spare the timings: 13 buckets of widths 32-64 at 0.19 ms each against a
        padded population of 2.3 ms/step, while each bucket alone took 0.28-0.45 ms."""
        c = self.configs[members[0]]  # the members of a group share their depth (population_key)
        narrowest = tuple(
            _width_floor(min(w)) for w in zip(*(self.configs[i].hidden for i in members), strict=True)
        )
        floor = c.replace(
            hidden=narrowest,
            activation="relu",
            optimizer="sgd",
            dropout=0.0,
            norm="none",
            grad_clip=None,
            weight_decay=0.0,
            lr_schedule="constant",
        )
        key = (
            "floor",
            str(self.device),
            str(self.dtype),
            self.n_in,
            self._n_out(c),
            c.batch_size,
            c.loss,
            narrowest,
        )
        if key not in _TIMINGS:
            # a member alone trains as a population of one or a NetworkRun: the cheaper of the two bounds
            _TIMINGS[key] = min(
                self._time_single(floor, self.seeds[members[0]]),
                self._time_population_of([floor], [self.seeds[members[0]]]),
            )
        return _TIMINGS[key]

    def time_population(self, members: list[int]) -> float:
        """Seconds of one step of a population of ``members``: timed on at most CALIBRATION_MEMBERS of them
        and scaled linearly, which overestimates (a larger population is, per member, no slower)."""
        sample = members[:: max(1, math.ceil(len(members) / CALIBRATION_MEMBERS))][:CALIBRATION_MEMBERS]
        cfgs = [self.configs[i] for i in members]
        key = ("pop", len(sample), *self._shape_key(cfgs))
        if key not in _TIMINGS:
            # the padded widths of the whole group, so the sample costs what its members will cost
            widths = member_widths(cfgs)
            sample_cfgs = [self.configs[i] for i in sample]
            if member_widths(sample_cfgs) != widths:
                sample_cfgs[0] = sample_cfgs[0].replace(hidden=widths)
            _TIMINGS[key] = self._time_population_of(sample_cfgs, [self.seeds[i] for i in sample])
        return _TIMINGS[key] * len(members) / len(sample)

    def _decide(self, group: list[int], buckets: list[list[int]], notes: list[str]) -> list[Unit]:
        """Per width bucket: population or one by one, whichever is timed faster; then padding vs buckets."""
        if len(group) == 1:
            notes.append(f"member {group[0]}: alone in its group, trains sequentially")
            return [Unit("sequential", group)]
        can_pad = len(buckets) > 1 and self.configs[group[0]].norm != "layer"
        if can_pad:
            # Every bucket, trained either way, costs at least the cheapest single network's step (time_floor):
            # a padded population faster than that many floors beats every alternative without timing them.
            # (Embedded BBC News, batches of 18 members in 10-15 width buckets: about half skip their 5-15 timings.)
            padded = self.time_population(group)
            floor = self.time_floor(group)
            if padded <= POPULATION_MARGIN * len(buckets) * floor:
                notes.append(
                    f"members {_span(group)}: one padded population {padded * 1e3:.3g} ms/step vs {len(buckets)}"
                    f" buckets >= {len(buckets) * floor * 1e3:.3g} ms/step"
                )
                return [Unit("population", group, padded=True)]
            if 2 * len(buckets) > len(group):
                # Mostly single members per width (the usual case with a searched integer width): bucketing is
                # then close to training them one by one, so the padded population need only beat that.  Timing
                # every bucket as well took 24 timings, 138 ms, in the first batch of an embedded BBC News search,
                # whose first rung then trained in ~300 ms (4 timings, 42 ms, here).
                seq = self.time_sequential_members(group)
                if padded <= POPULATION_MARGIN * seq:
                    notes.append(
                        f"members {_span(group)}: one padded population {padded * 1e3:.3g} ms/step vs "
                        f"sequential {seq * 1e3:.3g} ms/step ({len(buckets)} widths, buckets not timed)"
                    )
                    return [Unit("population", group, padded=True)]
        units: list[Unit] = []
        bucketed_cost = 0.0
        seq_total = 0.0
        for bucket in buckets:
            if len(bucket) == 1:
                seq = self.time_sequential_members(bucket)
                seq_total += seq
                units.append(Unit("sequential", bucket))
                bucketed_cost += seq
                continue
            pop = self.time_population(bucket)
            # Narrow networks: the population is faster than even the cheapest single network would be, so
            # timing the members one by one cannot change the choice (a search's batches skip most timings).
            # seq is then that lower bound, which keeps the padding comparison below on the safe side.
            floor = self.time_floor(bucket) * len(bucket)
            bounded = pop <= POPULATION_MARGIN * floor
            seq = floor if bounded else self.time_sequential_members(bucket)
            seq_total += seq
            if pop <= POPULATION_MARGIN * seq:
                units.append(Unit("population", bucket))
                bucketed_cost += pop
            else:
                units += [Unit("sequential", [i]) for i in bucket]
                bucketed_cost += seq
            notes.append(
                f"members {_span(bucket)} (hidden {self.configs[bucket[0]].hidden}): population "
                f"{pop * 1e3:.3g} ms/step vs sequential {'>= ' if bounded else ''}{seq * 1e3:.3g} ms/step"
                f" -> {units[-1].kind}"
            )
        if can_pad:
            notes.append(
                f"members {_span(group)}: one padded population {padded * 1e3:.3g} ms/step vs "
                f"bucketed {bucketed_cost * 1e3:.3g} ms/step"
            )
            if padded <= POPULATION_MARGIN * bucketed_cost and padded <= POPULATION_MARGIN * seq_total:
                return [Unit("population", group, padded=True)]
        return units

    # ------------------------------------------------------------------ memory
    def population_bytes(self, members: list[int]) -> int:
        cfgs = [self.configs[i] for i in members]
        return estimate_bytes(
            len(members),
            self.n_in,
            member_widths(cfgs),
            self._n_out(cfgs[0]),
            cfgs[0].batch_size,
            cfgs[0].norm,
            torch.empty((), dtype=self.dtype).element_size(),
        )

    def _guard_memory(self, units: list[Unit], notes: list[str]) -> list[Unit]:
        if not any(u.kind == "population" for u in units):
            return units
        budget = self.memory_budget
        if budget is None:
            budget = MEMORY_FRACTION * available_memory(self.device)
        out: list[Unit] = []
        for u in units:
            if u.kind != "population":
                out.append(u)
                continue
            parts = split_for_memory(u.members, self.population_bytes, budget)
            if len(parts) > 1:
                notes.append(
                    f"members {_span(u.members)}: estimated {self.population_bytes(u.members) / 2**20:.0f}"
                    f" MiB > budget {budget / 2**20:.0f} MiB, split into {len(parts)} populations"
                )
            out += [Unit("population" if len(p) > 1 else "sequential", p, u.padded) for p in parts]
        return out


def _width_cell(width: int) -> int:
    """The calibration cell of a hidden width: its quarter-octave above 8 (8, 10, 11, 13, 16, 19, 23, 27, 32, ...)."""
    return width if width <= 8 else round(8 * 2 ** (math.ceil(4 * math.log2(width / 8) - 1e-9) / 4))


def _width_floor(width: int) -> int:
    """The largest quarter-octave grid width (that of ``_width_cell``: 8, 10, 11, 13, 16, ...) at most ``width``."""
    if width <= 8:
        return width
    # from the cell above down to the first grid width that fits (rounded: 38 stands for 8 * 2**2.25 = 38.05)
    k = math.ceil(4 * math.log2(width / 8))
    while k > 0 and round(8 * 2 ** (k / 4)) > width:
        k -= 1
    return round(8 * 2 ** (k / 4))


def _clock(device: torch.device) -> Callable[[], float]:
    """The calibration clock: on a CPU with one torch thread, this process's CPU seconds (equal to elapsed
    time on an idle machine, and not distorted by other processes on a shared one); else elapsed seconds,
    after a CUDA synchronisation."""
    if device.type == "cuda":

        def now() -> float:
            torch.cuda.synchronize(device)
            return time.perf_counter()

        return now
    return time.process_time if torch.get_num_threads() == 1 else time.perf_counter


def _span(members: Sequence[int]) -> str:
    return f"{members[0]}..{members[-1]} ({len(members)})" if len(members) > 1 else str(members[0])
