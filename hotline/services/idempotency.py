"""Idempotency keys: a client that retries after a dropped connection gets the first result."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.errors import HotlineError
from hotline.domain.models import IdempotencyKey

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True)
class Retry:
    """The key a request came with, where it is unique, and what the request said."""

    scope: str
    key: str
    fingerprint: str


def retry_key(scope: str, key: str | None, request: Any) -> Retry | None:
    """The Retry for a request with an Idempotency-Key (None without one; 422 if malformed)."""
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise HotlineError(
            "Idempotency-Key 必须是 1–128 个可见 ASCII 字符（建议使用 UUID）",
            status=422,
            code="invalid_idempotency_key",
        )
    text = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return Retry(scope, key, hashlib.sha256(text.encode()).hexdigest())


async def earlier_result(retry: Retry, action: str) -> str | None:
    """The ticket number the first request with this key produced, if it finished."""
    row = await IdempotencyKey.get_or_none(scope=retry.scope, key=retry.key)
    if row is None:
        return None
    if row.fingerprint != retry.fingerprint or row.action != action:
        raise HotlineError(
            "这个 Idempotency-Key 已用于另一个请求；重试时请原样重发，新请求请换一个新的键",
            status=422,
            code="idempotency_key_reused",
        )
    return row.ticket_number


async def remember(
    conn: BaseDBAsyncClient, retry: Retry, *, ticket_number: str, action: str, now: datetime
) -> None:
    """Record the result in the change's own transaction (a concurrent twin fails here)."""
    await IdempotencyKey.create(
        using_db=conn,
        scope=retry.scope,
        key=retry.key,
        fingerprint=retry.fingerprint,
        ticket_number=ticket_number,
        action=action,
        created_at=now,
    )
