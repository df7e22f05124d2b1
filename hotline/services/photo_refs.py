"""Which stored photos a ticket still names: asked before any photo file is deleted.

Photos are stored once per content, so two tickets may share a file; only web tickets carry
uploaded photos, and an anonymised ticket has given its photos up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from hotline.domain.models import Ticket


def stored_names(attachments: Any) -> list[str]:
    """The stored names of the uploaded photos in a ticket's attachments."""
    if isinstance(attachments, str | bytes):
        attachments = json.loads(attachments)
    if not isinstance(attachments, list):
        return []
    return [str(a["photo"]) for a in attachments if isinstance(a, dict) and a.get("photo")]


async def photo_in_use(names: Iterable[str]) -> set[str]:
    """Those of `names` that a committed, not anonymised ticket names (one query)."""
    ordered = sorted(set(names))
    if not ordered:
        return set()
    conn = Ticket._meta.db
    postgres = conn.capabilities.dialect == "postgres"
    column = "attachments::text" if postgres else "attachments"
    marks = [f"${i + 1}" if postgres else "?" for i in range(len(ordered))]
    # LIKE narrows the rows; the names are then read from the JSON itself.
    rows = await conn.execute_query_dict(
        f"SELECT attachments FROM \"ticket\" WHERE anonymised_at IS NULL AND channel = 'web' "
        f"AND ({' OR '.join(f'{column} LIKE {m}' for m in marks)})",
        [f"%{name}%" for name in ordered],
    )
    wanted = set(ordered)
    return {n for row in rows for n in stored_names(row["attachments"]) if n in wanted}
