"""Train/valid/test index splits.

One function decides every split in hyperselect so that a table loaded from a file, a built-in data set and an
array handed in by a user are all cut the same way for the same ``random_state``.  Splits are stratified for
single-label classification because a validation set that misses a class makes early stopping and model
selection lie; when a class is too small to appear in every split we fall back to a plain random split and say
so with a warning instead of failing.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from hyperselect._validation import Interval, check_params
from hyperselect.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

#: The smallest training split we accept: fewer rows cannot fit even a scaler meaningfully.
MIN_TRAIN_ROWS = 2


class SplitWarning(UserWarning):
    """A split could not be made the way it was asked for (for example, stratification was dropped)."""


#: The split arguments' constraints; public loaders check them under their own name before any work.  Seeds
#: are numpy's full range; the second cut's seed ``random_state + 1`` wraps around.
SPLIT_CONSTRAINTS: dict[str, Interval] = {
    "valid_size": Interval(float, 0.0, 1.0, closed="left"),
    "test_size": Interval(float, 0.0, 1.0, closed="left"),
    "random_state": Interval(int, 0, 2**32 - 1),
}


def split_sizes(n_rows: int, valid_size: float, test_size: float) -> tuple[int, int, int]:
    """Row counts ``(n_train, n_valid, n_test)`` for fractions of ``n_rows``.

    Valid and test round *up* so that a requested non-zero split is never empty; the training split takes what
    is left and must keep at least :data:`MIN_TRAIN_ROWS` rows.
    """
    check_params("make_splits", {"valid_size": valid_size, "test_size": test_size}, SPLIT_CONSTRAINTS)
    if valid_size + test_size >= 1.0:
        raise ConfigError(
            f"valid_size + test_size must be below 1 so that rows are left for training. "
            f"Got valid_size={valid_size!r}, test_size={test_size!r}."
        )
    n_test = math.ceil(test_size * n_rows) if test_size > 0 else 0
    n_valid = math.ceil(valid_size * n_rows) if valid_size > 0 else 0
    n_train = n_rows - n_valid - n_test
    if n_train < MIN_TRAIN_ROWS:
        raise DataError(
            f"Too few rows to split: {n_rows} row(s) give train={max(n_train, 0)}, valid={n_valid}, "
            f"test={n_test} with valid_size={valid_size}, test_size={test_size}; "
            f"expected at least {MIN_TRAIN_ROWS} training rows. Provide more rows or smaller split sizes."
        )
    return n_train, n_valid, n_test


def make_splits(
    y: np.ndarray,
    *,
    valid_size: float,
    test_size: float,
    random_state: int,
    stratify: bool,
    class_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train, valid, test)``, each sorted, disjoint, and together covering ``range(len(y))``.

    ``y`` is only used for its length and, when ``stratify`` is true, for its labels (a 1-D array of class
    codes or labels).  ``class_names[code]`` is the label of a code, for messages.  A 2-D ``y`` (multilabel)
    is never stratified.  Sorting the indices keeps the original row
    order inside each split, which makes results easier to trace back to the file; trainers shuffle anyway.
    """
    y = np.asarray(y)
    n_rows = len(y)
    check_params("make_splits", {"random_state": random_state}, SPLIT_CONSTRAINTS)
    _, n_valid, n_test = split_sizes(n_rows, valid_size, test_size)
    all_idx = np.arange(n_rows)

    labels: np.ndarray | None = y if stratify and y.ndim == 1 else None
    if labels is not None:
        try:
            return _split(all_idx, labels, n_valid, n_test, random_state)
        except ValueError as exc:
            # sklearn refuses when a class has fewer rows than splits, or a split has fewer rows than classes.
            values, counts = np.unique(labels, return_counts=True)
            names = [_label(v, class_names) for v in values]
            smallest = int(np.argmin(counts))
            n_parts = 1 + (n_valid > 0) + (n_test > 0)
            rare = [f"{names[i]!r} ({counts[i]} row(s))" for i in np.flatnonzero(counts < n_parts)]
            cut = [(k, n) for k, n in (("test", n_test), ("valid", n_valid)) if 0 < n < len(values)]
            if rare:
                shown = ", ".join(rare[:10]) + (f", ... ({len(rare)} in all)" if len(rare) > 10 else "")
                reason = f"each class needs a row in each of the {n_parts} splits; too few rows: {shown}"
                # the rare classes' rows go to training (where a model can learn them at all), and the other
                # classes keep their proportions in every split, as `text` does
                common = np.isin(labels, values[counts >= n_parts])
                if common.any():
                    sub = all_idx[common]
                    try:  # (_split indexes its labels by position)
                        tr, va, te = (
                            sub[part]
                            for part in _split(
                                np.arange(len(sub)), labels[common], n_valid, n_test, random_state
                            )
                        )
                    except ValueError:
                        pass
                    else:
                        message = (
                            f"Cannot stratify the train/valid/test split: the smallest class "
                            f"{names[smallest]!r} has {counts[smallest]} row(s) among {len(values)} classes and "
                            f"{n_rows} rows ({reason}). The rare classes' {int((~common).sum())} row(s) are kept "
                            "in training; the other classes are split in proportion."
                        )
                        warnings.warn(message, SplitWarning, stacklevel=2)
                        logger.warning(message)
                        train = np.sort(np.concatenate([tr, all_idx[~common]])).astype(np.int64)
                        return train, va, te
            elif cut:
                reason = f"the {cut[0][0]} split has {cut[0][1]} row(s), fewer than the {len(values)} classes"
            else:
                reason = str(exc)  # a rarer refusal (after the first cut): sklearn's words, with codes
            message = (
                f"Cannot stratify the train/valid/test split: the smallest class {names[smallest]!r} has "
                f"{counts[smallest]} row(s) among {len(values)} classes and {n_rows} rows "
                f"({reason}). Falling back to an unstratified random split."
            )
            warnings.warn(message, SplitWarning, stacklevel=2)
            logger.warning(message)
    return _split(all_idx, None, n_valid, n_test, random_state)


def _label(value: Any, class_names: Sequence[Any] | None) -> Any:
    """The label of a class code for messages (the code itself without names)."""
    value = value.item() if isinstance(value, np.generic) else value
    if class_names is not None and isinstance(value, int) and 0 <= value < len(class_names):
        named = class_names[value]
        return named.item() if isinstance(named, np.generic) else named
    return value


def _split(
    idx: np.ndarray, labels: np.ndarray | None, n_valid: int, n_test: int, random_state: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut off test, then valid, from ``idx``; ``n_valid``/``n_test`` are absolute counts (may be 0)."""
    empty = np.empty(0, dtype=np.int64)
    rest, rest_labels = idx, labels
    test = empty
    if n_test > 0:
        rest, test = train_test_split(idx, test_size=n_test, random_state=random_state, stratify=labels)
        rest_labels = None if labels is None else labels[rest]
    valid = empty
    if n_valid > 0:
        # A different seed for the second cut so the two splits are not correlated by construction.
        rest, valid = train_test_split(
            rest, test_size=n_valid, random_state=(random_state + 1) % 2**32, stratify=rest_labels
        )
    return (
        np.sort(rest).astype(np.int64),
        np.sort(valid).astype(np.int64),
        np.sort(test).astype(np.int64),
    )


__all__ = ["MIN_TRAIN_ROWS", "SPLIT_CONSTRAINTS", "SplitWarning", "make_splits", "split_sizes"]
