"""On the ticket page, an operator sending a 举报 to the unit it names is told why and how."""

from __future__ import annotations

from tests.pages.conftest import Site, csrf_of


async def test_the_operator_reads_why_the_reported_unit_is_refused(site: Site) -> None:
    t = await site.create(
        kind="举报",
        title="举报工作人员收受好处",
        content="举报住 建 部 门王科长在小区验收中收受开发商好处费。",
        location={"address": "A3区含浦街道某小区"},
    )
    n = t["number"]
    op = await site.login("op")
    page = await op.get(f"/tickets/{n}")
    r = await op.post(
        f"/tickets/{n}/act/dispatch",
        data={"csrf_token": csrf_of(page.text), "lead_unit": "ZJJ"},
    )
    assert r.status_code == 303
    page = await op.get(r.headers["location"])
    assert "「派单」未执行：举报件不能交给被举报的单位及其上下级办理" in page.text
    assert "A市住房和城乡建设局（文中称「住建部门」）" in page.text
    # in the words of the form, not the API's field name
    assert "请督办人员在派单表单的「举报回避例外的书面理由」中填写理由后派单" in page.text
    assert "在 avoidance_override 中" not in page.text
    async with site.client() as c:
        seen = await c.get(f"/api/v1/tickets/{n}", headers=site.bearer("sup"))
    assert seen.json()["status"] == "received"


async def test_only_a_supervisor_sees_the_override_reason_in_the_dispatch_forms(
    site: Site,
) -> None:
    t = await site.create(
        kind="举报", title="举报工作人员收受好处", content="举报住建局王科长收受开发商好处费。"
    )
    n = t["number"]
    op = await site.login("op")
    page = (await op.get(f"/tickets/{n}")).text
    assert f"/tickets/{n}/act/dispatch" in page  # the operator has the 派单 form
    assert 'name="avoidance_override"' not in page and "举报回避例外的书面理由" not in page
    sup = await site.login("sup")
    page = (await sup.get(f"/tickets/{n}")).text
    assert 'name="avoidance_override"' in page and "举报回避例外的书面理由" in page
