"""Admin endpoints: health with the outbox backlogs, the outbox of every transport (what waits,
what failed, requeue)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.errors import HotlineError
from hotline.lifecycle import Role
from hotline.outbox.admin import listing
from hotline.outbox.backlog import backlog
from hotline.outbox.delivery import requeue
from hotline.outbox.models import OutboxStatus
from hotline.outbox.registry import ADAPTERS, view
from hotline.timefmt import utcnow
from hotline.web.endpoint import NOT_FOUND, ROW_ID, api, request_query
from hotline.web.http import require_principal, require_role
from hotline.web.queries import OutboxQuery


@api(
    summary="邮件和短信发件箱（管理员）",
    query=OutboxQuery,
    description="邮件及投递状态；sms 为发给来电人的短信（手机号已脱敏）",
    errors=(401, 403, 422),
)
async def list_outbox(request: Request) -> Response:
    """GET /api/v1/admin/outbox?status=pending|sent|failed — every transport, delivery state."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    status = request_query(request).status
    # Mail at the top level (as the first clients read it), every other transport by name.
    answer: dict[str, object] = {}
    for name in ADAPTERS:
        part = (await listing(name, status=status)).as_json()
        if name == "mail":
            answer.update(part)
        else:
            answer[name] = part
    return JSONResponse(answer)


def _requeue_routes(name: str) -> list[Route]:
    """POST …/requeue?status=failed and …/{row_id}/requeue for one transport."""
    v = view(name)

    @api(
        summary=f"重新发送失败的{v.label}（管理员）",
        path={"row_id": {**ROW_ID, "description": f"{v.label}编号"}},
        description="已重新排队",
        errors=(401, 403, 404),
    )
    async def requeue_one(request: Request) -> Response:
        """Send one failed message again."""
        principal = await require_principal(request)
        require_role(principal, Role.ADMIN)
        raw = request.path_params["row_id"]
        if not raw.isdigit() or await requeue(name, now=utcnow(), row_id=int(raw)) != 1:
            raise HotlineError(NOT_FOUND[f"{v.label}编号"], status=404, code="not_found")
        return JSONResponse({"id": int(raw), "status": "pending"})

    @api(
        summary=f"重新发送全部失败的{v.label}（管理员）",
        query=OutboxQuery,
        description=f"重新排队的{v.counter}数",
        errors=(401, 403, 422),
    )
    async def requeue_all(request: Request) -> Response:
        """Send every failed message again."""
        principal = await require_principal(request)
        require_role(principal, Role.ADMIN)
        if request_query(request).status != OutboxStatus.FAILED:
            # Only failed rows can be requeued; saying so keeps a typo from looking like "0 封".
            raise HotlineError(
                f"只能重新排队发送失败的{v.label}：请加上 ?status=failed",
                status=422,
                code="validation_error",
            )
        count = await requeue(name, now=utcnow())
        message = (
            f"已将 {count} {v.counter}发送失败的{v.label}重新排队"
            if count
            else f"没有发送失败的{v.label}"
        )
        return JSONResponse({"requeued": count, "message": message})

    base = f"/admin/outbox{v.path}"
    return [
        Route(f"{base}/requeue", requeue_all, methods=["POST"], name=f"requeue_all_{name}"),
        Route(f"{base}/{{row_id}}/requeue", requeue_one, methods=["POST"], name=f"requeue_{name}"),
    ]


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
    answer: dict[str, object] = {"status": "ok", "database": "ok"}
    for name in ADAPTERS:
        b = await backlog(name, now=utcnow())
        # "outbox" is the mail's (the first transport), "sms_outbox" the texts' …
        answer["outbox" if name == "mail" else f"{name}_outbox"] = {
            "pending": b.pending,
            "failed": b.failed,
            "oldest_pending_age_seconds": b.oldest_pending_age_seconds,
        }
    return JSONResponse(answer)


@api(
    summary="账号管理（管理员）：停用、启用或吊销令牌",
    path={
        "username": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_.\-]{2,64}$",
            "maxLength": 64,
            "description": "账号",
        },
        "action": {"enum": ["disable", "enable", "revoke-tokens"]},
    },
    description="结果",
    errors=(401, 403, 404),
)
async def user_action(request: Request) -> Response:
    """POST /api/v1/admin/users/{username}/disable|enable|revoke-tokens — account control."""
    from hotline.services import users

    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    username = request.path_params["username"]
    action = request.path_params["action"]
    if action == "disable":
        changed = await users.disable_user(username=username)
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
    raise HotlineError(f"未知操作：{action}", status=404, code="unknown_action")


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/admin/health", health, methods=["GET"]),
    Route("/admin/outbox", list_outbox, methods=["GET"]),
    *(
        r
        for name in sorted(ADAPTERS, key=lambda n: not view(n).path)
        for r in _requeue_routes(name)
    ),
    Route("/admin/users/{username}/{action}", user_action, methods=["POST"]),
]
