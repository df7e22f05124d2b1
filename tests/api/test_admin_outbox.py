"""Mail waits in the outbox without an SMTP server, and admins can see and requeue it."""

from __future__ import annotations

from datetime import timedelta

from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage, OutboxStatus
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
    row = await OutboxMessage.get(transport="mail", ticket_number=t["number"])
    await OutboxMessage.filter(transport="mail", id=row.id).update(
        status=OutboxStatus.FAILED, attempts=12, last_error="550 no such user"
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
    again = await OutboxMessage.get(transport="mail", id=row.id)
    assert again.status == OutboxStatus.PENDING and again.attempts == 0
    missing = await world.client.post(
        f"/api/v1/admin/outbox/{row.id}/requeue", headers=world.headers["adm"]
    )
    assert missing.status_code == 404
    bad = await world.client.get(
        "/api/v1/admin/outbox", params={"status": "lost"}, headers=world.headers["adm"]
    )
    assert bad.status_code == 422


async def test_admin_health_shows_the_outbox_and_public_healthz_does_not(world: World) -> None:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    row = await OutboxMessage.get(transport="mail", ticket_number=t["number"])
    # The dispatch mail has waited two hours (no SMTP server in these tests).
    await OutboxMessage.filter(transport="mail", id=row.id).update(
        created_at=utcnow() - timedelta(hours=2)
    )
    r = await world.client.get("/api/v1/admin/health", headers=world.headers["adm"])
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["outbox"]["pending"] == 1
    assert body["outbox"]["failed"] == 0
    assert 7200 <= body["outbox"]["oldest_pending_age_seconds"] < 7200 + 60
    # The creation text waits too (SMS_GATEWAY=log, but no sender runs in these tests).
    assert body["sms_outbox"]["pending"] == 1 and body["sms_outbox"]["failed"] == 0
    for who in ("sup", "op", "zjj"):
        denied = await world.client.get("/api/v1/admin/health", headers=world.headers[who])
        assert denied.status_code == 403
    assert (await world.client.get("/api/v1/admin/health")).status_code == 401
    public = await world.client.get("/healthz", headers=world.headers["adm"])
    assert public.status_code == 200 and public.json() == {"status": "ok", "database": "ok"}


async def test_admin_requeues_every_failed_mail_at_once(world: World) -> None:
    numbers = []
    for _ in range(3):
        t = await world.create()
        await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
        numbers.append(t["number"])
    await OutboxMessage.filter(transport="mail", ticket_number__in=numbers[:2]).update(
        status=OutboxStatus.FAILED, attempts=4, last_error="554 5.7.1 rejected"
    )
    url = "/api/v1/admin/outbox/requeue"
    denied = await world.client.post(url, params={"status": "failed"}, headers=world.headers["sup"])
    assert denied.status_code == 403
    assert await OutboxMessage.filter(transport="mail", status=OutboxStatus.FAILED).count() == 2
    unclear = await world.client.post(url, headers=world.headers["adm"])
    assert unclear.status_code == 422 and "status=failed" in unclear.json()["error"]["message"]
    r = await world.client.post(url, params={"status": "failed"}, headers=world.headers["adm"])
    assert r.status_code == 200
    assert r.json() == {"requeued": 2, "message": "已将 2 封发送失败的邮件重新排队"}
    rows = await OutboxMessage.filter(transport="mail", ticket_number__in=numbers)
    assert {row.status for row in rows} == {OutboxStatus.PENDING} and {
        r.attempts for r in rows
    } == {0}
    health = await world.client.get("/api/v1/admin/health", headers=world.headers["adm"])
    assert health.json()["outbox"]["pending"] == 3 and health.json()["outbox"]["failed"] == 0
    again = await world.client.post(url, params={"status": "failed"}, headers=world.headers["adm"])
    assert again.json() == {"requeued": 0, "message": "没有发送失败的邮件"}


async def test_admins_see_the_texts_with_masked_numbers_and_requeue_failed_ones(
    world: World,
) -> None:

    t = await world.create()
    r = await world.client.get("/api/v1/admin/outbox", headers=world.headers["adm"])
    sms = r.json()["sms"]
    assert sms["counts"] == {"pending": 1, "sent": 0, "failed": 0}
    [text] = sms["items"]
    assert text["template"] == "created" and text["ticket_number"] == t["number"]
    assert text["phone"] == "138****5678" and "13812345678" not in r.text
    assert f"/track?number={t['number']}" in text["body"]
    await OutboxMessage.filter(transport="sms", id=text["id"]).update(
        status=OutboxStatus.FAILED, attempts=1, last_error="阿里云短信 isv.MOBILE_NUMBER_ILLEGAL"
    )
    failed = await world.client.get(
        "/api/v1/admin/outbox", params={"status": "failed"}, headers=world.headers["adm"]
    )
    assert [s["id"] for s in failed.json()["sms"]["items"]] == [text["id"]]
    one = f"/api/v1/admin/outbox/sms/{text['id']}/requeue"
    assert (await world.client.post(one, headers=world.headers["adm"])).status_code == 200
    assert (await OutboxMessage.get(transport="sms", id=text["id"])).status == OutboxStatus.PENDING
    assert (await world.client.post(one, headers=world.headers["adm"])).status_code == 404
    assert (await world.client.post(one, headers=world.headers["sup"])).status_code == 403
    every = "/api/v1/admin/outbox/sms/requeue"
    refused = await world.client.post(every, headers=world.headers["adm"])
    assert refused.status_code == 422
    await OutboxMessage.filter(transport="sms", id=text["id"]).update(status=OutboxStatus.FAILED)
    done = await world.client.post(every, params={"status": "failed"}, headers=world.headers["adm"])
    assert done.json()["requeued"] == 1
