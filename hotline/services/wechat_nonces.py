"""WeChat nonces seen once, in the database so every web worker and machine refuses a replay.

The endpoint claims each signed request's (timestamp, nonce) pair before acting on it; the
housekeeping job purges pairs whose timestamp can no longer pass the freshness check.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

from hotline.domain.models import WeChatNonce


async def claim(*, key: str, request: str, expires_at: datetime) -> bool:
    """Record a nonce; True when it is new or this is the same request again (WeChat's retry)."""
    try:
        await WeChatNonce.create(key=key, request=request, expires_at=expires_at)
        return True
    except IntegrityError:
        # The primary key decides between concurrent claims; the loser compares requests.
        seen = await WeChatNonce.get_or_none(key=key)
        return seen is not None and seen.request == request


async def purge(now: datetime) -> int:
    """Delete the nonces whose timestamps have left the window; returns how many."""
    return await WeChatNonce.filter(expires_at__lte=now).delete()
