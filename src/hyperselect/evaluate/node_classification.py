"""Node classification on embeddings (the node2vec paper's protocol), and selecting p, q, the dimension and C.

Protocol (Grover & Leskovec 2016, section 4.3): a random half of the labelled nodes trains the classifier, the
other half is scored with Macro-F1 and Micro-F1, repeated with different splits.  For multi-label graphs each
test node gets its top-k labels by predicted score, k being its true number of labels, so that the metric
measures ranking, not a threshold.  Models: one-vs-rest logistic regression, a random forest and our network.  By default the network is
:class:`~hyperselect.estimators.NeuralNetClassifier` with its defaults (early stopping on a tenth of the training
nodes); with ``network_trials=N`` it is searched per split by :func:`hyperselect.search.tune` (N trials, the
advisor's space, a fifth of the split's training nodes held out for choosing; the test half is never seen by a
choice).  With defaults on Cora it scores as logistic regression does (Macro-F1 0.809 vs 0.816, 3 splits); on
airports_brazil, whose labels are structural roles that p = q = 1 embeddings do not separate, all models sit near
chance, the network included.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperselect._validation import Constraint, Interval, IntTuple, NoneOr, check_params
from hyperselect.data.graph import Graph, GraphDataWarning, NodeLabels
from hyperselect.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

__all__ = [
    "TuneInterrupted",
    "TuneResult",
    "classifier_jobs",
    "evaluate_embeddings",
    "labelled_matrix",
    "labelled_rows",
    "top_k_predictions",
    "tune_node2vec",
]

MODELS = ("logreg", "random_forest", "network")
#: the p and q values :func:`tune_node2vec` selects from by default (the node2vec paper's grid)
P_VALUES = (0.25, 0.5, 1.0, 2.0, 4.0)
Q_VALUES = (0.25, 0.5, 1.0, 2.0, 4.0)
_NO_EMBEDDING = "have no neighbours and no embedding"
#: tune_node2vec's counts, checked before any work (the grids are checked where they are read)
_TUNE_CONSTRAINTS: dict[str, Constraint] = {
    "n_trials": Interval(int, 1, None),
    "walk_length": Interval(int, 2, None),
    "num_walks": Interval(int, 1, None),
    "window": Interval(int, 1, None),
    "epochs": Interval(int, 1, None),
    "workers": NoneOr(Interval(int, 1, None)),
    # (0 is refused by _check_jobs; a negative count is joblib's: -1 every usable CPU, -2 all but one)
    "n_jobs": NoneOr(Interval(int, None, None)),
    "max_jobs": NoneOr(Interval(int, 1, None)),
    "random_state": Interval(int, 0, None),
    "dimensions": IntTuple(allow_empty=False),
}
_JOBS_CONSTRAINTS: dict[str, Constraint] = {k: _TUNE_CONSTRAINTS[k] for k in ("n_jobs", "max_jobs")}

#: below this much work (training rows x embedding columns x labels), or this much per label's fit (rows x
#: columns), one process fits the classifiers: starting joblib's worker processes costs about 1.5 s and handing
#: each fit to one costs milliseconds, more than small fits take.  Measured here (2 cores, both busy with other
#: work, so the figures are rough), 10 one-vs-rest fits as a tune trial makes them, 1 process against 2: karate
#: (17 x 16 x 2) 0.01 s against 2.7 s the first time; Cora (1,354 x 128 x 7) 0.6 s against 0.7 s; PPI (1,926 x
#: 128 x 50, 250,000 a label) 4.4 s against 5.9 s; BlogCatalog (5,156 x 128 x 39, 660,000 a label) 10.0 s against
#: 6.3 s once the processes were started.
PARALLEL_WORK = 10_000_000
PARALLEL_FIT = 500_000
#: the memory a classifier process is counted at: the interpreter with numpy, scipy and scikit-learn loaded,
#: besides its share of the data (counted by :func:`classifier_jobs`)
_PROCESS_BYTES = 256 * 2**20


def _available_memory() -> int:
    """Bytes of memory free for new processes (psutil where installed, else the system's own count)."""
    import os

    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):  # no such count (Windows): no bound from memory
            return 2**62


def _check_jobs(owner: str, n_jobs: int | None, max_jobs: int | None) -> int | None:
    """``n_jobs`` as scikit-learn and joblib read it, as a count: None stays None (chosen later by
    :func:`classifier_jobs`), a negative count is the usable CPUs plus one plus it (-1: every one), 0 is refused."""
    check_params(owner, {"n_jobs": n_jobs, "max_jobs": max_jobs}, _JOBS_CONSTRAINTS)
    if n_jobs is None or n_jobs > 0:
        return n_jobs
    if n_jobs == 0:
        raise ConfigError(
            f"The 'n_jobs' parameter of {owner} must be None, an int >= 1 or a negative int (-1: every usable "
            "CPU, as in scikit-learn). Got 0."
        )
    from hyperselect.represent.node2vec.walks import usable_cpus

    return max(1, usable_cpus() + 1 + int(n_jobs))


def classifier_jobs(
    n_rows: int, n_features: int, n_labels: int, *, max_jobs: int | None = None, memory: int | None = None
) -> int:
    """How many processes fit the classifiers (scikit-learn's ``n_jobs``) when none is given: one where the
    work is small (under :data:`PARALLEL_WORK` in all or :data:`PARALLEL_FIT` a label, where processes cost more
    than they save), else one per
    usable CPU (at most ``max_jobs``), at most one per label (the one-vs-rest fits are the parallel unit), and no
    more than half the free ``memory`` holds, each process counted at about 256 MiB plus two copies of the
    float64 data.  These are not node2vec's threads: the two never run at the same time."""
    from hyperselect.represent.node2vec.walks import usable_cpus

    check_params("classifier_jobs", {"max_jobs": max_jobs}, _JOBS_CONSTRAINTS)
    cpus = usable_cpus() if max_jobs is None else int(max_jobs)
    if n_rows * n_features < PARALLEL_FIT or n_rows * n_features * max(1, n_labels) < PARALLEL_WORK:
        return 1
    free = _available_memory() if memory is None else int(memory)
    per_process = _PROCESS_BYTES + 2 * 8 * n_rows * n_features
    return max(1, min(cpus, n_labels, free // 2 // per_process))


def top_k_predictions(scores: np.ndarray, k: np.ndarray) -> np.ndarray:
    """0/1 matrix with the ``k[i]`` highest-scoring labels of row ``i`` set."""
    order = np.argsort(-scores, axis=1, kind="stable")
    pred = np.zeros(scores.shape, dtype=np.int8)
    for i, ki in enumerate(k):
        pred[i, order[i, : int(ki)]] = 1
    return pred


def macro_f1(y_true: np.ndarray, pred: np.ndarray) -> float:
    """Macro F1 of label indicator matrices over the labels present in the truth or the predictions, as
    :func:`~hyperselect.train.evaluation.split_metrics` averages: a label no node of this split has and none is
    predicted for is not a miss (scikit-learn's ``average="macro"`` on indicator matrices scored it 0, so a
    class with one node capped a perfect classifier at (n - 1) / n on the half without it)."""
    from sklearn.metrics import f1_score

    present = np.flatnonzero(np.asarray(y_true).any(axis=0) | np.asarray(pred).any(axis=0))
    if len(present) == 0:
        return float("nan")
    return float(f1_score(y_true, pred, average="macro", labels=present, zero_division=0))


def _check_C(C: Any) -> float:
    """The logistic regression's inverse regularisation strength: a finite number > 0."""
    if isinstance(C, bool) or not isinstance(C, (int, float, np.integer, np.floating)):
        raise ConfigError(f"C (inverse regularisation strength) must be a number > 0. Got {C!r}.")
    if not np.isfinite(C) or C <= 0:
        raise ConfigError(f"C (inverse regularisation strength) must be a finite number > 0. Got {C!r}.")
    return float(C)


def _check_normalize(normalize: Any) -> bool:
    if not isinstance(normalize, (bool, np.bool_)):
        raise ConfigError(f"normalize must be True or False. Got {normalize!r}.")
    return bool(normalize)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _scores(
    model: str,
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_te: np.ndarray,
    seed: int,
    n_jobs: int,
    *,
    C: float = 1.0,
    normalize: bool = False,
    network_trials: int = 0,
    searches: list[dict[str, Any]] | None = None,
) -> np.ndarray:
    """Per-label scores for the test rows; labels with a single class in training get a constant score.

    ``C`` and ``normalize`` (rows scaled to unit L2 norm first) are the logistic regression's settings;
    ``network_trials`` > 0 searches the network (its search's summary is appended to ``searches``); the other
    models ignore them.
    """
    n_labels = y_tr.shape[1]
    out = np.zeros((len(x_te), n_labels))
    present = [j for j in range(n_labels) if 0 < y_tr[:, j].sum() < len(y_tr)]
    for j in range(n_labels):
        if j not in present:
            out[:, j] = float(y_tr[:, j].mean())
    if not present:
        return out
    yp = y_tr[:, present]
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        C = _check_C(C)
        if _check_normalize(normalize):
            x_tr, x_te = l2_normalize(x_tr), l2_normalize(x_te)
        clf = OneVsRestClassifier(LogisticRegression(C=C, max_iter=1000), n_jobs=n_jobs).fit(x_tr, yp)
        out[:, present] = clf.predict_proba(x_te)
    elif model == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        rf = RandomForestClassifier(n_estimators=100, n_jobs=n_jobs, random_state=seed).fit(x_tr, yp)
        proba = rf.predict_proba(x_te)
        proba = proba if isinstance(proba, list) else [proba]
        for col, pr in zip(present, proba, strict=True):
            out[:, col] = pr[:, 1] if pr.shape[1] > 1 else 0.0
    elif model == "network" and network_trials > 0:
        proba, summary = _searched_network(x_tr, yp, x_te, seed, network_trials)
        out[:, present] = proba
        if searches is not None:
            searches.append(summary)
    elif model == "network":
        from hyperselect.estimators import NeuralNetClassifier  # type: ignore[attr-defined]

        if (yp.sum(axis=1) == 1).all():  # single-label: one softmax network
            net = NeuralNetClassifier(random_state=seed).fit(x_tr, yp.argmax(axis=1))
            proba = net.predict_proba(x_te)
            cls = np.asarray(net.classes_, dtype=int)
            for c_i, c in enumerate(cls):
                out[:, present[c]] = proba[:, c_i]
        else:
            net = NeuralNetClassifier(random_state=seed).fit(x_tr, yp)
            out[:, present] = net.predict_proba(x_te)
    else:
        raise DataError(f"Unknown model {model!r}; expected one of {', '.join(MODELS)}.")
    return out


#: The share of a split's training nodes a searched network holds out to choose its configuration.
NETWORK_VALID_SHARE = 0.2


def _searched_network(
    x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, seed: int, n_trials: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Test scores of a network searched on the training nodes alone (a fifth held out to choose, then the best
    refit on all of them), one column per column of ``y_tr``: softmax probabilities where every node has one
    label, per-label sigmoids for multi-label graphs.  Features are standardised on the fitting nodes."""
    import torch

    from hyperselect.data import TabularData
    from hyperselect.search import tune
    from hyperselect.tasks import Task

    single = bool((y_tr.sum(axis=1) == 1).all())
    rng = np.random.default_rng(seed)
    n_valid = max(1, round(NETWORK_VALID_SHARE * len(x_tr)))
    if single:  # stratified where every class has two nodes, so that each class is fitted and chosen on
        from sklearn.model_selection import train_test_split

        codes = y_tr.argmax(axis=1)
        counts = np.bincount(codes, minlength=y_tr.shape[1])
        strat = codes if counts.min() >= 2 and n_valid >= y_tr.shape[1] else None
        fit_idx, valid_idx = train_test_split(
            np.arange(len(x_tr)), test_size=n_valid, random_state=seed, stratify=strat
        )
    else:
        perm = rng.permutation(len(x_tr))
        valid_idx, fit_idx = perm[:n_valid], perm[n_valid:]
    mean = x_tr[fit_idx].mean(axis=0)
    std = x_tr[fit_idx].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scale = lambda a: np.ascontiguousarray((a - mean) / std, dtype=np.float32)  # noqa: E731
    if single:
        y_fit, y_valid = codes[fit_idx].astype(np.int64), codes[valid_idx].astype(np.int64)
        task = Task.BINARY if y_tr.shape[1] == 2 else Task.MULTICLASS
    else:
        y_fit, y_valid = (y_tr[i].astype(np.float32) for i in (fit_idx, valid_idx))
        task = Task.MULTILABEL
    data = TabularData(
        X_train=scale(x_tr[fit_idx]),
        y_train=y_fit,
        X_valid=scale(x_tr[valid_idx]),
        y_valid=y_valid,
        # the search's own "test" metrics are taken on the held-out nodes: the test half stays unseen until
        # the refit model scores it below
        X_test=scale(x_tr[valid_idx]),
        y_test=y_valid,
        task=task,
        classes=list(range(y_tr.shape[1])),
        feature_names=[f"x{j}" for j in range(x_tr.shape[1])],
        source="node embeddings",
    )
    t0 = time.perf_counter()
    result = tune(data, n_trials=n_trials, random_state=seed)
    model = result.refit_model
    model.eval()
    dev = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.as_tensor(scale(x_te), device=dev)).float().cpu()
    if task is Task.MULTILABEL:
        proba = torch.sigmoid(logits).numpy()
    elif logits.shape[1] == 1:
        p1 = torch.sigmoid(logits[:, 0]).numpy()
        proba = np.stack([1 - p1, p1], axis=1)
    else:
        proba = torch.softmax(logits, dim=1).numpy()
    summary = {
        "best_config": result.best_config.to_dict(),
        "best_valid_score": float(result.best_valid_score),
        "score_name": result.score_name,
        "seconds": time.perf_counter() - t0,
    }
    return np.asarray(proba, dtype=np.float64), summary


def check_models(models: Sequence[str]) -> list[str]:
    """The model names, checked: at least one, each one of :data:`MODELS` (duplicates dropped)."""
    names = [models] if isinstance(models, str) else list(models)
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise ConfigError(f"Unknown model {unknown[0]!r}; expected one of {', '.join(MODELS)}.")
    if not names:
        raise ConfigError(f"No model to evaluate; name at least one of {', '.join(MODELS)}.")
    return list(dict.fromkeys(names))


def evaluate_embeddings(
    x: np.ndarray,
    y: np.ndarray,
    *,
    models: Sequence[str] = ("logreg", "random_forest"),
    train_fraction: float = 0.5,
    repeats: int = 5,
    random_state: int = 0,
    n_jobs: int | None = None,
    C: float = 1.0,
    normalize: bool = False,
    network_trials: int = 0,
    max_jobs: int | None = None,
) -> dict[str, Any]:
    """Macro/Micro-F1 (mean and std over ``repeats`` random splits) for each model; skipped models say why.

    ``C`` (inverse regularisation strength) and ``normalize`` (each embedding row scaled to unit L2 norm, the
    cosine geometry skip-gram embeddings are used with) configure the logistic regression only; the defaults
    are scikit-learn's plain logistic regression on raw rows.  :func:`tune_node2vec` selects both on validation
    labels, and its choice should be passed here.  ``network_trials`` > 0 searches the network on each split's
    training nodes (that many trials; see the module's docstring) instead of using its defaults; the result's
    network entry then lists each split's chosen configuration under ``searches``.

    ``n_jobs``: the classifiers' parallel jobs (one-vs-rest processes, the forest's threads); ``None`` picks them
    by :func:`classifier_jobs` from the training half's size, at most ``max_jobs`` (default: the usable CPUs).
    The result's ``classifier_jobs`` says how many were used.
    """
    from sklearn.metrics import f1_score

    n_jobs = _check_jobs("evaluate_embeddings", n_jobs, max_jobs)
    C = _check_C(C)
    normalize = _check_normalize(normalize)
    models = check_models(models)
    if (
        isinstance(network_trials, bool)
        or not isinstance(network_trials, (int, np.integer))
        or network_trials < 0
    ):
        raise ConfigError(
            f"network_trials must be an integer >= 0 (0: the network's defaults). Got {network_trials!r}."
        )
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ConfigError(f"repeats must be an integer >= 1. Got {repeats!r}.")
    if not 0 < train_fraction < 1:
        raise ConfigError(f"train_fraction must be in (0, 1). Got {train_fraction!r}.")
    if len(x) != len(y):
        raise DataError(f"{len(x)} embedding rows but {len(y)} label rows.")
    if np.isnan(x).any():
        raise DataError(
            "Some embedding rows are NaN (nodes with no neighbours); leave them out before evaluating."
        )
    if len(x) < 4:
        raise DataError(
            f"Only {len(x)} labelled, embedded nodes: too few to split into training and test halves."
        )
    rng = np.random.default_rng(random_state)
    splits = []
    for _ in range(repeats):
        perm = rng.permutation(len(x))
        n_tr = max(1, min(len(x) - 1, round(train_fraction * len(x))))
        splits.append((perm[:n_tr], perm[n_tr:]))
    if n_jobs is None:
        n_jobs = classifier_jobs(len(splits[0][0]), x.shape[1], y.shape[1], max_jobs=max_jobs)
    results: dict[str, Any] = {
        "train_fraction": train_fraction,
        "repeats": repeats,
        "n_nodes": len(x),
        "classifier_jobs": int(n_jobs),
        # several labels on some node: each test node is given its top-k labels, k its true number
        "multilabel": bool((np.asarray(y).sum(axis=1) > 1).any()),
        "chance": chance_scores(y, splits),
        "models": {},
    }
    for model in models:
        if model == "network":
            try:
                from hyperselect.estimators import NeuralNetClassifier  # type: ignore[attr-defined]  # noqa: F401
            except ImportError as exc:
                results["models"][model] = {"skipped": f"hyperselect.estimators is not available ({exc})"}
                continue
        macro, micro, secs = [], [], []
        searches: list[dict[str, Any]] = []
        for r, (tr, te) in enumerate(splits):
            t0 = time.perf_counter()
            scores = _scores(
                model,
                x[tr],
                y[tr],
                x[te],
                random_state + r,
                n_jobs,
                C=C,
                normalize=normalize,
                network_trials=int(network_trials),
                searches=searches,
            )
            pred = top_k_predictions(scores, y[te].sum(axis=1))
            macro.append(macro_f1(y[te], pred))
            micro.append(f1_score(y[te], pred, average="micro", zero_division=0))
            secs.append(time.perf_counter() - t0)
        results["models"][model] = {
            "macro_f1": float(np.mean(macro)),
            "macro_f1_std": float(np.std(macro)),
            "micro_f1": float(np.mean(micro)),
            "micro_f1_std": float(np.std(micro)),
            "seconds_per_repeat": float(np.mean(secs)),
        }
        if model == "logreg":
            results["models"][model].update(C=C, normalize=normalize)
        if model == "network":
            results["models"][model]["searched_trials"] = int(network_trials)
            if searches:
                results["models"][model]["searches"] = searches
    return results


def chance_scores(y: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Macro/Micro-F1 of the majority baseline on the same splits: every test node is given the label(s) most
    frequent among the training nodes (its top-k of them on a multi-label graph, k its true number).  The
    floor a classifier must clear: a score near it means the classifier predicts one class."""
    from sklearn.metrics import f1_score

    macro, micro = [], []
    for tr, te in splits:
        freq = np.asarray(y[tr], dtype=np.float64).mean(axis=0)
        pred = top_k_predictions(np.tile(freq, (len(te), 1)), y[te].sum(axis=1))
        macro.append(macro_f1(y[te], pred))
        micro.append(float(f1_score(y[te], pred, average="micro", zero_division=0)))
    return {"macro_f1": float(np.mean(macro)), "micro_f1": float(np.mean(micro))}


def labelled_rows(
    labels: NodeLabels,
    nodes: Sequence[str],
    embedded: np.ndarray | None = None,
    *,
    unembedded: str = _NO_EMBEDDING,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows of ``nodes`` to score, their label indicators and the classes (columns) that are scored.

    Labelled nodes outside the graph (label-only) or without an embedding are left out with a warning (see
    :meth:`NodeLabels.align`), and so are the classes left with no node: Macro-F1 would count each as an F1 of
    0 that no classifier can change.  Fewer than two classes left is an error naming the file and the class:
    one class is scored 1.0 by any classifier, which says nothing.
    """
    rows, y = labels.align(nodes, embedded, unembedded=unembedded)
    if len(rows) == 0:
        raise DataError(f"{labels.source}: no labelled node is in the graph with an embedding.")
    present = np.asarray(y.any(axis=0), dtype=bool)
    classes = [c for c, ok in zip(labels.classes, present.tolist(), strict=True) if ok]
    empty = [c for c, ok in zip(labels.classes, present.tolist(), strict=True) if not ok]
    if len(classes) < 2:
        if not empty:
            raise DataError(
                f"{labels.source}: every labelled node has the class {classes[0]!r}; node classification needs "
                "at least two classes."
            )
        raise DataError(
            f"{labels.source}: only the class {classes[0]!r} has labelled nodes in the graph ({len(empty)} "
            f"other class(es) have none, e.g. {empty[:3]}); node classification needs at least two classes."
        )
    if empty:
        warnings.warn(
            f"{labels.source}: {len(empty)} class(es) have no labelled node left in the graph (e.g. "
            f"{empty[:3]}); they are left out of the scores ({len(classes)} classes scored).",
            GraphDataWarning,
            stacklevel=2,
        )
        y = y[:, present]
    return rows, y, classes


def labelled_matrix(
    embeddings: np.ndarray, nodes: Sequence[str], labels: NodeLabels, *, directed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Embedding rows and label indicators for the labelled nodes that could be embedded (others reported),
    over the classes that have such a node (see :func:`labelled_rows`)."""
    embedded = ~np.isnan(embeddings).any(axis=1)
    why = "were not embedded (no edges, or no walk reached them)" if directed else _NO_EMBEDDING
    rows, y, _ = labelled_rows(labels, nodes, embedded, unembedded=why)
    return embeddings[rows], y


@dataclass
class TuneResult:
    """The best configuration, its validation score, and every trial (failed ones with their reason).

    ``interrupted``: the search was stopped by Ctrl-C (see :class:`TuneInterrupted`) after
    :attr:`completed_trials` of the ``n_trials`` asked for; ``best_params`` and ``best_score`` are then the best
    of those, ``None`` when none had finished.
    """

    best_params: dict[str, Any] | None
    best_score: float | None
    trials: list[dict[str, Any]] = field(default_factory=list)
    walk_sets: int = 0
    seconds: float = 0.0
    n_trials: int | None = None
    interrupted: bool = False
    #: what the reader of the result should know about how it was obtained, one sentence each
    notes: list[str] = field(default_factory=list)
    #: node2vec's threads (walks and skip-gram) and the classifiers' parallel jobs the search ran with
    workers: int | None = None
    classifier_jobs: int | None = None

    @property
    def completed_trials(self) -> int:
        """Distinct configurations trained and scored (repeats answered from the cache are not counted)."""
        return sum("score" in t and not t.get("cached") for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "best_params": self.best_params,
            "best_validation_macro_f1": self.best_score,
            "trials": self.trials,
            "walk_sets_generated": self.walk_sets,
            "seconds": self.seconds,
            "n_trials": self.n_trials,
            "completed_trials": self.completed_trials,
            "interrupted": self.interrupted,
            "notes": list(self.notes),
            "workers": self.workers,
            "classifier_jobs": self.classifier_jobs,
        }
        if self.interrupted:
            out["note"] = (
                f"interrupted (Ctrl-C) after {self.completed_trials} of {self.n_trials} trials completed; "
                + (
                    "best_params is the best of those."
                    if self.best_params is not None
                    else "no trial had finished, so there is no best."
                )
            )
        return out


class TuneInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`tune_node2vec`; ``result`` holds the trials finished before it (``interrupted``).

    A :class:`KeyboardInterrupt`, so a caller that does not look for it is interrupted as by any Ctrl-C.
    """

    def __init__(self, result: TuneResult) -> None:
        super().__init__(f"tuning interrupted after {result.completed_trials} completed trial(s)")
        self.result = result


def tune_node2vec(
    graph: Graph,
    labels: NodeLabels,
    *,
    n_trials: int = 12,
    p_values: Sequence[float] = P_VALUES,
    q_values: Sequence[float] = Q_VALUES,
    dimensions: Sequence[int] = (128,),
    C_values: Sequence[float] = (1.0, 3.0, 10.0, 30.0, 100.0),
    normalize_values: Sequence[bool] = (False, True),
    validation_fraction: float = 0.1,
    validation_repeats: int = 3,
    train_fraction: float | None = 0.5,
    walk_length: int = 80,
    num_walks: int = 10,
    window: int = 10,
    epochs: int = 3,
    workers: int | None = None,
    random_state: int = 0,
    on_trial: Callable[[dict[str, Any], int, int], None] | None = None,
    n_jobs: int | None = None,
    max_jobs: int | None = None,
) -> TuneResult:
    """Select p, q (and the dimension) with Optuna's TPE sampler against a validation Macro-F1, together with
    the logistic regression's regularisation ``C`` and row normalisation.

    As in the paper, ``validation_fraction`` of the labelled nodes is held out and scored by a logistic
    regression trained on the other labelled nodes; this is done for ``validation_repeats`` held-out slices
    (disjoint while they fit, about 1 / ``validation_fraction`` of them; later ones are drawn afresh and
    overlap, which the result's ``notes`` say) and the scores averaged.  One slice of BlogCatalog (about 1,000 nodes, 39 labels, many rare) scores
    Macro-F1 to about +-0.01, as much as the differences between good (p, q, C) choices, so the best of a
    dozen trials on one slice is mostly the luckiest: selected that way, the winner scored 0.285 on its
    slice and 0.245 on the test protocol.  The classifier of a validation slice is trained on ``train_fraction``
    of the labelled nodes (drawn from the others; ``None``: all the others), the share the evaluation protocol
    trains on, because the best regularisation depends on it: trained on all other 90 % of BlogCatalog's labels
    the grid chose C=100 every time, which at 50 % training labels scored below C=10.  Walks depend only on (p, q), so they are generated once
    per pair and reused by every dimension; a repeated configuration is answered from the cache and does not
    count: ``n_trials`` distinct configurations are trained (at most the whole grid).

    Every trained embedding is scored with each cell of the small grid ``C_values`` x ``normalize_values``
    (``normalize``: each row scaled to unit L2 norm before the classifier); the trial's value is its best cell,
    recorded as the trial's ``C`` and ``normalize``, and ``best_params`` carries the best trial's choice so that
    the test protocol (:func:`evaluate_embeddings`) uses the same classifier.  Why: Macro-F1 weighs every label
    equally, and on a multi-label graph with many rare labels the rare ones are decided by the regularisation.
    On one BlogCatalog embedding (p=1, q=0.5, 128 dimensions, 3 random 50% splits) the classifier alone moved
    Macro-F1 from 0.229 (raw rows, C=1, scikit-learn's default) to 0.244 (raw, C=10) and 0.253 (unit rows,
    C=10), as much as the choice of p and q.  The extra fits are cheap next to an embedding (about 1 s each
    against about 35 s on BlogCatalog).

    ``epochs`` (skip-gram passes over the walks, for every trial) defaults to 3, not the paper's 1: on
    BlogCatalog (one p=1, q=0.5 walk set, each embedding's best classifier cell, 3 random 50% splits) Macro-F1
    was 0.247 at 1 epoch, 0.271 at 3 and 0.268 at 5, and the whole selection landed at 0.247 on the test
    protocol with 1 epoch against 0.267 with 3 (``benchmarks/results/node2vec_tuned_blogcatalog*.json``).
    One SGD pass leaves the vectors of rarely visited nodes, which decide Macro-F1's rare labels, undertrained.

    Each trial's walks and skip-gram are seeded as ``Node2Vec(random_state=random_state, ensemble=1)`` seeds
    its one member (:func:`~hyperselect.represent.node2vec.model.member_seeds`), with the same walk length,
    window and negative samples, so that ``Node2Vec(p=..., q=..., dimensions=..., num_walks=num_walks,
    epochs=epochs, ensemble=1, random_state=random_state)`` trains the embedding a trial scored.

    ``workers``: node2vec's threads for the walks and the skip-gram (``None``: every usable CPU; only 1 makes the
    search bit-identical from run to run).  ``n_jobs``: the classifiers' parallel jobs, a separate knob because
    they are processes, each with its own memory, and never run while node2vec does (``None``: chosen by
    :func:`classifier_jobs` from the validation classifier's data, at most ``max_jobs``, default the usable
    CPUs).  The result records both.

    ``on_trial(record, done, total)`` is called after each configuration is trained and scored (``record`` as
    in ``trials``; ``done`` of ``total`` distinct configurations) and after each failed one.  Ctrl-C stops the
    search cleanly: :class:`TuneInterrupted` (a ``KeyboardInterrupt``) is raised with the result of the
    trials finished so far, marked ``interrupted``.
    """
    check_params(
        "tune_node2vec",
        {
            "n_trials": n_trials,
            "walk_length": walk_length,
            "num_walks": num_walks,
            "window": window,
            "epochs": epochs,
            "workers": workers,
            "n_jobs": n_jobs,
            "max_jobs": max_jobs,
            "random_state": random_state,
            "dimensions": tuple(dimensions),
        },
        _TUNE_CONSTRAINTS,
    )
    n_jobs = _check_jobs("tune_node2vec", n_jobs, max_jobs)
    C_grid = [_check_C(c) for c in C_values]
    norm_grid = [_check_normalize(v) for v in normalize_values]
    if not C_grid or not norm_grid:
        raise ConfigError("C_values and normalize_values must each hold at least one value.")
    t_start = time.perf_counter()
    walks_cache: dict[tuple[float, float], np.ndarray] = {}
    score_cache: dict[tuple[float, float, int], dict[str, Any]] = {}
    embedded = graph.degree > 0
    why = "have no outgoing edge (tuning scores only the nodes that start walks)" if graph.directed else ""
    rows, y, _ = labelled_rows(labels, graph.nodes, embedded, unembedded=why or _NO_EMBEDDING)
    if len(rows) < 10:
        raise DataError(f"Only {len(rows)} labelled nodes: too few to hold out a validation set for tuning.")
    if not 0 < validation_fraction < 1:
        raise ConfigError(f"validation_fraction must be in (0, 1). Got {validation_fraction!r}.")
    if (
        isinstance(validation_repeats, bool)
        or not isinstance(validation_repeats, int)
        or validation_repeats < 1
    ):
        raise ConfigError(f"validation_repeats must be an integer >= 1. Got {validation_repeats!r}.")
    if train_fraction is not None and not (
        0 < train_fraction < 1 and train_fraction + validation_fraction <= 1
    ):
        raise ConfigError(
            "train_fraction must be None or in (0, 1) with train_fraction + validation_fraction <= 1. "
            f"Got {train_fraction!r} (validation_fraction {validation_fraction!r})."
        )
    optuna = __import__("optuna")

    from hyperselect.represent.node2vec.model import member_seeds
    from hyperselect.represent.node2vec.skipgram import train_skipgram
    from hyperselect.represent.node2vec.walks import generate_walks, usable_cpus
    from hyperselect.search.interrupt import stop_on_interrupt

    threads = int(workers or usable_cpus())  # node2vec's

    seed = member_seeds(random_state, 1)[0]  # Node2Vec's one member: graph classify reproduces the embedding

    rng = np.random.default_rng(random_state)
    perm = rng.permutation(len(rows))
    n_val = max(2, round(validation_fraction * len(rows)))
    n_fit = None if train_fraction is None else max(2, round(train_fraction * len(rows)))
    # disjoint held-out slices of one permutation while they fit, fresh permutations after that
    notes: list[str] = []
    disjoint = len(rows) // n_val
    if validation_repeats > disjoint:
        notes.append(
            f"validation repeats {validation_repeats}: only {disjoint} disjoint validation slices of {n_val} "
            f"labelled nodes fit; the other {validation_repeats - disjoint} "
            + (
                "is drawn afresh and overlaps"
                if validation_repeats - disjoint == 1
                else "are drawn afresh and overlap"
            )
            + " them"
        )
    splits = []
    for r in range(validation_repeats):
        start = r * n_val
        if start + n_val > len(rows):
            perm, start = rng.permutation(len(rows)), 0
        val = perm[start : start + n_val]
        rest = np.setdiff1d(perm, val, assume_unique=True)
        fit = rest if n_fit is None else rng.permutation(rest)[: min(n_fit, len(rest))]
        splits.append((val, fit))
    if n_jobs is None:  # sized by the validation classifier's training rows and the widest embedding
        n_jobs = classifier_jobs(len(splits[0][1]), max(dimensions), y.shape[1], max_jobs=max_jobs)
    jobs = int(n_jobs)
    trials: list[dict[str, Any]] = []

    def classifier_cells(x: np.ndarray) -> list[dict[str, Any]]:
        """Validation Macro-F1 of every (normalize, C) cell for one embedding, in grid order: the mean over
        the validation splits (each cell's per-split scores under ``"splits"``)."""
        cells = []
        for norm in norm_grid:
            for c in C_grid:
                f1s = []
                for val, tr in splits:
                    scores = _scores("logreg", x[tr], y[tr], x[val], random_state, jobs, C=c, normalize=norm)
                    pred = top_k_predictions(scores, y[val].sum(axis=1))
                    f1s.append(macro_f1(y[val], pred))
                cells.append({"C": c, "normalize": norm, "score": float(np.mean(f1s)), "splits": f1s})
        return cells

    interrupted: list[int] = []  # the trial Ctrl-C cut short (none: it fell between trials)

    def objective(trial: Any) -> float:
        try:
            return run_trial(trial)
        except Exception as exc:  # Optuna records the state, not the reason: keep it for the trial list
            reason = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("fail_reason", reason)
            if on_trial is not None:
                failed = {
                    "number": trial.number,
                    **trial.params,
                    "failed": "TrialState.FAIL",
                    "reason": reason,
                }
                on_trial(failed, len(score_cache), distinct)
            raise

    def run_trial(trial: Any) -> float:
        p = float(trial.suggest_categorical("p", list(p_values)))
        q = float(trial.suggest_categorical("q", list(q_values)))
        dim = int(trial.suggest_categorical("dimensions", list(dimensions)))
        key = (p, q, dim)
        record: dict[str, Any] = {"number": trial.number, "p": p, "q": q, "dimensions": dim}
        t0 = time.perf_counter()
        if key in score_cache:
            return finish(trial, record, score_cache[key], cached=True, seconds=0.0)
        reused = (p, q) in walks_cache
        if not reused:
            walks_cache[(p, q)] = generate_walks(
                graph,
                num_walks=num_walks,
                walk_length=walk_length,
                p=p,
                q=q,
                random_state=seed,
                workers=threads,
            ).walks
        emb = train_skipgram(
            walks_cache[(p, q)],
            graph.n_nodes,
            dimensions=dim,
            window=window,
            epochs=epochs,
            workers=threads,
            seed=seed,
        ).vectors
        cells = classifier_cells(emb[rows])
        best = max(cells, key=lambda cell: cell["score"])  # the first of equal cells, in grid order
        score_cache[key] = best
        logger.info(
            "tune trial %d: p=%g q=%g dim=%d -> validation Macro-F1 %.4f (C=%g, normalize=%s)",
            trial.number,
            p,
            q,
            dim,
            best["score"],
            best["C"],
            best["normalize"],
        )
        value = finish(
            trial,
            record,
            best,
            classifier_scores=cells,
            walks_reused=reused,
            seconds=time.perf_counter() - t0,
        )
        if on_trial is not None:
            on_trial(record, len(score_cache), distinct)
        return value

    def finish(trial: Any, record: dict[str, Any], best: dict[str, Any], **extra: Any) -> float:
        """Record a trial's best classifier cell (on the Optuna trial too, for ``best_params``)."""
        trial.set_user_attr("C", best["C"])
        trial.set_user_attr("normalize", best["normalize"])
        record.update(score=best["score"], C=best["C"], normalize=best["normalize"], **extra)
        trials.append(record)
        return float(best["score"])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=random_state))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # n_trials counts distinct configurations: TPE on a small categorical grid often proposes a point again,
    # which is answered from the cache at no cost and must not use up the budget (the grid bounds the loop)
    distinct = min(int(n_trials), len(p_values) * len(q_values) * len(dimensions))

    def enough(study: Any, trial: Any) -> None:
        failed = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
        if len(score_cache) + failed >= distinct:
            study.stop()

    try:
        # Ctrl-C in a trial stops the study with that trial closed as pruned, not logged as failed
        study.optimize(
            stop_on_interrupt(objective, interrupted),
            n_trials=20 * distinct,
            catch=(Exception,),
            callbacks=[enough],
        )
    except KeyboardInterrupt:  # Ctrl-C outside a trial (the sampler, a callback): the finished trials stand
        interrupted.append(-1)
    trials[:] = [r for r in trials if r["number"] not in interrupted]  # a trial cut short after its record
    for t in study.trials:  # failures are recorded with their reason, never swallowed
        if t.state == optuna.trial.TrialState.COMPLETE:
            continue
        if t.number in interrupted or t.state == optuna.trial.TrialState.RUNNING:
            trials.append(
                {"number": t.number, **t.params, "interrupted": True, "reason": "interrupted (Ctrl-C)"}
            )
        else:
            trials.append(
                {
                    "number": t.number,
                    **t.params,
                    "failed": str(t.state),
                    "reason": t.user_attrs.get("fail_reason"),
                }
            )
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed and not interrupted:
        raise DataError("Every tuning trial failed; see the trial reasons in the log.")
    best_trial = max(completed, key=lambda t: float(t.value)) if completed else None  # the first of equals
    result = TuneResult(
        best_params=None
        if best_trial is None
        else {
            **best_trial.params,
            "C": best_trial.user_attrs["C"],
            "normalize": best_trial.user_attrs["normalize"],
        },
        best_score=None if best_trial is None else float(best_trial.value),
        trials=trials,
        walk_sets=len(walks_cache),
        seconds=time.perf_counter() - t_start,
        n_trials=distinct,
        interrupted=bool(interrupted),
        notes=notes,
        workers=threads,
        classifier_jobs=jobs,
    )
    if interrupted:
        raise TuneInterrupted(result)
    return result
