"""compare on small tables and rare classes: a baseline that cannot fit must not sink the whole verdict.

QA's repros, at the library level: a class with one row (and one with two) among 300, a class with four and
one with two, and a 12-row binary table.  Histogram gradient boosting used to make its own stratified 10%
early-stopping split inside every fit, which such fit sets cannot hold, and the first failing family aborted
the comparison.  Budgets are tiny (one trial, three folds, a few epochs) so each test takes seconds.
"""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from hyperselect.data import TabularData, prepare_arrays
from hyperselect.errors import ConfigError
from hyperselect.evaluate import RECOMMENDATIONS, Verdict, compare, make_baseline, render_verdict
from hyperselect.evaluate import baselines as bl
from hyperselect.evaluate import verdict as vd

TINY = {
    "n_trials": 1,
    "baseline_trials": 2,
    "n_splits": 3,
    "n_repeats": 1,
    "max_epochs": 3,
    "curve_fractions": (),
    "n_threads": 1,
}


def _rare_table(n: int, rare: dict[str, int], seed: int = 0) -> TabularData:
    """``n`` rows with two normal features; classes A/B fill the rows that ``rare`` (label -> count) leaves."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    n_common = n - sum(rare.values())
    labels = ["A" if i % 2 == 0 else "B" for i in range(n_common)]
    for label, count in rare.items():
        labels += [label] * count
    y = np.array(labels, dtype=object)
    order = rng.permutation(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unstratifiable split warns; that is the point of the data
        return prepare_arrays(X[order], y[order], name=f"rare{rare}")


def _check(v: Verdict, *, boosting: bool = True) -> None:
    assert v.recommendation in RECOMMENDATIONS
    names = {c.name for c in v.candidates}
    if boosting:  # compared, or left out with a reason
        assert "hist_gradient_boosting" in names or v.skipped.get("hist_gradient_boosting")
    n = v.protocol["n_folds"]
    assert all(len(c.cv_scores) == n for c in v.candidates)
    assert v.baseline.name in names and v.baseline.kind == "baseline"
    json.dumps(v.to_dict(), allow_nan=True)
    assert "recommendation" in render_verdict(v)


def test_one_row_and_two_row_classes_among_300() -> None:
    """Repro A: C has one row, D two; the verdict comes out with every baseline that can fit."""
    v = compare(_rare_table(300, {"C": 1, "D": 2}), **TINY)
    _check(v)
    assert "hist_gradient_boosting" in v.comparisons  # boosting now fits: no internal split it cannot hold


def test_four_row_and_two_row_classes_among_300() -> None:
    """Repro B: C has four rows, D two; the cross-validated boosting fits used to raise from train_test_split."""
    v = compare(_rare_table(300, {"C": 4, "D": 2}), **TINY)
    _check(v)
    assert "hist_gradient_boosting" in v.comparisons


def test_twelve_row_binary_table() -> None:
    """Repro C: 12 rows, two classes; boosting's 10% split of a handful of rows cannot hold both classes."""
    v = compare(_rare_table(12, {}), **TINY)
    _check(v)
    assert "hist_gradient_boosting" in v.comparisons


@pytest.mark.parametrize(
    ("y", "early"),
    [
        (np.array([0] * 50 + [1] * 50), True),  # plenty of both
        (np.array([0] * 97 + [1] * 2 + [2]), False),  # a class with one row cannot be stratified
        (np.array([0] * 4 + [1] * 4), False),  # ceil(0.8) = 1 validation row < 2 classes
        (np.array([0] * 10 + [1] * 10), True),  # 2 validation rows, 18 training rows: both hold 2 classes
        (np.array([0] * 6 + [1] * 6 + [2] * 6), False),  # ceil(1.8) = 2 validation rows < 3 classes
    ],
)
def test_boosting_early_stops_only_when_the_fit_set_can_hold_the_split(y: np.ndarray, early: bool) -> None:
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    est = make_baseline("hist_gradient_boosting", "multiclass", random_state=0)
    params = est.get_params()
    est.fit(X, y)
    assert est.do_early_stopping_ is early
    assert est.get_params() == params  # fit decides without changing a parameter
    assert est.predict(X).shape == (len(y),)
    assert bl.count_stored_numbers(est) > 0
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert clone(est).get_params() == params


def test_boosting_regressor_fits_two_rows() -> None:
    est = make_baseline("hist_gradient_boosting", "regression", random_state=0)
    est.fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    assert est.predict(np.array([[0.5]])).shape == (1,)


def test_a_family_that_fails_everywhere_is_skipped_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any data-related failure of one family (tuning or cross-validation) leaves it out, with the reason
    in class labels, and the verdict comes from the rest."""

    class Fragile:
        def fit(self, X: np.ndarray, y: np.ndarray) -> Fragile:
            counts = np.bincount(y.astype(np.int64))
            raise ValueError(f"Classes with too few members are: {np.flatnonzero(counts == 1).tolist()}")

    real = bl.FAMILIES["naive_bayes"]
    fragile = bl.BaselineFamily(
        real.name, real.description, real.tasks, lambda t, p, s: Fragile(), real.suggest, real.defaults
    )
    monkeypatch.setitem(bl.FAMILIES, "naive_bayes", fragile)
    data = _rare_table(300, {"C": 1, "D": 2})
    v = compare(data, baselines=["naive_bayes", "linear"], **TINY)
    _check(v, boosting=False)
    assert [c.name for c in v.candidates if c.kind == "baseline"] == ["linear"]
    reason = v.skipped["naive_bayes"]
    assert "ValueError" in reason and "Classes with too few members" in reason
    assert "'C'" in reason  # the label, not the code 2
    assert "naive_bayes" in " ".join(v.reasons)


def test_a_family_that_fails_only_in_cross_validation_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = bl.FAMILIES["naive_bayes"]

    def build(task: object, p: dict, seed: int) -> object:
        calls["n"] += 1
        if calls["n"] > 2:  # the tuning trials fit; the cross-validated refits do not

            class Broken:
                def fit(self, X: np.ndarray, y: np.ndarray) -> None:
                    raise ArithmeticError("a fold this small has no variance")

            return Broken()
        return real.build(task, p, seed)  # type: ignore[arg-type]

    fam = bl.BaselineFamily(real.name, real.description, real.tasks, build, real.suggest, real.defaults)
    monkeypatch.setitem(bl.FAMILIES, "naive_bayes", fam)
    v = compare(_rare_table(60, {}), baselines=["naive_bayes", "linear"], **TINY)
    _check(v, boosting=False)
    assert "naive_bayes" not in v.comparisons and "linear" in v.comparisons
    assert "cross-validation" in v.skipped["naive_bayes"] and "no variance" in v.skipped["naive_bayes"]


def test_every_baseline_failing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def fit(self, X: np.ndarray, y: np.ndarray) -> None:
            raise ValueError("cannot fit this")

    for name in ("linear", "naive_bayes"):
        real = bl.FAMILIES[name]
        fam = bl.BaselineFamily(
            real.name, real.description, real.tasks, lambda t, p, s: Broken(), real.suggest, real.defaults
        )
        monkeypatch.setitem(bl.FAMILIES, name, fam)
    with pytest.raises(ConfigError, match=r"No baseline could be fitted.*linear.*cannot fit this"):
        compare(_rare_table(60, {}), baselines=["linear", "naive_bayes"], **TINY)


def test_class_codes_in_messages_become_labels() -> None:
    classes = ["A", "B", "C", "D"]
    msg = "Classes with too few members are: [2.0, 3.0]"
    assert vd._with_labels(msg, classes) == "Classes with too few members are: ['C', 'D']"
    msg = (
        "This solver needs samples of at least 2 classes in the data, but the data contains only one class: 1"
    )
    assert vd._with_labels(msg, classes).endswith("only one class: 'B'")
    msg = "The test_size = 1 should be greater or equal to the number of classes = 2"
    assert vd._with_labels(msg, classes) == msg  # a count, not a class
    assert vd._with_labels("Classes are: [7]", classes) == "Classes are: [7]"  # not a code: left alone
    assert vd._with_labels("Classes are: [1]", None) == "Classes are: [1]"


def test_a_timeout_is_recorded_with_what_each_search_finished() -> None:
    """--timeout 0.01s: every network trial was stopped after an epoch, and verdict.json recorded only the
    trials asked for: no timeout, no count of what finished, no word in the reasons."""
    settings = {**TINY, "n_trials": 3, "max_epochs": 20}
    v = compare(_rare_table(60, {}), baselines=["linear", "naive_bayes"], timeout=1e-3, **settings)
    _check(v, boosting=False)
    doc = json.loads(json.dumps(v.to_dict(), allow_nan=True))
    assert doc["protocol"]["timeout"] == 1e-3 and doc["protocol"]["max_epochs"] == 20
    mlp = doc["searches"]["mlp"]
    assert mlp["kind"] == "network" and mlp["asked"] == 3 and mlp["max_epochs"] == 20
    assert mlp["finished"] == mlp["completed"] + mlp["pruned"] + mlp["failed"]
    assert mlp["pruned_by_timeout"] >= 1 and mlp["best_trial_epochs"] < 20
    for name in ("linear", "naive_bayes"):
        s = doc["searches"][name]
        assert s["kind"] == "baseline" and s["asked"] == 2 and 1 <= s["finished"] <= 2
        assert s["completed"] + s["failed"] == s["finished"]
    assert v.reasons[1].startswith("The network search (mlp) was cut short by the timeout of 0.001 s:")
