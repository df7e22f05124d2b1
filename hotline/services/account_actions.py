"""What an administrator can do to an account, declared once for the admin API and page.

Each action names its label, runs one function of `hotline.services.users` and says what
happened in the words both surfaces show: the API answers `message` with the action's
figures, the page flashes the same message (or shows a new password once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.errors import HotlineError
from hotline.services import users


@dataclass(frozen=True)
class AccountOutcome:
    """What an account action did: the message people read and the API's figures."""

    username: str
    message: str
    figures: dict[str, Any] = field(default_factory=dict)  # active / revoked / signed_out
    password: str | None = None  # a new password, shown this once

    def as_json(self) -> dict[str, Any]:
        """The API's answer."""
        extra = {"password": self.password} if self.password is not None else {}
        return {"username": self.username, **self.figures, **extra, "message": self.message}


# (username, now, the asking admin's own page session, kept signed in) → outcome
Run = Callable[[str, datetime, int | None], Awaitable[AccountOutcome]]


@dataclass(frozen=True)
class AccountAction:
    """One action: its path name, its Chinese label and what it runs."""

    name: str
    label: str
    run: Run


async def _disable(username: str, now: datetime, keep: int | None) -> AccountOutcome:
    changed = await users.disable_user(username=username, now=now)
    said = f"已停用账号 {username}" if changed else f"账号 {username} 已是停用状态"
    return AccountOutcome(username, said, {"active": False})


async def _enable(username: str, now: datetime, keep: int | None) -> AccountOutcome:
    changed = await users.enable_user(username=username)
    said = f"已启用账号 {username}" if changed else f"账号 {username} 已是启用状态"
    return AccountOutcome(username, said, {"active": True})


async def _revoke_tokens(username: str, now: datetime, keep: int | None) -> AccountOutcome:
    count = await users.revoke_tokens(username=username)
    said = (
        f"已吊销 {username} 的 {count} 个 API 令牌"
        if count
        else f"{username} 没有未吊销的 API 令牌"
    )
    return AccountOutcome(username, said, {"revoked": count})


async def _reset_password(username: str, now: datetime, keep: int | None) -> AccountOutcome:
    password = await users.reset_password(username=username, now=now, keep_session=keep)
    said = f"已重置密码 {username}：新密码只显示这一次，请当面或电话告知本人"
    return AccountOutcome(username, said, password=password)


async def _sign_out_everywhere(username: str, now: datetime, keep: int | None) -> AccountOutcome:
    # The admin's own session, if the request came from their page, stays: it is the one asking.
    count = await users.sign_out_everywhere(username=username, now=now, keep_session=keep)
    said = (
        f"已结束 {username} 的 {count} 个页面登录，对方需重新登录"
        if count
        else f"{username} 当前没有页面登录"
    )
    return AccountOutcome(username, said, {"signed_out": count})


ACCOUNT_ACTIONS: dict[str, AccountAction] = {
    a.name: a
    for a in (
        AccountAction("disable", "停用", _disable),
        AccountAction("enable", "启用", _enable),
        AccountAction("revoke-tokens", "吊销令牌", _revoke_tokens),
        AccountAction("reset-password", "重置密码", _reset_password),
        AccountAction("sign-out-everywhere", "全部登出", _sign_out_everywhere),
    )
}


async def run_account_action(
    name: str, *, username: str, now: datetime, keep_session: int | None
) -> AccountOutcome:
    """Run one declared action; 404 for a name that is none of them."""
    action = ACCOUNT_ACTIONS.get(name)
    if action is None:
        allowed = "、".join(ACCOUNT_ACTIONS)
        raise HotlineError(
            f"未知操作：{name}（可用：{allowed}）", status=404, code="unknown_action"
        )
    return await action.run(username, now, keep_session)
