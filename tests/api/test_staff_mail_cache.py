"""A unit's staff addresses are remembered per worker, yet an account change is seen at once."""

from __future__ import annotations

from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.services.users import create_user, disable_user
from tests.api.conftest import World
from tests.api.test_statement_count import BODY, counting


async def _dispatch_mail_to(world: World) -> set[str]:
    r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
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
