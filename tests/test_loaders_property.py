"""Property-based: the graph loaders (edge lists, label files) and the text loader never crash on bad input.

Whatever bytes they are handed, the only exceptions allowed out are our documented ones
(:class:`HyperselectError` subclasses), and a :class:`DataError` must name the file it is about.  When loading
succeeds the result must be consistent (CSR arrays that agree, positive finite weights, labels that are classes).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperselect.data.graph import read_edgelist, read_labels
from hyperselect.data.text import load_text
from hyperselect.errors import DataError, HyperselectError

_EXPLORE = int(os.environ.get("HYPERSELECT_PROPERTY_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_EXPLORE or 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not _EXPLORE,
    database=None,
)

# node ids that break naive loaders: unicode, RTL, combining marks, look-alike digits, comment and quote chars
NODE_NAMES = [
    "a",
    "0",
    "01",
    "1.0",
    "Zürich",
    "東京",
    "עברית",
    "e\u0301",
    "🙂",
    "n#1",
    '"q"',
    "x'y",
    "NaN",
    "-1",
]
NASTY_WEIGHTS = [
    "1",
    "0.5",
    "0",
    "-1",
    "-0.0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e400",
    "1e-400",
    "9" * 400,
    "abc",
    "",
    "0x1F",
    "1,5",
    "١",  # Arabic-Indic digit one: float() accepts it
    "½",
]
SEPS = ["\t", ",", " ", "  ", ";"]

node = st.one_of(st.sampled_from(NODE_NAMES), st.text(min_size=0, max_size=6))
weight = st.one_of(st.sampled_from(NASTY_WEIGHTS), st.floats(allow_nan=True, allow_infinity=True).map(repr))
row = st.lists(st.one_of(node, weight), min_size=0, max_size=4)
junk_line = st.one_of(st.just(""), st.just("# comment"), st.just("   "), st.text(max_size=20))


@st.composite
def edge_list_text(draw: st.DrawFn) -> str:
    sep = draw(st.sampled_from(SEPS))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["edge", "weighted", "ragged", "junk"]))
        if kind == "edge":
            lines.append(sep.join([draw(node), draw(node)]))
        elif kind == "weighted":
            lines.append(sep.join([draw(node), draw(node), draw(weight)]))
        elif kind == "ragged":
            lines.append(sep.join(draw(row)))
        else:
            lines.append(draw(junk_line))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


@st.composite
def label_text(draw: st.DrawFn) -> str:
    sep = draw(st.sampled_from(SEPS))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["pair", "pair", "ragged", "junk"]))
        if kind == "pair":
            lines.append(sep.join([draw(node), draw(node)]))
        elif kind == "ragged":
            lines.append(sep.join(draw(row)))
        else:
            lines.append(draw(junk_line))
    return "\n".join(lines)


def _call(loader: Callable[[Path], Any], content: bytes, name: str) -> Any:
    """Write ``content`` to ``name`` in a fresh directory and load it: a result, or ``None`` after an allowed
    error (which must name the file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return loader(path)
        except DataError as exc:
            assert name in str(exc), f"DataError does not name the file: {exc}"
            return None
        except HyperselectError:
            return None


def _check_graph(g: Any) -> None:
    assert g.n_nodes >= 1
    assert len(g.indptr) == g.n_nodes + 1 and g.indptr[0] == 0 and g.indptr[-1] == len(g.indices)
    assert len(g.indices) == len(g.weights)
    assert np.all(np.diff(g.indptr) >= 0)
    if len(g.indices):
        assert g.indices.min() >= 0 and g.indices.max() < g.n_nodes
    assert np.all(np.isfinite(g.weights)) and np.all(g.weights > 0)
    assert len(set(g.nodes)) == g.n_nodes


# ------------------------------------------------------------------------------------------------ edge lists
@SETTINGS
@given(content=st.binary(max_size=300))
def test_edgelist_random_bytes(content: bytes) -> None:
    g = _call(read_edgelist, content, "edges.txt")
    if g is not None:
        _check_graph(g)


@SETTINGS
@given(text=edge_list_text(), directed=st.booleans(), weighted=st.sampled_from([None, True, False]))
def test_edgelist_malformed_lines(text: str, directed: bool, weighted: bool | None) -> None:
    g = _call(
        lambda p: read_edgelist(p, directed=directed, weighted=weighted), text.encode("utf-8"), "edges.tsv"
    )
    if g is not None:
        _check_graph(g)
        assert g.directed is directed


@SETTINGS
@given(w=weight)
def test_edgelist_bad_weight_is_rejected_or_finite_positive(w: str) -> None:
    g = _call(read_edgelist, f"a\tb\t1\nb\tc\t{w}\n".encode(), "w.tsv")
    if g is not None:
        _check_graph(g)
        try:
            value = float(w)
        except ValueError:
            raise AssertionError(f"weight {w!r} is not a number but was accepted") from None
        assert math.isfinite(value) and value > 0


@SETTINGS
@given(names=st.lists(st.text(min_size=1, max_size=8).filter(lambda s: s.strip() == s and s), min_size=2))
def test_edgelist_unicode_node_names_round_trip(names: list[str]) -> None:
    names = [n for n in names if not any(c in n for c in "\t,#") and not any(c.isspace() for c in n)]
    names = [
        n for n in names if not (len(n) > 1 and n[0] in "\"'" and n[-1] == n[0])
    ]  # quoted: read unquoted
    if len(names) < 2:
        return
    lines = "\n".join(f"{u}\t{v}" for u, v in itertools.pairwise(names))
    g = _call(read_edgelist, lines.encode("utf-8"), "uni.tsv")
    if g is not None:
        _check_graph(g)
        assert set(g.nodes) == set(names)


def test_edgelist_empty_and_comment_only_files_name_the_file() -> None:
    for content in (b"", b"\n\n", b"# only a comment\n", b"\xef\xbb\xbf"):
        assert _call(read_edgelist, content, "empty.tsv") is None


# ------------------------------------------------------------------------------------------------ label files
@SETTINGS
@given(content=st.binary(max_size=300))
def test_labels_random_bytes(content: bytes) -> None:
    labels = _call(read_labels, content, "labels.txt")
    if labels is not None:
        assert labels.labels and labels.classes == sorted(labels.classes)


@SETTINGS
@given(text=label_text())
def test_labels_malformed_lines(text: str) -> None:
    labels = _call(read_labels, text.encode("utf-8"), "labels.tsv")
    if labels is not None:
        used = {c for v in labels.labels.values() for c in v}
        assert used == set(labels.classes)
        assert all(v and len(set(v)) == len(v) for v in labels.labels.values())


# ------------------------------------------------------------------------------------------------ text loader
cell = st.one_of(
    st.sampled_from(["", " ", "nan", "NA", "null", "01", "1.0", "Zürich", "東京", "🙂", '"', "a,b", "a\nb"]),
    st.text(max_size=12),
)


def _check_text(data: Any) -> None:
    assert len(data.texts) == len(data.labels) >= 2
    assert len(data.classes) >= 2
    assert set(data.labels.tolist()) <= set(data.classes)
    assert all(t.strip() for t in data.texts)


@SETTINGS
@given(
    content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".csv.gz", ".json"])
)
def test_text_random_bytes(content: bytes, suffix: str) -> None:
    data = _call(lambda p: load_text(p, "text", "label"), content, "texts" + suffix)
    if data is not None:
        _check_text(data)


@SETTINGS
@given(
    header=st.lists(st.sampled_from(["text", "label", "id", "Text", "ラベル", "text"]), max_size=4),
    rows=st.lists(st.lists(cell, max_size=5), max_size=8),
    sep=st.sampled_from([",", "\t"]),
    drop_empty=st.booleans(),
)
def test_text_csv_missing_columns_ragged_rows_unicode(
    header: list[str], rows: list[list[str]], sep: str, drop_empty: bool
) -> None:
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    suffix = ".tsv" if sep == "\t" else ".csv"
    data = _call(
        lambda p: load_text(p, "text", "label", drop_empty=drop_empty),
        "\n".join(lines).encode("utf-8"),
        "texts" + suffix,
    )
    if data is not None:
        _check_text(data)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(
    records=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(["text", "label", "x", "ü"]), json_value, max_size=3),
            json_value,
            st.text(max_size=10),  # a line that is not JSON at all
        ),
        max_size=8,
    )
)
def test_text_jsonl_bad_records(records: list[Any]) -> None:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    data = _call(lambda p: load_text(p, "text", "label"), "\n".join(lines).encode("utf-8"), "texts.jsonl")
    if data is not None:
        _check_text(data)


def test_text_empty_and_headerless_files_name_the_file() -> None:
    for content, suffix in ((b"", ".csv"), (b"text,label\n", ".csv"), (b"", ".jsonl"), (b"\n\n", ".jsonl")):
        assert _call(lambda p: load_text(p, "text", "label"), content, "texts" + suffix) is None


def test_text_deeply_nested_json_is_a_data_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    line = '{"text": "a", "label": ' + deep + "}"
    assert _call(lambda p: load_text(p, "text", "label"), line.encode(), "deep.jsonl") is None
