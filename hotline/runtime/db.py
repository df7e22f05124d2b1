"""Database connection: tortoise configuration, start-up checks and schema creation."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext, require_context

from hotline.runtime import schema
from hotline.runtime.dbconfig import DatabaseError, tortoise_config
from hotline.runtime.reporting import close_replica, open_replica

__all__ = [
    "DatabaseError",
    "close_database",
    "ensure_schema",
    "open_database",
    "ping",
    "tortoise_config",
]


async def open_database(
    database_url: str,
    *,
    global_fallback: bool = True,
    create_schema: bool = True,
    reporting_url: str = "",
    connection: str = "default",
) -> TortoiseContext:
    """Connect and check the database answers; with create_schema, see that the schema is current.

    An empty database gets every migration applied; one with pending migrations is refused
    with a line naming `python main.py migrate` (hotline/runtime/schema.py explains why).
    With `reporting_url` (REPORTING_DATABASE_URL) a second connection reaches the read
    replica the dashboard and exports read from; it must answer too.
    """
    ctx = TortoiseContext()
    # Enter before init: init finalises the models, which looks up the active context.
    ctx.__enter__()
    try:
        await ctx.init(
            config=tortoise_config(database_url, connection=connection),
            _enable_global_fallback=global_fallback,
        )
        await ctx.db().execute_query("SELECT 1")
    except Exception as exc:  # any driver error becomes one clear line
        await _quiet_close(ctx)
        raise DatabaseError(f"无法连接数据库 {_redact(database_url)}: {exc}") from exc
    if reporting_url:
        try:
            await open_replica(ctx, reporting_url)
        except Exception as exc:
            await _quiet_close(ctx)
            raise DatabaseError(
                f"无法连接统计用只读数据库（REPORTING_DATABASE_URL）"
                f" {_redact(reporting_url)}: {exc}"
            ) from exc
    if create_schema:
        try:
            await ensure_schema(ctx.db())
        except DatabaseError:
            await _quiet_close(ctx)
            raise
        except Exception as exc:
            await _quiet_close(ctx)
            raise DatabaseError(f"无法建立数据库结构 {_redact(database_url)}: {exc}") from exc
    return ctx


async def ensure_schema(conn: BaseDBAsyncClient) -> None:
    """Create the schema of an empty database; refuse one whose migrations are pending."""
    if await schema.is_empty(conn):
        await schema.migrate(conn)
        return
    pending = await schema.pending_migrations(conn)
    if pending:
        raise DatabaseError(
            f"数据库结构不是最新（有 {len(pending)} 个未执行的迁移），"
            "请先运行 python main.py migrate"
        )


async def ping() -> None:
    """One `SELECT 1` on the current context's database; raises what the driver raises."""
    await require_context().db().execute_query("SELECT 1")


async def close_database(ctx: TortoiseContext) -> None:
    """Close the connections of a context opened by open_database."""
    await _quiet_close(ctx)


async def _quiet_close(ctx: TortoiseContext) -> None:
    try:
        await close_replica(ctx)
    except Exception:  # noqa: BLE001 - as below
        pass
    try:
        await ctx.close_connections()
    except Exception:  # noqa: BLE001 - closing a broken connection must not mask the cause
        pass
    try:
        ctx.__exit__(None, None, None)
    except (ValueError, RuntimeError):
        pass


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _cli_config() -> dict[str, Any]:
    """What tortoise's own CLI reads: `tortoise -c hotline.runtime.db.TORTOISE_ORM …`."""
    from hotline.runtime.config import database_url

    return tortoise_config(database_url())


TORTOISE_ORM = _cli_config()
