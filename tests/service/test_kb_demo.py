"""The demo's knowledge base (data/knowledge.csv): loaded once, and it answers the demo's calls."""

from __future__ import annotations

from typing import Any

from hotline.commands.demo import load_knowledge
from hotline.domain.models import KbEntry
from hotline.domain.timefmt import utcnow
from hotline.runtime.deployment import Deployment
from hotline.services.knowledge_search import suggest
from hotline.services.units import sync_units


async def test_demo_knowledge_loads_once_and_is_suggested(db: Any, deployment: Deployment) -> None:
    await sync_units(deployment.extras["units"])
    loaded = await load_knowledge(deployment, utcnow())
    assert loaded >= 20
    assert await load_knowledge(deployment, utcnow()) == 0  # a second demo run adds nothing
    assert await KbEntry.filter(status="published").count() >= 20
    assert await KbEntry.filter(status="draft").exists()
    calls = {
        "我的社保卡昨天在公交车上丢了，想问怎么补办，要多长时间": "社保卡补办与挂失",
        "楼下工地每天晚上十一点多还在施工，噪音很大睡不着": "夜间施工噪音扰民",
        "我在外地住院了，医保能不能报销，要办什么手续": "医保异地就医备案",
        "公司已经三个月没发工资了，老板一直拖着": "被拖欠工资怎么办",
    }
    for text, title in calls.items():
        found = await suggest(text=text, now=utcnow())
        assert found and found[0].entry.title == title, (text, [s.entry.title for s in found])
