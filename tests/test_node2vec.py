"""node2vec: walk laws against the exact probabilities, reproducibility, the estimator, stability, evaluation."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pytest

nx = pytest.importorskip("networkx")
pytest.importorskip("numba")
pytest.importorskip("gensim")

from hyperselect.data.graph import Graph, from_networkx, labels_from_mapping  # noqa: E402
from hyperselect.errors import ConfigError, DataError  # noqa: E402
from hyperselect.represent.node2vec import Answer, Node2Vec, generate_walks, stability  # noqa: E402
from hyperselect.represent.node2vec.walks import exact_transition_probs  # noqa: E402


def _directed_weighted() -> Graph:
    rng = np.random.default_rng(3)
    g = nx.gnp_random_graph(12, 0.35, directed=True, seed=3)
    for u in list(g.nodes()):
        g.add_edge(u, (u + 1) % 12)  # every node has a way out
    for u, v in g.edges():
        g[u][v]["weight"] = float(rng.uniform(0.2, 3.0))
    return from_networkx(g)


def _chi2_pvalue(graph: Graph, walks: np.ndarray, p: float, q: float) -> tuple[float, int]:
    """Pooled chi-square of observed next-node counts for every (prev, cur) seen often, vs the exact law."""
    from scipy.stats import chi2

    t, c, x = walks[:, :-2].ravel(), walks[:, 1:-1].ravel(), walks[:, 2:].ravel()
    ok = (t >= 0) & (c >= 0) & (x >= 0)
    t, c, x = t[ok].astype(np.int64), c[ok].astype(np.int64), x[ok].astype(np.int64)
    n = graph.n_nodes
    stat, dof = 0.0, 0
    pair_key = t * n + c
    for key in np.unique(pair_key):
        sel = pair_key == key
        if sel.sum() < 200:
            continue
        prev, cur = divmod(int(key), n)
        nbrs = graph.indices[graph.indptr[cur] : graph.indptr[cur + 1]]
        expected = exact_transition_probs(graph, prev, cur, p, q) * sel.sum()
        observed = np.array([(x[sel] == v).sum() for v in nbrs])
        keep = expected >= 5  # rare cells are pooled into one, the usual chi-square practice
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        if exp[-1] < 5:
            obs, exp = obs[:-1], exp[:-1]
        stat += float(((obs - exp) ** 2 / exp).sum())
        dof += len(obs) - 1
    assert dof > 50, "too few transitions sampled for a meaningful test"
    return float(chi2.sf(stat, dof)), dof


GRAPHS = {
    "karate_weighted": lambda: from_networkx(nx.karate_club_graph()),
    "directed_weighted": _directed_weighted,
}


@pytest.mark.parametrize("graph_name", list(GRAPHS))
@pytest.mark.parametrize(
    ("mode", "p", "q"), [("first_order", 1, 1), ("otf", 0.25, 4), ("otf", 2, 0.5), ("precomp", 0.25, 4)]
)
def test_transition_frequencies_match_exact_probabilities(
    graph_name: str, mode: str, p: float, q: float
) -> None:
    graph = GRAPHS[graph_name]()
    res = generate_walks(graph, num_walks=150, walk_length=40, p=p, q=q, mode=mode, random_state=7)
    pvalue, _ = _chi2_pvalue(graph, res.walks, p, q)
    assert pvalue > 1e-3


def test_walks_reproducible_and_thread_independent() -> None:
    graph = GRAPHS["karate_weighted"]()
    a = generate_walks(graph, num_walks=5, walk_length=20, p=0.5, q=2, random_state=11, workers=1).walks
    b = generate_walks(graph, num_walks=5, walk_length=20, p=0.5, q=2, random_state=11, workers=2).walks
    c = generate_walks(graph, num_walks=5, walk_length=20, p=0.5, q=2, random_state=12, workers=2).walks
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == (34 * 5, 20) and (a >= 0).all()


def test_invalid_and_slow_choices() -> None:
    graph = GRAPHS["karate_weighted"]()
    with pytest.raises(ValueError, match=r"got p=0.5, q=1"):
        generate_walks(graph, p=0.5, q=1, mode="first_order")
    with pytest.warns(UserWarning, match="mode='first_order' gives the same walks faster"):
        generate_walks(graph, num_walks=1, walk_length=5, mode="otf")
    with pytest.raises(
        ConfigError, match=r"The 'p' parameter of Node2Vec must be a float in \[0\.001, 1000\]\. Got -1"
    ):
        Node2Vec(p=-1).fit(graph)


def test_kernels_compiled_once_per_process() -> None:
    graph = GRAPHS["karate_weighted"]()
    generate_walks(graph, num_walks=1, walk_length=5, p=0.5, q=2)
    t0 = time.perf_counter()
    for p in (0.25, 1.0, 4.0):
        for q in (0.25, 4.0):
            generate_walks(graph, num_walks=2, walk_length=20, p=p, q=q)
    assert time.perf_counter() - t0 < 2.0  # six grid points, no recompilation


def test_fit_most_similar_and_isolated_node() -> None:
    g = nx.karate_club_graph()
    g.add_node("lonely")
    with pytest.warns(UserWarning, match="cannot be embedded"):
        graph = from_networkx(g)
    model = Node2Vec(dimensions=16, num_walks=10, epochs=1, ensemble=3, random_state=0, workers=1).fit(graph)
    assert model.embeddings_.shape == (35, 16) and model.nodes_ == graph.nodes
    assert np.isnan(model.embeddings_[-1]).all() and not model.embedded_[-1]
    answers = model.most_similar("0", k=5)
    assert len(answers) == 5 and "0" not in {a.node for a in answers}
    assert all(0 <= a.support <= 1 and -1 <= a.similarity <= 1 for a in answers)
    assert answers[0].support >= 2 / 3
    with pytest.raises(DataError, match="no neighbours: cannot be embedded"):
        model.most_similar("lonely")
    with pytest.raises(DataError, match="not in the graph"):
        model.most_similar("ghost")
    assert model.effort_["ensemble"] == 3 and model.effort_["auto"] == []


def test_recommend_on_davis() -> None:
    graph = from_networkx(nx.davis_southern_women_graph())
    model = Node2Vec(dimensions=16, num_walks=20, epochs=2, ensemble=3, random_state=1, workers=1).fit(graph)
    rec = model.recommend("Evelyn Jefferson", k=3)
    held = set(graph.neighbors("Evelyn Jefferson"))
    assert rec.add and all(a.node.startswith("E") and a.node not in held for a in rec.add)
    assert all((p.node not in held and not p.node.startswith("E")) or " " in p.node for p in rec.peers)
    assert set(rec.substitutes) == held
    assert all(s.node not in held for subs in rec.substitutes.values() for s in subs)
    with pytest.raises(DataError, match="bipartite"):
        Node2Vec(dimensions=8, num_walks=2, epochs=1, ensemble=1).fit(nx.karate_club_graph()).recommend("0")


def test_save_load_roundtrip(tmp_path: Path) -> None:
    graph = from_networkx(nx.karate_club_graph(), weight=None)
    model = Node2Vec(dimensions=8, num_walks=5, epochs=1, ensemble=2, random_state=0, workers=1).fit(graph)
    folder = model.save(tmp_path / "emb")
    loaded = Node2Vec.load(folder)
    assert loaded.nodes_ == model.nodes_ and np.allclose(loaded.embeddings_, model.embeddings_)
    assert np.array_equal(loaded.equivalence_, model.equivalence_)  # unweighted, 17 and 21 share {0, 1}
    assert model.tied_with("17") == loaded.tied_with("17") == ["21"]
    assert [a.node for a in loaded.most_similar("3", 4)] == [a.node for a in model.most_similar("3", 4)]
    text = model.save(tmp_path / "emb.txt", format="word2vec")
    w2v = Node2Vec.load(text)
    assert w2v.nodes_ == model.nodes_ and np.allclose(w2v.embeddings_, model.embeddings_, atol=1e-4)


def test_auto_effort_is_reported_and_scales() -> None:
    from hyperselect.represent.node2vec import auto_effort

    small, large = auto_effort(32, 80), auto_effort(10_312, 80)
    assert small["num_walks"] > 10 and small["ensemble"] > 1
    assert large == {"num_walks": 10, "epochs": 1, "ensemble": 1}


def test_davis_top5_stable_across_seeds_with_defaults() -> None:
    """Issue 10's target: mean top-5 overlap of most_similar over 5 seeds >= 0.8 with the defaults."""
    graph = from_networkx(nx.davis_southern_women_graph())
    res = stability(graph, seeds=(0, 1, 2, 3, 4), k=5)
    assert res["mean_topk_overlap"] >= 0.8, res


def test_node_classification_karate() -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix

    g = nx.karate_club_graph()
    graph = from_networkx(g)
    labels = labels_from_mapping(nx.get_node_attributes(g, "club"))
    model = Node2Vec(dimensions=16, num_walks=20, epochs=2, ensemble=1, random_state=0, workers=1).fit(graph)
    x, y = labelled_matrix(model.embeddings_, model.nodes_, labels)
    res = evaluate_embeddings(x, y, models=("logreg", "random_forest"), repeats=3, n_jobs=1)
    assert res["models"]["logreg"]["micro_f1"] > 0.75
    assert res["models"]["random_forest"]["macro_f1"] > 0.6


def test_macro_f1_averages_over_the_labels_a_split_has_or_predicts() -> None:
    from sklearn.metrics import f1_score

    from hyperselect.evaluate.node_classification import evaluate_embeddings, macro_f1

    y = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])  # label 2: one node in the graph, none in this half
    assert macro_f1(y, y) == 1.0 and f1_score(y, y, average="macro", zero_division=0) < 0.7
    pred = np.array([[1, 0, 0], [0, 0, 1], [1, 0, 0]])  # a wrong guess of label 2 still counts against it
    assert macro_f1(y, pred) == f1_score(y, pred, average="macro", zero_division=0) == 1 / 3
    # separable embeddings and a single-node class: a split whose test half lacks that node scores 1, one that
    # holds it (unseen in training, so missed) 2/3; labels absent from a half used to score 0: 2/3 in every split
    rng = np.random.default_rng(0)
    cls = np.array([0] * 20 + [1] * 20 + [2])
    x = np.eye(3)[cls] * 5 + rng.normal(scale=0.1, size=(41, 3))
    res = evaluate_embeddings(x, np.eye(3, dtype=int)[cls], models=("logreg",), repeats=4, n_jobs=1)
    assert res["models"]["logreg"]["macro_f1"] > 2 / 3 + 0.05


def test_multilabel_top_k_predictions() -> None:
    from hyperselect.evaluate.node_classification import top_k_predictions

    scores = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.1]])
    assert top_k_predictions(scores, np.array([2, 1])).tolist() == [[0, 1, 1], [1, 0, 0]]


def test_tune_reuses_walks() -> None:
    from hyperselect.evaluate.node_classification import tune_node2vec

    g = nx.karate_club_graph()
    labels = labels_from_mapping(nx.get_node_attributes(g, "club"))
    res = tune_node2vec(
        from_networkx(g),
        labels,
        n_trials=4,
        p_values=(1.0, 4.0),
        q_values=(1.0,),
        dimensions=(8, 16),
        num_walks=5,
        validation_fraction=0.3,
        workers=1,
    )
    assert res.walk_sets <= 2 < len(res.trials) + 1
    assert set(res.best_params) == {"p", "q", "dimensions", "C", "normalize"}
    # the whole 2 x 1 x 2 grid is trained exactly once; repeats proposed by TPE are cached and do not count
    trained = {(t["p"], t["q"], t["dimensions"]) for t in res.trials if not t.get("cached")}
    assert len(trained) == 4 == sum(not t.get("cached") for t in res.trials)


def _multilabel_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """400 rows, 6 labels (some rare), where the row norm varies a lot and the direction carries the labels."""
    rng = np.random.default_rng(seed)
    n, d, k = 400, 8, 6
    centres = rng.normal(size=(k, d))
    y = np.zeros((n, k), dtype=np.int8)
    y[np.arange(n), rng.choice(k, size=n, p=[0.35, 0.3, 0.15, 0.1, 0.06, 0.04])] = 1
    y[rng.random(n) < 0.2, 0] = 1  # a second label on some rows
    direction = y @ centres + rng.normal(scale=1.5, size=(n, d))
    x = direction * rng.lognormal(sigma=1.0, size=(n, 1))
    return x, y


def test_logreg_normalize_equals_manually_normalised_rows() -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings

    x, y = _multilabel_data()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    kw = {"models": ("logreg",), "repeats": 2, "n_jobs": 1, "C": 10.0}
    normed = evaluate_embeddings(x, y, normalize=True, **kw)["models"]["logreg"]
    manual = evaluate_embeddings(unit, y, **kw)["models"]["logreg"]
    raw = evaluate_embeddings(x, y, **kw)["models"]["logreg"]
    for key in ("macro_f1", "micro_f1"):
        assert normed[key] == pytest.approx(manual[key], abs=1e-12)
    assert normed["normalize"] is True and manual["normalize"] is False and normed["C"] == 10.0
    assert normed["macro_f1"] != raw["macro_f1"]  # the option does something on these rows


def test_logreg_C_changes_the_result() -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings

    x, y = _multilabel_data(1)
    kw = {"models": ("logreg",), "repeats": 2, "n_jobs": 1}
    default = evaluate_embeddings(x, y, **kw)["models"]["logreg"]
    one = evaluate_embeddings(x, y, C=1.0, **kw)["models"]["logreg"]
    strong = evaluate_embeddings(x, y, C=1e-4, **kw)["models"]["logreg"]
    assert default == one | {"seconds_per_repeat": default["seconds_per_repeat"]}  # C=1 is the default
    assert default["C"] == 1.0 and default["normalize"] is False
    # heavy regularisation flattens the per-label scores towards the label rates: rare labels are never picked
    assert strong["macro_f1"] < default["macro_f1"] - 0.05


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "1", True, None])
def test_bad_C_is_a_clear_error(bad: object) -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings

    x, y = _multilabel_data()
    with pytest.raises(ConfigError, match=r"C \(inverse regularisation strength\) must be a"):
        evaluate_embeddings(x, y, models=("logreg",), repeats=1, n_jobs=1, C=bad)  # type: ignore[arg-type]


def test_bad_normalize_and_grids_are_clear_errors() -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings, tune_node2vec

    x, y = _multilabel_data()
    with pytest.raises(ConfigError, match="normalize must be True or False"):
        evaluate_embeddings(x, y, models=("logreg",), repeats=1, n_jobs=1, normalize="yes")  # type: ignore[arg-type]
    g = nx.karate_club_graph()
    graph, labels = from_networkx(g), labels_from_mapping(nx.get_node_attributes(g, "club"))
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"must be a finite number > 0\. Got 0"):
        tune_node2vec(graph, labels, n_trials=1, C_values=(1.0, 0.0), workers=1)
    with pytest.raises(ConfigError, match="at least one value"):
        tune_node2vec(graph, labels, n_trials=1, normalize_values=(), workers=1)
    with pytest.raises(ConfigError, match="validation_repeats"):
        tune_node2vec(graph, labels, n_trials=1, validation_repeats=0, workers=1)
    with pytest.raises(ConfigError, match="validation_fraction"):
        tune_node2vec(graph, labels, n_trials=1, validation_fraction=1.0, workers=1)
    with pytest.raises(ConfigError, match="train_fraction"):
        tune_node2vec(graph, labels, n_trials=1, train_fraction=0.95, workers=1)
    assert time.perf_counter() - t0 < 5  # refused before any walk or embedding


def test_tune_selects_classifier_on_validation() -> None:
    from hyperselect.evaluate.node_classification import tune_node2vec

    g = nx.karate_club_graph()
    labels = labels_from_mapping(nx.get_node_attributes(g, "club"))
    c_grid, norm_grid = (1e-4, 1.0, 30.0), (False, True)
    res = tune_node2vec(
        from_networkx(g),
        labels,
        n_trials=3,
        p_values=(0.5, 1.0, 2.0),
        q_values=(1.0,),
        dimensions=(8,),
        C_values=c_grid,
        normalize_values=norm_grid,
        num_walks=5,
        validation_fraction=0.3,
        workers=1,
    )
    done = [t for t in res.trials if "score" in t]
    assert done and all(t["C"] in c_grid and t["normalize"] in norm_grid for t in done)
    for t in done:
        if t.get("cached"):
            continue
        cells = t["classifier_scores"]
        assert [(c["normalize"], c["C"]) for c in cells] == [(v, c) for v in norm_grid for c in c_grid]
        best = max(cells, key=lambda c: c["score"])
        assert t["score"] == best["score"] and (t["C"], t["normalize"]) == (best["C"], best["normalize"])
        # each cell's score is the mean over the validation_repeats (default 3) held-out slices
        assert all(len(c["splits"]) == 3 and c["score"] == pytest.approx(np.mean(c["splits"])) for c in cells)
    top = max(done, key=lambda t: t["score"])
    assert res.best_score == top["score"]
    assert res.best_params["C"] in c_grid and res.best_params["normalize"] in norm_grid
    winner = next(t for t in done if (t["p"], t["q"]) == (res.best_params["p"], res.best_params["q"]))
    assert (res.best_params["C"], res.best_params["normalize"]) == (winner["C"], winner["normalize"])
    assert res.to_dict()["best_params"] == res.best_params


def _two_departments() -> Graph:
    """Two departments with eight courses of their own each and one course they share (sides declared by the
    networkx ``bipartite`` attribute: a 2-colourable graph is not taken for people and items on its own)."""
    g = nx.Graph()
    for d in ("D:a", "D:b"):
        g.add_edges_from((d, f"C:{d[-1]}{i}") for i in range(8))
        g.add_edge(d, "C:shared")
    nx.set_node_attributes(g, {u: int(u.startswith("C:")) for u in g.nodes}, "bipartite")
    return from_networkx(g)


def test_equivalence_classes_hash_neighbours_and_weights() -> None:
    from hyperselect.represent.node2vec import equivalence_classes

    graph = _two_departments()
    rep = equivalence_classes(graph)
    names = graph.nodes
    assert {names[rep[graph.index_of(f"C:a{i}")]] for i in range(8)} == {"C:a0"}
    assert names[rep[graph.index_of("C:shared")]] == "C:shared" and rep[0] != rep[graph.index_of("D:b")]
    weighted = nx.Graph()
    weighted.add_weighted_edges_from([("x", "hub", 1.0), ("y", "hub", 1.0), ("z", "hub", 2.0)])
    weighted.add_node("lonely1")
    weighted.add_node("lonely2")
    with pytest.warns(UserWarning):
        wg = from_networkx(weighted)
    wrep = [wg.nodes[r] for r in equivalence_classes(wg)]
    assert dict(zip(wg.nodes, wrep, strict=True)) == {
        "x": "x",
        "y": "x",
        "z": "z",  # same neighbour, another weight: not tied
        "hub": "hub",
        "lonely1": "lonely1",  # nodes with no neighbours are never grouped
        "lonely2": "lonely2",
    }
    with pytest.warns(UserWarning, match="no outgoing edge"):
        directed = from_networkx(nx.DiGraph([("s", "a"), ("s", "b"), ("a", "t"), ("b", "t"), ("c", "t")]))
    drep = dict(zip(directed.nodes, (directed.nodes[r] for r in equivalence_classes(directed)), strict=True))
    assert drep["b"] == "a" and drep["c"] == "c"  # c has the same out-neighbour but no in-neighbour


def test_grouped_answers_stable_across_seeds_raw_lists_not() -> None:
    graph = _two_departments()
    models = [
        Node2Vec(dimensions=16, num_walks=10, epochs=1, ensemble=1, random_state=s, workers=1).fit(graph)
        for s in range(5)
    ]
    grouped = [m.most_similar("C:a3", k=2) for m in models]
    first = grouped[0]
    assert first[0].equivalent and first[0].node == "C:a0" and first[0].similarity == 1.0
    assert first[0].tied == ("C:a1", "C:a2", "C:a4", "C:a5", "C:a6", "C:a7")
    assert first[0].to_dict()["tied"] == list(first[0].tied) and first[0].to_dict()["equivalent"]
    assert all([a.node for a in answers] == [a.node for a in first] for answers in grouped)
    assert (
        not first[1].equivalent
        and first[1].to_dict()["tied"] == []
        and "equivalent" not in first[1].to_dict()
    )
    raw = [m.most_similar("C:a3", k=2, group_equivalent=False) for m in models]
    assert all(a.tied == () and a.node.startswith("C:a") for answers in raw for a in answers)
    # which two of the seven tied courses come first is down to the seed
    assert len({tuple(a.node for a in answers) for answers in raw}) > 1
    # a department's answers: its own course classes are not offered (other side), the peer is
    assert [a.node for a in models[0].most_similar("D:a", k=3)] == ["D:b"]
    # grouped recommendations: D:a is offered D:b's eight own courses as one tied class
    rec = models[0].recommend("D:a", k=3)
    assert [(a.node, len(a.tied)) for a in rec.add] == [("C:b0", 7)]
    res = stability(graph, seeds=(0, 1, 2), k=2, queries=["C:a3"], dimensions=16, num_walks=5, workers=1)
    assert res["mean_topk_overlap"] == 1.0 and res["mean_topk_overlap_raw"] < 1.0


def test_one_class_is_refused_and_empty_classes_are_dropped() -> None:
    """One class scores 1.0 with any classifier; a class whose nodes are all label-only scores F1 0."""
    from hyperselect.data.graph import GraphDataWarning, NodeLabels
    from hyperselect.evaluate.node_classification import labelled_rows, tune_node2vec

    g = nx.karate_club_graph()
    graph = from_networkx(g)
    one = labels_from_mapping(dict.fromkeys(g.nodes, "club"), source="one.tsv")
    with pytest.raises(DataError, match=r"one\.tsv: every labelled node has the class 'club'.*two classes"):
        labelled_rows(one, graph.nodes)
    with pytest.raises(DataError, match="at least two classes"):
        tune_node2vec(graph, one, n_trials=1, workers=1)  # refused before any walk
    clubs = {str(u): (d["club"],) for u, d in g.nodes(data=True)}
    ghosts = NodeLabels(
        {**clubs, "ghost1": ("phantom",), "ghost2": ("phantom",)}, ["Mr. Hi", "Officer", "phantom"], "g.tsv"
    )
    with pytest.warns(GraphDataWarning) as record:
        rows, y, classes = labelled_rows(ghosts, graph.nodes)
    messages = " ".join(str(w.message) for w in record)
    assert "2 labelled node(s) are not in the graph" in messages
    assert "1 class(es) have no labelled node left in the graph (e.g. ['phantom'])" in messages
    assert classes == ["Mr. Hi", "Officer"] and y.shape == (34, 2) and len(rows) == 34
    only = NodeLabels({"0": ("a",), "ghost": ("b",)}, ["a", "b"], "o.tsv")
    with pytest.warns(GraphDataWarning), pytest.raises(DataError, match=r"only the class 'a' has labelled"):
        labelled_rows(only, graph.nodes)


def test_evaluate_refuses_no_repeats_and_no_models() -> None:
    from hyperselect.evaluate.node_classification import evaluate_embeddings

    x, y = _multilabel_data()
    with pytest.raises(ConfigError, match=r"repeats must be an integer >= 1\. Got 0"):
        evaluate_embeddings(x, y, models=("logreg",), repeats=0)
    with pytest.raises(ConfigError, match="No model to evaluate"):
        evaluate_embeddings(x, y, models=())
    with pytest.raises(ConfigError, match="Unknown model 'svm'"):
        evaluate_embeddings(x, y, models=("logreg", "svm"))


def test_extreme_p_q_refused_and_rejection_capped() -> None:
    """q = 1e-300 used to hang the otf sampler; in range, a low acceptance rate falls back to an exact draw."""
    graph = GRAPHS["karate_weighted"]()
    for p, q in ((1.0, 1e-300), (1e-4, 1.0), (1.0, 1e4)):
        with pytest.raises(ConfigError, match=r"must be a float in \[0\.001, 1000\]"):
            generate_walks(graph, num_walks=1, walk_length=5, p=p, q=q)
    with pytest.raises(
        ConfigError, match=r"The 'q' parameter of Node2Vec must be a float in \[0\.001, 1000\]"
    ):
        Node2Vec(q=1e-300).fit(graph)
    # a clique: every candidate is a neighbour of prev, so a proposal is accepted with probability q = 0.001
    clique = from_networkx(nx.complete_graph(12))
    t0 = time.perf_counter()
    walks = generate_walks(clique, num_walks=150, walk_length=40, p=1.0, q=1e-3, mode="otf", random_state=3)
    assert time.perf_counter() - t0 < 10
    pvalue, _ = _chi2_pvalue(clique, walks.walks, 1.0, 1e-3)
    assert pvalue > 1e-3
    # directed, q = 1000: candidates off prev's row are accepted with probability 0.001, with no way back
    pvalue, _ = _chi2_pvalue(
        _directed_weighted(),
        generate_walks(_directed_weighted(), num_walks=1000, walk_length=40, q=1e3, random_state=5).walks,
        1.0,
        1e3,
    )
    assert pvalue > 1e-3


def test_unknown_node_message_names_the_graph_and_close_ids() -> None:
    graph = from_networkx(nx.davis_southern_women_graph())
    model = Node2Vec(dimensions=8, num_walks=2, epochs=1, ensemble=1, random_state=0, workers=1).fit(graph)
    with pytest.raises(DataError) as exc:
        model.most_similar("evelyn jefferson")
    assert "is not in the graph the model was fitted on (32 nodes)" in str(exc.value)
    assert "did you mean 'Evelyn Jefferson'" in str(exc.value) and "has no edges" not in str(exc.value)


KW = dict(dimensions=16, walk_length=20, num_walks=10, epochs=2, ensemble=2, random_state=0, workers=1)


def _named(answers: list[Answer]) -> set[str]:
    """Every node an answer list names, tied ones included."""
    return {u for a in answers for u in (a.node, *a.tied)}


def test_two_colourable_graphs_are_not_kept_to_one_colour() -> None:
    """A star, a path, a grid: 2-colourable, not people and items; answers come from every node."""
    star = Node2Vec(**KW).fit(nx.star_graph(5))
    assert _named(star.most_similar(0, k=5)) == {"1", "2", "3", "4", "5"}
    assert star.sides(None) == (None, "")
    path = Node2Vec(**KW).fit(nx.path_graph(8))
    assert {"2", "4"} <= _named(path.most_similar(3, k=4))
    grid = Node2Vec(**KW).fit(nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4)))
    neighbours = set(grid.graph_.neighbors("5"))
    assert neighbours & _named(grid.most_similar(5, k=15)) == neighbours
    # asked for explicitly, the 2-colouring still applies
    same = _named(path.most_similar(3, k=7, same_side=True))
    assert same and same <= {"1", "5", "7"}
    with pytest.raises(DataError, match="odd cycle"):
        Node2Vec(**KW).fit(nx.cycle_graph(5)).most_similar(0, same_side=True)
    # recommend needs sides: a 2-colouring, and it says so
    with pytest.warns(UserWarning, match="two sides of a 2-colouring of the graph, as it declares no sides"):
        rec = path.recommend(3, k=2)
    assert rec.sides_from.startswith("a 2-colouring") and all(p.node in {"1", "5", "7"} for p in rec.peers)


def test_recommend_and_same_side_share_one_choice_of_sides() -> None:
    """recommend falls back on the 2-colouring as same_side=True does, but says so once, at the caller's line;
    declared sides need no word; an odd cycle is refused naming the method that needed the sides."""
    import warnings

    from hyperselect.data.graph import GraphDataWarning
    from hyperselect.represent.node2vec.model import TWO_COLOURING

    path = Node2Vec(**KW).fit(nx.path_graph(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for, the 2-colouring is not announced
        assert path.sides(True)[1] == TWO_COLOURING
        peers = path.most_similar(3, k=2, same_side=True)
    with pytest.warns(GraphDataWarning) as record:
        rec = path.recommend(3, k=2, n_peers=2)
    assert len(record) == 1 and record[0].filename == __file__, [str(w.message) for w in record]
    assert rec.sides_from == TWO_COLOURING and rec.peers == peers
    davis = Node2Vec(**KW).fit(nx.davis_southern_women_graph())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = davis.recommend("Evelyn Jefferson", k=2, n_peers=3)
    assert rec.sides_from == "the networkx 'bipartite' node attribute"
    assert rec.peers == davis.most_similar("Evelyn Jefferson", k=3, same_side=True)
    odd = Node2Vec(**KW).fit(nx.cycle_graph(5))
    with pytest.raises(DataError, match=r"^recommend needs a bipartite graph.*has an odd cycle"):
        odd.recommend(0)
    with pytest.raises(DataError, match=r"^same_side=True needs a bipartite graph.*has an odd cycle"):
        odd.sides(True)


def test_declared_sides_keep_people_with_people() -> None:
    model = Node2Vec(**KW).fit(nx.davis_southern_women_graph())
    events = {u for u, d in nx.davis_southern_women_graph().nodes(data=True) if d["bipartite"] == 1}
    answers = model.most_similar("Evelyn Jefferson", k=20)
    assert answers and not _named(answers) & events
    assert model.sides(None)[1] == "the networkx 'bipartite' node attribute"
    assert _named(model.most_similar("Evelyn Jefferson", k=31, same_side=False)) & events


def test_npy_roundtrip_keeps_the_sides(tmp_path: Path) -> None:
    import json

    davis = nx.davis_southern_women_graph()
    events = {u for u, d in davis.nodes(data=True) if d["bipartite"] == 1}
    model = Node2Vec(**KW).fit(davis)
    loaded = Node2Vec.load(model.save(tmp_path / "emb"))
    answers = loaded.most_similar("Evelyn Jefferson", k=20)
    assert answers and not _named(answers) & events
    assert [a.node for a in answers] == [a.node for a in model.most_similar("Evelyn Jefferson", k=20)]
    assert loaded.sides_from_ == "the networkx 'bipartite' node attribute"
    # a folder saved before sides were kept still loads, without sides
    meta_path = tmp_path / "emb" / "nodes.json"
    meta = json.loads(meta_path.read_text())
    del meta["sides"], meta["sides_from"]
    meta_path.write_text(json.dumps(meta))
    old = Node2Vec.load(tmp_path / "emb")
    assert old.sides_ is None and _named(old.most_similar("Evelyn Jefferson", k=31)) & events
    with pytest.raises(DataError, match="pass graph="):
        old.most_similar("Evelyn Jefferson", same_side=True)


@pytest.mark.parametrize(
    ("graph", "kind", "helper"),
    [
        ([(1, 2), (2, 3)], "list", "from_edges(src, dst, weights, nodes)"),
        (np.eye(3), "ndarray", "from_scipy_sparse"),
    ],
)
def test_fit_refuses_what_is_not_a_graph_and_names_the_helper(graph: object, kind: str, helper: str) -> None:
    with pytest.raises(DataError) as info:
        Node2Vec(**KW).fit(graph)
    message = str(info.value)
    assert message.startswith(f"Node2Vec.fit expects a hyperselect Graph or a networkx graph; got {kind} (")
    assert helper in message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m: m.most_similar(0, k=2.5),
            "The 'k' parameter of most_similar must be an int in [1, inf). Got 2.5.",
        ),
        (
            lambda m: m.most_similar(0, k=-1),
            "The 'k' parameter of most_similar must be an int in [1, inf). Got -1.",
        ),
        (
            lambda m: m.most_similar(0, k=0),
            "The 'k' parameter of most_similar must be an int in [1, inf). Got 0.",
        ),
        (
            lambda m: m.recommend(0, k=1.0),
            "The 'k' parameter of recommend must be an int in [1, inf). Got 1.0.",
        ),
        (
            lambda m: m.recommend(0, n_peers=-1),
            "The 'n_peers' parameter of recommend must be an int in [1, inf).",
        ),
        (
            lambda m: m.recommend(0, n_peers=0),
            "The 'n_peers' parameter of recommend must be an int in [1, inf).",
        ),
        (
            lambda m: m.recommend(0, n_substitutes=-2),
            "The 'n_substitutes' parameter of recommend must be an int in [0, inf). Got -2.",
        ),
    ],
)
def test_bad_counts_of_look_ups_are_config_errors(call: object, message: str) -> None:
    model = Node2Vec(**KW).fit(nx.star_graph(5))
    with pytest.raises(ConfigError) as info:
        call(model)  # type: ignore[operator]
    assert message in str(info.value)
    assert len(model.most_similar(0, k=np.int64(2), group_equivalent=False)) == 2  # numpy ints are ints


def test_an_ensemble_on_a_directed_graph_with_rarely_reached_sinks(tmp_path: Path) -> None:
    """Each member's walks reach other sinks: a row one member lacked was still "embedded", and aligning the
    members failed with scipy's "array must not contain infs or NaNs" (the default ensemble of 5 on any such
    graph).  A node is embedded where every member embedded it, and the unreached sinks are counted."""
    from hyperselect.data.graph import GraphDataWarning, read_edgelist

    path = tmp_path / "dstar.tsv"
    path.write_text("".join(f"hub\tleaf{i}\n" for i in range(60)) + "a\thub\n", encoding="utf-8")
    with pytest.warns(GraphDataWarning, match="incoming but no outgoing"):
        graph = read_edgelist(path, directed=True)
    model = Node2Vec(dimensions=8, num_walks=5, epochs=1, ensemble=3, random_state=0, workers=1)
    with pytest.warns(
        GraphDataWarning, match=r"of the 60 sink node\(s\) .* not reached by the walks of every"
    ):
        model.fit(graph)
    embedded = model.embedded_
    assert 0 < embedded.sum() < graph.n_nodes
    for m in model.member_embeddings_:
        assert np.isfinite(m[embedded]).all()
    assert np.isfinite(model.embeddings_[embedded]).all()
    assert model.most_similar("hub", 3)  # answers, no traceback
    missing = next(u for u, e in zip(model.nodes_, embedded, strict=True) if not e)
    with pytest.raises(DataError, match="no walk reached it"):
        model.most_similar(missing, 3)


def test_auto_effort_on_short_directed_walks_is_sized_by_their_length(tmp_path: Path) -> None:
    """Walks on a prerequisite-like graph stop after a couple of nodes: the "auto" effort assumed 80 tokens a
    walk and trained a few percent of its budget, so answers were noise at 0 % support."""
    from hyperselect.data.graph import GraphDataWarning, read_edgelist

    path = tmp_path / "prereq.tsv"
    # 300 two-step chains: every walk ends at its third node
    path.write_text("".join(f"a{i}\tb{i}\nb{i}\tc{i}\n" for i in range(300)), encoding="utf-8")
    with pytest.warns(GraphDataWarning):
        graph = read_edgelist(path, directed=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphDataWarning)
        model = Node2Vec(dimensions=8, ensemble=1, random_state=0, workers=1).fit(graph)
    assert model.effort_["mean_walk_length"] < 3
    assert (model.effort_["num_walks"], model.effort_["epochs"]) == (20, 5)
    long = Node2Vec(dimensions=8, ensemble=1, random_state=0, workers=1).fit(nx.karate_club_graph())
    assert "mean_walk_length" not in long.effort_


def test_word2vec_save_says_the_sides_are_not_kept(tmp_path: Path) -> None:
    from hyperselect.data.graph import GraphDataWarning

    davis = nx.davis_southern_women_graph()
    graph = from_networkx(nx.relabel_nodes(davis, {u: str(u).replace(" ", "_") for u in davis}))
    model = Node2Vec(dimensions=8, num_walks=5, epochs=1, ensemble=1, random_state=0, workers=1).fit(graph)
    with pytest.warns(GraphDataWarning, match="the graph's two sides are not kept"):
        model.save(tmp_path / "d.txt", format="word2vec")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphDataWarning)
        model.save(tmp_path / "d")  # npy keeps them


def test_a_searched_network_never_sees_the_test_half_and_handles_multilabel() -> None:
    """network_trials > 0: a search per split on the training nodes only; the test half's labels cannot move
    the choice (shuffling them leaves every chosen configuration as it was)."""
    from hyperselect.errors import ConfigError
    from hyperselect.evaluate.node_classification import evaluate_embeddings

    rng = np.random.default_rng(0)
    cls = np.repeat(np.arange(3), 30)
    x = np.eye(3)[cls] * 3 + rng.normal(size=(90, 3))
    y = np.eye(3, dtype=int)[cls]
    kw = {"models": ("network",), "repeats": 2, "n_jobs": 1, "network_trials": 3}
    res = evaluate_embeddings(x, y, **kw)["models"]["network"]
    assert res["macro_f1"] > 0.8 and len(res["searches"]) == 2
    # a split's test half is perm[45:] of the same rng stream: scramble the labels of exactly those rows
    perm = np.random.default_rng(0).permutation(90)
    scrambled = y.copy()
    scrambled[perm[45:]] = y[perm[45:]][::-1]
    again = evaluate_embeddings(x, scrambled, **{**kw, "repeats": 1})["models"]["network"]
    assert again["searches"][0]["best_config"] == res["searches"][0]["best_config"]
    assert again["searches"][0]["best_valid_score"] == res["searches"][0]["best_valid_score"]
    multi = y.copy()
    multi[::4, 0] = 1  # some nodes carry two labels
    res = evaluate_embeddings(x, multi, **{**kw, "repeats": 1})["models"]["network"]
    assert 0 < res["macro_f1"] <= 1 and res["searches"][0]["score_name"]
    with pytest.raises(ConfigError, match="network_trials must be an integer >= 0"):
        evaluate_embeddings(x, y, network_trials=-1)


def test_loading_a_malformed_word2vec_file_names_the_line(tmp_path: Path) -> None:
    """Node2Vec.load and the report read word2vec files with one parser; a header of words was a bare
    ValueError from int() before."""
    bad = tmp_path / "e.txt"
    for text, message in (
        ("three 2\na 0.1 0.2\n", "line 1: expected the word2vec header"),
        ("2 2\na 0.1 0.2\nb 0.3 x\n", "line 3: expected a node id and 2 numbers"),
        ("3 2\na 0.1 0.2\nb 0.3 0.4\n", "the header says 3 vectors, found 2"),
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            Node2Vec.load(bad)
    bad.write_bytes(b"1 1\n\xff 0.5\n")
    with pytest.raises(DataError, match="not UTF-8"):
        Node2Vec.load(bad)
    bad.write_text("2 2\na 0.1 0.2\nb 0.3 0.4\n", encoding="utf-8")
    assert Node2Vec.load(bad).embeddings_.shape == (2, 2)
