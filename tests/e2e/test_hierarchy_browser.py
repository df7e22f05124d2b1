"""下派 in a real browser against a real server, with reply review (答复审核) on: a street
passes a ticket down to a community, which signs and answers upward; the street approves
and replies with the draft; the operator approves the reply from the approvals queue, which
releases it, and calls back from the callback queue with a note. Skips without
/usr/bin/chromium (CI installs it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.domain.vocabulary import KINDS
from tests.e2e.test_pages_browser import Person, browser_site, open_created, pytestmark
from tests.e2e.test_server import _data_dir
from tests.reviewing import reviewing_data_dir

__all__ = ["pytestmark"]  # the skip without chromium, shared


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[str], Path]) -> Iterator[str]:
    """A real server with an operator, 含浦街道 and its 学堂坡社区, reviewing every kind's
    replies."""
    accounts = [
        ("wang", "operator", []),
        ("hanpu01", "unit", ["--unit", "HANPU"]),
        ("xtp01", "unit", ["--unit", "HANPU_XTP"]),
    ]
    data = reviewing_data_dir(tmp_path / "data", _data_dir(), *KINDS)
    yield from browser_site(
        tmp_path, migrated_sqlite("hierarchy.db"), accounts, HOTLINE_DATA_DIR=str(data)
    )


def _open(person: Person, action: str) -> None:
    """Unfold an action's form (it may start folded)."""
    person.page.locator(f"#act-{action}").evaluate("d => { d.open = true; }")


def _submit(person: Person, action: str) -> None:
    _open(person, action)
    person.page.click(f"#act-{action} button[type=submit]")
    person.page.wait_for_load_state()


def test_subdispatch_to_a_community_then_reply_and_callback(site: str, browser: object) -> None:
    op = Person(browser, site)
    op.sign_in("wang")
    page = op.page
    page.get_by_label("来电号码").fill("13907311846")
    page.get_by_label("标题").fill("学堂坡小区楼道堆放杂物")
    page.get_by_label("诉求内容").fill(
        "学堂坡小区3栋楼道长期堆放杂物，存在消防隐患，请社区督促清理。"
    )
    page.get_by_label("事发地址").fill("A3区含浦街道学堂坡小区")
    page.keyboard.press("Alt+S")
    number = open_created(page)
    page.select_option("#dispatch-lead_unit", "HANPU")
    _submit(op, "dispatch")
    assert "已派单待签收" in page.inner_text(".facts")

    # The street signs and passes it down to its community with a 2-working-day limit.
    street = Person(browser, site)
    street.sign_in("hanpu01")
    street.page.goto(f"{site}/tickets/{number}")
    _submit(street, "sign")
    _open(street, "subdispatch")
    options = street.page.locator("#subdispatch-unit option").all_inner_texts()
    assert any("学堂坡社区" in o for o in options) and not any("湘堤" in o for o in options)
    street.page.select_option("#subdispatch-unit", "HANPU_XTP")
    street.page.fill("#subdispatch-limit", "2wd")
    _submit(street, "subdispatch")
    assert "待下级签收" in street.page.inner_text("#subdispatch")
    street.shot("hierarchy-01-street-subdispatched")

    # The community finds it on its workbench, signs and answers upward.
    community = Person(browser, site)
    community.sign_in("xtp01")
    assert number in community.page.inner_text("#g-sub")
    community.shot("hierarchy-02-community-workbench")
    community.page.click(f"#g-sub a[href='/tickets/{number}']")
    assert "act-reply" not in community.page.content()  # the street answers the citizen
    _submit(community, "sub-sign")
    _open(community, "sub-reply")
    community.page.select_option("#sub-reply-result", "solved")
    community.page.fill("#sub-reply-text", "社区已督促物业清理楼道杂物，并张贴消防提示。")
    _submit(community, "sub-reply")
    assert "待审核" in community.page.inner_text("#subdispatch")

    # The street approves: the answer is its reply draft; it replies to the citizen.
    street.page.goto(f"{site}/unit")
    assert number in street.page.inner_text("#g-review")
    street.page.goto(f"{site}/tickets/{number}")
    _submit(street, "sub-approve")
    _open(street, "reply")
    assert "社区已督促物业清理" in street.page.input_value("#reply-text")
    street.page.select_option("#reply-result", "solved")
    _submit(street, "reply")
    # Reviewed: the answer waits for the centre; nothing has reached the citizen.
    assert "答复待审核" in street.page.inner_text(".facts")
    street.shot("hierarchy-03-street-replied")

    # The community no longer reads the ticket.
    gone = community.page.goto(f"{site}/tickets/{number}")
    assert gone is not None and gone.status == 404

    # The operator approves the answer from the approvals queue: it is released.
    page.goto(f"{site}/operator")
    row = page.locator(f"#approvals tr[data-number='{number}']")
    row.wait_for()
    assert "社区已督促物业清理" in row.inner_text()
    op.shot("hierarchy-04-approvals-queue")
    row.locator("form[action$='/act/approve-reply'] button[type=submit]").click()
    page.wait_for_load_state()

    # Then calls back from the callback queue, by its deadline, with a note.
    callback = page.locator(f"#callbacks form[action='/tickets/{number}/act/callback']")
    callback.wait_for()
    queue = page.inner_text("#callbacks")
    assert "回访时限" in queue and "已超回访时限" not in queue
    page.check(f"#cb-{number}-contacted")
    page.select_option(f"#cb-{number}-satisfaction", "满意")
    page.fill(f"#cb-{number}-note", "市民说楼道已清空，希望物业定期检查")
    op.shot("hierarchy-05-callback-queue")
    callback.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{site}/tickets/{number}")
    assert "已回访" in page.inner_text(".facts")
    history = page.content()
    assert "答复审核通过" in history
    assert "回访备注" in history and "市民说楼道已清空，希望物业定期检查" in history
    op.shot("hierarchy-06-ticket-history")
    assert not op.errors, op.errors
    assert not street.errors, street.errors
    assert [e for e in community.errors if "404" not in e] == [], community.errors
