"""How networks are fitted: the single trainer, the population trainer, early stopping, diagnostics."""

from hyperselect.train.diagnostics import Finding, diagnose
from hyperselect.train.history import History
from hyperselect.train.trainer import TrainResult, train_network

__all__ = ["Finding", "History", "TrainResult", "diagnose", "train_network"]
