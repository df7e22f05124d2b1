"""系统管理 → 登录与查询限制: who the sign-in and tracking limits hold back now, with 解除.

The listing and the clearing are `hotline.services.throttles` (shared with the admin API); this
module parses the request and says what happened. Admins only; 解除 is a CSRF-checked POST.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.services.throttles import active_throttles, clear_throttle, described
from hotline.web.pages.admin import ADMIN, _page
from hotline.web.pages.common import redirect, require_form, signed_in
from hotline.web.session import flash

PATH = "/admin/throttles"


def _limiters(request: Request) -> dict[str, object]:
    state = request.app.state
    return {"login_throttle": state.login_throttle, "track_limiter": state.track_limiter}


async def throttles_page(request: Request) -> Response:
    """GET /admin/throttles — accounts and addresses refused or slowed now, each with 解除."""
    signed_in(request, ADMIN)
    found = await active_throttles(**_limiters(request), now=time.time())  # type: ignore[arg-type]
    login = request.app.state.login_throttle
    return _page(
        request,
        "admin_throttles.html",
        PATH,
        {"throttles": found, "login": login, "track": request.app.state.track_limiter},
    )


async def clear(request: Request) -> Response:
    """POST /admin/throttles/{id}/clear — forget the failures behind one entry."""
    principal = signed_in(request, ADMIN)
    await require_form(request)
    cleared = await clear_throttle(
        request.path_params["throttle_id"],
        **_limiters(request),  # type: ignore[arg-type]
        now=time.time(),
        by=principal.username,
    )
    if cleared is None:
        flash(request, "这条限制已不存在（可能已到期或已被解除），列表已刷新。", "error")
    else:
        flash(request, f"已解除：{described(cleared)}。对方现在即可重新尝试。")
    return redirect(PATH)


routes = [
    Route(PATH, throttles_page, methods=["GET"]),
    Route(PATH + "/{throttle_id}/clear", clear, methods=["POST"]),
]
