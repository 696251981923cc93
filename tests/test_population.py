"""The population trainer against its reference, the single-network trainer (``NetworkRun``).

Every member of a population must follow the trajectory of ``NetworkRun`` with the same config and seed: in
float64 the loss curves, gradient norms and learning rates agree to a relative 1e-6 for every optimizer and
activation (without dropout; with dropout the distribution of results agrees).  The data are small so that
each test runs in about a second.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits

from hyperselect.nn.config import ACTIVATIONS, OPTIMIZERS, CNNConfig, MLPConfig
from hyperselect.train.cohort import Cohort
from hyperselect.train.planner import Planner, split_for_memory
from hyperselect.train.population import PopulationTrainer
from hyperselect.train.trainer import NetworkRun

RTOL = 1e-6
EPOCHS = 4
DATA_SEED = 5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:240], y[:240], X[1500:1620], y[1500:1620]


def _lr(optimizer: str) -> float:
    return 0.05 if optimizer in ("sgd", "momentum", "nesterov") else 0.01


def _grid_configs() -> list[MLPConfig]:
    """One config per (optimizer, activation), varied in everything else a member may choose on its own."""
    configs = []
    for n, (opt, act) in enumerate(itertools.product(OPTIMIZERS, ACTIVATIONS)):
        configs.append(
            MLPConfig(
                hidden=((16, 8), (12, 8), (16, 6))[n % 3],  # different widths: the population is padded
                activation=act,
                optimizer=opt,
                lr=_lr(opt) * (1 + 0.1 * (n % 4)),
                weight_decay=(0.0, 1e-3)[n % 2],
                momentum=(0.9, 0.8)[n % 2],
                beta1=(0.9, 0.85)[n % 2],
                beta2=(0.999, 0.99)[n % 2],
                init=("default", "he", "xavier")[n % 3],
                lr_schedule=("constant", "cosine", "plateau")[n % 3],
                grad_clip=(None, 0.5)[(n // 2) % 2],
                label_smoothing=(0.0, 0.1)[(n // 3) % 2],
                batch_size=32,
                max_epochs=EPOCHS,
                patience=None,
            )
        )
    return configs


def _reference(
    config: MLPConfig, seed: int, data: tuple[np.ndarray, ...], epochs: int = EPOCHS
) -> NetworkRun:
    run = NetworkRun(
        config,
        *data,
        task="multiclass",
        n_classes=10,
        random_state=seed,
        data_seed=DATA_SEED,
        dtype=torch.float64,
    )
    run.run_epochs(epochs)
    return run


def _curves(history) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array(
        [
            *history.train_loss,
            *history.valid_loss,
            *history.lr,
            *itertools.chain.from_iterable(history.grad_norms),
        ]
    )


def _assert_same_trajectory(ref: NetworkRun, pop: PopulationTrainer, i: int) -> None:
    a, b = _curves(ref.history), _curves(pop.history(i))
    assert a.shape == b.shape
    rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-12)
    assert rel.max() < RTOL, f"member {i}: max relative difference {rel.max():.3g}"
    np.testing.assert_allclose(pop.history(i).valid_score, ref.history.valid_score, rtol=RTOL, atol=1e-12)


@pytest.fixture(scope="module")
def grid_population(digits) -> tuple[list[MLPConfig], PopulationTrainer]:  # type: ignore[no-untyped-def]
    configs = _grid_configs()
    pop = PopulationTrainer(
        configs,
        *digits,
        task="multiclass",
        n_classes=10,
        seeds=range(100, 100 + len(configs)),
        data_seed=DATA_SEED,
        dtype=torch.float64,
    )
    pop.run_epochs(EPOCHS)
    return configs, pop


@pytest.mark.parametrize(("optimizer", "activation"), list(itertools.product(OPTIMIZERS, ACTIVATIONS)))
def test_member_follows_single_trainer(grid_population, digits, optimizer: str, activation: str) -> None:  # type: ignore[no-untyped-def]
    configs, pop = grid_population
    i = next(j for j, c in enumerate(configs) if (c.optimizer, c.activation) == (optimizer, activation))
    ref = _reference(configs[i], 100 + i, digits)
    _assert_same_trajectory(ref, pop, i)
    # the member's module (build_model + its best weights) is the reference's module
    ra, rb = ref.result(), pop.result(i)
    assert rb.status == ra.status == "completed" and rb.best_epoch == ra.best_epoch
    for (ka, va), (kb, vb) in zip(ra.model.state_dict().items(), rb.model.state_dict().items(), strict=True):
        assert ka == kb
        torch.testing.assert_close(vb, va, rtol=1e-6, atol=1e-9)


def test_odd_widths_are_padded_to_the_alignment_and_change_nothing(digits) -> None:  # type: ignore[no-untyped-def]
    """A population's layer just below a multiple of WIDTH_ALIGN is padded up to it (faster matrix products);
    the padding is masked, so a lone member of widths (30, 5) still follows the single trainer."""
    from hyperselect.train.population import WIDTH_ALIGN, member_widths

    assert WIDTH_ALIGN == 16
    assert [member_widths([MLPConfig(hidden=(w,))])[0] for w in (30, 33, 45, 52, 60, 63, 64, 120)] == [
        32,
        33,
        48,
        52,
        64,
        64,
        64,
        120,
    ]
    cfg = MLPConfig(hidden=(30, 5), lr=0.01, batch_size=32, max_epochs=EPOCHS, patience=None, dropout=0.0)
    pop = PopulationTrainer(
        [cfg], *digits, task="multiclass", n_classes=10, seeds=[3], data_seed=DATA_SEED, dtype=torch.float64
    )
    assert pop.widths == (32, 5)
    pop.run_epochs(EPOCHS)
    _assert_same_trajectory(_reference(cfg, 3, digits), pop, 0)
    assert pop.result(0).n_parameters == pop.summary(0).n_parameters == (64 + 1) * 30 + 31 * 5 + 6 * 10
    layer_norm = cfg.replace(norm="layer")
    assert PopulationTrainer([layer_norm], *digits, task="multiclass", n_classes=10).widths == (30, 5)


def test_compiled_update_matches_eager(grid_population, digits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The torch.compile'd update (used for large populations) follows the eager one, which follows the
    reference; where compilation is unavailable the trainer falls back to eager and this is skipped."""
    from hyperselect.train import population as population_mod

    configs, eager = grid_population
    assert not eager._compile  # the grid is below COMPILE_MIN_ELEMENTS: the eager path
    monkeypatch.setenv("HYPERSELECT_COMPILE", "1")
    monkeypatch.setenv("HYPERSELECT_FUSED", "0")  # the torch path, not the fused CPU kernel
    pop = PopulationTrainer(
        configs,
        *digits,
        task="multiclass",
        n_classes=10,
        seeds=range(100, 100 + len(configs)),
        data_seed=DATA_SEED,
        dtype=torch.float64,
    )
    pop.run_epochs(EPOCHS)
    if population_mod._compile_failed:
        pytest.skip("torch.compile is unavailable here: the eager update was used")
    assert pop._compile
    for i in range(len(configs)):
        a, b = _curves(eager.history(i)), _curves(pop.history(i))
        rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-12)
        assert rel.max() < RTOL, f"member {i}: max relative difference {rel.max():.3g}"


# float32 with batch norm drifts apart by rounding alone (7e-4 after 3 epochs, while float64 agrees to 1e-9)
@pytest.mark.parametrize(
    ("norm", "dtype"), [("none", torch.float32), ("none", torch.float64), ("batch", torch.float64)]
)
def test_fused_cpu_update_matches_torch_update(digits, monkeypatch, norm: str, dtype: torch.dtype) -> None:  # type: ignore[no-untyped-def]
    """The fused CPU update (numba: gradients read from the step's buffers, mask, clipping and norms in one
    pass) follows torch's update on a padded population with every optimizer, clipping on some members, weight
    decay coupled and decoupled; skipped where numba is not installed."""
    from hyperselect.train import _cpu_update

    if not _cpu_update.available():
        pytest.skip("numba is not installed: populations use torch's update")
    configs = [
        MLPConfig(
            hidden=((16, 8), (12, 8), (16, 6))[n % 3],
            activation=ACTIVATIONS[n % len(ACTIVATIONS)],
            optimizer=OPTIMIZERS[n % len(OPTIMIZERS)],
            lr=0.003,
            weight_decay=(0.0, 1e-3)[n % 2],
            grad_clip=(None, 0.5, None)[n % 3],
            norm=norm,
            batch_size=32,
        )
        for n in range(len(OPTIMIZERS) * 2)
    ]
    kw = dict(task="multiclass", n_classes=10, seeds=range(len(configs)), dtype=dtype)
    monkeypatch.setenv("HYPERSELECT_FUSED", "0")
    reference = PopulationTrainer(configs, *digits, **kw)  # type: ignore[arg-type]
    monkeypatch.setenv("HYPERSELECT_FUSED", "1")
    fused = PopulationTrainer(configs, *digits, **kw)  # type: ignore[arg-type]
    assert fused._fused and not reference._fused and fused.mask is not None
    for pop in (reference, fused):
        pop.run_epochs(3)
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    for i in range(len(configs)):
        a, b = _curves(reference.history(i)), _curves(fused.history(i))
        rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-6)
        assert rel.max() < tol, f"member {i}: max relative difference {rel.max():.3g}"  # grad norms too
    # the absolute tolerance is for weights near zero: after 3 epochs of float64 with batch norm, one of 15,768
    # moved 1.3e-10 (relative 1.3e-8) on an Intel Xeon with AMX, where a Zen 4 agreed to 1e-11
    torch.testing.assert_close(fused.flat, reference.flat, rtol=tol * 10, atol=tol * 1e-1)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_normalised_members_follow_single_trainer(digits, norm: str) -> None:  # type: ignore[no-untyped-def]
    configs = [
        MLPConfig(
            hidden=(16, 8) if norm == "layer" or n % 2 else (12, 8),
            norm=norm,
            optimizer=opt,
            lr=_lr(opt),
            batch_size=32,
            max_epochs=EPOCHS,
            patience=None,
        )
        for n, opt in enumerate(("adam", "momentum", "rmsprop", "adamw"))
    ]
    pop = PopulationTrainer(
        configs,
        *digits,
        task="multiclass",
        n_classes=10,
        seeds=range(4),
        data_seed=DATA_SEED,
        dtype=torch.float64,
    )
    pop.run_epochs(EPOCHS)
    for i, c in enumerate(configs):
        ref = _reference(c, i, digits)
        _assert_same_trajectory(ref, pop, i)
        sa, sb = ref.result().model.state_dict(), pop.result(i).model.state_dict()
        for k in sa:
            torch.testing.assert_close(sb[k].double(), sa[k].double(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("task", "loss"),
    [
        ("binary", "bce"),
        ("binary", "cross_entropy"),
        ("regression", "mse"),
        ("regression", "huber"),
        ("multilabel", "bce"),
    ],
)
def test_every_loss_matches(digits, task: str, loss: str) -> None:  # type: ignore[no-untyped-def]
    Xtr, ytr, Xva, yva = digits
    if task == "binary":
        ytr, yva = (ytr >= 5).astype(int), (yva >= 5).astype(int)
    elif task == "regression":
        ytr, yva = ytr / 9.0, yva / 9.0
    else:
        ytr = np.stack([ytr >= 5, ytr % 2 == 0], 1).astype(float)
        yva = np.stack([yva >= 5, yva % 2 == 0], 1).astype(float)
    configs = [
        MLPConfig(
            hidden=(8,),
            loss=loss,
            optimizer=o,
            lr=_lr(o),
            huber_delta=d,
            label_smoothing=ls,
            batch_size=32,
            max_epochs=3,
            patience=None,
        )
        for o, d, ls in (("adam", 1.0, 0.0), ("sgd", 0.3, 0.1 if loss == "bce" else 0.0))
    ]
    pop = PopulationTrainer(
        configs, Xtr, ytr, Xva, yva, task=task, seeds=[1, 2], data_seed=0, dtype=torch.float64
    )
    pop.run_epochs(3)
    for i, c in enumerate(configs):
        ref = NetworkRun(
            c, Xtr, ytr, Xva, yva, task=task, random_state=i + 1, data_seed=0, dtype=torch.float64
        )
        ref.run_epochs(3)
        _assert_same_trajectory(ref, pop, i)


def test_dropout_distribution_matches(digits) -> None:  # type: ignore[no-untyped-def]
    """With dropout the masks differ, so compare the spread of results over seeds: same distribution."""
    config = MLPConfig(hidden=(32,), dropout=0.5, lr=0.01, batch_size=32, max_epochs=3, patience=None)
    n = 16
    pop = PopulationTrainer(
        [config] * n,
        *digits,
        task="multiclass",
        n_classes=10,
        seeds=range(n),
        data_seed=0,
        dtype=torch.float64,
    )
    pop.run_epochs(3)
    pop_final = np.array([pop.history(i).valid_loss[-1] for i in range(n)])
    single = np.array([_reference(config, s, digits, 3).history.valid_loss[-1] for s in range(n)])
    no_drop = _reference(config.replace(dropout=0.0), 0, digits, 3).history.valid_loss[-1]
    assert abs(pop_final[0] - no_drop) > 1e-6  # dropout did something
    assert stats.ks_2samp(pop_final, single).pvalue > 0.01
    assert stats.ttest_ind(pop_final, single, equal_var=False).pvalue > 0.01


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_manual_step_matches_autograd(digits, smoothing: float) -> None:  # type: ignore[no-untyped-def]
    """The hand-written backward (members without norm layers) against autograd on the same population:
    padded widths, every activation, dropout (the same masks: both draw them in the same order), clipping."""
    configs = [
        MLPConfig(
            hidden=((16, 8), (12, 8), (16, 6))[n % 3],
            activation=ACTIVATIONS[n % len(ACTIVATIONS)],
            optimizer=OPTIMIZERS[n % len(OPTIMIZERS)],
            lr=0.01,
            dropout=(0.0, 0.2, 0.5)[n % 3],
            grad_clip=(None, 0.5)[n % 2],
            label_smoothing=smoothing,
            batch_size=32,
        )
        for n in range(len(ACTIVATIONS) * 2)
    ]
    kw = dict(task="multiclass", n_classes=10, seeds=range(len(configs)), dtype=torch.float64)
    manual, auto = (PopulationTrainer(configs, *digits, **kw) for _ in range(2))  # type: ignore[arg-type]
    assert manual.mask is not None  # padded
    for step in range(6):
        idx = torch.arange(32 * step, 32 * (step + 1))
        xb, yb = manual.Xtr[idx], manual.ytr[idx]
        la, ga = manual._manual_step(xb, yb)
        lb, gb = auto._autograd_step(xb, yb)
        torch.testing.assert_close(la, lb, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(ga, gb, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(manual.flat, auto.flat, rtol=1e-10, atol=1e-12)


def test_dropout_masks_have_each_members_rate(digits) -> None:  # type: ignore[no-untyped-def]
    rates = [0.0, 0.1, 0.5, 0.9]
    configs = [MLPConfig(hidden=(50,), dropout=p, batch_size=32) for p in rates]
    pop = PopulationTrainer(configs, *digits, task="multiclass", n_classes=10, dtype=torch.float64)
    n = 200 * 50
    masks = torch.cat([pop._dropout_mask(torch.Size([len(rates), 200, 50]), 0) for _ in range(5)], 1)
    for row, m in enumerate(pop._ids):
        p, mask = rates[m], masks[row]
        assert set(mask.unique().tolist()) <= {0.0, 1 / (1 - p)}
        kept = float((mask > 0).double().mean())
        assert abs(kept - (1 - p)) < 4 * math.sqrt(p * (1 - p) / (5 * n)) + 1e-12, (p, kept)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_kernel_matches_its_numpy_definition(dtype: type) -> None:
    """The compiled mask kernel writes exactly the masks of the vectorised numpy version (the fallback without
    numba), call after call: padding, members without dropout, and calls whose units end inside a word."""
    pytest.importorskip("numba")
    from hyperselect.train import _dropout

    keys = np.array([_dropout.member_key(s) for s in (1, 2, 3)], dtype=np.uint64)
    rows_member = np.array([2, 0, 1])
    widths = np.array([5, 0, 7])  # member 0 has no dropout; row widths below the population's 7 are padded
    thresholds = np.array([round(0.3 * 65536), 0, round(0.5 * 65536)])
    keep = np.array([1 / 0.7, 1.0, 2.0], dtype=dtype)
    used_a, used_b = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    kernel = _dropout._make_kernel()
    assert kernel is not None
    for rows in (3, 8, 1, 5):
        a, b = np.empty((3, rows, 7), dtype=dtype), np.empty((3, rows, 7), dtype=dtype)
        kernel(a, rows_member, keys, used_a, widths, thresholds, keep)
        _dropout.fill_masks_numpy(b, rows_member, keys, used_b, widths, thresholds, keep)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(used_a, used_b)
        assert (a[1] == 1).all() and (a[0, :, 5:] == keep[0]).all()  # no dropout; padding kept
    # words used, by member: 0 has no dropout, 1 draws 7 units a row, 2 draws 5
    assert used_a.tolist() == [0, *(sum((r * w + 3) // 4 for r in (3, 8, 1, 5)) for w in (7, 5))]


def test_dropout_masks_without_numba_are_the_same(digits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without the compiled kernel (no numba) a population draws the very same masks, through numpy."""
    from hyperselect.train import _dropout

    configs = [
        MLPConfig(hidden=(12, 8), dropout=0.3, batch_size=32),
        MLPConfig(hidden=(6, 8), dropout=0.5, batch_size=32),
    ]
    masks = []
    for kernel in (True, False):
        if not kernel:
            monkeypatch.setattr(_dropout, "_kernel", None)
            monkeypatch.setattr(_dropout, "_kernel_tried", True)
        pop = PopulationTrainer(configs, *digits, task="multiclass", n_classes=10, seeds=[4, 5])
        masks.append(
            [pop._dropout_mask(torch.Size([2, 32, w]), layer) for layer, w in ((0, 12), (1, 8), (0, 12))]
        )
    for a, b in zip(*masks, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_members_dropout_masks_do_not_depend_on_its_population(digits) -> None:  # type: ignore[no-untyped-def]
    """The same member (config and seed) draws the same masks alone, among others, and padded to a wider
    population, so the planner's choice cannot change a search's result."""
    me = MLPConfig(hidden=(12, 8), dropout=0.3, batch_size=32)
    alone = PopulationTrainer([me], *digits, task="multiclass", n_classes=10, seeds=[7])
    others = [
        MLPConfig(hidden=(20, 16), dropout=0.5, batch_size=32),
        MLPConfig(hidden=(12, 8), batch_size=32),
    ]
    mixed = PopulationTrainer(
        [others[0], me, others[1]], *digits, task="multiclass", n_classes=10, seeds=[1, 7, 2]
    )
    for layer, width in enumerate(me.hidden):
        a = alone._dropout_mask(torch.Size([1, 32, width]), layer)[0]
        b = mixed._dropout_mask(torch.Size([3, 32, 20 if layer == 0 else 16]), layer)
        torch.testing.assert_close(b[1, :, :width], a, rtol=0, atol=0)
        assert bool((b[1, :, width:] > 0).all()) and bool((b[2] == 1).all())  # padding kept; no dropout
        assert not torch.equal(b[0, :, :width], a)


def test_compaction_early_stopping_and_pruning(digits) -> None:  # type: ignore[no-untyped-def]
    configs = [
        MLPConfig(hidden=(16,), lr=lr, optimizer=o, batch_size=32, max_epochs=me, patience=p)
        for lr, o, me, p in (
            (0.01, "adam", 6, None),
            (0.5, "sgd", 6, 1),
            (0.01, "rmsprop", 2, None),
            (0.02, "adam", 6, None),
            (0.05, "momentum", 6, None),
        )
    ]
    pop = PopulationTrainer(
        configs,
        *digits,
        task="multiclass",
        n_classes=10,
        seeds=range(5),
        data_seed=DATA_SEED,
        dtype=torch.float64,
    )
    pruned_at: list[int] = []

    def cb(member: int, epoch: int, score: float, loss: float) -> bool:
        if member == 3 and epoch == 1:
            pruned_at.append(epoch)
            return True
        return False

    pop.run_epochs(3, cb)
    assert pop.status(2) == "completed" and pop.epochs_done(2) == 2
    assert pop.status(3) == "pruned" and pop.epochs_done(3) == 2 and pruned_at == [1]
    pop.prune([4], "halving rung 1")
    assert pop.status(4) == "pruned" and pop.n_stacked == len(pop.active)
    pop.run_epochs(3)
    assert pop.n_stacked == len(pop.active)
    # the survivors are untouched by compaction: still the reference trajectory
    for i in (0, 1):
        ref = _reference(configs[i], i, digits, pop.epochs_done(i))
        _assert_same_trajectory(ref, pop, i)
        assert ref.status == pop.status(i) or (ref.status == "running" and pop.status(i) == "completed")
    # a removed member still gives its module and history
    assert pop.result(3).status == "pruned" and len(pop.result(3).history) == 2


@pytest.mark.parametrize("kind", ["population", "single"])
def test_should_stop_interrupts_inside_an_epoch(digits, kind: str) -> None:  # type: ignore[no-untyped-def]
    """``should_stop`` is asked before every step: True in the middle of the second epoch stops every running
    member at once, that epoch unrecorded, the first epoch exactly as an uninterrupted run has it."""
    configs = [MLPConfig(hidden=(16,), lr=0.01 * (i + 1), batch_size=16, max_epochs=10) for i in range(3)]
    steps_per_epoch = math.ceil(len(digits[0]) / 16)  # 15
    calls = [0]

    def should_stop() -> bool:
        calls[0] += 1
        return calls[0] > steps_per_epoch + 4  # the 5th step of the second epoch

    kw = dict(task="multiclass", n_classes=10, data_seed=DATA_SEED, dtype=torch.float64)
    if kind == "population":
        pop = PopulationTrainer(configs, *digits, seeds=range(3), **kw)
        pop.run_epochs(5, should_stop=should_stop)
        results = [pop.result(i) for i in range(3)]
        assert pop.active == [] and pop.n_stacked == 0
    else:
        run = NetworkRun(configs[0], *digits, random_state=0, **kw)
        run.run_epochs(5, should_stop=should_stop)
        results = [run.result()]
        assert not run.active and run.epoch == 1
    assert calls[0] == steps_per_epoch + 5
    for i, res in enumerate(results):
        assert res.status == "pruned" and res.stop_reason == "interrupted during epoch 1"
        ref = _reference(configs[i], i, digits, 1)
        assert len(res.history) == 1
        np.testing.assert_allclose(res.history.train_loss, ref.history.train_loss, rtol=RTOL)
        np.testing.assert_allclose(res.history.valid_loss, ref.history.valid_loss, rtol=RTOL)


def test_divergence_is_contained(digits) -> None:  # type: ignore[no-untyped-def]
    Xtr, ytr, Xva, yva = digits
    data = (Xtr, ytr / 9.0, Xva, yva / 9.0)
    configs = [
        MLPConfig(
            hidden=(16,),
            activation="leaky_relu",
            optimizer="sgd",
            lr=lr,
            batch_size=32,
            max_epochs=3,
            patience=None,
        )
        for lr in (0.05, 1e3, 0.1)
    ]
    pop = PopulationTrainer(
        configs, *data, task="regression", seeds=range(3), data_seed=DATA_SEED, dtype=torch.float64
    )
    pop.run_epochs(3)
    assert pop.status(1) == "diverged" and "diverged" in pop.reason(1)
    assert pop.n_stacked == 0 and pop.epochs_done(1) < 3
    result = pop.result(1)
    assert result.status == "diverged" and any(f.kind == "exploding_gradients" for f in result.findings)
    for i in (0, 2):
        ref = NetworkRun(
            configs[i], *data, task="regression", random_state=i, data_seed=DATA_SEED, dtype=torch.float64
        )
        ref.run_epochs(3)
        _assert_same_trajectory(ref, pop, i)
        assert math.isfinite(pop.result(i).best_valid_loss)


def test_planner_choices(digits) -> None:  # type: ignore[no-untyped-def]
    narrow = [MLPConfig(hidden=(8,), lr=0.01 * (1 + j), batch_size=32) for j in range(24)]
    cnn = CNNConfig(channels=(4,), input_shape=(1, 8, 8), hidden=(8,))
    other_batch = MLPConfig(hidden=(8,), batch_size=16)
    configs = [*narrow, cnn, other_batch]
    planner = Planner(configs, *digits, task="multiclass", n_classes=10)
    kinds = {tuple(u.members): u.kind for u in planner.plan("population").units}
    assert kinds[tuple(range(24))] == "population"
    assert kinds[(24,)] == kinds[(25,)] == "sequential"  # a CNN, and a group of one
    assert all(u.kind == "sequential" for u in planner.plan("sequential").units)
    # narrow networks are overhead-bound: batching 24 of them is timed faster than 24 single runs
    auto = planner.plan("auto")
    assert any(u.kind == "population" and len(u.members) == 24 for u in auto.units), auto.notes
    # memory guard: a budget for about 10 members splits 24 into 3 populations
    per = Planner(narrow, *digits, task="multiclass", n_classes=10).population_bytes(list(range(10)))
    guarded = Planner(narrow, *digits, task="multiclass", n_classes=10, memory_budget=per).plan("population")
    assert [len(u.members) for u in guarded.units] == [8, 8, 8]
    assert split_for_memory(list(range(5)), lambda m: len(m), 2) == [[0, 1], [2, 3], [4]]


def test_planner_floor_skips_sequential_timings_only_when_it_is_a_bound(digits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A population timed below the cheapest single network's step times its members' count is chosen without
    timing them one by one; a population timed above that bound still gets the members timed."""
    from hyperselect.train import planner as planner_mod

    narrow = [MLPConfig(hidden=(8,), lr=0.01 * (1 + j), batch_size=32) for j in range(12)]
    planner = Planner(narrow, *digits, task="multiclass", n_classes=10)
    timed: list[int] = []
    real = Planner.time_sequential
    monkeypatch.setattr(Planner, "time_sequential", lambda self, i: timed.append(i) or real(self, i))
    monkeypatch.setattr(planner_mod, "_TIMINGS", {})
    monkeypatch.setattr(Planner, "time_floor", lambda self, m: 1.0)  # a single step "costs" a second
    monkeypatch.setattr(Planner, "time_population", lambda self, m: 0.5 * len(m))
    plan = planner.plan("auto")
    assert [u.kind for u in plan.units] == ["population"] and timed == []
    assert any("sequential >= 1.2e+04 ms" in n for n in plan.notes), plan.notes
    monkeypatch.setattr(Planner, "time_floor", lambda self, m: 1e-9)  # now no bound: the members are timed
    plan = planner.plan("auto")
    assert timed and len(set(timed)) <= planner_mod.SEQUENTIAL_SAMPLE
    assert {u.kind for u in plan.units} == {"sequential"}  # 0.5 s a member vs real sub-millisecond steps


def test_planner_pads_without_timing_buckets_when_the_floor_bounds_them(digits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every bucket costs at least the cheapest single network's step, so a padded population timed below that
    many floors is chosen at once; above the bound the buckets are timed as before."""
    from hyperselect.train import planner as planner_mod

    mixed = [MLPConfig(hidden=(w,), batch_size=32) for w in (8, 12, 16, 20, 24, 28)]
    planner = Planner(mixed, *digits, task="multiclass", n_classes=10)
    pops: list[int] = []
    monkeypatch.setattr(planner_mod, "_TIMINGS", {})
    monkeypatch.setattr(Planner, "time_population", lambda self, m: pops.append(len(m)) or 0.1 * len(m))
    monkeypatch.setattr(Planner, "time_floor", lambda self, m: 1.0)
    plan = planner.plan("auto")
    assert [(u.kind, u.padded) for u in plan.units] == [("population", True)] and pops == [6], plan.notes
    assert any("6 buckets >= 6e+03 ms/step" in n for n in plan.notes), plan.notes
    pops.clear()
    monkeypatch.setattr(Planner, "time_floor", lambda self, m: 0.01)  # no bound: each bucket is weighed
    monkeypatch.setattr(Planner, "time_sequential", lambda self, i: 0.01)
    plan = planner.plan("auto")
    assert pops == [6]  # the padded population once; single-member buckets are timed as single networks
    assert all(u.kind == "sequential" for u in plan.units), plan.notes  # 6 x 0.01 s beats 0.6 s padded


def test_planner_pads_without_timing_single_member_buckets_when_it_beats_sequential(
    digits, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Members of (mostly) distinct widths: bucketing them is about training them one by one, so a padded
    population timed faster than a sample of them trained alone is chosen without timing each bucket; slower,
    the buckets are weighed as before."""
    from hyperselect.train import planner as planner_mod

    mixed = [MLPConfig(hidden=(w,), batch_size=32) for w in (8, 12, 16, 20, 24, 28, 28)]
    planner = Planner(mixed, *digits, task="multiclass", n_classes=10)
    pops: list[int] = []
    seqs: list[int] = []
    monkeypatch.setattr(planner_mod, "_TIMINGS", {})
    monkeypatch.setattr(Planner, "time_population", lambda self, m: pops.append(len(m)) or 0.05 * len(m))
    monkeypatch.setattr(Planner, "time_floor", lambda self, m: 0.01)  # no floor bound (7 x 0.01 < 0.35)
    monkeypatch.setattr(Planner, "time_sequential", lambda self, i: seqs.append(i) or 0.1)
    plan = planner.plan("auto")
    assert [(u.kind, u.padded) for u in plan.units] == [("population", True)], plan.notes
    assert pops == [7] and 0 < len(seqs) <= planner_mod.SEQUENTIAL_SAMPLE  # no bucket was timed
    assert any("buckets not timed" in n for n in plan.notes), plan.notes
    pops.clear()
    # alone is faster: weigh each bucket
    monkeypatch.setattr(Planner, "time_sequential", lambda self, i: 0.04)
    plan = planner.plan("auto")
    assert pops == [7, 2]  # the padded population, then the one bucket of two members (width 28)
    assert all(u.kind == "sequential" for u in plan.units), plan.notes


def test_time_floor_is_the_cheapest_network_at_the_narrowest_widths(digits, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The floor is a ReLU/SGD network as narrow as the narrowest member in each layer (on the width grid, so
    later batches reuse it), the cheaper of its two trainers; members of other widths in the same cell share it."""
    from hyperselect.train import planner as planner_mod

    cfgs = [
        MLPConfig(hidden=(45, 40), batch_size=32, activation="gelu", optimizer="adam", dropout=0.2),
        MLPConfig(hidden=(64, 20), batch_size=32, activation="tanh", optimizer="rmsprop"),
        MLPConfig(hidden=(39, 64), batch_size=32),
    ]
    planner = Planner(cfgs, *digits, task="multiclass", n_classes=10)
    timed: list[tuple[str, MLPConfig]] = []
    monkeypatch.setattr(planner_mod, "_TIMINGS", {})
    monkeypatch.setattr(Planner, "_time_single", lambda self, c, seed: timed.append(("single", c)) or 2.0)
    monkeypatch.setattr(
        Planner, "_time_population_of", lambda self, cs, seeds: timed.append(("pop", cs[0])) or 1.0
    )
    assert planner.time_floor([0, 1, 2]) == 1.0
    assert [k for k, _ in timed] == ["single", "pop"]
    floor = timed[0][1]
    assert floor.hidden == (38, 19)  # min widths 39 and 20, rounded down to the grid
    assert (floor.activation, floor.optimizer, floor.dropout) == ("relu", "sgd", 0.0)
    planner.time_floor([0])  # (45, 40) alone: its own cell, timed both ways
    assert len(timed) == 4 and timed[2][1].hidden == (45, 38)
    n = len(timed)
    assert planner.time_floor([2, 1]) == 1.0 and len(timed) == n  # the same narrowest cell: no new timing


def test_width_cells_are_quarter_octaves() -> None:
    from hyperselect.train.planner import _width_cell, _width_floor

    cells = [_width_cell(w) for w in range(1, 1025)]
    assert cells[:8] == list(range(1, 9))
    floors = [_width_floor(w) for w in range(1, 1025)]
    assert all(f <= w and f in cells for w, f in zip(range(1, 1025), floors, strict=True))
    assert floors == sorted(floors) and floors[37:40] == [38, 38, 38] and floors[44] == 45
    assert all(w <= c < 1.2 * w + 1 for w, c in zip(range(1, 1025), cells, strict=True))
    assert len(set(cells)) < 8 + 4 * 7 + 1  # 8 below, then 4 per octave up to 1024


def test_cohort_modes_agree(digits) -> None:  # type: ignore[no-untyped-def]
    configs = [
        MLPConfig(hidden=(16,), optimizer=o, lr=_lr(o), batch_size=32, max_epochs=4, patience=2)
        for o in ("adam", "sgd", "rmsprop")
    ]
    seen: dict[str, list[tuple[int, int]]] = {}
    cohorts = {}
    for mode in ("sequential", "population"):
        calls: list[tuple[int, int]] = []
        c = Cohort(
            configs,
            *digits,
            task="multiclass",
            n_classes=10,
            seeds=[7, 8, 9],
            data_seed=1,
            dtype=torch.float64,
            mode=mode,
        )
        c.run_epochs(2, lambda i, e, s, loss, calls=calls: (calls.append((i, e)), i == 1)[1])
        c.prune([2], "rung")
        c.run_epochs(2)
        seen[mode], cohorts[mode] = sorted(calls), c
    assert cohorts["population"].trained_by(0) == "population"
    assert seen["sequential"] == seen["population"]
    seq, pop = cohorts["sequential"], cohorts["population"]
    for i in range(3):
        assert seq.status(i) == pop.status(i) and seq.epochs_done(i) == pop.epochs_done(i)
        np.testing.assert_allclose(pop.valid_scores(i), seq.valid_scores(i), rtol=RTOL)
        np.testing.assert_allclose(
            pop.result(i).history.valid_loss, seq.result(i).history.valid_loss, rtol=RTOL
        )
        for c in (seq, pop):  # the search's summary: the result's figures without building a module
            res, summ = c.result(i), c.summary(i)
            for name in ("status", "stop_reason", "best_epoch", "n_parameters", "seconds", "config"):
                assert getattr(summ, name) == getattr(res, name), name
            np.testing.assert_equal(
                (summ.best_valid_loss, summ.best_valid_score), (res.best_valid_loss, res.best_valid_score)
            )
    assert pop.active == seq.active == []  # member 0 completed, 1 pruned by the callback, 2 by prune()
    assert [pop.status(i) for i in range(3)] == ["completed", "pruned", "pruned"]
