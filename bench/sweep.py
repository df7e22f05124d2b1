"""Benchmark: one full SLA sweep over a database holding many open tickets.

Fills a fresh database (a temporary SQLite file, or a new schema on a PostgreSQL server)
with N open tickets whose clocks were started by the real SLA engine at times chosen so
that about 2% of tickets have a clock past due, 5% a clock past its warning point and the
rest are running; then times `hotline.services.sweeper.sweep(now=…)` once (escalating every one of
them: events and outbox mail) and a second time (nothing left to do).

    python bench/sweep.py --smoke
    python bench/sweep.py --tickets 100000 --database-url postgres://postgres@127.0.0.1:5432/test

The fixture rows are written with bulk inserts (it is a fixture, not the code under test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from create_tickets import SURNAMES, TEMPLATES, _places, _redacted, fresh_database  # noqa: E402

from hotline.domain.lifecycle import Status  # noqa: E402
from hotline.domain.models import Ticket, TicketClock, TicketEvent, Unit, User  # noqa: E402
from hotline.domain.timefmt import local_day, utcnow  # noqa: E402
from hotline.outbox.models import OutboxMessage  # noqa: E402
from hotline.runtime.config import load_settings  # noqa: E402
from hotline.runtime.db import close_database, open_database  # noqa: E402
from hotline.services.sla_engine import SlaEngine, clock_columns  # noqa: E402
from hotline.services.sweeper import sweep  # noqa: E402
from hotline.services.units import sync_units  # noqa: E402
from sla import clock as clocks  # noqa: E402

# Share of tickets whose at-risk clock is past due / past its warning point.
PAST_DUE = 0.02
PAST_WARN = 0.05
DISPATCHED_SHARE = 0.3  # not yet signed: the receipt clock is the one at risk
BATCH = 2000
LINK_BASE = "http://127.0.0.1:8000"


def _fraction(rng: random.Random, warn_ratio: float) -> float:
    """How far through its limit the at-risk clock is: >1 past due, >warn_ratio warned."""
    draw = rng.random()
    if draw < PAST_DUE:
        return rng.uniform(1.01, 1.5)
    if draw < PAST_DUE + PAST_WARN:
        return rng.uniform(warn_ratio + 0.01 * (1 - warn_ratio), 0.995)
    return rng.uniform(0.0, warn_ratio * 0.98)


class Filler:
    """Builds ticket, clock and event rows in memory and bulk-inserts them in batches."""

    def __init__(
        self,
        engine: SlaEngine,
        now: datetime,
        units: list[Unit],
        seed: int,
        categories: tuple[str, ...],
    ) -> None:
        self.engine = engine
        self.categories = categories  # the classifier's, from data/vocabulary.toml
        self.now = now
        self.units = units
        self.rng = random.Random(seed)
        self.places = _places()
        self.span: dict[tuple[str, str], timedelta] = {}
        self.counters: dict[str, int] = {}

    def _start(self, kind: str, limit: Any, at: datetime, policy: Any) -> Any:
        """A clock started under `policy` on the engine's calendar."""
        return clocks.start(
            kind,
            limit,
            at,
            policy.warn_ratio,
            self.engine.calendar,
            office_hours=self.engine.policies.office_hours,
        )

    def _span(self, policy: Any, kind: str, limit: Any) -> timedelta:
        """The length of `limit` under `policy`, measured once from now."""
        key = (policy.name, kind)
        if key not in self.span:
            probe = self._start(kind, limit, self.now, policy)
            self.span[key] = probe.due_at - probe.started_at
        return self.span[key]

    def _number(self, created: datetime) -> str:
        day = local_day(created)
        self.counters[day] = self.counters.get(day, 0) + 1
        return f"{day}-{self.counters[day]:05d}"

    def build(
        self, ticket_id: int, *, closed: bool = False
    ) -> tuple[Ticket, list[TicketClock], list[TicketEvent]]:
        """One open ticket (clocks per the distribution above), or a closed one from history."""
        rng = self.rng
        kind, title, content = rng.choice(TEMPLATES)
        place = rng.choice(self.places)
        title, content = title.format(place=place), content.format(place=place)
        urgency = "紧急" if rng.random() < 0.03 else "一般"
        category = rng.choice(self.categories)
        policy = self.engine.policy_for(
            SimpleNamespace(  # type: ignore[arg-type]
                kind=kind, category=category, urgency=urgency, title=title, content=content
            )
        )
        unit = rng.choice(self.units)
        signed = rng.random() >= DISPATCHED_SHARE
        at_risk = "feedback" if signed else "receipt"
        limit = policy.feedback if signed else policy.receipt
        elapsed = self._span(policy, at_risk, limit) * _fraction(rng, policy.warn_ratio)
        if closed:
            signed = True
            elapsed = timedelta(days=rng.uniform(20, 365))
        dispatched_at = self.now - elapsed
        created_at = dispatched_at - timedelta(minutes=rng.uniform(2, 30))
        receipt = self._start("receipt", policy.receipt, dispatched_at, policy)
        feedback = self._start("feedback", policy.feedback, dispatched_at, policy)
        status = Status.DISPATCHED.value
        events = [
            ("create", None, Status.RECEIVED.value, created_at, "话务员"),
            ("dispatch", Status.RECEIVED.value, Status.DISPATCHED.value, dispatched_at, "系统"),
        ]
        clock_list = [("receipt", receipt), ("feedback", feedback)]
        if signed:
            # Signed somewhere inside the receipt limit, and before now.
            latest = min(receipt.due_at, self.now)
            signed_at = dispatched_at + (latest - dispatched_at) * rng.uniform(0.05, 0.9)
            clock_list[0] = ("receipt", clocks.meet(receipt, signed_at))
            if policy.mediation is not None:
                mediation = self._start("mediation", policy.mediation, signed_at, policy)
                clock_list.append(("mediation", mediation))
            status = Status.HANDLING.value
            events.append(("sign", Status.DISPATCHED.value, status, signed_at, unit.name[:20]))
        if closed:
            # Replied (met, like the system leaves it: still `current`), called back, closed.
            replied_at = signed_at + (feedback.due_at - signed_at) * rng.uniform(0.2, 1.05)
            clock_list = [(k, c if c.met_at else clocks.meet(c, replied_at)) for k, c in clock_list]
            status = Status.CLOSED.value
            events += [
                ("reply", Status.HANDLING.value, Status.REPLIED.value, replied_at, unit.name[:20]),
                (
                    "close",
                    Status.REPLIED.value,
                    status,
                    replied_at + timedelta(days=rng.uniform(1, 3)),
                    "话务员",
                ),
            ]
        ticket = Ticket(
            id=ticket_id,
            number=self._number(created_at),
            query_code="".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(6)),
            channel=rng.choice(["phone", "phone", "web", "wechat"]),
            kind=kind,
            urgency=urgency,
            category=category,
            title=title,
            content=content,
            address=f"A市{place}",
            complainant_name=rng.choice(SURNAMES) + "先生",
            complainant_phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            confidential=kind == "举报",
            attachments=[],
            status=status,
            lead_unit_id=unit.id,
            routing={"lead_unit": unit.code, "category": category, "confidence": 0.9},
            needs_review=False,
            created_at=created_at,
            updated_at=events[-1][3],
            version=len(events),
            closed_at=events[-1][3] if closed else None,
            result="solved" if closed else None,
            satisfaction="满意" if closed else None,
        )
        clock_rows = [
            TicketClock(
                ticket_id=ticket_id,
                kind=k,
                generation=1,
                current=True,
                **clock_columns(c, policy.name),
            )
            for k, c in clock_list
        ]
        event_rows = [
            TicketEvent(
                ticket_id=ticket_id,
                action=a,
                actor_name=who,
                actor_role="operator" if a == "create" else ("unit" if a == "sign" else "system"),
                actor_unit_id=unit.id if a == "sign" else None,
                from_status=f,
                to_status=t,
                payload={},
                public=True,
                created_at=at,
            )
            for a, f, t, at, who in events
        ]
        return ticket, clock_rows, event_rows


async def fill(url: str, count: int, now: datetime, seed: int, history: int = 0) -> float:
    """Create the tables, units, people with mail addresses, `history` closed tickets and
    `count` open ones."""
    from hotline.startup.bootstrap import load_deployment

    settings = load_settings()
    deployment = load_deployment(settings, with_model=False)
    await sync_units(list(deployment.units))
    units = [u for u in await Unit.filter(active=True) if u.email]
    people = [
        User(
            username="bench-sup",
            role="supervisor",
            password_hash="x",
            email="sup@a.gov.example",
            display_name="督办科",
            created_at=now,
        )
    ]
    people += [
        User(
            username=f"staff-{u.code.lower()}",
            role="unit",
            unit_id=u.id,
            password_hash="x",
            email=f"staff-{u.code.lower()}@a.gov.example",
            display_name="承办人",
            created_at=now,
        )
        for u in units[:20]
    ]
    await User.bulk_create(people)
    assert deployment.sla is not None and deployment.vocabulary is not None
    filler = Filler(deployment.sla, now, units, seed, deployment.vocabulary.model_categories)
    started = time.perf_counter()
    total = history + count
    for first in range(1, total + 1, BATCH):
        tickets, clock_rows, event_rows = [], [], []
        for ticket_id in range(first, min(first + BATCH, total + 1)):
            t, c, e = filler.build(ticket_id, closed=ticket_id <= history)
            tickets.append(t)
            clock_rows += c
            event_rows += e
        await Ticket.bulk_create(tickets)
        await TicketClock.bulk_create(clock_rows)
        await TicketEvent.bulk_create(event_rows)
    if url.startswith("postgres"):
        # Ticket ids were given explicitly; move the sequence past them.
        conn = Ticket._meta.db
        await conn.execute_script(
            "SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT MAX(id) FROM ticket))"
        )
        await conn.execute_script("ANALYZE")
    return time.perf_counter() - started


async def expected(now: datetime) -> tuple[int, int]:
    """(breaches, warnings) the sweep should record, counted straight from the rows."""
    open_clocks = TicketClock.filter(is_open=True).exclude(state="paused")
    breaches = await open_clocks.filter(breached=False, due_at__lte=now).count()
    warnings = await open_clocks.filter(warned=False, warn_at__lte=now, due_at__gt=now).count()
    return breaches, warnings


async def sla_events() -> int:
    return await TicketEvent.filter(action__in=["sla_warning", "sla_breach"]).count()


async def timed_sweep(now: datetime) -> tuple[float, int, int, int, int]:
    """Seconds, breaches, warnings, events written and mails queued by one sweep."""
    mails = OutboxMessage.filter(transport="mail")
    events_before, mails_before = await sla_events(), await mails.count()
    t0 = time.perf_counter()
    report = await sweep(now=now, link_base=LINK_BASE)
    took = time.perf_counter() - t0
    events = await sla_events() - events_before
    queued = await mails.count() - mails_before
    return took, len(report.breaches), len(report.warnings), events, queued


async def run(url: str, count: int, seed: int, history: int = 0) -> int:
    ctx = await open_database(url)
    try:
        now = utcnow()
        fill_s = await fill(url, count, now, seed, history)
        clock_rows = await TicketClock.all().count()
        want_breaches, want_warnings = await expected(now)
        print(
            f"backend      {'postgres' if url.startswith('postgres') else 'sqlite'}  "
            f"({_redacted(url)})"
        )
        closed = f" + {history} closed" if history else ""
        print(
            f"fixture      {count} open tickets{closed}, {clock_rows} clocks, "
            f"filled in {fill_s:.1f} s; "
            f"due: {want_breaches} clocks past due, {want_warnings} past warning"
        )
        took, breaches, warnings, events, mails = await timed_sweep(now)
        print(
            f"sweep 1      {took:.2f} s: {breaches} breaches + {warnings} warnings, "
            f"{events} events written, {mails} mails queued "
            f"({(breaches + warnings) / took:.0f} escalations/s)"
        )
        took2, b2, w2, e2, m2 = await timed_sweep(now)
        print(
            f"sweep 2      {took2:.3f} s: {b2} breaches + {w2} warnings, "
            f"{e2} events written, {m2} mails queued (nothing left to do)"
        )
        print(
            f"machine      {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end"
        )
        ok = (breaches, warnings) == (want_breaches, want_warnings)
        ok = ok and events == breaches + warnings
        ok = ok and (b2, w2, e2, m2) == (0, 0, 0, 0)
        if not ok:
            print("MISMATCH: the sweep did not record exactly what was due", file=sys.stderr)
        return 0 if ok else 1
    finally:
        await close_database(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tickets", type=int, default=100_000, help="open tickets (default 100000)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite://FILE or postgres://… (a fresh schema is created and "
        "dropped); default: a temporary SQLite file",
    )
    parser.add_argument("--smoke", action="store_true", help="quick run: 1000 tickets")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="also this many closed tickets (met clocks) from the past year",
    )
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    count = 1000 if args.smoke else args.tickets
    if count < 1:
        parser.error("--tickets must be positive")
    with fresh_database(args.database_url, prefix="sweep") as url:
        return asyncio.run(run(url, count, args.seed, args.history))


if __name__ == "__main__":
    sys.exit(main())
