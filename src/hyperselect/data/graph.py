"""Graphs for node embeddings: a CSR adjacency plus the node ids, read from edge lists, networkx or scipy.

Why CSR: the node2vec walk kernels need O(edges) memory and, for the second-order bias, a fast "is x a
neighbour of t" test; sorted CSR rows give both (binary search within a row).  Node ids are kept as strings in
order of first appearance, which is also the row order of every embedding computed from the graph.

Bad input is an error naming the file and line (negative, NaN or non-numeric weights, wrong column counts, an
empty file); dubious but usable input (self-loops, duplicate edges, isolated nodes) is a warning with a count,
and the counts are also kept in :attr:`Graph.report` so the CLI can show them.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperselect.errors import DataError

logger = logging.getLogger(__name__)

__all__ = [
    "Graph",
    "GraphDataWarning",
    "NodeLabels",
    "from_edges",
    "from_networkx",
    "from_scipy_sparse",
    "read_edgelist",
    "read_labels",
]


class GraphDataWarning(UserWarning):
    """Input that is usable but probably not what the user meant (self-loops, duplicates, isolated nodes)."""


@dataclass(eq=False)
class Graph:
    """A graph as CSR arrays (rows sorted by neighbour index) and node ids.

    For an undirected graph every edge is stored in both rows (a self-loop once).  ``weights`` is always
    present (ones for an unweighted graph) so the kernels have one code path; ``weighted`` records whether the
    input carried weights.  ``sides`` optionally marks the two sides of a bipartite graph (0/1, -1 unknown)
    when the input declares them, and ``sides_from`` says where (see :meth:`bipartite_sides`).
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    nodes: list[str]
    directed: bool = False
    weighted: bool = False
    sides: np.ndarray | None = None
    report: dict[str, Any] = field(default_factory=dict)
    sides_from: str | None = None
    _index: dict[str, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.indptr = np.ascontiguousarray(self.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int32)
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float64)
        if len(self.indptr) != len(self.nodes) + 1 or len(self.indices) != len(self.weights):
            raise DataError(
                f"Inconsistent CSR graph: {len(self.nodes)} nodes, indptr of length {len(self.indptr)}, "
                f"{len(self.indices)} indices and {len(self.weights)} weights."
            )

    # -- sizes and look-ups -------------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Edges as the user counts them: undirected edges once, self-loops once."""
        if self.directed:
            return len(self.indices)
        rows = np.repeat(np.arange(self.n_nodes), np.diff(self.indptr))
        n_loops = int(np.count_nonzero(rows == self.indices))
        return (len(self.indices) - n_loops) // 2 + n_loops

    @property
    def degree(self) -> np.ndarray:
        """Out-degree (number of stored neighbours) of every node."""
        return np.diff(self.indptr)

    @property
    def isolated(self) -> list[str]:
        """Nodes with no edge at all: no walk starts at or reaches them, so they get no embedding."""
        return [self.nodes[i] for i in np.flatnonzero((self.degree == 0) & (self._in_degree() == 0))]

    @property
    def sinks(self) -> list[str]:
        """Directed graphs: nodes with incoming but no outgoing edges.  No walk starts there, but walks that
        reach them end there, so they are embedded from those walks (empty for an undirected graph)."""
        if not self.directed:
            return []
        return [self.nodes[i] for i in np.flatnonzero((self.degree == 0) & (self._in_degree() > 0))]

    def _in_degree(self) -> np.ndarray:
        if not self.directed:
            return self.degree
        return np.bincount(self.indices, minlength=self.n_nodes)

    def index_of(self, node: Any) -> int:
        if self._index is None:
            self._index = {name: i for i, name in enumerate(self.nodes)}
        key = str(node)
        try:
            return self._index[key]
        except KeyError:
            raise DataError(f"Node {key!r} is not in the graph ({self.n_nodes} nodes).") from None

    def __contains__(self, node: object) -> bool:
        try:
            self.index_of(node)
        except DataError:
            return False
        return True

    def neighbors(self, node: Any) -> list[str]:
        i = self.index_of(node)
        return [self.nodes[j] for j in self.indices[self.indptr[i] : self.indptr[i + 1]]]

    def to_scipy(self) -> Any:
        from scipy import sparse

        n = self.n_nodes
        return sparse.csr_matrix((self.weights, self.indices, self.indptr), shape=(n, n))

    # -- bipartite sides ------------------------------------------------------------------------------------
    def bipartite_sides(self) -> np.ndarray | None:
        """0/1 side per node as the input declared them (``sides_from`` says how), else ``None``.

        Sides are declared by a networkx ``bipartite`` node attribute, by an edge-list file whose two columns
        share no node (every line is person -> item, see :func:`read_edgelist`), or by the caller (the CLI's
        two-class label file).  A graph that merely has no odd cycle (a tree, a path, a grid, an even cycle)
        is not declared bipartite: its 2-colouring (:meth:`two_colouring`) says nothing about "people" and
        "items", and keeping answers to one colour would hide a node's neighbours.
        """
        return self.sides

    def two_colouring(self) -> np.ndarray | None:
        """A 0/1 colouring in which every edge joins the two colours; ``None`` if the graph has an odd cycle.

        Only for callers that ask for sides explicitly (``same_side=True``, ``recommend`` on a graph with no
        declared sides).  It is defined up to a swap within each connected component; that is harmless for
        "peers on my side" questions, which never cross a component in a useful way.
        """
        cached = self.report.get("_two_colouring")
        if cached is not None:
            return cached if isinstance(cached, np.ndarray) else None
        colour = _two_colouring(self.indptr, self.indices, self.directed)
        self.report["_two_colouring"] = colour if colour is not None else False
        return colour

    def component_labels(self) -> np.ndarray:
        """The connected component of every node (weakly connected for a directed graph: no walk, whichever
        way it goes, joins two of them), numbered from 0; computed once and kept."""
        cached = self.report.get("_component_labels")
        if isinstance(cached, np.ndarray) and len(cached) == self.n_nodes:
            return cached
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(self.to_scipy(), directed=self.directed, connection="weak")
        labels = np.asarray(labels, dtype=np.int64)
        self.report["_component_labels"] = labels
        return labels

    def component_sizes(self) -> np.ndarray:
        """Nodes per connected component (see :meth:`component_labels`); an isolated node is one of its own."""
        return np.bincount(self.component_labels(), minlength=1) if self.n_nodes else np.zeros(0, np.int64)

    def summary(self) -> dict[str, Any]:
        sizes = self.component_sizes()
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "directed": self.directed,
            "weighted": self.weighted,
            # weakly connected for a directed graph; nodes of different components never answer each other
            "components": len(sizes),
            "largest_component_nodes": int(sizes.max()) if len(sizes) else 0,
            **{k: v for k, v in self.report.items() if not k.startswith("_")},
        }


def _two_colouring(indptr: np.ndarray, indices: np.ndarray, directed: bool) -> np.ndarray | None:
    n = len(indptr) - 1
    if directed:  # colour the underlying undirected graph
        from scipy import sparse

        a = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))
        a = (a + a.T).tocsr()
        indptr, indices = a.indptr, a.indices
    colour = np.full(n, -1, dtype=np.int8)
    for start in range(n):
        if colour[start] >= 0:
            continue
        colour[start] = 0
        stack = [start]
        while stack:
            u = stack.pop()
            for v in indices[indptr[u] : indptr[u + 1]]:
                if colour[v] < 0:
                    colour[v] = 1 - colour[u]
                    stack.append(int(v))
                elif colour[v] == colour[u]:
                    return None
    return colour


def close_matches(name: str, names: Sequence[str], limit: int = 3) -> list[str]:
    """Node ids a mistyped ``name`` probably meant: the same up to case, spaces, ``_`` and ``-`` first, then
    (on graphs of up to 100,000 nodes, where it takes well under a second) the closest by difflib."""

    def fold(text: str) -> str:
        return "".join(c for c in text.casefold() if c not in " _-")

    key = fold(name)
    found = [u for u in names if fold(u) == key][:limit]
    if len(found) < limit and len(names) <= 100_000:
        import difflib

        found += [u for u in difflib.get_close_matches(name, names, n=limit, cutoff=0.75) if u not in found]
    return found[:limit]


def did_you_mean(name: str, names: Sequence[str]) -> str:
    """The end of an error message: ``"; did you mean 'Evelyn_Jefferson'?"``, or ``"."`` when nothing is close."""
    found = close_matches(name, names)
    return f"; did you mean {' or '.join(repr(u) for u in found)}?" if found else "."


# ---------------------------------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------------------------------
def from_edges(
    src: np.ndarray,
    dst: np.ndarray,
    weights: np.ndarray | None,
    nodes: Sequence[str],
    *,
    directed: bool = False,
    source: str = "edge list",
    sides: np.ndarray | None = None,
    sides_from: str | None = None,
) -> Graph:
    """Build a :class:`Graph` from integer edge arrays, merging duplicates and reporting oddities.

    Duplicate edges (the same ordered pair twice) are merged with their weights summed, as most edge-list
    producers mean repeated interactions.  In an undirected graph an edge listed once in each direction with
    the same weight is the usual symmetric export, so it is stored once and only logged; with different
    weights the two are summed like duplicates.  ``src`` and ``dst`` are indices into ``nodes`` (the ids);
    ``sides`` (0/1 per node, -1 unknown) declares a bipartite graph's two sides, ``sides_from`` says how.
    """
    n = len(nodes)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w: np.ndarray = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    report: dict[str, Any] = {}
    if weights is not None and len(w):
        with np.errstate(over="ignore"):
            total = float(np.sum(w))
        if not math.isfinite(total):
            # the walks sum a node's weights (and duplicates are summed): past the float range every such sum
            # is inf, and the walk probabilities silently wrong
            raise DataError(
                f"{source}: the edge weights add up to more than the largest float (the largest is "
                f"{float(np.max(w)):.3g}); only their ratios matter to the walks, so divide them all by a "
                "common factor (e.g. the largest)."
            )

    key = src * n + dst
    uniq, inverse = np.unique(key, return_inverse=True)
    n_dup = len(key) - len(uniq)
    w = np.bincount(inverse, weights=w, minlength=len(uniq))
    src, dst = uniq // n, uniq % n
    report["duplicate_edges_merged"] = int(n_dup)
    if n_dup:
        merged = (
            "their weights summed"
            if weights is not None
            # unweighted walks treat every edge alike: saying "summed" promised an effect there is none of
            else "each kept once (there is no weight column, so a repeat does not make an edge more likely "
            "to be walked; to count repeats, give each line a weight)"
        )
        warnings.warn(
            f"{source}: {n_dup} duplicate edge(s) merged, {merged}.", GraphDataWarning, stacklevel=3
        )

    n_mirrored = 0
    if not directed:
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        ckey = lo * n + hi
        cuniq, cinv, ccount = np.unique(ckey, return_inverse=True, return_counts=True)
        pair = ccount[cinv] == 2  # both orientations present (never for self-loops: those are one key)
        if pair.any():
            wsum = np.bincount(cinv, weights=w, minlength=len(cuniq))
            wmax = np.full(len(cuniq), -np.inf)
            np.maximum.at(wmax, cinv, w)
            wmin = np.full(len(cuniq), np.inf)
            np.minimum.at(wmin, cinv, w)
            same = np.isclose(wmax, wmin)
            cw = np.where((ccount == 2) & same, wmax, wsum)
            n_mirrored = int(np.count_nonzero((ccount == 2) & same))
            n_conflict = int(np.count_nonzero((ccount == 2) & ~same))
            if n_conflict:
                warnings.warn(
                    f"{source}: {n_conflict} undirected edge(s) listed in both directions with different "
                    "weights; the weights were summed.",
                    GraphDataWarning,
                    stacklevel=3,
                )
                report["duplicate_edges_merged"] += n_conflict
        else:  # each pair once: its weight moves to the pair's place in cuniq's order (not w's, uniq's order)
            cw = np.bincount(cinv, weights=w, minlength=len(cuniq))
        src, dst, w = cuniq // n, cuniq % n, cw
        if n_mirrored:
            logger.info("%s: %d undirected edges listed in both directions, stored once.", source, n_mirrored)
    report["edges_listed_both_directions"] = n_mirrored

    loops = src == dst
    n_loops = int(np.count_nonzero(loops))
    report["self_loops"] = n_loops
    if n_loops:
        warnings.warn(
            f"{source}: {n_loops} self-loop(s) kept (a walk may stay on a node for a step).",
            GraphDataWarning,
            stacklevel=3,
        )

    if not directed:
        keep = ~loops
        src, dst, w = (
            np.concatenate([src, dst[keep]]),
            np.concatenate([dst, src[keep]]),
            np.concatenate([w, w[keep]]),
        )
    order = np.lexsort((dst, src))
    src, dst, w = src[order], dst[order], w[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])

    graph = Graph(
        indptr=indptr,
        indices=dst.astype(np.int32),
        weights=w,
        nodes=list(nodes),
        directed=directed,
        weighted=weights is not None,
        sides=sides,
        report=report,
        sides_from=(sides_from or source) if sides is not None else None,
    )
    isolated = graph.isolated
    report["isolated_nodes"] = len(isolated)
    sizes = graph.component_sizes()
    linked = np.ones(n, dtype=bool)
    linked[[graph.index_of(u) for u in isolated]] = False
    if len(np.unique(graph.component_labels()[linked])) > 1:  # isolated nodes alone are warned about above
        # no walk crosses from one component to another, so their nodes are never in each other's answers and
        # a small component is embedded from its few nodes alone: a fact that changes what the answers mean
        warnings.warn(
            f"{source}: {len(sizes)} connected components"
            + (" (weakly connected: edge direction ignored)" if directed else "")
            + f"; the largest holds {int(sizes.max())} of {n} nodes: nodes of different components never "
            "appear in each other's answers.",
            GraphDataWarning,
            stacklevel=3,
        )
    if isolated:
        kind = "no edge in either direction" if directed else "no neighbours"
        warnings.warn(
            f"{source}: {len(isolated)} node(s) with {kind} (e.g. {isolated[:3]}): they cannot be embedded.",
            GraphDataWarning,
            stacklevel=3,
        )
    if directed:
        # a sink (a paper that cites nothing) starts no walk, but the walks that reach it end there and embed
        # it: it is not "unembeddable"; what the user should know is that walks stop short at it
        sinks = graph.sinks
        report["sink_nodes"] = len(sinks)
        if sinks:
            warnings.warn(
                f"{source}: {len(sinks)} node(s) with incoming but no outgoing edges (e.g. {sinks[:3]}): walks "
                "stop there, so these nodes start no walk and are embedded only from the walks that reach "
                "them (if the edges have no direction, read the graph as undirected).",
                GraphDataWarning,
                stacklevel=3,
            )
    return graph


def _read_lines(p: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file; undecodable bytes are a :class:`DataError` naming the line.

    Each line is decoded on its own, so the line number and byte named are those of the bad byte itself.
    """
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                # Excel's "Unicode text" and PowerShell's default: the latin-1 advice below would garble it
                raise DataError(
                    f"{p}: UTF-16 text (it starts with a UTF-16 byte-order mark); expected UTF-8: convert it, "
                    "e.g. with iconv -f UTF-16 -t UTF-8, or save it as UTF-8 text."
                )
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # UTF-8 byte-order mark
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{p}:{lineno}: not UTF-8 text (byte {raw[exc.start : exc.start + 1]!r} at column "
                    f"{exc.start + 1}); expected a UTF-8 text file (convert it, e.g. with "
                    "iconv -f latin1 -t utf-8)."
                ) from None


#: First-line words that name columns rather than nodes: such a line is a header, not an edge or a label.
_NODE_WORDS = frozenset(
    [
        "source",
        "target",
        "src",
        "dst",
        "from",
        "to",
        "u",
        "v",
        "node",
        "node1",
        "node2",
        "node_1",
        "node_2",
        "id",
        "id1",
        "id2",
        "id_1",
        "id_2",
        "head",
        "tail",
        "source_node",
        "target_node",
        "from_node",
        "to_node",
        "start",
        "end",
        "vertex",
        "name",
        "node_id",
        "nodeid",
    ]
)
_LABEL_WORDS = frozenset(
    ["label", "labels", "class", "classes", "category", "group", "community", "y", "target", "tag"]
)
_WEIGHT_WORDS = frozenset(["weight", "weights", "w", "value", "count", "strength"])


def _header_kind(parts: list[str], *, labels: bool) -> bool:
    """Whether the first data line is a header row (``source target weight``, ``node label``)."""
    low = [t.lower().strip("\"'") for t in parts]
    if labels:
        return len(low) == 2 and low[0] in _NODE_WORDS and low[1] in _LABEL_WORDS
    if len(low) == 3 and low[2] in _WEIGHT_WORDS:
        return True
    return len(low) >= 2 and low[0] in _NODE_WORDS and low[1] in _NODE_WORDS and low[0] != low[1]


def _skip_header(p: Path, lineno: int, line: str) -> None:
    warnings.warn(
        f"{p}:{lineno}: {line[:80]!r} read as a header row (column names), not as data.",
        GraphDataWarning,
        stacklevel=3,
    )


_QUOTES = "\"'"


def _quote_end(line: str, i: int, sep: str | None = None) -> int:
    """End (exclusive) of the quoted field opening at ``line[i]``, or -1 when ``line[i]`` opens none.

    A quote opens a field only at the field's start (line start, after whitespace, a comma or ``sep``) and only
    if its match closes the field (followed by the line end, whitespace, a comma or ``sep``): an apostrophe
    inside an id (``O'Brien``) or an id starting with one that is never closed stays literal.
    """
    if line[i] not in _QUOTES:
        return -1
    if i > 0 and not (line[i - 1] in " \t," or (sep and line.endswith(sep, 0, i))):
        return -1
    close = line.find(line[i], i + 1)
    if close < 0:
        return -1
    end = close + 1
    if end < len(line) and not (line[end] in " \t," or (sep and line.startswith(sep, end))):
        return -1
    return end


def _scan(line: str, sep: str | None = None) -> tuple[str, str, bool]:
    """The data part of a stripped line, the same with quoted fields blanked (for sniffing the delimiter), and
    whether a trailing comment was cut: ``#`` at the line start or after whitespace, outside quotes."""
    skeleton = []
    i, n = 0, len(line)
    while i < n:
        end = _quote_end(line, i, sep)
        if end > 0:
            skeleton.append("_" * (end - i))
            i = end
            continue
        if line[i] == "#" and (i == 0 or line[i - 1].isspace()):
            data = line[:i].rstrip()
            return data, "".join(skeleton)[: len(data)], True
        skeleton.append(line[i])
        i += 1
    return line, "".join(skeleton), False


def _split(line: str, sep: str | None) -> list[str]:
    """The fields of a data line (see :func:`_scan`): split on ``sep`` (``None``: runs of whitespace), each
    field stripped, and a field in matching quotes (``"New York"``, ``'x'``) taken without them."""
    fields: list[str] = []
    i, n = 0, len(line)

    def blank(j: int) -> bool:  # whitespace that is not (the start of) the separator
        return line[j].isspace() and not (sep and line.startswith(sep, j))

    while True:
        while i < n and blank(i):
            i += 1
        if sep is None and i >= n:
            return fields
        start = i
        end = _quote_end(line, i, sep) if i < n else -1
        if end > 0:
            j = end
            while j < n and blank(j):
                j += 1
            if j >= n:
                fields.append(line[start + 1 : end - 1])
                return fields
            if sep is None or line.startswith(sep, j):
                fields.append(line[start + 1 : end - 1])
                i = j + (len(sep) if sep else 0)
                continue
        if sep is None:
            while i < n and not line[i].isspace():
                i += 1
            fields.append(line[start:i])
            continue
        j = line.find(sep, start)
        if j < 0:
            fields.append(line[start:].strip())
            return fields
        fields.append(line[start:j].strip())
        i = j + len(sep)


#: a weight written with a decimal comma (2,5), as files separated by semicolons write them
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def _sniff_delimiter(skeleton: str) -> str | None:
    if "\t" in skeleton:
        return "\t"
    if "," in skeleton:
        # u;v;2,5 (a spreadsheet's export where the comma is the decimal mark) is three columns separated by
        # semicolons, not the two comma-separated nodes 'u;v;2' and '5'
        semi = skeleton.split(";")
        if len(semi) == 3 and _DECIMAL_COMMA.fullmatch(semi[2].strip()):
            return ";"
        return ","
    return None  # any run of whitespace


def _weight(text: str, sep: str | None) -> float:
    """A weight column's number; in a file separated by semicolons, a decimal comma (2,5) is read as one."""
    if sep == ";" and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    return float(text)


_SEP_WORDS = {"\t": "tabs", ",": "commas", None: "spaces"}


def _delimiter_hint(line: str, sep: str | None, ncols: int) -> str:
    """What to add to a column-count error on a line that would have ``ncols`` columns with another delimiter
    (a space-separated line in a tab file, a tab file read with ``--sep ','``), else ``""``."""
    for other in ("\t", ",", None):
        if other == sep or (other is not None and other not in line):
            continue
        if len(_split(line, other)) == ncols:
            used = _SEP_WORDS.get(sep, repr(sep))
            return (
                f" This line separates its columns with {_SEP_WORDS[other]}, the first data line with {used}: "
                "use one delimiter throughout."
            )
    return ""


def _comment_hint(cut: bool) -> str:
    """What to add to a column-count error on a line whose end was read as a comment."""
    if not cut:
        return ""
    return " (a '#' at the line start or after whitespace starts a comment: quote an id that begins with '#')"


def read_edgelist(
    path: str | os.PathLike[str],
    *,
    directed: bool = False,
    delimiter: str | None = "auto",
    weighted: bool | None = None,
) -> Graph:
    """Read ``u v [weight]`` lines (tab, comma or whitespace separated; semicolons where a first line such as
    ``u;v;2,5`` has a weight with a decimal comma, which is read in files separated by semicolons).

    The delimiter and whether a weight column exists are taken from the first data line unless given; every
    later line must have the same number of columns.  Weights must be finite and > 0: a zero or negative
    weight has no meaning as a transition probability, so it is an error with the line number, not a guess.

    Comments and quotes, as networkx and most edge-list exports write them: ``#`` at the start of a line or
    after whitespace starts a comment that runs to the line end (``a b 2  # met twice`` is the edge a-b of
    weight 2), while a ``#`` inside an id (``C#``) is kept.  An id in matching double or single quotes is read
    without them (``"New York" Boston`` and ``'x' y`` name the nodes ``New York`` and ``x``); quotes are also
    how an id holds the delimiter, a space or a leading ``#``.  An apostrophe inside an id (``O'Brien``) is
    kept.  A line whose column count is wrong after its comment was cut is an error naming the line.

    The two columns declare a bipartite graph's sides (``Graph.sides``, first column 0, second 1) when no node
    appears in both and each holds at least two nodes: every line is then person -> item (woman -> event,
    department -> course), the people-items graphs whose "similar" questions keep to one side.  A tree
    written parent -> child, a path or a grid has nodes in both columns, so it is not declared bipartite
    even though it could be 2-coloured; neither is a star written hub -> leaf (a side of one node).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Edge list {str(p)!r} does not exist or is not a file.")
    if delimiter == "":
        raise DataError("delimiter must be 'auto', None (any whitespace) or a non-empty string. Got ''.")
    ids: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    wts: list[float] = []
    ncols = 0
    sep: str | None = None
    header_checked = False
    first_line: tuple[int, str] | None = None  # (line number, text) of the first edge
    for lineno, raw in _read_lines(p):
        line, skeleton, cut = _scan(raw.strip(), None if delimiter == "auto" else delimiter)
        if not line:
            continue
        if ncols == 0:
            sep = _sniff_delimiter(skeleton) if delimiter == "auto" else delimiter
        parts = _split(line, sep)
        if ncols == 0 and not header_checked:
            header_checked = True
            if _header_kind(parts, labels=False):
                _skip_header(p, lineno, line)
                continue
        if ncols == 0:
            ncols = len(parts)
            if ncols not in (2, 3):
                other = next((c for c in "\t;,|" if c in line and c != sep), None) if ncols == 1 else None
                sep_hint = (
                    f" The line holds {other!r}: if it separates the columns, pass delimiter={other!r} (--sep "
                    f"{'tab' if other == chr(9) else repr(other)} on the command line)."
                    if other
                    else ""
                )
                raise DataError(
                    f"{p}:{lineno}: expected 2 columns (u v) or 3 (u v weight), found {ncols}: "
                    f"{raw.strip()[:80]!r}{_comment_hint(cut)}.{sep_hint}"
                )
            if weighted is True and ncols == 2:
                raise DataError(f"{p}:{lineno}: weighted=True but the line has no weight column.")
        if len(parts) != ncols:
            raise DataError(
                f"{p}:{lineno}: expected {ncols} columns like the first data line, found {len(parts)}: "
                f"{raw.strip()[:80]!r}{_comment_hint(cut)}.{_delimiter_hint(line, sep, ncols)}"
            )
        u, v = parts[0], parts[1]
        if not u or not v:
            raise DataError(f"{p}:{lineno}: empty node id in {line[:80]!r}.")
        if ncols == 3 and weighted is not False:  # unweighted: the third column is not read at all
            try:
                wt = _weight(parts[2], sep)
            except ValueError:
                hint = (
                    " The columns are split on spaces: a node id holding a space splits in two. Quote such ids "
                    '("Evelyn Jefferson") or separate the columns with tabs or commas (--sep tab or --sep comma, '
                    "delimiter= in Python); if the third column is no weight, pass --unweighted (weighted=False)."
                    if sep is None or sep == " "
                    else " If the third column is no weight, pass --unweighted (weighted=False in Python)."
                )
                raise DataError(
                    f"{p}:{lineno}: weight {parts[2]!r} is not a number (expected a positive number).{hint}"
                ) from None
            if not math.isfinite(wt) or wt <= 0:
                raise DataError(f"{p}:{lineno}: weight {parts[2]!r} must be a finite number > 0.")
            wts.append(wt)
        if not src:
            first_line = (lineno, line)
        src.append(ids.setdefault(u, len(ids)))
        dst.append(ids.setdefault(v, len(ids)))
    if not src:
        raise DataError(f"Edge list {str(p)!r} is empty (no edge lines).")
    if len(src) > 1 and first_line is not None:
        # a header of other words than _NODE_WORDS ("person,event", "user_id,item_id") is read as an edge
        # between two nodes no other line names: a two-node component of its own, which says so
        seen = np.bincount(np.concatenate([src, dst]), minlength=len(ids))
        if seen[src[0]] == 1 and seen[dst[0]] == 1:
            warnings.warn(
                f"{p}:{first_line[0]}: the first line {first_line[1][:80]!r} links two nodes that no other line "
                "names (a component of its own): if it names the columns, remove it (a header of the usual "
                "words, such as 'source target weight', is skipped).",
                GraphDataWarning,
                stacklevel=2,
            )
    use_weights = ncols == 3 and weighted is not False
    return from_edges(
        np.asarray(src),
        np.asarray(dst),
        np.asarray(wts) if use_weights else None,
        list(ids),
        directed=directed,
        source=str(p),
        sides=_column_sides(src, dst, len(ids)),
        sides_from=f"the two columns of {p} (no node is in both)",
    )


def _column_sides(src: list[int], dst: list[int], n: int) -> np.ndarray | None:
    """0 for the first column's nodes and 1 for the second's, when the columns share no node and each holds at
    least two (a side of one node, a star's hub, leaves it no peer to be compared with); else ``None``."""
    in_src = np.zeros(n, dtype=bool)
    in_dst = np.zeros(n, dtype=bool)
    in_src[np.asarray(src, dtype=np.int64)] = True
    in_dst[np.asarray(dst, dtype=np.int64)] = True
    if (in_src & in_dst).any() or in_src.sum() < 2 or in_dst.sum() < 2:
        return None
    return in_dst.astype(np.int8)


def not_a_graph_hint(obj: Any) -> str:
    """The end of an error for an object that is neither a :class:`Graph` nor a networkx graph: what it is and
    which helper builds a :class:`Graph` from it."""
    kind = type(obj).__name__
    if isinstance(obj, np.ndarray) or hasattr(obj, "tocoo"):
        return (
            f"got {kind} (for an adjacency matrix use hyperselect.data.graph.from_scipy_sparse(matrix), which "
            "also takes a dense array)"
        )
    return (
        f"got {kind} (for an edge list use hyperselect.data.graph.from_edges(src, dst, weights, nodes), with "
        "src and dst indices into the list of node ids, or read_edgelist(path) for a file, or "
        "networkx.Graph(edges))"
    )


def is_networkx_graph(obj: Any) -> bool:
    """Duck-typed: what :func:`from_networkx` uses of a networkx graph is there."""
    return all(callable(getattr(obj, name, None)) for name in ("nodes", "edges", "is_directed"))


def from_networkx(g: Any, *, weight: str | None = "weight") -> Graph:
    """Convert a networkx graph; node ids become ``str(node)``, a ``bipartite`` node attribute gives sides.

    A ``bipartite`` attribute with exactly two values declares the sides (``Graph.sides``, the value that
    sorts first as text is side 0; nodes without it are -1), as networkx's bipartite generators and
    ``davis_southern_women_graph`` set it.  A graph without it is not declared bipartite, even if it could be
    2-coloured.  Weights must be numbers, finite and > 0.
    """
    if not is_networkx_graph(g):
        raise DataError(f"from_networkx expects a networkx graph; {not_a_graph_hint(g)}.")
    nodes = list(g.nodes())
    names = [str(u) for u in nodes]
    if len(set(names)) != len(names):
        raise DataError("Two networkx nodes have the same string form; node ids must be distinct as strings.")
    index = {u: i for i, u in enumerate(nodes)}
    edges = list(g.edges(data=True))
    if not nodes:
        raise DataError("The networkx graph has no nodes.")
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    weighted = weight is not None and any(weight in d for _, _, d in edges)
    w = None
    if weighted:
        w = np.ones(len(edges))
        for e, (u, v, d) in enumerate(edges):
            value = d.get(weight, 1.0)
            try:
                w[e] = float(value)
            except (TypeError, ValueError):
                raise DataError(
                    f"networkx edge ({u!r}, {v!r}) has weight {value!r}; expected a number (finite and > 0)."
                ) from None
        bad = np.flatnonzero(~np.isfinite(w) | (w <= 0))
        if len(bad):
            u, v, _ = edges[int(bad[0])]
            raise DataError(
                f"networkx edge ({u!r}, {v!r}) has weight {w[bad[0]]!r}; expected a finite number > 0."
            )
    sides = None
    attrs = [g.nodes[u].get("bipartite") for u in nodes]
    values = {a for a in attrs if a is not None}
    if len(values) == 2:
        first = sorted(values, key=str)[0]
        sides = np.asarray([-1 if a is None else (0 if a == first else 1) for a in attrs], dtype=np.int8)
    return from_edges(
        src,
        dst,
        w,
        names,
        directed=bool(g.is_directed()),
        source="networkx graph",
        sides=sides,
        sides_from="the networkx 'bipartite' node attribute",
    )


def from_scipy_sparse(
    matrix: Any, nodes: Sequence[Any] | None = None, *, directed: bool | None = None, weighted: bool = True
) -> Graph:
    """Convert a square scipy sparse adjacency; ``directed=None`` means directed unless the matrix is symmetric."""
    from scipy import sparse

    a = sparse.coo_matrix(matrix)
    if a.shape[0] != a.shape[1]:
        raise DataError(f"An adjacency matrix must be square, got shape {a.shape}.")
    n = a.shape[0]
    names = [str(u) for u in (range(n) if nodes is None else nodes)]
    if len(names) != n:
        raise DataError(f"{len(names)} node ids given for a {n}x{n} adjacency matrix.")
    data = np.asarray(a.data, dtype=np.float64)
    keep = data != 0
    bad = np.flatnonzero(~np.isfinite(data) | (data < 0))
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"Adjacency entry ({a.row[i]}, {a.col[i]}) is {data[i]!r}; expected a finite number >= 0."
        )
    if directed is None:
        csr = sparse.csr_matrix(a)
        directed = bool((abs(csr - csr.T) > 1e-12).nnz)
    row, col, data = a.row[keep], a.col[keep], data[keep]
    if not directed:  # keep one triangle: from_edges adds the mirror
        upper = row <= col
        row, col, data = row[upper], col[upper], data[upper]
    return from_edges(
        row, col, data if weighted else None, names, directed=directed, source="sparse adjacency matrix"
    )


# ---------------------------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class NodeLabels:
    """Labels per node (several per node = multi-label), in file order."""

    labels: dict[str, tuple[str, ...]]
    classes: list[str]
    source: str = "labels"

    @property
    def multilabel(self) -> bool:
        return any(len(v) > 1 for v in self.labels.values())

    def align(
        self,
        nodes: Sequence[str],
        embedded: np.ndarray | None = None,
        *,
        unembedded: str = "have no neighbours and no embedding",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``nodes`` that carry labels and a 0/1 indicator matrix for them (one column per class).

        Nodes only in the label file and labelled nodes that could not be embedded (``embedded`` False; the
        warning says they ``unembedded``) are reported, not silently dropped.
        """
        index = {name: i for i, name in enumerate(nodes)}
        label_only = [u for u in self.labels if u not in index]
        if label_only:
            warnings.warn(
                f"{self.source}: {len(label_only)} labelled node(s) are not in the graph (label-only, "
                f"e.g. {label_only[:3]}): no neighbours, cannot be embedded; they are left out.",
                GraphDataWarning,
                stacklevel=2,
            )
        rows = [index[u] for u in self.labels if u in index]
        if embedded is not None:
            dropped = [nodes[r] for r in rows if not embedded[r]]
            if dropped:
                warnings.warn(
                    f"{self.source}: {len(dropped)} labelled node(s) {unembedded} "
                    f"(e.g. {dropped[:3]}); they are left out.",
                    GraphDataWarning,
                    stacklevel=2,
                )
            rows = [r for r in rows if embedded[r]]
        cidx = {c: j for j, c in enumerate(self.classes)}
        y = np.zeros((len(rows), len(self.classes)), dtype=np.int8)
        for i, r in enumerate(rows):
            for lab in self.labels[nodes[r]]:
                y[i, cidx[lab]] = 1
        return np.asarray(rows, dtype=np.int64), y


def read_labels(path: str | os.PathLike[str], *, delimiter: str | None = "auto") -> NodeLabels:
    """Read ``node<TAB>label`` lines; a node on several lines has several labels.

    Comments and quotes are read as in :func:`read_edgelist`: ``#`` at the line start or after whitespace
    starts a comment (``a  x  # checked by hand`` labels ``a`` with ``x``), and a node id or label in matching
    quotes (``"New York"  city``) is taken without them.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Label file {str(p)!r} does not exist or is not a file.")
    if delimiter == "":
        raise DataError("delimiter must be 'auto', None (any whitespace) or a non-empty string. Got ''.")
    labels: dict[str, list[str]] = {}
    classes: dict[str, None] = {}
    sep: str | None = None
    seen_data = False
    for lineno, raw in _read_lines(p):
        line, skeleton, cut = _scan(raw.strip(), None if delimiter == "auto" else delimiter)
        if not line:
            continue
        first = not seen_data
        if first:
            sep = _sniff_delimiter(skeleton) if delimiter == "auto" else delimiter
            seen_data = True
        parts = _split(line, sep)
        if first and _header_kind(parts, labels=True):
            _skip_header(p, lineno, line)
            continue
        if len(parts) != 2 or not parts[0] or not parts[1]:
            spaced = (
                " The columns are split on spaces here, so a label holding a space ('Mr. Hi') splits in "
                'two: separate node and label with a tab (node<TAB>label), or quote the label ("Mr. Hi").'
                if sep is None and len(parts) > 2
                else ""
            )
            raise DataError(
                f"{p}:{lineno}: expected 2 columns (node label), found {len(parts)}: "
                f"{raw.strip()[:80]!r}{_comment_hint(cut)}.{spaced}"
            )
        node, lab = parts
        have = labels.setdefault(node, [])
        if lab not in have:
            have.append(lab)
        classes.setdefault(lab, None)
    if not labels:
        raise DataError(f"Label file {str(p)!r} is empty (no node/label lines).")
    return NodeLabels({k: tuple(v) for k, v in labels.items()}, sorted(classes), source=str(p))


def labels_from_mapping(mapping: Mapping[Any, Any | Iterable[Any]], source: str = "labels") -> NodeLabels:
    """Labels from ``{node: label}`` or ``{node: [labels]}`` (e.g. a networkx node attribute)."""
    out: dict[str, tuple[str, ...]] = {}
    for node, lab in mapping.items():
        labs = [lab] if isinstance(lab, str) or not isinstance(lab, Iterable) else list(lab)
        out[str(node)] = tuple(dict.fromkeys(str(x) for x in labs))
    classes = sorted({c for v in out.values() for c in v})
    return NodeLabels(out, classes, source=source)
