"""Test helpers: a real SMTP server (aiosmtpd) and an isolated outbox database."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from tortoise.context import TortoiseContext, tortoise_test_context

MAIL_MODELS = ["hotline.outbox.models"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern policy (headers decoded)."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    """Accepts everything except the DATA replies queued in `data_replies`; records what it got."""

    def __init__(
        self, *, data_replies: list[str] | None = None, refuse_prefix: str | None = None
    ) -> None:
        self.received: list[Received] = []
        self.data_attempts = 0
        self._data_replies = list(data_replies or [])
        self._refuse_prefix = refuse_prefix
        self._lock = threading.Lock()  # the server runs in the Controller's thread

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self._refuse_prefix and address.startswith(self._refuse_prefix):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.data_attempts += 1
            if self._data_replies:
                return self._data_replies.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 OK queued"


@contextmanager
def smtp_server(
    handler: Any, *, port: int | None = None, tls_context: ssl.SSLContext | None = None
) -> Iterator[Controller]:
    """Run an aiosmtpd server on 127.0.0.1 (offering STARTTLS when tls_context is given)."""
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs["tls_context"] = tls_context
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """Write a self-signed certificate for 127.0.0.1 with openssl; None when openssl is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@asynccontextmanager
async def outbox_db(backend: str) -> AsyncIterator[TortoiseContext]:
    """An isolated database holding the outbox table: in-memory SQLite, or PostgreSQL.

    PostgreSQL uses TEST_DATABASE_URL and a throw-away schema per call, so parallel test
    runs (and other people's tables in the same database) never collide.
    """
    if backend == "sqlite":
        async with tortoise_test_context(MAIL_MODELS) as ctx:
            yield ctx
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        raise LookupError("TEST_DATABASE_URL is not set")
    import asyncpg  # only needed for PostgreSQL runs

    schema = f"mail_test_{uuid.uuid4().hex[:12]}"
    plain_url = url.replace("postgres://", "postgresql://", 1).split("?")[0]
    admin = await asyncpg.connect(plain_url)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in url else "?"
        # Not "default": tortoise caches compiled INSERTs per (connection name, table), so
        # reusing SQLite's connection name in the same process would replay '?' placeholders.
        config = {
            "connections": {"pg_outbox": f"{url}{separator}schema={schema}"},
            "apps": {"models": {"models": MAIL_MODELS, "default_connection": "pg_outbox"}},
        }
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            await ctx.generate_schemas(safe=False)
            yield ctx
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()
