"""Statutory public holidays of a year with no published schedule (pure; no I/O).

《全国年节及纪念日放假办法》 as revised in 2024 (in force from 1 January 2025) gives
everyone these days off:

* 元旦 1 day (1 January);
* 春节 4 days: 农历除夕 and 正月初一至初三;
* 清明节 1 day: the day of the 清明 solar term;
* 劳动节 2 days (1–2 May);
* 端午节 1 day: 农历五月初五;
* 中秋节 1 day: 农历八月十五;
* 国庆节 3 days (1–3 October).

Article 6 adds that a holiday falling on a Saturday or Sunday is made up on a working day
(补假); so is a day on which two holidays coincide (中秋 on 1–3 October, as in 2028), since
both are owed: every year therefore has exactly 13 weekdays off. Which weekday the State
Council picks is its choice; it has always been the next weekdays after the holiday run
(checked against every published schedule 2008–2026 except 中秋 2015, folded into that
year's National Day arrangement), so that is what we assume.

The make-up working days (调休) and bridging days are not in the law and stay unknown: a
date computed from this module is still *provisional* until the year's schedule arrives.

Lunar dates and solar terms come from `lunar_python` (pure Python, 6tail/lunar-python).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

__all__ = ["FIRST_YEAR", "statutory_holidays"]

# The 2024 revision applies from 2025; every earlier year the system deals with (2004–2024)
# has a published schedule, and older dates are better left as plain weeks than guessed.
FIRST_YEAR = 2025
MAKEUP_SUFFIX = "补假"


def _solar(value: object) -> dt.date:
    return dt.date(value.getYear(), value.getMonth(), value.getDay())  # type: ignore[attr-defined]


def _entitlement(year: int) -> list[tuple[dt.date, str]]:
    """The 13 statutory days of `year`, one entry per day of entitlement, in date order."""
    from lunar_python import Lunar, Solar

    new_year = _solar(Lunar.fromYmd(year, 1, 1).getSolar())  # 正月初一
    # Any day of April gives a lunar date whose solar-term table holds this year's 清明.
    qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    days = [(dt.date(year, 1, 1), "元旦")]
    days += [(new_year + dt.timedelta(days=k), "春节") for k in range(-1, 3)]  # 除夕 … 初三
    days.append((_solar(qingming), "清明节"))
    days += [(dt.date(year, 5, 1), "劳动节"), (dt.date(year, 5, 2), "劳动节")]
    # fromYmd's month 5 / 8 is the ordinary month, never the leap month of the same number.
    days.append((_solar(Lunar.fromYmd(year, 5, 5).getSolar()), "端午节"))
    days.append((_solar(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋节"))
    days += [(dt.date(year, 10, d), "国庆节") for d in (1, 2, 3)]
    return sorted(days)


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> Mapping[dt.date, str]:
    """The statutory days off of `year` plus weekday make-ups (补假); empty before FIRST_YEAR."""
    if year < FIRST_YEAR:
        return MappingProxyType({})
    result: dict[dt.date, str] = {}
    owed: list[tuple[dt.date, str]] = []
    for date, name in _entitlement(year):
        if date in result:
            # 中秋 on 1–3 October (2028: 3 October): both days are owed, so one is made up.
            result[date] = f"{result[date]}、{name}"
            owed.append((date, name))
            continue
        result[date] = name
        if date.weekday() >= 5:
            owed.append((date, name))
    # Each owed day is made up on the first weekday after it that is not itself off
    # (for 春节 that is after the whole run, as every published schedule has done).
    for date, name in owed:
        makeup = date
        while makeup.weekday() >= 5 or makeup in result:
            makeup += dt.timedelta(days=1)
        result[makeup] = name + MAKEUP_SUFFIX
    return MappingProxyType(dict(sorted(result.items())))
