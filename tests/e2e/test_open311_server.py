"""A real uvicorn serving /open311/v2, driven by the PyPI client `georeport` and by httpx.

georeport (synchronous, requests + xmltodict) reads services, a service definition, request
lists and single requests, in JSON and in XML; it does not post, so POST and tokens go
through httpx. Our answers are compared with the example payloads of the spec page
(https://wiki.open311.org/GeoReport_v2): the same element names in the same nesting.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from defusedxml.ElementTree import fromstring
from georeport import GeoReport

from hotline.runtime.config import load_settings
from hotline.web.app import create_app

KEY = "e2e-open311-key-0123456789abcdef"
LAMP = "幸福小区3栋门口的路灯坏了一个多月，晚上很黑，老人出门不安全，请尽快维修。"

# The spec page's examples, trimmed to one item each (values are the spec's own).
SPEC_SERVICES_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out for more than 24 hours after
collection. Violators will be cited.</description><metadata>true</metadata><type>realtime</type>
<keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>"""
SPEC_DEFINITION_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute>
<variable>true</variable><code>WHISHETN</code><datatype>singlevaluelist</datatype>
<required>true</required><datatype_description></datatype_description><order>1</order>
<description>What is the ticket/tag/DL number?</description><values><value><key>123</key>
<name>Ford</name></value></values></attribute></attributes></service_definition>"""
SPEC_REQUESTS_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id>
<status>closed</status><status_notes>Duplicate request.</status_notes>
<service_name>Sidewalk and Curb Issues</service_name><service_code>006</service_code>
<description></description><agency_responsible></agency_responsible>
<service_notice></service_notice><requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
<expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
<address>8TH AVE and JUDAH ST</address><address_id>545483</address_id><zipcode>94122</zipcode>
<lat>37.762221815</lat><long>-122.4651145</long>
<media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
</request></service_requests>"""
SPEC_CREATED_JSON = [
    {
        "service_request_id": 293944,
        "service_notice": "The City will inspect and require the responsible party to correct "
        "within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public "
        "Works Code",
        "account_id": None,
    }
]
SPEC_TOKEN_JSON = [{"service_request_id": 638344, "token": "12345"}]
SPEC_ERRORS_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received -- can't proceed with
create_request.</description></error></errors>"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """The /open311/v2 address of a real uvicorn in a thread, on a copy of the migrated
    SQLite file (migrating a new one took most of the start-up under load)."""
    database = tmp_path_factory.mktemp("open311") / "hotline.runtime.db"
    shutil.copyfile(sqlite_template, database)
    settings = load_settings(
        environ={
            "DATABASE_URL": f"sqlite://{database}",
            "RUN_SWEEPER": "false",
            "OPEN311_API_KEYS": f"cityapp:{KEY}",
        }
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120  # the lifespan migrates and loads the classifier
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/open311/v2"
    finally:
        # Stopped even when it did not start in time: a server left starting in this thread
        # would hold tortoise's global context, and every later in-process CLI test of this
        # worker would fail with "Global context fallback is already enabled". Asked to exit
        # before its start-up ends, uvicorn skips the lifespan shutdown that closes the
        # database, so it is let finish starting first.
        late = time.monotonic() + 300
        while thread.is_alive() and not server.started and time.monotonic() < late:
            time.sleep(0.1)
        server.should_exit = True
        thread.join(timeout=120)


@pytest.fixture(scope="module")
def filed(root: str) -> list[dict[str, Any]]:
    """Two requests POSTed like a city app would: one on a map, one by address."""
    answers = []
    for fields in (
        {"lat": "28.2282", "long": "112.9388", "description": LAMP},
        {"address_string": "五一大道88号公交站", "description": "公交站台顶棚破损，下雨天漏水。"},
    ):
        form = {"api_key": KEY, "service_code": "城乡建设", "first_name": "小明", **fields}
        r = httpx.post(f"{root}/requests.json", data=form, timeout=30)
        assert r.status_code == 201, r.text
        answers.append(r.json()[0])
    return answers


def _tags(element: Any) -> list[str]:
    return [child.tag for child in element]


def test_georeport_reads_services_and_definitions(root: str) -> None:
    for output in ("json", "xml"):
        client = GeoReport(root, output_format=output)
        services = client.get_service_list()
        codes = [s["service_code"] for s in services]
        assert "城乡建设" in codes and len(codes) == len(set(codes))
        # The Chinese code travels percent-encoded in the path and comes back as it was.
        definition = client.get_service_definition("城乡建设")
        assert definition["service_code"] == "城乡建设"
    spec = fromstring(SPEC_SERVICES_XML)
    ours = fromstring(httpx.get(f"{root}/services.xml").content)
    assert _tags(ours[0]) == _tags(spec[0])
    spec = fromstring(SPEC_DEFINITION_XML)
    ours = fromstring(httpx.get(f"{root}/services/城乡建设.xml").content)
    assert _tags(ours) == _tags(spec)
    assert _tags(ours.find("attributes/attribute")) == _tags(spec.find("attributes/attribute"))
    assert _tags(ours.find("attributes/attribute/values/value")) == ["key", "name"]


def test_georeport_reads_the_requests_it_filed(root: str, filed: list[dict[str, Any]]) -> None:
    numbers = [f["service_request_id"] for f in filed]
    for output in ("json", "xml"):
        client = GeoReport(root, output_format=output)
        listed = client.get_service_requests(service_request_id=",".join(numbers))
        assert sorted(r["service_request_id"] for r in listed) == sorted(numbers)
        listed = client.get_service_requests(service_code="城乡建设", status="open")
        assert set(numbers) <= {r["service_request_id"] for r in listed}
        one = client.get_service_request(numbers[0])
        assert one["service_request_id"] == numbers[0] and one["status"] == "open"
        assert one["requested_datetime"].endswith("+08:00")
    spec = fromstring(SPEC_REQUESTS_XML)
    ours = fromstring(httpx.get(f"{root}/requests/{numbers[0]}.xml").content)
    assert ours.tag == spec.tag and _tags(ours[0]) == _tags(spec[0])
    (record,) = httpx.get(f"{root}/requests/{numbers[0]}.json").json()
    assert list(record) == _tags(spec[0])
    assert (record["lat"], record["long"]) == (28.2282, 112.9388)
    assert "小明" not in httpx.get(f"{root}/requests.json").text


def test_post_and_token_answers_match_the_spec(root: str, filed: list[dict[str, Any]]) -> None:
    created = filed[0]
    assert set(SPEC_CREATED_JSON[0]) <= set(created) and "token" in created
    assert (
        created["account_id"] is None and created["service_request_id"] in created["service_notice"]
    )
    r = httpx.get(f"{root}/tokens/{created['token']}.json")
    assert r.status_code == 200
    assert [set(x) for x in r.json()] == [set(x) for x in SPEC_TOKEN_JSON]
    assert r.json()[0]["service_request_id"] == created["service_request_id"]
    ours = fromstring(httpx.get(f"{root}/tokens/{created['token']}.xml").content)
    assert ours.tag == "service_requests" and _tags(ours[0]) == ["service_request_id", "token"]


def test_a_bad_key_is_the_specs_403(root: str) -> None:
    r = httpx.post(
        f"{root}/requests.xml",
        data={
            "api_key": "wrong-wrong-wrong-wrong",
            "service_code": "城乡建设",
            "description": LAMP,
        },
    )
    assert r.status_code == 403 and r.headers["content-type"] == "text/xml; charset=utf-8"
    spec, ours = fromstring(SPEC_ERRORS_XML), fromstring(r.content)
    assert ours.tag == spec.tag and _tags(ours[0]) == _tags(spec[0])
    assert ours.findtext("error/code") == "403"
    r = httpx.get(f"{root}/requests/20990101-00001.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_concurrent_posts_each_get_their_own_ticket_and_token(root: str) -> None:
    async def burst() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def post(n: int) -> dict[str, Any]:
                form = {
                    "api_key": KEY,
                    "service_code": "交通运输",
                    "address_string": f"五一大道{n}号公交站",
                    "description": f"第{n}个公交站台顶棚破损，下雨天漏水。",
                }
                r = await client.post(f"{root}/requests.json", data=form)
                assert r.status_code == 201, r.text
                return dict(r.json()[0])

            return await asyncio.gather(*(post(n) for n in range(20)))

    created = asyncio.run(burst())
    assert len({c["service_request_id"] for c in created}) == 20
    assert len({c["token"] for c in created}) == 20
    for c in created[:5]:
        r = httpx.get(f"{root}/tokens/{c['token']}.json")
        assert r.json()[0]["service_request_id"] == c["service_request_id"]
