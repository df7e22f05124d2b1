"""The full-text search index over tickets, built for the tickets already there.

Hand-written: the index is no model. SQLite gets an FTS5 table, PostgreSQL a table of
tsvectors with a GIN index per column (see `hotline.services.fulltext`); the statements are
copied here so this migration keeps creating what it created when it was written.

Filling it is the exception to "migrations import nothing of hotline/": the index is derived
data whose terms must be exactly the ones the running code searches for, so it is built by
the running code's rebuild (`python main.py search-index rebuild` does the same later).
"""

import importlib
import logging

from tortoise import migrations
from tortoise.migrations import operations as ops

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_search USING fts5("
    "shared, centre, tokenize='unicode61 remove_diacritics 0', detail=full)"
]
POSTGRES = [
    "CREATE TABLE IF NOT EXISTS ticket_search"
    " (id INT NOT NULL PRIMARY KEY, shared tsvector NOT NULL, centre tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ticket_search_shared ON ticket_search USING gin (shared)",
    "CREATE INDEX IF NOT EXISTS ticket_search_centre ON ticket_search USING gin (centre)",
]

log = logging.getLogger("hotline.migrations")


async def build_index(apps, schema_editor) -> None:
    """Create the index and fill it with every existing ticket."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for statement in POSTGRES if postgres else SQLITE:
        await client.execute_script(statement)
    # Imported by name: see the module docstring.
    search = importlib.import_module("hotline.services.ticket_search")

    def progress(done: int, total: int) -> None:
        if done % 50_000 < search.REBUILD_BATCH or done == total:
            log.info("search index: %d/%d tickets", done, total)

    await search.rebuild(client, progress=progress)


async def drop_index(apps, schema_editor) -> None:
    """Drop the index."""
    await schema_editor.client.execute_script("DROP TABLE IF EXISTS ticket_search")


class Migration(migrations.Migration):
    dependencies = [("models", "0016_background")]

    initial = False

    operations = [
        ops.RunPython(build_index, drop_index, atomic=True),
    ]
