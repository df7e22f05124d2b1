"""WeChat nonces in the database: one request per (timestamp, nonce), old ones purged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.channels import wechat as proto
from hotline.domain.models import WeChatNonce
from hotline.runtime.config import load_settings
from hotline.services import wechat_nonces
from hotline.startup.workers import housekeeping

# A nonce is claimed by a unique row: each backend's conflict handling.
pytestmark = pytest.mark.backends

TS = "1764990000"
EXPIRES = datetime.fromtimestamp(proto.nonce_expires(TS), UTC)


async def _claim(nonce: str, body: bytes) -> bool:
    return await wechat_nonces.claim(
        key=proto.nonce_key(TS, nonce),
        request=proto.request_digest("POST", body),
        expires_at=EXPIRES,
    )


async def test_a_nonce_is_claimed_by_one_request(db: Any) -> None:
    assert await _claim("1392547864", b"<xml>first</xml>")
    assert await _claim("1392547864", b"<xml>first</xml>")  # the same request: WeChat's retry
    assert not await _claim("1392547864", b"<xml>forged</xml>")
    assert await _claim("1392547865", b"<xml>forged</xml>")
    # Neither the nonce nor the body is kept, only digests.
    assert all(len(row.key) == 64 and "13925" not in row.key for row in await WeChatNonce.all())


async def test_concurrent_claims_of_one_nonce_let_one_body_through(db: Any) -> None:
    bodies = [f"<xml>{n}</xml>".encode() for n in range(4)]
    won = await asyncio.gather(*(_claim("777", body) for body in bodies))
    assert sorted(won) == [False, False, False, True]


async def test_housekeeping_forgets_nonces_whose_window_has_passed(db: Any) -> None:
    assert await _claim("1", b"a")
    assert await wechat_nonces.purge(EXPIRES - timedelta(seconds=1)) == 0
    assert await WeChatNonce.all().count() == 1
    await WeChatNonce.create(key="0" * 64, request="x", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert await wechat_nonces.purge(EXPIRES) == 2
    await WeChatNonce.create(key="1" * 64, request="x", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    await housekeeping(settings=load_settings())
    assert await WeChatNonce.all().count() == 0
