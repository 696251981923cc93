"""Progress bars and logging for the command line.

The library logs through the standard :mod:`logging` module (``logging.getLogger(__name__)``) and never
prints; the CLI calls :func:`configure_logging` once with the ``--quiet``/``--verbose`` count and wraps long
work (search, walks, embedding, training) in :func:`make_progress` or :func:`track`.  Both share one stderr
console so log lines appear above a live bar instead of tearing it, and stdout stays clean for results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["QUIET", "VERBOSE", "configure_logging", "get_console", "level_for", "make_progress", "track"]

T = TypeVar("T")

QUIET = -1
VERBOSE = 1
_HANDLER_MARK = "_hyperselect_handler"
_console: Console | None = None
_quiet = False


def get_console() -> Console:
    """The shared stderr console used by the log handler and the progress bars."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True)
    return _console


def level_for(verbosity: int) -> int:
    """``-1`` (``--quiet``): warnings only; ``0``: info; ``1`` or more (``--verbose``): debug."""
    if verbosity < 0:
        return logging.WARNING
    return logging.INFO if verbosity == 0 else logging.DEBUG


def configure_logging(verbosity: int = 0, *, console: Console | None = None) -> logging.Logger:
    """Send the ``hyperselect`` loggers to stderr through rich at the level ``verbosity`` asks for.

    Idempotent: calling it again replaces the handler it added before.  Other libraries' loggers are left
    alone except Optuna's per-trial INFO lines, which are raised to WARNING unless ``verbosity >= 2``
    (the progress bar already shows the trials).  ``verbosity < 0`` also turns progress bars off.
    """
    from rich.logging import RichHandler

    global _console, _quiet
    if console is not None:
        _console = console
    _quiet = verbosity < 0
    logger = logging.getLogger("hyperselect")
    for h in list(logger.handlers):
        if getattr(h, _HANDLER_MARK, False):
            logger.removeHandler(h)
    handler = RichHandler(console=get_console(), show_time=verbosity >= 1, show_path=verbosity >= 2,
                          rich_tracebacks=False, markup=False, log_time_format="[%X]")
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level_for(verbosity))
    logger.propagate = False
    logging.getLogger("optuna").setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
    return logger


def make_progress(*, transient: bool = False, disable: bool | None = None, console: Console | None = None) -> Progress:
    """A rich ``Progress`` with spinner, bar, count, percentage, elapsed time and ETA.

    ``disable=None`` follows :func:`configure_logging`'s quiet setting.  Use as a context manager::

        with make_progress() as progress:
            task = progress.add_task("search", total=n_trials)
            ...
            progress.advance(task)
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or get_console(),
        transient=transient,
        disable=_quiet if disable is None else disable,
    )


def track(items: Iterable[T] | Sequence[T], description: str, *, total: int | None = None,
          disable: bool | None = None, transient: bool = False) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (ETA when the length is known)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress(disable=disable, transient=transient) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)
