"""The masking patterns' first-character lookaheads change no match (pure, property-based).

Each slow pattern of `hotline.privacy.masking` opens with `(?=[…])`, the characters a match
can start with, so `re` skips most positions fast. Without it, the same pattern: every
match (span and groups) and every masked text must be what the pattern alone gives.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.privacy import masking

PREFILTERED = ("_QQ", "_WECHAT", "_RUN", "_PART", "_SELF_NAME")
LOOKAHEAD = re.compile(r"^\(\?=\[[^\]]*\]\)")

# Characters and words the patterns look for, their look-behinds refuse, and filler.
PIECES = [
    *"0123456789０１２３４５６７８９ -.．\u3000",
    *"aAxXqQvVwWＱ",
    *"第一二三十两栋幢座单元室户楼层号房组队村",
    *"我叫是本人名字举报反映投诉姓名联系来电落款被负责",
    *"王李欧阳张建国先生的小区住在：:",
    "微信", "威信", "薇信", "v信", "vx", "wx", "weixin", "WeChat", "QQ", "ＱＱ", "企鹅",
    "电话", "身份证", "卡号", "订单号", "号楼", "单元", "村民小组", "生产队",
    "我叫", "本人", "举报人", "被举报人", "联系人", "被投诉人", "负责人姓名",
    "反映", "噪音", "路灯", "，", "。",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)

SAMPLES = [
    "我叫王建国，电话13912345678，住在幸福小区3栋2单元501室。",
    "举报人：李四 微信号 abc_12345 QQ号 12345678，被举报人张三。",
    "联系人王先生 0731-88881234 转 12，车牌湘A12345，身份证430102199001011234。",
    "村3组12号的路灯坏了，第二栋楼下噪音大，负责人姓名赵六。",
]


def _without_lookahead(pattern: re.Pattern[str]) -> re.Pattern[str]:
    stripped = LOOKAHEAD.sub("", pattern.pattern, count=1)
    assert stripped != pattern.pattern, "the pattern lost its first-character lookahead"
    return re.compile(stripped, pattern.flags)


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


def test_samples_match_the_same_with_and_without_the_lookahead() -> None:
    for name in PREFILTERED:
        fast = getattr(masking, name)
        plain = _without_lookahead(fast)
        for text in SAMPLES:
            assert _matches(fast, text) == _matches(plain, text), (name, text)
    # The samples do exercise the patterns.
    assert all(any(getattr(masking, n).search(t) for t in SAMPLES) for n in PREFILTERED)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_any_text_matches_the_same_with_and_without_the_lookahead(text: str) -> None:
    for name in PREFILTERED:
        fast = getattr(masking, name)
        assert _matches(fast, text) == _matches(_without_lookahead(fast), text), name


def _numbers_classifying_every_run(text: str) -> str:
    """`masking._mask_numbers` as it was: every digit run classified, however short."""
    count = masking._count_digits
    text = masking._BRACKETED.sub(lambda m: masking.PHONE if count(m[1]) >= 7 else m[0], text)
    spans = [span for m in masking._RUN.finditer(text) for span in masking._mask_run(text, m)]
    out, last = [], 0
    for start, end, kind in sorted(spans):
        out += [text[last:start], kind]
        last = end
    out.append(text[last:])
    return re.sub(
        rf"{masking.PHONE}\s*(?:转|分机|ext\.?|EXT\.?|#|[-－])\s*[{masking._D}]{{1,6}}"
        rf"(?![{masking._D}])",
        masking.PHONE,
        "".join(out),
    )


numbers = st.lists(
    st.sampled_from([*"0123456789０１２３４５６７８９", " ", "-", ".", "．", "X", "…", "(0731)",
                     "电话", "身份证", "卡号", "订单号", "转", "元", "年", "，"]),
    max_size=40,
).map("".join)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(numbers)
def test_skipping_runs_of_fewer_than_six_digits_masks_the_same(text: str) -> None:
    assert masking._mask_numbers(text) == _numbers_classifying_every_run(text)
