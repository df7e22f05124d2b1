"""The radar's stored key terms (radar_terms): a window reads what an earlier one segmented,
with the same clusters, and a ticket whose words changed is segmented again (issue #20)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.domain.models import RadarTerms, Ticket
from hotline.domain.radar import load_radar_config
from hotline.domain.timefmt import utcnow
from hotline.services import radar as radar_service
from hotline.services.radar import run_radar
from tests.api.conftest import World
from tests.api.test_radar_api import make_outage

# The upsert is SQL of its own: both databases.
pytestmark = pytest.mark.backends


async def _window(deployment: Any, end: datetime | None = None) -> list[Any]:
    """The last 24 hours' clusters. A cluster's heat decays with the time since its last
    ticket, so runs compared for equality pass the same `end`."""
    end = end or utcnow() + timedelta(seconds=1)
    run = await run_radar(
        start=end - timedelta(hours=24),
        end=end,
        config=load_radar_config(deployment.data_dir),
        gazetteer=deployment.router.routing.gazetteer,
    )
    return run.clusters


def _count_segmenting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Forget this process's memory (as another worker, or a restart) and count what is
    segmented from now on."""
    radar_service._features.clear()
    seen: list[str] = []
    real = radar_service.tokenize

    def counting(text: str, **kw: Any) -> list[str]:
        seen.append(text)
        return real(text, **kw)

    monkeypatch.setattr(radar_service, "tokenize", counting)
    return seen


async def test_a_second_process_reads_the_stored_terms_and_finds_the_same_clusters(
    world: World, deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = await make_outage(world)
    radar_service._features.clear()
    end = utcnow() + timedelta(seconds=1)
    first = await _window(deployment, end)
    assert sorted(first[0].tickets) == sorted(numbers)
    assert await RadarTerms.all().count() == await Ticket.all().count()

    segmented = _count_segmenting(monkeypatch)
    again = await _window(deployment, end)
    assert segmented == []  # nothing segmented twice
    assert again == first

    # Without the stored rows the radar segments everything again, to the same clusters.
    await RadarTerms.all().delete()
    radar_service._features.clear()
    assert await _window(deployment, end) == first
    # Every ticket with words the radar may read (the 举报 has none before its 转办内容).
    assert len(segmented) == len(numbers) + 1


async def test_a_changed_ticket_is_segmented_again(
    world: World, deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = await make_outage(world)
    radar_service._features.clear()
    first = await _window(deployment)
    assert numbers[0] in first[0].tickets

    # The first caller's ticket is corrected: it was about the square dancing, not the water.
    await Ticket.filter(number=numbers[0]).update(
        title="广场舞噪音", content="板桥小区广场舞音响太吵，晚上十点还在跳舞"
    )
    segmented = _count_segmenting(monkeypatch)
    after = await _window(deployment)
    assert len(segmented) == 1 and "广场舞" in segmented[0]
    outage = next(c for c in after if "停水" in c.terms)
    assert numbers[0] not in outage.tickets and outage.count == 4
    noise = next(c for c in after if numbers[0] in c.tickets)
    assert "广场舞" in noise.terms
    ticket = await Ticket.get(number=numbers[0])
    row = await RadarTerms.get(ticket_id=ticket.id)
    assert "广场舞" in row.tokens.split("\x1f") and "停水" not in row.tokens.split("\x1f")


async def test_a_report_joins_once_its_dispatch_text_is_confirmed(
    world: World, deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = await make_outage(world)
    radar_service._features.clear()
    first = await _window(deployment)
    report = await Ticket.get(kind="举报")
    assert all(report.number not in c.tickets for c in first)
    # Its 转办内容 confirmed: what a unit may read now gives the radar its words.
    await Ticket.filter(id=report.id).update(
        dispatch_title="小区停水期间加收费用",
        dispatch_text="板桥小区停水期间物业收取自来水加压费",
        dispatch_confirmed_at=utcnow(),
    )
    segmented = _count_segmenting(monkeypatch)
    after = await _window(deployment)
    assert len(segmented) == 1 and "李秀英" not in segmented[0]
    outage = next(c for c in after if numbers[1] in c.tickets)
    assert report.number in outage.tickets
