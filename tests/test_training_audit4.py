"""Training audit 4: the population against the single trainer on randomised mixes, and the defects it found.

Every test runs on tiny data in float64 on the CPU, in about a second.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

from hyperselect.errors import ConfigError
from hyperselect.nn.config import ACTIVATIONS, MLPConfig
from hyperselect.train.batching import RowSchedule, nested_row_order
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(task: str, rng: np.random.Generator, n_train: int, n_valid: int) -> tuple[np.ndarray, ...]:
    X = rng.normal(size=(n_train + n_valid, 6))
    if task == "binary":
        y: np.ndarray = (X[:, 0] + 0.5 * rng.normal(size=len(X)) > 0.6).astype(int)
    elif task == "multiclass":
        y = np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.7, 0.0, 0.9])
    elif task == "multilabel":
        y = (X[:, :3] + 0.5 * rng.normal(size=(len(X), 3)) > 0.3).astype(float)
    else:
        y = X[:, :2] @ rng.normal(size=(2, 2)) + 0.1 * rng.normal(size=(len(X), 2))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _random_config(
    rng: np.random.Generator, task: str, loss: str, depth: int, norm: str, bs: int
) -> MLPConfig:
    """A configuration off the chaotic corners: with batch norm only non-adaptive optimizers (Adam, AdamW and
    RMSProp turn the rounding noise of the pre-norm bias, whose true gradient is 0, into steps of the learning rate's
    size, and the single trainer itself then moves by 1e-4 under a one-ulp change of its weights), no beta2 = 0
    (a step of m / |g|), no learning rate that diverges."""
    optimizers = (
        ("sgd", "momentum", "nesterov")
        if norm == "batch"
        else ("adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop")
    )
    opt = str(rng.choice(optimizers))
    kw: dict = dict(
        hidden=(6, 6) if norm == "layer" else tuple(int(rng.integers(3, 13)) for _ in range(depth)),
        activation=str(rng.choice(ACTIVATIONS)),
        optimizer=opt,
        lr=float(10 ** rng.uniform(-3, -1.5)) * (3 if opt in ("sgd", "momentum", "nesterov") else 1),
        weight_decay=float(rng.choice([0.0, 1e-3, 0.05])),
        momentum=float(rng.choice([0.9, 0.5, 0.0])) if opt == "momentum" else 0.9,
        beta1=float(rng.choice([0.9, 0.0])),
        init=str(rng.choice(["default", "he", "xavier"])),
        lr_schedule=str(rng.choice(["constant", "cosine", "plateau"])),
        grad_clip=[None, 0.3, 2.0][int(rng.integers(3))],
        batch_size=bs,
        norm=norm,
        loss=loss,
        max_epochs=int(rng.integers(2, 7)),
        patience=[None, 1, 2][int(rng.integers(3))],
        early_stopping_metric=str(rng.choice(["valid_loss", "valid_score"])),
        min_delta=float(rng.choice([0.0, 1e-3])),
    )
    if task != "regression":
        kw["label_smoothing"] = float(rng.choice([0.0, 0.1]))
    if task in ("binary", "multiclass"):
        kw["class_weight"] = str(rng.choice(["none", "balanced"]))
    if loss == "huber":
        kw["huber_delta"] = float(rng.choice([0.5, 2.0]))
    return MLPConfig(**kw)


def _curves(history) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array(
        [
            *history.train_loss,
            *history.valid_loss,
            *history.valid_score,
            *history.lr,
            *itertools.chain.from_iterable(history.grad_norms),
        ]
    )


CASES = [
    ("binary", "bce", 1, "none", 7),
    ("binary", "cross_entropy", 2, "batch", 16),
    ("multiclass", "auto", 2, "none", 16),
    ("multiclass", "auto", 1, "layer", 7),
    ("multilabel", "auto", 2, "none", 32),
    ("regression", "huber", 2, "none", 7),
    ("regression", "mse", 0, "none", 16),
    ("regression", "mse", 1, "batch", 7),
]


@pytest.mark.parametrize(("case", "seed"), [(c, s) for s in (0, 1) for c in CASES])
def test_randomised_mix_every_member_follows_its_single_trainer_twin(case: tuple, seed: int) -> None:  # type: ignore[type-arg]
    """A random population (widths, optimizers, activations, schedules, clipping, early stopping on loss or
    score, class weights, smoothing; members pruned by the callback, stopping early and at their own
    max_epochs, compacted away; a last partial batch; a row schedule) run in uneven chunks of epochs: each
    member's history, status, reason, best epoch and best weights are its ``NetworkRun`` twin's."""
    task, loss, depth, norm, bs = case
    rng = np.random.default_rng(1000 * seed + CASES.index(case))
    Xtr, ytr, Xva, yva = _data(task, rng, int(rng.integers(40, 80)), 25)
    k = 5
    configs = [_random_config(rng, task, loss, depth, norm, bs) for _ in range(k)]
    seeds = [int(s) for s in rng.integers(0, 1000, size=k)]
    schedule = None
    if seed == 1:
        labels = ytr if task in ("binary", "multiclass") else np.zeros(len(ytr))
        schedule = RowSchedule(nested_row_order(labels, 3), [(2, len(ytr) // 3)])
    n_classes = {"binary": 2, "multiclass": 4, "multilabel": 3, "regression": None}[task]
    metric = "balanced_accuracy" if task in ("binary", "multiclass") and seed == 1 else None
    kw = dict(task=task, n_classes=n_classes, data_seed=7, dtype=F64, row_schedule=schedule, metric=metric)
    prune_at = {0: 1, 3: 2}
    chunks = [2, 1, 3, 2]
    pop = PopulationTrainer(configs, Xtr, ytr, Xva, yva, seeds=seeds, **kw)
    for c in chunks:
        pop.run_epochs(c, lambda m, epoch, score, loss: prune_at.get(m) == epoch)
    assert pop.n_stacked == len(pop.active)
    for i, config in enumerate(configs):
        run = NetworkRun(config, Xtr, ytr, Xva, yva, random_state=seeds[i], **kw)
        for c in chunks:
            run.run_epochs(c, lambda epoch, score, loss, i=i: prune_at.get(i) == epoch)
        ref, got = run.result(), pop.result(i)
        a, b = _curves(ref.history), _curves(got.history)
        assert a.shape == b.shape, f"member {i}: {len(ref.history)} vs {len(got.history)} epochs"
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-12, err_msg=f"member {i}: {config}")
        assert (got.status, got.stop_reason, got.best_epoch) == (ref.status, ref.stop_reason, ref.best_epoch)
        for (name, va), vb in zip(
            ref.model.state_dict().items(), got.model.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(vb.to(va.dtype), va, rtol=1e-7, atol=1e-10, msg=f"member {i}: {name}")


def test_nesterov_without_momentum_is_refused_with_a_clear_error() -> None:
    """torch's SGD raised "Nesterov momentum requires a momentum and zero dampening" from deep inside the
    single trainer (``hyperselect train --set optimizer=nesterov --set momentum=0`` printed a traceback),
    while a population trained the same config as plain SGD: the config now refuses it where it is written."""
    for optimizer in ("nesterov", "Nesterov"):
        with pytest.raises(
            ConfigError, match=r"'momentum' parameter of MLPConfig .* optimizer='nesterov'.*Got 0"
        ):
            MLPConfig(optimizer=optimizer, momentum=0.0)
    with pytest.raises(ConfigError, match="optimizer='sgd'"):
        MLPConfig(optimizer="nesterov").replace(momentum=0)
    # momentum 0 stays valid where it means plain SGD
    assert MLPConfig(optimizer="momentum", momentum=0.0).momentum == 0.0
    assert MLPConfig(optimizer="nesterov", momentum=0.5).momentum == 0.5


def test_result_of_a_running_network_does_not_rewind_it() -> None:
    """``NetworkRun.result()`` loaded the best epoch's weights into the run's own module: a run asked for its
    result mid-training then went on from its best epoch instead of its current weights, which a population
    member (whose ``result`` builds a new module) does not.  The best weights now go to a copy while it runs."""
    rng = np.random.default_rng(0)
    data = _data("multiclass", rng, 60, 30)
    config = MLPConfig(hidden=(8,), optimizer="sgd", lr=3.0, batch_size=16, max_epochs=6, patience=None)
    kw = dict(task="multiclass", n_classes=4, random_state=3, data_seed=1, dtype=F64)
    straight = NetworkRun(config, *data, **kw)
    straight.run_epochs(6)
    asked = NetworkRun(config, *data, **kw)
    asked.run_epochs(2)
    mid = asked.result()
    assert asked.best_state is not None
    best_then = {k: v.clone() for k, v in asked.best_state.items()}
    assert (
        mid.best_epoch == 0 and asked.history.valid_loss[1] > asked.history.valid_loss[0]
    )  # best is not the last
    asked.run_epochs(4)
    np.testing.assert_array_equal(asked.history.valid_loss, straight.history.valid_loss)
    # the mid-run result still holds the best epoch's weights, and a finished run's module is its best one
    torch.testing.assert_close(dict(mid.model.state_dict()), best_then, rtol=0, atol=0)
    end = asked.result()
    assert end.model is asked.model
    torch.testing.assert_close(dict(asked.model.state_dict()), asked.best_state, rtol=0, atol=0)


@pytest.mark.parametrize("fused", ["auto", "0"])
def test_a_member_without_clipping_is_not_scaled_when_its_gradient_norm_overflows(
    fused: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """With another member clipping, a member without clipping (bound inf) whose gradient norm overflowed to inf
    got the factor inf / inf = NaN (and numpy's "invalid value encountered in divide" warning): its weights
    became NaN where the single trainer, which does not scale its gradients, kept finite ones."""
    monkeypatch.setenv("HYPERSELECT_FUSED", fused)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    X[:, 0] *= 1e79  # a gradient entry of ~1e155: its square overflows, the loss does not
    data = (X[:32], y[:32], X[32:], y[32:])
    configs = [
        MLPConfig(
            hidden=(), optimizer="sgd", lr=1e-3, batch_size=40, max_epochs=1, patience=None, grad_clip=clip
        )
        for clip in (None, 1.0)
    ]
    kw = dict(task="regression", data_seed=0, dtype=F64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        pop = PopulationTrainer(configs, *data, seeds=[0, 1], **kw)
        pop.run_epochs(1)
    for i, config in enumerate(configs):
        run = NetworkRun(config, *data, random_state=i, **kw)
        run.run_epochs(1)
        assert pop.status(i) == run.status == "diverged" and pop.reason(i) == run.reason
        got, ref = pop.build_member_model(i).out.weight, run.model.out.weight
        assert bool(torch.isfinite(ref).all())
        torch.testing.assert_close(got, ref, rtol=1e-12, atol=0)


def test_the_estimators_refuse_nesterov_without_momentum_by_their_own_name() -> None:
    from hyperselect.estimators import NeuralNetClassifier

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    with pytest.raises(ConfigError, match=r"NeuralNetClassifier.*momentum"):
        NeuralNetClassifier(optimizer="nesterov", momentum=0.0, max_epochs=1).fit(X, y)
