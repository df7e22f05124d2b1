"""What each viewer may see of a complainant (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

HIDDEN = "（保密）"


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: 13812345678 → 138****5678."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


@dataclass(frozen=True)
class ComplainantView:
    """The complainant's details as one viewer may see them."""

    name: str
    phone: str
    email: str


def complainant_view(
    *, role: str, kind: str, confidential: bool, name: str, phone: str, email: str
) -> ComplainantView:
    """Operators see everything; supervisors a masked phone; units nothing of a 举报 reporter.

    A unit needs the phone to contact the complainant, except when the complainant asked
    for confidentiality or reports wrongdoing (举报), whose reporter must stay hidden from
    the units (the one reported on may be among them).
    """
    if role == "operator":
        return ComplainantView(name, phone, email)
    if role == "unit":
        if kind == "举报" or confidential:
            return ComplainantView(HIDDEN, HIDDEN, HIDDEN)
        return ComplainantView(name, phone, email)
    return ComplainantView(name, mask_phone(phone), email and HIDDEN)


def no_contact_applies(*, no_contact: bool, confidential: bool) -> bool:
    """Whether no one may phone or text the complainant (a confidential reporter's wish)."""
    # The forms offer the wish to 举报 alone (always confidential); the flag on a ticket that
    # is not confidential is ignored, so the staff pages and the SMS rule never disagree.
    return no_contact and confidential


# Digits as citizens type them: ASCII or full-width, runs optionally split by spaces or hyphens.
_D = "[0-9０-９]"
_SEP = r"[\s\-－]?"
_MOBILE = re.compile(
    rf"(?<![0-9０-９])([1１][3-9３-９]{_D}){_SEP}({_D}{{4}}){_SEP}({_D}{{4}})(?![0-9０-９])"
)
_ID_CARD = re.compile(
    rf"(?<![0-9０-９])({_D}{{6}})({_D}{{8}})({_D}{{3}}[0-9０-９XxＸｘ])(?![0-9０-９])"
)
_ID_CARD_OLD = re.compile(rf"(?<![0-9０-９])({_D}{{6}})({_D}{{6}})({_D}{{3}})(?![0-9０-９])")
_LANDLINE = re.compile(
    rf"(?<![0-9０-９])(0{_D}{{2,3}})[\-－\s]?({_D}{{3,4}})({_D}{{4}})(?![0-9０-９])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A room or house number in an address (3栋2单元401室, 12号楼, 501号) identifies a household.
_ROOM = re.compile(rf"{_D}+\s*(栋|幢|号楼|单元|室|户|号)")
NAME_MASK = "【来电人】"


def mask_personal(text: str, *, names: tuple[str, ...] = ()) -> str:
    """The text with mobile, landline, ID-card numbers, e-mail addresses and `names` masked.

    This is the default dispatch text (转办内容): what a unit reads instead of the verbatim
    record. Numbers keep a recognisable shape (138****5678) so a reader sees something was
    removed; names of the complainant become 【来电人】.
    """
    out = _EMAIL.sub("***@***", text)
    out = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(3)[-4:], out)
    out = _ID_CARD_OLD.sub(lambda m: m.group(1) + "******" + m.group(3), out)
    out = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), out)
    out = _LANDLINE.sub(lambda m: m.group(1) + "-****" + m.group(3), out)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, NAME_MASK)
    return out


def mask_address(address: str) -> str:
    """An address without the room or house numbers that point at one household."""
    return _ROOM.sub(lambda m: "**" + m.group(1), address)


def dispatch_text(stored: str | None, content: str, complainant_name: str) -> str:
    """转办内容: the stored dispatch text, or (older tickets) the content masked."""
    if stored is not None:
        return stored
    return mask_personal(content, names=(complainant_name,))
