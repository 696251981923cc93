"""Loading data: tables (CSV, TSV, Parquet), built-in data sets and train/valid/test splits.

Everything here returns data already split and preprocessed (:class:`TabularData`), or raises
:class:`hyperselect.errors.DataError` naming the file and the problem.
"""

from hyperselect.data.builtin import BUILTIN_DATASETS, load_builtin
from hyperselect.data.splits import SplitWarning, make_splits
from hyperselect.data.tabular import DataWarning, TabularData, load_table, prepare_arrays, prepare_tabular

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
