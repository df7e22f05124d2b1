"""Request and response bodies: the one place that validates input and yields JSON Schemas."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hotline.domain.vocabulary import (
    CHANNELS,
    DEFAULT_URGENCY,
    KINDS,
    OUTCOME_LABELS,
    RESULT_LABELS,
    URGENCIES,
)

# The vocabulary's words as the types pydantic checks and /openapi.json lists.
Kind = Literal[KINDS]  # type: ignore[valid-type]
Urgency = Literal[URGENCIES]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
Satisfaction = Literal["满意", "基本满意", "不满意"]
Result = Literal[tuple(RESULT_LABELS)]  # type: ignore[misc]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,}$")
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024  # a phone photo or a scanned document, not a video
MAX_ATTACHMENTS = 20  # per ticket, whoever added them
TICKET_NUMBER_PATTERN = r"^[0-9]{8}-[0-9]{5,11}$"  # the number column holds 20 characters
MAX_INT = 2**31 - 1  # INTEGER columns (version, days) on PostgreSQL


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_nul(value: Any) -> bool:
    """Whether a value (or anything inside it) holds a NUL character, which PostgreSQL refuses,
    or a lone surrogate (valid in JSON's \\u escapes, not encodable as UTF-8)."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False  # numbers, booleans, nested models (checked by their own validator)


NUL_MESSAGE = "不能包含空字符（\\u0000）或不成对的代理字符"


class Strict(BaseModel):
    """Base for bodies: unknown fields are an error, not silently dropped; no NUL in text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


class Location(Strict):
    """Where the matter is."""

    address: str = Field(default="", max_length=300)
    district: str = Field(default="", max_length=64)
    street: str = Field(default="", max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("latitude", "longitude", mode="before")
    @classmethod
    def _number_not_bool(cls, value: object) -> object:
        # JSON true is not a coordinate, though Python would read it as 1.0.
        if isinstance(value, bool):
            raise ValueError("坐标必须是数字")
        return value


class Complainant(Strict):
    """Who contacted the hotline; everything optional for anonymous callers."""

    name: str = Field(default="", max_length=64)
    phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\-() ]*$")
    email: str = Field(default="", max_length=200)
    openid: str = Field(default="", max_length=64)

    anonymous: bool = False
    confidential: bool = False
    sms_opt_out: bool = Field(default=False, description="不接收短信通知")
    no_contact: bool = Field(default=False, description="保密举报：不希望被联系（不发短信）")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL.match(value):
            raise ValueError("电子邮箱格式不正确，例如 name@example.com")
        return value


class Attachment(Strict):
    """Metadata of a file the citizen supplied (the file itself lives elsewhere)."""

    name: str = Field(max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    size: int = Field(default=0, ge=0, le=MAX_ATTACHMENT_BYTES)
    url: str = Field(default="", max_length=500)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        # Staff click these links: only web addresses, never javascript: or data: URLs.
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("附件地址必须以 http:// 或 https:// 开头")
        return value


class TicketCreate(Strict):
    """What an operator (or an intake channel) records for a new ticket."""

    channel: Channel = "phone"
    kind: Kind
    urgency: Urgency = DEFAULT_URGENCY
    category: str | None = Field(default=None, max_length=32)
    title: str = Field(min_length=2, max_length=200)
    content: str = Field(min_length=5, max_length=20000)
    location: Location = Field(default_factory=Location)
    complainant: Complainant = Field(default_factory=Complainant)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    dispatch_text: str | None = Field(
        default=None,
        max_length=20000,
        description="转办内容: what units receive; default the content with personal data masked.",
    )
    auto_dispatch: bool | None = Field(
        default=None,
        description="Dispatch at once when the router is confident; default from AUTO_DISPATCH.",
    )
    call_id: str | None = Field(
        default=None, max_length=250, description="交换机的通话编号（CTI 来电弹屏受理时自动填写）"
    )


class ActionBody(Strict):
    """Base of every action body; `expected_version` guards against lost updates."""

    expected_version: int | None = Field(default=None, ge=1, le=MAX_INT)
    note: str = Field(default="", max_length=2000)

    def event_payload(self) -> dict[str, Any]:
        """What the event log records of this body (the note included)."""
        return {"note": self.note} if self.note else {}

    def ticket_columns(self) -> dict[str, Any]:
        """Ticket columns this body sets directly."""
        return {}

    def records_contact(self) -> bool:
        """Whether the body says staff reached the complainant (refused on a no-contact ticket)."""
        return False


class DispatchBody(ActionBody):
    """派单 / 改派: the lead unit (default: the router's proposal) and assisting units."""

    lead_unit: UnitCode | None = None
    assisting_units: list[UnitCode] = Field(default_factory=list, max_length=10)
    category: str | None = Field(default=None, max_length=32)
    dispatch_text: str | None = Field(
        default=None,
        max_length=20000,
        description="转办内容, edited by the operator before dispatch.",
    )
    avoidance_override: str | None = Field(
        default=None,
        min_length=5,
        max_length=2000,
        description="督办人员书面理由：举报件确需派给被举报单位时填写（记入事件日志）.",
    )


class ConfirmTextBody(ActionBody):
    """确认转办内容: the title and text units read, as a person at the centre confirmed them."""

    title: str = Field(min_length=2, max_length=200, description="单位看到的标题")
    dispatch_text: str = Field(min_length=5, max_length=20000, description="单位看到的转办内容")

    def event_payload(self) -> dict[str, Any]:
        """What was confirmed (only what units read), for the event log."""
        return {"title": self.title, "dispatch_text": self.dispatch_text, **super().event_payload()}

    def ticket_columns(self) -> dict[str, Any]:
        """Stored exactly as confirmed: what the person read is what the units read."""
        return {"dispatch_title": self.title, "dispatch_text": self.dispatch_text}


class SupplementBody(ActionBody):
    """补充说明: what a citizen adds on the tracking page (text; photos stored beforehand)."""

    text: str = Field(min_length=5, max_length=2000, description="补充说明的内容")
    # Attachment rows of the photos already stored (hotline.services.citizen_followup); never
    # filled from a request: only the tracking page may add a supplement.
    photos: list[dict[str, Any]] = Field(default_factory=list, max_length=9)

    def event_payload(self) -> dict[str, Any]:
        """The text and how many photos came with it (the photos join the attachments)."""
        extra = {"photos": len(self.photos)} if self.photos else {}
        return {"supplement": self.text, **extra, **super().event_payload()}


class ReasonBody(ActionBody):
    """An action that must say why (退单, 挂起, 重办, 不同意延期, 催办, 督办)."""

    reason: str = Field(min_length=2, max_length=2000)

    def event_payload(self) -> dict[str, Any]:
        """The reason, for the event log."""
        return {"reason": self.reason, **super().event_payload()}


class ExtensionRequestBody(ReasonBody):
    """延期申请: why and how many working days more."""

    days: int = Field(ge=1, le=60)

    def event_payload(self) -> dict[str, Any]:
        """The reason and the days asked for."""
        return {**super().event_payload(), "days": self.days}


class ExtensionApproveBody(ActionBody):
    """同意延期: optionally fewer days than asked."""

    days: int | None = Field(default=None, ge=1, le=60)


class MediateBody(ActionBody):
    """调解结果: whether the parties agreed."""

    outcome: Literal[tuple(OUTCOME_LABELS)]  # type: ignore[misc]
    text: str = Field(min_length=2, max_length=5000)

    def event_payload(self) -> dict[str, Any]:
        """The outcome and its account."""
        return {"outcome": self.outcome, "text": self.text, **super().event_payload()}


class NoticeBody(ActionBody):
    """调解不成告知: what both parties were told (and how)."""

    text: str = Field(min_length=5, max_length=5000)

    def event_payload(self) -> dict[str, Any]:
        """The notice given."""
        return {"text": self.text, **super().event_payload()}


class ReplyBody(ActionBody):
    """回复/反馈: the result and the explanation the complainant will read."""

    result: Result
    text: str = Field(min_length=5, max_length=10000)
    contacted: bool = True

    def event_payload(self) -> dict[str, Any]:
        """The result, the reply text and whether the complainant was contacted."""
        payload = {"result": self.result, "text": self.text, "contacted": self.contacted}
        return {**payload, **super().event_payload()}

    def ticket_columns(self) -> dict[str, Any]:
        """The unit's own result."""
        return {"result": self.result}


class CallbackBody(ActionBody):
    """回访: whether the complainant was reached and how satisfied they are."""

    contacted: bool
    satisfaction: Satisfaction | None = None
    solved: bool | None = None

    def event_payload(self) -> dict[str, Any]:
        """Reached or not, satisfaction and whether the problem was solved."""
        payload = {
            "contacted": self.contacted,
            "satisfaction": self.satisfaction,
            "solved": self.solved,
        }
        return {**payload, **super().event_payload()}

    def ticket_columns(self) -> dict[str, Any]:
        """The satisfaction recorded at the callback."""
        return {"satisfaction": self.satisfaction}

    def records_contact(self) -> bool:
        """A callback that reached the complainant."""
        return self.contacted

    @field_validator("satisfaction")
    @classmethod
    def _needs_contact(cls, value: str | None, info: object) -> str | None:
        data = getattr(info, "data", {})
        if value is not None and data.get("contacted") is False:
            raise ValueError("未联系上市民时不能记录满意度")
        return value


class MergeBody(ActionBody):
    """并单: the open ticket this one repeats."""

    into: str = Field(pattern=TICKET_NUMBER_PATTERN, max_length=20)


class AnswerBody(ActionBody):
    """直接办结: the answer given on the spot."""

    text: str = Field(min_length=2, max_length=10000)
    kb_entry: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="答复所用的知识库条目编号（「用此答复」）"
    )

    def event_payload(self) -> dict[str, Any]:
        """The answer given (and the knowledge-base entry it came from)."""
        used = {"kb_entry": self.kb_entry} if self.kb_entry else {}
        return {"text": self.text, **used, **super().event_payload()}

    def ticket_columns(self) -> dict[str, Any]:
        """An answered consultation counts as solved."""
        return {"result": "solved"}


class CloseBody(ActionBody):
    """办结."""


class SignBody(ActionBody):
    """签收."""


class ResumeBody(ActionBody):
    """恢复办理."""


class ApproveBody(ActionBody):
    """同意挂起 / 答复审核通过: the centre agrees to what the unit asked or wrote."""


SUPERVISE_LIMIT = re.compile(r"^[1-9][0-9]{0,2}(wd|wh|h|d)$")


class SuperviseBody(ReasonBody):
    """督办: why, and optionally a shortened deadline the unit must answer by."""

    limit: str | None = Field(
        default=None,
        max_length=8,
        description="督办时限：如 3wd（3 个工作日）、48h（48 小时）、5d（5 天）；不填则不另设时限",
    )

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: str | None) -> str | None:
        if value is not None and value and not SUPERVISE_LIMIT.match(value):
            raise ValueError("督办时限写法如 3wd（3 个工作日）、48h（48 小时）、5d（5 天）")
        return value or None

    def event_payload(self) -> dict[str, Any]:
        """The reason and the limit set, if any."""
        payload = super().event_payload()
        return {**payload, "limit": self.limit} if self.limit else payload


class AssistOpinionBody(ActionBody):
    """协办意见: an assisting unit's opinion for the lead unit, and whether its part is done."""

    text: str = Field(min_length=2, max_length=10000)
    done: bool = False

    def event_payload(self) -> dict[str, Any]:
        """The opinion and whether the assisting unit's part is done."""
        return {"text": self.text, "done": self.done, **super().event_payload()}


class SubdispatchBody(ActionBody):
    """下派: the descendant unit and, optionally, its internal limit (e.g. 3wd, 48h)."""

    unit: UnitCode
    limit: str | None = Field(
        default=None,
        max_length=16,
        pattern=r"^[0-9]{1,4}(h|d|wd|wh)$",
        description="下级办理时限，如 3wd（工作日）、5d（自然日）、48h（小时）；"
        "不填按 data/sla.toml 的 subdispatch，必须在本单位的反馈时限之内",
    )

    def event_payload(self) -> dict[str, Any]:
        """The unit passed to and the limit asked for."""
        payload: dict[str, Any] = {"unit": self.unit}
        if self.limit:
            payload["limit"] = self.limit
        return {**payload, **super().event_payload()}


class SubReplyBody(ReplyBody):
    """下派答复: the body of 回复, answered upward to the parent (the ticket's result is the
    responsible unit's own, set when it replies)."""

    def ticket_columns(self) -> dict[str, Any]:
        """Nothing: the answer goes to the parent for review, not to the citizen."""
        return {}


class SubApproveBody(ActionBody):
    """下派审核通过: the descendant's answer becomes the parent's reply draft."""


# ---- responses -------------------------------------------------------------


class UnitOut(BaseModel):
    """A responsible unit."""

    code: str
    name: str
    kind: str
    parent: str = ""


class RoutingOut(BaseModel):
    """The router's proposal and why."""

    lead_unit: UnitOut | None = None
    assisting_units: list[UnitOut] = Field(default_factory=list)
    category: str | None = None
    confidence: float = 0.0
    needs_review: bool = True
    rule: str = ""
    place: str | None = None
    top3: list[tuple[str, float]] = Field(default_factory=list)


class ClockOut(BaseModel):
    """One SLA clock as a person reads it."""

    kind: str
    label: str
    state: str
    limit: str
    started_at: str
    due_at: str | None
    warn_at: str | None
    provisional: bool
    met_at: str | None


class EventOut(BaseModel):
    """One timeline step."""

    action: str
    label: str
    actor: str
    actor_role: str
    actor_unit: str | None
    from_status: str | None
    to_status: str
    payload: dict[str, object]
    at: str


class ComplainantOut(BaseModel):
    """The complainant as the viewer may see them."""

    name: str
    phone: str
    email: str
    anonymous: bool
    confidential: bool
    no_contact: bool = Field(
        description="保密举报人要求不被联系：请勿致电或发短信，回访只能记为未联系"
    )
    wechat: bool = Field(
        default=False,
        description="通过公众号反映的微信用户（可在微信上联系；标识本身不对外显示）",
    )


class AssistOut(BaseModel):
    """One assisting unit's part: its 协办时限 and opinion."""

    unit: UnitOut
    due_at: str | None = Field(description="协办时限")
    answered_at: str | None = Field(description="首次给出协办意见的时间；未给出为 null")
    on_time: bool | None = Field(description="意见是否在时限内给出；未给出为 null")
    done: bool = Field(description="协办单位表示其负责的部分已办完")
    text: str | None = Field(description="最新的协办意见")


class SubdispatchOut(BaseModel):
    """The ticket's latest 下派 (passed down to a descendant)."""

    unit: UnitOut
    parent: UnitOut | None
    state: str
    state_label: str
    due_at: str | None = Field(description="下级内部办理时限（在主办单位时限之内）")
    limit: str
    answered_at: str | None
    text: str | None = Field(description="下级的答复；审核通过后为主办单位的回复草稿")


class TicketOut(BaseModel):
    """A ticket as the viewer may see it."""

    number: str
    query_code: str | None
    status: str
    status_label: str
    channel: str
    kind: str
    urgency: str
    category: str | None
    title: str
    content: str
    dispatch_text: str
    dispatch_title: str = Field(description="单位看到的标题")
    dispatch_confirmed_at: str | None = Field(
        default=None, description="热线中心人员确认转办内容的时间（举报件、保密件派单前必须确认）"
    )
    awaiting_confirmation: bool = Field(
        default=False, description="待确认转办内容：举报件或保密件，确认前不能派单"
    )
    location: Location
    complainant: ComplainantOut
    attachments: list[dict[str, object]]
    lead_unit: UnitOut | None
    assisting_units: list[UnitOut]
    routing: RoutingOut
    needs_review: bool
    deadlines: list[ClockOut]
    result: str | None
    satisfaction: str | None
    merged_into: str | None
    allowed_actions: list[str]
    created_at: str
    updated_at: str
    closed_at: str | None
    version: int
    external_id: str | None = Field(
        default=None, description="原平台编号：从原平台导入的历史工单（import-history）"
    )
    call_id: str | None = Field(default=None, description="受理这张工单的通话编号（CTI）")
    timeline: list[EventOut] | None = None
    assists: list[AssistOut] = Field(default_factory=list, description="协办单位及其意见")
    subdispatch: SubdispatchOut | None = Field(default=None, description="下派（如有）")
    reply_draft: str | None = Field(
        default=None, description="审核通过的下级答复，作为主办单位回复的草稿"
    )


class TicketPage(BaseModel):
    """One page of a ticket list."""

    items: list[TicketOut]
    total: int
    page: int
    per_page: int
    total_capped: bool = Field(
        default=False,
        description="全文检索（q）命中太多时只排序最新的 total 张，total 为下限",
    )


class TrackPhoto(BaseModel):
    """A photo the citizen supplied, served to whoever holds the query code."""

    index: int = Field(description="its position in the ticket's attachments")
    content_type: str
    url: str = Field(description="add ?code=<查询码> to fetch it")


class RatingIn(Strict):
    """The complainant rates the reply on the tracking page: this is the callback (回访)."""

    code: str = Field(max_length=32, description="6 位查询码（不符与工单不存在同样答 404）")
    satisfaction: Satisfaction
    solved: bool = Field(description="问题是否已解决（市民的看法，不是承办单位的答复结果）")
    comment: str = Field(default="", max_length=500, description="意见或建议（可不填）")


class TrackOut(BaseModel):
    """What the public tracking page shows: no personal data."""

    number: str
    status: str
    status_label: str
    kind: str
    title: str
    created_at: str
    promised_reply_by: str | None
    promised_reply_provisional: bool
    replies: list[dict[str, str]]
    steps: list[dict[str, str]]
    merged_into: str | None = Field(
        default=None, description="并单: the ticket this repeat was merged into (its replies shown)"
    )
    merged_into_status_label: str | None = None
    photos: list[TrackPhoto] = Field(default_factory=list)
    can_rate: bool = Field(
        default=False,
        description="已回复待回访：可 POST /api/v1/track/{number}/rating 评价（即回访）",
    )


class ErrorOut(BaseModel):
    """Every error answer: a machine code and a message a person can act on."""

    error: dict[str, object]


class CallOut(BaseModel):
    """One call of the call log (CTI)."""

    id: int
    call_id: str
    direction: str
    caller: str = Field(description="来电号码（呼出为被叫号码；anonymous 为空）")
    queue: str
    state: str = Field(description="ringing 振铃中、answered 通话中、ended 已结束、missed 未接")
    state_label: str
    cause: str
    cause_label: str
    answered_by: str | None
    started_at: str
    answered_at: str | None
    ended_at: str | None
    wait_s: float | None = Field(description="等待秒数（振铃到接听）")
    duration_s: float | None = Field(description="通话秒数（接听到挂断）")
    called_back_at: str | None
    called_back_by: str | None


class CallPage(BaseModel):
    """GET /api/v1/calls: one page of the call log."""

    items: list[CallOut]
    total: int
    page: int
    per_page: int


class CallBucket(BaseModel):
    """Offered and answered calls of one hour, day or queue."""

    offered: int
    answered: int
    missed: int
    answer_rate: float | None
    hour: int | None = None
    day: str | None = None
    queue: str | None = None


class CallStatsOut(BaseModel):
    """GET /api/v1/stats/calls: 接通率 and waiting of inbound calls in a period."""

    model_config = ConfigDict(populate_by_name=True)

    since: str = Field(alias="from")
    until: str = Field(alias="to")
    offered: int
    answered: int
    missed: int
    answer_rate: float | None = Field(description="接通率 = 接听数 ÷ 呼入数")
    avg_wait_s: float | None = Field(description="平均等待秒数（接听的来电，振铃到接听）")
    by_hour: list[CallBucket]
    by_day: list[CallBucket]
    by_queue: list[CallBucket]
