"""SMS gateway settings read from the environment (through hotline.runtime.config)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from starlette.config import Config

Gateway = Literal["log", "aliyun", "http"]
GATEWAYS: tuple[Gateway, ...] = ("log", "aliyun", "http")
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"
# What a city platform most often takes when SMS_HTTP_BODY is not set.
DEFAULT_HTTP_BODY = '{"phone": "{phone}", "text": "{text}"}'


@dataclass(frozen=True)
class SmsSettings:
    """Which gateway sends the complainants' text messages, and how to reach it."""

    gateway: Gateway = "log"
    timeout: float = 10.0
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = field(default="", repr=False)
    aliyun_sign_name: str = ""
    # host[:port], or a URL whose scheme picks the protocol (http:// for a local test peer).
    aliyun_endpoint: str = ALIYUN_ENDPOINT
    http_url: str = ""
    http_body: str = DEFAULT_HTTP_BODY
    http_headers: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.gateway not in GATEWAYS:
            raise ValueError(f"SMS_GATEWAY 只能是 {'、'.join(GATEWAYS)}，现在是「{self.gateway}」")
        if self.gateway == "aliyun":
            missing = [
                name
                for name, value in (
                    ("ALIYUN_SMS_ACCESS_KEY_ID", self.aliyun_access_key_id),
                    ("ALIYUN_SMS_ACCESS_KEY_SECRET", self.aliyun_access_key_secret),
                    ("ALIYUN_SMS_SIGN_NAME", self.aliyun_sign_name),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"SMS_GATEWAY=aliyun 需要设置 {'、'.join(missing)}")
        if self.gateway == "http":
            if urlsplit(self.http_url).scheme not in ("http", "https"):
                raise ValueError(
                    "SMS_GATEWAY=http 需要设置 SMS_HTTP_URL（http:// 或 https:// 地址）"
                )
            try:
                json.loads(self.http_body)
            except ValueError as exc:
                raise ValueError(f"SMS_HTTP_BODY 不是合法的 JSON：{exc}") from exc

    @property
    def aliyun_protocol_and_host(self) -> tuple[str, str]:
        """("https", "dysmsapi.aliyuncs.com"), or what an ALIYUN_SMS_ENDPOINT URL says."""
        if "://" in self.aliyun_endpoint:
            parts = urlsplit(self.aliyun_endpoint)
            return parts.scheme, parts.netloc
        return "https", self.aliyun_endpoint

    @classmethod
    def from_config(cls, config: Config) -> SmsSettings:
        """Read SMS_* and ALIYUN_SMS_* through `config`; ValueError names the variable."""
        try:
            timeout = config("SMS_TIMEOUT", cast=float, default=10.0)
        except ValueError as exc:
            raise ValueError(f"SMS_TIMEOUT 必须是秒数：{exc}") from exc
        return cls(
            gateway=config("SMS_GATEWAY", default="log").strip().lower(),  # type: ignore[arg-type]
            timeout=timeout,
            aliyun_access_key_id=config("ALIYUN_SMS_ACCESS_KEY_ID", default=""),
            aliyun_access_key_secret=config("ALIYUN_SMS_ACCESS_KEY_SECRET", default=""),
            aliyun_sign_name=config("ALIYUN_SMS_SIGN_NAME", default=""),
            aliyun_endpoint=config("ALIYUN_SMS_ENDPOINT", default="") or ALIYUN_ENDPOINT,
            http_url=config("SMS_HTTP_URL", default=""),
            http_body=config("SMS_HTTP_BODY", default="") or DEFAULT_HTTP_BODY,
            http_headers=_headers(config("SMS_HTTP_HEADERS", default="")),
        )


def _headers(raw: str) -> dict[str, str]:
    """SMS_HTTP_HEADERS: a JSON object of header names to values, e.g. an Authorization."""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"SMS_HTTP_HEADERS 不是合法的 JSON：{exc}") from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ValueError('SMS_HTTP_HEADERS 必须是 JSON 对象，如 {"Authorization": "Bearer …"}')
    return parsed
