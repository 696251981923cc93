"""Messy real-world input: stray tokens in numeric columns, decimal commas, thousands separators, empty
multilabel cells, an empty validation split, rare-class warnings, macro-F1 over absent classes, and saving an
estimator whose random_state is a RandomState instance.

Each case once gave a silent wrong answer or a traceback from deep inside a library.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from hyperselect.data import SplitWarning, load_table, prepare_arrays, prepare_tabular
from hyperselect.data.tabular import DataWarning
from hyperselect.errors import ConfigError, DataError
from hyperselect.tasks import Task
from hyperselect.train.evaluation import split_metrics


def _regression_lines(n: int = 200, seed: int = 0) -> list[str]:
    """``x,z,y`` with y = 3x + noise, four decimals: a clean numeric table."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    y = 3 * x + rng.normal(scale=0.3, size=n)
    return ["x,z,y"] + [f"{a:.4f},{b:.4f},{c:.4f}" for a, b, c in zip(x, z, y, strict=True)]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- bug 1


def test_stray_token_in_a_numeric_feature_is_an_error_and_na_values_fixes_it(tmp_path: Path) -> None:
    lines = _regression_lines()
    _, rest = lines[11].split(",", 1)
    lines[11] = "n.a.," + rest  # file line 12
    path = _write(tmp_path / "feat.csv", lines)
    with pytest.raises(DataError) as info:
        load_table(path, "y")
    msg = str(info.value)
    assert "feat.csv" in msg and "feature column 'x'" in msg
    assert "'n.a.' at line 12" in msg and "199 of 200" in msg
    assert "na_values=['n.a.']" in msg and "empty" in msg
    X, _, task = load_table(path, "y", na_values=["n.a."])
    assert task is Task.REGRESSION
    assert X["x"].dtype == np.float64 and int(X["x"].isna().sum()) == 1 and np.isnan(X["x"].iloc[10])


def test_stray_token_in_a_numeric_target_is_not_detected_as_classes(tmp_path: Path) -> None:
    lines = _regression_lines()
    lines[11] = lines[11].rsplit(",", 1)[0] + ",n.a."
    path = _write(tmp_path / "targ.csv", lines)
    with pytest.raises(DataError, match=r"targ\.csv': target 'y' holds numbers in 199 of 200") as info:
        load_table(path, "y")
    assert "'n.a.' at line 12" in str(info.value) and "na_values=['n.a.']" in str(info.value)
    with pytest.raises(DataError, match=r"1 value\(s\) such as 'n.a.' at line 12.*na_values=\['n.a.'\]"):
        load_table(path, "y", task="regression")
    with pytest.warns(DataWarning, match="dropped 1 of 200 rows"):
        _, y, task = load_table(path, "y", na_values=["n.a."])
    assert task is Task.REGRESSION and len(y) == 199


def test_stray_token_in_a_dataframe_column_names_the_row() -> None:
    rng = np.random.default_rng(1)
    x = [f"{v:.3f}" for v in rng.normal(size=60)]
    x[7] = "missing"
    df = pd.DataFrame({"x": x, "y": rng.normal(size=60)})
    with pytest.raises(DataError, match=r"'DataFrame': feature column 'x' .*'missing' at row 7"):
        prepare_tabular(df, "y")
    data = prepare_tabular(df, "y", na_values=["missing"])
    assert data.feature_names == ["x"]


def test_labels_differing_only_in_case_are_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice(["yes", "no"], 80).astype(object)
    labels[:4] = ["Yes", "No", "Yes", "No"]
    df = pd.DataFrame({"a": rng.normal(size=80), "label": labels})
    with pytest.warns(DataWarning, match=r"differ only in upper/lower case.*('yes' / 'Yes'|'Yes' / 'yes')"):
        data = prepare_tabular(df, target="label")
    assert len(data.classes) == 4  # still what the file says; the warning says why


def test_identifier_columns_are_named_not_silently_learned(tmp_path: Path) -> None:
    # a file sorted by the label with a row id, the pandas index and a unique customer code: noise features,
    # yet the id gave 1.00 test ROC AUC, silently
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(120, 3)), columns=["f0", "f1", "f2"])
    df["label"] = rng.choice(["yes", "no"], 120)
    df = df.sort_values("label").reset_index(drop=True)
    df.insert(0, "id", np.arange(1, 121))
    df["customer"] = [f"C{i:05d}" for i in rng.permutation(120)]
    path = tmp_path / "leak.csv"
    df.to_csv(path)  # with pandas' index as an unnamed first column
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = prepare_tabular(path, target="label")
    messages = " ".join(str(w.message) for w in caught if issubclass(w.category, DataWarning))
    assert "dropped 1 text column(s) whose every value is different" in messages and "'customer'" in messages
    assert "count the rows" in messages and "'id'" in messages and "'unnamed_1'" in messages
    assert not [n for n in data.feature_names if n.startswith("customer")]
    assert "id" in data.feature_names  # kept (a time step is a real feature), but named
    # shuffled unique integers (a measurement that happens to be distinct) and repeated codes are not flagged
    df = df.drop(columns=["id", "customer"]).assign(
        weight=rng.permutation(120) + 50, shop=[f"S{i % 7}" for i in range(120)]
    )
    df.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        prepare_tabular(path, target="label")


def test_a_number_format_the_file_does_not_use_is_refused_not_one_hot_encoded(tmp_path: Path) -> None:
    # decimal=',' on a file of '0.77' numbers read every column as text: 8 features became 400 one-hot columns
    # and a regression target 214 classes, silently
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    df["label"] = np.where(df.a > 0, "yes", "no")
    path = tmp_path / "dots.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        prepare_tabular(path, target="label", decimal=",")
    msg = str(exc.value)
    assert "feature column 'a'" in msg and "'.' as the decimal mark" in msg and "at line 2" in msg
    assert "expected numbers such as 1234,5" in msg and "leave it out" in msg
    df[["a", "b"]].assign(y=df.c * 100).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'\.' as the decimal mark"):
        prepare_tabular(path, target="y", decimal=",")
    assert prepare_tabular(path, target="y").task.value == "regression"  # without the option: numbers


def test_decimal_commas_in_a_semicolon_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=120)
    y = 2 * x + rng.normal(scale=0.1, size=120)
    lines = ["x;code;grade;y"] + [
        f"{a:.3f};{'AB'[i % 2]}{i % 5};{'K' if i % 13 == 0 else str(1 + i % 12)};{b:.2f}".replace(".", ",")
        for i, (a, b) in enumerate(zip(x, y, strict=True))
    ]
    lines[2] = "0,346;A1;3;1,828"  # file line 3
    path = _write(tmp_path / "dec.csv", lines)
    with pytest.raises(DataError) as info:
        load_table(path, "y")
    msg = str(info.value)
    assert "dec.csv" in msg and "feature column 'x'" in msg
    first = lines[1].split(";")[0]  # the example is the column's first decimal comma, on file line 2
    assert f"120 of them written with a decimal comma such as '{first}' at line 2" in msg
    assert "decimal=','" in msg
    with pytest.raises(DataError, match=r"decimal comma.*decimal=','"):
        load_table(path, "y", task="regression")
    X, y_read, task = load_table(path, "y", decimal=",")
    assert task is Task.REGRESSION
    assert X["x"].dtype == np.float64 and X["x"].iloc[1] == pytest.approx(0.346)
    assert y_read.iloc[1] == pytest.approx(1.828)
    # genuinely categorical columns stay categories: codes like 'A1', and grades 1-12 with a 'K' among them
    assert X["code"].dtype == object and X["grade"].dtype == object


def test_quoted_thousands_separators(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    pop = rng.integers(1_000, 900_000, size=80)
    lines = ["population,id,y"] + [f'"{p:,}",{1000 + i},{"ab"[i % 2]}' for i, p in enumerate(pop.tolist())]
    lines[4] = '"93,113",1003,b'  # file line 5
    path = _write(tmp_path / "th.csv", lines)
    with pytest.raises(DataError) as info:
        load_table(path, "y")
    msg = str(info.value)
    assert "th.csv" in msg and "feature column 'population'" in msg
    assert "thousands separator such as" in msg and "thousands=','" in msg
    X, _, task = load_table(path, "y", thousands=",")
    assert task is Task.BINARY
    assert X["population"].iloc[3] == 93113.0
    assert X["id"].dtype == np.float64  # an integer ID column stays as it was


def test_reading_options_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"'decimal' and 'thousands' parameters .* must differ"):
        prepare_tabular(pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y", decimal=",", thousands=",")
    with pytest.raises(ConfigError, match="'na_values' parameter"):
        prepare_tabular(pd.DataFrame({"x": [1, 2], "y": [0, 1]}), "y", na_values=[3])


# ---------------------------------------------------------------------------------------------- bug 2


def test_an_empty_validation_split_is_refused_up_front(tmp_path: Path) -> None:
    path = _write(tmp_path / "v.csv", _regression_lines(40))
    with pytest.raises(
        ConfigError, match=r"'valid_size' parameter of prepare_tabular.*Got 0\.0.*early stopping"
    ):
        prepare_tabular(path, "y", valid_size=0.0)
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ConfigError, match=r"'valid_size' parameter of prepare_arrays.*early stopping"):
        prepare_arrays(X, X[:, 0], valid_size=0)
    with pytest.raises(ConfigError, match=r"prepare_arrays"):
        prepare_arrays(X, X[:, 0], valid_size=0.0, test=(X[:5], X[:5, 0]))


# ---------------------------------------------------------------------------------------------- bug 3


def test_split_warning_names_the_class_label_not_its_code() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "y": ["A"] * 20 + ["B"] * 19 + ["C"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_tabular(df, "y")
    messages = [str(w.message) for w in caught if issubclass(w.category, SplitWarning)]
    assert len(messages) == 1
    assert "the smallest class 'C' has 1 row(s)" in messages[0]
    assert "'C' (1 row(s))" in messages[0] and "[2]" not in messages[0]


# ---------------------------------------------------------------------------------------------- bug 4


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Module:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return layer


def test_f1_macro_ignores_a_class_absent_from_truth_and_prediction() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])  # class 2 of 3 is absent from this split
    X = np.eye(3)[y]
    model = _linear(np.eye(3), np.zeros(3))  # predicts exactly the one-hot class
    m = split_metrics(model, X, y, Task.MULTICLASS, n_classes=3)
    assert m["accuracy"] == 1.0
    assert m["f1_macro"] == pytest.approx(1.0)


def test_multilabel_f1_macro_ignores_a_label_absent_from_truth_and_prediction() -> None:
    Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32)  # label 2 never occurs
    model = _linear(2 * np.eye(3), -np.ones(3))  # logit +1 where the input is 1, -1 elsewhere
    m = split_metrics(model, Y, Y, Task.MULTILABEL)
    assert m["accuracy"] == 1.0
    assert m["f1_macro"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- bug 5


def _tiny_xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_save_with_a_random_state_instance(tmp_path: Path) -> None:
    from hyperselect.estimators import NeuralNetClassifier, load_estimator

    X, y = _tiny_xy()
    est = NeuralNetClassifier(hidden=(8,), max_epochs=2, random_state=np.random.RandomState(0), device="cpu")
    est.fit(X, y)
    folder = est.save(tmp_path / "m")
    doc = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert doc["params"]["random_state"] is None
    assert "RandomState" in doc["params_not_saved"]["random_state"]
    loaded = load_estimator(folder)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.random_state is None


def test_save_writes_nothing_when_a_parameter_cannot_be_saved(tmp_path: Path) -> None:
    from hyperselect.estimators import NeuralNetClassifier

    X, y = _tiny_xy()
    est = NeuralNetClassifier(hidden=(8,), max_epochs=1, random_state=0, device="cpu").fit(X, y)
    est.verbose = object()  # type: ignore[assignment]  # set after fit: not a JSON value
    with pytest.raises(ConfigError, match=r"NeuralNetClassifier\.save: the 'verbose' parameter"):
        est.save(tmp_path / "m")
    assert not (tmp_path / "m" / "model.safetensors").exists()
    assert not (tmp_path / "m" / "config.json").exists()


# ---------------------------------------------------------------------------------------------- bug 6


def test_empty_multilabel_cell_means_no_labels(tmp_path: Path) -> None:
    tags = ["a|b", "b", "", "a|c"] * 50  # 50 rows with no tags
    lines = ["x,tags"] + [f"{i},{t}" for i, t in enumerate(tags)]
    lines[8] = "7,NA"  # an explicit marker: this row's tags are unknown (file line 9; was 'a|c')
    path = _write(tmp_path / "ml.csv", lines)
    with pytest.warns(
        DataWarning, match=r"dropped 1 of 200 rows .*line 9.*empty cell would be read as 'no labels'"
    ):
        data = prepare_tabular(path, "tags")
    assert data.task is Task.MULTILABEL and data.classes == ["a", "b", "c"]
    n = len(data.y_train) + len(data.y_valid) + len(data.y_test)
    assert n == 199 and data.dropped_rows == 1
    all_y = np.concatenate([data.y_train, data.y_valid, data.y_test])
    assert int((all_y.sum(axis=1) == 0).sum()) == 50
    assert any("50 empty cell(s)" in note and "no labels" in note for note in data.notes)


def test_empty_multilabel_string_in_a_dataframe_means_no_labels() -> None:
    df = pd.DataFrame({"x": np.arange(40.0), "tags": ["a|b", "", "b", None] * 10})
    with pytest.warns(DataWarning, match="dropped 10 of 40 rows"):
        data = prepare_tabular(df, "tags")
    all_y = np.concatenate([data.y_train, data.y_valid, data.y_test])
    assert len(all_y) == 30 and int((all_y.sum(axis=1) == 0).sum()) == 10


def test_iso_dates_are_time_and_constant_columns_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    rows = [
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}{' 08:30' if i % 2 else ''},{i % 7},5,{'a' if i % 3 else 'b'}"
        for i in range(60)
    ]
    path.write_text("when,x,const,y\n" + "\n".join(rows) + "\n")
    with pytest.warns(
        DataWarning, match=r"dropped 1 feature column\(s\) with the same value in every row.*'const'"
    ):
        d = prepare_tabular(path, "y", random_state=0)
    assert d.feature_names == ["when", "x"]  # one number per date, not one column per distinct day


def test_ambiguous_or_invalid_dates_stay_categories(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text("when,x,y\n03/04/2024,1,a\n04/05/2024,2,b\n2024-13-45,3,a\n2024-01-02,4,b\n" * 5)
    X, _, _ = load_table(path, "y")
    d = prepare_tabular(path, "y", random_state=0)
    assert X["when"].dtype == object and any(n.startswith("when=") for n in d.feature_names)


def test_large_columns_numbers_with_strays_and_identifiers(tmp_path: Path) -> None:
    """Past 2,000 distinct spellings a sample decides 'not numbers' early; numbers with strays are still caught."""
    rng = np.random.default_rng(0)
    n = 6000
    values = [f"{v:.4f}" for v in rng.normal(size=n)]
    for i in (17, 4000, 5999):
        values[i] = "n.a."
    lines = [f"{v},id{i},{'p' if i % 2 else 'q'}" for i, v in enumerate(values)]
    path = tmp_path / "big.csv"
    path.write_text("x,ident,y\n" + "\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"'x' holds numbers in 5997 of 6000 .*'n\.a\.' at line 19"):
        load_table(path, "y")
    with pytest.warns(
        DataWarning, match=r"dropped 1 text column\(s\) whose every value is different.*'ident'"
    ):
        X, _, _ = load_table(path, "y", na_values=["n.a."])
    assert X["x"].isna().sum() == 3 and "ident" not in X  # an identifier is not read as numbers, nor kept


@pytest.mark.parametrize(
    ("values", "what", "first"),
    [
        (
            ["03/05/2021", "04/11/2021", "12/01/2020"],
            "dates in a spelling other than ISO 8601",
            "'03/05/2021' at line 2",
        ),
        (
            ["05.03.2021", "11.04.2021", "01.12.2020"],
            "dates in a spelling other than ISO 8601",
            "'05.03.2021' at line 2",
        ),
        (["$700", "$1,250.50", "$80"], "amounts with a currency sign", "'$700' at line 2"),
        (["700 EUR", "1.250,50 EUR", "80 EUR"], "amounts with a currency sign", "'700 EUR' at line 2"),
    ],
)
def test_dates_and_amounts_read_as_categories_are_warned_about(
    tmp_path: Path, values: list[str], what: str, first: str
) -> None:
    """ISO dates become time and plain numbers numbers; 03/05/2021 or $700 silently became one category per
    value (or an "identifier" when all differ)."""
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "when": [values[i % len(values)] for i in range(n)],
            "y": rng.integers(0, 2, n),
        }
    )
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(DataWarning, match="feature column 'when' looks like") as caught:
        prepare_tabular(path, "y")
    message = next(str(w.message) for w in caught if "looks like" in str(w.message))
    assert what in message and first in message


def test_iso_dates_and_plain_text_are_not_warned_about(tmp_path: Path) -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "when": [f"2021-03-{1 + i % 28:02d}" for i in range(n)],
            "city": ["Paris", "Lyon", "Nice"] * (n // 3),
            "y": [0, 1] * (n // 2),
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        prepare_tabular(tmp_path / "t.csv", "y")


@pytest.mark.parametrize("bad", ["2024-02-30", "unknown"])
def test_an_iso_date_column_with_a_cell_that_is_no_date_names_the_cell(tmp_path: Path, bad: str) -> None:
    """One bad cell made the column 50 one-hot categories, and the warning blamed a valid ISO date as "a
    spelling other than ISO 8601" with a US-format hint; now the cell and its line are named."""
    n = 40
    dates = [f"2024-03-{1 + i % 28:02d}" for i in range(n)]
    dates[7] = bad
    frame = pd.DataFrame({"when": dates, "x": np.arange(n) % 7, "y": [0, 1] * (n // 2)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=rf"'when' holds ISO dates in 39 of 40 .*'{bad}' at line 9"):
        prepare_tabular(tmp_path / "d.csv", "y")


@pytest.mark.parametrize(
    ("values", "what"),
    [(["45%", "12%", "7%"], "numbers with a unit"), (["20.3 °C", "18 °C"], "numbers with a unit")],
)
def test_numbers_with_a_unit_are_warned_about(tmp_path: Path, values: list[str], what: str) -> None:
    n = 60
    frame = pd.DataFrame(
        {"m": [values[i % len(values)] for i in range(n)], "x": np.arange(n) % 5, "y": [0, 1] * (n // 2)}
    )
    frame.to_csv(tmp_path / "u.csv", index=False)
    with pytest.warns(DataWarning, match=rf"'m' looks like {what}"):
        prepare_tabular(tmp_path / "u.csv", "y")


def test_a_european_date_column_gets_a_european_format_hint(tmp_path: Path) -> None:
    n = 60
    frame = pd.DataFrame(
        {"d": [f"{1 + i % 28:02d}.03.2021" for i in range(n)], "y": [0, 1] * (n // 2), "x": np.arange(n) % 3}
    )
    frame.to_csv(tmp_path / "e.csv", index=False)
    with pytest.warns(DataWarning, match=r"format='%d\.%m\.%Y'"):
        prepare_tabular(tmp_path / "e.csv", "y")


def test_a_few_bad_rows_among_many_repeated_iso_dates_are_refused(tmp_path: Path) -> None:
    """The 90 % counted distinct values: 199 rows of 3 dates and one 'unknown' passed as categories (review)."""
    n = 200
    dates = ["2024-01-01", "2024-01-02", "2024-01-03"] * 67
    dates = [*dates[: n - 1], "unknown"]
    frame = pd.DataFrame({"when": dates, "x": np.arange(n) % 7, "y": [0, 1] * (n // 2)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"'when' holds ISO dates in 199 of 200 .*'unknown' at line 201"):
        prepare_tabular(tmp_path / "d.csv", "y")
