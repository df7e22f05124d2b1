"""Personal identifiers in free text, replaced by placeholders a reader understands (pure).

The default dispatch text (转办内容) and every title a citizen surface echoes go through
`mask_text`. What counts as personal: mobile, landline, ID-card and bank-card numbers,
e-mail addresses, vehicle plates, QQ numbers and WeChat ids introduced as such, the
household-level part of an address (3栋2单元501室, 村3组12号) and the complainant's name,
also where they introduce themselves (我叫…, 本人…). Nothing of an identifier is kept: a
placeholder names what was there (【手机号】, 【门牌】), so a unit knows what to ask for.

Citizens type digits in ASCII or full width and split them with spaces, hyphens or dots
anywhere, so numbers are found as *runs* of digits with separators and classified by the
length and shape of their digits and the words before them (电话, 身份证, 卡号, 订单号), not
by one regular expression per format. Dates, amounts, times and short numbers are no
identifier shape and stay as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from routing.residence import RESIDENCE as _RESIDENCE

MOBILE = "【手机号】"
ID_CARD = "【身份证号】"
PHONE = "【电话】"
EMAIL = "【邮箱】"
BANK_CARD = "【银行卡号】"
PLATE = "【车牌号】"
QQ = "【QQ号】"
WECHAT = "【微信号】"
HOUSE = "【门牌】"
NUMBER = "【号码】"
NAME = "【来电人】"
RESIDENCE = "【住址】"

_D = "0-9０-９"
_AL = "A-Za-zＡ-Ｚａ-ｚ"
_HAN = "\u4e00-\u9fff"
# One separator between two digits: a space (also full width), a hyphen of any width, a dot.
_SEP = "[ \t\u3000\\-－‐‑–—.．·・]"

# ---- e-mail, QQ, WeChat, plates ----------------------------------------------------------

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:[.．][A-Za-z0-9\-]+)*[.．][A-Za-z]{2,}"
)
_INTRO_TAIL = r"\s*[:：]?\s*(?:是|为)?\s*"
# Each pattern below that may begin with a lookbehind or an optional part opens with a
# lookahead of the characters a match can start with: `re` tries a pattern at every position
# of the text, and without it ran the lookbehinds and alternatives at each of them (masking
# a 300-character text took 1-2 ms; the sweeper masks thousands at once). The lookahead
# matches nothing the rest would not, so the results are the same.
_QQ = re.compile(
    r"(?=[QqＱ企])"
    rf"((?<![A-Za-z])(?:[Qq]{{2}}|ＱＱ|企鹅)(?:号码|号)?{_INTRO_TAIL})"
    rf"([{_D}](?:{_SEP}?[{_D}]){{4,11}})(?![{_D}])"
)
_WECHAT = re.compile(
    r"(?=[微VvWw威薇])"
    rf"((?:微信|(?<![A-Za-z])(?:[VvWw][Xx]|weixin|WeChat|wechat)|[Vv]信|威信|薇信)"
    rf"(?:号码|号|[Ii][Dd])?{_INTRO_TAIL})"
    rf"([A-Za-z][\-_A-Za-z0-9]{{5,19}}|[{_D}](?:{_SEP}?[{_D}]){{5,19}})(?![\-_A-Za-z{_D}])"
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_PLATE_BODY = f"[{_AL}{_D}]"
_PLATE = re.compile(
    rf"[{_PROVINCES}][{_AL}][ \u3000·•・.．\-]?"
    rf"(?:{_PLATE_BODY}{{5,6}}|{_PLATE_BODY}{{4}}[挂学警港澳领试超])(?![{_AL}{_D}])"
)

# ---- digit runs ----------------------------------------------------------------------

_RUN = re.compile(
    rf"(?=[{_D}])"
    rf"(?<![{_D}])[{_D}](?:{_SEP}?[{_D}])*(?:[XxＸｘ](?![A-Za-z]))?(?![{_D}])"
)
_GROUP = re.compile(rf"[{_D}]+(?:[XxＸｘ])?")
# "(0731)8888 1234": an area code in brackets says the digits after it are a landline.
_BRACKETED = re.compile(
    rf"[(（]\s*0[1-9][{_D}]{{1,2}}\s*[)）]\s*([{_D}](?:{_SEP}?[{_D}])*)(?![{_D}])"
)
_TRIGGERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"(?:{words})(?:号码|号)?\s*[:：]?\s*(?:是|为)?\s*$"))
    for kind, words in (
        ("phone", r"电话|手机|座机|固话|联系方式|[Tt][Ee][Ll]|[Pp]hone|致电|拨打"),
        ("id", r"身份证|证件"),
        ("card", r"卡号|银行卡|账号|帐号|账户|帐户|存折"),
        # Numbers a unit needs to handle the matter: kept unless they are a mobile or ID.
        ("order", r"订单|单号|编号|工单|合同|发票|快递|运单|流水|批号|案号|文号"),
    )
)
_EXTENSION = re.compile(r"^\s*(?:转|分机|ext\.?|EXT\.?|#)")
_ELLIPSIS = re.compile(r"^(?:…|\.{3}|。。。)")
# A hyphenated local landline (8888-1234) is no range of amounts or years.
_COUNTED = re.compile(r"^\s*(?:元|万|块|千|百|米|平|人|年|个|次|天|公里|吨|斤|辆|户|起)")
_LONGEST = 21  # 0086 and a mobile number: no identifier has more digits
# No rule masks fewer digits (`_kind`: 6 after 电话/身份证; a local landline has 7; every
# shape 10 or more): shorter runs (dates, amounts, times) are skipped before classifying.
_SHORTEST = 6


def _digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def _birth_date(year: str, month: str, day: str) -> bool:
    return len(year) in (2, 4) and "01" <= month <= "12" and "01" <= day <= "31"


def _mobile(d: str) -> bool:
    return len(d) == 11 and d[0] == "1" and d[1] in "3456789"


def _shape(d: str) -> str | None:
    """The placeholder for a digit string by its shape alone, or None."""
    n = len(d)
    if d.endswith("X"):
        return ID_CARD if n in (15, 18) else None
    if (
        _mobile(d)
        or (d.startswith("86") and _mobile(d[2:]))
        or (d.startswith("0086") and _mobile(d[4:]))
    ):
        return MOBILE
    if n == 18 and d[6:8] in ("18", "19", "20") and _birth_date(d[6:10], d[10:12], d[12:14]):
        return ID_CARD
    if n == 15 and _birth_date(d[6:8], d[8:10], d[10:12]):
        return ID_CARD
    # 18 digits without a birth date where an ID card has one: a card number, masked as well.
    if 16 <= n <= 19:
        return BANK_CARD
    if 10 <= n <= 12 and d[0] == "0" and d[1] != "0":
        return PHONE
    return None


def _kind(d: str, trigger: str | None, after: str) -> str | None:
    """The placeholder for digits `d` (introduced by `trigger`, followed by `after`), or None."""
    shape = _shape(d)
    if trigger == "order":
        return shape if shape in (MOBILE, ID_CARD) else None
    if shape:
        return shape
    n = len(d)
    if trigger == "phone" and n >= 6:
        return MOBILE if d[0] == "1" else PHONE
    if trigger == "id" and n >= 6:
        return ID_CARD
    if trigger == "card" and n >= 8:
        return BANK_CARD
    if n in (7, 8) and d[0] in "23456789" and _EXTENSION.match(after):
        return PHONE
    if _ELLIPSIS.match(after) and n >= 7:  # a title cut in the middle of a number
        return MOBILE if d[0] == "1" and d[1] in "3456789" else NUMBER
    return None


def _local_landline(groups: list[str], separators: list[str], after: str) -> bool:
    """8888-1234 or 888-1234: a hyphenated local number, not 2025-2026 nor 3000-5000元."""
    if len(groups) != 2 or separators[0] not in "-－‐‑" or _COUNTED.match(after):
        return False
    head, tail = groups
    if len(head) not in (3, 4) or len(tail) != 4 or head[0] not in "23456789":
        return False
    return not (head[:2] in ("19", "20") and tail[:2] in ("19", "20"))


def _trigger(text: str, start: int) -> str | None:
    """What the words just before `start` say the number is (电话, 身份证, 订单号…)."""
    tail = text[max(0, start - 12) : start]
    return next((kind for kind, pattern in _TRIGGERS if pattern.search(tail)), None)


def _mask_run(text: str, match: re.Match[str]) -> list[tuple[int, int, str]]:
    """The spans of one digit run to replace: the whole run, or identifiers within it."""
    start, end = match.span()
    groups = [(g.start() + start, g.end() + start) for g in _GROUP.finditer(match.group())]
    separators = [text[groups[i][1] : groups[i + 1][0]] for i in range(len(groups) - 1)]
    # A number typed with dots uses dots throughout (139.7311.2345); where dots mix with other
    # separators they bind tighter (dates, decimals, 1971.12-1972.1; 0731.8888123-6 and its
    # extension): the run splits at the other separators.
    dots = [sep in ".．" for sep in separators]
    if any(dots) and not all(dots):
        cuts = [0, *(k + 1 for k, dot in enumerate(dots) if not dot), len(groups)]
        pieces = [groups[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    else:
        pieces = [groups]
    spans = []
    for piece in pieces:
        first = piece is pieces[0]
        trigger = _trigger(text, piece[0][0]) if first else None
        after = text[piece[-1][1] : piece[-1][1] + 8]
        spans += _mask_groups(text, piece, trigger, after)
    return spans


def _mask_groups(
    text: str, groups: list[tuple[int, int]], trigger: str | None, after: str
) -> list[tuple[int, int, str]]:
    digits = [_digits(text[a:b]) for a, b in groups]
    start, end = groups[0][0], groups[-1][1]
    whole = _kind("".join(digits), trigger, after)
    if whole:
        return [(start, end, whole)]
    separators = [text[groups[i][1] : groups[i + 1][0]] for i in range(len(groups) - 1)]
    if _local_landline(digits, separators, after):
        return [(start, end, PHONE)]
    # Identifiers inside a longer run (a date, then a mobile): longest first, no overlaps.
    candidates = []
    for i in range(len(groups)):
        total = ""
        for j in range(i, len(groups)):
            total += digits[j]
            if len(total) > _LONGEST:
                break
            if (i, j) == (0, len(groups) - 1):
                continue
            kind = _shape(total) if i > 0 else _kind(total, trigger, "")
            if kind:
                candidates.append((len(total), i, j, kind))
    taken: list[tuple[int, int, str]] = []
    used: set[int] = set()
    for _, i, j, kind in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if used.isdisjoint(range(i, j + 1)):
            used.update(range(i, j + 1))
            taken.append((groups[i][0], groups[j][1], kind))
    return taken


def _count_digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _mask_numbers(text: str) -> str:
    text = _BRACKETED.sub(lambda m: PHONE if _count_digits(m[1]) >= 7 else m[0], text)
    spans = [
        span
        for m in _RUN.finditer(text)
        if _count_digits(m.group()) >= _SHORTEST
        for span in _mask_run(text, m)
    ]
    out, last = [], 0
    for start, end, kind in sorted(spans):
        out += [text[last:start], kind]
        last = end
    out.append(text[last:])
    text = "".join(out)
    # An extension belongs to the number before it: 【电话】转123 is one number.
    return re.sub(
        rf"{PHONE}\s*(?:转|分机|ext\.?|EXT\.?|#|[-－])\s*[{_D}]{{1,6}}(?![{_D}])", PHONE, text
    )


# ---- household-level address parts -------------------------------------------------

_CN_NUM = "一二三四五六七八九十百零〇两"
_NUM = (
    rf"[{_AL}]?[{_D}]+[{_AL}]?"  # 3, 12A, A3
    rf"|[{_AL}](?=\s*(?:栋|幢|座|单元))"  # A座, B栋
    rf"|[{_CN_NUM}]+"
)
# Strong parts name a building, a staircase or a household by themselves; weak ones (floor,
# 号, room count) only in a chain with a strong part or after a street or village name.
_STRONG = {"号楼", "栋", "幢", "座", "单元", "室", "号房", "村民小组", "生产队"}
_VILLAGE = {"组", "小组", "队"}
_PART = re.compile(
    rf"(?=[第\s{_AL}{_D}{_CN_NUM}])"
    rf"第?\s*(?P<num>{_NUM})\s*(?P<unit>号楼|号房|村民小组|生产队|小组"
    r"|栋(?!楼|房)|幢(?!楼|房)|座|单元|室(?!\s*[0-9０-９一二两三四五六]?\s*厅)|户|楼|层|号(?![院线])|房|组|队)"
)
_CHAIN_GAP = re.compile(r"^[\s\-－,，]{0,2}$")
_ROOM_TAIL = re.compile(rf"^[\s\-－]?[{_D}]{{2,5}}(?![{_D}{_AL}])")
_DOOR_CONTEXT = tuple("路街巷弄里道村")
_VILLAGE_CONTEXT = ("村", "社区", "居委会", "村委会", "自然村")
_COMPOUND_ROOM = re.compile(
    r"(小区|花园|公寓|大厦|家园|苑|府|庭|城|村|院|楼|广场|社区|宿舍|山庄|新村|园)"
    rf"(\s*[{_D}]{{1,4}}(?:[\-－][{_D}]{{1,4}}){{1,3}})(?![{_D}])"
)
_DOOR_PLATE = re.compile(rf"门牌(?:号码|号)?\s*[:：]?\s*(?:是|为)?\s*[{_D}]+(?:号)?")


def _strong(num: str, unit: str, before: str) -> bool:
    """Whether one part alone names a household's building, staircase, room or village group."""
    if unit in _VILLAGE:
        return before.rstrip().endswith(_VILLAGE_CONTEXT)
    # 一栋, 一座 and 一单元 in ordinary sentences count things; digits and letters name them.
    written = re.search(f"[{_D}{_AL}]", num) is not None
    return unit in _STRONG and (written or unit in ("村民小组", "生产队"))


def mask_house(text: str) -> str:
    """The address or text without the parts that point at one household."""
    text = _DOOR_PLATE.sub(HOUSE, text)
    text = _COMPOUND_ROOM.sub(lambda m: m.group(1) + HOUSE, text)
    chains: list[list[re.Match[str]]] = []
    for part in _PART.finditer(text):
        last = chains[-1][-1] if chains else None
        if last and _CHAIN_GAP.match(text[last.end() : part.start()]):
            chains[-1].append(part)
        else:
            chains.append([part])
    out, pos = [], 0
    for chain in chains:
        start, end = chain[0].start(), chain[-1].end()
        strong = [
            _strong(p["num"], p["unit"], text[max(0, p.start() - 8) : p.start()]) for p in chain
        ]
        door = chain[0]["unit"] == "号" and text[max(0, start - 8) : start].rstrip().endswith(
            _DOOR_CONTEXT
        )
        if not (any(strong) or door or (len(chain) > 1 and _named_unit(chain))):
            continue
        tail = _ROOM_TAIL.match(text[end:])
        if tail:
            end += tail.end()
        out += [text[pos:start], HOUSE]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _named_unit(chain: list[re.Match[str]]) -> bool:
    """A chain of two or more parts with a building or room unit (三栋二单元)."""
    return any(p["unit"] in _STRONG or p["unit"] in _VILLAGE for p in chain)


# ---- names -------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
)
_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|令狐|夏侯|司徒|端木"
# Characters that end a self-introduction rather than belong to a given name (我是江西人).
_NOT_GIVEN = "人的们了在是和与及市省县区镇村街路业户民老师生员工长者家住之于"
_INTRO = (
    r"我叫|我是|本人(?:是|叫)?|我的名字(?:是|叫)|名字(?:是|叫)"
    # Not 被举报人 / 被投诉人: the person reported on is what the unit must read.
    r"|(?<!被)(?:举报人|反映人|投诉人)(?:姓名)?\s*[:：]?"
    r"|(?<!被举报人)(?<!被投诉人)(?<!被反映人)(?<!负责人)(?:姓名|联系人|来电人|落款)\s*[:：]?"
)
_NAME_GAP = r"[\s·•・.．\-_*]{0,2}"
_SELF_NAME = re.compile(
    r"(?=[我本名举反投姓联来落])"
    rf"((?:{_INTRO})\s*)"
    rf"((?:{_COMPOUND_SURNAMES}|[{_SURNAMES}])(?:{_NAME_GAP}(?![{_NOT_GIVEN}])[{_HAN}]){{1,2}})"
    rf"(?=$|[^{_HAN}]|电话|手机|身份证|联系|今年|家住|住在|现住)"
)


def _mask_names(text: str, names: Iterable[str]) -> str:
    clean = {"".join(n.split()) for n in names}
    for name in sorted((n for n in clean if len(n) >= 2), key=len, reverse=True):
        # Also the name with spaces or dots between its characters (李 建 国).
        pattern = _NAME_GAP.join(re.escape(ch) for ch in name)
        text = re.sub(pattern, NAME, text)
    return _SELF_NAME.sub(lambda m: m.group(1) + NAME, text)


# ---- the whole text ------------------------------------------------------------------


def mask_text(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` with every personal identifier and the complainant's `names` replaced."""
    out = _EMAIL.sub(EMAIL, text)
    out = _QQ.sub(lambda m: m.group(1) + QQ, out)
    out = _WECHAT.sub(lambda m: m.group(1) + WECHAT, out)
    out = _PLATE.sub(_plate, out)
    out = _mask_numbers(out)
    out = mask_house(out)
    return _mask_names(out, names)


def mask_residence(text: str) -> str:
    """Where the complainant says they live (住在…, 家住…, 住址：…) → 住在【住址】.

    The whole phrase up to the next punctuation goes, street and compound included: for a
    举报 the reporter's street and compound are enough for the one reported on to find them.
    """
    return _RESIDENCE.sub(lambda m: m.group("marker") + m.group("sep") + RESIDENCE, text)


def _plate(match: re.Match[str]) -> str:
    # A plate has digits; 新iPhone or 粤ABCDE is a word, not a plate.
    digits = sum(ch.isdigit() for ch in match.group())
    return PLATE if digits >= 2 else match.group()
