"""Unit staff's mail addresses, remembered for a few seconds in each worker process.

Every auto-dispatched ticket mails its units' staff, and the look-up was a read inside the
create's transaction (on SQLite a hop to the database thread while the connection's lock is
held). Each worker keeps what it read per unit for `STAFF_MAIL_SECONDS`. A user created,
disabled or enabled in this process is seen at once (`forget`); another worker sees the
change when its entry expires, as with tokens (hotline.services.principal_cache).
"""

from __future__ import annotations

import time

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.models import User

# How stale another worker may be after a change to a unit's staff (this worker never is).
STAFF_MAIL_SECONDS = 5.0

_entries: dict[int, tuple[float, tuple[str, ...]]] = {}


async def staff_addresses(
    conn: BaseDBAsyncClient, unit_ids: list[int]
) -> dict[int, tuple[str, ...]]:
    """The mail addresses of each unit's active staff, in the order the database lists them."""
    now = time.monotonic()
    missing = [u for u in dict.fromkeys(unit_ids) if u not in _entries or _entries[u][0] <= now]
    if missing:
        # One query for every unit not remembered: this runs on the intake path.
        rows = (
            await User.filter(unit_id__in=missing, active=True)
            .exclude(email="")
            .using_db(conn)
            .values_list("unit_id", "email")
        )
        found: dict[int, list[str]] = {u: [] for u in missing}
        for unit_id, email in rows:
            found[unit_id].append(email)
        for unit_id, emails in found.items():
            _entries[unit_id] = (now + STAFF_MAIL_SECONDS, tuple(emails))
    return {u: _entries[u][1] for u in unit_ids}


def forget() -> None:
    """A user was added, disabled or enabled: read every unit's staff again."""
    _entries.clear()
