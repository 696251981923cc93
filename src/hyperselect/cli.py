"""The ``hyperselect`` command line: parse, call the library, print.  No machine-learning logic lives here.

Library code raises; this module is the one place that prints an error and exits: a
:class:`~hyperselect.errors.HyperselectError` anywhere below a command becomes its message in red on stderr and
exit status 1, never a traceback.  Anything else is a bug and keeps its traceback.

Other parts of the project plug in their commands (``tune``, ``advise``, ``worker``, ``compare``, ``report``,
``graph``, ``text``) from their own modules; they are imported here guarded, so a part that is not written yet
leaves the CLI working, and a part whose optional dependency is missing gets a stub command that explains the
``pip install`` to run.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import logging
import math
import sys
import typing
import warnings
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from hyperselect import __version__
from hyperselect._cli_options import (
    NA_TOKENS_TEXT,
    DecimalOption,
    EncodingOption,
    NaValueOption,
    NoDefaultNaOption,
    SepOption,
    ThousandsOption,
    builtin_name,
    check_no_read_options,
    check_no_task,
    check_table_source,
    out_folder,
    read_options,
    row_shape,
)
from hyperselect.errors import ConfigError, HyperselectError, MissingDependencyError

log = logging.getLogger("hyperselect.cli")

console = Console()
err_console = Console(stderr=True)


def print_error(exc: BaseException) -> None:
    # Text(), not markup: messages quote intervals like "[0, 1)" that rich would read as tags
    err_console.print(Text(f"error: {exc}", style="bold red"))


class _ErrorHandlingGroup(TyperGroup):
    """Turns a HyperselectError raised by any (sub)command into a red message and exit status 1."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer types it with its vendored click Context
        try:
            return super().invoke(ctx)
        except HyperselectError as exc:
            log.debug("command failed", exc_info=True)
            print_error(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="hyperselect",
    help="Tune neural networks fast and tell honestly when a network is worth it.",
    cls=_ErrorHandlingGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


# ---------------------------------------------------------------------------------------------- logging
class _OncePerMessage(logging.Filter):
    """A message already shown is not shown again: a data warning is both warned (for Python callers) and
    logged (for logging users), and the CLI shows both channels."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        return True


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    logging.getLogger("py.warnings").warning("%s", message)


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """WARNING by default, INFO with -v, DEBUG with -vv, ERROR only with --quiet; warnings go through logging."""
    from rich.logging import RichHandler

    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = RichHandler(console=err_console, show_time=verbose >= 2, show_path=verbose >= 2, markup=False)
    handler.addFilter(_OncePerMessage())
    for name in ("hyperselect", "py.warnings"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        # records still propagate: an application (or pytest's caplog) that configured the root logger sees them
    # data warnings (rows dropped, columns ignored) reach the user as log lines of their own words, not
    # "file:line: DataWarning: ..." with the line of our code that raised them
    warnings.showwarning = _log_warning
    # Optuna announces every study and trial at INFO; our progress output says what matters, so its chatter
    # appears only with -v
    import optuna

    optuna.logging.set_verbosity(logging.INFO if verbose >= 1 else logging.WARNING)


def _version(value: bool) -> None:
    if value:
        console.print(f"hyperselect {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv: debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        help="CPU threads: torch's, and at most this many for the graph commands' node2vec and classifiers "
        "(their --workers). On a shared or small machine 1 is often much faster (no thread contention).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Tune neural networks fast and tell honestly when a network is worth it."""
    configure_logging(verbose, quiet)
    graph = sys.modules.get("hyperselect.cli_graph")  # mounted when its dependencies are installed
    if graph is not None:  # its node2vec and classifiers keep to --threads too (None: no cap, reset per run)
        graph.set_thread_cap(threads)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------- --set parsing
_NONE = {"none", "null", "~"}


def _parse_value(name: str, raw: str, annotation: str) -> Any:
    """Convert the text of ``--set name=raw`` to the type the config field declares."""
    text = raw.strip()
    if "None" in annotation and text.lower() in _NONE:
        return None
    try:
        if annotation.startswith("tuple"):
            inner = text.strip("[]() ")
            parts = inner.replace(";", ",").split(",") if inner else []
            if parts and not parts[-1].strip():
                parts.pop()  # one trailing comma, as in Python's (64,)
            if any(not v.strip() for v in parts):  # 64,,32: a width left out is a typo, not two layers
                raise ValueError(text)
            return tuple(int(v) for v in parts)
        if annotation.startswith("int"):
            return int(text)
        if annotation.startswith("float"):
            return float(text)
    except ValueError:
        kind = (
            "a list of ints like 128,64"
            if annotation.startswith("tuple")
            else ("an int" if annotation.startswith("int") else "a float")
        )
        raise ConfigError(
            f"--set {name}={raw}: the {name!r} hyperparameter must be {kind}. Got {raw!r}."
        ) from None
    return text


def parse_overrides(items: list[str], config_cls: type[Any]) -> dict[str, Any]:
    """``["lr=0.01", "hidden=64,32"]`` -> ``{"lr": 0.01, "hidden": (64, 32)}``, typed by ``config_cls``'s fields."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(config_cls) if f.init}
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--set expects key=value, e.g. --set lr=0.01. Got {item!r}.")
        if name not in fields:
            import difflib

            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"--set {item}: unknown hyperparameter {name!r} for {config_cls.__name__}.{hint} "
                f"Known: {', '.join(sorted(fields))}."
            )
        if name in out:
            raise ConfigError(f"--set {name} is given twice ({name}={out[name]!r} and {item}); give it once.")
        out[name] = _parse_value(name, raw, fields[name])
    return out


def _parse_task(task: str | None) -> Any:
    from hyperselect._cli_options import parse_task

    return parse_task(task)


# ---------------------------------------------------------------------------------------------- printing
def metrics_table(metrics: dict[str, float], title: str = "metrics") -> Table:
    """Rows are metric names, columns the splits that have them (train / valid / test)."""
    splits = [s for s in ("train", "valid", "test") if any(k.startswith(f"{s}_") for k in metrics)]
    names: list[str] = []
    for k in metrics:
        base = k.split("_", 1)[1] if k.split("_", 1)[0] in splits else k
        if base not in names:
            names.append(base)
    table = Table(title=title)
    table.add_column("metric")
    for s in splits:
        table.add_column(s, justify="right")
    for n in names:
        table.add_row(escape(n), *(_fmt(metrics.get(f"{s}_{n}")) for s in splits))
    return table


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"


def print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        console.print("diagnostics: no training problems found")
        return
    table = Table(title="diagnostics")
    for col in ("finding", "evidence", "remedy"):
        table.add_column(col, overflow="fold")
    for f in findings:
        severity = str(f.get("severity", ""))  # a warning is a problem; "info" (overfitting) is a remark
        shown = f"[yellow]{escape(severity)}[/]" if severity == "warning" else f"[dim]{escape(severity)}[/]"
        table.add_row(
            f"{escape(str(f['kind']))}\n{shown}", escape(str(f["evidence"])), escape(str(f["remedy"]))
        )
    console.print(table)


def write_run(out: Path, doc: dict[str, Any], result: Any, data: Any = None, *, seed: int = 0) -> Path | None:
    """``out/model/`` (the model folder: weights, config, classes or target scaling and the table's
    preprocessing, which ``hyperselect predict`` and ``hyperselect.load_model`` read), ``out/model.safetensors``
    (the bare weights, as before) and ``out/result.json``, each written atomically, the result last.  With
    ``result=None`` or a diverged run no model is written, and one an earlier run left there is removed: it
    would not belong to this result.  Returns the model folder, or None."""
    from safetensors.torch import save as st_save

    from hyperselect._io import atomic_write_bytes, atomic_write_json, safe_join
    from hyperselect.model_io import remove_model, save_train_result

    weights = safe_join(out, "model.safetensors")
    folder = None
    if result is None or result.status == "diverged":
        remove_model(out)
        weights.unlink(missing_ok=True)
    else:
        if data is not None:
            folder = save_train_result(out, result, data, random_state=seed)
        state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
        atomic_write_bytes(weights, st_save(state))
    atomic_write_json(safe_join(out, "result.json"), doc)
    return folder


# ---------------------------------------------------------------------------------------------- train
@app.command()
def train(
    data: str = typer.Argument(
        ..., help="A CSV, TSV or Parquet file, or a built-in data set name (digits, ...).", show_default=False
    ),
    target: str | None = typer.Option(None, "--target", "-t", help="The column to predict (files only)."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="binary, multiclass, multilabel or regression (default: detected from the target).",
    ),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        "-s",
        help="A hyperparameter, key=value (repeatable), e.g. --set hidden=64,32 --set lr=3e-3.",
    ),
    arch: str = typer.Option("mlp", "--arch", help="mlp, or cnn (rows viewed as 1-D signals)."),
    metric: str | None = typer.Option(
        None,
        "--metric",
        help="The validation score recorded each epoch (and early stopped on with --set "
        "early_stopping_metric=valid_score): accuracy (classes' default), balanced_accuracy or f1_macro, "
        "f1_micro (multilabel), r2 (regression's default), neg_mae or neg_rmse (regression: minus the mean "
        "absolute or root mean squared error, in the target's units).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seeds the split, the initial weights and the batch order."),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for result.json and the model folder DIR/model (for 'hyperselect predict').",
        callback=out_folder,
    ),
    sep: SepOption = None,
    encoding: EncodingOption = None,
    na_value: NaValueOption = None,
    decimal: DecimalOption = ".",
    thousands: ThousandsOption = None,
    no_default_na: NoDefaultNaOption = False,
) -> None:
    """Train one network on a table and print its metrics and training diagnostics."""
    from hyperselect.data import BUILTIN_DATASETS, load_builtin, prepare_tabular
    from hyperselect.nn.config import CNNConfig, MLPConfig
    from hyperselect.train.evaluation import train_and_evaluate

    if arch not in ("mlp", "cnn"):
        raise ConfigError(f"The '--arch' option must be one of 'mlp', 'cnn'. Got {arch!r}.")
    cls = CNNConfig if arch == "cnn" else MLPConfig
    values = parse_overrides(overrides, cls)  # parse before loading: a typo should fail fast
    from hyperselect.train.metrics import check_metric, check_metric_name, score_text
    from hyperselect.train.trainer import check_device

    check_metric_name(metric, "--metric")  # before the data is read; whether it fits the task, after

    check_device(device, "'--device'")
    read = read_options(sep, encoding, na_value, decimal, thousands, no_default_na)
    data = builtin_name(data)
    if not Path(data).exists() and data in BUILTIN_DATASETS:
        if task is not None:
            raise ConfigError(
                f"--task is for table files; the built-in data set {data!r} knows its own task."
            )
        check_no_task(data, None, target)
        check_no_read_options(data, read)
        tabular = load_builtin(data, random_state=seed)
    else:
        check_table_source(data, target, BUILTIN_DATASETS)
        assert target is not None
        tabular = prepare_tabular(data, target, task=_parse_task(task), random_state=seed, **read)
    if arch == "cnn" and "input_shape" not in values:
        values["input_shape"] = tabular.input_shape or row_shape(tabular, arch, data, "--set input_shape=C,L")
    config = cls(**values)
    sn = check_metric(metric, tabular.task)
    from hyperselect.progress import make_progress

    with make_progress(transient=True) as bar:
        task_id = bar.add_task("training (epochs; early stopping may end it sooner)", total=config.max_epochs)

        def _advance(epoch: int, score: float, loss: float) -> bool:
            bar.update(task_id, completed=epoch + 1, description=f"training: valid {score_text(sn, score)}")
            return False  # never stops training: it only shows progress

        result, doc = train_and_evaluate(
            tabular, config, random_state=seed, device=device, callback=_advance, metric=sn
        )
    doc["command"] = {
        "data": str(data),
        "target": target,
        "task": task,
        "set": list(overrides),
        "arch": arch,
        "metric": metric,
        "seed": seed,
        "read": dict(
            read
        ),  # --sep/--encoding/--decimal/--thousands/--na-value as given: the run can be redone
    }
    summary = tabular.describe()
    diverged = result.status == "diverged"
    model_dir = None
    if out is not None:  # the results first: nothing printed below can lose them
        model_dir = write_run(out, doc, result, tabular, seed=seed)
    console.print(
        f"[bold]{escape(str(summary['source']))}[/bold]: {summary['task']}, {summary['n_train']}/{summary['n_valid']}/"
        f"{summary['n_test']} train/valid/test rows, {summary['n_features']} features",
        highlight=False,
    )
    # the reason often starts with the status ("diverged: the loss ...", "completed 5 epochs"): say it once
    stop = result.stop_reason
    head = stop if stop.startswith(result.status) else f"{result.status}: {stop}"
    console.print(
        Text(
            f"{head}; "
            + (
                f"best epoch {result.best_epoch}"
                + (
                    f" (valid {score_text(sn, result.best_valid_score)})"
                    if math.isfinite(result.best_valid_score)
                    else ""
                )
                if result.best_epoch >= 0
                else "no epoch finished with a finite loss"
            )
            + f", {result.n_parameters} parameters, {result.seconds:.1f}s"
        )
    )
    if diverged:
        console.print(Text(f"{doc['metrics_note']}; see the findings below for what to change."))
    else:
        console.print(
            metrics_table(doc["metrics"], title=f"{config.arch.upper()} on {escape(Path(str(data)).name)}")
        )
    print_findings(doc["diagnostics"])
    if out is not None:
        saved = "" if model_dir is None else f" and the model {escape(str(model_dir))}"
        console.print(f"wrote {escape(str(out / 'result.json'))}{saved}", highlight=False)
        if model_dir is not None:
            console.print(
                f"predict new rows: hyperselect predict {escape(_shell(model_dir))} NEW.csv --out predictions.csv",
                highlight=False,
                soft_wrap=True,  # a command to copy: never broken over two lines
            )
        from hyperselect.cli_report import report_after

        report_after(out)


def _shell(path: Path | str) -> str:
    import shlex

    return shlex.quote(str(path))


# ---------------------------------------------------------------------------------------------- predict
def _for_new_rows(option: Any, help: str) -> Any:
    """The shared table-reading ``option`` (same type, callback and spelling) with predict's own help: for a new
    file, the default is how the training file was read, not the reader's own default."""
    kind, info = typing.get_args(option)
    info = copy.copy(info)
    info.help = help
    return Annotated[kind, info]


if typing.TYPE_CHECKING:
    _NewRowsSep = SepOption
    _NewRowsEncoding = EncodingOption
    _NewRowsDecimal = ThousandsOption  # str | None, as the default here is the training's
    _NewRowsThousands = ThousandsOption
    _NewRowsNaValue = NaValueOption
else:
    _NewRowsDecimal = _for_new_rows(
        Annotated[str | None, typing.get_args(DecimalOption)[1]],
        "The decimal mark of DATA's numbers where it is not the training file's, e.g. , for 1,5 (default: the "
        "training's --decimal).",
    )
    _NewRowsThousands = _for_new_rows(
        ThousandsOption,
        "The thousands separator of DATA's numbers where it is not the training file's (default: the "
        "training's --thousands).",
    )
    _NewRowsNaValue = _for_new_rows(
        NaValueOption,
        "A cell text of DATA that means missing (repeatable), instead of the training's --na-value texts; "
        f"empty cells and {NA_TOKENS_TEXT} (any case) stay missing unless training gave --no-default-na.",
    )
    _NewRowsSep = _for_new_rows(
        SepOption,
        "DATA's delimiter where it is not the training file's (default: the training's --sep, else guessed): "
        "one character, or tab, comma, semicolon, pipe, space.",
    )
    _NewRowsEncoding = _for_new_rows(
        EncodingOption,
        "DATA's text encoding where it is not the training file's, e.g. utf-8 (default: the training's "
        "--encoding; a UTF-8 file is read as UTF-8 where that was a single-byte one such as latin-1).",
    )


@app.command()
def predict(
    model: Path = typer.Argument(
        ...,
        help="The model folder 'train' or 'tune' wrote: DIR/model, or the run folder DIR itself.",
        show_default=False,
    ),
    data: Path = typer.Argument(
        ...,
        help="CSV, TSV or Parquet file of new rows with the training table's columns (the target may be absent; "
        "it is ignored). Read with the training's --sep/--encoding/--decimal/--thousands/--na-value; the same "
        "options here override the training's for this file.",
        show_default=False,
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="File for the predictions: .csv, .tsv or .parquet, by its extension (default: CSV printed to "
        "stdout; a folder: DIR/predictions.csv).",
    ),
    ids: list[str] = typer.Option(
        [],
        "--id",
        help="A column of DATA to copy into the output (repeatable). Default: the identifier columns training "
        "dropped, where DATA has them, else a row number.",
    ),
    sep: _NewRowsSep = None,
    encoding: _NewRowsEncoding = None,
    decimal: _NewRowsDecimal = None,
    thousands: _NewRowsThousands = None,
    na_value: _NewRowsNaValue = None,
) -> None:
    """Predict the rows of a table with a saved model: labels and class probabilities, or values."""
    from hyperselect.model_io import load_model, predictions_format, write_predictions

    loaded = load_model(model)
    if out is not None and out.is_dir():
        out = out / "predictions.csv"
    if out is not None:
        predictions_format(out)  # an extension it cannot write is refused before the work
    table = loaded.predictions(
        data,
        id_columns=list(ids) or None,
        encoding=encoding,
        sep=sep,
        decimal=decimal,
        thousands=thousands,
        na_values=list(na_value) if na_value else None,
    )
    if out is None:
        typer.echo(table.to_csv(index=False), nl=False)
        return
    write_predictions(table, out)
    what = "values" if loaded.task.value == "regression" else "labels and class probabilities"
    console.print(
        f"wrote {escape(str(out))}: {len(table)} rows, {what} for {escape(repr(loaded.target))}",
        highlight=False,
    )


# ---------------------------------------------------------------------------------------------- demo
@app.command()
def demo(
    quick: bool = typer.Option(False, "--quick", help="Smaller budgets: a smoke test of the whole tour."),
    out: Path = typer.Option(
        Path("runs/demo"), "--out", "-o", help="Run folder for the results and report.", callback=out_folder
    ),
    only: list[str] = typer.Option([], "--only", help="Run only these steps (repeatable)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Run the whole tour on built-in data that needs no download, ending with the report's path."""
    from hyperselect.demo import run_demo

    ctx = run_demo(console, out=out, quick=quick, only=list(only), seed=seed)
    console.print(f"wrote {escape(str(out / 'demo.json'))}", highlight=False)
    report = ctx.results.get("report", {}).get("report")
    if report:
        console.print(f"[bold green]Report:[/bold green] {escape(str(report))}", highlight=False)


# ---------------------------------------------------------------------------------------------- extensions
def _is_unwritten_part(exc: ModuleNotFoundError, module: str) -> bool:
    """True when the import failed because a hyperselect module (this one or one it imports) does not exist yet."""
    missing = exc.name or ""
    return missing == "hyperselect" or missing.startswith("hyperselect.") or module.startswith(missing + ".")


def _import_part(module: str) -> ModuleType | Exception | None:
    """The module; None when it is not written yet; the ImportError when a dependency it needs is missing."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if _is_unwritten_part(exc, module):
            log.debug("%s not available yet (%s); its commands are not shown", module, exc)
            return None
        return exc
    except ImportError as exc:  # MissingDependencyError included
        return exc


def _stub(target: typer.Typer, name: str, exc: Exception) -> None:
    """A command that explains why the real one is unavailable (usually an optional extra not installed)."""
    message = (
        str(exc)
        if isinstance(exc, MissingDependencyError)
        else (
            f"'hyperselect {name}' is unavailable: {exc}. Install the extras: pip install 'hyperselect[graph,text]'"
        )
    )

    @target.command(
        name,
        help=f"(unavailable: {message})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def _unavailable(ctx: typer.Context) -> None:
        raise MissingDependencyError(message)


# module -> the command names it registers (used only to name stubs when its import fails)
_REGISTERING = {
    "hyperselect.cli_search": ("tune", "advise", "worker"),
    "hyperselect.cli_verdict": ("compare",),
    "hyperselect.cli_report": ("report",),
}
_SUB_APPS = {"hyperselect.cli_graph": "graph", "hyperselect.cli_text": "text"}


def mount_extensions(target: typer.Typer) -> None:
    """Add the other parts' commands to ``target``; errors other than ImportError propagate (they are bugs)."""
    for module, names in _REGISTERING.items():
        mod = _import_part(module)
        if isinstance(mod, ModuleType):
            mod.register(target)
        elif mod is not None:
            for n in names:
                _stub(target, n, mod)
    for module, name in _SUB_APPS.items():
        mod = _import_part(module)
        if isinstance(mod, ModuleType):
            sub: typer.Typer = mod.app
            commands = sub.registered_commands
            if len(commands) == 1 and not sub.registered_groups and sub.registered_callback is None:
                # a one-command app becomes the command itself: `hyperselect text ARGS`, not `text CMD ARGS`
                cmd = copy.copy(commands[0])
                cmd.name = name
                target.registered_commands.append(cmd)
            else:
                target.add_typer(sub, name=name)
        elif mod is not None:
            _stub(target, name, mod)


mount_extensions(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive (outside a command: typer's own parsing)
        err_console.print(Text("interrupted", style="red"))
        sys.exit(130)
    except SystemExit as exc:
        # typer turns Ctrl-C inside a command into a silent exit 130; a command that handles it (tune: "stopped
        # after N trials ...") has said so itself, any other stops here without a word otherwise
        if exc.code == 130 and _interrupted_silently(exc):
            err_console.print(
                Text("interrupted (Ctrl-C): the command stopped before writing its results", style="red")
            )
        raise


def _interrupted_silently(exc: BaseException) -> bool:
    """Whether ``exc`` (typer's exit 130) comes from a KeyboardInterrupt that no command handled: typer raises its
    ``Exit(130)`` from the interrupt, a command that handled it returns its own ``Exit(130)`` without one."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        # ``raise ... from None`` (how a command re-raises its own exit after handling Ctrl-C) ends the chain
        e = e.__cause__ if e.__cause__ is not None else None if e.__suppress_context__ else e.__context__
    return False


__all__ = ["app", "main", "parse_overrides"]
