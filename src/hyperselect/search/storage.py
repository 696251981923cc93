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
import time
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
#: The same with its colon missing (``postgresql//host/db``): a URL typo, not a journal path of nested folders.
_SCHEME_NO_COLON = re.compile(rf"^({'|'.join(RDB_SCHEMES)})(\+[\w.-]*)?//", re.IGNORECASE)
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
    "heartbeat_interval",
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


#: Query parameters that carry a secret (``?password=...`` is a valid way to give libpq its password).
_SECRET_KEYS = re.compile(r"^(ssl)?(password|passwd|pwd)$", re.IGNORECASE)


def _split_url(url: str) -> tuple[str, str | None, str | None, str, bool]:
    """``scheme://[user[:password]@]rest`` -> ``(scheme, user, password, rest, ambiguous)``.

    Credentials end at the first ``@`` as SQLAlchemy reads them, except that an ``@`` left in the host part (a
    password's ``@`` that was not percent-encoded) is counted as the password's too: what is shown never holds
    any of it.  ``ambiguous`` says that happened (SQLAlchemy would take the rest of the password for the host).
    An ``@`` in the path or query (``?options=a@b``) is no credential: a user name has no ``/`` or ``?``.
    """
    scheme, rest = url.split("://", 1)
    at = rest.find("@")
    if at < 0 or any(c in rest[:at].split(":", 1)[0] for c in "/?"):
        return scheme, None, None, rest, False
    userinfo, after = rest[:at], rest[at + 1 :]
    host = re.match(r"[^/?]*", after)
    host_part = host.group(0) if host else ""
    ambiguous = "@" in host_part and ":" in userinfo
    if "@" in host_part:
        k = host_part.rfind("@")
        userinfo, after = f"{userinfo}@{after[:k]}", after[k + 1 :]
    user, colon, password = userinfo.partition(":")
    return scheme, user, password if colon else None, after, ambiguous


def _mask_query(rest: str) -> str:
    """``host/db?password=x&sslmode=require`` -> ``host/db?password=***&sslmode=require``."""
    path, q, query = rest.partition("?")
    if not q:
        return rest
    parts = []
    for item in query.split("&"):
        key, eq, _ = item.partition("=")
        parts.append(f"{key}=***" if eq and _SECRET_KEYS.match(key) else item)
    return f"{path}?{'&'.join(parts)}"


def _secrets(url: str) -> list[str]:
    """The passwords in ``url`` (as written and percent-decoded), longest first, for scrubbing messages."""
    from urllib.parse import unquote

    _, _, password, rest, _ = _split_url(url)
    found = [password] if password else []
    for item in rest.partition("?")[2].split("&"):
        key, eq, value = item.partition("=")
        if eq and value and _SECRET_KEYS.match(key):
            found.append(value)
    found += [unquote(x) for x in found]
    return sorted({x for x in found if x}, key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    """``text`` (a driver's message, say) with every password of ``url`` replaced by ``***``."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def describe_storage(storage: str | os.PathLike[str] | optuna.storages.BaseStorage | None) -> str:
    """The storage spelled for messages, without a password (neither ``user:password@`` nor ``?password=``);
    a storage object passed from Python is "custom storage"."""
    if storage is None:
        return "in-memory storage"
    if isinstance(storage, optuna.storages.BaseStorage):
        return "custom storage"
    s = str(storage)
    if is_url(s):
        scheme, user, _, rest, _ = _split_url(s)
        rest = _mask_query(rest)
        return f"{scheme}://{user}@{rest}" if user is not None else f"{scheme}://{rest}"
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
    error, and nothing is created.  Raises :class:`StorageError` naming the storage (never its password) and
    what to check: a server that cannot be reached fails within :data:`CONNECT_TIMEOUT` seconds.
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    s = os.fspath(storage)
    if not s.strip():
        raise StorageError("The storage is an empty string; expected a journal file path or a database URL.")
    if not is_url(s):
        _check_not_a_url(s)
        return _journal(Path(s), must_exist=must_exist)
    shown = describe_storage(s)  # as the user wrote it, without a password
    written, rest = s.split("://", 1)
    scheme, _, driver = written.lower().partition("+")
    if scheme not in RDB_SCHEMES:
        raise StorageError(
            f"Unknown storage URL scheme {scheme!r} in {shown!r}; expected a journal "
            f"file path or one of {', '.join(f'{x}://' for x in RDB_SCHEMES)}."
        )
    if _split_url(s)[4]:
        raise StorageError(
            f"The storage URL {shown!r} has an '@' in its password that is not percent-encoded, so the host "
            "cannot be told from the password; write it as %40 (and ':' as %3A, '/' as %2F), e.g. "
            f"'{scheme}://user:p%40ss@host:port/database'."
        )
    if scheme == "postgres":  # SQLAlchemy only knows the long spelling
        scheme = "postgresql"
    s = f"{scheme}{'+' + driver if driver else ''}://{rest}"  # SQLAlchemy wants the scheme in lower case
    if scheme == "sqlite":
        _check_sqlite(s, must_exist=must_exist)
    if not driver:
        s, driver = _default_driver(s, scheme)
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
    if scheme != "sqlite":
        engine_kwargs["pool_pre_ping"] = True
        # Fail fast on an unreachable server instead of hanging on the OS TCP timeout (unless the URL sets it).
        if driver in _CONNECT_TIMEOUT_DRIVERS and "connect_timeout=" not in rest.partition("?")[2]:
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        for attempt in range(SCHEMA_RACE_RETRIES + 1):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    rdb = optuna.storages.RDBStorage(s, engine_kwargs=engine_kwargs, **kwargs)
                break
            except Exception as exc:
                # two processes creating the same new database's tables at once: the loser's CREATE or
                # version insert fails; the winner's tables are there a moment later, so open them again
                if attempt == SCHEMA_RACE_RETRIES or not _schema_race(exc):
                    raise
                time.sleep(0.2 * (attempt + 1))
        if scheme == "sqlite" and driver in ("pysqlite", "sqlite3", ""):
            _serialise_sqlite_transactions(rdb)
        return rdb
    except ImportError as exc:
        package = _DRIVER_PACKAGES.get(driver, driver)
        raise StorageError(
            f"Cannot open the study storage {shown!r}: its database driver {driver!r} is not installed. "
            f"Install it with: pip install {package}"
        ) from exc
    except Exception as exc:  # SQLAlchemy raises many types (OperationalError, ArgumentError, ...)
        raise StorageError(
            f"Cannot open the study storage {shown!r}: {_first_line(exc, s)}. {_hint(exc, s)}"
        ) from exc


#: Times a storage is opened again after losing the race to create a new database's tables.
SCHEMA_RACE_RETRIES = 5


def _schema_race(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost race to set up a new database (another process created its tables first)."""
    text = str(exc).lower()
    return "alembic_version" in text or ("already exists" in text and "table" in text)


def _serialise_sqlite_transactions(rdb: optuna.storages.RDBStorage) -> None:
    """Make every transaction on an SQLite storage take the database's write lock when it begins.

    Optuna hands a queued (WAITING) trial to one process by reading it with ``SELECT ... FOR UPDATE`` and marking
    it RUNNING in one transaction; SQLite has no row locks and ignores ``FOR UPDATE``, so two processes read the
    same WAITING trial and both ran it (4 processes popping 200 queued trials took 23 of them twice).  A
    transaction begun with ``BEGIN IMMEDIATE`` holds SQLite's write lock from its first read, which makes the
    read-then-write atomic; the others wait (sqlite3's busy timeout), as SQLite's single writer makes them anyway.
    """
    from sqlalchemy import event

    engine = rdb.engine

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own deferred BEGIN off: SQLAlchemy's below

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened while Optuna set the schema up predate the listeners


def check_storage(storage: str | os.PathLike[str] | None) -> None:
    """Open a database server's storage once and close it, so that a wrong URL, user, password or host fails in
    seconds, before a caller spends minutes on its data.  Journal files and SQLite need no such check: they are
    local, and :func:`open_storage` checks them without waiting on anything (and without creating files here)."""
    if storage is None:
        return
    s = os.fspath(storage)
    if not is_url(s) or s.split("://", 1)[0].split("+", 1)[0].lower() == "sqlite":
        return
    store = open_storage(s, heartbeat_interval=None)
    engine = getattr(store, "engine", None)
    if engine is not None:
        engine.dispose()


#: Seconds a database server has to accept a connection (libpq's and the MySQL drivers' ``connect_timeout``).
CONNECT_TIMEOUT = 10
_CONNECT_TIMEOUT_DRIVERS = ("psycopg2", "psycopg", "pymysql", "mysqldb")
#: ``pip install`` names of the database drivers (SQLAlchemy's dialect name -> package).
_DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "'psycopg[binary]'",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "pymysql": "PyMySQL",
    "mysqldb": "mysqlclient",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
}


def _default_driver(url: str, scheme: str) -> tuple[str, str]:
    """Name the driver of a URL without one: for PostgreSQL, psycopg (3) where it is installed, as SQLAlchemy
    reads ``postgresql://`` (so the same URL opens in optuna-dashboard and ``optuna.load_study``), else psycopg2
    where that is, else psycopg, whose missing-driver hint names the ``[postgres]`` extra's package; for MySQL
    the installed one, else the pure-Python PyMySQL (SQLAlchemy's default, mysqlclient, needs a compiler)."""
    import importlib.util

    def have(module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    rest = url.split("://", 1)[1]
    if scheme == "postgresql":
        driver = "psycopg2" if have("psycopg2") and not have("psycopg") else "psycopg"
    elif scheme == "mysql":
        driver = "mysqldb" if have("MySQLdb") and not have("pymysql") else "pymysql"
    else:
        return url, ""
    return f"{scheme}+{driver}://{rest}", driver


def _first_line(exc: BaseException, url: str) -> str:
    """The first line of ``exc``'s message without SQLAlchemy's ``(psycopg2.OperationalError)`` prefix and with
    no password of ``url`` in it."""
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    line = re.sub(r"^\([\w.]+\)\s*", "", line).rstrip(".")
    return _scrub(line, url)


def _hint(exc: BaseException, url: str) -> str:
    """What to check, from the driver's message about a connection that failed."""
    from sqlalchemy.engine import make_url

    text = str(exc)
    if url.split("://", 1)[0].split("+", 1)[0].lower() == "sqlite":
        if "locked" in text:
            return "Another process holds the database: a shared study on one machine is safer in a journal file."
        return "Check that the database file is an SQLite database and that it and its folder can be written."
    try:
        u = make_url(url)
        host, port, database, user = u.host or "localhost", u.port, u.database, u.username
    except Exception:
        host, port, database, user = "the host", None, None, None
    where = f"{host}:{port}" if port else f"{host} (default port)"
    low = text.lower()
    if "password authentication failed" in low or "access denied for user" in low or "no password" in low:
        return (
            f"Check the user name ({user!r}) and the password in the URL (special characters in a password "
            "must be percent-encoded, e.g. '@' as %40)."
        )
    if re.search(r'role "[^"]*" does not exist', text):
        return f"Check the user name ({user!r}) in the URL: the server has no such role."
    if re.search(r'database "[^"]*" does not exist', text) or "unknown database" in low:
        return (
            f"Check the database name ({database!r}) in the URL, or create it first "
            f"(PostgreSQL: createdb -h {host} {database})."
        )
    if "could not translate host name" in low or "name or service not known" in low or "nodename nor" in low:
        return f"Check the host name ({host!r}) in the URL."
    if "connection refused" in low or "can't connect" in low:
        return f"Check that the database server is running and listening on {where}."
    if "no such file or directory" in low:  # a Unix socket (?host=/folder) nobody listens on
        return "Check that the database server is running and that the URL names its socket folder."
    if "timeout expired" in low or "timed out" in low:
        m = re.search(r"[?&]connect_timeout=(\d+)", url)
        limit = m.group(1) if m else CONNECT_TIMEOUT
        return (
            f"The server at {where} did not answer within {limit} s: check the host and port, and that no "
            "firewall blocks this machine (the URL's ?connect_timeout=SECONDS sets another limit)."
        )
    if "pg_hba.conf" in low:
        return "The server refuses this client, user or database (pg_hba.conf): ask its administrator."
    if isinstance(exc, ValueError) or "could not parse" in low or "invalid" in low:
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        return f"Check the URL; expected e.g. '{scheme}://user:password@host:port/database'."
    return "Check the URL and that the database server can be reached from this machine."


def _check_not_a_url(s: str) -> None:
    """Refuse ``sqlite:/x.db`` and the like: a database URL missing its ``//`` would otherwise become a journal
    path (and a folder named ``sqlite:``)."""
    m = _SCHEME_PREFIX.match(s)
    if m is None:
        m = _SCHEME_NO_COLON.match(s)
        if m is not None:
            written = m.group(0)[:-2]
            secret = "@" in s
            shown = f"{written}//...@{s.rsplit('@', 1)[1]}" if secret else s
            raise StorageError(
                f"The storage {shown!r} looks like a database URL but lacks the ':' after '{written}'; expected "
                f"'{written}://...' (or, for a journal file in a folder named '{written}', the path written "
                f"'./{written}/...')."
            )
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
    """An SQLite URL must name a database file (``sqlite:///`` or ``:memory:`` would silently store nothing) in
    a folder that exists and is writable (SQLite writes a journal file beside the database)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # a malformed URL: RDBStorage reports it, naming the storage
        return
    database = parsed.database or ""
    if parsed.host:  # sqlite://runs/x.db: SQLAlchemy reads 'runs' as a host, which SQLite has no use for
        rest = url.split("://", 1)[1]
        raise StorageError(
            f"The storage {url!r} has two slashes after 'sqlite:', so '{parsed.host}' would be read as a host; an "
            f"SQLite URL has three before a relative path and four before an absolute one: 'sqlite:///{rest}'."
        )
    if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
        raise StorageError(
            f"The storage {url!r} names no database file, so SQLite would keep the study in memory and store "
            "nothing; expected 'sqlite:///path/to/file.db' (three slashes and a relative path, four for an "
            "absolute one), or no storage at all for an in-memory study."
        )
    if parsed.query.get("uri") is not None:  # sqlite:///file:x.db?uri=true: SQLite parses the path itself
        return
    path = Path(database)
    if must_exist and not path.is_file():
        raise StorageError(
            f"There is no SQLite database file at '{database}' (from {url!r}); expected the storage of an "
            "existing study. Create the study first with `hyperselect tune DATA --target COL --storage ...`."
        )
    folder = path.parent
    slashes = (
        f" (for the absolute path '/{database}', write four slashes: 'sqlite:////{database}')"
        if not path.is_absolute()
        else ""
    )
    if path.is_dir():
        raise StorageError(f"The storage {url!r} names the folder '{database}'; expected a database file.")
    if not folder.is_dir():
        # Created, as a journal file's folder is (the two storages disagreed); except where the path looks like
        # an absolute one written with three slashes (sqlite:///tmp/x/s.db: 'tmp' is no folder here but '/tmp'
        # is): creating './tmp/x' would hide the slip.
        top = Path(database).parts[0] if Path(database).parts else ""
        if not path.is_absolute() and top and not Path(top).exists() and (Path("/") / top).is_dir():
            raise StorageError(
                f"Cannot open the storage {url!r}: the folder '{folder}' of its database file does not exist "
                f"here, but '/{top}' does{slashes}; correct the path, or create '{folder}' first if a relative "
                "path was meant."
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder '{folder}' for the database file of the storage {url!r}: "
                f"{exc.strerror or exc}{slashes}."
            ) from exc
    _check_writable(
        path, f"the storage {url!r}", "SQLite writes a journal file beside the database at every change"
    )


def _check_writable(path: Path, what: str, why_folder: str) -> None:
    """Refuse a storage file (or its folder) that cannot be written: a study writes at its first step, and Optuna
    would fail there with a deep traceback (or, for a journal, when taking its lock)."""
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(
            f"Cannot write {what}: the file is read-only (its permissions or a read-only file system); make "
            "it writable, or copy it to a writable place and use the copy."
        )
    folder = path.parent if str(path.parent) else Path(".")
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"Cannot write {what}: its folder '{folder}' is not writable (its permissions or "
            f"a read-only file system), and {why_folder}; make the folder writable, or use a storage in a "
            "writable folder."
        )


def storage_failure(exc: BaseException, storage: str | os.PathLike[str] | None) -> StorageError | None:
    """A :class:`StorageError` for an error a storage raised after it was opened (a database server gone or
    refusing writes, a journal made read-only), naming the storage without its password; ``None`` for an error
    of anything else."""
    import sys

    rdb: tuple[type[BaseException], ...] = (optuna.exceptions.StorageInternalError,)
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None:
        rdb += (sa_exc.SQLAlchemyError,)
    url = os.fspath(storage) if storage is not None else ""
    if isinstance(exc, rdb):
        cause: BaseException = exc
        while isinstance(cause, optuna.exceptions.StorageInternalError) and cause.__cause__ is not None:
            cause = cause.__cause__
        shown = f"'{describe_storage(storage)}'" if is_url(url) else describe_storage(storage)
        return StorageError(
            f"The study storage {shown} failed: {_first_line(cause, url)}. "
            f"{_hint(cause, url) if is_url(url) else 'Check that its file can be written.'}"
        )
    if isinstance(exc, OSError) and url and not is_url(url):
        # absolute: the journal's lock is opened by its absolute path (see _journal), the storage as typed
        names = {Path(os.fsdecode(n)).absolute() for n in (exc.filename, exc.filename2) if n is not None}
        if names & {Path(url).absolute(), Path(f"{url}.lock").absolute()}:
            return StorageError(
                f"Cannot write the {describe_storage(storage)}: {exc.strerror or exc}; check that the file and "
                "its folder are writable."
            )
    return None


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
    # The lock is a symbolic link to the journal, and Optuna releases one left by a killed writer once the link's
    # target has not changed for the grace period; a relative target resolves from the link's own folder, so for
    # a path typed relative to the working directory (the CLI's default `--out runs/x`) it never resolved, and a
    # resume after a kill waited on the lock forever.  The absolute path resolves wherever the link is.
    lock = JournalFileSymlinkLock(str(path.absolute()), grace_period=LOCK_GRACE_SECONDS)
    _drop_dangling_lock(path)
    try:
        # Checked before anything is created or changed: a file that is not a journal is left byte-identical.
        torn = _check_journal(path)
        _check_writable(
            path,
            f"the journal file '{path}'",
            f"the journal's lock ('{path.name}.lock') is made in it at every write",
        )
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


#: seconds a journal's lock may stay unchanged before it is taken as left by a killed writer (Optuna's default)
LOCK_GRACE_SECONDS = 30


def _drop_dangling_lock(path: Path) -> None:
    """Remove a lock link that points nowhere and is older than the grace period.

    Such a link was left by a writer killed while it held the lock, from an earlier version that linked a
    relative path (or the folder was moved since): Optuna cannot read its age through it and would wait forever.
    """
    lock = path.with_name(path.name + ".lock")
    try:
        if not lock.is_symlink() or lock.exists():
            return
        age = time.time() - lock.lstat().st_mtime
        if age > LOCK_GRACE_SECONDS:
            lock.unlink()
            log.warning(
                "Removed the journal's lock '%s', left %.0f s ago by a writer that was stopped while holding it.",
                lock,
                age,
            )
    except OSError:  # gone meanwhile, or not ours to remove: the lock's own waiting decides
        return


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
