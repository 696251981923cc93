"""How rare a time-to-target target is: every configuration of a sample trained to early stopping, no search.

    OMP_NUM_THREADS=1 python benchmarks/target_landscape.py --json benchmarks/results/target_landscape.json

``hpo_vs_optuna.py`` times each side to the baseline's best validation score.  On embedded BBC News that score is
one of the top few a network reaches (310-313 of 320 validation rows), and how often a configuration reaches it
bounds what any search can do.  This script draws ``--n`` configurations from the advisor's space for a data set
of that benchmark (``--draw prior``: as the startup trials are drawn, from each dimension's prior; ``uniform``:
over the ranges, as the baseline's TPE starts), trains every one of them (populations of up to 36, one torch
thread) until early stopping or ``max_epochs`` 40, and records each trial's value as both sides of the benchmark
define it (the validation accuracy at the epoch early stopping chose) and its learning curve.

Figures: ``p_at_least[t]``, the fraction of configurations whose value reaches ``t`` (for the validation
scores ``--thresholds``, by default the three targets embedded BBC News' seeds give); and ``halving``, an
offline simulation on those curves of successive halving policies (stop a configuration at a rung of ``r``
epochs unless its best accuracy so far is in the top third of all configurations at that rung): per policy the
configurations completed, the target hits among them and the hits per 1,000 trained epochs (the currency of a
search's wall time).  ``by_batch_size``: per batch size of the space, the share of its configurations reaching each
threshold and the wall seconds its populations took per configuration (every population holds one batch size),
so hits per second: whether a cheaper corner of the space wins the lottery more often per second.  A sample
trains each configuration once: it measures the landscape, not a search.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hpo_vs_optuna import DATASETS, load_task, machine

from hyperselect._io import atomic_write_json
from hyperselect.search import advise
from hyperselect.search.space import Categorical, Float, Int
from hyperselect.search.study import batch_size_grid
from hyperselect.train.cohort import Cohort

POLICIES: dict[str, list[int]] = {"none": [], "5": [5], "3": [3], "2": [2], "2,5": [2, 5]}


def draw(space: Any, rng: np.random.Generator, how: str) -> dict[str, Any]:
    """One configuration's dimension values: from the priors, or uniform over the ranges (log scale where the
    dimension is searched on one)."""
    p: dict[str, Any] = {}
    for name, dim in space._ordered():
        if not space._applies(name, p):
            continue
        if how == "prior":
            p[name] = dim.sample_prior(rng)
        elif isinstance(dim, Categorical):
            p[name] = dim.choices[int(rng.integers(len(dim.choices)))]
        elif isinstance(dim, Int):
            lo, hi = (math.log(dim.low), math.log(dim.high)) if dim.log else (dim.low, dim.high + 1)
            v = rng.uniform(lo, hi)
            p[name] = round(math.exp(v)) if dim.log else min(dim.high, int(v))
        elif isinstance(dim, Float):
            v = rng.uniform(*((math.log(dim.low), math.log(dim.high)) if dim.log else (dim.low, dim.high)))
            p[name] = float(math.exp(v)) if dim.log else float(v)
    return p


def simulate(
    curves: list[list[float]], values: np.ndarray, rungs: list[int], target: float
) -> dict[str, Any]:
    """Successive halving replayed on full learning curves: (completed, hits, epochs trained)."""
    lengths = np.array([len(c) for c in curves])
    alive = np.ones(len(curves), bool)
    cost = np.zeros(len(curves))
    for r in rungs:
        score = np.array([max(c[:r]) for c in curves])
        reached = lengths >= r
        threshold = np.quantile(score[reached], 2 / 3) if reached.any() else -np.inf
        drop = alive & (lengths > r) & (score < threshold)  # ties at the threshold go on, as in halving.py
        cost[drop] = r
        alive &= ~drop
    cost[alive] = lengths[alive]
    hits = int((alive & (values >= target - 1e-12)).sum())
    return {
        "completed": int(alive.sum()),
        "hits": hits,
        "epochs": float(cost.sum()),
        "hits_per_1000_epochs": 1000 * hits / float(cost.sum()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--dataset", choices=DATASETS, default="bbc-minilm")
    ap.add_argument("--draw", choices=("prior", "uniform"), default="prior")
    ap.add_argument("--n", type=int, default=400, help="configurations (default 400)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.96875, 0.971875, 0.975])
    args = ap.parse_args()
    torch.set_num_threads(1)
    data, skipped = load_task(args.dataset)
    if data is None:
        print(args.dataset, "skipped:", skipped)
        atomic_write_json(args.json, {"benchmark": "target_landscape", "skipped": skipped})
        return 0
    space = batch_size_grid(advise(data, max_epochs=40, arch="mlp"))
    rng = np.random.default_rng(args.seed)
    params = [draw(space, rng, args.draw) for _ in range(args.n)]
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)  # one population per batch size and depth
    for i, p in enumerate(params):
        groups[(p.get("batch_size", 0), p.get("n_layers", 0))].append(i)
    values = np.full(args.n, np.nan)
    curves: list[list[float]] = [[] for _ in range(args.n)]
    seconds_by_batch: dict[int, float] = defaultdict(float)
    t0 = time.perf_counter()
    for (batch_size, _depth), members in groups.items():
        for s in range(0, len(members), 36):
            tc = time.perf_counter()
            chunk = members[s : s + 36]
            cohort = Cohort(
                [space.build(params[i]) for i in chunk],
                data.X_train,
                data.y_train,
                data.X_valid,
                data.y_valid,
                task=data.task,
                n_classes=len(data.classes),
                seeds=[args.seed * 100_000 + i for i in chunk],
            )
            cohort.run_epochs(40)
            seconds_by_batch[batch_size] += time.perf_counter() - tc
            for j, i in enumerate(chunk):
                values[i] = cohort.summary(j).best_valid_score
                curves[i] = [v if math.isfinite(v) else -math.inf for v in cohort.valid_scores(j)]
    seconds = time.perf_counter() - t0
    ok = np.isfinite(values)
    vals, curves_ok = values[ok], [c for c, k in zip(curves, ok, strict=True) if k and c]
    p_at_least = {str(t): float((vals >= t - 1e-12).mean()) for t in args.thresholds}
    halving = {
        str(t): {name: simulate(curves_ok, vals, rungs, t) for name, rungs in POLICIES.items()}
        for t in args.thresholds
    }
    by_batch_size = {}
    for b, sec in sorted(seconds_by_batch.items()):
        rows = [i for i, p in enumerate(params) if p.get("batch_size", 0) == b and ok[i]]
        hits = {str(t): int((values[rows] >= t - 1e-12).sum()) for t in args.thresholds}
        by_batch_size[str(b)] = {
            "configurations": len(rows),
            "seconds_per_configuration": sec / max(1, len(rows)),
            "p_at_least": {t: h / max(1, len(rows)) for t, h in hits.items()},
            "hits_per_second": {t: h / sec for t, h in hits.items()},
        }
    out = {
        "benchmark": "target_landscape",
        "command": " ".join(["python", "benchmarks/target_landscape.py", *sys.argv[1:]]),
        "dataset": args.dataset,
        "draw": args.draw,
        "n": args.n,
        "diverged_or_unscored": int((~ok).sum()),
        "seconds": seconds,
        "machine": machine(),
        "valid_rows": len(data.y_valid),
        "value_quantiles": {str(q): float(np.quantile(vals, q)) for q in (0.5, 0.9, 0.99, 1.0)},
        "p_at_least": p_at_least,
        "halving": halving,
        "by_batch_size": by_batch_size,
    }
    atomic_write_json(args.json, out)
    print({"p_at_least": p_at_least, "seconds": round(seconds, 1)})
    for t, pol in halving.items():
        print(t, {k: round(v["hits_per_1000_epochs"], 2) for k, v in pol.items()})
    for b, row in by_batch_size.items():
        print(
            f"batch size {b}: {row['configurations']} configurations, {row['seconds_per_configuration'] * 1e3:.0f} ms"
            " each; hits per second",
            {t: round(v, 3) for t, v in row["hits_per_second"].items()},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
