"""The ticket lifecycle: one declaration per action (pure: no I/O, no clock).

Each `ActionSpec` says everything about one action — the moves it allows and for whom,
its body, its Chinese label, whether the complainant sees it, what it does to the SLA
clocks, what it needs from the database and the mail and text message it causes. The
ticket service, the SLA engine, notifications and presenters read these declarations;
adding an action means one declaration (plus its tests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from hotline.domain.errors import HotlineError
from hotline.domain.hierarchy import Party, SubState
from hotline.domain.schemas import (
    ActionBody,
    AnswerBody,
    ApproveBody,
    AssistOpinionBody,
    CallbackBody,
    CloseBody,
    ConfirmTextBody,
    DispatchBody,
    ExtensionApproveBody,
    ExtensionRequestBody,
    MediateBody,
    MergeBody,
    NoticeBody,
    ReasonBody,
    ReplyBody,
    ResumeBody,
    SignBody,
    SubApproveBody,
    SubdispatchBody,
    SubReplyBody,
    SuperviseBody,
    SupplementBody,
)

# Statuses and roles (with their labels) are words of the vocabulary; callers may keep
# importing them from here, beside the table that moves between them.
from hotline.domain.vocabulary import ROLE_LABELS, STATUS_LABELS, Role, Status
from sla.clock import ClockKind
from sla.effects import ClockEffect, ClockOp, effect


class Action(StrEnum):
    """Everything that can be done to a ticket after it is received."""

    ANSWER = "answer"
    CONFIRM_TEXT = "confirm-dispatch-text"
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
    NOTIFY_PARTIES = "notify-parties"
    REPLY = "reply"
    CALLBACK = "callback"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"
    URGE = "urge"
    SUPERVISE = "supervise"
    SUPPLEMENT = "supplement"
    ASSIST_OPINION = "assist-opinion"
    SUBDISPATCH = "subdispatch"
    SUB_SIGN = "sub-sign"
    SUB_REPLY = "sub-reply"
    SUB_APPROVE = "sub-approve"
    SUB_RETURN = "sub-return"
    # The centre's decisions on a unit's requests (one approvals queue).
    APPROVE_PAUSE = "approve-pause"
    DENY_PAUSE = "deny-pause"
    REJECT_DISPUTE = "reject-dispute"
    APPROVE_REPLY = "approve-reply"
    RETURN_REPLY = "return-reply"


OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.RECEIVED,
        Status.DISPATCHED,
        Status.DISPUTED,
        Status.HANDLING,
        Status.EXTENSION_REQUESTED,
        Status.PAUSED,
        Status.PAUSE_REQUESTED,
        Status.REPLY_REVIEW,
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
        Status.PAUSE_REQUESTED,
    }
)


@dataclass(frozen=True)
class ApprovalRequest:
    """A unit's request the centre decides: the action whose event holds the unit's reason
    (or answer), and its name in the approvals queue."""

    request: Action
    label: str


# The statuses in which a ticket waits for the centre's decision, in the approvals queue.
APPROVAL_REQUESTS: dict[Status, ApprovalRequest] = {
    Status.EXTENSION_REQUESTED: ApprovalRequest(Action.REQUEST_EXTENSION, "延期申请"),
    Status.PAUSE_REQUESTED: ApprovalRequest(Action.PAUSE, "挂起申请"),
    Status.DISPUTED: ApprovalRequest(Action.REJECT, "退单"),
    Status.REPLY_REVIEW: ApprovalRequest(Action.REPLY, "待审核答复"),
}

_CENTRE = frozenset({Role.OPERATOR, Role.SUPERVISOR})
_UNIT = frozenset({Role.UNIT})


class Step(StrEnum):
    """Work an action needs from the database before it can be applied."""

    UNITS = "units"  # resolve the lead/assisting unit codes, then relink the ticket's units
    EXTENSION_DAYS = "extension-days"  # the days asked for in the pending extension request
    MERGE_TARGET = "merge-target"  # lock and check the ticket this one is merged into
    ATTACH_PHOTOS = "attach-photos"  # add a supplement's stored photos to the attachments
    ASSIST = "assist"  # record the assisting unit's opinion on its own link
    SUBDISPATCH = "subdispatch"  # check the descendant and the limit, link it to the ticket
    SUB_STAGE = "sub-stage"  # move the open 下派 to the declared stage
    PENDING_REPLY = "pending-reply"  # the unit's reply under review, released as it was
    HOLDER = "holder"  # name the unit holding the ticket in the event (whom it concerns)


class Mail(StrEnum):
    """Mail an action causes (written to the outbox in the action's transaction)."""

    DISPATCH = "dispatch"  # the lead and assisting units learn of the ticket at once
    SUBDISPATCH = "subdispatch"  # the descendant learns of a 下派 at once


class Sms(StrEnum):
    """Text messages to the complainant; each names a template in data/sms.toml."""

    CREATED = "created"  # sent by create_ticket: the number and the query code
    REPLY = "reply"  # the reply's first lines and the tracking link
    CLOSE = "close"  # the ticket is closed (办结 or 直接办结)


class RateEffect(StrEnum):
    """What an action's event means for the rates supervisors audit (hotline.reporting)."""

    ASSIGN = "assign"  # 派单: a new assignment for the unit it names
    REASSIGN = "reassign"  # 改派: a new assignment, the previous unit's is re-dispatched away
    SIGN = "sign"  # the assignment is signed for (on time or late)
    DISPUTE = "dispute"  # the assignment is disputed (退单)
    EXTEND = "extend"  # the assignment was given more time
    REPLY = "reply"  # the assignment is answered (on time or late)
    CALLBACK = "callback"  # a callback, counted for the unit holding the ticket
    REOPEN = "reopen"  # the latest callback led to re-handling
    MERGE = "merge"  # a repeat: its assignment is taken back


@dataclass(frozen=True)
class Move:
    """From `source`, the action leads to `to` (None: unchanged), for these roles."""

    source: Status
    to: Status | None
    roles: frozenset[Role]


@dataclass(frozen=True)
class Review:
    """For the kinds the deployment reviews (答复审核), the action goes to the centre first:
    it leads to `to` instead, with these clock effects, unseen by the complainant and
    without its text message (both come with the centre's approval)."""

    to: Status
    clocks: tuple[ClockEffect, ...]


@dataclass(frozen=True)
class ActionSpec:
    """Everything about one action, declared once."""

    action: Action
    label: str
    body: type[ActionBody]
    moves: tuple[Move, ...]
    public: bool = True  # the complainant sees the step on the tracking page
    shows_reply: bool = False  # its text is an answer the complainant reads
    clocks: tuple[ClockEffect, ...] = ()
    step: Step | None = None
    mail: Mail | None = None
    sms: Sms | None = None  # queued for the complainant in the action's transaction
    closes: bool = False  # sets closed_at
    clears: tuple[str, ...] = ()  # ticket columns reset to None
    stamps: tuple[str, ...] = ()  # ticket columns set to the action's time
    # Refused (422) on a 举报 or confidential ticket whose dispatch text no person confirmed.
    needs_confirmed_text: bool = False
    # The usual next step where it is allowed: the ticket page opens its form by default.
    next_step: bool = False
    # What its event counts for in the rates (hotline.reporting); None: nothing.
    rate: RateEffect | None = None
    # Which unit may take it (its link role on the ticket): the responsible unit by default.
    party: Party = Party.LEAD
    # The 下派 stages it is allowed in (None: any) and the stage it leads to (None: unchanged):
    # of the unit's own 下派 for a SUB action, of the one it passed down for a PARENT action.
    sub_from: frozenset[SubState] | None = None
    sub_to: SubState | None = None
    # What the action becomes on a ticket of a reviewed kind; None: never reviewed.
    review: Review | None = None

    def under_review(self) -> ActionSpec:
        """The declaration as it applies to a ticket whose kind the centre reviews."""
        if self.review is None:
            return self
        return replace(
            self,
            public=False,
            shows_reply=False,
            sms=None,
            clocks=self.review.clocks,
            next_step=False,
            review=None,
        )

    @property
    def affects_rates(self) -> bool:
        """Its event (or a receipt/feedback clock it meets) can change the ticket's rate rows:
        the write path refreshes them in the action's transaction."""
        return self.rate is not None


def _moves(
    sources: tuple[Status, ...] | Status, to: Status | None, roles: frozenset[Role]
) -> tuple[Move, ...]:
    """One Move per source status."""
    if isinstance(sources, Status):
        sources = (sources,)
    return tuple(Move(s, to, roles) for s in sources)


_S = Status
_RECEIPT, _MEDIATION, _FEEDBACK = ClockKind.RECEIPT, ClockKind.MEDIATION, ClockKind.FEEDBACK
_NOTICE, _CENTRE_CLOCK = ClockKind.MEDIATION_NOTICE, ClockKind.REDISPATCH
_DECISION, _SUPERVISION = ClockKind.DECISION, ClockKind.SUPERVISION
_CALLBACK = ClockKind.CALLBACK
# What a unit's answer meets: the complainant's clocks and any supervisor's deadline.
_ANSWERED = (_FEEDBACK, _MEDIATION, _NOTICE, _SUPERVISION)
_WITH_UNIT = tuple(s for s in Status if s in WITH_UNIT)
# 催办/督办 press the unit holding the ticket; a 退单待改派 ticket waits on the centre.
_URGEABLE = tuple(s for s in _WITH_UNIT if s is not _S.DISPUTED)
# The responsible unit has signed and holds the ticket: it may pass it down (下派).
_HELD = (_S.HANDLING, _S.PAUSED, _S.PAUSE_REQUESTED, _S.EXTENSION_REQUESTED)
# An assisting unit gives its opinion while the lead unit holds the ticket.
_ASSISTABLE = (_S.DISPATCHED, *_HELD)
# A repeat is merged into the open ticket before a unit has replied to it.
_MERGEABLE = (_S.RECEIVED, _S.DISPATCHED, _S.DISPUTED, _S.HANDLING)

# A citizen may add to a ticket until it is answered (then: rate it, or report anew).
SUPPLEMENT_STATUSES = (_S.RECEIVED, *_WITH_UNIT)
# The centre may confirm (or correct) what units read while the ticket is open.
_CONFIRMABLE = (_S.RECEIVED, *_WITH_UNIT)

ACTION_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec(
        Action.CONFIRM_TEXT,
        "确认转办内容",
        ConfirmTextBody,
        _moves(_CONFIRMABLE, None, _CENTRE),
        public=False,
        stamps=("dispatch_confirmed_at",),
    ),
    ActionSpec(
        Action.ANSWER,
        "直接办结",
        AnswerBody,
        _moves(_S.RECEIVED, _S.CLOSED, _CENTRE),
        shows_reply=True,
        clocks=(effect(ClockOp.STOP),),
        sms=Sms.CLOSE,
        closes=True,
    ),
    ActionSpec(
        Action.DISPATCH,
        "派单",
        DispatchBody,
        _moves(_S.RECEIVED, _S.DISPATCHED, _CENTRE | {Role.SYSTEM}),
        clocks=(effect(ClockOp.START, _RECEIPT, _FEEDBACK),),
        step=Step.UNITS,
        mail=Mail.DISPATCH,
        rate=RateEffect.ASSIGN,
        needs_confirmed_text=True,
        next_step=True,
    ),
    ActionSpec(
        Action.SIGN,
        "签收",
        SignBody,
        _moves(_S.DISPATCHED, _S.HANDLING, _UNIT),
        clocks=(effect(ClockOp.MEET, _RECEIPT), effect(ClockOp.START, _MEDIATION)),
        rate=RateEffect.SIGN,
        next_step=True,
    ),
    ActionSpec(
        Action.REJECT,
        "退单",
        ReasonBody,
        _moves(_S.DISPATCHED, _S.DISPUTED, _UNIT),
        public=False,
        # A correct 退单 is not a late sign-for: the unit's receipt clock stops, and the
        # time until the centre re-dispatches runs on the centre's own clock.
        clocks=(effect(ClockOp.STOP, _RECEIPT), effect(ClockOp.START, _CENTRE_CLOCK)),
        rate=RateEffect.DISPUTE,
    ),
    ActionSpec(
        Action.REDISPATCH,
        "改派",
        DispatchBody,
        # The centre may also correct its own dispatch before the unit signs.
        _moves((_S.DISPATCHED, _S.DISPUTED), _S.DISPATCHED, _CENTRE),
        public=False,
        # The time lost to a wrong dispatch is the centre's: the new unit's receipt and
        # feedback clocks start from its own dispatch.
        clocks=(effect(ClockOp.MEET, _CENTRE_CLOCK), effect(ClockOp.START, _RECEIPT, _FEEDBACK)),
        step=Step.UNITS,
        mail=Mail.DISPATCH,
        rate=RateEffect.REASSIGN,
        needs_confirmed_text=True,
        next_step=True,
    ),
    ActionSpec(
        Action.REJECT_DISPUTE,
        "驳回退单",
        ReasonBody,
        # The dispute was unjustified: back to the unit that disputed, its receipt clock as if
        # the dispute had never stopped it (the rates count it as disputes_rejected).
        _moves(_S.DISPUTED, _S.DISPATCHED, _CENTRE),
        public=False,
        clocks=(effect(ClockOp.MEET, _CENTRE_CLOCK), effect(ClockOp.RESTORE, _RECEIPT)),
        step=Step.HOLDER,
    ),
    ActionSpec(
        Action.REQUEST_EXTENSION,
        "延期申请",
        ExtensionRequestBody,
        _moves(_S.HANDLING, _S.EXTENSION_REQUESTED, _UNIT),
        # The request waits on the centre's own decision clock; the unit's clocks run on.
        clocks=(effect(ClockOp.CHECK_EXTENSION, _FEEDBACK), effect(ClockOp.START, _DECISION)),
    ),
    ActionSpec(
        Action.APPROVE_EXTENSION,
        "同意延期",
        ExtensionApproveBody,
        _moves(_S.EXTENSION_REQUESTED, _S.HANDLING, _CENTRE),
        clocks=(effect(ClockOp.MEET, _DECISION), effect(ClockOp.EXTEND, _FEEDBACK)),
        step=Step.EXTENSION_DAYS,
        rate=RateEffect.EXTEND,
        next_step=True,
    ),
    ActionSpec(
        Action.REFUSE_EXTENSION,
        "不同意延期",
        ReasonBody,
        _moves(_S.EXTENSION_REQUESTED, _S.HANDLING, _CENTRE),
        public=False,
        clocks=(effect(ClockOp.MEET, _DECISION),),
    ),
    ActionSpec(
        Action.PAUSE,
        "挂起申请",
        ReasonBody,
        # 挂起 is the centre's decision: the unit asks, its clocks run on until approved.
        _moves(_S.HANDLING, _S.PAUSE_REQUESTED, _UNIT),
        public=False,
        clocks=(
            effect(ClockOp.CHECK_PAUSE, _FEEDBACK, _MEDIATION),
            effect(ClockOp.START, _DECISION),
        ),
    ),
    ActionSpec(
        Action.APPROVE_PAUSE,
        "同意挂起",
        ApproveBody,
        _moves(_S.PAUSE_REQUESTED, _S.PAUSED, _CENTRE),
        clocks=(effect(ClockOp.MEET, _DECISION), effect(ClockOp.PAUSE, _FEEDBACK, _MEDIATION)),
        next_step=True,
    ),
    ActionSpec(
        Action.DENY_PAUSE,
        "不同意挂起",
        ReasonBody,
        _moves(_S.PAUSE_REQUESTED, _S.HANDLING, _CENTRE),
        public=False,
        clocks=(effect(ClockOp.MEET, _DECISION),),
    ),
    ActionSpec(
        Action.RESUME,
        "恢复办理",
        ResumeBody,
        _moves(_S.PAUSED, _S.HANDLING, _UNIT | _CENTRE),
        clocks=(effect(ClockOp.RESUME, _FEEDBACK, _MEDIATION),),
    ),
    ActionSpec(
        Action.MEDIATE,
        "调解结果",
        MediateBody,
        _moves(_S.HANDLING, None, _UNIT),
        public=False,
        # Mediation without agreement: both parties must be told within the policy's limit.
        clocks=(
            effect(ClockOp.MEET, _MEDIATION),
            effect(ClockOp.START, _NOTICE, when=("outcome", "failed")),
        ),
    ),
    ActionSpec(
        Action.NOTIFY_PARTIES,
        "调解不成告知",
        NoticeBody,
        _moves(_S.HANDLING, None, _UNIT),
        clocks=(effect(ClockOp.MEET, _NOTICE),),
    ),
    ActionSpec(
        Action.REPLY,
        "回复",
        ReplyBody,
        _moves(_S.HANDLING, _S.REPLIED, _UNIT),
        shows_reply=True,
        # Released to the complainant: the centre's callback clock (回访时限) starts.
        clocks=(effect(ClockOp.MEET, *_ANSWERED), effect(ClockOp.START, _CALLBACK)),
        sms=Sms.REPLY,
        rate=RateEffect.REPLY,
        next_step=True,
        # The unit answered in time or not when it replied; the centre's review is on its own
        # decision clock, and a returned answer brings the unit's clocks back (return-reply).
        review=Review(
            _S.REPLY_REVIEW,
            (effect(ClockOp.MEET, *_ANSWERED), effect(ClockOp.START, _DECISION)),
        ),
    ),
    ActionSpec(
        Action.APPROVE_REPLY,
        "答复审核通过",
        ApproveBody,
        # Released as the unit wrote it: the tracking page, the text and the callback queue.
        _moves(_S.REPLY_REVIEW, _S.REPLIED, _CENTRE),
        shows_reply=True,
        clocks=(effect(ClockOp.MEET, _DECISION), effect(ClockOp.START, _CALLBACK)),
        step=Step.PENDING_REPLY,
        sms=Sms.REPLY,
        next_step=True,
    ),
    ActionSpec(
        Action.RETURN_REPLY,
        "退回答复",
        ReasonBody,
        # Back to the unit: its clocks run on from where they were, as if it had not answered.
        _moves(_S.REPLY_REVIEW, _S.HANDLING, _CENTRE),
        public=False,
        clocks=(effect(ClockOp.MEET, _DECISION), effect(ClockOp.RESTORE, *_ANSWERED)),
        step=Step.PENDING_REPLY,
        clears=("result",),
    ),
    ActionSpec(
        Action.CALLBACK,
        "回访",
        CallbackBody,
        # The complainant's own rating on the tracking page is a callback like an operator's.
        _moves(_S.REPLIED, _S.CALLED_BACK, _CENTRE | {Role.CITIZEN}),
        clocks=(effect(ClockOp.MEET, _CALLBACK),),
        rate=RateEffect.CALLBACK,
        next_step=True,
    ),
    ActionSpec(
        Action.CLOSE,
        "办结",
        CloseBody,
        _moves(_S.CALLED_BACK, _S.CLOSED, _CENTRE),
        clocks=(effect(ClockOp.STOP),),
        sms=Sms.CLOSE,
        closes=True,
        next_step=True,
    ),
    ActionSpec(
        Action.REOPEN,
        "重办",
        ReasonBody,
        _moves(_S.CALLED_BACK, _S.HANDLING, _CENTRE)
        + _moves(_S.CLOSED, _S.HANDLING, frozenset({Role.SUPERVISOR})),
        # 重办 starts a new feedback clock for the second round of handling; a callback
        # still owed on the first answer is not (the next reply starts it again).
        clocks=(effect(ClockOp.STOP, _CALLBACK), effect(ClockOp.START, _FEEDBACK)),
        clears=("result", "satisfaction", "closed_at"),
        rate=RateEffect.REOPEN,
    ),
    ActionSpec(
        Action.MERGE,
        "并单",
        MergeBody,
        _moves(_MERGEABLE, _S.MERGED, _CENTRE),
        clocks=(effect(ClockOp.STOP),),
        step=Step.MERGE_TARGET,
        closes=True,
        rate=RateEffect.MERGE,
    ),
    ActionSpec(
        Action.URGE,
        "催办",
        ReasonBody,
        # A citizen urges from the tracking page once the promised reply time has passed
        # (hotline.services.citizen_followup: at most once a day).
        _moves(_URGEABLE, None, _CENTRE | {Role.CITIZEN}),
        public=False,
        step=Step.HOLDER,  # the rates count urged tickets per unit
    ),
    ActionSpec(
        Action.SUPERVISE,
        "督办",
        SuperviseBody,
        _moves(_URGEABLE, None, frozenset({Role.SUPERVISOR})),
        public=False,
        # With a limit (e.g. 3wd) the unit answers on a shortened clock of its own.
        clocks=(effect(ClockOp.START, _SUPERVISION, limit_from="limit"),),
        step=Step.HOLDER,
    ),
    ActionSpec(
        Action.SUPPLEMENT,
        "市民补充说明",
        SupplementBody,
        # Only from the tracking page: the centre records what a caller adds as a note.
        _moves(SUPPLEMENT_STATUSES, None, frozenset({Role.CITIZEN})),
        step=Step.ATTACH_PHOTOS,
    ),
    ActionSpec(
        Action.ASSIST_OPINION,
        "协办意见",
        AssistOpinionBody,
        _moves(_ASSISTABLE, None, _UNIT),
        public=False,
        step=Step.ASSIST,
        party=Party.ASSIST,
    ),
    # 下派: the citizen and the centre deal only with the responsible unit, whose clocks
    # and rates are unchanged; the descendant's part runs on the link's own deadline.
    ActionSpec(
        Action.SUBDISPATCH,
        "下派",
        SubdispatchBody,
        _moves(_HELD, None, _UNIT),
        public=False,
        step=Step.SUBDISPATCH,
        mail=Mail.SUBDISPATCH,
        party=Party.PARENT,
        sub_from=frozenset({SubState.NONE}),
        sub_to=SubState.DISPATCHED,
    ),
    ActionSpec(
        Action.SUB_SIGN,
        "下派签收",
        SignBody,
        _moves(_HELD, None, _UNIT),
        public=False,
        step=Step.SUB_STAGE,
        party=Party.SUB,
        sub_from=frozenset({SubState.DISPATCHED}),
        sub_to=SubState.HANDLING,
        next_step=True,
    ),
    ActionSpec(
        Action.SUB_REPLY,
        "下派答复",
        SubReplyBody,
        _moves(_HELD, None, _UNIT),
        public=False,
        step=Step.SUB_STAGE,
        party=Party.SUB,
        sub_from=frozenset({SubState.HANDLING}),
        sub_to=SubState.REPLIED,
        next_step=True,
    ),
    ActionSpec(
        Action.SUB_APPROVE,
        "下派审核通过",
        SubApproveBody,
        _moves(_HELD, None, _UNIT),
        public=False,
        step=Step.SUB_STAGE,
        party=Party.PARENT,
        sub_from=frozenset({SubState.REPLIED}),
        sub_to=SubState.APPROVED,
        next_step=True,
    ),
    ActionSpec(
        Action.SUB_RETURN,
        "下派退回",
        ReasonBody,
        _moves(_HELD, None, _UNIT),
        public=False,
        step=Step.SUB_STAGE,
        party=Party.PARENT,
        sub_from=frozenset({SubState.REPLIED}),
        sub_to=SubState.HANDLING,
    ),
)


ACTIONS: dict[Action, ActionSpec] = {spec.action: spec for spec in ACTION_SPECS}
ACTION_BODIES: dict[str, type[ActionBody]] = {s.action.value: s.body for s in ACTION_SPECS}
# Action name (as stored on events) → what it counts for in the rates.
RATE_EFFECTS: dict[str, RateEffect] = {
    s.action.value: s.rate for s in ACTION_SPECS if s.rate is not None
}

# Events that are not actions: their labels and whether the complainant sees them.
OTHER_EVENTS: dict[str, tuple[str, bool]] = {
    "create": ("受理", True),
    "sla_warning": ("超时预警", False),
    "sla_breach": ("超时", False),
    "anonymise": ("个人信息脱敏", False),
    "avoidance_override": ("举报回避例外", False),
    "attach": ("补充材料", True),  # a citizen added a place or a picture (e.g. by WeChat)
}


def event_label(name: str) -> str:
    """The Chinese label of an event (an action or one of OTHER_EVENTS)."""
    if name in OTHER_EVENTS:
        return OTHER_EVENTS[name][0]
    try:
        return ACTIONS[Action(name)].label
    except ValueError:
        return name


def event_public(name: str) -> bool:
    """Whether the complainant sees an event of this name on the tracking page."""
    if name in OTHER_EVENTS:
        return OTHER_EVENTS[name][1]
    return ACTIONS[Action(name)].public


TRANSITIONS: dict[tuple[Status, Action], Move] = {
    (move.source, spec.action): move for spec in ACTION_SPECS for move in spec.moves
}

# Actions a unit may take only on tickets where it is the (active) lead unit.
LEAD_UNIT_ACTIONS: frozenset[Action] = frozenset(
    spec.action
    for spec in ACTION_SPECS
    if any(Role.UNIT in m.roles for m in spec.moves) and spec.party is Party.LEAD
)


class TransitionError(HotlineError):
    """A refused action; `status` is the HTTP status that says why (409 state, 403 role)."""


def decide(status: Status, action: Action, role: Role) -> Status:
    """Return the status after `action`, or raise TransitionError (409 state, 403 role)."""
    label = ACTIONS[action].label
    move = TRANSITIONS.get((status, action))
    if move is None:
        raise TransitionError(
            f"工单当前状态为「{STATUS_LABELS[status]}」，不能执行「{label}」",
            status=409,
            code="invalid_transition",
        )
    if role not in move.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in sorted(move.roles))
        raise TransitionError(f"「{label}」只能由{allowed}执行", status=403, code="forbidden_role")
    return move.to if move.to is not None else status


def allowed_actions(
    status: Status,
    role: Role,
    *,
    lead: bool = True,
    parts: frozenset[Party] | None = None,
    sub: SubState = SubState.NONE,
    below: SubState = SubState.NONE,
) -> list[Action]:
    """The actions `role` may take in `status`; a unit takes only the actions of its
    `parts` on the ticket (default: the lead's if `lead`), its own 下派 in stage `sub` and
    the one it passed down in stage `below`."""
    if parts is None:
        parts = frozenset({Party.LEAD}) if lead else frozenset()
    return [
        spec.action
        for spec in ACTION_SPECS
        if (move := TRANSITIONS.get((status, spec.action))) is not None
        and role in move.roles
        and (role != Role.UNIT or spec.party in parts)
        and (
            spec.sub_from is None or (below if spec.party is Party.PARENT else sub) in spec.sub_from
        )
    ]


def decisions(status: Status, role: Role) -> list[Action]:
    """The centre's decisions on a request waiting in `status` (approvals queue): its actions
    that take the ticket out of the request, not merging it away."""
    return [
        action
        for action in allowed_actions(status, role)
        if (to := TRANSITIONS[(status, action)].to) is not None
        and to not in (status, Status.MERGED)
    ]
