"""DATA on the command line: a built-in name (train too) or a file with --target; a typo of either is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import flat as _flat
from typer.testing import CliRunner

from hyperselect.cli import app

runner = CliRunner()


def test_train_takes_a_builtin_data_set(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "iris", "--set", "max_epochs=3", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "iris" in res.output and (tmp_path / "run" / "result.json").is_file()
    res = runner.invoke(app, ["train", "iris", "--task", "binary"])
    assert res.exit_code == 1 and "knows its own task" in _flat(res.output)


@pytest.mark.parametrize(
    ("command", "suggestion"),
    [("train", "'digits'"), ("advise", "'digits'"), ("compare", "'builtin:digits'")],
)
def test_a_misspelt_name_is_neither_file_nor_builtin(command: str, suggestion: str) -> None:
    res = runner.invoke(app, [command, "digts"])
    assert res.exit_code == 1
    text = _flat(res.output)
    assert (
        "'digts' is neither a file nor a built-in data set" in text and f"Did you mean {suggestion}?" in text
    )


def test_a_file_needs_its_target(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1,p\n2,q\n")
    for command in ("train", "advise", "compare"):
        res = runner.invoke(app, [command, str(path)])
        assert res.exit_code == 1 and "--target COLUMN is needed" in _flat(res.output), command


@pytest.mark.parametrize(
    "args",
    [
        ["advise", "builtin:iris"],
        ["train", "builtin:iris", "--set", "max_epochs=2"],
        ["tune", "builtin:iris", "--trials", "2", "--max-epochs", "2"],
    ],
)
def test_every_command_takes_compares_builtin_spelling(args: list[str], tmp_path: Path) -> None:
    """compare's help shows builtin:NAME; train, tune and advise refused it while naming 'iris' as built in."""
    extra = ["--out", str(tmp_path / "run")] if args[0] == "tune" else []
    res = runner.invoke(app, [*args, *extra])
    assert res.exit_code == 0, res.output
    assert "iris" in res.output


@pytest.mark.parametrize("command", [["advise"], ["tune", "--trials", "2", "--max-epochs", "2"]])
def test_arch_cnn_on_a_table_reads_rows_as_signals_as_train_does(
    command: list[str], caplog, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """train --arch cnn read a table's rows as 1-D signals; tune and advise refused with a hint to pass
    input_shape=..., which no command-line option can."""
    out = ["--out", str(tmp_path / "run")] if command[0] == "tune" else []
    res = runner.invoke(app, [command[0], "iris", "--arch", "cnn", *command[1:], *out])
    assert res.exit_code == 0, res.output
    assert any("each row is read as a 1-D signal of its 4 columns" in r.getMessage() for r in caplog.records)
