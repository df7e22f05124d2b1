"""Fill a database with a realistic history of N tickets over D days, for the scale bench.

    python bench/generate.py --tickets 1000000 --days 365 \
        --database-url sqlite:////work/scale/gen_1m.db
    python bench/generate.py --tickets 1000000 --days 365 \
        --database-url postgres://postgres@127.0.0.1:5432/gen_1m

The schema comes from the project's own migrations (`open_database`), the units from
data/units.toml (`sync_units`), one account per unit plus an operator, a supervisor and an
admin (all with the password printed at the end, hashed with cheap argon2 parameters).
Then tickets are written in chunks of plain tuples: `executemany` on SQLite, `COPY`
(asyncpg `copy_records_to_table`) on PostgreSQL, with the tables' secondary indexes dropped
during the load and re-created from their own definitions afterwards.

What a ticket looks like follows the action table (hotline.domain.lifecycle): every event
with its from/to status and payload, the SLA clocks with due times from the deployment's
policies and working-day calendar (`sla.clock.start`), warned/breached as the sweeper would
have left them at `--now`, the unit links (inactive after 改派), `next_due_at`, and the
rate rows computed by the project's pure `hotline.reporting.unit_rates.ticket_rate_rows`.
The mix: ~20% open (≈15% of those overdue), 30% of callers ring again (same phone), repeat
tickets merged (并单) into the caller's earlier one, 退单 → 改派, extensions, pauses,
urging, callbacks, 重办. Texts come from the shared raw messages when present
(/work/shared/data/raw, never copied into the repository), otherwise from bench templates.

Columns are taken from the models' `_meta` at run time, so a column another change adds
with a default is filled with that default.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import sqlite3
import sys
import time
import tomllib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hotline.domain.models import (  # noqa: E402
    RateAssignment,
    RateCallback,
    Ticket,
    TicketClock,
    TicketEvent,
    TicketUnit,
)
from hotline.domain.timefmt import SHANGHAI  # noqa: E402
from hotline.domain.worklist import marks_of  # noqa: E402
from hotline.reporting.unit_rates import (  # noqa: E402
    RATE_ACTIONS,
    RateClock,
    RateEvent,
    ticket_rate_rows,
)
from hotline.services.numbering import QUERY_ALPHABET  # noqa: E402
from sla.clock import start as start_clock  # noqa: E402
from sla.limits import compute_due, parse_limit  # noqa: E402

RAW_MESSAGES = Path("/work/shared/data/raw/tipdm2020_messages_with_replies.csv")
PASSWORD = "bench-password-2026"
CHUNK = 20_000
TABLES = (
    "ticket",
    "ticket_unit",
    "ticket_event",
    "ticket_clock",
    "rate_assignment",
    "rate_callback",
)
MODELS = {
    "ticket": Ticket,
    "ticket_unit": TicketUnit,
    "ticket_event": TicketEvent,
    "ticket_clock": TicketClock,
    "rate_assignment": RateAssignment,
    "rate_callback": RateCallback,
}
# The columns the generator writes itself, in the order of its tuples.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": (
        "id", "number", "query_code", "channel", "kind", "urgency", "category", "title",
        "content", "dispatch_text", "dispatch_title", "dispatch_confirmed_at", "address",
        "district", "street", "complainant_name", "complainant_phone", "anonymous",
        "confidential", "attachments", "status", "lead_unit_id", "routing", "needs_review",
        "merged_into_id", "result", "satisfaction", "created_by_id", "created_at",
        "updated_at", "closed_at", "next_due_at", "version",
    ),
    "ticket_unit": (
        "id", "ticket_id", "unit_id", "role", "active", "created_at", "status", "next_due_at",
        "ticket_created_at", "supervised", "reopened", "answered",
    ),
    "ticket_event": (
        "id", "ticket_id", "action", "actor_id", "actor_name", "actor_role", "actor_unit_id",
        "from_status", "to_status", "payload", "public", "created_at",
    ),
    "ticket_clock": (
        "id", "ticket_id", "kind", "generation", "current", "is_open", "state", "limit",
        "started_at", "due_at", "warn_at", "provisional", "warned", "breached", "met_at",
        "detail",
    ),
    "rate_assignment": (
        "id", "ticket_id", "ordinal", "unit", "dispatched_at", "merged", "dispatched", "signed",
        "signed_on_time", "disputed", "extended", "replied", "replied_on_time",
        "unsigned_due_at", "unreplied_due_at",
    ),
    "rate_callback": (
        "id", "ticket_id", "ordinal", "unit", "called_at", "satisfaction", "contacted",
        "solved", "satisfied", "basically_satisfied", "unsatisfied", "reopened",
    ),
}  # fmt: skip

KINDS = (("投诉", 45), ("求助", 20), ("咨询", 18), ("建议", 8), ("举报", 5), ("表扬", 4))
URGENCIES = (("一般", 93), ("紧急", 4), ("复杂", 3))
CHANNELS = (("phone", 70), ("web", 14), ("wechat", 13), ("open311", 3))
# The labelled corpus's category mix (data/README: 1,601 城乡建设 … 454 交通运输) plus the
# categories the model does not output, which operators choose by hand now and then.
CATEGORIES = (
    ("城乡建设", 1601), ("劳动和社会保障", 1584), ("教育文体", 1229), ("商贸旅游", 951),
    ("环境保护", 740), ("卫生计生", 703), ("交通运输", 454), ("政法", 60), ("民政", 60),
    ("国土资源", 40), ("经济管理", 30),
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"

RESULTS = (("solved", 70), ("partly", 22), ("unsolvable", 8))
SATISFACTION = (("满意", 62), ("基本满意", 25), ("不满意", 13))

# Fates: how far a ticket got by `now`.
CLOSED, ANSWERED, MERGED = "closed", "answered", "merged"
RECEIVED, DISPATCHED, DISPUTED, HANDLING = "received", "dispatched", "disputed", "handling"
EXT_REQ, PAUSED, REPLIED, CALLED_BACK = "extension_requested", "paused", "replied", "called_back"
# Share of the open tickets in each status (sums to 1).
OPEN_MIX = (
    (RECEIVED, 0.03), (DISPATCHED, 0.14), (DISPUTED, 0.02), (HANDLING, 0.47),
    (EXT_REQ, 0.04), (PAUSED, 0.05), (REPLIED, 0.19), (CALLED_BACK, 0.06),
)  # fmt: skip
# Statuses with a running clock that can be overdue; their share of open is 0.67, so an
# overdue probability of 0.22 among them makes ~15% of all open tickets overdue.
CAN_BE_OVERDUE = {DISPATCHED: 0.22, HANDLING: 0.22, EXT_REQ: 0.22, DISPUTED: 0.1}
H = timedelta(hours=1)
DAY = timedelta(days=1)


def weighted(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    """Values and cumulative weights for `random.choices`."""
    values = [v for v, _ in pairs]
    cum, total = [], 0.0
    for _, w in pairs:
        total += w
        cum.append(total)
    return values, cum


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def js(value: Any) -> str:
    """JSON as tortoise's JSONField writes it."""
    return _ENCODE(value)


# ---- the deployment's data -----------------------------------------------------------


@dataclass
class World:
    """Everything a ticket is drawn from: units, places, categories, texts, policies, people."""

    units: dict[str, tuple[int, str]]  # code → (id, name)
    unit_codes: list[str]
    places: list[tuple[str, str, str]]  # (name, unit code, district name)
    category_lead: dict[str, tuple[str, bool]]  # category → (lead code, local)
    texts: list[tuple[str, str, str]]  # (title, content, reply)
    sla: Any  # hotline.services.sla_engine.SlaEngine
    unit_user: dict[str, int]  # unit code → its account id
    operator_id: int
    supervisor_id: int
    now: datetime
    start: datetime
    policy_cache: dict[tuple[str, str, str, bool], Any] = field(default_factory=dict)


def load_texts(data_dir: Path) -> list[tuple[str, str, str]]:
    """Raw citizens' messages with the government's reply; bench templates without them."""
    out: list[tuple[str, str, str]] = []
    if RAW_MESSAGES.is_file():
        with RAW_MESSAGES.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                title = re.sub(r"\s+", "", row.get("留言主题") or "")[:200]
                content = re.sub(r"\s+", "", row.get("留言详情") or "")[:4000]
                reply = re.sub(r"\s+", "", row.get("答复意见") or "")[:1000]
                if len(title) >= 4 and len(content) >= 10:
                    out.append((title, content, reply or "已核实处理，并向市民反馈。"))
    if not out:
        sys.path.insert(0, str(REPO_ROOT / "bench"))
        from create_tickets import TEMPLATES

        places = [p["name"] for p in tomllib.loads((data_dir / "places.toml").read_text())["place"]]
        for _kind, title, content in TEMPLATES:
            for place in places[:60]:
                out.append(
                    (
                        title.format(place=place),
                        content.format(place=place),
                        "经现场核实，已联系相关责任方整改，并向市民反馈处理情况。",
                    )
                )
    return out


# ---- one ticket ------------------------------------------------------------------------


@dataclass
class Clock:
    kind: str
    generation: int
    limit: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    policy: str
    met_at: datetime | None = None
    stopped_at: datetime | None = None  # retired unmet (退单, close, merge)
    paused_since: datetime | None = None
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    provisional_years: tuple[int, ...] = ()
    warn_ratio: float = 0.75


class Life:
    """One ticket's history as it is built: events, clocks, links, and its row's columns."""

    __slots__ = (
        "tid", "w", "rng", "status", "events", "rate_events", "clocks", "links", "lead",
        "policy", "unit_events", "closed_at", "result", "satisfaction", "updated_at",
    )  # fmt: skip

    def __init__(self, tid: int, w: World, rng: random.Random, policy: Any) -> None:
        self.tid, self.w, self.rng, self.policy = tid, w, rng, policy
        self.status = "received"
        self.events: list[tuple[Any, ...]] = []
        self.rate_events: list[RateEvent] = []
        self.clocks: list[Clock] = []
        self.links: list[list[Any]] = []  # [unit code, role, active, created_at]
        self.lead: str | None = None
        self.closed_at: datetime | None = None
        self.result: str | None = None
        self.satisfaction: str | None = None
        self.updated_at: datetime | None = None

    # actors: (actor_id, name, role, unit_id)
    def unit_actor(self) -> tuple[Any, ...]:
        code = self.lead or ""
        uid, name = self.w.units[code]
        return (self.w.unit_user.get(code), f"{name} 值班员", "unit", uid)

    def operator(self) -> tuple[Any, ...]:
        return (self.w.operator_id, "话务员", "operator", None)

    def event(
        self,
        action: str,
        at: datetime,
        actor: tuple[Any, ...],
        to: str | None = None,
        payload: dict[str, Any] | None = None,
        *,
        public: bool = True,
    ) -> None:
        before = self.status
        after = to or before
        self.events.append(
            (action, *actor, None if action == "create" else before, after,
             js(payload or {}), public, at)
        )  # fmt: skip
        if action in RATE_ACTIONS:
            p = payload or {}
            self.rate_events.append(
                RateEvent(
                    self.tid, len(self.events), action, at, p.get("lead_unit"),
                    p.get("contacted"), p.get("satisfaction"), p.get("solved"),
                )
            )  # fmt: skip
        self.status = after
        self.updated_at = at

    def clock(self, kind: str, limit: Any, at: datetime) -> Clock:
        sla = self.w.sla
        gen = 1 + sum(1 for c in self.clocks if c.kind == kind)
        c = start_clock(
            kind, limit, at, self.policy.warn_ratio, sla.calendar,
            office_hours=sla.policies.office_hours,
        )  # fmt: skip
        row = Clock(
            kind, gen, str(c.limit), at, c.due_at, c.warn_at, self.policy.name,
            provisional_years=c.provisional_years, warn_ratio=self.policy.warn_ratio,
        )  # fmt: skip
        self.clocks.append(row)
        return row

    def running(self, kind: str) -> Clock | None:
        for c in reversed(self.clocks):
            if c.kind == kind and c.met_at is None and c.stopped_at is None:
                return c
        return None

    def meet(self, kind: str, at: datetime) -> None:
        c = self.running(kind)
        if c is not None:
            c.met_at = at
            if c.paused_since is not None:
                c.pauses.append((c.paused_since, at))
                c.paused_since = None

    def stop_all(self, at: datetime) -> None:
        for c in self.clocks:
            if c.met_at is None and c.stopped_at is None:
                c.stopped_at = at


def pick(rng: random.Random, table: tuple[list[Any], list[float]]) -> Any:
    return rng.choices(table[0], cum_weights=table[1])[0]


_KIND_T = weighted(KINDS)
_URG_T = weighted(URGENCIES)
_CHAN_T = weighted(CHANNELS)
_CAT_T = weighted(CATEGORIES)
_RES_T = weighted(RESULTS)
_SAT_T = weighted(SATISFACTION)
_OPEN_T = weighted(OPEN_MIX)


def plan_fate(rng: random.Random, open_share: float) -> tuple[str, bool]:
    """(fate, overdue) of one ticket."""
    if rng.random() < open_share:
        fate = pick(rng, _OPEN_T)
        return fate, rng.random() < CAN_BE_OVERDUE.get(fate, 0.0)
    r = rng.random()
    if r < 0.06:
        return ANSWERED, False
    if r < 0.10:
        return MERGED, False
    return CLOSED, False


def open_age(rng: random.Random, fate: str, overdue: bool, days: float) -> timedelta:
    """How long before `now` an open ticket of this fate was created."""
    if overdue:
        low = {DISPATCHED: 1.1, DISPUTED: 1.0}.get(fate, 8.0)
        return DAY * min(days * 0.95, low + rng.expovariate(1 / 12))
    hours = {
        RECEIVED: (0.05, 6),
        DISPATCHED: (0.05, 20),
        DISPUTED: (0.5, 20),
        HANDLING: (2, 150),
        EXT_REQ: (48, 160),
        PAUSED: (24, 400),
        REPLIED: (24, 96),
        CALLED_BACK: (30, 120),
    }[fate]
    return H * rng.uniform(*hours)


def build_ticket(
    tid: int, created: datetime, fate: str, w: World, rng: random.Random, merge_into: int | None
) -> tuple[Life, dict[str, Any]]:
    """One ticket's life up to `w.now` and its row's values."""
    now = w.now
    kind = pick(rng, _KIND_T)
    urgency = pick(rng, _URG_T)
    channel = pick(rng, _CHAN_T)
    category = pick(rng, _CAT_T)
    title, content, reply_text = w.texts[rng.randrange(len(w.texts))]
    place, place_unit, district = w.places[rng.randrange(len(w.places))]
    lead, local = w.category_lead.get(category, ("ZJJ", False))
    if local and rng.random() < 0.7:
        lead = place_unit
    if lead not in w.units:
        lead = rng.choice(w.unit_codes)
    key = (kind, category, urgency, "停水" in title or "停电" in title or "燃气" in title)
    policy = w.policy_cache.get(key)
    if policy is None:
        policy = w.sla.policies.match(kind=kind, category=category, urgency=urgency, topics=[title])
        w.policy_cache[key] = policy
    life = Life(tid, w, rng, policy)
    report = kind == "举报"
    if fate == ANSWERED and kind not in ("咨询", "建议", "表扬"):
        kind = "咨询"
    citizen = (None, "市民", "citizen", None)
    life.event(
        "create", created, life.operator() if channel == "phone" else citizen, "received",
        {"channel": channel, "category": category},
    )  # fmt: skip
    info: dict[str, Any] = {
        "kind": kind, "urgency": urgency, "channel": channel, "category": category,
        "title": title, "content": content, "place": place, "district": district,
        "confirmed_at": None,
    }  # fmt: skip
    if fate == RECEIVED:
        return life, info
    t = created + min(timedelta(seconds=rng.uniform(20, 900)), (now - created) * 0.3)
    if fate == ANSWERED:
        life.event("answer", t, life.operator(), "closed", {"text": reply_text[:300]})
        life.closed_at, life.result = t, "solved"
        return life, info
    if report:
        life.event(
            "confirm-dispatch-text", t, life.operator(), None,
            {"title": f"举报线索：{category}问题", "dispatch_text": CONFIRMED_TEXT},
            public=False,
        )  # fmt: skip
        info["confirmed_at"] = t
        t += min(timedelta(seconds=rng.uniform(5, 300)), (now - t) * 0.3)
    assist = [rng.choice(w.unit_codes)] if rng.random() < 0.1 else []
    assist = [a for a in assist if a != lead]
    auto = rng.random() < 0.75 and not report
    life.lead = lead
    life.event(
        "dispatch", t, (None, "系统", "system", None) if auto else life.operator(), "dispatched",
        {"lead_unit": lead, "assisting_units": assist, "previous_unit": None,
         "category": category},
    )  # fmt: skip
    life.links.append([lead, "lead", True, t])
    for a in assist:
        life.links.append([a, "assist", True, t])
    receipt = life.clock("receipt", policy.receipt, t)
    life.clock("feedback", policy.feedback, t)
    # Open tickets squeeze their steps into the time they have had; closed ones take their time.
    span = (now - t) if fate not in (CLOSED, MERGED) else None

    def later(at: datetime, typical: timedelta, share: float = 0.5) -> datetime:
        """A step after `at`: `typical` for a closed ticket, within the time left for an open one
        (and for a closed one too when `typical` would end after `now`)."""
        step = at + typical
        if span is not None or step >= now:
            step = at + min(typical, (now - at) * share)
        return step

    if fate == MERGED:
        m = later(t, H * rng.uniform(0.5, 30))
        life.event("merge", m, life.operator(), "merged", {"into": merge_into})
        life.stop_all(m)
        life.closed_at = m
        return life, info

    # 退单 → 改派
    if fate == DISPUTED or (fate != DISPATCHED and rng.random() < 0.05):
        r = later(t, H * rng.uniform(0.2, 20), 0.3)
        life.event(
            "reject", r, life.unit_actor(), "disputed",
            {"reason": rng.choice(DISPUTE_REASONS)}, public=False,
        )  # fmt: skip
        c = life.running("receipt")
        if c:
            c.stopped_at = r
        life.clock("redispatch", policy.redispatch or "2wh", r)
        if fate == DISPUTED:
            return life, info
        rd = later(r, H * rng.uniform(0.3, 6), 0.3)
        previous = life.lead
        new = rng.choice(w.unit_codes)
        while new == previous:
            new = rng.choice(w.unit_codes)
        life.meet("redispatch", rd)
        life.event(
            "redispatch", rd, life.operator(), "dispatched",
            {"lead_unit": new, "assisting_units": [], "previous_unit": previous,
             "category": category},
        )  # fmt: skip
        for link in life.links:
            link[2] = False
        life.links.append([new, "lead", True, rd])
        life.lead = new
        receipt = life.clock("receipt", policy.receipt, rd)
        t = rd
    if fate == DISPATCHED:
        return life, info
    # 签收: mostly within the receipt limit, a tail late.
    late = rng.random() < 0.06
    typical = (receipt.due_at - t) * rng.uniform(0.02, 0.7)
    if late:
        typical = (receipt.due_at - t) + H * rng.uniform(0.5, 30)
    s = later(t, typical, 0.25)
    life.meet("receipt", s)
    life.event("sign", s, life.unit_actor(), "handling")
    cursor = s
    # 挂起 / 恢复
    if policy.pause_allowed and (fate == PAUSED or rng.random() < 0.04):
        p = later(s, H * rng.uniform(2, 48), 0.4)
        fb = life.running("feedback")
        if fb is not None and p < fb.due_at:
            life.event("pause", p, life.unit_actor(), "paused", {"reason": PAUSE_REASON})
            fb.paused_since = p
            if fate == PAUSED:
                return life, info
            resume = later(p, DAY * rng.uniform(1, 10), 0.5)
            life.event("resume", resume, life.unit_actor(), "handling")
            fb.pauses.append((p, resume))
            fb.paused_since = None
            # Pausing moves the deadline by the time paused (calendar-day approximation).
            fb.due_at += resume - p
            fb.warn_at += resume - p
            cursor = resume
    # 延期申请 / 同意延期
    if policy.extension_allowed and (fate == EXT_REQ or rng.random() < 0.05):
        e = later(cursor, DAY * rng.uniform(1, 5), 0.5)
        limit = parse_limit(str(policy.extension))
        days = limit.amount
        life.event(
            "request-extension", e, life.unit_actor(), "extension_requested",
            {"reason": EXTENSION_REASON, "days": days},
        )  # fmt: skip
        if fate == EXT_REQ:
            return life, info
        a = later(e, H * rng.uniform(1, 30), 0.5)
        life.event(
            "approve-extension", a, life.operator(), "handling",
            {"days": days, "extension": str(limit)},
        )  # fmt: skip
        fb = life.running("feedback")
        if fb is not None:
            due = compute_due(fb.due_at, limit, w.sla.calendar, w.sla.policies.office_hours).at
            fb.warn_at = fb.started_at + (due - fb.started_at) * policy.warn_ratio
            fb.due_at = due
            fb.extensions.append(str(limit))
        cursor = a
    if fate == HANDLING:
        if rng.random() < 0.3 and (now - cursor) > 2 * H:
            life.event("urge", later(cursor, H * 24, 0.5), life.operator(), None,
                       {"reason": "请加快办理进度"}, public=False)  # fmt: skip
        return life, info
    rounds = 2 if fate == CLOSED and rng.random() < 0.03 else 1
    for round_no in range(1, rounds + 1):
        fb = life.running("feedback")
        due = fb.due_at if fb else cursor + 7 * DAY
        # 回复: mostly before the feedback deadline, a tail late.
        if rng.random() < 0.08:
            typical = (due - cursor) + H * rng.uniform(1, 120)
        else:
            typical = max((due - cursor) * rng.uniform(0.05, 0.95), H * 0.5)
        r = later(cursor, typical, 0.5)
        life.meet("feedback", r)
        result = pick(rng, _RES_T)
        life.event(
            "reply", r, life.unit_actor(), "replied",
            {"result": result, "text": reply_text[:500], "contacted": True},
        )  # fmt: skip
        life.result = result
        if fate == REPLIED:
            return life, info
        cb = later(r, H * rng.uniform(2, 48), 0.5)
        contacted = rng.random() < 0.92
        sat = pick(rng, _SAT_T) if contacted else None
        if round_no < rounds:
            sat = "不满意"
        solved = contacted and (result == "solved" or rng.random() < 0.3) and sat != "不满意"
        life.event(
            "callback", cb, life.operator(), "called_back",
            {"contacted": contacted, "satisfaction": sat, "solved": solved},
        )  # fmt: skip
        life.satisfaction = sat
        if fate == CALLED_BACK:
            return life, info
        if round_no < rounds:
            ro = later(cb, H * rng.uniform(0.2, 4), 0.3)
            life.event("reopen", ro, life.operator(), "handling",
                       {"reason": "市民不满意，要求重新办理"})  # fmt: skip
            life.result = life.satisfaction = None
            life.clock("feedback", policy.feedback, ro)
            cursor = ro
            continue
        close = later(cb, H * rng.uniform(0.1, 6), 0.5)
        life.event("close", close, life.operator(), "closed")
        life.stop_all(close)
        life.closed_at = close
    return life, info


CONFIRMED_TEXT = "群众反映线索已由热线中心核实整理，请依职责核查处理，并按时反馈核查结果。"
DISPUTE_REASONS = (
    "该事项不属于本单位职责，请改派",
    "诉求地点不在本辖区，请改派属地",
    "该事项应由行业主管部门处理，请改派",
)
PAUSE_REASON = "市民外出，约定下周上门核实"
EXTENSION_REASON = "需要协调多个部门现场核查，申请延期"


# ---- rows ------------------------------------------------------------------------------


@dataclass
class Ids:
    """The next id of each table (explicit ids keep the COPY and the links simple)."""

    ticket_unit: int = 1
    ticket_event: int = 1
    ticket_clock: int = 1
    rate_assignment: int = 1
    rate_callback: int = 1


def clock_row(cid: int, tid: int, c: Clock, current: bool, now: datetime) -> tuple[Any, ...]:
    """The clock as the service and the sweeper would have left it at `now`."""
    is_open = c.met_at is None and c.stopped_at is None
    end = c.met_at or c.stopped_at or now
    paused = is_open and c.paused_since is not None
    check_end = c.paused_since if paused else end
    warned = c.warn_at <= check_end
    breached = c.due_at <= check_end
    if c.met_at is not None:
        state = "met"
    elif paused:
        state = "paused"
    elif breached:
        state = "breached"
    elif warned:
        state = "warning"
    else:
        state = "running"
    detail = {
        "warn_ratio": c.warn_ratio,
        "provisional_years": list(c.provisional_years),
        "paused_since": c.paused_since.isoformat() if c.paused_since else None,
        "pauses": [[a.isoformat(), b.isoformat()] for a, b in c.pauses],
        "extensions": c.extensions,
        "policy": c.policy,
    }
    return (
        cid, tid, c.kind, c.generation, current, is_open, state, c.limit, c.started_at,
        c.due_at, c.warn_at, bool(c.provisional_years), warned, breached, c.met_at, js(detail),
    )  # fmt: skip


@dataclass
class Chunk:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    counters: dict[str, int] = field(default_factory=dict)


def add_ticket(
    chunk: Chunk, ids: Ids, w: World, tid: int, number: str, created: datetime, fate: str,
    rng: random.Random, phone: str, merge_into: tuple[int, str] | None,
) -> None:  # fmt: skip
    """Build one ticket and append its rows to the chunk."""
    now = w.now
    life, info = build_ticket(tid, created, fate, w, rng, merge_into[1] if merge_into else None)
    # Sweeper events for every clock that passed its warning point / due time while open.
    sweeps: list[tuple[Any, ...]] = []
    for c in life.clocks:
        end = c.met_at or c.stopped_at or c.paused_since or now
        for name, at in (("sla_warning", c.warn_at), ("sla_breach", c.due_at)):
            if at <= end:
                stamp = min(at + timedelta(seconds=rng.uniform(1, 60)), end)
                centre = c.kind == "redispatch"
                sweeps.append((name, stamp, c, centre))
    events = life.events
    if sweeps:
        status_at = [(e[-1], e[6]) for e in events]  # (time, to_status)
        for name, stamp, c, centre in sweeps:
            st = status_at[0][1]
            for at, to in status_at:
                if at <= stamp:
                    st = to
            unit_id = None if centre or life.lead is None else w.units[life.lead][0]
            payload = {
                "clock": c.kind,
                "clock_label": CLOCK_LABELS.get(c.kind, c.kind),
                "due_at": c.due_at.isoformat(),
                "generation": c.generation,
            }
            events.append(
                (name, None, "系统", "system", unit_id, st, st, js(payload), False, stamp)
            )
        events.sort(key=lambda e: e[-1])
    rows = chunk.rows
    first_event = ids.ticket_event
    for e in events:
        rows["ticket_event"].append((ids.ticket_event, tid, *e))
        ids.ticket_event += 1
    # Rate events carry the seq of their event: re-number after the sort above.
    if sweeps:
        seq_of = {}
        n = 0
        for e in events:
            n += 1
            if e[0] in RATE_ACTIONS:
                seq_of[(e[0], e[-1])] = n
        for r in life.rate_events:
            r.seq = first_event + seq_of[(r.action, r.at)] - 1
    else:
        for r in life.rate_events:
            r.seq += first_event - 1
    latest_of_kind: dict[str, Clock] = {}
    for c in life.clocks:
        latest_of_kind[c.kind] = c
    rate_clocks = []
    open_dues = []
    for c in life.clocks:
        # A met clock stays current; one retired unmet (退单, close, merge) does not;
        # an older generation of the same kind is not current either.
        current = latest_of_kind[c.kind] is c and c.stopped_at is None
        row = clock_row(ids.ticket_clock, tid, c, current, now)
        rows["ticket_clock"].append(row)
        ids.ticket_clock += 1
        # Every receipt/feedback clock, met or not, as the service reads them
        # (rate_rows.rate_clock_sql): the unmet ones make an assignment's overdue deadlines.
        if c.kind in ("receipt", "feedback"):
            rate_clocks.append(
                RateClock(tid, c.kind, c.started_at, c.due_at, c.met_at, paused=row[6] == "paused")
            )
        if row[5] and row[6] != "paused":
            open_dues.append(c.due_at)
    # The unit worklist's copy of the ticket on each link (hotline.domain.worklist).
    marks = marks_of(e[0] for e in events)
    next_due = min(open_dues) if open_dues else None
    for code, role, active, at in life.links:
        rows["ticket_unit"].append(
            (ids.ticket_unit, tid, w.units[code][0], role, active, at, life.status, next_due,
             created, marks.supervised, marks.reopened, marks.answered)
        )  # fmt: skip
        ids.ticket_unit += 1
    assignments, callbacks = ticket_rate_rows(life.rate_events, rate_clocks)
    for a in assignments:
        k = a.counts()
        rows["rate_assignment"].append(
            (ids.rate_assignment, tid, a.ordinal, a.unit, a.at, a.merged, k["dispatched"],
             k["signed"], k["signed_on_time"], k["disputed"], k["extended"], k["replied"],
             k["replied_on_time"], a.unsigned_due_at, a.unreplied_due_at)
        )  # fmt: skip
        ids.rate_assignment += 1
    for cb in callbacks:
        k = cb.counts()
        rows["rate_callback"].append(
            (ids.rate_callback, tid, cb.ordinal, cb.unit, cb.at, cb.satisfaction,
             k["contacted"], k["solved"], k["satisfied"], k["basically_satisfied"],
             k["unsatisfied"], k["reopened"])
        )  # fmt: skip
        ids.rate_callback += 1
    report = info["kind"] == "举报"
    lead_id = w.units[life.lead][0] if life.lead else None
    routing = {
        "lead_unit": life.links[0][0] if life.links else None,
        "assisting_units": [c for c, role, _, _ in life.links if role == "assist"],
        "category": info["category"],
        "confidence": round(rng.uniform(0.55, 0.99), 4),
        "needs_review": False,
        "rule": None,
        "place": info["place"],
    }
    surname = SURNAMES[rng.randrange(len(SURNAMES))]
    rows["ticket"].append(
        (
            tid, number, "".join(rng.choices(QUERY_ALPHABET, k=6)), info["channel"],
            info["kind"], info["urgency"], info["category"], info["title"], info["content"],
            CONFIRMED_TEXT if report else None,
            f"举报线索：{info['category']}问题" if report else None,
            info["confirmed_at"], info["place"], info["district"], "",
            surname + rng.choice(("先生", "女士")), phone, False, report, "[]", life.status,
            lead_id, js(routing), False, merge_into[0] if merge_into and life.status == "merged"
            else None, life.result, life.satisfaction,
            w.operator_id if info["channel"] == "phone" else None, created,
            life.updated_at or created, life.closed_at, min(open_dues) if open_dues else None,
            len(life.events),
        )
    )  # fmt: skip


CLOCK_LABELS = {
    "receipt": "签收时限",
    "feedback": "办理反馈时限",
    "mediation": "调解时限",
    "redispatch": "改派时限",
}


# ---- writing ---------------------------------------------------------------------------


def model_columns(table: str) -> tuple[list[str], list[Any]]:
    """Extra columns of the model beyond COLUMNS[table], with the value each gets."""
    meta = MODELS[table]._meta
    known = set(COLUMNS[table])
    extra_cols: list[str] = []
    extra_vals: list[Any] = []
    for name, f in meta.fields_map.items():
        column = getattr(f, "source_field", None) or name
        if f.__class__.__name__.startswith(("ForeignKey", "OneToOne", "BackwardFK")) and not (
            getattr(f, "source_field", None)
        ):
            continue  # the relation object; its `<name>_id` field carries the column
        if getattr(f, "has_db_field", True) is False or column in known:
            continue
        default = f.default
        value = default() if callable(default) else default
        if value is None and not f.null:
            db_default = getattr(f, "db_default", None)
            if (
                db_default is not None
                and type(db_default).__name__ != "_NoneType"
                and str(db_default) != "NOT_PROVIDED"
            ):
                continue  # the database's own default fills it
            raise SystemExit(f"{table}.{column}: NOT NULL without a default; teach the generator")
        if isinstance(value, (dict, list)):
            value = js(value)
        extra_cols.append(column)
        extra_vals.append(value)
    return extra_cols, extra_vals


def pg_dsn(url: str) -> tuple[str, str | None]:
    """An asyncpg DSN of a tortoise URL, and the `?schema=` it names (tests use one each)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url.replace("asyncpg://", "postgres://", 1))
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", None)
    return urlunsplit(parts._replace(query=urlencode(query))), schema


class Writer:
    """Bulk writes of plain tuples: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str, extra: dict[str, tuple[list[str], list[Any]]]) -> None:
        self.url = url
        self.pg = url.startswith(("postgres://", "postgresql://", "asyncpg://"))
        self.extra = extra
        self.columns = {t: [*COLUMNS[t], *self.extra[t][0]] for t in TABLES}
        self.indexes: list[tuple[str, str]] = []

    async def open(self) -> None:
        if self.pg:
            import asyncpg

            dsn, schema = pg_dsn(self.url)
            settings = {"search_path": schema} if schema else None
            self.conn = await asyncpg.connect(dsn, server_settings=settings)
            # Foreign keys are right by construction; skipping their triggers halves the load.
            await self.conn.execute("SET session_replication_role = replica")
        else:
            path = self.url.split("sqlite://", 1)[1]
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA synchronous = OFF")
            self.db.execute("PRAGMA cache_size = -200000")
            self.db.execute("PRAGMA temp_store = MEMORY")

    async def drop_indexes(self) -> None:
        """Drop the tables' secondary indexes (kept: primary keys and unique constraints)."""
        if self.pg:
            for table in TABLES:
                rows = await self.conn.fetch(
                    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                    "JOIN pg_namespace n ON n.oid = t.relnamespace "
                    "WHERE t.relname = $1 AND n.nspname = current_schema() AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
                    table,
                )
                for name, sql in rows:
                    self.indexes.append((name, sql))
                    await self.conn.execute(f'DROP INDEX "{name}"')
        else:
            for table in TABLES:
                for name, sql in self.db.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table,),
                ).fetchall():
                    self.indexes.append((name, sql))
                    self.db.execute(f'DROP INDEX "{name}"')

    async def create_indexes(self) -> None:
        for _, sql in self.indexes:
            if self.pg:
                await self.conn.execute(sql)
            else:
                self.db.execute(sql)

    async def write(self, chunk: Chunk) -> None:
        for table in TABLES:
            rows = chunk.rows[table]
            if not rows:
                continue
            extra = tuple(self.extra[table][1])
            if extra:
                rows = [r + extra for r in rows]
            cols = self.columns[table]
            if self.pg:
                await self.conn.copy_records_to_table(table, records=rows, columns=cols)
            else:
                quoted = ", ".join(f'"{c}"' for c in cols)
                marks = ", ".join("?" * len(cols))
                self.db.execute("BEGIN")
                self.db.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)
                self.db.execute("COMMIT")

    async def finish(self, counters: dict[str, int]) -> None:
        """Day counters, sequences, indexes and planner statistics."""
        rows = sorted(counters.items())
        if self.pg:
            await self.conn.executemany(
                "INSERT INTO ticket_counter (day, value) VALUES ($1, $2) ON CONFLICT (day) "
                "DO UPDATE SET value = GREATEST(ticket_counter.value, excluded.value)",
                rows,
            )
            for table in TABLES:
                await self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            await self.create_indexes()
            await self.conn.execute("SET session_replication_role = DEFAULT")
            # VACUUM too: a bulk load leaves the visibility map unset, so no index-only scan
            # (the dashboard's volumes, the worklist's counts) until autovacuum gets round to
            # it — as it has in service. ANALYZE alone measured 1.1 s where 0.5 s was due.
            await self.conn.execute("VACUUM ANALYZE")
            await self.conn.close()
        else:
            self.db.executemany(
                "INSERT INTO ticket_counter (day, value) VALUES (?, ?) ON CONFLICT (day) "
                "DO UPDATE SET value = MAX(value, excluded.value)",
                rows,
            )
            await self.create_indexes()
            self.db.execute("ANALYZE")
            self.db.close()


# ---- the run ---------------------------------------------------------------------------


def sqlite_adapters() -> None:
    """Datetimes as tortoise writes them on SQLite (UTC text), JSON already text."""
    # Every datetime here is already UTC: str() gives tortoise's '2026-11-28 03:56:22.406611+00:00'.
    sqlite3.register_adapter(datetime, datetime.__str__)


async def prepare(url: str, *, password: str) -> dict[str, Any]:
    """Migrate, load units and create the accounts; returns what the tickets need."""
    from argon2 import PasswordHasher

    from hotline.domain.models import Unit, User
    from hotline.runtime.config import load_settings
    from hotline.runtime.db import close_database, open_database
    from hotline.services.units import sync_units
    from hotline.startup.bootstrap import load_deployment

    ctx = await open_database(url)
    try:
        if await Ticket.exists():
            raise SystemExit(f"{url} already holds tickets: generate into an empty database")
        settings = load_settings()
        deployment = load_deployment(settings, with_model=False)
        await sync_units(deployment.extras["units"])
        units = {u.code: (u.id, u.name) for u in await Unit.all()}
        # Cheap argon2 parameters: 70 accounts in well under a second (verify reads them back).
        digest = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)
        now = datetime.now(UTC)
        people = [("bench_operator", "operator", None, "话务员"),
                  ("bench_supervisor", "supervisor", None, "督办员"),
                  ("bench_admin", "admin", None, "管理员")]  # fmt: skip
        people += [(f"unit_{code.lower()}", "unit", uid, f"{name} 值班员")
                   for code, (uid, name) in sorted(units.items())]  # fmt: skip
        await User.bulk_create(
            [
                User(username=u, display_name=d, password_hash=digest, role=r, unit_id=unit,
                     created_at=now)
                for u, r, unit, d in people
            ]
        )  # fmt: skip
        users = {u.username: (u.id, u.unit_id) for u in await User.all()}
        for model in MODELS.values():  # the writer reads the complete column lists
            assert model._meta.fields_map
        extra = {t: model_columns(t) for t in TABLES}
    finally:
        await close_database(ctx)
    unit_user = {code: users[f"unit_{code.lower()}"][0] for code in units}
    return {
        "deployment": deployment,
        "units": units,
        "unit_user": unit_user,
        "operator_id": users["bench_operator"][0],
        "supervisor_id": users["bench_supervisor"][0],
        "extra": extra,
    }


def make_world(prep: dict[str, Any], now: datetime, days: float) -> World:
    dep = prep["deployment"]
    data_dir = Path(dep.data_dir)
    places_raw = tomllib.loads((data_dir / "places.toml").read_text(encoding="utf-8"))["place"]
    units = prep["units"]
    district_name = {p["unit"]: p["name"] for p in places_raw if p.get("kind") == "district"}
    unit_parent = {u.code: u.parent for u in dep.extras["units"]}
    places = []
    for p in places_raw:
        if p.get("unit") in units:
            d = p["unit"]
            while d and d not in district_name:
                d = unit_parent.get(d, "")
            places.append((p["name"], p["unit"], district_name.get(d, "")))
    routing = tomllib.loads((data_dir / "routing.toml").read_text(encoding="utf-8"))
    category_lead = {
        c["name"]: (c.get("lead", ""), bool(c.get("local"))) for c in routing["category"]
    }
    # The hotline centre itself is not a unit tickets are dispatched to.
    codes = [c for c in sorted(units) if c != "RXZX"]
    return World(
        units=units,
        unit_codes=codes,
        places=places,
        category_lead=category_lead,
        texts=load_texts(data_dir),
        sla=dep.sla,
        unit_user=prep["unit_user"],
        operator_id=prep["operator_id"],
        supervisor_id=prep["supervisor_id"],
        now=now,
        start=now - timedelta(days=days),
    )


class Progress:
    """tqdm when installed, else a line on stderr every few percent."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        try:
            from tqdm import tqdm

            self.bar: Any = tqdm(total=total, unit="ticket", unit_scale=True, file=sys.stderr)
        except ImportError:
            self.bar = None
        self.next_print = 0

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.done >= self.next_print or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
            print(f"  {self.done:,}/{self.total:,} tickets ({rate:,.0f}/s)", file=sys.stderr)
            self.next_print = self.done + max(self.total // 20, 1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def build_search_index(url: str, tickets: int, *, quiet: bool) -> int:
    """The full-text index, through the same bulk rebuild as `main.py search-index rebuild`:
    a generated database is searchable like one filled through the service."""
    from hotline.runtime.db import close_database, open_database
    from hotline.services.ticket_search import rebuild_index

    progress = Progress(tickets) if not quiet else None
    seen = 0

    def step(done: int, total: int) -> None:
        nonlocal seen
        if progress:
            progress.update(done - seen)
        seen = done

    ctx = await open_database(url)
    try:
        if not quiet:
            print("search index:", file=sys.stderr)
        count = await rebuild_index(progress=step)
    finally:
        await close_database(ctx)
    if progress:
        progress.close()
    return count


async def fill_rollups(url: str) -> dict[str, int]:
    """The daily rollups the dashboard, the trend chart and the rates read, from the rows
    written: `rate_daily` from the rate rows (the live catch-up's own SQL and sums), and
    `volume_daily` from the tickets. The load writes rows only: PostgreSQL's `COPY` under
    `session_replication_role = replica` fires no trigger, so without this a generated
    database answers its month and year from empty rollups (fast, and wrong)."""
    from tortoise.transactions import in_transaction

    from hotline.runtime.db import close_database, open_database
    from hotline.services import volume_daily
    from hotline.services.rate_daily import days_of_rows, stored_rows_sql, upsert_days

    ctx = await open_database(url)
    try:
        async with in_transaction() as tx:
            _, rows = await tx.execute_query(stored_rows_sql("1 = 1"))
            days = days_of_rows(rows)
            await tx.execute_query("DELETE FROM rate_daily")
            await upsert_days(tx, days, replace=True)
        volumes = await volume_daily.rebuild_atomic()
    finally:
        await close_database(ctx)
    return {"rate_daily": len(days), "volume_daily": volumes}


async def generate(
    url: str, *, tickets: int, days: float, seed: int, now: datetime | None = None,
    password: str = PASSWORD, quiet: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Fill an empty database at `url`; returns counts and timings."""
    t0 = time.perf_counter()
    sqlite_adapters()
    prep = await prepare(url, password=password)
    now = now or datetime.now(UTC)
    w = make_world(prep, now, days)
    rng = random.Random(seed)
    # Pass 1: each ticket's fate and creation time; ids then follow creation order.
    open_share = 0.20
    plans: list[tuple[float, str]] = []
    span = days * 86400.0
    for _ in range(tickets):
        fate, overdue = plan_fate(rng, open_share)
        if fate in (CLOSED, ANSWERED, MERGED):
            # Closed work is spread evenly; a recent one's steps are squeezed before now.
            age = rng.uniform(0.0, span)
        else:
            age = open_age(rng, fate, overdue, days).total_seconds()
        plans.append((-age, fate + ("!" if overdue else "")))
    plans.sort()
    writer = Writer(url, prep["extra"])
    await writer.open()
    await writer.drop_indexes()
    ids = Ids()
    chunk = Chunk()
    counters: dict[str, int] = {}
    phones: list[str] = []
    last_ticket_of: dict[str, tuple[int, str]] = {}
    recent: deque[str] = deque(maxlen=300)
    progress = Progress(tickets) if not quiet else None
    now_ts = now.timestamp()
    stats = {"open": 0, "overdue": 0, "merged": 0, "repeat": 0}
    for index, (neg_age, fate_text) in enumerate(plans):
        tid = index + 1
        fate = fate_text.rstrip("!")
        created = datetime.fromtimestamp(now_ts + neg_age, UTC)
        local = created.astimezone(SHANGHAI)
        day = f"{local.year:04d}{local.month:02d}{local.day:02d}"
        seq = counters.get(day, 0) + 1
        counters[day] = seq
        number = f"{day}-{seq:05d}"
        if fate == MERGED and recent:
            # A repeat merged (并单) into the caller's open ticket: a caller of the last days.
            phone = recent[rng.randrange(len(recent))]
            stats["repeat"] += 1
        elif phones and rng.random() < 0.30:
            phone = phones[rng.randrange(len(phones))]
            stats["repeat"] += 1
        else:
            phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
            phones.append(phone)
        merge_into = None
        if fate == MERGED:
            merge_into = last_ticket_of.get(phone)
            if merge_into is None:
                fate = CLOSED
        add_ticket(chunk, ids, w, tid, number, created, fate, rng, phone, merge_into)
        last_ticket_of[phone] = (tid, number)
        recent.append(phone)
        if len(chunk.rows["ticket"]) >= CHUNK:
            await writer.write(chunk)
            if progress:
                progress.update(len(chunk.rows["ticket"]))
            chunk = Chunk()
    if chunk.rows["ticket"]:
        await writer.write(chunk)
        if progress:
            progress.update(len(chunk.rows["ticket"]))
    if progress:
        progress.close()
    t_rows = time.perf_counter() - t0
    await writer.finish(counters)
    rollups = await fill_rollups(url)
    t_index = time.perf_counter()
    await build_search_index(url, tickets, quiet=quiet)
    t_index = time.perf_counter() - t_index
    elapsed = time.perf_counter() - t0
    return {
        "tickets": tickets,
        "events": ids.ticket_event - 1,
        "clocks": ids.ticket_clock - 1,
        "links": ids.ticket_unit - 1,
        "rate_assignments": ids.rate_assignment - 1,
        "rate_callbacks": ids.rate_callback - 1,
        "repeat_callers": stats["repeat"],
        **rollups,
        "seconds_rows": round(t_rows, 1),
        "seconds_search_index": round(t_index, 1),
        "seconds": round(elapsed, 1),
        "password": password,
    }


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "sqlite:///work/scale/gen.db")
    )
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument(
        "--rollups-only",
        action="store_true",
        help="only (re)fill rate_daily and volume_daily of a database generated before they "
        "were (migrated to the current schema first)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.rollups_only:
        started = time.perf_counter()
        filled = asyncio.run(fill_rollups(args.database_url))
        print(json.dumps({**filled, "seconds": round(time.perf_counter() - started, 1)}))
        return
    result = asyncio.run(
        generate(
            args.database_url, tickets=args.tickets, days=args.days, seed=args.seed,
            password=args.password,
        )
    )  # fmt: skip
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(
        f"generated {result['tickets']:,} tickets, {result['events']:,} events, "
        f"{result['clocks']:,} clocks in {result['seconds']} s "
        f"(accounts unit_<code>, bench_operator, bench_supervisor, bench_admin; "
        f"password {result['password']})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
