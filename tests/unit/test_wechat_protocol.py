"""hotline.channels.wechat against wechatpy's published test vectors and wechatpy itself.

The vectors come from wechatpy's tests (tests/test_utils.py and tests/test_crypto.py,
github.com/wechatpy/wechatpy): the plain `signature`, and the AES message crypto with the
EncodingAESKey, token and AppID used there (the enterprise account vectors: the same
scheme, its CorpID in the AppID's place).
"""

from __future__ import annotations

import base64

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature as wechatpy_check_signature

from hotline.channels import wechat as proto

# tests/test_utils.py
SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE = "test", "1410685589", "test"
SIG_OK = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
SIG_BAD = "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe"

# tests/test_crypto.py
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx49f0ab532d5d035a"
ECHO = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
ECHO_SIGNATURE = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
ECHO_TIMESTAMP, ECHO_NONCE = "1411443780", "437374425"

REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPTED = """<xml>
<Encrypt><![CDATA[9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3]]></Encrypt>
<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>
<TimeStamp>1411525903</TimeStamp>
<Nonce><![CDATA[461056294]]></Nonce>
</xml>"""  # noqa: E501

INCOMING = """<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>"""  # noqa: E501
INCOMING_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
INCOMING_TIMESTAMP, INCOMING_NONCE = "1411525903", "461056294"


def _crypto() -> proto.Crypto:
    return proto.Crypto(TOKEN, AES_KEY, APPID)


# ---- published vectors ----------------------------------------------------------------


def test_plain_signature_vector() -> None:
    assert proto.signature(SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE) == SIG_OK
    assert proto.check_signature(SIG_OK, SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE)
    assert not proto.check_signature(SIG_BAD, SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE)
    assert not proto.check_signature("", SIG_TOKEN, SIG_TIMESTAMP, SIG_NONCE)


def test_msg_signature_and_decrypt_echo_vector() -> None:
    crypto = _crypto()
    assert crypto.msg_signature(ECHO_TIMESTAMP, ECHO_NONCE, ECHO) == ECHO_SIGNATURE
    assert not proto.check_signature(ECHO_SIGNATURE, TOKEN, ECHO_TIMESTAMP, "437374424", ECHO)
    assert crypto.decrypt(ECHO) == "5927782489442352469"


def test_encrypt_reply_vector_byte_for_byte() -> None:
    # wechatpy's test fixes the 16 random bytes to "1234567890123456".
    out = _crypto().encrypt_reply(
        REPLY, nonce="461056294", timestamp="1411525903", random=b"1234567890123456"
    )
    assert out == REPLY_ENCRYPTED


def test_decrypt_message_vector() -> None:
    crypto = _crypto()
    fields = proto.parse_xml(INCOMING)
    assert crypto.msg_signature(INCOMING_TIMESTAMP, INCOMING_NONCE, fields["Encrypt"]) == (
        INCOMING_SIGNATURE
    )
    inner = proto.parse_xml(crypto.decrypt(fields["Encrypt"]))
    assert inner["Content"] == "test" and inner["FromUserName"] == "messense"


def test_another_appid_is_refused() -> None:
    other = proto.Crypto(TOKEN, AES_KEY, "wx0000000000000000")
    with pytest.raises(proto.BadMessage, match="AppID"):
        other.decrypt(ECHO)


@pytest.mark.parametrize("key", ["short", "!" * 43, AES_KEY[:-1] + "*"])
def test_bad_encoding_aes_key_is_a_config_error(key: str) -> None:
    with pytest.raises(ValueError):
        proto.Crypto(TOKEN, key, APPID)


@pytest.mark.parametrize("junk", ["not base64!", "", base64.b64encode(b"x" * 15).decode()])
def test_garbage_ciphertext_is_bad_message(junk: str) -> None:
    with pytest.raises(proto.BadMessage):
        _crypto().decrypt(junk)


# ---- round trips with wechatpy ------------------------------------------------------------

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300
)


@settings(max_examples=60, deadline=None)
@given(text=texts)
def test_wechatpy_decrypts_our_encryption_and_we_decrypt_theirs(text: str) -> None:
    ours, theirs = _crypto(), WeChatCrypto(TOKEN, AES_KEY, APPID)
    xml = proto.text_reply(to_user="o1", from_user="gh_1", content=text, create_time=1)
    env = ours.encrypt_reply(xml, nonce="42", timestamp="1411525903")
    parsed = xmltodict.parse(env)["xml"]
    assert theirs.decrypt_message(env, parsed["MsgSignature"], "1411525903", "42") == xml
    from_them = xmltodict.parse(theirs.encrypt_message(xml, "7", "1411525903"))["xml"]
    assert ours.decrypt(from_them["Encrypt"]) == xml


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_any_text_survives_our_cdata(text: str) -> None:
    xml = proto.text_reply(to_user="o1", from_user="gh_1", content=text, create_time=1)
    msg = parse_message(xml)
    expected = proto._XML_ILLEGAL.sub("", text).strip()
    assert (msg.content or "").strip() == expected


def test_cdata_splits_the_terminator() -> None:
    assert proto.cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    assert proto.parse_xml(f"<xml><C>{proto.cdata('x]]>]]>y')}</C></xml>")["C"] == "x]]>]]>y"


def test_wechatpy_signature_agrees() -> None:
    sig = proto.signature("tok", "1700000000", "99")
    wechatpy_check_signature("tok", sig, "1700000000", "99")  # raises if not


# ---- parsing and reading -----------------------------------------------------------------


def test_parse_refuses_dtds_and_entities() -> None:
    with pytest.raises(proto.BadMessage):
        proto.parse_xml('<!DOCTYPE x [<!ENTITY a "b">]><xml><C>&a;</C></xml>')
    with pytest.raises(proto.BadMessage):
        proto.parse_xml("<notxml/>")


def test_message_fields() -> None:
    msg = proto.message_from(
        {
            "ToUserName": "gh_1",
            "FromUserName": "o1",
            "CreateTime": "1700000000",
            "MsgType": "location",
            "Location_X": "28.19",
            "Location_Y": "112.97",
            "Label": "含浦街道",
            "MsgId": "123",
        }
    )
    assert (msg.latitude, msg.longitude, msg.label) == (28.19, 112.97, "含浦街道")
    assert msg.dedupe_key == "msg:123"
    event = proto.message_from(
        {"ToUserName": "g", "FromUserName": "o1", "CreateTime": "1", "MsgType": "event",
         "Event": "subscribe"}
    )  # fmt: skip
    assert event.dedupe_key.startswith("evt:") and event.event == "subscribe"
    with pytest.raises(proto.BadMessage):
        proto.message_from({"ToUserName": "g", "FromUserName": "o", "MsgType": "text"})
    with pytest.raises(proto.BadMessage):
        proto.message_from(
            {"ToUserName": "g", "FromUserName": "o", "CreateTime": "1", "MsgType": "location",
             "Location_X": "999", "Location_Y": "1"}
        )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "name", "number"),
    [
        ("帮助", "help", ""),
        (" 查询 ", "list", ""),
        ("20261129-00001", "status", "20261129-00001"),
        ("查询：20261129-00001", "status", "20261129-00001"),
        ("你好", "too_short", ""),
        ("路灯坏了", "too_short", ""),
        ("路灯坏了很久", "new", ""),
    ],
)
def test_commands(text: str, name: str, number: str) -> None:
    assert proto.command_of(text) == proto.Command(name, number)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我要举报某工厂夜间偷排污水", "举报"),
        ("请问社保卡丢了怎么补办", "咨询"),
        ("建议在小区门口增设公交站", "建议"),
        ("表扬社区工作人员耐心负责", "表扬"),
        ("家里老人走失了求助寻找", "求助"),
        ("工地夜间施工噪音太大", "投诉"),
    ],
)
def test_kind_by_keywords(text: str, kind: str) -> None:
    assert proto.guess_kind(text) == kind


def test_title_is_the_first_sentence_up_to_30_characters() -> None:
    assert proto.title_of("路灯坏了。请修！") == "路灯坏了"
    long = "一" * 50
    assert proto.title_of(long) == "一" * 29 + "…"
    assert proto.title_of("\n\n  小区  停水\n三天") == "小区 停水"


def test_freshness_window() -> None:
    assert proto.fresh("1000", 1000 + 300)
    assert not proto.fresh("1000", 1000 + 301)
    assert not proto.fresh("1000", 1000 - 301)
    assert not proto.fresh("abc", 1000)
    assert not proto.fresh("9" * 20, 1000)


def test_access_log_hides_the_citizens_openid() -> None:
    # WeChat puts the sender's openid in the query string of every POST /wechat.
    from hotline.runtime.logs import redact_path

    path = "/wechat?signature=ab&timestamp=1&nonce=2&openid=oAbc123&encrypt_type=aes"
    assert "oAbc123" not in redact_path(path)
    assert "openid=***" in redact_path(path)


def test_a_nonce_is_kept_exactly_as_long_as_its_timestamp_is_fresh() -> None:
    ts = "1764990000"
    until = proto.nonce_expires(ts)
    assert proto.fresh(ts, until - 1) and not proto.fresh(ts, until)
    # The stored key depends on both parts and hides them; requests compare by digest.
    assert proto.nonce_key(ts, "123") != proto.nonce_key(ts, "124") != proto.nonce_key("1", "123")
    assert "123" not in proto.nonce_key(ts, "123") and len(proto.nonce_key(ts, "123")) == 64
    assert proto.request_digest("GET", b"1") != proto.request_digest("POST", b"1")
