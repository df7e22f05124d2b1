"""`python main.py users …` as an administrator types it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.clirunner import run_cli

REPO = Path(__file__).resolve().parents[2]


def users(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}"}
    return run_cli(env, "users", *args, stdin=stdin, cwd=REPO)


def test_add_list_and_token(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> None:
    db = migrated_sqlite("users.db")
    ok = users(
        db,
        "add",
        "--username",
        "wang",
        "--role",
        "operator",
        "--name",
        "王话务员",
        stdin="long-enough-pass\n",
    )
    assert ok.returncode == 0 and "已创建账号 wang" in ok.stdout
    unit = users(
        db,
        "add",
        "--username",
        "zjj01",
        "--role",
        "unit",
        "--unit",
        "ZJJ",
        stdin="long-enough-pass\n",
    )
    assert unit.returncode == 0
    listed = users(db, "list").stdout.splitlines()
    assert [line.split()[:3] for line in listed] == [
        ["wang", "operator", "王话务员"],
        ["zjj01", "unit", "ZJJ"],
    ]
    token = users(db, "token", "wang")
    assert token.returncode == 0 and token.stdout.strip().startswith("hl_")


def test_refusals_are_one_clear_line(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("users.db")
    cases = [
        (("add", "--username", "z1", "--role", "unit"), "必须指定 --unit"),
        (("add", "--username", "z2", "--role", "unit", "--unit", "NOPE"), "NOPE 不存在"),
        (("add", "--username", "z3", "--role", "operator"), "至少 8 个字符"),
        (("token", "nobody"), "nobody 不存在"),
    ]
    for args, message in cases:
        stdin = "short\n" if "z3" in args else "long-enough-pass\n"
        done = users(db, *args, stdin=stdin)
        assert done.returncode == 1, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("错误")]
        assert len(errors) == 1 and message in errors[0] and "Traceback" not in done.stderr
    users(db, "add", "--username", "dup", "--role", "operator", stdin="long-enough-pass\n")
    again = users(db, "add", "--username", "dup", "--role", "operator", stdin="long-enough-pass\n")
    assert again.returncode == 1 and "已存在" in again.stderr


def test_disable_enable_and_revoke_tokens_from_the_command_line(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    db = migrated_sqlite("users.db")
    assert (
        users(
            db, "add", "--username", "li", "--role", "operator", stdin="long-enough-pass\n"
        ).returncode
        == 0
    )
    assert users(db, "list").stdout.split()[-1] == "无有效令牌"
    assert users(db, "token", "li").returncode == 0
    listed = users(db, "list").stdout
    assert "有效令牌 1 个，从未使用" in listed and "到期" in listed

    off = users(db, "disable", "li")
    assert off.returncode == 0 and off.stdout.strip() == "已停用账号 li：其 API 令牌和登录立即失效"
    assert "（停用）" in users(db, "list").stdout
    assert users(db, "disable", "li").stdout.strip() == "账号 li 已是停用状态"
    refused = users(db, "token", "li")
    assert refused.returncode == 1 and "已停用" in refused.stderr
    on = users(db, "enable", "li")
    assert on.returncode == 0 and on.stdout.startswith("已启用账号 li")

    revoked = users(db, "revoke-tokens", "li")
    assert revoked.returncode == 0 and revoked.stdout.strip() == "已吊销账号 li 的 1 个 API 令牌"
    assert users(db, "list").stdout.split()[-1] == "无有效令牌"
    assert users(db, "revoke-tokens", "li").stdout.strip() == "账号 li 没有未吊销的 API 令牌"
    missing = users(db, "disable", "nobody")
    assert missing.returncode == 1 and missing.stderr.strip() == "错误：用户 nobody 不存在"


def test_sign_out_everywhere_from_the_command_line(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    import asyncio

    from hotline.domain.models import User
    from hotline.domain.timefmt import utcnow
    from hotline.runtime.db import close_database, open_database
    from hotline.services import web_sessions

    db = migrated_sqlite("users.db")
    users(db, "add", "--username", "li", "--role", "operator", stdin="long-enough-pass\n")
    policy = web_sessions.policy_for(idle_minutes=30, max_hours=12)

    async def signed_in_twice() -> list[str]:
        ctx = await open_database(f"sqlite://{db}", global_fallback=False)
        try:
            user = await User.get(username="li")
            return [
                (await web_sessions.start_session(user_id=user.id, now=utcnow(), policy=policy))[0]
                for _ in range(2)
            ]
        finally:
            await close_database(ctx)

    async def still_valid(keys: list[str]) -> int:
        ctx = await open_database(f"sqlite://{db}", global_fallback=False)
        try:
            found = [await web_sessions.find_session(k, now=utcnow(), policy=policy) for k in keys]
            return sum(f.session is not None for f in found)
        finally:
            await close_database(ctx)

    keys = asyncio.run(signed_in_twice())
    done = users(db, "sign-out", "li")
    assert done.returncode == 0
    assert done.stdout.strip() == "已结束账号 li 的 2 个页面登录，需重新登录"
    assert asyncio.run(still_valid(keys)) == 0
    assert users(db, "sign-out", "li").stdout.strip() == "账号 li 当前没有页面登录"
    missing = users(db, "sign-out", "nobody")
    assert missing.returncode == 1 and missing.stderr.strip() == "错误：用户 nobody 不存在"
