"""The knowledge base (知识库) pages: the list and search, an entry with its history and edit
form, and the operator console's suggestions for the call being typed.

Every staff role reads (units: published entries only); supervisors and admins write.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.knowledge import (
    FIELD_LABELS,
    STATUS_LABELS,
    KbEntryIn,
    KbStatus,
    split_questions,
)
from hotline.domain.lifecycle import Role
from hotline.domain.timefmt import utcnow
from hotline.services import knowledge as kb
from hotline.services import knowledge_propose, tickets
from hotline.services.knowledge_search import suggest
from hotline.services.units import active_units, unit_directory
from hotline.web.kb import detail, entry_out, may_edit, suggestion_out
from hotline.web.pages.common import PageError, redirect, render, require_form, signed_in
from hotline.web.pages.forms import validate_form
from hotline.web.pages.params import ticket_number
from hotline.web.presenters import ticket_out
from hotline.web.session import flash

STAFF = (Role.OPERATOR.value, Role.UNIT.value, Role.SUPERVISOR.value, Role.ADMIN.value)
EDITORS = (Role.SUPERVISOR.value, Role.ADMIN.value)
CONSOLE = (Role.OPERATOR.value, Role.SUPERVISOR.value)
PER_PAGE = 30
FORM_FIELDS = (
    "title",
    "answer",
    "category",
    "unit_code",
    "source_name",
    "source_url",
    "valid_from",
    "valid_to",
    "status",
    "expected_version",
)


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


async def list_page(request: Request) -> Response:
    """GET /kb — search and filter the entries."""
    principal = signed_in(request, *STAFF)
    params = request.query_params
    q = (params.get("q") or "").strip()[:200]
    words = request.app.state.deployment.words()
    category = params.get("category") or None
    if category not in words.categories:
        category = None
    status = params.get("status") or None
    if status not in STATUS_LABELS or principal.role == Role.UNIT:
        status = None
    page = _page_number(params.get("page"))
    rows, total = await kb.list_entries(
        filters=kb.KbFilter(
            q=q,
            category=category,
            status=status,
            published_only=principal.role == Role.UNIT,
        ),
        page=page,
        per_page=PER_PAGE,
        now=utcnow(),
    )
    names = await kb.unit_names()
    return render(
        request,
        "kb_list.html",
        {
            "entries": [entry_out(e, names) for e in rows],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "q": q,
            "category": category or "",
            "status": status or "",
            "categories": words.categories,
            "statuses": STATUS_LABELS,
            "may_edit": may_edit(principal),
        },
    )


async def _form_context(request: Request) -> dict[str, Any]:
    units = [(u.code, u.name) for u in await active_units()]
    return {
        "categories": request.app.state.deployment.words().categories,
        "units": units,
        "unit_names": dict(units),
        "statuses": STATUS_LABELS,
        "labels": FIELD_LABELS,
    }


def _form_data(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in FORM_FIELDS:
        value = str(form.get(key) or "").strip()
        if value:
            data[key] = value
    data["questions"] = split_questions(str(form.get("questions") or ""))
    return data


def _values(form: Any) -> dict[str, Any]:
    return {k: form.get(k) for k in form if k != "csrf_token"}


async def new_page(request: Request) -> Response:
    """GET /kb/new — an empty entry form (supervisors, admins)."""
    signed_in(request, *EDITORS)
    context = await _form_context(request)
    context.update(entry=None, v={"status": KbStatus.DRAFT.value}, errors={}, may_edit=True)
    return render(request, "kb_entry.html", context)


async def _refused(
    request: Request, values: dict[str, Any], errors: dict[str, str], entry: Any, status: int
) -> Response:
    context = await _form_context(request)
    context.update(
        entry=entry, v=values, errors=errors, history=getattr(entry, "history", []), may_edit=True
    )
    context["extra_flashes"] = [("error", "未保存：请按红字提示修改，已填写的内容都还在。")]
    return render(request, "kb_entry.html", context, status=status)


async def create(request: Request) -> Response:
    """POST /kb — save a new entry."""
    principal = signed_in(request, *EDITORS)
    form = await require_form(request)
    data, errors = validate_form(KbEntryIn, _form_data(form))
    if errors:
        return await _refused(request, _values(form), errors, None, 422)
    try:
        entry = await kb.create_entry(
            data=data,
            actor=principal.display_name or principal.username,
            now=utcnow(),
            words=request.app.state.deployment.words(),
        )
    except HotlineError as exc:
        if not exc.fields:
            raise
        shown = {f["field"]: f["message"] for f in exc.fields}
        return await _refused(request, _values(form), shown, None, exc.status)
    flash(request, f"已保存知识「{entry.title}」（{STATUS_LABELS[entry.status]}）。")
    return redirect(f"/kb/{entry.id}")


def _entry_id(request: Request) -> int:
    raw = str(request.path_params.get("row_id", ""))
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise PageError("没有这条知识：请从知识库列表中打开。", status=404, code="not_found")
    return int(raw)


def _entry_values(entry: Any) -> dict[str, Any]:
    """The edit form's values from the stored row (its stored status: a published entry past
    its last day reads expired, and stays published until someone edits it)."""
    return {
        "title": entry.title,
        "questions": "\n".join(entry.questions or []),
        "answer": entry.answer,
        "category": entry.category or "",
        "unit_code": entry.unit_code or "",
        "source_name": entry.source_name,
        "source_url": entry.source_url,
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else "",
        "valid_to": entry.valid_to.isoformat() if entry.valid_to else "",
        "status": entry.status,
        "expected_version": entry.version,
    }


async def _detail(entry_id: int, principal: Any) -> tuple[Any, Any]:
    """(the entry as shown, with its history; the stored row), or a 404 page."""
    unit = principal.role == Role.UNIT
    try:
        return await detail(entry_id, published_only=unit), await kb.get_entry(
            entry_id, published_only=unit
        )
    except HotlineError as exc:
        raise PageError(
            "没有这条知识：请从知识库列表中打开。", status=404, code="not_found"
        ) from exc


async def entry_page(request: Request) -> Response:
    """GET /kb/{id} — an entry; editors get the edit form and the history."""
    principal = signed_in(request, *STAFF)
    entry, stored = await _detail(_entry_id(request), principal)
    context = await _form_context(request)
    context.update(
        entry=entry,
        v=_entry_values(stored),
        errors={},
        history=entry.history,
        may_edit=may_edit(principal),
    )
    return render(request, "kb_entry.html", context)


async def update(request: Request) -> Response:
    """POST /kb/{id} — save an edit (kept in the history)."""
    principal = signed_in(request, *EDITORS)
    entry_id = _entry_id(request)
    form = await require_form(request)
    entry, _ = await _detail(entry_id, principal)
    data, errors = validate_form(KbEntryIn, _form_data(form))
    if errors:
        return await _refused(request, _values(form), errors, entry, 422)
    try:
        saved = await kb.update_entry(
            entry_id=entry_id,
            data=data,
            actor=principal.display_name or principal.username,
            now=utcnow(),
            words=request.app.state.deployment.words(),
        )
    except HotlineError as exc:
        if exc.status == 409:
            return await _refused(request, _values(form), {"_": exc.message}, entry, 409)
        if not exc.fields:
            raise
        shown = {f["field"]: f["message"] for f in exc.fields}
        return await _refused(request, _values(form), shown, entry, exc.status)
    flash(request, f"已保存修改（{STATUS_LABELS[saved.status]}），修改记录见页面下方。")
    return redirect(f"/kb/{entry_id}")


async def console_suggestions(request: Request) -> Response:
    """GET /operator/kb-suggest?title=&content= — the best entries for the call being typed."""
    signed_in(request, *CONSOLE)
    text = " ".join(
        str(request.query_params.get(k) or "")[:5000] for k in ("title", "content")
    ).strip()
    found = await suggest(text=text, now=utcnow(), limit=5) if len(text) >= 4 else []
    names = await kb.unit_names()
    return render(
        request,
        "_kb_suggest_items.html",
        {"items": [suggestion_out(s, names) for s in found], "asked": bool(text)},
    )


async def propose(request: Request) -> Response:
    """POST /tickets/{number}/kb-propose — a unit proposes its reply as an entry (a draft)."""
    principal = signed_in(request, Role.UNIT.value)
    await require_form(request)
    number = ticket_number(request.path_params["number"])
    ticket = await tickets.visible_ticket(number=number, principal=principal)
    # The title as this unit reads it (the dispatch title, when the centre edited it).
    shown = ticket_out(tickets.record_of(ticket), viewer=principal, units=await unit_directory())
    entry, made = await knowledge_propose.propose(
        ticket=ticket,
        title=shown.title,
        principal=principal,
        now=utcnow(),
        words=request.app.state.deployment.words(),
    )
    if made:
        flash(request, "已建议加入知识库（草稿）：热线中心督办人员核对后发布，话务员即可用于答复。")
    else:
        flash(request, "这件工单的答复已经建议过，热线中心会核对后发布，无需重复提交。")
    return redirect(f"/tickets/{number}")


routes = [
    Route("/tickets/{number}/kb-propose", propose, methods=["POST"]),
    Route("/kb", list_page, methods=["GET"]),
    Route("/kb", create, methods=["POST"]),
    Route("/kb/new", new_page, methods=["GET"]),
    Route("/kb/{row_id}", entry_page, methods=["GET"]),
    Route("/kb/{row_id}", update, methods=["POST"]),
    Route("/operator/kb-suggest", console_suggestions, methods=["GET"]),
]
