"""Property-based: whatever bytes or table we are handed, the tabular loader never crashes.

The only exception allowed out of :func:`prepare_tabular` is :class:`DataError`, its message must name the file,
and when loading succeeds the result must be usable: finite float32 matrices with consistent shapes.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperselect.data import prepare_tabular
from hyperselect.data.tabular import TabularData
from hyperselect.errors import DataError

# Fixed examples in the normal run (a test suite must be deterministic); set HYPERSELECT_PROPERTY_EXAMPLES=2000 to
# hunt for new failures with fresh random examples.
_EXPLORE = int(os.environ.get("HYPERSELECT_PROPERTY_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_EXPLORE or 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not _EXPLORE,
    database=None,
)

# Cells that break naive loaders: non-finite and huge numbers, NA spellings, quotes, delimiters, unicode.
NASTY_CELLS = [
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e400",
    "9" * 40,
    "0x1F",
    "NA",
    "null",
    "true",
    "False",
    '"',
    '""',
    '"a,b"',
    "a|b",
    "|",
    ";",
    "\t",
    "é",
    "日本",
    "\u2028",
    " ",
    "-0",
    "1,5",
]

cell = st.one_of(
    st.sampled_from(NASTY_CELLS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
column_name = st.one_of(
    st.sampled_from(["y", "x", "a", "y ", "Y", "é", "日本", ""]), st.text(min_size=0, max_size=5)
)


def _check(path_or_name: str, call: Any) -> None:
    """Run ``call``; accept success (then check the result) or a DataError naming ``path_or_name``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            data = call()
        except DataError as exc:
            message = str(exc)
            assert message.strip(), "empty DataError message"
            assert path_or_name in message, f"message does not name the source: {message}"
            return
    _check_result(data)


def _check_result(data: TabularData) -> None:
    n_features = data.X_train.shape[1]
    assert n_features == len(data.feature_names) > 0
    for X, y in ((data.X_train, data.y_train), (data.X_valid, data.y_valid), (data.X_test, data.y_test)):
        assert X.dtype == np.float32 and X.ndim == 2 and X.shape[1] == n_features
        assert np.isfinite(X).all()
        assert len(X) == len(y)
        if y.dtype.kind == "f":
            assert np.isfinite(y).all()
    assert len(data.y_train) >= 2


def _write(tmp: str, name: str, content: bytes) -> Path:
    path = Path(tmp) / name
    path.write_bytes(content)
    return path


@SETTINGS
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".txt"]))
def test_random_bytes(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, f"random{suffix}", content)
        _check(f"random{suffix}", lambda: prepare_tabular(path, "y"))


@SETTINGS
@given(text=st.text(max_size=300), target=column_name)
def test_random_text(text: str, target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "text.csv", text.encode("utf-8"))
        _check("text.csv", lambda: prepare_tabular(path, target))


@st.composite
def delimited_tables(draw: Any) -> tuple[str, str, str | None]:
    """A header with possibly unicode/duplicated/blank names, rows that may be ragged, nasty cells."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    names = draw(st.lists(column_name, min_size=1, max_size=5))
    if draw(st.booleans()):
        names.append("y")
    n_rows = draw(st.integers(min_value=0, max_value=25))
    ragged = draw(st.booleans())
    rows = []
    for _ in range(n_rows):
        width = draw(st.integers(1, len(names) + 1)) if ragged else len(names)
        rows.append([draw(cell) for _ in range(width)])
    lines = [sep.join(names)] + [sep.join(r) for r in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
    target = draw(st.sampled_from(names)) if draw(st.booleans()) else "y"
    given_sep = draw(st.sampled_from([None, None, ",", ";"]))
    return text, target, given_sep


@SETTINGS
@given(table=delimited_tables())
def test_malformed_delimited(table: tuple[str, str, str | None]) -> None:
    text, target, sep = table
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "table.csv", text.encode("utf-8"))
        _check("table.csv", lambda: prepare_tabular(path, target, sep=sep))


@st.composite
def well_formed_tables(draw: Any) -> str:
    """Rectangular tables with a learnable-looking target and nasty feature values: success is expected often."""
    n_rows = draw(st.integers(min_value=8, max_value=40))
    n_cols = draw(st.integers(min_value=1, max_value=4))
    names = [f"f{j}" for j in range(n_cols)]
    labels = draw(
        st.sampled_from([["a", "b"], ["0", "1", "2"], ["1.5", "2.25", "3.125", "-4"], ["u|v", "v", "w"]])
    )
    lines = [",".join([*names, "y"])]
    for i in range(n_rows):
        feats = [draw(st.one_of(cell, st.floats(-1e6, 1e6).map(repr))) for _ in names]
        feats = [
            f if "," not in f and '"' not in f and "\n" not in f and "\r" not in f else "0" for f in feats
        ]
        lines.append(",".join([*feats, labels[i % len(labels)]]))
    return "\n".join(lines) + "\n"


@SETTINGS
@given(
    text=well_formed_tables(),
    task=st.sampled_from([None, "binary", "multiclass", "multilabel", "regression"]),
)
def test_nan_inf_huge_features(text: str, task: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "wide.csv", text.encode("utf-8"))
        _check("wide.csv", lambda: prepare_tabular(path, "y", task=task))


@SETTINGS
@given(
    names=st.lists(column_name, min_size=1, max_size=4),
    n_rows=st.integers(min_value=0, max_value=30),
    data=st.data(),
)
def test_dataframes(names: list[str], n_rows: int, data: Any) -> None:
    """Unicode and duplicated column names, NaN/inf/huge floats, object columns mixing types."""
    value = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**70), 2**70),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
    )
    columns = {f"c{j}": [data.draw(value) for _ in range(n_rows)] for j in range(len(names))}
    df = pd.DataFrame(columns)
    df.columns = names
    target = data.draw(st.sampled_from(names))
    _check("DataFrame", lambda: prepare_tabular(df, target))


@st.composite
def quoted_tables(draw: Any) -> str:
    """Rectangular tables where any cell may be quoted (with embedded commas, quotes, newlines)."""
    n_cols = draw(st.integers(2, 4))
    n_rows = draw(st.integers(1, 12))
    rows = []
    for _ in range(n_rows + 1):
        cells = []
        for _ in range(n_cols):
            c = draw(cell)
            if draw(st.booleans()) or any(ch in c for ch in ',"\r\n'):
                c = '"' + c.replace('"', '""') + '"'
            cells.append(c)
        rows.append(",".join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "\n\n"]))
    return newline.join(rows) + draw(st.sampled_from(["", newline]))


@SETTINGS
@given(text=st.one_of(quoted_tables(), well_formed_tables(), delimited_tables().map(lambda t: t[0])))
def test_fast_reader_agrees_with_csv_module(text: str) -> None:
    """The pyarrow fast path is an optimisation only: where it accepts a file, the csv-module path reads the same."""
    from hyperselect.data import tabular

    def read(fast: bool) -> pd.DataFrame | str:
        original = tabular._fast_columns
        if not fast:
            tabular._fast_columns = lambda *args: None  # type: ignore[assignment]
        try:
            return tabular._parse_delimited(text, "t.csv", ",", "given").df
        except DataError as exc:
            return type(exc).__name__
        finally:
            tabular._fast_columns = original  # type: ignore[assignment]

    fast, slow = read(True), read(False)
    if isinstance(fast, str) or isinstance(slow, str):
        assert isinstance(fast, str) and isinstance(slow, str)
    else:
        pd.testing.assert_frame_equal(fast, slow)
