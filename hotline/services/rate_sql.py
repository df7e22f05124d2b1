"""SQL helpers the rate tables share, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def placeholders(dialect: str, sql: str) -> str:
    """`?` placeholders as the backend wants them (asyncpg numbers them: $1, $2, …)."""
    if dialect != "postgres":
        return sql
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


def when(value: Any) -> datetime:
    """A stored datetime: asyncpg gives datetimes, SQLite the UTC text tortoise wrote."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flag(value: Any) -> bool | None:
    """A JSON boolean as the backend extracts it: SQLite 1/0, PostgreSQL 'true'/'false'."""
    if value is None:
        return None
    return value in (1, True, "true", "1")


def stored_time(dialect: str, at: datetime) -> Any:
    """A datetime as a parameter: SQLite compares the UTC text tortoise writes, so bind that."""
    at = at.astimezone(UTC)
    return at if dialect == "postgres" else str(at)


def json_field(dialect: str, key: str) -> str:
    """SQL for one top-level key of the payload (text or number, NULL when absent)."""
    if dialect == "postgres":
        return f"payload->>'{key}'"
    return f"json_extract(payload, '$.{key}')"


def stored_day(dialect: str, day: date) -> Any:
    """A date as a parameter: SQLite stores DateField as ISO text."""
    return day if dialect == "postgres" else day.isoformat()


def day_of(value: Any) -> date:
    """A stored date (asyncpg: a date; SQLite: ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
