"""The Starlette application: routes, error answers, and the lifespan that owns the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, compile_path

from hotline.domain.errors import HotlineError
from hotline.runtime.config import Settings
from hotline.runtime.db import close_database, open_database, ping
from hotline.runtime.deployment import Deployment
from hotline.runtime.threads import tune_thread_switching
from hotline.services.ratelimit import TrackLimiter
from hotline.web import admin, api, cti, kb, open311, preview, radar, similar, stats, wechat
from hotline.web.endpoint import api as declare
from hotline.web.failsafe import (
    RETRY_AFTER_SECONDS,
    Failsafe,
    OutageLog,
    database_unavailable,
)
from hotline.web.http import error_response
from hotline.web.openapi import openapi, walk
from hotline.web.security import SecurityHeaders

log = logging.getLogger("hotline")


@declare(
    summary="健康检查（数据库可达）",
    public=True,
    description="正常",
    responses={
        "503": {
            "description": "数据库不可达",
            "headers": {"Retry-After": {"description": "秒数", "schema": {"type": "integer"}}},
        }
    },
)
async def healthz(request: Request) -> Response:
    """GET /healthz — 200 when the database answers, 503 + Retry-After otherwise."""
    try:
        await ping()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        # Public: the error (hosts, users) goes to the log and to /api/v1/admin/health only;
        # a load balancer probes every few seconds, so an outage is logged per interval.
        outage: OutageLog = request.app.state.outage
        if database_unavailable(exc):
            outage.refused_request("GET /healthz", exc)
        else:
            log.error("healthz: database check failed", exc_info=exc)
        return JSONResponse(
            {"status": "error", "database": "error"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


async def _hotline_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HotlineError)
    extra = {"fields": exc.fields} if exc.fields else {}
    return error_response(exc.status, exc.code, exc.message, **extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "页面或接口不存在", 405: "不支持该请求方法"}
    response = error_response(
        exc.status_code, "http_error", messages.get(exc.status_code, "请求无法处理")
    )
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        # Starlette's Allow names only the first route matching the path; a path served by
        # two routes (GET and POST /tickets) takes the methods of both.
        methods = {
            m
            for full, route in walk(request.app.routes)
            if compile_path(full)[0].match(request.url.path)
            for m in route.methods or ()
        }
        if methods:
            response.headers["Allow"] = ", ".join(sorted(methods))
    return response


def create_app(
    settings: Settings,
    *,
    deployment: Deployment | None = None,
    manage_db: bool = True,
    background: bool | None = None,
) -> Starlette:
    """Build the app; with manage_db the lifespan opens and closes the database itself."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = None
        tasks: list[asyncio.Task[None]] = []
        stop = asyncio.Event()
        if manage_db:
            from hotline.services.units import sync_units
            from hotline.startup.bootstrap import announce, load_deployment

            ctx = await open_database(
                settings.database_url, reporting_url=settings.reporting_database_url
            )
            # Each worker process: aiosqlite's thread must not wait 5 ms for the GIL.
            tune_thread_switching(settings.database_url)
            if app.state.deployment is None:
                app.state.deployment = load_deployment(settings)
            await sync_units(list(app.state.deployment.units))
            app.state.deployment.warm_up()
            announce(settings, app.state.deployment)
        run_background = settings.run_sweeper if background is None else background
        if manage_db:
            from hotline.startup.workers import follow_rules

            # An admin's 重新加载 on another worker reaches this one too.
            tasks.append(
                asyncio.create_task(
                    follow_rules(app.state.deployment, stop=stop), name="rules-follower"
                )
            )
        if manage_db:
            from hotline.services.knowledge_search import warm_up

            # The knowledge base's suggestion index, built before the first call needs it.
            tasks.append(asyncio.create_task(warm_up(), name="kb-warm-up"))
        if run_background:
            from hotline.startup.workers import start_background

            tasks += start_background(settings=settings, deployment=app.state.deployment, stop=stop)
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if ctx is not None:
                await close_database(ctx)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        # The API version prefix is written once; /openapi.json is generated from this table.
        Mount(
            "/api/v1",
            routes=[
                *api.routes, *admin.routes, *stats.routes, *preview.routes, *cti.routes,
                *radar.routes, *kb.routes, *similar.routes,
            ],
        ),
        *wechat.routes,
        *open311.routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            HotlineError: _hotline_error,
            HTTPException: _http_error,
        },
    )
    app.state.settings = settings
    app.state.deployment = deployment
    from hotline.domain.auth import CHEAP_HASH_ENV, cheap_hashing_enabled

    if cheap_hashing_enabled():
        log.warning(
            "%s=1: passwords are hashed cheaply (tests only, never production)", CHEAP_HASH_ENV
        )
    # Guessing query codes is what this stops; counted in the database, shared by all workers.
    app.state.track_limiter = TrackLimiter()
    # Staff pages: sign-in session, CSRF, security headers, HTML error pages (hotline/web/pages).
    from hotline.web import pages

    pages.install(app, settings)
    # Outermost of our middleware: unhandled exceptions answered (500, or 503 when the
    # database does not answer) and logged once — Starlette's own handler would re-raise.
    # One count per app: the middleware, /healthz and Open311 report one outage together.
    app.state.outage = OutageLog()
    app.add_middleware(Failsafe, outage=app.state.outage)
    return app
