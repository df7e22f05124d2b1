"""Demo accounts and a few hundred tickets at every stage, driven through the real services."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.auth import hash_password, new_password
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTION_BODIES, OPEN_STATUSES, Status
from hotline.domain.models import Ticket, TicketUnit, Unit, User
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.runtime.deployment import Deployment
from hotline.services import staff_mail
from hotline.services import tickets as svc
from hotline.services.users import create_user, principal_of

# The first demo tickets are driven to these stages (see `_advance`): 办理中, 并单 (into the
# one before), 退单, 挂起, 延期审核中, 已回复, 已回访, 办结; the rest are spread at random.
FORCED_STAGES = (0.27, 0.06, 0.12, 0.37, 0.42, 0.5, 0.61, 0.9)
# The ticket after them is a 举报 signed for at 市纪委, so that unit has work to show.
REPORT_STAGE = 0.27

DEMO_ACCOUNTS = [
    ("operator", "operator", None, "话务员小王"),
    ("zjj", "unit", "ZJJ", "住建局 李科长"),
    ("rsj", "unit", "RSJ", "人社局 张科长"),
    ("supervisor", "supervisor", None, "督办科 陈主任"),
    ("admin", "admin", None, "系统管理员"),
    # One district, two streets, two communities each: 下派 down the hierarchy.
    ("a3", "unit", "A3", "A3区 值班员"),
    ("hanpu", "unit", "HANPU", "含浦街道 周主任"),
    ("yanghu", "unit", "YANGHU", "洋湖街道 吴主任"),
    ("xuetangpo", "unit", "HANPU_XTP", "学堂坡社区 刘书记"),
    ("fengxiangyuan", "unit", "HANPU_FXY", "枫香园社区 赵书记"),
    ("xiangdi", "unit", "YANGHU_XT", "湘堤社区 孙书记"),
    ("dajiahu", "unit", "YANGHU_DJ", "大家湖村 钱主任"),
]
# Tickets at the hierarchy's steps: (lead, assisting units, [(unit, action, body)…]).
HIERARCHY_TICKETS: list[tuple[str, str, str, list[str], list[tuple[str, str, dict[str, Any]]]]] = [
    (
        "含浦街道学堂坡小区楼道堆放杂物",
        "学堂坡小区3栋楼道长期堆放杂物，存在消防隐患，多次向物业反映无果。",
        "HANPU",
        [],
        [("HANPU", "sign", {}), ("HANPU", "subdispatch", {"unit": "HANPU_XTP"})],
    ),
    (
        "枫香园小区广场舞噪音扰民",
        "枫香园小区广场每晚九点后仍有广场舞，音响声音很大，影响居民休息。",
        "HANPU",
        [],
        [
            ("HANPU", "sign", {}),
            ("HANPU", "subdispatch", {"unit": "HANPU_FXY"}),
            ("HANPU_FXY", "sub-sign", {}),
            (
                "HANPU_FXY",
                "sub-reply",
                {"result": "solved", "text": "社区已与广场舞队约定晚九点前结束并调低音量。"},
            ),
        ],
    ),
    (
        "湘堤路井盖缺失",
        "湘堤路与洋湖大道交叉口附近一处井盖缺失，夜间行人容易跌落。",
        "YANGHU",
        ["ZJJ", "SJJ"],
        [
            ("YANGHU", "sign", {}),
            ("YANGHU", "subdispatch", {"unit": "YANGHU_XT"}),
            ("YANGHU_XT", "sub-sign", {}),
            (
                "ZJJ",
                "assist-opinion",
                {"text": "已通知市政养护单位今日内补装井盖。", "done": False},
            ),
        ],
    ),
    (
        # Two levels: the district passes to its street, the street on to its community.
        "学堂坡社区健身器材损坏",
        "学堂坡社区广场的健身器材有两台断裂，老人锻炼时容易受伤，希望尽快维修或拆除。",
        "A3",
        [],
        [
            ("A3", "sign", {}),
            ("A3", "subdispatch", {"unit": "HANPU"}),
            ("HANPU", "sub-sign", {}),
            ("HANPU", "subdispatch", {"unit": "HANPU_XTP"}),
        ],
    ),
]

# Demo texts written for this project (not copied from any data set).
# An official accused: the 举报 the avoidance rule sends to 市纪委 (the one in hand there).
OFFICIAL_REPORT = (
    "举报",
    "{place}城管执法队员收受好处",
    "举报{place}城管执法队员在拆除违建中收受商户好处费，选择性执法，请纪检部门查处。",
)
TEMPLATES: list[tuple[str, str, str]] = [
    (
        "投诉",
        "{place}附近工地夜间施工噪音扰民",
        "{place}附近的工地每天晚上十一点以后还在施工，噪音很大，老人小孩无法休息，希望有关部门尽快处理。",
    ),
    (
        "求助",
        "公司拖欠工资三个月未发",
        "本人在{place}一家装修公司工作，公司已经拖欠工资三个月，老板一直推脱，请劳动监察部门帮忙讨薪。",
    ),
    (
        "投诉",
        "{place}小区物业不作为",
        "{place}小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理，业主意见很大。",
    ),
    (
        "咨询",
        "孩子入学需要什么材料",
        "孩子今年满六岁，户口在{place}，想咨询小学入学报名需要准备哪些材料，什么时候开始报名。",
    ),
    (
        "投诉",
        "{place}路段占道经营严重",
        "{place}路段每天晚上有大量流动摊贩占道经营，堵塞交通，油烟污染严重，希望城管部门整治。",
    ),
    (
        "举报",
        "{place}一家餐馆使用过期食材",
        "我发现{place}附近一家餐馆后厨卫生很差，还在使用过期食材，请市场监管部门检查。",
    ),
    OFFICIAL_REPORT,
    (
        "投诉",
        "{place}附近工厂排放刺鼻废气",
        "{place}附近一家工厂经常在夜间排放刺鼻气体，周边居民喉咙不舒服，请环保部门调查。",
    ),
    (
        "求助",
        "{place}小区停水两天无人处理",
        "{place}小区从前天开始停水，至今没有恢复，也没有任何通知，居民生活非常不便，请尽快处理。",
    ),
    (
        "建议",
        "建议在{place}增设公交站点",
        "{place}周边居民很多，但最近的公交站要走二十分钟，建议公交公司在这里增设站点或调整线路。",
    ),
    (
        "投诉",
        "医院挂号难排队时间长",
        "在{place}附近的医院看病，挂号排队要两个多小时，自助机经常故障，希望卫健部门督促改进。",
    ),
    (
        "咨询",
        "社保转移接续怎么办理",
        "我从外地来A市工作，之前在老家交了五年社保，想咨询社保转移接续需要到哪里办理，要带什么材料。",
    ),
    (
        "投诉",
        "{place}违章搭建影响采光",
        "{place}一楼住户在院子里违章搭建彩钢房，严重影响楼上采光和消防通道，请相关部门依法拆除。",
    ),
    (
        "表扬",
        "感谢{place}社区工作人员",
        "{place}社区工作人员上门帮助行动不便的老人办理业务，服务热情周到，特此表扬。",
    ),
    (
        "投诉",
        "培训机构退费难",
        "在{place}的一家培训机构给孩子报了课，机构突然停课，申请退费一直拖着不办，请教育部门处理。",
    ),
    (
        "求助",
        "{place}路灯损坏多日",
        "{place}一段路的路灯坏了一个多星期，晚上一片漆黑，行人和电动车很不安全，请尽快维修。",
    ),
    (
        "投诉",
        "出租车拒载绕路",
        "昨晚在{place}打车，司机先是拒载，后来又故意绕路多收费，请交通部门查处。",
    ),
]


# The statuses in which a ticket waits on its unit (signing, handling, a pause it asked for),
# and those in which it waits on the centre: what "work to do" means in the demo's output.
UNIT_TURN = frozenset({Status.DISPATCHED, Status.HANDLING, Status.PAUSED})
CENTRE_TURN = OPEN_STATUSES - UNIT_TURN

# What the centre lets a unit read of a demo 举报: written afresh, nothing of the reporter's.
CONFIRMED_TEXT = {
    "title": "举报线索：餐饮单位食品安全问题",
    "dispatch_text": (
        "群众举报本市一家餐馆涉嫌使用过期食材，线索已由热线中心核实整理，请依职责核查处理。"
    ),
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its password (new, or reset by this run)."""

    username: str
    role: str
    unit: str | None
    password: str
    created: bool
    name: str = ""
    # Open tickets waiting on this account's side (its unit, or the centre for operators).
    open_tickets: int | None = None


async def load_demo(
    *, deployment: Deployment, tickets: int, seed: int = 12345
) -> list[DemoAccount]:
    """Create or reset the demo accounts, add demo tickets once; return accounts + passwords.

    Besides the named accounts, every unit the demo's tickets reach (lead or assisting, the
    市纪委 of a 举报 included) gets a `unit_<code>` account named after the unit; the unit
    accounts that have open tickets come back with a fresh password and their count. Passwords
    are reset on every run, so what is printed always works, also against a server already
    running on the same database.
    """
    now = utcnow()
    existed = set(await User.all().values_list("username", flat=True))
    accounts = []
    for username, role, unit, name in DEMO_ACCOUNTS:
        password = new_password()
        created = await _ensure_account(username, role, unit, name, password, now)
        accounts.append(DemoAccount(username, role, unit, password, created, name=name))
    if await Ticket.all().count() < tickets // 2:
        await _demo_tickets(deployment, tickets, random.Random(seed), now)
        await _hierarchy_tickets(deployment, now)
    await load_knowledge(deployment, now)
    centre = await Ticket.filter(status__in=list(CENTRE_TURN)).count()
    named_units = {a.unit for a in accounts if a.unit}
    counts = await _unit_work()
    shown = []
    for a in accounts:
        if a.role == "operator":
            a = replace(a, open_tickets=centre)
        elif a.unit:
            a = replace(a, open_tickets=counts.get(a.unit, 0))
        shown.append(a)
    for unit in await Unit.filter(id__in=await _reached_unit_ids()).order_by("code"):
        if unit.code in named_units:
            continue
        username, name = unit_username(unit.code), f"{unit.name} 值班员"
        if not counts.get(unit.code):
            # No work: the account exists (its name made readable), its password is not shown.
            await _ensure_account(username, "unit", unit.code, name, None, now)
            continue
        password = new_password()
        await _ensure_account(username, "unit", unit.code, name, password, now)
        # Accounts made while the tickets were loaded are new to whoever reads the output too.
        created = username not in existed
        shown.append(
            DemoAccount(username, "unit", unit.code, password, created, name, counts[unit.code])
        )
    return shown


KNOWLEDGE_FILE = "knowledge.csv"


async def load_knowledge(deployment: Deployment, now: datetime) -> int:
    """The demo's knowledge base from data/knowledge.csv, once (an empty knowledge base only)."""
    from hotline.domain.models import KbEntry
    from hotline.services.knowledge_io import import_file

    path = deployment.data_dir / KNOWLEDGE_FILE
    if not path.exists() or await KbEntry.exists():
        return 0
    report = await import_file(path, actor="演示数据", now=now, words=deployment.words())
    return report.created


def unit_username(code: str) -> str:
    """The demo's account for a unit without a named one: unit_<code>."""
    return f"unit_{code.lower()}"


async def _ensure_account(
    username: str,
    role: str,
    unit: str | None,
    name: str,
    password: str | None,
    now: datetime,
) -> bool:
    """Create the account, or enable it, rename it and (given a password) reset it; True if new.

    Renaming fixes databases made by earlier demos, whose unit accounts were named by code.
    """
    user = await User.get_or_none(username=username)
    if user is None:
        await create_user(
            username=username,
            role=role,
            password=password or new_password(),
            now=now,
            unit_code=unit,
            display_name=name,
            email=f"{username}@demo.example",
        )
        return True
    changes: dict[str, Any] = {"active": True, "display_name": name}
    if password is not None:
        changes["password_hash"] = hash_password(password)
    await User.filter(id=user.id).update(**changes)
    staff_mail.forget()
    return False


async def _reached_unit_ids() -> list[int]:
    """Every unit a demo ticket was ever dispatched to, as lead or assisting unit."""
    return await TicketUnit.all().distinct().values_list("unit_id", flat=True)


async def _unit_work() -> dict[str, int]:
    """Open tickets waiting on each unit (as lead, assisting unit or holding a 下派), by
    unit code."""
    rows = await TicketUnit.filter(active=True, ticket__status__in=list(UNIT_TURN)).values_list(
        "unit__code", "ticket_id"
    )
    tickets: dict[str, set[int]] = {}
    for code, ticket_id in rows:
        tickets.setdefault(code, set()).add(ticket_id)
    return {code: len(ids) for code, ids in tickets.items()}


def _places(deployment: Deployment) -> list[str]:
    with open(deployment.data_dir / "places.toml", "rb") as fh:
        doc = tomllib.load(fh)
    names = [
        p["name"] for p in doc.get("place", []) if p.get("kind") in ("compound", "road", "market")
    ]
    return names or ["A市"]


async def _demo_tickets(
    deployment: Deployment, count: int, rng: random.Random, now: datetime
) -> None:
    users = {
        u.username: u
        for u in await User.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).prefetch_related(
            "unit"
        )
    }
    operator = principal_of(users["operator"])
    supervisor = principal_of(users["supervisor"])
    places = _places(deployment)
    unit_users: dict[str, Any] = {}
    previous: str | None = None
    handled = [t for t in TEMPLATES if t[0] not in ("咨询", "举报", "表扬")]
    for i in range(count):
        forced = FORCED_STAGES[i] if i < len(FORCED_STAGES) else None
        kind, title, content = rng.choice(handled if forced is not None else TEMPLATES)
        place = rng.choice(places)
        if i == len(FORCED_STAGES):  # one 举报 in hand at 市纪委, whatever the dice say
            forced = REPORT_STAGE
            kind, title, content = OFFICIAL_REPORT
            # Officials of a street office accused: it and its district are avoided, so the
            # router proposes the supervising unit.
            streets = [
                u.name.removesuffix("办事处") for u in deployment.units if u.kind == "street"
            ]
            place = rng.choice(streets or places)
        created = now - timedelta(days=rng.uniform(0, 40), minutes=rng.randint(0, 600))
        if forced is not None:  # old enough for every step to have happened
            created = now - timedelta(days=8, minutes=rng.randint(0, 600))
        data = TicketCreate(
            channel=rng.choice(["phone", "phone", "phone", "web", "wechat"]),
            kind=kind,  # type: ignore[arg-type]
            urgency="紧急" if rng.random() < 0.05 else "一般",
            title=title.format(place=place),
            content=content.format(place=place),
            location={"address": place},  # type: ignore[arg-type]
            complainant={
                "name": rng.choice(["张先生", "李女士", "王先生", "刘女士", "陈先生"]),
                "phone": f"13{rng.randint(100000000, 999999999)}",
            },  # type: ignore[arg-type]
        )
        record = await svc.create_ticket(
            data=data,
            actor=svc.Actor.of(operator),
            now=created,
            deployment=deployment,
            auto_dispatch=True,
        )
        await _advance(
            record.ticket,
            rng,
            created,
            now,
            deployment,
            operator,
            supervisor,
            unit_users,
            stage=forced,
            merge_into=previous,
        )
        if (await Ticket.get(id=record.ticket.id)).status in OPEN_STATUSES:
            previous = record.ticket.number


async def _hierarchy_tickets(deployment: Deployment, now: datetime) -> None:
    """A few tickets at the hierarchy's steps: passed down to a community, answered upward
    and waiting for the street's review, an assisting unit's opinion given."""
    operator = principal_of(await User.get(username="operator").prefetch_related("unit"))
    cache: dict[str, Any] = {}
    for i, (title, content, lead, assisting, steps) in enumerate(HIERARCHY_TICKETS):
        at = now - timedelta(days=1, hours=6 - i)
        data = TicketCreate.model_validate(
            {
                "kind": "投诉",
                "category": "城乡建设",
                "title": title,
                "content": content,
                "complainant": {"name": "周女士", "phone": f"1390000{i:04d}"},
            }
        )
        record = await svc.create_ticket(
            data=data,
            actor=svc.Actor.of(operator),
            now=at,
            deployment=deployment,
            auto_dispatch=False,
        )
        number = record.ticket.number
        dispatch = {"lead_unit": lead, "assisting_units": assisting}
        plan = [("", "dispatch", dispatch), *steps]
        for code, action, body in plan:
            at += timedelta(hours=1)
            principal = await _unit_principal(code, cache) if code else operator
            await svc.perform_action(
                number=number,
                action=action,
                body=ACTION_BODIES[action].model_validate(body),
                principal=principal,
                now=at,
                deployment=deployment,
            )


async def _unit_principal(code: str, cache: dict[str, Any]) -> Any:
    """A staff account of the unit (the named demo account, else unit_<code>, created on first
    use) to act for it in the demo."""
    if code not in cache:
        named = [a[0] for a in DEMO_ACCOUNTS if a[2] == code]
        username = named[0] if named else unit_username(code)
        user = await User.get_or_none(username=username).prefetch_related("unit")
        if user is None:
            unit = await Unit.get(code=code)
            await _ensure_account(username, "unit", code, f"{unit.name} 值班员", None, utcnow())
            user = await User.get(username=username).prefetch_related("unit")
        cache[code] = principal_of(user)
    return cache[code]


async def _advance(
    ticket: Ticket,
    rng: random.Random,
    created: datetime,
    now: datetime,
    deployment: Deployment,
    operator: Any,
    supervisor: Any,
    cache: dict[str, Any],
    *,
    stage: float | None = None,
    merge_into: str | None = None,
) -> None:
    """Walk a ticket some way along its life, each step a few hours after the last.

    `stage` (random unless given) decides how far: 退单, 并单, 挂起 and a pending 延期申请
    each have a band of their own, so the demo shows every status.
    """
    at = created
    stage = rng.random() if stage is None else stage
    plan: list[tuple[str, str, dict[str, Any]]] = []
    if 0.05 <= stage < 0.08 and merge_into:
        plan.append(("operator", "merge", {"into": merge_into}))
        stage = -1.0  # nothing after a merge
    elif ticket.status == "received":
        if ticket.kind == "咨询" and stage < 0.5:
            plan.append(("operator", "answer", {"text": "已按政策口径当场答复市民。"}))
        elif stage < 0.8:
            lead = (ticket.routing or {}).get("lead_unit") or "ZJJ"
            if ticket.confidential:
                # A 举报 reaches its unit (市纪委) only in words a person at the centre wrote.
                plan.append(("operator", "confirm-dispatch-text", CONFIRMED_TEXT))
            plan.append(("operator", "dispatch", {"lead_unit": lead}))
    if 0.1 <= stage < 0.15:
        plan.append(("unit", "reject", {"reason": "该事项不属于本单位职责，请改派"}))
    if stage > 0.25:
        plan.append(("unit", "sign", {}))
    if 0.36 <= stage < 0.4:
        plan.append(("unit", "pause", {"reason": "市民外出，约定下周上门核实"}))
        if stage < 0.38:  # the centre approved it; above, the request waits in its queue
            plan.append(("operator", "approve-pause", {}))
        stage = 0.0  # waits paused
    elif 0.4 <= stage < 0.44:
        plan.append(
            ("unit", "request-extension", {"reason": "需要协调供水公司排查管网", "days": 5})
        )
        stage = 0.0  # waits for the centre's decision
    if 0.3 < stage < 0.35:
        plan.append(
            ("unit", "request-extension", {"reason": "需要现场核查并协调多个部门", "days": 3})
        )
        plan.append(("operator", "approve-extension", {}))
    if stage > 0.45:
        plan.append(
            (
                "unit",
                "reply",
                {
                    "result": rng.choice(["solved", "solved", "partly", "unsolvable"]),
                    "text": "经现场核实，已联系相关责任方整改，并向市民反馈处理情况。",
                },
            )
        )
    if stage > 0.45 and svc.reviewed_kind(ticket.kind, deployment):
        # 答复审核: the centre releases the answer; a few wait in the approvals queue.
        if stage < 0.5:
            stage = 0.0
        else:
            plan.append(("operator", "approve-reply", {}))
    if stage > 0.6:
        satisfaction = rng.choice(["满意", "满意", "基本满意", "不满意"])
        plan.append(
            (
                "operator",
                "callback",
                {
                    "contacted": True,
                    "satisfaction": satisfaction,
                    "solved": satisfaction != "不满意",
                },
            )
        )
        if 0.6 < stage < 0.62:
            pass  # called back, not yet closed
        else:
            plan.append(
                (
                    "operator",
                    "close" if satisfaction != "不满意" else "reopen",
                    {} if satisfaction != "不满意" else {"reason": "市民不满意，要求重新办理"},
                )
            )
    if 0.2 < stage < 0.25:
        plan.append(("supervisor", "urge", {"reason": "请加快办理进度"}))
    for who, action, body in plan:
        at = at + timedelta(hours=rng.uniform(1, 30))
        if at >= now:
            break
        fresh = await Ticket.get(id=ticket.id)
        if who == "unit":
            if fresh.lead_unit_id is None:
                break
            unit = await Unit.get(id=fresh.lead_unit_id)
            principal = await _unit_principal(unit.code, cache)
        else:
            principal = operator if who == "operator" else supervisor
        try:
            await svc.perform_action(
                number=fresh.number,
                action=action,
                body=ACTION_BODIES[action].model_validate(body),
                principal=principal,
                now=at,
                deployment=deployment,
            )
        except HotlineError:
            break
