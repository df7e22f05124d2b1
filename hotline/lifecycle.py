"""The ticket lifecycle as one table of transitions (pure: no I/O, no clock)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.errors import HotlineError


class Status(StrEnum):
    """Where a ticket stands."""

    RECEIVED = "received"
    DISPATCHED = "dispatched"
    DISPUTED = "disputed"
    HANDLING = "handling"
    EXTENSION_REQUESTED = "extension_requested"
    PAUSED = "paused"
    REPLIED = "replied"
    CALLED_BACK = "called_back"
    CLOSED = "closed"
    MERGED = "merged"


class Role(StrEnum):
    """Who is acting."""

    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"


class Action(StrEnum):
    """Everything that can be done to a ticket after it is received."""

    ANSWER = "answer"
    DISPATCH = "dispatch"
    SIGN = "sign"
    REJECT = "reject"
    REDISPATCH = "redispatch"
    REQUEST_EXTENSION = "request-extension"
    APPROVE_EXTENSION = "approve-extension"
    REFUSE_EXTENSION = "refuse-extension"
    PAUSE = "pause"
    RESUME = "resume"
    MEDIATE = "mediate"
    REPLY = "reply"
    CALLBACK = "callback"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"
    URGE = "urge"
    SUPERVISE = "supervise"


STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: "已受理",
    Status.DISPATCHED: "已派单待签收",
    Status.DISPUTED: "退单待改派",
    Status.HANDLING: "办理中",
    Status.EXTENSION_REQUESTED: "延期审核中",
    Status.PAUSED: "已挂起",
    Status.REPLIED: "已回复待回访",
    Status.CALLED_BACK: "已回访待办结",
    Status.CLOSED: "已办结",
    Status.MERGED: "已并单",
}

ACTION_LABELS: dict[str, str] = {
    "create": "受理",
    Action.ANSWER: "直接办结",
    Action.DISPATCH: "派单",
    Action.SIGN: "签收",
    Action.REJECT: "退单",
    Action.REDISPATCH: "改派",
    Action.REQUEST_EXTENSION: "延期申请",
    Action.APPROVE_EXTENSION: "同意延期",
    Action.REFUSE_EXTENSION: "不同意延期",
    Action.PAUSE: "挂起",
    Action.RESUME: "恢复办理",
    Action.MEDIATE: "调解结果",
    Action.REPLY: "回复",
    Action.CALLBACK: "回访",
    Action.CLOSE: "办结",
    Action.REOPEN: "重办",
    Action.MERGE: "并单",
    Action.URGE: "催办",
    Action.SUPERVISE: "督办",
    "sla_warning": "超时预警",
    "sla_breach": "超时",
}

ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR: "话务员",
    Role.UNIT: "承办单位",
    Role.SUPERVISOR: "督办人员",
    Role.ADMIN: "管理员",
    Role.SYSTEM: "系统",
}

OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.RECEIVED,
        Status.DISPATCHED,
        Status.DISPUTED,
        Status.HANDLING,
        Status.EXTENSION_REQUESTED,
        Status.PAUSED,
        Status.REPLIED,
        Status.CALLED_BACK,
    }
)
# States in which a unit holds the ticket and may be urged or supervised.
WITH_UNIT: frozenset[Status] = frozenset(
    {
        Status.DISPATCHED,
        Status.DISPUTED,
        Status.HANDLING,
        Status.EXTENSION_REQUESTED,
        Status.PAUSED,
    }
)

_CENTRE = frozenset({Role.OPERATOR, Role.SUPERVISOR})
_UNIT = frozenset({Role.UNIT})


@dataclass(frozen=True)
class Rule:
    """One allowed move: the next status (None keeps the status) and who may make it."""

    to: Status | None
    roles: frozenset[Role]


def _build() -> dict[tuple[Status, Action], Rule]:
    table: dict[tuple[Status, Action], Rule] = {
        (Status.RECEIVED, Action.ANSWER): Rule(Status.CLOSED, _CENTRE),
        (Status.RECEIVED, Action.DISPATCH): Rule(Status.DISPATCHED, _CENTRE | {Role.SYSTEM}),
        (Status.DISPATCHED, Action.SIGN): Rule(Status.HANDLING, _UNIT),
        (Status.DISPATCHED, Action.REJECT): Rule(Status.DISPUTED, _UNIT),
        # The centre may also correct its own dispatch before the unit signs.
        (Status.DISPATCHED, Action.REDISPATCH): Rule(Status.DISPATCHED, _CENTRE),
        (Status.DISPUTED, Action.REDISPATCH): Rule(Status.DISPATCHED, _CENTRE),
        (Status.HANDLING, Action.REQUEST_EXTENSION): Rule(Status.EXTENSION_REQUESTED, _UNIT),
        (Status.EXTENSION_REQUESTED, Action.APPROVE_EXTENSION): Rule(Status.HANDLING, _CENTRE),
        (Status.EXTENSION_REQUESTED, Action.REFUSE_EXTENSION): Rule(Status.HANDLING, _CENTRE),
        (Status.HANDLING, Action.PAUSE): Rule(Status.PAUSED, _UNIT),
        (Status.PAUSED, Action.RESUME): Rule(Status.HANDLING, _UNIT | _CENTRE),
        (Status.HANDLING, Action.MEDIATE): Rule(None, _UNIT),
        (Status.HANDLING, Action.REPLY): Rule(Status.REPLIED, _UNIT),
        (Status.REPLIED, Action.CALLBACK): Rule(Status.CALLED_BACK, _CENTRE),
        (Status.CALLED_BACK, Action.CLOSE): Rule(Status.CLOSED, _CENTRE),
        (Status.CALLED_BACK, Action.REOPEN): Rule(Status.HANDLING, _CENTRE),
        (Status.CLOSED, Action.REOPEN): Rule(Status.HANDLING, frozenset({Role.SUPERVISOR})),
    }
    # A repeat is merged into the open ticket before a unit has replied to it.
    for status in (Status.RECEIVED, Status.DISPATCHED, Status.DISPUTED, Status.HANDLING):
        table[(status, Action.MERGE)] = Rule(Status.MERGED, _CENTRE)
    for status in WITH_UNIT:
        table[(status, Action.URGE)] = Rule(None, _CENTRE)
        table[(status, Action.SUPERVISE)] = Rule(None, frozenset({Role.SUPERVISOR}))
    return table


TRANSITIONS: dict[tuple[Status, Action], Rule] = _build()

# Actions a unit may take only on tickets where it is the (active) lead unit.
LEAD_UNIT_ACTIONS: frozenset[Action] = frozenset(
    action for (_, action), rule in TRANSITIONS.items() if Role.UNIT in rule.roles
)


class TransitionError(HotlineError):
    """A refused action; `status` is the HTTP status that says why (409 state, 403 role)."""


def decide(status: Status, action: Action, role: Role) -> Status:
    """Return the status after `action`, or raise TransitionError (409 state, 403 role)."""
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        raise TransitionError(
            f"工单当前状态为「{STATUS_LABELS[status]}」，不能执行「{ACTION_LABELS[action]}」",
            status=409,
            code="invalid_transition",
        )
    if role not in rule.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in sorted(rule.roles))
        raise TransitionError(
            f"「{ACTION_LABELS[action]}」只能由{allowed}执行",
            status=403,
            code="forbidden_role",
        )
    return rule.to if rule.to is not None else status


def allowed_actions(status: Status, role: Role) -> list[Action]:
    """The actions `role` may take on a ticket in `status`, in table order."""
    return [a for (s, a), rule in TRANSITIONS.items() if s == status and role in rule.roles]
