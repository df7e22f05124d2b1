"""What a citizen holding the query code may do on the tracking page besides rating:

- 补充说明: add words (and photos) to an open ticket; the unit holding it sees them in its
  timeline (for a 举报 or a confidential ticket only the centre sees the text, as units
  read only what the centre confirmed);
- 催一催: urge once the promised reply time has passed, at most once a Beijing day; it is
  the same 催办 event the centre writes, so the unit's workbench and the rates count it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio

from hotline.citizens.photos import neutral_name
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import SUPPLEMENT_STATUSES, WITH_UNIT, Action, Role, Status
from hotline.domain.models import Ticket, TicketClock, TicketEvent
from hotline.domain.schemas import Attachment, ReasonBody, SupplementBody
from hotline.domain.timefmt import SHANGHAI
from hotline.runtime.deployment import Deployment
from hotline.services import photo_store
from hotline.services import tickets as ticket_service
from hotline.services.web_intake import Photo, discard_unused
from sla.clock import ClockKind

SUPPLEMENTER = ticket_service.Actor(None, "市民（进度查询页）", Role.CITIZEN.value, None)
URGER = ticket_service.Actor(None, "市民催办（进度查询页）", Role.CITIZEN.value, None)
# A 退单待改派 ticket waits on the centre, not on the unit that disputed it: not urged.
URGEABLE = WITH_UNIT - {Status.DISPUTED}
URGE_REASON = "市民在进度查询页催办：已超过承诺的答复时间仍未收到答复"


async def promised_due(ticket: Ticket) -> datetime | None:
    """The running feedback deadline promised to the citizen, if any."""
    clock = await TicketClock.filter(
        ticket_id=ticket.id, kind=ClockKind.FEEDBACK.value, current=True
    ).first()
    return clock.due_at if clock is not None else None


async def urge_refusal(ticket: Ticket, *, now: datetime) -> HotlineError | None:
    """Why the citizen cannot urge now (409, saying when they can), or None."""
    if Status(ticket.status) not in URGEABLE:
        return _refused(
            "这张工单目前不在承办单位办理中（已答复、已办结或正在重新确定承办单位），无需催办。",
            "not_with_unit",
        )
    due = await promised_due(ticket)
    if due is None or now < due:
        when = f"（{due.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）" if due else ""
        return _refused(
            f"还没到承诺的答复时间{when}，到期仍未答复时可以催一催。", "not_overdue_yet"
        )
    # The Beijing day's bounds in UTC, as stored: SQLite compares the stored text, so a bound
    # written as +08:00 missed every urge made between 00:00 and 08:00 Beijing time.
    today = (
        now.astimezone(SHANGHAI)
        .replace(hour=0, minute=0, second=0, microsecond=0)
        .astimezone(timezone.utc)
    )
    urged = await TicketEvent.filter(
        ticket_id=ticket.id,
        action=Action.URGE.value,
        actor_role=Role.CITIZEN.value,
        created_at__gte=today,
        created_at__lt=today + timedelta(days=1),
    ).exists()
    if urged:
        return _refused("今天已经催过了，承办单位已收到提醒；明天仍未答复可以再催。", "urged_today")
    return None


async def urge(*, ticket: Ticket, now: datetime, deployment: Deployment) -> None:
    """催一催: the 催办 event, as the centre's, for the unit holding the ticket."""
    refused = await urge_refusal(ticket, now=now)
    if refused is not None:
        raise refused
    await ticket_service.apply_action(
        ticket=ticket,
        action=Action.URGE,
        body=ReasonBody(reason=URGE_REASON),
        actor=URGER,
        now=now,
        deployment=deployment,
    )


async def supplement(
    *,
    ticket: Ticket,
    text: str,
    photos: list[Photo],
    upload_dir: Path,
    now: datetime,
    deployment: Deployment,
) -> None:
    """补充说明 with photos: the photos are on disk before the row that names them commits."""
    if Status(ticket.status) not in SUPPLEMENT_STATUSES:
        raise _refused(
            "这张工单已答复或已办结，不能再补充说明；如有新的问题，请重新反映或拨打 12345 热线。",
            "closed_for_supplement",
        )
    first = len(ticket.attachments or []) + 1
    rows = [
        Attachment(
            name=neutral_name(first + i, p.photo_type),
            content_type=p.photo_type.content_type,
            size=len(p.data),
        ).model_dump()
        for i, p in enumerate(photos)
    ]
    stored = await anyio.to_thread.run_sync(
        photo_store.save_all, upload_dir, [(p.data, p.photo_type) for p in photos]
    )
    for row, saved in zip(rows, stored, strict=True):
        row["photo"] = saved.name
    try:
        await ticket_service.apply_action(
            ticket=ticket,
            action=Action.SUPPLEMENT,
            body=SupplementBody(text=text, photos=rows),
            actor=SUPPLEMENTER,
            now=now,
            deployment=deployment,
        )
    except BaseException:
        await discard_unused(upload_dir, stored)
        raise


def _refused(message: str, code: str) -> HotlineError:
    return HotlineError(message, status=409, code=code)
