"""Accounts: creating users, issuing API tokens, resolving who is calling."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Count, Max

from hotline.domain.auth import (
    ROLES,
    Principal,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from hotline.domain.errors import HotlineError
from hotline.domain.models import ApiToken, Unit, User
from hotline.services import staff_mail
from hotline.services.principal_cache import PrincipalCache, principal_cache
from hotline.services.web_sessions import revoke_user_sessions

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
DEFAULT_TOKEN_TTL_DAYS = 90
# last_used_at is rewritten only when older than this: no write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def create_user(
    *,
    username: str,
    role: str,
    password: str,
    now: datetime,
    unit_code: str | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    """Create a user; unit staff must name an existing unit, others must not."""
    if not USERNAME.match(username):
        raise HotlineError(
            "用户名只能包含字母、数字、点、下划线和连字符（2–64 个字符）",
            status=422,
            code="invalid_username",
        )
    if role not in ROLES:
        raise HotlineError(f"角色必须是 {', '.join(ROLES)} 之一", status=422, code="invalid_role")
    if len(password) < 8:
        raise HotlineError("密码至少 8 个字符", status=422, code="weak_password")
    unit = None
    if role == "unit":
        if not unit_code:
            raise HotlineError("请选择所属承办单位", status=422, code="unit_required")
        unit = await Unit.get_or_none(code=unit_code)
        if unit is None:
            raise HotlineError(f"单位代码 {unit_code} 不存在", status=422, code="unknown_unit")
    elif unit_code:
        raise HotlineError("只有承办单位人员属于某个单位", status=422, code="unit_not_allowed")
    if await User.exists(username=username):
        raise HotlineError(f"用户名 {username} 已存在", status=409, code="duplicate_username")
    user = await User.create(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
        email=email,
        created_at=now,
    )
    staff_mail.forget()  # the new account's address gets its unit's mail at once
    return user


async def issue_token(
    *, username: str, now: datetime, label: str = "", ttl_days: int = DEFAULT_TOKEN_TTL_DAYS
) -> str:
    """Create an API token valid for `ttl_days` and return it (it is shown only this once)."""
    user = await User.get_or_none(username=username, active=True)
    if user is None:
        raise HotlineError(f"用户 {username} 不存在或已停用", status=404, code="not_found")
    token = new_token()
    await ApiToken.create(
        user=user,
        token_hash=token_digest(token),
        label=label,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    )
    return token


async def principal_for_token(
    token: str,
    *,
    now: datetime,
    ttl_days: int = DEFAULT_TOKEN_TTL_DAYS,
    cache: PrincipalCache = principal_cache,
) -> Principal | None:
    """The user a bearer token belongs to, or None: unknown, revoked, expired or user disabled.

    A valid token is remembered for a few seconds per worker (hotline.services.principal_cache).
    """
    digest = token_digest(token)
    cached = cache.get(digest, now=now)
    if cached is not None:
        if cached.last_used_at is None or cached.last_used_at <= now - LAST_USED_RESOLUTION:
            await _touch(cached.token_id, now)
            cached.last_used_at = now
        return cached.principal
    under_way = cache.pending.get(digest)
    if under_way is not None:
        # Another request with this token is looking it up: its answer is this one's too
        # (read at the same moment); if it failed, this request looks for itself.
        found = await asyncio.shield(under_way)
        if found is not _FAILED:
            return found  # type: ignore[return-value]
        return await _look_up(token, digest, now=now, ttl_days=ttl_days, cache=cache)
    mine: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    cache.pending[digest] = mine
    try:
        principal = await _look_up(token, digest, now=now, ttl_days=ttl_days, cache=cache)
    except BaseException:
        mine.set_result(_FAILED)
        raise
    else:
        mine.set_result(principal)
    finally:
        cache.pending.pop(digest, None)
    return principal


# What waiters of a failed look-up are told (they then look for themselves).
_FAILED = object()


async def _look_up(
    token: str, digest: str, *, now: datetime, ttl_days: int, cache: PrincipalCache
) -> Principal | None:
    """The token's principal read from the database (and remembered when valid)."""
    # One query with joins. A token from before expiry existed (expires_at NULL) lasts
    # ttl_days from its creation.
    unexpired = Q(expires_at__gt=now) | Q(
        expires_at__isnull=True, created_at__gt=now - timedelta(days=ttl_days)
    )
    rows = await ApiToken.filter(
        unexpired, token_hash=digest, revoked=False, user__active=True
    ).values(
        "id",
        "last_used_at",
        "created_at",
        "expires_at",
        "user_id",
        "user__username",
        "user__display_name",
        "user__role",
        "user__unit_id",
        "user__unit__code",
    )
    if not rows:
        return None
    row = rows[0]
    last = row["last_used_at"]
    if last is None or last <= now - LAST_USED_RESOLUTION:
        await _touch(row["id"], now)
        last = now
    principal = Principal(
        user_id=row["user_id"],
        username=row["user__username"],
        display_name=row["user__display_name"] or row["user__username"],
        role=row["user__role"],
        unit_id=row["user__unit_id"],
        unit_code=row["user__unit__code"],
    )
    cache.put(
        digest,
        principal=principal,
        token_id=row["id"],
        last_used_at=last,
        token_expires=row["expires_at"] or row["created_at"] + timedelta(days=ttl_days),
        now=now,
    )
    return principal


async def _touch(token_id: int, now: datetime) -> None:
    """Record a token's use; conditional, so concurrent requests with one token write it once."""
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    await ApiToken.filter(stale, id=token_id).update(last_used_at=now)


async def principal_for_password(username: str, password: str) -> Principal | None:
    """The user whose username and password match, or None."""
    user = await User.get_or_none(username=username, active=True).prefetch_related("unit")
    if user is None or not verify_password(user.password_hash, password):
        return None
    return principal_of(user)


def principal_of(user: User) -> Principal:
    """A Principal from a user row whose unit is loaded."""
    unit = user.unit
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        role=user.role,
        unit_id=unit.id if unit else None,
        unit_code=unit.code if unit else None,
    )


async def list_users() -> list[User]:
    """Every user, with their unit, by username."""
    return await User.all().order_by("username").prefetch_related("unit")


@dataclass(frozen=True)
class TokenSummary:
    """A user's usable API tokens: how many, when one was last used, when the last expires."""

    valid: int
    last_used_at: datetime | None
    expires_at: datetime | None


async def token_summaries(
    *, now: datetime, ttl_days: int = DEFAULT_TOKEN_TTL_DAYS
) -> dict[int, TokenSummary]:
    """Per user id: their unrevoked, unexpired tokens (one grouped query)."""
    unexpired = Q(expires_at__gt=now) | Q(
        expires_at__isnull=True, created_at__gt=now - timedelta(days=ttl_days)
    )
    rows = (
        await ApiToken.filter(unexpired, revoked=False)
        .annotate(n=Count("id"), last=Max("last_used_at"), until=Max("expires_at"))
        .group_by("user_id")
        .values("user_id", "n", "last", "until")
    )
    return {r["user_id"]: TokenSummary(r["n"], r["last"], r["until"]) for r in rows}


async def user_named(username: str) -> User | None:
    """The account called `username`, or None."""
    return await User.get_or_none(username=username)


async def _user(username: str) -> User:
    user = await User.get_or_none(username=username)
    if user is None:
        raise HotlineError(f"用户 {username} 不存在", status=404, code="not_found")
    return user


async def disable_user(*, username: str, now: datetime) -> bool:
    """Disable a user: tokens, sign-in and every page session end at once. False if already so.

    The sessions are revoked, not only refused while disabled: enabling the account again
    does not bring them back.

    The last active admin cannot be disabled (nobody could enable anyone again but by SQL).
    """
    user = await _user(username)
    if not user.active:
        return False
    if user.role == "admin" and await User.filter(role="admin", active=True).count() <= 1:
        raise HotlineError(
            f"{username} 是最后一个启用的管理员，不能停用", status=409, code="last_admin"
        )
    changed = await User.filter(id=user.id, active=True).update(active=False) == 1
    principal_cache.forget_user(user.id)
    staff_mail.forget()
    await revoke_user_sessions(user_id=user.id, now=now)
    return changed


async def enable_user(*, username: str) -> bool:
    """Enable a disabled user again (tokens revoked meanwhile stay revoked). False if active."""
    user = await _user(username)
    changed = await User.filter(id=user.id, active=False).update(active=True) == 1
    staff_mail.forget()
    return changed


async def revoke_tokens(*, username: str) -> int:
    """Revoke every API token of a user; returns how many were still unrevoked."""
    user = await _user(username)
    revoked = await ApiToken.filter(user_id=user.id, revoked=False).update(revoked=True)
    principal_cache.forget_user(user.id)
    return revoked


# No 0/O, 1/l/I: a password read aloud or copied from a screen must not be mistyped.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password(length: int = 12) -> str:
    """A random password without look-alike characters."""
    import secrets

    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


async def reset_password(
    *, username: str, now: datetime, password: str | None = None, keep_session: int | None = None
) -> str:
    """Set a new password (generated when not given) and return it; it is shown only once.

    Sign-in with the old password stops at once and every page session of the user ends
    (but `keep_session`, the admin's own when they reset themselves); API tokens are not
    touched (revoke them separately when the account may be compromised).
    """
    user = await _user(username)
    new = password if password is not None else generate_password()
    if len(new) < 8:
        raise HotlineError("密码至少 8 个字符", status=422, code="weak_password")
    await User.filter(id=user.id).update(password_hash=hash_password(new))
    # Tokens stay valid, but what this worker remembers of the account is read afresh.
    principal_cache.forget_user(user.id)
    await revoke_user_sessions(user_id=user.id, now=now, keep=keep_session)
    return new


async def change_own_password(
    *, user_id: int, current: str, new: str, now: datetime, keep_session: int | None
) -> int:
    """A signed-in user changes their password; their other page sessions end. Returns how many.

    The session that made the change continues: the person proved the current password
    just now, and having to sign in again would add nothing.
    """
    user = await User.get_or_none(id=user_id, active=True)
    if user is None:
        raise HotlineError("账号不存在或已停用", status=404, code="not_found")
    if not verify_password(user.password_hash, current):
        raise HotlineError("当前密码不正确，请重新输入", status=422, code="wrong_password")
    if len(new) < 8:
        raise HotlineError("新密码至少 8 个字符", status=422, code="weak_password")
    if new == current:
        raise HotlineError("新密码不能与当前密码相同", status=422, code="same_password")
    await User.filter(id=user.id).update(password_hash=hash_password(new))
    return await revoke_user_sessions(user_id=user.id, now=now, keep=keep_session)


async def sign_out_everywhere(
    *, username: str, now: datetime, keep_session: int | None = None
) -> int:
    """End every page session of a user (admin's 全部登出); returns how many were live."""
    user = await _user(username)
    return await revoke_user_sessions(user_id=user.id, now=now, keep=keep_session)
