"""What a transport adapter is, and the registry the senders and admin views read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hotline.outbox.models import OutboxMessage
    from hotline.runtime.config import Settings

# Longer than any single send can take (connect + TLS + DATA, each bounded by the timeout),
# so a live sender never loses its row; a crashed sender's rows come back after it.
MIN_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    """How to treat a send error."""

    permanent: bool  # give up on this message now
    server_level: bool  # the far end or our configuration is at fault: stop the round
    message: str


@dataclass(frozen=True)
class Sent:
    """A send that went through: the far end's reference, a note for the admins and, when
    some recipients must be tried again (a mail server's 4xx for them), who they are."""

    ref: str | None = None
    note: str | None = None
    retry_recipients: list[str] = field(default_factory=list)


class Transport(Protocol):
    """One way out: SMTP, an SMS gateway, …"""

    name: str
    enabled: bool
    lease: timedelta

    async def send(self, row: OutboxMessage) -> Sent:
        """Hand one message on; raise to have `classify` judge the error."""
        ...

    def classify(self, exc: BaseException) -> Outcome:
        """Whether an error is about this message (permanent) or the far end (server level)."""
        ...

    async def after_error(self, exc: BaseException) -> None:
        """Reset what an unexpected error may have left half-done (a connection)."""
        ...

    async def end_round(self) -> None:
        """Release what one delivery round held (an SMTP session)."""
        ...

    async def close(self) -> None:
        """Release everything (called when the sender stops)."""
        ...


@dataclass(frozen=True)
class TransportView:
    """How admins see one transport's rows: words, paths, one row as JSON and as table cells."""

    name: str
    label: str  # 邮件 / 短信
    counter: str  # 封 / 条
    row_json: Callable[[OutboxMessage], dict[str, Any]]  # beyond the fields every row has
    # The admin page's table: who receives it and what it says, with their column headers.
    who_header: str
    who: Callable[[OutboxMessage], str]
    what_header: str
    what: Callable[[OutboxMessage], str]
    hint: str  # what the section says about failures and retries
    # Below /admin/outbox (page) and /api/v1/admin/outbox (API): "" for mail, "/sms" …
    path: str = ""
    # What the configured transport means for delivery, said at the top of its section: a
    # missing server, a gateway that only logs. "" when messages really leave.
    notice: Callable[[Settings], str] = lambda settings: ""
    # What the section calls the delivered rows: a log gateway's "sent" texts never left.
    sent_label: Callable[[Settings], str] = lambda settings: "已发送"
