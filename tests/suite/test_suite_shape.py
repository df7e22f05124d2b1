"""The suite's own rules that keep it fast: PostgreSQL only where the backend matters, the CLI
in-process with the same answers as `python main.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirunner import run_cli

REPO = Path(__file__).resolve().parents[2]


def _collected(*paths: str) -> list[str]:
    env = {**os.environ, "TEST_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *paths],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_postgres_runs_only_the_tests_marked_backends() -> None:
    ids = _collected("tests/api/test_list_filters.py", "tests/api/test_concurrency.py")
    plain = [i for i in ids if "test_list_filters" in i]
    backend = [i for i in ids if "test_concurrency" in i]
    assert plain and not any("postgres" in i for i in plain), plain
    assert any("[sqlite" in i for i in backend) and any("[postgres" in i for i in backend)
    # Each backend test once per database, no more.
    assert len([i for i in backend if "[postgres" in i]) == len(
        [i for i in backend if "[sqlite" in i]
    )


def _process(env: dict[str, str], *args: str, stdin: str = "", cwd: Path = REPO):
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        input=stdin, cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_in_process_cli_answers_as_python_main_py(
    tmp_path: Path, migrated_sqlite: Callable[[str], Path]
) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{migrated_sqlite('cli.db')}"}
    add = ("users", "add", "--username", "li", "--role", "operator", "--name", "李")
    first = run_cli(env, *add, stdin="pass-word-1\n", cwd=tmp_path)
    assert (first.returncode, first.stdout.strip()) == (0, "已创建账号 li（operator）")
    # The same refusal, exit code and lines on stdout and stderr, from both.
    twice_here = run_cli(env, *add, stdin="pass-word-1\n", cwd=tmp_path)
    twice_there = _process(env, *add, stdin="pass-word-1\n", cwd=tmp_path)
    assert twice_here.returncode == twice_there.returncode == 1
    assert (twice_here.stdout, twice_here.stderr) == (twice_there.stdout, twice_there.stderr)
    usage_here = run_cli(env, "users", "add", cwd=tmp_path)
    usage_there = _process(env, "users", "add", cwd=tmp_path)
    assert usage_here.returncode == usage_there.returncode == 2
    assert usage_here.stderr.replace("main.py", "") == usage_there.stderr.replace("main.py", "")
    # The caller's environment, directory and streams are as they were.
    assert os.environ.get("DATABASE_URL") != env["DATABASE_URL"]
    assert Path.cwd() != tmp_path


def test_loadgroup_sees_the_groups(request: pytest.FixtureRequest) -> None:
    """Under the README's `-n 4 --dist loadgroup`, the tests of a module-scoped fixture (a
    trained model, a server) and the browser tests reach xdist's scheduler with their group,
    so each is built in one worker, not once per worker."""
    from types import SimpleNamespace

    from xdist.scheduler.loadgroup import LoadGroupScheduling

    from tests.conftest import pytest_collection_modifyitems

    module = request.node.parent
    plain = pytest.Function.from_parent(module, name="test_plain", callobj=lambda: None)
    grouped = pytest.Function.from_parent(module, name="test_grouped", callobj=lambda: None)
    grouped.add_marker(pytest.mark.xdist_group("a-model"))
    worker = SimpleNamespace(option=SimpleNamespace(loadgroup=True))  # as xdist sets it
    pytest_collection_modifyitems(worker, [plain, grouped])  # type: ignore[arg-type]
    scope = LoadGroupScheduling._split_scope
    assert scope(None, grouped.nodeid) == "a-model"  # type: ignore[arg-type]
    assert scope(None, plain.nodeid) == plain.nodeid  # type: ignore[arg-type]
