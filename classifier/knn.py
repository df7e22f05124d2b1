"""Nearest training tickets: per-class sums of the top-k TF-IDF similarities (numpy, scipy)."""

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
        top = -np.sort(-top, axis=1)  # descending, the order in which the sums add them
        csum = np.cumsum(top, axis=1)
        for j, k in enumerate(ks):
            out[:, j * n_classes + c] = csum[:, min(k, take) - 1]
    return out


# Tickets whose similarity rows are ranked together: the dense block (tickets × classes ×
# largest class, 90 KB per ticket here) should stay in the CPU cache.
TOPK_CHUNK = 16


class KnnMatrix:
    """The serving form of the kNN part: a pruned posting matrix and a batched top-k.

    P holds, for every feature slot that has postings (the pruned row set: features in few
    training tickets), the training tickets' TF-IDF values as a sparse row. Its columns are
    the training tickets regrouped by class and padded to the largest class (class c owns
    columns c·width … c·width + width - 1), so a batch of similarity rows reshapes to
    (tickets · classes, width) and the top k of every class is found in one pass. Padding
    columns stay 0, which adds nothing to a sum: similarities are never negative.
    The values stay float32, as in the files (half the memory to walk); scipy widens a
    ticket's selected postings to float64 before the product, so every similarity adds the same
    float64 terms in the same order as ``KnnPostings`` (the reference): the results are equal.
    """

    def __init__(self, postings: KnnPostings) -> None:
        from scipy.sparse import csc_matrix

        self.n_classes = postings.n_classes
        self.ks = postings.ks
        self.kmax = max(self.ks)
        cls = postings.doc_class.astype(np.int64)
        sizes = np.bincount(cls, minlength=self.n_classes)
        # A multiple of kmax, so a class's columns reshape to (kmax, width / kmax) (topk_sums).
        self.width = -(-max(int(sizes.max(initial=0)), 1) // self.kmax) * self.kmax
        # Each ticket's rank within its class (tickets keep their order inside a class).
        order = np.argsort(cls, kind="stable")
        rank = np.empty(len(cls), dtype=np.int64)
        rank[order] = np.arange(len(cls)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        column = cls * self.width + rank
        lens = np.diff(postings.indptr)
        has = lens > 0
        # slot -> row of P (-1: no postings, the slot is left out)
        self.slot_row = np.full(len(lens), -1, dtype=np.int64)
        self.slot_row[has] = np.arange(int(has.sum()))
        indptr = np.zeros(int(has.sum()) + 1, dtype=np.int64)
        np.cumsum(lens[has], out=indptr[1:])
        index_dtype = np.int32 if len(postings.docs) < 2**31 else np.int64
        self.slot_row = self.slot_row.astype(index_dtype)
        # Stored as P transposed in CSC form (the same arrays): picking a ticket's features
        # is then a column selection and the product a CSC mat-vec, with less scipy overhead
        # per call than selecting rows of P and multiplying from the left.
        self.columns = csc_matrix(
            (
                np.asarray(postings.vals, dtype=np.float32),
                column[postings.docs.astype(np.int64)].astype(index_dtype),
                indptr.astype(index_dtype),
            ),
            shape=(self.n_classes * self.width, len(indptr) - 1),
        )
        self.n_columns = self.n_classes * self.width

    def sums(self, rows: np.ndarray, values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        """Top-k class sums of a batch; ticket i has the TF-IDF values[indptr[i]:indptr[i+1]]
        on the features whose rows of P are rows[indptr[i]:indptr[i+1]] (ascending)."""
        n = len(indptr) - 1
        out = np.empty((n, self.n_classes * len(self.ks)))
        sims = np.empty((min(n, TOPK_CHUNK), self.n_columns))
        for start in range(0, n, TOPK_CHUNK):
            stop = min(start + TOPK_CHUNK, n)
            for i in range(start, stop):
                a, b = indptr[i], indptr[i + 1]
                if a == b:
                    sims[i - start] = 0.0
                else:
                    # values · P[rows]: scipy gathers those features' postings, then one
                    # pass over them adds each feature's share, in slot order.
                    sims[i - start] = self.columns[:, rows[a:b]] @ values[a:b]
            out[start:stop] = self.topk_sums(sims[: stop - start])
        return out

    def topk_sums(self, sims: np.ndarray) -> np.ndarray:
        """Top-k class sums (tickets × classes·len(ks)) of similarity rows (tickets × columns)."""
        b, c, width, kmax = sims.shape[0], self.n_classes, self.width, self.kmax
        groups = b * c  # one (ticket, class) pair per row
        sims = sims.reshape(groups, width)
        # Partitioning every class's row (up to 1,600 tickets) would cost more than the
        # product. Split a row's columns into n_blocks ≥ kmax blocks: the kmax-th largest
        # block maximum is a lower bound for the kmax-th largest similarity (kmax blocks each
        # hold a value at least that large), so only values at or above it can be in the top
        # kmax: a few dozen per row.
        n_blocks = width // kmax
        # The smallest value that can count: zeros add nothing to a sum, wherever they rank.
        floor = np.full(groups, np.nextafter(0.0, 1.0))
        if n_blocks > kmax:
            # Blocks: columns j, j + n_blocks, j + 2·n_blocks, … (an elementwise maximum of
            # kmax contiguous slices, which vectorises well).
            block_max = sims.reshape(groups, kmax, n_blocks).max(axis=1)
            np.maximum(
                floor,
                np.partition(block_max, n_blocks - kmax, axis=1)[:, n_blocks - kmax],
                out=floor,
            )
        cand = sims >= floor[:, None]
        g, col = np.nonzero(cand)  # g ascending
        v = sims[g, col]
        order = np.lexsort((-v, g))  # by row, then descending, as topk_class_sums adds them
        g, v = g[order], v[order]
        rank = np.arange(len(g)) - np.searchsorted(g, np.arange(groups))[g]
        keep = rank < kmax
        top = np.zeros((groups, kmax))
        top[g[keep], rank[keep]] = v[keep]
        csum = np.cumsum(top, axis=1).reshape(b, c, kmax)
        return np.concatenate([csum[:, :, k - 1] for k in self.ks], axis=1)


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
        counts = self.counts
        is_char = np.repeat(np.arange(len(counts)) >= n_word, counts)
        norm = self.norms.ravel()[self.docs.astype(np.int64) * 2 + is_char]
        # 1 + ln tf by table: term counts are small integers (and ln of a uint8 array would
        # be computed in float16)
        sub = 1.0 + np.log(np.arange(1, int(self.tf.max(initial=0)) + 1, dtype=np.float64))
        sub = sub[self.tf.astype(np.int64) - 1] if self.tf.size else np.zeros(0)
        return (sub * np.repeat(idf, counts) / norm).astype(np.float32)

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
