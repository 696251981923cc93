"""Class labels as the file spells them: an audit found '007' predicted as 7, '1.0' as 1, and '1', '01', '001'
merged into one class (the command stopped with "a single value 1"); and a class called 'NA' dropped as missing
with no word about the token."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperselect.data.tabular import DataWarning, load_table, prepare_tabular


def _table(path: Path, labels: list[str], n: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    k = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = [labels[i % len(labels)] for i in k]
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("labels", "task", "classes"),
    [
        (["007", "042", "100"], "multiclass", ["007", "042", "100"]),
        (["1", "01", "001"], "multiclass", ["001", "01", "1"]),
        (["1.0", "2.0", "3.0"], "multiclass", ["1.0", "2.0", "3.0"]),
        (["01", "02"], "binary", ["01", "02"]),
        # the numbers' own spellings stay numbers (as before)
        (["0.5", "1.5"], "binary", [0.5, 1.5]),
        (["1", "2", "3"], "multiclass", [1, 2, 3]),
        (["0", "1"], "binary", [0, 1]),
    ],
)
def test_class_labels_keep_their_spelling(
    tmp_path: Path, labels: list[str], task: str, classes: list
) -> None:
    d = prepare_tabular(_table(tmp_path / "t.csv", labels), "label")
    assert d.task.value == task and d.classes == classes


def test_one_number_spelt_two_ways_is_one_class_and_regression_stays_numeric(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    _table(p, ["1", "2", "3"])
    df = pd.read_csv(p, dtype=str)
    df.loc[::2, "label"] = df.loc[::2, "label"].str.replace(r"^(\d)$", r"\1.0", regex=True)  # '1' and '1.0'
    df.to_csv(p, index=False)
    d = prepare_tabular(p, "label")
    assert d.classes == [1, 2, 3]
    codes = _table(tmp_path / "c.csv", ["007", "042", "100"])
    assert prepare_tabular(codes, "label", task="regression").task.value == "regression"
    _, y, task = load_table(codes, "label")
    assert task.value == "multiclass" and set(y) == {"007", "042", "100"}


def test_predictions_carry_the_labels_as_written(tmp_path: Path) -> None:
    from hyperselect.estimators import NeuralNetClassifier

    d = prepare_tabular(_table(tmp_path / "t.csv", ["007", "042", "100"]), "label")
    assert d.classes is not None
    clf = NeuralNetClassifier(hidden=(8,), max_epochs=2, random_state=0)
    clf.fit(d.X_train, np.asarray(d.classes, dtype=object)[d.y_train])
    assert set(clf.predict(d.X_test)) <= {"007", "042", "100"}


def test_a_class_spelt_like_a_missing_value_token_is_named_in_the_warning(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(600, 2)), columns=["a", "b"])
    df["label"] = rng.choice(["NA", "EU", "AS"], 600)
    df.to_csv(tmp_path / "c.csv", index=False)
    with pytest.warns(
        DataWarning, match=r"All \d+ hold 'NA', read as missing, as often as .*--no-default-na"
    ):
        d = prepare_tabular(tmp_path / "c.csv", "label")
    assert d.task.value == "binary"
    # what the warning says to do reads 'NA' as the class it is, and the saved model reads new rows alike
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        d = prepare_tabular(tmp_path / "c.csv", "label", keep_default_na=False)
    assert d.task.value == "multiclass" and d.classes == ["AS", "EU", "NA"]
    assert d.table is not None and d.table.read["keep_default_na"] is False
    # a few unknown targets among classes: the plain warning, no talk of a class
    df["label"] = np.where(rng.random(600) < 0.02, "NA", rng.choice(["x", "y"], 600))
    df.to_csv(tmp_path / "d.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_tabular(tmp_path / "d.csv", "label")
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(msgs) == 1 and "whose target 'label' is missing" in msgs[0] and "default-na" not in msgs[0]
    # numbers with NA for unknown values: missing, as it should be
    df["label"] = np.where(rng.random(600) < 0.3, "NA", rng.normal(size=600).round(3).astype(str))
    df.to_csv(tmp_path / "e.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_tabular(tmp_path / "e.csv", "label")
    assert not any("default-na" in str(w.message) for w in caught)


def test_regression_on_text_labels_says_so_instead_of_calling_every_label_missing(tmp_path: Path) -> None:
    """The hint was "--na-value cat --na-value bird --na-value dog": every value of the column as a marker."""
    from hyperselect.errors import DataError

    p = _table(tmp_path / "t.csv", ["cat", "bird", "dog"])
    with pytest.raises(DataError, match=r"holds text labels \('.*'\) in 300 of 300 rows.*Leave out") as exc:
        prepare_tabular(p, "label", task="regression")
    assert "--na-value" not in str(exc.value)


def test_a_space_file_in_the_wrong_form_is_told_the_form(tmp_path: Path) -> None:
    from hyperselect.data import load_builtin
    from hyperselect.errors import ConfigError
    from hyperselect.search import advise

    space = advise(load_builtin("iris"))
    f = tmp_path / "s.toml"
    f.write_text("[narrow]\nlr = [1e-3, 1e-2]\n")
    with pytest.raises(
        ConfigError, match=r"Expected, in TOML: \[narrow.lr\] then low = 0.001 and high = 0.01"
    ):
        space.apply_file(f)
    f.write_text("[extend]\nweight_decay = [1e-6, 1e-2]\n")
    with pytest.raises(ConfigError, match=r'\[extend.weight_decay\] then type = "float", low = 1e-06'):
        space.apply_file(f)
    # the form the message gives is one that works
    f.write_text(
        '[narrow.lr]\nlow = 0.001\nhigh = 0.01\n[extend.weight_decay]\ntype = "float"\nlow = 1e-06\nhigh = 0.01\n'
    )
    edited = space.apply_file(f)
    assert edited.dims["lr"].low == 0.001 and "weight_decay" in edited.dims  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", [["train"], ["tune", "--trials", "2"], ["compare"], ["advise"]])
def test_target_with_a_built_in_data_set_is_refused_not_ignored(command: list[str]) -> None:
    """`compare iris --target x` ran on iris's own target and said nothing of the x."""
    from typer.testing import CliRunner

    from hyperselect.cli import app

    res = CliRunner().invoke(app, [command[0], "iris", "--target", "x", *command[1:]])
    assert res.exit_code != 0
    flat = " ".join(res.output.split())
    assert "--target names a table's column to predict; 'iris' is a built-in data set" in flat


def test_an_integer_scale_read_as_classes_is_noted_with_the_regression_option(tmp_path: Path) -> None:
    """`advise ratings.csv --target stars` (0-10) printed "multiclass" and never mentioned --task regression."""
    from typer.testing import CliRunner

    from hyperselect.cli import app
    from hyperselect.train.metrics import integer_classes_hint

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    df["stars"] = np.clip((df.a * 2 + 5).round(), 0, 10).astype(int)
    df.to_csv(tmp_path / "r.csv", index=False)
    runner = CliRunner()
    res = runner.invoke(app, ["advise", str(tmp_path / "r.csv"), "--target", "stars"])
    assert res.exit_code == 0, res.output
    assert "the target holds the integers 0-10, read as 11 unordered classes" in " ".join(res.output.split())
    quiet = runner.invoke(
        app, ["advise", str(tmp_path / "r.csv"), "--target", "stars", "--task", "multiclass"]
    )
    assert "unordered classes" not in quiet.output  # asked for: no note
    assert (
        "unordered classes" not in runner.invoke(app, ["advise", "digits"]).output
    )  # a built-in knows its task
    d = prepare_tabular(_table(tmp_path / "t.csv", ["1", "2", "3"]), "label")
    assert integer_classes_hint(d) is None  # three classes: too few to be a scale
    d = prepare_tabular(_table(tmp_path / "c.csv", ["007", "042", "100"]), "label")
    assert integer_classes_hint(d) is None


def test_no_default_na_on_the_command_line_keeps_a_class_called_na_through_predict(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hyperselect.cli import app

    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    df["region"] = np.where(df.a > 0.4, "NA", np.where(df.a < -0.4, "EU", "AS"))
    df["note"] = np.where(rng.random(300) < 0.2, "n/a", "ok")  # a feature: 'n/a' is a category there too
    df.to_csv(tmp_path / "r.csv", index=False)
    runner = CliRunner()
    out = tmp_path / "run"
    args = [
        "train",
        str(tmp_path / "r.csv"),
        "--target",
        "region",
        "--no-default-na",
        "--set",
        "max_epochs=3",
    ]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert '"NA"' in (out / "model" / "config.json").read_text()
    res = runner.invoke(app, ["predict", str(out), str(tmp_path / "r.csv"), "--out", str(tmp_path / "p.csv")])
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert "proba_NA" in pred.columns and len(pred) == 300 and "NA" in set(pred["prediction"])
    res = runner.invoke(app, ["advise", "iris", "--no-default-na"])
    assert res.exit_code != 0 and "--no-default-na" in " ".join(res.output.split())
