"""Deliver due SMS outbox rows through the configured gateway: leases, retries, backoff.

The same rules as the mail sender (hotline.mail.sender): a conditional UPDATE leases a
row, so several senders may run at once and a row is handed to the gateway once; only an
answer about the message itself fails it; everything else is retried, 1, 2, 4 … minutes
apart, capped at 30, for as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import Q

from hotline.mail.models import as_utc
from hotline.mail.sender import MIN_LEASE, retry_delay, utc_now
from hotline.outbox_requeue import requeue
from hotline.sms.gateways.base import SmsGateway, SmsMessage, SmsSendError
from hotline.sms.models import OutboxSms, SmsStatus

logger = logging.getLogger("hotline.sms")


@dataclass
class SmsReport:
    """What one deliver_sms_due round did, by outbox row id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: int = 0  # rows another sender claimed between our SELECT and our UPDATE
    aborted: str | None = None  # why the round stopped early (gateway down, throttled)
    deferred: int = 0  # waiting rows pushed back untried while the gateway is down

    @property
    def attempted(self) -> int:
        """Rows this round handed to the gateway."""
        return len(self.sent) + len(self.retrying) + len(self.failed)


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


async def _claim(row_id: int, token: str, now: datetime) -> OutboxSms | None:
    # The conditional UPDATE is the lock: of two senders racing for a row, one sees 1.
    count = await OutboxSms.filter(
        _unclaimed(now), id=row_id, status=SmsStatus.PENDING, next_attempt_at__lte=now
    ).update(claimed_until=now + MIN_LEASE, claim_token=token)
    if count != 1:
        return None
    return await OutboxSms.get_or_none(id=row_id, claim_token=token)


async def _finish(row: OutboxSms, token: str, **values: object) -> None:
    count = await OutboxSms.filter(id=row.id, claim_token=token).update(
        claimed_until=None, claim_token=None, **values
    )
    if count != 1:
        logger.warning("outbox sms %s: lease lost before recording the result", row.id)


async def _record_failure(
    row: OutboxSms, token: str, now: datetime, error: SmsSendError, report: SmsReport
) -> timedelta | None:
    """Fail the row (permanent) or schedule its retry; returns the retry delay, if any."""
    attempts = row.attempts + 1
    if error.permanent:
        await _finish(row, token, status=SmsStatus.FAILED, attempts=attempts, last_error=str(error))
        report.failed.append(row.id)
        logger.error("outbox sms %s failed after %d attempt(s): %s", row.id, attempts, error)
        return None
    delay = retry_delay(attempts)
    await _finish(row, token, attempts=attempts, last_error=str(error), next_attempt_at=now + delay)
    report.retrying.append(row.id)
    logger.warning(
        "outbox sms %s attempt %d failed, retry in %s: %s", row.id, attempts, delay, error
    )
    return delay


async def _defer_waiting(now: datetime, until: datetime) -> int:
    """The gateway is down: move every unclaimed row due before `until` to it (no try spent)."""
    return await OutboxSms.filter(
        _unclaimed(now), status=SmsStatus.PENDING, next_attempt_at__lt=until
    ).update(next_attempt_at=until)


def message_of(row: OutboxSms) -> SmsMessage:
    """What the gateway is given for a row."""
    return SmsMessage(
        phone=row.phone,
        body=row.body,
        template=row.template,
        params={str(k): str(v) for k, v in (row.params or {}).items()},
        ticket_number=row.ticket_number or "",
    )


async def deliver_sms_due(*, gateway: SmsGateway, now: datetime, batch: int = 50) -> SmsReport:
    """Send pending rows whose next_attempt_at <= now, at most `batch`, each once."""
    now = as_utc(now)
    report = SmsReport()
    candidates = await (
        OutboxSms.filter(_unclaimed(now), status=SmsStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(batch)
        .values_list("id", flat=True)
    )
    for row_id in candidates:
        token = uuid.uuid4().hex
        row = await _claim(int(row_id), token, now)
        if row is None:
            report.skipped += 1
            continue
        try:
            ref = await gateway.send(message_of(row))
        except Exception as exc:  # noqa: BLE001 - every error is classified and recorded
            error = (
                exc
                if isinstance(exc, SmsSendError)
                else SmsSendError(f"{type(exc).__name__}: {exc}")
            )
            delay = await _record_failure(row, token, now, error, report)
            if error.gateway_level:
                report.aborted = str(error)
                if delay is not None:
                    report.deferred = await _defer_waiting(now, now + delay)
                break
            continue
        await _finish(
            row,
            token,
            status=SmsStatus.SENT,
            sent_at=now,
            attempts=row.attempts + 1,
            gateway_ref=ref[:128] or None,
            last_error=None,
        )
        report.sent.append(row.id)
    return report


async def requeue_sms(row_id: int, *, now: datetime) -> bool:
    """Put a failed message back in the queue (an admin action); True if it was failed."""
    return await requeue(OutboxSms, now=now, row_id=row_id) == 1


async def requeue_failed_sms(*, now: datetime) -> int:
    """Put every failed message back in the queue (an admin action); returns how many."""
    return await requeue(OutboxSms, now=now)


async def run_sms_sender(
    *,
    gateway: SmsGateway,
    interval: float,
    stop_event: asyncio.Event,
    clock: Callable[[], datetime] = utc_now,
    batch: int = 50,
) -> None:
    """Deliver due messages every `interval` seconds until stop_event is set."""
    try:
        while not stop_event.is_set():
            busy = False
            try:
                report = await deliver_sms_due(gateway=gateway, now=clock(), batch=batch)
                # A full batch means more may be waiting: go again without sleeping.
                busy = report.aborted is None and report.attempted + report.skipped >= batch
            except Exception:  # noqa: BLE001 - a DB hiccup must not kill the worker
                logger.exception("sms sender round failed")
            if busy:
                await asyncio.sleep(0)
                continue
            try:
                await asyncio.wait_for(stop_event.wait(), timeout=interval)
            except TimeoutError:
                pass
    finally:
        await gateway.close()
