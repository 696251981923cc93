"""A study hyperselect writes opens in optuna-dashboard as it is (issue #4): its API lists the study, every
trial with its state, parameters and learning curve, and serves the dashboard page, from the journal file the CLI
writes and from an SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import optuna
import pytest

from hyperselect.data import load_builtin
from hyperselect.search import advise, tune

dashboard = pytest.importorskip(
    "optuna_dashboard", reason="optuna-dashboard is not installed (make test installs it)"
)


def _client(storage: optuna.storages.BaseStorage) -> Callable[[str], tuple[str, Any]]:
    app = dashboard.wsgi(storage)

    def get(path: str) -> tuple[str, Any]:
        env: dict[str, Any] = {}
        setup_testing_defaults(env)
        env.update(PATH_INFO=path, REQUEST_METHOD="GET")
        status: list[str] = []
        body = b"".join(app(env, lambda s, headers, exc_info=None: status.append(s)))
        return status[0], body

    return get


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_a_hyperselect_study_opens_in_optuna_dashboard(tmp_path: Path, kind: str) -> None:
    data = load_builtin("iris", random_state=0)
    url = str(tmp_path / "study.journal") if kind == "journal" else f"sqlite:///{tmp_path / 'study.db'}"
    result = tune(
        data,
        n_trials=6,
        batch_size=3,
        space=advise(data, max_epochs=6),
        storage=url,
        study_name="iris",
        refit=False,
    )
    # the dashboard opens the storage its own way, as `optuna-dashboard FILE_OR_URL` does, not through hyperselect
    from optuna_dashboard._storage_url import get_storage

    storage = get_storage(url)
    get = _client(storage)
    status, body = get("/api/studies")
    assert status.startswith("200")
    (summary,) = json.loads(body)["study_summaries"]
    assert summary["study_name"] == "iris" and summary["directions"] == ["maximize"]
    status, body = get(f"/api/studies/{summary['study_id']}")
    assert status.startswith("200")
    shown = json.loads(body)
    study = result.study
    assert study is not None
    trials = study.get_trials()
    assert [t["number"] for t in shown["trials"]] == [t.number for t in trials]
    for t, s in zip(trials, shown["trials"], strict=True):
        assert s["state"].upper() == t.state.name
        assert {p["name"] for p in s["params"]} == set(t.params)
        curve = {v["step"]: v["value"] for v in s["intermediate_values"]}
        assert curve == pytest.approx(dict(t.intermediate_values))  # the learning curves, as halving saw them
    assert shown["has_intermediate_values"] is True
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert [b["number"] for b in shown["best_trials"]] == [best.number]
    status, page = get("/dashboard")
    assert status.startswith("200") and b"<html" in page.lower()
