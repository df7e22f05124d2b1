"""下派 one level further: a street that received a 下派 from its district passes it to a
community with the same rules, reviews the community's answer and answers its district."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.models import TicketUnit
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as svc
from hotline.services.units import unit_directory
from hotline.web.presenters import ticket_out
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import act, at, make


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    accounts = [
        ("op", "operator", None),
        ("a3", "unit", "A3"),
        ("hanpu", "unit", "HANPU"),
        ("xtp", "unit", "HANPU_XTP"),
        ("fxy", "unit", "HANPU_FXY"),
    ]
    return await make_people(deployment, accounts)


async def _visible(number: str, who: Any) -> bool:
    try:
        await svc.visible_ticket(number=number, principal=who)
    except HotlineError:
        return False
    return True


async def _out(number: str, who: Any) -> Any:
    ticket = await svc.visible_ticket(number=number, principal=who)
    return ticket_out(svc.record_of(ticket), viewer=who, units=await unit_directory())


async def _refused(deployment: Deployment, people: dict[str, Any], *args: Any, **body: Any) -> Any:
    with pytest.raises(HotlineError) as refused:
        await act(deployment, people, *args, **body)
    return refused.value


async def test_a_street_passes_its_subdispatch_down_to_a_community(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    p, d = people, deployment
    n = await make(d, p, at("2026-11-02T09:00"), category="城乡建设")
    await act(d, p, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="A3")
    await act(d, p, n, "sign", "a3", at("2026-11-02T09:10"))
    await act(d, p, n, "subdispatch", "a3", at("2026-11-02T09:20"), unit="HANPU", limit="3wd")
    # Not before the street signs for it.
    early = await _refused(
        d, p, n, "subdispatch", "hanpu", at("2026-11-02T09:25"), unit="HANPU_XTP"
    )
    assert early.status == 403 and "已签收下派" in early.message
    await act(d, p, n, "sub-sign", "hanpu", at("2026-11-02T09:30"))
    assert "subdispatch" in (await _out(n, p["hanpu"])).allowed_actions
    # Inside the street's own deadline (3wd from Monday: Thursday 24:00), saying so.
    too_long = await _refused(
        d, p, n, "subdispatch", "hanpu", at("2026-11-02T09:40"), unit="HANPU_XTP", limit="5wd"
    )
    assert too_long.code == "subdispatch_limit_too_long" and "下派办理时限" in too_long.message
    await act(d, p, n, "subdispatch", "hanpu", at("2026-11-02T09:40"), unit="HANPU_XTP")
    below = await TicketUnit.get(ticket__number=n, role="sub", unit__code="HANPU_XTP")
    above = await TicketUnit.get(ticket__number=n, role="sub", unit__code="HANPU")
    assert below.parent_unit_id == above.unit_id and below.due_at == above.due_at
    assert await _visible(n, p["xtp"]) and not await _visible(n, p["fxy"])
    # Only the street reviews its community; the district cannot act on the level below.
    await act(d, p, n, "sub-sign", "xtp", at("2026-11-02T10:00"))
    await act(
        d, p, n, "sub-reply", "xtp", at("2026-11-03T10:00"), result="solved", text="社区已上门。"
    )
    assert (await _refused(d, p, n, "sub-approve", "a3", at("2026-11-03T10:30"))).status == 409
    await act(d, p, n, "sub-return", "hanpu", at("2026-11-03T11:00"), reason="请补充现场照片")
    await act(
        d,
        p,
        n,
        "sub-reply",
        "xtp",
        at("2026-11-03T15:00"),
        result="solved",
        text="社区已上门核实，问题已处理，附现场照片。",
    )
    await act(d, p, n, "sub-approve", "hanpu", at("2026-11-03T16:00"))
    # The approved text is the street's draft answer to its district.
    street = await _out(n, p["hanpu"])
    assert street.reply_draft == "社区已上门核实，问题已处理，附现场照片。"
    assert not await _visible(n, p["xtp"])
    await act(
        d,
        p,
        n,
        "sub-reply",
        "hanpu",
        at("2026-11-03T17:00"),
        result="solved",
        text=street.reply_draft,
    )
    assert (await TicketUnit.get(id=below.id)).state == "adopted"
    await act(d, p, n, "sub-approve", "a3", at("2026-11-04T09:00"))
    district = await _out(n, p["a3"])
    assert district.reply_draft == "社区已上门核实，问题已处理，附现场照片。"
    assert district.subdispatch and district.subdispatch.unit.code == "HANPU"
    await act(
        d, p, n, "reply", "a3", at("2026-11-04T10:00"), result="solved", text=district.reply_draft
    )
    assert (await TicketUnit.get(id=above.id)).state == "adopted"


async def test_a_street_answering_up_withdraws_what_it_passed_down(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    p, d = people, deployment
    n = await make(d, p, at("2026-11-02T09:00"), category="城乡建设")
    await act(d, p, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="A3")
    await act(d, p, n, "sign", "a3", at("2026-11-02T09:10"))
    await act(d, p, n, "subdispatch", "a3", at("2026-11-02T09:20"), unit="HANPU")
    await act(d, p, n, "sub-sign", "hanpu", at("2026-11-02T09:30"))
    await act(d, p, n, "subdispatch", "hanpu", at("2026-11-02T09:40"), unit="HANPU_FXY")
    assert await _visible(n, p["fxy"])
    await act(
        d, p, n, "sub-reply", "hanpu", at("2026-11-02T11:00"), result="solved", text="街道已处理。"
    )
    assert not await _visible(n, p["fxy"])
    link = await TicketUnit.get(ticket__number=n, role="sub", unit__code="HANPU_FXY")
    assert link.state == "withdrawn" and not link.active
