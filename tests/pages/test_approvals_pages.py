"""The approvals queue on the console, the search filter, and what a unit sees on its
workbench of the centre's decisions and of urging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.domain.models import TicketClock
from hotline.domain.timefmt import utcnow
from hotline.runtime.deployment import Deployment
from tests.pages.conftest import Site, csrf_of
from tests.reviewing import reviewing


async def signed(site: Site, title: str, kind: str = "投诉") -> str:
    number = str((await site.create(title=title, kind=kind))["number"])
    await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(number, "sign", "zjj")
    return number


def section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"')[1].split("</section>")[0]


@pytest.mark.backends  # the queue and restored clocks, on both databases
async def test_one_approvals_queue_oldest_first_with_reasons_and_decisions(
    site: Site, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        extension = await signed(site, "申请延期的工单")
        await site.act(
            extension, "request-extension", "zjj", {"reason": "需要协调供水公司排查", "days": 3}
        )
        paused = await signed(site, "申请挂起的工单")
        await site.act(paused, "pause", "zjj", {"reason": "市民外出约定下周核实"})
        disputed = str((await site.create(title="退单的工单"))["number"])
        await site.act(disputed, "dispatch", "op", {"lead_unit": "ZJJ"})
        await site.act(disputed, "reject", "zjj", {"reason": "不属于本单位职责"})
        review = await signed(site, "待审核答复的工单")
        await site.act(review, "reply", "zjj", {"result": "solved", "text": "已处理完毕请查收"})
        # Requests made before there was a decision clock (the demo's old data) wait too.
        await TicketClock.filter(kind="decision").exclude(ticket__number=paused).delete()
        # The pause request waited past the centre's own limit.
        await TicketClock.filter(kind="decision").update(due_at=utcnow() - timedelta(hours=1))

    op = await site.login("op")
    html = (await op.get("/operator/queue", headers={"HX-Request": "true"})).text
    queue = section(html, "approvals")
    rows = re.findall(r'<tr data-number="([^"]+)">', queue)
    assert rows == [extension, paused, disputed, review]  # oldest request first
    for label, reason in [
        ("延期申请", "需要协调供水公司排查"),
        ("挂起申请", "市民外出约定下周核实"),
        ("退单", "不属于本单位职责"),
        ("待审核答复", "已处理完毕请查收"),
    ]:
        assert label in queue and reason in queue
    assert "申请延期 3 天" in queue and "不到1分钟" in queue
    late = queue.split(f'data-number="{paused}"')[1].split("</tr>")[0]
    assert "已超审批时限" in late and queue.count("已超审批时限") == 1
    # One click approves; refusing asks for a reason; 改派 opens the ticket's form.
    for action in ("approve-extension", "approve-pause", "approve-reply"):
        assert f"/act/{action}" in queue
    for action in ("refuse-extension", "deny-pause", "reject-dispute", "return-reply"):
        assert f'/act/{action}" class="inline reason"' in queue
    assert f'href="/tickets/{disputed}#act-redispatch"' in queue

    token = csrf_of(html)
    r = await op.post(
        f"/tickets/{paused}/act/approve-pause",
        data={"csrf_token": token, "next": "/operator"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    r = await op.post(
        f"/tickets/{disputed}/act/reject-dispute",
        data={"csrf_token": token, "next": "/operator", "reason": "属于住建局职责请签收"},
    )
    assert r.status_code == 303
    queue = section(
        (await op.get("/operator/queue", headers={"HX-Request": "true"})).text, "approvals"
    )
    assert re.findall(r'<tr data-number="([^"]+)">', queue) == [extension, review]

    # The same requests in search, for the supervisor who wants all of them.
    found = (await op.get("/tickets", params={"approvals": "1"})).text
    found = found.split("<h1>")[1]  # the results, not the flash messages above
    assert f'href="/tickets/{extension}"' in found and f'href="/tickets/{review}"' in found
    assert f'href="/tickets/{paused}"' not in found


async def test_the_workbench_shows_supervision_urging_and_the_centres_answers(
    site: Site, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        supervised = await signed(site, "被督办的工单")
        await site.act(supervised, "urge", "op", {"reason": "市民第二次来电"})
        await site.act(supervised, "urge", "op", {"reason": "市民第三次来电"})
        await site.act(supervised, "supervise", "sup", {"reason": "市领导批示", "limit": "3wd"})
        returned = await signed(site, "答复被退回的工单")
        await site.act(returned, "reply", "zjj", {"result": "solved", "text": "已处理完毕请查收"})
        await site.act(returned, "return-reply", "op", {"reason": "未说明何时修好请补充"})
        denied = await signed(site, "挂起被拒的工单")
        await site.act(denied, "pause", "zjj", {"reason": "等待市民材料"})
        await site.act(denied, "deny-pause", "op", {"reason": "请先电话联系市民"})
        back = str((await site.create(title="退单被驳回的工单"))["number"])
        await site.act(back, "dispatch", "op", {"lead_unit": "ZJJ"})
        await site.act(back, "reject", "zjj", {"reason": "不属于本单位"})
        await site.act(back, "reject-dispute", "op", {"reason": "属于住建局职责请签收"})

    zjj = await site.login("zjj")
    html = (await zjj.get("/unit")).text
    # 督办件 is the first group, with the marks on the row.
    assert html.index('id="g-supervised"') < html.index('id="g-sign"')
    top = section(html, "g-supervised")
    assert supervised in top and returned not in top
    assert "督 ×1" in top and "催 ×2" in top
    assert "市第三次来电" not in top and "市民第三次来电" in top  # the latest reason
    assert "督办时限 3个工作日" in top
    # The supervisor's shortened deadline is the row's clock.
    assert "督办" in top
    reopened = section(html, "g-reopened")
    assert returned in reopened and "退回答复：未说明何时修好请补充" in reopened
    answered = section(html, "g-extension")
    assert denied in answered and "不同意挂起：请先电话联系市民" in answered
    sign = section(html, "g-sign")
    assert back in sign and "驳回退单：属于住建局职责请签收" in sign


async def test_the_tracking_page_shows_a_reviewed_answer_only_once_released(
    site: Site, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        t = await site.create(title="电梯经常坏")
        number = str(t["number"])
        await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
        await site.act(number, "sign", "zjj")
        await site.act(number, "reply", "zjj", {"result": "solved", "text": "电梯已更换主板"})
        params = {"number": number, "code": t["query_code"]}
        async with site.client() as c:
            held = await c.get("/track", params=params)
            assert held.status_code == 200 and "答复审核中" in held.text
            assert "电梯已更换主板" not in held.text and "满意" not in held.text
            await site.act(number, "approve-reply", "op")
            released = (await c.get("/track", params=params)).text
            assert "电梯已更换主板" in released and "请您评价" in released
