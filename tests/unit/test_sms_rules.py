"""Who may be texted, the fields of each text, and the checks on data/sms.toml (pure)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.lifecycle import Sms
from hotline.runtime.sms_settings import SmsSettings
from hotline.sms.messages import (
    REPLY_EXCERPT_CHARS,
    dedupe_key,
    reply_excerpt,
    sms_params,
    sms_recipient,
    tracking_link,
)
from hotline.sms.phone import mobile_number
from hotline.sms.templates import SmsTemplateError, load_sms_templates, parse_sms_templates

DATA = Path(__file__).resolve().parents[2] / "data" / "sms.toml"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("19912345678", "19912345678"),
        ("(+86) 138-1234-5678", "13812345678"),
        ("12812345678", None),  # 1 then 2: no mainland mobile range
        ("1381234567", None),  # ten digits
        ("138123456789", None),
        ("0731-88886666", None),  # landline
        ("010-12345678", None),
        ("12345", None),
        ("", None),
        (None, None),
    ],
)
def test_mobile_numbers_and_the_rest(raw: str | None, expected: str | None) -> None:
    assert mobile_number(raw) == expected


@pytest.mark.parametrize(
    "opt_out,no_contact,confidential,texted",
    [
        (False, False, False, True),
        (True, False, False, False),
        (False, True, True, False),
        (False, False, True, True),  # confidential but may be contacted: their own texts
        (False, True, False, True),  # no-contact is the confidential reporter's wish
    ],
)
def test_who_is_texted(opt_out: bool, no_contact: bool, confidential: bool, texted: bool) -> None:
    phone = sms_recipient(
        phone="138 1234 5678", sms_opt_out=opt_out, no_contact=no_contact, confidential=confidential
    )
    assert phone == ("13812345678" if texted else None)


def test_links_never_carry_the_query_code() -> None:
    assert tracking_link("https://12345.city.example/", "20261123-0001") == (
        "https://12345.city.example/track?number=20261123-0001"
    )
    for sms in (Sms.REPLY, Sms.CLOSE):
        params = sms_params(sms, number="N1", code="AB12CD", base_url="http://x", reply_text="好")
        assert "AB12CD" not in str(params)
    created = sms_params(Sms.CREATED, number="N1", code="AB12CD", base_url="http://x")
    assert created == {"number": "N1", "code": "AB12CD", "link": "http://x/track?number=N1"}


def test_reply_excerpt_is_the_first_lines_cut_to_one_variable() -> None:
    assert reply_excerpt("  已修复。 \n\n") == "已修复。"
    assert reply_excerpt("第一行\n第二行\n第三行") == "第一行 第二行…"
    long = reply_excerpt("长" * 100)
    assert len(long) == REPLY_EXCERPT_CHARS and long.endswith("…")


def test_one_dedupe_key_per_ticket_write() -> None:
    assert dedupe_key("N1", Sms.REPLY, 5) != dedupe_key("N1", Sms.REPLY, 9)
    assert dedupe_key("N1", Sms.REPLY, 5) == "N1:reply:v5"


def test_shipped_templates_carry_the_link_and_say_replies_are_not_read() -> None:
    templates = load_sms_templates(DATA)
    for sms in Sms:
        params = sms_params(sms, number="N1", code="C0DE99", base_url="http://x", reply_text="好")
        text = templates[sms].render(params)
        assert "http://x/track?number=N1" in text and "短信回复无效" in text
        assert "{" not in text


def _raw(**changes: Any) -> dict[str, Any]:
    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    for name, entry in changes.items():
        if entry is None:
            del raw["template"][name]
        else:
            raw["template"][name] = entry
    return raw


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"close": None}, r"\[template.close\] 缺失"),
        ({"hello": {"text": "{link}"}}, "未知的短信模板 hello"),
        ({"close": {"text": "工单{number}已办结"}}, "必须包含 {link}"),
        ({"close": {"text": "{number}{code}{link}"}}, "「{code}」不是可用字段"),
        ({"close": {"text": "{link!r}"}}, "不是可用字段"),
        ({"close": {"text": "{link} {"}}, "花括号不配对"),
        ({"close": {"text": "{link}", "sign": "x"}}, "未知的键 sign"),
        ({"close": {"text": "{link}", "aliyun_template": 5}}, "aliyun_template 必须是字符串"),
        ({"close": {"text": " "}}, "缺少 text"),
    ],
)
def test_template_file_errors_name_the_template(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SmsTemplateError, match=message):
        parse_sms_templates(_raw(**changes), source="data/sms.toml")


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"gateway": "smpp"}, "SMS_GATEWAY 只能是"),
        ({"gateway": "aliyun"}, "ALIYUN_SMS_ACCESS_KEY_ID、ALIYUN_SMS_ACCESS_KEY_SECRET"),
        ({"gateway": "http"}, "SMS_HTTP_URL"),
        ({"gateway": "http", "http_url": "http://x", "http_body": "{phone}"}, "SMS_HTTP_BODY"),
    ],
)
def test_gateway_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SmsSettings(**settings)


def test_settings_come_from_the_environment() -> None:
    from hotline.runtime.config import ConfigError, load_settings

    env = {
        "SMS_GATEWAY": "aliyun",
        "ALIYUN_SMS_ACCESS_KEY_ID": "id",
        "ALIYUN_SMS_ACCESS_KEY_SECRET": "secret",
        "ALIYUN_SMS_SIGN_NAME": "某市12345",
        "ALIYUN_SMS_ENDPOINT": "http://127.0.0.1:9999",
        "PUBLIC_BASE_URL": "https://12345.city.example",
    }
    sms = load_settings(environ=env).sms
    assert sms.gateway == "aliyun" and sms.aliyun_protocol_and_host == ("http", "127.0.0.1:9999")
    assert "secret" not in repr(sms)
    assert SmsSettings().aliyun_protocol_and_host == ("https", "dysmsapi.aliyuncs.com")
    http = load_settings(
        environ={
            "SMS_GATEWAY": "http",
            "PUBLIC_BASE_URL": "https://12345.city.example",
            "SMS_HTTP_URL": "https://sms.city.example/send",
            "SMS_HTTP_HEADERS": '{"Authorization": "Bearer t"}',
        }
    ).sms
    assert http.http_headers == {"Authorization": "Bearer t"}
    with pytest.raises(ConfigError, match="短信设置有误：SMS_HTTP_HEADERS"):
        load_settings(environ={"SMS_HTTP_HEADERS": "[1]"})


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]"])
def test_real_texts_need_a_link_citizens_can_open(base: str) -> None:
    from hotline.runtime.config import ConfigError, load_settings

    env = {"SMS_GATEWAY": "http", "SMS_HTTP_URL": "https://sms.city.example/send"}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL 是本机地址"):
        load_settings(environ={**env, "PUBLIC_BASE_URL": base})
    # The log gateway sends nothing, so a local link is fine (the demo, a developer's machine).
    assert load_settings(environ={"PUBLIC_BASE_URL": base}).sms.gateway == "log"
