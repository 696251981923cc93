"""The validation score a search maximises (``tune(metric=...)``, ``hyperselect tune --metric``)."""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, f1_score
from typer.testing import CliRunner

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.cohort import Cohort
from hyperselect.train.metrics import check_metric, class_scores, score_from_logits
from hyperselect.train.trainer import NetworkRun

SKLEARN = {
    "balanced_accuracy": balanced_accuracy_score,
    "f1_macro": lambda y, p: f1_score(y, p, average="macro"),
}


@pytest.mark.parametrize("metric", ["balanced_accuracy", "f1_macro"])
def test_class_scores_are_scikit_learns(metric: str) -> None:
    """Vectorised over a population's members, with classes missing from the labels, the predictions or both."""
    rng = np.random.default_rng(0)
    for case in range(150):
        c, n = int(rng.integers(2, 6)), int(rng.integers(1, 40))
        y = rng.integers(0, c, n)
        pred = rng.integers(0, c, (4, n))
        pred[0] = y  # a perfect member
        if case % 5 == 0:
            pred[1] = 0  # a constant one
        got = class_scores(torch.tensor(pred), torch.tensor(y), c, metric).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn warns about classes absent from y
            expected = [SKLEARN[metric](y, p) for p in pred]
        np.testing.assert_allclose(got, expected, err_msg=f"y={y} pred={pred}")


def test_check_metric_names_what_fits_the_task() -> None:
    assert check_metric(None, "binary") == "accuracy" and check_metric(None, "regression") == "r2"
    assert check_metric("f1_macro", Task.MULTICLASS) == "f1_macro"
    with pytest.raises(
        ConfigError, match=r"'r2' does not apply to a binary task; expected one of accuracy, bal"
    ):
        check_metric("r2", "binary")
    with pytest.raises(
        ConfigError, match=r"Unknown metric 'auc'; expected one of accuracy, balanced_accuracy"
    ):
        check_metric("auc", "binary")


def _imbalanced(n: int = 600, classes: int = 2) -> tuple[np.ndarray, ...]:
    weights = [0.85, 0.15] if classes == 2 else [0.7, 0.2, 0.1]
    X, y = make_classification(
        n_samples=n, n_features=8, n_informative=5, n_classes=classes, weights=weights, random_state=0
    )
    X = X.astype(np.float32)
    return X[:400], y[:400], X[400:], y[400:]


def _predict(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(X))
    return ((logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)).numpy()


@pytest.mark.parametrize("classes", [2, 3])
def test_populations_and_single_networks_score_members_by_the_metric(classes: int) -> None:
    """After one epoch, every member's validation score is scikit-learn's balanced accuracy of that member's
    predictions: stacked members (the population's own scoring) and a network trained alone alike."""
    Xtr, ytr, Xva, yva = _imbalanced(classes=classes)
    task = "binary" if classes == 2 else "multiclass"
    configs = [
        MLPConfig(hidden=(16,), lr=lr, max_epochs=1, patience=None, batch_size=32)
        for lr in (1e-3, 3e-3, 3e-2)
    ]
    cohort = Cohort(configs, Xtr, ytr, Xva, yva, task=task, mode="population", metric="balanced_accuracy")
    cohort.run_epochs(1)
    scores = []
    for i in range(len(configs)):
        pred = _predict(cohort.result(i).model, Xva)
        (score,) = cohort.valid_scores(i)
        assert score == pytest.approx(balanced_accuracy_score(yva, pred), abs=1e-9)
        scores.append(score)
    assert len(set(scores)) > 1
    run = NetworkRun(configs[1], Xtr, ytr, Xva, yva, task=task, metric="f1_macro")
    run.run_epochs(1)
    (score,) = run.history.valid_score
    assert score == pytest.approx(f1_score(yva, _predict(run.result().model, Xva), average="macro"), abs=1e-9)
    # the default stays the task's: accuracy
    logits = torch.randn(len(yva), classes if classes > 2 else 1)
    assert score_from_logits(logits, torch.as_tensor(yva), Task(task)) == pytest.approx(
        float(np.mean(_predict(torch.nn.Identity(), logits.numpy()) == yva))
    )


@contextlib.contextmanager
def _study_warnings() -> Iterator[list[str]]:
    """The messages hyperselect.search.study logs at WARNING while the block runs."""
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING and "stored settings" in record.getMessage():
                said.append(record.getMessage())

    logger = logging.getLogger("hyperselect.search.study")
    handler = Keep()
    logger.addHandler(handler)
    try:
        yield said
    finally:
        logger.removeHandler(handler)


def test_tune_maximises_the_metric_and_reports_it(tmp_path: Path) -> None:
    from hyperselect.data import prepare_tabular
    from hyperselect.search import tune
    from hyperselect.search.study import study_settings

    Xtr, ytr, Xva, yva = _imbalanced(900)
    frame = pd.DataFrame(np.vstack([Xtr, Xva]), columns=[f"f{i}" for i in range(8)])
    frame["label"] = np.where(np.concatenate([ytr, yva]) == 1, "rare", "common")
    csv = tmp_path / "imbalanced.csv"
    frame.to_csv(csv, index=False)
    data = prepare_tabular(csv, "label")
    result = tune(data, n_trials=4, max_epochs=4, metric="balanced_accuracy")
    assert result.score_name == "balanced_accuracy"
    assert {"test_accuracy", "test_balanced_accuracy"} <= set(result.test_metrics)
    assert study_settings(result.study).metric == "balanced_accuracy"  # type: ignore[arg-type]
    saved = result.to_dict()
    assert saved["score_name"] == "balanced_accuracy"
    # the task's own score is the default, stored as None (as studies from before the option)
    plain = tune(data, n_trials=2, max_epochs=2, metric="accuracy")
    assert plain.score_name == "accuracy" and study_settings(plain.study).metric is None  # type: ignore[arg-type]

    # a resume goes on with the study's metric: without --metric silently, with another one it says so
    journal = str(tmp_path / "study.journal")
    tune(data, n_trials=2, max_epochs=2, metric="f1_macro", storage=journal, study_name="m", refit=False)
    with warnings.catch_warnings(), _study_warnings() as said:
        warnings.simplefilter("ignore")
        again = tune(
            data, n_trials=3, max_epochs=2, storage=journal, study_name="m", resume=True, refit=False
        )
        assert again.score_name == "f1_macro" and not said
        tune(data, n_trials=4, max_epochs=2, metric="accuracy", storage=journal, study_name="m", resume=True)
        assert len(said) == 1 and "metric 'accuracy' (stored 'f1_macro')" in said[0]

    from hyperselect.cli import app

    out = tmp_path / "run"
    args = [
        "tune",
        str(csv),
        "--target",
        "label",
        "--trials",
        "3",
        "--max-epochs",
        "3",
        "--metric",
        "f1_macro",
    ]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = json.loads((out / "result.json").read_text())
    assert written["score_name"] == "f1_macro" and "test_f1_macro" in written["test_metrics"]
    assert "valid f1_macro" in res.output and "note: the smallest class" not in res.output
    advice = CliRunner().invoke(app, ["advise", str(csv), "--target", "label"])
    assert advice.exit_code == 0
    assert "note: the smallest class" not in advice.output  # 15 % of the rows: above the hint's 10 %
    bad = CliRunner().invoke(
        app, ["tune", str(csv), "--target", "label", "--metric", "r2", "--out", str(tmp_path / "bad")]
    )
    assert bad.exit_code == 1 and "'r2' does not apply to a binary task" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "bad").exists()
    for command in ("tune", "compare"):
        unknown = CliRunner().invoke(app, [command, str(csv), "--target", "label", "--metric", "auc"])
        assert (
            unknown.exit_code == 1
            and "--metric: unknown metric 'auc'; expected one of accuracy" in unknown.output
        )


def test_the_verdicts_scores_follow_the_metric() -> None:
    """compare(metric=...) tunes, cross-validates and tests every candidate by that score: a majority-class
    predictor scores the share of the majority in accuracy but 0.5 in balanced accuracy."""
    from hyperselect.data import prepare_arrays
    from hyperselect.evaluate import baselines as bl
    from hyperselect.evaluate import compare
    from hyperselect.evaluate.metrics import score

    y = np.array([0] * 90 + [1] * 10)
    majority = np.zeros(100, dtype=int)
    assert score("binary", y, majority) == 0.9
    assert score("binary", y, majority, "balanced_accuracy") == 0.5
    assert score("binary", y, majority, "f1_macro") == pytest.approx(f1_score(y, majority, average="macro"))

    Xtr, ytr, Xva, yva = _imbalanced(500)
    data = prepare_arrays(np.vstack([Xtr, Xva]), np.concatenate([ytr, yva]), name="imbalanced")
    tiny = {"n_trials": 2, "baseline_trials": 2, "n_splits": 3, "n_repeats": 1, "max_epochs": 3}
    v = compare(data, baselines=["linear"], curve_fractions=(0.5, 1.0), metric="balanced_accuracy", **tiny)
    assert v.score_name == "balanced_accuracy" and any("balanced_accuracy 0." in r for r in v.reasons)
    # the linear baseline's test score is its balanced accuracy, not its accuracy
    fit = bl.tune_baseline(
        "linear",
        data.X_train,
        data.y_train,
        data.X_valid,
        data.y_valid,
        task="binary",
        n_trials=2,
        metric="balanced_accuracy",
    )
    pred = bl.predict(fit.estimator, data.X_test)
    assert v.baseline.test_score == pytest.approx(balanced_accuracy_score(data.y_test, pred))
    assert v.baseline.test_score != pytest.approx(float(np.mean(pred == data.y_test)))
    with pytest.raises(ConfigError, match="'r2' does not apply to a binary task"):
        compare(data, metric="r2", **tiny)


def test_an_imbalanced_table_gets_the_hint_towards_a_balanced_metric(tmp_path: Path) -> None:
    from hyperselect.cli import app
    from hyperselect.data import prepare_arrays
    from hyperselect.train.metrics import imbalance_hint

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.array(["fraud"] * 20 + ["ok"] * 380)
    hint = imbalance_hint(prepare_arrays(X, y))
    assert (
        hint is not None
        and hint.startswith("the smallest class, 'fraud', is 5.")
        and "balanced_accuracy" in hint
    )
    assert imbalance_hint(prepare_arrays(X, np.array(["a", "b"] * 200))) is None
    assert imbalance_hint(prepare_arrays(X, X[:, 0], task="regression")) is None
    # ten nearly equal classes hold under 10 % each: not an imbalance (digits' smallest class is 9.7 %)
    from hyperselect.data import load_builtin

    assert imbalance_hint(load_builtin("digits")) is None
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = y
    csv = tmp_path / "fraud.csv"
    frame.to_csv(csv, index=False)
    advice = CliRunner().invoke(app, ["advise", str(csv), "--target", "label"])
    assert advice.exit_code == 0 and "note: the smallest class, 'fraud'" in advice.output
    common = ["tune", str(csv), "--target", "label", "--trials", "2", "--max-epochs", "2"]
    plain = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0 and "--metric balanced_accuracy (or f1_macro)" in plain.output
    chosen = CliRunner().invoke(app, [*common, "--metric", "f1_macro", "--out", str(tmp_path / "b")])
    assert chosen.exit_code == 0 and "note: the smallest class" not in chosen.output
    # compare says it as soon as it has read the data (here before it refuses a budget of no trials)
    verdict = CliRunner().invoke(app, ["compare", str(csv), "--target", "label", "--trials", "0"])
    assert verdict.exit_code == 1 and "note: the smallest class, 'fraud'" in verdict.output
