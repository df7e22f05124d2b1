"""Shared e2e fixtures: one chromium per test process for every browser test.

Starting chromium takes seconds. Each browser test opens its own context in the shared browser
(its own cookies, storage, viewport and locale), which keeps tests apart as a new browser did.
Under xdist the browser tests share two workers (tests/conftest.py groups them), so a run
starts chromium twice.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--lang=zh-CN",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, started once for the browser tests of this process."""
    from playwright import sync_api as playwright

    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
