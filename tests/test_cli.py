"""The typer CLI, through its test runner: help, train, errors as red messages with exit 1, demo, extensions."""

from __future__ import annotations

import json
import logging
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from hyperselect import cli
from hyperselect import demo as demo_mod
from hyperselect.cli import app, mount_extensions, parse_overrides
from hyperselect.demo import DEMO_STEPS, DemoStep, add_demo_step
from hyperselect.errors import ConfigError
from hyperselect.nn.config import CNNConfig, MLPConfig

torch.set_num_threads(1)  # shared CPU: avoid OpenMP oversubscription

runner = CliRunner()
FAST = ["--set", "max_epochs=5", "--set", "hidden=16"]


pytestmark = pytest.mark.usefixtures("restore_cli_logging")


def run(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    # rich wraps long lines at the terminal width; compare text with whitespace normalised
    result.flat = " ".join(result.output.split())  # type: ignore[attr-defined]
    return result


def assert_clean_failure(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # exited on purpose, not an exception escaping
    assert result.flat.startswith("error: ")
    for n in needles:
        assert n in result.flat, (n, result.flat)


def test_help_lists_the_commands():
    r = run("--help")
    assert r.exit_code == 0
    for name in ("train", "demo"):
        assert name in r.output
    assert run("train", "--help").exit_code == 0
    assert run("--version").flat.startswith("hyperselect ")


def test_train_classification_with_categorical_missing_values_and_string_target(
    tiny_classification_csv, tmp_path
):
    out = tmp_path / "run"
    r = run("train", tiny_classification_csv, "--target", "target", *FAST, "--out", out)
    assert r.exit_code == 0, r.output
    assert "accuracy" in r.output and "test" in r.output and "multiclass" in r.output
    doc = json.loads((out / "result.json").read_text())
    m = doc["metrics"]
    assert 0.0 <= m["test_accuracy"] <= 1.0 and {"train_accuracy", "valid_accuracy", "test_f1_macro"} <= set(
        m
    )
    assert doc["config"]["hidden"] == [16] and doc["config"]["max_epochs"] == 5
    assert len(doc["history"]["train_loss"]) == 5 and isinstance(doc["diagnostics"], list)
    assert doc["data"]["classes"] == ["bird", "cat", "dog"]
    from safetensors.torch import load_file

    weights = load_file(out / "model.safetensors")
    assert weights["linears.0.weight"].shape[0] == 16


def test_train_prints_a_file_name_with_markup_as_written(tiny_classification_csv, tmp_path):
    # rich reads "[bold]" as a style (it vanished from the line) and "[/x]" as a closing tag (a crash)
    data = tmp_path / "[bold] data.csv"
    data.write_text(Path(tiny_classification_csv).read_text())
    out = tmp_path / "[/x]"
    r = run("train", data, "--target", "target", *FAST, "--out", out)
    assert r.exit_code == 0, r.output
    assert "[bold] data.csv" in r.flat and (out / "result.json").is_file()


def test_train_regression_reports_r2(tiny_regression_csv, tmp_path):
    r = run("train", tiny_regression_csv, "-t", "target", *FAST, "--set", "lr=0.01", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "result.json").read_text())["metrics"]
    assert {"test_r2", "test_rmse", "test_mae", "train_r2"} <= set(m)
    assert "r2" in r.output


def test_train_cnn_and_task_override(tiny_classification_csv, tmp_path):
    r = run(
        "train",
        tiny_classification_csv,
        "-t",
        "target",
        "--arch",
        "cnn",
        "--set",
        "channels=4",
        "--set",
        "max_epochs=2",
        "--task",
        "multiclass",
        "-o",
        tmp_path,
    )
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "result.json").read_text())["config"]["arch"] == "cnn"


def test_missing_file(tmp_path):
    assert_clean_failure(run("train", tmp_path / "nope.csv", "--target", "y"), "nope.csv")


def test_unknown_target_lists_the_columns(tiny_classification_csv):
    assert_clean_failure(
        run("train", tiny_classification_csv, "--target", "label"), "'label'", "'color'", "'target'"
    )


@pytest.mark.parametrize(
    ("setting", "needles"),
    [
        ("lrr=0.1", ["unknown hyperparameter 'lrr'", "Did you mean 'lr'?"]),
        ("lr=fast", ["'lr' hyperparameter must be a float", "'fast'"]),
        ("lr=-1", ["The 'lr' parameter of MLPConfig must be a float in (0, inf). Got -1.0."]),
        ("hidden=64,x", ["'hidden' hyperparameter must be a list of ints"]),
        ("activation=swish", ["The 'activation' parameter of MLPConfig must be one of"]),
        ("lr", ["--set expects key=value"]),
    ],
)
def test_bad_hyperparameters_exit_1_with_a_clear_message(tiny_classification_csv, setting, needles):
    assert_clean_failure(run("train", tiny_classification_csv, "-t", "target", "--set", setting), *needles)


def test_bad_task_and_arch(tiny_classification_csv):
    assert_clean_failure(
        run("train", tiny_classification_csv, "-t", "target", "--task", "ranking"),
        "'--task' option must be one of",
    )
    assert_clean_failure(run("train", tiny_classification_csv, "-t", "target", "--arch", "rnn"), "'--arch'")


def test_regression_target_that_is_not_numeric(tiny_classification_csv):
    assert_clean_failure(
        run("train", tiny_classification_csv, "-t", "target", "--task", "regression"), "target"
    )


def test_parse_overrides_types_values_by_field():
    got = parse_overrides(
        ["hidden=[64, 32]", "patience=none", "lr=3e-3", "batch_size=32", "activation=gelu", "grad_clip=1"],
        MLPConfig,
    )
    assert got == {
        "hidden": (64, 32),
        "patience": None,
        "lr": 3e-3,
        "batch_size": 32,
        "activation": "gelu",
        "grad_clip": 1.0,
    }
    assert parse_overrides(["hidden=()"], MLPConfig) == {"hidden": ()}
    assert parse_overrides(["channels=8,16"], CNNConfig) == {"channels": (8, 16)}
    with pytest.raises(ConfigError, match="must be an int"):
        parse_overrides(["batch_size=3.5"], MLPConfig)


@pytest.mark.parametrize(
    ("flags", "level"),
    [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG), (["--quiet"], logging.ERROR)],
)
def test_verbosity_configures_logging(flags, level):
    run(*flags, "demo", "--only", "nothing")  # the root callback runs before the command fails
    assert logging.getLogger("hyperselect").level == level


def test_demo_steps_are_a_list_that_is_easy_to_extend(monkeypatch, tmp_path):
    monkeypatch.setattr(demo_mod, "DEMO_STEPS", list(DEMO_STEPS))
    calls = []
    add_demo_step(
        DemoStep("extra", "An extra step", lambda ctx: calls.append(ctx.quick) or {"ok": 1}), after="digits"
    )
    assert [s.name for s in demo_mod.DEMO_STEPS][:3] == ["digits", "extra", "mnist1d"]
    r = run("demo", "--quick", "--only", "extra", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert calls == [True]
    steps = json.loads((tmp_path / "demo.json").read_text())["steps"]
    assert list(steps) == ["extra"] and steps["extra"]["ok"] == 1
    assert_clean_failure(run("demo", "--only", "nope"), "'--only' option must name demo steps")


def test_demo_quick_digits(tmp_path):
    r = run("demo", "--quick", "--only", "digits", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    acc = json.loads((tmp_path / "demo.json").read_text())["steps"]["digits"]["test_accuracy"]
    assert acc >= 0.95 and "test accuracy" in r.output


@pytest.mark.slow
def test_demo_quick_everything(tmp_path):
    r = run("demo", "--quick", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    steps = json.loads((tmp_path / "demo.json").read_text())["steps"]
    assert steps["digits"]["test_accuracy"] >= 0.95 and steps["mnist1d"]["test_accuracy"] > 0.8
    assert steps["verdict"]["mnist1d"]["recommendation"] == "network"
    assert Path(steps["report"]["report"]).is_file() and "Report:" in r.output


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three would-be CLI parts: one needing a missing package, one with a bug, one fine."""
    pkg = tmp_path / "fakeparts"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "needs_dep.py").write_text("import a_package_that_is_not_installed_xyz\n")
    (pkg / "buggy.py").write_text("raise RuntimeError('bug in a part')\n")
    (pkg / "fine.py").write_text(
        textwrap.dedent("""
        import typer
        app = typer.Typer()
        @app.command()
        def hello(name: str) -> None:
            print(f"hello {name}")
        def register(app):
            @app.command()
            def ping() -> None:
                print("pong")
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fakeparts"
    for name in [m for m in sys.modules if m.startswith("fakeparts")]:
        del sys.modules[name]


def _fresh_app() -> typer.Typer:
    return typer.Typer(cls=cli._ErrorHandlingGroup)


def test_unwritten_parts_are_skipped_and_missing_dependencies_get_a_stub(monkeypatch, fake_parts):
    monkeypatch.setattr(
        cli,
        "_REGISTERING",
        {
            "hyperselect.cli_not_written_yet": ("later",),
            "fakeparts.fine": ("ping",),
            "fakeparts.needs_dep": ("needy",),
        },
    )
    monkeypatch.setattr(cli, "_SUB_APPS", {"fakeparts.fine": "hi", "hyperselect.cli_nor_this": "x"})
    target = _fresh_app()
    mount_extensions(target)
    names = [c.name or c.callback.__name__ for c in target.registered_commands]  # type: ignore[union-attr]
    assert "later" not in names and "x" not in names
    assert runner.invoke(target, ["ping"]).output.strip() == "pong"
    # a one-command app becomes the command itself
    assert runner.invoke(target, ["hi", "you"]).output.strip() == "hello you"
    r = runner.invoke(target, ["needy", "--any", "args"])
    assert (
        r.exit_code == 1 and "a_package_that_is_not_installed_xyz" in r.output and "pip install" in r.output
    )


def test_other_errors_in_a_part_are_not_swallowed(monkeypatch, fake_parts):
    monkeypatch.setattr(cli, "_REGISTERING", {"fakeparts.buggy": ("b",)})
    monkeypatch.setattr(cli, "_SUB_APPS", {})
    with pytest.raises(RuntimeError, match="bug in a part"):
        mount_extensions(_fresh_app())


def test_a_data_warning_is_one_line_of_its_own_words(tmp_path):
    # it was shown twice: once as "/work/.../cli_search.py:84: DataWarning: ..." with our source line, once as
    # the log line
    rows = ["a,b,label"] + [f"{i},{i * 7 % 11},{'x' if i % 2 else 'y'}" for i in range(30)]
    rows[5] = "4,6,"
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n")
    r = run("advise", path, "--target", "label")
    assert r.exit_code == 0, r.output
    assert r.flat.count("dropped 1 of 30 rows whose target 'label' is missing") == 1
    assert "DataWarning" not in r.output and ".py:" not in r.output


def test_task_option_on_advise_tune_and_compare(tmp_path):
    # a 0-10 rating (11 integer values) is read as 11 classes; --task regression reads it as numbers
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    rows = ["x,noise,score"] + [
        f"{a:.4f},{b:.4f},{int(np.clip(round(5 + 2 * a), 0, 10))}"
        for a, b in zip(x, rng.normal(size=200), strict=True)
    ]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(rows) + "\n")
    r = run("advise", path, "-t", "score")
    assert r.exit_code == 0 and "multiclass" in r.output
    r = run("advise", path, "-t", "score", "--task", "regression")
    assert r.exit_code == 0 and "regression" in r.output and "multiclass" not in r.output
    out = tmp_path / "run"
    r = run(
        "tune",
        path,
        "-t",
        "score",
        "--task",
        "regression",
        "--trials",
        "2",
        "--max-epochs",
        "3",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    assert json.loads((out / "result.json").read_text())["task"] == "regression"
    r = run("compare", "digits", "--task", "regression", "--quick")
    assert r.exit_code == 1 and "built-in data set" in r.output
    r = run("advise", path, "-t", "score", "--task", "ordinal")
    assert r.exit_code == 1 and "'--task' option must be one of" in r.flat


def test_fix_option_fixes_dimensions_on_advise_and_tune(tmp_path):
    """An audit: fixing one value needed a --space file."""
    r = runner.invoke(
        app, ["advise", "iris", "--fix", "optimizer=SGD", "--fix", "lr=1e-3", "--fix", "hidden=16,8"]
    )
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "optimizer 'sgd' (fixed to 'sgd' by the user)" in flat and "lr 0.001 (fixed" in flat
    assert "hidden (16, 8)" in flat and "n_layers None" not in flat and "width None" not in flat
    r = runner.invoke(app, ["advise", "iris", "--fix", "lr=abc"])
    assert r.exit_code == 1 and "--fix lr=abc: Cannot fix 'lr' to 'abc'" in " ".join(r.output.split())
    r = runner.invoke(app, ["advise", "iris", "--fix", "lr"])
    assert r.exit_code == 1 and "expected NAME=VALUE" in r.output
    out = tmp_path / "t"
    r = runner.invoke(
        app,
        ["tune", "iris", "--trials", "3", "--max-epochs", "3", "--fix", "activation=tanh", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["best_config"]["activation"] == "tanh" and doc["space"]["fixed"]["activation"] == "tanh"
