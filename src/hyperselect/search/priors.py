"""The advisor: a default search space built from the data, each choice a rule with its reason.

The rules encode what practitioners know about small and medium MLPs on tabular-like data:

* width and depth matter most and depend on how many rows there are and how wide the input is;
* hidden layers use the ReLU family (they do not saturate; tanh/sigmoid stay available through ``extend``);
* the output activation and the loss follow the task (never searched);
* Adam is the default optimizer (the first trial uses it), SGD with momentum and RMSProp stay in the space;
* the learning rate is log-uniform and suggested first;
* the batch size is sized to the data: no larger than a tenth of the training rows, so an epoch has >= 10 steps;
* epochs are not searched: early stopping decides, ``max_epochs`` only caps the budget;
* dropout is searched higher where overfitting risk is higher (few training rows per parameter).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.search.space import Categorical, Dimension, Float, Int, SearchSpace
from hyperselect.tasks import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataShape:
    """The facts about a data set that the rules look at."""

    n_rows: int
    n_features: int
    task: Task
    n_classes: int | None = None

    @property
    def n_outputs(self) -> int:
        if self.task in (Task.BINARY, Task.REGRESSION):
            return 1
        return int(self.n_classes or 2)


def _pow2_floor(x: float) -> int:
    return 2 ** max(0, math.floor(math.log2(max(1.0, x))))


def _pow2_ceil(x: float) -> int:
    return 2 ** max(0, math.ceil(math.log2(max(1.0, x))))


def _mlp_params(n_in: int, width: int, depth: int, n_out: int) -> int:
    if depth == 0:
        return (n_in + 1) * n_out
    return (n_in + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_out


def data_shape(
    data: Any = None,
    *,
    n_rows: int | None = None,
    n_features: int | None = None,
    task: Task | str | None = None,
    n_classes: int | None = None,
) -> DataShape:
    """Read rows/features/task/classes from a :class:`~hyperselect.data.TabularData` or from keywords."""
    if data is not None:
        n_rows = n_rows if n_rows is not None else len(data.y_train)
        n_features = n_features if n_features is not None else int(data.X_train.shape[1])
        task = task if task is not None else data.task
        if n_classes is None and getattr(data, "classes", None) is not None:
            n_classes = len(data.classes)
    if n_rows is None or n_features is None or task is None:
        raise ConfigError(
            "advise needs the data, or n_rows, n_features and task. "
            f"Got n_rows={n_rows}, n_features={n_features}, task={task}."
        )
    if n_rows < 1 or n_features < 1:
        raise ConfigError(f"advise needs at least one row and one feature. Got {n_rows=}, {n_features=}.")
    return DataShape(int(n_rows), int(n_features), Task(task), n_classes)


def advise(
    data: Any = None,
    *,
    n_rows: int | None = None,
    n_features: int | None = None,
    task: Task | str | None = None,
    n_classes: int | None = None,
    max_epochs: int | None = None,
) -> SearchSpace:
    """The default search space for this data, with ``space.reasons[name]`` explaining every choice.

    ``data`` is a :class:`~hyperselect.data.TabularData` (its training split is what counts); alternatively
    give ``n_rows`` (training rows), ``n_features``, ``task`` and ``n_classes``.
    """
    s = data_shape(data, n_rows=n_rows, n_features=n_features, task=task, n_classes=n_classes)
    n, f = s.n_rows, s.n_features
    dims: dict[str, Dimension] = {}
    reasons: dict[str, str] = {}

    # 1. learning rate: the single most important hyperparameter; effects are multiplicative -> log scale
    dims["lr"] = Float(1e-4, 3e-2, log=True)
    reasons["lr"] = (
        "log-uniform because its effect is multiplicative; suggested first since it matters most "
        "for every optimizer; [1e-4, 3e-2] covers Adam's sweet spot (~1e-3) and SGD's (~1e-2)"
    )

    # 2. optimizer: Adam first, but keep the alternatives practitioners still win with
    dims["optimizer"] = Categorical(("adam", "momentum", "rmsprop"))
    reasons["optimizer"] = (
        "Adam is the default (the first trial uses it: robust to the learning rate); SGD "
        "with momentum and RMSProp stay in the space because they sometimes generalise better"
    )
    dims["momentum"] = Float(0.8, 0.99)
    reasons["momentum"] = (
        "only for SGD-momentum and RMSProp (conditional); 0.9 is typical, 0.8-0.99 the usual range"
    )

    # 3. depth and width: capacity follows the number of rows and the input width
    if n < 1_000:
        max_depth, depth_why = (
            2,
            f"{n} training rows support at most 2 hidden layers before overfitting dominates",
        )
    elif n < 20_000:
        max_depth, depth_why = 3, f"{n} training rows: 1-3 hidden layers"
    else:
        max_depth, depth_why = 4, f"{n} training rows can feed up to 4 hidden layers"
    dims["n_layers"] = Int(1, max_depth)
    reasons["n_layers"] = depth_why + "; depth beyond 4 rarely helps an MLP on tabular data"

    # The widest layer: a few times the input width, but capped so that the network has no more than ~ten
    # parameters per training row (more only memorises on small data).
    w_input = _pow2_ceil(2 * f)
    w_rows = _pow2_floor(math.sqrt(10 * n))
    w_high = int(min(1024, max(32, min(max(64, w_input), w_rows))))
    w_low = int(min(w_high // 2, 16 if f < 64 else 32))  # always a range of at least 2x
    dims["width"] = Int(w_low, w_high, log=True)
    reasons["width"] = (
        f"log scale from {w_low} to {w_high}: about twice the {f} input features, capped at "
        f"~sqrt(10 x {n} rows) so the network is not far larger than the data can fit"
    )
    dims["shape"] = Categorical(("constant", "funnel"))
    reasons["shape"] = "equal-width layers or a funnel that halves each layer; both are common defaults"

    # 4. activations: ReLU family in hidden layers
    dims["activation"] = Categorical(("relu", "leaky_relu", "gelu"))
    reasons["activation"] = (
        "ReLU family: non-saturating, so gradients survive depth; tanh/sigmoid saturate "
        "and are left out (add them with extend)"
    )

    # 5. batch size: sized to the data
    b_high = int(max(8, min(512, _pow2_floor(n / 10))))
    b_low = int(min(b_high, 16 if n >= 500 else 8))
    dims["batch_size"] = Int(b_low, b_high, log=True)
    reasons["batch_size"] = (
        f"log scale in [{b_low}, {b_high}]: at most a tenth of the {n} training rows so an "
        "epoch has at least ten updates; small batches regularise, large ones are faster"
    )

    # 6. dropout: more where each parameter sees few rows
    mid_params = _mlp_params(f, int(math.sqrt(w_low * w_high)), max(1, (1 + max_depth) // 2), s.n_outputs)
    rows_per_param = n / mid_params
    if rows_per_param < 1:
        d_high, d_why = 0.5, "fewer than one training row per parameter: high overfitting risk"
    elif rows_per_param < 10:
        d_high, d_why = 0.3, "a few training rows per parameter: moderate overfitting risk"
    else:
        d_high, d_why = 0.2, "many training rows per parameter: low overfitting risk"
    dims["dropout"] = Float(0.0, d_high)
    reasons["dropout"] = (
        f"[0, {d_high}] because a mid-sized network has ~{mid_params:,} parameters for {n:,} "
        f"rows ({rows_per_param:.2g} rows per parameter): {d_why}"
    )

    # 7. schedule: cheap to search, cosine often helps at the end of training
    dims["lr_schedule"] = Categorical(("constant", "cosine"))
    reasons["lr_schedule"] = "constant or cosine decay; cosine often gains the last bit of validation score"

    # Not searched: epochs (early stopping), loss (task), patience
    if max_epochs is None:
        max_epochs = 100 if n < 20_000 else 50
    patience = max(5, min(15, max_epochs // 8))
    base = MLPConfig(
        hidden=(min(w_high, max(w_low, 64)),),
        optimizer="adam",
        lr=1e-3,
        activation="relu",
        batch_size=int(min(b_high, max(b_low, 64))),
        max_epochs=max_epochs,
        patience=patience,
        early_stopping_metric="valid_loss",
        loss="auto",
        lr_schedule="constant",
    )
    reasons["max_epochs"] = (
        f"epochs are not searched: early stopping (patience {patience}) decides; "
        f"{max_epochs} only caps the budget and sets the halving rungs"
    )
    reasons["patience"] = f"{patience} epochs without improvement of the validation loss stop a run"
    loss = {
        Task.BINARY: "one logit with a sigmoid and binary cross-entropy",
        Task.MULTICLASS: f"{s.n_outputs} logits with softmax cross-entropy",
        Task.MULTILABEL: f"{s.n_outputs} independent sigmoids with binary cross-entropy",
        Task.REGRESSION: "a linear output with mean squared error on the standardised target",
    }[s.task]
    reasons["loss"] = f"the output activation and loss follow the {s.task.value} task: {loss}"
    notes = [
        f"task {s.task.value}: {loss} (not searched)",
        "the first trial is the default config (Adam, lr 1e-3, ReLU, one hidden layer): a strong baseline "
        "that the sampler must beat",
        "successive halving compares configurations after the same number of epochs and stops the worst",
    ]
    log.debug("advised space for %s", s)
    return SearchSpace(dims, base=base, reasons=reasons, notes=notes)
