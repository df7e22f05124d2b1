"""Text messages to the complainant, queued in the transaction of the ticket write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.domain.lifecycle import Sms
from hotline.domain.models import Ticket
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.sms.messages import dedupe_key, sms_params, sms_recipient
from hotline.sms.outbox import new_sms


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
