"""Training, cross-validation and evaluation (scikit-learn is needed here, not at prediction)."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import char_text, word_ngrams
from classifier.model import CategoryModel, tokenizer_fingerprint
from classifier.stacking import (
    BASE_NAMES,
    CNB_ALPHA,
    KNN_KS,
    KNN_MAX_DF,
    RIDGE_ALPHA,
    STACK_FOLDS,
    SVM_C,
    StackFit,
    fit_stack,
)
from classifier.tokenize import get_cut, tokenize

MIN_ROWS_PER_CLASS = 5
DEFAULT_FOLDS = 5
# Chosen by 5-fold CV on the TipDM corpus (see data/model/MODEL.md).
CHAR_RANGE = (1, 3)
MIN_DF = 2
SEED = 0
MAX_CLASSES = 255  # class indices are stored as bytes


class DataError(Exception):
    """Input data that cannot be used; the message names the file, column or row."""


# -- reading tables ---------------------------------------------------------------------------


def read_table(
    path: str | Path, label_col: str, text_cols: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Read a CSV (UTF-8) or XLSX file: texts (text columns joined by a space) and labels."""
    p = Path(path)
    if not text_cols:
        raise DataError("至少需要一个文本列（--text-col）")
    if not p.is_file():
        raise DataError(f"文件不存在或不是普通文件：{p}")
    if p.suffix.lower() in {".xlsx", ".xlsm"}:
        header, rows = _read_xlsx(p)
    else:
        header, rows = _read_csv(p)
    header = [(h or "").strip() for h in header]
    for col in [label_col, *text_cols]:
        if col not in header:
            raise DataError(
                f"文件 {p} 缺少列「{col}」；现有列：{'、'.join(h for h in header if h)}"
            )
    li = header.index(label_col)
    ti = [header.index(c) for c in text_cols]
    texts: list[str] = []
    labels: list[str] = []
    for rownum, row in rows:
        cells = list(row) + [None] * (len(header) - len(row))
        if all(c is None or str(c).strip() == "" for c in cells):
            continue  # blank lines at the end of a sheet are common, not an error
        label = "" if cells[li] is None else str(cells[li]).strip()
        if not label:
            raise DataError(f"文件 {p} 第 {rownum} 行：标签列「{label_col}」为空")
        text = " ".join(str(cells[i]).strip() for i in ti if cells[i] is not None).strip()
        if not text:
            raise DataError(f"文件 {p} 第 {rownum} 行：文本列「{'、'.join(text_cols)}」全为空")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise DataError(f"文件 {p} 没有数据行")
    return texts, labels


def _read_csv(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataError(f"无法读取文件 {p}：{e.strerror or e}") from e
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"文件 {p} 不是 UTF-8 编码（第 {line} 行附近）；请用 UTF-8 另存后再试"
        ) from e
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"文件 {p} 是空的")
        rows = []
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as e:
        raise DataError(f"文件 {p} 第 {reader.line_num} 行 CSV 格式错误：{e}") from e
    return header, rows


def _read_xlsx(p: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import openpyxl  # only needed for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise DataError(f"无法读取 Excel 文件 {p}：{e}") from e
    try:
        ws = wb.active
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            raise DataError(f"文件 {p} 是空的")
        header = ["" if h is None else str(h) for h in first]
        rows = [(i, list(r)) for i, r in enumerate(it, start=2)]
    finally:
        wb.close()
    return header, rows


def check_classes(labels: Sequence[str], minimum: int = MIN_ROWS_PER_CLASS) -> None:
    """Refuse training data where a class has too few rows for stratified CV."""
    counts = Counter(labels)
    if len(counts) < 2:
        raise DataError(f"至少需要两个类别，现在只有：{'、'.join(counts) or '无'}")
    small = sorted((n, lab) for lab, n in counts.items() if n < minimum)
    if small:
        listed = "、".join(f"「{lab}」{n} 行" for n, lab in small)
        raise DataError(f"类别行数不足（每类至少 {minimum} 行）：{listed}")


# -- training ---------------------------------------------------------------------------------

Progress = Callable[[int], None]


def tokenize_all(
    texts: Sequence[str],
    *,
    segmented: bool | None = None,
    progress: bool = False,
    desc: str = "分词",
) -> list[list[str]]:
    """Tokenise many texts, optionally with a tqdm bar."""
    it: Any = texts
    if progress:
        from tqdm import tqdm

        it = tqdm(texts, desc=desc, unit="条")
    return [tokenize(t, segmented=segmented) for t in it]


def _vectorizers(norm: str | None = "l2") -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vw = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=MIN_DF, norm=norm)
    vc = TfidfVectorizer(
        analyzer="char",
        ngram_range=CHAR_RANGE,
        sublinear_tf=True,
        min_df=MIN_DF,
        lowercase=False,
        norm=norm,
    )
    return vw, vc


def tfidf_fit(token_lists: Sequence[list[str]]) -> tuple[Any, Any, Any, np.ndarray]:
    """Fit the word and char vectorisers: (vw, vc, l2-normalised stacked CSR rows, row norms).

    The norms (one column per block) are kept so the kNN postings can be stored as term counts
    and rebuilt exactly (see classifier.knn.KnnIndex).
    """
    from scipy.sparse import hstack
    from sklearn.preprocessing import normalize

    def l2(raw: Any) -> tuple[Any, np.ndarray]:
        norm = np.sqrt(np.asarray(raw.multiply(raw).sum(axis=1)).ravel())
        norm[norm == 0] = 1.0  # an empty row stays empty
        return normalize(raw), norm  # normalize() as the vectoriser itself would do it

    vw, vc = _vectorizers(norm=None)
    xw, nw = l2(vw.fit_transform(token_lists))
    xc, nc = l2(vc.fit_transform([char_text(t) for t in token_lists]))
    return vw, vc, hstack([xw, xc]).tocsr(), np.column_stack([nw, nc])


def _svm() -> Any:
    from sklearn.svm import LinearSVC

    # Balanced class weights lift the small classes (交通运输) and so the macro-F1.
    return LinearSVC(C=SVM_C, class_weight="balanced", random_state=SEED)


def fit_sklearn_pipeline(
    token_lists: Sequence[list[str]], labels: Sequence[str]
) -> tuple[Any, Any, Any]:
    """Fit word and char TfidfVectorizers and a LinearSVC; returns (vw, vc, clf)."""
    from scipy.sparse import hstack

    vw, vc = _vectorizers()
    x = hstack(
        [vw.fit_transform(token_lists), vc.fit_transform([char_text(t) for t in token_lists])]
    ).tocsr()
    clf = _svm().fit(x, list(labels))
    return vw, vc, clf


def sklearn_transform(vw: Any, vc: Any, token_lists: Sequence[list[str]]) -> Any:
    """Stacked sparse feature matrix (each block l2-normalised), as the model computes it."""
    from scipy.sparse import hstack
    from sklearn.preprocessing import normalize

    # normalize() here too: vectorisers from tfidf_fit leave rows unnormalised.
    return hstack(
        [
            normalize(vw.transform(token_lists)),
            normalize(vc.transform([char_text(t) for t in token_lists])),
        ]
    ).tocsr()


def _ordered(vocab: Mapping[str, int]) -> list[str]:
    out = [""] * len(vocab)
    for term, i in vocab.items():
        out[i] = term
    return out


def _vectoriser_model(vw: Any, vc: Any, labels: Sequence[str], **fields: Any) -> CategoryModel:
    """A CategoryModel over fitted vectorisers' vocabularies and idf, plus the given fields."""
    return CategoryModel(
        labels=[str(c) for c in labels],
        word_vocab=_ordered(vw.vocabulary_),
        word_idf=vw.idf_,
        char_vocab=_ordered(vc.vocabulary_),
        char_idf=vc.idf_,
        char_range=CHAR_RANGE,
        **fields,
    )


def model_from_sklearn(
    vw: Any, vc: Any, clf: Any, temperature: float = 1.0, meta: dict[str, Any] | None = None
) -> CategoryModel:
    """Copy fitted vectorisers and LinearSVC into a pickle-free CategoryModel."""
    return _vectoriser_model(
        vw,
        vc,
        clf.classes_,
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        temperature=temperature,
        meta=dict(meta or {}),
    )


def train_tokens(
    token_lists: Sequence[list[str]],
    labels: Sequence[str],
    *,
    progress: bool = False,
    max_df: float = KNN_MAX_DF,
    knn: bool = False,
    bases: Sequence[str] = BASE_NAMES,
) -> CategoryModel:
    """Train the stacked model (see classifier.stacking) from token lists; knn adds that member."""
    check_classes(labels)
    classes = sorted(set(labels))
    if len(classes) > MAX_CLASSES:
        raise DataError(f"类别过多：{len(classes)} 个（最多 {MAX_CLASSES} 个）")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in labels])
    t0 = time.perf_counter()
    folds = min(STACK_FOLDS, min(Counter(labels).values()))
    bar = _bar(folds + 3, "训练", progress)
    vw, vc, x, norms = tfidf_fit(token_lists)
    bar.update(1)
    idf = np.concatenate([vw.idf_, vc.idf_])
    fit = fit_stack(
        x,
        y,
        idf,
        norms,
        len(vw.vocabulary_),
        len(classes),
        step=lambda: bar.update(1),
        max_df=max_df,
        knn=knn,
        bases=bases,
    )
    bar.close()
    import sklearn

    described = {
        "svm": f"LinearSVC(C={SVM_C}, balanced)",
        "char_svm": "char-only LinearSVC",
        "ridge": f"RidgeClassifier(alpha={RIDGE_ALPHA}, balanced)",
        "cnb": f"ComplementNB(alpha={CNB_ALPHA})",
    }
    members = " + ".join(described[b] for b in bases)
    if knn:
        members += (
            f" + kNN top-{'/'.join(map(str, KNN_KS))} class sums "
            f"(features in ≤ {max_df:.0%} of rows)"
        )
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_train": len(labels),
        "class_counts": dict(sorted(Counter(labels).items())),
        "sklearn_version": sklearn.__version__,
        "estimator": (
            f"stack: {members} → LogisticRegression(C={fit.meta_c:g}, chosen by CV) on "
            f"{folds}-fold out-of-fold scores"
        ),
        "min_df": MIN_DF,
        "knn_max_df": max_df if knn else None,
        "bases": list(bases),
        "stack_folds": folds,
        "meta_c": fit.meta_c,
        "train_seconds": round(time.perf_counter() - t0, 2),
        "tokenizer": tokenizer_fingerprint(),
    }
    return model_from_stack(vw, vc, fit, classes, meta)


def model_from_stack(
    vw: Any, vc: Any, fit: StackFit, classes: Sequence[str], meta: dict[str, Any] | None = None
) -> CategoryModel:
    """The pickle-free CategoryModel of fitted vectorisers and a fitted stack (folded)."""
    coef, intercept, knn = fit.folded()
    return _vectoriser_model(
        vw, vc, classes, coef=coef, intercept=intercept, knn=knn, meta=dict(meta or {})
    )


def train_model(
    texts: list[str],
    labels: list[str],
    *,
    segmented: bool | None = None,
    progress: bool = False,
    knn: bool = False,
    bases: Sequence[str] = BASE_NAMES,
) -> CategoryModel:
    """Train a calibrated category model from raw or pre-segmented texts."""
    if len(texts) != len(labels):
        raise DataError(f"文本 {len(texts)} 条与标签 {len(labels)} 条数量不一致")
    check_classes(labels)
    toks = tokenize_all(texts, segmented=segmented, progress=progress)
    return train_tokens(toks, labels, progress=progress, knn=knn, bases=bases)


# -- evaluation -------------------------------------------------------------------------------


def classification_report(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and a confusion matrix."""
    labels = sorted(set(y_true) | set(y_pred))
    idx = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        cm[idx[t], idx[p]] += 1
    per_class: dict[str, dict[str, float | int]] = {}
    f1s = []
    for lab, i in idx.items():
        tp = int(cm[i, i])
        pred_n, true_n = int(cm[:, i].sum()), int(cm[i, :].sum())
        prec = tp / pred_n if pred_n else 0.0
        rec = tp / true_n if true_n else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[lab] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "support": true_n,
        }
        f1s.append(f1)
    n = len(y_true)
    return {
        "n": n,
        "accuracy": round(float(np.trace(cm)) / n, 4) if n else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "per_class": per_class,
        "confusion": {"labels": labels, "matrix": cm.tolist()},
    }


def evaluate_model(
    model: CategoryModel,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    segmented: bool | None = None,
) -> dict[str, Any]:
    """Score a model on labelled texts; labels unknown to the model simply count as errors."""
    get_cut()  # load the segmenter's dictionary before the clock starts: ms_per_item is per item
    t0 = time.perf_counter()
    preds = [p.category for p in model.predict_batch(texts, segmented=segmented)]
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(texts))
    report = classification_report(list(labels), preds)
    report["ms_per_item"] = round(ms, 4)
    return report


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    segmented: bool | None = None,
    folds: int = DEFAULT_FOLDS,
    progress: bool = False,
    alt_texts: Mapping[int, str] | None = None,
    seed: int = SEED,
    knn: bool = False,
    alt_sets: Mapping[str, Mapping[int, str]] | None = None,
    bases: Sequence[str] = BASE_NAMES,
) -> dict[str, Any]:
    """Stratified k-fold CV report; alt_texts (row -> raw text) are scored too, held out.

    For a held-out row that has an alternative (e.g. the raw message behind a segmented corpus
    row) the alternative text is classified by the same fold model, giving the raw-text figure
    (report["alt"]). alt_sets are more such sets, each reported under its name in
    report["alt_sets"] (e.g. the raw messages as WeChat or an operator deliver them).
    """
    from sklearn.model_selection import StratifiedKFold

    check_classes(labels, max(MIN_ROWS_PER_CLASS, folds))
    t0 = time.perf_counter()
    toks = tokenize_all(texts, segmented=segmented, progress=progress, desc="分词")
    sets = {"alt": alt_texts or {}, **(alt_sets or {})}
    set_toks = {
        name: {i: tokenize(t, segmented=False) for i, t in rows.items()}
        for name, rows in sets.items()
    }
    y = np.asarray(labels)
    pred = np.empty(len(y), dtype=object)
    set_true: dict[str, list[str]] = {name: [] for name in sets}
    set_pred: dict[str, list[str]] = {name: [] for name in sets}
    bar = _bar(folds, "交叉验证", progress)
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(y)), y):
        model = train_tokens([toks[i] for i in tr], list(y[tr]), knn=knn, bases=bases)
        for i in te:
            pred[i] = model.predict_tokens(toks[i]).category
            for name, rows in set_toks.items():
                if i in rows:
                    set_true[name].append(str(y[i]))
                    set_pred[name].append(model.predict_tokens(rows[i]).category)
        bar.update(1)
    bar.close()
    report = classification_report([str(v) for v in y], [str(v) for v in pred])
    report["folds"] = folds
    report["seed"] = seed
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if alt_texts:
        report["alt"] = classification_report(set_true["alt"], set_pred["alt"])
    if alt_sets:
        report["alt_sets"] = {
            name: classification_report(set_true[name], set_pred[name]) for name in alt_sets
        }
    return report


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, desc: str, progress: bool) -> Any:
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="步")
