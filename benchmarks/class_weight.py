"""Class weights in the search on imbalanced classes: the advisor's space (which searches ``class_weight`` where
the smallest class is under 10 % of the training rows) against the same space without it.

    OMP_NUM_THREADS=1 python benchmarks/class_weight.py [--quick] --json benchmarks/results/class_weight.json

Data (``--kinds``): scikit-learn's ``make_classification`` (``--rows`` rows, 20 features, ``flip_y=0.02``) with one class
``--minority`` of the rows (binary), and a 4-class variant whose two smallest classes hold half of it each;
one data set per seed (``random_state=seed``), split 70/15/15 by ``prepare_arrays``; and ``wine``: the Wine
Reviews slice in ../shared/data (top-10 countries, the smallest 1.6 % of the rows) embedded by MiniLM, one split
per seed (skipped with its reason where the file is absent).  Per seed, two searches
side by side, same seed, trials and sampler, both maximising the validation ``--metric`` (balanced accuracy by
default): ``searched`` (the advisor's space: class_weight "none" or "balanced") and ``none`` (the same space with
``class_weight`` fixed to "none", what the search did before).  Each one's best configuration is refit on
train+valid and scored on the test split.  ``summary`` per data set: medians over seeds of the test metric of
both and of their difference, the number of seeds where ``searched`` is ahead / behind, and the share of
``searched``'s best configurations that use class weights.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hpo_vs_optuna import machine

from hyperselect._io import atomic_write_json
from hyperselect.search import advise, tune

WINE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "text"
    / "wine"
    / "winemag-data-130k-v2_rows0-10000.csv.gz"
)
_WINE: list[Any] = []


def wine_embedded() -> tuple[Any, Any]:
    """Wine Reviews' top-10 countries (US 44 %, Germany 1.6 % of the rows) as all-MiniLM-L6-v2 embeddings of the
    descriptions (128 word pieces, cached on disk by the encoder), encoded once per process."""
    if not _WINE:
        from hyperselect.data.text import load_text
        from hyperselect.represent.text import SentenceEncoder

        text = load_text(WINE, "description", "country", top_classes=10)
        E = SentenceEncoder(max_seq_length=128, progress=False).encode(text.texts)
        _WINE.append((E, np.asarray(text.labels)))
    return _WINE[0]  # type: ignore[no-any-return]


def make_data(kind: str, rows: int, minority: float, seed: int) -> Any:
    from sklearn.datasets import make_classification

    from hyperselect.data import prepare_arrays

    if kind == "wine":
        E, labels = wine_embedded()
        return prepare_arrays(E, labels, task="multiclass", random_state=seed, name="wine-minilm")

    if kind == "binary":
        weights, n_classes = [1 - minority, minority], 2
    else:
        # two rare classes of minority / 2 each: under the advisor's limit for four classes (5 %)
        weights, n_classes = [0.5 - minority / 2, 0.5 - minority / 2, minority / 2, minority / 2], 4
    X, y = make_classification(
        n_samples=rows,
        n_features=20,
        n_informative=8,
        n_classes=n_classes,
        weights=weights,
        flip_y=0.02,
        random_state=seed,
    )
    return prepare_arrays(
        X, y, task="binary" if n_classes == 2 else "multiclass", random_state=seed, name=kind
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--quick", action="store_true", help="3 seeds of 20 trials")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per data set (default 10; 3 with --quick)")
    ap.add_argument(
        "--trials", type=int, default=None, help="trials per search (default 40; 20 with --quick)"
    )
    ap.add_argument("--rows", type=int, default=1500)
    ap.add_argument("--minority", type=float, default=0.05)
    ap.add_argument("--metric", default="balanced_accuracy")
    ap.add_argument("--kinds", default="binary,multiclass")
    args = ap.parse_args()
    args.seeds = args.seeds or (3 if args.quick else 10)
    args.trials = args.trials or (20 if args.quick else 40)
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        if kind == "wine" and not WINE.exists():
            out[kind] = {"skipped": f"data not found: {WINE}"}
            print(kind, out[kind], flush=True)
            continue
        runs = []
        for seed in range(args.seeds):
            data = make_data(kind, args.rows, args.minority, seed)
            space = advise(data, max_epochs=60)
            if "class_weight" not in space.dims:
                sys.exit(
                    f"{kind} seed {seed}: the advisor did not search class_weight (smallest class too large?)"
                )
            run: dict[str, Any] = {"seed": seed}
            for variant, sp in (("searched", space), ("none", space.fix(class_weight="none"))):
                ts = time.perf_counter()
                res = tune(data, n_trials=args.trials, space=sp, random_state=seed, metric=args.metric)
                run[variant] = {
                    "test": res.test_metrics[f"test_{args.metric}"],
                    "test_accuracy": res.test_metrics["test_accuracy"],
                    "valid": res.best_valid_score,
                    "class_weight": res.best_config.class_weight,
                    "seconds": round(time.perf_counter() - ts, 2),
                }
            run["delta"] = run["searched"]["test"] - run["none"]["test"]
            print(kind, run, flush=True)
            runs.append(run)
        deltas = [r["delta"] for r in runs]
        out[kind] = {
            "runs": runs,
            "median_test_searched": statistics.median(r["searched"]["test"] for r in runs),
            "median_test_none": statistics.median(r["none"]["test"] for r in runs),
            "median_delta": statistics.median(deltas),
            "ahead": sum(d > 0 for d in deltas),
            "behind": sum(d < 0 for d in deltas),
            "share_best_weighted": float(
                np.mean([r["searched"]["class_weight"] == "balanced" for r in runs])
            ),
        }
        print(kind, {k: v for k, v in out[kind].items() if k != "runs"}, flush=True)
    doc = {
        "benchmark": "class_weight",
        "command": " ".join(["python", *sys.argv]),
        "metric": args.metric,
        "rows": args.rows,
        "minority": args.minority,
        "trials": args.trials,
        "seeds": args.seeds,
        "seconds": round(time.perf_counter() - t0, 1),
        "machine": machine(),
        "datasets": out,
        "summary": {kind: {k: v for k, v in d.items() if k != "runs"} for kind, d in out.items()},
    }
    atomic_write_json(args.json, doc)


if __name__ == "__main__":
    main()
