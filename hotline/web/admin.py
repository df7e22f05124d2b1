"""Admin endpoints: the mail outbox (what is waiting, what failed, requeue)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.errors import HotlineError
from hotline.lifecycle import Role
from hotline.mail.models import MailStatus, OutboxMail
from hotline.mail.sender import requeue_mail
from hotline.timefmt import local_iso, utcnow
from hotline.web.endpoint import api, request_query
from hotline.web.http import require_principal, require_role
from hotline.web.queries import OutboxQuery


def _mail(row: OutboxMail) -> dict[str, object]:
    return {
        "id": row.id,
        "status": str(row.status.value if hasattr(row.status, "value") else row.status),
        "reason": row.reason,
        "ticket_number": row.ticket_number,
        "to": list(row.to_addrs),
        "subject": row.subject,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "message_id": row.message_id,
        "created_at": local_iso(row.created_at),
        "next_attempt_at": local_iso(row.next_attempt_at),
        "sent_at": local_iso(row.sent_at),
    }


@api(
    summary="邮件发件箱（管理员）",
    query=OutboxQuery,
    description="邮件及投递状态",
    errors=(401, 403, 422),
)
async def list_outbox(request: Request) -> Response:
    """GET /api/v1/admin/outbox?status=pending|sent|failed — mail and its delivery state."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    status = request_query(request).status
    rows_query = OutboxMail.all()
    if status:
        rows_query = rows_query.filter(status=status)
    counts = {s.value: await OutboxMail.filter(status=s).count() for s in MailStatus}
    rows = await rows_query.order_by("-id").limit(200)
    return JSONResponse({"counts": counts, "items": [_mail(r) for r in rows]})


@api(
    summary="重新发送失败的邮件（管理员）",
    path={"mail_id": {"type": "integer", "description": "邮件编号"}},
    description="已重新排队",
    errors=(401, 403, 404),
)
async def requeue(request: Request) -> Response:
    """POST /api/v1/admin/outbox/{id}/requeue — send a failed mail again."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    raw = request.path_params["mail_id"]
    if not raw.isdigit() or not await requeue_mail(int(raw), now=utcnow()):
        raise HotlineError("没有这封发送失败的邮件", status=404, code="not_found")
    return JSONResponse({"id": int(raw), "status": "pending"})


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/admin/outbox", list_outbox, methods=["GET"]),
    Route("/admin/outbox/{mail_id}/requeue", requeue, methods=["POST"]),
]
