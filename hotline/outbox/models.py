"""The outbox table: one row a message, whatever carries it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

# Its own module, so the web layer filters by status without importing the ORM model.
from hotline.outbox.status import OutboxStatus


class OutboxMessage(Model):
    """One message waiting for (or done with) delivery through its transport."""

    id = fields.BigIntField(primary_key=True)
    # The adapter that delivers it: "mail", "sms" (hotline.outbox.transport).
    transport = fields.CharField(max_length=16)
    # Unique per message, so one change never queues the same message twice; for mail it is
    # the Message-ID (every retry carries the same one and receivers can dedupe), for texts
    # the ticket number, template and ticket version (hotline.sms.messages).
    dedupe_key = fields.CharField(max_length=255, unique=True)
    # Addresses for mail, the one phone number for a text.
    recipients: Any = fields.JSONField()
    subject = fields.CharField(max_length=500, null=True)
    body = fields.TextField()
    body_html = fields.TextField(null=True)
    # A text's template name in data/sms.toml and its named values (Alibaba Cloud sends those).
    template = fields.CharField(max_length=32, null=True)
    params: Any = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default=OutboxStatus.PENDING.value)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    # What the far end called the message (an SMS gateway's id).
    external_ref = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    ticket_number = fields.CharField(max_length=64, null=True, db_index=True)
    reason = fields.CharField(max_length=32)
    # A sender leases a row before handing it on; the lease lets a crashed sender's rows be
    # picked up again, and the token tells a sender whether it still owns the row.
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=36, null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("transport", "status", "next_attempt_at"),)

    def __str__(self) -> str:
        return f"OutboxMessage({self.id}, {self.transport}, {self.reason}, {self.status})"

    # Readable names for the adapters and the admin views.
    @property
    def to_addrs(self) -> list[str]:
        """A mail's recipients."""
        return list(self.recipients or [])

    @property
    def message_id(self) -> str:
        """A mail's Message-ID."""
        return self.dedupe_key

    @property
    def body_text(self) -> str:
        """A mail's plain-text body."""
        return self.body

    @property
    def phone(self) -> str:
        """A text's phone number."""
        return (self.recipients or [""])[0]

    @property
    def gateway_ref(self) -> str | None:
        """What the SMS gateway called a text."""
        return self.external_ref


def as_utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC; naive ones are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime (UTC preferred)")
    return moment.astimezone(UTC)


def new_message(
    *,
    transport: str,
    dedupe_key: str,
    recipients: list[str],
    body: str,
    reason: str,
    now: datetime,
    ticket_number: str | None = None,
    subject: str | None = None,
    body_html: str | None = None,
    template: str | None = None,
    params: dict[str, Any] | None = None,
) -> OutboxMessage:
    """A pending row, not yet saved (callers may insert several at once)."""
    return OutboxMessage(
        **message_values(
            transport=transport,
            dedupe_key=dedupe_key,
            recipients=recipients,
            body=body,
            reason=reason,
            now=now,
            ticket_number=ticket_number,
            subject=subject,
            body_html=body_html,
            template=template,
            params=params,
        )
    )


def message_values(
    *,
    transport: str,
    dedupe_key: str,
    recipients: list[str],
    body: str,
    reason: str,
    now: datetime,
    ticket_number: str | None = None,
    subject: str | None = None,
    body_html: str | None = None,
    template: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of a pending row (`new_message`'s, without building the model: a
    mass escalation writes thousands of rows at once with one INSERT)."""
    created = as_utc(now)
    return {
        "transport": transport,
        "dedupe_key": dedupe_key,
        "recipients": list(recipients),
        "subject": subject,
        "body": body,
        "body_html": body_html,
        "template": template,
        "params": dict(params or {}),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": created,
        "created_at": created,
        "ticket_number": ticket_number,
        "reason": reason,
    }
