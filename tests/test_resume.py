"""Crash and resume: a `tune` process SIGKILLed mid-population keeps its finished trials, and `--resume` ends
the study with exactly the requested number of finished trials, none lost and none run twice."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from hyperselect.search.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)

N_TRIALS = 16


def _env() -> dict[str, str]:
    # one intra-op thread: a shared 2-core machine is ~10x slower with two threads fighting
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _digits_csv(path: Path) -> Path:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    header = ",".join([*(f"p{i}" for i in range(X.shape[1])), "digit"])
    rows = [",".join([*(str(int(v)) for v in x), str(int(t))]) for x, t in zip(X, y, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _snapshot(journal: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name=name, storage=open_storage(str(journal))).get_trials()
    except KeyError:  # the study is not created yet
        return []


@pytest.mark.timeout(600)
def test_sigkill_mid_population_then_resume(tmp_path: Path) -> None:
    data = _digits_csv(tmp_path / "digits.csv")
    journal = tmp_path / "study.journal"
    space = tmp_path / "space.toml"
    space.write_text("[base]\nmax_epochs = 12\n[fix]\nn_layers = 1\n")
    args = [
        sys.executable,
        "-m",
        "hyperselect.cli_search",
        "tune",
        str(data),
        "--target",
        "digit",
        "--trials",
        str(N_TRIALS),
        "--batch-size",
        "4",
        "--space",
        str(space),
        "--storage",
        str(journal),
        "--study",
        "crash",
    ]
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Kill it in the middle of a population: some trials of the batch finished (pruned at a rung), others
    # still training.
    at_kill: list[optuna.trial.FrozenTrial] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"tune ended (rc {proc.returncode}) before it could be killed mid-population:\n{out}")
        trials = _snapshot(journal, "crash")
        running = [t for t in trials if t.state is TrialState.RUNNING]
        finished = [t for t in trials if t.state.is_finished()]
        if len(finished) >= 2 and len(running) >= 1 and len(trials) < N_TRIALS:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()  # reap it: a zombie's pid still looks alive
            at_kill = _snapshot(journal, "crash")
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("tune never reached the middle of a population")
    assert proc.returncode == -signal.SIGKILL
    done_before = {t.number: (t.state, t.value, t.params) for t in at_kill if t.state.is_finished()}
    interrupted = [t.number for t in at_kill if t.state is TrialState.RUNNING]
    assert done_before and interrupted

    out_dir = tmp_path / "out"
    res = subprocess.run(
        [*args, "--resume", "--out", str(out_dir)], env=_env(), capture_output=True, text=True, timeout=500
    )
    assert res.returncode == 0, res.stdout + res.stderr

    trials = _snapshot(journal, "crash")
    by_number = {t.number: t for t in trials}
    # every trial finished before the kill is kept as it was
    for number, (state, value, params) in done_before.items():
        assert (by_number[number].state, by_number[number].value, by_number[number].params) == (
            state,
            value,
            params,
        )
    # the interrupted ones are FAIL 'interrupted' and re-run once each with the same configuration
    for number in interrupted:
        t = by_number[number]
        assert t.state is TrialState.FAIL and t.user_attrs["outcome"] == "interrupted"
        retries = [r for r in trials if r.system_attrs.get("failed_trial") == number]
        assert len(retries) == 1 and retries[0].params == t.params and retries[0].state.is_finished()
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    # exactly N finished slots, each finished once: no duplicate, no lost trial
    finished = [
        t
        for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        or (t.state is TrialState.FAIL and t.user_attrs.get("outcome") in ("diverged", "error"))
    ]
    slots = collections.Counter(t.system_attrs.get("failed_trial", t.number) for t in finished)
    assert len(finished) == N_TRIALS and set(slots.values()) == {1}
    assert sorted(slots) == sorted(
        {
            t.system_attrs.get("failed_trial", t.number)
            for t in trials
            if t.user_attrs.get("outcome") != "surplus"
        }
    )
    result = json.loads((out_dir / "result.json").read_text())
    assert result["counts"]["finished"] == N_TRIALS and result["counts"]["retried"] == len(interrupted)
    # trials.csv's FAIL rows are the budget's failures, the retried runs and the surplus ones, as the note says
    csv_fail = (pd.read_csv(out_dir / "trials.csv")["state"] == "FAIL").sum()
    c = result["counts"]
    assert csv_fail == c["FAIL"] + c["retried"] + c["surplus"] and "'retried'" in result["counts_note"]
    assert np.isfinite(result["test_metrics"]["test_accuracy"])
