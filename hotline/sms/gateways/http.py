"""SMS_GATEWAY=http: a city's own SMS platform, one JSON POST a message."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from hotline.privacy.rules import mask_personal
from hotline.runtime.sms_settings import SmsSettings
from hotline.sms.gateways.base import SmsMessage, SmsSendError

# Throttled or timed out at the platform: the message itself is fine, try again later.
_RETRY_4XX = frozenset({408, 425, 429})
# The platform refuses our credentials: fixing SMS_HTTP_HEADERS must not need a requeue
# of every message that waited meanwhile, so these are retried, not failed.
_AUTH_4XX = frozenset({401, 403})


def fill_body(template: Any, values: dict[str, str]) -> Any:
    """The parsed SMS_HTTP_BODY with {phone} {text} {template} {ticket_number} in its strings
    replaced; values go in as data, so json.dumps escapes them however they are written."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, list):
        return [fill_body(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill_body(item, values) for key, item in template.items()}
    return template


def gateway_ref(response: httpx.Response) -> str:
    """The platform's id for the message when its JSON answer has one, else the status."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("id", "msgid", "msg_id", "message_id", "messageId", "MsgId", "BizId"):
            if data.get(key) not in (None, ""):
                return str(data[key])[:128]
    return f"HTTP {response.status_code}"


class HttpGateway:
    """POSTs SMS_HTTP_BODY (filled in) to SMS_HTTP_URL with SMS_HTTP_HEADERS."""

    name = "http"

    def __init__(self, settings: SmsSettings, transport: httpx.AsyncBaseTransport | None = None):
        self._url = settings.http_url
        self._body = json.loads(settings.http_body)
        self._client = httpx.AsyncClient(
            headers=settings.http_headers, timeout=settings.timeout, transport=transport
        )

    async def send(self, message: SmsMessage) -> str:
        """2xx sends; 5xx, timeouts and unreachable platforms retry; other 4xx fail."""
        values = {
            "phone": message.phone,
            "text": message.body,
            "template": message.template,
            "ticket_number": message.ticket_number,
        }
        url = self._url.replace("{phone}", quote(message.phone, safe=""))
        try:
            response = await self._client.post(url, json=fill_body(self._body, values))
        except httpx.HTTPError as exc:
            raise SmsSendError(
                _quiet(f"短信平台无法访问：{type(exc).__name__}: {exc}", message),
                gateway_level=True,
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return gateway_ref(response)
        text = _quiet(f"短信平台 HTTP {status}：{response.text[:300]}", message)
        if status >= 500 or status in _RETRY_4XX or status in _AUTH_4XX:
            raise SmsSendError(text, gateway_level=True)
        raise SmsSendError(text, permanent=True)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _quiet(error: str, message: SmsMessage) -> str:
    """An error for last_error and the log: the platform may echo the number or the text."""
    code = message.params.get("code", "")
    return mask_personal(error.replace(code, "******") if code else error)
