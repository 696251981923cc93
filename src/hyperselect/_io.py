"""Atomic writes and safe output paths: a crash never leaves a half-written file that a later run trusts."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from hyperselect.errors import DataError


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates 0600; give the file the permissions a plain open() would (0666 less the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return _finite_or_none(float(obj))
    if isinstance(obj, np.ndarray):
        return _finite_or_none(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return _finite_or_none(obj.to_dict())
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


def _finite_or_none(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float (in dicts, lists and tuples) as ``None``: JSON has no NaN, and
    strict readers (jq, JavaScript's JSON.parse) refuse the ``NaN`` Python writes.  A missing score reads as
    null; Python's ``json`` and hyperselect read it back as None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """Standard JSON (``NaN``/``Infinity`` written as ``null``), indented."""
    clean = _finite_or_none(obj)
    try:
        return json.dumps(clean, indent=2, default=_json_default, allow_nan=False)
    except ValueError:  # a non-finite float inside an object we cannot walk: never lose the result over it
        return json.dumps(clean, indent=2, default=_json_default, allow_nan=True)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(path, to_json(obj))


def safe_join(out_dir: str | os.PathLike[str], name: str) -> Path:
    """Join a user-influenced ``name`` under ``out_dir``, refusing paths that escape it."""
    base = Path(out_dir).resolve()
    candidate = (base / name).resolve()
    if candidate != base and base not in candidate.parents:
        raise DataError(f"Output name {name!r} would be written outside the output directory {str(base)!r}.")
    return candidate


def check_out_folder(path: str | os.PathLike[str] | None) -> Path | None:
    """``path`` if results can be written into it as a folder (it exists as one, or can be created), else a
    DataError saying why: checked before any work, so a long run never ends in an unwritable output."""
    if path is None:
        return None
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise DataError(f"'{p}' is a file; expected a folder for the results (it is created if missing).")
        if not os.access(p, os.W_OK | os.X_OK):
            raise DataError(f"'{p}': the folder is not writable.")
        return p
    parent = p.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise DataError(f"'{p}': cannot create the folder, because '{parent}' is a file.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"'{p}': cannot create the folder, because '{parent}' is not writable.")
    return p
