"""Hand-written bad inputs: each gets a DataError whose message names the file and says what is wrong.

Each case is a file (name + bytes), the call's keyword arguments, and a regex the message must match.  Messages
are part of the interface: a user reading one must know which file, where, what was found and what was expected.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hyperselect.data import DataWarning, load_builtin, prepare_arrays, prepare_tabular
from hyperselect.errors import ConfigError, DataError

GOOD_ROWS = "".join(f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(30))

# (id, file name, file bytes, keyword arguments, message regex)
CASES: list[tuple[str, str, bytes, dict[str, Any], str]] = [
    ("empty_file", "empty.csv", b"", {}, r"is empty \(0 bytes\); expected a header line and data rows"),
    ("whitespace_only", "blank.csv", b"\n\n   \n", {}, r"is empty \(6 bytes\)"),
    ("header_only", "head.csv", b"a,b,y\n", {}, r"has a header \(line 1: 'a', 'b', 'y'\) but no data rows"),
    (
        "unknown_extension",
        "data.xlsx",
        b"a,y\n1,2\n",
        {},
        r"unknown file extension '\.xlsx'; expected one of",
    ),
    ("no_extension", "data", b"a,y\n1,2\n", {}, r"unknown file extension '\(none\)'"),
    (
        "unknown_target_lists_columns",
        "t.csv",
        b"alpha,beta,gamma\n1,2,3\n4,5,6\n",
        {"target": "label"},
        r"target column 'label' not found; the columns are: 'alpha', 'beta', 'gamma'",
    ),
    (
        "unknown_target_did_you_mean",
        "t.csv",
        b"age,income,Label\n1,2,a\n4,5,b\n",
        {"target": "label"},
        r"Did you mean 'Label'\?",
    ),
    (
        "single_class",
        "one.csv",
        b"x,y\n1,same\n2,same\n3,same\n",
        {},
        r"target 'y' has a single value 'same' in all 3 rows; expected at least 2 classes",
    ),
    (
        "regression_not_numeric",
        "r.csv",
        b"x,y\n1,1.5\n2,2.5\n3,high\n4,3.0\n",
        {"task": "regression"},
        r"task is regression but target 'y' is not numeric: 1 value\(s\) such as 'high' at line 4; expected numbers",
    ),
    (
        "regression_bool_target",
        "r.csv",
        b"x,y\n1,true\n2,false\n3,true\n",
        {"task": "regression"},
        r"target 'y' holds true/false values; expected numbers",
    ),
    (
        "regression_constant",
        "r.csv",
        b"x,y\n1,2.5\n2,2.5\n3,2.5\n",
        {"task": "regression"},
        r"regression target 'y' is constant \(2.5 in all 3 rows\)",
    ),
    (
        "regression_inf_target",
        "r.csv",
        b"x,y\n1,1.5\n2,inf\n3,2.5\n",
        {"task": "regression"},
        r"target 'y' has 1 infinite value\(s\) \(first inf at line 3\)",
    ),
    (
        "all_targets_missing",
        "m.csv",
        b"x,y\n1,\n2,NA\n3,\n",
        {},
        r"target column 'y' is missing \(empty\) in all 3 rows",
    ),
    (
        "wrong_delimiter_given",
        "semi.csv",
        b"a;b;y\n1;2;p\n3;4;q\n",
        {"sep": ","},
        r"reading with delimiter comma \(','\) \(given\) gave a single column named 'a;b;y', which contains "
        r"semicolon \(';'\) 2 time\(s\).*pass sep=';'",
    ),
    (
        "wrong_delimiter_from_extension",
        "commas.tsv",
        b"a,b,y\n1,2,p\n3,4,q\n",
        {},
        r"delimiter tab \('\\t'\) \(from the '\.tsv' extension\) gave a single column named 'a,b,y'.*pass sep=','",
    ),
    (
        "undecodable_bytes",
        "latin.csv",
        "x,y\n1,a\n2,caf\u00e9\n".encode("latin-1"),
        {},
        r"cannot be decoded as utf-8: invalid byte\(s\) e9 0a at byte offset 13 \(line 3\).*encoding='latin-1'",
    ),
    ("unknown_encoding", "t.csv", b"x,y\n1,a\n", {"encoding": "klingon-8"}, r"Unknown encoding 'klingon-8'"),
    (
        "binary_file",
        "image.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        {},
        r"contains a NUL byte at byte offset 8 \(line 3\); it looks like a binary file",
    ),
    (
        "ragged_too_many_fields",
        "rag.csv",
        b"a,b,y\n1,2,p\n3,4,q,extra\n5,6,p\n",
        {},
        r"line 3 has 4 field\(s\) but the header \(line 1\) has 3; 1 of 3 data rows have the wrong number",
    ),
    (
        "ragged_too_few_fields",
        "rag.csv",
        b"a,b,y\n1,2,p\n3,4,q\n5,6,p\n7\n",
        {},
        r"line 5 has 1 field\(s\) but the header \(line 1\) has 3.*delimiter comma \(','\) \(guessed",
    ),
    (
        "unmatched_quote",
        "quote.csv",
        b'a,b,y\n1,2,p\n3,"4,q\n5,6,p\n',
        {},
        r"lines 3-4 has 2 field\(s\).*is a '\"' unmatched on line 3\?",
    ),
    (
        "duplicated_columns",
        "dup.csv",
        b"a,b,a,y\n1,2,3,p\n4,5,6,q\n",
        {},
        r"the header \(line 1\) has duplicated column names: 'a' at columns 1, 3",
    ),
    (
        "inf_in_feature",
        "inf.csv",
        b"a,b,y\n1,2,p\n3,-inf,q\n5,6,p\n",
        {},
        r"feature column 'b' has 1 infinite value\(s\) \(first -inf at line 3\); expected finite numbers",
    ),
    (
        "only_target_column",
        "only.csv",
        b"y\np\nq\n",
        {},
        r"has only the target column 'y'; expected at least one feature",
    ),
    (
        "too_few_rows",
        "few.csv",
        b"x,y\n1,p\n2,q\n",
        {},
        r"Too few rows to split: 2 row\(s\) give train=0, valid=1, test=1.*expected at least 2 training rows",
    ),
    (
        "binary_override_three_classes",
        "b.csv",
        b"x,y\n1,a\n2,b\n3,c\n4,a\n",
        {"task": "binary"},
        r"task='binary' but target 'y' has 3 classes \('a', 'b', 'c'\); expected exactly 2",
    ),
    (
        "huge_values_overflow_scaler",
        "huge.csv",
        (
            "x,big,y\n" + "".join(f"{i},{'1e308' if i % 2 else '-1e308'},{'pq'[i % 2]}\n" for i in range(30))
        ).encode(),
        {},
        r"feature 'big' has values too large to scale \(largest magnitude 1e\+308\)",
    ),
    (
        "corrupt_parquet",
        "bad.parquet",
        b"a,b,y\n1,2,3\n",
        {},
        r"cannot be read as Parquet \(.*\); expected a Parquet file because of its '\.parquet' extension",
    ),
    (
        "multilabel_single_label",
        "ml.csv",
        b"x,y\n1,a|\n2,a\n3,|a\n",
        {"task": "multilabel"},
        r"multilabel target 'y' has 1 distinct label\(s\) \('a'\); expected at least 2",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file(tmp_path: Path, name: str, content: bytes, kwargs: dict[str, Any], pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    kwargs = {"target": "y", **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError) as info:
            prepare_tabular(path, **kwargs)
    message = str(info.value)
    assert name in message, f"message does not name the file: {message}"
    assert re.search(pattern, message), f"{pattern!r} not found in: {message}"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=r"Data file not found: '.*nope\.csv' \(looked in '.*'\)"):
        prepare_tabular(missing, "y")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"'.*folder\.csv' is a directory; expected a data file"):
        prepare_tabular(folder, "y")


def test_empty_parquet(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float), "y": pd.Series([], dtype=str)}).to_parquet(path)
    with pytest.raises(DataError, match=r"empty\.parquet' has columns \('a', 'y'\) but no data rows"):
        prepare_tabular(path, "y")


def test_missing_target_rows_warn_with_count(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,b,y\n" + GOOD_ROWS + "31,0,\n32,0,NA\n33,0,null\n")
    with pytest.warns(
        DataWarning, match=r"m\.csv': dropped 3 of 33 rows whose target 'y' is missing \(first at line 32\)"
    ):
        data = prepare_tabular(path, "y")
    assert data.dropped_rows == 3 and len(data.y_train) + len(data.y_valid) + len(data.y_test) == 30


def test_dataframe_duplicated_columns() -> None:
    df = pd.DataFrame([[1, 2, "a"], [3, 4, "b"]], columns=["x", "x", "y"])
    with pytest.raises(DataError, match=r"'DataFrame' has duplicated column names: 'x' at columns 1, 2"):
        prepare_tabular(df, "y")


def test_dataframe_inf_names_row_label() -> None:
    df = pd.DataFrame({"x": [1.0, np.inf, 2.0], "y": ["a", "b", "a"]}, index=["r1", "r2", "r3"])
    with pytest.raises(
        DataError, match=r"feature column 'x' has 1 infinite value\(s\) \(first inf at row 'r2'\)"
    ):
        prepare_tabular(df, "y")


def test_not_a_dataframe_or_path() -> None:
    with pytest.raises(
        DataError, match="Expected a file path or a pandas DataFrame as the data source; got int"
    ):
        prepare_tabular(12345, "y")  # type: ignore[arg-type]


def test_bad_split_sizes_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("a,b,y\n" + GOOD_ROWS)
    with pytest.raises(
        ConfigError, match=r"valid_size \+ test_size must be below 1.*valid_size=0.6, test_size=0.5"
    ):
        prepare_tabular(path, "y", valid_size=0.6, test_size=0.5)
    with pytest.raises(
        ConfigError, match=r"The 'test_size' parameter of prepare_tabular must be a float in \[0, 1\)"
    ):
        prepare_tabular(path, "y", test_size=1.5)


def test_split_argument_errors_name_the_function_called(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("a,b,y\n" + GOOD_ROWS)
    df = pd.read_csv(path)
    # not make_splits, the internal function that cuts the rows; the seed range is numpy's, as for tune
    for source in (path, df):
        with pytest.raises(
            ConfigError,
            match=r"^The 'random_state' parameter of prepare_tabular must be an int in \[0, 4294967295\]\. "
            r"Got None\.$",
        ):
            prepare_tabular(source, "y", random_state=None)  # type: ignore[arg-type]
        with pytest.raises(
            ConfigError, match=r"^The 'valid_size' parameter of prepare_tabular must be a float in \(0, 1\)"
        ):
            prepare_tabular(source, "y", valid_size=1.0)
    with pytest.raises(ConfigError, match=r"^The 'random_state' parameter of load_builtin must be an int in"):
        load_builtin("iris", random_state=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^The 'random_state' parameter of prepare_arrays must be"):
        prepare_arrays(np.ones((20, 2)), np.arange(20) % 2, random_state=-1)
    with pytest.raises(ConfigError, match=r"^The 'test_size' parameter of prepare_arrays must be"):
        prepare_arrays(np.ones((20, 2)), np.arange(20) % 2, test_size=1.0)
    # the top of the range works (the second cut's seed wraps around instead of overflowing)
    data = load_builtin("iris", random_state=2**32 - 1)
    assert len(data.y_train) + len(data.y_valid) + len(data.y_test) == 150


@pytest.mark.parametrize(
    ("X", "y", "pattern"),
    [
        (np.ones((10, 3)), np.arange(9), r"y must be 1-D with one value per row of X \(10\)"),
        (np.ones(10), np.arange(10), r"X must have at least 2 dimensions"),
        ([["a", "b"]] * 10, np.arange(10) % 2, r"X must be numeric"),
        (
            np.full((10, 2), np.nan),
            np.arange(10) % 2,
            r"X has 20 NaN/infinite value\(s\) \(first at row 0, feature 0\)",
        ),
        (np.ones((10, 2)), np.array([1.0] * 9 + [np.nan]), r"y has 1 missing value\(s\)"),
    ],
)
def test_prepare_arrays_bad(X: Any, y: Any, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        prepare_arrays(X, y, name="mine")


def test_unknown_builtin() -> None:
    with pytest.raises(DataError, match=r"Unknown built-in data set 'mnist'; expected one of .*mnist1d"):
        load_builtin("mnist")


def test_features_that_are_all_constant_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a,label\n" + "".join(f"1,{'x' if i % 2 else 'y'}\n" for i in range(40)))
    with pytest.raises(DataError, match=r"every feature column has the same value in every row \('a'\)"):
        prepare_tabular(path, "label")


def test_a_parquet_row_is_counted_from_1(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [0.5, 1.5, 2.5, 3.5] * 5, "label": ["x", "y"] * 10})
    df.loc[2, "label"] = None
    df.to_parquet(tmp_path / "t.parquet")
    with pytest.warns(DataWarning, match=r"first at row 3\)"):  # the third row, not "row 2"
        prepare_tabular(tmp_path / "t.parquet", "label")


def test_tiny_validation_and_test_splits_are_said_to_be_rough(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,label\n" + "".join(f"{i * 0.37 % 1:.3f},{'x' if i % 2 else 'y'}\n" for i in range(15)))
    with pytest.warns(DataWarning, match=r"validation and test split\(s\) hold 3 and 3 row\(s\).*33 points"):
        prepare_tabular(path, "label")
