"""Storages that fail as a user meets them: database URLs that cannot connect (a wrong password, user, port,
host or database, a misspelt scheme, a missing driver), SQLite and journal files that cannot be written, a
storage that fails mid-run, and a worker that comes after its study finished.  Each is one line naming the
storage, never its password, with what to check; exit status 1, within seconds.

The PostgreSQL cases run against scripts/postgres.sh's server and are skipped (with the reason) where it cannot
start; its role 'hyperselect_pw' logs in with a password, so a wrong one can be tried.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import typer
from typer.testing import CliRunner

from hyperselect.errors import StorageError
from hyperselect.search import storage
from hyperselect.search.storage import describe_storage, open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-Pw"


def _app() -> typer.Typer:
    from hyperselect.cli_search import register

    app = typer.Typer()
    register(app)
    return app


def _free_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_error(url: str, **kwargs: object) -> str:
    with pytest.raises(StorageError) as err:
        open_storage(url, **kwargs)  # type: ignore[arg-type]
    return str(err.value)


# -- 1. the storage as shown: never a password ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://u:{SECRET}@h:5432/db", "postgresql://u@h:5432/db"),
        (f"postgresql://h:5432/db?user=u&password={SECRET}", "postgresql://h:5432/db?user=u&password=***"),
        (
            f"postgresql://h/db?sslpassword={SECRET}&sslmode=require",
            "postgresql://h/db?sslpassword=***&sslmode=require",
        ),
        (f"postgresql://u:{SECRET}@h/db?options=a@b", "postgresql://u@h/db?options=a@b"),  # '@' in the query
        (f"postgresql://u:p@{SECRET}@h/db", "postgresql://u@h/db"),  # a '@' of the password not encoded
        (f"postgresql://u:pa/{SECRET}@h/db", "postgresql://u@h/db"),  # a '/' in the password
        ("postgresql://h/db?options=a@b", "postgresql://h/db?options=a@b"),  # no credentials at all
        (f"mysql+pymysql://u:{SECRET}@h/db", "mysql+pymysql://u@h/db"),
    ],
)
def test_describe_storage_never_shows_a_password(url: str, shown: str) -> None:
    assert describe_storage(url) == shown
    assert SECRET not in describe_storage(url)


# -- 2. database URLs that cannot connect ---------------------------------------------------------------------


def test_a_port_nobody_listens_on_says_to_check_the_server() -> None:
    port = _free_port()
    t0 = time.monotonic()
    message = _open_error(f"postgresql://u:{SECRET}@127.0.0.1:{port}/db")
    assert time.monotonic() - t0 < 10
    assert f"'postgresql://u@127.0.0.1:{port}/db'" in message
    assert f"Check that the database server is running and listening on 127.0.0.1:{port}" in message
    assert SECRET not in message and "(psycopg2.OperationalError)" not in message


@pytest.mark.parametrize("scheme", ["POSTGRESQL", "Postgres", "postgres", "postgresql+psycopg2"])
def test_every_spelling_of_the_postgresql_scheme_connects_the_same(scheme: str) -> None:
    port = _free_port()
    message = _open_error(f"{scheme}://u:{SECRET}@127.0.0.1:{port}/db")
    assert "Connection refused" in message and "listening on" in message, message  # not "Can't load plugin"
    assert SECRET not in message


def test_a_password_given_in_the_query_is_not_shown() -> None:
    message = _open_error(f"postgresql://127.0.0.1:{_free_port()}/db?user=u&password={SECRET}")
    assert "password=***" in message and SECRET not in message


def test_an_unencoded_at_sign_in_the_password_is_refused_without_showing_it() -> None:
    # SQLAlchemy would read 'p' as the password and 's3cret-Pw@127.0.0.1' as the host, and the driver's message
    # would then carry the rest of the password
    message = _open_error(f"postgresql://u:p@{SECRET}@127.0.0.1:{_free_port()}/db")
    assert "'@' in its password that is not percent-encoded" in message and "%40" in message
    assert SECRET not in message


def test_an_unknown_host_is_named() -> None:
    message = _open_error(f"postgresql://u:{SECRET}@no-such-host.invalid:5432/db")
    assert "Check the host name ('no-such-host.invalid')" in message and SECRET not in message


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a firewall that drops, a server that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                accepted.append(server.accept()[0])
        except OSError:  # closed
            pass

    threading.Thread(target=accept, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()
    for c in accepted:
        c.close()


def test_a_server_that_never_answers_fails_within_the_urls_connect_timeout(silent_server: int) -> None:
    t0 = time.monotonic()
    message = _open_error(f"postgresql://u:{SECRET}@127.0.0.1:{silent_server}/db?connect_timeout=1")
    assert time.monotonic() - t0 < 6  # the URL's 1 s, not the default 10 s
    assert "did not answer within 1 s" in message and SECRET not in message


@pytest.mark.parametrize(
    ("url", "module", "package"),
    [
        ("postgresql+psycopg://u:{pw}@h/db", "psycopg", "pip install 'psycopg[binary]'"),
        ("postgresql+pg8000://u:{pw}@h/db", "pg8000", "pip install pg8000"),
        ("mysql+mysqldb://u:{pw}@h/db", "MySQLdb", "pip install mysqlclient"),
        ("mysql://u:{pw}@h/db", "pymysql", "pip install PyMySQL"),
    ],
)
def test_a_missing_driver_names_the_package_to_install(url: str, module: str, package: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    message = _open_error(url.format(pw=SECRET))
    assert "is not installed" in message and package in message and SECRET not in message


def test_a_plain_mysql_url_uses_pymysql_where_it_is_the_installed_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLAlchemy's default MySQL driver is mysqlclient: with only PyMySQL installed (what our hint says to
    install), a plain mysql:// URL would still fail on its missing driver."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "pymysql" else None if name == "MySQLdb" else real(name, *a),
    )
    assert storage._default_driver("mysql://u@h/db", "mysql") == ("mysql+pymysql://u@h/db", "pymysql")


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    message = _open_error(f"postgressql://u:{SECRET}@h/db")
    assert "Unknown storage URL scheme 'postgressql'" in message and "postgresql://" in message
    assert SECRET not in message


def test_tune_checks_a_database_url_before_reading_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong URL fails in seconds, not after minutes of loading a large file."""
    from hyperselect import cli_search

    def no_data(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the storage was checked")

    monkeypatch.setattr(cli_search, "load_data", no_data)
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://u:{SECRET}@127.0.0.1:{_free_port()}/db"
    res = CliRunner().invoke(_app(), ["tune", "big.csv", "--target", "y", "--storage", url])
    assert res.exit_code == 1, res.output
    assert "error: Cannot open the study storage" in res.output and "Traceback" not in res.output
    assert SECRET not in res.output


# -- 3. SQLite and journal files that cannot be written -------------------------------------------------------


def test_an_sqlite_folder_that_does_not_exist_is_created_as_a_journals_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit: a journal in a missing folder created the folder, SQLite refused; both create it now, except
    where three slashes turned an absolute path relative ('tmp' is no folder here, '/tmp' is)."""
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite:///runs/a/study.db", "journal/b/study.journal"):
        store = open_storage(url)
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose()
    assert (tmp_path / "runs" / "a").is_dir() and (tmp_path / "journal" / "b").is_dir()
    message = _open_error("sqlite:///tmp/nodir/study.db")
    assert "the folder 'tmp/nodir' of its database file does not exist here, but '/tmp' does" in message
    assert "sqlite:////tmp/nodir/study.db" in message  # the absolute path needs four slashes
    assert not (tmp_path / "tmp").exists()
    (tmp_path / "folder.db").mkdir()
    assert "names the folder 'folder.db'" in _open_error("sqlite:///folder.db")


_PROBE = """
import json, sys
from hyperselect.errors import StorageError
from hyperselect.search.storage import open_storage
out = {}
for s in sys.argv[1:]:
    try:
        open_storage(s)
        out[s] = "opened"
    except StorageError as exc:
        out[s] = str(exc)
print(json.dumps(out))
"""


def _open_without_write_permission(*storages: str, cwd: Path) -> dict[str, str]:
    """Open each storage in a process that file permissions apply to (root's are dropped with setpriv)."""
    cmd = [sys.executable, "-c", _PROBE, *storages]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and setpriv (to drop root's file access override) is missing")
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *cmd]
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_read_only_journals_and_sqlite_files_are_refused_when_opened(tmp_path: Path) -> None:
    """Before: the study failed at its first write, with a deep traceback (PermissionError on the journal's lock,
    or Optuna's StorageInternalError for SQLite)."""
    ro_files, ro_dir = tmp_path / "files", tmp_path / "folder"
    for folder in (ro_files, ro_dir):
        folder.mkdir()
        optuna.create_study(study_name="s", storage=open_storage(folder / "s.journal"))
        optuna.create_study(study_name="s", storage=f"sqlite:///{folder / 's.db'}")
        (folder / "s.journal").chmod(0o444 if folder is ro_files else 0o644)
        (folder / "s.db").chmod(0o444 if folder is ro_files else 0o644)
    ro_dir.chmod(0o555)
    try:
        got = _open_without_write_permission(
            "files/s.journal",
            "sqlite:///files/s.db",
            "folder/s.journal",
            "sqlite:///folder/s.db",
            "folder/new.journal",
            "sqlite:///folder/new.db",
            cwd=tmp_path,
        )
    finally:
        ro_dir.chmod(0o755)
    assert "Cannot write the journal file 'files/s.journal': the file is read-only" in got["files/s.journal"]
    assert (
        "Cannot write the storage 'sqlite:///files/s.db': the file is read-only"
        in got["sqlite:///files/s.db"]
    )
    for s in ("folder/s.journal", "folder/new.journal"):
        assert f"Cannot write the journal file '{s}': its folder 'folder' is not writable" in got[s]
        assert "lock" in got[s]
    for s in ("sqlite:///folder/s.db", "sqlite:///folder/new.db"):
        assert f"Cannot write the storage '{s}': its folder 'folder' is not writable" in got[s]
    assert sorted(p.name for p in ro_dir.iterdir()) == ["s.db", "s.journal"]  # nothing created


# -- 4. a storage that fails mid-run ----------------------------------------------------------------------------


def _lost_connection() -> optuna.exceptions.StorageInternalError:
    from sqlalchemy.exc import OperationalError

    try:
        try:
            raise OperationalError(
                "UPDATE trials SET ...",
                {},
                Exception('connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
            )
        except OperationalError as exc:
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from exc
    except optuna.exceptions.StorageInternalError as exc:
        return exc


def test_storage_failure_tells_storage_errors_from_others(tmp_path: Path) -> None:
    url = f"postgresql://u:{SECRET}@127.0.0.1:5432/db"
    failure = storage.storage_failure(_lost_connection(), url)
    assert failure is not None
    assert str(failure).startswith("The study storage 'postgresql://u@127.0.0.1:5432/db' failed: connection")
    assert "listening on 127.0.0.1:5432" in str(failure) and SECRET not in str(failure)
    journal = str(tmp_path / "s.journal")
    denied = PermissionError(13, "Permission denied", f"{journal}.lock")
    assert "Cannot write the journal file" in str(storage.storage_failure(denied, journal))
    assert storage.storage_failure(PermissionError(13, "Permission denied", "data.csv"), journal) is None
    assert storage.storage_failure(ValueError("a bug"), url) is None


def test_storage_failure_knows_a_relative_journal_by_its_absolute_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's default journal (``--out runs/x``) is relative; its lock link is made by the absolute path, so
    a read-only folder mid-run raised an OSError naming the absolute paths: a traceback, not the one line."""
    monkeypatch.chdir(tmp_path)
    rel = "runs/x/study.journal"
    absolute = str(tmp_path / rel)
    denied = OSError(30, "Read-only file system", absolute, f"{absolute}.lock")
    failure = storage.storage_failure(denied, rel)
    assert failure is not None and str(failure).startswith(f"Cannot write the journal file '{rel}'")


def test_a_worker_whose_database_fails_mid_run_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import hyperselect.search

    def lost(*args: object, **kwargs: object) -> None:
        raise _lost_connection()

    monkeypatch.setattr(hyperselect.search, "run_worker", lost)
    url = f"postgresql://u:{SECRET}@127.0.0.1:5432/db"
    res = CliRunner().invoke(_app(), ["worker", "--storage", url, "--study", "s"])
    assert res.exit_code == 1, res.output
    assert "error: The study storage 'postgresql://u@127.0.0.1:5432/db' failed" in res.output
    assert "start the worker again" in res.output
    assert "Traceback" not in res.output and SECRET not in res.output
    monkeypatch.setattr(hyperselect.search, "run_worker", lambda *a, **k: 1 / 0)
    res = CliRunner().invoke(_app(), ["worker", "--storage", url, "--study", "s"])
    assert isinstance(res.exception, ZeroDivisionError)  # anything else is not dressed up as a storage error


# -- 5. a worker after its study finished ---------------------------------------------------------------------


def test_a_worker_after_the_study_finished_says_so_and_exits_0(tmp_path: Path) -> None:
    journal = str(tmp_path / "study.journal")
    res = CliRunner().invoke(
        _app(), ["tune", "iris", "--trials", "3", "--max-epochs", "3", "--storage", journal, "--study", "s"]
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(_app(), ["worker", "--storage", journal, "--study", "s"])
    assert res.exit_code == 0, res.output
    assert "study 's' has already finished its budget; nothing was left to run" in res.output
    res = CliRunner().invoke(_app(), ["worker", "--storage", journal, "--study", "s", "--trials", "2"])
    assert res.exit_code == 0 and "its budget of 2 trials" in res.output
    res = CliRunner().invoke(_app(), ["worker", "--storage", journal, "--study", "nope"])
    flat = " ".join(res.output.split())
    assert res.exit_code == 1 and "No study named 'nope'" in flat and "it holds 1 study: 's'" in flat
    assert "start workers after tune prints its first progress" in flat


# -- 6. a real PostgreSQL server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_password_url() -> str:
    """The URL of scripts/postgres.sh's role that logs in with a password (skips where no server can start)."""
    script = str(ROOT / "scripts" / "postgres.sh")
    try:
        start = subprocess.run(["bash", script, "start"], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"scripts/postgres.sh start could not run: {exc}")
    if start.returncode != 0:
        pytest.skip(f"scripts/postgres.sh start failed: {(start.stderr or start.stdout).strip()[-300:]}")
    res = subprocess.run(["bash", script, "password-url"], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        pytest.skip(f"scripts/postgres.sh password-url failed: {res.stderr.strip()}")
    return res.stdout.strip().splitlines()[-1]


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    user = rest.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{rest.rsplit('@', 1)[1]}"


@pytest.mark.postgres
def test_a_wrong_password_says_to_check_the_credentials(pg_password_url: str) -> None:
    wrong = _with_password(pg_password_url, SECRET)
    t0 = time.monotonic()
    message = _open_error(wrong)
    assert time.monotonic() - t0 < 10
    assert 'password authentication failed for user "hyperselect_pw"' in message
    assert "Check the user name ('hyperselect_pw') and the password" in message
    assert SECRET not in message and describe_storage(wrong) in message


@pytest.mark.postgres
def test_a_wrong_user_or_database_is_named(pg_password_url: str) -> None:
    base = pg_password_url.rsplit("/", 1)[0]
    message = _open_error(f"{base}/no_such_db")
    assert 'database "no_such_db" does not exist' in message and "createdb" in message
    host = pg_password_url.rsplit("@", 1)[1]
    message = _open_error(f"postgresql://no_such_role:{SECRET}@{host}")
    assert "Check the user name ('no_such_role')" in message and SECRET not in message


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_the_password_is_in_no_output_message_or_file(
    pg_password_url: str, tmp_path: Path, form: str
) -> None:
    password = pg_password_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    url = pg_password_url
    if form == "query":
        user = url.split("://", 1)[1].split(":", 1)[0]
        url = f"postgresql://{url.rsplit('@', 1)[1]}?user={user}&password={password}"
    out = tmp_path / "out"
    study = f"pw-{uuid.uuid4().hex[:8]}"
    args = ["tune", "iris", "--trials", "3", "--max-epochs", "3", "--storage", url, "--study", study]
    res = CliRunner().invoke(_app(), [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert password not in res.output
    for path in (p for p in out.rglob("*") if p.is_file()):  # model/ is a folder
        assert password not in path.read_text(encoding="utf-8", errors="replace"), path
    stored = json.loads((out / "result.json").read_text())["storage"]
    assert stored == describe_storage(url) and "hyperselect_pw" in stored
    res = CliRunner().invoke(_app(), args)  # the study exists now: an error that names the storage
    assert res.exit_code == 1 and "already exists" in res.output and password not in res.output


# ------------------------------------------------------------------------- a lock left by a killed writer ---

_STALE_LOCK = """
import os, sys, time
from pathlib import Path
import optuna
from hyperselect.search import storage
storage.LOCK_GRACE_SECONDS = 2
os.chdir(sys.argv[1])
path = Path("runs/s/study.journal")  # relative, as the CLI's default --out gives it
s = storage.open_storage(str(path))
optuna.create_study(storage=s, study_name="a")
lock = s._backend._lock  # a writer killed while holding the lock leaves its link behind
assert lock.acquire()
t0 = time.monotonic()
s2 = storage.open_storage(str(path))  # the resume
optuna.create_study(storage=s2, study_name="b")
print("resumed after", round(time.monotonic() - t0, 1))
"""


def test_a_lock_left_by_a_killed_writer_on_a_relative_journal_path_is_released(tmp_path: Path) -> None:
    """Before: the lock linked the path as typed; Optuna reads a lock's age through its link, which resolves
    from the link's folder, so on a relative path it never could, and a resume after kill -9 waited forever."""
    r = subprocess.run(
        [sys.executable, "-c", _STALE_LOCK, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed after" in r.stdout and float(r.stdout.split()[-1]) < 20


def test_a_dangling_lock_of_an_earlier_version_is_removed_once_stale(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    path = Path("runs/s/study.journal")
    optuna.create_study(storage=open_storage(str(path)), study_name="a")
    lock = Path(f"{path}.lock")
    os.symlink(str(path), lock)  # relative: dangling from its folder, as earlier versions left it
    assert lock.is_symlink() and not lock.exists()
    fresh = time.time()
    os.utime(lock, (fresh, fresh), follow_symlinks=False)
    monkeypatch.setattr(storage, "LOCK_GRACE_SECONDS", 30)
    open_storage(str(path))
    assert lock.is_symlink()  # young: maybe a live writer's; left to the lock's own waiting
    old = time.time() - 60
    os.utime(lock, (old, old), follow_symlinks=False)
    optuna.create_study(storage=open_storage(str(path)), study_name="b")  # would wait forever before
    assert not lock.is_symlink()


@pytest.mark.parametrize(
    ("installed", "driver"),
    [
        ({"psycopg", "psycopg2"}, "psycopg"),
        ({"psycopg"}, "psycopg"),
        ({"psycopg2"}, "psycopg2"),
        (set(), "psycopg"),
    ],
)
def test_a_plain_postgresql_url_uses_the_driver_sqlalchemy_defaults_to(
    monkeypatch: pytest.MonkeyPatch, installed: set[str], driver: str
) -> None:
    """psycopg (3) is what SQLAlchemy, optuna.load_study and optuna-dashboard use for ``postgresql://``: the same
    URL must open the same way in hyperselect and in them; psycopg2 only where it is the one installed, and with
    neither the hint names psycopg, the ``[postgres]`` extra's driver."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            (object() if name in installed else None) if name in ("psycopg", "psycopg2") else real(name, *a)
        ),
    )
    url = "postgresql://u@h/db"
    assert storage._default_driver(url, "postgresql") == (f"postgresql+{driver}://u@h/db", driver)


_POP_QUEUED = """
import json, sys
import optuna
from hyperselect.search.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.load_study(study_name="q", storage=open_storage(sys.argv[1]))
print(json.dumps([study.ask().number for _ in range(int(sys.argv[2]))]))
"""


def test_sqlite_hands_each_queued_trial_to_one_process(tmp_path: Path) -> None:
    """SQLite ignores the row lock Optuna takes to hand a queued trial to one process: four processes popping
    200 queued trials took 23 of them twice (and workers trained those twice).  Every transaction on an SQLite
    storage now begins with the write lock, so each queued trial goes to exactly one process."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    study = optuna.create_study(study_name="q", storage=open_storage(url))
    for k in range(120):
        study.enqueue_trial({"x": k}, skip_if_exists=False)
    procs = [
        subprocess.Popen([sys.executable, "-c", _POP_QUEUED, url, "40"], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    popped = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        popped += json.loads(out)
    assert sorted(popped) == list(range(120))  # each queued trial once, none created beside them
    trials = optuna.load_study(study_name="q", storage=open_storage(url)).get_trials()
    assert [t.state.name for t in trials] == ["RUNNING"] * 120
