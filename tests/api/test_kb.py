"""The knowledge base over the API: who writes and reads, Chinese checks, history, suggestions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.timefmt import utcnow
from tests.api.conftest import World

pytestmark = pytest.mark.backends

WATER = {
    "title": "停水期间如何取水",
    "questions": ["小区停水了怎么办", "什么时候恢复供水"],
    "answer": "计划停水会提前公告；临时停水请拨打供水公司抢修电话，应急送水车会到小区门口。",
    "category": "城乡建设",
    "unit_code": "ZJJ",
    "source_name": "A市城市供水管理办法",
    "source_url": "https://a.gov.example/water",
    "status": "published",
}
SOCIAL = {
    "title": "社保卡补办",
    "questions": ["社保卡丢了怎么补办"],
    "answer": "携带身份证到任一社保经办网点或在线上服务大厅申请补卡，一般十个工作日内制卡完成。",
    "category": "劳动和社会保障",
    "unit_code": "RSJ",
    "status": "published",
}
CALL = "我家住枫林小区，今天早上突然停水了，也没看到通知，想问问什么时候恢复供水，家里老人要用水。"


async def _post(world: World, who: str, body: dict[str, Any], expect: int = 201) -> Any:
    r = await world.client.post("/api/v1/kb", json=body, headers=world.headers[who])
    assert r.status_code == expect, r.text
    return r.json()


async def _suggest(world: World, text: str, who: str = "op") -> list[dict[str, Any]]:
    r = await world.client.get("/api/v1/kb/suggest", params={"q": text}, headers=world.headers[who])
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_supervisor_writes_operator_reads_and_a_call_finds_its_entry(world: World) -> None:
    water = await _post(world, "sup", WATER)
    await _post(world, "adm", SOCIAL)
    assert water["status_label"] == "已发布" and water["unit_name"] == "A市住房和城乡建设局"
    assert water["created_by"] and water["history"][0]["action"] == "create"

    found = await _suggest(world, CALL)
    assert [s["id"] for s in found][:1] == [water["id"]]
    top = found[0]
    assert top["unit_name"] == "A市住房和城乡建设局"
    marked = "".join(p["text"] for p in top["snippet"] if p["hit"])
    assert "恢复供水" in marked and "停水" in marked  # the call's words, highlighted
    assert "".join(p["text"] for p in top["snippet"] if not p["hit"])  # and the rest plain
    # Nothing is offered for a text that has nothing to do with any entry.
    assert await _suggest(world, "表扬一下公交司机服务热情") == []

    r = await world.client.get("/api/v1/kb", params={"q": "供水"}, headers=world.headers["op"])
    assert [e["id"] for e in r.json()["items"]] == [water["id"]]


async def test_who_may_write_and_what_units_read(world: World) -> None:
    draft = await _post(world, "sup", {**WATER, "status": "draft"})
    body = await _post(world, "op", SOCIAL, expect=403)
    assert "督办人员" in body["error"]["message"]
    await _post(world, "zjj", SOCIAL, expect=403)
    r = await world.client.put(f"/api/v1/kb/{draft['id']}", json=WATER, headers=world.headers["op"])
    assert r.status_code == 403
    # Units read published entries only, and no history.
    r = await world.client.get(f"/api/v1/kb/{draft['id']}", headers=world.headers["zjj"])
    assert r.status_code == 404 and "知识库条目不存在" in r.json()["error"]["message"]
    published = await _post(world, "sup", SOCIAL)
    r = await world.client.get("/api/v1/kb", headers=world.headers["zjj"])
    assert [e["id"] for e in r.json()["items"]] == [published["id"]]
    r = await world.client.get(f"/api/v1/kb/{published['id']}", headers=world.headers["zjj"])
    assert r.status_code == 200 and r.json()["history"] == []
    r = await world.client.get(
        "/api/v1/kb/suggest", params={"q": CALL}, headers=world.headers["zjj"]
    )
    assert r.status_code == 403
    r = await world.client.get("/api/v1/kb")
    assert r.status_code == 401
    # Drafts are not suggested.
    assert await _suggest(world, CALL) == []


async def test_validation_errors_say_what_to_fix_in_chinese(world: World) -> None:
    body = await _post(world, "sup", {**WATER, "category": "城建"}, expect=422)
    assert "不在分类表中" in body["error"]["message"]
    body = await _post(world, "sup", {**WATER, "unit_code": "NOPE"}, expect=422)
    assert "单位" in body["error"]["message"]
    body = await _post(world, "sup", {**WATER, "source_url": "javascript:alert(1)"}, expect=422)
    assert "http" in str(body)
    body = await _post(
        world, "sup", {**WATER, "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, expect=422
    )
    assert "失效日期不能早于生效日期" in str(body)
    body = await _post(world, "sup", {**WATER, "answer": "好"}, expect=422)
    assert body["error"]["fields"][0]["field"] == "answer"


async def test_expired_entries_are_never_suggested(world: World) -> None:
    today = utcnow().date()
    await _post(world, "sup", {**WATER, "valid_to": (today - timedelta(days=2)).isoformat()})
    await _post(world, "sup", {**WATER, "status": "expired", "title": "停水通知的取水点"})
    await _post(world, "sup", {**WATER, "valid_from": (today + timedelta(days=5)).isoformat()})
    assert await _suggest(world, CALL) == []
    r = await world.client.get(
        "/api/v1/kb", params={"status": "expired"}, headers=world.headers["sup"]
    )
    assert r.json()["total"] == 2  # the one past its last day reads expired too
    assert {e["status_label"] for e in r.json()["items"]} == {"已失效"}
    assert not any(e["offered"] for e in r.json()["items"])


async def test_every_change_is_kept_in_the_history(world: World) -> None:
    entry = await _post(world, "sup", {**WATER, "status": "draft"})
    url = f"/api/v1/kb/{entry['id']}"
    changed = {**WATER, "answer": WATER["answer"] + "送水车每天 9 点到。", "expected_version": 1}
    r = await world.client.put(url, json=changed, headers=world.headers["adm"])
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == "published" and after["version"] == 2
    latest = after["history"][0]
    assert latest["action"] == "update" and latest["actor"]
    assert latest["before"] == {"answer": WATER["answer"], "status": "draft"}
    assert latest["after"]["status"] == "published"
    assert [h["action"] for h in after["history"]] == ["update", "create"]
    # An edit made on the old version is refused, not silently overwritten.
    r = await world.client.put(url, json=changed, headers=world.headers["sup"])
    assert r.status_code == 409 and "刷新" in r.json()["error"]["message"]
    # The suggestion index sees the edit at once.
    found = await _suggest(world, "停水了送水车几点到")
    assert found and found[0]["id"] == entry["id"]


async def test_answering_with_an_entry_records_it_and_counts_the_use(world: World) -> None:
    water = await _post(world, "sup", WATER)
    ticket = await world.create(kind="咨询", title="停水咨询", content=CALL)
    done = await world.act(
        ticket["number"], "answer", "op", {"text": WATER["answer"], "kb_entry": water["id"]}
    )
    assert done["status"] == "closed"
    answered = [e for e in done["timeline"] if e["action"] == "answer"][0]
    assert answered["payload"]["kb_entry"] == water["id"]
    r = await world.client.get(f"/api/v1/kb/{water['id']}", headers=world.headers["op"])
    assert r.json()["use_count"] == 1 and r.json()["last_used_at"]
    found = await _suggest(world, CALL)
    assert found[0]["use_count"] == 1
