"""SLA clocks on tickets: start, meet, pause, resume and extend them as actions happen."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.errors import HotlineError
from hotline.lifecycle import Action
from hotline.models import Ticket, TicketClock
from sla import clock as clocks
from sla.calendar import WorkCalendar, load_calendar
from sla.clock import Clock, ClockError
from sla.policy import Policy, PolicySet, load_policies

log = logging.getLogger("hotline.sla")


def load_sla_engine(data_dir: Path) -> SlaEngine:
    """The engine for data_dir/sla.toml and data_dir/holidays/ (ValueError names the file)."""
    return SlaEngine(
        calendar=load_calendar(data_dir), policies=load_policies(data_dir / "sla.toml")
    )


@dataclass
class SlaEngine:
    """Policies + working-day calendar, applied to a ticket's stored clocks."""

    calendar: WorkCalendar
    policies: PolicySet
    _logged_years: set[int] = field(default_factory=set)

    def policy_for(self, ticket: Ticket) -> Policy:
        """The first policy matching the ticket's kind, category, urgency and words."""
        return self.policies.match(
            kind=ticket.kind,
            category=ticket.category,
            urgency=ticket.urgency,
            topics=[ticket.title, ticket.content],
        )

    def start(self, kind: str, limit: Any, at: datetime, policy: Policy) -> Clock:
        """A new clock under `policy`; a provisional year is logged once per process."""
        clock = clocks.start(
            kind,
            limit,
            at,
            policy.warn_ratio,
            self.calendar,
            office_hours=self.policies.office_hours,
        )
        self._note_provisional(clock)
        return clock

    def _note_provisional(self, clock: Clock) -> None:
        for year in clock.provisional_years:
            if year not in self._logged_years:
                self._logged_years.add(year)
                log.warning(
                    "没有 %s 年的节假日安排：该年的时限按周一至周五计算并标记为暂定；"
                    "发布后放入 data/holidays/%s.toml 并运行 python main.py recompute-deadlines",
                    year,
                    year,
                )

    async def on_action(
        self,
        conn: BaseDBAsyncClient,
        *,
        ticket: Ticket,
        action: Action,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        """Move the ticket's clocks for one action, inside the action's transaction."""
        policy = self.policy_for(ticket)
        await self._apply(conn, ticket, action, payload, now, policy)
        await sync_next_due(conn, ticket.id)

    async def _apply(
        self,
        conn: BaseDBAsyncClient,
        ticket: Ticket,
        action: Action,
        payload: dict[str, Any],
        now: datetime,
        policy: Policy,
    ) -> None:
        if action == Action.DISPATCH:
            await self._open(conn, ticket, "receipt", policy.receipt, now, policy)
            await self._open(conn, ticket, "feedback", policy.feedback, now, policy)
        elif action == Action.REDISPATCH:
            # A wrong dispatch restarts the receipt clock only: the citizen's wait goes on.
            await self._open(conn, ticket, "receipt", policy.receipt, now, policy)
        elif action == Action.SIGN:
            await self._meet(conn, ticket, "receipt", now)
            if policy.mediation is not None:
                await self._open(conn, ticket, "mediation", policy.mediation, now, policy)
        elif action == Action.MEDIATE:
            await self._meet(conn, ticket, "mediation", now)
        elif action == Action.PAUSE:
            if not policy.pause_allowed:
                raise HotlineError(
                    f"「{policy.name}」类诉求不允许挂起", status=422, code="pause_not_allowed"
                )
            await self._update(
                conn, ticket, ("feedback", "mediation"), lambda c: clocks.pause(c, now)
            )
        elif action == Action.RESUME:
            await self._update(
                conn,
                ticket,
                ("feedback", "mediation"),
                lambda c: clocks.resume(
                    c, now, self.calendar, office_hours=self.policies.office_hours
                ),
            )
        elif action == Action.REQUEST_EXTENSION:
            self._extension(policy, int(payload["days"]))
        elif action == Action.APPROVE_EXTENSION:
            extra = self._extension(policy, int(payload["days"]))
            payload["extension"] = extra
            await self._update(
                conn,
                ticket,
                ("feedback",),
                lambda c: clocks.extend(
                    c,
                    extra,
                    self.calendar,
                    office_hours=self.policies.office_hours,
                    max_extensions=policy.max_extensions,
                ),
            )
        elif action == Action.REPLY:
            await self._meet(conn, ticket, "feedback", now)
            await self._meet(conn, ticket, "mediation", now)
        elif action == Action.REOPEN:
            # 重办 starts a new feedback clock for the second round of handling.
            await self._open(conn, ticket, "feedback", policy.feedback, now, policy)
        elif action in (Action.MERGE, Action.ANSWER, Action.CLOSE):
            await (
                TicketClock.filter(ticket_id=ticket.id, is_open=True)
                .using_db(conn)
                .update(current=False, is_open=False)
            )

    def _extension(self, policy: Policy, days: int) -> str:
        """The extra limit for `days` of extension under `policy`, or 422 if not allowed."""
        if not policy.extension_allowed or policy.extension is None:
            raise HotlineError(
                f"「{policy.name}」类诉求不允许延期", status=422, code="extension_not_allowed"
            )
        limit = policy.extension
        if limit.unit.value not in ("wd", "d"):
            return str(limit)  # hour-based extensions are granted whole
        if days > limit.amount:
            unit = "个工作日" if limit.unit.value == "wd" else "天"
            raise HotlineError(
                f"「{policy.name}」每次最多延期 {limit.amount} {unit}",
                status=422,
                code="extension_too_long",
            )
        return f"{days}{limit.unit.value}"

    async def _open(
        self,
        conn: BaseDBAsyncClient,
        ticket: Ticket,
        kind: str,
        limit: Any,
        now: datetime,
        policy: Policy,
    ) -> None:
        previous = (
            await TicketClock.filter(ticket_id=ticket.id, kind=kind)
            .using_db(conn)
            .order_by("-generation")
            .first()
        )
        await (
            TicketClock.filter(ticket_id=ticket.id, kind=kind, current=True)
            .using_db(conn)
            .update(current=False, is_open=False)
        )
        clock = self.start(kind, limit, now, policy)
        await TicketClock.create(
            using_db=conn,
            ticket_id=ticket.id,
            kind=kind,
            generation=(previous.generation + 1) if previous else 1,
            current=True,
            **_columns(clock),
            detail={"clock": clock.to_dict(), "policy": policy.name},
        )

    async def _meet(
        self, conn: BaseDBAsyncClient, ticket: Ticket, kind: str, now: datetime
    ) -> None:
        await self._update(conn, ticket, (kind,), lambda c: clocks.meet(c, now))

    async def _update(
        self, conn: BaseDBAsyncClient, ticket: Ticket, kinds: tuple[str, ...], change: Any
    ) -> None:
        rows = await TicketClock.filter(
            ticket_id=ticket.id, kind__in=list(kinds), is_open=True
        ).using_db(conn)
        for row in rows:
            try:
                clock = change(Clock.from_dict(row.detail["clock"]))
            except ClockError as exc:
                raise HotlineError(str(exc), status=409, code="clock_error") from exc
            self._note_provisional(clock)
            await (
                TicketClock.filter(id=row.id)
                .using_db(conn)
                .update(**_columns(clock), detail={**row.detail, "clock": clock.to_dict()})
            )

    def recompute(self, data: dict[str, Any]) -> Clock:
        """Replay a stored clock on today's calendar (after a holiday file arrives)."""
        return clocks.recompute(
            Clock.from_dict(data), self.calendar, office_hours=self.policies.office_hours
        )


def _columns(clock: Clock) -> dict[str, Any]:
    """The indexed columns mirrored from a clock."""
    return {
        "state": clock.state.value,
        "limit": str(clock.limit),
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "provisional": clock.provisional,
        "met_at": clock.met_at,
        "is_open": clock.met_at is None,
    }


async def sync_next_due(conn: BaseDBAsyncClient | None, ticket_id: int) -> None:
    """Mirror the earliest due time of the ticket's running clocks onto the ticket row."""
    rows = (
        await TicketClock.filter(ticket_id=ticket_id, is_open=True)
        .exclude(state="paused")
        .using_db(conn)
        .values_list("due_at", flat=True)
    )
    dues = [d for d in rows if d is not None]
    await Ticket.filter(id=ticket_id).using_db(conn).update(next_due_at=min(dues) if dues else None)


async def recompute_provisional(engine: SlaEngine) -> tuple[int, int]:
    """Recompute every open provisional clock; returns (recomputed, still provisional)."""
    done = still = 0
    for row in await TicketClock.filter(provisional=True, is_open=True):
        clock = engine.recompute(row.detail["clock"])
        await TicketClock.filter(id=row.id).update(
            **_columns(clock), detail={**row.detail, "clock": clock.to_dict()}
        )
        await sync_next_due(None, row.ticket_id)
        done += 1
        still += int(clock.provisional)
    return done, still
