"""Clock effects declared as data and the pure plan that applies them to a ticket's clocks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import WorkCalendar
from sla.clock import ClockError, ClockKind, ClockState
from sla.effects import (
    ClockOp,
    ExtensionsUsedUp,
    PolicyRefusal,
    effect,
    extension_limit,
    next_due,
    plan,
)
from sla.limits import Limit, Unit, parse_limit
from sla.policy import Policy

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.from_package()
T0 = dt.datetime(2026, 10, 12, 10, tzinfo=SH)  # a Monday
R, M, F = ClockKind.RECEIPT, ClockKind.MEDIATION, ClockKind.FEEDBACK


def policy(**kw: object) -> Policy:
    base: dict[str, object] = {
        "name": "一般诉求",
        "receipt": parse_limit("24h"),
        "feedback": parse_limit("7wd"),
        "extension": parse_limit("5wd"),
        "max_extensions": 1,
    }
    base.update(kw)
    return Policy(**base)  # type: ignore[arg-type]


def run(effects: list, open_clocks: dict, p: Policy, at: dt.datetime = T0, days: int | None = None):
    return plan(effects, open_clocks, policy=p, now=at, calendar=CAL, params={"days": days})


def dispatched(p: Policy) -> dict:
    started = run([effect(ClockOp.START, R, F)], {}, p).started
    return {c.kind: c for c in started}


def test_dispatch_starts_receipt_and_feedback_and_mediation_only_where_the_policy_has_it() -> None:
    p = policy()
    clocks = dispatched(p)
    assert set(clocks) == {R, F}
    signed = run(
        [effect(ClockOp.MEET, R), effect(ClockOp.START, M)], clocks, p, T0 + dt.timedelta(hours=1)
    )
    assert [c.kind for c in signed.changed] == [R] and signed.changed[0].met_at is not None
    assert signed.started == ()  # no mediation limit in this policy: no clock
    with_mediation = policy(mediation=parse_limit("45wd"))
    signed = run([effect(ClockOp.MEET, R), effect(ClockOp.START, M)], clocks, with_mediation)
    assert [c.kind for c in signed.started] == [M]


def test_meeting_a_clock_that_is_not_open_changes_nothing() -> None:
    result = run([effect(ClockOp.MEET, M)], dispatched(policy()), policy())
    assert not result.touches()


def test_a_policy_that_forbids_pausing_refuses_it_with_a_reason() -> None:
    p = policy(name="紧急诉求", pause_allowed=False)
    with pytest.raises(PolicyRefusal) as err:
        run([effect(ClockOp.PAUSE, F, M)], dispatched(p), p)
    assert err.value.code == "pause_not_allowed" and "紧急诉求" in str(err.value)


def test_paused_clocks_do_not_count_for_the_next_due_time() -> None:
    p = policy()
    clocks = dispatched(p)
    paused = run([effect(ClockOp.PAUSE, F)], clocks, p, T0 + dt.timedelta(hours=2))
    after = paused.open_after(clocks)
    assert after[F].state is ClockState.PAUSED
    assert next_due(after) == clocks[R].due_at
    assert next_due({F: after[F]}) is None


def test_a_second_extension_request_is_refused_when_the_policy_allows_one() -> None:
    p = policy()
    clocks = dispatched(p)
    asked = run([effect(ClockOp.CHECK_EXTENSION, F)], clocks, p, days=3)
    assert not asked.touches()  # asking changes no deadline
    granted = run([effect(ClockOp.EXTEND, F)], clocks, p, days=3)
    [extended] = granted.changed
    assert granted.extension == Limit(3, Unit.WORKDAYS)
    assert extended.due_at > clocks[F].due_at
    with pytest.raises(ExtensionsUsedUp) as err:
        run([effect(ClockOp.CHECK_EXTENSION, F)], {**clocks, F: extended}, p, days=1)
    assert "最多延期 1 次" in str(err.value)
    assert isinstance(err.value, ClockError)


def test_extension_limits_come_from_the_policy() -> None:
    assert extension_limit(policy(), 5) == Limit(5, Unit.WORKDAYS)
    with pytest.raises(PolicyRefusal, match="每次最多延期 5 个工作日"):
        extension_limit(policy(), 6)
    with pytest.raises(PolicyRefusal, match="不允许延期"):
        extension_limit(policy(extension=None, max_extensions=0), 1)
    assert extension_limit(policy(extension=parse_limit("24h")), 9) == parse_limit("24h")


def test_stop_retires_every_open_clock_and_nothing_is_due() -> None:
    p = policy()
    clocks = dispatched(p)
    result = run([effect(ClockOp.STOP)], clocks, p)
    assert result.stop_all and result.open_after(clocks) == {}
    assert next_due(result.open_after(clocks)) is None


def test_restarting_a_clock_replaces_it() -> None:
    p = policy()
    clocks = dispatched(p)
    later = T0 + dt.timedelta(days=1)
    result = run([effect(ClockOp.START, R)], clocks, p, later)
    [restarted] = result.started
    assert restarted.started_at == later.astimezone(dt.UTC)
    assert result.open_after(clocks)[R] is restarted and result.changed == ()


def test_restore_brings_back_a_stopped_clock_with_its_own_deadline() -> None:
    """驳回退单: the receipt clock comes back as if the dispute had not stopped it."""
    p = policy()
    clocks = dispatched(p)
    later = T0 + dt.timedelta(hours=30)  # past the 24 h receipt deadline
    back = plan(
        [effect(ClockOp.RESTORE, R)], {F: clocks[F]}, policy=p, now=later, calendar=CAL,
        latest={R: clocks[R], F: clocks[F]},
    )  # fmt: skip
    [receipt] = back.started
    assert (receipt.started_at, receipt.due_at) == (clocks[R].started_at, clocks[R].due_at)
    assert receipt.met_at is None and receipt.state is ClockState.BREACHED
    assert back.restored == frozenset({R})
    # A clock still running is left as it is.
    assert plan(
        [effect(ClockOp.RESTORE, F)], {F: clocks[F]}, policy=p, now=later, calendar=CAL,
        latest={F: clocks[F]},
    ).started == ()  # fmt: skip


def test_restore_reopens_only_what_the_returned_answer_met() -> None:
    """退回答复: the feedback clock the reply met comes back; one met earlier stays met."""
    p = policy(mediation=parse_limit("45wd"))
    clocks = dispatched(p)
    mediated = run([effect(ClockOp.START, M)], clocks, p).started[0]
    mediated_met = run([effect(ClockOp.MEET, M)], {M: mediated}, p, T0 + dt.timedelta(hours=2))
    answered_at = T0 + dt.timedelta(days=2)
    replied = run([effect(ClockOp.MEET, F)], clocks, p, answered_at).changed[0]
    latest = {F: replied, M: mediated_met.changed[0]}
    back = plan(
        [effect(ClockOp.RESTORE, F, M)], {}, policy=p, now=answered_at + dt.timedelta(hours=1),
        calendar=CAL, params={"answered_at": answered_at.isoformat()}, latest=latest,
    )  # fmt: skip
    assert [c.kind for c in back.started] == [F]
    assert back.started[0].due_at == clocks[F].due_at and back.started[0].met_at is None


def test_a_start_may_take_its_limit_from_the_payload_and_skips_without_one() -> None:
    """督办 with a limit starts its own clock; without one, nothing happens."""
    p = policy()
    supervise = [effect(ClockOp.START, ClockKind.SUPERVISION, limit_from="limit")]
    assert not run(supervise, {}, p).touches()
    started = plan(supervise, {}, policy=p, now=T0, calendar=CAL, params={"limit": "3wd"}).started
    assert [(c.kind, str(c.limit)) for c in started] == [(ClockKind.SUPERVISION, "3wd")]


def test_the_centres_decision_clock_is_never_the_next_due() -> None:
    p = policy(decision=parse_limit("1wd"))
    clocks = dispatched(p)
    asked = run([effect(ClockOp.START, ClockKind.DECISION)], clocks, p).started
    both = {**clocks, ClockKind.DECISION: asked[0]}
    assert asked[0].due_at < clocks[F].due_at
    assert next_due({ClockKind.DECISION: asked[0], F: clocks[F]}) == clocks[F].due_at
    assert next_due(both) == clocks[R].due_at
