"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), without I/O.

Our services are the vocabulary's first-level categories: `service_code` is the category
word itself (城乡建设 …), the one name routing.toml and sla.toml already use, so a code
never drifts from the rules that route it. What kind of matter (诉求类型) a request is comes
from the service definition's one attribute, `kind`; without it a request is a 求助 (a
citizen asking the city to fix something, what Open311 requests are).

This module is what we publish: the service list and definitions, the discovery document
and the request records tickets map to (what clients send is `open311_input`). It never
reads the clock, the environment or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.domain.vocabulary import KIND_SPECS
from hotline.privacy.rules import mask_address, mask_personal

SPEC_URL = "https://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
KIND_ATTRIBUTE = "kind"
# Attribute keys are what clients send back: ASCII, stable, one per kind of our vocabulary.
KIND_KEYS: dict[str, str] = {k.code: k.word for k in KIND_SPECS}
DEFAULT_KIND = "求助"
MAX_REQUESTS = 1000  # the spec's "1000 requests, whichever is smaller"
STATUS_NOTES_CHARS = 500
# When this server's Open311 interface last changed (discovery's `changeset`).
CHANGESET = "2026-11-29T00:00:00+08:00"


class Open311Error(Exception):
    """A request the spec's error format answers: `[{"code": status, "description": …}]`."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after  # seconds, for 429


@dataclass(frozen=True)
class Service:
    """One service type as GET services lists it."""

    code: str
    name: str
    description: str
    group: str
    keywords: str

    def as_record(self) -> dict[str, object]:
        """The spec's service record (key order as in the spec's example)."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": True,
            "type": "realtime",
            "keywords": self.keywords,
            "group": self.group,
        }


def services(model: Sequence[str], other: Sequence[str], kinds: Iterable[str]) -> list[Service]:
    """Every category as a service: the classifier's ones as 常见诉求, the rest as 其他诉求."""
    allowed = "、".join(k for k in KIND_KEYS.values() if k in set(kinds))
    described = "由12345热线按派单规则转交承办单位办理，并按时限答复。可选诉求类型：{}。"
    return [
        Service(
            code=name,
            name=name,
            description=f"{name}方面的诉求，" + described.format(allowed),
            group=group,
            keywords=name,
        )
        for names, group in ((model, "常见诉求"), (other, "其他诉求"))
        for name in names
    ]


def definition(code: str, kinds: Iterable[str]) -> dict[str, object]:
    """The service definition: one optional attribute, the kind of matter (诉求类型)."""
    known = set(kinds)
    values = [{"key": key, "name": kind} for key, kind in KIND_KEYS.items() if kind in known]
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": KIND_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": f"不填为「{DEFAULT_KIND}」",
                "order": 1,
                "description": "诉求类型：举报件的举报人身份严格保密，工单不公开",
                "values": values,
            }
        ],
    }


def discovery(url: str) -> dict[str, object]:
    """The discovery document: our one production GeoReport v2 endpoint."""
    return {
        "changeset": CHANGESET,
        "contact": "12345政务服务便民热线",
        "key_service": "提交服务请求需要 api_key：请向本市12345热线系统管理员申请",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


# ---- request records ----------------------------------------------------------------

# The channel whose tickets are published: only what a client filed to be public.
OPEN311_CHANNEL = "open311"


@dataclass(frozen=True)
class Seen:
    """What the public may know of one ticket, read by the service layer."""

    number: str
    channel: str
    category: str | None
    status: str
    status_label: str
    closed: bool
    title: str
    content: str
    complainant_name: str
    address: str
    district: str
    street: str
    latitude: float | None
    longitude: float | None
    media_url: str
    agency: str | None
    reply: str | None
    created_at: str
    updated_at: str
    expected_at: str | None
    provisional: bool


def record(seen: Seen) -> dict[str, object]:
    """The spec's request record; personal data never leaves the ticket.

    Requests that came in through Open311 show what the client sent to be published
    (description, address, place, picture), with phone numbers, e-mail addresses, the
    complainant's name and the address's house and room numbers masked. Tickets from the
    phone, the web form or WeChat were not given for publication: only their title, masked,
    and the district and street.
    """
    names = (seen.complainant_name,)
    ours = seen.channel == OPEN311_CHANNEL
    notes = seen.status_label
    if seen.reply:
        notes = f"{notes}。最新答复：{mask_address(mask_personal(seen.reply, names=names))}"
    if len(notes) > STATUS_NOTES_CHARS:
        notes = notes[: STATUS_NOTES_CHARS - 1] + "…"
    place = seen.address if ours else " ".join(p for p in (seen.district, seen.street) if p)
    return {
        "service_request_id": seen.number,
        "status": "closed" if seen.closed else "open",
        "status_notes": notes,
        "service_name": seen.category,
        "service_code": seen.category,
        "description": mask_address(
            mask_personal(seen.content if ours else seen.title, names=names)
        ),
        "agency_responsible": seen.agency,
        "service_notice": "答复期限为暂定：当年节假日安排尚未发布" if seen.provisional else None,
        "requested_datetime": seen.created_at,
        "updated_datetime": seen.updated_at,
        "expected_datetime": seen.expected_at,
        # House and room numbers point at one household, whoever filed the request.
        "address": mask_address(mask_personal(place, names=names)) or None,
        "address_id": None,
        "zipcode": None,
        "lat": seen.latitude if ours else None,
        "long": seen.longitude if ours else None,
        "media_url": (seen.media_url or None) if ours else None,
    }


def created_notice(number: str, query_code: str, *, due: str | None) -> str:
    """The service_notice answered to a POST: what the client shows the citizen."""
    text = f"您的诉求已受理，工单号 {number}，查询码 {query_code}。"
    if due:
        text += f"承办单位应于 {due} 前答复。"
    return text + "可凭工单号和查询码拨打12345查询办理进度。"
