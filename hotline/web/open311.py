"""/open311/v2 — the Open311 GeoReport v2 endpoints, in JSON or XML as the path's suffix says.

Each endpoint parses, calls one service function and answers in the spec's terms; every
refusal is the spec's error list (`[{"code", "description"}]` or `<errors>`), including
unknown paths and methods under /open311, which the staff pages' handlers never see.
Reading is public (as the spec has it); creating needs an `api_key` from OPEN311_API_KEYS.
The GETs are declared with `@api` (schemas in hotline/web/open311_doc.py), so /openapi.json
documents them and their path values are checked before a handler runs.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.channels import open311 as proto
from hotline.channels import open311_format as fmt
from hotline.channels import open311_input as sent
from hotline.domain.errors import HotlineError
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.runtime.config import Settings
from hotline.runtime.deployment import Deployment
from hotline.services import counters
from hotline.services import open311 as open311_service
from hotline.services.idempotency import retry_key
from hotline.web import open311_doc as doc
from hotline.web.endpoint import api, request_query
from hotline.web.failsafe import DB_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable
from hotline.web.http import read_body, validate

log = logging.getLogger("hotline.open311")

PREFIX = "/open311/v2"
POSTS_PER_HOUR = 120  # per client address: a city app's server, not one citizen
MAX_FIELDS = 100
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
NOSNIFF = {"X-Content-Type-Options": "nosniff"}

Handler = Callable[[Request], Awaitable[tuple[int, str, Any]]]


def _format(request: Request) -> str:
    """The format the path asks for; under an unknown path, its suffix or else JSON."""
    if "format" in request.path_params:
        return str(request.path_params["format"])
    return "xml" if request.url.path.endswith(".xml") else "json"


def _answer(form: str, status: int, root: str, value: Any) -> Response:
    body, media_type = fmt.render(form, root, value)
    return Response(body, status_code=status, headers=NOSNIFF, media_type=media_type)


def _refuse(form: str, status: int, description: str, **headers: str) -> Response:
    body, media_type = fmt.errors(form, status, [description])
    return Response(body, status_code=status, headers={**NOSNIFF, **headers}, media_type=media_type)


def endpoint(*methods: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """An endpoint answering `methods` with a handler's (status, root, value), errors per spec."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def answer(request: Request) -> Response:
            form = _format(request)
            if form not in proto.FORMATS:
                return _refuse("json", 404, f"不支持的格式「.{form[:10]}」：请使用 .json 或 .xml")
            allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
            if methods and request.method not in allowed:
                return _refuse(form, 405, "不支持该请求方法", Allow=", ".join(sorted(allowed)))
            try:
                status, root, value = await handler(request)
            except proto.Open311Error as exc:
                retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
                return _refuse(form, exc.status, exc.description, **retry)
            except HotlineError as exc:  # a body over the limit, a malformed Idempotency-Key
                return _refuse(form, exc.status, exc.message)
            except Exception as exc:  # noqa: BLE001 - clients read only the spec's error list
                return _failed(request, form, exc)
            return _answer(form, status, root, value)

        return answer

    return wrap


def _failed(request: Request, form: str, exc: Exception) -> Response:
    """503 (database unreachable, with Retry-After) or 500, logged once, in the spec's format."""
    if database_unavailable(exc):
        request.app.state.outage.refused_request(f"{request.method} {request.url.path}", exc)
        return _refuse(form, 503, DB_UNAVAILABLE, **{"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.error("open311: unhandled error on %s", request.url.path, exc_info=exc)
    return _refuse(form, 500, "服务器内部错误，请稍后重试")


def _deployment(request: Request) -> Deployment:
    deployment: Deployment = request.app.state.deployment
    return deployment


def _vocabulary(request: Request) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(model categories, other categories, kinds) of the deployment's vocabulary."""
    vocabulary = _deployment(request).vocabulary
    if vocabulary is None:
        return (), (), tuple(proto.KIND_KEYS.values())
    return vocabulary.model_categories, vocabulary.other_categories, vocabulary.kinds


# ---- discovery ------------------------------------------------------------------------


@endpoint("GET")
@api(
    summary="Open311 发现文档",
    public=True,
    methods=("GET",),
    path={"format": doc.FORMAT},
    responses=doc.answers(doc.DISCOVERY),
)
async def discovery(request: Request) -> tuple[int, str, Any]:
    """GET /open311/discovery — where the GeoReport v2 endpoint is and how to get a key."""
    settings: Settings = request.app.state.settings
    return 200, "discovery", proto.discovery(settings.public_base_url.rstrip("/") + PREFIX)


# ---- services -------------------------------------------------------------------------


@endpoint("GET")
@api(
    summary="Open311 服务列表（诉求分类）",
    public=True,
    methods=("GET",),
    path={"format": doc.FORMAT},
    responses=doc.answers(doc.SERVICES),
)
async def service_list(request: Request) -> tuple[int, str, Any]:
    """GET services — every category we take requests for."""
    model, other, kinds = _vocabulary(request)
    return 200, "services", [s.as_record() for s in proto.services(model, other, kinds)]


@endpoint("GET")
@api(
    summary="Open311 服务定义（可填的属性）",
    public=True,
    methods=("GET",),
    path={"code": doc.SERVICE_CODE, "format": doc.FORMAT},
    responses=doc.answers(doc.DEFINITION),
)
async def service_definition(request: Request) -> tuple[int, str, Any]:
    """GET services/{code} — the attributes a request of this service may carry."""
    model, other, kinds = _vocabulary(request)
    code = request.path_params["code"]
    if code not in (*model, *other):
        raise proto.Open311Error(404, f"未知的服务「{code[:40]}」（可用的服务见 services.json）")
    return 200, "service_definition", proto.definition(code, kinds)


# ---- requests -------------------------------------------------------------------------


@endpoint("GET", "POST")
@api(
    summary="Open311 服务请求查询（公开记录；保密工单不公开）",
    public=True,
    methods=("GET",),
    path={"format": doc.FORMAT},
    query=doc.Open311RequestsQuery,
    responses=doc.answers(doc.REQUESTS, 400),
)
async def request_list(request: Request) -> tuple[int, str, Any]:
    """GET requests — public records by the spec's filters; POST requests — a new ticket."""
    if request.method == "POST":
        return await _create(request)
    try:
        request_query(request)  # the documented sizes, before the spec's own rules
    except HotlineError as exc:
        raise proto.Open311Error(400, exc.message) from None
    query = sent.parse_query(request.query_params, now=utcnow())
    return 200, "service_requests", await open311_service.public_requests(query)


@endpoint("GET")
@api(
    summary="Open311 单个服务请求",
    public=True,
    methods=("GET",),
    path={"id": doc.REQUEST_ID, "format": doc.FORMAT},
    responses=doc.answers(doc.REQUESTS),
)
async def one_request(request: Request) -> tuple[int, str, Any]:
    """GET requests/{id} — one request, as a list of one (the spec's shape)."""
    number = request.path_params["id"]
    found = await open311_service.public_requests(sent.Query(ids=(number,)))
    if not found:
        raise proto.Open311Error(404, f"未找到服务请求 {number[:40]}（保密工单不公开）")
    return 200, "service_requests", found


@endpoint("GET")
@api(
    summary="Open311 由 token 查服务请求编号",
    public=True,
    methods=("GET",),
    path={"token": doc.TOKEN, "format": doc.FORMAT},
    responses=doc.answers(doc.TOKENS),
)
async def token(request: Request) -> tuple[int, str, Any]:
    """GET tokens/{token} — the service_request_id a POST's token stands for."""
    value = request.path_params["token"]
    number = await open311_service.token_request(value) if len(value) <= 64 else None
    if number is None:
        raise proto.Open311Error(404, "未知的 token")
    return 200, "service_requests", [{"service_request_id": number, "token": value}]


async def _create(request: Request) -> tuple[int, str, Any]:
    settings: Settings = request.app.state.settings
    await _count_post(request)
    fields = {**dict(request.query_params), **await _form(request)}
    keys = settings.open311_api_keys
    if not keys:
        raise proto.Open311Error(403, "本系统未开放 Open311 提交（未配置 OPEN311_API_KEYS）")
    client = sent.client_of(fields.get("api_key", ""), keys)
    if client is None:
        raise proto.Open311Error(403, "缺少或无效的 api_key，无法提交服务请求")
    model, other, kinds = _vocabulary(request)
    new = sent.parse_new_request(fields, services=(*model, *other), kinds=kinds)
    try:
        data = validate(TicketCreate, sent.ticket_fields(new))
    except HotlineError as exc:
        raise proto.Open311Error(400, exc.message) from None
    now = utcnow()
    # The key and the request minus the api_key: a retry must carry the same fields.
    shown = sorted((k, v) for k, v in fields.items() if k != "api_key")
    retry = retry_key(
        f"open311:{client}", request.headers.get("idempotency-key"), ["create", shown]
    )
    record, issued = await open311_service.create_request(
        data=data,
        client=client,
        now=now,
        deployment=_deployment(request),
        auto_dispatch=settings.auto_dispatch,
        retry=retry,
    )
    ticket = record.ticket
    log.info("open311: %s created %s", client, ticket.number)
    notice = proto.created_notice(
        ticket.number, ticket.query_code, due=open311_service.feedback_due(record)
    )
    answer = {
        "service_request_id": ticket.number,
        "token": issued,
        "service_notice": notice,
        "account_id": None,
    }
    return (200 if record.replayed else 201), "service_requests", [answer]


async def _form(request: Request) -> dict[str, str]:
    """The form-encoded body (the spec's POST), within the body size limit."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await read_body(request)
    if not raw.strip():
        return {}
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise proto.Open311Error(
            400, "请求体必须是 application/x-www-form-urlencoded 表单（图片请用 media_url）"
        )
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise proto.Open311Error(400, "请求体不是合法的 UTF-8 编码") from None
    except ValueError:
        raise proto.Open311Error(400, f"表单字段过多（最多 {MAX_FIELDS} 个）") from None
    return dict(pairs)


async def _count_post(request: Request) -> None:
    """At most POSTS_PER_HOUR POSTs per client address, counted in the shared database."""
    address = request.client.host if request.client else "unknown"
    now = utcnow().timestamp()
    win = counters.window("open311-post", address, 3600, now)
    if await counters.hit(win) > POSTS_PER_HOUR:
        raise proto.Open311Error(
            429,
            f"提交过于频繁：每个地址每小时最多 {POSTS_PER_HOUR} 条，请稍后再试",
            retry_after=max(1, math.ceil(win.ends - now)),
        )


@endpoint()  # every method: the path is what is unknown
async def not_found(request: Request) -> tuple[int, str, Any]:
    """Anything else under /open311: 404 in the spec's format."""
    raise proto.Open311Error(404, "没有这个 Open311 接口（见 services.json、requests.json）")


def _route(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
    return Route(PREFIX + path, handler, methods=METHODS, include_in_schema=False)


routes = [
    Route("/open311/discovery.{format}", discovery, methods=METHODS, include_in_schema=False),
    _route("/services.{format}", service_list),
    _route("/services/{code}.{format}", service_definition),
    _route("/requests.{format}", request_list),
    _route("/requests/{id}.{format}", one_request),
    _route("/tokens/{token}.{format}", token),
    Route("/open311/{rest:path}", not_found, methods=METHODS, include_in_schema=False),
]
