"""The run report: one self-contained HTML page built from a run directory's JSON, plus CLI progress helpers.

``build_report(run_dir)`` reads ``result.json`` (train or tune), ``verdict.json`` (compare),
``text_result.json`` (text), ``graph*.json`` (graph) and ``trials.csv``, whichever exist, and writes
``run_dir/report.html``.  matplotlib and scikit-learn are imported only when a plot is drawn.
"""

from __future__ import annotations

from hyperselect.report.html import REPORT_NAME, build_report, render_report, try_build_report
from hyperselect.report.progress import make_progress, track
from hyperselect.report.views import RunData, load_run

__all__ = [
    "REPORT_NAME",
    "RunData",
    "build_report",
    "load_run",
    "make_progress",
    "render_report",
    "track",
    "try_build_report",
]
