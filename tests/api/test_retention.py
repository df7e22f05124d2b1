"""Retention: contact data goes RETENTION_DAYS after closing; rates and timelines stay."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from time import time
from typing import Any

from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.runtime.config import load_settings
from hotline.services.retention import anonymise_due
from hotline.startup.workers import housekeeping
from tests.api.conftest import World

PHONE = "13812345678"


async def _closed(world: World, **overrides: Any) -> dict[str, Any]:
    t = await world.create(
        title="张先生反映物业不作为",
        content=(
            "我是张先生，电话13812345678，备用0731-88886666，邮箱zhang@example.com，"
            "身份证430102199001011234。小区电梯坏了两周。"
        ),
        location={"address": "A3区含浦街道某小区5栋302", "latitude": 28.1, "longitude": 112.9},
        complainant={"name": "张先生", "phone": PHONE, "email": "zhang@example.com"},
        **overrides,
    )
    n = t["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(n, "sign", "zjj")
    await world.act(n, "reply", "zjj", {"result": "solved", "text": "电梯已修复。"})
    await world.act(
        n, "callback", "op", {"contacted": True, "satisfaction": "满意", "solved": True}
    )
    await world.act(n, "close", "op")
    return t


async def _age(number: str, days: int) -> None:
    await Ticket.filter(number=number).update(closed_at=utcnow() - timedelta(days=days))


async def test_contact_data_is_removed_a_year_after_closing_once(world: World) -> None:
    old, recent = await _closed(world), await _closed(world)
    await _age(old["number"], 366)
    await _age(recent["number"], 300)
    stats = "/api/v1/stats/routing"
    figures = (await world.client.get(stats, headers=world.headers["sup"])).json()

    assert await anonymise_due(now=utcnow(), retention_days=365) == 1
    ticket = await Ticket.get(number=old["number"])
    assert (ticket.complainant_name, ticket.complainant_phone, ticket.complainant_email) == (
        "",
        "",
        "",
    )
    assert ticket.address == "" and ticket.latitude is None and ticket.longitude is None
    assert ticket.anonymised_at is not None
    for text in (PHONE, "88886666", "zhang@example.com", "430102199001011234", "张先生"):
        assert text not in ticket.content and text not in ticket.title
    assert "小区电梯坏了两周" in ticket.content  # what the category and retraining need
    assert ticket.category == "城乡建设" and ticket.satisfaction == "满意"
    kept = await Ticket.get(number=recent["number"])
    assert kept.complainant_phone == PHONE and kept.anonymised_at is None
    # The texts to the complainant keep their template, not the number or the reply's lines.
    texts = await OutboxMessage.filter(transport="sms", ticket_number=old["number"])
    assert texts and {t.phone for t in texts} == {"138****5678"}
    assert all(t.body == "***" and t.params == {} for t in texts)
    assert {
        t.phone for t in await OutboxMessage.filter(transport="sms", ticket_number=recent["number"])
    } == {PHONE}

    # Once: a second pass (the sweeper, or another sweeper) changes nothing.
    assert await anonymise_due(now=utcnow(), retention_days=365) == 0
    events = await TicketEvent.filter(ticket_id=ticket.id, action="anonymise")
    assert len(events) == 1 and events[0].actor_name == "系统" and not events[0].public

    # The operator's view: no contact data, the timeline says what happened and when.
    r = await world.client.get(f"/api/v1/tickets/{old['number']}", headers=world.headers["op"])
    assert r.status_code == 200 and PHONE not in r.text and "张先生" not in r.text
    timeline = r.json()["timeline"]
    assert [e["action"] for e in timeline][-2:] == ["close", "anonymise"]
    assert timeline[-1]["label"] == "个人信息脱敏" and timeline[-1]["actor"] == "系统"
    # The citizen's tracking page still works and does not show the internal step.
    tracked = await world.client.get(
        f"/api/v1/track/{old['number']}", params={"code": old["query_code"]}
    )
    assert tracked.status_code == 200 and "脱敏" not in tracked.text
    # Rates are read from the event log and come out the same.
    assert (await world.client.get(stats, headers=world.headers["sup"])).json() == figures


async def test_the_periodic_worker_anonymises_with_the_configured_retention(
    world: World,
) -> None:
    t = await _closed(world)
    await _age(t["number"], 40)
    settings = load_settings()
    assert await housekeeping(settings=settings) == 0  # default 365 days
    assert await housekeeping(settings=replace(settings, retention_days=30)) == 1
    assert (await Ticket.get(number=t["number"])).complainant_phone == ""


async def test_open_tickets_are_never_anonymised(world: World) -> None:
    t = await world.create()
    await Ticket.filter(number=t["number"]).update(created_at=utcnow() - timedelta(days=800))
    assert await anonymise_due(now=utcnow() + timedelta(days=800), retention_days=1) == 0
    assert (await Ticket.get(number=t["number"])).complainant_phone == PHONE


async def test_uploaded_photos_go_with_the_contact_data(world: World, tmp_path: Any) -> None:
    """A photo only the anonymised ticket used is deleted; one another ticket shares stays."""
    from hotline.citizens.photos import JPEG
    from hotline.services import photo_store

    own = photo_store.save(tmp_path, b"\xff\xd8\xff own photo", JPEG).name
    shared = photo_store.save(tmp_path, b"\xff\xd8\xff shared photo", JPEG).name
    young = photo_store.save(tmp_path, b"\xff\xd8\xff just sent again", JPEG).name
    for name in (own, shared):  # written long ago; `young` was just saved (or reused)
        _age_file(photo_store.path_of(tmp_path, name), hours=2)

    def photo(name: str) -> dict[str, Any]:
        return {
            "name": "门口.jpg",
            "content_type": "image/jpeg",
            "size": 9,
            "url": "",
            "photo": name,
        }

    link = {
        "name": "现场视频",
        "content_type": "video/mp4",
        "size": 0,
        "url": "https://v.example/1",
    }
    old = await _closed(world, channel="web")
    other = await world.create(channel="web")
    await Ticket.filter(number=old["number"]).update(
        attachments=[photo(own), photo(shared), photo(young), link]
    )
    await Ticket.filter(number=other["number"]).update(attachments=[photo(shared)])
    await _age(old["number"], 400)

    assert await anonymise_due(now=utcnow(), retention_days=365, upload_dir=tmp_path) == 1
    assert (await Ticket.get(number=old["number"])).attachments == [link]
    assert photo_store.path_of(tmp_path, own).exists() is False  # type: ignore[union-attr]
    assert photo_store.path_of(tmp_path, shared).exists()  # type: ignore[union-attr]
    # unused, but a submission in flight may just have saved the same bytes: kept
    assert photo_store.path_of(tmp_path, young).exists()  # type: ignore[union-attr]


def _age_file(path: Any, *, hours: float) -> None:
    """Set a file's mtime `hours` into the past."""
    then = time() - hours * 3600
    os.utime(path, (then, then))


def test_saving_a_photo_again_makes_it_young_and_keeps_it_from_a_failed_twin(
    tmp_path: Any,
) -> None:
    """Reusing a stored file touches it, so neither retention nor `discard` removes it."""
    from hotline.citizens.photos import JPEG
    from hotline.services import photo_store

    first = photo_store.save(tmp_path, b"\xff\xd8\xff same photo", JPEG)
    path = photo_store.path_of(tmp_path, first.name)
    _age_file(path, hours=2)
    again = photo_store.save(tmp_path, b"\xff\xd8\xff same photo", JPEG)
    assert first.created and not again.created and again.name == first.name
    assert not photo_store.remove_unless_recent(tmp_path, first.name, min_age=3600, now=time())
    photo_store.discard(tmp_path, [first])  # the first request failed after the reuse
    assert path.exists()  # type: ignore[union-attr]
    _age_file(path, hours=2)
    assert photo_store.remove_unless_recent(tmp_path, first.name, min_age=3600, now=time())
    assert not path.exists()  # type: ignore[union-attr]
