"""node2vec: ours vs PecanPy (SparseOTF, PreComp) side by side, plus the stability of small-graph answers.

    python benchmarks/node2vec.py --quick --json benchmarks/results/node2vec_quick.json
    python benchmarks/node2vec.py --json benchmarks/results/node2vec.json
    python benchmarks/node2vec.py --skip-tune --skip-stability --runs 3 --methods ours SparseOTF \
        --json benchmarks/results/node2vec_runs3.json

``--runs N`` repeats every method N times with embedding seeds seed, seed+1, ... (methods interleaved within a
run): the summary then compares median seconds and mean Macro-F1, since one embedding seed moves Macro-F1 by
about 0.005 on these graphs.

Setting (the node2vec paper's): dimensions 128, walk length 80, 10 walks per node, window 10, 1 epoch, all
cores (``--workers``), at p = q = 1 and p = 0.25, q = 4.  Every method runs in its own subprocess, which reports
its wall seconds (walks and training separately) and its own peak RSS (``VmHWM``); the parent scores all
embeddings with the same classifier and the same splits: one-vs-rest logistic regression, 50% training labels,
top-k labels per node, 5 repeats, Macro-F1 and Micro-F1.

PecanPy 2.0.9 depends on nptyping, which needs numpy < 2, while hyperselect's stack needs numpy >= 2, so
PecanPy runs from its own virtual environment (same numba and gensim versions):

    python3.11 -m venv /tmp/pecanpy-venv && /tmp/pecanpy-venv/bin/pip install pecanpy psutil "numpy<2"

and is found through ``--pecanpy-python`` (default: $PECANPY_PYTHON, then /tmp/pecanpy-venv/bin/python).
``ours`` uses the library's default skip-gram (the compiled kernel, ``backend="numba"``, a centre's negatives
shared by its context pairs); ``ours-exact`` the same kernel with word2vec's per-pair negatives; ``ours-gensim``
the same pipeline with gensim's Word2Vec, so the backend choice is decided by this benchmark (summary keys
ending in ``_exact_negatives`` and ``_gensim_skipgram``).
The ``stability`` section measures issue 10's target: the mean top-5 overlap of ``most_similar`` between 5
seeds with the library's defaults, on Davis Southern Women and on osu_department_course_bipartite, for the
answers as returned (tied nodes grouped) and for raw node lists.  It alone can be re-run and merged into an
existing result file:

    python benchmarks/node2vec.py --quick --only stability --json benchmarks/results/node2vec_quick.json

The tuned BlogCatalog section (issue 6: p, q and the classifier's C and row normalisation selected on 10%
validation labels, then scored on the test splits; skip-gram 3 epochs, ``--tune-epochs 1`` for the paper's 1)
alone, as its own file:

    python benchmarks/node2vec.py --only tuned --workers 2 --json benchmarks/results/node2vec_tuned_blogcatalog_e3.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "graphs"
SETTINGS = [(1.0, 1.0), (0.25, 4.0)]
WEIGHTED = {"Wikipedia": True}
#: our methods and the skip-gram backend each uses ("ours" is the library's default)
OURS = {"ours": "numba", "ours-exact": "numba-exact", "ours-gensim": "gensim"}


# ------------------------------------------------------------------------------------------------------------
# worker side: one method on one graph and setting, in a fresh process
# ------------------------------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    """This process's own peak resident set, in MB: Linux's ``VmHWM`` (the high-water mark of its resident memory).

    Not ``ru_maxrss``: on Linux that survives fork and exec, so a worker started by the parent reported at least
    the parent's resident set at that moment (every method after the first read the same ~400 MB on PPI and
    Wikipedia, and the RSS ratio against PecanPy compared the parent with itself).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # no /proc: an upper bound


def worker_ours(
    edg: str, p: float, q: float, workers: int, seed: int, out: str, backend: str = "gensim"
) -> dict[str, Any]:
    import warnings

    import numpy as np

    from hyperselect.data.graph import read_edgelist
    from hyperselect.represent.node2vec.skipgram import train_skipgram
    from hyperselect.represent.node2vec.walks import generate_walks

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = read_edgelist(edg)
    t1 = time.perf_counter()
    wr = generate_walks(graph, num_walks=10, walk_length=80, p=p, q=q, random_state=seed, workers=workers)
    t2 = time.perf_counter()
    sg = train_skipgram(
        wr.walks,
        graph.n_nodes,
        dimensions=128,
        window=10,
        epochs=1,
        workers=workers,
        seed=seed,
        backend=backend.removesuffix("-exact"),
        shared_negatives=False if backend != "numba" else None,
    )
    t3 = time.perf_counter()
    np.save(out, sg.vectors)
    return {"nodes": graph.nodes, "load_s": t1 - t0, "walks_s": t2 - t1, "train_s": t3 - t2, "mode": wr.mode}


def worker_pecanpy(
    edg: str, p: float, q: float, workers: int, seed: int, out: str, mode: str
) -> dict[str, Any]:
    import numpy as np
    from gensim.models import Word2Vec
    from pecanpy import pecanpy as pp

    cls = {"SparseOTF": pp.SparseOTF, "PreComp": pp.PreComp}[mode]
    t0 = time.perf_counter()
    g = cls(p=p, q=q, workers=workers, verbose=False, random_state=seed)
    g.read_edg(edg, weighted=WEIGHTED.get(Path(edg).stem, False), directed=False)
    t1 = time.perf_counter()
    g.preprocess_transition_probs()
    walks = g.simulate_walks(num_walks=10, walk_length=80)
    t2 = time.perf_counter()
    w2v = Word2Vec(walks, vector_size=128, window=10, min_count=0, sg=1, workers=workers, epochs=1, seed=seed)
    t3 = time.perf_counter()
    np.save(out, w2v.wv[g.nodes])
    return {"nodes": list(g.nodes), "load_s": t1 - t0, "walks_s": t2 - t1, "train_s": t3 - t2, "mode": mode}


def run_worker(args: argparse.Namespace) -> None:
    if args.worker in OURS:
        res = worker_ours(args.edg, args.p, args.q, args.workers, args.seed, args.out, OURS[args.worker])
    else:
        res = worker_pecanpy(args.edg, args.p, args.q, args.workers, args.seed, args.out, args.worker)
    res["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(res))


# ------------------------------------------------------------------------------------------------------------
# parent side
# ------------------------------------------------------------------------------------------------------------
def _pecanpy_python(arg: str | None) -> str | None:
    for cand in (
        arg,
        os.environ.get("PECANPY_PYTHON"),
        ".venv-pecanpy/bin/python",
        "/tmp/pecanpy-venv/bin/python",
    ):
        if cand and Path(cand).exists():
            return cand
    return None


def run_method(
    python: str, method: str, edg: Path, p: float, q: float, workers: int, seed: int
) -> dict[str, Any]:
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "emb.npy")
        cmd = [python, __file__, "--worker", method, "--edg", str(edg), "--p", str(p), "--q", str(q)]
        cmd += ["--workers", str(workers), "--seed", str(seed), "--out", out]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - t0
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            return {"method": method, "failed": True, "reason": proc.stderr[-2000:]}
        res = json.loads(lines[-1][7:])
        res["embeddings"] = np.load(out)
    res.update(method=method, process_wall_s=wall, total_s=res["walks_s"] + res["train_s"])
    return res


def score(res: dict[str, Any], labels: Any, repeats: int, seed: int) -> dict[str, Any]:
    import warnings

    from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = labelled_matrix(res["embeddings"], res["nodes"], labels)
    ev = evaluate_embeddings(x, y, models=("logreg",), repeats=repeats, random_state=seed)["models"]["logreg"]
    return {k: ev[k] for k in ("macro_f1", "macro_f1_std", "micro_f1", "micro_f1_std")}


def stability_section(data: Path, seeds: tuple[int, ...]) -> dict[str, Any]:
    """Issue 10: top-5 overlap of ``most_similar`` between 5 seeds, with the library's defaults.

    Three readings of the same fitted models: ``grouped`` compares the answers as returned (one per class of
    structurally equivalent nodes, named by its representative); ``raw`` compares plain node lists
    (``group_equivalent=False``), where which of many tied nodes make the top 5 is chance; ``raw_any_component``
    also lifts the same-component restriction, which is how node2vec answers are usually taken (and what this
    section measured before).  Queries with no possible answer in any run (a department alone in its
    component) are left out and counted.  ``cpu_s_per_fit`` is less sensitive than wall time to other load.
    """
    import warnings

    import networkx as nx
    import numpy as np

    from hyperselect.data.graph import from_networkx, read_edgelist
    from hyperselect.represent.node2vec.model import Node2Vec, topk_overlap

    readings = {
        "grouped": {},
        "raw": {"group_equivalent": False},
        "raw_any_component": {"group_equivalent": False, "same_component": False},
    }
    out: dict[str, Any] = {}
    graphs: dict[str, Any] = {"davis_southern_women": from_networkx(nx.davis_southern_women_graph())}
    osu = data / "osu_department_course_bipartite" / "osu_department_course_bipartite.edg"
    if osu.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graphs["osu_department_course_bipartite"] = read_edgelist(osu)
    for name, graph in graphs.items():
        models, walls, cpus = [], [], []
        for s in seeds:
            t0, c0 = time.perf_counter(), _cpu_s()
            models.append(Node2Vec(random_state=s).fit(graph))
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu_s() - c0)
        equivalence = models[0].equivalence_
        class_size = np.bincount(equivalence, minlength=graph.n_nodes)[equivalence]
        entry: dict[str, Any] = {
            "effort": models[0].effort_,
            "wall_s_per_fit": float(np.median(walls)),
            "cpu_s_per_fit": float(np.median(cpus)),
            "seeds": list(seeds),
            "k": 5,
            "nodes_tied_with_another": int((class_size > 1).sum()),
            "equivalence_classes": len(np.unique(equivalence)),
            "components": len(np.unique(models[0].component_)),
        }
        query_sets = {"all_nodes": [u for u, ok in zip(graph.nodes, models[0].embedded_, strict=True) if ok]}
        if name.startswith("osu"):
            query_sets["departments"] = [u for u in graph.nodes if u.startswith("D:")]
        for qname, qs in query_sets.items():
            entry[f"queries_{qname}"] = len(qs)
            for rname, lookup in readings.items():
                res = topk_overlap(models, qs, 5, **lookup)
                suffix = "" if rname == "grouped" else f"_{rname}"
                entry[f"top5_overlap_{qname}{suffix}"] = res["overlap"]
                if rname == "grouped":
                    entry[f"queries_without_answers_{qname}"] = res["no_answer"]
        out[name] = entry
        print(f"stability {name}: {json.dumps(entry)}", flush=True)
    return out


def _cpu_s() -> float:
    """CPU seconds of this process, all threads."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def stability_summary(stab: dict[str, Any]) -> dict[str, Any]:
    """``min_top5_stability``: the worst graph's all-node overlap of the answers as returned (grouped)."""
    out: dict[str, Any] = {}
    for suffix in ("", "_raw", "_raw_any_component"):
        out[f"min_top5_stability{suffix}"] = min(
            (v[f"top5_overlap_all_nodes{suffix}"] for v in stab.values()), default=None
        )
    osu = stab.get("osu_department_course_bipartite")
    if osu:
        for suffix in ("", "_raw", "_raw_any_component"):
            out[f"osu_departments_top5_stability{suffix}"] = osu[f"top5_overlap_departments{suffix}"]
    return out


def only_stability(args: argparse.Namespace) -> int:
    """Recompute the stability section and merge it into ``--json`` without re-running the rest."""
    from hyperselect._io import atomic_write_json

    result: dict[str, Any] = {}
    if args.json and args.json.is_file():
        result = json.loads(args.json.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    result["stability"] = stability_section(args.data, (0, 1, 2, 3, 4))
    result["stability_meta"] = {
        "command": "python benchmarks/node2vec.py --quick --only stability --json PATH",
        "seconds": time.perf_counter() - t0,
        "load_average_at_end": os.getloadavg(),
    }
    summary = dict(result.get("summary", {}))
    summary.update(stability_summary(result["stability"]))
    result["summary"] = summary
    print(json.dumps(summary, indent=2))
    if args.json:
        atomic_write_json(args.json, result)
    return 0


def tuned_blogcatalog(
    data: Path,
    workers: int,
    repeats: int,
    seed: int,
    trials: int,
    dimensions: tuple[int, ...] = (128,),
    epochs: int = 3,
) -> dict[str, Any]:
    """Issue 6: p, q, the dimension and the classifier's C and row normalisation selected on 10% validation
    labels (``tune_node2vec``), then the paper's test protocol (``repeats`` random 50% splits) with that choice.
    ``epochs`` is the skip-gram's passes over the walks, the same for every trial and the final embedding: the
    paper's code runs 1, and 3 classify better (on one p=1, q=0.5 walk set, best classifier cell, 3 test
    splits: Macro-F1 0.247 at 1 epoch, 0.271 at 3, 0.268 at 5).
    """
    import warnings

    from hyperselect.data.graph import read_edgelist, read_labels
    from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix, tune_node2vec
    from hyperselect.represent.node2vec.skipgram import train_skipgram
    from hyperselect.represent.node2vec.walks import generate_walks

    folder = data / "BlogCatalog"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = read_edgelist(folder / "BlogCatalog.edg")
        labels = read_labels(folder / "BlogCatalog.labels.tsv")
        tune = tune_node2vec(
            graph,
            labels,
            n_trials=trials,
            dimensions=dimensions,
            epochs=epochs,
            workers=workers,
            random_state=seed,
        )
        best = tune.best_params
        wr = generate_walks(graph, p=best["p"], q=best["q"], random_state=seed, workers=workers)
        emb = train_skipgram(
            wr.walks,
            graph.n_nodes,
            dimensions=int(best["dimensions"]),
            epochs=epochs,
            workers=workers,
            seed=seed,
        )
        x, y = labelled_matrix(emb.vectors, graph.nodes, labels)
    ev = evaluate_embeddings(
        x,
        y,
        models=("logreg",),
        repeats=repeats,
        random_state=seed,
        C=best["C"],
        normalize=best["normalize"],
    )["models"]["logreg"]
    return {
        "tune": tune.to_dict(),
        "skipgram_epochs": epochs,
        "classifier": {"C": best["C"], "normalize": best["normalize"]},
        "test": ev,
    }


def only_tuned(args: argparse.Namespace) -> int:
    """The tuned BlogCatalog section alone, written to ``--json`` as its own result file."""
    from hyperselect._io import atomic_write_json

    t0, load0 = time.perf_counter(), os.getloadavg()
    dims = tuple(args.tune_dimensions)
    tuned = tuned_blogcatalog(
        args.data, args.workers, args.repeats, args.seed, args.tune_trials, dims, args.tune_epochs
    )
    data = "" if args.data == DEFAULT_DATA else f" --data {args.data}"
    if dims != (128,):
        data += " --tune-dimensions " + " ".join(map(str, dims))
    data += f" --tune-epochs {args.tune_epochs}"
    result = {
        "benchmark": (
            "node2vec tuned BlogCatalog (p, q and the logistic regression's C and row normalisation on 10% "
            "validation labels, then 5 test repeats at 50% labels)"
        ),
        "command": (
            f"python benchmarks/node2vec.py --only tuned --workers {args.workers} --repeats {args.repeats} "
            f"--seed {args.seed} --tune-trials {args.tune_trials}{data} --json {args.json or 'PATH'}"
        ),
        "skipgram": f"compiled (library default), {args.tune_epochs} epoch(s) over the walks",
        "classifier": (
            "one-vs-rest logistic regression, top-k labels per node; C in (1, 3, 10, 30, 100) and rows raw or "
            "scaled to unit L2 norm, chosen per trial with p and q on the mean validation Macro-F1 over 3 "
            "disjoint 10% slices of the labelled nodes, each classifier trained on 50% of the labels (the test "
            "splits are never used for selection); the test repeats use the best trial's choice"
        ),
        "seconds": time.perf_counter() - t0,
        "load_average_start": load0,
        "load_average_end": os.getloadavg(),
        "blogcatalog_tuned": tuned,
        "summary": {"blogcatalog_tuned_macro_f1": tuned["test"]["macro_f1"], "target": 0.25},
    }
    print(json.dumps({"best_params": tuned["tune"]["best_params"], **result["summary"]}, indent=2))
    if args.json:
        atomic_write_json(args.json, result)
    return 0


def node2vec_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (graph, setting, method): median wall seconds over the runs, the largest peak RSS and the mean
    Macro-F1 (each run has its own embedding seed); then each of ours against SparseOTF, worst case over
    graphs and settings."""
    import statistics

    cells: dict[tuple[str, float, str], list[dict[str, Any]]] = {}
    for r in runs:
        if not r.get("failed"):
            cells.setdefault((r["graph"], r["p"], r["method"]), []).append(r)

    def agg(rows: list[dict[str, Any]]) -> tuple[float, float, float]:
        return (
            statistics.median(x["total_s"] for x in rows),
            max(x["peak_rss_mb"] for x in rows),
            statistics.fmean(x["macro_f1"] for x in rows),
        )

    summary: dict[str, Any] = {}
    for method, suffix in (
        ("ours", ""),
        ("ours-exact", "_exact_negatives"),
        ("ours-gensim", "_gensim_skipgram"),
    ):
        ratios, rss, deltas = [], [], []
        for (graph, p, m), rows in cells.items():
            ref = cells.get((graph, p, "SparseOTF"))
            if m != method or not ref:
                continue
            (t, r, f), (t0, r0, f0) = agg(rows), agg(ref)
            ratios.append(t / t0)
            rss.append(r / r0)
            deltas.append(f - f0)
        summary["wall_ratio_vs_pecanpy" + suffix] = max(ratios) if ratios else None
        summary["rss_ratio_vs_pecanpy" + suffix] = max(rss) if rss else None
        summary["macro_f1_delta" + suffix] = min(deltas) if deltas else None
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="PPI only, plus the stability section")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--pecanpy-python", default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--runs",
        type=int,
        default=1,
        help="runs per method and setting, embedding seeds seed, seed+1, ...: the summary takes median seconds "
        "and mean Macro-F1 over them",
    )
    ap.add_argument("--tune-trials", type=int, default=12)
    ap.add_argument(
        "--tune-dimensions",
        type=int,
        nargs="+",
        default=[128],
        help="dimensions the tuned section selects from",
    )
    ap.add_argument(
        "--tune-epochs",
        type=int,
        default=3,
        help="skip-gram epochs of the tuned section, every trial and the final embedding (the paper's: 1; "
        "3 scored 0.267 against 0.247 at 1)",
    )
    ap.add_argument("--skip-stability", action="store_true")
    ap.add_argument("--skip-tune", action="store_true", help="leave out the tuned BlogCatalog run")
    ap.add_argument("--graphs", nargs="+", help="these graphs instead of the default set")
    ap.add_argument(
        "--methods",
        nargs="+",
        choices=[*OURS, "SparseOTF", "PreComp"],
        help="run only these methods (default: all; SparseOTF is the reference of the summary's ratios)",
    )
    ap.add_argument(
        "--only",
        choices=["stability", "tuned"],
        help="stability: run only this section and merge it (and its summary keys) into the existing --json "
        "file; tuned: run only the tuned BlogCatalog section and write it to --json as its own file",
    )
    # worker mode (internal)
    ap.add_argument("--worker", choices=[*OURS, "SparseOTF", "PreComp"])
    ap.add_argument("--edg")
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--q", type=float, default=1.0)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0

    sys.path.insert(0, str(ROOT / "src"))
    import platform

    from hyperselect.data.graph import read_labels

    if not args.data.is_dir():  # a skip with its reason, as fcnet.py's (make bench goes on)
        from hyperselect._io import atomic_write_json

        reason = f"data folder {args.data} not found (see ../shared/data/README.md)"
        atomic_write_json(args.json, {"benchmark": "node2vec", "skipped": reason})
        print(f"node2vec skipped: {reason}", file=sys.stderr)
        return 0
    if args.only == "stability":
        return only_stability(args)
    if args.only == "tuned":
        return only_tuned(args)
    pecan = _pecanpy_python(args.pecanpy_python)
    graphs = args.graphs or (["PPI"] if args.quick else ["BlogCatalog", "PPI", "Wikipedia"])
    result: dict[str, Any] = {
        "benchmark": "node2vec",
        "quick": args.quick,
        "setting": {
            "dimensions": 128,
            "walk_length": 80,
            "num_walks": 10,
            "window": 10,
            "epochs": 1,
            "workers": args.workers,
            "train_fraction": 0.5,
            "repeats": args.repeats,
            "classifier": "one-vs-rest logistic regression (C=1, raw rows), top-k labels",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "pecanpy_python": pecan,
        "command": " ".join(["python", "benchmarks/node2vec.py", *sys.argv[1:]]),
        "runs": [],
    }
    methods = [*OURS] + (["SparseOTF", "PreComp"] if pecan else [])
    if args.methods:
        methods = [m for m in methods if m in args.methods]
    if not pecan:
        result["pecanpy_skipped"] = (
            "no PecanPy interpreter found (make .venv-pecanpy/bin/python, or --pecanpy-python / PECANPY_PYTHON; "
            "see the module docstring): the comparison figures are null, ours' runs and the stability section "
            "still run"
        )
        print("PecanPy skipped: " + result["pecanpy_skipped"], flush=True)
    for name in graphs:
        edg = args.data / name / f"{name}.edg"
        labels = read_labels(args.data / name / f"{name}.labels.tsv")
        for p, q in SETTINGS:
            for run in range(args.runs):  # methods interleaved within each run, so load drifts hit all alike
                seed = args.seed + run
                for method in methods:
                    python = sys.executable if method in OURS else str(pecan)
                    res = run_method(python, method, edg, p, q, args.workers, seed)
                    row = {
                        "graph": name,
                        "p": p,
                        "q": q,
                        "run": run,
                        "seed": seed,
                        **{k: v for k, v in res.items() if k not in ("embeddings", "nodes")},
                    }
                    if not res.get("failed"):
                        row.update(score(res, labels, args.repeats, args.seed))
                    result["runs"].append(row)
                    print(json.dumps(row), flush=True)

    if not args.skip_stability:
        result["stability"] = stability_section(args.data, (0, 1, 2, 3, 4))
    if not args.quick and not args.skip_tune:
        result["blogcatalog_tuned"] = tuned_blogcatalog(
            args.data, args.workers, args.repeats, args.seed, args.tune_trials, epochs=args.tune_epochs
        )

    summary: dict[str, Any] = {}
    summary.update(node2vec_summary(result["runs"]))
    tuned = result.get("blogcatalog_tuned")
    summary["blogcatalog_tuned_macro_f1"] = tuned["test"]["macro_f1"] if tuned else None
    summary.update(stability_summary(result.get("stability", {})))
    result["summary"] = summary
    result["machine"]["load_average_at_end"] = os.getloadavg()
    print(json.dumps(summary, indent=2))
    if args.json:
        from hyperselect._io import atomic_write_json

        atomic_write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
