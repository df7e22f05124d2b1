"""Logging set-up for the server: uvicorn's configuration with personal data kept out of it."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameters whose values are secrets or personal data: a query code opens a citizen's
# ticket; a phone number, a search text or a WeChat openid (in every /wechat POST) identifies
# a person. WeChat's `signature` with its `nonce` (and `msg_signature`, `echostr`) is a
# credential: in plain mode it signs any body for 5 minutes, so no log line may carry one.
SECRET_PARAMS = (
    "code",
    "phone",
    "q",
    "api_key",
    "token",
    "password",
    "openid",
    "signature",
    "msg_signature",
    "nonce",
    "echostr",
)
_NAMES = "|".join(SECRET_PARAMS)
_PARAM = re.compile(rf"([?&](?:{_NAMES})=)[^&#\s]*", re.IGNORECASE)
# The same names as `name=value` anywhere in a message of our own (a URL, a key=value pair).
_PAIR = re.compile(rf"((?<![\w-])(?:{_NAMES})=)[^&#\s,;'\"]*", re.IGNORECASE)
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact_path(path: str) -> str:
    """A request path fit for a log: secret query values and mobile numbers hidden."""
    return _MOBILE.sub(r"\1****\2", _PARAM.sub(r"\1***", path))


class RedactQuery(logging.Filter):
    """Rewrites uvicorn's access-log record (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the path argument; never drops a record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def redact_text(text: str) -> str:
    """A log message with the values of secret `name=value` pairs hidden."""
    return _PAIR.sub(r"\1***", text)


class RedactMessage(logging.Filter):
    """Rewrites any record whose message names a secret parameter's value."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message; never drops a record."""
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access log and every other record redacted.

    The root logger (ours: hotline.*) is configured here too, so the worker processes
    uvicorn spawns with --workers log the same way, through the same filter.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["redact"] = {"()": "hotline.runtime.logs.RedactQuery"}
    filters["redact_message"] = {"()": "hotline.runtime.logs.RedactMessage"}
    config["handlers"]["access"]["filters"] = ["redact"]
    config["handlers"]["default"]["filters"] = ["redact_message"]
    config["formatters"]["hotline"] = {"format": LOG_FORMAT}
    config["handlers"]["hotline"] = {
        "formatter": "hotline",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["redact_message"],
    }
    config["root"] = {"handlers": ["hotline"], "level": "INFO"}
    return config
