"""The one place that builds mail rows for the outbox (transport "mail")."""

from __future__ import annotations

import functools
from datetime import datetime
from email.utils import make_msgid, parseaddr
from typing import Any

from hotline.mail.templates import RenderedMail, render_stored
from hotline.outbox.models import OutboxMessage, message_values
from hotline.runtime.mail_settings import DEFAULT_FROM

# Set once at start-up from the settings (hotline.startup.bootstrap.load_deployment); until then,
# e.g. in tests that queue mail directly, the domain of the default sender address.
_msgid_domain: str = parseaddr(DEFAULT_FROM)[1].rpartition("@")[2]


def use_msgid_domain(domain: str) -> None:
    """Make `domain` the right-hand side of every Message-ID queued from now on."""
    global _msgid_domain
    _msgid_domain = domain


def _default_msgid_domain() -> str:
    return _msgid_domain


# The same few recipient lists (a unit's staff, the supervisors) recur in every escalation
# of a sweep: each is parsed once.
@functools.lru_cache(maxsize=1024)
def _checked_recipients(to: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(addr.strip() for addr in to if addr and addr.strip())
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
    template: str | None = None,
    params: dict[str, Any] | None = None,
) -> OutboxMessage:
    """A pending mail row, not yet saved (callers may insert several at once).

    With `template` (a name in hotline.mail.templates.STORED_TEMPLATES) and its `params`, the
    body is left empty and rendered by the sender (see mail_content).
    """
    return OutboxMessage(
        **mail_values(
            to=to,
            subject=subject,
            text=text,
            html=html,
            ticket_number=ticket_number,
            reason=reason,
            now=now,
            msgid_domain=msgid_domain,
            template=template,
            params=params,
        )
    )


def mail_values(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    ticket_number: str | None,
    reason: str,
    now: datetime,
    msgid_domain: str | None = None,
    template: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`new_mail`'s column values, for callers that insert many rows with one statement."""
    if isinstance(to, str):
        raise TypeError("to must be a list of addresses, not a single string")
    recipients = list(_checked_recipients(tuple(to)))
    # Header injection is impossible through EmailMessage, but a stray newline would make
    # composing raise at send time; flatten it here where the caller can still see it.
    one_line_subject = " ".join(subject.split())
    return message_values(
        transport="mail",
        dedupe_key=make_msgid(domain=msgid_domain or _default_msgid_domain()),
        recipients=recipients,
        subject=one_line_subject,
        body=text,
        body_html=html,
        ticket_number=ticket_number,
        reason=reason,
        now=now,
        template=template,
        params=params,
    )


def mail_content(row: OutboxMessage) -> RenderedMail:
    """Subject and bodies of a mail row: as stored, or rendered from its template now."""
    if row.template:
        rendered = render_stored(row.template, row.params)
        return RenderedMail(row.subject or rendered.subject, rendered.text, rendered.html)
    return RenderedMail(row.subject or "", row.body, row.body_html)


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
) -> OutboxMessage:
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
