"""Score a trained network on each split and assemble the result document the CLI writes.

The CLI only parses and prints (DESIGN.md), so what ``hyperselect train`` computes lives here: train the
configured network on a :class:`~hyperselect.data.TabularData`, score it on train/valid/test with
scikit-learn's metrics (regression errors in the target's own units, not the standardised ones), and return a
JSON-ready document with the config, history, diagnostics and metrics.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import predict_from_logits, proba_from_logits
from hyperselect.tasks import Task
from hyperselect.train.metrics import check_metric, target_scale
from hyperselect.train.trainer import EVAL_CHUNK, EpochCallback, TrainResult, train_network


@torch.no_grad()
def predict_logits(model: nn.Module, X: Any) -> torch.Tensor:
    """Logits for ``X`` in evaluation mode, on the model's device, returned on the CPU."""
    dev = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=dev)
    was = model.training
    model.eval()
    try:
        out = [model(Xt[i : i + EVAL_CHUNK]) for i in range(0, Xt.shape[0], EVAL_CHUNK)]
    finally:
        model.train(was)
    return torch.cat(out).float().cpu() if out else torch.zeros((0, 1))


def split_metrics(
    model: nn.Module,
    X: Any,
    y: Any,
    task: Task | str,
    *,
    prefix: str = "",
    y_mean: float | None = None,
    y_std: float | None = None,
    n_classes: int | None = None,
) -> dict[str, float]:
    """Metrics of one split, keys prefixed (``test_accuracy``).  NaN where a metric is undefined.

    Classification: accuracy, balanced accuracy, macro F1, log loss (and ROC AUC for binary); multilabel:
    subset accuracy, micro/macro F1, Hamming loss.  Macro F1 averages over the classes (labels) present in the
    split's truth or predictions, as scikit-learn does by default, so a class absent from both does not count
    as F1 = 0; log loss still knows all ``n_classes``.  Regression: R², RMSE and MAE in the target's units
    (``y_mean``/``y_std`` undo the standardisation the loader applied).
    """
    from sklearn import metrics as skm

    task = Task(task)
    y = np.asarray(y)
    if len(y) == 0:
        return {}
    logits = predict_logits(model, X)
    pred = predict_from_logits(logits, task).numpy()
    out: dict[str, float] = {}
    if task in (Task.BINARY, Task.MULTICLASS):
        proba = proba_from_logits(logits.double(), task).numpy()
        labels = list(range(n_classes if n_classes is not None else proba.shape[1]))
        out["accuracy"] = skm.accuracy_score(y, pred)
        out["balanced_accuracy"] = _safe(skm.balanced_accuracy_score, y, pred)
        # over the classes in y or pred (scikit-learn's default): a class absent from both is not a miss
        out["f1_macro"] = skm.f1_score(y, pred, average="macro", zero_division=0)
        out["log_loss"] = _safe(skm.log_loss, y, proba, labels=labels)
        if task is Task.BINARY:
            out["roc_auc"] = _safe(skm.roc_auc_score, y, proba[:, 1])
    elif task is Task.MULTILABEL:
        out["accuracy"] = skm.accuracy_score(y, pred)  # subset accuracy: every label of a row right
        out["f1_micro"] = skm.f1_score(y, pred, average="micro", zero_division=0)
        # as for single-label tasks: a label no row has and none is predicted for does not count as F1 = 0
        present = np.flatnonzero(np.asarray(y).any(axis=0) | np.asarray(pred).any(axis=0))
        out["f1_macro"] = (
            skm.f1_score(y, pred, average="macro", labels=present, zero_division=0)
            if len(present)
            else math.nan
        )
        out["hamming_loss"] = skm.hamming_loss(y, pred)
    else:
        scale = 1.0 if y_std is None else float(y_std)
        shift = 0.0 if y_mean is None else float(y_mean)
        yt = y.astype(np.float64) * scale + shift
        yp = pred.astype(np.float64).reshape(yt.shape) * scale + shift
        out["r2"] = _safe(skm.r2_score, yt, yp)
        # a diverged network predicts NaN, which scikit-learn refuses: NaN scores (train_and_evaluate says why)
        out["rmse"] = math.sqrt(_safe(skm.mean_squared_error, yt, yp))
        out["mae"] = _safe(skm.mean_absolute_error, yt, yp)
    return {f"{prefix}{k}": float(v) for k, v in out.items()}


def _safe(fn: Any, *args: Any, **kwargs: Any) -> float:
    """A metric that is undefined on this split (one class present, too few rows) is NaN, not an error."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(fn(*args, **kwargs))
    except ValueError:
        return math.nan


def evaluate_splits(result: TrainResult, data: Any) -> dict[str, float]:
    """``train_*``, ``valid_*`` and ``test_*`` metrics of a trained network on a TabularData."""
    n_classes = len(data.classes) if data.classes is not None else None
    metrics: dict[str, float] = {}
    for split in ("train", "valid", "test"):
        metrics.update(
            split_metrics(
                result.model,
                getattr(data, f"X_{split}"),
                getattr(data, f"y_{split}"),
                result.task,
                prefix=f"{split}_",
                y_mean=data.y_mean,
                y_std=data.y_std,
                n_classes=n_classes,
            )
        )
    return metrics


def train_and_evaluate(
    data: Any,
    config: MLPConfig,
    *,
    random_state: int = 0,
    device: str | None = None,
    callback: EpochCallback | None = None,
    metric: str | None = None,
) -> tuple[TrainResult, dict[str, Any]]:
    """Train ``config`` on ``data`` (a TabularData), score every split, return the result and its document.

    ``metric`` is the validation score recorded each epoch (and early stopped on, with
    ``early_stopping_metric="valid_score"``); None: the task's.  An error score (``neg_mae``, ``neg_rmse``)
    reads in the target's units; the document names it (``"metric"``)."""
    task = Task(data.task)
    sn = check_metric(metric, task)
    t0 = time.perf_counter()
    result = train_network(
        config,
        data.X_train,
        data.y_train,
        data.X_valid,
        data.y_valid,
        task=data.task,
        n_classes=len(data.classes)
        if data.classes is not None and data.task is not Task.REGRESSION
        else None,
        random_state=random_state,
        device=device,
        callback=callback,
        metric=sn,
        y_scale=target_scale(data, task),
    )
    metrics = evaluate_splits(result, data)
    note = None
    if result.status == "diverged":
        # weights that went to NaN/inf are no model: scores of them (a constant prediction) would mislead
        metrics = {k: math.nan for k in metrics}
        why = result.stop_reason.removeprefix("diverged: ")
        note = f"no metrics: the run diverged ({why}), so its weights are not a usable model"
    doc = {
        "data": data.describe(),
        "random_state": random_state,
        # the validation score of the history and the best epoch (score_name: as a tune result names it)
        "metric": sn,
        "score_name": sn,
        "metrics": metrics,
        **({"metrics_note": note} if note else {}),
        **result.to_dict(),
        "wall_seconds": time.perf_counter() - t0,
    }
    return result, doc


__all__ = ["evaluate_splits", "predict_logits", "split_metrics", "train_and_evaluate"]
