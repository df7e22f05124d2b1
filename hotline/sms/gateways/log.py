"""SMS_GATEWAY=log: messages are written to the outbox and the log, and nothing is sent."""

from __future__ import annotations

import logging

from hotline.privacy.rules import mask_phone
from hotline.sms.gateways.base import SmsMessage

log = logging.getLogger("hotline.sms")


class LogGateway:
    """The default: a deployment without an SMS contract still sees what would be sent."""

    name = "log"

    async def send(self, message: SmsMessage) -> str:
        """Log the message (phone and query code masked) and call it sent."""
        log.info(
            "短信未发送（SMS_GATEWAY=log）→ %s：%s", mask_phone(message.phone), loggable(message)
        )
        return "log"

    async def close(self) -> None:
        """Nothing to release."""


def loggable(message: SmsMessage) -> str:
    """The body without the query code: logs are read by more people than the citizen.

    The number and the code together open the ticket's tracking page.
    """
    code = message.params.get("code", "")
    return message.body.replace(code, "******") if code else message.body
