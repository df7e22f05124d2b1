"""Segmentation: rjieba gives jieba's tokens; data files come from the configured directory."""

from __future__ import annotations

import ast
import csv
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifier import segment
from classifier import tokenize as tok_mod
from classifier.normalize import normalize_text
from classifier.tokenize import (
    configure,
    get_cut,
    get_tokenizer,
    load_stopwords,
    segmenter_name,
    tokenize,
    tokenizer_files,
)

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def restore_tokenizer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Put the default configuration back after a test that changes it."""
    monkeypatch.delenv("HOTLINE_DATA_DIR", raising=False)
    yield
    monkeypatch.delenv("HOTLINE_DATA_DIR", raising=False)
    configure()


def test_rjieba_is_the_segmenter() -> None:
    assert segmenter_name() == "rjieba"


@pytest.mark.parametrize(
    "text",
    [
        "每月6-7号发工资，2-3个月没发",
        "标准GB51039-2014规定，2019.12.31前整改，面积92291.94m2",
        "2007.9.21-2074.8.17 土地使用权，涨价50%，C++培训班_报名",
        "楼下占道经营，晚上噪音扰民，老板还拖欠工资，找了市场监管局和人社局",
    ],
)
def test_rjieba_cut_equals_jieba_on_digit_and_symbol_runs(text: str) -> None:
    norm = normalize_text(text)
    assert get_cut()(norm) == get_tokenizer().lcut(norm)


def test_split_runs_splits_like_jieba() -> None:
    assert segment.split_runs(["6-7", "号", "2019.12.31", "A1", "50%", "物业-费"]) == [
        "6",
        "-",
        "7",
        "号",
        "2019.12",
        ".",
        "31",
        "A1",
        "50%",
        "物业-费",
    ]


@pytest.mark.shared_data
def test_rjieba_tokens_equal_jieba_on_every_shared_text(shared_data: Path) -> None:
    from classifier.rawpairs import read_raw_messages

    raw = read_raw_messages(shared_data / "raw" / "tipdm2020_messages_with_replies.csv")
    with open(shared_data / "corpus" / "tipdm2020_messages_train.csv", encoding="utf-8") as f:
        corpus = [r["text"].replace(" ", "") for r in csv.DictReader(f)]
    cut, tk = get_cut(), get_tokenizer()
    order_only = 0
    for text in map(normalize_text, raw + corpus):
        fast, ref = cut(text), tk.lcut(text)
        if fast != ref:
            # Two routes that tie (跳 跳跳 / 跳跳 跳): the same tokens, another order.
            assert sorted(fast) == sorted(ref), (text, fast, ref)
            order_only += 1
    assert order_only <= 2


def test_falls_back_to_jieba_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "rjieba", None)  # import rjieba now raises ImportError
    with caplog.at_level(logging.WARNING, logger="classifier.segment"):
        name, cut = segment.make_cut([("占道经营", None)])
    assert name == "jieba"
    assert "rjieba" in caplog.text and "jieba" in caplog.text
    assert cut("楼下占道经营") == ["楼下", "占道经营"]


def test_configure_reads_the_given_data_directory(tmp_path: Path, restore_tokenizer: None) -> None:
    (tmp_path / "stopwords.txt").write_text("# 停用词\n楼下\n", encoding="utf-8")
    (tmp_path / "userdict.txt").write_text("晚上施工\n", encoding="utf-8")
    before = tokenize("楼下工地晚上施工", segmented=False)
    assert "楼下" in before and "晚上施工" not in before
    files = configure(tmp_path)
    assert files == tokenizer_files()
    assert files.stopwords == tmp_path / "stopwords.txt"
    assert tokenize("楼下工地晚上施工", segmented=False) == ["工地", "晚上施工"]
    assert "的" not in load_stopwords()  # the shipped list is no longer in use
    configure()
    assert tokenize("楼下工地晚上施工", segmented=False) == before


def test_default_data_directory_is_hotline_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_tokenizer: None
) -> None:
    assert configure().stopwords == REPO / "data" / "stopwords.txt"
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    (tmp_path / "stopwords.txt").write_text("工地\n", encoding="utf-8")
    assert configure().userdict == tmp_path / "userdict.txt"
    assert "工地" not in tokenize("楼下工地", segmented=False)
    assert tok_mod.load_userwords() == frozenset()  # no userdict.txt there: none, not ours


def test_classifier_imports_nothing_of_the_service() -> None:
    """classifier/ stands alone: no import of hotline, routing or sla (see DESIGN.md)."""
    bad = []
    for path in (REPO / "classifier").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in ("hotline", "routing", "sla")
            ]
    assert bad == []
