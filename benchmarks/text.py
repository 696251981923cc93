"""Text classification benchmark (issue 7): Naive Bayes and TF-IDF baselines vs MiniLM embeddings + tuned networks.

    .venv/bin/python benchmarks/text.py --json benchmarks/results/text.json
    .venv/bin/python benchmarks/text.py --quick --json benchmarks/results/text_quick.json

* wine: the Wine Reviews slice in ../shared/data/text/wine, top-10 countries, duplicate descriptions dropped,
  a balanced test set of 50 rows per country, ``--splits`` random splits (mean and std reported);
* 20 Newsgroups: the standard by-date split (the file's ``split`` column: 11,314 ``20news-bydate-train`` and
  7,532 ``20news-bydate-test`` posts), in full unless ``--ng-train``/``--ng-test`` ask for a seeded subsample;
  posts are embedded from their first 128 word pieces (headers included), ~25 minutes on a busy 2-core CPU the
  first time, seconds from the cache after.  Besides the models run on wine, ``wide_net``: a tuned network on
  the 16k most class-dependent TF-IDF word columns and the embeddings.  TF-IDF + LR chooses C on the
  validation rows from ``--ng-Cs``.  ``same_features_lr`` is the like-for-like classic: logistic regression
  on exactly ``wide_net``'s input matrix (same columns, same scaling, fitted on train, C chosen on the
  validation rows from ``--ng-same-Cs``, refit on train+valid); ``verdict_same_features`` compares the two
  on the same test rows (McNemar).  It is reported next to the other models but is not one of the library's
  ``CLASSIC`` keys, so ``verdict`` and ``newsgroups_best_classic`` keep their earlier meaning;
* BBC News: one stratified 80/20 split, embedded from the first 128 word pieces;
* encoding throughput, texts/second: ours (ONNX Runtime where installed, token-sorted token-budget batches)
  vs plain ``SentenceTransformer.encode`` on the same texts in the same run, cache off, runs interleaved
  (alternating which goes first), medians of ``enc_reps`` runs, max abs difference of the vectors.

Embeddings go through the on-disk cache (``--cache-dir``, default ~/.cache/hyperselect): a rerun only pays for
the models.  The JSON is rewritten (atomically) after each data set, so a stopped run keeps what it finished.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hyperselect._io import atomic_write_json
from hyperselect.data.text import TextData, TextSplit, load_text, split_text
from hyperselect.evaluate.text import (
    ALPHA,
    CLASSIC,
    DEFAULT_MODELS,
    NETWORKS,
    ModelReport,
    TextResult,
    evaluate_text,
    model_report,
    paired_outcome,
)
from hyperselect.represent.text import SentenceEncoder

logger = logging.getLogger("benchmarks.text")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"
WINE = DATA / "wine" / "winemag-data-130k-v2_rows0-10000.csv.gz"
NEWS = DATA / "20newsgroups" / "20news_bydate.csv.gz"
BBC = DATA / "bbc" / "bbc_news.csv.gz"
#: logistic regression on exactly wide_net's input matrix: the classic baseline given the network's features
SAME_FEATURES = "same_features_lr"
SAME_FEATURES_NAME = "TF-IDF (chi2-selected columns) + MiniLM + logistic regression (wide_net's exact inputs)"


def _per_model(results: list[TextResult]) -> dict[str, Any]:
    keys = list(results[0].models)
    out: dict[str, Any] = {}
    for k in keys:
        acc = [r.models[k].accuracy for r in results if k in r.models]
        f1 = [r.models[k].macro_f1 for r in results if k in r.models]
        out[k] = {
            "name": results[0].models[k].name,
            "accuracy_mean": float(np.mean(acc)),
            "accuracy_std": float(np.std(acc)),
            "macro_f1_mean": float(np.mean(f1)),
            "macro_f1_std": float(np.std(f1)),
            "accuracy": acc,
            "macro_f1": f1,
            "seconds_mean": float(np.mean([r.models[k].seconds for r in results if k in r.models])),
            "details": [r.models[k].details for r in results if k in r.models],
        }
    return out


def _best(models: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, float]:
    present = [(k, models[k]["accuracy_mean"]) for k in keys if k in models]
    if not present:
        return None, float("nan")
    return max(present, key=lambda kv: kv[1])


def _encoder(args: argparse.Namespace, max_seq_length: int | None) -> SentenceEncoder:
    return SentenceEncoder(
        max_seq_length=max_seq_length,
        cache_dir=args.cache_dir,
        progress=sys.stderr.isatty(),
        backend=args.backend,
    )


def run_wine(args: argparse.Namespace) -> dict[str, Any]:
    data = load_text(WINE, "description", "country", top_classes=10)
    enc = _encoder(args, None)
    t0 = time.perf_counter()
    E = enc.encode(data.texts)
    enc_info = {**enc.last_stats_, "model": enc.model_id_, "seconds_with_cache": time.perf_counter() - t0}
    results: list[TextResult] = []
    section: dict[str, Any] = {}
    for s in range(args.splits):
        split = split_text(data, test_per_class=50, valid_size=0.1, random_state=s)
        res = evaluate_text(
            data,
            split,
            models=(*DEFAULT_MODELS, "wide_net"),
            embeddings=E,
            n_trials=args.trials,
            timeout=args.timeout,
            random_state=s,
            n_errors=5,
            tune_options=_tune_options(args),
            target_prior="uniform",
            tfidf_Cs=(10.0,),
        )
        logger.info("wine split %d: %s", s, {k: round(r.accuracy, 3) for k, r in res.models.items()})
        results.append(res)
        section = {
            "data": data.describe(),
            "split": results[0].split,
            "n_splits": len(results),
            "models": _per_model(results),
            "verdicts": [r.verdict for r in results],
            "encoding": enc_info,
            "notes": results[0].notes,
            "example_report": results[0].to_dict()["models"],
        }
        if args.on_partial is not None:
            args.on_partial("wine", section)  # a stopped run keeps the splits it finished
    return section


def _news_subsample(data: TextData, n_train: int | None, n_test: int | None) -> tuple[list[int], np.ndarray]:
    """The by-date split, or a seeded random subsample of each side (the prefix of a fixed permutation, so a
    larger run reuses a smaller run's cached embeddings); ``None`` keeps a side whole."""
    assert data.extra is not None
    side = data.extra["split"].to_numpy()
    rng = np.random.default_rng(0)
    tr = rng.permutation(np.flatnonzero(side == "20news-bydate-train"))[:n_train]
    te = rng.permutation(np.flatnonzero(side == "20news-bydate-test"))[:n_test]
    if n_train is None and n_test is None:
        tr, te = np.sort(tr), np.sort(te)
    idx = np.concatenate([tr, te])
    is_test = np.zeros(len(idx), dtype=bool)
    is_test[len(tr) :] = True
    return idx.tolist(), is_test


def _same_features_lr(
    data: TextData,
    split: TextSplit,
    embeddings: np.ndarray,
    Cs: list[float],
    *,
    random_state: int,
    n_errors: int,
) -> ModelReport:
    """Logistic regression on the very matrix ``wide_net`` is fitted on, built as ``evaluate_text`` builds it.

    ``evaluate_text`` keeps that matrix to itself, so it is rebuilt here from the same pieces: the TF-IDF
    word block fitted on the training rows (``make_tfidf``'s union fits its word and character parts
    independently, so fitting the word part alone gives the same columns it slices, checked equal on a
    subsample), the same chi-squared selection of ``wide_columns`` columns, each block scaled by the square
    root of its width.  C is chosen on validation accuracy; the winner is refit on train+valid with the
    features still fitted on train, as the network's refit is.  The grid is centred on ``tfidf_lr``'s usual
    choice: C = 30 on unit-length rows is about 30 / 128**2 = 1.8e-3 once the TF-IDF block is scaled by
    sqrt(16384) = 128.  sklearn's default tolerance (not ``tfidf_lr``'s 1e-3, which stops lbfgs after ~20
    iterations on this matrix) and the iteration counts are recorded, so a non-converged fit would show.
    """
    import warnings

    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from hyperselect.evaluate.text import _selected_tfidf
    from hyperselect.represent.text import make_tfidf

    t0 = time.perf_counter()
    y = data.y
    tr, va, te = split.train, split.valid, split.test
    T = lambda idx: [data.texts[i] for i in idx]  # noqa: E731
    wide_columns = inspect.signature(evaluate_text).parameters["wide_columns"].default
    vec = make_tfidf(char_ngrams=None)
    Xtr = vec.fit_transform(T(tr))
    Wtr, Wva, Wte = _selected_tfidf(Xtr, y[tr], vec.transform(T(va)), vec.transform(T(te)), wide_columns)
    E = np.asarray(embeddings, dtype=np.float32)
    a, b = math.sqrt(Wtr.shape[1]), math.sqrt(E.shape[1])
    Ftr, Fva, Fte = (
        sp.hstack([a * sp.csr_matrix(W), sp.csr_matrix(b * E[idx])], format="csr")
        for W, idx in ((Wtr, tr), (Wva, va), (Wte, te))
    )
    max_iter = 1000

    def fit(C: float, X: Any, yy: np.ndarray) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence is recorded below instead
            return LogisticRegression(C=C, max_iter=max_iter, random_state=random_state).fit(X, yy)

    valid_accuracy: dict[str, float] = {}
    n_iter: dict[str, int] = {}
    for C in Cs:
        m = fit(C, Ftr, y[tr])
        valid_accuracy[str(C)] = float(np.mean(m.predict(Fva) == y[va]))
        n_iter[str(C)] = int(m.n_iter_[0])
        logger.info("same-features LR C=%g: valid accuracy %.4f", C, valid_accuracy[str(C)])
    best = max(Cs, key=lambda c: (valid_accuracy[str(c)], -Cs.index(c)))  # ties: the first (smallest) C
    clf = fit(best, sp.vstack([Ftr, Fva], format="csr"), np.concatenate([y[tr], y[va]]))
    details = {
        "C": best,
        "valid_accuracy": valid_accuracy,
        "n_iter": n_iter,
        "refit_n_iter": int(clf.n_iter_[0]),
        "max_iter": max_iter,
        "converged": all(n < max_iter for n in [*n_iter.values(), int(clf.n_iter_[0])]),
        "tfidf_columns": int(Wtr.shape[1]),
        "embedding_dims": int(E.shape[1]),
        "n_features": int(Ftr.shape[1]),
        "block_scales": {"tfidf": a, "embeddings": b},
        "features": "wide_net's: chi2-selected TF-IDF word columns (fitted on train) + MiniLM, same scaling",
    }
    report = model_report(
        SAME_FEATURES,
        clf.predict_proba(Fte),
        y[te],
        data.classes,
        T(te),
        seconds=time.perf_counter() - t0,
        details=details,
        n_errors=n_errors,
    )
    report.name = SAME_FEATURES_NAME
    return report


def _same_features_verdict(res: TextResult, y_test: np.ndarray) -> dict[str, Any]:
    """``wide_net`` against logistic regression on its own inputs, McNemar on the same test rows."""
    net, lr = res.models.get("wide_net"), res.models.get(SAME_FEATURES)
    if net is None or lr is None or net.predictions is None or lr.predictions is None:
        return {"verdict": "No verdict: it needs wide_net and same_features_lr."}
    p, diff, winner = paired_outcome(net, lr, y_test)
    head, outcome = {
        "first": ("The network still wins with the same features", "network"),
        "second": ("Logistic regression wins with the same features", "baseline"),
        "neither": ("No significant difference with the same features", "no_significant_difference"),
    }[winner]
    return {
        "verdict": (
            f"{head}: wide_net {net.accuracy:.3f} vs logistic regression on its inputs {lr.accuracy:.3f} "
            f"accuracy ({diff:+.3f}; macro-F1 {net.macro_f1:.3f} vs {lr.macro_f1:.3f}; McNemar p={p:.3g}, "
            f"n={len(y_test)})."
        ),
        "recommendation": outcome,
        "network": "wide_net",
        "classic": SAME_FEATURES,
        "accuracy_difference": diff,
        "mcnemar_p": p,
        "alpha": ALPHA,
        "n_test": len(y_test),
    }


def run_news(args: argparse.Namespace) -> dict[str, Any]:
    full = load_text(NEWS, "text", "label", keep_columns=["split"])
    idx, is_test = _news_subsample(full, args.ng_train, args.ng_test)
    whole = args.ng_train is None and args.ng_test is None
    what = "the by-date split" if whole else f"subsample {args.ng_train} train / {args.ng_test} test"
    data = TextData(
        texts=[full.texts[i] for i in idx],
        labels=full.labels[idx],
        classes=full.classes,
        source=f"{full.source} ({what}: {int((~is_test).sum())} train / {int(is_test.sum())} test)",
        text_column="text",
        label_column="label",
        n_read=full.n_read,
        n_duplicates=full.n_duplicates,
        notes=full.notes,
    )
    enc = _encoder(args, 128)
    t0 = time.perf_counter()
    E = enc.encode(data.texts)
    enc_info = {
        **enc.last_stats_,
        "model": enc.model_id_,
        "max_seq_length": 128,
        "seconds_with_cache": time.perf_counter() - t0,
    }
    split = split_text(data, test_mask=is_test, valid_size=0.1, random_state=0)
    res = evaluate_text(
        data,
        split,
        models=(*DEFAULT_MODELS, "wide_net"),
        embeddings=E,
        n_trials=args.trials,
        timeout=args.ng_timeout,
        random_state=0,
        n_errors=5,
        tune_options={"max_epochs": args.ng_max_epochs, "min_epochs": 2},
        tfidf_Cs=tuple(args.ng_Cs),
    )
    logger.info("fitting %s", SAME_FEATURES_NAME)
    res.models[SAME_FEATURES] = _same_features_lr(
        data, split, E, list(args.ng_same_Cs), random_state=0, n_errors=5
    )
    logger.info("%s: accuracy %.3f", SAME_FEATURES_NAME, res.models[SAME_FEATURES].accuracy)
    return {
        "data": data.describe(),
        "split": res.split,
        "models": _per_model([res]),
        "verdict": res.verdict,
        "verdict_details": res.verdict_details,
        "verdict_same_features": _same_features_verdict(res, data.y[split.test]),
        "encoding": enc_info,
        "tune_options": {
            "n_trials": args.trials,
            "timeout": args.ng_timeout,
            "max_epochs": args.ng_max_epochs,
        },
        "example_report": res.to_dict()["models"],
    }


def run_bbc(args: argparse.Namespace) -> dict[str, Any]:
    data = load_text(BBC, "text", "label")
    enc = _encoder(args, 128)
    E = enc.encode(data.texts)
    split = split_text(data, test_size=0.2, valid_size=0.1, random_state=0)
    res = evaluate_text(
        data,
        split,
        embeddings=E,
        n_trials=args.trials,
        timeout=args.timeout,
        random_state=0,
        n_errors=5,
        tune_options=_tune_options(args),
        tfidf_Cs=(10.0,),
    )
    return {
        "data": data.describe(),
        "split": res.split,
        "models": _per_model([res]),
        "verdict": res.verdict,
        "encoding": {**enc.last_stats_, "model": enc.model_id_, "max_seq_length": 128},
    }


def run_encoding(args: argparse.Namespace) -> dict[str, Any]:
    """Throughput, ours vs plain ``encode``: same texts, cache off, alternating runs, medians reported.

    The order alternates (plain first, then ours first) so that a load change on the shared CPU does not
    always hit the same side; the load average is recorded before and after.
    """
    wine = load_text(WINE, "description", "country", top_classes=10)
    news = load_text(NEWS, "text", "label")
    rng = np.random.default_rng(123)
    out: dict[str, Any] = {"load_average_before": os.getloadavg()}
    total_plain = total_ours = 0.0
    for name, texts, msl in (
        ("wine", [wine.texts[i] for i in rng.choice(len(wine), args.enc_wine, replace=False)], None),
        ("newsgroups", [news.texts[i] for i in rng.choice(len(news), args.enc_news, replace=False)], 128),
    ):
        enc = SentenceEncoder(
            max_seq_length=msl,
            use_cache=False,
            progress=False,
            cache_dir=args.cache_dir,
            backend=args.backend,
        )
        enc.encode_plain(texts[:8])
        enc.encode(texts[:8])  # warm both paths: first calls pay for allocation (and the ONNX session)
        plain: list[float] = []
        ours: list[float] = []
        diff = 0.0
        for rep in range(args.enc_reps):
            for side in ("plain", "ours") if rep % 2 == 0 else ("ours", "plain"):
                t = time.perf_counter()
                if side == "plain":
                    ref = enc.encode_plain(texts)
                    plain.append(time.perf_counter() - t)
                else:
                    mine = enc.encode(texts)
                    ours.append(time.perf_counter() - t)
            diff = max(diff, float(np.abs(mine - ref).max()))
        tp, to = float(np.median(plain)), float(np.median(ours))
        total_plain += tp
        total_ours += to
        out[name] = {
            "n_texts": len(texts),
            "max_seq_length": enc.model.max_seq_length,
            "backend": enc.backend_,
            "plain_texts_per_second": len(texts) / tp,
            "ours_texts_per_second": len(texts) / to,
            "speedup": tp / to,
            "max_abs_diff": diff,
            "plain_seconds": plain,
            "ours_seconds": ours,
        }
        logger.info("encoding %s: %s", name, out[name])
    out["speedup"] = total_plain / total_ours
    out["load_average_after"] = os.getloadavg()
    return out


def _tune_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_epochs": args.max_epochs} if args.max_epochs else {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 wine split, small subsamples, short searches")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--splits", type=int)
    ap.add_argument("--trials", type=int)
    ap.add_argument("--timeout", type=float, help="seconds per network search")
    ap.add_argument("--max-epochs", type=int)
    ap.add_argument("--ng-train", type=int, help="subsample the by-date train side (default: all of it)")
    ap.add_argument("--ng-test", type=int, help="subsample the by-date test side (default: all of it)")
    ap.add_argument("--ng-timeout", type=float, help="seconds per network search on newsgroups")
    ap.add_argument("--ng-max-epochs", type=int, help="epoch cap of the newsgroups searches")
    ap.add_argument("--ng-Cs", type=float, nargs="+", default=[3.0, 10.0, 30.0], help="TF-IDF + LR's C grid")
    ap.add_argument(
        "--ng-same-Cs",
        type=float,
        nargs="+",
        default=[3e-4, 1e-3, 3e-3, 1e-2],
        help="C grid of logistic regression on wide_net's exact inputs (same_features_lr)",
    )
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument(
        "--backend", choices=("auto", "onnx", "torch"), default="auto", help="our encoder's backend"
    )
    ap.add_argument("--only", nargs="*", default=["encoding", "wine", "newsgroups", "bbc"])
    ap.set_defaults(on_partial=None)
    ap.add_argument("--merge", action="store_true", help="keep the other sections of an existing --json file")
    ap.add_argument(
        "--merge-from",
        type=Path,
        nargs="*",
        default=[],
        help="only combine: take the sections of these JSON files (runs made in parallel) into --json",
    )
    args = ap.parse_args(argv)
    q = args.quick
    defaults = {
        "splits": 1 if q else 5,
        "trials": 9,
        "timeout": 30.0 if q else 60.0,
        "max_epochs": 10 if q else 20,
        "ng_timeout": 60.0 if q else 600.0,
        "ng_max_epochs": 4 if q else 8,
    }
    if q:
        args.ng_train = args.ng_train or 1000
        args.ng_test = args.ng_test or 500
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.enc_wine, args.enc_news, args.enc_reps = (64, 32, 2) if q else (192, 96, 5)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not DATA.is_dir():  # a skip with its reason, as fcnet.py's (make bench goes on)
        reason = f"data folder {DATA} not found (see ../shared/data/README.md)"
        atomic_write_json(args.json, {"benchmark": "text", "skipped": reason})
        print(f"text skipped: {reason}", file=sys.stderr)
        return 0
    import torch

    out: dict[str, Any] = {
        "command": " ".join(["benchmarks/text.py", *(argv if argv is not None else sys.argv[1:])]),
        "config": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "on_partial"
        },
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "note": "shared 2-core machine: other jobs ran concurrently, timings are noisy",
        },
    }
    if args.merge and args.json.exists():
        import json

        old = json.loads(args.json.read_text())
        out = {**{k: v for k, v in old.items() if k not in out}, **out}
        out["merged_sections_from_earlier_run"] = [
            k for k in old if k in ("encoding", "wine", "newsgroups", "bbc") and k not in args.only
        ]
    if args.merge_from:
        import json

        for src in args.merge_from:
            other = json.loads(src.read_text())
            for k in ("encoding", "wine", "newsgroups", "bbc"):
                if k in other:
                    out[k] = other[k]
                    out.setdefault("sections_from", {})[k] = {
                        "file": str(src),
                        "command": other.get("command"),
                        "config": other.get("config"),
                    }
        out["summary"] = _summary(out)
        atomic_write_json(args.json, out)
        print(out["summary"])
        return 0
    t0 = time.perf_counter()
    runners = {"encoding": run_encoding, "wine": run_wine, "newsgroups": run_news, "bbc": run_bbc}

    def on_partial(name: str, section: dict[str, Any]) -> None:
        out[name] = section
        out["summary"] = _summary(out)
        atomic_write_json(args.json, out)

    args.on_partial = on_partial
    for name in args.only:
        logger.info("running %s", name)
        t = time.perf_counter()
        out[name] = runners[name](args)
        out[name]["seconds"] = time.perf_counter() - t
        out["summary"] = _summary(out)
        out["seconds"] = time.perf_counter() - t0
        atomic_write_json(args.json, out)
    print(out["summary"])
    return 0


def _summary(out: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    if "wine" in out:
        key, acc = _best(out["wine"]["models"], NETWORKS)
        s["wine_accuracy"] = acc
        s["wine_best_model"] = key
        s["wine_nb_accuracy"] = out["wine"]["models"].get("nb", {}).get("accuracy_mean")
        s["wine_tfidf_lr_accuracy"] = out["wine"]["models"].get("tfidf_lr", {}).get("accuracy_mean")
        s["wine_emb_lr_accuracy"] = out["wine"]["models"].get("emb_lr", {}).get("accuracy_mean")
    if "newsgroups" in out:
        key, acc = _best(out["newsgroups"]["models"], NETWORKS)
        ckey, cacc = _best(out["newsgroups"]["models"], CLASSIC)
        s.update(
            newsgroups_accuracy=acc,
            newsgroups_best_model=key,
            newsgroups_best_classic=cacc,
            newsgroups_best_classic_model=ckey,
        )
        # the like-for-like check: does the network still win when a classic model gets its features?
        if SAME_FEATURES in out["newsgroups"]["models"]:
            akey, aacc = _best(out["newsgroups"]["models"], (*CLASSIC, SAME_FEATURES))
            same = out["newsgroups"].get("verdict_same_features", {})
            s.update(
                newsgroups_same_features_lr_accuracy=out["newsgroups"]["models"][SAME_FEATURES][
                    "accuracy_mean"
                ],
                newsgroups_best_classic_incl_same_features=aacc,
                newsgroups_best_classic_incl_same_features_model=akey,
                newsgroups_network_beats_same_features_classic=acc > aacc,
                newsgroups_wide_net_vs_same_features_mcnemar_p=same.get("mcnemar_p"),
                newsgroups_same_features_verdict=same.get("verdict"),
            )
    if "bbc" in out:
        s["bbc_accuracy"] = _best(out["bbc"]["models"], NETWORKS)[1]
        s["bbc_best_classic"] = _best(out["bbc"]["models"], CLASSIC)[1]
    if "encoding" in out:
        s["encode_speedup"] = out["encoding"]["speedup"]
    s["targets"] = {
        "wine_accuracy>=0.70": s.get("wine_accuracy", 0) >= 0.70 if "wine_accuracy" in s else None,
        "newsgroups_accuracy>newsgroups_best_classic": (
            s["newsgroups_accuracy"] > s["newsgroups_best_classic"] if "newsgroups_accuracy" in s else None
        ),
        "encode_speedup>=1.5": s["encode_speedup"] >= 1.5 if "encode_speedup" in s else None,
    }
    return s


if __name__ == "__main__":
    raise SystemExit(main())
