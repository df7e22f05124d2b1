"""No 5xx from any input: over-long, malformed, NUL-bearing and out-of-range values are 4xx."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import World

# Any input on either database: no answer may be a 5xx.
pytestmark = pytest.mark.backends

CJK = re.compile(r"[\u4e00-\u9fff]")
# Sentences pydantic, json and Python put in their errors: none may reach a client.
ENGLISH = re.compile(
    r"Input should|Field required|Expecting|codec can't|Value error|Extra inputs|"
    r"Exceeds the limit|Invalid JSON|valid integer|String should|maximum recursion"
)
LONG = "1" * 21


def _assert_refused(r, *statuses: int) -> dict:
    assert r.status_code in statuses, f"{r.request.url}: {r.status_code} {r.text[:300]}"
    body = r.json()["error"]
    assert CJK.search(body["message"]), body
    assert not ENGLISH.search(r.text), r.text[:500]
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/123456789012345678901",
        "/api/v1/tickets/2026%00",
        "/api/v1/tickets/20261122-0000１",  # full-width digit
        "/api/v1/tickets?q=" + "x" * 300,
        "/api/v1/tickets?q=a%00b",
        "/api/v1/tickets?kind=" + "咨询" * 20,
        "/api/v1/tickets?status=" + "x" * 40,
        "/api/v1/tickets?unit=" + "X" * 40,
        "/api/v1/tickets?category=" + "分" * 40,
        "/api/v1/tickets?phone=" + "1" * 40,
        "/api/v1/tickets?phone=138%00",
        "/api/v1/tickets?page=²",
        "/api/v1/tickets?page=" + "9" * 5000,
        "/api/v1/tickets?per_page=0",
        "/api/v1/tickets?created_to=9999-12-31",
        "/api/v1/tickets?created_from=0001-01-01",
        "/api/v1/tickets?overdue=maybe",
        "/api/v1/stats/routing?to=9999-12-31",
        "/api/v1/stats/rates?to=9999-12-31&unit=" + "X" * 40,
        "/api/v1/stats/volumes?to=9999-12-31",
        "/api/v1/stats/overdue?unit=" + "X" * 40 + "&parent=a%00",
        "/api/v1/admin/outbox?status=" + "x" * 40,
    ],
)
async def test_bad_path_or_query_is_4xx_in_chinese(world: World, path: str) -> None:
    r = await world.client.get(path, headers=world.headers["adm" if "admin" in path else "sup"])
    _assert_refused(r, 404, 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/track/123456789012345678901?code=ABCDEF",
        "/api/v1/track/2026%00?code=ABCDEF",
        "/api/v1/track/20261122-00001?code=AB%00CD",
        "/api/v1/track/20261122-00001?code=" + "A" * 100,
    ],
)
async def test_track_refuses_bad_values_without_login(world: World, path: str) -> None:
    _assert_refused(await world.client.get(path), 404, 422)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("adm", "/api/v1/admin/outbox/²/requeue"),
        ("adm", "/api/v1/admin/outbox/99999999999999999999999/requeue"),
        ("adm", "/api/v1/admin/users/" + "u" * 100 + "/disable"),
        ("adm", "/api/v1/admin/users/a%00b/disable"),
        ("op", "/api/v1/tickets/" + LONG + "/close"),
    ],
)
async def test_bad_path_values_on_actions_are_404(world: World, who: str, path: str) -> None:
    _assert_refused(await world.client.post(path, headers=world.headers[who]), 404)


async def test_nul_in_any_text_is_422_naming_the_field(world: World) -> None:
    body = {
        "kind": "投诉",
        "title": "小区\u0000物业",
        "content": "小区物业公司收费后不履行职责。",
        "complainant": {"name": "张\u0000"},
    }
    r = await world.client.post("/api/v1/tickets", json=body, headers=world.headers["op"])
    error = _assert_refused(r, 422)
    assert {f["field"] for f in error["fields"]} == {"title", "complainant.name"}
    ticket = await world.create()
    r = await world.client.post(
        f"/api/v1/tickets/{ticket['number']}/urge",
        json={"reason": "请尽快\u0000处理", "note": "a\u0000"},
        headers=world.headers["op"],
    )
    error = _assert_refused(r, 422)
    assert {f["field"] for f in error["fields"]} == {"reason", "note"}


@pytest.mark.parametrize(
    "body",
    [
        {"into": LONG * 3},
        {"into": "20261122-" + "1" * 40},
        {"into": "20261122-00001", "expected_version": 2**70},
        {"into": "20261122-00001", "expected_version": 2**40},
    ],
)
async def test_merge_into_out_of_range_is_4xx(world: World, body: dict) -> None:
    ticket = await world.create()
    r = await world.client.post(
        f"/api/v1/tickets/{ticket['number']}/merge", json=body, headers=world.headers["op"]
    )
    _assert_refused(r, 404, 409, 422)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"kind": ' + b"9" * 5000 + b"}",
        b'{"kind": NaN}',
        b"{'kind': 1}",
        b'{"kind": "\xff\xfe"}',
        b'{"title": "\\ud800"}',
    ],
)
async def test_malformed_json_is_400_in_chinese(world: World, raw: bytes) -> None:
    r = await world.client.post(
        "/api/v1/tickets",
        content=raw,
        headers={**world.headers["op"], "Content-Type": "application/json"},
    )
    _assert_refused(r, 400, 422)


async def test_lone_surrogate_is_422(world: World) -> None:
    raw = '{"kind": "投诉", "title": "小区\\ud800", "content": "小区物业公司收费后不履行职责。"}'
    r = await world.client.post(
        "/api/v1/tickets",
        content=raw.encode(),
        headers={**world.headers["op"], "Content-Type": "application/json"},
    )
    error = _assert_refused(r, 422)
    assert [f["field"] for f in error["fields"]] == ["title"]


async def test_wrong_method_is_405_with_allow(world: World) -> None:
    r = await world.client.delete("/api/v1/tickets", headers=world.headers["op"])
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert CJK.search(r.json()["error"]["message"])


async def test_openapi_documents_503_and_required_action_bodies(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path != "/openapi.json":
                assert "503" in op["responses"], (path, method)
            if path.startswith("/api/v1/tickets"):
                assert "Retry-After" in op["responses"]["503"]["headers"], (path, method)
    actions = doc["paths"]
    assert actions["/api/v1/tickets/{number}/reject"]["post"]["requestBody"]["required"] is True
    assert actions["/api/v1/tickets/{number}/sign"]["post"]["requestBody"]["required"] is False
