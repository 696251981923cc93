"""A prior-guided startup for an Optuna sampler: the first trials come from the advisor's priors.

TPE (like every model-based sampler) needs a handful of observations before it can model anything, and Optuna
draws them uniformly at random.  On a neural-network space most of that volume is poor (a learning rate of
0.05, tanh, heavy dropout ...), so a uniform startup spends its budget where practitioners already know not to
look.  :class:`PriorSampler` draws the first ``n_prior`` trials from each dimension's prior instead
(:meth:`~hyperselect.search.space.Dimension.sample_prior`: a normal on the log scale around lr 1e-3, Adam and
ReLU most of the time, ...), then hands over to the wrapped sampler, which models those trials like any others.
This is the startup half of piBO (Hvarfner et al., 2022, "piBO: Augmenting acquisition functions with user
beliefs for Bayesian optimization"); since the prior only decides *where to start*, a wrong prior costs a few
trials, never the ability to find the optimum: the wrapped sampler keeps the full range.  piBO's other half, the
prior kept in the acquisition with a weight that fades as trials accumulate, is :class:`BatchTPESampler`'s
``prior_weight`` option, off by default: on FCNet's held-out seeds it did not pay (benchmarks/HISTORY.md).

With ``random_every=m``, every ``m``-th trial after the prior phase is drawn uniformly at random instead (BOHB's
random fraction, Falkner et al., 2018): a model fitted to a few good trials concentrates its proposals around
them, and a misleading prior or an early lucky trial can hold a long search in one region; the interleaved
uniform draws keep exploring the whole space at a fixed, small cost.

A dimension the model has never seen varied gets one other value (``explore_unvaried``, on by default).  When
every trial so far shares one value of a dimension (the trials of a population batch share batch size and depth,
and the first batch takes the advisor's), a model-based sampler has nothing to tell that value from any other:
TPE draws its candidates around the observed trials, and the few it draws from its own prior are joint draws,
poor in every other dimension, that the acquisition never prefers.  A 150-trial search of the breast-cancer
table kept one depth and one batch size in every trial.  So, once the prior phase is over, the first proposal
that would keep such a dimension at its only value takes another one from the dimension's prior instead (the
rest of its configuration stays the model's), one dimension per proposal; from then on the model has both
values to weigh.

The sampler is stateless apart from its random generators, so many workers on one storage each wrap their own:
which phase a trial is in follows from the trials already in the study (and its number).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from hyperselect.search.space import Categorical, Dimension, Float, Int

#: Trials that count as "already proposed": everything but WAITING (enqueued, not yet asked).
_STARTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.FAIL)
#: Trials TPE learns from: the count behind the prior's weight in the acquisition (piBO's n).
_OBSERVED = (TrialState.COMPLETE, TrialState.PRUNED)
#: How many trials must share a dimension's one value before a proposal is made to try another
#: (``explore_unvaried``): a conditional dimension seen in one or two trials is not "never varied".
UNVARIED_MIN_TRIALS = 3
#: The trial system attribute naming the dimension ``explore_unvaried`` gave another value.
EXPLORED_ATTR = "hyperselect:explored"


class PriorSampler(optuna.samplers.BaseSampler):
    """Draw the first ``n_prior`` trials from the priors of ``dims``, every later one from ``base``.

    ``dims`` maps parameter names (as suggested to the trial) to dimensions; in the prior phase a parameter
    without a dimension or without a prior is drawn uniformly (as ``base``'s own startup would), from the
    trial's own stream: each trial's draws are keyed by its number, so two processes with one seed draw different
    configurations and one process draws the same ones every time.  Enqueued trials (the advisor's
    default configuration) keep their fixed values and count towards ``n_prior``.
    """

    def __init__(
        self,
        dims: Mapping[str, Dimension],
        base: optuna.samplers.BaseSampler,
        *,
        n_prior: int = 10,
        seed: int | None = None,
        random_every: int = 0,
        explore_unvaried: bool = True,
    ) -> None:
        if n_prior < 0:
            raise ValueError(f"n_prior must be >= 0; got {n_prior=}")
        if random_every < 0 or random_every == 1:
            raise ValueError(f"random_every must be 0 (off) or >= 2; got {random_every=}")
        self.dims = dict(dims)
        self.base = base
        self.n_prior = int(n_prior)
        self.random_every = int(random_every)
        self.explore_unvaried = bool(explore_unvaried)
        # each trial's prior draws come from a stream of its own, keyed by the trial's number (unique in a
        # study): two processes that start or resume one study with the same seed (two `tune` commands) drew
        # the same startup configurations from one shared sequence; one process still draws the same ones
        self._entropy = int(np.random.SeedSequence(seed).entropy)  # type: ignore[arg-type]
        self._trial_rng: tuple[int, np.random.Generator, optuna.samplers.RandomSampler] | None = None
        # (study, storage) -> the smallest trial number known to be past the prior phase (the count before it
        # is computed over the whole study, once per parameter of every proposal otherwise)
        self._past_prior: dict[tuple[int, int], int] = {}

    def in_prior_phase(self, study: Study, trial: FrozenTrial) -> bool:
        if self.n_prior == 0:
            return False
        key = (study._study_id, id(study._storage))
        past = self._past_prior.get(key)
        if past is not None and trial.number >= past:
            # a started trial never becomes WAITING again, so a later number has at least as many before it
            return False
        before = study._get_trials(deepcopy=False, states=_STARTED, use_cache=True)
        if sum(t.number < trial.number for t in before) < self.n_prior:
            return True
        self._past_prior[key] = trial.number  # below any number cached before (those returned above)
        return False

    def is_uniform_trial(self, study: Study, trial: FrozenTrial) -> bool:
        """Whether ``trial`` is one of the interleaved uniform draws (``random_every``)."""
        if self.random_every == 0 or trial.number % self.random_every != self.random_every - 1:
            return False
        return not self.in_prior_phase(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self.in_prior_phase(study, trial) or self.is_uniform_trial(study, trial):
            return {}  # every parameter goes through sample_independent: the prior, or a uniform draw
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        params = self.base.sample_relative(study, trial, search_space)
        if self.explore_unvaried and params:
            self._vary_one(study, trial, search_space, params)
        return params

    def _vary_one(
        self,
        study: Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
        params: dict[str, Any],
    ) -> None:
        """Where the model proposes the only value a dimension has taken in every trial so far (at least
        :data:`UNVARIED_MIN_TRIALS` of them), replace it with another value from the dimension's prior; one
        dimension per proposal (in the space's order), and none once the model itself proposes another value
        for one of them.  Values the trial has fixed (a population's shared structure, a retried configuration)
        are left alone."""
        fixed = trial.system_attrs.get("fixed_params") or {}
        started = study._get_trials(deepcopy=False, states=_STARTED, use_cache=True)
        for name, dist in search_space.items():
            if name in fixed or name not in params or dist.single():
                continue
            values = [t.params[name] for t in started if t.number != trial.number and name in t.params]
            if len(values) < UNVARIED_MIN_TRIALS or any(v != values[0] for v in values):
                continue
            if params[name] != values[0]:
                return  # the model explores this one itself
            other = self._other_value(name, dist, values[0], trial)
            if other is not None:
                params[name] = other
                # said on the trial: the search keeps such a proposal's population small (study._ask_batch)
                study._storage.set_trial_system_attr(trial._trial_id, EXPLORED_ATTR, name)
                return

    def _other_value(self, name: str, dist: BaseDistribution, seen: Any, trial: FrozenTrial) -> Any:
        """A draw from ``name``'s prior (uniform where it has none) other than ``seen``, or None."""
        dim = self.dims.get(name)
        rng = self._rng_for(trial)
        for _ in range(64):
            if dim is not None:
                value = dim.sample_prior(rng)
            else:
                value = dist.to_external_repr(self._uniform_internal(dist, rng))
            if value != seen and dist._contains(dist.to_internal_repr(value)):
                return value
        return None

    @staticmethod
    def _uniform_internal(dist: BaseDistribution, rng: np.random.Generator) -> float:
        if isinstance(dist, CategoricalDistribution):
            return float(rng.integers(len(dist.choices)))
        low, high = dist.low, dist.high  # type: ignore[attr-defined]
        if getattr(dist, "log", False):
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        step = getattr(dist, "step", None)
        if step is not None:
            value = low + round((value - low) / step) * step
        return float(min(max(value, low), high))

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if self.is_uniform_trial(study, trial):
            return self._uniform_for(trial).sample_independent(study, trial, param_name, param_distribution)
        if self.in_prior_phase(study, trial):
            dim = self.dims.get(param_name)
            if dim is not None and dim.has_prior:
                value = dim.sample_prior(self._rng_for(trial))
                # the distribution is the dimension's own, unless the space was edited under a running study
                if param_distribution._contains(param_distribution.to_internal_repr(value)):
                    return value
            # no prior: uniform, as the wrapped sampler's startup is, but from this trial's own stream
            return self._uniform_for(trial).sample_independent(study, trial, param_name, param_distribution)
        return self.base.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self.base.after_trial(study, trial, state, values)

    def _rng_for(self, trial: FrozenTrial) -> np.random.Generator:
        """The prior stream of ``trial`` (its parameters are drawn one after another from it)."""
        if self._trial_rng is None or self._trial_rng[0] != trial.number:
            rng = np.random.default_rng([self._entropy, trial.number])
            uniform = optuna.samplers.RandomSampler(seed=int(rng.integers(2**31)))
            self._trial_rng = (trial.number, rng, uniform)
        return self._trial_rng[1]

    def _uniform_for(self, trial: FrozenTrial) -> optuna.samplers.RandomSampler:
        """A uniform sampler on ``trial``'s own stream (its priorless parameters, or a whole uniform trial)."""
        self._rng_for(trial)
        assert self._trial_rng is not None
        return self._trial_rng[2]

    def reseed_rng(self) -> None:
        self._entropy = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        self._trial_rng = None
        self.base.reseed_rng()


def vectorise_tpe_log_ndtr() -> bool:
    """Give Optuna's TPE scipy's vectorised normal log-CDF (and its CDF); returns whether the log-CDF is in use.

    TPE's truncated-normal kernels need log Phi for every kernel bound at every proposal, and Optuna computes it
    element by element in Python (``np.frompyfunc``; it avoids depending on scipy).  ``scipy.special.log_ndtr``
    is the same function vectorised: on embedded BBC News (18 proposals per batch, ~200 trials of history) a
    batch's proposals took 87 ms instead of 120 ms, with the same values to 1e-7 (Optuna's is the less exact of
    the two, near its branch at 6).  Replaced process-wide, once, and only where Optuna still has the function
    and it agrees with scipy's on a grid of the range TPE uses.
    """
    global _LOG_NDTR_PATCHED
    if _LOG_NDTR_PATCHED is not None:
        return _LOG_NDTR_PATCHED
    _LOG_NDTR_PATCHED = False
    try:
        from optuna.samplers._tpe import _truncnorm
        from scipy.special import log_ndtr
    except ImportError:
        return False
    grid = np.concatenate([np.linspace(-40.0, 40.0, 801), [-1e3, -20.5, 0.0, 5.9, 6.1, 1e3]])
    # missing, or a different definition than the one this was checked against: leave Optuna's (both of them)
    if not _replace_if_same(_truncnorm, "_log_ndtr", log_ndtr, grid, 1e-6, 1e-12, _OPTUNA_LOG_NDTR):
        return False
    _LOG_NDTR_PATCHED = True
    # The normal CDF itself, for kernels that straddle zero: Optuna's goes through ``math.erf`` element by element
    # below 2,000 values (13x scipy's ``ndtr`` on 300 kernels); scipy's is the more exact in the far left tail,
    # where ``0.5 + 0.5 erf`` rounds to 0, hence the absolute tolerance.
    from scipy.special import ndtr

    _replace_if_same(_truncnorm, "_ndtr", ndtr, grid, 1e-9, 1e-15, _OPTUNA_NDTR)
    return True


def _replace_if_same(
    module: Any, name: str, ours: Any, grid: np.ndarray, rtol: float, atol: float, replaced: list[Any]
) -> bool:
    """Set ``module.name`` to ``ours`` where it exists and agrees with it on ``grid``; the old one goes to
    ``replaced``.  Returns whether it was replaced."""
    theirs = getattr(module, name, None)
    if theirs is None:
        return False
    with np.errstate(all="ignore"):
        a, b = np.asarray(theirs(grid), dtype=float), ours(grid)
    if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
        return False
    replaced.append(theirs)
    setattr(module, name, ours)
    return True


_LOG_NDTR_PATCHED: bool | None = None
_OPTUNA_LOG_NDTR: list[Any] = []  # the functions replaced (for the tests)
_OPTUNA_NDTR: list[Any] = []


# ---------------------------------------------------------------------------------------------------------------
# TPE with per-trial caches


class BatchTPESampler(optuna.samplers.TPESampler):
    """Optuna's :class:`~optuna.samplers.TPESampler`, proposing exactly what it proposes, faster on long studies.

    Each proposal of the stock sampler starts from scratch: it decomposes the search space over every finished
    trial, ranks them all into the good and the rest, and converts every trial's parameters to arrays, all in
    Python, before it fits the two Parzen estimators.  That is linear in the study, so a search's total is
    quadratic: with 2,000 trials a batch of 18 proposals took 0.8-1.2 s on digits, more than the batch trained
    (``benchmarks/tpe_asks.py``: 0.43 s with these caches).
    A finished trial never changes, and within a batch only RUNNING trials are added, so this sampler keeps:

    * each finished trial's parameters in the internal representation (per trial and parameter set);
    * the ranking of the finished trials for the last (study, finished trials, number of good ones): the
      running trials of a batch go to "the rest" (constant liar) without ranking the others again;
    * the space decomposition (``group=True``), extended by the trials finished since the last proposal.

    What it proposes for a given seed is the same, parameter for parameter, as the stock sampler's (a test
    checks it on a conditional space, in batches with running and pruned trials), unless ``prior_weight`` > 0:
    then each candidate's acquisition (log l/g) gains ``prior_weight / n`` times the log density of the priors
    of ``prior`` (dimensions by parameter name) there, n the finished trials (piBO's acquisition).  It relies on Optuna's private
    hooks (``_get_internal_repr``, ``_split_trials``, ``_group_decomposed_search_space``): where they are missing
    (another Optuna version), :func:`batch_tpe_available` is False and :func:`make_tpe` builds the stock sampler.
    """

    def __init__(
        self, *, prior: Mapping[str, Dimension] | None = None, prior_weight: float = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not (math.isfinite(prior_weight) and prior_weight >= 0):
            raise ValueError(f"prior_weight must be a float >= 0; got {prior_weight=}")
        self.prior = {n: d for n, d in (prior or {}).items() if d.has_prior}
        self.prior_weight = float(prior_weight) if self.prior else 0.0
        self._n_observed = 0
        self._space_now: dict[str, BaseDistribution] = {}
        if self._group:
            self._group_decomposed_search_space = _IncrementalGroupDecomposition()  # type: ignore[assignment]
        # parameter set -> trial id -> its parameters' internal values (None: not all of them)
        self._reprs: dict[tuple[Any, ...], dict[int, tuple[float, ...] | None]] = {}
        self._split_key: tuple[Any, ...] | None = None
        self._split_value: tuple[list[FrozenTrial], list[FrozenTrial]] = ([], [])

    def _get_internal_repr(
        self, trials: list[FrozenTrial], search_space: dict[str, BaseDistribution], study: Study
    ) -> dict[str, np.ndarray]:
        space = tuple(search_space.items())
        names = list(search_space)
        cache = self._reprs.setdefault(space, {})
        rows: list[tuple[float, ...]] = []
        for t in trials:
            finished = t.state.is_finished()
            row = cache.get(t._trial_id, _MISSING) if finished else _MISSING
            if row is _MISSING:
                params = self._get_params(t, study)
                row = (
                    tuple(d.to_internal_repr(params[n]) for n, d in space)
                    if search_space.keys() <= params.keys()
                    else None
                )
                if finished:
                    cache[t._trial_id] = row
            if row is not None:
                rows.append(row)
        if not rows:
            return {n: np.asarray([]) for n in names}
        # column by column, as Optuna builds them (a categorical's indices stay integers)
        return {n: np.asarray(col) for n, col in zip(names, zip(*rows, strict=True), strict=True)}

    def _sample(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        _ACTIVE.sampler = self
        if self.prior_weight:
            self._space_now = search_space
            self._n_observed = len(study._get_trials(deepcopy=False, states=_OBSERVED, use_cache=True))
        try:
            return super()._sample(study, trial, search_space)
        finally:
            _ACTIVE.sampler = None

    def _compute_acquisition_func(
        self, samples: dict[str, np.ndarray], mpe_below: Any, mpe_above: Any
    ) -> np.ndarray:
        acq = super()._compute_acquisition_func(samples, mpe_below, mpe_above)
        if not self.prior_weight:
            return acq  # type: ignore[no-any-return]
        return acq + self.prior_log_density(samples, self._space_now) * (
            self.prior_weight / max(self._n_observed, 1)
        )

    def prior_log_density(
        self, samples: dict[str, np.ndarray], search_space: Mapping[str, BaseDistribution]
    ) -> np.ndarray:
        """The priors' log density at TPE's candidates (internal representation: a categorical's index), up to a
        constant, summed over the parameters that have a prior.

        A numeric dimension's is its normal on its own scale (log where ``log``); a categorical's is the log of
        its weight, floored at 1 % of the largest so that no choice is ruled out."""
        n = len(next(iter(samples.values()))) if samples else 0
        total = np.zeros(n)
        for name, values in samples.items():
            dim, dist = self.prior.get(name), search_space.get(name)
            if dim is None or dist is None:
                continue
            if isinstance(dist, CategoricalDistribution):
                if not isinstance(dim, Categorical):
                    continue
                weights = np.array([dim.weight(c) for c in dist.choices])
                if weights.max() <= 0:
                    continue
                weights = np.log(np.maximum(weights, 0.01 * weights.max()))
                total += weights[np.asarray(values, dtype=int)]
            elif isinstance(dim, Int | Float):
                total += dim.log_prior(values)
        return total

    def split(
        self, study: Study, trials: list[FrozenTrial], n_below: int
    ) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """Optuna's ``_split_trials``, the finished trials' part remembered (RUNNING ones always go above)."""
        finished = [t for t in trials if t.state != TrialState.RUNNING]
        running = [t for t in trials if t.state == TrialState.RUNNING]
        key = (study._study_id, id(study._storage), n_below, tuple(t._trial_id for t in finished))
        if key != self._split_key:
            self._split_value = _OPTUNA_SPLIT[0](study, finished, n_below)
            self._split_key = key
        below, above = self._split_value
        return list(below), sorted([*above, *running], key=lambda t: t.number)


class _IncrementalGroupDecomposition:
    """Optuna's ``_GroupDecomposedSearchSpace(include_pruned=True)``, fed each finished trial once: adding a
    trial's distributions again leaves the groups (and their order) as they are, so skipping it is exact."""

    def __init__(self) -> None:
        from optuna.search_space.group_decomposed import _SearchSpaceGroup

        self._group = _SearchSpaceGroup()
        self._seen: set[int] = set()
        self._study_id: int | None = None
        self._copy: Any = None

    def calculate(self, study: Study, use_cache: bool = False) -> Any:
        if self._study_id is None:
            self._study_id = study._study_id
        elif self._study_id != study._study_id:
            raise ValueError("`_GroupDecomposedSearchSpace` cannot handle multiple studies.")
        states = (TrialState.COMPLETE, TrialState.PRUNED)
        for t in study._get_trials(deepcopy=False, states=states, use_cache=use_cache):
            if t._trial_id not in self._seen:
                self._seen.add(t._trial_id)
                self._group.add_distributions(t.distributions)
                self._copy = None
        if self._copy is None:  # the callers only read it
            self._copy = copy.deepcopy(self._group)
        return self._copy


_MISSING: Any = object()
_ACTIVE = threading.local()  # the BatchTPESampler whose proposal is being computed on this thread, if any
_OPTUNA_SPLIT: list[Any] = []  # Optuna's _split_trials, once replaced


def _split_trials(study: Study, trials: list[FrozenTrial], n_below: int) -> tuple[list[Any], list[Any]]:
    sampler = getattr(_ACTIVE, "sampler", None)
    if sampler is None:  # any other TPESampler: Optuna's own, untouched
        return _OPTUNA_SPLIT[0](study, trials, n_below)  # type: ignore[no-any-return]
    return sampler.split(study, trials, n_below)  # type: ignore[no-any-return]


def batch_tpe_available() -> bool:
    """Whether this Optuna has the private hooks :class:`BatchTPESampler` relies on (installs the split hook)."""
    if _OPTUNA_SPLIT:
        return True
    try:
        from optuna.samplers._tpe import sampler as tpe_module
        from optuna.search_space.group_decomposed import _SearchSpaceGroup
    except ImportError:
        return False
    probe = optuna.samplers.TPESampler
    needed = (
        "_get_internal_repr",
        "_sample",
        "_get_params",
        "_build_parzen_estimator",
        "_compute_acquisition_func",
    )
    if not all(hasattr(probe, n) for n in needed) or not callable(getattr(tpe_module, "_split_trials", None)):
        return False
    if not hasattr(_SearchSpaceGroup, "add_distributions"):
        return False
    _OPTUNA_SPLIT.append(tpe_module._split_trials)
    tpe_module._split_trials = _split_trials
    return True


def make_tpe(
    *, prior: Mapping[str, Dimension] | None = None, prior_weight: float = 0.0, **kwargs: Any
) -> optuna.samplers.TPESampler:
    """A :class:`BatchTPESampler` where this Optuna supports it, else Optuna's ``TPESampler`` (same arguments; the
    priors' weight in the acquisition needs the former's hooks, so there the priors only shape the startup)."""
    if batch_tpe_available():
        return BatchTPESampler(prior=prior, prior_weight=prior_weight, **kwargs)
    return optuna.samplers.TPESampler(**kwargs)
