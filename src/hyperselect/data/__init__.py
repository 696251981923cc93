"""Loading data: tables (CSV, TSV, Parquet), built-in data sets and train/valid/test splits.

Everything here returns data already split and preprocessed (:class:`TabularData`), or raises
:class:`hyperselect.errors.DataError` naming the file and the problem.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hyperselect.data.builtin import BUILTIN_DATASETS, load_builtin
    from hyperselect.data.splits import SplitWarning, make_splits
    from hyperselect.data.tabular import DataWarning, TabularData, load_table, prepare_arrays, prepare_tabular

# Lazy: importing hyperselect.data.graph must not pay for pandas, pyarrow and scikit-learn.
_WHERE = {
    "BUILTIN_DATASETS": "builtin",
    "load_builtin": "builtin",
    "SplitWarning": "splits",
    "make_splits": "splits",
    "DataWarning": "tabular",
    "TabularData": "tabular",
    "load_table": "tabular",
    "prepare_arrays": "tabular",
    "prepare_tabular": "tabular",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"hyperselect.data.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hyperselect.data' has no attribute {name!r}")


__all__ = [
    "BUILTIN_DATASETS",
    "DataWarning",
    "SplitWarning",
    "TabularData",
    "load_builtin",
    "load_table",
    "make_splits",
    "prepare_arrays",
    "prepare_tabular",
]
