"""Gazetteer: loading places.toml and leftmost-longest matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.errors import RuleError
from routing.places import PLACE_KINDS, Gazetteer, Place, load_places
from routing.units import load_units

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
FIX = ROOT / "tests" / "fixtures" / "routing"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_places(FIX / "places.toml", load_units(FIX / "units.toml"))


def names(g: Gazetteer, text: str) -> list[str]:
    return [m.name for m in g.find(text)]


def test_longest_match_wins_over_a_name_inside_it(gaz: Gazetteer) -> None:
    # 赤岭路 (a road) is inside 赤岭路街道 (a street); 含浦 is inside 含浦花园小区
    assert names(gaz, "A3区赤岭路街道门口") == ["A3区", "赤岭路街道"]
    assert names(gaz, "赤岭路上有坑") == ["赤岭路"]
    assert names(gaz, "含浦花园小区停车难") == ["含浦花园小区"]
    assert names(gaz, "赤岭路街道办事处不作为") == ["赤岭路街道"]


def test_alias_positions_and_surface_form(gaz: Gazetteer) -> None:
    text = "我家在含浦，离仁爱医院不远"
    found = gaz.find(text)
    assert [(m.name, m.matched, m.unit, m.kind) for m in found] == [
        ("含浦街道", "含浦", "HANPU", "street"),
        ("仁爱医院", "仁爱医院", "A3", "hospital"),
    ]
    assert [text[m.start : m.end] for m in found] == ["含浦", "仁爱医院"]


def test_full_width_letters_match_and_keep_positions(gaz: Gazetteer) -> None:
    text = "位于Ａ３区含浦"
    found = gaz.find(text)
    assert [(m.name, m.matched, m.start, m.end) for m in found] == [
        ("A3区", "Ａ３区", 2, 5),
        ("含浦街道", "含浦", 5, 7),
    ]


def test_no_match_and_empty(gaz: Gazetteer) -> None:
    assert gaz.find("") == []
    assert gaz.find("今天天气很好") == []
    assert names(gaz, "赤岭") == []  # a prefix of a name is not a match


def test_overlapping_names_scan_left_to_right() -> None:
    g = Gazetteer([Place("东塘", (), "X", "other"), Place("塘村小区", (), "Y", "compound")])
    assert names(g, "东塘村小区") == ["东塘"]  # leftmost first, then continue after it


def test_shipped_places_reference_existing_units() -> None:
    units = load_units(DATA / "units.toml")
    codes = {u.code for u in units}
    g = load_places(DATA / "places.toml", units)
    assert len(g) >= 200
    assert all(p.unit in codes and p.kind in PLACE_KINDS for p in g.places)
    kinds = {p.kind for p in g.places}
    assert {"district", "street", "town", "compound", "road", "school"} <= kinds
    by_name = {p.name: p for p in g.places}
    assert by_name["泉塘街道"].unit == "QUANTANG"
    assert by_name["A7县"].unit == "A7"
    found = g.find("A市A3区含浦街道某小区")
    assert [(m.name, m.unit) for m in found][:2] == [("A3区", "A3"), ("含浦街道", "HANPU")]


GOOD = """\
[[place]]
name = "含浦街道"
aliases = ["含浦"]
unit = "HANPU"
kind = "street"

[[place]]
name = "含浦花园小区"
unit = "HANPU"
kind = "compound"
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "reason"),
    [
        (
            'unit = "HANPU"\nkind = "compound"',
            'unit = "NOPE"\nkind = "compound"',
            9,
            "unit",
            "未知单位代码「NOPE」",
        ),
        ('kind = "compound"', 'kind = "castle"', 10, "kind", "castle"),
        ('name = "含浦花园小区"', 'name = "含浦"', 8, "name", "重复"),
        ('kind = "compound"', 'kind = "compound"\nzip = "410000"', 11, "zip", "未知字段"),
    ],
)
def test_place_errors(
    tmp_path: Path, old: str, new: str, line: int, field: str, reason: str
) -> None:
    p = tmp_path / "places.toml"
    p.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_places(p, load_units(FIX / "units.toml"))
    assert (err.value.line, err.value.field) == (line, field)
    assert str(p) in str(err.value)
    assert reason in str(err.value)


def test_duplicate_alias_points_at_the_alias_line(tmp_path: Path) -> None:
    p = tmp_path / "places.toml"
    p.write_text(
        GOOD + '\n[[place]]\nname = "别处"\naliases = ["含浦"]\nunit = "A3"\nkind = "other"\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as err:
        load_places(p, load_units(FIX / "units.toml"))
    assert (err.value.line, err.value.field) == (14, "aliases")
    assert "地名「含浦」重复（第 1 条已收录）" in str(err.value)
