"""Option callbacks shared by the command-line modules (checked while parsing, before any work starts)."""

from __future__ import annotations

from pathlib import Path

import typer

from hyperselect._io import check_out_folder
from hyperselect.errors import DataError


def out_folder(value: Path | None) -> Path | None:
    """``--out``: a folder that exists or can be created; a file there is refused before the run, not after."""
    try:
        return check_out_folder(value)
    except DataError as exc:
        raise typer.BadParameter(str(exc)) from None
