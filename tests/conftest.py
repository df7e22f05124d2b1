"""Shared test fixtures: paths, the shared data folder, databases."""

from __future__ import annotations

import os
from pathlib import Path

# Cheap argon2 parameters for every account the suite creates (and for the servers and CLIs it
# starts, which inherit the environment); tests/unit/test_password_profile.py proves that
# production, without this switch, hashes with the strong parameters.
os.environ["HOTLINE_TEST_CHEAP_HASH"] = "1"

import pytest
from hypothesis import settings

# Property tests judge results, never speed: the suite runs four workers on two cores, where
# hypothesis's default 200 ms deadline per example fails a correct test at random.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The shared real-message folder, or a skip when this clone has none beside it."""
    if not (SHARED_DATA / "corpus").is_dir():
        pytest.skip(f"needs ../shared/data (not found at {SHARED_DATA})")
    return SHARED_DATA


# ---- databases ---------------------------------------------------------------

import uuid  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

from tortoise.context import TortoiseContext  # noqa: E402

from hotline.runtime.db import tortoise_config  # noqa: E402
from hotline.services import fulltext, volume_daily  # noqa: E402
from hotline.services.knowledge import KB  # noqa: E402
from hotline.services.ticket_search import TICKETS  # noqa: E402

# Database tests run on in-memory SQLite. A test whose behaviour depends on the database
# (locking, concurrency, migrations, outbox leases, limits shared by workers, the no-5xx fuzz)
# carries `@pytest.mark.backends` and runs on PostgreSQL too: running every test twice cost
# more than half the suite's time and found nothing the backend-specific ones do not.
BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


def _parametrizes_database_url(metafunc: pytest.Metafunc) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "database_url" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `backends` get the database on SQLite and on PostgreSQL."""
    if "database_url" not in metafunc.fixturenames or _parametrizes_database_url(metafunc):
        return
    if metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


async def _postgres_schema(url: str, schema: str, *, drop: bool) -> None:
    import asyncpg

    dsn = url.replace("postgres://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        if drop:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


@pytest.fixture
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh empty database: in-memory SQLite, or (param "postgres") a new schema on
    TEST_DATABASE_URL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield "sqlite://:memory:"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(
            "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        )
    # With TEST_DATABASE_URL set, an unreachable server is a failure, not a skip.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await _postgres_schema(url, schema, drop=False)
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}schema={schema}"
    finally:
        await _postgres_schema(url, schema, drop=True)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[TortoiseContext]:
    """An initialised tortoise context with every table created, active for the test."""
    async with TortoiseContext() as ctx:
        # Tortoise caches compiled statements per connection name across contexts, so
        # PostgreSQL gets its own name or it would reuse SQLite's `?` placeholders.
        name = "pg" if database_url.startswith("postgres") else "default"
        await ctx.init(config=tortoise_config(database_url, connection=name))
        await ctx.generate_schemas(safe=False)
        # The full-text index is no model (an FTS5 table / tsvectors): made as 0014 makes it.
        await fulltext.ensure(ctx.db(), TICKETS)
        await fulltext.ensure(ctx.db(), KB)  # the knowledge base's, as 0020 makes it
        await volume_daily.ensure(ctx.db())  # the rollup's triggers, as 0026 makes them
        yield ctx


# ---- parallel runs (pytest-xdist, `-n 4 --dist loadgroup`) ----------------------------


_BROWSER_FILES: dict[str, int] = {}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Keep what is built once together: the browser tests in two workers that have chromium
    started, and each module with a module-scoped fixture (a trained model, a server) in one
    worker, so parallel runs do not build them once per worker. (Marked as each test is
    collected; pytest_collection_modifyitems below hands the groups to xdist.)"""
    if item.get_closest_marker("xdist_group"):
        return
    if "browser" in getattr(item, "fixturenames", ()):
        # Two groups, alternate files in collection order (the same in every worker): the
        # browser tests are the suite's longest chain of serial work (a server started per
        # test, then seconds of page loads), so two workers each with its own chromium end
        # sooner than one; chromium starts in a second or two.
        index = _BROWSER_FILES.setdefault(item.module.__name__, len(_BROWSER_FILES))
        item.add_marker(pytest.mark.xdist_group(f"browser-{index % 2}"))
        return
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info else ()
    if any(d.scope in ("module", "class", "package") for chain in defs for d in chain):
        item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` see the groups again.

    xdist 3.8 tells its scheduler an item's group by appending "@group" to `item._nodeid`;
    pytest 9.2 builds node ids from a structured `_id` and no longer reads that field
    (pytest-xdist#1386), so every group was silently spread over all workers: a chromium and
    a trained model per worker instead of one. Set the suffix where pytest reads it; a
    pytest or xdist that already carries it is left alone."""
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # an older pytest: xdist's own suffix works
        return
    for item in items:
        nodeid = item.nodeid
        if nodeid.rfind("@") > nodeid.rfind("]"):
            continue
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})  # fmt: skip
        if names:
            item._id = coerce_node_id(f"{nodeid}@{'_'.join(names)}")


# ---- one chromium per process (tests/e2e/conftest.py) ------------------------------------

import asyncio  # noqa: E402


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Set Playwright's loop aside while a test that is not a browser test runs.

    The session's sync Playwright keeps its event loop marked as this thread's running loop
    between calls (its dispatcher is suspended inside it); asyncio tests could not start their
    own loop then. The mark goes back for the next browser call and for closing the browser.
    """
    parked = asyncio._get_running_loop()
    if parked is None or "browser" in getattr(item, "fixturenames", ()):
        return (yield)
    asyncio._set_running_loop(None)
    try:
        return (yield)
    finally:
        asyncio._set_running_loop(parked)


# ---- a migrated SQLite file, built once per test process ------------------------------

import shutil  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402

from hotline.runtime.db import close_database, open_database  # noqa: E402


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied. Migrating a new file commits (and syncs to
    disk) once per migration step: seconds when the disk is busy, paid by every e2e server and
    CLI test. The migrations themselves are tested on empty databases in test_migrations and
    test_cli_migrate."""
    path = tmp_path_factory.mktemp("template") / "hotline.sqlite3"
    failure: list[BaseException] = []

    def build() -> None:
        async def go() -> None:
            await close_database(await open_database(f"sqlite://{path}", global_fallback=False))

        try:
            asyncio.run(go())
        except BaseException as exc:  # noqa: BLE001 - raised again in the fixture below
            failure.append(exc)

    # A thread of its own: a session fixture may be set up inside a running event loop.
    thread = threading.Thread(target=build)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return path


@pytest.fixture
def migrated_sqlite(sqlite_template: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Make a fresh copy of the migrated SQLite file under this test's tmp_path."""

    def copy(name: str = "hotline.sqlite3") -> Path:
        target = tmp_path / name
        shutil.copyfile(sqlite_template, target)
        return target

    return copy
