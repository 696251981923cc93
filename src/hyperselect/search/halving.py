"""Successive halving over a cohort: train a batch of trials together, rung by rung, and stop the worst.

Rungs are cumulative epoch budgets in a geometric series (``eta=3``, ``max_epochs=27``: 3, 9, 27).  After each
rung a member goes on only if its best validation score so far is in the top ``1/eta`` of everything measured at
that rung: its batch-mates *and* every earlier trial of the study that reached the rung (asynchronous successive
halving, as in ASHA).  Comparing with the study's history is what makes later batches cheap: once good
configurations are known, a poor one is stopped after the first rung.

Every epoch's validation score is reported to its Optuna trial (``trial.report``) so the study holds the learning
curves.  Outcomes map to trial states:

* stopped by halving (or the timeout)  -> ``PRUNED`` (Optuna keeps the last reported score as its value);
* finished its epochs or early-stopped -> ``COMPLETE`` with its best validation score;
* diverged (NaN/inf loss or gradients) -> ``FAIL`` with the reason in ``user_attrs["reason"]``; the trainer
  stops such a member at the epoch it diverges, so it costs no more than that.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from hyperselect.errors import ConfigError
from hyperselect.train.cohort import Cohort
from hyperselect.train.trainer import INTERRUPTED

log = logging.getLogger(__name__)

FINAL_OUTCOMES = ("completed", "early_stopped", "pruned", "diverged", "error")


def make_rungs(max_epochs: int, eta: int = 3, min_epochs: int = 3) -> list[int]:
    """Cumulative epoch budgets ``max_epochs / eta**k`` (rounded up), from about ``min_epochs`` to ``max_epochs``.

    >>> make_rungs(27)
    [3, 9, 27]
    >>> make_rungs(100)
    [4, 12, 34, 100]
    """
    for name, value, low in (("max_epochs", max_epochs, 1), ("eta", eta, 2), ("min_epochs", min_epochs, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            # a ConfigError (a ValueError): the CLI reports it as a message, not a traceback
            raise ConfigError(
                f"The {name!r} parameter of make_rungs must be an int in [{low}, inf). Got {value!r}."
            )
    n = max(0, math.floor(math.log(max(1.0, max_epochs / min_epochs), eta) + 1e-9))
    rungs = sorted({math.ceil(max_epochs / eta**k) for k in range(n, -1, -1)})
    return rungs


@dataclass
class MemberOutcome:
    """What happened to one member of a batch (mirrors the state told to its trial)."""

    number: int
    state: TrialState
    outcome: str
    value: float
    reason: str
    epochs: int


def _best_until(trial: optuna.trial.FrozenTrial, epochs: int) -> float | None:
    """Best score over the first ``epochs`` epochs, or None when the trial did not reach that rung."""
    iv = trial.intermediate_values
    if not iv:
        return None
    last = max(iv)
    reached = last >= epochs - 1
    stopped_early = trial.state is TrialState.COMPLETE and trial.user_attrs.get("outcome") == "early_stopped"
    if not reached and not stopped_early:
        return None  # pruned below this rung: it has no score at this budget
    vals = [v for s, v in iv.items() if s < epochs and math.isfinite(v)]
    return max(vals) if vals else None


def rung_peer_scores(study: optuna.Study, epochs: int, exclude: set[int]) -> list[float]:
    """Scores of the study's finished trials at the rung ``epochs`` (the ASHA comparison set)."""
    out = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        if t.number in exclude:
            continue
        v = _best_until(t, epochs)
        if v is not None:
            out.append(v)
    return out


class TrialLost(Exception):
    """The trial was finished by someone else (a heartbeat judged this worker dead): stop training it."""


def run_halving(
    study: optuna.Study,
    trials: Sequence[optuna.trial.Trial],
    cohort: Cohort,
    *,
    rungs: Sequence[int],
    eta: int = 3,
    deadline: float | None = None,
    extra_attrs: Callable[[int], dict[str, Any]] | None = None,
) -> list[MemberOutcome | None]:
    """Advance ``cohort`` (member ``i`` is ``trials[i]``) through ``rungs``, telling every trial its outcome.

    ``deadline`` is a ``time.monotonic()`` value, checked before every training step of every member (not only
    between rungs, which can be many epochs apart, nor only between epochs, which can take minutes on a large
    data set): past it, training stops at once, the interrupted epoch is not recorded, and every member still
    running is told ``PRUNED`` with a reason starting ``"timeout"`` (``"timeout: stopped before its first
    epoch"`` for one that had not finished an epoch).  So the search overruns the deadline by about one step.
    One exception keeps a search useful: while the study holds no score at all, the first epoch completes
    (then the members stop), so that even a tiny budget ends with a scored trial to refit.  Returns one outcome
    per member (``None`` where the trial was lost to another worker and nothing was told).
    """
    n = len(trials)
    if len(cohort) != n:
        raise ValueError(f"got {n} trials for a cohort of {len(cohort)}")
    outcomes: list[MemberOutcome | None] = [None] * n
    lost: set[int] = set()
    timed_out: set[int] = set()
    numbers = {t.number for t in trials}

    def past_deadline() -> bool:
        return deadline is not None and time.monotonic() > deadline

    # Inside an epoch the deadline interrupts training before the next step, so a budget holds to within a
    # step even where one epoch takes minutes -- except while the study has no score at all: the first epoch
    # of a search completes, so that a search always ends with a scored trial to refit.
    scored = [deadline is not None and _has_score(study)]

    def interrupt() -> bool:
        return scored[0] and past_deadline()

    def report(i: int, epoch: int, score: float, loss: float) -> bool:
        if not math.isfinite(score):
            return False  # a diverged epoch: the trainer stops the member itself and we record FAIL
        scored[0] = True
        try:
            trials[i].report(score, epoch)
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError, ValueError) as exc:
            # Another worker failed this trial as stale (this process was too slow to beat its heartbeat):
            # its configuration has been re-queued, so training it further would only duplicate work.
            log.warning("trial %d was finished elsewhere (%s); dropping it here", trials[i].number, exc)
            lost.add(i)
            return True
        # (its last epoch completes it; a member that has just stopped on its own is reported, not timed out)
        if past_deadline() and epoch + 1 < cohort.configs[i].max_epochs and cohort.is_active(i):
            timed_out.add(i)
            # Single networks waiting for their turn in this rung would each train an epoch more: stop them
            # now.  (Only single networks: this callback may run inside a population's epoch, whose members
            # must not be touched from here; a population overruns by the one epoch it is in.)
            waiting = [
                j
                for j in cohort.active
                if j != i and j not in lost and j not in timed_out and cohort.trained_by(j) == "sequential"
            ]
            if waiting:
                cohort.prune(waiting, "timeout")
                timed_out.update(waiting)
            return True
        return False

    def tell_timed_out(members: Sequence[int]) -> None:
        for i in members:
            if outcomes[i] is not None or i in lost:
                continue
            e = cohort.epochs_done(i)
            reason = f"timeout: stopped after {e} epochs" if e else "timeout: stopped before its first epoch"
            tell(i, TrialState.PRUNED, "pruned", reason, None)

    def tell(i: int, state: TrialState, outcome: str, reason: str, value: float | None) -> None:
        res = cohort.summary(i)
        attrs: dict[str, Any] = {
            "reason": reason,
            "epochs": cohort.epochs_done(i),
            "best_epoch": res.best_epoch,
            "best_valid_score": _finite_or_none(res.best_valid_score),
            "best_valid_loss": _finite_or_none(res.best_valid_loss),
            "n_parameters": res.n_parameters,
            "seconds": round(res.seconds, 4),
            "config": res.config.to_dict(),
        }
        if extra_attrs is not None:
            attrs.update(extra_attrs(i))
        # the outcome last: a worker killed while writing these leaves either no outcome (plainly crashed) or
        # every attribute with it; the state is told after them (storage.RESULT_ATTRS, study._is_crashed)
        attrs.pop("outcome", None)
        attrs["outcome"] = outcome
        trial = trials[i]
        try:
            for k, v in attrs.items():
                trial.set_user_attr(k, v)
            if state is TrialState.COMPLETE:
                frozen = study.tell(trial, value)
            else:
                frozen = study.tell(trial, state=state)
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError) as exc:
            log.warning("trial %d was finished elsewhere (%s); not telling it", trial.number, exc)
            lost.add(i)
            return
        v = frozen.value if frozen.value is not None else math.nan
        outcomes[i] = MemberOutcome(trial.number, state, outcome, float(v), reason, cohort.epochs_done(i))

    def tell_stopped(members: list[int]) -> None:
        # Members that ended on their own (early stopping, their last epoch, divergence) are told at once, not
        # when the rung's slowest member is done: the study (the sampler's next batch, other workers, a user
        # watching) sees a finished trial as soon as it is finished.  Members stopped by the deadline or the
        # halving decision are told below, with their reasons.
        for i in members:
            if outcomes[i] is None and i not in lost and i not in timed_out and cohort.status(i) != "pruned":
                _tell_finished(i, cohort, tell)

    for k, rung in enumerate(rungs):
        active = [i for i in cohort.active if i not in lost]
        if not active:
            break
        # the first rung always starts (a batch that was asked should produce scores); the callback then
        # stops every member after its first epoch past the deadline
        if k > 0 and past_deadline():
            cohort.prune(active, "timeout")
            timed_out.update(active)
            tell_timed_out(active)
            break
        todo = rung - min(cohort.epochs_done(i) for i in active)
        if todo > 0:
            cohort.run_epochs(todo, report, interrupt if deadline is not None else None, tell_stopped)
            interrupted = [
                i
                for i in range(n)
                if i not in lost and not cohort.is_active(i) and cohort.reason(i).startswith(INTERRUPTED)
            ]
            timed_out.update(interrupted)
        for i in list(lost):
            if cohort.is_active(i):
                cohort.prune([i], "lost")
        tell_timed_out(sorted(timed_out))
        if timed_out:
            # the others of the batch ended on their own: tell them, and stop
            for i in range(n):
                if outcomes[i] is None and i not in lost and not cohort.is_active(i):
                    _tell_finished(i, cohort, tell)
            still = [i for i in cohort.active if i not in lost]
            if still:  # members of a population that was not past the deadline in its epoch
                cohort.prune(still, "timeout")
                timed_out.update(still)
                tell_timed_out(still)
            break
        # Members that ended on their own this rung were told as they stopped (tell_stopped); any left (a unit
        # rebuilt after running out of memory) are told now.
        for i in range(n):
            if outcomes[i] is None and i not in lost and not cohort.is_active(i):
                _tell_finished(i, cohort, tell)
        if k == len(rungs) - 1:
            break
        still = [i for i in cohort.active if i not in lost]
        if not still:
            break
        scores = {i: _best(cohort.valid_scores(i)) for i in still}
        pool = [*scores.values(), *rung_peer_scores(study, rung, exclude=numbers)]
        keep_n = max(1, len(pool) // eta)
        threshold = sorted(pool, reverse=True)[keep_n - 1]
        # ties at the threshold go on: stopping one of two equal members would be arbitrary
        drop = [i for i in still if not scores[i] >= threshold]
        if drop:
            cohort.prune(drop, f"successive halving at rung {k} ({rung} epochs)")
            for i in drop:
                tell(
                    i,
                    TrialState.PRUNED,
                    "pruned",
                    # both scores in one fixed format: '(1)' for a threshold of 1.0 read as a count of trials
                    f"successive halving: best score so far {scores[i]:.4f} below the top 1/{eta} of "
                    f"{len(pool)} at {rung} epochs (threshold {threshold:.4f})",
                    None,
                )
        log.info("rung %d (%d epochs): %d of %d go on", k, rung, len(still) - len(drop), len(still))
    for i in range(n):
        if outcomes[i] is None and i not in lost:
            _tell_finished(i, cohort, tell)
    return outcomes


def _tell_finished(
    i: int, cohort: Cohort, tell: Callable[[int, TrialState, str, str, float | None], None]
) -> None:
    status = cohort.status(i)
    res = cohort.summary(i)
    if status == "diverged":
        tell(i, TrialState.FAIL, "diverged", res.stop_reason, None)
    elif status == "pruned":
        tell(i, TrialState.PRUNED, "pruned", res.stop_reason, None)
    else:
        value = res.best_valid_score
        if not math.isfinite(value):
            tell(i, TrialState.FAIL, "error", f"no finite validation score ({res.stop_reason})", None)
        else:
            outcome = "early_stopped" if status == "early_stopped" else "completed"
            tell(i, TrialState.COMPLETE, outcome, res.stop_reason, value)


def _has_score(study: optuna.Study) -> bool:
    """Whether any trial of the study has a validation score (a completed one, or a reported epoch)."""
    return any(
        t.state is TrialState.COMPLETE or t.intermediate_values for t in study.get_trials(deepcopy=False)
    )


def _best(scores: list[float]) -> float:
    finite = [s for s in scores if math.isfinite(s)]
    return max(finite) if finite else -math.inf


def _finite_or_none(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None
