"""routing.toml loading: the shipped rules and precise errors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.domain.vocabulary import load_vocabulary
from routing.errors import RuleError
from routing.loader import load_routing
from routing.rules import load_rules
from routing.units import load_units

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
FIX = ROOT / "tests" / "fixtures" / "routing"
FIX_RULES = (FIX / "routing.toml").read_text(encoding="utf-8")
# The classifier's categories, from the one vocabulary file.
CATEGORIES = load_vocabulary(DATA).model_categories


@pytest.fixture(scope="module")
def units():
    return load_units(FIX / "units.toml")


def load_text(tmp_path: Path, units, text: str):
    p = tmp_path / "routing.toml"
    p.write_text(text, encoding="utf-8")
    return p, load_rules(p, units)


def error_for(tmp_path: Path, units, text: str) -> tuple[Path, RuleError]:
    p = tmp_path / "routing.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules(p, units)
    return p, err.value


def line_no(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing needle."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def test_shipped_data_loads_and_references_only_known_units() -> None:
    routing = load_routing(DATA)
    rules = routing.rules
    codes = {u.code for u in routing.units}
    assert rules.fallback in codes
    assert 0 < rules.review_threshold < 1
    for name in CATEGORIES:
        assert name in rules.categories, name
    for rule in rules.categories.values():
        assert rule.lead in codes and set(rule.assist) <= codes
    for kw in rules.keywords:
        assert (kw.lead is None or kw.lead in codes) and set(kw.assist) <= codes
    assert "举报" in rules.kinds and rules.kinds["举报"].supervisor in codes
    assert {c for named in rules.names.literal.values() for c in named} <= codes
    assert all(p.unit in codes for p in routing.gazetteer.places)
    # keyword rules come highest priority first
    prios = [k.priority for k in rules.keywords]
    assert prios == sorted(prios, reverse=True)


def test_fixture_rules_parse(units, tmp_path: Path) -> None:
    _, rules = load_text(tmp_path, units, FIX_RULES)
    assert rules.fallback == "HOT"
    assert rules.review_threshold == 0.6
    assert rules.review_margin == 0.1
    assert rules.categories["城乡建设"].local is True
    assert rules.categories["劳动和社会保障"].local is False
    assert rules.keywords[0].words == ("拖欠工资", "欠薪")
    assert rules.keywords[0].assist == ("LDJC",)
    assert rules.kinds["举报"].exclude_named is True
    # derived names denote the organisation, the units' aliases are added
    assert "市住建局" in rules.names.forms_of("ZJJ")
    assert "市住房和城乡建设局" in rules.names.forms_of("ZJJ")
    assert "含浦街道办事处" in rules.names.forms_of("HANPU")
    assert "含浦街道办" in rules.names.forms_of("HANPU")
    assert "A3区政府" in rules.names.forms_of("A3")


def test_unknown_unit_code_names_line_and_field(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('assist = ["LDJC"]', 'assist = ["LDJC", "XYZ"]')
    p, e = error_for(tmp_path, units, text)
    assert e.line == line_no(text, '"XYZ"')
    assert e.field == "assist"
    assert "未知单位代码「XYZ」" in str(e)
    assert "[[keyword]] 第 1 条" in str(e)
    assert str(e).startswith(f"{p}:{e.line} ")


def test_unknown_lead_in_category(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('lead = "WJW"\n\n[[keyword]]', 'lead = "WJX"\n\n[[keyword]]')
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (line_no(text, '"WJX"'), "lead")
    assert "[[category]] 第 3 条" in str(e)


def test_unknown_field(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('name = "卫生计生"', 'name = "卫生计生"\nleader = "WJW"')
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (line_no(text, "leader ="), "leader")
    assert "未知字段" in str(e)


def test_unknown_top_level_key(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace("review_margin = 0.1", "review_margn = 0.1")
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (4, "review_margn")


def test_missing_fallback(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('fallback = "HOT"\n', "")
    p, e = error_for(tmp_path, units, text)
    assert e.field == "fallback"
    assert "兜底单位" in str(e)
    assert str(p) in str(e)


def test_fallback_must_be_a_known_unit(units, tmp_path: Path) -> None:
    _, e = error_for(tmp_path, units, FIX_RULES.replace('fallback = "HOT"', 'fallback = "HOTT"'))
    assert (e.line, e.field) == (2, "fallback")


@pytest.mark.parametrize("value", ["1.5", "-0.1", '"0.6"', "true"])
def test_bad_threshold(units, tmp_path: Path, value: str) -> None:
    text = FIX_RULES.replace("review_threshold = 0.6", f"review_threshold = {value}")
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (3, "review_threshold")
    assert "0 到 1" in str(e)


def test_missing_threshold(units, tmp_path: Path) -> None:
    _, e = error_for(tmp_path, units, FIX_RULES.replace("review_threshold = 0.6\n", ""))
    assert e.field == "review_threshold"


def test_duplicate_keyword_points_at_second_definition(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('words = ["占道经营"]', 'words = ["占道经营", "欠薪"]')
    _, e = error_for(tmp_path, units, text)
    assert e.line == line_no(text, '"占道经营", "欠薪"')
    assert e.field == "words"
    assert "关键词「欠薪」重复（第 1 条已定义）" in str(e)
    assert "[[keyword]] 第 3 条" in str(e)


def test_duplicate_category_and_kind(units, tmp_path: Path) -> None:
    text = FIX_RULES + '\n[[category]]\nname = "卫生计生"\nlead = "WJW"\n'
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (line_no(text, 'name = "卫生计生"', 2), "name")
    text = FIX_RULES + '\n[[kind]]\nkind = "举报"\nsupervisor = "JW"\n'
    _, e = error_for(tmp_path, units, text)
    assert "诉求类型「举报」重复" in str(e)


def test_keyword_needs_lead_or_local(units, tmp_path: Path) -> None:
    text = FIX_RULES + '\n[[keyword]]\nwords = ["路灯"]\n'
    _, e = error_for(tmp_path, units, text)
    assert e.field == "lead"
    assert e.line == line_no(text, "[[keyword]]", text.count("[[keyword]]"))


def test_keyword_needs_words_or_place_kinds(units, tmp_path: Path) -> None:
    text = FIX_RULES + '\n[[keyword]]\nlead = "ZJJ"\n'
    _, e = error_for(tmp_path, units, text)
    assert e.field == "words"
    text = FIX_RULES.replace('place_kinds = ["hospital"]', 'place_kinds = ["castle"]')
    _, e = error_for(tmp_path, units, text)
    assert (e.line, e.field) == (line_no(text, "castle"), "place_kinds")


def test_assist_equal_to_lead_and_bad_types(units, tmp_path: Path) -> None:
    _, e = error_for(tmp_path, units, FIX_RULES.replace('assist = ["LDJC"]', 'assist = ["RSJ"]'))
    assert "与主办单位相同" in str(e)
    _, e = error_for(tmp_path, units, FIX_RULES.replace("priority = 100", 'priority = "high"'))
    assert (e.field, e.line) == ("priority", line_no(FIX_RULES, "priority = 100"))
    _, e = error_for(
        tmp_path,
        units,
        FIX_RULES.replace("local = true\n\n[[category]]", 'local = "yes"\n\n[[category]]'),
    )
    assert e.field == "local"


def test_kind_rule_needs_supervisor(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('kind = "举报"\nsupervisor = "JW"', 'kind = "举报"')
    _, e = error_for(tmp_path, units, text)
    assert (e.field, e.line) == ("supervisor", line_no(text, "[[kind]]"))


@pytest.mark.parametrize(
    ("retired", "table", "says"),
    [
        ('\n[[alias]]\nunit = "RSJ"\nnames = ["市人社局"]\n', "alias", "units.toml"),
        ('kind = "举报"\nto_parent = true\n', "to_parent", "上级和下级一律回避"),
    ],
)
def test_fields_of_earlier_versions_say_what_replaced_them(
    units, tmp_path: Path, retired: str, table: str, says: str
) -> None:
    if table == "alias":
        text = FIX_RULES + retired
    else:
        text = FIX_RULES.replace('kind = "举报"\n', retired)
    _, e = error_for(tmp_path, units, text)
    assert e.field == table and says in str(e)


def test_syntax_error_has_line(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('lead = "RSJ"\nassist', "lead = RSJ\nassist")
    _, e = error_for(tmp_path, units, text)
    assert e.line == line_no(text, "lead = RSJ")
    assert "语法错误" in str(e)


def test_load_routing_reports_the_failing_file(tmp_path: Path) -> None:
    for name in ("units.toml", "places.toml", "routing.toml"):
        (tmp_path / name).write_text((FIX / name).read_text(encoding="utf-8"), encoding="utf-8")
    load_routing(tmp_path)  # the fixture set itself is valid
    places = (
        (FIX / "places.toml").read_text(encoding="utf-8").replace('unit = "A3"', 'unit = "A9"', 1)
    )
    (tmp_path / "places.toml").write_text(places, encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_routing(tmp_path)
    assert err.value.path.endswith("places.toml")
    assert err.value.field == "unit"
    assert err.value.line == line_no(places, 'unit = "A9"')


def test_keyword_categories_must_be_defined(units, tmp_path: Path) -> None:
    text = FIX_RULES.replace('categories = ["城乡建设"]', 'categories = ["城乡建筑"]')
    _, e = error_for(tmp_path, units, text)
    assert (e.field, e.line) == ("categories", line_no(text, "城乡建筑"))
    assert "分类「城乡建筑」没有在 [[category]] 中定义" in str(e)
