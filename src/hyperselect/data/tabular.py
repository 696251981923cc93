"""Load a table (CSV, TSV, Parquet), detect the task, split it and preprocess it for a network.

Two entry points:

* :func:`load_table` reads a file and returns the raw features, the target and the detected :class:`Task`;
* :func:`prepare_tabular` goes all the way to a :class:`TabularData` of float matrices, split into
  train/valid/test with a preprocessor fitted on the training split only.

Bad input is the normal case for a loader, so every problem we can foresee raises :class:`DataError` with the
file, the line or column, what was found and what was expected, and no pandas or scikit-learn traceback reaches
the user.  Delimited text is parsed with the standard :mod:`csv` module rather than ``pandas.read_csv`` because we
need the physical line number of every record for messages, and a strict field count (pandas silently pads short
rows with NaN).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import io
import itertools
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from hyperselect._validation import Interval, Options, check_params
from hyperselect.data.splits import SPLIT_CONSTRAINTS, make_splits
from hyperselect.errors import ConfigError, DataError
from hyperselect.represent.tabular import coerce_features, fit_transform_splits
from hyperselect.tasks import Task

logger = logging.getLogger(__name__)

#: File name endings we read, and how.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "delimited",
    ".txt": "delimited",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Delimiters tried when none is given, in order of preference on ties.
CANDIDATE_SEPARATORS: tuple[str, ...] = (",", "\t", ";", "|")

#: The spellings of :data:`NA_TOKENS` that messages and help texts name (``--na-value``'s help in
#: ``_cli_options`` writes the same list; tests/test_readme_audit.py holds the three together).
NA_TOKENS_SHOWN: tuple[str, ...] = ("NA", "N/A", "NaN", "-NaN", "NaT", "null", "none", "<NA>", "#N/A", "?")

#: Cell values read as missing (compared after stripping and lower-casing); the usual spreadsheet spellings.
NA_TOKENS: frozenset[str] = frozenset({""} | {t.lower() for t in NA_TOKENS_SHOWN})


def na_tokens_text(conjunction: str = "and") -> str:
    """:data:`NA_TOKENS_SHOWN` as a message names them: ``NA, N/A, ..., #N/A and ?``."""
    return f"{', '.join(NA_TOKENS_SHOWN[:-1])} {conjunction} {NA_TOKENS_SHOWN[-1]}"


#: Separator of label lists in a multilabel target cell, e.g. ``"sports|politics"``.
MULTILABEL_SEPARATOR = "|"

#: An integer-valued numeric target with at most this many distinct values is read as class labels.
MAX_INTEGER_CLASSES = 20

#: A text column is refused as "numbers with stray values" when at least this share of its non-missing cells
#: are numbers and the other cells hold at most :data:`MAX_STRAY_TOKENS` distinct spellings (or are at most 10 %
#: of the cells, whatever they say).  Read as text, such a column would silently become one category per number.
MOSTLY_NUMBERS = 2 / 3

#: See :data:`MOSTLY_NUMBERS`.
MAX_STRAY_TOKENS = 5

#: How much of a text file the delimiter guess looks at.
_SNIFF_LINES = 50

_DEFAULT_ENCODING = "utf-8"


class DataWarning(UserWarning):
    """The data was usable but something was changed or dropped (missing targets, all-missing columns)."""


@dataclass(frozen=True)
class _ReadOptions:
    """How text cells become values: extra missing-value markers and the number format.

    ``na_values`` are compared with a cell after stripping surrounding spaces, case-sensitively, and add to
    :data:`NA_TOKENS` (or, with ``default_na`` False, replace them: only empty cells and ``na_values`` are
    missing, so a class called 'NA' is a class); ``decimal`` and ``thousands`` are single characters as in
    ``pandas.read_csv``.
    """

    na_values: frozenset[str] = frozenset()
    decimal: str = "."
    thousands: str | None = None
    default_na: bool = True

    @property
    def na_tokens(self) -> frozenset[str]:
        """The built-in missing-value spellings in force (any case), ``{""}`` alone without them."""
        return _NA_ANY_CASE if self.default_na else _EMPTY_ONLY

    @property
    def plain_numbers(self) -> bool:
        return self.decimal == "." and self.thousands is None

    @property
    def given(self) -> bool:
        return bool(self.na_values) or not self.plain_numbers or not self.default_na

    @functools.cached_property
    def number_pattern(self) -> re.Pattern[str]:
        d, t = re.escape(self.decimal), re.escape(self.thousands or "")
        # a grouped number starts with 1-9: '0.123' with thousands '.' is no number (0.123 in another format, or
        # a damaged 123?), not the 123 pandas reads; see zero_group_pattern
        integer = rf"(?:[1-9]\d{{0,2}}(?:{t}\d{{3}})+|\d+)" if self.thousands else r"\d+"
        return re.compile(
            rf"[+-]?(?:(?:{integer}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.IGNORECASE
        )

    @functools.cached_property
    def zero_group_pattern(self) -> re.Pattern[str] | None:
        """Texts grouped with the thousands separator after a leading zero (``0.123``, ``-00.500,5`` with
        thousands '.'): no grouped number starts so, so :meth:`parse` refuses them and messages say why."""
        if not self.thousands:
            return None
        d, t = re.escape(self.decimal), re.escape(self.thousands)
        return re.compile(rf"[+-]?0+(?:{t}\d{{3}})+(?:{d}\d*)?")

    def zero_group(self, value: str) -> bool:
        """Whether ``value`` (stripped) is grouped after a leading zero (see :attr:`zero_group_pattern`)."""
        pattern = self.zero_group_pattern
        return pattern is not None and pattern.fullmatch(value) is not None

    def parse(self, value: str) -> float | None:
        """``value`` (already stripped) as a number in this format, or ``None``."""
        if self.plain_numbers:
            try:
                x = float(value)
            except ValueError:
                return None
            # 'nan' is no number: a missing-value token (NA_TOKENS), or, without them, a stray text
            return None if math.isnan(x) else x
        if not self.number_pattern.fullmatch(value):
            return None
        if self.thousands:
            value = value.replace(self.thousands, "")
        return float(value.replace(self.decimal, "."))


_PLAIN = _ReadOptions()


def _read_options(
    owner: str,
    na_values: Sequence[str] | str | None,
    decimal: str,
    thousands: str | None,
    keep_default_na: bool = True,
) -> _ReadOptions:
    """Check the reading options (ConfigError with the project's template) and bundle them."""
    if isinstance(na_values, str):
        na_values = [na_values]
    if na_values is not None and (
        not isinstance(na_values, Sequence | set | frozenset)
        or not all(isinstance(v, str) and v.strip() for v in na_values)
    ):
        raise ConfigError(
            f"The 'na_values' parameter of {owner} must be a list of non-empty strings or None. "
            f"Got {na_values!r}."
        )
    for name, value in (("decimal", decimal), ("thousands", thousands)):
        if value is None and name == "thousands":
            continue
        if not isinstance(value, str) or len(value) != 1 or value.isdigit() or value in '\r\n"+-eE':
            raise ConfigError(
                f"The {name!r} parameter of {owner} must be a single character that is not a digit, "
                f"sign, 'e', quote or newline (such as ',' or '.'){' or None' if name == 'thousands' else ''}. "
                f"Got {value!r}."
            )
    if thousands == decimal:
        raise ConfigError(
            f"The 'decimal' and 'thousands' parameters of {owner} (--decimal and --thousands) must differ. "
            f"Got {decimal!r} for both."
        )
    if not isinstance(keep_default_na, bool):
        raise ConfigError(
            f"The 'keep_default_na' parameter of {owner} must be True or False. Got {keep_default_na!r}."
        )
    return _ReadOptions(frozenset(v.strip() for v in na_values or ()), decimal, thousands, keep_default_na)


def _shell(text: str) -> str:
    """``text`` as typed after a command-line option: quoted for a POSIX shell where needed; a tab is ``tab``."""
    import shlex

    return "tab" if text == "\t" else shlex.quote(text)


def _sep_name(sep: str) -> str:
    return {"\t": "tab ('\\t')", ",": "comma (',')", ";": "semicolon (';')", "|": "pipe ('|')"}.get(
        sep, repr(sep)
    )


@dataclass
class TabularData:
    """A supervised data set, split and preprocessed: everything a trainer needs and nothing it must redo.

    ``y_*`` are int64 class codes ``0..C-1`` indexing :attr:`classes` for binary/multiclass, a float32 0/1 matrix
    ``[n, C]`` for multilabel, and float32 standardised values for regression (invert with
    :meth:`unscale_y`).  ``X_*`` are float32 matrices; :attr:`input_shape` says how to view a row as a signal or
    image for convolutional networks.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: Task
    classes: list[Any] | None
    feature_names: list[str]
    source: str
    input_shape: tuple[int, ...] | None = None
    preprocessor: Any = None
    y_mean: float | None = None
    y_std: float | None = None
    dropped_rows: int = 0
    notes: list[str] = field(default_factory=list)
    #: how the source's columns were read (None for arrays and built-in data): what a saved model needs to
    #: read new rows of the same table the same way
    table: TableSchema | None = None

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Width of the network's output layer: 1 for binary (one logit) and regression, C otherwise."""
        if self.task in (Task.BINARY, Task.REGRESSION):
            return 1
        assert self.classes is not None
        return len(self.classes)

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        """Map standardised regression values (targets or predictions) back to the original units."""
        if self.task is not Task.REGRESSION or self.y_mean is None or self.y_std is None:
            return np.asarray(y)
        return np.asarray(y, dtype=np.float64) * self.y_std + self.y_mean

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: sizes, task, classes and their training counts, for the advisor and report."""
        info: dict[str, Any] = {
            "source": self.source,
            "task": str(self.task),
            "n_train": len(self.y_train),
            "n_valid": len(self.y_valid),
            "n_test": len(self.y_test),
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "dropped_rows": int(self.dropped_rows),
        }
        if self.classes is not None:
            info["classes"] = [_jsonable(c) for c in self.classes]
            info["n_classes"] = len(self.classes)
            if self.task is Task.MULTILABEL:
                counts = np.asarray(self.y_train).sum(axis=0) if len(self.y_train) else np.zeros(0)
            else:
                counts = np.bincount(np.asarray(self.y_train, dtype=np.int64), minlength=len(self.classes))
            info["train_class_counts"] = {
                str(c): int(n) for c, n in zip(self.classes, counts.tolist(), strict=False)
            }
        if self.task is Task.REGRESSION:
            info["y_mean"] = self.y_mean
            info["y_std"] = self.y_std
        if self.notes:
            info["notes"] = list(self.notes)
        return info


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


# --------------------------------------------------------------------------------------------------------------
# reading files


@dataclass
class _Frame:
    """A parsed table plus the facts error messages need."""

    df: pd.DataFrame
    source: str
    line_of: Callable[[int], int] | None = None  # row position -> 1-based file line (delimited text only)
    sep: str | None = None
    sep_how: str = ""  # "given", "guessed from the first lines", "from the '.tsv' extension"
    options: _ReadOptions = _PLAIN
    # text columns -> which cells were empty (not an NA marker): a multilabel target reads them as "no labels"
    empty_cells: dict[str, np.ndarray] = field(default_factory=dict)
    # columns -> their cells as written (stripped), kept for the target of a delimited file: class labels that
    # read as numbers ('007', '1.0') are labels as the file spells them, not the numbers 7 and 1
    cell_text: dict[str, np.ndarray] = field(default_factory=dict)
    # the training file's number format (decimal, thousands) where this file is read for a saved model
    # (TableSchema.rows); None where it is read for training: messages then say whose format did not fit
    trained_format: tuple[str, str | None] | None = None

    def where(self, pos: int) -> str:
        """``line 7`` for text files, ``row 7`` (1-based, as a spreadsheet counts) for Parquet files, ``row 'abc'``
        (the index label) for DataFrames."""
        if self.line_of is not None:
            return f"line {self.line_of(pos)}"
        index = self.df.index
        if (
            self.source != "DataFrame"
            and isinstance(index, pd.RangeIndex)
            and index.start == 0
            and index.step == 1
        ):
            return f"row {pos + 1}"  # a Parquet file's rows: position 0 is no one's "row 0"
        return f"row {_jsonable(index[pos])!r}"

    def subset(self, keep: np.ndarray) -> _Frame:
        """The frame restricted to row positions ``keep``, still reporting the original file lines."""
        line_of = None
        if self.line_of is not None:
            parent, kept = self.line_of, keep.copy()

            def line_of(pos: int) -> int:
                return parent(int(kept[pos]))

        empty = {name: mask[keep] for name, mask in self.empty_cells.items()}
        text = {name: cells[keep] for name, cells in self.cell_text.items()}
        return replace(self, df=self.df.iloc[keep], line_of=line_of, empty_cells=empty, cell_text=text)


def _display(path: Path) -> str:
    return str(path)


def _read_file(
    path: str | os.PathLike[str],
    *,
    sep: str | None,
    encoding: str | None,
    options: _ReadOptions = _PLAIN,
    keep_cells: bool = False,
    keep_text: Sequence[str] = (),
) -> _Frame:
    """Read a table file.  ``keep_cells``: keep every cell of a delimited file as the text read, and a Parquet file's
    columns as stored (new rows for a saved model, which converts each column as training decided).
    ``keep_text``: columns whose cells are also kept as written (``_Frame.cell_text``: the target's labels)."""
    if not isinstance(path, str | os.PathLike):
        raise DataError(
            f"Expected a file path or a pandas DataFrame as the data source; got {type(path).__name__}."
        )
    p = Path(path)
    shown = _display(p)
    if not p.exists():
        parent = p.parent if str(p.parent) else Path(".")
        raise DataError(f"Data file not found: '{shown}' (looked in '{parent.resolve()}').")
    if p.is_dir():
        raise DataError(f"'{shown}' is a directory; expected a data file (.csv, .tsv or .parquet).")
    suffix = p.suffix.lower()
    kind = SUPPORTED_EXTENSIONS.get(suffix)
    if kind is None:
        raise DataError(
            f"'{shown}': unknown file extension {suffix or '(none)'!r}; expected one of "
            f"{', '.join(sorted(SUPPORTED_EXTENSIONS))}."
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"'{shown}' cannot be read: {exc.strerror or exc}.") from exc
    if not raw.strip():
        raise DataError(f"'{shown}' is empty ({len(raw)} bytes); expected a header line and data rows.")
    if kind == "parquet":
        frame = _read_parquet(p, shown)
        return replace(frame, options=options) if keep_cells else _apply_options(frame, options)
    text, used_encoding = _decode(raw, shown, encoding)
    if not text.strip():
        raise DataError(f"'{shown}' is empty after decoding as {used_encoding}; expected a header and rows.")
    if sep is not None:
        if not isinstance(sep, str) or len(sep) != 1 or sep in '\r\n"':
            raise DataError(f"sep must be a single character other than a quote or newline. Got {sep!r}.")
        how = "given"
    elif kind == "tsv":
        sep, how = "\t", f"from the '{suffix}' extension"
    else:
        sep, how = _guess_separator(text), "guessed from the first lines"
    if keep_cells or not keep_text:
        return _parse_delimited(
            text, shown, sep, how, options, _raw_columns if keep_cells else _convert_columns
        )
    wanted, kept_text = set(keep_text), {}

    def tap(names: list[str], columns: Iterable[Sequence[str]]) -> Iterator[Sequence[str]]:
        for name, values in zip(names, columns, strict=True):
            if name in wanted:
                kept_text[name] = np.array([v.strip() for v in values], dtype=object)
            yield values

    def convert(
        names: list[str], columns: Iterable[Sequence[str]], opts: _ReadOptions
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        return _convert_columns(names, tap(names, columns), opts)

    frame = _parse_delimited(text, shown, sep, how, options, convert)
    return replace(frame, cell_text=kept_text)


def _read_parquet(p: Path, shown: str) -> _Frame:
    try:
        df = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises many unrelated types for a corrupt file; all mean the same here
        raise DataError(
            f"'{shown}' cannot be read as Parquet ({type(exc).__name__}: {_first_line(exc)}); "
            f"expected a Parquet file because of its '{p.suffix}' extension."
        ) from exc
    return _Frame(df=df, source=shown)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _decode(raw: bytes, shown: str, encoding: str | None) -> tuple[str, str]:
    """Decode file bytes; an undecodable byte gives its offset, line and the encoding tried."""
    if encoding is None:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"  # a BOM is unambiguous; spreadsheet exports on Windows write these
        elif raw.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        else:
            encoding = _DEFAULT_ENCODING
        if encoding != "utf-16" and b"\x00" in raw:
            offset = raw.index(b"\x00")
            line = raw.count(b"\n", 0, offset) + 1
            raise DataError(
                f"'{shown}' contains a NUL byte at byte offset {offset} (line {line}); "
                f"it looks like a binary file, not delimited text. Expected a CSV/TSV text file "
                f"(or pass encoding= / --encoding if it is UTF-16/UTF-32 without a byte-order mark)."
            )
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise DataError(f"Unknown encoding {encoding!r} given for '{shown}'.") from exc
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 4].hex(" ")
        hint = "latin-1" if encoding.lower().replace("_", "-") in ("utf-8", "utf-8-sig", "utf8") else "utf-8"
        raise DataError(
            f"'{shown}' cannot be decoded as {encoding}: invalid byte(s) {bad} at byte offset {exc.start} "
            f"(line {line}): {exc.reason}. Pass encoding='{hint}' (--encoding {hint} on the command line), or the file's real encoding."
        ) from exc


def _guess_separator(text: str) -> str:
    """Pick the candidate delimiter that splits the first lines into the most, equally long, records.

    ``csv.Sniffer`` is both slow on large samples and easily fooled by decimal commas; counting fields per line
    for each candidate is predictable and the wrong-guess check in :func:`_parse_delimited` covers the rest.
    """
    head = text[:65536].splitlines()
    lines = [ln for ln in head[: _SNIFF_LINES + 1] if ln.strip()]
    if (len(head) > _SNIFF_LINES + 1 or len(text) > 65536) and len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut in the middle of a quoted field
    best, best_score = ",", (0.0, 1)
    for cand in CANDIDATE_SEPARATORS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=cand)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(w == widths[0] for w in widths) / len(widths)
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = cand, score
    return best


def _record_lines(text: str, sep: str) -> np.ndarray:
    """``[start line, end line, is_blank]`` of every csv record, in reading order.

    Tracking ``line_num`` per record costs a Python-level loop, so this runs only when a message needs a line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    spans: list[tuple[int, int, int]] = []
    prev = 0
    try:
        for record in reader:
            spans.append((prev + 1, reader.line_num, int(_is_blank(record))))
            prev = reader.line_num
    except csv.Error:
        spans.append((prev + 1, reader.line_num, 0))
    return np.asarray(spans, dtype=np.int64).reshape(-1, 3)


def _is_blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _first_record(text: str, sep: str) -> list[str] | None:
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=sep):
            if not _is_blank(record):
                return record
    except csv.Error:
        return None
    return None


def _fast_columns(text: str, sep: str, n_cols: int) -> list[list[str]] | None:
    """All records as string columns via pyarrow's C++ reader, or ``None`` when anything is irregular.

    pyarrow refuses any record whose field count differs from the header, which is exactly our rule; on any
    refusal the strict-but-slow :mod:`csv` path re-reads the text and explains the problem with line numbers.
    It is about ten times faster than the :mod:`csv` module on a large clean file.
    """
    if n_cols < 2:  # a lone empty field is a blank line to csv but a value to pyarrow: keep one behaviour
        return None
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        names = [f"c{i}" for i in range(n_cols)]
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            # one thread: with its pool started, the interpreter exiting soon after (a data error) aborted
            # now and then ("terminate called without an active exception", exit 134 instead of 1)
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return [table.column(i).to_pylist() for i in range(n_cols)]
    except Exception as exc:  # ArrowInvalid and friends: fall back, the slow path gives the real message
        logger.debug("fast CSV path declined (%s); using the csv module", _first_line(exc))
        return None


def _parse_delimited(
    text: str,
    shown: str,
    sep: str,
    how: str,
    options: _ReadOptions = _PLAIN,
    convert: Callable[
        [list[str], Iterable[Sequence[str]], _ReadOptions], tuple[pd.DataFrame, dict[str, np.ndarray]]
    ]
    | None = None,
) -> _Frame:
    convert = convert or _convert_columns
    lines = functools.cache(lambda: _record_lines(text, sep))
    first = _first_record(text, sep)
    fast = _fast_columns(text, sep, len(first)) if first is not None else None
    if fast is not None:
        names = _name_columns(
            [col[0].strip() for col in fast], shown, lambda: int(lines()[lines()[:, 2] == 0][0, 0])
        )
        if len(fast[0]) < 2:
            raise DataError(
                f"'{shown}' has a header (line {lines()[lines()[:, 2] == 0][0, 0]}: {_preview(names)}) but "
                f"no data rows; expected at least one row below the header."
            )
        df, empty = convert(names, (col[1:] for col in fast), options)

        def fast_line_of(pos: int) -> int:
            content = lines()[lines()[:, 2] == 0]
            return int(content[pos + 1, 0])

        logger.info(
            "read '%s': %d rows x %d columns, delimiter %r (%s)", shown, len(df), len(names), sep, how
        )
        return _Frame(df, shown, fast_line_of, sep, how, options, empty)

    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        line = int(lines()[-1, 1])
        raise DataError(f"'{shown}': line {line}: cannot parse delimited text ({exc}).") from exc
    widths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    blank = widths == 0
    for i in np.flatnonzero(widths == 1):
        blank[i] = _is_blank(records[i])
    content = np.flatnonzero(~blank)
    if len(content) == 0:  # pragma: no cover - guarded by the empty-file check
        raise DataError(f"'{shown}' is empty; expected a header line and data rows.")
    header_idx, data_idx = int(content[0]), content[1:]
    names = [h.strip() for h in records[header_idx]]
    ragged = data_idx[widths[data_idx] != len(names)]
    good = data_idx[widths[data_idx] == len(names)]
    if len(names) == 1:
        _check_single_column(shown, names[0], sep, how)
    if len(ragged):
        start, end = (int(v) for v in lines()[ragged[0], :2])
        span = f"line {start}" if start == end else f"lines {start}-{end}"
        extra = ""
        if end > start:
            extra = f" A quoted field there runs over several lines: is a '\"' unmatched on line {start}?"
        raise DataError(
            f"'{shown}': {span} has {widths[ragged[0]]} field(s) but the header (line {lines()[header_idx, 0]}) "
            f"has {len(names)}; {len(ragged)} of {len(data_idx)} data rows have the wrong number of fields. "
            f"Read with delimiter {_sep_name(sep)} ({how}); expected every row to have {len(names)} fields. "
            f"Quote values that contain the delimiter, or pass sep= (--sep) if the delimiter is wrong.{extra}"
        )
    names = _name_columns(names, shown, lambda: int(lines()[header_idx, 0]))
    if len(good) == 0:
        raise DataError(
            f"'{shown}' has a header (line {lines()[header_idx, 0]}: {_preview(names)}) but no data rows; "
            f"expected at least one row below the header."
        )
    columns = list(zip(*(records[i] for i in good), strict=True))
    del records
    df, empty = convert(names, columns, options)
    logger.info("read '%s': %d rows x %d columns, delimiter %r (%s)", shown, len(df), len(names), sep, how)

    def line_of(pos: int) -> int:
        return int(lines()[good[pos], 0])

    return _Frame(df, shown, line_of, sep, how, options, empty)


def _check_single_column(shown: str, name: str, sep: str, how: str) -> None:
    """A one-column read whose header contains another delimiter is almost always a wrong delimiter."""
    seen = {c: name.count(c) for c in CANDIDATE_SEPARATORS if c != sep and name.count(c) > 0}
    if not seen:
        return
    likely = max(seen, key=lambda c: seen[c])
    raise DataError(
        f"'{shown}': reading with delimiter {_sep_name(sep)} ({how}) gave a single column named "
        f"{_clip(name)!r}, which contains {_sep_name(likely)} {seen[likely]} time(s). Expected several columns; "
        f"the file probably uses {_sep_name(likely)} as its delimiter: pass sep={likely!r} (--sep {_shell(likely)})."
    )


def _name_columns(names: list[str], shown: str, header_line: Callable[[], int]) -> list[str]:
    """Name blank header cells and refuse duplicates (pandas would silently rename them ``a.1``)."""
    named = [n if n else f"unnamed_{j + 1}" for j, n in enumerate(names)]
    if len(set(named)) != len(named):
        _check_duplicates(named, f"'{shown}': the header (line {header_line()})")
    return named


def _check_duplicates(names: list[str], where: str) -> None:
    seen: dict[str, list[int]] = {}
    for j, n in enumerate(names):
        seen.setdefault(n, []).append(j + 1)
    dups = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if dups:
        desc = "; ".join(
            f"{_clip(n)!r} at columns {', '.join(map(str, pos))}" for n, pos in list(dups.items())[:5]
        )
        raise DataError(
            f"{where} has duplicated column names: {desc}. Expected every column name to be unique; "
            f"rename the columns."
        )


def _convert_columns(
    names: list[str], columns: Iterable[Sequence[str]], options: _ReadOptions
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Convert every column; remember which cells of the text columns were empty (see ``_Frame.empty_cells``)."""
    out: dict[str, pd.Series] = {}
    empty: dict[str, np.ndarray] = {}
    for name, values in zip(names, columns, strict=True):
        col = _convert_column(values, options)
        out[name] = col
        if col.dtype == object:
            empty[name] = np.fromiter((not v.strip() for v in values), dtype=bool, count=len(values))
    return pd.DataFrame(out), empty


def _raw_columns(
    names: list[str], columns: Iterable[Sequence[str]], options: _ReadOptions
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The cells as read, unconverted (see :meth:`TableSchema.rows`)."""
    data = {n: pd.Series(list(v), dtype=object) for n, v in zip(names, columns, strict=True)}
    return pd.DataFrame(data), {}


def _apply_options(frame: _Frame, options: _ReadOptions) -> _Frame:
    """Give the text columns of a Parquet file or a DataFrame the same reading options as a CSV's cells."""
    if not options.given:
        return frame
    df = frame.df.copy()
    empty: dict[str, np.ndarray] = {}
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        if not (ptypes.is_object_dtype(col.dtype) or ptypes.is_string_dtype(col.dtype)):
            continue
        values = col.tolist()
        missing = col.isna().to_numpy()
        if not all(isinstance(v, str) for v, m in zip(values, missing, strict=True) if not m):
            continue  # mixed Python objects: not text cells, leave them to coerce_features
        text = ["" if m else v for v, m in zip(values, missing, strict=True)]
        converted = _convert_column(text, options)
        df.isetitem(j, converted.to_numpy())
        if converted.dtype == object:
            empty[str(df.columns[j])] = np.array([not v.strip() for v in text], dtype=bool)
    return replace(frame, df=df, options=options, empty_cells={**frame.empty_cells, **empty})


def _convert_column(values: Sequence[str], options: _ReadOptions = _PLAIN) -> pd.Series:
    """Strings from the reader to float64 (all numeric), bool objects (all true/false) or str objects.

    Plain list comprehensions, set look-ups and numpy's float parsing: several times faster than pandas' string
    methods, which matters on files with millions of cells.  ``options`` add missing-value markers and a
    number format (decimal comma, thousands separator); without them numbers are read as Python reads them.
    """
    if options.plain_numbers:
        try:  # the common case: a clean numeric column without missing cells
            fast = np.asarray(values, dtype=np.float64)
        except (ValueError, OverflowError, TypeError):
            pass
        else:
            # numpy reads 'nan'/'NaN' as NaN: missing with the NA tokens; without them (keep_default_na=False)
            # a text like any other, so the column takes the slow path below and keeps those cells as text
            if options.default_na or not np.isnan(fast).any():
                return pd.Series(fast)
    stripped = [v.strip() for v in values]
    tokens = options.na_tokens
    if options.na_values:
        na = options.na_values
        missing = np.array([v in tokens or v in na for v in stripped], dtype=bool)
    else:
        missing = np.array([v in tokens for v in stripped], dtype=bool)
    present = [v for v, m in zip(stripped, missing, strict=True) if not m] if missing.any() else stripped
    if not present:
        return pd.Series(np.full(len(stripped), np.nan))
    numbers: np.ndarray | None
    if options.plain_numbers:
        try:
            numbers = np.asarray(present, dtype=np.float64)
        except (ValueError, OverflowError):
            numbers = None
        if numbers is not None and np.isnan(numbers).any():  # 'nan' not a missing token here: see above
            numbers = None
    else:
        parsed = [options.parse(v) for v in present]
        numbers = None if any(x is None for x in parsed) else np.asarray(parsed, dtype=np.float64)
    if numbers is not None:
        out = np.full(len(stripped), np.nan)
        out[~missing] = numbers
        return pd.Series(out)
    if {v.lower() for v in present} <= {"true", "false"}:
        return pd.Series(
            [np.nan if m else v.lower() == "true" for v, m in zip(stripped, missing, strict=True)],
            dtype=object,
        )
    return pd.Series([np.nan if m else v for v, m in zip(stripped, missing, strict=True)], dtype=object)


def _case_variants(token: str) -> set[str]:
    return {"".join(chars) for chars in itertools.product(*({c.lower(), c.upper()} for c in token))}


#: Every upper/lower-case spelling of the NA tokens, so the hot loop is one set look-up per cell.
_NA_ANY_CASE: frozenset[str] = frozenset(v for t in NA_TOKENS for v in _case_variants(t))
#: What is missing without the built-in spellings (``keep_default_na=False``): the empty cell.
_EMPTY_ONLY: frozenset[str] = frozenset({""})


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _preview(names: list[str], n: int = 20) -> str:
    shown = ", ".join(repr(_clip(c, 40)) for c in names[:n])
    return shown + (f", ... ({len(names)} in all)" if len(names) > n else "")


# --------------------------------------------------------------------------------------------------------------
# target and task


def _frame_from_dataframe(df: pd.DataFrame, source: str) -> _Frame:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"Expected a file path or a pandas DataFrame; got {type(df).__name__}.")
    return _Frame(df=df, source=source)


def _split_target(
    frame: _Frame, target: str, task: Task | None
) -> tuple[pd.DataFrame, pd.Series, Task, int, list[str]]:
    """Validate the table, drop rows with a missing target, and detect (or check) the task.

    Returns ``(X, y, task, rows dropped, notes)``.  A multilabel target reads an empty cell as the empty label
    set (the row has none of the labels) and drops only rows with a missing-value marker (``NA``, ``?``, ...,
    ``na_values``) or, in a DataFrame, ``None``/``NaN``.
    """
    df, shown = frame.df, frame.source
    if isinstance(df.columns, pd.MultiIndex):
        raise DataError(f"'{shown}' has multi-level column names; expected one header row.")
    names = [str(c) for c in df.columns]
    _check_duplicates(names, f"'{shown}'")
    if len(names) != len(df.columns) or list(df.columns) != names:
        df = df.set_axis(names, axis=1)
        frame = replace(frame, df=df, empty_cells={str(k): v for k, v in frame.empty_cells.items()})
    if len(df) == 0:
        raise DataError(
            f"'{shown}' has columns ({_preview(names)}) but no data rows; expected at least one row."
        )
    if not isinstance(target, str) or target not in names:
        raise DataError(_unknown_target_message(shown, target, names))
    if len(names) == 1:
        raise DataError(
            f"'{shown}' has only the target column {target!r}; expected at least one feature column besides it."
        )

    y = df[target]
    missing = _missing_mask(y, frame.options)
    notes: list[str] = []
    multilabel = task is Task.MULTILABEL or (task is None and _looks_multilabel(y))
    if multilabel:
        empty = missing & _empty_cells(frame, target)
        if empty.any():
            # "no labels" is a normal multilabel row (an article with no tag); only a marker means "unknown"
            values = y.astype(object).copy()
            values.iloc[np.flatnonzero(empty)] = ""
            df = df.copy()
            df[target] = values
            frame = replace(frame, df=df)
            y, missing = df[target], missing & ~empty
            note = (
                f"read {int(empty.sum())} empty cell(s) of the multilabel target {target!r} as rows with no "
                f"labels (first at {frame.where(int(np.flatnonzero(empty)[0]))})"
            )
            notes.append(note)
            logger.info("'%s': %s", shown, note)
    n_dropped = int(missing.sum())
    if n_dropped == len(y):
        raise DataError(f"'{shown}': the target column {target!r} is missing (empty) in all {len(y)} rows.")
    keep_pos = np.flatnonzero(~missing)
    if n_dropped:
        first = frame.where(int(np.flatnonzero(missing)[0]))
        msg = (
            f"'{shown}': dropped {n_dropped} of {len(y)} rows whose target {target!r} is missing "
            f"(first at {first})."
        )
        if multilabel:
            msg += (
                " These cells hold a missing-value marker (such as NA or ?); an empty cell would be read as "
                "'no labels'."
            )
        msg += _token_class_hint(frame, target, missing)
        warnings.warn(msg, DataWarning, stacklevel=3)
        logger.warning(msg)
    kept = frame.subset(keep_pos) if n_dropped else frame
    df, y = kept.df, kept.df[target]

    X = df.drop(columns=[target])
    X = _check_features(X, kept)
    codes = _labels_as_written(y, task, kept, target)
    if codes is not y:
        y = codes
        if task is None:  # codes are labels: the check for numbers written as text does not apply
            task = Task.BINARY if y.nunique() == 2 else Task.MULTICLASS
            logger.info(
                "target %r: labels with leading zeros -> %s, spelt as in the file", target, task.value
            )
    task = _detect_task(y, task, kept, target)
    if task in (Task.BINARY, Task.MULTICLASS):
        y = _class_labels_as_written(y, kept, target)
    if task is Task.REGRESSION:
        y = _regression_target(y, kept, target)
    return X, y, task, n_dropped, notes


#: '007', '01', '-02': a number spelt with a leading zero is a code (a label, a ZIP code), not a quantity
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def _labels_as_written(y: pd.Series, task: Task | None, frame: _Frame, target: str) -> pd.Series:
    """The target as the file spells it where its numbers are codes: any label with a leading zero ('007', '01')
    makes the column text, so '1', '01' and '001' stay three classes (read as numbers they were one, and the
    command stopped with "a single value 1") unless ``task`` says regression."""
    text = frame.cell_text.get(target)
    if text is None or task is Task.REGRESSION or not ptypes.is_numeric_dtype(y.dtype):
        return y
    if not any(_LEADING_ZERO.match(v) for v in pd.unique(text)):
        return y
    return pd.Series(text, index=y.index, dtype=object)


def _class_labels_as_written(y: pd.Series, frame: _Frame, target: str) -> pd.Series:
    """Class labels read as numbers, spelt as in the file: '1.0' and '2.0' were predicted as 1 and 2, so a
    prediction no longer matched the label it stands for.  Kept as numbers where two spellings mean one number
    ('1' and '1.0': one class) or the spellings are the numbers' own ('0'/'1')."""
    text = frame.cell_text.get(target)
    if text is None or not ptypes.is_numeric_dtype(y.dtype) or ptypes.is_bool_dtype(y.dtype):
        return y
    values = _class_values(y)
    spellings = pd.unique(text)
    if len(spellings) != len(pd.unique(values)):
        return y
    if all(str(v) == t for v, t in zip(values.to_numpy()[: len(text)], text, strict=True)):
        return y
    return pd.Series(text, index=y.index, dtype=object)


def _token_class_hint(frame: _Frame, target: str, missing: np.ndarray) -> str:
    """Where the dropped targets are one missing-value token among text labels and as frequent as a class
    ('NA' for North America next to 'EU' and 'AS'), say so: a third of the rows vanished as "missing" and the
    task became binary without a word about the token."""
    text = frame.cell_text.get(target)
    if text is None:
        return ""
    dropped = pd.unique(text[missing])
    if len(dropped) != 1 or not str(dropped[0]).strip():
        return ""
    token = str(dropped[0])
    present = pd.Series(text[~missing]).value_counts()
    if present.empty or not all(frame.options.parse(str(v)) is None for v in present.index[:20]):
        return ""  # numbers with a marker for unknown values: NA is missing there
    n = int(missing.sum())
    if n < 0.5 * int(present.min()) and n < 0.05 * len(text):
        return ""
    return (
        f" All {n} hold {token!r}, read as missing, as often as the classes are ({_preview([str(c) for c in present.index[:5]])}): "
        f"if {token!r} is a class (North America, say), pass keep_default_na=False (--no-default-na on the "
        f"command line): only empty cells are then missing, not {na_tokens_text('or')}."
    )


def _empty_cells(frame: _Frame, column: str) -> np.ndarray:
    """Which cells of ``column`` were empty text: recorded while reading a file, else seen in the values."""
    if column in frame.empty_cells:
        return frame.empty_cells[column]
    return np.array([isinstance(v, str) and not v.strip() for v in frame.df[column].tolist()], dtype=bool)


def _unknown_target_message(shown: str, target: object, names: list[str]) -> str:
    msg = f"'{shown}': target column {target!r} not found; the columns are: {_preview(names, 40)}."
    close = difflib.get_close_matches(str(target), names, n=3, cutoff=0.6)
    if not close:
        close = [n for n in names if str(target).strip().lower() == n.strip().lower()]
    if close:
        msg += f" Did you mean {' or '.join(repr(c) for c in close)}?"
    glued = [n for n in names if any(c in n for c in CANDIDATE_SEPARATORS) and str(target) in n]
    if glued:
        msg += f" Column {_clip(glued[0])!r} contains the target name and a delimiter: is sep= (--sep) wrong?"
    return msg


def _missing_mask(y: pd.Series, options: _ReadOptions = _PLAIN) -> np.ndarray:
    mask = y.isna().to_numpy().copy()
    if ptypes.is_object_dtype(y.dtype) or ptypes.is_string_dtype(y.dtype):
        tokens = NA_TOKENS if options.default_na else _EMPTY_ONLY
        for i, v in enumerate(y.tolist()):
            if isinstance(v, str) and (v.strip().lower() in tokens or v.strip() in options.na_values):
                mask[i] = True
    return mask


#: ``1,234`` / ``-12,345,678.5``: a comma as thousands separator (or, for one group, a decimal comma).
_COMMA_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
#: ``0,346`` / ``1.234,5``: a decimal comma, possibly with '.' grouping thousands.
_COMMA_DECIMAL = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+")


@dataclass
class _NumberProfile:
    """What the non-missing cells of a text column are: numbers, numbers written with a comma, or other.

    Comma numbers are ``(first row position, text, count)`` per distinct spelling and others map a spelling to
    ``(first row position, count)``, both in order of first appearance.
    """

    n_present: int = 0
    n_numbers: int = 0
    number_values: list[float] = field(default_factory=list)  # distinct
    decimal_comma: list[tuple[int, str, int]] = field(default_factory=list)
    thousands: list[tuple[int, str, int]] = field(default_factory=list)
    #: plain numbers ('0.77') that the given number format does not read (decimal=',' on a '.' file)
    other_format: list[tuple[int, str, int]] = field(default_factory=list)
    #: texts grouped with the given thousands separator after a leading zero ('0.123' with thousands '.'),
    #: which no grouped number is (_ReadOptions.zero_group)
    zero_group: list[tuple[int, str, int]] = field(default_factory=list)
    others: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n_comma(self) -> int:
        return (
            sum(c for *_, c in self.decimal_comma)
            + sum(c for *_, c in self.thousands)
            + sum(c for *_, c in self.other_format)
            + sum(c for *_, c in self.zero_group)
        )

    @property
    def n_other(self) -> int:
        return sum(c for _, c in self.others.values())

    def mostly_numbers(self) -> bool:
        """A column no one means as categories: mostly numbers, and the rest a few stray spellings.

        Numbers with a comma always qualify.  Plain numbers with a stray value qualify when they look like
        measurements (more than :data:`MAX_INTEGER_CLASSES` distinct values, or any fraction): a few small
        integers with a word among them (school grades 1-12 and 'K') remain categories, as before.
        """
        numberish = self.n_numbers + self.n_comma
        if not (self.n_other or self.n_comma) or numberish < MOSTLY_NUMBERS * self.n_present:
            return False
        if len(self.others) > MAX_STRAY_TOKENS and self.n_other > 0.1 * self.n_present:
            return False
        if self.n_comma:
            return True
        nums = np.asarray(self.number_values, dtype=np.float64)
        nums = nums[np.isfinite(nums)]
        return len(nums) > MAX_INTEGER_CLASSES or bool(np.any(nums != np.round(nums)))

    def problems(self, frame: _Frame) -> str:
        """``numbers in 200 of 201 non-missing rows, 150 of them written with a decimal comma such as '0,346'
        at line 2, but also 1 other value(s): 'n.a.' at line 12``."""
        n_zero = sum(c for *_, c in self.zero_group)
        out = f"numbers in {self.n_numbers + self.n_comma - n_zero} of {self.n_present} non-missing rows"
        if self.zero_group:
            pos, text, _ = self.zero_group[0]
            out += (
                f", {n_zero} cell(s) grouped with the thousands separator {frame.options.thousands!r} after a "
                f"leading zero, which no number in that format is, such as {text!r} at {frame.where(pos)}"
            )
        for cells, how in (
            (self.decimal_comma, "a decimal comma"),
            (self.thousands, "a thousands separator"),
            (self.other_format, "'.' as the decimal mark"),
        ):
            if cells:
                pos, text, _ = cells[0]
                n = sum(c for *_, c in cells)
                out += f", {n} of them written with {how} such as {text!r} at {frame.where(pos)}"
        if self.others:
            shown = [
                f"{_clip(tok)!r} at {frame.where(pos)}" + (f" ({n} rows)" if n > 1 else "")
                for tok, (pos, n) in list(self.others.items())[:3]
            ]
            more = f" and {len(self.others) - 3} more" if len(self.others) > 3 else ""
            out += f", but also {self.n_other} other value(s): {', '.join(shown)}{more}"
        return out

    def hints(self, missing_means: str, frame: _Frame) -> str:
        """How to fix it, naming the options of :func:`load_table` / :func:`prepare_tabular` (or, for a file
        read for a saved model, of ``predict``)."""
        out = []
        options = frame.options
        # a DataFrame of new rows for a saved model takes no reading options (predict refuses them): its text
        # cells are read in the training file's format, so the fix is in the DataFrame
        dataframe = frame.trained_format is not None and frame.source == "DataFrame"
        if self.zero_group:
            # the other-format hint below names the options where the column has such numbers too
            out.append(
                _zero_group_hint(
                    self.zero_group[0][1], frame, advise_format=not (self.other_format or dataframe)
                )
            )
        if dataframe:
            if self.other_format or self.decimal_comma or self.thousands:
                cells = (self.other_format or self.decimal_comma or self.thousands)[0][1]
                out.append(
                    f"A DataFrame's text cells are read in the training file's number format "
                    f"({_number_format(options)}), and predict takes no reading options for a DataFrame: "
                    f"convert the column to numbers first to use numbers written like {cells!r}"
                )
            if self.others:
                tokens = list(self.others)[:3]
                written = " or write NA or ?" if options.default_na else ""
                out.append(
                    f"If {' / '.join(repr(_clip(t)) for t in tokens)} mark(s) a missing value, set those cells "
                    f"to None{written} ({missing_means}); otherwise correct them"
                )
            return ". ".join(out) + "." if out else ""
        if self.other_format:
            example = self.other_format[0][1]
            trained = frame.trained_format
            if trained is None:
                out.append(
                    "The number format given (decimal / thousands, --decimal / --thousands) is not this "
                    f"column's: leave it out to read numbers written like {example!r}"
                )
            elif trained == (options.decimal, options.thousands):
                out.append(
                    f"This file is read with the training file's number format ({_number_format(options)}), "
                    f"which is not this column's: pass {_plain_format(options)} for this file to read numbers "
                    f"written like {example!r}"
                )
            elif trained == (".", None):
                out.append(
                    f"The number format given for this file ({_number_format(options)}) is not this column's: "
                    f"leave it out to read numbers written like {example!r}, as the training file's were"
                )
            else:
                out.append(
                    f"The number format given for this file ({_number_format(options)}) is not this column's: "
                    f"pass {_plain_format(options)} instead to read numbers written like {example!r}"
                )
        elif self.decimal_comma:
            grouped = any("." in text for _, text, _ in self.decimal_comma)
            out.append(
                "Pass decimal=','"
                + (" and thousands='.'" if grouped else "")
                + " (--decimal ,"
                + (" --thousands ." if grouped else "")
                + " on the command line) to read the decimal commas"
            )
        elif self.thousands:
            one_group = all(text.count(",") == 1 and "." not in text for _, text, _ in self.thousands)
            out.append(
                "Pass thousands=',' (--thousands ,) to read the thousands separators"
                + (" (or decimal=',' if the comma is the decimal mark)" if one_group else "")
            )
        if self.others:
            tokens = list(self.others)[:3]
            # without the built-in tokens (keep_default_na=False) NA and ? are values too: only empty cells and
            # na_values are missing
            written = " or write NA or ?" if options.default_na else ""
            out.append(
                f"If {' / '.join(repr(_clip(t)) for t in tokens)} mark(s) a missing value, leave those cells "
                f"empty{written} ({missing_means}), or pass na_values={tokens!r} "
                f"({' '.join('--na-value ' + _shell(t) for t in tokens)}); otherwise correct them"
            )
        return ". ".join(out) + "." if out else ""


def _zero_group_hint(text: str, frame: _Frame, advise_format: bool = True) -> str:
    """How to write ``text`` ('0.123' with thousands '.'), which :meth:`_ReadOptions.parse` refuses."""
    options = frame.options
    sep = options.thousands or ""
    sign = text[0] if text[0] in "+-" else ""
    whole = sign + (text.lstrip("+-").replace(sep, "").lstrip("0") or "0")
    out = (
        f"A number grouped with {sep!r} never starts with '0{sep}', so {text!r} is no number in the format "
        f"{_number_format(options)}: write {whole!r} if that is the number meant"
    )
    if options.decimal not in text and text.count(sep) == 1:
        out += f", or {text.replace(sep, options.decimal)!r} if it is a fraction"
    if advise_format and options.decimal != ".":
        where = " for this file" if frame.trained_format is not None else ""
        out += f"; if the file writes '.' as the decimal mark, pass {_plain_format(options)}{where}"
    return out


def _number_format(options: _ReadOptions) -> str:
    """``decimal ','`` / ``decimal ',' and thousands '.'``."""
    thousands = f" and thousands {options.thousands!r}" if options.thousands else ""
    return f"decimal {options.decimal!r}{thousands}"


def _plain_format(options: _ReadOptions) -> str:
    """The options that read plain numbers ('14.23') where ``options`` do not: ``decimal='.' (--decimal .)``,
    with ``thousands=','`` too where the thousands separator in force is '.' (the two must differ)."""
    if options.thousands == ".":
        return "decimal='.' and thousands=',' (--decimal . --thousands ,)"
    return "decimal='.' (--decimal .)"


#: Words Python's float() reads that are no number format's ('nan' is a missing-value token before this)
_INF_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"})

#: Cells a large text column's sample holds before its every distinct spelling is parsed (see below).
_SAMPLE_CELLS = 2000


def _sample_says_text(codes: np.ndarray, uniques: np.ndarray, options: _ReadOptions) -> bool:
    """Whether a fixed random sample of the cells is more than half not numbers: then the column cannot be
    :meth:`_NumberProfile.mostly_numbers` (at most a third of it may be), and an identifier column of 200,000
    distinct spellings costs 2,000 parses, not one per spelling.  With 2,000 cells a column a third text
    passes the half mark with a probability far below 1e-40."""
    rng = np.random.default_rng(0)
    picked = codes[rng.choice(len(codes), size=_SAMPLE_CELLS, replace=False)]
    values, n = np.unique(picked, return_counts=True)
    text = 0
    for code, count in zip(values.tolist(), n.tolist(), strict=True):
        spelling = str(uniques[code]).strip()
        if (
            options.parse(spelling) is None
            and _PLAIN.parse(spelling) is None
            and not (_COMMA_THOUSANDS.fullmatch(spelling) or _COMMA_DECIMAL.fullmatch(spelling))
        ):
            text += count
    return text > _SAMPLE_CELLS // 2


def _number_profile(
    col: pd.Series, options: _ReadOptions, prefer_decimal: bool = False, give_up: bool = False
) -> _NumberProfile:
    """Classify the cells; ``prefer_decimal`` reads an ambiguous ``1,234`` as a decimal comma (';' files).

    ``give_up``: stop early once the column cannot be :meth:`~_NumberProfile.mostly_numbers` (the profile is
    then partial and good for that answer only).

    Each distinct spelling is parsed once; text columns find their distinct spellings with ``pd.factorize``.
    """
    prof = _NumberProfile()
    seen: dict[str, list[int]] = {}  # spelling -> [first position, count]
    numbers: set[float] = set()
    spellings: Iterable[tuple[str, int, int]]  # (spelling, first row position, count)
    if ptypes.infer_dtype(col, skipna=True) == "string":
        # text cells only (every CSV column): distinct spellings, counts and first rows found in C
        codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
        valid = codes >= 0
        prof.n_present = int(valid.sum())
        counts = np.bincount(codes[valid], minlength=len(uniques))
        first = np.full(len(uniques), len(codes), dtype=np.int64)
        np.minimum.at(first, codes[valid], np.flatnonzero(valid))
        if give_up and len(uniques) > _SAMPLE_CELLS and _sample_says_text(codes[valid], uniques, options):
            prof.others = {"(many)": (0, prof.n_present)}  # partial: only mostly_numbers() is meaningful
            return prof
        order = np.argsort(-counts, kind="stable") if give_up else np.arange(len(uniques))
        spellings = ((uniques[i], int(first[i]), int(counts[i])) for i in order.tolist())
    else:
        for pos, v in enumerate(col.tolist()):
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                continue
            prof.n_present += 1
            if isinstance(v, str):
                entry = seen.get(v)
                if entry is None:
                    seen[v] = [pos, 1]
                else:
                    entry[1] += 1
            elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_):
                prof.n_numbers += 1
                numbers.add(float(v))
            else:  # booleans, lists, ... in a DataFrame's object column
                key = str(v)
                first_pos, n = prof.others.get(key, (pos, 0))
                prof.others[key] = (first_pos, n + 1)
        spellings = ((raw, pos, n) for raw, (pos, n) in seen.items())
    # with give_up, stop once so many cells are not numbers that mostly_numbers() cannot hold (a category or
    # identifier column, the usual case, then costs its commonest spellings, not one parse per distinct value)
    enough_other = (1.0 - MOSTLY_NUMBERS) * prof.n_present
    n_other = 0
    for raw, pos, n in spellings:
        if give_up and n_other > enough_other:
            break
        text = raw.strip()
        x = options.parse(text)
        if x is not None:
            prof.n_numbers += n
            numbers.add(x)
        elif options.zero_group(text):
            prof.zero_group.append((pos, text, n))
        elif not options.plain_numbers and _PLAIN.parse(text) is not None and text.lower() not in _INF_WORDS:
            prof.other_format.append((pos, text, n))
        elif _COMMA_THOUSANDS.fullmatch(text):
            prof.thousands.append((pos, text, n))
        elif _COMMA_DECIMAL.fullmatch(text):
            prof.decimal_comma.append((pos, text, n))
        else:
            first_pos, count = prof.others.get(text, (pos, 0))
            prof.others[text] = (min(first_pos, pos), count + n)
            n_other += n
    prof.number_values = sorted(numbers)
    prof.others = dict(sorted(prof.others.items(), key=lambda kv: kv[1][0]))
    # '1,234' alone is ambiguous; next to '0,5' or '12,34' it is a decimal comma too
    if (
        prof.thousands
        and (prof.decimal_comma or prefer_decimal)
        and all("." not in t for _, t, _ in prof.thousands)
    ):
        prof.decimal_comma = prof.decimal_comma + prof.thousands
        prof.thousands = []
    prof.decimal_comma.sort()
    prof.thousands.sort()
    prof.other_format.sort()
    prof.zero_group.sort()
    return prof


def _expected_numbers(options: _ReadOptions) -> str:
    """``numbers such as 1234.5`` in the number format the reading options say (``1.234,5`` with decimal ',')."""
    example = "1234.5" if options.decimal == "." else f"1234{options.decimal}5"
    if options.thousands:
        example = f"1{options.thousands}{example[1:]}"
    return f"{'plain ' if options.plain_numbers else ''}numbers such as {example}"


def _check_numbers_as_text(col: pd.Series, name: str, frame: _Frame, what: str) -> None:
    """Refuse a text column that is really numbers (see :meth:`_NumberProfile.mostly_numbers`)."""
    prof = _number_profile(col, frame.options, prefer_decimal=frame.sep == ";", give_up=True)
    if not prof.mostly_numbers():
        return
    if what == "target":
        consequence = "read as text it would be taken for class labels"
        missing_means = "rows with a missing target are dropped"
        extra = " Pass task='multiclass' (--task multiclass) if the values really are class labels."
    else:
        consequence = "read as text it would silently become one category per distinct value"
        missing_means = "missing features are imputed"
        extra = ""
    raise DataError(
        f"'{frame.source}': {what} {name!r} holds {prof.problems(frame)}; expected "
        f"{_expected_numbers(frame.options) if prof.n_comma else 'numbers'} ({consequence}). "
        f"{prof.hints(missing_means, frame)}{extra}"
    )


#: ISO 8601 dates, optionally with a time and a zone: 2024-03-01, 2024-03-01 12:30, 2024-03-01T12:30:00Z.
#: Only this unambiguous spelling is read as time; 03/04/2024 (March or April?) stays a category.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _iso_dates(col: pd.Series) -> pd.Series | None:
    """Seconds since 1970 (UTC) if every present cell of ``col`` is an ISO 8601 date, else ``None``."""
    present = col.dropna()
    if len(present) < 2 or not all(isinstance(v, str) and _ISO_DATE.match(v.strip()) for v in present):
        return None
    seconds = _iso_seconds(col)
    if seconds[col.notna()].isna().any():  # 2024-13-45 matches the pattern but is no date
        return None
    return seconds


def _iso_seconds(col: pd.Series) -> pd.Series:
    """Seconds since 1970 (UTC) of ISO 8601 text cells; NaN where missing or no date (training and new rows
    share this one conversion, so a saved model reads a date exactly as training did)."""
    when = pd.to_datetime(col.str.strip(), errors="coerce", utc=True, format="ISO8601")
    seconds = (when.dt.tz_localize(None) - pd.Timestamp(0)).dt.total_seconds()
    return seconds.astype(np.float64)


_ISO_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _zone_style(col: pd.Series) -> str | None:
    """How a date column gives its time zone: ``offset`` (every date has one: Z or +hh:mm, or tz-aware datetime
    values), ``none`` (no date has one: read as UTC), ``mixed``, or ``None`` where it holds no date."""
    if ptypes.is_datetime64_any_dtype(col.dtype):
        if not col.notna().any():
            return None
        return "none" if getattr(col.dt, "tz", None) is None else "offset"
    found = set()
    for v in col.dropna().tolist():
        match = _ISO_ZONE.match(str(v).strip()) if isinstance(v, str) else None
        if match:
            found.add("offset" if match.group(1) else "none")
    if not found:
        return None
    return found.pop() if len(found) == 1 else "mixed"


def _first_zone_example(col: pd.Series, style: str, frame: _Frame) -> str:
    """A cell of ``col`` written in ``style`` (for :func:`_warn_zone_change`), with where it is."""
    for i, v in enumerate(col.tolist()):
        match = _ISO_ZONE.match(str(v).strip()) if isinstance(v, str) else None
        if match and bool(match.group(1)) == (style == "offset"):
            return f"{str(v).strip()!r} at {frame.where(i)}"
    return ""


def _warn_zone_change(name: str, trained: str, col: pd.Series, frame: _Frame, source: str) -> None:
    """New rows whose dates give the time zone otherwise than training's: the same clock time becomes another
    instant (a date without an offset is read as UTC), so every such row's time input shifts by the offset."""
    now = _zone_style(col)
    if now is None or trained == "mixed" or now == trained:
        return
    said = {"offset": "with a time zone offset (Z or +hh:mm)", "none": "without a time zone (read as UTC)"}
    shown = "offset" if now in ("offset", "mixed") and trained == "none" else "none"
    example = _first_zone_example(col, shown, frame)
    msg = (
        f"'{frame.source}': column {name!r} has dates {said[shown]}"
        + (f", such as {example}" if example else "")
        + f", where the training file '{source}' wrote them {said[trained]}; each such time is read as another "
        "instant, shifted by its offset. Write the dates as in training (both with offsets, or both in UTC)."
    )
    warnings.warn(msg, DataWarning, stacklevel=5)
    logger.warning(msg)


#: Dates in another spelling than ISO 8601 (03/05/2021, 05.03.2021, 2021/03/05, with a time or not): not read
#: as time (which order?), so they are categories, or dropped as identifiers when every one differs.
_OTHER_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
#: Amounts with a currency symbol or code before or after them: $700, € 1.234,50, 1,234.56 USD, -£3.
_CURRENCY = re.compile(
    r"^(?:[-+]?\s*(?:[$€£¥₹]|USD|EUR|GBP|JPY|CHF)\s*[-+]?[\d.,' ]*\d[\d.,' ]*"
    r"|[-+]?[\d.,' ]*\d[\d.,' ]*\s*(?:[$€£¥₹]|USD|EUR|GBP|JPY|CHF))$",
    re.IGNORECASE,
)


#: Numbers with a unit after them: 45%, 20.3 °C, 12 kg.
_WITH_UNIT = re.compile(r"^[-+]?\d[\d.,']*\s*(?:%|‰|°\s?[CF]|°|kg|g|mg|km|m|cm|mm|ms|s|h|min|kWh|W|V|Hz)$")


def _where(col: pd.Series, value: Any, frame: _Frame) -> str:
    """`` at line 7`` of the first row of ``col`` holding ``value`` (empty where no line can be named)."""
    label = col.index[col.astype(str) == value][0]
    try:
        loc = frame.df.index.get_loc(label)
    except (KeyError, TypeError, ValueError):
        return ""
    return f" at {frame.where(loc)}" if isinstance(loc, int) else ""  # (a duplicated index: no line)


def _warn_unread_forms(col: pd.Series, name: str, frame: _Frame) -> None:
    """A text column that is really dates, amounts or measurements.  Dates in ISO 8601 but for a few cells are
    refused, naming the first cell that is no date (as numbers with stray tokens are); dates in another
    spelling, amounts with a currency sign and numbers with a unit are warned about: silently each becomes
    one category per value (or is dropped as an identifier), while the user meant a time or a number."""
    present = col.dropna()
    if len(present) < 2:
        return
    values = [v for v in pd.unique(present.to_numpy(dtype=object))[:2000] if isinstance(v, str)]
    if not values:
        return
    iso = [v for v in values if _ISO_DATE.match(v.strip())]
    bad = present.iloc[:0]
    iso_rows = int(present.astype(str).str.strip().str.match(_ISO_DATE).sum())
    if iso and iso_rows >= 0.9 * len(present):  # rows, not distinct values (ISO-shaped cells can be no date)
        bad = present[_iso_seconds(present.astype(str)).isna().to_numpy()]
    if len(bad):
        first = str(bad.iloc[0])
        raise DataError(
            f"'{frame.source}': feature column {name!r} holds ISO dates in {len(present) - len(bad)} of "
            f"{len(present)} non-missing rows, but also {len(bad)} other value(s), e.g. {_clip(first)!r}"
            f"{_where(present, first, frame)}; expected dates such as {iso[0]!r} (read as time). Correct "
            "or empty those cells (an empty cell is missing and imputed)."
        )
    others = [v for v in values if not _ISO_DATE.match(v.strip())]
    dotted = any("." in v for v in others[:50])
    example = "%d.%m.%Y" if dotted else "%m/%d/%Y"  # 05.03.2021 is European; 03/05/2021 either
    for pattern, what, fix in (
        (
            _OTHER_DATE,
            "dates in a spelling other than ISO 8601",
            "only ISO dates (2021-03-05) are read as time, since 03/05/2021 could be March or May; convert the "
            f"column (e.g. pandas.to_datetime(col, format='{example}').dt.strftime('%Y-%m-%d'), with the "
            "order your file uses) to use it as time",
        ),
        (
            _CURRENCY,
            "amounts with a currency sign",
            "strip the sign (and give the thousands separator, --thousands / thousands=, where there is one) to "
            "read them as numbers",
        ),
        (
            _WITH_UNIT,
            "numbers with a unit",
            "strip the unit (and name it in the column's header) to read them as numbers",
        ),
    ):
        hits = [v for v in others if pattern.match(v.strip())]
        if not others or len(hits) < 0.9 * len(values):
            continue
        first = hits[0]
        warnings.warn(
            f"'{frame.source}': feature column {name!r} looks like {what} ({first!r}"
            f"{_where(present, first, frame)}); it is read as text, one category per value (or dropped as an "
            f"identifier where every value differs): {fix}.",
            DataWarning,
            stacklevel=5,
        )
        return


#: A validation or test split with fewer rows gets a warning that its scores are rough (one row moves them by
#: more than 12 points).
MIN_SCORED_ROWS = 8

#: Fewest rows before a column of all-different values is taken for an identifier (below, it may be chance).
MIN_ID_ROWS = 20


def _check_identifiers(X: pd.DataFrame, frame: _Frame) -> pd.DataFrame:
    """Columns that identify rows rather than describe them.

    A text column whose every value differs (a customer id, a free-text note) is dropped with a warning: one-hot
    encoded, each category would hold a single training row and no test row, so it cannot inform a prediction
    (a DataFrame's object column of mixed values included).  A column counting the rows, one up per row in file
    order (a row number, or the index pandas writes with ``to_csv()``), is kept with a warning, since a time step can
    be a real feature, but where the file is sorted by the target it leaks the answer."""
    n = len(X)
    if n < MIN_ID_ROWS or X.shape[1] < 2:
        return X
    texts, counters = [], []
    for name in X.columns:
        col = X[name]
        present = col.dropna()
        if len(present) < MIN_ID_ROWS or present.nunique() != len(present):
            continue
        if col.dtype == object and len(present) >= 0.9 * n:
            texts.append(str(name))
        elif ptypes.is_numeric_dtype(col.dtype) and not ptypes.is_bool_dtype(col.dtype) and len(present) == n:
            v = present.to_numpy(dtype=np.float64)
            if np.all(np.diff(v) == 1):  # in file order, one up per row: what a row number or an index is
                counters.append(str(name))
    if texts and len(texts) < X.shape[1]:
        msg = (
            f"'{frame.source}': dropped {len(texts)} text column(s) whose every value is different, which "
            f"identify rows rather than describe them (as categories, each would be seen once): "
            f"{_preview(texts)}."
        )
        warnings.warn(msg, DataWarning, stacklevel=5)
        X = X.drop(columns=texts)
    if counters:
        msg = (
            f"'{frame.source}': feature column(s) {_preview(counters)} count the rows (one up per row): "
            "a row number (pandas writes its index so with to_csv()) is no feature, and where the rows are "
            "sorted by the target it gives the answer away. Remove the column unless it is a real quantity "
            "such as a time step."
        )
        warnings.warn(msg, DataWarning, stacklevel=5)
    return X


def _refuse_list_cells(X: pd.DataFrame, frame: _Frame) -> None:
    """A feature cell holding a list (a Parquet list column, Python lists in a DataFrame) became one category per
    spelling of the whole list: '[1 2]' from Parquet, '[np.int64(1), np.int64(2)]' from Python, so one model's
    categories were another's unseen ones.  Refused, naming the column, the first row and what to do."""
    for name in X.columns:
        col = X[name]
        if col.dtype != object:
            continue
        for pos, v in enumerate(col.tolist()):
            if _is_label_list(v):
                raise DataError(
                    f"'{frame.source}': feature column {str(name)!r} holds lists (such as {_clip(str(list(v)))} at "
                    f"{frame.where(pos)}); expected one number, true/false, date or category per cell. Spread "
                    "the list into columns of their own (one per element or per item, 0/1), or join it into text."
                )


def _check_features(X: pd.DataFrame, frame: _Frame) -> pd.DataFrame:
    """Normalise feature dtypes, drop all-missing columns (warning), refuse inf values and text columns that
    are really numbers (errors)."""
    _refuse_list_cells(X, frame)
    X = coerce_features(X)
    dates = []
    for name in X.columns:
        if X[name].dtype == object:
            as_time = _iso_dates(X[name])
            if as_time is not None:
                X[name] = as_time  # seconds since the epoch, as for a Parquet datetime column
                dates.append(str(name))
                continue
            _check_numbers_as_text(X[name], str(name), frame, "feature column")
            _warn_unread_forms(X[name], str(name), frame)
    if dates:
        logger.info(
            "'%s': date column(s) %s read as time (seconds since 1970)", frame.source, _preview(dates)
        )
    empty = [c for c in X.columns if X[c].isna().all()]
    if empty:
        msg = f"'{frame.source}': dropped {len(empty)} feature column(s) with no values at all: {_preview(empty)}."
        warnings.warn(msg, DataWarning, stacklevel=4)
        logger.warning(msg)
        X = X.drop(columns=empty)
        if X.shape[1] == 0:
            raise DataError(f"'{frame.source}': no usable feature columns; every feature column is empty.")
    constant = [c for c in X.columns if X[c].nunique(dropna=True) == 1 and not X[c].isna().any()]
    if constant and len(constant) == X.shape[1] and len(X) > 1:
        raise DataError(
            f"'{frame.source}': every feature column has the same value in every row "
            f"({_preview([str(c) for c in constant])}): there is nothing to learn the target from."
        )
    if constant and len(constant) < X.shape[1]:
        msg = (
            f"'{frame.source}': dropped {len(constant)} feature column(s) with the same value in every row, "
            f"which cannot inform a prediction: {_preview([str(c) for c in constant])}."
        )
        warnings.warn(msg, DataWarning, stacklevel=4)
        logger.warning(msg)
        X = X.drop(columns=constant)
    X = _check_identifiers(X, frame)
    for name in X.columns:
        col = X[name]
        if ptypes.is_float_dtype(col.dtype):
            values = col.to_numpy()
            bad = np.isinf(values)
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"'{frame.source}': feature column {name!r} has {int(bad.sum())} infinite value(s) "
                    f"(first {values[pos]} at {frame.where(pos)}); expected finite numbers. Replace them with "
                    f"an empty cell to have them imputed, or with a finite value."
                )
    return X


def _coerce_task(task: Task | str | None) -> Task | None:
    if task is None or isinstance(task, Task):
        return task
    check_params("prepare_tabular", {"task": task}, {"task": Options(tuple(str(t) for t in Task))})
    return Task(task)


def _is_label_list(v: Any) -> bool:
    return isinstance(v, list | tuple | set | frozenset | np.ndarray)


def _label_sets(y: pd.Series) -> list[list[str]]:
    out = []
    for v in y.tolist():
        if _is_label_list(v):
            out.append(sorted({str(x).strip() for x in v if str(x).strip()}))
        else:
            out.append(sorted({p.strip() for p in str(v).split(MULTILABEL_SEPARATOR) if p.strip()}))
    return out


def _class_values(y: pd.Series) -> pd.Series:
    """Labels in a form ``np.unique`` can sort: int for integer-valued numbers, str for mixed objects."""
    if ptypes.is_bool_dtype(y.dtype):
        return y.astype(bool)
    if ptypes.is_numeric_dtype(y.dtype) and not ptypes.is_complex_dtype(y.dtype):
        values = y.to_numpy(dtype=np.float64)
        if (
            np.all(np.isfinite(values))
            and np.all(values == np.round(values))
            and np.abs(values).max() < 2**53
        ):
            return pd.Series(values.astype(np.int64), index=y.index)
        return pd.Series(values, index=y.index)
    items = y.tolist()
    if all(isinstance(v, bool | np.bool_) for v in items):
        return pd.Series([bool(v) for v in items], index=y.index, dtype=object)
    return pd.Series([str(v).strip() for v in items], index=y.index, dtype=object)


def _warn_case_variants(uniques: Any, frame: _Frame, target: str) -> None:
    """Class labels that differ only in upper/lower case ('Yes' and 'yes') are different classes: said, since a
    yes/no target with a few capitalised labels otherwise becomes a four-class problem without a word."""
    spellings: dict[str, list[str]] = {}
    for u in uniques:
        if isinstance(u, str):
            spellings.setdefault(u.strip().casefold(), []).append(u)
    clashes = [v for v in spellings.values() if len(v) > 1]
    if clashes:
        shown = "; ".join(" / ".join(repr(x) for x in v) for v in clashes[:5])
        warnings.warn(
            f"'{frame.source}': target {target!r} has labels that differ only in upper/lower case, read as "
            f"different classes: {shown}. If they mean the same class, write them alike.",
            DataWarning,
            stacklevel=5,
        )


def _detect_task(y: pd.Series, task: Task | None, frame: _Frame, target: str) -> Task:
    shown = frame.source
    if task is Task.REGRESSION:
        return task
    if task is Task.MULTILABEL or (task is None and _looks_multilabel(y)):
        labels = sorted({lab for labs in _label_sets(y) for lab in labs})
        if len(labels) < 2:
            raise DataError(
                f"'{shown}': multilabel target {target!r} has {len(labels)} distinct label(s) "
                f"({', '.join(map(repr, labels))}); expected at least 2."
            )
        if len(y) >= 20 and len(labels) > len(y) // 2:
            # 600 floats under task='multilabel' became 600 labels of one row each: every score 0, no word
            numbers = all(frame.options.parse(lab) is not None for lab in labels[:50])
            raise DataError(
                f"'{shown}': multilabel target {target!r} has {len(labels)} distinct labels in {len(y)} rows "
                f"(such as {_preview(labels[:3])}): nearly every label names a row of its own, so none can be "
                "learnt; expected labels that rows share, such as 'sports|politics'."
                + (
                    " Its values are numbers: is it a quantity to predict (task='regression')?"
                    if numbers
                    else ""
                )
            )
        return Task.MULTILABEL
    if task is None and y.dtype == object:
        _check_numbers_as_text(y, target, frame, "target")
    values = _class_values(y)
    uniques = pd.unique(values)
    n_unique = len(uniques)
    _warn_case_variants(uniques, frame, target)
    if n_unique < 2:
        raise DataError(
            f"'{shown}': target {target!r} has a single value {_jsonable(uniques[0])!r} in all {len(y)} rows; "
            f"expected at least 2 classes for classification (or varying numbers for regression)."
        )
    if task is Task.BINARY:
        if n_unique != 2:
            raise DataError(
                f"'{shown}': task='binary' but target {target!r} has {n_unique} classes "
                f"({_preview([str(u) for u in uniques[:10]])}); expected exactly 2."
            )
        return task
    if task is Task.MULTICLASS:
        return task
    # automatic detection
    if n_unique == 2:
        return Task.BINARY
    if ptypes.is_numeric_dtype(values.dtype) and not ptypes.is_integer_dtype(values.dtype):
        logger.info("target %r: non-integer numbers -> regression", target)
        return Task.REGRESSION
    if ptypes.is_integer_dtype(values.dtype) and n_unique > MAX_INTEGER_CLASSES:
        logger.info(
            "target %r: %d distinct integers (> %d) -> regression", target, n_unique, MAX_INTEGER_CLASSES
        )
        return Task.REGRESSION
    if n_unique > max(MAX_INTEGER_CLASSES, len(y) // 2):
        msg = (
            f"'{shown}': target {target!r} has {n_unique} distinct classes in {len(y)} rows; "
            f"is it an identifier or free text rather than a label? Pass task= (--task on the command line) to override."
        )
        warnings.warn(msg, DataWarning, stacklevel=4)
    return Task.MULTICLASS


def _looks_multilabel(y: pd.Series) -> bool:
    if ptypes.is_numeric_dtype(y.dtype) or ptypes.is_bool_dtype(y.dtype):
        return False
    if ptypes.infer_dtype(y, skipna=True) == "string":  # text labels: look at each distinct spelling once
        return any(MULTILABEL_SEPARATOR in v for v in pd.unique(y.dropna().to_numpy(dtype=object)))
    return any(_is_label_list(v) or (isinstance(v, str) and MULTILABEL_SEPARATOR in v) for v in y.tolist())


def _regression_target(y: pd.Series, frame: _Frame, target: str) -> pd.Series:
    shown = frame.source
    if ptypes.is_bool_dtype(y.dtype) or any(isinstance(v, bool | np.bool_) for v in y.tolist()[:1000]):
        raise DataError(
            f"'{shown}': task is regression but target {target!r} holds true/false values; "
            f"expected numbers. Use task='binary'."
        )
    if ptypes.is_numeric_dtype(y.dtype) and not ptypes.is_complex_dtype(y.dtype):
        values = pd.Series(y.to_numpy(dtype=np.float64, na_value=np.nan), index=y.index)
    else:
        parse = frame.options.parse
        parsed = [parse(str(v).strip()) for v in y.tolist()]
        values = pd.Series([np.nan if x is None else x for x in parsed], index=y.index, dtype=np.float64)
        bad = np.flatnonzero([x is None for x in parsed])
        if len(bad):
            pos = int(bad[0])
            prof = _number_profile(y.iloc[bad], frame.options, prefer_decimal=frame.sep == ";")
            if prof.n_comma:  # name the comma numbers first: they are the likely cause, and have a fix
                first = int(bad[(prof.decimal_comma or prof.thousands)[0][0]])
                raise DataError(
                    f"'{shown}': task is regression but target {target!r} is not numeric: {len(bad)} value(s) "
                    f"such as {_clip(str(y.iloc[first]))!r} at {frame.where(first)}, numbers written with a "
                    f"comma; expected plain numbers such as 1234.5. "
                    f"{prof.hints('rows with a missing target are dropped', frame)}"
                )
            if len(bad) > len(parsed) // 2:
                # mostly text: labels, not numbers with a few stray tokens (the hint would name every label
                # as a missing-value marker)
                labels = _preview([str(v) for v in pd.unique(y.iloc[bad].astype(str))[:5]])
                raise DataError(
                    f"'{shown}': task is regression but target {target!r} holds text labels ({labels}) in "
                    f"{len(bad)} of {len(parsed)} rows; expected numbers. Leave out task='regression' "
                    "(--task regression) to predict the labels as classes."
                )
            raise DataError(
                f"'{shown}': task is regression but target {target!r} is not numeric: {len(bad)} value(s) "
                f"such as {_clip(str(y.iloc[pos]))!r} at {frame.where(pos)}; expected numbers. "
                f"{prof.hints('rows with a missing target are dropped', frame)} Use task='multiclass' for labels."
            )
        values = values.astype(np.float64)
    arr = values.to_numpy()
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        pos = int(bad[0])
        raise DataError(
            f"'{shown}': regression target {target!r} has {len(bad)} infinite value(s) "
            f"(first {arr[pos]} at {frame.where(pos)}); expected finite numbers."
        )
    if np.all(arr == arr[0]):
        raise DataError(
            f"'{shown}': regression target {target!r} is constant ({float(arr[0])!r} in all {len(arr)} rows); "
            f"expected varying numbers."
        )
    _warn_if_nearly_constant(arr, frame, target)
    return values


#: A regression target whose most common value fills at least this share of the rows is warned about.
NEARLY_CONSTANT_SHARE = 0.95


def _warn_if_nearly_constant(arr: np.ndarray, frame: _Frame, target: str) -> None:
    """One value in nearly every row: the test split may hold few (or none) of the other values, so R^2 and the
    error measure little but the rare rows; often the column is a code or a flag rather than an amount."""
    values, counts = np.unique(arr, return_counts=True)
    top = int(np.argmax(counts))
    share = counts[top] / len(arr)
    if share < NEARLY_CONSTANT_SHARE:
        return
    others = len(arr) - int(counts[top])
    msg = (
        f"'{frame.source}': regression target {target!r} is {float(values[top])!r} in {share:.1%} of the rows "
        f"({others} of {len(arr)} rows hold another value); its test scores rest on those few rows. If the "
        f"question is whether a row differs from {float(values[top])!r}, a classification on a yes/no column "
        "answers it better."
    )
    warnings.warn(msg, DataWarning, stacklevel=4)
    logger.warning(msg)


# --------------------------------------------------------------------------------------------------------------
# the column decisions, kept for new rows

#: How a feature column's cells become what the preprocessor takes (see :class:`TableSchema`).
COLUMN_KINDS: tuple[str, ...] = ("number", "boolean", "date", "category")

_EXPECTED = {
    "boolean": "true/false values",
    "date": "ISO 8601 dates such as 2024-03-01 or 2024-03-01T12:30:00",
}


@dataclass
class Rows:
    """New rows of a table, read as training read its own (:meth:`TableSchema.rows`)."""

    #: the features the preprocessor takes, in its order, as :func:`coerce_features` gives them (float64 or str)
    X: pd.DataFrame
    #: every column as read (an id column, the target where present, ...)
    table: pd.DataFrame
    source: str
    #: row position -> ``line 7`` (delimited text) or ``row 7``, for messages
    where: Callable[[int], str]


@dataclass(frozen=True)
class TableSchema:
    """What the loader decided about a table's columns, kept so that new rows are read exactly as training read.

    ``columns`` maps each feature the preprocessor takes, in its order, to a kind: ``number``, ``boolean``
    (true/false, taken as 1/0), ``date`` (ISO 8601 text or datetime values, taken as seconds since 1970, UTC)
    or ``category`` (text).  ``dropped`` maps the feature columns the loader left out to why: ``empty``,
    ``constant`` or ``identifier`` (every value differs).  ``read`` holds the reading options training was
    given (``sep``, ``encoding``, ``na_values``, ``decimal``, ``thousands``); a delimiter or an encoding that
    was guessed is guessed again for each new file, as it was for the training file.
    """

    target: str
    columns: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    zones: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "columns": [{"name": n, "kind": k} for n, k in self.columns.items()],
            "dropped": dict(self.dropped),
            "read": dict(self.read),
            "source": self.source,
            "zones": dict(self.zones),
        }

    @classmethod
    def from_dict(cls, d: Any) -> TableSchema:
        """The schema :meth:`to_dict` wrote; ``ValueError`` (or ``KeyError``/``TypeError``) when it is not one."""
        columns = {str(c["name"]): str(c["kind"]) for c in d["columns"]}
        bad = sorted(k for k in columns.values() if k not in COLUMN_KINDS)
        if bad:
            raise ValueError(f"unknown column kind(s) {bad}; expected {', '.join(COLUMN_KINDS)}")
        return cls(
            target=str(d["target"]),
            columns=columns,
            dropped={str(k): str(v) for k, v in dict(d.get("dropped") or {}).items()},
            read=dict(d.get("read") or {}),
            source=str(d.get("source", "")),
            zones={str(k): str(v) for k, v in dict(d.get("zones") or {}).items()},  # absent in older models
        )

    def rows(
        self, source: str | os.PathLike[str] | pd.DataFrame, *, trained: Mapping[str, Any] | None = None
    ) -> Rows:
        """Read ``source`` (a file of the training table's layout, or a DataFrame) with the training options and
        convert each feature column as training did.  The target and any other extra column may be present (they
        are not features); a missing feature column, or one whose values are of another kind than in training,
        is a :class:`DataError` naming the file, the column, the first offending line and what was expected.

        ``trained``: the training file's reading options where :attr:`read` overrides some of them for this file
        (default: :attr:`read` is the training's); messages then tell an inherited number format from one given
        for this file."""
        read = self.read
        was = self.read if trained is None else trained
        options = _read_options(
            "predict",
            read.get("na_values") or None,
            read.get("decimal") or ".",
            read.get("thousands"),
            bool(read.get("keep_default_na", True)),
        )
        if isinstance(source, pd.DataFrame):
            frame = replace(_frame_from_dataframe(source, "DataFrame"), options=options)
        else:
            frame = _read_file(
                source, sep=read.get("sep"), encoding=read.get("encoding"), options=options, keep_cells=True
            )
        frame = replace(frame, trained_format=(was.get("decimal") or ".", was.get("thousands")))
        text = frame.sep is not None  # a delimited file: every cell is the text read
        df = frame.df
        if isinstance(df.columns, pd.MultiIndex):
            raise DataError(f"'{frame.source}' has multi-level column names; expected one header row.")
        names = [str(c) for c in df.columns]
        _check_duplicates(names, f"'{frame.source}'")
        if list(df.columns) != names:
            df = df.set_axis(names, axis=1)
        if len(df) == 0:
            raise DataError(f"'{frame.source}' has columns ({_preview(names)}) but no data rows.")
        missing = [c for c in self.columns if c not in set(names)]
        if missing:
            where = f" (read with delimiter {_sep_name(frame.sep)})" if frame.sep is not None else ""
            raise DataError(
                f"'{frame.source}': {len(missing)} feature column(s) the model needs are missing: "
                f"{_preview(missing)}; expected the columns of the training table '{self.source}': "
                f"{_preview(list(self.columns), 40)} (the target {self.target!r} may be left out). "
                f"The file has {_preview(names, 40)}{where}."
            )
        X = pd.DataFrame(
            {name: _column_as(kind, df[name], name, frame, text) for name, kind in self.columns.items()},
            columns=list(self.columns),
        )
        for name, zone in self.zones.items():
            if name in df.columns:
                _warn_zone_change(name, zone, df[name], frame, self.source)
        return Rows(X=X, table=df.reset_index(drop=True), source=frame.source, where=frame.where)


def _is_missing_text(value: str, options: _ReadOptions) -> bool:
    return value in options.na_tokens or value in options.na_values


def _column_as(kind: str, col: pd.Series, name: str, frame: _Frame, text: bool) -> np.ndarray:
    """One column of new rows as training's :func:`_check_features` gave it: float64, or ``str`` objects with NaN.

    ``text``: the cells are the text of a delimited file, converted as :func:`_convert_column` converted the
    training file's; otherwise they are values (Parquet, DataFrame), converted as :func:`coerce_features` did.
    """
    options = frame.options
    values = col.tolist()
    na = col.isna().to_numpy()
    present_str = all(isinstance(v, str) for v, m in zip(values, na, strict=True) if not m)
    if kind == "category":
        if text or (options.given and present_str):  # training's _convert_column / _apply_options
            cells = ["" if m else str(v).strip() for v, m in zip(values, na, strict=True)]
            return np.array([np.nan if _is_missing_text(v, options) else v for v in cells], dtype=object)
        return np.array([np.nan if m else str(v) for v, m in zip(values, na, strict=True)], dtype=object)
    if kind == "date":
        if ptypes.is_datetime64_any_dtype(col.dtype):
            return coerce_features(col.to_frame(name))[name].to_numpy(dtype=np.float64)
        if not (text or present_str):
            return _refuse(kind, col, name, frame, [i for i in range(len(values)) if not na[i]])
        cells = ["" if m else str(v).strip() for v, m in zip(values, na, strict=True)]
        absent = np.array([_is_missing_text(v, options) for v in cells], dtype=bool)
        series = pd.Series([np.nan if m else v for v, m in zip(cells, absent, strict=True)], dtype=object)
        if absent.all():
            return np.full(len(cells), np.nan)
        seconds = _iso_seconds(series).to_numpy(dtype=np.float64)
        bad = [
            i
            for i, v in enumerate(cells)
            if not absent[i] and (not _ISO_DATE.match(v) or math.isnan(seconds[i]))
        ]
        if bad:
            _refuse(kind, col, name, frame, bad)
        return seconds
    # number / boolean
    if na.all():  # nothing given in this column (all None/NaN, any dtype): missing, imputed as in training
        return np.full(len(values), np.nan)
    if text or (present_str and not na.all()):
        converted = _convert_column(["" if m else str(v) for v, m in zip(values, na, strict=True)], options)
    else:
        converted = col.reset_index(drop=True)
    conv_na = converted.isna().to_numpy()
    bools = ptypes.is_bool_dtype(converted.dtype) or (
        converted.dtype == object
        and not conv_na.all()
        and all(
            isinstance(v, bool | np.bool_) for v, m in zip(converted.tolist(), conv_na, strict=True) if not m
        )
    )
    coerced = coerce_features(converted.to_frame(name))[name]
    if ptypes.is_float_dtype(coerced.dtype) and not (bools and kind == "number"):
        out = coerced.to_numpy(dtype=np.float64)
        inf = np.flatnonzero(np.isinf(out))
        if len(inf):
            raise DataError(
                f"'{frame.source}': column {name!r} has {len(inf)} infinite value(s) (first {out[inf[0]]} at "
                f"{frame.where(int(inf[0]))}); expected finite numbers, as in training. Leave the cell empty to "
                "have it imputed."
            )
        return out

    def fits(v: Any) -> bool:
        if isinstance(v, bool | np.bool_) or (isinstance(v, str) and v.strip().lower() in ("true", "false")):
            return kind == "boolean"
        if isinstance(v, str):
            return options.parse(v.strip()) is not None
        return isinstance(v, int | float | np.integer | np.floating)

    bad = [
        i for i, (v, m) in enumerate(zip(converted.tolist(), conv_na, strict=True)) if not m and not fits(v)
    ]
    return _refuse(kind, col, name, frame, bad)


def _refuse(kind: str, col: pd.Series, name: str, frame: _Frame, bad: list[int]) -> np.ndarray:
    """A DataError for a column of new rows whose values are not of the kind training read there."""
    values = col.tolist()
    first = bad[0] if bad else 0
    value = values[first]
    what = (
        "true/false values"
        if isinstance(value, bool | np.bool_) or str(value).strip().lower() in ("true", "false")
        else "text"
        if isinstance(value, str)
        else f"{type(value).__name__} values"
    )
    expected = _EXPECTED.get(kind) or _expected_numbers(frame.options)
    options, trained = frame.options, frame.trained_format
    as_in = "as in the training data"
    if kind == "number" and trained is not None and trained != (options.decimal, options.thousands):
        as_in = "as given for this file"
    present = int((~col.isna()).sum())
    fix = "Correct the cells, or leave them empty to have them imputed."
    if kind == "number" and isinstance(value, str):
        # numbers in another format than training's, or a missing-value marker of this file's: name the option
        hints = _number_profile(
            col.iloc[bad].astype(str), frame.options, prefer_decimal=frame.sep == ";"
        ).hints("they are imputed", frame)
        fix = hints or fix
    raise DataError(
        f"'{frame.source}': column {name!r} holds {what} such as {_clip(str(value))!r} at {frame.where(first)} "
        f"({len(bad)} of {present} value(s)); expected {expected}, {as_in}. {fix}"
    )


def _table_schema(frame: _Frame, X: pd.DataFrame, target: str, read: dict[str, Any]) -> TableSchema:
    """The column decisions :func:`_split_target` made on ``frame``, read back from the features ``X`` it gave."""
    raw = {str(c): frame.df[c] for c in frame.df.columns}
    columns: dict[str, str] = {}
    zones: dict[str, str] = {}
    for name in (str(c) for c in X.columns):
        col = raw[name]
        present = col.dropna().tolist()
        if not ptypes.is_float_dtype(X[name].dtype):
            kind = "category"
        elif ptypes.is_bool_dtype(col.dtype) or (
            col.dtype == object and present and all(isinstance(v, bool | np.bool_) for v in present)
        ):
            kind = "boolean"
        elif ptypes.is_datetime64_any_dtype(col.dtype):
            kind = "date"
        elif (ptypes.is_object_dtype(col.dtype) or ptypes.is_string_dtype(col.dtype)) and (
            present and all(isinstance(v, str) for v in present)
        ):
            kind = "date"  # _check_features reads text as numbers only where it is ISO dates
        else:
            kind = "number"
        columns[name] = kind
        if kind == "date" and (style := _zone_style(col)) is not None:
            zones[name] = style
    dropped: dict[str, str] = {}
    for name, col in raw.items():
        if name == target or name in columns:
            continue
        present_col = col.dropna()
        try:
            n_values = present_col.nunique()
        except TypeError:  # unhashable cells
            n_values = 2
        # the three reasons a column is dropped: no value, one value, or (text) a different value in every row
        # of those kept; counted here over every row read, where rows without a target can repeat an id
        dropped[name] = "empty" if len(present_col) == 0 else "constant" if n_values == 1 else "identifier"
    return TableSchema(
        target=target, columns=columns, dropped=dropped, read=read, source=frame.source, zones=zones
    )


# --------------------------------------------------------------------------------------------------------------
# public API


def load_table(
    path: str | os.PathLike[str],
    target: str,
    *,
    task: Task | str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    na_values: Sequence[str] | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    keep_default_na: bool = True,
) -> tuple[pd.DataFrame, pd.Series, Task]:
    """Read ``path`` and return ``(X, y, task)``: raw features, the target column and the (detected) task.

    The format follows the extension (``.csv``/``.txt`` with a guessed delimiter, ``.tsv``/``.tab``,
    ``.parquet``/``.pq``).  Feature columns are normalised to float64 (numbers, booleans, dates) or ``str``
    objects (categories) with NaN for missing values; rows whose target is missing are dropped with a
    :class:`DataWarning`.  The task is detected from the target unless ``task`` is given, in which case the
    target is checked against it.  Every problem raises :class:`DataError` naming the file.

    Cells are missing when empty or one of :data:`NA_TOKENS` (any case), or equal to one of ``na_values``
    (after stripping spaces; case-sensitive); ``keep_default_na=False`` leaves the built-in spellings out (as
    ``pandas.read_csv`` does): only empty cells and ``na_values`` are missing, so a class 'NA' is a class.  ``decimal`` and ``thousands`` give the number format, as in
    ``pandas.read_csv`` (``decimal=','``, ``thousands='.'`` for ``1.234,5``); they apply to every text cell,
    also of Parquet files.  A text column that is mostly numbers is an error naming the stray cells rather
    than a silent switch to categories.  A multilabel target reads an empty cell as "no labels" and drops
    only rows whose target holds a missing-value marker.
    """
    task_ = _coerce_task(task)
    options = _read_options("load_table", na_values, decimal, thousands, keep_default_na)
    frame = _read_file(path, sep=sep, encoding=encoding, options=options, keep_text=(target,))
    X, y, detected, _, _ = _split_target(frame, target, task_)
    return X, y, detected


def prepare_tabular(
    source: str | os.PathLike[str] | pd.DataFrame,
    target: str,
    *,
    task: Task | str | None = None,
    valid_size: float = 0.15,
    test_size: float = 0.15,
    random_state: int = 0,
    sep: str | None = None,
    encoding: str | None = None,
    na_values: Sequence[str] | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    keep_default_na: bool = True,
) -> TabularData:
    """Load (a file or a DataFrame), detect the task, split, and preprocess: a ready :class:`TabularData`.

    Splits are stratified for binary/multiclass targets; ``valid_size`` must be above 0, because early
    stopping, the search and the verdict all score on the validation split.  The ``ColumnTransformer`` (median
    imputation + scaling for numbers, most-frequent imputation + one-hot for categories) is fitted on the
    training split only.  Regression targets are standardised with training statistics (kept in
    ``y_mean``/``y_std``).  ``na_values``, ``decimal`` and ``thousands`` are those of :func:`load_table`; for a
    DataFrame they apply to its text columns.
    """
    task_ = _coerce_task(task)
    _check_split_args("prepare_tabular", valid_size, test_size, random_state)
    options = _read_options("prepare_tabular", na_values, decimal, thousands, keep_default_na)
    if isinstance(source, pd.DataFrame):
        frame = _apply_options(_frame_from_dataframe(source, "DataFrame"), options)
    else:
        frame = _read_file(source, sep=sep, encoding=encoding, options=options, keep_text=(target,))
    X, y, task_, n_dropped, notes = _split_target(frame, target, task_)
    y_codes, classes = _encode_target(y, task_)
    try:
        train, valid, test = make_splits(
            y_codes,
            valid_size=valid_size,
            test_size=test_size,
            random_state=random_state,
            stratify=task_ in (Task.BINARY, Task.MULTICLASS),
            class_names=classes,
        )
    except DataError as exc:
        raise DataError(f"'{frame.source}': {exc}") from exc
    small = [
        (what, len(idx))
        for what, idx in (("validation", valid), ("test", test))
        if 0 < len(idx) < MIN_SCORED_ROWS
    ]
    if small:  # a score on 3 rows moves by a third with one row: printed to 4 decimals, it looks like a fact
        warnings.warn(
            f"'{frame.source}': the {' and '.join(w for w, _ in small)} split(s) hold "
            f"{' and '.join(str(n) for _, n in small)} row(s): a score on them moves by "
            f"{100 / min(n for _, n in small):.0f} points with each row, so read it as rough.",
            DataWarning,
            stacklevel=2,
        )
    try:
        preprocessor, (X_train, X_valid, X_test), names = fit_transform_splits(X, [train, valid, test])
    except (ValueError, TypeError, IndexError) as exc:
        raise DataError(
            f"'{frame.source}': preprocessing the features failed ({type(exc).__name__}: {_first_line(exc)})."
        ) from exc
    _check_finite_output([X_train, X_valid, X_test], names, X, frame.source)

    y_mean = y_std = None
    if task_ is Task.REGRESSION:
        y_codes, y_mean, y_std = _standardise(y_codes, train, frame.source, target)
    data = TabularData(
        X_train=X_train.astype(np.float32),
        y_train=y_codes[train],
        X_valid=X_valid.astype(np.float32),
        y_valid=y_codes[valid],
        X_test=X_test.astype(np.float32),
        y_test=y_codes[test],
        task=task_,
        classes=classes,
        feature_names=names,
        source=frame.source,
        input_shape=None,
        preprocessor=preprocessor,
        y_mean=y_mean,
        y_std=y_std,
        dropped_rows=n_dropped,
        notes=notes,
        table=_table_schema(
            frame,
            X,
            target,
            {
                "sep": sep,
                "encoding": encoding,
                "na_values": sorted(options.na_values),
                "decimal": decimal,
                "thousands": thousands,
                "keep_default_na": keep_default_na,
            },
        ),
    )
    _warn_missing_classes(data)
    logger.info("prepared %s", data.describe())
    return data


def prepare_arrays(
    X: Any,
    y: Any,
    *,
    task: Task | str | None = None,
    valid_size: float = 0.15,
    test_size: float = 0.15,
    random_state: int = 0,
    name: str = "arrays",
    input_shape: tuple[int, ...] | None = None,
    test: tuple[Any, Any] | None = None,
) -> TabularData:
    """Split numeric arrays and scale them with a ``StandardScaler`` fitted on the training split.

    ``X`` may have more than two dimensions (images, signals): rows are flattened and ``input_shape`` defaults
    to the trailing shape.  ``test=(X_test, y_test)`` keeps a predefined test set (as MNIST-style data sets
    ship one); ``test_size`` is then ignored and valid is cut from ``X`` alone.
    """
    from sklearn.preprocessing import StandardScaler

    task_ = _coerce_task(task)
    _check_split_args("prepare_arrays", valid_size, test_size, random_state)
    X_arr, y_arr = _check_arrays(X, y, name)
    n_main = len(X_arr)
    if test is not None:
        X_te, y_te = _check_arrays(test[0], test[1], f"{name} (test)")
        if X_te.shape[1:] != X_arr.shape[1:]:
            raise DataError(
                f"{name}: test rows have shape {X_te.shape[1:]} but training rows have {X_arr.shape[1:]}."
            )
        X_arr = np.concatenate([X_arr, X_te])
        y_arr = np.concatenate([y_arr, y_te])
    if input_shape is None and X_arr.ndim > 2:
        input_shape = tuple(int(d) for d in X_arr.shape[1:])
    X2 = X_arr.reshape(len(X_arr), -1)
    if input_shape is not None and math.prod(input_shape) != X2.shape[1]:
        raise DataError(
            f"{name}: input_shape {input_shape} has {math.prod(input_shape)} values but rows have {X2.shape[1]}."
        )
    frame = _Frame(df=pd.DataFrame({"y": y_arr}), source=name)
    task_ = _detect_task(pd.Series(y_arr), task_, frame, "y")
    y_series = pd.Series(y_arr)
    if task_ is Task.REGRESSION:
        y_series = _regression_target(y_series, frame, "y")
    y_codes, classes = _encode_target(y_series, task_)
    stratify = task_ in (Task.BINARY, Task.MULTICLASS)
    if test is None:
        train, valid, test_idx = make_splits(
            y_codes,
            valid_size=valid_size,
            test_size=test_size,
            random_state=random_state,
            stratify=stratify,
            class_names=classes,
        )
    else:
        train, valid, _ = make_splits(
            y_codes[:n_main],
            valid_size=valid_size,
            test_size=0.0,
            random_state=random_state,
            stratify=stratify,
            class_names=classes,
        )
        test_idx = np.arange(n_main, len(X2), dtype=np.int64)
    scaler = StandardScaler()
    with np.errstate(all="ignore"):
        scaler.fit(X2[train])
        parts = [
            scaler.transform(X2[i]) if len(i) else np.empty((0, X2.shape[1]))
            for i in (train, valid, test_idx)
        ]
    names = [f"x{j}" for j in range(X2.shape[1])]
    _check_finite_output(parts, names, None, name)
    y_mean = y_std = None
    if task_ is Task.REGRESSION:
        y_codes, y_mean, y_std = _standardise(y_codes, train, name, "y")
    return TabularData(
        X_train=parts[0].astype(np.float32),
        y_train=y_codes[train],
        X_valid=parts[1].astype(np.float32),
        y_valid=y_codes[valid],
        X_test=parts[2].astype(np.float32),
        y_test=y_codes[test_idx],
        task=task_,
        classes=classes,
        feature_names=names,
        source=name,
        input_shape=input_shape,
        preprocessor=scaler,
        y_mean=y_mean,
        y_std=y_std,
    )


# --------------------------------------------------------------------------------------------------------------
# helpers for the public API


def _check_split_args(owner: str, valid_size: float, test_size: float, random_state: int) -> None:
    """The split arguments, checked under the name of the function the user called (not :func:`make_splits`,
    which checks them again for its own callers).  An empty validation split is accepted by
    :func:`make_splits` but not by anything that trains."""
    if isinstance(valid_size, int | float) and not isinstance(valid_size, bool) and valid_size == 0:
        raise ConfigError(
            f"The 'valid_size' parameter of {owner} must be a float in (0, 1). Got {valid_size!r}. "
            f"A validation split is needed: early stopping, the hyperparameter search and the verdict all "
            f"score networks on it (the test split is kept for the final, unbiased score)."
        )
    check_params(
        owner,
        {"valid_size": valid_size, "test_size": test_size, "random_state": random_state},
        {**SPLIT_CONSTRAINTS, "valid_size": Interval(float, 0.0, 1.0, closed="neither")},
    )


def _check_arrays(X: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        X_arr = np.asarray(X, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: X must be numeric ({_first_line(exc)}).") from exc
    y_arr = np.asarray(y)
    if X_arr.ndim < 2:
        raise DataError(
            f"{name}: X must have at least 2 dimensions (rows, features); got shape {X_arr.shape}."
        )
    if y_arr.ndim != 1 or len(y_arr) != len(X_arr):
        raise DataError(
            f"{name}: y must be 1-D with one value per row of X ({len(X_arr)}); got shape {y_arr.shape}."
        )
    if len(y_arr) and pd.Series(y_arr).isna().any():
        raise DataError(
            f"{name}: y has {int(pd.Series(y_arr).isna().sum())} missing value(s); expected none."
        )
    bad = ~np.isfinite(X_arr.reshape(len(X_arr), -1))
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{name}: X has {int(bad.sum())} NaN/infinite value(s) (first at row {row}, feature {col}); "
            f"expected finite numbers."
        )
    return X_arr, y_arr


def _encode_target(y: pd.Series, task: Task) -> tuple[np.ndarray, list[Any] | None]:
    """Class codes (int64) / label matrix (float32) / float64 values, and the original class labels."""
    if task is Task.REGRESSION:
        return y.to_numpy(dtype=np.float64), None
    if task is Task.MULTILABEL:
        sets = _label_sets(y)
        classes = sorted({lab for labs in sets for lab in labs})
        col = {c: j for j, c in enumerate(classes)}
        matrix = np.zeros((len(sets), len(classes)), dtype=np.float32)
        for i, labs in enumerate(sets):
            matrix[i, [col[lab] for lab in labs]] = 1.0
        return matrix, list(classes)
    values = _class_values(y).to_numpy()
    classes_arr, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), [_jsonable(c) for c in classes_arr.tolist()]


def _standardise(
    y: np.ndarray, train: np.ndarray, source: str, target: str
) -> tuple[np.ndarray, float, float]:
    with np.errstate(all="ignore"):
        mean = float(np.mean(y[train]))
        std = float(np.std(y[train]))
        if std == 0.0:
            std = 1.0  # constant in the training split: centre only, do not divide by zero
        scaled = (y - mean) / std
    if not (math.isfinite(mean) and math.isfinite(std)) or not np.all(np.isfinite(scaled.astype(np.float32))):
        raise DataError(
            f"'{source}': regression target {target!r} has values too large to standardise "
            f"(largest magnitude {np.abs(y).max():.3g}); expected magnitudes below about 1e38. Rescale it."
        )
    return scaled.astype(np.float32), mean, std


def _check_finite_output(
    parts: list[np.ndarray], names: list[str], X: pd.DataFrame | None, source: str
) -> None:
    """Huge but finite inputs can overflow the scaler (variance of 1e300 is inf): name the column."""
    for part in parts:
        with np.errstate(all="ignore"):
            bad = ~np.isfinite(part.astype(np.float32)) if part.size else np.zeros(part.shape, dtype=bool)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            feature = names[j] if j < len(names) else f"#{j}"
            column = feature.split("=")[0]
            detail = ""
            if X is not None and column in X.columns and ptypes.is_float_dtype(X[column].dtype):
                detail = f" (largest magnitude {np.nanmax(np.abs(X[column].to_numpy())):.3g})"
            raise DataError(
                f"'{source}': feature {feature!r} has values too large to scale{detail}; expected magnitudes "
                f"below about 1e150. Rescale the column (for example take a log) or drop it."
            )


def _warn_missing_classes(data: TabularData) -> None:
    if data.task is Task.MULTILABEL and data.classes is not None:
        _warn_rare_labels(data)
        return
    if data.task not in (Task.BINARY, Task.MULTICLASS) or data.classes is None:
        return
    present = set(np.unique(data.y_train).tolist())
    absent = [c for i, c in enumerate(data.classes) if i not in present]
    if absent:
        msg = (
            f"'{data.source}': {len(absent)} class(es) have no training rows: {_preview([str(a) for a in absent])}; "
            f"the model cannot learn them."
        )
        warnings.warn(msg, DataWarning, stacklevel=3)
        data.notes.append(msg)


#: A multilabel label in fewer rows than this (all splits together) is warned about.
RARE_LABEL_ROWS = 3


def _warn_rare_labels(data: TabularData) -> None:
    """Multilabel: a label with no training row cannot be learnt, and one in a row or two is scored on luck (its
    F1 in the test split is 0 or 1, and macro-F1 averages it like any other label)."""
    assert data.classes is not None
    train = np.asarray(data.y_train).sum(axis=0)
    total = train + np.asarray(data.y_valid).sum(axis=0) + np.asarray(data.y_test).sum(axis=0)
    absent = [str(c) for c, n, t in zip(data.classes, train, total, strict=True) if n == 0 and t > 0]
    rare = [
        f"{_clip(str(c), 40)!r} ({int(t)} row{'s' if t > 1 else ''})"
        for c, n, t in zip(data.classes, train, total, strict=True)
        if n > 0 and t < RARE_LABEL_ROWS
    ]
    parts = []
    if absent:
        parts.append(
            f"{len(absent)} label(s) have no training rows: {_preview(absent)}; the model cannot learn them"
        )
    if rare:
        parts.append(
            f"{len(rare)} label(s) are in fewer than {RARE_LABEL_ROWS} rows: {', '.join(rare[:20])}"
            f"{f', ... ({len(rare)} in all)' if len(rare) > 20 else ''}; their scores are "
            "luck, and macro-F1 counts each like any other label (merge them or drop them)"
        )
    if parts:
        msg = f"'{data.source}': " + "; ".join(parts) + "."
        warnings.warn(msg, DataWarning, stacklevel=4)
        logger.warning(msg)
        data.notes.append(msg)


__all__ = [
    "CANDIDATE_SEPARATORS",
    "COLUMN_KINDS",
    "MAX_INTEGER_CLASSES",
    "MAX_STRAY_TOKENS",
    "MOSTLY_NUMBERS",
    "MULTILABEL_SEPARATOR",
    "NA_TOKENS",
    "NA_TOKENS_SHOWN",
    "SUPPORTED_EXTENSIONS",
    "DataWarning",
    "Rows",
    "TableSchema",
    "TabularData",
    "load_table",
    "na_tokens_text",
    "prepare_arrays",
    "prepare_tabular",
]
