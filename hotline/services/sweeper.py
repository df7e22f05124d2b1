"""The sweeper: finds clocks past their warning point or due time and escalates exactly once.

Each clock row carries `warned` and `breached` flags. A sweeper claims a chunk of clocks
with one conditional UPDATE (`… WHERE id IN (…) AND warned = false RETURNING id`,
`hotline.services.escalation`) inside the same transaction that writes their events and
queues their mail, so with several sweepers (or after a crash mid-sweep) each warning and
each breach is recorded once and only once. The daily digest is `hotline.services.digest`.

This is I/O (database, outbox), so it lives in hotline/; the deadline arithmetic it relies
on stays pure in sla/ (`sla.clock`), which imports nothing of hotline/.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from hotline.domain.indexes import NOT_BREACHED, NOT_WARNED
from hotline.domain.models import TicketClock
from hotline.runtime.periodic import run_every
from hotline.services.digest import send_daily_digest
from hotline.services.escalation import escalate
from hotline.services.link_escalation import sweep_links
from hotline.services.rate_rows import placeholders, stored_time

__all__ = ["SweepReport", "due_clocks", "run_sweeper", "send_daily_digest", "sweep"]

log = logging.getLogger("hotline.sweeper")


@dataclass
class SweepReport:
    """What one sweep did."""

    warnings: list[int] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    digest_sent: bool = False
    # 协办/下派 deadlines (ticket_unit ids), escalated the same way (link_escalation).
    link_warnings: list[int] = field(default_factory=list)
    link_breaches: list[int] = field(default_factory=list)


# The running clocks not yet escalated, in the text of the partial indexes over them
# (`hotline.domain.indexes`): both databases use a partial index only for a query whose WHERE
# contains the index's own predicate, literally (a bound parameter would not do).
RUNNING = {"breach": NOT_BREACHED, "warning": NOT_WARNED}
_DUE = {
    "breach": "SELECT id FROM ticket_clock WHERE {running} AND due_at <= ?"
    " ORDER BY due_at, id LIMIT ?",
    "warning": "SELECT id FROM ticket_clock WHERE {running} AND warn_at <= ? AND due_at > ?"
    " ORDER BY warn_at, id LIMIT ?",
}


async def due_clocks(event: str, *, now: datetime, limit: int) -> list[int]:
    """Ids of up to `limit` running clocks due for `event` (breach or warning), oldest first."""
    conn = TicketClock._meta.db
    dialect = conn.capabilities.dialect
    running = RUNNING[event]
    at = stored_time(dialect, now)
    params = [at, limit] if event == "breach" else [at, at, limit]
    sql = placeholders(dialect, _DUE[event].format(running=running))
    _, rows = await conn.execute_query(sql, params)
    return [int(r["id"]) for r in rows]


async def sweep(*, now: datetime, link_base: str, batch: int = 2000) -> SweepReport:
    """Record every due breach, then every due warning, each exactly once."""
    report = SweepReport()
    for event, found in (("breach", report.breaches), ("warning", report.warnings)):
        while True:
            ids = await due_clocks(event, now=now, limit=batch)
            found += await escalate(ids, event, now=now, link_base=link_base)
            if len(ids) < batch:
                break
    report.link_breaches = await sweep_links("breach", now=now, link_base=link_base, batch=batch)
    report.link_warnings = await sweep_links("warning", now=now, link_base=link_base, batch=batch)
    return report


async def run_sweeper(
    *,
    interval: float,
    stop: asyncio.Event,
    link_base: str,
    clock: object = None,
    digest_hour: int = 8,
) -> None:
    """Sweep every `interval` seconds until `stop` is set; errors are logged, not fatal."""
    from hotline.domain.timefmt import utcnow

    now_fn = clock if callable(clock) else utcnow

    async def once() -> None:
        now = now_fn()
        report = await sweep(now=now, link_base=link_base)
        if report.warnings or report.breaches:
            log.info("sweep: %d warnings, %d breaches", len(report.warnings), len(report.breaches))
        if report.link_warnings or report.link_breaches:
            log.info(
                "sweep: 协办/下派 %d warnings, %d breaches",
                len(report.link_warnings),
                len(report.link_breaches),
            )
        await send_daily_digest(now=now, link_base=link_base, hour=digest_hour)

    await run_every(once, interval=interval, stop=stop, name="sweep", log=log)
