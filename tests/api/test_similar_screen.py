"""The repeat screen's one-statement candidate read finds exactly the tickets that one read
per index finds (the reference below: the caller/street read, the window's first id, one
capped full-text match per key word), on a varied set of tickets and with small caps; the
rows it reads with them are those of the candidates still open in the window."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.fulltext import parse_query
from hotline.domain.lifecycle import Role
from hotline.domain.models import Ticket
from hotline.domain.similar import Profile, Rules, compare
from hotline.domain.timefmt import utcnow
from hotline.runtime.deployment import Deployment
from hotline.services import fulltext, similar
from hotline.services.ticket_search import STAFF_COLUMNS, TICKETS
from tests.api.conftest import World

pytestmark = pytest.mark.backends

TICKETS_MADE = [
    ("板桥小区停水", "A7县星沙镇板桥小区从昨天晚上开始停水，没有任何通知。", "13900001111"),
    ("板桥小区又停水", "板桥小区昨晚到现在一直没水，请尽快恢复供水。", "13900002222"),
    ("板桥小区噪音扰民", "板桥小区旁边工地夜间施工噪音很大，影响休息。", "13900003333"),
    ("人民路路灯不亮", "人民路路灯坏了一个月，晚上出行不便。", "13900001111"),
    ("人民路井盖缺失", "人民路与解放路交叉口井盖缺失，很危险。", "13900004444"),
    ("星沙镇垃圾清运", "星沙镇菜市场垃圾堆放多日无人清运，气味很大。", "13900005555"),
    ("小区物业不作为", "小区物业公司收费后不履行职责，电梯经常坏。", "13900006666"),
    ("电梯经常坏", "小区电梯三天两头坏，物业不修，老人上下楼困难。", "13900006666"),
    ("供水水压低", "星沙镇板桥小区高层水压低，早晚用水高峰没水。", "13900007777"),
    ("工地夜间施工", "板桥小区旁工地夜里十二点还在施工，噪音扰民。", "13900008888"),
]
PROBES = [
    ("板桥小区停水一天了", "板桥小区又停水了，没有通知，生活不方便。", "13700000000"),
    ("路灯", "人民路路灯不亮，晚上很黑。", "13900001111"),
    ("噪音", "工地夜间施工噪音扰民，板桥小区居民无法休息。", ""),
    ("电梯坏了", "物业不修电梯，小区老人上下楼困难。", "13900006666"),
    ("咨询社保卡补办", "社保卡丢了怎么补办。", ""),
]


async def _reference(probe: similar.Probe, p: Profile, *, since: Any, rules: Rules) -> set[int]:
    """One read per index, as the screen read before it was one statement."""
    from tortoise.expressions import Q

    base = Ticket.filter(created_at__gte=since, status__in=similar.OPEN_VALUES)
    ids: set[int] = set()
    same = Q()
    if p.phone:
        same |= Q(complainant_phone=p.phone)
    if p.street:
        same |= Q(street=p.street)
    if same.children or same.filters:
        ids |= set(
            await base.filter(same)
            .order_by("-id")
            .limit(2 * rules.per_index)
            .values_list("id", flat=True)
        )
    terms = similar._key_terms(p, f"{probe.title}\n{probe.text}")
    first = await similar._first_id_since(since)
    if terms and first < 1 << 62:
        for term in terms:
            hits = await fulltext.match(
                Ticket._meta.db,
                TICKETS,
                parse_query(term),
                columns=STAFF_COLUMNS,
                within=("{id} >= ?", [first]),
                cap=rules.per_index,
            )
            ids.update(hits.ids)
    if probe.exclude_id is not None:
        ids.discard(probe.exclude_id)
    return ids


async def test_the_one_statement_read_finds_what_one_read_per_index_found(
    world: World, deployment: Deployment
) -> None:
    made = []
    for title, content, phone in TICKETS_MADE:
        made.append(
            await world.create(
                title=title, content=content, complainant={"name": "市民", "phone": phone}
            )
        )
    # One closed, one out of the window: neither is a candidate either way.
    await world.act(made[6]["number"], "merge", "op", {"into": made[7]["number"]})
    now = utcnow()
    await Ticket.filter(number=made[0]["number"]).update(created_at=now - timedelta(days=40))
    s = similar.scorer(deployment)
    staff = Principal(0, "op", "op", Role.OPERATOR.value, None, None)
    compared = 0
    for per_index in (1, 2, s.rules.per_index):
        rules = replace(s.rules, per_index=per_index)
        since = now - timedelta(days=rules.window_days)
        for title, text, phone in PROBES:
            district, street = similar.place_of(deployment, f"{title}\n{text}", "")
            probe = similar.Probe(
                text=text, title=title, district=district, street=street, phone=phone
            )
            p = s.profile(text=text, title=title, district=district, street=street, phone=phone)
            want = await _reference(probe, p, since=since, rules=rules)
            for principal in (None, staff):
                got = await similar._candidate_ids(
                    probe, p, since=since, rules=rules, principal=principal
                )
                assert got == want, (per_index, title)
            # The screen's one statement: the rows of those ids still open in the window.
            rows = await similar._staff_candidates(probe, p, since=since, rules=rules)
            open_ids = await Ticket.filter(
                id__in=list(want), status__in=similar.OPEN_VALUES, created_at__gte=since
            ).values_list("number", flat=True)
            assert sorted(c.number for c in rows) == sorted(open_ids), (per_index, title)
            compared += bool(want)
    # A ticket's own repeats leave the ticket itself out.
    own = similar.probe_of(await Ticket.get(number=made[1]["number"]))
    p = s.profile(text=own.text, title=own.title, street=own.street, phone=own.phone)
    since = now - timedelta(days=s.rules.window_days)
    rows = await similar._staff_candidates(own, p, since=since, rules=s.rules)
    assert rows and made[1]["number"] not in {c.number for c in rows}
    assert compared >= 8  # most probes find something: the comparison is not of empty sets


async def _scored_one_by_one(
    probe: similar.Probe, deployment: Deployment, *, now: Any, limit: int
) -> list[similar.Similar]:
    """What the screen answered before: every candidate read as a `Ticket`, `compare`d, all
    sorted by score and then by creation time, newest first."""
    s = similar.scorer(deployment)
    p = s.profile(
        text=probe.text,
        title=probe.title,
        address=probe.address,
        district=probe.district,
        street=probe.street,
        phone=probe.phone,
    )
    since = now - timedelta(days=s.rules.window_days)
    ids = await similar._candidate_ids(probe, p, since=since, rules=s.rules, principal=None)
    found = []
    for t in await Ticket.filter(
        id__in=list(ids), status__in=similar.OPEN_VALUES, created_at__gte=since
    ):
        m = compare(p, s.profile(**similar._candidate_inputs(t, False)), s.rules)
        if m.score >= s.rules.show_threshold:
            found.append(
                similar.Similar(t.number, t.title, t.status, m.score, m.reason, t.created_at)
            )
    found.sort(key=lambda f: (-f.score, -f.created_at.timestamp()))
    return found[:limit]


async def test_the_screen_lists_what_scoring_every_candidate_listed(
    world: World, deployment: Deployment
) -> None:
    """Candidates are ranked by score alone and only the listed ones get their reason and
    creation time: the same list, ties by time included (many equal scores here)."""
    for title, content, phone in TICKETS_MADE * 2:
        await world.create(
            title=title, content=content, complainant={"name": "市民", "phone": phone}
        )
    now = utcnow()
    for limit in (1, 2, 3, 10):
        for title, text, phone in PROBES + TICKETS_MADE[:4]:
            district, street = similar.place_of(deployment, f"{title}\n{text}", "")
            probe = similar.Probe(
                text=text, title=title, district=district, street=street, phone=phone
            )
            want = await _scored_one_by_one(probe, deployment, now=now, limit=limit)
            got = await similar.find_similar(
                probe=probe, deployment=deployment, now=now, limit=limit
            )
            assert got == want, (limit, title)


async def test_the_screen_sent_with_the_number_holds_what_a_screen_on_its_own_finds(
    world: World, deployment: Deployment
) -> None:
    """Intake sends the screen's read with the trip that takes the ticket's number: a new
    ticket is held, with the same candidates, exactly when the screen read alone finds some."""
    from hotline.domain.models import SimilarHold
    from hotline.domain.schemas import TicketCreate
    from hotline.services import repeat_holds, tickets

    for title, content, phone in TICKETS_MADE:
        await world.create(
            title=title, content=content, complainant={"name": "市民", "phone": phone}
        )
    actor = tickets.Actor(1, "op", "operator", None)
    outcomes = []
    for title, text, phone in PROBES + TICKETS_MADE[:3]:
        data = TicketCreate.model_validate(
            {
                "kind": "投诉",
                "title": title,
                "content": text,
                "complainant": {"name": "市民", "phone": phone or "13600000000"},
            }
        )
        now = utcnow()
        alone = await repeat_holds.screen(data=data, deployment=deployment, now=now)
        made = await tickets.create_ticket(
            data=data, actor=actor, now=now, deployment=deployment, auto_dispatch=True
        )
        hold = await SimilarHold.get_or_none(ticket_id=made.ticket.id)
        assert (hold.candidates if hold else []) == similar.as_dicts(alone), title
        if alone:
            assert made.ticket.status == "received"
        outcomes.append(bool(alone))
    assert any(outcomes) and not all(outcomes)
