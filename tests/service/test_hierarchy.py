"""The unit hierarchy: assisting units give opinions on their own clock; a street passes a
ticket down to a community (下派) and stays the responsible unit."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.models import TicketClock, TicketUnit
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as svc
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import act, at, make


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    accounts = [
        ("op", "operator", None),
        ("zjj", "unit", "ZJJ"),
        ("sjj", "unit", "SJJ"),
        ("rsj", "unit", "RSJ"),
        ("hanpu", "unit", "HANPU"),
        ("xtp", "unit", "HANPU_XTP"),
        ("fxy", "unit", "HANPU_FXY"),
        ("xt", "unit", "YANGHU_XT"),
    ]
    return await make_people(deployment, accounts)


async def _visible(number: str, who: Any) -> bool:
    try:
        await svc.visible_ticket(number=number, principal=who)
    except HotlineError:
        return False
    return True


async def test_assisting_units_get_their_own_clock_and_opinion(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(
        deployment,
        people,
        n,
        "dispatch",
        "op",
        at("2026-11-02T09:00"),
        lead_unit="ZJJ",
        assisting_units=["SJJ", "RSJ"],
    )
    links = {
        link.unit_id: link
        for link in await TicketUnit.filter(ticket__number=n, role="assist", active=True)
    }
    assert len(links) == 2
    # 3 working days from Monday 2 Nov: the end of Thursday 5 Nov.
    for link in links.values():
        assert link.due_at is not None
        assert link.due_at.astimezone(at("2026-11-02T00:00").tzinfo) == at("2026-11-06T00:00")
    await act(
        deployment,
        people,
        n,
        "assist-opinion",
        "sjj",
        at("2026-11-03T10:00"),
        text="经核查，该商户证照齐全，已责令整改。",
        done=True,
    )
    # The lead unit may not give an assisting opinion on its own ticket.
    with pytest.raises(HotlineError) as refused:
        await act(
            deployment,
            people,
            n,
            "assist-opinion",
            "zjj",
            at("2026-11-03T10:00"),
            text="主办单位自己的意见",
            done=False,
        )
    assert refused.value.status == 403
    ticket = await svc.visible_ticket(number=n, principal=people["zjj"])
    from hotline.services.units import unit_directory
    from hotline.web.presenters import ticket_out

    out = ticket_out(svc.record_of(ticket), viewer=people["zjj"], units=await unit_directory())
    given = {a.unit.code: a for a in out.assists}
    assert given["SJJ"].answered_at and given["SJJ"].on_time and given["SJJ"].done
    assert given["RSJ"].answered_at is None
    # The assisting unit sees its own action and none of the lead's.
    sjj_view = ticket_out(
        svc.record_of(await svc.visible_ticket(number=n, principal=people["sjj"])),
        viewer=people["sjj"],
        units=await unit_directory(),
    )
    assert sjj_view.allowed_actions == ["assist-opinion"]


async def test_a_street_passes_a_ticket_down_and_reviews_the_answer(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="HANPU")
    assert not await _visible(n, people["xtp"])
    # Not before signing, and only to its own descendants.
    with pytest.raises(HotlineError) as early:
        await act(
            deployment, people, n, "subdispatch", "hanpu", at("2026-11-02T09:10"), unit="HANPU_XTP"
        )
    assert early.value.status == 409
    await act(deployment, people, n, "sign", "hanpu", at("2026-11-02T09:30"))
    with pytest.raises(HotlineError) as stranger:
        await act(
            deployment, people, n, "subdispatch", "hanpu", at("2026-11-02T09:40"), unit="YANGHU_XT"
        )
    assert stranger.value.status == 422 and "学堂坡社区" in stranger.value.message
    # A limit beyond the street's own feedback deadline is refused, saying so.
    with pytest.raises(HotlineError) as too_long:
        await act(
            deployment,
            people,
            n,
            "subdispatch",
            "hanpu",
            at("2026-11-02T09:40"),
            unit="HANPU_XTP",
            limit="30wd",
        )
    assert too_long.value.code == "subdispatch_limit_too_long"
    feedback_before = await TicketClock.get(ticket__number=n, kind="feedback", current=True)
    await act(
        deployment,
        people,
        n,
        "subdispatch",
        "hanpu",
        at("2026-11-02T09:40"),
        unit="HANPU_XTP",
        limit="2wd",
    )
    assert await _visible(n, people["xtp"])
    assert not await _visible(n, people["fxy"])
    # The community learns of it by mail at once, with its own deadline and who reviews.
    from hotline.mail.templates import render_stored
    from hotline.outbox.models import OutboxMessage

    mail = await OutboxMessage.get(transport="mail", reason="subdispatch", ticket_number=n)
    assert "hanpu-xtp@a.gov.example" in mail.to_addrs
    rendered = render_stored(mail.template, mail.params)
    # 2 working days from Monday 09:40: the end of Wednesday.
    assert "下派办理时限：2026-11-05 00:00" in rendered.text
    assert "A3区含浦街道办事处将一件12345工单下派给贵单位" in rendered.text
    # The community signs, answers upward; the street returns it once, then approves.
    await act(deployment, people, n, "sub-sign", "xtp", at("2026-11-02T10:00"))
    with pytest.raises(HotlineError) as not_theirs:
        await act(
            deployment,
            people,
            n,
            "reply",
            "xtp",
            at("2026-11-02T11:00"),
            result="solved",
            text="已上门处理完毕。",
        )
    assert not_theirs.value.status == 403
    await act(
        deployment,
        people,
        n,
        "sub-reply",
        "xtp",
        at("2026-11-03T10:00"),
        result="solved",
        text="社区已上门核实，问题已处理。",
    )
    await act(
        deployment,
        people,
        n,
        "sub-return",
        "hanpu",
        at("2026-11-03T11:00"),
        reason="请补充处理后的照片和居民意见",
    )
    await act(
        deployment,
        people,
        n,
        "sub-reply",
        "xtp",
        at("2026-11-03T15:00"),
        result="solved",
        text="社区已上门核实，问题已处理，居民表示满意。",
    )
    await act(deployment, people, n, "sub-approve", "hanpu", at("2026-11-03T16:00"))
    # Reviewed: the community no longer reads the ticket; its text is the street's draft.
    assert not await _visible(n, people["xtp"])
    ticket = await svc.visible_ticket(number=n, principal=people["hanpu"])
    from hotline.services.units import unit_directory
    from hotline.web.presenters import ticket_out

    out = ticket_out(svc.record_of(ticket), viewer=people["hanpu"], units=await unit_directory())
    assert out.reply_draft == "社区已上门核实，问题已处理，居民表示满意。"
    assert out.status == "handling" and out.lead_unit and out.lead_unit.code == "HANPU"
    # The street's clocks are unchanged by the 下派.
    feedback_after = await TicketClock.get(ticket__number=n, kind="feedback", current=True)
    assert feedback_after.id == feedback_before.id
    assert feedback_after.due_at == feedback_before.due_at
    await act(
        deployment,
        people,
        n,
        "reply",
        "hanpu",
        at("2026-11-03T17:00"),
        result="solved",
        text=out.reply_draft,
    )
    link = await TicketUnit.get(ticket__number=n, role="sub")
    assert link.state == "adopted" and not link.active


# ---- fair attribution ----------------------------------------------------------------


async def test_after_redispatch_the_new_unit_is_not_born_overdue(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    """A month lost to a wrong dispatch is the centre's: the new unit starts its own clocks."""
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="RSJ")
    await act(
        deployment, people, n, "reject", "rsj", at("2026-11-02T10:00"), reason="不属于本单位职责"
    )
    await act(deployment, people, n, "redispatch", "op", at("2026-12-02T09:00"), lead_unit="ZJJ")
    rows = {
        c.kind: c for c in await TicketClock.filter(ticket__number=n, current=True, is_open=True)
    }
    assert rows["receipt"].started_at == at("2026-12-02T09:00")
    assert rows["feedback"].started_at == at("2026-12-02T09:00")
    assert rows["feedback"].due_at > at("2026-12-02T09:00")  # not 「已超期」 on arrival


async def test_a_disputed_ticket_is_never_charged_to_the_unit_that_disputed(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    from hotline.services.overdue import overdue_summary

    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="RSJ")
    await act(
        deployment, people, n, "reject", "rsj", at("2026-11-02T10:00"), reason="不属于本单位职责"
    )
    # Weeks later, still not re-dispatched: overdue, but on the centre's side.
    report = await overdue_summary(now=at("2026-12-01T09:00"))
    owners: dict[str, list[str]] = {}
    for t in report["tickets"]:
        owners.setdefault(t["unit"], []).append(t["number"])
    assert "CENTRE" in [u["unit"] for u in report["units"]]
    assert n in owners.get("CENTRE", [])
    assert n not in owners.get("RSJ", [])
    with pytest.raises(HotlineError) as urged:
        await act(deployment, people, n, "urge", "op", at("2026-12-01T09:00"), reason="市民催促")
    assert urged.value.status == 409


async def test_a_report_is_never_passed_down_to_the_unit_it_names(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    from hotline.domain.models import User
    from hotline.services.users import create_user, principal_of

    await create_user(
        username="sup", role="supervisor", password="secret-password", now=at("2026-11-01T09:00")
    )
    people["sup"] = principal_of(await User.get(username="sup").prefetch_related("unit"))
    n = await make(
        deployment,
        people,
        at("2026-11-02T09:00"),
        kind="举报",
        category="城乡建设",
        title="社区工作人员收受好处",
        content="举报A3区含浦街道学堂坡社区居民委员会工作人员在低保审核中收受好处。",
    )
    await act(
        deployment,
        people,
        n,
        "confirm-dispatch-text",
        "op",
        at("2026-11-02T09:05"),
        title="举报社区工作人员违规",
        dispatch_text="群众举报社区工作人员违规，请依法核查。",
    )
    await act(
        deployment,
        people,
        n,
        "dispatch",
        "sup",
        at("2026-11-02T09:10"),
        lead_unit="HANPU",
        avoidance_override="街道纪工委负责核查，已报区纪委同意",
    )
    await act(deployment, people, n, "sign", "hanpu", at("2026-11-02T09:30"))
    with pytest.raises(HotlineError) as refused:
        await act(
            deployment, people, n, "subdispatch", "hanpu", at("2026-11-02T09:40"), unit="HANPU_XTP"
        )
    assert refused.value.code == "reported_unit" and "学堂坡社区" in refused.value.message
    assert not await _visible(n, people["xtp"])
