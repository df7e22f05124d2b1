"""Where the complainant lives is not where a reported wrongdoing is (routing.residence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.loader import Routing, load_routing
from routing.residence import residence_spans
from routing.router import route

DATA = Path(__file__).resolve().parents[2] / "data"
REPORT = (
    "我叫李建国，身份证430104199001011234，手机13973112345，"
    "住在含浦街道枫林小区3栋2单元501室。我举报市住建局工作人员王五收受好处。"
)


@pytest.fixture(scope="module")
def city() -> Routing:
    return load_routing(DATA)


def lead(r: Routing, text: str, kind: str, category: str | None, address: str = "") -> str:
    d = route(
        rules=r.rules,
        gazetteer=r.gazetteer,
        text=text,
        address=address,
        kind=kind,
        category=category,
        confidence=0.9,
    )
    return d.lead_unit


# (text, kind, category, the lead unit proposed)
PHRASINGS = [
    # a complaint about the home itself routes by the home's place
    ("我住在含浦街道，楼下饭店噪音扰民", "投诉", "环境保护", "HANPU"),
    ("我住在砖田新村，楼下饭店噪音", "投诉", "环境保护", "JIANGBEI"),
    ("家住泉塘街道某小区，隔壁装修噪声很大", "投诉", "环境保护", "QUANTANG"),
    # another place in the text is the matter's, the home is not
    ("我住在含浦街道，泉塘街道某工地夜间噪音", "投诉", "环境保护", "QUANTANG"),
    # a 举报 with a residence phrase does not go to the residence's street
    (REPORT, "举报", "城乡建设", "JW"),
    (REPORT, "举报", None, "RXZX"),
    ("本人住含浦街道，举报市住建局科长收受开发商好处", "举报", "城乡建设", "JW"),
    ("家住含浦街道枫林小区，举报住建局工作人员吃拿卡要", "举报", "城乡建设", "JW"),
    ("住址：含浦街道枫林小区。举报住建局王科长收受好处", "举报", "城乡建设", "JW"),
    ("家庭住址含浦街道，举报市住建局工作人员受贿", "举报", "城乡建设", "JW"),
    ("户籍含浦街道，现举报住建局科长收受好处", "举报", "城乡建设", "JW"),
    ("我住泉塘街道，举报人社局工作人员违规办理退休", "举报", "劳动和社会保障", "JW"),
    # a 举报 whose place is the matter's still goes there
    ("举报含浦街道某小区有人违章搭建", "举报", "城乡建设", "HANPU"),
    ("我住在泉塘街道，举报含浦街道某工地违章搭建", "举报", "城乡建设", "HANPU"),
    ("举报住建局工作人员收受好处", "举报", "城乡建设", "JW"),
]


@pytest.mark.parametrize(("text", "kind", "category", "unit"), PHRASINGS)
def test_a_residence_phrase_is_the_matters_place_only_where_it_should_be(
    city: Routing, text: str, kind: str, category: str | None, unit: str
) -> None:
    assert lead(city, text, kind, category) == unit


def test_the_address_field_is_the_matters_place_even_for_a_report(city: Routing) -> None:
    text = "我住在泉塘街道，举报某工地违章搭建"
    assert lead(city, text, "举报", "城乡建设", address="A3区含浦街道某工地") == "HANPU"


def test_the_proposal_says_why_the_home_was_not_used(city: Routing) -> None:
    d = route(
        rules=city.rules,
        gazetteer=city.gazetteer,
        text=REPORT,
        address="",
        kind="举报",
        category="城乡建设",
        confidence=0.9,
    )
    assert d.place is None
    assert "「含浦街道」是举报人的住址，不作为事发地点" in d.rule


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        (REPORT, ["住在含浦街道枫林小区3栋2单元501室"]),
        ("住址：含浦街道枫林小区，电话…", ["住址：含浦街道枫林小区"]),
        ("家住A3区，我住在泉塘。", ["家住A3区", "我住在泉塘"]),
        ("楼下饭店噪音扰民", []),
    ],
)
def test_residence_phrases_run_to_the_next_punctuation(text: str, phrases: list[str]) -> None:
    assert [text[s:e] for s, e in residence_spans(text)] == phrases
