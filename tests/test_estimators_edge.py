"""The estimators at the edges a user reaches: odd labels and targets, odd paths and files for save/load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from hyperselect import errors
from hyperselect.estimators import NeuralNetClassifier, NeuralNetRegressor, load_estimator

torch.set_num_threads(1)

FAST = dict(hidden=(8,), lr=0.03, max_epochs=3, batch_size=32, patience=None, random_state=0)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.RandomState(0).randn(60, 4)
    return X, np.array(["a", "b"])[(X[:, 0] > 0).astype(int)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, data: tuple[np.ndarray, np.ndarray]) -> Path:
    X, y = data
    return NeuralNetClassifier(**FAST).fit(X, y).save(tmp_path_factory.mktemp("m") / "model")


def test_one_class_message_shows_the_label_as_written(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"needs at least 2 classes in y; got 1 class: 'a'\.$"):
        NeuralNetClassifier(**FAST).fit(X, np.full(len(X), "a"))


def test_verbose_may_be_a_bool_as_in_scikit_learn(data, capsys):
    X, y = data
    NeuralNetClassifier(**{**FAST, "max_epochs": 1, "verbose": True}).fit(X, y)
    assert "[NeuralNetClassifier] epoch 0" in capsys.readouterr().out
    with pytest.raises(errors.ConfigError, match=r"'verbose'.*an int in \[0, inf\) or a bool\. Got -1\."):
        NeuralNetClassifier(verbose=-1).fit(X, y)


def test_regressor_on_targets_near_the_float64_limit_predicts_finite_values(data):
    X, _ = data
    y = X[:, 0] * 1e300  # y**2 overflows: a plain std is inf and every prediction was inf or NaN
    reg = NeuralNetRegressor(**{**FAST, "max_epochs": 20}).fit(X, y)
    assert np.isfinite(reg.y_std_).all() and np.isfinite(reg.y_mean_).all()
    assert np.isclose(reg.y_std_[0], 1e300 * X[:, 0].std(), rtol=1e-9)
    pred = reg.predict(X)
    assert np.isfinite(pred).all()
    assert r2_score(y / 1e300, pred / 1e300) > 0.5  # (r2 itself would overflow)


def test_divergence_on_unscaled_features_says_to_scale_them(data):
    X, y = data
    with pytest.raises(
        errors.TrainingError, match=r"features reach \|x\| = 2\.55e\+20: scale them first.*StandardScaler"
    ):
        NeuralNetClassifier(**FAST).fit(X * 1e20, y)


def test_a_finite_fit_with_exploding_gradients_warns_and_says_to_scale(data):
    """One column ~1e15 beside scaled ones: the loss stays finite (no divergence error), the gradient norm
    reaches ~1e14 and the classifier scored below the majority class, with the finding only in ``findings_``."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = data
    X = np.column_stack([X, np.random.RandomState(1).randn(len(X)) * 1e15])
    with pytest.warns(ConvergenceWarning, match=r"Exploding gradients.*features reach \|x\| = .*scale them"):
        clf = NeuralNetClassifier(**{**FAST, "lr": 1e-3, "max_epochs": 5}).fit(X, y)
    assert any(f.kind == "exploding_gradients" for f in clf.findings_)


def test_datetime_labels_survive_save_and_load(tmp_path, data):
    X, y = data
    days = np.where(y == "a", np.datetime64("2020-01-01", "us"), np.datetime64("2021-06-30T12:00", "us"))
    est = NeuralNetClassifier(**FAST).fit(X, days)
    back = load_estimator(est.save(tmp_path / "m"))
    assert back.classes_.dtype == est.classes_.dtype
    np.testing.assert_array_equal(back.classes_, est.classes_)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_save_into_a_file_is_refused_naming_it(tmp_path, data):
    X, y = data
    est = NeuralNetClassifier(**FAST).fit(X, y)
    (tmp_path / "model").write_text("not a folder")
    with pytest.raises(errors.DataError, match=r"'.*model' is a file; expected a folder"):
        est.save(tmp_path / "model")
    assert (tmp_path / "model").read_text() == "not a folder"


@pytest.mark.parametrize("loader", [load_estimator, NeuralNetClassifier.load])
def test_load_given_the_config_file_names_its_folder(saved, loader):
    with pytest.raises(
        errors.DataError, match=r"config\.json' is a file; expected the model folder.*its folder"
    ):
        loader(saved / "config.json")


@pytest.mark.parametrize("loader", [load_estimator, NeuralNetClassifier.load])
def test_load_of_a_json_that_is_not_an_object(tmp_path, saved, loader):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((saved / "model.safetensors").read_bytes())
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(errors.DataError, match=r"config\.json': expected a JSON object .*found a list"):
        loader(folder)


def test_load_of_an_edited_config_names_the_file_and_the_missing_key(tmp_path, saved):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((saved / "model.safetensors").read_bytes())
    doc = json.loads((saved / "config.json").read_text())
    del doc["n_outputs"]
    (folder / "config.json").write_text(json.dumps(doc))
    with pytest.raises(
        errors.DataError, match=r"config\.json' is not a complete model .*'n_outputs' is missing"
    ):
        load_estimator(folder)
    doc = json.loads((saved / "config.json").read_text())
    doc["n_features_in"] = 7  # the weights' shapes no longer fit
    (folder / "config.json").write_text(json.dumps(doc))
    with pytest.raises(errors.DataError, match=r"not a complete model description \(RuntimeError"):
        load_estimator(folder)


def test_a_model_saved_for_cuda_loads_on_the_cpu_with_a_warning(tmp_path, saved, data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes((saved / "model.safetensors").read_bytes())
    doc = json.loads((saved / "config.json").read_text())
    doc["params"]["device"] = "cuda"  # as save() writes it on a GPU machine
    (folder / "config.json").write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match="saved with device='cuda', which is not available here.*CPU"):
        est = load_estimator(folder)
    assert est.get_params()["device"] == "cuda"
    X, _ = data
    np.testing.assert_array_equal(est.predict(X), load_estimator(saved).predict(X))


def test_a_tuned_config_becomes_a_fitted_estimator_with_the_same_hyperparameters():
    from hyperselect.data import load_builtin
    from hyperselect.search import tune

    data = load_builtin("iris")
    best = tune(data, n_trials=2, max_epochs=2, refit=False, random_state=0).best_config
    X, y = data.X_train, data.y_train
    # the natural path: MLPConfig.to_dict() holds arch='mlp', which the estimators accept
    splat = NeuralNetClassifier(**best.to_dict(), random_state=0).fit(X, y)
    assert splat.config_ == best
    from_cfg = NeuralNetClassifier.from_config(best, random_state=0).fit(X, y)
    assert from_cfg.config_ == best and from_cfg.random_state == 0
    again = NeuralNetClassifier.from_config(best.to_dict())  # a config read back from result.json
    assert again.hidden == best.hidden and again.lr == best.lr and again.arch == "mlp"
    np.testing.assert_allclose(splat.predict_proba(X), from_cfg.predict_proba(X))
    # a keyword overrides the config's value
    assert NeuralNetClassifier.from_config(best, max_epochs=1).max_epochs == 1


def test_a_cnn_config_is_refused_clearly(data):
    from hyperselect.nn.config import CNNConfig

    X, _ = data
    with pytest.raises(
        errors.ConfigError, match=r"'arch' parameter of NeuralNetClassifier must be 'mlp'.*'cnn'"
    ):
        NeuralNetClassifier.from_config(CNNConfig())
    with pytest.raises(
        errors.ConfigError, match=r"'arch' parameter of NeuralNetRegressor must be 'mlp'.*refit"
    ):
        NeuralNetRegressor(arch="cnn").fit(X, X[:, 0])
    with pytest.raises(errors.ConfigError, match=r"unknown hyperparameter\(s\) \['widht'\]"):
        NeuralNetClassifier.from_config({"widht": 3})


def test_batch_norm_with_batches_of_one_row_is_a_config_error(data):
    from hyperselect.nn.config import MLPConfig

    X, y = data
    with pytest.raises(
        errors.ConfigError,
        match=r"^The 'batch_size' parameter of NeuralNetClassifier must be an int in \[2, inf\) when "
        r"norm='batch'.*Got 1\.",
    ):
        NeuralNetClassifier(**{**FAST, "norm": "batch", "batch_size": 1}).fit(X, y)
    with pytest.raises(errors.ConfigError, match=r"'batch_size' parameter of MLPConfig .* norm='batch'"):
        MLPConfig(norm="batch", batch_size=1)
    NeuralNetClassifier(**{**FAST, "norm": "layer", "batch_size": 1, "max_epochs": 1}).fit(X, y)
    # a held-out share that would leave one training row leaves two instead
    small = NeuralNetClassifier(**{**FAST, "norm": "batch", "batch_size": 2, "validation_fraction": 0.9})
    small.fit(X[:4], np.array(["a", "b", "a", "b"]))
    assert small.n_iter_ == 3


def test_from_config_names_an_unknown_argument_and_a_newer_format_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An audit: from_config(cfg, foo=1) raised a TypeError naming _NeuralNetBase; a config.json with
    format_version 99 loaded without a word."""
    import json as _json

    from sklearn.datasets import load_iris

    from hyperselect.errors import ConfigError, DataError
    from hyperselect.estimators import NeuralNetClassifier, load_estimator
    from hyperselect.nn.config import MLPConfig

    with pytest.raises(
        ConfigError, match=r"NeuralNetClassifier.from_config: unknown argument\(s\) \['foo'\]"
    ):
        NeuralNetClassifier.from_config(MLPConfig(), foo=1)
    X, y = load_iris(return_X_y=True)
    folder = NeuralNetClassifier(hidden=(4,), max_epochs=2, random_state=0).fit(X, y).save(tmp_path / "m")
    cfg = folder / "config.json"
    doc = _json.loads(cfg.read_text())
    doc["format_version"] = 99
    cfg.write_text(_json.dumps(doc))
    with pytest.raises(DataError, match="format_version 99 is not one this hyperselect reads"):
        load_estimator(folder)


def test_a_setting_that_does_not_fit_y_is_named_as_the_estimators() -> None:
    """An audit: NeuralNetClassifier(loss='bce').fit(X, three classes) said "The 'loss' parameter of MLPConfig"."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), np.arange(30) % 3
    with pytest.raises(
        errors.ConfigError, match="The 'loss' parameter of NeuralNetClassifier must be one of"
    ):
        NeuralNetClassifier(loss="bce", max_epochs=1).fit(X, y)
    Y = (rng.random((30, 3)) > 0.5).astype(int)
    with pytest.raises(errors.ConfigError, match="'class_weight' parameter of NeuralNetClassifier"):
        NeuralNetClassifier(class_weight="balanced", max_epochs=1).fit(X, Y)
