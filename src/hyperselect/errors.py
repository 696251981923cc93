"""The error types hyperselect raises on purpose.

Every error a user can cause derives from :class:`HyperselectError`; the ones about bad input also derive from
``ValueError`` so that code written for scikit-learn conventions catches them.  Messages name the file, the
line or column, what was found and what was expected.
"""

from __future__ import annotations


class HyperselectError(Exception):
    """Root of all errors raised by hyperselect on purpose."""


class DataError(HyperselectError, ValueError):
    """The input data cannot be used: missing file, bad format, unusable target, ..."""


class ConfigError(HyperselectError, ValueError):
    """A hyperparameter or option has an invalid value."""


class NotFittedError(HyperselectError, AttributeError):
    """A model was used before ``fit``.

    Subclasses ``AttributeError`` like scikit-learn's ``NotFittedError`` does, so ``hasattr`` style checks work.
    """


class TrainingError(HyperselectError, RuntimeError):
    """Training could not proceed at all (not a diverged run: those are recorded, not raised)."""


class StorageError(HyperselectError, RuntimeError):
    """A study storage URL or file cannot be opened."""


class MissingDependencyError(HyperselectError, ImportError):
    """An optional dependency is not installed; the message gives the exact ``pip install`` line."""


def require(module: str, extra: str, package: str | None = None):  # type: ignore[no-untyped-def]
    """Import an optional dependency lazily, failing with the exact install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pkg = package or module
        raise MissingDependencyError(
            f"{module!r} is needed for this feature but is not installed. "
            f"Install it with: pip install 'hyperselect[{extra}]'  (or: pip install {pkg})"
        ) from exc


__all__ = [
    "ConfigError",
    "DataError",
    "HyperselectError",
    "MissingDependencyError",
    "NotFittedError",
    "StorageError",
    "TrainingError",
    "require",
]
