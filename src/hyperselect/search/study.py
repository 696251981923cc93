"""The search loop: an Optuna sampler proposes batches through ask/tell, a cohort trains each batch.

Training dominates the cost, so configurations are proposed ``batch_size`` at a time (TPE with the constant
liar, so the batch is spread out rather than K copies of one idea), trained together as one
:class:`~hyperselect.train.cohort.Cohort`, and cut by successive halving (:mod:`hyperselect.search.halving`).

Budget accounting works for one process and for many workers on one storage.  Every trial belongs to a *slot*:
its own number, or for a retried trial the number of the trial it retries.  ``n_trials`` is the number of slots
that must finish (COMPLETE, PRUNED, or FAIL with a recorded reason such as divergence).  A worker that asks a
trial beyond the budget (two workers racing for the last slot) tells it FAIL with ``outcome="surplus"`` without
training it; a crashed trial's slot is finished by its retry.  So the study ends with exactly ``n_trials``
finished slots, each finished once.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import logging
import math
import numbers
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import torch
from optuna.trial import TrialState

from hyperselect._io import atomic_write_json, atomic_write_text, check_out_folder, safe_join
from hyperselect._validation import Interval, check_tabular_data
from hyperselect.errors import ConfigError, DataError, StorageError, TrainingError
from hyperselect.nn.config import MLPConfig, config_from_dict
from hyperselect.search.halving import make_rungs, run_halving
from hyperselect.search.priors import advise
from hyperselect.search.sampler import EXPLORED_ATTR, PriorSampler, make_tpe, vectorise_tpe_log_ndtr
from hyperselect.search.space import Categorical, Dimension, Int, SearchSpace
from hyperselect.search.storage import (
    DEFAULT_HEARTBEAT_INTERVAL,
    FINAL_FAIL_OUTCOMES,
    MAX_RETRY,
    SLOT_FAIL_OUTCOMES,
    StaleTrialRetry,
    describe_storage,
    heartbeat_enabled,
    is_url,
    open_storage,
)
from hyperselect.tasks import Task
from hyperselect.train.batching import RowSchedule, nested_row_order
from hyperselect.train.cohort import Cohort
from hyperselect.train.metrics import CLASS_BALANCED, check_metric, target_scale

log = logging.getLogger(__name__)

SAMPLERS = ("tpe", "random", "cmaes", "qmc", "gp")
_ATTR = "hyperselect"


# ------------------------------------------------------------------------------------------------------------
# samplers


#: The total trials of a new study where none is given (tune's and the CLI's default).
DEFAULT_TRIALS = 30
#: Startup trials drawn from the priors (the advisor's default configuration, enqueued first, is one of them).
N_PRIOR_TRIALS = 10
#: piBO's beta (Hvarfner et al., 2022, who suggest budget / 10): with ``prior_weight`` > 0, TPE's acquisition
#: at x gains ``prior_weight / n * log prior(x)`` after the startup, n the trials observed.  Off by default: on
#: FCNet's held-out seeds it did not pay (beta 2, 5, 10: benchmarks/HISTORY.md, ``fcnet.py --prior-weight``).
PRIOR_WEIGHT = 0.0


def prior_trials(n_trials: int, batch_size: int = 0) -> int:
    """How many startup trials to draw from the priors for a budget of ``n_trials``: a third, 5 to 15, and at
    least the first batch (``batch_size``, at most ``n_trials``).

    An informative prior earns more startup trials than a uniform draw would (TPE's default is 10 whatever the
    budget), but the model must keep most of the budget.  The first batch is asked before any trial has
    finished, so the model has nothing to go on there: past the prior draws its trials would be uniform ones.
    """
    return int(max(min(15, max(5, n_trials // 3)), min(batch_size, n_trials)))


def default_batch_size(n_trials: int, eta: int = 3) -> int:
    """Configurations asked and trained together by default: ``2 * eta**2`` where the budget holds at least three
    such batches, else ``eta**2`` (at most ``n_trials``).

    ``eta**2`` is the smallest batch whose halving keeps a trial to the last rung; twice that keeps two, which
    train as one population for little more than one (a step of 18 copies of the advisor's default network
    costs 1.2-1.6x a step of 9 on digits and mnist1d, ``benchmarks/batch_step_cost.py``).  ``benchmarks/hpo_vs_optuna.py``, two runs each:
    time-to-target digits 7.70 / 6.56 with 18 against 5.16 / 6.30 with 9, mnist1d 6.56 / 8.00 against 3.39 /
    3.74; on embedded BBC News, whose 384-wide first layer is compute-bound (1.6-1.8x), 2.79 / 2.18 against 2.78 /
    3.43.  Small budgets keep ``eta**2``, so that the model proposes more than one or two batches.
    """
    double = 2 * eta * eta
    return min(n_trials, double if n_trials >= 3 * double else eta * eta)


def default_first_batch(batch_size: int, eta: int = 3) -> int:
    """The size of a fresh study's first batch when the batch size is the default: ``2 * eta`` where the batch
    is ``2 * eta**2`` (budgets of three such batches or more), else the whole batch.

    The first batch decides when the first results arrive: nothing completes before its first rung, and a batch
    of 18 takes about three times as long per epoch as one of 6 where the first layer is compute-bound
    (embedded BBC News: first completed trials at ~0.45 s against ~0.2 s).  Only the training is split: the
    first ``batch_size`` configurations are drawn as before (from the priors, in one group sharing the advisor's
    batch size and depth), the first ``2 * eta`` of them trained first and the rest as the second batch.  (A
    second batch drawn on its own, with a group leader of its own, cost embedded BBC News 18 % of its trials
    in the same time: a structure drawn from the priors, often a small batch size; one proposed by the model
    after six trials cost mnist1d half of its trials.)
    """
    return 2 * eta if batch_size >= 2 * eta * eta else batch_size


#: Fewest rows a subset epoch trains on (see :func:`check_rung_rows`): below this a rung's scores are noise.
MIN_SUBSET_ROWS = 256


def check_rung_rows(rung_rows: Sequence[float] | None, rungs: Sequence[int]) -> list[float] | None:
    """Validate ``rung_rows``, the fractions of the training rows that the first rungs train on.

    One fraction per rung from the first, each in (0, 1] and none smaller than the one before (a member that
    goes on keeps its rows and gains more: the subsets are nested), fewer fractions than rungs (the last rung
    trains on every row, so the value a trial reports is that of the full data).  A subset epoch holds at
    least :data:`MIN_SUBSET_ROWS` rows and two mini-batches.  Returns them as a list (None: all rows).
    """
    if rung_rows is None:
        return None
    if isinstance(rung_rows, str | bytes) or not isinstance(rung_rows, Sequence):
        raise ConfigError(
            f"The 'rung_rows' parameter must be a list of fractions in (0, 1]. Got {rung_rows!r}."
        )
    out: list[float] = []
    for i, f in enumerate(rung_rows):
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 < f <= 1:
            raise ConfigError(f"rung_rows[{i}] must be a fraction in (0, 1]. Got {f!r}.")
        if out and f < out[-1]:
            raise ConfigError(
                f"rung_rows must not decrease (the subsets are nested): rung_rows[{i}] = {f} < {out[-1]}."
            )
        out.append(float(f))
    if len(out) >= len(rungs):
        raise ConfigError(
            f"rung_rows (--rung-rows) has {len(out)} fractions for {len(rungs)} rungs (epochs {list(rungs)}): "
            f"the last rung trains on every row, so give at most {len(rungs) - 1}."
        )
    return out or None


#: Model-based samplers whose uniform startup is replaced by prior draws when the space has priors.
PRIOR_GUIDED = ("tpe", "gp", "cmaes")


def make_sampler(
    name: str | optuna.samplers.BaseSampler,
    seed: int | None,
    *,
    space: SearchSpace | Mapping[str, Dimension] | None = None,
    n_prior: int = N_PRIOR_TRIALS,
    random_every: int = 0,
    prior_weight: float = PRIOR_WEIGHT,
) -> optuna.samplers.BaseSampler:
    """``"tpe"`` (multivariate, grouped for conditional dimensions, constant liar for batches), ``"random"``,
    ``"cmaes"``, ``"qmc"`` or ``"gp"``; an Optuna sampler instance is used as given.

    With a ``space`` whose dimensions carry priors, the model-based samplers (tpe, gp, cmaes) draw their first
    ``n_prior`` trials from the priors (:class:`~hyperselect.search.sampler.PriorSampler`) instead of uniformly;
    ``random`` and ``qmc`` stay uniform (they are the baselines and the space-filling design).  ``random_every``
    (0: off) makes every such trial after the prior phase a uniform draw (:class:`PriorSampler`'s).
    ``prior_weight`` (tpe only; 0: off) keeps the priors in TPE's acquisition after the startup, with a weight
    that fades as 1 / trials observed (piBO's acquisition, :class:`~hyperselect.search.sampler.BatchTPESampler`).
    """
    if isinstance(name, optuna.samplers.BaseSampler):
        return name
    if name == "tpe":
        vectorise_tpe_log_ndtr()
    # After the prior phase the model takes over as soon as half as many trials have finished: in batch mode the
    # next batch is asked before the last prior trials finish, and must not fall back to uniform draws.
    dims = space.dims if isinstance(space, SearchSpace) else dict(space or {})
    guided = name in PRIOR_GUIDED and n_prior > 0 and any(d.has_prior for d in dims.values())
    base = _base_sampler(
        name,
        seed,
        n_startup=max(2, n_prior // 2) if space is not None else None,
        prior=dims if guided else None,
        prior_weight=prior_weight,
    )
    if guided:
        return PriorSampler(
            dims,
            base,
            n_prior=n_prior,
            seed=None if seed is None else (seed + 1) % 2**32,
            random_every=random_every,
        )
    return base


def _base_sampler(
    name: str,
    seed: int | None,
    n_startup: int | None,
    prior: Mapping[str, Dimension] | None = None,
    prior_weight: float = 0.0,
) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return make_tpe(
                multivariate=True,
                group=True,
                constant_liar=True,
                seed=seed,
                n_startup_trials=10 if n_startup is None else n_startup,
                prior=prior,
                prior_weight=prior_weight,  # BatchTPESampler ignores it where no dimension has a prior
            )
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "cmaes":
            # CMA-ES handles the numeric dimensions; categorical ones fall back to its independent sampler
            return optuna.samplers.CmaEsSampler(
                seed=seed,
                warn_independent_sampling=False,
                independent_sampler=optuna.samplers.TPESampler(seed=seed),
            )
        if name == "qmc":
            return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
        if name == "gp":
            return optuna.samplers.GPSampler(
                seed=seed, n_startup_trials=10 if n_startup is None else n_startup
            )
    check_sampler(name)
    raise AssertionError(f"sampler {name!r} is listed in SAMPLERS but not built")


# ------------------------------------------------------------------------------------------------------------
# slots: exact budgets with many workers


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _slot(t: optuna.trial.FrozenTrial) -> int:
    return int(t.system_attrs.get("failed_trial", t.number))


def _is_surplus(t: optuna.trial.FrozenTrial) -> bool:
    return t.state is TrialState.FAIL and t.user_attrs.get("outcome") == "surplus"


def _is_crashed(t: optuna.trial.FrozenTrial) -> bool:
    """FAIL without a final outcome of its own: its process died (heartbeat) or was interrupted (journal
    recovery) -- also where it died while telling a PRUNED or COMPLETE outcome (the attributes are written
    before the state, so such a trial can fail by heartbeat with "outcome: pruned" on it)."""
    return t.state is TrialState.FAIL and t.user_attrs.get("outcome") not in FINAL_FAIL_OUTCOMES


def _retries_exhausted(t: optuna.trial.FrozenTrial) -> bool:
    return len(t.system_attrs.get("retry_history", [])) + 1 > MAX_RETRY


def _is_done(t: optuna.trial.FrozenTrial) -> bool:
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    if t.state is TrialState.FAIL:
        if t.user_attrs.get("outcome") in SLOT_FAIL_OUTCOMES:
            return True
        return _is_crashed(t) and _retries_exhausted(t)  # given up: no retry will come
    return False


def _latest_by_slot(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[int, optuna.trial.FrozenTrial]:
    """Each slot's latest trial, a surplus one included: a re-queued configuration closed unrun as surplus
    (the budget was finished before it ran) ends its slot, so that nothing queues the crashed trial again."""
    latest: dict[int, optuna.trial.FrozenTrial] = {}
    for t in trials:
        s = _slot(t)
        if s not in latest or t.number > latest[s].number:
            latest[s] = t
    return latest


def _released_slots(trials: Sequence[optuna.trial.FrozenTrial]) -> set[int]:
    """Slots given up unfinished: their latest trial is a surplus close (a crashed trial's re-queue closed
    once the budget was finished, or a trial asked past the budget).  They count against no budget."""
    done = {_slot(t) for t in trials if _is_done(t)}
    return {s for s, t in _latest_by_slot(trials).items() if _is_surplus(t) and s not in done}


def slot_counts(study: optuna.Study) -> tuple[set[int], set[int]]:
    """(claimed slots, finished slots) of the study."""
    trials = study.get_trials(deepcopy=False)
    released = _released_slots(trials)
    claimed: set[int] = set()
    done: set[int] = set()
    for t in trials:
        if _is_surplus(t):
            continue
        s = _slot(t)
        if s not in released:
            claimed.add(s)
        if _is_done(t):
            done.add(s)
    return claimed, done


def interrupted_not_rerun(study: optuna.Study) -> int:
    """Crashed or interrupted trials whose configuration was queued again but closed unrun (the budget was
    finished first): their slot is released, and they will not be run."""
    trials = study.get_trials(deepcopy=False)
    released = _released_slots(trials)
    return sum(_is_crashed(t) and _slot(t) in released for t in trials)


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials that count against ``n_trials`` (COMPLETE, PRUNED, FAIL with a reason)."""
    return [t for t in study.get_trials(deepcopy=False) if _is_done(t)]


# ------------------------------------------------------------------------------------------------------------
# crash recovery without heartbeats (journal files)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(
    study: optuna.Study, *, stale_after: float = 120.0, own: str | None = None
) -> list[int]:
    """Fail and re-queue RUNNING trials whose local worker process is gone; returns their numbers.

    Used for storages without heartbeats (journal files).  A trial records ``worker = "host:pid"`` when it is
    asked; a RUNNING trial of this host whose pid no longer exists was interrupted (SIGKILL, power loss).
    Trials of other hosts are left alone: we cannot tell whether they are alive.  Crashed trials that lost
    their retry (the process died between failing and re-queueing) are re-queued too.  ``own`` (this
    process's :func:`worker_id`, on any storage): release exactly that worker's RUNNING trials instead, as a
    search interrupted by Ctrl-C does before it exits, so that no later run waits on them.
    """
    host = socket.gethostname()
    now = time.time()
    retry = StaleTrialRetry(MAX_RETRY)
    recovered: list[int] = []
    storage = study._storage  # the public API has no way to fail a trial another process was running
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        w = t.user_attrs.get("worker")
        if own is not None:
            stale = w == own
        elif isinstance(w, str) and ":" in w:
            h, pid = w.rsplit(":", 1)
            stale = h == host and pid.isdigit() and not _pid_alive(int(pid)) and int(pid) != os.getpid()
        else:
            started = t.datetime_start.timestamp() if t.datetime_start else now
            stale = now - started > stale_after
        if not stale:
            continue
        try:
            storage.set_trial_user_attr(t._trial_id, "outcome", "interrupted")
            storage.set_trial_user_attr(
                t._trial_id, "reason", f"interrupted: worker {w} stopped while running it"
            )
            if not storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        recovered.append(t.number)
    # Re-queue every crashed slot whose latest trial is a crashed FAIL (ours above, or an orphan).  A slot whose
    # re-queue was closed unrun as surplus is ended by that close: skipping it here queued the crashed trial
    # again at every resume, and each copy was closed as surplus at once (the study grew junk FAIL rows).
    for t in _latest_by_slot(study.get_trials(deepcopy=False)).values():
        if _is_crashed(t) and not _retries_exhausted(t):
            retry(study, study._storage.get_trial(t._trial_id))
    if recovered:
        log.warning("re-queued %d interrupted trial(s): %s", len(recovered), recovered)
    return recovered


# ------------------------------------------------------------------------------------------------------------
# heartbeats for a batch of trials


def _fail_stale_trials(study: optuna.Study) -> None:
    """Optuna's ``fail_stale_trials``, with a grace period no shorter than twice the slowest beat among the
    RUNNING trials' workers (each trial records its worker's ``heartbeat_interval``; one recorded before that,
    the default).  Each storage judges with its own grace period: a worker started with ``--heartbeat 2`` failed
    a live process's trials that beat every 30 s, and their training was lost and done again."""
    # the RDBStorage (only those have heartbeats), under Optuna's cache, which asks it for the stale trials
    storage: Any = getattr(study._storage, "_backend", study._storage)
    own = storage.grace_period
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    slowest = max(
        (int(t.user_attrs.get("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)) for t in running), default=0
    )
    grace = max(own or 2 * storage.get_heartbeat_interval(), 2 * slowest, 10)
    storage.grace_period = grace
    try:
        optuna.storages.fail_stale_trials(study)
    finally:
        storage.grace_period = own
    _fail_unbeaten_trials(study, storage, running, grace)


def _fail_unbeaten_trials(study: optuna.Study, storage: Any, running: list[Any], grace: float) -> None:
    """Fail (and re-queue) RUNNING trials that never got a heartbeat and started long ago.  Optuna judges only
    trials with a heartbeat row; one asked by a process that died (or lost its database) before its first beat
    stayed RUNNING for ever, and every other worker waited on it.  "Long ago" is three grace periods and a
    minute, on this machine's clock (a trial's start is its asker's clock: the margin covers skew)."""
    late = time.time() - (3 * grace + 60)
    old = [t for t in running if t.datetime_start is not None and t.datetime_start.timestamp() < late]
    if not old:
        return
    try:  # Optuna's private tables: where they differ, the heartbeat of a later version may cover this
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        with _create_scoped_session(storage.scoped_session) as session:
            beaten = {
                row.trial_id
                for row in session.query(models.TrialHeartbeatModel.trial_id).filter(
                    models.TrialHeartbeatModel.trial_id.in_([t._trial_id for t in old])
                )
            }
    except Exception as exc:  # a best effort on top of Optuna's own check
        log.debug("cannot look up heartbeats: %s", exc)
        return
    callback = storage.get_heartbeat_stale_trial_callback()
    for t in old:
        if t._trial_id in beaten:
            continue
        try:
            if not storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        log.warning(
            "trial %d never got a heartbeat since it was asked at %s: failed and re-queued",
            t.number,
            t.datetime_start,
        )
        if callback is not None:
            callback(study, copy.deepcopy(storage.get_trial(t._trial_id)))


@contextmanager
def _heartbeats(storage: Any, trial_ids: list[int]) -> Iterator[None]:
    """Record a heartbeat for every trial of the batch until the batch ends (Optuna's own thread does one)."""
    if not heartbeat_enabled(storage) or not trial_ids:
        yield
        return
    interval = float(storage.get_heartbeat_interval())
    stop = threading.Event()

    def beat() -> None:
        while True:
            for tid in trial_ids:
                try:
                    storage.record_heartbeat(tid)
                except Exception as exc:  # a lost connection must not kill training; the next beat retries
                    log.warning("heartbeat for trial id %d failed: %s", tid, exc)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name="hyperselect-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ------------------------------------------------------------------------------------------------------------
# study settings stored in the study (so workers need only --storage and --study)


@dataclass
class SearchSettings:
    space: SearchSpace
    n_trials: int
    batch_size: int
    eta: int
    rungs: list[int]
    random_state: int
    sampler: str
    task: str
    data: dict[str, Any] | None = None
    group_size: int = 1
    #: fractions of the training rows the first rungs train on (Hyperband's data budget); later rungs use all
    rung_rows: list[float] | None = None
    #: what the data looked like (``data_fingerprint``): a resumed study or a worker must train on the same
    fingerprint: dict[str, Any] | None = None
    #: the size of the study's first batch (``default_first_batch``; None: ``batch_size``)
    first_batch: int | None = None
    #: the validation score the search maximises (:data:`~hyperselect.train.metrics.METRICS`; None: the task's)
    metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "space": self.space.to_dict(),
            "n_trials": self.n_trials,
            "batch_size": self.batch_size,
            "eta": self.eta,
            "rungs": list(self.rungs),
            "random_state": self.random_state,
            "sampler": self.sampler,
            "task": self.task,
            "data": self.data,
            "group_size": self.group_size,
            "rung_rows": self.rung_rows,
            "fingerprint": self.fingerprint,
            "first_batch": self.first_batch,
            "metric": self.metric,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SearchSettings:
        return cls(
            space=SearchSpace.from_dict(d["space"]),
            n_trials=int(d["n_trials"]),
            batch_size=int(d["batch_size"]),
            eta=int(d["eta"]),
            rungs=[int(r) for r in d["rungs"]],
            random_state=int(d["random_state"]),
            sampler=str(d["sampler"]),
            task=str(d["task"]),
            data=d.get("data"),
            group_size=int(d.get("group_size", 1)),  # studies from before groups: none
            rung_rows=None if d.get("rung_rows") is None else [float(f) for f in d["rung_rows"]],
            fingerprint=d.get("fingerprint"),  # studies from before fingerprints: none
            # studies from before the smaller first batch: every batch full
            first_batch=None if d.get("first_batch") is None else int(d["first_batch"]),
            metric=None if d.get("metric") is None else str(d["metric"]),  # before --metric: the task's
        )


def stored_n_trials(storage: str | os.PathLike[str], study_name: str) -> int | None:
    """The total budget stored with hyperselect study ``study_name`` in ``storage``, or None where there is no
    such study (or no storage file yet): read without creating anything."""
    s = os.fspath(storage)
    if not is_url(s) and not Path(s).exists():
        return None
    try:
        store = open_storage(s, heartbeat_interval=None, must_exist=True)
    except StorageError:
        return None
    try:
        if store is None or study_name not in _study_names(store):
            return None
        attrs = store.get_study_user_attrs(store.get_study_id_from_name(study_name))
        settings = attrs.get(_ATTR)
        return int(settings["n_trials"]) if isinstance(settings, dict) and "n_trials" in settings else None
    finally:
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose()


def check_resumable(storage: str | os.PathLike[str], study_name: str, option: str = "--resume") -> None:
    """Raise StorageError unless ``storage`` holds a study named ``study_name`` (read without creating
    anything): a resume of a mistyped name started a new study, and its results overwrote the other study's
    result.json and trials.csv in the same --out folder."""
    s = os.fspath(storage)
    where = describe_storage(s)
    if not is_url(s) and not Path(s).exists():
        raise StorageError(
            f"{option}: there is no journal file at '{s}', so no study named {study_name!r} to resume. Check "
            "--storage (or --out, whose study.journal is the default), or drop --resume to start a new study."
        )
    store = open_storage(s, heartbeat_interval=None, must_exist=True)
    try:
        names = _study_names(store) if store is not None else []
        if study_name not in names:
            raise StorageError(
                f"{option}: no study named {study_name!r} in {where}{_held(study_name, names)}. Check --study, "
                "or drop --resume to start a new study."
            )
    finally:
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose()


def study_settings(study: optuna.Study) -> SearchSettings:
    d = study.user_attrs.get(_ATTR)
    if not d:
        raise StorageError(
            f"Study {study.study_name!r} was not created by hyperselect (no '{_ATTR}' settings): "
            "choose another study name (--study)."
        )
    try:
        if not isinstance(d, Mapping):
            raise TypeError(f"a {type(d).__name__}, not a mapping")
        return SearchSettings.from_dict(d)
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise StorageError(
            f"Study {study.study_name!r} holds hyperselect settings that cannot be read ({what}); it was "
            "changed by another tool or written by an incompatible version: choose another study name (--study)."
        ) from None


def data_fingerprint(data: Any) -> dict[str, Any]:
    """The split sizes, the number of features and a digest of the split arrays of ``data``.

    A study's trials are only comparable when they trained and were scored on the same rows: a resumed study or
    a worker that loads other data (another file, another target, another seed and so other splits, a file
    edited since) must be refused, not mixed in.  Features are rounded to 6 decimals before hashing, so that a
    machine whose floating-point sums differ in the last bit still agrees; labels are hashed as they are.
    """
    h = hashlib.sha256()
    sizes = {}
    for part in ("train", "valid", "test"):
        X, y = getattr(data, f"X_{part}", None), getattr(data, f"y_{part}", None)
        if X is None or y is None:
            continue
        Xa, ya = np.asarray(X), np.asarray(y)
        sizes[part] = int(Xa.shape[0])
        h.update(f"{part}:{Xa.shape}:{ya.shape}:".encode())
        if np.issubdtype(Xa.dtype, np.number):
            h.update(np.ascontiguousarray(np.round(Xa.astype(np.float64), 6)).tobytes())
        else:
            h.update(repr(Xa.tolist()).encode())
        yv = np.round(ya.astype(np.float64), 6) if np.issubdtype(ya.dtype, np.floating) else ya
        h.update(np.ascontiguousarray(yv).tobytes() if yv.dtype != object else repr(yv.tolist()).encode())
    X_train = getattr(data, "X_train", None)
    n_features = int(np.asarray(X_train).shape[1]) if X_train is not None and np.ndim(X_train) > 1 else None
    return {"rows": sizes, "features": n_features, "sha256": h.hexdigest()[:16]}


def _describe_ref(ref: Mapping[str, Any] | None) -> str:
    if not ref:
        return "in-memory data"
    if "builtin" in ref:
        return f"built-in {ref['builtin']!r} (seed {ref.get('random_state', 0)})"
    return f"{ref.get('path')!r}, target {ref.get('target')!r}, seed {ref.get('random_state', 0)}"


def check_same_data(
    name: str, stored: SearchSettings, ref: Mapping[str, Any] | None, fingerprint: Mapping[str, Any]
) -> None:
    """Raise ConfigError where the data of this run is not the data study ``name`` was created from."""
    old_ref = stored.data
    why = []
    if old_ref and ref:
        for key in ("builtin", "target", "random_state"):
            if old_ref.get(key) != ref.get(key):
                why.append(f"{key} {old_ref.get(key)!r} then, {ref.get(key)!r} now")
        if stored.fingerprint is None and old_ref.get("path") != ref.get("path"):
            why.append(f"file {old_ref.get('path')!r} then, {ref.get('path')!r} now")
    old = stored.fingerprint
    if not why and old is not None and dict(old) != dict(fingerprint):
        if old.get("rows") != fingerprint.get("rows") or old.get("features") != fingerprint.get("features"):
            why.append(
                f"rows per split {old.get('rows')} and {old.get('features')} features then, "
                f"{fingerprint.get('rows')} and {fingerprint.get('features')} features now"
            )
        else:
            why.append("the same shape, but other values (the file was edited, or the splits differ)")
    if why:
        raise ConfigError(
            f"Study {name!r} was created from {_describe_ref(old_ref)}, and this run's data differ "
            f"({'; '.join(why)}): trials trained on other data cannot be compared. Use the study's data, or "
            "another --study name (or storage) for this data."
        )


def _ignored_settings(
    stored: SearchSettings, given: SearchSettings, defaults: Sequence[str] = ()
) -> list[str]:
    """How the settings of a resumed run differ from the study's stored ones (which win), for a warning;
    ``defaults`` names settings this run did not choose (a default batch size follows ``n_trials``)."""
    out = []
    for key in ("batch_size", "eta", "rungs", "sampler", "group_size", "rung_rows", "metric"):
        if key in defaults:
            continue
        old, new = getattr(stored, key), getattr(given, key)
        if key == "metric":  # None: the task's own score
            old, new = old or Task(stored.task).score_name, new or Task(given.task).score_name
        if old != new:
            out.append(f"{key} {new!r} (stored {old!r})")
    old_space, new_space = stored.space.to_dict(), given.space.to_dict()
    changed: set[str] = set()
    for part in ("dims", "fixed", "base"):
        a, b = old_space.get(part) or {}, new_space.get(part) or {}
        changed |= {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    if changed:
        out.append(f"the search space ({', '.join(sorted(changed))})")
    return out


def _study_names(storage: Any) -> list[str]:
    try:
        return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    except Exception:  # listing is only for the message
        return []


def _check_ours(storage: Any, study_name: str, where: str) -> None:
    """Refuse an existing study that hyperselect did not create (its trials would be mixed with ours)."""
    study_id = storage.get_study_id_from_name(study_name)
    directions = storage.get_study_directions(study_id)
    attrs = storage.get_study_user_attrs(study_id)
    if _ATTR in attrs and list(directions) == [optuna.study.StudyDirection.MAXIMIZE]:
        return
    n = len(storage.get_all_trials(study_id, deepcopy=False))
    kind = ", ".join(d.name.lower() for d in directions)
    raise StorageError(
        f"Study {study_name!r} in {where} was not created by hyperselect (an Optuna study: direction {kind}, "
        f"{n} trial(s){'' if _ATTR in attrs else ', no hyperselect settings'}); hyperselect will not add its "
        "trials to it. Choose another study name (--study)."
    )


def _held(name: str, names: Sequence[str], shown: int = 8) -> str:
    """``; did you mean 'ktune'? (it holds 66 studies: 'a', 'b', ...)`` for a study name not in a storage: a
    close match first, and only the first ``shown`` names of a shared server's many."""
    import difflib

    if not names:
        return "; it holds no study"
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(map(repr, list(names)[:shown])) + (", ..." if len(names) > shown else "")
    return f"{hint} (it holds {len(names)} stud{'y' if len(names) == 1 else 'ies'}: {listed})"


def open_study(
    storage: Any,
    study_name: str,
    *,
    settings: SearchSettings | None,
    resume: bool,
    sampler: optuna.samplers.BaseSampler,
    where: str = "the storage",
) -> optuna.Study:
    """Create the study (storing ``settings``) or, with ``resume``/``settings=None``, load an existing one.

    ``where`` names the storage in messages (:func:`describe_storage`: no password).  An existing study must be
    hyperselect's: a plain Optuna study of the same name (another direction, several objectives, no settings)
    is refused rather than mixed with.
    """
    exists = storage is not None and study_name in _study_names(storage)
    if exists:
        _check_ours(storage, study_name, where)
    if exists and settings is not None and not resume:
        raise StorageError(
            f"A study named {study_name!r} already exists in {where}; resume it "
            "(--resume; resume=True in Python) or choose another study name."
        )
    if not exists and settings is None:
        raise StorageError(
            f"No study named {study_name!r} in {where}{_held(study_name, _study_names(storage))}. A study "
            "appears once `hyperselect tune ... --storage ... --study NAME` has read its data and opened the "
            "storage: start workers after tune prints its first progress."
        )
    try:
        if exists:
            study = optuna.load_study(
                study_name=study_name, storage=storage, sampler=sampler, pruner=optuna.pruners.NopPruner()
            )
        else:
            study = optuna.create_study(
                study_name=study_name,
                storage=storage,
                sampler=sampler,
                pruner=optuna.pruners.NopPruner(),
                direction="maximize",
                load_if_exists=True,
            )
    except (optuna.exceptions.DuplicatedStudyError, KeyError) as exc:
        raise StorageError(f"Cannot open study {study_name!r}: {exc}") from exc
    if not exists and not resume and settings is not None and study.user_attrs.get(_ATTR) is not None:
        # another process created it between our look and our create (load_if_exists joined it): a new search
        # must not mix its trials into a study it did not make, perhaps on other data
        raise StorageError(
            f"A study named {study_name!r} was created in {where} by another process a moment ago; resume it "
            "(--resume; resume=True in Python) or choose another study name."
        )
    # (with resume, a study another process created a moment ago already has its settings)
    if not exists and settings is not None and study.user_attrs.get(_ATTR) is None:
        study.set_user_attr(_ATTR, settings.to_dict())
        # The first trial is the advisor's default config (Adam, lr 1e-3, ...): a strong baseline to beat.
        study.enqueue_trial(settings.space.default_params(), user_attrs={"prior_default": True})
    return study


# ------------------------------------------------------------------------------------------------------------
# the loop


@dataclass
class SearchStats:
    asked: int = 0
    surplus: int = 0
    batches: int = 0
    seconds: float = 0.0
    recovered: list[int] = field(default_factory=list)
    wait_since: float | None = None  # when this worker began waiting on other hosts' trials (_say_waiting)
    wait_noticed: bool = False


def run_search(
    study: optuna.Study,
    data: Any,
    settings: SearchSettings,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    device: str | None = None,
    poll_interval: float = 1.0,
    progress: bool = False,
) -> SearchStats:
    """Ask, train and tell batches until ``n_trials`` slots are finished (by anyone) or ``timeout`` passes.

    ``progress`` draws a bar with ETA on stderr (finished trials of the study, by any worker).
    """
    import contextlib

    from hyperselect.progress import make_progress

    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(make_progress(transient=True)) if progress else None
        try:
            return _run_search(study, data, settings, n_trials, timeout, device, poll_interval, bar)
        except KeyboardInterrupt:
            # This process is alive and knows its trials were cut short: fail and re-queue them now.  Left
            # RUNNING in a journal, only a later run on this host could tell they are orphans; one on another
            # host (or in a new container) would wait on them forever.  An in-memory study ends with the
            # process: nothing will run its trials again, and "re-queued" would promise a resume there is not.
            if not study_storage_kept(study):
                raise
            try:
                released = recover_interrupted(study, own=worker_id())
            except Exception as exc:  # the storage itself may be what failed; the interrupt is the news
                log.warning("could not release this run's trials after the interrupt: %s", exc)
            else:
                if released:
                    log.info("interrupted: released trial(s) %s to be run again", released)
            raise


def _run_search(
    study: optuna.Study,
    data: Any,
    settings: SearchSettings,
    n_trials: int | None,
    timeout: float | None,
    device: str | None,
    poll_interval: float,
    bar: Any,
) -> SearchStats:
    n_total = settings.n_trials if n_trials is None else int(n_trials)
    t0 = time.monotonic()
    deadline = None if timeout is None else t0 + float(timeout)
    storage = study._storage
    hb = heartbeat_enabled(storage)
    stats = SearchStats()
    wid = worker_id()
    if not hb:
        stats.recovered = recover_interrupted(study)
    task = Task(settings.task)
    n_classes = len(data.classes) if getattr(data, "classes", None) is not None else None
    bar_task = None if bar is None else bar.add_task(f"search {study.study_name}", total=n_total)
    # the nested, stratified order the first rungs' subsets are prefixes of (the same for every batch)
    row_order = nested_row_order(data.y_train, settings.random_state) if settings.rung_rows else None
    # (structure, leader, members) of a smaller first batch, continued by the second (default_first_batch)
    first_group: tuple[dict[str, Any], int, int] | None = None
    while True:
        # like Optuna's optimize, a timeout never stops the first batch from starting
        if deadline is not None and stats.batches > 0 and time.monotonic() > deadline:
            log.info("timeout reached after %.1f s", time.monotonic() - t0)
            break
        if hb:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                _fail_stale_trials(study)
        claimed, done = slot_counts(study)
        if bar is not None:
            bar.update(bar_task, completed=min(len(done), n_total))
        if len(done) >= n_total:
            _retire_waiting(study, n_total, stats)
            break
        free = n_total - len(claimed)
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if free <= 0 and not waiting:
            # Every remaining slot is being run by someone else: wait, so that if one of them dies (heartbeat)
            # we are here to take over its re-queued trials -- but no longer than this worker's timeout.
            if deadline is not None and time.monotonic() > deadline:
                log.info(
                    "timeout reached after %.1f s while the others ran the last trials", time.monotonic() - t0
                )
                break
            if not hb:
                stats.recovered += recover_interrupted(study)
                _say_waiting(study, stats)
            time.sleep(poll_interval)
            continue
        k = min(settings.batch_size, max(free, 0) + len(waiting))
        group_state = None
        if settings.first_batch is not None and settings.first_batch < settings.batch_size:
            if stats.batches == 0 and not study.get_trials(deepcopy=False, states=_STARTED_STATES):
                k = min(k, settings.first_batch)  # a fresh study: the first results come sooner
            elif first_group is not None:
                # the rest of the first group: its structure, and the prior draws it would have had
                group_state, first_group = first_group, None
                k = min(k, settings.batch_size - group_state[2])
        batch = _ask_batch(study, settings, k, n_total, wid, stats, group_state)
        if batch and stats.batches == 0 and k == settings.first_batch and len(batch) == k:
            lead = batch[0][0]
            first_group = (
                {n: lead.params[n] for n in STRUCTURE_PARAMS if n in lead.params},
                lead.number,
                len(batch),
            )
        if batch:
            stats.wait_since = None  # (a later wait on other hosts' trials is timed from its own start)
            _train_batch(study, data, settings, batch, task, n_classes, device, deadline, storage, row_order)
            stats.batches += 1
    stats.seconds = time.monotonic() - t0
    return stats


#: Seconds a journal worker waits on another host's RUNNING trials before it says so (live ones finish).
WAIT_NOTICE_SECONDS = 30.0


def _say_waiting(study: optuna.Study, stats: SearchStats) -> None:
    """Say once which trials of other hosts this worker has waited on for :data:`WAIT_NOTICE_SECONDS`: a journal
    has no heartbeat, so a worker of another host (or an earlier container) that died leaves its trials RUNNING
    and nothing here can tell it from a live one.  (This host's dead workers are recovered by pid.)"""
    if stats.wait_noticed:
        return
    host = socket.gethostname()
    others = sorted(
        (t.number, str(t.user_attrs.get("worker", "?")))
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if str(t.user_attrs.get("worker", "?")).rsplit(":", 1)[0] != host
    )
    now = time.monotonic()
    if not others:
        stats.wait_since = None
        return
    if stats.wait_since is None:
        stats.wait_since = now
    if now - stats.wait_since < WAIT_NOTICE_SECONDS:
        return
    stats.wait_noticed = True
    shown = ", ".join(f"{n} ({w})" for n, w in others[:8]) + (", ..." if len(others) > 8 else "")
    log.warning(
        "waiting for %d trial(s) that workers on other hosts are running: %s. A journal file has no heartbeat: "
        "if those processes are gone (another machine, an earlier container), this run waits until its "
        "timeout; rerun with --resume on the host that ran them (it re-queues its dead workers' trials), or "
        "share the study through a database, whose heartbeat re-queues them on any host.",
        len(others),
        shown,
    )


def _retire_waiting(study: optuna.Study, n_total: int, stats: SearchStats) -> None:
    """Once every slot of the budget is finished, a trial still WAITING will never run (a group follower whose
    worker died between enqueueing and asking it): take each and close it as FAIL, outcome "surplus", so
    that the study holds nothing that looks pending (a surplus trial counts against no budget)."""
    for _ in range(len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = study.ask()  # the oldest WAITING one (or, if another worker took it meanwhile, a new one)
        trial.set_user_attr("outcome", "surplus")
        trial.set_user_attr("reason", f"not run: the budget of {n_total} trials was already finished")
        study.tell(trial, state=TrialState.FAIL)
        stats.surplus += 1


#: Trials that have been asked (an enqueued trial not yet asked is WAITING)
_STARTED_STATES = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

#: The dimensions that decide whether two configurations can share a vectorised population
#: (:func:`~hyperselect.train.population.population_key`: the data stream and the layer structure).
STRUCTURE_PARAMS = ("batch_size", "n_layers", "norm")
#: from this many trials a searched dimension that never varied is a warning (fewer: info; result.json has it)
UNVARIED_WARN_TRIALS = 10
#: how the warnings name the structural parameters
STRUCTURE_NAMES = {"batch_size": "batch size", "n_layers": "depth", "norm": "normalisation"}


def _ask_batch(
    study: optuna.Study,
    settings: SearchSettings,
    k: int,
    n_total: int,
    wid: str,
    stats: SearchStats,
    group_state: tuple[dict[str, Any], int, int] | None = None,
) -> list[tuple[optuna.trial.Trial, MLPConfig]]:
    """Ask ``k`` trials.  With ``settings.group_size`` g > 1 they come in groups of g that share the leader's
    structural values (:data:`STRUCTURE_PARAMS`): the first of a group is asked freely, the next g - 1 are
    enqueued with those values fixed (Optuna's partial fixed parameters) and the sampler draws the rest, so
    the group trains as one population instead of falling apart into single networks.  ``group_state``
    (structure, leader, members so far) continues a group begun in the previous batch."""
    batch: list[tuple[optuna.trial.Trial, MLPConfig]] = []
    group = max(1, settings.group_size)
    fixed: dict[str, Any] = {}  # the current group's structural values
    leader, in_group = -1, 0
    cap = group  # the current group's size: an exploring leader's group is small (_group_cap)
    if group_state is not None and group_state[0]:
        fixed, leader, in_group = dict(group_state[0]), group_state[1], group_state[2]
        cap = _group_cap(study, settings, leader)
    store: Any = study._storage
    beat = store.get_heartbeat_interval() if heartbeat_enabled(store) else None
    for _ in range(k):
        # a follower is enqueued only onto an empty queue: ask pops the oldest WAITING trial, so behind a re-queued
        # interrupted trial the follower stayed queued and joined a later batch as a stale member of another group
        # (a resume's batches fell apart into populations of mixed depth, and a --timeout left it WAITING, an
        # empty row in trials.csv)
        if fixed and in_group < cap and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.enqueue_trial(fixed, user_attrs={"group_of": leader})
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # "heartbeat is supposed to be used with optimize": we beat ourselves
            trial = study.ask()
        if beat:
            # a first beat at once: Optuna judges only trials with a heartbeat, so one asked by a process that
            # died before its batch began training stayed RUNNING for ever (_fail_unbeaten_trials covers the
            # moment between the ask and this beat)
            store.record_heartbeat(trial._trial_id)
        trial.set_user_attr("worker", wid)
        if beat:  # what this worker beats at: the others judge its trials stale by it (_fail_stale_trials)
            trial.set_user_attr("heartbeat_interval", beat)
        stats.asked += 1
        frozen = study._storage.get_trial(trial._trial_id)
        # its rank among the claimed slots is at most its slot + 1 (slots are trial numbers): count only near
        # the end of the budget
        rank = 0
        if _slot(frozen) >= n_total:
            claimed = sorted(slot_counts(study)[0])
            rank = bisect.bisect_right(claimed, _slot(frozen))
        if rank > n_total:
            trial.set_user_attr("outcome", "surplus")
            trial.set_user_attr("reason", f"not run: the budget of {n_total} trials was already claimed")
            study.tell(trial, state=TrialState.FAIL)
            stats.surplus += 1
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                config = settings.space.suggest(trial)
        except ConfigError as exc:
            trial.set_user_attr("outcome", "error")
            trial.set_user_attr("reason", f"invalid configuration: {exc}")
            study.tell(trial, state=TrialState.FAIL)
            continue
        batch.append((trial, config))
        if group > 1:
            structure = {n: trial.params[n] for n in STRUCTURE_PARAMS if n in trial.params}
            if fixed and structure == fixed and in_group < cap:
                in_group += 1
            else:  # a new group; also where ask popped a retried or another worker's trial instead
                fixed, leader, in_group = structure, trial.number, 1
                cap = _group_cap(study, settings, leader)
    return batch


def _group_cap(study: optuna.Study, settings: SearchSettings, leader: int) -> int:
    """How many trials share ``leader``'s structure: ``group_size``, or ``eta`` where the sampler gave the leader
    a structural value no trial had tried (``explore_unvaried``): a try of another depth or batch size, not a
    whole batch spent on it.  On embedded BBC News (12 seeds, benchmarks/HISTORY.md) a whole batch per try cost
    a quarter of the hits of the target (199 against 266 without trying), a group of ``eta`` none (279)."""
    group = max(1, settings.group_size)
    try:
        tid = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, leader)
        explored = study._storage.get_trial_system_attrs(tid).get(EXPLORED_ATTR)
    except (KeyError, optuna.exceptions.OptunaError):
        return group
    return min(group, max(1, settings.eta)) if explored in STRUCTURE_PARAMS else group


def _train_batch(
    study: optuna.Study,
    data: Any,
    settings: SearchSettings,
    batch: list[tuple[optuna.trial.Trial, MLPConfig]],
    task: Task,
    n_classes: int | None,
    device: str | None,
    deadline: float | None,
    storage: Any,
    row_order: torch.Tensor | None = None,
) -> None:
    trials = [t for t, _ in batch]
    configs = [c for _, c in batch]
    # seeds follow the slot, so a retried configuration is trained exactly as the interrupted one would have been
    slots = [_slot(study._storage.get_trial(t._trial_id)) for t in trials]
    seeds = [settings.random_state * 100_003 + s for s in slots]
    max_epochs = max(c.max_epochs for c in configs)
    rungs = [r for r in settings.rungs if r < max_epochs] + [max_epochs]
    schedule = None
    if settings.rung_rows and row_order is not None:
        # at least two batches of the largest batch size in a subset epoch, and never a handful of rows
        min_rows = max(MIN_SUBSET_ROWS, 2 * max(c.batch_size for c in configs))
        schedule = RowSchedule.from_fractions(row_order, rungs[:-1], settings.rung_rows, min_rows)
    with _heartbeats(storage, [t._trial_id for t in trials]):
        cohort = Cohort(
            configs,
            data.X_train,
            data.y_train,
            data.X_valid,
            data.y_valid,
            task=task,
            n_classes=n_classes,
            seeds=seeds,
            data_seed=settings.random_state,
            device=device,
            row_schedule=schedule,
            metric=settings.metric,
            y_scale=target_scale(data, task),
        )
        run_halving(study, trials, cohort, rungs=rungs, eta=settings.eta, deadline=deadline)


# ------------------------------------------------------------------------------------------------------------
# results


@dataclass
class TuneResult:
    """The outcome of a search: the best configuration, its refit test metrics and every trial."""

    study_name: str
    storage: str
    task: str
    score_name: str
    best_trial: int
    best_config: MLPConfig
    best_valid_score: float
    test_metrics: dict[str, float]
    importances: dict[str, float]
    trials: pd.DataFrame
    counts: dict[str, int]
    space: SearchSpace
    rungs: list[int]
    seconds: float
    refit_epochs: int
    refit_model: Any = field(default=None, repr=False)
    study: optuna.Study | None = field(default=None, repr=False)
    #: trial number -> {epoch: validation score}: every trial's learning curve, read from the study once so
    #: that result.json carries it whatever the storage (a database the report cannot open, say)
    curves: dict[int, dict[int, float]] = field(default_factory=dict, repr=False)
    #: fractions of the training rows the first rungs trained on (None: every rung on every row)
    rung_rows: list[float] | None = None
    #: the data searched, as its ``describe()`` says (source, task, rows, features): None where unknown
    data: dict[str, Any] | None = None
    #: seconds of every search of this study (``tune`` calls and workers, resumed ones included, summed over
    #: processes); ``seconds`` is this call's alone.  None where the study did not record them
    study_seconds: float | None = None
    #: searched dimensions that took one value in every trial (see :func:`_unvaried`): name -> that value
    unvaried: dict[str, Any] = field(default_factory=dict)
    #: trials with a score at the first rung, which the importances are computed over (None: not counted)
    rung_scored: int | None = None

    def trial_records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per trial: the ``trials`` table's columns plus ``params`` and
        ``intermediate_values`` ({epoch: validation score})."""
        out = []
        for raw in self.trials.to_dict(orient="records"):
            row: dict[str, Any] = {str(k): v for k, v in raw.items()}
            rec: dict[str, Any] = {}
            params: dict[str, Any] = {}
            for k, value in row.items():
                v = _jsonable(value)
                if k.startswith("param_"):
                    if v is not None:
                        params[k[len("param_") :]] = v
                else:
                    rec[k] = v
            rec["params"] = params
            curve = self.curves.get(int(row["number"]), {})
            rec["intermediate_values"] = {str(k): _jsonable(v) for k, v in sorted(curve.items())}
            out.append(rec)
        return out

    def importances_note(self) -> str:
        """How ``importances`` were computed, or why there are none (a --timeout that stopped every trial
        before the first rung left none, and the note claimed every trial had reached it)."""
        rung = f"the first rung ({self.rungs[0]} epochs)"
        if not self.importances and self.rung_scored is not None and self.rung_scored < MIN_IMPORTANCE_TRIALS:
            reached = "no trial" if self.rung_scored == 0 else f"only {self.rung_scored} trial(s)"
            return (
                f"none: {reached} reached {rung}, and importances need at least {MIN_IMPORTANCE_TRIALS} "
                "(trials.csv's epochs and reason say where each stopped: a --timeout stops them early)"
            )
        if not self.importances:
            return (
                f"none: among the trials that reached {rung}, no searched parameter took more than one value, "
                "or PED-ANOVA could not rank them"
            )
        over = "the trials that have one" if self.rung_scored is None else f"the {self.rung_scored} trials"
        return (
            f"PED-ANOVA on each trial's best score within {rung}, over {over} that reached it (a trial pruned "
            "or failed before it has none: trials.csv says why); a parameter that took one value in every "
            "trial is left out"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_name": self.study_name,
            "storage": self.storage,
            "task": self.task,
            "score_name": self.score_name,
            "best_trial": self.best_trial,
            "best_config": self.best_config.to_dict(),
            "best_valid_score": self.best_valid_score,
            "test_metrics": dict(self.test_metrics),
            "importances": dict(self.importances),
            "importances_note": self.importances_note(),
            "counts": dict(self.counts),
            "unvaried": dict(self.unvaried),
            "counts_note": "COMPLETE, PRUNED and FAIL count the budget's trials (finished is their sum); "
            "trials.csv also lists, with state FAIL, the 'retried' runs cut by a crash or an interrupt (their "
            "configurations were queued again; 'not_rerun' of them were not run again, their copies closed unrun "
            "because the budget was finished first) and the 'surplus' trials closed unrun once the budget was "
            "finished",
            "rungs": list(self.rungs),
            "rung_rows": None if self.rung_rows is None else list(self.rung_rows),
            "refit_epochs": self.refit_epochs,
            "seconds": self.seconds,
            "study_seconds": self.study_seconds,
            "space": self.space.to_dict(),
            "data": self.data,
            "trials": self.trial_records(),
        }

    def save(self, out_dir: str | os.PathLike[str], data: Any = None, *, random_state: int = 0) -> Path:
        """Write ``result.json`` and ``trials.csv`` into ``out_dir`` atomically; returns the folder.

        With ``data`` (the data searched), also ``out_dir/model/``: the refit best network with the table's
        reading and preprocessing, as ``hyperselect tune --out`` writes it, which
        :func:`hyperselect.load_model` and ``hyperselect predict`` read (``random_state`` is recorded with it).
        Without ``data`` no model is written: ``result.json`` alone cannot rebuild the preprocessing."""
        out = check_out_folder(out_dir) or Path(out_dir)  # a file in the way: a DataError naming it
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(safe_join(out, "result.json"), self.to_dict())
        atomic_write_text(safe_join(out, "trials.csv"), self.trials.to_csv(index=False))
        if data is not None:
            from hyperselect.model_io import save_tune_result

            save_tune_result(out, self, data, random_state=random_state)
        return out


def trials_table(study: optuna.Study) -> pd.DataFrame:
    rows = []
    ints: dict[str, bool] = {}  # parameter column -> whether every value in it is an int
    for t in study.get_trials(deepcopy=False):
        outcome, reason = t.user_attrs.get("outcome"), t.user_attrs.get("reason")
        if t.state is TrialState.WAITING:  # queued when the run stopped (a --timeout, Ctrl-C): no empty row
            outcome, reason = "queued", "queued, not run yet: the run stopped first (--resume runs it)"
        elif _is_crashed(t) and outcome != "interrupted":  # (journal recovery names its own)
            # failed by heartbeat; where it died between recording its outcome and telling it, that outcome
            # never took effect
            outcome, reason = (
                "crashed",
                (
                    "its worker stopped responding while running it (heartbeat)"
                    if outcome is None
                    else f"its worker stopped while recording the outcome {outcome!r}"
                ),
            )
        finite = [v for v in t.intermediate_values.values() if math.isfinite(v)]
        row: dict[str, Any] = {
            "number": t.number,
            "slot": _slot(t),
            "state": t.state.name,
            # Optuna's value: the score at the epoch early stopping kept (COMPLETE) or the last epoch's (PRUNED);
            # halving compares the best so far, which its reasons quote
            "value": t.value,
            "best_score": max(finite, default=None),
            "outcome": outcome,
            "epochs": t.user_attrs.get("epochs"),
            "best_epoch": t.user_attrs.get("best_epoch"),
            "n_parameters": t.user_attrs.get("n_parameters"),
            "seconds": t.user_attrs.get("seconds"),
            "reason": reason,
            "worker": t.user_attrs.get("worker"),
        }
        row.update({f"param_{k}": v for k, v in t.params.items()})
        rows.append(row)
        for k, v in t.params.items():  # a column of ints (depth, width, a batch size's choices) stays ints
            is_int = isinstance(v, int | np.integer) and not isinstance(v, bool)
            ints[f"param_{k}"] = ints.get(f"param_{k}", True) and is_int
    table = pd.DataFrame(rows)
    # counts stay integers where a row lacks them (a failed or queued trial): pandas made the whole column
    # float, and trials.csv read 'epochs 30.0', 'param_batch_size 64.0'
    for col in ("epochs", "best_epoch", "n_parameters", *(c for c, is_int in ints.items() if is_int)):
        if col in table and _all_integral(table[col]):
            table[col] = table[col].astype("Int64")
    return table


def _all_integral(column: pd.Series) -> bool:
    values = column.dropna()
    try:
        return bool(all(float(v).is_integer() for v in values))
    except (TypeError, ValueError):
        return False


#: trials with a first-rung score that parameter importances need
MIN_IMPORTANCE_TRIALS = 3


def rung_scored(study: optuna.Study, rung: int) -> int:
    """How many trials have a score at the first ``rung`` epochs (those :func:`rung_importances` ranks)."""
    from hyperselect.search.halving import _best_until

    return sum(
        _best_until(t, rung) is not None and bool(t.params)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    )


def rung_importances(study: optuna.Study, rung: int) -> dict[str, float]:
    """Optuna's parameter importances on each trial's best score within the first ``rung`` epochs.

    Successive halving leaves few COMPLETE trials and their budgets differ; the first rung is where every
    trial was measured at the same budget, so that is the fair comparison.
    """
    from hyperselect.search.halving import _best_until

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a scratch study: no "A new study created" line
    try:
        proxy = optuna.create_study(direction="maximize")
    finally:
        optuna.logging.set_verbosity(verbosity)
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        v = _best_until(t, rung)
        if v is None or not t.params:
            continue
        proxy.add_trial(optuna.trial.create_trial(params=t.params, distributions=t.distributions, value=v))
    if len(proxy.trials) < MIN_IMPORTANCE_TRIALS:
        return {}
    # a parameter that took one value in every trial explains nothing, but PED-ANOVA gives it a share (a depth
    # every trial of a 9-trial search shared was ranked above the activation): left out
    varying = [k for k, values in _param_values(proxy.trials).items() if len({repr(v) for v in values}) > 1]
    if not varying:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = optuna.importance.get_param_importances(proxy, params=varying)
    except (RuntimeError, ValueError) as exc:  # too few distinct values etc.: importances are optional
        log.info("parameter importances unavailable: %s", exc)
        return {}
    return {k: float(v) for k, v in imp.items()}


def _check_constant_prediction(
    model: Any, logits: Any, data: Any, task: Task, metrics: dict[str, float], metric: str | None = None
) -> None:
    """Add the test balanced accuracy, and warn where the network predicts one class for every test row: on an
    imbalanced target (3 % positives) the accuracy the search maximises is then the majority's share, and the
    "tuned" network never names the class the user is after."""
    from hyperselect.nn.losses import predict_from_logits
    from hyperselect.train.metrics import class_scores

    pred = predict_from_logits(logits, task).reshape(-1).long().cpu().numpy()
    truth = np.asarray(data.y_test).reshape(-1).astype(np.int64)
    # scikit-learn's formula (mean recall over the test rows' classes), without its warning where the network
    # names a class the test rows lack (the text command printed and kept that warning as a fact of its run)
    balanced = float(
        class_scores(torch.as_tensor(pred).reshape(1, -1), torch.as_tensor(truth), 0, "balanced_accuracy")[0]
    )
    metrics["test_balanced_accuracy"] = balanced
    if len(np.unique(pred)) == 1 and len(np.unique(truth)) > 1:
        classes = getattr(data, "classes", None)
        only = np.asarray(classes)[int(pred[0])].item() if classes is not None else int(pred[0])
        share = float(np.mean(truth == pred[0]))
        if share < 0.7:
            why = (
                "It has learned nothing that tells the classes apart: give the search more trials or epochs, "
                "or check that the features carry the target."
            )
        elif metric is None or metric not in CLASS_BALANCED:
            why = (
                f"The search ranks configurations by {metric or 'accuracy'}, which a constant prediction "
                "maximises on an imbalanced target; judge this model by its balanced accuracy, and tune again "
                "with --metric balanced_accuracy (or f1_macro) and class_weight='balanced' in the space."
            )
        else:
            why = (
                f"The search ranked configurations by {metric} and its best still names one class on the test "
                "rows: give it more trials, search class_weight='balanced' (extend the space with it), or "
                "gather more rows of the rare classes."
            )
        warnings.warn(
            f"The tuned network (refit on train+valid) predicts {only!r} for every one of the {len(pred)} test "
            f"rows: its accuracy {share:.3f} is that class's share, its balanced accuracy {balanced:.3f}. {why}",
            UserWarning,
            stacklevel=4,
        )


def refit_and_test(
    config: MLPConfig,
    epochs: int,
    data: Any,
    *,
    random_state: int = 0,
    device: str | None = None,
    metric: str | None = None,
) -> tuple[Any, dict[str, float]]:
    """Train ``config`` on train+valid for ``epochs`` epochs (no early stopping) and score it on the test split
    (the task's score, and ``metric`` where the search maximised another)."""
    import torch

    from hyperselect.nn.losses import class_weights, make_loss
    from hyperselect.train.metrics import score_from_logits
    from hyperselect.train.trainer import as_tensors, train_network

    task = Task(data.task)
    X = np.concatenate([data.X_train, data.X_valid])
    y = np.concatenate([data.y_train, data.y_valid])
    n_classes = len(data.classes) if getattr(data, "classes", None) is not None else None
    cfg = config.replace(max_epochs=max(1, epochs), patience=None)
    res = train_network(
        cfg,
        X,
        y,
        data.X_valid,
        data.y_valid,
        task=task,
        n_classes=n_classes,
        random_state=random_state,
        device=device,
        # the epoch it keeps (where the config stops on its score) ranked by the search's metric
        metric=metric,
        y_scale=target_scale(data, task),
    )
    metrics: dict[str, float] = {}
    if len(data.y_test):
        model = res.model
        dev = next(model.parameters()).device
        Xt, yt = as_tensors(data.X_test, data.y_test, task, dev, torch.float32)
        model.eval()
        with torch.no_grad():
            logits = model(Xt)
        metrics[f"test_{task.score_name}"] = score_from_logits(logits, yt, task)
        if metric is not None and metric != task.score_name:
            metrics[f"test_{metric}"] = score_from_logits(logits, yt, task, metric, target_scale(data, task))
        # the loss the refit minimised (class weights from its own rows, train+valid)
        metrics["test_loss"] = float(make_loss(cfg, task, class_weights(cfg, task, y, n_classes))(logits, yt))
        if task in (Task.BINARY, Task.MULTICLASS):
            _check_constant_prediction(model, logits, data, task, metrics, metric)
        if task is Task.REGRESSION and data.y_std is not None:
            pred = logits[:, 0].double().cpu().numpy()
            metrics["test_rmse"] = float(np.sqrt(np.mean((pred - data.y_test) ** 2)) * data.y_std)
    return res, metrics


class NoScoreError(TrainingError):
    """No trial of the search produced a score; ``trials`` is the study's trials table (each trial's reason),
    for the CLI to write as trials.csv all the same."""

    def __init__(self, message: str, trials: pd.DataFrame) -> None:
        super().__init__(message)
        self.trials = trials


def summarize(
    study: optuna.Study,
    data: Any,
    settings: SearchSettings,
    *,
    storage_name: str,
    seconds: float,
    refit: bool = True,
    device: str | None = None,
) -> TuneResult:
    done = finished_trials(study)
    complete = [t for t in done if t.state is TrialState.COMPLETE and is_finite(t.value)]
    if complete:
        best = max(complete, key=lambda t: (t.value, -t.number))
    else:
        # A timeout can stop every trial before its last rung: take the one that got furthest, then the best.
        pruned = [
            t
            for t in done
            if t.state is TrialState.PRUNED and is_finite(t.value) and "config" in t.user_attrs
        ]
        if not pruned:
            reasons = sorted({str(t.user_attrs.get("reason")) for t in done})[:3]
            outcomes = {t.user_attrs.get("outcome") for t in done}
            hint = ""
            fixed_lr = settings.space.fixed.get("lr")
            if outcomes == {"diverged"} and fixed_lr is not None:
                # "narrow 'lr'" is no advice where lr is fixed: the fixed value is the one to change
                lr = f"{fixed_lr:g}" if isinstance(fixed_lr, int | float) else str(fixed_lr)
                hint = (
                    f" Every trial diverged, with the learning rate fixed to {lr} (--fix lr={lr} or the space "
                    "file's fix): lower the learning rate you fixed (or search it: drop that fix), or fix grad_clip."
                )
            elif outcomes == {"diverged"}:
                hint = (
                    " Every trial diverged: lower the learning rate (narrow or extend 'lr' to smaller values), "
                    "or fix grad_clip."
                )
            elif outcomes == {"error"}:
                hint = " Every configuration was invalid: check the space's fixed values and ranges."
            kept = "" if study_storage_kept(study) else ", kept in memory only"
            raise NoScoreError(
                f"No trial of study {study.study_name!r} produced a score ({len(done)} finished{kept}); "
                f"reasons: {reasons}.{hint}",
                trials_table(study),
            )
        best = max(pruned, key=lambda t: (t.user_attrs.get("epochs", 0), t.value, -t.number))
        log.warning(
            "No trial of study %r completed its epochs (%s); the best is trial %d, stopped after %s epoch(s) "
            "(%s): give the search more time or trials for a fairer choice.",
            study.study_name,
            ", ".join(f"{k} {v}" for k, v in _state_counts(done).items() if v),
            best.number,
            best.user_attrs.get("epochs", "?"),
            best.user_attrs.get("reason", "pruned"),
        )
    config = config_from_dict(best.user_attrs["config"])
    epochs = int(best.user_attrs.get("best_epoch", config.max_epochs - 1)) + 1
    model, test = None, {}  # type: tuple[Any, dict[str, float]]
    if refit:
        res, test = refit_and_test(
            config, epochs, data, random_state=settings.random_state, device=device, metric=settings.metric
        )
        model = res.model
    counts = _state_counts(done)
    counts["finished"] = len(done)
    counts["surplus"] = sum(_is_surplus(t) for t in study.get_trials(deepcopy=False))
    counts["retried"] = sum(_is_crashed(t) for t in study.get_trials(deepcopy=False))
    # of those, the ones whose re-queued copy was closed unrun (the budget was finished first): not run again
    counts["not_rerun"] = interrupted_not_rerun(study)
    return TuneResult(
        study_name=study.study_name,
        storage=storage_name,
        task=settings.task,
        score_name=settings.metric or Task(settings.task).score_name,
        best_trial=best.number,
        best_config=config,
        best_valid_score=float(best.value) if best.value is not None else math.nan,
        test_metrics=test,
        importances=rung_importances(study, settings.rungs[0]),
        trials=trials_table(study),
        counts=counts,
        space=settings.space,
        rungs=list(settings.rungs),
        seconds=seconds,
        refit_epochs=epochs,
        refit_model=model,
        study=study,
        curves={t.number: dict(t.intermediate_values) for t in study.get_trials(deepcopy=False)},
        rung_rows=None if settings.rung_rows is None else list(settings.rung_rows),
        data=dict(data.describe()) if callable(getattr(data, "describe", None)) else None,
        study_seconds=_study_seconds(study),
        unvaried=_unvaried(done, settings.space, study.study_name),
        rung_scored=rung_scored(study, settings.rungs[0]),
    )


def _param_values(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, list[Any]]:
    """Each parameter's values over the trials that drew it, in trial order."""
    out: dict[str, list[Any]] = {}
    for t in trials:
        for k, v in t.params.items():
            out.setdefault(k, []).append(v)
    return out


def _unvaried(
    trials: Sequence[optuna.trial.FrozenTrial], space: SearchSpace, study: str = ""
) -> dict[str, Any]:
    """Searched dimensions that took one value in every trial that drew them (three or more): trials of a batch
    share depth and batch size, and the first batch takes the advisor's, so a search that ends within its prior
    phase may never try another (after it, the sampler gives each such dimension another value:
    :class:`~hyperselect.search.sampler.PriorSampler`'s ``explore_unvaried``).  Said (a logged warning,
    result.json's ``unvaried``) rather than left to look searched."""
    drawn = _param_values(trials)
    out = {
        n: values[0]
        for n in space.dims
        if len(values := drawn.get(n, [])) >= 3 and len({repr(v) for v in values}) == 1
    }
    if out:
        shared = [n for n in out if n in STRUCTURE_PARAMS]
        drawn_alike = [n for n in out if n not in STRUCTURE_PARAMS]
        why = []
        if shared:
            names = " and ".join(STRUCTURE_NAMES.get(n, n) for n in STRUCTURE_PARAMS if n in shared)
            why.append(
                f"trials trained together as one population share their {names}, and the first population takes "
                "the advisor's"
            )
        if drawn_alike:
            why.append(
                f"the priors favour the advisor's {', '.join(drawn_alike)} and {len(trials)} draws all agreed"
            )
        # a few trials agreeing is unremarkable (4 draws of a prior that gives Adam 70 % agree a quarter of the
        # time): said at the info level there, so that short searches (the demo's, a verdict's) are not noisy
        log.log(
            logging.WARNING if len(trials) >= UNVARIED_WARN_TRIALS else logging.INFO,
            "%s%s searched but the same in all %d trials (%s): %s; give the search more trials (after the "
            "priors' first draws each such dimension is given another value), or fix the dimension.",
            f"study {study!r}: " if study else "",
            ", ".join(out),
            len(trials),
            ", ".join(f"{k}={v}" for k, v in out.items()),
            "; ".join(why),
        )
    return out


#: the study's user attribute summing the seconds every search of it ran (tune calls and workers)
STUDY_SECONDS_ATTR = "search_seconds_total"


def _add_study_seconds(study: optuna.Study, seconds: float) -> None:
    """Add a search's wall seconds to the study's total (best effort: a storage that refuses it loses no
    result, and two processes finishing at once may each add to the same old total)."""
    try:
        total = float(study.user_attrs.get(STUDY_SECONDS_ATTR, 0.0)) + float(seconds)
        study.set_user_attr(STUDY_SECONDS_ATTR, total)
    except Exception as exc:  # pragma: no cover - a storage error here must not lose the search
        log.info("could not record the search's seconds in the study: %s", exc)


def _study_seconds(study: optuna.Study) -> float | None:
    value = study.user_attrs.get(STUDY_SECONDS_ATTR)
    return float(value) if isinstance(value, int | float) else None


def _state_counts(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, int]:
    counts = {s.name: 0 for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def study_storage_kept(study: optuna.Study) -> bool:
    """Whether the study lives somewhere that outlasts this process (a journal file or a database)."""
    return not isinstance(study._storage, optuna.storages.InMemoryStorage)


def create_study(
    data: Any,
    *,
    storage: str | os.PathLike[str] | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    n_trials: int = DEFAULT_TRIALS,
    space: SearchSpace | None = None,
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    random_state: int | None = 0,
    resume: bool = False,
    batch_size: int | None = None,
    eta: int = 3,
    min_epochs: int = 3,
    max_epochs: int | None = None,
    data_ref: Mapping[str, Any] | None = None,
    arch: str = "auto",
    batch_grid: bool = True,
    group_size: int | None = None,
    rung_rows: Sequence[float] | None = None,
    heartbeat_interval: int | None = None,
    metric: str | None = None,
) -> tuple[optuna.Study, SearchSettings]:
    """Create (or with ``resume`` load) a hyperselect study without running trials: workers can then join it.

    The settings (space, budget, rungs, data reference) are stored in the study's ``user_attrs``; on resume the
    stored ones are used (``n_trials`` is updated to the new total).  The arguments are checked before the
    storage is opened, so a bad one leaves no empty journal file or database behind.  ``metric`` (None: the
    task's, accuracy or R^2) is the validation score maximised: ``balanced_accuracy`` or ``f1_macro`` where the
    classes are imbalanced (:data:`~hyperselect.train.metrics.METRICS`).
    """
    n_trials, batch_size, eta, min_epochs, group_size, random_state = check_search_args(
        "create_study",
        data=data,
        space=space,
        sampler=sampler,
        n_trials=n_trials,
        batch_size=batch_size,
        eta=eta,
        min_epochs=min_epochs,
        group_size=group_size,
        random_state=random_state,
        max_epochs=max_epochs,
    )
    max_epochs = None if max_epochs is None else int(max_epochs)
    metric_given = metric is not None
    task_metric = check_metric(metric, data.task)
    metric = None if task_metric == Task(data.task).score_name else task_metric
    name = study_name or f"hyperselect-{getattr(data, 'source', 'data')}"
    if space is None:  # the advisor derives early stopping's patience from the epoch cap, as the CLI's does
        space = space_for_arch(data, None, arch, max_epochs=max_epochs)
    else:
        space = space_for_arch(data, space, arch)
        if max_epochs is not None:
            space = space.with_base(max_epochs=max_epochs)
    if batch_grid:
        space = batch_size_grid(space)
    if not space.dims and n_trials > 1:
        warnings.warn(
            f"The search space has nothing left to search (every dimension is fixed): all {n_trials} trials "
            "train the same configuration, differing only in their initial weights. Narrow dimensions instead "
            "of fixing them all, or train it once with `hyperselect train`.",
            UserWarning,
            stacklevel=3,
        )
    K = batch_size if batch_size is not None else default_batch_size(n_trials, eta)
    rungs = make_rungs(space.base.max_epochs, eta, min_epochs)
    settings = SearchSettings(
        space=space,
        n_trials=n_trials,
        batch_size=K,
        eta=eta,
        rungs=rungs,
        random_state=random_state,
        sampler=sampler if isinstance(sampler, str) else "custom",
        task=Task(data.task).value,
        data=dict(data_ref) if data_ref else None,
        group_size=K if group_size is None else group_size,
        rung_rows=check_rung_rows(rung_rows, rungs),
        fingerprint=data_fingerprint(data),
        first_batch=default_first_batch(K, eta) if batch_size is None else None,
        metric=metric,
    )
    store = open_storage(storage, heartbeat_interval=heartbeat_interval)
    names = _study_names(store) if resume and store is not None else []
    existing = name in names
    where = describe_storage(storage)
    if resume and store is not None and not existing:
        log.warning("resume: no study named %r in %s%s; a new study starts.", name, where, _held(name, names))
    seed = random_state % _SEED_RANGE  # (the same seed below 2**32 - 4)
    if existing:
        assert store is not None
        n_before = len(optuna.load_study(study_name=name, storage=store).get_trials(deepcopy=False))
        # a resumed sampler must not replay the first run's random draws
        seed = (random_state + 7919 * n_before) % _SEED_RANGE
    study = open_study(
        store,
        name,
        settings=None if existing else settings,
        resume=resume,
        sampler=make_sampler(sampler, seed, space=space, n_prior=prior_trials(n_trials, K)),
        where=where,
    )
    if existing:
        stored = study_settings(study)
        if stored.task != settings.task:
            raise ConfigError(
                f"Study {name!r} was created for a {stored.task} task, but the data is {settings.task}. Use the "
                "study's data and target, or another study name."
            )
        assert settings.fingerprint is not None
        check_same_data(name, stored, settings.data, settings.fingerprint)
        defaults = [k for k, v in (("batch_size", batch_size), ("group_size", group_size)) if v is None]
        if not metric_given:  # a resume without --metric goes on with the study's own
            defaults.append("metric")
        ignored = _ignored_settings(stored, settings, defaults)
        if ignored:
            log.warning(
                "Study %r continues with its stored settings; this run's differ and are ignored: %s.",
                name,
                "; ".join(ignored),
            )
        if stored.n_trials != n_trials:
            stored.n_trials = n_trials
            study.set_user_attr(_ATTR, stored.to_dict())
        settings = stored
    return study, settings


#: Seeds the samplers can take: numpy's 2**32, less the offsets PriorSampler adds to its own seed.
_SEED_RANGE = 2**32 - 4
_COUNT = Interval(int, 1, None)


def check_search_args(
    caller: str,
    *,
    data: Any,
    space: Any,
    sampler: Any,
    n_trials: Any,
    batch_size: Any,
    eta: Any,
    min_epochs: Any,
    group_size: Any,
    random_state: Any,
    device: Any = None,
    max_epochs: Any = None,
) -> tuple[int, int | None, int, int, int | None, int]:
    """Check the arguments of ``tune``/``create_study`` before anything is opened or trained; returns
    ``n_trials, batch_size, eta, min_epochs, group_size, random_state`` as Python ints (numpy ints are fine;
    ``random_state=None`` draws a seed, stored in the study like any other).  ``device`` (``tune``'s) must be
    one this machine has (:func:`check_device_arg`)."""
    check_tabular_data(caller, data)
    if space is not None and not isinstance(space, SearchSpace):
        hint = (
            " To apply fix/narrow/extend/base overrides, pass advise(data).apply(overrides)."
            if isinstance(space, Mapping)
            else ""
        )
        raise ConfigError(
            f"The 'space' parameter of {caller} must be a SearchSpace (e.g. advise(data)) or None. "
            f"Got {type(space).__name__}.{hint}"
        )
    check_sampler(sampler)
    check_device_arg(caller, device)
    out: list[Any] = []
    for name, value, constraint, optional in (
        ("n_trials", n_trials, _COUNT, False),
        ("batch_size", batch_size, _COUNT, True),
        ("eta", eta, Interval(int, 2, None), False),
        ("min_epochs", min_epochs, _COUNT, False),
        ("group_size", group_size, _COUNT, True),
    ):
        if value is None and optional:
            out.append(None)
            continue
        if not constraint.accepts(value):
            more = " or None" if optional else ""
            raise ConfigError(
                f"The {name!r} parameter of {caller} must be {constraint.describe()}{more}. Got {value!r}."
            )
        out.append(int(value))
    if max_epochs is not None and not _COUNT.accepts(max_epochs):
        raise ConfigError(
            f"The 'max_epochs' parameter of {caller} must be {_COUNT.describe()} or None. Got {max_epochs!r}."
        )
    n, K, group = out[0], out[1], out[4]
    if group is not None:
        K = K if K is not None else default_batch_size(n, out[2])
        if group > K:
            # a group never holds more than a batch (_ask_batch gives every batch a new leader; only a smaller
            # first batch hands its group on to the second): it would act as group_size=batch_size unsaid
            given = "batch_size" if out[1] is not None else f"the default batch for {n} trials"
            raise ConfigError(
                f"The 'group_size' parameter of {caller} must be at most the batch size ({K}, {given}): a "
                f"group shares one batch. Got {group}. Lower group_size, or raise batch_size."
            )
    if random_state is None:
        random_state = int(np.random.SeedSequence().entropy % _SEED_RANGE)  # type: ignore[operator]
        log.info("random_state=None: drew the seed %d (it is stored with the study)", random_state)
    elif not Interval(int, 0, 2**32 - 1).accepts(random_state):
        raise ConfigError(
            f"The 'random_state' parameter of {caller} must be an int in [0, 4294967295] or None. "
            f"Got {random_state!r}."
        )
    return out[0], out[1], out[2], out[3], out[4], int(random_state)


def check_device_arg(caller: str, device: Any) -> None:
    """Raise ConfigError unless ``device`` is None or a torch device this machine has, in the estimators'
    message template -- before the study starts, not torch's RuntimeError from inside the first trial."""
    from hyperselect.train.trainer import check_device

    if device is not None:  # None: the trials pick cuda when available
        check_device(
            device,
            f"'device' parameter of {caller}",
            expected="None or one of 'cpu', 'cuda', 'cuda:N', 'mps'",
        )


def check_sampler(sampler: Any) -> None:
    """Raise ConfigError unless ``sampler`` is one of :data:`SAMPLERS` or an Optuna sampler instance."""
    if isinstance(sampler, optuna.samplers.BaseSampler) or sampler in SAMPLERS:
        return
    import difflib

    hint = ""
    if isinstance(sampler, str):
        close = difflib.get_close_matches(sampler.lower(), SAMPLERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
    elif isinstance(sampler, type) and issubclass(sampler, optuna.samplers.BaseSampler):
        hint = f" Pass an instance, e.g. {sampler.__name__}(seed=0)."
    raise ConfigError(
        f"Unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)} or an Optuna sampler "
        f"instance.{hint}"
    )


def batch_size_grid(space: SearchSpace) -> SearchSpace:
    """``space`` with a log-scale integer ``batch_size`` searched on the powers of two in its range instead.

    Members of a cohort can share a vectorised population only when they use the same batch size (and depth):
    with a continuous batch size every configuration has its own, and a batch trains one member at a time.  On
    the grid a batch of configurations falls into a few populations.  The prior carries over: each power of two
    is weighted by the integer dimension's prior density (normal on the log scale).  Spaces without such a
    dimension, or whose range holds fewer than two powers of two, are returned unchanged.
    """
    dim = space.dims.get("batch_size")
    if not isinstance(dim, Int) or not dim.log:
        return space
    grid = [2**k for k in range(int(dim.low).bit_length() - 1, int(dim.high).bit_length()) if dim.low <= 2**k]
    grid = [g for g in grid if g <= dim.high]
    if len(grid) < 2:
        return space
    weights = None
    if dim.prior is not None:
        lo, hi = math.log(dim.low), math.log(dim.high)
        sigma = dim.spread * (hi - lo)
        weights = tuple(math.exp(-0.5 * ((math.log(g) - math.log(dim.prior)) / sigma) ** 2) for g in grid)
    dims = dict(space.dims)
    dims["batch_size"] = Categorical(tuple(grid), weights)
    reasons = dict(space.reasons)
    reasons["batch_size"] = "; ".join(
        r
        for r in (
            reasons.get("batch_size", "").rstrip(". "),
            f"searched on the powers of two in [{dim.low}, {dim.high}] so that configurations trained "
            "together can share a vectorised population",
        )
        if r
    )
    return space._copy(dims=dims, reasons=reasons)


def space_for_arch(
    data: Any, space: SearchSpace | None, arch: str, *, max_epochs: int | None = None
) -> SearchSpace:
    """The advisor's space for ``arch`` ("auto", "mlp", "cnn") and ``max_epochs``, or the user's ``space``
    restricted to ``arch``."""
    from hyperselect.search.priors import ARCH_CHOICES

    if arch not in ARCH_CHOICES:
        raise ConfigError(f"The 'arch' parameter of tune must be one of {ARCH_CHOICES}. Got {arch!r}.")
    if space is None:
        return advise(data, arch=arch, max_epochs=max_epochs)
    if arch == "auto":
        return space
    if arch == "cnn" and "input_shape" not in space.fixed and space.base.arch != "cnn":
        shape = getattr(data, "input_shape", None)
        if shape is None:
            raise ConfigError(
                "arch='cnn' needs to know how a row is a signal or an image: the data has no input_shape "
                "and the space fixes none."
            )
        space = space.fix(input_shape=tuple(shape))
    return space.fix(arch=arch)


def tune(
    data: Any,
    *,
    n_trials: int = DEFAULT_TRIALS,
    timeout: float | None = None,
    space: SearchSpace | None = None,
    storage: str | os.PathLike[str] | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    random_state: int | None = 0,
    resume: bool = False,
    batch_size: int | None = None,
    eta: int = 3,
    min_epochs: int = 3,
    max_epochs: int | None = None,
    arch: str = "auto",
    refit: bool = True,
    device: str | None = None,
    data_ref: Mapping[str, Any] | None = None,
    heartbeat_interval: int | None = None,
    batch_grid: bool = True,
    group_size: int | None = None,
    rung_rows: Sequence[float] | None = None,
    progress: bool = False,
    metric: str | None = None,
) -> TuneResult:
    """Search hyperparameters for ``data`` (a :class:`~hyperselect.data.TabularData`) and refit the best.

    ``n_trials`` is the total number of trials the study must finish (a resumed study continues up to it);
    ``max_epochs`` caps every trial's epochs: the default space is the advisor's for it (early stopping's
    patience follows from it, as in the CLI); a given ``space`` keeps its own patience.
    ``timeout`` (seconds, counted from the call) bounds the search's wall time: no batch starts after it, and
    the deadline is checked after every epoch, so running trials stop at most about one epoch past it
    (``PRUNED``, reason ``"timeout: ..."``; the first batch always gets its first epoch); the refit of the best
    configuration follows (one network, for the best trial's epochs).  ``space``
    defaults to :func:`~hyperselect.search.advise`'s.  ``storage``: ``None`` (in memory), a journal file path,
    or a ``sqlite:///``/``postgresql://`` URL.  ``batch_size`` configurations are trained together (default
    :func:`default_batch_size`: ``2 * eta**2`` for budgets of at least three such batches, else ``eta**2``,
    capped at ``n_trials``); halving rungs are ``make_rungs(max_epochs, eta, min_epochs)``.
    ``arch``: ``"auto"`` searches the MLP and, where rows are signals or images (``data.input_shape``), the
    CNN family too; ``"mlp"`` or ``"cnn"`` keeps one.  ``batch_grid`` (default) searches a log-scale integer
    batch size on its powers of two (:func:`batch_size_grid`), so that a batch's configurations can be stacked
    into vectorised populations; ``False`` searches the space exactly as given.  ``group_size`` trials of a
    batch (default: the whole batch; 1: none; at most ``batch_size``) share the batch size and depth of the first of them, drawn by
    the sampler; the sampler draws everything else per trial.  A group trains as one population instead of
    falling apart into single networks (embedded BBC News, batches of 9: 2.2x the trials in the same time).
    ``rung_rows`` (e.g. ``[1/9, 1/3]``) trains the first rungs on those fractions of the training rows
    (Hyperband's data budget, :func:`check_rung_rows`); the last rung always trains on all of them.
    ``metric`` is the validation score the search maximises (None: the task's, accuracy, micro-F1 or R^2;
    ``"balanced_accuracy"`` or ``"f1_macro"`` for imbalanced classes); the result's test metrics hold it too.
    ``data_ref`` (e.g. ``{"path": ..., "target": ...}``) is stored in the study so ``hyperselect worker`` can
    load the same data.  ``random_state`` (an int in [0, 2**32 - 1]) seeds the sampler, the networks and the
    data order; ``None`` draws one, stored with the study settings.  Nothing is written unless ``storage`` is a file/database or you call
    :meth:`TuneResult.save`.
    """
    n_trials, batch_size, eta, min_epochs, group_size, random_state = check_search_args(
        "tune",
        data=data,
        space=space,
        sampler=sampler,
        n_trials=n_trials,
        batch_size=batch_size,
        eta=eta,
        min_epochs=min_epochs,
        group_size=group_size,
        random_state=random_state,
        device=device,
        max_epochs=max_epochs,
    )
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0
    ):
        raise ConfigError(
            f"The 'timeout' parameter of tune must be a float in (0, inf) or None. Got {timeout!r}."
        )
    t0 = time.monotonic()
    study, settings = create_study(
        data,
        storage=storage,
        study_name=study_name,
        n_trials=n_trials,
        space=space,
        sampler=sampler,
        random_state=random_state,
        resume=resume,
        batch_size=batch_size,
        eta=eta,
        min_epochs=min_epochs,
        max_epochs=max_epochs,
        data_ref=data_ref,
        arch=arch,
        batch_grid=batch_grid,
        group_size=group_size,
        rung_rows=rung_rows,
        heartbeat_interval=heartbeat_interval,
        metric=metric,
    )
    if timeout is not None:  # the budget counts from the call: opening the storage and study is part of it
        timeout = max(1e-3, timeout - (time.monotonic() - t0))
    _warn_full_batch(settings.space, len(data.y_train))
    t_search = time.monotonic()
    try:
        run_search(
            study, data, settings, n_trials=n_trials, timeout=timeout, device=device, progress=progress
        )
    finally:  # an interrupted search's seconds count too: --resume continues the same study
        _add_study_seconds(study, time.monotonic() - t_search)
    return summarize(
        study,
        data,
        settings,
        storage_name=describe_storage(storage),
        seconds=time.monotonic() - t0,
        refit=refit,
        device=device,
    )


def _warn_full_batch(space: SearchSpace, n_train: int) -> None:
    """A batch size the user fixed (or a searched range starting) above the training rows: every epoch is then one
    full-batch step, not what a batch size that large was meant to give; said once."""
    fixed = space.fixed.get("batch_size")
    dim = space.dims.get("batch_size")
    low = fixed if isinstance(fixed, int) else getattr(dim, "low", None)
    if isinstance(low, int | float) and n_train and low > n_train:
        what = f"fixed to {fixed}" if isinstance(fixed, int) else f"searched from {low}"
        log.warning(
            "batch_size is %s, more than the %d training rows: every epoch is one full-batch update (batch_size "
            "%d would be the same); a tenth of the rows or fewer gives an epoch ten updates.",
            what,
            n_train,
            n_train,
        )


def run_worker(
    storage: str | os.PathLike[str],
    study_name: str,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    device: str | None = None,
    heartbeat_interval: int | None = None,
    poll_interval: float = 1.0,
    progress: bool = False,
) -> SearchStats:
    """Join an existing study and work on it until its budget is finished; the data comes from the study."""
    check_device_arg("run_worker", device)
    store = open_storage(storage, heartbeat_interval=heartbeat_interval, must_exist=True)
    if store is None:
        raise StorageError("A worker needs a shared storage (journal file or database URL).")
    where = describe_storage(storage)
    probe = open_study(
        store, study_name, settings=None, resume=True, sampler=optuna.samplers.RandomSampler(), where=where
    )
    settings = study_settings(probe)
    if not settings.data:
        raise StorageError(
            f"Study {study_name!r} was created from in-memory data: a worker cannot load it. "
            "Create the study with `hyperselect tune DATA --target COL --storage ...`."
        )
    data = load_data_ref(settings.data)
    check_same_data(study_name, settings, settings.data, data_fingerprint(data))  # e.g. a file edited since
    # each worker its own seed: identical seeds would propose identical startup configurations
    seed = (settings.random_state * 1_000_003 + hash(worker_id())) % (2**31)
    sampler = settings.sampler if settings.sampler in SAMPLERS else "tpe"
    study = open_study(
        store,
        study_name,
        settings=None,
        resume=True,
        where=where,
        sampler=make_sampler(
            sampler,
            seed,
            space=settings.space,
            n_prior=prior_trials(settings.n_trials, settings.batch_size),
        ),
    )
    t_search = time.monotonic()
    try:
        return run_search(
            study,
            data,
            settings,
            n_trials=n_trials,
            timeout=timeout,
            device=device,
            poll_interval=poll_interval,
            progress=progress,
        )
    finally:
        _add_study_seconds(study, time.monotonic() - t_search)


def load_data_ref(ref: Mapping[str, Any]) -> Any:
    """Load the data a study was created from: ``{"builtin": name}`` or ``{"path": p, "target": col}``."""
    from hyperselect.data import load_builtin, prepare_tabular

    rs = int(ref.get("random_state", 0))
    if "builtin" in ref:
        return load_builtin(str(ref["builtin"]), random_state=rs)
    if "path" in ref and "target" in ref:
        read = dict(ref.get("read") or {})  # how the file was read: sep, encoding, na_values, ...
        if not Path(str(ref["path"])).is_file():  # a worker on another machine never typed that path
            raise DataError(
                f"The study was created from the data file '{ref['path']}' (target {ref['target']!r}), and a "
                "worker reads its data from that path, which is no file on this machine. Put a copy of the file "
                "there (the same content: the study checks it), or run the worker where the file is."
            )
        return prepare_tabular(
            str(ref["path"]), str(ref["target"]), task=ref.get("task"), random_state=rs, **read
        )
    raise ConfigError(
        f"Unknown data reference {dict(ref)!r}; expected {{'builtin': name}} or "
        "{'path': file, 'target': column}."
    )


def _jsonable(v: Any) -> Any:
    """numpy/pandas scalars as Python values; NaN (pandas' missing value) as None."""
    if v is pd.NA:  # (a missing value of an integer column)
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def is_finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)
