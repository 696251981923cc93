"""Strong classic baselines, each lightly tuned with Optuna so that the network is compared with their best.

A network tuned with thirty trials against a random forest left at its defaults is not a fair fight; every
family here gets the same machinery (Optuna's TPE, seeded) and a small budget, and its first trial is the
scikit-learn default so a short search can never end below the default.  Families whose cost explodes with
the number of rows (SVM) or that assume things the data breaks (naive Bayes on multi-output targets) are
skipped with the reason recorded.

Where the score is class-balanced (balanced accuracy, macro-F1), the families whose classifier takes
``class_weight`` are fitted with ``class_weight="balanced"``, as a practitioner optimising that score would: the
strong baseline.  The setting is part of the family's parameters (``BaselineFit.params``), so every refit (cross-
validation folds, learning curve) and the verdict's JSON carry it.
"""

from __future__ import annotations

import functools
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperselect.errors import ConfigError
from hyperselect.evaluate.metrics import score
from hyperselect.tasks import Task
from hyperselect.train.metrics import CLASS_BALANCED

log = logging.getLogger(__name__)

#: Above this many training rows the kernel SVM is skipped: its fit time grows between n^2 and n^3.
SVM_MAX_ROWS = 10_000
#: Above this many rows x features kNN prediction (brute force over the training set) gets slow; skipped.
KNN_MAX_CELLS = 50_000_000

#: Histogram gradient boosting: the most boosting rounds, and the rounds without a gain on its internal 10%
#: split before it stops early (scikit-learn's 10 is too short for data whose signal is an interaction).
HGB_MAX_ITER = 500
HGB_PATIENCE = 30

Params = dict[str, Any]
#: What a fit or a score raises when the data does not suit a model (too few rows, a class with one row, a
#: singular matrix, ...): recorded as that trial's or that family's failure, not raised through the verdict.
DATA_FAILURES: tuple[type[BaseException], ...] = (ValueError, ArithmeticError, MemoryError)


class BaselineFailedError(ConfigError):
    """Every tuning trial of a baseline family failed on this data; ``errors`` holds each trial's
    ``"ExceptionType: message"``, ``family`` its name."""

    def __init__(self, message: str, family: str, errors: Sequence[str]) -> None:
        super().__init__(message)
        self.family = family
        self.errors = list(errors)


@dataclass(frozen=True)
class BaselineFamily:
    """One classic model family: how to build it from parameters, its search space and its defaults.

    ``class_weighted``: its classifier takes ``class_weight="balanced"`` (``build`` reads it from the
    parameters), which it is given where the score is class-balanced (:func:`class_weight_params`)."""

    name: str
    description: str
    tasks: tuple[Task, ...]
    build: Callable[[Task, Params, int], Any]
    suggest: Callable[[Any, Task], Params]
    defaults: Callable[[Task], Params]
    class_weighted: bool = False


def _logistic_build(task: Task, p: Params, seed: int) -> Any:
    if task is Task.REGRESSION:
        from sklearn.linear_model import Ridge

        return Ridge(alpha=p.get("alpha", 1.0))
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=p.get("C", 1.0), class_weight=p.get("class_weight"), max_iter=1000)


def _logistic_suggest(trial: Any, task: Task) -> Params:
    if task is Task.REGRESSION:
        return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


def _nb_build(task: Task, p: Params, seed: int) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB(var_smoothing=p.get("var_smoothing", 1e-9))


def _nb_suggest(trial: Any, task: Task) -> Params:
    # the smoothing adds a fraction of the largest variance: large values help when features are near-constant
    return {"var_smoothing": trial.suggest_float("var_smoothing", 1e-11, 1e-1, log=True)}


def _knn_build(task: Task, p: Params, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsRegressor if task is Task.REGRESSION else KNeighborsClassifier
    return cls(n_neighbors=p.get("n_neighbors", 5), weights=p.get("weights", "uniform"), p=p.get("p", 2))


def _knn_suggest(trial: Any, task: Task) -> Params:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        "p": trial.suggest_categorical("p", [1, 2]),
    }


def _rf_build(task: Task, p: Params, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if task is Task.REGRESSION else RandomForestClassifier
    default_mf = 1.0 if task is Task.REGRESSION else "sqrt"
    kw: Params = {} if task is Task.REGRESSION else {"class_weight": p.get("class_weight")}
    # n_jobs=1: costs are measured single-threaded for every model so that they compare on equal footing
    return cls(
        n_estimators=p.get("n_estimators", 100),
        max_features=p.get("max_features", default_mf),
        min_samples_leaf=p.get("min_samples_leaf", 1),
        n_jobs=1,
        random_state=seed,
        **kw,
    )


def _rf_suggest(trial: Any, task: Task) -> Params:
    # Fit time is linear in trees and in features tried per split.  Forests are insensitive to the number of
    # trees past ~100 (more only smooths), so it stays at the default; the features per split and the leaf size
    # are what a light search can usefully move.  sqrt is the classification default, 1.0 the regression one.
    choices: list[Any] = [1.0, 0.33, "sqrt"] if task is Task.REGRESSION else ["sqrt", "log2", 0.33]
    return {
        "max_features": trial.suggest_categorical("max_features", choices),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 10, log=True),
    }


def _early_stopping_split_problem(y: Any, validation_fraction: float | int | None, stratified: bool) -> str:
    """Why scikit-learn's boosting could not cut its early-stopping split from the fit set ``y`` ('' if it can).

    The conditions are those of ``train_test_split`` (``_validate_shuffle_split`` and
    ``StratifiedShuffleSplit``), which the boosting calls with ``test_size=validation_fraction``: both parts
    non-empty and, when stratified (classification), every class with at least two rows and each part with at
    least as many rows as there are classes.
    """
    n = len(y)
    if validation_fraction is None:
        return ""
    if isinstance(validation_fraction, (int, np.integer)) and not isinstance(validation_fraction, bool):
        n_valid = int(validation_fraction)
    else:
        n_valid = math.ceil(float(validation_fraction) * n)
    n_fit = n - n_valid
    if n_valid < 1 or n_fit < 1:
        return f"{n} rows cannot be split into {n_fit} to fit and {n_valid} to validate"
    if not stratified:
        return ""
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    if counts.min() < 2:
        return f"classes {classes[counts < 2].tolist()} have a single row, so the split cannot be stratified"
    if min(n_fit, n_valid) < len(classes):
        return f"{n_valid} validation rows of {n} cannot hold all {len(classes)} classes"
    return ""


class _EarlyStoppingWhereItFits:
    """Boosting that stops early on its internal split only when the fit set can hold that split.

    ``early_stopping=True`` makes scikit-learn cut a (stratified, for classifiers) ``validation_fraction`` of
    every fit set aside, and raise when it cannot: a class with one row, or fewer validation rows than classes
    (a few dozen rows).  Cross-validation folds and learning-curve subsets of a table with a rare class hit
    this even when the full training split does not.  Such a fit set is trained without early stopping, to
    ``max_iter``, which is what the library itself can fit; ``do_early_stopping_`` says which it was.  The
    parameters are never changed, so the estimator clones, pickles and compares like its parent.
    """

    early_stopping: Any
    validation_fraction: Any

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
    ) -> Any:
        from sklearn.base import is_classifier

        def parent_fit() -> Any:
            parent: Any = super(_EarlyStoppingWhereItFits, self)
            return parent.fit(
                X, y, sample_weight, X_val=X_val, y_val=y_val, sample_weight_val=sample_weight_val
            )

        if self.early_stopping is not True or X_val is not None or y_val is not None:
            return parent_fit()
        problem = _early_stopping_split_problem(
            np.asarray(y), self.validation_fraction, stratified=is_classifier(self)
        )
        if not problem:
            return parent_fit()
        log.debug("histogram gradient boosting without early stopping: %s", problem)
        # The parameter is lent for this one call and put back: get_params() is the same before and after.
        self.early_stopping = False
        try:
            return parent_fit()
        finally:
            self.early_stopping = True


@functools.cache
def _hgb_classes() -> tuple[type, type]:
    """(classifier, regressor): defined on first use, so that importing this module does not import
    scikit-learn's ensembles; the module's ``__getattr__`` serves them by name, which is how pickle finds them."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    class HGBClassifier(_EarlyStoppingWhereItFits, HistGradientBoostingClassifier):
        __doc__ = _EarlyStoppingWhereItFits.__doc__

    class HGBRegressor(_EarlyStoppingWhereItFits, HistGradientBoostingRegressor):
        __doc__ = _EarlyStoppingWhereItFits.__doc__

    for cls in (HGBClassifier, HGBRegressor):
        cls.__qualname__ = cls.__name__
    return HGBClassifier, HGBRegressor


def __getattr__(name: str) -> Any:
    if name == "HGBClassifier":
        return _hgb_classes()[0]
    if name == "HGBRegressor":
        return _hgb_classes()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _hgb_build(task: Task, p: Params, seed: int) -> Any:
    clf, reg = _hgb_classes()
    cls = reg if task is Task.REGRESSION else clf
    kw: Params = {} if task is Task.REGRESSION else {"class_weight": p.get("class_weight")}
    # Early stopping on an internal 10% split (not only above 10k rows, sklearn's "auto"): it is what a
    # practitioner would use, and it keeps the cost of a bad learning rate bounded.  A fit set too small or
    # with too rare a class for that split trains to max_iter instead (see _EarlyStoppingWhereItFits).
    # The patience is long (HGB_PATIENCE rounds) and the cap high: on interaction-heavy data the validation loss
    # stalls for dozens of rounds before the trees find the interaction, and scikit-learn's 10 rounds stopped
    # 5 000-row folds at 14 to 164 iterations with accuracies from 0.59 to 0.95 (0.95 to 0.99 trained on).
    return cls(
        learning_rate=p.get("learning_rate", 0.1),
        max_leaf_nodes=p.get("max_leaf_nodes", 31),
        min_samples_leaf=p.get("min_samples_leaf", 20),
        l2_regularization=p.get("l2_regularization", 0.0),
        max_iter=HGB_MAX_ITER,
        early_stopping=True,
        n_iter_no_change=HGB_PATIENCE,
        random_state=seed,
        **kw,
    )


def _hgb_suggest(trial: Any, task: Task) -> Params:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 64, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 50, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
    }


def _hgb_defaults(task: Task) -> Params:
    # l2=0 is the library default but outside the log-scale range; 1e-6 is the same model for all purposes
    return {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 1e-6}


def _svm_build(task: Task, p: Params, seed: int) -> Any:
    from sklearn.svm import SVC, SVR

    if task is Task.REGRESSION:
        return SVR(C=p.get("C", 1.0), gamma=p.get("gamma", "scale"), epsilon=p.get("epsilon", 0.1))
    return SVC(
        C=p.get("C", 1.0),
        gamma=p.get("gamma", "scale"),
        class_weight=p.get("class_weight"),
        random_state=seed,
    )


def _svm_suggest(trial: Any, task: Task) -> Params:
    p: Params = {
        "C": trial.suggest_float("C", 1e-2, 1e3, log=True),
        # gamma relative to 'scale' (1 / (n_features * var)): the data is standardised, so 1/n_features
        "gamma_factor": trial.suggest_float("gamma_factor", 1e-2, 1e2, log=True),
    }
    if task is Task.REGRESSION:
        p["epsilon"] = trial.suggest_float("epsilon", 1e-3, 1.0, log=True)
    return p


def _svm_defaults(task: Task) -> Params:
    p: Params = {"C": 1.0, "gamma_factor": 1.0}
    if task is Task.REGRESSION:
        p["epsilon"] = 0.1
    return p


_CLS = (Task.BINARY, Task.MULTICLASS)
_ALL = (Task.BINARY, Task.MULTICLASS, Task.REGRESSION)

FAMILIES: dict[str, BaselineFamily] = {
    f.name: f
    for f in (
        BaselineFamily(
            "linear",
            "logistic regression (classification) / ridge regression",
            _ALL,
            _logistic_build,
            _logistic_suggest,
            lambda t: {"alpha": 1.0} if t is Task.REGRESSION else {"C": 1.0},
            class_weighted=True,
        ),
        BaselineFamily(
            "naive_bayes",
            "Gaussian naive Bayes",
            _CLS,
            _nb_build,
            _nb_suggest,
            lambda t: {"var_smoothing": 1e-9},
        ),
        BaselineFamily(
            "knn",
            "k-nearest neighbours",
            _ALL,
            _knn_build,
            _knn_suggest,
            lambda t: {"n_neighbors": 5, "weights": "uniform", "p": 2},
        ),
        BaselineFamily(
            "random_forest",
            "random forest",
            _ALL,
            _rf_build,
            _rf_suggest,
            lambda t: {"max_features": 1.0 if t is Task.REGRESSION else "sqrt", "min_samples_leaf": 1},
            class_weighted=True,
        ),
        BaselineFamily(
            "hist_gradient_boosting",
            "histogram gradient boosting",
            _ALL,
            _hgb_build,
            _hgb_suggest,
            _hgb_defaults,
            class_weighted=True,
        ),
        BaselineFamily(
            "svm", "kernel SVM (RBF)", _ALL, _svm_build, _svm_suggest, _svm_defaults, class_weighted=True
        ),
    )
}


def resolve_params(name: str, params: Params, n_features: int) -> Params:
    """Turn search parameters into estimator parameters (the SVM's relative gamma into an absolute one)."""
    p = dict(params)
    if name == "svm" and "gamma_factor" in p:
        p["gamma"] = float(p.pop("gamma_factor")) / max(1, n_features)
    if name == "random_forest" and isinstance(p.get("max_features"), float):
        # fractions below one feature would make sklearn draw zero features
        p["max_features"] = max(p["max_features"], 1.0 / max(1, n_features))
    return p


def class_weight_params(name: str, task: Task | str, metric: str | None) -> Params:
    """The parameters set, not searched, for scoring by ``metric``: ``{"class_weight": "balanced"}`` where the
    metric is class-balanced (balanced accuracy, macro-F1) and family ``name``'s classifier takes class weights
    (not naive Bayes or kNN); else ``{}``, which leaves every family as it is."""
    fam = _family(name)
    if metric in CLASS_BALANCED and fam.class_weighted and Task(task) in _CLS:
        return {"class_weight": "balanced"}
    return {}


def make_baseline(
    name: str,
    task: Task | str,
    params: Params | None = None,
    *,
    n_features: int = 1,
    random_state: int = 0,
    metric: str | None = None,
) -> Any:
    """An unfitted scikit-learn estimator of family ``name`` with (search) ``params``; ``metric``, where
    class-balanced, adds ``class_weight="balanced"`` as :func:`tune_baseline` does (a ``params`` taken from a
    :class:`BaselineFit` already holds it)."""
    fam = _family(name)
    task = Task(task)
    p = {**(fam.defaults(task) if params is None else params), **class_weight_params(name, task, metric)}
    return fam.build(task, resolve_params(name, p, n_features), random_state)


def _family(name: str) -> BaselineFamily:
    if name not in FAMILIES:
        raise ConfigError(f"Unknown baseline {name!r}; expected one of {', '.join(FAMILIES)}.")
    return FAMILIES[name]


def select_baselines(
    task: Task | str, n_rows: int, n_features: int, names: str | Sequence[str] = "auto"
) -> tuple[list[str], dict[str, str]]:
    """The families that suit this data and, for each one left out, the reason.

    Multilabel targets are not handled by the baselines (nor by the verdict) yet.
    """
    task = Task(task)
    wanted = list(FAMILIES) if names == "auto" else [names] if isinstance(names, str) else list(names)
    for n in wanted:
        _family(n)
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for n in wanted:
        fam = FAMILIES[n]
        if task not in fam.tasks:
            skipped[n] = f"{fam.description} does not handle a {task.value} task"
        elif n == "svm" and n_rows > SVM_MAX_ROWS and names == "auto":
            skipped[n] = (
                f"{n_rows} training rows: a kernel SVM's fit time grows between n^2 and n^3, "
                f"so it is kept for data below {SVM_MAX_ROWS} rows"
            )
        elif n == "knn" and n_rows * n_features > KNN_MAX_CELLS and names == "auto":
            skipped[n] = (
                f"{n_rows} x {n_features} values: brute-force neighbour search would dominate the cost"
            )
        else:
            chosen.append(n)
    return chosen, skipped


@dataclass
class BaselineFit:
    """The outcome of tuning one family on the train/valid split."""

    name: str
    params: Params
    valid_score: float
    n_trials: int
    seconds: float
    estimator: Any = field(default=None, repr=False)
    failed_trials: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": dict(self.params),
            "valid_score": self.valid_score,
            "n_trials": self.n_trials,
            "seconds": self.seconds,
            "failed_trials": list(self.failed_trials),
        }


def predict(estimator: Any, X: np.ndarray) -> np.ndarray:
    return np.asarray(estimator.predict(X))


def tune_baseline(
    name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    task: Task | str,
    n_trials: int = 10,
    timeout: float | None = None,
    random_state: int = 0,
    metric: str | None = None,
    y_scale: float | None = None,
) -> BaselineFit:
    """Tune family ``name`` with Optuna's TPE on a holdout split, by ``metric`` (None: the task's score); the
    first trial is the default setting.  A class-balanced ``metric`` fits the families that take class weights
    with ``class_weight="balanced"`` (:func:`class_weight_params`); the returned ``params`` include it.
    ``y_scale``: the sd of a standardised regression target, so an error score reads in its units (:func:`score`).

    A trial that raises is recorded as failed with its reason (never silently dropped) and scores nothing;
    the fitted estimator of the best trial is kept so it can be scored on a test split without refitting.
    Ctrl-C ends the search and is raised again as a ``KeyboardInterrupt``; the trial it cut short is not
    logged as failed (it did not fail).
    """
    import optuna

    from hyperselect.search.interrupt import stop_on_interrupt

    fam = _family(name)
    task = Task(task)
    if n_trials < 1:
        raise ConfigError(
            f"The 'n_trials' parameter of tune_baseline must be an int in [1, inf). Got {n_trials}."
        )
    n_features = int(X_train.shape[1])
    fixed = class_weight_params(name, task, metric)
    best: dict[str, Any] = {"score": -math.inf, "estimator": None}
    failed: list[str] = []
    errors: list[str] = []
    interrupted: list[int] = []  # the trial Ctrl-C cut short

    def run_trial(trial: optuna.Trial) -> float:
        params = {**fam.suggest(trial, task), **fixed}
        est = fam.build(task, resolve_params(name, params, n_features), random_state)
        try:
            with warnings.catch_warnings():
                # lbfgs "failed to converge" at tiny C is a fact of that trial, not news for the user
                warnings.simplefilter("ignore")
                est.fit(X_train, y_train)
                s = score(task, y_valid, predict(est, X_valid), metric, y_scale=y_scale)
        except DATA_FAILURES as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            failed.append(f"trial {trial.number} {params}: {errors[-1]}")
            trial.set_user_attr("reason", errors[-1])
            raise optuna.TrialPruned(str(exc)) from exc
        if not math.isfinite(s):
            # e.g. R^2 of a constant prediction on a constant target: rank it last, keep the search going
            s = -1e9
        if s > best["score"]:
            best["score"], best["estimator"] = s, est
        return s

    t0 = time.perf_counter()
    prev = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # "a new study created" per family is noise here
    try:
        sampler = optuna.samplers.TPESampler(seed=random_state)
        study = optuna.create_study(direction="maximize", sampler=sampler, study_name=f"baseline-{name}")
        study.enqueue_trial(fam.defaults(task))
        # Ctrl-C: the trial it cut short is not logged as failed (it did not fail); raised again below.  Real
        # failures keep their record: a data failure is recorded by run_trial, anything else is a bug and logged.
        study.optimize(stop_on_interrupt(run_trial, interrupted), n_trials=n_trials, timeout=timeout)
    finally:
        optuna.logging.set_verbosity(prev)
    if interrupted:
        raise KeyboardInterrupt(f"tuning baseline {name!r} interrupted in trial {interrupted[0]}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise BaselineFailedError(f"Every trial of baseline {name!r} failed: {failed[:3]}", name, errors)
    bt = study.best_trial
    log.info(
        "baseline %s: valid %s %.4f with %s (%d trials, %.1f s)",
        name,
        task.score_name,
        bt.value,
        bt.params,
        len(study.trials),
        time.perf_counter() - t0,
    )
    return BaselineFit(
        name=name,
        params={**bt.params, **fixed},
        valid_score=float(bt.value if bt.value is not None else math.nan),
        n_trials=len(study.trials),
        seconds=time.perf_counter() - t0,
        estimator=best["estimator"],
        failed_trials=failed,
    )


def count_stored_numbers(estimator: Any) -> int:
    """The numbers a fitted baseline stores to predict: its 'parameter count' for the cost comparison.

    Coefficients for linear models; means and variances for naive Bayes; the training set for kNN (it is
    the model); per tree node a feature, threshold and value for forests and boosting; support vectors and
    dual coefficients for an SVM.
    """
    total = 0
    for attr in ("coef_", "intercept_", "theta_", "var_", "class_prior_", "dual_coef_", "support_vectors_"):
        v = getattr(estimator, attr, None)
        if v is not None:
            total += int(np.size(v))
    if hasattr(estimator, "_fit_X"):  # kNN keeps the training rows
        total += int(np.size(estimator._fit_X))
    if hasattr(estimator, "estimators_") and not hasattr(estimator, "_predictors"):
        for tree in estimator.estimators_:
            t = tree.tree_
            total += int(t.node_count) * (2 + int(np.prod(t.value.shape[1:])))
    predictors = getattr(estimator, "_predictors", None)
    if predictors is not None:  # histogram gradient boosting
        for stage in predictors:
            for pred in stage:
                total += len(pred.nodes) * 3
    return total


__all__ = [
    "DATA_FAILURES",
    "FAMILIES",
    "HGB_MAX_ITER",
    "HGB_PATIENCE",
    "SVM_MAX_ROWS",
    "BaselineFailedError",
    "BaselineFamily",
    "BaselineFit",
    "class_weight_params",
    "count_stored_numbers",
    "make_baseline",
    "predict",
    "resolve_params",
    "select_baselines",
    "tune_baseline",
]
