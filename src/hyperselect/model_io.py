"""A trained network saved with everything needed to predict new rows of its table, and loaded back.

``hyperselect train/tune --out DIR`` write the model folder ``DIR/model/`` in the estimators' format (see
:mod:`hyperselect.estimators`): ``model.safetensors`` and ``config.json`` with the network's config, the task,
the classes or the target's scaling and the SHA-256 of the weights, written atomically and JSON last.  One more
key of ``config.json``, ``"table"``, holds what turns raw rows into the network's input: the loader's column
decisions (:class:`~hyperselect.data.tabular.TableSchema`: which columns, read how, with which reading options)
and the fitted preprocessing as JSON (:func:`~hyperselect.represent.tabular.preprocessor_state`).  No pickle.

So the same folder loads two ways: :func:`~hyperselect.estimators.load_estimator` gives the scikit-learn
estimator, which takes preprocessed matrices, and :func:`load_model` the :class:`TabularModel`, which takes a
file or DataFrame of raw rows.  Predictions run through the estimator (float64 inference: a row's prediction
does not depend on the rows next to it).
"""

from __future__ import annotations

import codecs
import dataclasses
import logging
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
import pandas as pd

from hyperselect.errors import ConfigError, DataError
from hyperselect.tasks import Task

log = logging.getLogger(__name__)

#: The key of ``config.json`` holding the table's reading and preprocessing.
TABLE_KEY = "table"
TABLE_FORMAT_VERSION = 1

#: Rows with a category never seen in training, as a share of the rows, from which a DataWarning per column says
#: so; fewer are said in one logged warning line.
UNSEEN_WARNING_SHARE = 0.1


# ------------------------------------------------------------------------------------------------------------
# saving


def network_estimator(
    model: Any,
    config: Any,
    data: Any,
    *,
    history: Any = None,
    status: str = "completed",
    stop_reason: str = "",
    best_epoch: int = 0,
    findings: Sequence[Any] = (),
    random_state: int | None = 0,
) -> Any:
    """The fitted :class:`~hyperselect.NeuralNetClassifier` / ``NeuralNetRegressor`` around ``model``, a network
    trained on ``data`` (a :class:`~hyperselect.data.TabularData`) with ``config``: its classes (or target
    scaling) are the data's, so ``predict`` answers in the training file's labels and units."""
    from hyperselect.estimators import CONFIG_FIELDS, NeuralNetClassifier, NeuralNetRegressor
    from hyperselect.train.history import History
    from hyperselect.train.trainer import infer_n_outputs

    task = Task(data.task)
    cls = NeuralNetRegressor if task is Task.REGRESSION else NeuralNetClassifier
    params = {k: getattr(config, k) for k in CONFIG_FIELDS}
    # arch may be 'cnn': the estimator then predicts with the saved network and refuses only to refit it
    est = cls(**params, arch=config.arch, random_state=random_state)
    n_classes = None if data.classes is None or task is Task.REGRESSION else len(data.classes)
    est.config_ = config
    est.model_ = model.eval()
    est.task_ = task
    est.n_features_in_ = int(data.n_features)
    est.n_outputs_ = infer_n_outputs(config, task, data.y_train, n_classes)
    est.status_, est.stop_reason_ = status, stop_reason
    est.best_epoch_ = int(best_epoch)
    est.history_ = history if history is not None else History()
    est.n_iter_ = len(est.history_)
    est.findings_ = list(findings)
    if task is Task.REGRESSION:
        if data.y_mean is None or data.y_std is None:
            raise ConfigError(
                "A regression model needs the target's scaling (y_mean, y_std); the data has none."
            )
        est.y_mean_ = np.asarray([data.y_mean], dtype=np.float64)
        est.y_std_ = np.asarray([data.y_std], dtype=np.float64)
        est._y_ndim = 1
    elif task is Task.MULTILABEL:
        est.classes_ = np.arange(len(data.classes))
        est._y_dtype = np.dtype(np.int64)
    else:
        est.classes_ = np.asarray(data.classes)
    return est


def table_state(data: Any) -> dict[str, Any]:
    """The ``"table"`` entry of ``config.json``: column decisions, reading options and fitted preprocessing."""
    from hyperselect.data.tabular import TableSchema
    from hyperselect.represent.tabular import preprocessor_state, state_feature_names

    schema = data.table
    if schema is None:  # arrays and built-in data: numeric columns named by feature_names, scaled
        schema = TableSchema(
            target="target", columns=dict.fromkeys(data.feature_names, "number"), source=data.source
        )
    try:
        state = preprocessor_state(
            data.preprocessor, feature_names=None if data.table is not None else data.feature_names
        )
    except (TypeError, AttributeError) as exc:
        raise ConfigError(f"The preprocessing of '{data.source}' cannot be saved: {exc}") from exc
    if len(state_feature_names(state)) != data.n_features:  # pragma: no cover - a bug, not a user error
        raise ConfigError(
            f"The saved preprocessing of '{data.source}' gives {len(state_feature_names(state))} features; "
            f"the network takes {data.n_features}."
        )
    return {
        "format_version": TABLE_FORMAT_VERSION,
        "schema": schema.to_dict(),
        "preprocessing": state,
        "feature_names": [str(f) for f in data.feature_names],
        "labels": None if data.classes is None else list(data.classes),
    }


def save_model(folder: str | os.PathLike[str], model: Any, config: Any, data: Any, **fit_info: Any) -> Path:
    """Write the model folder for ``model`` trained on ``data``; ``fit_info`` as in :func:`network_estimator`."""
    est = network_estimator(model, config, data, **fit_info)
    extra = {TABLE_KEY: table_state(data)}  # described before anything is written: a failure writes nothing
    return Path(est.save(folder, extra=extra))


def run_model_folder(out: str | os.PathLike[str]) -> Path:
    from hyperselect._io import safe_join
    from hyperselect.estimators import RUN_MODEL_FOLDER

    return safe_join(out, RUN_MODEL_FOLDER)


def save_train_result(out: str | os.PathLike[str], result: Any, data: Any, *, random_state: int) -> Path:
    """``out/model/`` for the network ``hyperselect train`` trained (a :class:`~hyperselect.TrainResult`)."""
    return save_model(
        run_model_folder(out),
        result.model,
        result.config,
        data,
        history=result.history,
        status=result.status,
        stop_reason=result.stop_reason,
        best_epoch=result.best_epoch,
        findings=result.findings,
        random_state=random_state,
    )


def save_tune_result(
    out: str | os.PathLike[str], result: Any, data: Any, *, random_state: int
) -> Path | None:
    """``out/model/`` for the best configuration ``hyperselect tune`` refit on train+valid (``None`` where the
    search did not refit one)."""
    if result.refit_model is None:
        remove_model(out)  # an earlier run's model would not belong to this result
        return None
    epochs = int(result.refit_epochs)
    return save_model(
        run_model_folder(out),
        result.refit_model,
        result.best_config,
        data,
        status="completed",
        stop_reason=f"trial {result.best_trial}'s configuration refit on the training and validation rows for "
        f"{epochs} epoch(s)",
        best_epoch=max(0, epochs - 1),
        random_state=random_state,
    )


def remove_model(out: str | os.PathLike[str]) -> None:
    """Remove the model folder an earlier run left in ``out``: it would not belong to this run's result.  The
    config goes first, so a crash halfway leaves weights that no config claims, never a wrong pair."""
    from hyperselect.estimators import CONFIG_FILE, WEIGHTS_FILE

    folder = run_model_folder(out)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


# ------------------------------------------------------------------------------------------------------------
# loading and predicting


class ReadOverrides(TypedDict, total=False):
    """How to read a file of new rows where it differs from the training file (``None``: as in training)."""

    encoding: str | None
    sep: str | None
    decimal: str | None
    thousands: str | None
    na_values: Sequence[str] | None


class TabularModel:
    """A saved network with its table's reading and preprocessing: raw rows in, predictions out.

    ``predict``, ``predict_proba`` and ``predictions`` take a CSV/TSV/Parquet file of the training table's
    layout (read with the training's options, which ``encoding=`` and ``sep=`` override; the target column may
    be present and is ignored) or a DataFrame.
    Attributes: ``estimator`` (the fitted scikit-learn estimator, which takes :meth:`transform`'s matrix),
    ``schema`` (:class:`~hyperselect.data.tabular.TableSchema`), ``task``, ``target``, ``classes`` (labels as
    in the training file; ``None`` for regression), ``feature_names`` (the network's inputs) and ``path``.
    """

    def __init__(
        self,
        estimator: Any,
        schema: Any,
        preprocessing: dict[str, Any],
        *,
        feature_names: list[str],
        labels: list[Any] | None,
        path: Path,
    ) -> None:
        self.estimator = estimator
        self.schema = schema
        self.preprocessing = preprocessing
        self.feature_names = feature_names
        self.path = path
        self.task: Task = estimator.task_
        self.target: str = schema.target
        if self.task is Task.REGRESSION:
            self.classes: list[Any] | None = None
        elif self.task is Task.MULTILABEL:
            self.classes = list(labels or [])
        else:
            self.classes = [c.item() if isinstance(c, np.generic) else c for c in estimator.classes_]

    def __repr__(self) -> str:
        return f"TabularModel({str(self.path)!r}, task={self.task.value!r}, target={self.target!r})"

    def transform(
        self,
        source: str | os.PathLike[str] | pd.DataFrame,
        **read: Unpack[ReadOverrides],
    ) -> np.ndarray:
        """The network's input for the rows of ``source``: float32, one column per :attr:`feature_names`.

        ``read`` (``encoding``, ``sep``, ``decimal``, ``thousands``, ``na_values``; a file ``source`` only)
        overrides the training's reading options for this file; see :meth:`predictions`."""
        return self._prepare(source, read)[0]

    def predict(
        self,
        source: str | os.PathLike[str] | pd.DataFrame,
        **read: Unpack[ReadOverrides],
    ) -> np.ndarray:
        """Class labels (binary, multiclass), a 0/1 matrix over :attr:`classes` (multilabel) or values in the
        target's units (regression), one per row of ``source``, in order.  ``read``: as in :meth:`predictions`."""
        return np.asarray(self.estimator.predict(self._prepare(source, read)[0]))

    def predict_proba(
        self,
        source: str | os.PathLike[str] | pd.DataFrame,
        **read: Unpack[ReadOverrides],
    ) -> np.ndarray:
        """Probabilities, one column per class of :attr:`classes` (per label for multilabel).  ``read``: as in
        :meth:`predictions`."""
        if self.task is Task.REGRESSION:
            raise ConfigError("predict_proba: this model is a regression; it predicts values, not classes.")
        return np.asarray(self.estimator.predict_proba(self._prepare(source, read)[0]))

    def predictions(
        self,
        source: str | os.PathLike[str] | pd.DataFrame,
        *,
        id_columns: Sequence[str] | None = None,
        **read: Unpack[ReadOverrides],
    ) -> pd.DataFrame:
        """One row per row of ``source``, in order: the id columns, ``prediction`` and, for classification,
        ``proba_<class>`` per class.  ``id_columns`` are copied from ``source`` as read; by default the
        columns training dropped as identifiers where ``source`` has them, else ``row`` (1, 2, ...).  For a
        DataFrame ``source`` the result has its index.

        A file is read with the training file's reading options (:attr:`schema`'s ``read``); the keywords
        ``encoding``, ``sep``, ``decimal``, ``thousands`` and ``na_values`` (the cell texts that mean missing,
        instead of the training's) override them for this file (``hyperselect predict --encoding/--sep/
        --decimal/--thousands/--na-value``).  Where training gave a
        single-byte encoding such as latin-1, which decodes any bytes and so never fails on a file in another
        encoding, and ``encoding`` is not given, a file that is valid UTF-8 with non-ASCII characters is read as
        UTF-8, with a :class:`~hyperselect.data.tabular.DataWarning` saying so."""
        X, rows = self._prepare(source, read)
        n = len(X)
        out: dict[str, Any] = {}
        if id_columns:
            absent = [c for c in id_columns if c not in rows.table.columns]
            if absent:
                raise DataError(
                    f"'{rows.source}': id column(s) {absent} not found; the columns are "
                    f"{', '.join(repr(str(c)) for c in rows.table.columns)}."
                )
            ids = list(id_columns)
        else:
            ids = [c for c, why in self.schema.dropped.items() if why == "identifier" and c in rows.table]
        for c in ids:
            out[str(c)] = rows.table[c].to_numpy()
        taken = {"prediction", "row", *(f"proba_{c}" for c in self.classes or [])} & set(out)
        if taken:  # an id column named like an output column would be overwritten by it
            raise DataError(
                f"'{rows.source}': the id column(s) {sorted(taken)} have the name of a column predict writes "
                "(prediction, row, proba_<class>); rename them, or pick other id columns with --id."
            )
        if not ids:
            out["row"] = np.arange(1, n + 1)
        pred = np.asarray(self.estimator.predict(X))
        if self.task is Task.MULTILABEL:
            labels = [str(c) for c in self.classes or []]
            out["prediction"] = ["|".join(lab for lab, on in zip(labels, r, strict=True) if on) for r in pred]
        else:
            out["prediction"] = pred
        if self.task is not Task.REGRESSION:
            proba = np.asarray(self.estimator.predict_proba(X))
            for j, c in enumerate(self.classes or []):
                out[f"proba_{c}"] = proba[:, j]
        # a DataFrame's rows keep their index, so that ``df["pred"] = predictions(df)["prediction"]`` lines up
        # (pandas aligns by index: a fresh 0..n-1 matched a shuffled frame's rows to other rows' predictions)
        return pd.DataFrame(out, index=source.index if isinstance(source, pd.DataFrame) else None)

    def _prepare(
        self, source: str | os.PathLike[str] | pd.DataFrame, read: ReadOverrides
    ) -> tuple[np.ndarray, Any]:
        from hyperselect.represent.tabular import apply_preprocessor_state

        rows = self._reading(source, read).rows(source, trained=self.schema.read)
        with np.errstate(all="ignore"):
            Z, unseen = apply_preprocessor_state(self.preprocessing, rows.X)
        self._say_unseen(unseen, rows)
        numeric = self.preprocessing["numeric"]
        for j, e in enumerate(numeric):
            gaps = np.flatnonzero(np.isnan(Z[:, j]))
            if len(gaps):  # only a model without imputation (built-in data) lets a gap through
                raise DataError(
                    f"'{rows.source}': column {e['column']!r} has {len(gaps)} missing value(s) (first at "
                    f"{rows.where(int(gaps[0]))}); expected a number in every row: this model was trained "
                    "without imputation."
                )
        with np.errstate(all="ignore"):
            X = Z.astype(np.float32)
        bad = ~np.isfinite(X)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            i = int(np.flatnonzero(bad[:, j])[0])
            column = numeric[j]["column"] if j < len(numeric) else self.feature_names[j]
            raise DataError(
                f"'{rows.source}': column {column!r} has a value too large for the model at "
                f"{rows.where(i)} ({rows.X[column].iloc[i]!r}); expected values of the training data's scale."
            )
        return X, rows

    def _reading(self, source: str | os.PathLike[str] | pd.DataFrame, overrides: ReadOverrides) -> Any:
        """The schema whose reading options read ``source``: the training's, with the ``overrides`` given for
        this file, or UTF-8 for a UTF-8 file where training read a single-byte encoding (see
        :meth:`predictions`)."""
        unknown = sorted(set(overrides) - set(ReadOverrides.__annotations__))
        if unknown:
            raise ConfigError(
                f"unknown reading option(s) {', '.join(map(repr, unknown))}; expected "
                f"{', '.join(ReadOverrides.__annotations__)}."
            )
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        if isinstance(source, pd.DataFrame):
            if given:
                shown = [f"{k}={v!r}" for k, v in given.items()]
                verb = "tells" if len(shown) == 1 else "tell"
                raise ConfigError(
                    f"{' and '.join(shown)} {verb} how to read a table file; the rows given are a DataFrame, "
                    "already read."
                )
            return self.schema
        read = dict(self.schema.read)
        for key, value in given.items():
            read[key] = ([value] if isinstance(value, str) else list(value)) if key == "na_values" else value
        if "na_values" in given and not read["na_values"]:
            del read["na_values"]
        encoding = given.get("encoding")
        if encoding is None:
            saved = read.get("encoding")
            utf8 = _utf8_instead(source, saved) if isinstance(saved, str) and _single_byte(saved) else None
            if utf8 is not None:
                read["encoding"] = utf8
        if read == self.schema.read:
            return self.schema
        return dataclasses.replace(self.schema, read=read)

    def _say_unseen(self, unseen: dict[str, np.ndarray], rows: Any) -> None:
        """New categories are always said: per column in a :class:`DataWarning` where they are in
        :data:`UNSEEN_WARNING_SHARE` of the rows or more, else in one logged warning for all such columns."""
        from hyperselect.data.tabular import DataWarning

        n = len(rows.X)
        few: dict[str, np.ndarray] = {}
        for column, mask in unseen.items():
            k = int(mask.sum())
            if not k:
                continue
            if k < UNSEEN_WARNING_SHARE * n:
                few[column] = mask
                continue
            values = _first_rows(rows, column, mask)
            shown = ", ".join(f"{v!r} at {rows.where(i)}" for v, i in list(values.items())[:3])
            more = f" and {len(values) - 3} more" if len(values) > 3 else ""
            msg = (
                f"'{rows.source}': column {column!r} holds categories not seen in training in {k} of {n} "
                f"row(s): {shown}{more}. They are encoded as none of the known categories (one-hot ignores "
                "them), so those rows are predicted from their other columns."
            )
            warnings.warn(msg, DataWarning, stacklevel=4)
        if few:
            k = int(np.logical_or.reduce(list(few.values())).sum())
            parts = []
            for column, mask in few.items():
                new = list(_first_rows(rows, column, mask))
                more = f" and {len(new) - 3} more" if len(new) > 3 else ""
                parts.append(f"{column}: {', '.join(repr(v) for v in new[:3])}{more}")
            log.warning(
                "'%s': %d of %d row(s) have a category not seen in training (%s); such a category is encoded as "
                "none of the known ones, so those rows are predicted from their other columns.",
                rows.source,
                k,
                n,
                "; ".join(parts),
            )


def _first_rows(rows: Any, column: str, mask: np.ndarray) -> dict[str, int]:
    """Each distinct value of ``column`` where ``mask`` is set -> the first row holding it."""
    values: dict[str, int] = {}
    for i in np.flatnonzero(mask).tolist():
        values.setdefault(str(rows.X[column].iloc[i]), i)
    return values


def _single_byte(encoding: str) -> bool:
    """Whether ``encoding`` maps (nearly) every byte to a character, so that reading a file in another encoding
    with it never fails: it gives wrong text instead (UTF-8 'Zürich' read as latin-1 is 'ZÃ¼rich')."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("iso8859-", "cp125", "mac-", "koi8-")) or name in {
        "cp437",
        "cp850",
        "cp852",
        "cp866",
    }


def _utf8_instead(source: str | os.PathLike[str], saved: str) -> str | None:
    """``"utf-8"`` (``"utf-8-sig"`` with a byte-order mark) where the text file ``source`` is valid UTF-8 with
    non-ASCII characters, said in a warning; None where it is not (or cannot be read here: the reader says why).
    ``saved``: the single-byte encoding training read its file with, which would misread it silently."""
    from hyperselect.data.tabular import SUPPORTED_EXTENSIONS, DataWarning

    path = Path(source)
    if SUPPORTED_EXTENSIONS.get(path.suffix.lower(), "parquet") == "parquet":
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if raw.isascii():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    if body.isascii():
        first = "a UTF-8 byte-order mark"
    else:
        found = re.search(rb"[\x80-\xff]", body)
        at = found.start() if found else 0
        char = body[at : at + 4].decode("utf-8", errors="ignore")[:1]
        line = body.count(b"\n", 0, at) + 1
        first = f"{char!r} on line {line}"
    warnings.warn(
        f"'{path}' is valid UTF-8 with non-ASCII text (first: {first}), so it is read as UTF-8, not as "
        f"{saved}, the encoding the model's training file was read with ({saved} reads any bytes, so it would "
        f"turn UTF-8 text into wrong characters without an error). Pass encoding='{saved}' (--encoding "
        f"{saved}) to read it as {saved}.",
        DataWarning,
        stacklevel=5,
    )
    return "utf-8-sig" if bom else "utf-8"


def predictions_format(path: str | os.PathLike[str]) -> str:
    """``csv``, ``tsv`` or ``parquet``: the format a predictions file at ``path`` is written in, by its extension
    (none: CSV).  Any other extension is a :class:`ConfigError`: 'p.parquet' used to receive CSV text, which no
    Parquet reader opens, and 'p.tsv' commas."""
    from hyperselect.data.tabular import SUPPORTED_EXTENSIONS

    # those the tables are read from (a delimited one as CSV)
    formats = {ext: "csv" if kind == "delimited" else kind for ext, kind in SUPPORTED_EXTENSIONS.items()}
    suffix = Path(path).suffix.lower()
    if not suffix:
        return "csv"
    kind = formats.get(suffix)
    if kind is None:
        raise ConfigError(
            f"The predictions file '{path}' has the extension {suffix!r}; expected one of "
            f"{', '.join(sorted(formats))} (CSV, tab-separated or Parquet)."
        )
    return kind


def write_predictions(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the table :meth:`TabularModel.predictions` gave, atomically, in the format of ``path``'s extension
    (:func:`predictions_format`)."""
    import io

    from hyperselect._io import atomic_write_bytes, atomic_write_text

    kind = predictions_format(path)
    if kind == "parquet":
        buffer = io.BytesIO()
        # the ids as read (text for a delimited file, any type for a Parquet one): one type per column or text
        out = table.copy()
        for name in out.columns:
            col = out[name]
            if col.dtype == object and len({type(v) for v in col.dropna().tolist()}) > 1:
                out[name] = col.map(lambda v: None if pd.isna(v) else str(v))
        out.to_parquet(buffer, index=False)
        return atomic_write_bytes(path, buffer.getvalue())
    return atomic_write_text(path, table.to_csv(index=False, sep="\t" if kind == "tsv" else ","))


def load_model(path: str | os.PathLike[str]) -> TabularModel:
    """Load the model folder ``hyperselect train/tune --out DIR`` wrote (``DIR/model``, or ``DIR`` itself).

    ``load_model("runs/t").predictions("new.csv")`` is the table ``hyperselect predict`` writes.  A folder that
    is no model folder, or an estimator saved without its table (``NeuralNetClassifier.save``: use
    :func:`~hyperselect.load_estimator`), is a :class:`DataError` saying so.
    """
    from hyperselect.data.tabular import TableSchema
    from hyperselect.estimators import CONFIG_FILE, WEIGHTS_FILE, _model_folder, _read_doc, load_estimator
    from hyperselect.represent.tabular import state_feature_names

    given = Path(path)
    if not given.exists():
        raise DataError(f"Model folder not found: '{given}'.")
    folder = _model_folder(given)
    cfg = folder / CONFIG_FILE
    if not cfg.is_file():
        raise DataError(
            f"'{given}' is not a model folder: it holds no {CONFIG_FILE}. Expected the folder "
            f"'hyperselect train' or 'hyperselect tune' wrote with --out DIR (DIR or DIR/model, holding "
            f"{CONFIG_FILE} and {WEIGHTS_FILE})."
        )
    doc = _read_doc(cfg)
    if doc.get("format") != "hyperselect-estimator":
        raise DataError(
            f"'{cfg}' is not a hyperselect model description (no 'format': 'hyperselect-estimator')."
        )
    table = doc.get(TABLE_KEY)
    if table is None:
        raise DataError(
            f"'{cfg}' is an estimator saved without its table's preprocessing, so it takes preprocessed "
            "matrices, not rows of a table: load it with hyperselect.load_estimator. Models that "
            "'hyperselect train/tune --out DIR' write (DIR/model) hold it."
        )
    estimator = load_estimator(folder)
    try:
        if int(table["format_version"]) > TABLE_FORMAT_VERSION:
            raise ValueError(
                f"its table format_version {table['format_version']} is newer than this hyperselect reads "
                f"({TABLE_FORMAT_VERSION}); upgrade hyperselect"
            )
        schema = TableSchema.from_dict(table["schema"])
        state = dict(table["preprocessing"])
        n = len(state_feature_names(state))
        if n != estimator.n_features_in_:
            raise ValueError(
                f"the preprocessing gives {n} features but the network takes {estimator.n_features_in_}"
            )
        model = TabularModel(
            estimator,
            schema,
            state,
            feature_names=[str(f) for f in table["feature_names"]],
            labels=table.get("labels"),
            path=folder,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"the key {exc} is missing" if isinstance(exc, KeyError) else str(exc)
        raise DataError(f"'{cfg}': the table description is not complete ({what}).") from exc
    return model


__all__ = [
    "TABLE_KEY",
    "TabularModel",
    "load_model",
    "network_estimator",
    "predictions_format",
    "remove_model",
    "save_model",
    "save_train_result",
    "save_tune_result",
    "table_state",
    "write_predictions",
]
