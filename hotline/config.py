"""Settings from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Settings:
    """Deployment settings; see README 'Configuration'."""

    database_url: str
    data_dir: Path
    max_body_bytes: int
    auto_dispatch: bool
    public_base_url: str
    run_sweeper: bool
    sweep_interval: float
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto uvicorn believes
    # ("" trusts none, "*" every peer): otherwise any client could choose its own address.
    forwarded_allow_ips: str = ""
    token_ttl_days: int = 90
    retention_days: int = 365
    # WeChat official account (README 'WeChat official account'); no token: /wechat is 404.
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_aes_key: str = ""


def load_settings(env_file: str | None = None) -> Settings:
    """Read settings from the environment (and an optional .env file)."""
    config = Config(env_file) if env_file else Config()
    return Settings(
        database_url=config("DATABASE_URL", default="sqlite://hotline.db"),
        data_dir=Path(config("HOTLINE_DATA_DIR", default=str(REPO_ROOT / "data"))),
        max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=1_048_576),
        auto_dispatch=config("AUTO_DISPATCH", cast=bool, default=True),
        public_base_url=config("PUBLIC_BASE_URL", default="http://127.0.0.1:8000"),
        run_sweeper=config("RUN_SWEEPER", cast=bool, default=True),
        sweep_interval=config("SWEEP_INTERVAL", cast=float, default=60.0),
        forwarded_allow_ips=config("FORWARDED_ALLOW_IPS", default="").strip(),
        token_ttl_days=_positive(config, "TOKEN_TTL_DAYS", 90),
        retention_days=_positive(config, "RETENTION_DAYS", 365),
        wechat_token=config("WECHAT_TOKEN", default=""),
        wechat_appid=config("WECHAT_APPID", default=""),
        wechat_aes_key=config("WECHAT_AES_KEY", default=""),
    )


def _positive(config: Config, name: str, default: int) -> int:
    """A whole number of days ≥ 1, or a one-line Chinese error naming the variable."""
    raw = config(name, default=str(default)).strip()
    if not raw.isdigit() or int(raw) < 1:
        from hotline.bootstrap import ConfigError

        raise ConfigError(f"环境变量 {name} 必须是正整数（天数），现在是「{raw}」")
    return int(raw)
