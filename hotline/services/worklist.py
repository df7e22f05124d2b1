"""A unit's worklist from its own link rows (`ticket_unit`), never a scan of its history.

Each link carries a copy of the ticket's status, next due time and receipt time and the
marks of hotline.domain.worklist. `sync_links` rewrites the copy from the ticket and its
events after every action (in the action's transaction); the workbench's groups and the
unit's `GET /api/v1/tickets` page are then read `ORDER BY … LIMIT` through the partial
indexes of hotline.domain.indexes (WORK_LINK, MARKED_LINK), whose WHERE text the queries
below repeat literally so both planners use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.indexes import SUB_REPLIED
from hotline.domain.lifecycle import WITH_UNIT, Status
from hotline.domain.models import Ticket, TicketClock, TicketEvent, TicketUnit
from hotline.domain.worklist import MARK_ACTIONS, Marks, marks_of
from hotline.services.rate_sql import placeholders, stored_time, when

# A group's count is read up to this many; beyond it the page says 「500+」.
COUNT_CAP = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HANDLING = (
    Status.HANDLING.value,
    Status.PAUSED.value,
    Status.EXTENSION_REQUESTED.value,
    Status.PAUSE_REQUESTED.value,
)
# The unit's own turn (a 退单待改派 ticket waits on the centre, not on the unit).
UNIT_TURN = tuple(s.value for s in Status if s in WITH_UNIT and s is not Status.DISPUTED)
WITH_UNIT_VALUES = tuple(s.value for s in Status if s in WITH_UNIT)
SUB_OPEN = ("dispatched", "handling", "replied")


def marks_on(links: Sequence[TicketUnit]) -> Marks:
    """The marks the ticket's stored links carry (every link of a ticket carries the same)."""
    for link in links:
        if link.id is not None:
            return Marks(link.supervised, link.reopened, link.answered)
    return Marks()


def link_copy(ticket: Ticket, marks: Marks, now: datetime) -> dict[str, Any]:
    """The columns of the copy on a link of this ticket (as it is after the action)."""
    return {
        "status": ticket.status,
        "next_due_at": ticket.next_due_at,
        "ticket_created_at": ticket.created_at,
        "changed_at": now,
        **marks.columns(),
    }


async def write_copy(
    conn: BaseDBAsyncClient, *, ticket: Ticket, marks: Marks, now: datetime
) -> None:
    """Rewrite the copy on every link of the ticket: one UPDATE in the action's transaction."""
    await (
        TicketUnit.filter(ticket_id=ticket.id)
        .using_db(conn)
        .update(**link_copy(ticket, marks, now))
    )


async def sync_links(conn: BaseDBAsyncClient | None, ticket_ids: Sequence[int]) -> None:
    """Rewrite the copy on every link of these tickets from the tickets and their events
    (after a change outside the actions, e.g. `recompute-provisional` moving due times)."""
    if not ticket_ids:
        return
    ids = list(ticket_ids)
    tickets = await Ticket.filter(id__in=ids).using_db(conn)
    events = (
        await TicketEvent.filter(ticket_id__in=ids, action__in=list(MARK_ACTIONS))
        .using_db(conn)
        .order_by("id")
        .values_list("ticket_id", "action")
    )
    actions: dict[int, list[str]] = {}
    for ticket_id, action in events:
        actions.setdefault(ticket_id, []).append(action)
    now = datetime.now(UTC)
    for ticket in tickets:
        marks = marks_of(actions.get(ticket.id, []))
        await (
            TicketUnit.filter(ticket_id=ticket.id)
            .using_db(conn)
            .update(**link_copy(ticket, marks, now))
        )


async def recomputed(ticket_ids: Sequence[int]) -> dict[int, tuple[str, Any, Any, Marks]]:
    """What `sync_links` would write for each ticket (tests compare the copy with it)."""
    events = (
        await TicketEvent.filter(ticket_id__in=list(ticket_ids), action__in=list(MARK_ACTIONS))
        .order_by("id")
        .values_list("ticket_id", "action")
    )
    actions: dict[int, list[str]] = {}
    for ticket_id, action in events:
        actions.setdefault(ticket_id, []).append(action)
    rows = await Ticket.filter(id__in=list(ticket_ids)).values_list(
        "id", "status", "next_due_at", "created_at"
    )
    return {i: (s, d, c, marks_of(actions.get(i, []))) for i, s, d, c in rows}


# ---- the workbench's groups ------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Which of a unit's current links a workbench group lists (soonest due first)."""

    statuses: tuple[str, ...]
    roles: tuple[str, ...] = ("lead",)
    mark: str | None = None  # supervised | reopened | answered
    due: str | None = None  # "soon" (within a day) | "late" (past due)
    sub_states: tuple[str, ...] = ()


GROUPS: dict[str, Group] = {
    "supervised": Group(WITH_UNIT_VALUES, roles=("lead", "assist", "sub"), mark="supervised"),
    "sign": Group((Status.DISPATCHED.value,)),
    "handling": Group(HANDLING),
    "soon": Group(UNIT_TURN, due="soon"),
    "late": Group(UNIT_TURN, due="late"),
    "reopened": Group(HANDLING, mark="reopened"),
    "extension": Group(HANDLING, mark="answered"),
    "sub": Group(WITH_UNIT_VALUES, roles=("sub",), sub_states=SUB_OPEN),
    "assist": Group(WITH_UNIT_VALUES, roles=("assist",)),
}
# The lead unit's 下派 answered by its descendant, waiting for its review.
REVIEW = "review"


@dataclass(frozen=True)
class Slice:
    """One group's rows (ticket ids, soonest due first) and its count (capped)."""

    ids: list[int]
    count: int
    capped: bool


def _where(group: Group, status: str, now: datetime, dialect: str) -> tuple[str, list[Any]]:
    """The WHERE of one status of a group, in the partial indexes' own words."""
    if group.mark:
        # MARKED_LINK's predicate is implied by the mark's own term.
        sql = f"unit_id = ? AND active = true AND {group.mark} = true AND status = ?"
    else:
        sql = "unit_id = ? AND active = true AND status = ?"
    params: list[Any] = [status]
    if len(group.roles) == 1:
        sql += " AND role = ?"
        params.append(group.roles[0])
    else:
        sql += f" AND role IN ({', '.join('?' * len(group.roles))})"
        params += list(group.roles)
    if group.sub_states:
        sql += f" AND state IN ({', '.join('?' * len(group.sub_states))})"
        params += list(group.sub_states)
    if group.due == "soon":
        sql += " AND next_due_at >= ? AND next_due_at < ?"
        params += [stored_time(dialect, now), stored_time(dialect, now + timedelta(days=1))]
    elif group.due == "late":
        sql += " AND next_due_at < ?"
        params.append(stored_time(dialect, now))
    return sql, params


def _group_sql(
    key: str, group: Group, unit_id: int, *, now: datetime, take: int, dialect: str
) -> tuple[str, list[Any], str, list[Any]]:
    """One group's rows (its first `take` of each status) and its count, as SQL the
    workbench runs for every group at once (two statements in all)."""
    rows: list[str] = []
    counts: list[str] = []
    params: list[Any] = []
    count_params: list[Any] = []
    # SQLite has no statistics for the new indexes until an ANALYZE, and would pick the
    # work index for a marked group: name the index (PostgreSQL's planner costs them).
    table = "ticket_unit"
    if dialect == "sqlite":
        table += f" INDEXED BY {'ticket_unit_marked' if group.mark else 'ticket_unit_work'}"
    columns = f"'{key}' AS grp, ticket_id, next_due_at, ticket_created_at"
    for i, status in enumerate(group.statuses):
        where, p = _where(group, status, now, dialect)
        # Due first (index order), then the ones with no running clock: each branch
        # walks the index in its own order and stops at `take`. (`+ticket_id` keeps
        # SQLite from walking the unit's whole (unit_id, active, ticket_id) index instead
        # to save sorting the few rows found.)
        rows.append(
            f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where}"
            f" AND next_due_at IS NOT NULL ORDER BY next_due_at LIMIT {take}) AS {key}_d{i}"
        )
        params += [unit_id, *p]
        if group.due is None:
            rows.append(
                f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where}"
                f" AND next_due_at IS NULL ORDER BY +ticket_id LIMIT {take}) AS {key}_n{i}"
            )
            params += [unit_id, *p]
        counts.append(f"SELECT 1 AS one FROM {table} WHERE {where}")
        count_params += [unit_id, *p]
    count = (
        f"SELECT '{key}' AS grp, COUNT(*) AS n FROM (SELECT one FROM"
        f" ({' UNION ALL '.join(counts)}) AS {key}_u LIMIT {COUNT_CAP + 1}) AS {key}_c"
    )
    return " UNION ALL ".join(rows), params, count, count_params


async def group_slices(
    unit_id: int, keys: Sequence[str], *, now: datetime, offset: int, limit: int
) -> dict[str, Slice]:
    """Rows `offset … offset+limit` of each group, and how many it holds (up to
    COUNT_CAP): every group's rows in one statement, every count in another."""
    conn = TicketUnit._meta.db  # the models' connection (test apps name theirs otherwise)
    dialect = conn.capabilities.dialect
    take = offset + limit
    rows_sql, counts_sql = [], []
    params: list[Any] = []
    count_params: list[Any] = []
    for key in keys:
        if key == REVIEW:
            continue
        r, p, c, cp = _group_sql(key, GROUPS[key], unit_id, now=now, take=take, dialect=dialect)
        rows_sql.append(r)
        counts_sql.append(c)
        params += p
        count_params += cp
    found: dict[str, Slice] = {}
    if rows_sql:
        rows = await conn.execute_query_dict(
            placeholders(dialect, " UNION ALL ".join(rows_sql)), params
        )
        counts = await conn.execute_query_dict(
            placeholders(dialect, " UNION ALL ".join(counts_sql)), count_params
        )
        by_group: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_group.setdefault(row["grp"], []).append(row)
        n_of = {c["grp"]: int(c["n"]) for c in counts}
        for key in keys:
            if key == REVIEW:
                continue
            ordered = sorted(
                by_group.get(key, []),
                key=lambda r: (
                    r["next_due_at"] is None,
                    when(r["next_due_at"] or r["ticket_created_at"]),
                    r["ticket_id"],
                ),
            )
            ids = list(dict.fromkeys(r["ticket_id"] for r in ordered))  # once per group
            n = n_of.get(key, 0)
            found[key] = Slice(ids[offset:take], min(n, COUNT_CAP), n > COUNT_CAP)
    if REVIEW in keys:
        found[REVIEW] = await _review_slice(conn, unit_id, offset=offset, limit=limit)
    return found


async def group_slice(unit_id: int, key: str, *, now: datetime, offset: int, limit: int) -> Slice:
    """Rows `offset … offset+limit` of one group, and how many it holds (up to COUNT_CAP)."""
    found = await group_slices(unit_id, [key], now=now, offset=offset, limit=limit)
    return found[key]


async def _review_slice(conn: BaseDBAsyncClient, unit_id: int, *, offset: int, limit: int) -> Slice:
    """The lead unit's tickets whose 下派 has been answered upward (few: read them all)."""
    dialect = conn.capabilities.dialect
    # Two short reads, not a join: SQLite would otherwise walk the unit's links first. The
    # first through the partial index of the few answered 下派 (its WHERE repeated
    # literally); an analysed SQLite preferred the (active, …) index: every current link.
    table = (
        "ticket_unit INDEXED BY ticket_unit_sub_replied" if dialect == "sqlite" else "ticket_unit"
    )
    subs = await conn.execute_query_dict(
        placeholders(
            dialect, f"SELECT ticket_id FROM {table} WHERE {SUB_REPLIED} AND parent_unit_id = ?"
        ),
        [unit_id],
    )
    found = [r["ticket_id"] for r in subs]
    rows = []
    if found:
        rows = await conn.execute_query_dict(
            placeholders(
                dialect,
                "SELECT ticket_id, next_due_at FROM ticket_unit WHERE unit_id = ?"
                " AND role = 'lead' AND active = true"
                f" AND ticket_id IN ({', '.join('?' * len(found))})",
            ),
            [unit_id, *found],
        )
    rows.sort(
        key=lambda r: (
            r["next_due_at"] is None,
            when(r["next_due_at"]).timestamp() if r["next_due_at"] else 0,
            r["ticket_id"],
        )
    )
    ids = list(dict.fromkeys(r["ticket_id"] for r in rows))
    return Slice(ids[offset : offset + limit], min(len(ids), COUNT_CAP), len(ids) > COUNT_CAP)


# ---- the unit's GET /api/v1/tickets ----------------------------------------------------


async def unit_page(
    unit_id: int, statuses: Sequence[str] | None, *, page: int, per_page: int
) -> tuple[list[int], int]:
    """One page of the unit's current tickets (newest first) and how many there are."""
    conn = TicketUnit._meta.db  # the models' connection (test apps name theirs otherwise)
    dialect = conn.capabilities.dialect
    where = "unit_id = ? AND active = true"
    params: list[Any] = [unit_id]
    if statuses:
        where += f" AND status IN ({', '.join('?' * len(statuses))})"
        params += list(statuses)
    sql = (
        f"SELECT ticket_id FROM ticket_unit WHERE {where}"
        f" ORDER BY ticket_created_at DESC, ticket_id DESC"
        f" LIMIT {int(per_page)} OFFSET {int((page - 1) * per_page)}"
    )
    rows = await conn.execute_query_dict(placeholders(dialect, sql), params)
    # Statuses are counted through the work index (unit, status: the open few): an analysed
    # SQLite chose (unit_id, active, ticket_id) and read the row of every link the unit ever
    # had for its status (193,000 rows, 0.7 s for the busiest unit at 1,000,000 tickets).
    # Without statuses that index is the right one (it covers the count).
    table = "ticket_unit"
    if statuses and dialect == "sqlite":
        table += " INDEXED BY ticket_unit_work"
    count = await conn.execute_query_dict(
        placeholders(dialect, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}"), params
    )
    return [r["ticket_id"] for r in rows], int(count[0]["n"])


async def version(unit_id: int, now: datetime) -> str:
    """What the unit's workbench shows, as a token: its links' newest change and the minute
    (the time left on each row is shown to the minute)."""
    # `> EPOCH`, not `IS NOT NULL`: a range SQLite seeks to, so a unit whose links were
    # never rewritten (all NULL: history from before the copy) is not walked link by link.
    latest = (
        await TicketUnit.filter(unit_id=unit_id, changed_at__gt=EPOCH)
        .order_by("-changed_at")
        .limit(1)
        .values_list("changed_at", flat=True)
    )
    stamp = when(latest[0]).timestamp() if latest and latest[0] is not None else 0
    return f"{stamp:.6f}-{int(now.timestamp() // 60)}"


# What a workbench row reads of a ticket (hotline.web.presenters.ticket_row): not its text.
ROW_COLUMNS = (
    "id", "number", "title", "kind", "urgency", "status", "lead_unit_id", "confidential",
    "dispatch_title", "dispatch_confirmed_at", "complainant_name",
)  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """One ticket of the workbench: its row's columns, current clocks, 协办/下派 links."""

    ticket: Any
    clocks: list[TicketClock]
    links: list[TicketUnit]


async def shown(ids: Sequence[int]) -> list[Shown]:
    """The tickets a workbench page shows, in the order of `ids`: three narrow reads."""
    if not ids:
        return []
    wanted = list(ids)
    rows = await Ticket.filter(id__in=wanted).values(*ROW_COLUMNS)
    clocks: dict[int, list[TicketClock]] = {}
    for c in await TicketClock.filter(ticket_id__in=wanted, current=True):
        clocks.setdefault(c.ticket_id, []).append(c)
    links: dict[int, list[TicketUnit]] = {}
    for k in await TicketUnit.filter(ticket_id__in=wanted, role__in=["assist", "sub"]):
        links.setdefault(k.ticket_id, []).append(k)
    by_id = {r["id"]: SimpleNamespace(**r) for r in rows}
    return [Shown(by_id[i], clocks.get(i, []), links.get(i, [])) for i in wanted if i in by_id]
