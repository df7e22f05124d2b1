"""SMTP settings read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Literal

from starlette.config import Config

TlsMode = Literal["none", "starttls", "tls"]
_TLS_MODES: tuple[TlsMode, ...] = ("none", "starttls", "tls")
DEFAULT_FROM = "12345热线 <noreply@12345.example>"
# Mail to these stays on the machine, so sending it in clear is the sensible default.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def default_tls(host: str | None) -> TlsMode:
    """STARTTLS for a mail server on another machine; none for one on this machine."""
    if not host or host.strip().lower().rstrip(".") in LOCAL_HOSTS:
        return "none"
    return "starttls"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail; ``host=None`` means sending is switched off."""

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsMode = "none"
    timeout: float = 30.0
    mail_from: str = DEFAULT_FROM
    # A private CA bundle, for a city mail relay whose certificate no public CA signs.
    ca_file: str | None = None
    # Domain part of generated Message-IDs; defaults to the domain of mail_from.
    msgid_domain_override: str | None = None

    def __post_init__(self) -> None:
        if self.tls not in _TLS_MODES:
            raise ValueError(f"SMTP_TLS must be one of {', '.join(_TLS_MODES)}, not {self.tls!r}")
        if not parseaddr(self.mail_from)[1]:
            raise ValueError(f"MAIL_FROM is not an e-mail address: {self.mail_from!r}")

    @property
    def enabled(self) -> bool:
        """True when an SMTP host is configured."""
        return bool(self.host)

    @property
    def envelope_from(self) -> str:
        """The bare address of mail_from, for the SMTP envelope (MAIL FROM)."""
        return parseaddr(self.mail_from)[1]

    @property
    def msgid_domain(self) -> str:
        """Domain used on the right of the @ in Message-IDs."""
        if self.msgid_domain_override:
            return self.msgid_domain_override
        _, _, domain = self.envelope_from.rpartition("@")
        return domain or "12345.example"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read SMTP_* and MAIL_FROM from the environment (or the mapping given)."""
        return cls.from_config(Config(environ=environ) if environ is not None else Config())

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        """Read SMTP_* and MAIL_FROM through `config` (hotline.runtime.config passes its own)."""
        host = config("SMTP_HOST", default=None) or None
        # Mail leaving the machine is encrypted unless SMTP_TLS=none says otherwise in so many
        # words: a relay that lacks STARTTLS then fails loudly instead of getting clear text.
        tls = (config("SMTP_TLS", default="") or default_tls(host)).strip().lower()
        # Implicit TLS lives on 465 by convention; plain and STARTTLS on 25 (or 587).
        default_port = 465 if tls == "tls" else 25
        try:
            port = config("SMTP_PORT", cast=int, default=default_port)
            timeout = config("SMTP_TIMEOUT", cast=float, default=30.0)
        except ValueError as exc:
            raise ValueError(f"SMTP_PORT / SMTP_TIMEOUT must be numbers: {exc}") from exc
        password = config("SMTP_PASSWORD", default=None)
        return cls(
            host=host,
            port=port,
            user=config("SMTP_USER", default=None) or None,
            password=str(password) if password else None,
            tls=tls,  # type: ignore[arg-type]  # validated in __post_init__
            timeout=timeout,
            mail_from=config("MAIL_FROM", default=DEFAULT_FROM),
            ca_file=config("SMTP_CA_FILE", default=None) or None,
            msgid_domain_override=config("MAIL_MSGID_DOMAIN", default=None) or None,
        )
