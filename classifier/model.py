"""The trained category model: pickle-free files on disk, prediction with numpy and scipy.sparse."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import MAX_BATCH, FeatureIndex, tfidf_values
from classifier.knn import KnnIndex, KnnMatrix, KnnPostings
from classifier.tokenize import tokenize, tokenizer_files

log = logging.getLogger(__name__)

FORMAT = "hotline-category-model/2"
# Format 1 is format 2 without the nearest-ticket part; both load.
READABLE_FORMATS = ("hotline-category-model/1", FORMAT)
KNN_ARRAYS = ("knn_counts", "knn_docs", "knn_tf", "knn_norms", "knn_doc_class", "knn_weight")
META_FILE = "model.json"
_FIRST = np.zeros(1, dtype=np.intp)  # reduceat's indices for one ticket: one segment
VOCAB_FILE = "vocab.json"
WEIGHTS_FILE = "weights.npz"


class ModelFileError(Exception):
    """A model directory that is missing, incomplete or of an unknown format."""


@dataclass(frozen=True)
class Prediction:
    """A proposed category with its calibrated probability, the top 3 and the tokens seen."""

    category: str
    probability: float
    top3: list[tuple[str, float]]
    tokens: list[str]


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file, or None when it does not exist."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def tokenizer_fingerprint() -> dict[str, str | None]:
    """Hashes of the stop-word list and user dictionary the tokeniser uses now."""
    files = tokenizer_files()
    return {
        "stopwords_sha256": file_sha256(files.stopwords),
        "userdict_sha256": file_sha256(files.userdict),
    }


@dataclass
class CategoryModel:
    """Word + char n-gram TF-IDF scored by a linear part plus, optionally, nearest tickets.

    scores = coef · x + intercept [+ knn.weight · top-k class similarity sums], and the
    probabilities are softmax(scores / temperature).
    """

    labels: list[str]
    word_vocab: list[str]
    word_idf: np.ndarray
    char_vocab: list[str]
    char_idf: np.ndarray
    coef: np.ndarray  # (n_classes, n_features), word block first, then char block
    intercept: np.ndarray  # (n_classes,)
    temperature: float = 1.0
    char_range: tuple[int, int] = (1, 3)
    knn: KnnIndex | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source_dir: str | None = field(default=None, repr=False)  # set by load_model

    def __post_init__(self) -> None:
        # Held at the float32 precision the files store, so a freshly trained model predicts
        # exactly what it will after save + load (and what predict_batch's workers compute).
        self.word_idf = np.asarray(self.word_idf, dtype=np.float32).astype(np.float64)
        self.char_idf = np.asarray(self.char_idf, dtype=np.float32).astype(np.float64)
        self.intercept = np.asarray(self.intercept, dtype=np.float32).astype(np.float64)
        self.coef = np.asarray(self.coef, dtype=np.float32)
        n_feat = len(self.word_vocab) + len(self.char_vocab)
        if self.coef.shape != (len(self.labels), n_feat):
            raise ModelFileError(
                f"系数矩阵形状 {self.coef.shape} 与词表 ({len(self.labels)}, {n_feat}) 不符"
            )
        self._index = FeatureIndex(self.word_vocab, self.char_vocab, self.char_range)
        # Per-feature arrays in the index's slot order (see FeatureIndex.order): one row per
        # feature, [idf, coef of each class], float64 (the per-ticket reference path).
        order = self._index.order
        rows = np.empty((len(order), 1 + len(self.labels)), dtype=np.float64)
        rows[:, 0] = np.concatenate([self.word_idf, self.char_idf])[order]
        rows[:, 1:] = self.coef.T[order]
        self._slot_rows = rows
        self._slot_word = order < len(self.word_vocab)
        # The same rows in float32 for serving (decision_batch): every value came from
        # float32 files (or was rounded to float32 above), so widening a gathered row gives
        # exactly the float64 row, and a batch gathers half the memory. Each row also holds
        # its block (0: word n-gram, 1: char n-gram) and its row of the kNN posting matrix
        # (-1: none), small integers that float32 holds exactly: one gathered row brings all
        # a feature needs.
        self._slot_table = np.empty((len(order), rows.shape[1] + 2), dtype=np.float32)
        self._slot_table[:, : rows.shape[1]] = rows
        self._slot_table[:, -2] = ~self._slot_word
        # Serving runs the kNN part through KnnMatrix. The numpy postings (KnnPostings, the
        # reference) are built only when asked for: they would be a second in-memory copy of
        # the largest part of the model.
        self._knn_np: KnnPostings | None = None
        self._knn_matrix: KnnMatrix | None = None
        self._slot_table[:, -1] = -1
        if self.knn is not None:
            km = KnnMatrix(self._knn_postings(self.knn, n_feat))
            if int(km.slot_row.max(initial=0)) >= 2**24:  # beyond float32's exact integers
                raise ModelFileError("kNN 倒排表的特征行数过多（超过 2^24）")
            self._slot_table[:, -1] = km.slot_row
            self._knn_matrix = km
        if self._index.numeric:
            self._colocate_keys()
        self._pool: Any = None
        self._pool_workers = 0
        self._tmpdir: Any = None

    def _colocate_keys(self) -> None:
        """Store each vocabulary key beside its feature's row, one 64-byte record per feature.

        A look-up reads the key to confirm a hit; the row (idf, coefficients) is read next. In
        one record they share a cache line, so a ticket's ~700 known n-grams cost one memory
        fetch each instead of two (the tables, ~20 MB, do not stay in the CPU cache between
        tickets when other work runs).
        """
        width = self._slot_table.shape[1]
        pad = -(8 + 4 * width) % 64
        fields: list[tuple[Any, ...]] = [("key", "<u8"), ("row", "<f4", (width,))]
        if pad:
            fields.append(("pad", f"V{pad}"))
        dtype = np.dtype(fields)
        # Aligned to 64 bytes, so each record is one cache line: numpy aligns its buffers to
        # 16 bytes only, and a record across two lines costs two memory fetches.
        raw = np.zeros(len(self._slot_table) * dtype.itemsize + 64, dtype=np.uint8)
        skip = -raw.ctypes.data % 64
        records = raw[skip : skip + len(self._slot_table) * dtype.itemsize].view(dtype)
        records["key"] = self._index.keys
        records["row"] = self._slot_table
        # Both become strided views of the records: same values, new layout.
        self._index.keys = records["key"]
        self._slot_table = records["row"]
        self._records = records

    def _knn_postings(self, knn: KnnIndex, n_feat: int) -> KnnPostings:
        n_classes = len(self.labels)
        if knn.weight.shape != (n_classes, n_classes * len(knn.ks)):
            raise ModelFileError(f"kNN 权重形状 {knn.weight.shape} 与类别数 {n_classes} 不符")
        if knn.doc_class.size and int(knn.doc_class.max()) >= n_classes:
            raise ModelFileError("kNN 训练工单的类别超出标签范围")
        if len(knn.counts) != n_feat:
            raise ModelFileError(f"kNN 倒排表有 {len(knn.counts)} 列，词表有 {n_feat} 列")
        idf = np.concatenate([self.word_idf, self.char_idf])
        return KnnPostings.from_columns(
            knn.counts,
            knn.docs,
            knn.values(idf, len(self.word_vocab)),
            knn.doc_class,
            n_classes,
            knn.ks,
            self._index.order,
        )

    # -- prediction ---------------------------------------------------------------------

    def features(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF row of tokens: distinct column ids and values, as sklearn computes it."""
        slots, vals = self._slot_features(tokens)
        return self._index.order[slots], vals

    def _slot_features(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        slots, counts = self._index.counts(tokens)
        idf = self._slot_rows[slots, 0]
        return slots, tfidf_values(counts, idf, self._slot_word[slots])

    def decision_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        """Scores (one per label, before the softmax) for already tokenised text."""
        return self.decision_batch([tokens])[0]

    def decision_batch(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores (tickets × labels) of many tokenised texts, computed together.

        Each ticket's distinct n-gram keys are looked up (one hash-bucket probe each; common
        n-grams of the batch find their records in the CPU cache) and their rows (idf,
        coefficients) gathered in one pass for the whole batch. The linear part is each
        ticket's TF-IDF values times its features' coefficient rows; the kNN part a pass over
        each ticket's postings and a batched top-k (classifier.knn.KnnMatrix).
        """
        n = len(token_lists)
        if not self._index.numeric:  # the dict fallback: one ticket at a time
            return np.array([self.decision_tokens_numpy(t) for t in token_lists]).reshape(
                n, len(self.labels)
            )
        if n > MAX_BATCH:
            return np.concatenate(
                [
                    self.decision_batch(token_lists[i : i + MAX_BATCH])
                    for i in range(0, n, MAX_BATCH)
                ]
            )
        # One pass of a few dozen numpy calls for the whole batch (each call costs
        # microseconds when the caches are cold, as they are between two tickets in a
        # server): every ticket's distinct n-gram keys, by ticket.
        ticket, keys, counts = self._index.batch_keys(token_lists)
        slots = self._index.lookup(keys)
        known = slots >= 0
        # idf, coefficients, block, kNN row: whole 64-byte records taken (ndarray.take copies
        # each as one block) and the rows viewed in them, 2× faster than indexing the strided
        # rows, or the records, with [] (numpy's general fancy-indexing path).
        table = self._records.take(slots[known])["row"]
        # tfidf_values per ticket: sublinear tf × idf (float32 idf widened exactly), then
        # l2-normalised per ticket and block: group = 2 · ticket + (char block).
        vals = np.log(counts[known])
        vals += 1.0
        vals *= table[:, 0]
        group = table[:, -2].astype(np.intp)  # the block
        km = self._knn_matrix
        if n > 1 or km is not None:
            ticket = ticket[known]
            group += 2 * ticket
        # bincount adds each group's terms in order, whatever else is in the batch
        norms = np.sqrt(np.bincount(group, weights=vals * vals, minlength=2 * n))
        vals /= norms[group]  # every present feature has a value > 0
        # Linear part: each ticket's terms added in its own order (reduceat runs through each
        # segment from its start), so predict_batch gives exactly what predict gives. A scipy
        # sparse product computes the same sums but costs more in set-up than in arithmetic.
        contrib = vals[:, None] * table[:, 1:-2]
        if n == 1:  # predict: one segment, the same sums as that ticket's in a batch
            if vals.size:
                scores = np.add.reduceat(contrib, _FIRST, axis=0)
            else:
                scores = np.zeros((1, len(self.labels)))
        else:
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(ticket, minlength=n), out=indptr[1:])
            scores = np.zeros((n, len(self.labels)))
            filled = np.flatnonzero(indptr[1:] > indptr[:-1])
            if filled.size:
                scores[filled] = np.add.reduceat(contrib, indptr[filled], axis=0)
        scores += self.intercept
        if km is not None and self.knn is not None:
            krows = table[:, -1].astype(np.int64)
            kin = krows >= 0
            kptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(ticket[kin], minlength=n), out=kptr[1:])
            sums = km.sums(krows[kin], vals[kin], kptr)
            # Row by row, not a matrix product: BLAS may add in another order for a batch
            # than for one ticket, and predict_batch must give what predict gives.
            scores += (sums[:, None, :] * self.knn.weight[None, :, :]).sum(axis=2)
        return scores

    def decision_tokens_numpy(self, tokens: Sequence[str]) -> np.ndarray:
        """decision_tokens one ticket at a time with numpy only (the reference path)."""
        slots, counts = self._index.counts(tokens)
        rows = self._slot_rows[slots]
        vals = tfidf_values(counts, rows[:, 0], self._slot_word[slots])
        scores = vals @ rows[:, 1:] + self.intercept
        if self.knn is not None:
            scores += self.knn.weight @ self.knn_postings().features(slots, vals)
        return scores

    def knn_sums_numpy(self, tokens: Sequence[str]) -> np.ndarray | None:
        """The per-class top-k similarity sums of tokens (numpy), or None without kNN."""
        if self.knn is None:
            return None
        slots, counts = self._index.counts(tokens)
        vals = tfidf_values(counts, self._slot_rows[slots, 0], self._slot_word[slots])
        return self.knn_postings().features(slots, vals)

    def knn_postings(self) -> KnnPostings:
        """The kNN postings in slot order for the numpy path (built on first use)."""
        assert self.knn is not None, "model has no kNN part"
        if self._knn_np is None:
            self._knn_np = self._knn_postings(self.knn, len(self.word_vocab) + len(self.char_vocab))
        return self._knn_np

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: softmax of scores divided by the fitted temperature."""
        rows = np.atleast_2d(scores)
        out = np.array([self._softmax(r) for r in rows.tolist()]).reshape(rows.shape)
        return out.reshape(np.shape(scores))

    def _softmax(self, scores: list[float]) -> list[float]:
        # In Python floats: for the seven scores of one ticket this is a few microseconds,
        # where numpy's calls on tiny arrays cost several times that with cold caches; every
        # path (predict, predict_batch, proba_from_scores) uses it, so they agree exactly.
        t = self.temperature
        z = [x / t for x in scores]
        top = max(z)
        e = [math.exp(x - top) for x in z]
        total = sum(e)
        return [x / total for x in e]

    def predict_tokens(self, tokens: list[str]) -> Prediction:
        """Predict from tokens produced by classifier.tokenize."""
        return self._prediction(self._softmax(self.decision_tokens(tokens).tolist()), tokens)

    def predict(self, text: str, *, segmented: bool | None = None) -> Prediction:
        """Propose a category for one raw (or pre-segmented) ticket text."""
        return self.predict_tokens(tokenize(text or "", segmented=segmented))

    def predict_batch(
        self, texts: Iterable[str], *, segmented: bool | None = None, workers: int = 1
    ) -> list[Prediction]:
        """Predict many texts; same results, in the same order, as calling predict on each.

        workers > 1 spreads the texts over that many processes (jieba holds the GIL, so threads
        would not help). The pool is started on first use, each worker loads this model's files
        once, and it is kept for later calls until close(); start-up costs about a second.
        """
        items = list(texts)
        if workers <= 1 or len(items) < 2 * MIN_CHUNK:
            return self._predict_inline(items, segmented)
        pool = self._worker_pool(workers)
        size = max(MIN_CHUNK, min(MAX_CHUNK, -(-len(items) // (workers * 4))))
        chunks = [(items[i : i + size], segmented) for i in range(0, len(items), size)]
        return [p for part in pool.map(_predict_chunk, chunks) for p in part]

    def _predict_inline(self, texts: list[str], segmented: bool | None) -> list[Prediction]:
        out: list[Prediction] = []
        for i in range(0, len(texts), BATCH):
            toks = [tokenize(t or "", segmented=segmented) for t in texts[i : i + BATCH]]
            scores = self.decision_batch(toks).tolist()
            out.extend(
                self._prediction(self._softmax(s), t) for s, t in zip(scores, toks, strict=True)
            )
        return out

    def _prediction(self, p: list[float], tokens: list[str]) -> Prediction:
        order = sorted(range(len(p)), key=p.__getitem__, reverse=True)[:3]
        labels = self.labels
        top3 = [(labels[i], p[i]) for i in order]
        return Prediction(top3[0][0], top3[0][1], top3, list(tokens))

    def start_workers(self, workers: int) -> None:
        """Start the worker pool now (and wait until every worker has loaded the model)."""
        pool = self._worker_pool(workers)
        pids: set[int] = set()
        for _ in range(100):  # each task sleeps briefly, so idle workers take the next ones
            pids.update(pool.map(_worker_ready, range(workers)))
            if len(pids) >= workers:
                break

    def _worker_pool(self, workers: int) -> Any:
        if self._pool is not None and self._pool_workers == workers:
            return self._pool
        self.close()
        import multiprocessing
        import tempfile
        from concurrent.futures import ProcessPoolExecutor

        source = self.source_dir
        if not source:
            # A model trained in memory: the workers need files to load (not a pickle).
            self._tmpdir = tempfile.TemporaryDirectory(prefix="hotline-model-")
            source = str(self.save(self._tmpdir.name))
        # forkserver/spawn, not fork: forking a process with threads (a web server) can hang.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(source,)
        )
        self._pool_workers = workers
        return self._pool

    def close(self) -> None:
        """Shut down the worker pool of predict_batch(workers=N), if one was started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._pool_workers = 0
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    # -- persistence ----------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write model.json, vocab.json and weights.npz into directory (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta)
        meta.update(
            format=FORMAT,
            labels=self.labels,
            temperature=self.temperature,
            char_ngram_range=list(self.char_range),
            knn={"ks": list(self.knn.ks), "n_docs": len(self.knn.doc_class)} if self.knn else None,
            word_ngram_range=[1, 2],
            n_features={"word": len(self.word_vocab), "char": len(self.char_vocab)},
            tokenizer=meta.get("tokenizer") or tokenizer_fingerprint(),
        )
        (d / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        (d / VOCAB_FILE).write_text(
            json.dumps({"word": self.word_vocab, "char": self.char_vocab}, ensure_ascii=False),
            encoding="utf-8",
        )
        np.savez_compressed(
            d / WEIGHTS_FILE,
            word_idf=self.word_idf.astype(np.float32),
            char_idf=self.char_idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            **(self.knn.arrays() if self.knn is not None else {}),
        )
        return d


def load_model(path: str | Path) -> CategoryModel:
    """Load a model directory written by CategoryModel.save (no pickle, no scikit-learn)."""
    d = Path(path)
    try:
        meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
        vocab = json.loads((d / VOCAB_FILE).read_text(encoding="utf-8"))
        if meta.get("format") not in READABLE_FORMATS:
            raise ModelFileError(f"模型目录 {d} 的格式 {meta.get('format')!r} 不是 {FORMAT}")
        names = ["word_idf", "char_idf", "coef", "intercept"]
        if meta.get("knn"):
            names += KNN_ARRAYS
        with np.load(d / WEIGHTS_FILE, allow_pickle=False) as w:
            arrays = {k: w[k] for k in names}
        knn = KnnIndex.from_arrays(arrays, meta["knn"]["ks"]) if meta.get("knn") else None
    except FileNotFoundError as e:
        raise ModelFileError(f"模型目录 {d} 不完整：缺少 {Path(e.filename).name}") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelFileError(f"无法读取模型目录 {d}：{e}") from e
    now = tokenizer_fingerprint()
    if meta.get("tokenizer") and meta["tokenizer"] != now:
        # A different stop list changes the tokens; predictions still work but may drift.
        log.warning("模型 %s 训练时的停用词表/用户词典与当前不同，建议重新训练", d)
    lo, hi = meta.get("char_ngram_range", [1, 3])
    return CategoryModel(
        labels=list(meta["labels"]),
        word_vocab=list(vocab["word"]),
        word_idf=arrays["word_idf"],
        char_vocab=list(vocab["char"]),
        char_idf=arrays["char_idf"],
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        temperature=float(meta.get("temperature", 1.0)),
        char_range=(int(lo), int(hi)),
        knn=knn,
        meta=meta,
        source_dir=str(d.resolve()),
    )


# -- worker processes of predict_batch(workers=N) ------------------------------------------------

MIN_CHUNK = 16
MAX_CHUNK = 256
# Tickets scored together by predict_batch: their n-gram keys are looked up and their rows
# gathered in one pass each (numpy's per-call cost shared); the kNN top-k runs in chunks of
# knn.TOPK_CHUNK whatever the batch. Beyond ~128 the gain flattens.
BATCH = MAX_BATCH
_worker_model: CategoryModel | None = None


def _init_worker(model_dir: str) -> None:
    global _worker_model
    _worker_model = load_model(model_dir)
    from classifier.tokenize import get_cut

    get_cut()  # load the segmenter's dictionary now, not inside the first chunk


def _worker_ready(_: int) -> int:
    import os
    import time

    time.sleep(0.05)
    return os.getpid()


def _predict_chunk(job: tuple[list[str], bool | None]) -> list[Prediction]:
    texts, segmented = job
    assert _worker_model is not None, "worker not initialised"
    return _worker_model._predict_inline(texts, segmented)
