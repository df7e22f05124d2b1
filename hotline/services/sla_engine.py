"""SLA clocks on tickets: the pure plan of `sla.effects`, loaded from and stored to rows.

A clock is stored once: the columns hold what is indexed or shown (state, limit, start,
due, warning point, met) and `detail` only the history the columns lack (pauses,
extensions, warning ratio, provisional years) plus the policy's name. `clock_of` and
`clock_columns` are the two directions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ActionSpec
from hotline.domain.models import Ticket, TicketClock
from hotline.services import worklist
from sla import clock as clocks
from sla.calendar import WorkCalendar, load_calendar
from sla.clock import Clock, ClockError, ClockKind
from sla.effects import (
    NOT_NEXT_DUE,
    ClockPlan,
    ExtensionsUsedUp,
    PolicyRefusal,
    next_due,
    plan,
)
from sla.limits import Limit, compute_due
from sla.policy import Policy, PolicySet, load_policies

log = logging.getLogger("hotline.sla")

# Clock fields that have no column of their own.
HISTORY_FIELDS = ("warn_ratio", "provisional_years", "paused_since", "pauses", "extensions")


def load_sla_engine(data_dir: Path) -> SlaEngine:
    """The engine for data_dir/sla.toml and data_dir/holidays/ (ValueError names the file)."""
    return SlaEngine(
        calendar=load_calendar(data_dir), policies=load_policies(data_dir / "sla.toml")
    )


def clock_of(row: TicketClock) -> Clock:
    """The clock a row stores: its columns plus the history kept in `detail`."""
    detail = row.detail or {}
    # Rows written before clocks had one record kept a full copy under "clock".
    history = detail.get("clock") or detail
    return Clock.from_dict(
        {
            **{k: history[k] for k in HISTORY_FIELDS if k in history},
            "kind": row.kind,
            "limit": row.limit,
            "started_at": row.started_at,
            "due_at": row.due_at,
            "warn_at": row.warn_at,
            "provisional": row.provisional,
            "state": row.state,
            "met_at": row.met_at,
        }
    )


def clock_columns(clock: Clock, policy_name: str | None) -> dict[str, Any]:
    """The row values of a clock (columns, and the history in `detail`)."""
    data = clock.to_dict()
    return {
        "state": clock.state.value,
        "limit": str(clock.limit),
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "provisional": clock.provisional,
        "met_at": clock.met_at,
        "is_open": clock.met_at is None,
        "detail": {**{k: data[k] for k in HISTORY_FIELDS}, "policy": policy_name},
    }


@dataclass
class ClockChange:
    """What an action does to a ticket's clocks, ready to be written."""

    plan: ClockPlan
    policy: Policy
    rows: list[TicketClock]  # every clock row of the ticket before the action
    next_due_at: datetime | None

    def payload(self) -> dict[str, Any]:
        """What the event log records of it (the extension granted)."""
        return {"extension": str(self.plan.extension)} if self.plan.extension else {}


@dataclass
class SlaEngine:
    """Policies + working-day calendar, applied to a ticket's stored clocks."""

    calendar: WorkCalendar
    policies: PolicySet
    _logged_years: set[int] = field(default_factory=set)

    def policy_for(self, ticket: Ticket, *, category: str | None = None) -> Policy:
        """The first policy matching the ticket's kind, category, urgency and words."""
        return self.policies.match(
            kind=ticket.kind,
            category=category or ticket.category,
            urgency=ticket.urgency,
            topics=[ticket.title, ticket.content],
        )

    def change(
        self,
        spec: ActionSpec,
        *,
        ticket: Ticket,
        rows: list[TicketClock],
        payload: dict[str, Any],
        category: str | None,
        now: datetime,
    ) -> ClockChange | None:
        """Plan an action's clock effects; refuse with 409 (clock state) or 422 (policy)."""
        if not any(item.applies(payload) for item in spec.clocks):
            return None  # e.g. 督办 without a limit: the clocks stay as they are
        policy = self.policy_for(ticket, category=category)
        open_clocks = {ClockKind(r.kind): clock_of(r) for r in rows if r.is_open}
        try:
            result = plan(
                spec.clocks,
                open_clocks,
                policy=policy,
                now=now,
                calendar=self.calendar,
                office_hours=self.policies.office_hours,
                params=payload,
                latest={ClockKind(k): clock_of(r) for k, r in latest_rows(rows).items()},
            )
        except PolicyRefusal as exc:
            raise HotlineError(str(exc), status=422, code=exc.code) from exc
        except ExtensionsUsedUp as exc:
            raise HotlineError(str(exc), status=409, code="extension_limit_reached") from exc
        except ClockError as exc:
            raise HotlineError(str(exc), status=409, code="clock_error") from exc
        self._note_provisional(result.provisional_years)
        return ClockChange(
            plan=result,
            policy=policy,
            rows=rows,
            next_due_at=next_due(result.open_after(open_clocks)),
        )

    def due_after(self, limit: Limit | str, start: datetime) -> datetime:
        """The deadline of `limit` counted from `start` on this calendar (协办, 下派)."""
        return compute_due(start, limit, self.calendar, self.policies.office_hours).at

    def warn_point(self, ticket: Ticket, start: datetime, due: datetime) -> datetime:
        """Where a 协办/下派 deadline from `start` warns: the ticket policy's warn_ratio of
        the way, as a ticket clock does."""
        return start + (due - start) * self.policy_for(ticket).warn_ratio

    def _note_provisional(self, years: Iterable[int]) -> None:
        for year in years:
            if year not in self._logged_years:
                self._logged_years.add(year)
                log.warning(
                    "没有 %s 年的节假日安排：该年的时限标记为暂定；"
                    "发布后放入 data/holidays/%s.toml 并运行 python main.py recompute-deadlines",
                    year,
                    year,
                )

    def recompute(self, clock: Clock) -> Clock:
        """Replay a stored clock on today's calendar (after a holiday file arrives)."""
        return clocks.recompute(clock, self.calendar, office_hours=self.policies.office_hours)


def latest_rows(rows: Iterable[TicketClock]) -> dict[str, TicketClock]:
    """Each kind's latest clock row (highest generation), open or not."""
    latest: dict[str, TicketClock] = {}
    for r in rows:
        if r.kind not in latest or r.generation > latest[r.kind].generation:
            latest[r.kind] = r
    return latest


async def write_clocks(
    conn: BaseDBAsyncClient, *, ticket_id: int, change: ClockChange
) -> list[TicketClock]:
    """Store a planned change in bulk; returns the ticket's clock rows afterwards."""
    result = change.plan
    rows = list(change.rows)
    retire_kinds = {c.kind.value for c in result.started}
    stopped = {k.value for k in result.stopped}
    retire = [
        r
        for r in rows
        if r.current
        and (r.kind in retire_kinds or (r.is_open and (result.stop_all or r.kind in stopped)))
    ]
    if retire:
        await (
            TicketClock.filter(id__in=[r.id for r in retire])
            .using_db(conn)
            .update(current=False, is_open=False)
        )
        for r in retire:
            r.current = r.is_open = False
    by_kind = {r.kind: r for r in rows if r.current and r.is_open}
    for new in result.changed:
        row = by_kind[new.kind.value]
        values = clock_columns(new, (row.detail or {}).get("policy"))
        await TicketClock.filter(id=row.id).using_db(conn).update(**values)
        for key, value in values.items():
            setattr(row, key, value)
    if result.started:
        before = latest_rows(rows)
        # A restored clock keeps its escalations: its warning and breach were already sent.
        restored = {k.value for k in result.restored}
        fresh = [
            TicketClock(
                ticket_id=ticket_id,
                kind=c.kind.value,
                generation=(before[c.kind.value].generation if c.kind.value in before else 0) + 1,
                current=True,
                warned=c.kind.value in restored and before[c.kind.value].warned,
                breached=c.kind.value in restored and before[c.kind.value].breached,
                **clock_columns(c, change.policy.name),
            )
            for c in result.started
        ]
        await TicketClock.bulk_create(fresh, using_db=conn)
        rows += fresh
    return rows


async def sync_next_due(conn: BaseDBAsyncClient | None, ticket_id: int) -> None:
    """Mirror the earliest due time of the ticket's running clocks onto the ticket row."""
    rows = (
        await TicketClock.filter(ticket_id=ticket_id, is_open=True)
        .exclude(state="paused")
        .exclude(kind__in=[k.value for k in NOT_NEXT_DUE])
        .using_db(conn)
        .values_list("due_at", flat=True)
    )
    dues = [d for d in rows if d is not None]
    await Ticket.filter(id=ticket_id).using_db(conn).update(next_due_at=min(dues) if dues else None)


async def recompute_provisional(engine: SlaEngine) -> tuple[int, int]:
    """Recompute every open provisional clock; returns (recomputed, still provisional)."""
    done = still = 0
    from hotline.services.rate_rows import RATE_CLOCK_KINDS, refresh_ticket_rates

    for row in await TicketClock.filter(provisional=True, is_open=True):
        clock = engine.recompute(clock_of(row))
        async with in_transaction() as conn:
            await (
                TicketClock.filter(id=row.id)
                .using_db(conn)
                .update(**clock_columns(clock, (row.detail or {}).get("policy")))
            )
            if row.kind in RATE_CLOCK_KINDS:
                # The rate rows keep the due time an unanswered assignment is late against.
                clocks = await TicketClock.filter(ticket_id=row.ticket_id).using_db(conn)
                await refresh_ticket_rates(conn, ticket_id=row.ticket_id, clocks=clocks)
        await sync_next_due(None, row.ticket_id)
        await worklist.sync_links(None, [row.ticket_id])  # the unit lists sort on the due time
        done += 1
        still += int(clock.provisional)
    return done, still
