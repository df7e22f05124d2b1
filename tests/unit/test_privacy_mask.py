"""Masking the dispatch text: no mobile number or ID-card number survives (pure)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from hotline.privacy import NAME_MASK, mask_address, mask_personal

FULL = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d[\s\-－]?\d{4}[\s\-－]?\d{4}(?!\d)")
ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")

digit = st.sampled_from("0123456789")
fullwidth = st.booleans()


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    number = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(digit, min_size=9, max_size=9)))
    )
    sep = draw(st.sampled_from(["", " ", "-"]))
    text = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    return (
        text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        if draw(fullwidth)
        else text
    )


@st.composite
def id_cards(draw: st.DrawFn) -> str:
    body = "".join(draw(st.lists(digit, min_size=17, max_size=17)))
    return body + draw(st.sampled_from("0123456789Xx"))


# Filler never ends or starts with a digit, so each number stands on its own.
filler = st.text(
    alphabet=st.characters(
        categories=("Lo", "Ll", "Lu", "Zs", "Po"), exclude_characters="０１２３４５６７８９"
    ),
    max_size=12,
)


@given(
    st.lists(st.tuples(filler, st.one_of(mobiles(), id_cards())), min_size=1, max_size=6), filler
)
def test_no_mobile_or_id_number_survives(parts: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f"{a}{b}" for a, b in parts) + tail
    masked = unicodedata.normalize("NFKC", mask_personal(text)).translate(FULL)
    assert not MOBILE.search(masked), masked
    assert not ID_CARD.search(masked), masked


@given(st.text(max_size=200))
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_personal(text, names=("张三",))
    assert mask_personal(once, names=("张三",)) == once


def test_what_a_unit_reads() -> None:
    text = "我是李四，身份证430102199001011234，电话13912345678，座机0731-88881234，邮箱li4@qq.com"
    assert mask_personal(text, names=("李四", " ")) == (
        f"我是{NAME_MASK}，身份证430102********1234，电话139****5678，"
        "座机0731-****1234，邮箱***@***"
    )
    # Other numbers a unit needs are kept: amounts, dates, ticket numbers.
    keep = "拖欠工资 35000 元，2026年3月起，工单 20261122-00001"
    assert mask_personal(keep) == keep


def test_addresses_lose_the_household_not_the_place() -> None:
    assert mask_address("A3区含浦街道某小区3栋2单元401室") == "A3区含浦街道某小区**栋**单元**室"
    assert mask_address("A3区含浦街道") == "A3区含浦街道"
