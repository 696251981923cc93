"""Search findings of the third audit: a resume that grew junk FAIL trials, messages that blamed options never
given or misdescribed the space, a mistyped --resume study that overwrote another study's results, and the
storages' disagreement about a missing folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from testkit import flat as _flat
from testkit import label_csv
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.search.study import create_study, recover_interrupted, run_search, summarize

optuna.logging.set_verbosity(optuna.logging.WARNING)
runner = CliRunner()


def _arrays(seed: int = 0, n: int = 90, d: int = 3):
    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] > 0).astype(int)
    return prepare_arrays(X, y, task="binary", random_state=0, name="tiny")


def _csv(path: Path, seed: int = 0, n: int = 90) -> Path:
    return label_csv(path, seed, n)


# ---- 1: an interrupted slot whose re-queue was closed as surplus is not queued again


def _interrupted_study(journal: str, n: int = 4):
    """A journal study of ``n`` trials whose first batch of 3 was interrupted (Ctrl-C: failed and re-queued)."""
    data = _arrays()
    study, settings = create_study(
        data, storage=journal, study_name="s", n_trials=n, max_epochs=3, batch_size=3, group_size=1
    )
    for _ in range(3):
        t = study.ask()
        t.set_user_attr("worker", "gone:1")
    assert recover_interrupted(study, own="gone:1") == [0, 1, 2]
    return data, study, settings


def test_a_resume_after_stopping_with_one_trial_does_not_grow_the_study(tmp_path: Path) -> None:
    journal = str(tmp_path / "s.journal")
    data, study, settings = _interrupted_study(journal)
    run_search(study, data, settings, n_trials=1)  # "to stop here, --resume --trials 1"
    n_rows = len(study.get_trials(deepcopy=False))
    assert not study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    for _ in range(3):  # before: each resume queued the 2 interrupted trials again and closed them as surplus
        stats = run_search(study, data, settings, n_trials=1)
        assert stats.asked == 0 and stats.surplus == 0
        assert len(study.get_trials(deepcopy=False)) == n_rows
    counts = summarize(study, data, settings, storage_name=journal, seconds=0.0, refit=False).counts
    assert counts["finished"] == 1 and counts["retried"] == 3 and counts["not_rerun"] == 2
    # a larger budget later runs new trials in the released slots' stead (and does not wait on them)
    stats = run_search(study, data, settings, n_trials=3)
    counts = summarize(study, data, settings, storage_name=journal, seconds=0.0, refit=False).counts
    assert counts["finished"] == 3 and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,))


# ---- 2: tune --resume after a worker's larger --trials does not blame a --trials never given


def test_resume_after_a_worker_ran_past_the_total_names_the_stored_total(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "d.csv")
    journal = str(tmp_path / "s.journal")
    base = ["tune", str(csv), "--target", "label", "--storage", journal, "--study", "s", "--max-epochs", "3"]
    res = runner.invoke(app, [*base, "--trials", "2", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["worker", "--storage", journal, "--study", "s", "--trials", "3"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*base, "--resume"])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert "--trials 2" not in text  # before: "note: --trials 2 is below the 3 trials ..."
    assert "the study's stored total (2 trials) is below the 3 trials the study already had" in text


# ---- 10: --resume of a study the storage does not hold is refused, and the folder's results are kept


def test_resume_of_a_mistyped_study_is_refused_and_keeps_the_folders_results(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "d.csv")
    out = tmp_path / "out"
    base = [
        "tune",
        str(csv),
        "--target",
        "label",
        "--max-epochs",
        "3",
        "--batch-size",
        "2",
        "--out",
        str(out),
    ]
    res = runner.invoke(app, [*base, "--trials", "2"])
    assert res.exit_code == 0, res.output
    before = (out / "result.json").read_bytes(), (out / "trials.csv").read_bytes()
    res = runner.invoke(app, [*base, "--trials", "2", "--study", "d-labl", "--resume"])
    assert res.exit_code == 1, res.output
    text = _flat(res.output)
    assert f"--resume: no study named 'd-labl' in journal file '{out / 'study.journal'}'" in text
    assert "did you mean 'd-label'?" in text and "it holds 1 study: 'd-label'" in text
    assert "drop --resume to start a new study" in text
    assert ((out / "result.json").read_bytes(), (out / "trials.csv").read_bytes()) == before
    res = runner.invoke(
        app, ["tune", str(csv), "--target", "label", "--resume", "--out", str(tmp_path / "new")]
    )
    assert res.exit_code == 1 and "there is no journal file at" in _flat(res.output)
    assert not (tmp_path / "new" / "study.journal").exists()


# ---- 3: the first-trial rule names a fixed hidden's widths


def test_the_first_trial_rule_lists_unequal_widths() -> None:
    from hyperselect.search import advise

    text = _flat(advise(_arrays(), max_epochs=5).fix(hidden=(64, 32)).describe())
    assert "2 hidden layers (64, 32)" in text and "hidden layers of 64" not in text
    assert "2 hidden layers of 16" in _flat(advise(_arrays(), max_epochs=5).fix(hidden=(16, 16)).describe())


# ---- 4 and 11: space files: a key given twice is refused; .json is named among the types


def test_a_key_given_twice_in_a_space_file_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    from hyperselect.errors import ConfigError
    from hyperselect.search.space import load_overrides

    dup = tmp_path / "dup.yaml"
    dup.write_text("fix:\n  activation: relu\nfix:\n  optimizer: rmsprop\n")
    with pytest.raises(
        ConfigError, match=r"dup.yaml', line 3: the key 'fix' appears twice .*first on line 1"
    ):
        load_overrides(dup)
    nested = tmp_path / "nested.yml"
    nested.write_text("fix:\n  lr: 0.01\n  lr: 0.1\n")
    with pytest.raises(ConfigError, match=r"line 3: the key 'lr' appears twice"):
        load_overrides(nested)
    js = tmp_path / "dup.json"
    js.write_text('{"fix": {"activation": "relu"}, "fix": {"optimizer": "rmsprop"}}')
    with pytest.raises(ConfigError, match=r"dup.json': the key 'fix' appears twice"):
        load_overrides(js)
    ok = tmp_path / "ok.yaml"
    ok.write_text("fix:\n  activation: relu\n  optimizer: rmsprop\nnarrow:\n  lr: {low: 1e-4, high: 1e-2}\n")
    assert load_overrides(ok)["fix"] == {"activation": "relu", "optimizer": "rmsprop"}
    other = tmp_path / "space.txt"
    other.write_text("{}")
    with pytest.raises(ConfigError, match=r"expected \.toml, \.yaml, \.yml or \.json"):
        load_overrides(other)


def test_momentum_is_said_never_drawn_when_the_optimizer_is_narrowed_to_others() -> None:
    from hyperselect.search import advise

    space = advise(_arrays(), max_epochs=5).narrow("optimizer", choices=["adam", "rmsprop"])
    line = next(ln for ln in space.describe().splitlines() if ln.strip().startswith("momentum"))
    assert "(never drawn: optimizer is one of 'adam', 'rmsprop')" in line
    space = advise(_arrays(), max_epochs=5).narrow("optimizer", choices=["adam", "momentum"])
    line = next(ln for ln in space.describe().splitlines() if ln.strip().startswith("momentum"))
    assert "never drawn" not in line


# ---- 5: importances_note says why there are none


def test_importances_note_says_no_trial_reached_the_first_rung() -> None:
    from hyperselect.search import tune

    result = tune(_arrays(), n_trials=6, batch_size=3, max_epochs=12, timeout=1e-3, refit=False)
    assert result.rung_scored == 0 and result.importances == {}
    note = result.to_dict()["importances_note"]
    assert note.startswith("none: no trial reached the first rung") and "all trials reached" not in note


# ---- 7 and 8: a search stopped by --timeout says so; the refit is named before the test metrics


def test_a_timed_out_search_says_so_and_the_refit_is_named(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "d.csv")
    args = ["tune", str(csv), "--target", "label", "--trials", "500", "--timeout", "1s", "--max-epochs", "3"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    finished = json.loads((tmp_path / "out" / "result.json").read_text())["counts"]["finished"]
    assert f"stopped by --timeout 1s after {finished} of 500 trials; --resume continues" in text
    refit = json.loads((tmp_path / "out" / "result.json").read_text())["refit_epochs"]
    assert f"refit on train+valid for {refit} epoch" in text
    assert text.index("refit on train+valid") < text.index("test_accuracy")


# ---- 9: a search where every trial failed still writes trials.csv, and the hint names the fixed lr


def test_a_search_where_every_trial_diverged_writes_trials_csv_and_names_the_fixed_lr(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "d.csv")
    out = tmp_path / "out"
    args = ["tune", str(csv), "--target", "label", "--trials", "3", "--batch-size", "3", "--max-epochs", "3"]
    res = runner.invoke(app, [*args, "--fix", "lr=1e12", "--fix", "optimizer=momentum", "--out", str(out)])
    assert res.exit_code == 1, res.output
    text = _flat(res.output)
    assert "Every trial diverged, with the learning rate fixed to 1e+12 (--fix lr=1e+12 or" in text
    assert "narrow or extend 'lr'" not in text
    assert f"Each trial's reason is in {out / 'trials.csv'}" in text
    rows = pd.read_csv(out / "trials.csv")
    assert len(rows) == 3 and set(rows["outcome"]) == {"diverged"} and rows["reason"].notna().all()
    assert not (out / "result.json").exists()


def test_a_resume_on_a_mistyped_sqlite_folder_creates_no_folder(tmp_path: Path) -> None:
    """A review suspected that the storage check created the SQLite file's folder before --resume found no
    study there (it does not: check_storage skips SQLite, and the resume check opens it without creating)."""
    csv = _csv(tmp_path / "d.csv")
    url = f"sqlite:///{tmp_path / 'typo' / 'dir' / 's.db'}"
    res = runner.invoke(app, ["tune", str(csv), "--target", "label", "--storage", url, "--resume"])
    assert res.exit_code == 1, res.output
    assert not (tmp_path / "typo").exists()
