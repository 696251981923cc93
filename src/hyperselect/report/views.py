"""Tolerant readers: a run directory's JSON turned into the plain structures the report draws.

Several commands write the JSON the report reads (``train``, ``tune``, ``compare``, ``text``, ``graph``) and
their formats grow over time.  Each reader here accepts the documented keys plus the obvious spellings of
the same fact, returns ``None`` (or an empty list) when the fact is absent, and never raises on a missing
key: a section is shown only when its data is present.  Malformed values that are present do raise
(``TypeError``/``ValueError``/``KeyError``); the HTML builder reports those per section.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperselect.errors import DataError
from hyperselect.evaluate.verdict import FLAT_SLOPE, LEVEL_GAP
from hyperselect.train.metrics import metric_label

log = logging.getLogger(__name__)

__all__ = [
    "KNOWN_FILES",
    "RunData",
    "check_run_dir",
    "classification_reports",
    "diagnostics",
    "graph_view",
    "headline",
    "load_run",
    "malformed_fields",
    "misclassified",
    "projection_view",
    "run_origins",
    "search_view",
    "text_valid_scores",
    "text_verdict",
    "tour_view",
    "training_view",
    "verdict_view",
]

KNOWN_FILES = ("result.json", "verdict.json", "text_result.json", "trials.csv", "study.journal", "tour.json")
#: What an interrupted ``compare --out DIR`` writes instead of verdict.json (evaluate/verdict.py PARTIAL_FILE):
#: read only where the folder holds no verdict.json, and drawn marked partial.
PARTIAL_VERDICT = "verdict.partial.json"
#: ``hyperselect demo``'s manifest: the tour's steps, each with its result folders and their data (demo.py)
TOUR_FILE = "tour.json"
#: What ``hyperselect graph embed|similar|recommend|classify|tune --out DIR`` writes (cli_graph.py).
GRAPH_FILES = {
    "embed.json": "embed",
    "similar.json": "similar",
    "recommend.json": "recommend",
    "classify.json": "classify",
    "tune.json": "tune",
}
EMBEDDINGS_DIR = "embeddings"  # Node2Vec.save(format="npy"): embeddings.npy + nodes.json
WORD2VEC_FILE = (
    "embeddings.txt"  # Node2Vec.save(format="word2vec"): "count dimensions", then "node x1 x2 ..."
)
TRIALS_CSV_LIMIT = 5000


@dataclass
class RunData:
    """Everything the report reads from a run directory; ``None`` where a file is absent."""

    run_dir: Path
    result: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    graph: dict[str, Any] | None = None
    trials_csv: list[dict[str, str]] | None = None
    #: per trial number, the intermediate values (epoch, score) read from the run's Optuna journal file
    curves: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: file name -> why it could not be read (invalid JSON, not UTF-8, ...): the page says so in its place
    unreadable: dict[str, str] = field(default_factory=dict)
    #: file name -> its keys whose values have another type than hyperselect writes, each described (those
    #: values are left out, so their sections are drawn without them)
    mistyped: dict[str, dict[str, str]] = field(default_factory=dict)
    #: file name -> its fields (``learning_curve.network``, ``comparisons.svm.p_value``) whose values are
    #: malformed (a string for a number, lists of mismatched lengths), each described: the sections leave them
    #: out and the page names them (``strict``: raised)
    malformed: dict[str, dict[str, str]] = field(default_factory=dict)
    #: a deliberate collection of runs (``hyperselect demo``): its steps, each ``{name, title, parts}`` with
    #: parts ``{folder, data, what}``, every folder a run of its own (see :func:`tour_view`)
    tour: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not any((self.result, self.verdict, self.text, self.graph, self.trials_csv, self.tour))


_OBJ, _LIST, _STR, _NUM = (dict,), (list,), (str,), (int, float)
#: The JSON types of the top-level keys that hyperselect's commands write, per file (null is always allowed: a
#: NaN is written as null).  A key of another type is named on the page (``strict``: raised), rather than its
#: section silently left out; keys not listed here are read leniently by the views.
KEY_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "result.json": {
        **dict.fromkeys(("config", "history", "metrics", "best_config", "test_metrics"), _OBJ),
        **dict.fromkeys(("importances", "counts", "space", "verdict", "data"), _OBJ),
        **dict.fromkeys(("diagnostics", "activation_stats", "rungs", "trials"), _LIST),
        **dict.fromkeys(("task", "status", "study_name", "score_name"), _STR),
        **dict.fromkeys(("best_valid_score", "best_epoch", "best_trial", "refit_epochs", "seconds"), _NUM),
    },
    "verdict.json": {  # Verdict.to_dict (evaluate/verdict.py)
        **dict.fromkeys(("recommendation", "preferred_model", "score_name", "tuned_with"), _STR),
        **dict.fromkeys(("metric", "best_network", "best_baseline"), _STR),
        **dict.fromkeys(("decision_p_basis", "decision_p_baseline"), _STR),
        **dict.fromkeys(("models", "costs"), (list, dict)),
        "candidates": _LIST,
        "reasons": (list, str),
        **dict.fromkeys(("test", "effect_size", "learning_curve", "data", "comparisons", "protocol"), _OBJ),
        **dict.fromkeys(("network", "baseline", "skipped", "seconds"), _OBJ),
        **dict.fromkeys(("alpha", "network_win_p_value", "decision_p_value"), _NUM),
    },
    "text_result.json": {
        **dict.fromkeys(("labels", "misclassified", "embeddings", "point_labels"), _LIST),
        **dict.fromkeys(("models", "data"), _OBJ),
        "verdict": _STR,
    },
    "classify.json": {"models": _OBJ, "n_nodes": _NUM},
    "recommend.json": {"peers": _LIST, "add": _LIST, "substitutes": _OBJ},
    "similar.json": {"answers": _LIST},
    "tune.json": {"best_params": _OBJ, "trials": _LIST},
    "embed.json": {"graph": _OBJ, "timings": _OBJ},
    "tour.json": {"steps": _LIST},
}
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}
KEY_TYPES[PARTIAL_VERDICT] = {
    **dict.fromkeys(("score_name", "interrupted_during", "note"), _STR),
    **dict.fromkeys(("data", "skipped", "settings", "seconds"), _OBJ),
    "candidates": _LIST,
}
KEY_TYPES["verdict.json"].update({"preferred_because": _STR, "searches": _OBJ})


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return repr(value) if len(value) <= 20 else "a string"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: the numbers compare writes per baseline test (TestResult.to_dict + p_holm) and per candidate
_COMPARISON_NUMBERS = ("mean_diff", "ci_low", "ci_high", "statistic", "p_value", "p_holm", "effect_size")
_CANDIDATE_NUMBERS = (
    "valid_score",
    "cv_mean",
    "cv_std",
    "fit_seconds",
    "predict_seconds_per_1k",
    "n_parameters",
    "test_score",
)


def malformed_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    """The fields of compare's verdict.json (or its partial file) nested under the keys :data:`KEY_TYPES`
    checks that are not as compare writes them, each described: the learning curve's lists (numbers, one per
    fraction), each baseline test's numbers, each candidate's numbers and its cv_scores (a list of numbers).
    A null number is a NaN as written; a null list is not."""
    out: dict[str, str] = {}

    def number(path: str, value: Any) -> None:
        if value is not None and not _is_number(value):
            out[path] = f"{path} is {_described(value)} (expected a number)"

    def numbers(path: str, value: Any, length: int | None = None, what: str = "") -> bool:
        if not isinstance(value, list):
            out[path] = f"{path} is {_described(value)} (expected a list of numbers)"
            return False
        bad = [x for x in value if x is not None and not _is_number(x)]
        if bad:
            out[path] = f"{path} holds {_described(bad[0])} (expected numbers)"
            return False
        if length is not None and len(value) != length:
            out[path] = f"{path} has {len(value)} value{'s' if len(value) != 1 else ''} for {length} {what}"
            return False
        return True

    raw_lc = obj.get("learning_curve")
    lc: Mapping[str, Any] = raw_lc if isinstance(raw_lc, Mapping) else {}
    compare_curve = any(k in lc for k in ("n_rows", "network", "baseline"))
    if compare_curve and "fractions" in lc and numbers("learning_curve.fractions", lc.get("fractions")):
        n = len(lc["fractions"])
        for key in ("n_rows", "network", "baseline", "gap"):
            if key in lc:
                numbers(f"learning_curve.{key}", lc[key], n, "fractions")
    comparisons = obj.get("comparisons")
    if isinstance(comparisons, Mapping):
        for name, c in comparisons.items():
            if not isinstance(c, Mapping):
                out[f"comparisons.{name}"] = f"comparisons.{name} is {_described(c)} (expected an object)"
                continue
            for key in _COMPARISON_NUMBERS:
                number(f"comparisons.{name}.{key}", c.get(key))
    candidates = obj.get("candidates")
    if isinstance(candidates, list):
        for i, c in enumerate(candidates):
            if not isinstance(c, Mapping):
                out[f"candidates[{i}]"] = f"candidates[{i}] is {_described(c)} (expected an object)"
                continue
            label = f"candidates[{i}]" + (f" ({c['name']})" if isinstance(c.get("name"), str) else "")
            for key in _CANDIDATE_NUMBERS:
                if c.get(key) is not None and not _is_number(c[key]):
                    out[f"candidates[{i}].{key}"] = (
                        f"{label}.{key} is {_described(c[key])} (expected a number)"
                    )
            if "cv_scores" in c and not (
                isinstance(c["cv_scores"], list) and all(x is None or _is_number(x) for x in c["cv_scores"])
            ):
                out[f"candidates[{i}].cv_scores"] = (
                    f"{label}.cv_scores is {_described(c['cv_scores'])} (expected a list of numbers)"
                )
    return out


def mistyped_keys(name: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """``obj``'s keys (file ``name``) whose values are not of the type hyperselect writes there, each described."""
    out = {}
    for key, types in KEY_TYPES.get(name, {}).items():
        value = obj.get(key)
        if value is None or (isinstance(value, types) and not isinstance(value, bool)):
            continue
        found = "a boolean" if isinstance(value, bool) else _JSON_NAMES.get(type(value), type(value).__name__)
        expected = " or ".join(dict.fromkeys(_JSON_NAMES[t] for t in types))
        out[key] = f"{key!r} is {found}; expected {expected}"
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}).") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    except RecursionError as exc:
        raise DataError(f"{path}: JSON nested too deeply to be a run's result.") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a JSON object at the top level, found {type(obj).__name__}.")
    return obj


def _read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}: line {line}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected the trials "
            "table written by hyperselect tune."
        ) from exc
    rows: list[dict[str, str]] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for i, row in enumerate(reader):
            if i >= TRIALS_CSV_LIMIT:
                break
            rows.append({str(k): "" if v is None else str(v) for k, v in row.items()})
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: not a CSV table ({exc}).") from exc
    return rows


def _read_embeddings(folder: Path) -> dict[str, Any] | None:
    """Node vectors saved by ``graph embed --out``; nodes.json is written last, so its presence marks a full save."""
    if not (folder / "nodes.json").is_file() or not (folder / "embeddings.npy").is_file():
        return None
    import numpy as np

    meta = _read_json(folder / "nodes.json")
    try:
        vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # a truncated or foreign file; never unpickled
        raise DataError(
            f"{folder / 'embeddings.npy'}: not a NumPy array of node vectors ({type(exc).__name__}: {exc})."
        ) from exc
    nodes = [str(n) for n in meta.get("nodes", [])]
    if vectors.ndim != 2 or len(nodes) != len(vectors):
        raise DataError(
            f"{folder / 'embeddings.npy'}: {vectors.shape} vectors for {len(nodes)} nodes in nodes.json."
        )
    keep = ~np.isnan(vectors).any(axis=1)  # nodes without neighbours have no vector
    return {
        "nodes": [n for n, k in zip(nodes, keep, strict=True) if k],
        "vectors": vectors[keep].tolist(),
        "labels": meta.get("labels"),
        "params": meta.get("params"),
    }


def _read_word2vec(path: Path) -> dict[str, Any] | None:
    """Node vectors saved by ``graph embed --format word2vec``, read as ``Node2Vec.load`` reads them (a
    DataError naming the line where the file is not that format)."""
    from hyperselect.represent.node2vec.model import read_word2vec

    nodes, vectors, _ = read_word2vec(path)
    return {"nodes": nodes, "vectors": vectors.tolist()} if len(nodes) else None


def _journal_curves(path: Path, study_name: Any) -> dict[int, list[tuple[float, float]]]:
    """Each trial's intermediate values from an Optuna journal file, read-only; ``{}`` when unreadable.

    ``tune``'s result.json carries no learning curves; the study journal next to it does.
    """
    if not isinstance(study_name, str):
        return {}
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(path)))
        study = optuna.load_study(study_name=study_name, storage=storage)
        return {
            t.number: sorted(
                (float(k), float(v)) for k, v in t.intermediate_values.items() if num(v) is not None
            )
            for t in study.get_trials(deepcopy=False)
        }
    except Exception as exc:  # the curves are a bonus: the rest of the report does not depend on them
        log.info("learning curves not read from %s: %s: %s", path, type(exc).__name__, exc)
        return {}


def _journal_result(path: Path) -> dict[str, Any] | None:
    """A search's trials read from its Optuna journal, for a run directory without ``result.json``.

    ``tune`` writes result.json only once a trial has produced a score: when every trial failed or diverged,
    or the search was stopped first, the journal is all the run directory holds, and it says why.
    ``None`` when the journal cannot be read (logged).
    """
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(path)))
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        if not names:
            return None
        study = optuna.load_study(study_name=names[-1], storage=storage)
        trials = study.get_trials(deepcopy=False)
        meta = study.user_attrs.get("hyperselect")
        direction = study.direction.name.lower()
    except Exception as exc:  # a journal of another tool, or torn: the report says the run holds nothing
        log.info("trials not read from %s: %s: %s", path, type(exc).__name__, exc)
        return None
    from hyperselect.tasks import Task

    meta = meta if isinstance(meta, Mapping) else {}
    task = meta.get("task")
    rows = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": dict(t.params),
            "intermediate_values": {str(k): v for k, v in t.intermediate_values.items()},
            "epochs": t.user_attrs.get("epochs"),
            "seconds": t.user_attrs.get("seconds"),
            "reason": t.user_attrs.get("reason") or t.system_attrs.get("fail_reason"),
        }
        for t in trials
    ]
    return {
        "source": path.name,
        "study_name": names[-1],
        "other_studies": names[:-1],
        "direction": direction,
        "task": task,
        "score_name": Task(task).score_name if task in set(Task) else None,
        "space": meta.get("space"),
        "rungs": meta.get("rungs"),
        "rung_rows": meta.get("rung_rows"),
        "trials": rows,
        "counts": {k: sum(r["state"] == k for r in rows) for k in ("COMPLETE", "PRUNED", "FAIL")},
    }


def load_run(run_dir: str | Path, *, strict: bool = False) -> RunData:
    """Read the run directory's JSON (and ``trials.csv``).

    A file that cannot be read (invalid JSON, not UTF-8 text) is left out and its reason kept in
    ``unreadable``, so that the others are still drawn; ``strict=True`` raises instead.  Raises
    :class:`DataError` when the directory does not exist or holds nothing readable that the report draws.
    """
    root = Path(run_dir)
    check_run_dir(root)
    run = RunData(run_dir=root)

    def attempt(name: str, reader: Callable[[Path], Any]) -> Any:
        try:
            obj = reader(root / name)
        except DataError as exc:
            if strict:
                raise
            run.unreadable[name] = str(exc)
            return None
        wrong = mistyped_keys(name, obj) if isinstance(obj, Mapping) else {}
        if wrong and strict:
            raise DataError(
                f"{root / name}: {'; '.join(wrong.values())} (as hyperselect's commands write it)."
            )
        if wrong:
            run.mistyped[name] = wrong
            obj = {k: v for k, v in obj.items() if k not in wrong}
        bad = malformed_fields(obj) if name in ("verdict.json", PARTIAL_VERDICT) else {}
        if bad and strict:
            raise DataError(f"{root / name}: {'; '.join(bad.values())} (as hyperselect compare writes it).")
        if bad:
            run.malformed[name] = bad
        return obj

    if (root / "result.json").is_file():
        run.result = attempt("result.json", _read_json)
    if (root / "verdict.json").is_file():
        run.verdict = attempt("verdict.json", _read_json)
    elif (root / PARTIAL_VERDICT).is_file():  # an interrupted compare: what it had finished, marked partial
        partial = attempt(PARTIAL_VERDICT, _read_json)
        run.verdict = {**partial, "partial": True} if isinstance(partial, Mapping) and partial else None
    if (root / "text_result.json").is_file():
        run.text = attempt("text_result.json", _read_json)
    graph: dict[str, Any] = {}
    graph_files = sorted(p for p in root.glob("graph*.json") if p.is_file())  # one merged file, if a producer
    for p in graph_files:  # prefers that
        graph.update(attempt(p.name, _read_json) or {})
    for name, key in GRAPH_FILES.items():
        if (root / name).is_file():
            obj = attempt(name, _read_json)
            if obj is not None:
                graph[key] = obj
    emb = attempt(EMBEDDINGS_DIR, _read_embeddings)
    if emb is None and (root / WORD2VEC_FILE).is_file() and "embed" in graph:  # embed --format word2vec
        emb = attempt(WORD2VEC_FILE, _read_word2vec)
    if emb is not None:
        graph["embeddings"] = emb
    run.graph = graph or None
    if (root / "trials.csv").is_file():
        run.trials_csv = attempt("trials.csv", _read_csv)
    if (root / TOUR_FILE).is_file():
        run.tour = attempt(TOUR_FILE, _read_json)
    if run.result is not None and (root / "study.journal").is_file():
        study_name = run.result.get("study_name")
        run.curves = attempt("study.journal", lambda p: _journal_curves(p, study_name)) or {}
    elif run.result is None and (root / "study.journal").is_file():
        run.result = attempt("study.journal", _journal_result)
    read = [*KNOWN_FILES, *GRAPH_FILES, *(p.name for p in graph_files)]
    if run.verdict is not None and run.verdict.get("partial") is True:
        read.append(PARTIAL_VERDICT)
    run.files = sorted(name for name in read if (root / name).is_file() and name not in run.unreadable)
    if run.empty and (
        run.unreadable or run.mistyped
    ):  # nothing left to draw: the reasons, not a page of notices
        raise DataError(
            " ".join(
                [
                    *run.unreadable.values(),
                    *(f"{root / name}: {'; '.join(w.values())}." for name, w in run.mistyped.items()),
                ]
            )
        )
    if run.empty:
        found = (
            f"{', '.join(run.files)} {'holds' if len(run.files) == 1 else 'hold'} nothing the report can read "
            "(an empty JSON object, a CSV without rows, a journal without a study); "
            if run.files
            else ""
        )
        raise DataError(
            f"Run directory {str(root)!r} holds nothing to report: {found}expected result.json, verdict.json, "
            f"text_result.json, trials.csv or a graph command's {', '.join(GRAPH_FILES)} (written by "
            "hyperselect train, tune, compare, text or graph)."
        )
    return run


def check_run_dir(root: Path) -> None:
    """A DataError unless ``root`` is an existing folder (what a command's ``--out`` wrote)."""
    if not root.exists():
        raise DataError(f"Run directory {str(root)!r} does not exist.")
    if not root.is_dir():
        raise DataError(
            f"{str(root)!r} is a file; expected a run directory written by --out (of train, tune, compare, text "
            "or graph), holding result.json, verdict.json, text_result.json or graph outputs."
        )


# -------------------------------------------------------------------------------------------- helpers ---


def num(x: Any) -> float | None:
    """A finite float, or ``None`` (also for booleans, strings that are not numbers, NaN and inf)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def first(d: Mapping[str, Any] | None, *keys: str) -> Any:
    """The value of the first of ``keys`` present (and not ``None``) in ``d``."""
    if not isinstance(d, Mapping):
        return None
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def _named_rows(
    obj: Any, name_keys: tuple[str, ...] = ("name", "model", "label", "node")
) -> list[dict[str, Any]]:
    """``{name: value}`` or ``[{name: ..., ...}]`` as a list of dicts with a ``name`` key."""
    rows: list[dict[str, Any]] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            rows.append({"name": str(k), **v} if isinstance(v, Mapping) else {"name": str(k), "value": v})
    elif isinstance(obj, Sequence) and not isinstance(obj, str):
        for i, v in enumerate(obj):
            if isinstance(v, Mapping):
                name = first(v, *name_keys)
                rows.append({**v, "name": str(name if name is not None else i)})
    return rows


def _mean_std(xs: Sequence[Any]) -> tuple[float | None, float | None]:
    vals = [f for f in (num(x) for x in xs) if f is not None]
    if not vals:
        return None, None
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return mean, std


# ----------------------------------------------------------------------------------------------- tour ---


def tour_view(run: RunData) -> list[dict[str, Any]]:
    """The tour's steps ``{name, title, parts: [{folder, data, what, path}]}``; only parts whose folder is a
    subfolder of the run directory (a name, no path: the manifest cannot point the page elsewhere)."""
    tour = run.tour if isinstance(run.tour, Mapping) else {}
    steps = []
    for i, step in enumerate(tour.get("steps") or []):
        if not isinstance(step, Mapping):
            continue
        parts = []
        for part in step.get("parts") or []:
            folder = part.get("folder") if isinstance(part, Mapping) else None
            if not isinstance(folder, str) or folder in ("", ".", "..") or "/" in folder or "\\" in folder:
                continue
            path = run.run_dir / folder
            if path.is_dir():
                parts.append(
                    {
                        "folder": folder,
                        "data": str(part.get("data") or ""),
                        "what": str(part.get("what") or ""),
                        "path": path,
                    }
                )
        steps.append(
            {"name": str(step.get("name") or i + 1), "title": str(step.get("title") or ""), "parts": parts}
        )
    return steps


# -------------------------------------------------------------------------------------------- verdict ---

RECOMMENDATIONS = {
    "network": "Use the neural network",
    "baseline": "Use the classic baseline",
    "no_significant_difference": "No significant difference",
    # the text verdict's: embeddings + a linear model beat the classic, and a network on them adds nothing
    "embeddings": "Use the embeddings with logistic regression",
}
#: verdict.py's PREFERENCE_BASES: why the preferred model is the one to use, without a significant difference
PREFERENCES = {
    "cheaper": "prefer the cheaper model",
    "better_score": "prefer the better-scoring model, as neither is clearly cheaper",
}


def preferred_because(v: Mapping[str, Any]) -> str | None:
    """Why the verdict prefers its model (verdict.py's PREFERENCE_BASES), as recorded in ``preferred_because``
    or, in a verdict.json written before that was recorded, as its first reason says it."""
    because = v.get("preferred_because")
    if isinstance(because, str) and because:
        return because
    reasons = v.get("reasons")
    first_reason = (
        reasons if isinstance(reasons, str) else reasons[0] if isinstance(reasons, list) and reasons else ""
    )
    if not isinstance(first_reason, str):
        return None
    if "Prefer the cheaper" in first_reason or "prefer the cheaper" in first_reason:
        return "cheaper"
    if "Prefer the better scoring" in first_reason:
        return "better_score"
    return None


def headline(v: Mapping[str, Any], rec: str) -> str:
    """The recommendation in a line, naming the model to use and, without a significant difference, the
    basis the verdict chose it on (the cheaper model, or the better-scoring one where neither is clearly
    cheaper): the same choice and basis as the verdict's first reason."""
    own = v.get("headline")
    if isinstance(own, str) and own:  # a reader that words its verdict itself (the text verdict's embeddings)
        return own
    head = RECOMMENDATIONS.get(rec, rec.replace("_", " ") or "Verdict")
    model = v.get("preferred_model")
    model = model if isinstance(model, str) and model else None
    if rec == "no_significant_difference":
        basis = PREFERENCES.get(preferred_because(v) or "")
        if basis and model:
            # "prefer the better-scoring model (svm), as neither..." reads better with the name by the model
            first_part, _, rest = basis.partition(",")
            return f"{head}: {first_part} ({model})" + (f",{rest}" if rest else "")
        return f"{head}: prefer {model}" if model else head
    return f"{head} ({model})" if model and rec in ("network", "baseline") else head


def run_origins(run: RunData) -> dict[str, dict[str, str]]:
    """Per file that says it, the data it was computed on: ``{"source": ..., "task": ...}`` (what is known).

    A run folder given to several commands can hold one command's result.json next to another's verdict.json;
    where these disagree the page says so rather than draw them as one run."""
    out: dict[str, dict[str, str]] = {}
    for name, doc in (
        ("result.json", run.result),
        ("verdict.json", run.verdict),
        ("text_result.json", run.text),
    ):
        if not isinstance(doc, Mapping):
            continue
        data = doc.get("data") if isinstance(doc.get("data"), Mapping) else {}
        facts = {
            "source": first(data, "source", "name"),
            "task": first(data, "task") or doc.get("task"),
        }
        facts = {k: str(v) for k, v in facts.items() if isinstance(v, str) and v}
        if facts:
            out[name] = facts
    return out


def text_verdict(text: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The verdict of a ``text_result.json`` (a sentence under ``verdict``, its facts under ``verdict_details``)
    as :func:`verdict_view` reads one: the recommendation, the sentence as its reason, the best network and
    classic model by name, the paired test (McNemar on accuracy, a randomization test on balanced accuracy or
    macro-F1), the score difference and every model's test score by the metric compared.
    ``None`` where the file holds no verdict (fewer than one classic and one network model)."""
    if not isinstance(text, Mapping):
        return None
    sentence, details = text.get("verdict"), text.get("verdict_details")
    if isinstance(sentence, Mapping):
        return dict(sentence)  # a verdict already in the general form
    if not isinstance(sentence, str) or not isinstance(details, Mapping):
        return None
    if "mcnemar_p" not in details and "p_value" not in details:
        return None
    rec = details.get("recommendation")
    if rec not in RECOMMENDATIONS:  # files written before the recommendation was recorded
        rec = (
            "network"
            if sentence.startswith("The network is worth it")
            else "baseline"
            if sentence.startswith("The classic baseline wins")
            else "no_significant_difference"
        )
    raw = text.get("models")
    models: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}

    def name(key: Any) -> Any:
        m = models.get(key)
        return m.get("name", key) if isinstance(m, Mapping) else key

    metric = str(details.get("metric")) if details.get("metric") in _TEXT_METRIC_NAMES else "accuracy"
    key = "macro_f1" if metric == "f1_macro" else metric  # the model's field holding that score
    label = _TEXT_METRIC_NAMES[metric]
    test = str(details.get("test") or "exact McNemar")
    p = details.get("p_value", details.get("mcnemar_p"))
    diff = details.get("score_difference", details.get("accuracy_difference"))
    classic = details.get("best_classic")
    emb = _embeddings_verdict(details)
    if emb is not None:  # the embeddings' own recommendation, in either spelling
        rec, classic = "embeddings", emb["classic"]
        if emb["network_vs_classic"] is not None:
            diff, p = emb["network_vs_classic"]
        elif emb["old_style"]:
            diff = p = None  # (the main fields held network − embeddings; told below under that name)
    best = {"network": "best_network", "baseline": "best_classic", "embeddings": "preferred_model"}.get(
        str(rec), "best_classic"
    )
    preferred = name(classic) if best == "best_classic" else name(details.get(best) or "emb_lr")
    if rec == "no_significant_difference" and isinstance(details.get("preferred_model"), str):
        preferred = name(details["preferred_model"])  # the cheaper of the pair, as the verdict chose it
    valid = text_valid_scores(text, models, metric)
    out: dict[str, Any] = {
        "recommendation": rec,
        "preferred_model": preferred,
        "reasons": [sentence],
        "metric": f"test {label}",
        "models": [
            {"name": m.get("name", k), "mean": m.get(key), "valid_score": valid.get(k)}
            for k, m in models.items()
            if isinstance(m, Mapping) and num(m.get(key)) is not None
        ],
        "best_network": name(details.get("best_network")),
        "best_baseline": name(classic),
        "p_value": p,
        "test_name": f"{test}, paired on {details['n_test']} test rows" if details.get("n_test") else test,
        "alpha": details.get("alpha", 0.05),
        "effect_size": {"estimate": diff, "name": f"{label} difference (network − classic)"},
    }
    sides = details.get("selection_by_side")
    by: Mapping[str, Any] = sides if isinstance(sides, Mapping) else {}
    chosen = {"validation": "chosen on the validation rows", "test": "chosen by test score"}
    for side, key, what in (
        ("network", "network_label", "network"),
        ("classic", "baseline_label", "classic baseline"),
    ):
        rule = chosen.get(str(by.get(side)))
        if rule:  # not "best": the validation rows chose it, and another may test higher
            out[key] = f"{what} compared ({rule})"
    if emb is not None:
        lin = name(details.get("preferred_model") or "emb_lr")
        beats = f" (p={_p_text(emb['embeddings_vs_classic'][1])})" if emb["embeddings_vs_classic"] else ""
        adds = f" (p={_p_text(emb['network_vs_embeddings'][1])})" if emb["network_vs_embeddings"] else ""
        out["headline"] = f"Prefer {lin}: it beats the classic{beats} and the network adds nothing{adds}"
        out["baseline_label"] = "classic baseline"
        out["highlight"] = [n for n in (lin, name(classic), out["best_network"]) if n]
        extra: list[tuple[str, Any]] = [("model to use", lin)]
        for pair, what in (
            ("embeddings_vs_classic", f"{lin} − classic"),
            ("network_vs_embeddings", f"network − {lin}"),
        ):
            if emb[pair] is not None:
                d, pv = emb[pair]
                extra += [
                    (f"{label} difference ({what})", d),
                    (f"p-value ({what.replace(' − ', ' vs ')})", pv),
                ]
        out["extra_facts"] = extra
    return out


def _p_text(p: Any) -> str:
    f = num(p)
    return "–" if f is None else f"{f:.3g}"


def _pair(obj: Any) -> tuple[float | None, float | None] | None:
    """``{difference, p_value}`` (or the verdict's own spellings) as a pair; ``None`` where absent."""
    if not isinstance(obj, Mapping):
        return None
    d = num(first(obj, "difference", "score_difference", "accuracy_difference"))
    p = num(first(obj, "p_value", "mcnemar_p"))
    return None if d is None and p is None else (d, p)


def _embeddings_verdict(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """The text verdict's "embeddings + logistic regression" recommendation: the classic it beat and the
    pairs tested, from ``recommendation: "embeddings"`` (``network_vs_embeddings``) or, in files written
    before it had a name of its own, from ``no_significant_difference`` with ``best_classic: "emb_lr"`` and the
    real classic under ``classic_comparison`` (whose main fields then held network − embeddings)."""
    rec = details.get("recommendation")
    old = rec != "embeddings"
    if old and not (
        details.get("best_classic") == "emb_lr" and isinstance(details.get("classic_comparison"), Mapping)
    ):
        return None
    net_emb = _pair(details.get("network_vs_embeddings"))
    emb_classic = _pair(first(details, "embeddings_vs_classic", "emb_lr_vs_classic"))
    main = _pair(details)
    comparison = details.get("classic_comparison")
    classic = details.get("best_classic")
    net_classic = _pair(details.get("network_vs_classic"))  # (where the main pair is emb_lr − classic)
    between = details.get("difference_between")
    if emb_classic is None and isinstance(between, list) and between[:1] == [details.get("preferred_model")]:
        emb_classic = main
    if old:
        assert isinstance(comparison, Mapping)
        classic = comparison.get("best_classic")
        net_emb = net_emb or main
        net_classic = _pair(comparison)
    elif net_classic is None and main is not None and main not in (net_emb, emb_classic):
        net_classic = main  # the main pair: network − classic, as in every other verdict
    return {
        "classic": classic,
        "old_style": old,
        "network_vs_classic": net_classic,
        "network_vs_embeddings": net_emb,
        "embeddings_vs_classic": emb_classic,
    }


def text_valid_scores(text: Mapping[str, Any], models: Mapping[str, Any], metric: str) -> dict[str, float]:
    """Each text model's validation score by ``metric``: ``verdict_details.valid_scores`` where written, else
    the network's best_valid_score and, for a baseline, its chosen setting's ``valid_<metric>``."""
    details = text.get("verdict_details")
    given = details.get("valid_scores") if isinstance(details, Mapping) else None
    out: dict[str, float] = {}
    if isinstance(given, Mapping):
        out = {str(k): f for k, v in given.items() if (f := num(v)) is not None}
    for k, m in models.items():
        if k in out or not isinstance(m, Mapping) or not isinstance(m.get("details"), Mapping):
            continue
        d = m["details"]
        f = num(d.get("best_valid_score"))
        grid = d.get(f"valid_{metric}")
        if f is None and isinstance(grid, Mapping):
            chosen = first(d, "alpha", "C")
            f = num(grid.get(str(chosen))) if chosen is not None else None
            if f is None:
                f = max((x for v in grid.values() if (x := num(v)) is not None), default=None)
        if f is not None:
            out[str(k)] = f
    return out


#: the text verdict's metrics (``verdict_details.metric``) as the report names them
_TEXT_METRIC_NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro-F1",
}


def verdict_view(v: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Recommendation, reasons, per-model scores, test, effect size, costs and learning curve of a verdict.

    An interrupted compare's ``verdict.partial.json`` (``"partial": true``) has no recommendation: its
    headline says so, its note is the reason and its candidates are shown as far as they were scored."""
    partial = isinstance(v, Mapping) and v.get("partial") is True
    if not isinstance(v, Mapping) or ("recommendation" not in v and "reasons" not in v and not partial):
        return None
    rec = str(v.get("recommendation", "")).strip()
    reasons = v.get("reasons") or []
    if isinstance(reasons, str):
        reasons = [reasons]
    stage = v.get("interrupted_during") if partial else None
    if partial:
        rec = ""
        reasons = [str(v["note"])] if isinstance(v.get("note"), str) else []
    # an error score named as what its numbers are: "-MAE (neg_mae)"
    metric = metric_label(str(first(v, "metric", "score_name", "scoring") or "score"))
    models = []
    # ``compare`` writes its candidates (Candidate.to_dict: cv_scores, cv_mean, cv_std, costs) as a list
    for row in _named_rows(first(v, "candidates", "models", "scores", "per_model", "results")):
        scores = first(row, "scores", "cv_scores", "split_scores", "fold_scores", "value")
        scores = list(scores) if isinstance(scores, Sequence) and not isinstance(scores, str) else []
        m, s = _mean_std(scores)
        mean = num(first(row, "mean", "cv_mean", "mean_score", "score"))
        std = num(first(row, "std", "cv_std", "std_score"))
        models.append(
            {
                **row,
                "scores": scores,
                "mean": mean if mean is not None else m,
                "std": std if std is not None else s,
            }
        )
    costs = _named_rows(v.get("costs"))
    if not costs:
        cost_keys = ("fit_seconds", "predict_seconds_per_1k", "n_parameters")
        costs = [
            {"name": m["name"], **{k: m[k] for k in cost_keys if k in m}}
            for m in models
            if any(k in m for k in cost_keys)
        ]
    best_network = first(v, "best_network", "network")
    best_baseline = first(v, "best_baseline", "baseline")
    if isinstance(best_network, Mapping):
        best_network = first(best_network, "name", "model")
    if isinstance(best_baseline, Mapping):
        best_baseline = first(best_baseline, "name", "model")
    test = first(v, "test", "significance")
    p_value = num(first(v, "p_value", "pvalue"))
    test_name = first(v, "test_name", "method")
    alpha = num(v.get("alpha"))
    if isinstance(test, Mapping):
        p_value = p_value if p_value is not None else num(first(test, "p_value", "pvalue"))
        test_name = test_name or first(test, "name", "method", "test")
        alpha = alpha if alpha is not None else num(test.get("alpha"))
    elif isinstance(test, str):
        test_name = test_name or test
    effect_raw = first(v, "effect_size", "effect", "gain")
    effect: dict[str, Any] | None = None
    if isinstance(effect_raw, Mapping):
        ci = first(effect_raw, "ci", "confidence_interval")
        lo, hi = (ci[0], ci[1]) if isinstance(ci, Sequence) and len(ci) == 2 else (None, None)
        effect = {
            "estimate": num(first(effect_raw, "estimate", "value", "mean", "mean_difference", "difference")),
            "low": num(first(effect_raw, "ci_low", "low", "lower")) if lo is None else num(lo),
            "high": num(first(effect_raw, "ci_high", "high", "upper")) if hi is None else num(hi),
            "level": num(first(effect_raw, "level", "confidence", "ci_level")),
            "name": first(effect_raw, "name", "kind", "measure"),
        }
    elif num(effect_raw) is not None:
        ci = first(v, "ci", "effect_ci", "confidence_interval", "effect_size_ci")
        lo, hi = (ci[0], ci[1]) if isinstance(ci, Sequence) and len(ci) == 2 else (None, None)
        effect = {
            "estimate": num(effect_raw),
            "low": num(lo),
            "high": num(hi),
            "level": num(v.get("ci_level")),
            "name": None,
        }
    if effect is None and isinstance(test, Mapping) and num(test.get("mean_diff")) is not None:
        # compare's TestResult: the difference of the means (network - baseline) with its CI
        effect = {
            "estimate": num(test.get("mean_diff")),
            "low": num(test.get("ci_low")),
            "high": num(test.get("ci_high")),
            "level": num(first(test, "confidence", "level")),
            "name": f"{metric} difference (network − baseline)",
        }
    comparisons = _comparisons(v.get("comparisons"))
    pair = (
        f"{best_network} vs {best_baseline}"
        if best_network is not None and best_baseline is not None
        else None
    )
    protocol = v.get("protocol") if isinstance(v.get("protocol"), Mapping) else None
    if partial and protocol is None and isinstance(v.get("settings"), Mapping):
        protocol = v["settings"]
    return {
        "recommendation": rec,
        "partial": partial,
        "headline": (
            "No verdict: compare was interrupted" + (f" while {stage}" if isinstance(stage, str) else "")
            if partial
            else headline(v, rec)
        ),
        "reasons": [str(r) for r in reasons],
        "metric": metric,
        "models": models,
        "costs": costs,
        "best_network": None if best_network is None else str(best_network),
        "best_baseline": None if best_baseline is None else str(best_baseline),
        "p_value": p_value,
        "test_name": None if test_name is None else str(test_name).replace("_", " "),
        "alpha": alpha,
        "effect": effect,
        "standardized_effect": num(test.get("effect_size")) if isinstance(test, Mapping) else None,
        "pair": pair,
        "comparisons": comparisons,
        "decision_p": _decision_p(v, rec, comparisons, best_network, best_baseline, effect),
        "protocol": protocol,
        "learning_curve": learning_curve_view(v.get("learning_curve"), first(v, "data")),
        "data": first(v, "data", "data_summary", "dataset"),
        "searches": _searches(v.get("searches")),
        "timeout": num(protocol.get("timeout")) if protocol else None,
        # a reader's own wording (the text verdict's embeddings): the baseline's label, more facts, the bars
        # to highlight
        "baseline_label": str(v.get("baseline_label") or "best baseline"),
        "network_label": str(v.get("network_label") or "best network"),
        "extra_facts": [
            tuple(f) for f in v.get("extra_facts") or [] if isinstance(f, list | tuple) and len(f) == 2
        ],
        "highlight": [str(n) for n in v.get("highlight") or [] if isinstance(n, str)],
    }


def _searches(raw: Any) -> list[dict[str, Any]]:
    """compare's per-model search summaries (``{model: {kind, asked, finished, completed, ...}}``) as rows."""
    keys = ("asked", "finished", "completed", "pruned", "pruned_by_timeout", "failed")
    rows = []
    for r in _named_rows(raw):
        row: dict[str, Any] = {
            "name": r["name"],
            "kind": r.get("kind") if isinstance(r.get("kind"), str) else None,
        }
        for k in (*keys, "best_trial_epochs", "max_epochs"):
            f = num(r.get(k))
            row[k] = int(f) if f is not None else None
        row["searched"] = [str(d) for d in r.get("searched") or [] if isinstance(d, str)]
        rows.append(row)
    return rows


def _comparisons(raw: Any) -> list[dict[str, Any]]:
    """compare's per-baseline tests of the best network (``{baseline: TestResult + p_holm}``) as rows."""
    rows = []
    for r in _named_rows(raw):
        rows.append(
            {
                "name": r["name"],
                **{
                    k: num(r.get(k))
                    for k in (
                        "mean_diff",
                        "ci_low",
                        "ci_high",
                        "statistic",
                        "p_value",
                        "p_holm",
                        "effect_size",
                    )
                },
                "confidence": num(r.get("confidence")),
                "test": str(r["test"]).replace("_", " ") if isinstance(r.get("test"), str) else None,
            }
        )
    return rows


def _decision_p(
    v: Mapping[str, Any],
    rec: str,
    comparisons: list[dict[str, Any]],
    network: Any,
    baseline: Any,
    effect: Mapping[str, Any] | None,
) -> tuple[str, float] | None:
    """The p-value the recommendation rests on, with what it is: as the verdict recorded it
    (``decision_p_value``, evaluate/verdict.py), or, in a verdict.json written before it was recorded, derived
    as the decision did: a win must beat every baseline (the largest per-baseline p), a loss is one of several
    comparisons (Holm's p)."""

    def said(basis: str, against: Any, p: float | None) -> tuple[str, float] | None:
        return None if p is None else (DECISION_P_LABELS[basis].format(network=network, baseline=against), p)

    recorded = num(v.get("decision_p_value"))
    basis = v.get("decision_p_basis")
    if recorded is not None and basis in DECISION_P_LABELS:
        return said(basis, v.get("decision_p_baseline") or baseline, recorded)
    by_name = {c["name"]: c for c in comparisons}
    p_all = num(v.get("network_win_p_value"))
    diff = effect.get("estimate") if effect else None
    if rec == "baseline":
        preferred = first(v, "preferred_model")
        name = preferred if preferred in by_name else baseline
        return said("holm", name, by_name.get(str(name), {}).get("p_holm"))
    if p_all is not None and (rec == "network" or (diff is not None and diff >= 0)):
        return said("every_baseline", None, p_all)
    return said("holm", baseline, by_name.get(str(baseline), {}).get("p_holm"))


#: verdict.py's DECISION_P_BASES in words
DECISION_P_LABELS = {
    "every_baseline": "p that {network} beats every baseline (largest per-baseline p)",
    "holm": "Holm-corrected p, {network} vs {baseline}",
}

#: verdict.py's LearningCurve.trend(): which curve gained more over the last doubling of the rows (faster, not
#: ahead: the note says who leads)
TRENDS = {
    "network_improving_faster": "the network is improving faster with more data",
    "baseline_improving_faster": "the baseline is improving faster with more data",
    "both_flat": "both curves have flattened",
    "both_rising": "both are still rising at a similar pace",
    "unclear": "cannot be read (the last doubling and the whole curve disagree on which model gains faster)",
    "unknown": "cannot be read",
}
#: the trends' names in verdict.json files written before they were renamed
OLD_TRENDS = {
    "network_pulling_ahead": "network_improving_faster",
    "baseline_pulling_ahead": "baseline_improving_faster",
}


#: the trends' words where the verdict drew them from a bootstrap interval of the gain difference
#: (``gain_diff_ci``): "unclear" and "both_rising" then mean the interval, not the whole curve's slope
TRENDS_WITH_INTERVAL = {
    "network_improving_faster": "the network gained more than test-row noise explains",
    "baseline_improving_faster": "the baseline gained more than test-row noise explains",
    "both_rising": "both are still rising, and the curve cannot tell which faster",
    "unclear": "cannot be read (the interval of the gain difference holds zero, the difference is under what "
    "counts as a gain, or the whole curve's slope says the other model gains faster: the fits vary from size to "
    "size by more than the interval shows)",
}


def _interval_note(lc: Mapping[str, Any]) -> str:
    """The bootstrap interval of the last doubling's gain difference as the verdict recorded it, with what it
    covers (test-row noise only: each training size was fitted once); empty where there is none."""
    ci = lc.get("gain_diff_ci")
    if not (isinstance(ci, Sequence) and len(ci) == 2 and all(num(x) is not None for x in ci)):
        return ""
    lo, hi = (float(x) for x in ci)
    conf = num(lc.get("gain_diff_ci_confidence")) or 0.95
    diff = num(lc.get("gain_diff_per_doubling"))
    covers = lc.get("gain_diff_ci_covers")
    if not isinstance(covers, str) or not covers:
        on = lc.get("evaluated_on") if isinstance(lc.get("evaluated_on"), str) else "evaluation"
        covers = (
            f"it resamples the {on} rows only: each training size was fitted once, so the variation from "
            "another training subset or seed is not in it"
        )
    return (
        "Network's gain minus the baseline's over the last doubling"
        + (f" {diff:+.4f}" if diff is not None else "")
        + f", {round(conf * 100)}% paired-bootstrap interval [{lo:+.4f}, {hi:+.4f}]: {covers}."
    )


def _trend_note(
    trend: str,
    network: Sequence[Any] | None,
    baseline: Sequence[Any] | None,
    lc: Mapping[str, Any] | None = None,
) -> str:
    """The trend in words, as the verdict's reasons say it.  ``lc``: the learning curve's JSON; where it has a
    bootstrap interval (``gain_diff_ci``), "faster" means beyond test-row noise, and a lead "may" change, not
    "would likely": the interval covers the scored rows of one fit per size only."""
    trend = OLD_TRENDS.get(trend, trend)
    lc = lc or {}
    with_ci = bool(_interval_note(lc))
    words = TRENDS_WITH_INTERVAL.get(trend) if with_ci else None
    thr = num(lc.get("trend_threshold"))
    flat = num(lc.get("flat_slope")) or FLAT_SLOPE  # an error score's is in the target's units
    if trend == "both_flat" and thr is not None and thr > flat:
        words = (
            f"neither curve moved by more than two scored rows can ({thr:.4f} per doubling), so on these rows "
            "the curve shows no trend either way (a smaller gain would not show): it does not say whether more "
            "data would change the verdict"
        )
    text = "Trend over the last doubling of the training rows: " + (
        words or TRENDS.get(trend, trend.replace("_", " "))
    )
    pairs = [
        (n, b)
        for n, b in zip(network or [], baseline or [], strict=False)
        if num(n) is not None and num(b) is not None
    ]
    faster = {"network_improving_faster": "network", "baseline_improving_faster": "baseline"}.get(trend)
    likely = "may" if with_ci else "would likely"

    def leader(n: Any, b: Any) -> str | None:  # level to the verdict's four decimals, as its reasons say
        return None if abs(n - b) < LEVEL_GAP else "network" if n > b else "baseline"

    if pairs and faster:
        ahead = {leader(n, b) or "level" for n, b in pairs}
        last = leader(*pairs[-1])
        where = "at every size" if len(ahead) == 1 and last else "at the largest size"
        if last is None:
            text += "; the two are level at the largest size"
        elif last == faster:
            text += f"; the {last} leads {where}, so its lead {likely} grow"
        else:
            text += f"; the {last} still leads {where}: the {faster} is catching up, not ahead"
        if with_ci:
            text += (
                " (with one fit per size this can still be the luck of one training draw, not a sure trend)"
            )
    text += "."
    interval = _interval_note(lc)
    return f"{text} {interval}" if interval else text


def learning_curve_view(lc: Any, data: Any = None) -> dict[str, Any] | None:
    """``{fractions, curves: {model: [score]}, spreads: {model: [std]}, notes: [str], n_rows: [int] or None,
    evaluated_on, n_evaluated}`` or ``None``; ``data``: the verdict's data summary (its split sizes say how many
    rows each point was scored on)."""
    if not lc:
        return None
    notes: list[str] = []
    curves: dict[str, list[float | None]] = {}
    spreads: dict[str, list[float | None]] = {}
    fractions: list[float] = []
    if isinstance(lc, Mapping) and first(lc, "fractions", "train_fractions", "sizes") is not None:
        fractions = [
            f for f in (num(x) for x in first(lc, "fractions", "train_fractions", "sizes")) if f is not None
        ]
        raw = first(lc, "curves", "scores", "models")
        if isinstance(raw, Mapping):
            for name, ys in raw.items():
                if isinstance(ys, Mapping):
                    curves[str(name)] = [num(y) for y in first(ys, "mean", "scores", "score") or []]
                    spreads[str(name)] = [num(y) for y in ys.get("std") or []]
                else:
                    curves[str(name)] = [num(y) for y in ys]
        else:
            for key, ys in lc.items():
                if (
                    # the verdict's LearningCurve also lists row counts and the gap per fraction: not scores
                    key not in ("fractions", "train_fractions", "sizes", "n_rows", "rows", "gap")
                    and isinstance(ys, list)
                    and all(num(y) is not None or y is None for y in ys)
                    and len(ys) == len(fractions)
                ):
                    curves[str(key)] = [num(y) for y in ys]
        std = first(lc, "std", "stds", "spread")
        if isinstance(std, Mapping):
            spreads.update({str(k): [num(y) for y in s] for k, s in std.items()})
        trend = first(lc, "trend", "trends", "heading", "notes")
        if isinstance(trend, Mapping):
            notes = [f"{k}: {t}" for k, t in trend.items()]
        elif isinstance(trend, str):
            notes = [_trend_note(trend, curves.get("network"), curves.get("baseline"), lc)]
        elif isinstance(trend, list):
            notes = [str(t) for t in trend]
    elif isinstance(lc, Mapping):  # {model: {fractions, scores, std}}
        for name, c in lc.items():
            if isinstance(c, Mapping):
                fs = [num(x) for x in first(c, "fractions", "train_fractions") or []]
                ys = [num(y) for y in first(c, "mean", "scores", "score") or []]
                sd = [num(y) for y in c.get("std") or []]
                by_f = {
                    f: (y, s)
                    for f, y, s in zip(fs, ys, sd or [None] * len(ys), strict=False)
                    if f is not None
                }
                fractions = sorted(set(fractions) | set(by_f))
                curves[str(name)] = [by_f[f][0] for f in fractions if f in by_f]
                spreads[str(name)] = [by_f[f][1] for f in fractions if f in by_f]
                if c.get("trend"):
                    notes.append(f"{name}: {c['trend']}")
    elif isinstance(lc, Sequence) and not isinstance(lc, str):  # [{fraction, model, score, std}]
        pts = [p for p in lc if isinstance(p, Mapping)]
        fractions = sorted(
            {f for f in (num(first(p, "fraction", "train_fraction")) for p in pts) if f is not None}
        )
        for p in pts:
            name = str(first(p, "model", "name") or "model")
            curves.setdefault(name, [None] * len(fractions))
            spreads.setdefault(name, [None] * len(fractions))
            f = num(first(p, "fraction", "train_fraction"))
            if f in fractions:
                i = fractions.index(f)
                curves[name][i] = num(first(p, "score", "mean"))
                spreads[name][i] = num(p.get("std"))
    curves = {k: ys for k, ys in curves.items() if any(y is not None for y in ys)}
    if not fractions or not curves:
        return None
    rows = lc.get("n_rows") if isinstance(lc, Mapping) else None
    n_rows = (
        [int(r) for r in rows]
        if isinstance(rows, list)
        and len(rows) == len(fractions)
        and all(isinstance(r, int | float) and not isinstance(r, bool) and math.isfinite(r) for r in rows)
        else None
    )
    on = lc.get("evaluated_on") if isinstance(lc, Mapping) else None
    n_eval = None
    if on in ("test", "valid") and isinstance(data, Mapping):
        n_eval = num(data.get(f"n_{on}"))
    resolution = num(lc.get("resolution")) if isinstance(lc, Mapping) else None
    if n_eval is None and resolution:
        n_eval = 1.0 / resolution  # a class score moves by 1 / rows scored
    return {
        "fractions": fractions,
        "curves": curves,
        "spreads": spreads,
        "notes": notes,
        "n_rows": n_rows,
        "evaluated_on": on if isinstance(on, str) else None,
        "n_evaluated": round(n_eval) if n_eval else None,
    }


# --------------------------------------------------------------------------------------------- search ---

_RATIONALE_KEYS = ("rationale", "advisor", "advice", "reasons", "space", "search_space")


def _state(x: Any) -> str:
    s = str(x or "").upper()
    return s.split(".")[-1] if s else "UNKNOWN"


def _curve(raw: Any) -> list[tuple[float, float]]:
    if isinstance(raw, Mapping):
        pts = [(num(k), num(v)) for k, v in raw.items()]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        pts = [
            (num(p[0]), num(p[1])) if isinstance(p, Sequence) and len(p) == 2 else (float(i + 1), num(p))
            for i, p in enumerate(raw)
        ]
    else:
        return []
    return sorted((x, y) for x, y in pts if x is not None and y is not None)


def _trial(i: int, t: Mapping[str, Any]) -> dict[str, Any]:
    user_attrs = t.get("user_attrs") if isinstance(t.get("user_attrs"), Mapping) else {}
    params = first(t, "params", "config")
    curve = _curve(first(t, "intermediate_values", "learning_curve", "intermediate", "curve"))
    value = num(first(t, "value", "score", "objective"))
    state = _state(t.get("state"))
    if value is None and state == "PRUNED" and curve:
        value = curve[-1][1]
    reason = first(t, "fail_reason", "reason", "stop_reason") or first(user_attrs, "fail_reason", "reason")
    return {
        "number": int(num(first(t, "number", "trial", "id")) or i),
        "value": value,
        "state": state,
        "params": dict(params) if isinstance(params, Mapping) else {},
        "curve": curve,
        # each trial's best validation score over its epochs: what successive halving compares and its stop
        # reasons quote (Optuna's value is a pruned trial's last epoch); computed from the curve where absent
        "best_score": num(first(t, "best_score", "best_value")),
        "epochs": first(t, "epochs"),
        "reason": None if reason is None else str(reason),
        "seconds": num(first(t, "duration", "seconds", "duration_seconds")),
    }


def _csv_value(text: str) -> Any:
    """A CSV cell back to the int, float or string it was written from."""
    try:
        return int(text)
    except ValueError:
        pass
    f = num(text)
    return f if f is not None else text


def _trials_from_csv(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Optuna's ``trials_dataframe()`` columns (``params_lr``, ``state``, ``value``, ...) as trials."""
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        params = {
            k.split("_", 1)[1]: _csv_value(v)
            for k, v in r.items()
            if k.startswith(("params_", "param_")) and v.strip() != ""
        }
        out.append(
            {
                "number": int(num(r.get("number")) or i),
                "value": num(r.get("value")),
                "state": _state(r.get("state")),
                "params": params,
                "curve": [],
                "best_score": num(r.get("best_score")),
                "epochs": _csv_value(r["epochs"]) if r.get("epochs") else None,
                "reason": first({k: v for k, v in r.items() if v}, "reason", "user_attrs_fail_reason"),
                "seconds": num(first(r, "seconds", "duration")),
            }
        )
    return out


def rationale_map(result: Mapping[str, Any]) -> dict[str, str]:
    """Per hyperparameter, the advisor's written reason (from whichever key the producer used)."""
    out: dict[str, str] = {}
    for key in _RATIONALE_KEYS:
        raw = result.get(key)
        if isinstance(raw, Mapping) and isinstance(raw.get("reasons"), Mapping):  # SearchSpace.to_dict()
            raw = raw["reasons"]
        elif isinstance(raw, Mapping) and isinstance(first(raw, "dimensions", "dims"), Mapping):
            raw = first(raw, "dimensions", "dims")
        rows = _named_rows(raw, ("name", "param", "parameter", "hyperparameter"))
        for row in rows:
            text = first(row, "rationale", "reason", "why", "value")
            if isinstance(text, str) and row["name"] not in out:
                out[row["name"]] = text
    return out


def space_ranges(result: Mapping[str, Any]) -> dict[str, str]:
    """Per searched dimension, its range in words (``SearchSpace.to_dict()['dims']``), and fixed values."""
    space = first(result, "space", "search_space")
    if not isinstance(space, Mapping):
        return {}
    out: dict[str, str] = {}
    dims = space.get("dims")
    for name, d in dims.items() if isinstance(dims, Mapping) else []:
        if not isinstance(d, Mapping):
            continue
        if isinstance(d.get("choices"), list):
            out[str(name)] = "one of " + ", ".join(map(str, d["choices"]))
        elif d.get("low") is not None and d.get("high") is not None:
            scale = " (log)" if d.get("log") else ""
            step = f" step {d['step']}" if d.get("step") not in (None, 1) else ""
            out[str(name)] = f"{d['low']} to {d['high']}{scale}{step}"
    fixed = space.get("fixed")
    for name, v in fixed.items() if isinstance(fixed, Mapping) else []:
        out.setdefault(str(name), f"fixed: {v}")
    return out


def log_scaled(result: Mapping[str, Any]) -> list[str]:
    """The searched dimensions sampled on a log scale (a learning rate, a weight decay)."""
    space = first(result, "space", "search_space")
    dims = space.get("dims") if isinstance(space, Mapping) else None
    if not isinstance(dims, Mapping):
        return []
    return [str(n) for n, d in dims.items() if isinstance(d, Mapping) and d.get("log") is True]


def search_view(
    result: Mapping[str, Any] | None,
    trials_csv: list[dict[str, str]] | None,
    curves: Mapping[int, list[tuple[float, float]]] | None = None,
) -> dict[str, Any] | None:
    """Best configuration with rationale, test metrics, importances and trials of a ``tune`` result.

    Trials come from ``result["trials"]`` when present, else from ``trials.csv``; learning curves from the
    trials themselves or from ``curves`` (the study journal).
    """
    result = result if isinstance(result, Mapping) else {}
    if "history" in result and "best_config" not in result and "trials" not in result:
        return None  # a training run, not a search
    raw_trials = result.get("trials")
    trials = [_trial(i, t) for i, t in enumerate(raw_trials or []) if isinstance(t, Mapping)]
    if not trials and trials_csv:
        trials = _trials_from_csv(trials_csv)
    for t in trials:
        if not t["curve"] and curves and t["number"] in curves:
            t["curve"] = list(curves[t["number"]])
    best = first(result, "best_config", "best_params")
    if not trials and not isinstance(best, Mapping) and not isinstance(raw_trials, list):
        return None
    direction = str(first(result, "direction") or "maximize").lower()
    pick = min if direction.startswith("min") else max
    for t in trials:
        if t["best_score"] is None and t["curve"]:
            t["best_score"] = pick(y for _, y in t["curve"])
    imp = first(result, "importances", "param_importances", "importance")
    metrics = metrics_of(result)
    counts: dict[str, int] = {}
    stored = result.get("counts")
    if isinstance(stored, Mapping) and all(
        isinstance(stored.get(k), int) for k in ("COMPLETE", "PRUNED", "FAIL")
    ):
        # the search's own tally: crashed or interrupted trials that were run again and surplus trials (two
        # workers racing for the last slot) are not failed configurations, though their state is FAIL
        counts = {k: int(stored[k]) for k in ("COMPLETE", "PRUNED", "FAIL")}
        for key, label in (("retried", "run again after a crash or interrupt"), ("surplus", "surplus")):
            if isinstance(stored.get(key), int) and stored[key] > 0:
                counts[label] = int(stored[key])
    else:
        for t in trials:
            counts[t["state"]] = counts.get(t["state"], 0) + 1
    return {
        "best_config": dict(best) if isinstance(best, Mapping) else {},
        "best_value": num(first(result, "best_valid_score", "best_value", "best_score")),
        "best_trial": first(result, "best_trial", "best_number"),
        "rationale": rationale_map(result),
        "ranges": space_ranges(result),
        "log_scaled": log_scaled(result),
        "notes": [
            str(n)
            for n in (first(result.get("space"), "notes") or [])
            if isinstance(result.get("space"), Mapping)
        ],
        "metric": metric_label(str(first(result, "metric", "score_name", "objective") or "valid score")),
        "maximize": not direction.startswith("min"),
        "metrics": metrics,
        "importances": {str(k): f for k, v in (imp or {}).items() if (f := num(v)) is not None}
        if isinstance(imp, Mapping)
        else {},
        "trials": trials,
        "counts": counts,
        "study": first(result, "study_name", "study"),
        "seconds": num(first(result, "seconds", "wall_seconds", "elapsed")),
        "study_seconds": num(result.get("study_seconds")),
        "source": result.get("source") if isinstance(result.get("source"), str) else None,
        "other_studies": [str(n) for n in result.get("other_studies") or [] if isinstance(n, str)],
    }


def metrics_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """Test metrics: the ``metrics``/``test_metrics`` dict plus top-level ``test_*`` keys."""
    out: dict[str, Any] = {}
    for key in ("metrics", "test_metrics", "test"):
        raw = result.get(key)
        if isinstance(raw, Mapping):
            out.update({str(k): v for k, v in raw.items() if not isinstance(v, Mapping | list)})
    out.update(
        {k: v for k, v in result.items() if k.startswith("test_") and not isinstance(v, Mapping | list)}
    )
    return out


# ------------------------------------------------------------------------------------------- training ---


def training_view(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """History, status and metrics of a training run (``train``'s result or a tune result's refit)."""
    if not isinstance(result, Mapping):
        return None
    run: Mapping[str, Any] | None = result if isinstance(result.get("history"), Mapping) else None
    if run is None:
        for key in ("refit", "best_run", "final", "train_result", "best_result"):
            if isinstance(result.get(key), Mapping) and isinstance(result[key].get("history"), Mapping):
                run = result[key]
                break
    if run is None:
        return None
    hist = run["history"]
    return {
        "history": {k: list(v) for k, v in hist.items() if isinstance(v, list)},
        "status": run.get("status"),
        "stop_reason": run.get("stop_reason"),
        "best_epoch": run.get("best_epoch"),
        "metrics": metrics_of(run) or metrics_of(result),
        "config": run.get("config") if isinstance(run.get("config"), Mapping) else None,
        "task": first(run, "task") or first(result, "task"),
        # the validation score of the history: train's own run names it (a tune result's refit is the task's)
        "metric": run.get("metric") if isinstance(run.get("metric"), str) else None,
        "n_parameters": first(run, "n_parameters"),
        "seconds": num(first(run, "seconds")),
    }


def diagnostics(*sources: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Training findings ``{kind, severity, evidence, remedy, data}`` from any of the sources, de-duplicated."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for src in sources:
        if not isinstance(src, Mapping):
            continue
        candidates = [src] + [
            src[k]
            for k in ("refit", "best_run", "final", "train_result", "best_result")
            if isinstance(src.get(k), Mapping)
        ]
        for c in candidates:
            for f in first(c, "diagnostics", "findings") or []:
                if not isinstance(f, Mapping):
                    continue
                key = (str(f.get("kind", "")), str(f.get("evidence", "")))
                if key not in seen:
                    seen.add(key)
                    out.append(
                        {
                            "kind": str(f.get("kind", "finding")),
                            "severity": str(f.get("severity", "info")),
                            "evidence": str(f.get("evidence", "")),
                            "remedy": str(f.get("remedy", "")),
                            "data": f.get("data") if isinstance(f.get("data"), Mapping) else {},
                        }
                    )
    order = {"error": 0, "warning": 1, "info": 2}
    out.sort(key=lambda f: order.get(f["severity"], 3))
    return out


# ----------------------------------------------------------------------------------------------- text ---


def classification_reports(text: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per model: ``{name, report (dict or str), matrix, labels, accuracy, balanced_accuracy, macro_f1}``
    (balanced accuracy None in files written before it was recorded)."""
    if not isinstance(text, Mapping):
        return []
    labels = first(text, "labels", "classes", "class_names")
    models = _named_rows(first(text, "models", "results"))
    reports = first(text, "reports", "classification_reports")
    matrices = first(text, "confusion_matrices")
    if not models and isinstance(reports, Mapping):
        models = [{"name": str(k)} for k in reports]
    if not models and first(text, "report", "classification_report", "confusion_matrix") is not None:
        models = [{**text, "name": str(first(text, "model", "name") or "model")}]
    out = []
    for m in models:
        rep = first(m, "report", "classification_report")
        if rep is None and isinstance(reports, Mapping):
            rep = reports.get(m["name"])
        mat = first(m, "confusion_matrix", "confusion", "matrix")
        if mat is None and isinstance(matrices, Mapping):
            mat = matrices.get(m["name"])
        if isinstance(mat, Mapping):
            labels_m = first(mat, "labels", "classes")
            mat = first(mat, "matrix", "values")
        else:
            labels_m = first(m, "labels", "classes")
        acc = num(first(m, "accuracy", "test_accuracy"))
        if acc is None and isinstance(rep, Mapping):
            acc = num(rep.get("accuracy"))
        mf1 = num(first(m, "macro_f1", "f1_macro"))
        if mf1 is None and isinstance(rep, Mapping) and isinstance(rep.get("macro avg"), Mapping):
            mf1 = num(rep["macro avg"].get("f1-score"))
        if rep is None and mat is None and acc is None:
            continue
        out.append(
            {
                "name": m["name"],
                "report": rep,
                "matrix": mat,
                "labels": list(labels_m or labels or []),
                "accuracy": acc,
                "balanced_accuracy": num(m.get("balanced_accuracy")),
                "macro_f1": mf1,
                "misclassified": first(
                    m, "misclassified", "confident_errors", "misclassified_examples", "errors"
                ),
            }
        )
    return out


def misclassified(text: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The most confidently misclassified examples, ``{text, true, predicted, confidence, model}``."""
    if not isinstance(text, Mapping):
        return []
    rows: list[tuple[str | None, Any]] = [
        (None, r) for r in first(text, "misclassified", "misclassified_examples", "errors") or []
    ]
    if not rows:
        for m in classification_reports(text):
            rows += [(m["name"], r) for r in m["misclassified"] or []]
    out: list[dict[str, Any]] = []
    for model, r in rows:
        if not isinstance(r, Mapping):
            continue
        out.append(
            {
                "text": str(first(r, "text", "example", "document") or ""),
                "true": first(r, "true", "label", "y_true", "true_label"),
                "predicted": first(r, "predicted", "pred", "y_pred", "predicted_label"),
                "confidence": num(first(r, "confidence", "probability", "proba", "score")),
                "model": first(r, "model") or model,
                # the row of the data file (newer files); ``row`` was the position in the test split
                "data_row": first(r, "data_row"),
            }
        )
    return out


def projection_view(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{points (2-D, or None), vectors (n-D, to project), labels, names}`` from a text or graph result."""
    if not isinstance(obj, Mapping):
        return None
    proj = first(obj, "projection", "projection_2d", "embeddings_2d")
    labels = first(obj, "labels_of_points", "point_labels", "node_labels", "y")
    names = first(obj, "nodes", "node_ids", "names")
    if isinstance(proj, Mapping):
        labels = first(proj, "labels", "label", "y") or labels
        names = first(proj, "names", "nodes", "node_ids", "ids") or names
        pts = first(proj, "points", "xy", "coordinates")
        if pts is None and proj.get("x") is not None and proj.get("y") is not None:
            pts = [list(p) for p in zip(proj["x"], proj["y"], strict=False)]
        method = first(proj, "method")
    else:
        pts, method = proj, None
    vectors = None
    if pts is None:
        emb = first(obj, "embeddings", "vectors", "embedding")
        if isinstance(emb, Mapping) and isinstance(first(emb, "vectors", "values", "matrix"), list):
            names = first(emb, "nodes", "node_ids", "ids", "names") or names
            labels = first(emb, "labels") or labels
            emb = first(emb, "vectors", "values", "matrix")
        elif isinstance(emb, Mapping):  # {node: vector}
            names = list(emb)
            emb = list(emb.values())
        if isinstance(emb, list) and emb and isinstance(emb[0], list):
            vectors = emb
    if pts is None and vectors is None:
        return None
    if isinstance(labels, Mapping) and names is not None:  # {node: label}
        labels = [labels.get(str(n)) for n in names]
    if isinstance(labels, list):
        labels = [("; ".join(map(str, lab)) if isinstance(lab, list) else lab) for lab in labels]
    n = len(pts if pts is not None else vectors or [])
    return {
        "points": pts,
        "vectors": vectors,
        "method": method,
        "labels": labels if isinstance(labels, list) and len(labels) == n else None,
        "names": list(names) if isinstance(names, list) and len(names) == n else None,
    }


# ---------------------------------------------------------------------------------------------- graph ---


def graph_view(g: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``graph`` commands' outputs: summary, node2vec settings, similar nodes, recommendations,
    node-classification scores, p/q tuning trials and the embeddings to project."""
    if not isinstance(g, Mapping):
        return None

    def part(key: str) -> Mapping[str, Any]:
        v = g.get(key)
        return v if isinstance(v, Mapping) else {}

    embed, emb = part("embed"), part("embeddings")
    summary = first(embed, "graph") or first(g, "graph", "graph_summary", "summary")
    similar = first(g, "similar", "most_similar")
    recommend = first(g, "recommend", "recommendations")
    classify = first(g, "classify", "classification", "node_classification")
    models = classify.get("models") if isinstance(classify, Mapping) and "models" in classify else classify
    tune = part("tune")
    # each command's file records its inputs, parameters, graph and warnings (cli_graph._facts); one
    # folder may hold several commands' files: the first that has them speaks for the graph, warnings pool
    parts = [part(k) for k in ("embed", "similar", "recommend", "classify", "tune")]
    if not isinstance(summary, Mapping):
        summary = next((p["graph"] for p in parts if isinstance(p.get("graph"), Mapping)), None)
    warns = [str(w) for p in parts if isinstance(p.get("warnings"), list) for w in p["warnings"]]
    view = {
        "graph": summary if isinstance(summary, Mapping) else None,
        "input": next((p["input"] for p in parts if isinstance(p.get("input"), Mapping)), None),
        "warnings": list(dict.fromkeys(warns)),
        "params": first(emb, "params")
        or first(g, "params", "embedding_params", "node2vec")
        or next((p["params"] for p in parts if isinstance(p.get("params"), Mapping)), None),
        # the walk effort used (num_walks, epochs, ensemble resolved from "auto"): each command's file has it
        "effort": first(embed, "effort")
        or first(g, "effort")
        or next((p["effort"] for p in parts if isinstance(p.get("effort"), Mapping)), None),
        "timings": first(embed, "timings") or first(g, "timings"),
        "similar": similar if isinstance(similar, Mapping | list) else None,
        "recommend": recommend if isinstance(recommend, Mapping | list) else None,
        "classification": _named_rows(models),
        "classification_setup": {k: v for k, v in classify.items() if k != "models"}
        if isinstance(classify, Mapping)
        else {},
        "tune": tune or None,
        # the labels `graph embed --labels` recorded colour the projection ({node: label}, in embed.json)
        "projection": projection_view(
            {**g, "node_labels": embed["node_labels"]}
            if isinstance(embed.get("node_labels"), Mapping) and first(g, "node_labels") is None
            else g
        ),
    }
    if not any(view[k] for k in ("graph", "similar", "recommend", "classification", "tune", "projection")):
        return None
    return view
