"""``hyperselect text``: the thin CLI over loading, the models and the reports, run with typer's test runner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from testkit import have_text_extra
from typer.testing import CliRunner

from hyperselect.cli_text import _balance_value, app
from hyperselect.errors import ConfigError

runner = CliRunner()

WORDS = {
    "red": ["cherry", "tannin", "plum", "oak", "leather"],
    "white": ["citrus", "crisp", "lemon", "mineral", "peach"],
}


def _csv(path: Path, n: int = 14) -> Path:
    rng = np.random.default_rng(0)
    lines = ["note,colour,extra"]
    for colour, words in WORDS.items():
        for i in range(n):
            lines.append(f"{' '.join(rng.choice(words, 3))} wine {i},{colour},x")
    lines.append(lines[1].replace(",x", ",dup"))  # an exact duplicate of the first note
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_balance_value_parsing() -> None:
    assert _balance_value(False, None) is False
    assert _balance_value(True, None) is True
    assert _balance_value(True, ["7"]) == 7
    with pytest.raises(ConfigError, match="Unexpected argument"):
        _balance_value(False, ["7"])
    with pytest.raises(ConfigError, match="Unexpected argument"):
        _balance_value(True, ["many"])


def test_missing_column_exits_1_with_message(tmp_path: Path) -> None:
    p = _csv(tmp_path / "w.csv")
    res = runner.invoke(app, [str(p), "--text", "note", "--label", "country"])
    assert res.exit_code == 1
    assert "no label column 'country'" in res.output and "'colour'" in res.output


def test_balance_number_before_the_data_file_says_what_happened(tmp_path: Path) -> None:
    p = _csv(tmp_path / "w.csv")
    res = runner.invoke(app, ["--balance", "10", str(p), "--text", "note", "--label", "colour"])
    assert res.exit_code == 1
    flat = " ".join(res.output.split())
    assert "'10' was read as the data file" in flat and f"hyperselect text {p} --balance 10" in flat


def test_usage_line_hides_the_balance_number_argument() -> None:
    from hyperselect.cli import app as main_app

    res = runner.invoke(main_app, ["text", "--help"], env={"COLUMNS": "200"})
    usage = next(line for line in res.output.splitlines() if "Usage:" in line)
    assert usage.split() == ["Usage:", "hyperselect", "text", "[OPTIONS]", "{data}"]


def test_stray_argument_exits_1(tmp_path: Path) -> None:
    p = _csv(tmp_path / "w.csv")
    res = runner.invoke(app, [str(p), "extra", "--text", "note", "--label", "colour"])
    assert res.exit_code == 1 and "Unexpected argument" in res.output


@pytest.mark.skipif(not have_text_extra(), reason="the [text] extra is not installed")
def test_text_command_end_to_end(tmp_path: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # markup in the file name and the texts: rich reads "[bold]" as a style (it vanished from the line) and
    # "[/quote]" as a closing tag (it crashed the command once the models were fitted)
    p = tmp_path / "[bold] w.csv"
    p.write_text(_csv(tmp_path / "w.csv").read_text().replace(" wine ", " [/quote] wine "), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            str(p),
            "--text",
            "note",
            "--label",
            "colour",
            "--balance",
            "12",
            "--out",
            str(out),
            "--trials",
            "2",
            "--timeout",
            "15s",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--test-size",
            "0.3",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Verdict:" in res.output and "macro avg" in res.output and "[bold] w.csv" in res.output
    result = json.loads((out / "text_result.json").read_text())
    assert result["data"]["n_duplicates_dropped"] == 1
    assert result["data"]["class_counts"] == {"red": 12, "white": 12}
    assert set(result["models"]) == {"nb", "tfidf_lr", "emb_lr", "emb_net", "combo_net"}
    for m in result["models"].values():
        assert 0.0 <= m["accuracy"] <= 1.0 and "macro avg" in m["report"]
    assert result["verdict_details"]["n_test"] == result["split"]["test"]
    assert not [f for f in out.iterdir() if f.name.endswith(".tmp")]


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_out_of_range_is_refused_as_an_option(tmp_path: Path, seed: str) -> None:
    """Both were tracebacks from numpy or scikit-learn inside the split, after the file was read."""
    res = runner.invoke(
        app, [str(_csv(tmp_path / "w.csv")), "--text", "note", "--label", "colour", "--seed", seed]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Invalid value for '--seed'" in " ".join(res.output.split())
