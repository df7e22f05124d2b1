"""Text normalisation for citizen messages: width, whitespace, and masking of personal data."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

PLACEHOLDER_URL = "<网址>"
PLACEHOLDER_EMAIL = "<邮箱>"
PLACEHOLDER_ID = "<证件号>"
PLACEHOLDER_PHONE = "<电话>"
PLACEHOLDER_ADDRESS = "<地址>"
PLACEHOLDERS: frozenset[str] = frozenset(
    {PLACEHOLDER_URL, PLACEHOLDER_EMAIL, PLACEHOLDER_ID, PLACEHOLDER_PHONE, PLACEHOLDER_ADDRESS}
)

# Excel exports of the source data carry literal "_x000D_" for carriage returns.
_EXCEL_CR = re.compile(r"_x000D_", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# The ID and phone patterns below are written to start with a digit (or "+") and check the
# preceding character with a look-behind placed after it: the regex engine then skips ahead
# to candidate characters instead of trying the look-behind at every position (5-10x faster
# on a 500-character ticket). They match exactly what these plainer forms match:
#   ID:    (?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])
#   phone: (?<![0-9])(?:(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}|0\d{2,3}[- ]?\d{7,8})(?![0-9])
# 18-digit resident ID (last char may be X) or the old 15-digit form; replaced before phones
# because an ID number contains phone-like digit runs.
_ID_NUMBER = re.compile(r"\d(?<![0-9A-Za-z]\d)(?:\d{16}[\dXx]|\d{14})(?![0-9A-Za-z])")
_MOBILE = r"1[3-9]\d(?:[- ]?\d{4}){2}"  # mobile, grouped 3-4-4 or not
_PHONE = re.compile(
    "(?:"
    + "|".join(
        [
            r"\+(?<![0-9]\+)86[- ]?" + _MOBILE,  # +86 mobile
            r"8(?<![0-9]8)6[- ]?" + _MOBILE,  # 86 mobile
            r"1(?<![0-9]1)" + _MOBILE[1:],  # mobile
            r"0(?<![0-9]0)\d{2,3}[- ]?\d{7,8}",  # landline with area code
        ]
    )
    + r")(?![0-9])"
)
_WS = re.compile(r"\s+")
# A house-level address: a road and its house number (人民路8号), then any numbered building,
# unit, floor and room (3栋2单元502室); or two or more such numbered parts without the road.
# A caller's address typed into the text says where they live, not what the matter is, and its
# road names and 栋/单元/室 would otherwise vote for 城乡建设 (classifier.variants measures it).
# One numbered part alone (3号线, 12号) is left: it is often the matter itself.
# The scan starts at digits (found fast, as for the phone pattern); the road name, up to four
# Chinese characters before 路/街/大道/巷/弄, is taken by looking back from the number.
_UNIT_WORD = "(?:号楼|号院|栋|幢|单元|层|楼|室|号|房)"
_NUMBERED = re.compile(r"\d(?<![0-9]\d)\d*" + _UNIT_WORD + r"(?:\d+" + _UNIT_WORD + ")*")
# After a road: the house number, then any numbered parts.
_HOUSE_NUMBER = re.compile(r"\d+号(?:\d+" + _UNIT_WORD + ")*")
_UNIT_DIGITS = re.compile(r"\d+")
_ROAD_ENDS = ("大道", "路", "街", "巷", "弄")
_ROAD_NAME_MAX = 4


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fa5"


def _road_start(text: str, number_start: int, floor: int) -> int | None:
    """Where the road name before a house number begins (not before floor), or None."""
    for end in _ROAD_ENDS:
        if text.endswith(end, floor, number_start):
            name_end = number_start - len(end)
            start = name_end
            while start > max(name_end - _ROAD_NAME_MAX, floor) and _is_han(text[start - 1]):
                start -= 1
            return start if start < name_end else None
    return None


def mask_addresses(text: str) -> str:
    """Replace house-level addresses (see above) with <地址>."""
    out: list[str] = []
    last = pos = 0
    while (m := _NUMBERED.search(text, pos)) is not None:
        start = _road_start(text, m.start(), last)
        house = _HOUSE_NUMBER.match(text, m.start()) if start is not None else None
        if house is not None:
            end = house.end()
        elif len(_UNIT_DIGITS.findall(m.group())) >= 2:
            start, end = m.start(), m.end()
        else:
            pos = m.end()
            continue
        out.append(text[last:start])
        out.append(f" {PLACEHOLDER_ADDRESS} ")
        last = pos = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


@cache
def _nfkc_map() -> tuple[re.Pattern[str], dict[str, str]]:
    """The BMP characters NFKC changes (full-width forms, ㈠, ﬁ …) and what each becomes."""
    table = {}
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue  # surrogates are not characters
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch:
            table[ch] = folded
    return re.compile("[" + "".join(map(re.escape, sorted(table))) + "]"), table


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), 3-4× faster on Chinese text.

    NFKC of a string equals NFKC of the string with each character replaced by its own NFKC
    form (NFKD(NFKC(c)) == NFKD(c), and composition runs over the whole decomposition), so
    replacing only the characters that change — a regex scan that skips the CJK characters —
    and confirming with the quick check gives the same text; a combining sequence or a
    character beyond the BMP falls back to the full normalisation.
    """
    pattern, table = _nfkc_map()
    folded = pattern.sub(lambda m: table[m.group()], text)
    if unicodedata.is_normalized("NFKC", folded):
        return folded
    return unicodedata.normalize("NFKC", folded)


def normalize_text(text: str) -> str:
    """NFKC-fold, mask URLs / e-mails / ID numbers / phones / house addresses, collapse spaces."""
    if not text:
        return ""
    text = nfkc(text)
    # Cheap substring tests skip patterns that cannot match (most tickets have no URL/e-mail).
    # Lower-casing a whole Chinese ticket costs more than the tests: only a text with "_" or a
    # "w"/"W" can hold _x000D_ or www. in any case (no other character lower-cases to w).
    if "_" in text and "_x000d_" in text.lower():
        text = _EXCEL_CR.sub(" ", text)
    if "://" in text or (("w" in text or "W" in text) and "www." in text.lower()):
        text = _URL.sub(f" {PLACEHOLDER_URL} ", text)
    if "@" in text:
        text = _EMAIL.sub(f" {PLACEHOLDER_EMAIL} ", text)
    text = _ID_NUMBER.sub(f" {PLACEHOLDER_ID} ", text)
    text = _PHONE.sub(f" {PLACEHOLDER_PHONE} ", text)
    text = mask_addresses(text)
    return _WS.sub(" ", text).strip()
