"""The C segmenter (classifier._jiebacut) gives exactly jieba's Tokenizer.lcut tokens."""

from __future__ import annotations

import csv
import importlib
import logging
import random
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jieba import finalseg

import classifier
from classifier import fastcut
from classifier.normalize import normalize_text
from classifier.rawpairs import read_raw_messages
from classifier.tokenize import get_tokenizer
from tests.cbuild import require_extension

RAW_MESSAGES = Path("raw") / "tipdm2020_messages_with_replies.csv"
CORPUS = Path("corpus") / "tipdm2020_messages_train.csv"


# ---- the extension must be there wherever it can be built ---------------------------------


def _extension() -> Any:
    """classifier._jiebacut; a failure where it should have been built, a skip where it cannot."""
    return require_extension(fastcut._jiebacut, "_jiebacut", fastcut.IMPORT_ERROR)


@pytest.fixture(scope="module")
def default_tk() -> jieba.Tokenizer:
    """A plain jieba tokenizer with the default dictionary."""
    tk = jieba.Tokenizer()
    jieba.default_logger.setLevel(logging.WARNING)
    tk.initialize()
    return tk


@pytest.fixture(scope="module")
def project_tk() -> jieba.Tokenizer:
    """The classifier's tokenizer, with data/userdict.txt added."""
    return get_tokenizer()


@pytest.fixture(scope="module")
def c_default(default_tk: jieba.Tokenizer) -> Any:
    """The C segmenter over the default dictionary."""
    _extension()
    return fastcut.build_segmenter(default_tk)


@pytest.fixture(scope="module")
def c_project(project_tk: jieba.Tokenizer) -> Any:
    """The C segmenter over the project dictionary."""
    _extension()
    return fastcut.build_segmenter(project_tk)


@pytest.fixture(params=["default", "project"])
def pair(request: pytest.FixtureRequest) -> tuple[jieba.Tokenizer, Any]:
    """(jieba tokenizer, C segmenter over its dictionary), for both dictionaries."""
    return (
        request.getfixturevalue(f"{request.param}_tk"),
        request.getfixturevalue(f"c_{request.param}"),
    )


def _assert_same(tk: jieba.Tokenizer, seg: Any, texts: list[str]) -> None:
    """seg.cut(t) == tk.lcut(t) for every text, listing the first few that differ."""
    bad = [t for t in texts if seg.cut(t) != tk.lcut(t)]
    assert not bad, f"{len(bad)}/{len(texts)} texts differ, first: " + "; ".join(
        f"{t[:60]!r}: jieba {tk.lcut(t)[:12]} C {seg.cut(t)[:12]}" for t in bad[:3]
    )


def test_extension_is_built_and_used() -> None:
    """make_cutter uses C here unless HOTLINE_PURE_PYTHON=1 asks for jieba."""
    _extension()
    if not fastcut.FORCED_PURE:
        assert jieba.__version__ == fastcut.PORTED_JIEBA_VERSION, (
            f"jieba {jieba.__version__}: check the C port against it, then update "
            "PORTED_JIEBA_VERSION"
        )
    assert fastcut.ACCELERATED is (not fastcut.FORCED_PURE)


def test_make_cutter_picks_c_and_matches(project_tk: jieba.Tokenizer) -> None:
    cut = fastcut.make_cutter(project_tk)
    if fastcut.ACCELERATED:
        assert cut != project_tk.lcut
    else:
        assert cut == project_tk.lcut
    for t in ["", "他来到了网易杭研大厦", "小区物业乱收费 电话<电话>", "\r\n6-7 3.5%"]:
        assert cut(t) == project_tk.lcut(t)
    # bytes are decoded by jieba, as tk.lcut does
    assert cut("占道经营".encode()) == project_tk.lcut("占道经营".encode())


# ---- identity on chosen and generated strings ----------------------------------------------


def _long_text(n: int) -> str:
    """n characters of complaint-like text with numbers, letters and punctuation."""
    rng = random.Random(5000)
    words = (
        "小区 物业 乱收费 业主 投诉 噪音扰民 夜间 施工 拖欠工资 农民工 社保 学校 补课 A市 "
        "A1区 2019.5.3 3.5% 6-7 10:30 No.12 C++ 占道经营 城管 街道 停车 电梯 故障 维修 基金 "
        "燃气 停水 停电 反映 希望 尽快 解决 ， 。 ！ ？ （ ） 、 “ ” 😀 \r\n \t"
    ).split(" ")
    out = ""
    while len(out) < n:
        out += rng.choice(words) if rng.random() < 0.8 else chr(rng.randint(0x4E00, 0x9FD5))
    return out[:n]


EDGE_CASES = [
    "",
    " ",
    "     ",
    "\t",
    "\r\n",
    "\r\n\r\n",
    "\r\r\n\n",
    "\n\r",
    "6-7",
    "3.5%",
    "A市A1区",
    "2019.5.3",
    ".5%",
    "%%--..__",
    "3.14159%的",
    "100%的人",
    "v1.2.3-beta_rc&x#y+z",
    "C++和C#语言",
    "abc.123.def",
    "我我我我我我",
    "的" * 1000,
    "a" * 1000,
    "1" * 1000,
    "。" * 200,
    " " * 300,
    "".join(chr(0x9F00 + i % 200) for i in range(3000)),  # a long run for the HMM
    "".join(chr(0x4E00 + (i * 7919) % 20950) for i in range(2000)),
    "𠀀𠀁𪚥",
    "😀中文😀👍🏻❤️",
    "中\u3000文\xa0字\u2028行\x85尾",
    "ＡＢＣ１２３，全角",
    "\x00中\x00",
    "\ud800孤立代理\udfff",
    "\U0010ffff",
    "é是e\u0301",
    "他来到了网易杭研大厦",
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "李小福是创新办主任也是云计算方面的专家",
    "A1区蔡锷南路A2区华庭楼顶水箱长年不洗",
    _long_text(5000),
]


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases(pair: tuple[jieba.Tokenizer, Any], text: str) -> None:
    tk, seg = pair
    assert seg.cut(text) == tk.lcut(text)


def test_all_str_kinds(pair: tuple[jieba.Tokenizer, Any]) -> None:
    """Latin-1, UCS-2 and UCS-4 strings (PEP 393 kinds 1, 2, 4), and a str subclass."""

    class S(str):
        pass

    tk, seg = pair
    for text in ["abc 1.5% x", "é ü 3.5", "物业 abc", "物业😀abc", S("物业费 abc")]:
        assert seg.cut(text) == tk.lcut(text)
        assert all(type(t) is str for t in seg.cut(text))


COMMON_WORDS = (
    "小区 物业 物业费 业主 投诉 反映 噪音 扰民 施工 工资 农民工 社保 学校 医院 公交 线路 垃圾 "
    "污染 河道 开发商 交房 房产证 占道经营 城管 街道 社区 停车 收费 电梯 维修 基金 燃气 "
    "自来水 停水 停电 希望 尽快 解决 我们 他们 的 了 是 在 不 有 和 人 这 中 大 为 上 个 市 区 县"
).split()
RANDOM_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FD5)
RARE_CJK = st.one_of(
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),  # extension A
    st.characters(min_codepoint=0x9FD6, max_codepoint=0x9FFF),  # past re_han's range
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # extension B (astral)
    st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),  # compatibility ideographs
)
PIECES = st.one_of(
    st.sampled_from(COMMON_WORDS),
    RANDOM_CJK,
    RARE_CJK,
    st.sampled_from(list("abcxyzABCXYZ0123456789+#&._%-")),
    st.sampled_from(["3.5", "2019.5.3", "10%", "A1", "6-7", "0.5%", "v2", "12.", ".3"]),
    st.sampled_from([" ", "  ", "\t", "\r\n", "\r", "\n", "\u3000", "\xa0", "\x0b", "\x85"]),
    st.sampled_from(list("，。！？；：（）【】“”、《》…—％＋－．０１ＡＢ")),
    st.sampled_from(["😀", "🚀", "👍🏻", "❤️", "\u200d", "\U0001f1e8\U0001f1f3"]),
)
MIXED = st.lists(PIECES, max_size=60).map("".join)
# Runs the dictionary does not know, with letters and digits inside: finalseg's own regexes.
HMM_HEAVY = st.lists(
    st.one_of(RANDOM_CJK, st.sampled_from(list("ab1.2%-_") + ["3.5", "x9"])), max_size=40
).map("".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MIXED)
def test_generated_mixed_text(
    default_tk: jieba.Tokenizer,
    c_default: Any,
    project_tk: jieba.Tokenizer,
    c_project: Any,
    text: str,
) -> None:
    assert c_default.cut(text) == default_tk.lcut(text)
    assert c_project.cut(text) == project_tk.lcut(text)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HMM_HEAVY)
def test_generated_unknown_words(
    default_tk: jieba.Tokenizer,
    c_default: Any,
    project_tk: jieba.Tokenizer,
    c_project: Any,
    text: str,
) -> None:
    assert c_default.cut(text) == default_tk.lcut(text)
    assert c_project.cut(text) == project_tk.lcut(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_generated_any_unicode(default_tk: jieba.Tokenizer, c_default: Any, text: str) -> None:
    assert c_default.cut(text) == default_tk.lcut(text)


# ---- identity on the real messages ---------------------------------------------------------


@pytest.fixture(scope="module")
def raw_messages() -> list[str]:
    """Every raw message of the shared data (留言主题 + 留言详情), or a skip without it."""
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "corpus").is_dir():
        pytest.skip(f"needs ../shared/data (not found at {SHARED_DATA})")
    return read_raw_messages(SHARED_DATA / RAW_MESSAGES)


@pytest.mark.shared_data
def test_raw_messages(project_tk: jieba.Tokenizer, c_project: Any, raw_messages: list[str]):
    assert len(raw_messages) > 2000
    _assert_same(project_tk, c_project, raw_messages)


@pytest.mark.shared_data
def test_raw_messages_default_dictionary(
    default_tk: jieba.Tokenizer, c_default: Any, raw_messages: list[str]
) -> None:
    _assert_same(default_tk, c_default, raw_messages)


@pytest.mark.shared_data
def test_normalised_raw_messages(
    project_tk: jieba.Tokenizer, c_project: Any, raw_messages: list[str]
) -> None:
    _assert_same(project_tk, c_project, [normalize_text(t) for t in raw_messages])


@pytest.mark.shared_data
def test_corpus_rows_unsegmented(
    project_tk: jieba.Tokenizer, c_project: Any, shared_data: Path
) -> None:
    with open(shared_data / CORPUS, encoding="utf-8") as f:
        rows = [r["text"].replace(" ", "") for r in csv.DictReader(f)]
    assert len(rows) > 5000
    _assert_same(project_tk, c_project, rows)


# ---- dictionary changes, force-split words, bad input --------------------------------------


@pytest.fixture
def fresh_tk(monkeypatch: pytest.MonkeyPatch) -> jieba.Tokenizer:
    """A tokenizer a test may change; Force_Split_Words (global in jieba) is restored after."""
    monkeypatch.setattr(finalseg, "Force_Split_Words", set(finalseg.Force_Split_Words))
    tk = jieba.Tokenizer()
    tk.initialize()
    return tk


def test_force_split_words(fresh_tk: jieba.Tokenizer) -> None:
    _extension()
    texts = ["他来到了网易杭研大厦", "杭研和杭研院", "小明硕士毕业于中国科学院计算所"]
    assert "杭研" in fresh_tk.lcut(texts[0])  # a word only the HMM finds
    finalseg.Force_Split_Words.update({"杭研", "某某", "x"})
    seg = fastcut.build_segmenter(fresh_tk)
    assert "杭研" not in seg.cut(texts[0])
    _assert_same(fresh_tk, seg, texts)


def test_cutter_follows_dictionary_changes(fresh_tk: jieba.Tokenizer) -> None:
    tk = fresh_tk
    cut = fastcut.make_cutter(tk)
    text = "他来到了网易杭研大厦，看见了北京天安门"
    assert cut(text) == tk.lcut(text)
    tk.add_word("杭研大厦")
    assert "杭研大厦" in tk.lcut(text)
    assert cut(text) == tk.lcut(text)
    tk.del_word("天安门")  # freq 0, and into Force_Split_Words
    assert cut(text) == tk.lcut(text)
    tk.suggest_freq(("北京", "天安", "门"), tune=True)
    assert cut(text) == tk.lcut(text)


def test_refused_dictionary_falls_back_to_jieba(
    fresh_tk: jieba.Tokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    _extension()
    fresh_tk.FREQ["杭研"] = "many"  # jieba itself only fails once it needs the value
    with pytest.raises(TypeError):
        fastcut.build_segmenter(fresh_tk)
    with caplog.at_level(logging.WARNING, logger="classifier.fastcut"):
        cut = fastcut.make_cutter(fresh_tk)
        assert cut("北京") == fresh_tk.lcut("北京")
    if fastcut.ACCELERATED:
        assert "not used" in caplog.text


def test_segmenter_rejects_bad_arguments(default_tk: jieba.Tokenizer) -> None:
    ext = _extension()
    seg = fastcut.build_segmenter(default_tk)
    with pytest.raises(TypeError):
        seg.cut(b"bytes")
    with pytest.raises(TypeError):
        seg.cut(None)
    args = (finalseg.start_P, finalseg.trans_P, finalseg.emit_P, set())
    with pytest.raises(ValueError):
        ext.Segmenter({"a": -1}, 1, *args)
    with pytest.raises(ValueError):
        ext.Segmenter({"a": 1}, 0, *args)
    with pytest.raises(TypeError):
        ext.Segmenter({1: 1}, 1, *args)
    with pytest.raises(KeyError):
        ext.Segmenter({"a": 1}, 1, {}, finalseg.trans_P, finalseg.emit_P, set())
    with pytest.raises(TypeError):
        ext.Segmenter({"a": 1}, 1, finalseg.start_P, finalseg.trans_P, finalseg.emit_P, {3})


def test_unusual_dictionary() -> None:
    """Not prefix-closed, float, None and zero frequencies, a float total: still jieba's tokens."""
    ext = _extension()
    tk = jieba.Tokenizer()
    tk.FREQ = {"abc": 2.5, "ab": 0, "a": None, "中国人": 3, "中国": 0.0, "国": 7, "人民": 1e-3}
    tk.total = 11.5
    tk.initialized = True
    seg = ext.Segmenter(tk.FREQ, tk.total, finalseg.start_P, finalseg.trans_P, finalseg.emit_P, [])
    texts = ["abc中国人", "ab中国人民", "中国中国人人民", "a b c", "国人国人民"]
    _assert_same(tk, seg, texts + EDGE_CASES)


def test_no_leaks(c_default: Any, default_tk: jieba.Tokenizer) -> None:
    """Repeated cuts and builds give back their memory and keep the input's refcount."""
    text = _long_text(2000)
    refs = sys.getrefcount(text)
    c_default.cut(text)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(300):
            c_default.cut(text)
        for _ in range(3):
            fastcut.build_segmenter(default_tk)
        assert tracemalloc.get_traced_memory()[0] - before < 64 * 1024
    finally:
        tracemalloc.stop()
    assert sys.getrefcount(text) == refs


# ---- the pure-jieba fallback -----------------------------------------------------------------


@pytest.fixture
def reload_fastcut(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """fastcut re-imported under the test's monkeypatching, and re-imported clean after."""
    yield lambda: importlib.reload(fastcut)
    monkeypatch.undo()
    importlib.reload(fastcut)


def test_pure_jieba_env_forces_fallback(
    monkeypatch: pytest.MonkeyPatch, reload_fastcut: Any, project_tk: jieba.Tokenizer
) -> None:
    monkeypatch.setenv("HOTLINE_PURE_PYTHON", "1")
    mod = reload_fastcut()
    assert mod.FORCED_PURE and not mod.ACCELERATED
    assert mod.make_cutter(project_tk) == project_tk.lcut


def test_missing_extension_falls_back(
    monkeypatch: pytest.MonkeyPatch, reload_fastcut: Any, project_tk: jieba.Tokenizer
) -> None:
    monkeypatch.delenv("HOTLINE_PURE_PYTHON", raising=False)
    monkeypatch.setitem(sys.modules, "classifier._jiebacut", None)  # import fails
    monkeypatch.delattr(classifier, "_jiebacut", raising=False)
    mod = reload_fastcut()
    assert mod._jiebacut is None and mod.IMPORT_ERROR is not None and not mod.ACCELERATED
    cut = mod.make_cutter(project_tk)
    assert cut == project_tk.lcut
    with pytest.raises(RuntimeError):
        mod.build_segmenter(project_tk)


def test_fallback_and_c_agree(project_tk: jieba.Tokenizer, c_project: Any) -> None:
    """The two paths make_cutter can take give the same tokens."""
    texts = [t for t in EDGE_CASES if len(t) < 3000]
    assert [project_tk.lcut(t) for t in texts] == [c_project.cut(t) for t in texts]
