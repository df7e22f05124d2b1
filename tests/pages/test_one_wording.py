"""The API and the pages say the same thing for the same mistake (one translator of pydantic's
errors), and that thing says what to do."""

from __future__ import annotations

import html

import pytest

from tests.pages.conftest import Site, csrf_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# (action, form/JSON body, field): each body is wrong in that one field.
MISTAKES = [
    ("request-extension", {"reason": "需要协调", "days": "99"}, "days"),  # le=60
    ("request-extension", {"reason": "需要协调", "days": "0"}, "days"),  # ge=1
    ("request-extension", {"reason": "需要协调", "days": "两天"}, "days"),  # not a number
    ("reply", {"result": "solved", "text": "好"}, "text"),  # min_length=5
    ("reply", {"text": "已经处理完毕"}, "result"),  # missing
]


async def test_api_and_page_give_the_same_message_for_the_same_field(site: Site) -> None:
    t = await site.create()
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(n, "sign", "zjj")
    zjj = await site.login("zjj")
    token = csrf_of((await zjj.get(f"/tickets/{n}")).text)
    seen = set()
    for action, body, field in MISTAKES:
        async with site.client() as c:
            api = await c.post(
                f"/api/v1/tickets/{n}/{action}", json=body, headers=site.bearer("zjj")
            )
        assert api.status_code == 422, api.text
        [message] = [f["message"] for f in api.json()["error"]["fields"] if f["field"] == field]
        page = await zjj.post(f"/tickets/{n}/act/{action}", data={"csrf_token": token, **body})
        assert page.status_code == 422
        assert message in html.unescape(page.text), (action, field, message)
        # Each says what to do next, not only what is wrong.
        assert "请" in message, message
        seen.add(message)
    assert {"不能大于 60，请填写 60 或更小的数", "不能小于 1，请填写 1 或更大的数"} <= seen
