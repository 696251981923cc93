"""Population training steps at odd hidden widths: padded as populations pad them, or not at all.

Batched matrix products run markedly slower just below a multiple of 16 on a CPU (a width of 45 costs more than
48); populations therefore pad a layer up to the next multiple of ``WIDTH_ALIGN`` (16) where that adds at most
``WIDTH_PAD`` (4) units (``population.member_widths``: 45 -> 48, 60 and 63 -> 64; 33, 52, 100 and 120 stay).
This measures one training step of a population (the manual step and the fused update, one thread) at a few
odd widths both ways, interleaved in one process, and reports the median seconds and the ratio
(unaligned / aligned: > 1 means the alignment is faster).  The data have the shape of the embedded BBC News
benchmark (1,600 rows, 384 features, 5 classes) and of digits (64 features, 10 classes).

    python benchmarks/width_alignment.py --json benchmarks/results/width_alignment.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hyperselect._io import atomic_write_json
from hyperselect.nn.config import MLPConfig
from hyperselect.train import population
from hyperselect.train.population import PopulationTrainer


def step_seconds(cfgs: list[MLPConfig], data: tuple[np.ndarray, ...], n_out: int, align: int) -> float:
    default = population.WIDTH_ALIGN
    population.WIDTH_ALIGN = align  # 1: every width is its own multiple, i.e. no padding
    try:
        pop = PopulationTrainer(cfgs, *data, task="multiclass", n_classes=n_out, seeds=range(len(cfgs)))
        return pop.time_steps(20, warmup=5, clock=time.process_time)
    finally:
        population.WIDTH_ALIGN = default


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 repeats")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 2
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    cases = []
    for n_in, n_out, rows in ((384, 5, 1600), (64, 10, 1200)):
        X = rng.normal(size=(rows, n_in)).astype(np.float32)
        y = rng.integers(0, n_out, rows)
        data = (X, y, X[:300], y[:300])
        for k in (1, 18):
            for width in (33, 45, 52, 60, 63, 100, 120):
                cfgs = [
                    MLPConfig(hidden=(width, width), lr=1e-3, batch_size=64, dropout=0.0) for _ in range(k)
                ]
                plain, aligned = [], []
                for _ in range(args.repeats):  # interleaved: both see the same machine state
                    plain.append(step_seconds(cfgs, data, n_out, 1))
                    aligned.append(step_seconds(cfgs, data, n_out, population.WIDTH_ALIGN))
                case = {
                    "n_in": n_in,
                    "members": k,
                    "hidden": [width, width],
                    "padded_to": list(population.member_widths(cfgs)),
                    "unaligned_ms": 1e3 * statistics.median(plain),
                    "aligned_ms": 1e3 * statistics.median(aligned),
                }
                case["ratio"] = case["unaligned_ms"] / case["aligned_ms"]
                cases.append(case)
                print(json.dumps(case), flush=True)
    ratios = [c["ratio"] for c in cases]
    padded = [c["ratio"] for c in cases if c["padded_to"] != c["hidden"]]
    out = {
        "benchmark": "width_alignment",
        "command": " ".join(["python", "benchmarks/width_alignment.py", *sys.argv[1:]]),
        "quick": args.quick,
        "threads": 1,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "cases": cases,
        "summary": {
            "median_ratio_where_padded": statistics.median(padded),
            "median_ratio_elsewhere": statistics.median(
                c["ratio"] for c in cases if c["padded_to"] == c["hidden"]
            ),
            "median_ratio": statistics.median(ratios),
            "min_ratio": min(ratios),
            "max_ratio": max(ratios),
            "meaning": "unaligned / aligned seconds per population step; > 1: the padding is faster",
        },
    }
    atomic_write_json(args.json, out)
    print(json.dumps(out["summary"]))


if __name__ == "__main__":
    main()
