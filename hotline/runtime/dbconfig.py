"""Which database and models tortoise uses, and the one error a failed connection becomes.

Its own module so that the connection (hotline.runtime.db) and the migrations
(hotline.runtime.schema) both build on it without importing each other: db applies the
schema on start-up, and schema needs only the configuration and the error.
"""

from __future__ import annotations

from typing import Any

MODEL_MODULES = ["hotline.domain.models", "hotline.outbox.models"]
MIGRATIONS_MODULE = "hotline.migrations"


class DatabaseError(Exception):
    """The database named by DATABASE_URL cannot be used."""


def tortoise_config(database_url: str, *, connection: str = "default") -> dict[str, Any]:
    """The tortoise configuration for one database URL."""
    return {
        "connections": {connection: database_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": connection,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
