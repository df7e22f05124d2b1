"""Accounts an admin can control: token expiry, last use, disabling users, revoking tokens."""

from __future__ import annotations

from datetime import timedelta

from hotline.domain.auth import new_token, token_digest
from hotline.domain.models import ApiToken, User
from hotline.domain.timefmt import utcnow
from hotline.services.principal_cache import principal_cache
from hotline.services.users import issue_token
from tests.api.conftest import World

UNITS = "/api/v1/units"


async def _status(world: World, headers: dict[str, str]) -> int:
    return (await world.client.get(UNITS, headers=headers)).status_code


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_stops_working_when_it_expires(world: World) -> None:
    old = await issue_token(username="zjj", now=utcnow() - timedelta(days=91))
    fresh = await issue_token(username="zjj", now=utcnow() - timedelta(days=89))
    r = await world.client.get(UNITS, headers=_bearer(old))
    assert r.status_code == 401 and "令牌" in r.json()["error"]["message"]
    assert await _status(world, _bearer(fresh)) == 200
    short = await issue_token(username="zjj", now=utcnow() - timedelta(days=2), ttl_days=1)
    assert await _status(world, _bearer(short)) == 401


async def test_tokens_issued_before_expiry_existed_expire_after_the_ttl(world: World) -> None:
    user = await User.get(username="op")
    tokens = {}
    for age in (10, 100):
        token = new_token()
        await ApiToken.create(
            user=user,
            token_hash=token_digest(token),
            created_at=utcnow() - timedelta(days=age),
            expires_at=None,  # as migration 0005 leaves an existing token
        )
        tokens[age] = token
    assert await _status(world, _bearer(tokens[10])) == 200
    assert await _status(world, _bearer(tokens[100])) == 401


async def test_last_use_is_recorded_at_most_once_a_minute(world: World) -> None:
    headers = world.headers["zjj"]
    token = await ApiToken.get(user__username="zjj")
    assert token.last_used_at is None
    assert await _status(world, headers) == 200
    first = (await ApiToken.get(id=token.id)).last_used_at
    assert first is not None and abs((utcnow() - first).total_seconds()) < 30
    assert await _status(world, headers) == 200
    assert (await ApiToken.get(id=token.id)).last_used_at == first  # no write within the minute
    earlier = utcnow() - timedelta(minutes=2)
    await ApiToken.filter(id=token.id).update(last_used_at=earlier)
    # Written behind the service's back: let this worker read the token afresh, as it does
    # a few seconds later (hotline.services.principal_cache).
    principal_cache.clear()
    assert await _status(world, headers) == 200
    assert (await ApiToken.get(id=token.id)).last_used_at > earlier


async def test_an_admin_disables_a_user_and_their_token_stops_at_once(world: World) -> None:
    adm, zjj = world.headers["adm"], world.headers["zjj"]
    assert await _status(world, zjj) == 200
    r = await world.client.post("/api/v1/admin/users/zjj/disable", headers=adm)
    assert r.status_code == 200 and r.json()["message"] == "已停用账号 zjj"
    assert await _status(world, zjj) == 401
    again = await world.client.post("/api/v1/admin/users/zjj/disable", headers=adm)
    assert again.json()["message"] == "账号 zjj 已是停用状态"
    r = await world.client.post("/api/v1/admin/users/zjj/enable", headers=adm)
    assert r.status_code == 200 and r.json()["active"] is True
    assert await _status(world, zjj) == 200


async def test_an_admin_revokes_every_token_of_a_user(world: World) -> None:
    adm = world.headers["adm"]
    second = _bearer(await issue_token(username="rsj", now=utcnow()))
    r = await world.client.post("/api/v1/admin/users/rsj/revoke-tokens", headers=adm)
    assert r.status_code == 200 and r.json()["revoked"] == 2
    assert r.json()["message"] == "已吊销 rsj 的 2 个 API 令牌"
    assert await _status(world, world.headers["rsj"]) == 401
    assert await _status(world, second) == 401
    assert await _status(world, world.headers["jyj"]) == 200  # others untouched
    assert await _status(world, _bearer(await issue_token(username="rsj", now=utcnow()))) == 200


async def test_only_admins_control_accounts_and_the_last_admin_stays(world: World) -> None:
    for who in ("op", "sup", "zjj"):
        r = await world.client.post("/api/v1/admin/users/rsj/disable", headers=world.headers[who])
        assert r.status_code == 403
    assert await _status(world, world.headers["rsj"]) == 200
    adm = world.headers["adm"]
    missing = await world.client.post("/api/v1/admin/users/nobody/disable", headers=adm)
    assert missing.status_code == 404 and "不存在" in missing.json()["error"]["message"]
    last = await world.client.post("/api/v1/admin/users/adm/disable", headers=adm)
    assert last.status_code == 409 and "最后一个" in last.json()["error"]["message"]
    assert await _status(world, adm) == 200
    bogus = await world.client.post("/api/v1/admin/users/rsj/delete", headers=adm)
    assert bogus.status_code == 404
