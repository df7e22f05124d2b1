"""Raw messages as the channels deliver them: the variants the raw-text evaluation scores.

A citizen's words reach the router in other dress than the TipDM export: an operator types the
caller's address and number into the ticket, the web form sends its title and body on separate
lines, WeChat users add emoji (as characters or as the client's ``[捂脸]`` codes), and a
full-width input method turns letters and digits into ``Ａ１``. The words that decide the
category are the same, so the score should be too. Each function is pure and deterministic
(the row number picks the filler), so a report can be reproduced.
"""

from __future__ import annotations

from collections.abc import Callable

EMOJI = ("😡", "🙏", "😭", "👍", "🏠", "❗", "😤", "🚧")
WECHAT_CODES = ("[捂脸]", "[流泪]", "[发怒]", "[抱拳]", "[强]", "[叹气]")
STREETS = ("人民路", "解放西路", "芙蓉中路", "万家丽北路", "桐梓坡路", "岳麓大道")
SENTENCE_ENDS = "。！？!?；"


def fullwidth(text: str, row: int = 0) -> str:
    """Letters, digits and ASCII punctuation as a full-width input method types them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def with_emoji(text: str, row: int = 0) -> str:
    """An emoji or a WeChat sticker code after each sentence, and one at the very end."""
    marks = EMOJI + WECHAT_CODES
    out: list[str] = []
    k = row
    for c in text:
        out.append(c)
        if c in SENTENCE_ENDS:
            out.append(marks[k % len(marks)])
            k += 1
    return "".join(out) + marks[k % len(marks)] + marks[(k + 3) % len(marks)]


def with_contact(text: str, row: int = 0) -> str:
    """The caller's house address and phone numbers as an operator records them."""
    street = STREETS[row % len(STREETS)]
    number = 13800000000 + (row * 7919) % 100000000
    return (
        f"来电人住址：A市A{row % 7 + 1}区{street}{row % 300 + 1}号{row % 20 + 1}栋"
        f"{row % 6 + 1}单元{row % 30 + 1}0{row % 4 + 1}室，联系电话{number}，"
        f"备用电话0731-8{row % 10}{(row * 37) % 1000000:06d}。{text}"
    )


def web_form(text: str, row: int = 0) -> str:
    """Title and body on separate lines with the form's labels, tabs and a trailing signature."""
    title, _, body = text.partition(" ")
    return f"标题：{title}\r\n内容：\t{body}\r\n\r\n（来自网上留言板，留言人：市民）"


VARIANTS: dict[str, Callable[[str, int], str]] = {
    "fullwidth": fullwidth,
    "emoji": with_emoji,
    "contact": with_contact,
    "web_form": web_form,
}
# What each variant is, for reports and the model card.
VARIANT_NAMES = {
    "fullwidth": "全角字母数字（全角输入法）",
    "emoji": "表情符号与微信表情代码",
    "contact": "话务员记录的住址与电话",
    "web_form": "网上留言表单（标题、内容分行）",
}


def variants_of(texts: dict[int, str]) -> dict[str, dict[int, str]]:
    """Every variant of every text: name -> row -> text."""
    return {name: {i: fn(t, i) for i, t in texts.items()} for name, fn in VARIANTS.items()}
