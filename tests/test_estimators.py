"""The scikit-learn estimators: the official estimator checks, meta-estimators, and save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from hyperselect import errors
from hyperselect.estimators import NeuralNetClassifier, NeuralNetRegressor, load_estimator

# two cores shared by many processes: one thread avoids OpenMP oversubscription (tens of times slower)
torch.set_num_threads(1)

# Small, fast instances for the checks: a few epochs of a small network with a larger step size reach the
# accuracy / R^2 thresholds the checks require on their toy data.
FAST = dict(hidden=(16,), lr=0.03, max_epochs=20, batch_size=32, patience=None, random_state=0)


def _expected_failed_checks(estimator: object) -> dict[str, str]:
    return {}


@parametrize_with_checks(
    [NeuralNetClassifier(**FAST), NeuralNetRegressor(**FAST)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X, np.array(["cat", "dog", "emu"])[y]


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=160, n_features=5, noise=5.0, random_state=0)
    return X, 1000.0 + 50.0 * y  # far from N(0,1): the internal standardisation must undo this


def test_pipeline_and_cross_val_score(clf_data):
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(**FAST))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.6  # 3 balanced classes: chance is 0.33


def test_grid_search_picks_from_the_grid(clf_data):
    X, y = clf_data
    grid = GridSearchCV(NeuralNetClassifier(**FAST), {"hidden": [(8,), (16,)], "lr": [0.03, 1e-5]}, cv=2)
    grid.fit(X, y)
    # lr=1e-5 for 20 epochs barely moves from the initialisation; the search must see that
    assert grid.best_params_["lr"] == 0.03
    assert set(grid.predict(X[:5])) <= {"cat", "dog", "emu"}


def test_regressor_standardises_target(reg_data):
    X, y = reg_data
    reg = NeuralNetRegressor(**{**FAST, "max_epochs": 60}).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert abs(reg.y_mean_[0] - y.mean()) < 1e-9 and abs(reg.y_std_[0] - y.std()) < 1e-9
    assert reg.predict(X).dtype == np.float64


def test_fit_is_deterministic_and_records_training(clf_data):
    X, y = clf_data
    a = NeuralNetClassifier(**FAST).fit(X, y)
    b = NeuralNetClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert list(a.classes_) == ["cat", "dog", "emu"]
    assert a.n_iter_ == len(a.history_) == 20
    assert a.status_ == "completed" and a.config_.hidden == (16,)
    assert isinstance(a.findings_, list)


def test_validation_error_names_estimator_parameter_and_value(clf_data):
    X, y = clf_data
    with pytest.raises(
        errors.ConfigError,
        match=r"The 'lr' parameter of NeuralNetClassifier must be a float "
        r"in \(0, inf\)\. Got -1\.",
    ):
        NeuralNetClassifier(lr=-1).fit(X, y)
    with pytest.raises(errors.ConfigError, match="'loss' parameter of NeuralNetRegressor"):
        NeuralNetRegressor(loss="cross_entropy").fit(X, np.arange(len(X), dtype=float))
    with pytest.raises(errors.ConfigError, match="'validation_fraction'"):
        NeuralNetClassifier(validation_fraction=1.0).fit(X, y)


def test_unfitted_raises_both_not_fitted_errors(clf_data):
    X, _ = clf_data
    with pytest.raises(errors.NotFittedError):
        NeuralNetClassifier().predict(X)
    with pytest.raises(SklearnNotFittedError):
        NeuralNetRegressor().predict(X)


def test_divergence_from_the_first_epoch_raises_training_error(clf_data):
    X, _ = clf_data
    with pytest.raises(errors.TrainingError, match="diverged"):
        NeuralNetRegressor(hidden=(16,), optimizer="sgd", lr=1e6, max_epochs=5, random_state=0).fit(
            X, np.linspace(0, 1, len(X))
        )


def test_divergence_after_good_epochs_keeps_the_last_good_weights(clf_data, monkeypatch):
    from hyperselect.train import trainer

    X, y = clf_data
    real = trainer.NetworkRun._one_epoch

    def one_epoch(
        self, *args
    ):  # two good epochs, then the loss turns NaN (as a too-large step size makes it)
        if self.epoch == 2:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))
        real(self, *args)

    monkeypatch.setattr(trainer.NetworkRun, "_one_epoch", one_epoch)
    with pytest.warns(ConvergenceWarning, match="diverged.*keeping the weights of epoch"):
        est = NeuralNetClassifier(**FAST).fit(X, y)
    assert est.status_ == "diverged" and "exploding_gradients" in {f.kind for f in est.findings_}
    assert np.isfinite(est.predict_proba(X)).all()


def test_multilabel(clf_data):
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3, random_state=0)
    clf = NeuralNetClassifier(**FAST).fit(X, Y)
    assert clf.predict(X).shape == Y.shape and clf.predict(X).dtype == Y.dtype
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()


@pytest.mark.parametrize("kind", ["classifier", "binary", "regressor", "multilabel"])
def test_save_load_roundtrip_gives_equal_predictions(tmp_path, clf_data, reg_data, kind):
    if kind == "classifier":
        X, y = clf_data
        est = NeuralNetClassifier(**{**FAST, "norm": "batch", "dropout": 0.1}).fit(X, y)
    elif kind == "binary":
        X, y = clf_data
        est = NeuralNetClassifier(**FAST).fit(X, (y == "cat").astype(bool))
    elif kind == "regressor":
        X, y = reg_data
        est = NeuralNetRegressor(**FAST).fit(X, np.column_stack([y, -y]))
    else:
        X, y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3, random_state=0)
        est = NeuralNetClassifier(**FAST).fit(X, y)
    folder = est.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    back = load_estimator(folder)
    assert type(back) is type(est)
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    if hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(back.classes_, est.classes_)
        assert back.classes_.dtype == est.classes_.dtype
    assert back.history_.to_dict() == est.history_.to_dict()


def test_load_detects_mismatched_or_wrong_files(tmp_path, clf_data, reg_data):
    X, y = clf_data
    a = NeuralNetClassifier(**FAST).fit(X, y).save(tmp_path / "a")
    Xr, yr = reg_data
    b = NeuralNetRegressor(**FAST).fit(Xr, yr).save(tmp_path / "b")
    with pytest.raises(errors.DataError, match="holds a NeuralNetRegressor"):
        NeuralNetClassifier.load(b)
    # weights from another save: the recorded SHA-256 no longer matches
    (a / "model.safetensors").write_bytes((b / "model.safetensors").read_bytes())
    with pytest.raises(errors.DataError, match="SHA-256"):
        NeuralNetClassifier.load(a)
    with pytest.raises(errors.DataError, match="no such file"):
        load_estimator(tmp_path / "missing")
    # the JSON is plain data (no pickle) and records the config
    doc = json.loads((b / "config.json").read_text())
    assert doc["config"]["hidden"] == [16] and doc["estimator"] == "NeuralNetRegressor"


def test_feature_names_are_kept(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = NeuralNetClassifier(**FAST).fit(df, y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    back = load_estimator(est.save(tmp_path / "m"))
    assert list(back.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(back.predict(df), est.predict(df))


def test_random_state_may_be_a_random_state_instance(clf_data):
    X, y = clf_data
    est = NeuralNetClassifier(**{**FAST, "max_epochs": 2, "random_state": np.random.RandomState(0)}).fit(X, y)
    assert est.n_iter_ == 2


def test_verbose_prints_epochs(clf_data, capsys):
    X, y = clf_data
    NeuralNetClassifier(**{**FAST, "max_epochs": 2, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    assert "[NeuralNetClassifier] epoch 0" in out and "epoch 1" in out


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_pickle_stores_cpu_weights_not_the_module_and_predicts_the_same(kind, clf_data, reg_data):
    import copy
    import pickle

    X, y = clf_data if kind == "classifier" else reg_data
    est = (NeuralNetClassifier if kind == "classifier" else NeuralNetRegressor)(**FAST).fit(X, y)
    state = est.__getstate__()
    # the network travels as CPU tensors and the device name, never as a module (CUDA storages inside a
    # pickled module cannot be unpickled on a machine without CUDA)
    assert state["model_"] is None and state["_model_device"] == "cpu"
    assert all(
        isinstance(v, torch.Tensor) and v.device.type == "cpu" for v in state["_model_weights"].values()
    )
    rng_before = torch.random.get_rng_state()
    again = pickle.loads(pickle.dumps(est))
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # unpickling draws nothing from torch's RNG
    assert isinstance(again.model_, torch.nn.Module) and not again.model_.training
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    if kind == "classifier":
        np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(copy.deepcopy(est).predict(X), est.predict(X))
    assert isinstance(est.model_, torch.nn.Module)  # pickling left the original as it was
    # an unfitted estimator pickles as before
    assert (
        pickle.loads(pickle.dumps(NeuralNetClassifier(**FAST))).get_params()
        == NeuralNetClassifier(**FAST).get_params()
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback of a machine without CUDA")
def test_an_estimator_pickled_on_a_gpu_unpickles_on_the_cpu_with_a_warning(clf_data):
    X, y = clf_data
    est = NeuralNetClassifier(**FAST).fit(X, y)
    state = est.__getstate__()
    state["_model_device"] = "cuda:0"  # what a GPU machine writes (its weights are stored on the CPU anyway)
    fresh = NeuralNetClassifier.__new__(NeuralNetClassifier)
    with pytest.warns(UserWarning, match=r"pickled with its network on cuda:0, which is not available here"):
        fresh.__setstate__(state)
    assert next(fresh.model_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(fresh.predict_proba(X), est.predict_proba(X))
