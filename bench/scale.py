"""Time each row of issue #18's table against a real server on a generated database.

    python bench/generate.py --tickets 1000000 --days 365 --database-url URL
    python bench/scale.py --database-url URL            # the table
    python bench/scale.py --database-url URL --json     # the same, as JSON
    python bench/scale.py --database-url URL --smoke    # 1 timed run per row (CI)
    python bench/scale.py --database-url URL --worklist # only the unit worklist rows
    python bench/scale.py --database-url URL --volumes  # worklist, dashboard and trend rows
    python bench/scale.py --database-url URL --rates    # only the rates API row
    python bench/scale.py --database-url URL --search   # only the search rows

Starts `python main.py` (RUN_SWEEPER off) against the database, signs in as the busiest
unit's account, an operator and a supervisor (the accounts and password bench/generate.py
made), and times each request warm: one untimed request, then the median of `--repeat`
(5); then the server process's CPU time per request over `--repeat` more (the note's
"server CPU": on a shared machine the wall time includes waiting for a core). The sweep,
the mass escalation and the daily digest are called in-process (the sweeper's own
functions) and `rebuild-rates` is run as the CLI after the server stops. The mass escalation
and the digest leave the database as they found it: the clocks moved due are put back, and
the events, mails and job row they wrote are deleted.

A row whose endpoint does not exist (404/405) prints "n/a".
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

MAIN = REPO_ROOT / "main.py"
HOST = "127.0.0.1"
PASSWORD = "bench-password-2026"
SHANGHAI_OFFSET = timedelta(hours=8)
# Statuses a unit holds work in: its worklist.
UNIT_OPEN = "dispatched,disputed,handling,extension_requested,paused"
OPEN = ("received", "dispatched", "disputed", "handling", "extension_requested", "paused",
        "replied", "called_back")  # fmt: skip
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
POLL = re.compile(r'hx-get="/unit/list\?v=([^"]+)"')


@dataclass
class Row:
    """One line of the table."""

    name: str
    target: float | None  # seconds; None: the issue's target is not a time (figure shown)
    figures: list[float | None] = field(default_factory=list)  # one per sub-measure
    labels: list[str] = field(default_factory=list)
    note: str = ""
    totals: dict[str, int] = field(default_factory=dict)  # what a list answered (its `total`)

    @property
    def status(self) -> str:
        if self.note.startswith("error"):  # a crash (the digest on PostgreSQL) fails the row
            return "FAIL"
        if not self.figures or all(f is None for f in self.figures):
            return "n/a"
        if self.target is None:
            return "measured"
        worst = max(f for f in self.figures if f is not None)
        return "pass" if worst <= self.target else "FAIL"

    def figure_text(self) -> str:
        parts = []
        for f in self.figures:
            parts.append("n/a" if f is None else _fmt(f))
        return " / ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.name,
            "target_s": self.target,
            "figures_s": self.figures,
            "labels": self.labels,
            "status": self.status,
            "note": self.note,
            "totals": self.totals,
        }


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class NotThere(Exception):
    """The endpoint does not exist (yet)."""


# ---- facts read from the database ------------------------------------------------------


async def facts(url: str) -> dict[str, Any]:
    """The busiest unit, a ticket of it, a repeat caller and search words."""
    from tortoise import connections

    from hotline.runtime.db import close_database, open_database

    ctx = await open_database(url)
    try:
        conn = connections.get("default")
        pg = conn.capabilities.dialect == "postgres"

        async def one(sql: str, *args: Any) -> Any:
            if pg:
                sql = _numbered(sql)
            _, rows = await conn.execute_query(sql, list(args))
            return rows[0] if rows else None

        marks = ", ".join("?" * len(OPEN))
        busiest = await one(
            "SELECT u.code, u.id, COUNT(*) AS n FROM ticket t "
            "JOIN unit u ON u.id = t.lead_unit_id "
            f"WHERE t.status IN ({marks}) GROUP BY u.code, u.id ORDER BY n DESC LIMIT 1",
            *OPEN,
        )
        if busiest is None:
            raise SystemExit("no open dispatched ticket: generate the database first")
        code, unit_id = busiest[0], busiest[1]
        ticket = await one(
            "SELECT number, query_code FROM ticket WHERE lead_unit_id = ? AND status = 'handling' "
            "ORDER BY id DESC LIMIT 1",
            unit_id,
        ) or await one("SELECT number, query_code FROM ticket ORDER BY id DESC LIMIT 1")
        caller = await one(
            "SELECT complainant_phone FROM ticket WHERE complainant_phone <> '' "
            "GROUP BY complainant_phone ORDER BY COUNT(*) DESC LIMIT 1"
        )
        last = await one("SELECT MAX(created_at) FROM ticket")
        sample = await one("SELECT title FROM ticket ORDER BY id LIMIT 1 OFFSET 7")
        title = str(sample[0]) if sample else "噪音扰民"
        rare = re.sub(r"[^\u4e00-\u9fff]", "", title)[2:6] or "噪音"
        count_open = await one(f"SELECT COUNT(*) FROM ticket WHERE status IN ({marks})", *OPEN)
        count_all = await one("SELECT COUNT(*) FROM ticket")
        # An empty or partial full-text index (a database generated before generate.py built
        # it, or a rebuild stopped) would time too little: the row's note says so.
        try:
            indexed = await one("SELECT COUNT(*) FROM ticket_search")
        except Exception:  # noqa: BLE001 - no index table at all: the same, said the same way
            indexed = None
    finally:
        await close_database(ctx)
    last_at = last[0] if last else None
    if isinstance(last_at, str):
        last_at = datetime.fromisoformat(last_at)
    return {
        "unit_code": code,
        "unit_open": busiest[2],
        "number": ticket[0],
        "query_code": ticket[1],
        "phone": caller[0] if caller else "",
        "rare": rare,
        "open": count_open[0],
        "indexed": indexed[0] if indexed else 0,
        "tickets": count_all[0] if count_all else 0,
        "last_at": last_at,
    }


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


# ---- the server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        RUN_SWEEPER="false",
        SECRET_KEY="scale-bench-secret-key-0123456789abcdef",
        PYTHONPATH=str(REPO_ROOT),
        MAIL_TRANSPORT=env.get("MAIL_TRANSPORT", "log"),
    )
    return env


@contextmanager
def server(url: str, workdir: Path) -> Iterator[str]:
    """`python main.py` on a free port until the block ends (its log in workdir)."""
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(MAIN), "--host", HOST, "--port", str(port)],
            cwd=workdir,
            env=_env(url),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    SERVER_PID[0] = proc.pid
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not healthy in 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def session(base: str, username: str, password: str) -> httpx.Client:
    """A page session: the login form with its CSRF token."""
    c = httpx.Client(base_url=base, timeout=600)
    page = c.get("/login")
    token = CSRF.search(page.text)
    r = c.post(
        "/login",
        data={"username": username, "password": password,
              "csrf_token": token.group(1) if token else ""},
    )  # fmt: skip
    if r.status_code != 303:
        raise SystemExit(f"sign-in as {username} failed: {r.status_code} {r.text[:300]}")
    return c


def bearer(base: str, url: str, username: str) -> httpx.Client:
    """An API client with a fresh token of `username` (issued by the project's service)."""
    token = asyncio.run(_issue(url, username))
    return httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"})


async def _issue(url: str, username: str) -> str:
    from hotline.runtime.db import close_database, open_database
    from hotline.services.users import issue_token

    ctx = await open_database(url)
    try:
        return await issue_token(username=username, now=datetime.now(UTC), label="scale bench")
    finally:
        await close_database(ctx)


SERVER_PID = [0]  # the running server's process, for its CPU time


def server_cpu(fn: Callable[[], Any], repeat: int) -> float | None:
    """The server process's CPU seconds per call (user + system, all its threads: on SQLite
    that includes the database's work, on PostgreSQL not). On a loaded machine the wall
    time includes waiting for a core; this does not."""
    stat = Path(f"/proc/{SERVER_PID[0]}/stat")
    if not SERVER_PID[0] or not stat.exists():
        return None

    def ticks() -> int:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime

    before = ticks()
    for _ in range(repeat):
        fn()
    return (ticks() - before) / os.sysconf("SC_CLK_TCK") / repeat


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls after one warm-up; the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def get(client: httpx.Client, path: str, **params: Any) -> Callable[[], httpx.Response]:
    def call() -> httpx.Response:
        r = client.get(path, params=params or None)
        if r.status_code in (404, 405) and "text/html" not in r.headers.get("content-type", ""):
            raise NotThere(path)
        if r.status_code >= 400:
            raise RuntimeError(f"GET {path} → {r.status_code}: {r.text[:300]}")
        return r

    return call


def browser_poll(client: httpx.Client, version: str) -> Callable[[], httpx.Response]:
    """The workbench's poll as htmx sends it: with the version the page shows, taking the
    new one from a 200 (the minute turning, say) as the swapped-in element carries it."""
    seen = [version]

    def call() -> httpx.Response:
        r = client.get("/unit/list", params={"v": seen[0]})
        if r.status_code >= 400:
            raise RuntimeError(f"GET /unit/list → {r.status_code}: {r.text[:300]}")
        fresh = POLL.search(r.text) if r.status_code == 200 else None
        if fresh:
            seen[0] = html.unescape(fresh.group(1))
        return r

    return call


# ---- in-process sweeper work -----------------------------------------------------------


async def _with_db(url: str, work: Callable[[], Any]) -> Any:
    from hotline.runtime.db import close_database, open_database

    ctx = await open_database(url)
    try:
        return await work()
    finally:
        await close_database(ctx)


async def sweep_steady(url: str, repeat: int) -> tuple[float, str]:
    """A catch-up sweep (whatever fell due since generation), then the median of idle sweeps."""
    from hotline.services.sweeper import sweep

    async def work() -> tuple[float, str]:
        first = await sweep(now=datetime.now(UTC), link_base="http://127.0.0.1:8000")
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            await sweep(now=datetime.now(UTC), link_base="http://127.0.0.1:8000")
            times.append(time.perf_counter() - t)
        note = f"catch-up sweep: {len(first.breaches)} breaches, {len(first.warnings)} warnings"
        return statistics.median(times), note

    return await _with_db(url, work)


async def _exec(conn: Any, sql: str, args: list[Any] | None = None) -> list[Any]:
    if conn.capabilities.dialect == "postgres":
        sql = _numbered(sql)
    _, rows = await conn.execute_query(sql, args or [])
    return list(rows)


async def mass_escalation(url: str, count: int) -> tuple[float | None, str]:
    """Move `count` open clocks due a minute ago, time one sweep, then put everything back."""
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from hotline.services.sweeper import sweep

    async def work() -> tuple[float | None, str]:
        conn = connections.get("default")
        now = datetime.now(UTC)
        await sweep(now=now, link_base="http://127.0.0.1:8000")  # settle what is due already
        rows = await _exec(
            conn,
            "SELECT id, ticket_id, due_at, warn_at, state, warned FROM ticket_clock "
            "WHERE is_open = ? AND breached = ? AND state <> 'paused' AND due_at > ? "
            "ORDER BY id LIMIT ?",
            [True, False, _param(conn, now), count],
        )
        if not rows:
            return None, "no open clock to move"
        max_event = (await _exec(conn, "SELECT COALESCE(MAX(id), 0) FROM ticket_event"))[0][0]
        max_mail = (await _exec(conn, "SELECT COALESCE(MAX(id), 0) FROM outbox_message"))[0][0]
        ids = [r[0] for r in rows]
        due = _param(conn, now - timedelta(minutes=1))
        warn = _param(conn, now - timedelta(minutes=2))
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            await _exec(
                conn,
                f"UPDATE ticket_clock SET due_at = ?, warn_at = ? WHERE id IN "
                f"({', '.join('?' * len(part))})",
                [due, warn, *part],
            )
        t, cpu = time.perf_counter(), time.process_time()
        report = await sweep(now=now, link_base="http://127.0.0.1:8000")
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        # Put the database back as it was (one statement on PostgreSQL, one transaction on
        # SQLite: 14,000 autocommitted round trips took minutes on a busy machine).
        if conn.capabilities.dialect == "postgres":
            await conn.execute_query(
                "UPDATE ticket_clock c SET due_at = v.due, warn_at = v.warn, state = v.state, "
                "warned = v.warned, breached = false FROM unnest($1::int[], "
                "$2::timestamptz[], $3::timestamptz[], $4::text[], $5::bool[]) "
                "AS v(id, due, warn, state, warned) WHERE c.id = v.id",
                [[r[0] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
                 [r[4] for r in rows], [bool(r[5]) for r in rows]],
            )  # fmt: skip
        else:
            async with in_transaction() as tx:
                for r in rows:
                    await tx.execute_query(
                        "UPDATE ticket_clock SET due_at = ?, warn_at = ?, state = ?, "
                        "warned = ?, breached = ? WHERE id = ?",
                        [r[2], r[3], r[4], r[5], False, r[0]],
                    )
        await _exec(
            conn,
            "DELETE FROM ticket_event WHERE id > ? AND action IN ('sla_breach', 'sla_warning')",
            [max_event],
        )
        await _exec(conn, "DELETE FROM outbox_message WHERE id > ?", [max_mail])
        note = f"{len(report.breaches)} escalations of {len(ids)} clocks moved"
        # This process's CPU (on SQLite the database's work too; on PostgreSQL not).
        note += f"; sweep CPU {cpu:.2f} s"
        return seconds, note

    return await _with_db(url, work)


def _param(conn: Any, at: datetime) -> Any:
    return at if conn.capabilities.dialect == "postgres" else str(at.astimezone(UTC))


async def digest(url: str, repeat: int) -> tuple[float | None, str]:
    """Time the daily digest job; its job row and mail are removed after each run."""
    from tortoise import connections

    from hotline.services.sweeper import send_daily_digest

    async def work() -> tuple[float | None, str]:
        conn = connections.get("default")
        times = []
        note = ""
        for _ in range(repeat + 1):
            max_mail = (await _exec(conn, "SELECT COALESCE(MAX(id), 0) FROM outbox_message"))[0][0]
            max_job = (await _exec(conn, "SELECT COALESCE(MAX(id), 0) FROM job_run"))[0][0]
            t = time.perf_counter()
            try:
                sent = await send_daily_digest(
                    now=datetime.now(UTC), link_base="http://127.0.0.1:8000", hour=0
                )
            except Exception as exc:  # noqa: BLE001 - the figure is the crash
                return None, f"error: {type(exc).__name__}: {str(exc)[:120]}"
            times.append(time.perf_counter() - t)
            if not sent:
                note = "digest not sent (already sent today?)"
            await _exec(conn, "DELETE FROM outbox_message WHERE id > ?", [max_mail])
            await _exec(conn, "DELETE FROM job_run WHERE id > ?", [max_job])
            if times[0] > 10:
                # Minutes for the median of 5 would say nothing more: one run, said so.
                return times[0], (note + "; " if note else "") + "one run (over 10 s)"
        return statistics.median(times[1:]), note

    return await _with_db(url, work)


def rebuild_rates(url: str) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(MAIN), "rebuild-rates"],
        env=_env(url),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        return seconds, f"error: exit {proc.returncode}: {proc.stderr[-200:]}"
    return seconds, proc.stdout.strip().splitlines()[-1][:80] if proc.stdout.strip() else ""


# ---- the table -------------------------------------------------------------------------


def measure(
    url: str,
    *,
    repeat: int,
    escalate: int,
    smoke: bool,
    password: str,
    worklist: bool = False,
    volumes: bool = False,
    rates: bool = False,
    search_only: bool = False,
) -> list[Row]:
    info = asyncio.run(facts(url))
    print(
        f"busiest unit {info['unit_code']} ({info['unit_open']:,} open), ticket "
        f"{info['number']}, caller {info['phone'][:3]}…, rare word {info['rare']!r}, "
        f"{info['open']:,} open tickets",
        file=sys.stderr,
    )
    today = (datetime.now(UTC) + SHANGHAI_OFFSET).date()
    month_ago = today - timedelta(days=29)
    year_ago = today - timedelta(days=364)
    rows: list[Row] = []

    def row(
        name: str, target: float, calls: list[tuple[str, Callable[[], Any]]], cpu: bool = True
    ) -> Row:
        r = Row(name, target)
        for label, call in calls:
            r.labels.append(label)
            try:
                seconds, response = timed(call, repeat)
                r.figures.append(seconds)
                if cpu:
                    used = server_cpu(call, repeat)
                    if used is not None:
                        r.note += f"{label}: server CPU {used * 1000:.0f} ms; "
                if isinstance(response, httpx.Response):
                    if len(response.content) > 1_000_000:
                        r.note += f"{label}: {len(response.content) / 1e6:.1f} MB; "
                    if "json" in response.headers.get("content-type", ""):
                        body = response.json()
                        if isinstance(body, dict) and isinstance(body.get("total"), int):
                            r.totals[label] = body["total"]
            except NotThere:
                r.figures.append(None)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                r.figures.append(None)
                r.note = f"error: {str(exc)[:160]}"
        rows.append(r)
        print(f"  {r.name}: {r.figure_text()} {r.note}", file=sys.stderr)
        return r

    with tempfile.TemporaryDirectory(prefix="scale-") as tmp, server(url, Path(tmp)) as base:
        unit_user = f"unit_{info['unit_code'].lower()}"
        unit_api = bearer(base, url, unit_user)
        sup_api = bearer(base, url, "bench_supervisor")
        unit_page = session(base, unit_user, password)
        op_page = session(base, "bench_operator", password)
        sup_page = session(base, "bench_supervisor", password)
        public = httpx.Client(base_url=base, timeout=600)
        number = info["number"]
        if rates:  # --rates: only the rates row, with the server's CPU time per request
            row(
                "rates API, one year",
                1.0,
                [("api", get(sup_api, "/api/v1/stats/rates", **{"from": str(year_ago),
                                                                "to": str(today)}))],
                cpu=True,
            )  # fmt: skip
        if search_only:  # --search: only the search rows (after the index was built)
            _search_rows(row, sup_api, info)
        if rates or search_only:
            for c in (unit_api, sup_api, unit_page, op_page, sup_page, public):
                c.close()
            return rows
        row(
            "unit worklist API, busiest unit, page 1",
            0.050,
            [("api", get(unit_api, "/api/v1/tickets", status=UNIT_OPEN, page=1))],
        )
        polls = [("page", get(unit_page, "/unit")), ("poll", get(unit_page, "/unit/list"))]
        # The poll carries the version its page shows: timed again as the browser sends it
        # (204 while nothing changed; a server without versions renders the groups anyway).
        shown = POLL.search(unit_page.get("/unit").text)
        if shown:
            polls.append(("poll unchanged", browser_poll(unit_page, html.unescape(shown.group(1)))))
        row("/unit page and its 10-s poll", 0.100, polls)
        if worklist:  # --worklist: only the unit's rows (before/after a worklist change)
            for c in (unit_api, sup_api, unit_page, op_page, sup_page, public):
                c.close()
            return rows
        if not volumes:
            row(
                "one ticket (API / page), /track, caller history",
                0.050,
                [
                    ("api", get(sup_api, f"/api/v1/tickets/{number}")),
                    ("page", get(op_page, f"/tickets/{number}")),
                    ("track", get(public, "/track", number=number, code=info["query_code"])),
                    ("caller", get(op_page, "/operator/caller", phone=info["phone"])),
                ],
            )
        row(
            "supervisor dashboard, one month",
            0.500,
            [("page", get(sup_page, "/supervisor", preset="month"))],
        )
        row(
            "rates API, one year",
            1.0,
            [
                (
                    "api",
                    get(
                        sup_api, "/api/v1/stats/rates", **{"from": str(year_ago), "to": str(today)}
                    ),
                )
            ],
        )
        row(
            "trend chart, one month",
            0.500,
            [
                (
                    "api",
                    get(
                        sup_page, "/supervisor/trend", **{"from": str(month_ago), "to": str(today)}
                    ),
                )
            ],
        )
        if volumes:  # --volumes: only the rows read from the volume rollup
            for c in (unit_api, sup_api, unit_page, op_page, sup_page, public):
                c.close()
            return rows
        _search_rows(row, sup_api, info)
        row(
            "GET /api/v1/stats/overdue",
            0.200,
            [("api", get(sup_api, "/api/v1/stats/overdue"))],
        )
        for c in (unit_api, sup_api, unit_page, op_page, sup_page, public):
            c.close()
    # In-process sweeper work (the server is stopped: one writer on SQLite).
    r = Row("SLA sweep, steady state", 1.0, labels=["sweep"])
    seconds, note = asyncio.run(sweep_steady(url, repeat))
    r.figures, r.note = [seconds], note
    rows.append(r)
    print(f"  {r.name}: {r.figure_text()} {r.note}", file=sys.stderr)
    r = Row(f"mass escalation ({escalate:,} clocks due at once)", 10.0, labels=["sweep"])
    seconds2, note = asyncio.run(mass_escalation(url, escalate))
    r.figures, r.note = [seconds2], note
    rows.append(r)
    print(f"  {r.name}: {r.figure_text()} {r.note}", file=sys.stderr)
    r = Row("daily digest", 5.0, labels=["job"])
    seconds3, note = asyncio.run(digest(url, repeat))
    r.figures, r.note = [seconds3], note
    rows.append(r)
    print(f"  {r.name}: {r.figure_text()} {r.note}", file=sys.stderr)
    # The issue's target is "one transaction" (atomic), not a time: the time is shown.
    r = Row("rebuild-rates (CLI)", None, labels=["cli"])
    seconds4, note = rebuild_rates(url)
    r.figures, r.note = [seconds4], note
    rows.append(r)
    print(f"  {r.name}: {r.figure_text()} {r.note}", file=sys.stderr)
    return rows


def _search_rows(row: Callable[..., Row], api: httpx.Client, info: dict[str, Any]) -> None:
    searched = row(
        "search q= rare / common 2-char / no hit",
        0.200,
        [
            ("rare", get(api, "/api/v1/tickets", q=info["rare"])),
            ("common", get(api, "/api/v1/tickets", q="噪音")),
            ("none", get(api, "/api/v1/tickets", q="量子纠缠态")),
        ],
    )
    if not info["indexed"]:
        searched.note += "index empty (python main.py search-index rebuild): not a figure"
    elif info["indexed"] < info["tickets"]:
        searched.note += f"index holds {info['indexed']:,} of {info['tickets']:,} tickets"


def print_table(rows: list[Row]) -> None:
    print("| measure | target | figure | result | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        labels = "/".join(r.labels)
        target = "one transaction" if r.target is None else f"≤ {_fmt(r.target)}"
        print(
            f"| {r.name} | {target} | {r.figure_text()} ({labels}) | {r.status} | "
            f"{r.note.strip().rstrip(';')} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--smoke", action="store_true", help="one timed run per row, 50 clocks")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--escalate", type=int, default=14_000)
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument(
        "--worklist",
        action="store_true",
        help="only the unit worklist rows, with the server's CPU time per request",
    )
    parser.add_argument(
        "--search", action="store_true", help="only the search rows (q= rare, common, no hit)"
    )
    parser.add_argument(
        "--volumes",
        action="store_true",
        help="only the rows the daily volume rollup serves: dashboard and trend (and the units')",
    )
    parser.add_argument(
        "--rates",
        action="store_true",
        help="only the rates API row (one year), with the server's CPU time per request",
    )
    args = parser.parse_args()
    repeat = 1 if args.smoke else args.repeat
    escalate = min(args.escalate, 50) if args.smoke else args.escalate
    started = time.perf_counter()
    rows = measure(
        args.database_url, repeat=repeat, escalate=escalate, smoke=args.smoke,
        password=args.password, worklist=args.worklist, volumes=args.volumes,
        rates=args.rates,
        search_only=args.search,
    )  # fmt: skip
    if args.json:
        print(json.dumps({"rows": [r.as_dict() for r in rows],
                          "seconds": round(time.perf_counter() - started, 1)},
                         ensure_ascii=False, indent=1))  # fmt: skip
    else:
        print_table(rows)


if __name__ == "__main__":
    main()
