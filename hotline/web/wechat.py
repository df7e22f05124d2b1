"""GET/POST /wechat — the WeChat official account server URL (服务器地址).

Parse and check the request (size, signature, timestamp, nonce, mode, XML, decryption), call
one service function, answer in the protocol's own terms: the raw `echostr`, a passive reply
XML (encrypted back in safe and compatible mode) or "success". Signature and timestamp
failures, a nonce used by another request, and a plain message when WECHAT_AES_KEY is set
answer 403; unreadable bodies 400, oversized ones 413; no ticket is touched before.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hotline.channels import wechat as proto
from hotline.domain.errors import HotlineError
from hotline.domain.timefmt import utcnow
from hotline.runtime.config import Settings
from hotline.services import wechat as wechat_service
from hotline.services import wechat_nonces
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
    if not nonce or len(nonce) > proto.MAX_NONCE_CHARS:
        raise _Refused(403, "invalid nonce")
    if not proto.check_signature(q.get("signature", ""), token, timestamp, nonce):
        raise _Refused(403, "invalid signature")
    if not proto.fresh(timestamp, now):
        raise _Refused(403, "timestamp out of range")
    return timestamp, nonce


def _refuse_plain(request: Request, settings: Settings) -> None:
    """With an EncodingAESKey configured only encrypted messages count (safe or compatible mode).

    A plain message's signature covers neither its body nor its sender: accepting one would
    let whoever learnt a signature post as any citizen and read their tickets.
    """
    if settings.wechat_aes_key and request.query_params.get("encrypt_type", "").lower() != "aes":
        log.warning(
            "wechat: plain message refused because WECHAT_AES_KEY is set; the account's "
            "message mode must be safe (安全模式) or compatible (兼容模式)"
        )
        raise _Refused(403, "plain messages are not accepted: use safe or compatible mode")


async def _claim_nonce(timestamp: str, nonce: str, method: str, payload: bytes) -> None:
    """Refuse a (timestamp, nonce) pair another request has already used (a replay)."""
    expires = datetime.fromtimestamp(proto.nonce_expires(timestamp), UTC)
    claimed = await wechat_nonces.claim(
        key=proto.nonce_key(timestamp, nonce),
        request=proto.request_digest(method, payload),
        expires_at=expires,
    )
    if not claimed:
        log.warning("wechat: refused a nonce already used by another request (replay)")
        raise _Refused(403, "nonce already used")


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
            # Claimed too: the same signature must not sign a message later.
            await _claim_nonce(timestamp, nonce, "GET", echostr.encode())
            return _plain(echostr)
        _refuse_plain(request, settings)
        body = await _read(request)
        await _claim_nonce(timestamp, nonce, "POST", body)
        return await _message(
            request, settings, body=body, nonce=nonce, timestamp=timestamp, now=now
        )
    except _Refused as refused:
        return _plain(refused.text, refused.status)
    except proto.WeChatError as exc:
        log.warning("wechat: refused %s: %s", type(exc).__name__, exc)
        return _plain(str(exc), exc.status)


async def _message(
    request: Request, settings: Settings, *, body: bytes, nonce: str, timestamp: str, now: datetime
) -> Response:
    outer = proto.parse_xml(body)
    crypto = None
    fields = outer
    if request.query_params.get("encrypt_type", "raw").lower() == "aes":
        encrypted = outer.get("Encrypt", "")
        if not encrypted:
            raise proto.BadMessage("encrypt_type=aes 但没有 Encrypt 字段")
        crypto = _crypto(settings)
        if crypto is None and settings.wechat_aes_key:
            # A key that does not load: never fall back to the unsigned plain copy.
            raise _Refused(503, "WECHAT_AES_KEY/WECHAT_APPID unusable")
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
