"""Build the MIME message for an outbox row (pure: no I/O, no clock)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime


def compose_message(
    *,
    mail_from: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """Return a UTF-8 message, multipart/alternative when html is given."""
    # policy.SMTP: RFC 2047-encodes non-ASCII headers (中文 subjects, display names)
    # and uses CRLF line endings, as the wire wants.
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = mail_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    # From the row, never regenerated: a retry after a lost reply is recognisably the same mail.
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: keeps auto-responders from replying
    # base64 keeps the message 7-bit clean for relays without 8BITMIME, and is
    # smaller than quoted-printable for Chinese text.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
        # Derived from the Message-ID, not random, so every retry sends identical bytes.
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
        msg.set_boundary(f"=_hotline_{digest}")
    return msg
