"""Bad or awkward input to the text loader, split, encoder and CLI: a clear message or a sensible fallback, never a
library traceback.  Nothing here needs the sentence-transformers model except the one test marked for it; the
CLI runs use a stub comparison or fake embeddings."""

from __future__ import annotations

import gzip
import re
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from testkit import have_text_extra
from typer.testing import CliRunner

import hyperselect.evaluate.text as et
import hyperselect.represent.text as rt
from hyperselect.cli_text import app
from hyperselect.data.splits import SplitWarning
from hyperselect.data.text import load_text, prepare_text, read_text_table, split_text
from hyperselect.errors import ConfigError, DataError
from hyperselect.evaluate.text import TextResult, _fit_sklearn_mlp, fit_network
from hyperselect.represent.text import SentenceEncoder

runner = CliRunner()


def _texts(counts: dict[str, int]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, n in counts.items():
        for i in range(n):
            texts.append(f"{label} words number {i}")
            labels.append(label)
    return texts, labels


def _csv(path: Path, counts: dict[str, int], sep: str = ",") -> Path:
    texts, labels = _texts(counts)
    lines = [f"note{sep}colour"] + [f"{t}{sep}{y}" for t, y in zip(texts, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def stub_evaluate(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the model comparison: the CLI's loading, splitting and messages run for real, in milliseconds."""
    calls: list[dict[str, Any]] = []

    def fake(data: Any, split: Any, **kwargs: Any) -> TextResult:
        calls.append({"data": data, "split": split, **kwargs})
        return TextResult(
            data=data.describe(),
            split=split.sizes(),
            classes=list(data.classes),
            models={},
            verdict="stub verdict",
            verdict_details={},
        )

    monkeypatch.setattr(et, "evaluate_text", fake)
    return calls


def _invoke(*args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "400"})


# ---------------------------------------------------------------------------------------------- 1. rare classes


def test_single_row_class_is_kept_for_training_with_a_warning() -> None:
    texts, labels = _texts({"red": 10, "white": 10, "rose": 1})
    d = prepare_text(texts, labels)
    with pytest.warns(SplitWarning, match=r"'rose' \(1 row\).*--top-classes 2.*top_classes=2"):
        s = split_text(d, test_size=0.2, random_state=0)
    rose = d.classes.index("rose")
    assert (d.y[s.train] == rose).sum() == 1 and not (d.y[s.test] == rose).any()
    assert set(np.unique(d.y[s.train])) == {0, 1, 2}
    parts = np.concatenate([s.train, s.valid, s.test])
    assert sorted(parts.tolist()) == list(range(len(d)))


def test_test_set_smaller_than_the_classes_is_drawn_at_random_with_a_warning() -> None:
    texts, labels = _texts({f"k{i:02d}": 4 for i in range(15)})
    d = prepare_text(texts, labels)
    with pytest.warns(SplitWarning, match=r"12 row\(s\).*15 classes.*--test-size of 0\.25"):
        s = split_text(d, test_size=0.2, random_state=0)
    assert len(s.test) == 12 and set(np.unique(d.y[s.train])) == set(range(15))


def test_valid_set_smaller_than_the_classes_does_not_crash() -> None:
    # 20 classes x 5 rows: the test cut holds one of each, but 10% of the rest (8 rows) cannot
    texts, labels = _texts({f"k{i:02d}": 5 for i in range(20)})
    d = prepare_text(texts, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the valid cut is internal: no warning for it
        s = split_text(d, test_size=0.2, valid_size=0.1, random_state=0)
    assert len(s.test) == 20 and len(s.valid) == 8
    assert set(np.unique(d.y[s.train])) == set(range(20))


def test_split_without_rare_classes_is_sklearns_stratified_split() -> None:
    from sklearn.model_selection import train_test_split

    texts, labels = _texts({"a": 30, "b": 17, "c": 9})
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.2, valid_size=0.1, random_state=4)
    rest, test = train_test_split(np.arange(len(d)), test_size=0.2, stratify=d.y, random_state=4)
    _train, valid = train_test_split(
        np.sort(rest), test_size=0.1, stratify=d.y[np.sort(rest)], random_state=4
    )
    assert s.test.tolist() == sorted(test.tolist()) and s.valid.tolist() == sorted(valid.tolist())


def test_split_refuses_what_it_cannot_mend() -> None:
    d = prepare_text(*_texts({"red": 10, "white": 1}))
    with pytest.raises(DataError, match=r"only 1 of the 2 classes.*'white' \(1 row\)"):
        split_text(d)
    d = prepare_text(*_texts({"a": 2, "b": 2, "c": 2}))
    with pytest.raises(DataError, match=r"test_size=0\.9 takes 6 of the 6 rows.*--test-size"):
        split_text(d, test_size=0.9)


def test_cli_single_row_class_warns_and_runs(tmp_path: Path, stub_evaluate: list[dict[str, Any]]) -> None:
    p = _csv(tmp_path / "rare.csv", {"red": 10, "white": 10, "rose": 1})
    res = _invoke(p, "--text", "note", "--label", "colour", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "'rose' (1 row)" in res.output and "--top-classes 2" in res.output
    assert "Traceback" not in res.output and stub_evaluate
    import json

    notes = json.loads((tmp_path / "out" / "text_result.json").read_text())["notes"]
    assert [n for n in notes if "'rose' (1 row)" in n]  # the warning printed is kept with the result


def test_cli_binary_with_a_single_row_class_is_a_clear_error(tmp_path: Path) -> None:
    p = _csv(tmp_path / "two.csv", {"red": 10, "white": 1})
    res = _invoke(p, "--text", "note", "--label", "colour")
    assert res.exit_code == 1
    assert "two.csv" in res.output and "'white' (1 row)" in res.output and "Traceback" not in res.output


# ------------------------------------------------------------------------------------------ 2. max_seq_length


@pytest.mark.parametrize("value", ["0", "-3"])
def test_cli_max_seq_length_below_1_is_refused_while_parsing(tmp_path: Path, value: str) -> None:
    p = _csv(tmp_path / "w.csv", {"red": 5, "white": 5})
    res = _invoke(p, "--text", "note", "--label", "colour", f"--max-seq-length={value}")
    assert res.exit_code == 2 and "--max-seq-length" in res.output and "1 or more" in res.output


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_encoder_max_seq_length_must_be_a_positive_int(value: Any) -> None:
    with pytest.raises(ConfigError, match="'max_seq_length' parameter of SentenceEncoder"):
        SentenceEncoder(max_seq_length=value)


class _FakeST(list):  # type: ignore[type-arg]
    """Enough of a SentenceTransformer for the ``model`` property: indexable modules, ``max_seq_length``."""

    max_seq_length = 256


def test_encoder_max_seq_length_above_the_model_limit_is_lowered_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def load(model: Any, *, device: str) -> tuple[Any, str]:
        kind = "roberta" if model == "roberta-like" else "bert"
        config = SimpleNamespace(max_position_embeddings=514 if kind == "roberta" else 512, model_type=kind)
        config.pad_token_id = 1
        return _FakeST([SimpleNamespace(auto_model=SimpleNamespace(config=config))]), str(model)

    monkeypatch.setattr(rt, "load_sentence_model", load)
    for name in ("bert-like", "roberta-like"):
        enc = SentenceEncoder(name, max_seq_length=100_000, progress=False)
        with pytest.warns(UserWarning, match=r"max_seq_length=100000 .*\(512 word pieces\); using 512"):
            assert enc.model.max_seq_length == 512
    ok = SentenceEncoder("bert-like", max_seq_length=300, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ok.model.max_seq_length == 300  # above the default 256 but within the position embeddings


@pytest.mark.skipif(not have_text_extra(), reason="the [text] extra is not installed")
def test_encoder_long_text_with_huge_max_seq_length_encodes(tmp_path: Path) -> None:
    enc = SentenceEncoder(max_seq_length=100_000, cache_dir=tmp_path, progress=False, backend="torch")
    with pytest.warns(UserWarning, match="using 512"):
        out = enc.encode(["word " * 2000])
    assert out.shape == (1, 384) and np.isfinite(out).all()


# ----------------------------------------------------------------------------- 3. hints in the CLI's spelling


def test_empty_text_hint_names_the_cli_flag_and_the_flag_works(
    tmp_path: Path, stub_evaluate: list[dict[str, Any]]
) -> None:
    p = tmp_path / "e.csv"
    texts, labels = _texts({"red": 6, "white": 6})
    rows = [f"{t},{y}" for t, y in zip(texts, labels, strict=True)]
    rows.insert(3, ",red")
    p.write_text("note,colour\n" + "\n".join(rows) + "\n", encoding="utf-8")
    res = _invoke(p, "--text", "note", "--label", "colour")
    assert res.exit_code == 1 and "--drop-empty" in res.output and "data row(s) 4" in res.output
    res = _invoke(p, "--text", "note", "--label", "colour", "--drop-empty")
    assert res.exit_code == 0, res.output
    assert "dropped 1 empty or missing text(s)" in res.output and len(stub_evaluate[0]["data"]) == 12


def test_tab_separated_csv_is_named_readably_and_sep_reads_it(
    tmp_path: Path, stub_evaluate: list[dict[str, Any]]
) -> None:
    p = _csv(tmp_path / "tabs.csv", {"red": 6, "white": 6}, sep="\t")
    res = _invoke(p, "--text", "note", "--label", "colour")
    assert res.exit_code == 1
    assert "'note<tab>colour'" in res.output and "\\t" + "colour" not in res.output
    assert "--sep tab" in res.output
    res = _invoke(p, "--text", "note", "--label", "colour", "--sep", "tab")
    assert res.exit_code == 0, res.output
    with pytest.raises(DataError, match=r"'note,colour'.*comma-separated: pass --sep comma"):
        load_text(_csv(tmp_path / "commas.tsv", {"a": 2, "b": 2}), "note", "colour")


# ------------------------------------------------------------------------------------------------ 4. encodings


def _latin1_late(path: Path, n: int = 3000) -> tuple[Path, int]:
    """A file whose only non-UTF-8 byte sits far past the first read buffer; returns it and that line."""
    lines = ["note,colour"] + [f"{'word ' * 20}{i},{'red' if i % 2 else 'white'}" for i in range(n)]
    lines.append("un caf\xe9 noir,red")
    data = ("\n".join(lines) + "\n").encode("latin-1")
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path, len(lines)


@pytest.mark.parametrize("name", ["late.csv", "late.csv.gz"])
def test_undecodable_byte_names_its_own_line_and_column(tmp_path: Path, name: str) -> None:
    p, line = _latin1_late(tmp_path / name)
    assert p.stat().st_size > 65536 or name.endswith(".gz")
    with pytest.raises(
        DataError, match=rf"{name}:{line}: not utf-8 text \(byte b'\\xe9' at column 7\).*--encoding"
    ):
        load_text(p, "note", "colour")
    d = load_text(p, "note", "colour", encoding="latin-1")
    assert d.texts[-1] == "un café noir"


def test_undecodable_byte_in_jsonl_names_its_line(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"note": "a", "colour": "x"}\n' * 2000 + b'{"note": "caf\xe9", "colour": "y"}\n')
    with pytest.raises(DataError, match=r"t\.jsonl:2001: not utf-8 text \(byte b'\\xe9' at column 14\)"):
        read_text_table(p)


def test_byte_order_marks_and_unknown_encoding(tmp_path: Path) -> None:
    body = "note,colour\ncafé,a\nthé,b\n"
    bom8 = tmp_path / "bom8.csv"
    bom8.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert list(read_text_table(bom8).columns) == ["note", "colour"]
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(body.encode("utf-16"))  # with its byte-order mark
    df = read_text_table(u16)
    assert list(df.columns) == ["note", "colour"] and df["note"].tolist() == ["café", "thé"]
    with pytest.raises(ConfigError, match="Unknown encoding 'nope'"):
        read_text_table(bom8, encoding="nope")


def test_cli_encoding_option(tmp_path: Path, stub_evaluate: list[dict[str, Any]]) -> None:
    p, _ = _latin1_late(tmp_path / "late.csv", n=40)
    res = _invoke(p, "--text", "note", "--label", "colour")
    assert res.exit_code == 1 and "late.csv:42:" in res.output and "--encoding latin-1" in res.output
    res = _invoke(p, "--text", "note", "--label", "colour", "--encoding", "latin-1")
    assert res.exit_code == 0, res.output


# ----------------------------------------------------------------------------------- 5. the sklearn MLP stand-in


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_mlp_stand_in_turns_early_stopping_off_for_a_rare_class() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    y = np.array([0] * 20 + [1])  # the training rows: class 1 has a single row
    proba, details = _fit_sklearn_mlp(
        X[:21], y, X[21:25], np.array([0, 0, 1, 0]), X[25:], random_state=0, reason="test"
    )
    assert proba.shape == (5, 2) and np.allclose(proba.sum(1), 1.0)
    assert details["early_stopping"] is False and "1 training row" in details["early_stopping_off"]
    ok = np.array([0, 1] * 15)
    _, details = _fit_sklearn_mlp(X, ok, X[:6], ok[:6], X[:3], random_state=0, reason="test")
    assert details["early_stopping"] is True and "early_stopping_off" not in details
    _, details = _fit_sklearn_mlp(X, ok, X[:0], ok[:0], X[:3], random_state=0, reason="test")
    assert details["valid_accuracy"] == {}  # no validation rows: nothing to choose on, no crash


def test_fit_network_keeps_the_given_valid_rows_for_a_rare_class() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    y = np.array([0, 1] * 17 + [2] + [0, 1] * 7 + [0])  # class 2: one training row, none anywhere else
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)  # no unstratified re-draw behind the caller's back
        proba, details = fit_network(
            X[:35], y[:35], X[35:42], y[35:42], X[42:], y[42:], 3, n_trials=1, timeout=20, max_epochs=3
        )
    assert proba.shape == (8, 3) and details["valid_rows"] == "as given"
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


# ----------------------------------------------------------------------------------------- other bad input


def test_empty_headerless_and_unlabelled_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv: is empty; expected a header line"):
        load_text(empty, "note", "colour")
    header = tmp_path / "header.csv"
    header.write_text("note,colour\n")
    with pytest.raises(DataError, match=r"header\.csv: has no rows below its header line"):
        load_text(header, "note", "colour")
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("note,colour\na,\nb,\n")
    with pytest.raises(DataError, match=r"every row's label in column 'colour' is empty"):
        load_text(unlabelled, "note", "colour")


def test_same_text_and_label_column_is_refused(tmp_path: Path) -> None:
    p = _csv(tmp_path / "w.csv", {"a": 3, "b": 3})
    with pytest.raises(ConfigError, match="text and the label column are both 'note'"):
        load_text(p, "note", "note")


def test_unquoted_delimiter_in_a_text_hints_at_quoting(tmp_path: Path) -> None:
    p = tmp_path / "q.csv"
    p.write_text("note,colour\nplain,red\nred, ripe and round,red\n")
    with pytest.raises(DataError, match=r"q\.csv:3: 3 fields where the header has 2; .*double quotes"):
        load_text(p, "note", "colour")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--test-size", "0"),
        ("--test-size", "1"),
        ("--trials", "0"),
        ("--timeout", "0"),
        ("--timeout", "ten minutes"),
        ("--top-classes", "1"),
        ("--backend", "tensorrt"),
    ],
)
def test_cli_bad_option_values_exit_2(tmp_path: Path, option: str, value: str) -> None:
    p = _csv(tmp_path / "w.csv", {"red": 5, "white": 5})
    res = _invoke(p, "--text", "note", "--label", "colour", option, value)
    assert res.exit_code == 2 and option in res.output, res.output


def test_cli_cache_dir_that_is_a_file_exits_2(tmp_path: Path) -> None:
    p = _csv(tmp_path / "w.csv", {"red": 5, "white": 5})
    res = _invoke(p, "--text", "note", "--label", "colour", "--cache-dir", p)
    assert res.exit_code == 2 and "is a file" in res.output


# ----------------------------------------------------------------- 4. one string, missing texts, caller's name


def _no_model(monkeypatch: pytest.MonkeyPatch) -> SentenceEncoder:
    """An encoder whose model must not load: the input is refused before any work."""

    def load(model: Any, *, device: str) -> tuple[Any, str]:
        raise AssertionError("the model was loaded for input that should have been refused")

    monkeypatch.setattr(rt, "load_sentence_model", load)
    return SentenceEncoder(progress=False, use_cache=False)


@pytest.mark.parametrize("one", ["hello world", b"hello world"])
def test_encoder_refuses_a_lone_string_instead_of_embedding_its_characters(
    monkeypatch: pytest.MonkeyPatch, one: Any
) -> None:
    enc = _no_model(monkeypatch)
    with pytest.raises(ConfigError, match=r"'texts' parameter of SentenceEncoder.encode.*encode\(\[text\]\)"):
        enc.encode(one)


def test_encoder_refuses_missing_texts_naming_their_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    enc = _no_model(monkeypatch)
    with pytest.raises(DataError, match=r"2 missing text\(s\) \(None or NaN\) at position\(s\) 0, 3 "):
        enc.encode([None, "None", "", float("nan"), "nan"])
    column = pd.Series(["a note", None, "another"], dtype=object)
    with pytest.raises(DataError, match=r"position\(s\) 1 .*dropna"):
        enc.encode(column)
    with pytest.raises(DataError, match=r"position\(s\) 0 "):
        enc.encode(pd.array([pd.NA, "x"], dtype="string"))


def test_prepare_text_refuses_a_lone_string() -> None:
    with pytest.raises(ConfigError, match=r"'texts' parameter of prepare_text must be a sequence.*got a str"):
        prepare_text("just one text", ["a"])
    with pytest.raises(ConfigError, match=r"'labels' parameter of prepare_text.*got a str"):
        prepare_text(["one text", "two texts"], "ab")


def test_a_lone_string_is_refused_in_one_wording_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = _no_model(monkeypatch)
    with pytest.raises(ConfigError) as encoded:
        enc.encode("hello")
    with pytest.raises(ConfigError) as prepared:
        prepare_text(["one text", "two texts"], "ab")
    assert str(encoded.value) == (
        "The 'texts' parameter of SentenceEncoder.encode must be a sequence of strings (a list, a pandas Series, "
        "...); got a str of 5 characters, which would be read as 5 one-character texts. Wrap one text in a "
        "list: encode([text])."
    )
    assert str(prepared.value) == (
        "The 'labels' parameter of prepare_text must be a sequence (a list, a pandas Series, ...) with one entry "
        "per row; got a str of 2 characters, which would be read as 2 one-character labels. Wrap a single entry "
        "in a list."
    )


def test_missing_means_the_same_to_the_loader_and_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """None, any float NaN, pandas' NA and NaT are missing to both; a missing-value token ("N/A") only in a
    loaded cell, as the encoder takes a string as written."""
    import pandas as pd

    from hyperselect.data.text import is_missing, text_or_missing

    missing = [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT]
    assert all(is_missing(v) and text_or_missing(v) == "" for v in missing)
    assert not is_missing("N/A") and text_or_missing(" N/A ") == ""
    assert not any(is_missing(v) for v in ("", "nan", 0, 0.0))
    with pytest.raises(DataError, match=r"^SentenceEncoder.encode: 5 missing text\(s\) .* 0, 1, 2, 3, 4 \("):
        _no_model(monkeypatch).encode([*missing, "N/A"])
    texts, labels = _texts({"red": 4, "white": 4})
    d = prepare_text(texts + missing + ["N/A"], labels + ["red"] * 6, drop_empty=True)
    assert d.texts == texts and "dropped 6 empty or missing text(s)" in d.notes
    d = prepare_text([*texts, "x1", "x2", "x3"], [*labels, pd.NA, pd.NaT, np.float32("nan")])
    assert d.texts == texts and d.n_missing_label == 3


def test_option_errors_name_the_function_called(tmp_path: Path) -> None:
    texts, labels = _texts({"red": 3, "white": 3})
    with pytest.raises(ConfigError, match=r"'top_classes' parameter of prepare_text must be"):
        prepare_text(texts, labels, top_classes=0)
    with pytest.raises(ConfigError, match=r"'balance' parameter of prepare_text must be"):
        prepare_text(texts, labels, balance=0)
    path = _csv(tmp_path / "notes.csv", {"red": 3, "white": 3})
    with pytest.raises(ConfigError, match=r"'top_classes' parameter of load_text must be"):
        load_text(path, "note", "colour", top_classes=0)


def test_option_and_split_messages_follow_the_one_template() -> None:
    texts, labels = _texts({"red": 3, "white": 3})
    refused = [
        (
            {"top_classes": 1},
            "The 'top_classes' parameter of prepare_text must be None or an int in [2, inf). Got 1.",
        ),
        (
            {"top_classes": True},
            "The 'top_classes' parameter of prepare_text must be None or an int in [2, inf).",
        ),
        (
            {"top_classes": 2.0},
            "The 'top_classes' parameter of prepare_text must be None or an int in [2, inf).",
        ),
        (
            {"balance": 0},
            "The 'balance' parameter of prepare_text must be an int in [1, inf) or a bool. Got 0.",
        ),
        ({"balance": 1.5}, "The 'balance' parameter of prepare_text must be an int in [1, inf) or a bool."),
        ({"top_classes": 0, "balance": 0}, "The 'top_classes' parameter"),  # named first, as before
    ]
    for kwargs, message in refused:
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
            prepare_text(texts, labels, **kwargs)
    for kwargs, n in (({"top_classes": None, "balance": True}, 6), ({"top_classes": 2, "balance": 2}, 4)):
        assert len(prepare_text(texts, labels, **kwargs)) == n
    d = prepare_text(texts, labels)
    for kwargs, message in [
        ({"test_size": 1.0}, "The 'test_size' parameter of split_text must be a float in [0, 1). Got 1.0."),
        (
            {"valid_size": -0.1},
            "The 'valid_size' parameter of split_text must be a float in [0, 1). Got -0.1.",
        ),
        ({"test_size": float("nan")}, "The 'test_size' parameter of split_text must be a float in [0, 1)."),
        ({"test_size": 2, "valid_size": 2}, "The 'test_size' parameter"),  # named first, as before
        (
            {"test_size": "0.2"},
            "The 'test_size' parameter of split_text must be a float in [0, 1). Got '0.2'.",
        ),
    ]:
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
            split_text(d, **kwargs)


def test_a_delimiter_ending_every_line_does_not_shift_the_columns(tmp_path: Path) -> None:
    """One empty field too many per row made pandas take the first column for an index: every column name
    moved by one ("every row's label is empty", or the texts read as labels)."""
    from hyperselect.data.text import load_text

    path = tmp_path / "trail.csv"
    path.write_text("text,label\nthe match was won,sport,\nthe vote was lost,politics,\n", encoding="utf-8")
    data = load_text(path, "text", "label")
    assert list(data.texts) == ["the match was won", "the vote was lost"]
    assert list(data.labels) == ["sport", "politics"]


def test_labels_differing_only_in_case_are_warned_about() -> None:
    from hyperselect.data.tabular import DataWarning
    from hyperselect.data.text import prepare_text

    texts = [f"text {i}" for i in range(8)]
    with pytest.warns(DataWarning, match=r"differ only in upper/lower case.*'sport' / 'Sport'"):
        prepare_text(texts, ["sport", "Sport", "politics", "sport", "politics", "sport", "politics", "sport"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cr.csv", "text,label\rhello world,a\rbye now,b\r"),
        ("blank.csv", "\ntext,label\nhello world,a\nbye now,b\n"),
    ],
)
def test_the_extra_field_check_reads_what_pandas_reads(tmp_path: Path, name: str, content: str) -> None:
    """CR-only line ends crashed the check with csv.Error; a blank first line was "2 fields where the header has
    0" (review)."""
    from hyperselect.data.text import load_text

    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    data = load_text(path, "text", "label")
    assert list(data.texts) == ["hello world", "bye now"] and list(data.labels) == ["a", "b"]
