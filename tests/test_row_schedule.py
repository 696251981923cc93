"""Rungs on a subset of the training rows (Hyperband's data budget): the row order, the schedule, the trainers
that follow it and the search that uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.search.priors import advise
from hyperselect.search.study import check_rung_rows, create_study, tune
from hyperselect.train.batching import EpochShuffler, RowSchedule, nested_row_order
from hyperselect.train.cohort import Cohort
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:400], y[:400], X[1500:1620], y[1500:1620]


def test_nested_row_order_is_a_permutation_whose_prefixes_are_stratified() -> None:
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=2_000, p=[0.6, 0.25, 0.1, 0.05])
    order = nested_row_order(y, seed=3).numpy()
    assert sorted(order) == list(range(len(y)))
    share = np.bincount(y, minlength=4) / len(y)
    for m in (40, 200, 700):
        counts = np.bincount(y[order[:m]], minlength=4)
        # every prefix holds each class within one row of its share (a random subset misses by ~sqrt(m p))
        assert np.all(np.abs(counts - m * share) <= 1.0 + 1e-9), (m, counts, m * share)
    # reproducible from its seed, different for another seed
    assert np.array_equal(order, nested_row_order(y, seed=3).numpy())
    assert not np.array_equal(order, nested_row_order(y, seed=4).numpy())


def test_nested_row_order_of_a_continuous_target_is_a_plain_permutation() -> None:
    y = np.linspace(0.0, 1.0, 301)
    order = nested_row_order(y, seed=0).numpy()
    assert sorted(order) == list(range(301))


def test_row_schedule_and_shuffler() -> None:
    order = torch.randperm(100, generator=torch.Generator().manual_seed(1))
    sched = RowSchedule.from_fractions(order, [2, 5, 9], [0.2, 0.5], min_rows=30)
    assert sched is not None
    assert [sched.rows(e) for e in range(7)] == [30, 30, 50, 50, 50, None, None]
    shuf = EpochShuffler(100, data_seed=0, schedule=sched)
    epochs = [shuf.next_permutation() for _ in range(6)]
    assert [len(p) for p in epochs] == [30, 30, 50, 50, 50, 100]
    # a subset epoch is a shuffle of the order's prefix: nested, and the same rows each epoch of its rung
    assert set(epochs[0].tolist()) == set(epochs[1].tolist()) == set(order[:30].tolist())
    assert set(epochs[2].tolist()) == set(order[:50].tolist()) > set(epochs[0].tolist())
    assert epochs[0].tolist() != epochs[1].tolist()
    # all rows in every rung: no schedule
    assert RowSchedule.from_fractions(order, [2, 5], [1.0], min_rows=0) is None
    assert RowSchedule.from_fractions(order, [2, 5], [0.1], min_rows=100) is None
    with pytest.raises(ValueError, match="increasing epochs"):
        RowSchedule(order, [(3, 40), (2, 50)])
    with pytest.raises(ValueError, match="row schedule over 100 rows for 90"):
        EpochShuffler(90, 0, sched)


def _configs() -> list[MLPConfig]:
    return [
        MLPConfig(hidden=(16,), lr=lr, optimizer=opt, batch_size=32, max_epochs=6, patience=None)
        for lr, opt in ((0.01, "adam"), (0.05, "momentum"), (0.003, "rmsprop"))
    ]


def test_population_and_single_trainer_follow_the_same_schedule(digits) -> None:  # type: ignore[no-untyped-def]
    """A population member trained with a row schedule follows NetworkRun with the same schedule, and the
    schedule changes the trajectory (the first epochs see a third of the rows)."""
    ytr = digits[1]
    sched = RowSchedule.from_fractions(nested_row_order(ytr, 0), [2, 4], [1 / 3], min_rows=0)
    assert sched is not None and sched.rows(0) == 134
    torch.set_num_threads(1)
    configs = _configs()
    pop = PopulationTrainer(
        configs, *digits, task="multiclass", n_classes=10, seeds=[7, 8, 9], data_seed=5,
        dtype=torch.float64, row_schedule=sched,
    )  # fmt: skip
    pop.run_epochs(6)
    for i, cfg in enumerate(configs):
        ref = NetworkRun(
            cfg, *digits, task="multiclass", n_classes=10, random_state=7 + i, data_seed=5,
            dtype=torch.float64, row_schedule=sched,
        )  # fmt: skip
        ref.run_epochs(6)
        np.testing.assert_allclose(pop.history(i).train_loss, ref.history.train_loss, rtol=1e-6)
        np.testing.assert_allclose(pop.history(i).valid_loss, ref.history.valid_loss, rtol=1e-6)
        full = NetworkRun(
            cfg, *digits, task="multiclass", n_classes=10, random_state=7 + i, data_seed=5, dtype=torch.float64
        )  # fmt: skip
        full.run_epochs(6)
        assert not np.allclose(full.history.train_loss[:2], ref.history.train_loss[:2])
    # a subset epoch takes its share of the steps: 2 epochs of ceil(134 / 32) and 4 of ceil(400 / 32)
    assert pop._t == 2 * 5 + 4 * 13


def test_cohort_passes_the_schedule_to_every_unit(digits) -> None:  # type: ignore[no-untyped-def]
    ytr = digits[1]
    sched = RowSchedule.from_fractions(nested_row_order(ytr, 0), [3], [0.5], min_rows=0)
    configs = [*_configs(), MLPConfig(hidden=(8, 8), batch_size=64, max_epochs=6, patience=None)]
    for mode in ("population", "sequential"):
        cohort = Cohort(
            configs, *digits, task="multiclass", n_classes=10, seeds=[1, 2, 3, 4], mode=mode, row_schedule=sched
        )  # fmt: skip
        cohort.run_epochs(4)
        for u in cohort._units:
            assert u.shuffler.schedule is sched and u.shuffler.epoch == 4


def test_check_rung_rows() -> None:
    assert check_rung_rows(None, [3, 9, 27]) is None
    assert check_rung_rows([], [3, 9, 27]) is None
    assert check_rung_rows([1 / 9, 1 / 3], [3, 9, 27]) == [1 / 9, 1 / 3]
    for bad, match in (
        ([0.5, 0.2], "must not decrease"),
        ([0.0], r"rung_rows\[0\] must be a fraction in \(0, 1\]"),
        ([1.5], "fraction"),
        (["a"], "fraction"),
        ([0.1, 0.2, 0.3], "the last rung trains on every row"),
        ("0.3", "list of fractions"),
    ):
        with pytest.raises(ConfigError, match=match):
            check_rung_rows(bad, [3, 9, 27])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def digits_data():  # type: ignore[no-untyped-def]
    from hyperselect.data import prepare_arrays

    X, y = load_digits(return_X_y=True)
    return prepare_arrays(X, y, task="multiclass", random_state=0, name="digits")


def _tune(data, **kw):  # type: ignore[no-untyped-def]
    space = advise(data, max_epochs=6).fix(n_layers=1, width=16, batch_size=32)
    return tune(data, space=space, n_trials=6, batch_size=6, min_epochs=2, random_state=0, refit=False, **kw)


def test_search_with_rung_rows_trains_the_first_rung_on_a_subset(digits_data) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    assert len(digits_data.y_train) > 3 * 256  # so that a third of the rows is a subset (MIN_SUBSET_ROWS)
    _, settings = create_study(digits_data, n_trials=6, max_epochs=6, min_epochs=2, rung_rows=[1 / 3])
    assert settings.rungs == [2, 6] and settings.rung_rows == [1 / 3]
    # stored with the study, so that workers train the same way
    assert type(settings).from_dict(settings.to_dict()).rung_rows == [1 / 3]
    full, part = _tune(digits_data), _tune(digits_data, rung_rows=[1 / 3])
    a = {t.number: t for t in full.study.trials}
    b = {t.number: t for t in part.study.trials}
    assert len(b) == 6 and all(t.state.name in ("COMPLETE", "PRUNED") for t in b.values())
    assert part.to_dict()["rung_rows"] == [1 / 3] and full.to_dict()["rung_rows"] is None
    # the same configurations (the first batch is drawn from the priors), trained differently in the first rung
    for k in a:
        assert a[k].params == b[k].params
    first = [(a[k].intermediate_values[0], b[k].intermediate_values[0]) for k in a]
    assert any(x != y for x, y in first), first
    with pytest.raises(ConfigError, match="the last rung trains on every row"):
        _tune(digits_data, rung_rows=[0.3, 0.5])


def test_create_study_checks_its_arguments_before_it_opens_the_storage(digits_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    journal = tmp_path / "s.journal"
    with pytest.raises(ConfigError, match="must not decrease"):
        create_study(digits_data, storage=journal, rung_rows=[0.5, 0.2])
    with pytest.raises(ConfigError, match="group_size"):
        create_study(digits_data, storage=journal, group_size=0)
    assert not journal.exists()
