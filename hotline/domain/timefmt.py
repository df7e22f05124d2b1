"""Times are stored in UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time, aware, in UTC (the only place the web layer reads the clock)."""
    return datetime.now(UTC)


def local_iso(value: datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with its +08:00 offset, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def local_text(value: datetime | None) -> str:
    """A short local time for people: 2026-11-21 14:05."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def local_day(value: datetime) -> str:
    """The local calendar day as YYYYMMDD (ticket numbers count per local day)."""
    return value.astimezone(SHANGHAI).strftime("%Y%m%d")
