"""`python main.py ARGS` run inside the test process.

The same entry point (`hotline.commands.cli.main`), argument parsing, settings from the
environment, stdin, stdout, stderr and exit code as the command a person types, without the
seconds a new interpreter takes to start and import jieba, scikit-learn and the rest: e2e set-up
called the CLI twice per server. Tests about the process boundary itself (an exit code a shell
sees with the log lines on stderr, signals, a server or demo that keeps running, the installed
package) still start `python main.py` with subprocess, and so does a command on PostgreSQL:
tortoise caches compiled statements per connection name for the whole process, and the CLI's
connection is named "default" like the SQLite tests', so it would reuse their `?` placeholders.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path

from hotline.commands.cli import main

MAIN = Path(__file__).resolve().parents[1] / "main.py"


def run_cli(
    env: Mapping[str, str], *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command to completion with `env` as the whole environment."""
    if env.get("DATABASE_URL", "").startswith("postgres"):
        return subprocess.run(
            [sys.executable, str(MAIN), *args],
            input=stdin, capture_output=True, text=True, env=dict(env), cwd=cwd, timeout=120,
        )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []

    def target() -> None:
        # A thread of its own: the command calls asyncio.run, which cannot nest in a test's
        # running event loop, and starts with no tortoise context of the caller's.
        try:
            code = main(list(args))
        except SystemExit as exc:
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
                code = 1
            else:
                code = exc.code or 0
        except BaseException:  # noqa: BLE001 - a crash is exit 1 with its traceback, as in a process
            traceback.print_exc()
            code = 1
        result.append(int(code))

    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level)
    try:
        os.environ.clear()
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        # Without handlers, the command's logging.basicConfig writes to this stderr, as it
        # would in its own process.
        root.handlers = []
        thread = threading.Thread(target=target, name=f"cli {' '.join(args[:2])}")
        thread.start()
        thread.join()
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, _ = saved_logging
        root.setLevel(saved_logging[1])
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(
        ["main.py", *args], result[0] if result else 1, out.getvalue(), err.getvalue()
    )
