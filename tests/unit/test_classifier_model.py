"""Model: sklearn pipeline vs pickle-free files, calibration, API shape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import CategoryModel, Prediction, load_model
from classifier.model import ModelFileError
from classifier.train import (
    DataError,
    check_classes,
    classification_report,
    fit_sklearn_pipeline,
    model_from_sklearn,
    read_table,
    sklearn_transform,
    tokenize_all,
    train_model,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "classifier" / "tickets.csv"


@pytest.fixture(scope="module")
def table() -> tuple[list[str], list[str]]:
    return read_table(FIXTURE, "类别", ["标题", "内容"])


@pytest.fixture(scope="module")
def tiny_model(table: tuple[list[str], list[str]]) -> CategoryModel:
    texts, labels = table
    return train_model(texts, labels, knn=True)  # the files with every part


def test_read_table_joins_columns(table: tuple[list[str], list[str]]) -> None:
    texts, labels = table
    assert len(texts) == 40 and len(set(labels)) == 4
    assert texts[0].startswith("公司拖欠工资 我在某建筑公司打工")


def test_round_trip_matches_sklearn(table: tuple[list[str], list[str]], tmp_path: Path) -> None:
    texts, labels = table
    toks = tokenize_all(texts)
    vw, vc, clf = fit_sklearn_pipeline(toks, labels)
    model = model_from_sklearn(vw, vc, clf, temperature=0.7)
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    probes = toks + tokenize_all(["公司欠薪不发工资", "楼下烧烤油烟太大", "", "完全无关的句子"])
    expected = clf.decision_function(sklearn_transform(vw, vc, probes))
    got = np.array([loaded.decision_tokens(t) for t in probes])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [loaded.labels[i] for i in got.argmax(1)] == list(
        clf.predict(sklearn_transform(vw, vc, probes))
    )
    assert loaded.temperature == pytest.approx(0.7)


def test_saved_files_are_pickle_free(tiny_model: CategoryModel, tmp_path: Path) -> None:
    tiny_model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "vocab.json", "weights.npz"]
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert meta["labels"] == tiny_model.labels and meta["format"] == "hotline-category-model/2"
    assert meta["knn"]["ks"] == [1, 5, 20] and meta["knn"]["n_docs"] == 40
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as w:
        assert w["coef"].shape[0] == 4
        assert w["knn_doc_class"].shape == (40,) and w["knn_weight"].shape == (4, 12)
    again = load_model(tmp_path)
    for text in ["工地拖欠农民工工资", "河道污水直排发臭"]:
        a, b = tiny_model.predict(text), again.predict(text)
        assert a.category == b.category and a.probability == pytest.approx(b.probability, abs=1e-6)


def test_prediction_shape(tiny_model: CategoryModel) -> None:
    p = tiny_model.predict("老板拖欠工资三个月，劳动仲裁也不执行")
    assert isinstance(p, Prediction)
    assert p.category == "劳动和社会保障"
    assert len(p.top3) == 3 and p.top3[0] == (p.category, p.probability)
    assert [q for _, q in p.top3] == sorted((q for _, q in p.top3), reverse=True)
    assert "拖欠工资" in p.tokens
    probs = tiny_model.proba_from_scores(tiny_model.decision_tokens(p.tokens))
    assert probs.sum() == pytest.approx(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.category = "x"  # type: ignore[misc]


def test_predict_batch_equals_predict(tiny_model: CategoryModel) -> None:
    texts = ["小区物业乱收费", "学校补课收费", "", "化工厂偷排废气"]
    batch = tiny_model.predict_batch(texts)
    assert [b.category for b in batch] == [tiny_model.predict(t).category for t in texts]
    assert batch[2].tokens == []


def test_fixture_categories(tiny_model: CategoryModel) -> None:
    assert tiny_model.predict("学校乱收补课费，家长负担重").category == "教育文体"
    assert tiny_model.predict("化工厂晚上排放废气污染空气").category == "环境保护"
    assert tiny_model.predict("开发商延期交房，物业还乱收费").category == "城乡建设"


def test_check_classes_rejects_small_class() -> None:
    with pytest.raises(DataError, match="「乙」3 行"):
        check_classes(["甲"] * 6 + ["乙"] * 3)
    with pytest.raises(DataError):
        check_classes(["甲"] * 10)


def test_report_counts_unknown_labels_as_errors() -> None:
    r = classification_report(["a", "b", "新类"], ["a", "b", "a"])
    assert r["n"] == 3 and r["accuracy"] == pytest.approx(0.6667, abs=1e-4)
    assert r["per_class"]["新类"]["recall"] == 0.0
    assert r["confusion"]["labels"] == ["a", "b", "新类"]


def test_load_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="model.json"):
        load_model(tmp_path)


def test_raw_messages_matched_to_segmented_rows() -> None:
    from classifier.rawpairs import match_pairs

    corpus = [
        "小区 物业公司 乱收费 停水 停电 业主 投诉",
        "学校 补课 收费 家长 负担",
        "化工厂 偷排 废气 居民 头晕",
    ]
    raw = [
        "化工厂晚上偷排废气，居民头晕恶心！",
        "今天天气很好，出去走走",
        "我们小区的物业公司乱收费，还停水停电，业主投诉没人管",
    ]
    pairs = match_pairs(raw, corpus)
    assert [(r, c) for r, c, _ in pairs] == [(0, 2), (2, 0)]
    assert all(score >= 0.8 for _, _, score in pairs)


TOKEN_DOCS = st.lists(
    st.lists(st.text(alphabet="物业小区ab12", min_size=1, max_size=4), max_size=8), max_size=4
)


@settings(max_examples=200, deadline=None)
@given(TOKEN_DOCS)
def test_cached_char_ngram_ids_equal_plain_ngrams(docs: list[list[str]]) -> None:
    """The per-token cache gives exactly the n-grams sklearn's char analyzer sees."""
    from classifier.features import char_ngram_ids, char_ngrams, char_text

    vocab: dict[str, int] = {}
    for g in char_ngrams("物业 小区 a 1 b2 业小 区a", 1, 3)[::2]:  # a partial vocabulary
        vocab.setdefault(g, len(vocab))
    cache: dict[str, tuple[int, ...]] = {}
    for tokens in docs + docs:  # second pass is served from the cache
        expected = [vocab[g] for g in char_ngrams(char_text(tokens), 1, 3) if g in vocab]
        got = char_ngram_ids(tokens, vocab, 1, 3, cache)
        assert sorted(got) == sorted(expected)
