"""``hyperselect compare DATA``: is a network worth it on this data?  Parse, call, print; no ML logic here."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import typer

from hyperselect._cli_options import (
    BUILTIN_PREFIX,
    DecimalOption,
    EncodingOption,
    NaValueOption,
    NoDefaultNaOption,
    SepOption,
    TaskOption,
    ThousandsOption,
    check_no_read_options,
    check_no_task,
    check_table_source,
    out_folder,
    parse_task,
    read_options,
)
from hyperselect.errors import HyperselectError

log = logging.getLogger(__name__)


def load_compare_data(
    data: str,
    target: str | None,
    random_state: int = 0,
    read: dict[str, Any] | None = None,
    task: str | None = None,
) -> Any:
    """``builtin:NAME`` (or a bare built-in name that is not a file) or a table file with ``--target``.

    ``read``: the table-reading options given (``sep``, ``encoding``, ``na_values``, ``decimal``, ``thousands``).
    """
    from hyperselect.data import BUILTIN_DATASETS, load_builtin, prepare_tabular

    if data.startswith(BUILTIN_PREFIX):
        check_no_read_options(data, read)
        check_no_task(data, task, target)
        return load_builtin(data[len(BUILTIN_PREFIX) :], random_state=random_state)
    path = Path(data)
    if not path.exists() and data in BUILTIN_DATASETS:
        check_no_read_options(data, read)
        check_no_task(data, task, target)
        return load_builtin(data, random_state=random_state)
    check_table_source(data, target, BUILTIN_DATASETS, spelled=BUILTIN_PREFIX + "NAME")
    assert target is not None
    return prepare_tabular(path, target, task=parse_task(task), random_state=random_state, **(read or {}))


#: compare's command-line parameters -> (compare()'s parameter, the option's spelling)
_OPTIONS = {
    "n_trials": ("n_trials", "--trials"),
    "baseline_trials": ("baseline_trials", "--baseline-trials"),
    "folds": ("n_splits", "--folds"),
    "repeats": ("n_repeats", "--repeats"),
    "max_epochs": ("max_epochs", "--max-epochs"),
    "threads": ("n_threads", "--threads"),
    "protocol": ("protocol", "--protocol"),
    "timeout": ("timeout", "--timeout"),
}


def _as_options(message: str) -> str:
    """compare()'s messages name its parameters; on the command line the user gave options (``The 'n_splits'
    parameter of compare`` -> ``The --folds option``, ``n_splits=2`` -> ``--folds 2``)."""
    for param, option in _OPTIONS.values():
        message = message.replace(f"The '{param}' parameter of compare", f"The {option} option")
        message = re.sub(rf"\b{param}=", f"{option} ", message)
    return message


def _interrupted(stop: KeyboardInterrupt, out: Path | None) -> typer.Exit:
    """Ctrl-C: one line on what was kept (compare's searches are in memory: nothing can be resumed), exit 130.
    With ``--out``, what compare had finished (:class:`~hyperselect.evaluate.verdict.CompareInterrupted`) is
    written to ``DIR/verdict.partial.json``, marked partial; never ``verdict.json``, which a report trusts."""
    from hyperselect._io import atomic_write_json, safe_join
    from hyperselect.evaluate.verdict import PARTIAL_FILE, CompareInterrupted

    stage = f" while {stop.stage}" if isinstance(stop, CompareInterrupted) else ""
    head = f"interrupted: compare stopped{stage}, before its verdict"
    if out is None:
        typer.echo(f"{head}; nothing was written (no --out).", err=True)
    elif isinstance(stop, CompareInterrupted) and stop.candidates:
        try:
            path = atomic_write_json(safe_join(out, PARTIAL_FILE), stop.partial)
        except (OSError, HyperselectError) as exc:
            typer.echo(f"{head}; what was finished could not be written to '{out}': {exc}", err=True)
        else:
            kinds = [c["kind"] for c in stop.partial["candidates"]]
            tuned = ", ".join(
                f"{n} {kind}{'s' if n > 1 else ''}"
                for kind in ("network", "baseline")
                if (n := kinds.count(kind))
            )
            typer.echo(
                f"{head}; the models tuned so far ({tuned}) are in {path} with their scores, marked partial. No "
                "verdict.json was written (compare has no --resume: run it again for a verdict).",
                err=True,
            )
    else:
        typer.echo(f"{head}; nothing was written to {out}.", err=True)
    return typer.Exit(130)


def register(app: typer.Typer) -> None:
    """Add the ``compare`` command to ``app``."""

    @app.command("compare")
    def compare_cmd(
        ctx: typer.Context,
        data: str = typer.Argument(
            ...,
            help="A CSV/TSV/Parquet file, or a built-in data set: digits or builtin:digits.",
            show_default=False,
        ),
        target: str | None = typer.Option(None, "--target", "-t", help="The column to predict (files only)."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Folder for verdict.json.", callback=out_folder
        ),
        n_trials: int = typer.Option(20, "--trials", help="Network search trials per architecture."),
        baseline_trials: int = typer.Option(
            10, "--baseline-trials", help="Search trials per baseline family."
        ),
        protocol: str = typer.Option(
            "kfold", "--protocol", help="kfold (corrected t-test) or 5x2 (5x2cv corrected t-test)."
        ),
        folds: int = typer.Option(5, "--folds", help="k of the repeated k-fold protocol."),
        repeats: int = typer.Option(2, "--repeats", help="Repeats of the k-fold protocol."),
        max_epochs: int | None = typer.Option(None, "--max-epochs", help="Cap on network training epochs."),
        threads: int = typer.Option(1, "--threads", help="Threads every model is fitted and timed with."),
        timeout: str | None = typer.Option(
            None,
            "--timeout",
            help="Wall-clock cap of each search (each network architecture, each baseline family): 90s, 10m.",
        ),
        metric: str | None = typer.Option(
            None,
            "--metric",
            help="Score to tune, compare and test by: accuracy (classes' default), balanced_accuracy or "
            "f1_macro (imbalanced classes), f1_micro (multilabel), r2 (regression's default), neg_mae or "
            "neg_rmse (regression: minus the mean absolute or root mean squared error, in the target's units).",
        ),
        quick: bool = typer.Option(False, "--quick", help="The demo's small budgets (about a minute)."),
        seed: int = typer.Option(
            0, "--seed", min=0, max=2**32 - 1, help="Seeds the split, the folds and every search."
        ),
        sep: SepOption = None,
        encoding: EncodingOption = None,
        na_value: NaValueOption = None,
        decimal: DecimalOption = ".",
        thousands: ThousandsOption = None,
        no_default_na: NoDefaultNaOption = False,
        task: TaskOption = None,
    ) -> None:
        """Tune networks and classic baselines, compare them on identical folds, and print the verdict."""
        from hyperselect._io import safe_join
        from hyperselect.cli_search import parse_duration
        from hyperselect.evaluate.report_text import render_verdict
        from hyperselect.evaluate.verdict import DEMO_SETTINGS, PARTIAL_FILE, compare

        try:
            from hyperselect.train.metrics import check_metric_name, imbalance_hint, integer_classes_hint

            check_metric_name(metric, "--metric")  # before the data is read
            read = read_options(sep, encoding, na_value, decimal, thousands, no_default_na)
            dataset = load_compare_data(data, target, random_state=seed, read=read, task=task)
            hint = imbalance_hint(dataset) if metric is None else None
            if hint:
                typer.echo(f"note: {hint}", err=True)
            scale = integer_classes_hint(dataset) if task is None and Path(data).exists() else None
            if scale:
                typer.echo(f"note: {scale}", err=True)
            settings: dict[str, Any] = {
                "n_trials": n_trials,
                "baseline_trials": baseline_trials,
                "protocol": protocol,
                "n_splits": folds,
                "n_repeats": repeats,
                "max_epochs": max_epochs,
                "n_threads": threads,
                "timeout": parse_duration(timeout),
            }
            if quick:
                # the demo's budgets for what was not given: an option on the command line wins over --quick
                # (compared by name: typer may carry its own copy of click's ParameterSource enum)
                given = {
                    key
                    for name, (key, _) in _OPTIONS.items()
                    if getattr(ctx.get_parameter_source(name), "name", "DEFAULT")
                    not in ("DEFAULT", "DEFAULT_MAP")
                }
                settings.update({k: v for k, v in DEMO_SETTINGS.items() if k not in given})
            if settings["protocol"] == "5x2":
                moot = [
                    option
                    for name, option in (("folds", "--folds"), ("repeats", "--repeats"))
                    if getattr(ctx.get_parameter_source(name), "name", "DEFAULT")
                    not in ("DEFAULT", "DEFAULT_MAP")
                ]
                if moot:  # 5x2 is five repeats of two folds by definition
                    log.warning("--protocol 5x2 is 5 repeats of 2 folds: %s ignored.", " and ".join(moot))
            verdict = compare(dataset, random_state=seed, metric=metric, **settings)
            typer.echo(render_verdict(verdict), nl=False)
            if out is not None:
                path = verdict.save(safe_join(out, "verdict.json"))
                # an earlier interrupted run's finished part does not belong to this verdict
                safe_join(out, PARTIAL_FILE).unlink(missing_ok=True)
                typer.echo(f"wrote {path}")
        except HyperselectError as exc:
            # library code raises; only the command line turns an error into a message and exit status 1
            typer.echo(f"error: {_as_options(str(exc))}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as stop:
            # ``from None``: the exit says it was handled (cli.main adds no second, generic line)
            raise _interrupted(stop, out) from None
        from hyperselect.cli_report import report_after

        report_after(out)


__all__ = ["load_compare_data", "register"]
