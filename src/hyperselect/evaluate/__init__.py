"""Is a network worth it?  Tuned classic baselines, a fair repeated-split protocol, significance tests, the verdict.

>>> from hyperselect.data import load_builtin
>>> from hyperselect.evaluate import compare
>>> verdict = compare(load_builtin("digits"), n_trials=10)
>>> verdict.recommendation          # "network" | "baseline" | "no_significant_difference"
>>> print(render_verdict(verdict))  # the figures and the reasons in plain words
"""

from hyperselect.evaluate.baselines import (
    FAMILIES,
    BaselineFit,
    count_stored_numbers,
    make_baseline,
    select_baselines,
    tune_baseline,
)
from hyperselect.evaluate.metrics import (
    TestResult,
    corrected_resampled_ttest,
    holm,
    paired_ftest_5x2cv,
    score,
    slope_per_doubling,
)
from hyperselect.evaluate.report_text import render_verdict
from hyperselect.evaluate.verdict import (
    RECOMMENDATIONS,
    Candidate,
    LearningCurve,
    Verdict,
    cnn_base_config,
    compare,
    demo_verdict,
)

__all__ = [
    "FAMILIES",
    "RECOMMENDATIONS",
    "BaselineFit",
    "Candidate",
    "LearningCurve",
    "TestResult",
    "Verdict",
    "cnn_base_config",
    "compare",
    "corrected_resampled_ttest",
    "count_stored_numbers",
    "demo_verdict",
    "holm",
    "make_baseline",
    "paired_ftest_5x2cv",
    "render_verdict",
    "score",
    "select_baselines",
    "slope_per_doubling",
    "tune_baseline",
]
