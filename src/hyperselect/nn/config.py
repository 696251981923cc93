"""Network and training hyperparameters as one frozen dataclass.

Following nanoGPT, a model's whole recipe is one immutable value: it is hashed into the search, saved inside
every checkpoint and result, and a model can be rebuilt from it.  Validation happens once, in
``__post_init__``, from the constraint table, so an invalid value fails where it is written, not deep inside
torch.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

from hyperselect._validation import Interval, IntTuple, NoneOr, Options, check_params
from hyperselect.errors import ConfigError

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "elu", "selu", "tanh", "sigmoid")
NORMS = ("none", "batch", "layer")
INITS = ("default", "he", "xavier")
LOSSES = ("auto", "cross_entropy", "bce", "mse", "huber")
OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop")
SCHEDULES = ("constant", "cosine", "plateau")
STOP_METRICS = ("valid_loss", "valid_score")
CLASS_WEIGHTS = ("none", "balanced")

_MLP_CONSTRAINTS = {
    "hidden": IntTuple(allow_empty=True, low=1),
    "activation": Options(ACTIVATIONS),
    "dropout": Interval(float, 0.0, 1.0, closed="left"),
    "norm": Options(NORMS),
    "init": Options(INITS),
    "loss": Options(LOSSES),
    "label_smoothing": Interval(float, 0.0, 1.0, closed="left"),
    "huber_delta": Interval(float, 0.0, None, closed="neither"),
    "class_weight": Options(CLASS_WEIGHTS),
    "optimizer": Options(OPTIMIZERS),
    "lr": Interval(float, 0.0, None, closed="neither"),
    "weight_decay": Interval(float, 0.0, None, closed="left"),
    "momentum": Interval(float, 0.0, 1.0, closed="left"),
    "beta1": Interval(float, 0.0, 1.0, closed="left"),
    "beta2": Interval(float, 0.0, 1.0, closed="left"),
    "eps": Interval(float, 0.0, None, closed="neither"),
    "batch_size": Interval(int, 1, None),
    "max_epochs": Interval(int, 1, None),
    "patience": NoneOr(Interval(int, 1, None)),
    "early_stopping_metric": Options(STOP_METRICS),
    "min_delta": Interval(float, 0.0, None, closed="left"),
    "lr_schedule": Options(SCHEDULES),
    "grad_clip": NoneOr(Interval(float, 0.0, None, closed="neither")),
}


def check_nesterov(owner: str, optimizer: Any, momentum: Any) -> None:
    """Nesterov momentum needs a momentum above 0: torch's SGD refuses ``nesterov=True`` with ``momentum=0``
    ("Nesterov momentum requires a momentum and zero dampening"), and the population trainer would train such a
    config as plain SGD, so a search and its refit would disagree."""
    if optimizer == "nesterov" and isinstance(momentum, numbers.Real) and not float(momentum) > 0:
        raise ConfigError(
            f"The 'momentum' parameter of {owner} must be a float in (0, 1) when optimizer='nesterov': "
            f"Nesterov momentum needs a momentum. Got {momentum!r}. Raise momentum, or use optimizer='sgd' "
            "for SGD without momentum."
        )


def check_batch_norm(owner: str, norm: Any, batch_size: Any) -> None:
    """Batch normalisation in training mode needs 2 or more rows per batch: over one row every activation is
    normalised to 0 (torch refuses with "Expected more than 1 value per channel")."""
    if norm == "batch" and isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool):
        if int(batch_size) >= 2:
            return
        raise ConfigError(
            f"The 'batch_size' parameter of {owner} must be an int in [2, inf) when norm='batch': batch "
            f"normalisation needs 2 or more rows per batch. Got {batch_size!r}. Raise batch_size, or use "
            "norm='layer' (which normalises each row on its own) or norm='none'."
        )


@dataclass(frozen=True)
class MLPConfig:
    """A multi-layer perceptron and how to train it.

    ``hidden`` lists the neurons of each hidden layer (``()`` is a linear model).  ``patience=None`` disables
    early stopping; ``grad_clip`` is a max global L2 norm.  ``class_weight="balanced"`` weighs each training row
    of a classification task by n / (classes x rows of its class), as scikit-learn's ``class_weight="balanced"``
    does, so that every class counts equally in the loss (for imbalanced data scored by balanced accuracy or
    macro-F1).  ``momentum`` is used by ``momentum`` and
    ``nesterov`` only (RMSProp runs without momentum, torch's default); ``beta1``/``beta2`` by Adam and
    AdamW; RMSProp's smoothing constant is ``beta2``'s sibling ``alpha`` fixed at 0.99 as in torch.
    """

    hidden: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    dropout: float = 0.0
    norm: str = "none"
    init: str = "default"
    loss: str = "auto"
    label_smoothing: float = 0.0
    huber_delta: float = 1.0
    class_weight: str = "none"
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    batch_size: int = 64
    max_epochs: int = 100
    patience: int | None = 10
    early_stopping_metric: str = "valid_loss"
    min_delta: float = 0.0
    lr_schedule: str = "constant"
    grad_clip: float | None = None

    arch: str = field(default="mlp", init=False)

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        # ints are fine where floats are expected: the user writes lr=1 as happily as lr=1.0
        for name in (
            "dropout",
            "label_smoothing",
            "huber_delta",
            "lr",
            "weight_decay",
            "momentum",
            "beta1",
            "beta2",
            "eps",
            "min_delta",
        ):
            v = getattr(self, name)
            if isinstance(v, int) and not isinstance(v, bool):
                object.__setattr__(self, name, float(v))
        if isinstance(self.grad_clip, int) and not isinstance(self.grad_clip, bool):
            object.__setattr__(self, "grad_clip", float(self.grad_clip))
        # names are matched case-insensitively: --set activation=ReLU or optimizer="SGD" mean the usual thing
        for name, rule in self._constraints().items():
            v = getattr(self, name)
            if isinstance(rule, Options) and isinstance(v, str) and v not in rule.values:
                canonical = v.strip().lower()
                if canonical in rule.values:
                    object.__setattr__(self, name, canonical)
        check_params(type(self).__name__, dataclasses.asdict(self), self._constraints())
        check_batch_norm(type(self).__name__, self.norm, self.batch_size)
        check_nesterov(type(self).__name__, self.optimizer, self.momentum)

    @classmethod
    def _constraints(cls) -> dict[str, Any]:
        return dict(_MLP_CONSTRAINTS)

    def replace(self, **changes: Any) -> MLPConfig:
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self) if f.init}
        if unknown:
            raise ConfigError(
                f"Unknown hyperparameter(s) for {type(self).__name__}: {sorted(unknown)}. "
                f"Known: {sorted(f.name for f in dataclasses.fields(self) if f.init)}."
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @property
    def depth(self) -> int:
        return len(self.hidden)


_CNN_CONSTRAINTS = {
    "channels": IntTuple(allow_empty=False, low=1),
    "kernel_size": Interval(int, 1, None),
    "pool": Options(("max", "avg", "none")),
    "input_shape": IntTuple(allow_empty=False, low=1),
}


@dataclass(frozen=True)
class CNNConfig(MLPConfig):
    """A small convolutional network (1-D for signals, 2-D for images) with an MLP head.

    ``input_shape`` is (channels, length) for 1-D or (channels, height, width) for 2-D; the flat feature vector
    given to the trainer is reshaped to it.  Each entry of ``channels`` is a conv block (conv, norm,
    activation, pool by 2 where the signal is still long enough); ``hidden`` is the dense head.
    """

    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 5
    pool: str = "max"
    input_shape: tuple[int, ...] = (1, 40)

    arch: str = field(default="cnn", init=False)

    def __post_init__(self) -> None:
        for name in ("channels", "input_shape"):
            v = getattr(self, name)
            if isinstance(v, list):
                object.__setattr__(self, name, tuple(v))
        super().__post_init__()
        if len(self.input_shape) not in (2, 3):
            raise ConfigError(
                "The 'input_shape' parameter of CNNConfig must be (channels, length) or "
                f"(channels, height, width). Got {self.input_shape!r}."
            )

    @classmethod
    def _constraints(cls) -> dict[str, Any]:
        return {**_MLP_CONSTRAINTS, **_CNN_CONSTRAINTS}

    @property
    def spatial_dims(self) -> int:
        return len(self.input_shape) - 1


def config_from_dict(d: dict[str, Any]) -> MLPConfig:
    """Rebuild a config saved with ``to_dict`` (the ``arch`` key picks the class)."""
    d = dict(d)
    arch = d.pop("arch", "mlp")
    cls: type[MLPConfig] = {"mlp": MLPConfig, "cnn": CNNConfig}.get(arch)  # type: ignore[assignment]
    if cls is None:
        raise ConfigError(f"Unknown architecture {arch!r} in saved config; expected 'mlp' or 'cnn'.")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(f"Unknown hyperparameter(s) for {cls.__name__}: {sorted(unknown)}.")
    return cls(**d)
