"""The complainant rates a reply on the tracking page: a callback (回访) like an operator's.

The rating goes through the same action as the centre's callback, so it writes the same
event and refreshes the same rate rows: it counts in 响应率, 解决率 and 满意率 exactly like
a callback by phone. Who may rate is the lifecycle table's answer for `Role.CITIZEN`.
"""

from __future__ import annotations

from datetime import datetime

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Action, Role, Status, allowed_actions
from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.schemas import CallbackBody, RatingIn
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as ticket_service

# Written into the event log as the actor of the callback.
CITIZEN = ticket_service.Actor(None, "市民自评（网上）", Role.CITIZEN.value, None)
PHONE = "如对办理结果仍有意见，请拨打 12345 热线。"


def refusal(ticket: Ticket) -> HotlineError | None:
    """Why this ticket cannot be rated now (409 with what to do instead), or None."""
    status = Status(ticket.status)
    if Action.CALLBACK in allowed_actions(status, Role.CITIZEN):
        return None
    if status is Status.CALLED_BACK or (status is Status.CLOSED and ticket.satisfaction):
        rated = f"（{ticket.satisfaction}）" if ticket.satisfaction else ""
        return _refused(f"这张工单已评价或已回访{rated}，不能重复评价。{PHONE}", "already_rated")
    if status is Status.CLOSED:
        return _refused(
            "这张工单已办结，不再接受评价。如有新的问题，请重新反映或拨打 12345 热线。",
            "closed",
        )
    if status is Status.MERGED:
        return _refused(
            "这张工单已与相同诉求的工单合并办理，无需单独评价。请查看合并后工单的答复。",
            "merged",
        )
    return _refused(
        "承办单位还没有答复，答复后才能评价。请过几天再用工单号和查询码查询。", "not_replied"
    )


def _refused(message: str, code: str) -> HotlineError:
    return HotlineError(message, status=409, code=code)


async def rate(
    *, ticket: Ticket, rating: RatingIn, now: datetime, deployment: Deployment
) -> ticket_service.TicketRecord:
    """Record the rating as the callback of a ticket opened with its query code."""
    refused = refusal(ticket)
    if refused is not None:
        raise refused
    body = CallbackBody(
        contacted=True,  # the complainant answered for themselves
        satisfaction=rating.satisfaction,
        solved=rating.solved,
        note=rating.comment,
    )
    try:
        return await ticket_service.apply_action(
            ticket=ticket,
            action=Action.CALLBACK,
            body=body,
            actor=CITIZEN,
            now=now,
            deployment=deployment,
        )
    except HotlineError as exc:
        if exc.code != "version_conflict":
            raise
        # Rated twice at once (two taps, two tabs) or called back meanwhile: say what won.
        fresh = await Ticket.get(id=ticket.id)
        raise refusal(fresh) or exc from None


async def left_unsolved(ticket: Ticket) -> bool:
    """Whether the ticket waits on the centre after a callback saying the problem is not solved.

    Nothing happens on its own then: the ticket stays 已回访 until the centre either closes it
    or sends it back to the unit (重办, status 办理中). The tracking page says so.
    """
    if ticket.status != Status.CALLED_BACK.value:
        return False
    last = (
        await TicketEvent.filter(ticket_id=ticket.id, action=Action.CALLBACK.value)
        .order_by("-id")
        .first()
    )
    payload = dict(last.payload or {}) if last else {}
    return payload.get("solved") is False or payload.get("satisfaction") == "不满意"
