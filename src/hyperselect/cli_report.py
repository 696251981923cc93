"""``hyperselect report RUN_DIR``: (re)build the run's self-contained HTML page from its JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from hyperselect.errors import HyperselectError


class Projection(StrEnum):
    pca = "pca"
    tsne = "tsne"


def report_after(out: Path | None) -> None:
    """At the end of a command that wrote its results to ``out``: draw ``out/report.html`` from them and say
    where.  A page that cannot be drawn costs a warning, never the results (they are written already)."""
    if out is None:
        return
    from hyperselect.report import try_build_report

    path = try_build_report(out)
    if path is not None:
        typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        run_dir: Path = typer.Argument(
            ..., help="A run directory written by train, tune, compare, text or graph."
        ),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Where to write the page (default RUN_DIR/report.html)."
        ),
        projection: Projection = typer.Option(
            Projection.pca, "--projection", help="How embeddings are reduced to 2-D for the scatter plot."
        ),
        strict: bool = typer.Option(
            False,
            "--strict",
            help="Fail on a file that cannot be read (invalid JSON) or a section whose JSON is malformed, "
            "instead of showing a notice in its place.",
        ),
    ) -> None:
        """Build RUN_DIR/report.html (no network needed to view it) and print its path."""
        from hyperselect.report import build_report

        try:
            path = build_report(run_dir, out=out, projection=projection.value, strict=strict)
        except (HyperselectError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except (TypeError, ValueError, KeyError) as exc:  # only with --strict: a producer's malformed JSON
            typer.echo(
                f"error: {run_dir}: the run's JSON could not be drawn: {type(exc).__name__}: {exc}", err=True
            )
            raise typer.Exit(1) from None
        typer.echo(str(path))
