"""The SMS outbox table: one row a text message, written in the ticket's transaction."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from hotline.mail.models import MailStatus as SmsStatus

__all__ = ["OutboxSms", "SmsStatus"]


class OutboxSms(Model):
    """One text message waiting for (or done with) delivery through the SMS gateway."""

    id = fields.BigIntField(primary_key=True)
    # ticket number, template and the ticket version the write made (hotline.sms.messages):
    # one ticket write never queues two messages.
    dedupe_key = fields.CharField(max_length=128, unique=True)
    phone = fields.CharField(max_length=32)
    # The template's name in data/sms.toml and the values of its named fields; the gateway
    # adapters that send templates (Alibaba Cloud) need both, the others send `body`.
    template = fields.CharField(max_length=32)
    params: Any = fields.JSONField(default=dict)
    body = fields.TextField()
    status = fields.CharEnumField(SmsStatus, max_length=16, default=SmsStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(null=True)
    # What the gateway called the message (Alibaba's BizId, the HTTP gateway's id).
    gateway_ref = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    ticket_number = fields.CharField(max_length=64, null=True, db_index=True)
    reason = fields.CharField(max_length=32)
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=36, null=True)

    class Meta:
        table = "outbox_sms"
        indexes = (("status", "next_attempt_at"),)

    def __str__(self) -> str:
        return f"OutboxSms({self.id}, {self.reason}, {self.status})"
