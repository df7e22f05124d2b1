"""The proposal for a 举报 or confidential ticket masks where the reporter lives."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hotline.privacy.confirmed import proposed_text
from hotline.privacy.masking import mask_residence
from routing.residence import RESIDENCE_MARKERS

ISSUE = (
    "我叫李建国，身份证430104199001011234，手机13973112345，"
    "住在含浦街道枫林小区3栋2单元501室。我举报市住建局工作人员王五收受好处。"
)


def propose(kind: str, text: str, confidential: bool = False) -> str:
    return proposed_text(kind=kind, confidential=confidential, text=text, names=("李建国",))


def test_the_issues_report_gives_a_proposal_without_street_or_compound() -> None:
    out = propose("举报", ISSUE)
    assert out == (
        "我叫【来电人】，身份证【身份证号】，手机【手机号】，住在【住址】。"
        "我举报市住建局工作人员王五收受好处。"
    )


def test_a_confidential_complaint_masks_the_residence_too() -> None:
    out = propose("投诉", "家住含浦街道枫林小区，物业乱收费", confidential=True)
    assert out == "家住【住址】，物业乱收费"


def test_an_ordinary_ticket_keeps_the_compound_it_is_about() -> None:
    out = propose("投诉", "住在含浦街道枫林小区3栋2单元501室，楼下饭店噪音")
    assert out == "住在含浦街道枫林小区【门牌】，楼下饭店噪音"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("住在含浦街道枫林小区3栋2单元501室。", "住在【住址】。"),
        ("家住泉塘街道幸福里，举报…", "家住【住址】，举报…"),
        ("住址：含浦街道枫林小区；电话…", "住址：【住址】；电话…"),
        ("家庭住址是A3区含浦街道枫林小区", "家庭住址是【住址】"),
        ("我住在砖田新村\n举报…", "我住在【住址】\n举报…"),
        ("户籍地A7县安沙镇，现居住在A3区。", "户籍地【住址】，现居住在【住址】。"),
        ("举报王五收受好处", "举报王五收受好处"),
    ],
)
def test_a_residence_phrase_goes_up_to_the_next_punctuation(text: str, masked: str) -> None:
    assert mask_residence(text) == masked


_PLACE = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=30
)
_MARKER = st.sampled_from([m for m in RESIDENCE_MARKERS if m not in ("户籍",)])
_STOP = st.sampled_from(["，", "。", "；", "！", "\n"])


@given(marker=_MARKER, place=_PLACE, stop=_STOP, rest=_PLACE)
def test_nothing_of_a_stated_residence_survives(
    marker: str, place: str, stop: str, rest: str
) -> None:
    # What follows the stop is another matter, unless it states a residence of its own.
    assume(not any(m in rest for m in RESIDENCE_MARKERS))
    text = f"举报人{marker}{place}{stop}{rest}"
    out = mask_residence(text)
    assert place not in out.split(stop, 1)[0]
    assert out.endswith(f"{stop}{rest}")
    assert "【住址】" in out
