"""Texts through the configured SMS gateway: the outbox's "sms" transport."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.outbox.models import OutboxMessage
from hotline.outbox.transport import MIN_LEASE, Outcome, Sent, TransportView
from hotline.privacy.rules import mask_phone
from hotline.sms.gateways import gateway_for
from hotline.sms.gateways.base import SmsGateway, SmsMessage, SmsSendError

if TYPE_CHECKING:
    from hotline.runtime.config import Settings
    from hotline.runtime.deployment import Deployment


def message_of(row: OutboxMessage) -> SmsMessage:
    """What the gateway is given for a row."""
    return SmsMessage(
        phone=row.phone,
        body=row.body,
        template=row.template or "",
        params={str(k): str(v) for k, v in (row.params or {}).items()},
        ticket_number=row.ticket_number or "",
    )


class SmsTransport:
    """Hands text rows to a gateway adapter (log, Alibaba Cloud, HTTP: SMS_GATEWAY)."""

    name = "sms"
    enabled = True  # the log gateway "sends" too: texts never wait for a missing setting
    lease = MIN_LEASE

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    async def send(self, row: OutboxMessage) -> Sent:
        """Send one text; the gateway's reference is kept for the admins."""
        return Sent(ref=await self.gateway.send(message_of(row)))

    def classify(self, exc: BaseException) -> Outcome:
        """The gateway adapters say themselves whether an error is permanent or theirs."""
        if isinstance(exc, SmsSendError):
            return Outcome(exc.permanent, exc.gateway_level, str(exc))
        return Outcome(False, False, f"{type(exc).__name__}: {exc}")

    async def after_error(self, exc: BaseException) -> None:
        """Each send is one request: nothing is left half-done."""

    async def end_round(self) -> None:
        """The gateway's connections are kept between rounds."""

    async def close(self) -> None:
        """Close the gateway's connections."""
        await self.gateway.close()


def sms_json(row: OutboxMessage) -> dict[str, object]:
    """What the admin API lists of a text besides what every row has."""
    # Admins check delivery, not whom: the number is masked as everywhere outside the ticket.
    return {
        "phone": mask_phone(row.phone),
        "template": row.template,
        "body": row.body,
        "gateway_ref": row.gateway_ref,
    }


VIEW = TransportView(
    name="sms",
    label="短信",
    counter="条",
    row_json=sms_json,
    who_header="手机号",
    who=lambda row: mask_phone(row.phone),
    what_header="内容",
    what=lambda row: row.body,
    hint=(
        "发给来电人的受理、答复、办结短信。短信网关故障或限流时按退避间隔一直重试；只有网关明确"
        "拒绝的短信（如号码无效、模板或签名不可用）才标为失败。手机号已脱敏。"
    ),
    path="/sms",
    notice=lambda settings: (
        "短信网关为 log：短信只写入日志，并未真正发出；设置 SMS_GATEWAY（aliyun 或 http）后"
        "才会发到市民手机。"
        if settings.sms.gateway == "log"
        else ""
    ),
    sent_label=lambda settings: (
        "已写入日志（未真正发出）" if settings.sms.gateway == "log" else "已发送"
    ),
)


def build(settings: Settings, deployment: Deployment | None = None) -> SmsTransport:
    """The transport SMS_GATEWAY names, with the deployment's templates."""
    return SmsTransport(gateway_for(settings.sms, deployment.sms if deployment else None))
