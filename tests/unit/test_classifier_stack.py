"""The stacked model: folded files equal the unfolded sklearn stack; batched kNN equals numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix

from classifier import load_model
from classifier.knn import KnnIndex, topk_class_sums
from classifier.model import CategoryModel, ModelFileError
from classifier.stacking import (
    ALL_BASES,
    KNN_KS,
    StackFit,
    fit_stack,
    knn_columns,
    leave_one_out_knn,
)
from classifier.train import (
    model_from_stack,
    read_table,
    sklearn_transform,
    tfidf_fit,
    tokenize_all,
    train_tokens,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "classifier" / "tickets.csv"
PROBES = ["公司欠薪不发工资", "楼下烧烤油烟太大", "", "完全无关的句子", "学校乱收补课费，家长投诉"]


@pytest.fixture(scope="module")
def fitted() -> tuple[object, object, StackFit, list[str], list[list[str]]]:
    texts, labels = read_table(FIXTURE, "类别", ["标题", "内容"])
    toks = tokenize_all(texts)
    vw, vc, x, norms = tfidf_fit(toks)
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    idf = np.concatenate([vw.idf_, vc.idf_])
    # Every member, so the folding of each is checked against the unfolded stack.
    fit = fit_stack(x, y, idf, norms, len(vw.vocabulary_), len(classes), knn=True, bases=ALL_BASES)
    return vw, vc, fit, classes, toks + tokenize_all(PROBES)


def test_folded_model_equals_unfolded_stack(fitted, tmp_path: Path) -> None:
    vw, vc, fit, classes, probes = fitted
    expected = fit.decision(sklearn_transform(vw, vc, probes))
    model = model_from_stack(vw, vc, fit, classes)
    got = np.array([model.decision_tokens(t) for t in probes])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    numpy_path = np.array([model.decision_tokens_numpy(t) for t in probes])
    np.testing.assert_allclose(numpy_path, expected, atol=1e-5)
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    assert np.array_equal(np.array([loaded.decision_tokens(t) for t in probes]), got)
    # The kNN part matters: without it the scores differ.
    assert model.knn is not None and np.abs(model.knn.weight).max() > 0.01


def test_stack_predicts_fixture_categories(fitted) -> None:
    vw, vc, fit, classes, _ = fitted
    model = model_from_stack(vw, vc, fit, classes)
    assert model.predict("工地老板拖欠农民工工资").category == "劳动和社会保障"
    assert model.predict("化工厂晚上偷排废气").category == "环境保护"
    p = model.predict("幼儿园乱收费")
    assert sum(q for _, q in p.top3) <= 1.0 + 1e-9 and 0 < p.probability <= 1


def test_saved_postings_rebuild_the_training_values(fitted, tmp_path: Path) -> None:
    vw, vc, fit, classes, _ = fitted
    model = model_from_stack(vw, vc, fit, classes)
    model.save(tmp_path)
    with np.load(tmp_path / "weights.npz") as w:
        assert w["knn_tf"].dtype == np.uint8 and w["knn_docs"].dtype == np.uint8
    loaded = load_model(tmp_path).knn
    assert loaded is not None and np.array_equal(loaded.docs, model.knn.docs)
    # Column by column, the rebuilt values are the training matrix's TF-IDF values.
    csc = fit.knn_matrix.tocsc()
    csc.sort_indices()
    idf = np.concatenate([model.word_idf, model.char_idf])
    got = loaded.values(idf, len(model.word_vocab))
    np.testing.assert_allclose(got, csc.data, rtol=1e-6)


def test_delta_coded_ticket_numbers_round_trip() -> None:
    knn = KnnIndex(
        counts=[2, 0, 3, 1],
        docs=[1, 4, 0, 2, 3, 4],
        tf=[1, 2, 1, 1, 3, 1],
        norms=np.ones((5, 2)),
        doc_class=[0, 1, 0, 1, 0],
        ks=(1,),
        weight=np.zeros((2, 2)),
    )
    again = KnnIndex.from_arrays(knn.arrays(), (1,))
    assert again.docs.tolist() == [1, 4, 0, 2, 3, 4]
    assert again.tf.tolist() == [1, 2, 1, 1, 3, 1]


def test_topk_class_sums_by_hand() -> None:
    sims = np.array([[0.9, 0.1, 0.5, 0.0, 0.3, 0.7]])
    doc_class = np.array([0, 0, 0, 1, 1, 2])
    got = topk_class_sums(sims, doc_class, 4, (1, 2))
    # k=1 per class: 0.9, 0.3, 0.7, nothing; k=2: 0.9+0.5, 0.3+0.0, 0.7 (one ticket), nothing
    np.testing.assert_allclose(got[0], [0.9, 0.3, 0.7, 0.0, 1.4, 0.3, 0.7, 0.0])


def test_leave_one_out_ignores_the_row_itself() -> None:
    m = csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]))
    doc_class = np.array([0, 0, 1, 1], dtype=np.uint8)
    out = leave_one_out_knn(m, doc_class, 2)
    k1 = slice(0, 2)  # the k=1 columns (class 0, class 1)
    np.testing.assert_allclose(out[0, k1], [1.0, 0.6])  # its twin, not itself (1.0 + 1.0)
    np.testing.assert_allclose(out[2, k1], [0.0, 0.8])
    assert out.shape == (4, 2 * len(KNN_KS))


def test_knn_columns_drop_frequent_features() -> None:
    rows = np.zeros((200, 3))
    rows[:, 0] = 1  # in every row
    rows[:30, 1] = 1  # in 15 % of them
    rows[:3, 2] = 1  # in 1.5 %
    x = csr_matrix(rows)
    assert knn_columns(x, 0.02).tolist() == [2]
    assert knn_columns(x, 0.2).tolist() == [1, 2]
    assert knn_columns(x[:20], 0.02).tolist() == [2]  # floor: features in up to 5 rows stay


def test_two_classes_train_and_predict() -> None:
    texts = [f"拖欠工资 第{i}个月 工地" for i in range(6)] + [
        f"烧烤 油烟 扰民 {i}号" for i in range(6)
    ]
    labels = ["劳动"] * 6 + ["环境"] * 6
    model = train_tokens(tokenize_all(texts), labels)
    assert model.labels == ["劳动", "环境"]
    assert model.predict("工地拖欠工资").category == "劳动"
    assert model.predict("油烟扰民").category == "环境"


def test_version_1_model_without_knn_still_loads(fitted, tmp_path: Path) -> None:
    vw, vc, fit, classes, probes = fitted
    model = model_from_stack(vw, vc, fit, classes)
    linear = CategoryModel(
        labels=model.labels,
        word_vocab=model.word_vocab,
        word_idf=model.word_idf,
        char_vocab=model.char_vocab,
        char_idf=model.char_idf,
        coef=model.coef,
        intercept=model.intercept,
    )
    linear.save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    meta["format"] = "hotline-category-model/1"
    meta.pop("knn")
    (tmp_path / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    loaded = load_model(tmp_path)
    assert loaded.knn is None
    assert np.array_equal(loaded.decision_tokens(probes[0]), linear.decision_tokens(probes[0]))


def test_corrupt_knn_arrays_are_refused(fitted, tmp_path: Path) -> None:
    vw, vc, fit, classes, _ = fitted
    model_from_stack(vw, vc, fit, classes).save(tmp_path)
    with np.load(tmp_path / "weights.npz") as w:
        arrays = dict(w)
    arrays["knn_docs"] = arrays["knn_docs"].copy()
    arrays["knn_docs"][0] = 200  # only 40 training tickets
    np.savez_compressed(tmp_path / "weights.npz", **arrays)
    with pytest.raises(ModelFileError, match="训练工单"):
        load_model(tmp_path)
    arrays["knn_docs"][0] = 0
    arrays["knn_weight"] = arrays["knn_weight"][:, :5]
    np.savez_compressed(tmp_path / "weights.npz", **arrays)
    with pytest.raises(ModelFileError, match="kNN 权重形状"):
        load_model(tmp_path)


WORDS = ["工资", "拖欠", "油烟", "烧烤", "学校", "收费", "物业", "噪音", "未知词", "A1区"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=30), min_size=1, max_size=6))
def test_batched_knn_sums_equal_numpy(fitted, probes: list[list[str]]) -> None:
    """The sparse-matrix kNN (a batch at a time) gives the per-ticket numpy reference's sums."""
    vw, vc, fit, classes, corpus = fitted
    model = model_from_stack(vw, vc, fit, classes)
    batch = probes + corpus[:5]
    got = model.decision_batch(batch)
    for toks, row in zip(batch, got, strict=True):
        np.testing.assert_allclose(row, model.decision_tokens_numpy(toks), rtol=1e-9, atol=1e-12)
    # the kNN part alone: what the batched top-k adds equals the reference top-k sums
    lin = model.decision_batch(batch) - np.array(
        [model.knn.weight @ model.knn_sums_numpy(t) for t in batch]
    )
    no_knn = CategoryModel(
        labels=model.labels,
        word_vocab=model.word_vocab,
        word_idf=model.word_idf,
        char_vocab=model.char_vocab,
        char_idf=model.char_idf,
        coef=model.coef,
        intercept=model.intercept,
    )
    np.testing.assert_allclose(lin, no_knn.decision_batch(batch), rtol=1e-9, atol=1e-12)


def test_padded_class_layout_keeps_small_classes_exact() -> None:
    """Top-k over class-padded columns equals topk_class_sums, also for a class under k."""
    from classifier.knn import KnnMatrix, KnnPostings

    rng = np.random.default_rng(3)
    n_docs, n_slots = 45, 30
    doc_class = np.array([0] * 30 + [1] * 12 + [2] * 3, dtype=np.uint8)  # 3 < k = 5, 12 < 20
    dense = rng.random((n_slots, n_docs)) * (rng.random((n_slots, n_docs)) < 0.3)
    dense[5] = 0.0  # a slot without postings
    indptr = np.concatenate([[0], np.cumsum((dense > 0).sum(axis=1))])
    docs = np.concatenate([np.flatnonzero(r) for r in dense]).astype(np.uint32)
    vals = dense[dense > 0].astype(np.float32)
    post = KnnPostings(indptr, docs, vals, doc_class, 3, (1, 5, 20))
    km = KnnMatrix(post)
    queries = [np.array([0, 5, 7]), np.array([5]), np.arange(n_slots), np.array([], dtype=int)]
    values = [rng.random(len(q)) for q in queries]
    lens = [int(((km.slot_row[q]) >= 0).sum()) for q in queries]
    ptr = np.concatenate([[0], np.cumsum(lens)])
    rows = np.concatenate([km.slot_row[q][km.slot_row[q] >= 0] for q in queries])
    vv = np.concatenate([v[km.slot_row[q] >= 0] for q, v in zip(queries, values, strict=True)])
    got = km.sums(rows.astype(np.int64), vv, ptr)
    for q, v, row in zip(queries, values, got, strict=True):
        np.testing.assert_allclose(row, post.features(q, v), rtol=1e-12, atol=0)
