"""``hyperselect graph ...``: node2vec embeddings, similar nodes, recommendations, classification, tuning.

Thin by design: parse, call the library, print with rich, write JSON into ``--out``.  The library raises; only
this module prints and exits (code 1 on a :class:`HyperselectError`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyperselect._cli_options import out_folder
from hyperselect._io import atomic_write_json, safe_join
from hyperselect.errors import ConfigError, DataError, HyperselectError

app = typer.Typer(help="Graph embeddings (node2vec): similar nodes, recommendations, node classification.")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # error messages stay greppable, one line each

LabelsOpt = typer.Option(None, "--labels", help="node<TAB>label file (several lines per node = multi-label).")
OutOpt = typer.Option(
    None, "--out", help="Folder for the JSON results (and embeddings).", callback=out_folder
)
DirectedOpt = typer.Option(False, "--directed", help="Read the edge list as directed.")
POpt = typer.Option(1.0, "--p", help="Return parameter p.")
QOpt = typer.Option(1.0, "--q", help="In-out parameter q.")
DimOpt = typer.Option(128, "--dimensions", help="Embedding dimension.")
WalksOpt = typer.Option("auto", "--num-walks", help="Walks per node, or 'auto' (more on small graphs).")
EpochsOpt = typer.Option("auto", "--epochs", help="Skip-gram epochs, or 'auto'.")
EnsembleOpt = typer.Option("auto", "--ensemble", help="Runs with different seeds to aggregate, or 'auto'.")
SeedOpt = typer.Option(0, "--seed", help="random_state.")
WorkersOpt = typer.Option(None, "--workers", help="Threads (default: all cores).")


def _auto_int(name: str, value: str) -> int | str:
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise DataError(f"--{name.replace('_', '-')} must be an integer or 'auto'. Got {value!r}.") from None


def _float_list(name: str, value: str) -> list[float]:
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--{name} must be comma-separated numbers. Got {value!r}.") from None


def _bool_list(name: str, value: str) -> list[bool]:
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    out = []
    for v in value.split(","):
        if v.strip().lower() not in words:
            raise ConfigError(f"--{name} must be comma-separated true/false. Got {value!r}.")
        out.append(words[v.strip().lower()])
    return out


def _run(fn: Callable[[], None]) -> None:
    """Call ``fn``; print graph-data warnings in yellow and errors in red (exit code 1)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        except HyperselectError as exc:
            for w in caught:
                err_console.print(f"[yellow]warning:[/] {w.message}")
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from None
    for w in caught:
        err_console.print(f"[yellow]warning:[/] {w.message}")


def _load(edges: Path, labels: Path | None, directed: bool) -> tuple[Any, Any]:
    from hyperselect.data.graph import read_edgelist, read_labels

    graph = read_edgelist(edges, directed=directed)
    lab = read_labels(labels) if labels is not None else None
    if lab is not None and len(lab.classes) == 2 and not lab.multilabel and graph.sides is None:
        # two single labels per node (e.g. woman/event, department/course) are the bipartite sides, but only
        # where every edge joins the two labels: two classes on an ordinary graph (spam/ham) are not sides
        side_of = {c: i for i, c in enumerate(lab.classes)}
        sides = np.asarray(
            [side_of[lab.labels[u][0]] if u in lab.labels else -1 for u in graph.nodes], dtype=np.int8
        )
        rows = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
        a, b = sides[rows], sides[graph.indices]
        if len(rows) and bool(np.all((a >= 0) & (b >= 0) & (a != b))):
            graph.sides = sides
    return graph, lab


def _model(
    p: float,
    q: float,
    dimensions: int,
    num_walks: str,
    epochs: str,
    ensemble: str,
    seed: int,
    workers: int | None,
) -> Any:
    from hyperselect.represent.node2vec import Node2Vec

    return Node2Vec(
        dimensions=dimensions,
        num_walks=_auto_int("num_walks", num_walks),
        epochs=_auto_int("epochs", epochs),
        ensemble=_auto_int("ensemble", ensemble),
        p=p,
        q=q,
        random_state=seed,
        workers=workers,
    )


def _check_node(node: str, graph: Any, lab: Any) -> None:
    if node not in graph and lab is not None and node in lab.labels:
        raise DataError(f"Node {node!r} appears only in the label file: no neighbours, cannot be embedded.")


def _label(answer: Any, shown: int = 3) -> str:
    """``C:AAE_210 (+11 tied: C:AAE_412, C:AAE_415, C:AAE_420, ...)``: a class of equally good answers."""
    text = _tied_text(answer.node, list(answer.tied), shown)
    if answer.equivalent:
        text += " (same neighbours as the query)"
    return text


def _tied_text(node: str, tied: list[str], shown: int = 3) -> str:
    text = escape(node)
    if tied:
        names = ", ".join(tied[:shown]) + (", ..." if len(tied) > shown else "")
        text += escape(f" (+{len(tied)} tied: {names})")
    return text


def _answers_table(title: str, answers: list[Any]) -> Table:
    table = Table(title=title)
    table.add_column("node")
    table.add_column("similarity", justify="right")
    table.add_column("support", justify="right")
    for a in answers:
        table.add_row(_label(a), f"{a.similarity:.3f}", f"{a.support:.0%}")
    return table


def _effort_line(model: Any) -> str:
    e = model.effort_
    return (
        f"walks/node {e['num_walks']}, epochs {e['epochs']}, ensemble {e['ensemble']} ({e['mode']} walks); "
        f"walks {model.timings_['walks_s']:.1f}s, training {model.timings_['train_s']:.1f}s"
    )


@app.command()
def embed(
    edges: Path,
    labels: Path | None = LabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
    format: str = typer.Option("npy", "--format", help="npy (folder) or word2vec (text file)."),
) -> None:
    """Fit node2vec and save the embeddings (rows in node order)."""

    def go() -> None:
        graph, _ = _load(edges, labels, directed)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        console.print(f"[bold]{graph.n_nodes}[/] nodes, {graph.n_edges} edges: {_effort_line(model)}")
        if out is not None:
            name = "embeddings.txt" if format == "word2vec" else "embeddings"
            where = model.save(safe_join(out, name), format=format)
            atomic_write_json(
                safe_join(out, "embed.json"),
                {
                    "graph": graph.summary(),
                    "effort": model.effort_,
                    "timings": model.timings_,
                    "saved": str(where),
                },
            )
            console.print(f"saved to {where}")

    _run(go)


@app.command()
def similar(
    edges: Path,
    node: str = typer.Option(..., "--node", help="The node to find peers of."),
    k: int = typer.Option(10, "--k", help="How many answers."),
    labels: Path | None = LabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
) -> None:
    """The nodes most similar to --node (on its own side of a bipartite graph), with support."""

    def go() -> None:
        graph, lab = _load(edges, labels, directed)
        _check_node(node, graph, lab)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        answers = model.most_similar(node, k)
        console.print(_answers_table(f"most similar to {node}", answers))
        console.print(_effort_line(model))
        if out is not None:
            atomic_write_json(
                safe_join(out, "similar.json"),
                {"node": node, "answers": [a.to_dict() for a in answers], "effort": model.effort_},
            )

    _run(go)


@app.command()
def recommend(
    edges: Path,
    node: str = typer.Option(..., "--node", help="The node to recommend items for."),
    k: int = typer.Option(10, "--k", help="How many items to add."),
    labels: Path | None = LabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
) -> None:
    """Bipartite graphs: items --node's closest peers have and it lacks, and substitutes for what it has."""

    def go() -> None:
        graph, lab = _load(edges, labels, directed)
        _check_node(node, graph, lab)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        rec = model.recommend(node, k)
        console.print(_answers_table(f"peers of {node}", rec.peers[:5]))
        table = Table(title=f"add to {node}")
        for col in ("item", "peer share", "support"):
            table.add_column(col)
        for a in rec.add:
            table.add_row(_label(a), f"{a.score:.2f}", f"{a.support:.0%}")
        console.print(table)
        sub = Table(title="substitutes")
        sub.add_column("has")
        sub.add_column("closest alternatives (support)")
        seen: set[str] = set()
        for item, alts in rec.substitutes.items():
            if item in seen:
                continue
            tied = model.tied_with(item)  # held items with the same holders share one row
            seen.update(tied)
            sub.add_row(
                _tied_text(item, tied, 2), ", ".join(f"{_label(a, 2)} ({a.support:.0%})" for a in alts)
            )
        console.print(sub)
        if out is not None:
            atomic_write_json(safe_join(out, "recommend.json"), {**rec.to_dict(), "effort": model.effort_})

    _run(go)


@app.command()
def classify(
    edges: Path,
    labels: Path = typer.Option(..., "--labels", help="node<TAB>label file."),
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = typer.Option("1", "--ensemble", help="Runs to average (Procrustes-aligned), or 'auto'."),
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
    repeats: int = typer.Option(5, "--repeats", help="Random 50% splits to average."),
    models: str = typer.Option("logreg,random_forest,network", "--models", help="Comma-separated models."),
    C: float = typer.Option(
        1.0,
        "--C",
        help="Logistic regression's inverse regularisation strength (> 0; `graph tune` selects it).",
    ),
    normalize: bool = typer.Option(
        False,
        "--normalize/--no-normalize",
        help="Scale embedding rows to unit L2 norm for the logistic regression.",
    ),
) -> None:
    """Macro/Micro-F1 of classifiers on the embeddings (top-k labels per node for multi-label graphs)."""

    def go() -> None:
        from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix

        if not 0 < C < float("inf"):  # also catches nan
            raise ConfigError(f"--C must be a finite number > 0. Got {C}.")
        graph, lab = _load(edges, labels, directed)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        x, y = labelled_matrix(model.embeddings_, model.nodes_, lab)
        res = evaluate_embeddings(
            x,
            y,
            models=[m.strip() for m in models.split(",") if m.strip()],
            repeats=repeats,
            random_state=seed,
            n_jobs=workers or 2,
            C=C,
            normalize=normalize,
        )
        table = Table(title=f"node classification ({len(x)} nodes, {y.shape[1]} labels, 50% training)")
        for col in ("model", "Macro-F1", "Micro-F1"):
            table.add_column(col)
        for name, r in res["models"].items():
            if "skipped" in r:
                table.add_row(name, "skipped", r["skipped"])
            else:
                table.add_row(
                    name,
                    f"{r['macro_f1']:.4f} ± {r['macro_f1_std']:.4f}",
                    f"{r['micro_f1']:.4f} ± {r['micro_f1_std']:.4f}",
                )
        console.print(table)
        console.print(f"logistic regression: C={C:g}, rows {'L2-normalised' if normalize else 'raw'}")
        console.print(_effort_line(model))
        if out is not None:
            atomic_write_json(safe_join(out, "classify.json"), {**res, "effort": model.effort_})

    _run(go)


@app.command()
def tune(
    edges: Path,
    labels: Path = typer.Option(..., "--labels", help="node<TAB>label file."),
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    trials: int = typer.Option(12, "--trials", help="Optuna trials."),
    dimensions: str = typer.Option("128", "--dimensions", help="Comma-separated dimensions to try."),
    num_walks: int = typer.Option(10, "--num-walks"),
    epochs: int = typer.Option(
        3,
        "--epochs",
        help="Skip-gram epochs of every trial (the paper: 1; on BlogCatalog 3 gave test Macro-F1 0.267 vs 0.247).",
    ),
    seed: int = SeedOpt,
    workers: int = typer.Option(2, "--workers"),
    C_values: str = typer.Option(
        "1,3,10,30,100",
        "--C-values",
        help="Comma-separated logistic regression C values (> 0) to select from.",
    ),
    normalize_values: str = typer.Option(
        "false,true", "--normalize-values", help="Row L2 normalisation settings to select from: false, true."
    ),
    validation_repeats: int = typer.Option(
        3, "--validation-repeats", help="Disjoint 10% validation slices averaged per configuration."
    ),
    train_fraction: float = typer.Option(
        0.5, "--train-fraction", help="Share of labelled nodes the validation classifier trains on."
    ),
) -> None:
    """Select p, q, the dimension and the classifier's C and row normalisation against a validation Macro-F1
    (10% of labels held out, averaged over --validation-repeats disjoint slices); pass the chosen --C and
    --normalize to `graph classify`."""

    def go() -> None:
        from hyperselect.evaluate.node_classification import tune_node2vec

        graph, lab = _load(edges, labels, directed)
        try:
            dims = [int(d) for d in dimensions.split(",")]
        except ValueError:
            raise DataError(f"--dimensions must be comma-separated integers. Got {dimensions!r}.") from None
        c_grid = _float_list("C-values", C_values)
        norm_grid = _bool_list("normalize-values", normalize_values)
        res = tune_node2vec(
            graph,
            lab,
            n_trials=trials,
            dimensions=dims,
            C_values=c_grid,
            normalize_values=norm_grid,
            validation_repeats=validation_repeats,
            train_fraction=train_fraction,
            num_walks=num_walks,
            epochs=epochs,
            workers=workers,
            random_state=seed,
        )
        table = Table(title="trials")
        for col in ("#", "p", "q", "dim", "C", "normalize", "validation Macro-F1"):
            table.add_column(col)
        for t in res.trials:
            score = f"{t['score']:.4f}" if "score" in t else f"failed: {t.get('reason')}"
            table.add_row(
                str(t["number"]),
                str(t.get("p")),
                str(t.get("q")),
                str(t.get("dimensions")),
                f"{t['C']:g}" if "C" in t else "",
                str(t.get("normalize", "")),
                score,
            )
        console.print(table)
        b = res.best_params
        console.print(
            f"best: p={b['p']:g} q={b['q']:g} dimensions={b['dimensions']} C={b['C']:g} "
            f"normalize={b['normalize']} (validation Macro-F1 {res.best_score:.4f}); "
            f"{res.walk_sets} walk sets for {len(res.trials)} trials, {res.seconds:.0f}s"
        )
        norm_flag = "--normalize" if b["normalize"] else "--no-normalize"
        console.print(
            f"classify with: --p {b['p']:g} --q {b['q']:g} --dimensions {b['dimensions']} "
            f"--C {b['C']:g} {norm_flag}"
        )
        if out is not None:
            atomic_write_json(safe_join(out, "tune.json"), res.to_dict())

    _run(go)
