"""WeChat's side of the official account protocol, built on wechatpy (the real peer).

Messages are written the way WeChat pushes them (xmltodict as an independent XML
encoder), signed with wechatpy's signer and encrypted with wechatpy's WeChatCrypto;
our replies are read back with wechatpy's parser and decrypter. Nothing here uses
hotline.channels.wechat, so the two implementations check each other.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

TOKEN = "hotline12345token"
APPID = "wx5d2f8a1c3e7b9d04"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues
ACCOUNT = "gh_hotline12345"


def sign(*parts: str) -> str:
    """wechatpy's signature of the parts (sorted, sha1)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class Peer:
    """WeChat pushing citizens' messages to our server URL."""

    token: str = TOKEN
    appid: str = APPID
    aes_key: str = AES_KEY
    account: str = ACCOUNT
    _ids: Any = field(default_factory=lambda: itertools.count(6_000_000_000_000_000_001))

    @property
    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- messages ------------------------------------------------------------

    def text(self, openid: str, content: str, *, msg_id: str | None = None) -> dict[str, Any]:
        return self._base(openid, "text", Content=content, MsgId=msg_id or self.next_id())

    def location(
        self, openid: str, lat: float, lon: float, label: str = "", *, msg_id: str | None = None
    ) -> dict[str, Any]:
        return self._base(
            openid,
            "location",
            Location_X=str(lat),
            Location_Y=str(lon),
            Scale="15",
            Label=label,
            MsgId=msg_id or self.next_id(),
        )

    def image(self, openid: str, *, msg_id: str | None = None) -> dict[str, Any]:
        mid = msg_id or self.next_id()
        return self._base(
            openid,
            "image",
            PicUrl=f"http://mmbiz.qpic.cn/mmbiz_jpg/{mid}/0",
            MediaId=f"media_{mid}",
            MsgId=mid,
        )

    def event(self, openid: str, event: str, **extra: str) -> dict[str, Any]:
        return self._base(openid, "event", Event=event, **extra)

    def _base(self, openid: str, msg_type: str, **extra: str) -> dict[str, Any]:
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            **extra,
        }

    # -- requests ------------------------------------------------------------

    def params(self, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """The signed query of one push; like WeChat, a fresh random nonce for each."""
        ts = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}

    @staticmethod
    def _openid(fields: dict[str, Any]) -> dict[str, str]:
        """WeChat names the sender in the URL of every push, too."""
        return {"openid": fields["FromUserName"]} if "FromUserName" in fields else {}

    def plain(self, fields: dict[str, Any], **kw: str) -> tuple[dict[str, str], bytes]:
        """Plain mode (明文模式): the message as XML, `signature` in the URL."""
        params = {**self.params(**kw), **self._openid(fields)}
        return params, xmltodict.unparse({"xml": fields}).encode()

    def safe(
        self, fields: dict[str, Any], *, compat: bool = False, **kw: str
    ) -> tuple[dict[str, str], bytes]:
        """Safe mode (安全模式), or compatible mode (兼容模式: plain fields beside Encrypt)."""
        params = {**self.params(**kw), **self._openid(fields)}
        inner = xmltodict.unparse({"xml": fields}, full_document=False)
        envelope = xmltodict.parse(
            self.crypto.encrypt_message(inner, params["nonce"], params["timestamp"])
        )["xml"]
        outer = {**fields} if compat else {"ToUserName": fields["ToUserName"]}
        outer["Encrypt"] = envelope["Encrypt"]
        params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        return params, xmltodict.unparse({"xml": outer}).encode()

    # -- replies -------------------------------------------------------------

    def read(self, body: str, *, encrypted: bool = False) -> Any:
        """Our reply as wechatpy reads it (decrypted and its signature checked if encrypted)."""
        if encrypted:
            env = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(
                body, env["MsgSignature"], env["TimeStamp"], env["Nonce"]
            )
        return parse_message(body)
