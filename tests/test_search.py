"""The search loop: tune() over cohorts with successive halving, storages, budgets, results and the CLI."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from hyperselect.errors import ConfigError, StorageError
from hyperselect.search import Categorical, Float, Int, advise, slot_counts, tune
from hyperselect.search.study import create_study, make_sampler, recover_interrupted

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def digits():  # type: ignore[no-untyped-def]
    from sklearn.datasets import load_digits

    from hyperselect.data import prepare_arrays

    X, y = load_digits(return_X_y=True)
    return prepare_arrays(X[:400], y[:400], task="multiclass", random_state=0, name="digits400")


def small_space(data):  # type: ignore[no-untyped-def]
    return advise(data, max_epochs=6).extend("width", Int(16, 32, log=True)).fix(n_layers=1)


def run(data, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("space", small_space(data))
    kw.setdefault("n_trials", 6)
    kw.setdefault("batch_size", 3)
    kw.setdefault("min_epochs", 2)
    return tune(data, **kw)


def test_tune_records_learning_curves_states_and_results(digits) -> None:  # type: ignore[no-untyped-def]
    result = run(digits)
    study = result.study
    assert study is not None
    trials = study.get_trials()
    assert result.counts["finished"] == 6 == len(trials)
    assert result.rungs == [2, 6]
    states = {t.state for t in trials}
    assert TrialState.COMPLETE in states and states <= {
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
    }
    for t in trials:
        assert t.user_attrs["outcome"] in ("completed", "early_stopped", "pruned", "diverged")
        if t.state is TrialState.FAIL:
            continue
        # one intermediate value per epoch trained: the study holds the learning curves
        assert sorted(t.intermediate_values) == list(range(t.user_attrs["epochs"]))
        if t.state is TrialState.PRUNED:
            assert t.user_attrs["epochs"] == 2 and "successive halving" in t.user_attrs["reason"]
        else:
            # the value is the score at the epoch the trainer keeps (chosen by validation loss), not the max
            assert t.value == pytest.approx(t.intermediate_values[t.user_attrs["best_epoch"]])
            assert t.value <= max(t.intermediate_values.values())
    # the first trial is the advisor's default configuration
    assert trials[0].params["optimizer"] == "adam" and trials[0].params["lr"] == pytest.approx(1e-3)
    best = max((t for t in trials if t.state is TrialState.COMPLETE), key=lambda t: t.value)
    assert result.best_trial == best.number and result.best_valid_score == best.value
    assert result.best_config.to_dict() == best.user_attrs["config"]
    assert 0.5 < result.test_metrics["test_accuracy"] <= 1.0
    assert result.refit_epochs == best.user_attrs["best_epoch"] + 1
    assert set(result.importances) <= {p for t in trials for p in t.params} and result.importances
    assert len(result.trials) == 6 and {"number", "state", "value", "param_lr"} <= set(result.trials.columns)
    # trials.csv's best_score is what halving compared and its reason quotes, next to Optuna's value
    table = result.trials.set_index("number")
    for t in trials:
        if t.intermediate_values:
            assert table.loc[t.number, "best_score"] == pytest.approx(max(t.intermediate_values.values()))
        if t.state is TrialState.PRUNED:
            assert f"best score so far {table.loc[t.number, 'best_score']:.4f} " in t.user_attrs["reason"]
    json.dumps(result.to_dict())  # JSON-ready


def test_save_writes_result_and_trials_atomically(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(digits, n_trials=3)
    out = result.save(tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["result.json", "trials.csv"]  # no temp files left
    saved = json.loads((out / "result.json").read_text())
    assert saved["best_config"] == result.best_config.to_dict()
    assert saved["test_metrics"]["test_accuracy"] == pytest.approx(result.test_metrics["test_accuracy"])
    table = pd.read_csv(out / "trials.csv")
    assert list(table["number"]) == [0, 1, 2]
    # every trial's learning curve travels in result.json (the report plots it whatever the storage)
    study_trials = result.study.get_trials()  # type: ignore[union-attr]
    assert [t["number"] for t in saved["trials"]] == [0, 1, 2]
    for rec, t in zip(saved["trials"], study_trials, strict=True):
        assert rec["intermediate_values"] == {str(k): v for k, v in sorted(t.intermediate_values.items())}
        assert rec["intermediate_values"] and rec["state"] == t.state.name and rec["params"] == t.params


@pytest.mark.parametrize("backend", ["journal", "sqlite"])
def test_every_storage_gives_the_same_search(digits, tmp_path: Path, backend: str) -> None:  # type: ignore[no-untyped-def]
    reference = run(digits, random_state=3)
    storage = str(tmp_path / "s.journal") if backend == "journal" else f"sqlite:///{tmp_path / 's.db'}"
    other = run(digits, random_state=3, storage=storage, study_name="same")
    assert other.best_config == reference.best_config
    assert other.test_metrics == pytest.approx(reference.test_metrics)
    ref_vals = [(t.number, t.state, t.value) for t in reference.study.get_trials()]  # type: ignore[union-attr]
    assert [(t.number, t.state, t.value) for t in other.study.get_trials()] == ref_vals  # type: ignore[union-attr]
    curves = [t["intermediate_values"] for t in other.to_dict()["trials"]]
    assert curves == [t["intermediate_values"] for t in reference.to_dict()["trials"]] and all(curves)
    # the study is really stored there: it can be reopened by name
    again = optuna.load_study(study_name="same", storage=other.study._storage)  # type: ignore[union-attr]
    assert len(again.trials) == 6


def test_diverged_trials_fail_with_their_reason_and_the_rest_go_on(digits) -> None:  # type: ignore[no-untyped-def]
    space = (
        small_space(digits)
        .fix(optimizer="momentum", momentum=0.9, lr_schedule="constant")
        .extend("lr", Categorical((0.01, 1e12)))
    )
    result = run(digits, space=space, n_trials=6, sampler="random")
    trials = result.study.get_trials()  # type: ignore[union-attr]
    failed = [t for t in trials if t.state is TrialState.FAIL]
    assert failed, "lr=1e12 must diverge"
    for t in failed:
        assert t.params["lr"] == 1e12
        assert t.user_attrs["outcome"] == "diverged" and "diverged" in t.user_attrs["reason"]
        assert t.user_attrs["epochs"] == 1  # stopped at the epoch it diverged
    assert all(t.params["lr"] == 0.01 for t in trials if t.state is TrialState.COMPLETE)
    assert result.counts["finished"] == 6 and result.best_config.lr == 0.01


def test_resume_continues_to_the_total(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    storage = str(tmp_path / "study.journal")
    first = run(digits, n_trials=3, storage=storage, study_name="r")
    first_values = [t.value for t in first.study.get_trials()]  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="already exists"):
        run(digits, n_trials=6, storage=storage, study_name="r")
    second = run(digits, n_trials=6, storage=storage, study_name="r", resume=True)
    trials = second.study.get_trials()  # type: ignore[union-attr]
    assert len(trials) == 6 and second.counts["finished"] == 6
    assert [t.value for t in trials[:3]] == first_values
    claimed, done = slot_counts(second.study)  # type: ignore[arg-type]
    assert claimed == done == set(range(6))
    # resuming a finished study runs nothing more
    third = run(digits, n_trials=6, storage=storage, study_name="r", resume=True)
    assert len(third.study.get_trials()) == 6  # type: ignore[union-attr]
    # every run's search seconds add up in the study (the report showed the last call's 0.3 s after a resume)
    assert first.study_seconds is not None and 0 < first.study_seconds <= first.seconds
    assert second.study_seconds is not None and second.study_seconds > first.study_seconds
    assert third.study_seconds is not None and third.study_seconds >= second.study_seconds > third.seconds
    assert third.to_dict()["study_seconds"] == third.study_seconds


def test_timeout_stops_the_search(digits) -> None:  # type: ignore[no-untyped-def]
    result = run(digits, n_trials=60, timeout=0.01)
    trials = result.study.get_trials()  # type: ignore[union-attr]
    assert len(trials) == 3  # one batch: the first always starts
    assert all(t.state is TrialState.PRUNED for t in trials)
    # the deadline is checked after every epoch: each member stops after its first, with its reason
    assert all(t.user_attrs["reason"] == "timeout: stopped after 1 epochs" for t in trials)
    assert all(len(t.intermediate_values) == 1 for t in trials)
    assert result.best_config is not None and "test_accuracy" in result.test_metrics


def test_timeout_bounds_a_rung_longer_than_the_timeout() -> None:
    """A rung (5 epochs of 9 networks) takes several times the timeout: the search stops within the timeout
    plus about one epoch, with every asked trial recorded (none lost) and the best so far refit."""
    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24_000, 32)).astype(np.float32)
    y = (X[:, :4].sum(1) > 0).astype(int) + 2 * (X[:, 4:8].sum(1) > 0).astype(int)
    data = prepare_arrays(X, y, task="multiclass", random_state=0, name="big")
    space = advise(data, max_epochs=40).fix(n_layers=1, width=32, batch_size=16)
    timeout = 1.5
    t0 = time.monotonic()
    result = tune(data, n_trials=30, timeout=timeout, space=space, refit=False)
    elapsed = time.monotonic() - t0
    trials = result.study.get_trials()  # type: ignore[union-attr]
    assert all(t.state is not TrialState.RUNNING for t in trials)
    assert result.counts["finished"] == len(trials) >= 9  # every asked trial recorded
    reasons = [t.user_attrs["reason"] for t in trials]
    assert any(r.startswith("timeout") for r in reasons), reasons
    assert all(r.startswith(("timeout", "successive halving", "early stopping")) for r in reasons), reasons
    assert math.isfinite(result.best_valid_score)
    # It may overrun by about one epoch of the batch (measured here, so a loaded machine scales both) plus the
    # set-up; the whole first rung (5 epochs, as before the fix) would take well over that.
    batch_epoch = sum(t.user_attrs["seconds"] / max(1, t.user_attrs["epochs"]) for t in trials)
    assert elapsed < timeout + 1.5 + 1.5 * batch_epoch, (elapsed, batch_epoch)


def _digits_cohort(digits, configs, mode: str):  # type: ignore[no-untyped-def]
    from hyperselect.train.cohort import Cohort

    return Cohort(
        configs,
        digits.X_train,
        digits.y_train,
        digits.X_valid,
        digits.y_valid,
        task="multiclass",
        n_classes=10,
        mode=mode,
    )


@pytest.mark.parametrize("mode", ["population", "sequential"])
def test_a_member_that_stops_early_is_told_before_its_batch_finishes(digits, mode: str) -> None:  # type: ignore[no-untyped-def]
    """A trial that early-stops is COMPLETE in the study while a batch-mate of its rung still trains, with the
    same figures as when it was told at the end of the rung; the batch-mate is told when it is done."""
    from hyperselect.nn.config import MLPConfig
    from hyperselect.search import run_halving

    # patience 1 and an improvement threshold nothing meets: it stops after its second epoch; the other runs 12
    quick = MLPConfig(hidden=(16,), max_epochs=12, batch_size=32, lr=1e-3, patience=1, min_delta=10.0)
    slow = MLPConfig(hidden=(16,), max_epochs=12, batch_size=32, lr=3e-3, patience=50)
    study = optuna.create_study(direction="maximize")
    trials = [study.ask() for _ in range(2)]
    cohort = _digits_cohort(digits, [quick, slow], mode)
    seen: list[tuple[str, int]] = []  # (the quick trial's state, the batch-mate's epoch) at each report
    orig = trials[1].report

    def watch(value: float, step: int) -> None:
        seen.append((study.get_trials()[0].state.name, step))
        orig(value, step)

    trials[1].report = watch  # type: ignore[method-assign]
    outcomes = run_halving(study, trials, cohort, rungs=[12])
    assert [o.state if o else None for o in outcomes] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert outcomes[0] is not None and outcomes[0].outcome == "early_stopped" and outcomes[0].epochs == 2
    # the quick one was COMPLETE while the slow one still had epochs to report
    complete_at = [step for state, step in seen if state == "COMPLETE"]
    assert complete_at and complete_at[0] <= outcomes[0].epochs + 1 < 11, seen
    assert outcomes[1] is not None and outcomes[1].epochs == 12
    summary = cohort.summary(0)
    told = study.get_trials()[0]
    assert told.value == summary.best_valid_score and told.user_attrs["epochs"] == outcomes[0].epochs


@pytest.mark.parametrize("mode", ["population", "sequential"])
def test_deadline_stops_members_inside_a_rung(digits, mode: str) -> None:  # type: ignore[no-untyped-def]
    """Past the deadline a member stops after its current epoch: a population after the epoch it is in, single
    networks waiting for their turn before they start; every trial is told PRUNED with a timeout reason."""
    from hyperselect.nn.config import MLPConfig
    from hyperselect.search import run_halving

    configs = [MLPConfig(hidden=(16,), max_epochs=20, batch_size=32, lr=1e-3 * (i + 1)) for i in range(3)]
    study = optuna.create_study(direction="maximize")
    trials = [study.ask() for _ in configs]
    cohort = _digits_cohort(digits, configs, mode)
    outcomes = run_halving(study, trials, cohort, rungs=[10, 20], deadline=time.monotonic() - 1.0)
    done = study.get_trials()
    assert all(o is not None and o.state is TrialState.PRUNED for o in outcomes)
    assert all(t.state is TrialState.PRUNED for t in done)
    epochs = [t.user_attrs["epochs"] for t in done]
    reasons = [t.user_attrs["reason"] for t in done]
    if mode == "population":
        assert epochs == [1, 1, 1] and all(r == "timeout: stopped after 1 epochs" for r in reasons)
    else:
        assert epochs == [1, 0, 0]
        assert reasons[1:] == ["timeout: stopped before its first epoch"] * 2
    assert len(done[0].intermediate_values) == 1  # the best so far has a score


@pytest.mark.parametrize("mode", ["population", "sequential"])
def test_deadline_interrupts_an_epoch_once_the_study_has_scores(digits, mode: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Once the study holds a score, the deadline is checked before every training step: training stops
    within a step of it, in the middle of an epoch (which on a large data set can take minutes), and every
    member is told PRUNED with its timeout reason and the epochs it finished."""
    from hyperselect.nn.config import MLPConfig
    from hyperselect.search import halving, run_halving
    from hyperselect.train.cohort import Cohort

    class Clock:  # each reading advances one tick: the deadline falls after a known number of checks
        now = 0.0

        def monotonic(self) -> float:
            self.now += 1.0
            return self.now

    clock = Clock()
    monkeypatch.setattr(halving, "time", clock)
    configs = [MLPConfig(hidden=(16,), max_epochs=20, batch_size=8, lr=1e-3 * (i + 1)) for i in range(3)]
    steps = math.ceil(len(digits.X_train) / 8)
    study = optuna.create_study(direction="maximize")
    study.tell(study.ask(), 0.5)  # an earlier batch's score
    trials = [study.ask() for _ in configs]
    cohort = _digits_cohort(digits, configs, mode)
    deadline = 1.5 * steps  # the middle of the second epoch (population) / of the second member's first epoch
    outcomes = run_halving(study, trials, cohort, rungs=[10, 20], deadline=deadline)
    assert clock.now <= deadline + 4  # a step or so past the deadline, not the rest of an epoch
    assert all(o is not None and o.state is TrialState.PRUNED for o in outcomes)
    epochs = [o.epochs for o in outcomes if o is not None]
    reasons = [o.reason for o in outcomes if o is not None]
    if mode == "population":
        assert epochs == [1, 1, 1] and reasons == ["timeout: stopped after 1 epochs"] * 3
    else:  # the first member trains one epoch (steps + its report), the second is cut inside its first
        assert epochs[0] == 1 and epochs[1:] == [0, 0]
        assert reasons[1:] == ["timeout: stopped before its first epoch"] * 2
    again = optuna.create_study(direction="maximize")  # an empty study: the first epoch completes
    clock.now = 0.0
    trials = [again.ask() for _ in configs]
    cohort = Cohort(
        configs, digits.X_train, digits.y_train, digits.X_valid, digits.y_valid, task="multiclass", mode=mode
    )
    outcomes = run_halving(again, trials, cohort, rungs=[10, 20], deadline=0.0)
    assert outcomes[0] is not None and outcomes[0].epochs == 1


def test_tune_searches_cnns_where_rows_are_images() -> None:
    from sklearn.datasets import load_digits

    from hyperselect.data import prepare_arrays
    from hyperselect.nn.config import CNNConfig

    X, y = load_digits(return_X_y=True)
    data = prepare_arrays(X[:240], y[:240], task="multiclass", random_state=0, input_shape=(1, 8, 8))
    space = advise(data, max_epochs=2).fix(n_layers=1, width=16, n_conv=1, conv_channels=8)
    assert "arch" in space.dims  # auto: the CNN family is offered next to the MLP
    result = tune(data, space=space, arch="cnn", n_trials=2, batch_size=2, min_epochs=1, refit=False)
    assert isinstance(result.best_config, CNNConfig) and result.best_config.input_shape == (1, 8, 8)
    assert result.counts["COMPLETE"] + result.counts["PRUNED"] == 2
    assert set(result.trials["param_kernel_size"]) <= {3, 5} and "param_arch" not in result.trials
    with pytest.raises(ConfigError, match="arch"):
        tune(data, space=space, arch="transformer", n_trials=1)


@pytest.mark.parametrize("sampler", ["random", "cmaes", "qmc"])
def test_other_samplers(digits, sampler: str) -> None:  # type: ignore[no-untyped-def]
    result = run(digits, n_trials=3, sampler=sampler, refit=False)
    assert result.counts["finished"] == 3 and result.test_metrics == {}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_trials": 0}, ConfigError, "n_trials"),
        ({"timeout": -1}, ConfigError, "timeout"),
        ({"batch_size": 0}, ConfigError, "batch_size"),
        ({"eta": 1}, ConfigError, "eta"),
        ({"sampler": "annealing"}, ConfigError, "Unknown sampler"),
        ({"storage": "ftp://host/x"}, StorageError, "Unknown storage URL scheme"),
        ({"storage": "   "}, StorageError, "empty"),
    ],
)
def test_bad_arguments(digits, kwargs, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        run(digits, **kwargs)


def test_storage_errors_name_the_storage(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError, match="is a directory"):
        run(digits, storage=str(tmp_path))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError, match=rf"postgresql://u@127.0.0.1:{port}/db"):
        run(digits, storage=f"postgresql://u:secret@127.0.0.1:{port}/db")


def test_slot_accounting() -> None:
    study = optuna.create_study()
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    add = study.add_trial
    add(optuna.create_trial(params={"x": 0.1}, distributions=dist, value=1.0))  # 0 complete
    add(optuna.create_trial(state=TrialState.FAIL, params={"x": 0.2}, distributions=dist))  # 1 crashed
    add(
        optuna.create_trial(
            state=TrialState.WAITING,
            params={"x": 0.2},
            distributions=dist,
            system_attrs={"failed_trial": 1, "retry_history": [1]},
        )
    )  # 2 retries 1
    add(optuna.create_trial(state=TrialState.FAIL, user_attrs={"outcome": "surplus"}))  # 3 surplus
    add(
        optuna.create_trial(
            state=TrialState.FAIL, params={"x": 0.3}, distributions=dist, user_attrs={"outcome": "diverged"}
        )
    )  # 4 final failure
    add(
        optuna.create_trial(
            state=TrialState.FAIL,
            params={"x": 0.4},
            distributions=dist,
            system_attrs={"failed_trial": 9, "retry_history": [9, 10, 11]},
        )
    )  # retries used up
    claimed, done = slot_counts(study)
    assert claimed == {0, 1, 4, 9} and done == {0, 4, 9}


def test_recover_interrupted_requeues_trials_of_dead_processes(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    storage = str(tmp_path / "j.journal")
    study, settings = create_study(digits, storage=storage, study_name="x", space=small_space(digits))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial = study.ask()
    settings.space.suggest(trial)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{dead.pid}")
    alive = study.ask()
    settings.space.suggest(alive)
    alive.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    assert recover_interrupted(study) == [trial.number]
    frozen = {t.number: t for t in study.get_trials()}
    assert frozen[trial.number].state is TrialState.FAIL
    assert frozen[trial.number].user_attrs["outcome"] == "interrupted"
    assert frozen[alive.number].state is TrialState.RUNNING  # a live process keeps its trial
    retry = [t for t in study.get_trials() if t.system_attrs.get("failed_trial") == trial.number]
    assert len(retry) == 1 and retry[0].state is TrialState.WAITING
    assert retry[0].params == frozen[trial.number].params
    assert recover_interrupted(study) == []  # idempotent: no second retry


def test_ctrl_c_releases_the_runs_own_trials_and_a_resume_from_another_host_finishes(  # type: ignore[no-untyped-def]
    digits, tmp_path: Path, monkeypatch
) -> None:
    """Ctrl-C left the batch's trials RUNNING in the journal: only a later run on the same host could tell they
    were orphans, one from another host name (a new container) waited on them forever.  The interrupted
    process now fails and re-queues exactly its own trials before the interrupt propagates."""
    from hyperselect.search import study as study_mod

    storage = str(tmp_path / "j.journal")
    study, settings = create_study(
        digits, storage=storage, study_name="x", space=small_space(digits), n_trials=4
    )
    other = study.ask()  # a live worker elsewhere: not ours to release
    settings.space.suggest(other)
    other.set_user_attr("worker", "elsewhere:1")

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(study_mod, "_train_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        study_mod.run_search(study, digits, settings)
    states = {t.number: (t.state, t.user_attrs.get("worker")) for t in study.get_trials()}
    running = [n for n, (state, _) in states.items() if state is TrialState.RUNNING]
    assert running == [other.number]
    failed = [t for t in study.get_trials() if t.state is TrialState.FAIL]
    assert failed and all(t.user_attrs["outcome"] == "interrupted" for t in failed)
    waiting = {t.system_attrs.get("failed_trial") for t in study.get_trials(states=(TrialState.WAITING,))}
    assert {t.number for t in failed} <= waiting  # each one re-queued
    monkeypatch.undo()
    study.tell(other.number, state=TrialState.PRUNED)  # the other worker finishes its trial
    monkeypatch.setattr(socket, "gethostname", lambda: "another-container")
    stats = study_mod.run_search(study, digits, settings, timeout=120)
    assert stats.batches >= 1
    _, done = slot_counts(study)
    assert len(done) == 4 and not study.get_trials(states=(TrialState.RUNNING,))


def test_a_journal_worker_says_which_other_hosts_trials_it_waits_on(
    digits, tmp_path: Path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.search import study as study_mod

    study, settings = create_study(digits, storage=str(tmp_path / "j.journal"), study_name="x", n_trials=1)
    trial = study.ask()
    settings.space.suggest(trial)
    trial.set_user_attr("worker", "gone-container:17")
    monkeypatch.setattr(study_mod, "WAIT_NOTICE_SECONDS", 0.0)
    with caplog.at_level("WARNING", logger="hyperselect.search.study"):
        stats = study_mod.run_search(study, digits, settings, timeout=0.5, poll_interval=0.05)
    notes = [r.getMessage() for r in caplog.records if "other hosts are running" in r.getMessage()]
    assert len(notes) == 1 and f"{trial.number} (gone-container:17)" in notes[0]  # said once, not per poll
    assert stats.batches == 0


def test_a_trials_outcome_is_the_last_attribute_written_before_its_state(digits) -> None:  # type: ignore[no-untyped-def]
    """What makes a half-told trial recognisable: every other result attribute is written before "outcome", and
    the state after it, so a worker killed in between leaves either no outcome or all of its attributes."""
    calls: list[tuple[int, str]] = []

    class Recording(optuna.storages.InMemoryStorage):
        def set_trial_user_attr(self, trial_id: int, key: str, value: object) -> None:
            calls.append((trial_id, key))
            super().set_trial_user_attr(trial_id, key, value)

        def set_trial_state_values(self, trial_id, state, values=None):  # type: ignore[no-untyped-def]
            if state.is_finished():
                calls.append((trial_id, "<state>"))
            return super().set_trial_state_values(trial_id, state, values)

    result = run(digits, storage=Recording())
    assert result.counts["finished"] == 6
    for t in result.study.get_trials():  # type: ignore[union-attr]
        mine = [key for tid, key in calls if tid == t._trial_id]
        assert mine[-2:] == ["outcome", "<state>"], mine
        assert {"reason", "epochs", "best_epoch", "config"} <= set(mine[: mine.index("outcome")])


def test_a_worker_killed_while_telling_is_retried_cleanly(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A worker writes a trial's result attributes, then tells its state; killed in between, the trial fails by
    heartbeat with the attributes on it.  Seen in CI: a trial FAIL with "outcome: pruned".  A PRUNED/COMPLETE
    outcome half told is a crash (retried, and the retry does not inherit it); a FAIL outcome half told
    (diverged) is final: heartbeat's FAIL is what the worker was telling, and a retry would train it twice."""
    from hyperselect.search.storage import open_storage
    from hyperselect.search.study import trials_table

    storage = open_storage(f"sqlite:///{tmp_path / 'hb.db'}", heartbeat_interval=1, grace_period=1)
    study, settings = create_study(digits, storage=storage, study_name="hb", space=small_space(digits))
    trials = {}
    for name, outcome in (("pruned", "pruned"), ("diverged", "diverged"), ("bare", None)):
        t = study.ask()
        settings.space.suggest(t)
        t.set_user_attr("worker", "elsewhere:1")
        if outcome is not None:
            t.set_user_attr("epochs", 3)
            t.set_user_attr("reason", f"{outcome} after epoch 2")
            t.set_user_attr("outcome", outcome)
        storage.record_heartbeat(t._trial_id)
        trials[name] = t.number
    time.sleep(2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.storages.fail_stale_trials(study)
    frozen = {t.number: t for t in study.get_trials()}
    retries = {t.system_attrs["failed_trial"]: t for t in frozen.values() if "failed_trial" in t.system_attrs}
    assert all(frozen[n].state is TrialState.FAIL for n in trials.values())
    assert sorted(retries) == [trials["pruned"], trials["bare"]]  # not the diverged one
    for n, r in retries.items():
        assert r.state is TrialState.WAITING and r.params == frozen[n].params
        assert not {"outcome", "reason", "epochs", "worker"} & set(r.user_attrs), r.user_attrs
    claimed, done = slot_counts(study)
    assert claimed == set(trials.values()) and done == {trials["diverged"]}
    table = trials_table(study).set_index("number")
    assert table.loc[trials["pruned"], "outcome"] == table.loc[trials["bare"], "outcome"] == "crashed"
    assert "heartbeat" in table.loc[trials["bare"], "reason"]
    assert table.loc[trials["diverged"], "outcome"] == "diverged"


# -- CLI ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    import typer

    from hyperselect.cli_search import register

    app = typer.Typer()
    register(app)
    return app


def test_cli_advise_prints_space_and_reasons(cli, tiny_classification_csv: Path) -> None:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(cli, ["advise", str(tiny_classification_csv), "--target", "target"])
    assert res.exit_code == 0, res.output
    assert "multiclass" in res.output and "why:" in res.output and "learning" not in res.output.lower()[:0]
    assert "class_weight" not in res.output  # three classes of about equal size: nothing to weigh
    res = CliRunner().invoke(cli, ["advise", str(tiny_classification_csv), "--target", "target", "--json"])
    assert json.loads(res.output)["dims"]["lr"]["log"] is True


def test_cli_advise_searches_class_weights_for_a_rare_class(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    frame["label"] = ["fraud"] * 20 + ["ok"] * 380
    csv = tmp_path / "fraud.csv"
    frame.to_csv(csv, index=False)
    res = CliRunner().invoke(cli, ["advise", str(csv), "--target", "label"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["class_weight"])
    assert "'none'" in lines[row] and "'balanced'" in lines[row]
    assert "why: the smallest class is 5.0% of the" in lines[row + 1]
    res = CliRunner().invoke(cli, ["advise", str(csv), "--target", "label", "--json"])
    space = json.loads(res.output)
    assert space["dims"]["class_weight"] == {"type": "categorical", "choices": ["none", "balanced"]}
    assert space["base"]["class_weight"] == "none"


def test_cli_advise_offers_the_cnn_for_images(cli) -> None:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(cli, ["advise", "digits"])
    assert res.exit_code == 0, res.output
    assert "convolutions share weights" in res.output and "kernel_size" in res.output
    res = CliRunner().invoke(cli, ["advise", "digits", "--arch", "mlp"])
    assert res.exit_code == 0 and "kernel_size" not in res.output
    res = CliRunner().invoke(cli, ["advise", "digits", "--arch", "rnn"])
    assert res.exit_code == 1 and "arch" in res.output


def test_cli_tune_writes_results(cli, tiny_classification_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    space = tmp_path / "space.toml"
    space.write_text("[base]\nmax_epochs = 4\n[fix]\nn_layers = 1\n")
    out = tmp_path / "out"
    args = [
        "tune",
        str(tiny_classification_csv),
        "--target",
        "target",
        "--trials",
        "3",
        "--batch-size",
        "3",
        "--group-size",
        "2",
        "--space",
        str(space),
        "--out",
        str(out),
        "--timeout",
        "10m",
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "best trial" in res.output and "test_accuracy" in res.output
    saved = json.loads((out / "result.json").read_text())
    assert saved["counts"]["finished"] == 3 and saved["best_config"]["max_epochs"] == 4
    assert (out / "study.journal").exists() and len(pd.read_csv(out / "trials.csv")) == 3
    # the run's page is drawn at the end, from what was written
    page = (out / "report.html").read_text()
    assert f"report: {out / 'report.html'}" in res.output
    assert page.lstrip().lower().startswith("<!doctype html") and "trials" in page
    # the journal holds the data reference and space, so a worker needs only --storage and --study
    study = optuna.load_study(
        study_name="tiny_classification-target",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(out / "study.journal"))
        ),
    )
    assert study.user_attrs["hyperselect"]["data"]["target"] == "target"
    assert study.user_attrs["hyperselect"]["group_size"] == 2
    assert "s in all" in res.output
    res = CliRunner().invoke(cli, [*args, "--trials", "4", "--resume"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "result.json").read_text())["counts"]["finished"] == 4
    assert "s this run" in res.output  # the seconds are this run's, not the study's
    # a budget below what the study has runs nothing, and says so (it was silent)
    res = CliRunner().invoke(cli, [*args, "--trials", "1", "--resume"])
    assert res.exit_code == 0, res.output
    assert "--trials 1 is below the 4 trials the study already had: no trial was run" in res.output
    assert json.loads((out / "result.json").read_text())["counts"]["finished"] == 4


def test_cli_tune_that_cannot_write_its_results_says_where_the_trials_are(  # type: ignore[no-untyped-def]
    cli, tiny_classification_csv: Path, tmp_path: Path
) -> None:
    """Before: the finished search ended in a Rich traceback (IsADirectoryError from the storage-error path)."""
    out = tmp_path / "out"
    (out / "result.json").mkdir(parents=True)  # as root, permissions do not stop a write: a folder in the way
    args = ["tune", str(tiny_classification_csv), "--target", "target", "--trials", "2", "--batch-size", "2"]
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--max-epochs", "3"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert f"error: Cannot write the results into '{out}'" in res.output
    assert "rerun the same command with --resume (no more trials are run)" in res.output
    (out / "result.json").rmdir()
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--max-epochs", "3", "--resume"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "result.json").read_text())["counts"]["finished"] == 2


def test_an_interrupted_tune_says_how_to_keep_the_best_so_far(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.cli_search import _interrupted

    journal = tmp_path / "study.journal"
    journal.write_text("")
    assert _interrupted(str(journal), "s", resume_hint=True, out=tmp_path).exit_code == 130
    err = capsys.readouterr().err
    assert "rerun the same command with --resume to continue" in err
    assert (
        f"rerun it with --resume --trials 1: no more trials are run, and the best so far is refit and written to '{tmp_path}'"
        in err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tune", "{csv}"], "--target"),
        (["tune", "{csv}", "--target", "nope"], "nope"),
        (["tune", "{csv}", "--target", "target", "--timeout", "soon"], "duration"),
        (["tune", "{csv}", "--target", "target", "--storage", "mongodb://x"], "Unknown storage URL scheme"),
        (["tune", "missing.csv", "--target", "y"], "neither a file nor a built-in"),
        (
            ["tune", "{csv}", "--target", "target", "--rung-rows", "a third"],
            "--rung-rows: cannot read 'a third'",
        ),
        (
            ["tune", "{csv}", "--target", "target", "--rung-rows", "0.5,0.2"],
            "--rung-rows: '0.2' is smaller than the fraction before it in '0.5,0.2'; they must not decrease",
        ),
        (
            ["tune", "{csv}", "--target", "target", "--rung-rows", "1/3,2"],
            r"--rung-rows: '2' in '1/3,2' is not a fraction of the training rows; expected each in (0, 1]",
        ),
        (["tune", "{csv}", "--target", "target", "--rung-rows", ".1,.2,.3,.4"], "give at most 3"),
        (["worker", "--storage", "{tmp}/none.journal", "--study", "s"], "There is no journal file at"),
    ],
)
def test_cli_errors_exit_1_with_the_message(
    cli,
    tiny_classification_csv: Path,
    tmp_path: Path,
    args,  # type: ignore[no-untyped-def]
    message,
    monkeypatch,
) -> None:
    args = [a.format(csv=tiny_classification_csv, tmp=tmp_path) for a in args]
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # where the CLI puts its default journal
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert message in res.output and "Traceback" not in res.output
    if "--rung-rows" in args:  # rejected before any study file is written
        assert not any(work.iterdir())


def test_parse_duration() -> None:
    from hyperselect.cli_search import parse_duration

    assert parse_duration("90") == 90 and parse_duration("90s") == 90
    assert parse_duration("10m") == 600 and parse_duration("1h30m") == 5400
    assert parse_duration(None) is None
    with pytest.raises(ConfigError):
        parse_duration("0s")
    assert math.isclose(parse_duration("1.5m") or 0, 90.0)
    assert np.isfinite(parse_duration("2h") or math.nan)
    # 1h30 read as 1 h 0 min 30 s without a word; 1m30 is plainly 90 s
    with pytest.raises(ConfigError, match=r"'1h30'.*write e\.g\. 1h30m or 1h30s"):
        parse_duration("1h30")
    assert parse_duration("1m30") == 90 and parse_duration("1h30s") == 3630


def test_parse_fractions() -> None:
    from hyperselect.cli_search import parse_fractions

    assert parse_fractions("1/9, 1/3", "--rung-rows") == [1 / 9, 1 / 3]
    assert parse_fractions("0.25", "--rung-rows") == [0.25]
    assert parse_fractions(None, "--x") is None and parse_fractions(" ", "--x") is None
    with pytest.raises(ConfigError, match="--rung-rows: cannot read '1/0'"):
        parse_fractions("1/0", "--rung-rows")


def test_batch_size_grid_keeps_the_range_and_the_prior(digits) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.search.study import batch_size_grid

    space = advise(digits, max_epochs=6).extend("batch_size", Int(16, 100, log=True, prior=64))
    grid = batch_size_grid(space)
    dim = grid.dims["batch_size"]
    assert isinstance(dim, Categorical) and dim.choices == (16, 32, 64)
    assert (
        dim.weights is not None and max(dim.weights) == dim.weights[2]
    )  # the prior's mode stays the favourite
    assert batch_size_grid(grid) == grid  # idempotent: a categorical is left alone
    # fewer than two powers of two in the range, or a linear range: unchanged
    for d in (Int(40, 60, log=True), Int(16, 64)):
        s = space.extend("batch_size", d)
        assert batch_size_grid(s).dims["batch_size"] == d
    # tune searches the grid by default and the space as given with batch_grid=False
    on = run(digits, space=small_space(digits).extend("batch_size", Int(16, 64, log=True)), refit=False)
    assert {c["params"]["batch_size"] for c in on.trial_records()} <= {16, 32, 64}
    assert isinstance(on.space.dims["batch_size"], Categorical)
    off = run(
        digits,
        space=small_space(digits).extend("batch_size", Int(16, 64, log=True)),
        refit=False,
        batch_grid=False,
    )
    assert isinstance(off.space.dims["batch_size"], Int)


def test_a_batch_comes_in_groups_that_share_batch_size_and_depth(digits) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.train.population import population_key

    space = advise(digits, max_epochs=4).extend("batch_size", Int(16, 64, log=True))
    res = run(digits, space=space, n_trials=8, batch_size=4, group_size=2, refit=False)
    study = res.study
    assert study is not None and study.user_attrs["hyperselect"]["group_size"] == 2
    trials = sorted(study.get_trials(), key=lambda t: t.number)
    assert len(trials) == 8
    for lead, follow in zip(trials[0::2], trials[1::2], strict=True):
        # the follower keeps the leader's structure, so both train in one population ...
        assert "group_of" not in lead.user_attrs and follow.user_attrs["group_of"] == lead.number
        for name in ("batch_size", "n_layers"):
            assert follow.params[name] == lead.params[name]
        cfgs = [config_of(t) for t in (lead, follow)]
        assert population_key(cfgs[0], "multiclass") == population_key(cfgs[1], "multiclass")
        # ... and the sampler draws the rest on its own
        assert follow.params["lr"] != lead.params["lr"]
    # group_size=1: every trial draws its own structure (no trial is enqueued as a follower)
    solo = run(digits, space=space, n_trials=8, batch_size=4, group_size=1, refit=False)
    assert solo.study is not None
    assert not any("group_of" in t.user_attrs for t in solo.study.get_trials())
    with pytest.raises(ConfigError, match="group_size"):
        run(digits, space=space, group_size=0)
    # a group never spans batches: one larger than the batch is refused, not silently cut to the batch
    with pytest.raises(
        ConfigError, match=r"'group_size' parameter of tune must be at most the batch size \(4, "
    ):
        run(digits, space=space, n_trials=8, batch_size=4, group_size=5)
    with pytest.raises(ConfigError, match=r"at most the batch size \(9, the default batch for 9 trials\)"):
        run(digits, space=space, n_trials=9, batch_size=None, group_size=10)


def config_of(trial):  # type: ignore[no-untyped-def]
    from hyperselect.nn.config import config_from_dict

    return config_from_dict(trial.user_attrs["config"])


def test_a_follower_left_waiting_by_a_dead_worker_is_closed_once_the_budget_is_done(
    digits, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    journal = str(tmp_path / "s.journal")
    run(digits, n_trials=3, storage=journal, study_name="s", refit=False)
    study = optuna.load_study(
        study_name="s",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal)),
    )
    # a worker enqueued a group follower and was killed before asking it
    study.enqueue_trial({"batch_size": 64}, user_attrs={"group_of": 0})
    res = run(digits, n_trials=3, storage=journal, study_name="s", resume=True, refit=False)
    assert res.study is not None
    trials = res.study.get_trials()
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    stray = [t for t in trials if t.user_attrs.get("outcome") == "surplus"]
    assert (
        len(stray) == 1
        and stray[0].state is TrialState.FAIL
        and "already finished" in stray[0].user_attrs["reason"]
    )
    assert res.counts["finished"] == 3


def test_tpe_gets_scipys_normal_cdfs_with_the_same_values() -> None:
    from optuna.samplers._tpe import _truncnorm
    from scipy.special import log_ndtr, ndtr

    from hyperselect.search import sampler

    make_sampler("tpe", 0)
    assert sampler.vectorise_tpe_log_ndtr() is True
    assert _truncnorm._log_ndtr is log_ndtr and _truncnorm._ndtr is ndtr
    (theirs_log,) = sampler._OPTUNA_LOG_NDTR
    (theirs,) = sampler._OPTUNA_NDTR
    x = np.random.default_rng(0).normal(size=500) * 15
    np.testing.assert_allclose(log_ndtr(x), theirs_log(x), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ndtr(x / 4), theirs(x / 4), rtol=1e-9, atol=1e-15)
    # what TPE computes with ndtr: the mass of a kernel that straddles zero, as Optuna computed it
    a, b = -np.abs(x[:50] / 4) - 0.1, np.abs(x[50:100] / 4) + 0.1
    np.testing.assert_allclose(
        _truncnorm._log_gauss_mass(a, b), np.log1p(-theirs(a) - theirs(-b)), rtol=1e-9, atol=1e-15
    )


def _propose_in_batches(sampler: optuna.samplers.BaseSampler) -> list[dict[str, object]]:
    """Eight batches of six proposals on a conditional space: per batch two trials PRUNED with a score, two
    COMPLETE (values rounded: ties), two left RUNNING until the next batch has been asked (constant liar)."""
    study = optuna.create_study(direction="maximize", sampler=sampler)
    waiting: list[optuna.trial.Trial] = []

    def value(p: dict[str, object]) -> float:
        lr = float(p["lr"])  # type: ignore[arg-type]
        widths = sum(float(p[f"w{i}"]) for i in range(int(p["n_layers"])))  # type: ignore[call-overload]
        return round(
            1.0 - abs(math.log10(lr) + 2.5) / 4 - abs(widths - 80) / 400 - 0.05 * (p["opt"] == "sgd"), 2
        )

    for _ in range(8):
        trials = [study.ask() for _ in range(6)]
        for t in trials:
            t.suggest_float("lr", 1e-4, 1e-1, log=True)
            for i in range(t.suggest_int("n_layers", 1, 3)):
                t.suggest_int(f"w{i}", 8, 64, log=True)
            if t.suggest_categorical("opt", ["adam", "sgd", "rmsprop"]) == "sgd":
                t.suggest_float("momentum", 0.0, 0.99)
        for t in waiting:
            study.tell(t, value(t.params))
        for j, t in enumerate(trials[:4]):
            if j % 2:
                study.tell(t, value(t.params))
            else:
                t.report(value(t.params) - 0.1, 2)
                study.tell(t, state=TrialState.PRUNED)
        waiting = trials[4:]
    return [t.params for t in study.trials]


@pytest.mark.parametrize("group", [True, False])
def test_batch_tpe_proposes_exactly_what_optunas_tpe_proposes(group: bool) -> None:
    """The cached TPE is a speed-up only: the same seed gives the same proposals, parameter for parameter, with
    running (constant liar), pruned and tied trials and a conditional space."""
    import warnings

    from hyperselect.search.sampler import BatchTPESampler, batch_tpe_available

    assert batch_tpe_available()
    kw = {"multivariate": True, "group": group, "constant_liar": True, "n_startup_trials": 5, "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _propose_in_batches(optuna.samplers.TPESampler(**kw))  # type: ignore[arg-type]
        ours = _propose_in_batches(BatchTPESampler(**kw))
    assert len(ours) == 48 and ours == theirs
    assert len({tuple(sorted(p.items())) for p in ours}) > 40  # the model proposed, not a constant
    base = make_sampler("tpe", 0)
    assert isinstance(base, BatchTPESampler)
    # any other TPE sampler in the process keeps Optuna's split (the hook is inactive outside ours)
    from optuna.samplers._tpe import sampler as tpe_module

    from hyperselect.search import sampler as sampler_mod

    assert tpe_module._split_trials is sampler_mod._split_trials
    assert getattr(sampler_mod._ACTIVE, "sampler", None) is None


def test_prior_weighted_acquisition_is_betas_share_of_the_priors_log_density() -> None:
    """piBO's acquisition half: TPE's log l/g at a candidate gains beta / n times the priors' log density there
    (normal on the log scale for a log dimension, the weight's log for a categorical, nothing without a prior)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    from hyperselect.search.sampler import BatchTPESampler

    dims = {
        "lr": Float(1e-4, 1e-1, log=True, prior=1e-3, spread=0.25),
        "opt": Categorical(("adam", "sgd", "rmsprop"), (6.0, 2.0, 0.0)),
        "free": Float(0.0, 1.0),
    }
    sampler = BatchTPESampler(prior=dims, prior_weight=5.0, seed=0)
    assert set(sampler.prior) == {"lr", "opt"}  # a dimension without a prior adds nothing
    space = {
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        # the study's order, not the dimension's: weights follow the choice, and a zero weight is floored
        "opt": CategoricalDistribution(["sgd", "rmsprop", "adam"]),
        "free": FloatDistribution(0.0, 1.0),
    }
    samples = {
        "lr": np.array([1e-3, 1e-2, 1e-4]),
        "opt": np.array([2, 0, 1]),
        "free": np.array([0.1, 0.5, 0.9]),
    }
    sigma = 0.25 * math.log(1e3)
    expected = np.array(
        [
            math.log(0.75),
            -0.5 * (math.log(10) / sigma) ** 2 + math.log(0.25),
            -0.5 * (math.log(10) / sigma) ** 2 + math.log(0.01 * 0.75),
        ]
    )
    np.testing.assert_allclose(sampler.prior_log_density(samples, space), expected)
    with pytest.raises(ValueError, match="prior_weight"):
        BatchTPESampler(prior=dims, prior_weight=-1.0)
    assert BatchTPESampler(prior={"free": dims["free"]}, prior_weight=5.0).prior_weight == 0.0


def _lr_distance_from_prior(prior_weight: float, seed: int) -> float:
    """Mean |log10 lr + 3| of TPE's proposals 12-59 on an objective that is pure noise: with nothing to learn
    TPE wanders over the range; the prior's share of the acquisition pulls it towards lr 1e-3."""
    import warnings

    from hyperselect.search.sampler import BatchTPESampler

    dims = {"lr": Float(1e-5, 1.0, log=True, prior=1e-3), "opt": Categorical(("adam", "sgd"), (3.0, 1.0))}
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = BatchTPESampler(
            prior=dims, prior_weight=prior_weight, multivariate=True, n_startup_trials=10, seed=seed
        )
    study = optuna.create_study(sampler=sampler)
    lrs = []
    for _ in range(60):
        t = study.ask()
        lrs.append(dims["lr"].suggest(t, "lr"))
        dims["opt"].suggest(t, "opt")
        study.tell(t, float(rng.normal()))
    return float(np.mean(np.abs(np.log10(lrs[12:]) + 3)))


def test_prior_weighted_tpe_proposes_nearer_the_prior_and_make_sampler_passes_it_on() -> None:
    from hyperselect.search.sampler import BatchTPESampler, PriorSampler

    plain = [_lr_distance_from_prior(0.0, s) for s in range(4)]
    weighted = [_lr_distance_from_prior(20.0, s) for s in range(4)]
    assert np.mean(weighted) < 0.8 * np.mean(plain), (weighted, plain)
    space = {"lr": Float(1e-5, 1.0, log=True, prior=1e-3)}
    sampler = make_sampler("tpe", 0, space=space, prior_weight=5.0)
    assert isinstance(sampler, PriorSampler) and isinstance(sampler.base, BatchTPESampler)
    assert sampler.base.prior_weight == 5.0 and set(sampler.base.prior) == {"lr"}
    # off by default, and without priors (or without a space) the model is Optuna's TPE as it is
    for plain_sampler in (
        make_sampler("tpe", 0, space=space).base,  # type: ignore[attr-defined]
        make_sampler("tpe", 0, prior_weight=5.0),
        make_sampler("tpe", 0, space={"lr": Float(1e-5, 1.0)}, prior_weight=5.0),
    ):
        assert isinstance(plain_sampler, BatchTPESampler) and plain_sampler.prior_weight == 0.0


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_stale_trials_are_judged_by_the_slowest_workers_beat(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker started with ``--heartbeat 2`` judged every trial with its own 10 s grace period and failed a
    live process's trials that beat every 30 s; each trial now records its worker's interval, and the grace
    period is at least twice the slowest among the running trials."""
    from hyperselect.search import study as study_mod
    from hyperselect.search.storage import open_storage

    url = f"sqlite:///{tmp_path / 'hb.db'}"
    fast = open_storage(url, heartbeat_interval=2)
    study = optuna.create_study(storage=fast, study_name="hb")
    slow_trial = study.ask()
    slow_trial.set_user_attr("heartbeat_interval", 30)  # asked by a default worker
    seen: list[int] = []
    monkeypatch.setattr(optuna.storages, "fail_stale_trials", lambda s: seen.append(fast.grace_period))
    study_mod._fail_stale_trials(study)
    assert seen == [60] and fast.grace_period == 10  # restored: its own judgement otherwise
    study.tell(slow_trial, 0.5)
    study.ask().set_user_attr("heartbeat_interval", 2)
    study_mod._fail_stale_trials(study)
    assert seen[-1] == 10  # only fast workers running: their own quick recovery
    # and the trials this worker asks say what it beats at
    stats = study_mod.SearchStats()
    settings_data = load_builtin_iris()
    st, settings = create_study(
        settings_data, storage=url, study_name="hb2", n_trials=2, heartbeat_interval=2
    )
    (trial, _), *_ = study_mod._ask_batch(st, settings, 1, 2, "me:1", stats)
    assert trial.user_attrs["heartbeat_interval"] == 2


def load_builtin_iris():  # type: ignore[no-untyped-def]
    from hyperselect.data import load_builtin

    return load_builtin("iris", random_state=0)


def test_a_refit_network_that_predicts_one_class_is_warned_about() -> None:
    """3 % positives: the tuned network said "no" for every test row and reported accuracy 0.969 (the majority's
    share) with no word; the test balanced accuracy is now reported and the constant prediction warned about."""
    import torch

    from hyperselect.search.study import _check_constant_prediction
    from hyperselect.tasks import Task

    class Data:
        classes = np.array(["no", "yes"])
        y_test = np.array([0] * 29 + [1])

    metrics: dict[str, float] = {}
    with pytest.warns(
        UserWarning, match=r"predicts .no. for every one of the 30 test rows: its accuracy 0\.967.*imbalanced"
    ):
        _check_constant_prediction(None, torch.full((30, 1), -3.0), Data(), Task.BINARY, metrics)
    assert metrics["test_balanced_accuracy"] == 0.5
    # searched by balanced accuracy, the warning does not blame accuracy: it says what else to try
    with pytest.warns(
        UserWarning, match=r"ranked configurations by balanced_accuracy.*class_weight='balanced'"
    ):
        _check_constant_prediction(
            None, torch.full((30, 1), -3.0), Data(), Task.BINARY, {}, "balanced_accuracy"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logits = torch.tensor([[-3.0]] * 28 + [[3.0], [3.0]])
        _check_constant_prediction(None, logits, Data(), Task.BINARY, metrics)
    assert 0.5 < metrics["test_balanced_accuracy"] <= 1.0


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_that_never_got_a_heartbeat_is_failed_and_requeued(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A process killed (or cut off from its database) between asking a trial and its first beat left it
    RUNNING for ever: Optuna judges only trials with a heartbeat row, and every other worker waited on it."""
    from hyperselect.search import study as study_mod

    url = f"sqlite:///{tmp_path / 'hb.db'}"
    data = load_builtin_iris()
    study, settings = create_study(data, storage=url, study_name="s", n_trials=2, heartbeat_interval=2)
    orphan = study.ask()  # asked, never beaten (its process "died")
    settings.space.suggest(orphan)
    study_mod._fail_stale_trials(study)
    assert study._storage.get_trial(orphan._trial_id).state is TrialState.RUNNING  # too recent to judge
    real = time.time
    monkeypatch.setattr(study_mod.time, "time", lambda: real() + 3600)
    study_mod._fail_stale_trials(study)
    assert study._storage.get_trial(orphan._trial_id).state is TrialState.FAIL
    retry = [t for t in study.get_trials() if t.system_attrs.get("failed_trial") == orphan.number]
    assert len(retry) == 1 and retry[0].state is TrialState.WAITING


def test_a_study_another_process_created_a_moment_ago_is_not_joined_silently(  # type: ignore[no-untyped-def]
    digits, tmp_path: Path, monkeypatch
) -> None:
    """The distributed audit: two `tune` runs racing to create one study on a new SQLite file both went on,
    the loser joining the winner's study (with other data its trials would mix); and the loser of the race to
    create the database's tables got a raw "UNIQUE constraint failed: alembic_version"."""
    import hyperselect.search.study as study_mod
    from hyperselect.search.storage import _schema_race

    storage = str(tmp_path / "study.journal")
    run(digits, n_trials=2, storage=storage, study_name="race")
    # it looked before the other process created the study
    monkeypatch.setattr(study_mod, "_study_names", lambda storage: [])
    with pytest.raises(StorageError, match=r"created in .* by another process a moment ago; resume it"):
        run(digits, n_trials=2, storage=storage, study_name="race")
    assert _schema_race(
        Exception("(sqlite3.IntegrityError) UNIQUE constraint failed: alembic_version.version_num")
    )
    assert _schema_race(Exception("(sqlite3.OperationalError) table studies already exists"))
    assert not _schema_race(Exception("unable to open database file"))


def _stuck_study(explore: bool, fixed_layers: bool = False) -> list[dict[str, object]]:
    """Twelve trials that all used one depth (as a population batch shares it), then three proposals."""
    from optuna.distributions import FloatDistribution, IntDistribution

    from hyperselect.search.sampler import PriorSampler

    class Stuck(optuna.samplers.RandomSampler):
        """A model that always proposes the depth every trial had (as TPE did on a many-dimensional space)."""

        def infer_relative_search_space(self, study, trial):  # type: ignore[no-untyped-def]
            return {"n_layers": IntDistribution(1, 3), "lr": FloatDistribution(1e-4, 1e-1, log=True)}

        def sample_relative(self, study, trial, search_space):  # type: ignore[no-untyped-def]
            return {"n_layers": 1, "lr": 2e-3}

    dims = {"n_layers": Int(1, 3, prior=2), "lr": Float(1e-4, 1e-1, log=True, prior=1e-3)}
    sampler = PriorSampler(dims, Stuck(seed=0), n_prior=6, seed=0, explore_unvaried=explore)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for i in range(12):
        study.enqueue_trial({"n_layers": 1})
        t = study.ask()
        lr = t.suggest_float("lr", 1e-4, 1e-1, log=True)
        t.suggest_int("n_layers", 1, 3)
        study.tell(t, 1.0 - abs(math.log10(lr) + 2.5) / 4 + 0.001 * i)
    out = []
    for _ in range(3):
        if fixed_layers:
            study.enqueue_trial({"n_layers": 1})
        t = study.ask()
        t.suggest_float("lr", 1e-4, 1e-1, log=True)
        t.suggest_int("n_layers", 1, 3)
        out.append(dict(t.params))
        study.tell(t, 0.5)
    return out


def test_a_dimension_no_trial_varied_gets_another_value_once() -> None:
    """An audit: a 150-trial search of the breast-cancer table kept the advisor's depth and batch size in every
    trial (TPE draws around the observed trials; its prior draws are joint and lose on every other dimension)."""
    stuck = _stuck_study(explore=False)
    assert [p["n_layers"] for p in stuck] == [1, 1, 1]  # the model alone never leaves the one value
    explored = _stuck_study(explore=True)
    assert explored[0]["n_layers"] != 1  # the first proposal after the prior phase tries another depth ...
    assert explored[0]["lr"] == stuck[0]["lr"] == 2e-3  # ... and keeps the model's other values
    assert [p["n_layers"] for p in explored[1:]] == [1, 1]  # once: then the model weighs both
    # a value the trial has fixed (a population's shared structure, a retried configuration) is kept
    assert [p["n_layers"] for p in _stuck_study(explore=True, fixed_layers=True)] == [1, 1, 1]


def test_a_default_search_tries_more_than_one_depth_and_batch_size() -> None:
    from sklearn.datasets import load_breast_cancer

    from hyperselect.data import prepare_arrays

    X, y = load_breast_cancer(return_X_y=True)
    data = prepare_arrays(X, y, task="binary", random_state=0, name="bc")
    # 54 trials: three batches of 18, the first of them all prior draws sharing the advisor's structure
    res = tune(data, n_trials=54, max_epochs=4, min_epochs=2, refit=False)
    trials = res.study.get_trials() if res.study is not None else []
    assert len({t.params["n_layers"] for t in trials}) > 1
    assert len({t.params["batch_size"] for t in trials}) > 1
    assert not res.unvaried
    # each such try is a small population (eta trials), not a whole batch of 18 spent on one guess
    from hyperselect.search.sampler import EXPLORED_ATTR

    leaders = [t for t in trials if t.system_attrs.get(EXPLORED_ATTR)]
    # (TPE may vary one of them itself once the other has been tried)
    assert leaders and {t.system_attrs[EXPLORED_ATTR] for t in leaders} <= {"n_layers", "batch_size"}
    for lead in leaders:
        followers = [t for t in trials if t.user_attrs.get("group_of") == lead.number]
        assert 1 <= len(followers) <= 2, (lead.number, len(followers))
