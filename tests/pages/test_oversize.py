"""Every page route, with oversize values in every parameter it reads: no 5xx, no raw JSON.

An operator pasting two numbers, a bookmark with page=9223372036854775807, a 300-digit ticket
number: each is a Chinese page (or fragment) saying what to fix, 4xx, and the full phone
number is not in the log. The exact cases of the report come first, then a sweep over the
route table, so a page added later is swept too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from hotline.web.openapi import walk
from hotline.web.pages.common import is_page
from tests.pages.conftest import Site, csrf_of

TWO_PHONES = "13812345678 13987654321 13700001111"  # 35 characters
INT64_MAX = "9223372036854775807"
LONG_DIGITS = "9" * 40
LONG_TEXT = "测" * 300
# Every query parameter a page reads (hotline/web/pages/*.py).
QUERY_NAMES = (
    "page", "phone", "q", "unit", "status", "from", "to", "channel", "overdue", "code",
    "number", "preset", "kind", "parent", "sort", "expired", "next", "v",
)  # fmt: skip
# Path parameters, oversize (the {index:int} converter takes digits only).
PATH_VALUES = {
    "number": ["1" * 300, "20261122-" + LONG_DIGITS],
    "action": ["x" * 300],
    "username": ["u" * 300],
    "row_id": [LONG_DIGITS],
    "throttle_id": [LONG_DIGITS],
    "index": [LONG_DIGITS],
    "key": ["k" * 300],
}
ROLES = [None, "op", "sup", "adm", "zjj"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _page_routes() -> list[tuple[str, str]]:
    from hotline.runtime.config import load_settings
    from hotline.web.app import create_app

    app = create_app(load_settings(), manage_db=False, background=False)
    found = []
    for full, route in walk(app.routes):
        # The console's event stream never ends by design (the CTI browser test covers it).
        if not is_page(full) or full.startswith(("/static", "/wechat", "/operator/calls/stream")):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, full))
    return found


ROUTES = _page_routes()


def _paths(template: str) -> list[str]:
    names = re.findall(r"{(\w+)(?::\w+)?}", template)
    paths = [template]
    for name in names:
        slot = re.compile(r"{" + name + r"(?::\w+)?}")
        paths = [slot.sub(value, p) for p in paths for value in PATH_VALUES[name]]
    return paths


def _assert_page_answer(r: Any, where: str) -> None:
    assert r.status_code < 500, f"{where}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("text/html"), f"{where}: {r.text[:200]}"
        assert CJK.search(r.text), where


async def _client(site: Site, who: str | None) -> Any:
    return await site.login(who) if who else site.client()


@pytest.mark.parametrize(
    ("who", "path", "says"),
    [
        ("op", "/tickets?page=" + INT64_MAX, "页码"),
        ("op", "/tickets?page=" + LONG_DIGITS, "页码"),
        ("op", "/tickets?phone=" + TWO_PHONES, "来电号码"),
        ("op", "/operator/caller?phone=" + TWO_PHONES, "来电号码"),
        ("op", "/tickets?unit=" + "X" * 40, "承办单位"),
        ("op", "/tickets/" + "1" * 300, "工单"),
    ],
)
async def test_reported_cases_are_a_chinese_page_without_the_phone_in_the_log(
    site: Site, caplog: pytest.LogCaptureFixture, who: str, path: str, says: str
) -> None:
    c = await site.login(who)
    with caplog.at_level(logging.DEBUG):
        r = await c.get(path)
    assert 400 <= r.status_code < 500, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert says in r.text, r.text[-1500:]
    assert '{"error"' not in r.text
    # The server's records (the test's own HTTP client logs the URL it asked for).
    server = [rec for rec in caplog.records if not rec.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(f"{rec.name}: {rec.getMessage()} {rec.exc_info or ''}" for rec in server)
    assert "13987654321" not in logged and "Traceback" not in logged


async def test_fragment_for_the_caller_box_is_a_message_not_a_page(site: Site) -> None:
    c = await site.login("op")
    r = await c.get("/operator/caller", params={"phone": TWO_PHONES}, headers={"HX-Request": "1"})
    assert r.status_code == 422
    assert "<html" not in r.text and "来电号码" in r.text and "一次只能查一个号码" in r.text


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_every_page_route_survives_oversize_values(
    site: Site, method: str, template: str
) -> None:
    for who in ROLES:
        c = await _client(site, who)
        token = csrf_of((await c.get("/login")).text) if who is None else None
        if who is not None:
            home = await c.get({"op": "/operator", "zjj": "/unit"}.get(who, "/tickets"))
            token = csrf_of(home.text)
        for path in _paths(template):
            for value in (LONG_DIGITS, LONG_TEXT, INT64_MAX):
                params = {name: value for name in QUERY_NAMES}
                where = f"{who}: {method} {path[:80]} ({value[:10]}…)"
                if method == "GET":
                    r = await c.get(path, params=params)
                else:
                    form = {**params, "csrf_token": token or ""}
                    r = await c.post(path, data=form, headers={"Origin": "http://test"})
                _assert_page_answer(r, where)
