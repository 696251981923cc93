"""How a table file is read, from the command line: --sep, --encoding, --na-value, --decimal, --thousands reach
the loader in train, advise, tune (and the workers, through the study's data reference) and compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from testkit import flat as _flat
from typer.testing import CliRunner

from hyperselect.cli import app
from hyperselect.cli_search import load_data
from hyperselect.cli_verdict import load_compare_data
from hyperselect.errors import ConfigError, DataError
from hyperselect.search.study import load_data_ref

runner = CliRunner()


def _european(path: Path, n: int = 90) -> Path:
    """';'-separated, decimal commas, '.' thousands groups, '-' for missing, Latin-1 text: a spreadsheet export."""
    rng = np.random.default_rng(0)
    lines = ["gewicht;umsatz;stadt;y"]
    for i in range(n):
        a = rng.uniform(0, 10)
        b = rng.uniform(1000, 5000)
        grouped = f"{b:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
        weight = "-" if i % 9 == 0 else f"{a:.2f}".replace(".", ",")
        city = ["Köln", "Zürich", "Graz"][i % 3]
        lines.append(f"{weight};{grouped};{city};{'p' if a > 5 else 'q'}")
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


READ = [
    "--sep",
    "semicolon",
    "--encoding",
    "latin-1",
    "--decimal",
    ",",
    "--thousands",
    ".",
    "--na-value",
    "-",
]


def test_load_data_reads_and_workers_read_the_same(tmp_path: Path) -> None:
    path = _european(tmp_path / "eu.csv")
    read = {"sep": ";", "encoding": "latin-1", "decimal": ",", "thousands": ".", "na_values": ["-"]}
    d, ref = load_data(str(path), "y", 0, read)
    assert ref["read"] == read  # kept in the study, so a worker reads the file the same way
    again = load_data_ref(ref)
    assert np.array_equal(d.X_train, again.X_train) and np.array_equal(d.y_test, again.y_test)
    # the numbers were read as numbers (one feature each), the city as a category (one-hot, Latin-1 decoded)
    assert "gewicht" in d.feature_names and "umsatz" in d.feature_names
    assert any("Köln" in n for n in d.feature_names)
    with pytest.raises(Exception, match=r"--decimal ,"):
        load_data(str(path), "y", 0, {"sep": ";", "encoding": "latin-1"})


def test_a_worker_without_the_studys_data_file_is_told_where_the_path_comes_from(tmp_path: Path) -> None:
    path = _european(tmp_path / "eu.csv")
    read = {"sep": ";", "encoding": "latin-1", "decimal": ",", "thousands": ".", "na_values": ["-"]}
    _, ref = load_data(str(path), "y", 0, read)
    path.rename(tmp_path / "moved.csv")  # another machine, where the file lives elsewhere
    with pytest.raises(
        DataError, match=r"The study was created from the data file '.*eu\.csv' \(target 'y'\)"
    ):
        load_data_ref(ref)


def test_cli_advise_and_train_take_the_options(tmp_path: Path) -> None:
    path = _european(tmp_path / "eu.csv")
    res = runner.invoke(app, ["advise", str(path), "--target", "y"])
    assert res.exit_code == 1
    # the error names the command-line spelling of the fix, not only the Python keyword
    assert "--encoding latin-1" in _flat(res.output) or "--decimal ," in _flat(res.output)
    res = runner.invoke(app, ["advise", str(path), "--target", "y", *READ])
    assert res.exit_code == 0, res.output
    assert "binary" in res.output and "5 features" in res.output  # 2 numbers + 3 cities one-hot
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["train", str(path), "--target", "y", "--set", "max_epochs=3", *READ, "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert (out / "result.json").is_file() and (out / "report.html").is_file()  # the page comes with the run
    # the recorded command keeps the read options and the seed (an audit: it dropped --thousands)
    import json

    command = json.loads((out / "result.json").read_text())["command"]
    assert command["read"] and command["read"].get("decimal") == "," and command["seed"] == 0, command


def test_bad_read_options_fail_while_parsing(tmp_path: Path) -> None:
    path = _european(tmp_path / "eu.csv")
    for args, expected in (
        (["--sep", "ab"], "is not a delimiter"),
        (["--decimal", ",,"], "is not a single character"),
        (["--thousands", ""], "is not a single character"),
    ):
        res = runner.invoke(app, ["advise", str(path), "--target", "y", *args])
        assert res.exit_code == 2, res.output
        assert expected in _flat(res.output)


def test_read_options_refused_for_builtin_data() -> None:
    with pytest.raises(ConfigError, match="--sep tells how to read a table file"):
        load_data("digits", None, 0, {"sep": ";"})
    with pytest.raises(ConfigError, match="--na-value, --decimal tell"):
        load_compare_data("builtin:digits", None, 0, {"na_values": ["-"], "decimal": ","})
