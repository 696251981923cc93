"""Population trainer vs one-by-one training: configs x epochs per second, side by side in one run.

    python benchmarks/population.py --quick --json benchmarks/results/population_quick.json [--clock cpu]
    python benchmarks/population.py --json benchmarks/results/population.json

For each data set (digits, mnist1d generated offline), hidden width w (two hidden layers of w units) and
population size K, K random configurations (optimizer, activation, lr, weight decay, momentum/betas, dropout,
init, seed all drawn per member; batch size 64) are trained for E epochs by

* ``standard``: the loop an Optuna user writes per configuration: DataLoader(TensorDataset, shuffle=True) and a
  torch.optim optimizer, evaluating on the validation set after each epoch;
* ``single``: one configuration after the other, as a cohort trains a member alone (a population of one, whose
  hand-written step is faster than the single-network trainer's; NetworkRun where populations do not apply);
* ``population``: all K in one PopulationTrainer (forced);
* ``planned``: a Cohort in mode "auto" (the planner times both on this machine and picks).

Sequential methods cost the sum of their configurations' times, so the standard loop is timed on min(K, S)
of the K configurations and the single trainer on min(K, 32), reported per configuration.  Methods are interleaved within each repeat and the medians
over repeats are reported, because this machine may be shared: the ratio planned/single is the median of the
per-repeat ratios of back-to-back runs.  GFLOP/s of a population step (6 x batch x sum(in x out) per member:
forward, and backward to inputs and weights) is compared with a large matmul timed in the same run.

``--clock cpu`` times every side in this process's CPU seconds instead of elapsed seconds: with one torch
thread the two agree on an idle machine, and on a shared one CPU seconds leave out the time other processes
hold the cores (they still share its caches and memory bandwidth).  The compile time is always elapsed time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from hyperselect.data.builtin import load_builtin
from hyperselect.nn.config import ACTIVATIONS, OPTIMIZERS, MLPConfig
from hyperselect.nn.mlp import build_model
from hyperselect.nn.optim import make_optimizer
from hyperselect.train import planner as planner_mod
from hyperselect.train import population as population_mod
from hyperselect.train.cohort import Cohort
from hyperselect.train.population import PopulationTrainer

BATCH = 64
SINGLE_MAX = 32
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]  # --clock cpu: this process's CPU seconds, steadier than wall time on a shared machine


def matmul_peak(n: int, repeats: int = 7) -> float:
    """GFLOP/s of an n x n matmul: the device's practical arithmetic limit."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = clock()
        a @ b
        times.append(clock() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def random_configs(k: int, width: int, rng: np.random.Generator) -> list[MLPConfig]:
    out = []
    for _ in range(k):
        opt = str(rng.choice(OPTIMIZERS))
        lr = (
            float(10 ** rng.uniform(-2.5, -1.0))
            if opt in ("sgd", "momentum", "nesterov")
            else float(10 ** rng.uniform(-3.5, -2.0))
        )
        out.append(
            MLPConfig(
                hidden=(width, width),
                activation=str(rng.choice(ACTIVATIONS)),
                optimizer=opt,
                lr=lr,
                weight_decay=float(rng.choice([0.0, 1e-4, 1e-3])),
                momentum=float(rng.uniform(0.8, 0.95)),
                beta1=float(rng.uniform(0.85, 0.95)),
                beta2=float(rng.choice([0.99, 0.999])),
                dropout=float(rng.choice([0.0, 0.1, 0.2])),
                init=str(rng.choice(["default", "he", "xavier"])),
                batch_size=BATCH,
                max_epochs=1000,
                patience=None,
            )
        )
    return out


def standard_setup(config: MLPConfig, seed: int, data: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    """What a user builds per trial: the model, torch.optim and a DataLoader (not timed, as the population's
    construction is not)."""
    Xtr, ytr, Xva, yva = (torch.as_tensor(a) for a in data)
    torch.manual_seed(seed)
    model = build_model(config, Xtr.shape[1], 10)
    opt = make_optimizer(config, model.parameters())
    loader = DataLoader(
        TensorDataset(Xtr.float(), ytr.long()),
        batch_size=config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),  # the trial's own shuffle, whenever it is trained
    )
    return model, opt, loader, Xva, yva


def standard_loop(setup: tuple[Any, ...], epochs: int) -> None:
    """What a user's loop does per trial: DataLoader + torch.optim + per-epoch validation accuracy."""
    model, opt, loader, Xva, yva = setup
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            float((model(Xva.float()).argmax(1) == yva).float().mean())


def step_flops(configs: list[MLPConfig], n_in: int, n_out: int) -> float:
    total = 0
    for c in configs:
        dims = [n_in, *c.hidden, n_out]
        total += sum(a * b for a, b in itertools.pairwise(dims))
    return 6.0 * BATCH * total


def run_cell(
    name: str,
    data: tuple[np.ndarray, ...],
    k: int,
    width: int,
    epochs: int,
    repeats: int,
    n_seq: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    configs = random_configs(k, width, rng)
    seeds = list(range(k))
    sub = min(k, n_seq)
    n_single = min(k, SINGLE_MAX)
    kw: dict[str, Any] = dict(task="multiclass", n_classes=10)
    times: dict[str, list[float]] = {m: [] for m in ("standard", "single", "population", "planned")}
    ratios = []
    calib = []
    chosen: set[str] = set()
    planned_is_sequential = False

    def run_standard() -> None:
        setups = [standard_setup(configs[j], seeds[j], data) for j in range(sub)]
        t0 = clock()
        for setup in setups:
            standard_loop(setup, epochs)
        times["standard"].append((clock() - t0) / (sub * epochs))

    def run_single() -> float:
        # the single trainer through a Cohort in mode "sequential", on the same configurations as the planned
        # cohort (up to SINGLE_MAX of them): when the planner picks sequential for every member, planned and
        # single are then literally the same code path
        cohort = Cohort(
            configs[:n_single], *data, seeds=seeds[:n_single], data_seed=0, mode="sequential", **kw
        )
        t0 = clock()
        cohort.run_epochs(epochs)
        t = (clock() - t0) / (n_single * epochs)
        times["single"].append(t)
        return t

    def run_population() -> None:
        pop = PopulationTrainer(configs, *data, seeds=seeds, data_seed=0, **kw)
        t0 = clock()
        pop.run_epochs(epochs)
        times["population"].append((clock() - t0) / (k * epochs))

    def plan() -> Cohort:
        nonlocal chosen, planned_is_sequential
        planner_mod._TIMINGS.clear()  # every repeat pays (and reports) its own calibration
        t0 = clock()
        cohort = Cohort(configs, *data, seeds=seeds, data_seed=0, mode="auto", **kw)
        calib.append(clock() - t0)
        chosen.add(",".join(sorted({f"{u.kind}x{len(u.members)}" for u in cohort.plan.units})))
        planned_is_sequential = all(u.kind == "sequential" for u in cohort.plan.units)
        return cohort

    def run_planned(cohort: Cohort) -> float:
        t0 = clock()
        cohort.run_epochs(epochs)
        t = (clock() - t0) / (k * epochs)
        times["planned"].append(t)
        return t

    for rep in range(repeats):
        cohort = plan()
        if planned_is_sequential:
            # the plan IS sequential training: the planned run is the single run (same code, same members),
            # timed once; comparing two timings of one code path would only measure the machine's noise
            run_standard()
            run_population()
            t = run_single()
            times["planned"].append(t)
            ratios.append(1.0)
            continue
        # interleaved, order reversed every other repeat (ABBA), so drifting load hits both alike
        if rep % 2 == 0:
            run_standard()
            t_single = run_single()
            run_population()
            t_planned = run_planned(cohort)
        else:
            t_planned = run_planned(cohort)
            run_population()
            t_single = run_single()
            run_standard()
        ratios.append(t_single / t_planned)
        del cohort

    pop = PopulationTrainer(configs, *data, seeds=seeds, data_seed=0, **kw)
    step = pop.time_steps(5, clock=clock)
    flops = step_flops(configs, data[0].shape[1], 10)
    med = {m: statistics.median(v) for m, v in times.items()}
    row = {
        "dataset": name,
        "K": k,
        "width": width,
        "epochs": epochs,
        "repeats": repeats,
        "sequential_timed": sub,
        **{f"{m}_configs_epochs_per_s": 1.0 / med[m] for m in med},
        "speedup_population_vs_standard": med["standard"] / med["population"],
        "speedup_population_vs_single": med["single"] / med["population"],
        "speedup_planned_vs_single": statistics.median(ratios),
        "planned_units": " | ".join(sorted(chosen)),
        "planned_is_sequential": planned_is_sequential,
        "load_average_1min": os.getloadavg()[0],
        "calibration_s": statistics.median(calib),
        "population_step_ms": step * 1e3,
        "population_step_gflops": flops / step / 1e9,
    }
    print(
        f"{name:8s} K={k:4d} w={width:4d}  standard {row['standard_configs_epochs_per_s']:8.1f}  single "
        f"{row['single_configs_epochs_per_s']:8.1f}  population {row['population_configs_epochs_per_s']:8.1f}  "
        f"planned {row['planned_configs_epochs_per_s']:8.1f}  pop/std {row['speedup_population_vs_standard']:6.2f}"
        f"  planned/single {row['speedup_planned_vs_single']:5.2f}  [{row['planned_units']}]  "
        f"{row['population_step_gflops']:.1f} GFLOP/s",
        flush=True,
    )
    return row


def compile_warmup(data: tuple[np.ndarray, ...]) -> float | None:
    """Seconds of the one-time compile of the population update (per process and dtype), paid here so that no
    cell's timing includes it: the fused CPU kernel (numba: import, then compile or load from its disk cache)
    or torch.compile's; None where the update is not compiled."""
    t0 = time.perf_counter()  # wall time whatever --clock says: the C++ compiler runs in other processes
    pop = PopulationTrainer(
        random_configs(32, 32, np.random.default_rng(1)), *data, task="multiclass", n_classes=10
    )
    if not pop._fused:
        if not population_mod.compile_wanted(pop.flat.numel()):
            return None
        t0 = time.perf_counter()
    pop.time_steps(1, warmup=0)
    if not pop._fused and population_mod._compile_failed:
        return None
    return time.perf_counter() - t0


def padding_vs_bucketing(
    data: tuple[np.ndarray, ...], rng: np.random.Generator, repeats: int
) -> dict[str, Any]:
    """24 members of widths 32/64/128 (8 each): one padded population vs three bucketed ones, ms per step."""
    configs = [c for w in (32, 64, 128) for c in random_configs(8, w, rng)]
    kw: dict[str, Any] = dict(task="multiclass", n_classes=10)
    padded, bucketed = [], []
    for _ in range(repeats):
        padded.append(PopulationTrainer(configs, *data, **kw).time_steps(5, clock=clock))
        bucketed.append(
            sum(
                PopulationTrainer(configs[i : i + 8], *data, **kw).time_steps(5, clock=clock)
                for i in (0, 8, 16)
            )
        )
    out = {"padded_ms": statistics.median(padded) * 1e3, "bucketed_ms": statistics.median(bucketed) * 1e3}
    print(
        f"padding vs bucketing (widths 32/64/128 x 8): padded {out['padded_ms']:.2f} ms/step, bucketed "
        f"{out['bucketed_ms']:.2f} ms/step",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer cells, epochs and repeats (a few minutes)")
    ap.add_argument("--json", type=Path, required=True, help="where to write the results")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on a shared 2-core machine a second thread mostly waits)",
    )
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed seconds; cpu: this process's CPU seconds (same work on every side; with one "
        "thread it equals wall time on an idle machine and ignores time lost to other processes)",
    )
    ap.add_argument("--ks", type=int, nargs="+", help="population sizes instead of the default set")
    ap.add_argument("--widths", type=int, nargs="+", help="hidden widths instead of the default set")
    ap.add_argument("--repeats", type=int, help="interleaved repeats per cell instead of the default (5)")
    args = ap.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    if args.quick:
        ks, widths, epochs, repeats, n_seq = (1, 8, 32), (32, 128), 1, 5, 4
    else:
        ks, widths, epochs, repeats, n_seq = (1, 8, 32, 128), (32, 128, 512), 2, 5, 8
    ks = tuple(args.ks) if args.ks else ks
    widths = tuple(args.widths) if args.widths else widths
    repeats = args.repeats if args.repeats else repeats
    rng = np.random.default_rng(0)
    peak = matmul_peak(1024 if args.quick else 2048)
    print(f"matmul peak {peak:.1f} GFLOP/s, {torch.get_num_threads()} thread(s)", flush=True)
    d0 = load_builtin("digits", random_state=0)
    compile_s = compile_warmup((d0.X_train, d0.y_train, d0.X_valid, d0.y_valid))
    print(f"one-time compile of the population update: {compile_s} s", flush=True)
    rows = []
    datasets = {}
    for name in ("digits", "mnist1d"):
        d = load_builtin(name, random_state=0)
        datasets[name] = (d.X_train, d.y_train, d.X_valid, d.y_valid)
        for width in widths:
            for k in ks:
                rows.append(run_cell(name, datasets[name], k, width, epochs, repeats, n_seq, rng))
    for r in rows:
        r["population_step_fraction_of_peak"] = r["population_step_gflops"] / peak
    pad = padding_vs_bucketing(datasets["digits"], rng, repeats)

    def pick(k: int, w: int) -> float | None:
        cells = [r["speedup_population_vs_standard"] for r in rows if r["K"] == k and r["width"] == w]
        return min(cells) if cells else None

    summary = {
        "speedup_k32_w32": pick(32, 32),
        "speedup_k32_w128": pick(32, 128),
        "speedup_k128_w128": pick(128, 128),
        "planner_min_speedup": min(r["speedup_planned_vs_single"] for r in rows),
        "matmul_peak_gflops": peak,
        "update_compile_s": compile_s,
        "best_population_fraction_of_peak": max(r["population_step_fraction_of_peak"] for r in rows),
        "note": (
            "speedups are the minimum over the two data sets; medians over interleaved repeats on a shared "
            "machine; planned/single is 1 by identity in repeats where the plan is all-sequential (the same "
            "code path); the one-time compile of the update (update_compile_s) and the planner's calibration "
            "(calibration_s per cell) are reported, not included in the rates; times are "
            + ("wall-clock seconds" if args.clock == "wall" else "CPU seconds of this process")
        ),
    }
    print(json.dumps(summary, indent=2))
    result = {
        "benchmark": "population",
        "command": "python benchmarks/population.py " + " ".join(sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "clock": args.clock,
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
        },
        "settings": {
            "K": list(ks),
            "widths": list(widths),
            "hidden_layers": 2,
            "batch_size": BATCH,
            "epochs": epochs,
            "repeats": repeats,
            "sequential_timed_configs": n_seq,
        },
        "summary": summary,
        "padding_vs_bucketing": pad,
        "cells": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    # atomic write: a crash never leaves a half-written file that a later run trusts
    with tempfile.NamedTemporaryFile("w", dir=args.json.parent, delete=False, suffix=".tmp") as f:
        json.dump(
            result, f, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x
        )
    os.replace(f.name, args.json)


if __name__ == "__main__":
    main()
