"""`python main.py demo` when a server already holds the port: one clear line, nothing changed."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_on_a_busy_port_says_so_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        for command in (["demo"], []):
            done = subprocess.run(
                [sys.executable, "main.py", *command, "--port", str(port)],
                cwd=REPO,
                env={**os.environ, "DATABASE_URL": f"sqlite://{db}"},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 1
            first = done.stderr.splitlines()[0]
            assert first == (
                f"端口 {port} 已被占用：服务可能已在运行，请打开 http://127.0.0.1:{port} "
                "或用 --port 指定其他端口"
            )
            assert "Traceback" not in done.stderr
    assert not db.exists()  # no accounts reset, no tickets added


def test_several_workers_without_a_shared_key_are_refused(tmp_path: Path) -> None:
    """Each worker would sign with its own random key: sign-ins and forms would break."""
    db = tmp_path / "workers.db"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    done = subprocess.run(
        [sys.executable, "main.py", "--workers", "2", "--port", "1"],
        cwd=REPO,
        env={**env, "DATABASE_URL": f"sqlite://{db}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--workers 2 需要设置 SECRET_KEY" in done.stderr and "Traceback" not in done.stderr
    assert not db.exists()  # refused before anything was touched


def test_demo_links_follow_its_port_and_it_prints_who_has_work(tmp_path: Path) -> None:
    """No PUBLIC_BASE_URL: texts and the dispatch mail link to the port the demo serves on;
    the output names each unit account with work by its unit, with a password that works."""
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    done = subprocess.run(
        [sys.executable, "main.py", "demo", "--no-serve", "--port", "8765", "--tickets", "40"],
        cwd=REPO,
        env={**env, "DATABASE_URL": f"sqlite://{db}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "员工登录：http://127.0.0.1:8765/login" in done.stdout
    with sqlite3.connect(db) as conn:
        texts = [
            r[0] for r in conn.execute("SELECT body FROM outbox_message WHERE transport='sms'")
        ]
        # A dispatch mail is stored as its template's values; the sender renders the link.
        mails = [
            json.loads(r[0])["link_base"]
            for r in conn.execute("SELECT params FROM outbox_message WHERE reason='dispatch'")
        ]
    assert texts and all("http://127.0.0.1:8765/track?number=" in t for t in texts)
    assert mails and all(m == "http://127.0.0.1:8765" for m in mails)
    assert not any(":8000/" in body for body in texts + mails)
    line = re.search(
        r"^  unit_jw +unit +(\S+) 值班员 +待办 (\d+) 张 +密码：(\S+)$", done.stdout, re.M
    )
    assert line, done.stdout
    assert line.group(1) == "中共A市纪律检查委员会" and int(line.group(2)) > 0
    assert "BEISHAN 值班员" not in done.stdout

    # The printed password signs in: the demo reset it on this run.
    check = (
        "import asyncio, sys\n"
        "from hotline.runtime.db import open_database, close_database\n"
        "from hotline.services.users import principal_for_password\n"
        "async def go():\n"
        f"    ctx = await open_database('sqlite://{db}', create_schema=False)\n"
        "    try:\n"
        f"        ok = await principal_for_password('unit_jw', {line.group(3)!r})\n"
        "    finally:\n"
        "        await close_database(ctx)\n"
        "    sys.exit(0 if ok else 1)\n"
        "asyncio.run(go())\n"
    )
    signed = subprocess.run([sys.executable, "-c", check], cwd=REPO, timeout=60)
    assert signed.returncode == 0
