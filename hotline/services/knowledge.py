"""The knowledge base (知识库): entries written, changed with their history, listed, used.

Every write keeps the entry's text index (`kb_search`, through `hotline.services.fulltext`)
in the same transaction, and records a history row with the fields before and after. The
suggestions for a call's text are `hotline.services.knowledge_search`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from hotline.domain.errors import HotlineError, not_found
from hotline.domain.fulltext import parse_query
from hotline.domain.knowledge import KbEntryIn, KbStatus, diff, offered
from hotline.domain.models import KbEntry, KbHistory, Unit
from hotline.domain.timefmt import SHANGHAI
from hotline.domain.vocabulary import Vocabulary
from hotline.services import fulltext
from hotline.services.fulltext import Kind

KB = Kind("kb_search", ("body",))
# How many text matches a list search ranks (a knowledge base is thousands, not millions).
SEARCH_CAP = 2000


def local_today(now: datetime) -> date:
    """The local (Asia/Shanghai) day of `now`: validity days are local days."""
    return now.astimezone(SHANGHAI).date()


def document(entry: KbEntry | dict[str, Any]) -> dict[str, list[str]]:
    """What the text index holds of an entry: title, question variants, answer, source."""
    get = entry.get if isinstance(entry, dict) else lambda k: getattr(entry, k)
    return {
        "body": [
            get("title") or "",
            *(get("questions") or []),
            get("answer") or "",
            get("source_name") or "",
        ]
    }


def snapshot(entry: KbEntry) -> dict[str, Any]:
    """The entry's editable fields as JSON values (history rows and exports)."""
    return {
        "title": entry.title,
        "questions": list(entry.questions or []),
        "answer": entry.answer,
        "category": entry.category,
        "unit_code": entry.unit_code or None,
        "source_name": entry.source_name,
        "source_url": entry.source_url,
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
        "valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
        "status": entry.status,
    }


def _json(columns: dict[str, Any]) -> dict[str, Any]:
    out = dict(columns)
    for key in ("valid_from", "valid_to"):
        if isinstance(out.get(key), date):
            out[key] = out[key].isoformat()
    out["unit_code"] = out.get("unit_code") or None
    return out


async def check(data: KbEntryIn, words: Vocabulary) -> None:
    """Refuse a category outside the list or an unknown unit (422, said beside the field)."""
    words.check_category(data.category)
    if data.unit_code and not await Unit.filter(code=data.unit_code).exists():
        raise HotlineError(
            f"没有代码为 {data.unit_code} 的承办单位，请从单位列表中选择",
            status=422,
            code="validation_error",
            fields=[{"field": "unit_code", "message": "单位代码不存在，请从单位列表中选择"}],
        )


async def create_entry(
    *,
    data: KbEntryIn,
    actor: str,
    now: datetime,
    words: Vocabulary,
    action: str = "create",
    proposed_from: str | None = None,
) -> KbEntry:
    """A new entry (its history begins with every field as written)."""
    await check(data, words)
    columns = data.columns()
    async with in_transaction() as conn:
        entry = await KbEntry.create(
            **columns,
            proposed_from=proposed_from,
            created_at=now,
            created_by=actor,
            changed_at=now,
            changed_by=actor,
            using_db=conn,
        )
        await KbHistory.create(
            entry_id=entry.id,
            action=action,
            actor=actor,
            before={},
            after=_json(columns),
            created_at=now,
            using_db=conn,
        )
        await fulltext.put(conn, KB, entry.id, document(entry))
    return entry


async def update_entry(
    *,
    entry_id: int,
    data: KbEntryIn,
    actor: str,
    now: datetime,
    words: Vocabulary,
    action: str = "update",
) -> KbEntry:
    """Replace an entry's fields; the change is kept in its history (409 if changed meanwhile)."""
    await check(data, words)
    async with in_transaction() as conn:
        entry = await KbEntry.filter(id=entry_id).using_db(conn).select_for_update().first()
        if entry is None:
            raise not_found("知识库条目")
        if data.expected_version is not None and data.expected_version != entry.version:
            raise HotlineError(
                f"这条知识已被 {entry.changed_by} 修改过，请刷新后在最新内容上重新修改",
                status=409,
                code="conflict",
            )
        before, after = diff(snapshot(entry), _json(data.columns()))
        if not after:
            return entry
        entry.update_from_dict(data.columns())
        entry.changed_at, entry.changed_by = now, actor
        entry.version += 1
        await entry.save(using_db=conn)
        await KbHistory.create(
            entry_id=entry.id,
            action=action,
            actor=actor,
            before=before,
            after=after,
            created_at=now,
            using_db=conn,
        )
        await fulltext.put(conn, KB, entry.id, document(entry))
    return entry


async def get_entry(entry_id: int, *, published_only: bool = False) -> KbEntry:
    """One entry (units read published entries only: others are 404 to them)."""
    query = KbEntry.filter(id=entry_id)
    if published_only:
        query = query.filter(status=KbStatus.PUBLISHED.value)
    entry = await query.first()
    if entry is None:
        raise not_found("知识库条目")
    return entry


async def history(entry_id: int) -> list[KbHistory]:
    """An entry's changes, newest first."""
    return await KbHistory.filter(entry_id=entry_id).order_by("-id")


@dataclass(frozen=True)
class KbFilter:
    """What a list asks for; `status` expired also finds published entries past valid_to."""

    q: str = ""
    category: str | None = None
    status: str | None = None
    published_only: bool = False  # units


def _status_q(status: str, today: date) -> Q:
    lapsed = Q(status=KbStatus.PUBLISHED.value, valid_to__lt=today)
    if status == KbStatus.EXPIRED.value:
        return Q(status=status) | lapsed
    if status == KbStatus.PUBLISHED.value:
        return Q(status=status) & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return Q(status=status)


async def list_entries(
    *, filters: KbFilter, page: int, per_page: int, now: datetime
) -> tuple[list[KbEntry], int]:
    """A page of entries: best text matches first when `q` is given, else newest changes."""
    today = local_today(now)
    query = KbEntry.all()
    if filters.published_only:
        query = query.filter(_status_q(KbStatus.PUBLISHED.value, today))
    if filters.status:
        query = query.filter(_status_q(filters.status, today))
    if filters.category:
        query = query.filter(category=filters.category)
    text = parse_query(filters.q or "")
    if not text:
        total = await query.count()
        rows = (
            await query.order_by("-changed_at", "-id").offset((page - 1) * per_page).limit(per_page)
        )
        return rows, total
    hits = await fulltext.match(KbEntry._meta.db, KB, text, columns=KB.columns, cap=SEARCH_CAP)
    allowed = set(await query.filter(id__in=hits.ids).values_list("id", flat=True))
    ranked = [i for i in hits.ids if i in allowed]
    chosen = ranked[(page - 1) * per_page : page * per_page]
    by_id = {e.id: e for e in await KbEntry.filter(id__in=chosen)}
    return [by_id[i] for i in chosen if i in by_id], len(ranked)


async def usable_entry(entry_id: int | None, now: datetime) -> KbEntry | None:
    """The entry an answer says it used, if it is one operators may use today."""
    if not entry_id:
        return None
    entry = await KbEntry.filter(id=entry_id).first()
    if entry is None or not offered(
        entry.status, entry.valid_from, entry.valid_to, local_today(now)
    ):
        return None
    return entry


async def check_usable(entry_id: int | None, now: datetime) -> None:
    """Refuse an answer that names an entry operators may not use (missing, draft, expired)."""
    if entry_id and await usable_entry(entry_id, now) is None:
        raise HotlineError(
            "所选知识库条目不存在或已失效，请重新选择推荐条目，或不选条目直接填写答复",
            status=422,
            code="validation_error",
            fields=[{"field": "kb_entry", "message": "知识库条目不存在或已失效"}],
        )


async def record_use(entry_id: int, now: datetime) -> None:
    """An operator answered a call with the entry: one more use, and when (no history row:
    a use changes no words of the entry)."""
    await KbEntry.filter(id=entry_id).update(use_count=F("use_count") + 1, last_used_at=now)


async def unit_names() -> dict[str, str]:
    """Unit code → name, for showing an entry's responsible unit."""
    return dict(await Unit.all().values_list("code", "name"))


async def rebuild_index() -> int:
    """Index every entry afresh (after a restore); returns how many."""
    async with in_transaction() as conn:
        await fulltext.ensure(conn, KB)
        await fulltext.clear(conn, KB)
        rows = (
            await KbEntry.all()
            .using_db(conn)
            .values("id", "title", "questions", "answer", "source_name")
        )
        return await fulltext.put_many(conn, KB, ((r["id"], document(r)) for r in rows))
