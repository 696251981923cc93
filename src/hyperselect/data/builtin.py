"""Built-in data sets that need no download: scikit-learn's bundled tables and mnist1d generated offline.

They give the demo, the tests and the benchmarks real data on a machine without network access.  mnist1d is
*generated* with the ``mnist1d`` package's own generator and default arguments (4000 train + 1000 test signals of
length 40, seed 42), never downloaded: its ``get_dataset`` helper fetches a pickle from GitHub, which we avoid
both for offline use and because we never unpickle.
"""

from __future__ import annotations

import difflib
import functools
import logging
import random
from collections.abc import Callable
from typing import Any

import numpy as np

from hyperselect._validation import check_params
from hyperselect.data.splits import SPLIT_CONSTRAINTS
from hyperselect.data.tabular import TabularData, prepare_arrays
from hyperselect.errors import DataError
from hyperselect.tasks import Task

logger = logging.getLogger(__name__)

#: Name -> one-line description of every data set :func:`load_builtin` knows.
BUILTIN_DATASETS: dict[str, str] = {
    "digits": "scikit-learn digits: 1797 8x8 grey images of handwritten digits, 10 classes",
    "mnist1d": "mnist1d (generated offline): 4000 train + 1000 test 1-D signals of length 40, 10 classes",
    "breast_cancer": "scikit-learn Wisconsin breast cancer: 569 rows, 30 features, binary",
    "diabetes": "scikit-learn diabetes: 442 rows, 10 features, regression",
    "iris": "scikit-learn iris: 150 rows, 4 features, 3 classes",
    "wine": "scikit-learn wine: 178 rows, 13 features, 3 classes",
}


def load_builtin(name: str, random_state: int = 0) -> TabularData:
    """Load a built-in data set, split (stratified for classification) and scaled on the training split.

    ``random_state`` chooses the split; mnist1d keeps the package's fixed test set and cuts validation rows from
    its training set.  ``input_shape`` is ``(1, 8, 8)`` for digits and ``(1, 40)`` for mnist1d so convolutional
    networks can view each row as an image or signal; plain tables have ``None``.
    """
    check_params("load_builtin", {"random_state": random_state}, SPLIT_CONSTRAINTS)
    if name not in BUILTIN_DATASETS:
        close = difflib.get_close_matches(str(name), list(BUILTIN_DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"Unknown built-in data set {name!r}; expected one of {', '.join(BUILTIN_DATASETS)}.{hint}"
        )
    if name == "mnist1d":
        x_train, y_train, x_test, y_test = _mnist1d_arrays()
        data = prepare_arrays(
            x_train,
            y_train,
            task=Task.MULTICLASS,
            random_state=random_state,
            name="mnist1d",
            input_shape=(1, 40),
            test=(x_test, y_test),
        )
        data.classes = list(range(10))
        return data
    loader, task, input_shape = _SKLEARN[name]
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    data = prepare_arrays(X, y, task=task, random_state=random_state, name=name, input_shape=input_shape)
    data.feature_names = [str(f) for f in getattr(bunch, "feature_names", data.feature_names)]
    target_names = getattr(bunch, "target_names", None)
    if task.is_classification and target_names is not None and data.classes is not None:
        # Codes are 0..C-1 in the same order as target_names; report the readable names.
        data.classes = [np.asarray(target_names)[int(c)].item() for c in data.classes]
    return data


def _digits() -> Any:
    from sklearn.datasets import load_digits

    return load_digits()


def _breast_cancer() -> Any:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer()


def _diabetes() -> Any:
    from sklearn.datasets import load_diabetes

    return load_diabetes()


def _iris() -> Any:
    from sklearn.datasets import load_iris

    return load_iris()


def _wine() -> Any:
    from sklearn.datasets import load_wine

    return load_wine()


_SKLEARN: dict[str, tuple[Callable[[], Any], Task, tuple[int, ...] | None]] = {
    "digits": (_digits, Task.MULTICLASS, (1, 8, 8)),
    "breast_cancer": (_breast_cancer, Task.BINARY, None),
    "diabetes": (_diabetes, Task.REGRESSION, None),
    "iris": (_iris, Task.MULTICLASS, None),
    "wine": (_wine, Task.MULTICLASS, None),
}


def _mnist1d_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Copies of the cached generated arrays, so callers may modify what they get."""
    x, y, xt, yt = _generate_mnist1d()
    return x.copy(), y.copy(), xt.copy(), yt.copy()


@functools.lru_cache(maxsize=1)
def _generate_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate mnist1d with the package defaults (about a second), restoring the global RNGs afterwards.

    The generator seeds ``random`` and ``numpy.random`` globally; restoring them keeps loading a data set from
    silently changing the random stream of the caller's experiment.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # pragma: no cover - mnist1d is a core dependency
        raise DataError(
            "The built-in 'mnist1d' data set needs the mnist1d package: pip install mnist1d"
        ) from exc
    np_state = np.random.get_state()
    py_state = random.getstate()
    try:
        ds = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    logger.info("generated mnist1d: %s train, %s test", ds["x"].shape, ds["x_test"].shape)
    return (
        np.asarray(ds["x"], dtype=np.float64),
        np.asarray(ds["y"], dtype=np.int64),
        np.asarray(ds["x_test"], dtype=np.float64),
        np.asarray(ds["y_test"], dtype=np.int64),
    )


__all__ = ["BUILTIN_DATASETS", "load_builtin"]
