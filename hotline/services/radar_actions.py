"""Acting on a radar cluster: 并单 its tickets into one, or 批量派单 them to one unit.

Each ticket goes through the ordinary lifecycle action (`perform_action`), so every rule of
a single dispatch or merge holds — a 举报 still needs its confirmed 转办内容, the avoidance
rules still apply, a ticket already dispatched is refused. One ticket refused does not stop
the others; the outcome lists each ticket with why it was not done, in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.schemas import DispatchBody, MergeBody
from hotline.domain.timefmt import utcnow

if TYPE_CHECKING:
    from hotline.runtime.deployment import Deployment

# A cluster's size is bounded by its window; this bounds one request.
MAX_BATCH = 200


@dataclass
class BatchOutcome:
    """Which tickets were done and which not (number → reason)."""

    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _checked(numbers: list[str]) -> list[str]:
    unique = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not unique:
        raise HotlineError("请至少选择一张工单", status=422, code="validation_error")
    if len(unique) > MAX_BATCH:
        raise HotlineError(
            f"一次最多处理 {MAX_BATCH} 张工单，请分批操作", status=422, code="validation_error"
        )
    return unique


async def batch_dispatch(
    *, numbers: list[str], lead_unit: str, principal: Principal, deployment: Deployment
) -> BatchOutcome:
    """批量派单: dispatch each ticket to `lead_unit`, one ordinary dispatch each."""
    from hotline.services.tickets import perform_action

    if not lead_unit:
        # Without a unit the ordinary dispatch would take each router's proposal: not a batch.
        raise HotlineError("请选择承办单位后再批量派单", status=422, code="validation_error")
    outcome = BatchOutcome()
    for number in _checked(numbers):
        try:
            await perform_action(
                number=number,
                action="dispatch",
                body=DispatchBody(lead_unit=lead_unit),
                principal=principal,
                now=utcnow(),
                deployment=deployment,
            )
        except HotlineError as exc:
            outcome.refused[number] = exc.message
        else:
            outcome.done.append(number)
    return outcome


async def batch_merge(
    *, numbers: list[str], into: str, principal: Principal, deployment: Deployment
) -> BatchOutcome:
    """并单: merge every other ticket into `into` (the one kept and handled)."""
    from hotline.services.tickets import perform_action

    members = _checked(numbers)
    if into not in members:
        raise HotlineError(
            "保留的主工单须是本组工单之一，请在「并入」中重新选择",
            status=422,
            code="validation_error",
        )
    outcome = BatchOutcome()
    for number in members:
        if number == into:
            continue
        try:
            await perform_action(
                number=number,
                action="merge",
                body=MergeBody(into=into),
                principal=principal,
                now=utcnow(),
                deployment=deployment,
            )
        except HotlineError as exc:
            outcome.refused[number] = exc.message
        else:
            outcome.done.append(number)
    return outcome


def outcome_text(outcome: BatchOutcome, *, verb: str) -> list[str]:
    """The outcome in Chinese, one line per group of tickets (for the page's messages)."""
    lines = []
    if outcome.done:
        lines.append(f"已{verb} {len(outcome.done)} 张：{'、'.join(outcome.done)}。")
    for number, why in outcome.refused.items():
        lines.append(f"{number} 未能{verb}：{why}")
    if not lines:
        lines.append(f"没有需要{verb}的工单。")
    return lines
