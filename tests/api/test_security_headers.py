"""Every answer carries the security headers; answers with personal data are never cached."""

from __future__ import annotations

from tests.api.conftest import World


async def test_ticket_answers_are_not_cached_and_carry_the_security_headers(world: World) -> None:
    ticket = await world.create()
    for path in (f"/api/v1/tickets/{ticket['number']}", "/api/v1/tickets", "/api/v1/nowhere"):
        r = await world.client.get(path, headers=world.headers["op"])
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    track = await world.client.get(
        f"/api/v1/track/{ticket['number']}", params={"code": ticket["query_code"]}
    )
    assert track.status_code == 200 and track.headers["cache-control"] == "no-store"


async def test_the_api_description_may_be_cached(world: World) -> None:
    r = await world.client.get("/openapi.json")
    assert "no-store" not in r.headers.get("cache-control", "")
    assert r.headers["x-content-type-options"] == "nosniff"
