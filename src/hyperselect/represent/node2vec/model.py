"""The ``Node2Vec`` estimator: walks + skip-gram, similar nodes and bipartite recommendations with support.

Why an ensemble: on small graphs one node2vec run's "most similar" list changes from seed to seed (SGD noise
dominates when there are few nodes).  Several runs with different seeds, aggregated by rank, give answers that
repeat across runs, and the fraction of members that agree on an answer (``support``) tells the user how much
to trust it.  On small graphs the sampling effort (walks per node, epochs) is also raised, because it is cheap
there; on large graphs the defaults fall back to the node2vec paper's (10 walks, 1 epoch, one run).  The chosen
values are kept in ``effort_``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperselect._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from hyperselect._validation import Constraint, Interval, NoneOr, Options, check_params
from hyperselect.data.graph import Graph, from_networkx
from hyperselect.errors import DataError, NotFittedError
from hyperselect.represent.node2vec.skipgram import train_skipgram
from hyperselect.represent.node2vec.walks import generate_walks, resolve_mode

logger = logging.getLogger(__name__)

__all__ = ["Answer", "Node2Vec", "Recommendation", "auto_effort"]

#: Tokens x epochs the "auto" effort aims at per ensemble member on small graphs.  Measured on Davis (32
#: nodes): five cheap members (20 walks, 3 epochs) gave a mean top-5 overlap of 0.89 across seeds, while one
#: expensive run (100 walks, 16 epochs, 25x the tokens) gave 0.78, so the budget goes to the ensemble first.
AUTO_TOKEN_BUDGET = 150_000
AUTO_MAX_WALKS = 20
AUTO_MAX_EPOCHS = 5
#: Graphs with at most this many nodes get the ensemble by default.
AUTO_ENSEMBLE_MAX_NODES = 5_000
AUTO_ENSEMBLE_MEMBERS = 5


@dataclass(frozen=True)
class Answer:
    """One answer: the node, its mean cosine similarity over members, and the share of members agreeing."""

    node: str
    similarity: float
    support: float
    score: float | None = None  # recommend: the similarity-weighted share of peers that have the item

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Recommendation:
    """Items to add (held by the node's closest peers) and, per held item, the closest substitutes."""

    node: str
    peers: list[Answer]
    add: list[Answer]
    substitutes: dict[str, list[Answer]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "peers": [a.to_dict() for a in self.peers],
            "add": [a.to_dict() for a in self.add],
            "substitutes": {k: [a.to_dict() for a in v] for k, v in self.substitutes.items()},
        }


def auto_effort(n_nodes: int, walk_length: int) -> dict[str, int]:
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
    "p": Interval(float, 0, None, "neither"),
    "q": Interval(float, 0, None, "neither"),
    "epochs": Options(("auto",)),
    "negative": Interval(int, 1, None),
    "ensemble": Options(("auto",)),
    "workers": NoneOr(Interval(int, 1, None)),
    "random_state": NoneOr(Interval(int, 0, None)),
    "mode": Options(("auto", "first_order", "otf", "precomp")),
}
_INT_OR_AUTO = {"num_walks": 1, "epochs": 1, "ensemble": 1}


class Node2Vec:
    """node2vec embeddings (Grover & Leskovec 2016) with stable, supported answers on small graphs.

    ``num_walks``, ``epochs`` and ``ensemble`` accept ``"auto"`` (see :func:`auto_effort`); pass numbers to
    reproduce the paper's setting (``num_walks=10, epochs=1, ensemble=1``).  After ``fit``: ``embeddings_``
    (rows in node order; NaN for nodes with no neighbours; with an ensemble, the members' vectors rotated onto
    the first member's and averaged), ``nodes_``, ``member_embeddings_``, ``embedded_``, ``effort_`` and
    ``timings_``.
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
            graph = from_networkx(graph)
        if graph.n_nodes == 0:
            raise DataError("The graph has no nodes.")
        resolve_mode(graph, float(self.p), float(self.q), self.mode)  # fail before any work
        auto = auto_effort(graph.n_nodes, int(self.walk_length))
        effort = {
            k: (auto[k] if getattr(self, k) == "auto" else int(getattr(self, k)))
            for k in ("num_walks", "epochs", "ensemble")
        }
        workers = int(self.workers or os.cpu_count() or 1)
        rng = np.random.default_rng(self.random_state)
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=effort["ensemble"])]

        members, walk_s, train_s = [], 0.0, 0.0
        mode = "auto"
        task = None if bar is None else bar.add_task("node2vec walks + skip-gram", total=2 * len(seeds))
        for seed in seeds:
            wr = generate_walks(
                graph,
                num_walks=effort["num_walks"],
                walk_length=int(self.walk_length),
                p=float(self.p),
                q=float(self.q),
                mode=self.mode,
                random_state=seed,
                workers=workers,
            )
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
            )
            walk_s += wr.seconds
            train_s += sg.seconds
            members.append(sg.vectors)
            if bar is not None:
                bar.advance(task)
        self._set_state(graph.nodes, members)
        self.graph_: Graph | None = graph
        self.effort_ = {**effort, "mode": mode, "auto": [k for k in effort if getattr(self, k) == "auto"]}
        self.timings_ = {"walks_s": walk_s, "train_s": train_s}
        logger.info("Node2Vec fitted: %s, walks %.2fs, training %.2fs", self.effort_, walk_s, train_s)
        return self

    def _set_state(self, nodes: list[str], members: list[np.ndarray]) -> None:
        self.nodes_ = list(nodes)
        self.member_embeddings_ = [np.asarray(m, dtype=np.float32) for m in members]
        self.embedded_: np.ndarray = np.asarray(~np.isnan(self.member_embeddings_[0]).any(axis=1))
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
                f"Node {key!r} is not in the graph (it has no edges): no neighbours, cannot be embedded."
            )
        i = self._index[key]
        if not self.embedded_[i]:
            raise DataError(
                f"Node {key!r} has no neighbours: cannot be embedded, so it has no similar nodes."
            )
        return i

    def vector(self, node: Any) -> np.ndarray:
        return self.embeddings_[self._row(node)]

    def _sides(self, graph: Graph | None) -> np.ndarray | None:
        g = graph if graph is not None else getattr(self, "graph_", None)
        return None if g is None else g.bipartite_sides()

    def _candidates(self, i: int, same_side: bool | None, graph: Graph | None) -> np.ndarray:
        mask = self.embedded_.copy()
        mask[i] = False
        sides = self._sides(graph)
        if same_side is None:
            same_side = sides is not None
        if same_side:
            if sides is None:
                raise DataError("same_side=True needs a bipartite graph (two node sides); this one is not.")
            mask &= sides == sides[i]
        return mask

    def most_similar(
        self, node: Any, k: int = 10, *, same_side: bool | None = None, graph: Graph | None = None
    ) -> list[Answer]:
        """The ``k`` nodes closest to ``node`` by cosine, aggregated over ensemble members by mean rank.

        ``same_side=None`` restricts a bipartite graph's answers to the node's own side (peers: women like this
        woman, departments like this department), which is the question asked of such graphs.
        """
        i = self._row(node)
        mask = self._candidates(i, same_side, graph)
        scores = self._unit[:, mask, :] @ self._unit[:, i, :][:, :, None]
        return self._aggregate(scores[:, :, 0], np.flatnonzero(mask), k)

    def _aggregate(
        self, scores: np.ndarray, cand: np.ndarray, k: int, sims: np.ndarray | None = None
    ) -> list[Answer]:
        """Rank candidates by their mean rank over members (ties: mean score); support = share in member top-k."""
        if scores.shape[1] == 0 or k <= 0:
            return []
        k = min(int(k), scores.shape[1])
        order = np.argsort(-scores, axis=1, kind="stable")
        ranks = np.empty_like(order)
        rows = np.arange(scores.shape[0])[:, None]
        ranks[rows, order] = np.arange(scores.shape[1])[None, :]
        mean_rank = ranks.mean(axis=0)
        mean_score = scores.mean(axis=0)
        top = np.lexsort((-mean_score, mean_rank))[:k]
        support = (ranks[:, top] < k).mean(axis=0)
        sim = mean_score if sims is None else sims.mean(axis=0)
        return [
            Answer(
                node=self.nodes_[cand[j]],
                similarity=float(sim[j]),
                support=float(s),
                score=None if sims is None else float(mean_score[j]),
            )
            for j, s in zip(top, support, strict=True)
        ]

    def recommend(
        self, node: Any, k: int = 10, *, n_peers: int = 10, n_substitutes: int = 3, graph: Graph | None = None
    ) -> Recommendation:
        """For a bipartite graph: items the node's closest peers have and it lacks, and substitutes per item.

        An item's score in one member is the similarity-weighted share of the node's ``n_peers`` closest peers
        (that member's) that hold it; scores are aggregated over members by rank like :meth:`most_similar`.
        """
        g = graph if graph is not None else getattr(self, "graph_", None)
        if g is None:
            raise DataError("recommend needs the graph: pass graph=... (a loaded model does not keep it).")
        sides = g.bipartite_sides()
        if sides is None:
            raise DataError(
                "recommend needs a bipartite graph (e.g. people and the items they hold); this one is not."
            )
        i = self._row(node)
        gi = g.index_of(node)
        if g.nodes[gi] != self.nodes_[i]:
            raise DataError("The graph passed to recommend is not the one the model was fitted on.")
        peers = self.most_similar(node, n_peers, same_side=True, graph=g)
        held = set(g.indices[g.indptr[gi] : g.indptr[gi + 1]].tolist())
        items = np.flatnonzero((sides != sides[gi]) & self.embedded_)
        items = np.asarray([j for j in items if j not in held], dtype=np.int64)

        # per member: its own top peers, each voting for its items with its similarity
        peer_mask = self._candidates(i, True, g)
        peer_idx = np.flatnonzero(peer_mask)
        adj = g.to_scipy()
        adj.data[:] = 1.0
        scores = np.zeros((self._unit.shape[0], len(items)))
        for m in range(self._unit.shape[0]):
            sim = self._unit[m, peer_idx] @ self._unit[m, i]
            top = np.argsort(-sim, kind="stable")[:n_peers]
            w = np.clip(sim[top], 0, None)
            if w.sum() <= 0:
                continue
            votes = adj[peer_idx[top]].T @ w  # (n_nodes,)
            scores[m] = np.asarray(votes).ravel()[items] / w.sum()
        sims = self._unit[:, items, :] @ self._unit[:, i, :][:, :, None]
        keep = scores.max(axis=0) > 0
        add = self._aggregate(scores[:, keep], items[keep], k, sims=sims[:, keep, 0])

        substitutes: dict[str, list[Answer]] = {}
        item_set = np.zeros(len(self.nodes_), dtype=bool)
        item_set[items] = True
        for h in sorted(held):
            if not self.embedded_[h]:
                continue
            cand = np.flatnonzero(item_set)
            sc = self._unit[:, cand, :] @ self._unit[:, h, :][:, :, None]
            substitutes[self.nodes_[h]] = self._aggregate(sc[:, :, 0], cand, n_substitutes)
        return Recommendation(node=self.nodes_[i], peers=peers, add=add, substitutes=substitutes)

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], format: str = "npy") -> Path:
        """``npy``: a folder with embeddings.npy (+ members.npy) and nodes.json; ``word2vec``: one text file."""
        self._check_fitted()
        target = Path(path)
        if format == "word2vec":
            bad = [u for u in self.nodes_ if not u or any(c.isspace() for c in u)]
            if bad:
                raise DataError(
                    f"Node id {bad[0]!r} contains whitespace; the word2vec text format cannot hold it."
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
            model._set_state(meta["nodes"], list(members))
            if meta.get("effort"):
                model.effort_ = meta["effort"]
            return model
        if not src.is_file():
            raise DataError(f"{str(src)!r} does not exist.")
        with src.open(encoding="utf-8") as fh:
            header = fh.readline().split()
            if len(header) != 2:
                raise DataError(f"{src}:1: expected the word2vec header 'count dimensions', got {header!r}.")
            n, d = int(header[0]), int(header[1])
            nodes, vecs = [], []
            for lineno, line in enumerate(fh, start=2):
                parts = line.rstrip("\n").split(" ")
                if len(parts) != d + 1:
                    raise DataError(
                        f"{src}:{lineno}: expected a node id and {d} numbers, got {len(parts)} fields."
                    )
                nodes.append(parts[0])
                vecs.append(np.asarray(parts[1:], dtype=np.float32))
        if len(nodes) != n:
            raise DataError(f"{src}: header says {n} vectors, found {len(nodes)}.")
        model = cls(dimensions=d)
        model._set_state(nodes, [np.stack(vecs)])
        return model


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


def stability(
    graph: Graph,
    *,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    k: int = 5,
    queries: list[str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Mean top-``k`` overlap of ``most_similar`` between runs with different seeds, and what it cost.

    The overlap of two runs for one query is ``|top_a & top_b| / k``; averaged over all pairs of runs and all
    queries (default: every embedded node).
    """
    t0 = time.perf_counter()
    models = [Node2Vec(random_state=s, **params).fit(graph) for s in seeds]
    wall = time.perf_counter() - t0
    qs = (
        queries
        if queries is not None
        else [u for u, ok in zip(graph.nodes, models[0].embedded_, strict=True) if ok]
    )
    tops = [{u: {a.node for a in m.most_similar(u, k)} for u in qs} for m in models]
    overlaps: list[float] = []
    for a in range(len(models)):
        for b in range(a + 1, len(models)):
            overlaps.extend(len(tops[a][u] & tops[b][u]) / k for u in qs)
    return {
        "mean_topk_overlap": float(np.mean(overlaps)) if overlaps else float("nan"),
        "k": k,
        "runs": len(seeds),
        "queries": len(qs),
        "effort": models[0].effort_,
        "wall_s_per_fit": wall / len(seeds),
    }
