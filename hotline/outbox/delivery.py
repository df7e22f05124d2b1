"""Deliver due outbox rows through their transport, with leases, retries and backoff.

Only an answer about the message itself fails it. A far end that is down, unreachable,
slow or answers "try later" is retried with a backoff capped at 30 minutes for as long as
it takes; `attempts` counts tries for the admins and is no budget. While the far end is
down every waiting row of that transport is deferred with the one that was tried, so an
outage costs one attempt per backoff step, not one per message. A conditional UPDATE
leases each row, so several senders (workers, machines) may run at once and a row is
handed on once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import Q

from hotline.outbox.models import OutboxMessage, OutboxStatus, as_utc
from hotline.outbox.transport import Outcome, Transport

FIRST_RETRY = timedelta(minutes=1)
# An outage may last days: the cap keeps a recovered server from waiting long for its mail.
MAX_RETRY = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 1, 2, 4 … minutes, capped at 30."""
    if attempts < 1:
        return timedelta(0)
    # Cap the exponent before computing so a huge count cannot overflow timedelta.
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 30), MAX_RETRY)


@dataclass
class DeliveryReport:
    """What one deliver_due round did, by outbox row id."""

    enabled: bool = True
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Rows another sender claimed between our SELECT and our UPDATE.
    skipped: int = 0
    # Why the round stopped early (server down, TLS, auth); None when it ran to the end.
    aborted: str | None = None
    # Waiting rows pushed back, untried, because the far end was down.
    deferred: int = 0

    @property
    def attempted(self) -> int:
        """Rows this round handed to the transport."""
        return len(self.sent) + len(self.retrying) + len(self.failed)

    def more_waiting(self, batch: int) -> bool:
        """A full batch went through: more may be waiting, so go again without sleeping."""
        return self.aborted is None and self.attempted + self.skipped >= batch


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _due(transport: str, now: datetime):  # noqa: ANN202 - a tortoise QuerySet
    return OutboxMessage.filter(
        _unclaimed(now),
        transport=transport,
        status=OutboxStatus.PENDING.value,
        next_attempt_at__lte=now,
    )


async def _claim(
    row_id: int, token: str, now: datetime, lease: timedelta, transport: str
) -> OutboxMessage | None:
    # The conditional UPDATE is the lock: of two senders racing for a row, exactly one
    # sees a count of 1. Works the same on SQLite and PostgreSQL (READ COMMITTED re-checks).
    count = (
        await _due(transport, now)
        .filter(id=row_id)
        .update(claimed_until=now + lease, claim_token=token)
    )
    if count != 1:
        return None
    return await OutboxMessage.get_or_none(id=row_id, claim_token=token)


async def _finish(row: OutboxMessage, token: str, log: logging.Logger, **values: object) -> None:
    count = await OutboxMessage.filter(id=row.id, claim_token=token).update(
        claimed_until=None, claim_token=None, **values
    )
    if count != 1:
        log.warning("outbox %s %s: lease lost before recording the result", row.transport, row.id)


async def _record_failure(
    row: OutboxMessage,
    token: str,
    now: datetime,
    outcome: Outcome,
    report: DeliveryReport,
    log: logging.Logger,
) -> timedelta | None:
    """Fail the row (permanent) or schedule its retry; returns the retry delay, if any."""
    attempts = row.attempts + 1
    if outcome.permanent:
        await _finish(
            row,
            token,
            log,
            status=OutboxStatus.FAILED.value,
            attempts=attempts,
            last_error=outcome.message,
        )
        report.failed.append(row.id)
        log.error(
            "outbox %s %s failed after %d attempt(s): %s",
            row.transport,
            row.id,
            attempts,
            outcome.message,
        )
        return None
    delay = retry_delay(attempts)
    await _finish(
        row, token, log, attempts=attempts, last_error=outcome.message, next_attempt_at=now + delay
    )
    report.retrying.append(row.id)
    log.warning(
        "outbox %s %s attempt %d failed, will retry in %s: %s",
        row.transport,
        row.id,
        attempts,
        delay,
        outcome.message,
    )
    return delay


async def _defer_waiting(transport: str, now: datetime, until: datetime) -> int:
    """The far end is down: move every unclaimed row due before `until` to it (no try spent).

    Rows queued during the outage thus join the others' schedule instead of each keeping
    its own, so the far end sees one attempt per step however much is waiting.
    """
    return await OutboxMessage.filter(
        _unclaimed(now),
        transport=transport,
        status=OutboxStatus.PENDING.value,
        next_attempt_at__lt=until,
    ).update(next_attempt_at=until)


async def deliver_due(transport: Transport, *, now: datetime, batch: int = 50) -> DeliveryReport:
    """Hand on pending rows of `transport` whose next_attempt_at <= now, at most `batch`."""
    report = DeliveryReport(enabled=transport.enabled)
    if not transport.enabled:
        return report  # e.g. no SMTP_HOST: mail waits in the outbox where admins can see it.
    log = logging.getLogger(f"hotline.{transport.name}")
    now = as_utc(now)
    candidates = await (
        _due(transport.name, now)
        .order_by("next_attempt_at", "id")
        .limit(batch)
        .values_list("id", flat=True)
    )
    try:
        for row_id in candidates:
            token = uuid.uuid4().hex
            row = await _claim(int(row_id), token, now, transport.lease, transport.name)
            if row is None:
                report.skipped += 1
                continue
            try:
                result = await transport.send(row)
            except Exception as exc:  # noqa: BLE001 - every error is classified and recorded
                outcome = transport.classify(exc)
                delay = await _record_failure(row, token, now, outcome, report, log)
                if outcome.server_level:
                    report.aborted = outcome.message
                    if delay is not None:
                        report.deferred = await _defer_waiting(transport.name, now, now + delay)
                    break
                await transport.after_error(exc)
                continue
            attempts = row.attempts + 1
            if result.retry_recipients:
                # Some recipients took it, so re-sending to them would be a duplicate; the
                # others get this same message again, on its own.
                await _finish(
                    row,
                    token,
                    log,
                    recipients=list(result.retry_recipients),
                    attempts=attempts,
                    next_attempt_at=now + retry_delay(attempts),
                    last_error=result.note,
                )
                report.retrying.append(row.id)
                continue
            await _finish(
                row,
                token,
                log,
                status=OutboxStatus.SENT.value,
                sent_at=now,
                attempts=attempts,
                external_ref=(result.ref or "")[:128] or None,
                last_error=result.note,
            )
            report.sent.append(row.id)
    finally:
        await transport.end_round()
    return report


async def requeue(transport: str, *, now: datetime, row_id: int | None = None) -> int:
    """Put failed rows (one, or all) back in the queue with a fresh count; returns how many."""
    failed = OutboxMessage.filter(transport=transport, status=OutboxStatus.FAILED.value)
    if row_id is not None:
        failed = failed.filter(id=row_id)
    return int(
        await failed.update(
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=as_utc(now),
            claimed_until=None,
            claim_token=None,
        )
    )
