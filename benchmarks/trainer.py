"""Epochs per second: hyperselect's trainer against the standard PyTorch loop, same network, same data.

    python benchmarks/trainer.py --json benchmarks/results/trainer.json          # full
    python benchmarks/trainer.py --quick                                          # a smoke run

The reference is what a PyTorch tutorial writes: ``TensorDataset`` + ``DataLoader(shuffle=True)`` +
``torch.optim.Adam``, with a validation pass each epoch (our trainer does one too, to early-stop).  Ours indexes
in-memory tensors with one permutation per epoch instead of collating per batch, and also records per-layer
gradient norms, so it does strictly more bookkeeping per step.  Both start from the same initial weights
(``build_model`` with the same seed).

Timings are medians over repeats, interleaved (ours, reference, reference, ours, ...) so that a slow patch of a
shared machine hits both.  Both run with the same torch thread count (default 1: on a small shared machine
more threads mostly add contention).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect._io import atomic_write_json
from hyperselect.nn.config import MLPConfig
from hyperselect.nn.mlp import build_model
from hyperselect.train.trainer import NetworkRun


def make_data(n: int, n_features: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n,
        n_features=n_features,
        n_informative=n_features // 2,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    n_train = int(0.8 * n)
    return X[:n_train], y[:n_train].astype(np.int64), X[n_train:], y[n_train:].astype(np.int64)


def run_ours(
    config: MLPConfig, data: tuple[np.ndarray, ...], epochs: int, n_classes: int, device: str
) -> tuple[float, float]:
    """Seconds for ``epochs`` epochs (setup excluded) and the final validation accuracy."""
    run = NetworkRun(config, *data, task="multiclass", n_classes=n_classes, random_state=0, device=device)
    _sync(device)
    t0 = time.perf_counter()
    run.run_epochs(epochs)
    _sync(device)
    return time.perf_counter() - t0, run.history.valid_score[-1]


def run_reference(
    config: MLPConfig, data: tuple[np.ndarray, ...], epochs: int, n_classes: int, device: str
) -> tuple[float, float]:
    """The standard loop: DataLoader over a TensorDataset, torch.optim.Adam, a validation pass per epoch."""
    from torch.utils.data import DataLoader, TensorDataset

    Xtr, ytr, Xva, yva = (torch.as_tensor(a) for a in data)
    model = build_model(config, Xtr.shape[1], n_classes, seed=0).to(device)
    opt = torch.optim.Adam(
        model.parameters(), lr=config.lr, betas=(config.beta1, config.beta2), eps=config.eps
    )
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(
        TensorDataset(Xtr, ytr),
        batch_size=config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    Xva_d, yva_d = Xva.to(device), yva.to(device)
    acc = float("nan")
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(Xva_d)
            _valid_loss = float(loss_fn(logits, yva_d))
            acc = float((logits.argmax(1) == yva_d).float().mean())
    _sync(device)
    return time.perf_counter() - t0, acc


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small data, few repeats: a smoke run")
    p.add_argument("--json", type=Path, help="write the results here (atomically)")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per trainer (default 7; quick 3)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per run (default 5; quick 2)")
    p.add_argument("--n", type=int, default=None, help="rows (default 20000; quick 4000)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads for both trainers")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args(argv)

    repeats = args.repeats or (3 if args.quick else 7)
    epochs = args.epochs or (2 if args.quick else 5)
    n = args.n or (4000 if args.quick else 20000)
    n_features, n_classes = 64, 10
    torch.set_num_threads(args.threads)
    data = make_data(n, n_features, n_classes)
    n_train = data[0].shape[0]
    n_batches = -(-n_train // args.batch_size)
    # a mid-sized MLP (compute-bound on a CPU) and a small one (typical of tabular search, where per-batch
    # overhead is a larger share of each step)
    cases = {"mlp_256_128": (256, 128), "mlp_64": (64,)}
    results: dict[str, Any] = {}
    for case, hidden in cases.items():
        config = MLPConfig(
            hidden=hidden, batch_size=args.batch_size, max_epochs=10_000, patience=None, lr=1e-3
        )
        # one untimed epoch each: first-call costs (allocator, kernels, lazy imports) are not what we compare
        run_ours(config, data, 1, n_classes, args.device)
        run_reference(config, data, 1, n_classes, args.device)
        timings: dict[str, list[float]] = {"hyperselect": [], "pytorch_dataloader": []}
        accuracy: dict[str, list[float]] = {"hyperselect": [], "pytorch_dataloader": []}
        runners = {"hyperselect": run_ours, "pytorch_dataloader": run_reference}
        for r in range(repeats):
            order = (
                ["hyperselect", "pytorch_dataloader"] if r % 2 == 0 else ["pytorch_dataloader", "hyperselect"]
            )
            for name in order:
                secs, acc = runners[name](config, data, epochs, n_classes, args.device)
                timings[name].append(epochs / secs)
                accuracy[name].append(acc)
            print(
                f"{case} repeat {r + 1}/{repeats}: "
                + ", ".join(f"{k} {v[-1]:.2f} epochs/s" for k, v in timings.items()),
                file=sys.stderr,
            )
        med = {k: statistics.median(v) for k, v in timings.items()}
        results[case] = {
            "hidden": list(hidden),
            **{
                name: {
                    "epochs_per_second": v,
                    "median_epochs_per_second": med[name],
                    "median_ms_per_batch": 1000.0 / (med[name] * n_batches),
                    "final_valid_accuracy_median": statistics.median(accuracy[name]),
                }
                for name, v in timings.items()
            },
            "speedup_median": med["hyperselect"] / med["pytorch_dataloader"],
        }

    ratios = {case: r["speedup_median"] for case, r in results.items()}
    text = "; ".join(
        f"{case}: {r['hyperselect']['median_epochs_per_second']:.2f} vs "
        f"{r['pytorch_dataloader']['median_epochs_per_second']:.2f} epochs/s = {r['speedup_median']:.2f}x"
        for case, r in results.items()
    )
    result = {
        "benchmark": "trainer",
        "command": " ".join(
            ["python", "benchmarks/trainer.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "description": "epochs/second of hyperselect's NetworkRun vs TensorDataset+DataLoader+torch.optim.Adam, "
        "same MLP, same data, same initial weights; each epoch includes a validation pass",
        "settings": {
            "n_train": n_train,
            "n_valid": data[2].shape[0],
            "n_features": n_features,
            "n_classes": n_classes,
            "batch_size": args.batch_size,
            "batches_per_epoch": n_batches,
            "epochs_per_run": epochs,
            "repeats": repeats,
            "torch_threads": args.threads,
            "device": args.device,
            "quick": args.quick,
        },
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
        "results": results,
        "summary": {
            "speedup_median": ratios,
            "text": f"hyperselect trainer vs standard DataLoader loop, epochs/s: {text} (medians of {repeats} "
            f"interleaved repeats, {args.threads} torch thread(s), {args.device}; shared machine, noisy)",
        },
    }
    print(result["summary"]["text"])
    if args.json is not None:
        atomic_write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
