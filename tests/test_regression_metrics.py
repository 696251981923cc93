"""Regression scored by an error in the target's units: ``--metric neg_mae`` / ``neg_rmse`` (minus scikit-learn's
mean absolute / root mean squared error, maximised like every score)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from typer.testing import CliRunner

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.tasks import Task
from hyperselect.train.metrics import check_metric, check_metric_name, score_from_logits
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun

SKLEARN = {"neg_mae": mean_absolute_error, "neg_rmse": root_mean_squared_error}
#: the target's scale: far from 1, so a score left in standardised units is caught
MEAN, SD = 500.0, 120.0


def _regression(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.standard_t(2, size=n)  # heavy tails: outliers
    return X, (MEAN + SD * y / y.std()).astype(np.float64)


def _predict(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(X)).double().numpy()[:, 0]


@pytest.mark.parametrize("metric", ["neg_mae", "neg_rmse"])
def test_population_members_and_single_networks_score_in_the_targets_units(metric: str) -> None:
    """After one epoch on the standardised target, a population member's validation score equals the same
    network trained alone and scikit-learn's error of its predictions taken back to the target's units."""
    X, y = _regression()
    m, s = float(y[:180].mean()), float(y[:180].std())
    z = (y - m) / s
    Xtr, ztr, Xva, zva = X[:180], z[:180], X[180:], z[180:]
    configs = [
        MLPConfig(hidden=(16,), lr=lr, max_epochs=1, patience=None, batch_size=32) for lr in (1e-3, 3e-2)
    ]
    pop = PopulationTrainer(
        configs, Xtr, ztr, Xva, zva, task="regression", seeds=[0, 1], metric=metric, y_scale=s
    )
    pop.run_epochs(1)
    for i, config in enumerate(configs):
        (member,) = pop.history(i).valid_score
        truth = SKLEARN[metric](y[180:], _predict(pop.result(i).model, Xva) * s + m)
        assert member == pytest.approx(-truth, rel=1e-5)
        run = NetworkRun(
            config,
            Xtr,
            ztr,
            Xva,
            zva,
            task="regression",
            random_state=i,
            data_seed=0,
            metric=metric,
            y_scale=s,
        )
        run.run_epochs(1)
        (alone,) = run.history.valid_score
        assert alone == pytest.approx(member, rel=1e-5)
        assert alone == pytest.approx(-SKLEARN[metric](y[180:], _predict(run.model, Xva) * s + m), rel=1e-5)
        assert abs(member) > 5.0  # in the target's units (sd 120), not the standardised target's (about 1)
    # several targets: the mean of the targets' errors, as scikit-learn's uniform average
    rng = np.random.default_rng(1)
    yt, yp = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    got = score_from_logits(torch.as_tensor(yp), torch.as_tensor(yt), Task.REGRESSION, metric, 2.0)
    assert got == pytest.approx(-2.0 * SKLEARN[metric](yt, yp))


def test_the_names_and_the_errors_that_list_them() -> None:
    assert check_metric("neg_mae", "regression") == "neg_mae"
    # scikit-learn's scoring names are read as ours
    assert check_metric("neg_mean_absolute_error", "regression") == "neg_mae"
    assert check_metric("neg_root_mean_squared_error", "regression") == "neg_rmse"
    with pytest.raises(
        ConfigError, match=r"'neg_mae' does not apply to a binary task; expected one of accuracy"
    ):
        check_metric("neg_mae", "binary")
    with pytest.raises(
        ConfigError,
        match=r"'accuracy' does not apply to a regression task; expected one of "
        r"r2, neg_mae, neg_rmse\.",
    ):
        check_metric("accuracy", "regression")
    with pytest.raises(
        ConfigError,
        match=r"--metric: unknown metric 'mae'; expected one of .*r2, neg_mae, "
        r"neg_rmse \(or scikit-learn's neg_mean_absolute_error for neg_mae",
    ):
        check_metric_name("mae", "--metric")


def _csv(tmp_path: Path, n: int = 240) -> Path:
    X, y = _regression(n)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["price"] = y
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_records_the_error_score_in_the_targets_units(tmp_path: Path) -> None:
    """``train --metric neg_mae``: the history's validation score is minus the validation MAE that the
    metrics table reports (the best epoch's model), in the target's units."""
    from hyperselect.cli import app

    csv = _csv(tmp_path)
    out = tmp_path / "run"
    args = ["train", str(csv), "--target", "price", "--metric", "neg_mae", "--set", "max_epochs=4"]
    res = CliRunner().invoke(app, [*args, "--set", "early_stopping_metric=valid_score", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["metric"] == "neg_mae" and doc["command"]["metric"] == "neg_mae"
    best = doc["history"]["valid_score"][doc["best_epoch"]]
    assert best == pytest.approx(-doc["metrics"]["valid_mae"], rel=1e-4)
    assert best == max(doc["history"]["valid_score"])  # early stopping kept the lowest MAE
    assert f"(valid MAE {-best:.4f})" in res.output
    wrong = CliRunner().invoke(app, [*args[:4], "--metric", "f1_macro", "--out", str(tmp_path / "no")])
    assert wrong.exit_code == 1 and "'f1_macro' does not apply to a regression task" in wrong.output
    assert "Traceback" not in wrong.output and not (tmp_path / "no").exists()


def test_tune_maximises_the_error_score(tmp_path: Path) -> None:
    from hyperselect.cli import app

    csv = _csv(tmp_path)
    out = tmp_path / "tune"
    args = ["tune", str(csv), "--target", "price", "--trials", "2", "--max-epochs", "3"]
    res = CliRunner().invoke(app, [*args, "--metric", "neg_root_mean_squared_error", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["score_name"] == "neg_rmse" and "test_neg_rmse" in doc["test_metrics"]
    # in the target's units (sd 120): a score left in standard deviations would be about -1
    assert doc["best_valid_score"] < -5
    tm = doc["test_metrics"]
    assert tm["test_neg_rmse"] == pytest.approx(-tm["test_rmse"], rel=1e-5)
    assert (out / "trials.csv").exists()
    unknown = CliRunner().invoke(app, [*args, "--metric", "mae"])
    assert (
        unknown.exit_code == 1
        and "expected one of accuracy" in unknown.output
        and "neg_mae" in unknown.output
    )


def test_compare_judges_by_the_error_score_against_the_best_constant(tmp_path: Path) -> None:
    """``compare --metric neg_mae``: every candidate is scored by minus its MAE in the target's units, the
    constant reference predicts the training median (the constant of least absolute error), and the reasons
    say MAE."""
    from hyperselect.cli import app
    from hyperselect.data import prepare_tabular
    from hyperselect.evaluate import baselines as bl
    from hyperselect.evaluate import compare

    csv = _csv(tmp_path)
    data = prepare_tabular(csv, "price")
    tiny = {"n_trials": 2, "baseline_trials": 2, "n_splits": 3, "n_repeats": 1, "max_epochs": 3}
    v = compare(data, baselines=["linear"], curve_fractions=(0.5, 1.0), metric="neg_mae", **tiny)
    assert v.score_name == "neg_mae"
    chance = next(c for c in v.candidates if c.kind == "reference")
    assert chance.params == {"strategy": "median"}
    y_test = data.y_test * data.y_std + data.y_mean
    median = np.median(data.y_train * data.y_std + data.y_mean)
    assert chance.test_score == pytest.approx(-mean_absolute_error(y_test, np.full(len(y_test), median)))
    est = bl.make_baseline("linear", "regression", v.baseline.params, n_features=data.n_features)
    pred = bl.predict(est.fit(data.X_train, data.y_train), data.X_test)
    assert v.baseline.test_score == pytest.approx(
        -mean_absolute_error(y_test, pred * data.y_std + data.y_mean), rel=1e-6
    )
    assert any(f"vs best baseline (linear) MAE {-v.baseline.cv_mean:.4f}" in r for r in v.reasons)
    assert any("minus the MAE: higher is better" in r for r in v.reasons)
    lc = v.learning_curve
    assert lc is not None and lc.flat_slope == pytest.approx(0.005 * data.y_std)
    assert any("Learning curve" in r and "a gain is a fall of the MAE" in r for r in v.reasons)

    out = tmp_path / "verdict"
    res = CliRunner().invoke(
        app,
        [
            "compare",
            str(csv),
            "--target",
            "price",
            "--metric",
            "neg_rmse",
            "--quick",
            "--max-epochs",
            "3",
            "--trials",
            "2",
            "--baseline-trials",
            "2",
            "--folds",
            "3",
            "--repeats",
            "1",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "verdict.json").read_text())
    assert saved["score_name"] == "neg_rmse"
    assert "RMSE" in res.output and "neg_rmse: minus the RMSE, in the target's units" in res.output
    ref = next(c for c in saved["candidates"] if c["kind"] == "reference")
    assert ref["params"] == {"strategy": "mean"}
    assert math.isfinite(ref["test_score"]) and ref["test_score"] < -1.0  # RMSE in the target's units


def test_error_score_wording_reads_from_the_sentences_subject() -> None:
    """'it scores below linear (by 0.1200 lower MAE' made the network's MAE the lower one; the constant reference's
    'is 0.1200 lower MAE from it' was no sentence, and a zero difference read '0.0000 lower MAE'."""
    from hyperselect.evaluate.verdict import _behind_by, _from_constant
    from hyperselect.train.metrics import diff_text

    # the network's score minus linear's is -0.12 (its MAE is 0.12 higher): it trails by a higher MAE
    assert _behind_by("neg_mae", -0.12) == "0.1200 higher MAE"
    assert _behind_by("r2", -0.03) == "0.0300 r2"
    assert _from_constant("neg_rmse", "svm", 0.12) == "has an RMSE 0.1200 lower than it"
    assert _from_constant("neg_mae", "svm", -0.5) == "has an MAE 0.5000 higher than it"
    assert _from_constant("neg_mae", "svm", 0.0) == "has the same MAE as it"
    assert _from_constant("r2", "svm", 0.03) == "is +0.0300 r2 from it"
    assert diff_text("neg_mae", 0.0) == "no difference in MAE"
    assert (
        diff_text("neg_mae", 0.25) == "0.2500 lower MAE"
        and diff_text("neg_mae", -0.25) == "0.2500 higher MAE"
    )
