"""The daily volume rollup (`volume_daily`): tickets received per local day along each facet
the volume card and the trend chart show, kept in step by triggers on `ticket`.

Why triggers: a ticket moves between the card's groups on create, reclassify, fill-places,
merge (status `merged` leaves `received` for `merged`), unmerge, retention and imports — any
path that changes created_at, status, channel, kind, category, district or street. A trigger
applies the change inside the very statement that makes it, so no path can forget it and
intake's one-trip write gains no statement (`hotline.services.one_trip`). Each change
subtracts the old row's facets and adds the new row's with an atomic `x = x + excluded.x`
upsert, so concurrent writers never lose a count.

Facets rather than the full channel × kind × category × place product: the card shows each
dimension on its own (totals per channel, kind, category, district, street), and the product
has nearly as many combinations a day as tickets once categories and streets are real. A day
holds one row per value shown, so a month reads a few hundred rows however many tickets it
had. `rebuild` recomputes it from `ticket` in one transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hotline.domain.vocabulary import Status
from hotline.services.rate_sql import day_of, placeholders, stored_day

FACETS = ("channel", "kind", "category", "district", "street")
MERGED = Status.MERGED.value
# The columns whose change moves a ticket between the rollup's rows.
WATCHED = ("created_at", "status", "channel", "kind", "category", "district", "street")


def _local_day(dialect: str, column: str) -> str:
    if dialect == "postgres":
        return f"({column} AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"  # Asia/Shanghai has kept UTC+8 since 1991


def _facets(r: str) -> str:
    """The facet rows of ticket row `r` (NEW, OLD or a table alias): (facet, name, street)."""
    return (
        f"SELECT 'channel' AS facet, {r}.channel AS name, '' AS street"
        f" UNION ALL SELECT 'kind', {r}.kind, ''"
        f" UNION ALL SELECT 'category', COALESCE({r}.category, ''), ''"
        f" UNION ALL SELECT 'district', {r}.district, ''"
        f" UNION ALL SELECT 'street', {r}.district, {r}.street WHERE {r}.street <> ''"
    )


_UPSERT = (
    " ON CONFLICT (day, facet, name, street) DO UPDATE SET"
    " received = volume_daily.received + excluded.received,"
    " merged = volume_daily.merged + excluded.merged"
)


def _apply(dialect: str, r: str, sign: int) -> str:
    """Add (sign +1) or take away (-1) ticket row `r` from its day's facet rows."""
    merged = f"({r}.status = '{MERGED}')"
    received = f"({r}.status <> '{MERGED}')"
    if dialect == "postgres":
        merged, received = f"{merged}::int", f"{received}::int"
    # `WHERE true`: SQLite needs it to parse an upsert whose source is a SELECT.
    return (
        "INSERT INTO volume_daily (day, facet, name, street, received, merged)"
        f" SELECT {_local_day(dialect, r + '.created_at')}, f.facet, f.name, f.street,"
        f" {sign} * {received}, {sign} * {merged} FROM ({_facets(r)}) AS f WHERE true" + _UPSERT
    )


def _changed(dialect: str) -> str:
    same = "IS DISTINCT FROM" if dialect == "postgres" else "IS NOT"
    cols = [f"OLD.{c} {same} NEW.{c}" for c in WATCHED if c != "status"]
    cols.append(f"(OLD.status = '{MERGED}') {same} (NEW.status = '{MERGED}')")
    return " OR ".join(cols)


def ddl(dialect: str) -> list[str]:
    """The statements that (re)create the triggers (idempotent)."""
    watched = ", ".join(WATCHED)
    if dialect == "postgres":
        return [
            "CREATE OR REPLACE FUNCTION volume_daily_apply() RETURNS trigger"
            " LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  IF TG_OP <> 'INSERT' THEN " + _apply(dialect, "OLD", -1) + "; END IF;\n"
            "  IF TG_OP <> 'DELETE' THEN " + _apply(dialect, "NEW", 1) + "; END IF;\n"
            "  RETURN NULL;\n"
            "END $$",
            "DROP TRIGGER IF EXISTS volume_daily_write ON ticket",
            "CREATE TRIGGER volume_daily_write AFTER INSERT OR DELETE ON ticket"
            " FOR EACH ROW EXECUTE FUNCTION volume_daily_apply()",
            "DROP TRIGGER IF EXISTS volume_daily_change ON ticket",
            f"CREATE TRIGGER volume_daily_change AFTER UPDATE OF {watched} ON ticket"
            f" FOR EACH ROW WHEN ({_changed(dialect)}) EXECUTE FUNCTION volume_daily_apply()",
        ]
    return [
        "CREATE TRIGGER IF NOT EXISTS volume_daily_insert AFTER INSERT ON ticket BEGIN "
        + _apply(dialect, "NEW", 1)
        + "; END",
        "CREATE TRIGGER IF NOT EXISTS volume_daily_delete AFTER DELETE ON ticket BEGIN "
        + _apply(dialect, "OLD", -1)
        + "; END",
        f"CREATE TRIGGER IF NOT EXISTS volume_daily_change AFTER UPDATE OF {watched} ON ticket"
        f" WHEN {_changed(dialect)} BEGIN "
        + _apply(dialect, "OLD", -1)
        + "; "
        + _apply(dialect, "NEW", 1)
        + "; END",
    ]


async def ensure(conn: BaseDBAsyncClient) -> None:
    """Create the triggers if they are missing (the table is a model)."""
    for statement in ddl(conn.capabilities.dialect):
        await conn.execute_query(statement)


def rebuild_sql(dialect: str) -> str:
    """Every ticket's facet rows, summed: the rollup as it should be. The full product is
    grouped first (one pass over ticket), then each facet is summed from it."""
    day = _local_day(dialect, "created_at")
    merged = f"(status = '{MERGED}')"
    received = f"(status <> '{MERGED}')"
    if dialect == "postgres":
        merged, received = f"{merged}::int", f"{received}::int"
    facets = " UNION ALL ".join(
        f"SELECT day, {sel}, received, merged FROM j{where}"
        for sel, where in (
            ("'channel' AS facet, channel AS name, '' AS street", ""),
            ("'kind', kind, ''", ""),
            ("'category', COALESCE(category, ''), ''", ""),
            ("'district', district, ''", ""),
            ("'street', district, street", " WHERE street <> ''"),
        )
    )
    return (
        f"WITH j AS (SELECT {day} AS day, channel, kind, category, district, street,"
        f" SUM({received}) AS received, SUM({merged}) AS merged FROM ticket"
        " GROUP BY 1, 2, 3, 4, 5, 6)"
        " INSERT INTO volume_daily (day, facet, name, street, received, merged)"
        f" SELECT day, facet, name, street, SUM(received), SUM(merged) FROM ({facets}) AS f"
        " GROUP BY day, facet, name, street"
    )


async def rebuild(conn: BaseDBAsyncClient) -> int:
    """Recompute the rollup from `ticket` on `conn`, which must be in a transaction (readers
    see the old rows or the new, never a mix); returns how many rows it holds."""
    dialect = conn.capabilities.dialect
    if dialect == "postgres":
        # Writers to ticket wait (readers pass) so no trigger adds to rows being replaced.
        await conn.execute_query("LOCK TABLE ticket IN SHARE MODE")
    await conn.execute_query("DELETE FROM volume_daily")
    await conn.execute_query(rebuild_sql(dialect))
    _, rows = await conn.execute_query("SELECT COUNT(*) FROM volume_daily")
    return int(rows[0][0])


async def rebuild_atomic() -> int:
    """`rebuild` in a transaction of its own on the default connection, the triggers made
    first if missing (a database whose schema was generated, not migrated)."""
    async with in_transaction() as tx:
        await ensure(tx)
        return await rebuild(tx)


# ---- reading --------------------------------------------------------------------------

Facets = dict[str, Counter]


async def facet_totals(conn: BaseDBAsyncClient, first: date, last: date) -> tuple[Facets, int]:
    """Per facet, the tickets received from `first` to `last` (local days) by value (street:
    by (district, street)); and how many were merged repeats. One grouped read."""
    dialect = conn.capabilities.dialect
    sql = (
        "SELECT facet, name, street, SUM(received), SUM(merged) FROM volume_daily"
        " WHERE day >= ? AND day <= ? GROUP BY facet, name, street"
    )
    _, rows = await conn.execute_query(
        placeholders(dialect, sql), [stored_day(dialect, first), stored_day(dialect, last)]
    )
    out: Facets = {f: Counter() for f in FACETS}
    merged = 0
    for facet, name, street, received, m in rows:
        if facet == "channel":
            merged += int(m)
        if int(received):
            out[facet][(name, street) if facet == "street" else name] += int(received)
    return out, merged


async def received_per_day(
    conn: BaseDBAsyncClient, first: date, last: date
) -> list[tuple[date, int]]:
    """Tickets received per local day (merged repeats left out), from the channel facet."""
    dialect = conn.capabilities.dialect
    sql = (
        "SELECT day, SUM(received) FROM volume_daily"
        " WHERE facet = 'channel' AND day >= ? AND day <= ? GROUP BY day"
    )
    _, rows = await conn.execute_query(
        placeholders(dialect, sql), [stored_day(dialect, first), stored_day(dialect, last)]
    )
    return [(day_of(r[0]), int(r[1])) for r in rows]
