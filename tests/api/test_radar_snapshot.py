"""The radar's stored default window: the API answers from it with when it was computed, a
ticket created since appears after the next refresh, two sweepers compute it once, and
acting on a stored cluster acts on the tickets as they are now."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.models import RadarAlert, RadarSnapshot
from hotline.domain.radar import load_radar_config
from hotline.domain.timefmt import utcnow
from hotline.services.radar_actions import batch_dispatch
from hotline.services.radar_snapshot import refresh_snapshot
from tests.api.conftest import World
from tests.api.test_radar_api import OUTAGE, _principal, make_outage, radar

# The claim is a conditional UPDATE and the incremental read is SQL of its own: both databases.
pytestmark = pytest.mark.backends


async def refresh(deployment: Any, *, minutes: float = 0, owner: str = "sweeper-a") -> Any:
    return await refresh_snapshot(
        now=utcnow() + timedelta(minutes=minutes),
        config=load_radar_config(deployment.data_dir),
        gazetteer=deployment.router.routing.gazetteer,
        owner=owner,
    )


async def test_the_api_answers_from_the_stored_window_until_the_next_refresh(
    world: World, deployment: Any
) -> None:
    numbers = await make_outage(world)
    await refresh(deployment)
    body = (await radar(world)).json()
    assert body["stored"] is True and body["stale"] is False
    assert body["computed_at"] == body["to"]
    [outage] = [c for c in body["clusters"] if c["place"] == "板桥小区"]
    assert outage["tickets"] == numbers
    # A sixth caller after the snapshot: not in the stored answer …
    late = await world.create(
        title="小区停水",
        content=OUTAGE[0],
        location={"address": "板桥小区"},
        complainant={"name": "居民9", "phone": "13900000009"},
    )
    [still] = [c for c in (await radar(world)).json()["clusters"] if c["place"] == "板桥小区"]
    assert still["tickets"] == numbers
    # … and in it after the worker's next pass (5 minutes on, read incrementally).
    assert await refresh(deployment, minutes=5) is not None
    after = (await radar(world)).json()
    [grown] = [c for c in after["clusters"] if c["place"] == "板桥小区"]
    assert grown["tickets"] == [*numbers, late["number"]] and grown["id"] == outage["id"]
    assert after["computed_at"] > body["computed_at"]
    # The same window asked for explicitly (as the page's form sends it) is the stored one;
    # another window is computed for the request.
    same = await radar(world, **{"from": after["from"][:16], "to": after["to"][:16]})
    assert same.json()["stored"] is True
    other = await radar(world, **{"from": after["from"][:10]})
    assert other.json()["stored"] is False


async def test_two_sweepers_at_once_compute_the_window_once(world: World, deployment: Any) -> None:
    await make_outage(world)
    results = await asyncio.gather(
        refresh(deployment, owner="sweeper-a"), refresh(deployment, owner="sweeper-b")
    )
    assert sorted(r is None for r in results) == [False, True]
    row = await RadarSnapshot.get(name="default")
    assert row.runs == 1 and row.claimed_until is None
    # A minute later the stored window is fresh: neither computes it again.
    assert await refresh(deployment, minutes=1, owner="sweeper-b") is None
    assert (await RadarSnapshot.get(name="default")).runs == 1


async def test_a_stored_cluster_is_dispatched_as_its_tickets_are_now(
    world: World, deployment: Any
) -> None:
    numbers = await make_outage(world)
    await refresh(deployment)
    [outage] = [c for c in (await radar(world)).json()["clusters"] if c["place"] == "板桥小区"]
    # Since the snapshot, one member was merged into another.
    await world.act(numbers[4], "merge", "sup", {"into": numbers[0]})
    outcome = await batch_dispatch(
        numbers=outage["tickets"],
        lead_unit="ZJJ",
        principal=await _principal("sup"),
        deployment=deployment,
    )
    assert outcome.done == numbers[:4]
    assert list(outcome.refused) == [numbers[4]] and outcome.refused[numbers[4]]
    # The next pass reads the merged ticket again (its merge is an event) and leaves it out.
    await refresh(deployment, minutes=5)
    [now] = [c for c in (await radar(world)).json()["clusters"] if c["place"] == "板桥小区"]
    assert now["tickets"] == numbers[:4]


async def test_the_sweepers_pass_stores_the_window_and_alerts_a_burst_once(
    world: World, deployment: Any
) -> None:
    from hotline.startup.workers import radar_pass

    await make_outage(world)
    assert len(await radar_pass(deployment)) == 1  # the alert, from the stored window's tickets
    assert await radar_pass(deployment) == []  # once per cluster
    assert await RadarAlert.all().count() == 1
    body = (await radar(world)).json()
    assert body["stored"] is True and body["clusters"][0]["place"] == "板桥小区"
