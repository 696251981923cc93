"""Many workers, one study, a real PostgreSQL server on 127.0.0.1 (started by scripts/postgres.sh).

Several `hyperselect worker` processes feed one study; one is SIGKILLed mid-trial.  Its running trials are found
by heartbeat, marked FAIL, re-queued and finished by the others, and the study ends with exactly the requested
number of finished trials, each finished once.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hyperselect.search import Int, advise, create_study, tune
from hyperselect.search.storage import open_storage
from hyperselect.search.study import _is_crashed

pytestmark = pytest.mark.postgres
optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
N_WORKERS = 3
N_TRIALS = 12


@pytest.fixture(scope="session")
def pg_url() -> str:
    res = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, timeout=600
    )
    if res.returncode != 0:
        pytest.fail(f"scripts/postgres.sh start failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout.strip().splitlines()[-1]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _digits_csv(path: Path) -> Path:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    header = ",".join([*(f"p{i}" for i in range(X.shape[1])), "digit"])
    rows = [",".join([*(str(int(v)) for v in x), str(int(t))]) for x, t in zip(X, y, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_postgres_storage_runs_a_search(pg_url: str) -> None:
    """The library against the same server: same API as in-memory, journal and SQLite."""
    from sklearn.datasets import load_digits

    from hyperselect.data import prepare_arrays

    X, y = load_digits(return_X_y=True)
    data = prepare_arrays(X[:300], y[:300], task="multiclass")
    space = advise(data, max_epochs=4).extend("width", Int(16, 32, log=True)).fix(n_layers=1)
    name = f"lib-{uuid.uuid4().hex[:8]}"
    result = tune(data, n_trials=4, batch_size=2, min_epochs=2, space=space, storage=pg_url, study_name=name)
    assert result.counts["finished"] == 4 and result.storage.startswith("postgresql://hyperselect@127.0.0.1")
    again = optuna.load_study(study_name=name, storage=open_storage(pg_url))
    assert len(again.trials) == 4 and again.user_attrs["hyperselect"]["n_trials"] == 4
    # what `tune --resume` without --trials continues to, read without creating anything
    from hyperselect.search.study import stored_n_trials

    assert stored_n_trials(pg_url, name) == 4 and stored_n_trials(pg_url, name + "-none") is None


@pytest.mark.timeout(900)
def test_workers_with_one_sigkilled_finish_exactly_n_trials(pg_url: str, tmp_path: Path) -> None:
    from hyperselect.data import prepare_tabular

    csv = _digits_csv(tmp_path / "digits.csv")
    data = prepare_tabular(csv, "digit")
    space = advise(data, max_epochs=12).fix(n_layers=1)
    name = f"workers-{uuid.uuid4().hex[:8]}"
    create_study(
        data,
        storage=pg_url,
        study_name=name,
        n_trials=N_TRIALS,
        space=space,
        batch_size=2,
        data_ref={"path": str(csv), "target": "digit", "random_state": 0},
    )

    cmd = [
        sys.executable,
        "-m",
        "hyperselect.cli_search",
        "worker",
        "--storage",
        pg_url,
        "--study",
        name,
        "--heartbeat",
        "1",
    ]
    logs = [open(tmp_path / f"worker{i}.log", "w") for i in range(N_WORKERS)]  # noqa: SIM115
    workers = [subprocess.Popen(cmd, env=_env(), stdout=f, stderr=subprocess.STDOUT) for f in logs]
    victim = workers[0]
    storage = open_storage(pg_url)
    study = optuna.load_study(study_name=name, storage=storage)
    killed_trials: list[int] = []
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 400:
            mine = [
                t
                for t in study.get_trials(states=(TrialState.RUNNING,))
                if t.user_attrs.get("worker", "").endswith(f":{victim.pid}") and t.intermediate_values
            ]
            if mine:  # mid-trial: it has reported at least one epoch
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                killed_trials = [
                    t.number
                    for t in study.get_trials(states=(TrialState.RUNNING,))
                    if t.user_attrs.get("worker", "").endswith(f":{victim.pid}")
                ]
                break
            if victim.poll() is not None:
                break
            time.sleep(0.1)
        assert killed_trials, "the victim worker never got a trial to kill"
        for w in workers[1:]:
            w.wait(timeout=480)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for f in logs:
            f.close()
    outputs = [(tmp_path / f"worker{i}.log").read_text() for i in range(N_WORKERS)]
    for w, out in zip(workers[1:], outputs[1:], strict=True):
        assert w.returncode == 0, out

    trials = study.get_trials()
    by_number = {t.number: t for t in trials}
    # the victim's trials were failed by heartbeat and their configurations retried by the survivors
    for number in killed_trials:
        t = by_number[number]
        # no outcome, or one it was telling when it died (then it is a crash: retried, not counted)
        assert t.state is TrialState.FAIL and _is_crashed(t), t
        retries = [r for r in trials if r.system_attrs.get("failed_trial") == number]
        assert retries and retries[-1].params == t.params and retries[-1].state.is_finished()
        assert not retries[-1].user_attrs["worker"].endswith(f":{victim.pid}")
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    finished = [
        t
        for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        or (t.state is TrialState.FAIL and t.user_attrs.get("outcome") in ("diverged", "error"))
    ]
    slots = collections.Counter(t.system_attrs.get("failed_trial", t.number) for t in finished)
    assert len(finished) == N_TRIALS, [(t.number, t.state.name, t.user_attrs.get("outcome")) for t in trials]
    assert set(slots.values()) == {1}  # each requested trial finished exactly once: none lost, none twice
    assert len({t.user_attrs.get("worker") for t in finished}) >= 2  # the survivors shared the work
    print(
        f"\npostgres: workers={N_WORKERS} trials={N_TRIALS} kills=1 killed_trials={len(killed_trials)} "
        f"retried={sum(1 for t in trials if 'failed_trial' in t.system_attrs)} "
        f"surplus={sum(1 for t in trials if t.user_attrs.get('outcome') == 'surplus')} "
        f"lost={N_TRIALS - len(slots)}"
    )


def test_the_url_tune_was_given_opens_in_optuna_and_optuna_dashboard(pg_url: str) -> None:
    """The very URL a user gives ``--storage`` opens the study in ``optuna.load_study`` and in optuna-dashboard,
    which read ``postgresql://`` with SQLAlchemy's default driver (psycopg 3), not through hyperselect."""
    from sklearn.datasets import load_digits

    from hyperselect.data import prepare_arrays

    X, y = load_digits(return_X_y=True)
    data = prepare_arrays(X[:200], y[:200], task="multiclass")
    space = advise(data, max_epochs=3).fix(n_layers=1, width=16)
    name = f"dash-{uuid.uuid4().hex[:8]}"
    assert pg_url.startswith("postgresql://")
    tune(
        data,
        n_trials=2,
        batch_size=2,
        min_epochs=2,
        space=space,
        storage=pg_url,
        study_name=name,
        refit=False,
    )
    study = optuna.load_study(study_name=name, storage=pg_url)
    assert len(study.trials) == 2
    dashboard = pytest.importorskip(
        "optuna_dashboard._storage_url", reason="optuna-dashboard is not installed"
    )
    loaded = dashboard.get_storage(pg_url)
    assert name in [s.study_name for s in loaded.get_all_studies()]


def test_a_trial_has_a_heartbeat_from_the_moment_it_is_asked(pg_url: str) -> None:
    """A process killed between asking its batch and training it left trials RUNNING without a heartbeat row,
    which Optuna never judges stale: every other worker then waited on them for ever."""
    from hyperselect.data import load_builtin
    from hyperselect.search import study as study_mod

    data = load_builtin("iris", random_state=0)
    name = f"beat-{uuid.uuid4().hex[:8]}"
    study, settings = create_study(data, storage=pg_url, study_name=name, n_trials=4, heartbeat_interval=2)
    batch = study_mod._ask_batch(study, settings, 2, 4, "gone:1", study_mod.SearchStats())
    backend = study._storage._backend  # type: ignore[attr-defined]
    time.sleep(11)  # past the 10 s grace floor, with no beat after the ask (the process "died")
    assert {t._trial_id for t, _ in batch} <= set(backend._get_stale_trial_ids(study._study_id))
