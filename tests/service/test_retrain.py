"""Retraining on the city's own closed tickets changes what operators corrected."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classifier import load_model
from classifier.train import read_table, train_model
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.models import User
from hotline.domain.schemas import TicketCreate
from hotline.runtime.config import load_settings
from hotline.services import tickets as svc
from hotline.services.retrain import closed_ticket_rows, retrain_from_tickets
from hotline.services.units import sync_units
from hotline.services.users import create_user, principal_of
from hotline.startup.bootstrap import load_deployment

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "classifier" / "tickets.csv"
BIKES = "共享单车乱停放 小区门口共享单车乱停乱放，堵塞人行道和公交站台，行人只能走机动车道。"


async def _closed_ticket(
    deployment: Any, people: dict[str, Any], text: str, category: str, at: datetime
) -> None:
    title, content = text.split(" ", 1)
    t = (
        await svc.create_ticket(
            data=TicketCreate(kind="投诉", title=title, content=content),
            actor=svc.Actor.of(people["op"]),
            now=at,
            deployment=deployment,
            auto_dispatch=False,
        )
    ).ticket
    steps = [
        ("op", "dispatch", {"lead_unit": "JTJ", "category": category}),
        ("jtj", "sign", {}),
        ("jtj", "reply", {"result": "solved", "text": "已清理乱停放车辆并划定停放区。"}),
        ("op", "callback", {"contacted": True, "satisfaction": "满意"}),
        ("op", "close", {}),
    ]
    for i, (who, action, body) in enumerate(steps):
        await svc.perform_action(
            number=t.number,
            action=action,
            body=ACTION_BODIES[action].model_validate(body),
            principal=people[who],
            now=at + timedelta(hours=i + 1),
            deployment=deployment,
        )


async def test_retraining_learns_the_operators_correction(db: Any, tmp_path: Path) -> None:
    deployment = load_deployment(load_settings(), with_model=False)
    await sync_units(deployment.extras["units"])
    people = {}
    for name, role, unit in [("op", "operator", None), ("jtj", "unit", "JTJ")]:
        await create_user(
            username=name,
            role=role,
            password="secret-password",
            now=datetime(2026, 1, 1, tzinfo=UTC),
            unit_code=unit,
        )
        people[name] = principal_of(await User.get(username=name).prefetch_related("unit"))

    texts, labels = read_table(FIXTURE, "类别", ["标题", "内容"])
    before = train_model(texts, labels).predict(BIKES)
    assert before.category != "交通运输"  # the base corpus has no such class

    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    variants = [
        "共享单车乱停放 单车堆满人行道",
        "共享单车占用盲道 盲道上全是共享单车",
        "共享单车堵住公交站 公交站台被单车占满",
        "小区门口单车乱停 共享单车挡住小区出入口",
        "地铁口共享单车太多 地铁站出口单车乱放无人管理",
        "共享单车损坏堆放 损坏的共享单车长期堆在路边",
    ]
    for i, text in enumerate(variants):
        await _closed_ticket(deployment, people, text, "交通运输", start + timedelta(days=i))

    rows, categories = await closed_ticket_rows()
    assert len(rows) == 6 and set(categories) == {"交通运输"}
    result = await retrain_from_tickets(
        out=tmp_path / "model", base_texts=texts, base_labels=labels
    )
    assert result.ticket_rows == 6 and result.base_rows == len(texts)
    after = load_model(tmp_path / "model").predict(BIKES)
    assert after.category == "交通运输"


def _main(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_retrain_command(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite://{tmp_path / 'h.db'}"}
    empty = _main("retrain", "--out", str(tmp_path / "m0"), env=env)
    assert empty.returncode == 2 and "无法训练" in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1
    out = _main(
        "retrain",
        "--data",
        str(FIXTURE),
        "--label-col",
        "类别",
        "--text-col",
        "标题",
        "--text-col",
        "内容",
        "--out",
        str(tmp_path / "m1"),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "40 条基础语料和 0 条已办结工单" in out.stdout
    assert load_model(tmp_path / "m1").predict("公司拖欠工资三个月").category == "劳动和社会保障"


async def test_too_few_rows_says_how_many_came_from_the_database_and_the_file(
    db: Any, tmp_path: Path
) -> None:
    import pytest

    from classifier.train import DataError
    from hotline.domain.models import Ticket

    at = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(3):
        await Ticket.create(
            number=f"20260301-{i + 1:05d}",
            query_code="ABCDEF",
            channel="phone",
            kind="投诉",
            urgency="一般",
            category="卫生计生",
            title="医院挂号难",
            content="挂号排队两个小时。",
            status="closed",
            created_at=at,
            updated_at=at,
        )
    base_labels = ["城乡建设"] * 6 + ["卫生计生"]
    with pytest.raises(DataError) as refused:
        await retrain_from_tickets(
            out=tmp_path / "model",
            base_texts=["小区物业不作为"] * len(base_labels),
            base_labels=base_labels,
        )
    assert str(refused.value) == (
        "类别行数不足：「卫生计生」共 4 行（数据库已办结工单 3 行，文件 1 行），每类至少需要 5 行"
    )
    assert not (tmp_path / "model").exists()
