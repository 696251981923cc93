"""Training diagnostics: each classic pathology is built on purpose and must be named; a healthy run has none."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from hyperselect.nn.config import MLPConfig
from hyperselect.train.diagnostics import Finding, activation_stats, diagnose
from hyperselect.train.history import History
from hyperselect.train.trainer import NetworkRun, train_network

torch.set_num_threads(1)  # shared CPU: avoid OpenMP oversubscription


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=400, n_features=10, n_informative=6, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return X[:300], y[:300], X[300:], y[300:]


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}


def test_healthy_run_has_no_findings(data):
    r = train_network(MLPConfig(hidden=(32, 16), max_epochs=15, patience=None), *data, task="binary")
    assert r.status == "completed" and r.findings == []
    assert r.best_valid_score > 0.7  # it learns (chance is 0.5)


def test_twenty_layer_sigmoid_network_has_vanishing_gradients(data):
    r = train_network(
        MLPConfig(hidden=(32,) * 20, activation="sigmoid", max_epochs=3, patience=None), *data, task="binary"
    )
    found = {f.kind: f for f in r.findings}
    assert "vanishing_gradients" in found
    f = found["vanishing_gradients"]
    assert f.data["ratio"] < 1e-3 and "21 layers" in f.evidence
    assert "ReLU" in f.remedy and f.severity == "warning"


def test_lr_10_explodes_and_ends_the_run(data):
    Xtr, _, Xva, _ = data
    w = np.linspace(-1, 1, Xtr.shape[1]).astype(np.float32)
    r = train_network(
        MLPConfig(hidden=(32, 16), optimizer="sgd", lr=10.0, max_epochs=10, patience=None),
        Xtr,
        Xtr @ w,
        Xva,
        Xva @ w,
        task="regression",
    )
    assert r.status == "diverged"
    found = {f.kind: f for f in r.findings}
    assert "exploding_gradients" in found
    assert "learning rate" in found["exploding_gradients"].remedy


def test_growing_gradient_norms_are_exploding_even_when_finite():
    h = History()
    for e, g in enumerate([0.1, 1.0, 10.0, 200.0]):
        h.append(
            epoch=e,
            train_loss=1.0 / (e + 1),
            valid_loss=1.0,
            valid_score=0.5,
            lr=0.1,
            grad_norms=[g, g, g],
            seconds=0.01,
        )
    (f,) = [f for f in diagnose(h, "relu") if f.kind == "exploding_gradients"]
    assert f.data["growth"] == pytest.approx(2000.0)


def test_huge_negative_bias_kills_relu_units(data):
    config = MLPConfig(hidden=(32, 16), max_epochs=3, patience=None)
    run = NetworkRun(config, *data, task="binary", random_state=0)
    with torch.no_grad():
        run.model.linears[0].bias.fill_(-100.0)  # every pre-activation far below zero: ReLU outputs 0
    run.run_epochs(3)
    r = run.result()
    found = {f.kind: f for f in r.findings}
    assert "dead_relu" in found
    assert found["dead_relu"].data == {"layer": 1, "dead_fraction": 1.0}
    assert r.activation_stats[0]["dead_fraction"] == 1.0
    # the same bias with leaky_relu is not "dead" by this rule (the activation is not in the ReLU family)
    assert "dead_relu" not in kinds(diagnose(r.history, "leaky_relu", r.activation_stats))


def test_plateau_when_loss_is_flat_far_from_the_start(data):
    r = train_network(
        MLPConfig(hidden=(32, 16), optimizer="sgd", lr=1e-7, max_epochs=8, patience=None),
        *data,
        task="binary",
    )
    assert "plateau" in kinds(r.findings)


def test_overfitting_when_valid_loss_rises_and_train_loss_falls(data):
    Xtr, ytr, Xva, yva = data
    r = train_network(
        MLPConfig(hidden=(256, 256), lr=1e-2, max_epochs=60, patience=None),
        Xtr[:100],
        ytr[:100],
        Xva,
        yva,
        task="binary",
    )
    found = {f.kind: f for f in r.findings}
    assert "overfitting" in found and found["overfitting"].severity == "info"
    assert found["overfitting"].data["best_epoch"] == r.best_epoch


def test_activation_stats_counts_never_active_units():
    model = torch.nn.Module()
    model.activations = torch.nn.ModuleList([torch.nn.ReLU()])  # type: ignore[assignment]
    lin = torch.nn.Linear(2, 4)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor([1.0, -1.0, -1.0, 1.0]))
    model.forward = lambda x: model.activations[0](lin(x))  # type: ignore[method-assign]
    (stats,) = activation_stats(model, torch.randn(5, 2))
    assert stats["dead_fraction"] == 0.5 and math.isfinite(stats["saturated_fraction"])


def test_diagnose_accepts_a_history_dict_and_findings_serialise(data):
    r = train_network(
        MLPConfig(hidden=(32,) * 20, activation="sigmoid", max_epochs=2, patience=None), *data, task="binary"
    )
    again = diagnose(r.history.to_dict(), "sigmoid")
    assert kinds(again) >= {"vanishing_gradients"}
    d = again[0].to_dict()
    assert set(d) == {"kind", "severity", "evidence", "remedy", "data"}


def _history(
    train: list[float], valid: list[float] | None = None, grads: list[list[float]] | None = None
) -> History:
    h = History()
    for e, t in enumerate(train):
        h.append(
            epoch=e,
            train_loss=t,
            valid_loss=(valid or train)[e],
            valid_score=0.5,
            lr=0.1,
            grad_norms=(grads or [[1.0, 1.0, 1.0]] * len(train))[e],
            seconds=0.01,
        )
    return h


def test_a_jumping_training_loss_is_unstable_training_not_overfitting() -> None:
    """An audit: lr=0.1 on breast cancer (train loss 2.3, 0.27, 0.52, 0.30, 0.29, 0.51, 0.77, 4.25, 0.49, 0.29,
    0.11) was called overfitting 'while the training loss kept falling'."""
    train = [2.3, 0.27, 0.52, 0.30, 0.29, 0.51, 0.77, 4.25, 0.49, 0.29, 0.11]
    valid = [0.5, 0.21, 0.4, 0.3, 0.25, 0.6, 0.9, 2.8, 0.7, 0.6, 0.5]
    found = {f.kind: f for f in diagnose(_history(train, valid), "relu")}
    assert "overfitting" not in found and "unstable_training" in found
    f = found["unstable_training"]
    assert (
        f.data == {"jumps": 4, "epochs": [2, 5, 6, 7]}
        and "(now 0.1)" in f.remedy
        and "grad_clip=1.0" in f.remedy
    )
    # a noisy but falling loss near zero is no instability: jumps must exceed a tenth of the median loss
    calm = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.004, 0.009, 0.003, 0.007, 0.002]
    assert "unstable_training" not in kinds(diagnose(_history(calm), "relu"))


def test_no_vanishing_gradients_where_every_gradient_is_zero() -> None:
    """Dead units give zero gradients everywhere, the last layer too: 0 / 0 is not a vanishing ratio."""
    grads = [[1.0, 1.0, 1.0]] * 2 + [[0.0, 0.0, 0.0]] * 8
    assert "vanishing_gradients" not in kinds(diagnose(_history([1.0] * 10, grads=grads), "relu"))
    grads = [[1e-6, 1.0, 1.0]] * 3 + [[0.0, 0.0, 0.0]] * 7
    (f,) = [
        f
        for f in diagnose(_history([1.0, 0.9, 0.8] + [0.7] * 7, grads=grads), "relu")
        if f.kind.startswith("van")
    ]
    assert "median over 3 epochs" in f.evidence and "activation=relu" not in f.remedy  # already ReLU


def test_plateau_names_its_epochs_and_level_and_a_converged_model_has_none() -> None:
    stuck = [1.107] + [1.099] * 19 + [0.9, 0.7, 0.57]
    (f,) = [f for f in diagnose(_history(stuck), "relu") if f.kind == "plateau"]
    assert (
        "(epochs 1-19) at about 1.099" in f.evidence
        and "left the plateau later (last epoch 0.57)" in f.evidence
    )
    assert f.data["first_epoch"] == 1 and f.data["last_epoch"] == 19
    converged = [0.7296, 0.69, 0.68] + [0.6752] * 20  # a linear model on weak signal, at its optimum
    assert "plateau" not in kinds(diagnose(_history(converged), "relu"))


def test_exploding_findings_keep_the_number_that_triggered_them_and_mention_clipping() -> None:
    grads = [[1.0, 2.0, 3.0], [7.91e9, 1.0, 1.0]]
    config = MLPConfig(hidden=(4, 4), grad_clip=1.0)
    (f,) = [
        f
        for f in diagnose(_history([1.0, 0.9], grads=grads), "relu", config=config)
        if f.kind.startswith("expl")
    ]
    assert f.data["largest_norm"] == pytest.approx(7.91e9) and f.data["nonfinite"] is None
    assert "before clipping at 1" in f.evidence and "grad_clip" not in f.remedy
    (f,) = [f for f in diagnose(_history([1.0, 0.9], [1.0, math.inf]), "relu") if f.kind.startswith("expl")]
    assert "the validation loss became NaN/inf" in f.evidence and f.data["nonfinite"] == "valid_loss"


def test_an_enormous_loss_is_exploding_even_with_moderate_gradients() -> None:
    """An audit: unscaled inputs (x 1e3) with a large lr gave a cross-entropy of ~1e9 every epoch with gradient
    norms just under 1e6, and no finding."""
    train = [1.2e9, 0.9e9, 1.1e9, 1.0e9]
    (f,) = [
        f for f in diagnose(_history(train, grads=[[9.8e5, 1.0, 1.0]] * 4), "relu") if f.kind.startswith("ex")
    ]
    assert "the training loss reached 1.2e+09" in f.evidence and f.data["largest_loss"] == pytest.approx(
        1.2e9
    )
    assert "exploding_gradients" not in kinds(diagnose(_history([2.3, 1.1, 0.7, 0.5]), "relu"))
