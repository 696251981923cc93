"""The README walkthrough audit of 2026-12-08, text: the advice for a numeric label column led to a run that
ignored the text (`compare --task regression` drops a free-text column), and the empty-text error named five of
the missing-value tokens."""

from __future__ import annotations

import warnings

import pytest

from hyperselect.data.tabular import NA_TOKENS_SHOWN, DataWarning
from hyperselect.data.text import prepare_text
from hyperselect.errors import DataError

WORDS = ["tomato", "cherry", "spicy", "rustic", "oak", "plum", "citrus", "smoke", "earth", "honey"]


def _texts(n: int) -> list[str]:
    return [f"{WORDS[i % 10]} {WORDS[(i * 3) % 10]} {WORDS[(i * 7) % 10]} note {i}" for i in range(n)]


def test_numeric_labels_advise_bins_and_say_compare_would_not_read_the_text() -> None:
    labels = [str(80 + i % 5) for i in range(100)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_text(
            _texts(100), labels, source="reviews.csv", text_column="description", label_column="points"
        )
    msg = next(
        str(w.message)
        for w in caught
        if issubclass(w.category, DataWarning) and "unordered" in str(w.message)
    )
    assert "pd.qcut(df['points'], 3" in msg and "--label points_band" in msg, msg
    assert "--task regression" in msg and "the text would not be used" in msg, msg


def test_the_empty_text_error_names_every_missing_value_token() -> None:
    texts = _texts(20)
    texts[3] = "#N/A"
    with pytest.raises(DataError) as err:
        prepare_text(texts, ["a", "b"] * 10)
    assert all(t in str(err.value) for t in NA_TOKENS_SHOWN), str(err.value)
