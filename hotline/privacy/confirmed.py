"""What a unit reads of a ticket, and when a person must confirm it first (pure).

The centre keeps the verbatim record. A unit reads the dispatch title and text (转办内容).
For most tickets these default to the original with personal data masked. For a 举报 or a
confidential ticket masking is only a proposal — a regex always misses something — so a
person at the centre confirms the text before any dispatch, and until then nothing of the
ticket's words reaches a unit (an older ticket dispatched before this rule shows a notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hotline.privacy.rules import is_confidential, mask_personal

NOT_CONFIRMED = "（转办内容待热线中心确认，请联系热线中心）"
CONFIRM_FIRST = (
    "举报件和保密件须先由热线中心人员确认转办内容（单位看到的标题和内容），"
    "请先「确认转办内容」再派单"
)
EDIT_BY_CONFIRMING = "举报件和保密件的转办内容请用「确认转办内容」修改，派单时不能另填"


def needs_confirmation(*, kind: str, confidential: bool) -> bool:
    """Whether a person at the centre must confirm the dispatch text before any dispatch."""
    return is_confidential(kind=kind, confidential=confidential)


def proposed_text(*, kind: str, confidential: bool, text: str, names: tuple[str, ...]) -> str:
    """The dispatch title or text proposed for a new ticket: the original, masked.

    For a 举报 or confidential ticket the reporter's stated residence goes too (住在【住址】):
    their street and compound would point the one reported on at them.
    """
    hidden = needs_confirmation(kind=kind, confidential=confidential)
    return mask_personal(text, names=names, residence=hidden)


@dataclass(frozen=True)
class UnitText:
    """The title and text a unit reads; `confirmed` is False while they await a person."""

    title: str
    text: str
    confirmed: bool


def unit_text(
    *,
    kind: str,
    confidential: bool,
    title: str,
    content: str,
    complainant_name: str,
    dispatch_title: str | None,
    dispatch_text: str | None,
    confirmed: bool,
) -> UnitText:
    """What a unit (its pages, API, mail and search) may read of a ticket."""
    if needs_confirmation(kind=kind, confidential=confidential):
        if not confirmed:
            return UnitText(NOT_CONFIRMED, NOT_CONFIRMED, False)
        return UnitText(dispatch_title or NOT_CONFIRMED, dispatch_text or NOT_CONFIRMED, True)
    names = (complainant_name,)
    return UnitText(
        dispatch_title if dispatch_title is not None else mask_personal(title, names=names),
        dispatch_text if dispatch_text is not None else mask_personal(content, names=names),
        confirmed,
    )


class TicketWords(Protocol):
    """What `unit_text_of` reads of a ticket row (any object with these attributes)."""

    kind: str
    confidential: bool
    title: str
    content: str
    complainant_name: str
    dispatch_title: str | None
    dispatch_text: str | None
    dispatch_confirmed_at: object


def unit_text_of(ticket: TicketWords) -> UnitText:
    """`unit_text` of a ticket row: what its units' pages, API, mail and search read."""
    return unit_text(
        kind=ticket.kind,
        confidential=ticket.confidential,
        title=ticket.title,
        content=ticket.content,
        complainant_name=ticket.complainant_name,
        dispatch_title=ticket.dispatch_title,
        dispatch_text=ticket.dispatch_text,
        confirmed=ticket.dispatch_confirmed_at is not None,
    )


def unit_title_of(ticket: TicketWords) -> str:
    """The title alone of `unit_text_of` (a list row masks no content it does not show)."""
    if needs_confirmation(kind=ticket.kind, confidential=ticket.confidential):
        if ticket.dispatch_confirmed_at is None:
            return NOT_CONFIRMED
        return ticket.dispatch_title or NOT_CONFIRMED
    if ticket.dispatch_title is not None:
        return ticket.dispatch_title
    return mask_personal(ticket.title, names=(ticket.complainant_name,))
