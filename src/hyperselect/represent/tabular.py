"""Turn a raw feature table into the float matrix a network trains on.

The loader (:mod:`hyperselect.data.tabular`) decides *what* the columns are; this module decides *how* they
become numbers.  It is a scikit-learn ``ColumnTransformer`` so that the exact same fitted object can be applied to
new data at prediction time and inspected by users who know scikit-learn:

* numeric columns: median imputation (robust to the outliers real tables have) then standard scaling, because
  networks train badly on features whose scales differ by orders of magnitude;
* categorical columns: most-frequent imputation then one-hot encoding with ``handle_unknown="ignore"``, so a
  category first seen in the test split becomes an all-zero row instead of an exception.

Everything here is fitted on the training split only; fitting on all rows would leak test statistics.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger(__name__)

#: One-hot width per column is capped: rarer categories share one "infrequent" column.  Without a cap an
#: identifier column would add a feature per row.
MAX_CATEGORIES = 50


def _is_bool_value(v: object) -> bool:
    return isinstance(v, bool | np.bool_)


def _is_number_value(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not _is_bool_value(v)


def coerce_features(X: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``X`` whose columns are either ``float64`` (numeric) or ``object`` holding ``str``.

    Missing values become ``np.nan`` in both kinds.  The two-kind normal form is what lets the
    ``ColumnTransformer`` below work on any input: pandas nullable dtypes (``Int64``, ``boolean``,
    ``string[pyarrow]``), categoricals, datetimes and mixed-type object columns all arrive here from Parquet
    files and user DataFrames, and scikit-learn handles none of them uniformly.
    """
    out: dict[str, pd.Series] = {}
    for name in X.columns:
        col = X[name]
        missing = col.isna().to_numpy()
        if ptypes.is_bool_dtype(col.dtype):
            values = col.astype("float64") if not missing.any() else col.astype("Float64").astype("float64")
            out[name] = pd.Series(np.asarray(values, dtype=np.float64), index=X.index)
        elif ptypes.is_complex_dtype(col.dtype):
            out[name] = _as_str(col, missing)
        elif ptypes.is_numeric_dtype(col.dtype):
            out[name] = pd.Series(col.to_numpy(dtype=np.float64, na_value=np.nan), index=X.index)
        elif ptypes.is_datetime64_any_dtype(col.dtype):
            # Seconds since the epoch: monotone in time, which is what a scaler and a network need.
            if isinstance(col.dtype, pd.DatetimeTZDtype):
                col = col.dt.tz_convert("UTC").dt.tz_localize(None)
            as_ns = col.astype("datetime64[ns]").astype("int64").astype(np.float64)
            out[name] = pd.Series(np.where(missing, np.nan, as_ns / 1e9), index=X.index)
        elif ptypes.is_timedelta64_dtype(col.dtype):
            out[name] = pd.Series(col.dt.total_seconds().to_numpy(dtype=np.float64), index=X.index)
        else:
            present = [v for v, m in zip(col.tolist(), missing, strict=True) if not m]
            if present and (
                all(_is_bool_value(v) for v in present) or all(_is_number_value(v) for v in present)
            ):
                vals = [np.nan if m else float(v) for v, m in zip(col.tolist(), missing, strict=True)]
                out[name] = pd.Series(vals, index=X.index, dtype=np.float64)
            else:
                out[name] = _as_str(col, missing)
    return pd.DataFrame(out, index=X.index, columns=list(X.columns))


def _as_str(col: pd.Series, missing: np.ndarray) -> pd.Series:
    """Categorical values as plain ``str`` in an ``object`` column, missing as ``np.nan``.

    Mixed types (``1`` and ``"1"``) would make scikit-learn's sorting of categories raise a ``TypeError``.
    """
    vals = [np.nan if m else str(v) for v, m in zip(col.tolist(), missing, strict=True)]
    return pd.Series(vals, index=col.index, dtype=object)


def feature_kinds(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split the columns of a :func:`coerce_features` frame into ``(numeric, categorical)`` names."""
    numeric = [str(c) for c in X.columns if ptypes.is_float_dtype(X[c].dtype)]
    categorical = [str(c) for c in X.columns if not ptypes.is_float_dtype(X[c].dtype)]
    return numeric, categorical


def _one_hot_name(feature: str, category: object) -> str:
    """``color=red``: readable in reports, unlike scikit-learn's default ``cat__color_red``."""
    return f"{feature}={category}"


def build_preprocessor(
    numeric: Sequence[str], categorical: Sequence[str], *, max_categories: int = MAX_CATEGORIES
) -> ColumnTransformer:
    """An unfitted ``ColumnTransformer`` for the given numeric and categorical column names.

    ``keep_empty_features=True`` keeps a column that happens to be all-missing in the training split (it imputes
    a constant), so the number and order of output features never depends on which rows the split drew.
    """
    numeric_pipe = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical_pipe = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="most_frequent", missing_values=np.nan, keep_empty_features=True),
            ),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="ignore",
                    sparse_output=False,
                    max_categories=max_categories,
                    feature_name_combiner=_one_hot_name,
                    dtype=np.float64,
                ),
            ),
        ]
    )
    transformers: list[tuple[str, Pipeline, list[str]]] = []
    if numeric:
        transformers.append(("num", numeric_pipe, list(numeric)))
    if categorical:
        transformers.append(("cat", categorical_pipe, list(categorical)))
    return ColumnTransformer(
        transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False
    )


def output_feature_names(preprocessor: ColumnTransformer) -> list[str]:
    """Names of the fitted transformer's output columns (``age``, ``color=red``, ...).

    Falls back to scikit-learn's prefixed names when short names collide (a numeric column literally named
    ``color=red`` next to a categorical ``color``), because unique names matter more than pretty ones.
    """
    try:
        names = preprocessor.get_feature_names_out()
    except ValueError:
        preprocessor.set_params(verbose_feature_names_out=True)
        names = preprocessor.get_feature_names_out()
    return [str(n) for n in names]


def fit_transform_splits(
    X: pd.DataFrame, splits: Sequence[np.ndarray]
) -> tuple[ColumnTransformer, list[np.ndarray], list[str]]:
    """Fit a preprocessor on ``X.iloc[splits[0]]`` and transform every split.

    Returns the fitted transformer, one float64 matrix per split (empty splits give ``(0, n_features)``), and
    the output feature names.  Raises whatever scikit-learn raises; the caller turns it into a ``DataError``
    that names the source.
    """
    numeric, categorical = feature_kinds(X)
    preprocessor = build_preprocessor(numeric, categorical)
    train = X.iloc[splits[0]]
    with np.errstate(all="ignore"):
        preprocessor.fit(train)
        names = output_feature_names(preprocessor)
        outputs = []
        for idx in splits:
            if len(idx) == 0:
                outputs.append(np.empty((0, len(names)), dtype=np.float64))
            else:
                outputs.append(np.asarray(preprocessor.transform(X.iloc[idx]), dtype=np.float64))
    logger.debug(
        "preprocessor: %d numeric, %d categorical columns -> %d features",
        len(numeric),
        len(categorical),
        len(names),
    )
    return preprocessor, outputs, names


# ------------------------------------------------------------------------------------------------------------
# the fitted state as JSON, applied to new rows
#
# A saved model must turn new raw rows into exactly the matrix its network was trained on.  We store the fitted
# state as plain JSON values (medians, means and scales, imputed categories, the categories each one-hot column
# stands for and the ones grouped as infrequent) and apply it with numpy, rather than pickling the
# ColumnTransformer (DESIGN.md: never pickle) or adding skops: skops' safe loading still needs its list of
# trusted types reviewed per scikit-learn version, and its files follow scikit-learn's private attributes
# (``_infrequent_indices``, ...) from release to release, while the state here is a dozen documented numbers
# per column that any version of this code reads.  The arithmetic is scikit-learn's own (impute, subtract the
# mean, divide by the scale, in float64), so the output is identical to the bit; tests/test_predict.py checks it
# against the fitted transformer.

#: Version of the JSON written by :func:`preprocessor_state`.
STATE_VERSION = 1

#: The name scikit-learn gives the one-hot column of a feature's infrequent categories.
INFREQUENT = "infrequent_sklearn"


def _json_value(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def preprocessor_state(preprocessor: object, feature_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The fitted state of :func:`build_preprocessor`'s ``ColumnTransformer`` (or of the ``StandardScaler`` that
    :func:`~hyperselect.data.prepare_arrays` fits, whose columns are then ``feature_names``) as JSON values.

    ``{"numeric": [{"column", "fill", "mean", "scale"}], "categorical": [{"column", "fill", "categories",
    "infrequent"}]}``: numeric columns come first in the output, then one column per frequent category of each
    categorical column, in ``categories`` order, and one for its infrequent ones where there are any.  A
    ``fill`` of ``None`` means no imputation (a missing value cannot be predicted).  Raises ``TypeError`` for
    any other transformer: its state is not known here.
    """
    if isinstance(preprocessor, StandardScaler):
        n = int(preprocessor.n_features_in_)
        names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(n)]
        if len(names) != n:
            raise TypeError(f"The StandardScaler has {n} columns but {len(names)} feature names were given.")
        return {
            "format_version": STATE_VERSION,
            "numeric": [
                {"column": str(c), "fill": None, **_scaling(preprocessor, j)} for j, c in enumerate(names)
            ],
            "categorical": [],
        }
    if not isinstance(preprocessor, ColumnTransformer):
        raise TypeError(
            f"Cannot describe a fitted {type(preprocessor).__name__}; expected a ColumnTransformer."
        )
    numeric: list[dict[str, Any]] = []
    categorical: list[dict[str, Any]] = []
    for name, pipe, columns in preprocessor.transformers_:
        if name == "remainder":
            if pipe != "drop":
                raise TypeError(f"Cannot describe a ColumnTransformer whose remainder is {pipe!r}.")
            continue
        steps = dict(pipe.steps) if isinstance(pipe, Pipeline) else {}
        if name == "num" and set(steps) == {"impute", "scale"}:
            fills = steps["impute"].statistics_
            for j, col in enumerate(columns):
                numeric.append({"column": str(col), "fill": float(fills[j]), **_scaling(steps["scale"], j)})
        elif name == "cat" and set(steps) == {"impute", "onehot"}:
            enc = steps["onehot"]
            if enc.handle_unknown != "ignore" or enc.drop is not None:
                raise TypeError("Cannot describe a OneHotEncoder that does not ignore unknown categories.")
            infrequent = getattr(enc, "infrequent_categories_", [None] * len(columns))
            fills = steps["impute"].statistics_
            for j, col in enumerate(columns):
                rare = [] if infrequent[j] is None else [_json_value(v) for v in infrequent[j]]
                rare_set = set(rare)
                categorical.append(
                    {
                        "column": str(col),
                        "fill": _json_value(fills[j]),
                        "categories": [_json_value(v) for v in enc.categories_[j] if v not in rare_set],
                        "infrequent": rare,
                    }
                )
        else:
            raise TypeError(f"Cannot describe the ColumnTransformer's step {name!r} ({type(pipe).__name__}).")
    return {"format_version": STATE_VERSION, "numeric": numeric, "categorical": categorical}


def _scaling(scaler: StandardScaler, j: int) -> dict[str, float]:
    if not (scaler.with_mean and scaler.with_std):
        raise TypeError("Cannot describe a StandardScaler without both centring and scaling.")
    return {"mean": float(scaler.mean_[j]), "scale": float(scaler.scale_[j])}


def state_feature_names(state: dict[str, Any]) -> list[str]:
    """The output columns :func:`apply_preprocessor_state` gives, named as :func:`output_feature_names` does."""
    names = [str(e["column"]) for e in state["numeric"]]
    for e in state["categorical"]:
        names += [_one_hot_name(e["column"], c) for c in e["categories"]]
        if e["infrequent"]:
            names.append(_one_hot_name(e["column"], INFREQUENT))
    return names


def apply_preprocessor_state(
    state: dict[str, Any], X: pd.DataFrame
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Transform ``X`` (a :func:`coerce_features` frame holding the state's columns) as the fitted preprocessor
    would: the float64 matrix, and for each categorical column the mask of rows whose category was never seen in
    training (encoded as all zeros: one-hot ignores it, as ``handle_unknown="ignore"`` does).

    A missing value in a column without imputation (``fill`` None) stays NaN; the caller says what to do.
    """
    parts: list[np.ndarray] = []
    if state["numeric"]:
        cols = [e["column"] for e in state["numeric"]]
        values = X[cols].to_numpy(dtype=np.float64, copy=True)
        for j, e in enumerate(state["numeric"]):
            if e["fill"] is not None:
                values[np.isnan(values[:, j]), j] = e["fill"]
        values -= np.asarray([e["mean"] for e in state["numeric"]], dtype=np.float64)
        values /= np.asarray([e["scale"] for e in state["numeric"]], dtype=np.float64)
        parts.append(values)
    unseen: dict[str, np.ndarray] = {}
    for e in state["categorical"]:
        cells = X[e["column"]].tolist()
        index = {c: i for i, c in enumerate(e["categories"])}
        rare = set(e["infrequent"])
        width = len(index) + (1 if rare else 0)
        block = np.zeros((len(cells), width), dtype=np.float64)
        miss = np.zeros(len(cells), dtype=bool)
        for r, v in enumerate(cells):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                v = e["fill"]
            i = index.get(v)
            if i is not None:
                block[r, i] = 1.0
            elif v in rare:
                block[r, -1] = 1.0
            else:
                miss[r] = True
        parts.append(block)
        unseen[e["column"]] = miss
    if not parts:
        return np.empty((len(X), 0), dtype=np.float64), unseen
    return np.hstack(parts) if len(parts) > 1 else parts[0], unseen


__all__ = [
    "INFREQUENT",
    "MAX_CATEGORIES",
    "apply_preprocessor_state",
    "build_preprocessor",
    "coerce_features",
    "feature_kinds",
    "fit_transform_splits",
    "output_feature_names",
    "preprocessor_state",
    "state_feature_names",
]
