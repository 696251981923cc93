"""Progress bars with ETA for long work (search, walks, embedding, training) on the command line.

Logging is configured once by the CLI (``hyperselect.cli.configure_logging``: a rich handler on stderr for the
``hyperselect`` loggers, ``--quiet`` / ``-v``); this module does not duplicate it.  The bars follow it instead:
they draw on the same console as that handler, so log lines appear above a live bar instead of tearing it, and
they switch off when ``--quiet`` raised the ``hyperselect`` logger to ERROR.  Without any CLI configuration they
draw on a stderr console of their own; stdout stays clean for results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sized
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["get_console", "is_quiet", "make_progress", "track"]

T = TypeVar("T")

_fallback: Console | None = None


def get_console() -> Console:
    """The console of the rich handler on the ``hyperselect`` logger, or a shared stderr console."""
    global _fallback
    from rich.console import Console
    from rich.logging import RichHandler

    for handler in logging.getLogger("hyperselect").handlers:
        if isinstance(handler, RichHandler) and isinstance(handler.console, Console):
            return handler.console
    if _fallback is None:
        _fallback = Console(stderr=True)
    return _fallback


def is_quiet() -> bool:
    """True when the CLI's ``--quiet`` raised the ``hyperselect`` logger above WARNING."""
    return logging.getLogger("hyperselect").getEffectiveLevel() > logging.WARNING


def make_progress(
    *, transient: bool = False, disable: bool | None = None, console: Console | None = None
) -> Progress:
    """A rich ``Progress`` with spinner, bar, count, percentage, elapsed time and ETA.

    ``disable=None`` follows ``--quiet`` (:func:`is_quiet`).  Use as a context manager::

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
        disable=is_quiet() if disable is None else disable,
    )


def track(
    items: Iterable[T],
    description: str,
    *,
    total: int | None = None,
    disable: bool | None = None,
    transient: bool = False,
) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (with an ETA when the length is known)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with make_progress(disable=disable, transient=transient) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)
