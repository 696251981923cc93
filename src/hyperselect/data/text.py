"""Loading labelled texts: CSV, TSV or JSON Lines with a text column and a label column.

The rules that decide what a text data set *is* live here, once, so that the CLI, the benchmark and library
callers see the same rows: duplicate texts are dropped (a repeated tasting note in both train and test would
inflate every model's score), only the ``top_classes`` most frequent labels are kept, and classes can be balanced
to the same number of rows.  Every dropped row is counted in :class:`TextData` so reports can say what happened.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyperselect.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

__all__ = ["TextData", "TextSplit", "load_text", "prepare_text", "read_text_table", "split_text"]

_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass
class TextData:
    """Texts with string labels after cleaning; ``labels[i]`` is one of :attr:`classes` (sorted by frequency).

    ``classes`` is ordered most frequent first (ties by name) because reports and confusion matrices read best
    that way; class codes used by models are positions in this list.
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
        """JSON-ready summary of what was read and what was dropped, and why."""
        return {
            "source": self.source,
            "text_column": self.text_column,
            "label_column": self.label_column,
            "n_read": self.n_read,
            "n_rows": len(self.texts),
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


def read_text_table(path: str | os.PathLike[str], *, sep: str | None = None) -> pd.DataFrame:
    """Read CSV/TSV/JSONL (optionally ``.gz``) as strings; missing cells become ``""``.

    Everything is read as text because labels like ``01`` or ``1.0`` must not be reinterpreted as numbers.
    """
    p = Path(path)
    shown = _display(p)
    if not p.exists():
        raise DataError(f"{shown}: no such file.")
    if p.is_dir():
        raise DataError(f"{shown}: is a directory, expected a CSV, TSV or JSONL file.")
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".xz", ".zip"}:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    try:
        if kind in _JSONL_SUFFIXES:
            df = _read_jsonl(p, shown)
        else:
            if sep is None:
                sep = "\t" if kind == ".tsv" else ","
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{shown}: cannot be read as {'JSON Lines' if kind in _JSONL_SUFFIXES else 'a table'}: {first}"
        ) from exc
    if df.shape[1] == 0 or len(df) == 0:
        raise DataError(f"{shown}: has no rows.")
    return df


def _read_jsonl(p: Path, shown: str) -> pd.DataFrame:
    """One JSON object per line, parsed here so labels keep their JSON spelling (``1`` stays ``"1"``, where
    pandas would turn an int column with a gap into ``1.0``) and errors can name the line."""
    import gzip
    import json

    opener: Any = gzip.open if p.suffix.lower() == ".gz" else open
    records: list[dict[str, Any]] = []
    with opener(p, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
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


def _column(df: pd.DataFrame, name: str, role: str, shown: str) -> pd.Series:
    if name not in df.columns:
        cols = ", ".join(repr(c) for c in list(df.columns)[:30])
        more = "" if df.shape[1] <= 30 else f", ... ({df.shape[1]} in all)"
        raise DataError(f"{shown}: no {role} column {name!r}; the columns are {cols}{more}.")
    return df[name].astype(str)


def _rows(positions: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(i) + 1) for i in positions[:n])
    return shown + (f", ... ({len(positions)} in all)" if len(positions) > n else "")


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
    keep_columns: list[str] | None = None,
) -> TextData:
    """Read ``path`` and apply :func:`prepare_text`'s rules; errors name the file and column.

    ``keep_columns`` are carried along (aligned with the kept rows) in :attr:`TextData.extra`, e.g. the
    ``split`` column of 20 Newsgroups.
    """
    p = Path(path)
    df = read_text_table(p, sep=sep)
    shown = _display(p)
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
    are dropped, duplicate texts are dropped keeping the first (so the count is reproducible), then the
    ``top_classes`` most frequent labels are kept, then classes are balanced.  ``balance=True`` keeps as many
    rows per class as the smallest class has; an int keeps ``min(that int, smallest class)``.
    """
    if top_classes is not None and (
        isinstance(top_classes, bool) or not isinstance(top_classes, int) or top_classes < 2
    ):
        raise ConfigError(
            f"The 'top_classes' parameter of load_text must be an int in [2, inf) or None. "
            f"Got {top_classes!r}."
        )
    if not isinstance(balance, bool) and (not isinstance(balance, int) or balance < 1):
        raise ConfigError(
            f"The 'balance' parameter of load_text must be a bool or an int in [1, inf). Got {balance!r}."
        )
    t = pd.Series(list(texts), dtype=object).map(lambda v: "" if v is None else str(v))
    lab = pd.Series(list(labels), dtype=object).map(lambda v: "" if v is None or v != v else str(v).strip())
    if len(t) != len(lab):
        raise DataError(f"{source}: {len(t)} texts but {len(lab)} labels.")
    if extra is not None and len(extra) != len(t):
        raise DataError(f"{source}: extra columns have {len(extra)} rows but there are {len(t)} texts.")
    n_read = len(t)
    if n_read == 0:
        raise DataError(f"{source}: no rows.")
    notes: list[str] = []
    keep = np.ones(n_read, dtype=bool)

    empty = t.str.strip().eq("").to_numpy()
    if empty.any():
        where = np.flatnonzero(empty)
        if empty.all():
            raise DataError(f"{source}: every text in column {text_column!r} is empty.")
        if not drop_empty:
            raise DataError(
                f"{source}: column {text_column!r} has {len(where)} empty text(s) at data row(s) "
                f"{_rows(where)} (1-based, header not counted); expected non-empty text. "
                "Remove them or pass drop_empty=True."
            )
        notes.append(f"dropped {len(where)} empty text(s)")
        keep &= ~empty

    missing = lab.eq("").to_numpy() & keep
    n_missing = int(missing.sum())
    if n_missing:
        logger.info("%s: dropping %d row(s) without a label", source, n_missing)
        notes.append(f"dropped {n_missing} row(s) with no {label_column!r}")
        keep &= ~missing

    n_dup = 0
    if drop_duplicates:
        # a duplicate of a dropped row must not be dropped as a duplicate: recompute on the kept rows only
        kept_idx = np.flatnonzero(keep)
        dup_kept = t.iloc[kept_idx].duplicated(keep="first").to_numpy()
        dup = np.zeros(n_read, dtype=bool)
        dup[kept_idx[dup_kept]] = True
        n_dup = int(dup.sum())
        keep &= ~dup
        if n_dup:
            notes.append(f"dropped {n_dup} duplicate text(s), keeping the first")

    counts = lab[keep].value_counts()
    if len(counts) < 2:
        found = repr(counts.index[0]) if len(counts) else "none"
        raise DataError(
            f"{source}: column {label_column!r} has a single class ({found}) after cleaning; "
            "classification needs at least 2."
        )
    order = sorted(counts.index, key=lambda c: (-int(counts[c]), str(c)))
    n_other = 0
    if top_classes is not None and top_classes < len(order):
        kept_classes = set(order[:top_classes])
        other = keep & ~lab.isin(kept_classes).to_numpy()
        n_other = int(other.sum())
        keep &= ~other
        notes.append(f"kept the {top_classes} most frequent of {len(order)} classes ({n_other} rows dropped)")
        order = order[:top_classes]

    n_bal = 0
    if balance is not False:
        smallest = int(min(int(counts[c]) for c in order))
        per_class = smallest if balance is True else min(int(balance), smallest)
        rng = np.random.default_rng(random_state)
        chosen = np.zeros(n_read, dtype=bool)
        for c in order:
            idx = np.flatnonzero(keep & lab.eq(c).to_numpy())
            chosen[np.sort(rng.choice(idx, size=per_class, replace=False))] = True
        n_bal = int(keep.sum() - chosen.sum())
        keep = chosen
        notes.append(f"balanced to {per_class} rows per class ({n_bal} rows dropped)")

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
    )


def split_text(
    data: TextData,
    *,
    test_size: float = 0.2,
    valid_size: float = 0.1,
    test_per_class: int | None = None,
    test_mask: np.ndarray | None = None,
    random_state: int = 0,
) -> TextSplit:
    """Stratified train/valid/test indices.

    ``test_per_class`` draws a *balanced* test set (the benchmark's 50 rows per country) so accuracy is not
    dominated by the majority class; ``test_mask`` keeps a predefined test set (20 Newsgroups' by-date split).
    ``valid_size`` is a fraction of what remains after the test rows are taken.
    """
    from sklearn.model_selection import train_test_split

    for name, v in (("test_size", test_size), ("valid_size", valid_size)):
        if not 0.0 <= v < 1.0:
            raise ConfigError(f"The {name!r} parameter of split_text must be a float in [0, 1). Got {v!r}.")
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
        _, test = train_test_split(np.arange(n), test_size=test_size, stratify=y, random_state=random_state)
        test = np.sort(test)
    else:
        test = np.empty(0, dtype=np.int64)
    rest = np.setdiff1d(np.arange(n), test)
    if valid_size > 0:
        counts = np.bincount(y[rest], minlength=len(data.classes))
        strat = y[rest] if counts.min() >= 2 else None
        train, valid = train_test_split(rest, test_size=valid_size, stratify=strat, random_state=random_state)
        train, valid = np.sort(train), np.sort(valid)
    else:
        train, valid = rest, np.empty(0, dtype=np.int64)
    missing = sorted(set(range(len(data.classes))) - set(np.unique(y[train]).tolist()))
    if missing:
        raise DataError(f"{data.source}: classes {[data.classes[i] for i in missing]} have no training rows.")
    return TextSplit(train=train.astype(np.int64), valid=valid.astype(np.int64), test=test.astype(np.int64))
