"""Mail waits in the outbox without an SMTP server, and admins can see and requeue it."""

from __future__ import annotations

from hotline.mail.models import MailStatus, OutboxMail
from tests.api.conftest import World


async def test_dispatch_mail_is_visible_to_admins_only(world: World) -> None:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    r = await world.client.get("/api/v1/admin/outbox", headers=world.headers["adm"])
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["pending"] == 1
    mail = body["items"][0]
    assert mail["reason"] == "dispatch" and mail["ticket_number"] == t["number"]
    assert "zjj@a.gov.example" in mail["to"] and "新工单派发" in mail["subject"]
    assert "13812345678" not in r.text  # mail never carries the complainant's phone
    assert (
        await world.client.get("/api/v1/admin/outbox", headers=world.headers["sup"])
    ).status_code == 403


async def test_admin_requeues_a_failed_mail(world: World) -> None:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    row = await OutboxMail.get(ticket_number=t["number"])
    await OutboxMail.filter(id=row.id).update(
        status=MailStatus.FAILED, attempts=12, last_error="550 no such user"
    )
    failed = (
        await world.client.get(
            "/api/v1/admin/outbox", params={"status": "failed"}, headers=world.headers["adm"]
        )
    ).json()
    assert [m["id"] for m in failed["items"]] == [row.id] and failed["items"][0]["last_error"]
    r = await world.client.post(
        f"/api/v1/admin/outbox/{row.id}/requeue", headers=world.headers["adm"]
    )
    assert r.status_code == 200
    again = await OutboxMail.get(id=row.id)
    assert again.status == MailStatus.PENDING and again.attempts == 0
    missing = await world.client.post(
        f"/api/v1/admin/outbox/{row.id}/requeue", headers=world.headers["adm"]
    )
    assert missing.status_code == 404
    bad = await world.client.get(
        "/api/v1/admin/outbox", params={"status": "lost"}, headers=world.headers["adm"]
    )
    assert bad.status_code == 422
