"""Higher-is-better scores computed on tensors (no host round trip per batch)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hyperselect.errors import ConfigError
from hyperselect.nn.losses import predict_from_logits
from hyperselect.tasks import Task

#: Validation scores a search can maximise, and the tasks each applies to (the task's default first).
METRICS: dict[str, tuple[Task, ...]] = {
    "accuracy": (Task.BINARY, Task.MULTICLASS),
    "balanced_accuracy": (Task.BINARY, Task.MULTICLASS),
    "f1_macro": (Task.BINARY, Task.MULTICLASS),
    "f1_micro": (Task.MULTILABEL,),
    "r2": (Task.REGRESSION,),
    "neg_mae": (Task.REGRESSION,),
    "neg_rmse": (Task.REGRESSION,),
}

#: Scores that are minus an error in the target's own units (as scikit-learn's ``neg_*`` scorers are, so that every
#: score is maximised), and the error each negates: ``neg_mae`` -3.2 is an MAE of 3.2.
ERROR_METRICS: dict[str, str] = {"neg_mae": "MAE", "neg_rmse": "RMSE"}

#: scikit-learn's scoring names, read as ours.
METRIC_ALIASES: dict[str, str] = {
    "neg_mean_absolute_error": "neg_mae",
    "neg_root_mean_squared_error": "neg_rmse",
}


#: The metrics that weigh every class alike (scored by :func:`class_scores`).
CLASS_BALANCED = ("balanced_accuracy", "f1_macro")


def _aliases_said() -> str:
    return ", ".join(f"{a} for {m}" for a, m in METRIC_ALIASES.items())


def check_metric_name(metric: str | None, option: str | None = None) -> None:
    """Refuse an unknown metric name (``option``: the command-line option that gave it), before any data is read:
    whether it fits the task is :func:`check_metric`'s to say.  scikit-learn's names of the error scores
    (:data:`METRIC_ALIASES`) are known too."""
    if metric is not None and not (
        isinstance(metric, str) and (metric in METRICS or metric in METRIC_ALIASES)
    ):
        what = f"{option}: unknown metric" if option else "Unknown metric"
        raise ConfigError(
            f"{what} {metric!r}; expected one of {', '.join(METRICS)} (or scikit-learn's {_aliases_said()})."
        )


def check_metric(metric: str | None, task: Task | str) -> str:
    """The score to maximise for ``task``: ``metric``, checked (a scikit-learn alias read as our name), or the
    task's default (None)."""
    task = Task(task)
    if metric is None:
        return task.score_name
    check_metric_name(metric)
    metric = METRIC_ALIASES.get(metric, metric)
    if task not in METRICS[metric]:
        fits = [m for m, tasks in METRICS.items() if task in tasks]
        raise ConfigError(
            f"The metric {metric!r} does not apply to a {task.value} task; expected one of {', '.join(fits)}."
        )
    return metric


#: A class under this fraction of its equal share of the training rows (1 / classes) is rare: 10 % of the rows for
#: two classes, 2 % for ten (where every one of ten equal classes holds 10 %).  See rare_class_limit.
RARE_FRACTION_OF_EQUAL_SHARE = 0.2


def rare_class_limit(n_classes: int) -> float:
    """The share of the training rows below which the smallest of ``n_classes`` classes is rare (accuracy a poor
    yardstick, class weights worth searching): a fifth of an equal share, 10 % for two classes."""
    return RARE_FRACTION_OF_EQUAL_SHARE / max(2, n_classes)


def class_shares(data: Any) -> np.ndarray | None:
    """Each class's share of ``data``'s training rows (binary and multiclass data; a class named in
    ``data.classes`` without training rows counts 0); None for other tasks or no rows."""
    if Task(data.task) not in (Task.BINARY, Task.MULTICLASS) or not len(data.y_train):
        return None
    classes = getattr(data, "classes", None)
    counts = np.bincount(
        np.asarray(data.y_train, dtype=np.int64), minlength=0 if classes is None else len(classes)
    )
    return counts / counts.sum()  # type: ignore[no-any-return]


def imbalance_hint(data: Any) -> str | None:
    """A sentence suggesting a class-balanced metric where the smallest class of a binary or multiclass ``data``
    (``y_train`` codes, ``classes`` names) is rare (:func:`rare_class_limit`), else None."""
    share = class_shares(data)
    if share is None:
        return None
    i = int(np.argmin(share))
    if share[i] >= rare_class_limit(len(share)):
        return None
    return (
        f"the smallest class, {str(data.classes[i])!r}, is {share[i]:.1%} of the training rows: a network that "
        "never predicts it still scores high accuracy; --metric balanced_accuracy (or f1_macro) weighs every "
        "class alike (the search also tries class_weight='balanced')."
    )


#: an integer target of this many consecutive values or more, read as classes, gets a note (see below)
INTEGER_SCALE_CLASSES = 5


def integer_classes_hint(data: Any) -> str | None:
    """A sentence where a multiclass target's classes are consecutive integers (0-10, 1-5): read as classes, as an
    integer target of at most 20 values is, they may be a rating or a count, which regression reads as numbers
    (3 is then nearer 4 than 9).  None otherwise."""
    classes = getattr(data, "classes", None)
    task = str(getattr(getattr(data, "task", None), "value", getattr(data, "task", "")))
    if task != "multiclass" or not classes or len(classes) < INTEGER_SCALE_CLASSES:
        return None
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return None
    ordered = sorted(classes)
    if ordered != list(range(ordered[0], ordered[0] + len(ordered))):
        return None
    return (
        f"the target holds the integers {ordered[0]}-{ordered[-1]}, read as {len(ordered)} unordered classes; if "
        "they measure an amount or a rating (3 nearer 4 than 9), --task regression reads them as numbers."
    )


def class_scores(pred: torch.Tensor, y: torch.Tensor, n_classes: int, metric: str) -> torch.Tensor:
    """Balanced accuracy or macro-F1 of each row of ``pred`` ([k, rows] class codes) against ``y`` ([rows]), as
    scikit-learn computes them: balanced accuracy is the mean recall over the classes present in ``y``, macro-F1
    the mean F1 over the classes present in ``y`` or in the row's predictions.  Returns [k] (float64)."""
    yl = y.long().reshape(1, -1)
    pl = pred.long()
    c = max(n_classes, int(yl.max()) + 1 if yl.numel() else 1, int(pl.max()) + 1 if pl.numel() else 1)
    k = pl.shape[0]
    true = torch.zeros(1, c, dtype=torch.float64, device=pl.device).scatter_add_(
        1, yl, torch.ones_like(yl, dtype=torch.float64)
    )
    predicted = torch.zeros(k, c, dtype=torch.float64, device=pl.device).scatter_add_(
        1, pl, torch.ones_like(pl, dtype=torch.float64)
    )
    hits = torch.where(pl == yl, pl, torch.full_like(pl, c))  # right predictions by class; c: a miss
    tp = torch.zeros(k, c + 1, dtype=torch.float64, device=pl.device).scatter_add_(
        1, hits, torch.ones_like(hits, dtype=torch.float64)
    )[:, :c]
    if metric == "balanced_accuracy":
        present = true > 0
        recall = torch.where(present, tp / true.clamp_min(1), torch.zeros_like(tp))
        return recall.sum(1) / present.sum(1).clamp_min(1)
    if metric == "f1_macro":
        present = (true > 0) | (predicted > 0)
        f1 = torch.where(present, 2 * tp / (true + predicted).clamp_min(1), torch.zeros_like(tp))
        return f1.sum(1) / present.sum(1).clamp_min(1)
    raise ValueError(f"class_scores computes balanced_accuracy or f1_macro, not {metric!r}")


def metric_label(metric: str) -> str:
    """What ``metric`` is, in words, for a heading or an axis: ``neg_mae`` is "-MAE (neg_mae)"; others as named."""
    return f"-{ERROR_METRICS[metric]} ({metric})" if metric in ERROR_METRICS else metric


def metric_words(metric: str) -> str:
    """``metric`` named for a table's heading: an error score says what its numbers are ("neg_mae: minus the
    MAE, in the target's units; higher is better"), any other is its name."""
    if metric in ERROR_METRICS:
        return f"{metric}: minus the {ERROR_METRICS[metric]}, in the target's units; higher is better"
    return metric


def score_text(metric: str, value: float, digits: int = 4) -> str:
    """A score as a reader reads it: an error score as the error it negates (``neg_mae`` -3.2: "MAE 3.2000"),
    any other as ``"r2 0.8123"``."""
    if metric in ERROR_METRICS:
        return f"{ERROR_METRICS[metric]} {-value:.{digits}f}"
    return f"{metric} {value:.{digits}f}"


def diff_text(metric: str, diff: float, digits: int = 4) -> str:
    """A difference of scores (higher is better) as a reader reads it: for an error score, the error it lowers or
    raises ("0.1200 lower MAE"), for any other the signed difference ("+0.0300 r2")."""
    if metric in ERROR_METRICS:
        if diff == 0:
            return f"no difference in {ERROR_METRICS[metric]}"
        return f"{abs(diff):.{digits}f} {'lower' if diff > 0 else 'higher'} {ERROR_METRICS[metric]}"
    return f"{diff:+.{digits}f} {metric}"


def target_scale(data: Any, task: Task | str) -> float | None:
    """The standard deviation the loader divided ``data``'s regression target by (``y_std``), by which an error
    score (:data:`ERROR_METRICS`) is brought back to the target's units; None for another task or an unscaled
    target."""
    std = getattr(data, "y_std", None)
    return float(std) if Task(task) is Task.REGRESSION and std is not None else None


def error_scores(
    pred: torch.Tensor, y: torch.Tensor, metric: str, y_scale: float | None = None
) -> torch.Tensor:
    """Minus the mean absolute error or the root mean squared error (``metric``: ``neg_mae``, ``neg_rmse``) of
    each of ``k`` predictions ``pred`` ([k, rows] or [k, rows, targets]) of the targets ``y`` ([rows] or [rows,
    targets]), in the target's units: ``y_scale`` is the standard deviation the target was divided by before
    training (None: 1).  Over several targets, the mean of the targets' errors, as scikit-learn's
    ``multioutput="uniform_average"``.  Float64, [k]."""
    k, rows = pred.shape[0], pred.shape[1]
    d = pred.double().reshape(k, rows, -1) - y.double().reshape(1, rows, -1)
    if metric == "neg_mae":
        err = d.abs().mean(1)
    elif metric == "neg_rmse":
        err = (d * d).mean(1).sqrt()
    else:
        raise ValueError(f"error_scores computes {', '.join(ERROR_METRICS)}, not {metric!r}")
    return -err.mean(1) * (1.0 if y_scale is None else float(y_scale))


def score_from_logits(
    logits: torch.Tensor, y: torch.Tensor, task: Task, metric: str | None = None, y_scale: float | None = None
) -> float:
    """``metric`` (default: accuracy for binary/multiclass, micro-F1 for multilabel, R^2 for regression).

    ``y_scale``: the standard deviation a regression target was divided by before training, which the error
    scores (:data:`ERROR_METRICS`) multiply by to read in the target's units (R^2 needs none)."""
    pred = predict_from_logits(logits, task)
    if metric in ERROR_METRICS and task is Task.REGRESSION:
        return float(error_scores(pred.unsqueeze(0), y, str(metric), y_scale)[0])
    if metric in CLASS_BALANCED:
        return float(class_scores(pred.reshape(1, -1), y, logits.shape[1], metric)[0])
    if task in (Task.BINARY, Task.MULTICLASS):
        return float((pred == y.long()).double().mean())
    if task is Task.MULTILABEL:
        yt = y.reshape(pred.shape).to(pred.dtype)
        tp = float((pred * yt).sum())
        fp = float((pred * (1 - yt)).sum())
        fn = float(((1 - pred) * yt).sum())
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    yt = y.reshape(pred.shape).to(pred.dtype)
    ss_res = float(((yt - pred) ** 2).sum())
    ss_tot = float(((yt - yt.mean(dim=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
