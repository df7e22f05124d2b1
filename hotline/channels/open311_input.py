"""What Open311 clients send, checked: the api_key, GET requests' filters, the POST form.

Pure like the rest of the protocol: the endpoint passes the clock and the vocabulary in.
Everything refused is an Open311Error(400, why) a person can act on.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.channels.open311 import DEFAULT_KIND, KIND_ATTRIBUTE, KIND_KEYS, Open311Error
from hotline.channels.wechat import title_of
from hotline.domain.schemas import TICKET_NUMBER_PATTERN
from hotline.domain.timefmt import SHANGHAI

MAX_DESCRIPTION = 4000  # the spec's limit on `description`
MIN_DESCRIPTION = 5  # what TicketCreate.content needs; shorter is no matter to act on
WINDOW = timedelta(days=90)  # the spec's default range, and the widest one a query may ask
MAX_IDS = 100  # service_request_id values in one query
# Our own field sizes: a service_request_id is a ticket number (20 characters at most), a
# service_code a category (the column holds 32). Longer values cannot match anything, and
# the database would refuse them rather than answer "none".
SERVICE_REQUEST_ID = re.compile(TICKET_NUMBER_PATTERN, re.ASCII)
MAX_SERVICE_CODE = 32
YEARS = (1970, 2100)  # dates a query may name


# ---- api keys -----------------------------------------------------------------------


def client_of(api_key: str, keys: Sequence[tuple[str, str]]) -> str | None:
    """The configured client name of `api_key` (None: unknown); compared in constant time."""
    found = None
    given = api_key.encode()
    for name, key in keys:
        # Every key is compared, so the time taken says nothing about which one is close.
        if hmac.compare_digest(given, key.encode()):
            found = name
    return found


# ---- GET requests filters -------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What GET requests asks for, parsed; `ids` overrides every other filter (the spec)."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def _values(raw: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (raw or "").split(",") if v.strip())


_ISO_Z = re.compile(r"Z$", re.IGNORECASE)


def parse_datetime(name: str, raw: str) -> datetime:
    """A W3C/ISO 8601 date or time; a time without an offset is Beijing time."""
    text = _ISO_Z.sub("+00:00", raw.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400, f"参数 {name} 必须是 W3C 日期时间格式，例如 2026-11-01T00:00:00+08:00"
        ) from None
    if not YEARS[0] <= value.year <= YEARS[1]:
        # Far ends of the calendar overflow when the 90-day window is added or taken away.
        raise Open311Error(400, f"参数 {name} 超出范围（{YEARS[0]}–{YEARS[1]} 年）")
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def parse_query(params: Mapping[str, str], *, now: datetime) -> Query:
    """The spec's filters, with its defaults: the last 90 days, at most 90 days at once."""
    ids = _values(params.get("service_request_id"))
    if len(ids) > MAX_IDS:
        raise Open311Error(400, f"service_request_id 一次最多 {MAX_IDS} 个")
    for value in ids:
        if not SERVICE_REQUEST_ID.fullmatch(value):
            raise Open311Error(
                400,
                f"service_request_id「{value[:24]}」不是本系统的服务请求编号"
                "（形如 20261122-00001，多个用逗号分隔）",
            )
    if ids:
        return Query(ids=ids)
    statuses = _values(params.get("status"))
    for status in statuses:
        if status not in ("open", "closed"):
            raise Open311Error(400, f"参数 status 只能是 open 或 closed（收到「{status}」）")
    start = parse_datetime("start_date", params["start_date"]) if params.get("start_date") else None
    end = parse_datetime("end_date", params["end_date"]) if params.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW  # the spec's widest range; later times simply match nothing
    if end < start:
        raise Open311Error(400, "end_date 不能早于 start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date 与 end_date 相隔不能超过 90 天")
    codes = _values(params.get("service_code"))
    for code in codes:
        if len(code) > MAX_SERVICE_CODE:
            raise Open311Error(
                400,
                f"service_code「{code[:12]}…」过长（最多 {MAX_SERVICE_CODE} 个字符）："
                "可用的服务代码见 services.json",
            )
    return Query(codes=codes, start=start, end=end, statuses=statuses)


# ---- POST requests ------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A POSTed service request, checked; personal data stays on the ticket's own columns."""

    service_code: str
    kind: str
    title: str
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    name: str
    phone: str
    email: str
    media_url: str


_FIELD_LIMITS = {
    "address_string": 300,
    "first_name": 32,
    "last_name": 32,
    "phone": 32,
    "email": 200,
    "media_url": 500,
    "device_id": 200,
    "account_id": 200,
    "address_id": 200,
}
_PHONE = re.compile(r"^[0-9+\-() ]*$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _coordinate(name: str, raw: str, bound: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} 必须是数字（WGS-84 十进制度数）") from None
    if not -bound <= value <= bound:  # NaN fails this too
        raise Open311Error(400, f"{name} 必须在 -{bound:g} 到 {bound:g} 之间")
    return value


def _full_name(first: str, last: str) -> str:
    """Chinese names read family name first, without a space; others "first last"."""
    if _CJK.search(first + last):
        return last + first
    return " ".join(p for p in (first, last) if p)


def parse_new_request(
    form: Mapping[str, str], *, services: Iterable[str], kinds: Iterable[str]
) -> NewRequest:
    """The POST form checked against the spec and our limits, or Open311Error(400, why)."""
    for name, limit in _FIELD_LIMITS.items():
        if len(form.get(name, "")) > limit:
            raise Open311Error(400, f"{name} 太长（最多 {limit} 个字符）")
    if any("\x00" in v for v in form.values()):
        raise Open311Error(400, "参数不能包含空字符")
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code（可用的服务见 services.json）")
    if code not in set(services):
        raise Open311Error(400, f"未知的 service_code「{code[:40]}」（可用的服务见 services.json）")
    description = " ".join(form.get("description", "").split())
    if len(description) < MIN_DESCRIPTION:
        raise Open311Error(400, f"缺少 description 或太短：请用至少 {MIN_DESCRIPTION} 个字描述诉求")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description 太长（最多 {MAX_DESCRIPTION} 个字符）")
    latitude = longitude = None
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    if lat or long:
        if not (lat and long):
            raise Open311Error(400, "lat 和 long 必须同时提供")
        latitude, longitude = _coordinate("lat", lat, 90), _coordinate("long", long, 180)
    address = " ".join(form.get("address_string", "").split())
    if latitude is None and not address:
        # We keep no master address repository, so an address_id alone locates nothing.
        raise Open311Error(
            400, "需要位置：请提供 lat 和 long，或 address_string（本系统不使用 address_id）"
        )
    phone = form.get("phone", "").strip()
    if not _PHONE.match(phone):
        raise Open311Error(400, "phone 只能包含数字、空格和 + - ( )")
    media_url = form.get("media_url", "").strip()
    if media_url and not media_url.lower().startswith(("https://", "http://")):
        raise Open311Error(400, "media_url 必须以 http:// 或 https:// 开头")
    return NewRequest(
        service_code=code,
        kind=_kind(form.get(f"attribute[{KIND_ATTRIBUTE}]", ""), kinds),
        title=title_of(description),
        description=description,
        address=address,
        latitude=latitude,
        longitude=longitude,
        name=_full_name(form.get("first_name", "").strip(), form.get("last_name", "").strip()),
        phone=phone,
        email=form.get("email", "").strip(),
        media_url=media_url,
    )


def ticket_fields(new: NewRequest) -> dict[str, object]:
    """The TicketCreate body of a new request (validated there: e-mail, name and phone limits)."""
    attachments = []
    if new.media_url:
        attachments.append(
            {"name": "Open311 图片", "content_type": "image/*", "url": new.media_url}
        )
    return {
        "channel": "open311",
        "kind": new.kind,
        "category": new.service_code,
        "title": new.title,
        "content": new.description,
        "location": {
            "address": new.address,
            "latitude": new.latitude,
            "longitude": new.longitude,
        },
        "complainant": {"name": new.name, "phone": new.phone, "email": new.email},
        "attachments": attachments,
    }


def _kind(key: str, kinds: Iterable[str]) -> str:
    key = key.strip()
    if not key:
        return DEFAULT_KIND
    kind = KIND_KEYS.get(key)
    if kind is None or kind not in set(kinds):
        keys = "、".join(KIND_KEYS)
        raise Open311Error(
            400, f"attribute[{KIND_ATTRIBUTE}] 的取值「{key[:20]}」无效，可选：{keys}"
        )
    return kind
