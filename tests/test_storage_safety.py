"""Storage safety: a --storage path that is not a journal is refused and left byte-identical, a corrupt journal is
refused naming its line, database URLs missing their '//' or their file are refused, and a worker's storage that
does not exist is an error that creates nothing."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from hyperselect.errors import StorageError
from hyperselect.search.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _journal(path: Path, n_trials: int = 2) -> bytes:
    """A real journal written by Optuna through open_storage: a study with a few trials."""
    study = optuna.create_study(storage=open_storage(path), study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n_trials)
    return path.read_bytes()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- 1. a file that is not a journal is never changed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "precious.csv",
            b"a,b,label\n1,2,0\n3,4,1",
        ),  # the QA case: its last row was dropped as a "torn record"
        ("result.json", b'{\n  "best": 1\n}'),  # lost its closing brace
        ("one.json", b'{"best": 1}'),  # a single unterminated JSON line: not a cut-short journal record
        ("notes.txt", b"hello\nworld\n"),
    ],
    ids=["csv", "pretty-json", "one-line-json", "text"],
)
def test_a_file_that_is_not_a_journal_is_refused_and_left_unchanged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING), pytest.raises(StorageError) as err:
        open_storage(path)
    message = str(err.value)
    assert f"'{path}' is not an Optuna journal" in message
    assert "line 1 is not a journal record (expected a JSON object with an op_code)" in message
    assert path.read_bytes() == content
    assert _files(tmp_path) == [name]  # no lock file left behind either
    assert "dropping" not in caplog.text


def test_cli_tune_refuses_a_csv_as_storage_and_keeps_it(
    tiny_classification_csv: Path, tmp_path: Path
) -> None:
    import typer

    from hyperselect.cli_search import register

    app = typer.Typer()
    register(app)
    precious = tmp_path / "precious.csv"
    precious.write_bytes(b"a,b,label\n1,2,0\n3,4,1")
    args = [
        "tune",
        str(tiny_classification_csv),
        "--target",
        "target",
        "--trials",
        "3",
        "--storage",
        str(precious),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1, res.output
    assert "is not an Optuna journal" in res.output and "precious.csv" in res.output
    assert precious.read_bytes() == b"a,b,label\n1,2,0\n3,4,1"


# -- torn last record: dropped only after journal records ----------------------------------------------------------


def test_a_torn_last_record_of_a_journal_is_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "study.journal"
    good = _journal(path)
    path.write_bytes(good + b'{"op_code":4,"wor')
    with caplog.at_level(logging.WARNING):
        storage = open_storage(path)
    assert "dropping a torn last record (17 bytes)" in caplog.text
    assert path.read_bytes() == good
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == 2


def test_an_unterminated_last_line_that_is_not_a_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.journal"
    content = _journal(path) + b"hello"
    path.write_bytes(content)
    n = content.count(b"\n") + 1
    with pytest.raises(StorageError, match=rf"line {n} is not a journal record .*found 'hello'"):
        open_storage(path)
    assert path.read_bytes() == content


# -- 2. a corrupt journal names its line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            b"{garbage",
            r"it is not valid JSON \(Expecting property name enclosed in double quotes at column 2\)",
        ),
        (b"{}", "it has no op_code"),
        (
            b'{"op_code": 99, "worker_id": "w"}',
            r"its op_code 99 is not one of Optuna's operations \(0 to 10\)",
        ),
        (b"[1,2]", "it is an array, not an object"),
        (b'{"op_code": "4"}', 'its op_code "4" is not one of Optuna\'s operations'),
        (b'{"op_code": true}', "its op_code true is not one of"),
        (b"", "it is empty"),
        (b'{"op_code": 4, "x": "\xff"}', "it is not UTF-8 text"),
    ],
    ids=[
        "bad-json",
        "no-op-code",
        "unknown-op-code",
        "array",
        "string-op-code",
        "bool-op-code",
        "empty",
        "not-utf8",
    ],
)
def test_a_corrupt_line_is_named(tmp_path: Path, line: bytes, problem: str) -> None:
    path = tmp_path / "study.journal"
    lines = _journal(path).splitlines(keepends=True)
    assert len(lines) > 5
    content = b"".join([*lines[:4], line + b"\n", *lines[5:]])
    path.write_bytes(content)
    with pytest.raises(StorageError) as err:
        open_storage(path)
    message = str(err.value)
    assert f"journal file '{path}' is corrupt" in message
    assert "line 5 is not a journal record (expected a JSON object with an op_code): " in message
    assert re.search(problem, message), message
    assert "line 1 column" not in message
    assert path.read_bytes() == content


def test_a_record_optuna_cannot_replay_is_named(tmp_path: Path) -> None:
    path = tmp_path / "study.journal"
    lines = _journal(path).splitlines(keepends=True)
    record = json.dumps({"op_code": 0, "worker_id": "w"}).encode()  # CREATE_STUDY without its study_name
    content = b"".join([*lines[:4], record + b"\n", *lines[5:]])
    path.write_bytes(content)
    with pytest.raises(
        StorageError,
        match=re.escape(f"'{path}': line 5 cannot be replayed by Optuna (KeyError: 'study_name')"),
    ):
        open_storage(path)
    assert path.read_bytes() == content


# -- 3. database URLs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("sqlite:/x.db", "sqlite:///path/to/file.db"),
        ("sqlite:x.db", "sqlite:///path/to/file.db"),
        ("SQLite:/x.db", "sqlite:///path/to/file.db"),
        ("postgresql+psycopg2:/host/db", "postgresql://user@host:port/database"),
        ("mysql:/db", "mysql://user@host:port/database"),
        ("postgres:u:secret@host/db", "postgres://user@host:port/database"),
    ],
)
def test_a_database_url_without_its_slashes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="lacks the '//'") as err:
        open_storage(storage)
    assert expected in str(err.value)
    assert "secret" not in str(err.value)
    assert _files(tmp_path) == []  # no folder named 'sqlite:'


@pytest.mark.parametrize(
    ("storage", "shown"),
    [
        ("postgresql//hyperselect@127.0.0.1:5432/db", "postgresql//...@127.0.0.1:5432/db"),
        ("postgresql+psycopg2//u:secret@h/db", "postgresql+psycopg2//...@h/db"),
        ("sqlite//runs/x.db", "sqlite//runs/x.db"),
    ],
)
def test_a_database_url_without_its_colon_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: str, shown: str
) -> None:
    """``postgresql//host/db`` was a journal file in new folders 'postgresql/host/...': the study the user meant
    for the server stayed on this machine, where no other worker could find it."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="lacks the ':' after") as err:
        open_storage(storage)
    assert shown in str(err.value) and "secret" not in str(err.value)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("must_exist", [False, True])
def test_an_sqlite_url_with_two_slashes_says_three(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, must_exist: bool
) -> None:
    """``sqlite://runs/x.db`` read 'runs' as a host: tune blamed the file, a worker looked for 'x.db'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(StorageError, match="two slashes") as err:
        open_storage("sqlite://runs/x.db", must_exist=must_exist)
    assert "'sqlite:///runs/x.db'" in str(err.value)
    assert _files(tmp_path) == ["runs"]


@pytest.mark.parametrize("storage", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_an_sqlite_url_without_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match=r"names no database file.*'sqlite:///path/to/file\.db'"):
        open_storage(storage)
    assert _files(tmp_path) == []


# -- 4. must_exist (a worker joins an existing study) --------------------------------------------------------------


def test_must_exist_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "study.journal"
    with pytest.raises(StorageError, match=re.escape(f"no journal file at '{path}'")):
        open_storage(path, must_exist=True)
    db = tmp_path / "study.db"
    with pytest.raises(StorageError, match=re.escape(f"no SQLite database file at '{db}'")):
        open_storage(f"sqlite:///{db}", must_exist=True)
    assert _files(tmp_path) == []


def test_must_exist_opens_an_existing_journal(tmp_path: Path) -> None:
    path = tmp_path / "study.journal"
    content = _journal(path)
    storage = open_storage(path, must_exist=True)
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == 2
    assert path.read_bytes() == content
