"""Training the stacked router model: linear models and, optionally, nearest tickets.

Members, all on the same word + char TF-IDF matrix (ALL_BASES; BASE_NAMES ship):
- LinearSVC on all features, LinearSVC on the char block only, RidgeClassifier, ComplementNB;
- kNN (knn=True): per class, the sums of the top 1 / 5 / 20 TF-IDF similarities to training
  tickets, over the features found in at most KNN_MAX_DF of the tickets.

A LogisticRegression over their standardised out-of-fold scores decides; fitted on
out-of-fold scores, its softmax is calibrated. Every member but kNN is linear in the TF-IDF
vector, and so are the scaler and the meta-model's logits, so everything except the kNN part
folds into one coefficient matrix: serving costs one product, plus the kNN postings when that
member is on (see classifier.knn and data/model/MODEL.md for the figures behind each choice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier.knn import KnnIndex, topk_class_sums

SEED = 0
STACK_FOLDS = 5
SVM_C = 1.0
RIDGE_ALPHA = 1.0
CNB_ALPHA = 0.1
# The meta-model's C is chosen by CV on the out-of-fold scores: 0.1 suits ~7k rows but
# underfits a few dozen.
META_CS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
KNN_KS = (1, 5, 20)
KNN_MAX_DF = 0.02
KNN_MIN_LIMIT = 5
KNN_CHUNK = 512
ALL_BASES = ("svm", "char_svm", "ridge", "cnb")
# The members that ship (data/model/MODEL.md has the table that chose them): without the kNN
# member the three other linear models add nothing the SVM's scores do not already give the
# meta-model (macro-F1 0.9236 against 0.9234) and quadruple the training time.
BASE_NAMES: tuple[str, ...] = ("svm",)


@dataclass
class LinearScores:
    """One base model's scores as coef · x + intercept (coef: classes × features)."""

    coef: np.ndarray
    intercept: np.ndarray

    def scores(self, x: Any) -> np.ndarray:
        """Scores of the rows of a sparse TF-IDF matrix."""
        return np.asarray(x @ self.coef.T) + self.intercept


@dataclass
class StackFit:
    """A fitted stack, unfolded (the reference) and folded (what ships)."""

    bases: list[LinearScores]
    knn_matrix: Any  # training rows restricted to the kNN columns (CSR); None: no kNN part
    knn_cols: np.ndarray
    idf: np.ndarray  # of every feature column
    norms: np.ndarray  # training rows' TF-IDF norms before l2 normalisation: (rows, 2 blocks)
    n_word: int
    doc_class: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    meta_coef: np.ndarray  # classes × (n_bases + len(KNN_KS)) · classes
    meta_intercept: np.ndarray
    n_classes: int
    meta_c: float  # the meta-model's C, chosen by cross-validation

    def meta_inputs(self, x: Any) -> np.ndarray:
        """Unscaled meta-model inputs of new rows: base scores, then kNN top-k sums."""
        lin = [b.scores(x) for b in self.bases]
        if self.knn_matrix is None:
            return np.hstack(lin)
        sims = (x[:, self.knn_cols] @ self.knn_matrix.T).toarray()
        knn = topk_class_sums(sims, self.doc_class, self.n_classes, KNN_KS)
        return np.hstack([*lin, knn])

    def decision(self, x: Any) -> np.ndarray:
        """Meta-model logits of new rows, computed step by step (the unfolded reference)."""
        z = (self.meta_inputs(x) - self.mean) / self.scale
        return z @ self.meta_coef.T + self.meta_intercept

    def folded(self) -> tuple[np.ndarray, np.ndarray, KnnIndex | None]:
        """(coef, intercept, knn) such that coef · x + intercept + knn part == decision(x)."""
        c = self.n_classes
        a = self.meta_coef / self.scale  # fold the scaler into the meta weights
        coef = np.zeros_like(self.bases[0].coef)
        intercept = self.meta_intercept - a @ self.mean
        for i, base in enumerate(self.bases):
            block = a[:, i * c : (i + 1) * c]
            coef += block @ base.coef
            intercept = intercept + block @ base.intercept
        if self.knn_matrix is None:
            return coef, intercept, None
        csc = self.knn_matrix.tocsc()
        csc.sort_indices()
        counts = np.zeros(len(self.idf), dtype=np.int64)
        counts[self.knn_cols] = np.diff(csc.indptr)
        col = np.repeat(self.knn_cols, np.diff(csc.indptr))
        block = (col >= self.n_word).astype(np.int64)
        # value = (1 + ln tf) · idf / norm, so the term count is recovered exactly.
        log_tf = csc.data * self.norms[csc.indices, block] / self.idf[col] - 1.0
        knn = KnnIndex(
            counts=counts,
            docs=csc.indices,
            tf=np.rint(np.exp(log_tf)),
            norms=self.norms,
            doc_class=self.doc_class,
            ks=KNN_KS,
            weight=a[:, len(self.bases) * c :],
        )
        return coef, intercept, knn


def _as_multiclass(coef: np.ndarray, intercept: np.ndarray) -> LinearScores:
    # Two classes: scikit-learn keeps one row (score of the second class); give both.
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))  # Ridge gives 1-D for two
    intercept = np.asarray(intercept, dtype=np.float64).ravel()
    if coef.shape[0] == 1:
        coef = np.vstack([-coef, coef])
        intercept = np.concatenate([-intercept, intercept])
    return LinearScores(coef, intercept)


def fit_bases(
    x: Any, y: np.ndarray, n_word: int, names: Sequence[str] = BASE_NAMES
) -> list[LinearScores]:
    """Fit the named linear base models (of ALL_BASES) on TF-IDF rows x with labels y."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import RidgeClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    out = []
    for name in names:
        if name == "svm":
            svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=SEED).fit(x, y)
            out.append(_as_multiclass(svm.coef_, svm.intercept_))
        elif name == "char_svm":
            char = LinearSVC(C=SVM_C, class_weight="balanced", random_state=SEED)
            char.fit(x[:, n_word:], y)
            char_coef = np.zeros((char.coef_.shape[0], x.shape[1]))
            char_coef[:, n_word:] = char.coef_
            out.append(_as_multiclass(char_coef, char.intercept_))
        elif name == "ridge":
            ridge = RidgeClassifier(alpha=RIDGE_ALPHA, class_weight="balanced").fit(x, y)
            out.append(_as_multiclass(ridge.coef_, ridge.intercept_))
        elif name == "cnb":
            cnb = ComplementNB(alpha=CNB_ALPHA).fit(csr_matrix(x), y)
            # ComplementNB predicts the argmax of x · feature_log_prob_: linear, no intercept.
            log_prob = np.asarray(cnb.feature_log_prob_)
            out.append(LinearScores(log_prob, np.zeros(log_prob.shape[0])))
        else:
            raise ValueError(f"unknown base model {name!r} (known: {', '.join(ALL_BASES)})")
    return out


def knn_columns(x: Any, max_df: float = KNN_MAX_DF) -> np.ndarray:
    """Feature columns in at most max_df of the rows, or KNN_MIN_LIMIT rows when that is more.

    Frequent features cost (every ticket holding one is touched) and do not help tell
    neighbours apart; the floor keeps a few features on a small training set.
    """
    df = np.bincount(x.indices, minlength=x.shape[1])
    return np.flatnonzero((df > 0) & (df <= max(max_df * x.shape[0], KNN_MIN_LIMIT)))


def knn_matrix(x: Any, cols: np.ndarray) -> Any:
    """Training rows restricted to cols (CSR)."""
    return x[:, cols].tocsr().astype(np.float64)


def leave_one_out_knn(m: Any, doc_class: np.ndarray, n_classes: int) -> np.ndarray:
    """Top-k class sums of every training row against all the others (itself left out)."""
    out = np.zeros((m.shape[0], n_classes * len(KNN_KS)))
    mt = m.T.tocsr()
    for start in range(0, m.shape[0], KNN_CHUNK):
        stop = min(start + KNN_CHUNK, m.shape[0])
        sims = (m[start:stop] @ mt).toarray()
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        out[start:stop] = topk_class_sums(sims, doc_class, n_classes, KNN_KS)
    return out


def choose_meta_c(z: np.ndarray, y: np.ndarray, folds: int) -> float:
    """The C of META_CS whose LogisticRegression has the lowest cross-validated log-loss."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    losses = np.zeros(len(META_CS))
    skf = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for tr, te in skf.split(z, y):
        for i, c in enumerate(META_CS):
            p = LogisticRegression(C=c, max_iter=2000).fit(z[tr], y[tr]).predict_proba(z[te])
            losses[i] -= np.log(np.clip(p[np.arange(len(te)), y[te]], 1e-15, None)).sum()
    return float(META_CS[int(np.argmin(losses))])


def fit_stack(
    x: Any,
    y: np.ndarray,
    idf: np.ndarray,
    norms: np.ndarray,
    n_word: int,
    n_classes: int,
    *,
    step: Callable[[], None] = lambda: None,
    max_df: float = KNN_MAX_DF,
    knn: bool = False,
    bases: Sequence[str] = BASE_NAMES,
) -> StackFit:
    """Fit the stack on TF-IDF rows x (CSR) with class indices y; step() after each stage.

    knn adds the nearest-ticket member (off by default: see data/model/MODEL.md, it costs
    more per ticket than everything else together for a few thousandths of macro-F1).
    idf and norms (each row's two block norms before normalisation) are what x was made with;
    the saved kNN postings are rebuilt from them.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = min(STACK_FOLDS, int(np.bincount(y, minlength=n_classes).min()))
    oof = np.zeros((x.shape[0], len(bases) * n_classes))
    skf = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for tr, te in skf.split(np.zeros(len(y)), y):
        fitted = fit_bases(x[tr], y[tr], n_word, bases)
        oof[te] = np.hstack([b.scores(x[te]) for b in fitted])
        step()
    doc_class = y.astype(np.uint8)
    if knn:
        cols = knn_columns(x, max_df)
        km = knn_matrix(x, cols)
        z = np.hstack([oof, leave_one_out_knn(km, doc_class, n_classes)])
    else:
        cols, km, z = np.zeros(0, dtype=np.int64), None, oof
    step()
    mean = z.mean(axis=0)
    scale = z.std(axis=0)
    scale[scale == 0] = 1.0
    zs = (z - mean) / scale
    meta_c = choose_meta_c(zs, y, folds)
    meta = LogisticRegression(C=meta_c, max_iter=2000).fit(zs, y)
    meta_coef, meta_intercept = meta.coef_, meta.intercept_
    if meta_coef.shape[0] == 1:  # two classes: logits (0, w · z + b) give the same softmax
        meta_coef = np.vstack([np.zeros_like(meta_coef), meta_coef])
        meta_intercept = np.concatenate([[0.0], meta_intercept])
    final = fit_bases(x, y, n_word, bases)
    step()
    return StackFit(
        bases=final,
        knn_matrix=km,
        knn_cols=cols,
        idf=np.asarray(idf, dtype=np.float64),
        norms=np.asarray(norms, dtype=np.float64),
        n_word=n_word,
        doc_class=doc_class,
        mean=mean,
        scale=scale,
        meta_coef=np.asarray(meta_coef, dtype=np.float64),
        meta_intercept=np.asarray(meta_intercept, dtype=np.float64),
        n_classes=n_classes,
        meta_c=meta_c,
    )
