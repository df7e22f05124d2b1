"""Server-side page sessions in the database: why a session ended, and housekeeping that
removes the rows nobody can use any more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.models import WebSession
from hotline.domain.timefmt import utcnow
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services import web_sessions
from hotline.services.web_sessions import Ended, policy_for
from hotline.startup.workers import housekeeping
from tests.service.conftest import make_people

# Sessions are shared by workers through the database.
pytestmark = pytest.mark.backends

POLICY = policy_for(idle_minutes=30, max_hours=12)


async def _start(user_id: int, at: Any) -> tuple[str, int]:
    return await web_sessions.start_session(user_id=user_id, now=at, policy=POLICY)


async def test_a_session_ends_idle_at_its_lifetime_or_when_revoked(
    db: Any, deployment: Deployment
) -> None:
    people = await make_people(deployment, [("op", "operator", None)])
    uid = people["op"].user_id
    t0 = utcnow()
    key, row_id = await _start(uid, t0)
    found = await web_sessions.find_session(key, now=t0 + timedelta(minutes=29), policy=POLICY)
    assert found.session is not None and found.session.principal.username == "op"
    late = await web_sessions.find_session(key, now=t0 + timedelta(minutes=31), policy=POLICY)
    assert late == web_sessions.Lookup(None, Ended.IDLE)
    for minutes in range(25, 12 * 60, 25):
        await web_sessions.touch(row_id, now=t0 + timedelta(minutes=minutes))
    end = await web_sessions.find_session(key, now=t0 + timedelta(hours=12), policy=POLICY)
    assert end.ended is Ended.LIFETIME
    other, _ = await _start(uid, t0)
    assert await web_sessions.revoke_user_sessions(user_id=uid, now=t0) == 2
    gone = await web_sessions.find_session(other, now=t0, policy=POLICY)
    assert gone.ended is Ended.REVOKED
    unknown = await web_sessions.find_session("no-such-key", now=t0, policy=POLICY)
    assert unknown.ended is Ended.REVOKED


async def test_housekeeping_prunes_sessions_ended_over_a_day_ago(
    db: Any, deployment: Deployment
) -> None:
    people = await make_people(deployment, [("op", "operator", None)])
    uid = people["op"].user_id
    now = utcnow()
    live, _ = await _start(uid, now - timedelta(minutes=5))
    _, recent = await _start(uid, now - timedelta(hours=2))
    await web_sessions.revoke_session(recent, now=now - timedelta(hours=1))
    _, revoked = await _start(uid, now - timedelta(days=3))
    await web_sessions.revoke_session(revoked, now=now - timedelta(days=2))
    await _start(uid, now - timedelta(days=2))  # idle, and past its 12 hours, for a day
    assert await WebSession.all().count() == 4
    await housekeeping(settings=load_settings())
    left = await WebSession.all().order_by("id").values_list("id", flat=True)
    assert len(left) == 2 and recent in left
    assert (await web_sessions.find_session(live, now=now, policy=POLICY)).session is not None
