"""Database connection: tortoise configuration, start-up checks and schema creation."""

from __future__ import annotations

from typing import Any

from tortoise.context import TortoiseContext

MODEL_MODULES = ["hotline.models", "hotline.mail.models"]


class DatabaseError(Exception):
    """The database named by DATABASE_URL cannot be used."""


def tortoise_config(database_url: str, *, connection: str = "default") -> dict[str, Any]:
    """The tortoise configuration for one database URL."""
    return {
        "connections": {connection: database_url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": connection}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(
    database_url: str, *, global_fallback: bool = True, create_schema: bool = True
) -> TortoiseContext:
    """Connect, check the database answers, and create missing tables."""
    ctx = TortoiseContext()
    # Enter before init: init finalises the models, which looks up the active context.
    ctx.__enter__()
    try:
        await ctx.init(
            config=tortoise_config(database_url), _enable_global_fallback=global_fallback
        )
        await ctx.db().execute_query("SELECT 1")
        if create_schema:
            await ctx.generate_schemas(safe=True)
    except Exception as exc:  # any driver error becomes one clear line
        await _quiet_close(ctx)
        raise DatabaseError(f"无法连接数据库 {_redact(database_url)}: {exc}") from exc
    return ctx


async def close_database(ctx: TortoiseContext) -> None:
    """Close the connections of a context opened by open_database."""
    await _quiet_close(ctx)


async def _quiet_close(ctx: TortoiseContext) -> None:
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


def _aerich_config() -> dict[str, Any]:
    """The configuration aerich reads: `aerich init -t hotline.db.TORTOISE_ORM`."""
    from hotline.config import database_url

    config = tortoise_config(database_url())
    config["apps"]["models"]["models"] = [*MODEL_MODULES, "aerich.models"]
    return config


TORTOISE_ORM = _aerich_config()
