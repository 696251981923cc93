"""The HTML report: escaping, no external URLs, tolerance to missing or partial sections, JSON-only rebuild."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hyperselect.cli_report import register
from hyperselect.errors import ConfigError, DataError
from hyperselect.report import (
    build_report,
    load_run,
    make_progress,
    plots,
    render_report,
    track,
    try_build_report,
)
from hyperselect.report.views import search_view, verdict_view

FIXTURES = Path(__file__).parent / "data" / "report"
XSS = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Tags, attributes and text of a page, to check its structure rather than grep its source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section" and a.get("id"):
            self.ids.append(str(a["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    return p


def make_run(tmp_path: Path, *kinds: str, name: str = "run") -> Path:
    run = tmp_path / name
    run.mkdir(parents=True)
    for kind in kinds:
        shutil.copytree(FIXTURES / kind, run, dirs_exist_ok=True)
    return run


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def rename_model(verdict_json: Path, old: str, new: str) -> None:
    """A model of compare's verdict.json renamed everywhere it is named (a hostile name for the escaping test)."""
    v = json.loads(verdict_json.read_text(encoding="utf-8"))
    for c in [*v["candidates"], v["network"], v["baseline"]]:
        c["name"] = new if c["name"] == old else c["name"]
    v["comparisons"] = {(new if k == old else k): c for k, c in v["comparisons"].items()}
    v["preferred_model"] = new if v["preferred_model"] == old else v["preferred_model"]
    verdict_json.write_text(json.dumps(v), encoding="utf-8")


@pytest.fixture(scope="module")
def full_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Every producer's output in one run directory."""
    run = make_run(tmp_path_factory.mktemp("full"), "tune", "compare", "text", "graph")
    rename_model(run / "verdict.json", "svm", "svm <rbf>")
    return build_report(run, strict=True).read_text(encoding="utf-8")


def sections(run: Path) -> list[str]:
    return parse(build_report(run, strict=True).read_text(encoding="utf-8")).ids


# ------------------------------------------------------------------------------------------- escaping ---


def test_every_user_string_is_escaped_and_nothing_can_run(full_page: str) -> None:
    page = full_page
    doc = parse(page)
    # structure: no script, no event handler, no image that is not an embedded PNG, no iframe/object/link-out
    assert not [t for t, _ in doc.tags if t in ("script", "iframe", "object", "embed", "base", "form")]
    for tag, attrs in doc.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert str(attrs["src"]).startswith("data:image/png;base64,")
    # the hostile strings are there, as text
    text = "".join(doc.text)
    for s in (
        XSS,
        "<img src=x onerror=alert(2)>",
        "svm <rbf>",
        "Evelyn <script>alert(1)</script>",
        '"firm" tannins',
    ):
        assert s in text, s
    assert XSS not in page and html.escape(XSS) in page


def test_no_external_urls_and_a_restrictive_csp(full_page: str) -> None:
    page = full_page
    doc = parse(page)
    for tag, attrs in doc.tags:
        for key in ("src", "href", "action", "data", "poster", "srcset"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), f"<{tag} {key}={value[:60]!r}>"
    csp = next(
        a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in str(csp) and "script-src" not in str(csp)
    assert "http://" not in page.split("<main>")[0] and "https://" not in page.split("<main>")[0]
    assert "@import" not in page and "url(" not in page


def test_plot_text_neutralises_mathtext_and_hidden_legend_labels() -> None:
    assert plots.plot_text("$100 <b>") == r"\$100 <b>"
    assert plots.plot_text("_private").startswith(" ")
    assert plots.plot_text("x" * 100).endswith("…") and len(plots.plot_text("x" * 100)) == plots.MAX_LABEL
    # a label matplotlib would reject as broken mathtext still draws
    png = plots.confusion_matrix([[3, 1], [0, 4]], ["$\\frac{", "_a"])
    assert png.startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------ tolerance ---


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (("train",), ["diagnostics", "training"]),
        (("tune",), ["best-config", "search"]),
        (("compare",), ["verdict", "baselines"]),
        (("text",), ["text"]),
        (("graph",), ["graph"]),
        # the tune fixture (a real run on breast_cancer) and compare's (cls.csv) are of different data
        (("graph", "compare", "tune"), ["mixed", "verdict", "baselines", "best-config", "search", "graph"]),
    ],
)
def test_each_section_appears_only_with_its_data(
    tmp_path: Path, kinds: tuple[str, ...], expected: list[str]
) -> None:
    assert sections(make_run(tmp_path, *kinds)) == expected


def test_minimal_verdict_shows_recommendation_and_reasons_only(tmp_path: Path) -> None:
    run = tmp_path / "r"
    write_json(run / "verdict.json", {"recommendation": "network", "reasons": ["mnist1d: signal data", XSS]})
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert parse(page).ids == ["verdict"]
    assert "Use the neural network" in page and html.escape(XSS) in page


def test_verdict_reader_accepts_other_shapes() -> None:
    v = verdict_view(
        {
            "recommendation": "baseline",
            "reasons": "one reason",
            "scores": {"mlp": [0.8, 0.82], "rf": [0.9, 0.88]},
            "p_value": 0.01,
            "effect_size": -0.08,
            "ci": [-0.1, -0.06],
            "learning_curve": [
                {"fraction": 0.5, "model": "mlp", "score": 0.7},
                {"fraction": 1.0, "model": "mlp", "score": 0.81},
            ],
        }
    )
    assert v is not None
    assert v["reasons"] == ["one reason"]
    assert {m["name"]: round(m["mean"], 3) for m in v["models"]} == {"mlp": 0.81, "rf": 0.89}
    assert v["effect"] == {"estimate": -0.08, "low": -0.1, "high": -0.06, "level": None, "name": None}
    assert v["learning_curve"]["fractions"] == [0.5, 1.0]
    assert verdict_view({"unrelated": 1}) is None


def test_trials_csv_alone_gives_the_search_section(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    shutil.copy(FIXTURES / "tune" / "trials.csv", run / "trials.csv")
    assert sections(run) == ["search"]
    s = search_view(None, load_run(run).trials_csv)
    assert s is not None and len(s["trials"]) == 8  # the fixture: a real 8-trial `hyperselect tune` run
    assert all(t["best_score"] is not None for t in s["trials"])  # trials.csv's best_score column
    assert s["trials"][0]["params"]["optimizer"] in ("adam", "momentum", "rmsprop", "nesterov", "adamw")
    assert isinstance(s["trials"][0]["params"]["width"], int)
    assert all(t["reason"] for t in s["trials"])  # trials.csv's reason column (halving, early stopping)


def test_halving_note_names_the_rungs_and_their_rows() -> None:
    from hyperselect.report.html import halving_note

    assert halving_note({}) == "" and halving_note({"rungs": "3,9"}) == ""
    plain = halving_note({"rungs": [3, 9, 27], "rung_rows": None})
    assert "rungs at 3, 9, 27 epochs" in plain and "rows" not in plain
    sub = halving_note({"rungs": [3, 9, 27], "rung_rows": [1 / 9, 1 / 3]})
    assert "epochs up to 3 on 11% of the training rows; epochs up to 9 on 33%" in sub
    assert "later epochs on every row" in sub


def test_learning_curves_come_from_the_study_journal(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path, "tune"))
    assert run.curves and all(len(c) >= 1 for c in run.curves.values())
    s = search_view(run.result, run.trials_csv, run.curves)
    assert s is not None
    pruned = [t for t in s["trials"] if t["state"] == "PRUNED"]
    complete = [t for t in s["trials"] if t["state"] == "COMPLETE"]
    assert pruned and complete
    assert max(len(t["curve"]) for t in complete) > max(len(t["curve"]) for t in pruned)
    assert s["rationale"]["lr"] and "hidden" in s["best_config"]


def test_diverged_training_run_with_nan_and_inf(tmp_path: Path) -> None:
    run = tmp_path / "r"
    (run).mkdir()
    hist = {
        "epoch": [1, 2, 3],
        "train_loss": [2.3, math.inf, math.nan],
        "valid_loss": [2.2, math.nan, math.nan],
        "valid_score": [0.1, math.nan, math.nan],
        "lr": [0.1] * 3,
        "grad_norms": [[1.0, 2.0], [1e9, math.inf], []],
        "seconds": [0.1] * 3,
    }
    (run / "result.json").write_text(
        json.dumps(
            {
                "history": hist,
                "status": "diverged",
                "diagnostics": [
                    {
                        "kind": "exploding_gradients",
                        "severity": "warning",
                        "evidence": "the loss became NaN/inf",
                        "remedy": "Lower the learning rate",
                        "data": {},
                    }
                ],
            },
            allow_nan=True,
        )
    )
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert parse(page).ids == ["diagnostics", "training"]
    assert "exploding gradients" in page


def test_malformed_section_becomes_a_notice_and_strict_raises(tmp_path: Path) -> None:
    run = make_run(tmp_path, "compare")
    write_json(
        run / "text_result.json", {"models": {"nb": {"confusion_matrix": "not a matrix", "labels": ["a"]}}}
    )
    page = build_report(run).read_text(encoding="utf-8")
    assert parse(page).ids == ["verdict", "baselines", "text"]
    assert "could not be drawn" in page
    with pytest.raises((TypeError, ValueError)):
        build_report(run, strict=True)


@pytest.mark.parametrize("setup", ["missing", "empty", "file", "only_other_files", "empty_object"])
def test_nothing_to_report_raises_data_error(tmp_path: Path, setup: str) -> None:
    target = tmp_path / "run"
    if setup != "missing":
        target.mkdir()
    if setup == "file":
        target.rmdir()
        target.write_text("x")
    if setup == "only_other_files":
        (target / "model.safetensors").write_bytes(b"\0")
    if setup == "empty_object":
        write_json(target / "result.json", {})
    with pytest.raises(DataError, match="run"):
        build_report(target)
    assert try_build_report(target) is None


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "verdict.json").write_text('{"recommendation": "network",\n "reasons": [}\n')
    with pytest.raises(DataError, match=r"verdict\.json: line 2"):
        build_report(run)


def test_an_unreadable_file_is_a_notice_and_the_others_are_drawn(tmp_path: Path) -> None:
    run = make_run(tmp_path, "compare", "text")
    (run / "text_result.json").write_text('{"models": \n', encoding="utf-8")  # cut short by a crash
    page = build_report(run).read_text(encoding="utf-8")
    doc = parse(page)
    assert doc.ids[0] == "unreadable" and "verdict" in doc.ids and "text" not in doc.ids
    text = " ".join(doc.text)
    assert "text_result.json" in text and "line 2" in text and "invalid JSON" in text
    assert "text_result.json" not in page.split("<footer>")[1]  # not listed among the files it was built from
    with pytest.raises(DataError, match=r"text_result\.json: line 2"):
        build_report(run, strict=True)
    r = CliRunner().invoke(_app(), ["report", str(run)])
    assert r.exit_code == 0 and r.output.strip() == str(run / "report.html")
    r = CliRunner().invoke(_app(), ["report", str(run), "--strict"])
    assert r.exit_code == 1 and "text_result.json: line 2" in r.output


def test_graph_inputs_warnings_and_tuning_cells_are_shown_readably(tmp_path: Path) -> None:
    run = make_run(tmp_path, "graph")
    classify = json.loads((run / "classify.json").read_text(encoding="utf-8"))
    classify |= {
        "input": {"edges": "karate.tsv", "labels": "karate.labels", "directed": False},
        "params": {"p": 0.5, "q": 2.0, "dimensions": 8},
        "warnings": ["karate.tsv: 1 duplicate edge(s) merged, each kept once"],
    }
    (run / "classify.json").write_text(json.dumps(classify), encoding="utf-8")
    for name in ("similar.json", "tune.json"):  # each command's file records its input (one graph here)
        other = json.loads((run / name).read_text(encoding="utf-8"))
        (run / name).write_text(json.dumps({**other, "input": classify["input"]}), encoding="utf-8")
    tune = json.loads((run / "tune.json").read_text(encoding="utf-8"))
    cells = [{"C": c, "normalize": False, "score": c / 10, "splits": [c / 10] * 3} for c in (1.0, 3.0)]
    tune["trials"] = [{**t, "classifier_scores": cells} for t in tune["trials"]]
    (run / "tune.json").write_text(json.dumps(tune), encoding="utf-8")
    text = " ".join(" ".join(parse(build_report(run, strict=True).read_text(encoding="utf-8")).text).split())
    assert "input edges karate.tsv" in text and "input labels karate.labels" in text
    assert "Data warnings karate.tsv: 1 duplicate edge(s) merged, each kept once" in text
    assert "classifier settings compared" in text and "{'C'" not in text  # counted, not a Python repr


def test_files_of_different_data_in_one_folder_are_flagged(tmp_path: Path) -> None:
    # `tune diab.csv --out r` then `compare yesno.csv --out r`: the page drew one run of two data sets
    run = make_run(tmp_path, "tune", "compare")
    result = json.loads((run / "result.json").read_text(encoding="utf-8"))
    (run / "result.json").write_text(
        json.dumps({**result, "data": {"source": "diab.csv", "task": "regression"}})
    )
    verdict = json.loads((run / "verdict.json").read_text(encoding="utf-8"))
    (run / "verdict.json").write_text(
        json.dumps({**verdict, "data": {"source": "yesno.csv", "task": "binary"}})
    )
    doc = parse(build_report(run, strict=True).read_text(encoding="utf-8"))
    assert doc.ids[0] == "mixed" and "verdict" in doc.ids
    text = " ".join(" ".join(doc.text).split())
    assert "source diab.csv, task regression" in text
    assert "source yesno.csv" in text
    (run / "result.json").write_text(
        json.dumps({**result, "data": {"source": "yesno.csv", "task": "binary"}})
    )
    assert "mixed" not in parse(build_report(run, strict=True).read_text(encoding="utf-8")).ids


# ------------------------------------------------------------------------------------------- rebuild ---


def test_rebuilt_from_json_alone_byte_identical(tmp_path: Path) -> None:
    first = make_run(tmp_path / "a", "tune", "compare", "text", "graph", name="run")
    page1 = build_report(first, strict=True).read_bytes()
    assert build_report(first, strict=True).read_bytes() == page1  # the old report is not an input
    # a copy of the JSON files alone, elsewhere, gives the same page
    second = tmp_path / "b" / "run"
    second.mkdir(parents=True)
    shutil.copytree(first, second, dirs_exist_ok=True, ignore=shutil.ignore_patterns("report.html"))
    assert build_report(second, strict=True).read_bytes() == page1
    assert not [p for p in second.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    assert (second / "report.html").stat().st_mode & 0o777 == 0o644


def test_out_option_and_render_without_writing(tmp_path: Path) -> None:
    run = make_run(tmp_path, "compare")
    out = build_report(run, out=tmp_path / "elsewhere" / "page.html")
    assert out.exists() and not (run / "report.html").exists()
    assert render_report(load_run(run)).startswith("<!DOCTYPE html>")


def test_projection_methods(tmp_path: Path) -> None:
    pts = plots.project_2d([[float(i), float(i % 3), float(i % 5)] for i in range(30)], method="tsne")
    assert len(pts) == 30 and all(len(p) == 2 for p in pts)
    with pytest.raises(ValueError, match="Unknown projection"):
        plots.project_2d([[1.0, 2.0, 3.0]], method="umap")
    with pytest.raises(ConfigError, match="'projection'"):
        build_report(make_run(tmp_path, "text"), projection="umap")


def test_pngs_are_deterministic_and_not_blank() -> None:
    from PIL import Image

    a = plots.importances({"lr": 0.6, "width": 0.4})
    assert a == plots.importances({"lr": 0.6, "width": 0.4})
    img = Image.open(io.BytesIO(a)).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 100
    assert plots.data_uri(a) == "data:image/png;base64," + base64.b64encode(a).decode()


def test_long_tables_are_cut_with_a_note(tmp_path: Path) -> None:
    run = tmp_path / "r"
    trials = [
        {"number": i, "state": "COMPLETE", "value": i / 200, "params": {"lr": 10 ** (-i / 50)}}
        for i in range(120)
    ]
    write_json(run / "result.json", {"best_config": {"lr": 0.1}, "trials": trials})
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert "Showing 50 of 120 rows" in page


# ------------------------------------------------------------------------------------------------ CLI ---


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer in multi-command mode, as in the real app
        pass

    return app


def test_cli_report_prints_the_path(tmp_path: Path) -> None:
    run = make_run(tmp_path, "compare")
    res = CliRunner().invoke(_app(), ["report", str(run)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(run / "report.html")


@pytest.mark.parametrize("empty", [True, False])
def test_cli_report_exits_1_on_missing_or_empty_dir(tmp_path: Path, empty: bool) -> None:
    target = tmp_path / "run"
    if empty:
        target.mkdir()
    res = CliRunner().invoke(_app(), ["report", str(target)])
    assert res.exit_code == 1
    assert "error:" in res.output and ("does not exist" in res.output or "nothing to report" in res.output)
    assert "Traceback" not in res.output


# ------------------------------------------------------------------------------------------- progress ---


def test_progress_follows_the_cli_logging_console_and_quiet() -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    from hyperselect.report.progress import get_console

    logger = logging.getLogger("hyperselect")
    saved = (logger.handlers[:], logger.level)
    console = Console(stderr=True)
    try:
        logger.handlers[:] = [RichHandler(console=console)]
        logger.setLevel(logging.ERROR)  # what the CLI's --quiet does
        assert get_console() is console
        assert make_progress().disable
        logger.setLevel(logging.WARNING)
        progress = make_progress()
        assert not progress.disable and progress.console is console
        assert make_progress(disable=True).disable
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])


def test_track_yields_every_item() -> None:
    assert list(track(range(5), "work", disable=True)) == [0, 1, 2, 3, 4]
    assert list(track(iter("abc"), "work", disable=True)) == ["a", "b", "c"]


def test_graph_answers_show_their_tied_nodes(tmp_path: Path) -> None:
    run = tmp_path / "g"
    answers = [
        {"node": "C:a0", "similarity": 1.0, "support": 1.0, "tied": ["C:a1", "C:a2"], "equivalent": True},
        {"node": "C:b0", "similarity": 0.8, "support": 0.6, "tied": [f"C:b{i}" for i in range(1, 12)]},
        {"node": "C:c", "similarity": 0.5, "support": 0.4, "tied": []},
    ]
    write_json(run / "similar.json", {"node": "C:q", "answers": answers})
    text = " ".join(parse(render_report(load_run(run))).text)
    assert "tied with (identical neighbours)" in text
    # the tied nodes alone: "1: 21" read as a count glued to a node list
    assert "C:a1, C:a2" in text and "2: C:a1" not in text
    assert "C:b1, C:b2" in text and "11: C:b1" not in text and "(+3 more)" in text and "C:b11" not in text


def _text_result(tmp_path: Path, *, net_accuracy: float) -> tuple[Path, dict[str, Any]]:
    """A run folder with a text_result.json written by the text evaluation's own classes (no encoder)."""
    import numpy as np

    from hyperselect.evaluate.text import TextResult, _verdict, model_report

    rng = np.random.default_rng(0)
    classes = ["alpha", "[/b]", "gamma"]  # a label that is Rich and HTML markup alike
    y = np.repeat([0, 1, 2], 40)
    texts = [f"post {i} [/quote] <i>{i}</i>" for i in range(len(y))]

    def proba(acc: float) -> Any:
        p = rng.dirichlet(np.ones(3), size=len(y))
        right = rng.random(len(y)) < acc
        p[right, y[right]] += 3.0
        return p / p.sum(1, keepdims=True)

    reports = {
        "nb": model_report("nb", proba(0.55), y, classes, texts),
        "emb_net": model_report("emb_net", proba(net_accuracy), y, classes, texts),
    }
    verdict, details = _verdict(reports, y)
    res = TextResult(
        data={"n_texts": 400},
        split={"train": 240, "valid": 40, "test": len(y)},
        classes=classes,
        models=reports,
        verdict=verdict,
        verdict_details=details,
        notes=["class '[/b]' has a single row"],
    )
    run = tmp_path / "run"
    run.mkdir()
    (run / "text_result.json").write_text(json.dumps(res.to_dict()), encoding="utf-8")
    return run, details


def test_a_text_result_as_written_shows_its_verdict_confusion_matrices_and_errors(tmp_path: Path) -> None:
    run, details = _text_result(tmp_path, net_accuracy=0.95)
    assert details["recommendation"] == "network" and details["mcnemar_p"] < 0.05
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    doc = parse(page)
    assert doc.ids[0] == "verdict" and "text" in doc.ids
    text = " ".join(doc.text)
    assert "Use the neural network" in text and "exact McNemar, paired on 120 test rows" in text
    assert "The network is worth it" in text  # the sentence the command printed, as the reason
    alts = [a.get("alt") for tag, a in doc.tags if tag == "img"]
    from hyperselect.evaluate.text import MODELS

    assert {f"Confusion matrix of {MODELS['nb']}", f"Confusion matrix of {MODELS['emb_net']}"} <= set(alts)
    assert "Most confidently misclassified examples" in text and "[/quote]" in text
    assert "Notes class '[/b]' has a single row" in " ".join(text.split())
    assert "<i>" not in page.split("Most confidently misclassified examples")[1].split("</table>")[0]


def test_a_text_verdict_without_a_significant_difference_says_so(tmp_path: Path) -> None:
    run, details = _text_result(tmp_path, net_accuracy=0.55)
    assert details["recommendation"] == "no_significant_difference"
    text = " ".join(parse(build_report(run, strict=True).read_text(encoding="utf-8")).text)
    assert "No significant difference: prefer the cheaper model" in text


# ---------------------------------------------------------------------------------- as the commands write ---


def _tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each table's headers and rows of cell texts."""

    class T(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.out: list[tuple[list[str], list[list[str]]]] = []
            self.cell: list[str] | None = None
            self.row: list[str] = []

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag == "table":
                self.out.append(([], []))
            elif tag == "tr":
                self.row = []
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.row.append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "tr" and self.out:
                heads, rows = self.out[-1]
                if heads or rows:
                    rows.append(self.row)
                else:
                    heads.extend(self.row)

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    t = T()
    t.feed(page)
    return t.out


def _tiles(page: str) -> dict[str, str]:
    """The fact tiles (dt -> dd) of a page."""
    import re

    return {
        html.unescape(k): html.unescape(re.sub("<[^>]+>", "", v))
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page)
    }


def test_compare_report_shows_every_candidate_and_each_baseline_test(tmp_path: Path) -> None:
    # the fixture is verdict.json as `hyperselect compare cls.csv --target label --quick` writes it
    run = make_run(tmp_path, "compare")
    written = json.loads((run / "verdict.json").read_text(encoding="utf-8"))
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    tables = _tables(page)
    cands = next(rows for heads, rows in tables if "CV mean accuracy" in heads)
    heads = next(h for h, rows in tables if rows is cands)
    assert {
        "tune-valid accuracy",
        "CV sd",
        "test accuracy",
        "fit time / fold",
        "predict ms / 1k rows",
        "params",
    } <= set(heads)
    # one readable format per column: fit times in ms under a second (not 0.7622 next to 4.214e-03), sizes
    # with thousands separators at every size (not 1632 next to 34,790)
    col = {h: [r[heads.index(h)] for r in cands] for h in heads}
    assert {n.rstrip(" *"): t for n, t in zip(col["model"], col["fit time / fold"], strict=True)} == {
        "mlp": "762 ms",
        "linear": "19.7 ms",
        "naive_bayes": "4.21 ms",
        "knn": "6.72 ms",
        "random_forest": "448 ms",
        "hist_gradient_boosting": "397 ms",
        "svm": "15.8 ms",
    }
    assert "1,632" in col["params"] and "34,790" in col["params"] and "291" in col["params"]
    assert all(re.fullmatch(r"0\.\d{4}", x) for x in col["CV mean accuracy"])  # 4 decimals each
    names = [r[0] for r in cands]
    assert sorted(n.rstrip(" *") for n in names) == sorted(c["name"] for c in written["candidates"])
    assert "mlp *" in names and "svm *" in names  # the compared pair marked
    svm = next(r for r in cands if r[0] == "svm *")
    assert svm[heads.index("CV mean accuracy")] == "0.8588"
    tests = next((h, rows) for h, rows in tables if "p (Holm)" in h)
    by_name = {r[0]: dict(zip(tests[0], r, strict=True)) for r in tests[1]}
    assert set(by_name) == set(written["comparisons"])
    assert by_name["svm"]["p (Holm)"] == "0.7945" and by_name["svm"]["p (uncorrected)"] == "0.1501"
    assert by_name["linear"]["diff (accuracy)"] == "-0.03922"
    alts = [a.get("alt") for tag, a in parse(page).tags if tag == "img"]
    assert "Bar chart of the mean score of each model with error bars" in alts
    v = verdict_view(written)
    assert v is not None and v["effect"] is not None
    assert v["effect"]["estimate"] == written["test"]["mean_diff"]
    assert (v["effect"]["low"], v["effect"]["high"]) == (
        written["test"]["ci_low"],
        written["test"]["ci_high"],
    )


def test_verdict_tiles_say_which_p_value_each_is(tmp_path: Path) -> None:
    # a "Why" bullet quoted the Holm p (0.79), the tile "p-value (corrected resampled t)" the uncorrected 0.15
    page = build_report(make_run(tmp_path, "compare"), strict=True).read_text(encoding="utf-8")
    tiles = _tiles(page)
    assert "Holm-corrected p = 0.79" in page
    uncorrected = [k for k in tiles if k.startswith("p-value")]
    assert uncorrected == [
        "p-value, mlp vs svm (test: corrected resampled t; not corrected for the several baselines)"
    ]
    assert tiles[uncorrected[0]] == "0.1501"
    assert tiles["Holm-corrected p, mlp vs svm: the p the recommendation uses"] == "0.7945"


def test_parallel_coordinates_draw_absent_conditional_values_and_a_colour_bar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # momentum is sampled only for SGD with momentum: its absence cut every other trial's line short
    pos, ticks, labels, _ = plots._axis_values([0.9, None, 0.8, math.nan], missing=plots.NA_POS)
    assert not any(math.isnan(p) for p in pos)
    assert pos[1] == pos[3] == plots.NA_POS and labels[-1] == "n/a" and ticks[-1] == plots.NA_POS
    assert plots._axis_values(["adam", None], missing=plots.NA_POS)[0] == [0.0, plots.NA_POS]
    figures: list[Any] = []
    real = plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or real(fig))
    trials = [
        {"state": "COMPLETE", "value": 0.9, "params": {"optimizer": "adam", "momentum": None}},
        {"state": "COMPLETE", "value": 0.8, "params": {"optimizer": "adam"}},
        {"state": "PRUNED", "value": 0.5, "params": {"optimizer": "momentum", "momentum": 0.9}},
    ]
    plots.parallel_coordinates(trials, ["optimizer", "momentum"], True, "accuracy")
    (fig,) = figures
    ax = fig.axes[0]
    lines = [line.get_ydata() for line in ax.get_lines() if len(line.get_xdata()) == 3]
    assert len(lines) == 3 and all(not math.isnan(y) for ys in lines for y in ys)  # every one reaches it
    assert len(fig.axes) == 2 and "higher is better" in fig.axes[1].get_ylabel()


def test_graph_tune_tells_one_explained_trial_count(tmp_path: Path) -> None:
    # tune.json: params.n_trials 3, 4 trials of which one repeated setting was served from cache
    page = build_report(make_run(tmp_path, "graph"), strict=True).read_text(encoding="utf-8")
    tiles = _tiles(page)
    assert tiles["trials"] == "4: 3 evaluated, 1 repeated setting served from cache (3 asked for)"
    assert "n trials" not in tiles  # the bare 3 above a table of 4


def test_trials_table_shows_the_best_score_the_stop_reason_quotes(tmp_path: Path) -> None:
    # a trial record as tune writes it in result.json: value is the last epoch's, the reason quotes the best
    pruned = {
        "number": 3,
        "state": "PRUNED",
        "value": 0.3111111111111111,
        "epochs": 4,
        "reason": "successive halving: best score so far 0.3333 below the top 1/3 (0.8444) of 9 at 4 epochs",
        "params": {"optimizer": "momentum", "momentum": 0.877},
        "intermediate_values": {"0": 0.3333333333333333, "1": 0.3333333333333333, "3": 0.3111111111111111},
    }
    done = {"number": 6, "state": "COMPLETE", "value": 0.9111, "params": {"optimizer": "adam"}}
    run = tmp_path / "r"
    write_json(
        run / "result.json",
        {"score_name": "accuracy", "best_config": {"optimizer": "adam"}, "trials": [pruned, done]},
    )
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    heads, rows = next(t for t in _tables(page) if "trial" in t[0] and "state" in t[0] and len(t[0]) > 3)
    assert heads[2:4] == ["accuracy (trial value)", "best accuracy over epochs"]
    row = next(r for r in rows if r[0] == "3")
    assert row[2:4] == ["0.3111", "0.3333"]  # the figure the reason quotes, under a header that says which
    # trials.csv carries the best score as a column of its own
    s = search_view(None, [{"number": "3", "state": "PRUNED", "value": "0.3111", "best_score": "0.3333"}])
    assert s is not None and s["trials"][0]["best_score"] == 0.3333


def test_graph_similar_says_how_it_ranks_and_the_effort_used(tmp_path: Path) -> None:
    # similar.json: params num_walks/epochs/ensemble "auto"; effort holds the values used (20, 3, 5)
    run = make_run(tmp_path, "graph")
    for name in ("embed.json", "recommend.json", "classify.json", "tune.json"):
        (run / name).unlink()
    text = " ".join(" ".join(parse(build_report(run, strict=True).read_text(encoding="utf-8")).text).split())
    assert "Ranked by mean rank over 5 ensemble runs, not by the similarity shown" in text
    assert "num walks 20 (auto)" in text and "epochs 3 (auto)" in text and "ensemble 5 (auto)" in text
    assert " auto " not in f" {text} ".replace("(auto)", "")
    # classify: the same, and the ensemble given (1) not repeated as an effort tile
    run2 = make_run(tmp_path, "graph", name="c")
    for name in ("embed.json", "recommend.json", "similar.json", "tune.json"):
        (run2 / name).unlink()
    text = " ".join(" ".join(parse(build_report(run2, strict=True).read_text(encoding="utf-8")).text).split())
    assert "num walks 20 (auto)" in text and "epochs 3 (auto)" in text and "ensemble 1" in text
    assert "effort: ensemble" not in text and "Ranked by mean rank" not in text


# ----------------------------------------------------------------------------------------- the demo's tour ---


def make_tour(tmp_path: Path) -> Path:
    """A tour as ``hyperselect demo`` writes it: each step's results in a folder of its own, on its own data,
    each with its page, and tour.json naming the steps, their folders and data."""
    from rich.console import Console

    from hyperselect.demo import DemoContext, step_report

    root = tmp_path / "tour"
    for folder, kind in (("tune_bc", "tune"), ("compare_cls", "compare"), ("graph_women", "graph")):
        make_run(root, kind, name=folder)
    ctx = DemoContext(quick=True, out=root, console=Console(quiet=True))
    ctx.results = {
        "tune": {"parts": [{"folder": "tune_bc", "data": "breast_cancer", "what": "a search"}]},
        "verdict": {"parts": [{"folder": "compare_cls", "data": "cls.csv", "what": "network vs baselines"}]},
        "graph": {"parts": [{"folder": "graph_women", "data": "Davis Southern Women", "what": "node2vec"}]},
    }
    out = step_report(ctx)
    assert Path(out["report"]) == root / "report.html"
    assert sorted(Path(p).parent.name for p in out["other_reports"]) == [
        "compare_cls",
        "graph_women",
        "tune_bc",
    ]
    return root


def test_the_demo_tour_is_one_coherent_page_that_links_each_steps_page(tmp_path: Path) -> None:
    # F7: the tour's page said "These files come from different runs" (digits search beside the mnist1d
    # verdict), drew two graphs under one settings block and linked none of the per-step pages
    root = make_tour(tmp_path)
    tour = json.loads((root / "tour.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in tour["steps"]] == ["tune", "verdict", "graph"]
    page = (root / "report.html").read_text(encoding="utf-8")
    doc = parse(page)
    assert "mixed" not in doc.ids and doc.ids[0] == "tour"
    assert doc.ids[:3] == ["tour", "step-1", "tune_bc-best-config"]
    assert {"compare_cls-verdict", "compare_cls-baselines", "graph_women-graph"} <= set(doc.ids)
    hrefs = [a["href"] for t, a in doc.tags if t == "a" and not str(a.get("href")).startswith("#")]
    assert hrefs == ["tune_bc/report.html", "compare_cls/report.html", "graph_women/report.html"]
    for href in hrefs:
        assert (root / str(href)).is_file()
        # each step's own page leads back to the tour (the demo audit: they were dead ends)
        step_page = build_report((root / str(href)).parent).read_text(encoding="utf-8")
        step_nav = step_page.split("<nav>", 1)[1].split("</nav>", 1)[0]
        assert '<a href="../report.html"' in step_nav and "the tour" in step_nav
    titles = [s.group(1) for s in re.finditer(r"<h2>(.*?)</h2>", page)]
    assert "Verdict · cls.csv" in titles and "Best configuration · breast_cancer" in titles
    assert "Graph embeddings · Davis Southern Women" in titles
    assert titles[1] == "Step 1. Hyperparameter search on digits: priors, populations, successive halving"
    text = " ".join(" ".join(doc.text).split())
    assert "breast_cancer : a search; its own page: tune_bc/report.html" in text
    # the nav lists the steps, not every section of every step
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert nav.count("<a ") == 4 and "step-3" in nav
    # without the manifest the same files in one folder are still drawn (and flagged where they differ)
    (root / "tour.json").unlink()
    with pytest.raises(DataError, match="nothing to report"):
        build_report(root, strict=True)


def test_a_tour_manifest_cannot_point_outside_its_folder(tmp_path: Path) -> None:
    root = make_tour(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    write_json(
        root / "tour.json",
        {
            "steps": [
                {"name": "x", "title": "Escape", "parts": [{"folder": "../elsewhere"}, {"folder": "/etc"}]},
                {"name": "y", "title": "Fine", "parts": [{"folder": "tune_bc", "data": "bc"}]},
            ]
        },
    )
    page = build_report(root, strict=True).read_text(encoding="utf-8")
    assert "elsewhere" not in page and "/etc" not in page and "tune_bc/report.html" in page


def test_support_says_against_which_k_it_counts(tmp_path: Path) -> None:
    # F7 (d): the same three women had support 80 % in "most similar" (k=3) and 100 % in "closest peers"
    # (k=10) with nothing on the page saying why
    run = make_run(tmp_path, "graph")
    text = " ".join(" ".join(parse(build_report(run, strict=True).read_text(encoding="utf-8")).text).split())
    assert "support: share of the 5 runs with it in their top 5." in text  # similar.json params k=5
    assert "support: share of the 5 runs with it in their top 10." in text  # 10 peers


def test_learning_curve_trend_says_improving_faster_and_who_leads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # F8: "trend: baseline pulling ahead" under a chart where the network leads at every size
    from hyperselect.report.views import learning_curve_view

    lc = {
        "fractions": [0.25, 0.5, 1.0],
        "network": [0.713, 0.857, 0.942],
        "baseline": [0.461, 0.596, 0.773],
        "trend": "baseline_pulling_ahead",
    }
    (note,) = learning_curve_view(lc)["notes"]
    assert "pulling ahead" not in note
    assert "the baseline is improving faster" in note
    assert "the network still leads at every size: the baseline is catching up, not ahead" in note
    (note,) = learning_curve_view({**lc, "trend": "network_pulling_ahead"})["notes"]
    assert "the network leads at every size, so its lead would likely grow" in note
    # the legend names the models the curves are of
    seen: dict[str, Any] = {}

    def spy(fractions: Any, curves: Any, spreads: Any = None, metric: str = "score") -> bytes:
        seen.update(curves)
        return plots.importances({"a": 1.0})

    monkeypatch.setattr(plots, "learning_curve_fraction", spy)
    verdict = json.loads((FIXTURES / "compare" / "verdict.json").read_text(encoding="utf-8"))
    page = render_report(load_run(write_json(tmp_path / "verdict.json", verdict).parent))
    assert set(seen) == {"network (mlp)", "baseline (svm)"}
    assert "the baseline is improving faster" in page


def _figure_of(monkeypatch: pytest.MonkeyPatch, draw: Any) -> Any:
    figs: list[Any] = []
    png = plots._png

    def keep(fig: Any) -> bytes:
        figs.append(fig)
        return png(fig)

    monkeypatch.setattr(plots, "_png", keep)
    draw()
    return figs[-1]


@pytest.mark.parametrize("which", ["training", "trials", "fraction"])
def test_legends_are_drawn_outside_the_data(monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    # F10: the training plot's legend (upper right) covered the dashed validation line, which sat right there
    hist = {"epoch": [1, 2, 3, 4], "train_loss": [1, 0.5, 0.3, 0.2], "valid_loss": [1.1, 0.6, 0.4, 0.35]}
    hist["valid_score"] = [0.85, 0.9, 0.91, 0.91]
    draw = {
        "training": lambda: plots.training_curves(hist, "valid accuracy"),
        "trials": lambda: plots.trial_learning_curves(
            [(f"trial {i}", [(1, 0.1 * i), (2, 0.1 * i + 0.2)]) for i in range(5)], [[(1, 0.9), (2, 0.95)]]
        ),
        "fraction": lambda: plots.learning_curve_fraction(
            [0.25, 0.5, 1.0], {"network": [0.7, 0.85, 0.94], "baseline": [0.5, 0.6, 0.95]}
        ),
    }[which]
    fig = _figure_of(monkeypatch, draw)
    renderer = fig.canvas.get_renderer()
    legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
    assert len(legends) == 1
    box = legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), which


def test_best_configuration_shows_grouped_reasons_and_unused_settings(tmp_path: Path) -> None:
    # F11: "…on tabular data width: log scale…" (three reasons glued), a CNN's channels hidden under "Other
    # settings", and momentum 0.9 shown as the best value of an RMSProp configuration
    run = make_run(tmp_path, "tune")
    result = json.loads((run / "result.json").read_text(encoding="utf-8"))
    result["best_config"].update(
        arch="cnn", channels=[15, 30], kernel_size=5, pool="max", optimizer="rmsprop"
    )
    result["space"]["reasons"].update(
        n_conv="1-2 conv blocks, each pooling by 2", conv_channels="channels of the first block, log scale"
    )
    result["space"]["dims"].update(
        n_conv={"type": "int", "low": 1, "high": 2},
        conv_channels={"type": "int", "low": 8, "high": 64, "log": True},
    )
    write_json(run / "result.json", result)
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    best = page.split('id="best-config"', 1)[1].split("</section>", 1)[0]
    row = {r.split("</td>", 1)[0].split(">", 1)[-1].split("<", 1)[0]: r for r in best.split("<tr>")[2:]}
    assert "hidden (dense layers after the convolutions)" in row
    hidden = row["hidden (dense layers after the convolutions)"]
    assert (
        hidden.count("<li>") == 3
        and "<strong>n_layers</strong>:" in hidden
        and "<strong>width</strong>:" in hidden
    )
    assert "<code>15, 30</code>" in row["channels"] and "<strong>conv_channels</strong>:" in row["channels"]
    assert "n_conv 1 to 2; conv_channels 8 to 64 (log)" in row["channels"]
    assert "not used: the rmsprop optimizer has no momentum" in row["momentum"]
    assert "<code>0.9</code>" not in row["momentum"]
    other = best.split("Other choices of the advisor", 1)[-1] if "Other choices" in best else ""
    assert "conv_channels" not in other and "n_conv" not in other
    # the settings that go with Adam only are marked too, in the details
    details = best.split("<details>", 1)[1]
    assert "not used: the rmsprop optimizer has no beta1" in details
    assert "not used: the loss is not Huber" in details


def test_cosmetics_of_tables_tiles_and_bar_charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # F12: a text run's candidates table had kind/std/splits columns of "–" only
    run, _ = _text_result(tmp_path, net_accuracy=0.95)
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    heads = re.findall(r"<th>(.*?)</th>", page.split('id="baselines"', 1)[1].split("</table>", 1)[0])
    assert heads == [
        "model",
        "test accuracy",
    ]  # no kind, std or splits column of "–" only; one split: no "mean"
    # compare's Data block: labelled tiles, not a key dump
    text = " ".join(
        " ".join(
            parse(
                build_report(make_run(tmp_path, "compare", name="c"), strict=True).read_text(encoding="utf-8")
            ).text
        ).split()
    )
    data = text.split("Data ", 1)[1]
    assert data.startswith(
        "data cls.csv kind table task multiclass rows (train / valid / test) 210 / 45 / 45"
    )
    assert "training rows per class a: 70, b: 71, c: 69" in data and "n_train" not in data and "–" not in data
    # a tile's list of names breaks after its commas, never inside a word ("netwo/rk")
    run = make_run(tmp_path, "graph", name="g")
    for name in ("embed.json", "recommend.json", "similar.json", "tune.json"):
        (run / name).unlink()
    shutil.rmtree(run / "embeddings")  # classify.json's own parameters, not the saved embeddings'
    assert "<dd>logreg,<wbr>random_forest</dd>" in build_report(run, strict=True).read_text(encoding="utf-8")
    # bar charts start at 0 where the scores spread over much of the way from 0 ...
    models = [{"name": "a", "mean": 0.56, "std": 0.05}, {"name": "b", "mean": 0.97, "std": 0.02}]
    fig = _figure_of(monkeypatch, lambda: plots.baseline_comparison(models, "accuracy"))
    assert fig.axes[0].get_xlim()[0] == 0.0 and "not 0" not in fig.axes[0].get_xlabel()
    # ... but not where they sit far from it, close together: 0.917 and 0.983 were two bars of one length;
    # the axis starts near the data and says so
    models = [{"name": "a", "mean": 0.917, "std": 0.0}, {"name": "b", "mean": 0.983, "std": 0.0}]
    fig = _figure_of(monkeypatch, lambda: plots.baseline_comparison(models, "accuracy"))
    low = fig.axes[0].get_xlim()[0]
    assert 0.85 < low < 0.917 and f"axis starts at {low:.3g}, not 0" in fig.axes[0].get_xlabel()
    assert "std" not in fig.axes[0].get_xlabel()
    models = [{"name": "a", "mean": -0.2, "std": 0.05}, {"name": "b", "mean": 0.4, "std": 0.05}]
    fig = _figure_of(monkeypatch, lambda: plots.baseline_comparison(models, "r2"))
    assert fig.axes[0].get_xlim()[0] < -0.2 and "not 0" in fig.axes[0].get_xlabel()


def test_regression_losses_say_they_are_on_the_standardised_target(tmp_path: Path) -> None:
    run = make_run(tmp_path, "train")
    result = json.loads((run / "result.json").read_text(encoding="utf-8"))
    write_json(
        run / "result.json",
        {**result, "task": "regression", "metrics": {"test_loss": 0.0063, "test_rmse": 36.1}},
    )
    text = " ".join(" ".join(parse(build_report(run, strict=True).read_text(encoding="utf-8")).text).split())
    assert "test loss (standardised target) 0.0063" in text and "test rmse 36.1" in text
    assert "The losses (and the best value an early stop quotes) are on the standardised target" in text


def test_a_trend_note_calls_curves_level_where_the_verdict_does() -> None:
    """Before: the page said 'the network leads ... its lead would likely grow' at a gap of 2e-5, where the
    verdict's reasons (four decimals) call the curves level."""
    from hyperselect.report.views import _trend_note

    text = _trend_note("network_pulling_ahead", [0.6, 0.90002], [0.8, 0.9])
    assert "the two are level at the largest size" in text and "lead" not in text


# ------------------------------------------------------------------------- the p the verdict decided with ---


@pytest.mark.parametrize(
    ("basis", "baseline", "label"),
    [
        ("holm", "linear", "Holm-corrected p, mlp vs linear"),
        ("every_baseline", "naive_bayes", "p that mlp beats every baseline (largest per-baseline p)"),
    ],
)
def test_the_report_shows_the_p_value_the_verdict_recorded(
    tmp_path: Path, basis: str, baseline: str, label: str
) -> None:
    # the report re-derived the decision's p from the comparisons; the verdict now records the one it used
    written = json.loads((FIXTURES / "compare" / "verdict.json").read_text(encoding="utf-8"))
    recorded = {"decision_p_value": 0.4321, "decision_p_basis": basis, "decision_p_baseline": baseline}
    run = write_json(tmp_path / "r" / "verdict.json", {**written, **recorded}).parent
    tiles = _tiles(build_report(run, strict=True).read_text(encoding="utf-8"))
    decision = [k for k in tiles if k.endswith(": the p the recommendation uses")]
    assert decision == [f"{label}: the p the recommendation uses"] and tiles[decision[0]] == "0.4321"


def test_a_verdict_written_before_the_decision_p_was_recorded_still_shows_it(tmp_path: Path) -> None:
    written = json.loads((FIXTURES / "compare" / "verdict.json").read_text(encoding="utf-8"))
    assert not any(k.startswith("decision_p") for k in written)  # the fixture is an old-style verdict.json
    tiles = _tiles(build_report(make_run(tmp_path, "compare"), strict=True).read_text(encoding="utf-8"))
    # derived as the decision did: the baseline leads, not significantly after Holm
    assert tiles["Holm-corrected p, mlp vs svm: the p the recommendation uses"] == "0.7945"
    # an unknown basis (a later format) is not trusted: the derivation speaks
    v = verdict_view({**written, "decision_p_value": 0.5, "decision_p_basis": "bayes"})
    assert v is not None and v["decision_p"] == (
        "Holm-corrected p, mlp vs svm",
        written["comparisons"]["svm"]["p_holm"],
    )


@pytest.mark.parametrize(
    "trend", ["baseline_improving_faster", "baseline_pulling_ahead", "network_improving_faster"]
)
def test_trend_names_old_and_new_are_both_understood(trend: str) -> None:
    # verdict.json files written before the rename say "pulling_ahead"; the note reads the same either way
    from hyperselect.report.views import learning_curve_view

    lc = {"fractions": [0.5, 1.0], "network": [0.8, 0.9], "baseline": [0.5, 0.7], "trend": trend}
    (note,) = learning_curve_view(lc)["notes"]
    side = trend.split("_", 1)[0]
    assert f"the {side} is improving faster with more data" in note
    assert "pulling" not in note and "improving_faster" not in note
    assert "the network leads at every size" in note or "the network still leads at every size" in note


# ------------------------------------------------------------------------------ number formats in tables ---


def test_each_trials_column_has_one_number_format(tmp_path: Path) -> None:
    # F12: "lr 0.001637 next to 4.650e-04" in one column, and "–" left-aligned among right-aligned numbers
    trials = [
        {
            "number": 0,
            "state": "COMPLETE",
            "value": 0.9,
            "epochs": 20,
            "params": {"lr": 0.001637, "dropout": 0.2},
        },
        {
            "number": 1,
            "state": "COMPLETE",
            "value": 1,
            "epochs": 7,
            "params": {"lr": 0.000465, "dropout": 0.05},
        },
        {"number": 2, "state": "FAIL", "value": None, "params": {"lr": 0.0184}},
    ]
    space = {"dims": {"lr": {"low": 1e-4, "high": 0.1, "log": True}, "dropout": {"low": 0.0, "high": 0.5}}}
    run = write_json(
        tmp_path / "r" / "result.json",
        {"score_name": "accuracy", "best_config": {"lr": 0.001637}, "space": space, "trials": trials},
    ).parent
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    heads, rows = next(t for t in _tables(page) if t[0][:2] == ["trial", "state"])
    col = {h: [r[i] for r in rows] for i, h in enumerate(heads)}
    assert col["accuracy"] == ["1.0000", "0.9000", "–"]  # the integer 1 of a float column, as a float
    assert col["epochs"] == ["7", "20", "–"]  # integers as integers
    assert col["lr"] == ["4.650e-04", "1.637e-03", "1.840e-02"]  # log-scaled: scientific, every one
    assert col["dropout"] == ["0.0500", "0.2000", "–"]
    trial_table = page.split("<h3>Trials</h3>", 1)[1].split("</table>", 1)[0]
    blank_cells = re.findall(r'<td( class="num")?>–</td>', trial_table)
    assert blank_cells and all(blank_cells)  # right-aligned with the numbers of their column


def test_column_format() -> None:
    from hyperselect.report.html import column_format

    assert column_format([1, 2, None, "x"]) is None  # integers: as they are
    assert column_format([0.5, 2.25]) is not None and column_format([0.5, 2.25])(2.25) == "2.2500"
    assert column_format([26.33, 1.857, 0])(1.857) == "1.857"  # 4 significant digits of the largest
    assert column_format([0.01, 0.0002])(0.01) == "1.000e-02"  # one tiny value: the column is scientific
    assert column_format([0.01, 0.2], scientific=True)(0.2) == "2.000e-01"


# ------------------------------------------------------------------------------------------- graph tune ---


def test_graph_tune_headers_name_what_the_columns_hold(tmp_path: Path) -> None:
    # F12: the trials table's columns were headed "number" and "score" (its raw JSON keys)
    page = build_report(make_run(tmp_path, "graph"), strict=True).read_text(encoding="utf-8")
    tune = page.split("Selection of p, q and the dimension", 1)[1]
    heads, rows = _tables(tune)[0]
    assert heads[0] == "trial" and "validation Macro-F1" in heads
    assert "number" not in heads and "score" not in heads and "walks_reused" not in heads
    assert [r[heads.index("validation Macro-F1")] for r in rows] == ["0.4000"] * 4
    assert [r[heads.index("served from cache")] for r in rows] == ["–", "–", "–", "yes"]


def test_optimization_history_points_stand_clear_of_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    # F12: graph tune's three lowest points (0.8889) sat on the x axis, the first and last trial on the sides
    scores = [1.0, 1.0, 0.8889, 1.0, 0.8889, 0.95, 0.8889]
    trials = [{"number": i, "value": v, "state": "COMPLETE"} for i, v in enumerate(scores)]
    trials.append({"number": 7, "value": 0.7, "state": "PRUNED"})
    fig = _figure_of(monkeypatch, lambda: plots.optimization_history(trials, True, "validation Macro-F1"))
    ax = fig.axes[0]
    fig.canvas.draw()
    box = ax.get_window_extent()
    points = [p for c in ax.collections for p in ax.transData.transform(c.get_offsets())]
    assert len(points) == len(trials)
    for x, y in points:  # a marker is ~5 px across: it stands whole and clear of the spines
        assert box.x0 + 20 <= x <= box.x1 - 20 and box.y0 + 20 <= y <= box.y1 - 20, (x, y, box)
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend()
    assert legend is not None and not legend.get_window_extent(renderer).overlaps(box)


# --------------------------------------------------------------------------------------------- tour nav ---


def test_the_tour_nav_names_each_step_briefly(tmp_path: Path) -> None:
    # at 1280 px the bar of whole step titles broke "...successive / halving" over two ragged lines
    root = make_tour(tmp_path)
    page = (root / "report.html").read_text(encoding="utf-8")
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a href="#([^"]+)"(?: title="([^"]*)")?>(.*?)</a>', nav)
    assert [text for _, _, text in links] == ["The tour", "Step 1: tune", "Step 2: verdict", "Step 3: graph"]
    assert html.unescape(links[1][1]).startswith("Step 1. Hyperparameter search on digits")  # the full title
    assert "flex-wrap:wrap" in page.split("nav{", 1)[1].split("}", 1)[0]


# ------------------------------------------------------------------------------ the audit's findings (B) ---


def _compare_verdict(tmp_path: Path, **changes: Any) -> tuple[Path, dict[str, Any]]:
    """The compare fixture's verdict.json with ``changes`` applied, in a run folder of its own."""
    v = json.loads((FIXTURES / "compare" / "verdict.json").read_text(encoding="utf-8"))
    v.update(changes)
    return write_json(tmp_path / "run" / "verdict.json", v).parent, v


def _heading(page: str) -> str:
    return html.unescape(page.split('<div class="verdict-head">', 1)[1].split("</div>", 1)[0])


def test_the_headline_names_the_preferred_model_and_the_basis_the_reasons_give(tmp_path: Path) -> None:
    """The headline read "prefer the cheaper model" over reasons that preferred the better scoring."""
    # as recorded by the verdict
    better = (
        "No significant difference between the network (mlp) and the best baseline (svm): ... Prefer the better "
        "scoring, as neither is clearly cheaper to fit, to predict and to store: svm."
    )
    run, v = _compare_verdict(tmp_path, preferred_because="better_score")
    v["reasons"][0] = better
    write_json(run / "verdict.json", v)
    head = _heading(build_report(run, strict=True).read_text(encoding="utf-8"))
    assert (
        head
        == "No significant difference: prefer the better-scoring model (svm), as neither is clearly cheaper"
    )
    # an older verdict.json without preferred_because: read from its first reason
    del v["preferred_because"]
    assert verdict_view(v)["headline"] == head  # type: ignore[index]
    page = build_report(make_run(tmp_path, "compare", name="old"), strict=True).read_text(encoding="utf-8")
    assert (
        _heading(page) == "No significant difference: prefer the cheaper model (svm)"
    )  # "Prefer the cheaper"
    # the other recommendations name their model
    assert verdict_view({"recommendation": "baseline", "preferred_model": "svm"})["headline"] == (  # type: ignore[index]
        "Use the classic baseline (svm)"
    )


def test_the_compare_page_shows_each_search_and_the_tuned_hyperparameters(tmp_path: Path) -> None:
    """A --timeout 0.01s search left no trace on the page (nor in verdict.json); the tuned settings were only in
    the JSON."""
    searches = {
        "mlp": {
            "kind": "network",
            "asked": 4,
            "finished": 4,
            "completed": 0,
            "pruned": 4,
            "pruned_by_timeout": 4,
            "failed": 0,
            "best_trial": 2,
            "best_trial_epochs": 1,
            "max_epochs": 20,
            "searched": ["lr", "width", "n_layers", "dropout", "optimizer", "momentum"],
            "seconds": 0.5,
        },
        "svm": {"kind": "baseline", "asked": 3, "finished": 2, "completed": 2, "failed": 0, "seconds": 0.1},
    }
    run, v = _compare_verdict(tmp_path, searches=searches)
    v["protocol"]["timeout"] = 0.01
    write_json(run / "verdict.json", v)
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert "The network search of mlp was cut short" in page
    heads, rows = next((h, r) for h, r in _tables(page) if "trials" in h)
    by_name = {r[0].rstrip(" *"): dict(zip(heads, r, strict=True)) for r in rows}
    assert by_name["mlp"]["by timeout"] == "4" and by_name["mlp"]["completed"] == "0"
    assert by_name["mlp"]["epochs"] == "1 / 20"
    assert (by_name["svm"]["trials"], by_name["svm"]["finished"]) == ("3", "2")
    mlp = by_name["mlp"]["hyperparameters (* compared)"]
    assert (
        "hidden 24" in mlp and "lr 0.00164" in mlp and "optimizer rmsprop" in mlp and "dropout 0.363" in mlp
    )
    assert "momentum" not in mlp and "beta1" not in mlp  # RMSProp uses neither
    assert "other settings at their defaults" in mlp
    assert by_name["svm"]["hyperparameters (* compared)"] == "C 1 · gamma_factor 1"
    assert "timeout 0.01 s per search" in page


def test_the_learning_curve_has_its_numbers_under_it(tmp_path: Path) -> None:
    page = build_report(make_run(tmp_path, "compare"), strict=True).read_text(encoding="utf-8")
    heads, rows = next((h, r) for h, r in _tables(page) if "training rows" in h)
    assert heads == [
        "training rows",
        "network (mlp) accuracy",
        "baseline (svm) accuracy",
        "gap (network − baseline)",
    ]
    assert rows == [
        ["52 (25%)", "0.6889", "0.6667", "0.0222"],
        ["105 (50%)", "0.7111", "0.7556", "-0.0444"],
        ["210 (100%)", "0.7333", "0.8444", "-0.1111"],
    ]
    assert "Learning curve (each point scored on the same 45 rows of the test split)" in page


def test_one_baseline_is_not_corrected_over_the_1_baselines(tmp_path: Path) -> None:
    v = json.loads((FIXTURES / "compare" / "verdict.json").read_text(encoding="utf-8"))
    v["comparisons"] = {"svm": v["comparisons"]["svm"]}
    run = write_json(tmp_path / "run" / "verdict.json", v).parent
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert "over the 1 baselines" not in page and "one baseline, so Holm&#x27;s correction" in page
    assert "Holm-corrected over the 6 baselines" in build_report(
        make_run(tmp_path, "compare", name="six")
    ).read_text(encoding="utf-8")


def test_bar_values_stand_clear_of_the_bars_dots_and_error_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    """The value labels sat on the bars' ends, under the split dots and error bars."""
    models = [
        {"name": "a", "mean": 0.97, "std": 0.02, "scores": [0.95, 0.97, 0.99]},
        {"name": "b", "mean": 0.56, "std": 0.05, "scores": [0.5, 0.56, 0.62]},
    ]
    fig = _figure_of(monkeypatch, lambda: plots.baseline_comparison(models, "accuracy"))
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    labels = [t for t in ax.texts if t.get_text() in ("0.9700", "0.5600")]
    assert len(labels) == 2
    frame = ax.get_window_extent(renderer)
    for t in labels:
        box = t.get_window_extent(renderer)
        assert box.x0 >= frame.x1 and box.x1 <= fig.bbox.x1  # right of the axes, inside the figure


def test_whole_number_settings_read_as_floats_are_shown_as_integers() -> None:
    """The demo's trials table showed conv_channels 2.100e+01 and n_conv 2.0000 (ints read back as floats beside
    empty cells); a column of scores that are all 1.0 stays a score."""
    from hyperselect.report.html import column_format

    fmt_channels = column_format([21.0, 24.0, None], scientific=True)
    assert fmt_channels is not None and fmt_channels(21.0) == "21"
    fmt_layers = column_format([2.0, 3.0])
    assert fmt_layers is not None and fmt_layers(3.0) == "3"
    fmt_scores = column_format([1.0, 1.0])
    assert fmt_scores is not None and fmt_scores(1.0) == "1.0000"
    fmt_lr = column_format([1e-3, 2e-3], scientific=True)
    assert fmt_lr is not None and fmt_lr(1e-3) == "1.000e-03"


def test_point_names_in_a_projection_are_placed_apart() -> None:
    """The demo audit: on the Davis projection the names of near neighbours were printed on top of each other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperselect.report.plots import _annotate_apart

    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    points = [[0.0, 0.0], [10.0, 10.0]] + [[5.0 + 0.02 * i, 5.0 + 0.01 * i] for i in range(5)]
    ax.scatter([p[0] for p in points], [p[1] for p in points])
    _annotate_apart(ax, fig, points, [f"name {i}" for i in range(len(points))])
    fig.canvas.draw()
    from matplotlib.text import Text

    boxes = [Text.get_window_extent(t) for t in ax.texts]  # the text alone, not its leader line
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plt.close(fig)
    assert len(boxes) == len(points) and overlaps == 0


def test_parallel_coordinates_with_one_score_draw_no_scale_past_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # every complete trial at accuracy 1.0: matplotlib widened the colour bar to 0.9-1.1 (an accuracy of 1.1)
    figures: list[Any] = []
    real = plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or real(fig))
    trials = [
        {"state": "COMPLETE", "value": 1.0, "params": {"lr": 0.01}},
        {"state": "COMPLETE", "value": 1.0, "params": {"lr": 0.02}},
        {"state": "PRUNED", "value": 0.5, "params": {"lr": 0.5}},
    ]
    plots.parallel_coordinates(trials, ["lr"], True, "accuracy")
    (fig,) = figures
    assert len(fig.axes) == 1  # no colour bar
    assert any("every complete trial: accuracy 1" in t.get_text() for t in fig.axes[0].texts)
