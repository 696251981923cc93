"""The search commands of the CLI: ``tune``, ``advise`` and ``worker``.

Thin by design: parse, call :mod:`hyperselect.search`, print.  Library errors (:class:`HyperselectError`) become
one line on stderr and exit code 1.  ``register(app)`` adds the commands to the main typer app.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from hyperselect._cli_options import (
    DecimalOption,
    EncodingOption,
    FixOption,
    NaValueOption,
    NoDefaultNaOption,
    SepOption,
    TaskOption,
    ThousandsOption,
    builtin_name,
    check_no_read_options,
    check_no_task,
    check_table_source,
    out_folder,
    parse_fixes,
    parse_task,
    read_options,
    row_shape,
)
from hyperselect.errors import ConfigError, DataError, HyperselectError, StorageError

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def parse_duration(text: str | None) -> float | None:
    """``"90"``, ``"90s"``, ``"10m"``, ``"1h30m"`` -> seconds."""
    if text is None or text == "":
        return None
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        raise ConfigError(f"Cannot read the duration {text!r}; expected e.g. 90, 90s, 10m or 1h30m.")
    if re.search(r"h\s*\d+(?:\.\d*)?$", text.strip()):  # 1h30: minutes or seconds? (1m30 is plainly 90 s)
        raise ConfigError(
            f"Cannot read the duration {text!r}: the number after the last unit has none; write e.g. "
            f"{text.strip()}m or {text.strip()}s."
        )
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    total = 3600 * h + 60 * mi + s
    if total <= 0:
        raise ConfigError(f"The duration must be positive. Got {text!r}.")
    return total


def parse_fractions(text: str | None, option: str) -> list[float] | None:
    """``"0.11,0.33"`` -> ``[0.11, 0.33]``; fractions may be written ``1/9``.  None or "" -> None."""
    if text is None or not text.strip():
        return None
    out: list[float] = []
    for part in text.split(","):
        p = part.strip()
        try:
            num, _, den = p.partition("/")
            value = float(num) / float(den) if den else float(num)
        except (ValueError, ZeroDivisionError):
            raise ConfigError(
                f"{option}: cannot read {p!r} in {text!r}; expected fractions separated by commas, "
                "e.g. 0.11,0.33 or 1/9,1/3."
            ) from None
        if not 0 < value <= 1:
            raise ConfigError(
                f"{option}: {p!r} in {text!r} is not a fraction of the training rows; expected each in (0, 1], "
                "e.g. 0.11,0.33 or 1/9,1/3."
            )
        if out and value < out[-1]:
            raise ConfigError(
                f"{option}: {p!r} is smaller than the fraction before it in {text!r}; they must not decrease "
                "(a configuration that goes on to the next rung keeps its rows and gains more)."
            )
        out.append(value)
    return out


def load_data(
    data: str,
    target: str | None,
    random_state: int = 0,
    read: dict[str, Any] | None = None,
    task: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """A file (with ``--target``) or a built-in data set name -> (TabularData, reference for workers).

    ``read`` holds the table-reading options given (``sep``, ``encoding``, ``na_values``, ``decimal``,
    ``thousands``); they are kept in the reference so that workers read the file the same way.
    """
    from hyperselect.data import BUILTIN_DATASETS, load_builtin, prepare_tabular

    data = builtin_name(data)
    path = Path(data)
    if not path.exists() and data in BUILTIN_DATASETS:
        check_no_read_options(data, read)
        check_no_task(data, task, target)
        return load_builtin(data, random_state=random_state), {"builtin": data, "random_state": random_state}
    check_table_source(data, target, BUILTIN_DATASETS)
    assert target is not None
    task_ = parse_task(task)
    d = prepare_tabular(path, target, task=task_, random_state=random_state, **(read or {}))
    ref: dict[str, Any] = {"path": str(path.resolve()), "target": target, "random_state": random_state}
    if task_ is not None:
        ref["task"] = task_.value  # workers read the target the same way (load_data_ref)
    if read:
        ref["read"] = dict(read)
    return d, ref


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _storage_failed(exc: Exception, storage: str | None, *, resume_hint: bool) -> typer.Exit:
    """An error the study storage raised mid-run (a database server gone, a file made read-only) as one line,
    without the password; any other error is raised again, untouched."""
    from hyperselect.search.storage import storage_failure

    failure = storage_failure(exc, storage)
    if failure is None:
        raise exc
    how = "rerun the same command with --resume" if resume_hint else "start the worker again"
    return _fail(StorageError(f"{failure} The finished trials are kept in the storage: {how} once it works."))


def _interrupted(
    storage: str | None, study: str, *, resume_hint: bool, out: Path | None = None
) -> typer.Exit:
    """Ctrl-C: say where the finished trials are and how to go on (typer would exit with no word)."""
    from hyperselect.search.storage import describe_storage, is_url

    if storage is not None and (is_url(storage) or Path(storage).exists()):
        how = "rerun the same command with --resume" if resume_hint else "start a worker again"
        best = (
            " To stop here instead, rerun it with --resume --trials 1: no more trials are run, and the best so far "
            "is refit and written" + (f" to '{out}'" if out is not None else "") + "."
            if resume_hint
            else ""
        )
        typer.echo(
            f"interrupted: the finished trials of study {study!r} are kept in {describe_storage(storage)}; "
            f"{how} to continue (interrupted trials are run again).{best}",
            err=True,
        )
    else:
        typer.echo("interrupted before the study was stored.", err=True)
    return typer.Exit(130)


def _apply_fixes(space: Any, fixes: list[str] | None) -> Any:
    """``space`` with the ``--fix NAME=VALUE`` values fixed (errors name the option and the value)."""
    values = parse_fixes(fixes)
    if not values:
        return space
    try:
        return space.fix(**values)
    except ConfigError as exc:
        given = " ".join(f"--fix {f}" for f in fixes or [])
        raise ConfigError(f"{given}: {exc}") from exc


def _quiet_optuna() -> None:
    import optuna

    # Optuna logs one INFO line per trial; with batches of trials that drowns our summary
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def register(app: typer.Typer) -> None:
    """Add ``tune``, ``advise`` and ``worker`` to ``app``."""

    @app.command()
    def tune(
        data: Annotated[str, typer.Argument(help="CSV/TSV/Parquet file, or a built-in data set name")],
        target: Annotated[str | None, typer.Option("--target", "-t", help="column to predict")] = None,
        trials: Annotated[
            int | None,
            typer.Option(
                "--trials",
                "-n",
                min=1,
                help="total trials in the study (default 30; with --resume, the study's own)",
            ),
        ] = None,
        timeout: Annotated[str | None, typer.Option(help="wall-clock budget: 90s, 10m, 1h30m")] = None,
        storage: Annotated[
            str | None,
            typer.Option(
                help="journal file path or database URL (postgresql://..., sqlite:///...); "
                "default: DIR/study.journal, or ./hyperselect.journal without --out"
            ),
        ] = None,
        study: Annotated[str | None, typer.Option(help="study name (default: FILE-TARGET)")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="continue an existing study")] = False,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                help="write result.json, trials.csv and the model folder DIR/model (for 'hyperselect predict') here",
                callback=out_folder,
            ),
        ] = None,
        space: Annotated[Path | None, typer.Option(help="TOML/YAML file with fix/narrow/extend/base")] = None,
        fix: FixOption = None,
        sampler: Annotated[str, typer.Option(help="tpe, random, cmaes, qmc or gp")] = "tpe",
        batch_size: Annotated[int | None, typer.Option(min=1, help="configurations trained together")] = None,
        group_size: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="trials of a batch that share batch size and depth, so they train as one population "
                "(default: the whole batch; 1: each draws its own)",
            ),
        ] = None,
        max_epochs: Annotated[
            int | None, typer.Option(min=1, help="epoch cap (early stopping decides)")
        ] = None,
        rung_rows: Annotated[
            str | None,
            typer.Option(
                help="fractions of the training rows the first halving rungs train on, e.g. 1/9,1/3 "
                "(large data: screening on a subset is cheaper; the last rung always uses every row)"
            ),
        ] = None,
        metric: Annotated[
            str | None,
            typer.Option(
                help="validation score to maximise: accuracy (classes' default), balanced_accuracy or f1_macro "
                "(imbalanced classes), f1_micro (multilabel), r2 (regression's default), neg_mae or neg_rmse "
                "(regression: minus the mean absolute / root mean squared error in the target's units)"
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="random_state for splits, sampler and weights")] = 0,
        heartbeat: Annotated[
            int | None, typer.Option(min=1, help="heartbeat seconds (database storages)")
        ] = None,
        arch: Annotated[
            str, typer.Option(help="auto (the CNN family too where rows are signals/images), mlp or cnn")
        ] = "auto",
        sep: SepOption = None,
        encoding: EncodingOption = None,
        na_value: NaValueOption = None,
        decimal: DecimalOption = ".",
        thousands: ThousandsOption = None,
        no_default_na: NoDefaultNaOption = False,
        task: TaskOption = None,
    ) -> None:
        """Search hyperparameters, refit the best on train+valid and report test metrics."""
        from hyperselect.search import advise
        from hyperselect.search import tune as run_tune
        from hyperselect.search.storage import check_storage
        from hyperselect.search.study import DEFAULT_TRIALS, NoScoreError, check_resumable, stored_n_trials
        from hyperselect.train.metrics import (
            check_metric_name,
            imbalance_hint,
            integer_classes_hint,
            score_text,
        )

        _quiet_optuna()
        store: str | None = None
        name = study or ""
        trials_given = trials is not None
        try:
            seconds = parse_duration(timeout)
            fractions = parse_fractions(rung_rows, "--rung-rows")
            check_metric_name(metric, "--metric")  # before the data is read
            read = read_options(sep, encoding, na_value, decimal, thousands, no_default_na)
            check_storage(storage)  # a database server that cannot be reached fails before the data is read
            store_path = storage or str(
                (out / "study.journal") if out is not None else Path("hyperselect.journal")
            )
            stem = Path(builtin_name(data)).stem  # builtin:iris names the study iris, as iris does
            study_name = study or (f"{stem}-{target}" if target else stem)
            if resume:  # a mistyped name must not start a new study (whose results overwrite the folder's)
                check_resumable(store_path, study_name)
            d, ref = load_data(data, target, seed, read, task)
            store, name = store_path, study_name  # (a Ctrl-C before this says nothing was stored)
            sp = advise(d, max_epochs=max_epochs, arch=arch, input_shape=row_shape(d, arch, data))
            if space is not None:
                sp = sp.apply_file(space)
            sp = _apply_fixes(sp, fix)
            if trials is None:  # a resumed study keeps its total; a new one gets the default
                stored = stored_n_trials(store, name) if resume else None
                trials = stored if stored is not None else DEFAULT_TRIALS
            hint = imbalance_hint(d) if metric is None and not resume else None
            if hint:
                typer.echo(f"note: {hint}", err=True)
            scale = integer_classes_hint(d) if task is None and not resume and Path(data).exists() else None
            if scale:
                typer.echo(f"note: {scale}", err=True)
            result = run_tune(
                d,
                n_trials=trials,
                timeout=seconds,
                space=sp,
                storage=store,
                study_name=name,
                sampler=sampler,
                random_state=seed,
                resume=resume,
                batch_size=batch_size,
                group_size=group_size,
                rung_rows=fractions,
                data_ref=ref,
                heartbeat_interval=heartbeat,
                progress=True,
                metric=metric,
            )
            model_dir = None
            if out is not None:
                from hyperselect.model_io import save_tune_result

                try:
                    result.save(out)
                    model_dir = save_tune_result(out, result, d, random_state=seed)
                except OSError as exc:  # the search is done and stored: say so, and how to get the files
                    raise DataError(
                        f"Cannot write the results into '{out}': {exc.strerror or exc}"
                        + (f" ('{exc.filename}')" if exc.filename else "")
                        + f". The "
                        f"trials are kept in {result.storage}: rerun the same command with --resume (no more "
                        f"trials are run) once '{out}' can take result.json and trials.csv."
                    ) from exc
        except NoScoreError as exc:
            # no result.json without a best trial, but each trial's reason is what the user needs next
            if out is not None:
                from hyperselect._io import atomic_write_text, safe_join

                try:
                    out.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(safe_join(out, "trials.csv"), exc.trials.to_csv(index=False))
                except OSError as write_exc:
                    said = (
                        f" (trials.csv could not be written into '{out}': {write_exc.strerror or write_exc}.)"
                    )
                else:
                    said = f" Each trial's reason is in {out / 'trials.csv'}."
                typer.echo(f"error: {exc}{said}", err=True)
                raise typer.Exit(1) from exc
            raise _fail(exc) from exc
        except HyperselectError as exc:
            raise _fail(exc) from exc
        except KeyboardInterrupt:
            raise _interrupted(store, name, resume_hint=True, out=out) from None
        except Exception as exc:
            raise _storage_failed(exc, store, resume_hint=True) from exc
        c = result.counts
        if resume and c["finished"] > trials:
            # without --trials the total is the study's stored one, which a worker's larger --trials ran past
            total = f"--trials {trials}" if trials_given else f"the study's stored total ({trials} trials)"
            typer.echo(
                f"note: {total} is below the {c['finished']} trials the study already had: no trial "
                "was run; the results are those of the study's best."
            )
        # rows of trials.csv that are no trial of the budget: runs cut by a crash and retried, and trials asked
        # past the budget by a parallel worker (closed unrun): said, so that the table's row count adds up
        # an interrupted trial's configuration is queued again; where the budget was finished first, that copy
        # is closed unrun (counted in "surplus") and the configuration is not run again: neither is a trial of
        # the budget
        retried, not_rerun = c.get("retried", 0), c.get("not_rerun", 0)
        if not_rerun == retried:
            interrupted = "interrupted (not run again: the budget was finished first)"
        elif not_rerun:
            interrupted = f"interrupted ({retried - not_rerun} run again; {not_rerun} not, the budget was finished first)"
        else:
            interrupted = "interrupted (their configurations queued again)"
        extra = [
            f"{n} {what}"
            for n, what in (
                (retried, interrupted),
                (c.get("surplus", 0), "queued or asked once the budget was finished, closed without running"),
            )
            if n
        ]
        typer.echo(
            f"study {result.study_name!r} in {result.storage}: {c['finished']} trials "
            f"({c['COMPLETE']} complete, {c['PRUNED']} pruned, {c['FAIL']} failed); "
            f"{result.seconds:.1f} s {'this run' if resume else 'in all'}"
            + (
                f" ({result.study_seconds:.1f} s of search over every run of the study)"
                if resume and result.study_seconds is not None
                else ""
            )
            + (f"; trials.csv also lists {', '.join(extra)}" if extra else "")
        )
        if seconds is not None and c["finished"] < trials:
            # the search ended before its budget: only --timeout does that (said, with how to go on)
            typer.echo(
                f"stopped by --timeout {timeout} after {c['finished']} of {trials} trials; --resume continues"
            )
        typer.echo(
            f"best trial {result.best_trial}: valid {score_text(result.score_name, result.best_valid_score)}"
        )
        if result.test_metrics:  # the test metrics are the refit's, not the best trial's: said
            typer.echo(
                f"refit on train+valid for {result.refit_epochs} epoch{'s' if result.refit_epochs != 1 else ''} "
                "(the best trial's kept epochs); test metrics:"
            )
        for k, v in result.test_metrics.items():
            # 4 significant digits: an RMSE of 1.06e-07 printed as 0.0000; the loss is on the standardised scale
            scale = " (standardised target)" if k == "test_loss" and result.task == "regression" else ""
            typer.echo(f"  {k}{scale}: {v:.4g}")
        typer.echo("best config: " + json.dumps(result.best_config.to_dict()))
        if out is not None:
            typer.echo(
                f"wrote {out / 'result.json'} and {out / 'trials.csv'}"
                + (f"; the model: {model_dir} (hyperselect predict {model_dir} NEW.csv)" if model_dir else "")
            )
            from hyperselect.cli_report import report_after

            report_after(out)

    @app.command()
    def advise(
        data: Annotated[str, typer.Argument(help="CSV/TSV/Parquet file, or a built-in data set name")],
        target: Annotated[str | None, typer.Option("--target", "-t", help="column to predict")] = None,
        space: Annotated[Path | None, typer.Option(help="TOML/YAML file with fix/narrow/extend/base")] = None,
        fix: FixOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the space as JSON")] = False,
        arch: Annotated[
            str, typer.Option(help="auto (the CNN family too where rows are signals/images), mlp or cnn")
        ] = "auto",
        sep: SepOption = None,
        encoding: EncodingOption = None,
        na_value: NaValueOption = None,
        decimal: DecimalOption = ".",
        thousands: ThousandsOption = None,
        no_default_na: NoDefaultNaOption = False,
        task: TaskOption = None,
    ) -> None:
        """Print the search space the advisor builds for this data, with the reason for each choice."""
        from hyperselect.search import advise as run_advise
        from hyperselect.train.metrics import imbalance_hint, integer_classes_hint

        try:
            d, _ = load_data(
                data,
                target,
                read=read_options(sep, encoding, na_value, decimal, thousands, no_default_na),
                task=task,
            )
            sp = run_advise(d, arch=arch, input_shape=row_shape(d, arch, data))
            if space is not None:
                sp = sp.apply_file(space)
            sp = _apply_fixes(sp, fix)
        except HyperselectError as exc:
            raise _fail(exc) from exc
        from hyperselect.search.study import batch_size_grid

        grid = batch_size_grid(sp)
        if grid.dims.get("batch_size") != sp.dims.get("batch_size"):
            # tune searches a log-scale batch size on its powers of two: said here, where the range is shown (the
            # dimension stays an int range, which is what [narrow.batch_size] low/high edits)
            sp.reasons["batch_size"] = (
                f"{grid.reasons['batch_size']}: tune tries {grid.dims['batch_size'].describe()}"
            )
        if as_json:
            typer.echo(json.dumps(sp.to_dict(), indent=2))
            return
        info = d.describe()
        typer.echo(
            f"{info['source']}: {info['task']}, {info['n_train']} training rows, {info['n_features']} features"
        )
        scale = integer_classes_hint(d) if task is None and Path(data).exists() else None
        if scale:
            typer.echo(f"note: {scale}")
        typer.echo(sp.describe())
        hint = imbalance_hint(d)
        if hint:
            typer.echo(f"note: {hint}")

    @app.command()
    def worker(
        storage: Annotated[str, typer.Option(help="journal file path or database URL of the study")],
        study: Annotated[str, typer.Option(help="study name")],
        trials: Annotated[
            int | None, typer.Option("--trials", "-n", min=1, help="total trials (default: the study's)")
        ] = None,
        timeout: Annotated[str | None, typer.Option(help="wall-clock budget: 90s, 10m, 1h30m")] = None,
        heartbeat: Annotated[
            int | None, typer.Option(min=1, help="heartbeat seconds (database storages)")
        ] = None,
    ) -> None:
        """Work on an existing study (data and space come from the study) until its budget is finished."""
        from hyperselect.search import run_worker

        _quiet_optuna()
        try:
            stats = run_worker(
                storage,
                study,
                n_trials=trials,
                timeout=parse_duration(timeout),
                heartbeat_interval=heartbeat,
                progress=True,
            )
        except HyperselectError as exc:
            raise _fail(exc) from exc
        except KeyboardInterrupt:
            raise _interrupted(storage, study, resume_hint=False) from None
        except Exception as exc:
            raise _storage_failed(exc, storage, resume_hint=False) from exc
        if stats.asked == 0:  # every slot of the budget was finished (before it came, or by others meanwhile)
            budget = f" of {trials} trials" if trials is not None else ""
            typer.echo(
                f"worker done: study {study!r} has already finished its budget{budget}; nothing was left to run."
            )
            return
        typer.echo(
            f"worker done: {stats.batches} batches, {stats.asked - stats.surplus} trials run, "
            f"{stats.surplus} surplus, {stats.seconds:.1f} s"
        )


def main() -> None:
    """Run the search commands alone (``python -m hyperselect.cli_search``), e.g. for worker subprocesses."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, help="hyperselect search commands")
    register(app)
    app()


if __name__ == "__main__":
    main()
