"""The single-network trainer: determinism, early stopping, divergence, device, schedules, clipping, history."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_multilabel_classification

from hyperselect.nn.config import CNNConfig, MLPConfig
from hyperselect.nn.optim import PLATEAU_FACTOR, cosine_lr
from hyperselect.train import trainer as trainer_mod
from hyperselect.train.history import History
from hyperselect.train.trainer import NetworkRun, evaluate_loss_score, train_network

torch.set_num_threads(1)  # shared CPU: avoid OpenMP oversubscription

SMALL = MLPConfig(hidden=(16, 8), max_epochs=6, patience=None, batch_size=32)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=240, n_features=8, n_informative=5, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return X[:180], y[:180], X[180:], y[180:]


@pytest.fixture(scope="module")
def regression(binary):
    Xtr, _, Xva, _ = binary
    w = np.linspace(-1, 1, Xtr.shape[1]).astype(np.float32)
    return Xtr, Xtr @ w, Xva, Xva @ w


def _fit(config, data, **kw):
    Xtr, ytr, Xva, yva = data
    kw.setdefault("task", "binary")
    return train_network(config, Xtr, ytr, Xva, yva, **kw)


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_same_random_state_same_run(binary):
    a = _fit(SMALL.replace(dropout=0.2), binary, random_state=3)
    b = _fit(SMALL.replace(dropout=0.2), binary, random_state=3)
    assert a.history.train_loss == b.history.train_loss and a.history.valid_loss == b.history.valid_loss
    for pa, pb in zip(_weights(a.model), _weights(b.model), strict=True):
        assert torch.equal(pa, pb)
    c = _fit(SMALL.replace(dropout=0.2), binary, random_state=4)
    assert c.history.train_loss != a.history.train_loss


def test_global_rng_use_does_not_change_a_run(binary):
    torch.manual_seed(0)
    a = _fit(SMALL.replace(dropout=0.3), binary, random_state=1)
    torch.manual_seed(999)
    torch.rand(1000)
    b = _fit(SMALL.replace(dropout=0.3), binary, random_state=1)
    assert a.history.train_loss == b.history.train_loss


def test_data_seed_changes_only_the_batch_order(binary):
    a = _fit(SMALL, binary, random_state=0, data_seed=0)
    b = _fit(SMALL, binary, random_state=0, data_seed=1)
    assert a.history.train_loss != b.history.train_loss
    init_a = trainer_mod.build_model(SMALL, 8, 1, seed=0)
    init_b = trainer_mod.build_model(SMALL, 8, 1, seed=0)
    assert torch.equal(next(init_a.parameters()), next(init_b.parameters()))


def test_stepwise_run_equals_one_call(binary):
    Xtr, ytr, Xva, yva = binary
    run = NetworkRun(SMALL, Xtr, ytr, Xva, yva, task="binary", random_state=5)
    run.run_epochs(2)
    run.run_epochs(4)
    whole = _fit(SMALL, binary, random_state=5)
    assert run.history.train_loss == whole.history.train_loss
    assert run.result().status == "completed"


def test_early_stopping_is_a_flag_with_a_reason_and_keeps_the_best_weights(binary):
    Xtr, ytr, Xva, yva = binary
    # a big network with a big step size overfits 180 rows within a few epochs
    config = MLPConfig(hidden=(256, 256), lr=3e-2, max_epochs=200, patience=3, batch_size=32)
    r = train_network(config, Xtr, ytr, Xva, yva, task="binary", random_state=0)
    assert r.status == "early_stopped"
    assert r.stop_reason.startswith("early stopping: no improvement") and "for 3 epochs" in r.stop_reason
    assert len(r.history) == r.best_epoch + 1 + 3 < 200
    assert r.best_valid_loss == min(r.history.valid_loss)
    # the model returned is the best epoch's, not the last one's
    loss, _ = evaluate_loss_score(
        r.model, trainer_mod.make_loss(config, r.task), torch.as_tensor(Xva), torch.as_tensor(yva), r.task
    )
    assert loss == pytest.approx(r.best_valid_loss, rel=1e-5)


def test_early_stopping_on_the_score(binary):
    config = SMALL.replace(max_epochs=100, patience=2, early_stopping_metric="valid_score", lr=3e-2)
    r = _fit(config, binary, random_state=0)
    assert r.status == "early_stopped"
    assert r.best_valid_score == max(r.history.valid_score[: r.best_epoch + 1])


def test_nan_loss_ends_the_run_as_diverged_with_a_reason(regression):
    r = _fit(
        MLPConfig(hidden=(16,), optimizer="sgd", lr=1e3, max_epochs=20, patience=None),
        regression,
        task="regression",
    )
    assert r.status == "diverged"
    assert r.stop_reason.startswith("diverged: the ") and "at epoch" in r.stop_reason
    assert len(r.history) < 20
    assert any(f.kind == "exploding_gradients" for f in r.findings)


def test_nan_in_the_data_is_recorded_not_raised(binary):
    Xtr, ytr, Xva, yva = binary
    bad = Xtr.copy()
    bad[3, 2] = np.nan
    r = train_network(SMALL, bad, ytr, Xva, yva, task="binary")
    assert r.status == "diverged" and "at epoch 0" in r.stop_reason


def test_runs_without_cuda(binary, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert trainer_mod.default_device().type == "cpu"
    r = _fit(SMALL.replace(max_epochs=1), binary)
    assert all(p.device.type == "cpu" for p in r.model.parameters())
    r = _fit(SMALL.replace(max_epochs=1), binary, device="cpu")
    assert next(r.model.parameters()).device.type == "cpu"


def test_constant_and_cosine_schedules(binary):
    base = SMALL.lr
    const = _fit(SMALL, binary)
    assert const.history.lr == [base] * SMALL.max_epochs
    cos = _fit(SMALL.replace(lr_schedule="cosine"), binary)
    # the lr of epoch e is the one in force while it trained: CosineAnnealingLR after e steps
    assert cos.history.lr == pytest.approx(
        [cosine_lr(base, e, SMALL.max_epochs) for e in range(SMALL.max_epochs)]
    )


def test_plateau_schedule_halves_the_lr_when_valid_loss_stalls(binary):
    # a step size too small to change the validation loss by the scheduler's 1e-4 relative threshold (but
    # not below torch's eps=1e-8, under which ReduceLROnPlateau ignores a reduction)
    config = SMALL.replace(optimizer="sgd", lr=1e-5, lr_schedule="plateau", max_epochs=12)
    r = _fit(config, binary)
    lrs = r.history.lr
    assert lrs[0] == 1e-5 and min(lrs) < 1e-5
    ratios = {round(b / a, 6) for a, b in itertools.pairwise(lrs)}
    assert ratios <= {1.0, PLATEAU_FACTOR}


def test_gradient_clipping_bounds_each_step(binary):
    Xtr, ytr, Xva, yva = binary
    # one batch per epoch, so the first recorded gradient norm is taken before any update in both runs
    config = SMALL.replace(optimizer="sgd", lr=1.0, max_epochs=1, batch_size=256)
    run = NetworkRun(config.replace(grad_clip=1e-6), Xtr, ytr, Xva, yva, task="binary", random_state=0)
    before = torch.cat([p.detach().flatten().clone() for p in run.model.parameters()])
    run.run_epochs(1)
    after = torch.cat([p.detach().flatten() for p in run.model.parameters()])
    # plain SGD moves the weights by lr * clipped gradient: at most lr * clip in L2 norm
    assert float((after - before).norm()) <= 1.0 * 1e-6 * (1 + 1e-4)
    free = _fit(config, binary, random_state=0)
    moved = torch.cat([p.detach().flatten() for p in free.model.parameters()])
    assert float((moved - before).norm()) > 1e-3
    # the history records the gradient norms before clipping, so clipping cannot hide an explosion
    assert run.history.grad_norms[0] == pytest.approx(free.history.grad_norms[0], rel=1e-4)


def test_history_fields(binary):
    r = _fit(SMALL.replace(hidden=(16, 8, 4)), binary)
    h = r.history
    n = SMALL.max_epochs
    assert h.epoch == list(range(n))
    for name in ("train_loss", "valid_loss", "valid_score", "lr", "seconds", "grad_norms"):
        assert len(getattr(h, name)) == n, name
    assert all(len(g) == 4 for g in h.grad_norms)  # three hidden weight matrices and the output layer
    assert all(g > 0 and math.isfinite(g) for row in h.grad_norms for g in row)
    assert all(s > 0 for s in h.seconds) and all(0 <= s <= 1 for s in h.valid_score)
    assert h.train_loss[-1] < h.train_loss[0]
    assert History.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["status"] == "completed" and doc["config"]["hidden"] == [16, 8, 4]


def test_callback_can_prune(binary):
    seen = []

    def cb(epoch, score, loss):
        seen.append(epoch)
        return epoch == 2

    r = _fit(SMALL, binary, callback=cb)
    assert r.status == "pruned" and r.stop_reason == "pruned after epoch 2" and seen == [0, 1, 2]


@pytest.mark.parametrize("task", ["multiclass", "multilabel", "regression", "binary-ce", "cnn"])
def test_every_task_learns(task, regression):
    if task == "multilabel":
        X, Y = make_multilabel_classification(n_samples=200, n_features=8, n_classes=3, random_state=0)
        X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
        data, kw = (X[:150], Y[:150].astype(np.float32), X[150:], Y[150:].astype(np.float32)), {}
    elif task == "regression":
        data, kw = regression, {}
    else:
        X, y = make_classification(n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0)
        X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
        data, kw = (X[:180], y[:180], X[180:], y[180:]), {"n_classes": 3}
    config = SMALL.replace(max_epochs=15, lr=1e-2)
    name = task
    if task == "binary-ce":
        data = (data[0], data[1] % 2, data[2], data[3] % 2)
        config, name, kw = config.replace(loss="cross_entropy"), "binary", {}
    if task == "cnn":
        config = CNNConfig(
            channels=(4,), hidden=(8,), input_shape=(1, 8), max_epochs=15, lr=1e-2, patience=None
        )
        name = "multiclass"
    r = _fit(config, data, task=name, **kw)
    assert r.status == "completed"
    assert r.history.valid_score[-1] > r.history.valid_score[0] or r.best_valid_score > 0.8
