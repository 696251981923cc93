"""Shared fixtures: fixed seeds for every test, and tiny deterministic data files."""

from __future__ import annotations

import logging
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

SEED = 0

# One compute thread per process: tests train tiny networks (where a second thread only adds synchronisation)
# and some start worker subprocesses that would otherwise fight over the same two cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _fixed_seeds() -> None:
    """Every test starts from the same global random state, so a failure reproduces on re-run."""
    random.seed(SEED)
    np.random.seed(SEED)
    # Seed torch only when it is loaded: test modules that use it import it at collection time, before any test
    # runs, and data-only runs should not pay seconds to import it.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(SEED)
        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)


def _tiny_table(n: int, regression: bool) -> str:
    """A small table with the awkward parts of real data: a categorical column, missing cells, string labels."""
    rng = np.random.default_rng(12345)
    colors = ["red", "green", "blue"]
    cities = ["Paris", "Zürich", "Oslo", "Lima"]
    lines = ["age,income,color,city,score,target"]
    for i in range(n):
        age = int(rng.integers(18, 80))
        income = round(float(rng.normal(50_000, 15_000)), 2)
        color = colors[i % 3]
        city = cities[int(rng.integers(0, 4))]
        score = round(float(rng.normal()), 4)
        if regression:
            target = f"{0.05 * age + (1.5 if color == 'red' else -0.5) + 0.1 * score:.4f}"
        else:
            target = {"red": "cat", "green": "dog", "blue": "bird"}[color]
        cells = [str(age), f"{income}", color, city, f"{score}", target]
        if i % 7 == 3:
            cells[0] = ""  # missing number
        if i % 11 == 5:
            cells[2] = ""  # missing category
        if i % 13 == 6:
            cells[4] = "NA"
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny_classification_csv(tmp_path: Path) -> Path:
    """60 rows, 3 string classes ('bird', 'cat', 'dog') predictable from the 'color' column."""
    path = tmp_path / "tiny_classification.csv"
    path.write_text(_tiny_table(60, regression=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny_regression_csv(tmp_path: Path) -> Path:
    """60 rows, a float target that depends on 'age', 'color' and 'score'."""
    path = tmp_path / "tiny_regression.csv"
    path.write_text(_tiny_table(60, regression=True), encoding="utf-8")
    return path


@pytest.fixture
def restore_cli_logging() -> Iterator[None]:
    """The CLI configures the 'hyperselect' logger and captures warnings; leave both as found for the other
    test modules (a module that invokes the CLI uses it: ``pytestmark = pytest.mark.usefixtures(...)``)."""
    saved = {
        n: (lg.level, list(lg.handlers), lg.propagate)
        for n in ("hyperselect", "py.warnings")
        for lg in [logging.getLogger(n)]
    }
    yield
    for n, (level, handlers, propagate) in saved.items():
        lg = logging.getLogger(n)
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate = propagate
    logging.captureWarnings(False)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One torch thread for a module of tiny tensors (``pytestmark = pytest.mark.usefixtures(...)``): a second
    thread only adds synchronisation, and on a shared CI machine much more."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
