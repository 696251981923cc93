"""``hyperselect graph``: the third audit's findings, each pinned by a test.

1. ``graph tune --workers N`` was both node2vec's threads and the classifiers' processes (joblib's n_jobs), so
   its default was 2 and a 16-core machine trained node2vec on 2 threads.  Now ``--workers`` is node2vec's alone
   (default: every usable CPU, as in the other graph commands) and ``--classifier-jobs`` the classifiers'
   (default: chosen by the data's size, the labels, the CPUs and the free memory), both capped by ``--threads``.
"""

from __future__ import annotations

import json
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

from hyperselect import cli_graph  # noqa: E402
from hyperselect.cli_graph import app  # noqa: E402
from hyperselect.errors import ConfigError, DataError  # noqa: E402

runner = CliRunner()
FAST = ["--dimensions", "8", "--num-walks", "2", "--epochs", "1", "--ensemble", "1"]


@pytest.fixture()
def karate(tmp_path: Path) -> tuple[Path, Path]:
    return karate_files(tmp_path)


@pytest.fixture(autouse=True)
def _no_thread_cap() -> Any:
    """Each test starts without a --threads cap (the root app sets it per command line)."""
    cli_graph.set_thread_cap(None)
    yield
    cli_graph.set_thread_cap(None)


def _fake_tune() -> Any:
    from hyperselect.evaluate.node_classification import TuneResult

    def fake(graph: Any, labels: Any, **kw: Any) -> Any:
        fake.kwargs = kw  # type: ignore[attr-defined]
        best = {"p": 1.0, "q": 0.5, "dimensions": kw["dimensions"][0], "C": 3.0, "normalize": False}
        jobs = kw["n_jobs"] if kw["n_jobs"] is not None else 5
        return TuneResult(
            best,
            0.5,
            [{"number": 0, **best, "score": 0.5}],
            1,
            0.1,
            1,
            workers=kw["workers"],
            classifier_jobs=jobs,
        )

    return fake


# ------------------------------------------------------- 1. node2vec's threads and the classifiers' processes
def test_tune_workers_default_to_every_usable_cpu_and_classifiers_have_their_own_knob(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.evaluate import node_classification
    from hyperselect.represent.node2vec import walks

    edges, labels = karate
    monkeypatch.setattr(walks, "usable_cpus", lambda: 16)
    fake = _fake_tune()
    monkeypatch.setattr(node_classification, "tune_node2vec", fake)
    args = ["tune", str(edges), "--labels", str(labels), "--trials", "1", "--dimensions", "8"]
    out = tmp_path / "default"
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    kw = fake.kwargs  # type: ignore[attr-defined]
    # node2vec on all 16 CPUs (it was 2); the classifiers' jobs left to the library's sizing
    assert kw["workers"] == 16 and kw["n_jobs"] is None and kw["max_jobs"] is None
    data = json.loads((out / "tune.json").read_text())
    assert data["params"]["workers"] == 16 and data["params"]["classifier_jobs"] == 5
    words = data["classify_args"]
    assert words[words.index("--workers") + 1] == "16"
    assert "node2vec on 16 threads, classifiers in 5 processes" in _flat(res.output)

    # the old option keeps working, now for node2vec alone; --classifier-jobs sets the classifiers'
    res = runner.invoke(app, [*args, "--workers", "3", "--classifier-jobs", "1"])
    assert res.exit_code == 0, res.output
    assert fake.kwargs["workers"] == 3 and fake.kwargs["n_jobs"] == 1  # type: ignore[attr-defined]

    # the global --threads caps both, the automatic choice of the classifiers' jobs included
    cli_graph.set_thread_cap(2)
    res = runner.invoke(app, [*args, "--classifier-jobs", "4"])
    assert res.exit_code == 0, res.output
    assert fake.kwargs["workers"] == 2 and fake.kwargs["n_jobs"] == 2  # type: ignore[attr-defined]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert fake.kwargs["n_jobs"] is None and fake.kwargs["max_jobs"] == 2  # type: ignore[attr-defined]

    # the help says the new default and names the classifiers' own option
    flat = _flat(runner.invoke(app, ["tune", "--help"]).output)
    assert "default 2" not in flat and "--classifier-jobs" in flat


def test_classify_workers_are_not_the_classifiers_jobs(
    karate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperselect.evaluate import node_classification

    edges, labels = karate
    seen: list[tuple[Any, Any]] = []
    real = node_classification.evaluate_embeddings

    def spy(x: Any, y: Any, **kw: Any) -> Any:
        seen.append((kw["n_jobs"], kw["max_jobs"]))
        return real(x, y, **{**kw, "n_jobs": kw["n_jobs"] and 1})  # no worker processes started here

    monkeypatch.setattr(node_classification, "evaluate_embeddings", spy)
    base = ["classify", str(edges), "--labels", str(labels), *FAST, "--models", "logreg", "--repeats", "1"]
    out = tmp_path / "c"
    res = runner.invoke(app, [*base, "--workers", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # --workers 2 trains node2vec on 2 threads; it no longer sets the classifiers' processes
    assert seen[-1] == (None, None)
    data = json.loads((out / "classify.json").read_text())
    assert data["effort"]["workers"] == 2
    assert data["classifier_jobs"] == 1  # karate is far too small for worker processes to pay
    assert "classifiers fitted in 1 process (--classifier-jobs)" in _flat(res.output)
    res = runner.invoke(app, [*base, "--workers", "1", "--classifier-jobs", "2"])
    assert res.exit_code == 0, res.output
    assert seen[-1] == (2, None)


def test_classifier_jobs_sizing() -> None:
    from hyperselect.evaluate.node_classification import PARALLEL_FIT, PARALLEL_WORK, classifier_jobs

    gib = 2**30
    # small work: one process, however many CPUs
    assert classifier_jobs(17, 128, 2, max_jobs=16, memory=64 * gib) == 1
    # BlogCatalog's training half: bounded by the CPUs, then by the labels
    assert classifier_jobs(5156, 128, 39, max_jobs=16, memory=64 * gib) == 16
    assert classifier_jobs(5156, 128, 39, max_jobs=64, memory=640 * gib) == 39
    # and by memory: half of 1 GiB holds one 256 MiB process with its data
    assert classifier_jobs(5156, 128, 39, max_jobs=16, memory=gib) == 1
    assert classifier_jobs(5156, 128, 39, max_jobs=16, memory=4 * gib) == 7
    assert 5156 * 128 * 39 > PARALLEL_WORK > 17 * 128 * 2
    # PPI's training half: much work in all, but each label's fit too small to hand to a process
    assert classifier_jobs(1926, 128, 50, max_jobs=16, memory=64 * gib) == 1
    assert 1926 * 128 < PARALLEL_FIT <= 5156 * 128
    with pytest.raises(ConfigError, match="max_jobs"):
        classifier_jobs(10, 10, 2, max_jobs=0)


def test_tune_node2vec_fits_its_classifiers_with_n_jobs_not_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperselect.data.graph import from_networkx, labels_from_mapping
    from hyperselect.evaluate import node_classification
    from hyperselect.evaluate.node_classification import tune_node2vec

    g = nx.karate_club_graph()
    graph = from_networkx(g)
    lab = labels_from_mapping({u: d["club"] for u, d in g.nodes(data=True)})
    jobs: list[int] = []
    real = node_classification._scores

    def spy(model: str, x_tr: Any, y_tr: Any, x_te: Any, seed: int, n_jobs: int, **kw: Any) -> np.ndarray:
        jobs.append(n_jobs)
        return real(model, x_tr, y_tr, x_te, seed, 1, **kw)  # one process here, whatever was asked

    monkeypatch.setattr(node_classification, "_scores", spy)
    kw: dict[str, Any] = dict(n_trials=1, dimensions=(4,), num_walks=1, epochs=1, C_values=(1.0,))
    res = tune_node2vec(graph, lab, workers=1, n_jobs=3, **kw)
    assert set(jobs) == {3} and res.workers == 1 and res.classifier_jobs == 3
    assert res.to_dict()["classifier_jobs"] == 3 and res.to_dict()["workers"] == 1
    jobs.clear()
    res = tune_node2vec(graph, lab, workers=2, **kw)  # sized automatically: karate is small, one process
    assert set(jobs) == {1} and res.workers == 2 and res.classifier_jobs == 1
    with pytest.raises(ConfigError, match="n_jobs"):
        tune_node2vec(graph, lab, workers=1, n_jobs=0, **kw)


# ------------------------------------------- 2. semicolon-separated edge lists with decimal-comma weights
def test_semicolons_with_decimal_comma_weights_are_not_read_as_two_comma_columns(tmp_path: Path) -> None:
    """u;v;2,5 (a spreadsheet export where the comma is the decimal mark) was split on the comma into the
    nodes 'u;v;2' and '5', silently: a star of nonsense nodes around '5'."""
    from hyperselect.data.graph import read_edgelist

    path = tmp_path / "semi.csv"
    path.write_text("a;b;2,5\nb;c;1\nc;a;0,5\n", encoding="utf-8")
    g = read_edgelist(path)
    assert g.nodes == ["a", "b", "c"] and g.weighted and g.n_edges == 3
    rows = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    w = {(g.nodes[u], g.nodes[v]): float(x) for u, v, x in zip(rows, g.indices, g.weights, strict=True)}
    assert w[("a", "b")] == 2.5 and w[("a", "c")] == 0.5 and w[("b", "c")] == 1.0
    # given explicitly, --sep ';' reads the decimal comma too
    assert read_edgelist(path, delimiter=";").weights.max() == 2.5
    # a comma file whose ids hold semicolons stays a comma file
    names = tmp_path / "names.csv"
    names.write_text("Smith; John,Doe; Jane\nDoe; Jane,Roe\n", encoding="utf-8")
    assert read_edgelist(names).nodes == ["Smith; John", "Doe; Jane", "Roe"]
    # and a comma in a weight is no decimal mark where the comma separates the columns
    with pytest.raises(DataError, match="expected 3 columns"):
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b,1\nb,c,2,5\n", encoding="utf-8")
        read_edgelist(bad)


# ------------------------------------------------- 3. undirected weights stay on their own edges
def test_undirected_weights_stay_on_their_edges_whatever_the_orientation(tmp_path: Path) -> None:
    """An undirected edge list with no edge listed both ways, some written high id -> low id, had its weights
    handed to other edges (sorted by one key, placed by another): Les Miserables read with 316 of its 508
    stored weights on the wrong edge, so every weighted walk followed the wrong edges."""
    from hyperselect.data.graph import read_edgelist

    g_nx = nx.les_miserables_graph()
    path = tmp_path / "lesmis.tsv"
    path.write_text(
        "".join(f"{u}\t{v}\t{d['weight']}\n" for u, v, d in g_nx.edges(data=True)), encoding="utf-8"
    )
    g = read_edgelist(path)
    rows = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    got = {(g.nodes[u], g.nodes[v]): float(w) for u, v, w in zip(rows, g.indices, g.weights, strict=True)}
    want = {(u, v): float(d["weight"]) for u, v, d in g_nx.edges(data=True)}
    want.update({(v, u): w for (u, v), w in list(want.items())})
    assert got == want
    # the smallest case: c-a written c first
    tiny = tmp_path / "tiny.tsv"
    tiny.write_text("a\tb\t2.5\nb\tc\t1\nc\ta\t0.5\n", encoding="utf-8")
    t = read_edgelist(tiny)
    rows = np.repeat(np.arange(t.n_nodes), np.diff(t.indptr))
    got = {(t.nodes[u], t.nodes[v]): float(w) for u, v, w in zip(rows, t.indices, t.weights, strict=True)}
    assert got == {
        ("a", "b"): 2.5,
        ("b", "a"): 2.5,
        ("b", "c"): 1.0,
        ("c", "b"): 1.0,
        ("a", "c"): 0.5,
        ("c", "a"): 0.5,
    }


def test_negative_n_jobs_counts_as_in_scikit_learn() -> None:
    """evaluate_embeddings(n_jobs=-1) went straight to scikit-learn (every CPU) before the classifiers got their own
    knob; the knob's check refused it ("must be None or an int in [1, inf)")."""
    from hyperselect.evaluate.node_classification import _check_jobs
    from hyperselect.represent.node2vec.walks import usable_cpus

    assert _check_jobs("evaluate_embeddings", -1, None) == usable_cpus()
    assert _check_jobs("evaluate_embeddings", -(usable_cpus() + 5), None) == 1
    assert _check_jobs("evaluate_embeddings", 3, None) == 3 and _check_jobs("x", None, None) is None
    with pytest.raises(ConfigError, match="Got 0"):
        _check_jobs("evaluate_embeddings", 0, None)
