"""Storage URLs -> Optuna storages.

* ``None``: in memory (the library's default: nothing written).
* a plain path (``study.journal``, ``runs/x.log``): an Optuna journal file.  It survives a crash (every
  operation is an appended line) and several local processes can share it through its file lock.
* ``sqlite:///path.db``: an RDB storage in a local file.
* ``postgresql://user@host:port/db`` (or ``mysql://``): an RDB storage for many machines.  Heartbeats are on,
  so a worker that dies mid-trial has its trials marked FAIL by the others after ``grace_period`` seconds,
  and :class:`StaleTrialRetry` re-queues their configurations.

A journal path must name a new file, an empty one or an Optuna journal: any other file (a CSV, a result JSON) is
refused and left byte-identical, and a corrupt journal is refused naming the line.  A half-written last record
(a process killed while appending) is the one thing dropped.

The journal backend has no heartbeat; a crashed local process is detected from the worker id (host + pid)
that the search records in every trial (see :func:`hyperselect.search.study.recover_interrupted`).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages.journal._storage import JournalOperation

from hyperselect.errors import StorageError

log = logging.getLogger(__name__)

RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")
#: A database scheme (``sqlite``, ``postgresql+psycopg2``, ...) and a colon: a URL, even when its ``//`` is missing.
_SCHEME_PREFIX = re.compile(rf"^({'|'.join(RDB_SCHEMES)})(\+[\w.-]*)?:", re.IGNORECASE)
#: How every Optuna journal record begins (whitespace aside); a torn record is a prefix of it or starts with it.
_RECORD_HEAD = b'{"op_code":'
_OP_CODES = sorted(int(x) for x in JournalOperation)
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
    must_exist: bool = False,
) -> optuna.storages.BaseStorage | None:
    """Open a storage from a URL or path (see the module doc); ``None`` stays ``None`` (in memory).

    ``heartbeat_interval`` (seconds; default 30 for server databases, off for SQLite) and ``grace_period``
    (default: twice the interval, at least 10 s) apply to RDB storages.  ``must_exist`` (for a caller that only
    joins existing studies, such as a worker): a journal file or SQLite database file that does not exist is an
    error, and nothing is created.  Raises :class:`StorageError` naming the storage.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    s = os.fspath(storage)
    if not s.strip():
        raise StorageError("The storage is an empty string; expected a journal file path or a database URL.")
    if not is_url(s):
        _check_not_a_url(s)
        return _journal(Path(s), must_exist=must_exist)
    scheme = s.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in RDB_SCHEMES:
        raise StorageError(
            f"Unknown storage URL scheme {scheme!r} in {describe_storage(s)!r}; expected a journal "
            f"file path or one of {', '.join(f'{x}://' for x in RDB_SCHEMES)}."
        )
    shown = describe_storage(s)  # as the user wrote it, without a password
    if scheme == "sqlite":
        _check_sqlite(s, must_exist=must_exist)
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


def _check_not_a_url(s: str) -> None:
    """Refuse ``sqlite:/x.db`` and the like: a database URL missing its ``//`` would otherwise become a journal
    path (and a folder named ``sqlite:``)."""
    m = _SCHEME_PREFIX.match(s)
    if m is None:
        return
    scheme = m.group(1).lower()
    secret = "@" in s  # never echo a password
    shown = f"{m.group(0)}...@{s.rsplit('@', 1)[1]}" if secret else s
    example = "sqlite:///path/to/file.db" if scheme == "sqlite" else f"{scheme}://user@host:port/database"
    as_path = f"./{m.group(0)}..." if secret else f"./{s}"
    raise StorageError(
        f"The storage {shown!r} looks like a database URL but lacks the '//' after '{m.group(0)}'; expected a "
        f"URL such as '{example}' (or, for a journal file whose name starts with '{m.group(0)}', the path "
        f"written '{as_path}')."
    )


def _check_sqlite(url: str, *, must_exist: bool) -> None:
    """An SQLite URL must name a database file: ``sqlite:///`` or ``:memory:`` would silently store nothing."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # a malformed URL: RDBStorage reports it, naming the storage
        return
    database = parsed.database or ""
    if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
        raise StorageError(
            f"The storage {url!r} names no database file, so SQLite would keep the study in memory and store "
            "nothing; expected 'sqlite:///path/to/file.db' (three slashes and a relative path, four for an "
            "absolute one), or no storage at all for an in-memory study."
        )
    if must_exist and parsed.query.get("uri") is None and not Path(database).is_file():
        raise StorageError(
            f"There is no SQLite database file at '{database}' (from {url!r}); expected the storage of an "
            "existing study. Create the study first with `hyperselect tune DATA --target COL --storage ...`."
        )


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


def _journal(path: Path, *, must_exist: bool = False) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage

    if path.is_dir():
        raise StorageError(
            f"The storage path '{path}' is a directory; expected a journal file path such as 'study.journal'."
        )
    if must_exist and not path.exists():
        raise StorageError(
            f"There is no journal file at '{path}'; expected the journal of an existing study. "
            "Create the study first with `hyperselect tune DATA --target COL --storage ...`."
        )
    lock = JournalFileSymlinkLock(str(path))
    try:
        # Checked before anything is created or changed: a file that is not a journal is left byte-identical.
        torn = _check_journal(path)
        if torn is not None:
            _repair_torn_tail(path, lock, *torn)
    except OSError as exc:
        raise StorageError(f"Cannot read the journal file '{path}': {exc.strerror or exc}.") from exc
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot create the folder '{parent}' for the journal file '{path}': {exc.strerror or exc}."
        ) from exc
    try:
        return JournalStorage(JournalFileBackend(str(path), lock_obj=lock))
    except OSError as exc:
        raise StorageError(f"Cannot open the journal file '{path}': {exc.strerror or exc}.") from exc
    except Exception as exc:  # records that parse but that Optuna cannot replay
        raise StorageError(_replay_failure(path, exc)) from exc


def _check_journal(path: Path) -> tuple[int, int] | None:
    """Check that ``path`` is absent, empty or an Optuna journal; if it ends with a torn record, return where
    that record starts (byte offset, number of lines before it), else ``None``.

    Every complete line must be a journal record (:func:`_record_problem`), else :class:`StorageError` names the
    line.  Read without the journal's lock: writers only append, and a line is read only once complete.
    """
    if not path.exists():
        return None
    end, n_lines, tail = _scan_lines(path, 0, 0)
    if not tail:
        return None
    if not _looks_like_record(tail):
        raise StorageError(_bad_line(path, n_lines + 1, "it is not the start of a journal record", tail))
    return end, n_lines


def _scan_lines(path: Path, start: int, n_before: int) -> tuple[int, int, bytes]:
    """Validate the complete lines of ``path`` from byte ``start`` (``n_before`` lines precede it); return the
    offset after the last complete line, the number of complete lines and the unterminated rest (``b""`` if none)."""
    end, n = start, n_before
    with open(path, "rb") as fh:
        fh.seek(start)
        if start == 0:
            head = fh.read(64).lstrip()
            # not JSON at all (a CSV, text): say so before reading what may be one huge line
            if head and not head.startswith(b"{"):
                raise StorageError(_bad_line(path, 1, "", head.split(b"\n", 1)[0]))
            fh.seek(0)
        for line in fh:
            if not line.endswith(b"\n"):
                return end, n, line
            n += 1
            problem = _record_problem(line)
            if problem is not None:
                raise StorageError(_bad_line(path, n, problem, line))
            end += len(line)
    return end, n, b""


def _record_problem(line: bytes) -> str | None:
    """What is wrong with one complete journal line, or ``None`` for a record Optuna can replay."""
    if not line.strip():
        return "it is empty"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"it is not valid JSON ({exc.msg} at column {exc.colno})"
    except ValueError:  # UnicodeDecodeError
        return "it is not UTF-8 text"
    if not isinstance(record, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(record), "a number"
        )
        return f"it is {kind}, not an object"
    if "op_code" not in record:
        return "it has no op_code"
    op = record["op_code"]
    if not isinstance(op, int) or isinstance(op, bool) or op not in _OP_CODES:
        return f"its op_code {json.dumps(op)} is not one of Optuna's operations ({_OP_CODES[0]} to {_OP_CODES[-1]})"
    return None


def _looks_like_record(tail: bytes) -> bool:
    """Whether an unterminated last line is a journal record cut short (``{"op_code":...`` or a prefix of it)."""
    head = re.sub(rb"\s", b"", tail[:64])
    return head.startswith(_RECORD_HEAD) or _RECORD_HEAD.startswith(head)


def _bad_line(path: Path, lineno: int, problem: str, line: bytes) -> str:
    found = line.rstrip(b"\r\n").decode("utf-8", "replace")
    found = found if len(found) <= 80 else found[:77] + "..."
    what = f"line {lineno} is not a journal record (expected a JSON object with an op_code)"
    what += f": {problem}; found {found!r}" if problem else f"; found {found!r}"
    if lineno == 1:
        return (
            f"The storage file '{path}' is not an Optuna journal: {what}. It was left unchanged; give a new file "
            "path for the study (such as 'study.journal') or the journal of an existing study."
        )
    return f"The journal file '{path}' is corrupt: {what}. It was left unchanged."


def _replay_failure(path: Path, exc: Exception) -> str:
    """The message for a journal whose records parse but cannot be replayed, naming the line when it can be found
    (by replaying the file again, one record at a time, only on this error path)."""
    detail = exc.msg if isinstance(exc, json.JSONDecodeError) else f"{type(exc).__name__}: {exc}"
    where = "its records cannot be replayed"
    from optuna.storages.journal._storage import JournalStorageReplayResult

    replay = JournalStorageReplayResult("hyperselect-check-")
    try:
        with open(path, "rb") as fh:
            replay.apply_logs(json.loads(line) for line in fh if line.endswith(b"\n"))
    except Exception:
        if replay.log_number_read > 0:
            where = f"line {replay.log_number_read} cannot be replayed"
    return (
        f"Cannot open the journal file '{path}': {where} by Optuna ({detail}); the file is corrupt or was written "
        "by an incompatible Optuna version. It was left unchanged."
    )


def _repair_torn_tail(path: Path, lock: Any, start: int, n_before: int) -> None:
    """Drop a half-written last line left by a process killed while appending.

    Every complete journal record ends with a newline.  Optuna skips a torn last line when reading, but the next
    append would be glued onto it and corrupt the file for good.  Done under the journal's own lock, so no live
    writer can be caught mid-record: the file is scanned again from ``start`` (the torn line seen unlocked, after
    ``n_before`` checked lines), as a writer may have finished that line (or appended more) since.
    """
    from optuna.storages.journal._file import get_lock_file

    with get_lock_file(lock):
        keep, n_lines, tail = _scan_lines(path, start, n_before)
        if not tail:
            return
        if not _looks_like_record(tail):
            raise StorageError(_bad_line(path, n_lines + 1, "it is not the start of a journal record", tail))
        log.warning(
            "journal '%s': dropping a torn last record (%d bytes) left by an interrupted write",
            path,
            len(tail),
        )
        with open(path, "rb+") as fh:
            fh.truncate(keep)


def heartbeat_enabled(storage: optuna.storages.BaseStorage | None) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return storage is not None and is_heartbeat_enabled(storage)
