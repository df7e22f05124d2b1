"""Server-rendered staff pages (Jinja2 + a little htmx): one module per area.

`install(app, settings)` adds the routes, the static files, the session and security-header
middleware and HTML error pages for page paths; the JSON API is unchanged.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from hotline.domain.errors import HotlineError
from hotline.runtime.config import Settings
from hotline.services.login_throttle import LoginThrottle
from hotline.web.pages import (
    account,
    admin,
    auth,
    calls,
    kb,
    operator,
    photos,
    radar,
    similar,
    submit,
    supervisor,
    throttles,
    ticket,
    track,
    unit,
)
from hotline.web.pages.common import LoginRequired, page_error_handler
from hotline.web.session import SessionMiddleware, SessionSettings

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"


def install(app: Starlette, settings: Settings, session: SessionSettings | None = None) -> None:
    """Add the pages to an app built by `create_app`."""
    session = session or SessionSettings.from_settings(settings)
    app.state.session_settings = session
    # Known sign-in addresses are kept as an HMAC with the session key (login_throttle).
    app.state.login_throttle = LoginThrottle(secret=str(session.secret))
    # The operator console's /api/v1/route-preview is part of the API mount (hotline.web.app).
    app.router.routes.extend(
        [
            *auth.routes,
            *account.routes,
            *operator.routes,
            *similar.routes,
            *calls.routes,
            *kb.routes,
            *unit.routes,
            *ticket.routes,
            *supervisor.routes,
            *radar.routes,
            *admin.routes,
            *throttles.routes,
            *submit.routes,
            *photos.routes,
            *track.routes,  # public: citizens track and rate with the query code
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )
    for exc_type in (HotlineError, HTTPException):
        app.exception_handlers[exc_type] = page_error_handler(app.exception_handlers[exc_type])
    app.exception_handlers[LoginRequired] = page_error_handler(app.exception_handlers[HotlineError])
    app.add_middleware(SessionMiddleware, settings=session)
