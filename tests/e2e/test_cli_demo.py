"""`python main.py demo` when a server already holds the port: one clear line, nothing changed."""

from __future__ import annotations

import os
import socket
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
