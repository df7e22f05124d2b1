"""What a unit reads of a ticket: the confirmed text of a 举报 or confidential ticket only."""

from __future__ import annotations

from typing import Any

from hotline.privacy.confirmed import NOT_CONFIRMED, needs_confirmation, unit_text

ORIGINAL = {
    "title": "李建国举报王五",
    "content": "我叫李建国，手机13973112345，住在枫林小区3栋2单元501室。",
    "complainant_name": "李建国",
}


def seen(**kw: Any) -> tuple[str, str]:
    args: dict[str, Any] = {
        "kind": "举报",
        "confidential": True,
        **ORIGINAL,
        "dispatch_title": "【来电人】举报王五",
        "dispatch_text": "我叫【来电人】，手机139****2345，住在枫林小区3栋2单元501室。",
        "confirmed": False,
        **kw,
    }
    out = unit_text(**args)
    return out.title, out.text


def test_reports_and_confidential_tickets_need_a_person_to_confirm() -> None:
    assert needs_confirmation(kind="举报", confidential=False)
    assert needs_confirmation(kind="投诉", confidential=True)
    assert not needs_confirmation(kind="投诉", confidential=False)


def test_an_unconfirmed_proposal_never_reaches_a_unit() -> None:
    # A ticket dispatched before the rule: the unit reads a notice, not the masked proposal.
    assert seen() == (NOT_CONFIRMED, NOT_CONFIRMED)
    assert seen(kind="投诉") == (NOT_CONFIRMED, NOT_CONFIRMED)


def test_a_confirmed_text_is_read_exactly_as_confirmed() -> None:
    got = seen(confirmed=True, dispatch_title="举报工作人员", dispatch_text="群众举报，请核查。")
    assert got == ("举报工作人员", "群众举报，请核查。")


def test_other_tickets_read_the_masked_text_as_before() -> None:
    title, text = seen(kind="投诉", confidential=False, dispatch_title=None, dispatch_text=None)
    assert "李建国" not in title and "13973112345" not in text and "【来电人】" in text
