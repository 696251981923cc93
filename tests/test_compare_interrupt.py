"""Ctrl-C during ``hyperselect compare``: one line saying what was kept, exit 130, no traceback.

The audit's repro (SIGINT a few seconds into ``compare bc.csv --out DIR``): exit 130 with no word and DIR never
created; in a baseline's search Optuna's "Trial 3 failed with parameters ... KeyboardInterrupt()" and a
30-line traceback through ``objective -> est.fit``; in the network search "re-queued 9 interrupted trial(s)",
which suggests a resume compare does not have.  The interrupt is simulated by raising KeyboardInterrupt where
the signal would land.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.evaluate import baselines as bl
from hyperselect.evaluate.verdict import PARTIAL_FILE, CompareInterrupted, compare

pytestmark = pytest.mark.usefixtures("restore_cli_logging")

runner = CliRunner()
TINY = ["--trials", "1", "--baseline-trials", "2", "--folds", "3", "--repeats", "1", "--max-epochs", "2"]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, "yes", "no")
    lines = ["a,b,c,target"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(X, y, strict=True)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def optuna_records() -> Iterator[list[logging.LogRecord]]:
    """What Optuna logs (its logger does not propagate: caplog would not see it)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    lg = logging.getLogger("optuna")
    lg.addHandler(handler)
    try:
        yield records
    finally:
        lg.removeHandler(handler)


def _interrupt_score(monkeypatch: pytest.MonkeyPatch, on_call: int) -> None:
    """Ctrl-C inside the ``on_call``-th scoring of a baseline's tuning trial (inside Optuna's objective)."""
    calls = {"n": 0}
    real = bl.score

    def score(*args: Any, **kwargs: Any) -> float:
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(bl, "score", score)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_an_interrupted_baseline_search_is_not_logged_as_a_failed_trial(
    monkeypatch: pytest.MonkeyPatch, optuna_records: list[logging.LogRecord]
) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), np.arange(40) % 2
    _interrupt_score(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        bl.tune_baseline("linear", X[:30], y[:30], X[30:], y[30:], task="binary", n_trials=4)
    said = [r.getMessage() for r in optuna_records if r.levelno >= logging.WARNING]
    assert said == [], said  # was: "Trial 1 failed with parameters: ... KeyboardInterrupt()" + traceback


def test_a_genuine_trial_failure_still_propagates_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, optuna_records: list[logging.LogRecord]
) -> None:
    """Only the interrupt is kept out of Optuna's log: a bug in a trial still fails loudly."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), np.arange(40) % 2

    def broken(*args: Any, **kwargs: Any) -> float:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bl, "score", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        bl.tune_baseline("linear", X[:30], y[:30], X[30:], y[30:], task="binary", n_trials=2)
    assert any("RuntimeError" in r.getMessage() for r in optuna_records if r.levelno >= logging.WARNING)


def test_compare_interrupted_in_the_baselines_keeps_what_was_finished(
    table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, optuna_records: list[logging.LogRecord]
) -> None:
    out = tmp_path / "out"
    _interrupt_score(monkeypatch, 3)  # linear's two trials finish; naive Bayes's first is cut short
    res = runner.invoke(app, ["compare", str(table), "--target", "target", *TINY, "--out", str(out)])
    assert res.exit_code == 130, res.output
    flat = _flat(res.output)
    assert "Traceback" not in res.output and "failed" not in flat and "re-queued" not in flat
    assert (
        "interrupted: compare stopped while tuning the baselines, before its verdict; the models tuned so far "
        f"(1 network, 1 baseline) are in {out.resolve() / PARTIAL_FILE}"
    ) in flat
    assert "marked partial" in flat and "compare has no --resume" in flat
    assert not (out / "verdict.json").exists()
    partial = json.loads((out / PARTIAL_FILE).read_text())
    assert partial["partial"] is True and partial["interrupted_during"] == "tuning the baselines"
    assert [(c["name"], c["kind"]) for c in partial["candidates"]] == [
        ("mlp", "network"),
        ("linear", "baseline"),
    ]
    assert all(np.isfinite(c["valid_score"]) for c in partial["candidates"])
    assert "before its verdict" in partial["note"] and "recommendation" not in partial
    assert not [r for r in optuna_records if r.levelno >= logging.WARNING]

    # a finished run into the same folder writes its verdict and removes the interrupted run's part
    monkeypatch.undo()
    res = runner.invoke(
        app, ["compare", str(table), "--target", "target", *TINY, "--out", str(out), "--seed", "1"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "verdict.json").is_file() and not (out / PARTIAL_FILE).exists()


def test_compare_interrupted_in_the_network_search_writes_nothing_and_offers_no_resume(
    table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import hyperselect.search.study as study_module

    def stop(*args: Any, **kwargs: Any) -> None:  # the trials of the batch were asked and are RUNNING
        raise KeyboardInterrupt

    monkeypatch.setattr(study_module, "_train_batch", stop)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="hyperselect"):
        res = runner.invoke(app, ["compare", str(table), "--target", "target", *TINY, "--out", str(out)])
    assert res.exit_code == 130, res.output
    flat = _flat(res.output)
    assert (
        f"interrupted: compare stopped while tuning the networks, before its verdict; nothing was written to {out}."
    ) in flat
    assert "re-queued" not in flat and "re-queued" not in caplog.text and "released" not in caplog.text
    assert "Traceback" not in res.output
    assert not out.exists()


def test_compare_interrupted_without_out(table: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupt_score(monkeypatch, 1)
    res = runner.invoke(app, ["compare", str(table), "--target", "target", *TINY])
    assert res.exit_code == 130, res.output
    assert (
        "interrupted: compare stopped while tuning the baselines, before its verdict; nothing was written "
        in (_flat(res.output))
    )


def test_the_library_raises_compare_interrupted_with_the_finished_part(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.data import prepare_tabular

    data = prepare_tabular(table, "target", random_state=0)
    calls = {"n": 0}
    real = bl.make_baseline

    def make(*args: Any, **kwargs: Any) -> Any:  # the refits of cross-validation: Ctrl-C in the second fold
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(bl, "make_baseline", make)
    with pytest.raises(CompareInterrupted) as info:
        compare(
            data,
            n_trials=1,
            baseline_trials=1,
            baselines=["linear"],
            n_splits=3,
            n_repeats=1,
            max_epochs=2,
            curve_fractions=(),
        )
    stop = info.value
    assert isinstance(stop, KeyboardInterrupt) and stop.stage == "cross-validating"
    cands = {c["name"]: c for c in stop.partial["candidates"]}
    assert set(cands) == {"mlp", "linear"} and np.isfinite(cands["linear"]["test_score"])
    assert len(cands["mlp"]["cv_scores"]) == 2 and len(cands["linear"]["cv_scores"]) == 1
    assert stop.partial["settings"]["n_splits"] == 3 and "seconds" in stop.partial
