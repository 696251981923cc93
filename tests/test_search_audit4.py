"""Search findings of the fourth audit: a resume's population batches built from stale group followers (and a
queued trial left as an empty trials.csv row), a space file whose [narrow.width] a [fix] hidden dropped unsaid,
an epoch's update count that disagreed with the trainer, integer columns of trials.csv written as floats, and an
advised batch-size range that tune searches on its powers of two unsaid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.errors import ConfigError
from hyperselect.search import advise
from hyperselect.search.study import create_study, recover_interrupted, run_search, summarize, trials_table
from hyperselect.train.batching import batch_bounds

optuna.logging.set_verbosity(optuna.logging.WARNING)
runner = CliRunner()
STRUCTURE = ("param_batch_size", "param_n_layers")


def _arrays(n: int = 600):
    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0, name="tiny")


def _resumed_after_an_interrupt(journal: str, n_trials: int):
    """A study whose first batch of 3 was interrupted (failed and re-queued), then resumed to ``n_trials``."""
    data = _arrays()  # 420 training rows: batch size and depth are both searched
    study, settings = create_study(
        data, storage=journal, study_name="s", n_trials=n_trials, max_epochs=3, batch_size=3
    )
    for _ in range(3):
        t = study.ask()
        settings.space.suggest(t)
        t.set_user_attr("worker", "gone:1")
    assert recover_interrupted(study, own="gone:1") == [0, 1, 2]
    return data, study, settings


def test_a_resumed_batch_is_one_population_not_stale_followers_of_earlier_groups(tmp_path: Path) -> None:
    data, study, settings = _resumed_after_an_interrupt(str(tmp_path / "s.journal"), 9)
    run_search(study, data, settings, n_trials=9)
    table = trials_table(study).set_index("number")
    # trials 3-5 re-run the interrupted ones; 6-8 and 9-11 are two fresh batches, each one group: every member
    # shares its leader's batch size and depth.  A follower used to be enqueued behind the re-queued trials, so
    # each batch began with stale followers of the previous batch's groups (depths 1, 2, 1 in one batch).
    for first in (6, 9):
        structures = {tuple(table.loc[n, list(STRUCTURE)]) for n in range(first, first + 3)}
        assert len(structures) == 1, (first, table.loc[first : first + 2, list(STRUCTURE)])
    assert not study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert "surplus" not in set(table["outcome"])


def test_a_queued_trial_in_trials_csv_says_it_is_queued(tmp_path: Path) -> None:
    _, study, _ = _resumed_after_an_interrupt(str(tmp_path / "s.journal"), 9)
    # the run stops before the queue is empty (as a --timeout or Ctrl-C can): the re-queued trials still wait
    table = trials_table(study)
    waiting = table[table["state"] == "WAITING"]
    assert len(waiting) == 3
    assert set(waiting["outcome"]) == {"queued"} and all("--resume" in r for r in waiting["reason"])


def test_trials_csv_keeps_integer_columns_integers_beside_a_failed_trial(tmp_path: Path) -> None:
    data, study, settings = _resumed_after_an_interrupt(str(tmp_path / "s.journal"), 6)
    run_search(study, data, settings, n_trials=6)
    table = trials_table(study)
    assert (table["state"] == "FAIL").sum() == 3  # the interrupted rows have no epochs
    text = table.to_csv(index=False)
    header, *rows = text.splitlines()
    cols = header.split(",")
    done = [dict(zip(cols, r.split(","), strict=False)) for r in rows]
    done = [r for r in done if r["state"] == "COMPLETE"]
    assert done
    for r in done:  # 'epochs 3.0', 'param_batch_size 32.0' before
        for col in ("epochs", "best_epoch", "n_parameters", *STRUCTURE):
            assert r[col].isdigit(), (col, r[col])
    records = summarize(study, data, settings, storage_name="s", seconds=1.0, refit=False).trial_records()
    failed = [r for r in records if r["state"] == "FAIL"]
    assert failed and all(r["epochs"] is None for r in failed)  # JSON-ready: a missing int is None
    assert all(isinstance(r["epochs"], int) for r in records if r["state"] == "COMPLETE")


def _space_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "space.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("section", ["narrow", "extend"])
def test_a_space_file_fixing_hidden_and_searching_width_is_refused(tmp_path: Path, section: str) -> None:
    space = advise(n_rows=2000, n_features=10, task="binary")
    body = "low = 16\nhigh = 32\n" + ('type = "int"\n' if section == "extend" else "")
    path = _space_file(tmp_path, f"[fix]\nhidden = [64, 32]\n\n[{section}.width]\n{body}")
    # fix runs last and a fixed hidden drops width: the user's range was dropped without a word
    with pytest.raises(ConfigError, match=rf"\[fix\] hidden and \[{section}\] width contradict"):
        space.apply_file(path)
    # each alone is fine
    assert space.apply_file(_space_file(tmp_path, "[fix]\nhidden = [64, 32]\n")).fixed["hidden"] == (64, 32)


@pytest.mark.parametrize("n_rows", [9, 15, 42, 79, 103])
def test_a_fixed_batch_size_reason_counts_the_updates_the_trainer_makes(n_rows: int) -> None:
    space = advise(n_rows=n_rows, n_features=5, task="binary")
    b = space.fixed["batch_size"]
    n = len(batch_bounds(n_rows, b))  # 42 rows in batches of 8: 6 updates (5 full, one of 2); it said 5
    assert f"an epoch has {n} update{'s' if n != 1 else ''}" in space.reasons["batch_size"]


def test_advise_says_tune_searches_the_batch_size_on_powers_of_two(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    csv = tmp_path / "d.csv"
    X = rng.normal(size=(2000, 3))
    lines = ["a,b,c,y", *(f"{a:.4f},{b:.4f},{c:.4f},{int(a > 0)}" for a, b, c in X)]
    csv.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["advise", str(csv), "--target", "y"])
    assert res.exit_code == 0, res.output
    line = next(i for i, s in enumerate(res.output.splitlines()) if s.strip().startswith("batch_size"))
    why = res.output.splitlines()[line + 1]
    assert "integer in [16, 128]" in res.output.splitlines()[line]  # the range narrow edits stays shown
    assert "tune tries one of 16" in why and "128" in why
