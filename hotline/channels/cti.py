"""The switch's call events in Zammad's Generic CTI push format (pure).

A PBX already configured for Zammad posts the same events here unchanged, form-encoded or as
JSON: `newCall`, `answer` and `hangup`, each with `from`, `to`, `direction` (in/out) and
`callId`; `answer` and `hangup` may name `answeringNumber`, `newCall` and `answer` the
`user[]` (real names) involved, `newCall` a `queue`, `hangup` a `cause` (normalClearing,
busy, cancel, noAnswer, congestion, notFound, forwarded). See
https://docs.zammad.org/en/latest/api/generic-cti/index.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NEW_CALL, ANSWER, HANGUP = "newCall", "answer", "hangup"
EVENTS = (NEW_CALL, ANSWER, HANGUP)
DIRECTIONS = ("in", "out")
CAUSES = (
    "normalClearing",
    "busy",
    "cancel",
    "noAnswer",
    "congestion",
    "notFound",
    "forwarded",
)
# The causes the call log words for the operators.
CAUSE_LABELS = {
    "normalClearing": "正常挂断",
    "busy": "忙线",
    "cancel": "来电人挂断",
    "noAnswer": "无人接听",
    "congestion": "线路拥塞",
    "notFound": "号码不存在",
    "forwarded": "已转接",
}
MAX_CALL_ID = 250
MAX_FIELD = 64


class CtiEventError(ValueError):
    """An event the switch sent that cannot be used (the message says which field and why)."""


@dataclass(frozen=True)
class CtiEvent:
    """One checked call event."""

    event: str
    call_id: str
    direction: str
    from_number: str
    to_number: str
    users: tuple[str, ...] = ()
    queue: str = ""
    cause: str = ""
    answering: str = ""

    @property
    def caller(self) -> str:
        """The citizen's number: the calling one for an inbound call, else the called one."""
        number = self.from_number if self.direction == "in" else self.to_number
        return "" if number.lower() == "anonymous" else number


def _one(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value if value is not None else "").strip()


def _users(data: Mapping[str, Any]) -> tuple[str, ...]:
    # Form posts repeat `user[]`; JSON sends `user` as a list (or `user[]`).
    value = data.get("user[]", data.get("user", []))
    values = value if isinstance(value, list) else [value]
    return tuple(str(v).strip()[:MAX_FIELD] for v in values if str(v or "").strip())[:20]


def parse_event(data: Mapping[str, Any]) -> CtiEvent:
    """A checked event from the posted fields (a form's lists or a JSON object)."""
    event = _one(data, "event")
    if event not in EVENTS:
        raise CtiEventError(f"event 必须是 {'、'.join(EVENTS)} 之一")
    call_id = _one(data, "callId")
    if not call_id or len(call_id) > MAX_CALL_ID:
        raise CtiEventError(f"callId 必填，最多 {MAX_CALL_ID} 个字符")
    direction = _one(data, "direction") or "in"
    if direction not in DIRECTIONS:
        raise CtiEventError("direction 必须是 in 或 out")
    cause = _one(data, "cause")
    if cause and cause not in CAUSES:
        raise CtiEventError(f"cause 必须是 {'、'.join(CAUSES)} 之一")
    fields = {k: _one(data, k) for k in ("from", "to", "queue", "answeringNumber")}
    for key, value in fields.items():
        if len(value) > MAX_FIELD:
            raise CtiEventError(f"{key} 最多 {MAX_FIELD} 个字符")
    return CtiEvent(
        event=event,
        call_id=call_id,
        direction=direction,
        from_number=fields["from"],
        to_number=fields["to"],
        users=_users(data),
        queue=fields["queue"],
        cause=cause,
        answering=fields["answeringNumber"],
    )
