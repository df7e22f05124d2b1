"""The citizens' tracking page: progress by ticket number and query code, and the rating.

No sign-in: the query code is the secret. Lookups go through `hotline.web.tracking`, so the
page and `GET /api/v1/track/{number}` share one set of guessing limits and one answer for
a wrong code and a missing ticket. Every message says what to do next.
"""

from __future__ import annotations

import re
import typing
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.citizens.photos import MAX_PHOTOS
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import SUPPLEMENT_STATUSES, WITH_UNIT, Status
from hotline.domain.schemas import TICKET_NUMBER_PATTERN, RatingIn, Satisfaction, TrackOut
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services import citizen_followup, rating
from hotline.services.numbering import QUERY_ALPHABET
from hotline.services.ratelimit import Refused
from hotline.web.http import read_body
from hotline.web.pages.common import redirect, render
from hotline.web.pages.forms import validate_form
from hotline.web.pages.uploads import BodyTooLarge, checked_uploads, cleaned_photos, read_form
from hotline.web.session import flash
from hotline.web.tracking import same_origin, too_many_tries, track_view, tracked_ticket

_NUMBER = re.compile(TICKET_NUMBER_PATTERN, re.ASCII)
_CODE = re.compile(rf"^[{QUERY_ALPHABET}]{{6}}$")
CALL = "仍有疑问请拨打 12345 热线。"
NOT_FOUND = (
    "没有查到：工单号或查询码不正确。请核对受理短信或回执上的工单号和 6 位查询码后重新查询；" + CALL
)
# Per status: a headline in the citizen's words and what happens next.
STATUS_WORDS: dict[Status, tuple[str, str]] = {
    Status.RECEIVED: ("已受理", "热线已收到您的诉求，正在确定由哪个单位办理。"),
    Status.DISPATCHED: ("已转交承办单位", "承办单位签收后开始办理，办理中可能会与您联系。"),
    Status.DISPUTED: ("正在重新确定承办单位", "热线正在把工单转交给负责的单位，请耐心等待。"),
    Status.HANDLING: ("办理中", "承办单位正在办理，可能会与您联系，请留意来电。"),
    Status.EXTENSION_REQUESTED: (
        "办理中（申请延期）",
        "承办单位申请延长办理时间，热线审核后答复期限可能调整。",
    ),
    Status.PAUSED: (
        "暂停办理",
        "办理暂时中止（例如等待补充材料），恢复后继续办理。如承办单位联系过您，请按要求补充。",
    ),
    # The unit's request is the centre's business: the citizen sees the matter being handled.
    Status.PAUSE_REQUESTED: ("办理中", "承办单位正在办理，可能会与您联系，请留意来电。"),
    Status.REPLY_REVIEW: (
        "办理中（答复审核中）",
        "承办单位已答复，热线中心正在审核答复内容；审核通过后本页会显示答复，届时请您评价。",
    ),
    Status.REPLIED: (
        "已答复，请您评价",
        "承办单位已答复（见下方）。请对办理结果评价，这就是回访。",
    ),
    Status.CALLED_BACK: ("已回访", "热线已记录回访结果，工单即将办结。"),
    Status.CLOSED: ("已办结", "如对结果仍有意见，请拨打 12345 热线；新的问题请重新反映。"),
    Status.MERGED: ("已合并办理", "您的诉求与另一张工单相同，已合并办理，答复见下方。"),
}
# 已回访 after a callback (or the citizen's own rating) saying 未解决 or 不满意: nothing closes
# it on its own; the centre reviews it and either sends it back to the unit or closes it.
UNSOLVED_WORDS = (
    "已回访：问题未解决",
    "热线已记录回访结果（问题未解决或不满意），工单暂不办结：热线中心将复核承办单位的答复，"
    "需要时退回承办单位重新办理（重办），届时本页状态会变为「办理中」。"
    "如情况紧急，请拨打 12345 热线。",
)
SATISFACTION = typing.get_args(Satisfaction)  # 满意 / 基本满意 / 不满意
# The rating form's questions, as its legends ask them.
RATING_QUESTIONS = {"satisfaction": "您对办理结果是否满意", "solved": "问题是否已经解决"}
SOLVED = {"yes": True, "no": False}
HEIC = ("image/heic", "image/heif")
FIELDS_ALLOWANCE = 64 * 1024  # the number, the code and up to 2,000 characters, with framing
CODE_PLEASE = "请输入受理短信或回执上的 6 位查询码，即可查看这张工单的办理进度。"


async def track_page(request: Request) -> Response:
    """GET /track — the lookup form; with ?number=&code= the ticket's progress."""
    number = (request.query_params.get("number") or "").strip()
    code = (request.query_params.get("code") or "").strip().upper()
    if not number and not code:
        return _form_page(request, number, code)
    if number and not code and _NUMBER.fullmatch(number):
        # The link in a text message carries the number only (texts get forwarded): ask for
        # the code kindly, no red error on the first thing the citizen sees.
        return _form_page(request, number, code, notice=CODE_PLEASE)
    return await _lookup(request, number, code)


async def rate_page(request: Request) -> Response:
    """POST /track/rating — the complainant's rating of the reply, recorded as the callback."""
    if not same_origin(request):
        message = "请求来源不符，评价未提交。请打开本站的进度查询页，查到工单后再评价。"
        return _form_page(request, "", "", problem=message, status=403)
    try:
        raw = await read_body(request)
    except HotlineError as exc:  # too large: said on the citizen's page, not the staff's
        problem = f"{exc.message}。意见或建议请不要超过 500 字，然后重新查询并评价。"
        return _form_page(request, "", "", problem=problem, status=exc.status)
    form = dict(parse_qsl(raw.decode("utf-8", "replace")))
    number = form.get("number", "").strip()
    code = form.get("code", "").strip().upper()
    values = {k: form.get(k, "") for k in ("satisfaction", "solved", "comment")}
    body, errors = validate_form(
        RatingIn,
        {
            "code": code,
            "satisfaction": values["satisfaction"] or None,
            "solved": SOLVED.get(values["solved"]),
            "comment": values["comment"],
        },
    )
    return await _lookup(request, number, code, rating_body=body, errors=errors, values=values)


async def _lookup(
    request: Request,
    number: str,
    code: str,
    *,
    rating_body: RatingIn | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """Open the ticket (counted by the limits); with a rating, record it, then show the page."""
    problem = _form_problem(number, code)
    if problem:
        return _form_page(request, number, code, problem=problem, status=422)
    try:
        ticket = await tracked_ticket(request, number, code)
    except Refused as exc:
        message = (
            f"{too_many_tries(exc.retry_after)}。请在这段时间后核对受理短信或回执上的查询码再查询；"
            + CALL
        )
        response = _form_page(request, number, code, problem=message, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except HotlineError:
        return _form_page(request, number, code, problem=NOT_FOUND, status=404)
    status, problem = 200, ""
    if errors:
        status, problem = 422, _rating_problem(errors)
    elif rating_body is not None:
        try:
            await rating.rate(
                ticket=ticket,
                rating=rating_body,
                now=utcnow(),
                deployment=request.app.state.deployment,
            )
        except HotlineError as exc:  # not replied yet, rated already: the message says why
            status, problem = exc.status, exc.message
        else:
            flash(request, _thanks(rating_body))
            # No #fragment: the thank-you is above the result and must be in view.
            return redirect(_self_link(number, code))
    return await _result_page(
        request, ticket, number, code, problem=problem, status=status, errors=errors, values=values
    )


async def _result_page(
    request: Request,
    ticket: Any,
    number: str,
    code: str,
    *,
    problem: str = "",
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The ticket's progress, with the rating, 补充说明 and 催一催 where they apply."""
    view = await track_view(ticket)
    urge_refused = await citizen_followup.urge_refusal(ticket, now=utcnow())
    context = {
        "view": view,
        "words": UNSOLVED_WORDS
        if await rating.left_unsolved(ticket)
        else STATUS_WORDS[Status(view.status)],
        "promised": promised_words(view),
        "photos": [{**p.model_dump(), "heic": p.content_type in HEIC} for p in view.photos],
        "errors": errors or {},
        "values": values or {},
        "satisfaction_choices": SATISFACTION,
        "satisfaction_prompt": f"请选择{'、'.join(SATISFACTION[:-1])}或{SATISFACTION[-1]}",
        "can_supplement": Status(ticket.status) in SUPPLEMENT_STATUSES,
        "max_photos": MAX_PHOTOS,
        "can_urge": urge_refused is None,
        # Said instead of the button once the citizen urged today (not before the due time).
        "urged_today": urge_refused is not None and urge_refused.code == "urged_today",
    }
    return _form_page(request, number, code, problem=problem, status=status, **context)


async def _opened(request: Request, number: str, code: str) -> tuple[Any, Response | None]:
    """The ticket a posted form names (counted by the guessing limits), or the page saying
    why not."""
    problem = _form_problem(number, code)
    if problem:
        return None, _form_page(request, number, code, problem=problem, status=422)
    try:
        return await tracked_ticket(request, number, code), None
    except Refused as exc:
        message = f"{too_many_tries(exc.retry_after)}。请在这段时间后再试；" + CALL
        response = _form_page(request, number, code, problem=message, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return None, response
    except HotlineError:
        return None, _form_page(request, number, code, problem=NOT_FOUND, status=404)


async def supplement_page(request: Request) -> Response:
    """POST /track/supplement — 补充说明 (text and photos) for the unit holding the ticket."""
    if not same_origin(request):
        message = "请求来源不符，补充说明未提交。请打开本站的进度查询页，查到工单后再补充。"
        return _form_page(request, "", "", problem=message, status=403)
    limit = MAX_PHOTOS * int(request.app.state.settings.photo_max_bytes) + FIELDS_ALLOWANCE
    try:
        form = await read_form(request, limit)
    except BodyTooLarge:
        mb = limit // (1024 * 1024)
        message = f"提交的内容过大（上限约 {mb} MB）。请减少照片数量或压缩照片后，重新查询并补充。"
        return _form_page(request, "", "", problem=message, status=413)
    except (HTTPException, MultiPartException):
        message = f"提交的内容无法读取（照片最多 {MAX_PHOTOS} 张）。请重新查询并补充。"
        return _form_page(request, "", "", problem=message, status=400)
    try:
        number = str(form.get("number") or "").strip()
        code = str(form.get("code") or "").strip().upper()
        ticket, refused = await _opened(request, number, code)
        if refused is not None:
            return refused
        text = str(form.get("supplement") or "").strip()
        values = {"supplement": text}
        errors: dict[str, str] = {}
        if not 5 <= len(text) <= 2000:
            errors["supplement"] = "请写下要补充的情况（5 到 2000 字）。"
        settings = request.app.state.settings
        uploads, photo_error = await checked_uploads(form, int(settings.photo_max_bytes))
        photos = []
        if not photo_error and not errors:
            photos, photo_error = await cleaned_photos(uploads)
        if photo_error:
            errors["supplement_photos"] = photo_error
        if errors:
            return await _result_page(
                request,
                ticket,
                number,
                code,
                problem="补充说明未提交：请按红字提示修改；照片需要重新选择。",
                status=422,
                errors=errors,
                values=values,
            )
        try:
            await citizen_followup.supplement(
                ticket=ticket,
                text=text,
                photos=photos,
                upload_dir=settings.upload_dir,
                now=utcnow(),
                deployment=request.app.state.deployment,
            )
        except HotlineError as exc:
            return await _result_page(
                request, ticket, number, code, problem=exc.message, status=exc.status, values=values
            )
    finally:
        await form.close()
    flash(request, "已收到您的补充说明，承办单位办理时可以看到。")
    return redirect(_self_link(number, code))


async def urge_page(request: Request) -> Response:
    """POST /track/urge — 催一催 once the promised reply time has passed (once a day)."""
    if not same_origin(request):
        message = "请求来源不符，未能催办。请打开本站的进度查询页，查到工单后再催办。"
        return _form_page(request, "", "", problem=message, status=403)
    try:
        raw = await read_body(request)
    except HotlineError as exc:  # too large: no person's 催一催
        return _form_page(
            request, "", "", problem=f"{exc.message}。请重新查询后再催办。", status=exc.status
        )
    form = dict(parse_qsl(raw.decode("utf-8", "replace")))
    number = form.get("number", "").strip()
    code = form.get("code", "").strip().upper()
    ticket, refused = await _opened(request, number, code)
    if refused is not None:
        return refused
    try:
        await citizen_followup.urge(
            ticket=ticket, now=utcnow(), deployment=request.app.state.deployment
        )
    except HotlineError as exc:
        return await _result_page(
            request, ticket, number, code, problem=exc.message, status=exc.status
        )
    flash(request, "已催办：热线已提醒承办单位尽快答复，催办会计入对该单位的考核。")
    return redirect(_self_link(number, code))


def _rating_problem(errors: dict[str, str]) -> str:
    """The top message of a rating sent incomplete: each question still unanswered, by name."""
    unanswered = [q for field, q in RATING_QUESTIONS.items() if field in errors]
    if unanswered:
        return f"评价未提交：请选择 {'、'.join(unanswered)}。"
    return "评价未提交：请按红字提示修改 意见或建议 后再提交。"


def _form_problem(number: str, code: str) -> str:
    """What is wrong with the typed number or code before anything is looked up."""
    if not number:
        return "请填写工单号（受理短信或回执上的编号，如 20261122-00001）。"
    if not _NUMBER.fullmatch(number):
        return "工单号格式不对：应为 8 位日期、短横线和序号，如 20261122-00001。请核对后重新输入。"
    if not code:
        return "请填写 6 位查询码（在受理短信或回执上）。"
    if not _CODE.fullmatch(code):
        return "查询码应为 6 位字母或数字（不含 0、1、I、L、O），请核对受理短信或回执。"
    return ""


def _form_page(
    request: Request,
    number: str,
    code: str,
    *,
    problem: str = "",
    notice: str = "",
    status: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        "track.html",
        {"number": number, "code": code, "problem": problem, "notice": notice, **context},
        status=status,
    )


def _thanks(body: RatingIn) -> str:
    solved = "问题已解决" if body.solved else "问题未解决"
    return f"感谢您的评价（{body.satisfaction}，{solved}），已记入回访。"


def _self_link(number: str, code: str) -> str:
    return "/track?" + urlencode({"number": number, "code": code})


def promised_words(view: TrackOut) -> str:
    """The promised reply time in words: a deadline at local midnight is the day before, 24:00."""
    if not view.promised_reply_by or Status(view.status) not in WITH_UNIT:
        return ""
    due = datetime.fromisoformat(view.promised_reply_by).astimezone(SHANGHAI)
    if (due.hour, due.minute) == (0, 0):
        day = due - timedelta(days=1)
        return f"{day.year}年{day.month}月{day.day}日 24:00 前"
    return f"{due.year}年{due.month}月{due.day}日 {due:%H:%M} 前"


async def rating_link(request: Request) -> Response:
    """GET /track/rating — a bookmarked or reloaded form address: back to the lookup."""
    return redirect("/track")


routes = [
    Route("/track", track_page, methods=["GET"]),
    Route("/track/supplement", supplement_page, methods=["POST"]),
    Route("/track/urge", urge_page, methods=["POST"]),
    Route("/track/rating", rate_page, methods=["POST"]),
    Route("/track/rating", rating_link, methods=["GET"]),
]
