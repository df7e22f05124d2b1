"""units.toml loading: the shipped file and precise errors for broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.errors import RuleError
from routing.units import UNIT_KINDS, Unit, load_units

DATA = Path(__file__).resolve().parents[2] / "data"

GOOD = """\
[[unit]]
code = "ZJJ"
name = "A市住房和城乡建设局"
kind = "department"
parent = ""
email = "zjj@a.gov.example"

[[unit]]
code = "A3"
name = "A3区人民政府"
kind = "district"
parent = ""
email = "a3@a.gov.example"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "units.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_units_load_and_are_consistent() -> None:
    units = load_units(DATA / "units.toml")
    codes = {u.code for u in units}
    assert 40 <= len(units) <= 80
    assert len(codes) == len(units)
    assert all(u.kind in UNIT_KINDS for u in units)
    assert all(u.parent == "" or u.parent in codes for u in units)
    by = {u.code: u for u in units}
    # the seven districts/counties of the messages plus A8县/A9市 which the data also names
    for i in range(1, 8):
        assert by[f"A{i}"].kind == "district"
    assert by["ZJJ"].name == "A市住房和城乡建设局"
    assert by["RSJ"].name == "A市人力资源和社会保障局"
    streets = [u for u in units if u.kind in ("street", "town")]
    assert len(streets) >= 15
    assert all(by[s.parent].kind == "district" for s in streets)


def test_good_file_gives_frozen_units(tmp_path: Path) -> None:
    units = load_units(write(tmp_path, GOOD))
    assert units[0] == Unit("ZJJ", "A市住房和城乡建设局", "department", "", "zjj@a.gov.example")
    with pytest.raises(AttributeError):
        units[0].code = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "reason"),
    [
        ('code = "A3"', 'code = "a3"', 9, "code", "不合法"),
        ('code = "A3"', 'code = "ZJJ"', 9, "code", "重复"),
        ('name = "A3区人民政府"', 'name = "A市住房和城乡建设局"', 10, "name", "重复"),
        ('kind = "district"', 'kind = "county"', 11, "kind", "county"),
        ('parent = ""\nemail = "a3', 'parent = "NOPE"\nemail = "a3', 12, "parent", "NOPE"),
        ('email = "a3@a.gov.example"', 'email = "a3"', 13, "email", "格式"),
        (
            'email = "a3@a.gov.example"',
            'email = "a3@a.gov.example"\nfax = "1"',
            14,
            "fax",
            "未知字段",
        ),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, reason: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as err:
        load_units(path)
    e = err.value
    assert e.line == line
    assert e.field == field
    assert f"{path}:{line}" in str(e)
    assert f"字段「{field}」" in str(e)
    assert reason in str(e)
    assert "[[unit]] 第 2 条" in str(e)


def test_missing_field_points_at_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('email = "a3@a.gov.example"\n', ""))
    with pytest.raises(RuleError) as err:
        load_units(path)
    assert err.value.line == 8  # the [[unit]] header of the second entry
    assert err.value.field == "email"
    assert "缺少必填字段" in str(err.value)


def test_street_needs_a_parent_and_cycles_are_rejected(tmp_path: Path) -> None:
    street = GOOD + (
        '\n[[unit]]\ncode = "HP"\nname = "含浦街道办事处"\nkind = "street"\n'
        'parent = ""\nemail = "hp@a.gov.example"\n'
    )
    with pytest.raises(RuleError, match="上级单位"):
        load_units(write(tmp_path, street))
    cycle = GOOD.replace('parent = ""\nemail = "zjj', 'parent = "A3"\nemail = "zjj').replace(
        'parent = ""\nemail = "a3', 'parent = "ZJJ"\nemail = "a3'
    )
    with pytest.raises(RuleError, match="循环") as err:
        load_units(write(tmp_path, cycle))
    assert err.value.line == 5


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as err:
        load_units(write(tmp_path, GOOD.replace('kind = "district"', "kind = district")))
    assert err.value.line == 11
    assert "语法错误" in str(err.value)
    with pytest.raises(RuleError, match="无法读取"):
        load_units(tmp_path / "none.toml")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as err:
        load_units(write(tmp_path, "version = 2\n" + GOOD))
    assert err.value.line == 1
    assert err.value.field == "version"
