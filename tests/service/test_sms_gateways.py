"""The SMS gateway adapters against a real HTTP server on 127.0.0.1.

Alibaba Cloud: the official SDK (alibabacloud-dysmsapi20170525) is pointed at the local
server over plain HTTP, so these tests see the request the SDK really sends — SendSms with
its parameters, signed with ACS3-HMAC-SHA256, which the server checks independently from
Alibaba's published signing rules — and answer with Alibaba's response shapes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import tomllib
from pathlib import Path
from urllib.parse import quote

import pytest

from hotline.runtime.sms_settings import SmsSettings
from hotline.sms.gateways import gateway_for
from hotline.sms.gateways.aliyun import AliyunGateway
from hotline.sms.gateways.base import SmsMessage, SmsSendError
from hotline.sms.gateways.http import HttpGateway, fill_body
from hotline.sms.gateways.log import LogGateway
from hotline.sms.templates import SmsTemplates, parse_sms_templates
from tests.smssupport import Seen, http_peer

DATA = Path(__file__).resolve().parents[2] / "data" / "sms.toml"
AK_ID, AK_SECRET, SIGN = "LTAI5tTestKeyId", "test-secret-不外传", "某市12345热线"
OK = {
    "Code": "OK",
    "Message": "OK",
    "BizId": "900619746936498440^0",
    "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
}
REPLY = SmsMessage(
    phone="13812345678",
    body="【12345热线】您的工单…",
    template="reply",
    params={
        "number": "20261123-0001",
        "reply": "已联系物业，电梯已于11月25日修复。",
        "link": "http://hotline.example/track?number=20261123-0001",
    },
    ticket_number="20261123-0001",
)


def _templates() -> SmsTemplates:
    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    for name, entry in raw["template"].items():
        entry["aliyun_template"] = f"SMS_4650{len(name)}"  # a registered template code each
    return parse_sms_templates(raw, source="test")


def _aliyun(url: str) -> AliyunGateway:
    settings = SmsSettings(
        gateway="aliyun",
        aliyun_access_key_id=AK_ID,
        aliyun_access_key_secret=AK_SECRET,
        aliyun_sign_name=SIGN,
        aliyun_endpoint=url,
        timeout=5,
    )
    gateway = gateway_for(settings, _templates())
    assert isinstance(gateway, AliyunGateway)
    return gateway


def acs3_signature_ok(seen: Seen, secret: str) -> bool:
    """Alibaba Cloud's V3 signature (ACS3-HMAC-SHA256), recomputed from the wire request."""
    scheme, _, fields = seen.headers["authorization"].partition(" ")
    parts = dict(item.split("=", 1) for item in fields.split(","))
    signed = parts["SignedHeaders"].split(";")
    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(seen.query.items())
    )
    canonical_headers = "".join(f"{name}:{seen.headers[name].strip()}\n" for name in signed)
    payload = hashlib.sha256(seen.body).hexdigest()
    canonical = "\n".join(
        [seen.method, seen.path, canonical_query, canonical_headers, ";".join(signed), payload]
    )
    to_sign = f"{scheme}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        scheme == "ACS3-HMAC-SHA256"
        and parts["Credential"] == AK_ID
        and seen.headers["x-acs-content-sha256"] == payload
        and {"host", "x-acs-action", "x-acs-version", "x-acs-date"} <= set(signed)
        and hmac.compare_digest(expected, parts["Signature"])
    )


async def test_aliyun_sends_a_signed_sendsms_request_and_keeps_the_bizid() -> None:
    with http_peer((200, OK)) as peer:
        ref = await _aliyun(peer.url).send(REPLY)
    assert ref == "900619746936498440^0"
    [seen] = peer.seen
    assert seen.method == "POST" and seen.path == "/"
    assert seen.headers["x-acs-action"] == "SendSms"
    assert seen.headers["x-acs-version"] == "2017-05-25"
    assert seen.query["PhoneNumbers"] == "13812345678"
    assert seen.query["SignName"] == SIGN
    assert seen.query["TemplateCode"] == "SMS_46505"  # the reply template's code
    assert json.loads(seen.query["TemplateParam"]) == dict(REPLY.params)
    assert acs3_signature_ok(seen, AK_SECRET)
    # The check is real: another secret does not verify.
    assert not acs3_signature_ok(seen, "another-secret")


async def test_aliyun_illegal_number_fails_the_message_for_good() -> None:
    answer = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "A1"}
    with http_peer((200, answer)) as peer:
        with pytest.raises(SmsSendError) as caught:
            await _aliyun(peer.url).send(REPLY)
    assert caught.value.permanent and not caught.value.gateway_level
    assert "isv.MOBILE_NUMBER_ILLEGAL" in str(caught.value)


@pytest.mark.parametrize(
    "answer,gateway_level",
    [
        # One number texted too often: that message waits, the others go on.
        ({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"}, False),
        # The account itself is out of balance: every message waits with it.
        ({"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "账户余额不足"}, True),
    ],
)
async def test_aliyun_throttling_and_account_codes_are_retried(
    answer: dict[str, str], gateway_level: bool
) -> None:
    with http_peer((200, {**answer, "RequestId": "B2"})) as peer:
        with pytest.raises(SmsSendError) as caught:
            await _aliyun(peer.url).send(REPLY)
    assert not caught.value.permanent
    assert caught.value.gateway_level is gateway_level


async def test_aliyun_api_errors_and_an_unreachable_endpoint_are_retried() -> None:
    # What Alibaba answers a wrong signature: HTTP 400 with the code in the JSON body.
    refused = {
        "Code": "SignatureDoesNotMatch",
        "Message": "Specified signature is not matched with our calculation.",
        "RequestId": "C3",
    }
    with http_peer(
        (400, refused), (503, {"Code": "ServiceUnavailable", "RequestId": "C4"})
    ) as peer:
        gateway = _aliyun(peer.url)
        for code in ("SignatureDoesNotMatch", "ServiceUnavailable"):
            with pytest.raises(SmsSendError) as caught:
                await gateway.send(REPLY)
            assert not caught.value.permanent and caught.value.gateway_level
            assert code in str(caught.value)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(SmsSendError) as caught:
        await _aliyun(closed).send(REPLY)
    assert not caught.value.permanent and caught.value.gateway_level


# ---- the generic HTTP gateway ----------------------------------------------------------

BODY_TEMPLATE = json.dumps(
    {
        "mobile": "{phone}",
        "content": "{text}",
        "meta": {"tpl": "{template}", "ref": "工单{ticket_number}", "n": 1},
        "tags": ["{template}"],
    }
)


def _http(url: str) -> HttpGateway:
    settings = SmsSettings(
        gateway="http",
        http_url=url + "/sms/send?to={phone}",
        http_body=BODY_TEMPLATE,
        http_headers={"Authorization": "Bearer city-token", "X-App": "hotline"},
        timeout=5,
    )
    gateway = gateway_for(settings)
    assert isinstance(gateway, HttpGateway)
    return gateway


async def test_http_gateway_posts_the_filled_json_with_the_headers() -> None:
    # Quotes, backslashes and braces in the text must arrive as data, not break the JSON.
    tricky = SmsMessage(
        phone="13812345678",
        body='答复："已处理"\\ {phone} 换行\n完',
        template="close",
        params={},
        ticket_number="20261123-0001",
    )
    with http_peer((200, {"code": 0, "msgid": "M-778"})) as peer:
        gateway = _http(peer.url)
        ref = await gateway.send(tricky)
        await gateway.close()
    assert ref == "M-778"
    [seen] = peer.seen
    assert seen.method == "POST" and seen.path == "/sms/send"
    assert seen.query == {"to": "13812345678"}
    assert seen.headers["authorization"] == "Bearer city-token"
    assert seen.headers["x-app"] == "hotline"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "mobile": "13812345678",
        "content": '答复："已处理"\\ {phone} 换行\n完',
        "meta": {"tpl": "close", "ref": "工单20261123-0001", "n": 1},
        "tags": ["close"],
    }


@pytest.mark.parametrize(
    "status,permanent",
    [(500, False), (503, False), (429, False), (401, False), (400, True), (404, True)],
)
async def test_http_gateway_status_decides_retry_or_failure(status: int, permanent: bool) -> None:
    with http_peer((status, {"error": "x"})) as peer:
        gateway = _http(peer.url)
        with pytest.raises(SmsSendError) as caught:
            await gateway.send(REPLY)
        await gateway.close()
    assert caught.value.permanent is permanent
    assert caught.value.gateway_level is not permanent
    assert f"HTTP {status}" in str(caught.value)


async def test_a_platform_echoing_the_number_leaves_no_number_in_the_error() -> None:
    """last_error is shown to admins and logged: the platform's echo is masked."""
    with http_peer((400, {"error": f"号码 {REPLY.phone} 不在白名单"})) as peer:
        gateway = _http(peer.url)
        with pytest.raises(SmsSendError) as caught:
            await gateway.send(REPLY)
        await gateway.close()
    assert "HTTP 400" in str(caught.value) and REPLY.phone not in str(caught.value)


def test_fill_body_replaces_only_the_four_placeholders_inside_strings() -> None:
    body = fill_body(
        {"a": "{phone}-{text}-{other}", "b": [2, None, True]}, {"phone": "1", "text": "t"}
    )
    assert body == {"a": "1-t-{other}", "b": [2, None, True]}


async def test_log_gateway_sends_nothing_and_says_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="hotline.sms")
    gateway = gateway_for(SmsSettings())
    assert isinstance(gateway, LogGateway)
    assert await gateway.send(REPLY) == "log"
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text


async def test_log_gateway_keeps_the_query_code_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="hotline.sms")
    created = SmsMessage(
        phone="13812345678",
        body="【12345热线】您反映的诉求已受理，工单编号20261130-00001，查询码K7PQ2M。",
        template="created",
        params={"number": "20261130-00001", "code": "K7PQ2M"},
        ticket_number="20261130-00001",
    )
    assert await gateway_for(SmsSettings()).send(created) == "log"
    assert "20261130-00001" in caplog.text and "查询码******" in caplog.text
    assert "K7PQ2M" not in caplog.text


def test_start_up_refuses_an_aliyun_gateway_without_template_codes(tmp_path: Path) -> None:
    from hotline.runtime.config import ConfigError
    from hotline.startup.bootstrap import load_sms

    (tmp_path / "sms.toml").write_text(DATA.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_sms(tmp_path, gateway="log") is not None
    with pytest.raises(ConfigError, match="aliyun_template，缺少：created、reply、close"):
        load_sms(tmp_path, gateway="aliyun")
    (tmp_path / "sms.toml").unlink()
    assert load_sms(tmp_path, gateway="log") is None  # no file: no texts, a warning
    with pytest.raises(ConfigError, match="SMS_GATEWAY=http 需要短信模板文件"):
        load_sms(tmp_path, gateway="http")
