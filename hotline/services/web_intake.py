"""The citizen web form's ticket: photos stored, the ticket created once per form, and the
reply date promised on the confirmation page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline.deployment import Deployment
from hotline.errors import HotlineError
from hotline.lifecycle import Role
from hotline.models import Ticket
from hotline.photos import PhotoType, clean_name
from hotline.schemas import Attachment, TicketCreate
from hotline.services import photo_store
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import Retry, earlier_result, retry_key
from sla.clock import ClockKind

# Who writes web tickets into the event log: "system" like the WeChat channel, named for it.
WEB = ticket_service.Actor(None, "网上投诉", Role.SYSTEM.value, None)
SCOPE = "web"


@dataclass(frozen=True)
class Photo:
    """An uploaded photo whose type was read from its bytes."""

    filename: str
    photo_type: PhotoType
    data: bytes


def form_retry(key: str, values: Mapping[str, Any]) -> Retry:
    """The idempotency record of one served form, fingerprinted by what the citizen wrote.

    A reload or a double click sends the same words and gets the first ticket; the same form
    sent again with another matter (a duplicated tab) is no repeat and must not be dropped.
    """
    retry = retry_key(SCOPE, key, dict(values))
    assert retry is not None
    return retry


class FormReused(Exception):
    """This form already made a ticket, and now comes back saying something else."""


async def earlier_ticket(key: str, values: Mapping[str, Any]) -> ticket_service.TicketRecord | None:
    """The ticket an earlier post of this form created, if any (FormReused: other words)."""
    try:
        number = await earlier_result(form_retry(key, values), "create")
    except HotlineError as exc:
        if exc.code != "idempotency_key_reused":
            raise
        raise FormReused() from exc
    if number is None:
        return None
    ticket = await Ticket.get(number=number).prefetch_related(*ticket_service.TICKET_RELATIONS)
    record = ticket_service.record_of(ticket)
    record.replayed = True
    return record


async def submit(
    *,
    data: TicketCreate,
    photos: list[Photo],
    key: str,
    values: Mapping[str, Any],
    upload_dir: Path,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
) -> ticket_service.TicketRecord:
    """Store the photos and create the ticket; on any failure no file of ours is left behind.

    The photos are on disk before the ticket row that names them commits, so a ticket never
    points at a missing file; if the creation fails, the files this call wrote are removed.
    (A file that was already there, the same photo sent before, is left alone.)
    """
    attachments = [
        Attachment(
            name=clean_name(p.filename, p.photo_type),
            content_type=p.photo_type.content_type,
            size=len(p.data),
        )
        for p in photos
    ]
    stored: list[photo_store.Stored] = []
    try:
        for photo in photos:
            stored.append(photo_store.save(upload_dir, photo.data, photo.photo_type))
        record = await ticket_service.create_ticket(
            data=data.model_copy(update={"attachments": attachments}),
            actor=WEB,
            now=now,
            deployment=deployment,
            auto_dispatch=auto_dispatch,
            retry=form_retry(key, values),
            photos=[s.name for s in stored],
        )
    except BaseException:
        photo_store.discard(upload_dir, stored)
        raise
    # A replay (a twin post of this form won the race) keeps the files: the first ticket
    # names the same bytes, so the same stored names.
    return record


@dataclass(frozen=True)
class Promise:
    """The reply date shown to the citizen: when, whether it is provisional or an estimate."""

    due_at: datetime
    provisional: bool
    estimated: bool  # not dispatched yet: counted from now, the clock starts at dispatch


def promised_reply(
    record: ticket_service.TicketRecord, deployment: Deployment, now: datetime
) -> Promise | None:
    """The running feedback clock's due time, else what the SLA policy would give from now."""
    feedback = next(
        (c for c in record.clocks if c.current and c.kind == ClockKind.FEEDBACK.value), None
    )
    if feedback is not None and feedback.due_at is not None:
        return Promise(feedback.due_at, bool(feedback.provisional), estimated=False)
    sla = deployment.sla
    if sla is None:
        return None
    from sla.limits import compute_due

    limit = sla.policy_for(record.ticket).limit_for(ClockKind.FEEDBACK)
    if limit is None:
        return None
    due = compute_due(now, limit, sla.calendar, sla.policies.office_hours)
    return Promise(due.at, due.provisional, estimated=True)
