"""Determinism on CPU: the same ``random_state`` gives the same search, best configuration and test metrics.

The planner picks population or sequential training by timing them, and timings differ run to run; so each run
here re-times (the timing cache is cleared) and a third run forces the other path, which must not change the
outcome either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hyperselect.train.planner as planner
from hyperselect.data import load_builtin
from hyperselect.nn.config import MLPConfig
from hyperselect.search import tune
from hyperselect.train.trainer import train_network


def _tune(data: Any) -> Any:
    planner._TIMINGS.clear()
    return tune(data, n_trials=6, max_epochs=6, min_epochs=2, random_state=3, refit=True)


def _outcome(result: Any) -> tuple[Any, ...]:
    trials = [(r["number"], r.get("state"), r.get("value"), r.get("params")) for r in result.trial_records()]
    return result.best_trial, result.best_config, result.best_valid_score, result.test_metrics, trials


def test_tune_same_random_state_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_builtin("iris")
    first = _outcome(_tune(data))
    assert _outcome(_tune(data)) == first
    original = planner.Planner.plan
    for forced in ("population", "sequential"):
        monkeypatch.setattr(planner.Planner, "plan", lambda self, mode="auto", f=forced: original(self, f))
        assert _outcome(_tune(data)) == first, forced


def test_train_network_twice_gives_identical_histories() -> None:
    data = load_builtin("breast_cancer")
    config = MLPConfig(hidden=(16, 8), lr=3e-3, dropout=0.2, max_epochs=5, batch_size=32)

    def run() -> Any:
        return train_network(
            config, data.X_train, data.y_train, data.X_valid, data.y_valid, task=data.task, random_state=7
        )

    a, b = run(), run()
    for name in ("train_loss", "valid_loss", "valid_score"):
        assert getattr(a.history, name) == getattr(b.history, name), name
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(np.array_equal(sa[k].numpy(), sb[k].numpy()) for k in sa)
