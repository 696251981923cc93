"""Edge cases of the search API as a user meets them: space files with mistakes, odd tune() arguments, results
of searches where nothing completed.  Every error names the file/parameter, the bad value and what is allowed."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest

from hyperselect.errors import ConfigError, DataError, TrainingError
from hyperselect.search import Float, Int, advise, make_rungs, tune
from hyperselect.search.study import study_settings

optuna.logging.set_verbosity(optuna.logging.WARNING)


def space():  # type: ignore[no-untyped-def]
    return advise(n_rows=120, n_features=4, task="multiclass", n_classes=3)


# -- space files ------------------------------------------------------------------------------------------------

BAD_FILES = [
    # unknown names: the closest known one, and where it was written
    (
        "typo.toml",
        "[fix]\nactivaton = 'relu'\n",
        r"\[fix\] Unknown search dimension 'activaton'. Did you mean",
    ),
    ("typo.yaml", "narrow:\n  lrr: {low: 1.0e-3}\n", r"\[narrow.lrr\] Unknown search dimension 'lrr'"),
    ("section.toml", "[fixx]\nlr = 0.01\n", "Did you mean 'fix'"),
    (
        "base.toml",
        "[base]\nmax_epoch = 10\n",
        r"\[base\] Unknown hyperparameter 'max_epoch'.*Did you mean 'max_epochs'",
    ),
    ("key.yaml", "fix:\n  1: 2\n", r"\[fix\] has the key 1"),
    (
        "extkey.toml",
        "[extend.weight_decay]\nlow = 0.0\nhigh = 1.0\nlgo = true\n",
        r"unknown key\(s\) \['lgo'\]",
    ),
    ("nochoice.toml", "[extend.activation]\ntype = 'categorical'\n", "no 'choices'"),
    # values the config does not allow: refused when the file is read, not at every trial
    (
        "fixw.toml",
        "[fix]\nwidth = 32.5\n",
        r"Cannot fix 'width' to 32.5: The 'width' dimension must be an int",
    ),
    ("fixd.yaml", "fix:\n  n_layers: -1\n", r"'n_layers' dimension must be an int in \[0, inf\). Got -1"),
    ("fixk.toml", "[fix]\nkernel_size = 0\n", "'kernel_size' parameter of CNNConfig"),
    (
        "fixh.toml",
        "[fix]\nhidden = 32\n",
        "'hidden' parameter of MLPConfig must be a possibly empty sequence",
    ),
    (
        "ext1.toml",
        "[extend.activation]\nchoices = ['relu', 'relu6']\n",
        r"Cannot search 'activation'.*Got 'relu6'",
    ),
    ("ext2.yaml", "extend:\n  optimizer: {choices: [adam, adamm]}\n", r"\[extend.optimizer\].*Got 'adamm'"),
    (
        "ext3.toml",
        "[extend.weight_decay]\nlow = -1.0\nhigh = 0.01\n",
        r"'weight_decay'.*\[0, inf\). Got -1.0",
    ),
    ("ext4.toml", "[extend.dropout]\nlow = 0.0\nhigh = 2.0\n", r"'dropout'.*\[0, 1\). Got 2.0"),
    ("ext5.toml", "[extend.batch_size]\nlow = 0\nhigh = 64\n", r"'batch_size'.*\[1, inf\). Got 0"),
    (
        "ext6.toml",
        "[extend.width]\nlow = 0\nhigh = 8\n",
        r"'width' dimension must be an int in \[1, inf\). Got 0",
    ),
    ("ext7.toml", "[extend.shape]\nchoices = ['constant', 'pyramid']\n", "Got 'pyramid'"),
    ("ext8.toml", "[extend.batch_size]\ntype = 'float'\nlow = 8\nhigh = 64\n", "give it type 'int'"),
    ("ext9.toml", "[extend.hidden]\nchoices = [32, 64]\n", "search n_layers, width, shape instead"),
    # narrow: bounds of the wrong type are named, never a TypeError or a silent int()
    (
        "nar1.toml",
        "[narrow.lr]\nlow = 'a'\n",
        r"\[narrow.lr\] Cannot narrow 'lr': low must be a finite float.*Got low='a'",
    ),
    ("nar2.toml", "[narrow.width]\nlow = 16.5\nhigh = 32\n", "low must be a finite int.*Got low=16.5"),
    ("nar3.toml", "[narrow.n_layers]\nlow = true\n", "low must be a finite int.*Got low=True"),
    ("nar4.toml", "[narrow.activation]\nchoices = 'relu'\n", "with a list of choices. Got choices='relu'"),
    ("nar5.toml", "[narrow.lr]\nlow = 1e-2\nhigh = 1e-3\n", "low must not exceed high"),
    # contradictions: one dimension, two sections
    (
        "both1.toml",
        "[fix]\nlr = 1e-3\n[narrow.lr]\nlow = 1e-4\nhigh = 1e-2\n",
        r"'lr' given in both \[fix\] and \[narrow\]",
    ),
    (
        "both2.yaml",
        "fix: {lr: 1.0e-3}\nextend:\n  lr: {low: 1.0e-4, high: 1.0e-2}\n",
        r"both \[fix\] and \[extend\]",
    ),
    ("both3.toml", "[fix]\nhidden = [32, 16]\nwidth = 8\n", "Cannot fix 'hidden' and 'width' together"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_space_files_name_the_file_the_entry_and_the_value(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        space().apply_file(path)
    assert name in str(info.value)


def test_yaml_reads_exponents_without_a_dot_as_floats(tmp_path: Path) -> None:
    # PyYAML alone reads `1e-3` as the string '1e-3' (YAML 1.1 wants 1.0e-3)
    path = tmp_path / "s.yaml"
    path.write_text("fix:\n  weight_decay: 1e-5\nnarrow:\n  lr: {low: 1e-4, high: 1E-2}\n")
    edited = space().apply_file(path)
    assert edited.fixed["weight_decay"] == 1e-5
    assert edited.dims["lr"] == Float(1e-4, 1e-2, log=True, prior=1e-3)


def test_fixing_hidden_replaces_the_dimensions_that_build_it() -> None:
    fixed = space().fix(hidden=[32, 16])
    assert not {"n_layers", "width", "shape"} & set(fixed.dims) and fixed.fixed["hidden"] == (32, 16)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        trial = study.ask()
        assert fixed.suggest(trial).hidden == (32, 16)
        study.tell(trial, 0.0)
    # searching width again un-fixes hidden instead of silently overriding it
    again = fixed.extend("width", Int(8, 16)).fix(n_layers=1)
    assert "hidden" not in again.fixed and again.build({"width": 8}).hidden == (8,)
    # the same for a CNN's channels, built from n_conv and conv_channels
    cnn = advise(n_rows=500, n_features=40, task="multiclass", n_classes=10, input_shape=(1, 40))
    conv = cnn.fix(arch="cnn", channels=[8, 16])
    assert not {"n_conv", "conv_channels"} & set(conv.dims)
    assert conv.build(conv.default_params()).channels == (8, 16)  # type: ignore[attr-defined]


def test_extend_without_a_type_follows_the_config_field() -> None:
    # weight_decay from 0 to 1 is a float range, not the integers {0, 1}
    edited = space().extend("weight_decay", {"low": 0, "high": 1})
    assert edited.dims["weight_decay"] == Float(0.0, 1.0)
    assert space().extend("width", {"low": 8, "high": 16}).dims["width"] == Int(8, 16)


def test_an_architecture_value_is_never_truncated() -> None:
    with pytest.raises(ConfigError, match="'width' dimension must be an int"):
        space().build({"width": 32.5, "n_layers": 1})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "multiclas"}, "Did you mean 'multiclass'"),
        ({"n_classes": 1}, "'n_classes' parameter of advise must be an int in \\[2, inf\\)"),
        ({"n_rows": 10.7}, "'n_rows' parameter of advise must be an int"),
        ({"n_rows": "100"}, "'n_rows' parameter of advise must be an int"),
        ({"n_features": 4, "input_shape": (1, -2, -2)}, "positive ints"),
    ],
)
def test_advise_checks_its_arguments(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    args = {"n_rows": 100, "n_features": 3, "task": "multiclass", "n_classes": 3, **kwargs}
    with pytest.raises(ConfigError, match=message):
        advise(**args)


def test_make_rungs_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="'min_epochs' parameter of make_rungs"):
        make_rungs(10, 3, 0)


# -- tune() -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():  # type: ignore[no-untyped-def]
    from hyperselect.data import load_builtin

    return load_builtin("iris")


def tiny(data, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("space", advise(data, max_epochs=kw.pop("max_epochs", 2)).fix(n_layers=1, width=8))
    kw.setdefault("n_trials", 2)
    kw.setdefault("refit", False)
    return tune(data, **kw)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sampler": "tpee"}, ConfigError, "Unknown sampler 'tpee'.*Did you mean 'tpe'"),
        (
            {"sampler": optuna.samplers.RandomSampler},
            ConfigError,
            r"Pass an instance, e.g. RandomSampler\(seed=0\)",
        ),
        ({"random_state": -1}, ConfigError, "'random_state' parameter of tune must be an int"),
        ({"random_state": "x"}, ConfigError, "'random_state' parameter of tune must be an int"),
        ({"min_epochs": 0}, ConfigError, "'min_epochs' parameter of tune must be an int in \\[1, inf\\)"),
        ({"timeout": True}, ConfigError, "'timeout' parameter of tune"),
        ({"batch_size": True}, ConfigError, "'batch_size' parameter of tune"),
        ({"space": {"fix": {"lr": 0.1}}}, ConfigError, r"must be a SearchSpace.*advise\(data\).apply"),
        (
            {"device": "gpu"},
            ConfigError,
            r"^The 'device' parameter of tune must be None or one of 'cpu', 'cuda', 'cuda:N', 'mps'\. "
            r"Got 'gpu'\.$",
        ),
        ({"device": 0}, ConfigError, r"'device' parameter of tune must be None or one of"),
        ({"device": "meta"}, ConfigError, r"'device' parameter of tune must be None or one of"),
    ],
)
def test_bad_tune_arguments_are_refused_before_the_storage_is_opened(  # type: ignore[no-untyped-def]
    iris, tmp_path: Path, kwargs, error, message
) -> None:
    journal = tmp_path / "study.journal"
    with pytest.raises(error, match=message):
        tiny(iris, storage=str(journal), **kwargs)
    assert not journal.exists()


@pytest.mark.parametrize("bad", [0, "20", 2.5, True])
def test_a_bad_max_epochs_is_refused_in_tunes_name(iris, tmp_path: Path, bad: object) -> None:  # type: ignore[no-untyped-def]
    journal = tmp_path / "study.journal"
    with pytest.raises(
        ConfigError, match=r"^The 'max_epochs' parameter of tune must be an int in \[1, inf\)"
    ):
        tune(iris, n_trials=2, max_epochs=bad, storage=str(journal), refit=False)  # type: ignore[arg-type]
    assert not journal.exists()


def test_max_epochs_gives_the_advisors_patience_as_the_cli_does(iris) -> None:  # type: ignore[no-untyped-def]
    """``tune(max_epochs=20)`` searched the advisor's space for 100 epochs with its cap lowered: patience 12,
    where ``hyperselect tune --max-epochs 20`` (the advisor asked for 20 epochs) trains with patience 5."""
    result = tune(iris, n_trials=2, batch_size=2, max_epochs=20, refit=False)
    expected = advise(iris, max_epochs=20).base
    assert (result.best_config.max_epochs, result.best_config.patience) == (20, expected.patience)
    assert expected.patience != advise(iris).base.patience  # the case the bug hid
    # a space of the user's keeps its own patience: only the cap changes
    mine = advise(iris, max_epochs=2).fix(n_layers=1, width=8).with_base(patience=7)
    result = tune(iris, n_trials=2, batch_size=2, max_epochs=3, space=mine, refit=False)
    assert (result.best_config.max_epochs, result.best_config.patience) == (3, 7)


def test_tune_needs_tabular_data() -> None:
    with pytest.raises(DataError, match=r"must be a TabularData.*Got ndarray"):
        tune(np.zeros((10, 3)), n_trials=2)  # type: ignore[arg-type]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_tune_refuses_a_device_this_machine_lacks_before_the_study(iris, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    journal = tmp_path / "study.journal"
    with pytest.raises(
        ConfigError, match=r"^The 'device' parameter of tune is 'cuda', but this machine has no CUDA"
    ):
        tiny(iris, storage=str(journal), device="cuda")
    assert not journal.exists()


def test_a_trial_planner_refuses_an_unknown_device_clearly(iris) -> None:  # type: ignore[no-untyped-def]
    from hyperselect.nn.config import MLPConfig
    from hyperselect.train.planner import Planner

    with pytest.raises(ConfigError, match=r"'device' must be 'cpu', 'cuda' or 'cuda:N'\. Got 'gpu'"):
        Planner(
            [MLPConfig()],
            iris.X_train,
            iris.y_train,
            iris.X_valid,
            iris.y_valid,
            task=iris.task,
            device="gpu",
        )


def test_advise_needs_tabular_data_like_tune() -> None:
    import pandas as pd

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [0, 1, 0]})
    with pytest.raises(
        DataError,
        match=r"^The 'data' parameter of advise must be a TabularData \(from hyperselect.data: .*Got DataFrame\. "
        r"For a DataFrame, call prepare_tabular\(df, target=\.\.\.\) first\.$",
    ):
        advise(df)
    with pytest.raises(DataError, match=r"'data' parameter of advise must be a TabularData.*Got ndarray\.$"):
        advise(np.zeros((10, 3)))


def test_random_state_none_draws_a_seed_and_numpy_ints_are_ints(iris) -> None:  # type: ignore[no-untyped-def]
    result = tiny(iris, random_state=None)
    assert result.study is not None
    seed = study_settings(result.study).random_state
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert tiny(iris, random_state=np.int64(3), n_trials=np.int64(1)).counts["finished"] == 1
    assert tiny(iris, random_state=2**32 - 1, n_trials=1).counts["finished"] == 1  # the largest numpy seed


def test_every_trial_diverging_says_why_and_what_to_do(iris) -> None:  # type: ignore[no-untyped-def]
    diverging = advise(iris, max_epochs=2).fix(n_layers=1, width=8, lr=1e8, optimizer="sgd")
    with pytest.raises(TrainingError, match=r"kept in memory only.*diverged.*lower the learning rate"):
        tiny(iris, space=diverging, n_trials=3)


def test_a_search_where_nothing_completed_warns_and_saves(  # type: ignore[no-untyped-def]
    iris, tmp_path: Path, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="hyperselect.search.study"):
        result = tiny(iris, max_epochs=30, n_trials=3, batch_size=3, timeout=0.001)
    assert result.counts["COMPLETE"] == 0 and result.counts["PRUNED"] == 3
    assert "completed its epochs" in caplog.text
    assert result.importances == {}  # fewer than three trials reached the first rung
    assert {"number", "state", "value", "outcome", "reason", "param_lr"} <= set(result.trials.columns)
    # a file where the results folder should be: a DataError naming it, not an OSError
    (tmp_path / "taken").write_text("x")
    with pytest.raises(DataError, match=r"'.*taken' is a file"):
        result.save(tmp_path / "taken")
    with pytest.raises(DataError, match=r"because '.*taken' is a file"):
        result.save(tmp_path / "taken" / "sub")
    assert (result.save(tmp_path / "out") / "result.json").is_file()


@pytest.mark.parametrize(("name", "text"), [("e.toml", ""), ("e.yaml", ""), ("s.yaml", "fix:\nnarrow: {}\n")])
def test_an_empty_space_file_warns(tmp_path: Path, caplog, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(text)
    with caplog.at_level(logging.WARNING, logger="hyperselect.search.space"):
        assert space().apply_file(tmp_path / name) == space()
    assert "changes nothing" in caplog.text


def test_a_space_with_nothing_to_search_warns() -> None:
    from hyperselect.data import load_builtin
    from hyperselect.search import advise, create_study

    data = load_builtin("iris")
    space = advise(data)
    fixed = space.fix(**{"momentum": 0.9, **space.default_params()})
    assert not fixed.dims
    with pytest.warns(UserWarning, match="nothing left to search"):
        create_study(data, space=fixed, n_trials=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        create_study(data, space=space, n_trials=3)  # a space with dimensions: no warning
