"""SLA clocks: start, pause/resume in each unit, extension, meeting, status and persistence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sla import clock as C
from sla.calendar import WorkCalendar, load_calendar
from sla.clock import Clock, ClockError, ClockKind, ClockState
from sla.limits import Limit, Unit, working_time_between

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.from_package()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=SH)


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SH)


def test_start_sets_due_and_warning_point() -> None:
    c = C.start(ClockKind.FEEDBACK, "3wd", at(2026, 9, 30, 16), 0.75, CAL)
    assert local(c.due_at) == at(2026, 10, 11)
    assert c.warn_at == c.started_at + (c.due_at - c.started_at) * 0.75
    assert c.state is ClockState.RUNNING and not c.provisional
    assert c.started_at.tzinfo is dt.UTC and c.limit == Limit(3, Unit.WORKDAYS)
    with pytest.raises(ClockError):
        C.start("feedback", "3wd", at(2026, 9, 30), 1.5, CAL)


def test_status_over_time() -> None:
    c = C.start("receipt", "24h", at(2026, 10, 14, 9), 0.75, CAL)
    assert C.status_at(c, at(2026, 10, 14, 10)) is ClockState.RUNNING
    assert C.status_at(c, at(2026, 10, 15, 3)) is ClockState.WARNING  # 18h in
    assert C.status_at(c, at(2026, 10, 15, 9)) is ClockState.BREACHED  # due is not "in time"
    assert C.refresh(c, at(2026, 10, 15, 10)).state is ClockState.BREACHED
    paused = C.pause(c, at(2026, 10, 14, 10))
    assert C.status_at(paused, at(2026, 10, 20)) is ClockState.PAUSED
    met = C.meet(c, at(2026, 10, 14, 12))
    assert C.status_at(met, at(2026, 10, 20)) is ClockState.MET and met.met_on_time
    assert C.meet(c, at(2026, 10, 16)).met_on_time is False


def test_pause_resume_working_days_counts_working_days_begun_while_paused() -> None:
    c = C.start("feedback", "3wd", at(2026, 10, 12, 10), 0.75, CAL)  # Mon → due end of Thu 15
    assert local(c.due_at) == at(2026, 10, 16)
    same_day = C.resume(C.pause(c, at(2026, 10, 12, 11)), at(2026, 10, 12, 16), CAL)
    assert same_day.due_at == c.due_at and same_day.warn_at == c.warn_at
    two_days = C.resume(C.pause(c, at(2026, 10, 12, 11)), at(2026, 10, 14, 11), CAL)
    assert local(two_days.due_at) == at(2026, 10, 20)  # Tue and Wed consumed → Fri 16, Mon 19
    assert two_days.warn_at - c.warn_at == two_days.due_at - c.due_at
    assert two_days.pauses == ((at(2026, 10, 12, 11), at(2026, 10, 14, 11)),)
    assert two_days.state is ClockState.RUNNING and two_days.paused_since is None


def test_pause_over_national_day_only_counts_working_days() -> None:
    c = C.start("feedback", "3wd", at(2026, 9, 29, 10), 0.75, CAL)  # due end of Fri 9 Oct
    assert local(c.due_at) == at(2026, 10, 10)
    resumed = C.resume(C.pause(c, at(2026, 9, 30, 17)), at(2026, 10, 8, 9), CAL)
    # Only Thu 8 Oct began while paused: one working day → end of Sat 10 Oct (make-up day).
    assert local(resumed.due_at) == at(2026, 10, 11)


def test_pause_resume_working_hours() -> None:
    c = C.start("receipt", "4wh", at(2026, 10, 14, 9), 0.75, CAL)
    assert local(c.due_at) == at(2026, 10, 14, 14, 30)  # 3h before lunch, 1h after
    r = C.resume(C.pause(c, at(2026, 10, 14, 11)), at(2026, 10, 14, 14, 30), CAL)
    # 11:00–12:00 and 13:30–14:30 are working time: 2h consumed → 16:30.
    assert local(r.due_at) == at(2026, 10, 14, 16, 30)
    night = C.resume(C.pause(c, at(2026, 10, 14, 14)), at(2026, 10, 15, 9), CAL)
    # Half an hour was left when paused at 14:00, so resuming at 09:00 next day gives 09:30.
    assert local(night.due_at) == at(2026, 10, 15, 9, 30)
    r2 = C.resume(C.pause(c, at(2026, 10, 14, 12, 10)), at(2026, 10, 14, 13, 20), CAL)
    assert r2.due_at == c.due_at  # paused over lunch only: nothing consumed


def test_pause_resume_calendar_hours() -> None:
    c = C.start("feedback", "24h", at(2026, 10, 14, 9), 0.75, CAL)
    r = C.resume(C.pause(c, at(2026, 10, 14, 10)), at(2026, 10, 14, 13), CAL)
    assert r.due_at - c.due_at == dt.timedelta(hours=3)
    again = C.resume(C.pause(r, at(2026, 10, 14, 14)), at(2026, 10, 14, 15), CAL)
    assert again.due_at - c.due_at == dt.timedelta(hours=4) and len(again.pauses) == 2
    assert again.paused_total == dt.timedelta(hours=4)


def test_pause_errors() -> None:
    c = C.start("feedback", "7d", at(2026, 10, 14, 9), 0.75, CAL)
    p = C.pause(c, at(2026, 10, 15))
    with pytest.raises(ClockError, match="已处于挂起"):
        C.pause(p, at(2026, 10, 16))
    with pytest.raises(ClockError, match="未挂起"):
        C.resume(c, at(2026, 10, 16), CAL)
    with pytest.raises(ClockError, match="早于挂起时间"):
        C.resume(p, at(2026, 10, 14, 12), CAL)
    with pytest.raises(ClockError, match="已超期"):
        C.pause(c, at(2026, 10, 21, 9))
    with pytest.raises(ClockError, match="早于时限开始"):
        C.pause(c, at(2026, 10, 14, 8))
    with pytest.raises(ClockError, match="已完成"):
        C.pause(C.meet(c, at(2026, 10, 15)), at(2026, 10, 16))
    with pytest.raises(ValueError, match="timezone-aware"):
        C.pause(c, dt.datetime(2026, 10, 15))


def test_extension_15_working_days_once() -> None:
    c = C.start("feedback", "15wd", at(2026, 9, 21, 10), 0.75, CAL)
    assert local(c.due_at) == at(2026, 10, 20)  # 21 Sep + 15 working days, National Day skipped
    e = C.extend(c, "15wd", CAL, max_extensions=1)
    assert local(e.due_at) == at(2026, 11, 10) and e.extensions == (Limit(15, Unit.WORKDAYS),)
    assert e.warn_at - c.warn_at == e.due_at - c.due_at
    with pytest.raises(ClockError, match="延期次数已达上限"):
        C.extend(e, "15wd", CAL, max_extensions=1)
    with pytest.raises(ClockError, match="已完成"):
        C.extend(C.meet(c, at(2026, 9, 22)), "1wd", CAL)


def test_meet_while_paused_is_on_time() -> None:
    c = C.pause(C.start("feedback", "7d", at(2026, 10, 14, 9), 0.75, CAL), at(2026, 10, 15))
    m = C.meet(c, at(2026, 10, 30))  # long after the frozen due_at, but the clock was stopped
    assert m.paused_since == at(2026, 10, 15) and m.met_on_time is True
    assert C.status_at(m, at(2026, 11, 30)) is ClockState.MET
    with pytest.raises(ClockError):
        C.meet(m, at(2026, 10, 31))


def test_recompute_replays_history_on_a_new_calendar(tmp_path: Path) -> None:
    c = C.start("mediation", "45wd", at(2026, 12, 20, 10), 0.75, CAL)
    c = C.resume(C.pause(c, at(2027, 1, 5, 10)), at(2027, 1, 7, 10), CAL)  # +2 weekdays
    c = C.extend(c, "5wd", CAL)
    # Provisional: 元旦 and 春节 5–8 Feb with 9–10 Feb made up for the weekend are off.
    assert local(c.due_at) == at(2027, 3, 10) and c.provisional
    assert C.recompute(c, CAL) == c  # same calendar, same clock
    (tmp_path / "holidays").mkdir()
    # A made-up schedule: 5–13 Feb off (two more weekdays), Sunday 14 Feb worked.
    (tmp_path / "holidays" / "2027.toml").write_text(
        '[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n[[holidays]]\nname = "春节"\n'
        'start = 2027-02-05\nend = 2027-02-13\n[[workdays]]\nname = "春节"\ndate = 2027-02-14\n',
        encoding="utf-8",
    )
    r = C.recompute(c, load_calendar(tmp_path))
    assert not r.provisional and local(r.due_at) == at(2027, 3, 11)  # net one more day off
    assert r.pauses == c.pauses and r.extensions == c.extensions
    # A pause that began before the old due survives a calendar that moves the due earlier.
    late = C.pause(C.start("feedback", "1wd", at(2027, 1, 4, 9), 0.75, CAL), at(2027, 1, 5, 20))
    (tmp_path / "holidays" / "2027.toml").write_text(
        '[[holidays]]\nname = "测试"\ndate = 2027-01-01\n[[workdays]]\nname = "测试"\n'
        "date = 2027-01-03\n",
        encoding="utf-8",
    )
    early = C.recompute(
        C.pause(C.start("feedback", "1wd", at(2027, 1, 2, 9), 0.75, CAL), at(2027, 1, 4, 20)),
        load_calendar(tmp_path),
    )
    assert local(early.due_at) == at(2027, 1, 4) and early.paused_since == at(2027, 1, 4, 20)
    assert C.recompute(late, load_calendar(tmp_path)).paused_since == late.paused_since


def test_provisional_clock_and_round_trip() -> None:
    c = C.start("mediation", "45wd", at(2026, 12, 20, 10), 0.75, CAL)
    assert c.provisional and c.provisional_years == (2027,)
    c = C.extend(C.resume(C.pause(c, at(2026, 12, 21)), at(2026, 12, 23, 9), CAL), "7wd", CAL)
    data = json.loads(json.dumps(c.to_dict()))
    assert Clock.from_dict(data) == c
    assert data["limit"] == "45wd" and data["extensions"] == ["7wd"] and data["kind"] == "mediation"
    with pytest.raises(ClockError, match="unknown clock fields"):
        Clock.from_dict({**data, "colour": "red"})
    with pytest.raises(ClockError, match="bad clock data"):
        Clock.from_dict({**data, "due_at": "2026-13-01"})


def test_provisional_only_when_it_matters() -> None:
    c = C.start("feedback", "3wd", at(2026, 12, 20, 10), 0.75, CAL)
    assert not c.provisional
    assert C.extend(c, "10wd", CAL).provisional_years == (2027,)


# --- properties -------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 3, 1), timezones=st.just(SH)
).map(lambda d: d.replace(second=0, microsecond=0))
limits = st.builds(Limit, st.integers(1, 30), st.sampled_from(list(Unit)))


@settings(max_examples=200, deadline=None)
@given(
    start=moments,
    limit=limits,
    pause_after=st.timedeltas(dt.timedelta(0), dt.timedelta(days=40)),
    pause_for=st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)),
)
def test_pausing_never_shortens_a_deadline(
    start: dt.datetime, limit: Limit, pause_after: dt.timedelta, pause_for: dt.timedelta
) -> None:
    c = C.start("feedback", limit, start, 0.75, CAL)
    paused_at = start + pause_after
    assume(paused_at < c.due_at)
    r = C.resume(C.pause(c, paused_at), paused_at + pause_for, CAL)
    assert r.due_at >= c.due_at and r.warn_at >= c.warn_at
    if limit.unit is Unit.WORKHOURS:
        # The working time left when paused is exactly what is left at resume.
        before, _ = working_time_between(paused_at, c.due_at, CAL)
        after, _ = working_time_between(paused_at + pause_for, r.due_at, CAL)
        assert before == after
    if limit.unit in (Unit.HOURS, Unit.DAYS):
        assert r.due_at - c.due_at == pause_for
    assert C.recompute(r, CAL) == r  # replaying the stored history gives the same clock


@settings(max_examples=150, deadline=None)
@given(start=moments, limit=limits, extra=limits)
def test_extension_moves_due_later(start: dt.datetime, limit: Limit, extra: Limit) -> None:
    c = C.start("feedback", limit, start, 0.75, CAL)
    e = C.extend(c, extra, CAL)
    assert e.due_at > c.due_at and e.warn_at > c.warn_at and len(e.extensions) == 1


def test_overdue_text_reads_days_and_hours_or_hours_and_minutes() -> None:
    assert C.overdue_text(dt.timedelta(days=2, hours=3, minutes=59)) == "超时 2天3小时"
    assert C.overdue_text(dt.timedelta(hours=3, minutes=5)) == "超时 3小时5分"
    assert C.overdue_text(dt.timedelta(seconds=-30)) == "超时 0小时0分"
