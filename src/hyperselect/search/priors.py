"""The advisor: a default search space built from the data, each choice a rule with its reason.

The rules encode what practitioners know about small and medium MLPs on tabular-like data:

* width and depth matter most and depend on how many rows there are and how wide the input is;
* hidden layers use the ReLU family (they do not saturate; tanh/sigmoid stay available through ``extend``);
* the output activation and the loss follow the task (never searched);
* Adam is the default optimizer (the first trial uses it), SGD with momentum and RMSProp stay in the space;
* the learning rate is log-uniform and suggested first;
* the batch size is sized to the data: no larger than a tenth of the training rows, so an epoch has >= 10 steps;
* epochs are not searched: early stopping decides, ``max_epochs`` only caps the budget;
* dropout is searched higher where overfitting risk is higher (few training rows per parameter);
* class weights are searched where a class is rare (:func:`rare_class_limit`): weighting the loss by class helps
  balanced accuracy and macro-F1 but can cost accuracy.

Each dimension also carries a *prior*: where practitioners would look first (lr near 1e-3, Adam, ReLU, no dropout
unless there are fewer training rows than parameters (then 0.25), cosine decay, a moderate width).  The prior
does not narrow the range; it decides where the startup trials are drawn
(:class:`~hyperselect.search.sampler.PriorSampler`) instead of uniformly.
"""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass
from typing import Any

from hyperselect._validation import check_tabular_data
from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.search.space import Categorical, Dimension, Float, Int, SearchSpace
from hyperselect.tasks import Task
from hyperselect.train.batching import batch_bounds
from hyperselect.train.metrics import class_shares, rare_class_limit

log = logging.getLogger(__name__)

ARCH_CHOICES = ("auto", "mlp", "cnn")


@dataclass(frozen=True)
class DataShape:
    """The facts about a data set that the rules look at.  ``min_class_share`` is the smallest class's share of
    the training rows (binary and multiclass data; None where unknown: planned from keywords, or no classes)."""

    n_rows: int
    n_features: int
    task: Task
    n_classes: int | None = None
    min_class_share: float | None = None

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
    """Read rows/features/task/classes from a :class:`~hyperselect.data.TabularData` or from keywords.

    With ``data``, the data's facts are used and a keyword may only repeat one of them: a keyword that
    contradicts the data (``n_features=99`` for a 4-feature table) is a :class:`ConfigError`, because a space
    sized for other data (or built for another task) would fail or mislead in ``tune``.  To plan for data you
    do not have, give the keywords alone (the class balance is then unknown: no class weights are searched).
    """
    min_share = None
    if data is not None:
        check_tabular_data("advise", data, or_none=True)
        classes = getattr(data, "classes", None)
        facts: dict[str, Any] = {
            "n_rows": len(data.y_train),
            "n_features": int(data.X_train.shape[1]),
            "task": Task(data.task).value,
            "n_classes": None if classes is None else len(classes),
        }
        given = {"n_rows": n_rows, "n_features": n_features, "task": task, "n_classes": n_classes}
        for name, value in given.items():
            if value is None:
                continue
            same = value == facts[name]
            if name == "task":
                same = str(getattr(value, "value", value)) == facts["task"]
            if not same:
                raise ConfigError(
                    f"The {name!r} parameter of advise is {value!r}, but the data has {name}={facts[name]!r}. "
                    "With data, advise reads these facts from it; to plan for other data, leave out data and "
                    "give n_rows, n_features, task (and n_classes) alone."
                )
        n_rows, n_features, task, n_classes = (
            facts["n_rows"],
            facts["n_features"],
            facts["task"],
            facts["n_classes"],
        )
        shares = class_shares(data)
        min_share = None if shares is None else float(shares.min())
    if n_rows is None or n_features is None or task is None:
        raise ConfigError(
            "advise needs the data, or n_rows, n_features and task. "
            f"Got n_rows={n_rows}, n_features={n_features}, task={task}."
        )
    for name, value in (("n_rows", n_rows), ("n_features", n_features)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"The {name!r} parameter of advise must be an int in [1, inf). Got {value!r}.")
    if n_rows < 1 or n_features < 1:
        raise ConfigError(f"advise needs at least one row and one feature. Got {n_rows=}, {n_features=}.")
    tasks = [t.value for t in Task]
    if task not in tasks:
        import difflib

        close = difflib.get_close_matches(str(task), tasks, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"The 'task' parameter of advise must be one of {tasks}. Got {task!r}.{hint}")
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2
    ):
        raise ConfigError(
            f"The 'n_classes' parameter of advise must be an int in [2, inf) or None. Got {n_classes!r}."
        )
    return DataShape(
        int(n_rows), int(n_features), Task(task), None if n_classes is None else int(n_classes), min_share
    )


def advise(
    data: Any = None,
    *,
    n_rows: int | None = None,
    n_features: int | None = None,
    task: Task | str | None = None,
    n_classes: int | None = None,
    max_epochs: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    arch: str = "auto",
) -> SearchSpace:
    """The default search space for this data, with ``space.reasons[name]`` explaining every choice.

    ``data`` is a :class:`~hyperselect.data.TabularData` (its training split is what counts); alternatively
    give ``n_rows`` (training rows), ``n_features``, ``task`` and ``n_classes``.  The data's facts win: with
    ``data``, a keyword may repeat one of them but not contradict it (a :class:`ConfigError`).  Where a row is a signal or an
    image (``data.input_shape`` or ``input_shape``), ``arch="auto"`` searches the MLP and the convolutional
    family side by side; ``"mlp"`` and ``"cnn"`` keep one.
    """
    if arch not in ARCH_CHOICES:
        raise ConfigError(f"The 'arch' parameter of advise must be one of {ARCH_CHOICES}. Got {arch!r}.")
    s = data_shape(data, n_rows=n_rows, n_features=n_features, task=task, n_classes=n_classes)
    if input_shape is None and data is not None:
        input_shape = getattr(data, "input_shape", None)
    if input_shape is not None:
        given = input_shape
        if isinstance(given, str | bytes) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in given
        ):
            raise ConfigError(
                f"input_shape must be a tuple of positive ints, (channels, length) or (channels, height, "
                f"width). Got {given!r}."
            )
        input_shape = tuple(int(v) for v in given)
        if math.prod(input_shape) != s.n_features or len(input_shape) not in (2, 3):
            raise ConfigError(
                f"input_shape must be (channels, length) or (channels, height, width) with {s.n_features} "
                f"values in all (one per feature). Got {input_shape}."
            )
    if arch == "cnn" and input_shape is None:
        raise ConfigError(
            "arch='cnn' needs to know how a row is a signal or an image: give data with input_shape "
            "(mnist1d: (1, 40); digits: (1, 8, 8)) or input_shape=..."
        )
    n, f = s.n_rows, s.n_features
    dims: dict[str, Dimension] = {}
    reasons: dict[str, str] = {}

    # 1. learning rate: the single most important hyperparameter; effects are multiplicative -> log scale
    dims["lr"] = Float(1e-4, 3e-2, log=True, prior=1e-3)
    reasons["lr"] = (
        "log scale because its effect is multiplicative; suggested first since it matters most "
        "for every optimizer; [1e-4, 3e-2] covers Adam's sweet spot (~1e-3, where the startup trials "
        "concentrate) and SGD's (~1e-2)"
    )

    # 2. optimizer: Adam first, but keep the alternatives practitioners still win with
    dims["optimizer"] = Categorical(("adam", "momentum", "rmsprop"), weights=(0.6, 0.2, 0.2))
    reasons["optimizer"] = (
        "Adam is the default (the first trial uses it, and most startup trials: robust to the learning "
        "rate); SGD with momentum and RMSProp stay in the space because they sometimes generalise better"
    )
    dims["momentum"] = Float(0.8, 0.99, prior=0.9)
    reasons["momentum"] = (
        "only for SGD with momentum or Nesterov (conditional; our RMSProp has none); 0.9 is typical, 0.8-0.99 the usual range"
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
    dims["n_layers"] = Int(1, max_depth, prior=min(2, max_depth), spread=0.35)
    reasons["n_layers"] = (
        depth_why
        + "; depth beyond 4 rarely helps an MLP on tabular data"
        + (
            f"; the prior centres on {min(2, max_depth)} for the trials after the first batch: the first batch"
            " (the trials trained together with the first, default trial) shares its one hidden layer"
            if max_depth > 1
            else ""
        )
        + (
            " (for a CNN, the dense layers after the convolutions)"
            if input_shape is not None and arch != "mlp"
            else ""
        )
    )

    # The widest layer: a few times the input width, but capped so that the network has no more than ~ten
    # parameters per training row (more only memorises on small data).
    w_input = _pow2_ceil(2 * f)
    w_rows = _pow2_floor(math.sqrt(10 * n))
    w_high = int(min(1024, max(32, min(max(64, w_input), w_rows))))
    w_low = int(min(w_high // 2, 16 if f < 64 else 32))  # always a range of at least 2x
    w_mid = round(math.sqrt(w_low * w_high))  # the middle of the range on its log scale
    dims["width"] = Int(w_low, w_high, log=True, prior=w_mid)
    # the reason names the rule that set the top of the range (it said "twice the inputs" where the rows or the
    # floor of 32 decided)
    if w_high == 1024 and min(max(64, w_input), w_rows) > 1024:
        top = "the ceiling of 1024"
    elif w_high == 32 and min(max(64, w_input), w_rows) < 32:
        top = f"the floor of 32 (sqrt(10 x {n} rows), rounded down to a power of two, would allow only {w_rows})"
    elif w_rows < max(64, w_input):
        rather = (
            f"twice the {f} input features rounded up to a power of two ({w_input})"
            if w_input > 64
            else "64, the least top otherwise"
        )
        top = (
            f"sqrt(10 x {n} rows) rounded down to a power of two ({w_rows}), below {rather}, so the network is not "
            "far larger than the data can fit"
        )
    elif w_input >= 64:
        top = f"twice the {f} input features rounded up to a power of two"
    else:
        top = f"64, the least the top goes to (twice the {f} input features, rounded up to a power of two, is {w_input})"
    reasons["width"] = (
        f"log scale from {w_low} to {w_high}: the top is {top}; startup trials centre on a moderate {w_mid}"
    )
    dims["shape"] = Categorical(("constant", "funnel"))
    reasons["shape"] = "equal-width layers or a funnel that halves each layer; both are common defaults"

    # 4. activations: ReLU family in hidden layers
    dims["activation"] = Categorical(("relu", "leaky_relu", "gelu"), weights=(0.5, 0.25, 0.25))
    reasons["activation"] = (
        "ReLU family: non-saturating, so gradients survive depth; tanh/sigmoid saturate "
        "and are left out (add them with extend); plain ReLU is the most common winner, so half the "
        "startup trials use it"
    )

    # 5. batch size: sized to the data
    b_high = int(max(8, min(512, _pow2_floor(n / 10))))
    b_low = int(min(b_high, 16 if n >= 500 else 8))
    b_base = int(min(b_high, max(b_low, 64)))
    if b_low < b_high:
        dims["batch_size"] = Int(b_low, b_high, log=True, prior=b_base, spread=0.35)
    if b_low < b_high:
        reasons["batch_size"] = (
            f"log scale in [{b_low}, {b_high}]: at most a tenth of the {n} training rows so an "
            "epoch has at least ten updates; small batches regularise, large ones are faster"
        )
    elif n <= b_high:
        reasons["batch_size"] = (
            f"fixed to {b_high}, the smallest batch size, which holds all {n} training rows: every epoch is "
            "one full-batch update"
        )
    else:
        # as the trainer splits an epoch (batch_bounds: a last partial batch is one more update; n // b said 5
        # updates for 42 rows in batches of 8, where the trainer makes 6)
        updates = len(batch_bounds(n, b_high))
        reasons["batch_size"] = (
            f"fixed to {b_high}, the smallest batch size: a tenth of the {n} training rows ({n / 10:.3g}) leaves "
            f"no range above it, and an epoch has {updates} update{'s' if updates != 1 else ''}"
        )

    # 6. dropout: more where each parameter sees few rows
    mid_width, mid_depth = int(math.sqrt(w_low * w_high)), max(1, (1 + max_depth) // 2)
    mid_params = _mlp_params(f, mid_width, mid_depth, s.n_outputs)
    rows_per_param = n / mid_params
    if rows_per_param < 1:
        d_high, d_prior, d_why = 0.5, 0.25, "fewer than one training row per parameter: high overfitting risk"
    elif rows_per_param < 10:
        d_high, d_prior, d_why = 0.3, 0.0, "a few training rows per parameter: moderate overfitting risk"
    else:
        d_high, d_prior, d_why = 0.2, 0.0, "many training rows per parameter: low overfitting risk"
    dims["dropout"] = Float(0.0, d_high, prior=d_prior)
    reasons["dropout"] = (
        f"[0, {d_high}] because a mid-sized network ({mid_depth} hidden layer{'s' if mid_depth > 1 else ''} of "
        f"{mid_width}) has ~{mid_params:,} parameters for {n:,} "
        f"rows ({rows_per_param:.3g} rows per parameter): {d_why}; startup trials centre on "
        f"{d_prior:g}"
        + (
            " (little dropout: it slows training and early stopping already regularises)"
            if d_prior == 0
            else " (a network this much larger than its data needs more than early stopping; Srivastava et al. "
            "2014 use 0.2-0.5)"
        )
    )

    # 7. schedule: cheap to search, cosine often helps at the end of training
    dims["lr_schedule"] = Categorical(("constant", "cosine"), weights=(1.0, 2.0))
    reasons["lr_schedule"] = (
        "constant or cosine decay; cosine often gains the last bit of validation score, so the first "
        "trial and two thirds of the startup trials use it"
    )

    # 8. architecture family: convolutions where a row is a signal or an image
    fixed: dict[str, Any] = {}
    if b_low == b_high:  # too few rows for a range: not a searched dimension of one value
        fixed["batch_size"] = b_low
    if input_shape is not None and arch != "mlp":
        _conv_dims(dims, reasons, input_shape, arch)
        fixed["input_shape"] = input_shape
        if arch == "cnn":
            fixed["arch"] = "cnn"

    # 9. class weights: only where a class is rare (rare_class_limit, the rule imbalance_hint follows too);
    # balanced data keeps exactly the space it had
    share, n_classes = s.min_class_share, s.n_classes or 2
    if share is not None and share < rare_class_limit(n_classes):
        dims["class_weight"] = Categorical(("none", "balanced"))
        reasons["class_weight"] = (
            f"the smallest class is {share:.1%} of the {n} training rows, under {rare_class_limit(n_classes):.1%} "
            f"(a fifth of the {1 / n_classes:.1%} that each of {n_classes} equal classes would hold): weighting "
            "each row by n / (classes x rows of its class) makes every class "
            "count equally in the loss; it usually raises balanced accuracy and macro-F1 and can lower accuracy, "
            "so the search decides (the first trial is unweighted)"
        )

    # Not searched: epochs (early stopping), loss (task), patience
    if max_epochs is None:
        max_epochs = 100 if n < 20_000 else 50
    patience = max(5, min(15, max_epochs // 8))
    base = MLPConfig(
        hidden=(min(w_high, max(w_low, 64)),),
        optimizer="adam",
        lr=1e-3,
        activation="relu",
        batch_size=b_base,
        max_epochs=max_epochs,
        patience=patience,
        early_stopping_metric="valid_loss",
        loss="auto",
        lr_schedule="cosine",
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
        "the first trial is the default config (Adam, lr 1e-3, ReLU, one hidden layer, cosine decay): a "
        "strong baseline that the sampler must beat",
        "the next startup trials are drawn from the priors (lr near 1e-3, mostly Adam and ReLU, dropout "
        f"near {d_prior:g}, moderate width) rather than uniformly; the sampler then models all of them over "
        "the full ranges",
        "successive halving compares configurations after the same number of epochs and stops the worst",
    ]
    log.debug("advised space for %s", s)
    return SearchSpace(dims, base=base, fixed=fixed, reasons=reasons, notes=notes)


def _conv_dims(
    dims: dict[str, Dimension], reasons: dict[str, str], shape: tuple[int, ...], arch: str
) -> None:
    """The convolutional family's dimensions (suggested only when ``arch`` is ``"cnn"``)."""
    kind = "signal" if len(shape) == 2 else "image"
    a_kind = "a signal" if kind == "signal" else "an image"
    size = "x".join(str(v) for v in shape[1:])
    why = (
        f"each row is {a_kind} of shape {shape}: convolutions share weights across positions, so a "
        "pattern learnt in one place is recognised everywhere with far fewer parameters than a dense layer"
    )
    if arch == "auto":
        dims["arch"] = Categorical(("mlp", "cnn"))
        reasons["arch"] = why + "; the MLP stays in the space as the baseline (the first trial)"
    else:
        reasons["arch"] = why + "; fixed to 'cnn' by the caller"
    long_enough = min(shape[1:]) >= 16
    max_blocks = 3 if long_enough else 2
    dims["n_conv"] = Int(1, max_blocks, prior=2)
    reasons["n_conv"] = f"1-{max_blocks} conv blocks, each pooling by 2: a {size} {kind} is " + (
        "long enough for three" if long_enough else "too small for more than two"
    )
    dims["conv_channels"] = Int(8, 64, log=True, prior=16)
    reasons["conv_channels"] = (
        "channels of the first block (each next block doubles them), log scale: 8-64 filters suffice "
        "for small signals and images"
    )
    kernels = (3, 5, 7) if long_enough else (3, 5)
    dims["kernel_size"] = Categorical(kernels, weights=(1.0, 2.0, 1.0) if long_enough else (2.0, 1.0))
    reasons["kernel_size"] = f"odd sizes keep the {kind} centred; " + (
        f"5 spans a stroke of a {size} signal" if long_enough else f"3 suits a {size} image"
    )
    dims["pool"] = Categorical(("max", "avg"), weights=(2.0, 1.0))
    reasons["pool"] = "max pooling keeps the strongest response (the usual default); average pooling smooths"
