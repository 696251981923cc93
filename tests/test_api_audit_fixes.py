"""The Python API, as an audit used it: predictions for a shuffled DataFrame lined up with other rows, and a
search's result could not be saved as a model that load_model reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyperselect import load_model
from hyperselect.data import prepare_tabular
from hyperselect.search import advise, tune


def _frame(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    df["y"] = np.where(df.a + 0.2 * df.b > 0, "up", "down")
    return df


def test_a_saved_search_is_a_model_folder_and_predictions_keep_the_frames_index(tmp_path: Path) -> None:
    df = _frame()
    data = prepare_tabular(df, "y")
    result = tune(data, n_trials=3, space=advise(data, max_epochs=4), batch_size=3)
    out = result.save(tmp_path / "run", data, random_state=0)
    assert (out / "result.json").exists() and (out / "model" / "config.json").exists()
    model = load_model(out)
    shuffled = df.sample(frac=1.0, random_state=1)
    pred = model.predictions(shuffled)
    assert list(pred.index) == list(shuffled.index)
    shuffled["pred"] = pred["prediction"]  # pandas aligns on the index
    by_position = model.predict(shuffled.drop(columns="pred"))
    assert (shuffled["pred"].to_numpy() == by_position).all()
    assert (shuffled["pred"] == shuffled["y"]).mean() > 0.8
    # without the data no model is written (result.json alone cannot rebuild the preprocessing)
    bare = result.save(tmp_path / "bare")
    assert not (bare / "model").exists()


def test_list_cells_in_a_feature_are_refused_naming_the_column(tmp_path: Path) -> None:
    """Parquet list cells were one-hot encoded as '[1 2]', Python lists as '[np.int64(1), ...]': each model's
    categories were the other's unseen ones."""
    import pytest

    from hyperselect.errors import DataError

    df = _frame(60)
    df["tags"] = [[1, 2] if i % 2 else [3] for i in range(60)]
    with pytest.raises(DataError, match=r"feature column 'tags' holds lists \(such as \[3\] at row 0\)"):
        prepare_tabular(df, "y")
    pytest.importorskip("pyarrow")
    df.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"feature column 'tags' holds lists .* at row 1\)"):
        prepare_tabular(tmp_path / "t.parquet", "y")


def test_a_multilabel_target_of_one_row_per_label_is_refused() -> None:
    import pytest

    from hyperselect.errors import DataError

    df = _frame(100)
    df["y"] = np.random.default_rng(0).normal(size=100).round(4)
    with pytest.raises(DataError, match=r"distinct labels in 100 rows .*\(task='regression'\)"):
        prepare_tabular(df, "y", task="multilabel")


def test_compare_takes_a_timeout_and_passes_it_to_every_search(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`compare --timeout` did not exist, though `tune` has one and compare() takes it."""
    from typer.testing import CliRunner

    import hyperselect.evaluate.verdict as verdict_mod
    from hyperselect.cli import app

    seen: dict[str, object] = {}

    def fake_compare(data, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        raise verdict_mod.ConfigError("stop here")

    monkeypatch.setattr(verdict_mod, "compare", fake_compare)
    res = CliRunner().invoke(app, ["compare", "iris", "--timeout", "1m30s"])
    assert res.exit_code == 1 and "stop here" in res.output
    assert seen["timeout"] == 90.0
    bad = CliRunner().invoke(app, ["compare", "iris", "--timeout", "soon"])
    assert bad.exit_code == 1 and "Cannot read the duration 'soon'" in bad.output


def test_tune_prints_small_test_errors_with_their_digits(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hyperselect.cli import app

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    df["y"] = 1e-6 * (df.a + 0.1 * rng.normal(size=200))
    df.to_csv(tmp_path / "r.csv", index=False)
    res = CliRunner().invoke(
        app, ["tune", str(tmp_path / "r.csv"), "--target", "y", "--trials", "3", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "test_rmse" in ln)
    assert "e-0" in line and "0.0000" not in line  # 1e-7-sized, not 0.0000
    assert "test_loss (standardised target)" in res.output


def test_a_nearly_constant_regression_target_is_warned_about_and_a_varied_one_is_not() -> None:
    import warnings

    from hyperselect.data.tabular import DataWarning

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(400, 2)), columns=["a", "b"])
    df["y"] = 0.0
    df.loc[:4, "y"] = rng.normal(size=5) + 3.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_tabular(df, "y", task="regression")
    texts = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert any("is 0.0 in 98.8% of the rows (5 of 400" in t for t in texts), texts
    df["y"] = rng.normal(size=400)
    df.loc[:300, "y"] = 1.5  # 75 %: a common value, not a near-constant
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_tabular(df, "y", task="regression")
    assert not [w for w in caught if "of the rows" in str(w.message)]


def test_a_multilabel_label_in_a_row_or_two_is_warned_about_by_name() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    labels = [("x" if a > 0 else "y") + ("|z" if i % 3 == 0 else "") for i, a in enumerate(df.a)]
    labels[7] += "|once"
    df["tags"] = labels
    data = prepare_tabular(df, "tags", task="multilabel")
    notes = " ".join(data.notes)
    assert "'once'" in notes and ("no training rows" in notes or "fewer than 3 rows" in notes), notes
    assert "'z'" not in notes and "'x'" not in notes
    df["tags"] = [lab.replace("|once", "") for lab in labels]
    assert not prepare_tabular(df, "tags", task="multilabel").notes


def test_a_dimension_every_trial_shared_is_said_and_gets_no_importance() -> None:
    """An audit: a 9-trial search never varied n_layers (a batch shares depth; the first takes the advisor's),
    yet PED-ANOVA ranked n_layers above the activation."""
    data = prepare_tabular(_frame(), "y")
    space = advise(data, max_epochs=4).extend("n_layers", {"type": "int", "low": 1, "high": 3})
    result = tune(data, n_trials=6, space=space, batch_size=6)
    layers = {int(v) for v in result.trials["param_n_layers"].dropna()}
    assert layers == {result.unvaried["n_layers"]} and "n_layers" not in result.importances
    assert result.to_dict()["unvaried"]["n_layers"] == result.unvaried["n_layers"]
    assert "batch_size" in result.unvaried  # shared by the batch too
    assert "left out" in result.to_dict()["importances_note"]


def test_the_unvaried_warning_gives_each_dimension_its_own_reason(caplog) -> None:  # type: ignore[no-untyped-def]
    """An audit: the warning listed the optimizer and said "the trials of a batch share depth and batch size",
    which does not explain an optimizer."""
    import logging

    import optuna

    from hyperselect.search.study import _unvaried

    space = advise(prepare_tabular(_frame(), "y"), max_epochs=4)
    dist = optuna.distributions.CategoricalDistribution(["adam", "sgd"])
    bdist = optuna.distributions.CategoricalDistribution([8, 16])
    trials = [
        optuna.trial.create_trial(
            params={"optimizer": "adam", "batch_size": 8},
            distributions={"optimizer": dist, "batch_size": bdist},
            value=0.5,
        )
        for _ in range(12)
    ]
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        assert _unvaried(trials, space, "s") == {"optimizer": "adam", "batch_size": 8}
    text = caplog.text
    assert "trials trained together as one population share their batch size" in text and "depth" not in text
    assert "favour the advisor's optimizer and 12 draws all agreed" in text
    caplog.clear()
    # four trials agreeing is unremarkable: recorded (result.json) and said at the info level, not warned
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        assert _unvaried(trials[:4], space, "s") == {"optimizer": "adam", "batch_size": 8}
    assert not caplog.text
    with caplog.at_level(logging.INFO, logger="hyperselect"):
        _unvaried(trials[:4], space, "s")
    assert "4 draws all agreed" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hyperselect"):
        assert _unvaried(trials[:2], space, "s") == {}  # two trials: too few to say anything
    assert not caplog.text


def test_a_fixed_batch_size_above_the_training_rows_is_said(caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    data = prepare_tabular(_frame(), "y")
    space = advise(data, max_epochs=2).fix(batch_size=100_000)
    with caplog.at_level(logging.WARNING, logger="hyperselect"):
        tune(data, n_trials=2, space=space, batch_size=2)
    said = [r.getMessage() for r in caplog.records if "full-batch" in r.getMessage()]
    assert len(said) == 1 and "fixed to 100000" in said[0] and f"{len(data.y_train)} training rows" in said[0]


def test_an_early_stopped_trial_reports_its_last_epoch_to_the_study() -> None:
    """An audit: a trial that early-stopped after 16 epochs (0-15) held intermediate values up to epoch 14 --
    the epoch that stopped it was never reported, so the study's learning curves ended one epoch short."""
    data = prepare_tabular(_frame(), "y")
    space = advise(data, max_epochs=60).with_base(patience=2)
    result = tune(data, n_trials=6, space=space, batch_size=6, random_state=0)
    stopped = [
        t
        for t in result.study.get_trials(deepcopy=False)
        if t.user_attrs.get("reason", "").startswith("early stopping")
    ]
    assert stopped, [t.user_attrs.get("reason") for t in result.study.get_trials(deepcopy=False)]
    for t in stopped:
        assert max(t.intermediate_values) == t.user_attrs["epochs"] - 1, (t.number, t.intermediate_values)


def test_the_single_trainer_reports_the_epoch_that_stopped_it() -> None:
    from hyperselect.nn.config import MLPConfig
    from hyperselect.train.trainer import train_network

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=120)  # noise: the validation loss soon rises, and early stopping ends it
    seen: list[int] = []

    def cb(epoch: int, score: float, loss: float) -> bool:
        seen.append(epoch)
        return False

    res = train_network(
        MLPConfig(hidden=(8,), max_epochs=80, patience=2),
        X[:90],
        y[:90],
        X[90:],
        y[90:],
        task="binary",
        n_classes=2,
        callback=cb,
    )
    assert res.status == "early_stopped", res.status
    assert seen == list(range(len(res.history.epoch))), (seen, len(res.history.epoch))


def test_the_depth_reason_says_the_first_batch_keeps_the_default_depth() -> None:
    """An audit: advise printed 'n_layers prior ~2' while 9 of a 10-trial search's trials had 1 layer (the
    first batch shares the default trial's), and the never-varied warning then blamed 'the advisor's' depth."""
    space = advise(prepare_tabular(_frame(), "y"))
    why = space.reasons["n_layers"]
    assert "the prior centres on 2" in why and "shares its one hidden layer" in why, why
    assert len(space.base.hidden) == 1  # what the sentence claims of the default trial
