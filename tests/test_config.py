"""MLPConfig / CNNConfig: validation with one message template, immutability, round trips, and the model built."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hyperselect.errors import ConfigError
from hyperselect.nn.config import (
    ACTIVATIONS,
    INITS,
    NORMS,
    OPTIMIZERS,
    CNNConfig,
    MLPConfig,
    config_from_dict,
)
from hyperselect.nn.losses import make_loss, n_outputs_for, resolve_loss
from hyperselect.nn.mlp import build_model, count_parameters
from hyperselect.nn.optim import make_optimizer
from hyperselect.tasks import Task

torch.set_num_threads(1)  # shared CPU: avoid OpenMP oversubscription


def test_defaults_are_valid_and_frozen():
    c = MLPConfig()
    assert c.hidden == (128, 64) and c.arch == "mlp" and c.depth == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("lr", -1, "a float in (0, inf)"),
        ("lr", 0.0, "a float in (0, inf)"),
        ("lr", float("nan"), "a float in (0, inf)"),
        ("dropout", 1.0, "a float in [0, 1)"),
        ("batch_size", 0, "an int in [1, inf)"),
        ("batch_size", 32.0, "an int in [1, inf)"),
        ("max_epochs", True, "an int in [1, inf)"),
        ("patience", 0, "None or an int in [1, inf)"),
        ("grad_clip", -1.0, "None or a float in (0, inf)"),
        ("activation", "swish", "one of 'relu', 'leaky_relu'"),
        ("norm", "group", "one of 'none', 'batch', 'layer'"),
        ("optimizer", "lbfgs", "one of 'adam'"),
        ("lr_schedule", "step", "one of 'constant', 'cosine', 'plateau'"),
        ("hidden", (64, 0), "a possibly empty sequence of ints >= 1"),
        ("hidden", "64", "a possibly empty sequence of ints >= 1"),
        ("beta2", 1.0, "a float in [0, 1)"),
        ("label_smoothing", -0.1, "a float in [0, 1)"),
    ],
)
def test_invalid_value_names_parameter_rule_and_value(name, value, rule):
    with pytest.raises(ConfigError) as info:
        MLPConfig(**{name: value})
    msg = str(info.value)
    assert msg.startswith(f"The {name!r} parameter of MLPConfig must be {rule}")
    assert msg.endswith(f"Got {value!r}.") or msg.endswith(f"Got {float(value)!r}.")


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        MLPConfig(lr=-1)


def test_ints_become_floats_and_lists_tuples():
    c = MLPConfig(lr=1, hidden=[32, 16], grad_clip=5)
    assert isinstance(c.lr, float) and c.hidden == (32, 16) and isinstance(c.grad_clip, float)
    assert hash(c) == hash(MLPConfig(lr=1.0, hidden=(32, 16), grad_clip=5.0))  # usable as a search key


def test_replace_validates_and_rejects_unknown_names():
    c = MLPConfig().replace(lr=0.1, hidden=(8,))
    assert c.lr == 0.1 and c.hidden == (8,)
    with pytest.raises(ConfigError, match="Unknown hyperparameter"):
        MLPConfig().replace(learning_rate=0.1)
    with pytest.raises(ConfigError, match="'dropout' parameter"):
        MLPConfig().replace(dropout=2.0)


@pytest.mark.parametrize(
    "config",
    [
        MLPConfig(hidden=(), grad_clip=1.0, patience=None),
        CNNConfig(channels=(4, 8), input_shape=(1, 8, 8), pool="avg"),
    ],
)
def test_dict_and_json_round_trip(config):
    d = json.loads(json.dumps(config.to_dict()))
    back = config_from_dict(d)
    assert back == config and type(back) is type(config)


def test_config_from_dict_errors():
    with pytest.raises(ConfigError, match="Unknown architecture 'rnn'"):
        config_from_dict({"arch": "rnn"})
    with pytest.raises(ConfigError, match=r"Unknown hyperparameter\(s\) for MLPConfig: \['depth'\]"):
        config_from_dict({"depth": 3})


def test_cnn_config_checks_input_shape():
    with pytest.raises(ConfigError, match="'input_shape' parameter of CNNConfig must be"):
        CNNConfig(input_shape=(40,))
    with pytest.raises(ConfigError, match="multiply to the number of features"):
        build_model(CNNConfig(input_shape=(1, 40)), 41, 10)
    assert CNNConfig(input_shape=(1, 8, 8)).spatial_dims == 2


def test_build_model_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = build_model(MLPConfig(hidden=(16, 8)), 5, 3, seed=7)
    after = torch.rand(3)
    b = build_model(MLPConfig(hidden=(16, 8)), 5, 3, seed=7)
    c = build_model(MLPConfig(hidden=(16, 8)), 5, 3, seed=8)
    assert torch.equal(after, expected_next)  # building with a seed does not consume the caller's stream
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    assert count_parameters(a) == 5 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3
    # the same weights as torch.manual_seed(7) followed by an unseeded build (seeding the CPU generator alone)
    torch.manual_seed(7)
    d = build_model(MLPConfig(hidden=(16, 8)), 5, 3)
    for pa, pd in zip(a.parameters(), d.parameters(), strict=True):
        assert torch.equal(pa, pd)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("norm", NORMS)
def test_every_activation_and_norm_builds_and_runs(activation, norm):
    model = build_model(MLPConfig(hidden=(8, 8), activation=activation, norm=norm, dropout=0.1), 4, 2, seed=0)
    out = model(torch.randn(6, 4))
    assert out.shape == (6, 2) and torch.isfinite(out).all()


@pytest.mark.parametrize("init", INITS)
def test_initialisations_differ_and_zero_biases(init):
    model = build_model(MLPConfig(hidden=(64,), init=init), 32, 2, seed=0)
    w = model.linears[0].weight.detach()
    if init == "he":  # kaiming normal, fan_in 32: std sqrt(2/32) = 0.25
        assert abs(float(w.std()) - 0.25) < 0.03
    if init != "default":
        assert torch.count_nonzero(model.linears[0].bias) == 0


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_is_built_with_the_config_values(optimizer):
    model = build_model(MLPConfig(hidden=(4,)), 3, 1, seed=0)
    opt = make_optimizer(
        MLPConfig(optimizer=optimizer, lr=0.05, weight_decay=0.01, momentum=0.8), model.parameters()
    )
    group = opt.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01
    if optimizer in ("momentum", "nesterov"):
        assert group["momentum"] == 0.8 and group["nesterov"] == (optimizer == "nesterov")


def test_losses_follow_the_task():
    assert resolve_loss(MLPConfig(), Task.REGRESSION) == "mse"
    assert resolve_loss(MLPConfig(), Task.BINARY) == "bce"
    assert n_outputs_for(Task.BINARY, 2, loss="cross_entropy") == 2 and n_outputs_for(Task.BINARY, 2) == 1
    with pytest.raises(ConfigError, match=r"for a regression task\. Got 'bce'"):
        resolve_loss(MLPConfig(loss="bce"), Task.REGRESSION)
    # label smoothing moves the optimum away from a hard 0/1 target
    logits, y = torch.tensor([[10.0, -10.0]]), torch.tensor([0])
    smooth = make_loss(MLPConfig(label_smoothing=0.2), Task.MULTICLASS)(logits, y)
    hard = make_loss(MLPConfig(), Task.MULTICLASS)(logits, y)
    assert float(smooth) > float(hard)
    huber = make_loss(MLPConfig(loss="huber", huber_delta=1.0), Task.REGRESSION)
    assert float(huber(torch.tensor([[10.0]]), torch.tensor([0.0]))) == pytest.approx(9.5)
