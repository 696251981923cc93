"""Audit 4 of the tables area: reading messy files, ``train``/``predict`` on new rows, the estimators.

Each test names the defect it guards against; every one failed on the code before its fix.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from testkit import flat, train_saved
from typer.testing import CliRunner

from hyperselect import load_model
from hyperselect.cli import app
from hyperselect.data import load_table
from hyperselect.data.tabular import DataWarning, _ReadOptions
from hyperselect.errors import DataError
from hyperselect.estimators import NeuralNetClassifier, NeuralNetRegressor

torch.set_num_threads(1)
pytestmark = pytest.mark.usefixtures("restore_cli_logging")

runner = CliRunner()


# ------------------------------------------------------------------------------ '0.123' with thousands '.'
def _european(path: Path, n: int = 40) -> Path:
    """A ';' file whose column 'v' is written 1.234,5 (decimal ',', thousands '.'); the label follows 'v'."""
    rng = np.random.default_rng(0)
    lines = ["v;w;label"]
    for i in range(n):
        v = rng.normal() * 1000 + 3000
        text = f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
        lines.append(f"{text};{i % 3};{'a' if v > 3000 else 'b'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("decimal", "thousands", "text"),
    [(",", ".", "0.123"), (",", ".", "-00.500"), (",", ".", "0.123,4"), (".", ",", "0,123")],
)
def test_a_group_after_a_leading_zero_is_no_number(decimal: str, thousands: str, text: str) -> None:
    """pandas (and our reader) read '0.123' with thousands '.' as 123; no grouped number starts '0.'."""
    options = _ReadOptions(decimal=decimal, thousands=thousands)
    assert options.parse(text) is None
    assert options.zero_group(text)
    good = "1.234,5" if decimal == "," else "1,234.5"
    assert options.parse(good) == 1234.5
    assert options.parse("0") == 0.0 and options.parse(f"0{decimal}5") == 0.5


def test_predict_refuses_a_zero_group_instead_of_reading_123(tmp_path: Path) -> None:
    """A model trained with --decimal , --thousands . read '0.123' in new rows as 123 without a word: now the
    error names the file, the line, the column and what was expected."""
    model = train_saved(tmp_path, _european(tmp_path / "train.csv"), 8, 5, decimal=",", thousands=".")
    new = tmp_path / "new.csv"
    new.write_text("v;w\n1.234,5;1\n0.123;2\n", encoding="utf-8")
    r = runner.invoke(app, ["predict", str(model), str(new)])
    out = flat(r.output)
    assert r.exit_code == 1, r.output
    assert "'new.csv'" in out or str(new) in out, out
    assert "column 'v'" in out and "'0.123' at line 3" in out, out
    assert "expected numbers such as 1.234,5" in out, out
    assert "never starts with '0.'" in out and "'0,123' if it is a fraction" in out, out
    with pytest.raises(DataError, match=r"'0\.123' at line 3"):
        load_model(model).predict(new)


def test_training_refuses_a_zero_group_too(tmp_path: Path) -> None:
    """The training reader shares the parser: '0.123' in a 1.234,5 column is an error, not the number 123."""
    source = _european(tmp_path / "train.csv")
    with source.open("a", encoding="utf-8") as f:
        f.write("0.123;1;a\n")
    with pytest.raises(DataError, match=r"column 'v'.*'0\.123' at line 42.*never starts with '0\.'") as err:
        load_table(source, "label", decimal=",", thousands=".")
    assert "123.0" not in str(err.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        X, _, _ = load_table(_european(tmp_path / "ok.csv"), "label", decimal=",", thousands=".")
    assert X["v"].dtype == np.float64 and X["v"].min() > 100


# ------------------------------------------------------------------------------ estimators: labels and text cells
def _small() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    return X, np.where(X[:, 0] > 0, "a", "b").astype(object)


@pytest.mark.parametrize("hole", [None, np.nan, pd.NA])
def test_a_missing_class_label_is_named_with_its_row(hole: object) -> None:
    """y with None/NaN among text labels failed inside np.unique ("'<' not supported between instances of 'str'
    and 'NoneType'") or with "Input contains NaN", naming no row."""
    X, y = _small()
    y[7] = hole
    series = pd.Series(y, index=range(100, 120))
    with pytest.raises(ValueError, match=r"class label in every row of y; 1 of 20 are missing .* at row 107"):
        NeuralNetClassifier(hidden=(4,), max_epochs=1).fit(X, series)
    with pytest.raises(ValueError, match=r"at row 7\)"):
        NeuralNetClassifier(hidden=(4,), max_epochs=1).fit(X, y)


def test_labels_mixing_texts_and_numbers_are_refused_by_name() -> None:
    X, y = _small()
    y[3] = 1
    with pytest.raises(ValueError, match=r"mixes texts and other values \('a' at row 0, 1 at row 3\)"):
        NeuralNetClassifier(hidden=(4,), max_epochs=1).fit(X, y)


def test_a_text_feature_column_is_named_in_fit_and_predict() -> None:
    """A DataFrame with a text column failed deep in numpy: "could not convert string to float: 'u'"."""
    X, y = _small()
    df = pd.DataFrame(X, columns=["p", "q"]).assign(colour=["u", "v"] * 10)
    with pytest.raises(ValueError, match=r"column 'colour' of X holds text \('u' at row 0\).*OneHotEncoder"):
        NeuralNetClassifier(hidden=(4,), max_epochs=1).fit(df, y.astype(str))
    with pytest.raises(ValueError, match=r"column 2 of X holds text \('u' at row 0\)"):
        NeuralNetRegressor(hidden=(4,), max_epochs=1).fit(df.to_numpy(), X[:, 0])
    model = NeuralNetRegressor(hidden=(4,), max_epochs=1, random_state=0).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"column 1 of X holds text \('x' at row 0\)"):
        model.predict(np.array([["1.5", "x"]], dtype=object))
    assert model.predict(np.array([["1.5", "2"]], dtype=object)).shape == (1,)  # numbers as text still do


# ------------------------------------------------------------------------------ a DataFrame takes no reading options
def test_a_dataframe_of_new_rows_is_not_told_to_pass_reading_options(tmp_path: Path) -> None:
    """predict(DataFrame) refuses decimal=/na_values= (a DataFrame is already read), yet the error for a text
    cell told the user to pass them ("pass decimal='.' and thousands=',' ... for this file")."""
    model = load_model(
        train_saved(tmp_path, _european(tmp_path / "train.csv"), 8, 5, decimal=",", thousands=".")
    )
    for cell, says in (("12.34", "convert the column to numbers"), ("n.a.", "set those cells to None")):
        df = pd.DataFrame({"v": ["1.234,5", cell], "w": [1, 2]})
        with pytest.raises(DataError) as err:
            model.predict(df)
        text = str(err.value)
        assert f"'{cell}' at row 1" in text and says in text, text
        assert "pass " not in text and "--" not in text, text


# ------------------------------------------------------------------------------ predict --out by extension
def test_predict_out_writes_the_format_its_extension_names(tmp_path: Path) -> None:
    """`predict --out p.parquet` wrote CSV text into a file named .parquet (no Parquet reader opens it) and
    `--out p.tsv` commas; an extension it cannot write (.xlsx) is refused before any work."""
    model = train_saved(tmp_path, _european(tmp_path / "train.csv"), 8, 5, decimal=",", thousands=".")
    new = tmp_path / "new.csv"
    new.write_text("v;w\n1.234,5;1\n2.500,25;2\n", encoding="utf-8")
    expected = load_model(model).predictions(new)
    for name in ("p.parquet", "p.tsv", "p.csv"):
        r = runner.invoke(app, ["predict", str(model), str(new), "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p.parquet"), expected, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.tsv", sep="\t"), expected, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.csv"), expected, check_dtype=False)
    r = runner.invoke(app, ["predict", str(model), str(new), "--out", str(tmp_path / "p.xlsx")])
    assert r.exit_code == 1 and "extension '.xlsx'" in flat(r.output), r.output
    assert not (tmp_path / "p.xlsx").exists()
