"""``hyperselect graph``: the second audit's findings (/tmp/audit_graph/FINDINGS.md), each pinned by a test.

1. ``--seed`` is bit-reproducible only with ``--workers 1`` (said in the help and the output); ``--threads``
   caps node2vec's threads; the usable CPUs are counted by affinity; tune's classify command names --workers.
3./4. Fewer answers than --k (or none) are explained in a note, printed and in the JSON; the graph facts count
   connected components, and a disconnected graph is warned about.
5. A two-class --labels file that cannot declare the sides says why, naming one offending edge.
7./11. tune.json ``notes``: --trials capped at the grid, the best C at an end of --C-values.
8. ``embed`` without --out says that nothing is saved.
Nits: --validation-repeats beyond the disjoint slices, multi-label classification said, no "± 0" for one
split and a chance row, the --labels help of similar/recommend, delimiter hints, label-only nodes in similar,
one-line command summaries, recommend's --peers and --substitutes.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest

nx = pytest.importorskip("networkx")
pytest.importorskip("numba")
pytest.importorskip("gensim")

from testkit import flat as _flat  # noqa: E402
from testkit import karate_files, karate_lines  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hyperselect import cli_graph  # noqa: E402
from hyperselect.cli_graph import app  # noqa: E402
from hyperselect.data.graph import GraphDataWarning, from_networkx, read_edgelist, read_labels  # noqa: E402
from hyperselect.errors import DataError  # noqa: E402

runner = CliRunner()
FAST = ["--dimensions", "8", "--num-walks", "2", "--epochs", "1", "--ensemble", "1", "--workers", "1"]


@pytest.fixture()
def karate(tmp_path: Path) -> tuple[Path, Path]:
    return karate_files(tmp_path)


@pytest.fixture()
def davis(tmp_path: Path) -> Path:
    """Davis as woman -> event lines: the columns share no node, so they declare the two sides."""
    g = nx.davis_southern_women_graph()
    women = {u for u, d in g.nodes(data=True) if d["bipartite"] == 0}
    edges = tmp_path / "davis.edg"
    rows = [(u, v) if u in women else (v, u) for u, v in g.edges()]
    edges.write_text("".join(f"{u.replace(' ', '_')}\t{v}\n" for u, v in rows), encoding="utf-8")
    return edges


@pytest.fixture(autouse=True)
def _no_thread_cap() -> Any:
    """Each test starts without a --threads cap (the root app sets it per command line)."""
    cli_graph.set_thread_cap(None)
    yield
    cli_graph.set_thread_cap(None)


# ----------------------------------------------------------------------------------- 1. seeds and threads
def test_threads_caps_node2vec_workers(karate: tuple[Path, Path], tmp_path: Path) -> None:
    from hyperselect.cli import app as root

    edges, _ = karate
    out = tmp_path / "capped"
    args = ["--threads", "1", "graph", "embed", str(edges), "--out", str(out), *FAST[:-2], "--workers", "3"]
    res = runner.invoke(root, args)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "embed.json").read_text())
    assert data["effort"]["workers"] == 1 and data["params"]["workers"] == 1
    assert "on 1 thread" in _flat(res.output) and "vary slightly" not in _flat(res.output)
    # the cap is this command line's: the next one without --threads runs uncapped
    res = runner.invoke(
        root, ["graph", "embed", str(edges), "--out", str(tmp_path / "free"), *FAST[:-2], "--workers", "2"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "free" / "embed.json").read_text())["effort"]["workers"] == 2
    flat = _flat(res.output)
    assert (
        "on 2 threads (results vary slightly from run to run; --workers 1 makes them bit-identical)" in flat
    )


def test_usable_cpus_follow_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperselect.represent.node2vec import Node2Vec, walks

    monkeypatch.setattr(walks.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(walks.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert walks.usable_cpus() == 1
    model = Node2Vec(dimensions=4, num_walks=1, epochs=1, ensemble=1, random_state=0)
    model.fit(nx.karate_club_graph())
    assert model.effort_["workers"] == 1  # not os.cpu_count()'s 8
    monkeypatch.delattr(walks.os, "sched_getaffinity", raising=False)
    assert walks.usable_cpus() == 8  # where there is no affinity


def test_help_says_only_workers_1_is_bit_identical() -> None:
    for command in ("embed", "similar", "recommend", "classify", "tune"):
        res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        flat = _flat(res.output)
        assert "--workers 1" in flat and "bit-identical" in flat, (command, flat)


def test_workers_1_gives_bit_identical_answers(karate: tuple[Path, Path], tmp_path: Path) -> None:
    edges, _ = karate
    got = []
    for run in ("a", "b"):
        out = tmp_path / run
        res = runner.invoke(app, ["similar", str(edges), "--node", "1", "--k", "5", "--out", str(out), *FAST])
        assert res.exit_code == 0, res.output
        got.append(json.loads((out / "similar.json").read_text())["answers"])
    assert got[0] == got[1]


def _fake_tune(best_c: float, notes: list[str] | None = None) -> Any:
    from hyperselect.evaluate.node_classification import TuneResult

    def fake(graph: Any, labels: Any, **kw: Any) -> Any:
        fake.kwargs = kw  # type: ignore[attr-defined]
        best = {"p": 1.0, "q": 0.5, "dimensions": kw["dimensions"][0], "C": best_c, "normalize": False}
        trial = {"number": 0, **best, "score": 0.5}
        return TuneResult(best, 0.5, [trial], 1, 0.1, min(kw["n_trials"], 25), notes=list(notes or []))

    return fake


def test_tune_classify_command_names_workers_and_notes_the_capped_trials(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.evaluate import node_classification

    edges, labels = karate
    fake = _fake_tune(100.0, ["from the library"])
    monkeypatch.setattr(node_classification, "tune_node2vec", fake)
    out = tmp_path / "tuned"
    args = [
        "tune",
        str(edges),
        "--labels",
        str(labels),
        "--trials",
        "30",
        "--dimensions",
        "8",
        "--workers",
        "2",
    ]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "tune.json").read_text())
    flat = _flat(res.output)
    # the printed command trains as tune did: with its --workers
    line = next(x for x in res.output.splitlines() if x.startswith("classify with: "))
    words = shlex.split(line.removeprefix("classify with: "))
    assert data["classify_args"] == words[3:] and words[words.index("--workers") + 1] == "2"
    assert fake.kwargs["workers"] == 2  # type: ignore[attr-defined]
    notes = data["notes"]
    assert notes[0] == "from the library"
    capped = "--trials 30: only 25 distinct settings of p, q and dimensions; 25 run"
    assert capped in notes and capped in flat
    assert any("2 threads" in n and "--workers 1" in n for n in notes)
    # the best C is the largest of the grid: a wider one is suggested, in the JSON and on the console
    edge = next(n for n in notes if n.startswith("the best C"))
    assert "largest of --C-values (1,3,10,30,100)" in edge and "--C-values 100,300,1000,3000" in edge
    assert edge in flat
    # --threads caps tune's threads too, and the command it prints
    monkeypatch.setattr(node_classification, "tune_node2vec", _fake_tune(3.0))
    cli_graph.set_thread_cap(1)
    res = runner.invoke(app, [*args, "--trials", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "tune.json").read_text())
    assert data["classify_args"][data["classify_args"].index("--workers") + 1] == "1"
    assert data["notes"] == []  # 3 trials fit the grid, C=3 is inside it, one thread


def test_tune_notes_a_best_c_at_the_small_end(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.evaluate import node_classification

    edges, labels = karate
    monkeypatch.setattr(node_classification, "tune_node2vec", _fake_tune(1.0))
    out = tmp_path / "tuned"
    args = ["tune", str(edges), "--labels", str(labels), "--trials", "2", "--workers", "1", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    notes = json.loads((out / "tune.json").read_text())["notes"]
    assert notes == [
        "the best C (1) is the smallest of --C-values (1,3,10,30,100): a smaller C may score higher; try a "
        "wider grid, e.g. --C-values 0.03,0.1,0.3,1"
    ]


def test_tune_with_one_worker_repeats_itself(karate: tuple[Path, Path], tmp_path: Path) -> None:
    """(d): with --workers 1 two searches score and choose alike, so the printed command reproduces them."""
    edges, labels = karate
    runs = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = ["tune", str(edges), "--labels", str(labels), "--trials", "2", "--dimensions", "4"]
        res = runner.invoke(
            app, [*args, "--num-walks", "1", "--epochs", "1", "--workers", "1", "--out", str(out)]
        )
        assert res.exit_code == 0, res.output
        data = json.loads((out / "tune.json").read_text())
        runs.append(([t.get("score") for t in data["trials"]], data["best_params"], data["classify_args"]))
    assert runs[0] == runs[1]


def test_validation_repeats_beyond_the_disjoint_slices_are_noted() -> None:
    from hyperselect.data.graph import labels_from_mapping
    from hyperselect.evaluate.node_classification import tune_node2vec

    g = nx.karate_club_graph()
    graph = from_networkx(g)
    lab = labels_from_mapping({u: d["club"] for u, d in g.nodes(data=True)})
    kw: dict[str, Any] = dict(n_trials=1, dimensions=(4,), num_walks=1, epochs=1, workers=1, C_values=(1.0,))
    res = tune_node2vec(graph, lab, validation_repeats=12, **kw)
    # 34 labelled nodes, slices of 3: 11 disjoint ones fit
    assert res.notes == [
        "validation repeats 12: only 11 disjoint validation slices of 3 labelled nodes fit; the other 1 is drawn "
        "afresh and overlaps them"
    ]
    assert res.to_dict()["notes"] == res.notes
    assert tune_node2vec(graph, lab, validation_repeats=3, **kw).notes == []
    res = runner.invoke(app, ["tune", "--help"], env={"COLUMNS": "200"})
    assert "Disjoint 10% validation slices" not in res.output and "overlapping" in _flat(res.output)


# --------------------------------------------------------------------- 3./4. fewer answers, components
def test_a_node_with_only_a_self_loop_says_why_it_has_no_answer(tmp_path: Path) -> None:
    edges = tmp_path / "loop.edg"
    edges.write_text(karate_lines() + "77\t77\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--node", "77", "--k", "3", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "similar.json").read_text())
    assert data["answers"] == []
    assert data["note"] == "77 has no neighbour other than itself: nothing to compare it with"
    assert data["note"] in _flat(res.output) and "most similar to" not in res.output  # no empty table


def test_a_small_component_says_it_limits_the_answers(tmp_path: Path) -> None:
    edges = tmp_path / "disconn.edg"
    edges.write_text(karate_lines() + "100\t101\n101\t102\n102\t100\n200\t201\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--node", "200", "--k", "3", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "similar.json").read_text())
    assert [a["node"] for a in data["answers"]] == ["201"]
    assert (
        data["note"]
        == "1 of the 3 asked for: only nodes in 200's connected component can be answers (1 other node)"
    )
    flat = _flat(res.output)
    assert data["note"] in flat
    # the graph facts count the components, and loading says so
    assert data["graph"]["components"] == 3 and data["graph"]["largest_component_nodes"] == 34
    warning = "3 connected components; the largest holds 34 of 39 nodes: nodes of different components never"
    assert warning in flat and any(warning in w for w in data["warnings"])
    # k answers: no note
    res = runner.invoke(app, ["similar", str(edges), "--node", "0", "--k", "3", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "similar.json").read_text())["note"] is None


def test_a_connected_graph_has_one_component_and_no_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphDataWarning)
        graph = from_networkx(nx.karate_club_graph())
    assert (graph.summary()["components"], graph.summary()["largest_component_nodes"]) == (1, 34)
    lonely = nx.karate_club_graph()
    lonely.add_node(99)  # an isolated node is a component, but the isolated-node warning already says it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert from_networkx(lonely).summary()["components"] == 2
    assert not any("connected components" in str(w.message) for w in caught)
    directed = nx.DiGraph([("a", "b"), ("c", "b")])  # weakly connected
    with pytest.warns(GraphDataWarning, match="incoming but no outgoing"):
        assert from_networkx(directed).summary()["components"] == 1


def test_the_side_limits_the_answers_and_says_so(davis: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["similar", str(davis), "--node", "Evelyn_Jefferson", "--k", "40", "--out", str(out), *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "similar.json").read_text())
    n = len(data["answers"])
    assert n < 17  # 17 other women, two of them tied
    assert data["note"] == (
        f"{n} of the 40 asked for: only nodes on Evelyn_Jefferson's side can be answers (17 other nodes; "
        "nodes with the same neighbours share one answer)"
    )
    assert data["note"] in _flat(res.output)


def test_recommend_records_its_note_and_says_when_nothing_is_left(tmp_path: Path, davis: Path) -> None:
    full = tmp_path / "full.tsv"
    full.write_text("a\tx\na\ty\nb\tx\nb\ty\nc\tx\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["recommend", str(full), "--node", "a", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "recommend.json").read_text())
    assert data["add"] == [] and not any(data["substitutes"].values())
    assert data["note"] == (
        "a already holds every item of its connected component: nothing to add, and no item it lacks to offer "
        "as a substitute"
    )
    flat = _flat(res.output)
    assert (
        data["note"] in flat
        and "(empty)" not in flat
        and "add to a" not in flat
        and "substitutes" not in flat
    )
    # fewer items than --k: the console's sentence, now in the JSON too
    args = ["recommend", str(davis), "--node", "Evelyn_Jefferson", "--k", "14", "--out", str(out), *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "recommend.json").read_text())
    assert len(data["add"]) < 14
    assert data["note"].startswith(f"{len(data['add'])} of the 14 items asked for: no other item that")
    assert data["note"] in _flat(res.output)


def test_recommend_peers_and_substitutes_flags(davis: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["recommend", str(davis), "--node", "Evelyn_Jefferson", "--peers", "3", "--substitutes", "1"]
    res = runner.invoke(app, [*args, "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "recommend.json").read_text())
    assert (data["n_peers"], data["n_substitutes"]) == (3, 1) and len(data["peers"]) <= 3
    assert all(len(alts) <= 1 for alts in data["substitutes"].values())
    assert (data["params"]["peers"], data["params"]["substitutes"]) == (3, 1)


# ------------------------------------------------------------------------------ 5. labels that are no sides
def test_recommend_names_the_labels_file_and_edge_that_cannot_be_sides(karate: tuple[Path, Path]) -> None:
    edges, labels = karate
    res = runner.invoke(app, ["recommend", str(edges), "--labels", str(labels), "--node", "0", *FAST])
    assert res.exit_code == 1
    flat = _flat(res.output)
    assert "karate.labels.tsv has two classes but does not split every edge (0-1 are both 'Mr. Hi')" in flat
    assert "has an odd cycle" in flat and "networkx" not in flat


def test_a_labels_file_missing_a_node_is_said_where_a_2_colouring_stands_in(tmp_path: Path) -> None:
    edges = tmp_path / "path.edg"  # a path: 2-colourable, its columns share nodes
    edges.write_text("a\tb\nb\tc\nc\td\nd\te\n", encoding="utf-8")
    labels = tmp_path / "sides.tsv"
    labels.write_text("a\tp\nb\tq\nc\tp\nd\tq\n", encoding="utf-8")  # e has none
    res = runner.invoke(app, ["recommend", str(edges), "--labels", str(labels), "--node", "a", *FAST])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert "warning: recommend: peers and items are the two sides of a 2-colouring" in flat
    assert "sides.tsv has two classes but no label for 1 node(s) of the graph (e.g. 'e')" in flat
    # similar reads --labels for the sides alone: it says why they were not taken
    res = runner.invoke(
        app, ["similar", str(edges), "--labels", str(labels), "--node", "a", "--k", "2", *FAST]
    )
    assert res.exit_code == 0, res.output
    assert "cannot declare the two sides; answers come from every node" in _flat(res.output)


def test_similar_warns_about_label_only_nodes(davis: Path, tmp_path: Path) -> None:
    labels = tmp_path / "davis.labels.tsv"
    g = nx.davis_southern_women_graph()
    labels.write_text(
        "".join(
            f"{u.replace(' ', '_')}\t{'w' if d['bipartite'] == 0 else 'e'}\n" for u, d in g.nodes(data=True)
        )
        + "Ghost\tw\n",
        encoding="utf-8",
    )
    args = ["similar", str(davis), "--labels", str(labels), "--node", "Evelyn_Jefferson", "--k", "2", *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "1 labelled node(s) are not in the graph" in _flat(res.output)


def test_labels_help_of_similar_and_recommend_says_they_declare_sides() -> None:
    for command in ("similar", "recommend"):
        res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "declares the graph's two sides" in _flat(res.output), command


# ------------------------------------------------------------------------------------------- 8. embed
def test_embed_without_out_says_nothing_is_saved(karate: tuple[Path, Path], tmp_path: Path) -> None:
    edges, _ = karate
    res = runner.invoke(app, ["embed", str(edges), *FAST])
    assert res.exit_code == 0, res.output
    assert "warning: nothing saved: pass --out DIR to keep the embeddings." in _flat(res.output)
    res = runner.invoke(app, ["embed", str(edges), "--out", str(tmp_path / "e"), *FAST])
    assert res.exit_code == 0 and "nothing saved" not in res.output


# ------------------------------------------------------------------------------------------- classify
def test_classify_says_multilabel_and_shows_chance(karate: tuple[Path, Path], tmp_path: Path) -> None:
    edges, labels = karate
    out = tmp_path / "out"
    args = ["classify", str(edges), "--labels", str(labels), "--models", "logreg", "--repeats", "1"]
    res = runner.invoke(app, [*args, "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "classify.json").read_text())
    assert data["multilabel"] is False and set(data["chance"]) == {"macro_f1", "micro_f1"}
    flat = _flat(res.output)
    assert "±" not in flat and "one split" in flat and "multi-label" not in flat
    assert f"chance {data['chance']['macro_f1']:.4f} {data['chance']['micro_f1']:.4f}" in flat
    more = tmp_path / "multi.tsv"
    more.write_text(labels.read_text() + "0\tOfficer\n", encoding="utf-8")
    args = ["classify", str(edges), "--labels", str(more), "--models", "logreg", "--repeats", "2"]
    res = runner.invoke(app, [*args, "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "classify.json").read_text())
    flat = _flat(res.output)
    assert data["multilabel"] is True and "multi-label: " in flat and "(up to 2)" in flat
    assert "±" in flat and "mean ± std over 2 splits" in flat


def test_chance_is_the_majority_label() -> None:
    from hyperselect.evaluate.node_classification import chance_scores

    y = np.zeros((8, 2), dtype=np.int8)
    y[[0, 1, 2, 4, 5], 0] = 1
    y[[3, 6, 7], 1] = 1
    tr, te = np.arange(4), np.arange(4, 8)  # training: 3 of class 0, so every test node gets class 0
    got = chance_scores(y, [(tr, te)])
    assert got["micro_f1"] == pytest.approx(0.5)  # 2 of the 4 test nodes are class 0
    assert got["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)


# ---------------------------------------------------------------------------------------------- nits
def test_delimiter_hints(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.edg"
    mixed.write_text("0\t1\n1\t2\n5 6\n", encoding="utf-8")
    with pytest.raises(
        DataError, match="This line separates its columns with spaces, the first data line with tabs"
    ):
        read_edgelist(mixed)
    tabs = tmp_path / "tabs.edg"
    tabs.write_text("0\t1\n1\t2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"The line holds '\\t'.*--sep tab"):
        read_edgelist(tabs, delimiter=",")
    spaced = tmp_path / "spaced.tsv"
    spaced.write_text("0 Mr. Hi\n1 Officer\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r"found 3: '0 Mr\. Hi'\. The columns are split on spaces.*node<TAB>label"
    ):
        read_labels(spaced)


def test_command_summaries_are_one_line() -> None:
    """`graph --help` shows each command's first paragraph: broken over lines it wrapped mid-sentence."""
    for command in app.registered_commands:
        doc = (command.callback.__doc__ or "").strip()
        first = doc.split("\n\n")[0]
        assert "\n" not in first and len(first) <= 110, (command.callback.__name__, first)


def test_the_data_warnings_come_before_the_results_and_once(
    karate: tuple[Path, Path], tmp_path: Path
) -> None:
    """Nit 22: a self-loop's warning was printed after the answers, where a reader has stopped reading."""
    edges = tmp_path / "loop.edg"
    edges.write_text(karate[0].read_text(encoding="utf-8") + "5\t5\n", encoding="utf-8")
    r = runner.invoke(app, ["similar", str(edges), "--node", "1", "--k", "3", *FAST])
    assert r.exit_code == 0, r.output
    out = _flat(r.output)
    warned = out.find("self-loop")
    assert warned >= 0, out
    assert warned < out.find("most similar to 1"), out
    assert out.count("self-loop") == 1, out
    assert "uniform walks: p = q = 1" in out and "first_order" not in out  # not the implementation's name


def test_a_labels_file_that_cannot_declare_sides_is_said_before_the_answers(
    karate: tuple[Path, Path],
) -> None:
    """The re-check: the side warning of similar came after the answer table."""
    edges, labels = karate
    r = runner.invoke(app, ["similar", str(edges), "--labels", str(labels), "--node", "1", "--k", "3", *FAST])
    assert r.exit_code == 0, r.output
    out = _flat(r.output)
    assert 0 <= out.find("cannot declare the two sides") < out.find("most similar to 1"), out
