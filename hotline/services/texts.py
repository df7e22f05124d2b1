"""Messages to the complainant (texts, WeChat), queued in the transaction of the ticket write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.domain.lifecycle import Sms
from hotline.domain.models import Ticket
from hotline.outbox.models import OutboxMessage, new_message
from hotline.privacy.rules import no_contact_applies
from hotline.runtime.deployment import Deployment
from hotline.sms.messages import dedupe_key, sms_params, sms_recipient, tracking_link
from hotline.sms.outbox import new_sms
from hotline.wechat.messages import close_message, reply_message


def sms_row(
    *,
    ticket: Ticket,
    sms: Sms,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
) -> OutboxMessage | None:
    """The unsaved text row, when the complainant can and may be texted (nothing read)."""
    if deployment.sms is None:
        return None
    phone = sms_recipient(
        phone=ticket.complainant_phone,
        sms_opt_out=ticket.sms_opt_out,
        no_contact=ticket.no_contact,
        confidential=ticket.confidential,
    )
    if phone is None:
        return None
    params = sms_params(
        sms,
        number=ticket.number,
        code=ticket.query_code,
        base_url=deployment.public_base_url,
        reply_text=str(payload.get("text", "")),
    )
    return new_sms(
        dedupe_key=dedupe_key(ticket.number, sms, ticket.version),
        phone=phone,
        template=sms.value,
        params=params,
        body=deployment.sms[sms].render(params),
        ticket_number=ticket.number,
        reason=sms.value,
        now=now,
    )


# The WeChat reporter hears of the reply and the closing where they asked; the number and
# code they already had in the official account's answer to their message.
WECHAT_PUSHED = frozenset({Sms.REPLY, Sms.CLOSE})


def wechat_row(
    *,
    ticket: Ticket,
    sms: Sms,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
) -> OutboxMessage | None:
    """The unsaved WeChat message for a follower who reported through the official account."""
    if not deployment.wechat_push or sms not in WECHAT_PUSHED:
        return None
    openid = ticket.complainant_openid
    if not openid or no_contact_applies(
        no_contact=ticket.no_contact, confidential=ticket.confidential
    ):
        return None
    link = tracking_link(deployment.public_base_url, ticket.number)
    if sms == Sms.REPLY:
        body = reply_message(number=ticket.number, reply=str(payload.get("text", "")), link=link)
    else:
        body = close_message(number=ticket.number, link=link)
    return new_message(
        transport="wechat",
        dedupe_key=f"wechat:{dedupe_key(ticket.number, sms, ticket.version)}",
        recipients=[openid],
        template=sms.value,
        body=body,
        ticket_number=ticket.number,
        reason=sms.value,
        now=now,
    )


def citizen_messages(
    *,
    ticket: Ticket,
    sms: Sms,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
) -> list[OutboxMessage]:
    """Every message an action sends the complainant: the text and, on WeChat, the push."""
    rows = (
        sms_row(ticket=ticket, sms=sms, payload=payload, now=now, deployment=deployment),
        wechat_row(ticket=ticket, sms=sms, payload=payload, now=now, deployment=deployment),
    )
    return [row for row in rows if row is not None]
