"""The verdict: statistics against known values, baselines, and the verdict on digits, mnist1d and a regression.

The end-to-end checks run with reduced budgets (few trials, one round of 5-fold CV, single-threaded) so they
stay fast on two shared cores; the full mnist1d run with the demo's budgets is marked ``slow``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from scipy import stats
from typer.testing import CliRunner

from hyperselect.data import load_builtin, prepare_arrays
from hyperselect.errors import ConfigError, DataError
from hyperselect.evaluate import (
    RECOMMENDATIONS,
    Verdict,
    compare,
    corrected_resampled_ttest,
    count_stored_numbers,
    holm,
    make_baseline,
    paired_ftest_5x2cv,
    render_verdict,
    score,
    select_baselines,
    slope_per_doubling,
    tune_baseline,
)
from hyperselect.evaluate.verdict import FLAT_SLOPE, PREFERENCE_BASES, LearningCurve, network_win_p
from hyperselect.tasks import Task

# --------------------------------------------------------------------------------------------- statistics


def test_corrected_ttest_known_value() -> None:
    # d = 1..5: mean 3, var 2.5; (1/5 + 1/4) * 2.5 = 1.125 -> t = 3 / sqrt(1.125) = 2*sqrt(2), df = 4
    r = corrected_resampled_ttest([1, 2, 3, 4, 5], n_train=4, n_test=1)
    assert r.statistic == pytest.approx(2 * math.sqrt(2))
    assert r.df == (4.0,)
    assert r.p_value == pytest.approx(0.04742, abs=1e-5)  # 2 * P(T_4 > 2.8284)
    half = 2.7764451 * math.sqrt(1.125)  # t_{0.975, 4}
    assert (r.ci_low, r.ci_high) == pytest.approx((3 - half, 3 + half), rel=1e-6)
    assert r.effect_size == pytest.approx(3 / math.sqrt(2.5))


def test_corrected_ttest_reduces_to_plain_ttest_without_overlap() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(0.01, 0.02, size=10)
    r = corrected_resampled_ttest(d, n_train=10**12, n_test=1)
    ref = stats.ttest_1samp(d, 0.0)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-6)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-6)


def test_corrected_ttest_is_more_conservative_than_plain() -> None:
    d = [0.02, 0.01, 0.03, 0.015, 0.025, 0.02, 0.01, 0.03, 0.02, 0.018]
    plain = stats.ttest_1samp(d, 0.0).pvalue
    corrected = corrected_resampled_ttest(d, n_train=900, n_test=100).p_value
    assert corrected > plain


def test_5x2cv_ftest_known_values() -> None:
    # each replication [1, -1]: mean 0, s^2 = 2; F = 10 / (2 * 10) = 0.5 on (10, 5) degrees of freedom
    r = paired_ftest_5x2cv([[1.0, -1.0]] * 5)
    assert r.statistic == pytest.approx(0.5)
    assert r.df == (10.0, 5.0)
    assert r.p_value == pytest.approx(stats.f.sf(0.5, 10, 5))
    assert r.p_value == pytest.approx(0.8358, abs=1e-4)
    # a consistent large difference with little spread is significant
    d = [[0.20, 0.22], [0.21, 0.19], [0.20, 0.21], [0.22, 0.20], [0.19, 0.21]]
    strong = paired_ftest_5x2cv(d)
    num = sum(x * x for row in d for x in row)
    den = 2 * sum((a - (a + b) / 2) ** 2 + (b - (a + b) / 2) ** 2 for a, b in d)
    assert strong.statistic == pytest.approx(num / den)
    assert strong.p_value < 1e-4 and strong.ci_low > 0
    with pytest.raises(ConfigError, match="shape"):
        paired_ftest_5x2cv(np.zeros((2, 5)))


def test_holm_known_values() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_slope_and_scores() -> None:
    n = [100, 200, 400, 800]
    assert slope_per_doubling(n, [0.5 + 0.1 * math.log2(k) for k in n]) == pytest.approx(0.1)
    assert score("multiclass", [0, 1, 2, 2], [0, 1, 1, 2]) == pytest.approx(0.75)
    from sklearn.metrics import r2_score

    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.1, 1.9, 3.2, 3.7])
    assert score(Task.REGRESSION, y, p) == pytest.approx(r2_score(y, p))


def test_network_win_needs_every_baseline() -> None:
    comps = {"a": {"mean_diff": 0.1, "p_value": 0.001}, "b": {"mean_diff": 0.02, "p_value": 0.2}}
    assert network_win_p(comps) == (0.2, "b")
    comps["c"] = {"mean_diff": -0.01, "p_value": 0.5}
    assert network_win_p(comps) == (1.0, "c")


def test_learning_curve_trend() -> None:
    rising = LearningCurve([0.25, 0.5, 1.0], [100, 200, 400], [0.6, 0.7, 0.8], [0.6, 0.61, 0.615], "test")
    assert rising.trend() == "network_improving_faster"  # was "network_pulling_ahead": faster, not ahead
    assert rising.network_last_gain == pytest.approx(0.1)
    flat = LearningCurve([0.5, 1.0], [200, 400], [0.9, 0.901], [0.88, 0.882], "test")
    assert flat.trend() == "both_flat"


# ---------------------------------------------------------------------------------------------- baselines


def test_select_baselines_reasons() -> None:
    names, skipped = select_baselines("regression", 500, 10)
    assert "naive_bayes" in skipped and "naive_bayes" not in names
    names, skipped = select_baselines("multiclass", 50_000, 10)
    assert "svm" in skipped and "rows" in skipped["svm"]
    with pytest.raises(ConfigError, match="Unknown baseline"):
        select_baselines("binary", 10, 2, ["xgboost"])


def test_tune_baseline_starts_from_defaults_and_counts_parameters() -> None:
    d = load_builtin("iris")
    fit = tune_baseline("linear", d.X_train, d.y_train, d.X_valid, d.y_valid, task=d.task, n_trials=4)
    default = make_baseline("linear", d.task).fit(d.X_train, d.y_train)
    assert fit.valid_score >= score(d.task, d.y_valid, default.predict(d.X_valid))
    assert fit.n_trials == 4
    assert count_stored_numbers(fit.estimator) == 3 * 4 + 3  # coefficients + intercepts
    rf = make_baseline("random_forest", d.task, random_state=0).fit(d.X_train, d.y_train)
    assert count_stored_numbers(rf) > 0


def _fraud(n: int = 400, seed: int = 0) -> Any:
    """A binary table whose minority class is 8 % of the rows, learnable from the first feature."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < n * 8 // 100, "fraud", "ok")
    X = rng.normal(size=(n, 4)) + (y == "fraud")[:, None] * np.array([1.5, 0.0, 0.0, 0.0])
    return prepare_arrays(X, y, name="fraud")


def test_baselines_weigh_classes_for_a_class_balanced_metric() -> None:
    from sklearn.base import clone

    from hyperselect.evaluate.baselines import FAMILIES, class_weight_params

    weighted = {"linear", "random_forest", "hist_gradient_boosting", "svm"}
    for name in FAMILIES:
        for task in ("binary", "multiclass"):
            plain = make_baseline(name, task, random_state=0)
            for metric in (None, "accuracy"):  # left exactly as they were
                assert (
                    make_baseline(name, task, random_state=0, metric=metric).get_params()
                    == plain.get_params()
                )
                assert class_weight_params(name, task, metric) == {}
            assert plain.get_params().get("class_weight") is None
            for metric in ("balanced_accuracy", "f1_macro"):
                est = make_baseline(name, task, random_state=0, metric=metric)
                expected = {"class_weight": "balanced"} if name in weighted else {}
                assert class_weight_params(name, task, metric) == expected
                assert est.get_params().get("class_weight") == ("balanced" if name in weighted else None)
                # the rest of the estimator is the plain one
                rest = {k: v for k, v in est.get_params().items() if k != "class_weight"}
                assert rest == {k: v for k, v in plain.get_params().items() if k != "class_weight"}
                assert clone(est).get_params() == est.get_params()
    # a regression has no classes to weigh (whatever is asked)
    assert class_weight_params("linear", "regression", "balanced_accuracy") == {}
    assert "class_weight" not in make_baseline("random_forest", "regression", metric="f1_macro").get_params()


def test_tuned_baselines_keep_the_class_weights_in_their_params() -> None:
    d = _fraud()
    fit = tune_baseline(
        "linear",
        d.X_train,
        d.y_train,
        d.X_valid,
        d.y_valid,
        task=d.task,
        n_trials=3,
        metric="balanced_accuracy",
    )
    assert fit.params["class_weight"] == "balanced" and fit.estimator.class_weight == "balanced"
    assert fit.to_dict()["params"]["class_weight"] == "balanced"
    # the params rebuild the same estimator (what the verdict's refits on folds and subsets do)
    again = make_baseline("linear", d.task, fit.params, n_features=d.n_features)
    assert again.get_params() == fit.estimator.get_params()
    plain = tune_baseline("linear", d.X_train, d.y_train, d.X_valid, d.y_valid, task=d.task, n_trials=3)
    assert "class_weight" not in plain.params and plain.estimator.class_weight is None
    nb = tune_baseline(
        "naive_bayes", d.X_train, d.y_train, d.X_valid, d.y_valid, task=d.task, n_trials=2, metric="f1_macro"
    )
    assert "class_weight" not in nb.params


def test_the_verdict_records_class_weighted_baselines() -> None:
    from hyperselect.evaluate import verdict as vd

    d = _fraud()
    tiny = {"n_trials": 1, "baseline_trials": 2, "n_splits": 3, "n_repeats": 1, "max_epochs": 2}
    kw = {"baselines": ["linear", "naive_bayes"], "curve_fractions": (0.5, 1.0), **tiny}
    v = compare(d, metric="balanced_accuracy", **kw)
    doc = json.loads(json.dumps(v.to_dict(), allow_nan=True))
    params = {c["name"]: c["params"] for c in doc["candidates"] if c["kind"] == "baseline"}
    assert params["linear"]["class_weight"] == "balanced" and "class_weight" not in params["naive_bayes"]
    assert any(
        "class_weight='balanced'" in r and "balanced_accuracy" in r and "linear" in r for r in v.reasons
    )
    # the refits (cross-validation folds, learning curve) are built from these params: weighted too
    linear = next(c for c in v.candidates if c.name == "linear")
    est = vd._fit_baseline(linear, d.X_train, d.y_train, Task(d.task), d.n_features, 0)
    assert est.class_weight == "balanced"
    plain = compare(d, **kw)
    assert all("class_weight" not in c.params for c in plain.candidates if c.kind == "baseline")
    assert not any("class_weight" in r for r in plain.reasons)


def test_the_cnn_searches_class_weights_where_the_mlp_does() -> None:
    from hyperselect.evaluate.verdict import network_space

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 1, 8))
    rare = prepare_arrays(X, np.where(np.arange(400) < 24, "fraud", "ok"))
    even = prepare_arrays(X, np.where(np.arange(400) % 2 == 0, "a", "b"))
    for arch in ("mlp", "cnn"):
        space = network_space(rare, arch, max_epochs=2)
        assert space.dims["class_weight"].choices == ("none", "balanced")  # type: ignore[attr-defined]
        assert "smallest class" in space.reasons["class_weight"]
        assert "class_weight" not in network_space(even, arch, max_epochs=2).dims


# ------------------------------------------------------------------------------------------------ verdicts
FAST = {"n_splits": 5, "n_repeats": 1, "n_threads": 1}


def _check_verdict(v: Verdict) -> dict:
    assert v.recommendation in RECOMMENDATIONS
    assert v.reasons and all(isinstance(r, str) and r for r in v.reasons)
    doc = json.loads(json.dumps(v.to_dict(), allow_nan=True))
    for key in ("recommendation", "network", "baseline", "test", "comparisons", "learning_curve", "seconds"):
        assert key in doc
    # identical folds: every compared model has one score per fold
    n = v.protocol["n_folds"]
    assert len(v.network.cv_scores) == n and all(len(c.cv_scores) in (0, n) for c in v.candidates)
    assert v.network.fit_seconds > 0 and v.network.n_parameters > 0 and v.baseline.n_parameters > 0
    assert "recommendation" in render_verdict(v)
    # the p the decision used, recorded: the intersection-union p or a baseline's Holm p
    assert (
        doc["decision_p_basis"] in ("every_baseline", "holm") and doc["decision_p_baseline"] in v.comparisons
    )
    expected = (
        doc["network_win_p_value"]
        if doc["decision_p_basis"] == "every_baseline"
        else v.comparisons[doc["decision_p_baseline"]]["p_holm"]
    )
    assert doc["decision_p_value"] == expected
    # why the preferred model, and what each search did
    assert doc["preferred_because"] in PREFERENCE_BASES
    assert set(doc["searches"]) == {c.name for c in v.candidates if c.kind != "reference"} | {
        n for n in v.skipped if n in doc["searches"]
    }
    assert "timeout" in doc["protocol"]
    return doc


def test_digits_no_significant_network_win() -> None:
    """Published and measured: on digits a tuned SVM/kNN ties a network; the verdict must not claim a win."""
    v = compare(
        load_builtin("digits"),
        n_trials=3,
        baseline_trials=2,
        max_epochs=12,
        curve_fractions=(),
        **FAST,
    )
    _check_verdict(v)
    assert {c.name for c in v.candidates} >= {"mlp", "cnn", "svm", "knn", "random_forest"}
    assert v.recommendation != "network"
    assert not v.network_beats_all_baselines
    assert v.baseline.cv_mean > 0.95


def _mnist1d_subset(n: int) -> object:
    from hyperselect.data.builtin import _mnist1d_arrays

    x, y, xt, yt = _mnist1d_arrays()
    return prepare_arrays(
        x[:n], y[:n], task="multiclass", name=f"mnist1d[:{n}]", input_shape=(1, 40), test=(xt[:500], yt[:500])
    )


def test_mnist1d_cnn_beats_every_baseline_reduced() -> None:
    """1,000 signals, a CNN with two trials against every baseline with two: the CNN must win significantly."""
    v = compare(
        _mnist1d_subset(1000),
        archs=["cnn"],
        n_trials=2,
        baseline_trials=2,
        max_epochs=20,
        curve_fractions=(),
        **FAST,
    )
    _check_verdict(v)
    assert v.network.name == "cnn"
    assert v.recommendation == "network", v.reasons
    assert v.network_beats_all_baselines
    assert v.network.cv_mean > v.baseline.cv_mean + 0.1


@pytest.mark.slow
def test_mnist1d_cnn_beats_every_baseline_full() -> None:
    from hyperselect.evaluate import demo_verdict

    v = demo_verdict("mnist1d")
    _check_verdict(v)
    assert v.recommendation == "network" and v.network.name == "cnn"
    assert v.network_beats_all_baselines
    assert v.network.test_score > 0.9  # published CNN: 94-99%
    assert v.learning_curve is not None


def test_regression_verdict() -> None:
    v = compare(
        load_builtin("diabetes"),
        n_trials=3,
        baseline_trials=3,
        max_epochs=30,
        curve_fractions=(0.5, 1.0),
        **FAST,
    )
    doc = _check_verdict(v)
    assert v.score_name == "r2" and doc["data"]["task"] == "regression"
    assert "naive_bayes" in v.skipped and "linear" in v.comparisons
    # naive Bayes never handles a regression: kept in the JSON, no news in the reasons
    assert not any("naive_bayes" in r for r in v.reasons)
    assert v.network.name == "mlp"  # a plain table: no CNN
    assert -1.0 < v.baseline.cv_mean < 1.0


def test_compare_rejects_bad_arguments() -> None:
    d = load_builtin("iris")
    with pytest.raises(ConfigError, match="input_shape"):
        compare(d, archs=["cnn"])
    with pytest.raises(ConfigError, match="protocol"):
        compare(d, protocol="loo")
    with pytest.raises(ConfigError, match="n_trials"):
        compare(d, n_trials=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # each was found deep inside a library (or, min_effect, only at the verdict: the whole run lost)
        ({"random_state": None}, r"'random_state' parameter of compare must be an int in \[0, 4294967295\]"),
        ({"random_state": -5}, r"'random_state' parameter of compare"),
        ({"n_threads": 0}, r"'n_threads' parameter of compare must be None or an int in \[1, inf\)"),
        ({"alpha": "0.05"}, r"'alpha' parameter of compare must be a float in \(0, 1\). Got '0.05'"),
        ({"min_effect": "big"}, r"'min_effect' parameter of compare must be a float in \[0, inf\)"),
        ({"timeout": 0}, r"'timeout' parameter of compare"),
        ({"max_epochs": 0}, r"'max_epochs' parameter of compare"),
        ({"curve_fractions": "0.5"}, r"'curve_fractions' parameter of compare must be a sequence"),
        # sklearn refused it at the cross-validation, after both searches had run (iris: 127 train+valid)
        (
            {"protocol": "kfold", "n_splits": 128},
            r"'n_splits' parameter of compare must be at most the 127 rows of train\+valid",
        ),
        (
            {"curve_fractions": (0.5, "1")},
            r"'curve_fractions' parameter of compare must hold floats in \(0, 1\]",
        ),
    ],
)
def test_compare_checks_every_argument_before_any_work(
    kwargs: dict[str, Any], message: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import hyperselect.evaluate.verdict as vmod

    def no_work(*a: Any, **k: Any) -> Any:
        raise AssertionError("compare started working before checking its arguments")

    monkeypatch.setattr(vmod, "_tune_network", no_work)
    with pytest.raises(ConfigError, match=message):
        compare(load_builtin("iris"), **kwargs)


def test_compare_names_a_table_passed_where_data_is_expected() -> None:
    with pytest.raises(DataError, match=r"'data' parameter of compare must be a TabularData.*Got str"):
        compare("data.csv")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------- CLI
def _app() -> typer.Typer:
    from hyperselect.cli_verdict import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, so that `compare` stays a named subcommand
        pass

    register(app)
    return app


def test_cli_compare_writes_verdict(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    res = CliRunner().invoke(
        _app(),
        [
            "compare",
            "builtin:iris",
            "--trials",
            "2",
            "--baseline-trials",
            "2",
            "--protocol",
            "5x2",
            "--folds",
            "3",
            "--max-epochs",
            "10",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "recommendation" in res.output
    # 5x2 is five repeats of two folds: a --folds given with it was ignored without a word
    assert any(
        "--protocol 5x2 is 5 repeats of 2 folds: --folds ignored" in r.getMessage() for r in caplog.records
    )
    doc = json.loads((out / "verdict.json").read_text())
    assert doc["recommendation"] in RECOMMENDATIONS
    assert len(doc["network"]["cv_scores"]) == 10 and doc["test"]["test"] == "5x2cv_t"
    assert 0 <= doc["test"]["p_value"] <= 1
    assert not list(out.glob(".*.tmp"))  # written atomically: no temporary file left behind


def test_cli_compare_errors_exit_1(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_app(), ["compare", str(tmp_path / "missing.csv")])
    assert res.exit_code == 1 and "is neither a file nor a built-in data set" in res.output
    (tmp_path / "t.csv").write_text("a,y\n1,p\n2,q\n")
    res = runner.invoke(_app(), ["compare", str(tmp_path / "t.csv")])
    assert res.exit_code == 1 and "--target" in res.output
    res = runner.invoke(_app(), ["compare", "builtin:nope"])
    assert res.exit_code == 1 and "Unknown built-in" in res.output
    res = runner.invoke(_app(), ["compare", "builtin:iris", "--folds", "1"])
    assert res.exit_code == 1 and "The --folds option" in res.output and "n_splits" not in res.output
    # the folds-in-all check named compare()'s parameters: "Got n_splits=2, n_repeats=1"
    res = runner.invoke(_app(), ["compare", "builtin:iris", "--folds", "2", "--repeats", "1"])
    assert res.exit_code == 1 and "Got --folds 2, --repeats 1." in res.output, res.output
    assert "n_splits" not in res.output and "n_repeats" not in res.output


def _decide_case(
    comparisons: dict[str, dict[str, float]], net_fit: float, base_fit: float
) -> tuple[str, str, str]:
    """_decide on a made-up comparison: (recommendation, preferred model, first reason)."""
    rec, preferred, reasons, _ = _decide_all(comparisons, net_fit, base_fit)
    return rec, preferred, reasons[0]


def _decide_all(
    comparisons: dict[str, dict[str, float]],
    net_fit: float,
    base_fit: float,
    curve: LearningCurve | None = None,
    test_size: float = 0.15,
    min_effect: float = 0.0,
    other_costs: tuple[tuple[float, int], tuple[float, int]] | None = None,
    task: Task = Task.BINARY,
    skipped: dict[str, str] | None = None,
) -> tuple[str, str, list[str], Any]:
    """_decide on a made-up comparison: (recommendation, preferred model, every reason, the decision's p)."""
    from hyperselect.data import prepare_arrays
    from hyperselect.evaluate.metrics import TestResult
    from hyperselect.evaluate.verdict import Candidate, _decide

    rng = np.random.default_rng(0)
    data = prepare_arrays(rng.normal(size=(60, 3)), np.arange(60) % 2, name="toy", test_size=test_size)
    net = Candidate(
        "mlp", "network", {}, 0.8, 1.0, cv_scores=[0.80, 0.82, 0.81], fit_seconds=net_fit, test_score=0.81
    )
    base = Candidate(
        "random_forest",
        "baseline",
        {},
        0.85,
        1.0,
        cv_scores=[0.90, 0.70, 0.95],
        fit_seconds=base_fit,
        test_score=0.83,
    )
    if (
        other_costs is not None
    ):  # (predict seconds per 1k rows, stored numbers) of the network and the baseline
        (net.predict_seconds_per_1k, net.n_parameters), (base.predict_seconds_per_1k, base.n_parameters) = (
            other_costs
        )
    main = comparisons["random_forest"]
    test = TestResult(
        "corrected_resampled_t", 1.0, main["p_value"], (2.0,), main["mean_diff"], -0.1, 0.1, 0.95, 1, 3
    )
    return _decide(data, net, base, test, comparisons, curve, 0.05, min_effect, task, ["mlp"], skipped or {})


def test_level_curves_are_not_called_a_lead_of_minus_zero() -> None:
    # the README's iris example read "the baseline's lead of -0.0000 would likely shrink"
    comparisons = {"random_forest": {"mean_diff": -0.04, "p_value": 0.3, "p_holm": 0.3}}
    level = LearningCurve([0.5, 1.0], [50, 100], [0.6, 0.9], [0.8, 0.9], "test")
    assert level.trend() == "network_improving_faster"
    why = _decide_all(comparisons, 0.5, 0.5, curve=level)[2]
    text = next(r for r in why if r.startswith("Learning curve"))
    assert "lead" not in text and "0.0000" not in text
    assert (
        "the network is improving faster, so it would likely pull ahead" in text
        and "level at 100 rows" in text
    )
    behind = LearningCurve([0.5, 1.0], [50, 100], [0.6, 0.85], [0.8, 0.9], "test")
    text = next(r for r in _decide_all(comparisons, 0.5, 0.5, curve=behind)[2] if r.startswith("Learning"))
    assert "the baseline's lead of +0.0500 would likely shrink" in text


def test_without_a_test_split_the_final_scores_are_said_to_be_on_validation() -> None:
    comparisons = {"random_forest": {"mean_diff": -0.04, "p_value": 0.3, "p_holm": 0.3}}
    why = _decide_all(comparisons, 0.5, 0.5)[2]
    assert "On the held-out test split: network 0.8100, baseline 0.8300." in why
    why = _decide_all(comparisons, 0.5, 0.5, test_size=0.0)[2]
    assert not any("held-out" in r for r in why)
    assert any(r.startswith("On the validation split (the data has no test split") for r in why)


def test_a_baseline_that_beats_the_network_after_holm_is_a_significant_loss() -> None:
    # the best baseline by mean (noisy folds) is not significant, a steadier one is, after Holm: that was
    # reported as "no significant difference" next to a table showing the significant loss
    comparisons = {
        "random_forest": {"mean_diff": -0.04, "p_value": 0.09, "p_holm": 0.18},
        "hist_gradient_boosting": {"mean_diff": -0.03, "p_value": 0.005, "p_holm": 0.03},
        "linear": {"mean_diff": 0.05, "p_value": 0.2, "p_holm": 0.2},
    }
    rec, preferred, why = _decide_case(comparisons, 0.5, 0.5)
    assert rec == "baseline" and preferred == "hist_gradient_boosting"
    assert why.startswith("Use a baseline (hist_gradient_boosting)") and "Holm-corrected p = 0.03" in why


@pytest.mark.parametrize(
    ("comparisons", "min_effect", "expected"),
    [
        # a win: the largest per-baseline p (linear sets it)
        (
            {
                "random_forest": {"mean_diff": 0.04, "p_value": 0.001, "p_holm": 0.002},
                "linear": {"mean_diff": 0.05, "p_value": 0.01, "p_holm": 0.01},
            },
            0.0,
            ("network", 0.01, "every_baseline", "linear"),
        ),
        # a significant gain below the minimum effect: still the win's p
        (
            {"random_forest": {"mean_diff": 0.04, "p_value": 0.001, "p_holm": 0.001}},
            0.1,
            ("no_significant_difference", 0.001, "every_baseline", "random_forest"),
        ),
        # the network ahead, not significantly: the win's p, 0.3
        (
            {"random_forest": {"mean_diff": 0.04, "p_value": 0.3, "p_holm": 0.3}},
            0.0,
            ("no_significant_difference", 0.3, "every_baseline", "random_forest"),
        ),
        # the best baseline ahead, not significantly after Holm
        (
            {
                "random_forest": {"mean_diff": -0.04, "p_value": 0.04, "p_holm": 0.08},
                "linear": {"mean_diff": 0.01, "p_value": 0.5, "p_holm": 0.5},
            },
            0.0,
            ("no_significant_difference", 0.08, "holm", "random_forest"),
        ),
        # a significant loss to the best baseline
        (
            {"random_forest": {"mean_diff": -0.04, "p_value": 0.001, "p_holm": 0.002}},
            0.0,
            ("baseline", 0.002, "holm", "random_forest"),
        ),
        # a significant loss to a steadier baseline than the best mean
        (
            {
                "random_forest": {"mean_diff": -0.04, "p_value": 0.09, "p_holm": 0.18},
                "hist_gradient_boosting": {"mean_diff": -0.03, "p_value": 0.005, "p_holm": 0.03},
            },
            0.0,
            ("baseline", 0.03, "holm", "hist_gradient_boosting"),
        ),
    ],
)
def test_the_verdict_records_the_p_value_its_decision_used(
    comparisons: dict[str, dict[str, float]], min_effect: float, expected: tuple[str, float, str, str]
) -> None:
    rec, _, reasons, decision = _decide_all(comparisons, 0.5, 0.5, min_effect=min_effect)
    assert (rec, decision.p_value, decision.basis, decision.baseline) == expected
    assert f"{expected[1]:.2g}" in " ".join(reasons)  # the p the reasons quote


def test_without_a_significant_difference_noise_level_costs_do_not_decide() -> None:
    comparisons = {"random_forest": {"mean_diff": -0.04, "p_value": 0.3, "p_holm": 0.3}}
    rec, preferred, why = _decide_case(comparisons, 0.02, 0.03)  # within 2x: the better mean decides
    assert rec == "no_significant_difference" and preferred == "random_forest" and "better scoring" in why
    rec, preferred, why = _decide_case(comparisons, 0.02, 0.9)  # clearly cheaper: the network
    assert preferred == "mlp" and "cheaper to fit" in why and "45.0x" in why


def test_a_model_cheaper_to_fit_but_dearer_to_predict_and_store_is_not_the_cheaper() -> None:
    """The forest fitted faster but predicted 30x slower and stored 60x more numbers: "prefer the cheaper"
    named it on fit time alone (user test).  Costs that disagree leave the choice to the score."""
    comparisons = {"random_forest": {"mean_diff": 0.00002, "p_value": 1.0, "p_holm": 1.0}}
    rec, preferred, reasons, _ = _decide_all(
        comparisons, 0.9, 0.3, other_costs=((0.001, 1000), (0.03, 60_000))
    )
    assert rec == "no_significant_difference" and "neither is clearly cheaper" in reasons[0]
    rec, preferred, reasons, _ = _decide_all(
        comparisons, 0.9, 0.3, other_costs=((0.03, 60_000), (0.001, 1000))
    )
    assert (
        preferred == "random_forest"
        and "cheaper to predict" in reasons[0]
        and "cheaper to store" in reasons[0]
    )


def test_quick_fills_in_only_the_budgets_not_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import hyperselect.evaluate.verdict as vmod

    seen: dict[str, Any] = {}

    def fake_compare(data: Any, **settings: Any) -> Any:
        seen.update(settings)
        raise vmod.ConfigError("stop here")

    monkeypatch.setattr(vmod, "compare", fake_compare)
    res = CliRunner().invoke(
        _app(), ["compare", "builtin:digits", "--quick", "--folds", "3", "--trials", "2"]
    )
    assert res.exit_code == 1 and "stop here" in res.output, res.output
    assert seen["n_splits"] == 3 and seen["n_trials"] == 2  # given: kept
    assert (
        seen["n_repeats"] == vmod.DEMO_SETTINGS["n_repeats"]
        and seen["timeout"] == vmod.DEMO_SETTINGS["timeout"]
    )


def test_compare_runs_with_the_largest_seed_it_accepts() -> None:
    """Before: 2**32-1 passed the check, then a fold's seed (random_state + k) failed deep in the run."""
    v = compare(
        load_builtin("digits", random_state=2**32 - 1),  # an MLP and a CNN: the second search's seed is + 1
        random_state=2**32 - 1,
        n_trials=1,
        baseline_trials=1,
        max_epochs=2,
        curve_fractions=(),
        baselines=["linear"],
        n_splits=3,
        n_repeats=1,
    )
    assert v.recommendation in ("network", "baseline", "no_significant_difference")


def test_compare_on_a_split_too_small_for_a_curve_of_several_points() -> None:
    """20 training rows and 10 classes: every share rounds up to the 20-row minimum, two points of one size
    made the last gain divide by log2(1) (ZeroDivisionError after all the tuning)."""
    from hyperselect.data import prepare_arrays
    from hyperselect.evaluate.verdict import LearningCurve

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 3)
    X = rng.normal(size=(30, 4)) + y[:, None]
    data = prepare_arrays(X, y, task="multiclass", random_state=0, name="tiny")
    v = compare(
        data, n_trials=2, baseline_trials=2, max_epochs=2, baselines=("knn",), n_splits=2, n_repeats=2
    )
    curve = v.learning_curve
    assert curve is not None and len(set(curve.n_rows)) == len(curve.n_rows)
    assert all(0 < f <= 1 for f in curve.fractions) and curve.n_rows[-1] == len(data.y_train)
    assert math.isnan(
        LearningCurve([0.5, 1.0], [20, 20], [0.1, 0.2], [0.1, 0.1], "test")._last_gain([0.1, 0.2])
    )


def test_a_trend_is_no_forecast_when_one_noisy_segment_or_a_row_or_two_makes_it() -> None:
    """An audit: diabetes' network curve went 0.20, 0.19, 0.16, 0.26 and the reasons said its lead "would
    likely grow", although its slope over the whole curve was below the baseline's."""
    rows = [44, 88, 176, 353]
    noisy = LearningCurve(
        [0.125, 0.25, 0.5, 1.0], rows, [0.20, 0.19, 0.16, 0.26], [0.10, 0.15, 0.19, 0.21], "test"
    )
    assert noisy.network_last_gain > noisy.baseline_last_gain + FLAT_SLOPE
    assert noisy.network_slope < noisy.baseline_slope and noisy.trend() == "unclear"
    why = _decide_all(
        {"random_forest": {"mean_diff": 0.01, "p_value": 0.4, "p_holm": 0.4}}, 0.5, 0.5, curve=noisy
    )[2]
    text = next(r for r in why if r.startswith("Learning curve"))
    assert "would likely" not in text and "cannot be read" in text
    # one of 90 test rows (0.0111) changing sides is no gain; three rows are
    one_row = LearningCurve([0.5, 1.0], [45, 90], [0.9, 0.9 + 1 / 90], [0.9, 0.9], "test", resolution=1 / 90)
    assert one_row.threshold == pytest.approx(2 / 90) and one_row.trend() == "both_flat"
    three = LearningCurve([0.5, 1.0], [45, 90], [0.9, 0.9 + 3 / 90], [0.9, 0.9], "test", resolution=1 / 90)
    assert three.trend() == "network_improving_faster"
    text = next(
        r
        for r in _decide_all(
            {"random_forest": {"mean_diff": 0.01, "p_value": 0.4, "p_holm": 0.4}}, 0.5, 0.5, curve=one_row
        )[2]
        if r.startswith("Learning curve")
    )
    assert "a gain under 0.0222, what two scored rows can move" in text


def test_the_curves_noise_step_follows_the_metric() -> None:
    """An audit: on a 5 %-rare class, balanced-accuracy gains of +0.176 and +0.167 (about one rare test row
    each) read as "the gap would likely hold": the step was 1 / rows whatever the metric."""
    from hyperselect.evaluate.verdict import score_step
    from hyperselect.tasks import Task

    y = np.array([0] * 114 + [1] * 6)
    assert score_step(Task.BINARY, y, "accuracy") == pytest.approx(1 / 120)
    assert score_step(Task.BINARY, y, None) == pytest.approx(1 / 120)
    assert score_step(Task.BINARY, y, "balanced_accuracy") == pytest.approx(1 / 12)  # one of 6 rare rows
    assert score_step(Task.BINARY, y, "f1_macro") == pytest.approx(1 / 12)
    assert score_step(Task.REGRESSION, y.astype(float), "r2") == 0.0
    curve = LearningCurve([0.5, 1.0], [60, 120], [0.6, 0.75], [0.6, 0.6], "test", resolution=1 / 12)
    assert curve.trend() == "both_flat"  # +0.15 is under two rare rows: no trend
    assert (
        LearningCurve([0.5, 1.0], [45, 90], [0.5, 0.6], [0.5, 0.5], "test").to_dict()["trend_threshold"]
        == FLAT_SLOPE
    )


# ------------------------------------------------------------------------------ the audit's findings (B) ---


@pytest.mark.parametrize(
    ("net_fit", "base_fit", "because", "preferred"),
    [(0.02, 0.03, "better_score", "random_forest"), (0.02, 0.9, "cheaper", "mlp")],
)
def test_the_verdict_records_why_it_prefers_its_model(
    net_fit: float, base_fit: float, because: str, preferred: str
) -> None:
    """The report's headline said "prefer the cheaper model" while the reasons preferred the better scoring:
    the verdict now records the basis of its choice, and the report's headline names both."""
    from hyperselect.report.views import headline

    comparisons = {"random_forest": {"mean_diff": -0.04, "p_value": 0.3, "p_holm": 0.3}}
    rec, chosen, reasons, decision = _decide_all(comparisons, net_fit, base_fit)
    assert (rec, chosen, decision.preferred_because) == ("no_significant_difference", preferred, because)
    head = headline({"preferred_model": chosen, "preferred_because": because, "reasons": reasons}, rec)
    if because == "cheaper":
        assert head == "No significant difference: prefer the cheaper model (mlp)" and "cheaper" in reasons[0]
    else:
        assert head == (
            "No significant difference: prefer the better-scoring model (random_forest), as neither is "
            "clearly cheaper"
        )
        assert "better scoring" in reasons[0] and "cheaper model" not in head
    # significant outcomes record theirs too
    win = {"random_forest": {"mean_diff": 0.04, "p_value": 0.001, "p_holm": 0.001}}
    assert _decide_all(win, 0.5, 0.5)[3].preferred_because == "significant_win"
    loss = {"random_forest": {"mean_diff": -0.04, "p_value": 0.001, "p_holm": 0.001}}
    assert _decide_all(loss, 0.5, 0.5)[3].preferred_because == "significant_loss"


def test_a_baseline_ahead_of_the_network_is_named_as_ahead_not_as_p_1() -> None:
    """ "it does not beat ... significantly (largest p = 1, random_forest)" next to a table showing
    random_forest significantly better (p 0.00015): the 1 was the one-sided convention for a baseline ahead."""
    comparisons = {
        "linear": {"mean_diff": 0.1353, "p_value": 0.00109, "p_holm": 0.00217},
        "knn": {"mean_diff": 0.0118, "p_value": 0.666, "p_holm": 0.666},
        "random_forest": {"mean_diff": -0.1108, "p_value": 0.00015, "p_holm": 0.00045},
        "svm": {"mean_diff": -0.0696, "p_value": 1.07e-05, "p_holm": 5.33e-05},
    }
    reasons = _decide_all(comparisons, 0.5, 0.5)[2]
    text = next(r for r in reasons if r.startswith("To count as better"))
    assert "p = 1," not in text and "largest p = 1" not in text
    assert "it leads knn, but not significantly (p = 0.67)" in text
    assert (
        "random_forest (by 0.1108 accuracy, p = 0.00015) and svm (by 0.0696 accuracy, p < 1e-4) score "
        "higher than the network" in text
    )
    assert "linear" not in text  # beaten significantly: not among the reasons it fails


def test_baselines_that_never_handle_the_task_are_left_out_of_the_reasons() -> None:
    comparisons = {"random_forest": {"mean_diff": -0.04, "p_value": 0.3, "p_holm": 0.3}}
    skipped = {
        "naive_bayes": "Gaussian naive Bayes does not handle a regression task",
        "svm": "20000 training rows: a kernel SVM's fit time grows between n^2 and n^3",
    }
    reasons = _decide_all(comparisons, 0.5, 0.5, task=Task.REGRESSION, skipped=skipped)[2]
    told = [r for r in reasons if r.startswith("Skipped baselines")]
    assert told == [f"Skipped baselines: svm ({skipped['svm']})."]
    assert not _decide_all(
        comparisons, 0.5, 0.5, task=Task.REGRESSION, skipped=dict(list(skipped.items())[:1])
    )[2][-1].startswith("Skipped")


def _fake_search(states: list[tuple[str, str, int]], *, asked: int, best: int, max_epochs: int = 100) -> Any:
    """A network search's result as _network_search reads it: (state, reason, epochs) per trial."""
    import types

    import pandas as pd

    from hyperselect.nn.config import MLPConfig

    table = pd.DataFrame(
        [{"number": i, "state": st, "reason": why, "epochs": ep} for i, (st, why, ep) in enumerate(states)]
    )
    counts = {k: sum(st == k for st, _, _ in states) for k in ("COMPLETE", "PRUNED", "FAIL")}
    counts["finished"] = len(states)
    return types.SimpleNamespace(
        counts=counts,
        trials=table,
        best_trial=best,
        best_config=MLPConfig(max_epochs=max_epochs),
        space=types.SimpleNamespace(dims={"lr": None, "width": None}),
    )


def test_a_network_search_cut_short_by_the_timeout_is_recorded_and_said() -> None:
    """--timeout 0.01s: every network trial stopped after an epoch, and verdict.json said only n_trials=8."""
    from hyperselect.evaluate.verdict import _baseline_search, _network_search, _search_reasons

    stopped = [("PRUNED", "timeout: stopped after 1 epochs", 1)] * 8
    mlp = _network_search(_fake_search(stopped, asked=8, best=6), 8, 2.5)
    assert mlp == {
        "kind": "network",
        "asked": 8,
        "finished": 8,
        "completed": 0,
        "pruned": 8,
        "pruned_by_timeout": 8,
        "failed": 0,
        "best_trial": 6,
        "best_trial_epochs": 1,
        "max_epochs": 100,
        "searched": ["lr", "width"],
        "seconds": 2.5,
    }
    from hyperselect.evaluate.baselines import BaselineFit

    fit = BaselineFit("svm", {"C": 1.0}, 0.9, n_trials=2, seconds=0.01, failed_trials=["trial 1 {}: boom"])
    svm = _baseline_search(fit, 5)
    assert (svm["asked"], svm["finished"], svm["completed"], svm["failed"]) == (5, 2, 1, 1)
    reasons = _search_reasons({"mlp": mlp, "svm": svm}, 0.01)
    assert reasons[0].startswith(
        "The network search (mlp) was cut short by the timeout of 0.01 s: no trial completed its epochs (all 8 "
        "were stopped by the timeout); the network compared was chosen after 1 of 100 epochs."
    )
    assert reasons[1] == (
        "The baseline searches of svm (2 of 5 trials) were stopped by the timeout of 0.01 s before all their trials."
    )
    # a search that finished fewer trials than asked, some completed
    some = [("COMPLETE", "", 100), ("PRUNED", "successive halving: ...", 4), ("PRUNED", "timeout: ...", 2)]
    (why,) = _search_reasons({"mlp": _network_search(_fake_search(some, asked=8, best=0), 8, 1.0)}, 5.0)
    assert (
        "the timeout stopped 1 of its 3 trials before their last epoch and 3 of the 8 trials asked for finished"
        in why
    )
    # a full search says nothing
    full = [("COMPLETE", "", 100)] + [("PRUNED", "successive halving: ...", 4)] * 7
    assert _search_reasons({"mlp": _network_search(_fake_search(full, asked=8, best=0), 8, 1.0)}, None) == []


def test_the_learning_curve_network_stops_early_on_the_same_share_of_the_validation_rows(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An audit: at 10 % of the training rows the network early-stopped on all the validation rows while the
    baseline saw only its 10 %."""
    import hyperselect.evaluate.verdict as verdict_mod
    from hyperselect.data import load_builtin
    from hyperselect.evaluate.verdict import Candidate, _learning_curve
    from hyperselect.nn.config import MLPConfig
    from hyperselect.tasks import Task

    data = load_builtin("breast_cancer")
    seen: list[tuple[int, int]] = []

    def fake_fit(cfg, X, y, task, n_classes, *, random_state, X_valid, y_valid):  # type: ignore[no-untyped-def]
        seen.append((len(X), len(X_valid)))
        raise verdict_mod.bl.DATA_FAILURES[0]("stop here")  # the point is left out; only the sizes matter

    monkeypatch.setattr(verdict_mod, "fit_network", fake_fit)
    base = Candidate("logistic_regression", "baseline", {}, 0.9, 0.1)
    _learning_curve(
        data, MLPConfig(), base, None, None, [0.1, 0.5], Task.BINARY, 2, data.X_test, data.y_test, "test", 0
    )
    n, n_valid = len(data.y_train), len(data.y_valid)
    assert [k for k, _ in seen] == [round(0.1 * n), round(0.5 * n)]
    assert [v for _, v in seen] == [max(10, round(k / n * n_valid)) for k, _ in seen]  # at least 10 rows
    assert seen[1][1] < n_valid


def test_a_network_that_beats_the_best_baseline_but_not_every_one_is_not_said_to_tie_it() -> None:
    """The demo's digits verdict began "No significant difference between the network (cnn) and the best
    baseline (svm)" two lines above "cnn vs svm p = 0.0076: significant"; random_forest was the one not beaten."""
    from hyperselect.data import prepare_arrays
    from hyperselect.evaluate.metrics import TestResult
    from hyperselect.evaluate.verdict import Candidate, _decide

    rng = np.random.default_rng(0)
    data = prepare_arrays(rng.normal(size=(60, 3)), np.arange(60) % 2, name="toy")
    net = Candidate(
        "cnn", "network", {}, 0.9, 1.0, cv_scores=[0.90, 0.92, 0.91], fit_seconds=1.0, test_score=0.97
    )
    base = Candidate(
        "svm", "baseline", {}, 0.85, 1.0, cv_scores=[0.85, 0.86, 0.84], fit_seconds=1.0, test_score=0.98
    )
    comparisons = {
        "svm": {"mean_diff": 0.06, "p_value": 0.0076, "p_holm": 0.02},
        "random_forest": {"mean_diff": 0.02, "p_value": 0.21, "p_holm": 0.21},
    }
    test = TestResult("corrected_resampled_t", 1.0, 0.0076, (2.0,), 0.06, 0.01, 0.1, 0.95, 1, 3)
    rec, preferred, reasons, _ = _decide(
        data, net, base, test, comparisons, None, 0.05, 0.0, Task.BINARY, ["cnn"], {}
    )
    assert rec == "no_significant_difference" and preferred == "cnn"
    first = reasons[0]
    assert first.startswith(
        "No significant win for the network (cnn): it beats the best baseline (svm) by +0.0600"
    )
    assert "random_forest is not beaten significantly (p = 0.21)" in first
    assert "their costs are within a factor of two" in first
    assert "On the held-out test split svm scored higher (0.9800 against 0.9700" in first
