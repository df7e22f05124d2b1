"""What every gateway adapter takes, returns and raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    """One text as an adapter sees it: the rendered body and the template it came from."""

    phone: str
    body: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    ticket_number: str = ""


class SmsSendError(Exception):
    """A failed send: `permanent` fails the row; otherwise it is retried with backoff.

    `gateway_level` means the gateway or our configuration is at fault (down, throttling
    everyone, refusing our credentials): the round stops and waiting rows are deferred, so
    an outage costs one request per backoff step instead of one per message.
    """

    def __init__(self, message: str, *, permanent: bool = False, gateway_level: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.gateway_level = gateway_level


class SmsGateway(Protocol):
    """Sends one message; returns the gateway's reference for it or raises SmsSendError."""

    name: str

    async def send(self, message: SmsMessage) -> str:
        """Deliver `message` to the gateway; the returned reference goes to gateway_ref."""
        ...

    async def close(self) -> None:
        """Release connections (called when the sender stops)."""
        ...
