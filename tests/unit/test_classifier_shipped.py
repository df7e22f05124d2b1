"""The shipped default model and the tokeniser against the real shared data."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

import classifier
from classifier import default_model, default_model_dir, load_model
from classifier.tokenize import tokenize

OBVIOUS = {
    "老板拖欠工资三个月不发，我们农民工去劳动监察大队也没用": "劳动和社会保障",
    "单位一直没给我交养老保险和医疗保险，社保断缴了怎么办": "劳动和社会保障",
    "孩子学校老师周末在家办补课班收费，还强迫学生参加": "教育文体",
    "附近化工厂晚上偷偷排放废气，气味刺鼻，河里的鱼都死了": "环境保护",
    "小区开发商延期交房一年，房产证也办不下来，物业还乱收费": "城乡建设",
    "医院看病挂号难，医生收红包，乡镇卫生院药品比外面贵": "卫生计生",
    "出租车司机拒载还乱收费，货车超载上高速": "交通运输",
    "网购商品质量有问题商家拒不退货，超市卖过期食品": "商贸旅游",
}


def test_default_model_dir_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOTLINE_MODEL_DIR", raising=False)
    monkeypatch.delenv("HOTLINE_DATA_DIR", raising=False)
    assert (
        default_model_dir() == Path(classifier.__file__).resolve().parent.parent / "data" / "model"
    )
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    assert default_model_dir() == tmp_path / "data" / "model"
    monkeypatch.setenv("HOTLINE_MODEL_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path


def test_shipped_model_loads_and_is_cached() -> None:
    m = default_model()
    assert m is default_model()
    assert sorted(m.labels) == sorted(set(OBVIOUS.values()))
    assert m.meta.get("cv", {}).get("macro_f1", 0) > 0.9


@pytest.mark.parametrize("text,label", list(OBVIOUS.items()))
def test_shipped_model_obvious_texts(text: str, label: str) -> None:
    p = default_model().predict(text)
    assert p.category == label, (p.top3, p.tokens)
    assert label in [c for c, _ in p.top3]


def test_shipped_model_confidence_is_graded() -> None:
    m = default_model()
    sure = m.predict("老板拖欠工资不发，农民工讨薪无门，请劳动监察部门处理")
    vague = m.predict("你好，请问一下")
    assert sure.probability > 0.6
    assert vague.probability < sure.probability


def test_shipped_model_matches_current_tokenizer_files() -> None:
    """Editing data/stopwords.txt or userdict.txt without retraining would skew predictions."""
    from classifier.model import tokenizer_fingerprint

    assert default_model().meta["tokenizer"] == tokenizer_fingerprint()


def test_shipped_files_small() -> None:
    total = sum(p.stat().st_size for p in default_model_dir().iterdir())
    assert total < 20 * 1024 * 1024
    assert not any(
        p.suffix in {".pkl", ".pickle", ".joblib"} for p in default_model_dir().iterdir()
    )


@pytest.mark.shared_data
def test_raw_messages_tokenise_like_corpus(shared_data: Path) -> None:
    """Tokens of raw messages should mostly be corpus vocabulary (stop words, letters gone)."""
    with open(shared_data / "corpus" / "tipdm2020_messages_train.csv", encoding="utf-8") as f:
        vocab = Counter(t for r in csv.DictReader(f) for t in r["text"].split())
    with open(shared_data / "raw" / "tipdm2020_messages_with_replies.csv", encoding="utf-8") as f:
        rows = [r for _, r in zip(range(300), csv.DictReader(f), strict=False)]
    toks = [t for r in rows for t in tokenize(f"{r['留言主题']} {r['留言详情']}")]
    known = sum(1 for t in toks if t in vocab or t.startswith("<"))
    # What is left unknown is mostly place and estate names of the city in the raw file.
    assert known / len(toks) > 0.93
    assert not {"的", "了", "是", "A"} & set(toks)


@pytest.mark.shared_data
def test_shipped_model_on_corpus_sample(shared_data: Path) -> None:
    """Sanity: the shipped model reproduces its training labels on a corpus sample."""
    with open(shared_data / "corpus" / "tipdm2020_messages_train.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[::25]
    m = load_model(default_model_dir())
    acc = sum(m.predict(r["text"]).category == r["label"] for r in rows) / len(rows)
    assert acc > 0.95
