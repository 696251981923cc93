"""Loading labelled texts: CSV, TSV, JSON Lines or Parquet with a text column and a label column.

The rules that decide what a text data set *is* live here, once, so that the CLI, the benchmark and library
callers see the same rows: duplicate texts are dropped (a repeated tasting note in both train and test would
inflate every model's score), only the ``top_classes`` most frequent labels are kept, and classes can be balanced
to the same number of rows.  Every dropped row is counted in :class:`TextData` so reports can say what happened.
"""

from __future__ import annotations

import io
import logging
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperselect._validation import Interval, NoneOr, check_params
from hyperselect.data.splits import SPLIT_CONSTRAINTS, SplitWarning
from hyperselect.data.tabular import NA_TOKENS, DataWarning, na_tokens_text
from hyperselect.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

__all__ = ["TextData", "TextSplit", "load_text", "prepare_text", "read_text_table", "split_text"]

_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
#: what :func:`read_text_table` reads, for messages
_FORMATS = "CSV, TSV, JSON Lines (optionally .gz, .bz2, .xz or a one-file .zip) and Parquet"


@dataclass
class TextData:
    """Texts with string labels after cleaning; ``labels[i]`` is one of :attr:`classes` (sorted by frequency).

    ``classes`` is ordered most frequent first (ties by name) because reports and confusion matrices read best
    that way, except where every label is a number (scores, ratings): then by value, so that a confusion matrix
    keeps the scale's order.  Class codes used by models are positions in this list.  ``rows[i]`` is the
    0-based position of ``texts[i]`` among the rows read (the file's data row minus one), so a text can be found
    in the file; the ``n_*`` counts say where every other row went.
    """

    texts: list[str]
    labels: np.ndarray
    classes: list[str]
    source: str
    text_column: str = "text"
    label_column: str = "label"
    n_read: int = 0
    n_duplicates: int = 0
    n_missing_label: int = 0
    n_other_classes: int = 0
    n_balanced_away: int = 0
    notes: list[str] = field(default_factory=list)
    extra: pd.DataFrame | None = field(default=None, repr=False)
    n_empty: int = 0
    rows: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def y(self) -> np.ndarray:
        """Integer class codes (positions in :attr:`classes`)."""
        index = {c: i for i, c in enumerate(self.classes)}
        return np.fromiter((index[v] for v in self.labels), dtype=np.int64, count=len(self.labels))

    def class_counts(self) -> dict[str, int]:
        counts = pd.Series(self.labels).value_counts()
        return {c: int(counts.get(c, 0)) for c in self.classes}

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary of what was read and what was dropped, and why: ``n_read`` minus every
        ``n_*_dropped`` count and ``n_balanced_away`` is ``n_rows``."""
        return {
            "source": self.source,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "n_read": self.n_read,
            "n_rows": len(self.texts),
            "n_empty_dropped": self.n_empty,
            "n_duplicates_dropped": self.n_duplicates,
            "n_missing_label_dropped": self.n_missing_label,
            "n_other_classes_dropped": self.n_other_classes,
            "n_balanced_away": self.n_balanced_away,
            "n_classes": len(self.classes),
            "class_counts": self.class_counts(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class TextSplit:
    """Row indices into a :class:`TextData`: train (models fit here), valid (tuning), test (reported once)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def _display(path: Path) -> str:
    return str(path)


def read_text_table(
    path: str | os.PathLike[str], *, sep: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Read CSV/TSV/JSONL (optionally ``.gz``, ``.bz2``, ``.xz`` or a one-file ``.zip``) or Parquet (by its
    ``.parquet``/``.pq`` suffix or its ``PAR1`` magic bytes; needs pyarrow) as strings; missing cells become ``""``.

    Everything is read as text because labels like ``01`` or ``1.0`` must not be reinterpreted as numbers.
    ``encoding`` defaults to UTF-8 (a byte-order mark is skipped); a byte that does not decode is a
    :class:`DataError` naming its line and column.
    """
    p = Path(path)
    shown = _display(p)
    if not p.exists():
        raise DataError(f"{shown}: no such file.")
    if p.is_dir():
        raise DataError(f"{shown}: is a directory, expected a CSV, TSV, JSONL or Parquet file.")
    suffixes = [s.lower() for s in p.suffixes]
    compression = suffixes[-1] if suffixes and suffixes[-1] in _COMPRESSED else None
    if compression:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    jsonl = kind in _JSONL_SUFFIXES
    if kind in _PARQUET_SUFFIXES or (compression is None and not jsonl and _parquet_magic(p)):
        return _read_parquet(p, shown, compression)
    text = _read_decoded(p, shown, compression, encoding)
    if not text.strip():
        expected = "one JSON object per line" if jsonl else "a header line and data rows"
        raise DataError(f"{shown}: is empty; expected {expected}.")
    try:
        if jsonl:
            df = _read_jsonl(text, shown)
        else:
            if sep is None:
                sep = "\t" if kind == ".tsv" else ","
            _check_extra_fields(text, sep, shown)
            # index_col=False: a delimiter at the end of every line is one empty field too many, which pandas
            # would otherwise take as an index column, shifting every column name by one (extra fields that
            # are not empty were refused just above)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                df = pd.read_csv(
                    io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False
                )
    except DataError:
        raise  # already names the file and the line (_read_jsonl)
    except (ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        if isinstance(exc, pd.errors.ParserError) and "Expected" in first:
            hint = f" (a text holding the delimiter {sep!r} must be in double quotes)"
        raise DataError(
            f"{shown}: cannot be read as {'JSON Lines' if jsonl else 'a table'}: {first}{hint}"
        ) from exc
    if df.shape[1] == 0 or len(df) == 0:
        raise DataError(f"{shown}: has no rows" + ("." if jsonl else " below its header line."))
    return df


_COMPRESSED = {".gz", ".bz2", ".xz", ".zip"}


def _parquet_magic(p: Path) -> bool:
    """Whether the file starts with Parquet's ``PAR1``: read as CSV, its bytes gave an encoding error and then,
    with ``--encoding latin-1``, a delimiter error, neither of which was the problem."""
    try:
        with p.open("rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False  # _read_decoded names the problem


def _read_parquet(p: Path, shown: str, compression: str | None) -> pd.DataFrame:
    """A Parquet file's columns as strings, as the delimited files are read: missing cells are ``""``, column
    names are strings, and a float column of whole numbers with gaps (how Parquet stores ints with nulls) gives
    ``"87"``, not ``"87.0"``."""
    try:
        import pyarrow  # noqa: F401  # pandas' own message names two engines and no file
    except ImportError:
        raise DataError(
            f"{shown}: is a Parquet file, and reading Parquet needs pyarrow (pip install pyarrow); without it "
            f"the text loader reads CSV, TSV and JSON Lines (optionally .gz, .bz2, .xz or a one-file .zip)."
        ) from None
    try:
        if compression:
            with _open_binary(p, compression) as fh:
                df = pd.read_parquet(io.BytesIO(fh.read()))
        else:
            df = pd.read_parquet(p)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises many unrelated types for a damaged file; all mean the same here
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{shown}: cannot be read as Parquet ({type(exc).__name__}: {first}).") from exc
    if df.shape[1] == 0 or len(df) == 0:
        raise DataError(f"{shown}: has no rows.")
    return pd.DataFrame(
        {str(c): [_parquet_cell(v) for v in df.iloc[:, j].tolist()] for j, c in enumerate(df.columns)},
        dtype=object,
    )


def _parquet_cell(v: Any) -> str:
    if isinstance(v, str):
        return v
    if is_missing(v):
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _open_binary(p: Path, compression: str | None) -> Any:
    if compression == ".gz":
        import gzip

        return gzip.open(p, "rb")
    if compression == ".bz2":
        import bz2

        return bz2.open(p, "rb")
    if compression == ".xz":
        import lzma

        return lzma.open(p, "rb")
    if compression == ".zip":
        import zipfile

        zf = zipfile.ZipFile(p)
        members = [m for m in zf.namelist() if not m.endswith("/")]
        if len(members) != 1:
            zf.close()
            raise DataError(f"{p}: a .zip must hold exactly one file; it holds {len(members)}.")
        return zf.open(members[0])
    return p.open("rb")


def _read_decoded(p: Path, shown: str, compression: str | None, encoding: str | None) -> str:
    """The file's text, decoded in one pass; an undecodable byte is named at its own line and column (the line
    is found from the byte offset and decoded alone for the message)."""
    import codecs
    import lzma
    import zipfile
    import zlib

    enc = encoding or "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError:
        raise ConfigError(
            f"Unknown encoding {enc!r} given for {shown}; expected a Python codec name such as "
            "'utf-8', 'latin-1' or 'cp1252'."
        ) from None
    try:
        with _open_binary(p, compression) as fh:
            first = fh.readline()
            if encoding is None and first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                enc = "utf-16"  # a byte-order mark is unambiguous; spreadsheet exports on Windows write these
            if "\n".encode(enc) != b"\n":
                # UTF-16/32: a newline byte may sit inside a character, so lines cannot be cut on it
                raw = first + fh.read()
                try:
                    return raw.decode(enc)
                except UnicodeDecodeError as exc:
                    raise DataError(
                        f"{shown}: not {enc} text (byte {raw[exc.start : exc.start + 1]!r} at byte offset "
                        f"{exc.start}); pass the file's real encoding (--encoding on the command line, "
                        "encoding= in Python)."
                    ) from None
            if first.startswith(codecs.BOM_UTF8) and codecs.lookup(enc).name == "utf-8":
                first = first[len(codecs.BOM_UTF8) :]
            data = first + fh.read()
            try:
                text = data.decode(enc)  # one pass over the whole file: the fast, usual case
            except UnicodeDecodeError as whole:
                # name the bad byte at its own line and column: decode that line alone for the message
                start = data.rfind(b"\n", 0, whole.start) + 1
                end = data.find(b"\n", whole.start)
                line = data[start : len(data) if end < 0 else end + 1]
                lineno = data.count(b"\n", 0, whole.start) + 1
                try:
                    line.decode(enc)
                except UnicodeDecodeError as exc:
                    raise DataError(
                        _decode_message(shown, lineno, line, exc, enc, encoding is None)
                    ) from None
                raise DataError(_decode_message(shown, lineno, line, whole, enc, encoding is None)) from None
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, zlib.error) as exc:
        what = f"a {compression} archive" if compression else "a file"
        raise DataError(
            f"{shown}: cannot be read as {what}: {str(exc).strip() or type(exc).__name__}"
        ) from exc
    return text


def _decode_message(
    shown: str, lineno: int, raw: bytes, exc: UnicodeDecodeError, enc: str, default: bool
) -> str:
    column = len(raw[: exc.start].decode(enc, errors="replace")) + 1  # in characters, as an editor counts
    found = f"{shown}:{lineno}: not {enc} text (byte {raw[exc.start : exc.start + 1]!r} at column {column})"
    if default:
        return (
            f"{found}; expected UTF-8. If the file is in another encoding, name it: --encoding latin-1 on "
            "the command line (encoding='latin-1' in Python), or convert it (e.g. iconv -f latin1 -t utf-8)."
        )
    return f"{found}; pass the file's real encoding (--encoding on the command line, encoding= in Python)."


def _read_jsonl(text: str, shown: str) -> pd.DataFrame:
    """One JSON object per line, parsed here so labels keep their JSON spelling (``1`` stays ``"1"``, where
    pandas would turn an int column with a gap into ``1.0``) and errors can name the line."""
    import json

    records: list[dict[str, Any]] = []
    # split on \n only: str.splitlines would also cut at U+2028 and friends, which JSON strings may hold
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{shown}: line {n} is not valid JSON ({exc.msg}).") from None
        except RecursionError:
            raise DataError(f"{shown}: line {n} is JSON nested too deeply to read.") from None
        if not isinstance(rec, dict):
            raise DataError(f"{shown}: line {n} is a JSON {type(rec).__name__}, expected an object.")
        records.append(
            {
                str(k): "" if v is None else (v if isinstance(v, str) else json.dumps(v))
                for k, v in rec.items()
            }
        )
    df = pd.DataFrame.from_records(records)
    return df.fillna("").astype(str)


_SEP_WORDS = (
    ("\t", "tab", "sep='\\t'"),
    (",", "comma", "sep=','"),
    (";", "semicolon", "sep=';'"),
    ("|", "pipe", "sep='|'"),
)


def _quoted(name: object) -> str:
    """A column name for a message: quoted, with a tab shown as ``<tab>`` rather than an escaped ``\\t``."""
    return repr(str(name).replace("\t", "<tab>"))


def _column(df: pd.DataFrame, name: str, role: str, shown: str) -> pd.Series:
    if name not in df.columns:
        cols = ", ".join(_quoted(c) for c in list(df.columns)[:30])
        more = "" if df.shape[1] <= 30 else f", ... ({df.shape[1]} in all)"
        message = f"{shown}: no {role} column {_quoted(name)}; the columns are {cols}{more}."
        if df.shape[1] == 1:
            # one column whose name holds another delimiter: the file was split on the wrong character
            header = str(df.columns[0])
            for char, word, python in _SEP_WORDS:
                if char in header:
                    message += (
                        f" That one column's name holds {word}s, so the file looks {word}-separated: "
                        f"pass --sep {word} on the command line ({python} in Python)."
                    )
                    break
        raise DataError(message)
    return df[name].astype(str)


def _rows(positions: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(i) + 1) for i in positions[:n])
    return shown + (f", ... ({len(positions)} in all)" if len(positions) > n else "")


def _check_extra_fields(text: str, sep: str, shown: str) -> None:
    """Refuse a row with more fields than the header unless the extra ones are empty (a delimiter ending every
    line): an unquoted delimiter inside a text would otherwise shift that row's label into another column.
    Only for a one-character delimiter; what the csv module cannot read, pandas reads (or reports) below."""
    import csv

    if not isinstance(sep, str) or len(sep) != 1:
        return
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        header = next((r for r in reader if any(f.strip() for f in r)), [])
        for row in reader:
            if len(row) > len(header) and any(f.strip() for f in row[len(header) :]):
                hint = ""
                if len(header) == 1:  # the header did not split: another delimiter is likelier than quoting
                    for char, word, python in _SEP_WORDS:
                        if char != sep and char in header[0]:
                            hint = (
                                f" The header is one field holding {word}s: if the file is {word}-separated, "
                                f"pass --sep {word} on the command line ({python} in Python)."
                            )
                            break
                raise DataError(
                    f"{shown}:{reader.line_num}: {len(row)} fields where the header has {len(header)}; a text "
                    f"holding the delimiter {sep!r} must be in double quotes.{hint}"
                )
    except csv.Error:
        return


def load_text(
    path: str | os.PathLike[str],
    text: str,
    label: str,
    *,
    top_classes: int | None = None,
    balance: bool | int = False,
    drop_duplicates: bool = True,
    drop_empty: bool = False,
    random_state: int = 0,
    sep: str | None = None,
    encoding: str | None = None,
    keep_columns: list[str] | None = None,
) -> TextData:
    """Read ``path`` and apply :func:`prepare_text`'s rules; errors name the file and column.

    ``keep_columns`` are carried along (aligned with the kept rows) in :attr:`TextData.extra`, e.g. the
    ``split`` column of 20 Newsgroups.  ``sep`` and ``encoding`` go to :func:`read_text_table`.
    """
    _check_options("load_text", top_classes, balance)
    p = Path(path)
    shown = _display(p)
    if text == label:
        raise ConfigError(
            f"The text and the label column are both {text!r}; the labels must come from another column of "
            f"{shown}."
        )
    df = read_text_table(p, sep=sep, encoding=encoding)
    texts = _column(df, text, "text", shown)
    labels = _column(df, label, "label", shown)
    extra = None
    if keep_columns:
        extra = pd.DataFrame({c: _column(df, c, "extra", shown) for c in keep_columns})
    return prepare_text(
        texts.tolist(),
        labels.tolist(),
        top_classes=top_classes,
        balance=balance,
        drop_duplicates=drop_duplicates,
        drop_empty=drop_empty,
        random_state=random_state,
        source=shown,
        text_column=text,
        label_column=label,
        extra=extra,
    )


#: The cleaning options' constraints, checked under the name of the function the caller called.
_OPTIONS: dict[str, Interval | NoneOr] = {
    "top_classes": NoneOr(Interval(int, 2, None)),
    "balance": Interval(int, 1, None, bools=True),
}


def _check_options(owner: str, top_classes: Any, balance: Any) -> None:
    check_params(owner, {"top_classes": top_classes, "balance": balance}, _OPTIONS)


def is_missing(v: Any) -> bool:
    """None, NaN (of any float type), pandas' NA or NaT: a value that is missing whatever its column.

    A string, even "N/A", is not: only cells read from a table are also missing when they spell a missing-value
    token (:func:`text_or_missing`); a text passed to an encoder is taken as written.
    """
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float | np.floating) and v != v)


def text_or_missing(v: Any) -> str:
    """A cell as text; "" where it is missing (:func:`is_missing`, or only a missing-value token)."""
    if is_missing(v):
        return ""
    s = str(v)
    return "" if s.strip().lower() in NA_TOKENS else s


def refuse_lone_string(owner: str, name: str, value: Any, expected: str, fix: str) -> None:
    """Raise :class:`ConfigError` if ``value`` is a str (or bytes) where ``expected``, a sequence of texts, is:
    iterated, it would be one text per character ("13 texts but 1 labels", or 13 one-letter embeddings)."""
    if isinstance(value, str | bytes):
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be {expected}; got a {type(value).__name__} of "
            f"{len(value)} characters, which would be read as {len(value)} one-character {name}. {fix}"
        )


def prepare_text(
    texts: list[str] | pd.Series,
    labels: list[Any] | np.ndarray | pd.Series,
    *,
    top_classes: int | None = None,
    balance: bool | int = False,
    drop_duplicates: bool = True,
    drop_empty: bool = False,
    random_state: int = 0,
    source: str = "texts",
    text_column: str = "text",
    label_column: str = "label",
    extra: pd.DataFrame | None = None,
) -> TextData:
    """Clean in-memory texts and labels: the single place the loading rules live.

    Order matters and is fixed: empty texts are an error (or dropped with ``drop_empty``), rows without a label
    are dropped, duplicate texts are dropped keeping the first (so the count is reproducible; texts differing
    only in white space are duplicates), then the
    ``top_classes`` most frequent labels are kept, then classes are balanced.  ``balance=True`` keeps as many
    rows per class as the smallest class has; an int keeps ``min(that int, smallest class)``, with a warning
    naming the smallest class where that is fewer than asked.

    A label column of free text that is almost all distinct (the texts' column, most likely) is refused first,
    asking whether the columns were swapped.  Labels that are all numbers are warned about (they are read as
    unordered classes) and their classes ordered by value.
    """
    _check_options("prepare_text", top_classes, balance)
    for name, value in (("texts", texts), ("labels", labels)):
        refuse_lone_string(
            "prepare_text",
            name,
            value,
            "a sequence (a list, a pandas Series, ...) with one entry per row",
            "Wrap a single entry in a list.",
        )
    # a cell that is only a missing-value token (NaN, NA, N/A, null, ...: NA_TOKENS, as for tables) is missing,
    # not the text "NaN" or a class called "N/A"
    t = pd.Series(list(texts), dtype=object).map(text_or_missing)
    lab = pd.Series(list(labels), dtype=object).map(lambda v: text_or_missing(v).strip())
    if len(t) != len(lab):
        raise DataError(f"{source}: {len(t)} texts but {len(lab)} labels.")
    if extra is not None and len(extra) != len(t):
        raise DataError(f"{source}: extra columns have {len(extra)} rows but there are {len(t)} texts.")
    n_read = len(t)
    if n_read == 0:
        raise DataError(f"{source}: no rows.")
    _refuse_free_text_labels(lab, t, source, text_column, label_column)
    spellings: dict[str, list[str]] = {}
    for u in pd.unique(lab[lab != ""].to_numpy(dtype=object)):
        spellings.setdefault(str(u).casefold(), []).append(str(u))
    clashes = [v for v in spellings.values() if len(v) > 1]
    if clashes:  # 'sport' and 'Sport' would be two classes without a word, as for a table's target
        shown = "; ".join(" / ".join(repr(x) for x in v) for v in clashes[:5])
        warnings.warn(
            f"{source}: labels that differ only in upper/lower case are read as different classes: {shown}. If "
            "they mean the same class, write them alike.",
            DataWarning,
            stacklevel=2,
        )
    notes: list[str] = []
    keep = np.ones(n_read, dtype=bool)

    empty = t.str.strip().eq("").to_numpy()
    if empty.any():
        where = np.flatnonzero(empty)
        if empty.all():
            raise DataError(f"{source}: every text in column {text_column!r} is empty or missing.")
        if not drop_empty:
            raise DataError(
                f"{source}: column {text_column!r} has {len(where)} empty or missing text(s) at data row(s) "
                f"{_rows(where)} (1-based, header not counted; a cell that is only {na_tokens_text('or')}, in "
                "any case, counts as missing); expected non-empty text. "
                "Remove them, or drop them with --drop-empty on the command line (drop_empty=True in Python)."
            )
        notes.append(f"dropped {len(where)} empty or missing text(s)")
        keep &= ~empty
    n_empty = int(empty.sum())

    _refuse_numbers_as_texts(t[keep], source, text_column, label_column)

    missing = lab.eq("").to_numpy() & keep
    n_missing = int(missing.sum())
    if n_missing:
        logger.info("%s: dropping %d row(s) without a label", source, n_missing)
        notes.append(f"dropped {n_missing} row(s) with no {label_column!r}")
        keep &= ~missing

    n_dup = 0
    if drop_duplicates:
        # a duplicate of a dropped row must not be dropped as a duplicate: recompute on the kept rows only
        # texts that differ only in their spaces and line breaks are one text to every model here (the word
        # tokenizers and the sentence encoder's split on white space): the same BBC article with its paragraphs
        # broken differently was kept twice, and could be trained on and tested on
        same = t.map(_spaced)
        kept_idx = np.flatnonzero(keep)
        dup_kept = same.iloc[kept_idx].duplicated(keep="first").to_numpy()
        dup = np.zeros(n_read, dtype=bool)
        dup[kept_idx[dup_kept]] = True
        n_dup = int(dup.sum())
        if n_dup:
            _warn_about_duplicates(same, lab, kept_idx, dup_kept, source, text_column)
        keep &= ~dup
        if n_dup:
            notes.append(f"dropped {n_dup} duplicate text(s), keeping the first")

    counts = lab[keep].value_counts()
    if len(counts) == 0:
        raise DataError(
            f"{source}: every row's label in column {label_column!r} is empty; expected class labels."
        )
    if len(counts) < 2:
        raise DataError(
            f"{source}: column {label_column!r} has a single class ({counts.index[0]!r}) after cleaning; "
            "classification needs at least 2."
        )
    order = sorted(counts.index, key=lambda c: (-int(counts[c]), str(c)))
    numeric = _numeric_labels(order)
    n_other = 0
    if top_classes is not None and top_classes < len(order):
        kept_classes = set(order[:top_classes])
        other = keep & ~lab.isin(kept_classes).to_numpy()
        n_other = int(other.sum())
        keep &= ~other
        notes.append(f"kept the {top_classes} most frequent of {len(order)} classes ({n_other} rows dropped)")
        order = order[:top_classes]
    if numeric is not None:
        _warn_about_numeric_labels(numeric, order, source, label_column)
        order = sorted(order, key=lambda c: (numeric[c], str(c)))

    n_bal = 0
    if balance is not False:
        smallest = int(min(int(counts[c]) for c in order))
        per_class = smallest if balance is True else min(int(balance), smallest)
        if balance is not True and int(balance) > smallest:
            _warn_about_balance(int(balance), counts, order, source)
        rng = np.random.default_rng(random_state)
        chosen = np.zeros(n_read, dtype=bool)
        for c in order:
            idx = np.flatnonzero(keep & lab.eq(c).to_numpy())
            chosen[np.sort(rng.choice(idx, size=per_class, replace=False))] = True
        n_bal = int(keep.sum() - chosen.sum())
        keep = chosen
        rarest = min(order, key=lambda c: (int(counts[c]), str(c)))
        notes.append(
            f"balanced to {_n_rows(per_class)} per class ({_n_rows(n_bal)} dropped"
            + (f"; the smallest class, {rarest!r}, has {smallest})" if per_class == smallest else ")")
        )

    idx = np.flatnonzero(keep)
    return TextData(
        texts=t.iloc[idx].tolist(),
        labels=lab.iloc[idx].to_numpy(dtype=object),
        classes=[str(c) for c in order],
        source=source,
        text_column=text_column,
        label_column=label_column,
        n_read=n_read,
        n_duplicates=n_dup,
        n_missing_label=n_missing,
        n_other_classes=n_other,
        n_balanced_away=n_bal,
        notes=notes,
        extra=None if extra is None else extra.iloc[idx].reset_index(drop=True),
        n_empty=n_empty,
        rows=idx.astype(np.int64),
    )


def _spaced(text: str) -> str:
    """``text`` with each run of white space one space, and none at the ends: what makes two texts the same."""
    return " ".join(text.split())


def _n_rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


#: a label column is refused as free text when at least this share of its labels are distinct ...
FREE_TEXT_LABEL_SHARE = 0.9
#: ... among at least this many labelled rows, and its labels have this many words (median) or more
FREE_TEXT_MIN_ROWS, FREE_TEXT_MIN_WORDS = 10, 3


def _refuse_free_text_labels(
    lab: pd.Series, t: pd.Series, source: str, text_column: str, label_column: str
) -> None:
    """Refuse a label column of free text, almost every value distinct: the texts' column given as the labels
    (``--text country --label description``).  Without this the user got a warning quoting 15 whole reviews as
    labels, then an error listing 10 more as class names, the right hint buried under 3,000 characters."""
    given = lab[lab != ""]
    if len(given) < FREE_TEXT_MIN_ROWS:
        return
    distinct = given.nunique()
    words = float(given.map(lambda v: len(str(v).split())).median())
    if distinct < FREE_TEXT_LABEL_SHARE * len(given) or words < FREE_TEXT_MIN_WORDS:
        return
    examples = ", ".join(_clip_value(v) for v in pd.unique(given.to_numpy(dtype=object))[:2])
    texts = t[t.str.strip() != ""]
    shorter = (
        f"; column {text_column!r} holds {texts.nunique()} distinct value(s) of {texts.str.len().median():.0f} "
        "characters (median)"
        if len(texts)
        else ""
    )
    raise DataError(
        f"{source}: did you swap --text and --label (text_column= and label_column= in Python)? Column "
        f"{label_column!r}, given as the labels, looks like free text: {distinct} of its {len(given)} values are "
        f"distinct, {words:.0f} words long (median), e.g. {examples}{shorter}. The labels must be a column of "
        "classes, each shared by many rows."
    )


#: numeric labels with more distinct values than this are warned about (two are a yes/no, not a scale)
NUMERIC_LABEL_MIN_CLASSES = 3


def _numeric_labels(classes: list[Any]) -> dict[Any, float] | None:
    """Each class's value where every class label is a number (``"87"``, ``"4.5"``) and there are at least
    :data:`NUMERIC_LABEL_MIN_CLASSES`; else ``None``."""
    if len(classes) < NUMERIC_LABEL_MIN_CLASSES:
        return None
    values = pd.to_numeric(pd.Series([str(c).strip() for c in classes], dtype=object), errors="coerce")
    if values.isna().any():
        return None
    return {c: float(v) for c, v in zip(classes, values.tolist(), strict=True)}


def _warn_about_numeric_labels(
    values: dict[Any, float], kept: list[Any], source: str, label_column: str
) -> None:
    """Numbers as labels (wine ``points`` 80-100) are read as unordered classes: calling 88 when the truth was
    87 counts as wrong as calling 100.  Said once, with what to do where the numbers are a scale: bins, as
    classes of the text; not ``compare --task regression``, which predicts from the other columns (it reads no
    free text: a column whose every value differs is dropped)."""
    lo, hi = min(values.values()), max(values.values())

    def fmt(v: float) -> str:
        return str(int(v)) if v.is_integer() else f"{v:g}"

    kept_note = f" (the {len(kept)} kept are ordered by value)" if len(kept) < len(values) else ""
    band = f"{label_column}_band"
    warnings.warn(
        f"{source}: column {label_column!r} holds numbers ({fmt(lo)}-{fmt(hi)}, {len(values)} distinct values): "
        f"they are read as {len(values)} unordered classes{kept_note}, so a near miss counts as wrong as a far "
        "one. If they are scores or ratings on a scale, bin them into a few ordered classes and give those as "
        f"the labels, e.g. in pandas `df[{band!r}] = pd.qcut(df[{label_column!r}], 3, "
        f"duplicates='drop').astype(str)`, saved and read with --label {band}. (`hyperselect compare "
        f"{source if os.path.exists(source) else 'FILE'} --target {label_column} --task regression` would "
        "predict them as numbers, but from the table's other columns only: compare reads no free text (a "
        "column whose every value differs is dropped), so the text would not be used.)",
        DataWarning,
        stacklevel=3,
    )


def _warn_about_balance(asked: int, counts: pd.Series, order: list[Any], source: str) -> None:
    """``balance=N`` above the smallest class is capped at it: say so, and how to keep N per class (on 600 wine
    reviews ``--balance 500`` gave one row per class, and the error that followed blamed the label column)."""
    rarest = min(order, key=lambda c: (int(counts[c]), str(c)))
    smallest = int(counts[rarest])
    k = sum(int(counts[c]) >= asked for c in order)
    if k >= 2:
        fix = (
            f"keep the {k} classes with {asked} or more rows (--top-classes {k} on the command line, "
            f"top_classes={k} in Python), or ask for at most {smallest} per class"
        )
    else:
        largest = max(int(counts[c]) for c in order)
        fix = (
            f"ask for fewer per class (the largest class has {_n_rows(largest)}), and leave the small classes "
            "out with --top-classes K (top_classes=K in Python)"
        )
    warnings.warn(
        f"{source}: --balance {asked} (balance={asked} in Python) asks for {_n_rows(asked)} per class, but the "
        f"smallest class, {_clip_value(rarest)}, has {_n_rows(smallest)}, so every class is cut to "
        f"{_n_rows(smallest)}. To keep more, {fix}.",
        DataWarning,
        stacklevel=3,
    )


#: a text column is refused as numbers when at least this share of its texts are numbers alone
NUMERIC_TEXT_SHARE = 0.95
#: duplicates dropping more than this share of the rows are warned about (a column that is no free text)
DUPLICATE_WARN_SHARE = 0.5


def _refuse_numbers_as_texts(t: pd.Series, source: str, text_column: str, label_column: str) -> None:
    """A text column of numbers (scores, prices, ids) is no text: Naive Bayes, TF-IDF and the sentence encoder
    read words, and on 800 wine reviews' ``points`` 98 % of the rows fell away as duplicates before a verdict was
    given on 3 test rows.  Refused, naming the column and what reads numbers."""
    stripped = t.str.strip()
    numeric = pd.to_numeric(stripped.str.replace(",", "", regex=False), errors="coerce").notna()
    if len(t) and float(numeric.mean()) >= NUMERIC_TEXT_SHARE:
        examples = ", ".join(repr(v) for v in stripped[numeric].head(3))
        raise DataError(
            f"{source}: column {text_column!r} holds numbers, not text ({float(numeric.mean()):.0%} of its "
            f"values, e.g. {examples}); the text models read words. Name the column of free text with --text "
            f"(text_column= in Python), or predict {label_column!r} from the table's columns with "
            f"`hyperselect compare {source if os.path.exists(source) else 'FILE'} --target {label_column}`."
        )


def _warn_about_duplicates(
    t: pd.Series, lab: pd.Series, kept_idx: np.ndarray, dup_kept: np.ndarray, source: str, text_column: str
) -> None:
    """Warn where dropping duplicate texts removes most rows (the column repeats a few values: no free text) or
    where a text repeats under different labels (the later labels are dropped with it, unseen)."""
    rows = t.iloc[kept_idx]
    share = float(dup_kept.mean()) if len(dup_kept) else 0.0
    if share > DUPLICATE_WARN_SHARE:
        common = rows.value_counts().head(3)
        shown = ", ".join(f"{_clip_value(v)} ({_n_rows(int(n))})" for v, n in common.items())
        warnings.warn(
            f"{source}: {share:.0%} of the rows of column {text_column!r} repeat another row's text and are "
            f"dropped ({int(dup_kept.sum())} of {len(dup_kept)}; most frequent: {shown}): is it the column of "
            "free text? Name it with --text (text_column= in Python).",
            DataWarning,
            stacklevel=3,
        )
    labels_per_text = pd.DataFrame({"t": rows.to_numpy(), "y": lab.iloc[kept_idx].to_numpy()}).groupby("t")[
        "y"
    ]
    n_labels = labels_per_text.nunique()
    clashing = n_labels[n_labels > 1]
    if len(clashing):
        example = clashing.index[0]
        labels_seen = pd.unique(labels_per_text.get_group(example))
        seen = ", ".join(_clip_value(v) for v in labels_seen[:3]) + (
            f", ... ({len(labels_seen)} in all)" if len(labels_seen) > 3 else ""
        )
        warnings.warn(
            f"{source}: {len(clashing)} text(s) of column {text_column!r} occur with different labels (e.g. "
            f"{_clip_value(example)} as {seen}); each is kept once, with the label of its first row. Check the "
            "labels of the repeated texts.",
            DataWarning,
            stacklevel=3,
        )


def _clip_value(v: Any, n: int = 60) -> str:
    text = " ".join(str(v).split())
    return repr(text if len(text) <= n else text[: n - 1] + "…")


def split_text(
    data: TextData,
    *,
    test_size: float = 0.2,
    valid_size: float = 0.1,
    test_per_class: int | None = None,
    test_mask: np.ndarray | None = None,
    random_state: int = 0,
) -> TextSplit:
    """Stratified train/valid/test indices; every class keeps at least one training row.

    ``test_per_class`` draws a *balanced* test set (the benchmark's 50 rows per country) so accuracy is not
    dominated by the majority class; ``test_mask`` keeps a predefined test set (20 Newsgroups' by-date split).
    ``valid_size`` is a fraction of what remains after the test rows are taken.

    Where a stratified cut is impossible the split still succeeds and says why with a :class:`SplitWarning`:
    a class with a single row is kept for training (it has no test row; ``top_classes`` leaves such classes
    out), and a test set smaller than the number of classes is drawn at random after one row of each class is
    set aside for training.  A :class:`DataError` is raised only when no useful test set can be drawn: fewer
    than 2 classes with 2 or more rows, or a ``test_size`` that leaves fewer training rows than classes.
    """
    sizes = {"test_size": test_size, "valid_size": valid_size}
    check_params("split_text", sizes, {k: SPLIT_CONSTRAINTS[k] for k in sizes})
    y = data.y
    n = len(y)
    rng = np.random.default_rng(random_state)
    if test_mask is not None:
        test_mask = np.asarray(test_mask, dtype=bool)
        if test_mask.shape != (n,):
            raise DataError(f"{data.source}: test_mask has shape {test_mask.shape}, expected ({n},).")
        test = np.flatnonzero(test_mask)
    elif test_per_class is not None:
        parts = []
        for c in range(len(data.classes)):
            idx = np.flatnonzero(y == c)
            if len(idx) <= test_per_class:
                raise DataError(
                    f"{data.source}: class {data.classes[c]!r} has {len(idx)} rows; a test set of "
                    f"{test_per_class} per class needs more (some must be left to train on)."
                )
            parts.append(rng.choice(idx, size=test_per_class, replace=False))
        test = np.sort(np.concatenate(parts))
    elif test_size > 0:
        _check_test_cut(data, y, test_size)
        _, test, how = _cut(np.arange(n), y, test_size, random_state)
        if how is not None:
            warnings.warn(_test_cut_message(data, y, test_size, how), SplitWarning, stacklevel=2)
    else:
        test = np.empty(0, dtype=np.int64)
    rest = np.setdiff1d(np.arange(n), test)
    if valid_size > 0:
        train, valid, how = _cut(rest, y, valid_size, random_state)
        if how is not None:
            logger.info("%s: validation rows drawn %s", data.source, how)
    else:
        train, valid = rest, np.empty(0, dtype=np.int64)
    missing = sorted(set(range(len(data.classes))) - set(np.unique(y[train]).tolist()))
    if missing:
        raise DataError(f"{data.source}: classes {[data.classes[i] for i in missing]} have no training rows.")
    return TextSplit(train=train.astype(np.int64), valid=valid.astype(np.int64), test=test.astype(np.int64))


def _cut(
    idx: np.ndarray, y: np.ndarray, size: float, random_state: int
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Split ``idx`` into ``(keep, take)`` with ``ceil(size * len(idx))`` rows taken, sorted; every class in
    ``idx`` keeps a row.  ``how`` is ``None`` for a stratified cut, else how it was made instead.

    With no rare class this is scikit-learn's stratified ``train_test_split`` exactly (the same rows for the
    same seed).  A class with one row stays in ``keep`` and the others are stratified; where even that cannot
    be (fewer rows to take or keep than classes), one row per class is set aside and the rest drawn at random.
    """
    from sklearn.model_selection import train_test_split

    n_take = math.ceil(size * len(idx))  # as scikit-learn rounds a fractional test_size
    codes, counts = np.unique(y[idx], return_counts=True)
    single = np.isin(y[idx], codes[counts < 2])
    pool = idx[~single]
    n_pool_classes = int(np.sum(counts >= 2))
    if 0 < n_pool_classes <= min(n_take, len(pool) - n_take):
        keep, take = train_test_split(pool, test_size=n_take, stratify=y[pool], random_state=random_state)
        keep = np.concatenate([keep, idx[single]])
        return (
            np.sort(keep),
            np.sort(take),
            "stratified, rows of single-row classes kept" if single.any() else None,
        )
    rng = np.random.default_rng(random_state)
    reserved = np.array([rng.choice(idx[y[idx] == c]) for c in codes], dtype=np.int64)
    others = np.setdiff1d(idx, reserved)
    take = np.sort(rng.choice(others, size=min(n_take, len(others)), replace=False))
    return np.setdiff1d(idx, take), take, "at random, one row per class kept"


def _check_test_cut(data: TextData, y: np.ndarray, test_size: float) -> None:
    """Refuse what no split can mend: too few testable classes, or too few rows left to train every class."""
    counts = np.bincount(y, minlength=len(data.classes))
    n, n_test = len(y), math.ceil(test_size * len(y))
    testable = int(np.sum(counts >= 2))
    cleaned = f" after loading ({'; '.join(data.notes)})" if data.notes else ""
    if data.n_balanced_away and testable < 2:
        fix = (
            "Balancing cut the classes to the smallest one's size: leave the small classes out with --top-classes "
            "K (top_classes=K in Python), or drop --balance."
        )
    else:
        fix = "Is it the right label column? Otherwise add rows."
    if testable < 2:
        raise DataError(
            f"{data.source}: only {testable} of the {len(data.classes)} classes in column {data.label_column!r} "
            f"have 2 or more rows{cleaned} ({_class_counts(data, counts, counts >= 1)}); a test set needs rows "
            f"of at least 2 classes that also keep a training row. {fix}"
        )
    if n - n_test < len(data.classes):
        raise DataError(
            f"{data.source}: test_size={test_size} takes {n_test} of the {n} rows, leaving {n - n_test} to "
            f"train {len(data.classes)} classes on; expected at least one training row per class. Use a "
            "smaller --test-size (test_size= in Python)."
        )


def _test_cut_message(data: TextData, y: np.ndarray, test_size: float, how: str) -> str:
    counts = np.bincount(y, minlength=len(data.classes))
    rare = counts == 1
    testable = int(np.sum(counts >= 2))
    n, n_test = len(y), math.ceil(test_size * len(y))
    if how.startswith("stratified"):
        return (
            f"{data.source}: {int(rare.sum())} class(es) have a single row ({_class_counts(data, counts, rare)}): "
            "each is kept for training and has no test row, so the test scores say nothing about it. To leave "
            f"such classes out, keep the {testable} classes with 2 or more rows: --top-classes {testable} on "
            f"the command line (top_classes={testable} in Python)."
        )
    if n_test < testable:
        need = math.ceil(100 * testable / n) / 100
        fix = f"A --test-size of {need:.2f} or more (test_size= in Python) gives a stratified test set"
    else:
        fix = "A smaller --test-size (test_size= in Python) gives a stratified test set"
    return (
        f"{data.source}: a stratified test set of {n_test} row(s) (test_size={test_size} of {n}) cannot hold "
        f"one row of each of the {testable} classes with 2 or more rows and leave each a training row; it was "
        f"drawn at random instead, after one row of every class was set aside for training, so some classes "
        f"have no test row. {fix}, or --top-classes fewer classes."
    )


def _class_counts(data: TextData, counts: np.ndarray, which: np.ndarray, n: int = 3) -> str:
    """``'rose' (1 row), 'Red' (1 row), ... (12 in all)``: the classes picked by ``which``, for messages; at
    most ``n``, each clipped (a label column of whole reviews printed ten of them in full)."""
    picked = np.flatnonzero(which)
    shown = ", ".join(f"{_clip_value(data.classes[i])} ({_n_rows(int(counts[i]))})" for i in picked[:n])
    return shown + (f", ... ({len(picked)} in all)" if len(picked) > n else "")
