"""The operator's caller box in a real browser: two numbers pasted at once are said in the box.

The box is an htmx fragment; its 422 answer (the API's phone model refusing 35 characters)
must be shown there, not dropped as an error, and the console stays clean.
"""

from __future__ import annotations

# `browser` is the one chromium of this worker (tests/e2e/conftest.py).
from tests.e2e.test_pages_browser import Person, pytestmark, site  # noqa: F401

TWO_PHONES = "13907311846 13812345678 13700001111"


def test_two_numbers_pasted_are_said_in_the_caller_box(site: str, browser: object) -> None:  # noqa: F811
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    page.get_by_label("来电号码").fill(TWO_PHONES)
    page.wait_for_selector("#caller p.flash.error", timeout=15000)
    said = page.inner_text("#caller")
    assert "来电号码太长" in said and "一次只能查一个号码" in said, said
    op.shot("caller-box-two-numbers")
    # One number again: the box shows the caller's history (none yet), the message is gone.
    page.get_by_label("来电号码").fill("13907311846")
    page.wait_for_selector("#caller p.flash.error", state="detached", timeout=15000)
    # Chromium reports the 422 itself ("Failed to load resource"); nothing else may complain.
    assert not [e for e in op.errors if "422" not in e], op.errors
