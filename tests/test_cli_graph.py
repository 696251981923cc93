"""``hyperselect graph``: thin commands tested with typer's runner on tiny edge files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nx = pytest.importorskip("networkx")
pytest.importorskip("numba")
pytest.importorskip("gensim")

from testkit import flat as _flat  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hyperselect.cli_graph import app  # noqa: E402

runner = CliRunner()
FAST = ["--dimensions", "8", "--num-walks", "5", "--epochs", "1", "--ensemble", "2", "--workers", "1"]


@pytest.fixture()
def davis(tmp_path: Path) -> tuple[Path, Path]:
    g = nx.davis_southern_women_graph()
    edges = tmp_path / "davis.edg"
    edges.write_text("".join(f"{u.replace(' ', '_')}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "davis.labels.tsv"
    sides = {
        u.replace(" ", "_"): ("woman" if d["bipartite"] == 0 else "event") for u, d in g.nodes(data=True)
    }
    labels.write_text(
        "".join(f"{u}\t{s}\n" for u, s in sides.items()) + "Ghost_Member\twoman\n", encoding="utf-8"
    )
    return edges, labels


def test_similar_writes_json(davis: tuple[Path, Path], tmp_path: Path) -> None:
    edges, _labels = davis
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["similar", str(edges), "--node", "Evelyn_Jefferson", "--k", "3", "--out", str(out), *FAST]
    )
    assert res.exit_code == 0, res.output
    assert "ranked by mean rank over 2 runs" in _flat(res.output)  # the order is not the similarity column's
    data = json.loads((out / "similar.json").read_text())
    assert len(data["answers"]) == 3 and {"node", "similarity", "support"} <= set(data["answers"][0])
    assert all(
        not a["node"].startswith("E") or "_" in a["node"] for a in data["answers"]
    )  # peers, not events


def test_recommend_with_label_sides(davis: tuple[Path, Path], tmp_path: Path) -> None:
    edges, labels = davis
    out = tmp_path / "out"
    args = ["recommend", str(edges), "--labels", str(labels), "--node", "Evelyn_Jefferson", "--k", "2"]
    res = runner.invoke(app, [*args, "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "recommend.json").read_text())
    assert data["node"] == "Evelyn_Jefferson" and len(data["add"]) <= 2 and data["substitutes"]
    assert data["input"]["labels"] == str(labels) and data["params"]["k"] == 2


def test_the_warnings_printed_are_kept_in_the_json(tmp_path: Path) -> None:
    edges = tmp_path / "g.tsv"
    edges.write_text("a\tb\na\tb\nb\tc\nc\td\nd\ta\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--node", "a", "--k", "2", "--out", str(out), *FAST])
    assert res.exit_code == 0 and "1 duplicate edge(s) merged" in _flat(res.output)
    data = json.loads((out / "similar.json").read_text())
    assert [w for w in data["warnings"] if "1 duplicate edge(s) merged" in w]
    assert data["graph"]["duplicate_edges_merged"] == 1 and data["graph"]["edges"] == 4


def test_label_only_node_is_a_clear_error(davis: tuple[Path, Path]) -> None:
    edges, labels = davis
    res = runner.invoke(
        app, ["similar", str(edges), "--labels", str(labels), "--node", "Ghost_Member", *FAST]
    )
    assert res.exit_code == 1
    assert "appears only in the label file" in res.output and "cannot be embedded" in res.output


def test_bad_weight_exits_1_with_line(tmp_path: Path) -> None:
    edges = tmp_path / "bad.edg"
    edges.write_text("a b 1\nb c -3\n", encoding="utf-8")
    res = runner.invoke(app, ["embed", str(edges), *FAST])
    assert res.exit_code == 1 and ":2:" in res.output and "-3" in res.output


def test_embed_labels_colour_the_report_and_label_only_nodes_are_said(tmp_path: Path) -> None:
    """``embed --labels`` read the file and dropped it: the report's projection had no colours (the reader
    looked for labels nodes.json never holds) and label-only nodes went unmentioned, unlike classify."""
    from hyperselect.report.views import graph_view, load_run

    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    lines = [f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)] + ["ghost\tMr. Hi\n"]
    labels.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["embed", str(edges), "--labels", str(labels), "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert "1 labelled node(s) are not in the graph" in _flat(res.output)
    doc = json.loads((out / "embed.json").read_text())
    assert doc["node_labels"] == {str(u): d["club"] for u, d in g.nodes(data=True)}
    assert any("not in the graph" in w for w in doc["warnings"])
    projection = graph_view(load_run(out).graph)["projection"]  # type: ignore[index]
    clubs = {str(u): d["club"] for u, d in g.nodes(data=True)}
    assert projection["labels"] == [clubs[n] for n in projection["names"]]


def test_embed_and_classify(tmp_path: Path) -> None:
    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    labels.write_text("".join(f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["embed", str(edges), "--out", str(out), "--format", "word2vec", *FAST])
    assert res.exit_code == 0, res.output
    assert (out / "embeddings.txt").read_text().startswith("34 8")
    args = ["classify", str(edges), "--labels", str(labels), "--models", "logreg", "--repeats", "2"]
    res = runner.invoke(app, [*args, "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "classify.json").read_text())
    assert doc["models"]["logreg"]["micro_f1"] > 0.5
    # what the run was, in the file itself: inputs, parameters as given, the graph as read, the warnings printed
    assert doc["input"] == {"edges": str(edges), "labels": str(labels), "directed": False}
    assert doc["params"]["dimensions"] == 8 and doc["params"]["num_walks"] == 5 and doc["params"]["p"] == 1.0
    assert doc["params"]["repeats"] == 2 and doc["graph"]["nodes"] == 34 and doc["warnings"] == []
    assert (out / "report.html").is_file()  # embed --out draws it too
    embed = json.loads((out / "embed.json").read_text())
    assert embed["params"]["format"] == "word2vec" and embed["input"]["labels"] is None


def test_tune_records_trials(tmp_path: Path) -> None:
    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    labels.write_text("".join(f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)), encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "tune",
        str(edges),
        "--labels",
        str(labels),
        "--trials",
        "3",
        "--dimensions",
        "8",
        "--num-walks",
        "3",
    ]
    res = runner.invoke(app, [*args, "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "tune.json").read_text())
    assert len(data["trials"]) == 3
    assert (
        data["params"]["n_trials"] == 3
        and data["params"]["dimensions"] == [8]
        and data["graph"]["edges"] == 78
    )
    assert {"p", "q", "dimensions", "C", "normalize"} == set(data["best_params"])
    assert data["best_params"]["C"] in (1.0, 3.0, 10.0, 30.0, 100.0) and data["best_params"]["normalize"] in (
        False,
        True,
    )
    flat = " ".join(res.output.split())
    b = data["best_params"]
    assert f"C={b['C']:g} normalize={b['normalize']}" in flat
    assert f"--C {b['C']:g} {'--normalize' if b['normalize'] else '--no-normalize'}" in flat
    res = runner.invoke(app, [*args, "--C-values", "1,0", "--workers", "1"])
    assert res.exit_code == 2 and "finite numbers > 0" in _flat(res.output)
    res = runner.invoke(app, [*args, "--normalize-values", "maybe", "--workers", "1"])
    assert res.exit_code == 2 and "'--normalize-values': must be comma-separated true/false" in _flat(
        res.output
    )


def test_classify_C_and_normalize(tmp_path: Path) -> None:
    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    labels.write_text("".join(f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["classify", str(edges), "--labels", str(labels), "--models", "logreg", "--repeats", "2", *FAST]
    res = runner.invoke(app, [*args, "--C", "10", "--normalize", "--out", str(out)])
    assert res.exit_code == 0, res.output
    logreg = json.loads((out / "classify.json").read_text())["models"]["logreg"]
    assert logreg["C"] == 10.0 and logreg["normalize"] is True
    assert "C=10, rows L2-normalised" in " ".join(res.output.split())
    for bad in ("0", "-2", "nan"):
        res = runner.invoke(app, [*args, "--C", bad])
        assert res.exit_code == 2 and "'--C': must be a finite number > 0" in _flat(res.output), res.output


def test_similar_and_recommend_show_tied_groups(tmp_path: Path) -> None:
    edges = tmp_path / "courses.edg"
    rows = [f"D:{d}\tC:{d}{i}\n" for d in "ab" for i in range(8)] + ["D:a\tC:shared\n", "D:b\tC:shared\n"]
    edges.write_text("".join(rows), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--node", "C:a3", "--k", "2", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "C:a0 (+6 tied: C:a1, C:a2, C:a4, ...)" in flat, res.output
    first = json.loads((out / "similar.json").read_text())["answers"][0]
    assert first["node"] == "C:a0" and first["equivalent"] and len(first["tied"]) == 6
    res = runner.invoke(app, ["recommend", str(edges), "--node", "D:a", "--k", "2", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    add = json.loads((out / "recommend.json").read_text())["add"]
    assert [(a["node"], len(a["tied"])) for a in add] == [("C:b0", 7)]
    flat = " ".join(res.output.split())
    assert "C:b0 (+7 tied: C:b1, C:b2, C:b3, ...)" in flat and "C:a0 (+7 tied: C:a1, C:a2, ...)" in flat


def test_two_classes_on_an_ordinary_graph_are_not_sides(tmp_path: Path) -> None:
    """Karate club's two clubs label a graph that is not bipartite: 'similar' must not keep to one club."""
    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"n{u} n{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    labels.write_text("".join(f"n{u}\t{d['club']}\n" for u, d in g.nodes(data=True)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["similar", str(edges), "--labels", str(labels), "--node", "n0", "--k", "33", "--out", str(out)]
    res = runner.invoke(app, [*args, *FAST])
    assert res.exit_code == 0, res.output
    answers = json.loads((out / "similar.json").read_text())["answers"]
    clubs = {g.nodes[int(a["node"][1:])]["club"] for a in answers}
    assert clubs == {"Mr. Hi", "Officer"}  # both clubs: every other node is a candidate


def _karate(tmp_path: Path, extra_labels: str = "") -> tuple[Path, Path]:
    g = nx.karate_club_graph()
    edges = tmp_path / "karate.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in g.edges()), encoding="utf-8")
    labels = tmp_path / "karate.labels.tsv"
    labels.write_text(
        "".join(f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)) + extra_labels, encoding="utf-8"
    )
    return edges, labels


def test_one_class_is_refused_by_classify_and_tune(tmp_path: Path) -> None:
    edges, _ = _karate(tmp_path)
    one = tmp_path / "one.tsv"
    one.write_text("".join(f"{u}\tmember\n" for u in range(34)), encoding="utf-8")
    for cmd in (["classify", "--models", "logreg", "--repeats", "2", *FAST], ["tune", "--trials", "1"]):
        res = runner.invoke(app, [cmd[0], str(edges), "--labels", str(one), *cmd[1:]])
        flat = _flat(res.output)
        assert res.exit_code == 1, res.output
        assert (
            "one.tsv: every labelled node has the class 'member'" in flat and "at least two classes" in flat
        )


def test_classes_of_label_only_nodes_do_not_drag_macro_f1(tmp_path: Path) -> None:
    edges, labels = _karate(tmp_path)
    ghosts = tmp_path / "ghosts.tsv"
    ghosts.write_text(labels.read_text() + "ghost1\tphantom\nghost2\tphantom\n", encoding="utf-8")
    scores = {}
    for name, lab in (("plain", labels), ("ghosts", ghosts)):
        out = tmp_path / name
        args = ["classify", str(edges), "--labels", str(lab), "--models", "logreg", "--repeats", "2"]
        res = runner.invoke(app, [*args, "--out", str(out), *FAST])
        assert res.exit_code == 0, res.output
        scores[name] = json.loads((out / "classify.json").read_text())["models"]["logreg"]["macro_f1"]
    flat = _flat(res.output)
    assert "2 labelled node(s) are not in the graph" in flat
    assert "1 class(es) have no labelled node left in the graph (e.g. ['phantom'])" in flat
    assert flat.count("1 class(es) have no labelled node") == 1  # checked before and after the fit, said once
    assert scores["ghosts"] == scores["plain"]  # not 2/3 of it


BAD_OPTIONS = [
    (["--seed", "-1"], "--seed"),
    (["--dimensions", "0"], "--dimensions"),
    (["--num-walks", "0"], "--num-walks"),
    (["--num-walks", "many"], "--num-walks"),
    (["--epochs", "0"], "--epochs"),
    (["--ensemble", "-2"], "--ensemble"),
    (["--workers", "0"], "--workers"),
    (["--p", "0"], "--p"),
    (["--q", "1e-300"], "--q"),
    (["--q", "1e4"], "--q"),
]


@pytest.mark.parametrize("command", ["embed", "similar", "recommend", "classify"])
@pytest.mark.parametrize(("args", "option"), BAD_OPTIONS)
def test_bad_options_are_refused_while_parsing(command: str, args: list[str], option: str) -> None:
    """Exit code 2 on a missing edge file: the option was refused before the file was even looked at."""
    extra = {"similar": ["--node", "a"], "recommend": ["--node", "a"], "classify": ["--labels", "l.tsv"]}
    res = runner.invoke(app, [command, "no-such.edg", *extra.get(command, []), *args])
    assert res.exit_code == 2, res.output
    assert f"Invalid value for '{option}'" in _flat(res.output)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--seed", "-1"], "--seed"),
        (["--dimensions", "0"], "--dimensions"),
        (["--dimensions", "8,x"], "--dimensions"),
        (["--num-walks", "0"], "--num-walks"),
        (["--workers", "0"], "--workers"),
        (["--trials", "0"], "--trials"),
        (["--epochs", "0"], "--epochs"),
        (["--validation-repeats", "0"], "--validation-repeats"),
        (["--train-fraction", "0.95"], "--train-fraction"),
        (["--C-values", ","], "--C-values"),
    ],
)
def test_bad_tune_options_are_refused_while_parsing(args: list[str], option: str) -> None:
    res = runner.invoke(app, ["tune", "no-such.edg", "--labels", "l.tsv", *args])
    assert res.exit_code == 2, res.output
    assert f"Invalid value for '{option}'" in _flat(res.output)


@pytest.mark.parametrize(
    ("command", "args", "option"),
    [
        ("classify", ["--labels", "l.tsv", "--repeats", "0"], "--repeats"),
        ("classify", ["--labels", "l.tsv", "--models", ","], "--models"),
        ("classify", ["--labels", "l.tsv", "--models", "logreg,svm"], "--models"),
        ("similar", ["--node", "a", "--k", "0"], "--k"),
        ("similar", ["--node", "a", "--k", "-3"], "--k"),
        ("recommend", ["--node", "a", "--k", "0"], "--k"),
        ("embed", ["--format", "csv"], "--format"),
    ],
)
def test_bad_counts_and_lists_are_refused_while_parsing(command: str, args: list[str], option: str) -> None:
    res = runner.invoke(app, [command, "no-such.edg", *args])
    assert res.exit_code == 2, res.output
    assert f"Invalid value for '{option}'" in _flat(res.output)


def test_unknown_node_is_refused_before_the_fit(
    davis: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.represent.node2vec import Node2Vec

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted before the node was checked")

    monkeypatch.setattr(Node2Vec, "fit", no_fit)
    edges, labels = davis
    for cmd in ("similar", "recommend"):
        res = runner.invoke(app, [cmd, str(edges), "--node", "Evelyn_Jeferson", *FAST])
        flat = _flat(res.output)
        assert res.exit_code == 1, res.output
        assert "'Evelyn_Jeferson' is not in the edge list" in flat and "(32 nodes)" in flat
        assert "did you mean 'Evelyn_Jefferson'" in flat and "has no edges" not in flat
    res = runner.invoke(app, ["similar", str(edges), "--labels", str(labels), "--node", "Ghost_Member"])
    assert res.exit_code == 1 and "appears only in the label file" in _flat(res.output)


def test_directed_sink_is_embedded_and_not_called_unembeddable(tmp_path: Path) -> None:
    edges = tmp_path / "d.edg"
    edges.write_text("a b\nb c\nc a\nc d\nd e\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--directed", "--node", "e", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert "cannot be embedded" not in flat
    assert "1 node(s) with incoming but no outgoing edges (e.g. ['e']): walks stop there" in flat
    assert json.loads((out / "similar.json").read_text())["answers"]  # e was embedded


def test_node_ids_with_markup_are_printed_as_written(tmp_path: Path) -> None:
    # "[/admin]" is a closing tag to rich and "[deleted]" a style: both are ids here, printed and saved as such
    edges = tmp_path / "br.tsv"
    edges.write_text("[/admin]\tb\nb\tc\nc\t[/admin]\nc\td\n[deleted]\td\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["similar", str(edges), "--node", "[/admin]", "--k", "2", "--out", str(out), *FAST]
    )
    assert res.exit_code == 0, res.output
    assert "most similar to [/admin]" in _flat(res.output)
    assert json.loads((out / "similar.json").read_text())["node"] == "[/admin]"
    res = runner.invoke(app, ["similar", str(edges), "--node", "[deleted]", "--k", "2", *FAST])
    assert res.exit_code == 0, res.output
    assert "most similar to [deleted]" in _flat(res.output)


def test_sep_unweighted_and_the_weight_note(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text("a;b\nb;c\nc;d\nd;a\n", encoding="utf-8")
    res = runner.invoke(app, ["similar", str(semi), "--node", "a", "--k", "2", *FAST])
    assert res.exit_code == 1 and "found 1" in _flat(res.output)  # 'a;b' is one column to the guess
    res = runner.invoke(app, ["similar", str(semi), "--node", "a", "--k", "2", "--sep", ";", *FAST])
    assert res.exit_code == 0, res.output
    # a third column of timestamps: read as weights, said so, and ignored with --unweighted
    ts = tmp_path / "ts.tsv"
    ts.write_text("a\tb\t1700000000\nb\tc\t1700000100\nc\td\t1\nd\ta\t1700000300\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(ts), "--node", "a", "--k", "2", "--out", str(out), *FAST])
    assert res.exit_code == 0 and "third column is read as edge weights (1 to 1.7e+09)" in _flat(res.output)
    assert json.loads((out / "similar.json").read_text())["graph"]["weighted"] is True
    args = ["similar", str(ts), "--node", "a", "--k", "2", "--unweighted", "--out", str(out), *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "edge weights" not in res.output
    assert json.loads((out / "similar.json").read_text())["graph"]["weighted"] is False


def test_a_utf16_edge_list_says_so(tmp_path: Path) -> None:
    path = tmp_path / "u16.tsv"
    path.write_bytes("a\tb\nb\tc\n".encode("utf-16"))
    res = runner.invoke(app, ["embed", str(path), *FAST])
    assert res.exit_code == 1 and "UTF-16" in res.output and "iconv -f UTF-16 -t UTF-8" in _flat(res.output)


def test_word2vec_ids_with_spaces_are_refused_before_the_fit(tmp_path: Path) -> None:
    edges = tmp_path / "g.tsv"
    edges.write_text('"New York"\tBoston\nBoston\tParis\n', encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["embed", str(edges), "--format", "word2vec", "--out", str(out), *FAST])
    assert res.exit_code == 1 and "'New York' contains whitespace" in _flat(res.output)
    assert "walks/node" not in res.output and not (out / "embeddings.txt").exists()  # no fit ran


def test_a_misspelt_node_ends_its_message_once(tmp_path: Path) -> None:
    edges = tmp_path / "g.tsv"
    edges.write_text("Evelyn\tBoston\nBoston\tParis\n", encoding="utf-8")
    res = runner.invoke(app, ["similar", str(edges), "--node", "Evelin", *FAST])
    assert res.exit_code == 1 and _flat(res.output).endswith("did you mean 'Evelyn'?")
    res = runner.invoke(app, ["similar", str(edges), "--node", "Zzz", *FAST])
    assert res.exit_code == 1 and _flat(res.output).endswith("(3 nodes).")


def test_answers_keep_to_a_side_only_when_the_columns_declare_it(
    davis: tuple[Path, Path], tmp_path: Path
) -> None:
    edges, _ = davis
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--node", "Evelyn_Jefferson", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert (
        "only nodes on Evelyn_Jefferson's side are answers; the sides come from the two columns of" in flat
    ), flat
    assert "the two columns of" in json.loads((out / "similar.json").read_text())["same_side_from"]
    # a tree written parent -> child: 2-colourable, but the children of the root are its answers too
    tree = tmp_path / "tree.edg"
    tree.write_text("".join(f"n{(i - 1) // 2}\tn{i}\n" for i in range(1, 15)), encoding="utf-8")
    res = runner.invoke(app, ["similar", str(tree), "--node", "n0", "--k", "14", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert "side are answers" not in _flat(res.output)
    data = json.loads((out / "similar.json").read_text())
    named = {u for a in data["answers"] for u in (a["node"], *a["tied"])}
    assert {"n1", "n2"} <= named and data["same_side_from"] is None


def test_recommend_on_the_davis_edge_list_alone(davis: tuple[Path, Path], tmp_path: Path) -> None:
    """The README's command: no label file, the edge list's two columns are the women and the events."""
    edges, _ = davis
    out = tmp_path / "out"
    args = ["recommend", str(edges), "--node", "Evelyn_Jefferson", "--k", "5", "--out", str(out), *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "only nodes on Evelyn_Jefferson's side are answers" in _flat(res.output)
    data = json.loads((out / "recommend.json").read_text())
    assert data["add"] and all(a["node"].startswith("E") and "_" not in a["node"] for a in data["add"])
    assert all("_" in p["node"] for p in data["peers"]) and "two columns" in data["sides_from"]
    # fewer answers than --k are explained, not left to puzzle over (an audit got 2 of 5 with no word)
    said = f"{len(data['add'])} of the 5 items asked for" in _flat(res.output)
    assert said == (len(data["add"]) < 5)


def test_recommend_without_declared_sides_says_it_2_colours(tmp_path: Path) -> None:
    tree = tmp_path / "tree.edg"
    tree.write_text("".join(f"n{(i - 1) // 2}\tn{i}\n" for i in range(1, 15)), encoding="utf-8")
    res = runner.invoke(app, ["recommend", str(tree), "--node", "n3", "--k", "2", *FAST])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert "warning: recommend: peers and items are the two sides of a 2-colouring of the graph" in flat, flat
    assert "side are answers" not in flat
    odd = tmp_path / "odd.edg"
    odd.write_text("a\tb\nb\tc\nc\ta\nc\td\n", encoding="utf-8")
    res = runner.invoke(app, ["recommend", str(odd), "--node", "a", *FAST])
    assert res.exit_code == 1 and "has an odd cycle" in _flat(res.output), res.output


def test_graph_tune_refuses_a_seed_above_the_range(tmp_path: Path) -> None:
    edges = tmp_path / "g.edg"
    edges.write_text("a\tb\nb\tc\n", encoding="utf-8")
    res = runner.invoke(app, ["similar", str(edges), "--node", "a", "--seed", "4294967296", *FAST])
    assert res.exit_code == 2 and "4294967295" in _flat(res.output)


def test_similar_refuses_one_dimension(tmp_path: Path) -> None:
    """With 1 dimension every cosine is +1 or -1: all nodes came back "similar 1.000, support 100%"."""
    edges = tmp_path / "g.edg"
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in nx.karate_club_graph().edges()), encoding="utf-8")
    res = runner.invoke(app, ["similar", str(edges), "--node", "0", *FAST, "--dimensions", "1"])
    assert res.exit_code == 1 and "needs at least 2 dimensions" in _flat(res.output)


def test_classify_searches_the_network_per_split_with_network_trials(tmp_path: Path) -> None:
    edges, labels = _karate(tmp_path)
    out = tmp_path / "out"
    args = ["classify", str(edges), "--labels", str(labels), "--models", "network", "--repeats", "2", *FAST]
    res = runner.invoke(app, [*args, "--network-trials", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "classify.json").read_text())
    net = doc["models"]["network"]
    assert net["searched_trials"] == 3 and len(net["searches"]) == 2, net
    assert all(s["best_config"]["hidden"] and 0 <= s["best_valid_score"] <= 1 for s in net["searches"])
    assert doc["params"]["network_trials"] == 3 and 0 <= net["macro_f1"] <= 1
    assert "network: searched per split, 3 trials each (chosen: " in _flat(res.output)
    res = runner.invoke(app, [*args, "--network-trials", "-1"])
    assert res.exit_code == 2, res.output
