"""Deliver due outbox rows over SMTP, with leases, retries and backoff.

Only a permanent (5xx) answer about a mail fails it. A server that is down, unreachable,
slow, drops the connection or answers 4xx is retried with a backoff capped at 30 minutes
for as long as it takes; `attempts` counts tries for the admins and is no budget. While
the server is down every waiting mail is deferred with the one that was tried, so an
outage costs one connection attempt per backoff step, not one per mail.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)
from tortoise.expressions import Q

from hotline.mail.compose import compose_message
from hotline.mail.models import MailStatus, OutboxMail, as_utc
from hotline.mail.settings import SmtpSettings
from hotline.outbox_requeue import requeue

logger = logging.getLogger("hotline.mail")

FIRST_RETRY = timedelta(minutes=1)
# An outage may last days: the cap keeps a recovered server from waiting long for its mail.
MAX_RETRY = timedelta(minutes=30)
# Longer than any single send can take (connect + TLS + DATA, each bounded by the timeout),
# so a live sender never loses its row; a crashed sender's rows come back after it.
MIN_LEASE = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 1, 2, 4 … minutes, capped at 30."""
    if attempts < 1:
        return timedelta(0)
    # Cap the exponent before computing so a huge count cannot overflow timedelta.
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 30), MAX_RETRY)


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock for run_sender)."""
    return datetime.now(UTC)


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
    # Waiting rows pushed back, untried, because the server was down.
    deferred: int = 0

    @property
    def attempted(self) -> int:
        """Rows this round talked to the SMTP server about."""
        return len(self.sent) + len(self.retrying) + len(self.failed)


@dataclass(frozen=True)
class Outcome:
    """How to treat a send error."""

    permanent: bool  # give up on this mail now
    server_level: bool  # the server or our configuration is at fault: stop the round
    message: str


def _ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    # aiosmtplib wraps a failed implicit-TLS handshake in SMTPConnectError (raise … from),
    # while a failed STARTTLS handshake escapes as a bare ssl.SSLError: look down the chain.
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def classify(exc: BaseException) -> Outcome:
    """Decide whether a send error is permanent (5xx about this mail) or worth retrying."""
    if isinstance(exc, SMTPRecipientsRefused):
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        permanent = all(r.code >= 500 for r in exc.recipients)
        return Outcome(permanent, False, f"all recipients refused: {details}")
    if isinstance(exc, SMTPAuthenticationError | SMTPHeloError | SMTPConnectResponseError):
        # About us or the server, not this mail: failing every queued mail would lose them all.
        return Outcome(False, True, f"SMTP server refused the session: {exc.code} {exc.message}")
    if isinstance(exc, SMTPSenderRefused) and exc.code != 552:
        # MAIL FROM refused (530 STARTTLS/auth required, relay denied) is configuration;
        # only 552 (message too big) is about this particular mail.
        return Outcome(False, True, f"sender {exc.sender} refused: {exc.code} {exc.message}")
    if isinstance(exc, SMTPResponseException):
        # 421 means the server is closing the connection: a server-level, temporary state.
        return Outcome(exc.code >= 500, exc.code == 421, f"SMTP {exc.code} {exc.message}")
    tls_error = _ssl_error_in(exc)
    if tls_error is not None:
        cause = "" if tls_error is exc else f" (caused by {type(tls_error).__name__})"
        return Outcome(False, True, f"TLS/SSL error: {exc}{cause}")
    if isinstance(exc, SMTPNotSupported):
        return Outcome(False, True, f"SMTP server lacks a needed extension: {exc}")
    if isinstance(exc, OSError | TimeoutError | aiosmtplib.SMTPException):
        # Connection refused, server down, timeouts, dropped connections.
        return Outcome(False, True, f"{type(exc).__name__}: {exc}")
    # Anything else (a bug, an odd address): retry with the capped backoff; the mail shows
    # in the admins' outbox and health figures, which is where a bug gets noticed.
    return Outcome(False, False, f"{type(exc).__name__}: {exc}")


def _client(settings: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        username=settings.user,
        password=settings.password,
        use_tls=settings.tls == "tls",
        # False, not None, for "none": None would try STARTTLS whenever offered.
        start_tls=settings.tls == "starttls",
        timeout=settings.timeout,
        cert_bundle=settings.ca_file,
    )


async def _claim(mail_id: int, token: str, now: datetime, lease: timedelta) -> OutboxMail | None:
    # The conditional UPDATE is the lock: of two senders racing for a row, exactly one
    # sees a count of 1. Works the same on SQLite and PostgreSQL (READ COMMITTED re-checks).
    count = await OutboxMail.filter(
        Q(id=mail_id),
        Q(status=MailStatus.PENDING),
        Q(next_attempt_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
    ).update(claimed_until=now + lease, claim_token=token)
    if count != 1:
        return None
    return await OutboxMail.get_or_none(id=mail_id, claim_token=token)


async def _finish(row: OutboxMail, token: str, **values: object) -> None:
    count = await OutboxMail.filter(id=row.id, claim_token=token).update(
        claimed_until=None, claim_token=None, **values
    )
    if count != 1:
        logger.warning("outbox mail %s: lease lost before recording the result", row.id)


async def _record_failure(
    row: OutboxMail, token: str, now: datetime, outcome: Outcome, report: DeliveryReport
) -> timedelta | None:
    """Fail the row (permanent) or schedule its retry; returns the retry delay, if any."""
    attempts = row.attempts + 1
    if outcome.permanent:
        await _finish(
            row, token, status=MailStatus.FAILED, attempts=attempts, last_error=outcome.message
        )
        report.failed.append(row.id)
        logger.error(
            "outbox mail %s failed after %d attempt(s): %s", row.id, attempts, outcome.message
        )
        return None
    delay = retry_delay(attempts)
    await _finish(
        row, token, attempts=attempts, last_error=outcome.message, next_attempt_at=now + delay
    )
    report.retrying.append(row.id)
    logger.warning(
        "outbox mail %s attempt %d failed, will retry in %s: %s",
        row.id,
        attempts,
        delay,
        outcome.message,
    )
    return delay


async def _defer_waiting(now: datetime, until: datetime) -> int:
    """The server is down: move every unclaimed mail due before `until` to it (no try spent).

    Mail queued during the outage thus joins the others' schedule instead of each keeping
    its own, so the server sees one connection attempt per step however much is waiting.
    """
    return await (
        OutboxMail.filter(status=MailStatus.PENDING, next_attempt_at__lt=until)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(next_attempt_at=until)
    )


async def _close(client: aiosmtplib.SMTP | None) -> None:
    if client is None or not client.is_connected:
        return
    try:
        await client.quit()
    except Exception:  # noqa: BLE001 - a failed QUIT changes nothing about delivery
        client.close()


async def deliver_due(*, settings: SmtpSettings, now: datetime, batch: int = 50) -> DeliveryReport:
    """Send pending mail whose next_attempt_at <= now, at most `batch` rows, once each."""
    report = DeliveryReport(enabled=settings.enabled)
    if not settings.enabled:
        return report  # No SMTP_HOST: mail waits in the outbox where admins can see it.
    now = as_utc(now)
    lease = max(MIN_LEASE, timedelta(seconds=settings.timeout * 4))
    candidates = await (
        OutboxMail.filter(status=MailStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .limit(batch)
        .values_list("id", flat=True)
    )
    client: aiosmtplib.SMTP | None = None
    try:
        for mail_id in candidates:
            token = uuid.uuid4().hex
            row = await _claim(int(mail_id), token, now, lease)
            if row is None:
                report.skipped += 1
                continue
            try:
                if client is None or not client.is_connected:
                    client = _client(settings)
                    await client.connect()
                message = compose_message(
                    mail_from=settings.mail_from,
                    to=row.to_addrs,
                    subject=row.subject,
                    text=row.body_text,
                    html=row.body_html,
                    message_id=row.message_id,
                    date=row.created_at,
                )
                refused, _ = await client.send_message(
                    message, sender=settings.envelope_from, recipients=list(row.to_addrs)
                )
            except Exception as exc:  # noqa: BLE001 - every error is classified and recorded
                outcome = classify(exc)
                delay = await _record_failure(row, token, now, outcome, report)
                if outcome.server_level:
                    report.aborted = outcome.message
                    if delay is not None:
                        report.deferred = await _defer_waiting(now, now + delay)
                    break
                if not isinstance(exc, SMTPResponseException | SMTPRecipientsRefused):
                    # An unexpected error may leave the session mid-command: start afresh.
                    await _close(client)
                    client = None
                continue
            # Some recipients took it, so re-sending to them would be a duplicate. Recipients
            # refused with 5xx never will take it (kept in last_error for the admins); those
            # refused with 4xx get this same message (same Message-ID) again, on its own.
            later = [addr for addr, resp in refused.items() if 400 <= resp.code < 500]
            note = (
                "; ".join(f"{addr}: {resp.code} {resp.message}" for addr, resp in refused.items())
                if refused
                else None
            )
            if later:
                delivered = [a for a in row.to_addrs if a not in refused]
                attempts = row.attempts + 1
                await _finish(
                    row,
                    token,
                    to_addrs=later,
                    attempts=attempts,
                    next_attempt_at=now + retry_delay(attempts),
                    last_error=f"delivered to {', '.join(delivered)}; refused: {note}",
                )
                report.retrying.append(row.id)
                continue
            await _finish(
                row,
                token,
                status=MailStatus.SENT,
                sent_at=now,
                attempts=row.attempts + 1,
                last_error=f"some recipients refused: {note}" if note else None,
            )
            report.sent.append(row.id)
    finally:
        await _close(client)
    return report


async def requeue_mail(mail_id: int, *, now: datetime) -> bool:
    """Put a failed mail back in the queue (an admin action); True if it was failed."""
    return await requeue(OutboxMail, now=now, row_id=mail_id) == 1


async def requeue_failed(*, now: datetime) -> int:
    """Put every failed mail back in the queue (an admin action); returns how many."""
    return await requeue(OutboxMail, now=now)


async def run_sender(
    *,
    settings: SmtpSettings,
    interval: float,
    stop_event: asyncio.Event,
    clock: Callable[[], datetime] = utc_now,
    batch: int = 50,
) -> None:
    """Deliver due mail every `interval` seconds until stop_event is set."""
    if not settings.enabled:
        logger.warning("SMTP_HOST is not set: mail stays in the outbox unsent")
    while not stop_event.is_set():
        busy = False
        if settings.enabled:
            try:
                report = await deliver_due(settings=settings, now=clock(), batch=batch)
                # A full batch means more may be waiting: go again without sleeping.
                busy = report.aborted is None and report.attempted + report.skipped >= batch
            except Exception:  # noqa: BLE001 - a DB hiccup must not kill the worker
                logger.exception("mail sender round failed")
        if busy:
            await asyncio.sleep(0)
            continue
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
        except TimeoutError:
            pass
