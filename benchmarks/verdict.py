"""Benchmark: the verdict on digits and mnist1d, every figure recorded.

    python benchmarks/verdict.py --quick --json benchmarks/results/verdict_quick.json
    python benchmarks/verdict.py --json benchmarks/results/verdict.json

``--quick`` uses the demo's budgets (``DEMO_SETTINGS``: 4 network trials per architecture, 3 per baseline, 1 x 5-fold CV);
the full run uses :func:`hyperselect.evaluate.compare`'s defaults (20 / 10 trials, 2 x 5-fold CV).  Both data
sets run in one process, side by side, single-threaded, so the costs compare.  The machine's load average is
recorded with the timings because on a shared machine it changes them several-fold.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import sys
import time
from typing import Any

from hyperselect._io import atomic_write_json
from hyperselect.data import load_builtin
from hyperselect.evaluate import compare, render_verdict
from hyperselect.evaluate.verdict import DEMO_SETTINGS

DATASETS = ("digits", "mnist1d")
#: Published mnist1d test accuracies (Greydanus 2020, the mnist1d README) to read ours against.
PUBLISHED_MNIST1D = {"cnn": "~0.94-0.99", "mlp": "~0.68", "logistic": "~0.32", "random_forest": "~0.70s"}


def _machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):  # not on every OS
        info["load_average_1m_5m_15m"] = list(os.getloadavg())
    return info


def run(quick: bool, seed: int) -> dict[str, Any]:
    settings: dict[str, Any] = dict(DEMO_SETTINGS) if quick else {"n_threads": 1}
    results: dict[str, Any] = {"quick": quick, "seed": seed, "settings": {k: v for k, v in settings.items()}}
    results["machine_before"] = _machine()
    for name in DATASETS:
        t0 = time.perf_counter()
        verdict = compare(load_builtin(name, random_state=seed), random_state=seed, **settings)
        wall = time.perf_counter() - t0
        print(render_verdict(verdict), flush=True)
        doc = verdict.to_dict()
        doc["wall_seconds"] = wall
        results[name] = doc
    results["published_mnist1d_test_accuracy"] = PUBLISHED_MNIST1D
    results["machine_after"] = _machine()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="the demo's budgets (minutes, not tens of minutes)"
    )
    parser.add_argument("--json", metavar="PATH", help="write every figure to PATH (atomically)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    results = run(args.quick, args.seed)
    if args.json:
        atomic_write_json(args.json, results)
        print(f"wrote {args.json}")
    for name in DATASETS:
        r = results[name]
        print(
            f"{name}: {r['recommendation']} | network {r['network']['name']} CV {r['network']['cv_mean']:.4f} "
            f"test {r['network']['test_score']:.4f} | baseline {r['baseline']['name']} CV "
            f"{r['baseline']['cv_mean']:.4f} test {r['baseline']['test_score']:.4f} | p {r['test']['p_value']:.3g} "
            f"| all-baselines p {r['network_win_p_value']:.3g} | {r['wall_seconds']:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
