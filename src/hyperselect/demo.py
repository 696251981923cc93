"""The demo tour: every part of hyperselect on built-in data that needs no download.

``hyperselect demo`` (and ``make demo``) runs these steps in order; the CLI only prints.  Each step writes its
results into a folder of its own under ``--out`` (one data set each, so every folder is one coherent run with
its own report) and returns a JSON-ready summary; a step's ``"parts"`` name those folders and their data.  The
last step writes ``tour.json`` (the steps, their data and folders) and the tour's page, ``report.html``, which
draws every step under its own heading and links to each folder's page.  Adding a part to the tour is adding a
:class:`DemoStep`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from hyperselect._io import atomic_write_json, safe_join

log = logging.getLogger(__name__)


@dataclass
class DemoContext:
    quick: bool
    out: Path
    console: Console
    seed: int = 0
    results: dict[str, Any] = field(default_factory=dict)  # step name -> what the step returned

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)


@dataclass
class DemoStep:
    """One part of the tour.  ``run`` prints its own lines and returns a JSON-ready summary."""

    name: str
    title: str
    run: Callable[[DemoContext], dict[str, Any]]


def _part(folder: str, data: str, what: str) -> dict[str, str]:
    """One result folder of a step: where it is, the data it was computed on and what it holds."""
    return {"folder": folder, "data": data, "what": what}


def _train(ctx: DemoContext, dataset: str, config: Any, expect: float | None = None) -> dict[str, Any]:
    from hyperselect.data import load_builtin
    from hyperselect.train.evaluation import train_and_evaluate

    data = load_builtin(dataset, random_state=ctx.seed)
    with ctx.console.status(f"training on {dataset}..."):
        result, doc = train_and_evaluate(data, config, random_state=ctx.seed)
    atomic_write_json(safe_join(ctx.out, f"train_{dataset}/result.json"), doc)
    acc = doc["metrics"]["test_accuracy"]
    ok = ""
    if expect is not None:
        ok = f"  [green](>= {expect:.2f})[/green]" if acc >= expect else f"  [red](below {expect:.2f})[/red]"
    ctx.say(
        f"  {dataset}: test accuracy [bold]{acc:.4f}[/bold] ({config.arch}, {len(result.history)} epochs, "
        f"{result.seconds:.1f}s){ok}"
    )
    for f in result.findings:
        ctx.say(f"  [yellow]{f.kind}[/yellow]: {f.evidence} Remedy: {f.remedy}")
    return {
        "dataset": dataset,
        "test_accuracy": acc,
        "config": config.to_dict(),
        "status": result.status,
        "epochs": len(result.history),
        "seconds": result.seconds,
        "parts": [
            _part(f"train_{dataset}", dataset, f"one {config.arch.upper()} trained with fixed settings")
        ],
    }


def step_digits(ctx: DemoContext) -> dict[str, Any]:
    from hyperselect.nn.config import MLPConfig

    # tuned by hand: a wide two-layer MLP with dropout and light weight decay; ~0.97 on the test split
    config = MLPConfig(
        hidden=(256, 128),
        dropout=0.2,
        lr=2e-3,
        weight_decay=1e-4,
        batch_size=64,
        max_epochs=40 if ctx.quick else 100,
        patience=15,
    )
    return _train(ctx, "digits", config, expect=0.95)


def step_mnist1d(ctx: DemoContext) -> dict[str, Any]:
    from hyperselect.nn.config import CNNConfig

    # tuned by hand: MLPs stall near 0.6-0.7 on mnist1d; a small 1-D CNN with batch norm and a cosine schedule
    # reaches ~0.93 (the shifts and scalings in the signals are what convolutions are invariant to)
    config = CNNConfig(
        channels=(32, 64),
        kernel_size=5,
        norm="batch",
        hidden=(128,),
        input_shape=(1, 40),
        lr=2e-3,
        max_epochs=8 if ctx.quick else 40,
        patience=8,
        lr_schedule="cosine",
    )
    return _train(ctx, "mnist1d", config)


TUNE_FOLDER = "tune_digits"


def step_tune(ctx: DemoContext) -> dict[str, Any]:
    from hyperselect.data import load_builtin
    from hyperselect.search import tune

    data = load_builtin("digits", random_state=ctx.seed)
    n_trials = 8 if ctx.quick else 24
    t0 = time.perf_counter()
    with ctx.console.status(f"searching {n_trials} configurations on digits (successive halving)..."):
        res = tune(
            data,
            n_trials=n_trials,
            timeout=30 if ctx.quick else 45,
            random_state=ctx.seed,
            max_epochs=15 if ctx.quick else 40,
        )
    res.save(ctx.out / TUNE_FOLDER)
    doc = res.to_dict()
    test = {k: v for k, v in doc.get("test_metrics", {}).items() if k.startswith("test_")}
    shown = ", ".join(f"{k.removeprefix('test_')} {v:.4f}" for k, v in test.items() if isinstance(v, float))
    ctx.say(
        f"  best valid score {res.best_valid_score:.4f}; test: {shown}; {time.perf_counter() - t0:.0f}s",
    )
    cfg = res.best_config.to_dict()
    keys = (
        "arch",
        "channels",
        "hidden",
        "activation",
        "optimizer",
        "lr",
        "batch_size",
        "dropout",
        "weight_decay",
    )
    ctx.say("  best configuration: " + ", ".join(f"{k}={_short(cfg[k])}" for k in keys if k in cfg))
    return {
        "best_valid_score": res.best_valid_score,
        "test_metrics": test,
        "seconds": time.perf_counter() - t0,
        "parts": [_part(TUNE_FOLDER, "digits", f"a search of {n_trials} configurations")],
    }


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _verdict(ctx: DemoContext, name: str, folder: Path) -> dict[str, Any]:
    from hyperselect.evaluate import demo_verdict
    from hyperselect.evaluate.report_text import render_verdict

    overrides: dict[str, Any] = {"timeout": 8.0, "max_epochs": 10} if ctx.quick else {}
    with ctx.console.status(f"comparing the tuned network with classic baselines on {name}..."):
        v = demo_verdict(name, random_state=ctx.seed, **overrides)
    v.save(safe_join(folder, "verdict.json"))
    ctx.console.print(render_verdict(v), highlight=False, markup=False)
    return {"recommendation": v.recommendation, "preferred_model": v.preferred_model}


def step_verdict(ctx: DemoContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("digits", "mnist1d"):  # each data set's verdict in a folder of its own
        out[name] = _verdict(ctx, name, ctx.out / f"compare_{name}")
    what = "the tuned network against classic baselines"
    return {**out, "parts": [_part(f"compare_{n}", n, what) for n in ("digits", "mnist1d")]}


DAVIS, KARATE = "Davis Southern Women", "karate club"
DAVIS_DIMENSIONS, KARATE_DIMENSIONS = 32, 16


def step_graph(ctx: DemoContext) -> dict[str, Any]:
    import networkx as nx

    from hyperselect.cli_graph import graph_facts
    from hyperselect.data.graph import from_networkx, labels_from_mapping
    from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix
    from hyperselect.represent.node2vec import Node2Vec

    # Davis Southern Women: 18 women and the 14 events they attended, a real bipartite graph
    davis = from_networkx(nx.davis_southern_women_graph())
    with ctx.console.status("embedding the Davis Southern Women graph (node2vec ensemble)..."):
        model = Node2Vec(dimensions=DAVIS_DIMENSIONS, random_state=ctx.seed).fit(davis)
    who = "Evelyn Jefferson"
    similar = model.most_similar(who, 3)
    rec = model.recommend(who, 3)
    ctx.say(
        f"  women most like {who} (ranked by their mean rank over the ensemble's runs; support: the share of runs "
        "with her in their own top 3): "
        + ", ".join(f"{a.node} (sim {a.similarity:.2f}, support {a.support:.0%})" for a in similar)
    )
    ctx.say(
        f"  events to suggest to {who} (held by her closest peers, ranked as above; in brackets the support): "
        + ", ".join(f"{a.node} ({a.support:.0%})" for a in rec.add)
    )
    folder = ctx.out / "graph_davis"
    # recorded as the graph commands record theirs, so that each folder's page names its graph and settings
    facts = graph_facts(
        {"graph": f"{DAVIS} (networkx)"}, davis, {"dimensions": DAVIS_DIMENSIONS, "seed": ctx.seed}
    )
    atomic_write_json(
        safe_join(folder, "similar.json"),
        {"node": who, "k": 3, "answers": [a.to_dict() for a in similar], "effort": model.effort_, **facts},
    )
    atomic_write_json(
        safe_join(folder, "recommend.json"),
        {**rec.to_dict(), "k": 3, "n_peers": 10, "effort": model.effort_, **facts},
    )
    model.save(folder / "embeddings")

    # karate club: classify each member's faction from the embedding
    g = nx.karate_club_graph()
    karate = from_networkx(g)
    labels = labels_from_mapping({str(n): g.nodes[n]["club"] for n in g.nodes}, source="karate club")
    with ctx.console.status("embedding the karate club and classifying its members..."):
        km = Node2Vec(dimensions=KARATE_DIMENSIONS, random_state=ctx.seed).fit(karate)
        x, y = labelled_matrix(km.embeddings_, km.nodes_, labels)
        res = evaluate_embeddings(x, y, models=("logreg", "random_forest"), repeats=5, random_state=ctx.seed)
    atomic_write_json(
        safe_join(ctx.out, "graph_karate/classify.json"),
        {
            **res,
            "effort": km.effort_,
            **graph_facts(
                {"graph": f"{KARATE} (networkx)"},
                karate,
                {"dimensions": KARATE_DIMENSIONS, "labels": "club", "seed": ctx.seed},
            ),
        },
    )
    for name, r in res["models"].items():
        if "macro_f1" in r:
            ctx.say(f"  karate faction, {name}: Macro-F1 {r['macro_f1']:.3f}, Micro-F1 {r['micro_f1']:.3f}")
    return {
        "similar": [a.node for a in similar],
        "recommend": [a.node for a in rec.add],
        "karate": {k: v.get("macro_f1") for k, v in res["models"].items()},
        "parts": [
            _part("graph_davis", DAVIS, f"similar women and events to suggest to {who}"),
            _part("graph_karate", KARATE, "each member's faction classified from the embedding"),
        ],
    }


def step_report(ctx: DemoContext) -> dict[str, Any]:
    """Each step folder's page, then the tour's manifest (tour.json) and the tour's page drawn from it."""
    from hyperselect.report import build_report
    from hyperselect.report.views import TOUR_FILE  # the manifest the report reads to draw the tour

    steps = []
    for step in DEMO_STEPS:
        parts = [
            p for p in (ctx.results.get(step.name) or {}).get("parts", []) if (ctx.out / p["folder"]).is_dir()
        ]
        if parts:
            steps.append({"name": step.name, "title": step.title, "parts": parts})
    known = {p["folder"] for s in steps for p in s["parts"]}
    # folders of steps run earlier (``--only report`` after a full tour): drawn too, under their own name
    left = [
        p.name
        for p in sorted(ctx.out.iterdir())
        if p.is_dir() and p.name not in known and any(p.glob("*.json"))
    ]
    if left:
        steps.append(
            {"name": "earlier", "title": "Results of earlier runs", "parts": [_part(n, "", "") for n in left]}
        )
    atomic_write_json(
        safe_join(ctx.out, TOUR_FILE),
        {"tour": "hyperselect demo", "quick": ctx.quick, "seed": ctx.seed, "steps": steps},
    )
    others = [build_report(ctx.out / p["folder"]) for s in steps for p in s["parts"]]  # each links back
    main = build_report(ctx.out)
    return {"report": str(main), "other_reports": [str(p) for p in others]}


#: The tour, in order.
DEMO_STEPS: list[DemoStep] = [
    DemoStep("digits", "A hand-tuned MLP on scikit-learn's digits", step_digits),
    DemoStep("mnist1d", "A hand-tuned 1-D CNN on mnist1d", step_mnist1d),
    DemoStep("tune", "Hyperparameter search on digits: priors, populations, successive halving", step_tune),
    DemoStep("verdict", "Is deep learning worth it? Tuned network vs classic baselines", step_verdict),
    DemoStep(
        "graph", "node2vec: recommendations on the Davis graph, classification on the karate club", step_graph
    ),
    DemoStep("report", "The HTML report", step_report),
]


def add_demo_step(step: DemoStep, *, after: str | None = None) -> None:
    """Append ``step`` (or insert it after the step named ``after``); a step of the same name is replaced."""
    for i, s in enumerate(DEMO_STEPS):
        if s.name == step.name:
            DEMO_STEPS[i] = step
            return
    idx = (
        len(DEMO_STEPS)
        if after is None
        else next((i + 1 for i, s in enumerate(DEMO_STEPS) if s.name == after), None)
    )
    if idx is None:
        raise ValueError(f"no demo step named {after!r}; steps: {[s.name for s in DEMO_STEPS]}")
    DEMO_STEPS.insert(idx, step)


def run_demo(
    console: Console, *, out: Path, quick: bool = False, only: list[str] | None = None, seed: int = 0
) -> DemoContext:
    """Run the tour (or the steps in ``only``); writes ``out/demo.json`` and returns the context."""
    from hyperselect.errors import ConfigError

    known = [s.name for s in DEMO_STEPS]
    unknown = [n for n in (only or []) if n not in known]
    if unknown:
        raise ConfigError(
            f"The '--only' option must name demo steps among {', '.join(known)}. Got {unknown}."
        )
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(quick=quick, out=out, console=console, seed=seed)
    t0 = time.perf_counter()
    steps = [s for s in DEMO_STEPS if not only or s.name in only]
    for i, step in enumerate(steps):
        console.rule(f"[bold]{i + 1}/{len(steps)}. {step.title}")
        ts = time.perf_counter()
        ctx.results[step.name] = {**step.run(ctx), "step_seconds": time.perf_counter() - ts}
    atomic_write_json(
        safe_join(out, "demo.json"),
        {"quick": quick, "seed": seed, "seconds": time.perf_counter() - t0, "steps": ctx.results},
    )
    return ctx


__all__ = ["DEMO_STEPS", "DemoContext", "DemoStep", "add_demo_step", "run_demo"]
