"""The ``Node2Vec`` estimator: walks + skip-gram, similar nodes and bipartite recommendations with support.

Why an ensemble: on small graphs one node2vec run's "most similar" list changes from seed to seed (SGD noise
dominates when there are few nodes).  Several runs with different seeds, aggregated by rank, give answers that
repeat across runs, and the fraction of members that agree on an answer (``support``) tells the user how much
to trust it.  On small graphs the sampling effort (walks per node, epochs) is also raised, because it is cheap
there; on large graphs the defaults fall back to the node2vec paper's (10 walks, 1 epoch, one run).  The chosen
values are kept in ``effort_``.

Why answers are grouped: many nodes of a real graph are structurally equivalent (the same neighbours with the
same weights, e.g. the courses offered only by one department).  Such nodes are exchangeable, so for any query
their similarities are equal in expectation, and which five of forty tied courses make a top 5 is decided by
noise that no amount of sampling removes.  ``most_similar`` and ``recommend`` therefore answer per equivalence
class: one representative (the smallest node id, so every run names a class the same way), the nodes tied with
it, and the class's mean similarity.  Nodes in another connected component never share a walk with the query,
so their cosine carries no information; they are not offered as answers when the graph is known.

Why sides must be declared: "similar people" on a people-items graph (women and the events they attended)
should be people, so such a graph's answers keep to the query's side.  But a tree, a path, a grid or an even
cycle can be 2-coloured too, and there keeping to one colour would drop a node's own neighbours.  So answers
keep to a side only when the input declares the sides (:meth:`~hyperselect.data.graph.Graph.bipartite_sides`:
a networkx ``bipartite`` attribute, or an edge-list file whose two columns share no node); a 2-colouring is
used only when asked for (``same_side=True``) or needed (``recommend``, which says so with a warning).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperselect._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from hyperselect._validation import Constraint, Interval, NoneOr, Options, check_params
from hyperselect.data.graph import (
    Graph,
    GraphDataWarning,
    did_you_mean,
    from_networkx,
    is_networkx_graph,
    not_a_graph_hint,
)
from hyperselect.errors import ConfigError, DataError, NotFittedError
from hyperselect.represent.node2vec.skipgram import train_skipgram
from hyperselect.represent.node2vec.walks import (
    P_Q_MAX,
    P_Q_MIN,
    generate_walks,
    resolve_mode,
    usable_cpus,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Answer",
    "Node2Vec",
    "Recommendation",
    "auto_effort",
    "equivalence_classes",
    "member_seeds",
    "noise_similarity",
    "stability",
    "topk_overlap",
]

#: Tokens x epochs the "auto" effort aims at per ensemble member on small graphs.  Measured on Davis (32
#: nodes): five cheap members (20 walks, 3 epochs) gave a mean top-5 overlap of 0.89 across seeds, while one
#: expensive run (100 walks, 16 epochs, 25x the tokens) gave 0.78, so the budget goes to the ensemble first.
#: On osu_department_course_bipartite (2,746 nodes, where the floor of 10 walks and 1 epoch applies) the same
#: held at equal cost (top-5 overlap of grouped answers, departments / all nodes): 2 members of 10 walks
#: 0.888 / 0.922, 1 member of 20 walks 0.896 / 0.905, 1 member of 2 epochs 0.885 / 0.902; 4-5 units: 5
#: members 0.915 / 0.945, 2 of 20 walks 0.910 / 0.929, 2 of 2 epochs 0.908 / 0.923.  The defaults already
#: pass 0.8 there, and more walks or epochs per member did no better than more members at equal cost, so
#: the floor is not raised.
AUTO_TOKEN_BUDGET = 150_000
AUTO_MAX_WALKS = 20
AUTO_MAX_EPOCHS = 5
#: Graphs with at most this many nodes get the ensemble by default.
AUTO_ENSEMBLE_MAX_NODES = 5_000
AUTO_ENSEMBLE_MEMBERS = 5

#: Below this many nodes, on average, in the walks through a node, its answers are flagged as likely noise
#: (:meth:`Node2Vec.noise_warning`).  A walk of two nodes holds the node and one direct neighbour: skip-gram then
#: sees no second-order neighbourhood (the structure p and q steer) and a node gets about one context pair per
#: walk instead of about 2 x window.  Walks are that short on directed graphs whose edges mostly end in dead
#: ends: read as directed, karate's walks through node 33 averaged 2.6 nodes and davis's 2.0, and their best
#: answers' cosines were 0.03-0.15 against 0.96 read as undirected.  The sign stands on its own, as high cosines
#: do not clear it: on osu_course_prereq read as directed (walks of 2.5 nodes on average) such nodes' answers
#: included unrelated courses at cosine 0.99 and 0-20 % support, while no undirected node of karate, davis,
#: airports_brazil or osu_course_prereq was flagged by either sign.
NOISE_MIN_WALK_NODES = 3.0
#: The cosine under which even the best answer counts as near zero: ``min(NOISE_SIMILARITY_SDS / sqrt(d),
#: NOISE_SIMILARITY_CAP)``.  The cosine of two unrelated random directions in d dimensions has mean 0 and
#: standard deviation about 1 / sqrt(d), so below two of them (0.177 at 128 dimensions) an answer is as close
#: as an unrelated vector gets by chance about one time in twenty.  In few dimensions chance cosines are large
#: and that bound says nothing (it passes 1 below 4 dimensions), so it is capped at 0.2: near zero in absolute
#: terms too.
NOISE_SIMILARITY_SDS = 2.0
NOISE_SIMILARITY_CAP = 0.2


def member_seeds(random_state: int | None, members: int) -> list[int]:
    """The seed of each ensemble member (its walks and its skip-gram) drawn from ``random_state``.

    One place, so that a single embedding trained elsewhere from the same ``random_state`` (``graph tune``'s
    trials) is the one ``Node2Vec(random_state=..., ensemble=1)`` trains: ``graph classify`` reproduces it.
    """
    rng = np.random.default_rng(random_state)
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=members)]


def noise_similarity(dimensions: int) -> float:
    """The cosine below which an answer is near zero in ``dimensions`` dimensions (see NOISE_SIMILARITY_SDS)."""
    return min(NOISE_SIMILARITY_SDS / math.sqrt(max(1, int(dimensions))), NOISE_SIMILARITY_CAP)


@dataclass(frozen=True)
class Answer:
    """One answer: the node, its mean cosine similarity over members, and the share of members agreeing.

    With grouping (the default), ``node`` represents an equivalence class: ``tied`` lists the other nodes with
    exactly the same neighbours (sorted), which are equally good answers, and ``similarity`` is the class's mean.
    ``equivalent`` marks the answer made of the query's own class: nodes with exactly the query's neighbours,
    similar to it by structure (similarity and support 1.0, whatever the noisy embedding cosine says).
    """

    node: str
    similarity: float
    support: float
    score: float | None = None  # recommend: the similarity-weighted share of peers that have the item
    tied: tuple[str, ...] = ()
    equivalent: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"node": self.node, "similarity": self.similarity, "support": self.support}
        if self.score is not None:
            d["score"] = self.score
        d["tied"] = list(self.tied)
        if self.equivalent:
            d["equivalent"] = True
        return d


@dataclass
class Recommendation:
    """Items to add (held by the node's closest peers) and, per held item, the closest substitutes.

    ``sides_from`` says where the two sides (peers on the node's side, items on the other) came from: the
    graph's declaration, or a 2-colouring when none was declared.  Each list's support is the share of ensemble
    runs with the answer in their own top list of that list's length: ``n_peers`` for ``peers``, ``k`` for
    ``add``, ``n_substitutes`` for each list of ``substitutes``.
    """

    node: str
    peers: list[Answer]
    add: list[Answer]
    substitutes: dict[str, list[Answer]] = field(default_factory=dict)
    sides_from: str = ""
    k: int | None = None
    n_peers: int | None = None
    n_substitutes: int | None = None
    #: why ``add`` holds fewer than ``k`` items (or none), in one sentence; ``None`` when it holds ``k``
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "peers": [a.to_dict() for a in self.peers],
            "add": [a.to_dict() for a in self.add],
            "substitutes": {k: [a.to_dict() for a in v] for k, v in self.substitutes.items()},
            "sides_from": self.sides_from,
            # what each list's support counts against: the runs' top k, top n_peers, top n_substitutes
            "k": self.k,
            "n_peers": self.n_peers,
            "n_substitutes": self.n_substitutes,
            "note": self.note,
        }


#: Where the sides of a graph without declared sides come from when ``recommend`` needs them.
TWO_COLOURING = (
    "a 2-colouring of the graph, as it declares no sides (by a networkx 'bipartite' node attribute, or as an "
    "edge-list file whose two columns share no node)"
)


def auto_effort(n_nodes: int, walk_length: float) -> dict[str, int]:
    """Walks per node, epochs and ensemble size for a graph of ``n_nodes`` nodes.

    At least the paper's 10 walks and 1 epoch; on small graphs more walks (up to 20) and then more epochs (up
    to 5) until about :data:`AUTO_TOKEN_BUDGET` tokens are trained; an ensemble of 5 seeds up to 5,000 nodes.
    """
    n = max(1, n_nodes)
    num_walks = int(min(AUTO_MAX_WALKS, max(10, math.ceil(AUTO_TOKEN_BUDGET / (n * walk_length)))))
    epochs = int(min(AUTO_MAX_EPOCHS, max(1, round(AUTO_TOKEN_BUDGET / (n * num_walks * walk_length)))))
    members = AUTO_ENSEMBLE_MEMBERS if n <= AUTO_ENSEMBLE_MAX_NODES else 1
    return {"num_walks": num_walks, "epochs": epochs, "ensemble": members}


_CONSTRAINTS: dict[str, Constraint] = {
    "dimensions": Interval(int, 1, None),
    "walk_length": Interval(int, 2, None),
    "num_walks": Options(("auto",)),
    "window": Interval(int, 1, None),
    "p": Interval(float, P_Q_MIN, P_Q_MAX),
    "q": Interval(float, P_Q_MIN, P_Q_MAX),
    "epochs": Options(("auto",)),
    "negative": Interval(int, 1, None),
    "ensemble": Options(("auto",)),
    "workers": NoneOr(Interval(int, 1, None)),
    "random_state": NoneOr(Interval(int, 0, None)),
    "mode": Options(("auto", "first_order", "otf", "precomp")),
    "shared_negatives": Options((True, False)),
}
_INT_OR_AUTO = {"num_walks": 1, "epochs": 1, "ensemble": 1}


def equivalence_classes(graph: Graph) -> np.ndarray:
    """For every node, the index of its class representative: nodes with identical neighbours share a class.

    Identical means the same neighbours with the same weights (for a directed graph, the same out- and
    in-neighbours), found by hashing the CSR rows, O(edges).  The representative is the class's smallest node
    id (as a string), so it does not depend on the order of the input file.  Nodes with no neighbours are
    their own class.  Adjacent twins (``u - v`` plus identical other neighbours) are not merged.
    """
    rows_in = None
    if graph.directed:
        t = graph.to_scipy().T.tocsr()
        t.sort_indices()
        rows_in = (t.indptr, t.indices.astype(np.int32), t.data.astype(np.float64))
    indptr, indices, weights = graph.indptr, graph.indices, graph.weights
    groups: dict[tuple[bytes, ...], list[int]] = {}
    rep = np.arange(graph.n_nodes, dtype=np.int64)
    for i in range(graph.n_nodes):
        lo, hi = indptr[i], indptr[i + 1]
        key: tuple[bytes, ...] = (indices[lo:hi].tobytes(), weights[lo:hi].tobytes())
        if rows_in is not None:
            ip, ix, w = rows_in
            key += (ix[ip[i] : ip[i + 1]].tobytes(), w[ip[i] : ip[i + 1]].tobytes())
        if not any(key):
            continue  # no neighbours at all
        groups.setdefault(key, []).append(i)
    names = graph.nodes
    for members in groups.values():
        if len(members) > 1:
            rep[members] = min(members, key=lambda j: names[j])
    return rep


def _components(graph: Graph) -> np.ndarray:
    return graph.component_labels()


def check_word2vec_ids(nodes: Iterable[str]) -> None:
    """The word2vec text format separates an id from its numbers by a space: an id with whitespace (or an empty
    one) cannot be written, which is a :class:`DataError` (checked before a fit where the ids are known then)."""
    bad = next((u for u in nodes if not u or any(c.isspace() for c in u)), None)
    if bad is not None:
        raise DataError(
            f"Node id {bad!r} contains whitespace; the word2vec text format cannot hold it. Use the npy format "
            "(a folder with nodes.json), or ids without spaces."
        )


class Node2Vec:
    """node2vec embeddings (Grover & Leskovec 2016) with stable, supported answers on small graphs.

    ``num_walks``, ``epochs`` and ``ensemble`` accept ``"auto"`` (see :func:`auto_effort`); pass numbers to
    reproduce the paper's setting (``num_walks=10, epochs=1, ensemble=1``; ``shared_negatives=False`` for
    word2vec's per-pair negative draws, about half as fast at the same quality, see
    :func:`~hyperselect.represent.node2vec.skipgram.train_skipgram`).  ``workers=None`` uses every CPU the
    process may use (its affinity); the same ``random_state`` gives bit-identical embeddings only with
    ``workers=1`` (several threads' skip-gram updates interleave by scheduling; ``effort_["workers"]`` records
    the number used).  After ``fit``: ``embeddings_``
    (rows in node order; NaN for nodes with no neighbours; with an ensemble, the members' vectors rotated onto
    the first member's and averaged), ``nodes_``, ``member_embeddings_``, ``embedded_``, ``effort_``,
    ``timings_``, ``equivalence_`` (each node's class representative: nodes with identical neighbours share
    one, see :func:`equivalence_classes`), ``component_`` (connected component of each node) and ``sides_``
    (the graph's declared bipartite sides, 0/1 per node, or ``None``; ``sides_from_`` says where they came
    from) and ``walk_nodes_`` (directed graphs: per node, the mean length of the walks through it, which
    :meth:`noise_warning` reads; ``None`` for undirected ones).  All of these are saved and loaded with
    ``save(format='npy')``.
    """

    def __init__(
        self,
        dimensions: int = 128,
        walk_length: int = 80,
        num_walks: int | str = "auto",
        window: int = 10,
        p: float = 1.0,
        q: float = 1.0,
        epochs: int | str = "auto",
        negative: int = 5,
        ensemble: int | str = "auto",
        workers: int | None = None,
        random_state: int | None = None,
        mode: str = "auto",
        shared_negatives: bool = True,
    ) -> None:
        self.dimensions = dimensions
        self.walk_length = walk_length
        self.num_walks = num_walks
        self.window = window
        self.p = p
        self.q = q
        self.epochs = epochs
        self.negative = negative
        self.ensemble = ensemble
        self.workers = workers
        self.random_state = random_state
        self.mode = mode
        self.shared_negatives = shared_negatives

    # -- sklearn-style parameter handling -------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        names = [
            "dimensions",
            "walk_length",
            "num_walks",
            "window",
            "p",
            "q",
            "epochs",
            "negative",
            "ensemble",
            "workers",
            "random_state",
            "mode",
            "shared_negatives",
        ]
        return {k: getattr(self, k) for k in names}

    def set_params(self, **params: Any) -> Node2Vec:
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"Invalid parameter {k!r} for Node2Vec.")
            setattr(self, k, v)
        return self

    def _validate(self) -> None:
        params = self.get_params()
        constraints: dict[str, Constraint] = dict(_CONSTRAINTS)
        for name, low in _INT_OR_AUTO.items():
            if params[name] != "auto":
                constraints[name] = Interval(int, low, None)
        check_params("Node2Vec", params, constraints)

    # -- fitting --------------------------------------------------------------------------------------------
    def fit(self, graph: Graph | Any, y: Any = None, *, progress: bool = False) -> Node2Vec:
        """Walk and train (once per ensemble member); ``graph`` is a :class:`Graph` or a networkx graph.

        Build a :class:`Graph` from other input with :mod:`hyperselect.data.graph`: ``read_edgelist(path)``,
        ``from_edges(src, dst, weights, nodes)``, ``from_scipy_sparse(matrix)``.

        ``progress`` draws a bar with ETA on stderr over the walks and trainings of all ensemble members.
        """
        import contextlib

        from hyperselect.progress import make_progress

        with contextlib.ExitStack() as stack:
            bar = stack.enter_context(make_progress(transient=True)) if progress else None
            return self._fit(graph, bar)

    def _fit(self, graph: Graph | Any, bar: Any) -> Node2Vec:
        self._validate()
        if not isinstance(graph, Graph):
            if not is_networkx_graph(graph):
                raise DataError(
                    f"Node2Vec.fit expects a hyperselect Graph or a networkx graph; {not_a_graph_hint(graph)}."
                )
            graph = from_networkx(graph)
        if graph.n_nodes == 0:
            raise DataError("The graph has no nodes.")
        resolve_mode(graph, float(self.p), float(self.q), self.mode)  # fail before any work
        auto = auto_effort(graph.n_nodes, int(self.walk_length))
        effort = {
            k: (auto[k] if getattr(self, k) == "auto" else int(getattr(self, k)))
            for k in ("num_walks", "epochs", "ensemble")
        }
        # every usable CPU by default: fast, but several threads' skip-gram updates interleave by scheduling,
        # so only workers=1 gives bit-identical embeddings from the same random_state (the walks always are)
        workers = int(self.workers or usable_cpus())
        seeds = member_seeds(self.random_state, effort["ensemble"])

        members, walk_s, train_s = [], 0.0, 0.0
        mode = "auto"
        task = None if bar is None else bar.add_task("node2vec walks + skip-gram", total=2 * len(seeds))

        def walk(seed: int) -> Any:
            return generate_walks(
                graph,
                num_walks=effort["num_walks"],
                walk_length=int(self.walk_length),
                p=float(self.p),
                q=float(self.q),
                mode=self.mode,
                random_state=seed,
                workers=workers,
            )

        walked: float | None = None  # the walks' mean length, where it fell short of walk_length
        walk_nodes: np.ndarray | None = None  # per node, the mean length of the walks through it (directed)
        for i, seed in enumerate(seeds):
            wr = walk(seed)
            if i == 0 and graph.directed and len(wr.walks):
                # walks on a directed graph stop at the first node without a way out: on a prerequisite graph
                # after a few steps, not walk_length.  The "auto" effort counts on walk_length tokens per walk,
                # so it would train a few percent of its budget (answers at 0 % support); size it by the
                # length the walks really have
                mean_length = float((wr.walks >= 0).sum()) / len(wr.walks)
                if mean_length < 0.5 * int(self.walk_length):
                    # and a short walk gives a token fewer context pairs than a long one: about L - 1 against
                    # 2 x window, so the budget is counted in pairs' worth of tokens
                    pairs = min(1.0, max(mean_length - 1.0, 0.1) / (2 * int(self.window)))
                    again = auto_effort(graph.n_nodes, mean_length * pairs)
                    before = effort["num_walks"]
                    effort.update(
                        {k: again[k] for k in ("num_walks", "epochs") if getattr(self, k) == "auto"}
                    )
                    walked = round(mean_length, 2)
                    if effort["num_walks"] != before:
                        walk_s += wr.seconds
                        wr = walk(seed)
            if i == 0 and graph.directed:
                walk_nodes = _walk_nodes(wr.walks, graph.n_nodes)
            mode = wr.mode
            if bar is not None:
                bar.advance(task)
            sg = train_skipgram(
                wr.walks,
                graph.n_nodes,
                dimensions=int(self.dimensions),
                window=int(self.window),
                negative=int(self.negative),
                epochs=effort["epochs"],
                workers=workers,
                seed=seed,
                shared_negatives=bool(self.shared_negatives),
            )
            walk_s += wr.seconds
            train_s += sg.seconds
            members.append(sg.vectors)
            if bar is not None:
                bar.advance(task)
        self._set_state(
            graph.nodes,
            members,
            equivalence_classes(graph),
            _components(graph),
            graph.bipartite_sides(),
            graph.sides_from,
            walk_nodes,
        )
        self.graph_: Graph | None = graph
        sinks = graph.sinks
        unreached = [u for u in sinks if not self.embedded_[self._index[u]]]
        if unreached:
            by = " of every ensemble member" if len(members) > 1 else ""
            warnings.warn(
                f"{len(unreached)} of the {len(sinks)} sink node(s) (no outgoing edge) were not reached by the "
                f"walks{by} and are not embedded (e.g. {unreached[:3]}); more walks per node (num_walks) reach "
                "more.",
                GraphDataWarning,
                stacklevel=2,
            )
        self.effort_ = {
            **effort,
            "mode": mode,
            "auto": [k for k in effort if getattr(self, k) == "auto"],
            # the threads used: with more than one the embeddings are not bit-identical from run to run
            "workers": workers,
        }
        if walked is not None:
            self.effort_["mean_walk_length"] = walked
        self.timings_ = {"walks_s": walk_s, "train_s": train_s}
        logger.info("Node2Vec fitted: %s, walks %.2fs, training %.2fs", self.effort_, walk_s, train_s)
        return self

    def _set_state(
        self,
        nodes: list[str],
        members: list[np.ndarray],
        equivalence: np.ndarray | None = None,
        component: np.ndarray | None = None,
        sides: Any = None,
        sides_from: str | None = None,
        walk_nodes: Any = None,
    ) -> None:
        self.nodes_ = list(nodes)
        n = len(self.nodes_)
        #: per node, the mean number of nodes of the first member's walks through it (NaN: in none); kept for
        #: directed graphs only, where dead ends cut walks short (undirected walks all have walk_length nodes)
        self.walk_nodes_: np.ndarray | None = (
            None if walk_nodes is None else np.asarray(walk_nodes, dtype=np.float64)
        )
        #: index of each node's class representative (identical neighbours); a loaded word2vec file has none
        self.equivalence_ = np.arange(n) if equivalence is None else np.asarray(equivalence, dtype=np.int64)
        #: connected component of each node; all zero when unknown
        self.component_ = np.zeros(n, dtype=np.int64) if component is None else np.asarray(component)
        #: declared bipartite sides (0/1, -1 unknown); None when the graph declared none (or it is unknown)
        self.sides_: np.ndarray | None = None if sides is None else np.asarray(sides, dtype=np.int8)
        self.sides_from_: str | None = None if sides is None else (sides_from or "the saved model")
        self.member_embeddings_ = [np.asarray(m, dtype=np.float32) for m in members]
        # embedded where every ensemble member embedded it: on a directed graph each member's walks reach
        # other sinks, and a row one member lacks can be neither aligned nor ranked in that member
        self.embedded_: np.ndarray = np.asarray(
            ~np.any([np.isnan(m).any(axis=1) for m in self.member_embeddings_], axis=0)
        )
        self.embeddings_ = _aligned_mean(self.member_embeddings_, self.embedded_)
        self._index = {u: i for i, u in enumerate(self.nodes_)}
        unit = []
        for m in self.member_embeddings_:
            norms = np.linalg.norm(m, axis=1, keepdims=True)
            unit.append(np.where(norms > 0, m / np.where(norms > 0, norms, 1), 0).astype(np.float32))
        self._unit = np.stack(unit)  # (members, nodes, dims); NaN rows stay NaN

    # -- look-ups -------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "embeddings_"):
            raise NotFittedError("This Node2Vec instance is not fitted yet; call fit(graph) first.")

    def _row(self, node: Any) -> int:
        self._check_fitted()
        key = str(node)
        if key not in self._index:
            raise DataError(
                f"Node {key!r} is not in the graph the model was fitted on ({len(self.nodes_)} nodes)"
                f"{did_you_mean(key, self.nodes_)}"
            )
        i = self._index[key]
        if not self.embedded_[i]:
            g = getattr(self, "graph_", None)
            if g is not None and g.directed and key in g.sinks:
                raise DataError(
                    f"Node {key!r} has no outgoing edge and no walk reached it: it was not embedded, so it has "
                    "no similar nodes (more walks per node may reach it)."
                )
            raise DataError(
                f"Node {key!r} has no neighbours: cannot be embedded, so it has no similar nodes."
            )
        return i

    def vector(self, node: Any) -> np.ndarray:
        return self.embeddings_[self._row(node)]

    def tied_with(self, node: Any) -> list[str]:
        """The other nodes with exactly the same neighbours as ``node`` (sorted); empty if none or unknown."""
        i = self._row(node)
        same = np.flatnonzero(self.equivalence_ == self.equivalence_[i])
        return sorted(self.nodes_[j] for j in same if j != i)

    def _graph(self, graph: Graph | None) -> Graph | None:
        """The graph passed to a look-up, else the fitted one (a loaded model has none)."""
        g = graph if graph is not None else getattr(self, "graph_", None)
        if g is not None and g is not getattr(self, "graph_", None) and g.nodes != self.nodes_:
            raise DataError(
                f"The graph passed ({g.n_nodes} nodes) is not the one the model was fitted on "
                f"({len(self.nodes_)} nodes, in another order or with other ids)."
            )
        return g

    def sides(
        self, same_side: bool | None = None, graph: Graph | None = None
    ) -> tuple[np.ndarray | None, str]:
        """The sides a look-up with ``same_side`` keeps to, and where they came from.

        ``None`` (the default of :meth:`most_similar`): the declared sides (``(None, "")`` if there are
        none).  ``True``: the declared sides, else the graph's 2-colouring (a :class:`DataError` if it has an
        odd cycle, or a loaded model has no graph to colour).  ``False``: ``(None, "")``.
        """
        return self._sides(same_side, self._graph(graph))

    def _sides(
        self, same_side: bool | None, g: Graph | None, needed_by: str | None = None
    ) -> tuple[np.ndarray | None, str]:
        """:meth:`sides` on the checked graph ``g``: the one place that decides which sides apply.

        ``needed_by`` names a method that needs sides whether or not they were asked for (``recommend``): it
        is named in the refusal, and a 2-colouring it falls back on is announced with a
        :class:`~hyperselect.data.graph.GraphDataWarning` (asked for with ``same_side=True``, it is not).
        """
        if same_side is False:
            return None, ""
        declared = g.bipartite_sides() if g is not None else self.sides_
        if declared is not None:
            where = (g.sides_from if g is not None else self.sides_from_) or "the graph"
            return declared, where
        if same_side is None:
            return None, ""
        who = needed_by or "same_side=True"
        if g is None:
            raise DataError(
                f"{who} needs the node sides: none were saved with this model and a loaded model keeps no "
                "graph to 2-colour; pass graph=... ."
            )
        colour = g.two_colouring()
        if colour is None:
            raise DataError(
                f"{who} needs a bipartite graph (two node sides, every edge joining them, e.g. people and the "
                "items they hold); this one declares no sides (a networkx 'bipartite' node attribute, or an "
                "edge-list file whose two columns share no node) and has an odd cycle, so it has no two sides."
            )
        if needed_by is not None:
            warnings.warn(
                f"{needed_by}: peers and items are the two sides of {TWO_COLOURING}; check that they are "
                "people and items.",
                GraphDataWarning,
                stacklevel=3,  # the caller of the method that needs the sides
            )
        return colour, TWO_COLOURING

    def _structure(self, graph: Graph | None) -> tuple[np.ndarray, np.ndarray]:
        """Equivalence classes and components: the fitted graph's, or those of a graph passed to a look-up."""
        if graph is None or graph is getattr(self, "graph_", None):
            return self.equivalence_, self.component_
        cached = getattr(self, "_structure_cache", None)
        if cached is None or cached[0] is not graph:
            if graph.nodes != self.nodes_:  # rows do not line up: no structure to use
                n = len(self.nodes_)
                cached = (graph, np.arange(n), np.zeros(n, dtype=np.int64))
            else:
                cached = (graph, equivalence_classes(graph), _components(graph))
            self._structure_cache = cached
        return cached[1], cached[2]

    def _candidates(
        self, i: int, sides: np.ndarray | None, graph: Graph | None, same_component: bool = True
    ) -> np.ndarray:
        mask = self.embedded_.copy()
        mask[i] = False
        if sides is not None:
            mask &= sides == sides[i]
        if same_component:
            _, component = self._structure(graph)
            mask &= component == component[i]  # no walk joins two components: their cosine is noise
        return mask

    def most_similar(
        self,
        node: Any,
        k: int = 10,
        *,
        same_side: bool | None = None,
        graph: Graph | None = None,
        group_equivalent: bool = True,
        same_component: bool = True,
    ) -> list[Answer]:
        """The ``k`` nodes closest to ``node`` by cosine, aggregated over ensemble members by mean rank.

        ``same_side=None`` restricts the answers to the node's own side when the graph declares two sides
        (peers: women like this woman, departments like this department, the question asked of people-items
        graphs; see :meth:`~hyperselect.data.graph.Graph.bipartite_sides`), and to nothing otherwise: a tree,
        path or grid is answered with all its nodes.  ``same_side=True`` keeps to the node's side of the
        declared sides or, without them, of the graph's 2-colouring; ``same_side=False`` never restricts;
        :meth:`sides` tells which applied.  With
        ``same_component=True`` only nodes of the query's connected component are answers (fewer than ``k``
        if it is small): no walk joins two components, so a cosine across them is noise.

        ``group_equivalent=True`` answers per equivalence class (nodes with identical neighbours): ``k``
        answers, each a representative with its ``tied`` nodes and the class's mean similarity.  Nodes with
        exactly the query's neighbours come first, as one answer marked ``equivalent`` with similarity 1.
        ``group_equivalent=False`` ranks single nodes, as plain node2vec does.
        """
        _check_count("most_similar", "k", k)
        i = self._row(node)
        sides, _ = self.sides(same_side, graph)
        return self._closest(i, k, sides, graph, group_equivalent, same_component)

    def shortfall_note(
        self,
        node: Any,
        k: int,
        answers: list[Answer],
        *,
        same_side: bool | None = None,
        graph: Graph | None = None,
    ) -> str | None:
        """Why ``answers`` (of ``most_similar(node, k, same_side=...)``) hold fewer than ``k``, in one sentence;
        ``None`` when they hold ``k``.  The reasons: the query's connected component (no walk crosses to
        another), its side of a graph with declared sides, and answers shared by nodes with the same
        neighbours (equivalence classes)."""
        if len(answers) >= k:
            return None
        i = self._row(node)
        g = self._graph(graph)
        sides, _ = self.sides(same_side, graph)
        _, component = self._structure(g)
        name = self.nodes_[i]
        others = self.embedded_.copy()
        others[i] = False
        same_component = component == component[i]
        n_component = int((others & same_component).sum())
        n_side = int((others & (sides == sides[i])).sum()) if sides is not None else int(others.sum())
        n_cand = int(self._candidates(i, sides, g).sum())
        if int(same_component.sum()) == 1:
            return f"{name} has no neighbour other than itself: nothing to compare it with"
        if n_component == 0:
            return f"no other node of {name}'s connected component was embedded: nothing to compare it with"
        by_side = sides is not None and n_cand < n_component
        by_component = n_cand < n_side
        where = (
            f"on {name}'s side of its connected component"
            if by_side and by_component
            else f"on {name}'s side"
            if by_side
            else f"in {name}'s connected component"
            if by_component
            else "of the graph"
        )
        if n_cand == 0:
            return f"{name} is the only node {where}: nothing to compare it with"
        lead = f"{len(answers)} of the {k} asked for: "
        shared = "nodes with the same neighbours share one answer"
        if n_cand >= k:  # enough nodes, but tied ones are grouped
            return (
                lead + f"{shared}, and the {n_cand} nodes that can be answers form only {len(answers)} groups"
            )
        count = f"{n_cand} other node" + ("s" if n_cand != 1 else "")
        text = (
            lead + f"the graph has only {count}"
            if where == "of the graph"
            else lead
            + f"only nodes {where} can be answers ({count}"
            + (f"; {shared})" if len(answers) < n_cand else ")")
        )
        if where == "of the graph" and len(answers) < n_cand:
            text += f" ({shared})"
        return text

    def noise_warning(self, node: Any, answers: Iterable[Answer]) -> str | None:
        """Why ``answers`` (of :meth:`most_similar`, or a recommendation's peers) for ``node`` are likely noise,
        or ``None``.

        Two signs, each enough: the walks through the node average fewer than :data:`NOISE_MIN_WALK_NODES`
        nodes (known for directed graphs, where dead ends stop walks), or even the best answer's similarity is
        near zero, under :func:`noise_similarity` (about what unrelated vectors reach by chance).  An answer of
        nodes with exactly the query's neighbours (``equivalent``) is similar by structure and not counted.
        Not raised as a warning by the look-ups themselves: :func:`stability` asks about every node.
        """
        i = self._row(node)
        reasons = []
        reach = None if self.walk_nodes_ is None else float(self.walk_nodes_[i])
        if reach is not None and not math.isnan(reach) and reach < NOISE_MIN_WALK_NODES:
            reasons.append(
                f"the walks through it average {reach:.1f} nodes (under {NOISE_MIN_WALK_NODES:g}: dead ends of the "
                "directed graph stop them after a step or two, so it is embedded from its direct neighbours alone)"
            )
        best = max((a.similarity for a in answers if not a.equivalent), default=None)
        dims = int(self._unit.shape[-1])
        bound = noise_similarity(dims)
        if best is not None and best < bound:
            reasons.append(
                f"even the best answer's similarity is {best:.3f}, near zero (under {bound:.3f}, about what an "
                f"unrelated vector reaches by chance in {dims} dimensions)"
            )
        if not reasons:
            return None
        hint = (
            "if the edges' direction does not matter, read the graph as undirected (without --directed)"
            if self.walk_nodes_ is not None
            else "more walks per node, epochs or ensemble runs may help"
        )
        return f"Answers for {self.nodes_[i]!r} are likely noise: {'; and '.join(reasons)}. {hint[0].upper()}{hint[1:]}."

    def _closest(
        self,
        i: int,
        k: int,
        sides: np.ndarray | None,
        graph: Graph | None,
        group_equivalent: bool,
        same_component: bool,
    ) -> list[Answer]:
        """:meth:`most_similar` for row ``i``, kept to ``sides`` (see :meth:`sides`) when given."""
        if self._unit.shape[-1] < 2:
            raise ConfigError(
                "Similar nodes are ranked by cosine, which needs at least 2 dimensions: with 1, every cosine is "
                "+1 or -1 and the ranking is a tie broken by node order. Fit with dimensions >= 2 (node "
                "classification can still use 1)."
            )
        cand = np.flatnonzero(self._candidates(i, sides, graph, same_component))
        scores = (self._unit[:, cand, :] @ self._unit[:, i, :][:, :, None])[:, :, 0]
        if not group_equivalent:
            return self._aggregate(scores, cand, k)
        equivalence, _ = self._structure(graph)
        twins = equivalence[cand] == equivalence[i]
        answers: list[Answer] = []
        if twins.any() and k > 0:
            names = sorted(self.nodes_[j] for j in cand[twins])
            answers.append(Answer(names[0], 1.0, 1.0, tied=tuple(names[1:]), equivalent=True))
        rest = ~twins
        answers += self._aggregate(
            scores[:, rest], cand[rest], k - len(answers), groups=equivalence[cand[rest]]
        )
        return answers

    def _aggregate(
        self,
        scores: np.ndarray,
        cand: np.ndarray,
        k: int,
        sims: np.ndarray | None = None,
        groups: np.ndarray | None = None,
        supported: bool = False,
    ) -> list[Answer]:
        """Rank candidates by their mean rank over members (ties: mean score); support = share in member top-k.

        With ``groups`` (a class label per candidate) the candidates are first merged per class, with the
        class's mean score and similarity in every member, and each answer names the class.

        ``supported=True`` answers only from the candidates some member has in its own top k (support > 0):
        a mean rank can put first a candidate that no member ranked that high (each run's second choice,
        say), and an item that no run put in its list is not to be recommended with "0 %" beside it.  There
        are still k answers wherever there are k candidates: the members' top-k lists hold at least k.
        """
        if scores.shape[1] == 0 or k <= 0:
            return []
        inv = None
        if groups is not None:
            _, inv = np.unique(groups, return_inverse=True)
            scores = _class_mean(scores, inv)
            sims = None if sims is None else _class_mean(sims, inv)
        k = min(int(k), scores.shape[1])
        order = np.argsort(-scores, axis=1, kind="stable")
        ranks = np.empty_like(order)
        rows = np.arange(scores.shape[0])[:, None]
        ranks[rows, order] = np.arange(scores.shape[1])[None, :]
        mean_rank = ranks.mean(axis=0)
        mean_score = scores.mean(axis=0)
        top = np.lexsort((-mean_score, mean_rank))
        if supported:
            top = top[(ranks[:, top] < k).any(axis=0)]
        top = top[:k]
        support = (ranks[:, top] < k).mean(axis=0)
        sim = mean_score if sims is None else sims.mean(axis=0)
        answers = []
        for j, s in zip(top, support, strict=True):
            names = [self.nodes_[cand[j]]] if inv is None else sorted(self.nodes_[x] for x in cand[inv == j])
            answers.append(
                Answer(
                    node=names[0],
                    similarity=float(sim[j]),
                    support=float(s),
                    score=None if sims is None else float(mean_score[j]),
                    tied=tuple(names[1:]),
                )
            )
        return answers

    def recommend(
        self,
        node: Any,
        k: int = 10,
        *,
        n_peers: int = 10,
        n_substitutes: int = 3,
        graph: Graph | None = None,
        group_equivalent: bool = True,
    ) -> Recommendation:
        """For a bipartite graph: items the node's closest peers have and it lacks, and substitutes per item.

        Peers are nodes on the node's side, items those on the other: the graph's declared sides, or, when
        it declares none, its 2-colouring, with a :class:`~hyperselect.data.graph.GraphDataWarning` saying so
        (``sides_from`` of the result records which); a graph with an odd cycle and no sides is refused.
        ``k`` and ``n_peers`` are ints >= 1, ``n_substitutes`` an int >= 0 (0: no substitutes).

        An item's score in one member is the similarity-weighted share of the node's ``n_peers`` closest peers
        (that member's) that hold it; scores are aggregated over members by rank like :meth:`most_similar`.
        Items to add and substitutes come only from what at least one member put in its own top list (support
        above 0): an item no run recommends is not recommended (see :meth:`_aggregate`).
        With ``group_equivalent`` (default) every answer is an equivalence class (see :meth:`most_similar`),
        peers tied with each other vote with their class's mean similarity (so which of them make the cut
        does not matter), and the query's own class does not vote (its members hold exactly what it holds).
        """
        _check_count("recommend", "k", k)
        _check_count("recommend", "n_peers", n_peers)
        _check_count("recommend", "n_substitutes", n_substitutes, low=0)
        g = self._graph(graph)
        if g is None:
            raise DataError("recommend needs the graph: pass graph=... (a loaded model does not keep it).")
        i = self._row(node)
        gi = g.index_of(node)
        sides, sides_from = self._sides(True, g, needed_by="recommend")
        assert sides is not None  # same_side=True: the declared sides or a 2-colouring, else a DataError
        peers = self._closest(i, n_peers, sides, g, group_equivalent, same_component=True)
        equivalence, component = self._structure(g)
        held = set(g.indices[g.indptr[gi] : g.indptr[gi + 1]].tolist())
        items = np.flatnonzero((sides != sides[gi]) & self.embedded_ & (component == component[i]))
        items = np.asarray([j for j in items if j not in held], dtype=np.int64)

        # per member: its own top peers, each voting for its items with its similarity
        peer_mask = self._candidates(i, sides, g)
        if group_equivalent:
            peer_mask &= equivalence != equivalence[i]
        peer_idx = np.flatnonzero(peer_mask)
        peer_inv = np.unique(equivalence[peer_idx], return_inverse=True)[1] if group_equivalent else None
        adj = g.to_scipy()
        adj.data[:] = 1.0
        scores = np.zeros((self._unit.shape[0], len(items)))
        for m in range(self._unit.shape[0]):
            sim = self._unit[m, peer_idx] @ self._unit[m, i]
            if peer_inv is not None and len(peer_idx):
                sim = _class_mean(sim[None, :], peer_inv)[0][peer_inv]
            top = np.argsort(-sim, kind="stable")[:n_peers]
            w = np.clip(sim[top], 0, None)
            if w.sum() <= 0:
                continue
            votes = adj[peer_idx[top]].T @ w  # (n_nodes,)
            scores[m] = np.asarray(votes).ravel()[items] / w.sum()
        sims = self._unit[:, items, :] @ self._unit[:, i, :][:, :, None]
        keep = scores.max(axis=0) > 0
        add = self._aggregate(
            scores[:, keep],
            items[keep],
            k,
            sims=sims[:, keep, 0],
            groups=equivalence[items[keep]] if group_equivalent else None,
            supported=True,
        )

        substitutes: dict[str, list[Answer]] = {}
        per_class: dict[int, list[Answer]] = {}  # tied held items share their substitutes
        cand = items
        for h in sorted(held):
            if not self.embedded_[h]:
                continue
            if group_equivalent and int(equivalence[h]) in per_class:
                substitutes[self.nodes_[h]] = per_class[int(equivalence[h])]
                continue
            sc = self._unit[:, cand, :] @ self._unit[:, h, :][:, :, None]
            substitutes[self.nodes_[h]] = per_class[int(equivalence[h])] = self._aggregate(
                sc[:, :, 0],
                cand,
                n_substitutes,
                groups=equivalence[cand] if group_equivalent else None,
                supported=True,
            )
        name = self.nodes_[i]
        note = None
        if not len(items):
            note = f"{name} already holds every item of its connected component: nothing to add" + (
                ", and no item it lacks to offer as a substitute" if n_substitutes else ""
            )
        elif len(add) < k:
            note = (
                f"{len(add)} of the {k} items asked for: no other item that {name} lacks is held by its closest "
                "peers (an answer is an item, or a group of items with the same holders)"
            )
        return Recommendation(
            node=name,
            peers=peers,
            add=add,
            substitutes=substitutes,
            sides_from=sides_from,
            k=int(k),
            n_peers=int(n_peers),
            n_substitutes=int(n_substitutes),
            note=note,
        )

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], format: str = "npy") -> Path:
        """``npy``: a folder with embeddings.npy (+ members.npy) and nodes.json; ``word2vec``: one text file."""
        self._check_fitted()
        target = Path(path)
        if format == "word2vec":
            check_word2vec_ids(self.nodes_)
            if self.sides()[0] is not None:
                warnings.warn(
                    "The word2vec format holds the vectors alone: the graph's two sides are not kept, so a "
                    "model loaded from it answers across sides (people with items). Save with format='npy' "
                    "(--format npy) to keep them.",
                    GraphDataWarning,
                    stacklevel=2,
                )
            rows = [f"{int(self.embedded_.sum())} {self.embeddings_.shape[1]}"]
            for u, vec, ok in zip(self.nodes_, self.embeddings_, self.embedded_, strict=True):
                if ok:
                    rows.append(u + " " + " ".join(f"{x:.6g}" for x in vec))
            return atomic_write_text(target, "\n".join(rows) + "\n")
        if format != "npy":
            raise DataError(f"Unknown format {format!r}; expected 'npy' or 'word2vec'.")
        import io

        def npy(a: np.ndarray) -> bytes:
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            return buf.getvalue()

        target.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target / "embeddings.npy", npy(self.embeddings_))
        atomic_write_bytes(target / "members.npy", npy(np.stack(self.member_embeddings_)))
        meta = {
            "format": "hyperselect.node2vec/1",
            "nodes": self.nodes_,
            "params": self.get_params(),
            "effort": getattr(self, "effort_", None),
            "timings": getattr(self, "timings_", None),
            # the graph's structure, so a loaded model groups tied answers and stays within components
            "equivalence": self.equivalence_.tolist(),
            "component": self.component_.tolist(),
            # the declared sides, so a loaded model's answers keep to the query's side as the fitted one's do
            "sides": None if self.sides_ is None else self.sides_.tolist(),
            "sides_from": self.sides_from_,
            # the walks' reach, for noise_warning (directed graphs only; JSON has no NaN: null)
            "walk_nodes": None
            if self.walk_nodes_ is None
            else [None if math.isnan(v) else round(float(v), 3) for v in self.walk_nodes_],
        }
        atomic_write_json(target / "nodes.json", meta)  # written last: its presence marks a complete save
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Node2Vec:
        """Load a folder written by ``save(format='npy')`` or a word2vec text file."""
        src = Path(path)
        if src.is_dir():
            meta_path = src / "nodes.json"
            if not meta_path.is_file():
                raise DataError(
                    f"{str(src)!r} has no nodes.json: not a saved Node2Vec (or an incomplete save)."
                )
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            model = cls(**meta.get("params", {}))
            members = np.load(src / "members.npy", allow_pickle=False)
            model._set_state(
                meta["nodes"],
                list(members),
                meta.get("equivalence"),
                meta.get("component"),
                meta.get("sides"),  # absent from folders saved before sides were kept: no sides, as then
                meta.get("sides_from"),
                meta.get("walk_nodes"),
            )
            if meta.get("effort"):
                model.effort_ = meta["effort"]
            return model
        if not src.is_file():
            raise DataError(f"{str(src)!r} does not exist.")
        nodes, vectors, d = read_word2vec(src)
        model = cls(dimensions=d)
        model._set_state(nodes, [vectors])
        return model


def read_word2vec(path: Path) -> tuple[list[str], np.ndarray, int]:
    """(node ids, vectors [n, d], d) of a word2vec text file (``save(format="word2vec")``): a header line
    ``count dimensions``, then per node its id and its numbers separated by spaces.  A DataError names the line
    that is not that (and a file that is not UTF-8, or holds another count of vectors than its header says)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    header = lines[0].split() if lines else []
    if len(header) != 2 or not all(x.isdigit() for x in header):
        raise DataError(
            f"{path}: line 1: expected the word2vec header 'count dimensions', found {lines[:1]}."
        )
    n, d = int(header[0]), int(header[1])
    nodes: list[str] = []
    vectors: list[list[float]] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(" ")
        try:
            values = [float(x) for x in parts[1:]]
        except ValueError:
            values = []
        if len(values) != d:
            raise DataError(
                f"{path}: line {lineno}: expected a node id and {d} numbers, found {line[:60]!r}."
            )
        nodes.append(parts[0])
        vectors.append(values)
    if len(nodes) != n:
        raise DataError(f"{path}: the header says {n} vectors, found {len(nodes)}.")
    return nodes, np.asarray(vectors, dtype=np.float32).reshape(len(nodes), d), d


def _check_count(owner: str, name: str, value: Any, low: int = 1) -> None:
    """``k``-like arguments of a look-up: an int >= ``low`` (a float or a negative count would slice silently)."""
    check_params(owner, {name: value}, {name: Interval(int, low, None)})


def _class_mean(values: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Column means of ``values`` (members x candidates) per class label ``inv`` (0..n_classes-1)."""
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.add.reduceat(values[:, order], starts, axis=1) / counts


def _walk_nodes(walks: np.ndarray, n_nodes: int) -> np.ndarray:
    """Per node, the mean number of nodes of the walks it occurs in, weighted by occurrences (NaN: in none).

    This is the context skip-gram trains a node's vector on: a node that only ends or starts walks of two nodes
    is embedded from its direct neighbours alone, however far other walks go.
    """
    valid = walks >= 0
    lengths = valid.sum(axis=1)
    tokens = walks[valid]
    total = np.bincount(
        tokens, weights=np.broadcast_to(lengths[:, None], walks.shape)[valid], minlength=n_nodes
    )
    count = np.bincount(tokens, minlength=n_nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _aligned_mean(members: list[np.ndarray], ok: np.ndarray) -> np.ndarray:
    """Rotate each member onto the first (orthogonal Procrustes on embedded rows) and average.

    Skip-gram solutions are defined up to a rotation, so averaging raw members would cancel signal.
    """
    if len(members) == 1:
        return members[0]
    from scipy.linalg import orthogonal_procrustes

    ref = members[0][ok].astype(np.float64)
    total = members[0].astype(np.float64)
    for m in members[1:]:
        r, _ = orthogonal_procrustes(m[ok].astype(np.float64), ref)
        total += m.astype(np.float64) @ r
    return (total / len(members)).astype(np.float32)


def topk_overlap(models: list[Node2Vec], queries: list[str], k: int = 5, **lookup: Any) -> dict[str, Any]:
    """Mean top-``k`` overlap of ``most_similar`` between every pair of ``models``, answers as returned.

    Answers are compared by ``node`` (with grouping, the class's representative, which does not depend on the
    run).  For one query and two runs the overlap is ``|A & B| / max(|A|, |B|)``, which is ``/ k`` whenever
    both give ``k`` answers; a query that has no answer in either run (a node alone on its side of its
    component) is left out and counted in ``no_answer``.  ``lookup`` goes to ``most_similar``.
    """
    tops = [{u: {a.node for a in m.most_similar(u, k, **lookup)} for u in queries} for m in models]
    overlaps: list[float] = []
    no_answer: set[str] = set()
    for a in range(len(models)):
        for b in range(a + 1, len(models)):
            for u in queries:
                ta, tb = tops[a][u], tops[b][u]
                if not ta and not tb:
                    no_answer.add(u)
                    continue
                overlaps.append(len(ta & tb) / max(len(ta), len(tb)))
    return {
        "overlap": float(np.mean(overlaps)) if overlaps else float("nan"),
        "queries": len(queries),
        "no_answer": len(no_answer),
    }


def stability(
    graph: Graph,
    *,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    k: int = 5,
    queries: list[str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Mean top-``k`` overlap of ``most_similar`` between runs with different seeds, and what it cost.

    Averaged over all pairs of runs and all queries (default: every embedded node); see :func:`topk_overlap`.
    ``mean_topk_overlap`` compares the answers as returned (equivalence classes, by representative);
    ``mean_topk_overlap_raw`` compares plain node lists (``group_equivalent=False``), where the choice among
    tied nodes is left to chance.
    """
    t0 = time.perf_counter()
    models = [Node2Vec(random_state=s, **params).fit(graph) for s in seeds]
    wall = time.perf_counter() - t0
    qs = (
        queries
        if queries is not None
        else [u for u, ok in zip(graph.nodes, models[0].embedded_, strict=True) if ok]
    )
    grouped = topk_overlap(models, qs, k)
    raw = topk_overlap(models, qs, k, group_equivalent=False)
    return {
        "mean_topk_overlap": grouped["overlap"],
        "mean_topk_overlap_raw": raw["overlap"],
        "k": k,
        "runs": len(seeds),
        "queries": len(qs),
        "queries_without_answers": grouped["no_answer"],
        "effort": models[0].effort_,
        "wall_s_per_fit": wall / len(seeds),
    }
