"""The compiled skip-gram with shared negatives vs per-pair negatives, on the same walks, in one process.

    python benchmarks/sgns_negatives.py --graphs PPI Wikipedia BlogCatalog --repeats 3 \
        --json benchmarks/results/sgns_negatives.json

A centre's negatives drawn once for all of its context pairs (``shared_negatives=True``, the library's default)
against word2vec's per-pair draws (``False``).  Each repeat walks once (node2vec's setting: 10 walks of 80 per
node, p = q = 1, its own seed) and trains both on those walks, in alternating order, with the same seed, one
thread, dimensions 128, window 10, 1 epoch; seconds are this process's CPU seconds (with one thread, elapsed
time on an idle machine).  Macro-F1: one-vs-rest logistic regression, 50 % training labels, 5 splits.
``summary``: per graph the median of the per-repeat time ratios (shared / per-pair) and the mean Macro-F1
difference (shared - per-pair).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hyperselect._io import atomic_write_json
from hyperselect.data.graph import read_edgelist, read_labels
from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix
from hyperselect.represent.node2vec import _sgns
from hyperselect.represent.node2vec.walks import generate_walks

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphs"


def macro_f1(vectors: np.ndarray, nodes: list[str], labels: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = labelled_matrix(vectors, nodes, labels)
    ev = evaluate_embeddings(x, y, models=("logreg",), repeats=5, random_state=0)
    return float(ev["models"]["logreg"]["macro_f1"])


def run_graph(path: Path, name: str, repeats: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = read_edgelist(path / f"{name}.edg")
        labels = read_labels(path / f"{name}.labels.tsv")
    rows = []
    for rep in range(repeats):
        walks = generate_walks(graph, num_walks=10, walk_length=80, random_state=rep, workers=1).walks
        flat = walks.ravel()
        counts = np.bincount(flat[flat >= 0], minlength=graph.n_nodes)
        row: dict[str, Any] = {"repeat": rep}
        for shared in (False, True) if rep % 2 == 0 else (True, False):
            t0 = time.process_time()
            vectors = _sgns.train(
                walks, counts, dimensions=128, window=10, negative=5, epochs=1, alpha=0.025,
                min_alpha=0.0001, sample=1e-3, workers=1, seed=rep, shared_negatives=shared,
            )  # fmt: skip
            key = "shared" if shared else "per_pair"
            row[f"{key}_s"] = time.process_time() - t0
            row[f"{key}_macro_f1"] = macro_f1(vectors, graph.nodes, labels)
        print(name, row, flush=True)
        rows.append(row)
    return {
        "repeats": rows,
        "time_ratio": statistics.median(r["shared_s"] / r["per_pair_s"] for r in rows),
        "macro_f1_delta": statistics.fmean(r["shared_macro_f1"] - r["per_pair_macro_f1"] for r in rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--graphs", nargs="+", default=["PPI", "Wikipedia", "BlogCatalog"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"data folder {args.data} not found", file=sys.stderr)
        return 2
    _sgns.train(
        np.zeros((1, 4), np.int32),
        np.array([4]),
        dimensions=8,
        window=2,
        negative=1,
        epochs=1,
        alpha=0.025,
        min_alpha=0.0001,
        sample=0.0,
        workers=1,
        seed=0,
    )  # fmt: skip  (compile)
    graphs = {g: run_graph(args.data / g, g, args.repeats) for g in args.graphs}
    result = {
        "benchmark": "sgns_negatives",
        "command": " ".join(["python", *sys.argv]),
        "load_average": os.getloadavg(),
        "graphs": graphs,
        "summary": {
            "time_ratio_shared_vs_per_pair": {g: r["time_ratio"] for g, r in graphs.items()},
            "macro_f1_delta_shared_minus_per_pair": {g: r["macro_f1_delta"] for g, r in graphs.items()},
        },
    }
    print(result["summary"])
    atomic_write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
