"""Nearest training tickets: per-class sums of the top-k TF-IDF similarities, in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def topk_class_sums(
    sims: np.ndarray, doc_class: np.ndarray, n_classes: int, ks: Sequence[int]
) -> np.ndarray:
    """For each row of sims (queries × training tickets): per k, per class, the top-k sum.

    Column j * n_classes + c holds the sum of the k_j largest similarities to tickets of class
    c (fewer when the class has fewer tickets). Similarities are never negative, so a ticket
    sharing no feature (similarity 0) adds nothing wherever it ranks.
    """
    sims = np.atleast_2d(sims)
    out = np.zeros((sims.shape[0], n_classes * len(ks)))
    kmax = max(ks)
    for c in range(n_classes):
        sc = sims[:, doc_class == c]
        n = sc.shape[1]
        if n == 0:
            continue
        take = min(kmax, n)
        top = np.partition(sc, n - take, axis=1)[:, n - take :]
        top = -np.sort(-top, axis=1)  # descending, as the C scorer keeps them
        csum = np.cumsum(top, axis=1)
        for j, k in enumerate(ks):
            out[:, j * n_classes + c] = csum[:, min(k, take) - 1]
    return out


@dataclass
class KnnPostings:
    """Training tickets' TF-IDF values by feature slot (CSR over slots), and their classes."""

    indptr: np.ndarray  # int64, n_slots + 1
    docs: np.ndarray  # uint32, training ticket of each posting
    vals: np.ndarray  # float32, its TF-IDF value
    doc_class: np.ndarray  # uint8, class index of each training ticket
    n_classes: int
    ks: tuple[int, ...]

    @classmethod
    def from_columns(
        cls,
        counts: np.ndarray,
        docs: np.ndarray,
        vals: np.ndarray,
        doc_class: np.ndarray,
        n_classes: int,
        ks: Sequence[int],
        order: np.ndarray,
    ) -> KnnPostings:
        """Re-order postings stored column by column (counts per column) into slot order."""
        n_slots = len(order)
        col_count = np.asarray(counts, dtype=np.int64)
        col_start = np.cumsum(col_count) - col_count
        slot_count = col_count[order]
        indptr = np.zeros(n_slots + 1, dtype=np.int64)
        np.cumsum(slot_count, out=indptr[1:])
        gather = _ranges(col_start[order], slot_count)
        return cls(
            indptr=indptr,
            docs=np.ascontiguousarray(np.asarray(docs, dtype=np.uint32)[gather]),
            vals=np.ascontiguousarray(np.asarray(vals, dtype=np.float32)[gather]),
            doc_class=np.ascontiguousarray(doc_class, dtype=np.uint8),
            n_classes=n_classes,
            ks=tuple(int(k) for k in ks),
        )

    @property
    def n_docs(self) -> int:
        """Number of training tickets indexed."""
        return len(self.doc_class)

    def features(self, slots: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Top-k class sums for one ticket given its feature slots and TF-IDF values."""
        starts = self.indptr[slots]
        lens = self.indptr[slots + 1] - starts
        idx = _ranges(starts, lens)
        weights = np.repeat(values, lens) * self.vals[idx]
        sims = np.bincount(self.docs[idx], weights=weights, minlength=self.n_docs)
        return topk_class_sums(sims, self.doc_class, self.n_classes, self.ks)[0]


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + n) for each (s, n), without a Python loop."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lens), lens)
    return np.arange(total, dtype=np.int64) + offsets


@dataclass
class KnnIndex:
    """The saved form: training tickets' term counts by feature, their norms and classes.

    A posting's TF-IDF value is (1 + ln tf) · idf / norm (the ticket's norm of that block),
    exactly as the vectoriser made it, so the files hold small integers instead of floats
    (about 4× smaller once compressed); the model rebuilds the values with its own idf.
    weight (n_classes × n_classes·len(ks)) turns the top-k class sums into additions to the
    linear scores (the stacking meta-model's kNN part, folded with its scaler).
    """

    counts: np.ndarray  # postings of every feature column (0 for a column without any)
    docs: np.ndarray  # training ticket of each posting, column by column, ascending per column
    tf: np.ndarray  # its term count
    norms: np.ndarray  # (n_docs, 2): each ticket's word-block and char-block norm
    doc_class: np.ndarray  # class index of each training ticket
    ks: tuple[int, ...]
    weight: np.ndarray

    def __post_init__(self) -> None:
        # Compact dtypes: a loaded model keeps these for save() (millions of postings).
        self.counts = np.asarray(self.counts, dtype=np.int64)
        self.docs = np.asarray(self.docs, dtype=np.uint32)
        tf = np.asarray(self.tf, dtype=np.int64)
        if tf.size and int(tf.min()) < 1:
            raise ValueError("kNN 倒排表的词频须为正整数")
        self.tf = tf.astype(_uint_for(int(tf.max(initial=0))))
        # Held at the precision the files store, so a freshly trained model predicts exactly
        # what it will after save + load.
        self.norms = np.asarray(self.norms, dtype=np.float32).astype(np.float64)
        self.doc_class = np.asarray(self.doc_class, dtype=np.uint8)
        self.ks = tuple(int(k) for k in self.ks)
        self.weight = np.asarray(self.weight, dtype=np.float32).astype(np.float64)
        if list(self.ks) != sorted(set(self.ks)) or not self.ks or self.ks[0] < 1:
            raise ValueError(f"kNN k 值须为递增的正整数：{self.ks}")
        if int(self.counts.sum()) != len(self.docs) or self.docs.shape != self.tf.shape:
            raise ValueError("kNN 倒排表的条目数不符")
        if self.norms.shape != (len(self.doc_class), 2):
            raise ValueError("kNN 训练工单范数的形状不符")
        if self.docs.size and int(self.docs.max()) >= len(self.doc_class):
            raise ValueError("kNN 倒排表引用了不存在的训练工单")

    def values(self, idf: np.ndarray, n_word: int) -> np.ndarray:
        """Each posting's TF-IDF value (float32), given the model's idf of every column."""
        if len(idf) != len(self.counts):
            raise ValueError(f"kNN 倒排表有 {len(self.counts)} 列，词表有 {len(idf)} 列")
        col = np.repeat(np.arange(len(self.counts)), self.counts)
        norm = self.norms[self.docs.astype(np.int64), (col >= n_word).astype(np.int64)]
        log_tf = np.log(self.tf.astype(np.float64))  # (a uint8 array would log in float16)
        return ((1.0 + log_tf) * idf[col] / norm).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays written to weights.npz: compact dtypes, ticket numbers delta-coded."""
        n_docs = len(self.doc_class)
        return {
            "knn_counts": self.counts.astype(_uint_for(int(self.counts.max(initial=0)))),
            "knn_docs": _delta_encode(self.docs, self.counts).astype(_uint_for(n_docs)),
            "knn_tf": self.tf.astype(_uint_for(int(self.tf.max(initial=0)))),
            "knn_norms": self.norms.astype(np.float32),
            "knn_doc_class": self.doc_class,
            "knn_weight": self.weight.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], ks: Sequence[int]) -> KnnIndex:
        """Inverse of arrays()."""
        counts = np.asarray(arrays["knn_counts"], dtype=np.int64)
        if counts.size and counts.min() < 0 or int(counts.sum()) != arrays["knn_docs"].size:
            raise ValueError("kNN 倒排表的条目数不符")
        return cls(
            counts=counts,
            docs=_delta_decode(arrays["knn_docs"], counts),
            tf=arrays["knn_tf"],
            norms=arrays["knn_norms"],
            doc_class=arrays["knn_doc_class"],
            ks=tuple(ks),
            weight=arrays["knn_weight"],
        )


def _uint_for(largest: int) -> type:
    """The smallest unsigned dtype that holds largest."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


def _delta_encode(docs: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Ticket numbers as gaps within each column (small numbers compress well)."""
    deltas = np.diff(docs, prepend=0)
    starts = np.cumsum(counts) - counts
    starts = starts[counts > 0]
    deltas[starts] = docs[starts]  # each column starts from its first ticket number
    return deltas


def _delta_decode(deltas: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Inverse of _delta_encode."""
    run = np.cumsum(np.asarray(deltas, dtype=np.int64))
    starts = np.cumsum(counts) - counts
    # Subtract, for every posting, the running total just before its column began.
    before = np.concatenate([[0], run])[starts]
    return run - np.repeat(before, counts)
