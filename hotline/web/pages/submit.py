"""The citizen web form: GET /submit draws it, POST /submit checks it and opens a ticket.

Citizens have no account and no session: the signed form token (hotline.web.formtoken) is the
form's CSRF, timing and idempotency defence. The confirmation is rendered from the POST
itself (never cached, the query code in no URL), and posting the same form again — a double
click or a reload — shows the same ticket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.citizens.form import (
    KIND_CHOICES,
    MAX_CONTENT,
    MAX_TITLE,
    MIN_CONTENT,
    NEEDS_CONTACT,
    NEEDS_PLACE_WORDS,
    CitizenForm,
    form_values,
    rule_errors,
    to_ticket,
)
from hotline.citizens.photos import MAX_PHOTOS
from hotline.citizens.places import Picker, picker
from hotline.domain.timefmt import utcnow
from hotline.domain.vocabulary import KINDS
from hotline.services import web_intake
from hotline.services.ratelimit import Refused
from hotline.services.tickets import TicketRecord
from hotline.web import formtoken
from hotline.web.pages.common import render
from hotline.web.pages.forms import CITIZEN_FIELD_LABELS, validate_form
from hotline.web.pages.uploads import (
    BodyTooLarge,
    checked_uploads,
    cleaned_photos,
    is_file,
    read_form,
)
from hotline.web.submitlimit import SubmitLimiter

HONEYPOT = "website"
FIELDS_ALLOWANCE = 1024 * 1024  # the text fields and multipart framing besides the photos
TRY_AGAIN = "如多次提交不成功，请拨打 12345 热线。"
# Short field names for the top message, in the form's order (place and address are one
# question: 事发地点).
SUMMARY_NAMES = {
    "kind": "诉求类型",
    "content": "具体情况",
    "title": "标题",
    "place": "事发地点",
    "address": "事发地点",
    "name": "姓名",
    "phone": "手机号",
    "email": "电子邮箱",
    "photos": "照片",
}


@dataclass(frozen=True)
class Refusal:
    """A submission refused as a whole: the message, the status, and whether to keep input."""

    message: str
    status: int
    keep: bool = True


def body_limit(request: Request) -> int:
    """The most a form post may carry: every photo at its limit plus the text fields."""
    return MAX_PHOTOS * int(request.app.state.settings.photo_max_bytes) + FIELDS_ALLOWANCE


def _picker(request: Request) -> Picker:
    """The place picker, rebuilt when an admin has reloaded the rules (a new `routing`)."""
    routing = request.app.state.deployment.router.routing
    cached: tuple[Any, Picker] | None = getattr(request.app.state, "place_picker", None)
    if cached is None or cached[0] is not routing:
        cached = (routing, picker(routing.gazetteer.places, routing.units))
        request.app.state.place_picker = cached
    return cached[1]


def _limiter(request: Request) -> SubmitLimiter:
    limiter: SubmitLimiter | None = getattr(request.app.state, "submit_limiter", None)
    if limiter is None:
        limiter = request.app.state.submit_limiter = SubmitLimiter()
    return limiter


def _secret(request: Request) -> Any:
    return request.app.state.session_settings.secret


def _form_page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    """The form, with what was typed, a message beside each field and one at the top."""
    settings = request.app.state.settings
    context = {
        "v": values or {"sms": True},
        "errors": errors or {},
        "token": token or formtoken.issue(_secret(request), time.time()),
        "token_field": formtoken.FIELD,
        "honeypot": HONEYPOT,
        "labels": CITIZEN_FIELD_LABELS,
        "kinds": KIND_CHOICES,
        "needs_contact": "、".join(k for k in KINDS if k in NEEDS_CONTACT),
        "needs_place": NEEDS_PLACE_WORDS,
        "may_be_anonymous": "、".join(k for k in KINDS if k not in NEEDS_CONTACT),
        "places": _picker(request).groups,
        "max_photos": MAX_PHOTOS,
        "photo_mb": settings.photo_max_bytes // (1024 * 1024),
        "max_title": MAX_TITLE,
        "max_content": MAX_CONTENT,
        "extra_flashes": [("error", message)] if message else [],
    }
    return render(request, "submit.html", context, status=status)


async def submit_form(request: Request) -> Response:
    """GET /submit — the empty form (a fresh token each time it is served)."""
    return _form_page(request)


async def submit(request: Request) -> Response:
    """POST /submit — check the form and its photos, then open one ticket (or show why not)."""
    try:
        form = await read_form(request, body_limit(request))
    except BodyTooLarge:
        mb = body_limit(request) // (1024 * 1024)
        return _form_page(
            request,
            message=f"提交的内容过大（上限约 {mb} MB）。请减少照片数量或压缩照片后重新填写提交。",
            status=413,
        )
    except (HTTPException, MultiPartException):
        return _form_page(
            request,
            message=f"提交的内容无法读取（照片最多 {MAX_PHOTOS} 张）。请重新填写提交。{TRY_AGAIN}",
            status=400,
        )
    try:
        return await _submitted(request, form)
    finally:
        await form.close()  # the photos' temporary files, whatever the answer


async def _submitted(request: Request, form: Any) -> Response:
    """The answer to a form that was read: refused, re-shown with messages, or the ticket."""
    values = form_values(form)
    now = time.time()
    token = formtoken.verify(_secret(request), form.get(formtoken.FIELD))
    if token is None:
        return _form_page(
            request,
            values=values,
            message="表单已失效或来源不明。请核对下面的内容后重新提交。",
            status=400,
        )
    try:
        earlier = await web_intake.earlier_ticket(token.key, values)
    except web_intake.FormReused:
        # A duplicated tab or a restored page: the new matter is kept, under a new form.
        return _form_page(
            request,
            values=values,
            message="这张表单已经提交过一次，已生成工单。您现在填写的是另一个问题：请核对下面的内容后再次点击提交。",
            status=409,
        )
    if earlier is not None:
        return _done(request, earlier)
    refusal = _refusal(form, token, now)
    if refusal is not None:
        return _form_page(
            request,
            values=values if refusal.keep else None,
            # An expired form gets a new token; the others keep theirs (and its wait).
            token=None if refusal.status == 410 else form.get(formtoken.FIELD),
            message=refusal.message,
            status=400 if refusal.status == 410 else refusal.status,
        )
    checked, errors = validate_form(CitizenForm, values)
    place = _picker(request).resolve(values["place"]) if values["place"] else ("", "")
    if place is None:
        errors["place"] = "请从列表中选择区县或街道"
    uploads, photo_error = await checked_uploads(
        form, int(request.app.state.settings.photo_max_bytes)
    )
    if photo_error:
        errors["photos"] = photo_error
    if checked is None or errors:
        return _invalid(request, form, values, errors)
    if token.too_fast(now):
        return _form_page(
            request,
            values=values,
            token=str(form.get(formtoken.FIELD)),
            message=f"提交过快：请稍等 {token.wait(now)} 秒后再提交。",
            status=429,
        )
    assert place is not None
    data = to_ticket(checked, district=place[0], street=place[1], attachments=[])
    client = request.client.host if request.client else "unknown"
    try:
        taken = await _limiter(request).take(address=client, phone=checked.phone)
    except Refused as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        response = _form_page(
            request,
            values=values,
            token=str(form.get(formtoken.FIELD)),
            message=f"提交次数过多，请 {minutes} 分钟后再试。紧急情况请直接拨打 12345 热线。",
            status=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    settings = request.app.state.settings
    try:
        # Decoding is the costly part: done only for a form that passed the submit limits.
        photos, photo_error = await cleaned_photos(uploads)
        if photo_error:
            await taken.give_back()  # nothing was created: choosing another photo is no retry
            return _invalid(request, form, values, {"photos": photo_error})
        record = await web_intake.submit(
            data=data,
            photos=photos,
            key=token.key,
            values=values,
            upload_dir=settings.upload_dir,
            now=utcnow(),
            deployment=request.app.state.deployment,
            auto_dispatch=settings.auto_dispatch,
        )
    except BaseException:
        await taken.give_back()
        raise
    if record.replayed:
        await taken.give_back()  # a twin post of this form made the ticket
    return _done(request, record)


def _refusal(form: Any, token: formtoken.FormToken, now: float) -> Refusal | None:
    """Whole-form refusals before the fields are read: robots and stale forms. (Speed is
    judged after the fields: a quick empty submit is told what is missing, not to slow down.)"""
    if str(form.get(HONEYPOT) or "").strip():
        # Quietly: a robot learns nothing about which check it failed.
        return Refusal(f"提交未成功，请稍后重试。{TRY_AGAIN}", 400, keep=False)
    if token.expired(now):
        return Refusal("表单打开太久已过期。内容已保留，请核对后再次提交。", 410)
    return None


def _invalid(
    request: Request, form: Any, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    """The form again with each message beside its field (photos must be chosen again)."""
    shown = {k: v for k, v in errors.items() if k != "_"}
    for name, message in rule_errors(values).items():
        shown.setdefault(name, message)
    if "kind" in shown:
        shown["kind"] = "请选择诉求类型"
    if "content" in shown and not str(values.get("content") or "").strip():
        shown["content"] = f"请填写具体情况（至少 {MIN_CONTENT} 个字）"
    sent_photos = any(is_file(f) for f in form.getlist("photos"))
    if sent_photos and "photos" not in shown:
        shown["photos"] = "照片未保存：改正上面的内容后，请重新选择照片。"
    return _form_page(
        request,
        values=values,
        errors=shown,
        token=str(form.get(formtoken.FIELD)),
        message=_summary(values, shown),
        status=422,
    )


def _summary(values: dict[str, Any], shown: dict[str, str]) -> str:
    """The top message: every field still to fill in, then every one to correct, by name."""
    missing: list[str] = []
    wrong: list[str] = []
    for field, name in SUMMARY_NAMES.items():
        if field not in shown or name in missing or name in wrong:
            continue
        empty = field != "photos" and not str(values.get(field) or "").strip()
        if field == "phone" and empty and not values.get("email"):
            name = "手机号或电子邮箱"  # the contact rule: either one will do
        (missing if empty else wrong).append(name)
    parts = []
    if missing:
        parts.append(f"请填写 {'、'.join(missing)}")
    if wrong:
        parts.append(f"请按红字提示修改 {'、'.join(wrong)}")
    return f"还不能提交：{'；'.join(parts) or '请按红字提示修改'}。"


def _done(request: Request, record: TicketRecord) -> Response:
    """The confirmation: number, query code, the promised reply date, the tracking link."""
    from urllib.parse import urlencode

    ticket = record.ticket
    query = urlencode({"number": ticket.number, "code": ticket.query_code})
    promise = web_intake.promised_reply(record, request.app.state.deployment, utcnow())
    return render(
        request,
        "submit_done.html",
        {
            "t": ticket,
            "promise": promise,
            "track_url": f"/track?{query}",
            "photos": len(ticket.attachments or []),
        },
    )


routes = [
    Route("/submit", submit_form, methods=["GET"]),
    Route("/submit", submit, methods=["POST"]),
]
