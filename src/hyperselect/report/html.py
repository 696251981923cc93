"""One self-contained HTML page per run, rebuilt from the run's JSON alone.

The page needs no network: plots are PNGs embedded as ``data:`` URIs, the CSS is inline, there is no
script at all, and a Content-Security-Policy forbids fetching anything else (so even a string that escaped
escaping could not run or load).  Every string that comes from the run (column, class, node and model
names, text examples, reasons) goes through :func:`esc`.

Sections appear only when their data is present; the verdict and its reasons come first.  A section whose
data is present but malformed is replaced by a visible notice (or raises with ``strict=True``), so one
producer's format change never costs the user the whole report.  The output is deterministic: the same JSON
gives the same bytes.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hyperselect._io import atomic_write_text
from hyperselect._words import and_list
from hyperselect.errors import DataError
from hyperselect.report import plots
from hyperselect.report.views import (
    TOUR_FILE,
    RunData,
    check_run_dir,
    classification_reports,
    diagnostics,
    first,
    graph_view,
    load_run,
    misclassified,
    num,
    projection_view,
    run_origins,
    search_view,
    text_valid_scores,
    text_verdict,
    tour_view,
    training_view,
    verdict_view,
)
from hyperselect.train.metrics import metric_label

__all__ = ["REPORT_NAME", "build_report", "esc", "render_report", "try_build_report"]

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"
MAX_TABLE_ROWS = 50
MAX_POINTS = 5000
TOP_CURVES = 5
MAX_PRUNED_CURVES = 40
MAX_EXAMPLE_CHARS = 600

# frame-ancestors is not allowed in a <meta> CSP (Chromium logs an error), so it is left out.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def esc(value: Any) -> str:
    """HTML-escape anything (quotes included, so the result is safe inside attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any) -> str:
    """A value formatted for a table cell, escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return (
            esc(", ".join(str(v) for v in value))
            if all(not isinstance(v, Mapping | list) for v in value)
            else esc(value)
        )
    return esc(value)


def seconds_text(value: Any) -> str | None:
    """A duration in one readable unit per magnitude: ``6.50 s``, ``697 ms``, ``0.65 ms`` (``None``: not a
    finite number), so that a column never mixes 0.6968 with 6.505e-04."""
    v = num(value)
    if v is None:
        return None
    if abs(v) >= 1.0:
        return f"{v:.2f} s"
    ms = v * 1e3
    if ms == 0:
        return "0 ms"
    return f"{ms:.3g} ms" if abs(ms) >= 0.01 else "< 0.01 ms"


def count_text(value: Any) -> str | None:
    """A count with thousands separators, always (``9,053`` next to ``12,240``); ``None``: not a number."""
    v = num(value)
    return None if v is None else f"{round(v):,}"


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def column_format(values: Iterable[Any], scientific: bool = False) -> Callable[[float], str] | None:
    """One number format for a whole column, so that its values line up and read alike: integers stay
    integers (``None``: :func:`fmt` as it is); floats are in scientific notation where the column is on a
    log scale (``scientific``: a learning rate) or a value needs it (below 1e-3 or from 1e6), else fixed-point
    with 4 decimals, fewer from 10 up (4 significant digits of the column's largest value)."""
    nums = [v for v in values if _is_num(v) and math.isfinite(v)]
    if not nums or all(isinstance(v, int) for v in nums):
        return None
    if all(float(v).is_integer() and abs(v) < 1e15 for v in nums) and max(abs(v) for v in nums) >= 2:
        # whole numbers read back as floats (a trials table's int settings beside NaN cells): 21, not 2.100e+01
        return lambda v: f"{int(v):d}"
    sizes = [abs(v) for v in nums if v != 0]
    if scientific or any(a < 1e-3 or a >= 1e6 for a in sizes):
        return lambda v: f"{v:.3e}"
    decimals = max(0, 4 - max(0, math.floor(math.log10(max(sizes, default=1.0)))))
    return lambda v: f"{v:.{decimals}f}"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    raw_cols: Sequence[int] = (),
    limit: int = MAX_TABLE_ROWS,
    caption: str | None = None,
    stack: bool = False,
    uniform: bool | Collection[int] = False,
    scientific: Collection[int] = (),
    num_cols: Collection[int] = (),
) -> str:
    """An HTML table; cells are formatted and escaped except the columns in ``raw_cols`` (already HTML).

    ``stack``: on a narrow screen each row becomes a block, its cells one under the other with their column's
    name (for tables of sentences, which squeezed into columns would make each row a screen tall).
    ``uniform``: each column of numbers (or those whose indexes it lists) in one format
    (:func:`column_format`), the columns in ``scientific`` (log-scaled settings) in scientific notation.
    ``num_cols``: columns of numbers given as text already formatted (``697 ms``), right-aligned as numbers."""
    rows = list(rows)
    shown = rows[:limit]
    width = max((len(r) for r in shown), default=0)
    columns = [[r[i] for r in shown if i < len(r)] for i in range(width)]
    # a column of numbers: its blanks ("–") are right-aligned with the numbers
    numeric = [any(_is_num(c) for c in col) and all(c is None or _is_num(c) for c in col) for col in columns]
    if isinstance(uniform, bool):
        uniform = range(width) if uniform else ()
    formats = [
        column_format(col, i in scientific) if i in uniform and i not in raw_cols else None
        for i, col in enumerate(columns)
    ]

    def cell(i: int, c: Any) -> str:
        if i in raw_cols:
            return f"<td{_label(headers, i, stack)}>{c}</td>"
        form = formats[i]
        text = form(c) if form is not None and _is_num(c) and math.isfinite(c) else fmt(c)
        cls = ' class="num"' if _is_num(c) or (c is None and numeric[i]) or i in num_cols else ""
        return f"<td{cls}{_label(headers, i, stack)}>{text}</td>"

    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = ["<tr>" + "".join(cell(i, c) for i, c in enumerate(r)) + "</tr>" for r in shown]
    more = (
        f'<p class="note">Showing {limit} of {len(rows)} rows; every row is in the JSON.</p>'
        if len(rows) > limit
        else ""
    )
    # the caption stands above the scrolling box, not in it: inside, a phone cut it off with the table's width
    cap = f'<div class="table-caption">{esc(caption)}</div>' if caption else ""
    cls = ' class="stack"' if stack else ""
    return (
        f'{cap}<div class="table-wrap"><table{cls}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
        f"</table></div>{more}"
    )


def _label(headers: Sequence[str], i: int, stack: bool) -> str:
    return f' data-label="{esc(headers[i])}"' if stack and i < len(headers) else ""


def figure(png: bytes, alt: str, caption: str | None = None) -> str:
    """An embedded PNG.  On a narrow screen it keeps its drawn size (its text ~12 px) inside a strip that
    scrolls sideways, rather than shrinking to a third with text nobody can read; the caption stays put."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><div class="fig-scroll"><img src="{plots.data_uri(png)}" alt="{esc(alt)}"></div>'
        f'<span class="fig-hint">Wide figure: scroll it sideways.</span>{cap}</figure>'
    )


def kv_list(items: Iterable[tuple[str, Any]]) -> str:
    """Tiles of facts.  A text value breaks after its commas (``logreg,random_forest,network``), never inside
    a word."""
    cells = "".join(
        f"<div><dt>{esc(str(k).replace('_', ' '))}</dt><dd>{_breakable(v)}</dd></div>" for k, v in items
    )
    return f'<dl class="kv">{cells}</dl>' if cells else ""


def _breakable(value: Any) -> str:
    text = fmt(value)
    return text.replace(",", ",<wbr>") if isinstance(value, str | list | tuple) else text


#: a data summary's keys (load's DataSummary.to_dict) in words, in the order shown
DATA_LABELS = {
    "source": "data",
    "kind": "kind",
    "task": "task",
    # a text run's (data/text.py TextData.describe): what was read, each drop, what was kept; they add up
    "text_column": "text column",
    "label_column": "label column",
    "n_read": "rows read",
    "n_duplicates_dropped": "duplicate texts dropped",
    "n_empty_dropped": "empty texts dropped",
    "n_missing_label_dropped": "rows without a label dropped",
    "n_other_classes_dropped": "rows of other classes dropped",
    "n_balanced_away": "rows balanced away",
    "n_rows": "texts kept",
    "class_counts": "texts per class",
    "split rows": "rows (train / valid / test)",
    "rows": "rows",
    "n_features": "input features",
    "input_shape": "input shape",
    "n_outputs": "outputs",
    "n_classes": "classes",
    "classes": "classes",
    "train_class_counts": "training rows per class",
    "dropped_rows": "rows dropped",
    "y_mean": "target mean (training rows)",
    "y_std": "target sd (training rows)",
}


def data_summary(data: Mapping[str, Any]) -> str:
    """A run's data summary as labelled tiles: splits on one line, the classes with their training counts,
    empty values left out; keys not known here follow under their own names."""
    d = {k: v for k, v in data.items() if v is not None and v != [] and v != {}}
    split = [d.pop(k, None) for k in ("n_train", "n_valid", "n_test")]
    if any(x is not None for x in split):
        d["split rows"] = " / ".join("–" if x is None else fmt(x) for x in split)
    for key in ("train_class_counts", "class_counts"):
        counts = d.get(key)
        if isinstance(counts, Mapping):
            d[key] = ", ".join(f"{k}: {fmt(v)}" for k, v in counts.items())
            if isinstance(d.get("classes"), list):
                d.pop("classes")  # named with their counts
    if isinstance(d.get("classes"), list):
        d["classes"] = f"{len(d['classes'])}: {', '.join(map(str, d['classes']))}"
        d.pop("n_classes", None)
    if isinstance(d.get("input_shape"), list):
        d["input_shape"] = " x ".join(map(str, d["input_shape"]))
    known = [(DATA_LABELS[k], d[k]) for k in DATA_LABELS if k in d]
    other = [(k, v) for k, v in d.items() if k not in DATA_LABELS and not isinstance(v, Mapping | list)]
    return kv_list(known + other)


def render_json(obj: Any, depth: int = 0) -> str:
    """Any JSON value as escaped HTML: dicts as key/value lists, lists of dicts as tables."""
    if depth > 4:
        return f"<code>{esc(obj)}</code>"
    if isinstance(obj, Mapping):
        if not obj:
            return "–"
        if all(not isinstance(v, Mapping | list) for v in obj.values()):
            return kv_list((str(k), v) for k, v in obj.items())
        parts = []
        for k, v in obj.items():
            parts.append(f'<div class="sub"><h4>{esc(k)}</h4>{render_json(v, depth + 1)}</div>')
        return "".join(parts)
    if isinstance(obj, list):
        if not obj:
            return "–"
        if all(isinstance(v, Mapping) for v in obj):
            keys: list[str] = []
            for v in obj:
                keys += [str(k) for k in v if str(k) not in keys]
            return table(keys, [[_cell(v.get(k)) for k in keys] for v in obj])
        if all(isinstance(v, list) for v in obj):
            width = max(len(v) for v in obj)
            return table([f"#{i + 1}" for i in range(width)], [[_cell(x) for x in v] for v in obj])
        return fmt(obj)
    return fmt(obj)


def _cell(v: Any) -> Any:
    return (
        v
        if not isinstance(v, Mapping | list)
        or (isinstance(v, list) and all(not isinstance(x, Mapping | list) for x in v))
        else str(v)
    )


def _sig(value: float | None) -> str:
    return "–" if value is None else fmt(value)


# ------------------------------------------------------------------------------------------- sections ---


class Section:
    """A card of the page; ``nav``: its name in the navigation bar where the title is too long for it."""

    def __init__(
        self, anchor: str, title: str, body: str, lead: bool = False, kind: str = "", nav: str = ""
    ) -> None:
        self.anchor, self.title, self.body, self.lead, self.kind = anchor, title, body, lead, kind
        self.nav = nav

    def html(self) -> str:
        cls = "card lead" if self.lead else f"card {self.kind}" if self.kind else "card"
        return (
            f'<section id="{esc(self.anchor)}" class="{cls}"><h2>{esc(self.title)}</h2>{self.body}</section>'
        )


def _verdict_source(run: RunData) -> Mapping[str, Any] | None:
    for src in (
        run.verdict,
        text_verdict(run.text),
        (run.result or {}).get("verdict"),
        (run.graph or {}).get("verdict"),
    ):
        if isinstance(src, Mapping):
            return src
    return None


def section_verdict(run: RunData, **_: Any) -> list[Section]:
    v = verdict_view(_verdict_source(run))
    if v is None:
        return []
    tone = {
        "network": "good",
        "baseline": "base",
        "no_significant_difference": "tie",
        "embeddings": "good",
    }.get(v["recommendation"], "tie")
    badge = "Interrupted run: partial results" if v["partial"] else "Recommendation"
    reasons = "".join(f"<li>{esc(r)}</li>" for r in v["reasons"])
    facts: list[tuple[str, Any]] = []
    if v["best_network"]:
        facts.append((v.get("network_label") or "best network", v["best_network"]))
    if v["best_baseline"]:
        facts.append((v["baseline_label"], v["best_baseline"]))
    if v["p_value"] is not None:
        # compare writes the main pair's uncorrected p and, per baseline, Holm's p: name which this one is
        what = "; ".join(
            x
            for x in (
                f"test: {v['test_name']}" if v["test_name"] else None,
                "not corrected for the several baselines" if v["comparisons"] else None,
            )
            if x
        )
        pair = f", {v['pair']}" if v["pair"] else ""
        facts.append((f"p-value{pair}" + (f" ({what})" if what else ""), v["p_value"]))
    if v["decision_p"] is not None:
        label, p = v["decision_p"]
        facts.append((f"{label}: the p the recommendation uses", p))
    if v["alpha"] is not None:
        facts.append(("significance level", v["alpha"]))
    eff = v["effect"]
    if eff and eff["estimate"] is not None:
        level = f"{eff['level']:.0%} " if eff["level"] is not None and eff["level"] <= 1 else ""
        ci = (
            f" [{fmt(eff['low'])}, {fmt(eff['high'])}] ({level}CI)"
            if eff["low"] is not None and eff["high"] is not None
            else ""
        )
        facts.append((str(eff["name"] or "effect size (network − baseline)"), f"{fmt(eff['estimate'])}{ci}"))
    facts += [(str(k), x) for k, x in v["extra_facts"] if x is not None]
    if v["standardized_effect"] is not None:
        facts.append(
            (
                "standardised effect size (mean difference / sd of the fold differences; the folds' training "
                "sets overlap, so it runs larger than a Cohen's d between independent samples)",
                v["standardized_effect"],
            )
        )
    body = (
        f'<div class="verdict {tone}"><div class="verdict-label">{esc(badge)}</div>'
        f'<div class="verdict-head">{esc(v["headline"])}</div></div>'
        + (f'<h3>Why</h3><ul class="reasons">{reasons}</ul>' if reasons else "")
        + kv_list(facts)
    )
    out = [Section("verdict", "Verdict", body, lead=True)]

    parts = []
    if v["models"]:
        parts += _candidates(v)
    elif v["costs"]:
        parts.append(render_json(v["costs"]))
    if v["comparisons"]:
        parts.append(_comparisons_table(v))
    if v["searches"] or v["models"]:
        parts.append(_searches_table(v))
    lc = v["learning_curve"]
    if lc:
        parts.append(
            figure(
                plots.learning_curve_fraction(
                    lc["fractions"],
                    {_curve_name(k, v): ys for k, ys in lc["curves"].items()},
                    {_curve_name(k, v): ys for k, ys in lc["spreads"].items()},
                    v["metric"],
                ),
                "Learning curve: score against training-set fraction",
            )
        )
        parts.append(_learning_curve_table(lc, v))
        if lc["notes"]:
            parts.append(
                '<ul class="reasons">' + "".join(f"<li>{esc(n)}</li>" for n in lc["notes"]) + "</ul>"
            )
    if isinstance(v["data"], Mapping):
        parts.append("<h3>Data</h3>" + data_summary(v["data"]))
    if parts:
        out.append(Section("baselines", "Network vs classic baselines", "".join(parts)))
    return out


def _learning_curve_table(lc: Mapping[str, Any], v: Mapping[str, Any]) -> str:
    """The learning curve's points as numbers: training rows (or share), each curve's score, and how many rows
    each point was scored on."""
    names = list(lc["curves"])
    rows_known = lc["n_rows"] is not None
    heads = [
        "training rows" if rows_known else "share of the training rows",
        *(f"{_curve_name(k, v)} {v['metric']}" for k in names),
    ]
    gap = "network" in lc["curves"] and "baseline" in lc["curves"]
    if gap:
        heads.append("gap (network − baseline)")
    body = []
    for i, f in enumerate(lc["fractions"]):
        ys = [lc["curves"][k][i] if i < len(lc["curves"][k]) else None for k in names]
        first_cell: Any = f"{lc['n_rows'][i]:,} ({f:.0%})" if rows_known else f"{f:.0%}"
        row = [first_cell, *ys]
        if gap:
            n, b = ys[names.index("network")], ys[names.index("baseline")]
            row.append(n - b if n is not None and b is not None else None)
        body.append(row)
    where = {"test": "the test split", "valid": "the validation split"}.get(lc["evaluated_on"] or "", "")
    scored = (
        f"each point scored on the same {lc['n_evaluated']:,} rows of {where or 'the evaluation split'}"
        if lc["n_evaluated"]
        else f"each point scored on {where}"
        if where
        else ""
    )
    return table(
        heads,
        body,
        caption="Learning curve" + (f" ({scored})" if scored else ""),
        uniform=True,
        num_cols=(0,),
        limit=200,
    )


def _compact_params(params: Mapping[str, Any], shown: Sequence[str]) -> str:
    """``name value`` pairs, one line: the hyperparameters a reader compares, not a JSON dump."""
    items = []
    for k in shown:
        value = params.get(k)
        text = (
            ", ".join(str(x) for x in value)
            if isinstance(value, list)
            else f"{value:.3g}"
            if isinstance(value, float)
            else str(value)
        )
        items.append(f"<code>{esc(k)}</code> {esc(text)}")
    return " · ".join(items)


def _network_params(params: Mapping[str, Any], searched: Sequence[str]) -> tuple[list[str], bool]:
    """The settings of a tuned network worth showing: those the search chose (its dimensions, grouped as the
    configuration holds them) and those away from their defaults, leaving out settings the configuration does
    not use (momentum of an Adam network); and whether others were left out."""
    from hyperselect.nn.config import MLPConfig

    defaults = MLPConfig().to_dict()
    chosen = set(searched)
    for target, dims in GROUPED_DIMS.items():
        if chosen & set(dims):
            chosen.add(target)
    keep = [
        k
        for k in params
        if k != "arch"
        and unused_setting(k, params) is None
        and (k in chosen or k not in defaults or params[k] != defaults[k])
    ]
    return keep, len(keep) < len([k for k in params if k != "arch"])


def _searches_table(v: Mapping[str, Any]) -> str:
    """Each tuned model's search (trials asked, finished, completed, pruned, by the timeout, failed) and the
    hyperparameters of the compared pair, compactly; a note where the network search was cut short."""
    searches = {s["name"]: s for s in v["searches"]}
    models = {m["name"]: m for m in v["models"]}
    compared = [n for n in (v["best_network"], v["best_baseline"]) if n]
    names = list(dict.fromkeys([*compared, *searches]))
    rows = []
    for n in names:
        s = searches.get(n, {})
        m = models.get(n, {})
        params = m.get("params") if isinstance(m.get("params"), Mapping) else None
        is_net = (s.get("kind") or m.get("kind")) == "network"
        hyper = ""
        if params is not None and n in compared:
            if is_net:
                shown, more = _network_params(params, s.get("searched") or [])
                hyper = _compact_params(params, shown) + (
                    ' <span class="note">(other settings at their defaults; all in verdict.json)</span>'
                    if more
                    else ""
                )
            else:
                hyper = _compact_params(params, list(params)) or '<span class="note">defaults</span>'
        epochs = (
            f"{s['best_trial_epochs']} / {s['max_epochs']}"
            if is_net and s.get("best_trial_epochs") is not None and s.get("max_epochs") is not None
            else None
        )
        rows.append(
            [
                esc(n) + (" <strong>*</strong>" if n in compared else ""),
                s.get("kind") or m.get("kind"),
                s.get("asked"),
                s.get("finished"),
                s.get("completed"),
                s.get("pruned") if is_net else None,
                s.get("pruned_by_timeout") if is_net else None,
                s.get("failed"),
                epochs,
                hyper,
            ]
        )
    # short headers: the table must fit a page's width, so that the hyperparameters column is seen (headers do
    # not wrap, and a long one pushed that column out of view at 1280 px)
    heads = [
        "model",
        "kind",
        "trials",
        "finished",
        "completed",
        "pruned",
        "by timeout",
        "failed",
        "epochs",
        "hyperparameters (* compared)",
    ]
    # columns without a value (a verdict.json written before the searches were recorded) are left out
    keep = [i for i, h in enumerate(heads) if i in (0, len(heads) - 1) or any(r[i] is not None for r in rows)]
    if not any(r[-1] for r in rows):
        keep = [i for i in keep if i != len(heads) - 1]
    if keep == [0] or keep == [0, 1]:
        return ""
    timeout = v.get("timeout")
    protocol = v.get("protocol") or {}
    budget = [
        f"{protocol['n_trials']} network trials per architecture"
        if isinstance(protocol.get("n_trials"), int)
        else "",
        f"{protocol['baseline_trials']} per baseline family"
        if isinstance(protocol.get("baseline_trials"), int)
        else "",
        f"timeout {timeout:g} s per search"
        if timeout is not None
        else "no timeout"
        if "timeout" in protocol  # (a verdict.json written before the timeout was recorded says nothing)
        else "",
    ]
    cut = [
        row["name"]
        for row in v["searches"]
        if row.get("kind") == "network"
        and (
            row.get("completed") == 0
            or (row.get("pruned_by_timeout") or 0) > 0
            or (
                row.get("finished") is not None
                and row.get("asked") is not None
                and row["finished"] < row["asked"]
            )
        )
    ]
    warn = (
        f'<p class="note"><strong>The network search of {esc(", ".join(cut))} was cut short</strong> '
        "(see the reasons above): the network compared may be under-tuned.</p>"
        if cut
        else ""
    )
    body = [[r[i] for i in keep] for r in rows]
    raw = [j for j, i in enumerate(keep) if i in (0, len(heads) - 1)]
    return (
        "<h3>Searches and tuned hyperparameters</h3>"
        + warn
        + table(
            [heads[i] for i in keep],
            body,
            raw_cols=raw,
            caption="Budget: " + ", ".join(b for b in budget if b) + "; * the compared pair",
            limit=200,
        )
    )


def _curve_name(key: str, v: Mapping[str, Any]) -> str:
    """A learning curve's legend entry: the verdict's curves are its best network and best baseline, named."""
    model = {"network": v["best_network"], "baseline": v["best_baseline"]}.get(key)
    return f"{key} ({model})" if model and model != key else key


#: the costs a verdict records per model, and their column headers
COSTS = {
    "fit_seconds": "fit time / fold",
    "predict_seconds_per_1k": "predict ms / 1k rows",
    "n_parameters": "params",
}


def _candidates(v: Mapping[str, Any]) -> list[str]:
    """Every model's score (chart + table, the compared pair highlighted) and its cost, as the CLI prints it."""
    compared = v["highlight"] or [n for n in (v["best_network"], v["best_baseline"]) if n]
    models = v["models"]
    scored = [m for m in models if m["mean"] is not None]
    # one score per model (a text run's single test split): no mean, no error bars
    single = not any(m["scores"] or m["std"] is not None for m in models)
    what = "the compared models" if len(compared) > 2 else "the compared pair"
    parts = []
    if scored:
        parts.append(
            figure(
                plots.baseline_comparison(models, v["metric"], compared),
                "Bar chart of the score of each model"
                if single
                else "Bar chart of the mean score of each model with error bars",
                caption=(f"Highlighted: {what} ({and_list(compared)})." if compared else None),
            )
        )
    costs = {c["name"]: c for c in v["costs"]}

    def cost(m: Mapping[str, Any], key: str) -> Any:
        value = m.get(key, costs.get(m["name"], {}).get(key))
        if key == "predict_seconds_per_1k" and num(value) is not None:
            return float(value) * 1e3  # milliseconds, as the CLI prints
        if key == "fit_seconds":  # 697 ms next to 0.65 ms, not 0.6968 next to 6.505e-04
            return seconds_text(value)
        if key == "n_parameters":  # 9,053 next to 12,240
            return count_text(value) if num(value) is not None else value if isinstance(value, str) else None
        return num(value)

    metric = v["metric"]
    splits = any(m["scores"] for m in models)
    cross_validated = splits or (not single and any(num(m.get("valid_score")) is not None for m in models))
    valid_head = f"validation {metric.removeprefix('test ')}" if single else f"tune-valid {metric}"
    # every column once, as (header, its cell of a model)
    columns: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = [
        ("kind", lambda m: m.get("kind") or m.get("family") or m.get("type")),
        (valid_head, lambda m: num(m.get("valid_score"))),
        (
            f"CV mean {metric}" if cross_validated else metric if single else f"mean {metric}",
            lambda m: m["mean"],
        ),
        ("CV sd" if cross_validated else "std", lambda m: m["std"]),
        ("splits", lambda m: len(m["scores"]) or None),
        (f"test {metric}", lambda m: num(m.get("test_score"))),
        *[(head, lambda m, k=key: cost(m, k)) for key, head in COSTS.items()],
    ]
    ordered = sorted(models, key=lambda m: -(m["mean"] if m["mean"] is not None else -math.inf))
    # a column no model has a value in (a text run's kind and sd: one test split) says nothing: left out
    columns = [(head, cell) for head, cell in columns if any(cell(m) is not None for m in ordered)]
    protocol = v.get("protocol") or {}
    cv = (
        f"CV = {protocol['n_repeats']} x {protocol['n_splits']}-fold, the same folds for every model"
        if isinstance(protocol.get("n_repeats"), int) and isinstance(protocol.get("n_splits"), int)
        else "mean and sd over the splits"
        if splits or any(m["std"] is not None for m in models)
        else "one score per model"
    )
    note = (
        "; networks other than the best are not cross-validated (–)"
        if any(m["mean"] is None for m in models)
        else ""
    )
    heads = ["model", *(head for head, _ in columns)]
    parts.append(
        table(
            heads,
            [
                [
                    esc(m["name"]) + (" <strong>*</strong>" if m["name"] in compared else ""),
                    *(cell(m) for _, cell in columns),
                ]
                for m in ordered
            ],
            raw_cols=(0,),
            caption=f"Candidates ({cv}; * {what}{note})",
            limit=200,
            # each column of scores in one format; the fit time and size columns are formatted text
            uniform=True,
            num_cols=[i for i, h in enumerate(heads) if h in (COSTS["fit_seconds"], COSTS["n_parameters"])],
        )
    )
    extra = [c for c in v["costs"] if c["name"] not in {m["name"] for m in models}]
    if extra:
        parts.append(render_json(extra))
    return parts


def _comparisons_table(v: Mapping[str, Any]) -> str:
    """The best network against each baseline: difference, CI, statistic, p and Holm's p (as the CLI prints)."""
    rows = v["comparisons"]
    level = next((c["confidence"] for c in rows if c["confidence"] is not None), None)
    ci = f"{level:.0%} CI" if level is not None and level <= 1 else "CI"
    test = next((c["test"] for c in rows if c["test"]), None) or v["test_name"]
    alpha = f", alpha {fmt(v['alpha'])}" if v["alpha"] is not None else ""
    return f"<h3>Best network ({esc(v['best_network'] or 'network')}) vs each baseline</h3>" + table(
        ["baseline", f"diff ({v['metric']})", ci, "statistic", "p (uncorrected)", "p (Holm)"],
        [
            [
                c["name"],
                c["mean_diff"],
                f"[{fmt(c['ci_low'])}, {fmt(c['ci_high'])}]"
                if c["ci_low"] is not None and c["ci_high"] is not None
                else None,
                c["statistic"],
                c["p_value"],
                c["p_holm"],
            ]
            for c in rows
        ],
        caption=f"{test or 'paired test'}{alpha}; diff = network − baseline; "
        + (
            "one baseline, so Holm's correction leaves its p as it is"
            if len(rows) == 1
            else f"Holm-corrected over the {len(rows)} baselines"
        ),
        limit=200,
    )


def _value_cell(value: Any) -> str:
    return f"<code>{fmt(value)}</code>"


#: search dimensions that together build one setting of the configuration: MLPConfig.hidden is searched as
#: n_layers x width x shape, CNNConfig.channels as n_conv x conv_channels (each next block doubling them)
GROUPED_DIMS = {"hidden": ("n_layers", "width", "shape"), "channels": ("n_conv", "conv_channels")}
ARCH_DIMS = tuple(d for dims in GROUPED_DIMS.values() for d in dims)
CNN_ONLY = ("channels", "kernel_size", "pool", "n_conv", "conv_channels")
#: which optimizers read each optimizer setting (nn/optim.py: plain SGD has no momentum, RMSProp none either)
OPTIMIZER_SETTINGS = {
    "momentum": ("momentum", "nesterov"),
    "beta1": ("adam", "adamw"),
    "beta2": ("adam", "adamw"),
    "eps": ("adam", "adamw", "rmsprop"),
}


def unused_setting(name: str, config: Mapping[str, Any]) -> str | None:
    """Why ``name`` does nothing in ``config`` (a setting of another optimizer, loss or architecture), or None.

    A configuration carries every setting with its default, so RMSProp's still says momentum 0.9: shown as
    a best value it would read as a choice."""
    opt, arch, loss = config.get("optimizer"), config.get("arch"), config.get("loss")
    users = OPTIMIZER_SETTINGS.get(name)
    if users and isinstance(opt, str) and opt not in users:
        return f"not used: the {opt} optimizer has no {name}"
    if name == "huber_delta" and isinstance(loss, str) and loss != "huber":  # "auto" is never Huber
        return "not used: the loss is not Huber" if loss == "auto" else f"not used: the loss is {loss}"
    if name in CNN_ONLY and isinstance(arch, str) and arch != "cnn":
        return f"not used: the best configuration is an {arch.upper()}"
    return None


def _setting_cell(name: str, config: Mapping[str, Any]) -> str:
    unused = unused_setting(name, config)
    return f'<span class="note">{esc(unused)}</span>' if unused else _value_cell(config.get(name))


def _rationale_cell(text: Any) -> str:
    """One reason as text; the reasons of a grouped setting as a list, one line per searched dimension."""
    if isinstance(text, list):
        return (
            '<ul class="why">'
            + "".join(f"<li><strong>{esc(d)}</strong>: {esc(t)}</li>" for d, t in text)
            + "</ul>"
        )
    return esc(text or "")


def _metric_label(key: str, task: Any) -> str:
    """A metric's name in words; a regression loss says it is on the standardised target (rmse, in the
    target's units, is the figure to compare with the data)."""
    name = key.replace("_", " ")
    return f"{name} (standardised target)" if task == "regression" and key.endswith("loss") else name


def section_best_config(run: RunData, **_: Any) -> list[Section]:
    s = search_view(run.result, run.trials_csv, run.curves)
    if s is None or not s["best_config"]:
        return []
    best, ranges = s["best_config"], dict(s["ranges"])
    why: dict[str, Any] = dict(s["rationale"])
    label = {n: n for n in best}
    for target, dims in GROUPED_DIMS.items():  # one row per setting, its dimensions' reasons one per line
        if target in best and target not in why:
            searched = [d for d in dims if d in why or d in ranges]
            if searched:
                why[target] = [(d, why[d]) for d in searched if d in why]
                ranges[target] = "; ".join(f"{d} {ranges[d]}" for d in searched if d in ranges)
    if best.get("arch") == "cnn" and "hidden" in best:
        label["hidden"] = "hidden (dense layers after the convolutions)"
    explained = [n for n in best if n in why or n in ranges]
    rest = [n for n in best if n not in explained]
    facts: list[tuple[str, Any]] = []
    if s["best_value"] is not None:
        facts.append((f"best {s['metric']} (validation)", s["best_value"]))
    task = (run.result or {}).get("task")
    facts += [(_metric_label(k, task), v) for k, v in s["metrics"].items()]
    if s["counts"]:
        facts.append(("trials", ", ".join(f"{n} {k.lower()}" for k, n in sorted(s["counts"].items()))))
    if s["best_trial"] is not None:
        facts.append(("best trial", s["best_trial"]))
    if s["study"] is not None:
        facts.append(("study", s["study"]))
    if s["seconds"] is not None:
        total = s.get("study_seconds")
        if total is not None and total > s["seconds"] + 0.5:  # resumed or shared: this run was one of several
            facts.append(("seconds, this run (search and refit)", s["seconds"]))
            facts.append(("search seconds, every run of the study", total))
        else:
            facts.append(("search seconds", s["seconds"]))
    body = kv_list(facts)
    body += table(
        ["hyperparameter", "best value", "searched over", "advisor's rationale"],
        [
            [esc(label[n]), _setting_cell(n, best), esc(ranges.get(n, "")), _rationale_cell(why.get(n))]
            for n in explained
        ],
        raw_cols=(0, 1, 2, 3),
        limit=200,
        stack=True,
    )
    if rest:
        body += (
            "<details><summary>Other settings of the best configuration</summary>"
            + table(
                ["setting", "value"],
                [[esc(n), _setting_cell(n, best)] for n in rest],
                raw_cols=(0, 1),
                limit=200,
            )
            + "</details>"
        )
    other = [n for n in why if n not in best and n not in ARCH_DIMS]
    if other:
        body += "<h3>Other choices of the advisor</h3>" + table(
            ["setting", "rationale"],
            [
                [
                    esc(n),
                    esc(why[n])
                    + (f' <span class="note">({esc(u)})</span>' if (u := unused_setting(n, best)) else ""),
                ]
                for n in other
            ],
            raw_cols=(0, 1),
            limit=200,
            stack=True,
        )
    if s["notes"]:
        body += '<ul class="reasons">' + "".join(f"<li>{esc(n)}</li>" for n in s["notes"]) + "</ul>"
    return [Section("best-config", "Best configuration", body)]


def section_diagnostics(run: RunData, **_: Any) -> list[Section]:
    findings = diagnostics(run.result, run.text, run.graph)
    trained = training_view(run.result) is not None
    if not findings and not trained:
        return []
    if not findings:
        return [
            Section(
                "diagnostics",
                "Training diagnostics",
                '<p class="ok">No gradient or optimisation problem found: no vanishing or exploding '
                "gradients, dead ReLUs, plateaus or overfitting.</p>",
            )
        ]
    items = []
    for f in findings:
        sev = f["severity"].lower()
        tone = sev if sev in ("warning", "info", "error") else "info"
        items.append(
            f'<div class="finding {tone}"><div class="finding-head"><span class="pill {tone}">{esc(sev)}'
            f"</span> <strong>{esc(f['kind'].replace('_', ' '))}</strong></div>"
            f'<p>{esc(f["evidence"])}</p><p class="remedy"><span>Remedy:</span> {esc(f["remedy"])}</p>'
            "</div>"
        )
    return [Section("diagnostics", "Training diagnostics", "".join(items))]


def halving_note(result: Mapping[str, Any]) -> str:
    """One sentence on the halving rungs of a search result (and the rows they trained on), or ""."""
    rungs = result.get("rungs")
    if not isinstance(rungs, list) or not rungs or not all(isinstance(r, int) for r in rungs):
        return ""
    text = f"Successive halving rungs at {', '.join(map(str, rungs))} epochs"
    fractions = result.get("rung_rows")
    if isinstance(fractions, list) and fractions and all(isinstance(f, int | float) for f in fractions):
        spans = [
            f"epochs up to {r} on {f:.0%} of the training rows"
            for r, f in zip(rungs, fractions, strict=False)
        ]
        text += f" ({'; '.join(spans)}; later epochs on every row)"
    return f'<p class="note">{esc(text)}.</p>'


def section_search(run: RunData, **_: Any) -> list[Section]:
    s = search_view(run.result, run.trials_csv, run.curves)
    if s is None:
        return []
    trials, maximize, metric = s["trials"], s["maximize"], s["metric"]
    parts: list[str] = []
    if s["source"]:
        others = (
            f" It also holds the studies {', '.join(map(repr, s['other_studies']))}, not shown."
            if s["other_studies"]
            else ""
        )
        missing = (
            "This run's result.json could not be read (see above)"
            if "result.json" in run.unreadable
            else "This run has no result.json (tune writes it once a trial has produced a score)"
        )
        parts.append(
            f'<p class="note">{missing}; '
            f"the trials of study {esc(repr(s['study']))} are read from {esc(s['source'])}.{esc(others)}</p>"
        )
    if not any(t["state"] == "COMPLETE" and t["value"] is not None for t in trials):
        words = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}
        tally = ", ".join(f"{n} {words.get(k, k)}" for k, n in sorted(s["counts"].items()) if n)
        what = (
            f"No trial completed with a score ({tally or f'{len(trials)} recorded'})"
            if trials
            else "The search recorded no trial"
        )
        causes = sorted({str(t["reason"]) for t in trials if t.get("reason")})
        why = (
            f"; the reasons given: {'; '.join(causes[:3])}" + (" …" if len(causes) > 3 else "")
            if causes
            else ""
        )
        parts.append(
            f'<div class="finding warning"><p><strong>{esc(what)}</strong>, so there is no best configuration'
            f"{esc(why)}.</p></div>"
        )
    if not trials:
        return [Section("search", "Hyperparameter search", "".join(parts))]
    halving = halving_note(run.result or {})
    if halving:
        parts.append(halving)
    if any(t["value"] is not None for t in trials):  # with none the plot would be an empty frame
        parts.append(
            figure(plots.optimization_history(trials, maximize, metric), "Optimization history of the trials")
        )
    params: list[str] = sorted(s["importances"], key=lambda k: -s["importances"][k]) or list(s["best_config"])
    for t in trials:
        params += [p for p in t["params"] if p not in params]
    if params:
        parts.append(
            figure(
                plots.parallel_coordinates(trials, params, maximize, metric),
                "Parallel coordinates plot of the trials' hyperparameters",
            )
        )
    if s["importances"]:
        note = (run.result or {}).get("importances_note")
        parts.append(
            figure(
                plots.importances(s["importances"]),
                "Bar chart of hyperparameter importances",
                caption=str(note) if note else None,
            )
        )

    def key(t: Mapping[str, Any]) -> float:
        return (-t["value"] if maximize else t["value"]) if t["value"] is not None else math.inf

    complete = sorted((t for t in trials if t["state"] == "COMPLETE"), key=key)
    top = [(f"trial {t['number']}", t["curve"]) for t in complete if t["curve"]][:TOP_CURVES]
    pruned = [t["curve"] for t in trials if t["state"] == "PRUNED" and t["curve"]][:MAX_PRUNED_CURVES]
    if top or pruned:
        parts.append(
            figure(
                plots.trial_learning_curves(top, pruned, metric),
                "Learning curves of the best and of pruned trials",
            )
        )
    ranked = complete + sorted((t for t in trials if t["state"] != "COMPLETE"), key=lambda t: t["number"])
    extra = [k for k in ("epochs", "seconds") if any(t.get(k) not in (None, "") for t in trials)]
    # Optuna's value is a pruned trial's last epoch, while halving compares (and its reasons quote) the best
    # epoch: where they can differ, both are shown under headers that say which
    best_col = any(t.get("best_score") is not None for t in trials)
    headers = [
        "trial",
        "state",
        *([f"{metric} (trial value)", f"best {metric} over epochs"] if best_col else [metric]),
        *extra,
        *params,
    ]
    rows = [
        [
            t["number"],
            t["state"],
            t["value"],
            *([t.get("best_score")] if best_col else []),
            *[t.get(k) for k in extra],
            *[t["params"].get(p) for p in params],
        ]
        for t in ranked
    ]
    # one number format per column; log-scaled settings (a learning rate) in scientific notation
    sci = [i for i, p in enumerate(params, len(headers) - len(params)) if p in s["log_scaled"]]
    parts.append("<h3>Trials</h3>" + table(headers, rows, uniform=True, scientific=sci))
    if best_col:
        parts.append(
            f"<p class=\"note\">Trial value: Optuna's value of the trial, for a pruned trial its last epoch's "
            f"{esc(metric)}. Best over epochs: the trial's best validation {esc(metric)}, the figure successive "
            "halving compares and the reasons below quote.</p>"
        )
    # reasons are sentences: a table of their own keeps the wide parameter table readable
    reasons = [[t["number"], t["state"], t["reason"]] for t in ranked if t.get("reason")]
    if reasons:
        parts.append("<h3>Why each trial stopped</h3>" + table(["trial", "state", "reason"], reasons))
    return [Section("search", "Hyperparameter search", "".join(parts))]


def section_training(run: RunData, **_: Any) -> list[Section]:
    tv = training_view(run.result)
    if tv is None:
        return []
    hist = tv["history"]
    facts: list[tuple[str, Any]] = [
        (k, tv[k])
        for k in ("task", "status", "stop_reason", "best_epoch", "n_parameters", "seconds")
        if tv[k] is not None
    ]
    facts += [(_metric_label(k, tv["task"]), v) for k, v in tv["metrics"].items()]
    parts = [kv_list((k.replace("_", " "), v) for k, v in facts)]
    if any(hist.get(k) for k in ("train_loss", "valid_loss", "valid_score")):
        score = "valid score"
        if isinstance(tv.get("metric"), str):
            score = "valid " + metric_label(tv["metric"])
        elif isinstance(tv["task"], str):
            score = "valid " + {"regression": "r2", "multilabel": "f1 micro"}.get(tv["task"], "accuracy")
        parts.append(figure(plots.training_curves(hist, score), "Training and validation loss per epoch"))
        if tv["task"] == "regression":  # the trainer fits the standardised target (data/tabular.py)
            parts.append(
                '<p class="note">The losses (and the best value an early stop quotes) are on the standardised '
                "target: its training rows' mean subtracted, divided by their sd, so a loss of 0.01 is 1 % of "
                "the target's variance. r2 has no unit; rmse and mae are in the target's own units, as the "
                "validation score is where it is -MAE (neg_mae) or -RMSE (neg_rmse).</p>"
            )
    if any(hist.get("grad_norms") or []):
        parts.append(
            figure(
                plots.gradient_norms(hist["grad_norms"], hist.get("epoch")),
                "Gradient norm of each layer per epoch",
            )
        )
    if tv["config"]:
        parts.append(
            "<details><summary>Full configuration</summary>" + render_json(tv["config"]) + "</details>"
        )
    return [
        Section(
            "training",
            "Training run" if run.result and "history" in run.result else "Refit of the best configuration",
            "".join(parts),
        )
    ]


def _report_table(rep: Any) -> str:
    if isinstance(rep, str):
        return f"<pre>{esc(rep)}</pre>"
    if not isinstance(rep, Mapping):
        return ""
    rows: list[list[Any]] = []
    tail: list[list[Any]] = []
    for label, r in rep.items():
        if isinstance(r, Mapping):
            row = [
                label,
                num(r.get("precision")),
                num(r.get("recall")),
                num(r.get("f1-score", r.get("f1"))),
                r.get("support"),
            ]
            (tail if str(label).endswith(" avg") else rows).append(row)
    acc = num(rep.get("accuracy"))
    if acc is not None:
        total = next((r[4] for r in tail if r[0] == "macro avg"), None)
        tail.insert(0, ["accuracy", None, None, acc, total])
    return table(["class", "precision", "recall", "f1-score", "support"], rows + tail, limit=200)


def section_text(run: RunData, projection: str = "pca", **_: Any) -> list[Section]:
    text = run.text
    if not isinstance(text, Mapping):
        return []
    models = classification_reports(text)
    parts = []
    if models:
        if any(m["balanced_accuracy"] is not None for m in models):
            parts.append(
                table(
                    ["model", "accuracy", "balanced accuracy", "macro-F1"],
                    [[m["name"], m["accuracy"], m["balanced_accuracy"], m["macro_f1"]] for m in models],
                )
            )
        else:  # a file written before balanced accuracy was recorded
            parts.append(
                table(
                    ["model", "accuracy", "macro-F1"],
                    [[m["name"], m["accuracy"], m["macro_f1"]] for m in models],
                )
            )
    setup = _text_setup(text)
    if setup:
        parts.append("<h3>Setup</h3>" + setup)
    for m in models:
        sub = [f"<h3>{esc(m['name'])}</h3>"]
        row = ['<div class="cols">']
        if m["report"] is not None:
            row.append(f"<div>{_report_table(m['report'])}</div>")
        if m["matrix"]:
            row.append(
                "<div>"
                + figure(
                    plots.confusion_matrix(m["matrix"], m["labels"], f"Confusion matrix: {m['name']}"),
                    f"Confusion matrix of {m['name']}",
                )
                + "</div>"
            )
        row.append("</div>")
        sub.append("".join(row))
        parts.append("".join(sub))
    wrong = misclassified(text)
    if wrong:
        wrong.sort(key=lambda r: -(r["confidence"] if r["confidence"] is not None else -1))
        has_model = any(r["model"] for r in wrong)
        has_row = any(r["data_row"] is not None for r in wrong)
        rows = []
        for r in wrong:
            t = r["text"]
            short = t if len(t) <= MAX_EXAMPLE_CHARS else t[: MAX_EXAMPLE_CHARS - 1] + "…"
            rows.append(
                ([r["model"]] if has_model else [])
                + ([r["data_row"]] if has_row else [])
                + [short, r["true"], r["predicted"], r["confidence"]]
            )
        parts.append(
            "<h3>Most confidently misclassified examples</h3>"
            + table(
                (["model"] if has_model else [])
                + (["data row"] if has_row else [])
                + ["text", "true", "predicted", "confidence"],
                rows,
                limit=30,
            )
        )
    proj = _projection_figure(projection_view(text), projection, "Text embeddings")
    if proj:
        parts.append(proj)
    data = first(text, "data", "data_summary")
    if isinstance(data, Mapping):
        parts.append("<h3>Data</h3>" + data_summary(data))
    # what loading dropped (data.notes), then what the run re-weighted or warned of; each once
    notes = [
        str(n)
        for src in (data if isinstance(data, Mapping) else {}, text)
        if isinstance(src.get("notes"), list)
        for n in src["notes"]
        if n is not None
    ]
    if notes:
        parts.append(
            "<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in dict.fromkeys(notes)) + "</ul>"
        )
    if not parts:
        return []
    return [Section("text", "Text classification", "".join(parts))]


#: a text model's chosen settings (evaluate/text.py's details) shown in the setup table, in this order
TEXT_SETTINGS = ("alpha", "C", "svd_components", "tfidf_columns")
#: what a text verdict's ``selection`` says in words
SELECTIONS = {
    "validation": "each side's best model on the validation rows (not on the test rows)",
    "test": "the test scores, as a validation score was missing (see the verdict's reason)",
}


def _text_setup(text: Mapping[str, Any]) -> str:
    """How a text run was set up, as the JSON records it: the split, the metric, how the compared models were
    chosen, the encoder (model, length, time and speed), then per model its chosen settings, its trials, the
    rows it was validated on, its validation score and its seconds (fit, encoding, total)."""
    facts: list[tuple[str, Any]] = []
    split = text.get("split")
    if isinstance(split, Mapping) and any(split.get(k) is not None for k in ("train", "valid", "test")):
        facts.append(
            ("rows (train / valid / test)", " / ".join(fmt(split.get(k)) for k in ("train", "valid", "test")))
        )
    raw = text.get("verdict_details")
    details: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    metric = first(details, "metric") or text.get("metric")
    label = {"f1_macro": "macro-F1", "balanced_accuracy": "balanced accuracy"}.get(str(metric), metric)
    if label:
        facts.append(("metric (settings chosen and models compared by it)", label))
    selection = details.get("selection")
    if isinstance(selection, str) and selection:
        facts.append(("compared models chosen by", SELECTIONS.get(selection, selection)))
    raw = text.get("encoding")
    enc: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if enc.get("model"):
        facts.append(("encoder", enc["model"]))
    length = first(enc, "max_seq_length") or first(text, "max_seq_length")
    if length is not None:
        facts.append(("encoder --max-seq-length (word pieces)", length))
    secs, speed = seconds_text(enc.get("seconds")), num(enc.get("texts_per_second"))
    if secs is not None:
        cached = (
            f"; {count_text(enc['n_cached'])} of {count_text(enc.get('n_distinct') or enc.get('n_texts'))} "
            "from the cache"
            if num(enc.get("n_cached")) and (num(enc.get("n_distinct")) or num(enc.get("n_texts")))
            else ""
        )
        facts.append(
            (
                "encoding time",
                secs + (f" ({speed:,.0f} texts/s{cached})" if speed is not None else ""),
            )
        )
    raw = text.get("models")
    models: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    valid = _text_valid(text)
    rows = []
    for key, m in models.items():
        if not isinstance(m, Mapping):
            continue
        d: Mapping[str, Any] = m["details"] if isinstance(m.get("details"), Mapping) else {}
        settings = {k: d[k] for k in TEXT_SETTINGS if d.get(k) is not None}
        chosen = _compact_params(settings, list(settings))
        config = d.get("best_config")
        if isinstance(config, Mapping):
            shown, more = _network_params(config, [])
            chosen = " · ".join(x for x in (_compact_params(config, shown), chosen) if x) + (
                ' <span class="note">(others at their defaults)</span>' if more else ""
            )
        rows.append(
            [
                esc(m.get("name", key)),
                chosen,
                _trial_counts(d),
                d.get("valid_rows")
                or ("the validation split" if any(str(k).startswith("valid_") for k in d) else None),
                valid.get(str(key)),
                seconds_text(m.get("seconds")),
                seconds_text(m.get("encoding_seconds")),
                seconds_text(m.get("total_seconds")),
            ]
        )
    heads = [
        "model",
        "chosen settings",
        "trials",
        "validated on",
        f"validation {label or 'score'}",
        "fit seconds",
        "encoding seconds",
        "total seconds",
    ]
    keep = [i for i in range(len(heads)) if i == 0 or any(r[i] not in (None, "") for r in rows)]
    body = kv_list(facts)
    if rows and len(keep) > 1:
        body += table(
            [heads[i] for i in keep],
            [[r[i] for i in keep] for r in rows],
            raw_cols=[j for j, i in enumerate(keep) if i in (0, 1)],
            num_cols=[j for j, i in enumerate(keep) if i >= 5],
            uniform=[j for j, i in enumerate(keep) if i == 4],
            caption="Each model as fitted: the settings its validation chose (a network's: those away from "
            "their defaults), its trials, and its seconds (fit: training and prediction; encoding: the "
            "texts' embeddings)",
            limit=200,
        )
    return body


def _text_valid(text: Mapping[str, Any]) -> dict[str, float]:
    raw = text.get("models")
    details = text.get("verdict_details") if isinstance(text.get("verdict_details"), Mapping) else {}
    metric = str(first(details, "metric") or text.get("metric") or "accuracy")
    return text_valid_scores(text, raw if isinstance(raw, Mapping) else {}, metric)


def _trial_counts(details: Mapping[str, Any]) -> str | None:
    """A network search's trials: ``6: 1 complete, 5 pruned`` (failed where any), or as many as asked."""
    counts = details.get("counts")
    if isinstance(counts, Mapping):
        words = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}
        done = [f"{int(n)} {w}" for k, w in words.items() if (n := num(counts.get(k)))]
        total = num(counts.get("finished"))
        if total is None:
            total = sum(num(counts.get(k)) or 0 for k in words)
        return f"{int(total)}: {', '.join(done)}" if done else f"{int(total)}"
    n = num(details.get("n_trials"))
    return None if n is None else f"{int(n)} asked"


#: the projections' names as written in print
PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "t-sne": "t-SNE", "umap": "UMAP"}


def _projection_figure(view: Mapping[str, Any] | None, method: str, what: str) -> str:
    if not view:
        return ""
    pts, labels, names = view["points"], view["labels"], view["names"]
    src = pts if pts is not None else view["vectors"]
    step = max(1, math.ceil(len(src) / MAX_POINTS))
    src = src[::step]
    labels = labels[::step] if labels else None
    names = names[::step] if names else None
    how = view.get("method") or method
    if pts is None:
        pts = plots.project_2d(src, method=method)
    else:
        pts = src
    title = f"{what}: 2-D projection ({PROJECTION_NAMES.get(str(how).lower(), str(how))})" + (
        ", coloured by label" if labels else ""
    )
    note = f" (every {step}th point of {len(view['points'] or view['vectors'])})" if step > 1 else ""
    return figure(
        plots.projection_2d(pts, labels, title, annotate=names),
        f"{what} projected to two dimensions",
        caption=f"{len(pts)} points{note}.",
    )


def _ranking(part: Any, effort: Any, k: Any = None) -> str | None:
    """How answers are ordered (cli_graph's caption): over an ensemble, by mean rank, which the mean similarity
    shown need not follow; ``k`` (the number of answers asked for) is what support counts against, so two
    lists of the same nodes with different k have different supports, and the caption says which k."""
    own = part.get("effort") if isinstance(part, Mapping) else None
    effort = own if isinstance(own, Mapping) else effort
    runs = num(effort.get("ensemble")) if isinstance(effort, Mapping) else None
    if runs is None or runs <= 1:
        return None
    top = f"top {int(k)}" if isinstance(k, int) and not isinstance(k, bool) and k > 0 else "top k"
    return (
        f"Ranked by mean rank over {runs:g} ensemble runs, not by the similarity shown; similarity: mean cosine "
        f"over the runs; support: share of the {runs:g} runs with it in their {top}."
    )


def _k(part: Any, key: str, rows: Any) -> Any:
    """The k of a list of answers: as recorded (``k``, ``n_peers``), else the number of answers given (a
    list is cut at k, so a shorter one was all there was)."""
    params = part.get("params") if isinstance(part, Mapping) else None
    for src in (part, params):
        k = src.get(key) if isinstance(src, Mapping) else None
        if isinstance(k, int) and not isinstance(k, bool):
            return k
    return len(rows) if isinstance(rows, list) and rows else None


def _answers(rows: Any, what: str = "node", caption: str | None = None) -> str:
    """``Answer.to_dict()`` rows (node, similarity, support, score) as a table."""
    if not isinstance(rows, list) or not rows:
        return ""
    if not all(isinstance(r, Mapping) for r in rows):
        return render_json(rows)
    keys = [k for k in ("node", "similarity", "score", "support") if any(k in r for r in rows)]
    keys += [k for r in rows for k in r if k not in keys and not isinstance(r[k], Mapping | list)]
    keys = list(dict.fromkeys(keys))
    names = {"node": what, "score": "peer share", "support": "support (share of ensemble members)"}
    headers = [names.get(k, k) for k in keys]
    body = [[_pct(r.get(k)) if k == "support" else r.get(k) for k in keys] for r in rows]
    if any(r.get("tied") for r in rows):  # structurally equivalent nodes answered once (node2vec grouping)
        headers.append("tied with (identical neighbours)")
        for line, r in zip(body, rows, strict=True):
            line.append(_tied(r.get("tied")))
    return table(headers, body, caption=caption)


def _tied(tied: Any, show: int = 8) -> str:
    if not isinstance(tied, list) or not tied:
        return ""
    names = ", ".join(str(t) for t in tied[:show])
    return names + (f", … (+{len(tied) - show} more)" if len(tied) > show else "")


def _pct(value: Any) -> Any:
    f = num(value)
    return f"{f:.0%}" if f is not None and 0 <= f <= 1 else value


#: node2vec parameter names as the page says them: one word per thing, whichever file wrote it
GRAPH_PARAM_NAMES = {"random_state": "seed"}


def _graph_facts(g: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The graph as read, the node2vec settings (the values used, "auto" resolved), the timings and the input
    files, each fact once under one name."""
    summary = g["graph"] or {}
    facts = [(f"graph {k}", v) for k, v in summary.items() if not isinstance(v, Mapping | list)]
    effort = dict(g["effort"]) if isinstance(g["effort"], Mapping) else {}
    auto: list[Any] = effort["auto"] if isinstance(effort.get("auto"), list) else []
    if isinstance(g["params"], Mapping):
        for k, v in g["params"].items():
            if isinstance(v, Mapping | list) or (k == "n_trials" and g["tune"]):
                continue  # (tune's trial count is told, explained, with its trials; its grids with them)
            if v == "auto" and effort.get(k) is not None:  # the value used, resolved from the graph's size
                v = f"{fmt(effort[k])} (auto)"
            elif effort.get(k) is not None and effort[k] != v:
                v = f"{fmt(effort[k])} (asked: {fmt(v)})"
            elif k == "workers" and v is None:
                v = "all cores (default)"
            effort.pop(k, None)
            facts.append((GRAPH_PARAM_NAMES.get(str(k), str(k)), v))
    if effort:
        words = {  # the walk modes as a reader knows them (the names are node2vec's implementation choices)
            "first_order": "uniform (p = q = 1)",
            "otf": "biased, transition probabilities computed on the fly",
            "precomp": "biased, transition probabilities precomputed",
        }
        facts += [
            (
                "walks" if k == "mode" else f"effort: {k}",
                words.get(str(v), v) if k == "mode" else (f"{fmt(v)} (auto)" if k in auto else v),
            )
            for k, v in effort.items()
            if not isinstance(v, Mapping | list)
        ]
    if isinstance(g["timings"], Mapping):  # walks_s: the key carries the unit, the label says it once
        facts += [
            (f"seconds: {k[:-2] if str(k).endswith('_s') else k}", v)
            for k, v in g["timings"].items()
            if not isinstance(v, Mapping | list)
        ]
    if isinstance(g["input"], Mapping):
        facts = [
            (f"input {k}", v)
            for k, v in g["input"].items()
            if v is not None and not (k == "directed" and "directed" in summary)  # said by the graph's own
        ] + facts
    return facts


def _asked(part: Any, key: str = "k") -> int | None:
    """The number of answers asked for, as recorded (``k``), or None."""
    params = part.get("params") if isinstance(part, Mapping) else None
    for src in (part, params):
        k = src.get(key) if isinstance(src, Mapping) else None
        if isinstance(k, int) and not isinstance(k, bool) and k > 0:
            return k
    return None


def _note(part: Any) -> str | None:
    """A graph answer's ``note``: why it gave fewer answers than asked, or none."""
    note = part.get("note") if isinstance(part, Mapping) else None
    return note.strip() if isinstance(note, str) and note.strip() else None


def _n_nodes(rows: list[Any]) -> int:
    """Nodes in a list of answers, each group of tied nodes counted whole."""
    return sum(
        1 + (len(r["tied"]) if isinstance(r, Mapping) and isinstance(r.get("tied"), list) else 0)
        for r in rows
    )


def _count_note(rows: list[Any], asked: int | None, what: str, note: str | None) -> str:
    """ "16 of the 40 asked for: <why>" where a list is shorter than asked (the JSON's note, or ``why``)."""
    if asked is None or len(rows) >= asked:
        return f'<p class="note">{esc(note)}</p>' if note else ""
    if note and re.match(r"\d+ (\(.*?\) )?of the \d+ ", note):  # the command's note counts already
        return f'<p class="note">{esc(note.rstrip("."))}.</p>'
    nodes = _n_nodes(rows)
    tied = f" ({nodes} nodes, tied ones grouped)" if nodes != len(rows) else ""
    return f'<p class="note">{len(rows)}{esc(tied)} of the {asked} {esc(what)} asked for' + (
        f": {esc(note.rstrip('.'))}.</p>" if note else ".</p>"
    )


def _similar_html(sim: Any, effort: Any) -> str:
    node = sim.get("node") if isinstance(sim, Mapping) else None
    rows = first(sim, "answers", "results") if isinstance(sim, Mapping) else sim
    who = f"<code>{esc(node)}</code>" if node is not None else "the node"
    head = f"<h3>Most similar to {who}</h3>"
    if not isinstance(rows, list):
        return head + render_json(sim)
    side = sim.get("same_side_from") if isinstance(sim, Mapping) else None
    body = (
        f'<p class="note">Only nodes on {who}\'s side are answers: the sides come from {esc(side)}.</p>'
        if isinstance(side, str) and side
        else ""
    )
    note = _note(sim)
    if not rows:
        why = note or (
            "the run found no other node to compare it with (its only edges are self-loops, or no other node "
            "shares its connected component or its side)"
        )
        return head + body + f'<p class="note"><strong>No answers</strong>: {esc(why)}</p>'
    asked = _asked(sim)
    return (
        head
        + body
        + _count_note(rows, asked, "nodes", note)
        + _answers(rows, caption=_ranking(sim, effort, asked or _k(sim, "k", rows)))
    )


def _recommend_html(rec: Any, effort: Any) -> str:
    node = rec.get("node") if isinstance(rec, Mapping) else None
    who = f"<code>{esc(node)}</code>" if node is not None else "the node"
    head = f"<h3>Recommendations for {who}</h3>"
    if not isinstance(rec, Mapping) or not any(k in rec for k in ("add", "peers", "substitutes")):
        return head + render_json(rec)
    body = ""
    side = rec.get("sides_from")
    if isinstance(side, str) and side:
        body += (
            f'<p class="note">Peers are nodes on {who}\'s side, items the nodes on the other: the sides come '
            f"from {esc(side)}.</p>"
        )
    runs = num(effort.get("ensemble")) if isinstance(effort, Mapping) else None
    own = rec.get("effort")
    runs = num(own.get("ensemble")) if isinstance(own, Mapping) and own.get("ensemble") is not None else runs
    n_peers = _asked(rec, "n_peers")
    peers = f"{n_peers} closest peers" if n_peers else "closest peers"
    add = rec.get("add")
    if isinstance(add, list):
        asked = _asked(rec)
        note = _note(rec)
        body += "<h4>Items to add (held by its closest peers)</h4>"
        if not add:
            if note and "nothing to add" in note.lower():  # the command's own sentence says it already
                body += f'<p class="note">{esc(note.rstrip("."))}.</p>'  # (a node's name keeps its case)
            else:
                why = (
                    note or f"no item that {node if node is not None else 'it'} lacks is held by its {peers}"
                )
                body += f'<p class="note"><strong>Nothing to add</strong>: {esc(why.rstrip("."))}.</p>'
        else:
            default = f"no other item that {node if node is not None else 'it'} lacks is held by its {peers}"
            body += _count_note(add, asked, "items", note or default)
            ranked = (
                f"Ranked by mean rank over {runs:g} ensemble runs, so not by the numbers shown"
                if runs is not None and runs > 1
                else "Ranked by peer share"
            )
            top = f"top {asked}" if asked else "top k"
            caption = (
                f"{ranked}. Peer share: the share of {_who(node)}'s {peers} that hold the item, each peer "
                "weighted by its similarity"
                + (" (averaged over the runs)" if runs is not None and runs > 1 else "")
                + f"; similarity: cosine between the item and {_who(node)}"
                + (
                    f"; support: share of the {runs:g} runs with the item in their {top}."
                    if runs is not None and runs > 1
                    else "."
                )
            )
            body += _answers(add, "item", caption=caption)
    subs = rec.get("substitutes")
    if isinstance(subs, Mapping) and subs:
        n_subs = _asked(rec, "n_substitutes")
        caption = (
            f"For each item {_who(node)} has, the {n_subs or 'few'} closest items it does not have (cosine "
            "similarity of their embeddings)"
            + (
                f"; in brackets the support: share of the {runs:g} runs with it in their top {n_subs or 'list'}"
                if runs is not None and runs > 1
                else ""
            )
            + "; tied items have the same holders."
        )
        body += "<h4>Substitutes for what it has</h4>" + table(
            ["has", "closest alternatives (support)"],
            [
                [
                    item,
                    ", ".join(
                        f"{a.get('node')} ({_pct(a.get('support'))})"
                        + (f" [tied: {_tied(a['tied'], 3)}]" if a.get("tied") else "")
                        if isinstance(a, Mapping)
                        else str(a)
                        for a in (alts or [])
                    )
                    or "none (no item it lacks is close to it)",
                ]
                for item, alts in subs.items()
            ],
            caption=caption,
        )
    if rec.get("peers"):
        body += "<h4>Closest peers</h4>" + _answers(
            rec["peers"], "peer", caption=_ranking(rec, effort, _k(rec, "n_peers", rec["peers"]))
        )
    return head + body


def _who(node: Any) -> str:
    return str(node) if node is not None else "the node"


def section_graph(run: RunData, projection: str = "pca", **_: Any) -> list[Section]:
    g = graph_view(run.graph)
    if g is None:
        return []
    parts = [kv_list(_graph_facts(g))]
    if g["warnings"]:
        parts.append(
            "<h3>Data warnings</h3><ul>" + "".join(f"<li>{esc(w)}</li>" for w in g["warnings"]) + "</ul>"
        )
    if g["classification"]:
        parts.append(_classification_html(g))
    if g["similar"]:
        parts.append(_similar_html(g["similar"], g["effort"]))
    if g["recommend"]:
        parts.append(_recommend_html(g["recommend"], g["effort"]))
    tune = g["tune"]
    if tune:
        parts.append(_tune_html(tune))
    proj = _projection_figure(g["projection"], projection, "Node embeddings")
    if proj:
        parts.append(proj)
    else:
        missing = _no_projection(run)
        if missing:
            parts.append(f'<p class="note">{esc(missing)}</p>')
    return [Section("graph", "Graph embeddings", "".join(parts))]


def _no_projection(run: RunData) -> str | None:
    """Why an embed run's page has no projection plot (the vectors are not in the folder, or unreadable)."""
    embed = (run.graph or {}).get("embed")
    if not isinstance(embed, Mapping):
        return None
    for name in ("embeddings.txt", "embeddings"):
        if name in run.unreadable:
            return f"No projection plot: the saved vectors ({name}) could not be read (see above)."
    saved = embed.get("saved")
    return (
        "No projection plot: the saved vectors are not in this folder"
        + (f" (embed saved them to {saved})" if isinstance(saved, str) and saved else "")
        + "."
    )


def _classification_html(g: Mapping[str, Any]) -> str:
    setup = g["classification_setup"]
    cap = ", ".join(
        f"{k.replace('_', ' ')} {fmt(v)}"
        for k, v in setup.items()
        if not isinstance(v, Mapping | list) and k not in ("effort", "multilabel")
    )
    if setup.get("multilabel") is True:
        cap = "multi-label: each node's top-k labels predicted" + (f", {cap}" if cap else "")
    rows_html = []
    for r in g["classification"]:
        if "skipped" in r:
            rows_html.append([r["name"], None, None, None, None, f"skipped: {r['skipped']}"])
        else:
            rows_html.append(
                [
                    r["name"],
                    num(r.get("macro_f1")),
                    num(r.get("macro_f1_std")),
                    num(r.get("micro_f1")),
                    num(r.get("micro_f1_std")),
                    num(r.get("seconds_per_repeat")),
                ]
            )
    chance = setup.get("chance")
    if isinstance(chance, Mapping) and any(num(v) is not None for v in chance.values()):
        rows_html.append(
            [
                "chance (majority class)",
                num(chance.get("macro_f1")),
                None,
                num(chance.get("micro_f1")),
                None,
                None,
            ]
        )
    return "<h3>Node classification</h3>" + table(
        ["model", "Macro-F1", "± std", "Micro-F1", "± std", "seconds per repeat"],
        rows_html,
        caption=cap or None,
    )


def _tune_html(tune: Mapping[str, Any]) -> str:
    trials = [t for t in tune.get("trials") or [] if isinstance(t, Mapping)]
    best = tune.get("best_params")
    interrupted = tune.get("interrupted") is True
    facts: list[tuple[str, Any]] = [("trials", _tune_count(tune, trials))]
    if interrupted:
        facts.append(("status", "interrupted: the results are those of the trials finished before"))
    facts.append(
        (
            "best validation Macro-F1" + (" so far" if interrupted else ""),
            num(first(tune, "best_validation_macro_f1", "best_score")),
        )
    )
    if isinstance(best, Mapping):
        facts += [(f"best {k}", v) for k, v in best.items()]
    facts += [
        ("walk sets generated", tune.get("walk_sets_generated")),
        ("seconds", num(tune.get("seconds"))),
    ]
    body = kv_list((k, v) for k, v in facts if v is not None)
    notes = [tune["note"]] if isinstance(tune.get("note"), str) and tune["note"] else []
    more = tune.get("notes")
    notes += [str(n) for n in more if n] if isinstance(more, list) else []
    if notes:
        body += '<ul class="reasons">' + "".join(f"<li>{esc(n)}</li>" for n in dict.fromkeys(notes)) + "</ul>"
    grids = _tune_grids(tune, trials)
    if grids:
        body += "<h4>Grids searched</h4>" + kv_list(grids)
    args = tune.get("classify_args")
    if isinstance(args, list) and args and all(isinstance(a, str | int | float) for a in args):
        import shlex

        command = shlex.join(["hyperselect", "graph", "classify", *(str(a) for a in args)])
        body += (
            "<h4>Classify with the selected settings</h4>"
            f"<pre>{esc(command)}</pre>"
            '<p class="note">Trains the embedding the best trial scored and scores it with the selected C and '
            "normalisation (as tune printed it).</p>"
        )
    if trials:
        hist = [
            {
                "number": t.get("number", i),
                "value": num(t.get("score")),
                "state": "COMPLETE" if num(t.get("score")) is not None else "FAIL",
            }
            for i, t in enumerate(trials)
        ]
        body += figure(
            plots.optimization_history(hist, True, "validation Macro-F1"),
            "Validation Macro-F1 of each p, q, dimension trial",
        )
        body += _tune_trials(trials)
    title = "Selection of p, q and the dimension" + (" (interrupted)" if interrupted else "")
    return f"<h3>{esc(title)}</h3>" + body


def _tune_grids(tune: Mapping[str, Any], trials: list[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """The values graph tune searched: the grids it was given (dimensions, C, normalisation) and the p and q
    values its trials tried."""
    raw = tune.get("params")
    params: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    out: list[tuple[str, Any]] = []
    for key, label in (
        ("p_values", "p values"),
        ("q_values", "q values"),
        ("dimensions", "dimensions"),
        ("C_values", "C values"),
        ("normalize_values", "row normalisation"),
    ):
        v = params.get(key)
        if isinstance(v, list) and v:
            out.append((label, ", ".join(fmt(x) for x in v)))
    for key in ("p", "q"):
        if f"{key}_values" in params:
            continue
        tried = sorted({f for t in trials if (f := num(t.get(key))) is not None})
        if tried:
            out.append((f"{key} values tried", ", ".join(f"{x:g}" for x in tried)))
    return out


#: graph tune's trial records (evaluate/node_classification.py) as columns, in this order, with what each holds
TUNE_COLUMNS = {
    "number": "trial",
    "p": "p",
    "q": "q",
    "dimensions": "dimensions",
    "C": "C",
    "normalize": "normalize",
    "score": "validation Macro-F1",
    "classifier_scores": "classifier settings compared",
    "walks_reused": "walks reused",
    "cached": "served from cache",
    "seconds": "seconds",
}


def _tune_trials(trials: list[Mapping[str, Any]]) -> str:
    """graph tune's trials as a table under headers that say what each column holds; a trial's classifier
    cells (C x normalisation, with per-split scores) are counted (the best is its score), the JSON keeps them."""
    keys = [k for k in TUNE_COLUMNS if any(t.get(k) is not None for t in trials)]
    keys += list(
        dict.fromkeys(
            k
            for t in trials
            for k, v in t.items()
            if k not in TUNE_COLUMNS and not isinstance(v, Mapping | list) and v is not None
        )
    )

    def cell(t: Mapping[str, Any], key: str) -> Any:
        value = t.get(key)
        if key == "classifier_scores":
            return len(value) if isinstance(value, list) else None
        return num(value) if key in ("score", "seconds") else value

    return table(
        [TUNE_COLUMNS.get(k, k.replace("_", " ")) for k in keys],
        [[cell(t, k) for k in keys] for t in trials],
        uniform=[i for i, k in enumerate(keys) if k in ("score", "seconds")],
        limit=200,
    )


def _tune_count(tune: Mapping[str, Any], trials: list[Mapping[str, Any]]) -> str | None:
    """One count of graph tune's trials, explained: the sampler may propose a setting again, and such a repeat
    is served from the cache (``cached``) rather than counted against ``n_trials``; an interrupted search
    counts the trials it completed (``completed_trials`` of ``n_trials``), not the one Ctrl-C stopped."""
    if not trials and tune.get("completed_trials") is None:
        return None
    cached = sum(1 for t in trials if t.get("cached"))
    params = tune.get("params")
    asked = params.get("n_trials") if isinstance(params, Mapping) else None
    asked = asked if isinstance(asked, int) and not isinstance(asked, bool) else None
    target = tune.get("n_trials")
    target = target if isinstance(target, int) and not isinstance(target, bool) else None
    done = tune.get("completed_trials")
    if not isinstance(done, int) or isinstance(done, bool):
        done = None
    repeats = f"{cached} repeated setting{'s' if cached > 1 else ''} served from cache" if cached else ""
    if tune.get("interrupted") is True:
        head = (
            f"{done} of {target} completed before the run was interrupted"
            if done is not None and target is not None
            else f"{done} completed before the run was interrupted"
            if done is not None
            else f"{len(trials)} recorded before the run was interrupted"
        )
        extra = [repeats] if repeats else []
        if asked is not None and target is not None and asked != target:
            extra.append(f"{asked} asked for, {target} distinct settings in the grid")
        elif asked is not None:
            extra.append(f"{asked} asked for")
        return head + (f" ({'; '.join(extra)})" if extra else "")
    evaluated = sum(1 for t in trials if not t.get("cached") and not t.get("interrupted"))
    text = f"{len(trials)}"
    if cached:
        text += f": {evaluated} evaluated, {repeats}"
    if asked is not None:
        capped = f", {target} distinct settings in the grid" if target is not None and target < asked else ""
        text += f" ({asked} asked for{capped})"
    return text


SECTIONS: list[tuple[str, str, Callable[..., list[Section]]]] = [
    ("verdict", "Verdict", section_verdict),
    ("best-config", "Best configuration", section_best_config),
    ("diagnostics", "Training diagnostics", section_diagnostics),
    ("search", "Hyperparameter search", section_search),
    ("training", "Training run", section_training),
    ("text", "Text classification", section_text),
    ("graph", "Graph embeddings", section_graph),
]

CSS = """
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
header{background:#111827;color:#f9fafb;padding:18px 32px}
header h1{margin:0;font-size:20px;font-weight:600;letter-spacing:.2px}
header .sub{color:#9ca3af;font-size:12.5px;margin-top:2px;word-break:break-all}
nav{background:#1f2937;padding:6px 32px;position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;gap:2px 18px}
[id]{scroll-margin-top:4.5em}
nav a{color:#d1d5db;text-decoration:none;font-size:13px;white-space:nowrap;max-width:100%;overflow:hidden;
text-overflow:ellipsis}
nav a:hover{color:#fff}
main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:0 0 18px;
box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card h2{margin:0 0 12px;font-size:17px}
h3{font-size:14.5px;margin:18px 0 8px}
h4{font-size:13px;margin:10px 0 6px;color:#374151}
.verdict{border-radius:8px;padding:14px 18px;margin-bottom:8px;border-left:6px solid}
.verdict.good{background:#ecfdf5;border-color:#059669}.verdict.base{background:#eff6ff;border-color:#2563eb}
.verdict.tie{background:#fffbeb;border-color:#d97706}
.verdict-label{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.verdict-head{font-size:21px;font-weight:650}
ul.reasons{margin:4px 0 10px;padding-left:20px}ul.reasons li{margin:3px 0}
dl.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px 18px;margin:10px 0}
dl.kv div{border-left:3px solid var(--line);padding-left:8px}
dl.kv dt{font-size:11.5px;color:var(--muted)}dl.kv dd{margin:0;font-weight:600;word-break:break-word}
.table-wrap{overflow-x:auto;margin:6px 0 10px}
table{border-collapse:collapse;font-size:12.5px;min-width:50%}
.table-caption{text-align:left;color:var(--muted);font-size:12px;margin:6px 0 -2px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600;color:#374151;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:#f9fafb}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;background:#f3f4f6;
padding:1px 5px;border-radius:4px}
pre{background:#f9fafb;border:1px solid var(--line);padding:10px;border-radius:6px;overflow-x:auto;font-size:12px}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
figcaption{color:var(--muted);font-size:12px}
.cols{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.cols>div{flex:1 1 420px;min-width:0}
.finding{border:1px solid var(--line);border-left:5px solid;border-radius:6px;padding:8px 14px;margin:8px 0}
.finding.warning{border-left-color:#d97706}.finding.info{border-left-color:#2563eb}
.finding.error{border-left-color:#dc2626}
.finding p{margin:4px 0}.remedy span{font-weight:600}
.pill{display:inline-block;font-size:11px;border-radius:999px;padding:0 8px;text-transform:uppercase;
letter-spacing:.04em}
.pill.warning{background:#fef3c7;color:#92400e}.pill.info{background:#dbeafe;color:#1e40af}
.pill.error{background:#fee2e2;color:#991b1b}
.ok{color:#047857;font-weight:600}
.note{color:var(--muted);font-size:12px}
.broken{border-color:#fecaca;background:#fef2f2}
details summary{cursor:pointer;color:var(--accent);margin:8px 0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
ul.why{margin:0;padding-left:16px}ul.why li{margin:2px 0}
ol.toc li,ul.parts li{margin:4px 0}
.card.step{border-left:5px solid var(--accent);background:#f8fafc}
.card.step h2{margin-bottom:6px}
.fig-hint{display:none}
@media (max-width:700px){
header{padding:14px 14px}nav{padding:6px 14px;overflow-x:auto;white-space:nowrap;flex-wrap:nowrap}
nav a{flex:none;max-width:none}
main{padding:12px 8px 30px}.card{padding:14px 12px}
dl.kv{grid-template-columns:repeat(auto-fill,minmax(140px,1fr))}
table.stack{min-width:0;width:100%}
table.stack thead{display:none}
table.stack tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{display:block;border:0;padding:2px 4px;white-space:normal;text-align:left}
table.stack td:empty{display:none}
table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:11px;color:var(--muted);
font-weight:600}
.fig-scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.fig-scroll img{max-width:none;width:auto}
.fig-hint{display:block;color:var(--muted);font-size:11px}
}
"""


def _title(run: RunData) -> str:
    if run.tour is not None and tour_view(run):
        return "hyperselect report: " + str(run.tour.get("tour") or "tour")
    kinds = []
    if run.verdict:
        kinds.append("verdict")
    if run.result:
        kinds.append("search" if ("trials" in run.result or "best_config" in run.result) else "training")
    if run.text:
        kinds.append("text classification")
    if run.graph:
        kinds.append("graph embeddings")
    return "hyperselect report: " + (", ".join(kinds) or "run")


def _sections(run: RunData, projection: str, strict: bool) -> list[Section]:
    """Every section one run directory's files give, with the notices on files that are unreadable, mistyped
    or of different runs first."""
    sections: list[Section] = []
    for anchor, title, build in SECTIONS:
        try:
            sections += build(run, projection=projection)
        except Exception as exc:  # one producer's format change must not cost the whole report
            if strict:
                raise
            log.warning("report section %r could not be drawn: %s: %s", title, type(exc).__name__, exc)
            sections.append(
                Section(
                    anchor,
                    title,
                    f'<p class="note">This section could not be drawn from the '
                    f"run's JSON: {esc(type(exc).__name__)}: {esc(exc)}</p>",
                )
            )
    origins = run_origins(run)
    # one folder, several runs' files (a command's --out reused): the data sources differ (a task alone is no
    # evidence: the report's fixtures of one data set differ in it too)
    if len({o["source"] for o in origins.values() if "source" in o}) > 1:
        items = "".join(
            f"<li><code>{esc(name)}</code>: "
            + ", ".join(f"{k} {esc(v)}" for k, v in sorted(o.items()))
            + "</li>"
            for name, o in sorted(origins.items())
        )
        sections.insert(
            0,
            Section(
                "mixed",
                "These files come from different runs",
                '<p class="note">The files of this folder were computed on different data (source differs), so '
                f"the sections below do not describe one run:</p><ul>{items}</ul>",
            ),
        )
    # what load_run left out, first: values of another type than hyperselect writes, then unreadable files
    for anchor, title, intro, found in (
        (
            "mistyped",
            "Values of an unexpected type",
            "These values are not of the type hyperselect writes, so they were left out and the sections below "
            "are drawn without them:",
            {name: "; ".join(wrong.values()) for name, wrong in run.mistyped.items()},
        ),
        (
            "unreadable",
            "Files that could not be read",
            "Left out of this page; the sections below come from the other files.",
            run.unreadable,
        ),
        (
            "malformed",
            "Malformed values left out",
            "These values are not as hyperselect writes them, so the sections below are drawn without them "
            "(hyperselect report --strict fails on them instead):",
            {name: "; ".join(bad.values()) for name, bad in run.malformed.items()},
        ),
    ):
        if found:
            items = "".join(f"<li><code>{esc(n)}</code>: {esc(why)}</li>" for n, why in sorted(found.items()))
            sections.insert(0, Section(anchor, title, f'<p class="note">{esc(intro)}</p><ul>{items}</ul>'))
    return sections


def _tour_sections(run: RunData, projection: str, strict: bool) -> list[Section]:
    """A deliberate collection of runs (``hyperselect demo``): a contents card, then per step a card naming
    its data and linking each of its folders' own pages, followed by that folder's sections, each titled
    with its data.  Each folder is one run, so the files of different runs are never drawn as one."""
    steps = tour_view(run)
    toc = []
    out: list[Section] = []
    for i, step in enumerate(steps, 1):
        anchor = f"step-{i}"
        datas = ", ".join(dict.fromkeys(p["data"] for p in step["parts"] if p["data"]))
        toc.append(
            f'<li><a href="#{anchor}">{esc(step["title"] or step["name"])}</a>'
            + (f' <span class="note">(data: {esc(datas)})</span>' if datas else "")
            + "</li>"
        )
        items = []
        subs: list[Section] = []
        for part in step["parts"]:
            page = part["path"] / REPORT_NAME
            link = (
                f'<a href="{esc(quote(part["folder"]))}/{REPORT_NAME}">{esc(part["folder"])}/{REPORT_NAME}</a>'
                if page.is_file()
                else f"<code>{esc(part['folder'])}/</code> (its page: <code>hyperselect report "
                f"{esc(part['folder'])}</code>)"
            )
            what = f"{esc(part['what'])}; " if part["what"] else ""
            data = f"<strong>{esc(part['data'])}</strong>: " if part["data"] else ""
            items.append(f"<li>{data}{what}its own page: {link}</li>")
            try:
                sub = load_run(part["path"], strict=strict)
            except DataError as exc:
                if strict:
                    raise
                subs.append(
                    Section(f"{part['folder']}-unreadable", part["folder"], f'<p class="note">{esc(exc)}</p>')
                )
                continue
            for sec in _sections(sub, projection, strict):
                sec.anchor = f"{part['folder']}-{sec.anchor}"
                sec.title = f"{sec.title} · {part['data'] or part['folder']}"
                sec.kind = "part"
                subs.append(sec)
        body = f'<ul class="parts">{"".join(items)}</ul>' if items else '<p class="note">No results.</p>'
        title = f"Step {i}. {step['title'] or step['name']}"
        # the bar names each step by its short name (its title, a sentence, is the card's heading and the
        # link's tooltip): six sentences side by side broke mid-title over ragged lines
        nav = f"Step {i}" + (f": {step['name']}" if step["name"] != str(i) else "")
        out.append(Section(anchor, title, body, kind="step", nav=nav))
        out += subs
    intro = (
        '<p class="note">The demo runs each step on its own data and writes it to a folder of its own, with its '
        "own page; this page draws them all, each step under its heading.</p>"
    )
    head = Section("tour", "The tour", intro + f'<ol class="toc">{"".join(toc)}</ol>', lead=True)
    return [head, *out]


def _subtitle(run: RunData, tour: bool) -> str:
    """The data the run read, as its JSON names it (a copied or renamed folder keeps it); the folder's name
    where no file says."""
    sources = [o["source"] for o in run_origins(run).values() if o.get("source")]
    if isinstance(run.graph, Mapping) and not tour:
        for part in run.graph.values():
            src = part.get("input") if isinstance(part, Mapping) else None
            if isinstance(src, Mapping) and isinstance(src.get("edges"), str) and src["edges"]:
                sources.append(src["edges"])
    unique = list(dict.fromkeys(sources)) if not tour else []
    return f"data: {', '.join(unique)}" if unique else run.run_dir.resolve().name


def render_report(run: RunData, *, projection: str = "pca", strict: bool = False) -> str:
    """The report's HTML for an already loaded run."""
    tour = run.tour is not None and bool(tour_view(run))
    sections = _tour_sections(run, projection, strict) if tour else _sections(run, projection, strict)
    if not sections:  # every file was read, but none holds a fact a section draws: say so, not a blank page
        message = (
            f"{', '.join(run.files)} {'holds' if len(run.files) == 1 else 'hold'} no data the report can draw: "
            "they were read, but none of the keys that train, tune, compare, text or graph write was found."
        )
        if strict:
            raise DataError(f"{run.run_dir}: {message}")
        sections.append(Section("nothing", "Nothing to show", f'<p class="note">{esc(message)}</p>'))
    nav = "".join(
        f'<a href="#{esc(s.anchor)}"'
        + (f' title="{esc(s.title)}">{esc(s.nav)}' if s.nav else f">{esc(s.title)}")
        + "</a>"
        for s in sections
        if s.kind != "part"
    )
    if not tour and (run.run_dir / ".." / TOUR_FILE).is_file():
        # a step folder of a tour (hyperselect demo): its page leads back to the tour's
        nav = '<a href="../report.html" title="the tour this run is a step of">&larr; the tour</a>' + nav
    files = ", ".join(f"<code>{esc(f)}</code>" for f in run.files)
    if tour:  # the page is drawn from the step folders, not from files beside the manifest
        files = f"<code>{esc(TOUR_FILE)}</code> and the files of the folders it names"
    title = _title(run)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="hyperselect">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(title)}</h1><div class="sub">{esc(_subtitle(run, tour))}</div></header>'
        f"<nav>{nav}</nav><main>"
        + "".join(s.html() for s in sections)
        + f"</main><footer>Built from {files} by <code>hyperselect report</code>; every figure and table "
        "can be rebuilt from these files.</footer></body></html>\n"
    )


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return not head or head.startswith((b"<!doctype html", b"<html"))


def _target(path: Path) -> Path:
    """Where the page goes: ``path``, or ``path/report.html`` for a folder; a DataError, before any work, when
    it cannot be written or would replace a file that is not an HTML page (a run's own result.json, a table)."""
    if path.is_dir():
        path = path / REPORT_NAME
        if path.is_dir():
            raise DataError(f"'{path}' is a folder; expected the path of the HTML page to write.")
    if path.exists():
        if not path.is_file():
            raise DataError(f"'{path}' is not a regular file; expected the path of the HTML page to write.")
        if not _looks_like_html(path):
            raise DataError(
                f"'{path}' exists and is not an HTML page; refusing to overwrite it with the report. Choose "
                f"another --out (default RUN_DIR/{REPORT_NAME}) or remove the file."
            )
        return path
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise DataError(f"'{path}': cannot create its folder, because '{parent}' is a file.")
    return path


def build_report(
    run_dir: str | Path, *, out: str | Path | None = None, projection: str = "pca", strict: bool = False
) -> Path:
    """Write ``run_dir/report.html`` (or ``out``) atomically from the run's JSON and return its path.

    ``out`` naming a folder writes ``out/report.html``.  Raises :class:`~hyperselect.errors.DataError` when the
    directory is missing or holds nothing to report, and when ``out`` is an existing file that is not an HTML
    page (a run's own result.json, say): that is never overwritten.
    ``projection`` (``"pca"`` or ``"tsne"``) reduces embeddings to 2-D; ``strict=True`` raises on an unreadable
    file or a malformed section instead of showing a notice in its place.
    """
    if projection not in ("pca", "tsne"):
        from hyperselect.errors import ConfigError

        raise ConfigError(
            f"The 'projection' parameter of build_report must be 'pca' or 'tsne'. Got {projection!r}."
        )
    check_run_dir(Path(run_dir))  # a table given for a run folder: said as such, not as a folder in the way
    target = _target(Path(out) if out is not None else Path(run_dir) / REPORT_NAME)
    run = load_run(run_dir, strict=strict)
    page = render_report(run, projection=projection, strict=strict)
    atomic_write_text(target, page)
    target.chmod(0o644)  # a report is meant to be shared; the atomic writer's temporary file is 0600
    log.info("report written to %s", target)
    return target


def try_build_report(run_dir: str | Path, **kwargs: Any) -> Path | None:
    """:func:`build_report` for the end of ``tune``/``compare``/``text``/``graph``: a failure to draw the page is
    logged as a warning and returns ``None``, so it never costs the user the run's results, already written."""
    try:
        return build_report(run_dir, **kwargs)
    except Exception as exc:
        log.warning(
            "could not write the HTML report for %s: %s: %s (rebuild it with: hyperselect report %s)",
            run_dir,
            type(exc).__name__,
            exc,
            run_dir,
        )
        return None
