"""Logging set-up for the server: uvicorn's configuration with personal data kept out of it."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameters whose values are secrets or personal data: a query code opens a citizen's
# ticket; a phone number, a search text or a WeChat openid (in every /wechat POST) identifies
# a person.
SECRET_PARAMS = ("code", "phone", "q", "api_key", "token", "password", "openid")
_NAMES = "|".join(SECRET_PARAMS)
_PARAM = re.compile(rf"([?&](?:{_NAMES})=)[^&#\s]*", re.IGNORECASE)
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


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with the access log redacted."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": "hotline.logs.RedactQuery"}
    config["handlers"]["access"]["filters"] = ["redact"]
    return config
