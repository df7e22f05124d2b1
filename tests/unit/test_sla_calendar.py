"""Working-day calendar: the 2026 schedule, make-up days, year files, provisional years."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import chinese_calendar
import pytest

from sla.calendar import DayKind, HolidayFileError, WorkCalendar, load_calendar, load_year_file

REPO = Path(__file__).resolve().parents[2]
D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_calendar(REPO / "data")


def write_year(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / "holidays"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def test_national_day_2026(cal: WorkCalendar) -> None:
    # Official: 1–7 Oct off; Sun 20 Sep and Sat 10 Oct worked; 8 Oct is an ordinary Thursday.
    for day in range(1, 8):
        info = cal.day(D(2026, 10, day))
        assert info.kind is DayKind.HOLIDAY and info.name == "国庆节"
    assert cal.day(D(2026, 10, 8)).kind is DayKind.WORKDAY
    assert cal.day(D(2026, 10, 10)).kind is DayKind.MAKEUP
    assert cal.is_workday(D(2026, 10, 10))
    assert not cal.is_workday(D(2026, 10, 11))
    assert cal.day(D(2026, 9, 20)).kind is DayKind.MAKEUP
    assert [cal.is_workday(D(2026, 9, d)) for d in (25, 26, 27, 28)] == [False, False, False, True]


def test_spring_festival_2026(cal: WorkCalendar) -> None:
    off = [D(2026, 2, d) for d in range(15, 24)]
    assert all(cal.day(d).kind is DayKind.HOLIDAY and cal.day(d).name == "春节" for d in off)
    assert cal.day(D(2026, 2, 14)).kind is DayKind.MAKEUP  # Saturday worked
    assert cal.day(D(2026, 2, 28)).kind is DayKind.MAKEUP  # Saturday worked
    assert cal.is_workday(D(2026, 2, 24))
    assert not cal.day(D(2026, 2, 20)).provisional


def test_nth_workday_skips_holidays_and_counts_makeup_days(cal: WorkCalendar) -> None:
    assert cal.nth_workday_after(D(2026, 9, 30), 1) == (D(2026, 10, 8), frozenset())
    assert cal.nth_workday_after(D(2026, 9, 30), 3) == (D(2026, 10, 10), frozenset())
    assert cal.nth_workday_after(D(2026, 9, 30), 4)[0] == D(2026, 10, 12)
    assert cal.nth_workday_after(D(2026, 9, 30), 0)[0] == D(2026, 9, 30)
    assert cal.workdays_between(D(2026, 9, 30), D(2026, 10, 12))[0] == 4


def test_unknown_year_keeps_its_statutory_holidays_and_is_provisional(cal: WorkCalendar) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 1))
    info = cal.day(D(2027, 1, 1))  # a Friday; the real 2027 schedule is not published here
    assert info.kind is DayKind.HOLIDAY and info.name == "元旦" and info.provisional
    assert cal.day(D(2027, 1, 2)).kind is DayKind.REST
    assert cal.day(D(2027, 1, 4)).kind is DayKind.WORKDAY and cal.day(D(2027, 1, 4)).provisional
    assert not cal.covers(2027) and cal.covers(2026) and cal.covers(2004)
    assert cal.day(D(2003, 6, 2)).provisional and cal.day(D(2003, 1, 1)).is_workday  # pre-law
    last, years = cal.nth_workday_after(D(2026, 12, 30), 3)
    assert last == D(2027, 1, 5) and years == frozenset({2027})  # 31 Dec, 4 Jan, 5 Jan


def test_spring_festival_2027_without_a_schedule(cal: WorkCalendar) -> None:
    # 除夕 is Fri 5 Feb 2027; 初一 and 初二 fall on the weekend, so two weekdays are made up.
    kinds = {d: cal.day(D(2027, 2, d)) for d in range(4, 12)}
    assert [kinds[d].is_workday for d in range(4, 12)] == [
        True, False, False, False, False, False, False, True
    ]  # fmt: skip
    assert {kinds[d].name for d in (5, 6, 7, 8)} == {"春节"}
    assert {kinds[d].name for d in (9, 10)} == {"春节补假"}
    assert all(info.provisional for info in kinds.values())
    # No make-up working Sunday is invented: 调休 stays unknown until the file arrives.
    assert cal.day(D(2027, 2, 14)).kind is DayKind.REST
    assert cal.nth_workday_after(D(2027, 2, 4), 1) == (D(2027, 2, 11), frozenset({2027}))


def test_year_file_adds_an_unpublished_year(tmp_path: Path) -> None:
    write_year(
        tmp_path,
        "2027.toml",
        """
year = 2027
source = "测试用虚构安排"
[[holidays]]
name = "元旦"
date = 2027-01-01
[[holidays]]
name = "春节"
start = "2027-02-06"
end = 2027-02-13
[[workdays]]
name = "春节"
date = 2027-02-14
""",
    )
    cal = load_calendar(tmp_path)
    assert cal.covers(2027)
    assert cal.day(D(2027, 1, 1)).kind is DayKind.HOLIDAY
    assert not cal.day(D(2027, 1, 4)).provisional
    assert [cal.is_workday(D(2027, 2, d)) for d in (5, 8, 12, 14, 15)] == [
        True,
        False,
        False,
        True,
        True,
    ]
    assert cal.source(2027).endswith("2027.toml")
    assert cal.covers(2026)  # the package still supplies other years


def test_year_file_replaces_the_package_year(tmp_path: Path) -> None:
    write_year(
        tmp_path,
        "2026.toml",
        """
[[holidays]]
name = "国庆节"
start = 2026-10-01
end = 2026-10-08
""",
    )
    cal = load_calendar(tmp_path)
    assert not cal.is_workday(D(2026, 10, 8))
    assert not cal.is_workday(D(2026, 10, 10))  # the package's make-up day is gone with its year
    assert cal.is_workday(D(2026, 2, 16))  # so is the package's Spring Festival
    assert cal.is_workday(D(2025, 10, 9)) is chinese_calendar.is_workday(D(2025, 10, 9))


def test_readme_example_is_a_valid_file(tmp_path: Path) -> None:
    readme = (REPO / "data" / "holidays" / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example
    sched = load_year_file(write_year(tmp_path, "2027.toml", example.group(1)))
    assert sched.year == 2027 and D(2027, 2, 14) in sched.workdays


def test_shipped_holiday_files_are_valid_and_cite_their_notice() -> None:
    # Only published schedules belong here (none beyond the package's 2026 as of Nov 2026).
    for path in (REPO / "data" / "holidays").glob("*.toml"):
        sched = load_year_file(path)
        assert sched.source != str(path), f"{path}: add source = the State Council notice"


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "2027.toml",
            '[[holidays]]\nname = "元旦"\ndate = 2027-13-01\n',
            r"2027\.toml: TOML 语法错误.*line 3",
        ),
        (
            "2027.toml",
            '[[holidays]]\nname = "元旦"\ndate = "2027-13-01"\n',
            r"2027\.toml:3: holidays\[0\]\.date: 无效日期 '2027-13-01'",
        ),
        (
            "2027.toml",
            '[[holidays]]\nname = "元旦"\nday = 2027-01-01\n',
            r"2027\.toml:3: holidays\[0\]\.day: 未知字段",
        ),
        (
            "2027.toml",
            'year = 2028\n[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n',
            r"2027\.toml:1: year: 年份 2028 与文件名 2027 不一致",
        ),
        (
            "2027.toml",
            '[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n\n[[workdays]]\nname = "x"\n'
            "date = 2027-01-01\n",
            r"2027\.toml:7: workdays\[0\]\.date: 2027-01-01 重复出现（已列于 holidays\[0\]）",
        ),
        (
            "2027.toml",
            '[[holidays]]\nname = "春节"\nstart = 2027-02-06\nend = 2027-02-01\n',
            r"2027\.toml:4: holidays\[0\]\.end: 结束日期 2027-02-01 早于开始日期 2027-02-06",
        ),
        (
            "2027.toml",
            '[[holidays]]\nname = "x"\ndate = 2029-01-01\n',
            r"holidays\[0\]\.date: 2029-01-01 不在 2027 年",
        ),
        (
            "2027.toml",
            "[[holidays]]\ndate = 2027-01-01\n",
            r"2027\.toml:1: holidays\[0\]\.name: 缺少名称",
        ),
        ("2027.toml", "holiday = []\n", r"2027\.toml:1: holiday: 未知字段"),
        ("2027.toml", '[[workdays]]\nname = "x"\ndate = 2027-02-14\n', r"holidays: 没有任何节假日"),
        ("next.toml", "", r"next\.toml: 文件名须为四位年份"),
    ],
)
def test_invalid_year_files_name_file_line_and_field(
    tmp_path: Path, name: str, body: str, expected: str
) -> None:
    write_year(tmp_path, name, body)
    with pytest.raises(HolidayFileError, match=expected):
        load_calendar(tmp_path)


def test_missing_data_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HolidayFileError, match="数据目录不存在"):
        load_calendar(tmp_path / "nope")
    assert load_calendar(tmp_path).covers(2026)  # no holidays/ folder: package only
