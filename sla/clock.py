"""SLA clocks as immutable values; every operation returns a new `Clock` and never reads the clock.

A ticket has up to three clocks: receipt (dispatch → 签收), mediation (签收 →
mediation outcome) and feedback (dispatch → reply). Each stores its deadline
(`due_at`) and warning point (`warn_at`) so the service can index them and a
sweeper can select `due_at < now`.

Rules kept here:

* ``warn_at = started_at + warn_ratio × (due_at − started_at)`` at start; every
  later move of `due_at` (resume, extension) moves `warn_at` by the same amount,
  so the warning lead time stays what it was.
* Pausing never shortens a deadline. On resume `due_at` is pushed by what the
  pause consumed, in the clock's own unit: ``h``/``d`` — the elapsed time;
  ``wh`` — the office time on working days inside the pause; ``wd`` — the
  number of working days that *began* (passed 00:00 local) during the pause.
* A clock that is met, already paused, or already past its deadline cannot be
  paused (a unit may not stop a clock it has already overrun).
* A clock met while paused keeps `paused_since` and counts as met on time.
* `recompute` replays the stored history (pauses, extensions, met) on another
  calendar, e.g. once next year's holiday file arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sla.calendar import WorkCalendar
from sla.limits import (
    DEFAULT_OFFICE_HOURS,
    Limit,
    OfficeHours,
    Unit,
    add_working_time,
    compute_due,
    local_day,
    parse_limit,
    working_time_between,
)

__all__ = [
    "Clock",
    "ClockError",
    "CLOCK_LABELS",
    "ClockKind",
    "ClockState",
    "extend",
    "meet",
    "pause",
    "recompute",
    "refresh",
    "restore",
    "resume",
    "start",
    "status_at",
]


class ClockError(ValueError):
    """An operation that does not make sense for the clock's current state."""


class ClockKind(StrEnum):
    """Which deadline a clock measures."""

    RECEIPT = "receipt"  # 签收时限: dispatch → unit signs for the ticket
    MEDIATION = "mediation"  # 调解时限: 签收 → mediation outcome
    FEEDBACK = "feedback"  # 办理/反馈时限: dispatch → reply to the complainant
    MEDIATION_NOTICE = "mediation_notice"  # 调解不成告知时限: failed mediation → both told
    REDISPATCH = "redispatch"  # 改派时限 (the centre's own): 退单 → re-dispatch
    DECISION = "decision"  # 审批时限 (the centre's own): a unit's request → the centre decides
    SUPERVISION = "supervision"  # 督办时限 (the unit's): a supervisor's shortened deadline
    CALLBACK = "callback"  # 回访时限 (the centre's own): the reply released → the callback

    @property
    def label(self) -> str:
        """The clock's Chinese name, as in 「签收」时限 (the one label table)."""
        return CLOCK_LABELS[self]

    @property
    def centre_owned(self) -> bool:
        """True for the centre's own clock: its lateness is not the unit's."""
        return self in (ClockKind.REDISPATCH, ClockKind.DECISION, ClockKind.CALLBACK)


CLOCK_LABELS: dict[ClockKind, str] = {
    ClockKind.RECEIPT: "签收",
    ClockKind.MEDIATION: "调解",
    ClockKind.FEEDBACK: "反馈",
    ClockKind.MEDIATION_NOTICE: "调解告知",
    ClockKind.REDISPATCH: "改派",
    ClockKind.DECISION: "审批",
    ClockKind.SUPERVISION: "督办",
    ClockKind.CALLBACK: "回访",
}


class ClockState(StrEnum):
    """Where a clock stands at a given instant."""

    RUNNING = "running"
    PAUSED = "paused"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class Clock:
    """One SLA clock; plain fields so it persists as a row or a JSON object."""

    kind: ClockKind
    limit: Limit
    started_at: dt.datetime
    due_at: dt.datetime
    warn_at: dt.datetime
    warn_ratio: float
    provisional: bool = False
    provisional_years: tuple[int, ...] = ()
    state: ClockState = ClockState.RUNNING
    paused_since: dt.datetime | None = None
    pauses: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    extensions: tuple[Limit, ...] = ()
    met_at: dt.datetime | None = None

    @property
    def paused_total(self) -> dt.timedelta:
        """Elapsed time spent in finished pauses."""
        return sum((end - begin for begin, end in self.pauses), dt.timedelta())

    @property
    def met_on_time(self) -> bool | None:
        """True/False once met (was it before the deadline?), None while open."""
        if self.met_at is None:
            return None
        # Pausing is only allowed before the deadline, so a clock met while paused was on time.
        return self.paused_since is not None or self.met_at <= self.due_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO 8601 strings, limits as text)."""
        return {
            "kind": self.kind.value,
            "limit": str(self.limit),
            "started_at": self.started_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "warn_at": self.warn_at.isoformat(),
            "warn_ratio": self.warn_ratio,
            "provisional": self.provisional,
            "provisional_years": list(self.provisional_years),
            "state": self.state.value,
            "paused_since": _iso(self.paused_since),
            "pauses": [[a.isoformat(), b.isoformat()] for a, b in self.pauses],
            "extensions": [str(x) for x in self.extensions],
            "met_at": _iso(self.met_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        """Rebuild a clock written by `to_dict` (raises `ClockError` on bad data)."""
        expected = set(cls.__dataclass_fields__)
        unknown = set(data) - expected
        if unknown:
            raise ClockError(f"unknown clock fields: {sorted(unknown)}")
        try:
            return cls(
                kind=ClockKind(data["kind"]),
                limit=parse_limit(data["limit"]),
                started_at=_dt(data["started_at"]),
                due_at=_dt(data["due_at"]),
                warn_at=_dt(data["warn_at"]),
                warn_ratio=float(data["warn_ratio"]),
                provisional=bool(data.get("provisional", False)),
                provisional_years=tuple(int(y) for y in data.get("provisional_years", ())),
                state=ClockState(data.get("state", ClockState.RUNNING)),
                paused_since=_dt(data.get("paused_since")),
                pauses=tuple((_dt(a), _dt(b)) for a, b in data.get("pauses", ())),
                extensions=tuple(parse_limit(x) for x in data.get("extensions", ())),
                met_at=_dt(data.get("met_at")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ClockError(f"bad clock data: {exc!r}") from exc


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: Any) -> Any:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return parsed


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(dt.UTC)


def _merge_years(clock: Clock, years: frozenset[int]) -> dict[str, Any]:
    merged = tuple(sorted(set(clock.provisional_years) | years))
    return {"provisional": bool(merged), "provisional_years": merged}


def start(
    kind: ClockKind | str,
    limit: Limit | str,
    at: dt.datetime,
    warn_ratio: float,
    calendar: WorkCalendar,
    *,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> Clock:
    """Start a clock of `limit` at `at`, warning at `warn_ratio` of the way to the deadline."""
    if not 0 < warn_ratio <= 1:
        raise ClockError(f"warn_ratio must be in (0, 1], got {warn_ratio}")
    limit = parse_limit(limit)
    at = _utc(at, "at")
    due = compute_due(at, limit, calendar, office_hours)
    warn_at = at + (due.at - at) * warn_ratio
    return Clock(
        kind=ClockKind(kind),
        limit=limit,
        started_at=at,
        due_at=due.at,
        warn_at=warn_at,
        warn_ratio=warn_ratio,
        provisional=due.provisional,
        provisional_years=tuple(sorted(due.provisional_years)),
    )


def pause(clock: Clock, at: dt.datetime) -> Clock:
    """Pause a running clock at `at` (挂起)."""
    return _pause(clock, at, allow_overdue=False)


def _pause(clock: Clock, at: dt.datetime, *, allow_overdue: bool) -> Clock:
    at = _utc(at, "at")
    if clock.met_at is not None:
        raise ClockError("时限已完成，不能挂起")
    if clock.paused_since is not None:
        raise ClockError("时限已处于挂起状态")
    last = clock.pauses[-1][1] if clock.pauses else clock.started_at
    if at < last:
        raise ClockError(f"挂起时间 {at.isoformat()} 早于时限开始或上次恢复时间 {last.isoformat()}")
    if at >= clock.due_at and not allow_overdue:
        # Only the centre's approval pauses a clock: it is told what to do instead.
        raise ClockError("时限已超期，不能挂起；请选择「不同意挂起」并写明理由，由单位继续办理")
    return replace(clock, paused_since=at, state=ClockState.PAUSED)


def resume(
    clock: Clock,
    at: dt.datetime,
    calendar: WorkCalendar,
    *,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> Clock:
    """Resume a paused clock, pushing due_at and warn_at by what the pause consumed."""
    at = _utc(at, "at")
    since = clock.paused_since
    if since is None:
        raise ClockError("时限未挂起，无需恢复")
    if at < since:
        raise ClockError(f"恢复时间 {at.isoformat()} 早于挂起时间 {since.isoformat()}")
    unit = clock.limit.unit
    years: frozenset[int] = frozenset()
    if unit is Unit.WORKHOURS:
        spent, years = working_time_between(since, at, calendar, office_hours)
        new_due, more = add_working_time(clock.due_at, spent, calendar, office_hours)
        years |= more
    elif unit is Unit.WORKDAYS:
        tz = office_hours.tz
        days, years = calendar.workdays_between(local_day(since, tz), local_day(at, tz))
        due = compute_due(clock.due_at, Limit(days, Unit.WORKDAYS), calendar, office_hours)
        new_due, years = due.at, years | due.provisional_years
    else:
        new_due = clock.due_at + (at - since)
    shift = new_due - clock.due_at
    moved = replace(
        clock,
        due_at=new_due,
        warn_at=clock.warn_at + shift,
        paused_since=None,
        pauses=(*clock.pauses, (since, at)),
        **_merge_years(clock, years),
    )
    return replace(moved, state=status_at(moved, at))


def extend(
    clock: Clock,
    extra_limit: Limit | str,
    calendar: WorkCalendar,
    *,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    max_extensions: int | None = None,
) -> Clock:
    """Grant an approved extension (延期): due_at moves by `extra_limit` from the current due."""
    extra = parse_limit(extra_limit)
    if clock.met_at is not None:
        raise ClockError("时限已完成，不能延期")
    if extra.amount == 0:
        raise ClockError("延期时长须大于 0")
    if max_extensions is not None and len(clock.extensions) >= max_extensions:
        raise ClockError(f"延期次数已达上限（{max_extensions} 次）")
    due = compute_due(clock.due_at, extra, calendar, office_hours)
    shift = due.at - clock.due_at
    return replace(
        clock,
        due_at=due.at,
        warn_at=clock.warn_at + shift,
        extensions=(*clock.extensions, extra),
        **_merge_years(clock, due.provisional_years),
    )


def meet(clock: Clock, at: dt.datetime) -> Clock:
    """Stop the clock because its target happened at `at` (签收 / 调解结果 / 回复)."""
    at = _utc(at, "at")
    if clock.met_at is not None:
        raise ClockError("时限已完成")
    if at < clock.started_at:
        raise ClockError(f"完成时间 {at.isoformat()} 早于时限开始 {clock.started_at.isoformat()}")
    # A clock met while paused keeps `paused_since`: it was stopped when met, so it is on time.
    return replace(clock, met_at=at, state=ClockState.MET)


def restore(clock: Clock, now: dt.datetime) -> Clock:
    """The clock open again with its own start and deadline, as if it had never been met or
    stopped (驳回退单, an answer returned by review): the time in between counts too."""
    now = _utc(now, "now")
    back = replace(clock, met_at=None, paused_since=None, state=ClockState.RUNNING)
    return replace(back, state=status_at(back, now))


def status_at(clock: Clock, now: dt.datetime) -> ClockState:
    """The clock's state at `now`: met, paused, breached, warning or running."""
    now = _utc(now, "now")
    if clock.met_at is not None:
        return ClockState.MET
    if clock.paused_since is not None:
        return ClockState.PAUSED
    if now >= clock.due_at:
        return ClockState.BREACHED
    if now >= clock.warn_at:
        return ClockState.WARNING
    return ClockState.RUNNING


def refresh(clock: Clock, now: dt.datetime) -> Clock:
    """The clock with its stored `state` brought up to date for `now` (for the sweeper)."""
    return replace(clock, state=status_at(clock, now))


def recompute(
    clock: Clock,
    calendar: WorkCalendar,
    *,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> Clock:
    """Replay a clock's history (start, pauses, extensions, met) on `calendar` (a new year file)."""
    oh = office_hours
    new = start(
        clock.kind, clock.limit, clock.started_at, clock.warn_ratio, calendar, office_hours=oh
    )
    for begin, end in clock.pauses:
        # The pause was legal when it happened; a new calendar must not turn it into an error.
        new = resume(_pause(new, begin, allow_overdue=True), end, calendar, office_hours=oh)
    for extra in clock.extensions:
        new = extend(new, extra, calendar, office_hours=oh)
    if clock.paused_since is not None:
        new = _pause(new, clock.paused_since, allow_overdue=True)
    if clock.met_at is not None:
        new = meet(new, clock.met_at)
    return new


def overdue_text(late: dt.timedelta) -> str:
    """How late a clock is, as a supervisor reads it: 超时 2天3小时 / 超时 3小时5分."""
    late = max(late, dt.timedelta(0))
    days, seconds = late.days, late.seconds
    hours = seconds // 3600
    return f"超时 {days}天{hours}小时" if days else f"超时 {hours}小时{(seconds % 3600) // 60}分"
