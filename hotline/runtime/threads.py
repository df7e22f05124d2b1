"""How soon the database thread gets the GIL back when SQLite is the database.

aiosqlite runs every statement on one thread of its own and hands the result back to the
event loop. While the loop is busy with other requests, that thread waits for the GIL for up
to the interpreter's switch interval (5 ms by default) on every statement, and a transaction
holds SQLite's one connection for all its statements: under load the intake path spent most
of its time in these waits, not in SQLite. A shorter interval (0.5 ms) lets the database
thread in sooner; PostgreSQL (asyncpg, no thread) is left as it is.
"""

from __future__ import annotations

import sys

SQLITE_SWITCH_INTERVAL = 0.0005  # seconds


def tune_thread_switching(database_url: str) -> float:
    """Shorten the GIL switch interval for a SQLite database; returns the interval in force."""
    if database_url.startswith("sqlite"):
        sys.setswitchinterval(min(sys.getswitchinterval(), SQLITE_SWITCH_INTERVAL))
    return sys.getswitchinterval()
