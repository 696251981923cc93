"""Training diagnostics: each classic pathology is built on purpose and must be named; a healthy run has none."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import make_loss
from hyperselect.tasks import Task
from hyperselect.train.diagnostics import ConstantLoss, Finding, activation_stats, constant_loss, diagnose
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
    # 60 epochs without early stopping on 100 rows: the validation loss ends several times its best
    f = found["overfitting"]
    assert f.severity == "warning" and f.data["gross"] and f.data["best_epoch"] == r.best_epoch
    assert "dropout=0.3" in f.remedy and "weight_decay=0.0001" in f.remedy and "hidden=128,128" in f.remedy


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
    train: list[float],
    valid: list[float] | None = None,
    grads: list[list[float]] | None = None,
    lr: float = 0.1,
) -> History:
    h = History()
    for e, t in enumerate(train):
        h.append(
            epoch=e,
            train_loss=t,
            valid_loss=(valid or train)[e],
            valid_score=0.5,
            lr=lr,
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
        "(epochs 0-19) at about 1.099" in f.evidence
        and "left the plateau later (last epoch 0.57)" in f.evidence
    )
    assert f.data["first_epoch"] == 0 and f.data["last_epoch"] == 19
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


# --- audit 2026-12-08: misses (3), a false alarm (9), severities and values (10), dead units (11) ----------


@pytest.fixture(scope="module")
def imbalanced():
    """A tiny table with a 65/35 class split: predicting the prior has a loss clearly below ln 2."""
    X, y = make_classification(n_samples=400, n_features=10, n_informative=6, weights=[0.65], random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return X[:300], y[:300], X[300:], y[300:]


def test_constant_loss_is_the_label_entropy_or_the_target_variance() -> None:
    y = torch.tensor([0] * 63 + [1] * 37)
    config = MLPConfig()
    c = constant_loss(make_loss(config, Task.BINARY), 1, y, y.flip(0), Task.BINARY)
    p = 0.37
    assert c is not None and c.what == "the class prior"
    assert c.train == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)), abs=1e-6)
    # balanced class weights make every class weigh the same: the best constant is then 50/50
    w = torch.tensor([100 / (2 * 63), 100 / (2 * 37)], dtype=torch.float64)
    cw = constant_loss(make_loss(config, Task.BINARY, w), 1, y, y, Task.BINARY)
    assert cw is not None and cw.train == pytest.approx(math.log(2), abs=1e-6)
    t = torch.tensor([0.0, 1.0, 2.0, 5.0])
    r = constant_loss(make_loss(config, Task.REGRESSION), 1, t, t, Task.REGRESSION)
    assert r is not None and r.train == pytest.approx(float(t.var(unbiased=False)), rel=1e-6)


def test_vanishing_gradients_in_a_stretch_of_early_epochs_are_caught() -> None:
    """An audit: 8 sigmoid layers on breast cancer had a first/last ratio of 3.6e-7 at epoch 0 and 1e-5..1e-4 to
    epoch 15; Adam broke free at epoch 21 and the median over all 52 epochs (0.012) hid it."""
    ratios = [3.6e-7, 2e-6, 7e-6, 1e-5, 6e-6, 1e-5, 4e-5, 1e-4] + [2e-2] * 20
    grads = [[r, 1.0, 1.0] for r in ratios]
    (f,) = [
        f for f in diagnose(_history([0.7] * len(ratios), grads=grads), "sigmoid") if f.kind.startswith("van")
    ]
    assert "3.60e-07 to 1.00e-04 of the last layer's for 8 consecutive epochs (epochs 0-7" in f.evidence
    assert f.data["median_ratio"] > 1e-3 and f.data["ratio"] < 1e-3 and "activation=relu" in f.remedy
    # two isolated small ratios are no stretch
    grads = [[1e-4, 1.0, 1.0], [2e-2, 1.0, 1.0], [1e-4, 1.0, 1.0]] + [[2e-2, 1.0, 1.0]] * 10
    assert "vanishing_gradients" not in kinds(diagnose(_history([0.7] * 13, grads=grads), "sigmoid"))


def test_a_loss_at_the_class_priors_is_stuck_at_the_constant() -> None:
    """An audit: the loss stayed at 0.660-0.661, the entropy of the 63/37 split, for 16 epochs and no finding."""
    prior = ConstantLoss(0.6604, 0.6601, "the class prior")
    train = [
        0.7303,
        0.6729,
        0.6634,
        0.6641,
        0.6621,
        0.6615,
        0.6606,
        0.6603,
        0.6605,
        0.6611,
        0.5,
        0.3,
        0.2,
        0.1,
    ]
    valid = [
        0.6863,
        0.6611,
        0.6629,
        0.6628,
        0.6605,
        0.6601,
        0.6601,
        0.6601,
        0.6606,
        0.6603,
        0.5,
        0.3,
        0.2,
        0.15,
    ]
    config = MLPConfig(hidden=(64,) * 8, activation="sigmoid", lr=1e-3)
    found = {
        f.kind: f for f in diagnose(_history(train, valid, lr=1e-3), "sigmoid", config=config, constant=prior)
    }
    f = found["stuck_at_constant"]
    assert f.severity == "warning" and f.data["first_epoch"] == 1 and f.data["last_epoch"] == 9
    assert "0.6604 on the training rows" in f.evidence and "left it later" in f.evidence
    assert "activation=relu" in f.remedy and "norm=batch" in f.remedy and "lr=0.003 to lr=0.01" in f.remedy
    assert "plateau" not in found  # the same stretch, said once
    # a run that learns passes through the prior's loss in an epoch or two: nothing
    fast = [0.75, 0.66, 0.5, 0.4, 0.3, 0.25, 0.2, 0.18, 0.17, 0.16]
    assert "stuck_at_constant" not in kinds(diagnose(_history(fast), "relu", constant=prior))
    # a converged model on weak signal sits below the band: nothing
    weak = [0.7296, 0.69, 0.68] + [0.6352] * 20
    assert not kinds(diagnose(_history(weak), "relu", constant=prior)) & {"stuck_at_constant", "plateau"}


def test_real_sgd_sigmoid_run_that_learns_nothing_is_named(imbalanced) -> None:
    """An audit: 2 sigmoid layers with SGD lr=0.01 ended at balanced accuracy 0.5 with no finding."""
    config = MLPConfig(
        hidden=(64, 64), activation="sigmoid", optimizer="sgd", lr=0.01, max_epochs=8, patience=None
    )
    r = train_network(config, *imbalanced, task="binary")
    found = {f.kind: f for f in r.findings}
    f = found["stuck_at_constant"]
    assert f.data["ended_there"] and "the run ended there" in f.evidence
    assert "optimizer=adam, or lr=0.1 (now 0.01)" in f.remedy and "activation=relu" in f.remedy


def test_a_jittering_flat_loss_is_a_plateau(imbalanced) -> None:
    """An audit: SGD lr=1e-5 with norm=batch jittered 0.5% per epoch around a flat loss: no finding."""
    config = MLPConfig(hidden=(32, 16), optimizer="sgd", lr=1e-5, norm="batch", max_epochs=10, patience=None)
    r = train_network(config, *imbalanced, task="binary")
    (f,) = [f for f in r.findings if f.kind in ("plateau", "stuck_at_constant")]
    assert f.kind == "plateau" and f.data["epochs"] >= 6 and "lr=3e-05 to lr=0.0001" not in f.remedy
    assert "optimizer=adam, or lr=0.0001 (now 1e-05)" in f.remedy
    jitter = [0.6527, 0.6568, 0.6535, 0.6535, 0.6488, 0.6561, 0.6536, 0.6543, 0.6542, 0.6518]
    assert "plateau" in kinds(diagnose(_history(jitter), "relu"))


def test_dropout_noise_in_the_training_loss_is_not_unstable_training() -> None:
    """An audit: 512x512 with dropout=0.5 on 2 mini-batches per epoch: the training loss jumped 5 times while the
    validation loss fell smoothly (0.637 -> 0.08), and lowering the lr was advised."""
    train = [
        0.1931,
        0.1506,
        0.2517,
        0.1608,
        0.14,
        0.1657,
        0.182,
        0.1989,
        0.2292,
        0.2095,
        0.1255,
        0.228,
        0.1444,
    ]
    valid = [
        0.1717,
        0.165,
        0.1595,
        0.1654,
        0.1685,
        0.1707,
        0.1649,
        0.165,
        0.1513,
        0.1403,
        0.134,
        0.1313,
        0.1322,
    ]
    train = [0.7, 0.6, 0.5, 0.4, 0.3, 0.25, *train, 0.1045, 0.1625, 0.1, 0.1045, 0.1625]
    valid = [0.64, 0.5, 0.4, 0.3, 0.25, 0.2, *valid, 0.1206, 0.1275, 0.12, 0.1206, 0.1275]
    assert "unstable_training" not in kinds(diagnose(_history(train, valid), "relu"))
    # the same training loss with a validation loss that jumps with it is unstable, with values to pass
    jumping = [v * (1.5 if t > 0.2 else 1.0) for t, v in zip(train, valid, strict=True)]
    config = MLPConfig(hidden=(512, 512), dropout=0.5, batch_size=64, lr=1e-3)
    (f,) = [
        f
        for f in diagnose(_history(train, jumping, lr=1e-3), "relu", config=config)
        if f.kind.startswith("uns")
    ]
    assert "lr=0.00033 to lr=0.0001 (now 0.001)" in f.remedy and "batch_size=128" in f.remedy


def test_overfitting_severity_separates_an_early_stop_from_gross_overfitting() -> None:
    """An audit: breast cancer's normal early stop (+27%) and noise150's 0.67 -> 2.07 both got the same info."""
    config = MLPConfig(hidden=(512, 512), dropout=0.0)
    mild_train = [0.5, 0.3, 0.2, 0.15, 0.1, 0.08, 0.06]
    mild_valid = [0.5, 0.3, 0.2, 0.19, 0.21, 0.23, 0.2413]
    (f,) = [
        f
        for f in diagnose(_history(mild_train, mild_valid), "relu", config=config)
        if f.kind == "overfitting"
    ]
    assert f.severity == "info" and not f.data["gross"] and "dropout=0.3" in f.remedy
    gross_train = [0.69, 0.59, 0.45, 0.32, 0.2, 0.12, 0.06, 0.02, 0.01]
    gross_valid = [0.67, 0.69, 0.74, 0.82, 0.96, 1.15, 1.38, 1.71, 2.07]
    (f,) = [
        f
        for f in diagnose(_history(gross_train, gross_valid), "relu", config=config)
        if f.kind == "overfitting"
    ]
    assert f.severity == "warning" and f.data["gross"] and "(3.09x)" in f.evidence
    assert "dropout=0.3, weight_decay=0.0001, hidden=256,256" in f.remedy
    # above a constant's loss is gross even below 2x
    prior = ConstantLoss(0.69, 0.69, "the class prior")
    v = [0.5, 0.45, 0.5, 0.6, 0.7, 0.8]
    (f,) = [f for f in diagnose(_history([0.6, 0.5, 0.4, 0.3, 0.2, 0.1], v), "relu", constant=prior)]
    assert (
        f.kind == "overfitting" and f.severity == "warning" and "above the 0.69 of predicting" in f.evidence
    )


def test_a_zero_first_layer_gradient_after_an_explosion_is_dead_units_not_vanishing() -> None:
    """An audit: ELU with SGD lr=5 exploded (loss 1.9e7); the first layer's gradient was then exactly 0 and the
    run was called 'vanishing gradients' with the remedy 'He initialisation'."""
    grads = [[4.0e4, 3.2e6, 2.7e5], [1.7e6, 5.6e7, 3.4e4]] + [[0.0, 0.0, 4.8]] * 10
    train = [3.8e7, 5.3e9] + [1.94e7] * 10
    prior = ConstantLoss(0.6604, 0.6601, "the class prior")
    found = {f.kind: f for f in diagnose(_history(train, grads=grads, lr=5.0), "elu", constant=prior)}
    assert "vanishing_gradients" not in found and "plateau" not in found
    f = found["exploding_gradients"]
    assert "exactly 0 in 10 epochs (epochs 2-11)" in f.evidence and "dead or saturated" in f.evidence
    assert "above the 0.6601 of predicting the class prior" in f.evidence and f.data["worse_than_constant"]
    assert "lr=0.5 (now 5)" in f.remedy and "grad_clip=1.0" in f.remedy


def test_pure_noise_at_the_constant_is_an_info_that_blames_the_features_not_the_optimiser() -> None:
    """noise5000 with defaults: 7 epochs at ln 2, then the training rows are memorised and the validation loss
    rises: no learning rate fixes that."""
    prior = ConstantLoss(0.6931, 0.6931, "the class prior")
    train = [0.695, 0.6930, 0.6925, 0.6915, 0.69, 0.686, 0.6811, 0.675, 0.669]
    valid = [0.6935, 0.6933, 0.6936, 0.694, 0.6945, 0.695, 0.6965, 0.701, 0.7076]
    (f,) = [
        f for f in diagnose(_history(train, valid), "relu", constant=prior) if f.kind == "stuck_at_constant"
    ]
    assert (
        f.severity == "info" and f.data["no_signal_found"] and "found nothing that generalises" in f.evidence
    )
    assert "no setting will help" in f.remedy and "lr=" not in f.remedy
