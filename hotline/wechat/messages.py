"""The words of the WeChat messages to a reporter (pure)."""

from __future__ import annotations

# A customer-service text may hold 2,048 bytes; the reply is cut well inside that, the link
# after it carries the whole reply.
REPLY_CHARS = 500


def reply_message(*, number: str, reply: str, link: str) -> str:
    """The reply released to the citizen, with the tracking link (no query code: forwarded
    messages must not open the ticket to others)."""
    text = reply.strip()
    if len(text) > REPLY_CHARS:
        text = text[: REPLY_CHARS - 1] + "…"
    return (
        f"【12345热线】您反映的问题（工单 {number}）已有答复：\n{text}\n\n"
        f"查看详情：{link}（需输入查询码）。如对答复有疑问，可直接在公众号留言或拨打 12345。"
    )


def close_message(*, number: str, link: str) -> str:
    """The ticket is closed: where to see it and to rate the handling."""
    return (
        f"【12345热线】您反映的问题（工单 {number}）已办结，感谢您的反映。"
        f"查看办理结果并评价：{link}（需输入查询码）"
    )
