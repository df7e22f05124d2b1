"""The knowledge base (知识库) over HTTP: list, read, write, and suggestions for a call's text.

Supervisors and admins write entries; operators read every entry and ask for suggestions;
unit staff read published entries only (a draft is the centre's work in progress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.knowledge import (
    STATUS_LABELS,
    KbEntryDetail,
    KbEntryIn,
    KbEntryOut,
    KbHistoryOut,
    KbPage,
    KbPiece,
    KbStatus,
    KbSuggestion,
    KbSuggestions,
    offered,
    shown_status,
)
from hotline.domain.lifecycle import Role
from hotline.domain.timefmt import local_iso, utcnow
from hotline.services import knowledge as kb
from hotline.services.knowledge_search import Suggestion, suggest
from hotline.web.endpoint import ROW_ID, api, request_body, request_query
from hotline.web.http import json_response, require_principal
from hotline.web.queries import Query

if TYPE_CHECKING:  # annotations only: the web layer runs no query
    from hotline.domain.models import KbEntry, KbHistory

EDITORS = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})
SUGGESTERS = frozenset({Role.OPERATOR.value, Role.SUPERVISOR.value, Role.ADMIN.value})
KB_ID = {**ROW_ID, "maximum": 2**31 - 1, "description": "知识库条目编号"}


class KbListQuery(Query):
    """GET /api/v1/kb: search and filters."""

    q: str | None = Field(
        default=None,
        max_length=200,
        description="关键词：检索标题、问法、答复口径与政策依据，空格分隔的词须同时出现",
    )
    category: str | None = Field(default=None, max_length=32, description="分类")
    status: KbStatus | None = Field(
        default=None, description="draft 草稿、published 已发布、expired 已失效（含过了失效日期的）"
    )
    page: int = Field(default=1, ge=1, le=1_000_000, description="页码")
    per_page: int = Field(default=20, ge=1, le=100, description="每页条数（≤100）")


class KbSuggestQuery(Query):
    """GET /api/v1/kb/suggest: the call's text as typed so far."""

    q: str = Field(default="", max_length=5000, description="来电内容（标题和诉求内容）")
    limit: int = Field(default=5, ge=1, le=20, description="最多几条")


def may_edit(principal: Principal) -> bool:
    """Supervisors and admins write the knowledge base."""
    return principal.role in EDITORS


def require_editor(principal: Principal) -> None:
    """403 with what to do, unless the user writes the knowledge base."""
    if not may_edit(principal):
        raise HotlineError(
            "只有督办人员和管理员可以编辑知识库；如需修改，请联系热线中心督办人员",
            status=403,
            code="forbidden",
        )


def actor_name(principal: Principal) -> str:
    """Who a history row names."""
    return principal.display_name or principal.username


def entry_out(entry: KbEntry, names: dict[str, str]) -> KbEntryOut:
    """An entry as the API and pages show it."""
    today = kb.local_today(utcnow())
    status = shown_status(entry.status, entry.valid_to, today)
    return KbEntryOut(
        id=entry.id,
        title=entry.title,
        questions=list(entry.questions or []),
        answer=entry.answer,
        category=entry.category,
        unit_code=entry.unit_code or None,
        unit_name=names.get(entry.unit_code) if entry.unit_code else None,
        source_name=entry.source_name,
        source_url=entry.source_url,
        valid_from=entry.valid_from,
        valid_to=entry.valid_to,
        status=status,
        status_label=STATUS_LABELS[status],
        offered=offered(entry.status, entry.valid_from, entry.valid_to, today),
        use_count=entry.use_count,
        last_used_at=local_iso(entry.last_used_at),
        proposed_from=entry.proposed_from,
        created_at=local_iso(entry.created_at) or "",
        created_by=entry.created_by,
        changed_at=local_iso(entry.changed_at) or "",
        changed_by=entry.changed_by,
        version=entry.version,
    )


def history_out(row: KbHistory) -> KbHistoryOut:
    """One history row."""
    return KbHistoryOut(
        action=row.action,
        actor=row.actor,
        at=local_iso(row.created_at) or "",
        before=row.before,
        after=row.after,
    )


def suggestion_out(found: Suggestion, names: dict[str, str]) -> KbSuggestion:
    """One suggested entry with its highlighted snippet."""
    entry = found.entry
    return KbSuggestion(
        id=entry.id,
        title=entry.title,
        snippet=[KbPiece(text=p.text, hit=p.hit) for p in found.ranked.snippet()],
        answer=entry.answer,
        unit_code=entry.unit_code or None,
        unit_name=names.get(entry.unit_code) if entry.unit_code else None,
        category=entry.category,
        score=round(found.ranked.score, 3),
        use_count=entry.use_count,
        last_used_at=local_iso(entry.last_used_at),
    )


async def detail(entry_id: int, *, published_only: bool = False) -> KbEntryDetail:
    """An entry with its history, newest change first."""
    entry = await kb.get_entry(entry_id, published_only=published_only)
    rows = [] if published_only else await kb.history(entry_id)
    out = entry_out(entry, await kb.unit_names())
    return KbEntryDetail(**out.model_dump(), history=[history_out(r) for r in rows])


@api(
    summary="知识库条目列表（检索、按分类和状态筛选）",
    query=KbListQuery,
    response=KbPage,
    description="一页条目",
    errors=(401, 422),
)
async def list_entries(request: Request) -> Response:
    """GET /api/v1/kb — units see published entries only."""
    principal = await require_principal(request)
    q: KbListQuery = request_query(request)
    filters = kb.KbFilter(
        q=q.q or "",
        category=q.category,
        status=q.status.value if q.status else None,
        published_only=principal.role == Role.UNIT,
    )
    rows, total = await kb.list_entries(
        filters=filters, page=q.page, per_page=q.per_page, now=utcnow()
    )
    names = await kb.unit_names()
    return json_response(
        KbPage(
            items=[entry_out(e, names) for e in rows],
            total=total,
            page=q.page,
            per_page=q.per_page,
        )
    )


@api(
    summary="新建知识库条目（督办人员、管理员）",
    body=KbEntryIn,
    response=KbEntryDetail,
    status=201,
    description="已新建",
    errors=(400, 401, 403, 413, 422),
)
async def create_entry(request: Request) -> Response:
    """POST /api/v1/kb"""
    principal = await require_principal(request)
    require_editor(principal)
    data: KbEntryIn = await request_body(request)
    entry = await kb.create_entry(
        data=data,
        actor=actor_name(principal),
        now=utcnow(),
        words=request.app.state.deployment.words(),
    )
    response = json_response(await detail(entry.id), status=201)
    response.headers["Location"] = f"/api/v1/kb/{entry.id}"
    return response


@api(
    summary="知识库条目详情与修改记录",
    path={"entry_id": KB_ID},
    response=KbEntryDetail,
    description="条目",
    errors=(401, 404),
)
async def get_entry(request: Request) -> Response:
    """GET /api/v1/kb/{id} — units: published entries, without the history."""
    principal = await require_principal(request)
    entry_id = int(request.path_params["entry_id"])
    return json_response(await detail(entry_id, published_only=principal.role == Role.UNIT))


@api(
    summary="修改知识库条目（督办人员、管理员；修改记入历史）",
    path={"entry_id": KB_ID},
    body=KbEntryIn,
    response=KbEntryDetail,
    description="修改后的条目",
    errors=(400, 401, 403, 404, 409, 413, 422),
)
async def update_entry(request: Request) -> Response:
    """PUT /api/v1/kb/{id}"""
    principal = await require_principal(request)
    require_editor(principal)
    data: KbEntryIn = await request_body(request)
    entry = await kb.update_entry(
        entry_id=int(request.path_params["entry_id"]),
        data=data,
        actor=actor_name(principal),
        now=utcnow(),
        words=request.app.state.deployment.words(),
    )
    return json_response(await detail(entry.id))


@api(
    summary="按来电内容推荐知识库条目（已发布、在有效期内）",
    query=KbSuggestQuery,
    response=KbSuggestions,
    description="推荐，最相关的在前",
    errors=(401, 403, 422),
)
async def suggest_entries(request: Request) -> Response:
    """GET /api/v1/kb/suggest?q= — for the operator's console."""
    principal = await require_principal(request)
    if principal.role not in SUGGESTERS:
        raise HotlineError(
            "知识库推荐用于受理台；承办单位请在知识库列表中检索", status=403, code="forbidden"
        )
    q: KbSuggestQuery = request_query(request)
    found = await suggest(text=q.q, now=utcnow(), limit=q.limit)
    names = await kb.unit_names()
    return json_response(KbSuggestions(items=[suggestion_out(s, names) for s in found]))


# Mounted at /api/v1 (hotline.web.app); /kb/suggest before /kb/{entry_id}.
routes = [
    Route("/kb", list_entries, methods=["GET"]),
    Route("/kb", create_entry, methods=["POST"]),
    Route("/kb/suggest", suggest_entries, methods=["GET"]),
    Route("/kb/{entry_id}", get_entry, methods=["GET"]),
    Route("/kb/{entry_id}", update_entry, methods=["PUT"]),
]
