"""Kept for imports written against the report package; the bars live in :mod:`hyperselect.progress`
(a base module, so that the search and the walks can use them without importing a later stage)."""

from hyperselect.progress import get_console, is_quiet, make_progress, track

__all__ = ["get_console", "is_quiet", "make_progress", "track"]
