"""The citizen web form's ticket: photos stored, the ticket created once per form, and the
reply date promised on the confirmation page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from hotline.citizens.photos import PhotoType, neutral_name
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.models import Ticket
from hotline.domain.schemas import Attachment, TicketCreate
from hotline.runtime.deployment import Deployment
from hotline.services import photo_store
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import Retry, earlier_result, retry_key
from hotline.services.photo_refs import photo_in_use
from sla.clock import ClockKind

# Who writes web tickets into the event log: "system" like the WeChat channel, named for it.
WEB = ticket_service.Actor(None, "网上投诉", Role.SYSTEM.value, None)
SCOPE = "web"
DISCARD_TIMEOUT = 10.0  # seconds the clean-up after a failed submission may take
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Photo:
    """An uploaded photo as stored: re-encoded without metadata (`hotline.citizens.photo_clean`)."""

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
            # Never the citizen's file name: it may name them (see `neutral_name`).
            name=neutral_name(i, p.photo_type),
            content_type=p.photo_type.content_type,
            size=len(p.data),
        )
        for i, p in enumerate(photos, start=1)
    ]
    # Hashing and fsync block: in a worker thread, not on the event loop.
    stored = await anyio.to_thread.run_sync(
        photo_store.save_all, upload_dir, [(p.data, p.photo_type) for p in photos]
    )
    try:
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
        await discard_unused(upload_dir, stored)
        raise
    # A replay (a twin post of this form won the race) keeps the files: the first ticket
    # names the same bytes, so the same stored names.
    return record


async def discard_unused(upload_dir: Path, stored: list[photo_store.Stored]) -> None:
    """Remove what a failed submission wrote, except files a committed ticket now names.

    Between our save and our failure a concurrent submission may have sent the same photo
    and committed its ticket; its file must stay. Shielded: this also runs on cancellation.
    If the check itself fails the files are kept (an orphan file is harmless; a ticket whose
    photo is gone is not).
    """
    created = [s for s in stored if s.created]
    if not created:
        return
    with anyio.CancelScope(shield=True), anyio.move_on_after(DISCARD_TIMEOUT):
        try:
            keep = await photo_in_use(s.name for s in created)
        except Exception:  # noqa: BLE001 - the creation's own error is the one raised
            log.warning("web intake: photo in-use check failed; keeping %d file(s)", len(created))
            return
        await anyio.to_thread.run_sync(photo_store.discard, upload_dir, created, frozenset(keep))


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
