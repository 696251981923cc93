"""The saved model folder (DIR/model) and `hyperselect predict`: new raw rows in, the refit network's exact
predictions out; bad input as clear errors."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from hyperselect import load_estimator, load_model
from hyperselect.cli import app
from hyperselect.data import prepare_tabular
from hyperselect.data.tabular import DataWarning
from hyperselect.errors import DataError
from hyperselect.model_io import network_estimator, save_tune_result
from hyperselect.nn.config import MLPConfig
from hyperselect.nn.losses import predict_from_logits, proba_from_logits
from hyperselect.tasks import Task
from hyperselect.train.evaluation import predict_logits
from hyperselect.train.trainer import train_network

torch.set_num_threads(1)

runner = CliRunner()
HEADER = "id,age,income,color,joined,member,target"


pytestmark = pytest.mark.usefixtures("restore_cli_logging")


def _lines(task: str, n: int = 90, seed: int = 0) -> list[str]:
    """A table with the awkward parts: an id column (dropped as identifier), a missing number, a categorical
    column with missing cells, an ISO date column with a missing cell, a true/false column."""
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    for i in range(n):
        age = int(rng.integers(18, 80))
        income = round(float(rng.normal(50_000, 15_000)), 2)
        color = ["red", "green", "blue", "black"][int(rng.integers(0, 4))]
        joined = f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}"
        member = ["true", "false"][int(rng.integers(0, 2))]
        if task == "binary":
            y = "yes" if color == "red" or age > 60 else "no"
        elif task == "multiclass":
            y = {"red": "cat", "green": "dog", "blue": "bird", "black": "cat"}[color]
        else:
            y = f"{0.05 * age + (1.5 if color == 'red' else -0.5) + rng.normal(0, 0.1):.4f}"
        cells = [f"u{i:03d}", str(age), f"{income}", color, joined, member, y]
        if i % 7 == 3:
            cells[1] = ""
        if i % 11 == 5:
            cells[3] = ""
        if i % 13 == 6:
            cells[4] = "NA"
        lines.append(",".join(cells))
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: object):
    result = runner.invoke(app, [str(a) for a in args])
    result.flat = " ".join(result.output.split())  # type: ignore[attr-defined]
    return result


def _test_rows(model, source: Path, X_test: np.ndarray) -> list[int]:
    """Positions of the test split's rows in ``source``: each X_test row must be the saved preprocessing's
    output for one raw row, to the bit (a KeyError here means the preprocessing is not reproduced exactly)."""
    Z = model.transform(source)
    where = {row.tobytes(): i for i, row in enumerate(Z)}
    return [where[row.tobytes()] for row in X_test]


# ---------------------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_saved_folder_predicts_exactly_as_the_refit_network(task: str, tmp_path: Path) -> None:
    from hyperselect.search import tune

    lines = _lines(task)
    source = _write(tmp_path / "data.csv", lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the id column is dropped with a warning
        data = prepare_tabular(source, "target", random_state=0)
    assert data.task is Task(task)
    result = tune(data, n_trials=2, max_epochs=2, random_state=0)
    folder = save_tune_result(tmp_path / "run", result, data, random_state=0)
    assert folder == (tmp_path / "run" / "model").resolve()
    loaded = load_model(tmp_path / "run")
    assert loaded.task is data.task and loaded.target == "target"
    assert loaded.schema.columns == {
        "age": "number",
        "income": "number",
        "color": "category",
        "joined": "date",
        "member": "boolean",
    }
    assert loaded.schema.dropped == {"id": "identifier"}

    # the test split's raw rows (the target kept: it is ignored), in the split's order
    rows = _test_rows(loaded, source, data.X_test)
    test_csv = _write(tmp_path / "test.csv", [HEADER] + [lines[1 + i] for i in rows])
    np.testing.assert_array_equal(loaded.transform(test_csv), data.X_test)  # bit for bit
    table = loaded.predictions(test_csv)
    assert list(table["id"]) == [f"u{i:03d}" for i in rows]  # the dropped identifier keeps the rows' identity

    model = result.refit_model
    in_memory = network_estimator(model, result.best_config, data)  # the refit network, not saved
    np.testing.assert_array_equal(table["prediction"].to_numpy(), in_memory.predict(data.X_test))
    np.testing.assert_array_equal(loaded.predict(test_csv), in_memory.predict(data.X_test))
    logits = predict_logits(model, data.X_test)  # the float32 evaluation that result.json's metrics use
    if task == "regression":
        assert list(table.columns) == ["id", "prediction"]
        values = data.unscale_y(logits[:, 0].double().numpy())
        np.testing.assert_allclose(table["prediction"].to_numpy(), values, rtol=1e-5)
        y_test = data.unscale_y(data.y_test)
        rmse = float(np.sqrt(np.mean((table["prediction"].to_numpy() - y_test) ** 2)))
        assert rmse == pytest.approx(result.test_metrics["test_rmse"], rel=1e-4)
    else:
        classes = np.asarray(data.classes)
        np.testing.assert_array_equal(
            table["prediction"].to_numpy(), classes[predict_from_logits(logits, data.task).numpy()]
        )
        proba = table[[f"proba_{c}" for c in data.classes]].to_numpy()
        np.testing.assert_array_equal(proba, in_memory.predict_proba(data.X_test))
        np.testing.assert_allclose(
            proba, proba_from_logits(logits.double(), data.task).numpy(), rtol=1e-5, atol=1e-7
        )
        accuracy = float(np.mean(table["prediction"].to_numpy() == classes[data.y_test]))
        assert accuracy == pytest.approx(result.test_metrics["test_accuracy"])
    # and the scikit-learn estimator in the same folder predicts the same on the preprocessed matrix
    est = load_estimator(tmp_path / "run")
    np.testing.assert_array_equal(est.predict(data.X_test), in_memory.predict(data.X_test))


def test_the_preprocessing_state_reproduces_the_fitted_transformer_with_rare_and_unseen_categories() -> None:
    from hyperselect.represent.tabular import (
        apply_preprocessor_state,
        build_preprocessor,
        output_feature_names,
        preprocessor_state,
        state_feature_names,
    )

    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame(
        {
            "a": np.where(rng.random(n) < 0.1, np.nan, rng.normal(3, 7, n)),
            "b": rng.exponential(1e4, n),
            "c": [
                np.nan if r < 0.1 else f"k{int(k)}"
                for r, k in zip(rng.random(n), rng.zipf(1.5, n), strict=True)
            ],
            "d": rng.choice(["x", "y", "z"], n).astype(object),
        }
    )
    ct = build_preprocessor(["a", "b"], ["c", "d"], max_categories=6).fit(X.iloc[:200])
    state = json.loads(json.dumps(preprocessor_state(ct)))  # through JSON, as saved
    assert any(e["infrequent"] for e in state["categorical"])  # grouping is exercised
    new = X.iloc[200:].copy()
    new.iloc[:5, 2] = "never-seen"  # unknown: all zeros, as handle_unknown='ignore'
    got, unseen = apply_preprocessor_state(state, new)
    np.testing.assert_array_equal(got, ct.transform(new))
    assert state_feature_names(state) == output_feature_names(ct)
    assert unseen["c"][:5].all() and not unseen["d"].any()


# ---------------------------------------------------------------------------------------------- the CLI
def test_train_writes_a_model_folder_that_predict_applies_to_new_rows(tmp_path: Path) -> None:
    lines = _lines("multiclass")
    source = _write(tmp_path / "data.csv", lines)
    out = tmp_path / "runs" / "t"
    r = _run(
        "train", source, "--target", "target", "--set", "max_epochs=3", "--set", "hidden=8", "--out", out
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "model").iterdir()) == ["config.json", "model.safetensors"]
    assert "hyperselect predict" in r.flat

    # new rows: no target, columns in another order, an unseen category in most rows (warned, not fatal)
    new = pd.DataFrame(
        {
            "member": ["true", "false", "true"],
            "color": ["purple", "red", "purple"],
            "joined": ["2024-01-05", "", "2023-06-30T12:00:00"],
            "income": ["41000.5", "", "60000"],
            "age": ["33", "71", ""],
            "id": ["n1", "n2", "n3"],
        }
    )
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv, index=False)
    r = _run("predict", out, new_csv, "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    assert "not seen in training in 2 of 3" in r.flat and "'purple' at line 2" in r.flat
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["id", "prediction", "proba_bird", "proba_cat", "proba_dog"]
    assert list(pred["id"]) == ["n1", "n2", "n3"] and set(pred["prediction"]) <= {"bird", "cat", "dog"}
    np.testing.assert_allclose(pred.iloc[:, 2:].sum(axis=1), 1.0)
    expected = load_model(out / "model").predictions(new_csv)
    pd.testing.assert_frame_equal(pred, expected, check_exact=True)

    # stdout, the run folder itself, and --id
    r = _run("predict", out / "model", new_csv, "--id", "age")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "age,prediction,proba_bird,proba_cat,proba_dog"
    # a Parquet file and a DataFrame of the same rows give the same predictions
    new.to_parquet(tmp_path / "new.parquet")
    model = load_model(out)
    pd.testing.assert_frame_equal(model.predictions(tmp_path / "new.parquet"), expected, check_exact=True)
    pd.testing.assert_frame_equal(model.predictions(new), expected, check_exact=True)


def test_tune_writes_the_refit_model_folder(tmp_path: Path) -> None:
    source = _write(tmp_path / "data.csv", _lines("binary"))
    out = tmp_path / "tune"
    r = _run("tune", source, "--target", "target", "--trials", "2", "--max-epochs", "2", "--out", out)
    assert r.exit_code == 0, r.output
    assert (out / "model" / "config.json").is_file() and "hyperselect predict" in r.flat
    doc = json.loads((out / "model" / "config.json").read_text())
    assert doc["config"] == json.loads((out / "result.json").read_text())["best_config"]
    r = _run("predict", out, source, "--out", out / "p.csv")
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out / "p.csv")
    assert list(pred.columns) == ["id", "prediction", "proba_no", "proba_yes"] and len(pred) == 90


def test_predict_reads_new_rows_with_the_training_read_options(tmp_path: Path) -> None:
    lines = [ln.replace(",", ";") for ln in _lines("regression", n=60)]
    lines = [lines[0]] + [ln.replace(".", ",") for ln in lines[1:]]  # decimal commas (dates have none)
    source = _write(tmp_path / "data.csv", lines)
    out = tmp_path / "run"
    args = ["--sep", ";", "--decimal", ",", "--set", "max_epochs=2", "--set", "hidden=4"]
    r = _run("train", source, "--target", "target", *args, "--out", out)
    assert r.exit_code == 0, r.output
    new = _write(
        tmp_path / "new.csv", [lines[0].rsplit(";", 1)[0]] + [ln.rsplit(";", 1)[0] for ln in lines[1:6]]
    )
    r = _run("predict", out, new)
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(io.StringIO(r.stdout))
    assert list(pred.columns) == ["id", "prediction"] and pred["prediction"].dtype == np.float64


def test_train_on_built_in_data_saves_a_model_for_its_numeric_columns(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    out = tmp_path / "iris"
    r = _run("train", "iris", "--set", "max_epochs=2", "--set", "hidden=4", "--out", out)
    assert r.exit_code == 0, r.output
    bunch = load_iris()
    frame = pd.DataFrame(bunch.data[:5], columns=bunch.feature_names)
    pred = load_model(out).predictions(frame)
    assert set(pred["prediction"]) <= set(bunch.target_names) and list(pred["row"]) == [1, 2, 3, 4, 5]


def test_a_diverged_train_removes_the_model_folder_an_earlier_run_left(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = _run("train", "iris", "--set", "max_epochs=2", "--set", "hidden=4", "--out", out)
    assert r.exit_code == 0 and (out / "model" / "config.json").is_file()
    r = _run("train", "iris", "--set", "lr=100", "--set", "optimizer=sgd", "--out", out)
    assert r.exit_code == 0, r.output
    assert not (out / "model").exists() and not (out / "model.safetensors").exists()


# ---------------------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small binary model saved through the Python API (train_network + save_model)."""
    from hyperselect.model_io import save_model

    tmp = tmp_path_factory.mktemp("saved")
    source = _write(tmp / "data.csv", _lines("binary", n=60))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = prepare_tabular(source, "target", random_state=0)
    config = MLPConfig(hidden=(4,), max_epochs=2)
    res = train_network(
        config, data.X_train, data.y_train, data.X_valid, data.y_valid, task=data.task, n_classes=2
    )
    return save_model(tmp / "model", res.model, config, data)


def _new(tmp_path: Path, header: str, *rows: str) -> Path:
    return _write(tmp_path / "new.csv", [header, *rows])


@pytest.mark.parametrize(
    ("header", "row", "needles"),
    [
        (
            "age,income,color,member",
            "30,1.5,red,true",
            [
                "new.csv': 1 feature column(s) the model needs are missing: 'joined'",
                "'target' may be left out",
            ],
        ),
        (
            "age,income,color,joined,member",
            "thirty,1.5,red,2024-01-01,true",
            ["column 'age' holds text such as 'thirty' at line 2", "expected plain numbers"],
        ),
        (
            "age,income,color,joined,member",
            "30,1.5,red,01/02/2024,true",
            ["column 'joined' holds text such as '01/02/2024' at line 2", "expected ISO 8601 dates"],
        ),
        (
            "age,income,color,joined,member",
            "30,1.5,red,2024-01-01,maybe",
            ["column 'member' holds text such as 'maybe' at line 2", "expected true/false values"],
        ),
        (
            "age,income,color,joined,member",
            "true,1.5,red,2024-01-01,true",
            ["column 'age' holds true/false values such as 'true'", "expected plain numbers"],
        ),
        (
            "age,income,color,joined,member",
            "inf,1.5,red,2024-01-01,true",
            ["column 'age' has 1 infinite value(s)", "line 2"],
        ),
    ],
)
def test_predict_explains_bad_rows(
    saved: Path, tmp_path: Path, header: str, row: str, needles: list[str]
) -> None:
    good = {"age": "31", "income": "2.5", "color": "blue", "joined": "2024-02-01", "member": "false"}
    new = _new(tmp_path, header, ",".join(good[c] for c in header.split(",")), row)
    needles = [n.replace("line 2", "line 3") for n in needles]
    r = _run("predict", saved, new)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    for n in needles:
        assert n in r.flat, (n, r.flat)
    with pytest.raises(DataError):
        load_model(saved).predict(new)


def test_an_unseen_category_is_predicted_and_warned_about_only_when_many(saved: Path, tmp_path: Path) -> None:
    model = load_model(saved)
    rows = [f"{20 + i},{i}.5,{'red' if i else 'mauve'},2024-01-01,true" for i in range(20)]
    new = _new(tmp_path, "age,income,color,joined,member", *rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # 1 row in 20: no warning
        assert len(model.predict(new)) == 20
    many = _new(tmp_path, "age,income,color,joined,member", *[r.replace("red", "mauve") for r in rows])
    with pytest.warns(DataWarning, match="'mauve' at line 2.*one-hot ignores them"):
        assert len(model.predict_proba(many)) == 20


def test_what_is_not_a_model_folder_is_said(saved: Path, tmp_path: Path) -> None:
    from hyperselect.estimators import NeuralNetClassifier

    new = _new(tmp_path, "age,income,color,joined,member", "30,1.5,red,2024-01-01,true")
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run("predict", empty, new)
    assert r.exit_code == 1 and "is not a model folder: it holds no config.json" in r.flat
    r = _run("predict", tmp_path / "nowhere", new)
    assert r.exit_code == 1 and "Model folder not found" in r.flat
    r = _run("predict", saved / "config.json", new)
    assert r.exit_code == 1 and "is a file; expected the model folder" in r.flat
    est = NeuralNetClassifier(hidden=(2,), max_epochs=1, random_state=0).fit(np.eye(4), [0, 1, 0, 1])
    est.save(tmp_path / "est")
    r = _run("predict", tmp_path / "est", new)
    assert (
        r.exit_code == 1
        and "saved without its table's preprocessing" in r.flat
        and "load_estimator" in r.flat
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    doc = json.loads((saved / "config.json").read_text())
    del doc["table"]["schema"]
    (broken / "config.json").write_text(json.dumps(doc))
    (broken / "model.safetensors").write_bytes((saved / "model.safetensors").read_bytes())
    r = _run("predict", broken, new)
    assert (
        r.exit_code == 1 and "the table description is not complete (the key 'schema' is missing)" in r.flat
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "dataframe"])
def test_new_rows_are_read_exactly_as_the_training_rows(tmp_path: Path, fmt: str) -> None:
    """Every row of the training table, read as new rows, gives the fitted preprocessor's output on the loader's
    features, to the bit: native Parquet types (nullable integers, booleans, zoned datetimes, categoricals)
    included."""
    from hyperselect.data import load_table
    from hyperselect.model_io import save_model

    rng = np.random.default_rng(3)
    n = 40
    frame = pd.DataFrame(
        {
            "count": pd.array([None if i % 9 == 4 else int(i * 7 % 13) for i in range(n)], dtype="Int64"),
            "flag": pd.array([None if i % 10 == 1 else bool(i % 3) for i in range(n)], dtype="boolean"),
            "when": pd.date_range("2024-01-01", periods=n, freq="37h", tz="Europe/Zurich"),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "note": [None if i % 8 == 2 else ["x y", "z", "w"][i % 3] for i in range(n)],
            "value": rng.normal(size=n).round(3),
            "y": rng.choice(["p", "q"], n),
        }
    )
    source: Path | pd.DataFrame
    if fmt == "parquet":
        source = tmp_path / "t.parquet"
        frame.to_parquet(source)
    elif fmt == "csv":
        source = tmp_path / "t.csv"
        frame.to_csv(source, index=False)
    else:
        source = frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = prepare_tabular(source, "y", random_state=0)
        X = load_table(source, "y")[0] if fmt != "dataframe" else None
    config = MLPConfig(hidden=(2,), max_epochs=1)
    res = train_network(config, data.X_train, data.y_train, data.X_valid, data.y_valid, task=data.task)
    model = load_model(save_model(tmp_path / "m", res.model, config, data))
    got = model.transform(source)
    if X is None:  # a DataFrame: the same rows through a Parquet file are read alike
        frame.to_parquet(tmp_path / "same.parquet")
        X = load_table(tmp_path / "same.parquet", "y")[0]
    with np.errstate(all="ignore"):
        expected = np.asarray(data.preprocessor.transform(X), dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(got, expected)


def test_a_column_given_entirely_empty_in_a_dataframe_is_imputed(saved: Path) -> None:
    """A DataFrame (or Parquet) number or true/false column of None alone was refused with "NoneType values
    ... (0 of 0)" while telling to leave them empty (review)."""
    import pandas as pd

    model = load_model(saved)
    frame = pd.DataFrame(
        {
            "age": [None, None],
            "income": [1.5, 2.5],
            "color": ["red", "blue"],
            "joined": ["2024-01-01", "2024-02-01"],
            "member": [None, None],
        }
    )
    assert len(model.predict(frame)) == 2


def test_an_id_column_named_like_an_output_column_is_refused(saved: Path) -> None:
    import pandas as pd

    model = load_model(saved)
    frame = pd.DataFrame(
        {
            "age": [30],
            "income": [1.5],
            "color": ["red"],
            "joined": ["2024-01-01"],
            "member": [True],
            "prediction": ["x"],
        }
    )
    with pytest.raises(DataError, match=r"\['prediction'\] have the name of a column predict writes"):
        model.predictions(frame, id_columns=["prediction"])
