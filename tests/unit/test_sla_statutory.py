"""Statutory holidays of a year with no published schedule, checked against published years."""

from __future__ import annotations

import datetime as dt

import pytest
from chinese_calendar.constants import holidays as published_holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import DayKind, WorkCalendar, package_schedules
from sla.statutory import FIRST_YEAR, statutory_holidays

D = dt.date


def first(year: int, name: str) -> dt.date:
    return min(d for d, n in statutory_holidays(year).items() if n == name)


@pytest.mark.parametrize(
    ("year", "eve", "qingming", "dragon_boat", "mid_autumn"),
    [
        (2025, D(2025, 1, 28), D(2025, 4, 4), D(2025, 5, 31), D(2025, 10, 6)),
        (2026, D(2026, 2, 16), D(2026, 4, 5), D(2026, 6, 19), D(2026, 9, 25)),
        (2027, D(2027, 2, 5), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)),
    ],
)
def test_lunar_and_solar_term_dates(
    year: int, eve: D, qingming: D, dragon_boat: D, mid_autumn: D
) -> None:
    days = statutory_holidays(year)
    assert first(year, "春节") == eve  # 除夕 opens the Spring Festival
    assert [days[eve + dt.timedelta(k)] for k in range(4)] == ["春节"] * 4
    assert days[qingming] == "清明节"
    assert days[dragon_boat] == "端午节"
    assert days[mid_autumn] == "中秋节"
    for fixed in (D(year, 1, 1), D(year, 5, 1), D(year, 5, 2), D(year, 10, 1), D(year, 10, 3)):
        assert fixed in days


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_computed_day_off_was_off_in_the_published_schedule(year: int) -> None:
    # The law's days and the made-up weekdays are a subset of what the State Council gave;
    # the rest of the published days off are bridging days, which nobody can compute.
    computed = statutory_holidays(year)
    missing = [d for d in computed if d not in published_holidays]
    assert missing == []


def test_weekend_holidays_are_made_up_on_the_next_weekdays() -> None:
    assert statutory_holidays(2026)[D(2026, 4, 6)] == "清明节补假"  # 清明 was Sunday 5 April
    assert statutory_holidays(2026)[D(2026, 10, 5)] == "国庆节补假"  # 3 October was a Saturday
    assert statutory_holidays(2025)[D(2025, 6, 2)] == "端午节补假"  # 端午 was Saturday 31 May


@pytest.mark.parametrize("year", [2025, 2026])
def test_a_calendar_without_the_schedule_rests_only_on_days_people_rested(year: int) -> None:
    # Drop the published year: what is left must never call a real working weekday a holiday.
    schedules = package_schedules()
    real = WorkCalendar(schedules)
    schedules.pop(year)
    guess = WorkCalendar(schedules)
    day = D(year, 1, 1)
    while day.year == year:
        info = guess.day(day)
        assert info.provisional
        if info.kind is DayKind.HOLIDAY:
            assert not real.is_workday(day), day
        day += dt.timedelta(days=1)


def test_mid_autumn_on_national_day_is_made_up() -> None:
    # 2028: 中秋 is 3 October. Both holidays are owed, so one more weekday is off.
    days = statutory_holidays(2028)
    assert days[D(2028, 10, 3)] == "中秋节、国庆节"
    assert [D(2028, 10, d) in days for d in range(1, 7)] == [True] * 5 + [False]


def test_no_guessing_before_the_law_in_force() -> None:
    assert statutory_holidays(FIRST_YEAR - 1) == {}
    assert statutory_holidays(2003) == {}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=FIRST_YEAR, max_value=2099))
def test_every_year_has_thirteen_weekdays_off(year: int) -> None:
    days = statutory_holidays(year)
    assert all(d.year == year for d in days)
    weekdays = [d for d in days if d.weekday() < 5]
    assert len(weekdays) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3 days, weekends and clashes made up
    assert not any(d.weekday() >= 5 for d, name in days.items() if name.endswith("补假"))
    assert D(year, 4, 4) <= first(year, "清明节") <= D(year, 4, 6)
    assert D(year, 1, 20) <= first(year, "春节") <= D(year, 2, 19)
    assert D(year, 5, 25) <= first(year, "端午节") <= D(year, 6, 25)
    mid_autumn = min(d for d, n in days.items() if "中秋节" in n and not n.endswith("补假"))
    assert D(year, 9, 7) <= mid_autumn <= D(year, 10, 7)
