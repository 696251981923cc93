"""``text --metric``: models chosen and compared by balanced accuracy or macro-F1, with a paired randomization test.

Accuracy on imbalanced classes rewards a model that ignores the rare ones; the text verdict could only compare by
accuracy (McNemar's test on a two-by-two table), so a user who cares about every class had no honest verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hyperselect.cli_text import app
from hyperselect.data.text import prepare_text, split_text
from hyperselect.errors import ConfigError
from hyperselect.evaluate.metrics import paired_randomization_p, score
from hyperselect.evaluate.text import MODELS, ModelReport, _verdict, evaluate_text, mcnemar_p, model_report
from hyperselect.report.views import text_verdict

runner = CliRunner()


def _report(key: str, y: np.ndarray, pred: np.ndarray) -> ModelReport:
    proba = np.eye(int(max(y.max(), pred.max())) + 1)[pred]
    return model_report(key, proba, y, ["a", "b", "c"][: proba.shape[1]], ["t"] * len(y))


# ---------------------------------------------------------------------------------------------------------------
# the test


def test_identical_predictions_give_p_one_and_the_test_is_symmetric_and_deterministic() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    a = np.where(rng.random(300) < 0.8, y, rng.integers(0, 3, 300))
    b = np.where(rng.random(300) < 0.5, y, rng.integers(0, 3, 300))
    for metric in ("accuracy", "balanced_accuracy", "f1_macro"):
        assert paired_randomization_p(y, a, a, metric) == 1.0
        p = paired_randomization_p(y, a, b, metric, n_resamples=1999)
        assert p == paired_randomization_p(y, b, a, metric, n_resamples=1999)  # two-sided, same swaps
        assert p == paired_randomization_p(y, a, b, metric, n_resamples=1999)
        assert 1 / 2000 <= p < 0.01  # ~0.87 against ~0.67 on 300 rows


def test_on_accuracy_it_agrees_with_mcnemar() -> None:
    """For accuracy both tests ask the same question of the same discordant rows."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, 1000)
    a = np.where(rng.random(1000) < 0.80, y, (y + 1) % 4)
    b = np.where(rng.random(1000) < 0.76, y, (y + 1) % 4)
    p_rand = paired_randomization_p(y, a, b, "accuracy")
    p_mcn = mcnemar_p(a == y, b == y)
    assert 0.05 < p_mcn < 0.5 and abs(p_rand - p_mcn) < 0.1 * p_mcn  # 0.148 against 0.153


def test_under_the_null_it_rejects_at_about_its_level() -> None:
    """Two exchangeable classifiers (each row's pair of predictions in random order): p < 0.05 about 5 % of the
    time, not never (useless) nor often (anticonservative)."""
    rng = np.random.default_rng(2)
    rejections = 0
    n_sims = 120
    for _ in range(n_sims):
        y = rng.integers(0, 3, 120)
        u = np.where(rng.random(120) < 0.7, y, rng.integers(0, 3, 120))
        v = np.where(rng.random(120) < 0.7, y, rng.integers(0, 3, 120))
        swap = rng.random(120) < 0.5
        a, b = np.where(swap, v, u), np.where(swap, u, v)
        rejections += paired_randomization_p(y, a, b, "balanced_accuracy", n_resamples=499) < 0.05
    assert 1 <= rejections <= 16  # 6 expected; 16 would be 13 %


def test_the_statistic_is_the_score_difference_the_report_shows() -> None:
    """The p-value is about the numbers printed: class_scores' balanced accuracy and macro-F1 equal the report's."""
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(90, int), np.ones(10, int), np.full(20, 2)]
    pred = np.where(rng.random(120) < 0.75, y, rng.integers(0, 3, 120))
    rep = _report("nb", y, pred)
    assert rep.balanced_accuracy == pytest.approx(score("multiclass", y, pred, "balanced_accuracy"))
    assert rep.macro_f1 == pytest.approx(score("multiclass", y, pred, "f1_macro"))


def test_bad_arguments_are_config_errors() -> None:
    y = np.zeros(5, int)
    with pytest.raises(ConfigError, match="randomization test scores accuracy"):
        paired_randomization_p(y, y, y, "r2")
    with pytest.raises(ConfigError, match="equally long"):
        paired_randomization_p(y, y[:4], y, "accuracy")


# ---------------------------------------------------------------------------------------------------------------
# the verdict


def _imbalanced_pair() -> tuple[np.ndarray, dict[str, ModelReport]]:
    """180 rows of class 0, 20 of class 1: Naive Bayes says 0 everywhere (accuracy 0.90, balanced 0.50); the
    network finds 19 of the 20 rare rows at the cost of 30 common ones (accuracy 0.845, balanced 0.89)."""
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    nb = np.zeros(200, int)
    net = y.copy()
    net[:30] = 1
    net[199] = 0
    return y, {"nb": _report("nb", y, nb), "emb_net": _report("emb_net", y, net)}


def test_by_accuracy_the_majority_guess_holds_and_by_balanced_accuracy_the_network_wins() -> None:
    y, reports = _imbalanced_pair()
    _, by_acc = _verdict(reports, y)
    assert by_acc["recommendation"] == "no_significant_difference" and by_acc["metric"] == "accuracy"
    assert by_acc["mcnemar_p"] == by_acc["p_value"] > 0.05 and by_acc["test"] == "exact McNemar"
    sentence, by_bal = _verdict(reports, y, "balanced_accuracy")
    assert by_bal["recommendation"] == "network" and by_bal["p_value"] < 0.001
    assert by_bal["score_difference"] == pytest.approx(0.5 * (150 / 180 + 19 / 20) - 0.5)
    assert "mcnemar_p" not in by_bal and by_bal["test"].startswith("paired approximate randomization")
    assert "balanced accuracy" in sentence and "randomization p=" in sentence and "McNemar" not in sentence
    assert "accuracy 0.845 vs 0.900" in sentence  # the price in plain accuracy is said too
    _, by_f1 = _verdict(reports, y, "f1_macro")
    assert by_f1["recommendation"] == "network" and by_f1["metric"] == "f1_macro"


def test_the_report_reads_the_metric_the_verdict_compared_by() -> None:
    y, reports = _imbalanced_pair()
    sentence, details = _verdict(reports, y, "balanced_accuracy")
    doc: dict[str, Any] = {
        "models": {k: r.to_dict() for k, r in reports.items()},
        "verdict": sentence,
        "verdict_details": details,
    }
    v = text_verdict(doc)
    assert v is not None and v["recommendation"] == "network" and v["metric"] == "test balanced accuracy"
    assert v["p_value"] == details["p_value"] and v["test_name"].startswith(
        "paired approximate randomization"
    )
    assert {m["name"]: m["mean"] for m in v["models"]} == {
        MODELS["nb"]: pytest.approx(0.5),
        MODELS["emb_net"]: pytest.approx(0.5 * (150 / 180 + 19 / 20)),
    }
    assert v["effect_size"]["name"].startswith("balanced accuracy difference")
    # a file written before --metric (McNemar's names only) still reads as accuracy
    old = dict(details, metric=None)
    for k in ("metric", "p_value", "score_difference", "test"):
        old.pop(k)
    old.update(mcnemar_p=0.2, accuracy_difference=-0.05)
    v_old = text_verdict({**doc, "verdict_details": old})
    assert v_old is not None and v_old["metric"] == "test accuracy" and v_old["p_value"] == 0.2
    assert v_old["test_name"].startswith("exact McNemar")


# ---------------------------------------------------------------------------------------------------------------
# end to end


def _rare_corpus() -> tuple[Any, Any, np.ndarray]:
    """Three topics, one of them rare (12 of 132 texts), with fake embeddings: class centre plus noise."""
    rng = np.random.default_rng(0)
    words = {"wine": "tannin oak cherry", "sport": "goal match league", "tech": "chip cloud phone"}
    counts = {"wine": 60, "sport": 60, "tech": 12}
    texts, labels = [], []
    for label, n in counts.items():
        for i in range(n):
            w = words[label].split()
            texts.append(f"{rng.choice(w)} {rng.choice(w)} note {i} {label[0]}{rng.integers(10_000)}")
            labels.append(label)
    d = prepare_text(texts, labels)
    s = split_text(d, test_size=0.3, valid_size=0.2, random_state=0)
    classes = list(d.classes)
    centres = rng.normal(size=(len(classes), 8))
    E = np.stack([centres[classes.index(lab)] + rng.normal(scale=2.5, size=8) for lab in d.labels])
    return d, s, E.astype(np.float32)


def test_evaluate_text_by_balanced_accuracy_reweighs_and_chooses_by_it() -> None:
    d, s, E = _rare_corpus()
    acc = evaluate_text(d, s, models=("nb", "emb_lr"), embeddings=E)
    bal = evaluate_text(d, s, models=("nb", "emb_lr"), embeddings=E, metric="balanced_accuracy")
    assert (
        acc.metric == "accuracy"
        and bal.metric == "balanced_accuracy"
        and bal.to_dict()["metric"] == bal.metric
    )
    assert (
        "valid_balanced_accuracy" in bal.models["nb"].details and "valid_accuracy" in acc.models["nb"].details
    )
    # equal class priors in the decision: the rare class is predicted at least as often as without them
    rare = d.classes.index("tech")
    for key in ("nb", "emb_lr"):
        before, after = acc.models[key].predictions, bal.models[key].predictions
        assert before is not None and after is not None
        assert (after == rare).sum() >= (before == rare).sum()
    assert any("maximises balanced accuracy" in n for n in bal.notes)
    assert not any("re-weighted" in n for n in acc.notes)
    best = bal.best(("nb", "emb_lr"))
    assert best is not None and best.balanced_accuracy == max(
        r.balanced_accuracy for r in bal.models.values()
    )
    f1 = evaluate_text(d, s, models=("nb",), embeddings=E, metric="f1_macro")
    assert "valid_f1_macro" in f1.models["nb"].details and not f1.notes  # f1_macro: no re-weighting
    with pytest.raises(ConfigError, match="'metric' parameter of evaluate_text"):
        evaluate_text(d, s, models=("nb",), embeddings=E, metric="r2")


def test_the_networks_search_ranks_by_the_metric(monkeypatch: pytest.MonkeyPatch) -> None:
    import hyperselect.evaluate.text as text_mod

    seen: list[Any] = []

    def fake_fit_network(*args: Any, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        seen.append(kwargs.get("metric"))
        n_test, n_classes = len(args[4]), args[6]
        return np.full((n_test, n_classes), 1.0 / n_classes), {"tuner": "fake"}

    monkeypatch.setattr(text_mod, "fit_network", fake_fit_network)
    d, s, E = _rare_corpus()
    r = evaluate_text(d, s, models=("nb", "emb_net"), embeddings=E, metric="f1_macro")
    assert seen == ["f1_macro"] and r.verdict_details["metric"] == "f1_macro"
    evaluate_text(d, s, models=("nb", "emb_net"), embeddings=E)
    assert seen[-1] is None  # accuracy: the search's own default


def test_cli_refuses_an_unknown_metric_before_reading(tmp_path: Path) -> None:
    res = runner.invoke(app, [str(tmp_path / "absent.csv"), "--text", "t", "--label", "l", "--metric", "r2"])
    assert res.exit_code == 2
    flat = " ".join(res.output.replace("│", " ").split())
    assert "--metric" in flat and "accuracy, balanced_accuracy, f1_macro; got 'r2'" in flat
