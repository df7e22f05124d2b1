"""Mail over SMTP: the outbox's "mail" transport (one SMTP session per delivery round).

Only a permanent (5xx) answer about a mail fails it. A server that is down, unreachable,
slow, drops the connection or answers 4xx is retried by the outbox (hotline.outbox.delivery)
with its capped backoff; while the server is down the waiting mail is deferred with the one
that was tried. A 4xx for some recipients only sends the same message (same Message-ID) to
those again; the ones that took it do not get it twice.
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from typing import TYPE_CHECKING

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

from hotline.mail.compose import compose_message
from hotline.mail.outbox import mail_content
from hotline.outbox.models import OutboxMessage
from hotline.outbox.transport import MIN_LEASE, Outcome, Sent, TransportView
from hotline.runtime.mail_settings import SmtpSettings

if TYPE_CHECKING:
    from hotline.runtime.config import Settings
    from hotline.runtime.deployment import Deployment


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


async def _close(client: aiosmtplib.SMTP | None) -> None:
    if client is None or not client.is_connected:
        return
    try:
        await client.quit()
    except Exception:  # noqa: BLE001 - a failed QUIT changes nothing about delivery
        client.close()


class SmtpTransport:
    """Delivers mail rows through the configured SMTP server."""

    name = "mail"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        # No SMTP_HOST: mail waits in the outbox where admins can see it.
        self.enabled = settings.enabled
        self.lease = max(MIN_LEASE, timedelta(seconds=settings.timeout * 4))
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, row: OutboxMessage) -> Sent:
        """Send one mail over the round's SMTP session (opened on first use)."""
        if self._client is None or not self._client.is_connected:
            self._client = _client(self.settings)
            await self._client.connect()
        # Mail queued on the intake path is rendered here, outside the request.
        content = mail_content(row)
        message = compose_message(
            mail_from=self.settings.mail_from,
            to=row.to_addrs,
            subject=content.subject,
            text=content.text,
            html=content.html,
            message_id=row.message_id,
            date=row.created_at,
        )
        refused, _ = await self._client.send_message(
            message, sender=self.settings.envelope_from, recipients=row.to_addrs
        )
        if not refused:
            return Sent()
        # Recipients refused with 5xx never will take it (kept in last_error for the admins);
        # those refused with 4xx get this same message again, on its own.
        note = "; ".join(f"{addr}: {resp.code} {resp.message}" for addr, resp in refused.items())
        later = [addr for addr, resp in refused.items() if 400 <= resp.code < 500]
        if later:
            delivered = [a for a in row.to_addrs if a not in refused]
            return Sent(
                note=f"delivered to {', '.join(delivered)}; refused: {note}",
                retry_recipients=later,
            )
        return Sent(note=f"some recipients refused: {note}")

    def classify(self, exc: BaseException) -> Outcome:
        """See :func:`classify`."""
        return classify(exc)

    async def after_error(self, exc: BaseException) -> None:
        """An unexpected error may leave the session mid-command: start afresh."""
        if not isinstance(exc, SMTPResponseException | SMTPRecipientsRefused):
            await _close(self._client)
            self._client = None

    async def end_round(self) -> None:
        """Say QUIT at the end of each round; the next round connects again."""
        await _close(self._client)
        self._client = None

    async def close(self) -> None:
        """Nothing beyond the round's session is held."""
        await self.end_round()


def mail_json(row: OutboxMessage) -> dict[str, object]:
    """What the admin API lists of a mail besides what every row has."""
    return {"to": row.to_addrs, "subject": row.subject, "message_id": row.message_id}


VIEW = TransportView(
    name="mail",
    label="邮件",
    counter="封",
    row_json=mail_json,
    who_header="收件人",
    who=lambda row: "、".join(row.to_addrs),
    what_header="主题",
    what=lambda row: row.subject or "",
    hint=(
        "邮件服务器故障时邮件会一直按退避间隔重试，不会丢失；只有服务器明确拒收（5xx）的邮件"
        "才标为失败。改正原因（如收件地址）后可重新排队。"
    ),
    notice=lambda settings: (
        ""
        if settings.smtp.enabled
        else "未配置邮件服务器（SMTP_HOST），邮件只在发件箱中等待；设置 SMTP_HOST 后自动发送。"
    ),
)


def build(settings: Settings, deployment: Deployment | None = None) -> SmtpTransport:
    """The transport SMTP_* configure."""
    return SmtpTransport(settings.smtp)
