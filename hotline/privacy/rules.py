"""What each viewer may see of a complainant (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.vocabulary import KIND_BY_WORD, KIND_SPECS
from hotline.privacy import masking

HIDDEN = "（保密）"
# Kinds whose every ticket is confidential, for queries that state the rule in SQL.
CONFIDENTIAL_KINDS: frozenset[str] = frozenset(k.word for k in KIND_SPECS if k.confidential)


def is_confidential(*, kind: str, confidential: bool) -> bool:
    """The one rule of who is hidden: a 举报, or a complainant who asked for confidentiality.

    Units never see such a complainant, and a person at the centre confirms what units read
    of such a ticket before any dispatch (hotline.privacy.confirmed).
    """
    return kind in CONFIDENTIAL_KINDS or confidential


def may_ask_no_contact(kind: str) -> bool:
    """Whether the form offers 不希望被联系: to a reporter of wrongdoing (举报) alone."""
    spec = KIND_BY_WORD.get(kind)
    return spec is not None and spec.confidential


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
        if is_confidential(kind=kind, confidential=confidential):
            return ComplainantView(HIDDEN, HIDDEN, HIDDEN)
        return ComplainantView(name, phone, email)
    return ComplainantView(name, mask_phone(phone), email and HIDDEN)


def no_contact_applies(*, no_contact: bool, confidential: bool) -> bool:
    """Whether no one may phone or text the complainant (a confidential reporter's wish)."""
    # The forms offer the wish to 举报 alone (always confidential); the flag on a ticket that
    # is not confidential is ignored, so the staff pages and the SMS rule never disagree.
    return no_contact and confidential


NAME_MASK = masking.NAME


def mask_personal(text: str, *, names: tuple[str, ...] = (), residence: bool = False) -> str:
    """The text with every personal identifier and the complainant's `names` masked.

    This is the default dispatch text (转办内容) and the title citizens are shown: numbers,
    e-mail addresses, plates, QQ and WeChat ids, house-level address parts and names become
    placeholders (【手机号】, 【门牌】, 【来电人】) with none of their digits kept
    (`hotline.privacy.masking` has the rules). With `residence`, where the complainant says
    they live goes whole (住在【住址】): for an ordinary ticket the compound is usually the
    place of the matter and stays.
    """
    if residence:
        text = masking.mask_residence(text)
    return masking.mask_text(text, names=names)


def citizen_title(title: str, complainant_name: str) -> str:
    """A ticket's title as citizen surfaces show it (tracking page, WeChat): nothing personal.

    Whoever holds a ticket number and its query code, or the WeChat account, reads it; the
    title a reporter typed often names them (我是李建国，电话…).
    """
    return mask_personal(title, names=(complainant_name,))


def mask_address(address: str) -> str:
    """An address without the building, room or door numbers that point at one household."""
    return masking.mask_house(address)


def dispatch_text(stored: str | None, content: str, complainant_name: str) -> str:
    """转办内容: the stored dispatch text, or (older tickets) the content masked."""
    if stored is not None:
        return stored
    return mask_personal(content, names=(complainant_name,))
