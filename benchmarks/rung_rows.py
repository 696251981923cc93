"""Halving rungs on a subset of the training rows (Hyperband's data budget) against rungs on every row.

    OMP_NUM_THREADS=1 python benchmarks/rung_rows.py --json benchmarks/results/rung_rows.json

mnist1d generated offline with ``--rows`` samples (the package's generator, 70/15/15 split by
``prepare_arrays``), searched by :func:`~hyperselect.search.tune` for ``--budget`` seconds per run with the
same seed, space and sampler; only ``rung_rows`` differs between the variants, side by side in one process:

* ``all``: every rung trains on every row (the default);
* each ``--variants`` entry, e.g. ``1/3`` (the first rung on a third of the rows) or ``1/9,1/3``.

Per seed and variant: the best validation accuracy of a completed trial after a quarter, half and all of the
budget, the time to reach the ``all`` variant's final best (``time_to_target``), and the test accuracy of the
best configuration refit on train+valid (outside the timed budget).  ``summary`` per variant: medians over
seeds of ``time_to_target_ratio`` (``all``'s time / the variant's; 0 where the variant never reached it) and of
``best_valid_delta`` and ``test_delta`` against ``all``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hpo_vs_optuna import machine, time_to, warm_up

from hyperselect._io import atomic_write_json
from hyperselect.cli_search import parse_fractions
from hyperselect.search import advise, tune
from hyperselect.search.study import batch_size_grid


def make_data(rows: int, seed: int = 0) -> Any:
    """mnist1d with ``rows`` samples (train and test of the generator pooled; prepare_arrays splits them)."""
    from mnist1d.data import get_dataset_args, make_dataset

    from hyperselect.data import prepare_arrays

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        args = get_dataset_args()
        args.num_samples = rows
        args.seed = seed
        ds = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    X = np.concatenate([ds["x"], ds["x_test"]]).astype(np.float64)
    y = np.concatenate([ds["y"], ds["y_test"]]).astype(np.int64)
    return prepare_arrays(X, y, task="multiclass", random_state=0, name=f"mnist1d-{rows}")


def one_run(data: Any, space: Any, seed: int, budget: float, rung_rows: list[float] | None) -> dict[str, Any]:
    t0 = time.time()
    res = tune(
        data,
        n_trials=100_000,
        timeout=budget,
        space=space,
        random_state=seed,
        refit=True,
        rung_rows=rung_rows,
    )
    study = res.study
    assert study is not None
    done = sorted(
        (t.datetime_complete.timestamp() - t0, float(t.value))
        for t in study.trials
        if t.state.name == "COMPLETE" and t.datetime_complete is not None
    )
    points, best = [], -np.inf
    for s, v in done:
        if v > best:
            best = v
            points.append((s, v))
    at = {
        f"best_valid_at_{round(100 * f)}pct": max((v for s, v in done if s <= f * budget), default=None)
        for f in (0.25, 0.5, 1.0)
    }
    return {
        "points": points,
        **at,
        "trials": len(study.trials),
        "completed": len(done),
        "test_accuracy": res.test_metrics.get("test_accuracy"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=40_000)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of search per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=["1/3", "1/9,1/3"])
    ap.add_argument("--quick", action="store_true", help="8,000 rows, 15 s, one seed: a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.budget, args.seeds = 8_000, 15.0, [0]
    torch.set_num_threads(1)
    t_start = time.time()
    warm = warm_up()
    data = make_data(args.rows)
    space = batch_size_grid(advise(data, max_epochs=40, arch="mlp"))
    variants: dict[str, list[float] | None] = {
        "all": None,
        **{v: parse_fractions(v, "--variants") for v in args.variants},
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for seed in args.seeds:
        for name, rr in variants.items():
            r = one_run(data, space, seed, args.budget, rr)
            r["seed"] = seed
            runs[name].append(r)
            print(
                f"seed {seed} {name:>8}: {r['trials']} trials, {r['completed']} completed, best valid "
                f"{r['best_valid_at_25pct']} / {r['best_valid_at_50pct']} / {r['best_valid_at_100pct']} "
                f"at 25/50/100 % of {args.budget:g} s, test {r['test_accuracy']}",
                flush=True,
            )
    summary: dict[str, Any] = {}
    for name in variants:
        if name == "all":
            continue
        ratios, dvalid, dtest = [], [], []
        for ref, r in zip(runs["all"], runs[name], strict=True):
            target = ref["points"][-1][1] if ref["points"] else None
            if target is None:
                continue
            ta, tv = time_to(ref["points"], target), time_to(r["points"], target)
            r["target_valid_accuracy"], r["time_to_target"] = target, tv
            r["time_to_target_all"] = ta
            ratios.append(0.0 if tv is None else (ta or 0.0) / max(tv, 1e-9))
            dvalid.append(r["best_valid_at_100pct"] - ref["best_valid_at_100pct"])
            if r["test_accuracy"] is not None and ref["test_accuracy"] is not None:
                dtest.append(r["test_accuracy"] - ref["test_accuracy"])
        summary[name] = {
            "median_time_to_target_ratio": statistics.median(ratios) if ratios else None,
            "time_to_target_ratios": ratios,
            "median_best_valid_delta": statistics.median(dvalid) if dvalid else None,
            "median_test_delta": statistics.median(dtest) if dtest else None,
        }
        print(name, summary[name], flush=True)
    atomic_write_json(
        args.json,
        {
            "benchmark": "rung_rows",
            "command": " ".join(["python", *sys.argv]),
            "rows": args.rows,
            "train_rows": len(data.y_train),
            "budget_seconds": args.budget,
            "seeds": args.seeds,
            "variants": variants,
            "torch_threads": torch.get_num_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "machine": machine(),
            "load_average": os.getloadavg(),
            "warm_up_seconds": warm,
            "seconds": time.time() - t_start,
            "runs": runs,
            "summary": summary,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
