"""class_weight="balanced": scikit-learn's weights, torch's weighted losses, the population against its reference,
and the effect it is for (the minority class is found more often)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.utils.class_weight import compute_class_weight

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import class_weights, make_loss
from hyperselect.tasks import Task
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun

BALANCED = MLPConfig(class_weight="balanced")


@pytest.fixture(scope="module")
def imbalanced() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits with classes 1-9 thinned to a few rows each against all of class 0 ... as 10 classes."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.default_rng(0)
    keep = np.concatenate([np.flatnonzero(y == c)[: (150 if c < 3 else 12)] for c in range(10)])
    keep = rng.permutation(keep)
    tr, va = keep[:400], keep[400:]
    return X[tr], y[tr], X[va], y[va]


def test_weights_are_scikit_learns() -> None:
    y = np.array([0] * 50 + [1] * 5 + [2] * 15)
    w = class_weights(BALANCED, Task.MULTICLASS, y, 3)
    assert w is not None
    np.testing.assert_allclose(w.numpy(), compute_class_weight("balanced", classes=np.arange(3), y=y))
    assert class_weights(MLPConfig(), Task.MULTICLASS, y, 3) is None
    # a class without training rows weighs 1; the others as scikit-learn weighs the classes present
    w4 = class_weights(BALANCED, Task.MULTICLASS, torch.as_tensor(y), 4)
    assert w4 is not None and w4.shape == (4,) and float(w4[3]) == 1.0
    np.testing.assert_allclose(w4[:3].numpy(), w.numpy())


def test_weights_need_classes() -> None:
    with pytest.raises(ConfigError, match=r"class_weight.*binary or multiclass.*regression"):
        class_weights(BALANCED, Task.REGRESSION, np.zeros(4), None)
    with pytest.raises(ConfigError, match="class_weight"):
        MLPConfig(class_weight="inverse")


def test_weighted_losses_are_torchs() -> None:
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(30, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (30,), generator=g)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    got = make_loss(MLPConfig(), Task.MULTICLASS, w)(logits, y)
    torch.testing.assert_close(got, F.cross_entropy(logits, y, weight=w))
    one, yb = torch.randn(30, 1, generator=g, dtype=torch.float64), torch.randint(0, 2, (30,), generator=g)
    got = make_loss(MLPConfig(), Task.BINARY, w[:2])(one, yb)
    rows = F.binary_cross_entropy_with_logits(one[:, 0], yb.double(), reduction="none")
    torch.testing.assert_close(got, (rows * w[yb]).sum() / w[yb].sum())
    # rows whose classes all weigh 0 contribute nothing (not NaN)
    zero = make_loss(MLPConfig(), Task.MULTICLASS, torch.tensor([0.0, 1.0, 1.0, 1.0], dtype=torch.float64))
    assert float(zero(logits[y == 0], y[y == 0])) == 0.0
    # equal weights are the plain mean, smoothing included
    cfg = MLPConfig(label_smoothing=0.1)
    torch.testing.assert_close(
        make_loss(cfg, Task.MULTICLASS, torch.ones(4, dtype=torch.float64))(logits, y),
        make_loss(cfg, Task.MULTICLASS)(logits, y),
    )


@pytest.mark.parametrize(
    ("task", "loss", "smoothing"),
    [
        ("multiclass", "auto", 0.0),
        ("multiclass", "auto", 0.1),
        ("binary", "bce", 0.1),
        ("binary", "cross_entropy", 0.0),
    ],
)
def test_population_matches_reference(imbalanced, task: str, loss: str, smoothing: float) -> None:  # type: ignore[no-untyped-def]
    """Weighted and unweighted members in one population, each on its single-network trajectory (float64)."""
    Xtr, ytr, Xva, yva = imbalanced
    if task == "binary":
        ytr, yva = (ytr == 0).astype(int), (yva == 0).astype(int)
    configs = [
        MLPConfig(
            hidden=(12,),
            loss=loss,
            class_weight=cw,
            label_smoothing=smoothing,
            optimizer=opt,
            lr=0.01,
            batch_size=32,
            max_epochs=3,
            patience=None,
        )
        for cw, opt in (("balanced", "adam"), ("none", "adam"), ("balanced", "momentum"))
    ]
    n_classes = 10 if task == "multiclass" else 2
    kw = dict(task=task, n_classes=n_classes, data_seed=0, dtype=torch.float64)
    pop = PopulationTrainer(configs, Xtr, ytr, Xva, yva, seeds=[1, 2, 3], **kw)  # type: ignore[arg-type]
    pop.run_epochs(3)
    for i, c in enumerate(configs):
        ref = NetworkRun(c, Xtr, ytr, Xva, yva, random_state=i + 1, **kw)  # type: ignore[arg-type]
        ref.run_epochs(3)
        a, b = ref.history, pop.history(i)
        np.testing.assert_allclose(b.train_loss, a.train_loss, rtol=1e-6)
        np.testing.assert_allclose(b.valid_loss, a.valid_loss, rtol=1e-6)
    # the weights did something: the two adam members differ only in them
    assert abs(pop.history(0).valid_loss[-1] - pop.history(1).valid_loss[-1]) > 1e-3


def test_balanced_weights_find_the_small_classes(imbalanced) -> None:  # type: ignore[no-untyped-def]
    """What the option is for: recall of the thinned classes rises (mean over 4 seeds)."""
    Xtr, ytr, Xva, yva = imbalanced
    small = yva >= 3
    recall = {}
    for cw in ("none", "balanced"):
        cfg = MLPConfig(hidden=(16,), class_weight=cw, lr=3e-3, batch_size=32, max_epochs=15, patience=None)
        hits = []
        for seed in range(4):
            run = NetworkRun(cfg, Xtr, ytr, Xva, yva, task="multiclass", n_classes=10, random_state=seed)
            run.run_epochs(15)
            model = run.result().model
            with torch.no_grad():
                pred = model(torch.as_tensor(Xva, dtype=torch.float32)).argmax(1).numpy()
            hits.append(float((pred[small] == yva[small]).mean()))
        recall[cw] = float(np.mean(hits))
    assert recall["balanced"] > recall["none"] + 0.05, recall


def test_estimator_class_weight(tmp_path, imbalanced) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.estimators import NeuralNetClassifier, NeuralNetRegressor

    Xtr, ytr, _, _ = imbalanced
    labels = np.array(list("abcdefghij"))[ytr]
    kw = dict(hidden=(16,), lr=3e-3, batch_size=32, max_epochs=3, patience=None, random_state=0)
    plain = NeuralNetClassifier(**kw).fit(Xtr, labels)
    by_name = NeuralNetClassifier(class_weight="balanced", **kw).fit(Xtr, labels)
    assert by_name.config_.class_weight == "balanced"
    assert not np.allclose(plain.history_.train_loss, by_name.history_.train_loss)
    # a mapping: labels to weights, absent labels weigh 1 (so {"a": 1} trains as no weights at all)
    ones = NeuralNetClassifier(class_weight={"a": 1.0}, **kw).fit(Xtr, labels)
    np.testing.assert_allclose(ones.history_.train_loss, plain.history_.train_loss, rtol=1e-6)
    w = compute_class_weight("balanced", classes=np.unique(labels), y=labels)
    by_map = NeuralNetClassifier(class_weight=dict(zip(np.unique(labels), w, strict=True)), **kw).fit(
        Xtr, labels
    )
    # the balanced weights of all rows, against those of the training split alone (by name): close, not equal
    np.testing.assert_allclose(by_map.history_.train_loss, by_name.history_.train_loss, rtol=1e-2)
    # saved and loaded with its mapping (JSON keys would be strings: kept as pairs)
    loaded = NeuralNetClassifier.load(by_map.save(tmp_path / "m"))
    assert loaded.get_params()["class_weight"] == {
        str(k): float(v) for k, v in zip(np.unique(labels), w, strict=True)
    }
    np.testing.assert_array_equal(loaded.predict(Xtr), by_map.predict(Xtr))
    with pytest.raises(ConfigError, match=r"class_weight.*'z'.*not in y"):
        NeuralNetClassifier(class_weight={"z": 2.0}, **kw).fit(Xtr, labels)
    with pytest.raises(ConfigError, match=r"class_weight.*finite numbers >= 0"):
        NeuralNetClassifier(class_weight={"a": -1}, **kw).fit(Xtr, labels)
    with pytest.raises(ConfigError, match=r"class_weight.*weighs every class 0"):
        NeuralNetClassifier(class_weight=dict.fromkeys("abcdefghij", 0), **kw).fit(Xtr, labels)
    with pytest.raises(ConfigError, match=r"class_weight.*NeuralNetRegressor.*classification"):
        NeuralNetRegressor(class_weight="balanced", **kw).fit(Xtr, ytr.astype(float))
    assert NeuralNetClassifier(class_weight=None, **kw).fit(Xtr, labels).config_.class_weight == "none"


def test_cli_tune_searches_class_weights_on_a_rare_class(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """End to end: the rare class is noted, class_weight is searched (a column of trials.csv), the best config
    and the saved model carry it, and predict reads the model back."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from hyperselect.cli import app

    rng = np.random.default_rng(0)
    n = 500
    y = np.where(np.arange(n) < 30, "fraud", "ok")
    X = rng.normal(size=(n, 4)) + (y == "fraud")[:, None] * 1.5
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=y)
    csv = tmp_path / "fraud.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "run"
    args = ["tune", str(csv), "--target", "label", "--trials", "8", "--max-epochs", "4"]
    res = CliRunner().invoke(app, [*args, "--metric", "balanced_accuracy", "--out", str(out)])
    assert res.exit_code == 0, res.output
    trials = pd.read_csv(out / "trials.csv")
    cw = next(c for c in trials.columns if c.endswith("class_weight"))
    assert set(trials[cw].dropna()) <= {"none", "balanced"} and trials[cw].notna().any()
    written = json.loads((out / "result.json").read_text())
    assert written["best_config"]["class_weight"] in ("none", "balanced")
    pred = CliRunner().invoke(app, ["predict", str(out), str(csv), "--out", str(tmp_path / "p.csv")])
    assert pred.exit_code == 0, pred.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == n
