"""The cost of a search batch's proposals as the study grows: Optuna's TPESampler vs hyperselect's BatchTPESampler.

A search asks a batch of configurations (18 by default) from a multivariate, grouped, constant-liar TPE.  Optuna's
sampler redoes its work over the whole study for every proposal, so a batch's proposals cost time linear in the
number of trials and a search's total is quadratic.  ``BatchTPESampler`` (``search.sampler``) caches what a
finished trial contributes and proposes the same parameters (``tests/test_search.py`` checks it).

This fills one study (hyperselect's default space for digits, grouped batches as ``tune`` asks them) with N
finished trials (a third COMPLETE, the rest PRUNED with a learning curve; parameters drawn at random, which is
fast), then times one batch of proposals with each sampler in turn on that study, interleaved, ``--repeats``
times (the batch's trials are then failed, which TPE ignores), and reports the medians and the ratio
(stock / cached: > 1 means the cache is faster).  One process, one thread.

    python benchmarks/tpe_asks.py --json benchmarks/results/tpe_asks.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hyperselect._io import atomic_write_json
from hyperselect.data import load_builtin
from hyperselect.search import study as study_mod
from hyperselect.search.sampler import BatchTPESampler, PriorSampler

TPE_ARGS = {"multivariate": True, "group": True, "constant_liar": True, "n_startup_trials": 5}


def fill(study: optuna.Study, settings: study_mod.SearchSettings, n: int, rng: np.random.Generator) -> None:
    sampler = study.sampler
    assert isinstance(sampler, PriorSampler)
    base = sampler.base
    sampler.base = optuna.samplers.RandomSampler(seed=0)
    sampler.n_prior = 0
    try:
        while len(study.trials) < n:
            batch = study_mod._ask_batch(study, settings, 18, 10**9, "bench", study_mod.SearchStats())
            for trial, _ in batch:
                v = float(rng.uniform(0.8, 0.99))
                for e in range(5):
                    trial.report(round(v - 0.01 * (5 - e), 3), e)
                if rng.random() < 1 / 3:
                    study.tell(trial, round(v, 3))
                else:
                    study.tell(trial, state=TrialState.PRUNED)
    finally:
        sampler.base = base


def batch_seconds(
    study: optuna.Study, settings: study_mod.SearchSettings, base: optuna.samplers.BaseSampler
) -> float:
    sampler = study.sampler
    assert isinstance(sampler, PriorSampler)
    sampler.base = base
    t0 = time.perf_counter()
    batch = study_mod._ask_batch(study, settings, 18, 10**9, "bench", study_mod.SearchStats())
    seconds = time.perf_counter() - t0
    for trial, _ in batch:
        study.tell(trial, state=TrialState.FAIL)
    # a WAITING group follower left by the last group would be asked next time: fail it too
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000])
    ap.add_argument("--quick", action="store_true", help="study sizes 200 and 500, 3 repeats")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.repeats = [200, 500], 3
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    data = load_builtin("digits")
    study, settings = study_mod.create_study(data, n_trials=10**6, batch_size=18, random_state=0)
    rng = np.random.default_rng(0)
    cases = []
    for n in sorted(args.sizes):
        fill(study, settings, n, rng)
        stock, cached = [], []
        for r in range(args.repeats):  # interleaved; fresh samplers, as a new worker would have
            stock.append(batch_seconds(study, settings, optuna.samplers.TPESampler(seed=r, **TPE_ARGS)))  # type: ignore[arg-type]
            cached.append(batch_seconds(study, settings, BatchTPESampler(seed=r, **TPE_ARGS)))
        # a running search keeps its sampler from batch to batch: its caches are warm
        warm = BatchTPESampler(seed=0, **TPE_ARGS)
        batch_seconds(study, settings, warm)
        warm_times = [batch_seconds(study, settings, warm) for _ in range(args.repeats)]
        case = {
            "finished_trials": n,
            "proposals_per_batch": 18,
            "optuna_tpe_ms": 1e3 * statistics.median(stock),
            "batch_tpe_cold_ms": 1e3 * statistics.median(cached),
            "batch_tpe_warm_ms": 1e3 * statistics.median(warm_times),
        }
        case["ratio_cold"] = case["optuna_tpe_ms"] / case["batch_tpe_cold_ms"]
        case["ratio_warm"] = case["optuna_tpe_ms"] / case["batch_tpe_warm_ms"]
        cases.append(case)
        print(json.dumps(case), flush=True)
    out = {
        "benchmark": "tpe_asks",
        "command": " ".join(["python", "benchmarks/tpe_asks.py", *sys.argv[1:]]),
        "quick": args.quick,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "cases": cases,
        "summary": {
            "ratio_warm_at_largest": cases[-1]["ratio_warm"],
            "ratio_cold_at_largest": cases[-1]["ratio_cold"],
            "median_ratio_warm": statistics.median(c["ratio_warm"] for c in cases),
            "meaning": "Optuna TPESampler / BatchTPESampler seconds for one batch of 18 proposals; > 1: faster",
        },
    }
    atomic_write_json(args.json, out)
    print(json.dumps(out["summary"]))


if __name__ == "__main__":
    main()
