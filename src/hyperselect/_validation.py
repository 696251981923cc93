"""Parameter constraints declared as data and checked in one place, with one message template.

The 'lr' parameter of MLPConfig must be a float in (0, inf). Got -1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hyperselect.errors import ConfigError, DataError


@dataclass(frozen=True)
class Interval:
    kind: type  # int or float
    low: float | None
    high: float | None
    closed: str = "both"  # "both", "left", "right", "neither"
    bools: bool = False  # also True/False (scikit-learn's ``verbose`` is documented as a bool)

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return self.bools
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if not math.isfinite(v):  # NaN is in no interval; +-inf is outside every one we describe ("[0, inf)")
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        return lo_ok and hi_ok

    def describe(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        lo = "-inf" if self.low is None else _fmt(self.low)
        hi = "inf" if self.high is None else _fmt(self.high)
        text = f"{'an int' if self.kind is int else 'a float'} in {left}{lo}, {hi}{right}"
        return text + " or a bool" if self.bools else text


@dataclass(frozen=True)
class Options:
    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class IntTuple:
    """A non-empty (or possibly empty) sequence of positive ints, e.g. hidden layer widths."""

    allow_empty: bool = True
    low: int = 1

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            return False
        if not value and not self.allow_empty:
            return False
        return all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= self.low for v in value
        )

    def describe(self) -> str:
        return f"a {'possibly empty ' if self.allow_empty else 'non-empty '}sequence of ints >= {self.low}"


@dataclass(frozen=True)
class NoneOr:
    inner: Interval | Options

    def accepts(self, value: Any) -> bool:
        return value is None or self.inner.accepts(value)

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"


Constraint = Interval | Options | IntTuple | NoneOr


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_params(owner: str, params: Mapping[str, Any], constraints: Mapping[str, Constraint]) -> None:
    """Raise :class:`ConfigError` for the first parameter that breaks its constraint."""
    for name, constraint in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not constraint.accepts(value):
            raise ConfigError(
                f"The {name!r} parameter of {owner} must be {constraint.describe()}. Got {value!r}."
            )


def check_tabular_data(caller: str, data: Any, *, or_none: bool = False) -> None:
    """Raise :class:`DataError` unless ``data`` is a prepared table (what ``tune``, ``advise`` and ``compare``
    take), naming ``caller`` and, for a DataFrame, the function that prepares one."""
    if all(hasattr(data, a) for a in ("X_train", "y_train", "X_valid", "y_valid", "task")):
        return
    raise DataError(
        f"The 'data' parameter of {caller} must be a TabularData (from hyperselect.data: load_builtin, "
        f"prepare_tabular or prepare_arrays){' or None' if or_none else ''}. Got {type(data).__name__}."
        + (
            " For a DataFrame, call prepare_tabular(df, target=...) first."
            if hasattr(data, "columns")
            else ""
        )
    )
