"""Masking the dispatch text and citizens' titles: no identifier survives, nothing else is
mangled (pure, property-based)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hotline.privacy.rules import NAME_MASK, mask_address, mask_personal

FULL_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
ANY_DIGIT = re.compile("[0-9０-９]")
SEPARATORS = ["", " ", "-", "－", ".", "\u3000"]

digit = st.sampled_from("0123456789")
nonzero = st.sampled_from("123456789")


def digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(digit, min_size=n, max_size=n).map("".join)


@st.composite
def written(draw: st.DrawFn, number: str, groups: tuple[int, ...] = ()) -> str:
    """`number` as a citizen types it: ASCII or full width, split in its usual groups or
    at any places, with one kind of separator or none."""
    sep = draw(st.sampled_from(SEPARATORS))
    if groups and draw(st.booleans()):
        cuts, at = [], 0
        for size in groups:
            cuts.append(number[at : at + size])
            at += size
        text = sep.join(cuts)
    else:
        gaps = draw(st.lists(st.booleans(), min_size=len(number) - 1, max_size=len(number) - 1))
        text = number[0] + "".join(
            (sep if gap else "") + ch for gap, ch in zip(gaps, number[1:], strict=True)
        )
    return text.translate(FULL_DIGITS) if draw(st.booleans()) else text


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    number = "1" + draw(st.sampled_from("3456789")) + draw(digits(9))
    return draw(written(number, (3, 4, 4)))


def id_check(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


@st.composite
def id_cards(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from("12345678")) + draw(digits(5))
    born = draw(st.dates(min_value=__import__("datetime").date(1900, 1, 1)))
    if draw(st.booleans()):  # the old 15-digit card: two-digit year, no check digit
        return draw(written(area + born.strftime("%y%m%d") + draw(digits(3)), (6, 6, 3)))
    body = area + born.strftime("%Y%m%d") + draw(digits(3))
    check = id_check(body) if draw(st.booleans()) else draw(st.sampled_from("0123456789Xx"))
    return draw(written(body + check, (6, 8, 4)))


@st.composite
def landlines(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        area = "0" + draw(st.sampled_from("12")) + draw(digit)
        local = draw(st.sampled_from("23456789")) + draw(digits(7))
    else:
        area = "0" + draw(st.sampled_from("3456789")) + draw(digits(2))
        local = draw(st.sampled_from("23456789")) + draw(digits(draw(st.sampled_from([6, 7]))))
    extension = draw(st.sampled_from(["", "转" + draw(digits(3)), "-" + draw(digits(2))]))
    shape = draw(st.sampled_from(["area", "brackets", "introduced", "extension"]))
    if shape == "brackets":
        return f"（{area}）{draw(written(local, (4, 4)))}{extension}"
    if shape == "introduced":  # no area code: the word before says it is a phone
        return draw(st.sampled_from(["电话", "座机：", "联系电话是", "固话"])) + local
    if shape == "extension":
        return local + "转" + draw(digits(3))
    return draw(written(area + local, (len(area), len(local)))) + extension


@st.composite
def emails(draw: st.DrawFn) -> str:
    name = draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=12))
    domain = draw(st.sampled_from(["qq.com", "163.com", "gmail.com", "hn.gov.cn"]))
    return f"{name}@{domain}"


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    n = draw(st.integers(16, 19))
    number = draw(st.sampled_from(["62", "45", "52", "60"])) + draw(digits(n - 2))
    return draw(written(number, (4,) * (n // 4) + ((n % 4,) if n % 4 else ())))


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@st.composite
def plates(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(PROVINCES)) + draw(st.sampled_from(LETTERS))
    sep = draw(st.sampled_from(["", "·", " "]))
    kind = draw(st.sampled_from(["ordinary", "new energy", "learner"]))
    if kind == "new energy":
        body = draw(st.sampled_from("DF")) + draw(digits(5))
    elif kind == "learner":
        body = draw(digits(4)) + draw(st.sampled_from("学挂"))
    else:
        body = draw(digits(3)) + "".join(
            draw(st.lists(st.sampled_from(LETTERS + "0123456789"), min_size=2, max_size=2))
        )
    return head + sep + (body.translate(FULL_DIGITS) if draw(st.booleans()) else body)


@st.composite
def qq_numbers(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(["QQ号", "QQ：", "QQ", "qq号码是", "企鹅号", "QQ号 "]))
    return word + draw(nonzero) + draw(digits(draw(st.integers(4, 10))))


@st.composite
def wechat_ids(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(["微信号", "微信：", "微信号：", "vx", "VX", "wx", "Vx:", "微信 "]))
    if draw(st.booleans()):
        return word + "1" + draw(st.sampled_from("3456789")) + draw(digits(9))
    head = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyzABC"))
    rest = draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=5, max_size=15))
    return word + head + rest


COMPOUNDS = ["枫林小区", "梅溪湖花园", "星城公寓", "金茂大厦", "阳光家园", "湘江苑", "新华村"]


@st.composite
def houses(draw: st.DrawFn) -> str:
    def n(low: int = 1, high: int = 30) -> str:
        value = str(draw(st.integers(low, high)))
        return value.translate(FULL_DIGITS) if draw(st.booleans()) else value

    shape = draw(st.integers(0, 6))
    if shape == 0:
        return f"{n()}栋{n(1, 6)}单元{n(101, 2804)}室"
    if shape == 1:
        return f"{n()}号楼{n(1, 6)}单元{n(101, 2804)}"
    if shape == 2:
        return f"{n()}幢{n(101, 2804)}室"
    if shape == 3:
        return f"{draw(st.sampled_from('ABC'))}座{n(101, 2804)}室"
    if shape == 4:
        return f"高塘村{n(1, 12)}组{n(1, 99)}号"
    if shape == 5:
        return f"枫树村第{draw(st.sampled_from('一二三四五六七八九十'))}村民小组{n(1, 99)}号"
    # 栋-单元-室 right after the compound's name (枫林小区3-2-501).
    return f"{draw(st.sampled_from(COMPOUNDS))}{n(1, 30)}-{n(1, 6)}-{n(101, 2804)}"


NAMES = ["李建国", "王芳", "欧阳娜娜", "张伟", "刘德华", "陈小明"]


@st.composite
def spaced_names(draw: st.DrawFn) -> tuple[str, str]:
    """(the recorded name, the name as it appears in the text)."""
    name = draw(st.sampled_from(NAMES))
    sep = draw(st.sampled_from(["", " ", "\u3000", "·", "  "]))
    return name, sep.join(name)


# Chinese text around each identifier: never a digit, a Latin letter or a separator alone,
# so each identifier stands on its own as it would in a sentence.
chinese = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), st.sampled_from("，。！？、；")
    ),
    min_size=1,
    max_size=10,
)


def assert_no_digits(masked: str, original: str) -> None:
    assert not ANY_DIGIT.search(masked), f"{original!r} → {masked!r}"


@given(
    st.lists(
        st.tuples(
            chinese,
            st.one_of(mobiles(), id_cards(), landlines(), bank_cards(), qq_numbers(), houses()),
        ),
        min_size=1,
        max_size=5,
    ),
    chinese,
)
def test_no_digit_of_a_number_survives(parts: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f"{a}{b}" for a, b in parts) + tail
    assert_no_digits(mask_personal(text), text)


@given(chinese, plates(), chinese)
def test_no_plate_survives(before: str, plate: str, after: str) -> None:
    masked = mask_personal(before + plate + after)
    assert plate not in masked and "【车牌号】" in masked
    assert_no_digits(masked, plate)


@given(chinese, st.one_of(emails(), wechat_ids()), chinese)
def test_no_email_or_wechat_id_survives(before: str, ident: str, after: str) -> None:
    masked = mask_personal(before + ident + after)
    kept = re.sub(r"^(微信号?|vx|VX|wx|Vx|QQ)[:：]?\s?", "", ident)
    assert kept not in masked and "@" not in masked, masked
    assert_no_digits(masked, ident)


@given(chinese, spaced_names(), chinese, spaced_names())
def test_the_reporters_name_never_remains(
    before: str, first: tuple[str, str], middle: str, second: tuple[str, str]
) -> None:
    name, typed = first
    text = f"{before}{typed}{middle}我叫{second[1]}，"
    masked = mask_personal(text, names=(name,))
    assert name not in re.sub(r"[\s·]", "", masked) and NAME_MASK in masked
    # Introducing oneself (我叫…) hides a name nobody recorded, too.
    assert second[0] not in re.sub(r"[\s·]", "", masked)


# Ordinary words and the numbers complaints are full of: none of it is personal.
WORDS = [
    "小区门口",
    "垃圾堆放",
    "噪音扰民",
    "路灯不亮",
    "物业",
    "希望尽快处理",
    "，",
    "。",
    "商家拒绝退款",
    "拖欠工资",
    "施工",
    "已经",
    "反映过",
    "至今没有答复",
    "老人出行不便",
]
NUMBERS = [
    "2026年12月6日",
    "12月6号",
    "300元",
    "35000 元",
    "1.5万元",
    "8点30分",
    "20:30",
    "3天",
    "2个月",
    "12人",
    "30户",
    "第3次",
    "5楼",
    "3号线",
    "2室1厅",
    "50%",
    "2025-2026学年",
    "3000-5000元",
    "工单 20261122-00001",
    "订单号 3298473829384756123",
    "2026-12-06",
    "一栋楼",
    "10年",
    "12345热线",
    "110",
    "3栋楼",
]


@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(NUMBERS)), max_size=8))
def test_ordinary_text_is_not_mangled(parts: list[tuple[str, str]]) -> None:
    text = "".join(a + b for a, b in parts) + "。"
    assert mask_personal(text) == text
    assert mask_personal(text.translate(FULL_DIGITS)) == text.translate(FULL_DIGITS)


@given(st.text(max_size=200))
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_personal(text, names=("张三",))
    assert mask_personal(once, names=("张三",)) == once


ISSUE = (
    "我叫李建国，身份证430104199001011234，手机13973112345，"
    "住在含浦街道枫林小区3栋2单元501室。我举报市住建局工作人员王五……"
)


def test_the_issues_report_reaches_a_unit_without_the_reporter() -> None:
    masked = mask_personal(ISSUE, names=("李建国",))
    for leak in ("李建国", "430104", "1234", "139", "2345", "3栋", "2单元", "501室"):
        assert leak not in masked, leak
    # The place and the matter stay: the unit needs them.
    assert masked == (
        "我叫【来电人】，身份证【身份证号】，手机【手机号】，"
        "住在含浦街道枫林小区【门牌】。我举报市住建局工作人员王五……"
    )


def test_what_a_unit_reads() -> None:
    text = (
        "我是李四，身份证430102199001011234，电话139 1234 5678，座机(0731)8888-1234转6，"
        "邮箱li4@qq.com，卡号6222 0212 3456 7890 123，车牌湘A·D12345，QQ：12345678，"
        "微信号：li_si_88，家住高塘村3组12号"
    )
    assert mask_personal(text, names=("李四", " ")) == (
        f"我是{NAME_MASK}，身份证【身份证号】，电话【手机号】，座机【电话】，"
        "邮箱【邮箱】，卡号【银行卡号】，车牌【车牌号】，QQ：【QQ号】，"
        "微信号：【微信号】，家住高塘村【门牌】"
    )
    # A title cut in the middle of a number (WeChat titles end with …) hides what is left.
    assert mask_personal("我是李建国，电话139731123…") == "我是【来电人】，电话【手机号】…"
    # Other numbers a unit needs are kept: amounts, dates, ticket and order numbers.
    keep = "拖欠工资 35000 元，2026年3月起，工单 20261122-00001，订单号 3298473829384756123"
    assert mask_personal(keep) == keep


def test_addresses_lose_the_household_not_the_place() -> None:
    assert mask_address("A3区含浦街道某小区3栋2单元401室") == "A3区含浦街道某小区【门牌】"
    assert mask_address("岳麓区枫林小区3-2-501") == "岳麓区枫林小区【门牌】"
    assert mask_address("望城区高塘村五组") == "望城区高塘村【门牌】"
    assert mask_address("韶山北路501号") == "韶山北路【门牌】"
    assert mask_address("A3区含浦街道") == "A3区含浦街道"


def test_the_person_reported_on_and_dotted_dates_stay() -> None:
    # The unit must read whom the report is about; only the reporter's name goes.
    text = "被举报人姓名：王五，1971.12-1972.1在粮食局任职，举报人：李建国，电话139.7311.2345"
    assert mask_personal(text) == (
        "被举报人姓名：王五，1971.12-1972.1在粮食局任职，举报人：【来电人】，电话【手机号】"
    )
