"""WeChat official account intake: a text opens a ticket, a place or a picture completes it,
and a citizen asks about their own tickets.

`handle_message` is the one entry point: it takes a parsed message and answers with the
text to reply (None: no reply, WeChat's "success"). WeChat retries a message it got no
answer to within 5 seconds, up to three times; each retry carries the same MsgId (events:
the same sender and CreateTime), which is the idempotency key, so a retry never makes a
second ticket or a second attachment and gets the same answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hotline.channels import wechat as proto
from hotline.channels.wechat import Message
from hotline.domain.lifecycle import OPEN_STATUSES, STATUS_LABELS, Role, Status, event_public
from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.schemas import Complainant, TicketCreate
from hotline.domain.timefmt import local_text
from hotline.privacy.public_view import track_out
from hotline.privacy.rules import citizen_title
from hotline.runtime.deployment import Deployment
from hotline.services import ticket_search
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import Retry, earlier_result, remember, retry_key
from hotline.services.units import unit_directory

# Who writes WeChat tickets into the event log. Creating is no lifecycle action (any
# role may record a contact); "system" like auto-dispatch, named for the channel.
WECHAT = ticket_service.Actor(None, "微信公众号", Role.SYSTEM.value, None)
SCOPE = "wechat"
ATTACH_WINDOW = timedelta(minutes=10)
MAX_ATTACHMENTS = 20  # as TicketCreate allows
RECENT = 5  # tickets listed by 查询
REPLY_LIMIT_BYTES = 2000  # WeChat cuts text replies at 2048 bytes


async def handle_message(
    *, message: Message, now: datetime, deployment: Deployment, auto_dispatch: bool
) -> str | None:
    """The text to answer a citizen's message with (None: answer nothing)."""
    if message.msg_type == "text":
        reply = await _text(message, now=now, deployment=deployment, auto_dispatch=auto_dispatch)
    elif message.msg_type == "location":
        reply = await attach_location(message=message, now=now)
    elif message.msg_type == "image":
        reply = await attach_image(message=message, now=now)
    elif message.msg_type == "event":
        reply = await _event(message, now=now)
    else:
        reply = proto.UNSUPPORTED_TEXT
    return _fit(reply) if reply is not None else None


async def _event(message: Message, *, now: datetime) -> str | None:
    if message.event == "subscribe":
        return proto.WELCOME_TEXT
    if message.event == "LOCATION":
        # Reported on its own each time the citizen opens the chat: never answered.
        await attach_location(message=message, now=now, automatic=True)
        return None
    return None  # unsubscribe, menu clicks, scans: nothing to say


async def _text(
    message: Message, *, now: datetime, deployment: Deployment, auto_dispatch: bool
) -> str:
    command = proto.command_of(message.content)
    if command.name == "help":
        return proto.HELP_TEXT
    if command.name == "list":
        return await recent_tickets(openid=message.from_user)
    if command.name == "status":
        return await ticket_status(openid=message.from_user, number=command.number)
    if command.name == "too_short":
        return proto.TOO_SHORT_TEXT
    try:
        record = await open_ticket(
            message=message, now=now, deployment=deployment, auto_dispatch=auto_dispatch
        )
    except ValidationError:
        # What TicketCreate refuses (e.g. nothing but blanks once stripped) is no ticket.
        return proto.TOO_SHORT_TEXT
    return _opened_text(record.ticket)


async def open_ticket(
    *, message: Message, now: datetime, deployment: Deployment, auto_dispatch: bool
) -> ticket_service.TicketRecord:
    """A new ticket from a text message (a retry of the same MsgId returns the first one)."""
    text = message.content.strip()
    data = TicketCreate(
        channel="wechat",
        kind=proto.guess_kind(text),  # type: ignore[arg-type]
        title=proto.title_of(text),
        content=text[: proto.MAX_CONTENT_CHARS],
        complainant=Complainant(openid=message.from_user),
    )
    return await ticket_service.create_ticket(
        data=data,
        actor=WECHAT,
        now=now,
        deployment=deployment,
        auto_dispatch=auto_dispatch,
        retry=_retry(message),
    )


def _retry(message: Message) -> Retry:
    retry = retry_key(SCOPE, message.dedupe_key, [message.msg_type, message.fields])
    assert retry is not None
    return retry


def _opened_text(ticket: Ticket) -> str:
    lines = [
        "您的诉求已受理。",
        f"工单号：{ticket.number}",
        f"查询码：{ticket.query_code}",
        f"诉求类型：{ticket.kind}",
    ]
    if ticket.confidential:
        lines.append("您的身份信息将严格保密。")
    lines += [
        "我们会尽快转交承办单位办理。发送「查询」或工单号可查看办理进度，"
        "也可拨打12345凭工单号和查询码查询。",
        "10分钟内发送位置或图片，可补充到本工单。",
    ]
    return "\n".join(lines)


# ---- places and pictures --------------------------------------------------------


async def _latest_open(conn: BaseDBAsyncClient, *, openid: str, now: datetime) -> Ticket | None:
    """The sender's newest open ticket made within the window, locked for this transaction."""
    return (
        await Ticket.filter(
            complainant_openid=openid,
            created_at__gte=now - ATTACH_WINDOW,
            status__in=[s.value for s in OPEN_STATUSES],
        )
        .order_by("-created_at", "-id")
        .select_for_update()
        .using_db(conn)
        .first()
    )


async def attach_location(*, message: Message, now: datetime, automatic: bool = False) -> str:
    """Put a location message (or LOCATION event) on the sender's ticket of the last minutes.

    Only a ticket without coordinates gets them: a place the operator or an earlier
    message recorded is not overwritten. An `automatic` position (the LOCATION event: where
    the citizen is, not a place they chose to send) never goes on a confidential ticket,
    whose reporter's whereabouts units must not learn.
    """
    retry = _retry(message)
    if message.latitude is None or message.longitude is None:
        return "未能读取位置信息，请重新发送位置。"
    if (number := await earlier_result(retry, "attach")) is not None:
        return _located_text(number, message.label)
    try:
        async with in_transaction() as conn:
            ticket = await _latest_open(conn, openid=message.from_user, now=now)
            if ticket is None:
                return (
                    "已收到您的位置。请先用文字描述您的诉求，登记工单后10分钟内再发送位置，"
                    "即可补充到工单。"
                )
            if automatic and ticket.confidential:
                return "未补充：举报等保密工单不自动记录您所在的位置。"
            if ticket.latitude is not None:
                return f"工单 {ticket.number} 已有位置信息，未作更改。如需更正请拨打12345。"
            columns: dict[str, object] = {
                "latitude": message.latitude,
                "longitude": message.longitude,
                "updated_at": now,
            }
            if message.label and not ticket.address:
                columns["address"] = message.label
            await Ticket.filter(id=ticket.id).using_db(conn).update(**columns)
            if "address" in columns:
                # The address is searchable: the index changes with it.
                ticket.address = message.label
                await ticket_search.index_ticket(conn, ticket)
            await _attach_event(conn, ticket, {"what": "location"}, now)
            await remember(conn, retry, ticket_number=ticket.number, action="attach", now=now)
    except IntegrityError:
        # A twin of this message committed first (its key is taken): answer as it did.
        if (number := await earlier_result(retry, "attach")) is None:
            raise
        return _located_text(number, message.label)
    return _located_text(ticket.number, message.label)


def _located_text(number: str, label: str) -> str:
    place = f"「{label}」" if label else ""
    return f"已将位置{place}补充到工单 {number}。"


async def attach_image(*, message: Message, now: datetime) -> str:
    """Add a picture (its WeChat URL and media id) to the sender's ticket of the last minutes."""
    retry = _retry(message)
    if not message.pic_url and not message.media_id:
        return "未能读取图片，请重新发送。"
    if (number := await earlier_result(retry, "attach")) is not None:
        return _pictured_text(number)
    entry = {
        "name": f"微信图片-{message.msg_id or message.create_time}.jpg",
        "content_type": "image/jpeg",
        "size": 0,
        "url": message.pic_url,
        "media_id": message.media_id,
    }
    try:
        async with in_transaction() as conn:
            ticket = await _latest_open(conn, openid=message.from_user, now=now)
            if ticket is None:
                return (
                    "已收到您的图片。请先用文字描述您的诉求，登记工单后10分钟内再发送图片，"
                    "即可补充到工单。"
                )
            attachments = list(ticket.attachments or [])
            if len(attachments) >= MAX_ATTACHMENTS:
                return f"工单 {ticket.number} 的附件已达 {MAX_ATTACHMENTS} 个，不能再添加。"
            await (
                Ticket.filter(id=ticket.id)
                .using_db(conn)
                .update(attachments=[*attachments, entry], updated_at=now)
            )
            await _attach_event(conn, ticket, {"what": "image", "name": entry["name"]}, now)
            await remember(conn, retry, ticket_number=ticket.number, action="attach", now=now)
    except IntegrityError:
        if (number := await earlier_result(retry, "attach")) is None:
            raise
        return _pictured_text(number)
    return _pictured_text(ticket.number)


def _pictured_text(number: str) -> str:
    return f"已将图片补充到工单 {number}。"


async def _attach_event(
    conn: BaseDBAsyncClient, ticket: Ticket, payload: dict[str, object], now: datetime
) -> None:
    """The 补充材料 event; coordinates and addresses stay in the ticket's own (masked) columns."""
    await TicketEvent.create(
        using_db=conn,
        ticket_id=ticket.id,
        action="attach",
        actor_id=WECHAT.user_id,
        actor_name=WECHAT.name,
        actor_role=WECHAT.role,
        actor_unit_id=None,
        from_status=ticket.status,
        to_status=ticket.status,
        payload={"channel": "wechat", **payload},
        public=event_public("attach"),
        created_at=now,
    )


# ---- status -------------------------------------------------------------------


async def recent_tickets(*, openid: str) -> str:
    """The sender's newest tickets with their status in words."""
    tickets = (
        await Ticket.filter(complainant_openid=openid).order_by("-created_at", "-id").limit(RECENT)
    )
    if not tickets:
        return "您还没有登记过工单。直接发送文字描述您的诉求，即可登记。"
    lines = ["您最近的工单："]
    for i, ticket in enumerate(tickets, 1):
        lines.append(f"{i}. {ticket.number} {citizen_title(ticket.title, ticket.complainant_name)}")
        lines.append(f"   状态：{STATUS_LABELS[Status(ticket.status)]}")
    lines.append("发送工单号可查看详情和答复。")
    return "\n".join(lines)


async def ticket_status(*, openid: str, number: str) -> str:
    """One of the sender's own tickets, as the public tracking page shows it.

    Another person's ticket answers exactly like a missing one.
    """
    ticket = (
        await Ticket.filter(number=number, complainant_openid=openid)
        .prefetch_related(*ticket_service.TICKET_RELATIONS)
        .first()
    )
    if ticket is None:
        return f"未找到工单 {number}。请核对工单号；这里只能查询您本人通过微信登记的工单。"
    events = await ticket_service.timeline(ticket, public_only=True)
    clocks = ticket_service.record_of(ticket).clocks
    view = track_out(ticket, clocks, events, await unit_directory())
    lines = [
        f"工单号：{view.number}",
        f"标题：{view.title}",
        f"状态：{view.status_label}",
        f"受理时间：{local_text(ticket.created_at)}",
    ]
    if view.promised_reply_by and Status(ticket.status) in OPEN_STATUSES:
        due = local_text(datetime.fromisoformat(view.promised_reply_by))
        note = "（暂定）" if view.promised_reply_provisional else ""
        lines.append(f"答复期限：{due}{note}")
    if view.replies:
        last = view.replies[-1]
        text = last["text"] if len(last["text"]) <= 300 else last["text"][:299] + "…"
        lines.append(f"最新答复（{last['unit']}）：{text}")
    return "\n".join(lines)


def _fit(text: str) -> str:
    """At most REPLY_LIMIT_BYTES of UTF-8, cut at a character with … (WeChat's limit)."""
    if len(text.encode()) <= REPLY_LIMIT_BYTES:
        return text
    cut = text.encode()[: REPLY_LIMIT_BYTES - 3].decode(errors="ignore")
    return cut + "…"
