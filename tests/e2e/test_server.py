"""A real server: `python main.py` under uvicorn on 127.0.0.1, driven over HTTP with httpx.

Also the start-up checks a person meets first: a database that cannot be reached and a
broken data file each stop `python main.py check` with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clirunner import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "main.py"
STARTUP_TIMEOUT = 60.0  # the classifier model loads at start-up
CLI_TIMEOUT = 120.0
PHONE = "13907311846"
NAME = "刘女士"
# A mobile number in full, or masked like 139****1846.
PHONE_LIKE = re.compile(r"1\d{10}|\d{3}\*{4}\d{4}")


def _data_dir() -> Path:
    return Path(os.environ.get("HOTLINE_DATA_DIR") or REPO_ROOT / "data")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        RUN_SWEEPER="false",
        PYTHONUNBUFFERED="1",
        PUBLIC_BASE_URL="http://127.0.0.1",
    )
    env.update(extra)
    return env


def _cli(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS` in this process: set-up for a server (accounts, tokens)."""
    return run_cli(env, *args, stdin=stdin or "", cwd=cwd or REPO_ROOT)


def _process_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python main.py ARGS` as its own process to completion (bounded)."""
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=CLI_TIMEOUT,
    )


def _needs_model() -> None:
    model = _data_dir() / "model"
    if not model.is_dir():
        pytest.skip(f"the server loads the classifier at start-up and {model} does not exist yet")


@dataclass
class Server:
    """A running `python main.py` and what a client needs to talk to it."""

    base_url: str
    env: dict[str, str]
    token: str
    log: Path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL if it does not stop in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_server(cwd: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """`python main.py --host 127.0.0.1 --port P *args` in `cwd`, healthy; yields its URL,
    stops it after (its output is in cwd/server.log)."""
    port = _free_port()
    log = cwd / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(MAIN), "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(proc, url, log)
        yield url
    finally:
        _stop(proc)


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            r = httpx.get(f"{url}/healthz", timeout=2.0)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.25)
    pytest.fail(
        f"no 200 from /healthz within {STARTUP_TIMEOUT:.0f} s ({last}):\n{log.read_text()[-3000:]}"
    )


def _start(tmp: Path, database_url: str) -> Iterator[Server]:
    """Create an operator and a token with the CLI, then serve; always stop the server."""
    _needs_model()
    env = _env(database_url)
    added = _cli(
        env,
        "users",
        "add",
        "--username",
        "e2e-op",
        "--role",
        "operator",
        "--name",
        "话务员",
        stdin="e2e-password-1\n",
        cwd=tmp,
    )
    assert added.returncode == 0, added.stderr
    issued = _cli(env, "users", "token", "e2e-op", cwd=tmp)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(MAIN), "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so workers stop with it
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(proc, url, log)
        yield Server(base_url=url, env=env, token=token, log=log)
    finally:
        _stop(proc)


async def _pg_schema(url: str, schema: str, *, drop: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=10)
    try:
        sql = f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"'
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def server_url(
    request: pytest.FixtureRequest, migrated_sqlite: Callable[[str], Path]
) -> AsyncIterator[str]:
    """DATABASE_URL for the server: a migrated SQLite file, or a new schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite://{migrated_sqlite('e2e.db')}"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    await _pg_schema(url, schema, drop=False)
    try:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    finally:
        await _pg_schema(url, schema, drop=True)


@pytest.fixture
def server(server_url: str, tmp_path: Path) -> Iterator[Server]:
    """A real server on a free loopback port, stopped whatever the test does."""
    yield from _start(tmp_path, server_url)


async def test_create_and_track_over_real_http(server: Server) -> None:
    body = {
        "channel": "phone",
        "kind": "投诉",
        "title": "小区电梯长期故障无人维修",
        "content": "我住的小区三号楼电梯已经坏了两个多星期，物业一直说在等配件，"
        "楼里有很多老人上下楼非常困难，希望有关部门督促物业尽快维修。",
        "location": {"address": "A市芙蓉区某小区三号楼"},
        "complainant": {"name": NAME, "phone": PHONE},
        "auto_dispatch": True,
    }
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
        r = await client.post("/api/v1/tickets", json=body, headers=headers)
        assert r.status_code == 201, r.text
        created = r.json()
        number, code = created["number"], created["query_code"]
        assert r.headers["location"] == f"/api/v1/tickets/{number}"
        assert created["status"] in ("received", "dispatched")
        # The operator who took the call sees the number; the public page must not.
        assert created["complainant"]["phone"] == PHONE

        tracked = await client.get(f"/api/v1/track/{number}", params={"code": code})
        assert tracked.status_code == 200, tracked.text
        page = tracked.json()
        assert page["status"] == created["status"]
        assert page["status_label"] == created["status_label"]
        assert not PHONE_LIKE.search(tracked.text), tracked.text
        assert NAME not in tracked.text

        wrong_code = "AAAAAA" if code != "AAAAAA" else "BBBBBB"
        wrong = await client.get(f"/api/v1/track/{number}", params={"code": wrong_code})
        missing = await client.get("/api/v1/track/20990101-00001", params={"code": code})
        no_code = await client.get(f"/api/v1/track/{number}")
        assert wrong.status_code == missing.status_code == no_code.status_code == 404
        # Same answer either way: the page does not reveal which numbers exist.
        assert wrong.json() == missing.json()

        anonymous = await client.post("/api/v1/tickets", json=body)
        assert anonymous.status_code == 401


# A timestamped log record below ERROR (e.g. a model warning) is not part of the failure message.
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def _one_line(stderr: str) -> str:
    """The single line that explains the failure: no traceback, no multi-line dump."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not LOG_RECORD.match(line)]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    return lines[0]


def test_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _needs_model()  # `check` loads the model before it opens the database
    url = "postgres://nobody@127.0.0.1:1/x"
    done = _process_cli(_env(url), "check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert url in line


def test_broken_units_file_names_file_and_field(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(_data_dir(), data, ignore=shutil.ignore_patterns("model"))
    units = data / "units.toml"
    text = units.read_text(encoding="utf-8")
    broken = re.sub(r'kind = "department"', 'kind = "bureau"', text, count=1)
    assert broken != text
    units.write_text(broken, encoding="utf-8")
    env = _env(f"sqlite://{tmp_path / 'never.db'}", HOTLINE_DATA_DIR=str(data))
    done = _process_cli(env, "check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert str(units) in line and "kind" in line and "bureau" in line
    assert not (tmp_path / "never.db").exists()  # refused before touching the database


def test_model_is_not_needed_to_fail_fast_on_bad_data(tmp_path: Path) -> None:
    """A missing data folder is also one line and exit 2."""
    env = _env(f"sqlite://{tmp_path / 'never.db'}", HOTLINE_DATA_DIR=str(tmp_path / "nowhere"))
    done = _process_cli(env, "check", cwd=tmp_path)
    assert done.returncode == 2
    assert str(tmp_path / "nowhere") in _one_line(done.stderr)


def test_bad_mail_settings_stop_start_up_with_one_line(tmp_path: Path) -> None:
    _needs_model()
    env = _env(f"sqlite://{tmp_path / 'never.db'}", SMTP_TLS="ssl3")
    done = _process_cli(env, "check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    line = _one_line(done.stderr)
    assert "SMTP_TLS" in line and "ssl3" in line
