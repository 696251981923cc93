"""The single-network trainer: a mini-batch loop over in-memory tensors.

No DataLoader: when the data fits in memory, indexing a device tensor with a permutation is many times cheaper
than collating Python objects per batch.  The loop is the reference the population trainer must reproduce.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import class_weights, make_loss, n_outputs_for, resolve_loss
from hyperselect.nn.mlp import build_model, count_parameters
from hyperselect.nn.optim import make_optimizer, make_scheduler
from hyperselect.tasks import Task
from hyperselect.train.batching import EpochShuffler, RowSchedule, batch_bounds
from hyperselect.train.diagnostics import ConstantLoss, Finding, activation_stats, constant_loss, diagnose
from hyperselect.train.early_stopping import EarlyStopping
from hyperselect.train.history import History
from hyperselect.train.metrics import score_from_logits

log = logging.getLogger(__name__)

EVAL_CHUNK = 8192
DIAG_ROWS = 512
#: The start of the stop reason of a run whose epoch ``should_stop`` interrupted (see ``run_epochs``).
INTERRUPTED = "interrupted"

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


def check_device(
    device: str | torch.device | None, what: str = "'device'", *, expected: str | None = None
) -> torch.device:
    """``device`` as a torch device this machine has (None: cuda when available), else a ConfigError that
    says what is available -- not torch's "Torch not compiled with CUDA enabled" from deep inside a run.

    ``expected`` (e.g. "None or one of 'cpu', 'cuda', 'cuda:N', 'mps'") makes the check strict, in the
    estimators' template "The {what} must be {expected}. Got ...": a value that is not a str or torch device
    (torch reads an int as a CUDA index) or names another kind of device ('meta') is refused as malformed,
    not as a device this machine lacks."""
    from hyperselect.errors import ConfigError

    if device is None:
        return default_device()
    shown = expected if expected is not None else "'cpu', 'cuda' or 'cuda:N'"
    malformed = f"The {what} must be {shown}. Got {device!r}."
    if expected is not None and not isinstance(device, str | torch.device):
        raise ConfigError(malformed)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(malformed) from None
    if expected is not None and dev.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(malformed)
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise ConfigError(f"The {what} is {device!r}, but this machine has no CUDA device; use 'cpu'.")
        if dev.index is not None and dev.index >= n:
            raise ConfigError(
                f"The {what} is {device!r}, but this machine has {n} CUDA device(s) (0-{n - 1})."
            )
        return dev
    if dev.type == "mps" and torch.backends.mps.is_available():
        return dev
    raise ConfigError(f"The {what} is {device!r}, which this machine does not have; use 'cpu' or 'cuda'.")


def as_tensors(
    X: Any, y: Any, task: Task, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
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
def evaluate_loss_score(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    task: Task,
    metric: str | None = None,
    y_scale: float | None = None,
) -> tuple[float, float]:
    """The validation loss and ``metric``'s score (``y_scale``: :func:`score_from_logits`'s)."""
    was = model.training
    model.eval()
    logits = torch.cat([model(X[i : i + EVAL_CHUNK]) for i in range(0, X.shape[0], EVAL_CHUNK)])
    model.train(was)
    return float(loss_fn(logits, y)), score_from_logits(logits, y, task, metric, y_scale)


def weight_params(model: nn.Module) -> list[nn.Parameter]:
    """The weight matrices/kernels, input side first: the layers whose gradient norms the history records."""
    return [p for name, p in model.named_parameters() if p.dim() >= 2 and "norm" not in name]


def completed_reason(n_epochs: int) -> str:
    """The stop reason of a run that trained all its ``max_epochs`` (the single and population trainers')."""
    return f"completed {n_epochs} epoch{'' if n_epochs == 1 else 's'}"


class NetworkRun:
    """One network in training, advanced epoch by epoch so the search can stop it between rungs.

    ``random_state`` seeds the initial weights and dropout; ``data_seed`` (default: ``random_state``) seeds
    the batch order.  Never raises for a diverging run: it is recorded as ``status="diverged"``.
    """

    def __init__(
        self,
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
        row_schedule: RowSchedule | None = None,
        metric: str | None = None,
        class_weight: torch.Tensor | None = None,
        y_scale: float | None = None,
    ) -> None:
        """``class_weight``: explicit weights per class code, in place of ``config.class_weight``'s (the
        estimators' ``class_weight={label: weight}``).  ``y_scale``: the standard deviation a regression target
        was divided by (``TabularData.y_std``), so that an error score (``neg_mae``, ``neg_rmse``) reads in the
        target's units."""
        self.task = task = Task(task)
        self.metric = metric  # the validation score (None: the task's own)
        self.y_scale = y_scale
        self.config = config
        self.random_state = random_state
        self.device = dev = torch.device(device) if device is not None else default_device()
        self._t0 = time.perf_counter()
        self._seconds = 0.0
        self.Xtr, self.ytr = as_tensors(X_train, y_train, task, dev, dtype)
        self.Xva, self.yva = as_tensors(X_valid, y_valid, task, dev, dtype)
        self.n_out = n_out = infer_n_outputs(config, task, y_train, n_classes)
        self.model = build_model(config, self.Xtr.shape[1], n_out, seed=random_state).to(
            device=dev, dtype=dtype
        )
        # class weights from the training rows this run fits (train+valid in a refit), applied to every loss
        # it computes, validation included: early stopping watches the loss the run minimises
        if class_weight is None:
            class_weight = class_weights(config, task, self.ytr, n_classes)
        self.loss_fn = make_loss(config, task, class_weight)
        self.opt = make_optimizer(config, self.model.parameters())
        self.sched = make_scheduler(config, self.opt)
        self.weights = weight_params(self.model)
        self.shuffler = EpochShuffler(
            self.Xtr.shape[0], random_state if data_seed is None else data_seed, row_schedule
        )
        self.bounds = batch_bounds(self.Xtr.shape[0], config.batch_size)  # of an epoch over every row
        self.monitor_loss = config.early_stopping_metric == "valid_loss"
        self.stopper = EarlyStopping(config.patience, "min" if self.monitor_loss else "max", config.min_delta)
        self.history = History()
        self.best_state: dict[str, torch.Tensor] | None = None
        self.status, self.reason = "running", ""
        self.epoch = 0
        # dropout draws from its own stream, so that other code using the global RNG cannot change a run
        self.rng_state = self._seeded_rng_state(random_state + 1_000_003)

    def _seeded_rng_state(self, seed: int) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)  # the CPU state is what is returned
            return torch.get_rng_state()

    @property
    def active(self) -> bool:
        return self.status == "running"

    def stop(self, status: str, reason: str) -> None:
        if self.active:
            self.status, self.reason = status, reason

    def run_epochs(
        self,
        n_epochs: int,
        callback: EpochCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        """Advance by up to ``n_epochs`` (fewer when the run stops, early or by the callback).

        ``should_stop()`` is asked before every training step: True interrupts the epoch (not recorded) and
        stops the run as ``"pruned"`` with a reason starting :data:`INTERRUPTED`, as the population trainer does.
        """
        if not self.active:
            return
        t = time.perf_counter()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.rng_state)
            for _ in range(n_epochs):
                if self.epoch >= self.config.max_epochs:
                    self.status, self.reason = "completed", completed_reason(len(self.history))
                    break
                self._one_epoch(should_stop)
                if not self.active:
                    if callback is not None and self.status == "early_stopped":
                        # the epoch that ended it is reported too (its score is the run's last); the run
                        # ended on its own, so the callback decides nothing
                        callback(self.epoch - 1, self.history.valid_score[-1], self.history.valid_loss[-1])
                    break
                if callback is not None and callback(
                    self.epoch - 1, self.history.valid_score[-1], self.history.valid_loss[-1]
                ):
                    self.stop("pruned", f"pruned after epoch {self.epoch - 1}")
                    break
            else:
                if self.active and self.epoch >= self.config.max_epochs:
                    self.status, self.reason = "completed", completed_reason(len(self.history))
            self.rng_state = torch.get_rng_state()
        self._seconds += time.perf_counter() - t

    def train_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One optimiser step on the rows ``idx``: (detached batch loss, per-layer weight gradient norms).

        Exposed so the planner can time a step of this trainer against a population step on the same device.
        """
        model, opt, config = self.model, self.opt, self.config
        # index_select rather than advanced indexing: the same rows, a third of the time for a 64 x 384 batch
        xb, yb = self.Xtr.index_select(0, idx), self.ytr.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(model(xb), yb)
        loss.backward()
        gn = None
        if self.weights:
            gn = torch.stack(torch._foreach_norm([w.grad for w in self.weights]))  # type: ignore[misc]
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        return loss.detach(), gn

    def _one_epoch(self, should_stop: Callable[[], bool] | None = None) -> None:
        model, opt, config = self.model, self.opt, self.config
        Xtr, dev = self.Xtr, self.device
        epoch = self.epoch
        te = time.perf_counter()
        model.train()
        perm = self.shuffler.next_permutation().to(dev)
        n_rows = int(perm.shape[0])  # fewer than all where a row schedule holds this epoch to a subset
        bounds = self.bounds if n_rows == Xtr.shape[0] else batch_bounds(n_rows, config.batch_size)
        loss_sum = torch.zeros((), device=dev, dtype=Xtr.dtype)
        gn_sum = torch.zeros(len(self.weights), device=dev, dtype=Xtr.dtype)
        for s, e in bounds:
            if should_stop is not None and should_stop():
                self.stop("pruned", f"{INTERRUPTED} during epoch {epoch}")
                return
            loss, gn = self.train_step(perm[s:e])
            if gn is not None:
                gn_sum += gn
            loss_sum += loss * (e - s)
        self.epoch += 1
        train_loss = float(loss_sum) / n_rows
        grad_norms = (gn_sum / len(bounds)).tolist()
        lr_now = opt.param_groups[0]["lr"]
        if not math.isfinite(train_loss) or not all(math.isfinite(g) for g in grad_norms):
            self.history.append(
                epoch=epoch,
                train_loss=train_loss,
                valid_loss=math.nan,
                valid_score=math.nan,
                lr=lr_now,
                grad_norms=grad_norms,
                seconds=time.perf_counter() - te,
            )
            what = (
                f"training loss became {train_loss}"
                if not math.isfinite(train_loss)
                else "gradient norm became non-finite"
            )
            self.stop("diverged", f"diverged: the {what} at epoch {epoch}")
            return
        valid_loss, valid_score = evaluate_loss_score(
            model, self.loss_fn, self.Xva, self.yva, self.task, self.metric, self.y_scale
        )
        self.history.append(
            epoch=epoch,
            train_loss=train_loss,
            valid_loss=valid_loss,
            valid_score=valid_score,
            lr=lr_now,
            grad_norms=grad_norms,
            seconds=time.perf_counter() - te,
        )
        if not math.isfinite(valid_loss):
            self.stop("diverged", f"diverged: the validation loss became {valid_loss} at epoch {epoch}")
            return
        if self.stopper.update(valid_loss if self.monitor_loss else valid_score, epoch):
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if self.sched is not None:
            if config.lr_schedule == "plateau":
                self.sched.step(valid_loss)
            else:
                self.sched.step()
        if self.stopper.should_stop:
            self.stop("early_stopped", self.stopper.reason)

    def summary(self) -> RunSummary:
        """:meth:`result`'s figures without the model and the diagnostics."""
        return summarize_run(
            self.config,
            self.history,
            self.stopper,
            self.status,
            self.reason,
            self._seconds,
            count_parameters(self.model),
        )

    def result(self) -> TrainResult:
        """The run as it stands, with the best epoch's weights restored (not for a diverged run).

        A run that has stopped gets them in its own module (``self.model``, which is the result's); a run that
        may go on keeps training from its current weights, as a population member does, and the result holds a
        copy with the best weights."""
        model = self.model
        if self.best_state is not None and self.status != "diverged":
            if self.active:
                model = copy.deepcopy(self.model)
            model.load_state_dict(self.best_state)
        return assemble_result(
            model,
            self.config,
            self.task,
            self.history,
            self.stopper,
            self.status,
            self.reason,
            self._seconds,
            self.Xva,
            constant_loss(self.loss_fn, self.n_out, self.ytr, self.yva, self.task),
        )


@dataclass(frozen=True)
class RunSummary:
    """What a search tells a trial about a run as it stands: :class:`TrainResult`'s figures without the model
    and the diagnostics, which cost a model build and a forward pass each (a search's tell needs neither)."""

    config: MLPConfig
    status: str
    stop_reason: str
    best_epoch: int
    best_valid_loss: float
    best_valid_score: float
    n_parameters: int
    seconds: float


def summarize_run(
    config: MLPConfig,
    history: History,
    stopper: EarlyStopping,
    status: str,
    reason: str | None,
    seconds: float,
    n_parameters: int,
) -> RunSummary:
    """The best epoch's figures and the final status, as :func:`assemble_result` reports them."""
    best = stopper.best_epoch
    return RunSummary(
        config=config,
        status="completed" if status == "running" else status,
        stop_reason=reason or completed_reason(len(history)),
        best_epoch=best,
        best_valid_loss=history.valid_loss[best] if best >= 0 else math.nan,
        best_valid_score=history.valid_score[best] if best >= 0 else math.nan,
        n_parameters=n_parameters,
        seconds=seconds,
    )


def assemble_result(
    model: nn.Module,
    config: MLPConfig,
    task: Task,
    history: History,
    stopper: EarlyStopping,
    status: str,
    reason: str | None,
    seconds: float,
    X_valid: torch.Tensor,
    constant: ConstantLoss | None = None,
) -> TrainResult:
    """A run's :class:`TrainResult` from its parts: the best epoch's figures, the final status, and the
    diagnostics (activation statistics on up to DIAG_ROWS validation rows; none for a diverged run; the losses
    compared with ``constant``'s, the best constant prediction's).  One place for the single trainer and the
    population's members, so that they report identically."""
    s = summarize_run(config, history, stopper, status, reason, seconds, count_parameters(model))
    stats = activation_stats(model, X_valid[:DIAG_ROWS]) if s.status != "diverged" else []
    return TrainResult(
        model=model,
        task=task,
        history=history,
        findings=diagnose(history, config.activation, stats, s.status, config, constant),
        activation_stats=stats,
        **{f.name: getattr(s, f.name) for f in fields(s)},  # the summary's figures (shallow: config stays)
    )


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
    metric: str | None = None,
    y_scale: float | None = None,
) -> TrainResult:
    """Train one network to the end (early stopping, ``max_epochs`` or divergence) and return the result.

    ``max_epochs`` caps the number of epochs of this call below the config's own.  ``metric`` is the validation
    score (None: the task's), ``y_scale`` the regression target's standard deviation (:class:`NetworkRun`).
    """
    run = NetworkRun(
        config,
        X_train,
        y_train,
        X_valid,
        y_valid,
        task=task,
        n_classes=n_classes,
        random_state=random_state,
        data_seed=data_seed,
        device=device,
        dtype=dtype,
        metric=metric,
        y_scale=y_scale,
    )
    run.run_epochs(config.max_epochs if max_epochs is None else min(max_epochs, config.max_epochs), callback)
    result = run.result()
    log.debug(
        "trained %s: %s (best epoch %d, valid score %.4f)",
        config,
        result.stop_reason,
        result.best_epoch,
        result.best_valid_score,
    )
    return result
