"""The single-network trainer: a mini-batch loop over in-memory tensors.

No DataLoader: when the data fits in memory, indexing a device tensor with a permutation is many times cheaper
than collating Python objects per batch.  The loop is the reference the population trainer must reproduce.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import make_loss, n_outputs_for, resolve_loss
from hyperselect.nn.mlp import build_model, count_parameters
from hyperselect.nn.optim import make_optimizer, make_scheduler
from hyperselect.tasks import Task
from hyperselect.train.batching import EpochShuffler, batch_bounds
from hyperselect.train.diagnostics import Finding, activation_stats, diagnose
from hyperselect.train.early_stopping import EarlyStopping
from hyperselect.train.history import History
from hyperselect.train.metrics import score_from_logits

log = logging.getLogger(__name__)

EVAL_CHUNK = 8192
DIAG_ROWS = 512

# Called after every epoch with (epoch, valid_score, valid_loss); returning True stops training ("pruned").
EpochCallback = Callable[[int, float, float], bool]


@dataclass
class TrainResult:
    model: nn.Module
    config: MLPConfig
    task: Task
    history: History
    status: str  # "completed" | "early_stopped" | "diverged" | "pruned"
    stop_reason: str
    best_epoch: int
    best_valid_loss: float
    best_valid_score: float
    n_parameters: int
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    activation_stats: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "task": self.task.value,
            "history": self.history.to_dict(),
            "status": self.status,
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "best_valid_loss": self.best_valid_loss,
            "best_valid_score": self.best_valid_score,
            "n_parameters": self.n_parameters,
            "seconds": self.seconds,
            "diagnostics": [f.to_dict() for f in self.findings],
            "activation_stats": self.activation_stats,
        }


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def as_tensors(X: Any, y: Any, task: Task, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    if task in (Task.BINARY, Task.MULTICLASS):
        yt = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    else:
        yt = torch.as_tensor(np.asarray(y), dtype=dtype, device=device)
    return Xt, yt


def infer_n_outputs(config: MLPConfig, task: Task, y: Any, n_classes: int | None) -> int:
    if task is Task.REGRESSION:
        arr = np.asarray(y)
        return 1 if arr.ndim == 1 else int(arr.shape[1])
    if task is Task.MULTILABEL:
        return int(np.asarray(y).shape[1])
    if n_classes is None:
        n_classes = int(np.max(np.asarray(y))) + 1
    return n_outputs_for(task, n_classes, loss=resolve_loss(config, task))


@torch.no_grad()
def evaluate_loss_score(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                        X: torch.Tensor, y: torch.Tensor, task: Task) -> tuple[float, float]:
    was = model.training
    model.eval()
    logits = torch.cat([model(X[i : i + EVAL_CHUNK]) for i in range(0, X.shape[0], EVAL_CHUNK)])
    model.train(was)
    return float(loss_fn(logits, y)), score_from_logits(logits, y, task)


def weight_params(model: nn.Module) -> list[nn.Parameter]:
    """The weight matrices/kernels, input side first: the layers whose gradient norms the history records."""
    return [p for name, p in model.named_parameters() if p.dim() >= 2 and "norm" not in name]


def train_network(
    config: MLPConfig,
    X_train: Any,
    y_train: Any,
    X_valid: Any,
    y_valid: Any,
    *,
    task: Task | str,
    n_classes: int | None = None,
    random_state: int = 0,
    data_seed: int | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    callback: EpochCallback | None = None,
    max_epochs: int | None = None,
) -> TrainResult:
    """Train one network; never raises for a diverging run (it is recorded as ``status="diverged"``).

    ``random_state`` seeds the initial weights and dropout; ``data_seed`` (default: ``random_state``) seeds
    the batch order.  ``max_epochs`` overrides the config's (the search's rungs use it).
    """
    task = Task(task)
    dev = torch.device(device) if device is not None else default_device()
    t0 = time.perf_counter()
    Xtr, ytr = as_tensors(X_train, y_train, task, dev, dtype)
    Xva, yva = as_tensors(X_valid, y_valid, task, dev, dtype)
    n_out = infer_n_outputs(config, task, y_train, n_classes)
    model = build_model(config, Xtr.shape[1], n_out, seed=random_state).to(device=dev, dtype=dtype)
    loss_fn = make_loss(config, task)
    opt = make_optimizer(config, model.parameters())
    sched = make_scheduler(config, opt)
    weights = weight_params(model)
    shuffler = EpochShuffler(Xtr.shape[0], random_state if data_seed is None else data_seed)
    bounds = batch_bounds(Xtr.shape[0], config.batch_size)
    monitor_loss = config.early_stopping_metric == "valid_loss"
    stopper = EarlyStopping(config.patience, "min" if monitor_loss else "max", config.min_delta)
    history = History()
    best_state: dict[str, torch.Tensor] | None = None
    status, reason = "completed", ""
    n_epochs = max_epochs if max_epochs is not None else config.max_epochs
    dropout_gen_seed = random_state + 1_000_003
    model.train()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(dropout_gen_seed)
        for epoch in range(n_epochs):
            te = time.perf_counter()
            perm = shuffler.next_permutation().to(dev)
            loss_sum = torch.zeros((), device=dev, dtype=dtype)
            gn_sum = torch.zeros(len(weights), device=dev, dtype=dtype)
            for s, e in bounds:
                idx = perm[s:e]
                xb, yb = Xtr[idx], ytr[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                if weights:
                    gn_sum += torch.stack(torch._foreach_norm([w.grad for w in weights]))  # type: ignore[misc]
                if config.grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                opt.step()
                loss_sum += loss.detach() * (e - s)
            train_loss = float(loss_sum) / Xtr.shape[0]
            grad_norms = (gn_sum / len(bounds)).tolist()
            lr_now = opt.param_groups[0]["lr"]
            if not math.isfinite(train_loss) or not all(math.isfinite(g) for g in grad_norms):
                history.append(epoch=epoch, train_loss=train_loss, valid_loss=math.nan, valid_score=math.nan,
                               lr=lr_now, grad_norms=grad_norms, seconds=time.perf_counter() - te)
                status = "diverged"
                what = "loss" if not math.isfinite(train_loss) else "gradient norm"
                reason = f"diverged: the training {what} became {train_loss if what == 'loss' else 'non-finite'} at epoch {epoch}"
                break
            valid_loss, valid_score = evaluate_loss_score(model, loss_fn, Xva, yva, task)
            history.append(epoch=epoch, train_loss=train_loss, valid_loss=valid_loss, valid_score=valid_score,
                           lr=lr_now, grad_norms=grad_norms, seconds=time.perf_counter() - te)
            if not math.isfinite(valid_loss):
                status, reason = "diverged", f"diverged: the validation loss became {valid_loss} at epoch {epoch}"
                break
            if stopper.update(valid_loss if monitor_loss else valid_score, epoch):
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if sched is not None:
                if config.lr_schedule == "plateau":
                    sched.step(valid_loss)
                else:
                    sched.step()
            if callback is not None and callback(epoch, valid_score, valid_loss):
                status, reason = "pruned", f"pruned after epoch {epoch}"
                break
            if stopper.should_stop:
                status, reason = "early_stopped", stopper.reason
                break
    if best_state is not None and status != "diverged":
        model.load_state_dict(best_state)
    best = stopper.best_epoch
    vl = history.valid_loss[best] if best >= 0 else math.nan
    vs = history.valid_score[best] if best >= 0 else math.nan
    if not reason:
        reason = f"completed {len(history)} epochs"
    stats = activation_stats(model, Xva[:DIAG_ROWS]) if status != "diverged" else []
    findings = diagnose(history, config.activation, stats, status)
    log.debug("trained %s: %s (best epoch %d, valid score %.4f)", config, reason, best, vs)
    return TrainResult(
        model=model, config=config, task=task, history=history, status=status, stop_reason=reason,
        best_epoch=best, best_valid_loss=vl, best_valid_score=vs, n_parameters=count_parameters(model),
        seconds=time.perf_counter() - t0, findings=findings, activation_stats=stats,
    )
