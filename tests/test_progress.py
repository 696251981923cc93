"""The search draws a progress bar over the study's finished trials when asked, and it reaches the total."""

from __future__ import annotations

import io

from rich.console import Console

from hyperselect.data import load_builtin
from hyperselect.search import tune


def test_tune_progress_bar_reaches_the_total(monkeypatch):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    monkeypatch.setattr("hyperselect.progress.get_console", lambda: console)
    res = tune(load_builtin("iris"), n_trials=4, max_epochs=3, random_state=0, refit=False, progress=True)
    assert res.best_config is not None
    out = buf.getvalue()
    assert "search" in out and "4/4" in out


def test_node2vec_progress_bar_counts_walks_and_trainings(monkeypatch):
    import networkx as nx

    from hyperselect.represent.node2vec import Node2Vec

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    monkeypatch.setattr("hyperselect.progress.get_console", lambda: console)
    model = Node2Vec(dimensions=8, walk_length=10, num_walks=2, epochs=1, ensemble=2, random_state=0)
    model.fit(nx.karate_club_graph(), progress=True)
    assert model.embeddings_.shape == (34, 8)
    assert "node2vec" in buf.getvalue() and "4/4" in buf.getvalue()
