"""Ticket numbers (date + per-day sequence) and query codes."""

from __future__ import annotations

import secrets
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.timefmt import local_day

# No 0/O, 1/I/L: the code is read out over the phone.
QUERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_query_code() -> str:
    """A 6-character code the complainant uses to track the ticket."""
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(6))


async def next_number(conn: BaseDBAsyncClient, now: datetime) -> str:
    """The next ticket number of the local day, unique even under concurrent inserts.

    One atomic upsert-and-return on a per-day counter row: both SQLite (≥3.35) and
    PostgreSQL serialise it, so two transactions can never read the same value.
    """
    day = local_day(now)
    placeholder = "$1" if conn.capabilities.dialect == "postgres" else "?"
    rows = await conn.execute_query_dict(counter_sql(placeholder), [day])
    return ticket_number(day, rows[0]["value"])


def counter_sql(placeholder: str) -> str:
    """The per-day counter's bump, returning the new value (`placeholder`: the day's)."""
    return (
        "INSERT INTO ticket_counter (day, value) VALUES "
        f"({placeholder}, 1) ON CONFLICT (day) DO UPDATE "
        "SET value = ticket_counter.value + 1 RETURNING value"
    )


def ticket_number(day: str, value: int) -> str:
    """The number of the day's `value`-th ticket."""
    return f"{day}-{value:05d}"
