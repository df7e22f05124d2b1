"""What /openapi.json says of Open311 GeoReport v2 (GET) and of /wechat's URL check.

Open311 answers in the spec's own shapes (https://wiki.open311.org/GeoReport_v2), in JSON or
XML as the path's suffix asks, refusals included (`[{"code", "description"}]`), so its
schemas are the spec's records written out here rather than our pydantic models. Path
schemas are checked before a handler runs (hotline.web.endpoint), with the spec's error
list as the answer; the query string goes through `Open311RequestsQuery`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.channels.open311_input import MAX_IDS, MAX_SERVICE_CODE
from hotline.web.endpoint import TICKET_NUMBER
from hotline.web.queries import Query

FORMAT = {"type": "string", "enum": ["json", "xml"], "description": "格式"}
REQUEST_ID = {**TICKET_NUMBER, "description": "服务请求编号"}
SERVICE_CODE = {"type": "string", "maxLength": MAX_SERVICE_CODE, "description": "服务代码"}
TOKEN = {"type": "string", "maxLength": 64, "description": "token"}

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
_MAYBE_NUMBER = {"type": ["number", "null"]}


def _records(properties: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    item = {"type": "object", "properties": properties, "required": list(required)}
    return {"type": "array", "items": item}


ERRORS = _records({"code": {"type": "integer"}, "description": _TEXT}, required=("code",))
SERVICES = _records(
    {
        "service_code": _TEXT,
        "service_name": _TEXT,
        "description": _TEXT,
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _TEXT,
        "group": _TEXT,
    },
    required=("service_code", "service_name"),
)
DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": _TEXT,
        "attributes": _records(
            {
                "variable": {"type": "boolean"},
                "code": _TEXT,
                "datatype": _TEXT,
                "required": {"type": "boolean"},
                "datatype_description": _TEXT,
                "order": {"type": "integer"},
                "description": _TEXT,
                "values": _records({"key": _TEXT, "name": _TEXT}),
            },
            required=("code", "datatype"),
        ),
    },
}
REQUESTS = _records(
    {
        "service_request_id": _TEXT,
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _MAYBE_TEXT,
        "service_name": _MAYBE_TEXT,
        "service_code": _MAYBE_TEXT,
        "description": _MAYBE_TEXT,
        "agency_responsible": _MAYBE_TEXT,
        "service_notice": _MAYBE_TEXT,
        "requested_datetime": _MAYBE_TEXT,
        "updated_datetime": _MAYBE_TEXT,
        "expected_datetime": _MAYBE_TEXT,
        "address": _MAYBE_TEXT,
        "address_id": _MAYBE_TEXT,
        "zipcode": _MAYBE_TEXT,
        "lat": _MAYBE_NUMBER,
        "long": _MAYBE_NUMBER,
        "media_url": _MAYBE_TEXT,
    },
    required=("service_request_id", "status"),
)
TOKENS = _records({"service_request_id": _TEXT, "token": _TEXT}, required=("token",))
DISCOVERY = {
    "type": "object",
    "required": ["endpoints"],
    "properties": {
        "changeset": _TEXT,
        "contact": _TEXT,
        "key_service": _TEXT,
        "endpoints": _records(
            {
                "specification": _TEXT,
                "url": _TEXT,
                "changeset": _TEXT,
                "type": _TEXT,
                "formats": {"type": "array", "items": _TEXT},
            }
        ),
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "秒数", "schema": {"type": "integer"}}}


def _either(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An answer in JSON (with its schema) or XML (the same record as elements)."""
    content = {"application/json": {"schema": schema}, "text/xml": {"schema": _TEXT}}
    return {"description": description, "content": content, **extra}


def answers(ok: dict[str, Any], *refusals: int) -> dict[str, dict[str, Any]]:
    """The `responses` of one Open311 GET: success, the spec's refusals, and 503."""
    texts = {400: "参数有误", 404: "不存在或不支持的格式"}
    out = {"200": _either("成功", ok)}
    for status in (*refusals, 404):
        out[str(status)] = _either(texts[status], ERRORS)
    out["503"] = _either("数据库暂时不可用，请稍后重试", ERRORS, headers=_RETRY_AFTER)
    return out


class Open311RequestsQuery(Query):
    """GET requests: the spec's filters, within our own field sizes."""

    service_request_id: str | None = Field(
        default=None,
        max_length=MAX_IDS * 21,
        description=f"服务请求编号，逗号分隔（至多 {MAX_IDS} 个）；给出时忽略其他条件",
    )
    service_code: str | None = Field(
        default=None, max_length=MAX_IDS * (MAX_SERVICE_CODE + 1), description="服务代码，逗号分隔"
    )
    start_date: str | None = Field(
        default=None,
        max_length=40,
        description="起始时间（W3C 格式，如 2026-11-01T00:00:00+08:00）",
    )
    end_date: str | None = Field(
        default=None, max_length=40, description="截止时间（W3C 格式；与起始时间相隔至多 90 天）"
    )
    status: str | None = Field(default=None, max_length=20, description="open、closed，逗号分隔")
    jurisdiction_id: str | None = Field(
        default=None, max_length=100, description="辖区（本系统只有一个，可不填）"
    )


class WeChatCheckQuery(Query):
    """GET /wechat: the platform's check of the server URL (服务器地址)."""

    signature: str = Field(max_length=64, description="微信加密签名")
    timestamp: str = Field(max_length=20, description="时间戳")
    nonce: str = Field(max_length=64, description="随机数")
    echostr: str = Field(max_length=200, description="随机字符串：签名正确时原样返回")


WECHAT_ANSWERS = {
    "200": {"description": "echostr 原样返回", "content": {"text/plain": {"schema": _TEXT}}},
    "400": {"description": "缺少 echostr", "content": {"text/plain": {"schema": _TEXT}}},
    "403": {"description": "签名或时间戳不符", "content": {"text/plain": {"schema": _TEXT}}},
}
