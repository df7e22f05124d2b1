"""Replies and closings to WeChat reporters: the outbox's "wechat" transport.

A row's recipient is the follower's openid; its body the same words the text message would
carry (data/sms.toml), sent as a customer-service message. WeChat allows those within 48
hours of the follower's last message: later, or to someone who unfollowed, the row fails
with the reason shown to admins, and the citizen still has the text message and the
tracking page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from hotline.outbox.models import OutboxMessage
from hotline.outbox.transport import MIN_LEASE, Outcome, Sent, TransportView
from hotline.wechat.client import WeChatApi, WeChatApiError

if TYPE_CHECKING:
    from hotline.runtime.config import Settings
    from hotline.runtime.deployment import Deployment


def mask_openid(openid: str) -> str:
    """Enough of an openid to tell rows apart, not to message the person."""
    return f"{openid[:4]}…{openid[-2:]}" if len(openid) > 8 else "…"


class WeChatTransport:
    """Hands rows to the official account's customer-service API."""

    name = "wechat"
    lease = MIN_LEASE

    def __init__(self, api: WeChatApi | None) -> None:
        self.api = api
        self.enabled = api is not None

    async def send(self, row: OutboxMessage) -> Sent:
        """Send one message to its follower."""
        assert self.api is not None  # the sender only calls an enabled transport
        await self.api.send_text(row.recipients[0], row.body)
        return Sent()

    def classify(self, exc: BaseException) -> Outcome:
        """A closed window or an unknown follower is this row's end; the rest is WeChat's."""
        if isinstance(exc, WeChatApiError):
            return Outcome(exc.permanent, not exc.permanent, exc.reason())
        if isinstance(exc, httpx.HTTPError):
            return Outcome(False, True, f"微信接口无法访问：{type(exc).__name__}: {exc}")
        return Outcome(False, False, f"{type(exc).__name__}: {exc}")

    async def after_error(self, exc: BaseException) -> None:
        """Each send is one request: nothing is left half-done."""

    async def end_round(self) -> None:
        """The token and the connections are kept between rounds."""

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self.api is not None:
            await self.api.close()


def wechat_json(row: OutboxMessage) -> dict[str, object]:
    """What the admin API lists of a WeChat message besides what every row has."""
    return {"openid": mask_openid(row.recipients[0] if row.recipients else ""), "body": row.body}


VIEW = TransportView(
    name="wechat",
    label="微信消息",
    counter="条",
    row_json=wechat_json,
    who_header="微信用户",
    who=lambda row: mask_openid(row.recipients[0] if row.recipients else ""),
    what_header="内容",
    what=lambda row: row.body,
    hint=(
        "通过公众号客服消息告知微信反映人答复和办结。微信接口故障时按退避间隔重试；用户超过 48 小时"
        "未与公众号互动、已取消关注等无法送达的消息标为失败（市民仍可收到短信、在进度查询页查看）。"
    ),
    path="/wechat",
    notice=lambda settings: (
        ""
        if settings.wechat_appid and settings.wechat_secret
        else "未设置 WECHAT_APPID 和 WECHAT_SECRET：不向微信反映人推送答复（消息不会排队）。"
    ),
)


def build(settings: Settings, deployment: Deployment | None = None) -> WeChatTransport:
    """The transport for the configured official account (disabled without its secret)."""
    if not (settings.wechat_appid and settings.wechat_secret):
        return WeChatTransport(None)
    return WeChatTransport(
        WeChatApi(
            appid=settings.wechat_appid,
            secret=settings.wechat_secret,
            base_url=settings.wechat_api_base,
        )
    )
