"""hyperselect: tune neural networks fast and tell honestly when one is worth it.

The public API is re-exported here.  Everything that pulls in torch, scikit-learn or an optional dependency is
resolved lazily on first attribute access (PEP 562), so ``import hyperselect`` stays fast (the CLI's ``--help``
does not wait for torch) and a part that is missing or not installed only fails when it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hyperselect import errors
from hyperselect.errors import ConfigError, DataError, HyperselectError, NotFittedError, TrainingError

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "MLPConfig": ("hyperselect.nn.config", "MLPConfig"),
    "CNNConfig": ("hyperselect.nn.config", "CNNConfig"),
    "config_from_dict": ("hyperselect.nn.config", "config_from_dict"),
    "Task": ("hyperselect.tasks", "Task"),
    "train_network": ("hyperselect.train.trainer", "train_network"),
    "TrainResult": ("hyperselect.train.trainer", "TrainResult"),
    "NeuralNetClassifier": ("hyperselect.estimators", "NeuralNetClassifier"),
    "NeuralNetRegressor": ("hyperselect.estimators", "NeuralNetRegressor"),
    "load_estimator": ("hyperselect.estimators", "load_estimator"),
    "load_model": ("hyperselect.model_io", "load_model"),
    "TabularModel": ("hyperselect.model_io", "TabularModel"),
    # whole sub-packages, some written by other parts of the project or needing extras
    "data": ("hyperselect.data", None),
    "search": ("hyperselect.search", None),
    "node2vec": ("hyperselect.represent.node2vec", None),
    "text": ("hyperselect.represent.text", None),
    "verdict": ("hyperselect.evaluate.verdict", None),
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from hyperselect.estimators import NeuralNetClassifier, NeuralNetRegressor, load_estimator
    from hyperselect.model_io import TabularModel, load_model
    from hyperselect.nn.config import CNNConfig, MLPConfig, config_from_dict
    from hyperselect.tasks import Task
    from hyperselect.train.trainer import TrainResult, train_network


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'hyperselect' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# Names that always exist; the lazy sub-packages (data, search, node2vec, text, verdict) are reachable as
# attributes but kept out of ``import *`` so that a missing optional part cannot break it.
__all__ = [
    "CNNConfig",
    "ConfigError",
    "DataError",
    "HyperselectError",
    "MLPConfig",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "NotFittedError",
    "TabularModel",
    "Task",
    "TrainResult",
    "TrainingError",
    "__version__",
    "config_from_dict",
    "errors",
    "load_estimator",
    "load_model",
    "train_network",
]
