"""The outbox table and the one function that writes to it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import make_msgid, parseaddr
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from hotline.mail.settings import DEFAULT_FROM


class MailStatus(StrEnum):
    """Lifecycle of an outbox row: pending until sent, or failed for good."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMail(Model):
    """One message waiting for (or done with) delivery."""

    id = fields.BigIntField(primary_key=True)
    # Generated once so every retry carries the same Message-ID and receivers can dedupe.
    message_id = fields.CharField(max_length=255, unique=True)
    to_addrs: Any = fields.JSONField()
    subject = fields.CharField(max_length=500)
    body_text = fields.TextField()
    body_html = fields.TextField(null=True)
    status = fields.CharEnumField(MailStatus, max_length=16, default=MailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    ticket_number = fields.CharField(max_length=64, null=True, db_index=True)
    reason = fields.CharField(max_length=32)
    # A sender leases a row before talking to SMTP; the lease lets a crashed sender's
    # rows be picked up again, and the token tells a sender whether it still owns the row.
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=36, null=True)

    class Meta:
        table = "outbox_mail"
        indexes = (("status", "next_attempt_at"),)

    def __str__(self) -> str:
        return f"OutboxMail({self.id}, {self.reason}, {self.status})"


def as_utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC; naive ones are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime (UTC preferred)")
    return moment.astimezone(UTC)


# Set once at start-up from the settings (hotline.bootstrap.load_deployment); until then,
# e.g. in tests that queue mail directly, the domain of the default sender address.
_msgid_domain: str = parseaddr(DEFAULT_FROM)[1].rpartition("@")[2]


def use_msgid_domain(domain: str) -> None:
    """Make `domain` the right-hand side of every Message-ID queued from now on."""
    global _msgid_domain
    _msgid_domain = domain


def _default_msgid_domain() -> str:
    return _msgid_domain


def _checked_recipients(to: list[str]) -> list[str]:
    if isinstance(to, str):
        raise TypeError("to must be a list of addresses, not a single string")
    cleaned = [addr.strip() for addr in to if addr and addr.strip()]
    if not cleaned:
        raise ValueError("a mail needs at least one recipient")
    for addr in cleaned:
        bare = parseaddr(addr)[1]
        if "@" not in bare or any(ch in addr for ch in "\r\n"):
            raise ValueError(f"not an e-mail address: {addr!r}")
    return cleaned


def new_mail(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    ticket_number: str | None,
    reason: str,
    now: datetime,
    msgid_domain: str | None = None,
) -> OutboxMail:
    """A pending mail row, not yet saved (callers may insert several at once)."""
    recipients = _checked_recipients(to)
    created = as_utc(now)
    # Header injection is impossible through EmailMessage, but a stray newline would make
    # composing raise at send time; flatten it here where the caller can still see it.
    one_line_subject = " ".join(subject.split())
    return OutboxMail(
        message_id=make_msgid(domain=msgid_domain or _default_msgid_domain()),
        to_addrs=recipients,
        subject=one_line_subject,
        body_text=text,
        body_html=html,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=created,
        created_at=created,
        ticket_number=ticket_number,
        reason=reason,
    )


async def enqueue_mail(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    ticket_number: str | None,
    reason: str,
    now: datetime,
    using_db: Any = None,
    msgid_domain: str | None = None,
) -> OutboxMail:
    """Write a pending mail row; pass the transaction as using_db so it commits with the event."""
    mail = new_mail(
        to=to,
        subject=subject,
        text=text,
        html=html,
        ticket_number=ticket_number,
        reason=reason,
        now=now,
        msgid_domain=msgid_domain,
    )
    await mail.save(using_db=using_db)
    return mail
