"""``hyperselect predict --encoding/--sep`` (and ``encoding=``/``sep=`` in the Python API), a UTF-8 file read as
UTF-8 where training read latin-1, and new categories said however few rows hold them.

The audit: a model trained with ``--encoding latin-1`` read a UTF-8 file as latin-1 without a word ('ZÃ¼rich':
every row's category unseen, the predictions changed); the other way round the error said "--encoding latin-1 on
the command line" and "--sep", which predict did not have; a new category in under 10 % of the rows went to INFO
only.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import typer
from testkit import train_saved
from typer.testing import CliRunner

from hyperselect import load_model
from hyperselect.cli import app
from hyperselect.data import prepare_tabular
from hyperselect.data.tabular import DataWarning
from hyperselect.errors import ConfigError
from hyperselect.model_io import save_model
from hyperselect.nn.config import MLPConfig
from hyperselect.train.trainer import train_network

torch.set_num_threads(1)
pytestmark = pytest.mark.usefixtures("restore_cli_logging")

runner = CliRunner()
CITIES = ["Zürich", "Genève", "Köln", "Paris"]


def _rows(n: int = 60) -> list[list[str]]:
    """The label follows the city, so reading the cities wrong changes the predictions."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        city = CITIES[i % 4]
        rows.append([city, f"{rng.normal():.4f}", "1" if city in ("Zürich", "Köln") else "0"])
    return rows


def _write(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", sep: str = ",") -> Path:
    text = "\n".join(sep.join(r) for r in [["city", "v", "label"], *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def _train(folder: Path, source: Path, **read: str) -> Path:
    return train_saved(folder, source, 8, 30, **read)


@pytest.fixture(scope="module")
def latin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained on a latin-1 file read with encoding='latin-1' (saved as its reading option)."""
    tmp = tmp_path_factory.mktemp("latin")
    return _train(tmp, _write(tmp / "train.csv", _rows(), encoding="latin-1"), encoding="latin-1")


@pytest.fixture(scope="module")
def semicolon_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained on a UTF-8 file read with sep=';' given."""
    tmp = tmp_path_factory.mktemp("semicolon")
    return _train(tmp, _write(tmp / "train.csv", _rows(), sep=";"), sep=";")


def _run(*args: object):
    result = runner.invoke(app, [str(a) for a in args])
    result.flat = " ".join(result.output.split())  # type: ignore[attr-defined]
    return result


def _predict_options() -> set[str]:
    command = typer.main.get_command(app).commands["predict"]  # type: ignore[attr-defined]
    return {opt for p in command.params for opt in p.opts if opt.startswith("--")}


def _named_options(message: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", message))


# ------------------------------------------------------------------------------ the encoding
def test_a_utf8_file_is_read_as_utf8_where_training_read_latin1(latin_model: Path, tmp_path: Path) -> None:
    model = load_model(latin_model)
    new = _rows(12)
    latin = _write(tmp_path / "latin.csv", new, encoding="latin-1")
    utf8 = _write(tmp_path / "utf8.csv", new)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the training's own encoding: nothing to say
        expected = model.predictions(latin)
    with pytest.warns(
        DataWarning, match=r"utf8.csv' is valid UTF-8 .*'ü' on line 2.* read as UTF-8, not as latin-1"
    ) as seen:
        got = model.predictions(utf8)
    assert not [w for w in seen if "not seen in training" in str(w.message)]  # was: every row's city unseen
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert "encoding='latin-1' (--encoding latin-1)" in str(seen[0].message)

    # asked for latin-1, it is read as latin-1: 'ZÃ¼rich' is no city of training's
    with pytest.warns(DataWarning, match="not seen in training.*'ZÃ¼rich'"):
        model.predictions(utf8, encoding="latin-1")
    # a BOM says UTF-8 too (latin-1 would have put 'ï»¿' into the first column's name)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + utf8.read_bytes())
    with pytest.warns(DataWarning, match="read as UTF-8"):
        pd.testing.assert_frame_equal(model.predictions(bom), expected, check_exact=True)


def test_predict_encoding_option_both_ways(latin_model: Path, semicolon_model: Path, tmp_path: Path) -> None:
    new = _rows(12)
    latin = _write(tmp_path / "latin.csv", new, encoding="latin-1")
    utf8 = _write(tmp_path / "utf8.csv", new)
    expected = load_model(latin_model).predictions(latin).to_csv(index=False)

    r = _run("predict", latin_model, utf8)
    assert r.exit_code == 0, r.output
    assert "is valid UTF-8" in r.flat and "not seen in training" not in r.flat
    assert r.stdout == expected
    r = _run("predict", latin_model, utf8, "--encoding", "latin-1")
    assert r.exit_code == 0, r.output
    assert "not seen in training" in r.flat and "is valid UTF-8" not in r.flat

    # trained on UTF-8: a latin-1 file fails loudly, with a hint predict can follow
    semicolon_latin = _write(tmp_path / "sl.csv", new, encoding="latin-1", sep=";")
    r = _run("predict", semicolon_model, semicolon_latin)
    assert r.exit_code == 1 and "cannot be decoded as utf-8" in r.flat, r.output
    named = _named_options(r.flat)
    assert "--encoding" in named and named <= _predict_options(), named
    r = _run("predict", semicolon_model, semicolon_latin, "--encoding", "latin-1")
    assert r.exit_code == 0, r.output
    semicolon_utf8 = _write(tmp_path / "su.csv", new, sep=";")
    assert r.stdout == load_model(semicolon_model).predictions(semicolon_utf8).to_csv(index=False)


# ------------------------------------------------------------------------------ the delimiter
def test_predict_sep_option_overrides_the_training_delimiter(semicolon_model: Path, tmp_path: Path) -> None:
    new = _rows(12)
    comma = _write(tmp_path / "comma.csv", new)
    expected = load_model(semicolon_model).predictions(_write(tmp_path / "semi.csv", new, sep=";"))
    r = _run("predict", semicolon_model, comma)
    assert r.exit_code == 1 and "--sep" in r.flat, r.output
    assert _named_options(r.flat) <= _predict_options(), r.flat
    for given in (",", "comma"):
        r = _run("predict", semicolon_model, comma, "--sep", given)
        assert r.exit_code == 0, r.output
        assert r.stdout == expected.to_csv(index=False)
    r = _run("predict", semicolon_model, comma, "--sep", "ab")
    assert r.exit_code == 2 and "is not a delimiter" in r.flat
    pd.testing.assert_frame_equal(
        load_model(semicolon_model).predictions(comma, sep=","), expected, check_exact=True
    )

    # a ragged line: the hint names --sep, which predict has
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("city;v\nParis;0.5\nKöln;0.1;7\n", encoding="utf-8")
    r = _run("predict", semicolon_model, ragged)
    assert r.exit_code == 1 and "wrong number of fields" in r.flat and "(--sep)" in r.flat, r.output
    assert _named_options(r.flat) <= _predict_options(), r.flat


def test_reading_options_for_a_dataframe_are_refused(semicolon_model: Path) -> None:
    frame = pd.DataFrame({"city": ["Paris"], "v": [0.1]})
    model = load_model(semicolon_model)
    assert len(model.predict(frame)) == 1
    with pytest.raises(ConfigError, match=r"encoding='utf-8' tells how to read a table file.*DataFrame"):
        model.predictions(frame, encoding="utf-8")
    with pytest.raises(ConfigError, match="sep=','"):
        model.predict_proba(frame, sep=",")


def test_predict_number_format_and_missing_markers_override_the_training_ones(
    semicolon_model: Path, tmp_path: Path
) -> None:
    """The model read '0.5' in training; a file of '0,5' or of '-' for missing names the options that read it,
    and they do (CLI and Python alike)."""
    new = _rows(12)
    expected = load_model(semicolon_model).predictions(_write(tmp_path / "dot.csv", new, sep=";"))
    comma = _write(tmp_path / "comma.csv", [[c, v.replace(".", ","), y] for c, v, y in new], sep=";")
    r = _run("predict", semicolon_model, comma)
    assert r.exit_code == 1 and "(--decimal ," in r.flat, r.output
    assert _named_options(r.flat) <= _predict_options(), r.flat
    r = _run("predict", semicolon_model, comma, "--decimal", ",")
    assert r.exit_code == 0, r.output
    assert r.stdout == expected.to_csv(index=False)
    pd.testing.assert_frame_equal(load_model(semicolon_model).predictions(comma, decimal=","), expected)

    dashed = [list(row) for row in new]
    dashed[3][1] = "-"
    dash = _write(tmp_path / "dash.csv", dashed, sep=";")
    r = _run("predict", semicolon_model, dash)
    assert r.exit_code == 1 and "(--na-value -)" in r.flat, r.output
    assert _named_options(r.flat) <= _predict_options(), r.flat
    r = _run("predict", semicolon_model, dash, "--na-value", "-")
    assert r.exit_code == 0, r.output
    got = load_model(semicolon_model).predictions(dash, na_values=["-"])
    assert r.stdout == got.to_csv(index=False)
    same = [i for i in range(len(new)) if i != 3]
    assert got.iloc[same].equals(expected.iloc[same])  # only the row with the gap may differ
    with pytest.raises(ConfigError, match=r"decimal=','.*DataFrame"):
        load_model(semicolon_model).predict(pd.DataFrame({"city": ["Paris"], "v": [0.1]}), decimal=",")
    with pytest.raises(ConfigError, match=r"unknown reading option.*'delimiter'"):
        load_model(semicolon_model).predict(comma, delimiter=";")  # type: ignore[call-arg]


# ------------------------------------------------------------------------------ new categories
def test_a_few_rows_with_a_new_category_are_said_in_one_line(
    semicolon_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = _rows(40)
    rows[4][0] = "Oslo"
    rows[9][0] = "Oslo"
    new = _write(tmp_path / "few.csv", rows, sep=";")
    model = load_model(semicolon_model)
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="hyperselect"):
        warnings.simplefilter("error", DataWarning)  # under the share: said, not a DataWarning
        model.predict(new)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1, said
    assert (
        "few.csv': 2 of 40 row(s) have a category not seen in training (city: 'Oslo'); such a category is "
        in (said[0])
    )
    assert "encoded as none of the known ones" in said[0]

    r = _run("predict", semicolon_model, new)
    assert r.exit_code == 0, r.output
    assert "2 of 40 row(s) have a category not seen in training (city: 'Oslo')" in r.flat

    # above the share: the louder per-column DataWarning, as before
    many = [list(row) for row in rows]
    for row in many[:10]:
        row[0] = "Oslo"
    with pytest.warns(DataWarning, match="column 'city' holds categories not seen in training in 10 of 40"):
        model.predict(_write(tmp_path / "many.csv", many, sep=";"))


# ------------------------------------------------------------------------------ time zones
def test_dates_written_with_another_time_zone_form_than_training_are_warned_about(tmp_path: Path) -> None:
    """Training's dates had no offset (read as UTC); '+02:00' on the same clock times is another instant."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01 08:00", periods=80, freq="7h")
    rows = [[d.strftime("%Y-%m-%dT%H:%M"), f"{rng.normal():.3f}", str(int(d.hour < 12))] for d in days]
    train = tmp_path / "train.csv"
    train.write_text("when,v,label\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = prepare_tabular(train, "label", random_state=0)
    assert data.table is not None and data.table.zones == {"when": "none"}
    config = MLPConfig(hidden=(4,), max_epochs=3)
    res = train_network(
        config, data.X_train, data.y_train, data.X_valid, data.y_valid, task=data.task, n_classes=2
    )
    model = load_model(save_model(tmp_path / "model", res.model, config, data))
    assert model.schema.zones == {"when": "none"}

    def predict_warnings(cells: list[str]) -> list[str]:
        new = tmp_path / "new.csv"
        new.write_text("when,v\n" + "\n".join(f"{c},0.1" for c in cells) + "\n", encoding="utf-8")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.predict(new)
        return [str(w.message) for w in caught if "time zone" in str(w.message)]

    assert predict_warnings(["2024-03-01T09:00", "2024-03-01"]) == []
    said = predict_warnings(["2024-03-01T09:00", "2024-03-01T10:00+02:00"])
    assert len(said) == 1 and "'2024-03-01T10:00+02:00' at line 3" in said[0] and "'when'" in said[0], said
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2024-03-01 09:00"]).tz_localize("Europe/Paris"), "v": [0.1]}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.predict(frame)
    assert any("with a time zone offset" in str(w.message) for w in caught)
