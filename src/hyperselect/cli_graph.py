"""``hyperselect graph ...``: node2vec embeddings, similar nodes, recommendations, classification, tuning.

Thin by design: parse, call the library, print with rich, write JSON into ``--out``.  The library raises; only
this module prints and exits (code 1 on a :class:`HyperselectError`; code 2 for an option refused while
parsing, before any file is read).
"""

from __future__ import annotations

import shlex
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyperselect._cli_options import _sep, out_folder
from hyperselect._io import atomic_write_json, safe_join
from hyperselect.cli_report import report_after
from hyperselect.data.graph import GraphDataWarning
from hyperselect.errors import DataError, HyperselectError
from hyperselect.represent.node2vec.walks import P_Q_MAX, P_Q_MIN

app = typer.Typer(help="Graph embeddings (node2vec): similar nodes, recommendations, node classification.")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # error messages stay greppable, one line each


# ------------------------------------------------------------------ option checks, run while parsing (exit code 2)
def _int_or_auto(value: str) -> str:
    """``--num-walks``, ``--epochs``, ``--ensemble``: an integer >= 1 or 'auto' (kept as text for _model)."""
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise typer.BadParameter(f"expected an integer >= 1 or 'auto'. Got {value!r}.") from None
    if number < 1:
        raise typer.BadParameter(f"expected an integer >= 1 or 'auto'. Got {value!r}.")
    return value


def _positive_float(value: float) -> float:
    if not 0 < value < float("inf"):  # also catches nan
        raise typer.BadParameter(f"must be a finite number > 0. Got {value}.")
    return value


def _model_names(value: str) -> str:
    from hyperselect.evaluate.node_classification import MODELS

    names = [m.strip() for m in value.split(",") if m.strip()]
    if not names:
        raise typer.BadParameter(f"name at least one model of {', '.join(MODELS)}. Got {value!r}.")
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise typer.BadParameter(f"unknown model {unknown[0]!r}; expected some of {', '.join(MODELS)}.")
    return value


def _format(value: str) -> str:
    if value not in ("npy", "word2vec"):
        raise typer.BadParameter(f"expected 'npy' or 'word2vec'. Got {value!r}.")
    return value


def _dimension_list(value: str) -> str:
    try:
        dims = [int(d) for d in value.split(",")]
    except ValueError:
        raise typer.BadParameter(f"must be comma-separated integers >= 1. Got {value!r}.") from None
    if not dims or min(dims) < 1:
        raise typer.BadParameter(f"must be comma-separated integers >= 1. Got {value!r}.")
    return value


def _float_list(value: str) -> str:
    try:
        numbers = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"must be comma-separated numbers. Got {value!r}.") from None
    if not numbers or not all(0 < c < float("inf") for c in numbers):
        raise typer.BadParameter(f"must be comma-separated finite numbers > 0. Got {value!r}.")
    return value


_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _bool_list(value: str) -> str:
    if not all(v.strip().lower() in _BOOL_WORDS for v in value.split(",")):
        raise typer.BadParameter(f"must be comma-separated true/false. Got {value!r}.")
    return value


def _train_fraction(value: float) -> float:
    if not 0 < value <= 0.9:  # 10% of the labels are held out for validation
        raise typer.BadParameter(f"must be in (0, 0.9] (10% of labels are held out). Got {value}.")
    return value


LabelsOpt = typer.Option(None, "--labels", help="node<TAB>label file (several lines per node = multi-label).")
SidesLabelsOpt = typer.Option(
    None,
    "--labels",
    help="node<TAB>label file that declares the graph's two sides: exactly two classes, one per node, with every "
    "edge joining them (e.g. woman/event); needed only where the edge list's two columns share a node.",
)
OutOpt = typer.Option(
    None, "--out", help="Folder for the JSON results (and embeddings).", callback=out_folder
)
DirectedOpt = typer.Option(False, "--directed", help="Read the edge list as directed.")
UnweightedOpt = typer.Option(
    False,
    "--unweighted",
    help="Ignore a third column (walks treat every edge alike): for a column that is not a weight, such as "
    "a timestamp.",
)
SepOpt = typer.Option(
    None,
    "--sep",
    callback=_sep,
    help="Column delimiter of the edge list, e.g. ';' or tab (default: guessed from tab, comma or whitespace, "
    "or semicolon where the first line reads u;v;2,5: a decimal comma is read in a file separated by semicolons).",
)
_PQ_RANGE = f"in [{P_Q_MIN:g}, {P_Q_MAX:g}]; beyond it the walk changes no further and sampling slows"
POpt = typer.Option(
    1.0,
    "--p",
    min=P_Q_MIN,
    max=P_Q_MAX,
    help=f"Return parameter p (a low p keeps walks near their start), {_PQ_RANGE}.",
)
QOpt = typer.Option(
    1.0,
    "--q",
    min=P_Q_MIN,
    max=P_Q_MAX,
    help=f"In-out parameter q (a low q sends walks outward, DFS-like), {_PQ_RANGE}.",
)
DimOpt = typer.Option(128, "--dimensions", min=1, help="Embedding dimension.")
WalksOpt = typer.Option(
    "auto", "--num-walks", callback=_int_or_auto, help="Walks per node, or 'auto' (more on small graphs)."
)
EpochsOpt = typer.Option("auto", "--epochs", callback=_int_or_auto, help="Skip-gram epochs, or 'auto'.")
EnsembleOpt = typer.Option(
    "auto", "--ensemble", callback=_int_or_auto, help="Runs with different seeds to aggregate, or 'auto'."
)
SeedOpt = typer.Option(
    0,
    "--seed",
    min=0,
    max=2**32 - 1,
    help="random_state. Results are bit-identical from run to run only with --workers 1: with several threads "
    "the skip-gram updates interleave by scheduling, so answers and scores vary slightly.",
)
_WORKERS_HELP = (
    "Threads for the walks and the skip-gram, at most the global --threads (default: every CPU this process "
    "may use). Only --workers 1 gives bit-identical results from the same --seed."
)
WorkersOpt = typer.Option(None, "--workers", min=1, help=_WORKERS_HELP)
ClassifierJobsOpt = typer.Option(
    None,
    "--classifier-jobs",
    min=1,
    help="Processes that fit the classifiers (scikit-learn's n_jobs), at most the global --threads (default: "
    "1 on a small graph, where starting processes costs more than it saves, else one per usable CPU, per label "
    "and per 256 MiB + the data in half the free memory). Not node2vec's --workers; the results do not depend "
    "on it.",
)
KOpt = typer.Option(10, "--k", min=1, help="How many answers.")


#: the warnings of the command running now (_run), for the JSON it writes (_facts)
_CAUGHT: list[list[warnings.WarningMessage]] = [[]]


def graph_facts(
    source: dict[str, Any], graph: Any, params: dict[str, Any], warned: Sequence[str] = ()
) -> dict[str, Any]:
    """What a graph result's JSON records besides its answer, so that it can be read and rerun on its own (and
    its page, report/views.graph_view, names its graph and settings): the input, the parameters, the graph as
    read and the data warnings, each once.  The commands' input is their files; the demo's a networkx graph."""
    return {
        "input": source,
        "params": params,
        "graph": graph.summary(),
        "warnings": list(dict.fromkeys(warned)),
    }


def _facts(edges: Path, labels: Path | None, directed: bool, graph: Any, **params: Any) -> dict[str, Any]:
    """:func:`graph_facts` of a command: its input files and the warnings printed so far."""
    source = {"edges": str(edges), "labels": None if labels is None else str(labels), "directed": directed}
    return graph_facts(source, graph, params, [str(w.message) for w in _CAUGHT[0]])


def _run(fn: Callable[[], None]) -> None:
    """Call ``fn``; print graph-data warnings in yellow (each once) and errors in red (exit code 1)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _CAUGHT[0] = caught
        _PRINTED.clear()
        try:
            fn()
        except HyperselectError as exc:
            _print_warnings(caught)
            err_console.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
        except typer.Exit:  # a command that ends itself (tune's Ctrl-C) still says its data warnings
            _print_warnings(caught)
            raise
    _print_warnings(caught)


#: warnings of the running command already printed (the data's, right after loading, before the results)
_PRINTED: set[str] = set()


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    # a check made before the fit and again after it (the labels) warns twice with the same words
    for message in dict.fromkeys(str(w.message) for w in caught):
        if message not in _PRINTED:
            _PRINTED.add(message)
            err_console.print(f"[yellow]warning:[/] {escape(message)}")


def _load(
    edges: Path,
    labels: Path | None,
    directed: bool,
    unweighted: bool = False,
    sep: str | None = None,
    *,
    for_sides: bool = False,
) -> tuple[Any, Any]:
    """The graph and its labels.  A two-class label file that splits every edge declares the sides (where the
    edge list's columns did not); with ``for_sides`` (similar, recommend: commands that read --labels for the
    sides alone) a label file that cannot declare them is said, with the reason, in ``graph.report
    ["_labels_not_sides"]`` (and label-only nodes are warned about)."""
    from hyperselect.data.graph import read_edgelist, read_labels

    graph = read_edgelist(
        edges,
        directed=directed,
        weighted=False if unweighted else None,
        delimiter="auto" if sep is None else sep,
    )
    if graph.weighted:  # said once: a third column of timestamps or ids would silently steer every walk
        w = graph.weights
        err_console.print(
            f"[dim]note:[/] {escape(str(edges))}: the third column is read as edge weights ({w.min():g} to "
            f"{w.max():g}); --unweighted ignores it."
        )
    lab = read_labels(labels) if labels is not None else None
    if lab is not None and labels is not None and graph.sides is None:
        why = _labels_as_sides(graph, lab, labels)
        if why is not None and for_sides:
            graph.report["_labels_not_sides"] = why
    if lab is not None and for_sides:
        lab.align(graph.nodes)  # label-only nodes are said, as classify and embed say them
    _print_warnings(_CAUGHT[0])  # the data's warnings (self-loops, components, ...) before any result
    return graph, lab


def _labels_as_sides(graph: Any, lab: Any, labels: Path) -> str | None:
    """Declare ``graph``'s sides from a two-class label file where every edge joins the two classes; else say
    why the file cannot declare them (``None``: it did)."""
    name = labels.name
    if lab.multilabel:
        return f"{name} gives some nodes several labels, so it cannot declare the two sides"
    if len(lab.classes) != 2:
        return f"{name} has {len(lab.classes)} classes, not two, so it cannot declare the two sides"
    # two single labels per node (e.g. woman/event, department/course) are the bipartite sides, but only
    # where every edge joins the two labels: two classes on an ordinary graph (spam/ham) are not sides
    side_of = {c: i for i, c in enumerate(lab.classes)}
    sides = np.asarray(
        [side_of[lab.labels[u][0]] if u in lab.labels else -1 for u in graph.nodes], dtype=np.int8
    )
    has_edges = np.ones(graph.n_nodes, dtype=bool)
    has_edges[[graph.index_of(u) for u in graph.isolated]] = False
    unlabelled = np.flatnonzero((sides < 0) & has_edges)
    if len(unlabelled):
        return (
            f"{name} has two classes but no label for {len(unlabelled)} node(s) of the graph (e.g. "
            f"{graph.nodes[unlabelled[0]]!r}), so it cannot declare the two sides"
        )
    rows = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    a, b = sides[rows], sides[graph.indices]
    same = np.flatnonzero((a >= 0) & (a == b))
    if len(same):
        u, v = graph.nodes[rows[same[0]]], graph.nodes[graph.indices[same[0]]]
        return (
            f"{name} has two classes but does not split every edge ({u}-{v} are both "
            f"{lab.labels[u][0]!r}), so it cannot declare the two sides"
        )
    graph.sides = sides
    graph.sides_from = f"the two labels of {labels} ({lab.classes[0]}, {lab.classes[1]})"
    return None


#: the global ``hyperselect --threads N`` of the command line running now (None: not given); set by the root
#: app's callback for every command line, so one run's value never carries over to the next
_THREADS: list[int | None] = [None]


def set_thread_cap(threads: int | None) -> None:
    """Called by ``hyperselect --threads N``: node2vec and the classifiers use at most ``threads`` threads."""
    _THREADS[0] = threads if threads is None else max(1, int(threads))


def _capped(n: int) -> int:
    """``n`` threads, never more than the global ``--threads`` (whose help promises that 1 keeps a shared
    machine free of thread contention)."""
    cap = _THREADS[0]
    return max(1, min(n, cap) if cap is not None else n)


def _workers(workers: int | None) -> int:
    """node2vec's threads: ``--workers``, else every CPU this process may use; capped by ``--threads``."""
    from hyperselect.represent.node2vec.walks import usable_cpus

    return _capped(workers if workers is not None else usable_cpus())


def _jobs(classifier_jobs: int | None) -> tuple[int | None, int | None]:
    """The classifiers' parallel jobs, as ``n_jobs`` and ``max_jobs`` for the library: ``--classifier-jobs``
    capped by ``--threads``, else ``None`` (chosen by the size of the data, the labels, the usable CPUs and the
    free memory: :func:`~hyperselect.evaluate.node_classification.classifier_jobs`), at most ``--threads``.
    Not node2vec's ``--workers``: the classifiers are processes, each with its own memory, and run after the
    embedding, never beside it."""
    given = None if classifier_jobs is None else _capped(classifier_jobs)
    return given, _THREADS[0]


def _recommend_sides(graph: Any, edges: Path) -> bool:
    """recommend's sides where the input declares none: the graph's 2-colouring, with a warning (``True``);
    a graph with an odd cycle is refused in the CLI's words, naming a label file that could not declare the
    sides and why.  ``False``: the sides are declared."""
    if graph.bipartite_sides() is not None:
        return False
    why = graph.report.get("_labels_not_sides")
    colour = graph.two_colouring()
    if colour is None:
        raise DataError(
            "recommend needs a bipartite graph (two node sides, every edge joining them, e.g. people and the items "
            f"they hold), and {edges.name} has an odd cycle, so it has no two sides"
            + (
                f"; {why}."
                if why
                else ". An edge list declares the sides when its two columns share no node (person -> item), "
                "or a --labels file with two classes that split every edge does."
            )
        )
    graph.sides = colour
    graph.sides_from = f"a 2-colouring of the graph, as {edges.name} declares no sides"
    warnings.warn(
        f"recommend: peers and items are the two sides of {graph.sides_from}"
        + (f" ({why})" if why else "")
        + "; check that they are people and items.",
        GraphDataWarning,
        stacklevel=2,
    )
    return True


def _params(
    p: float, q: float, dimensions: int, num_walks: str, epochs: str, ensemble: str, seed: int, **more: Any
) -> dict[str, Any]:
    """The node2vec parameters as given ('auto' where left to the model: ``effort`` says what it chose)."""
    return {
        "p": p,
        "q": q,
        "dimensions": dimensions,
        "num_walks": _auto_int(num_walks),
        "epochs": _auto_int(epochs),
        "ensemble": _auto_int(ensemble),
        "seed": seed,
        **more,
    }


def _auto_int(value: str) -> int | str:
    return value if value == "auto" else int(value)  # checked while parsing (_int_or_auto)


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
        num_walks=_auto_int(num_walks),
        epochs=_auto_int(epochs),
        ensemble=_auto_int(ensemble),
        p=p,
        q=q,
        random_state=seed,
        workers=_workers(workers),
    )


def _check_node(node: str, graph: Any, lab: Any, edges: Path) -> None:
    """A --node that cannot be answered is refused before the (slow) fit."""
    from hyperselect.data.graph import did_you_mean

    if node in graph:
        return
    if lab is not None and node in lab.labels:
        raise DataError(f"Node {node!r} appears only in the label file: no neighbours, cannot be embedded.")
    raise DataError(
        f"Node {node!r} is not in the edge list {str(edges)!r} ({graph.n_nodes} nodes)"
        f"{did_you_mean(node, graph.nodes)}"
    )


def _check_labels(graph: Any, lab: Any) -> None:
    """The label file's nodes and classes against the graph, before the fit: the same warnings and errors as
    after it (at least two classes with a node in the graph), without waiting for the embedding."""
    from hyperselect.evaluate.node_classification import labelled_rows

    has_edges = np.ones(graph.n_nodes, dtype=bool)
    has_edges[[graph.index_of(u) for u in graph.isolated]] = False
    labelled_rows(lab, graph.nodes, has_edges)


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


def _support_caption(runs: int, top: int, similarity: bool = False) -> str | None:
    """What support means, with the list length it counts against (the length each run's own list had, which
    need not be the number of rows shown); ``None`` for a single run, whose support is all or nothing."""
    if runs <= 1:
        return None
    # the order is the mean rank over the ensemble's runs, which a mean similarity need not follow
    return (
        f"ranked by mean rank over {runs} runs; "
        + ("similarity: mean cosine; " if similarity else "")
        + f"support: share of the {runs} runs with it in their own top {top}"
    )


def _answers_table(title: str, answers: list[Any], runs: int = 1, top: int = 10) -> Table:
    caption = _support_caption(runs, top, similarity=True)
    table = Table(title=title, caption=caption)
    table.add_column("node")
    table.add_column("similarity", justify="right")
    table.add_column("support", justify="right")
    for a in answers:
        table.add_row(_label(a), f"{a.similarity:.3f}", f"{a.support:.0%}")
    return table


def _side_note(node: str, sides_from: str) -> str:
    """The one line that says answers keep to the query's side, and which declaration made the sides."""
    return f"[dim]note:[/] only nodes on {escape(node)}'s side are answers; the sides come from {escape(sides_from)}."


def _runs(model: Any) -> int:
    runs = model.effort_.get("ensemble", 1)
    return runs if isinstance(runs, int) else 1


#: the walk modes as a reader knows them (the names are node2vec's implementation choices)
_MODE_WORDS = {
    "first_order": "uniform walks: p = q = 1",
    "otf": "biased walks, transition probabilities computed on the fly",
    "precomp": "biased walks, transition probabilities precomputed",
}


def _effort_line(model: Any) -> str:
    e = model.effort_
    short = (
        f", {e['mean_walk_length']:g} nodes a walk on average (dead ends)" if "mean_walk_length" in e else ""
    )
    threads = int(e.get("workers") or 1)
    return (
        f"walks/node {e['num_walks']}, epochs {e['epochs']}, ensemble {e['ensemble']} "
        f"({_MODE_WORDS.get(e['mode'], e['mode'] + ' walks')}{short}); "
        f"walks {model.timings_['walks_s']:.1f}s, training {model.timings_['train_s']:.1f}s on {threads} "
        + ("thread" if threads == 1 else f"threads ({_NOT_BIT_IDENTICAL})")
    )


#: said wherever several threads trained an embedding: the same --seed does not give the same numbers
_NOT_BIT_IDENTICAL = "results vary slightly from run to run; --workers 1 makes them bit-identical"


def _warn_noise(model: Any, node: str, answers: Sequence[Any]) -> None:
    """Warn (printed, and kept in the JSON's warnings) when the answers for ``node`` are likely noise: walks cut
    short by dead ends, or a best similarity near zero (:meth:`Node2Vec.noise_warning` says which and why)."""
    message = model.noise_warning(node, answers)
    if message:
        warnings.warn(message, GraphDataWarning, stacklevel=2)


@app.command()
def embed(
    edges: Path,
    labels: Path | None = LabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    unweighted: bool = UnweightedOpt,
    sep: str | None = SepOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
    format: str = typer.Option(
        "npy", "--format", callback=_format, help="npy (folder) or word2vec (text file)."
    ),
) -> None:
    """Fit node2vec and save the embeddings (rows in node order) into --out."""

    params = _params(p, q, dimensions, num_walks, epochs, ensemble, seed, format=format)

    def go() -> None:
        if out is None:  # said before the fit: the user may stop it and add --out
            err_console.print(
                "[yellow]warning:[/] nothing saved: pass --out DIR to keep the embeddings.", highlight=False
            )
        graph, lab = _load(edges, labels, directed, unweighted, sep)
        node_labels = None
        if (
            lab is not None
        ):  # they colour the report's projection; label-only nodes are said, as classify does
            lab.align(graph.nodes)
            in_graph = set(graph.nodes)
            node_labels = {u: "; ".join(v) for u, v in lab.labels.items() if u in in_graph}
        if out is not None and format == "word2vec":  # refused before the fit, not after it
            from hyperselect.represent.node2vec.model import check_word2vec_ids

            check_word2vec_ids(graph.nodes)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        console.print(f"[bold]{graph.n_nodes}[/] nodes, {graph.n_edges} edges: {_effort_line(model)}")
        if out is not None:
            name = "embeddings.txt" if format == "word2vec" else "embeddings"
            where = model.save(safe_join(out, name), format=format)
            atomic_write_json(
                safe_join(out, "embed.json"),
                {
                    **_facts(edges, labels, directed, graph, **params, workers=model.effort_["workers"]),
                    "effort": model.effort_,
                    "timings": model.timings_,
                    "saved": str(where),
                    **({"node_labels": node_labels} if node_labels is not None else {}),
                },
            )
            console.print(f"saved to {escape(str(where))}")

    _run(go)
    report_after(out)


@app.command()
def similar(
    edges: Path,
    node: str = typer.Option(..., "--node", help="The node to find peers of."),
    k: int = KOpt,
    labels: Path | None = SidesLabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    unweighted: bool = UnweightedOpt,
    sep: str | None = SepOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
) -> None:
    """The nodes most similar to --node, with support (on its own side of a graph with two sides).

    A graph declares two sides by an edge list whose two columns share no node (person -> item), or by a
    two-class --labels file that splits every edge; a note then says so.  Fewer than --k answers are
    explained in a note (the node's connected component, its side, tied nodes)."""

    params = _params(p, q, dimensions, num_walks, epochs, ensemble, seed)

    def go() -> None:
        graph, lab = _load(edges, labels, directed, unweighted, sep, for_sides=True)
        why = graph.report.get("_labels_not_sides")
        if why:
            warnings.warn(f"{why}; answers come from every node.", GraphDataWarning, stacklevel=1)
        _check_node(node, graph, lab, edges)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        answers = model.most_similar(node, k)
        _warn_noise(model, node, answers)
        _, sides_from = model.sides(None)
        note = model.shortfall_note(node, k, answers)
        if out is not None:  # the results first: nothing printed below can lose them
            atomic_write_json(
                safe_join(out, "similar.json"),
                {
                    "node": node,
                    "answers": [a.to_dict() for a in answers],
                    "same_side_from": sides_from or None,  # None: answers from every side
                    "note": note,  # why fewer than k answers (or none), else None
                    "effort": model.effort_,
                    **_facts(edges, labels, directed, graph, k=k, **params, workers=model.effort_["workers"]),
                },
            )
        _print_warnings(_CAUGHT[0])  # the warnings before the answers they qualify
        if answers:
            console.print(_answers_table(f"most similar to {escape(node)}", answers, _runs(model), k))
        if note:
            console.print(escape(note) + ".", highlight=False)
        if sides_from:
            console.print(_side_note(node, sides_from), soft_wrap=True)
        console.print(_effort_line(model))

    _run(go)
    report_after(out)


@app.command()
def recommend(
    edges: Path,
    node: str = typer.Option(..., "--node", help="The node to recommend items for."),
    k: int = typer.Option(10, "--k", min=1, help="How many items to add."),
    peers: int = typer.Option(10, "--peers", min=1, help="How many closest peers vote for the items to add."),
    substitutes: int = typer.Option(
        3, "--substitutes", min=0, help="Substitutes listed per item the node has (0: none)."
    ),
    labels: Path | None = SidesLabelsOpt,
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    unweighted: bool = UnweightedOpt,
    sep: str | None = SepOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = EnsembleOpt,
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
) -> None:
    """Bipartite graphs: items --node's closest peers have and it lacks, and substitutes for what it has.

    The sides (peers, items) are the edge list's two columns when they share no node, else a two-class --labels
    file's classes where they split every edge, else the graph's 2-colouring (with a warning); a graph with an
    odd cycle is refused."""

    params = _params(
        p, q, dimensions, num_walks, epochs, ensemble, seed, peers=peers, substitutes=substitutes
    )

    def go() -> None:
        graph, lab = _load(edges, labels, directed, unweighted, sep, for_sides=True)
        coloured = _recommend_sides(graph, edges)  # refused before the (slow) fit
        _check_node(node, graph, lab, edges)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        rec = model.recommend(node, k, n_peers=peers, n_substitutes=substitutes)
        _warn_noise(model, node, rec.peers)
        if out is not None:  # the results first: nothing printed below can lose them
            atomic_write_json(
                safe_join(out, "recommend.json"),
                {
                    **rec.to_dict(),  # its note: why fewer than k items to add (or none), else None
                    "effort": model.effort_,
                    **_facts(edges, labels, directed, graph, k=k, **params, workers=model.effort_["workers"]),
                },
            )
        _print_warnings(_CAUGHT[0])  # the warnings (the sides' 2-colouring, ...) before the answers
        # every peer, as the JSON and the report list them: support counts against the n_peers of each run
        runs = _runs(model)
        console.print(
            _answers_table(f"peers of {escape(node)}", rec.peers, runs, rec.n_peers or len(rec.peers))
        )
        if not coloured:  # else the warning says where the sides came from
            console.print(_side_note(node, rec.sides_from), soft_wrap=True)
        if rec.add:
            table = Table(title=f"add to {escape(node)}", caption=_support_caption(runs, k))
            for col in ("item", "peer share", "support"):
                table.add_column(col)
            for a in rec.add:
                table.add_row(_label(a), f"{a.score:.2f}", f"{a.support:.0%}")
            console.print(table)
        if rec.note:
            console.print(escape(rec.note) + ".", highlight=False)
        if any(rec.substitutes.values()):  # else none asked for, or no item it lacks (the note says)
            sub = Table(title="substitutes", caption=_support_caption(runs, rec.n_substitutes or 3))
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
        console.print(_effort_line(model))

    _run(go)
    report_after(out)


@app.command()
def classify(
    edges: Path,
    labels: Path = typer.Option(..., "--labels", help="node<TAB>label file."),
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    unweighted: bool = UnweightedOpt,
    sep: str | None = SepOpt,
    p: float = POpt,
    q: float = QOpt,
    dimensions: int = DimOpt,
    num_walks: str = WalksOpt,
    epochs: str = EpochsOpt,
    ensemble: str = typer.Option(
        "1", "--ensemble", callback=_int_or_auto, help="Runs to average (Procrustes-aligned), or 'auto'."
    ),
    seed: int = SeedOpt,
    workers: int | None = WorkersOpt,
    classifier_jobs: int | None = ClassifierJobsOpt,
    repeats: int = typer.Option(5, "--repeats", min=1, help="Random 50% splits to average."),
    models: str = typer.Option(
        "logreg,random_forest,network",
        "--models",
        callback=_model_names,
        help="Comma-separated models: logreg, random_forest, network (NeuralNetClassifier's defaults, or "
        "searched per split with --network-trials).",
    ),
    network_trials: int = typer.Option(
        0,
        "--network-trials",
        min=0,
        help="Search the network on each split's training nodes with this many trials (a fifth of them held "
        "out to choose); 0: its defaults.",
    ),
    C: float = typer.Option(
        1.0,
        "--C",
        callback=_positive_float,
        help="Logistic regression's inverse regularisation strength (> 0; `graph tune` selects it).",
    ),
    normalize: bool = typer.Option(
        False,
        "--normalize/--no-normalize",
        help="Scale embedding rows to unit L2 norm for the logistic regression.",
    ),
) -> None:
    """Macro/Micro-F1 of classifiers on the embeddings (top-k labels per node for multi-label graphs)."""

    params = _params(p, q, dimensions, num_walks, epochs, ensemble, seed)

    def go() -> None:
        from hyperselect.evaluate.node_classification import evaluate_embeddings, labelled_matrix

        graph, lab = _load(edges, labels, directed, unweighted, sep)
        _check_labels(graph, lab)
        model = _model(p, q, dimensions, num_walks, epochs, ensemble, seed, workers).fit(graph, progress=True)
        x, y = labelled_matrix(model.embeddings_, model.nodes_, lab, directed=graph.directed)
        n_jobs, max_jobs = _jobs(classifier_jobs)
        res = evaluate_embeddings(
            x,
            y,
            models=[m.strip() for m in models.split(",") if m.strip()],
            repeats=repeats,
            random_state=seed,
            n_jobs=n_jobs,
            max_jobs=max_jobs,
            C=C,
            normalize=normalize,
            network_trials=network_trials,
        )
        if out is not None:  # the results first: nothing printed below can lose them
            atomic_write_json(
                safe_join(out, "classify.json"),
                {
                    **res,
                    "effort": model.effort_,
                    **_facts(
                        edges,
                        labels,
                        directed,
                        graph,
                        repeats=repeats,
                        models=models,
                        C=C,
                        normalize=normalize,
                        network_trials=network_trials,
                        **params,
                        workers=model.effort_["workers"],
                    ),
                },
            )
        spread = repeats > 1  # the standard deviation of one split is no spread: "± 0.0000" said nothing
        table = Table(
            title=f"node classification ({len(x)} nodes, {y.shape[1]} labels, 50% training)",
            caption=(f"mean ± std over {repeats} splits" if spread else "one split")
            + "; chance: the most frequent training label(s) for every node",
        )
        for col in ("model", "Macro-F1", "Micro-F1"):
            table.add_column(col)

        def cell(r: dict[str, Any], metric: str) -> str:
            return f"{r[metric]:.4f}" + (f" ± {r[metric + '_std']:.4f}" if spread else "")

        for name, r in res["models"].items():
            if "skipped" in r:
                table.add_row(escape(name), "skipped", escape(str(r["skipped"])))
            else:
                table.add_row(name, cell(r, "macro_f1"), cell(r, "micro_f1"))
        chance = res["chance"]
        table.add_row("[dim]chance[/]", f"{chance['macro_f1']:.4f}", f"{chance['micro_f1']:.4f}")
        console.print(table)
        if res["multilabel"]:
            most = int(y.sum(axis=1).max())
            console.print(
                f"multi-label: {escape(str(labels))} gives some nodes several labels (up to {most}); each test "
                "node is given its top-k labels, k its true number of labels.",
                highlight=False,
            )
        jobs = int(res["classifier_jobs"])
        console.print(
            f"logistic regression: C={C:g}, rows {'L2-normalised' if normalize else 'raw'}; classifiers fitted "
            f"in {jobs} process{'es' if jobs != 1 else ''} (--classifier-jobs)",
            highlight=False,
        )
        net = res["models"].get("network", {})
        if net.get("searches"):
            chosen = "; ".join(
                f"{'x'.join(map(str, s['best_config']['hidden'])) or 'no hidden layer'} "
                f"{s['best_config']['activation']}, lr {s['best_config']['lr']:.2g}"
                for s in net["searches"]
            )
            console.print(f"network: searched per split, {network_trials} trials each (chosen: {chosen})")
        elif "network" in res["models"] and "skipped" not in net:
            console.print(
                "network: NeuralNetClassifier's defaults (--network-trials N searches it per split)"
            )
        console.print(_effort_line(model))

    _run(go)
    report_after(out)


#: how ``--sep`` is spelt back on a command line (the names _cli_options._sep reads)
_SEP_FLAGS = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}


def _flag_number(x: float) -> str:
    """A number as an option value that reads back as the same float (0.25, 2, 100, 1e-05)."""
    text = f"{x:g}"
    return text if float(text) == float(x) else repr(float(x))


def _classify_args(
    edges: Path,
    labels: Path,
    best: dict[str, Any],
    *,
    directed: bool,
    unweighted: bool,
    sep: str | None,
    num_walks: int,
    epochs: int,
    seed: int,
    workers: int,
) -> list[str]:
    """``graph classify``'s arguments that train the embedding a ``graph tune`` trial scored and the classifier
    it selected: every setting of the trial where classify's default differs or depends on the graph
    ('auto' walks and epochs), spelt out; walk length and window are the same fixed ones in both.  ``workers``
    too: only with 1 is the embedding bit-identical to the trial's, but with more it is the same kind of run."""
    args = [str(edges), "--labels", str(labels)]
    args += ["--directed"] if directed else []
    args += ["--unweighted"] if unweighted else []
    args += ["--sep", _SEP_FLAGS.get(sep, sep)] if sep is not None else []
    return [
        *args,
        *("--p", _flag_number(best["p"]), "--q", _flag_number(best["q"])),
        *("--dimensions", str(best["dimensions"]), "--num-walks", str(num_walks), "--epochs", str(epochs)),
        *("--ensemble", "1", "--seed", str(seed)),  # one run, seeded as the trial's (tune_node2vec)
        *("--workers", str(workers)),
        *("--C", _flag_number(best["C"]), "--normalize" if best["normalize"] else "--no-normalize"),
    ]


def _best_text(best: dict[str, Any], score: float | None) -> str:
    return (
        f"p={best['p']:g} q={best['q']:g} dimensions={best['dimensions']} C={best['C']:g} "
        f"normalize={best['normalize']} (validation Macro-F1 {score:.4f})"
    )


def _trial_line(record: dict[str, Any], done: int, total: int) -> None:
    """One line per finished trial, on the progress console (stderr; silent with --quiet), as it finishes."""
    from hyperselect.progress import get_console, is_quiet

    if is_quiet():
        return
    params = " ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
        for k in ("p", "q", "dimensions")
        if (v := record.get(k)) is not None
    )
    if "score" in record:
        text = (
            f"trial {record['number']} ({done}/{total}): {params} C={record['C']:g} "
            f"normalize={record['normalize']} -> validation Macro-F1 {record['score']:.4f}"
            f" ({record.get('seconds', 0.0):.1f}s)"
        )
    else:
        text = f"trial {record['number']} failed: {params}: {record.get('reason')}"
    get_console().print(escape(text), highlight=False, soft_wrap=True)


@app.command()
def tune(
    edges: Path,
    labels: Path = typer.Option(..., "--labels", help="node<TAB>label file."),
    out: Path | None = OutOpt,
    directed: bool = DirectedOpt,
    unweighted: bool = UnweightedOpt,
    sep: str | None = SepOpt,
    trials: int = typer.Option(12, "--trials", min=1, help="Optuna trials."),
    dimensions: str = typer.Option(
        "128", "--dimensions", callback=_dimension_list, help="Comma-separated dimensions to try."
    ),
    num_walks: int = typer.Option(10, "--num-walks", min=1, help="Walks per node."),
    epochs: int = typer.Option(
        3,
        "--epochs",
        min=1,
        help="Skip-gram epochs of every trial (the paper: 1; on BlogCatalog 3 gave test Macro-F1 0.270 vs 0.247).",
    ),
    seed: int = SeedOpt,
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Threads for the walks and the skip-gram, at most the global --threads (default: every CPU this "
        "process may use; the classifiers have their own --classifier-jobs). Only --workers 1 makes the search "
        "bit-identical from run to run: with more, the scores vary slightly and a rerun may choose another "
        "setting.",
    ),
    classifier_jobs: int | None = ClassifierJobsOpt,
    C_values: str = typer.Option(
        "1,3,10,30,100",
        "--C-values",
        callback=_float_list,
        help="Comma-separated logistic regression C values (> 0) to select from.",
    ),
    normalize_values: str = typer.Option(
        "false,true",
        "--normalize-values",
        callback=_bool_list,
        help="Row L2 normalisation settings to select from: false, true.",
    ),
    validation_repeats: int = typer.Option(
        3,
        "--validation-repeats",
        min=1,
        help="10% validation slices averaged per configuration: disjoint up to about 10, beyond that drawn "
        "afresh, overlapping the others (a note says so).",
    ),
    train_fraction: float = typer.Option(
        0.5,
        "--train-fraction",
        callback=_train_fraction,
        help="Share of labelled nodes the validation classifier trains on, in (0, 0.9].",
    ),
) -> None:
    """Select p, q, the dimension and the classifier's C and normalisation on validation labels.

    The score is a validation Macro-F1 (10% of labels held out, averaged over --validation-repeats slices).  A
    line per trial as it finishes; at the end, the `graph classify` command that trains the selected embedding
    (its --num-walks, --epochs, --seed and --workers included) and scores it with the selected --C and
    --normalize.  Ctrl-C stops the search: the trials finished so far are written (tune.json, marked
    interrupted) and the exit code is 130."""

    threads = _workers(workers)  # node2vec's: --workers (else every usable CPU), at most --threads

    def go() -> None:
        from hyperselect.evaluate.node_classification import (
            P_VALUES,
            Q_VALUES,
            TuneInterrupted,
            tune_node2vec,
        )

        graph, lab = _load(edges, labels, directed, unweighted, sep)
        dims = [int(d) for d in dimensions.split(",")]
        c_grid = [float(v) for v in C_values.split(",") if v.strip()]
        notes: list[str] = []  # tune.json's notes, after the library's own
        grid = len(P_VALUES) * len(Q_VALUES) * len(set(dims))
        if trials > grid:  # said before the search, whose progress counts to the capped number
            notes.append(
                f"--trials {trials}: only {grid} distinct settings of p, q and dimensions; {grid} run"
            )
            console.print(f"[dim]note:[/] {escape(notes[-1])}.", highlight=False)
        if threads > 1:
            notes.append(
                f"the embeddings were trained on {threads} threads, so a rerun scores slightly differently and "
                "may choose another setting; --workers 1 makes the search and its classify command bit-identical"
            )
        settings: dict[
            str, Any
        ] = {  # tune_node2vec's arguments, recorded as given (each list was checked while parsing)
            "n_trials": trials,
            "dimensions": dims,
            "C_values": c_grid,
            "normalize_values": [_BOOL_WORDS[v.strip().lower()] for v in normalize_values.split(",")],
            "validation_repeats": validation_repeats,
            "train_fraction": train_fraction,
            "num_walks": num_walks,
            "epochs": epochs,
            "random_state": seed,
        }

        def classify_args(best: dict[str, Any] | None) -> list[str] | None:
            if best is None:
                return None
            return _classify_args(
                edges, labels, best, directed=directed, unweighted=unweighted, sep=sep, num_walks=num_walks,
                epochs=epochs, seed=seed, workers=threads,
            )  # fmt: skip

        def all_notes(res: Any) -> list[str]:
            """The library's notes, this command's, and one where the best C sits at an end of --C-values."""
            found = [*res.notes, *notes]
            best_c = None if res.best_params is None else res.best_params["C"]
            if best_c is not None and len(set(c_grid)) > 1 and best_c in (max(c_grid), min(c_grid)):
                largest = best_c == max(c_grid)
                wider = [best_c * f for f in ((3, 10, 30) if largest else (0.03, 0.1, 0.3))]
                found.append(
                    f"the best C ({best_c:g}) is the {'largest' if largest else 'smallest'} of --C-values "
                    f"({','.join(_flag_number(c) for c in c_grid)}): a {'larger' if largest else 'smaller'} C "
                    "may score higher; try a wider grid, e.g. --C-values "
                    + ",".join(_flag_number(float(f"{c:.3g}")) for c in sorted([best_c, *wider]))
                )
            return found

        def save(res: Any) -> Path | None:
            if out is None:
                return None
            return atomic_write_json(
                safe_join(out, "tune.json"),
                {
                    **res.to_dict(),
                    "notes": all_notes(res),
                    "classify_args": classify_args(res.best_params),
                    **_facts(
                        edges,
                        labels,
                        directed,
                        graph,
                        **settings,
                        workers=threads,
                        classifier_jobs=res.classifier_jobs,
                    ),
                },
            )

        try:
            n_jobs, max_jobs = _jobs(classifier_jobs)
            res = tune_node2vec(
                graph,
                lab,
                workers=threads,
                on_trial=_trial_line,
                n_jobs=n_jobs,
                max_jobs=max_jobs,
                **settings,
            )
        except TuneInterrupted as stop:
            # Ctrl-C: the trials that finished are the results, written as a finished search's are, marked
            # interrupted; exit code 130 as the tabular tune's (128 + SIGINT)
            part = stop.result
            where = save(part)
            best = (
                f"; best so far {_best_text(part.best_params, part.best_score)}"
                if part.best_params is not None
                else ""
            )
            wrote = f"; wrote {where}" if where is not None else "; nothing written (no --out)"
            err_console.print(
                escape(
                    f"interrupted: {part.completed_trials} of {part.n_trials} trials completed{best}{wrote}"
                ),
                highlight=False,
            )
            if where is not None:
                report_after(out)  # the page of the trials that finished, as a finished search draws it
            raise typer.Exit(130) from None
        assert res.best_params is not None and res.best_score is not None  # a finished search has a best
        save(res)  # the results first: nothing printed below can lose them
        table = Table(title="trials")
        for col in ("#", "p", "q", "dim", "C", "normalize", "validation Macro-F1"):
            table.add_column(col)
        first_of: dict[tuple[Any, ...], int] = {}
        for t in res.trials:
            score = f"{t['score']:.4f}" if "score" in t else escape(f"failed: {t.get('reason')}")
            key = (t.get("p"), t.get("q"), t.get("dimensions"))
            if t.get("cached") and key in first_of:
                # TPE proposed a configuration again: answered from the cache, not one of the --trials
                score += f" (repeat of #{first_of[key]}, not counted)"
            first_of.setdefault(key, t["number"])
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
        repeats = sum(1 for t in res.trials if t.get("cached"))
        console.print(
            f"best: {_best_text(res.best_params, res.best_score)}; "
            f"{len(res.trials) - repeats} trial{'s' if len(res.trials) - repeats != 1 else ''}"
            + (
                f" (and {repeats} repeated proposal{'s' if repeats != 1 else ''} answered from the cache)"
                if repeats
                else ""
            )
            + f", {res.walk_sets} walk set{'s' if res.walk_sets != 1 else ''}, {res.seconds:.0f}s "
            f"(node2vec on {threads} thread{'s' if threads != 1 else ''}, classifiers in {res.classifier_jobs} "
            f"process{'es' if res.classifier_jobs != 1 else ''})"
        )
        for note in all_notes(res):
            if not note.startswith("--trials "):  # said before the search
                console.print(f"[dim]note:[/] {escape(note)}.", soft_wrap=True, highlight=False)
        command = shlex.join(["hyperselect", "graph", "classify", *(classify_args(res.best_params) or [])])
        console.print(f"classify with: {escape(command)}", soft_wrap=True, highlight=False)

    _run(go)
    report_after(out)
