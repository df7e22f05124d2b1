"""Open311 and /wechat in /openapi.json, and Open311's field sizes: a 400/404 in the spec's
format for a value no request can have, never a 500 with a traceback."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import World

LONG_ID = "1" * 21


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (f"/open311/v2/requests.json?service_request_id={LONG_ID}", 400, "服务请求编号"),
        (f"/open311/v2/requests/{LONG_ID}.json", 404, "未找到该服务请求"),
        (f"/open311/v2/requests/{LONG_ID}.xml", 404, "未找到该服务请求"),
        ("/open311/v2/requests.json?service_code=" + "x" * 33, 400, "最多 32 个字符"),
        ("/open311/v2/requests.json?service_code=" + "x" * 4000, 400, "service_code"),
        ("/open311/v2/requests.json?start_date=" + "2" * 100, 400, "start_date"),
        ("/open311/v2/services/" + "城" * 40 + ".json", 404, "未知的服务"),
        ("/open311/v2/tokens/" + "t" * 65 + ".json", 404, "未知的 token"),
    ],
)
async def test_values_beyond_open311_field_sizes_are_refused_in_the_spec_format(
    world: World, caplog: pytest.LogCaptureFixture, path: str, status: int, says: str
) -> None:
    with caplog.at_level(logging.INFO):
        r = await world.client.get(path)
    assert r.status_code == status, r.text
    if path.endswith(".xml"):
        assert r.headers["content-type"].startswith("text/xml") and says in r.text
    else:
        [error] = r.json()
        assert error["code"] == status and says in error["description"], error
    assert not [rec for rec in caplog.records if rec.exc_info]


async def test_open311_gets_and_the_wechat_check_are_documented(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    paths = doc["paths"]
    for path in (
        "/open311/discovery.{format}",
        "/open311/v2/services.{format}",
        "/open311/v2/services/{code}.{format}",
        "/open311/v2/requests.{format}",
        "/open311/v2/requests/{id}.{format}",
        "/open311/v2/tokens/{token}.{format}",
        "/wechat",
    ):
        assert set(paths[path]) == {"get"}, path
        op = paths[path]["get"]
        assert op["security"] == [] and "Retry-After" in op["responses"]["503"]["headers"]
    params = {
        p["name"]: p for p in paths["/open311/v2/requests/{id}.{format}"]["get"]["parameters"]
    }
    assert params["id"]["schema"]["maxLength"] == 20
    assert params["format"]["schema"]["enum"] == ["json", "xml"]
    query = {p["name"] for p in paths["/open311/v2/requests.{format}"]["get"]["parameters"]}
    assert {"service_request_id", "service_code", "start_date", "end_date", "status"} <= query
    wechat = {p["name"]: p["required"] for p in paths["/wechat"]["get"]["parameters"]}
    assert wechat == {"signature": True, "timestamp": True, "nonce": True, "echostr": True}


@pytest.mark.parametrize("path", ["/api/v1/stats/rates", "/api/v1/stats/volumes"])
async def test_figures_document_from_and_to_as_required(world: World, path: str) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    params = {p["name"]: p["required"] for p in doc["paths"][path]["get"]["parameters"]}
    assert params["from"] is True and params["to"] is True
    r = await world.client.get(path, params={"to": "2026-11-30"}, headers=world.headers["sup"])
    assert r.status_code == 422
    assert "参数 from 必填" in r.json()["error"]["message"]
