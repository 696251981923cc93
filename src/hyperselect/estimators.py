"""scikit-learn compatible estimators around the single-network trainer.

``NeuralNetClassifier`` and ``NeuralNetRegressor`` take the :class:`~hyperselect.nn.MLPConfig` hyperparameters as
constructor arguments, so they drop into ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` unchanged.
Following scikit-learn, ``__init__`` only stores its arguments and ``fit`` validates them (in one place, with
the project's one message template) and returns ``self``; everything learned ends in ``_``.

Early stopping needs data the optimiser never sees, so ``fit`` holds out ``validation_fraction`` of the rows
(stratified for classification when every class can be represented) and keeps the weights of the best
validation epoch, as scikit-learn's ``MLPClassifier(early_stopping=True)`` does.

Models are saved as a safetensors file of weights plus a JSON file with the config and everything else needed
to predict, never pickled.  Both files are written atomically; the JSON is written last and records the
SHA-256 of the weights, so a crash between the two writes is detected on load instead of pairing a config
with the wrong weights.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from hyperselect import errors
from hyperselect._io import atomic_write_bytes, atomic_write_text, check_out_folder, to_json
from hyperselect._validation import Interval, NoneOr, Options, check_params
from hyperselect.errors import ConfigError, TrainingError
from hyperselect.nn.config import MLPConfig, check_batch_norm, check_nesterov, config_from_dict
from hyperselect.nn.losses import predict_from_logits, proba_from_logits
from hyperselect.nn.mlp import build_model
from hyperselect.tasks import Task
from hyperselect.train.diagnostics import Finding, constant_loss, diagnose
from hyperselect.train.trainer import EVAL_CHUNK, NetworkRun, infer_n_outputs

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"

# The MLPConfig fields that are constructor arguments of the estimators, in declaration order.
CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MLPConfig) if f.init)


class NotFittedError(errors.NotFittedError, SklearnNotFittedError):
    """Raised by ``predict`` & co. before ``fit``; caught by both hyperselect's and scikit-learn's handlers."""


def _extra_constraints() -> dict[str, Any]:
    return {
        "validation_fraction": Interval(float, 0.0, 1.0, closed="neither"),
        "random_state": NoneOr(Interval(int, 0, 2**32 - 1)),
        "device": NoneOr(Options(("cpu", "cuda", "mps"))),
        "verbose": Interval(int, 0, None, bools=True),
    }


def _is_weight(v: Any) -> bool:
    return (
        isinstance(v, int | float | np.number) and not isinstance(v, bool) and bool(np.isfinite(v) and v >= 0)
    )


def _label_key(label: Any) -> Any:
    """A class label as a mapping key: numpy scalars as Python values (np.int64(1) and 1 are one class)."""
    return label.item() if isinstance(label, np.generic) else label


def _arch_message(owner: str, arch: Any) -> str:
    if arch == "cnn":
        return (
            f"The 'arch' parameter of {owner} must be 'mlp'. Got 'cnn': {owner} is a multi-layer perceptron "
            "and cannot train a convolutional config; a tuned CNN is TuneResult.refit_model (a torch module), "
            "or tune with arch='mlp' for a config this estimator can take."
        )
    return f"The 'arch' parameter of {owner} must be 'mlp' (the only architecture it trains). Got {arch!r}."


def _scale_hint(X: np.ndarray, name: str) -> str:
    """A sentence for a diverged fit on unscaled features, where a smaller step size only postpones the NaN."""
    big = float(np.abs(X).max()) if X.size else 0.0
    if big <= 1e4:
        return ""
    return (
        f"The features reach |x| = {big:.3g}: scale them first, e.g. make_pipeline(StandardScaler(), "
        f"{name}(...)). "
    )


def _text_cell(X: Any) -> tuple[str, str, Any] | None:
    """The first text cell of ``X`` that is no number, as ``(column, row, value)`` (names where ``X`` is a
    DataFrame, positions otherwise), or ``None``; numeric arrays cost a dtype check.  Other odd cells (a dict)
    are left to scikit-learn's validation and its message."""
    import pandas as pd
    from pandas.api import types as ptypes

    def bad(cells: np.ndarray) -> int | None:
        for i, v in enumerate(cells.tolist()):
            if isinstance(v, str | bytes):
                try:
                    float(v)
                except ValueError:
                    return i
        return None

    if isinstance(X, pd.DataFrame):
        for name, col in X.items():
            if ptypes.is_numeric_dtype(col.dtype) or ptypes.is_bool_dtype(col.dtype):
                continue
            values = col.to_numpy(dtype=object)
            i = bad(values)
            if i is not None:
                return repr(name), repr(_label_key(col.index[i])), values[i]
        return None
    if hasattr(X, "toarray") or not isinstance(X, np.ndarray | list | tuple):
        return None
    try:
        arr = np.asarray(X)
    except ValueError:  # ragged rows: scikit-learn says so
        return None
    if arr.dtype.kind not in "OUS" or arr.ndim != 2:
        return None
    for j in range(arr.shape[1]):
        i = bad(arr[:, j])
        if i is not None:
            return str(j), str(i), arr[i, j]
    return None


def _refuse_text(X: Any, owner: str) -> None:
    """A ValueError naming the column and row of the first text cell of ``X`` (numpy's own message is "could
    not convert string to float: 'u'", from deep inside scikit-learn's validation, naming neither)."""
    found = _text_cell(X)
    if found is None:
        return
    column, row, value = found
    shown = value if len(str(value)) <= 40 else str(value)[:37] + "..."
    raise ValueError(
        f"{owner} takes numeric features; column {column} of X holds text ({shown!r} at row {row}). Encode text "
        "columns first, e.g. make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown='ignore'), "
        f"[{column}]), remainder='passthrough'), {owner}(...))."
    )


def _check_labels(y: Any, owner: str) -> None:
    """A 1-D class target without missing labels or a mix of texts and numbers, refused with the row of the
    first (np.unique's TypeError "'<' not supported between instances of 'str' and 'NoneType'" names none)."""
    import pandas as pd

    if hasattr(y, "toarray"):
        return
    index = y.index if isinstance(y, pd.Series) else None
    try:
        arr = np.asarray(y, dtype=object)
    except ValueError:
        return
    if arr.ndim != 1 or not len(arr):
        return
    if not any(isinstance(v, str) for v in arr.tolist()) and np.asarray(y).dtype.kind != "O":
        return  # numbers: scikit-learn's checks say what is wrong (NaN, a continuous target)

    def row(i: int) -> str:
        return repr(_label_key(index[i])) if index is not None else str(i)

    missing = np.flatnonzero(pd.isna(arr))
    if len(missing):
        raise ValueError(
            f"{owner} needs a class label in every row of y; {len(missing)} of {len(arr)} are missing "
            f"(first {arr[missing[0]]!r} at row {row(int(missing[0]))}). Drop those rows from X and y first."
        )
    text = np.array([isinstance(v, str) for v in arr.tolist()])
    if text.any() and not text.all():
        i, j = int(np.flatnonzero(text)[0]), int(np.flatnonzero(~text)[0])
        raise ValueError(
            f"{owner} needs class labels of one kind; y mixes texts and other values ({arr[i]!r} at row "
            f"{row(i)}, {arr[j]!r} at row {row(j)}). Convert them all to text, e.g. y.astype(str), or to numbers."
        )


#: The model folder ``hyperselect train/tune --out DIR`` writes inside DIR.
RUN_MODEL_FOLDER = "model"


def _model_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as a model folder, or a DataError that says what it is instead.  A run folder of ``hyperselect
    train/tune --out DIR`` stands for the model folder it holds, ``DIR/model``."""
    folder = Path(path)
    inner = folder / RUN_MODEL_FOLDER
    if folder.is_dir() and not (folder / CONFIG_FILE).exists() and (inner / CONFIG_FILE).is_file():
        return inner
    if folder.is_file():
        hint = f" (its folder '{folder.parent}'?)" if folder.name in (CONFIG_FILE, WEIGHTS_FILE) else ""
        raise errors.DataError(
            f"'{folder}' is a file; expected the model folder written by save(){hint}, holding {CONFIG_FILE} "
            f"and {WEIGHTS_FILE}."
        )
    return folder


def _read_doc(cfg_path: Path) -> dict[str, Any]:
    """The saved ``config.json`` as a dict; DataError naming the file when it is missing or not one."""
    try:
        doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise errors.DataError(
            f"'{cfg_path}': no such file; expected a model folder written by save()."
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.DataError(f"'{cfg_path}': not valid JSON ({exc}).") from exc
    if not isinstance(doc, dict):
        raise errors.DataError(
            f"'{cfg_path}': expected a JSON object written by save(), found a {type(doc).__name__}."
        )
    version = doc.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise errors.DataError(
            f"'{cfg_path}': format_version {version!r} is not one this hyperselect reads (up to {FORMAT_VERSION}); "
            "it was written by a newer hyperselect: upgrade to load it."
        )
    return doc


class _NeuralNetBase(BaseEstimator):
    """Shared constructor, validation, training and persistence of the two estimators."""

    # The losses that make sense for the estimator's kind of task; narrower than MLPConfig's, so a regressor
    # asked for cross-entropy fails in ``fit`` with the estimator's name in the message.
    _losses: ClassVar[tuple[str, ...]] = ("auto",)

    def __init__(
        self,
        hidden: tuple[int, ...] = (128, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str = "none",
        init: str = "default",
        loss: str = "auto",
        label_smoothing: float = 0.0,
        huber_delta: float = 1.0,
        class_weight: str | Mapping[Any, float] | None = "none",
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        batch_size: int = 64,
        max_epochs: int = 100,
        patience: int | None = 10,
        early_stopping_metric: str = "valid_loss",
        min_delta: float = 0.0,
        lr_schedule: str = "constant",
        grad_clip: float | None = None,
        validation_fraction: float = 0.1,
        random_state: int | np.random.RandomState | None = None,
        device: str | None = None,
        verbose: int | bool = 0,
        arch: str = "mlp",
    ) -> None:
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.norm = norm
        self.init = init
        self.loss = loss
        self.label_smoothing = label_smoothing
        self.huber_delta = huber_delta
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.early_stopping_metric = early_stopping_metric
        self.min_delta = min_delta
        self.lr_schedule = lr_schedule
        self.grad_clip = grad_clip
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        # MLPConfig.to_dict() carries arch, so NeuralNetClassifier(**result.best_config.to_dict()) works
        self.arch = arch

    @classmethod
    def from_config(cls, config: MLPConfig | Mapping[str, Any], **params: Any) -> Any:
        """An unfitted estimator with the hyperparameters of ``config`` -- an :class:`MLPConfig` or its
        ``to_dict()``, e.g. ``tune(...).best_config`` -- and ``params`` for the estimator's own arguments
        (``random_state``, ``validation_fraction``, ``device``, ``verbose``; a hyperparameter given here
        overrides the config's).

        ``est = NeuralNetClassifier.from_config(result.best_config, random_state=0).fit(X, y)`` trains the tuned
        configuration on your own ``X``; ``NeuralNetClassifier(**result.best_config.to_dict())`` is the same
        without the extra arguments.  A convolutional config (``arch='cnn'``) is refused: the estimators are
        multi-layer perceptrons (a tuned CNN is ``TuneResult.refit_model``).
        """
        d = config.to_dict() if isinstance(config, MLPConfig) else dict(config)
        arch = d.get("arch", "mlp")
        if arch != "mlp":
            raise ConfigError(_arch_message(cls.__name__, arch))
        unknown = sorted(set(d) - set(CONFIG_FIELDS) - {"arch"})
        if unknown:
            raise ConfigError(
                f"{cls.__name__}.from_config: unknown hyperparameter(s) {unknown}; expected MLPConfig fields "
                f"({', '.join(CONFIG_FIELDS)})."
            )
        if isinstance(d.get("hidden"), list):
            d["hidden"] = tuple(d["hidden"])
        allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
        extra = sorted(set(params) - allowed)
        if extra:
            raise ConfigError(
                f"{cls.__name__}.from_config: unknown argument(s) {extra}; expected {cls.__name__}'s parameters "
                f"({', '.join(sorted(allowed))})."
            )
        return cls(**{**d, **params})

    # ------------------------------------------------------------------ validation
    def _validate_params(self) -> MLPConfig:
        """Check every constructor argument (the one place) and build the config they describe."""
        params = self.get_params(deep=False)
        name = type(self).__name__
        if params.get("arch", "mlp") != "mlp":
            raise ConfigError(_arch_message(name, params["arch"]))
        constraints = {**MLPConfig._constraints(), **_extra_constraints(), "loss": Options(self._losses)}
        if isinstance(self.random_state, np.random.RandomState):
            del constraints["random_state"]  # scikit-learn's convention: a RandomState instance is fine too
        params["class_weight"] = self._class_weight_name()
        check_params(name, params, constraints)
        check_batch_norm(name, params["norm"], params["batch_size"])
        check_nesterov(name, params["optimizer"], params["momentum"])
        return MLPConfig(**{k: params[k] for k in CONFIG_FIELDS})

    def _class_weight_name(self) -> Any:
        """The config's class_weight for this estimator's: None and a {label: weight} mapping train with
        "none" in the config (a mapping's weights are given to the trainer apart, see ``_class_weight_tensor``);
        a mapping's weights are checked here."""
        cw, name = self.class_weight, type(self).__name__
        if cw is not None and cw != "none" and not isinstance(self, ClassifierMixin):
            raise ConfigError(
                f"The 'class_weight' parameter of {name} must be None or 'none': class weights apply to "
                f"classification (NeuralNetClassifier). Got {cw!r}."
            )
        if cw is None:
            return "none"
        if isinstance(cw, Mapping):
            bad = {k: v for k, v in cw.items() if not _is_weight(v)}
            if bad or not cw:
                raise ConfigError(
                    f"The 'class_weight' parameter of {name} maps class labels to weights (finite numbers >= 0); "
                    f"got {dict(bad) if bad else 'an empty mapping'}."
                )
            return "none"
        return cw  # a name: checked with the other parameters

    def _class_weight_tensor(self, classes: np.ndarray, task: Task) -> torch.Tensor | None:
        """Per class code, the weights of a ``class_weight={label: weight}`` mapping (1 for a label it leaves
        out, as scikit-learn); None for a name."""
        cw = self.class_weight
        if not isinstance(cw, Mapping):
            return None
        name = type(self).__name__
        if task not in (Task.BINARY, Task.MULTICLASS):
            raise ConfigError(
                f"{name}: class_weight applies to one label per row, not to a multilabel target."
            )
        known = {_label_key(c) for c in classes}
        unknown = [k for k in cw if _label_key(k) not in known]
        if unknown:
            raise ConfigError(
                f"The 'class_weight' parameter of {name} names class(es) {unknown} that are not in y "
                f"(classes: {classes.tolist()})."
            )
        given = {_label_key(k): float(v) for k, v in cw.items()}
        weights = torch.tensor([given.get(_label_key(c), 1.0) for c in classes], dtype=torch.float64)
        if not bool((weights > 0).any()):
            raise ConfigError(
                f"The 'class_weight' parameter of {name} weighs every class 0: nothing would be learned. Give at "
                "least one class a weight above 0."
            )
        return weights

    def _torch_device(self) -> torch.device:
        if self.device is not None:
            if self.device == "cuda" and not torch.cuda.is_available():
                raise ConfigError(
                    f"The 'device' parameter of {type(self).__name__} is 'cuda' but no CUDA device is available."
                )
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Pickle (joblib, a fitted ``Pipeline``, ``copy.deepcopy``) the network as CPU weights plus the device it
        was on, never as the module itself: a module pickled on a GPU holds CUDA storages, which a machine
        without CUDA cannot unpickle at all."""
        state = dict(super().__getstate__())
        model = state.get("model_")
        if isinstance(model, torch.nn.Module):
            tensors = [*model.parameters(), *model.buffers()]
            state["model_"] = None
            state["_model_weights"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            state["_model_device"] = str(tensors[0].device) if tensors else "cpu"
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        weights, device = state.pop("_model_weights", None), state.pop("_model_device", "cpu")
        super().__setstate__(state)
        if weights is None:
            return
        # seed=0: rebuilding must not draw from (and so move) the process's global torch generator
        model = build_model(state["config_"], int(state["n_features_in_"]), int(state["n_outputs_"]), seed=0)
        model.load_state_dict(weights)
        dev = torch.device(device)
        if (dev.type == "cuda" and not torch.cuda.is_available()) or (
            dev.type == "mps" and not torch.backends.mps.is_available()
        ):
            warnings.warn(
                f"This {type(self).__name__} was pickled with its network on {device}, which is not available "
                "here; the network is on the CPU (predictions need no GPU; set_params(device=None) before "
                "refitting it here).",
                UserWarning,
                stacklevel=2,
            )
            dev = torch.device("cpu")
        self.model_ = model.to(dev).eval()

    # ------------------------------------------------------------------ training
    def _split(self, n: int, y_codes: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the training and the early-stopping rows.

        Stratified when every class has two rows and both parts can hold every class; otherwise a plain
        shuffle.  With fewer than 4 rows there is nothing to hold out, so validation reuses the training rows
        (early stopping then only guards against divergence).
        """
        if n < 4:
            idx = np.arange(n)
            return idx, idx
        # at least 2 training rows: batch normalisation cannot train on one, and one row teaches nothing
        n_valid = min(n - 2, max(1, round(self.validation_fraction * n)))
        rng = np.random.RandomState(seed)
        if y_codes is not None:
            counts = np.bincount(y_codes)
            k = int(np.count_nonzero(counts))
            if counts[counts > 0].min() >= 2 and n_valid >= k and n - n_valid >= k:
                from sklearn.model_selection import StratifiedShuffleSplit

                sss = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=rng)
                tr, va = next(sss.split(np.zeros(n), y_codes))
                return np.sort(tr), np.sort(va)
        perm = rng.permutation(n)
        return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])

    def _train(
        self, X: np.ndarray, y: np.ndarray, task: Task, n_classes: int | None, y_codes: np.ndarray | None
    ) -> None:
        config = self._validate_params()
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        tr, va = self._split(X.shape[0], y_codes, seed)
        callback = None
        if self.verbose:
            name = type(self).__name__

            def callback(epoch: int, valid_score: float, valid_loss: float) -> bool:
                print(
                    f"[{name}] epoch {epoch}: valid loss {valid_loss:.5g}, valid {task.score_name} "
                    f"{valid_score:.4f}"
                )
                return False

        try:
            run = NetworkRun(
                config,
                X[tr],
                y[tr],
                X[va],
                y[va],
                task=task,
                n_classes=n_classes,
                random_state=seed,
                device=self._torch_device(),
                class_weight=self._class_weight_tensor(getattr(self, "classes_", np.arange(0)), task),
            )
        except ConfigError as exc:  # a setting that does not fit this y: named as the user set it, here
            message = str(exc).replace("parameter of MLPConfig", f"parameter of {type(self).__name__}")
            if message == str(exc):
                raise
            raise ConfigError(message) from exc
        run.run_epochs(config.max_epochs, callback)
        if run.status == "diverged":
            if run.best_state is None:
                raise TrainingError(
                    f"{type(self).__name__} could not be fitted: {run.reason}. {_scale_hint(X, type(self).__name__)}"
                    f"Lower 'lr' (now {self.lr}) or set 'grad_clip'."
                )
            # keep the last good weights rather than NaNs, but say so
            run.model.load_state_dict(run.best_state)
            warnings.warn(
                f"{type(self).__name__}: {run.reason}; keeping the weights of epoch "
                f"{run.stopper.best_epoch}.",
                ConvergenceWarning,
                stacklevel=3,
            )
            self.status_, self.stop_reason_ = run.status, run.reason
            constant = constant_loss(run.loss_fn, run.n_out, run.ytr, run.yva, run.task)
            self.findings_: list[Finding] = diagnose(
                run.history, config.activation, None, run.status, config, constant
            )
        else:
            result = run.result()
            self.status_, self.stop_reason_ = result.status, result.stop_reason
            self.findings_ = result.findings
            exploding = next((f for f in self.findings_ if f.kind == "exploding_gradients"), None)
            if exploding is not None:
                # the loss stayed finite, so nothing failed, but such a fit can score below a constant
                # prediction (unscaled features: a gradient norm of 1e14): say so, not only in findings_
                warnings.warn(
                    f"{type(self).__name__}: {exploding.evidence} The fitted network may be poor. "
                    f"{_scale_hint(X, type(self).__name__)}{exploding.remedy}",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        run.model.eval()
        self.config_ = config
        self.model_ = run.model
        self.history_ = run.history
        self.best_epoch_ = run.stopper.best_epoch
        self.n_iter_ = len(run.history)
        self.task_ = task
        self.n_outputs_ = infer_n_outputs(config, task, y, n_classes)

    # ------------------------------------------------------------------ prediction
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )

    def _logits(self, X: Any) -> torch.Tensor:
        self._check_fitted()
        _refuse_text(X, type(self).__name__)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        # a read-only input (memmap) would make torch warn; copy only when needed
        X = np.require(X, dtype=np.float32, requirements=["C", "W"])
        dev = next(self.model_.parameters()).device
        # Inference runs in float64 on a float64 view of the weights: float32 matrix products round
        # differently with the number of rows, so a row's prediction would depend (at 1e-7) on which rows
        # share its batch.  The weights themselves stay float32.
        state = {k: (v.double() if v.is_floating_point() else v) for k, v in self.model_.state_dict().items()}
        Xt = torch.from_numpy(X).to(dev, torch.float64)
        self.model_.eval()
        with torch.no_grad():
            out = [
                torch.func.functional_call(self.model_, state, (Xt[i : i + EVAL_CHUNK],))
                for i in range(0, Xt.shape[0], EVAL_CHUNK)
            ]
        return torch.cat(out).cpu() if out else torch.zeros((0, self.n_outputs_), dtype=torch.float64)

    # ------------------------------------------------------------------ persistence
    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _saved_params(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Constructor arguments as JSON values, and the ones that could only be saved as ``None`` (why)."""
        params: dict[str, Any] = {}
        not_saved: dict[str, str] = {}
        for k, v in self.get_params(deep=False).items():
            if isinstance(v, np.random.RandomState | np.random.Generator):
                # a generator's state is not a hyperparameter; None is the honest "no fixed seed"
                params[k] = None
                not_saved[k] = f"a numpy {type(v).__name__} instance, saved as None"
            elif isinstance(v, tuple):
                params[k] = [x.item() if isinstance(x, np.generic) else x for x in v]
            elif k == "class_weight" and isinstance(v, Mapping):  # JSON keys are strings: kept as pairs
                params[k] = [[_label_key(label), float(w)] for label, w in v.items()]
            elif isinstance(v, np.generic):
                params[k] = v.item()
            else:
                params[k] = v
        for k, v in params.items():
            try:
                json.dumps(v, allow_nan=True)
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{type(self).__name__}.save: the {k!r} parameter ({type(v).__name__}) cannot be saved as "
                    f"JSON ({exc}); expected numbers, strings, booleans, None or tuples of them."
                ) from exc
        return params, not_saved

    def save(self, path: str | os.PathLike[str], *, extra: Mapping[str, Any] | None = None) -> Path:
        """Write ``path/model.safetensors`` and ``path/config.json`` (atomically, JSON last); return ``path``.

        ``extra``: more JSON values to keep in ``config.json`` next to the estimator's own (``load`` ignores
        them; :func:`hyperselect.load_model` reads the table preprocessing the CLI stores there), so that one
        SHA-256-checked file describes the weights and everything saved with them.

        Everything is serialised in memory before the first byte is written, so a parameter that cannot be
        saved leaves no file behind.  A ``random_state`` given as a ``numpy.random.RandomState`` (or
        ``Generator``) instance is saved as ``None`` (``config.json`` says so under ``"params_not_saved"``):
        the loaded estimator predicts exactly as this one, but refitting it draws a fresh seed; pass an int to
        make refits reproducible.
        """
        from safetensors.torch import save as st_save

        self._check_fitted()
        folder = check_out_folder(path) or Path(path)  # a file in the way: refused before anything is built
        state = {k: v.detach().cpu().contiguous() for k, v in self.model_.state_dict().items()}
        blob = st_save(state)
        params, not_saved = self._saved_params()
        doc = {
            "format": "hyperselect-estimator",
            "format_version": FORMAT_VERSION,
            "estimator": type(self).__name__,
            "params": params,
            **({"params_not_saved": not_saved} if not_saved else {}),
            "config": self.config_.to_dict(),
            "task": self.task_.value,
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": [str(f) for f in getattr(self, "feature_names_in_", [])] or None,
            "n_outputs": self.n_outputs_,
            "status": self.status_,
            "stop_reason": self.stop_reason_,
            "best_epoch": self.best_epoch_,
            "history": self.history_.to_dict(),
            "findings": [f.to_dict() for f in self.findings_],
            "weights_sha256": hashlib.sha256(blob).hexdigest(),
            **self._extra_state(),
        }
        clash = sorted(set(extra or {}) & set(doc))
        if clash:
            raise ConfigError(f"{type(self).__name__}.save: the extra key(s) {clash} would replace its own.")
        doc.update(extra or {})
        text = to_json(doc)  # before any write: a value JSON cannot hold must not leave the weights alone
        atomic_write_bytes(folder / WEIGHTS_FILE, blob)
        atomic_write_text(folder / CONFIG_FILE, text)
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Rebuild an estimator written by :meth:`save`; predictions are identical to the saved one's."""
        from safetensors.torch import load as st_load

        folder = _model_folder(path)
        cfg_path, w_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        for p in (cfg_path, w_path):
            if not p.is_file():
                raise errors.DataError(f"'{p}': no such file; expected a model folder written by save().")
        doc = _read_doc(cfg_path)
        if doc.get("format") != "hyperselect-estimator":
            raise errors.DataError(f"'{cfg_path}': not a hyperselect estimator file.")
        if doc.get("estimator") != cls.__name__:
            raise errors.DataError(
                f"'{cfg_path}' holds a {doc.get('estimator')}, not a {cls.__name__}; load it with that class "
                "or with hyperselect.estimators.load_estimator."
            )
        blob = w_path.read_bytes()
        if hashlib.sha256(blob).hexdigest() != doc.get("weights_sha256"):
            raise errors.DataError(
                f"'{w_path}' does not match '{cfg_path}' (SHA-256 differs): the save was interrupted or the "
                "files come from different saves."
            )
        try:
            est = cls._rebuild(doc, st_load(blob), folder)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            # the weights match, so the JSON was edited or written by something else than save()
            what = (
                f"the key {exc} is missing" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            )
            raise errors.DataError(
                f"'{cfg_path}' is not a complete model description ({what}); expected the file save() writes."
            ) from exc
        return est

    @classmethod
    def _rebuild(cls, doc: dict[str, Any], weights: dict[str, torch.Tensor], folder: Path) -> Any:
        from hyperselect.train.history import History

        params = dict(doc["params"])
        if isinstance(params.get("hidden"), list):
            params["hidden"] = tuple(params["hidden"])
        if isinstance(params.get("class_weight"), list):  # saved as [label, weight] pairs
            params["class_weight"] = {label: w for label, w in params["class_weight"]}
        est = cls(**params)
        config = config_from_dict(doc["config"])
        model = build_model(config, int(doc["n_features_in"]), int(doc["n_outputs"]))
        model.load_state_dict(weights)
        try:
            device = est._torch_device()
            available = device.type != "mps" or torch.backends.mps.is_available()
        except ConfigError:
            available = False
        if not available:
            # saved on a GPU machine: predicting needs no GPU, and the weights are stored on the CPU anyway
            warnings.warn(
                f"'{folder}' was saved with device={est.device!r}, which is not available here; the model is "
                "loaded on the CPU (set_params(device=None) before refitting it here).",
                UserWarning,
                stacklevel=3,
            )
            device = torch.device("cpu")
        model.to(device).eval()
        est.config_ = config
        est.model_ = model
        est.task_ = Task(doc["task"])
        est.n_features_in_ = int(doc["n_features_in"])
        if doc.get("feature_names_in"):
            est.feature_names_in_ = np.asarray(doc["feature_names_in"], dtype=object)
        est.n_outputs_ = int(doc["n_outputs"])
        est.status_, est.stop_reason_ = doc["status"], doc["stop_reason"]
        est.best_epoch_ = int(doc["best_epoch"])
        est.history_ = History.from_dict(doc["history"])
        est.n_iter_ = len(est.history_)
        est.findings_ = [Finding(**f) for f in doc["findings"]]
        est._set_extra_state(doc)
        return est


class NeuralNetClassifier(ClassifierMixin, _NeuralNetBase):
    """A multi-layer perceptron classifier (binary, multiclass or multilabel) trained by hyperselect.

    Parameters are those of :class:`~hyperselect.nn.MLPConfig` plus ``validation_fraction`` (rows held out for
    early stopping), ``random_state``, ``device`` (``None``: CUDA when available) and ``verbose``; ``arch`` is
    accepted as ``"mlp"`` only, so a tuned config becomes an estimator with
    ``NeuralNetClassifier(**result.best_config.to_dict())`` or :meth:`from_config`.  A 2-D 0/1
    ``y`` is a multilabel problem (one sigmoid output per label).

    Attributes: ``classes_``, ``n_features_in_``, ``model_`` (the torch module), ``config_``, ``history_``,
    ``findings_`` (training diagnostics), ``status_``/``stop_reason_``, ``best_epoch_``, ``n_iter_``.
    """

    _losses = ("auto", "cross_entropy", "bce")

    def fit(self, X: Any, y: Any) -> NeuralNetClassifier:
        _check_labels(y, type(self).__name__)
        _refuse_text(X, type(self).__name__)
        X, y = validate_data(self, X, y, multi_output=True, dtype=np.float32, ensure_min_samples=2)
        if hasattr(y, "toarray"):
            y = y.toarray()
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if y.ndim == 2:
            if type_of_target(y) != "multilabel-indicator":
                raise ValueError(
                    f"{type(self).__name__} supports a 1-D target or a 2-D 0/1 multilabel indicator matrix; "
                    f"got a {type_of_target(y)} target of shape {y.shape}."
                )
            self.classes_ = np.arange(y.shape[1])
            self._y_dtype = y.dtype
            self._train(X, y.astype(np.float32), Task.MULTILABEL, y.shape[1], None)
            return self
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: {classes.tolist()[0]!r}."
            )
        self.classes_ = classes
        task = Task.BINARY if len(classes) == 2 else Task.MULTICLASS
        self._train(X, codes.astype(np.int64), task, len(classes), codes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes); per-label probabilities for multilabel."""
        logits = self._logits(X)
        return proba_from_logits(logits, self.task_).numpy()

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        logits = self._logits(X)
        codes = predict_from_logits(logits, self.task_).numpy()
        if self.task_ is Task.MULTILABEL:
            return codes.astype(self._y_dtype)
        return self.classes_[codes.astype(np.int64)]

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.non_deterministic = False
        return tags

    def _extra_state(self) -> dict[str, Any]:
        classes = self.classes_
        if (
            classes.dtype.kind in "Mm"
        ):  # datetime64 / timedelta64 labels: their int64 ticks, unit in the dtype
            saved: list[Any] = classes.view("int64").tolist()
        else:
            saved = [c.item() if hasattr(c, "item") else c for c in classes]
        return {
            "classes": saved,
            "classes_dtype": str(classes.dtype) if classes.dtype.kind not in "OUS" else "object",
            "classes_kind": classes.dtype.kind,
            "y_dtype": str(getattr(self, "_y_dtype", np.dtype("int64"))),
        }

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        kind = state["classes_kind"]
        if kind == "U":
            self.classes_ = np.asarray(state["classes"], dtype=str)
        elif kind in "OS":
            self.classes_ = np.asarray(state["classes"], dtype=object)
        else:
            self.classes_ = np.asarray(state["classes"], dtype=state["classes_dtype"])
        if self.task_ is Task.MULTILABEL:
            self._y_dtype = np.dtype(state["y_dtype"])


class NeuralNetRegressor(RegressorMixin, _NeuralNetBase):
    """A multi-layer perceptron regressor (one or several targets) trained by hyperselect.

    ``y`` is standardised with the training statistics before training (``y_mean_``, ``y_std_``) and
    predictions are mapped back, so the default learning rate suits targets of any scale.  Parameters and
    attributes are those of :class:`NeuralNetClassifier` without ``classes_``.
    """

    _losses = ("auto", "mse", "huber")

    def fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        _refuse_text(X, type(self).__name__)
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float32, ensure_min_samples=2
        )
        y = np.asarray(y.toarray() if hasattr(y, "toarray") else y, dtype=np.float64)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1)
        with np.errstate(over="ignore"):
            mean, std = y2.mean(axis=0), y2.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            # |y| near the float64 limit: y**2 overflows from |y| ~ 1e154 on, and an infinite std would make
            # every prediction inf or NaN; the statistics of y / max|y|, scaled back, are finite
            scale = np.abs(y2).max(axis=0)
            u = y2 / scale
            mean, std = u.mean(axis=0) * scale, u.std(axis=0) * scale
        self.y_mean_ = mean
        # a constant target would divide by zero; any scale works for it
        self.y_std_ = np.where(std > 0, std, 1.0)
        z = ((y2 - self.y_mean_) / self.y_std_).astype(np.float32)
        self._train(X, z[:, 0] if y.ndim == 1 else z, Task.REGRESSION, None, None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        out = self._logits(X).numpy() * self.y_std_ + self.y_mean_
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags

    def _extra_state(self) -> dict[str, Any]:
        return {"y_mean": self.y_mean_.tolist(), "y_std": self.y_std_.tolist(), "y_ndim": self._y_ndim}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.y_mean_ = np.asarray(state["y_mean"], dtype=np.float64)
        self.y_std_ = np.asarray(state["y_std"], dtype=np.float64)
        self._y_ndim = int(state["y_ndim"])


def load_estimator(path: str | os.PathLike[str]) -> NeuralNetClassifier | NeuralNetRegressor:
    """Load a model folder written by ``save`` whichever estimator wrote it."""
    cfg = _model_folder(path) / CONFIG_FILE
    kind = _read_doc(cfg).get("estimator")
    classes: dict[str, type[_NeuralNetBase]] = {
        "NeuralNetClassifier": NeuralNetClassifier,
        "NeuralNetRegressor": NeuralNetRegressor,
    }
    if kind not in classes:
        raise errors.DataError(f"'{cfg}': unknown estimator {kind!r}; expected one of {sorted(classes)}.")
    return classes[kind].load(path)  # type: ignore[no-any-return]


__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "NotFittedError", "load_estimator"]
