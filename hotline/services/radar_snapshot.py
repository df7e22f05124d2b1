"""The radar's default window, computed by the background worker and stored (issue #20).

A 24-hour window on a busy day (44,000 tickets) takes many seconds to compute, too long for a
page view. The sweeper's radar pass computes it every 5 minutes and stores the result in one
`radar_snapshot` row, which the page and the API read (every web process and machine sees the
same). Of several sweepers, the one whose conditional UPDATE claims the row computes it; a
sweeper finding the row computed lately, or claimed, does nothing.

The computation is incremental in the process that runs it (`LiveWindow`): the window's
tickets as the radar sees them are kept in memory, and each pass reads again only the
tickets created since the last pass and those with an event since (every change to a ticket
writes one: a merge, a new category, a confirmed 转办内容…), then re-links only the place
blocks whose members changed (`ClusterMemo`). An hourly full read catches what no event
announces (a data edit is caught at once by the fingerprint).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from hotline.domain.models import RadarSnapshot, Ticket
from hotline.domain.radar import ClusterMemo, RadarConfig, RadarTicket, cluster_json, find_clusters
from hotline.services.radar import (
    RadarRun,
    baseline_counts,
    data_fingerprint,
    rows_by_id,
    ticket_views,
    window_rows,
)
from hotline.services.rate_sql import placeholders, stored_time, when

if TYPE_CHECKING:
    from routing.places import Gazetteer

log = logging.getLogger("hotline.radar")

DEFAULT = "default"
# Older than this, the page says the background worker may not be running.
STALE_AFTER = timedelta(minutes=15)
# A snapshot computed less than this ago is fresh: a sweeper passing every 5 minutes leaves
# it (so two sweepers out of step do not both compute every pass).
FRESH_FOR = timedelta(minutes=4)
# A claim lapses after this (its worker died mid-computation); a cold 24-hour window on a
# loaded machine took about a minute.
CLAIM_FOR = timedelta(minutes=10)
# Read the whole window again this often: catches a change no event announced.
FULL_EVERY = timedelta(hours=1)
# Re-read changes from this long before the last pass: a change committed late (its time
# set when its transaction began) is not missed.
MARGIN = timedelta(minutes=2)

_CREATED = "SELECT id FROM ticket WHERE created_at >= ? AND created_at < ?"
# By the events' time index alone (DISTINCT or a join made SQLite walk all 6 M events by
# ticket: 9 s); events of tickets older than the window are dropped when their rows are read.
_EVENTS = "SELECT ticket_id FROM ticket_event WHERE created_at >= ?"


@dataclass
class LiveWindow:
    """One process's running view of a sliding window: tickets by id, and the clustering
    memo. Only the process computing the snapshot keeps one."""

    hours: float
    tickets: dict[int, RadarTicket] = field(default_factory=dict)
    end: datetime | None = None
    full_at: datetime | None = None
    fingerprint: str = ""
    memo: ClusterMemo = field(default_factory=ClusterMemo)
    reread: int = 0  # rows read in the last pass (for the bench)

    async def read(self, *, now: datetime, gazetteer: Gazetteer | None) -> list[RadarTicket]:
        """The unmerged tickets of [now − hours, now), as the radar sees them."""
        start = now - timedelta(hours=self.hours)
        fingerprint = data_fingerprint(gazetteer)
        if (
            self.end is None
            or self.full_at is None
            or fingerprint != self.fingerprint
            or now < self.end
            or now - self.full_at >= FULL_EVERY
        ):
            rows = await window_rows(start=start, end=now)
            views = await ticket_views(rows, gazetteer)
            self.tickets = {r["id"]: v for r, v in zip(rows, views, strict=True)}
            self.full_at, self.reread = now, len(rows)
        else:
            ids = await _changed_ids(since=self.end - MARGIN, until=now)
            rows = await rows_by_id(ids, created_from=start)
            views = await ticket_views(rows, gazetteer)
            for row, view in zip(rows, views, strict=True):
                if row["merged_into_id"] is None and start <= view.created_at < now:
                    self.tickets[row["id"]] = view
                else:
                    self.tickets.pop(row["id"], None)
            self.reread = len(rows)
        self.tickets = {i: t for i, t in self.tickets.items() if t.created_at >= start}
        self.end, self.fingerprint = now, fingerprint
        return list(self.tickets.values())


async def _changed_ids(*, since: datetime, until: datetime) -> list[int]:
    conn = Ticket._meta.db
    dialect = conn.capabilities.dialect
    _, created = await conn.execute_query(
        placeholders(dialect, _CREATED), [stored_time(dialect, since), stored_time(dialect, until)]
    )
    _, changed = await conn.execute_query(
        placeholders(dialect, _EVENTS), [stored_time(dialect, since)]
    )
    return sorted({int(r["id"]) for r in created} | {int(r["ticket_id"]) for r in changed})


# This process's live window: (the database client it reads, its length in hours, it). The
# client is held, so a window is never taken for another database's (tests open one each).
_live: list[tuple[object, float, LiveWindow]] = []


def live_window(hours: float) -> LiveWindow:
    """This process's running view of the window of `hours` (kept between passes)."""
    conn = Ticket._meta.db
    if _live and _live[0][0] is conn and _live[0][1] == hours:
        return _live[0][2]
    _live[:] = [(conn, hours, LiveWindow(hours=hours))]  # a changed window_hours: start over
    return _live[0][2]


def owner_name() -> str:
    """Who claims: this host and process (shown nowhere; for the logs and the row)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True)
class Snapshot:
    """A stored default window: its clusters as the API gives them, hottest first."""

    start: datetime
    end: datetime  # when it was computed
    tickets: int
    clusters: list[dict[str, Any]]
    seconds: float

    def stale(self, now: datetime) -> bool:
        """Not refreshed for STALE_AFTER: the background worker may not be running."""
        return now - self.end > STALE_AFTER


def covers(snapshot: Snapshot, start: datetime, end: datetime) -> bool:
    """Whether a window asked for is the stored one (to the minute, as the page's form
    sends it back): then the stored result answers."""
    minute = timedelta(minutes=1)
    return abs(snapshot.start - start) < minute and abs(snapshot.end - end) < minute


async def stored(name: str = DEFAULT) -> Snapshot | None:
    """The stored window, or None before the first computation."""
    row = await RadarSnapshot.filter(name=name).first()
    if row is None or row.window_to is None or row.window_from is None:
        return None
    return Snapshot(
        start=when(row.window_from),
        end=when(row.window_to),
        tickets=row.tickets,
        clusters=list(row.clusters or []),
        seconds=row.seconds,
    )


async def claim(*, now: datetime, owner: str, name: str = DEFAULT) -> bool:
    """Take the row for one computation: not claimed by a live worker, not computed lately."""
    try:
        await RadarSnapshot.get_or_create(name=name)
    except IntegrityError:
        pass  # another sweeper created it a moment ago
    taken = await RadarSnapshot.filter(
        Q(name=name)
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        & (Q(window_to__isnull=True) | Q(window_to__lte=now - FRESH_FOR))
    ).update(claimed_until=now + CLAIM_FOR, claimed_by=owner)
    return bool(taken)


async def compute_window(
    *, now: datetime, config: RadarConfig, gazetteer: Gazetteer | None
) -> tuple[RadarRun, list[RadarTicket]]:
    """The default window ending `now`, incrementally from this process's last pass."""
    live = live_window(config.window_hours)
    start = now - timedelta(hours=config.window_hours)
    tickets = await live.read(now=now, gazetteer=gazetteer)
    baseline = await baseline_counts(start=start, days=config.settings.baseline_days)
    # In a thread: clustering 44,000 tickets is seconds of pure Python, and with RUN_SWEEPER
    # the worker shares its event loop with the web requests of this process.
    clusters = await asyncio.to_thread(
        find_clusters,
        tickets,
        start=start,
        end=now,
        baseline=baseline,
        settings=config.settings,
        memo=live.memo,
    )
    return RadarRun(start=start, end=now, tickets=len(tickets), clusters=clusters), tickets


async def refresh_snapshot(
    *, now: datetime, config: RadarConfig, gazetteer: Gazetteer | None, owner: str
) -> list[RadarTicket] | None:
    """Compute and store the default window if this worker claims it; its tickets (for the
    alert scan, a part of them), or None when another worker has it or had it lately."""
    if not await claim(now=now, owner=owner):
        return None
    began = time.monotonic()
    try:
        run, tickets = await compute_window(now=now, config=config, gazetteer=gazetteer)
    except BaseException:
        await RadarSnapshot.filter(name=DEFAULT, claimed_by=owner).update(claimed_until=None)
        raise
    seconds = round(time.monotonic() - began, 2)
    live = live_window(config.window_hours)
    stored_now = await RadarSnapshot.filter(name=DEFAULT, claimed_by=owner).update(
        window_from=run.start,
        window_to=run.end,
        tickets=run.tickets,
        clusters=[cluster_json(c) for c in run.clusters],
        seconds=seconds,
        runs=F("runs") + 1,
        claimed_until=None,
        claimed_by="",
    )
    log.info(
        "radar snapshot: %d tickets, %d clusters in %.1f s (%d rows read, %d blocks re-linked)%s",
        run.tickets,
        len(run.clusters),
        seconds,
        live.reread,
        live.memo.linked_blocks,
        "" if stored_now else " — claim lost, not stored",
    )
    return tickets


async def statuses_among(numbers: list[str], *, statuses: list[str]) -> dict[str, str]:
    """Which of these tickets are now in one of `statuses` (number → status): a stored
    cluster's members merged or closed since it was computed."""
    found: dict[str, str] = {}
    for i in range(0, len(numbers), 500):
        rows = await Ticket.filter(
            number__in=numbers[i : i + 500], status__in=statuses
        ).values_list("number", "status")
        found.update({str(n): str(s) for n, s in rows})
    return found
