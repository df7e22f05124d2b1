"""The official account's HTTP API: the stable access token and customer-service messages.

The stable token (`/cgi-bin/stable_token`) is used rather than `/cgi-bin/token`: fetching it
does not invalidate the token another worker or machine holds, so several senders can run
side by side. It is cached until five minutes before WeChat says it expires, and fetched
again at once when WeChat answers that it is no longer valid.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# errcodes meaning "the token is stale": fetch a new one and try again once.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# errcodes about this message or this user: trying again cannot help.
PERMANENT = {
    40003: "openid 无效（不是本公众号的用户）",
    43004: "用户已取消关注公众号",
    43019: "用户已将公众号拉黑",
    45015: "用户超过 48 小时未与公众号互动，客服消息无法送达",
    45047: "客服消息下行条数超过上限（用户 48 小时内未回复）",
    40008: "消息类型不合法",
    45002: "消息内容超过长度限制",
}
EXPIRY_MARGIN = 300.0  # seconds: a token this close to its end is fetched anew


class WeChatApiError(Exception):
    """WeChat refused a call: `errcode` as WeChat gave it (-1: system busy)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def permanent(self) -> bool:
        """Whether the message can never be delivered (unknown user, closed window…)."""
        return self.errcode in PERMANENT

    def reason(self) -> str:
        """What admins read on the outbox page, in Chinese where we know the code."""
        known = PERMANENT.get(self.errcode)
        return f"微信 errcode {self.errcode}：{known or self.errmsg}"


@dataclass
class _Token:
    value: str
    expires: float  # monotonic seconds


class WeChatApi:
    """One official account's API client (an httpx client kept between sends)."""

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        base_url: str = DEFAULT_API_BASE,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._clock = clock
        self._token: _Token | None = None

    async def access_token(self, *, fresh: bool = False) -> str:
        """The cached token, or a new one when it is near its end or `fresh` is asked."""
        now = self._clock()
        if self._token is not None and not fresh and now < self._token.expires:
            return self._token.value
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": False,
        }
        data = await self._post("/cgi-bin/stable_token", body)
        token = str(data.get("access_token") or "")
        if not token:
            raise WeChatApiError(-1, "no access_token in the answer")
        lifetime = float(data.get("expires_in") or 7200)
        self._token = _Token(token, now + max(lifetime - EXPIRY_MARGIN, 60.0))
        return token

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message to one follower."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        try:
            await self._post_with_token("/cgi-bin/message/custom/send", body)
        except WeChatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            await self.access_token(fresh=True)  # another party refreshed it: once more
            await self._post_with_token("/cgi-bin/message/custom/send", body)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _post_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.access_token()
        return await self._post(path, body, params={"access_token": token})

    async def _post(
        self, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        # WeChat wants the Chinese as UTF-8, not \u escapes (they count against the length).
        response = await self._client.post(
            path,
            params=params,
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        response.raise_for_status()
        data = response.json()
        errcode = int(data.get("errcode") or 0)
        if errcode:
            raise WeChatApiError(errcode, str(data.get("errmsg") or ""))
        return data
