"""Option callbacks shared by the command-line modules (checked while parsing, before any work starts)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from hyperselect._io import check_out_folder
from hyperselect.errors import DataError


def out_folder(value: Path | None) -> Path | None:
    """``--out``: a folder that exists or can be created; a file there is refused before the run, not after."""
    try:
        return check_out_folder(value)
    except DataError as exc:
        raise typer.BadParameter(str(exc)) from None


# ------------------------------------------------------------------ how a table file is read (train, tune, compare)
_SEP_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def _sep(value: str | None) -> str | None:
    if value is None:
        return None
    sep = _SEP_NAMES.get(value.lower(), value) if len(value) != 1 else value
    if len(sep) != 1:
        raise typer.BadParameter(
            f"{value!r} is not a delimiter; expected one character such as ';' or '|', or one of "
            f"{', '.join(k for k in _SEP_NAMES if k != chr(92) + 't')}."
        )
    return sep


def _one_char(value: str | None) -> str | None:
    if value is not None and len(value) != 1:
        raise typer.BadParameter(f"{value!r} is not a single character; expected e.g. ',' or '.'.")
    return value


#: The cell texts read as missing unless ``--no-default-na`` (any case), as help texts name them: those of
#: ``hyperselect.data.tabular.NA_TOKENS_SHOWN``, written out because importing it would load pandas for --help
#: (tests/test_readme_audit.py holds the two equal).
NA_TOKENS_TEXT = "NA, N/A, NaN, -NaN, NaT, null, none, <NA>, #N/A and ?"

#: ``--sep``, ``--encoding``, ``--na-value``, ``--decimal``, ``--thousands``: how a table file is read.
SepOption = Annotated[
    str | None,
    typer.Option(
        "--sep",
        help="The table's delimiter (default: guessed): one character, or tab, comma, semicolon, pipe, space.",
        callback=_sep,
        show_default=False,
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The table's text encoding, e.g. latin-1 (default: UTF-8, or what its byte-order mark says).",
        show_default=False,
    ),
]
NaValueOption = Annotated[
    list[str] | None,
    typer.Option(
        "--na-value",
        help=f"A cell text that means missing (repeatable), besides empty cells and {NA_TOKENS_TEXT} in any case.",
        show_default=False,
    ),
]
NoDefaultNaOption = Annotated[
    bool,
    typer.Option(
        "--no-default-na",
        help=f"Only empty cells (and --na-value texts) are missing: {NA_TOKENS_TEXT} are read as values (a class "
        "called NA, say; in a column of numbers they are refused as stray texts).",
    ),
]
DecimalOption = Annotated[
    str,
    typer.Option(
        "--decimal", help="The decimal mark of the table's numbers, e.g. , for 1,5.", callback=_one_char
    ),
]
ThousandsOption = Annotated[
    str | None,
    typer.Option(
        "--thousands",
        help="The thousands separator of the table's numbers, e.g. . with --decimal , for 1.234,5.",
        callback=_one_char,
        show_default=False,
    ),
]


TaskOption = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="binary, multiclass, multilabel or regression (default: detected from the target; an integer "
        "target with at most 20 values reads as classes: --task regression for a 0-10 rating)",
        show_default=False,
    ),
]


FixOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fix",
        help="NAME=VALUE: stop searching NAME and use VALUE (repeatable; after --space), e.g. --fix optimizer=sgd "
        "--fix lr=1e-3 --fix hidden=64,32.",
        show_default=False,
    ),
]


def parse_fixes(fixes: list[str] | None) -> dict[str, Any]:
    """``--fix NAME=VALUE`` texts as values: a TOML value where the text is one (1e-3, 64, true, [64, 32],
    "sgd"), a tuple of ints for ``64,32``, None for none/null, else the text itself (sgd, relu)."""
    import tomllib

    from hyperselect.errors import ConfigError

    out: dict[str, Any] = {}
    for item in fixes or []:
        name, eq, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not eq or not name or not raw:
            raise ConfigError(
                f"--fix {item!r}: expected NAME=VALUE, e.g. --fix optimizer=sgd or --fix lr=1e-3."
            )
        if name in out:
            raise ConfigError(f"--fix {name} is given twice ({out[name]!r} and {raw!r}); give it once.")
        value: Any
        if raw.lower() in ("none", "null"):
            value = None
        elif "," in raw and all(
            p.strip().lstrip("-").isdigit() for p in raw.strip("[]() ").split(",") if p.strip()
        ):
            value = tuple(int(p) for p in raw.strip("[]() ").split(",") if p.strip())
        else:
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
        out[name] = tuple(value) if isinstance(value, list) else value
    return out


def parse_task(task: str | None) -> Any:
    """``--task`` as a :class:`~hyperselect.tasks.Task` (None: detect it)."""
    from hyperselect.errors import ConfigError
    from hyperselect.tasks import Task

    if task is None:
        return None
    try:
        return Task(task.lower())
    except ValueError:
        raise ConfigError(
            f"The '--task' option must be one of {', '.join(repr(t.value) for t in Task)}. Got {task!r}."
        ) from None


def check_no_task(data: str, task: str | None, target: str | None = None) -> None:
    """A built-in data set has its task and its target: ``--task`` and ``--target`` are for a table's."""
    from hyperselect.errors import ConfigError

    if task is not None:
        raise ConfigError(f"--task tells how to read a table's target; {data!r} is a built-in data set.")
    if target is not None:  # it was silently ignored: the user may think another column is predicted
        raise ConfigError(
            f"--target names a table's column to predict; {data!r} is a built-in data set with its own target. "
            "Leave --target out, or give a file."
        )


def read_options(
    sep: str | None,
    encoding: str | None,
    na_values: list[str] | None,
    decimal: str,
    thousands: str | None,
    no_default_na: bool = False,
) -> dict[str, Any]:
    """The options given, as keyword arguments of ``load_table``/``prepare_tabular`` (defaults left out)."""
    out: dict[str, Any] = {}
    if no_default_na:
        out["keep_default_na"] = False
    if sep is not None:
        out["sep"] = sep
    if encoding is not None:
        out["encoding"] = encoding
    if na_values:
        out["na_values"] = list(na_values)
    if decimal != ".":
        out["decimal"] = decimal
    if thousands is not None:
        out["thousands"] = thousands
    return out


def check_no_read_options(data: str, read: dict[str, Any] | None) -> None:
    """The table-reading options mean nothing for a built-in data set: say so rather than ignore them."""
    if read:
        from hyperselect.errors import ConfigError

        given = ", ".join(
            "--no-default-na"
            if k == "keep_default_na"
            else "--" + k.replace("_values", "-value").replace("_", "-")
            for k in read
        )
        verb = "tells" if len(read) == 1 else "tell"
        raise ConfigError(
            f"{given} {verb} how to read a table file; {data!r} is a built-in data set, not a file."
        )


BUILTIN_PREFIX = "builtin:"


def builtin_name(data: str) -> str:
    """``builtin:NAME`` (compare's spelling, and what its help shows) as the bare ``NAME`` every command reads;
    anything else as given.  A file of that name wins, as for a bare name."""
    if data.startswith(BUILTIN_PREFIX) and not Path(data).exists():
        return data[len(BUILTIN_PREFIX) :]
    return data


def row_shape(d: Any, arch: str, data: str, how: str = "") -> tuple[int, ...] | None:
    """``--arch cnn`` on a table without a signal or image shape: each row as a 1-D signal of its columns, said
    in a warning (a table's columns have no order a convolution could use); ``None`` where nothing is needed.
    ``how`` names the command's own way to give a shape."""
    if arch != "cnn" or d.input_shape is not None:
        return None
    import logging

    given = f" ({how} says how to view a row)" if how else ""
    logging.getLogger("hyperselect.cli").warning(
        "--arch cnn: %s has no signal or image shape, so each row is read as a 1-D signal of its %d columns in "
        "order; a convolution only helps where neighbouring columns are related%s. For an ordinary table use "
        "--arch mlp.",
        data,
        d.n_features,
        given,
    )
    return (1, int(d.n_features))


def check_table_source(data: str, target: str | None, builtins: Iterable[str], spelled: str = "NAME") -> None:
    """A DATA argument that is not a built-in name must be a file, and a file needs ``--target``.

    ``spelled`` shows how a built-in name is written in this command (``NAME`` or ``builtin:NAME``).
    """
    from hyperselect.errors import DataError

    names = ", ".join(spelled.replace("NAME", b) for b in builtins)
    if not Path(data).exists():
        import difflib

        close = difflib.get_close_matches(data, list(builtins), n=1)
        hint = f" Did you mean {spelled.replace('NAME', close[0])!r}?" if close else ""
        raise DataError(f"'{data}' is neither a file nor a built-in data set ({names}).{hint}")
    if target is None:
        raise DataError(
            f"'{data}': --target COLUMN is needed to say which column to predict (or name a built-in data set: "
            f"{names})."
        )
