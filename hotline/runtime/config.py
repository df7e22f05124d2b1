"""Settings from the environment, resolved once at start-up and passed down.

This module is the one place that reads the process environment for the service
(README "Configuration"); everything else receives a `Settings`. The classifier's own
command line (`python -m classifier`) keeps its own defaults: classifier/ imports no hotline/.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import Secret

from hotline.channels.wechat import Crypto
from hotline.runtime.mail_settings import SmtpSettings
from hotline.runtime.sms_settings import SmsSettings

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL_TZ = "Asia/Shanghai"
DEFAULT_DATABASE_URL = "sqlite://hotline.db"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
# A file every deployment data directory has; how a candidate directory is recognised.
_DATA_MARKER = "units.toml"


class ConfigError(Exception):
    """Deployment data or settings that stop start-up; the message is one clear line."""


@dataclass(frozen=True)
class Settings:
    """Deployment settings; see README 'Configuration'."""

    database_url: str
    data_dir: Path
    model_dir: Path
    # A read replica for the dashboard and the exports (README 'Running for a whole city');
    # "" reads them from DATABASE_URL.
    reporting_database_url: str = ""
    max_body_bytes: int = 1_048_576
    auto_dispatch: bool = True
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    run_sweeper: bool = True
    sweep_interval: float = 60.0
    # Local (Asia/Shanghai) hour from which the sweeper sends the supervisors' daily digest.
    digest_hour: int = 8
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    secret_key: Secret | None = field(default=None, repr=False)  # signs page sessions
    session_idle_minutes: float = 30.0
    # Absolute lifetime of a page session, however active: the security boundary the idle timer
    # (which a client could keep alive) is not.
    session_max_hours: int = 12
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto uvicorn believes
    # ("" trusts none, "*" every peer): otherwise any client could choose its own address.
    forwarded_allow_ips: str = ""
    token_ttl_days: int = 90
    retention_days: int = 365
    # Where data_dir came from, said in the start-up log: HOTLINE_DATA_DIR, the source
    # checkout, or ./data.
    data_dir_origin: str = "HOTLINE_DATA_DIR"
    # WeChat official account (README 'WeChat official account'); no token: /wechat is 404.
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_aes_key: str = ""
    # With the AppSecret, replies and closings are pushed to WeChat reporters (customer-service
    # messages through WECHAT_API_BASE; hotline.wechat). Without it nothing is queued for them.
    wechat_secret: str = field(default="", repr=False)
    wechat_api_base: str = "https://api.weixin.qq.com"
    # The switch's secret path segment for POST /api/v1/cti/{token}; unset: the endpoint is 404.
    cti_token: str = field(default="", repr=False)
    # Citizen web form (README 'Citizen web form'): where photos are kept, how big each may be.
    upload_dir: Path = field(default_factory=lambda: Path("var/uploads"))
    photo_max_bytes: int = 10 * 1024 * 1024
    # Open311 GeoReport v2 clients (README 'Open311 GeoReport v2'): (name, api_key) pairs;
    # none configured: POST /open311/v2/requests answers 403, the public GETs still work.
    open311_api_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def database_url(config: Config | None = None) -> str:
    """DATABASE_URL, or the SQLite file default (also what the migration tool reads)."""
    return str((config or Config())("DATABASE_URL", default=DEFAULT_DATABASE_URL))


def load_settings(
    env_file: str | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read every setting from the environment (or `environ`, or an optional .env file)."""
    if environ is not None:
        config = Config(environ=environ)
    else:
        config = Config(env_file) if env_file else Config()
    data_dir, origin = _data_dir(config("HOTLINE_DATA_DIR", default=""))
    model_dir = config("HOTLINE_MODEL_DIR", default="")
    try:
        smtp = SmtpSettings.from_config(config)
    except ValueError as exc:
        raise ConfigError(f"邮件设置有误：{exc}") from exc
    try:
        sms = SmsSettings.from_config(config)
    except ValueError as exc:
        raise ConfigError(f"短信设置有误：{exc}") from exc
    public_base_url = config("PUBLIC_BASE_URL", default=DEFAULT_PUBLIC_BASE_URL)
    _check_public_link(public_base_url, sms_gateway=sms.gateway)
    try:
        settings = Settings(
            database_url=database_url(config),
            reporting_database_url=config("REPORTING_DATABASE_URL", default="").strip(),
            data_dir=data_dir,
            model_dir=Path(model_dir).expanduser() if model_dir else data_dir / "model",
            max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=1_048_576),
            auto_dispatch=config("AUTO_DISPATCH", cast=bool, default=True),
            public_base_url=public_base_url,
            run_sweeper=config("RUN_SWEEPER", cast=bool, default=True),
            sweep_interval=config("SWEEP_INTERVAL", cast=float, default=60.0),
            digest_hour=_hour(config("DIGEST_HOUR", cast=int, default=8)),
            smtp=smtp,
            sms=sms,
            secret_key=config("SECRET_KEY", cast=Secret, default=None),
            session_idle_minutes=config("SESSION_IDLE_MINUTES", cast=float, default=30.0),
            session_max_hours=_positive(config, "SESSION_MAX_HOURS", 12, "小时数"),
            forwarded_allow_ips=config("FORWARDED_ALLOW_IPS", default="").strip(),
            token_ttl_days=_positive(config, "TOKEN_TTL_DAYS", 90),
            retention_days=_positive(config, "RETENTION_DAYS", 365),
            data_dir_origin=origin,
            wechat_token=config("WECHAT_TOKEN", default=""),
            wechat_appid=config("WECHAT_APPID", default=""),
            wechat_aes_key=config("WECHAT_AES_KEY", default=""),
            wechat_secret=config("WECHAT_SECRET", default=""),
            wechat_api_base=config("WECHAT_API_BASE", default="https://api.weixin.qq.com"),
            cti_token=config("CTI_TOKEN", default="").strip(),
            # Relative to the working directory, like the SQLite file's default.
            upload_dir=Path(config("UPLOAD_DIR", default="var/uploads")).expanduser(),
            photo_max_bytes=_positive(config, "PHOTO_MAX_BYTES", 10 * 1024 * 1024, "字节数"),
            open311_api_keys=open311_keys(config("OPEN311_API_KEYS", default="")),
        )
    except ValueError as exc:
        # starlette names the variable ("Config 'MAX_BODY_BYTES' has value 'x'. Not a valid int.")
        raise ConfigError(f"环境变量设置有误：{exc}") from exc
    _check_wechat_key(settings.wechat_aes_key, settings.wechat_appid)
    if settings.cti_token and len(settings.cti_token) < 16:
        raise ConfigError("CTI_TOKEN 太短：交换机用它作为地址中的密钥，请设为至少 16 个随机字符")
    if settings.wechat_secret and not settings.wechat_appid:
        raise ConfigError("设置了 WECHAT_SECRET 但没有 WECHAT_APPID：请填写公众号的 AppID")
    return settings


def _hour(value: int) -> int:
    """An hour of the day, 0–23."""
    if not 0 <= value <= 23:
        raise ValueError(f"DIGEST_HOUR 为 {value}：须为 0 到 23 之间的整点（几点发送每日超时汇总）")
    return value


def follow_served_address(environ: MutableMapping[str, str], host: str, port: int) -> None:
    """Without PUBLIC_BASE_URL, links in mail and texts point where `serve`/`demo` listens.

    Set in the environment (not only in this process's Settings) so that uvicorn's workers,
    which read their own settings, write the same links. A PUBLIC_BASE_URL given wins.
    """
    environ.setdefault("PUBLIC_BASE_URL", served_url(host, port))


def served_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for a server listening on host:port."""
    # Listening on every interface: this machine's own address is the one known to work.
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _check_public_link(url: str, *, sms_gateway: str) -> None:
    """Texts that really leave carry the tracking link: it must open on a citizen's phone."""
    host = (urlsplit(url).hostname or "").lower()
    if sms_gateway != "log" and (host in ("localhost", "") or _loopback(host)):
        raise ConfigError(
            f"SMS_GATEWAY={sms_gateway} 会把进度查询链接发给市民，但 PUBLIC_BASE_URL 是本机地址"
            f"（{url}）：请设为市民手机能打开的网址，例如 https://12345.example.gov.cn"
        )


def _check_wechat_key(aes_key: str, appid: str) -> None:
    """A set EncodingAESKey turns plain messages away: it must load, or no message gets in."""
    if not aes_key:
        return
    if not appid:
        raise ConfigError("设置了 WECHAT_AES_KEY 但没有 WECHAT_APPID：请填写公众号的 AppID")
    try:
        Crypto("", aes_key, appid)
    except ValueError as exc:
        raise ConfigError(
            f"WECHAT_AES_KEY 有误：{exc}；请从公众号「基本配置」复制 EncodingAESKey"
        ) from exc


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


OPEN311_MIN_KEY_CHARS = 16  # a key is a password: a short one is guessed


def open311_keys(raw: str) -> tuple[tuple[str, str], ...]:
    """OPEN311_API_KEYS as (client name, key) pairs: `name:key,name:key` or bare keys."""
    pairs: list[tuple[str, str]] = []
    for n, item in enumerate((i.strip() for i in raw.split(",") if i.strip()), 1):
        name, sep, key = item.rpartition(":")
        name = name.strip() if sep else f"client{n}"
        key = key.strip()
        if not name or len(name) > 64:
            raise ConfigError(f"环境变量 OPEN311_API_KEYS 第 {n} 项的客户端名称必须是 1–64 个字符")
        if len(key) < OPEN311_MIN_KEY_CHARS or not key.isascii() or not key.isprintable():
            raise ConfigError(
                f"环境变量 OPEN311_API_KEYS 第 {n} 项（{name}）的密钥必须是至少 "
                f"{OPEN311_MIN_KEY_CHARS} 个可见 ASCII 字符"
            )
        if any(key == k for _, k in pairs) or any(name == m for m, _ in pairs):
            raise ConfigError(
                f"环境变量 OPEN311_API_KEYS 第 {n} 项（{name}）与前面的名称或密钥重复"
            )
        pairs.append((name, key))
    return tuple(pairs)


def _data_dir(explicit: str) -> tuple[Path, str]:
    """HOTLINE_DATA_DIR, else the source checkout's data/, else ./data; or a clear error."""
    if explicit:
        return Path(explicit).expanduser(), "HOTLINE_DATA_DIR"
    candidates = [(REPO_ROOT / "data", "源码目录"), (Path.cwd() / "data", "当前目录")]
    for path, origin in candidates:
        if (path / _DATA_MARKER).is_file():
            return path, origin
    # An installed package (pip install .) does not carry data/: say where we looked.
    looked = "、".join(str(p) for p, _ in candidates)
    raise ConfigError(
        f"找不到数据目录（单位、派单规则、时限策略、节假日、分类模型；已查找 {looked}）："
        "请设置环境变量 HOTLINE_DATA_DIR 指向 data/ 目录"
    )


def _positive(config: Config, name: str, default: int, what: str = "天数") -> int:
    """A whole number ≥ 1, or a one-line Chinese error naming the variable."""
    raw = config(name, default=str(default)).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"环境变量 {name} 必须是正整数（{what}），现在是「{raw}」")
    return int(raw)
