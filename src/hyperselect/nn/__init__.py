"""What is fitted: network configurations and the modules they build."""

from hyperselect.nn.config import CNNConfig, MLPConfig, config_from_dict
from hyperselect.nn.mlp import build_model, count_parameters

__all__ = ["CNNConfig", "MLPConfig", "build_model", "config_from_dict", "count_parameters"]
