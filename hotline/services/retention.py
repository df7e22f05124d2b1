"""Retention: a closed ticket's personal data is removed RETENTION_DAYS after closing.

What is personal and goes: the complainant's name, phone, e-mail and WeChat openid, the
free-text address and the coordinates (often the complainant's home), and phone numbers,
ID numbers, e-mail addresses and the complainant's name where they appear in the title and
content. What stays, because rates, statistics and retraining need it: kind, category,
urgency, channel, district and street (the 属地 unit), units, deadlines, results,
satisfaction, the masked text and the whole event log (whose rows are never changed).
Photos the citizen uploaded (they often show people, homes, number plates) are removed from
the ticket and, once no ticket that keeps its photos names them, from UPLOAD_DIR.
The texts sent to the complainant keep only their template and a masked number.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from hotline.domain.models import Ticket, TicketEvent
from hotline.outbox.models import OutboxMessage
from hotline.privacy.rules import mask_phone
from hotline.services import photo_store, ticket_search
from hotline.services.photo_refs import photo_in_use, stored_names

MASK = "***"
PERSONAL_FIELDS = (
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "complainant_openid",
    "address",
    "latitude",
    "longitude",
)
# Closed tickets and merged repeats (both have closed_at); a reopened ticket has none.
DONE_STATUSES = ("closed", "merged")
BATCH = 200
# A photo file this young is never deleted (see `_delete_unused_photos`).
PHOTO_GRACE = timedelta(hours=1)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# Mobile numbers (optionally +86), and landlines with an area code: 0731-88886666.
_PHONE = re.compile(
    r"(?<!\d)(?:(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}|0\d{2,3}[-\s]?\d{7,8})(?!\d)"
)


def scrub_text(text: str, *, names: tuple[str, ...] = ()) -> str:
    """`text` with e-mail addresses, ID numbers, phone numbers and the given names masked."""
    text = _EMAIL.sub(MASK, text)
    text = _ID_NUMBER.sub(MASK, text)
    text = _PHONE.sub(MASK, text)
    for name in names:
        if len(name) >= 2:
            text = text.replace(name, MASK)
    return text


async def anonymise_due(
    *,
    now: datetime,
    retention_days: int,
    limit: int | None = None,
    upload_dir: Path | None = None,
) -> int:
    """Anonymise every ticket closed more than `retention_days` ago; returns how many.

    Each ticket is changed by a conditional UPDATE (`anonymised_at IS NULL`) in the same
    transaction as its event, so two sweepers never anonymise one ticket twice.
    """
    cutoff = now - timedelta(days=retention_days)
    done = 0
    while limit is None or done < limit:
        batch = BATCH if limit is None else min(BATCH, limit - done)
        candidates = await (
            Ticket.filter(
                anonymised_at__isnull=True, closed_at__lt=cutoff, status__in=DONE_STATUSES
            )
            .order_by("closed_at", "id")
            .limit(batch)
            .values(
                "id",
                "number",
                "status",
                "title",
                "content",
                "complainant_name",
                "complainant_phone",
                "attachments",
            )
        )
        if not candidates:
            break
        changed = 0
        removed: set[str] = set()
        for row in candidates:
            if await _anonymise_one(row, now=now, cutoff=cutoff, days=retention_days):
                changed += 1
                removed |= set(stored_names(row["attachments"]))
        if upload_dir is not None and removed:
            await _delete_unused_photos(upload_dir, removed)
        done += changed
        if changed == 0:
            break  # every candidate was taken by another sweeper meanwhile
    return done


async def _anonymise_one(
    row: dict[str, Any], *, now: datetime, cutoff: datetime, days: int
) -> bool:
    names = (str(row["complainant_name"]), str(row["complainant_phone"]))
    async with in_transaction() as conn:
        # Still due: not anonymised meanwhile, not reopened since it was read.
        changed = (
            await Ticket.filter(
                id=row["id"],
                anonymised_at__isnull=True,
                closed_at__lt=cutoff,
                status=row["status"],
            )
            .using_db(conn)
            .update(
                title=scrub_text(str(row["title"]), names=names),
                content=scrub_text(str(row["content"]), names=names),
                complainant_name="",
                complainant_phone="",
                complainant_email="",
                complainant_openid="",
                address="",
                latitude=None,
                longitude=None,
                attachments=[a for a in _attachments(row["attachments"]) if "photo" not in a],
                anonymised_at=now,
                updated_at=now,
                version=F("version") + 1,
            )
        )
        # Not `!= 1`: SQLite's count includes the rows the volume_daily trigger upserts.
        if not changed:
            return False
        # The texts held the number and the reply's first lines: the same personal data.
        await (
            OutboxMessage.filter(transport="sms", ticket_number=row["number"])
            .using_db(conn)
            .update(recipients=[mask_phone(str(row["complainant_phone"]))], params={}, body=MASK)
        )
        await TicketEvent.create(
            using_db=conn,
            ticket_id=row["id"],
            action="anonymise",
            actor_name="系统",
            actor_role="system",
            from_status=row["status"],
            to_status=row["status"],
            payload={"fields": list(PERSONAL_FIELDS), "retention_days": days},
            public=False,
            created_at=now,
        )
        # The removed name and number leave the search index in the same transaction.
        ticket = await Ticket.get(id=row["id"]).using_db(conn)
        await ticket_search.index_ticket(conn, ticket)
    return True


def _attachments(value: Any) -> list[dict[str, Any]]:
    return [a for a in value if isinstance(a, dict)] if isinstance(value, list) else []


async def _delete_unused_photos(root: Path, names: set[str]) -> None:
    """Delete the files of `names` that no ticket keeping its photos still names.

    Files written or reused within PHOTO_GRACE are kept: a web submission in flight may
    have just saved the same bytes, and its ticket has not committed yet to say so.
    """
    in_use = await photo_in_use(names)
    unused = sorted(names - in_use)
    # File ages are wall-clock (mtime), whatever `now` the sweep was given.
    await anyio.to_thread.run_sync(_remove_old, root, unused, time.time())


def _remove_old(root: Path, names: list[str], now: float) -> None:
    """Delete each named file older than PHOTO_GRACE (blocking: run in a worker thread)."""
    for name in names:
        photo_store.remove_unless_recent(root, name, min_age=PHOTO_GRACE.total_seconds(), now=now)
