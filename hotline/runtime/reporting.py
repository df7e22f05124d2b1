"""Reads for reports from the read replica, when the deployment has one.

With REPORTING_DATABASE_URL set, `open_database` opens a second tortoise connection, named
`reporting`, in a connection handler of its own beside the context's (were it in the
context's configuration, every `in_transaction()` without a name would refuse to guess
which database it means). Inside `reporting_reads()` the current task's default connection
is that replica, the way a transaction swaps in its own connection: every query the
report's service functions run — ORM or raw SQL through `Model._meta.db` — goes to the
replica without those functions knowing. Only read-only work belongs inside (the dashboard's
figures, the statistics API and its Excel/CSV exports); sign-in, sessions and anything that
writes stay outside, on the primary.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tortoise.connection import ConnectionHandler
from tortoise.context import TortoiseContext, require_context

REPORTING = "reporting"

# The replica of each open database context (tests open several in one process).
_REPLICAS: weakref.WeakKeyDictionary[TortoiseContext, ConnectionHandler] = (
    weakref.WeakKeyDictionary()
)


async def open_replica(ctx: TortoiseContext, url: str) -> None:
    """Connect the `reporting` connection for `ctx` and check it answers."""
    handler = ConnectionHandler()
    handler._init_config({REPORTING: url})
    _REPLICAS[ctx] = handler
    await handler.get(REPORTING).execute_query("SELECT 1")


async def close_replica(ctx: TortoiseContext) -> None:
    """Close the replica connection of `ctx`, if it has one."""
    handler = _REPLICAS.pop(ctx, None)
    if handler is not None:
        await handler.close_all()


@contextmanager
def reporting_reads() -> Iterator[bool]:
    """Route this task's queries to the replica while inside; True when there is one."""
    ctx = require_context()
    replicas = _REPLICAS.get(ctx)
    if replicas is None:
        yield False
        return
    replica = replicas.get(REPORTING)
    handler = ctx.connections
    tokens = [handler.set(alias, replica) for alias in handler.db_config]
    try:
        yield True
    finally:
        for token in reversed(tokens):
            handler.reset(token)


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def on_replica(handler: Handler) -> Handler:
    """A page handler that only reads (its user comes from the session, not the database),
    run inside `reporting_reads()`."""

    @functools.wraps(handler)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        with reporting_reads():
            return await handler(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
