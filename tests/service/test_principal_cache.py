"""A token is resolved once per few seconds per worker, and a revoke or disable still holds.

Each worker process has its own cache; a second `PrincipalCache` here plays another worker
serving the same database.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.auth import token_digest
from hotline.domain.timefmt import utcnow
from hotline.services.principal_cache import TOKEN_CACHE_SECONDS, PrincipalCache, principal_cache
from hotline.services.users import (
    create_user,
    disable_user,
    issue_token,
    principal_for_token,
    reset_password,
    revoke_tokens,
)

TTL = timedelta(seconds=TOKEN_CACHE_SECONDS)


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture
def statements() -> Any:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def _operator_token(name: str = "wang") -> str:
    now = utcnow()
    await create_user(username=name, role="operator", password="Pass-word-1", now=now)
    return await issue_token(username=name, now=now)


async def test_a_token_is_read_once_within_the_ttl(db: Any, statements: _Statements) -> None:
    token = await _operator_token()
    now = utcnow()
    assert (await principal_for_token(token, now=now)).username == "wang"
    first = statements.count
    for seconds in (1, 2, TOKEN_CACHE_SECONDS - 1):
        again = await principal_for_token(token, now=now + timedelta(seconds=seconds))
        assert again is not None and again.username == "wang"
    assert statements.count == first  # no statement while remembered
    await principal_for_token(token, now=now + TTL)
    assert statements.count > first  # read again once the entry expired


@pytest.mark.parametrize("how", ["revoke", "disable"])
async def test_a_revoked_token_is_refused_at_once_here_and_within_the_ttl_elsewhere(
    db: Any, how: str
) -> None:
    token = await _operator_token()
    other_worker = PrincipalCache()
    now = utcnow()
    assert await principal_for_token(token, now=now) is not None
    assert await principal_for_token(token, now=now, cache=other_worker) is not None
    if how == "revoke":
        assert await revoke_tokens(username="wang") == 1
    else:
        assert await disable_user(username="wang", now=now) is True
    later = now + timedelta(seconds=1)
    # The worker that revoked it refuses the token at once.
    assert await principal_for_token(token, now=later) is None
    # Another worker may still accept it until its entry expires, never longer.
    assert await principal_for_token(token, now=later, cache=other_worker) is not None
    assert await principal_for_token(token, now=now + TTL, cache=other_worker) is None


async def test_a_password_reset_makes_this_worker_read_the_account_afresh(db: Any) -> None:
    token = await _operator_token()
    now = utcnow()
    await principal_for_token(token, now=now)
    await reset_password(username="wang", now=now, password="Other-pass-2")
    assert principal_cache.get(token_digest(token), now=now) is None
    assert await principal_for_token(token, now=now) is not None  # API tokens stay valid


async def test_no_entry_outlives_the_token(db: Any) -> None:
    now = utcnow()
    await create_user(username="li", role="operator", password="Pass-word-1", now=now)
    # Issued just under a day ago with a one-day life: two seconds left.
    token = await issue_token(
        username="li", now=now - timedelta(days=1) + timedelta(seconds=2), ttl_days=1
    )
    assert await principal_for_token(token, now=now) is not None
    assert await principal_for_token(token, now=now + timedelta(seconds=3)) is None


async def test_unknown_tokens_are_not_remembered(db: Any) -> None:
    cache = PrincipalCache()
    for i in range(3):
        assert await principal_for_token(f"hl_nothing{i}", now=utcnow(), cache=cache) is None
    assert cache._entries == {}


async def test_a_burst_with_a_fresh_token_looks_it_up_once(
    db: Any, statements: _Statements
) -> None:
    """Sixteen requests at once with a token this worker has not seen: one look-up (and one
    last-used stamp), all sixteen answered with its user."""
    import asyncio

    token = await _operator_token()
    now = utcnow()
    cache = PrincipalCache()
    before = statements.count
    found = await asyncio.gather(
        *(principal_for_token(token, now=now, cache=cache) for _ in range(16))
    )
    assert [p.username for p in found] == ["wang"] * 16
    assert statements.count - before == 2
