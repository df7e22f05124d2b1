"""A unit's reply proposed as a knowledge-base entry (「建议加入知识库」 on its ticket page).

The proposal is a draft — the ticket's title as the unit reads it, its category, the unit, and
the unit's latest reply as the answer, personal data masked — which a supervisor checks and
publishes. A 举报 or confidential ticket is never proposed: its matter can identify the
reporter however its words are masked.
"""

from __future__ import annotations

from datetime import datetime

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.knowledge import KbEntryIn, KbStatus
from hotline.domain.models import KbEntry, Ticket, TicketEvent
from hotline.domain.vocabulary import Vocabulary
from hotline.privacy.rules import CONFIDENTIAL_KINDS, mask_personal
from hotline.services import knowledge


def may_propose(ticket: Ticket) -> bool:
    """Whether a ticket's reply may become an entry at all (never a 举报 or confidential one)."""
    return not ticket.confidential and ticket.kind not in CONFIDENTIAL_KINDS


async def latest_reply(ticket: Ticket, unit_id: int) -> str | None:
    """The unit's latest reply text on the ticket."""
    event = (
        await TicketEvent.filter(ticket_id=ticket.id, action="reply", actor_unit_id=unit_id)
        .order_by("-id")
        .first()
    )
    text = (event.payload or {}).get("text") if event else None
    return str(text) if text else None


async def propose(
    *, ticket: Ticket, title: str, principal: Principal, now: datetime, words: Vocabulary
) -> tuple[KbEntry, bool]:
    """The draft for this ticket (made now, or the one proposed before: False)."""
    if not may_propose(ticket):
        raise HotlineError(
            "举报件和保密件的答复不能建议加入知识库（可能暴露举报人）；"
            "如确有共性问题，请联系热线中心另行编写",
            status=403,
            code="confidential",
        )
    earlier = await KbEntry.filter(proposed_from=ticket.number).first()
    if earlier is not None:
        return earlier, False
    reply = await latest_reply(ticket, principal.unit_id or 0)
    if reply is None:
        raise HotlineError(
            "本单位还没有答复这件工单：请先回复，再把答复建议加入知识库",
            status=409,
            code="no_reply",
        )
    names = (ticket.complainant_name,) if ticket.complainant_name else ()
    category = ticket.category if ticket.category in words.categories else None
    data = KbEntryIn(
        title=title[:200] if len(title) >= 2 else f"{title}（待补标题）",
        questions=[],
        answer=mask_personal(reply, names=names),
        category=category,
        unit_code=principal.unit_code,
        status=KbStatus.DRAFT,
    )
    entry = await knowledge.create_entry(
        data=data,
        actor=principal.display_name or principal.username,
        now=now,
        words=words,
        action="propose",
        proposed_from=ticket.number,
    )
    return entry, True
