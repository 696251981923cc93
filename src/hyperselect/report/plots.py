"""Static plots for the HTML report, rendered with matplotlib's Agg canvas into PNG bytes.

Every function takes plain Python data (what the run's JSON holds) and returns PNG bytes, so the report can
be rebuilt from the JSON alone.  matplotlib is imported lazily and only through ``Figure`` +
``FigureCanvasAgg``: pyplot's global state (and whatever backend a user's session selected) is never
touched, and no window can open on a headless machine.  PNGs are written without a timestamp or software
tag, so the same JSON gives byte-identical images.

User-supplied strings (labels, parameter names, model names) become pixels here, not markup, but matplotlib
would still interpret ``$...$`` as mathtext and hide legend entries starting with ``_``; :func:`plot_text`
neutralises both.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "baseline_comparison",
    "confusion_matrix",
    "data_uri",
    "gradient_norms",
    "importances",
    "learning_curve_fraction",
    "optimization_history",
    "parallel_coordinates",
    "plot_text",
    "project_2d",
    "projection_2d",
    "training_curves",
    "trial_learning_curves",
]

PALETTE = [
    "#2563eb",
    "#ea580c",
    "#16a34a",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
]
ACCENT = "#2563eb"
MUTED = "#9ca3af"
DPI = 100
FULL = 9.8  # inches: a full-width figure is ~980 px, the width of a report card
MAX_LABEL = 40

_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.8,
    "axes.edgecolor": "#6b7280",
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",
}


def plot_text(value: Any, limit: int = MAX_LABEL) -> str:
    """A user string made safe for matplotlib: no mathtext, visible in legends, not absurdly long."""
    text = str(value).replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # a dollar escaped so that no mathtext is parsed; a backslash outside mathtext is drawn as it is, so it is
    # not doubled (that drew $\alpha$ as \\alpha)
    text = text.replace("$", r"\$")
    if text.startswith("_"):
        text = " " + text  # matplotlib drops legend labels that start with "_"
    return text


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@contextmanager
def _figure(width: float = FULL, height: float = 3.6) -> Iterator[Figure]:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _legend_above(
    fig: Figure, title: str, handles: Sequence[Any] | None = None, labels: Sequence[str] | None = None
) -> None:
    """The title on the left and the legend in one row on the right, both above the axes (more than three
    entries: in a column right of the axes), so the legend is outside the data whatever the curves do
    (``loc="best"`` only avoids the data of its own axes, not a twin axis's, and covers lines that span the
    whole width)."""
    ax = fig.axes[0]
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.set_title(title, loc="left")
    if handles and len(labels) <= 3:
        ax.legend(
            handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(labels), borderaxespad=0.2
        )
    elif handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#6b7280")
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------------------------- training ---


def training_curves(history: Mapping[str, Sequence[Any]], score_name: str = "valid score") -> bytes:
    """Training and validation loss per epoch, and the validation score on a second axis."""
    epochs = list(history.get("epoch") or range(len(history.get("train_loss") or [])))
    with _figure(FULL, 3.4) as fig:
        ax = fig.add_subplot()
        drawn = False
        for key, label, colour in (
            ("train_loss", "train loss", PALETTE[0]),
            ("valid_loss", "valid loss", PALETTE[1]),
        ):
            pts = [(e, v) for e, v in zip(epochs, history.get(key) or [], strict=False) if _finite(v)]
            if pts:
                ax.plot(*zip(*pts, strict=True), label=label, color=colour, lw=1.8)
                drawn = True
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        handles, labels = ax.get_legend_handles_labels()
        score = [(e, v) for e, v in zip(epochs, history.get("valid_score") or [], strict=False) if _finite(v)]
        if score:
            ax2 = ax.twinx()
            ax2.grid(False)
            ax2.spines["right"].set_visible(True)
            (line,) = ax2.plot(*zip(*score, strict=True), color=PALETTE[2], lw=1.5, ls="--")
            ax2.set_ylabel(plot_text(score_name))
            handles.append(line)
            labels.append(plot_text(score_name))
            drawn = True
        if not drawn:
            _empty(ax, "no finite values in the history")
            ax.set_title("Learning curves")
        else:
            _legend_above(fig, "Learning curves", handles, labels)
        return _png(fig)


def gradient_norms(grad_norms: Sequence[Sequence[Any]], epochs: Sequence[Any] | None = None) -> bytes:
    """Mean gradient L2 norm of each weight layer per epoch, on a log scale."""
    rows = [list(r) for r in grad_norms if r]
    n_layers = max((len(r) for r in rows), default=0)
    xs = (
        list(epochs)
        if epochs is not None and len(epochs) == len(grad_norms)
        else list(range(len(grad_norms)))
    )
    xs = [x for x, r in zip(xs, grad_norms, strict=False) if r]
    with _figure(FULL, 3.4) as fig:
        ax = fig.add_subplot()
        drawn = False
        for layer in range(n_layers):
            pts = [
                (x, r[layer])
                for x, r in zip(xs, rows, strict=False)
                if layer < len(r) and _finite(r[layer]) and r[layer] > 0
            ]
            if pts:
                colour = PALETTE[layer % len(PALETTE)]
                name = "output layer" if layer == n_layers - 1 and n_layers > 1 else f"layer {layer + 1}"
                ax.plot(*zip(*pts, strict=True), label=name, color=colour, lw=1.6)
                drawn = True
        if drawn:
            ax.set_yscale("log")
            ax.legend(loc="best", ncol=2 if n_layers > 4 else 1)
        else:
            _empty(ax, "no finite gradient norms recorded")
        ax.set_xlabel("epoch")
        ax.set_ylabel("gradient L2 norm (log)")
        ax.set_title("Gradient norm per layer")
        return _png(fig)


# ----------------------------------------------------------------------------------------------- search ---


def optimization_history(
    trials: Sequence[Mapping[str, Any]], maximize: bool = True, metric: str = "objective"
) -> bytes:
    """Objective value of each finished trial, pruned trials' last value in grey, and the best so far."""
    from matplotlib.ticker import MaxNLocator

    with _figure(FULL, 3.4) as fig:
        ax = fig.add_subplot()
        done = [
            (t["number"], t["value"])
            for t in trials
            if t.get("state") == "COMPLETE" and _finite(t.get("value"))
        ]
        pruned = [
            (t["number"], t["value"])
            for t in trials
            if t.get("state") == "PRUNED" and _finite(t.get("value"))
        ]
        # the lowest and highest scores stand clear of the frame (matplotlib's 5% left a row of equal lowest
        # scores sitting on the x axis), and a marker at the frame is never cut in half
        ax.margins(y=0.15)
        if pruned:
            ax.scatter(
                [x for x, _ in pruned],
                [y for _, y in pruned],
                s=14,
                color=MUTED,
                label="pruned (last value)",
                zorder=2,
                clip_on=False,
            )
        if done:
            ax.scatter(
                [x for x, _ in done],
                [y for _, y in done],
                s=18,
                color=ACCENT,
                label="complete",
                zorder=3,
                clip_on=False,
            )
            best_x, best_y, best = [], [], None
            for x, y in sorted(done):
                if best is None or (y > best if maximize else y < best):
                    best = y
                best_x.append(x)
                best_y.append(best)
            ax.step(best_x, best_y, where="post", color=PALETTE[1], lw=1.6, label="best so far", zorder=4)
        if not done and not pruned:
            _empty(ax, "no finished trials")
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("trial")
        ax.set_ylabel(plot_text(metric))
        _legend_above(fig, "Optimization history")  # above the axes: "best" still covered points
        return _png(fig)


#: Where a parameter axis puts the trials that have no value for it (a conditional parameter such as momentum,
#: sampled only for SGD with momentum): below the axis's range, labelled "n/a", so that every line goes on.
NA_POS = -0.16


def _axis_values(
    values: list[Any], *, missing: float | None = None
) -> tuple[list[float], list[float], list[str], bool]:
    """Map one parameter's values to [0, 1]; returns (positions, tick positions, tick labels, is_log).

    Absent values (``None``, NaN) are NaN, or ``missing`` with an "n/a" tick where that is given and some are
    absent."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    numeric = [v for v in present if _finite(v)]
    if numeric and len(numeric) == len(present):
        lo, hi = min(numeric), max(numeric)
        log = lo > 0 and hi / lo >= 100
        f = (lambda v: math.log10(v)) if log else (lambda v: float(v))
        a, b = f(lo), f(hi)
        span = (b - a) or 1.0
        pos = [(f(v) - a) / span if _finite(v) else math.nan for v in values]
        ticks = [0.0, 0.5, 1.0] if b != a else [0.0]
        labels = [f"{(10 ** (a + t * span)) if log else (a + t * span):.3g}" for t in ticks]
    else:
        log = False
        cats = sorted({str(v) for v in present})
        index = {c: i for i, c in enumerate(cats)}
        denom = max(len(cats) - 1, 1)
        pos = [index[str(v)] / denom if str(v) in index else math.nan for v in values]
        ticks = [i / denom for i in range(len(cats))]
        labels = [plot_text(c, 14) for c in cats]
    if missing is not None and any(math.isnan(p) for p in pos):
        pos = [missing if math.isnan(p) else p for p in pos]
        ticks, labels = [*ticks, missing], [*labels, "n/a"]
    return pos, ticks, labels, log


#: tick labels drawn among the trial lines: a little larger than before, on a white backing so that lines
#: crossing them do not hide them
_TICK_TEXT: dict[str, Any] = {
    "fontsize": 7.5,
    "color": "#374151",
    "zorder": 5,
    "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6},
}


def parallel_coordinates(
    trials: Sequence[Mapping[str, Any]],
    params: Sequence[str],
    maximize: bool = True,
    metric: str = "objective",
) -> bytes:
    """One line per trial across the parameter axes, coloured by its objective; pruned trials in grey."""
    import matplotlib
    from matplotlib import colors

    rows = [t for t in trials if isinstance(t.get("params"), Mapping)]
    params = list(params)[:12]
    with _figure(max(FULL, 1.0 + 0.9 * (len(params) + 1)), 3.8) as fig:
        ax = fig.add_subplot()
        if not rows or not params:
            _empty(ax, "no trials with parameters")
            ax.set_title("Parallel coordinates")
            return _png(fig)
        axes: list[list[float]] = []
        for p in params:
            pos, ticks, labels, _ = _axis_values([t["params"].get(p) for t in rows], missing=NA_POS)
            axes.append(pos)
            for tick, label in zip(ticks, labels, strict=True):
                ax.text(len(axes) - 1 - 0.04, tick, label, ha="right", va="center", **_TICK_TEXT)
        values: list[float] = [float(t["value"]) if _finite(t.get("value")) else math.nan for t in rows]
        pos_v, ticks, labels, _ = _axis_values(values)
        axes.append(pos_v)
        for tick, label in zip(ticks, labels, strict=True):
            ax.text(len(axes) - 1 + 0.04, tick, label, ha="left", va="center", **_TICK_TEXT)
        # colour by the finished trials only: pruned values would stretch the scale and wash the colours out
        finite = [v for v, t in zip(values, rows, strict=True) if _finite(v) and t.get("state") == "COMPLETE"]
        norm = colors.Normalize(min(finite, default=0.0), max(finite, default=1.0))
        cmap = matplotlib.colormaps["viridis"]
        if not maximize:
            cmap = cmap.reversed()
        if finite and min(finite) == max(finite):
            # one value: matplotlib would widen a colour bar to v +- 10 % (an accuracy scale up to 1.1); say it
            ax.text(
                1.0,
                1.02,
                plot_text(f"every complete trial: {metric} {finite[0]:.4g}", 48),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=7,
            )
        elif finite:  # the scale, next to the objective axis (the last one): which colour is better
            from matplotlib.cm import ScalarMappable

            bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, fraction=0.03)
            bar.set_label(
                plot_text(f"{metric} of complete trials ({'higher' if maximize else 'lower'} is better)", 48),
                fontsize=7,
            )
            bar.ax.tick_params(labelsize=7)
        xs = list(range(len(axes)))
        order = sorted(
            range(len(rows)),
            key=lambda i: (
                rows[i].get("state") == "COMPLETE",
                values[i] if _finite(values[i]) else -math.inf,
            ),
        )
        for i in order:
            ys = [a[i] for a in axes]
            if rows[i].get("state") == "COMPLETE" and _finite(values[i]):
                ax.plot(xs, ys, color=cmap(norm(values[i])), lw=1.3, alpha=0.85)
            else:
                ax.plot(xs, ys, color=MUTED, lw=0.8, alpha=0.5)
        for x in xs:
            ax.axvline(x, color="#374151", lw=1.0)
        ax.set_xticks(
            xs, [plot_text(p, 16) for p in params] + [plot_text(metric, 16)], rotation=20, ha="right"
        )
        ax.set_yticks([])
        ax.grid(False)
        ax.set_xlim(-0.6, len(axes) - 0.4)
        ax.set_ylim(NA_POS - 0.06 if any(NA_POS in a for a in axes[:-1]) else -0.06, 1.06)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(
            "Parallel coordinates of trials (colour: objective, grey: pruned or failed; n/a: not used by the trial)"
        )
        return _png(fig)


def importances(values: Mapping[str, Any]) -> bytes:
    """Horizontal bars of hyperparameter importances, most important on top."""
    items = sorted(((str(k), float(v)) for k, v in values.items() if _finite(v)), key=lambda kv: kv[1])
    with _figure(FULL, max(2.0, 0.32 * len(items) + 0.9)) as fig:
        ax = fig.add_subplot()
        if items:
            ax.barh([plot_text(k) for k, _ in items], [v for _, v in items], color=ACCENT, height=0.6)
            for i, (_, v) in enumerate(items):
                ax.text(v, i, f" {v:.3f}", va="center", fontsize=7.5)
            ax.set_xlim(0, max(v for _, v in items) * 1.15 or 1.0)
            ax.grid(axis="y", visible=False)
        else:
            _empty(ax, "no importances")
        ax.set_xlabel("importance")
        ax.set_title("Hyperparameter importances")
        return _png(fig)


def trial_learning_curves(
    top: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    pruned: Sequence[Sequence[tuple[float, float]]],
    metric: str = "valid score",
    step_name: str = "epoch",
) -> bytes:
    """Intermediate values of the best trials (coloured, labelled) and of pruned trials (grey)."""
    from matplotlib.ticker import MaxNLocator

    with _figure(FULL, 3.6) as fig:
        ax = fig.add_subplot()
        drawn = False
        for i, curve in enumerate(pruned):
            pts = [(x, y) for x, y in curve if _finite(y)]
            if pts:
                ax.plot(
                    *zip(*pts, strict=True),
                    color=MUTED,
                    lw=0.9,
                    alpha=0.6,
                    label="pruned" if i == 0 else None,
                )
                ax.plot([pts[-1][0]], [pts[-1][1]], marker="x", color=MUTED, ms=4)
                drawn = True
        for i, (name, curve) in enumerate(top):
            pts = [(x, y) for x, y in curve if _finite(y)]
            if pts:
                ax.plot(
                    *zip(*pts, strict=True), color=PALETTE[i % len(PALETTE)], lw=1.8, label=plot_text(name)
                )
                drawn = True
        title = "Learning curves: best configurations and pruned ones"
        if drawn:
            _legend_above(fig, title)
        else:
            _empty(ax, "no intermediate values recorded")
            ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(plot_text(step_name))
        ax.set_ylabel(plot_text(metric))
        return _png(fig)


# ---------------------------------------------------------------------------------------------- verdict ---


def baseline_comparison(
    models: Sequence[Mapping[str, Any]], metric: str = "score", highlight: Sequence[str] = ()
) -> bytes:
    """Mean score per model with a standard-deviation error bar; ``models``: {name, mean, std, scores?}."""
    rows = [m for m in models if _finite(m.get("mean"))]
    rows.sort(key=lambda m: m["mean"])
    zoom = False
    with _figure(FULL, max(2.2, 0.36 * len(rows) + 1.0)) as fig:
        ax = fig.add_subplot()
        if not rows:
            _empty(ax, "no scores")
        else:
            names = [plot_text(m["name"]) for m in rows]
            means = [m["mean"] for m in rows]
            stds = [m["std"] if _finite(m.get("std")) else 0.0 for m in rows]
            cols = [PALETTE[1] if m["name"] in highlight else ACCENT for m in rows]
            # one score per model (no spread anywhere): no error bars, whose zero-width caps read as data
            spread = any(s > 0 for s in stds)
            lo = min(
                min(m - s for m, s in zip(means, stds, strict=True)),
                min((s for m in rows for s in (m.get("scores") or []) if _finite(s)), default=math.inf),
            )
            hi = max(
                max(m + s for m, s in zip(means, stds, strict=True)),
                max((s for m in rows for s in (m.get("scores") or []) if _finite(s)), default=-math.inf),
            )
            pad = (hi - lo) * 0.15 or 0.05
            # bars start at 0, so that their lengths compare, unless the scores sit far from 0 next to their
            # spread (0.92 vs 0.93 would be bars of one length) or go below it (r2, minus an error): then the
            # axis starts near the data, says where, and the bars start there too, so that a better score is
            # still a longer bar (bars from 0 to a negative score grew longer the worse the score)
            zoom = lo < 0 or lo - pad > 2.0 * (hi - lo + 2 * pad)
            left = lo - pad if zoom else 0.0
            ax.barh(
                names,
                [m - left for m in means],
                left=left,
                xerr=stds if spread else None,
                color=cols,
                height=0.6,
                capsize=3 if spread else 0,
                error_kw={"ecolor": "#374151", "lw": 1},
            )
            for i, m in enumerate(rows):
                pts = [s for s in m.get("scores") or [] if _finite(s)]
                if pts:
                    ax.scatter(pts, [i] * len(pts), s=7, color="#111827", alpha=0.45, zorder=3)
            ax.set_xlim(left, hi + pad if zoom else hi + max(pad, 0.08 * hi))
            # the values in a column right of the axes, clear of the bars' ends, error bars and split dots
            from matplotlib.transforms import blended_transform_factory

            right = blended_transform_factory(ax.transAxes, ax.transData)
            for i, mean in enumerate(means):
                ax.text(
                    1.01,
                    i,
                    f"{mean:.4f}",
                    va="center",
                    ha="left",
                    fontsize=7.5,
                    color="#111827",
                    transform=right,
                )
            ax.grid(axis="y", visible=False)
        how = []
        if rows and any(_finite(m.get("std")) and m["std"] > 0 for m in rows):
            how.append("mean ± std over splits")
        if rows and any(any(_finite(x) for x in m.get("scores") or []) for m in rows):
            how.append("dots: splits")
        if rows and zoom:
            how.append(f"axis starts at {left:.3g}, not 0")
        ax.set_xlabel(plot_text(metric, 60) + (f" ({'; '.join(how)})" if how else ""))
        ax.set_title("Network vs classic baselines")
        return _png(fig)


def learning_curve_fraction(
    fractions: Sequence[float],
    curves: Mapping[str, Sequence[Any]],
    spreads: Mapping[str, Sequence[Any]] | None = None,
    metric: str = "score",
) -> bytes:
    """Score against the fraction of the training set used, one line per model, with a std band."""
    from matplotlib.ticker import PercentFormatter

    with _figure(FULL, 3.4) as fig:
        ax = fig.add_subplot()
        drawn = False
        for i, (name, ys) in enumerate(curves.items()):
            colour = PALETTE[i % len(PALETTE)]
            pts = [(f, y) for f, y in zip(fractions, ys, strict=False) if _finite(f) and _finite(y)]
            if not pts:
                continue
            ax.plot(*zip(*pts, strict=True), marker="o", ms=4, lw=1.8, color=colour, label=plot_text(name))
            sd = (spreads or {}).get(name)
            if sd:
                band = [
                    (f, y, s)
                    for f, y, s in zip(fractions, ys, sd, strict=False)
                    if _finite(f) and _finite(y) and _finite(s)
                ]
                if band:
                    fx, fy, fs = zip(*band, strict=True)
                    ax.fill_between(
                        fx,
                        [y - s for y, s in zip(fy, fs, strict=True)],
                        [y + s for y, s in zip(fy, fs, strict=True)],
                        color=colour,
                        alpha=0.15,
                        lw=0,
                    )
            drawn = True
        title = "Learning curve: score vs training-set size"
        if drawn:
            _legend_above(fig, title)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        else:
            _empty(ax, "no learning-curve points")
            ax.set_title(title)
        ax.set_xlabel("fraction of the training set")
        ax.set_ylabel(plot_text(metric))
        return _png(fig)


# ------------------------------------------------------------------------------------- classification ---


def confusion_matrix(
    matrix: Sequence[Sequence[Any]],
    labels: Sequence[Any],
    title: str = "Confusion matrix",
    normalize: bool = True,
) -> bytes:
    """Rows: true class, columns: predicted; cells coloured by the row-normalised rate and annotated."""
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    n = m.shape[0] if m.ndim == 2 else 0
    names = [plot_text(x, 18) for x in labels][:n] + [str(i) for i in range(len(labels), n)]
    size = min(9.0, max(3.8, 0.42 * n + 2.4))
    with _figure(size + 0.8, size) as fig:
        ax = fig.add_subplot()
        if n == 0 or m.shape[1] != n:
            _empty(ax, "no confusion matrix")
            return _png(fig)
        rows = m.sum(axis=1, keepdims=True)
        rate = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0) if normalize else m
        im = ax.imshow(rate, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
        fig.colorbar(im, ax=ax, shrink=0.8, label="share of the true class" if normalize else "count")
        if n <= 25:
            for i in range(n):
                for j in range(n):
                    if m[i, j]:
                        ax.text(
                            j,
                            i,
                            f"{int(m[i, j])}",
                            ha="center",
                            va="center",
                            fontsize=7 if n > 12 else 8,
                            color="white" if rate[i, j] > 0.55 else "#111827",
                        )
        # a cell is ~0.3 inch at most: labels wider than about 5 characters would run into their neighbours
        # level, so they are slanted (anchored at their tick) as soon as one is
        slant = n > 4 or max((len(x) for x in names), default=0) > 5
        ax.set_xticks(range(n), names)
        if slant:
            for tick in ax.get_xticklabels():
                tick.set(rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(n), names)
        ax.grid(False)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        # the figure's title, above the matrix and its colour bar alike: the axes' title, centred on the
        # matrix, ran under the colour bar when long
        fig.suptitle(plot_text(title, 60), fontsize=10, fontweight="bold")
        return _png(fig)


def project_2d(
    vectors: Sequence[Sequence[float]], method: str = "pca", random_state: int = 0
) -> list[list[float]]:
    """Reduce ``vectors`` to 2-D with scikit-learn's PCA (default) or t-SNE; deterministic for a seed."""
    import numpy as np

    x = np.asarray(vectors, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"Cannot project embeddings of shape {x.shape}: expected (n_points, n_dims).")
    x = np.nan_to_num(x)
    if x.shape[1] <= 2:
        out = np.zeros((x.shape[0], 2))
        out[:, : x.shape[1]] = x
        return out.tolist()
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(max(2.0, min(30.0, (x.shape[0] - 1) / 3)))
        return (
            TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state)
            .fit_transform(x)
            .tolist()
        )
    if method != "pca":
        raise ValueError(f"Unknown projection method {method!r}: expected 'pca' or 'tsne'.")
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=random_state).fit_transform(x).tolist()


def _annotate_apart(ax: Any, fig: Any, points: Sequence[Sequence[float]], names: Sequence[Any]) -> None:
    """Name each point beside it, at the first offset (nearest first, farther ones with a leader line) where the
    text stays inside the axes and overlaps no name already placed: near neighbours printed their names on top of
    each other.  Where none is free, the nearest offset."""
    fontsize = 6.5
    px = fig.dpi / 72.0  # pixels per point
    ax.get_xlim()  # settle the autoscaled limits, so that data -> pixels is final
    frame = ax.get_window_extent()
    height = fontsize * 1.4
    placed: list[tuple[float, float, float, float]] = []
    for p, name in zip(points, names, strict=True):
        if not (len(p) >= 2 and _finite(p[0]) and _finite(p[1])):
            continue
        text = plot_text(name, 16)
        width = 0.68 * fontsize * len(text) + 2  # points, a little generous for a sans-serif at this size
        x, y = ax.transData.transform((float(p[0]), float(p[1])))
        candidates = [
            (r * dx - (width if dx < 0 else 0), r * dy - (height if dy < 0 else 0), r)
            for r in (1.0, 3.0, 5.5)
            for dx, dy in ((3, 3), (3, -3), (-3, 3), (-3, -3), (0, 6), (0, -6))
        ]

        boxes = [
            (x + c[0] * px, y + c[1] * px, x + (c[0] + width) * px, y + (c[1] + height) * px)
            for c in candidates
        ]
        fits = [
            frame.x0 <= b[0]
            and b[2] <= frame.x1
            and frame.y0 <= b[1]
            and b[3] <= frame.y1
            and not any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in placed)
            for b in boxes
        ]
        i = fits.index(True) if True in fits else 0
        choice = candidates[i]
        placed.append(boxes[i])
        ax.annotate(
            text,
            (p[0], p[1]),
            fontsize=fontsize,
            color="#374151",
            xytext=(choice[0], choice[1]),
            textcoords="offset points",
            arrowprops={"arrowstyle": "-", "color": "#9ca3af", "lw": 0.5} if choice[2] > 1 else None,
        )


def projection_2d(
    points: Sequence[Sequence[float]],
    labels: Sequence[Any] | None = None,
    title: str = "2-D projection of the embeddings",
    annotate: Sequence[Any] | None = None,
) -> bytes:
    """Scatter of 2-D points coloured by label (top 10 labels, the rest as 'other')."""
    from collections import Counter

    pts = [(float(p[0]), float(p[1])) for p in points if len(p) >= 2 and _finite(p[0]) and _finite(p[1])]
    with _figure(FULL, 4.6) as fig:
        ax = fig.add_subplot()
        if not pts:
            _empty(ax, "no points")
            return _png(fig)
        labs = [str(x) for x in labels] if labels is not None and len(labels) == len(points) else None
        if labs is None:
            ax.scatter([x for x, _ in pts], [y for _, y in pts], s=10, color=ACCENT, alpha=0.7)
        else:
            common = [lab for lab, _ in Counter(labs).most_common(10)]
            groups = [*common, "other"] if len(set(labs)) > len(common) else common
            for i, group in enumerate(groups):
                sel = [
                    p
                    for p, lab in zip(points, labs, strict=True)
                    if (lab == group if group in common else lab not in common)
                    and len(p) >= 2
                    and _finite(p[0])
                    and _finite(p[1])
                ]
                if sel:
                    colour = (
                        MUTED if group == "other" and "other" not in common else PALETTE[i % len(PALETTE)]
                    )
                    ax.scatter(
                        [p[0] for p in sel],
                        [p[1] for p in sel],
                        s=12,
                        alpha=0.75,
                        color=colour,
                        label=plot_text(group, 24),
                    )
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=1.5)
        if annotate is not None and len(annotate) == len(points) and len(points) <= 60:
            _annotate_apart(ax, fig, points, annotate)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#d1d5db")
        ax.set_title(plot_text(title, 70))
        return _png(fig)
