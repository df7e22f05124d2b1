"""Admin endpoints: health with the outbox backlogs, the outbox of every transport (what waits,
what failed, requeue), accounts, and the sign-in and tracking limits (who is held back, 解除)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.timefmt import local_iso, utcnow
from hotline.outbox.admin import listing
from hotline.outbox.backlog import backlog
from hotline.outbox.delivery import requeue
from hotline.outbox.registry import ADAPTERS, route_order, view
from hotline.outbox.status import OutboxStatus
from hotline.runtime.db import ping
from hotline.services.account_actions import ACCOUNT_ACTIONS, run_account_action
from hotline.services.throttles import Throttle, active_throttles, clear_throttle, described
from hotline.web.endpoint import NOT_FOUND, ROW_ID, THROTTLE_ID, USERNAME, api, request_query
from hotline.web.http import require_principal, require_role
from hotline.web.queries import OutboxQuery
from hotline.web.session import current_session_id


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
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    try:
        await ping()
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
    summary="账号管理（管理员）：停用、启用、吊销令牌、重置密码或全部登出",
    path={
        "username": USERNAME,
        "action": {"enum": list(ACCOUNT_ACTIONS)},
    },
    description="结果",
    errors=(401, 403, 404),
)
async def user_action(request: Request) -> Response:
    """POST /api/v1/admin/users/{username}/{action} — one of ACCOUNT_ACTIONS."""
    principal = await require_principal(request)
    require_role(principal, Role.ADMIN)
    outcome = await run_account_action(
        request.path_params["action"],
        username=request.path_params["username"],
        now=utcnow(),
        keep_session=current_session_id(request),
    )
    return JSONResponse(outcome.as_json())


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
    *(route for name in route_order() for route in _requeue_routes(name)),
    Route("/admin/users/{username}/{action}", user_action, methods=["POST"]),
    Route("/admin/throttles", list_throttles, methods=["GET"]),
    Route("/admin/throttles/{throttle_id}/clear", clear_throttle_endpoint, methods=["POST"]),
]
