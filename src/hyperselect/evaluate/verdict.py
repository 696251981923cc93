"""The verdict: is a neural network worth it on this data, compared fairly with tuned classic models?

The protocol, and why:

1. **Tune on the holdout split.**  Every network architecture (through :func:`hyperselect.search.tune`) and
   every baseline family (Optuna, small budget, first trial = defaults) is tuned on ``train`` and scored on
   ``valid``.  The same data and the same machinery for all, so no side gets more selection.
2. **Compare on identical repeated splits.**  ``train + valid`` are pooled and cut into repeated (stratified)
   k-fold or 5x2 splits; the best network and every baseline are refitted and scored on exactly the same
   folds, which makes the fold scores paired.  The network stops early on an inner 10% of each training fold,
   never on the fold it is scored on.
3. **Test the difference honestly.**  The corrected resampled t-test (Nadeau & Bengio), on 5x2 folds over all
   ten differences (directional, so its p and its interval agree), for the best network against the best
   baseline, plus against every baseline with Holm's correction; the mean difference with a confidence interval
   is the effect size.  A constant predictor (the prior or the mean) is scored on the same folds as a chance
   reference, never as a model to use.
4. **Count the cost**: fit seconds, predict seconds for a batch of 1000 rows (timed, after a warm-up call),
   parameters (stored numbers for baselines), all single-threaded by default so that the numbers compare.
5. **Look ahead with a learning curve**: train on 10/25/50/100% of ``train`` and score on ``test`` for the
   best network and the best baseline (the network stopping early on the same share of the validation rows);
   the slope says where each curve is heading.

The recommendation follows the test: ``network`` only for a significant win, ``baseline`` for a significant
loss, otherwise ``no_significant_difference`` with the clearly cheapest of the models level with the best one
preferred, or the best-scoring one where none is clearly cheaper (``preferred_because`` says which).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperselect._io import atomic_write_json
from hyperselect._validation import Constraint, Interval, NoneOr, Options, check_params, check_tabular_data
from hyperselect._words import and_list
from hyperselect.errors import ConfigError
from hyperselect.evaluate import baselines as bl
from hyperselect.evaluate.metrics import (
    TestResult,
    corrected_resampled_ttest,
    holm,
    paired_ttest_5x2cv,
    score,
    slope_per_doubling,
)
from hyperselect.nn.config import CNNConfig, MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.metrics import ERROR_METRICS, check_metric, diff_text, score_text, target_scale

if TYPE_CHECKING:
    import torch

    from hyperselect.data import TabularData

log = logging.getLogger(__name__)

RECOMMENDATIONS = ("network", "baseline", "no_significant_difference")
ARCHS = ("mlp", "cnn")
PROTOCOLS = ("kfold", "5x2")
#: learning curves closer than this at a size are level (the reasons print four decimals)
LEVEL_GAP = 5e-5
#: Share of each CV training fold the network holds out for early stopping.
INNER_VALID = 0.1
#: A per-doubling gain below this (in score units) counts as a flat learning curve.
FLAT_SLOPE = 0.005
#: Without a significant difference, a model is clearly cheaper than another when it costs under 1/CLEARLY of
#: the other in fit time, prediction time or size, and no more than CLEARLY times it in any of them.
CLEARLY = 2.0
#: Cost differences no larger than these are timing noise: seconds to fit, seconds to predict the 1000-row batch.
COST_NOISE = {"to fit": 0.05, "to predict": 0.001}
#: Paired bootstrap resamples of the evaluated rows behind a learning-curve trend.
CURVE_BOOTSTRAP = 1000
#: Rows in the batch whose prediction is timed for the cost (the fold's rows, tiled to this many).
PREDICT_BATCH = 1000
#: The name of the chance reference (a constant predictor) among the candidates; its kind is "reference".
CHANCE = "chance"
#: What a verdict's ``decision_p_value`` is: the p that the network beats every baseline (an intersection-union
#: test: the largest per-baseline p), or Holm's p of the network against the baseline ``decision_p_baseline``.
DECISION_P_BASES = ("every_baseline", "holm")
#: Why a verdict's ``preferred_model`` is the one to use: a significant win of the network, a significant loss
#: to a baseline, or, without a significant difference, the clearly cheaper model or (neither clearly cheaper)
#: the better-scoring one.
PREFERENCE_BASES = ("significant_win", "significant_loss", "cheaper", "better_score")


# ----------------------------------------------------------------------------------------------------- results
@dataclass
class Candidate:
    """One tuned model in the comparison and everything measured about it."""

    name: str
    kind: str  # "network" | "baseline"
    params: dict[str, Any]
    valid_score: float
    tune_seconds: float
    cv_scores: list[float] = field(default_factory=list)
    fit_seconds: float = math.nan  # mean over CV folds
    predict_seconds_per_1k: float = math.nan
    n_parameters: int = 0
    test_score: float = math.nan

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.cv_scores)) if self.cv_scores else math.nan

    @property
    def cv_std(self) -> float:
        return float(np.std(self.cv_scores, ddof=1)) if len(self.cv_scores) > 1 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "params": self.params,
            "valid_score": self.valid_score,
            "tune_seconds": self.tune_seconds,
            "cv_scores": list(self.cv_scores),
            "cv_mean": self.cv_mean,
            "cv_std": self.cv_std,
            "fit_seconds": self.fit_seconds,
            "predict_seconds_per_1k": self.predict_seconds_per_1k,
            "n_parameters": self.n_parameters,
            "test_score": self.test_score,
        }


@dataclass
class LearningCurve:
    """Scores on the evaluation split after training on growing shares of the training split."""

    fractions: list[float]
    n_rows: list[int]
    network: list[float]
    baseline: list[float]
    evaluated_on: str  # "test" or "valid"
    #: the score change one evaluated row can make (:func:`score_step`: 1 / rows for accuracy, about 1 / (classes x
    #: the rarest class's rows) for balanced accuracy and macro-F1; 0 where scores are continuous)
    resolution: float = 0.0
    #: the network's gain per doubling minus the baseline's over the last segment, and its paired bootstrap
    #: interval over the evaluated rows (:func:`gain_difference_interval`); None where it was not computed
    gain_diff_ci: tuple[float, float] | None = None
    confidence: float = 0.95
    #: the rows the scores were taken on (and the bootstrap resampled); 0 where not known
    n_evaluated: int = 0
    #: the smallest gain per doubling read as a gain before the rows' resolution (:data:`FLAT_SLOPE`; for an
    #: error score in the target's units, :data:`FLAT_SLOPE` target standard deviations: :func:`flat_slope`)
    flat_slope: float = FLAT_SLOPE
    #: the score the curve is drawn in (:attr:`Verdict.score_name`; "" where not known)
    score_name: str = ""

    def _last_gain(self, scores: list[float]) -> float:
        if len(scores) < 2 or self.n_rows[-1] <= self.n_rows[-2]:
            return math.nan
        return (scores[-1] - scores[-2]) / math.log2(self.n_rows[-1] / self.n_rows[-2])

    @property
    def network_slope(self) -> float:
        """Least-squares gain per doubling of the training rows, over the whole curve."""
        return slope_per_doubling(self.n_rows, self.network)

    @property
    def baseline_slope(self) -> float:
        return slope_per_doubling(self.n_rows, self.baseline)

    @property
    def network_last_gain(self) -> float:
        """Gain per doubling over the last segment: where the curve is heading now."""
        return self._last_gain(self.network)

    @property
    def baseline_last_gain(self) -> float:
        return self._last_gain(self.baseline)

    @property
    def gap(self) -> list[float]:
        return [n - b for n, b in zip(self.network, self.baseline, strict=True)]

    @property
    def threshold(self) -> float:
        """The smallest gain per doubling read as a gain: :attr:`flat_slope`, or two evaluated rows' worth of
        score where that is more (90 test rows: 0.022), so that a row or two changing sides is no trend."""
        return max(self.flat_slope, 2.0 * self.resolution)

    @property
    def gain_diff(self) -> float:
        return self.network_last_gain - self.baseline_last_gain

    def trend(self) -> str:
        """Which curve gained more over the last doubling of the rows: ``network_improving_faster``,
        ``baseline_improving_faster``, ``both_flat``, ``both_rising``, ``unclear`` (the evidence does not say
        which gains faster: a bootstrap interval of the gain difference that holds zero, a curve that fell, or
        a last doubling and a whole-curve slope that disagree) or ``unknown``.  Faster, not ahead: the slower
        curve may still lead.  Gains are compared against :attr:`threshold`.

        With :attr:`gain_diff_ci`, one model gains faster only where that interval leaves out zero and the
        difference is at least :attr:`threshold`: a single split's scores move by noise, and the difference of
        two gains doubles it.  The interval covers test-row noise only (:attr:`interval_covers`), so a gain
        difference too small to count as a gain is no trend even where the rows cannot explain it."""
        ng, bg = self.network_last_gain, self.baseline_last_gain
        if not (math.isfinite(ng) and math.isfinite(bg)):
            return "unknown"
        thr = self.threshold
        ci = self.gain_diff_ci
        if ci is not None and all(math.isfinite(x) for x in ci):
            if min(ng, bg) <= -thr:  # a curve that fell with more rows: no trend, whatever the test rows say
                return "unclear"
            if (ci[0] > 0 and ng - bg >= thr) or (ci[1] < 0 and bg - ng >= thr):
                faster = "network" if ng > bg else "baseline"
                # the interval leaves out the fits' own variance: a whole curve whose slope says the other
                # model gains faster shows that variance (one noisy fit), so the last doubling is no trend
                return f"{faster}_improving_faster" if self._slopes_agree(faster) else "unclear"
            if abs(ng) < thr and abs(bg) < thr:
                return "both_flat"
            if ng >= thr and bg >= thr:
                return "both_rising"
            return "unclear"
        if abs(ng) < thr and abs(bg) < thr:
            return "both_flat"
        if min(ng, bg) <= -thr:  # a curve that fell with more rows: noise, not a trend to extrapolate
            return "unclear"
        if abs(ng - bg) <= thr:
            return "both_rising"
        faster = "network" if ng > bg else "baseline"
        return f"{faster}_improving_faster" if self._slopes_agree(faster) else "unclear"

    def _slopes_agree(self, faster: str) -> bool:
        """The whole curve's slopes agree that ``faster`` gains faster (always, with two points)."""
        if len(self.n_rows) <= 2:
            return True
        ns, bs = self.network_slope, self.baseline_slope
        return math.isfinite(ns) and math.isfinite(bs) and (ns - bs > 0) == (faster == "network")

    @property
    def interval_covers(self) -> str:
        """What :attr:`gain_diff_ci` covers, in words (empty without one): the bootstrap resamples the scored rows
        of one fit per size, so the spread from another training subset or seed is not in it."""
        if self.gain_diff_ci is None:
            return ""
        rows = (
            f"the {self.n_evaluated:,} {self.evaluated_on} rows"
            if self.n_evaluated
            else f"the {self.evaluated_on} rows"
        )
        return (
            f"it resamples {rows} only: each training size was fitted once, so the variation from another "
            "training subset or seed is not in it"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "fractions": list(self.fractions),
            "n_rows": list(self.n_rows),
            "network": list(self.network),
            "baseline": list(self.baseline),
            "gap": self.gap,
            "evaluated_on": self.evaluated_on,
            "network_slope_per_doubling": self.network_slope,
            "baseline_slope_per_doubling": self.baseline_slope,
            "network_last_gain_per_doubling": self.network_last_gain,
            "baseline_last_gain_per_doubling": self.baseline_last_gain,
            "resolution": self.resolution,
            "trend_threshold": self.threshold,
            "flat_slope": self.flat_slope,
            "score_name": self.score_name or None,
            "gain_diff_per_doubling": self.gain_diff,
            "gain_diff_ci": list(self.gain_diff_ci) if self.gain_diff_ci is not None else None,
            "gain_diff_ci_confidence": self.confidence,
            "gain_diff_ci_covers": self.interval_covers or None,
            "n_evaluated": self.n_evaluated,
            "trend": self.trend(),
        }


@dataclass
class Verdict:
    """Whether to use the network, with the evidence.  ``recommendation`` is one of :data:`RECOMMENDATIONS`."""

    recommendation: str
    preferred_model: str
    reasons: list[str]
    score_name: str
    data: dict[str, Any]
    network: Candidate
    baseline: Candidate
    candidates: list[Candidate]
    test: TestResult
    comparisons: dict[str, dict[str, Any]]
    alpha: float
    protocol: dict[str, Any]
    learning_curve: LearningCurve | None
    skipped: dict[str, str]
    tuned_with: str
    seconds: dict[str, float]
    #: the p-value the recommendation rests on, as :func:`_decide` used it, and what it is: one of
    #: :data:`DECISION_P_BASES`, and the baseline it is against (for "every_baseline", the one that sets it)
    decision_p_value: float = math.nan
    decision_p_basis: str = ""
    decision_p_baseline: str = ""
    #: why ``preferred_model`` is preferred: one of :data:`PREFERENCE_BASES`
    preferred_because: str = ""
    #: per searched model (network architecture or baseline family): the trials asked for and those that
    #: finished, completed, were pruned (by the timeout among them) or failed; see :func:`_network_search`
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the chance reference (a constant predictor scored on the same folds, also among ``candidates`` with kind
    #: "reference"): its scores, each model's test against it, and ``beaten_by`` (the models significantly above
    #: it); empty where it was not computed
    chance: dict[str, Any] = field(default_factory=dict)
    #: the models level with the best-scoring one (no significant difference after Holm), among which the
    #: cheapest is preferred without a significant result
    equivalent_models: list[str] = field(default_factory=list)

    @property
    def main_test_significant(self) -> bool:
        """The best network and the best baseline differ significantly in the main test, uncorrected: a fact
        for the reader, not the recommendation's criterion (which corrects for choosing the best baseline)."""
        return self.test.significant(self.alpha)

    @property
    def network_win_p_value(self) -> float:
        return network_win_p(self.comparisons)[0]

    @property
    def network_beats_all_baselines(self) -> bool:
        """The network is better than every baseline, each significantly (an intersection-union test, so no
        multiplicity correction is needed: every single test must reject)."""
        return network_win_p(self.comparisons)[0] < self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "preferred_model": self.preferred_model,
            "preferred_because": self.preferred_because,
            "reasons": list(self.reasons),
            "score_name": self.score_name,
            "main_test_significant": self.main_test_significant,
            "network_beats_all_baselines": self.network_beats_all_baselines,
            "network_win_p_value": self.network_win_p_value,
            "decision_p_value": self.decision_p_value,
            "decision_p_basis": self.decision_p_basis,
            "decision_p_baseline": self.decision_p_baseline,
            "alpha": self.alpha,
            "data": self.data,
            "network": self.network.to_dict(),
            "baseline": self.baseline.to_dict(),
            "test": self.test.to_dict(),
            "comparisons": self.comparisons,
            "candidates": [c.to_dict() for c in self.candidates],
            "protocol": self.protocol,
            "learning_curve": self.learning_curve.to_dict() if self.learning_curve is not None else None,
            "skipped": dict(self.skipped),
            "searches": {k: dict(v) for k, v in self.searches.items()},
            "chance": dict(self.chance),
            "equivalent_models": list(self.equivalent_models),
            "tuned_with": self.tuned_with,
            "seconds": dict(self.seconds),
        }

    def save(self, path: str | Path) -> Path:
        """Write the verdict as JSON, atomically."""
        return atomic_write_json(path, self.to_dict())


#: The file name an interrupted compare's finished part is written to by the command line (never verdict.json).
PARTIAL_FILE = "verdict.partial.json"


class CompareInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`compare` before its verdict.  ``stage`` says what it was doing ("tuning the
    baselines", ...); ``partial`` is what was finished, as JSON-ready data marked ``"partial": true``: the
    candidates tuned so far with their validation scores (test and cross-validation scores where those steps had
    run), without any test or recommendation.  ``candidates`` counts them.

    A :class:`KeyboardInterrupt`, so a caller that does not look for it is interrupted as by any Ctrl-C.
    """

    def __init__(self, stage: str, partial: dict[str, Any]) -> None:
        super().__init__(f"compare interrupted while {stage}, before its verdict")
        self.stage = stage
        self.partial = partial

    @property
    def candidates(self) -> int:
        return len(self.partial.get("candidates", []))


def _partial(
    data: TabularData,
    stage: str,
    score_name: str,
    candidates: Sequence[Candidate],
    skipped: dict[str, str],
    seconds: dict[str, float],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """What an interrupted :func:`compare` had finished (see :class:`CompareInterrupted`)."""
    kept = [c for c in candidates if c.name not in skipped]
    return {
        "partial": True,
        "interrupted_during": stage,
        "note": (
            f"compare was interrupted (Ctrl-C) while {stage}, before its verdict: no comparison, test or "
            "recommendation. 'candidates' are the models tuned so far with their validation scores; test_score "
            "and cv_scores hold what had been scored (NaN / fewer folds where the step did not finish)."
        ),
        "score_name": score_name,
        "data": {**data.describe(), "kind": _data_kind(data)},
        "candidates": [c.to_dict() for c in kept],
        "skipped": dict(skipped),
        "settings": dict(settings),
        "seconds": dict(seconds),
    }


# ------------------------------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def limit_threads(n_threads: int | None) -> Iterator[None]:
    """Cap BLAS/OpenMP and torch threads; ``None`` leaves them alone.

    On a shared or small machine, oversubscribed thread pools make small models many times slower, and the
    cost comparison is only fair when every model gets the same number of threads.
    """
    if n_threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        torch.set_num_threads(before)


def _n_classes(data: TabularData) -> int | None:
    return len(data.classes) if data.task.is_classification and data.classes is not None else None


def _holdout(y: np.ndarray, frac: float, task: Task, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit, hold) with ``frac`` held out, stratified when every class can be."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    strat = (
        y if task.is_classification and np.min(np.bincount(y.astype(np.int64))[np.unique(y)]) >= 2 else None
    )
    try:
        a, b = train_test_split(idx, test_size=frac, random_state=seed, stratify=strat)
    except ValueError:  # a holdout smaller than the number of classes cannot be stratified
        a, b = train_test_split(idx, test_size=frac, random_state=seed)
    return np.sort(a), np.sort(b)


def _subsample(y: np.ndarray, n: int, task: Task, seed: int) -> np.ndarray:
    if n >= len(y):
        return np.arange(len(y))
    keep, _ = _holdout(y, 1.0 - n / len(y), task, seed)
    return keep


def predict_network(model: torch.nn.Module, X: np.ndarray, task: Task) -> np.ndarray:
    import torch

    from hyperselect.nn.losses import predict_from_logits

    model.eval()
    dev = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(X), 8192):
            xb = torch.as_tensor(np.asarray(X[i : i + 8192]), dtype=torch.float32, device=dev)
            out.append(predict_from_logits(model(xb), task).cpu().numpy())
    return np.concatenate(out) if out else np.empty(0)


def fit_network(
    config: MLPConfig,
    X: np.ndarray,
    y: np.ndarray,
    task: Task,
    n_classes: int | None,
    *,
    random_state: int,
    X_valid: np.ndarray | None = None,
    y_valid: np.ndarray | None = None,
    metric: str | None = None,
    y_scale: float | None = None,
) -> tuple[torch.nn.Module, float]:
    """Train ``config``, early-stopping on ``X_valid`` or else on an inner holdout of ``X``; (model, seconds).
    ``metric`` is its validation score (early stopped on where the config says ``valid_score``), ``y_scale``
    the standardised regression target's sd (an error score in the target's units)."""
    from hyperselect.train.trainer import train_network

    t0 = time.perf_counter()
    if X_valid is None or y_valid is None:
        fit, hold = _holdout(y, INNER_VALID, task, random_state)
        X, y, X_valid, y_valid = X[fit], y[fit], X[hold], y[hold]
    res = train_network(
        config,
        X,
        y,
        X_valid,
        y_valid,
        task=task,
        n_classes=n_classes,
        random_state=random_state,
        metric=metric,
        y_scale=y_scale,
    )
    return res.model, time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------- tuning
def cnn_base_config(
    input_shape: Sequence[int], n_rows: int, *, max_epochs: int = 100, patience: int = 10
) -> CNNConfig:
    """The convolutional family's fixed architecture for an input shape (the search tunes its training).

    Three conv blocks with batch norm for 1-D signals, two for small images: on mnist1d this reaches the
    published ~95% test accuracy in about 25 epochs; kernel 5 spans a stroke of a 40-sample signal, kernel 3
    suits 8x8-ish images.  Batch size 128 (capped at a tenth of the rows) keeps an epoch cheap on a CPU.
    """
    shape = tuple(int(s) for s in input_shape)
    channels: tuple[int, ...]
    if len(shape) == 2:
        channels, kernel = (16, 32, 32), 5 if shape[1] >= 16 else 3
    else:
        channels, kernel = ((16, 32) if max(shape[1:]) <= 16 else (16, 32, 64)), 3
    batch = int(max(8, min(128, 2 ** int(math.log2(max(8, n_rows // 10))))))
    return CNNConfig(
        channels=channels,
        kernel_size=kernel,
        pool="max",
        input_shape=shape,
        hidden=(64,),
        norm="batch",
        activation="relu",
        optimizer="adam",
        lr=3e-3,
        batch_size=batch,
        max_epochs=max_epochs,
        patience=patience,
    )


def network_space(data: TabularData, arch: str, max_epochs: int | None = None) -> Any:
    """The search space for ``arch``: the advisor's for the MLP; for the CNN its training dimensions around
    :func:`cnn_base_config` (the conv stack itself is fixed: the search space names MLPConfig fields)."""
    from hyperselect.search import SearchSpace, advise

    space = advise(data, max_epochs=max_epochs, arch="mlp")
    if arch == "mlp":
        return space
    assert data.input_shape is not None
    base = cnn_base_config(
        data.input_shape,
        len(data.y_train),
        max_epochs=space.base.max_epochs,
        patience=space.base.patience or 10,
    )
    keep = ("lr", "batch_size", "dropout", "weight_decay", "lr_schedule", "class_weight")
    dims = {k: v for k, v in space.dims.items() if k in keep}
    reasons = {k: v for k, v in space.reasons.items() if k in keep}
    reasons["channels"] = (
        f"fixed conv stack {base.channels} with kernel {base.kernel_size} for input {base.input_shape}"
    )
    return SearchSpace(
        dims,
        base=base,
        reasons=reasons,
        notes=[*space.notes, "convolutional family: training hyperparameters searched, conv stack fixed"],
    )


def _resolve_archs(data: TabularData, archs: str | Sequence[str]) -> list[str]:
    if archs == "auto":
        return ["mlp", "cnn"] if data.input_shape is not None else ["mlp"]
    chosen = [archs] if isinstance(archs, str) else list(archs)
    for a in chosen:
        if a not in ARCHS:
            raise ConfigError(
                f"The 'archs' parameter of compare must be 'auto' or a subset of {ARCHS}. Got {a!r}."
            )
        if a == "cnn" and data.input_shape is None:
            raise ConfigError(
                "A convolutional network needs the data's input_shape ((C, L) or (C, H, W)); "
                f"{data.source!r} is a plain table. Use archs='auto' or ['mlp']."
            )
    if not chosen:
        raise ConfigError("The 'archs' parameter of compare must name at least one architecture. Got [].")
    return chosen


def _tune_network(
    data: TabularData,
    arch: str,
    n_trials: int,
    max_epochs: int | None,
    random_state: int,
    timeout: float | None,
    metric: str | None = None,
) -> tuple[MLPConfig, float, float, dict[str, Any]]:
    """Tune one architecture: (best config, its validation score, seconds, :func:`_network_search`'s summary)."""
    from hyperselect.search import tune

    t0 = time.perf_counter()
    result = tune(
        data,
        n_trials=n_trials,
        space=network_space(data, arch, max_epochs),
        timeout=timeout,
        random_state=random_state,
        refit=False,
        study_name=f"verdict-{arch}",
        metric=metric,
    )
    log.info(
        "%s tuned: valid %.4f (%d trials, %.1f s)",
        arch,
        result.best_valid_score,
        n_trials,
        time.perf_counter() - t0,
    )
    secs = time.perf_counter() - t0
    return result.best_config, float(result.best_valid_score), secs, _network_search(result, n_trials, secs)


def _network_search(result: Any, asked: int, seconds: float) -> dict[str, Any]:
    """What a network search did, for the verdict: trials ``asked`` for, ``finished``, ``completed`` (trained
    to their early stop or last epoch), ``pruned`` (by successive halving or the timeout), ``pruned_by_timeout``,
    ``failed``; the best trial's ``best_trial_epochs`` of ``max_epochs``, the ``searched`` dimensions."""
    counts = dict(getattr(result, "counts", {}) or {})
    table = getattr(result, "trials", None)
    by_timeout, best_epochs = 0, None
    if table is not None and len(table):
        rows = table.to_dict(orient="records")
        by_timeout = sum(
            1 for r in rows if r.get("state") == "PRUNED" and str(r.get("reason") or "").startswith("timeout")
        )
        best = [r for r in rows if r.get("number") == result.best_trial]
        epochs = best[0].get("epochs") if best else None
        best_epochs = int(epochs) if isinstance(epochs, int | float) and math.isfinite(epochs) else None
    complete, pruned, failed = (int(counts.get(k, 0)) for k in ("COMPLETE", "PRUNED", "FAIL"))
    return {
        "kind": "network",
        "asked": asked,
        "finished": int(counts.get("finished", complete + pruned + failed)),
        "completed": complete,
        "pruned": pruned,
        "pruned_by_timeout": by_timeout,
        "failed": failed,
        "best_trial": int(result.best_trial),
        "best_trial_epochs": best_epochs,
        "max_epochs": int(result.best_config.max_epochs),
        "searched": sorted(result.space.dims) if getattr(result, "space", None) is not None else [],
        "seconds": seconds,
    }


def _baseline_search(fit: bl.BaselineFit, asked: int) -> dict[str, Any]:
    """What a baseline family's search did: trials ``asked`` for, ``finished``, ``completed`` and ``failed``."""
    failed = len(fit.failed_trials)
    return {
        "kind": "baseline",
        "asked": asked,
        "finished": int(fit.n_trials),
        "completed": int(fit.n_trials) - failed,
        "pruned": 0,
        "pruned_by_timeout": 0,
        "failed": failed,
        "seconds": fit.seconds,
    }


def _search_reasons(searches: dict[str, dict[str, Any]], timeout: float | None) -> list[str]:
    """Reasons to read the verdict with care where a search was cut short: a network search none of whose trials
    completed its epochs, or that finished fewer trials than asked or had trials stopped by the timeout; baseline
    searches that the timeout stopped before their trials were done."""
    limit = f"the timeout of {timeout:g} s" if timeout is not None else "its budget"
    out = []
    for name, s in searches.items():
        if s.get("kind") != "network":
            continue
        asked, done, complete = s["asked"], s["finished"], s["completed"]
        stopped, pruned = s["pruned_by_timeout"], s["pruned"]
        if complete > 0 and done >= asked and not stopped:
            continue
        facts = []
        if complete == 0:
            facts.append(
                "no trial completed its epochs ("
                + (
                    f"all {done} were stopped by the timeout"
                    if stopped == pruned == done
                    else f"{pruned} of {done} pruned"
                    + (f", {stopped} of them by the timeout" if stopped else "")
                )
                + ")"
            )
        elif stopped:
            facts.append(f"the timeout stopped {stopped} of its {done} trials before their last epoch")
        if done < asked:
            facts.append(f"{done} of the {asked} trials asked for finished")
        epochs = s.get("best_trial_epochs")
        trained = (
            f"; the network compared was chosen after {epochs} of {s['max_epochs']} epochs"
            if complete == 0 and epochs is not None
            else ""
        )
        out.append(
            f"The network search ({name}) was cut short by {limit}: {' and '.join(facts)}{trained}. The network "
            "may be under-tuned, which favours the baselines: give the search more time or trials before "
            "trusting this verdict."
        )
    short = {n: s for n, s in searches.items() if s.get("kind") == "baseline" and s["finished"] < s["asked"]}
    if short:
        which = ", ".join(f"{n} ({s['finished']} of {s['asked']} trials)" for n, s in short.items())
        out.append(f"The baseline searches of {which} were stopped by {limit} before all their trials.")
    return out


#: A network search counts as nearly all pruned when at most this share of its finished trials completed (said
#: beside another sign of under-tuning, or alone where one trial completed).
MOSTLY_PRUNED = 0.2
#: The simple baselines a tuned network should at least match.
SIMPLE_BASELINES = ("linear", "naive_bayes")


def _undertuned_reasons(
    net: Candidate,
    comparisons: dict[str, dict[str, Any]],
    chance: dict[str, Any],
    search: dict[str, Any],
    alpha: float,
    sn: str,
    budget: dict[str, Any],
) -> list[str]:
    """A caveat where the tuned network looks under-tuned: a linear model or naive Bayes beats it
    significantly, it does no better than a constant predictor while a baseline does, or nearly all its trials
    were pruned.  Each is a sign that the search, not the network family, fell short."""
    facts = []
    simple = [
        n
        for n in SIMPLE_BASELINES
        if n in comparisons and _behind(comparisons[n]) and _sig(comparisons[n], alpha)
    ]
    if simple:
        facts.append(
            "it scores below "
            + and_list(
                [
                    f"{n} (by {_behind_by(sn, comparisons[n]['mean_diff'])}, p "
                    f"{_fmt_p(float(comparisons[n]['p_value']))})"
                    for n in simple
                ]
            )
            + ", which a network can represent"
        )
    beaten_by = list(chance.get("beaten_by", []))
    if chance and net.name not in beaten_by and any(n != net.name for n in beaten_by):
        t = chance.get("tests", {}).get(net.name, {})
        others = [n for n in beaten_by if n != net.name]
        facts.append(
            f"it does no better than a constant predictor ({score_text(sn, net.cv_mean)} against "
            f"{_level(sn, float(chance.get('cv_mean', math.nan)))}"
            + (f", p {_fmt_p(float(t['p_value']))}" if t else "")
            + f"), while {and_list(others)} {'does' if len(others) == 1 else 'do'}"
        )
    done, complete = int(search.get("finished", 0) or 0), int(search.get("completed", 0) or 0)
    # Successive halving prunes most trials by design: nearly all pruned is said as a fact beside another sign,
    # and alone only where a single trial completed and some model shows there is a signal to learn
    signal = not chance or bool(chance.get("beaten_by"))
    if (
        done >= 3
        and 0 < complete <= MOSTLY_PRUNED * done
        and (facts or (complete == 1 and done >= 4 and signal))
    ):
        epochs = search.get("best_trial_epochs")
        facts.append(
            f"{done - complete} of its {done} search trials were pruned"
            + (f" and the best one trained {epochs} of {search.get('max_epochs')} epochs" if epochs else "")
        )
    if not facts:
        return []
    trials, timeout, epochs = budget.get("n_trials"), budget.get("timeout"), budget.get("max_epochs")
    more = [f"more trials (--trials, now {trials})"] if trials else []
    more.append(f"more time (--timeout, now {timeout:g} s)" if timeout else "more time (--timeout)")
    if epochs:
        more.append(f"more epochs (--max-epochs, now {epochs})")
    return [
        f"The tuned network ({net.name}) may be under-tuned: {'; '.join(facts)}. Give its search "
        f"{', '.join(more[:-1]) + ' or ' + more[-1] if len(more) > 1 else more[0]} before reading this verdict as the network family's best."
    ]


# ----------------------------------------------------------------------------------------------- compare
_COMPARE_ARGS: dict[str, Constraint] = {
    "n_trials": Interval(int, 1, None),
    "baseline_trials": Interval(int, 1, None),
    "n_splits": Interval(int, 2, None),
    "n_repeats": Interval(int, 1, None),
    "random_state": Interval(int, 0, 2**32 - 1),
    "protocol": Options(PROTOCOLS),
    "alpha": Interval(float, 0.0, 1.0, closed="neither"),
    "min_effect": Interval(float, 0.0, None),
    "max_epochs": NoneOr(Interval(int, 1, None)),
    "timeout": NoneOr(Interval(float, 0.0, None, closed="neither")),
    "n_threads": NoneOr(Interval(int, 1, None)),
}


def _check_args(data: TabularData, args: dict[str, Any], curve_fractions: Any) -> None:
    """Every argument of :func:`compare` checked before any work (a wrong one found at the verdict lost the run)."""
    check_tabular_data("compare", data)
    if data.task is Task.MULTILABEL:
        raise ConfigError("compare handles binary, multiclass and regression tasks; got a multilabel target.")
    check_params("compare", args, _COMPARE_ARGS)
    if args["protocol"] == "kfold" and args["n_splits"] * args["n_repeats"] < 3:
        raise ConfigError(
            f"compare needs at least 3 folds in all for a t-test. Got n_splits={args['n_splits']}, "
            f"n_repeats={args['n_repeats']}."
        )
    n_dev = len(data.y_train) + len(data.y_valid)
    if args["n_splits"] > n_dev:  # sklearn would refuse it at the cross-validation, after both searches
        raise ConfigError(
            f"The 'n_splits' parameter of compare must be at most the {n_dev} rows of train+valid that "
            f"cross-validation splits (each fold needs a row). Got {args['n_splits']}."
        )
    fraction = Interval(float, 0.0, 1.0, closed="right")
    if isinstance(curve_fractions, (str, bytes)) or not isinstance(curve_fractions, Sequence):
        raise ConfigError(
            "The 'curve_fractions' parameter of compare must be a sequence of floats in (0, 1] (empty: no "
            f"learning curve). Got {curve_fractions!r}."
        )
    for f in curve_fractions:
        if not fraction.accepts(f):
            raise ConfigError(
                f"The 'curve_fractions' parameter of compare must hold floats in (0, 1]. Got {f!r} in "
                f"{tuple(curve_fractions)!r}."
            )


def compare(
    data: TabularData,
    *,
    n_trials: int = 20,
    baseline_trials: int = 10,
    random_state: int = 0,
    archs: str | Sequence[str] = "auto",
    baselines: str | Sequence[str] = "auto",
    protocol: str = "kfold",
    n_splits: int = 5,
    n_repeats: int = 2,
    alpha: float = 0.05,
    min_effect: float = 0.0,
    curve_fractions: Sequence[float] = (0.1, 0.25, 0.5, 1.0),
    max_epochs: int | None = None,
    timeout: float | None = None,
    n_threads: int | None = 1,
    metric: str | None = None,
) -> Verdict:
    """Tune networks and classic baselines on ``data``, compare them fairly, and say which to use.

    ``n_trials`` network trials per architecture (``archs="auto"``: the MLP, plus a CNN when
    ``data.input_shape`` is known); ``baseline_trials`` per baseline family.  ``protocol="kfold"`` uses
    ``n_repeats`` x ``n_splits``-fold (stratified for classification) with the corrected resampled t-test;
    ``"5x2"`` uses 5 x 2-fold with the 5x2cv corrected t-test (``paired_ttest_5x2cv``: directional, its p and
    interval agree).  The network must beat the best baseline significantly at ``alpha`` and by more than ``min_effect`` (score units; the target's for ``neg_mae``/``neg_rmse``) to be recommended.  ``timeout`` caps each
    search in seconds; ``max_epochs`` caps network training; ``n_threads`` (default 1) is the thread count
    every model is fitted and timed with (``None``: library defaults).  An empty ``curve_fractions`` skips
    the learning curve.  ``metric`` is the score everything is tuned, compared and tested by (None: the task's,
    accuracy or R^2; ``"balanced_accuracy"`` or ``"f1_macro"`` where the classes are imbalanced; ``"neg_mae"`` or
    ``"neg_rmse"``, minus an error in the target's units, for a regression with outliers or errors reported in
    its units: the constant reference then predicts the training median for MAE, the mean otherwise).

    Ctrl-C raises :class:`CompareInterrupted` (a ``KeyboardInterrupt``) holding what was finished.
    """
    _check_args(
        data,
        {
            "n_trials": n_trials,
            "baseline_trials": baseline_trials,
            "random_state": random_state,
            "protocol": protocol,
            "n_splits": 2 if protocol == "5x2" else n_splits,
            "n_repeats": 5 if protocol == "5x2" else n_repeats,
            "alpha": alpha,
            "min_effect": min_effect,
            "max_epochs": max_epochs,
            "timeout": timeout,
            "n_threads": n_threads,
        },
        curve_fractions,
    )
    if protocol == "5x2":
        n_splits, n_repeats = 2, 5
    task = Task(data.task)
    sn = check_metric(metric, task)
    # the sd the loader divided a regression target by: error scores are multiplied back to the target's units
    ys = target_scale(data, task)
    arch_list = _resolve_archs(data, archs)
    n_classes = _n_classes(data)
    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    nets: list[tuple[Candidate, MLPConfig]] = []
    fits: dict[str, bl.BaselineFit] = {}
    base_cands: list[Candidate] = []
    skipped: dict[str, str] = {}
    searches: dict[str, dict[str, Any]] = {}
    stage = "tuning the networks"
    try:
        with limit_threads(n_threads):
            # 1. tune on train/valid ----------------------------------------------------------------------------
            t0 = time.perf_counter()
            for i, arch in enumerate(arch_list):
                cfg, vs, secs, searches[arch] = _tune_network(
                    data, arch, n_trials, max_epochs, (random_state + i) % 2**32, timeout, sn
                )
                nets.append((Candidate(arch, "network", cfg.to_dict(), vs, secs), cfg))
            seconds["tune_networks"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            stage = "tuning the baselines"
            names, skipped = bl.select_baselines(task, len(data.y_train), data.n_features, baselines)
            if not names:
                raise ConfigError(f"No baseline suits this {task.value} data: {skipped}.")
            for n in names:
                try:
                    fits[n] = bl.tune_baseline(
                        n,
                        data.X_train,
                        data.y_train,
                        data.X_valid,
                        data.y_valid,
                        task=task,
                        n_trials=baseline_trials,
                        timeout=timeout,
                        random_state=random_state,
                        metric=sn,
                        y_scale=ys,
                    )
                    searches[n] = _baseline_search(fits[n], baseline_trials)
                except bl.BaselineFailedError as exc:
                    # one family that cannot fit this data must not cost the networks and the other families
                    skipped[n] = _failure_reason(
                        f"every one of its {baseline_trials} tuning trials failed", exc.errors, data.classes
                    )
                    log.warning("baseline %s skipped: %s", n, skipped[n])
            _require_baselines(fits, skipped)
            base_cands = [
                Candidate(n, "baseline", f.params, f.valid_score, f.seconds) for n, f in fits.items()
            ]
            seconds["tune_baselines"] = time.perf_counter() - t0

            # final fits on train (network: early stopping on valid) -> held-out test scores --------------------
            stage = "fitting the final models"
            t0 = time.perf_counter()
            has_test = len(data.y_test) > 0
            X_eval, y_eval = (data.X_test, data.y_test) if has_test else (data.X_valid, data.y_valid)
            if not has_test:
                log.warning(
                    "The data has no test split: the final scores are taken on the validation split, which the "
                    "models were tuned on, so they are optimistic (prepare the data with test_size > 0)."
                )
            final_models: dict[str, Any] = {}
            for cand, cfg in nets:
                model, _ = fit_network(
                    cfg,
                    data.X_train,
                    data.y_train,
                    task,
                    n_classes,
                    random_state=random_state,
                    X_valid=data.X_valid,
                    y_valid=data.y_valid,
                    metric=sn,
                    y_scale=ys,
                )
                final_models[cand.name] = model
                cand.test_score = score(task, y_eval, predict_network(model, X_eval, task), sn, y_scale=ys)
            for cand in base_cands:
                cand.test_score = score(
                    task, y_eval, bl.predict(fits[cand.name].estimator, X_eval), sn, y_scale=ys
                )
            seconds["test_fits"] = time.perf_counter() - t0

            # 2. identical repeated splits of train+valid ----------------------------------------------------
            stage = "cross-validating"
            t0 = time.perf_counter()
            best_net, best_cfg = max(nets, key=lambda nc: nc[0].valid_score)
            X_dev = np.concatenate([data.X_train, data.X_valid])
            y_dev = np.concatenate([data.y_train, data.y_valid])
            folds = _folds(X_dev, y_dev, task, n_splits, n_repeats, random_state)
            chance = _chance_candidate(data, task, sn, X_eval, y_eval, ys)
            for k, (tr, te) in enumerate(folds):
                model, fit_s = fit_network(
                    best_cfg,
                    X_dev[tr],
                    y_dev[tr],
                    task,
                    n_classes,
                    random_state=(random_state + k) % 2**32,
                    metric=sn,
                    y_scale=ys,
                )
                pred = predict_network(model, X_dev[te], task)
                _record(best_net, k, score(task, y_dev[te], pred, sn, y_scale=ys), fit_s)
                if k == 0:
                    from hyperselect.nn.mlp import count_parameters

                    best_net.n_parameters = count_parameters(model)
                    best_net.predict_seconds_per_1k = _predict_cost(
                        functools.partial(predict_network, model, task=task), X_dev[te]
                    )
                tf = time.perf_counter()
                dummy = _chance_estimator(task, sn).fit(X_dev[tr], y_dev[tr])
                fit_s = time.perf_counter() - tf
                _record(
                    chance, k, score(task, y_dev[te], bl.predict(dummy, X_dev[te]), sn, y_scale=ys), fit_s
                )
                if k == 0:
                    chance.predict_seconds_per_1k = _predict_cost(dummy.predict, X_dev[te])
                for cand in base_cands:
                    if cand.name in skipped:
                        continue
                    try:
                        tf = time.perf_counter()
                        est = _fit_baseline(cand, X_dev[tr], y_dev[tr], task, data.n_features, random_state)
                        fit_s = time.perf_counter() - tf
                        pred = bl.predict(est, X_dev[te])
                        s = score(task, y_dev[te], pred, sn, y_scale=ys)
                        if k == 0:
                            cost = _predict_cost(est.predict, X_dev[te])
                    except bl.DATA_FAILURES as exc:
                        what = f"its fit failed in cross-validation (fold {k + 1} of {len(folds)}, {len(tr)} rows)"
                        errors = [f"{type(exc).__name__}: {exc}"]
                        skipped[cand.name] = _failure_reason(what, errors, data.classes)
                        log.warning("baseline %s skipped: %s", cand.name, skipped[cand.name])
                        continue
                    _record(cand, k, s, fit_s)
                    if k == 0:
                        cand.n_parameters = bl.count_stored_numbers(est)
                        cand.predict_seconds_per_1k = cost
            base_cands = [c for c in base_cands if c.name not in skipped]
            _require_baselines({c.name: fits[c.name] for c in base_cands}, skipped)
            seconds["cross_validation"] = time.perf_counter() - t0
            for cand, _ in nets:
                if cand is not best_net:
                    cand.n_parameters = sum(p.numel() for p in final_models[cand.name].parameters())

            # 3. statistics ------------------------------------------------------------------------------------
            n_tr = float(np.mean([len(tr) for tr, _ in folds]))
            n_te = float(np.mean([len(te) for _, te in folds]))

            def paired_test(a: Candidate, b: Candidate) -> TestResult:
                """a against b on the folds: the corrected resampled t (over the ten halves for 5x2), its
                interval at 1 - alpha, so that "p < alpha" and "the interval leaves out zero" agree (at a 95 %
                interval an alpha of 0.1 could never be met by a p between 0.05 and 0.1)."""
                d = np.asarray(a.cv_scores) - np.asarray(b.cv_scores)
                if protocol == "5x2":
                    return paired_ttest_5x2cv(d.reshape(5, 2), confidence=1.0 - alpha)
                return corrected_resampled_ttest(d, round(n_tr), round(n_te), confidence=1.0 - alpha)

            tests: dict[str, TestResult] = {c.name: paired_test(best_net, c) for c in base_cands}
            p_holm = holm([tests[c.name].p_value for c in base_cands])
            comparisons = {
                c.name: {**tests[c.name].to_dict(), "p_holm": ph}
                for c, ph in zip(base_cands, p_holm, strict=True)
            }
            best_base = max(base_cands, key=lambda c: c.cv_mean)
            main = tests[best_base.name]
            chance_info = _chance_info(chance, [best_net, *base_cands], paired_test, alpha)

            # 4. learning curve -------------------------------------------------------------------------------
            stage = "drawing the learning curve"
            t0 = time.perf_counter()
            curve = None
            if curve_fractions:
                curve = _learning_curve(
                    data,
                    best_cfg,
                    best_base,
                    fits[best_base.name].estimator,
                    final_models[best_net.name],
                    sorted(set(curve_fractions)),
                    task,
                    n_classes,
                    X_eval,
                    y_eval,
                    "test" if has_test else "valid",
                    random_state,
                    sn,
                    ys,
                )
            seconds["learning_curve"] = time.perf_counter() - t0
    except KeyboardInterrupt:
        if not base_cands:  # interrupted while tuning them: the families finished so far
            base_cands = [
                Candidate(n, "baseline", f.params, f.valid_score, f.seconds) for n, f in fits.items()
            ]
        seconds["total"] = time.perf_counter() - t_start
        settings = {
            "protocol": protocol,
            "n_splits": n_splits,
            "n_repeats": n_repeats,
            "n_trials": n_trials,
            "baseline_trials": baseline_trials,
            "max_epochs": max_epochs,
            "timeout": timeout,
            "n_threads": n_threads,
            "random_state": random_state,
        }
        partial = _partial(data, stage, sn, [c for c, _ in nets] + base_cands, skipped, seconds, settings)
        raise CompareInterrupted(stage, partial) from None
    seconds["total"] = time.perf_counter() - t_start

    rec, preferred, reasons, decision = _decide(
        data,
        best_net,
        best_base,
        main,
        comparisons,
        curve,
        alpha,
        min_effect,
        task,
        arch_list,
        skipped,
        sn,
        others=base_cands,
        paired_test=paired_test,
        chance=chance_info,
    )
    # a search cut short weakens the verdict: said right after the recommendation
    reasons[1:1] = _search_reasons(searches, timeout) + _undertuned_reasons(
        best_net,
        comparisons,
        chance_info,
        searches.get(best_net.name, {}),
        alpha,
        sn,
        {"n_trials": n_trials, "timeout": timeout, "max_epochs": max_epochs},
    )
    weighted = [c.name for c in base_cands if c.params.get("class_weight") == "balanced"]
    if weighted:  # (their params say so too; this says it where a reader looks)
        reasons.append(
            f"Baselines fitted with class_weight='balanced' (every class counts equally, as {sn} does): "
            + ", ".join(weighted)
            + "."
        )
    protocol_info = {
        "name": protocol,
        "n_splits": n_splits,
        "n_repeats": n_repeats,
        "n_folds": len(folds),
        "n_dev_rows": len(y_dev),
        "n_train_per_fold": n_tr,
        "n_test_per_fold": n_te,
        "stratified": task.is_classification,
        "network_inner_valid": INNER_VALID,
        # where the candidates' final test_score was taken: "valid" where the data has no test split
        "final_scores_on": "test" if len(data.y_test) else "valid",
        "test": main.test,
        "predict_batch_rows": PREDICT_BATCH,
        "n_threads": n_threads,
        "random_state": random_state,
        "n_trials": n_trials,
        "baseline_trials": baseline_trials,
        "min_effect": min_effect,
        # the cap on each search (seconds; None: none) and on network training; what each search did is in
        # the verdict's "searches"
        "timeout": timeout,
        "max_epochs": max_epochs,
    }
    data_info = {**data.describe(), "kind": _data_kind(data)}
    verdict = Verdict(
        recommendation=rec,
        preferred_model=preferred,
        reasons=reasons,
        score_name=sn,
        data=data_info,
        network=best_net,
        baseline=best_base,
        candidates=[c for c, _ in nets] + base_cands + [chance],
        test=main,
        comparisons=comparisons,
        alpha=alpha,
        protocol=protocol_info,
        learning_curve=curve,
        skipped=skipped,
        tuned_with="hyperselect.search.tune (networks); optuna TPE (baselines)",
        seconds=seconds,
        decision_p_value=decision.p_value,
        decision_p_basis=decision.basis,
        decision_p_baseline=decision.baseline,
        preferred_because=decision.preferred_because,
        searches=searches,
        chance=chance_info,
        equivalent_models=list(decision.equivalent),
    )
    log.info("verdict on %s: %s (%s)", data.source, rec, reasons[0] if reasons else "")
    return verdict


def _fit_baseline(
    cand: Candidate, X: np.ndarray, y: np.ndarray, task: Task, n_features: int, seed: int
) -> Any:
    """Refit the tuned baseline ``cand`` on ``(X, y)``: a cross-validation fold or a learning-curve subset."""
    est = bl.make_baseline(cand.name, task, cand.params, n_features=n_features, random_state=seed)
    if cand.name == "knn":  # k neighbours cannot exceed the rows (tuned on train, refitted on fewer)
        est.set_params(n_neighbors=min(est.n_neighbors, len(y)))
    est.fit(X, y)
    return est


def _require_baselines(fits: dict[str, Any], skipped: dict[str, str]) -> None:
    if not fits:
        raise ConfigError(
            "No baseline could be fitted on this data, so there is nothing to compare the network with: "
            + "; ".join(f"{k} ({v})" for k, v in skipped.items())
            + "."
        )


#: "...classes with too few members are: [2.0, 3.0]", "...only one class: 1": class codes after a colon.
_CLASS_CODES = re.compile(r"(\bclass(?:es)?\b[^:=\n]*:\s*)(\[[^\]]*\]|-?\d+(?:\.0+)?\b)", re.IGNORECASE)


def _with_labels(message: str, classes: Sequence[Any] | None) -> str:
    """``message`` with the class codes that scikit-learn quotes after "class...:" shown as their labels.

    The models see codes ``0..C-1``, so their errors name codes; a user knows the labels.  A value that is not
    a valid code is left as it is, and so is the whole list it is in.
    """
    if not classes:
        return message

    def label(token: str) -> str | None:
        try:
            v = float(token)
        except ValueError:
            return None
        if not (v.is_integer() and 0 <= v < len(classes)):
            return None
        c = classes[int(v)]
        return repr(c.item() if isinstance(c, np.generic) else c)

    def swap(m: re.Match[str]) -> str:
        value = m.group(2)
        if not value.startswith("["):
            lab = label(value)
            return m.group(0) if lab is None else m.group(1) + lab
        tokens = [t.strip() for t in value[1:-1].split(",") if t.strip()]
        labels = [label(t) for t in tokens]
        if not tokens or any(lab is None for lab in labels):
            return m.group(0)
        return m.group(1) + "[" + ", ".join(str(lab) for lab in labels) + "]"

    return _CLASS_CODES.sub(swap, message)


def _failure_reason(what: str, errors: Sequence[str], classes: Sequence[Any] | None) -> str:
    """``what`` happened, with the distinct errors (in class labels), the first two in full."""
    distinct = list(dict.fromkeys(_with_labels(e, classes) for e in errors))
    if not distinct:
        return what
    more = f" (and {len(distinct) - 2} other errors)" if len(distinct) > 2 else ""
    return f"{what}: " + "; ".join(distinct[:2]) + more


def _record(cand: Candidate, k: int, s: float, fit_s: float) -> None:
    """The running mean of the fit time over folds; the score list grows one per fold."""
    cand.cv_scores.append(float(s))
    fs = 0.0 if k == 0 else cand.fit_seconds
    cand.fit_seconds = (fs * k + fit_s) / (k + 1)


def _predict_cost(predict: Callable[[np.ndarray], Any], X: np.ndarray, repeats: int = 3) -> float:
    """Seconds to predict :data:`PREDICT_BATCH` rows: ``X``'s rows tiled to that many, one warm-up call, then the
    median of ``repeats`` timed calls.  Scaling one call on a small fold by 1000 / rows multiplied its fixed
    overhead (input checks, thread start-up) into the per-row cost: 71 ms "per 1000 rows" for a logistic
    regression that predicts 1000 rows in 0.2 ms."""
    if not len(X):
        return math.nan
    batch = np.ascontiguousarray(np.asarray(X)[np.resize(np.arange(len(X)), PREDICT_BATCH)])
    predict(batch)
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _chance_strategy(task: Task, metric: str | None = None) -> str:
    """The constant predictor's strategy: the training class prior; for a regression, the constant that scores
    best by ``metric``: the median for the mean absolute error, the mean for the squared errors and R^2."""
    if task is not Task.REGRESSION:
        return "prior"
    return "median" if metric == "neg_mae" else "mean"


def _chance_estimator(task: Task, metric: str | None = None) -> Any:
    """A constant predictor (:func:`_chance_strategy`): the training prior's most frequent class, or the
    training mean (median for MAE)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    strategy = _chance_strategy(task, metric)
    return (
        DummyRegressor(strategy=strategy) if task is Task.REGRESSION else DummyClassifier(strategy=strategy)
    )


def _chance_candidate(
    data: TabularData,
    task: Task,
    metric: str | None,
    X_eval: np.ndarray,
    y_eval: np.ndarray,
    y_scale: float | None = None,
) -> Candidate:
    """The chance reference, fitted on ``train`` and scored on ``valid`` and on the evaluation split; its fold
    scores are recorded with the other models'."""
    est = _chance_estimator(task, metric).fit(data.X_train, data.y_train)
    cand = Candidate(
        CHANCE,
        "reference",
        {"strategy": _chance_strategy(task, metric)},
        score(task, data.y_valid, bl.predict(est, data.X_valid), metric, y_scale=y_scale)
        if len(data.y_valid)
        else math.nan,
        0.0,
    )
    cand.test_score = (
        score(task, y_eval, bl.predict(est, X_eval), metric, y_scale=y_scale) if len(y_eval) else math.nan
    )
    cand.n_parameters = int(np.size(getattr(est, "class_prior_", getattr(est, "constant_", 1.0))))
    return cand


def _chance_info(
    chance: Candidate,
    models: Sequence[Candidate],
    paired_test: Callable[[Candidate, Candidate], TestResult],
    alpha: float,
) -> dict[str, Any]:
    """Each model against the chance reference on the same folds, and which beat it significantly (each test
    uncorrected: the stricter reading for the claim that none does)."""
    tests = {m.name: paired_test(m, chance) for m in models}
    return {
        "name": chance.name,
        "strategy": chance.params.get("strategy"),
        "cv_mean": chance.cv_mean,
        "test_score": chance.test_score,
        "tests": {n: t.to_dict() for n, t in tests.items()},
        "beaten_by": [n for n, t in tests.items() if t.direction(alpha) > 0],
    }


def _folds(
    X: np.ndarray, y: np.ndarray, task: Task, n_splits: int, n_repeats: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    if task.is_classification:
        counts = np.bincount(y.astype(np.int64))
        if counts[counts > 0].min() >= n_splits:
            rskf = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
            return list(rskf.split(X, y))
        log.warning("a class has fewer than %d rows: folds are not stratified", n_splits)
    rkf = RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(rkf.split(X, y))


def _learning_curve(
    data: TabularData,
    cfg: MLPConfig,
    base: Candidate,
    base_full: Any,
    net_full: Any,
    fractions: list[float],
    task: Task,
    n_classes: int | None,
    X_eval: np.ndarray,
    y_eval: np.ndarray,
    evaluated_on: str,
    seed: int,
    metric: str | None = None,
    y_scale: float | None = None,
) -> LearningCurve:
    n = len(data.y_train)
    min_rows = 2 * (n_classes or 1)
    rows: list[int] = []
    net_s: list[float] = []
    base_s: list[float] = []
    kept: list[float] = []
    preds: list[tuple[np.ndarray, np.ndarray]] = []  # (network, baseline) predictions at each kept point
    # the network's validation score, where it is not the task's own (None)
    score_kw: dict[str, Any] = {} if metric is None else {"metric": metric, "y_scale": y_scale}
    for f in fractions:
        k = min(n, max(min_rows, round(f * n)))
        if rows and k <= rows[-1]:
            continue  # a tiny split: this share gives no more rows than the last point (no doubling to measure)
        if k >= n:
            # the full-data fits were made above; reuse them instead of training the same models again
            net_model, base_est, k = net_full, base_full, n
        else:
            idx = _subsample(data.y_train, k, task, seed)
            # the network stops early on the same share of the validation rows as of the training rows: all
            # of them at 10 % of the training rows gave it more data than the baseline, which sees only the 10 %
            n_valid = len(data.y_valid)
            v_idx = _subsample(
                data.y_valid, min(n_valid, max(min_rows, 10, round(k / n * n_valid))), task, seed
            )
            try:
                net_model, _ = fit_network(
                    cfg,
                    data.X_train[idx],
                    data.y_train[idx],
                    task,
                    n_classes,
                    random_state=seed,
                    X_valid=data.X_valid[v_idx],
                    y_valid=data.y_valid[v_idx],
                    **score_kw,
                )
                base_est = _fit_baseline(
                    base, data.X_train[idx], data.y_train[idx], task, data.n_features, seed
                )
            except bl.DATA_FAILURES as exc:
                # a subset can miss what a model needs (a class, enough rows): that point of the curve is
                # left out, the rest of the curve and the verdict stand
                log.warning(
                    "learning curve: %d rows left out: %s",
                    k,
                    _with_labels(f"{type(exc).__name__}: {exc}", data.classes),
                )
                continue
        rows.append(k)
        kept.append(f if k == round(f * n) else k / n)  # raised to the minimum rows: the share it really is
        pn, pb = predict_network(net_model, X_eval, task), bl.predict(base_est, X_eval)
        preds.append((pn, pb))
        net_s.append(score(task, y_eval, pn, metric, y_scale=y_scale))
        base_s.append(score(task, y_eval, pb, metric, y_scale=y_scale))
    resolution = score_step(task, y_eval, metric)
    ci = None
    if len(rows) >= 2 and rows[-1] > rows[-2]:
        ci = gain_difference_interval(
            task,
            y_eval,
            preds[-2],
            preds[-1],
            math.log2(rows[-1] / rows[-2]),
            metric,
            random_state=seed,
            y_scale=y_scale,
        )
    return LearningCurve(
        kept,
        rows,
        net_s,
        base_s,
        evaluated_on,
        resolution=resolution,
        gain_diff_ci=ci,
        n_evaluated=len(y_eval),
        flat_slope=flat_slope(metric, y_scale),
        score_name=metric or task.score_name,
    )


def flat_slope(metric: str | None, y_scale: float | None = None) -> float:
    """The smallest gain per doubling of the rows read as a gain, in ``metric``'s units: :data:`FLAT_SLOPE`; an
    error score in the target's units (``y_scale``: its standard deviation) moves with the target's scale, so
    for it :data:`FLAT_SLOPE` standard deviations of the target (0.005 sd: an MAE of 10.0 at sd 2000 falling
    by 10 per doubling is a gain)."""
    if metric in ERROR_METRICS:
        return FLAT_SLOPE * (1.0 if y_scale is None else float(y_scale))
    return FLAT_SLOPE


#: Resampled row indices held at once by :func:`gain_difference_interval` (32 MB of int64).
BOOTSTRAP_CELLS = 4_000_000


def gain_difference_interval(
    task: Task,
    y_eval: np.ndarray,
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    doublings: float,
    metric: str | None = None,
    *,
    n_resamples: int = CURVE_BOOTSTRAP,
    confidence: float = 0.95,
    random_state: int = 0,
    y_scale: float | None = None,
) -> tuple[float, float] | None:
    """Paired percentile-bootstrap interval of (network's gain - baseline's gain) per doubling between two
    learning-curve points, resampling the evaluated rows (all four models are scored on the same rows, so one
    resample scores all four).  ``before``/``after``: (network, baseline) predictions at the two points.  None
    where there are too few rows to resample."""
    y = np.asarray(y_eval)
    n = len(y)
    if n < 2 or doublings <= 0:
        return None
    rng = np.random.default_rng(random_state)
    # the resamples are drawn a chunk at a time (the same stream as all at once): n_resamples x n indices of a
    # 200k-row test split were 1.6 GB, and as many scores again
    chunk = max(1, BOOTSTRAP_CELLS // n)
    (nb, bb), (na, ba) = before, after
    per_row = (task.is_classification and metric in (None, "accuracy")) or (
        task is Task.REGRESSION and metric == "neg_mae"
    )
    if per_row and task is Task.REGRESSION:
        # minus each row's absolute error (in the target's units): neg_mae is their mean, as accuracy is below
        yv = y.astype(np.float64).reshape(n, -1)

        def neg_err(p: Any) -> np.ndarray:
            return -np.abs(np.asarray(p, dtype=np.float64).reshape(n, -1) - yv).mean(axis=1)  # type: ignore[no-any-return]

        scale = 1.0 if y_scale is None else float(y_scale)
        row = (neg_err(na) - neg_err(nb) - (neg_err(ba) - neg_err(bb))) * scale
    elif per_row:
        # per-row correctness: the resampled gain difference is a mean over the resampled rows
        row = (
            (np.asarray(na) == y).astype(np.float64)
            - (np.asarray(nb) == y)
            - ((np.asarray(ba) == y).astype(np.float64) - (np.asarray(bb) == y))
        )
    preds = [np.asarray(p) for p in (na, nb, ba, bb)]
    diffs = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        if per_row:
            diffs[start : start + len(idx)] = row[idx].mean(axis=1) / doublings
            continue
        for i, rows in enumerate(idx, start):
            s_na, s_nb, s_ba, s_bb = (score(task, y[rows], p[rows], metric, y_scale=y_scale) for p in preds)
            diffs[i] = ((s_na - s_nb) - (s_ba - s_bb)) / doublings
    diffs = diffs[np.isfinite(diffs)]
    if not len(diffs):
        return None
    tail = (1.0 - confidence) / 2.0
    return float(np.quantile(diffs, tail)), float(np.quantile(diffs, 1.0 - tail))


def score_step(task: Task, y_eval: np.ndarray, metric: str | None) -> float:
    """How much one scored row can move the score: a class score moves in steps of one row, so changes of a row
    or two are no trend.  Accuracy: 1 / rows.  Balanced accuracy and macro-F1 weigh each class alike, so a row
    of the rarest class moves them by about 1 / (classes x its rows): on 12 test rows of a rare class in two
    classes, 0.04 (1 / rows said 0.0017, and a gain of one such row read as a trend).  0 for regression."""
    if task is Task.REGRESSION or not len(y_eval):
        return 0.0
    if metric in ("balanced_accuracy", "f1_macro") and task is not Task.MULTILABEL:
        _, counts = np.unique(np.asarray(y_eval), return_counts=True)
        if len(counts):
            return float(1.0 / (len(counts) * counts.min()))
    return 1.0 / len(y_eval)


# ------------------------------------------------------------------------------------------------ decision
def _data_kind(data: TabularData) -> str:
    shape = data.input_shape
    if shape is None:
        return "table"
    return "signal" if len(shape) == 2 else "image"


def _fmt_p(p: float) -> str:
    """'= 0.031' or '< 1e-4', to follow a 'p'."""
    return f"= {p:.2g}" if p >= 1e-4 else "< 1e-4"


def _ratio(a: float, b: float) -> str:
    if not (math.isfinite(a) and math.isfinite(b)) or min(a, b) <= 0:
        return "n/a"
    r = a / b
    return f"{r:.1f}x" if r >= 1 else f"1/{1 / r:.1f}x"


def _ahead(c: dict[str, Any]) -> bool:
    """The network is ahead in comparison ``c``: a positive mean difference, and where the comparison has an
    interval, one whose centre (the test's own estimate, where a test centres it elsewhere) is positive too."""
    if c["mean_diff"] <= 0:
        return False
    lo, hi = c.get("ci_low"), c.get("ci_high")
    return not (isinstance(lo, float | int) and isinstance(hi, float | int) and lo + hi <= 0)


def _behind(c: dict[str, Any]) -> bool:
    lo, hi = c.get("ci_low"), c.get("ci_high")
    return c["mean_diff"] < 0 and not (
        isinstance(lo, float | int) and isinstance(hi, float | int) and lo + hi >= 0
    )


def _sig(c: dict[str, Any], alpha: float, key: str = "p_value") -> bool:
    """``c``'s p (``key``) is below alpha and, where ``c`` has an interval, that interval leaves out zero: no
    directional claim rests on a p whose interval spans zero."""
    lo, hi = c.get("ci_low"), c.get("ci_high")
    spans = isinstance(lo, float | int) and isinstance(hi, float | int) and lo <= 0 <= hi
    return bool(c[key] < alpha) and not spans


def network_win_p(comparisons: dict[str, dict[str, Any]]) -> tuple[float, str]:
    """p-value of "the network beats every baseline" (intersection-union test: the largest p), and which
    baseline sets it; 1.0 when some baseline scores at least as well as the network."""
    if not comparisons:
        return 1.0, ""
    worst = max(comparisons, key=lambda n: (not _ahead(comparisons[n]), comparisons[n]["p_value"]))
    c = comparisons[worst]
    return (1.0 if not _ahead(c) else float(c["p_value"])), worst


@dataclass(frozen=True)
class DecisionP:
    """The p-value a recommendation rests on: ``basis`` one of :data:`DECISION_P_BASES`, against ``baseline``;
    and why the preferred model is preferred (``preferred_because``, one of :data:`PREFERENCE_BASES`)."""

    p_value: float
    basis: str
    baseline: str
    preferred_because: str = ""
    #: the models level with the best-scoring one, among which the preferred one was chosen
    equivalent: tuple[str, ...] = ()


def _inapplicable(name: str, task: Task) -> bool:
    """The baseline family ``name`` does not handle ``task`` at all (naive Bayes on a regression): its skip is
    a fact of the family, not news about this data, so the reasons leave it out (verdict.json keeps it)."""
    fam = bl.FAMILIES.get(name)
    return fam is not None and task not in fam.tasks


def _by(sn: str, diff: float, signed: bool = True) -> str:
    """A score difference after "by": ``+0.0300 r2`` (unsigned: ``0.0300 r2``); for an error score, the error it
    lowers (``0.1200 lower MAE``: :func:`~hyperselect.train.metrics.diff_text`), so minus an error is never
    misread."""
    if sn in ERROR_METRICS:
        return diff_text(sn, diff)
    return f"{diff:+.4f} {sn}" if signed else f"{diff:.4f} {sn}"


def _behind_by(sn: str, net_diff: float) -> str:
    """How far the network trails, after "it scores below X (by": ``0.0300 r2``; for an error score from the
    network's side (``0.1200 higher MAE``), as the sentence's subject is the network."""
    if sn in ERROR_METRICS:
        return diff_text(sn, net_diff)
    return f"{-net_diff:.4f} {sn}"


def _from_constant(sn: str, name: str, diff: float) -> str:
    """``name``'s score against the constant predictor's (``diff``: name's minus the constant's): ``is +0.0300 r2
    from it``; for an error score, ``has an MAE 0.1200 lower than it`` (or the same MAE)."""
    if sn not in ERROR_METRICS:
        return f"is {_by(sn, diff)} from it"
    err = ERROR_METRICS[sn]
    if diff == 0:
        return f"has the same {err} as it"
    return f"has an {err} {abs(diff):.4f} {'lower' if diff > 0 else 'higher'} than it"


def _level(sn: str, value: float) -> str:
    """A score where a second one follows its named first: ``0.8123``; an error score as its error (``MAE
    3.2000``), which a bare number would not say."""
    return score_text(sn, value) if sn in ERROR_METRICS else f"{value:.4f}"


def _not_beaten(comparisons: dict[str, dict[str, Any]], lost: Sequence[str], sn: str) -> str:
    """Why the network does not beat the baselines ``lost`` significantly, in words: those it leads by too
    little, with the largest p, and those that score at least as high as it (each with the difference and its
    p), never the 1 that the intersection-union p stands at when a baseline is ahead."""
    ahead = sorted(
        (n for n in lost if comparisons[n]["mean_diff"] <= 0), key=lambda n: comparisons[n]["mean_diff"]
    )
    led = [n for n in lost if n not in ahead]
    parts = []
    if led:
        p_led = max(float(comparisons[n]["p_value"]) for n in led)
        top = max(led, key=lambda n: comparisons[n]["p_value"])
        parts.append(
            f"it leads {and_list(led)}, but not significantly "
            + (f"(largest p {_fmt_p(p_led)}, {top})" if len(led) > 1 else f"(p {_fmt_p(p_led)})")
        )
    if ahead:
        each = [
            f"{n} (by {_behind_by(sn, comparisons[n]['mean_diff'])}, p "
            f"{_fmt_p(float(comparisons[n]['p_value']))})"
            if comparisons[n]["mean_diff"] < 0
            else f"{n} (level, p {_fmt_p(float(comparisons[n]['p_value']))})"
            for n in ahead
        ]
        names = and_list(each)
        higher = all(comparisons[n]["mean_diff"] < 0 for n in ahead)
        verb = "scores" if len(each) == 1 else "score"
        parts.append(f"{names} {verb} {'higher than' if higher else 'at least as high as'} the network")
    return "; ".join(parts)


def _decide(
    data: TabularData,
    net: Candidate,
    base: Candidate,
    test: TestResult,
    comparisons: dict[str, dict[str, Any]],
    curve: LearningCurve | None,
    alpha: float,
    min_effect: float,
    task: Task,
    archs: list[str],
    skipped: dict[str, str],
    sn: str | None = None,
    *,
    others: Sequence[Candidate] = (),
    paired_test: Callable[[Candidate, Candidate], TestResult] | None = None,
    chance: dict[str, Any] | None = None,
) -> tuple[str, str, list[str], DecisionP]:
    """The recommendation, the preferred model, the reasons in words and the p-value the decision used.

    ``others``: the other cross-validated baselines, and ``paired_test`` the protocol's test of one model
    against another on the folds: without a significant result the cheapest model level with the best one is
    preferred (only the network and the best baseline where they are not given).  ``chance``:
    :func:`_chance_info`, to say so where no model beats a constant predictor."""
    sn = sn or task.score_name
    diff = test.mean_diff
    sig = _sig(test.to_dict(), alpha)
    n_dev = len(data.y_train) + len(data.y_valid)
    reasons: list[str] = []

    # data size and type
    size = "small" if n_dev < 1_000 else "medium-sized" if n_dev < 10_000 else "large"
    kind = _data_kind(data)
    what = {
        "table": "a plain table with no spatial order, so only an MLP was tried",
        "signal": f"1-D signals of shape {tuple(data.input_shape or ())}, so a convolutional network was tried",
        "image": f"images of shape {tuple(data.input_shape or ())}, so a convolutional network was tried",
    }[kind]
    if kind != "table" and "cnn" not in archs:
        what = what.replace("so a convolutional network was tried", "but only the MLP was asked for")
    n_test, n_dropped = len(data.y_test), int(getattr(data, "dropped_rows", 0) or 0)
    n_all = n_dev + n_test + n_dropped
    whole = [f"of {n_all:,} in the data"]
    if n_test:
        whole.append(f"{n_test:,} held out for test")
    if n_dropped:
        whole.append(f"{n_dropped:,} dropped")
    reasons.append(
        f"Data: {n_dev:,} rows for cross-validation ({'; '.join(whole)}; {size}), {data.n_features} features, "
        f"{task.value} task; {what}."
    )
    if size == "small":
        reasons.append(
            "On small data, tuned classic models usually match networks: a win must be clear to count."
        )

    # gain and significance
    test_words = {
        "corrected_resampled_t": "corrected resampled t-test",
        "5x2cv_t": "5x2cv corrected t-test",
    }.get(test.test, "5x2cv F-test")
    level = round(test.confidence * 100)
    ci_words = f"{level}% CI {test.ci_low:+.4f} to {test.ci_high:+.4f}"
    k = len(comparisons)
    p_holm_base = float(comparisons.get(base.name, {}).get("p_holm", test.p_value))
    if diff < 0 and k > 1:
        # a loss to the best baseline is one of k comparisons: the headline weighs Holm's p, so say both
        sig_holm = sig and p_holm_base < alpha
        where = (
            "significant"
            if sig_holm
            else "significant only before the correction, not after it"
            if sig
            else "not significant"
        )
        p_words = (
            f"p {_fmt_p(test.p_value)} uncorrected, Holm-corrected over the {k} baselines p "
            f"{_fmt_p(p_holm_base)}: {where} at alpha {alpha}"
        )
        ci_words += ", uncorrected"
    else:
        p_words = f"p {_fmt_p(test.p_value)}: {'significant' if sig else 'not significant'} at alpha {alpha}"
    # an error score's difference is minus the error's: said once, so the signs below read right
    in_sn = f" in {sn} (minus the {ERROR_METRICS[sn]}: higher is better)" if sn in ERROR_METRICS else ""
    reasons.append(
        f"Best network ({net.name}) {score_text(sn, net.cv_mean)} vs best baseline ({base.name}) "
        f"{_level(sn, base.cv_mean)} on the same {len(net.cv_scores)} folds: difference{in_sn} {diff:+.4f} "
        f"({ci_words}), {test_words} {p_words}."
    )
    beaten = [n for n, c in comparisons.items() if _ahead(c) and _sig(c, alpha)]
    p_all, weakest = network_win_p(comparisons)
    if len(beaten) == len(comparisons):
        reasons.append(
            f"The network beats every baseline ({len(beaten)}) significantly; the largest p-value "
            f"({weakest}) is {_fmt_p(p_all)[2:] if p_all >= 1e-4 else 'below 1e-4'}."
        )
    else:
        lost = [n for n in comparisons if n not in beaten]
        reasons.append(
            "To count as better than the best classic model the network must beat each of them significantly "
            f"(intersection-union test): {_not_beaten(comparisons, lost, sn)}."
        )
    if math.isfinite(net.test_score) and math.isfinite(base.test_score):
        where = (
            "On the held-out test split"
            if len(data.y_test)
            else "On the validation split (the data has no test split; both were tuned on this one, so these "
            "scores are optimistic)"
        )
        reasons.append(
            f"{where}: network {_level(sn, net.test_score)}, baseline {_level(sn, base.test_score)}."
        )

    # cost
    reasons.append(
        f"Cost: fitting the network took {net.fit_seconds:.2f} s per fold vs {base.fit_seconds:.2f} s "
        f"({_ratio(net.fit_seconds, base.fit_seconds)}); predicting 1000 rows {net.predict_seconds_per_1k * 1e3:.2f} "
        f"ms vs {base.predict_seconds_per_1k * 1e3:.2f} ms; {net.n_parameters:,} parameters vs "
        f"{base.n_parameters:,} stored numbers."
    )

    # learning curve
    if curve is not None and len(curve.n_rows) >= 2:
        reasons.append(_curve_reason(curve, sn))

    # a family that does not handle this kind of task at all is no news about this data (verdict.json keeps it)
    told = {k: v for k, v in skipped.items() if not _inapplicable(k, task)}
    if told:
        reasons.append("Skipped baselines: " + "; ".join(f"{k} ({v})" for k, v in told.items()) + ".")

    # Without a significant difference the cheaper model is preferred, where it is clearly cheaper: no more
    # than twice the other's cost in fit time, prediction time or size (stored numbers), and under half of it in
    # one of them (differences within a factor of two, hundredths of a second on small data, are noise).
    # Otherwise (about the same, or cheaper in one cost and dearer in another) the better score decides.
    # Every model level with the best-scoring one (no significant difference after Holm) is in the running.
    def costs_of(a: Candidate, b: Candidate) -> list[tuple[str, float, float]]:
        return [
            (what, float(getattr(a, attr)), float(getattr(b, attr)))
            for what, attr in (
                ("to fit", "fit_seconds"),
                ("to predict", "predict_seconds_per_1k"),
                ("to store", "n_parameters"),
            )
            if all(math.isfinite(float(v)) and v > 0 for v in (getattr(a, attr), getattr(b, attr)))
        ]

    def clearly_cheaper(a: Candidate, b: Candidate) -> list[str]:
        """How ``a`` is clearly cheaper than ``b`` (empty: it is not).  A time counts only where the two differ
        by more than its noise floor (:data:`COST_NOISE`): 0.01 s against 0.02 s to fit is no difference."""
        pairs = [(what, x, y) for what, x, y in costs_of(a, b) if abs(x - y) > COST_NOISE.get(what, 0.0)]
        if any(x > CLEARLY * y for _, x, y in pairs):
            return []
        return [f"{y / x:.1f}x cheaper {what}" for what, x, y in pairs if y > CLEARLY * x]

    pool: list[Candidate] = [net, base]
    pool += [
        c for c in others if c.name not in (net.name, base.name) and len(c.cv_scores) == len(net.cv_scores)
    ]
    top = net if net.cv_mean > base.cv_mean else base  # the baseline wins a tie with the network, as before
    top = max(pool, key=lambda c: (c.cv_mean, c is top))
    equivalent = [top]
    if paired_test is not None and len(pool) > 1:
        rest = [c for c in pool if c is not top]
        level_tests = [paired_test(top, c) for c in rest]
        p_adj = holm([t.p_value for t in level_tests])
        equivalent += [
            c
            for c, t, ph in zip(rest, level_tests, p_adj, strict=True)
            if not (ph < alpha and t.direction(alpha) > 0)
        ]
    else:
        equivalent += [c for c in pool[:2] if c is not top]
    cheaper, versus = top, top
    gains: list[str] = []
    for _ in range(len(equivalent)):  # step to a clearly cheaper model level with the best until none is
        options = [(c, clearly_cheaper(c, cheaper)) for c in equivalent if c is not cheaper]
        options = [(c, g) for c, g in options if g]
        if not options:
            break
        versus = cheaper
        cheaper, gains = max(options, key=lambda cg: cg[0].cv_mean)
    if cheaper is not top and clearly_cheaper(
        cheaper, top
    ):  # said against the best-scoring model if it can be
        gains, versus = clearly_cheaper(cheaper, top), top
    elif cheaper is top and top in (net, base):
        # the best scoring is also clearly cheaper than the other of the compared pair: the cheaper, as before
        pair_other = base if top is net else net
        gains, versus = clearly_cheaper(top, pair_other), pair_other
    cost_differs = bool(gains)
    # The best baseline is picked after seeing the folds: a win over it is a claim over every baseline (so
    # every one must be beaten: p_all), and a loss to any baseline is one of K post-hoc comparisons (so Holm's
    # p): a baseline that beats the network significantly after Holm is a significant loss, whichever baseline
    # has the best mean (a steadier one can be significant where the best mean is not).
    p_base = float(comparisons[base.name]["p_holm"])
    winners = sorted(
        (n for n, c in comparisons.items() if _behind(c) and _sig(c, alpha, "p_holm")),
        key=lambda n: comparisons[n]["mean_diff"],
    )
    every = DecisionP(p_all, "every_baseline", weakest, "significant_win")
    if p_all < alpha and diff > min_effect and len(beaten) == len(comparisons):
        rec, preferred, decision = "network", net.name, every
        reasons.insert(
            0,
            f"Use the network ({net.name}): it beats the best baseline ({base.name}) by "
            f"{_by(sn, diff)} and every other baseline, significantly (p {_fmt_p(p_all)}).",
        )
    elif base.name in winners:
        rec, preferred = "baseline", base.name
        decision = DecisionP(p_base, "holm", base.name, "significant_loss")
        reasons.insert(
            0,
            f"Use the baseline ({base.name}): it beats the best network ({net.name}) by "
            f"{_by(sn, -diff)}, significantly (Holm-corrected p {_fmt_p(p_base)}).",
        )
    elif winners:
        w = winners[0]
        rec, preferred = "baseline", w
        decision = DecisionP(float(comparisons[w]["p_holm"]), "holm", w, "significant_loss")
        reasons.insert(
            0,
            f"Use a baseline ({w}): it beats the best network ({net.name}) by "
            f"{_by(sn, -comparisons[w]['mean_diff'])}, significantly (Holm-corrected p "
            f"{_fmt_p(comparisons[w]['p_holm'])}); the baseline with the best mean ({base.name}) leads by "
            f"{_by(sn, -diff) if sn in ERROR_METRICS else f'{-diff:+.4f}'}, not significantly (Holm-corrected p "
            f"{_fmt_p(p_base)}).",
        )
    else:
        because = "cheaper" if cost_differs else "better_score"
        rec, preferred = "no_significant_difference", cheaper.name
        names = tuple(c.name for c in equivalent)
        decision = DecisionP(p_all, "every_baseline", weakest, because, names)
        head = (
            f"No significant difference between the network ({net.name}) and the best baseline ({base.name})"
        )
        p_pair = float(comparisons[base.name]["p_value"])
        if p_all < alpha and len(beaten) == len(comparisons):
            why = f"the gain {_by(sn, diff)} is significant but below the minimum effect {min_effect}"
        elif diff >= 0 and base.name in beaten:
            # it beats the best baseline significantly, but another baseline it does not: no win, yet not "no
            # difference" from the best baseline either
            head = (
                f"No significant win for the network ({net.name}): it beats the best baseline ({base.name}) by "
                f"{_by(sn, diff)} (p {_fmt_p(p_pair)}), but not every baseline"
            )
            why = f"{weakest} is not beaten significantly (p {_fmt_p(p_all)})"
        elif diff >= 0:
            why = f"the network does not beat every baseline significantly (largest p {_fmt_p(p_all)})"
        else:
            why = f"the baseline's lead is not significant (Holm-corrected p {_fmt_p(p_base)})"
            decision = DecisionP(p_base, "holm", base.name, because, names)
        other = base if cheaper is net else net
        against = (
            f" On the held-out test split {other.name} scored higher ({_level(sn, other.test_score)} against "
            f"{_level(sn, cheaper.test_score)}; one split, so weigh it less than the folds)."
            if not cost_differs
            and cheaper in (net, base)
            and math.isfinite(other.test_score)
            and math.isfinite(cheaper.test_score)
            and other.test_score > cheaper.test_score
            else ""
        )
        level_with = [c.name for c in equivalent if c is not top]
        among = (
            f" Level with {top.name} (the best {sn} on the folds; no significant difference after Holm): "
            f"{and_list(level_with)}."
            if len(pool) > 2 and level_with
            else ""
        )
        if cost_differs:
            prefer = f"the cheaper: {cheaper.name} ({', '.join(gains)}" + (
                f" than {versus.name}" + ("" if top in (versus, cheaper) else f"; {top.name} scores best")
                if len(pool) > 2
                else ""
            )
            prefer += ")."
        else:
            nobody = "neither is" if len(pool) <= 2 else "no model level with it is"
            # the costs the rule weighed: the pair, or each model level with the best-scoring one against it
            cost_pairs = (
                [(net.name, base.name, costs_of(net, base))]
                if len(pool) <= 2
                else [(c.name, top.name, costs_of(c, top)) for c in equivalent if c is not top]
            )
            prefer = (
                f"the better scoring on the folds, as {nobody} clearly cheaper to fit, to predict and to "
                f"store ({_mixed_costs(cost_pairs)}): {cheaper.name}.{against}"
            )
        reasons.insert(0, f"{head}: {why}. Prefer {prefer}{among}")

    # a few extreme targets that R^2 (and RMSE, squared errors both) weighs above every other row: said wherever
    # they hold most of its variance, and named where no model beats the mean (no signal is not the only reading)
    extreme = (
        _extreme_target(np.concatenate([np.asarray(data.y_train), np.asarray(data.y_valid)]))
        if task is Task.REGRESSION and sn in ("r2", "neg_rmse")
        else None
    )
    sn_words = "R^2" if sn == "r2" else ERROR_METRICS.get(sn, sn)
    # no model above a constant predictor: the plainest reading of the data, said first
    if chance and comparisons and not chance.get("beaten_by"):
        tests = chance.get("tests", {})
        best_name = max(tests, key=lambda n: tests[n]["mean_diff"]) if tests else ""
        p_best = f", p {_fmt_p(float(tests[best_name]['p_value']))}" if best_name else ""
        what = {"prior": "the training class prior", "median": "the training median", "mean": "the mean"}[
            _chance_strategy(task, sn)
        ]
        reasons.insert(
            0,
            f"No model beats a constant predictor (predicting {what} scores "
            f"{score_text(sn, float(chance.get('cv_mean', math.nan)))} on the same folds"
            + (
                f"; the closest, {best_name}, {_from_constant(sn, best_name, tests[best_name]['mean_diff'])}{p_best}"
                if best_name
                else ""
            )
            + "): the features may carry no signal for this target"
            + (f", or {sn_words} is swamped by the extreme targets said below" if extreme else "")
            + ".",
        )
    if extreme:
        n_far, n_rows, share = extreme
        reasons.append(
            f"The target has {n_far:,} of {n_rows:,} rows ({n_far / n_rows:.1%}) more than {EXTREME_MADS:g} robust "
            f"standard deviations (1.4826 x MAD) from its median, and they hold {share:.0%} of its variance: "
            f"{'an ' if sn == 'r2' else 'the '}{sn_words} on folds measures mostly how those few rows are predicted, and a fold that holds one of them "
            "decides its score. Check whether they are errors or belong on another scale (a log of the target) "
            "before reading this verdict as the rest of the rows' story."
        )
    return rec, preferred, reasons, decision


#: A regression target's row is extreme beyond this many robust standard deviations (1.4826 x MAD) from the
#: median: a normal target has none (beyond 10 sd: p ~ 1e-23).
EXTREME_MADS = 10.0
#: ... and extreme rows matter to R^2 where they hold at least this share of the target's sum of squares.
EXTREME_SHARE = 0.5


def _extreme_target(y: np.ndarray) -> tuple[int, int, float] | None:
    """(extreme rows, rows, their share of the sum of squares about the mean) where a regression target's rows
    beyond :data:`EXTREME_MADS` robust standard deviations hold at least :data:`EXTREME_SHARE` of its variance:
    R^2 then weighs those rows above all the others.  None otherwise (or where the MAD is 0)."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if y.shape[1] != 1 or len(y) < 10:
        return None
    v = y[:, 0][np.isfinite(y[:, 0])]
    med = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - med)))
    if not mad > 0:
        return None
    far = np.abs(v - med) > EXTREME_MADS * mad
    ss = float(np.sum((v - v.mean()) ** 2))
    if not far.any() or ss <= 0:
        return None
    share = float(np.sum((v[far] - v.mean()) ** 2)) / ss
    return (int(far.sum()), len(v), share) if share >= EXTREME_SHARE else None


def _cost_figures(what: str, x: float, y: float) -> str:
    """Two costs as measured: ``0.01 s against 0.03 s to fit``."""
    if what == "to fit":
        return f"{x:.2f} s against {y:.2f} s to fit"
    if what == "to predict":
        return f"{x * 1e3:.2f} ms against {y * 1e3:.2f} ms to predict 1000 rows"
    return f"{x:,.0f} against {y:,.0f} numbers to store"


def _mixed_costs(pairs: Sequence[tuple[str, str, Sequence[tuple[str, float, float]]]]) -> str:
    """Why no model is clearly cheaper than another, in words, by the rule that decided it (``clearly_cheaper``
    in :func:`_decide`): for each pair (a, b, [(cost, a's, b's)]), each cost where one is over :data:`CLEARLY`
    times cheaper beyond the cost's noise floor (:data:`COST_NOISE`) (``svm 24.0x cheaper to fit, mlp 3.1x
    cheaper to store``), or that the costs are within a factor of two; a ratio over two that the floor calls
    timing noise is said to be noise, never named as a model being cheaper."""
    if not pairs:
        return "no other model is level with it"
    clear_parts: list[str] = []
    close: list[str] = []
    noise: list[str] = []
    for a, b, costs in pairs:
        clear = []
        for what, x, y in costs:
            if max(x, y) <= CLEARLY * min(x, y):
                continue
            if abs(x - y) <= COST_NOISE.get(what, 0.0):
                noise.append(_cost_figures(what, x, y) + ("" if len(pairs) == 1 else f", {a} against {b}"))
            else:
                clear.append(f"{a if x < y else b} {max(x, y) / min(x, y):.1f}x cheaper {what}")
        if clear:
            clear_parts.append(", ".join(clear))
        else:
            close.append(a)
    within = "within a factor of two" + (" or within timing noise" if noise else "")
    parts = list(clear_parts)
    if close:
        parts.append(
            f"their costs are {within}"
            if len(pairs) == 1
            else f"{and_list(close)} {'costs' if len(close) == 1 else 'cost'} {within} of {pairs[0][1]}"
        )
    if noise:
        parts.append(f"timing noise, which the rule does not count: {'; '.join(noise)}")
    return "; ".join(parts)


def _unclear_with_interval(curve: LearningCurve) -> str:
    """Why a curve with a bootstrap interval has no readable trend, in words."""
    ci = curve.gain_diff_ci
    gains = (("network", curve.network_last_gain), ("baseline", curve.baseline_last_gain))
    fell = [name for name, g in gains if g <= -curve.threshold]
    if len(fell) == 2:
        return "both scores fell with more rows (noisy fits)"
    if fell:
        return f"the {fell[0]}'s score fell with more rows (one noisy fit)"
    if ci is not None and ci[0] <= 0 <= ci[1]:
        return "the interval holds zero"
    if abs(curve.gain_diff) < curve.threshold:
        return "the difference is under what counts as a gain"
    return (
        "the whole curve's slope says the other model gains faster, so the fits vary from size to size by more "
        "than the interval, which holds test-row noise only, shows"
    )


def _curve_reason(curve: LearningCurve, sn: str = "") -> str:
    """The learning curve in words: the last doubling's gains, the bootstrap interval of their difference with
    what it covers (test-row noise only: one fit per size), and what the trend says and does not say.  ``sn``:
    the score; an error score's gains are said to be falls of the error, in the target's units."""
    t = curve.trend()
    ng, bg = curve.network_last_gain, curve.baseline_last_gain
    sn = sn or curve.score_name
    units = (
        f" in {sn} (a gain is a fall of the {ERROR_METRICS[sn]}, in the target's units; under "
        f"{curve.flat_slope:.4g}, {FLAT_SLOPE:g} of the target's sd, counts as none)"
        if sn in ERROR_METRICS
        else ""
    )
    head = (
        f"Learning curve ({curve.n_rows[0]:,} to {curve.n_rows[-1]:,} training rows, scored on "
        f"{curve.evaluated_on}): the last doubling gained the network {ng:+.4f} and the baseline {bg:+.4f}"
        f"{units}"
    )
    by_rows = curve.threshold > curve.flat_slope
    if by_rows:
        head += f" (a gain under {curve.threshold:.4f}, what two scored rows can move, counts as none)"
    ci = curve.gain_diff_ci
    if ci is not None:
        head += (
            f"; the network's gain minus the baseline's is {curve.gain_diff:+.4f}, "
            f"{round(curve.confidence * 100)}% paired-bootstrap interval [{ci[0]:+.4f}, {ci[1]:+.4f}] ("
            f"{curve.interval_covers})"
        )
    gap = curve.gap[-1]
    faster = {"network_improving_faster": "network", "baseline_improving_faster": "baseline"}.get(t)
    if faster is None:
        flat = (
            "neither curve moved by more than two scored rows can, so on these rows the curve shows no trend "
            "either way (a smaller gain would not show): it does not say whether more data would change the "
            "verdict"
            if by_rows
            else "both curves have flattened, so more data of this kind is unlikely to change the verdict"
        )
        tail = {
            "both_flat": flat,
            "both_rising": "both are still rising, and the curve cannot tell which faster"
            if ci is not None
            else "both are still rising at a similar pace, so the gap would likely hold",
            "unclear": f"{_unclear_with_interval(curve)}, so the curve cannot tell which model gains faster and "
            "the trend cannot be read"
            if ci is not None
            else "a curve fell with more rows, or the last doubling and the whole curve disagree on which "
            "model gains faster (one noisy segment), so the trend cannot be read",
            "unknown": "the trend cannot be read",
        }[t]
        return f"{head}: {tail}."
    # with an interval, "faster" means beyond test-row noise only: the curve's own fits were not repeated
    likely = "may" if ci is not None else "would likely"
    if abs(gap) < LEVEL_GAP:  # level to the four decimals shown: neither side has a lead that could change
        then = f"it {likely} pull ahead with more data (the two are level at {curve.n_rows[-1]:,} rows)"
    else:
        leader = "network" if gap > 0 else "baseline"
        then = (
            f"the {leader}'s lead of {abs(gap):+.4f} {likely} {'grow' if leader == faster else 'shrink'} with "
            "more data"
        )
    if ci is None:
        return f"{head}: the {faster} is improving faster, so {then}."
    return (
        f"{head}: the {faster} gained more over the last doubling than test-row noise explains, so {then}; "
        "with one fit per size this can still be the luck of one training draw, not a sure trend."
    )


# ------------------------------------------------------------------------------------------------------ demo
#: Budgets for the demo: a few trials, each search capped at 15 s, and one round of 5-fold CV, so that digits
#: and mnist1d together take about a minute and a half on two idle cores (several times more on a loaded one).
DEMO_SETTINGS: dict[str, Any] = {
    "n_trials": 4,
    "baseline_trials": 3,
    "n_splits": 5,
    "n_repeats": 1,
    "max_epochs": 20,
    "timeout": 15.0,
    "curve_fractions": (0.25, 0.5, 1.0),
    "n_threads": 1,
}


def demo_verdict(name: str, *, random_state: int = 0, **overrides: Any) -> Verdict:
    """The verdict on a built-in data set (``digits``, ``mnist1d``, ...) with the demo's small budgets."""
    from hyperselect.data import load_builtin

    settings = {**DEMO_SETTINGS, **overrides}
    return compare(load_builtin(name, random_state=random_state), random_state=random_state, **settings)


__all__ = [
    "ARCHS",
    "DECISION_P_BASES",
    "DEMO_SETTINGS",
    "PARTIAL_FILE",
    "PREFERENCE_BASES",
    "PROTOCOLS",
    "RECOMMENDATIONS",
    "Candidate",
    "CompareInterrupted",
    "LearningCurve",
    "Verdict",
    "cnn_base_config",
    "compare",
    "demo_verdict",
    "fit_network",
    "limit_threads",
    "network_space",
    "predict_network",
]
