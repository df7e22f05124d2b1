"""Calls the switch reports (CTI): the call log, who answered, missed calls and 接通率.

Events may arrive out of order or repeated (a PBX retries): each one finds or creates its call
by `callId` and only moves it forward — an answered call stays answered, a call's first
answer time is kept. A call hung up before anyone answered is missed.

The operator's console learns of its own answered calls by asking `answered_since` (the web
layer's event stream polls it): through the database, so it works whichever web worker or
machine the switch's request reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from hotline.channels.cti import ANSWER, HANGUP, CtiEvent
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.models import Call, Ticket, User
from hotline.services.tickets import local_midnight

ANSWERING_ROLES = (Role.OPERATOR.value, Role.SUPERVISOR.value)


async def record_event(event: CtiEvent, *, now: datetime) -> Call:
    """Apply one switch event to its call (created by whichever event comes first)."""
    call = await Call.get_or_none(call_id=event.call_id)
    if call is None:
        try:
            call = await Call.create(
                call_id=event.call_id,
                direction=event.direction,
                from_number=event.from_number,
                to_number=event.to_number,
                queue=event.queue,
                user_names=list(event.users),
                state="ringing",
                started_at=now,
            )
        except IntegrityError:  # the same event twice at once: the other one created it
            call = await Call.get(call_id=event.call_id)
    updates: dict[str, Any] = {}
    if event.queue and not call.queue:
        updates["queue"] = event.queue
    if event.users and not call.user_names:
        updates["user_names"] = list(event.users)
    if event.event == ANSWER and call.answered_at is None:
        updates.update(state="answered", answered_at=now)
        updates["answered_by_id"] = await _answering_user(event)
    elif event.event == HANGUP and call.ended_at is None:
        updates.update(ended_at=now, cause=event.cause)
        updates["state"] = "ended" if call.answered_at is not None else "missed"
    if updates:
        await Call.filter(id=call.id).update(**updates)
        for key, value in updates.items():
            setattr(call, key, value)
    return call


async def _answering_user(event: CtiEvent) -> int | None:
    """The staff member who took the call: `answeringNumber` as username, e-mail or account id,
    else the one real name in `user[]` (display name); only operators and supervisors."""
    staff = User.filter(active=True, role__in=ANSWERING_ROLES)
    value = event.answering
    if value:
        match = Q(username=value) | Q(email=value)
        if value.isdigit() and int(value) < 2**31:
            match |= Q(id=int(value))
        found = await staff.filter(match).first()
        if found is not None:
            return found.id
    if len(event.users) == 1:
        found = await staff.filter(display_name=event.users[0]).first()
        if found is not None:
            return found.id
    return None


async def answered_since(user_id: int, since: datetime) -> list[Call]:
    """Calls this user answered after `since` and took no ticket on yet, oldest first (what
    the console pops: after 受理 the console reloads, and the same call must not pop again)."""
    calls = list(
        await Call.filter(answered_by_id=user_id, answered_at__gt=since).order_by("answered_at")
    )
    if not calls:
        return []
    taken = set(
        await Ticket.filter(call_id__in=[c.call_id for c in calls]).values_list(
            "call_id", flat=True
        )
    )
    return [c for c in calls if c.call_id not in taken]


async def call_of(call_id: str) -> Call | None:
    """The call with the switch's id, if it was reported."""
    return await Call.get_or_none(call_id=call_id)


@dataclass
class CallLog:
    """One page of the call log."""

    items: list[Call]
    total: int
    names: dict[int, str] = field(default_factory=dict)  # user id → display name


async def call_log(
    *, day_from: date, day_to: date, missed_only: bool, page: int, per_page: int
) -> CallLog:
    """Calls started in [day_from, day_to] (Beijing days), newest first."""
    query = Call.filter(
        started_at__gte=local_midnight(day_from),
        started_at__lt=local_midnight(day_to + timedelta(days=1)),
    )
    if missed_only:
        query = query.filter(state="missed")
    total = await query.count()
    items = list(await query.order_by("-started_at").offset((page - 1) * per_page).limit(per_page))
    ids = {i for c in items for i in (c.answered_by_id, c.called_back_by_id) if i}
    names = dict(await User.filter(id__in=list(ids)).values_list("id", "display_name"))
    return CallLog(items=items, total=total, names={k: str(v) for k, v in names.items()})


async def mark_called_back(*, call_id: int, user_id: int, now: datetime) -> Call:
    """Record that a missed call was returned (once: the first operator's)."""
    call = await Call.get_or_none(id=call_id)
    if call is None or call.state != "missed":
        raise HotlineError("没有这个未接来电", status=404, code="not_found")
    if call.called_back_at is None:
        await Call.filter(id=call.id, called_back_at__isnull=True).update(
            called_back_at=now, called_back_by_id=user_id
        )
        call = await Call.get(id=call.id)
    return call


@dataclass(frozen=True)
class CallStats:
    """接通率 and waiting of inbound calls started in a period."""

    offered: int
    answered: int
    missed: int
    avg_wait_s: float | None
    by_hour: list[dict[str, Any]]
    by_day: list[dict[str, Any]]
    by_queue: list[dict[str, Any]]

    @property
    def answer_rate(self) -> float | None:
        """Answered ÷ offered (None without calls)."""
        return round(self.answered / self.offered, 4) if self.offered else None


def _share(answered: int, offered: int) -> float | None:
    return round(answered / offered, 4) if offered else None


async def call_stats(*, day_from: date, day_to: date) -> CallStats:
    """The period's figures, aggregated in the database (a year of calls is millions)."""
    conn = Call._meta.db
    postgres = conn.capabilities.dialect == "postgres"
    start, end = local_midnight(day_from), local_midnight(day_to + timedelta(days=1))
    if postgres:
        local = "(started_at AT TIME ZONE 'Asia/Shanghai')"
        hour, day = f"EXTRACT(HOUR FROM {local})::int", f"to_char({local}, 'YYYY-MM-DD')"
        wait = "EXTRACT(EPOCH FROM (answered_at - started_at))"
        where = "direction = 'in' AND started_at >= $1 AND started_at < $2"
    else:
        hour = "CAST(strftime('%H', started_at, '+8 hours') AS INTEGER)"
        day = "strftime('%Y-%m-%d', started_at, '+8 hours')"
        wait = "(julianday(answered_at) - julianday(started_at)) * 86400.0"
        where = "direction = 'in' AND started_at >= ? AND started_at < ?"
    counts = (
        "COUNT(*) AS offered, COUNT(answered_at) AS answered,"
        " SUM(CASE WHEN state = 'missed' THEN 1 ELSE 0 END) AS missed"
    )
    params = [start, end]
    total = (
        await conn.execute_query_dict(
            f"SELECT {counts}, AVG({wait}) AS wait FROM phone_call WHERE {where}", params
        )
    )[0]

    async def grouped(key: str) -> list[dict[str, Any]]:
        rows = await conn.execute_query_dict(
            f"SELECT {key} AS k, {counts} FROM phone_call WHERE {where} GROUP BY 1 ORDER BY 1",
            params,
        )
        return [
            {
                "offered": int(r["offered"]),
                "answered": int(r["answered"]),
                "missed": int(r["missed"] or 0),
                "answer_rate": _share(int(r["answered"]), int(r["offered"])),
                "key": r["k"],
            }
            for r in rows
        ]

    by_hour = {r["key"]: r for r in await grouped(hour)}
    hours = [
        {"hour": h, **{k: v for k, v in by_hour.get(h, _empty()).items() if k != "key"}}
        for h in range(24)
    ]
    days = [
        {"day": r["key"], **{k: v for k, v in r.items() if k != "key"}} for r in await grouped(day)
    ]
    queues = [
        {"queue": r["key"] or "（未分队列）", **{k: v for k, v in r.items() if k != "key"}}
        for r in await grouped("queue")
    ]
    wait_value = total["wait"]
    return CallStats(
        offered=int(total["offered"]),
        answered=int(total["answered"]),
        missed=int(total["missed"] or 0),
        avg_wait_s=round(float(wait_value), 1) if wait_value is not None else None,
        by_hour=hours,
        by_day=days,
        by_queue=queues,
    )


def _empty() -> dict[str, Any]:
    return {"offered": 0, "answered": 0, "missed": 0, "answer_rate": None}
