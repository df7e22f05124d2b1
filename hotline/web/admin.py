"""Admin endpoints: health with the mail backlog, the mail and SMS outboxes (what waits, what
failed, requeue), accounts, and the sign-in and tracking limits (who is held back, 解除)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.errors import HotlineError
from hotline.lifecycle import Role
from hotline.mail.backlog import mail_backlog
from hotline.mail.models import MailStatus, OutboxMail
from hotline.mail.sender import requeue_failed, requeue_mail
from hotline.privacy import mask_phone
from hotline.sms.backlog import sms_backlog
from hotline.sms.models import OutboxSms, SmsStatus
from hotline.sms.sender import requeue_failed_sms, requeue_sms
from hotline.timefmt import local_iso, utcnow
from hotline.web.endpoint import NOT_FOUND, ROW_ID, THROTTLE_ID, api, request_query
from hotline.web.http import require_principal, require_role
from hotline.web.queries import OutboxQuery
from hotline.web.session import current_session_id
from hotline.web.throttles import Throttle, active_throttles, clear_throttle, described


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


def _sms(row: OutboxSms) -> dict[str, object]:
    # Admins check delivery, not whom: the number is masked as everywhere outside the ticket.
    return {
        "id": row.id,
        "status": str(row.status.value if hasattr(row.status, "value") else row.status),
        "reason": row.reason,
        "ticket_number": row.ticket_number,
        "phone": mask_phone(row.phone),
        "template": row.template,
        "body": row.body,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "gateway_ref": row.gateway_ref,
        "created_at": local_iso(row.created_at),
        "next_attempt_at": local_iso(row.next_attempt_at),
        "sent_at": local_iso(row.sent_at),
    }


@api(
    summary="邮件和短信发件箱（管理员）",
    query=OutboxQuery,
    description="邮件及投递状态；sms 为发给来电人的短信（手机号已脱敏）",
    errors=(401, 403, 422),
)
async def list_outbox(request: Request) -> Response:
    """GET /api/v1/admin/outbox?status=pending|sent|failed — mail and texts, delivery state."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    status = request_query(request).status
    rows_query = OutboxMail.all()
    sms_query = OutboxSms.all()
    if status:
        rows_query = rows_query.filter(status=status)
        sms_query = sms_query.filter(status=status)
    counts = {s.value: await OutboxMail.filter(status=s).count() for s in MailStatus}
    sms_counts = {s.value: await OutboxSms.filter(status=s).count() for s in SmsStatus}
    rows = await rows_query.order_by("-id").limit(200)
    texts = await sms_query.order_by("-id").limit(200)
    return JSONResponse(
        {
            "counts": counts,
            "items": [_mail(r) for r in rows],
            "sms": {"counts": sms_counts, "items": [_sms(r) for r in texts]},
        }
    )


@api(
    summary="重新发送失败的短信（管理员）",
    path={"sms_id": {**ROW_ID, "description": "短信编号"}},
    description="已重新排队",
    errors=(401, 403, 404),
)
async def requeue_text(request: Request) -> Response:
    """POST /api/v1/admin/outbox/sms/{id}/requeue — send a failed text message again."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    raw = request.path_params["sms_id"]
    if not raw.isdigit() or not await requeue_sms(int(raw), now=utcnow()):
        raise HotlineError("没有这条发送失败的短信", status=404, code="not_found")
    return JSONResponse({"id": int(raw), "status": "pending"})


@api(
    summary="重新发送全部失败的短信（管理员）",
    query=OutboxQuery,
    description="重新排队的条数",
    errors=(401, 403, 422),
)
async def requeue_all_texts(request: Request) -> Response:
    """POST /api/v1/admin/outbox/sms/requeue?status=failed — send every failed text again."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    if request_query(request).status != SmsStatus.FAILED:
        raise HotlineError(
            "只能重新排队发送失败的短信：请加上 ?status=failed", status=422, code="validation_error"
        )
    count = await requeue_failed_sms(now=utcnow())
    message = f"已将 {count} 条发送失败的短信重新排队" if count else "没有发送失败的短信"
    return JSONResponse({"requeued": count, "message": message})


@api(
    summary="重新发送失败的邮件（管理员）",
    path={"mail_id": {**ROW_ID, "description": "邮件编号"}},
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


@api(
    summary="运行状况（管理员）：数据库与发件箱积压",
    description="正常",
    errors=(401, 403),
    responses={"503": {"description": "数据库不可达"}},
)
async def health(request: Request) -> Response:
    """GET /api/v1/admin/health — /healthz plus the mail and SMS backlogs; admins only."""
    from tortoise.context import require_context

    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    try:
        await require_context().db().execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; admins see why
        return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
    backlog = await mail_backlog(now=utcnow())
    texts = await sms_backlog(now=utcnow())
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "outbox": {
                "pending": backlog.pending,
                "failed": backlog.failed,
                "oldest_pending_age_seconds": backlog.oldest_pending_age_seconds,
            },
            "sms_outbox": {
                "pending": texts.pending,
                "failed": texts.failed,
                "oldest_pending_age_seconds": texts.oldest_pending_age_seconds,
            },
        }
    )


@api(
    summary="重新发送全部失败的邮件（管理员）",
    query=OutboxQuery,
    description="重新排队的封数",
    errors=(401, 403, 422),
)
async def requeue_all(request: Request) -> Response:
    """POST /api/v1/admin/outbox/requeue?status=failed — send every failed mail again."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    if request_query(request).status != MailStatus.FAILED:
        # Only failed mail can be requeued; saying so keeps a typo from looking like "0 封".
        raise HotlineError(
            "只能重新排队发送失败的邮件：请加上 ?status=failed", status=422, code="validation_error"
        )
    count = await requeue_failed(now=utcnow())
    message = f"已将 {count} 封发送失败的邮件重新排队" if count else "没有发送失败的邮件"
    return JSONResponse({"requeued": count, "message": message})


@api(
    summary="账号管理（管理员）：停用、启用、吊销令牌或全部登出",
    path={
        "username": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_.\-]{2,64}$",
            "maxLength": 64,
            "description": "账号",
        },
        "action": {"enum": ["disable", "enable", "revoke-tokens", "sign-out-everywhere"]},
    },
    description="结果",
    errors=(401, 403, 404),
)
async def user_action(request: Request) -> Response:
    """POST /api/v1/admin/users/{username}/disable|enable|revoke-tokens|sign-out-everywhere."""
    from hotline.services import users

    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    username = request.path_params["username"]
    action = request.path_params["action"]
    if action == "disable":
        changed = await users.disable_user(username=username, now=utcnow())
        message = f"已停用账号 {username}" if changed else f"账号 {username} 已是停用状态"
        return JSONResponse({"username": username, "active": False, "message": message})
    if action == "enable":
        changed = await users.enable_user(username=username)
        message = f"已启用账号 {username}" if changed else f"账号 {username} 已是启用状态"
        return JSONResponse({"username": username, "active": True, "message": message})
    if action == "revoke-tokens":
        count = await users.revoke_tokens(username=username)
        message = f"已吊销 {count} 个 API 令牌" if count else "没有未吊销的 API 令牌"
        return JSONResponse({"username": username, "revoked": count, "message": message})
    if action == "sign-out-everywhere":
        # The admin's own session, if this came from their page, stays: it is the one asking.
        count = await users.sign_out_everywhere(
            username=username, now=utcnow(), keep_session=current_session_id(request)
        )
        message = (
            f"已结束 {username} 的 {count} 个页面登录，需重新登录"
            if count
            else f"{username} 当前没有页面登录"
        )
        return JSONResponse({"username": username, "signed_out": count, "message": message})
    raise HotlineError(f"未知操作：{action}", status=404, code="unknown_action")


def _limiters(request: Request) -> dict[str, Any]:
    state = request.app.state
    return {"login_throttle": state.login_throttle, "track_limiter": state.track_limiter}


def _throttle(t: Throttle) -> dict[str, object]:
    return {
        "id": t.id,
        "scope": t.scope,
        "label": t.label,
        "account": t.account,
        "address": t.address,
        "number": t.number,
        "failures": t.failures,
        "limit": t.limit,
        "effect": t.effect,
        "effect_text": t.effect_text,
        "until": local_iso(t.until),
    }


@api(
    summary="登录与进度查询限制（管理员）：当前被拒绝或减速的账号和地址",
    description="当前生效的限制（地址已脱敏）",
    errors=(401, 403),
)
async def list_throttles(request: Request) -> Response:
    """GET /api/v1/admin/throttles — who the sign-in and tracking limits hold back now."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    found = await active_throttles(**_limiters(request), now=time.time())
    return JSONResponse({"items": [_throttle(t) for t in found]})


@api(
    summary="解除一条登录或进度查询限制（管理员）",
    path={"throttle_id": THROTTLE_ID},
    description="已解除",
    errors=(401, 403, 404),
)
async def clear_throttle_endpoint(request: Request) -> Response:
    """POST /api/v1/admin/throttles/{id}/clear — forget the failures behind one entry."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    cleared = await clear_throttle(
        request.path_params["throttle_id"],
        **_limiters(request),
        now=time.time(),
        by=principal.username,
    )
    if cleared is None:
        raise HotlineError(NOT_FOUND[THROTTLE_ID["description"]], status=404, code="not_found")
    return JSONResponse(
        {**_throttle(cleared), "message": f"已解除：{described(cleared)}，现在即可重新尝试"}
    )


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/admin/health", health, methods=["GET"]),
    Route("/admin/outbox", list_outbox, methods=["GET"]),
    # Before the mail routes: "/admin/outbox/{mail_id}/requeue" would take "sms" as an id.
    Route("/admin/outbox/sms/requeue", requeue_all_texts, methods=["POST"]),
    Route("/admin/outbox/sms/{sms_id}/requeue", requeue_text, methods=["POST"]),
    Route("/admin/outbox/requeue", requeue_all, methods=["POST"]),
    Route("/admin/outbox/{mail_id}/requeue", requeue, methods=["POST"]),
    Route("/admin/users/{username}/{action}", user_action, methods=["POST"]),
    Route("/admin/throttles", list_throttles, methods=["GET"]),
    Route("/admin/throttles/{throttle_id}/clear", clear_throttle_endpoint, methods=["POST"]),
]
