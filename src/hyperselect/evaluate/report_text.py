"""Plain-text rendering of a :class:`~hyperselect.evaluate.verdict.Verdict`: what a terminal or a log shows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hyperselect.evaluate.verdict import Verdict

_LABELS = {
    "network": "USE THE NETWORK",
    "baseline": "USE THE BASELINE",
    "no_significant_difference": "NO SIGNIFICANT DIFFERENCE",
}


def _num(v: float, spec: str = ".4f") -> str:
    return format(v, spec) if isinstance(v, int | float) and math.isfinite(v) else "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]


def render_verdict(verdict: Verdict, *, width: int = 100) -> str:
    """The verdict as plain text: recommendation, reasons, the candidates' figures, tests, learning curve."""
    from hyperselect.train.metrics import metric_words

    v = verdict
    sn = v.score_name
    out: list[str] = []
    title = f"Verdict on {v.data.get('source', 'data')}: {_LABELS.get(v.recommendation, v.recommendation)}"
    out += [
        title,
        "=" * min(width, len(title)),
        f"recommendation: {v.recommendation}   (model to use: {v.preferred_model})",
        "",
    ]
    out.append("Reasons:")
    for r in v.reasons:
        out.append(f"  - {r}")
    out.append("")

    proto = v.protocol
    out.append(
        f"Candidates ({metric_words(sn)}; CV = {proto['n_repeats']} x {proto['n_splits']}-fold on "
        f"{proto['n_dev_rows']:,} rows of train+valid, same folds for all):"
    )
    rows = []
    for c in sorted(v.candidates, key=lambda c: -c.cv_mean if math.isfinite(c.cv_mean) else math.inf):
        mark = " *" if c is v.network or c is v.baseline else ""
        rows.append(
            [
                c.name + mark,
                c.kind,
                _num(c.valid_score),
                _num(c.cv_mean),
                _num(c.cv_std),
                _num(c.test_score),
                _num(c.fit_seconds, ".2f"),
                _num(c.predict_seconds_per_1k * 1e3, ".2f"),
                f"{c.n_parameters:,}" if c.n_parameters else "-",
            ]
        )
    out += [
        "  " + line
        for line in _table(
            ["model", "kind", "tune-valid", "CV mean", "CV sd", "test", "fit s", "pred ms/1k", "params"], rows
        )
    ]
    out.append("  (* compared; networks other than the best are not cross-validated, CV columns show '-')")
    out.append("")

    out.append(
        f"Best network vs each baseline ({v.test.test}, alpha {v.alpha}, Holm-corrected p; diff in {sn}):"
    )
    rows = [
        [
            name,
            _num(c["mean_diff"], "+.4f"),
            f"[{_num(c['ci_low'], '+.4f')}, {_num(c['ci_high'], '+.4f')}]",
            _num(c["statistic"], ".2f"),
            _num(c["p_value"], ".3g"),
            _num(c["p_holm"], ".3g"),
        ]
        for name, c in v.comparisons.items()
    ]
    out += ["  " + line for line in _table(["baseline", "diff", "95% CI", "stat", "p", "p (Holm)"], rows)]
    out.append("")

    lc = v.learning_curve
    if lc is not None:
        out.append(f"Learning curve ({metric_words(sn)}; scored on {lc.evaluated_on}; trend: {lc.trend()}):")
        rows = [
            [f"{f:.0%}", f"{n:,}", _num(a), _num(b), _num(a - b, "+.4f")]
            for f, n, a, b in zip(lc.fractions, lc.n_rows, lc.network, lc.baseline, strict=True)
        ]
        out += [
            "  " + line
            for line in _table(
                ["share", "rows", f"network ({v.network.name})", f"baseline ({v.baseline.name})", "gap"], rows
            )
        ]
        ci = lc.gain_diff_ci
        if ci is not None:
            out.append(
                f"  last doubling, network's gain minus the baseline's: {_num(lc.gain_diff, '+.4f')}, "
                f"{round(lc.confidence * 100)}% paired-bootstrap interval [{_num(ci[0], '+.4f')}, "
                f"{_num(ci[1], '+.4f')}] ({lc.interval_covers})"
            )
        out.append("")
    secs = v.seconds
    out.append("Time: " + ", ".join(f"{k} {s:.1f} s" for k, s in secs.items()))
    return "\n".join(out) + "\n"


__all__ = ["render_verdict"]
