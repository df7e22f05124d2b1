"""The repeat score (重复件): bounded, symmetric, and said in words an operator trusts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.similar import (
    Profile,
    Rules,
    compare,
    cosine,
    load_rules,
    profile,
    score,
    weigh,
)

RULES = Rules()
WORDS = st.lists(st.sampled_from(["停水", "小区", "噪音", "物业", "路灯", "工资", "施工", "夜间"]))
PLACES = st.lists(
    st.tuples(
        st.sampled_from(["板桥小区", "泉塘街道", "花卉路", "星沙", "A7县"]),
        st.sampled_from(["compound", "street", "road", "other", "district"]),
    ),
    max_size=3,
)
PHONES = st.sampled_from(["", "13800001111", "13900002222"])


def _idf(token: str) -> float:
    return 2.0 if token in ("停水", "噪音") else 1.0


def _profile(
    words: list[str], places: list[tuple[str, str]], phone: str, district: str = ""
) -> Profile:
    return profile(tokens=words, places=places, idf=_idf, phone=phone, district=district)


@given(WORDS, PLACES, PHONES, WORDS, PLACES, PHONES)
def test_the_score_is_between_0_and_1_and_symmetric(w1, p1, ph1, w2, p2, ph2) -> None:  # type: ignore[no-untyped-def]
    a, b = _profile(w1, p1, ph1), _profile(w2, p2, ph2)
    ab, ba = compare(a, b, RULES), compare(b, a, RULES)
    assert 0.0 <= ab.score <= 1.0
    assert ab.score == pytest.approx(ba.score, abs=1e-3)
    said = float(ab.reason.rsplit("内容相似度 ", 1)[1])
    assert said == pytest.approx(ab.text, abs=0.006)


@given(WORDS, PLACES, PHONES, WORDS, PLACES, PHONES, st.sampled_from(["", "A7县", "A3区"]))
def test_the_ranking_score_is_the_compared_score(w1, p1, ph1, w2, p2, ph2, district) -> None:  # type: ignore[no-untyped-def]
    """Candidates are ranked by `score` and only the listed ones `compare`d: the same number."""
    a, b = _profile(w1, p1, ph1, district), _profile(w2, p2, ph2, "A7县")
    assert score(a, b, RULES) == compare(a, b, RULES).score


@given(WORDS.filter(bool))
def test_a_text_is_wholly_like_itself(words: list[str]) -> None:
    vec = weigh(words, _idf)
    assert cosine(vec, vec) == pytest.approx(1.0)


def test_the_same_compound_is_named_and_counts_more_than_the_same_street() -> None:
    words = ["停水", "三天", "通知"]
    other = ["停水", "物业"]
    compound = compare(
        _profile(words, [("板桥小区", "compound")], ""),
        _profile(other, [("板桥小区", "compound")], ""),
        RULES,
    )
    street = compare(
        _profile(words, [("泉塘街道", "street")], ""),
        _profile(other, [("泉塘街道", "street")], ""),
        RULES,
    )
    nothing = compare(_profile(words, [], ""), _profile(other, [], ""), RULES)
    assert compound.reason.startswith("同一小区（板桥小区），内容相似度")
    assert street.reason.startswith("同一街道（泉塘街道），内容相似度")
    assert compound.score > street.score > nothing.score


def test_the_same_caller_is_said_first_and_another_district_halves_the_score() -> None:
    a = _profile(["停水", "小区"], [], "13800001111", district="A7县")
    same_caller = compare(a, _profile(["停水"], [], "13800001111", district="A7县"), RULES)
    assert same_caller.reason.startswith("同一来电号码，")
    elsewhere = compare(a, _profile(["停水", "小区"], [], "", district="A3区"), RULES)
    here = compare(a, _profile(["停水", "小区"], [], "", district="A7县"), RULES)
    assert "不同区县" in elsewhere.reason
    assert elsewhere.score == pytest.approx(here.score * RULES.other_district_factor, abs=1e-3)


def test_a_road_or_area_counts_as_a_street_not_as_a_compound() -> None:
    road = compare(
        _profile(["噪音"], [("花卉路", "road")], ""),
        _profile(["噪音"], [("花卉路", "road")], ""),
        RULES,
    )
    assert road.reason.startswith("同一道路（花卉路）")
    assert road.score == pytest.approx(min(1.0, 1.0 + RULES.street_bonus))


def test_the_rules_file_is_read_and_a_typo_is_refused(tmp_path: Path) -> None:
    shipped = load_rules(Path(__file__).resolve().parents[2] / "data")
    assert 0 < shipped.show_threshold <= shipped.hold_threshold <= 1
    (tmp_path / "similar.toml").write_text("[similar]\nhold_treshold = 0.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="hold_treshold"):
        load_rules(tmp_path)
    (tmp_path / "similar.toml").write_text("[similar]\nhold_threshold = 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="show_threshold <= hold_threshold"):
        load_rules(tmp_path)
