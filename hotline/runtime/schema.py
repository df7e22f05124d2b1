"""Schema versions: tortoise's built-in migrations, and adopting databases made before them.

The migrations live in `hotline/migrations/` (app `models`, which holds the mail outbox too):
`0001_initial` is the schema of the first release, `0002_ticket_clock_is_open` adds the
sweeper's `is_open` flag with its indexes and fills it in. Tortoise records what it applied in
the `tortoise_migrations` table.

Three kinds of database meet this code:

* **empty** (no tables of ours, nothing recorded): start-up applies every migration itself, so
  `python main.py demo` on a fresh machine needs no extra step;
* **migrated** (rows in `tortoise_migrations`): start-up refuses to run when migrations are
  pending and names `python main.py migrate`; serving a schema older than the code would fail
  on the first query that touches a missing column;
* **legacy** (tables of ours, nothing recorded): made by a release that created tables with
  `generate_schemas`. `migrate` replays the migrations in memory and, for each in order, checks
  whether every table and column it leads to is already there. The longest such run is
  *adopted* — recorded as applied without running it, as `tortoise migrate --fake` would — and
  the rest are applied normally, so `0002` adds `is_open` to a first-release database and
  computes it from `current` and `met_at`. A database that matches no migration (a table or
  column of `0001` missing) is refused rather than guessed at. Detection looks at tables and
  columns, not indexes: a release's index changes travel with a column or table change here.

On PostgreSQL `migrate` holds an advisory lock, so two processes starting on one empty
database do not both create the tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.migration import Migration
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

from hotline.runtime.dbconfig import DatabaseError, tortoise_config

APP = "models"
RECORD_TABLE = "tortoise_migrations"
# pg_advisory_lock key: any constant of our own; "12345" for the hotline.
_LOCK_KEY = 12345_0001


class SchemaError(DatabaseError):
    """The database's schema cannot be brought up to date automatically."""


@dataclass
class MigrationReport:
    """What `migrate` did: migrations adopted (already in the schema) and applied."""

    adopted: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


def _apps_config(connection_name: str) -> dict[str, dict[str, Any]]:
    return tortoise_config("", connection=connection_name)["apps"]


def _sqlite_statements(sql: str) -> Iterator[str]:
    """Split a script into statements, leaving a `;` inside a comment or string alone."""
    pieces = sql.split(";")
    buffer = ""
    for i, piece in enumerate(pieces):
        buffer += piece if i == len(pieces) - 1 else piece + ";"
        if i == len(pieces) - 1 or sqlite3.complete_statement(buffer):
            if buffer.strip().rstrip(";").strip():
                yield buffer.strip()
            buffer = ""


class _SqliteSchemaEditor(SqliteSchemaEditor):
    """Tortoise 1.1's SQLite editor splits DDL at every `;`, even inside a table comment
    (a model docstring such as ApiToken's), and then fails; split it properly instead."""

    async def _run_sql(self, sql: str) -> None:
        if self.collect_sql or not self.atomic_migration:
            await super()._run_sql(sql)
            return
        for statement in _sqlite_statements(sql):
            await self.client.execute_query(statement)


class _Executor(MigrationExecutor):
    def _schema_editor(self, atomic: bool = True, collect_sql: bool = False) -> BaseSchemaEditor:
        editor = super()._schema_editor(atomic=atomic, collect_sql=collect_sql)
        if type(editor) is SqliteSchemaEditor:
            return _SqliteSchemaEditor(self.connection, atomic=atomic, collect_sql=collect_sql)
        return editor


def _executor(conn: BaseDBAsyncClient) -> MigrationExecutor:
    return _Executor(conn, _apps_config(conn.connection_name))


async def pending_migrations(conn: BaseDBAsyncClient) -> list[str]:
    """Names of the migrations not yet recorded as applied, in the order they would run."""
    plan = await _executor(conn).plan()
    return [step.migration.name for step in plan if not step.backward]


async def existing_columns(conn: BaseDBAsyncClient) -> dict[str, set[str]]:
    """Every table in the connection's database (schema, on PostgreSQL) with its columns."""
    dialect = conn.capabilities.dialect
    if dialect == "sqlite":
        _, tables = await conn.execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        found: dict[str, set[str]] = {}
        for row in tables:
            name = row["name"]
            _, cols = await conn.execute_query(f'PRAGMA table_info("{name}")')
            found[name] = {col["name"] for col in cols}
        return found
    if dialect == "postgres":
        _, rows = await conn.execute_query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
        found = {}
        for row in rows:
            found.setdefault(row["table_name"], set()).add(row["column_name"])
        return found
    raise SchemaError(f"不支持的数据库类型：{dialect}")


def _state_columns(state: State) -> dict[str, set[str]]:
    """The tables and columns a replayed migration state describes."""
    tables: dict[str, set[str]] = {}
    for models in state.apps.apps.values():
        for model in models.values():
            meta = model._meta
            tables[meta.db_table] = set(meta.fields_db_projection.values())
    return tables


async def expected_columns(conn: BaseDBAsyncClient) -> list[tuple[str, dict[str, set[str]]]]:
    """Each migration in order, with the tables and columns the schema has after it."""
    executor = _executor(conn)
    await executor.loader.build_graph()
    steps: list[Migration] = []
    graph = executor.loader.graph
    for leaf in graph.leaf_nodes(APP):
        for key in graph.forwards_plan(leaf):
            migration = graph.nodes[key]
            if migration not in steps:
                steps.append(migration)
    state = State(models={}, apps=StateApps(default_connections={APP: conn.connection_name}))
    result = []
    for migration in steps:
        await migration.apply(state, dry_run=True, schema_editor=None)
        result.append((migration.name, _state_columns(state)))
    return result


async def _our_tables(conn: BaseDBAsyncClient, existing: dict[str, set[str]]) -> set[str]:
    known: set[str] = set()
    for _, tables in await expected_columns(conn):
        known |= set(tables)
    return known & set(existing)


async def is_empty(conn: BaseDBAsyncClient) -> bool:
    """True when the database has none of our tables and no migration records."""
    existing = await existing_columns(conn)
    if RECORD_TABLE in existing:
        return False
    return not await _our_tables(conn, existing)


async def _adoptable(conn: BaseDBAsyncClient, existing: dict[str, set[str]]) -> list[str]:
    """The migrations up to the newest one whose tables and columns a legacy database has.

    Searched from the newest back, since a later migration may drop tables an earlier one
    made (0009 folds outbox_mail and outbox_sms into outbox_message).
    """
    steps = await expected_columns(conn)
    first_missing: list[str] = []
    for index in range(len(steps) - 1, -1, -1):
        missing: list[str] = []
        for table, columns in sorted(steps[index][1].items()):
            if table not in existing:
                missing.append(table)
            else:
                missing.extend(f"{table}.{column}" for column in sorted(columns - existing[table]))
        if not missing:
            return [name for name, _ in steps[: index + 1]]
        first_missing = missing
    raise SchemaError(
        "数据库里已有本系统的表，但没有迁移记录，且结构与任何已知版本都不符"
        f"（缺少 {', '.join(first_missing[:5])}）"
    )


async def migrate(conn: BaseDBAsyncClient) -> MigrationReport:
    """Bring the schema up to date: adopt what a legacy database already has, apply the rest."""
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as lock_conn:
            await lock_conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
            try:
                return await _migrate(conn)
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return await _migrate(conn)


async def _migrate(conn: BaseDBAsyncClient) -> MigrationReport:
    report = MigrationReport()
    existing = await existing_columns(conn)
    executor = _executor(conn)
    if RECORD_TABLE not in existing and await _our_tables(conn, existing):
        report.adopted = await _adoptable(conn, existing)
        await executor.recorder.ensure_schema(executor._schema_editor(atomic=False))
        for name in report.adopted:
            await executor.recorder.record_applied(APP, name)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            report.applied.append(name)

    await executor.migrate(direction="forward", progress=progress)
    return report
