"""GET/POST /wechat — the WeChat official account server URL (服务器地址).

Parse and check the request (size, signature, timestamp, XML, decryption), call one
service function, answer in the protocol's own terms: the raw `echostr`, a passive reply
XML (encrypted back in safe and compatible mode) or "success". Signature and timestamp
failures answer 403, unreadable bodies 400, oversized ones 413, all before anything is
stored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hotline.channels import wechat as proto
from hotline.config import Settings
from hotline.errors import HotlineError
from hotline.services import wechat as wechat_service
from hotline.timefmt import utcnow
from hotline.web.endpoint import api
from hotline.web.http import error_response
from hotline.web.open311_doc import WECHAT_ANSWERS, WeChatCheckQuery

log = logging.getLogger("hotline.wechat")

MAX_BODY_BYTES = 64 * 1024  # WeChat's messages are a few KiB; refuse more before parsing
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _plain(text: str, status: int = 200) -> Response:
    return PlainTextResponse(text, status_code=status, headers=NOSNIFF)


def _crypto(settings: Settings) -> proto.Crypto | None:
    if not (settings.wechat_aes_key and settings.wechat_appid):
        return None
    try:
        return proto.Crypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
    except ValueError:
        log.error("WECHAT_AES_KEY is not a valid EncodingAESKey (43 characters of base64)")
        return None


def _check_query(request: Request, token: str, now: float) -> tuple[str, str]:
    """The request's timestamp and nonce, once `signature` and freshness check out."""
    q = request.query_params
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    if not proto.check_signature(q.get("signature", ""), token, timestamp, nonce):
        raise _Refused(403, "invalid signature")
    if not proto.fresh(timestamp, now):
        raise _Refused(403, "timestamp out of range")
    return timestamp, nonce


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Refused(413, "body too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


@api(
    summary="微信公众号服务器地址校验（GET；消息为 POST，微信平台的 XML）",
    public=True,
    methods=("GET",),
    query=WeChatCheckQuery,
    errors=(404,),
    responses=WECHAT_ANSWERS,
)
async def wechat(request: Request) -> Response:
    """GET: URL verification; POST: a citizen's message, answered with a passive reply."""
    settings: Settings = request.app.state.settings
    token = settings.wechat_token
    if not token:
        return error_response(404, "http_error", "页面或接口不存在")
    now = utcnow()
    try:
        timestamp, nonce = _check_query(request, token, now.timestamp())
        if request.method == "GET":
            echostr = request.query_params.get("echostr")
            if not echostr:
                raise _Refused(400, "echostr missing")
            return _plain(echostr)
        return await _message(request, settings, nonce=nonce, timestamp=timestamp, now=now)
    except _Refused as refused:
        return _plain(refused.text, refused.status)
    except proto.WeChatError as exc:
        log.warning("wechat: refused %s: %s", type(exc).__name__, exc)
        return _plain(str(exc), exc.status)


async def _message(
    request: Request, settings: Settings, *, nonce: str, timestamp: str, now: datetime
) -> Response:
    body = await _read(request)
    outer = proto.parse_xml(body)
    crypto = None
    fields = outer
    if request.query_params.get("encrypt_type", "raw").lower() == "aes":
        encrypted = outer.get("Encrypt", "")
        if not encrypted:
            raise proto.BadMessage("encrypt_type=aes 但没有 Encrypt 字段")
        crypto = _crypto(settings)
        if crypto is None and "MsgType" in outer:
            log.warning("wechat: encrypted message but no WECHAT_AES_KEY/APPID: using plain fields")
        elif crypto is None:
            log.error("wechat: safe-mode message but WECHAT_AES_KEY/WECHAT_APPID are not set")
            return _plain("success")
        else:
            given = request.query_params.get("msg_signature", "")
            if not proto.check_signature(given, settings.wechat_token, timestamp, nonce, encrypted):
                raise proto.BadSignature("invalid msg_signature")
            # Compatible mode sends plain fields too: only the encrypted ones are signed.
            fields = proto.parse_xml(crypto.decrypt(encrypted))
    message = proto.message_from(fields)
    try:
        reply = await wechat_service.handle_message(
            message=message,
            now=now,
            deployment=request.app.state.deployment,
            auto_dispatch=settings.auto_dispatch,
        )
    except HotlineError as exc:
        log.warning("wechat: message %s refused: %s %s", message.dedupe_key, exc.code, exc.message)
        reply = proto.FAILED_TEXT
    if reply is None:
        return _plain("success")
    xml = proto.text_reply(
        to_user=message.from_user,
        from_user=message.to_user,
        content=reply,
        create_time=int(now.timestamp()),
    )
    if crypto is not None:
        xml = crypto.encrypt_reply(xml, nonce=nonce, timestamp=str(int(now.timestamp())))
    return Response(xml, media_type="application/xml")


routes = [Route("/wechat", wechat, methods=["GET", "POST"], include_in_schema=False)]
