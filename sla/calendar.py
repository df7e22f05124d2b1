"""Working-day calendar from the State Council holiday schedule, make-up days (调休) included.

Sources, later ones winning per year:

1. the `chinesecalendar` package (published schedules 2004–2026; it raises
   `NotImplementedError` for other years, so we read its tables directly);
2. `data/holidays/YYYY.toml`, one file per year as published each November
   (format in `data/holidays/README.md`); a file replaces the package's
   schedule for that year entirely.

A date in a year with no schedule is reported as *provisional*: it still knows
the statutory holidays of the law in force (see `sla.statutory`: 元旦, 春节 from
除夕, 清明, 劳动节, 端午, 中秋, 国庆, and the weekday made up for one falling on a
weekend), while the make-up working days (调休) and bridging days stay unknown, so
weekends are rest days. Nothing here raises for an unknown year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sla._toml import locate, read_toml, where
from sla.statutory import statutory_holidays

__all__ = [
    "DayInfo",
    "DayKind",
    "HolidayFileError",
    "WorkCalendar",
    "YearSchedule",
    "load_calendar",
    "load_year_file",
    "package_schedules",
]

# The package names holidays in English; users read Chinese.
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

_YEAR_FILE = re.compile(r"^(\d{4})\.toml$")
# A holiday run longer than this is almost certainly a typo in `end`.
_MAX_RANGE_DAYS = 31


class HolidayFileError(ValueError):
    """A holiday schedule file is missing, malformed or inconsistent."""


class DayKind(StrEnum):
    """What kind of day a date is under the schedule."""

    WORKDAY = "workday"  # ordinary Monday–Friday working day
    REST = "rest"  # ordinary Saturday/Sunday
    HOLIDAY = "holiday"  # statutory holiday (放假), including weekend days inside the run
    MAKEUP = "makeup"  # weekend day worked in lieu (调休上班)


@dataclass(frozen=True)
class DayInfo:
    """One date as the calendar sees it."""

    date: dt.date
    kind: DayKind
    name: str | None
    provisional: bool

    @property
    def is_workday(self) -> bool:
        """True for ordinary working days and make-up days."""
        return self.kind in (DayKind.WORKDAY, DayKind.MAKEUP)


@dataclass(frozen=True)
class YearSchedule:
    """The published schedule of one year: holidays and make-up working days."""

    year: int
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    source: str


@dataclass(frozen=True)
class WorkCalendar:
    """Answers "is this a working day?" for any date; pure and immutable."""

    schedules: Mapping[int, YearSchedule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        special: dict[dt.date, tuple[DayKind, str]] = {}
        # Package years first so a file's entries (even cross-year ones) win.
        ordered = sorted(
            self.schedules.values(), key=lambda s: (s.source != "chinesecalendar", s.year)
        )
        for sched in ordered:
            for d, name in sched.holidays.items():
                special[d] = (DayKind.HOLIDAY, name)
            for d, name in sched.workdays.items():
                special[d] = (DayKind.MAKEUP, name)
        object.__setattr__(self, "_special", special)

    @classmethod
    def plain(cls) -> WorkCalendar:
        """A calendar with no schedules: statutory holidays only, every date provisional."""
        return cls({})

    @classmethod
    def from_package(cls) -> WorkCalendar:
        """The schedules shipped in `chinesecalendar`, nothing else."""
        return cls(package_schedules())

    @property
    def years(self) -> frozenset[int]:
        """Years with a published schedule."""
        return frozenset(self.schedules)

    def covers(self, year: int) -> bool:
        """True when `year` has a published schedule (dates in it are not provisional)."""
        return year in self.schedules

    def source(self, year: int) -> str | None:
        """Where the schedule of `year` came from (a file path or "chinesecalendar")."""
        sched = self.schedules.get(year)
        return sched.source if sched else None

    def day(self, date: dt.date) -> DayInfo:
        """Classify one date."""
        provisional = date.year not in self.schedules
        hit = self._special.get(date)  # type: ignore[attr-defined]
        if hit is not None:
            return DayInfo(date, hit[0], hit[1], provisional)
        if provisional:
            name = statutory_holidays(date.year).get(date)
            if name is not None:
                return DayInfo(date, DayKind.HOLIDAY, name, provisional)
        kind = DayKind.REST if date.weekday() >= 5 else DayKind.WORKDAY
        return DayInfo(date, kind, None, provisional)

    def is_workday(self, date: dt.date) -> bool:
        """True when people work on `date` (make-up days included)."""
        return self.day(date).is_workday

    def nth_workday_after(self, date: dt.date, n: int) -> tuple[dt.date, frozenset[int]]:
        """The n-th working day strictly after `date` (0 gives `date`) and the provisional years."""
        if n < 0:
            raise ValueError(f"n must be ≥ 0, got {n}")
        used: set[int] = set()
        current = date
        while n > 0:
            current += dt.timedelta(days=1)
            info = self.day(current)
            if info.provisional:
                used.add(current.year)
            if info.is_workday:
                n -= 1
        return current, frozenset(used)

    def workdays_between(self, first: dt.date, last: dt.date) -> tuple[int, frozenset[int]]:
        """Count working days in the dates (first, last], plus provisional years used."""
        used: set[int] = set()
        count = 0
        current = first
        while current < last:
            current += dt.timedelta(days=1)
            info = self.day(current)
            if info.provisional:
                used.add(current.year)
            if info.is_workday:
                count += 1
        return count, frozenset(used)


def package_schedules() -> dict[int, YearSchedule]:
    """Year schedules from the `chinesecalendar` package, keyed by year."""
    try:
        from chinese_calendar.constants import holidays, workdays
    except ImportError:  # the package is a dependency, but a calendar without it still works
        return {}
    years: dict[int, tuple[dict[dt.date, str], dict[dt.date, str]]] = {}
    for table, slot in ((holidays, 0), (workdays, 1)):
        for d, name in table.items():
            years.setdefault(d.year, ({}, {}))[slot][d] = _PACKAGE_NAMES.get(name, name)
    return {y: YearSchedule(y, hol, work, "chinesecalendar") for y, (hol, work) in years.items()}


def load_calendar(data_dir: Path, *, use_package: bool = True) -> WorkCalendar:
    """Build the calendar from the package plus `data_dir/holidays/YYYY.toml` overrides."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise HolidayFileError(f"{data_dir}: 数据目录不存在")
    schedules = package_schedules() if use_package else {}
    holiday_dir = data_dir / "holidays"
    if holiday_dir.is_dir():
        for path in sorted(holiday_dir.glob("*.toml")):
            sched = load_year_file(path)
            schedules[sched.year] = sched
    return WorkCalendar(schedules)


def load_year_file(path: Path) -> YearSchedule:
    """Read and validate one `YYYY.toml` holiday schedule file."""
    path = Path(path)
    m = _YEAR_FILE.match(path.name)
    if not m:
        raise HolidayFileError(f"{path}: 文件名须为四位年份，如 2027.toml")
    year = int(m.group(1))
    doc, text = read_toml(path, HolidayFileError)

    def fail(table: str | None, index: int | None, key: str | None, msg: str) -> HolidayFileError:
        line = locate(text, table, index, key) if table else locate(text, "", None, key)
        label = f"{table}[{index}].{key}" if table and index is not None else (key or "")
        return HolidayFileError(f"{where(path, line)}: {label}: {msg}")

    unknown = set(doc) - {"year", "source", "holidays", "workdays"}
    if unknown:
        key = sorted(unknown)[0]
        raise fail(None, None, key, "未知字段（允许 year, source, holidays, workdays）")
    if "year" in doc and doc["year"] != year:
        raise fail(None, None, "year", f"年份 {doc['year']!r} 与文件名 {year} 不一致")
    source = doc.get("source", str(path))
    if not isinstance(source, str):
        raise fail(None, None, "source", "应为字符串")

    lo, hi = dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31)
    seen: dict[dt.date, str] = {}
    tables: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
    for table in ("holidays", "workdays"):
        entries = doc.get(table, [])
        if not isinstance(entries, list):
            raise fail(None, None, table, "应为表数组（[[holidays]] / [[workdays]]）")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise fail(table, i, None, '应为表，如 {date = 2027-01-01, name = "元旦"}')
            for d, name in _entry_dates(entry, lambda k, msg, i=i, t=table: fail(t, i, k, msg)):
                if not lo <= d <= hi:
                    raise fail(
                        table,
                        i,
                        "date" if "date" in entry else "start",
                        f"{d} 不在 {year} 年（允许前后一个月的跨年假期）",
                    )
                if d in seen:
                    raise fail(
                        table,
                        i,
                        "date" if "date" in entry else "start",
                        f"{d} 重复出现（已列于 {seen[d]}）",
                    )
                seen[d] = f"{table}[{i}]"
                tables[table][d] = name
    if not tables["holidays"]:
        raise fail(None, None, "holidays", "没有任何节假日——文件不完整？")
    return YearSchedule(year, tables["holidays"], tables["workdays"], str(path))


def _entry_dates(entry: dict[str, Any], fail: Any) -> Iterable[tuple[dt.date, str]]:
    """Expand one `{name, date}` or `{name, start, end}` entry into dated names."""
    unknown = set(entry) - {"name", "date", "start", "end"}
    if unknown:
        raise fail(sorted(unknown)[0], "未知字段（允许 name, date, start, end）")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", '缺少名称，如 name = "春节"')
    if "date" in entry:
        if "start" in entry or "end" in entry:
            raise fail("date", "date 与 start/end 只能二选一")
        return [(_as_date(entry["date"], "date", fail), name)]
    if "start" not in entry or "end" not in entry:
        raise fail("date", "需要 date，或同时给出 start 与 end")
    start = _as_date(entry["start"], "start", fail)
    end = _as_date(entry["end"], "end", fail)
    if end < start:
        raise fail("end", f"结束日期 {end} 早于开始日期 {start}")
    if (end - start).days >= _MAX_RANGE_DAYS:
        raise fail("end", f"区间 {start}–{end} 超过 {_MAX_RANGE_DAYS} 天，疑似笔误")
    return [(start + dt.timedelta(days=k), name) for k in range((end - start).days + 1)]


def _as_date(value: Any, key: str, fail: Any) -> dt.date:
    """Accept a TOML local date or a 'YYYY-MM-DD' string."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(key, f"无效日期 {value!r}（应为 YYYY-MM-DD）")
