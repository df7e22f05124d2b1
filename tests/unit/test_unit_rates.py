"""Per-unit audit rates on a fixed event log; every expected figure is counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest

from hotline.reporting.unit_rates import Figures, Period, RateClock, RateEvent, unit_rates

NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
_seq = count(1)


def t(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def nov(day: int, hour: int = 9) -> datetime:
    return t(11, day, hour)


def ev(ticket: int, action: str, at: datetime, **payload: object) -> RateEvent:
    return RateEvent.of(ticket, next(_seq), action, at, dict(payload))


def cb(ticket: int, at: datetime, contacted: bool, satisfaction: str | None, solved: bool | None):
    return ev(ticket, "callback", at, contacted=contacted, satisfaction=satisfaction, solved=solved)


def clock(
    ticket: int, kind: str, started: datetime, due: datetime, met: datetime | None = None
) -> RateClock:
    """A clock met at `met` (default: at its start, i.e. answered; None via `running`)."""
    return RateClock(ticket, kind, started, due, met or started)


def running(ticket: int, kind: str, started: datetime, due: datetime) -> RateClock:
    return RateClock(ticket, kind, started, due, None)


# ZJJ and RSJ, November 2026. Comments say how each ticket counts.
EVENTS = [
    # T1 ZJJ: dispatched, signed on time, replied on time; callback 满意, solved.
    ev(1, "create", nov(2, 8)),
    ev(1, "dispatch", nov(2), lead_unit="ZJJ"),
    ev(1, "sign", nov(2, 10)),
    ev(1, "urge", nov(3)),
    ev(1, "reply", nov(5), result="solved"),
    cb(1, nov(6), True, "满意", True),
    ev(1, "close", nov(6, 10)),
    # T2 ZJJ: signed late; two extensions approved (one extended assignment); replied on
    # time thanks to them; callback 基本满意, not solved although the unit said "solved".
    ev(2, "dispatch", nov(3), lead_unit="ZJJ"),
    ev(2, "sign", nov(3, 15)),
    ev(2, "request-extension", nov(7)),
    ev(2, "approve-extension", nov(8)),
    ev(2, "approve-extension", nov(12)),
    ev(2, "reply", nov(15), result="solved"),
    cb(2, nov(16), True, "基本满意", False),
    # T3 ZJJ disputes it; 改派 to RSJ, which signs inside the new receipt clock (late on the
    # first one) and replies late; callback 不满意 → 重办 (RSJ's), second reply not counted
    # again; second callback 满意, solved: both callbacks are RSJ's.
    ev(3, "dispatch", nov(4), lead_unit="ZJJ"),
    ev(3, "reject", nov(4, 10), reason="不属于本单位"),
    ev(3, "redispatch", nov(4, 14), lead_unit="RSJ", previous_unit="ZJJ"),
    ev(3, "sign", nov(4, 15)),
    ev(3, "reply", nov(12)),
    cb(3, nov(13), True, "不满意", False),
    ev(3, "reopen", nov(13, 10)),
    ev(3, "reply", nov(14)),
    cb(3, nov(15), True, "满意", True),
    # T4 ZJJ, dispatched in October: only its November callback counts (not reached).
    ev(4, "dispatch", t(10, 20), lead_unit="ZJJ"),
    ev(4, "sign", t(10, 20, 10)),
    ev(4, "reply", t(10, 28)),
    cb(4, nov(2), False, None, None),
    # T5 ZJJ, dispatched in October, replied in November (not a November reply): callback
    # 满意 solved → 重办 → callback 基本满意 solved. One reopened callback.
    ev(5, "dispatch", t(10, 25), lead_unit="ZJJ"),
    ev(5, "sign", t(10, 25, 10)),
    ev(5, "reply", nov(3)),
    cb(5, nov(4), True, "满意", True),
    ev(5, "reopen", nov(5)),
    ev(5, "reply", nov(8)),
    cb(5, nov(9), True, "基本满意", True),
    # T6 ZJJ: dispatched on the evening of 30 November, signed (on time) and replied (on
    # time) in December: a November assignment; its December callback is not November's.
    ev(6, "dispatch", nov(30, 20), lead_unit="ZJJ"),
    ev(6, "sign", t(12, 1, 7)),
    ev(6, "reply", t(12, 5)),
    cb(6, t(12, 6), True, "不满意", False),
    # T7 ZJJ: dispatched, never signed: both deadlines passed in November (late twice).
    ev(7, "dispatch", nov(10), lead_unit="ZJJ"),
    # T8 ZJJ: signed on time, one extension, no reply yet (not due before December).
    ev(8, "dispatch", nov(11), lead_unit="ZJJ"),
    ev(8, "sign", nov(11, 10)),
    ev(8, "approve-extension", nov(14)),
    # T9 ZJJ: signed late, replied late; callback 不满意, not solved.
    ev(9, "dispatch", nov(12), lead_unit="ZJJ"),
    ev(9, "sign", nov(12, 13)),
    ev(9, "reply", nov(25)),
    cb(9, nov(26), True, "不满意", False),
    # T10 ZJJ: signed and replied on time; callback 满意, solved.
    ev(10, "dispatch", nov(20), lead_unit="ZJJ"),
    ev(10, "sign", nov(20, 10)),
    ev(10, "reply", nov(21)),
    cb(10, nov(22), True, "满意", True),
    # T11 ZJJ: disputed, not yet re-dispatched.
    ev(11, "dispatch", nov(28), lead_unit="ZJJ"),
    ev(11, "reject", nov(28, 10), reason="不属于本单位"),
    # T12 ZJJ: a repeat, signed, then merged into T9: counts nowhere.
    ev(12, "dispatch", nov(13), lead_unit="ZJJ"),
    ev(12, "sign", nov(13, 10)),
    ev(12, "approve-extension", nov(14)),
    ev(12, "merge", nov(15), into="20261112-00001"),
]
CLOCKS = [
    clock(1, "receipt", nov(2), nov(2, 11)),
    clock(1, "feedback", nov(2), nov(9)),
    clock(2, "receipt", nov(3), nov(3, 11)),
    clock(2, "feedback", nov(3), nov(20)),  # due moved by the extensions
    clock(3, "receipt", nov(4), nov(4, 11), nov(4, 10)),  # met by the 退单 in time
    clock(3, "receipt", nov(4, 14), nov(4, 16)),  # restarted by the 改派
    clock(3, "feedback", nov(4), nov(11)),
    clock(3, "feedback", nov(13, 10), nov(20)),  # restarted by the 重办
    clock(6, "receipt", nov(30, 20), t(12, 1, 8)),
    clock(6, "feedback", nov(30, 20), t(12, 7)),
    running(7, "receipt", nov(10), nov(10, 11)),
    running(7, "feedback", nov(10), nov(17)),
    clock(8, "receipt", nov(11), nov(11, 11)),
    running(8, "feedback", nov(11), t(12, 2)),
    clock(9, "receipt", nov(12), nov(12, 11)),
    clock(9, "feedback", nov(12), nov(19)),
    clock(10, "receipt", nov(20), nov(20, 11)),
    clock(10, "feedback", nov(20), nov(27)),
    clock(11, "receipt", nov(28), nov(28, 11), nov(28, 10)),
    clock(12, "receipt", nov(13), nov(13, 11)),
]


def test_each_units_counts_follow_the_period_and_attribution_rules() -> None:
    _, units = unit_rates(EVENTS, CLOCKS, NOVEMBER)
    assert set(units) == {"ZJJ", "RSJ"}
    assert units["ZJJ"].counts() == {
        "dispatched": 9,  # T1 T2 T3 T6 T7 T8 T9 T10 T11
        "signed": 6,  # T1 T2 T6 T8 T9 T10
        "signed_on_time": 4,  # T1 T6 T8 T10
        "disputed": 2,  # T3 T11
        "extended": 2,  # T2 (twice, one assignment) T8
        "replied": 5,  # T1 T2 T6 T9 T10
        "replied_on_time": 4,  # T1 T2 T6 T10
        "callbacks": 7,  # T1 T2 T4 T5 T5 T9 T10
        "contacted": 6,  # all but T4
        "solved": 4,  # T1 T5 T5 T10
        "satisfied": 3,  # T1 T5 T10
        "basically_satisfied": 2,  # T2 T5
        "unsatisfied": 1,  # T9
        "reopened": 1,  # T5
        "overdue_unsigned": 1,  # T7 (T3 and T11 disputed in time)
        "overdue_unreplied": 1,  # T7 (T8's deadline is in December)
    }
    assert units["RSJ"].counts() == {
        "dispatched": 1,
        "signed": 1,
        "signed_on_time": 1,
        "disputed": 0,
        "extended": 0,
        "replied": 1,
        "replied_on_time": 0,
        "callbacks": 2,
        "contacted": 2,
        "solved": 1,
        "satisfied": 1,
        "basically_satisfied": 0,
        "unsatisfied": 1,
        "reopened": 1,
        "overdue_unsigned": 0,
        "overdue_unreplied": 0,
    }


def test_rates_by_hand() -> None:
    overall, units = unit_rates(EVENTS, CLOCKS, NOVEMBER)
    assert units["ZJJ"].rates() == {
        "sign_rate": 0.6667,  # 6/9
        "sign_on_time_rate": 0.5714,  # 4/(6 signed + 1 overdue unsigned)
        "dispute_rate": 0.2222,  # 2/9
        "reply_rate": 0.8333,  # 5/6
        "on_time_rate": 0.6667,  # 4/(5 replied + 1 overdue unreplied)
        "extension_rate": 0.3333,  # 2/6
        "reopen_rate": 0.1429,  # 1/7
        "response_rate": 0.8571,  # 6/7
        "resolution_rate": 0.5714,  # 4/7
        "satisfaction_rate": 0.6857,  # (3 + 1.8)/7
    }
    assert units["RSJ"].rates() == {
        "sign_rate": 1.0,
        "sign_on_time_rate": 1.0,
        "dispute_rate": 0.0,
        "reply_rate": 1.0,
        "on_time_rate": 0.0,
        "extension_rate": 0.0,
        "reopen_rate": 0.5,
        "response_rate": 1.0,
        "resolution_rate": 0.5,
        "satisfaction_rate": 0.5,
    }
    assert overall.rates() == {
        "sign_rate": 0.7,  # 7/10
        "sign_on_time_rate": 0.625,  # 5/(7 + 1)
        "dispute_rate": 0.2,  # 2/10
        "reply_rate": 0.8571,  # 6/7
        "on_time_rate": 0.5714,  # 4/(6 + 1)
        "extension_rate": 0.2857,  # 2/7
        "reopen_rate": 0.2222,  # 2/9
        "response_rate": 0.8889,  # 8/9
        "resolution_rate": 0.5556,  # 5/9
        "satisfaction_rate": 0.6444,  # (4 + 1.8)/9
    }


def test_resolution_is_what_the_complainant_says_not_the_units_result() -> None:
    # T2: the unit replied "solved", the complainant said it was not.
    _, units = unit_rates([e for e in EVENTS if e.ticket_id == 2], CLOCKS, NOVEMBER)
    assert (units["ZJJ"].callbacks, units["ZJJ"].solved) == (1, 0)
    assert units["ZJJ"].rates()["resolution_rate"] == 0.0


def test_a_merged_repeat_counts_nowhere() -> None:
    _, units = unit_rates([e for e in EVENTS if e.ticket_id == 12], CLOCKS, NOVEMBER)
    assert units["ZJJ"].counts() == Figures().counts()
    # Without the merge it would have been a signed, extended November dispatch.
    unmerged = [e for e in EVENTS if e.ticket_id == 12 and e.action != "merge"]
    counts = unit_rates(unmerged, CLOCKS, NOVEMBER)[1]["ZJJ"].counts()
    assert (counts["dispatched"], counts["signed_on_time"], counts["extended"]) == (1, 1, 1)


def test_event_order_is_by_sequence_not_by_list_order() -> None:
    shuffled = list(reversed(EVENTS))
    assert (
        unit_rates(shuffled, CLOCKS, NOVEMBER)[1]["ZJJ"]
        == unit_rates(EVENTS, CLOCKS, NOVEMBER)[1]["ZJJ"]
    )


def test_a_group_limits_units_and_overall() -> None:
    overall, units = unit_rates(EVENTS, CLOCKS, NOVEMBER, include=lambda code: code == "RSJ")
    assert list(units) == ["RSJ"]
    assert overall == units["RSJ"]


def test_october_sees_only_octobers_assignments() -> None:
    october = Period(datetime(2026, 10, 1, tzinfo=UTC), NOVEMBER.start)
    overall, units = unit_rates(EVENTS, CLOCKS, october)
    # T4 and T5 were dispatched and signed in October (no receipt clock rows: on time);
    # T5's reply came in November but completes an October assignment.
    assert units["ZJJ"].counts() == {
        **Figures().counts(),
        "dispatched": 2,
        "signed": 2,
        "signed_on_time": 2,
        "replied": 2,
        "replied_on_time": 2,
    }
    assert overall.rates()["response_rate"] is None


@pytest.mark.parametrize("empty", ["dispatched", "signed", "replied", "callbacks"])
def test_a_zero_denominator_gives_null_not_zero(empty: str) -> None:
    fig = Figures(dispatched=4, signed=2, signed_on_time=1, replied=1, callbacks=3, contacted=2)
    setattr(fig, empty, 0)
    rates = fig.rates()
    depends = {
        "dispatched": ["sign_rate", "dispute_rate"],
        "signed": ["sign_on_time_rate", "reply_rate", "extension_rate"],
        "replied": ["on_time_rate"],
        "callbacks": [
            "reopen_rate",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
        ],
    }[empty]
    assert [name for name, value in rates.items() if value is None] == depends


def test_one_tickets_rows_are_what_its_log_says() -> None:
    """T3: ZJJ's dispatch (disputed) and RSJ's 改派 (signed on time on the restarted receipt
    clock, replied late); both callbacks are RSJ's, the first one followed by a 重办."""
    from hotline.reporting.unit_rates import ticket_rate_rows

    t3 = [e for e in EVENTS if e.ticket_id == 3]
    assignments, callbacks = ticket_rate_rows(t3, [c for c in CLOCKS if c.ticket_id == 3])
    assert [(a.ordinal, a.unit, a.at) for a in assignments] == [
        (1, "ZJJ", nov(4)),
        (2, "RSJ", nov(4, 14)),
    ]
    assert assignments[0].counts() == {
        "dispatched": 1,
        "signed": 0,
        "signed_on_time": 0,
        "disputed": 1,
        "extended": 0,
        "replied": 0,
        "replied_on_time": 0,
    }
    assert assignments[1].counts() == {
        "dispatched": 1,
        "signed": 1,
        "signed_on_time": 1,
        "disputed": 0,
        "extended": 0,
        "replied": 1,
        "replied_on_time": 0,
    }
    # ZJJ disputed before its receipt deadline and lost the ticket before its feedback one.
    assert (assignments[0].unsigned_due_at, assignments[0].unreplied_due_at) == (None, None)
    assert [(c.ordinal, c.unit, c.at, c.satisfaction, c.reopened) for c in callbacks] == [
        (1, "RSJ", nov(13), "不满意", True),
        (2, "RSJ", nov(15), "满意", False),
    ]


def test_a_merged_repeats_row_stays_but_adds_nothing() -> None:
    """T12 keeps its row (a merged repeat is still in the log) and adds no count."""
    from hotline.reporting.unit_rates import ticket_rate_rows

    (row,), callbacks = ticket_rate_rows([e for e in EVENTS if e.ticket_id == 12], CLOCKS)
    assert row.merged and row.signed and callbacks == []
    assert set(row.counts().values()) == {0}


def test_an_unanswered_assignment_counts_as_late_once_its_deadline_passed() -> None:
    """T7 is never signed nor answered: 市教育局's 100% with unanswered work is gone."""
    t7 = [e for e in EVENTS if e.ticket_id == 7]
    _, units = unit_rates(t7, CLOCKS, NOVEMBER)
    fig = units["ZJJ"]
    assert (fig.overdue_unsigned, fig.overdue_unreplied) == (1, 1)
    assert fig.rates()["sign_on_time_rate"] == 0.0 and fig.rates()["on_time_rate"] == 0.0
    # Judged at `now` for a running period: before the feedback deadline only the receipt
    # one has passed, and nothing is due yet before the receipt deadline.
    _, early = unit_rates(t7, CLOCKS, NOVEMBER, now=nov(12))
    assert (early["ZJJ"].overdue_unsigned, early["ZJJ"].overdue_unreplied) == (1, 0)
    assert early["ZJJ"].rates()["on_time_rate"] is None
    _, first = unit_rates(t7, CLOCKS, NOVEMBER, now=nov(10, 10))
    assert first["ZJJ"].rates()["sign_on_time_rate"] is None


def test_a_paused_or_late_stopped_clock() -> None:
    """An approved 挂起 is not lateness; a 退单 after the receipt deadline is late."""
    events = [ev(50, "dispatch", nov(3), lead_unit="ZJJ"), ev(50, "reject", nov(3, 14))]
    late = [clock(50, "receipt", nov(3), nov(3, 11), nov(3, 14))]
    assert unit_rates(events, late, NOVEMBER)[1]["ZJJ"].overdue_unsigned == 1
    events = [ev(51, "dispatch", nov(3), lead_unit="ZJJ"), ev(51, "sign", nov(3, 10))]
    paused = [
        clock(51, "receipt", nov(3), nov(3, 11), nov(3, 10)),
        RateClock(51, "feedback", nov(3), nov(10), None, paused=True),
    ]
    assert unit_rates(events, paused, NOVEMBER)[1]["ZJJ"].overdue_unreplied == 0
