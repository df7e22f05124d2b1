"""The WeChat official account (微信公众号) server protocol, without I/O.

Signatures (sha1 of the sorted token, timestamp, nonce [and Encrypt]), the AES-256-CBC
message crypto of safe and compatible mode, XML parsing with defusedxml, the message
model, the passive text reply, and the Chinese texts a citizen reads. Nothing here reads
the clock, the environment or the database: the endpoint passes them in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

MAX_SKEW_SECONDS = 300  # WeChat's timestamp may differ from ours by this much (replay window)
BLOCK = 32  # WeChat pads to 32 bytes (PKCS#7 with k = 32), not AES's 16
TITLE_CHARS = 30
MIN_TEXT_CHARS = 5  # shorter texts are no complaint (and TicketCreate.content needs 5)
MAX_CONTENT_CHARS = 20000
NUMBER = re.compile(r"^\d{8}-\d{5}$")
# Characters XML 1.0 cannot carry at all, not even in CDATA.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SENTENCE_END = re.compile(r"[。！？!?；\n\r]")


class WeChatError(Exception):
    """A request WeChat's protocol refuses; `status` is the HTTP answer."""

    status = 400


class BadSignature(WeChatError):
    """Signature, msg_signature or timestamp does not check out."""

    status = 403


class BadMessage(WeChatError):
    """Not a message: malformed or dangerous XML, missing fields, undecryptable."""

    status = 400


# ---- signatures ---------------------------------------------------------------


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """sha1 of the sorted parts joined, hex: `signature` (3 parts) or `msg_signature` (4)."""
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def check_signature(given: str, token: str, timestamp: str, nonce: str, *extra: str) -> bool:
    """Whether `given` is the signature of these parts (compared in constant time)."""
    expected = signature(token, timestamp, nonce, *extra)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def fresh(timestamp: str, now: float, max_skew: int = MAX_SKEW_SECONDS) -> bool:
    """Whether a request's timestamp is within `max_skew` seconds of now (replay window)."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now) <= max_skew


# ---- nonces -----------------------------------------------------------------------
# A signature covers token, timestamp and nonce; in plain mode nothing else. Each (timestamp,
# nonce) pair is therefore used once: recorded while its timestamp is fresh, and refused on
# any request that is not the very same one again (WeChat's retry repeats it byte for byte).

MAX_NONCE_CHARS = 64  # WeChat's nonces are ~10 digits; longer ones are no WeChat request


def nonce_key(timestamp: str, nonce: str) -> str:
    """The stored key of a (timestamp, nonce) pair: sha256 hex, fixed length, no secret kept."""
    return hashlib.sha256(f"{timestamp}\n{nonce}".encode()).hexdigest()


def request_digest(method: str, payload: bytes) -> str:
    """sha256 hex of what a request carried (the POST body, or a GET's echostr)."""
    return hashlib.sha256(method.upper().encode() + b"\n" + payload).hexdigest()


def nonce_expires(timestamp: str, max_skew: int = MAX_SKEW_SECONDS) -> int:
    """Unix second after which `fresh` refuses this timestamp, so its nonce may be forgotten."""
    return int(timestamp) + max_skew + 1


# ---- AES ------------------------------------------------------------------------


class Crypto:
    """Safe-mode message crypto: AES-256-CBC, key from the 43-character EncodingAESKey."""

    def __init__(self, token: str, aes_key: str, appid: str) -> None:
        if len(aes_key) != 43:
            raise ValueError("EncodingAESKey 应为 43 个字符")
        try:
            key = base64.b64decode(aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("EncodingAESKey 不是合法的 Base64") from exc
        if len(key) != 32:
            raise ValueError("EncodingAESKey 解码后应为 32 字节")
        self.token = token
        self.appid = appid
        self._key = key
        self._iv = key[:16]

    def encrypt(self, text: str, *, random: bytes | None = None) -> str:
        """Base64 of AES(random 16 bytes + length + text + AppID, PKCS#7 to 32)."""
        body = text.encode()
        nonce = random if random is not None else os.urandom(16)
        if len(nonce) != 16:
            raise ValueError("random must be 16 bytes")
        plain = nonce + struct.pack(">I", len(body)) + body + self.appid.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._iv)).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside an `Encrypt` field; BadMessage if it is not ours or not whole."""
        try:
            data = base64.b64decode(encrypted.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadMessage("Encrypt 不是合法的 Base64") from exc
        if not data or len(data) % 16:
            raise BadMessage("Encrypt 长度不对")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._iv)).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise BadMessage("解密失败（填充不对：EncodingAESKey 是否一致？）")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise BadMessage("解密后的消息太短")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise BadMessage("解密后的消息长度不对")
        appid = plain[20 + length :]
        if not hmac.compare_digest(appid, self.appid.encode()):
            raise BadMessage("消息不属于本公众号（AppID 不符）")
        try:
            return plain[20 : 20 + length].decode()
        except UnicodeDecodeError as exc:
            raise BadMessage("解密后的消息不是 UTF-8") from exc

    def msg_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The `msg_signature` of an encrypted message."""
        return signature(self.token, timestamp, nonce, encrypted)

    def encrypt_reply(
        self, xml: str, *, nonce: str, timestamp: str, random: bytes | None = None
    ) -> str:
        """Our reply in safe mode: the envelope with Encrypt, MsgSignature, TimeStamp, Nonce."""
        encrypted = self.encrypt(xml, random=random)
        sig = self.msg_signature(timestamp, nonce, encrypted)
        # Same layout as WeChat's own samples (and wechatpy), so published vectors compare.
        return (
            "<xml>\n"
            f"<Encrypt>{cdata(encrypted)}</Encrypt>\n"
            f"<MsgSignature>{cdata(sig)}</MsgSignature>\n"
            f"<TimeStamp>{int(timestamp)}</TimeStamp>\n"
            f"<Nonce>{cdata(nonce)}</Nonce>\n"
            "</xml>"
        )


# ---- XML ------------------------------------------------------------------------


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The child elements of a WeChat `<xml>` body as a flat dict (DTDs and entities refused)."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadMessage(f"XML 含有不允许的 DTD 或实体：{type(exc).__name__}") from exc
    except (ParseError, ValueError) as exc:
        raise BadMessage(f"XML 格式不正确：{exc}") from exc
    if root.tag != "xml":
        raise BadMessage("根元素应为 <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = (child.text or "").strip() if len(child) == 0 else ""
    return fields


def cdata(text: str) -> str:
    """`text` as CDATA that survives `]]>` inside it (split into two sections)."""
    clean = _XML_ILLEGAL.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply (被动回复文本消息)."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


# ---- messages -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message or event from a citizen, as WeChat pushes it."""

    to_user: str  # our account (gh_…)
    from_user: str  # the citizen's openid
    create_time: int
    msg_type: str  # text, image, location, event, voice, …
    msg_id: str = ""
    content: str = ""
    event: str = ""  # subscribe, unsubscribe, LOCATION, CLICK, …
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""
    pic_url: str = ""
    media_id: str = ""
    fields: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        """Unique per message across WeChat's retries: MsgId, or sender + time for events."""
        if self.msg_id.isdigit() and len(self.msg_id) <= 64:
            return f"msg:{self.msg_id}"
        basis = f"{self.from_user}|{self.create_time}|{self.msg_type}|{self.event}"
        return "evt:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def _float(value: str, name: str, low: float, high: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise BadMessage(f"{name} 不是数字") from exc
    if not low <= number <= high:
        raise BadMessage(f"{name} 超出范围")
    return number


def message_from(fields: dict[str, str]) -> Message:
    """The message in a parsed body; BadMessage when WeChat's required fields are missing."""
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not fields.get(name):
            raise BadMessage(f"缺少字段 {name}")
    if not fields["CreateTime"].isdigit() or len(fields["CreateTime"]) > 12:
        raise BadMessage("CreateTime 不是时间戳")
    if len(fields["FromUserName"]) > 64:
        raise BadMessage("FromUserName 太长")
    msg_type = fields["MsgType"].lower()
    event = fields.get("Event", "")
    if msg_type == "location":
        lat = _float(fields.get("Location_X", ""), "Location_X", -90, 90)
        lon = _float(fields.get("Location_Y", ""), "Location_Y", -180, 180)
    else:
        lat = _float(fields.get("Latitude", ""), "Latitude", -90, 90)
        lon = _float(fields.get("Longitude", ""), "Longitude", -180, 180)
    return Message(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=int(fields["CreateTime"]),
        msg_type=msg_type,
        msg_id=fields.get("MsgId", ""),
        content=fields.get("Content", ""),
        event=event.lower() if event.lower() in ("subscribe", "unsubscribe") else event,
        latitude=lat,
        longitude=lon,
        label=fields.get("Label", "")[:300],
        pic_url=fields.get("PicUrl", "")[:500],
        media_id=fields.get("MediaId", "")[:200],
        # Not Encrypt: WeChat may encrypt each retry afresh, the message inside is the same.
        fields={k: v for k, v in fields.items() if k != "Encrypt"},
    )


# ---- what a text means ----------------------------------------------------------

HELP_WORDS = frozenset({"帮助", "help", "?", "？", "菜单", "使用说明"})
LIST_WORDS = frozenset({"查询", "查询工单", "我的工单", "进度"})


@dataclass(frozen=True)
class Command:
    """What a text message asks for: help, list, one ticket's status, or a new ticket."""

    name: str  # help | list | status | too_short | new
    number: str = ""


def command_of(text: str) -> Command:
    """Read a citizen's text: a command, a ticket number, or the words of a new ticket."""
    stripped = text.strip()
    word = stripped.lower()
    if word in HELP_WORDS:
        return Command("help")
    if word in LIST_WORDS:
        return Command("list")
    candidate = re.sub(r"^(查询|工单|进度)[\s:：]*", "", stripped).strip()
    if NUMBER.match(candidate):
        return Command("status", candidate)
    if len(stripped) < MIN_TEXT_CHARS:
        return Command("too_short")
    return Command("new")


# 举报 first: it decides confidentiality. 咨询 only on explicit words: a complaint mistaken
# for a consultation could be answered on the spot instead of dispatched.
_KIND_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("举报", ("举报", "检举", "揭发")),
    ("表扬", ("表扬", "点赞", "锦旗")),
    ("建议", ("建议", "提议")),
    ("咨询", ("咨询", "请问", "想问", "如何办理", "怎么办理", "需要哪些材料")),
    ("求助", ("求助", "求救", "帮帮", "帮忙")),
]


def guess_kind(text: str) -> str:
    """The kind of ticket (诉求类型) by keywords; 投诉 when nothing says otherwise."""
    for kind, words in _KIND_WORDS:
        if any(w in text for w in words):
            return kind
    return "投诉"


def title_of(text: str) -> str:
    """The first sentence, at most TITLE_CHARS characters (with … when cut)."""
    clean = " ".join(text.split())
    first = next((s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= 2), clean)
    first = " ".join(first.split())
    if len(first) > TITLE_CHARS:
        return first[: TITLE_CHARS - 1] + "…"
    return first


# ---- texts citizens read ----------------------------------------------------------

HELP_TEXT = (
    "欢迎使用12345政务服务便民热线微信服务。\n"
    "1. 直接发送文字描述您的诉求（时间、地点、事情经过），"
    "我们会为您登记工单并回复工单号和查询码；\n"
    "2. 登记后10分钟内发送位置或图片，会补充到该工单；\n"
    "3. 发送「查询」查看您最近的工单进度，发送工单号（如 20261129-00001）查看该工单详情；\n"
    "4. 发送「帮助」再次查看本说明。\n"
    "紧急情况请直接拨打110、119、120。"
)
WELCOME_TEXT = "感谢关注12345政务服务便民热线！\n" + HELP_TEXT.split("\n", 1)[1]
TOO_SHORT_TEXT = (
    "您的消息太短，我们无法登记为工单。请用一两句话描述您的诉求，"
    "包括时间、地点和具体情况。发送「帮助」查看使用说明。"
)
UNSUPPORTED_TEXT = (
    "抱歉，暂时无法处理这类消息。请用文字描述您的诉求，或在登记后发送位置、图片补充材料。"
    "发送「帮助」查看使用说明。"
)
FAILED_TEXT = "抱歉，您的消息暂时未能处理，请稍后重试，或直接拨打12345。"
