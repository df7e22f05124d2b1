"""The transition table and decide(): every (status, action, role), plus properties of the graph."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from hotline.domain.hierarchy import Party, SubState
from hotline.domain.lifecycle import (
    ACTION_BODIES,
    ACTION_SPECS,
    ACTIONS,
    LEAD_UNIT_ACTIONS,
    OPEN_STATUSES,
    OTHER_EVENTS,
    ROLE_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    WITH_UNIT,
    Action,
    Role,
    Status,
    TransitionError,
    allowed_actions,
    decide,
    event_label,
    event_public,
)
from hotline.domain.schemas import ActionBody
from sla.clock import ClockKind
from sla.effects import ClockOp

COMBOS = list(itertools.product(Status, Action, Role))
TERMINAL = {Status.CLOSED, Status.MERGED}
# Roles that sign in and act on tickets (SYSTEM only dispatches automatically).
PEOPLE = (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.ADMIN)


def _id(combo: tuple[Status, Action, Role]) -> str:
    status, action, role = combo
    return f"{status.value}-{action.value}-{role.value}"


@pytest.mark.parametrize("combo", COMBOS, ids=[_id(c) for c in COMBOS])
def test_decide_for_every_status_action_and_role(combo: tuple[Status, Action, Role]) -> None:
    status, action, role = combo
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        with pytest.raises(TransitionError) as err:
            decide(status, action, role)
        assert err.value.status == 409 and err.value.code == "invalid_transition"
        # The message names the state and the action in words a person reads.
        assert STATUS_LABELS[status] in err.value.message
        assert ACTIONS[action].label in err.value.message
    elif role not in rule.roles:
        with pytest.raises(TransitionError) as err:
            decide(status, action, role)
        assert err.value.status == 403 and err.value.code == "forbidden_role"
        assert ACTIONS[action].label in err.value.message
        for allowed in rule.roles:
            assert ROLE_LABELS[allowed] in err.value.message
        assert ROLE_LABELS[role] not in err.value.message
    else:
        expected = rule.to if rule.to is not None else status
        assert decide(status, action, role) == expected


def test_the_table_covers_every_action_and_only_known_statuses() -> None:
    assert {a for (_, a) in TRANSITIONS} == set(Action)
    for (status, _), rule in TRANSITIONS.items():
        assert isinstance(status, Status)
        assert rule.to is None or isinstance(rule.to, Status)
        assert rule.roles, "a rule nobody may use is dead data"
    # Every action has a label for the timeline and a request body for the API.
    assert {a.value for a in Action} == set(ACTION_BODIES)


def test_every_action_is_declared_once_and_completely() -> None:
    assert [spec.action for spec in ACTION_SPECS] == list(
        dict.fromkeys(s.action for s in ACTION_SPECS)
    )
    assert set(ACTIONS) == set(Action)
    labels = [spec.label for spec in ACTION_SPECS] + [label for label, _ in OTHER_EVENTS.values()]
    assert len(labels) == len(set(labels)), "two events with one label cannot be told apart"
    for spec in ACTION_SPECS:
        assert spec.label and all("\u4e00" <= ch <= "\u9fff" for ch in spec.label), spec
        assert issubclass(spec.body, ActionBody), spec
        assert spec.moves, f"{spec.action} can never happen"
        sources = [m.source for m in spec.moves]
        assert len(sources) == len(set(sources)), f"{spec.action}: two moves from one status"
        assert all(m.roles for m in spec.moves)
        assert event_label(spec.action.value) == spec.label
        assert event_public(spec.action.value) == spec.public
        for effect in spec.clocks:
            assert all(isinstance(k, ClockKind) for k in effect.kinds)
            assert effect.op is ClockOp.STOP or effect.kinds, (
                f"{spec.action}: {effect} names no clock"
            )
        # A reply the complainant reads must be on their tracking page.
        assert not spec.shows_reply or spec.public
        if spec.clears:
            assert not spec.closes, f"{spec.action} cannot both close and reopen"


def test_actions_that_end_a_ticket_stop_its_clocks_and_stamp_closed_at() -> None:
    for spec in ACTION_SPECS:
        ends = any(m.to in TERMINAL for m in spec.moves)
        assert ends == spec.closes, spec.action
        if ends:
            assert any(e.op is ClockOp.STOP for e in spec.clocks), spec.action


def test_an_assisting_unit_is_offered_none_of_the_leads_actions() -> None:
    for status in Status:
        offered = allowed_actions(status, Role.UNIT, lead=False)
        assert not set(offered) & LEAD_UNIT_ACTIONS, status
    assert Action.SIGN in allowed_actions(Status.DISPATCHED, Role.UNIT, lead=True)


def test_closed_and_merged_are_final_except_a_supervisor_reopening_a_closed_ticket() -> None:
    moves = {
        (status, action, role)
        for status, action, role in COMBOS
        if status in TERMINAL and _allowed(status, action, role)
    }
    assert moves == {(Status.CLOSED, Action.REOPEN, Role.SUPERVISOR)}
    assert decide(Status.CLOSED, Action.REOPEN, Role.SUPERVISOR) == Status.HANDLING
    assert TERMINAL.isdisjoint(OPEN_STATUSES) and set(Status) == OPEN_STATUSES | TERMINAL


def _allowed(status: Status, action: Action, role: Role) -> bool:
    try:
        decide(status, action, role)
    except TransitionError:
        return False
    return True


def _reachable(start: Status, roles: tuple[Role, ...]) -> set[Status]:
    """Statuses reachable from `start` by any sequence of actions by `roles` (via decide)."""
    seen = {start}
    queue = deque([start])
    while queue:
        status = queue.popleft()
        for action, role in itertools.product(Action, roles):
            if _allowed(status, action, role):
                review = ACTIONS[action].review
                # A reviewed kind's answer goes to the centre's review instead (答复审核).
                for nxt in (decide(status, action, role), review.to if review else None):
                    if nxt is not None and nxt not in seen:
                        seen.add(nxt)
                        queue.append(nxt)
    return seen


def test_every_status_is_reachable_from_received_by_people() -> None:
    assert _reachable(Status.RECEIVED, PEOPLE) == set(Status)


def test_no_open_status_is_a_trap() -> None:
    # From anywhere a ticket can still be finished: closed or merged.
    for status in OPEN_STATUSES:
        assert _reachable(status, PEOPLE) & TERMINAL, status


def test_the_normal_path_needs_centre_and_unit_in_turn() -> None:
    path = [
        (Action.DISPATCH, Role.OPERATOR, Status.DISPATCHED),
        (Action.SIGN, Role.UNIT, Status.HANDLING),
        (Action.REPLY, Role.UNIT, Status.REPLIED),
        (Action.CALLBACK, Role.OPERATOR, Status.CALLED_BACK),
        (Action.CLOSE, Role.OPERATOR, Status.CLOSED),
    ]
    status = Status.RECEIVED
    for action, role, expected in path:
        status = decide(status, action, role)
        assert status == expected
    # Neither side can do the other's part.
    assert not _allowed(Status.DISPATCHED, Action.SIGN, Role.OPERATOR)
    assert not _allowed(Status.RECEIVED, Action.DISPATCH, Role.UNIT)
    assert not _allowed(Status.HANDLING, Action.REPLY, Role.SUPERVISOR)
    assert not _allowed(Status.REPLIED, Action.CALLBACK, Role.UNIT)


def test_admins_manage_accounts_not_tickets() -> None:
    assert [c for c in COMBOS if c[2] == Role.ADMIN and _allowed(*c)] == []


def test_the_system_may_only_dispatch_a_received_ticket() -> None:
    assert [(s, a) for s, a, r in COMBOS if r == Role.SYSTEM and _allowed(s, a, r)] == [
        (Status.RECEIVED, Action.DISPATCH)
    ]


def test_the_citizen_may_rate_a_replied_ticket_urge_and_add_while_it_is_handled() -> None:
    # The tracking page's rating is the callback (回访), so it counts in the rates like one;
    # 催一催 is the centre's 催办; 补充说明 until the ticket is answered.
    allowed = {(s, a) for s, a, r in COMBOS if r == Role.CITIZEN and _allowed(s, a, r)}
    assert allowed == {
        (Status.REPLIED, Action.CALLBACK),
        # not while the centre re-dispatches a 退单 (the unit that disputed is not late)
        *((s, Action.URGE) for s in WITH_UNIT if s is not Status.DISPUTED),
        *((s, Action.SUPPLEMENT) for s in (Status.RECEIVED, *WITH_UNIT)),
    }
    assert decide(Status.REPLIED, Action.CALLBACK, Role.CITIZEN) == Status.CALLED_BACK
    assert allowed_actions(Status.REPLIED, Role.CITIZEN) == [Action.CALLBACK]
    assert Action.CALLBACK not in LEAD_UNIT_ACTIONS


def test_urging_and_supervising_only_while_a_unit_holds_the_ticket() -> None:
    for action in (Action.URGE, Action.SUPERVISE):
        holding = {s for s in Status if any(_allowed(s, action, r) for r in Role)}
        # A 退单待改派 ticket waits on the centre: urging it would charge the unit that disputed.
        assert holding == WITH_UNIT - {Status.DISPUTED}
        for status in holding:
            assert decide(status, action, Role.SUPERVISOR) == status  # no status change
    assert not any(_allowed(s, Action.SUPERVISE, Role.OPERATOR) for s in Status)


def test_merge_only_before_the_unit_replied() -> None:
    merging = {s for s in Status if _allowed(s, Action.MERGE, Role.OPERATOR)}
    assert merging == {Status.RECEIVED, Status.DISPATCHED, Status.DISPUTED, Status.HANDLING}


def test_lead_unit_actions_are_exactly_what_units_may_do() -> None:
    unit_actions = {
        a
        for s, a, r in COMBOS
        if r == Role.UNIT and _allowed(s, a, r) and ACTIONS[a].party is Party.LEAD
    }
    assert LEAD_UNIT_ACTIONS == unit_actions
    # Assisting units and the descendant holding a 下派 have actions of their own.
    assert Action.ASSIST_OPINION not in LEAD_UNIT_ACTIONS
    assert Action.SUB_REPLY not in LEAD_UNIT_ACTIONS and Action.SUBDISPATCH not in LEAD_UNIT_ACTIONS
    # Passing down and reviewing are the responsible unit's or a signed 下派 holder's (街道 →
    # 社区): not the lead's alone.
    for action in (Action.SUBDISPATCH, Action.SUB_APPROVE, Action.SUB_RETURN):
        assert ACTIONS[action].party is Party.PARENT
    assert Action.SIGN in LEAD_UNIT_ACTIONS and Action.URGE not in LEAD_UNIT_ACTIONS


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_agrees_with_decide(status: Status, role: Role) -> None:
    every = frozenset(Party)
    stages = [
        allowed_actions(status, role, parts=every, sub=stage, below=below)
        for stage in SubState
        for below in SubState
    ]
    for listed in stages:
        assert len(listed) == len(set(listed))
    assert set().union(*stages) == {a for a in Action if _allowed(status, a, role)}


def test_the_actions_that_refresh_rate_rows_are_those_the_rates_read() -> None:
    """An action the rates read (or one meeting a clock they read) that did not refresh the
    ticket's rate rows would leave the stored figures behind the event log."""
    from hotline.reporting.unit_rates import RATE_ACTIONS

    flagged = {spec.action.value for spec in ACTION_SPECS if spec.affects_rates}
    assert flagged == RATE_ACTIONS
    read = {ClockKind.RECEIPT, ClockKind.FEEDBACK}
    for spec in ACTION_SPECS:
        meets = [
            e for e in spec.clocks if e.op is ClockOp.MEET and (not e.kinds or read & set(e.kinds))
        ]
        assert not meets or spec.affects_rates, spec.action
