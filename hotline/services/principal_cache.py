"""Who a bearer token belongs to, remembered for a few seconds in each worker process.

Resolving a token is a joined SELECT on every API request, and on the intake path it cost
about as much as the rest of the request's reads. Each worker process keeps what it resolved,
keyed by the token's digest (never the token itself), for `TOKEN_CACHE_SECONDS`, and never
past the token's own expiry. A revoke, a disable or a password reset made in this process
forgets the user's entries at once; another worker process only notices when its entry
expires, so a revoked token may still be accepted there for at most that many seconds.

No I/O here: the caller passes `now` and does the database work (hotline.services.users);
`pending` only holds its look-ups under way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.auth import Principal

# How stale another worker may be after a revoke or disable (this worker is never stale).
TOKEN_CACHE_SECONDS = 5
# Bounds memory: only valid tokens are remembered, and a full cache sheds expired entries.
MAX_ENTRIES = 10_000


@dataclass
class CachedToken:
    """A resolved token: its principal, its row and when this entry stops being trusted."""

    principal: Principal
    token_id: int
    last_used_at: datetime | None
    until: datetime


class PrincipalCache:
    """Token digest → principal for a few seconds; forgets a user's entries on demand."""

    def __init__(
        self,
        ttl: timedelta = timedelta(seconds=TOKEN_CACHE_SECONDS),
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, CachedToken] = {}
        # Look-ups under way, by digest: a burst of requests with one token not yet
        # remembered waits for the first one's look-up instead of each making its own.
        self.pending: dict[str, asyncio.Future[object]] = {}

    def get(self, digest: str, *, now: datetime) -> CachedToken | None:
        """The entry for a token digest, unless it has expired."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if now >= entry.until:
            self._entries.pop(digest, None)
            return None
        return entry

    def put(
        self,
        digest: str,
        *,
        principal: Principal,
        token_id: int,
        last_used_at: datetime | None,
        token_expires: datetime,
        now: datetime,
    ) -> None:
        """Remember a token that was just found valid (until `now + ttl` or its expiry)."""
        if self.ttl <= timedelta(0):
            return
        if len(self._entries) >= self.max_entries:
            self._entries = {d: e for d, e in self._entries.items() if now < e.until}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[digest] = CachedToken(
            principal=principal,
            token_id=token_id,
            last_used_at=last_used_at,
            until=min(now + self.ttl, token_expires),
        )

    def forget_user(self, user_id: int) -> None:
        """Drop every entry of one user (their tokens were revoked, or they were disabled)."""
        self._entries = {d: e for d, e in self._entries.items() if e.principal.user_id != user_id}

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()


# This worker process's cache; tests make their own to play another worker.
principal_cache = PrincipalCache()
