"""``hyperselect graph``: an audit's findings, each pinned by a test.

1. ``graph tune``: Ctrl-C keeps the finished trials (tune.json marked interrupted, exit code 130), and every
   trial prints a line as it finishes.
2. ``graph tune``'s closing ``classify with:`` line reproduces the tuned embedding (walks, epochs, seed).
3. ``graph recommend``: captions name the list length support counts against, the terminal lists the peers the
   JSON does, and no substitute or item to add comes with 0 % support.
4. Answers that are likely noise (walks cut short by a directed graph's dead ends, or a best similarity near
   zero) come with a warning, printed and kept in the JSON.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest

nx = pytest.importorskip("networkx")
pytest.importorskip("numba")
pytest.importorskip("gensim")

from testkit import flat as _flat  # noqa: E402
from testkit import karate_files  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from hyperselect.cli_graph import app  # noqa: E402
from hyperselect.data.graph import from_networkx, labels_from_mapping, read_edgelist  # noqa: E402
from hyperselect.represent.node2vec import Answer, Node2Vec  # noqa: E402
from hyperselect.represent.node2vec import skipgram as skipgram_module  # noqa: E402

runner = CliRunner()
FAST = ["--dimensions", "16", "--num-walks", "5", "--epochs", "1", "--ensemble", "2", "--workers", "1"]


@pytest.fixture()
def karate(tmp_path: Path) -> tuple[Path, Path]:
    return karate_files(tmp_path)


@pytest.fixture()
def davis(tmp_path: Path) -> Path:
    g = nx.davis_southern_women_graph()
    edges = tmp_path / "davis.edg"
    women = {u for u, d in g.nodes(data=True) if d["bipartite"] == 0}
    rows = [(u, v) if u in women else (v, u) for u, v in g.edges()]  # women -> events, as the shared data
    edges.write_text("".join(f"{u.replace(' ', '_')}\t{v}\n" for u, v in rows), encoding="utf-8")
    return edges


def _tune_args(edges: Path, labels: Path, *more: str) -> list[str]:
    return ["tune", str(edges), "--labels", str(labels), "--dimensions", "8", "--num-walks", "3", *more]


def _skipgram_that_stops(monkeypatch: pytest.MonkeyPatch, on_call: int, exc: BaseException) -> None:
    """train_skipgram raising ``exc`` on its ``on_call``-th call (1-based): a Ctrl-C in the middle of a trial."""
    real = skipgram_module.train_skipgram
    calls = [0]

    def stopping(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == on_call:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(skipgram_module, "train_skipgram", stopping)


# ------------------------------------------------------------------------------------ 1. Ctrl-C and progress lines
def test_tune_interrupted_writes_the_finished_trials(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the third trial: two trials were lost with the run (DIR never created, exit code 1 via click's
    Abort, Optuna's 'Trial 2 failed ... KeyboardInterrupt' traceback)."""
    edges, labels = karate
    _skipgram_that_stops(monkeypatch, 3, KeyboardInterrupt())
    out = tmp_path / "out"
    res = runner.invoke(
        app, [*_tune_args(edges, labels, "--trials", "4"), "--workers", "1", "--out", str(out)]
    )
    assert res.exit_code == 130, res.output
    data = json.loads((out / "tune.json").read_text())
    assert data["interrupted"] is True and data["completed_trials"] == 2 and data["n_trials"] == 4
    assert "interrupted" in data["note"] and "2 of 4" in data["note"]
    scored = [t for t in data["trials"] if "score" in t]
    assert len(scored) == 2 and [t["number"] for t in data["trials"] if t.get("interrupted")] == [2]
    best = max(scored, key=lambda t: t["score"])
    assert data["best_params"] == {k: best[k] for k in ("p", "q", "dimensions", "C", "normalize")}
    assert data["best_validation_macro_f1"] == best["score"]
    assert data["classify_args"] and data["params"]["n_trials"] == 4  # the facts of a finished run, too
    flat = _flat(res.output)
    assert f"interrupted: 2 of 4 trials completed; best so far p={best['p']:g}" in flat
    assert f"wrote {out / 'tune.json'}" in flat
    assert "Traceback" not in res.output and "failed" not in res.output
    # the page too, as a finished search draws one (the re-check: an interrupted tune drew none)
    assert (out / "report.html").is_file() and f"report: {out / 'report.html'}" in flat
    assert "interrupted" in (out / "report.html").read_text(encoding="utf-8")
    # the two finished trials were said as they finished
    assert len(re.findall(r"trial \d+ \(\d/4\): ", res.output)) == 2


def test_tune_interrupted_before_any_trial_finished(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edges, labels = karate
    _skipgram_that_stops(monkeypatch, 1, KeyboardInterrupt())
    out = tmp_path / "out"
    res = runner.invoke(
        app, [*_tune_args(edges, labels, "--trials", "3"), "--workers", "1", "--out", str(out)]
    )
    assert res.exit_code == 130, res.output
    data = json.loads((out / "tune.json").read_text())
    assert data["interrupted"] is True and data["completed_trials"] == 0
    assert data["best_params"] is None and data["best_validation_macro_f1"] is None
    assert data["classify_args"] is None and "no trial had finished" in data["note"]
    assert "interrupted: 0 of 3 trials completed; wrote" in _flat(res.output)


def test_tune_interrupted_in_the_library_keeps_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library raises a KeyboardInterrupt (a caller that does not look is interrupted as by any Ctrl-C)
    carrying the finished trials."""
    from hyperselect.evaluate.node_classification import TuneInterrupted, tune_node2vec

    g = nx.karate_club_graph()
    labels = labels_from_mapping(nx.get_node_attributes(g, "club"))
    _skipgram_that_stops(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt) as caught:
        tune_node2vec(from_networkx(g), labels, n_trials=3, dimensions=(8,), num_walks=3, workers=1)
    assert isinstance(caught.value, TuneInterrupted)
    result = caught.value.result
    assert result.interrupted and result.completed_trials == 1 and result.best_params is not None


def test_tune_prints_a_line_per_trial(karate: tuple[Path, Path]) -> None:
    """Progress went to logger.info only: nothing was printed until the search ended."""
    edges, labels = karate
    res = runner.invoke(app, [*_tune_args(edges, labels, "--trials", "3"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    lines = re.findall(
        r"trial (\d+) \((\d)/3\): p=[\d.]+ q=[\d.]+ dimensions=8 C=[\d.]+ normalize=(?:True|False) -> "
        r"validation Macro-F1 (\d\.\d{4})",
        res.output,
    )
    assert [done for _, done, _ in lines] == ["1", "2", "3"]
    assert res.output.index("trial 0 (1/3)") < res.output.index("classify with:")


def test_a_failed_trial_keeps_its_reason(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reason was read from a system attribute Optuna no longer writes: every failure said 'None'."""
    edges, labels = karate
    _skipgram_that_stops(monkeypatch, 1, ValueError("boom"))
    out = tmp_path / "out"
    res = runner.invoke(
        app, [*_tune_args(edges, labels, "--trials", "2"), "--workers", "1", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    failed = [t for t in json.loads((out / "tune.json").read_text())["trials"] if "failed" in t]
    assert len(failed) == 1 and failed[0]["reason"] == "ValueError: boom"
    assert "failed: p=" in _flat(res.output)


# --------------------------------------------------------------------------- 2. the classify line reproduces tuning
def _flags(args: list[str]) -> dict[str, str | bool]:
    flags: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            flags[args[i]] = args[i + 1]
            i += 2
        else:
            flags[args[i]] = True
            i += 1
    return flags


def test_tune_prints_a_classify_command_with_the_tuned_settings(
    karate: tuple[Path, Path], tmp_path: Path
) -> None:
    """The line named p, q, the dimension, C and normalize only: classify's 'auto' walks and epochs (and seed)
    then trained another embedding than the tuned one."""
    edges, labels = karate
    out = tmp_path / "tuned"
    args = [*_tune_args(edges, labels, "--trials", "2", "--epochs", "2", "--seed", "3", "--sep", "tab")]
    res = runner.invoke(app, [*args, "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("classify with: "))
    words = shlex.split(line.removeprefix("classify with: "))
    assert words[:3] == ["hyperselect", "graph", "classify"]
    data = json.loads((out / "tune.json").read_text())
    assert data["classify_args"] == words[3:]
    best = data["best_params"]
    flags = _flags(words[3:])
    assert flags[str(edges)] is True and flags["--labels"] == str(labels) and flags["--sep"] == "tab"
    assert float(str(flags["--p"])) == best["p"] and float(str(flags["--q"])) == best["q"]
    assert int(str(flags["--dimensions"])) == best["dimensions"] == 8
    assert float(str(flags["--C"])) == best["C"]
    assert flags["--normalize" if best["normalize"] else "--no-normalize"] is True
    # the settings tune trained every trial with, which classify's defaults would not reproduce
    assert (flags["--num-walks"], flags["--epochs"], flags["--seed"], flags["--ensemble"]) == (
        "3",
        "2",
        "3",
        "1",
    )
    assert "--directed" not in flags and "--unweighted" not in flags

    # and classify, run with them, trains with those settings
    run = tmp_path / "classified"
    res = runner.invoke(
        app,
        ["classify", *words[3:], "--models", "logreg", "--repeats", "1", "--workers", "1", "--out", str(run)],
    )
    assert res.exit_code == 0, res.output
    got = json.loads((run / "classify.json").read_text())
    assert (got["effort"]["num_walks"], got["effort"]["epochs"], got["effort"]["ensemble"]) == (3, 2, 1)
    assert (got["params"]["p"], got["params"]["q"], got["params"]["seed"]) == (best["p"], best["q"], 3)
    assert (got["params"]["C"], got["params"]["normalize"]) == (best["C"], best["normalize"])


def test_the_tuned_embedding_is_the_one_node2vec_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial seeded its walks and skip-gram with random_state itself, Node2Vec its member with a seed drawn
    from it: the same settings gave another embedding."""
    from hyperselect.evaluate.node_classification import tune_node2vec

    g = nx.karate_club_graph()
    graph = from_networkx(g)
    labels = labels_from_mapping(nx.get_node_attributes(g, "club"))
    real = skipgram_module.train_skipgram
    trained: list[np.ndarray] = []

    def keep(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        trained.append(result.vectors.copy())
        return result

    monkeypatch.setattr(skipgram_module, "train_skipgram", keep)
    res = tune_node2vec(
        graph, labels, n_trials=1, dimensions=(8,), num_walks=3, epochs=2, workers=1, random_state=3
    )
    assert res.best_params is not None and len(trained) == 1
    b = res.best_params
    model = Node2Vec(
        p=b["p"], q=b["q"], dimensions=8, num_walks=3, epochs=2, ensemble=1, random_state=3, workers=1
    ).fit(graph)
    np.testing.assert_allclose(model.embeddings_, trained[0], rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------- 3. recommend's support, captions
def test_recommend_captions_name_the_list_length_support_counts_against(davis: Path, tmp_path: Path) -> None:
    """The peers' caption said 'top k' with --k 2 while support counted each run's top 10 peers, and the
    terminal showed 5 peers where the JSON and the report list 10."""
    out = tmp_path / "out"
    args = ["recommend", str(davis), "--node", "Evelyn_Jefferson", "--k", "2", "--out", str(out), *FAST]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "recommend.json").read_text())
    assert (data["k"], data["n_peers"], data["n_substitutes"]) == (2, 10, 3)
    flat = _flat(res.output)
    assert "top k" not in flat
    assert "support: share of the 2 runs with it in their own top 10" in flat  # peers
    assert "support: share of the 2 runs with it in their own top 2" in flat  # items to add
    assert "support: share of the 2 runs with it in their own top 3" in flat  # substitutes
    peers_table = flat[flat.index("peers of Evelyn_Jefferson") : flat.index("own top 10")]
    assert len(data["peers"]) > 5 and all(p["node"] in peers_table for p in data["peers"])


def _two_runs_disagreeing(tmp_path: Path) -> Node2Vec:
    """A bipartite graph (people P*, items) whose two ensemble runs are set by hand: for the item H held by P0,
    run 1 ranks X, Z, Y and run 2 Y, Z, X, so Z has the best mean rank (second in both, with the best mean
    cosine) but is in neither run's top 1."""
    edges = tmp_path / "people_items.edg"
    pairs = [("P0", "H"), ("P1", "H"), ("P1", "X"), ("P2", "X"), ("P2", "Y"), ("P3", "Y"), ("P3", "Z")]
    pairs += [("P4", "Z"), ("P4", "H")]
    edges.write_text("".join(f"{u}\t{v}\n" for u, v in pairs), encoding="utf-8")
    graph = read_edgelist(edges)
    model = Node2Vec(dimensions=3, num_walks=2, epochs=1, ensemble=2, random_state=0, workers=1).fit(graph)

    def towards_h(cos: float) -> list[float]:  # a unit vector with cosine ``cos`` to H's
        return [cos, float(np.sqrt(1 - cos**2)), 0.0]

    members = []
    for order in ({"X": 0.9, "Z": 0.8, "Y": 0.1}, {"Y": 0.9, "Z": 0.8, "X": 0.1}):
        rows = {"H": [1.0, 0.0, 0.0], **{item: towards_h(c) for item, c in order.items()}}
        vectors = [rows.get(u, [0.0, 0.3, 1.0]) for u in model.nodes_]
        members.append(np.asarray(vectors, dtype=np.float32))
    model._set_state(
        model.nodes_, members, model.equivalence_, model.component_, model.sides_, model.sides_from_
    )
    return model


def test_no_substitute_without_support(tmp_path: Path) -> None:
    """Ranked by mean rank alone, Z was H's substitute 'with 0 % support': no run had put it first."""
    model = _two_runs_disagreeing(tmp_path)
    rec = model.recommend("P0", k=1, n_substitutes=1)
    subs = rec.substitutes["H"]
    assert [a.node for a in subs] == ["X"] and subs[0].support == 0.5
    assert all(a.support > 0 for alts in rec.substitutes.values() for a in alts)
    assert all(a.support > 0 for a in rec.add)
    # where the runs' own lists hold it, Z is in every one: first, with full support
    two = model.recommend("P0", k=1, n_substitutes=2).substitutes["H"]
    assert [(a.node, a.support) for a in two] == [("Z", 1.0), ("X", 0.5)]


# ---------------------------------------------------------------------------- 4. answers that are likely noise
def test_directed_dead_ends_warn_that_answers_are_noise(karate: tuple[Path, Path], tmp_path: Path) -> None:
    """Read as directed (edges low id -> high), node 33 has no way out and the walks reaching it are 2-3 nodes
    long: its 'most similar' nodes had cosines of 0.06-0.15 and came with no word of doubt."""
    edges, _ = karate
    out = tmp_path / "out"
    res = runner.invoke(app, ["similar", str(edges), "--directed", "--node", "33", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert "warning: Answers for '33' are likely noise: the walks through it average" in flat
    assert "without --directed" in flat
    kept = [w for w in json.loads((out / "similar.json").read_text())["warnings"] if "likely noise" in w]
    assert len(kept) == 1 and "dead ends" in kept[0]

    res = runner.invoke(app, ["similar", str(edges), "--node", "33", *FAST])  # undirected: sound answers
    assert res.exit_code == 0, res.output
    assert "likely noise" not in res.output


def test_recommend_on_a_directed_bipartite_graph_warns(davis: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "recommend",
        str(davis),
        "--directed",
        "--node",
        "Evelyn_Jefferson",
        "--k",
        "3",
        "--out",
        str(out),
    ]
    res = runner.invoke(app, [*args, *FAST])
    assert res.exit_code == 0, res.output
    assert "Answers for 'Evelyn_Jefferson' are likely noise" in _flat(res.output)
    warned = json.loads((out / "recommend.json").read_text())["warnings"]
    assert any("likely noise" in w and "2.0 nodes" in w for w in warned)


def test_noise_warning_thresholds(karate: tuple[Path, Path], tmp_path: Path) -> None:
    from hyperselect.represent.node2vec.model import NOISE_MIN_WALK_NODES, noise_similarity

    assert noise_similarity(128) == pytest.approx(2 / np.sqrt(128))  # two standard deviations of chance
    assert noise_similarity(4) == noise_similarity(2) == 0.2  # capped where chance cosines are large
    edges, _ = karate
    undirected = Node2Vec(dimensions=16, num_walks=5, epochs=1, ensemble=1, random_state=0, workers=1)
    undirected.fit(read_edgelist(edges))
    assert undirected.walk_nodes_ is None  # undirected walks are never cut short
    assert undirected.noise_warning("0", [Answer("1", 0.9, 1.0)]) is None
    near_zero = undirected.noise_warning("0", [Answer("1", 0.1, 1.0), Answer("2", 0.05, 1.0)])
    assert near_zero is not None and "0.100, near zero" in near_zero and "walks through" not in near_zero
    # nodes with the query's very neighbours are similar by structure: not evidence either way
    assert undirected.noise_warning("0", [Answer("1", 1.0, 1.0, equivalent=True), Answer("2", 0.1, 1.0)])

    directed = Node2Vec(dimensions=16, num_walks=5, epochs=1, ensemble=1, random_state=0, workers=1)
    with pytest.warns(Warning):  # the sinks of karate read as directed
        directed.fit(read_edgelist(edges, directed=True))
    assert directed.walk_nodes_ is not None
    reach = directed.walk_nodes_[directed.nodes_.index("33")]
    assert reach < NOISE_MIN_WALK_NODES
    short = directed.noise_warning("33", [Answer("32", 0.9, 1.0)])  # however close the best answer looks
    assert short is not None and f"average {reach:.1f} nodes" in short and "near zero" not in short
    # kept by a saved model
    loaded = Node2Vec.load(directed.save(tmp_path / "model"))
    assert loaded.walk_nodes_ is not None
    np.testing.assert_allclose(loaded.walk_nodes_, directed.walk_nodes_, atol=1e-3)


def test_a_node_id_with_a_space_in_a_space_separated_file_is_told_how_to_read_it(tmp_path: Path) -> None:
    """The error said only "weight 'E1' is not a number"; the ids 'Evelyn Jefferson' had split in two."""
    from hyperselect.data.graph import read_edgelist
    from hyperselect.errors import DataError

    p = tmp_path / "sp.edg"
    p.write_text("Evelyn Jefferson E1\nLaura Mandeville E2\n")
    with pytest.raises(DataError, match=r"weight 'E1' is not a number .* Quote such ids .* --unweighted"):
        read_edgelist(p)
    p.write_text('"Evelyn Jefferson" E1\n"Laura Mandeville" E2\n')
    g = read_edgelist(p)
    assert g.n_nodes == 4


def test_tune_marks_a_repeated_proposal_and_counts_only_distinct_trials(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit: `--trials 4` printed a table of 5 rows (TPE proposed trial 0's configuration again; it was
    answered from the cache) and "4 walk sets for 5 trials"."""
    import hyperselect.evaluate.node_classification as nc

    real = nc.tune_node2vec

    def with_a_repeat(*args: object, **kwargs: object) -> object:
        res = real(*args, **kwargs)  # type: ignore[arg-type]
        first = next(t for t in res.trials if "score" in t)
        res.trials.append({**first, "number": 99, "cached": True, "seconds": 0.0})
        return res

    monkeypatch.setattr(nc, "tune_node2vec", with_a_repeat)
    edges, labels = karate
    res = runner.invoke(app, [*_tune_args(edges, labels, "--trials", "2"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert f"(repeat of #{0}, not counted)" in flat
    assert "2 trials (and 1 repeated proposal answered from the cache)" in flat
