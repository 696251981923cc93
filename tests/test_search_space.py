"""Search spaces and the advisor's priors: typed dimensions, edits from Python and files, define-by-run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from hyperselect.errors import ConfigError
from hyperselect.nn.config import MLPConfig
from hyperselect.search import Categorical, Float, Int, SearchSpace, advise, make_rungs
from hyperselect.search.priors import data_shape

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sample(space: SearchSpace, n: int = 30, seed: int = 0) -> list[tuple[dict, MLPConfig]]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        cfg = space.suggest(trial)
        out.append((dict(trial.params), cfg))
        study.tell(trial, 0.0)
    return out


# -- the advisor's rules -------------------------------------------------------------------------------------


def test_advise_sizes_the_space_to_the_data() -> None:
    small = advise(n_rows=300, n_features=10, task="binary")
    large = advise(n_rows=100_000, n_features=200, task="multiclass", n_classes=10)
    assert (small.dims["n_layers"].low, small.dims["n_layers"].high) == (1, 2)  # type: ignore[attr-defined]
    assert (large.dims["n_layers"].low, large.dims["n_layers"].high) == (1, 4)  # type: ignore[attr-defined]
    assert small.dims["width"].high < large.dims["width"].high  # type: ignore[attr-defined]
    # batch size no larger than a tenth of the training rows
    assert small.dims["batch_size"].high <= 30  # type: ignore[attr-defined]
    assert large.dims["batch_size"].high == 512  # type: ignore[attr-defined]
    # few rows per parameter -> more dropout
    few = advise(n_rows=300, n_features=50, task="binary")
    many = advise(n_rows=1_000_000, n_features=20, task="binary")
    assert few.dims["dropout"].high > many.dims["dropout"].high  # type: ignore[attr-defined]
    # ... and the startup trials start from more of it: the prior's centre follows the risk too
    assert few.dims["dropout"].prior > many.dims["dropout"].prior == 0.0  # type: ignore[attr-defined]
    mid = advise(n_rows=3_500, n_features=20, task="regression")  # ~2 rows per parameter: range only
    assert "moderate overfitting risk" in mid.reasons["dropout"] and mid.dims["dropout"].prior == 0.0  # type: ignore[attr-defined]
    draws = [few.dims["dropout"].sample_prior(np.random.default_rng(i)) for i in range(200)]
    assert 0.15 < float(np.median(draws)) < 0.35
    assert "high overfitting risk" in few.reasons["dropout"]
    assert large.base.max_epochs < small.base.max_epochs


def test_advise_has_a_reason_for_every_choice() -> None:
    space = advise(n_rows=2000, n_features=30, task="regression")
    for name in space.dims:
        assert len(space.reasons[name]) > 20, name
    for name in ("max_epochs", "patience", "loss"):
        assert name in space.reasons
    assert "mean squared error" in space.reasons["loss"]
    assert space.dims["lr"] == Float(1e-4, 3e-2, log=True, prior=1e-3)
    assert set(space.dims["activation"].choices) <= {"relu", "leaky_relu", "gelu", "elu", "selu"}  # type: ignore[attr-defined]
    assert space.dims["optimizer"].choices[0] == "adam"  # type: ignore[attr-defined]
    assert {"momentum", "rmsprop"} <= set(space.dims["optimizer"].choices)  # type: ignore[attr-defined]
    assert "epochs" not in space.dims and "max_epochs" not in space.dims
    text = space.describe()
    assert "why:" in text and "lr" in text.splitlines()[1]


def test_advise_reads_tabular_data(tiny_classification_csv: Path) -> None:
    from hyperselect.data import prepare_tabular

    data = prepare_tabular(tiny_classification_csv, "target")
    shape = data_shape(data)
    assert shape.n_rows == len(data.y_train) and shape.n_classes == 3
    space = advise(data)
    assert "softmax" in space.reasons["loss"]


def test_advise_needs_sizes() -> None:
    with pytest.raises(ConfigError, match="n_rows"):
        advise(n_features=3, task="binary")
    with pytest.raises(ConfigError, match="at least one row"):
        advise(n_rows=0, n_features=3, task="binary")


# -- define-by-run -------------------------------------------------------------------------------------------


def test_suggest_builds_valid_configs_and_momentum_is_conditional() -> None:
    space = advise(n_rows=5000, n_features=20, task="multiclass", n_classes=4)
    samples = _sample(space, 40)
    for params, cfg in samples:
        assert isinstance(cfg, MLPConfig)
        assert 1 <= cfg.depth <= 3
        assert cfg.lr == params["lr"]
        assert ("momentum" in params) == (params["optimizer"] in ("momentum", "nesterov"))
        if params["shape"] == "funnel":
            assert all(b <= a for a, b in zip(cfg.hidden, cfg.hidden[1:], strict=False))
        else:
            assert len(set(cfg.hidden)) == 1
        assert cfg.max_epochs == space.base.max_epochs
    assert len({p["optimizer"] for p, _ in samples}) == 3


def test_default_params_give_the_base_config() -> None:
    space = advise(n_rows=5000, n_features=20, task="binary")
    cfg = space.build(space.default_params())
    assert cfg.optimizer == "adam" and cfg.lr == pytest.approx(1e-3) and cfg.activation == "relu"
    assert cfg.hidden == space.base.hidden


# -- editing from Python -------------------------------------------------------------------------------------


def test_fix_narrow_extend() -> None:
    space = advise(n_rows=5000, n_features=20, task="binary")
    edited = (
        space.fix(activation="gelu", n_layers=2)
        .narrow("lr", low=1e-3, high=1e-2)
        .narrow("optimizer", choices=["adam"])
        .extend("weight_decay", {"type": "float", "low": 1e-6, "high": 1e-2, "log": True})
    )
    assert "activation" not in edited.dims and edited.fixed["activation"] == "gelu"
    assert edited.dims["lr"] == Float(1e-3, 1e-2, log=True, prior=1e-3)  # the prior is kept, clipped
    assert edited.dims["weight_decay"] == Float(1e-6, 1e-2, log=True)
    for params, cfg in _sample(edited, 15):
        assert cfg.activation == "gelu" and cfg.depth == 2
        assert 1e-3 <= cfg.lr <= 1e-2 and cfg.optimizer == "adam"
        assert "momentum" not in params and 1e-6 <= cfg.weight_decay <= 1e-2
    # the original is unchanged (spaces are values)
    assert "activation" in space.dims
    unfixed = edited.extend("activation", Categorical(("relu", "tanh")))
    assert "activation" not in unfixed.fixed and unfixed.dims["activation"].choices == ("relu", "tanh")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.fix(learning_rate=0.1), "Unknown search dimension 'learning_rate'"),
        (lambda s: s.narrow("lr", low=1e-6), "outside its range"),
        (lambda s: s.narrow("optimizer", choices=["lbfgs"]), "not among its choices"),
        (lambda s: s.narrow("weight_decay", low=0.0), "not searched"),
        (lambda s: s.narrow("lr", choices=[1e-3]), "numeric"),
        (lambda s: s.extend("lr", {"type": "float", "low": 0.0, "high": 1.0, "log": True}), "positive low"),
        (lambda s: s.extend("lr", {"type": "float", "low": 1.0, "high": 0.1}), "must not exceed"),
        (lambda s: s.extend("lr", {"type": "weird"}), "Unknown dimension type"),
        (lambda s: s.fix(dropout=1.5), "dropout"),
        (lambda s: s.with_base(max_epoch=3), "Unknown hyperparameter"),
    ],
)
def test_bad_edits_raise_config_error(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    space = advise(n_rows=5000, n_features=20, task="binary")
    with pytest.raises(ConfigError, match=message):
        edit(space)


def test_unknown_name_suggests_the_close_one() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'dropout'"):
        advise(n_rows=100, n_features=3, task="binary").fix(drop_out=0.1)


# -- editing from files --------------------------------------------------------------------------------------

TOML = """
[fix]
activation = "relu"
[narrow.lr]
low = 0.001
high = 0.01
[narrow.optimizer]
choices = ["adam", "rmsprop"]
[extend.weight_decay]
type = "float"
low = 1e-6
high = 1e-3
log = true
[base]
max_epochs = 12
"""

YAML = """
fix:
  activation: relu
narrow:
  lr: {low: 0.001, high: 0.01}
  optimizer: {choices: [adam, rmsprop]}
extend:
  weight_decay: {type: float, low: 1.0e-6, high: 1.0e-3, log: true}
base:
  max_epochs: 12
"""


def test_toml_and_yaml_files_give_the_same_space(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(TOML)
    (tmp_path / "s.yaml").write_text(YAML)
    space = advise(n_rows=5000, n_features=20, task="binary")
    a = space.apply_file(tmp_path / "s.toml")
    b = space.apply_file(tmp_path / "s.yaml")
    assert a.to_dict()["dims"] == b.to_dict()["dims"]
    assert a.fixed == b.fixed == {"activation": "relu"}
    assert a.base.max_epochs == b.base.max_epochs == 12
    assert a.dims["optimizer"] == Categorical(("adam", "rmsprop"), weights=(0.6, 0.2))
    assert a.dims["weight_decay"] == Float(1e-6, 1e-3, log=True)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.toml", "[fix\nx=1", "cannot be parsed as TOML"),
        ("bad.yaml", "fix: [1, 2", "cannot be parsed as YAML"),
        ("list.yaml", "- 1\n- 2\n", "must hold a table"),
        ("sections.toml", "[fixed]\nlr = 0.1\n", "unknown section"),
        ("keys.toml", "[narrow.lr]\nlo = 0.1\n", "unknown key"),
        ("space.ini", "x=1", "unknown search-space file type"),
    ],
)
def test_bad_space_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        advise(n_rows=100, n_features=3, task="binary").apply_file(path)


def test_missing_space_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        advise(n_rows=100, n_features=3, task="binary").apply_file(tmp_path / "nope.toml")


def test_space_round_trips_through_json() -> None:
    space = advise(n_rows=800, n_features=12, task="multiclass", n_classes=3).fix(shape="funnel")
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space
    assert [c for _, c in _sample(again, 5)] == [c for _, c in _sample(space, 5)]


def test_make_rungs() -> None:
    assert make_rungs(27) == [3, 9, 27]
    assert make_rungs(100) == [4, 12, 34, 100]
    assert make_rungs(2) == [2]
    assert make_rungs(9, eta=3, min_epochs=1) == [1, 3, 9]
    with pytest.raises(ValueError, match="eta"):
        make_rungs(10, eta=1)


# -- priors: where the startup trials are drawn ---------------------------------------------------------------


def _startup(sampler: optuna.samplers.BaseSampler, space: SearchSpace, n: int) -> list[dict]:
    study = optuna.create_study(sampler=sampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        space.suggest(trial)
        out.append(dict(trial.params))
        study.tell(trial, 0.0)
    return out


def test_prior_sampler_proposes_adam_and_relu_more_often_than_uniform() -> None:
    from hyperselect.search.study import make_sampler

    space = advise(n_rows=5000, n_features=20, task="binary")
    n = 60
    prior = _startup(make_sampler("tpe", 0, space=space, n_prior=n), space, n)
    uniform = _startup(optuna.samplers.RandomSampler(seed=0), space, n)

    def share(rows: list[dict], key: str, value: str) -> float:
        return sum(r[key] == value for r in rows) / len(rows)

    for key, value in (("optimizer", "adam"), ("activation", "relu"), ("lr_schedule", "cosine")):
        assert share(prior, key, value) > share(uniform, key, value) + 0.1, key
    # the learning rate concentrates around Adam's 1e-3 on the log scale; the full range stays reachable
    log_lr = np.log10([r["lr"] for r in prior])
    assert abs(np.median(log_lr) + 3) < 0.4 and np.std(log_lr) < np.std(np.log10([r["lr"] for r in uniform]))
    assert np.median([r["dropout"] for r in prior]) < np.median([r["dropout"] for r in uniform])


def test_prior_sampler_hands_over_to_the_model_after_n_prior() -> None:
    from hyperselect.search.sampler import PriorSampler
    from hyperselect.search.study import make_sampler

    space = advise(n_rows=5000, n_features=20, task="binary")
    sampler = make_sampler("tpe", 0, space=space, n_prior=4)
    assert isinstance(sampler, PriorSampler) and isinstance(sampler.base, optuna.samplers.TPESampler)
    study = optuna.create_study(sampler=sampler)
    phases = []
    for i in range(6):
        trial = study.ask()
        phases.append(sampler.in_prior_phase(study, study._storage.get_trial(trial._trial_id)))
        space.suggest(trial)
        study.tell(trial, float(i))
    assert phases == [True] * 4 + [False] * 2
    # random search and a space without priors stay uniform
    assert isinstance(make_sampler("random", 0, space=space), optuna.samplers.RandomSampler)
    bare = SearchSpace({"lr": Float(1e-4, 1e-1, log=True)})
    assert isinstance(make_sampler("tpe", 0, space=bare), optuna.samplers.TPESampler)


def test_prior_phase_answers_after_caching_match_a_fresh_count() -> None:
    """The sampler remembers the first trial number past the prior phase; an earlier-numbered trial asked later
    (enqueued before, popped after) is still counted, and two studies do not share the memory."""
    from hyperselect.search.study import make_sampler

    space = advise(n_rows=5000, n_features=20, task="binary")
    sampler = make_sampler("tpe", 0, space=space, n_prior=3)
    study = optuna.create_study(sampler=sampler)
    trials = [study.ask() for _ in range(3)]
    study.enqueue_trial({"lr": 1e-3})  # trial 3: WAITING, so not yet counted before trial 4
    late = study.ask()  # pops the enqueued trial 3
    fresh = [study.ask() for _ in range(2)]  # trials 4 and 5
    assert late.number == 3 and [t.number for t in fresh] == [4, 5]

    def phase(s: optuna.samplers.BaseSampler, st: optuna.Study, number: int) -> bool:
        return s.in_prior_phase(st, st._storage.get_trial(st.trials[number]._trial_id))  # type: ignore[attr-defined]

    expected = [True, True, True, False, False, False]  # counted fresh: numbers 0-2 started before 3
    # later numbers first: the cache is filled before the earlier ones are asked
    order = [5, 4, 0, 3, 1, 2, 5]
    for n in order:
        uncached = make_sampler("tpe", 0, space=space, n_prior=3)
        assert phase(sampler, study, n) == phase(uncached, study, n) == expected[n], n
    # another study whose trial 3 has no started trial before it (0-2 wait in the queue): in its prior phase,
    # whatever the first study's trial 3 was
    other = optuna.create_study(sampler=sampler)
    for _ in range(3):
        other.enqueue_trial({"lr": 1e-3})
    other._storage.create_new_trial(other._study_id)
    assert phase(sampler, other, 3) is True
    for t in [*trials, late, *fresh]:
        study.tell(t, 0.0)


def test_prior_sampler_interleaves_uniform_draws_after_the_prior_phase() -> None:
    from hyperselect.search.study import make_sampler

    space = advise(n_rows=5000, n_features=20, task="binary")
    sampler = make_sampler("tpe", 0, space=space, n_prior=4, random_every=3)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    uniform = []
    for _ in range(45):
        trial = study.ask()
        uniform.append(sampler.is_uniform_trial(study, study._storage.get_trial(trial._trial_id)))
        space.suggest(trial)
        # the best learning rate is 10**-3.8: the model concentrates there, the uniform draws do not
        study.tell(trial, -abs(float(np.log10(trial.params["lr"])) + 3.8))
    # never in the prior phase; after it, every third trial by number
    assert uniform == [i >= 4 and i % 3 == 2 for i in range(45)]
    miss = np.abs(np.log10([t.params["lr"] for t in study.trials]) + 3.8)
    model = [m for i, m in enumerate(miss) if i >= 4 and not uniform[i]]
    drawn = [m for i, m in enumerate(miss) if uniform[i]]
    assert np.median(drawn) > 2 * np.median(model)
    with pytest.raises(ValueError, match="random_every"):
        make_sampler("tpe", 0, space=space, random_every=1)
    # off by default: what the FCNet benchmark measures is unchanged
    assert make_sampler("tpe", 0, space=space).random_every == 0  # type: ignore[attr-defined]


def test_priors_are_validated_serialised_and_kept_by_narrow() -> None:
    with pytest.raises(ConfigError, match="prior must lie in its range"):
        Float(1e-4, 1e-2, log=True, prior=0.5)
    with pytest.raises(ConfigError, match="one non-negative number per choice"):
        Categorical(("a", "b"), weights=(1.0,))
    dim = Int(8, 512, log=True, prior=64)
    rng = np.random.default_rng(0)
    draws = [dim.sample_prior(rng) for _ in range(200)]
    assert all(8 <= d <= 512 for d in draws) and 32 <= np.median(draws) <= 128
    space = advise(n_rows=5000, n_features=20, task="binary")
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again.dims == space.dims
    assert "prior" not in Float(0.0, 1.0).to_dict()  # spaces without priors serialise as before
    assert space.narrow("lr", low=1e-2).dims["lr"].prior == 1e-2  # type: ignore[attr-defined]


# -- the convolutional family --------------------------------------------------------------------------------


def test_advise_offers_cnn_when_rows_are_signals() -> None:
    from hyperselect.nn.config import CNNConfig

    space = advise(n_rows=3000, n_features=40, task="multiclass", n_classes=10, input_shape=(1, 40))
    assert space.dims["arch"].choices == ("mlp", "cnn")  # type: ignore[attr-defined]
    assert "convolutions share weights" in space.reasons["arch"]
    assert space.fixed["input_shape"] == (1, 40)
    assert space.build(space.default_params()).arch == "mlp"  # the first trial is the MLP baseline
    samples = _sample(space, 30)
    cnns = [(p, c) for p, c in samples if p["arch"] == "cnn"]
    mlps = [(p, c) for p, c in samples if p["arch"] == "mlp"]
    assert cnns and mlps
    for p, c in cnns:
        assert isinstance(c, CNNConfig) and c.input_shape == (1, 40) and c.kernel_size == p["kernel_size"]
        assert c.channels[0] == p["conv_channels"] and len(c.channels) == p["n_conv"]
    for p, c in mlps:  # conditional: an MLP trial suggests no conv parameter
        assert type(c) is MLPConfig and not {"n_conv", "kernel_size", "pool"} & set(p)
    only_cnn = advise(
        n_rows=300, n_features=64, task="multiclass", n_classes=10, input_shape=(1, 8, 8), arch="cnn"
    )
    assert "arch" not in only_cnn.dims and isinstance(only_cnn.build(only_cnn.default_params()), CNNConfig)
    assert only_cnn.dims["kernel_size"].choices == (3, 5)  # type: ignore[attr-defined]
    no_cnn = advise(n_rows=3000, n_features=40, task="binary", input_shape=(1, 40), arch="mlp")
    assert "arch" not in no_cnn.dims and "kernel_size" not in no_cnn.dims
    assert "arch" not in advise(n_rows=3000, n_features=40, task="binary").dims  # no shape: no CNN
    with pytest.raises(ConfigError, match="input_shape"):
        advise(n_rows=300, n_features=40, task="binary", arch="cnn")
    with pytest.raises(ConfigError, match="40 values"):
        advise(n_rows=300, n_features=40, task="binary", input_shape=(1, 8, 8))


def test_the_first_batch_is_drawn_from_the_priors_whatever_its_size() -> None:
    """A batch is asked before any trial finishes: past the prior draws the model would sample uniformly."""
    from hyperselect.data import prepare_arrays
    from hyperselect.search.sampler import PriorSampler
    from hyperselect.search.study import create_study, prior_trials

    assert prior_trials(30) == 10 and prior_trials(300) == 15 and prior_trials(6) == 5
    assert prior_trials(300, 9) == 15 and prior_trials(300, 32) == 32 and prior_trials(20, 32) == 20
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    data = prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0, name="prior-batch")
    for batch, expected in ((None, 10), (24, 24)):
        study, settings = create_study(data, n_trials=30, batch_size=batch)
        assert isinstance(study.sampler, PriorSampler)
        assert study.sampler.n_prior == expected == max(10, settings.batch_size)


def test_default_batch_size_doubles_only_for_budgets_of_three_double_batches() -> None:
    from hyperselect.search import default_batch_size
    from hyperselect.search.study import create_study

    assert [default_batch_size(n) for n in (1, 5, 9, 30, 53, 54, 10_000)] == [1, 5, 9, 9, 9, 18, 18]
    assert default_batch_size(100, eta=2) == 8 and default_batch_size(200, eta=4) == 32
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    from hyperselect.data import prepare_arrays

    data = prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0, name="batch-default")
    assert create_study(data, n_trials=30)[1].batch_size == 9
    _, settings = create_study(data, n_trials=60)
    assert settings.batch_size == settings.group_size == 18
    assert create_study(data, n_trials=60, batch_size=5)[1].batch_size == 5


def test_a_fresh_study_with_the_default_batch_starts_with_a_smaller_first_batch() -> None:
    """Budgets with batches of 2 eta^2 train the first 2 eta configurations first (the first results come
    sooner) and the rest of the first group as the second batch: the same prior draws sharing one structure,
    only trained in two parts.  A batch size given by the user is every batch's."""
    from hyperselect.data import prepare_arrays
    from hyperselect.search import tune
    from hyperselect.search.study import create_study, default_first_batch

    assert [default_first_batch(k) for k in (1, 9, 17, 18, 30)] == [1, 9, 17, 6, 6]
    assert default_first_batch(32, eta=4) == 8 and default_first_batch(8, eta=2) == 4
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    data = prepare_arrays(X, (X[:, 0] > 0).astype(int), task="binary", random_state=0, name="first-batch")
    study, settings = create_study(data, n_trials=60)
    assert (settings.batch_size, settings.first_batch, study.sampler.n_prior) == (18, 6, 18)
    # kept with the study, so a worker joining it (or a resumed run) follows the same plan
    assert study.user_attrs["hyperselect"]["first_batch"] == 6
    assert create_study(data, n_trials=30)[1].first_batch == 9  # a batch of eta^2: no smaller first batch
    assert create_study(data, n_trials=60, batch_size=18)[1].first_batch is None
    space = advise(data, max_epochs=3).extend("batch_size", Int(16, 64, log=True))
    res = tune(data, n_trials=60, space=space, refit=False, min_epochs=1, random_state=0)
    trials = sorted(res.study.get_trials(), key=lambda t: t.number)
    assert len(trials) == 60
    # the first six trained together and finished before the next batch was asked ...
    first_done = max(t.datetime_complete for t in trials[:6])
    assert all(t.datetime_start >= first_done for t in trials[6:])
    # ... which completed the first group of 18: the leader's batch size and depth, followers of trial 0
    for t in trials[1:18]:
        assert t.user_attrs.get("group_of") == 0
        assert (t.params["batch_size"], t.params["n_layers"]) == (
            trials[0].params["batch_size"],
            trials[0].params["n_layers"],
        )
    assert "group_of" not in trials[18].user_attrs  # the third batch starts a group of its own
    second_done = max(t.datetime_complete for t in trials[6:18])
    assert all(t.datetime_start >= second_done for t in trials[18:])
    # a batch size given by the user: the first batch is a full one
    full = tune(data, n_trials=36, batch_size=18, space=space, refit=False, min_epochs=1, random_state=0)
    starts = sorted(full.study.get_trials(), key=lambda t: t.number)
    assert max(t.datetime_start for t in starts[:18]) < min(t.datetime_complete for t in starts[:18])


def test_the_width_and_batch_reasons_name_the_rule_that_set_the_numbers() -> None:
    # 40 rows x 60 features said "about twice the 60 input features" for a range of 16-32, and "at most a tenth
    # of the 28 training rows" for a batch of 8
    import numpy as np

    from hyperselect.data import prepare_arrays

    rng = np.random.default_rng(0)
    wide = advise(prepare_arrays(rng.normal(size=(40, 60)), np.arange(40) % 2, name="wide"))
    assert "the floor of 32" in wide.reasons["width"] and "twice the 60" not in wide.reasons["width"]
    assert wide.reasons["batch_size"].startswith("fixed to 8, the smallest batch size")
    assert "batch_size" not in wide.dims and wide.fixed["batch_size"] == 8
    tall = advise(prepare_arrays(rng.normal(size=(3000, 40)), np.arange(3000) % 2, name="tall"))
    assert "twice the 40 input features rounded up to a power of two" in tall.reasons["width"]
    assert "at most a tenth of the 2100 training rows" in tall.reasons["batch_size"]
    # an audit: 104 rows (a tenth is 10.4) were "fixed" yet described as a "log scale in [8, 8]"; 5 rows had "about
    # 1 updates" with a batch larger than the data; the dropout rule's network was not named
    mid = advise(prepare_arrays(rng.normal(size=(149, 3)), np.arange(149) % 2, name="mid"))
    assert mid.fixed["batch_size"] == 8 and "log scale" not in mid.reasons["batch_size"]
    # 103 training rows in batches of 8: 12 full ones and one of 7, as the trainer splits them (it said 12)
    assert "an epoch has 13 updates" in mid.reasons["batch_size"]
    tiny = advise(prepare_arrays(rng.normal(size=(8, 3)), np.arange(8) % 2, name="tiny"))
    assert "one full-batch update" in tiny.reasons["batch_size"]
    assert "a mid-sized network (" in mid.reasons["dropout"] and "hidden layer" in mid.reasons["dropout"]


def test_advise_keywords_may_repeat_the_datas_facts_but_not_contradict_them() -> None:
    from hyperselect.data import load_builtin

    iris = load_builtin("iris")  # 104 training rows, 4 features, 3 classes
    same = advise(iris, n_rows=104, n_features=4, task="multiclass", n_classes=3)
    assert same.to_dict() == advise(iris).to_dict()
    for kwargs, shown in (
        ({"n_features": 99}, r"'n_features' parameter of advise is 99, but the data has n_features=4"),
        ({"n_rows": 5}, r"'n_rows' parameter of advise is 5, but the data has n_rows=104"),
        (
            {"task": "regression"},
            r"'task' parameter of advise is 'regression', but the data has task='multiclass'",
        ),
        ({"n_classes": 7}, r"'n_classes' parameter of advise is 7, but the data has n_classes=3"),
    ):
        with pytest.raises(ConfigError, match=shown + r".*leave out data"):
            advise(iris, **kwargs)
    with pytest.raises(ConfigError, match="the data has n_features=4"):
        data_shape(iris, n_features=99)


def test_two_processes_with_one_seed_draw_different_startup_configurations() -> None:
    """Two `tune` commands on one study (or two --resume) share a seed: their prior samplers drew the startup
    configurations from one sequence, so each slot's configuration was trained twice.  Draws are now keyed by
    the trial's number, unique in a study; one process still draws the same configurations for one seed."""
    from hyperselect.search.study import make_sampler

    space = advise(n_rows=2000, n_features=20, task="binary")

    def draws(samplers: list[Any], n: int) -> list[dict[str, Any]]:
        study = optuna.create_study(direction="maximize", sampler=samplers[0])
        out = []
        for i in range(n):
            study.sampler = samplers[i % len(samplers)]  # the processes take turns asking
            trial = study.ask()
            space.suggest(trial)
            out.append(trial.params)
        return out

    alone = draws([make_sampler("tpe", 7, space=space, n_prior=10)], 6)
    assert alone == draws([make_sampler("tpe", 7, space=space, n_prior=10)], 6)  # reproducible
    two = draws([make_sampler("tpe", 7, space=space, n_prior=10) for _ in range(2)], 6)
    assert len({json.dumps(p, sort_keys=True) for p in two}) == 6
    assert two == alone  # a trial's draw depends on its number, not on which process asked it


# -- class weights for a rare class --------------------------------------------------------------------------


def _labels(counts: dict[str, int], n_features: int = 3) -> Any:
    """A table whose classes have these row counts (split, stratified, 70/15/15)."""
    from hyperselect.data import prepare_arrays

    y = np.concatenate([[label] * k for label, k in counts.items()])
    X = np.random.default_rng(0).normal(size=(len(y), n_features))
    return prepare_arrays(X, y)


def test_advise_searches_class_weights_only_where_a_class_is_rare() -> None:
    from hyperselect.train.metrics import imbalance_hint, rare_class_limit

    rare = _labels({"fraud": 20, "ok": 380})
    shape = data_shape(rare)
    counts = np.bincount(rare.y_train)
    assert shape.min_class_share == pytest.approx(counts.min() / counts.sum()) and shape.min_class_share < 0.1
    space = advise(rare)
    assert space.dims["class_weight"] == Categorical(("none", "balanced"))
    why = space.reasons["class_weight"]
    assert f"{shape.min_class_share:.1%} of the {len(rare.y_train)} training rows" in why
    assert "n / (classes x rows of its class)" in why and "balanced accuracy" in why
    # the base and the first trial stay unweighted; the search draws both
    assert space.base.class_weight == "none" and space.default_params()["class_weight"] == "none"
    assert space.build(space.default_params()).class_weight == "none"
    drawn = {(p["class_weight"], cfg.class_weight) for p, cfg in _sample(space, 20)}
    assert drawn == {("none", "none"), ("balanced", "balanced")}
    # for two classes the threshold is 10 %, and the same as imbalance_hint's for any number of classes
    assert rare_class_limit(2) == pytest.approx(0.10) and rare_class_limit(10) == pytest.approx(0.02)
    for counts_ in ({"a": 90, "b": 10}, {"a": 85, "b": 15}, {"a": 60, "b": 40}):
        data = _labels({k: v * 4 for k, v in counts_.items()})
        share = data_shape(data).min_class_share
        assert share is not None
        rare_class = share < 0.10
        assert ("class_weight" in advise(data).dims) == rare_class == (imbalance_hint(data) is not None)
    # with more classes, the same fraction of an equal share: a rare class among three counts ...
    three = _labels({"a": 200, "b": 180, "c": 15})
    assert (
        "class_weight" in advise(three).dims and "of 3 equal classes" in advise(three).reasons["class_weight"]
    )
    # ... and so does one of ten that has a tenth of its equal share, but not ten equal classes of 10 % each
    ten = _labels({str(i): 100 for i in range(9)} | {"9": 10})
    assert "class_weight" in advise(ten).dims
    even = _labels({str(i): 100 - i for i in range(10)})
    share = data_shape(even).min_class_share
    assert share is not None and share < 0.10 and "class_weight" not in advise(even).dims
    assert (
        imbalance_hint(even) is None and imbalance_hint(ten) is not None and imbalance_hint(three) is not None
    )


def test_balanced_data_and_planned_data_keep_the_space_they_had() -> None:
    from hyperselect.data import load_builtin

    balanced = _labels({"a": 200, "b": 180, "c": 150})
    planned = advise(n_rows=len(balanced.y_train), n_features=3, task="multiclass", n_classes=3)
    assert "class_weight" not in planned.dims and "class_weight" not in planned.reasons
    assert data_shape(n_rows=300, n_features=3, task="binary").min_class_share is None
    # exactly the space that the same facts without the data give (the class balance adds nothing); digits'
    # ten classes hold under 10 % of the rows each, and the benchmarks count on its space staying as it was
    assert advise(balanced).to_dict() == planned.to_dict()
    digits = load_builtin("digits")
    facts = {
        "n_rows": len(digits.y_train),
        "n_features": digits.n_features,
        "task": "multiclass",
        "n_classes": 10,
    }
    assert advise(digits, arch="mlp").to_dict() == advise(**facts, arch="mlp").to_dict()
    # classes are no matter for regression: no share, no weights
    from hyperselect.data import prepare_arrays

    X = np.random.default_rng(0).normal(size=(400, 3))
    reg = prepare_arrays(X, np.r_[np.ones(10), np.zeros(390)], task="regression")
    assert data_shape(reg).min_class_share is None and "class_weight" not in advise(reg).dims


def test_space_files_edit_class_weight(tmp_path: Path) -> None:
    rare = advise(_labels({"fraud": 20, "ok": 380}))
    narrowed = tmp_path / "narrow.toml"
    narrowed.write_text('[narrow.class_weight]\nchoices = ["balanced"]\n')
    assert rare.apply_file(narrowed).dims["class_weight"] == Categorical(("balanced",))
    fixed = tmp_path / "fix.yaml"
    fixed.write_text("fix:\n  class_weight: balanced\n")
    space = rare.apply_file(fixed)
    assert "class_weight" not in space.dims and space.build(space.default_params()).class_weight == "balanced"
    # a balanced table can search the weights too, by extending its space
    plain = advise(n_rows=300, n_features=3, task="binary")
    extended = tmp_path / "extend.toml"
    extended.write_text('[extend.class_weight]\nchoices = ["none", "balanced"]\n')
    assert plain.apply_file(extended).dims["class_weight"] == Categorical(("none", "balanced"))
    bad = tmp_path / "bad.toml"
    bad.write_text('[fix]\nclass_weight = "inverse"\n')
    with pytest.raises(ConfigError, match=r"class_weight.*'none', 'balanced'.*inverse"):
        plain.apply_file(bad)


def test_a_fixed_or_narrowed_name_in_another_case_is_the_configs_name() -> None:
    """An audit: [fix] optimizer = "Momentum" was refused while --set optimizer=Momentum and MLPConfig took it."""
    from hyperselect.errors import ConfigError

    space = SearchSpace({"activation": Categorical(("relu", "tanh"))})
    assert space.fix(optimizer="Momentum").fixed["optimizer"] == "momentum"
    assert space.narrow("activation", choices=["ReLU"]).dims["activation"].choices == ("relu",)
    grown = space.extend("activation", {"type": "categorical", "choices": ["Tanh", "sigmoid"]})
    assert grown.dims["activation"].choices == ("tanh", "sigmoid")
    with pytest.raises(ConfigError, match="'Momentumm'"):
        space.fix(optimizer="Momentumm")


def test_describe_follows_the_edits_a_fixed_optimizer_makes() -> None:
    """An audit: with optimizer fixed to 'sgd', advise still listed momentum as searched (it is never drawn) and
    the rules still said the first trial is Adam."""
    from hyperselect.data import load_builtin

    space = advise(load_builtin("iris")).fix(optimizer="sgd")
    text = space.describe()
    assert "(never drawn: optimizer is 'sgd')" in text
    first = next(line for line in text.splitlines() if "the first trial is the default config" in line)
    assert "(sgd, lr 0.001" in first and "adam" not in first.lower()
    assert "never drawn" not in advise(load_builtin("iris")).describe()


def test_an_optional_setting_whose_default_is_none_can_be_searched_as_a_number() -> None:
    """An audit: [extend.grad_clip] type="float" crashed advise and tune (the default None clamped as a float)."""
    from hyperselect.data import load_builtin

    space = advise(load_builtin("iris")).extend("grad_clip", {"type": "float", "low": 0.5, "high": 5.0})
    first = space.default_params()["grad_clip"]
    assert 0.5 <= first <= 5.0 and space.build(space.default_params()).grad_clip == first
    assert "grad_clip" in space.describe()
