"""Search spaces and the advisor's priors: typed dimensions, edits from Python and files, define-by-run."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert small.dims["n_layers"] == Int(1, 2)
    assert large.dims["n_layers"] == Int(1, 4)
    assert small.dims["width"].high < large.dims["width"].high  # type: ignore[attr-defined]
    # batch size no larger than a tenth of the training rows
    assert small.dims["batch_size"].high <= 30  # type: ignore[attr-defined]
    assert large.dims["batch_size"].high == 512  # type: ignore[attr-defined]
    # few rows per parameter -> more dropout
    few = advise(n_rows=300, n_features=50, task="binary")
    many = advise(n_rows=1_000_000, n_features=20, task="binary")
    assert few.dims["dropout"].high > many.dims["dropout"].high  # type: ignore[attr-defined]
    assert "high overfitting risk" in few.reasons["dropout"]
    assert large.base.max_epochs < small.base.max_epochs


def test_advise_has_a_reason_for_every_choice() -> None:
    space = advise(n_rows=2000, n_features=30, task="regression")
    for name in space.dims:
        assert len(space.reasons[name]) > 20, name
    for name in ("max_epochs", "patience", "loss"):
        assert name in space.reasons
    assert "mean squared error" in space.reasons["loss"]
    assert space.dims["lr"] == Float(1e-4, 3e-2, log=True)
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
        assert ("momentum" in params) == (params["optimizer"] in ("momentum", "rmsprop"))
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
    assert edited.dims["lr"] == Float(1e-3, 1e-2, log=True)
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
    assert a.dims["optimizer"] == Categorical(("adam", "rmsprop"))
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
