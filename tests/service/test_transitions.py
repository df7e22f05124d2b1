"""Every action by every role on a ticket in every status, through the ticket service.

Allowed moves reach the status the table promises and write exactly one event; refused
ones answer 409 (wrong state) or 403 (wrong role) and leave every row as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.hierarchy import Party, SubState
from hotline.domain.lifecycle import ACTION_BODIES, ACTIONS, TRANSITIONS, Action, Role, Status
from hotline.domain.models import Ticket, TicketClock, TicketEvent, TicketUnit
from hotline.domain.schemas import TicketCreate
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services.tickets import Actor, create_ticket, perform_action
from tests.bodies import VALID_BODIES
from tests.reviewing import reviewing
from tests.service.conftest import make_people

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai

ACCOUNTS = [
    ("op", "operator", None),
    ("sup", "supervisor", None),
    ("adm", "admin", None),
    ("zjj", "unit", "ZJJ"),
    ("rsj", "unit", "RSJ"),
]
# The people who act, one per role; the unit account belongs to the lead unit (ZJJ).
ACTORS = {Role.OPERATOR: "op", Role.UNIT: "zjj", Role.SUPERVISOR: "sup", Role.ADMIN: "adm"}

BODIES: dict[str, dict[str, Any]] = {
    **VALID_BODIES,
    "redispatch": {"lead_unit": "RSJ"},
    "merge": {},  # `into` is the target ticket of the test
}

DISPATCH = ("dispatch", "op")
SIGN = ("sign", "zjj")
REPLY = ("reply", "zjj")
CALLBACK = ("callback", "op")
# How a ticket reaches each status through real actions.
PATHS: dict[Status, list[tuple[str, str]]] = {
    Status.RECEIVED: [],
    Status.DISPATCHED: [DISPATCH],
    Status.DISPUTED: [DISPATCH, ("reject", "zjj")],
    Status.HANDLING: [DISPATCH, SIGN],
    Status.EXTENSION_REQUESTED: [DISPATCH, SIGN, ("request-extension", "zjj")],
    Status.PAUSED: [DISPATCH, SIGN, ("pause", "zjj"), ("approve-pause", "op")],
    Status.PAUSE_REQUESTED: [DISPATCH, SIGN, ("pause", "zjj")],
    # Reached with reply review on for the ticket's kind (see the test).
    Status.REPLY_REVIEW: [DISPATCH, SIGN, REPLY],
    Status.REPLIED: [DISPATCH, SIGN, REPLY],
    Status.CALLED_BACK: [DISPATCH, SIGN, REPLY, CALLBACK],
    Status.CLOSED: [DISPATCH, SIGN, REPLY, CALLBACK, ("close", "op")],
    # Merged after dispatch, so the unit still holds a link and meets 409, not 404.
    Status.MERGED: [DISPATCH, ("merge", "op")],
}


@dataclass
class Env:
    """People, a moving clock and helpers to create and act on tickets."""

    deployment: Deployment
    people: dict[str, Principal] = field(default_factory=dict)
    now: datetime = T0
    target: str = ""  # an open ticket that merges go into

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    async def create(self) -> Ticket:
        data = TicketCreate.model_validate(
            {
                "kind": "投诉",
                "title": "小区物业不作为",
                "content": "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。",
                "complainant": {"name": "张先生", "phone": "13812345678"},
            }
        )
        return (
            await create_ticket(
                data=data,
                actor=Actor.of(self.people["op"]),
                now=self.tick(),
                deployment=self.deployment,
                auto_dispatch=False,
            )
        ).ticket

    async def act(self, number: str, action: str, who: str) -> Ticket:
        body = dict(BODIES[action])
        if action == "merge":
            body["into"] = self.target
        return await perform_action(
            number=number,
            action=action,
            body=ACTION_BODIES[action].model_validate(body),
            principal=self.people[who],
            now=self.tick(),
            deployment=self.deployment,
        )

    async def ticket_in(self, status: Status) -> Ticket:
        ticket = await self.create()
        for action, who in PATHS[status]:
            await self.act(ticket.number, action, who)
        ticket = await Ticket.get(id=ticket.id)
        assert ticket.status == status.value
        return ticket


@pytest.fixture
async def env(db: Any, deployment: Deployment) -> Env:
    e = Env(deployment=deployment, people=await make_people(deployment, ACCOUNTS, now=T0))
    e.target = (await e.create()).number
    return e


async def snapshot(ticket_id: int) -> dict[str, Any]:
    """Everything an action could touch, for 'nothing changed' comparisons."""
    return {
        "ticket": await Ticket.filter(id=ticket_id).values(
            "status",
            "version",
            "lead_unit_id",
            "result",
            "satisfaction",
            "closed_at",
            "merged_into_id",
            "updated_at",
            "needs_review",
            "category",
        ),
        "events": await TicketEvent.filter(ticket_id=ticket_id)
        .order_by("id")
        .values_list("id", flat=True),
        "clocks": await TicketClock.filter(ticket_id=ticket_id).order_by("id").values(),
        "links": await TicketUnit.filter(ticket_id=ticket_id)
        .order_by("id")
        .values_list("unit_id", "role", "active"),
        "mails": await OutboxMessage.filter(transport="mail").count(),
        "tickets": await Ticket.all().count(),
    }


def expected_outcome(status: Status, action: Action, role: Role, *, linked: bool) -> Status | int:
    """The status after an allowed move, or the HTTP status of the refusal."""
    if role == Role.UNIT and not linked:
        return 404  # a unit does not see tickets that were never dispatched to it
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        return 409
    if role not in rule.roles:
        return 403
    spec = ACTIONS[action]
    if role == Role.UNIT and spec.party not in (Party.LEAD, Party.PARENT):
        return 403  # the lead unit holds no assisting or 下派 link of its own
    if spec.sub_from is not None and SubState.NONE not in spec.sub_from:
        return 409  # nothing was passed down
    return rule.to or status


async def _open_clocks(ticket_id: int) -> dict[str, TicketClock]:
    rows = await TicketClock.filter(ticket_id=ticket_id, current=True)
    return {c.kind: c for c in rows}


async def check_clock_effect(
    action: Action, ticket_id: int, before: dict[str, TicketClock], now: datetime
) -> None:
    """The deadline change a person would see after the action."""
    after = await _open_clocks(ticket_id)
    if action == Action.DISPATCH:
        assert {k for k, c in after.items() if c.met_at is None} == {"receipt", "feedback"}
    elif action == Action.REDISPATCH:
        assert after["receipt"].started_at == now and after["receipt"].met_at is None
        # The time lost to the wrong dispatch is the centre's: the new unit's feedback clock
        # starts from its own dispatch.
        assert after["feedback"].started_at == now and after["feedback"].met_at is None
    elif action == Action.REJECT:
        # The unit's receipt clock stops; the centre's own re-dispatch clock starts.
        assert "receipt" not in after
        assert after["redispatch"].started_at == now and after["redispatch"].met_at is None
    elif action == Action.SIGN:
        assert after["receipt"].met_at == now
    elif action == Action.REPLY:
        assert after["feedback"].met_at == now
        # Released to the complainant: the centre's callback clock starts.
        assert after["callback"].started_at == now and after["callback"].met_at is None
    elif action == Action.CALLBACK:
        assert after["callback"].met_at == now
    elif action == Action.PAUSE:
        # A request: the unit's clock runs on, the centre's decision clock starts.
        assert after["feedback"].state != "paused"
        assert after["decision"].started_at == now and after["decision"].met_at is None
    elif action == Action.APPROVE_PAUSE:
        assert after["feedback"].state == "paused" and after["decision"].met_at == now
    elif action == Action.REQUEST_EXTENSION:
        assert after["feedback"].due_at == before["feedback"].due_at
        assert after["decision"].started_at == now and after["decision"].met_at is None
    elif action in (Action.DENY_PAUSE, Action.REFUSE_EXTENSION, Action.APPROVE_REPLY):
        assert after["decision"].met_at == now
        assert after["feedback"].due_at == before["feedback"].due_at
        # Released by review: the callback clock starts then, not at the unit's answer.
        released = action == Action.APPROVE_REPLY
        assert ("callback" in after and after["callback"].started_at == now) == released
    elif action == Action.REJECT_DISPUTE:
        # Back to the unit on its first receipt clock, as if it had never been stopped.
        assert after["receipt"].met_at is None and after["receipt"].started_at < now
        assert after["redispatch"].met_at == now
    elif action == Action.RETURN_REPLY:
        assert after["feedback"].met_at is None
        assert after["feedback"].due_at == before["feedback"].due_at
        assert after["decision"].met_at == now
    elif action == Action.RESUME:
        assert after["feedback"].state != "paused"
        assert after["feedback"].due_at > before["feedback"].due_at
    elif action == Action.APPROVE_EXTENSION:
        assert after["feedback"].due_at == before["feedback"].due_at + timedelta(days=3)
        assert after["decision"].met_at == now
    elif action == Action.REOPEN:
        assert after["feedback"].started_at == now and after["feedback"].met_at is None
    elif action in (Action.ANSWER, Action.CLOSE, Action.MERGE):
        assert all(c.met_at is not None for c in after.values())
    else:
        assert {k: (c.id, c.due_at, c.state) for k, c in after.items()} == {
            k: (c.id, c.due_at, c.state) for k, c in before.items()
        }


@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
async def test_every_action_by_every_role(env: Env, status: Status) -> None:
    if status is Status.REPLY_REVIEW:
        with reviewing(env.deployment, "投诉"):
            await _every_action_by_every_role(env, status)
    else:
        await _every_action_by_every_role(env, status)


async def _every_action_by_every_role(env: Env, status: Status) -> None:
    shared = await env.ticket_in(status)
    linked = await TicketUnit.exists(ticket_id=shared.id, active=True)
    refused = allowed = 0
    for action in Action:
        for role, who in ACTORS.items():
            outcome = expected_outcome(status, action, role, linked=linked)
            label = f"{status.value} + {action.value} by {role.value}"
            if isinstance(outcome, int):
                before = await snapshot(shared.id)
                with pytest.raises(HotlineError) as err:
                    await env.act(shared.number, action.value, who)
                assert err.value.status == outcome, (
                    f"{label}: {err.value.status} {err.value.message}"
                )
                assert await snapshot(shared.id) == before, f"{label} changed something"
                refused += 1
                continue
            ticket = await env.ticket_in(status)
            before = await snapshot(ticket.id)
            clocks_before = await _open_clocks(ticket.id)
            try:
                await env.act(ticket.number, action.value, who)
            except HotlineError as exc:  # pragma: no cover - the failure message is the point
                pytest.fail(f"{label}: refused {exc.status} {exc.code} {exc.message}")
            after = await Ticket.get(id=ticket.id)
            assert after.status == outcome.value, label
            assert after.version == before["ticket"][0]["version"] + 1, label
            events = await TicketEvent.filter(ticket_id=ticket.id).order_by("id")
            assert [e.id for e in events[:-1]] == before["events"], label
            event = events[-1]
            assert (event.action, event.from_status, event.to_status, event.actor_role) == (
                action.value,
                status.value,
                outcome.value,
                role.value,
            ), label
            assert event.actor_id == env.people[who].user_id
            await check_clock_effect(action, ticket.id, clocks_before, env.now)
            allowed += 1
    assert refused + allowed == len(Action) * len(ACTORS)
    assert allowed == sum(
        1
        for a in Action
        for r in ACTORS
        if not isinstance(expected_outcome(status, a, r, linked=linked), int)
    )


async def test_a_unit_that_is_not_the_lead_may_not_act(env: Env) -> None:
    """An assisting unit sees the ticket but every lead-unit action is 403."""
    ticket = await env.create()
    await perform_action(
        number=ticket.number,
        action="dispatch",
        body=ACTION_BODIES["dispatch"].model_validate(
            {"lead_unit": "ZJJ", "assisting_units": ["RSJ"]}
        ),
        principal=env.people["op"],
        now=env.tick(),
        deployment=env.deployment,
    )
    before = await snapshot(ticket.id)
    for action in ("sign", "reject"):
        with pytest.raises(HotlineError) as err:
            await env.act(ticket.number, action, "rsj")
        assert (err.value.status, err.value.code) == (403, "not_lead_unit")
    assert await snapshot(ticket.id) == before
    await env.act(ticket.number, "sign", "zjj")
    assert (await Ticket.get(id=ticket.id)).status == "handling"


async def test_a_stale_expected_version_is_refused_and_changes_nothing(env: Env) -> None:
    ticket = await env.ticket_in(Status.DISPATCHED)
    before = await snapshot(ticket.id)
    stale = ACTION_BODIES["sign"].model_validate({"expected_version": ticket.version - 1})
    with pytest.raises(HotlineError) as err:
        await perform_action(
            number=ticket.number,
            action="sign",
            body=stale,
            principal=env.people["zjj"],
            now=env.tick(),
            deployment=env.deployment,
        )
    assert (err.value.status, err.value.code) == (409, "version_conflict")
    assert await snapshot(ticket.id) == before
    fresh = ACTION_BODIES["sign"].model_validate({"expected_version": ticket.version})
    await perform_action(
        number=ticket.number,
        action="sign",
        body=fresh,
        principal=env.people["zjj"],
        now=env.tick(),
        deployment=env.deployment,
    )
    assert (await Ticket.get(id=ticket.id)).version == ticket.version + 1
