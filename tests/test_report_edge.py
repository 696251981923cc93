"""``hyperselect report`` on run folders a user really has: broken or foreign files, searches where no trial
finished, and an ``--out`` that names something other than a new page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hyperselect.cli_report import register
from hyperselect.errors import DataError
from hyperselect.report import build_report

FIXTURES = Path(__file__).parent / "data" / "report"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a group, so "report" is a subcommand as in the real CLI
        pass

    return app


def cli(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["report", *args])


def tune_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "tune", run)
    return run


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ --out ---


@pytest.mark.parametrize("name", ["result.json", "trials.csv"])
def test_out_naming_a_file_of_the_run_is_refused_and_left_alone(tmp_path: Path, name: str) -> None:
    run = tune_run(tmp_path)
    before = (run / name).read_bytes()
    res = cli(str(run), "--out", str(run / name))
    assert res.exit_code == 1
    assert f"{name}' exists and is not an HTML page; refusing to overwrite it" in res.output
    assert (run / name).read_bytes() == before  # it used to become the HTML page: the run's result lost
    assert not (run / "report.html").exists()


def test_out_may_replace_an_earlier_page(tmp_path: Path) -> None:
    run = tune_run(tmp_path)
    old = tmp_path / "page.html"
    old.write_text("<!DOCTYPE html>\n<html><body>an older report</body></html>")
    assert build_report(run, out=old) == old
    assert "hyperselect" in old.read_text(encoding="utf-8")


def test_out_naming_a_folder_writes_report_html_into_it(tmp_path: Path) -> None:
    run = tune_run(tmp_path)
    folder = tmp_path / "pages"
    folder.mkdir()
    res = cli(str(run), "--out", str(folder))
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(
        folder / "report.html"
    )  # it used to fail with "[Errno 21] Is a directory"
    assert (folder / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_out_under_a_file_names_the_file_in_the_way(tmp_path: Path) -> None:
    run = tune_run(tmp_path)
    (tmp_path / "afile").write_text("x")
    res = cli(str(run), "--out", str(tmp_path / "afile" / "r.html"))
    assert res.exit_code == 1
    assert f"cannot create its folder, because '{tmp_path / 'afile'}' is a file" in res.output
    assert "Errno" not in res.output


# ------------------------------------------------------------------------------------------ bad files ---


def test_trials_csv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "trials.csv").write_bytes(b"number,state,value\n0,COMPLETE,0.5\n1,COMPLETE,0.6\xff\n")
    res = cli(str(run))
    assert res.exit_code == 1
    # it used to say "the run's JSON could not be drawn: UnicodeDecodeError" without naming the file
    assert f"{run / 'trials.csv'}: line 3: not UTF-8 text (invalid start byte at byte 48)" in res.output
    assert "JSON could not be drawn" not in res.output


def test_embeddings_npy_that_is_not_an_array_is_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_json(run / "embeddings" / "nodes.json", {"nodes": ["a", "b"]})
    (run / "embeddings" / "embeddings.npy").write_text("garbage")
    with pytest.raises(DataError, match=r"embeddings\.npy: not a NumPy array of node vectors"):
        build_report(run)


def test_json_nested_too_deeply_is_a_data_error_not_a_crash(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "result.json").write_text("[" * 100_000 + "]" * 100_000)
    res = cli(str(run))
    assert res.exit_code == 1, res.output
    assert "result.json: JSON nested too deeply" in res.output
    assert "RecursionError" not in res.output


@pytest.mark.parametrize(("name", "content"), [("result.json", "{}"), ("trials.csv", "number,state,value\n")])
def test_a_file_without_content_is_named_in_nothing_to_report(
    tmp_path: Path, name: str, content: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / name).write_text(content)
    with pytest.raises(
        DataError, match=rf"holds nothing to report: {name} holds nothing the report can read"
    ):
        build_report(run)


def test_json_whose_known_keys_all_have_wrong_types_names_them_instead_of_a_blank_page(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    write_json(run / "result.json", {"trials": "not a list", "best_config": 3})
    for strict in (False, True):
        with pytest.raises(DataError) as info:
            build_report(run, strict=strict)
        assert "result.json: 'best_config' is a number; expected an object" in str(info.value)
        assert "'trials' is a string; expected a list" in str(info.value)


def test_a_value_of_the_wrong_type_is_named_on_the_page_and_strict_raises(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_json(run / "verdict.json", {"recommendation": 3, "reasons": ["the network wins"], "models": []})
    page = build_report(run).read_text(encoding="utf-8")
    assert 'id="mistyped"' in page and "&#x27;recommendation&#x27; is a number; expected a string" in page
    assert 'id="verdict"' in page and "the network wins" in page  # drawn without the wrong value
    with pytest.raises(DataError, match=r"verdict\.json: 'recommendation' is a number; expected a string"):
        build_report(run, strict=True)
    r = cli(str(run), "--strict")
    assert r.exit_code == 1 and "'recommendation' is a number" in r.output and "Traceback" not in r.output


def test_json_without_any_known_key_says_so_instead_of_a_blank_page(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_json(run / "result.json", {"produced_by": "another tool", "value": 3})
    page = build_report(run).read_text(encoding="utf-8")
    assert 'id="nothing"' in page
    assert "result.json holds no data the report can draw" in page
    with pytest.raises(DataError, match=r"result\.json holds no data the report can draw"):
        build_report(run, strict=True)


# ------------------------------------------------------------------------------- no trial finished ---


def test_a_search_where_every_trial_failed_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run"
    trials = [
        {
            "number": i,
            "state": "FAIL",
            "value": None,
            "epochs": 1,
            "reason": "CUDA out of memory <b>x</b>",
            "params": {"lr": lr, "width": 32 * (i + 1)},
            "intermediate_values": {},
        }
        for i, lr in enumerate((1e-3, 3e-3, 1e-2))
    ]
    write_json(
        run / "result.json",
        {
            "study_name": "s",
            "score_name": "accuracy",
            "best_config": None,
            "best_trial": None,
            "best_valid_score": None,
            "trials": trials,
            "counts": {"COMPLETE": 0, "PRUNED": 0, "FAIL": 3, "finished": 3},
        },
    )
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert (
        f"No trial completed with a score ({len(trials)} failed)</strong>, so there is no best configuration"
        in page
    )
    assert "CUDA out of memory &lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert 'alt="Optimization history of the trials"' not in page  # nothing to plot


def test_a_search_that_recorded_no_trial_is_not_a_blank_page(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_json(run / "result.json", {"study_name": "s", "trials": [], "counts": {"COMPLETE": 0}})
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert 'id="search"' in page and "The search recorded no trial" in page


def _failed_study_journal(path: Path) -> None:
    """What ``tune`` leaves when no trial produced a score: the journal only (it raises before result.json)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="digits", storage=JournalStorage(JournalFileBackend(str(path))), direction="maximize"
    )
    study.set_user_attr("hyperselect", {"task": "multiclass", "rungs": [3]})
    for _ in range(2):
        trial = study.ask()
        trial.suggest_int("width", 32, 64)
        trial.set_user_attr("reason", "diverged: the training loss became nan at epoch 0")
        trial.set_user_attr("epochs", 1)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)


def test_a_run_with_only_its_study_journal_shows_why_no_trial_finished(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _failed_study_journal(run / "study.journal")
    res = cli(str(run))
    assert res.exit_code == 0, res.output  # it used to be "holds nothing to report"
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "the trials of study &#x27;digits&#x27; are read from study.journal" in page
    assert "No trial completed with a score (2 failed)" in page
    assert "diverged: the training loss became nan at epoch 0" in page
    assert "<th>accuracy</th>" in page  # the score is named from the study's task


# ------------------------------------------------------------------------------ the audit's findings (B) ---


def _compare_run(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "compare", run)
    return run, json.loads((run / "verdict.json").read_text(encoding="utf-8"))


def test_strict_fails_on_a_malformed_verdict_field_and_the_page_names_what_it_dropped(tmp_path: Path) -> None:
    """half4: lists of mismatched lengths, a p-value "abc", null cv_scores; --strict exited 0 and the curve
    silently vanished."""
    run, v = _compare_run(tmp_path)
    v["learning_curve"].update(n_rows=[1], network=[0.5], baseline="x")
    v["comparisons"]["svm"]["p_value"] = "abc"
    v["candidates"][0]["cv_scores"] = None
    write_json(run / "verdict.json", v)
    res = cli(str(run), "--strict")
    assert res.exit_code == 1 and "Traceback" not in res.output
    said = " ".join(res.output.split())
    assert f"{run / 'verdict.json'}:" in said
    for field in (
        "learning_curve.network has 1 value for 3 fractions",
        "learning_curve.baseline is 'x' (expected a list of numbers)",
        "comparisons.svm.p_value is 'abc' (expected a number)",
        "candidates[0] (mlp).cv_scores is null (expected a list of numbers)",
    ):
        assert field in said, field
    assert not (run / "report.html").exists()
    # without --strict: drawn without them, and a note names each
    page = build_report(run).read_text(encoding="utf-8")
    note = page.split('id="malformed"', 1)[1].split("</section>", 1)[0]
    assert "Malformed values left out" in note and "learning_curve.network" in note
    assert "comparisons.svm.p_value" in note and "candidates[0] (mlp).cv_scores" in note
    assert 'id="verdict"' in page and 'id="baselines"' in page


def test_a_result_json_that_cannot_be_read_is_not_said_to_be_absent(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _failed_study_journal(run / "study.journal")
    (run / "result.json").write_text('{"study_name": "digits", "trials": [{', encoding="utf-8")  # torn
    page = build_report(run).read_text(encoding="utf-8")
    assert "result.json" in page.split('id="unreadable"', 1)[1].split("</section>", 1)[0]
    assert "This run has no result.json" not in page
    assert "This run's result.json could not be read (see above)" in page


def test_report_on_a_file_says_it_expected_a_run_directory(tmp_path: Path) -> None:
    table = tmp_path / "data.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    res = cli(str(table))
    said = " ".join(res.output.split())
    assert res.exit_code == 1 and "cannot create its folder" not in said
    assert f"'{table}' is a file; expected a run directory written by --out" in said
    assert table.read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_a_folder_holding_only_an_interrupted_compares_partial_file_is_drawn_marked_partial(
    tmp_path: Path,
) -> None:
    """After Ctrl-C of compare --out DIR: "holds nothing to report"."""
    from hyperselect.evaluate.verdict import PARTIAL_FILE

    _, v = _compare_run(tmp_path)
    partial = {
        "partial": True,
        "interrupted_during": "cross-validating",
        "note": "compare was interrupted (Ctrl-C) while cross-validating, before its verdict: no comparison.",
        "score_name": "accuracy",
        "data": v["data"],
        "candidates": v["candidates"][:2],
        "skipped": {},
        "settings": {"protocol": "kfold", "n_splits": 5, "n_repeats": 1, "n_trials": 4, "timeout": None},
        "seconds": {"tune_networks": 1.0},
    }
    run = write_json(tmp_path / "stopped" / PARTIAL_FILE, partial).parent
    res = cli(str(run), "--strict")
    assert res.exit_code == 0, res.output
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "No verdict: compare was interrupted while cross-validating" in page
    assert "Interrupted run: partial results" in page and "no comparison" in page
    assert "Use the" not in page and "No significant difference" not in page
    names = {c["name"] for c in partial["candidates"]}
    assert all(f"<td>{n}" in page for n in names)
    assert f"<code>{PARTIAL_FILE}</code>" in page  # the footer names the file it was built from
