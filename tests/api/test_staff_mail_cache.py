"""A unit's staff addresses are remembered per worker, yet an account change is seen at once."""

from __future__ import annotations

from hotline.domain.models import Ticket
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.services.users import create_user, disable_user
from tests.api.conftest import World
from tests.api.test_statement_count import BODY, counting

# Four callers about four wage matters (all 人社局's): four tickets, none a likely repeat of
# another (a repeat would wait in 疑似重复 instead of being dispatched).
MATTERS = [
    BODY,
    {
        **BODY,
        "title": "餐馆老板克扣工资",
        "content": "我在市区一家餐馆当服务员，老板以迟到为由克扣工资，每个月少发五百元，找他理论也不退。",
        "complainant": {"name": "李女士", "phone": "13900000001"},
    },
    {
        **BODY,
        "title": "包工头欠薪后失联",
        "content": "我们十几个农民工在城东工地干了半年，包工头欠薪以后电话打不通，年底急需用钱回家过年。",
        "complainant": {"name": "王先生", "phone": "13900000002"},
    },
    {
        **BODY,
        "title": "培训机构离职后不发工资",
        "content": "上个月从一家培训机构辞职，手续都办完了，最后一个月的课时费和底薪一直不发工资。",
        "complainant": {"name": "赵女士", "phone": "13900000003"},
    },
]


async def _dispatch_mail_to(world: World) -> set[str]:
    body = MATTERS[await Ticket.all().count() % len(MATTERS)]
    r = await world.client.post("/api/v1/tickets", json=body, headers=world.headers["op"])
    assert r.status_code == 201 and r.json()["status"] == "dispatched", r.text
    mails = await OutboxMessage.filter(
        transport="mail", reason="dispatch", ticket_number=r.json()["number"]
    )
    return {address for m in mails for address in m.to_addrs}


async def test_new_and_disabled_staff_change_the_next_dispatch_mail(world: World) -> None:
    assert "rsj@test.example" in await _dispatch_mail_to(world)
    # Remembered: the next dispatch does not read the unit's staff again.
    with counting() as statements:
        await _dispatch_mail_to(world)
    assert not [s for s in statements if 'FROM "app_user"' in s], "\n".join(statements)
    # A new colleague hears of the very next ticket, a disabled one no longer does.
    await create_user(
        username="rsj-new",
        role="unit",
        password="secret-password",
        now=utcnow(),
        unit_code="RSJ",
        email="rsj-new@test.example",
    )
    assert "rsj-new@test.example" in await _dispatch_mail_to(world)
    await disable_user(username="rsj-new", now=utcnow())
    assert "rsj-new@test.example" not in await _dispatch_mail_to(world)
