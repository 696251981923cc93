"""What a larger search batch costs per training step: K copies of the advisor's default network as one population.

    python benchmarks/batch_step_cost.py --json benchmarks/results/batch_step_cost.json

For digits, mnist1d and embedded BBC News (the data sets of ``hpo_vs_optuna.py``), the advisor's default
configuration is stacked K = 1, 9 and 18 times into a :class:`~hyperselect.train.population.PopulationTrainer`
and one training step is timed (``time_steps``: median of 8 steps, this process's CPU seconds, one torch
thread; the minimum over ``--repeats`` fresh populations).  ``summary``: per data set ``t18_over_t9``, the cost
of doubling the batch from 9 to 18 (1: free, 2: no gain from vectorising), the figure behind
:func:`hyperselect.search.study.default_batch_size`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hpo_vs_optuna import DATASETS, load_task

from hyperselect._io import atomic_write_json
from hyperselect.search import advise
from hyperselect.train.population import PopulationTrainer

KS = (1, 9, 18)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    per: dict[str, dict[str, object]] = {}
    for name in DATASETS:
        data, skipped = load_task(name)
        if data is None:
            per[name] = {"skipped": skipped}
            continue
        space = advise(data, max_epochs=40, arch="mlp")
        config = space.build(space.default_params())
        step_ms = {}
        for k in KS:
            times = []
            for _ in range(args.repeats):
                pop = PopulationTrainer(
                    [config] * k,
                    data.X_train,
                    data.y_train,
                    data.X_valid,
                    data.y_valid,
                    task=data.task,
                    n_classes=len(data.classes),
                    seeds=list(range(k)),
                )
                times.append(pop.time_steps(8, clock=time.process_time))
            step_ms[k] = 1e3 * min(times)
        per[name] = {
            "rows_features": list(data.X_train.shape),
            "config": config.to_dict(),
            "step_ms": step_ms,
            "t18_over_t9": step_ms[18] / step_ms[9],
        }
        print(
            name, {k: round(v, 3) for k, v in step_ms.items()}, round(step_ms[18] / step_ms[9], 2), flush=True
        )
    result = {
        "benchmark": "batch_step_cost",
        "command": " ".join(["python", *sys.argv]),
        "load_average": os.getloadavg(),
        "datasets": per,
        "summary": {"t18_over_t9": {n: d.get("t18_over_t9") for n, d in per.items()}},
    }
    atomic_write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
