"""Server-side page sessions: start, find, touch, revoke, list and prune `web_session` rows.

The browser's cookie carries a random key; the row is found by the key's SHA-256, so a copy
of the table signs nobody in. Because the session is a row, ending it (sign-out, a password
change, disabling the account, an admin's 全部登出) takes effect on every web worker at the
next request. Every function takes `now`; the web layer (hotline.web.session) reads the clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.functions import Count

from hotline.domain.auth import Principal
from hotline.domain.models import WebSession

# Last activity is rewritten at most this often: a click costs a read, not a write. The idle
# end may therefore come up to this much early.
TOUCH_EVERY = timedelta(seconds=30)
# Ended rows stay this long (so the sign-in page can say why a session ended), then go.
KEEP_ENDED = timedelta(days=1)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session may sit idle, and how long it may live at all."""

    idle: timedelta
    lifetime: timedelta


def policy_for(*, idle_minutes: float, max_hours: float) -> SessionPolicy:
    """SESSION_IDLE_MINUTES and SESSION_MAX_HOURS as a policy."""
    return SessionPolicy(idle=timedelta(minutes=idle_minutes), lifetime=timedelta(hours=max_hours))


class Ended(StrEnum):
    """Why a session presented by a browser is no longer valid."""

    IDLE = "idle"  # no real activity for SESSION_IDLE_MINUTES
    LIFETIME = "lifetime"  # SESSION_MAX_HOURS since sign-in
    REVOKED = "revoked"  # signed out, password changed, account disabled, 全部登出 (or pruned)


@dataclass(frozen=True)
class LiveSession:
    """A valid session and who it belongs to."""

    id: int
    principal: Principal
    last_seen_at: datetime


@dataclass(frozen=True)
class Lookup:
    """The result of presenting a session key: a live session, or why there is none."""

    session: LiveSession | None
    ended: Ended | None


@dataclass(frozen=True)
class SessionView:
    """One live session as shown to its owner or an admin."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    address: str


def key_digest(key: str) -> str:
    """What is stored for a session key: its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


def _live(now: datetime, policy: SessionPolicy) -> Q:
    return Q(revoked_at__isnull=True, expires_at__gt=now, last_seen_at__gte=now - policy.idle)


async def start_session(
    *, user_id: int, now: datetime, policy: SessionPolicy, user_agent: str = "", address: str = ""
) -> tuple[str, int]:
    """Record a new session for a user who just signed in; returns (cookie key, row id)."""
    key = secrets.token_urlsafe(32)
    row = await WebSession.create(
        key_hash=key_digest(key),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
        user_agent=user_agent[:200],
        address=address[:64],
    )
    return key, row.id


async def find_session(key: str, *, now: datetime, policy: SessionPolicy) -> Lookup:
    """The live session behind a cookie key, or why it ended (one indexed lookup with joins)."""
    rows = await WebSession.filter(key_hash=key_digest(key)).values(
        "id",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "user_id",
        "user__active",
        "user__username",
        "user__display_name",
        "user__role",
        "user__unit_id",
        "user__unit__code",
    )
    if not rows:
        return Lookup(None, Ended.REVOKED)
    row = rows[0]
    if row["revoked_at"] is not None or not row["user__active"]:
        return Lookup(None, Ended.REVOKED)
    if row["expires_at"] <= now:
        return Lookup(None, Ended.LIFETIME)
    if now - row["last_seen_at"] > policy.idle:
        return Lookup(None, Ended.IDLE)
    principal = Principal(
        user_id=row["user_id"],
        username=row["user__username"],
        display_name=row["user__display_name"] or row["user__username"],
        role=row["user__role"],
        unit_id=row["user__unit_id"],
        unit_code=row["user__unit__code"],
    )
    return Lookup(LiveSession(row["id"], principal, row["last_seen_at"]), None)


def needs_touch(session: LiveSession, *, now: datetime) -> bool:
    """Whether real activity now should be written (at most every TOUCH_EVERY)."""
    return now - session.last_seen_at >= TOUCH_EVERY


async def touch(session_id: int, *, now: datetime) -> None:
    """Record real activity; conditional, so concurrent clicks write it once."""
    await WebSession.filter(
        id=session_id, revoked_at__isnull=True, last_seen_at__lte=now - TOUCH_EVERY
    ).update(last_seen_at=now)


async def revoke_session(session_id: int, *, now: datetime) -> bool:
    """End one session (sign-out). False if it had ended already."""
    return (
        await WebSession.filter(id=session_id, revoked_at__isnull=True).update(revoked_at=now) > 0
    )


async def revoke_user_sessions(*, user_id: int, now: datetime, keep: int | None = None) -> int:
    """End every session of a user, except `keep` (the session asking); returns how many."""
    query = WebSession.filter(user_id=user_id, revoked_at__isnull=True, expires_at__gt=now)
    if keep is not None:
        query = query.exclude(id=keep)
    return await query.update(revoked_at=now)


async def user_sessions(*, user_id: int, now: datetime, policy: SessionPolicy) -> list[SessionView]:
    """A user's live sessions, most recently active first."""
    rows = await WebSession.filter(_live(now, policy), user_id=user_id).order_by(
        "-last_seen_at", "-id"
    )
    return [
        SessionView(r.id, r.created_at, r.last_seen_at, r.expires_at, r.user_agent, r.address)
        for r in rows
    ]


async def live_counts(*, now: datetime, policy: SessionPolicy) -> dict[int, int]:
    """Per user id: how many live sessions (one grouped query, for the admin's account list)."""
    rows = (
        await WebSession.filter(_live(now, policy))
        .annotate(n=Count("id"))
        .group_by("user_id")
        .values("user_id", "n")
    )
    return {r["user_id"]: r["n"] for r in rows}


async def prune(*, now: datetime, policy: SessionPolicy) -> int:
    """Delete sessions that ended more than KEEP_ENDED ago; returns how many."""
    cutoff = now - KEEP_ENDED
    ended = (
        Q(revoked_at__lt=cutoff)
        | Q(expires_at__lt=cutoff)
        | Q(last_seen_at__lt=cutoff - policy.idle)
    )
    return await WebSession.filter(ended).delete()
