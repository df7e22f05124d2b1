"""Who the sign-in and tracking limits hold back right now, and 解除 (clearing one), for admins.

Read from the shared counters (`rate_counter`), so the list is the same on every worker. An
entry is identified by a digest of its scope and subject: the page and the API never carry a
client's full address, only a masked one (`203.0.113.*`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q

from hotline.domain.models import RateCounter
from hotline.services import login_throttle as login
from hotline.services import ratelimit as track
from hotline.services.login_throttle import LoginThrottle
from hotline.services.ratelimit import TrackLimiter

log = logging.getLogger("hotline.throttles")

LABELS = {
    login.SCOPE_PAIR: "登录：账号＋地址",
    login.SCOPE_ADDRESS: "登录：地址",
    login.SCOPE_ACCOUNT: "登录：账号（各地址合计）",
    track.SCOPE_ADDRESS: "进度查询：地址",
    track.SCOPE_PAIR: "进度查询：地址＋工单号",
}
# What each means for the person held back, in the admin's words.
EFFECTS = {
    login.SCOPE_PAIR: "该地址暂停登录该账号",
    login.SCOPE_ADDRESS: "该地址暂停登录未在此登录过的账号",
    login.SCOPE_ACCOUNT: "从未用过的地址登录该账号时每次等待 {delay:g} 秒（不拒绝）",
    track.SCOPE_ADDRESS: "该地址暂停查询所有工单",
    track.SCOPE_PAIR: "该地址暂停查询该工单",
}
UNSHOWN = "（无法显示）"  # a digested key: no account of ours has such a name


@dataclass(frozen=True)
class Throttle:
    """One subject held back: by which limit, how many failures, until when (UTC)."""

    id: str
    scope: str
    label: str
    account: str | None
    address: str | None  # masked
    number: str | None  # ticket number, for the tracking pair
    failures: int
    limit: int
    effect: str  # "refused" or "slowed"
    effect_text: str
    until: datetime
    keys: tuple[str, ...]


def mask_address(address: str) -> str:
    """203.0.113.66 → 203.0.113.*; IPv6 to its /64 network; anything else shortened."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address if len(address) <= 3 else address[:3] + "***"
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".*"
    network = ipaddress.ip_network(f"{ip}/64", strict=False)
    return f"{network.network_address}/64"


def _id(scope: str, ident: str, seconds: int) -> str:
    return hashlib.sha256(f"{scope}|{ident}|{seconds}".encode()).hexdigest()[:16]


def _parse(key: str) -> tuple[str, str, int, int] | None:
    """(scope, ident, seconds, index) of a counter key, None for keys of other kinds."""
    scope, _, rest = key.partition(":")
    parts = rest.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return scope, parts[0], int(parts[1]), int(parts[2])


def _subject(scope: str, ident: str) -> tuple[str | None, str | None, str | None]:
    """(account, masked address, ticket number) named by a key's ident."""
    if ident.startswith("#"):
        return UNSHOWN, (None if scope == login.SCOPE_ACCOUNT else UNSHOWN), None
    if scope == login.SCOPE_PAIR:
        account, _, address = ident.rpartition("|")
        return account, mask_address(address), None
    if scope == login.SCOPE_ACCOUNT:
        return ident, None, None
    if scope == track.SCOPE_PAIR:
        address, _, number = ident.rpartition("|")
        return None, mask_address(address), number
    return None, mask_address(ident), None


def _at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


async def active_throttles(
    *, login_throttle: LoginThrottle, track_limiter: TrackLimiter, now: float
) -> list[Throttle]:
    """Every subject currently refused or slowed, the latest to end first."""
    rows = await RateCounter.filter(
        Q(key__startswith="login-") | Q(key__startswith=track.SCOPE_ADDRESS),
        expires__gt=int(now),
    ).values("key", "hits")
    hits: dict[tuple[str, str, int], dict[int, tuple[int, str]]] = defaultdict(dict)
    for row in rows:
        parsed = _parse(row["key"])
        if parsed and parsed[0] in LABELS:
            scope, ident, seconds, index = parsed
            hits[(scope, ident, seconds)][index] = (int(row["hits"]), row["key"])
    found = [
        t
        for (scope, ident, seconds), windows in hits.items()
        if (
            t := await _throttle(scope, ident, seconds, windows, login_throttle, track_limiter, now)
        )
    ]
    return sorted(found, key=lambda t: (t.until, t.id), reverse=True)


async def _throttle(
    scope: str,
    ident: str,
    seconds: int,
    windows: dict[int, tuple[int, str]],
    login_throttle: LoginThrottle,
    track_limiter: TrackLimiter,
    now: float,
) -> Throttle | None:
    index = int(now // seconds)
    current = windows.get(index, (0, ""))[0]
    keys = tuple(key for i, (_, key) in windows.items() if i in (index, index - 1))
    effect = "refused"
    if scope.startswith("login-"):
        if seconds != login_throttle.window:
            return None
        failures = current + windows.get(index - 1, (0, ""))[0]
        limit = {
            login.SCOPE_PAIR: login_throttle.per_pair,
            login.SCOPE_ADDRESS: login_throttle.per_address,
            login.SCOPE_ACCOUNT: login_throttle.slow_after,
        }[scope]
        # Both windows count: full on its own, the current one keeps counting after it ends.
        ends = (index + 1) * seconds + (seconds if current >= limit else 0)
        if scope == login.SCOPE_ACCOUNT:
            effect = "slowed"
    else:
        failures, ends = current, (index + 1) * seconds
        if scope == track.SCOPE_ADDRESS:
            rule = next((r for r in track_limiter.per_address if r.seconds == seconds), None)
            if rule is None:
                return None
            limit = rule.limit
        else:
            hot = track_limiter.number_hot
            number = ident.rpartition("|")[2]
            number_key = f"{track.SCOPE_NUMBER}:{number}:{hot.seconds}:{int(now // hot.seconds)}"
            row = await RateCounter.get_or_none(key=number_key)
            if seconds != hot.seconds or row is None or row.hits < hot.limit:
                return None  # the number is not under attack: no per-address cap on it
            limit = track_limiter.hot_tries
        keys = tuple(key for i, (_, key) in windows.items() if i == index)
    if failures < limit or not keys:
        return None
    account, address, number = _subject(scope, ident)
    delay = login_throttle.delay_for(failures)
    return Throttle(
        id=_id(scope, ident, seconds),
        scope=scope,
        label=LABELS[scope],
        account=account,
        address=address,
        number=number,
        failures=failures,
        limit=limit,
        effect=effect,
        effect_text=EFFECTS[scope].format(delay=delay),
        until=_at(ends),
        keys=keys,
    )


async def clear_throttle(
    throttle_id: str,
    *,
    login_throttle: LoginThrottle,
    track_limiter: TrackLimiter,
    now: float,
    by: str,
) -> Throttle | None:
    """Forget the failures behind one entry (解除); None when it is no longer listed."""
    for throttle in await active_throttles(
        login_throttle=login_throttle, track_limiter=track_limiter, now=now
    ):
        if throttle.id == throttle_id:
            await RateCounter.filter(key__in=list(throttle.keys)).delete()
            log.info(
                "throttle cleared by %s: %s account=%s address=%s number=%s failures=%d",
                by,
                throttle.scope,
                throttle.account,
                throttle.address,
                throttle.number,
                throttle.failures,
            )
            return throttle
    return None


def described(throttle: Throttle) -> str:
    """一句话: 登录：账号＋地址 op @ 203.0.113.*."""
    who = " @ ".join(x for x in (throttle.account, throttle.address, throttle.number) if x)
    return f"{throttle.label} {who}"
