"""DATA on the command line: a built-in name (train too) or a file with --target; a typo of either is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyperselect.cli import app

runner = CliRunner()


def _flat(output: str) -> str:
    return " ".join(re.sub("[\u2500-\u257f]", " ", output).split())


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
