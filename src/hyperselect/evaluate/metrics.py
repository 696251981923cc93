"""Scores and the statistics behind the verdict: corrected resampled t-test, 5x2cv t- and F-tests, Holm, effect sizes.

Why not a plain paired t-test over cross-validation folds: the training sets of the folds overlap, so the fold
scores are correlated and the plain test's variance is far too small; it declares differences significant that
are not (Dietterich 1998; Nadeau & Bengio 2003).  The two tests here are the standard remedies.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from hyperselect.errors import ConfigError
from hyperselect.tasks import Task
from hyperselect.train.metrics import CLASS_BALANCED, ERROR_METRICS, class_scores, error_scores

log = logging.getLogger(__name__)


def score(
    task: Task | str, y_true: Any, y_pred: Any, metric: str | None = None, *, y_scale: float | None = None
) -> float:
    """The task's higher-is-better score (``Task.score_name``: accuracy, micro-F1 or R^2), or ``metric``
    (``balanced_accuracy`` or ``f1_macro`` for classes, as scikit-learn computes them; ``neg_mae`` or
    ``neg_rmse`` for a regression, minus scikit-learn's mean absolute or root mean squared error).

    ``y_scale``: the standard deviation a standardised regression target was divided by; the error scores
    multiply by it, so they read in the target's units (R^2 has none).  The same score the search ranks
    configurations by, so a network and a baseline are judged by one yardstick.
    """
    task = Task(task)
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if metric in ERROR_METRICS and task is Task.REGRESSION:
        import torch

        pred = torch.as_tensor(yp.astype(np.float64)).reshape(1, len(yp), -1)
        return float(error_scores(pred, torch.as_tensor(yt.astype(np.float64)), str(metric), y_scale)[0])
    if metric in CLASS_BALANCED:  # the search's own formula (equal to scikit-learn's), so both rank alike
        import torch

        codes = torch.as_tensor(yp.astype(np.int64)).reshape(1, -1)
        return float(class_scores(codes, torch.as_tensor(yt.astype(np.int64)), 0, metric)[0])
    if task in (Task.BINARY, Task.MULTICLASS):
        return float(np.mean(yt.astype(np.int64) == yp.astype(np.int64)))
    if task is Task.MULTILABEL:
        yt, yp = yt.astype(bool), yp.astype(bool)
        tp = float(np.sum(yt & yp))
        fp = float(np.sum(~yt & yp))
        fn = float(np.sum(yt & ~yp))
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    yt = yt.reshape(len(yt), -1).astype(np.float64)
    yp = yp.reshape(len(yp), -1).astype(np.float64)
    ss_res = float(np.sum((yt - yp) ** 2))
    ss_tot = float(np.sum((yt - yt.mean(axis=0)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def paired_randomization_p(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    metric: str,
    *,
    n_resamples: int = 9_999,
    random_state: int = 0,
) -> float:
    """Two-sided p-value of score(A) - score(B) on the *same* test rows by approximate randomization (Noreen
    1989; the paired test NLP uses for scores that are no mean over rows, Dror et al. 2018).

    Under the null hypothesis that the two classifiers are exchangeable, each row's pair of predictions could as
    well have come the other way round; the p-value is the share of ``n_resamples`` random swaps (each row swapped
    with probability 1/2) whose difference is at least as large in magnitude as the observed one, counting the
    observed arrangement itself ((hits + 1) / (n_resamples + 1), never 0).  ``metric``: ``accuracy`` (where it
    tests what McNemar's exact test does), ``balanced_accuracy`` or ``f1_macro`` as :func:`score` computes them.
    Deterministic for a given ``random_state``.
    """
    import torch

    if metric not in ("accuracy", *CLASS_BALANCED):
        raise ConfigError(
            f"The paired randomization test scores accuracy, {', '.join(CLASS_BALANCED)}; got {metric!r}."
        )
    yt = torch.as_tensor(np.asarray(y_true).astype(np.int64))
    a = torch.as_tensor(np.asarray(pred_a).astype(np.int64))
    b = torch.as_tensor(np.asarray(pred_b).astype(np.int64))
    if not (yt.shape == a.shape == b.shape) or yt.ndim != 1:
        raise ConfigError(
            f"paired_randomization_p needs three equally long label vectors; got {tuple(yt.shape)}, "
            f"{tuple(a.shape)} and {tuple(b.shape)}."
        )
    if len(yt) == 0 or bool(torch.equal(a, b)):
        return 1.0

    def scores(pred: torch.Tensor) -> torch.Tensor:
        if metric == "accuracy":
            return (pred == yt).double().mean(1)
        return class_scores(pred, yt, 0, metric)

    observed = float(scores(a.reshape(1, -1))[0] - scores(b.reshape(1, -1))[0])
    gen = torch.Generator().manual_seed(int(random_state))
    # only the rows where the two differ can change a score when swapped
    differ = torch.nonzero(a != b).flatten()
    hits, done = 0, 0
    chunk = max(1, min(n_resamples, 4_000_000 // max(1, len(yt))))
    while done < n_resamples:
        k = min(chunk, n_resamples - done)
        swap = torch.rand(k, len(differ), generator=gen) < 0.5
        pa, pb = a.repeat(k, 1), b.repeat(k, 1)
        pa[:, differ] = torch.where(swap, b[differ], a[differ])
        pb[:, differ] = torch.where(swap, a[differ], b[differ])
        diff = scores(pa) - scores(pb)
        hits += int((diff.abs() >= abs(observed) - 1e-12).sum())
        done += k
    return (hits + 1) / (n_resamples + 1)


@dataclass(frozen=True)
class TestResult:
    """A significance test of ``mean_diff`` = score(A) - score(B) over paired resamples.

    ``ci_low``/``ci_high`` bound the difference at ``confidence`` with the same (corrected) variance the
    test uses; ``effect_size`` is the mean difference over its standard deviation across resamples (the
    resamples' training sets overlap, so it is larger than a Cohen's d between independent samples would be).
    """

    test: str
    statistic: float
    p_value: float
    df: tuple[float, ...]
    mean_diff: float
    ci_low: float
    ci_high: float
    confidence: float
    effect_size: float
    n_resamples: int

    def significant(self, alpha: float = 0.05) -> bool:
        return bool(self.p_value < alpha)

    def direction(self, alpha: float = 0.05) -> int:
        """+1 where A is significantly better (p below ``alpha`` and the interval above zero), -1 where B is,
        else 0.  Both conditions, so that a claim never rests on a p whose own interval spans zero (a
        non-directional test's, such as the 5x2cv F-test's)."""
        if not self.p_value < alpha:
            return 0
        if self.ci_low > 0 and self.mean_diff > 0:
            return 1
        if self.ci_high < 0 and self.mean_diff < 0:
            return -1
        return 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["df"] = list(self.df)
        return d


def _check_confidence(confidence: float) -> None:
    if not (0.0 < confidence < 1.0):
        raise ConfigError(f"The 'confidence' parameter must be a float in (0, 1). Got {confidence!r}.")


def _cohen(diffs: np.ndarray) -> float:
    sd = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0
    mean = float(np.mean(diffs))
    if sd == 0.0:
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / sd


def corrected_resampled_ttest(
    diffs: Sequence[float] | np.ndarray, n_train: int, n_test: int, *, confidence: float = 0.95
) -> TestResult:
    """Nadeau & Bengio's corrected resampled t-test over ``J`` paired resamples (e.g. r x k-fold CV).

    ``t = mean(d) / sqrt((1/J + n_test/n_train) * var(d))`` with ``J - 1`` degrees of freedom; the
    ``n_test/n_train`` term inflates the variance for the overlap between training sets.  Two-sided.
    """
    _check_confidence(confidence)
    d = np.asarray(diffs, dtype=np.float64).ravel()
    J = len(d)
    if J < 2:
        raise ConfigError(f"The corrected resampled t-test needs at least 2 resamples. Got {J}.")
    if n_train < 1 or n_test < 1:
        raise ConfigError(f"n_train and n_test must be positive. Got {n_train=}, {n_test=}.")
    mean = float(np.mean(d))
    var = float(np.var(d, ddof=1))
    se = math.sqrt((1.0 / J + n_test / n_train) * var)
    df = J - 1
    if se == 0.0:
        # every resample gave the same difference: no spread to test against
        t, p = (0.0, 1.0) if mean == 0.0 else (math.copysign(math.inf, mean), 0.0)
    else:
        t = mean / se
        p = float(2.0 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    return TestResult(
        "corrected_resampled_t",
        float(t),
        p,
        (float(df),),
        mean,
        mean - half,
        mean + half,
        confidence,
        _cohen(d),
        J,
    )


def paired_ftest_5x2cv(
    diffs: Sequence[Sequence[float]] | np.ndarray, *, confidence: float = 0.95
) -> TestResult:
    """Alpaydin's combined 5x2cv F-test; ``diffs`` has shape (5, 2): replication x fold.

    ``F = sum_ij d_ij^2 / (2 * sum_i s_i^2)`` with ``s_i^2 = sum_j (d_ij - mean_i)^2``, F(10, 5) under the null.
    The F-test is non-directional: it says the two differ, not which is better, and its interval (a corrected t,
    n_test/n_train = 1) is another test's, which can span zero where the F-test rejects.  A directional claim
    ("A beats B") needs a directional test: :func:`paired_ttest_5x2cv`, which ``compare``'s 5x2 protocol uses.
    """
    _check_confidence(confidence)
    d = np.asarray(diffs, dtype=np.float64)
    if d.shape != (5, 2):
        raise ConfigError(f"The 5x2cv F-test needs differences of shape (5, 2). Got {d.shape}.")
    s2 = np.sum((d - d.mean(axis=1, keepdims=True)) ** 2, axis=1)
    num = float(np.sum(d**2))
    den = 2.0 * float(np.sum(s2))
    if den == 0.0:
        f, p = (0.0, 1.0) if num == 0.0 else (math.inf, 0.0)
    else:
        f = num / den
        p = float(stats.f.sf(f, 10, 5))
    ci = corrected_resampled_ttest(d.ravel(), 1, 1, confidence=confidence)
    return TestResult(
        "5x2cv_F",
        float(f),
        p,
        (10.0, 5.0),
        ci.mean_diff,
        ci.ci_low,
        ci.ci_high,
        confidence,
        ci.effect_size,
        10,
    )


def paired_ttest_5x2cv(
    diffs: Sequence[Sequence[float]] | np.ndarray, *, confidence: float = 0.95
) -> TestResult:
    """A directional test for 5x2cv; ``diffs`` has shape (5, 2): replication x fold.

    The corrected resampled t-test over all ten differences with ``n_test / n_train = 1`` (each half trains
    on one half and is scored on the other): ``t = mean(d) / sqrt((1/10 + 1) * var(d))`` with 9 degrees of
    freedom, Nadeau & Bengio's correction as Bouckaert & Frank (2004) apply it to repeated cross-validation.
    Its p-value and its interval come from the one statistic, so p is below ``1 - confidence`` exactly when the
    interval leaves out zero, and the sign says which model is better.

    Not Dietterich's 5x2cv t (numerator: the first fold's difference alone), which on differences that
    alternate +0.02 / -0.02 between replications and barely vary within them claims p < 1e-8 for a mean
    difference of 0.004; nor Alpaydin's F-test (:func:`paired_ftest_5x2cv`), which says only that the two
    differ, not which is better.
    """
    _check_confidence(confidence)
    d = np.asarray(diffs, dtype=np.float64)
    if d.shape != (5, 2):
        raise ConfigError(f"The 5x2cv t-test needs differences of shape (5, 2). Got {d.shape}.")
    r = corrected_resampled_ttest(d.ravel(), 1, 1, confidence=confidence)
    return TestResult(
        "5x2cv_t",
        r.statistic,
        r.p_value,
        r.df,
        r.mean_diff,
        r.ci_low,
        r.ci_high,
        confidence,
        r.effect_size,
        10,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p[i])))
        adjusted[i] = running
    return adjusted.tolist()


def slope_per_doubling(n_rows: Sequence[int], scores: Sequence[float]) -> float:
    """Least-squares slope of score against log2(training rows): the gain from doubling the data."""
    x = np.log2(np.asarray(n_rows, dtype=np.float64))
    y = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return math.nan
    return float(np.polyfit(x[ok], y[ok], 1)[0])


__all__ = [
    "TestResult",
    "corrected_resampled_ttest",
    "holm",
    "paired_ftest_5x2cv",
    "paired_randomization_p",
    "paired_ttest_5x2cv",
    "score",
    "slope_per_doubling",
]
