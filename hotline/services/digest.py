"""The supervisors' daily digest: overdue clocks per unit, the longest overdue listed.

Built so that it cannot hurt the front at any size of history:

- the figures are read in chunks of the clock table's id range, each one short statement
  outside any transaction (SQLite has one connection: a long read there makes every web
  request wait), with the per-unit count and the unit's longest-overdue few ranked by the
  database (`COUNT(*) OVER`, `ROW_NUMBER() OVER`): only a bounded list per chunk reaches
  Python, and the lists are merged here;
- no statement carries more than `DETAIL_CHUNK` parameters (PostgreSQL refuses more than
  32,767);
- the once-a-day claim is committed before the work (`hotline.services.daily_jobs`): a
  failed digest is logged and retried a few times, not rolled back and restarted every
  minute.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tortoise.transactions import in_transaction

from hotline.domain.indexes import OPEN_CLOCK
from hotline.domain.models import Ticket, TicketClock, Unit
from hotline.domain.timefmt import SHANGHAI, local_day, local_text
from hotline.domain.vocabulary import Status
from hotline.mail.outbox import enqueue_mail
from hotline.mail.templates import OverdueItem, UnitOverdue, render_digest
from hotline.outbox.backlog import backlog
from hotline.services.daily_jobs import claim_daily, fail_daily, finish_daily
from hotline.services.notify import clock_name, mail_title, supervisor_recipients
from hotline.services.rate_rows import placeholders, stored_time, when
from sla.clock import ClockKind, overdue_text

log = logging.getLogger("hotline.digest")

# Clocks listed per unit; the rest are counted ("其余 N 件请在工单查询中查看").
LISTED_PER_UNIT = 50
# Clock ids per read: a fraction of a second on SQLite even where every clock is open.
ID_CHUNK = 20_000
# Ids per `IN (…)` when the listed clocks and their tickets are loaded (whole rows).
DETAIL_CHUNK = 200
# What `mail_title` reads of a ticket.
TITLE_FIELDS = (
    "kind",
    "confidential",
    "title",
    "complainant_name",
    "dispatch_title",
    "dispatch_confirmed_at",
)

# Whose lateness a clock is: the centre's (NULL) for its own clocks (改派, 审批) and for a
# 退单 waiting to be re-dispatched, else the lead unit's.
_CENTRE_KINDS = ", ".join(f"'{k.value}'" for k in ClockKind if k.centre_owned)
_OWNER = (
    f"CASE WHEN t.status = '{Status.DISPUTED.value}' OR c.kind IN ({_CENTRE_KINDS})"
    " THEN NULL ELSE t.lead_unit_id END"
)
_RANKED = """
SELECT unit_id, n, clock_id, due_at FROM (
  SELECT {owner} AS unit_id, c.id AS clock_id, c.due_at AS due_at,
         ROW_NUMBER() OVER (PARTITION BY {owner} ORDER BY c.due_at, c.id) AS rk,
         COUNT(*) OVER (PARTITION BY {owner}) AS n
  FROM ticket_clock c JOIN ticket t ON t.id = c.ticket_id
  WHERE c.id >= ? AND c.id < ? AND {open_clock} AND c.due_at < ?
) ranked WHERE rk <= ?
"""


@dataclass
class OverdueTally:
    """Per lead unit (None: not dispatched): the count and the longest-overdue clock ids."""

    counts: dict[int | None, int] = field(default_factory=dict)
    # Max-heaps (negated) of (due_at, clock id), at most `listed` each.
    longest: dict[int | None, list[tuple[float, int]]] = field(default_factory=dict)
    listed: int = LISTED_PER_UNIT

    def add(self, unit_id: int | None, due: datetime, clock_id: int) -> None:
        """One ranked row of a chunk: kept when among the unit's longest overdue so far."""
        heap = self.longest.setdefault(unit_id, [])
        item = (-due.timestamp(), -clock_id)
        if len(heap) < self.listed:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)

    def listed_ids(self, unit_id: int | None) -> list[int]:
        """The unit's listed clock ids, longest overdue first."""
        return [-c for _, c in sorted(self.longest.get(unit_id, []), reverse=True)]


async def tally_overdue(*, now: datetime, listed: int = LISTED_PER_UNIT) -> OverdueTally:
    """Count every open clock due before `now` per lead unit and keep the `listed` longest
    overdue of each, reading the clock table a chunk of ids at a time."""
    conn = TicketClock._meta.db
    dialect = conn.capabilities.dialect
    # Two subqueries, each one step down the open clocks' index (SQLite scans the whole
    # table for MIN and MAX in one SELECT).
    open_clock = f"FROM ticket_clock WHERE {OPEN_CLOCK}"
    _, bounds = await conn.execute_query(
        f"SELECT (SELECT MIN(id) {open_clock}) AS lo, (SELECT MAX(id) {open_clock}) AS hi"
    )
    tally = OverdueTally(listed=listed)
    if not bounds or bounds[0]["lo"] is None:
        return tally
    lo, hi = int(bounds[0]["lo"]), int(bounds[0]["hi"])
    # The predicate literally, as the partial index over open clocks declares it: both
    # databases then read the index alone (a bound parameter would not prove it applies).
    sql = placeholders(dialect, _RANKED.format(open_clock=f"c.{OPEN_CLOCK}", owner=_OWNER))
    cutoff = stored_time(dialect, now)
    for start in range(lo, hi + 1, ID_CHUNK):
        _, rows = await conn.execute_query(sql, [start, start + ID_CHUNK, cutoff, listed])
        seen: set[int | None] = set()
        for row in rows:
            unit_id = row["unit_id"]
            if unit_id not in seen:
                seen.add(unit_id)
                tally.counts[unit_id] = tally.counts.get(unit_id, 0) + int(row["n"])
            tally.add(unit_id, when(row["due_at"]), int(row["clock_id"]))
        # Let the requests queued behind this read have the connection between chunks.
        await asyncio.sleep(0)
    return tally


async def overdue_groups(*, now: datetime, listed: int = LISTED_PER_UNIT) -> list[UnitOverdue]:
    """The digest's units, most overdue first, each with its count and listed clocks."""
    tally = await tally_overdue(now=now, listed=listed)
    wanted = [i for unit_id in tally.counts for i in tally.listed_ids(unit_id)]
    clocks: dict[int, dict[str, Any]] = {}
    tickets: dict[int, SimpleNamespace] = {}
    for start in range(0, len(wanted), DETAIL_CHUNK):
        chunk = wanted[start : start + DETAIL_CHUNK]
        found = await TicketClock.filter(id__in=chunk).values("id", "ticket_id", "kind", "due_at")
        clocks.update((c["id"], c) for c in found)
        ticket_ids = {c["ticket_id"] for c in found} - tickets.keys()
        rows = await Ticket.filter(id__in=ticket_ids).values("id", "number", *TITLE_FIELDS)
        tickets.update((t["id"], SimpleNamespace(**t)) for t in rows)
        await asyncio.sleep(0)
    unit_ids = [k for k in tally.counts if k is not None]
    units = {u.id: u for u in await Unit.filter(id__in=unit_ids)} if unit_ids else {}
    groups = []
    for unit_id, count in sorted(tally.counts.items(), key=lambda kv: -kv[1]):
        items = []
        for clock_id in tally.listed_ids(unit_id):
            clock = clocks.get(clock_id)
            ticket = tickets.get(clock["ticket_id"]) if clock else None
            if clock is None or ticket is None:
                continue  # gone between the reads (cannot happen: nothing is deleted)
            due = clock["due_at"]
            items.append(
                OverdueItem(
                    number=ticket.number,
                    # Mail leaves the system: a 举报 shows its confirmed title only.
                    title=mail_title(ticket),
                    clock_name=clock_name(clock["kind"]),
                    due_text=local_text(due),
                    overdue_text=overdue_text(now - (due or now)),
                )
            )
        name = units[unit_id].name if unit_id in units else "（未派单）"
        groups.append(UnitOverdue(unit_name=name, items=items, count=count))
    return groups


async def send_daily_digest(*, now: datetime, link_base: str, hour: int = 8) -> bool:
    """Once per local day after `hour`: mail supervisors the overdue clocks per unit.

    True when this call sent (queued) today's digest.
    """
    local = now.astimezone(SHANGHAI)
    if local.hour < hour:
        return False
    run = await claim_daily("digest", day=local_day(now), now=now)
    if run is None:
        return False  # sent today already, another worker is at it, or it gave up
    try:
        groups = await overdue_groups(now=now)
        to = await supervisor_recipients(None)
        async with in_transaction() as conn:
            if to:
                mail = render_digest(
                    date_text=local.strftime("%Y年%m月%d日"),
                    as_of_text=local.strftime("%H:%M"),
                    units=groups,
                    link_base=link_base,
                    backlog=await backlog("mail", now=now, using_db=conn),
                )
                await enqueue_mail(
                    to=to,
                    subject=mail.subject,
                    text=mail.text,
                    html=mail.html,
                    ticket_number=None,
                    reason="digest",
                    now=now,
                    using_db=conn,
                )
            await finish_daily(run, now=now, using_db=conn)
    except Exception as exc:  # noqa: BLE001 - recorded on the claim and retried later
        log.exception("每日超时汇总生成失败（第 %d 次）", run.attempts)
        await fail_daily(run, exc)
        return False
    return True
