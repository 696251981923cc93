"""The hpo_vs_optuna benchmark's baseline cache: a cached run comes back as it was measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from hyperselect.nn.config import MLPConfig

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "hpo_vs_optuna.py"


def _load() -> object:
    spec = importlib.util.spec_from_file_location("hpo_vs_optuna", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_cached_baseline_run_round_trips_through_json() -> None:
    bench = _load()
    cfg = MLPConfig(hidden=(64, 32), lr=3e-3, batch_size=32, dropout=0.2, optimizer="momentum")
    points = [(0.5, 0.91), (2.25, 0.97)]
    completed = [(0.5, 0.91), (1.0, 0.88), (2.25, 0.97)]
    d = json.loads(json.dumps(bench._baseline_to_json(points, cfg, 14, completed, 9.75)))  # type: ignore[attr-defined]
    got = bench._baseline_from_json(d)  # type: ignore[attr-defined]
    assert got == (points, cfg, 14, completed, 9.75)
    assert bench.time_to(got[0], 0.97) == 2.25  # type: ignore[attr-defined]
