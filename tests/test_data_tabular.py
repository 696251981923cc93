"""Tabular loading, task detection, splits, preprocessing and built-in data sets: the working paths."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyperselect.data import (
    BUILTIN_DATASETS,
    DataWarning,
    SplitWarning,
    TabularData,
    load_builtin,
    load_table,
    make_splits,
    prepare_arrays,
    prepare_tabular,
)
from hyperselect.errors import ConfigError, DataError
from hyperselect.tasks import Task

# ---------------------------------------------------------------------------------------------- load_table


def test_load_table_reads_types_and_detects_string_target(tiny_classification_csv: Path) -> None:
    X, y, task = load_table(tiny_classification_csv, "target")
    assert task is Task.MULTICLASS
    assert list(X.columns) == ["age", "income", "color", "city", "score"]
    assert X["age"].dtype == np.float64 and X["age"].isna().sum() > 0  # missing numbers stay NaN
    assert X["color"].dtype == object and X["color"].isna().sum() > 0  # missing categories stay NaN
    assert "Zürich" in set(X["city"].dropna())  # UTF-8 decoded
    assert set(y) == {"bird", "cat", "dog"}


def test_load_table_regression_target(tiny_regression_csv: Path) -> None:
    _, y, task = load_table(tiny_regression_csv, "target")
    assert task is Task.REGRESSION
    assert y.dtype == np.float64


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes", "no"] * 10, Task.BINARY),
        (["true", "false"] * 10, Task.BINARY),
        ([0, 1] * 10, Task.BINARY),
        ([0.5, 1.5] * 10, Task.BINARY),  # two distinct values cannot be a meaningful regression
        ([0, 1, 2, 3] * 5, Task.MULTICLASS),
        (["a", "b", "c"] * 6 + ["a", "b"], Task.MULTICLASS),
        ([float(i) * 0.37 for i in range(20)], Task.REGRESSION),
        ([*list(range(100, 120)), 1], Task.REGRESSION),  # 21 distinct integers > MAX_INTEGER_CLASSES
        (["a|b", "b", "c|a", "b|c"] * 5, Task.MULTILABEL),
    ],
)
def test_task_detection(tmp_path: Path, values: list[object], expected: Task) -> None:
    path = tmp_path / "t.csv"
    lines = ["x,y"] + [f"{i},{v}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    _, _, task = load_table(path, "y")
    assert task is expected


def test_task_override(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))
    assert load_table(path, "y")[2] is Task.MULTICLASS
    assert load_table(path, "y", task="regression")[2] is Task.REGRESSION
    assert load_table(path, "y", task=Task.MULTICLASS)[2] is Task.MULTICLASS


@pytest.mark.parametrize(
    ("name", "text", "sep"),
    [
        ("semi.csv", "a;b;y\n1,5;2;x\n3,5;4;z\n5;6;x\n", None),  # decimal commas must not fool the guess
        ("tabs.tsv", "a\tb\ty\n1\t2\tx\n3\t4\tz\n5\t6\tx\n", None),
        ("pipes.txt", "a|b|y\n1|2|x\n3|4|z\n5|6|x\n", None),
        ("given.csv", "a:b:y\n1:2:x\n3:4:z\n5:6:x\n", ":"),
    ],
)
def test_delimiters(tmp_path: Path, name: str, text: str, sep: str | None) -> None:
    path = tmp_path / name
    path.write_text(text)
    decimal = {"decimal": ","} if name == "semi.csv" else {}
    X, y, _ = load_table(path, "y", sep=sep, **decimal)
    assert list(X.columns) == ["a", "b"]
    assert list(y) == ["x", "z", "x"]
    if name == "semi.csv":
        assert X["a"].tolist() == [1.5, 3.5, 5.0]


def test_quoted_fields_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,note,y\n1,"hello, world",p\n\n2,"two\nlines",q\n3,plain,p\n')
    X, y, _ = load_table(path, "y")
    assert X["note"].tolist() == ["hello, world", "two\nlines", "plain"]
    assert list(y) == ["p", "q", "p"]


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8-sig", b""), ("utf-16", b""), ("latin-1", b"")])
def test_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(bom + "größe,y\n1,é\n2,ü\n3,é\n".encode(encoding))
    kwargs = {"encoding": "latin-1"} if encoding == "latin-1" else {}
    X, y, _ = load_table(path, "y", **kwargs)
    assert list(X.columns) == ["größe"]  # the BOM is not part of the first name
    assert list(y) == ["é", "ü", "é"]


def test_parquet_roundtrip(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "flag": [True, False, True, None, False, True],
            "when": pd.date_range("2024-01-01", periods=6),
            "cat": pd.Categorical(["a", "b", "a", None, "b", "a"]),
            "y": ["p", "q", "p", "q", "p", "q"],
        }
    )
    for suffix in (".parquet", ".pq"):
        path = tmp_path / f"t{suffix}"
        df.to_parquet(path)
        X, _y, task = load_table(path, "y")
        assert task is Task.BINARY
        assert [X[c].dtype for c in ("n", "flag", "when")] == [np.float64] * 3
        assert X["cat"].dtype == object


def test_missing_target_rows_are_dropped_with_count(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,y\n1,p\n2,\n3,q\n4,NA\n5,p\n6,q\n")
    with pytest.warns(
        DataWarning, match=r"dropped 2 of 6 rows whose target 'y' is missing \(first at line 3\)"
    ):
        X, _y, _ = load_table(path, "y")
    assert list(X["a"]) == [1.0, 3.0, 5.0, 6.0]


def test_all_missing_feature_column_dropped_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("a,empty,y\n1,,p\n2,,q\n3,,p\n")
    with pytest.warns(DataWarning, match="no values at all: 'empty'"):
        X, _, _ = load_table(path, "y")
    assert list(X.columns) == ["a"]


# ---------------------------------------------------------------------------------------------- prepare_tabular


def test_prepare_tabular_classification(tiny_classification_csv: Path) -> None:
    data = prepare_tabular(tiny_classification_csv, "target", random_state=0)
    assert isinstance(data, TabularData)
    assert data.task is Task.MULTICLASS and data.classes == ["bird", "cat", "dog"]
    assert (len(data.y_train), len(data.y_valid), len(data.y_test)) == (42, 9, 9)
    for X in (data.X_train, data.X_valid, data.X_test):
        assert X.dtype == np.float32 and np.isfinite(X).all() and X.shape[1] == data.n_features
    for y in (data.y_train, data.y_valid, data.y_test):
        assert y.dtype == np.int64 and set(np.unique(y)) <= {0, 1, 2}
    assert data.n_outputs == 3
    assert data.feature_names[:3] == ["age", "income", "score"]
    assert {"color=red", "color=green", "color=blue", "city=Zürich"} <= set(data.feature_names)
    assert data.source.endswith("tiny_classification.csv")
    assert data.input_shape is None and data.y_mean is None


def test_preprocessor_is_fitted_on_train_only(tiny_classification_csv: Path) -> None:
    data = prepare_tabular(tiny_classification_csv, "target", random_state=3)
    numeric = data.X_train[:, :3]
    # Scaled with training statistics: exactly standardised on train, not on the other splits.
    np.testing.assert_allclose(numeric.mean(axis=0), 0.0, atol=1e-5)
    raw, _, _ = load_table(tiny_classification_csv, "target")
    train_idx, _, _ = make_splits(
        pd.factorize(load_table(tiny_classification_csv, "target")[1], sort=True)[0],
        valid_size=0.15,
        test_size=0.15,
        random_state=3,
        stratify=True,
    )
    age = raw["age"].to_numpy()[train_idx]
    age = np.where(np.isnan(age), np.nanmedian(age), age)
    scaler = data.preprocessor.named_transformers_["num"].named_steps["scale"]
    np.testing.assert_allclose(scaler.mean_[0], age.mean())
    # A category never seen in training becomes all zeros rather than an error.
    new = raw.iloc[:1].copy()
    new["color"] = "purple"
    row = data.preprocessor.transform(new)
    color_cols = [i for i, n in enumerate(data.feature_names) if n.startswith("color=")]
    assert np.all(row[0, color_cols] == 0)


def test_prepare_tabular_regression_standardises_target(tiny_regression_csv: Path) -> None:
    data = prepare_tabular(tiny_regression_csv, "target")
    assert data.task is Task.REGRESSION and data.classes is None and data.n_outputs == 1
    assert data.y_train.dtype == np.float32
    assert abs(float(data.y_train.mean())) < 1e-5 and abs(float(data.y_train.std()) - 1) < 1e-4
    _, y, _ = load_table(tiny_regression_csv, "target")
    restored = np.sort(np.concatenate([data.unscale_y(s) for s in (data.y_train, data.y_valid, data.y_test)]))
    np.testing.assert_allclose(restored, np.sort(y.to_numpy()), rtol=1e-5)


def test_prepare_tabular_is_deterministic(tiny_classification_csv: Path) -> None:
    a = prepare_tabular(tiny_classification_csv, "target", random_state=7)
    b = prepare_tabular(tiny_classification_csv, "target", random_state=7)
    c = prepare_tabular(tiny_classification_csv, "target", random_state=8)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_prepare_tabular_from_dataframe_and_multilabel() -> None:
    df = pd.DataFrame(
        {
            "x": np.arange(40, dtype=float),
            "kind": ["u", "v"] * 20,
            "tags": ["a|b", "b", "c", "a|c"] * 10,
        }
    )
    data = prepare_tabular(df, "tags")
    assert data.task is Task.MULTILABEL and data.classes == ["a", "b", "c"]
    assert data.y_train.dtype == np.float32 and data.y_train.shape[1] == 3
    assert data.n_outputs == 3
    assert data.source == "DataFrame"
    json.dumps(data.describe())


def test_binary_override_and_bool_target(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("x,y\n" + "".join(f"{i},{'true' if i % 2 else 'false'}\n" for i in range(40)))
    data = prepare_tabular(path, "y", task="binary")
    assert data.task is Task.BINARY and data.classes == [False, True] and data.n_outputs == 1


def test_describe_is_json_ready(tiny_classification_csv: Path) -> None:
    info = prepare_tabular(tiny_classification_csv, "target").describe()
    assert json.loads(json.dumps(info))["train_class_counts"] == {"bird": 14, "cat": 14, "dog": 14}
    assert info["n_train"] + info["n_valid"] + info["n_test"] == 60


def test_invalid_task_name_is_config_error(tiny_classification_csv: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"The 'task' parameter of prepare_tabular must be one of .* Got 'clf'"
    ):
        prepare_tabular(tiny_classification_csv, "target", task="clf")


# ---------------------------------------------------------------------------------------------- make_splits


def test_make_splits_partition_and_stratify() -> None:
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, valid, test = make_splits(y, valid_size=0.2, test_size=0.1, random_state=0, stratify=True)
    assert (len(train), len(valid), len(test)) == (70, 20, 10)
    assert np.array_equal(np.sort(np.concatenate([train, valid, test])), np.arange(100))
    assert np.bincount(y[valid]).tolist() == [10, 6, 4]  # proportions kept
    assert np.bincount(y[test]).tolist() == [5, 3, 2]
    again = make_splits(y, valid_size=0.2, test_size=0.1, random_state=0, stratify=True)
    assert all(np.array_equal(a, b) for a, b in zip((train, valid, test), again, strict=True))


def test_make_splits_zero_sizes_and_multilabel() -> None:
    train, valid, test = make_splits(
        np.arange(10), valid_size=0.0, test_size=0.0, random_state=0, stratify=False
    )
    assert len(train) == 10 and len(valid) == 0 and len(test) == 0
    y2d = np.eye(4)[np.arange(20) % 4]
    train, valid, test = make_splits(y2d, valid_size=0.25, test_size=0.25, random_state=1, stratify=True)
    assert (len(train), len(valid), len(test)) == (10, 5, 5)


def test_make_splits_falls_back_when_a_class_is_tiny() -> None:
    y = np.array([0] * 20 + [1])
    with pytest.warns(SplitWarning, match=r"smallest class 1 has 1 row"):
        train, valid, test = make_splits(y, valid_size=0.2, test_size=0.2, random_state=0, stratify=True)
    assert len(train) + len(valid) + len(test) == 21


def test_make_splits_rejects_bad_sizes() -> None:
    with pytest.raises(ConfigError, match="valid_size"):
        make_splits(np.arange(10), valid_size=-0.1, test_size=0.1, random_state=0, stratify=False)
    with pytest.raises(ConfigError, match="must be below 1"):
        make_splits(np.arange(10), valid_size=0.5, test_size=0.5, random_state=0, stratify=False)


# ---------------------------------------------------------------------------------------------- arrays & builtins


def test_prepare_arrays_images() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(100, 1, 4, 4))
    y = np.arange(100) % 2
    data = prepare_arrays(X, y)
    assert data.input_shape == (1, 4, 4) and data.X_train.shape[1] == 16
    assert data.task is Task.BINARY
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-5)


@pytest.mark.parametrize(
    ("name", "task", "n_features", "input_shape"),
    [
        ("iris", Task.MULTICLASS, 4, None),
        ("wine", Task.MULTICLASS, 13, None),
        ("breast_cancer", Task.BINARY, 30, None),
        ("diabetes", Task.REGRESSION, 10, None),
        ("digits", Task.MULTICLASS, 64, (1, 8, 8)),
    ],
)
def test_builtin_sklearn(name: str, task: Task, n_features: int, input_shape: tuple[int, ...] | None) -> None:
    data = load_builtin(name, random_state=0)
    assert data.task is task and data.n_features == n_features and data.input_shape == input_shape
    assert data.source == name and len(data.feature_names) == n_features
    assert np.isfinite(data.X_train).all()
    if task.is_classification:
        assert data.classes is not None and data.n_outputs == (
            1 if task is Task.BINARY else len(data.classes)
        )


def test_builtin_mnist1d_generated_offline_and_deterministic() -> None:
    np.random.seed(123)
    random.seed(123)
    data = load_builtin("mnist1d")
    # The generator reseeds the global RNGs; we restore them.
    assert np.random.randint(1 << 30) == np.random.RandomState(123).randint(1 << 30)
    assert random.random() == random.Random(123).random()
    assert data.input_shape == (1, 40) and data.n_features == 40
    assert len(data.y_train) + len(data.y_valid) == 4000 and len(data.y_test) == 1000
    assert data.classes == list(range(10)) and data.n_outputs == 10
    again = load_builtin("mnist1d")
    np.testing.assert_array_equal(data.X_test, again.X_test)
    other = load_builtin("mnist1d", random_state=1)
    np.testing.assert_array_equal(data.y_test, other.y_test)  # the package's fixed test set
    assert not np.array_equal(data.y_valid, other.y_valid)


def test_builtin_unknown_name() -> None:
    assert set(BUILTIN_DATASETS) == {"digits", "mnist1d", "breast_cancer", "diabetes", "iris", "wine"}
    with pytest.raises(DataError, match=r"Unknown built-in data set 'irs'.*Did you mean 'iris'"):
        load_builtin("irs")


def test_no_stray_warnings_on_clean_data(tiny_classification_csv: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_tabular(tiny_classification_csv, "target")
        load_builtin("iris")


def test_a_class_too_rare_to_stratify_stays_in_training_and_the_rest_is_stratified() -> None:
    """One single-row class switched stratification off for the whole table: the big classes came out at
    77 % / 75 % / 61 % in training and the rare row could land in the test split."""
    y = np.array([0] * 40 + [1] * 40 + [2] * 20 + [3])
    with pytest.warns(SplitWarning, match=r"kept in training; the other classes are split in proportion"):
        train, valid, test = make_splits(y, valid_size=0.2, test_size=0.2, random_state=0, stratify=True)
    assert 100 in train and len(train) + len(valid) + len(test) == 101
    for c, n in ((0, 40), (1, 40), (2, 20)):
        assert abs(np.sum(y[train] == c) / n - len(train[y[train] != 3]) / 100) < 0.06
