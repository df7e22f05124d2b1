"""route(): precedence, 属地 resolution, the 举报 rule, review flags and real-looking texts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from routing.loader import Routing, load_routing
from routing.router import RoutingDecision, route

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "routing"
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def fx() -> Routing:
    return load_routing(FIX)


@pytest.fixture(scope="module")
def city() -> Routing:
    return load_routing(DATA)


def go(
    r: Routing,
    text: str,
    *,
    address: str | None = None,
    kind: str | None = "投诉",
    category: str | None = "城乡建设",
    confidence: float = 0.9,
    top3=None,
) -> RoutingDecision:
    return route(
        rules=r.rules,
        gazetteer=r.gazetteer,
        text=text,
        address=address,
        kind=kind,
        category=category,
        confidence=confidence,
        top3=top3,
    )


def test_decision_is_frozen(fx: Routing) -> None:
    d = go(fx, "工资问题", category="劳动和社会保障")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.lead_unit = "X"  # type: ignore[misc]


def test_category_rule(fx: Routing) -> None:
    d = go(fx, "社保卡办理进度咨询", category="劳动和社会保障")
    assert (d.lead_unit, d.assisting_units, d.place) == ("RSJ", (), None)
    assert d.category == "劳动和社会保障"
    assert d.rule == "分类「劳动和社会保障」→ A市人力资源和社会保障局"
    assert d.needs_review is False


def test_keyword_beats_category(fx: Routing) -> None:
    d = go(fx, "含浦花园小区工地拖欠工资三个月", category="城乡建设")
    assert d.lead_unit == "RSJ"
    assert d.assisting_units == ("LDJC",)
    assert d.rule == "关键词「拖欠工资」→ A市人力资源和社会保障局"
    assert d.category == "城乡建设"  # the classifier's category is kept


def test_higher_priority_keyword_wins(fx: Routing) -> None:
    # 物业 (priority 30, local) and 欠薪 (priority 100) both occur
    d = go(fx, "含浦花园小区物业公司欠薪", category="城乡建设")
    assert d.lead_unit == "RSJ"


def test_keyword_limited_to_categories(fx: Routing) -> None:
    assert go(fx, "小区停电两天", category="城乡建设").lead_unit == "CGJ"
    assert go(fx, "小区停电两天", category=None).lead_unit == "CGJ"  # no category yet: applies
    d = go(fx, "单位停电期间加班没有加班费", category="劳动和社会保障")
    assert d.lead_unit == "RSJ"
    assert "停电" not in d.rule


def test_named_hospital_goes_to_health_commission(fx: Routing) -> None:
    d = go(fx, "仁爱医院收费不合理", category="商贸旅游")
    assert d.lead_unit == "WJW"
    assert d.place == "仁爱医院"
    assert d.rule == "地点「仁爱医院」→ A市卫生健康委员会"


def test_category_local_prefers_address_over_text(fx: Routing) -> None:
    d = go(fx, "赤岭路街道的亲戚说楼道灯坏了", address="A3区含浦花园小区", category="城乡建设")
    assert d.lead_unit == "HANPU"
    assert d.assisting_units == ("ZJJ",)
    assert d.place == "含浦花园小区"
    assert d.rule == (
        "分类「城乡建设」属地管理：地点「含浦花园小区」→ A3区含浦街道办事处"
        "（协办：A市住房和城乡建设局）"
    )


def test_category_local_uses_text_and_most_specific_place(fx: Routing) -> None:
    d = go(fx, "A3区赤岭路街道某楼栋外墙脱落", address="", category="城乡建设")
    assert d.lead_unit == "CHILINGLU"  # street beats the district named first
    assert d.place == "赤岭路街道"


def test_category_local_without_place_uses_rule_lead(fx: Routing) -> None:
    d = go(fx, "楼房外墙脱落", category="城乡建设")
    assert (d.lead_unit, d.assisting_units, d.place) == ("ZJJ", (), None)
    assert "属地管理但未识别地点" in d.rule


def test_local_keyword_goes_to_street_with_bureau_assisting(fx: Routing) -> None:
    d = go(fx, "含浦街道菜市场门口占道经营", category="商贸旅游")
    assert (d.lead_unit, d.assisting_units) == ("HANPU", ("CGJ",))
    assert d.rule.startswith("关键词「占道经营」属地管理：地点「含浦街道」→ A3区含浦街道办事处")


def test_local_keyword_without_lead_falls_through_when_no_place(fx: Routing) -> None:
    d = go(fx, "井盖丢了很危险", category="卫生计生")
    assert d.lead_unit == "WJW"
    assert d.rule.startswith("关键词「井盖」需属地承办但未识别地点")
    d = go(fx, "含浦井盖丢了", category="卫生计生")
    assert (d.lead_unit, d.assisting_units) == ("HANPU", ())


def test_fallback_when_nothing_matches(fx: Routing) -> None:
    d = go(fx, "请问办事大厅几点上班", category="教育文体", confidence=0.95)
    assert d.lead_unit == "HOT"
    assert d.needs_review is True
    assert d.rule == "未匹配任何规则 → 兜底单位 测试市热线中心"
    d = go(fx, "随便问问", category=None)
    assert d.lead_unit == "HOT" and d.category == ""


def test_runner_up_category_from_top3(fx: Routing) -> None:
    top3 = [("教育文体", 0.5), ("卫生计生", 0.3), ("城乡建设", 0.2)]
    d = go(fx, "疫苗接种点咨询", category="教育文体", top3=top3)
    assert d.lead_unit == "WJW"
    assert d.category == "卫生计生"
    assert d.rule.startswith("备选分类「卫生计生」")


def test_review_threshold_and_margin(fx: Routing) -> None:
    assert go(fx, "社保", category="劳动和社会保障", confidence=0.59).needs_review is True
    assert go(fx, "社保", category="劳动和社会保障", confidence=0.6).needs_review is False
    close = [{"label": "劳动和社会保障", "prob": 0.45}, {"label": "城乡建设", "prob": 0.40}]
    d = go(fx, "社保", category="劳动和社会保障", confidence=0.9, top3=close)
    assert d.needs_review is True
    assert "概率接近" in d.rule
    d = go(
        fx,
        "社保",
        category="劳动和社会保障",
        confidence=0.9,
        top3=[("劳动和社会保障", 0.9), ("城乡建设", 0.05)],
    )
    assert d.needs_review is False


def test_report_of_the_routed_street_goes_to_neither_it_nor_its_district(fx: Routing) -> None:
    # the district could pass the report down to the very street (下派): it is avoided too
    text = "举报含浦街道办事处工作人员在含浦花园小区拆违中收受好处"
    d = go(fx, text, kind="举报", category="城乡建设")
    assert d.lead_unit == "JW"
    assert d.assisting_units == ("ZJJ",)
    assert "回避A3区含浦街道办事处（文中称「含浦街道办事处」） → 监督单位 测试市纪委" in d.rule
    # the same text as a complaint stays with the street
    assert go(fx, text, kind="投诉", category="城乡建设").lead_unit == "HANPU"


def test_report_of_a_bureau_without_parent_goes_to_supervisor(fx: Routing) -> None:
    d = go(fx, "举报市住建局某科长吃拿卡要", kind="举报", category="城乡建设")
    assert d.lead_unit == "JW"
    assert "（文中称「市住建局」） → 监督单位 测试市纪委" in d.rule


def test_report_naming_a_street_and_its_district_goes_to_supervisor(fx: Routing) -> None:
    text = "举报含浦街道办事处和A3区政府包庇违建"
    d = go(fx, text, kind="举报", category="城乡建设")
    assert d.lead_unit == "JW"


def test_report_named_unit_does_not_assist(fx: Routing) -> None:
    text = "举报含浦花园小区物业勾结A市住房和城乡建设局工作人员"
    d = go(fx, text, kind="举报", category="城乡建设")
    assert d.lead_unit == "HANPU"
    assert d.assisting_units == ()
    assert "不参与协办" in d.rule


def test_report_that_names_nobody_is_unchanged(fx: Routing) -> None:
    d = go(fx, "举报含浦花园小区有人违章搭建", kind="举报", category="城乡建设")
    assert d.lead_unit == "HANPU"
    assert "回避" not in d.rule


# -- the shipped A市 data, with texts written the way the messages are -----------------------


@pytest.mark.parametrize(
    ("text", "category", "kind", "lead"),
    [
        ("A7县泉塘街道星沙嘉园小区物业乱收停车费，业委会不作为", "城乡建设", "投诉", "QUANTANG"),
        ("A市A3区含浦街道某小区旁工地夜间施工噪音扰民", "环境保护", "投诉", "HANPU"),
        ("A5区某建筑公司拖欠农民工工资半年，请求帮助讨薪", "城乡建设", "求助", "RSJ"),
        ("A7县安沙镇水塘垸村的道路年久失修", "城乡建设", "建议", "ANSHA"),
        ("A6区仁爱医院乱收费，检查项目重复收费", "卫生计生", "投诉", "WJW"),
        ("A市住房公积金提取需要哪些材料", "城乡建设", "咨询", "GJJZX"),
        ("孩子小升初学位安排不合理", "教育文体", "投诉", "JYJ"),
        ("A7县北山镇有人搞传销，请查处", "商贸旅游", "举报", "SJJ"),
        ("有人冒充客服电话诈骗老人钱财", "商贸旅游", "举报", "GAJ"),
        ("举报A7县泉塘街道办事处工作人员违规收费", "城乡建设", "举报", "JW"),
        ("举报泉塘街道工作人员违规收费", "城乡建设", "举报", "JW"),
        ("举报住 建 部 门工作人员收受开发商好处", "城乡建设", "举报", "JW"),
        ("举报市教育局某科长收受培训机构好处", "教育文体", "举报", "JW"),
        ("地铁三号线施工围挡占用人行道", "交通运输", "投诉", "GDJT"),
    ],
)
def test_real_looking_texts(city: Routing, text: str, category: str, kind: str, lead: str) -> None:
    d = city.route(text=text, category=category, kind=kind, confidence=0.9)
    assert d.lead_unit == lead, d.rule


def test_real_text_with_address_field(city: Routing) -> None:
    d = city.route(
        text="小区门口有人占道经营，晚上烧烤油烟很大",
        address="A3区洋湖街道",
        category="城乡建设",
        kind="投诉",
        confidence=0.8,
    )
    assert (d.lead_unit, d.assisting_units, d.place) == ("YANGHU", ("CGJ",), "洋湖街道")
    assert d.rule.startswith("关键词「占道经营」属地管理：地点「洋湖街道」→ A3区洋湖街道办事处")


def test_place_filed_under_a_bureau_is_not_a_local_unit(fx: Routing) -> None:
    d = go(fx, "市政广场在A3区，地面塌陷", category="城乡建设")
    assert (d.lead_unit, d.place) == ("A3", "A3区")


def test_report_naming_everyone_goes_to_fallback_for_review(fx: Routing) -> None:
    text = "举报市住建局与测试市纪委互相包庇"
    d = go(fx, text, kind="举报", category="城乡建设", confidence=0.95)
    assert d.lead_unit == "HOT"
    assert d.needs_review is True
    assert "兜底单位" in d.rule


def test_a_report_asking_a_bureau_to_act_goes_to_that_bureau(city: Routing) -> None:
    text = "某餐馆使用过期食材，请市场监管部门检查"
    d = go(city, text, kind="举报", category="商贸旅游")
    assert d.lead_unit == "SJJ"
    assert "回避" not in d.rule
