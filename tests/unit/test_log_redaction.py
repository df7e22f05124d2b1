"""The access log keeps no query codes, searched phone numbers or search texts."""

from __future__ import annotations

import logging
import logging.config

from hotline.logs import RedactQuery, redact_path, uvicorn_log_config


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
