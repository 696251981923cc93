"""A study of the same name that hyperselect did not create (plain Optuna, another direction, settings edited by
another tool) is refused by tune, --resume and worker, naming the storage, instead of being mixed with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from testkit import flat as _flat
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.errors import StorageError
from hyperselect.search.study import create_study, study_settings

optuna.logging.set_verbosity(optuna.logging.WARNING)
runner = CliRunner()


def _plain_study(path: Path, name: str, direction: str = "minimize") -> None:
    study = optuna.create_study(
        study_name=name, storage=JournalStorage(JournalFileBackend(str(path))), direction=direction
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


@pytest.mark.parametrize("resume", [False, True])
def test_tune_refuses_a_plain_optuna_study(tmp_path: Path, resume: bool) -> None:
    journal = tmp_path / "s.journal"
    _plain_study(journal, "mine")
    args = ["tune", "iris", "--trials", "3", "--storage", str(journal), "--study", "mine"]
    res = runner.invoke(app, [*args, *(["--resume"] if resume else [])])
    assert res.exit_code == 1, res.output
    text = _flat(res.output)
    assert "'mine' in journal file" in text and "was not created by hyperselect" in text
    assert "direction minimize, 2 trial(s)" in text and "Choose another study name" in text
    study = optuna.load_study(study_name="mine", storage=JournalStorage(JournalFileBackend(str(journal))))
    assert len(study.trials) == 2  # nothing added to it


def test_worker_refuses_a_maximising_study_without_settings(tmp_path: Path) -> None:
    journal = tmp_path / "s.journal"
    _plain_study(journal, "theirs", direction="maximize")
    res = runner.invoke(app, ["worker", "--storage", str(journal), "--study", "theirs"])
    assert res.exit_code == 1
    assert "no hyperselect settings" in _flat(res.output)


def test_unreadable_settings_are_a_storage_error(tmp_path: Path) -> None:
    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    data = prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0)
    journal = tmp_path / "s.journal"
    study, _ = create_study(data, storage=str(journal), study_name="ok", n_trials=3)
    study.set_user_attr("hyperselect", {"n_trials": 5})  # edited by another tool
    with pytest.raises(StorageError, match=r"settings that cannot be read \(no 'space'\)"):
        study_settings(study)
    study.set_user_attr("hyperselect", "v1")
    with pytest.raises(StorageError, match="settings that cannot be read"):
        study_settings(study)


def test_a_waiting_worker_stops_at_its_timeout(tmp_path: Path) -> None:
    """Every slot claimed by a worker on another machine: this one waits for it, but only until its timeout."""
    import threading

    from hyperselect.data import prepare_arrays
    from hyperselect.search.study import run_search

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    data = prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0)
    study, settings = create_study(data, storage=str(tmp_path / "s.journal"), study_name="w", n_trials=1)
    trial = study.ask()  # the one slot, running elsewhere
    trial.set_user_attr("worker", "another-host:4242")
    done: list[float] = []

    def work() -> None:
        stats = run_search(study, data, settings, timeout=0.5, poll_interval=0.05)
        done.append(stats.seconds)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert done and done[0] < 10, "the worker kept waiting past its timeout"
