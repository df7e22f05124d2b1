"""/open311/v2 over ASGI: the spec's shapes in JSON and XML, its errors, and what GET hides."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml.ElementTree import fromstring
from tortoise.context import TortoiseContext

from hotline.domain.models import IdempotencyKey, Open311Token, Ticket, TicketClock
from hotline.runtime.config import load_settings
from hotline.runtime.db import tortoise_config
from hotline.runtime.deployment import Deployment
from hotline.web.app import create_app
from tests.api.conftest import World

KEY = "k3y-for-the-city-app-0123456789"
BASE = "/open311/v2"
LAMP = "幸福小区3栋门口的路灯坏了一个多月，晚上很黑，老人出门不安全，请尽快维修。"
WAGES = "本人在一家装修公司做水电工，公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。"
PERSON = {
    "first_name": "小明",
    "last_name": "王",
    "phone": "13907311846",
    "email": "wxm@example.com",
}


@pytest.fixture
async def city(world: World, deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    """An app with one Open311 client key, on the world's database (units, accounts)."""
    settings = dataclasses.replace(load_settings(), open311_api_keys=(("cityapp", KEY),))
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def manual_city(world: World, deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    """As `city`, with auto-dispatch off: requests wait for an operator (who may answer them)."""
    settings = dataclasses.replace(
        load_settings(), open311_api_keys=(("cityapp", KEY),), auto_dispatch=False
    )
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _form(**overrides: str) -> dict[str, str]:
    return {
        "api_key": KEY,
        "service_code": "城乡建设",
        "lat": "28.2282",
        "long": "112.9388",
        "address_string": "长沙市岳麓区幸福小区3栋",
        "description": LAMP,
        "attribute[kind]": "help",
        "media_url": "https://img.example.com/lamp.jpg",
        **PERSON,
        **overrides,
    }


async def _post(client: httpx.AsyncClient, fmt: str = "json", **fields: str) -> httpx.Response:
    return await client.post(f"{BASE}/requests.{fmt}", data=_form(**fields))


def _xml(response: httpx.Response) -> Any:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return fromstring(response.content)


async def test_services_list_every_category_with_the_specs_keys(
    city: httpx.AsyncClient, deployment: Deployment
) -> None:
    r = await city.get(f"{BASE}/services.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert "set-cookie" not in r.headers
    services = r.json()
    assert deployment.vocabulary is not None
    assert [s["service_code"] for s in services] == list(deployment.vocabulary.categories)
    keys = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert all(list(s) == keys and s["metadata"] is True for s in services)
    root = _xml(await city.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert first is not None and [c.tag for c in first] == keys
    assert first.findtext("service_code") == services[0]["service_code"]
    assert first.findtext("metadata") == "true"


async def test_service_definition_offers_the_kind_attribute(city: httpx.AsyncClient) -> None:
    r = await city.get(f"{BASE}/services/城乡建设.json")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["service_code"] == "城乡建设"
    (attribute,) = body["attributes"]
    assert attribute["code"] == "kind" and attribute["datatype"] == "singlevaluelist"
    assert {"key": "help", "name": "求助"} in attribute["values"]
    root = _xml(await city.get(f"{BASE}/services/城乡建设.xml"))
    assert root.tag == "service_definition"
    values = root.findall("attributes/attribute/values/value")
    assert [v.findtext("key") for v in values] == [v["key"] for v in attribute["values"]]


async def test_post_makes_a_routed_ticket_with_clocks_and_a_token(
    city: httpx.AsyncClient, world: World
) -> None:
    r = await _post(city)
    assert r.status_code == 201, r.text
    (created,) = r.json()
    assert list(created) == ["service_request_id", "token", "service_notice", "account_id"]
    number, token = created["service_request_id"], created["token"]
    assert created["account_id"] is None and number in created["service_notice"]
    ticket = await Ticket.get(number=number)
    assert (ticket.channel, ticket.kind, ticket.category) == ("open311", "求助", "城乡建设")
    assert ticket.complainant_name == "王小明" and ticket.complainant_phone == "13907311846"
    assert ticket.complainant_email == "wxm@example.com"
    assert (ticket.latitude, ticket.longitude) == (28.2282, 112.9388)
    assert ticket.attachments[0]["url"] == "https://img.example.com/lamp.jpg"
    assert ticket.routing.get("lead_unit"), ticket.routing
    assert await Open311Token.filter(token=token, ticket_id=ticket.id, client="cityapp").exists()
    # The operators see it like any other ticket; dispatched ones run their clocks.
    seen = await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers["op"])
    assert seen.status_code == 200 and seen.json()["channel"] == "open311"
    if ticket.status == "dispatched":
        assert await TicketClock.filter(ticket_id=ticket.id, kind="feedback").exists()
    r = await city.get(f"{BASE}/tokens/{token}.json")
    assert r.json() == [{"service_request_id": number, "token": token}]
    root = _xml(await city.get(f"{BASE}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == number


async def test_auto_dispatched_request_shows_unit_and_due_time(
    city: httpx.AsyncClient, world: World
) -> None:
    (created,) = (await _post(city)).json()
    number = created["service_request_id"]
    ticket = await Ticket.get(number=number).prefetch_related("lead_unit")
    if ticket.status != "dispatched":
        # Manual dispatch when the router is not confident: the operator's usual step.
        await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
        ticket = await Ticket.get(number=number).prefetch_related("lead_unit")
    (record,) = (await city.get(f"{BASE}/requests/{number}.json")).json()
    assert record["status"] == "open"
    assert record["agency_responsible"] == ticket.lead_unit.name
    assert record["expected_datetime"].endswith("+08:00")
    assert record["requested_datetime"].endswith("+08:00")
    assert record["status_notes"].startswith("已派单待签收")


async def test_get_shows_no_personal_data(city: httpx.AsyncClient, world: World) -> None:
    text = f"{LAMP}我是王小明，电话13907311846，邮箱wxm@example.com。"
    (created,) = (await _post(city, description=text)).json()
    # A phone ticket is not published at all: the caller never chose to make it public.
    phoned = await world.create(
        content="张先生家楼上漏水，电话13812345678，住幸福小区3栋502室，请物业处理。",
        location={"address": "幸福小区3栋502室", "district": "岳麓区"},
    )
    for fmt in ("json", "xml"):
        r = await city.get(f"{BASE}/requests.{fmt}")
        assert r.status_code == 200
        for secret in ("13907311846", "王小明", "wxm@example.com", "13812345678", "张先生", "502"):
            assert secret not in r.text, (fmt, secret)
    records = {x["service_request_id"]: x for x in (await city.get(f"{BASE}/requests.json")).json()}
    mine = records[created["service_request_id"]]
    assert "【手机号】" in mine["description"] and mine["lat"] == 28.2282
    assert mine["media_url"] == "https://img.example.com/lamp.jpg"
    assert phoned["number"] not in records
    r = await city.get(f"{BASE}/requests/{phoned['number']}.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


async def test_confidential_reports_are_not_public(city: httpx.AsyncClient) -> None:
    (created,) = (await _post(city, **{"attribute[kind]": "report"})).json()
    number = created["service_request_id"]
    ticket = await Ticket.get(number=number)
    assert ticket.kind == "举报" and ticket.confidential
    r = await city.get(f"{BASE}/requests/{number}.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    listed = (await city.get(f"{BASE}/requests.json")).json()
    assert number not in {x["service_request_id"] for x in listed}
    # The client that filed it still learns its id from the token.
    r = await city.get(f"{BASE}/tokens/{created['token']}.json")
    assert r.json()[0]["service_request_id"] == number


async def test_request_list_filters(manual_city: httpx.AsyncClient, world: World) -> None:
    city = manual_city
    (a,) = (await _post(city)).json()
    (b,) = (await _post(city, service_code="交通运输", description="公交站台顶棚破损漏雨。")).json()
    (c,) = (await _post(city, description="请问小区路灯坏了应该找哪个部门报修？")).json()
    answered = c["service_request_id"]
    await world.act(answered, "answer", "op", {"text": "已当场答复市民的问题。"})

    async def ids(**params: str) -> set[str]:
        r = await city.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return {x["service_request_id"] for x in r.json()}

    na, nb, nc = a["service_request_id"], b["service_request_id"], answered
    assert {na, nb, nc} <= await ids()
    assert await ids(service_request_id=f"{na},{nb}") == {na, nb}
    assert nb in await ids(service_code="交通运输") and na not in await ids(service_code="交通运输")
    assert nc in await ids(status="closed") and na not in await ids(status="closed")
    assert nc not in await ids(status="open")
    assert await ids(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z") == set()
    closed = (await city.get(f"{BASE}/requests/{nc}.json")).json()[0]
    assert closed["status"] == "closed" and "已当场答复" in closed["status_notes"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "not-the-key-at-all-000000"}, 403, "api_key"),
        ({"description": ""}, 400, "description"),
        ({"description": "路" * 4001}, 400, "description 太长"),
        ({"service_code": "火星事务"}, 400, "未知的 service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"lat": "north"}, 400, "lat 必须是数字"),
        ({"lat": "91"}, 400, "lat 必须在"),
        ({"long": ""}, 400, "lat 和 long"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "需要位置"),
        ({"attribute[kind]": "moan"}, 400, "attribute[kind]"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"email": "not-an-email"}, 400, "电子邮箱"),
        ({"phone": "call me"}, 400, "phone"),
        ({"address_string": "路" * 301}, 400, "address_string 太长"),
    ],
)
async def test_bad_posts_are_refused_in_the_specs_format_and_store_nothing(
    city: httpx.AsyncClient, fmt: str, fields: dict[str, str], status: int, reason: str
) -> None:
    r = await _post(city, fmt, **fields)
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        (error,) = r.json()
        assert error["code"] == status and reason in error["description"]
    else:
        root = _xml(r)
        assert root.tag == "errors"
        assert root.findtext("error/code") == str(status)
        assert reason in (root.findtext("error/description") or "")
    assert await Ticket.all().count() == 0 and await Open311Token.all().count() == 0


async def test_without_configured_keys_post_is_403_and_get_works(
    world: World, deployment: Deployment
) -> None:
    settings = dataclasses.replace(load_settings(), open311_api_keys=())
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await _post(client)
        assert r.status_code == 403 and "OPEN311_API_KEYS" in r.json()[0]["description"]
        assert (await client.get(f"{BASE}/services.json")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/requests/20990101-00001.json", 404),
        ("GET", "/requests/nonsense.xml", 404),
        ("GET", "/services/火星事务.json", 404),
        ("GET", "/tokens/unknown-token.json", 404),
        ("GET", "/tokens/" + "x" * 300 + ".json", 404),
        ("GET", "/services.html", 404),
        ("GET", "/nothing-here.xml", 404),
        ("DELETE", "/requests.json", 405),
        ("POST", "/services.xml", 405),
        ("GET", "/requests.json?status=pending", 400),
        ("GET", "/requests.json?start_date=yesterday", 400),
        ("GET", "/requests.json?start_date=2026-01-01&end_date=2026-06-01", 400),
        ("GET", "/requests.json?start_date=2026-06-01&end_date=2026-01-01", 400),
    ],
)
async def test_errors_are_in_the_specs_format(
    city: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    r = await city.request(method, BASE + path)
    assert r.status_code == status, r.text
    if ".xml" in path:
        root = _xml(r)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)
        assert root.findtext("error/description")
    else:
        (error,) = r.json()
        assert error["code"] == status and error["description"]
    if status == 405:
        assert "GET" in r.headers["allow"]


async def test_xml_escapes_what_clients_send(city: httpx.AsyncClient) -> None:
    text = "路灯坏了 <b>&amp;</b> ]]> 请修\x01理。"
    (created,) = (await _post(city, description=text)).json()
    r = await city.get(f"{BASE}/requests/{created['service_request_id']}.xml")
    root = _xml(r)
    assert "<b>&amp;</b> ]]>" in (root.findtext("request/description") or "")


async def test_idempotency_key_returns_the_first_ticket_and_token(
    city: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "3f1c0e9a-retry-1"}
    first = await city.post(f"{BASE}/requests.json", data=_form(), headers=headers)
    again = await city.post(f"{BASE}/requests.json", data=_form(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["token"] == again.json()[0]["token"]
    assert await Ticket.all().count() == 1 and await IdempotencyKey.all().count() == 1
    other = await city.post(
        f"{BASE}/requests.json", data=_form(description="另一件事：井盖丢失了。"), headers=headers
    )
    assert other.status_code == 422 and other.json()[0]["code"] == 422


async def test_oversized_and_non_form_bodies_are_refused(city: httpx.AsyncClient) -> None:
    big = b"description=" + b"x" * 2_000_000
    r = await city.post(
        f"{BASE}/requests.json",
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and r.json()[0]["code"] == 413
    r = await city.post(
        f"{BASE}/requests.xml", content=b"<a/>", headers={"Content-Type": "text/xml"}
    )
    assert r.status_code == 400 and _xml(r).tag == "errors"
    assert await Ticket.all().count() == 0


async def test_a_post_stays_within_the_create_budget_plus_its_own_rows(
    city: httpx.AsyncClient,
) -> None:
    from tests.api.test_statement_count import counting_trips, create_trips

    with counting_trips() as count:
        r = await _post(city, service_code="劳动和社会保障", description=WAGES)
    assert r.status_code == 201, r.text
    ticket = await Ticket.get(number=r.json()[0]["service_request_id"])
    assert ticket.status == "dispatched"
    print(f"open311 POST: {count.trips} trips")
    # The rate counter's upsert and the token's INSERT (the savepoint is no statement row);
    # a client key instead of a user's token: no last-used stamp.
    assert count.trips <= create_trips() + 2, "\n".join(count.statements)


async def test_get_requests_reads_three_statements_for_any_number(
    city: httpx.AsyncClient,
) -> None:
    from tests.api.test_statement_count import counting

    for _ in range(3):
        await _post(city, service_code="劳动和社会保障", description=WAGES)
    with counting() as statements:
        r = await city.get(f"{BASE}/requests.json")
    assert r.status_code == 200 and len(r.json()) == 3
    assert len(statements) <= 3, "\n".join(statements)


async def test_discovery_names_the_endpoint_and_its_formats(city: httpx.AsyncClient) -> None:
    body = (await city.get("/open311/discovery.json")).json()
    (endpoint,) = body["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    root = _xml(await city.get("/open311/discovery.xml"))
    formats = root.findall("endpoints/endpoint/formats/format")
    assert [f.text for f in formats] == ["application/json", "text/xml"]


async def test_a_database_that_does_not_answer_is_the_specs_503(
    tmp_path: Path, deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{folder / 'hotline.sqlite3'}"))
        shutil.rmtree(folder)
        app = create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with caplog.at_level(logging.INFO):
                r = await client.get(f"{BASE}/requests.xml")
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    assert _xml(r).findtext("error/code") == "503"
    # One line for the outage (hotline.web.failsafe.OutageLog), no traceback.
    assert [rec.getMessage()[:36] for rec in caplog.records if rec.levelno >= logging.ERROR] == [
        "database unavailable (outage starts)"
    ]
    assert not [rec for rec in caplog.records if rec.exc_info]
