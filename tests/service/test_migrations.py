"""Migrations: they build the models' schema, and a first-release database upgrades intact."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationTarget

from hotline.domain.auth import Principal
from hotline.domain.models import Ticket, TicketClock, TicketEvent, Unit, User
from hotline.outbox.models import OutboxMessage
from hotline.runtime import schema
from hotline.runtime.db import DatabaseError, ensure_schema, tortoise_config
from hotline.services import fulltext, ticket_search
from hotline.services.knowledge import KB
from hotline.services.ticket_search import TICKETS

# Migrations are SQL per dialect: an old database upgrades on both.
pytestmark = pytest.mark.backends

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
# Every migration shipped, in order (a new one joins the list by existing).
MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).parents[2] / "hotline" / "migrations").glob("0*.py")
)


def _connection_name(database_url: str) -> str:
    # As in tests/conftest.py: PostgreSQL gets its own name so cached statements don't mix.
    return "pg" if database_url.startswith("postgres") else "default"


@pytest.fixture
async def bare(database_url: str) -> AsyncIterator[TortoiseContext]:
    """An initialised context on an empty database: no tables at all."""
    async with TortoiseContext() as ctx:
        await ctx.init(
            config=tortoise_config(database_url, connection=_connection_name(database_url))
        )
        yield ctx


async def _wipe(conn: Any) -> None:
    """Drop every table, leaving the database (or PostgreSQL schema) empty."""
    for table in await schema.existing_columns(conn):
        if conn.capabilities.dialect == "postgres":
            await conn.execute_script(f'DROP TABLE "{table}" CASCADE')
        else:
            await conn.execute_script("PRAGMA foreign_keys = OFF")
            # IF EXISTS: dropping an FTS5 table drops its shadow tables with it.
            await conn.execute_script(f'DROP TABLE IF EXISTS "{table}"')
    assert await schema.existing_columns(conn) == {}


async def _shape(conn: Any) -> dict[str, Any]:
    """Tables, columns (type, nullability) and indexes (columns, uniqueness) by introspection."""
    columns: set[tuple[Any, ...]] = set()
    indexes: set[tuple[Any, ...]] = set()
    if conn.capabilities.dialect == "sqlite":
        for table in await schema.existing_columns(conn):
            _, cols = await conn.execute_query(f'PRAGMA table_info("{table}")')
            columns |= {(table, c["name"], c["type"], bool(c["notnull"] or c["pk"])) for c in cols}
            _, idx = await conn.execute_query(f'PRAGMA index_list("{table}")')
            for index in idx:
                _, info = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
                names = tuple(i["name"] for i in sorted(info, key=lambda i: i["seqno"]))
                indexes.add((table, names, bool(index["unique"])))
    else:
        _, cols = await conn.execute_query(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
        columns = {
            (c["table_name"], c["column_name"], c["data_type"], c["is_nullable"] == "NO")
            for c in cols
        }
        _, idx = await conn.execute_query(
            "SELECT t.relname AS tbl, ix.indisunique AS uniq,"
            " array_agg(a.attname::text ORDER BY k.n) AS cols"
            " FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid"
            " JOIN pg_namespace ns ON ns.oid = t.relnamespace"
            " CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
            " WHERE ns.nspname = current_schema() GROUP BY t.relname, ix.indexrelid, ix.indisunique"
        )
        indexes = {(i["tbl"], tuple(i["cols"]), i["uniq"]) for i in idx}
    return {"columns": columns, "indexes": indexes}


def _without_records(shape: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {row for row in rows if row[0] != schema.RECORD_TABLE} for key, rows in shape.items()
    }


async def test_migrations_build_exactly_the_models_schema(bare: TortoiseContext) -> None:
    """A model change without its migration fails here (and in the next test)."""
    conn = bare.db()
    report = await schema.migrate(conn)
    assert report.applied == MIGRATIONS and report.adopted == []
    migrated = _without_records(await _shape(conn))
    await _wipe(conn)
    await bare.generate_schemas(safe=False)
    # The search index is no model: the test databases get it as tests/conftest.py does.
    await fulltext.ensure(conn, TICKETS)
    await fulltext.ensure(conn, KB)
    generated = await _shape(conn)
    assert migrated["columns"] == generated["columns"]
    assert migrated["indexes"] == generated["indexes"]
    assert {row[0] for row in generated["columns"]} >= {"ticket_clock", "outbox_message", "ticket"}


async def test_makemigrations_finds_no_changes() -> None:
    """What `tortoise -c hotline.runtime.db.TORTOISE_ORM makemigrations` would write: nothing."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config("sqlite://:memory:"))
        apps_config = tortoise_config("sqlite://:memory:")["apps"]
        writers = await MigrationAutodetector(ctx.apps, apps_config).changes()
    assert [w.name for w in writers] == [], "models changed: run tortoise makemigrations"


async def test_empty_database_is_migrated_at_start_up(bare: TortoiseContext) -> None:
    conn = bare.db()
    assert await schema.is_empty(conn)
    await ensure_schema(conn)
    assert await schema.pending_migrations(conn) == []
    again = await schema.migrate(conn)
    assert again.applied == [] and again.adopted == []


# ---- a database made by the first release ---------------------------------------------------

T0 = "'2026-01-05 01:00:00+00:00'"
T1 = "'2026-01-05 03:00:00+00:00'"

LEGACY_ROWS = [
    "INSERT INTO unit (id, code, name, kind, parent_code, email, active) VALUES"
    " (1, 'ZJJ', '住建局', 'bureau', '', 'zjj@example.cn', TRUE),"
    " (2, 'HANPU', '含浦街道', 'street', 'A3', '', TRUE)",
    "INSERT INTO app_user (id, username, display_name, password_hash, role, unit_id, email,"
    " active, created_at) VALUES"
    f" (1, 'op', '王话务员', 'argon2-hash', 'operator', NULL, '', TRUE, {T0}),"
    f" (2, 'zjj01', '住建局甲', 'argon2-hash', 'unit', 1, 'a@zjj.cn', FALSE, {T0})",
    "INSERT INTO api_token (id, user_id, token_hash, label, created_at, revoked) VALUES"
    f" (1, 1, 'deadbeef', 'cli', {T0}, FALSE)",
    "INSERT INTO ticket_counter (day, value) VALUES ('20260105', 2)",
    "INSERT INTO ticket (id, number, query_code, channel, kind, urgency, category, title, content,"
    " address, district, street, latitude, longitude, complainant_name, complainant_phone,"
    " complainant_email, complainant_openid, anonymous, confidential, attachments, status,"
    " lead_unit_id, routing, needs_review, merged_into_id, result, satisfaction, created_by_id,"
    " created_at, updated_at, closed_at, next_due_at, version) VALUES"
    " (1, '20260105-00001', 'K7PQ2M', 'phone', '投诉', '一般', '城乡建设', '小区夜间施工噪音扰民',"
    " '工地每天夜里施工到凌晨，电话13812345678', 'A3区含浦街道', 'A3区', '含浦街道', 28.1, 112.9,"
    " '张先生', '13812345678', '', '', FALSE, FALSE, '[]', 'handling', 1,"
    f' \'{{"rule": "category", "confidence": 0.93}}\', FALSE, NULL, NULL, NULL, 1, {T0}, {T1},'
    f" NULL, {T1}, 3),"
    " (2, '20260105-00002', 'ABCDEF', 'web', '咨询', '一般', NULL, '公积金怎么提取', '咨询',"
    " '', '', '', NULL, NULL, '', '', 'x@example.cn', '', TRUE, FALSE, '[]', 'closed', NULL, '{}',"
    f" FALSE, NULL, 'solved', '满意', 1, {T0}, {T1}, {T1}, NULL, 2)",
    "INSERT INTO ticket_unit (id, ticket_id, unit_id, role, active, created_at) VALUES"
    f" (1, 1, 1, 'lead', TRUE, {T0})",
    "INSERT INTO ticket_event (id, ticket_id, action, actor_id, actor_name, actor_role,"
    " actor_unit_id, from_status, to_status, payload, public, created_at) VALUES"
    f" (1, 1, 'create', 1, '王话务员', 'operator', NULL, NULL, 'received', '{{}}', TRUE, {T0}),"
    " (2, 1, 'dispatch', 1, '王话务员', 'operator', NULL, 'received', 'dispatched',"
    f' \'{{"lead_unit": "ZJJ"}}\', TRUE, {T0}),'
    " (3, 1, 'sign', 2, '住建局甲', 'unit', 1, 'dispatched', 'handling', '{}', TRUE, "
    f"{T1})",
    # (id, current, met_at, breached): open exactly when current and unmet.
    'INSERT INTO ticket_clock (id, ticket_id, kind, generation, current, state, "limit",'
    " started_at, due_at, warn_at, provisional, warned, breached, met_at, detail) VALUES"
    f" (1, 1, 'receipt', 1, FALSE, 'met', '2h', {T0}, {T1}, NULL, FALSE, FALSE, FALSE, NULL,"
    " '{}'),"
    f" (2, 1, 'receipt', 2, TRUE, 'met', '2h', {T0}, {T1}, NULL, FALSE, FALSE, FALSE, {T1},"
    " '{}'),"
    f" (3, 1, 'feedback', 1, TRUE, 'running', '7d', {T0}, {T1}, {T0}, TRUE, TRUE, FALSE, NULL,"
    " '{\"paused\": []}'),"
    f" (4, 1, 'mediation', 1, TRUE, 'running', '45wd', {T0}, {T0}, NULL, FALSE, TRUE, TRUE, NULL,"
    " '{}')",
    "INSERT INTO outbox_mail (id, message_id, to_addrs, subject, body_text, body_html, status,"
    " attempts, next_attempt_at, last_error, created_at, sent_at, ticket_number, reason,"
    " claimed_until, claim_token) VALUES"
    " (1, '<1@12345.example>', '[\"zjj@example.cn\"]', '新派工单 20260105-00001', '正文', NULL,"
    f" 'pending', 2, {T1}, 'timeout', {T0}, NULL, '20260105-00001', 'dispatch', NULL, NULL),"
    " (2, '<2@12345.example>', '[\"a@zjj.cn\"]', '催办', '正文', '<p>正文</p>', 'sent', 1,"
    f" {T0}, NULL, {T0}, {T1}, '20260105-00001', 'urge', NULL, NULL)",
    f"INSERT INTO job_run (id, name, day, created_at) VALUES (1, 'digest', '20260105', {T0})",
]
OPEN_CLOCKS = {1: False, 2: False, 3: True, 4: True}
# What migrations after 0003 add (the first release had none of it).
NEW_TABLES = {
    "rate_counter",
    "rate_assignment",
    "rate_callback",
    "outbox_sms",
    "open311_token",
    "web_session",
    "wechat_nonce",
    "login_known_address",
    "outbox_message",
    "phone_call",
    "rate_daily",
    "kb_entry",
    "kb_history",
    "assessment_month",
    "assessment_log",
    "radar_alert",
    "similar_hold",
    "radar_terms",
    "radar_snapshot",
}
NEW_COLUMNS = {
    "expires_at",
    "last_used_at",
    "anonymised_at",
    "sms_opt_out",
    "no_contact",
    "dispatch_title",
    "dispatch_confirmed_at",
    "external_id",
    "call_id",
    # 0014: a daily job's claim records its attempts (a digest sent before counts as finished).
    "attempts",
    "attempted_at",
    "finished_at",
    "error",
    "unsigned_due_at",
    "unreplied_due_at",
}
# Columns later migrations add to one table (names other tables also use, e.g. state).
NEW_TABLE_COLUMNS = {
    "ticket_unit": {
        "due_at", "limit", "state", "answered_at", "text", "done", "parent_unit_id",
        "warn_at", "warned", "breached",
        # 0023: the worklist's copy of the ticket (checked against the ticket below).
        "status", "next_due_at", "ticket_created_at", "supervised", "reopened", "answered",
        "changed_at",
    },
}


async def _make_legacy(conn: Any) -> None:
    dialect = conn.capabilities.dialect
    await conn.execute_script((LEGACY / f"schema_{dialect}.sql").read_text(encoding="utf-8"))
    for statement in LEGACY_ROWS:
        await conn.execute_script(statement)
    if dialect == "postgres":  # explicit ids leave the sequences behind
        for table in await schema.existing_columns(conn):
            if table != "ticket_counter":
                await conn.execute_script(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                    f' (SELECT max(id) FROM "{table}"))'
                )


async def _dump(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the first release, in id order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in sorted(await schema.existing_columns(conn)):
        if table == schema.RECORD_TABLE:
            continue
        _, found = await conn.execute_query(f'SELECT * FROM "{table}" ORDER BY 1')
        rows[table] = [dict(r) for r in found]
    return rows


async def test_first_release_database_upgrades_with_every_row(bare: TortoiseContext) -> None:
    conn = bare.db()
    await _make_legacy(conn)
    before = await _dump(conn)
    assert all(before[t] for t in before if t != "ticket_counter"), "every table has rows"

    assert not await schema.is_empty(conn)
    assert await schema.pending_migrations(conn) == MIGRATIONS
    with pytest.raises(
        DatabaseError, match=rf"有 {len(MIGRATIONS)} 个未执行的迁移.*python main.py migrate"
    ):
        await ensure_schema(conn)

    report = await schema.migrate(conn)
    assert report.adopted == ["0001_initial"]
    assert report.applied == MIGRATIONS[1:]
    assert await schema.pending_migrations(conn) == []
    await ensure_schema(conn)

    after = await _dump(conn)
    # The mail outbox became the one outbox (0009): its rows moved, the table went.
    moved = await OutboxMessage.filter(transport="mail").order_by("id")
    assert [(m.dedupe_key, m.status, m.attempts, m.last_error) for m in moved] == [
        (r["message_id"], r["status"], r["attempts"], r["last_error"])
        for r in before.pop("outbox_mail")
    ]
    # Tables later migrations add start empty; every other table that was there is still there.
    # The search index (0014; on SQLite an FTS5 table and its shadow tables) is built for
    # the tickets already there.
    # So is the daily volume rollup (0026), from the tickets already there.
    search = {t for t in after if t.startswith(("ticket_search", "kb_search"))} | {"volume_daily"}
    assert after["volume_daily"], "the volume rollup is backfilled from the tickets"
    new_tables = {"idempotency_key", *NEW_TABLES, *search}
    assert set(after) - set(before) <= new_tables and set(before) <= set(after)
    assert all(after[t] == [] for t in set(after) - set(before) - {"outbox_message"} - search)
    operator = Principal(1, "op", "op", "operator", None, None)
    found = await ticket_search.search(principal=operator, text="噪音")
    assert found.hits.ids == [1]
    assert (await ticket_search.search(principal=operator, text="凌晨 施工")).hits.ids == [1]
    # Columns later migrations add are new; every value that was there is unchanged.
    added = {"is_open", "dispatch_text", *NEW_COLUMNS}
    for table, rows in before.items():
        skip = added | NEW_TABLE_COLUMNS.get(table, set())
        got = [{k: v for k, v in row.items() if k not in skip} for row in after[table]]
        assert got == rows, table
    # 0020 copied each ticket's status and times onto its links (the unit worklists').
    tickets = {r["id"]: r for r in after["ticket"]}
    assert after["ticket_unit"] and all(
        (link["status"], link["next_due_at"], link["ticket_created_at"])
        == (
            tickets[link["ticket_id"]]["status"],
            tickets[link["ticket_id"]]["next_due_at"],
            tickets[link["ticket_id"]]["created_at"],
        )
        for link in after["ticket_unit"]
    )
    # The digest a first release sent is finished: no worker sends that day's again.
    assert all(r["finished_at"] == r["created_at"] for r in after["job_run"])
    clocks = {c.id: c.is_open for c in await TicketClock.all()}
    assert clocks == OPEN_CLOCKS
    # The upgraded database serves the models: the sweeper's query and ORM reads and writes.
    assert await TicketClock.filter(is_open=True, breached=False).values_list("id", flat=True) == [
        3
    ]
    ticket = await Ticket.get(number="20260105-00001").prefetch_related("lead_unit")
    assert ticket.lead_unit is not None and ticket.lead_unit.code == "ZJJ"
    assert ticket.routing == {"rule": "category", "confidence": 0.93}
    assert [e.action for e in await TicketEvent.filter(ticket=ticket).order_by("id")] == [
        "create",
        "dispatch",
        "sign",
    ]
    assert (await OutboxMessage.get(dedupe_key="<1@12345.example>")).to_addrs == ["zjj@example.cn"]
    assert (await User.get(username="zjj01")).unit_id == 1
    new = await TicketClock.create(
        ticket=ticket,
        kind="receipt",
        generation=3,
        state="running",
        limit="2h",
        started_at=ticket.created_at,
    )
    assert new.is_open and (await TicketClock.get(id=new.id)).is_open
    await Unit.create(code="NEW", name="新单位", kind="bureau")

    again = await schema.migrate(conn)
    assert again.applied == [] and again.adopted == []


async def test_unmigrated_database_of_the_current_models_is_adopted(bare: TortoiseContext) -> None:
    """A database made by generate_schemas after is_open existed, before migrations did."""
    conn = bare.db()
    await bare.generate_schemas(safe=False)
    report = await schema.migrate(conn)
    assert report.adopted == MIGRATIONS and report.applied == []
    assert await schema.pending_migrations(conn) == []


async def test_unknown_schema_is_refused(bare: TortoiseContext) -> None:
    conn = bare.db()
    await conn.execute_script('CREATE TABLE "unit" ("id" INT NOT NULL PRIMARY KEY)')
    with pytest.raises(schema.SchemaError, match="与任何已知版本都不符"):
        await schema.migrate(conn)
    assert schema.RECORD_TABLE not in await schema.existing_columns(conn)


async def test_rate_counters_in_use_survive_the_upgrade_that_adds_reservations(
    bare: TortoiseContext,
) -> None:
    """rate_counter always has rows (the rules version never expires): `pending` needs a default."""
    from tortoise.migrations.executor import MigrationTarget

    from hotline.services import counters, rules_version

    conn = bare.db()
    target = MigrationTarget("models", "0008_citizen_channels")
    await schema._executor(conn).migrate([target], direction="forward")
    await conn.execute_script(
        'INSERT INTO rate_counter ("key", hits, expires) VALUES '
        "('rules-version', 3, 4611686018427387904), ('login-user:op:300:6000000', 4, 1800000300)"
    )
    report = await schema.migrate(conn)
    assert report.applied and await schema.pending_migrations(conn) == []
    assert await rules_version.current() == 3
    win = counters.Window("login-user:op:300:6000000", 1800000300)
    assert await counters.counts(win) == (4, 0)
    assert await counters.reserve(win, 5) is counters.Reserved.OK


# ---- 0009: mail and texts become one outbox ---------------------------------------------------

OUTBOX_ROWS = [
    "INSERT INTO outbox_mail (message_id, to_addrs, subject, body_text, body_html, status,"
    " attempts, next_attempt_at, last_error, created_at, sent_at, ticket_number, reason,"
    " claimed_until, claim_token) VALUES"
    f" ('<p@x>', '[\"a@x.cn\", \"b@x.cn\"]', '待发', '正文', '<p>正文</p>', 'pending', 2, {T1},"
    f" 'timeout', {T0}, NULL, 'GD-1', 'dispatch', {T1}, 'lease-1'),"
    f" ('<s@x>', '[\"a@x.cn\"]', '已发', '正文', NULL, 'sent', 1, {T0}, NULL, {T0}, {T1},"
    " 'GD-1', 'urge', NULL, NULL),"
    f" ('<f@x>', '[\"c@x.cn\"]', '失败', '正文', NULL, 'failed', 7, {T0}, '550 no such user',"
    f" {T0}, NULL, NULL, 'digest', NULL, NULL)",
    "INSERT INTO outbox_sms (dedupe_key, phone, template, params, body, status, attempts,"
    " next_attempt_at, last_error, gateway_ref, created_at, sent_at, ticket_number, reason,"
    " claimed_until, claim_token) VALUES"
    f" ('GD-1:accepted:1', '13812345678', 'accepted', '{{\"number\": \"GD-1\"}}', '已受理',"
    f" 'pending', 0, {T1}, NULL, NULL, {T0}, NULL, 'GD-1', 'create', NULL, NULL),"
    f" ('GD-1:replied:3', '13812345678', 'replied', '{{}}', '已答复', 'sent', 1, {T0}, NULL,"
    f" 'biz-42', {T0}, {T1}, 'GD-1', 'reply', NULL, NULL),"
    f" ('GD-2:accepted:1', '13900000000', 'accepted', '{{}}', '已受理', 'failed', 3, {T0},"
    f" 'invalid mobile', NULL, {T0}, NULL, 'GD-2', 'create', NULL, NULL)",
]


async def test_mail_and_texts_move_into_the_one_outbox_with_their_state(
    bare: TortoiseContext,
) -> None:
    """0009 on a database with mail and texts in every status: nothing lost, nothing changed."""
    conn = bare.db()
    executor = schema._executor(conn)
    await executor.migrate([MigrationTarget("models", "0008_citizen_channels")])
    for statement in OUTBOX_ROWS:
        await conn.execute_script(statement)
    _, mails = await conn.execute_query('SELECT * FROM "outbox_mail" ORDER BY id')
    _, texts = await conn.execute_query('SELECT * FROM "outbox_sms" ORDER BY id')

    report = await schema.migrate(conn)
    assert report.applied == [m for m in MIGRATIONS if m > "0008_citizen_channels"]
    assert {"outbox_mail", "outbox_sms"}.isdisjoint(await schema.existing_columns(conn))

    def same(row: OutboxMessage, old: dict[str, Any]) -> dict[str, Any]:
        """The fields that differ between a moved row and its old row (none, we expect)."""
        pairs = {k: (getattr(row, k), old[k]) for k in ("status", "attempts", "last_error")}
        pairs |= {
            k: (getattr(row, k), _aware(old[k]))
            for k in ("next_attempt_at", "created_at", "sent_at", "claimed_until")
        }
        return {k: pair for k, pair in pairs.items() if pair[0] != pair[1]}

    moved = {m.dedupe_key: m for m in await OutboxMessage.filter(transport="mail")}
    assert set(moved) == {"<p@x>", "<s@x>", "<f@x>"}
    for old in map(dict, mails):
        row = moved[old["message_id"]]
        assert same(row, old) == {}
        addrs = old["to_addrs"]
        assert row.to_addrs == (json.loads(addrs) if isinstance(addrs, str) else addrs)
        assert (row.subject, row.body, row.body_html) == (
            old["subject"],
            old["body_text"],
            old["body_html"],
        )
        assert (row.ticket_number, row.reason, row.claim_token) == (
            old["ticket_number"],
            old["reason"],
            old["claim_token"],
        )
    sent = {m.dedupe_key: m for m in await OutboxMessage.filter(transport="sms")}
    assert set(sent) == {"GD-1:accepted:1", "GD-1:replied:3", "GD-2:accepted:1"}
    for old in map(dict, texts):
        row = sent[old["dedupe_key"]]
        assert same(row, old) == {}
        assert (row.phone, row.template, row.body, row.gateway_ref) == (
            old["phone"],
            old["template"],
            old["body"],
            old["gateway_ref"],
        )
    assert sent["GD-1:accepted:1"].params == {"number": "GD-1"}
    # The moved rows are served by the one sender: the pending ones are due, the rest are not.
    due = await OutboxMessage.filter(status="pending").values_list("dedupe_key", flat=True)
    assert sorted(due) == ["<p@x>", "GD-1:accepted:1"]


def _aware(value: Any) -> datetime | None:
    """SQLite hands back timestamps as text; PostgreSQL as aware datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
