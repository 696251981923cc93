"""What a user audit of ``hyperselect text`` found: a column of numbers read as texts, duplicates and balancing
that emptied the data without a word, warnings shown but not kept (or kept from deep inside scikit-learn), a
one-class prediction named by its code, and Ctrl-C that lost the embeddings and said nothing."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hyperselect.cli import _interrupted_silently
from hyperselect.data.tabular import DataWarning
from hyperselect.data.text import prepare_text, split_text
from hyperselect.errors import DataError
from hyperselect.evaluate.text import _warn_if_constant, model_report
from hyperselect.search.study import _check_constant_prediction
from hyperselect.tasks import Task

runner = CliRunner()


def test_a_column_of_numbers_is_refused_as_texts() -> None:
    """800 wine reviews' `points` lost 98 % of their rows as duplicates, then a verdict was given on 3 test rows."""
    scores = [str(80 + i % 15) for i in range(100)]
    with pytest.raises(DataError, match=r"column 'points' holds numbers, not text \(100% .*'80', '81', '82'"):
        prepare_text(scores, ["a", "b"] * 50, text_column="points", source="w.csv")
    with pytest.raises(DataError, match="holds numbers"):
        prepare_text([f"{i:,}.5" for i in range(1000, 1100)], ["a", "b"] * 50)  # 1,000.5: a number too
    # texts with numbers in them, or a few numeric texts among words, are texts
    prepare_text([f"{i} points, ripe cherry" for i in range(100)], ["a", "b"] * 50)
    prepare_text([*(str(i) for i in range(4)), *(f"note {i}" for i in range(96))], ["a", "b"] * 50)


def test_duplicates_that_remove_most_rows_and_clashing_labels_are_warned() -> None:
    texts = ["red", "white", "rose"] * 20 + [f"review {i}" for i in range(10)]
    with pytest.warns(
        DataWarning, match=r"repeat another row's text and are dropped \(57 of 70; most frequent"
    ):
        d = prepare_text(texts, ["a", "b"] * 35)
    assert d.n_duplicates == 57
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a few duplicates with one label each: no warning
        prepare_text([f"t{i}" for i in range(20)] + ["t0", "t1"], ["a", "b"] * 11)
    with pytest.warns(
        DataWarning,
        match=r"1 text\(s\) of column 'text' occur with different labels \(e.g. 't3' as 'b', 'a'\)",
    ):
        prepare_text([f"t{i}" for i in range(20)] + ["t3"], ["a", "b"] * 10 + ["a"])


def test_balancing_names_the_smallest_class_and_the_split_error_says_what_loading_removed() -> None:
    texts = [f"doc {i}" for i in range(31)]
    labels = ["US"] * 20 + ["Italy"] * 10 + ["Chile"]
    d = prepare_text(texts, labels, balance=True)
    assert "balanced to 1 row per class (28 rows dropped; the smallest class, 'Chile', has 1)" in d.notes
    with pytest.raises(DataError, match=r"have 2 or more rows after loading \(balanced to 1 row per class"):
        split_text(d)


def _report(key: str, pred: np.ndarray, y: np.ndarray, classes: list[str]) -> Any:
    return model_report(key, np.eye(len(classes))[pred], y, classes, ["t"] * len(y))


def test_a_text_model_naming_one_class_is_warned_by_label_with_the_metric_to_use() -> None:
    classes = ["US", "Italy", "Chile"]
    y = np.r_[np.zeros(90, int), np.ones(6, int), np.full(4, 2)]
    r = _report("tfidf_lr", np.zeros(100, int), y, classes)
    with pytest.warns(
        UserWarning,
        match=r"TF-IDF \+ logistic regression predicts 'US' for every one of the 100 test rows: its accuracy 0.900 .* --metric balanced_accuracy",
    ):
        _warn_if_constant(r, y, classes, "accuracy")
    with pytest.warns(UserWarning, match="Even chosen by balanced accuracy it names one class"):
        _warn_if_constant(r, y, classes, "balanced_accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_constant(_report("nb", y, y, classes), y, classes, "accuracy")


def test_the_searchs_one_class_check_raises_no_scikit_learn_warning() -> None:
    """scikit-learn's "y_pred contains classes not in y_true" came out of the check and was kept in the text
    command's notes as a fact of the run."""

    class Data:
        y_test = np.r_[np.zeros(8, int), np.ones(2, int)]
        classes = ["a", "b", "c"]

    logits = torch.tensor([[0.0, 0.0, 5.0]]).repeat(10, 1)  # names 'c', which no test row has
    metrics: dict[str, float] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_constant_prediction(None, logits, Data(), Task.MULTICLASS, metrics)
    assert metrics["test_balanced_accuracy"] == 0.0
    assert [str(w.message)[:60] for w in caught] == [
        "The tuned network (refit on train+valid) predicts 'c' for ev"
    ]


def test_the_text_command_keeps_logged_warnings_in_its_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search that completed no trial's epochs said so on the screen only; the saved notes were empty."""
    import json

    import hyperselect.evaluate.text as text_mod
    import hyperselect.represent.text as rep_mod
    from hyperselect.cli_text import app

    real = text_mod.evaluate_text

    def fake_evaluate(ds: Any, split: Any, **kw: Any) -> Any:
        logging.getLogger("hyperselect.search.study").warning(
            "No trial of study %r completed its epochs", "s"
        )
        return real(ds, split, models=("nb", "tfidf_lr"))

    monkeypatch.setattr(text_mod, "evaluate_text", fake_evaluate)
    monkeypatch.setattr(rep_mod, "SentenceEncoder", lambda *a, **k: None)
    p = tmp_path / "t.csv"
    rows = [
        f'"{w} note {i}",{lab}'
        for i in range(15)
        for w, lab in (("ripe cherry", "red"), ("crisp lemon", "white"))
    ]
    p.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    res = runner.invoke(app, [str(p), "--text", "text", "--label", "label", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "o" / "text_result.json").read_text())["notes"]
    assert "No trial of study 's' completed its epochs" in notes
    assert logging.getLogger("hyperselect").handlers == [] or all(
        type(h).__name__ != "_LogWarnings" for h in logging.getLogger("hyperselect").handlers
    )


def test_ctrl_c_inside_a_command_is_told_unless_the_command_said_it() -> None:
    import typer

    def exit_after_interrupt(handled: bool) -> BaseException:
        """typer: ``raise Exit(130) from`` the interrupt, then sys.exit(130); a command that handled it (tune:
        prints its own message) raises its Exit(130) ``from None``."""
        try:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as e:
                raise typer.Exit(130) from (None if handled else e)
        except typer.Exit:
            try:
                raise SystemExit(130)
            except SystemExit as exc:
                return exc
        raise AssertionError

    assert _interrupted_silently(exit_after_interrupt(handled=False))
    assert not _interrupted_silently(exit_after_interrupt(handled=True))
    assert not _interrupted_silently(SystemExit(130))


def test_a_semicolon_file_read_with_commas_is_told_the_separator(tmp_path: Path) -> None:
    from hyperselect.data.text import load_text

    p = tmp_path / "s.csv"
    p.write_text("description;country\nripe, dark fruit;Italy\ncrisp, dry;US\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"one field holding semicolons: .* pass --sep semicolon"):
        load_text(p, "description", "country")
