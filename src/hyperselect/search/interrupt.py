"""Ctrl-C inside an Optuna objective, for the small in-process studies (baselines, node2vec's p and q).

Optuna logs a trial whose objective raises ``KeyboardInterrupt`` as *failed*, with the interrupt's traceback,
before raising it again: an interrupt is no failure of the trial, and a user who pressed Ctrl-C gets thirty lines
from inside a library.  :func:`stop_on_interrupt` wraps the objective so that the trial is closed as pruned (which
Optuna logs at INFO), the study stops after it, and the caller learns which trial was cut short and decides what
to raise once ``optimize`` has returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def stop_on_interrupt(objective: Callable[[Any], float], interrupted: list[int]) -> Callable[[Any], float]:
    """``objective``, which on Ctrl-C appends the trial's number to ``interrupted``, stops the study and closes
    the trial as pruned instead of letting Optuna log it as failed."""
    import optuna

    def wrapped(trial: Any) -> float:
        try:
            return objective(trial)
        except KeyboardInterrupt:
            interrupted.append(trial.number)
            trial.study.stop()
            raise optuna.TrialPruned("interrupted (Ctrl-C)") from None

    return wrapped


__all__ = ["stop_on_interrupt"]
