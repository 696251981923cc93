"""Running out of memory is contained by the cohort: populations split and retry, a member that alone does not
fit is stopped as ``diverged`` with ``"out of memory: ..."`` as its reason, and the other members go on."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch

from hyperselect.nn.config import MLPConfig
from hyperselect.train.cohort import Cohort
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun

EPOCHS = 3


def _data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X[:48], y[:48], X[48:], y[48:]


def _configs(n: int = 4) -> list[MLPConfig]:
    return [
        MLPConfig(hidden=(8,), lr=10.0 ** -(1 + i % 3), max_epochs=EPOCHS, patience=50, batch_size=16)
        for i in range(n)
    ]


def _cohort(configs: list[MLPConfig], mode: str = "population") -> Cohort:
    return Cohort(configs, *_data(), task="binary", mode=mode, device="cpu")


def _limit_population(monkeypatch: pytest.MonkeyPatch, max_rows: int, after_epochs: int = 0, exc: Any = None):
    """A population step runs out of memory when more than ``max_rows`` members are stacked (after
    ``after_epochs`` epochs), as a real device would for a population too large for it."""
    real = PopulationTrainer._train_step
    raised = Counter[str]()

    def step(self: PopulationTrainer, idx: torch.Tensor) -> Any:
        if self.n_stacked > max_rows and min(self._epochs[m] for m in self._ids) >= after_epochs:
            raised["population"] += 1
            raise (exc or torch.OutOfMemoryError)("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, idx)

    monkeypatch.setattr(PopulationTrainer, "_train_step", step)
    return raised


def _assert_all_completed(c: Cohort) -> None:
    for i in range(len(c)):
        res = c.result(i)
        assert res.status == "completed", (i, res.status, res.stop_reason)
        assert len(res.history) == EPOCHS and list(res.history.epoch) == list(range(EPOCHS))
        assert np.isfinite(res.best_valid_score)


def test_population_out_of_memory_splits_and_everyone_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _cohort(_configs())
    reference.run_epochs(EPOCHS)
    raised = _limit_population(monkeypatch, max_rows=2)
    c = _cohort(_configs())
    assert c.trained_by(0) == "population"
    c.run_epochs(EPOCHS)
    assert raised["population"] >= 1
    _assert_all_completed(c)
    assert all(c.trained_by(i) == "population" for i in range(4))  # halves of 2: still populations
    for i in range(4):  # rebuilt from the same initial weights and batches: the same training, up to rounding
        np.testing.assert_allclose(c.valid_scores(i), reference.valid_scores(i), rtol=1e-4, atol=1e-5)


def test_out_of_memory_mid_training_catches_up_without_reporting_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raised = _limit_population(monkeypatch, max_rows=1, after_epochs=1)
    seen: list[tuple[int, int]] = []

    def callback(i: int, epoch: int, score: float, loss: float) -> bool:
        seen.append((i, epoch))
        return False

    c = _cohort(_configs())
    c.run_epochs(2, callback)  # epoch 0 in the population; epoch 1 runs out of memory: split down to singles
    c.run_epochs(1, callback)
    assert raised["population"] >= 1
    assert all(c.trained_by(i) == "sequential" for i in range(4))
    _assert_all_completed(c)
    assert sorted(seen) == sorted((i, e) for i in range(4) for e in range(EPOCHS))  # each epoch once


@pytest.mark.parametrize("exc", [torch.OutOfMemoryError, MemoryError])
def test_member_that_alone_runs_out_of_memory_fails_alone(monkeypatch: pytest.MonkeyPatch, exc: Any) -> None:
    configs = _configs()
    configs[2] = configs[2].replace(hidden=(9,))  # the member that does not fit anywhere
    real_pop, real_seq = PopulationTrainer._train_step, NetworkRun.train_step

    def pop_step(self: PopulationTrainer, idx: torch.Tensor) -> Any:
        if any(self.configs[m].hidden == (9,) for m in self._ids):
            raise exc("out of memory allocating 9 units")
        return real_pop(self, idx)

    def seq_step(self: NetworkRun, idx: torch.Tensor) -> Any:
        if self.config.hidden == (9,):
            raise exc("out of memory allocating 9 units")
        return real_seq(self, idx)

    monkeypatch.setattr(PopulationTrainer, "_train_step", pop_step)
    monkeypatch.setattr(NetworkRun, "train_step", seq_step)
    c = _cohort(configs)
    c.run_epochs(EPOCHS)
    bad = c.result(2)
    assert bad.status == "diverged" and c.status(2) == "diverged" and not c.is_active(2)
    assert bad.stop_reason == "out of memory: out of memory allocating 9 units"
    for i in (0, 1, 3):
        res = c.result(i)
        assert res.status == "completed" and len(res.history) == EPOCHS, (i, res.stop_reason)
    assert c.active == []


def test_sequential_member_out_of_memory_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member alone trains as a population of one; out of memory there, it is retried as a single network
    (from its initial weights, caught up), and out of memory again it is recorded, the others unharmed."""
    real, real_pop = NetworkRun.train_step, PopulationTrainer._train_step
    tried: list[str] = []

    def step(self: NetworkRun, idx: torch.Tensor) -> Any:
        if self.random_state == 1 and self.epoch >= 1:
            tried.append("network")
            raise torch.OutOfMemoryError("CUDA out of memory.")
        return real(self, idx)

    def pop_step(self: PopulationTrainer, idx: torch.Tensor) -> Any:
        if self.seeds[self._ids[0]] == 1 and self._epochs[self._ids[0]] >= 1:
            tried.append("population")
            raise torch.OutOfMemoryError("CUDA out of memory.")
        return real_pop(self, idx)

    monkeypatch.setattr(NetworkRun, "train_step", step)
    monkeypatch.setattr(PopulationTrainer, "_train_step", pop_step)
    c = _cohort(_configs(3), mode="sequential")
    assert c.trained_by(1) == "sequential"
    c.run_epochs(EPOCHS)
    assert tried == ["population", "network"]
    assert c.status(1) == "diverged" and c.result(1).stop_reason == "out of memory: CUDA out of memory."
    assert len(c.result(1).history) == 1  # the epoch before it ran out is kept
    assert c.status(0) == c.status(2) == "completed"


def test_other_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def step(self: PopulationTrainer, idx: torch.Tensor) -> Any:
        raise RuntimeError("a real bug")

    monkeypatch.setattr(PopulationTrainer, "_train_step", step)
    c = _cohort(_configs())
    with pytest.raises(RuntimeError, match="a real bug"):
        c.run_epochs(1)
