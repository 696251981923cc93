"""The README walkthrough audit of 2026-12-08: what a new user met following the README.

predict blamed a --decimal the user never gave (it came from training); under --no-default-na the stray-token hint
offered NA and ? (values in that mode) and 'nan' cells were still read as missing; the halving reason's '(1)' read
as a count; the help texts listed the missing-value tokens three ways; and README figures and commands that did
not match the code or the stored benchmark.
"""

from __future__ import annotations

import json
import re
import shlex
import statistics
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
import typer
from testkit import flat, train_saved
from typer.testing import CliRunner

from hyperselect import load_model
from hyperselect.cli import app
from hyperselect.data import prepare_arrays, prepare_tabular
from hyperselect.data.tabular import NA_TOKENS
from hyperselect.errors import DataError
from hyperselect.nn.config import MLPConfig

torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.usefixtures("restore_cli_logging")

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _run(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, ["--threads", "1", *(str(a) for a in args)])
    return result.exit_code, flat(result.output)


def _table(path: Path, xs: list[str], *, sep: str = ",") -> Path:
    """``x`` (as written), ``z`` and a label that follows x's sign."""
    rng = np.random.default_rng(0)
    lines = [sep.join(["x", "z", "label"])]
    for x in xs:
        z = f"{rng.normal():.3f}"
        lines.append(
            sep.join([x, z if sep != ";" else z.replace(".", ","), "yes" if x.startswith("0") else "no"])
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _numbers(n: int = 60) -> list[str]:
    rng = np.random.default_rng(1)
    return [
        f"{v:.4f}" for v in rng.uniform(-0.9, 0.9, n)
    ]  # 4 decimals: "0.123" would read as 123 with thousands="."


def _train(folder: Path, source: Path, **read: str) -> Path:
    return train_saved(folder, source, 4, 2, **read)


# ------------------------------------------------------------------------ 2: predict's inherited number format
@pytest.mark.parametrize(
    ("read", "fix"),
    [
        ({"decimal": ","}, ["--decimal", "."]),
        ({"decimal": ",", "thousands": "."}, ["--decimal", ".", "--thousands", ","]),
    ],
)
def test_predict_says_the_number_format_is_the_trainings_and_names_the_option_that_reads_the_file(
    tmp_path: Path, read: dict[str, str], fix: list[str]
) -> None:
    """Trained on a ';' file of decimal commas; a new ',' file of '14.23' numbers.  The message blamed "the number
    format given (--decimal / --thousands)" and said "leave it out": predict was given nothing."""
    numbers = _numbers()
    model = _train(
        tmp_path, _table(tmp_path / "train.csv", [v.replace(".", ",") for v in numbers], sep=";"), **read
    )
    new = _table(tmp_path / "new.csv", numbers[:10])
    with pytest.raises(DataError) as err:
        load_model(model).predictions(new)
    msg = str(err.value)
    assert "number format given" not in msg and "leave it out" not in msg, msg
    assert "the training file's number format (decimal ','" in msg, msg
    assert f"({' '.join(fix)})" in msg and "as in the training data" in msg, msg
    code, out = _run("predict", model, new)
    assert code == 1 and " ".join(fix) in out, out
    code, out = _run("predict", model, new, *fix)  # the option it names reads the file
    assert code == 0, out


def test_a_number_format_given_for_the_new_file_is_said_to_be_given(tmp_path: Path) -> None:
    """``predictions(new, decimal=',')`` on a model trained on '.' said "expected numbers such as 1234,5, as in
    the training data": the training data had 1234.5."""
    numbers = _numbers()
    model = load_model(_train(tmp_path, _table(tmp_path / "train.csv", numbers)))
    new = _table(tmp_path / "new.csv", numbers[:10])
    with pytest.raises(DataError) as err:
        model.predictions(new, decimal=",")
    msg = str(err.value)
    assert "as in the training data" not in msg, msg
    assert "expected numbers such as 1234,5, as given for this file" in msg, msg
    assert "The number format given for this file (decimal ',') is not this column's: leave it out" in msg, (
        msg
    )
    assert len(model.predictions(new)) == 10


# ------------------------------------------------------------------------ 3 and 4: --no-default-na
def test_the_stray_token_hint_offers_na_and_question_mark_only_where_they_mean_missing(
    tmp_path: Path,
) -> None:
    xs = _numbers()
    xs[7], xs[9] = "abc", "-"
    path = _table(tmp_path / "stray.csv", xs)
    with pytest.raises(DataError) as err:
        prepare_tabular(path, "label", keep_default_na=False)
    msg = str(err.value)
    assert "write NA or ?" not in msg, msg
    assert "leave those cells empty (missing features are imputed), or pass na_values=['abc', '-']" in msg, (
        msg
    )
    with pytest.raises(DataError, match=r"leave those cells empty or write NA or \?"):
        prepare_tabular(path, "label")  # with the built-in tokens NA and ? are missing


def test_no_default_na_reads_nan_among_numbers_as_a_stray_text_as_the_readme_says(tmp_path: Path) -> None:
    """README: "unless --no-default-na: then only empty cells and --na-value texts are [missing]".  'nan' and
    'NaN' in a numeric column were still read as missing and imputed, without a word."""
    xs = _numbers()
    xs[40], xs[41] = "nan", "NaN"
    path = _table(tmp_path / "nan.csv", xs)
    with pytest.raises(DataError) as err:
        prepare_tabular(path, "label", keep_default_na=False)
    msg = str(err.value)
    assert "feature column 'x'" in msg and "'nan' at line 42, 'NaN' at line 43" in msg, msg
    assert "na_values=['nan', 'NaN']" in msg, msg
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)  # the same cells in a DataFrame
    with pytest.raises(DataError, match="'nan' at row 40"):
        prepare_tabular(frame, "label", keep_default_na=False)
    # what reads them as missing: the built-in tokens, or naming them
    for read in ({}, {"keep_default_na": False, "na_values": ["nan", "NaN"]}):
        data = prepare_tabular(path, "label", random_state=0, **read)  # type: ignore[arg-type]
        assert data.n_features == 2
    # a clean numeric column keeps the fast path under --no-default-na
    data = prepare_tabular(_table(tmp_path / "clean.csv", _numbers()), "label", keep_default_na=False)
    assert data.n_features == 2


def test_a_model_trained_with_no_default_na_refuses_nan_in_new_rows(tmp_path: Path) -> None:
    numbers = _numbers()
    model = load_model(_train(tmp_path, _table(tmp_path / "train.csv", numbers), keep_default_na=False))
    xs = numbers[:10]
    xs[2] = "NaN"
    with pytest.raises(DataError) as err:
        model.predictions(_table(tmp_path / "new.csv", xs))
    msg = str(err.value)
    assert "'NaN' at line 4" in msg and "write NA or ?" not in msg and "(--na-value NaN)" in msg, msg
    assert len(model.predictions(_table(tmp_path / "new.csv", xs), na_values=["NaN"])) == 10


# ------------------------------------------------------------------------ 8: the halving reason
def test_the_halving_reason_gives_the_threshold_as_a_score_not_as_a_count() -> None:
    """ "best score so far 0.9884 below the top 1/3 (1) of 20 at 4 epochs": the (1) was a threshold of 1.0."""
    from sklearn.datasets import load_digits

    from hyperselect.search import run_halving
    from hyperselect.train.cohort import Cohort

    X, y = load_digits(return_X_y=True)
    data = prepare_arrays(X[:300], y[:300], task="multiclass", random_state=0, name="digits300")
    good = MLPConfig(hidden=(16,), max_epochs=2, batch_size=32, lr=3e-3, patience=50)
    bad = MLPConfig(hidden=(16,), max_epochs=2, batch_size=32, lr=1e-7, patience=50)
    cohort = Cohort(
        [good, bad], data.X_train, data.y_train, data.X_valid, data.y_valid, task="multiclass", n_classes=10
    )
    study = optuna.create_study(direction="maximize")
    trials = [study.ask() for _ in range(2)]
    outcomes = run_halving(study, trials, cohort, rungs=[1, 2])
    pruned = [o for o in outcomes if o is not None and o.state is optuna.trial.TrialState.PRUNED]
    assert len(pruned) == 1, outcomes
    assert re.fullmatch(
        r"successive halving: best score so far \d\.\d{4} below the top 1/3 of 2 at 1 epochs "
        r"\(threshold \d\.\d{4}\)",
        pruned[0].reason,
    ), pruned[0].reason


# ------------------------------------------------------------------------ 11: one list of missing-value tokens
def test_help_texts_and_messages_name_every_missing_value_token_the_code_reads() -> None:
    from hyperselect._cli_options import NA_TOKENS_TEXT
    from hyperselect.data.tabular import NA_TOKENS_SHOWN, na_tokens_text

    assert {t.lower() for t in NA_TOKENS_SHOWN} | {""} == NA_TOKENS
    assert na_tokens_text() == NA_TOKENS_TEXT
    command = typer.main.get_command(app)
    for name, option in [(c, "--no-default-na") for c in ("train", "advise", "tune", "compare")] + [
        (c, "--na-value") for c in ("train", "predict")
    ]:
        params = command.commands[name].params  # type: ignore[attr-defined]
        help_text = next(p.help for p in params if option in p.opts)
        assert NA_TOKENS_TEXT in help_text, (name, option, help_text)


# ------------------------------------------------------------------------ 5, 6, 7, 10: the README
def _readme() -> str:
    return " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())


def test_readme_names_graph_tunes_workers_default() -> None:
    """README: node2vec uses every usable core by default, in every graph command; graph tune's --workers
    defaulted to 2 while the same value set its classifiers' processes, which have their own knob now."""
    graph = typer.main.get_command(app).commands["graph"].commands  # type: ignore[attr-defined]
    for command in ("tune", "classify", "embed"):
        params = graph[command].params
        assert next(p.default for p in params if "--workers" in p.opts) is None, command  # every usable core
    assert any("--classifier-jobs" in p.opts for p in graph["tune"].params)
    text = " ".join(_readme().split())
    assert (
        "node2vec trains on every usable core by default (`--workers`, in every graph command, `graph tune` included"
        in text
    )
    assert "have their own `--classifier-jobs`" in text


def test_readme_says_what_recommend_does_with_a_graph_without_declared_sides(tmp_path: Path) -> None:
    readme = _readme()
    assert "any other graph is answered with all its nodes" not in readme
    assert (
        "`recommend` takes the graph's 2-colouring as the sides (with a warning) or refuses a graph with an odd cycle"
        in readme
    )
    triangle = tmp_path / "triangle.tsv"
    triangle.write_text("a\tb\nb\tc\nc\ta\n", encoding="utf-8")
    code, out = _run("graph", "recommend", triangle, "--node", "a")
    assert code == 1 and "odd cycle" in out, out


def test_readme_class_weight_accuracies_are_the_stored_medians() -> None:
    """The README gave "0.756 to 0.628": 0.628 was one seed's accuracy, not the median (0.624)."""
    runs = json.loads((ROOT / "benchmarks/results/class_weight_wine.json").read_text())["datasets"]["wine"][
        "runs"
    ]
    searched = statistics.median(r["searched"]["test_accuracy"] for r in runs)
    none = statistics.median(r["none"]["test_accuracy"] for r in runs)
    readme = _readme()
    assert f"at the cost of accuracy (median {none:.3f} to {searched:.3f})" in readme
    assert f"median test accuracy {searched:.3f} vs {none:.3f}" in readme


def test_readme_commands_do_not_start_the_same_study_twice() -> None:
    """The README's first block and the predict block both ran `tune ... --out runs/tune`: the second failed
    ("A study named 'data-label' already exists ... --resume")."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outs: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] == ["hyperselect", "tune"] and "--out" in words and "--resume" not in words:
                outs.append(words[words.index("--out") + 1])
    assert outs and len(outs) == len(set(outs)), outs
