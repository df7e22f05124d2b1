"""Deadlines: working days over National Day / Spring Festival, working hours, provisional."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import WorkCalendar, load_calendar
from sla.limits import (
    DEFAULT_OFFICE_HOURS,
    Limit,
    LimitError,
    OfficeHours,
    Unit,
    add_working_time,
    compute_due,
    parse_limit,
    working_time_between,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.from_package()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=SH)


def due_local(start: dt.datetime, limit: str, cal: WorkCalendar = CAL) -> dt.datetime:
    return compute_due(start, limit, cal).at.astimezone(SH)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("2h", Limit(2, Unit.HOURS)),
        ("7d", Limit(7, Unit.DAYS)),
        ("3wd", Limit(3, Unit.WORKDAYS)),
        (" 8wh ", Limit(8, Unit.WORKHOURS)),
        ("45wd", Limit(45, Unit.WORKDAYS)),
    ],
)
def test_parse_limit(text: str, limit: Limit) -> None:
    assert parse_limit(text) == limit
    assert str(limit) == text.strip()


@pytest.mark.parametrize("text", ["", "3", "wd", "0h", "-1d", "1.5h", "3 weeks", "3w", "2H", "h2"])
def test_parse_limit_rejects(text: str) -> None:
    with pytest.raises(LimitError, match="无效时限"):
        parse_limit(text)


def test_three_working_days_over_national_day_2026() -> None:
    # 1 Oct–7 Oct off; the working days after 30 Sep are Thu 8, Fri 9 and Sat 10 Oct (make-up day).
    due = compute_due(at(2026, 9, 30, 16), "3wd", CAL)
    assert due.at == dt.datetime(2026, 10, 10, 16, tzinfo=dt.UTC)
    assert due.at.astimezone(SH) == at(2026, 10, 11)
    assert not due.provisional and due.provisional_years == frozenset()
    assert due.at.tzinfo is dt.UTC


def test_input_in_any_zone_same_deadline() -> None:
    utc_start = dt.datetime(2026, 9, 30, 8, tzinfo=dt.UTC)
    ny_start = utc_start.astimezone(ZoneInfo("America/New_York"))
    assert compute_due(utc_start, "3wd", CAL) == compute_due(ny_start, "3wd", CAL)
    # 23:30 UTC on 30 Sep is already 1 Oct in Shanghai: the start day is the holiday, same result.
    assert due_local(dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC), "3wd") == at(2026, 10, 11)


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        (at(2026, 10, 9, 10), "1wd", at(2026, 10, 11)),  # Fri → Sat 10 Oct is worked
        (at(2026, 10, 9, 10), "2wd", at(2026, 10, 13)),  # …then Sun off, Mon 12
        (at(2026, 10, 3, 10), "1wd", at(2026, 10, 9)),  # started on a holiday → Thu 8 Oct
        (at(2026, 9, 18, 10), "1wd", at(2026, 9, 21)),  # Fri → Sun 20 Sep make-up day
        (at(2026, 2, 13, 15), "1wd", at(2026, 2, 15)),  # Fri → Sat 14 Feb make-up day
        (at(2026, 2, 13, 15), "2wd", at(2026, 2, 25)),  # …then 15–23 Feb Spring Festival
        (at(2026, 2, 24, 9), "4wd", at(2026, 3, 1)),  # Tue → Wed Thu Fri and Sat 28 Feb
        (at(2026, 10, 12), "1wd", at(2026, 10, 13)),  # 00:00 Mon = end of Sun: Mon itself counts
        (at(2026, 10, 12, 0, 1), "1wd", at(2026, 10, 14)),
    ],
)
def test_working_days(start: dt.datetime, limit: str, expected: dt.datetime) -> None:
    assert due_local(start, limit) == expected


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        (at(2026, 10, 14, 11), "2wh", at(2026, 10, 14, 14, 30)),  # across lunch
        (at(2026, 10, 14, 12, 30), "1wh", at(2026, 10, 14, 14, 30)),  # started during lunch
        (at(2026, 10, 14, 17), "1wh", at(2026, 10, 15, 9)),  # across the night
        (at(2026, 10, 14, 7), "1wh", at(2026, 10, 14, 9, 30)),  # before office hours
        (at(2026, 10, 14, 16, 30), "1wh", at(2026, 10, 14, 17, 30)),  # ends exactly at closing
        (at(2026, 10, 16, 17), "1wh", at(2026, 10, 19, 9)),  # Fri → Mon across the weekend
        (at(2026, 10, 17, 10), "1wh", at(2026, 10, 19, 9, 30)),  # started on a Saturday
        (at(2026, 10, 9, 17), "1wh", at(2026, 10, 10, 9)),  # Fri → Sat 10 Oct make-up day
        (at(2026, 9, 30, 17), "1wh", at(2026, 10, 8, 9)),  # across National Day
        (at(2026, 9, 30, 16), "8wh", at(2026, 10, 8, 16, 30)),
        (at(2026, 10, 14, 8, 30), "7wh", at(2026, 10, 14, 17)),  # a day holds 7.5 working hours
        (at(2026, 10, 14, 8, 30), "15wh", at(2026, 10, 15, 17, 30)),  # two full days
        (at(2026, 10, 14, 8, 30), "16wh", at(2026, 10, 16, 9, 30)),
    ],
)
def test_working_hours(start: dt.datetime, limit: str, expected: dt.datetime) -> None:
    assert due_local(start, limit) == expected


def test_calendar_units() -> None:
    assert due_local(at(2026, 9, 30, 16), "2h") == at(2026, 9, 30, 18)
    assert due_local(at(2026, 9, 30, 16), "24h") == at(2026, 10, 1, 16)  # holidays do not matter
    assert due_local(at(2026, 9, 30, 16), "7d") == at(2026, 10, 7, 16)
    assert not compute_due(at(2027, 3, 1), "7d", CAL).provisional


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_due(dt.datetime(2026, 9, 30, 16), "3wd", CAL)


def test_45_working_days_from_2026_12_20_is_provisional_without_2027_schedule() -> None:
    due = compute_due(at(2026, 12, 20, 10), "45wd", CAL)
    assert due.provisional and due.provisional_years == frozenset({2027})
    # 9 working days in Dec 2026; 2027 still has its statutory days: 元旦 (Fri 1 Jan) and
    # 春节 5–8 Feb plus 9–10 Feb made up for 初一/初二 on the weekend → 36 more end Fri 26 Feb.
    assert due.at.astimezone(SH) == at(2027, 2, 27)


def test_45_working_days_changes_once_a_2027_file_appears(tmp_path: Path) -> None:
    (tmp_path / "holidays").mkdir()
    # A made-up schedule for the test only (the real 2027 one is not published in our data).
    (tmp_path / "holidays" / "2027.toml").write_text(
        '[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n\n'
        '[[holidays]]\nname = "春节"\nstart = 2027-02-05\nend = 2027-02-13\n\n'
        '[[workdays]]\nname = "春节"\ndate = 2027-02-14\n',
        encoding="utf-8",
    )
    before = compute_due(at(2026, 12, 20, 10), "45wd", CAL)
    after = compute_due(at(2026, 12, 20, 10), "45wd", load_calendar(tmp_path))
    assert after.at != before.at
    assert not after.provisional and after.provisional_years == frozenset()
    # Jan 1 and 5–12 Feb off, Sun 14 Feb worked: 9 + 24 (to 4 Feb) + 1 + 11 → Mon 1 Mar.
    assert after.at.astimezone(SH) == at(2027, 3, 2)


def test_working_hours_in_unknown_year_are_provisional() -> None:
    due = compute_due(at(2026, 12, 31, 17), "2wh", CAL)
    assert due.provisional and due.provisional_years == frozenset({2027})
    assert due.at.astimezone(SH) == at(2027, 1, 4, 10)  # 1 January is 元旦 even unpublished
    assert not compute_due(at(2026, 12, 31, 9), "2wh", CAL).provisional


def test_office_hours_parse_and_validate() -> None:
    office = OfficeHours.parse(["09:00-12:00", "14:00-18:00"], "Asia/Shanghai")
    assert office.daily() == dt.timedelta(hours=7)
    assert compute_due(at(2026, 10, 14, 11), "2wh", CAL, office).at.astimezone(SH) == at(
        2026, 10, 14, 15
    )
    for bad in (["9-12"], ["12:00-08:00"], ["08:00-12:00", "11:00-13:00"], []):
        with pytest.raises(LimitError):
            OfficeHours.parse(bad)
    with pytest.raises(LimitError, match="未知时区"):
        OfficeHours.parse(["08:00-12:00"], "Mars/Olympus")


def test_working_time_between() -> None:
    spent, years = working_time_between(at(2026, 10, 9, 11), at(2026, 10, 12, 9), CAL)
    # Fri 11:00–17:30 minus lunch = 5h; Sat 10 Oct (make-up) 7.5h; Mon 08:30–09:00 0.5h.
    assert spent == dt.timedelta(hours=13) and years == frozenset()
    assert working_time_between(at(2026, 10, 1), at(2026, 10, 8), CAL)[0] == dt.timedelta(0)


# --- properties -------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2027, 1, 31), timezones=st.just(SH)
).map(lambda d: d.replace(second=0, microsecond=0))
units = st.sampled_from(list(Unit))


@settings(max_examples=150, deadline=None)
@given(start=starts, unit=units, n=st.integers(0, 40), k=st.integers(1, 20))
def test_due_never_decreases_as_limits_grow(start: dt.datetime, unit: Unit, n: int, k: int) -> None:
    shorter = compute_due(start, Limit(n, unit), CAL).at
    longer = compute_due(start, Limit(n + k, unit), CAL).at
    assert shorter < longer
    assert start <= shorter


@settings(max_examples=150, deadline=None)
@given(start=starts, unit=units, a=st.integers(1, 30), b=st.integers(1, 30))
def test_limits_compose(start: dt.datetime, unit: Unit, a: int, b: int) -> None:
    first = compute_due(start, Limit(a, unit), CAL).at
    assert (
        compute_due(first, Limit(b, unit), CAL).at == compute_due(start, Limit(a + b, unit), CAL).at
    )


@settings(max_examples=100, deadline=None)
@given(start=starts, n=st.integers(1, 60))
def test_working_hour_deadline_lands_in_office_hours(start: dt.datetime, n: int) -> None:
    due = compute_due(start, Limit(n, Unit.WORKHOURS), CAL).at.astimezone(SH)
    assert CAL.is_workday(due.date())
    assert any(s < due.time() <= e for s, e in DEFAULT_OFFICE_HOURS.periods)
    spent, _ = working_time_between(start, due, CAL)
    assert spent == dt.timedelta(hours=n)
    assert add_working_time(start, spent, CAL)[0] == due


def test_limits_read_as_words() -> None:
    """What pages and print-outs show in the 规定 column, instead of the codes."""
    from sla.limits import limit_words

    assert [limit_words(t) for t in ("24h", "7d", "3wd", "8wh")] == [
        "24小时",
        "7天",
        "3个工作日",
        "8个工作小时",
    ]
