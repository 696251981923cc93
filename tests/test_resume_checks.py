"""A resumed study or a worker must train on the data the study was created from; options a resume ignores are
named; results can always be written where ``--out`` says, which is checked before any work."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import optuna
import pytest
from testkit import flat as _flat
from testkit import label_csv
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.errors import ConfigError
from hyperselect.report.views import search_view
from hyperselect.search.study import create_study, data_fingerprint, run_worker
from hyperselect.train.trainer import check_device

optuna.logging.set_verbosity(optuna.logging.WARNING)
runner = CliRunner()


def _arrays(seed: int = 0, n: int = 120, d: int = 4):
    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    return prepare_arrays(X, y, task="multiclass", random_state=0, name="blobs")


def _csv(path: Path, seed: int = 0, n: int = 120) -> Path:
    return label_csv(path, seed, n)


def test_fingerprint_follows_the_rows_and_ignores_last_bit_noise() -> None:
    a, b = _arrays(0), _arrays(0)
    assert data_fingerprint(a) == data_fingerprint(b)
    b.X_train = b.X_train + 1e-12  # another machine's sums, differing in the last bits
    assert data_fingerprint(a) == data_fingerprint(b)
    b.X_train = b.X_train.copy()
    b.X_train[3, 1] += 0.5  # an edited value
    assert data_fingerprint(a)["sha256"] != data_fingerprint(b)["sha256"]
    assert data_fingerprint(a)["rows"] == {
        "train": len(a.y_train),
        "valid": len(a.y_valid),
        "test": len(a.y_test),
    }


def test_resume_with_other_data_is_refused(tmp_path: Path) -> None:
    journal = str(tmp_path / "s.journal")
    create_study(_arrays(0), storage=journal, study_name="s", n_trials=4)
    with pytest.raises(
        ConfigError, match=r"data differ \(rows per split .* and 4 features then, .* and 6 features now"
    ):
        create_study(_arrays(1, d=6), storage=journal, study_name="s", n_trials=8, resume=True)
    with pytest.raises(ConfigError, match="the same shape, but other values"):
        create_study(_arrays(1), storage=journal, study_name="s", n_trials=8, resume=True)
    _, settings = create_study(_arrays(0), storage=journal, study_name="s", n_trials=8, resume=True)
    assert settings.n_trials == 8  # the same data resumes


def test_resume_with_another_target_or_seed_names_what_differs(tmp_path: Path) -> None:
    from hyperselect.cli_search import load_data

    journal = str(tmp_path / "s.journal")
    csv = _csv(tmp_path / "d.csv")
    d, ref = load_data(str(csv), "label", 0)
    create_study(d, storage=journal, study_name="s", n_trials=4, data_ref=ref)
    d1, ref1 = load_data(str(csv), "label", 1)
    with pytest.raises(ConfigError, match="random_state 0 then, 1 now"):
        create_study(d1, storage=journal, study_name="s", n_trials=8, resume=True, data_ref=ref1)


def test_a_worker_refuses_a_data_file_edited_since_the_study_was_created(tmp_path: Path) -> None:
    from hyperselect.cli_search import load_data

    journal = str(tmp_path / "s.journal")
    csv = _csv(tmp_path / "d.csv")
    d, ref = load_data(str(csv), "label", 0)
    create_study(d, storage=journal, study_name="s", n_trials=4, data_ref=ref)
    _csv(csv, seed=5)  # the same shape, other rows
    with pytest.raises(ConfigError, match=r"Study 's' was created from .*d\.csv.*other values"):
        run_worker(journal, "s")


def test_resume_names_the_options_it_ignores_and_a_missing_study(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = str(tmp_path / "s.journal")
    data = _arrays(0)
    create_study(data, storage=journal, study_name="s", n_trials=4, max_epochs=30)
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        create_study(data, storage=journal, study_name="s", n_trials=12, resume=True, max_epochs=30)
    assert not [
        r for r in caplog.records if "ignored" in r.getMessage()
    ]  # a default batch size follows n_trials
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        create_study(data, storage=journal, study_name="s", n_trials=12, resume=True, max_epochs=10, eta=2)
    (msg,) = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert "eta 2 (stored 3)" in msg and "max_epochs" in msg
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        create_study(data, storage=journal, study_name="typo", n_trials=4, resume=True)
    (msg,) = [r.getMessage() for r in caplog.records if "no study named" in r.getMessage()]
    assert "'typo'" in msg and "it holds 1 study: 's'" in msg


@pytest.mark.parametrize("command", ["train", "tune", "compare"])
def test_out_naming_a_file_is_refused_before_any_work(tmp_path: Path, command: str) -> None:
    csv = _csv(tmp_path / "d.csv")
    afile = tmp_path / "afile.txt"
    afile.write_text("keep me\n")
    res = runner.invoke(app, [command, str(csv), "--target", "label", "--out", str(afile)])
    assert res.exit_code == 2, res.output
    assert "is a file; expected a folder" in _flat(res.output)
    assert afile.read_text() == "keep me\n"
    res = runner.invoke(app, [command, str(csv), "--target", "label", "--out", str(afile / "sub")])
    assert res.exit_code == 2 and "cannot create the folder" in _flat(res.output)


def test_ctrl_c_during_tune_says_where_the_trials_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hyperselect.search as search

    csv = _csv(tmp_path / "d.csv")
    journal = tmp_path / "s.journal"
    journal.write_text("")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(search, "tune", interrupted)
    res = runner.invoke(
        app, ["tune", str(csv), "--target", "label", "--storage", str(journal), "--study", "s"]
    )
    assert res.exit_code == 130
    assert "interrupted: the finished trials of study 's' are kept in journal file" in _flat(res.output)
    assert "--resume" in res.output


def test_check_device() -> None:
    assert check_device("cpu").type == "cpu"
    assert check_device(None).type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match=r"must be 'cpu', 'cuda' or 'cuda:N'\. Got 'gpu'"):
        check_device("gpu")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            check_device("cuda", "--device")


def test_check_device_strict_and_lenient_wordings() -> None:
    """With ``expected`` (tune's and run_worker's check) a non-device value or another kind of device is
    malformed; without it, a device kind torch knows is one this machine lacks, as before."""
    import torch

    from hyperselect.search.study import check_device_arg

    strict = "None or one of 'cpu', 'cuda', 'cuda:N', 'mps'"
    assert check_device(torch.device("cpu"), expected=strict).type == "cpu"
    check_device_arg("tune", None)
    check_device_arg("tune", "cpu")
    check_device_arg("tune", torch.device("cpu"))
    for bad in (0, 1.5, ["cpu"], "gpu", "meta", torch.device("meta")):
        message = f"The 'device' parameter of run_worker must be {strict}. Got {bad!r}."
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
            check_device_arg("run_worker", bad)
    with pytest.raises(ConfigError, match=r"^The 'device' is 'meta', which this machine does not have"):
        check_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(
            ConfigError, match=r"^The 'device' parameter of tune is 'cuda:1', but this machine"
        ):
            check_device_arg("tune", "cuda:1")


def test_report_counts_follow_the_searchs_tally() -> None:
    trials = [{"number": i, "state": "FAIL", "value": None} for i in range(4)]
    trials += [{"number": 4, "state": "COMPLETE", "value": 0.9}]
    result = {
        "best_config": {"lr": 0.01},
        "trials": trials,
        "counts": {"COMPLETE": 1, "PRUNED": 0, "FAIL": 0, "finished": 1, "surplus": 1, "retried": 3},
    }
    view = search_view(result, None)
    assert view is not None
    assert view["counts"] == {
        "COMPLETE": 1,
        "PRUNED": 0,
        "FAIL": 0,
        "run again after a crash or interrupt": 3,
        "surplus": 1,
    }
    del result["counts"]  # an older result: counted from the trials' states
    assert search_view(result, None)["counts"] == {"FAIL": 4, "COMPLETE": 1}  # type: ignore[index]


def test_a_worker_on_a_missing_journal_creates_nothing(tmp_path: Path) -> None:
    from hyperselect.errors import StorageError

    with pytest.raises(StorageError, match="no journal file"):
        run_worker(str(tmp_path / "nothere.journal"), "s")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_study_name_suggests_the_close_one_and_lists_few() -> None:
    from hyperselect.search.study import _held

    names = [f"pw-{i}" for i in range(60)] + ["ktune"]
    held = _held("ktun", names)
    assert held.startswith("; did you mean 'ktune'? (it holds 61 studies: 'pw-0', ")
    assert held.endswith(", ...)") and "'pw-9'" not in held
    assert _held("x", []) == "; it holds no study"


def test_resume_without_trials_keeps_the_studys_total(tmp_path: Path) -> None:
    """`--resume` alone raised a 3-trial study to the default 30 (and `--resume --trials 1`, which the Ctrl-C
    message suggests to stop, left a total of 1 that the next plain `--resume` raised to 30 again); without
    --trials a resumed study now keeps the total it has, and --trials sets a new one."""
    from hyperselect.search.study import DEFAULT_TRIALS, stored_n_trials

    csv = _csv(tmp_path / "d.csv")
    journal = tmp_path / "s.journal"
    base = ["tune", str(csv), "--target", "label", "--max-epochs", "3", "--storage", str(journal)]
    base += ["--study", "s"]
    assert stored_n_trials(journal, "s") is None and not journal.exists()  # nothing is created to ask
    res = CliRunner().invoke(app, [*base, "--trials", "3"])
    assert res.exit_code == 0, res.output
    assert stored_n_trials(journal, "s") == 3 and stored_n_trials(journal, "other") is None

    def finished() -> int:
        study = optuna.load_study(
            study_name="s",
            storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))),
        )
        return sum(t.state.is_finished() for t in study.trials)

    res = CliRunner().invoke(app, [*base, "--resume"])
    assert res.exit_code == 0, res.output
    assert finished() == 3 and stored_n_trials(journal, "s") == 3 and "below" not in res.output
    res = CliRunner().invoke(app, [*base, "--resume", "--trials", "5"])
    assert res.exit_code == 0 and finished() == 5 and stored_n_trials(journal, "s") == 5
    # a new study without --trials gets the default total (the timeout stops it long before)
    res = CliRunner().invoke(app, [*base[:-1], "t", "--timeout", "1"])
    assert res.exit_code == 0, res.output
    assert stored_n_trials(journal, "t") == DEFAULT_TRIALS == 30
