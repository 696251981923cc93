"""Typed search spaces: which hyperparameters are searched, over what range, and why.

A :class:`SearchSpace` is an ordered mapping of dimension name -> :class:`Dimension` plus a base
:class:`~hyperselect.nn.config.MLPConfig` that holds every value not searched (``max_epochs``, ``patience``,
the task's loss, ...).  It is turned into a configuration through Optuna's define-by-run API
(:meth:`SearchSpace.suggest`), so conditional dimensions (``momentum`` only for optimizers that use it) need
no special casing in the samplers.

Dimensions are named after :class:`MLPConfig` fields, plus three that build ``hidden``: ``n_layers``, ``width``
and ``shape`` (``"constant"``: every layer ``width`` wide; ``"funnel"``: each layer half the previous one, at
least 8).  A space is edited with :meth:`fix`, :meth:`narrow` and :meth:`extend` (each returns a new space),
or from a TOML/YAML file with the same three sections (:meth:`apply_file`)::

    [fix]
    activation = "relu"

    [narrow.lr]
    low = 1e-4
    high = 1e-2

    [extend.weight_decay]
    type = "float"
    low = 1e-6
    high = 1e-2
    log = true

    [base]            # values that are not searched
    max_epochs = 60
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperselect._validation import Constraint, Interval, Options, check_params
from hyperselect.errors import ConfigError
from hyperselect.nn.config import CNNConfig, MLPConfig

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

#: Dimensions that are not MLPConfig fields: they are combined into ``hidden``.
ARCH_DIMS = ("n_layers", "width", "shape")
SHAPES = ("constant", "funnel")
#: Dimensions that build a CNN's ``channels``: ``n_conv`` blocks, the first ``conv_channels`` wide, each next
#: one twice as wide (at most MAX_CONV_CHANNELS).
CONV_DIMS = ("n_conv", "conv_channels")
MAX_CONV_CHANNELS = 256
#: Everything that only means something for ``arch="cnn"``: not suggested, and dropped, for an MLP.
CNN_ONLY = (
    *CONV_DIMS,
    *(
        f.name
        for f in dataclasses.fields(CNNConfig)
        if f.init and f.name not in {g.name for g in dataclasses.fields(MLPConfig)}
    ),
)
ARCHS: dict[str, type[MLPConfig]] = {"mlp": MLPConfig, "cnn": CNNConfig}
#: ``momentum`` only means something for these optimizers; elsewhere it is not suggested at all.
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov")  # RMSProp runs without momentum (nn/optim.py)
#: Order of suggestion: learning rate first (the most important single hyperparameter), then the architecture.
_ORDER = (
    "lr",
    "optimizer",
    "momentum",
    "arch",
    "n_conv",
    "conv_channels",
    "kernel_size",
    "pool",
    "n_layers",
    "width",
    "shape",
    "batch_size",
)


def _config_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(CNNConfig) if f.init and f.name not in ("hidden", "channels")]


def known_dimensions() -> list[str]:
    """Every name a dimension may have (``hidden`` and ``channels`` can only be fixed: they are searched
    through ``n_layers``/``width``/``shape`` and ``n_conv``/``conv_channels``)."""
    return [*ARCH_DIMS, *CONV_DIMS, "arch", "hidden", "channels", *_config_fields()]


#: Fixed-only names -> the dimensions that search them (fixing one drops the others, and vice versa).
_BUILT_FROM = {"hidden": ARCH_DIMS, "channels": CONV_DIMS}


def _check_name(name: Any) -> None:
    known = known_dimensions()
    if not isinstance(name, str):
        raise ConfigError(f"A search dimension's name must be a string. Got {name!r}.")
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"Unknown search dimension {name!r}.{hint} Known: {', '.join(sorted(known))}.")


#: What a value of each dimension that is not a config field may be.
_DIM_CONSTRAINTS: dict[str, Constraint] = {
    "n_layers": Interval(int, 0, None),
    "width": Interval(int, 1, None),
    "shape": Options(SHAPES),
    "n_conv": Interval(int, 1, None),
    "conv_channels": Interval(int, 1, None),
    "arch": Options(tuple(ARCHS)),
}


def _constraint(name: str) -> Constraint | None:
    return _DIM_CONSTRAINTS.get(name) or CNNConfig._constraints().get(name)


def canonical_value(name: str, value: Any) -> Any:
    """``value`` as the config spells it where only its case differs ('Momentum' -> 'momentum', as MLPConfig and
    ``--set`` read names), else ``value`` unchanged (and checked where it is used)."""
    if not isinstance(value, str) or value == value.strip().lower():
        return value
    try:
        check_value(name, value)
        return value
    except ConfigError:
        pass
    lowered = value.strip().lower()
    try:
        check_value(name, lowered)
    except ConfigError:
        return value
    return lowered


def check_value(name: str, value: Any) -> None:
    """Raise ConfigError unless ``value`` is a valid value of dimension ``name`` (a config field's constraint,
    or the rule of ``n_layers``, ``width``, ...): checked where a value is written, not at the first trial."""
    constraint = _constraint(name)
    if constraint is None:
        return
    if name in _DIM_CONSTRAINTS:
        if not constraint.accepts(value):
            raise ConfigError(f"The {name!r} dimension must be {constraint.describe()}. Got {value!r}.")
        return
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(constraint, Interval):
        value = value if constraint.kind is int else float(value)  # MLPConfig takes lr=1 as 1.0
    owner = "CNNConfig" if name in CNN_ONLY or name == "channels" else "MLPConfig"
    check_params(owner, {name: value}, {name: constraint})
    if name == "input_shape" and len(value) not in (2, 3):
        raise ConfigError(
            "The 'input_shape' parameter of CNNConfig must be (channels, length) or (channels, height, "
            f"width). Got {value!r}."
        )


def _is_int_dim(name: str) -> bool:
    c = _constraint(name)
    return isinstance(c, Interval) and c.kind is int


@dataclass(frozen=True)
class Dimension:
    """Base class of the typed dimensions."""

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if "choices" in d:
            d["choices"] = list(d["choices"])
        if d.get("weights", 0) is None:
            del d["weights"]
        elif d.get("weights") is not None:
            d["weights"] = list(d["weights"])
        if d.get("prior", 0) is None:  # no prior: keep the dict as it was before priors existed
            del d["prior"], d["spread"]
        return {"type": _TYPE_NAMES[type(self)], **d}

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def has_prior(self) -> bool:
        return False

    def sample_prior(self, rng: np.random.Generator) -> Any:
        """A draw from the dimension's prior (uniform on its scale where it has none)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Categorical(Dimension):
    """One of ``choices``; ``weights`` (optional, one per choice) is the prior: how often practitioners'
    experience says each choice is the right one.  It shapes the startup trials, not the range."""

    choices: tuple[Any, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise ConfigError("A categorical dimension needs at least one choice. Got [].")
        for c in self.choices:
            # Optuna stores categorical choices in the study: only JSON scalars survive every storage.
            if not (c is None or isinstance(c, bool | int | float | str)):
                raise ConfigError(f"Categorical choices must be None, bool, int, float or str. Got {c!r}.")
        if self.weights is not None:
            w = tuple(float(x) for x in self.weights)
            if len(w) != len(self.choices) or any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
                raise ConfigError(
                    f"Categorical weights must be one non-negative number per choice {list(self.choices)}, "
                    f"not all zero. Got {list(self.weights)}."
                )
            object.__setattr__(self, "weights", w)

    @property
    def has_prior(self) -> bool:
        return self.weights is not None

    def sample_prior(self, rng: np.random.Generator) -> Any:
        w = np.ones(len(self.choices)) if self.weights is None else np.asarray(self.weights)
        return self.choices[int(rng.choice(len(self.choices), p=w / w.sum()))]

    def weight(self, value: Any) -> float:
        """The prior probability of ``value`` (uniform without weights)."""
        w = [1.0] * len(self.choices) if self.weights is None else list(self.weights)
        return w[self.choices.index(value)] / sum(w) if value in self.choices else 0.0

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.choices))

    def contains(self, value: Any) -> bool:
        return value in self.choices

    def describe(self) -> str:
        if self.weights is None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        total = sum(self.weights)
        return "one of " + ", ".join(
            f"{c!r} ({w / total:.0%})" for c, w in zip(self.choices, self.weights, strict=True)
        )


class _Numeric(Dimension):
    """Shared by :class:`Int` and :class:`Float`: the prior is a normal distribution on the dimension's own
    scale (log scale where ``log``), centred on ``prior``, with standard deviation ``spread`` times the width of
    the range, truncated to the range."""

    low: Any
    high: Any
    log: bool
    prior: Any
    spread: float

    def _check_prior(self) -> None:
        if self.prior is None:
            return
        if isinstance(self.prior, bool) or not isinstance(self.prior, int | float):
            raise ConfigError(f"A dimension's prior must be a number in its range. Got {self.prior!r}.")
        if not self.low <= self.prior <= self.high:
            raise ConfigError(
                f"A dimension's prior must lie in its range [{self.low}, {self.high}]. Got {self.prior}."
            )
        if not (math.isfinite(self.spread) and self.spread > 0):
            raise ConfigError(f"A dimension's prior spread must be a float in (0, inf). Got {self.spread}.")

    @property
    def has_prior(self) -> bool:
        return self.prior is not None

    def _to_unit(self, v: float) -> float:
        return math.log(v) if self.log else float(v)

    def _from_unit(self, u: float) -> float:
        return math.exp(u) if self.log else u

    def _draw(self, rng: np.random.Generator) -> float:
        lo, hi = self._to_unit(self.low), self._to_unit(self.high)
        if self.prior is None or hi == lo:
            return self._from_unit(float(rng.uniform(lo, hi)))
        mu, sigma = self._to_unit(self.prior), self.spread * (hi - lo)
        for _ in range(100):  # truncation by rejection: the mass inside is >= 16% whatever mu and sigma
            u = float(rng.normal(mu, sigma))
            if lo <= u <= hi:
                return self._from_unit(u)
        return self._from_unit(min(max(mu, lo), hi))

    def log_prior(self, values: np.ndarray) -> np.ndarray:
        """The prior's log density at ``values``, up to a constant (the truncation's, the same for all)."""
        x = np.asarray(values, dtype=float)
        if self.prior is None:
            return np.zeros_like(x)
        lo, hi = self._to_unit(self.low), self._to_unit(self.high)
        u = np.log(np.maximum(x, np.finfo(float).tiny)) if self.log else x
        sigma = self.spread * (hi - lo) if hi > lo else 1.0
        return -0.5 * ((u - self._to_unit(self.prior)) / sigma) ** 2  # type: ignore[no-any-return]

    def _clipped(self, low: Any, high: Any) -> Any:
        return None if self.prior is None else min(max(self.prior, low), high)


@dataclass(frozen=True)
class Int(_Numeric):
    low: int
    high: int
    log: bool = False
    prior: int | None = None
    spread: float = 0.25

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, self.log, int)
        self._check_prior()

    def sample_prior(self, rng: np.random.Generator) -> int:
        return int(min(max(round(self._draw(rng)), self.low), self.high))

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high

    def describe(self) -> str:
        return (
            f"integer in [{self.low}, {self.high}]"
            + (" (log scale)" if self.log else "")
            + (f", prior ~{self.prior}" if self.prior is not None else "")
        )


@dataclass(frozen=True)
class Float(_Numeric):
    low: float
    high: float
    log: bool = False
    prior: float | None = None
    spread: float = 0.25

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        _check_range(self.low, self.high, self.log, float)
        if self.prior is not None and not isinstance(self.prior, bool):
            object.__setattr__(self, "prior", float(self.prior))
        self._check_prior()

    def sample_prior(self, rng: np.random.Generator) -> float:
        return float(min(max(self._draw(rng), self.low), self.high))

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=self.log)

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and self.low <= value <= self.high
        )

    def describe(self) -> str:
        return (
            f"float in [{self.low:g}, {self.high:g}]"
            + (" (log scale)" if self.log else "")
            + (f", prior ~{self.prior:g}" if self.prior is not None else "")
        )


def _check_range(low: Any, high: Any, log: bool, kind: type) -> None:
    for what, v in (("low", low), ("high", high)):
        ok = isinstance(v, int) if kind is int else isinstance(v, int | float)
        if not ok or isinstance(v, bool) or (kind is float and not math.isfinite(v)):
            raise ConfigError(
                f"The {what!r} bound of {'an int' if kind is int else 'a float'} dimension must be a finite "
                f"{kind.__name__}. Got {v!r}."
            )
    if low > high:
        raise ConfigError(
            f"A dimension's low bound must not exceed its high bound. Got low={low}, high={high}."
        )
    if log and low <= 0:
        raise ConfigError(f"A log-scale dimension needs a positive low bound. Got low={low}.")


_TYPE_NAMES: dict[type, str] = {Categorical: "categorical", Int: "int", Float: "float"}
_NUMERIC_KEYS = ("low", "high", "log", "prior", "spread")


def _replaced_by(name: str) -> tuple[str, ...]:
    """The names that fixing ``name`` makes meaningless: ``hidden`` replaces n_layers/width/shape, and a fixed
    n_layers replaces a fixed ``hidden``."""
    if name in _BUILT_FROM:
        return _BUILT_FROM[name]
    return tuple(whole for whole, parts in _BUILT_FROM.items() if name in parts)


def _check_dimension(name: str, dim: Dimension) -> None:
    """Every value ``dim`` can propose must be valid for ``name``: each choice, and both ends of a range (the
    constraints are intervals, so the ends decide).  Otherwise every trial that draws one would fail."""
    if isinstance(dim, Categorical):
        values = list(dim.choices)
    elif isinstance(dim, Int | Float):
        values = [dim.low, dim.high]
    else:
        return
    for v in values:
        try:
            check_value(name, v)
        except ConfigError as exc:
            hint = ""
            if isinstance(dim, Float) and _is_int_dim(name):
                hint = f" {name!r} takes integers: give it type 'int' and int bounds."
            raise ConfigError(f"Cannot search {name!r} over {dim.describe()}: {exc}{hint}") from exc


def dimension_from_dict(d: Mapping[str, Any], where: str = "", default_kind: str | None = None) -> Dimension:
    """Build a dimension from ``{"type": "float", "low": ..., "high": ..., "log": true}`` and friends.

    Without ``type``: categorical where there are ``choices``, else ``default_kind`` (the kind of the config
    field: ``weight_decay`` from 0 to 1 is a float range, not the integers 0 and 1), else float where a bound
    is a float, else int."""
    d = dict(d)
    kind = d.pop("type", None)
    if kind is None:
        if "choices" in d:
            kind = "categorical"
        elif default_kind is not None:
            kind = default_kind
        else:
            floats = isinstance(d.get("low"), float) or isinstance(d.get("high"), float)
            kind = "float" if floats else "int"
    keys = {"categorical": ("choices", "weights"), "int": _NUMERIC_KEYS, "float": _NUMERIC_KEYS}.get(
        str(kind)
    )
    if keys is not None:
        bad = [str(k) for k in d if k not in keys]
        missing = [k for k in keys[:2] if k not in d and k != "weights"]
        if bad or missing:
            import difflib

            hints = "".join(
                f" Did you mean {c[0]!r} for {k!r}?"
                for k in bad
                if (c := difflib.get_close_matches(k, keys, n=1))
            )
            what = ([f"unknown key(s) {bad}"] if bad else []) + [f"no {k!r}" for k in missing]
            raise ConfigError(
                f"Bad {kind} dimension {where}: {', '.join(what)}; expected {', '.join(keys)}"
                f"{' (and type)' if kind != 'categorical' else ''}.{hints}"
            )
    try:
        if kind == "categorical":
            choices = d.pop("choices")
            if isinstance(choices, str | bytes) or not isinstance(choices, Sequence):
                raise ConfigError(f"Bad dimension {where}: choices must be a list. Got {choices!r}.")
            weights = d.pop("weights", None)
            return Categorical(tuple(choices), None if weights is None else tuple(weights), **d)
        if kind == "int":
            return Int(**d)
        if kind == "float":
            return Float(**d)
    except (TypeError, KeyError) as exc:
        raise ConfigError(
            f"Bad dimension {where}: {exc}. Expected keys: type, low, high, log or type, choices."
        ) from exc
    raise ConfigError(f"Unknown dimension type {kind!r} {where}; expected 'categorical', 'int' or 'float'.")


def _table_form(section: str, name: str, spec: Any) -> str:
    """The TOML a ``[narrow]``/``[extend]`` entry takes, with the user's own values where they gave two."""
    low, high = (spec[0], spec[1]) if isinstance(spec, list | tuple) and len(spec) == 2 else ("...", "...")
    if section == "narrow":
        return (
            f"Expected, in TOML: [narrow.{name}] then low = {low} and high = {high} on lines of their own (or "
            "choices = [...] for a categorical dimension)."
        )
    return (
        f'Expected, in TOML: [extend.{name}] then type = "float", low = {low}, high = {high} (and log = true for '
        'a log scale) on lines of their own, or type = "categorical" and choices = [...].'
    )


class SearchSpace:
    """An ordered set of typed dimensions, the fixed values, the base config and the reason for each choice.

    ``reasons`` maps a dimension (or a base field such as ``max_epochs``) to a sentence saying why; ``notes``
    holds rules that are not a single dimension (the loss follows the task, ...).
    """

    def __init__(
        self,
        dims: Mapping[str, Dimension],
        *,
        base: MLPConfig | None = None,
        fixed: Mapping[str, Any] | None = None,
        reasons: Mapping[str, str] | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        for name in dims:
            _check_name(name)
        self.dims: dict[str, Dimension] = dict(dims)
        self.fixed: dict[str, Any] = dict(fixed or {})
        for name in self.fixed:
            _check_name(name)
        self.base = base if base is not None else MLPConfig()
        self.reasons: dict[str, str] = dict(reasons or {})
        self.notes = list(notes)
        overlap = set(self.dims) & set(self.fixed)
        if overlap:
            raise ConfigError(f"Dimensions both searched and fixed: {sorted(overlap)}.")

    # -- editing ------------------------------------------------------------------------------------------------
    def _copy(self, *, dims: Mapping[str, Dimension] | None = None, **changes: Any) -> SearchSpace:
        kw: dict[str, Any] = {
            "base": self.base,
            "fixed": self.fixed,
            "reasons": self.reasons,
            "notes": self.notes,
        }
        kw.update(changes)
        return SearchSpace(self.dims if dims is None else dims, **kw)

    def fix(self, **values: Any) -> SearchSpace:
        """Stop searching these dimensions and use the given values (also for names not searched before)."""
        dims, fixed, reasons = dict(self.dims), dict(self.fixed), dict(self.reasons)
        for whole, parts in _BUILT_FROM.items():
            both = [p for p in parts if p in values]
            if whole in values and both:
                raise ConfigError(
                    f"Cannot fix {whole!r} and {', '.join(map(repr, both))} together: {whole!r} is built from "
                    f"{', '.join(parts)}. Fix either {whole!r} (e.g. {whole}=[32, 16]) or those."
                )
        for name, value in values.items():
            _check_name(name)
            value = tuple(value) if isinstance(value, list) else canonical_value(name, value)
            try:
                check_value(name, value)
            except ConfigError as exc:
                raise ConfigError(f"Cannot fix {name!r} to {value!r}: {exc}") from exc
            dims.pop(name, None)
            for dropped in _replaced_by(name):  # hidden=[32, 16] replaces n_layers, width and shape
                dims.pop(dropped, None)
                fixed.pop(dropped, None)
            fixed[name] = value
            reasons[name] = f"fixed to {value!r} by the user"
        space = self._copy(dims=dims, fixed=fixed, reasons=reasons)
        space._check_buildable()
        return space

    def narrow(
        self,
        name: str,
        *,
        low: float | None = None,
        high: float | None = None,
        choices: Sequence[Any] | None = None,
    ) -> SearchSpace:
        """Restrict a searched dimension to a sub-range (or a subset of its choices)."""
        _check_name(name)
        if name not in self.dims:
            raise ConfigError(
                f"Cannot narrow {name!r}: it is not searched (searched: {', '.join(self.dims)}). "
                "Use extend to add it."
            )
        dim = self.dims[name]
        new: Dimension
        if isinstance(dim, Categorical):
            if choices is None or low is not None or high is not None:
                raise ConfigError(
                    f"Narrow the categorical dimension {name!r} with choices=[...]. "
                    f"Got low={low}, high={high}, choices={choices}."
                )
            if isinstance(choices, str | bytes) or not isinstance(choices, Sequence):
                raise ConfigError(f"Narrow {name!r} with a list of choices. Got choices={choices!r}.")
            choices = [canonical_value(name, c) for c in choices]
            outside = [c for c in choices if c not in dim.choices]
            if outside:
                raise ConfigError(
                    f"Cannot narrow {name!r} to {outside}: not among its choices {list(dim.choices)}. "
                    "Use extend to replace the dimension."
                )
            w = None if dim.weights is None else tuple(dim.weights[dim.choices.index(c)] for c in choices)
            new = Categorical(tuple(choices), None if w is None or sum(w) <= 0 else w)
        else:
            assert isinstance(dim, Int | Float)
            if choices is not None:
                raise ConfigError(
                    f"{name!r} is numeric; narrow it with low= and high=. Got choices={choices}."
                )
            kind = int if isinstance(dim, Int) else float
            for what, v in (("low", low), ("high", high)):
                ok = isinstance(v, int) if kind is int else isinstance(v, int | float)
                if v is not None and (not ok or isinstance(v, bool) or not math.isfinite(v)):
                    raise ConfigError(
                        f"Cannot narrow {name!r}: {what} must be a finite {kind.__name__} "
                        f"({name!r} is {dim.describe()}). Got {what}={v!r}."
                    )
            lo = dim.low if low is None else low
            hi = dim.high if high is None else high
            if lo > hi:
                raise ConfigError(
                    f"Cannot narrow {name!r}: low must not exceed high. Got low={lo}, high={hi}."
                )
            if lo < dim.low or hi > dim.high:
                raise ConfigError(
                    f"Cannot narrow {name!r} to [{lo}, {hi}]: outside its range [{dim.low}, "
                    f"{dim.high}]. Use extend to replace the dimension."
                )
            new = (
                Int(int(lo), int(hi), dim.log, dim._clipped(int(lo), int(hi)), dim.spread)
                if isinstance(dim, Int)
                else Float(float(lo), float(hi), dim.log, dim._clipped(float(lo), float(hi)), dim.spread)
            )
        dims = dict(self.dims)
        dims[name] = new
        reasons = dict(self.reasons)
        reasons[name] = f"narrowed by the user to {new.describe()}; " + reasons.get(name, "")
        return self._copy(dims=dims, reasons=reasons)

    def extend(
        self, name: str, dim: Dimension | Mapping[str, Any], reason: str = "added by the user"
    ) -> SearchSpace:
        """Search ``name`` over ``dim`` (adds a dimension, or replaces one, or un-fixes a fixed value)."""
        _check_name(name)
        if name in _BUILT_FROM:
            raise ConfigError(
                f"{name!r} cannot be searched as one dimension: search {', '.join(_BUILT_FROM[name])} instead "
                f"(or fix it, e.g. {name}=[32, 16])."
            )
        if not isinstance(dim, Dimension):
            if not isinstance(dim, Mapping):
                raise ConfigError(
                    f"Extend {name!r} with a Dimension or a mapping such as {{'type': 'float', 'low': ..., "
                    f"'high': ...}}. Got {dim!r}."
                )
            c = _constraint(name)
            default_kind = c.kind.__name__ if isinstance(c, Interval) else None
            dim = dimension_from_dict(dim, where=f"for {name!r}", default_kind=default_kind)
        if isinstance(dim, Categorical) and any(canonical_value(name, c) != c for c in dim.choices):
            dim = Categorical(tuple(canonical_value(name, c) for c in dim.choices), dim.weights)
        _check_dimension(name, dim)
        dims, fixed, reasons = dict(self.dims), dict(self.fixed), dict(self.reasons)
        dims[name] = dim
        fixed.pop(name, None)
        for whole, parts in _BUILT_FROM.items():
            if name in parts:  # searching width replaces a fixed hidden
                fixed.pop(whole, None)
        reasons[name] = reason
        return self._copy(dims=dims, fixed=fixed, reasons=reasons)

    def with_base(self, **changes: Any) -> SearchSpace:
        """Change values that are never searched (``max_epochs``, ``patience``, ``loss``, ...)."""
        known = [f.name for f in dataclasses.fields(self.base) if f.init]
        for k in changes:
            if k not in known:
                import difflib

                close = difflib.get_close_matches(str(k), known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"Unknown hyperparameter {k!r} for {type(self.base).__name__}.{hint} "
                    f"Known: {', '.join(sorted(known))}."
                )
        try:
            base = self.base.replace(**changes)
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc
        reasons = dict(self.reasons)
        for k, v in changes.items():
            reasons[k] = f"set to {v!r} by the user"
        return self._copy(base=base, reasons=reasons)

    def apply(self, overrides: Mapping[str, Any], where: str = "overrides") -> SearchSpace:
        """Apply a ``{"fix": {...}, "narrow": {...}, "extend": {...}, "base": {...}}`` mapping."""
        sections = ("fix", "narrow", "extend", "base")
        unknown = [str(k) for k in overrides if k not in sections]
        if unknown:
            import difflib

            hints = [difflib.get_close_matches(k, sections, n=1) for k in unknown]
            hint = "".join(
                f" Did you mean {h[0]!r} for {k!r}?" for k, h in zip(unknown, hints, strict=True) if h
            )
            raise ConfigError(
                f"{where}: unknown section(s) {sorted(unknown)}; expected fix, narrow, extend, base.{hint}"
            )
        bodies: dict[str, Mapping[str, Any]] = {}
        for section in sections:
            body = overrides.get(section) or {}
            if not isinstance(body, Mapping):
                raise ConfigError(f"{where}: section {section!r} must be a table/mapping. Got {body!r}.")
            for key in body:
                if not isinstance(key, str):
                    raise ConfigError(f"{where}: [{section}] has the key {key!r}; expected a dimension name.")
            bodies[section] = body
        # A name given twice contradicts itself: fix would silently win over narrow/extend (base is only the
        # first trial's value, so it may sit inside a searched range).
        for i, a in enumerate(("fix", "narrow", "extend")):
            for b in ("fix", "narrow", "extend")[i + 1 :]:
                both = sorted(set(bodies[a]) & set(bodies[b]))
                if both:
                    raise ConfigError(
                        f"{where}: {', '.join(map(repr, both))} given in both [{a}] and [{b}]; give each "
                        f"dimension in one section ([fix] a value, [narrow] a sub-range, [extend] a new range)."
                    )
        # fix runs last, and a fixed hidden (channels) drops the dimensions it is built from: a [narrow.width]
        # beside [fix] hidden was dropped unsaid
        for whole, parts in _BUILT_FROM.items():
            if whole not in bodies["fix"]:
                continue
            for section in ("narrow", "extend"):
                both = [p for p in parts if p in bodies[section]]
                if both:
                    raise ConfigError(
                        f"{where}: [fix] {whole} and [{section}] {', '.join(both)} contradict each other: a fixed "
                        f"{whole!r} replaces {', '.join(parts)}, so the [{section}] entry would be dropped. Fix "
                        f"{whole!r} alone, or search {', '.join(parts)} without fixing it."
                    )
        space = self
        for section in ("base", "extend", "narrow", "fix"):  # fix last: it wins over everything
            body = bodies[section]
            if not body:
                continue
            if section in ("base", "fix"):
                try:
                    space = space.with_base(**body) if section == "base" else space.fix(**body)
                except ConfigError as exc:
                    raise ConfigError(f"{where}: [{section}] {exc}") from exc
                continue
            for name, spec in body.items():
                if not isinstance(spec, Mapping):
                    raise ConfigError(
                        f"{where}: [{section}.{name}] must be a table. Got {spec!r}. {_table_form(section, name, spec)}"
                    )
                try:
                    if section == "extend":
                        space = space.extend(name, spec, reason=f"added by the user in {where}")
                    else:
                        bad = set(spec) - {"low", "high", "choices"}
                        if bad:
                            raise ConfigError(
                                f"unknown key(s) {sorted(map(str, bad))}; expected low, high or choices."
                            )
                        space = space.narrow(name, **spec)
                except ConfigError as exc:
                    raise ConfigError(f"{where}: [{section}.{name}] {exc}") from exc
        return space

    def apply_file(self, path: str | Path) -> SearchSpace:
        """Apply a TOML (``.toml``) or YAML (``.yaml``/``.yml``) override file."""
        overrides = load_overrides(path)
        space = self.apply(overrides, where=str(path))
        if not any(overrides.values()):  # an empty file, or empty sections: perhaps not the file meant
            log.warning(
                "'%s' changes nothing (no fix, narrow, extend or base entries): the space is unchanged.", path
            )
        return space

    # -- use ----------------------------------------------------------------------------------------------------
    def _ordered(self) -> Iterator[tuple[str, Dimension]]:
        first = [n for n in _ORDER if n in self.dims]
        for name in [*first, *[n for n in self.dims if n not in first]]:
            yield name, self.dims[name]

    def suggest(self, trial: optuna.trial.BaseTrial) -> MLPConfig:
        """Draw a configuration through the trial's define-by-run ``suggest_*`` calls."""
        values: dict[str, Any] = dict(self.fixed)
        for name, dim in self._ordered():
            if not self._applies(name, values):
                continue  # conditional: a parameter the config ignores would only add noise to TPE
            values[name] = dim.suggest(trial, name)
        return self.build(values)

    def _applies(self, name: str, values: Mapping[str, Any]) -> bool:
        """Whether dimension ``name`` means something given the values chosen so far."""
        if name == "momentum":
            return values.get("optimizer", self.base.optimizer) in MOMENTUM_OPTIMIZERS
        if name in CNN_ONLY:
            return values.get("arch", self.base.arch) == "cnn"
        return True

    def build(self, values: Mapping[str, Any]) -> MLPConfig:
        """The config for a set of dimension values (plus the fixed ones and the base)."""
        values = {**self.fixed, **values}
        arch_name = values.pop("arch", self.base.arch)
        if arch_name not in ARCHS:
            raise ConfigError(f"The 'arch' dimension must be one of {tuple(ARCHS)}. Got {arch_name!r}.")
        arch = {k: values.pop(k) for k in ARCH_DIMS if k in values}
        conv = {k: values.pop(k) for k in CONV_DIMS if k in values}
        for k, v in {**arch, **conv}.items():
            check_value(k, v)  # (a width of 32.5 must not become 32 unseen)
        changes = dict(values)
        if arch:
            n_layers = int(arch.get("n_layers", len(self.base.hidden) or 1))
            width = int(arch.get("width", self.base.hidden[0] if self.base.hidden else 64))
            shape = arch.get("shape", "constant")
            if shape not in SHAPES:
                raise ConfigError(f"The 'shape' dimension must be one of {SHAPES}. Got {shape!r}.")
            if shape == "funnel":
                hidden = tuple(max(8, width // (2**i)) for i in range(n_layers))
            else:
                hidden = (width,) * n_layers
            changes["hidden"] = hidden
        if arch_name != "cnn":
            for k in CNN_ONLY:
                changes.pop(k, None)
            return _as_config(self.base, MLPConfig, changes)
        if conv:
            base_channels = getattr(self.base, "channels", (16, 32))
            n_conv = int(conv.get("n_conv", len(base_channels)))
            first = int(conv.get("conv_channels", base_channels[0]))
            changes["channels"] = tuple(min(MAX_CONV_CHANNELS, first * 2**i) for i in range(n_conv))
        if "input_shape" not in changes and not isinstance(self.base, CNNConfig):
            raise ConfigError(
                "A CNN needs the input shape of a row (channels, length) or (channels, height, width): "
                "fix it, e.g. space.fix(input_shape=(1, 40)), or give data with input_shape."
            )
        return _as_config(self.base, CNNConfig, changes)

    def default_params(self) -> dict[str, Any]:
        """The base config's value of each searched dimension, clipped into range: a sensible first trial."""
        out: dict[str, Any] = {}
        base = self.base
        for name, dim in self._ordered():
            if not self._applies(name, {**self.fixed, **out}):
                continue
            if name == "n_layers":
                v: Any = len(base.hidden)
            elif name == "width":
                v = base.hidden[0] if base.hidden else 64
            elif name == "shape":
                v = "constant"
            elif name == "n_conv" and isinstance(base, CNNConfig):
                v = len(base.channels)
            elif name == "conv_channels" and isinstance(base, CNNConfig):
                v = base.channels[0]
            elif hasattr(base, name) and not (name in CNN_ONLY and not isinstance(base, CNNConfig)):
                v = getattr(base, name)
            else:  # a CNN dimension over an MLP base: the prior's centre, else the first choice / low bound
                v = _centre(dim)
            if v is None and not isinstance(dim, Categorical):
                v = _centre(dim)  # an optional setting searched as a number (grad_clip: None by default)
            if isinstance(dim, Categorical):
                v = v if v in dim.choices else dim.choices[0]
            elif isinstance(dim, Int):
                v = int(min(max(int(v), dim.low), dim.high))
            elif isinstance(dim, Float):
                v = float(min(max(float(v), dim.low), dim.high))
            out[name] = v
        return out

    def _check_buildable(self) -> None:
        try:
            self.build(self.default_params())
        except ConfigError as exc:
            raise ConfigError(f"The search space cannot build a valid config: {exc}") from exc

    # -- serialisation ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "dims": {n: d.to_dict() for n, d in self.dims.items()},
            "fixed": {k: list(v) if isinstance(v, tuple) else v for k, v in self.fixed.items()},
            "base": self.base.to_dict(),
            "reasons": dict(self.reasons),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SearchSpace:
        from hyperselect.nn.config import config_from_dict

        base = config_from_dict(d["base"]) if "base" in d else None
        dims = {n: dimension_from_dict(v, where=f"for {n!r}") for n, v in d.get("dims", {}).items()}
        return cls(dims, base=base, fixed=d.get("fixed"), reasons=d.get("reasons"), notes=d.get("notes", ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"SearchSpace({', '.join(f'{n}: {d.describe()}' for n, d in self.dims.items())})"

    def describe(self) -> str:
        """A human-readable table of the space with the reason for each entry."""
        lines = ["Searched:"]
        for name, dim in self._ordered():
            idle = self._never_applies(name)
            lines.append(f"  {name:<14} {dim.describe()}" + (f"  (never drawn: {idle})" if idle else ""))
            if name in self.reasons:
                lines.append(f"  {'':<14} why: {self.reasons[name]}")
        if self.fixed:
            lines.append("Fixed:")
            for name, v in self.fixed.items():
                lines.append(
                    f"  {name:<14} {v!r}" + (f"  ({self.reasons[name]})" if name in self.reasons else "")
                )
        # reasons left from dimensions a fixed value replaced (n_layers, width under a fixed hidden) are no setting
        shown = {
            n for n in self.reasons if n not in self.dims and n not in self.fixed and hasattr(self.base, n)
        }
        if shown:
            lines.append("Not searched:")
            for name in sorted(shown):
                v = getattr(self.base, name, None)
                lines.append(f"  {name:<14} {v!r}")
                lines.append(f"  {'':<14} why: {self.reasons[name]}")
        if self.notes:
            lines.append("Rules:")
            lines.extend(f"  - {n}" for n in self._current_notes())
        return "\n".join(lines)

    def _never_applies(self, name: str) -> str:
        """Why searched dimension ``name`` is never drawn (a fixed value rules it out), or ''."""
        control = {"momentum": "optimizer", **dict.fromkeys(CNN_ONLY, "arch")}.get(name)
        if control is None:
            return ""
        dim = self.dims.get(control)
        if isinstance(dim, Categorical):
            # a searched control: drawn where any of its choices lets it apply (optimizer narrowed to adam and
            # rmsprop never draws momentum)
            if any(self._applies(name, {control: c}) for c in dim.choices):
                return ""
            return f"{control} is one of {', '.join(map(repr, dim.choices))}"
        if dim is not None:
            return ""
        value = self.fixed.get(control, getattr(self.base, control, None))
        if self._applies(name, {control: value}):
            return ""
        return f"{control} is {value!r}"

    #: the advisor's rule about the first trial starts so (priors.py); it is restated for the space as edited
    _FIRST_TRIAL_RULE = "the first trial is the default config"

    def _current_notes(self) -> list[str]:
        """The notes, with the first-trial rule naming the first trial of this space as edited (a fixed
        optimizer='sgd' made it say Adam)."""
        try:
            first = self.build(self.default_params())
        except ConfigError:  # a space that cannot build its default: the notes as written
            return list(self.notes)
        layers = len(first.hidden)
        # widths that differ (a fixed hidden=64,32) are listed: "of 64" said the first layer's for all
        widths = (
            f"of {first.hidden[0] if first.hidden else 0}"
            if len(set(first.hidden)) <= 1
            else f"({', '.join(map(str, first.hidden))})"
        )
        said = (
            f"{self._FIRST_TRIAL_RULE} ({first.optimizer}, lr {first.lr:g}, {first.activation}, {layers} hidden "
            f"layer{'s' if layers != 1 else ''} {widths}, batch "
            f"{first.batch_size}, {first.lr_schedule} schedule): a strong baseline that the sampler must beat"
        )
        return [said if n.startswith(self._FIRST_TRIAL_RULE) else n for n in self.notes]


def _centre(dim: Dimension) -> Any:
    if isinstance(dim, Categorical):
        return dim.choices[int(np.argmax(dim.weights))] if dim.weights is not None else dim.choices[0]
    assert isinstance(dim, Int | Float)
    return dim.prior if dim.prior is not None else dim.low


def _as_config(base: MLPConfig, cls: type[MLPConfig], changes: Mapping[str, Any]) -> MLPConfig:
    """``base`` with ``changes``, as an instance of ``cls`` (an MLP base becomes a CNN and vice versa)."""
    if type(base) is cls:
        return base.replace(**changes)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    values = {k: v for k, v in base.to_dict().items() if k in fields}
    values.update(changes)
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def load_overrides(path: str | Path) -> dict[str, Any]:
    """Read a TOML or YAML override file into a mapping (errors name the file)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"Search-space file not found: '{p}'.")
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = _load_yaml(text, p) or {}
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(pairs, p))
        else:
            raise ConfigError(
                f"'{p}': unknown search-space file type {suffix!r}; expected .toml, .yaml, .yml or .json."
            )
    except ConfigError:
        raise
    except Exception as exc:  # tomllib/yaml raise their own error types; all mean "not parseable"
        raise ConfigError(f"'{p}' cannot be parsed as {suffix[1:].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"'{p}' must hold a table/mapping with fix, narrow, extend or base. Got {type(data).__name__}."
        )
    return data


def _unique_keys(pairs: list[tuple[str, Any]], path: Path) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (``json`` keeps the last, silently dropping the first)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ConfigError(
                f"'{path}': the key {k!r} appears twice in one object; only the last would be kept. Merge "
                "them into one."
            )
        out[k] = v
    return out


def _load_yaml(text: str, path: Path | None = None) -> Any:
    """``yaml.safe_load``, except that ``1e-4`` and ``1.0e4`` are floats: YAML 1.1 (PyYAML) wants a dot and a
    signed exponent, and would hand ``lr: 1e-3`` over as the string ``'1e-3'``; and a key given twice in one
    mapping is refused (PyYAML keeps the last: a second ``fix:`` section dropped the first unsaid)."""
    import re

    import yaml

    where = f"'{path}'" if path is not None else "The YAML text"

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = self.construct_object(key_node, deep=True)
                    line = key_node.start_mark.line + 1
                    if key in seen:
                        raise ConfigError(
                            f"{where}, line {line}: the key {key!r} appears twice in one mapping (first on line "
                            f"{seen[key]}); YAML keeps only the last, dropping the first. Merge them into one."
                        )
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    return yaml.load(text, Loader=Loader)  # (a SafeLoader subclass)
