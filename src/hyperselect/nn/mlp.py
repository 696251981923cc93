"""Build the torch module a config describes.

Initial weights depend only on ``(config, n_inputs, n_outputs, seed)``: the population trainer builds each
member through this function and stacks the parameters, so a member starts exactly where the single-network
run with the same seed starts.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hyperselect.nn.config import CNNConfig, MLPConfig

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}

LEAKY_SLOPE = 0.01  # torch's default negative slope; the population trainer uses the same value


def make_activation(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


def _init_linear(layer: nn.Linear | nn.Conv1d | nn.Conv2d, init: str, activation: str) -> None:
    if init == "default":
        return
    if init == "he":
        nonlin = "leaky_relu" if activation == "leaky_relu" else "relu"
        nn.init.kaiming_normal_(
            layer.weight,
            a=LEAKY_SLOPE if nonlin == "leaky_relu" else 0.0,
            nonlinearity="leaky_relu" if nonlin == "leaky_relu" else "relu",
        )
    elif init == "xavier":
        gain = nn.init.calculate_gain("tanh") if activation == "tanh" else 1.0
        nn.init.xavier_uniform_(layer.weight, gain=gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class MLP(nn.Module):
    """Linear -> norm -> activation -> dropout, per hidden layer, then a linear output layer."""

    def __init__(self, config: MLPConfig, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        self.config = config
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.activations = nn.ModuleList()
        width = n_inputs
        for h in config.hidden:
            lin = nn.Linear(width, h)
            _init_linear(lin, config.init, config.activation)
            self.linears.append(lin)
            if config.norm == "batch":
                self.norms.append(nn.BatchNorm1d(h))
            elif config.norm == "layer":
                self.norms.append(nn.LayerNorm(h))
            else:
                self.norms.append(nn.Identity())
            self.activations.append(make_activation(config.activation))
            width = h
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.out = nn.Linear(width, n_outputs)
        _init_linear(self.out, "xavier" if config.init != "default" else "default", "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin, norm, act in zip(self.linears, self.norms, self.activations, strict=True):
            x = self.dropout(act(norm(lin(x))))
        return self.out(x)


class CNN(nn.Module):
    """Conv blocks (conv, norm, activation, pool by 2) over the reshaped input, then an MLP head."""

    def __init__(self, config: CNNConfig, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        self.config = config
        shape = tuple(config.input_shape)
        if math.prod(shape) != n_inputs:
            from hyperselect.errors import ConfigError

            raise ConfigError(
                f"The 'input_shape' parameter of CNNConfig must multiply to the number of features "
                f"({n_inputs}). Got {shape!r} (product {math.prod(shape)})."
            )
        self.input_shape = shape
        dims = config.spatial_dims
        conv_cls = nn.Conv1d if dims == 1 else nn.Conv2d
        bn_cls = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        pool_cls: dict[int, dict[str, type[nn.Module]]] = {
            1: {"max": nn.MaxPool1d, "avg": nn.AvgPool1d},
            2: {"max": nn.MaxPool2d, "avg": nn.AvgPool2d},
        }
        blocks: list[nn.Module] = []
        in_c, spatial = shape[0], list(shape[1:])
        self.activations = nn.ModuleList()
        for c in config.channels:
            pad = config.kernel_size // 2
            conv = conv_cls(in_c, c, config.kernel_size, padding=pad)
            # an odd kernel keeps the length; an even one adds one (its padding is k // 2 on both sides)
            spatial = [s + 2 * pad - config.kernel_size + 1 for s in spatial]
            _init_linear(conv, config.init, config.activation)
            blocks.append(conv)
            if config.norm == "batch":
                blocks.append(bn_cls(c))
            elif config.norm == "layer":
                blocks.append(nn.GroupNorm(1, c))
            act = make_activation(config.activation)
            self.activations.append(act)
            blocks.append(act)
            if config.pool != "none" and min(spatial) >= 4:
                blocks.append(pool_cls[dims][config.pool](2))
                spatial = [s // 2 for s in spatial]
            in_c = c
        self.features = nn.Sequential(*blocks)
        n_flat = in_c * math.prod(spatial)
        self.head = MLP(
            MLPConfig(
                **{
                    k: v
                    for k, v in config.to_dict().items()
                    if k in MLPConfig.__dataclass_fields__ and k != "arch"
                }
            ),
            n_flat,
            n_outputs,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], *self.input_shape)
        return self.head(self.features(x).flatten(1))


def build_model(config: MLPConfig, n_inputs: int, n_outputs: int, seed: int | None = None) -> nn.Module:
    """Build the module for ``config``; with ``seed`` the initial weights are reproducible."""

    def _build() -> nn.Module:
        if isinstance(config, CNNConfig):
            return CNN(config, n_inputs, n_outputs)
        return MLP(config, n_inputs, n_outputs)

    if seed is None:
        return _build()
    with torch.random.fork_rng(devices=[]):
        # the CPU generator only, which is what module initialisation draws from: ``torch.manual_seed`` would
        # also queue a lazy seed for CUDA, XPU and MTIA, each recording a formatted stack (1-1.5 ms a call,
        # about 4 % of a search that builds hundreds of members)
        torch.default_generator.manual_seed(seed)
        return _build()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
