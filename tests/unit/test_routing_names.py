"""Which unit a 举报 names, in the words citizens use: the shipped units and aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.errors import RuleError
from routing.names import UnitNames, derived_forms, normalise
from routing.units import Unit, load_units

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def names() -> UnitNames:
    return UnitNames(load_units(DATA / "units.toml"))


# (text as a citizen writes it, the unit it names, the words reported as the mention)
NAMED = [
    # 住建局: full name, without the city, official short form, abbreviations, spacing, code
    ("举报A市住房和城乡建设局王科长收受好处", "ZJJ", "A市住房和城乡建设局"),
    ("举报住房和城乡建设局王科长收受好处", "ZJJ", "住房和城乡建设局"),
    ("举报住房城乡建设局王科长收受好处", "ZJJ", "住房城乡建设局"),
    ("举报市住房城乡建设局王科长收受好处", "ZJJ", "市住房城乡建设局"),
    ("住建部门的人收了开发商的钱", "ZJJ", "住建部门"),
    ("市住建委工作人员吃拿卡要", "ZJJ", "市住建委"),
    ("住 建 局王科长收受好处", "ZJJ", "住建局"),
    ("住\u3000建\u3000局王科长收受好处", "ZJJ", "住建局"),
    ("举报ＺＪＪ的王科长", "ZJJ", "ZJJ"),
    ("举报zjj的王科长", "ZJJ", "ZJJ"),
    ("房产局办证窗口索要好处费", "ZJJ", "房产局"),
    # 人社局
    ("人社局的张科长吃拿卡要", "RSJ", "人社局"),
    ("举报人力资源社会保障局违规发放补贴", "RSJ", "人力资源社会保障局"),
    ("社保部门工作人员违规办理退休", "RSJ", "社保部门"),
    # 市场监管局
    ("市场监管局执法人员收钱不办事", "SJJ", "市场监管局"),
    ("市市场监督管理局某所长包庇商户", "SJJ", "市市场监督管理局"),
    ("工商部门的人收了好处", "SJJ", "工商部门"),
    # 卫健委
    ("举报卫健委某处长收受医药代表红包", "WJW", "卫健委"),
    ("卫生健康委员会的领导违规安排亲属", "WJW", "卫生健康委员会"),
    ("卫生部门工作人员吃空饷", "WJW", "卫生部门"),
    # 教育局
    ("举报教育局某科长收受培训机构好处", "JYJ", "教育局"),
    ("教育部门对违规补课视而不见", "JYJ", "教育部门"),
    # 城管局, 发改委, 纪委, 税务局, 交警
    ("城市管理综合执法局队员暴力执法", "CGJ", "城市管理综合执法局"),
    ("城管局执法人员没收摊贩货物不开票", "CGJ", "城管局"),
    ("市发改委审批项目收受好处", "FGW", "市发改委"),
    ("发展改革委某科长收受好处", "FGW", "发展改革委"),
    ("举报市纪委某干部", "JW", "市纪委"),
    ("税务局的专管员索要好处", "SWUJ", "税务局"),
    ("A市税务局某所长违规核定税额", "SWUJ", "A市税务局"),
    ("举报A市公安局交通警察支队民警乱罚款", "JJZD", "A市公安局交通警察支队"),
    ("交警大队民警乱罚款", "JJZD", "交警大队"),
    # districts, streets and towns
    ("举报A3区政府违规征地", "A3", "A3区政府"),
    ("A3区领导包庇违建", "A3", "A3区"),
    ("举报含浦街道办事处工作人员收受好处", "HANPU", "含浦街道办事处"),
    ("含浦街道办的人收钱", "HANPU", "含浦街道办"),
    ("举报A3区含浦街道办事处拆违不公", "HANPU", "A3区含浦街道办事处"),
    ("泉塘街道工作人员违规收费", "QUANTANG", "泉塘街道"),
    ("安沙镇政府挪用扶贫款", "ANSHA", "安沙镇政府"),
    ("安 沙 镇 党 委书记违规建房", "ANSHA", "安沙镇党委"),
    ("北山镇干部吃空饷", "BEISHAN", "北山镇"),
    # enterprises
    ("自来水公司抄表员乱收费", "SYJT", "自来水公司"),
    ("地铁集团招标暗箱操作", "GDJT", "地铁集团"),
    ("轨道交通集团工作人员收受回扣", "GDJT", "轨道交通集团"),
    ("供电公司员工私自收取电费", "GDGS", "供电公司"),
    ("经开区管委会违规出让土地", "JKQ", "经开区管委会"),
]


@pytest.mark.parametrize(("text", "code", "mention"), NAMED, ids=[t for t, _, _ in NAMED])
def test_a_unit_is_named_in_the_words_citizens_use(
    names: UnitNames, text: str, code: str, mention: str
) -> None:
    assert names.named(text) == {code: mention}


def test_the_table_covers_enough_phrasings_and_units() -> None:
    assert len(NAMED) >= 30 and len({code for _, code, _ in NAMED}) >= 10


NOT_NAMED = [
    # the bureau as a landmark: its staff compound, its bus stop
    "举报住建局宿舍楼下有人违章搭建彩钢棚",
    "教育局家属院门口有人占道经营",
    "在住建局站下车后看到有人倾倒建筑垃圾",
    # a bare place is where something happens, not who did it
    "A7县泉塘街道某小区有人违章搭建",
    "A3区含浦花园小区物业乱收费",
    "安沙镇某养殖场污水直排",
    # a code inside a place name, and Latin letters that merely contain a code
    "A3区某工地夜间施工",
    "商家用GAJX牌假冒产品",
    # no unit at all
    "有人冒充客服电话诈骗老人钱财",
]


@pytest.mark.parametrize("text", NOT_NAMED)
def test_these_name_no_unit(names: UnitNames, text: str) -> None:
    assert names.named(text) == {}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        # 交警支队's full name contains 公安局's: the traffic police are named, not the bureau
        ("举报A市公安局交通警察支队民警乱罚款", {"JJZD"}),
        # 公积金中心's name contains 住房 but not a form of 住建局
        ("住房公积金管理中心窗口人员刁难群众", {"GJJZX"}),
        # 文化旅游广电体育局 contains 体育局: one unit, mentioned once
        ("A市文化旅游广电体育局违规发放补贴", {"WLJ"}),
        # two units named side by side are both found
        ("举报含浦街道办事处和A3区政府包庇违建", {"HANPU", "A3"}),
    ],
)
def test_a_name_inside_a_longer_name_is_not_a_second_mention(
    names: UnitNames, text: str, named: set[str]
) -> None:
    assert set(names.named(text)) == named


def test_the_line_of_a_named_unit_is_avoided_with_the_reason(names: UnitNames) -> None:
    avoided = names.avoided("举报含浦街道办工作人员在拆违中收受好处")
    assert {c: a.relation for c, a in avoided.items()} == {
        "HANPU": "self",
        "A3": "superior",
        # its communities (社区) answer to it: they must not take a report on it either
        "HANPU_FXY": "subordinate",
        "HANPU_XTP": "subordinate",
    }
    assert avoided["A3"].reason == (
        "A3区人民政府（被举报单位A3区含浦街道办事处的上级单位，文中称「含浦街道办」）"
    )
    down = names.avoided("举报A7县政府违规征地")
    assert down["A7"].relation == "self"
    assert {c for c, a in down.items() if a.relation == "subordinate"} >= {"QUANTANG", "ANSHA"}
    assert "下级单位" in down["QUANTANG"].reason
    # an enterprise and the bureau over it
    assert set(names.avoided("住建部门工作人员吃拿卡要")) == {"ZJJ", "SYJT"}


def test_normalise_folds_width_and_drops_spaces() -> None:
    assert normalise("Ａ３区 住\u3000建\u200b局\tzjj") == "A3区住建局ZJJ"


def test_short_forms_are_derived_from_the_name() -> None:
    units = {u.code: u for u in load_units(DATA / "units.toml")}
    forms = set(derived_forms(units["ZJJ"], units, "A市"))
    assert {"住房和城乡建设局", "住房城乡建设局", "市住房城乡建设局", "住房城乡建设部门"} <= forms
    assert "住建局" not in forms  # an abbreviation no rule derives: units.toml lists it
    street = set(derived_forms(units["HANPU"], units, "A市"))
    assert {"含浦街道办事处", "含浦街道办", "含浦办事处"} <= street
    assert "含浦街道" not in street  # the place, named only with an official after it


def _units(tmp_path: Path, extra: str) -> Path:
    p = tmp_path / "units.toml"
    p.write_text(
        '[[unit]]\ncode = "ZJJ"\nname = "A市住房和城乡建设局"\nkind = "department"\n'
        'parent = ""\nemail = "zjj@a.gov.example"\naliases = ["住建局"]\n\n'
        '[[unit]]\ncode = "JYJ"\nname = "A市教育局"\nkind = "department"\nparent = ""\n'
        'email = "jyj@a.gov.example"\n' + extra,
        encoding="utf-8",
    )
    return p


def test_aliases_load_into_the_unit(tmp_path: Path) -> None:
    units = load_units(_units(tmp_path, 'aliases = ["教体局"]\n'))
    assert units[0] == Unit(
        "ZJJ", "A市住房和城乡建设局", "department", "", "zjj@a.gov.example", ("住建局",)
    )
    assert UnitNames(units).named("教 体 局的科长") == {"JYJ": "教体局"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('aliases = ["住建部门"]\n', "称呼「住建部门」（住建部门）已指代 ZJJ"),
        ('aliases = ["住房城乡建设局"]\n', "称呼「住房城乡建设局」（住房城乡建设局）已指代 ZJJ"),
        ('aliases = ["教"]\n', "每个称呼至少两个字"),
        ('aliases = "教体局"\n', "必须是称呼的数组"),
    ],
)
def test_a_bad_alias_is_refused_at_its_line(tmp_path: Path, extra: str, message: str) -> None:
    path = _units(tmp_path, extra)
    with pytest.raises(RuleError) as err:
        load_units(path)
    assert err.value.line == 15 and err.value.field == "aliases"
    assert message in str(err.value) and f"{path}:15" in str(err.value)


def test_a_short_name_two_units_share_avoids_both(tmp_path: Path) -> None:
    text = ""
    for code, district, name in (
        ("A3", "A3区人民政府", ""),
        ("A5", "A5区人民政府", ""),
        ("HP3", "A3区和平街道办事处", "A3"),
        ("HP5", "A5区和平街道办事处", "A5"),
    ):
        kind = "street" if name else "district"
        text += (
            f'[[unit]]\ncode = "{code}"\nname = "{district}"\nkind = "{kind}"\n'
            f'parent = "{name}"\nemail = "{code.lower()}@a.gov.example"\n\n'
        )
    p = tmp_path / "units.toml"
    p.write_text(text, encoding="utf-8")
    names = UnitNames(load_units(p))
    # 和平街道办 alone may be either district's: a report naming it reaches neither
    assert names.named("举报和平街道办主任") == {"HP3": "和平街道办", "HP5": "和平街道办"}
    assert names.named("举报A3区和平街道办事处主任") == {"HP3": "A3区和平街道办事处"}


# A unit asked to act is not the one reported on, unless the text also accuses it.
# (text, the units it names)
REQUEST_OR_ACCUSATION = [
    ("某餐馆使用过期食材，请市场监管部门检查", set()),
    ("某餐馆后厨使用回收油，请市场监管部门查处。", set()),
    ("希望城管局尽快来处理占道经营", set()),
    ("要求住建局依法查处违章搭建", set()),
    ("恳请市教育局调查这家培训机构", set()),
    ("麻烦环保局去检查一下这家工厂", set()),
    ("请有关市场监管局依法取缔这家无证诊所", set()),
    ("请城管局尽快派人来依法查处", set()),
    ("请卫健委核查这家诊所的资质", set()),
    ("希望人社局督促公司发放工资", set()),
    # the unit or its staff accused as well as asked: named
    ("市场监管局工作人员收受好处，请市场监管局查处", {"SJJ"}),
    ("城管局不作为，希望城管局尽快处理", {"CGJ"}),
    ("请住建局查处，住建局领导包庇开发商", {"ZJJ"}),
    # named but not asked to act: still named
    ("请市场监管局工作人员不要再收好处", {"SJJ"}),
    ("请教育部门的领导收手", {"JYJ"}),
    ("住建局包庇违建，请纪委调查", {"ZJJ"}),
    # the request goes to one unit, the accusation to another
    ("举报城管局执法人员吃拿卡要，请市场监管部门检查", {"CGJ"}),
]


@pytest.mark.parametrize(
    ("text", "named"), REQUEST_OR_ACCUSATION, ids=[t for t, _ in REQUEST_OR_ACCUSATION]
)
def test_a_unit_asked_to_act_is_not_the_one_reported(
    names: UnitNames, text: str, named: set[str]
) -> None:
    assert set(names.named(text)) == named
