"""Storage URLs -> Optuna storages.

* ``None``: in memory (the library's default: nothing written).
* a plain path (``study.journal``, ``runs/x.log``): an Optuna journal file.  It survives a crash (every
  operation is an appended line) and several local processes can share it through its file lock.
* ``sqlite:///path.db``: an RDB storage in a local file.
* ``postgresql://user@host:port/db`` (or ``mysql://``): an RDB storage for many machines.  Heartbeats are on,
  so a worker that dies mid-trial has its trials marked FAIL by the others after ``grace_period`` seconds,
  and :class:`StaleTrialRetry` re-queues their configurations.

The journal backend has no heartbeat; a crashed local process is detected from the worker id (host + pid)
that the search records in every trial (see :func:`hyperselect.search.study.recover_interrupted`).
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import optuna

from hyperselect.errors import StorageError

log = logging.getLogger(__name__)

RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
DEFAULT_HEARTBEAT_INTERVAL = 30
#: A crashed trial is re-queued at most this many times (a config that kills its worker every time must end).
MAX_RETRY = 3
#: Outcomes of a trial its worker ended as FAIL on purpose and that fill a slot of the budget (it diverged, its
#: configuration is invalid).
SLOT_FAIL_OUTCOMES = ("diverged", "error")
#: Those, and a trial asked beyond the budget (no slot): final, never retried.
FINAL_FAIL_OUTCOMES = (*SLOT_FAIL_OUTCOMES, "surplus")
#: The user attributes of a trial's run: its worker's id (written when asked) and its results (written when it
#: finishes, ``outcome`` always last; see :func:`hyperselect.search.halving.run_halving`).  A re-queued copy of a crashed trial must not inherit them:
#: a worker killed between writing them and telling the trial's state leaves them on a trial that then fails
#: by heartbeat, and its retry would otherwise carry "outcome: pruned" while it waits and runs.
RESULT_ATTRS = (
    "outcome",
    "reason",
    "worker",
    "epochs",
    "best_epoch",
    "best_valid_score",
    "best_valid_loss",
    "n_parameters",
    "seconds",
    "config",
)


def is_url(storage: str) -> bool:
    return "://" in storage


def describe_storage(storage: str | os.PathLike[str] | None) -> str:
    """The storage spelled for messages, without a password."""
    if storage is None:
        return "in-memory storage"
    s = str(storage)
    if is_url(s):
        scheme, rest = s.split("://", 1)
        if "@" in rest:
            cred, host = rest.rsplit("@", 1)
            user = cred.split(":", 1)[0]
            return f"{scheme}://{user}@{host}"
        return s
    return f"journal file '{s}'"


def open_storage(
    storage: str | os.PathLike[str] | optuna.storages.BaseStorage | None,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    max_retry: int | None = MAX_RETRY,
) -> optuna.storages.BaseStorage | None:
    """Open a storage from a URL or path (see the module doc); ``None`` stays ``None`` (in memory).

    ``heartbeat_interval`` (seconds; default 30 for server databases, off for SQLite) and ``grace_period``
    (default: twice the interval, at least 10 s) apply to RDB storages.  Raises :class:`StorageError` naming the storage.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    s = os.fspath(storage)
    if not s.strip():
        raise StorageError("The storage is an empty string; expected a journal file path or a database URL.")
    if not is_url(s):
        return _journal(Path(s))
    scheme = s.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in RDB_SCHEMES:
        raise StorageError(
            f"Unknown storage URL scheme {scheme!r} in {describe_storage(s)!r}; expected a journal "
            f"file path or one of {', '.join(f'{x}://' for x in RDB_SCHEMES)}."
        )
    shown = describe_storage(s)  # as the user wrote it, without a password
    if scheme == "postgres":  # SQLAlchemy only knows the long spelling
        s = "postgresql" + s[len("postgres") :]
    if s.startswith("postgresql://"):
        s = _postgres_driver(s)
    if heartbeat_interval is None and scheme != "sqlite":
        heartbeat_interval = DEFAULT_HEARTBEAT_INTERVAL
    kwargs: dict[str, Any] = {}
    if heartbeat_interval is not None:
        if grace_period is None:
            # Optuna's default is twice the interval; a floor of 10 s keeps a busy (not dead) worker from being
            # judged stale on a loaded machine, which would only waste its work.
            grace_period = max(2 * heartbeat_interval, 10)
        kwargs.update(
            heartbeat_interval=int(heartbeat_interval),
            grace_period=int(grace_period),
            heartbeat_stale_trial_callback=StaleTrialRetry(max_retry),
        )
    engine_kwargs: dict[str, Any] = {}
    if scheme == "postgresql":
        # Fail fast on an unreachable server instead of hanging on the OS TCP timeout.
        engine_kwargs = {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(s, engine_kwargs=engine_kwargs, **kwargs)
    except ImportError as exc:
        driver = {"postgresql": "psycopg2-binary", "mysql": "PyMySQL"}.get(scheme, scheme)
        raise StorageError(
            f"Cannot open {describe_storage(s)!r}: its database driver is missing. "
            f"Install it with: pip install {driver}"
        ) from exc
    except Exception as exc:  # SQLAlchemy raises many types (OperationalError, ArgumentError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"Cannot open the study storage {shown!r}: {first}") from exc


def _postgres_driver(url: str) -> str:
    """Name the installed driver: SQLAlchemy 2.1 defaults to psycopg 3, we depend on psycopg2-binary."""
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


class StaleTrialRetry:
    """Re-queue a crashed trial's configuration (Optuna's :class:`~optuna.storages.RetryFailedTrialCallback`,
    whose ``failed_trial``/``retry_history`` system attributes the slot accounting reads), with two differences:

    * the copy leaves the crashed run's results (:data:`RESULT_ATTRS`) behind, so a waiting retry never looks
      finished;
    * a trial whose worker had already written a final FAIL outcome (:data:`FINAL_FAIL_OUTCOMES`) and died
      before telling it is not re-queued: heartbeat's FAIL is then the state the worker was about to tell, and
      a retry would train the configuration a second time for a slot that is already finished.
    """

    def __init__(self, max_retry: int | None = MAX_RETRY) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.user_attrs.get("outcome") in FINAL_FAIL_OUTCOMES:
            return
        clean = copy.deepcopy(trial)
        for name in RESULT_ATTRS:
            clean.user_attrs.pop(name, None)
        self._retry(study, clean)


def _journal(path: Path) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage

    if path.is_dir():
        raise StorageError(
            f"The storage path '{path}' is a directory; expected a journal file path such as 'study.journal'."
        )
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot create the folder '{parent}' for the journal file '{path}': {exc.strerror or exc}."
        ) from exc
    try:
        lock = JournalFileSymlinkLock(str(path))
        _repair_torn_tail(path, lock)
        return JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    except Exception as exc:  # a corrupt or unreadable journal: name the file
        raise StorageError(f"Cannot open the journal file '{path}': {exc}") from exc


def _repair_torn_tail(path: Path, lock: Any) -> None:
    """Drop a half-written last line left by a process killed while appending.

    Every complete journal record ends with a newline.  Optuna skips a torn last line when reading, but the next
    append would be glued onto it and corrupt the file for good.  Checked under the journal's own lock, so no
    live writer can be caught mid-record.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    from optuna.storages.journal._file import get_lock_file

    with get_lock_file(lock), open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - 1))
        if fh.read(1) == b"\n":
            return
        # find the last newline; everything after it is the torn record
        pos, chunk = size, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            data = fh.read(pos - start)
            idx = data.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            pos = start
        else:
            keep = 0
        log.warning(
            "journal '%s': dropping a torn last record (%d bytes) left by an interrupted write",
            path,
            size - keep,
        )
        fh.truncate(keep)


def heartbeat_enabled(storage: optuna.storages.BaseStorage | None) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return storage is not None and is_heartbeat_enabled(storage)
