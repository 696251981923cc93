"""Graph input: edge lists, label files, networkx / scipy conversion, and the errors and warnings they raise."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hyperselect.data.graph import (
    GraphDataWarning,
    from_networkx,
    from_scipy_sparse,
    read_edgelist,
    read_labels,
)
from hyperselect.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphs"
nx = pytest.importorskip("networkx")


def _write(tmp_path: Path, text: str, name: str = "g.edg") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", ["\t", ",", " ", "  "])
def test_separators_and_node_order(tmp_path: Path, sep: str) -> None:
    g = read_edgelist(_write(tmp_path, f"b{sep}a\na{sep}c\n# comment\n\nc{sep}d\n"))
    assert g.nodes == ["b", "a", "c", "d"]  # order of first appearance = embedding row order
    assert g.n_edges == 3 and not g.directed and not g.weighted
    assert sorted(g.neighbors("a")) == ["b", "c"]
    a = g.to_scipy()
    assert (a != a.T).nnz == 0


def test_weighted_directed(tmp_path: Path) -> None:
    g = read_edgelist(_write(tmp_path, "a b 2.5\nb c 1\nc a 0.5\n"), directed=True)
    assert g.weighted and g.directed and g.n_edges == 3
    assert g.neighbors("a") == ["b"]
    assert g.weights[g.indptr[0]] == 2.5


def test_duplicates_merged_with_count_and_self_loops(tmp_path: Path) -> None:
    path = _write(tmp_path, "a\tb\t1\na\tb\t2\nb\tb\t1\nb\tc\t1\nc\tb\t1\n")
    with pytest.warns(GraphDataWarning) as record:
        g = read_edgelist(path)
    messages = " ".join(str(w.message) for w in record)
    assert "1 duplicate edge(s) merged" in messages and "1 self-loop(s)" in messages
    assert g.report["duplicate_edges_merged"] == 1
    assert g.report["edges_listed_both_directions"] == 1  # b-c listed both ways with equal weight: one edge
    assert g.weights[g.indptr[g.index_of("a")]] == 3.0
    assert g.n_edges == 3
    assert "their weights summed" in messages
    # without a weight column walks treat every edge alike: a repeat changes nothing, and the warning says so
    with pytest.warns(GraphDataWarning, match="1 duplicate edge.*kept once.*give each line a weight"):
        g = read_edgelist(_write(tmp_path, "a\tb\na\tb\nb\tc\n", "u.tsv"))
    assert not g.weighted


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a b 1\nb c -2\n", ":2: weight '-2' must be a finite number > 0"),
        ("a b 1\nb c nan\n", ":2: weight 'nan'"),
        ("a b 1\nb c heavy\n", ":2: weight 'heavy' is not a number"),
        ("a b\nb c 1\n", ":2: expected 2 columns like the first data line, found 3"),
        ("a b c d\n", ":1: expected 2 columns (u v) or 3 (u v weight), found 4"),
        ("# only a comment\n\n", "is empty"),
    ],
)
def test_bad_edge_files_name_the_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as exc:
        read_edgelist(path)
    assert fragment in str(exc.value)
    assert str(path) in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_edgelist(tmp_path / "nope.edg")


def test_labels_multilabel_and_label_only_nodes(tmp_path: Path) -> None:
    g = read_edgelist(_write(tmp_path, "a b\nb c\n"))
    lab = read_labels(_write(tmp_path, "a\tx\na\ty\nb\tx\nz\ty\n", "l.tsv"))
    assert lab.multilabel and lab.classes == ["x", "y"] and lab.labels["a"] == ("x", "y")
    with pytest.warns(GraphDataWarning, match="1 labelled node"):
        rows, y = lab.align(g.nodes)
    assert [g.nodes[r] for r in rows] == ["a", "b"]
    assert y.tolist() == [[1, 1], [1, 0]]
    with pytest.raises(DataError, match=":2: expected 2 columns"):
        read_labels(_write(tmp_path, "a\tx\nb\n", "bad.tsv"))


def test_from_networkx_sides_and_isolated() -> None:
    g = from_networkx(nx.davis_southern_women_graph())
    assert g.n_nodes == 32 and g.n_edges == 89
    sides = g.bipartite_sides()
    assert sides is not None and sorted(np.bincount(sides).tolist()) == [14, 18]
    h = nx.path_graph(3)
    h.add_node("lonely")
    with pytest.warns(GraphDataWarning, match="1 node"):
        gh = from_networkx(h)
    assert gh.isolated == ["lonely"] and gh.report["isolated_nodes"] == 1


def test_weighted_networkx_karate() -> None:
    g = from_networkx(nx.karate_club_graph())
    assert g.weighted and g.n_edges == 78
    assert g.bipartite_sides() is None


def test_from_scipy_sparse_symmetric_and_directed() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    a = sparse.csr_matrix(np.array([[0, 1, 2], [1, 0, 0], [2, 0, 0]], dtype=float))
    g = from_scipy_sparse(a, ["x", "y", "z"])
    assert not g.directed and g.n_edges == 2 and g.nodes == ["x", "y", "z"]
    d = from_scipy_sparse(sparse.csr_matrix(np.array([[0, 1], [0, 0]], dtype=float)))
    assert d.directed and d.n_edges == 1
    with pytest.raises(DataError, match="finite number >= 0"):
        from_scipy_sparse(sparse.csr_matrix(np.array([[0, -1], [-1, 0]], dtype=float)))


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared graph data not found at {SHARED}")
def test_shared_ppi_loads_with_self_loop_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = read_edgelist(SHARED / "PPI" / "PPI.edg")
    assert g.n_nodes == 3852 and g.n_edges == 38705 and g.report["self_loops"] == 864
    assert any("864 self-loop" in str(w.message) for w in caught)
    lab = read_labels(SHARED / "PPI" / "PPI.labels.tsv")
    assert len(lab.classes) == 50 and lab.multilabel


@pytest.mark.parametrize(
    "text",
    [
        "source,target,weight\na,b,1\nb,c,2\n",
        "source target\na b\nb c\n",
        "# exported\nnode1\tnode2\na\tb\nb\tc\n",
    ],
)
def test_header_row_is_not_an_edge(tmp_path: Path, text: str) -> None:
    path = tmp_path / "g.edg"
    path.write_text(text, encoding="utf-8")
    with pytest.warns(GraphDataWarning, match="read as a header row"):
        g = read_edgelist(path)
    assert sorted(g.nodes) == ["a", "b", "c"] and g.n_edges == 2


def test_a_first_line_of_other_column_names_is_flagged(tmp_path: Path) -> None:
    # "person,event" is no word the header check knows: read as an edge it is a two-node component of its own
    path = tmp_path / "g.csv"
    path.write_text("person,event\nann,e1\nbob,e1\nbob,e2\n", encoding="utf-8")
    with pytest.warns(GraphDataWarning, match=r"g\.csv:1: the first line 'person,event' links two nodes"):
        g = read_edgelist(path)
    assert g.n_edges == 4  # flagged, not dropped: it may be a real edge
    path.write_text("ann,e1\nbob,e1\ncid,e9\n", encoding="utf-8")  # a lone pair later is no header
    with warnings.catch_warnings():
        # (it is a second connected component, which is said, but not as a header)
        warnings.filterwarnings("error", message=".*links two nodes", category=GraphDataWarning)
        read_edgelist(path)
    path.write_text("ann,e1\n", encoding="utf-8")  # one edge: nothing to tell it from
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphDataWarning)
        read_edgelist(path)


def test_label_header_row_is_not_a_label(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("node\tlabel\na\tx\nb\ty\n", encoding="utf-8")
    with pytest.warns(GraphDataWarning, match="read as a header row"):
        lab = read_labels(path)
    assert lab.classes == ["x", "y"] and "node" not in lab.labels


def test_nodes_that_happen_to_be_words_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "g.edg"
    path.write_text("alice bob\nbob carol\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = read_edgelist(path)
    assert sorted(g.nodes) == ["alice", "bob", "carol"]


def test_undecodable_byte_names_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "g.edg"
    body = b"".join(f"n{i} n{i + 1}\n".encode() for i in range(5000))  # past any decode buffer
    path.write_bytes(body + "Zürich n0\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"g\.edg:5001: not UTF-8 text .*column 2"):
        read_edgelist(path)
    labels = tmp_path / "labels.tsv"
    labels.write_bytes(b"a\tx\n" + "b\tcafé\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"labels\.tsv:2: not UTF-8"):
        read_labels(labels)


def test_inline_comments_and_quoted_ids(tmp_path: Path) -> None:
    """A '#' after whitespace starts a comment; ids in matching quotes lose them; '#' and "'" inside ids stay."""
    text = (
        "a b 2  # met twice\n"
        '"New York" Boston 1\n'
        "'x' y 3\t# quoted\n"
        "O'Brien C# 1\n"
        "\"#tag\" a 1 # an id starting with '#', quoted\n"
    )
    g = read_edgelist(_write(tmp_path, text))
    assert g.nodes == ["a", "b", "New York", "Boston", "x", "y", "O'Brien", "C#", "#tag"]
    assert g.weighted and g.n_edges == 5
    assert g.weights[g.indptr[g.index_of("a")]] == 2.0
    with pytest.warns(GraphDataWarning, match="first line"):  # a lone pair on line 1 could be a header
        csv = read_edgelist(
            _write(tmp_path, '"Smith, J","Doe, K"\nDoe K,a # comma inside a comment, ok\n', "c.csv")
        )
    assert csv.nodes == ["Smith, J", "Doe, K", "Doe K", "a"]
    lab = read_labels(_write(tmp_path, "a\tx  # checked by hand\n\"New York\"\t'city'\n", "l.tsv"))
    assert lab.labels == {"a": ("x",), "New York": ("city",)} and lab.classes == ["city", "x"]


def test_a_comment_that_eats_a_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "a b\nc #tag\n")
    with pytest.raises(
        DataError, match=r":2: expected 2 columns .*found 1.*quote an id that begins with '#'"
    ):
        read_edgelist(path)
    with pytest.raises(DataError, match=r":1: expected 2 columns \(node label\), found 1.*starts a comment"):
        read_labels(_write(tmp_path, "a #x\n", "l.tsv"))


def test_directed_sinks_are_not_called_unembeddable(tmp_path: Path) -> None:
    """In a directed graph a node with in-edges but no out-edge ends walks and is embedded from them."""
    path = _write(tmp_path, "a b\nb c\nc a\nc d\nd e\n")
    with pytest.warns(GraphDataWarning) as record:
        g = read_edgelist(path, directed=True)
    messages = " ".join(str(w.message) for w in record)
    assert "1 node(s) with incoming but no outgoing edges (e.g. ['e'])" in messages
    assert "cannot be embedded" not in messages
    assert g.sinks == ["e"] and g.isolated == []
    assert g.report["sink_nodes"] == 1 and g.report["isolated_nodes"] == 0
    lonely = nx.DiGraph([("a", "b")])
    lonely.add_node("z")
    with pytest.warns(
        GraphDataWarning, match=r"1 node\(s\) with no edge in either direction .*\['z'\].*cannot"
    ):
        d = from_networkx(lonely)
    assert d.isolated == ["z"] and d.sinks == ["b"]


def test_edge_list_columns_declare_the_sides(tmp_path: Path) -> None:
    people = read_edgelist(_write(tmp_path, "ann\tE1\nann\tE2\nbob\tE2\ncid\tE3\n"))
    sides = people.bipartite_sides()
    assert sides is not None and sides.tolist() == [0, 1, 1, 0, 0, 1]
    assert people.sides_from is not None and "the two columns of" in people.sides_from
    # a tree written parent -> child has nodes in both columns: 2-colourable, but not declared bipartite
    tree = read_edgelist(_write(tmp_path, "r\ta\nr\tb\na\tc\na\td\nb\te\n", "tree.edg"))
    assert tree.bipartite_sides() is None and tree.sides_from is None
    colour = tree.two_colouring()
    assert colour is not None and colour[tree.index_of("r")] != colour[tree.index_of("a")]
    # a star written hub -> leaf: one column has a single node, which would have no peers
    star = read_edgelist(_write(tmp_path, "hub\t1\nhub\t2\nhub\t3\n", "star.edg"))
    assert star.bipartite_sides() is None
    assert from_networkx(nx.path_graph(6)).bipartite_sides() is None
    assert from_networkx(nx.cycle_graph(5)).two_colouring() is None


def test_networkx_weight_that_is_not_a_number_names_the_edge() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", weight="heavy")
    with pytest.raises(DataError, match=r"networkx edge \('a', 'b'\) has weight 'heavy'; expected a number"):
        from_networkx(g)
    with pytest.raises(DataError, match="from_networkx expects a networkx graph; got list"):
        from_networkx([("a", "b")])


def test_unweighted_does_not_read_the_third_column(tmp_path: Path) -> None:
    """``--unweighted`` is documented for a third column that is no weight (a timestamp): it was still parsed
    as a weight, so a date, an id or a 0 flag was refused."""
    from hyperselect.data.graph import read_edgelist

    path = tmp_path / "events.csv"
    path.write_text("u1;i1;2024-01-01\nu1;i2;0\nu2;i1;x17\n", encoding="utf-8")
    graph = read_edgelist(path, delimiter=";", weighted=False)
    assert graph.n_edges == 3 and not graph.weighted
    with pytest.raises(DataError, match=r"events.csv:1: weight '2024-01-01' is not a number"):
        read_edgelist(path, delimiter=";")


def test_a_one_column_edge_list_with_semicolons_names_the_separator(tmp_path: Path) -> None:
    from hyperselect.data.graph import read_edgelist

    path = tmp_path / "events.csv"
    path.write_text("u1;i1\nu1;i2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"found 1: 'u1;i1'\. The line holds ';'.*delimiter=';' \(--sep ';'"):
        read_edgelist(path)


def test_weights_whose_sum_overflows_are_refused(tmp_path: Path) -> None:
    """Each weight passed "finite > 0", but their sums overflowed: a NumPy overflow warning and walk
    probabilities silently wrong (a barely reachable node came back 0.97 similar)."""
    from hyperselect.data.graph import read_edgelist

    path = tmp_path / "big.tsv"
    path.write_text("a\tb\t1e308\nb\tc\t1e308\nc\ta\t1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"big.tsv: the edge weights add up to more than the largest float"):
        read_edgelist(path)
