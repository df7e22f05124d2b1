"""The bulk rebuild (`search-index rebuild`, bench/generate.py) writes the very index the
incremental writes keep: same tickets, same words in the same columns."""

from __future__ import annotations

import pytest

from hotline.domain.models import Ticket
from hotline.services import search_rebuild
from hotline.services.ticket_search import rebuild_index
from tests.api.conftest import World

pytestmark = pytest.mark.backends


async def _index() -> dict[int, tuple[str, ...]]:
    conn = Ticket._meta.db
    if conn.capabilities.dialect == "postgres":
        sql = "SELECT id, shared::text, centre::text FROM ticket_search"
    else:
        sql = "SELECT rowid, shared, centre FROM ticket_search"
    _, rows = await conn.execute_query(sql)
    return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}


async def _tickets_with_replies_notes_and_a_report(world: World) -> list[str]:
    plain = await world.create(title="停水", content="枫林小区今天早上开始停水，没有任何通知。")
    n = plain["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ", "note": "请联系供水公司核实"})
    await world.act(n, "sign", "zjj")
    await world.act(
        n, "reply", "zjj", {"result": "solved", "text": "经核实系管网抢修，已恢复供水。"}
    )
    report = await world.create(
        kind="举报",
        title="李建国举报王某受贿",
        content="我叫李建国，电话13912345678，举报某局工作人员王某收受贿赂。",
        complainant={"name": "李建国", "phone": "13912345678"},
    )
    r = report["number"]
    await world.confirm(r, title="举报工作人员违规", text="群众举报有关工作人员违规，请依法核查。")
    await world.act(r, "dispatch", "op", {"lead_unit": "ZJJ"})
    unconfirmed = await world.create(kind="举报", title="举报违规排污", content="化工厂夜间排污。")
    wide = await world.create(title="ＡＢＣ１２３号楼", content="3号楼电梯坏了，Ｗｉｆｉ也断了。")
    return [n, r, unconfirmed["number"], wide["number"]]


async def test_a_rebuild_writes_exactly_the_incremental_index(world: World) -> None:
    await _tickets_with_replies_notes_and_a_report(world)
    incremental = await _index()
    assert len(incremental) == 4
    assert any("管网" in shared for shared, _ in incremental.values())

    assert await rebuild_index() == 4

    assert await _index() == incremental


async def test_a_rebuild_indexes_tickets_the_index_lost_and_reports_progress(
    world: World,
) -> None:
    numbers = await _tickets_with_replies_notes_and_a_report(world)
    incremental = await _index()
    await Ticket._meta.db.execute_script("DELETE FROM ticket_search")
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))

    assert await rebuild_index(progress=progress) == len(numbers)

    assert await _index() == incremental
    assert seen[-1] == (4, 4)
    r = await world.client.get(
        "/api/v1/tickets", params={"q": "管网抢修"}, headers=world.headers["op"]
    )
    assert [t["number"] for t in r.json()["items"]] == [numbers[0]]


async def test_a_failed_rebuild_leaves_the_old_index_searchable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = await _tickets_with_replies_notes_and_a_report(world)
    incremental = await _index()
    monkeypatch.setattr(search_rebuild, "REBUILD_BATCH", 2)

    def stop(done: int, total: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        await rebuild_index(progress=stop)

    # Nothing of the half-built index shows: every ticket is still found as before.
    assert await _index() == incremental
    r = await world.client.get(
        "/api/v1/tickets", params={"q": "依法核查"}, headers=world.headers["op"]
    )
    assert [t["number"] for t in r.json()["items"]] == [numbers[1]]
