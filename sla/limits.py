"""Time limits (`2h`, `7d`, `3wd`, `8wh`) and the pure arithmetic that turns them into deadlines.

Conventions (all pure; `now` is never read):

* Inputs may be in any time zone; results are in UTC. Local day boundaries and
  office hours are taken in the office-hours time zone (Asia/Shanghai by default).
* ``Nh`` — N calendar hours of elapsed time.
* ``Nd`` — N calendar days: the same local wall-clock time N days later.
* ``Nwd`` — N working days. The start day is not counted; the deadline is the
  end (24:00 local, i.e. 00:00 of the following day) of the N-th working day
  after the start day. Example: dispatched Wed 30 Sep 2026 16:00, ``3wd`` → the
  working days after are Thu 8 Oct, Fri 9 Oct, Sat 10 Oct (make-up day), so the
  deadline is 11 Oct 2026 00:00 +08:00. A start at exactly 00:00 local counts
  as the end of the previous day, so that adding limits composes
  (``due(due(s, a), b) == due(s, a + b)``).
* ``Nwh`` — N working hours: only time inside office hours on working days
  counts. A deadline that is reached exactly at the end of a period is that
  end (17:30), not the next morning.

A deadline that depended on a year without a published holiday schedule is
marked provisional (`Due.provisional`, with the years in `Due.provisional_years`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from sla.calendar import WorkCalendar

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "DEFAULT_TZ",
    "Due",
    "Limit",
    "LimitError",
    "OfficeHours",
    "Unit",
    "add_working_time",
    "compute_due",
    "limit_words",
    "local_day",
    "parse_limit",
    "working_time_between",
]

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
_LIMIT = re.compile(r"^\s*(\d+)\s*(wd|wh|h|d)\s*$")
_MIDNIGHT = dt.time(0, 0)


class LimitError(ValueError):
    """A limit string or office-hours setting is malformed."""


class Unit(StrEnum):
    """Units a limit can be expressed in."""

    HOURS = "h"
    DAYS = "d"
    WORKDAYS = "wd"
    WORKHOURS = "wh"

    @property
    def is_working(self) -> bool:
        """True for units that depend on the working calendar."""
        return self in (Unit.WORKDAYS, Unit.WORKHOURS)


@dataclass(frozen=True)
class Limit:
    """An amount of time in one unit, e.g. ``Limit(3, Unit.WORKDAYS)`` for ``3wd``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or self.amount < 0:
            raise LimitError(f"时限数值须为非负整数：{self.amount!r}")
        object.__setattr__(self, "unit", Unit(self.unit))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_limit(text: str | Limit) -> Limit:
    """Parse ``2h`` / ``7d`` / ``3wd`` / ``8wh`` into a `Limit` (raises `LimitError`)."""
    if isinstance(text, Limit):
        return text
    m = _LIMIT.match(text) if isinstance(text, str) else None
    if not m:
        raise LimitError(
            f"无效时限 {text!r}：应为 正整数+单位，"
            "如 2h（小时）、7d（自然日）、3wd（工作日）、8wh（工作小时）"
        )
    amount = int(m.group(1))
    if amount == 0:
        raise LimitError(f"无效时限 {text!r}：数值须大于 0")
    return Limit(amount, Unit(m.group(2)))


# How people read a limit: 24h → 24小时, 7d → 7天, 3wd → 3个工作日, 8wh → 8个工作小时.
UNIT_WORDS = {
    Unit.HOURS: "小时",
    Unit.DAYS: "天",
    Unit.WORKDAYS: "个工作日",
    Unit.WORKHOURS: "个工作小时",
}


def limit_words(limit: str | Limit) -> str:
    """A limit in words for pages and print-outs: ``3wd`` → ``3个工作日`` (one formatter)."""
    parsed = parse_limit(limit)
    return f"{parsed.amount}{UNIT_WORDS[parsed.unit]}"


@dataclass(frozen=True)
class OfficeHours:
    """Office periods of a working day, in local time of `tz`."""

    periods: tuple[tuple[dt.time, dt.time], ...]
    tz: dt.tzinfo = DEFAULT_TZ

    def __post_init__(self) -> None:
        if not self.periods:
            raise LimitError("办公时间不能为空")
        prev_end: dt.time | None = None
        for start, end in self.periods:
            if not start < end:
                raise LimitError(f"办公时段 {start:%H:%M}-{end:%H:%M} 的开始须早于结束")
            if prev_end is not None and start < prev_end:
                raise LimitError(f"办公时段 {start:%H:%M}-{end:%H:%M} 与前一时段重叠或未按时间排序")
            prev_end = end

    @classmethod
    def parse(cls, periods: Iterable[str], tz: str | dt.tzinfo = DEFAULT_TZ) -> OfficeHours:
        """Build from strings such as ``["08:30-12:00", "13:30-17:30"]`` and a zone name."""
        parsed = []
        for text in periods:
            m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", str(text))
            if not m:
                raise LimitError(f"无效办公时段 {text!r}：应为 HH:MM-HH:MM，如 08:30-12:00")
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            try:
                start = dt.time(h1, m1)
                end = dt.time(h2, m2) if (h2, m2) != (24, 0) else dt.time.max
            except ValueError as exc:
                raise LimitError(f"无效办公时段 {text!r}：{exc}") from exc
            parsed.append((start, end))
        if isinstance(tz, str):
            try:
                tz = ZoneInfo(tz)
            except (KeyError, ValueError) as exc:
                raise LimitError(f"未知时区 {tz!r}") from exc
        return cls(tuple(parsed), tz)

    def daily(self) -> dt.timedelta:
        """Office time in one working day."""
        return sum(
            (
                _combine(dt.date(2000, 1, 3), e, dt.UTC) - _combine(dt.date(2000, 1, 3), s, dt.UTC)
                for s, e in self.periods
            ),
            dt.timedelta(),
        )


DEFAULT_OFFICE_HOURS = OfficeHours(
    ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))), DEFAULT_TZ
)


@dataclass(frozen=True)
class Due:
    """A computed deadline (UTC) and whether it rests on an unpublished holiday schedule."""

    at: dt.datetime
    provisional: bool = False
    provisional_years: frozenset[int] = frozenset()


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _combine(day: dt.date, t: dt.time, tz: dt.tzinfo) -> dt.datetime:
    # dt.time.max stands for 24:00 (an office period running to midnight).
    if t == dt.time.max:
        return dt.datetime.combine(day + dt.timedelta(days=1), _MIDNIGHT, tzinfo=tz)
    return dt.datetime.combine(day, t, tzinfo=tz)


def local_day(at: dt.datetime, tz: dt.tzinfo = DEFAULT_TZ) -> dt.date:
    """The local day `at` belongs to, where exactly 00:00 is the end of the previous day."""
    local = _aware(at, "at").astimezone(tz)
    if local.time() == _MIDNIGHT:
        return local.date() - dt.timedelta(days=1)
    return local.date()


def compute_due(
    start: dt.datetime,
    limit: Limit | str,
    calendar: WorkCalendar,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> Due:
    """The deadline of `limit` counted from `start` (see the module docstring for conventions)."""
    start = _aware(start, "start")
    limit = parse_limit(limit)
    tz = office_hours.tz
    if limit.amount == 0:
        return Due(start.astimezone(dt.UTC))
    if limit.unit is Unit.HOURS:
        return Due((start + dt.timedelta(hours=limit.amount)).astimezone(dt.UTC))
    if limit.unit is Unit.DAYS:
        local = start.astimezone(tz)
        naive = local.replace(tzinfo=None) + dt.timedelta(days=limit.amount)
        return Due(naive.replace(tzinfo=tz).astimezone(dt.UTC))
    if limit.unit is Unit.WORKDAYS:
        last, years = calendar.nth_workday_after(local_day(start, tz), limit.amount)
        at = _combine(last + dt.timedelta(days=1), _MIDNIGHT, tz)
        return Due(at.astimezone(dt.UTC), bool(years), years)
    at, years = add_working_time(start, dt.timedelta(hours=limit.amount), calendar, office_hours)
    return Due(at, bool(years), years)


def _office_segments(
    day: dt.date, calendar: WorkCalendar, office_hours: OfficeHours
) -> tuple[list[tuple[dt.datetime, dt.datetime]], bool]:
    """Office periods of `day` as aware datetimes (empty on rest days), and whether provisional."""
    info = calendar.day(day)
    if not info.is_workday:
        return [], info.provisional
    tz = office_hours.tz
    return [(_combine(day, s, tz), _combine(day, e, tz)) for s, e in office_hours.periods], (
        info.provisional
    )


def add_working_time(
    start: dt.datetime,
    amount: dt.timedelta,
    calendar: WorkCalendar,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> tuple[dt.datetime, frozenset[int]]:
    """When `amount` of office time has elapsed after `start` (UTC), and provisional years."""
    start = _aware(start, "start")
    if amount < dt.timedelta(0):
        raise ValueError("amount must not be negative")
    if amount == dt.timedelta(0):
        return start.astimezone(dt.UTC), frozenset()
    remaining = amount
    years: set[int] = set()
    day = start.astimezone(office_hours.tz).date()
    while True:
        segments, provisional = _office_segments(day, calendar, office_hours)
        if provisional:
            years.add(day.year)
        for seg_start, seg_end in segments:
            begin = max(seg_start, start)
            if begin >= seg_end:
                continue
            available = seg_end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(dt.UTC), frozenset(years)
            remaining -= available
        day += dt.timedelta(days=1)


def working_time_between(
    first: dt.datetime,
    last: dt.datetime,
    calendar: WorkCalendar,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> tuple[dt.timedelta, frozenset[int]]:
    """Office time on working days inside [first, last), and provisional years."""
    first, last = _aware(first, "first"), _aware(last, "last")
    total = dt.timedelta()
    years: set[int] = set()
    if last <= first:
        return total, frozenset()
    tz = office_hours.tz
    day, end_day = first.astimezone(tz).date(), last.astimezone(tz).date()
    while day <= end_day:
        segments, provisional = _office_segments(day, calendar, office_hours)
        if provisional:
            years.add(day.year)
        for seg_start, seg_end in segments:
            overlap = min(seg_end, last) - max(seg_start, first)
            if overlap > dt.timedelta(0):
                total += overlap
        day += dt.timedelta(days=1)
    return total, frozenset(years)
