"""The data stream shared by the single trainer and the population trainer.

Both must see the same batches in the same order for the same ``data_seed``, or a population member could
not follow the single-network trajectory.  Shuffling uses its own CPU generator so that it does not depend on
the device or on how many models draw from the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Start/stop of each mini-batch; a last batch of one row is merged into the previous one.

    A batch of one row breaks batch normalisation in training mode and gives a gradient that is pure noise.
    """
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        (s0, _), _ = bounds[-2], bounds[-1]
        bounds = [*bounds[:-2], (s0, n)]
    return bounds


class EpochShuffler:
    """Yields one permutation of ``range(n)`` per epoch from a dedicated generator.

    With a :class:`RowSchedule`, an epoch that trains on part of the rows gets a permutation of that part (the
    schedule's prefix, in shuffled order) instead; ``epoch`` counts the permutations handed out.
    """

    def __init__(self, n: int, data_seed: int, schedule: RowSchedule | None = None) -> None:
        if schedule is not None and int(schedule.order.shape[0]) != n:
            raise ValueError(f"a row schedule over {schedule.order.shape[0]} rows for {n} training rows")
        self.n = n
        self.schedule = schedule
        self.epoch = 0
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(int(data_seed))

    def next_permutation(self) -> torch.Tensor:
        rows = None if self.schedule is None else self.schedule.rows(self.epoch)
        self.epoch += 1
        if rows is None:
            return torch.randperm(self.n, generator=self.generator)
        assert self.schedule is not None
        return self.schedule.order[:rows][torch.randperm(rows, generator=self.generator)]


class RowSchedule:
    """Which training rows each epoch sees: the first ``n_rows`` of one fixed order until an epoch, then all.

    Successive halving can spend its first rungs on part of the training rows (Hyperband's data budget): a
    screening epoch over a third of the rows costs a third.  ``steps`` is a list of ``(until_epoch, n_rows)``
    with increasing epochs: epochs before ``until_epoch`` train on ``order[:n_rows]``; epochs past the last step
    train on every row.  The order is nested (a smaller subset is a prefix of a larger one, so a member that goes
    on keeps the rows it has learnt from) and, given labels, stratified: every prefix holds the classes in about
    their proportions (:func:`nested_row_order`).
    """

    def __init__(self, order: torch.Tensor, steps: Sequence[tuple[int, int]]) -> None:
        n = int(order.shape[0])
        last_epoch, last_rows = 0, 0
        for until, rows in steps:
            if until <= last_epoch or not last_rows <= rows <= n or rows < 1:
                raise ValueError(
                    f"a row schedule needs increasing epochs and non-decreasing row counts in [1, {n}]; "
                    f"got {list(steps)}"
                )
            last_epoch, last_rows = until, rows
        self.order = order
        self.steps = [(int(u), int(r)) for u, r in steps if r < n]

    def rows(self, epoch: int) -> int | None:
        """How many rows (a prefix of ``order``) epoch ``epoch`` trains on; None: all of them."""
        for until, rows in self.steps:
            if epoch < until:
                return rows
        return None

    @classmethod
    def from_fractions(
        cls, order: torch.Tensor, rungs: Sequence[int], fractions: Sequence[float], min_rows: int = 0
    ) -> RowSchedule | None:
        """The schedule over ``order`` (:func:`nested_row_order`) for rungs whose first train on ``fractions``.

        ``rungs`` are cumulative epoch budgets: rung ``k`` (epochs ``rungs[k-1]`` to ``rungs[k]``) trains on
        ``fractions[k]`` of the rows, at least ``min_rows`` of them; rungs past either list train on every row.
        None where every rung trains on every row.
        """
        n = int(order.shape[0])
        steps = []
        for until, f in zip(rungs, fractions, strict=False):
            rows = min(n, max(int(min_rows), math.ceil(float(f) * n)))
            if rows < n:
                steps.append((int(until), rows))
        return cls(order, steps) if steps else None


def nested_row_order(y: Any, seed: int) -> torch.Tensor:
    """A random order of ``range(len(y))`` whose every prefix is stratified by ``y`` (given class labels).

    Each row's key is ``(rank within its class + u) / class size`` with ``u`` uniform in [0, 1), the ranks
    drawn at random: sorting by the key deals the classes out in proportion, so the first ``m`` rows hold
    about ``m * share`` of every class and a rare class appears as early as its share allows.  For continuous
    targets (floats that are not whole numbers) it is a plain random order.
    """
    t = torch.as_tensor(np.asarray(y))
    n = int(t.shape[0])
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed) + 7_919)
    perm = torch.randperm(n, generator=g)
    if t.dtype.is_floating_point and not bool(torch.all(t == torch.round(t))):
        return perm
    labels = t.reshape(n, -1)[:, 0] if t.dim() > 1 else t
    labels = labels[perm]
    _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    # rank of each (shuffled) row among the rows of its class
    order = torch.argsort(inverse, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n) - starts[inverse[order]]
    u = torch.rand(n, generator=g, dtype=torch.float64)
    key = (rank.to(torch.float64) + u) / counts[inverse].to(torch.float64)
    return perm[torch.argsort(key, stable=True)]
