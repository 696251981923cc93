"""The kinds of supervised task hyperselect handles."""

from __future__ import annotations

from enum import StrEnum


class Task(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION

    @property
    def score_name(self) -> str:
        """Name of the higher-is-better score used for early stopping and search."""
        return {
            Task.BINARY: "accuracy",
            Task.MULTICLASS: "accuracy",
            Task.MULTILABEL: "f1_micro",
            Task.REGRESSION: "r2",
        }[self]
