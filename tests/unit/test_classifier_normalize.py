"""Normaliser and tokeniser: placeholders, width folding, user dictionary, stop words."""

from __future__ import annotations

import jieba

from classifier.normalize import (
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_ID,
    PLACEHOLDER_PHONE,
    PLACEHOLDER_URL,
    normalize_text,
)
from classifier.tokenize import (
    get_tokenizer,
    load_stopwords,
    looks_presegmented,
    merge_userwords,
    tokenize,
)


def test_url_masked() -> None:
    out = normalize_text("详情见https://www.example.gov.cn/a/b?id=3&x=1谢谢")
    assert PLACEHOLDER_URL in out
    assert "example" not in out and "谢谢" in out


def test_www_url_and_email_masked() -> None:
    out = normalize_text("网址www.abc.com 邮箱 zhang.san@qq.com")
    assert out.count(PLACEHOLDER_URL) == 1
    assert PLACEHOLDER_EMAIL in out and "qq" not in out


def test_mobile_and_landline_masked() -> None:
    for raw in ["电话13812345678", "电话138-1234-5678", "电话+86 13812345678", "座机0731-84567890"]:
        out = normalize_text(raw)
        assert PLACEHOLDER_PHONE in out, raw
        assert not any(ch.isdigit() for ch in out), out


def test_id_number_masked_not_as_phone() -> None:
    out = normalize_text("身份证号43010219900101123X，请核实")
    assert PLACEHOLDER_ID in out and PLACEHOLDER_PHONE not in out
    assert "1990" not in out


def test_ordinary_numbers_kept() -> None:
    out = normalize_text("2019年4月收费4.23元，12345热线")
    assert "2019" in out and "4.23" in out and "12345" in out
    assert PLACEHOLDER_PHONE not in out


def test_full_width_and_whitespace() -> None:
    assert normalize_text("ＡＢＣ１２３\t\t全角\n\n　测试  ") == "ABC123 全角 测试"
    assert normalize_text("第一行_x000D_第二行") == "第一行 第二行"
    assert normalize_text("") == ""


def test_placeholders_survive_tokenisation() -> None:
    toks = tokenize("请回电13812345678或看http://a.cn/x")
    assert PLACEHOLDER_PHONE in toks and PLACEHOLDER_URL in toks


def test_user_dictionary_words_stay_whole() -> None:
    toks = tokenize("楼下占道经营，晚上噪音扰民，老板还拖欠工资，找了市场监管局和人社局")
    for word in ["占道经营", "噪音扰民", "拖欠工资", "市场监管局", "人社局"]:
        assert word in toks, (word, toks)


def test_private_tokenizer_leaves_global_jieba_alone() -> None:
    get_tokenizer()
    assert "占道经营" not in jieba.lcut("占道经营")
    assert get_tokenizer() is get_tokenizer()


def test_stop_words_and_punctuation_removed() -> None:
    stop = load_stopwords()
    assert {"的", "了", "我们", "A"} <= stop
    toks = tokenize("我们的小区，在A市！！物业（不）处理了。")
    assert toks == ["小区", "市", "物业", "处理"]


def test_single_digits_dropped_multi_digit_kept() -> None:
    toks = tokenize("3栋住了2019年搬来的10户")
    assert "3" not in toks and "2019" in toks and "10" in toks


def test_presegmented_text_passes_through() -> None:
    seg = "A1 区 区华庭 小区 高层 二次 供水 楼顶 水箱 长年 不洗"
    assert looks_presegmented(seg)
    assert not looks_presegmented("A2区景蓉华苑物业管理有问题。\n\t小区停车收费太高 请处理")
    # "区华庭" is a corpus token jieba would split again; passthrough keeps it.
    assert tokenize(seg) == [
        "A1",
        "区",
        "区华庭",
        "小区",
        "高层",
        "二次",
        "供水",
        "楼顶",
        "水箱",
        "长年",
        "不洗",
    ]


def test_presegmented_tokens_rejoined_to_user_words() -> None:
    assert merge_userwords(["占", "道", "经营", "问题"], frozenset({"占道经营"})) == [
        "占道经营",
        "问题",
    ]
    assert tokenize("人 社局 拖欠 工资 的 问题", segmented=True) == ["人社局", "拖欠工资", "问题"]


def test_raw_and_segmented_forms_agree() -> None:
    raw = "小区物业公司乱收费，业主很不满意"
    seg = " ".join(get_tokenizer().lcut(raw))
    assert tokenize(raw, segmented=False) == tokenize(seg, segmented=True)


def test_fast_nfkc_equals_unicodedata() -> None:
    import unicodedata

    from classifier.normalize import nfkc

    cases = [
        "小区物业乱收费，请尽快处理！（电话：１３８１２３４５６７８）",
        "ＡＢＣ　ｄｅｆ１２３％",  # full-width letters, ideographic space
        "㈠ ﬁle ½ ㎡ ℃ ⅩⅡ",  # compatibility characters
        "e\u0301 ｅ\u0301 \u1100\u1161\u11a8",  # combining accent, jamo that compose
        "𝐀𝟏 😀 🏠 👍🏻",  # beyond the BMP: mathematical letters (changed) and emoji (kept)
        "",
    ]
    for text in cases:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), text
    for cp in range(0x10000):
        if not 0xD800 <= cp < 0xE000:
            ch = chr(cp)
            assert nfkc(ch) == unicodedata.normalize("NFKC", ch), hex(cp)


def test_house_addresses_masked_but_not_numbered_matters() -> None:
    from classifier.normalize import PLACEHOLDER_ADDRESS

    masked = {
        "住址：万家丽北路4号4栋4单元404室，": "万家",
        "我家3栋2单元楼道漏水": "3栋",
        "小区18栋1806房噪音": "1806",
    }
    for raw, gone in masked.items():
        out = normalize_text(raw)
        assert PLACEHOLDER_ADDRESS in out and gone not in out, out
    for raw in ["地铁3号线延误", "12月3号下午", "2019年12月31号", "3楼电梯坏了"]:
        assert PLACEHOLDER_ADDRESS not in normalize_text(raw), raw
    # the placeholder is a token of its own, like <电话>
    assert PLACEHOLDER_ADDRESS in tokenize("投诉：人民路8号门口占道经营")
