"""Edge cases of single-network training, its configs and diagnostics, as a user hits them (QA pass)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.errors import ConfigError
from hyperselect.nn.config import CNNConfig, MLPConfig
from hyperselect.nn.mlp import build_model
from hyperselect.train.trainer import train_network

torch.set_num_threads(1)  # shared CPU: avoid OpenMP oversubscription

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("restore_cli_logging")


@pytest.mark.parametrize(("length", "kernel"), [(30, 40), (30, 4), (40, 6), (7, 2)])
def test_cnn_with_an_even_or_oversized_kernel_builds_and_runs(length, kernel):
    """An even kernel adds one to the length at each conv (padding k // 2): the head must be sized for it."""
    config = CNNConfig(channels=(4, 4), kernel_size=kernel, hidden=(8,), input_shape=(1, length))
    model = build_model(config, length, 3, seed=0)
    assert model(torch.randn(5, length)).shape == (5, 3)


def test_cnn_2d_with_an_even_kernel_runs():
    config = CNNConfig(channels=(4, 4, 4), kernel_size=4, hidden=(8,), input_shape=(1, 8, 8))
    assert build_model(config, 64, 10, seed=0)(torch.randn(2, 64)).shape == (2, 10)


@pytest.mark.parametrize("name", ["lr", "eps", "huber_delta", "weight_decay", "min_delta", "grad_clip"])
def test_infinite_hyperparameters_are_rejected(name):
    with pytest.raises(ConfigError, match=f"'{name}' parameter of MLPConfig"):
        MLPConfig(**{name: float("inf")})


def test_option_names_are_matched_case_insensitively():
    c = MLPConfig(activation="ReLU", optimizer="SGD", norm="Batch", lr_schedule=" Cosine")
    assert (c.activation, c.optimizer, c.norm, c.lr_schedule) == ("relu", "sgd", "batch", "cosine")
    assert CNNConfig(pool="MAX").pool == "max"
    with pytest.raises(ConfigError, match="'activation' parameter"):
        MLPConfig(activation="swish")


def test_plateau_does_not_fire_on_a_converged_linear_model():
    """Logistic regression on noisy labels levels off at its optimum: that is convergence, not a plateau."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5)).astype(np.float32)
    y = ((X[:, 0] + 1.5 * rng.normal(size=600)) > 0).astype(int)
    r = train_network(
        MLPConfig(hidden=(), lr=1e-2, max_epochs=60, patience=None),
        X[:400],
        y[:400],
        X[400:],
        y[400:],
        task="binary",
        device="cpu",
    )
    assert r.history.train_loss[-1] < 0.9 * r.history.train_loss[0]  # it learned, then levelled off
    assert "plateau" not in {f.kind for f in r.findings}


def _train(*args: str):
    result = runner.invoke(app, ["--threads", "1", "train", *args])
    result.flat = " ".join(result.output.split())  # type: ignore[attr-defined]
    return result


def test_cli_accepts_activation_and_optimizer_names_in_any_case(tmp_path):
    r = _train(
        "iris", "--set", "activation=ReLU", "--set", "optimizer=Adam", "--set", "max_epochs=2", "-o", tmp_path
    )
    assert r.exit_code == 0, r.output
    import json

    config = json.loads((tmp_path / "result.json").read_text())["config"]
    assert (config["activation"], config["optimizer"]) == ("relu", "adam")


def test_cli_cnn_with_an_even_kernel_larger_than_the_input_trains():
    r = _train("breast_cancer", "--arch", "cnn", "--set", "kernel_size=40", "--set", "max_epochs=1")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output


def test_cli_cnn_on_a_plain_table_warns_that_rows_are_read_as_signals():
    r = _train("iris", "--arch", "cnn", "--set", "max_epochs=1")
    assert r.exit_code == 0, r.output
    assert "no signal or image shape" in r.flat and "--arch mlp" in r.flat
    quiet = _train("digits", "--arch", "cnn", "--set", "max_epochs=1", "--set", "channels=4")
    assert quiet.exit_code == 0 and "no signal or image shape" not in quiet.flat


def test_cli_diverged_status_is_not_repeated():
    r = _train("iris", "--set", "optimizer=sgd", "--set", "lr=1000", "--set", "max_epochs=3")
    assert r.exit_code == 0, r.output
    assert "diverged: the training loss" in r.flat and "diverged: diverged" not in r.flat
    assert "exploding_gradients" in r.flat and "Lower the learning rate" in r.flat


def test_cli_rejects_an_infinite_learning_rate():
    r = _train("iris", "--set", "lr=inf")
    assert r.exit_code == 1 and "'lr' parameter of MLPConfig must be a float in (0, inf). Got inf" in r.flat


def test_a_diverged_run_reports_no_metrics_and_saves_no_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"weights of an earlier run")
    r = _train("iris", "--set", "lr=100", "--set", "optimizer=sgd", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "no metrics: the run diverged (the training loss became nan" in r.flat
    doc = json.loads((out / "result.json").read_text())
    # no metrics: null in standard JSON (Python wrote a bare NaN that jq and JSON.parse refuse)
    assert doc["status"] == "diverged" and all(v is None for v in doc["metrics"].values())
    assert not re.search(r"[:\[,]\s*-?(NaN|Infinity)\b", (out / "result.json").read_text())
    assert not (out / "model.safetensors").exists()  # stale weights would not belong to this result


def test_cli_a_hyperparameter_set_twice_is_refused():
    r = _train("iris", "--set", "lr=0.1", "--set", "lr=0.01")
    assert r.exit_code == 1 and "--set lr is given twice" in r.flat


def test_a_diverged_regression_run_reports_no_metrics_rather_than_a_traceback() -> None:
    """Regression scores went through scikit-learn's mean_squared_error, which refuses the NaN predictions of
    a diverged network: a traceback where classification said "no metrics"."""
    r = _train("diabetes", "--set", "lr=3", "--set", "optimizer=sgd", "--set", "max_epochs=10")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "no metrics: the run diverged" in r.flat


def test_cli_a_width_left_out_of_hidden_is_an_error_and_diagnostics_show_severity() -> None:
    r = _train("iris", "--set", "hidden=64,,32")
    assert r.exit_code == 1 and "--set hidden=64,,32" in r.flat and "list of ints" in r.flat
    r = _train("iris", "--set", "optimizer=sgd", "--set", "lr=1000", "--set", "max_epochs=3")
    assert "│ exploding_gradients │" in r.flat and "│ warning │" in r.flat  # the severity under the finding
