"""The logs keep no query codes, searched phone numbers, search texts or WeChat credentials."""

from __future__ import annotations

import logging
import logging.config

from hotline.runtime.logs import (
    RedactMessage,
    RedactQuery,
    redact_path,
    redact_text,
    uvicorn_log_config,
)


def test_secret_query_values_and_mobiles_are_hidden() -> None:
    assert redact_path("/api/v1/track/20261129-00001?code=CUJC7W") == (
        "/api/v1/track/20261129-00001?code=***"
    )
    assert redact_path("/api/v1/tickets?status=handling&phone=13912345678&page=2") == (
        "/api/v1/tickets?status=handling&phone=***&page=2"
    )
    assert redact_path("/api/v1/tickets?q=13912345678") == "/api/v1/tickets?q=***"
    assert redact_path("/operator/caller/13912345678") == "/operator/caller/139****5678"
    assert redact_path("/api/v1/tickets?page=2") == "/api/v1/tickets?page=2"


def test_the_tracking_page_and_its_photo_links_keep_no_query_code() -> None:
    # The page's own form (GET) and the links to the citizen's photos carry the code.
    assert redact_path("/track?number=20261129-00001&code=CUJC7W") == (
        "/track?number=20261129-00001&code=***"
    )
    assert redact_path("/track?code=cujc7w&number=20261129-00001#result") == (
        "/track?code=***&number=20261129-00001#result"
    )
    assert redact_path("/track/20261129-00001/photos/2?code=CUJC7W") == (
        "/track/20261129-00001/photos/2?code=***"
    )


def test_the_access_log_record_is_rewritten() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/track/N?code=ABCDEF", "1.1", 200),
        None,
    )
    assert RedactQuery().filter(record)
    assert "ABCDEF" not in record.getMessage() and "code=***" in record.getMessage()


def test_uvicorn_is_configured_with_the_filter() -> None:
    config = uvicorn_log_config()
    assert config["handlers"]["access"]["filters"] == ["redact"]
    logging.config.dictConfig(config)  # the configuration uvicorn will load is valid


def test_wechat_credentials_and_openids_are_hidden_in_the_access_log() -> None:
    # In plain mode signature + timestamp + nonce sign any body for 5 minutes: a log line
    # holding them would let its reader post as any citizen.
    path = (
        "/wechat?signature=4b3f0b1e9c0d2a7e8f6b5c4d3e2f1a0b9c8d7e6f&timestamp=1764990000"
        "&nonce=1392547864&openid=oAlice_9a8b7c6d5e4f3g2h1i0j&encrypt_type=aes"
        "&msg_signature=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
    )
    assert redact_path(path) == (
        "/wechat?signature=***&timestamp=1764990000&nonce=***&openid=***&encrypt_type=aes"
        "&msg_signature=***"
    )
    echo = "/wechat?signature=abc&echostr=8372631920458823&timestamp=1&nonce=2"
    assert redact_path(echo) == "/wechat?signature=***&echostr=***&timestamp=1&nonce=***"


def test_our_own_log_messages_hide_the_same_values() -> None:
    assert redact_text("refused /wechat?nonce=139254&signature=ab12 from x") == (
        "refused /wechat?nonce=***&signature=*** from x"
    )
    assert redact_text("wechat: openid=oAlice_9a8b, msg_signature=ffee") == (
        "wechat: openid=***, msg_signature=***"
    )
    assert redact_text("ticket 20261129-00001 created") == "ticket 20261129-00001 created"
    record = logging.LogRecord(
        "hotline.wechat", logging.WARNING, __file__, 1, "got %s", ("echostr=5551212",), None
    )
    assert RedactMessage().filter(record)
    assert record.getMessage() == "got echostr=***"


def test_every_handler_of_the_server_redacts() -> None:
    config = uvicorn_log_config()
    assert config["handlers"]["default"]["filters"] == ["redact_message"]
    assert config["handlers"]["hotline"]["filters"] == ["redact_message"]
    assert config["root"]["handlers"] == ["hotline"]
