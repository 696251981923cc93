"""Which hyperparameters: search spaces with expert priors, successive halving over cohorts, Optuna studies.

>>> from hyperselect.search import advise, tune
>>> space = advise(data)                     # the default space, with space.reasons[name] for every choice
>>> result = tune(data, n_trials=30)         # TPE + successive halving; refit on train+valid; test metrics
>>> result.save("out/")                      # result.json + trials.csv, written atomically
"""

from hyperselect.search.halving import make_rungs, run_halving
from hyperselect.search.priors import advise
from hyperselect.search.sampler import PriorSampler
from hyperselect.search.space import Categorical, Dimension, Float, Int, SearchSpace, load_overrides
from hyperselect.search.storage import open_storage
from hyperselect.search.study import (
    SAMPLERS,
    SearchSettings,
    TuneResult,
    create_study,
    default_batch_size,
    load_data_ref,
    make_sampler,
    prior_trials,
    run_worker,
    slot_counts,
    tune,
)

__all__ = [
    "SAMPLERS",
    "Categorical",
    "Dimension",
    "Float",
    "Int",
    "PriorSampler",
    "SearchSettings",
    "SearchSpace",
    "TuneResult",
    "advise",
    "create_study",
    "default_batch_size",
    "load_data_ref",
    "load_overrides",
    "make_rungs",
    "make_sampler",
    "open_storage",
    "prior_trials",
    "run_halving",
    "run_worker",
    "slot_counts",
    "tune",
]
