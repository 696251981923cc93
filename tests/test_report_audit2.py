"""The second audit of the text and graph report pages: each finding's fix on a run folder written here."""

from __future__ import annotations

import html
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from hyperselect.report import build_report, plots


def write(run: Path, name: str, obj: Any) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / name).write_text(json.dumps(obj), encoding="utf-8")
    return run


def page_text(run: Path) -> str:
    """The page's visible text, one space between words."""
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"</?(code|strong)>", "", page)  # inline: "<code>77</code>'s" reads "77's"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def tiles(run: Path) -> dict[str, str]:
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    return {
        html.unescape(k): html.unescape(re.sub("<[^>]+>", "", v))
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page)
    }


# ------------------------------------------------------------------------------------------------ text ---


def _model(key: str, name: str, acc: float, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "accuracy": acc,
        "balanced_accuracy": acc,
        "macro_f1": acc,
        "report": {"a": {"precision": acc, "recall": acc, "f1-score": acc, "support": 10}},
        "confusion": [[8, 2], [1, 9]],
        "confident_errors": [],
        "seconds": 1.5,
        **extra,
    }


def text_result(**over: Any) -> dict[str, Any]:
    """A text_result.json as `hyperselect text` writes it (two classes, five models)."""
    net_config = {"hidden": [46], "activation": "gelu", "lr": 0.003, "batch_size": 64, "arch": "mlp"}
    res: dict[str, Any] = {
        "data": {
            "source": "reviews/dropempty.csv",
            "text_column": "description",
            "label_column": "country",
            "n_read": 300,
            "n_rows": 294,
            "n_duplicates_dropped": 0,
            "n_empty_dropped": 2,
            "n_missing_label_dropped": 2,
            "n_other_classes_dropped": 2,
            "n_balanced_away": 0,
            "n_classes": 2,
            "class_counts": {"US": 150, "Italy": 144},
            "notes": ["dropped 2 empty or missing text(s)", "dropped 2 row(s) with no 'country'"],
        },
        "split": {"train": 212, "valid": 24, "test": 58},
        "classes": ["US", "Italy"],
        "models": {
            "nb": _model(
                "nb",
                "Naive Bayes (word counts)",
                0.70,
                details={"alpha": 0.1, "valid_accuracy": {"0.1": 0.66, "1.0": 0.6}},
            ),
            "tfidf_lr": _model(
                "tfidf_lr",
                "TF-IDF + logistic regression",
                0.72,
                details={"C": 3.0, "valid_accuracy": {"3.0": 0.71}},
            ),
            "emb_lr": _model(
                "emb_lr",
                "MiniLM embeddings + logistic regression",
                0.90,
                details={"C": 1.0, "valid_accuracy": {"1.0": 0.88}},
                encoding_seconds=51.25,
                total_seconds=52.75,
            ),
            "emb_net": _model(
                "emb_net",
                "MiniLM embeddings + tuned network",
                0.91,
                details={
                    "n_trials": 6,
                    "best_config": net_config,
                    "best_valid_score": 0.87,
                    "counts": {"COMPLETE": 2, "PRUNED": 4, "FAIL": 0, "finished": 6},
                    "valid_rows": "re-drawn stratified from train+valid",
                },
            ),
        },
        "verdict": "The classic baseline wins: ...",
        "verdict_details": {
            "recommendation": "baseline",
            "best_network": "emb_net",
            "best_classic": "tfidf_lr",
            "metric": "accuracy",
            "score_difference": -0.1,
            "p_value": 0.01,
            "test": "exact McNemar",
            "alpha": 0.05,
            "n_test": 58,
            "selection": "validation",
            "valid_scores": {"nb": 0.66, "tfidf_lr": 0.71, "emb_lr": 0.88, "emb_net": 0.87},
        },
        "encoding": {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "max_seq_length": 128,
            "n_texts": 294,
            "n_distinct": 294,
            "n_cached": 0,
            "n_encoded": 294,
            "seconds": 51.25,
            "texts_per_second": 5.7,
        },
        "notes": ["probabilities re-weighted from training class priors to uniform (balanced test set)"],
        "metric": "accuracy",
    }
    res.update(over)
    return res


def test_text_data_table_counts_add_up_and_shows_the_loading_notes(tmp_path: Path) -> None:
    # text #2: 300 read − 2 empty − 2 without a label − 2 other classes = 294; the empty ones were untold
    run = write(tmp_path / "run", "text_result.json", text_result())
    t = tiles(run)
    assert t["rows read"] == "300" and t["empty texts dropped"] == "2" and t["texts kept"] == "294"
    assert t["rows without a label dropped"] == "2" and t["texts per class"] == "US: 150, Italy: 144"
    text = page_text(run)
    notes = text.split("Notes", 1)[1]
    assert "dropped 2 empty or missing text(s)" in notes and "re-weighted from training class priors" in notes
    # a file written before the count: no tile for it, never "None"
    old = text_result()
    del old["data"]["n_empty_dropped"]
    run = write(tmp_path / "old", "text_result.json", old)
    assert "empty texts dropped" not in tiles(run) and "None" not in page_text(run)


def _embeddings_details(**more: Any) -> dict[str, Any]:
    return {
        "recommendation": "embeddings",
        "best_network": "emb_net",
        "best_classic": "tfidf_lr",
        "preferred_model": "emb_lr",
        "metric": "accuracy",
        "score_difference": 0.19,
        "p_value": 1.5e-10,
        "network_vs_embeddings": {"difference": 0.004695, "p_value": 0.5},
        "test": "exact McNemar",
        "alpha": 0.05,
        "n_test": 58,
        **more,
    }


def test_the_embeddings_verdict_says_so_and_never_calls_emb_lr_a_baseline(tmp_path: Path) -> None:
    # text #3: the report said "best baseline: MiniLM embeddings + LR", "(network − classic) 0.004695"
    details = _embeddings_details(embeddings_vs_classic={"difference": 0.18, "p_value": 1.2e-9})
    run = write(tmp_path / "run", "text_result.json", text_result(verdict_details=details))
    text = page_text(run)
    assert (
        "Prefer MiniLM embeddings + logistic regression: it beats the classic (p=1.2e-09) and the network "
        "adds nothing (p=0.5)" in text
    )
    t = tiles(run)
    assert "best baseline" not in t and t["classic baseline"] == "TF-IDF + logistic regression"
    assert t["accuracy difference (network − classic)"] == "0.19"  # the real pair: network − TF-IDF + LR
    assert t["accuracy difference (network − MiniLM embeddings + logistic regression)"] == "0.004695"
    assert t["p-value (network vs MiniLM embeddings + logistic regression)"] == "0.5"
    assert not any(v == "0.004695" for k, v in t.items() if "classic" in k)
    # without the embeddings-vs-classic pair the headline says what it knows, and nothing is "None"
    run = write(tmp_path / "bare", "text_result.json", text_result(verdict_details=_embeddings_details()))
    text = page_text(run)
    assert "it beats the classic and the network adds nothing (p=0.5)" in text and "None" not in text


def test_an_old_no_difference_verdict_with_emb_lr_as_classic_reads_as_the_embeddings(tmp_path: Path) -> None:
    # the shape the audit's synth_emb folder holds: the main fields are network − emb_lr
    details = {
        "recommendation": "no_significant_difference",
        "best_network": "emb_net",
        "best_classic": "emb_lr",
        "metric": "accuracy",
        "score_difference": 0.004695,
        "p_value": 0.5,
        "test": "exact McNemar",
        "n_test": 58,
        "classic_comparison": {"best_classic": "tfidf_lr", "score_difference": 0.1455, "p_value": 1.66e-10},
    }
    run = write(tmp_path / "run", "text_result.json", text_result(verdict_details=details))
    t = tiles(run)
    assert "best baseline" not in t and t["classic baseline"] == "TF-IDF + logistic regression"
    assert t["accuracy difference (network − classic)"] == "0.1455"
    assert "Prefer MiniLM embeddings + logistic regression" in page_text(run)


def test_text_setup_block_tells_split_encoder_settings_trials_and_seconds(tmp_path: Path) -> None:
    # text #7: no split sizes, encoder, chosen settings, trial counts or seconds anywhere on the page
    run = write(tmp_path / "run", "text_result.json", text_result())
    t = tiles(run)
    assert t["rows (train / valid / test)"] == "212 / 24 / 58"
    assert t["encoder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert t["encoder --max-seq-length (word pieces)"] == "128"
    assert t["encoding time"].startswith("51.25 s (6 texts/s")
    assert t["compared models chosen by"].startswith("each side's best model on the validation rows")
    setup = page_text(run).split("Setup", 1)[1]
    assert "alpha 0.1" in setup and "C 3" in setup and "hidden 46" in setup and "activation gelu" in setup
    assert "6: 2 complete, 4 pruned" in setup and "re-drawn stratified from train+valid" in setup
    assert "encoding seconds" in setup and "51.25 s" in setup and "52.75 s" in setup
    row = setup.split("Naive Bayes (word counts)", 1)[1]
    assert row.split()[:6] == ["alpha", "0.1", "–", "the", "validation", "split"]
    assert "0.6600" in row.split("TF-IDF", 1)[0]  # its validation score
    # an older file (no selection, no encoding seconds): the block leaves those out, never "None"
    old = text_result()
    del old["verdict_details"]["selection"], old["encoding"]["max_seq_length"]
    for m in old["models"].values():
        m.pop("encoding_seconds", None), m.pop("total_seconds", None)
    run = write(tmp_path / "old", "text_result.json", old)
    text = page_text(run)
    assert "encoding seconds" not in text and "chosen by" not in text and "None" not in text


def test_a_single_test_split_has_no_mean_and_no_error_bars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nit 2: "mean test accuracy", "… with error bars", and zero-width caps drawn at the bars' ends
    figures: list[Any] = []
    real = plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or real(fig))
    run = write(tmp_path / "run", "text_result.json", text_result())
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    block = page.split('id="baselines"', 1)[1].split("</table>", 1)[0]
    heads = re.findall(r"<th>(.*?)</th>", block)
    assert heads == ["model", "validation accuracy", "test accuracy"]
    assert "error bars" not in page and "mean test" not in page
    bars = next(f for f in figures if f.axes and f.axes[0].get_title() == "Network vs classic baselines")
    assert not bars.axes[0].containers[0].errorbar  # no error bar at all


def test_confusion_matrix_labels_do_not_overlap_or_parse_as_mathtext(monkeypatch: pytest.MonkeyPatch) -> None:
    # nit 8: three long labels overlapped, the colour bar covered the title, "$\alpha$_1" drawn as "$\\alpha$_1"
    figures: list[Any] = []
    real = plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or real(fig))
    labels = [r"$\alpha$_1", "a rather long class name", "another long class name"]
    plots.confusion_matrix([[5, 1, 0], [2, 7, 1], [0, 0, 9]], labels, "Confusion matrix: " + "x" * 50)
    (fig,) = figures
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    # slanted 45 degrees, neighbours' parallel lines of text lie spacing * sin(45) apart: more than a line
    assert all(t.get_rotation() == 45 for t in ticks)
    xs = [t.get_window_extent(renderer).x1 for t in ticks]  # right-aligned at their ticks
    line = ticks[0].get_fontsize() * fig.dpi / 72 * 1.2
    assert min(b - a for a, b in itertools.pairwise(xs)) * math.sin(math.radians(45)) > line
    title = fig._suptitle.get_window_extent(renderer)
    assert not title.overlaps(fig.axes[1].get_window_extent(renderer))  # the colour bar
    first = ax.get_xticklabels()[0]
    assert first._preprocess_math(first.get_text()) == (r"$\alpha$_1", False)


def test_subtitle_names_the_data_source_and_spelling_is_macro_f1(tmp_path: Path) -> None:
    # nits 10 and 14: the subtitle was the folder's name ("bbc_copy"); "macro F1" next to "macro-F1"
    run = write(tmp_path / "bbc_copy", "text_result.json", text_result())
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert '<div class="sub">data: reviews/dropempty.csv</div>' in page
    assert "macro F1" not in page and "<th>macro-F1</th>" in page
    nodata = text_result()
    del nodata["data"]["source"]
    run = write(tmp_path / "folder_name", "text_result.json", nodata)
    assert '<div class="sub">folder_name</div>' in build_report(run).read_text(encoding="utf-8")


def test_misclassified_examples_name_their_data_row_where_recorded(tmp_path: Path) -> None:
    res = text_result()
    res["models"]["nb"]["confident_errors"] = [
        {
            "data_row": 226,
            "test_position": 47,
            "true": "US",
            "predicted": "Italy",
            "probability": 0.9,
            "text": "t",
        }
    ]
    run = write(tmp_path / "run", "text_result.json", res)
    block = page_text(run).split("Most confidently misclassified examples", 1)[1]
    assert block.strip().startswith(
        "model data row text true predicted confidence Naive Bayes (word counts) 226 t"
    )


# ----------------------------------------------------------------------------------------------- graph ---

FACTS = {
    "input": {"edges": "davis.edg", "labels": None, "directed": False},
    "graph": {"nodes": 32, "edges": 89, "directed": False, "components": 1, "largest_component_nodes": 32},
    "warnings": [],
    "effort": {"num_walks": 20, "epochs": 3, "ensemble": 5, "mode": "first_order", "auto": ["ensemble"]},
}


def _answer(node: str, **more: Any) -> dict[str, Any]:
    return {"node": node, "similarity": 0.9, "support": 1.0, "tied": [], **more}


def test_similar_tells_the_side_restriction_and_fewer_answers_than_asked(tmp_path: Path) -> None:
    # graph #2a/#4: "only nodes on Evelyn's side" was in the console only; 16 of 40 with no word
    sim = {
        "node": "Evelyn",
        "answers": [_answer(f"w{i}") for i in range(15)] + [_answer("Flora", tied=["Olivia"])],
        "same_side_from": "the two columns of davis.edg (no node is in both)",
        "note": "only 17 nodes are on Evelyn's side",
        "params": {"k": 40, "seed": 0},
        **FACTS,
    }
    text = page_text(write(tmp_path / "run", "similar.json", sim))
    assert "Only nodes on Evelyn's side are answers: the sides come from the two columns of davis.edg" in text
    assert (
        "16 (17 nodes, tied ones grouped) of the 40 nodes asked for: only 17 nodes are on Evelyn's side."
        in text
    )


def test_no_answers_say_why_instead_of_a_json_dump(tmp_path: Path) -> None:
    # graph #3: "node 77 answers – same_side_from – effort num_walks 2 ..." (render_json of the file)
    sim = {"node": "77", "answers": [], "same_side_from": None, "note": None, "params": {"k": 3}, **FACTS}
    text = page_text(write(tmp_path / "run", "similar.json", sim))
    assert "Most similar to 77 No answers: the run found no other node to compare it with" in text
    assert "answers –" not in text and "same_side_from" not in text and "None" not in text
    sim["note"] = "77 has no neighbour other than itself: nothing to compare it with"
    text = page_text(write(tmp_path / "noted", "similar.json", sim))
    assert "No answers: 77 has no neighbour other than itself: nothing to compare it with" in text


def test_recommend_explains_sides_counts_ranking_peer_share_and_tied_substitutes(tmp_path: Path) -> None:
    rec = {
        "node": "Evelyn",
        "peers": [_answer("Theresa")],
        "add": [_answer("E7", score=0.71), _answer("E12", score=0.08)],
        "substitutes": {"E1": [_answer("E9", tied=["E10", "E11", "E13", "E14"])], "E2": []},
        "sides_from": "the two columns of davis.edg (no node is in both)",
        "k": 5,
        "n_peers": 10,
        "n_substitutes": 3,
        "params": {"k": 5, "seed": 0},
        **FACTS,
    }
    text = page_text(write(tmp_path / "run", "recommend.json", rec))
    assert (
        "Peers are nodes on Evelyn's side, items the nodes on the other: the sides come from the two" in text
    )
    assert (
        "2 of the 5 items asked for: no other item that Evelyn lacks is held by its 10 closest peers." in text
    )
    assert (
        "Ranked by mean rank over 5 ensemble runs, so not by the numbers shown. Peer share: the share" in text
    )
    assert "E9 (100%) [tied: E10, E11, E13, … (+1 more)]" in text  # graph #18: the tied items named
    assert "E2 none (no item it lacks is close to it)" in text
    assert "For each item Evelyn has, the 3 closest items it does not have" in text
    # nothing to add: the heading stays, with the reason
    rec["add"], rec["note"] = [], "Evelyn already holds every item its closest peers hold"
    text = page_text(write(tmp_path / "full", "recommend.json", rec))
    assert "Items to add (held by its closest peers) Nothing to add: Evelyn already holds every item" in text


def _tune(**more: Any) -> dict[str, Any]:
    trial = {"p": 1.0, "q": 2.0, "dimensions": 16, "score": 0.4, "C": 10.0, "normalize": True}
    trials = [{"number": i, **trial, "p": float(1 + i % 3)} for i in range(4)]
    trials[2]["cached"] = True
    trials.append(
        {"number": 4, "p": 0.5, "q": 1.0, "dimensions": 16, "interrupted": True, "reason": "Ctrl-C"}
    )
    return {
        "best_params": {"p": 2.0, "q": 2.0, "dimensions": 16, "C": 10.0, "normalize": True},
        "best_validation_macro_f1": 0.41,
        "trials": trials,
        "walk_sets_generated": 3,
        "seconds": 14.6,
        "n_trials": 25,
        "completed_trials": 3,
        "interrupted": True,
        "note": "interrupted (Ctrl-C) after 3 of 25 trials completed; best_params is the best of those.",
        "notes": ["the best C (100) is the largest of --C-values: try larger values"],
        "classify_args": ["air.edg", "--labels", "air labels.tsv", "--p", "2", "--C", "10", "--normalize"],
        **FACTS,
        "params": {
            "n_trials": 30,
            "dimensions": [16, 32],
            "C_values": [1.0, 10.0, 100.0],
            "normalize_values": [False, True],
            "random_state": 0,
        },
        **more,
    }


def test_an_interrupted_tune_counts_its_completed_trials_and_says_interrupted(tmp_path: Path) -> None:
    # graph #6: "trials 30: 20 evaluated, 10 repeated ... (30 asked for)" and no word of the interruption
    run = write(tmp_path / "run", "tune.json", _tune())
    t = tiles(run)
    assert t["trials"] == (
        "3 of 25 completed before the run was interrupted (1 repeated setting served from cache; 30 asked "
        "for, 25 distinct settings in the grid)"
    )
    assert t["best validation Macro-F1 so far"] == "0.41"
    text = page_text(run)
    assert "Selection of p, q and the dimension (interrupted)" in text
    assert "interrupted (Ctrl-C) after 3 of 25 trials completed" in text
    assert "the best C (100) is the largest of --C-values" in text
    # a finished one keeps its count, the interrupted trial (had there been one) not counted as evaluated
    done = _tune(interrupted=False, note=None, notes=None)
    done["trials"] = done["trials"][:4]
    assert tiles(write(tmp_path / "done", "tune.json", done))["trials"] == (
        "4: 3 evaluated, 1 repeated setting served from cache (30 asked for, 25 distinct settings in the grid)"
    )


def test_tune_shows_its_classify_command_and_the_grids_searched(tmp_path: Path) -> None:
    # graph #12
    run = write(tmp_path / "run", "tune.json", _tune())
    text = page_text(run)
    assert "hyperselect graph classify air.edg --labels 'air labels.tsv' --p 2 --C 10 --normalize" in text
    t = tiles(run)
    assert (
        t["C values"] == "1, 10, 100" and t["dimensions"] == "16, 32" and t["row normalisation"] == "no, yes"
    )
    assert t["p values tried"] == "0.5, 1, 2, 3"


def test_graph_labels_are_consistent(tmp_path: Path) -> None:
    # graph #17: "random state" next to "seed", "seconds: walks s", "input directed" and "graph directed"
    run = tmp_path / "run"
    write(
        run,
        "embed.json",
        {**FACTS, "params": {"p": 1.0, "seed": 0, "format": "npy"}, "timings": {"walks_s": 0.65}},
    )
    emb = run / "embeddings"
    emb.mkdir()
    import numpy as np

    np.save(emb / "embeddings.npy", np.arange(12, dtype=float).reshape(6, 2) ** 1.5)
    write(emb, "nodes.json", {"nodes": list("abcdef"), "params": {"random_state": 0, "workers": None}})
    t = tiles(run)
    assert t["seed"] == "0" and "random state" not in t and "random_state" not in t
    assert t["seconds: walks"] == "0.65" and not any("walks s" in k for k in t)
    assert "graph directed" in t and "input directed" not in t
    assert t["workers"] == "all cores (default)"
    assert t["graph largest component nodes"] == "32"
    page = build_report(run, projection="tsne", strict=True).read_text(encoding="utf-8")
    assert "Node embeddings projected to two dimensions" in page


def test_projection_title_spells_t_sne(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperselect.report.html import _projection_figure

    titles: list[str] = []
    real = plots.projection_2d
    monkeypatch.setattr(
        plots,
        "projection_2d",
        lambda pts, labels, title, annotate=None: titles.append(title) or real(pts, labels, title, annotate),
    )
    view = {
        "points": [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        "vectors": None,
        "labels": None,
        "names": None,
        "method": "tsne",
    }
    _projection_figure(view, "tsne", "Node embeddings")
    assert titles == ["Node embeddings: 2-D projection (t-SNE)"]


def test_word2vec_embeddings_are_drawn_or_the_page_says_why_not(tmp_path: Path) -> None:
    # graph #9: embed --format word2vec silently had no scatter plot
    embed = {
        **FACTS,
        "params": {"dimensions": 2, "format": "word2vec", "seed": 0},
        "saved": "/x/embeddings.txt",
    }
    run = write(tmp_path / "run", "embed.json", embed)
    (run / "embeddings.txt").write_text("3 2\na 0.1 0.2\nb 0.3 -0.1\nc -0.2 0.5\n", encoding="utf-8")
    page = build_report(run, strict=True).read_text(encoding="utf-8")
    assert 'alt="Node embeddings projected to two dimensions"' in page
    (run / "embeddings.txt").write_text("3 2\na 0.1 0.2\nb 0.3\n", encoding="utf-8")
    page = build_report(run).read_text(encoding="utf-8")  # (strict would raise on the unreadable file)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "embeddings.txt: line 3: expected a node id and 2 numbers" in text
    assert "No projection plot: the saved vectors (embeddings.txt) could not be read" in text
    (run / "embeddings.txt").unlink()
    text = page_text(run)
    assert (
        "No projection plot: the saved vectors are not in this folder (embed saved them to /x/embeddings.txt)."
        in text
    )


def test_classify_shows_multilabel_and_the_chance_row(tmp_path: Path) -> None:
    classify = {
        "models": {"logreg": {"macro_f1": 0.5, "macro_f1_std": 0.01, "micro_f1": 0.6, "micro_f1_std": 0.02}},
        "multilabel": True,
        "chance": {"macro_f1": 0.2, "micro_f1": 0.47},
        "repeats": 2,
        **FACTS,
        "params": {"seed": 0},
    }
    text = page_text(write(tmp_path / "run", "classify.json", classify))
    assert "multi-label: each node's top-k labels predicted, repeats 2" in text
    assert "chance (majority class) 0.2 – 0.47" in text
    del classify["chance"], classify["multilabel"]
    text = page_text(write(tmp_path / "old", "classify.json", classify))
    assert "chance" not in text and "None" not in text


def test_the_embeddings_verdict_as_evaluate_text_writes_it(tmp_path: Path) -> None:
    # evaluate/text.py's shape: the main pair is emb_lr − classic (difference_between), the network's own
    # pair under network_vs_classic
    details = _embeddings_details(
        score_difference=0.18,
        p_value=1.2e-9,
        difference_between=["emb_lr", "tfidf_lr"],
        network_vs_classic={"difference": 0.19, "p_value": 1.5e-10},
        selection="validation",
    )
    run = write(tmp_path / "run", "text_result.json", text_result(verdict_details=details))
    text = page_text(run)
    assert "it beats the classic (p=1.2e-09) and the network adds nothing (p=0.5)" in text
    t = tiles(run)
    assert t["accuracy difference (network − classic)"] == "0.19"
    assert t["accuracy difference (MiniLM embeddings + logistic regression − classic)"] == "0.18"
    assert "best baseline" not in t and "None" not in text


def test_the_verdict_tiles_say_how_each_compared_model_was_chosen(tmp_path: Path) -> None:
    """The validation rows choose each side's model, so a tile reading "best baseline" next to a table where
    another classic tests higher misleads; files that record no selection keep the old labels."""
    res = text_result()
    res["verdict_details"]["selection_by_side"] = {"network": "validation", "classic": "validation"}
    t = tiles(write(tmp_path / "chosen", "text_result.json", res))
    assert t["network compared (chosen on the validation rows)"] == "MiniLM embeddings + tuned network"
    assert t["classic baseline compared (chosen on the validation rows)"] == "TF-IDF + logistic regression"
    t = tiles(write(tmp_path / "old", "text_result.json", text_result()))
    assert t["best network"] == "MiniLM embeddings + tuned network" and "best baseline" in t


def test_a_note_that_counts_already_is_not_prefixed_again(tmp_path: Path) -> None:
    """The re-check: the page read "2 of the 5 items asked for: 2 of the 5 items asked for: ..." where the
    command's JSON note carries the count itself, and "Nothing to add: ... nothing to add"."""
    note = "2 of the 5 items asked for: no other item that a lacks is held by its closest peers"
    rec = {
        "node": "a",
        "k": 5,
        "add": [_answer("x"), _answer("y")],
        "peers": [],
        "substitutes": {},
        "note": note,
    }
    text = page_text(write(tmp_path / "r", "recommend.json", rec))
    assert text.count("asked for") == 1, text
    full = "a already holds every item of its connected component: nothing to add, and no item it lacks"
    rec = {"node": "a", "k": 5, "add": [], "peers": [], "substitutes": {}, "note": full}
    text = page_text(write(tmp_path / "f", "recommend.json", rec))
    assert text.lower().count("nothing to add") == 1 and "a already holds" in text, text


def test_the_walk_mode_is_named_as_a_reader_knows_it(tmp_path: Path) -> None:
    rec = {
        "node": "a",
        "k": 1,
        "add": [_answer("x")],
        "peers": [],
        "substitutes": {},
        "effort": {"mode": "otf"},
    }
    t = tiles(write(tmp_path / "r", "recommend.json", rec))
    assert t.get("walks") == "biased, transition probabilities computed on the fly", t
    assert "effort: mode" not in t
