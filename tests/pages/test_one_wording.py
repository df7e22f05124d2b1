"""The API and the pages say the same thing for the same mistake (one translator of pydantic's
errors), and that thing says what to do."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest

from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.domain.vocabulary import KINDS, URGENCIES
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


def _options(page: str, select_id: str) -> dict[str, str]:
    """value → label of one <select>'s options (the empty 全部 left out)."""
    block = page[page.index(f'id="{select_id}"') :]
    block = block[: block.index("</select>")]
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block)
    return {value: label for value, label in found if value}


async def test_every_channel_label_shown_is_the_vocabulary_s(site: Site) -> None:
    labels = dict(site.app.state.deployment.words().channels)
    t = await site.create(channel="wechat", kind="求助")
    op = await site.login("op")
    # The search form's choices, the ticket's 来源 and the console's channel choices.
    search = (await op.get("/tickets")).text
    assert _options(search, "s-channel") == labels
    ticket = (await op.get(f"/tickets/{t['number']}")).text
    assert f"<dd>{labels['wechat']}</dd>" in ticket
    console = (await op.get("/operator")).text
    offered = _options(console, "f-channel")
    assert offered and all(labels[code] == label for code, label in offered.items())
    assert "open311" not in offered  # only a program records an Open311 request
    queues = (await op.get("/operator/queue", headers={"HX-Request": "true"})).text
    online = f"{labels['web']}、{labels['wechat']}和{labels['open311']}"
    assert f"市民通过{online}提交的工单" in queues
    # The dashboard's and the API's figures by channel use the same names.
    sup = await site.login("sup")
    async with site.client() as c:
        today = datetime.now(SHANGHAI).date().isoformat()
        api = await c.get(
            "/api/v1/stats/volumes",
            params={"from": today, "to": today},
            headers=site.bearer("sup"),
        )
    assert api.status_code == 200, api.text
    by_channel = {row["channel"]: row["label"] for row in api.json()["by_channel"]}
    assert by_channel == {"wechat": labels["wechat"]}
    dashboard = (await sup.get("/supervisor")).text
    assert f"<td>{labels['wechat']}</td>" in dashboard


async def test_the_forms_offer_the_vocabulary_s_kinds_and_urgencies(site: Site) -> None:
    op = await site.login("op")
    console = (await op.get("/operator")).text
    kinds = re.findall(r"<option [^>]*>([^<]+)</option>", console[console.index('id="f-kind"') :])
    assert tuple(kinds[: len(KINDS)]) == KINDS
    block = console[console.index('id="f-urgency"') :]
    urgencies = re.findall(r"<option [^>]*>([^<]+)</option>", block[: block.index("</select>")])
    assert tuple(urgencies) == URGENCIES
    async with site.client() as c:
        form = (await c.get("/submit")).text
    offered = _options(form, "f-kind")
    assert list(offered) == list(KINDS)
    assert "咨询、求助需要答复您" in form and "投诉、举报、建议、表扬可以匿名" in form


async def test_account_actions_are_one_list_with_one_wording(site: Site) -> None:
    """The API offers what the page offers, and says the same about each."""
    from hotline.services import users
    from hotline.services.account_actions import ACCOUNT_ACTIONS

    async with site.client() as c:
        spec = (await c.get("/openapi.json")).json()
    path = spec["paths"]["/api/v1/admin/users/{username}/{action}"]["post"]
    [action_param] = [p for p in path["parameters"] if p["name"] == "action"]
    assert action_param["schema"]["enum"] == list(ACCOUNT_ACTIONS)

    adm = await site.login("adm")
    page = (await adm.get("/admin")).text
    for name, action in ACCOUNT_ACTIONS.items():
        if f'/admin/users/op/{name}"' in page:  # offered when it applies to op's row
            assert f'/admin/users/op/{name}">' in page and f">{action.label}</button>" in page
    # The same action on the same state: the API's message is the page's flash.
    restore = {
        "revoke-tokens": lambda: users.issue_token(username="rsj", now=utcnow()),
        "disable": lambda: users.enable_user(username="rsj"),
        "enable": lambda: users.disable_user(username="rsj", now=utcnow()),
    }
    for name, undo in restore.items():
        async with site.client() as c:
            api = await c.post(f"/api/v1/admin/users/rsj/{name}", headers=site.bearer("adm"))
        assert api.status_code == 200, api.text
        message = api.json()["message"]
        await undo()
        token = csrf_of((await adm.get("/admin")).text)
        await adm.post(f"/admin/users/rsj/{name}", data={"csrf_token": token})
        assert f"{message}。" in (await adm.get("/admin")).text, (name, message)
    # A new password by the API, shown once, like the page's.
    async with site.client() as c:
        reset = await c.post("/api/v1/admin/users/op/reset-password", headers=site.bearer("adm"))
    body = reset.json()
    assert reset.status_code == 200 and body["username"] == "op" and len(body["password"]) >= 8
    assert body["message"].startswith("已重置密码 op")
    assert (await site.login("op", body["password"])).cookies
