"""The fast prediction path: numeric n-gram look-up, regex rewrites, tokeniser shortcuts, pool."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import normalize as norm_mod
from classifier.features import FeatureIndex, char_ngrams, char_text, word_ngrams
from classifier.model import CategoryModel, load_model
from classifier.normalize import PLACEHOLDERS
from classifier.tokenize import (
    _CJK,
    _HAS_WORD,
    get_tokenizer,
    keep_words,
    load_stopwords,
    looks_presegmented,
    tokenize,
)
from classifier.train import read_table, train_model

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "classifier" / "tickets.csv"

# The plain forms of the ID and phone patterns that classifier.normalize rewrites for speed.
PLAIN_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PLAIN_PHONE = re.compile(
    r"(?<![0-9])(?:(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}|0\d{2,3}[- ]?\d{7,8})(?![0-9])"
)

PHONEISH = st.text(alphabet="0123456789 -+86xX1a中", max_size=40)


@settings(max_examples=500, deadline=None)
@given(PHONEISH)
def test_fast_id_and_phone_patterns_equal_plain_ones(s: str) -> None:
    assert norm_mod._ID_NUMBER.sub("#", s) == PLAIN_ID.sub("#", s)
    assert norm_mod._PHONE.sub("#", s) == PLAIN_PHONE.sub("#", s)


@pytest.mark.parametrize(
    "s",
    [
        "电话13812345678",
        "电话138-1234-5678",
        "+86 13812345678",
        "x8613812345678",
        "5+8613812345678",
        "86-13812345678",
        "813812345678",
        "座机0731-84567890",
        "身份证43010219900101123X",
        "a430102199001011234",
        "12345678901234567890",
    ],
)
def test_fast_patterns_on_known_cases(s: str) -> None:
    assert norm_mod._ID_NUMBER.sub("#", s) == PLAIN_ID.sub("#", s)
    assert norm_mod._PHONE.sub("#", s) == PLAIN_PHONE.sub("#", s)


def plain_presegmented(text: str) -> bool:
    chunks = [len(_CJK.findall(c)) for c in text.split()]
    cjk = [n for n in chunks if n]
    return len(cjk) >= 3 and sum(cjk) / len(cjk) <= 3.5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="小区物业ab1 ，", min_size=1, max_size=6), max_size=12))
def test_presegmented_shortcut_equals_plain(chunks: list[str]) -> None:
    text = " ".join(chunks)
    assert looks_presegmented(text) == plain_presegmented(text)


def test_whole_text_jieba_equals_chunkwise() -> None:
    tk = get_tokenizer()
    text = "小区物业乱收费，业主很不满意 请尽快处理！ 电话<电话>转 <电话> 拨打<电话>"
    whole = tokenize(text, segmented=False)
    norm = norm_mod.normalize_text(text)
    chunkwise = [
        t
        for c in norm.split(" ")
        for t in ([c] if c in norm_mod.PLACEHOLDERS else tk.lcut(c))
        if tokenize(t, segmented=True) == [t] or c in norm_mod.PLACEHOLDERS
    ]
    assert whole == chunkwise
    assert tokenize("没有占位符 的 文本，物业收费", segmented=False) == [
        t for c in ["没有占位符", "的", "文本，物业收费"] for t in tokenize(c, segmented=False)
    ]


PIECES = st.lists(
    st.one_of(
        st.text(alphabet="的了小区a1，。！…_-<>　①ア\U0001f600", min_size=1, max_size=4),
        st.sampled_from(sorted(PLACEHOLDERS) + ["的", "了", "A", "，", " ", "……"]),
    ),
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(PIECES)
def test_keep_words_equals_the_per_token_test(pieces: list[str]) -> None:
    # The per-token rule it replaces: a placeholder, or a word character and no stop word.
    stop = load_stopwords()
    plain = [p for p in pieces if p in PLACEHOLDERS or (p not in stop and _HAS_WORD.search(p))]
    assert keep_words(pieces) == plain


# -- numeric n-gram look-up == dict look-up (what sklearn's analyzers produce) ----------------

TOKEN_LISTS = st.lists(
    st.lists(st.text(alphabet="物业小区ab12乱收费\U0001f600", min_size=1, max_size=4), max_size=10),
    min_size=1,
    max_size=4,
)


def _vocab(docs: list[list[str]], lo: int, hi: int) -> tuple[list[str], list[str]]:
    words: dict[str, None] = {}
    chars: dict[str, None] = {}
    for toks in docs:
        for g in word_ngrams(toks):
            words.setdefault(g)
        for g in char_ngrams(char_text(toks), lo, hi):
            chars.setdefault(g)
    # a partial vocabulary, so some n-grams are unknown
    return list(words)[::2], list(chars)[::2]


@settings(max_examples=200, deadline=None)
@given(TOKEN_LISTS, TOKEN_LISTS, st.sampled_from([(1, 3), (2, 4), (1, 1)]))
def test_feature_index_equals_dict_lookup(
    train: list[list[str]], probe: list[list[str]], char_range: tuple[int, int]
) -> None:
    lo, hi = char_range
    wv, cv = _vocab(train, lo, hi)
    index = FeatureIndex(wv, cv, char_range)
    assert index.numeric
    wid = {g: i for i, g in enumerate(wv)}
    cid = {g: i + len(wv) for i, g in enumerate(cv)}
    for toks in train + probe:
        expected = [wid[g] for g in word_ngrams(toks) if g in wid]
        expected += [cid[g] for g in char_ngrams(char_text(toks), lo, hi) if g in cid]
        assert sorted(index.ids(toks).tolist()) == sorted(expected)
        slots, counts = index.counts(toks)
        assert len(set(slots.tolist())) == len(slots)  # each n-gram once, with its count
        assert sorted(np.repeat(index.order[slots], counts).tolist()) == sorted(expected)


@settings(max_examples=100, deadline=None)
@given(TOKEN_LISTS, st.lists(TOKEN_LISTS, min_size=1, max_size=3).map(lambda ls: sum(ls, [])))
def test_batch_keys_give_each_ticket_what_it_gets_alone(
    train: list[list[str]], batch: list[list[str]]
) -> None:
    # No known n-gram spans two tickets in the shared buffer (empty tickets included), and
    # each ticket's known keys and counts come out in the order they have alone. (The
    # n-grams that run into the sentinels after a ticket are unknown either way.)
    wv, cv = _vocab(train, 1, 3)
    index = FeatureIndex(wv, cv, (1, 3))
    ticket, keys, counts = index.batch_keys(batch)
    for i, toks in enumerate(batch):
        mine = ticket == i
        slots = index.lookup(keys[mine])
        alone_keys, alone_counts = index.ticket_keys(toks)
        alone_slots = index.lookup(alone_keys)
        assert slots[slots >= 0].tolist() == alone_slots[alone_slots >= 0].tolist()
        assert counts[mine][slots >= 0].tolist() == alone_counts[alone_slots >= 0].tolist()
        slots, n = index.counts(toks)
        assert sorted(np.repeat(index.order[slots], n).tolist()) == sorted(
            [
                j
                for j in map({g: i for i, g in enumerate(wv)}.get, word_ngrams(toks))
                if j is not None
            ]
            + [
                j + len(wv)
                for j in map(
                    {g: i for i, g in enumerate(cv)}.get, char_ngrams(char_text(toks), 1, 3)
                )
                if j is not None
            ]
        )


@settings(max_examples=100, deadline=None)
@given(TOKEN_LISTS, TOKEN_LISTS)
def test_feature_index_dict_fallback_agrees(train: list[list[str]], probe: list[list[str]]) -> None:
    wv, cv = _vocab(train, 1, 3)
    fast = FeatureIndex(wv, cv, (1, 3))
    slow = FeatureIndex(wv, cv, (1, 3), numeric=False)
    assert fast.numeric and not slow.numeric
    for toks in train + probe:
        assert sorted(fast.ids(toks).tolist()) == sorted(slow.ids(toks).tolist())


# -- process pool ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_model(tmp_path_factory: pytest.TempPathFactory) -> CategoryModel:
    texts, labels = read_table(FIXTURE, "类别", ["标题", "内容"])
    out = tmp_path_factory.mktemp("m")
    train_model(texts, labels).save(out)
    return load_model(out)


def test_batch_with_workers_equals_single(fixture_model: CategoryModel) -> None:
    texts, _ = read_table(FIXTURE, "类别", ["标题", "内容"])
    texts = texts + ["", "公司欠薪不发工资", "楼下烧烤油烟太大 电话13812345678"]
    single = [fixture_model.predict(t) for t in texts]
    try:
        assert fixture_model.predict_batch(texts, workers=2) == single
        assert fixture_model.predict_batch(texts[:5], workers=2) == single[:5]  # small: inline
    finally:
        fixture_model.close()


def test_workers_for_a_model_trained_in_memory() -> None:
    texts, labels = read_table(FIXTURE, "类别", ["标题", "内容"])
    model = train_model(texts, labels)
    assert model.source_dir is None
    try:
        assert model.predict_batch(texts, workers=2) == [model.predict(t) for t in texts]
    finally:
        model.close()


def test_features_equal_sklearn_rows() -> None:
    """The numpy TF-IDF row (columns and values) is the stacked sklearn vectorisers' row."""
    from classifier.train import (
        fit_sklearn_pipeline,
        model_from_sklearn,
        sklearn_transform,
        tokenize_all,
    )

    texts, labels = read_table(FIXTURE, "类别", ["标题", "内容"])
    toks = tokenize_all(texts)
    vw, vc, clf = fit_sklearn_pipeline(toks, labels)
    model = model_from_sklearn(vw, vc, clf)
    probes = toks + tokenize_all(["公司欠薪不发工资", "", "完全无关的句子 12345"])
    x = sklearn_transform(vw, vc, probes)
    for i, t in enumerate(probes):
        cols, vals = model.features(t)
        row = x.getrow(i)
        assert sorted(cols.tolist()) == sorted(row.indices.tolist())
        got = dict(zip(cols.tolist(), vals.tolist(), strict=True))
        for j, v in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            assert got[j] == pytest.approx(v, rel=1e-6, abs=1e-7)


# The plain form of the house-address mask that classifier.normalize.mask_addresses implements
# with a digit-anchored scan.
PLAIN_UNIT = r"\d+(?:号楼|号院|栋|幢|单元|层|楼|室|号|房)"
PLAIN_ADDRESS = re.compile(
    r"(?:[\u4e00-\u9fa5]{1,4}(?:路|街|大道|巷|弄)\d+号(?:"
    + PLAIN_UNIT
    + r")*|(?:"
    + PLAIN_UNIT
    + r"){2,})"
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123人民路大道街号楼院栋单元层室房门口 A", max_size=40))
def test_fast_address_mask_equals_plain_pattern(s: str) -> None:
    assert norm_mod.mask_addresses(s) == PLAIN_ADDRESS.sub(" <地址> ", s)


@pytest.mark.parametrize(
    "toks",
    [
        ["物业", "小区", "乱收费"],
        ["乱收费"],
        ["物业 小区", "a"],
        ["", "a"],
        ["a", ""],
        [" "],
        ["a", " ", "b"],
    ],
)
def test_one_ticket_keys_equal_its_keys_in_a_batch(toks: list[str]) -> None:
    # predict finds a ticket's token boundaries from its spaces; a batch from token lengths.
    # Tokens never hold a space, but if one did the two must still agree (the count check).
    # Half the n-grams of the ticket are in the vocabulary (_vocab keeps every second one).
    index = FeatureIndex(*_vocab([[t for t in toks if t.strip()] or ["x"]] + [toks], 1, 3), (1, 3))
    _, alone, alone_counts = index.batch_keys([toks])
    ticket, keys, counts = index.batch_keys([toks, ["小区"]])
    mine = index.lookup(keys[ticket == 0])
    slots = index.lookup(alone)
    assert mine[mine >= 0].tolist() == slots[slots >= 0].tolist()
    assert counts[ticket == 0][mine >= 0].tolist() == alone_counts[slots >= 0].tolist()
