"""The unit hierarchy's words: who among the units may act, and a 下派's stages (pure).

A ticket has one responsible unit (主办) for the citizen and the centre. Assisting units
(协办) give their opinion on their own clock; the responsible unit may pass the ticket down
(下派) to one of its descendants, which signs, handles and answers upward for review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Party(StrEnum):
    """Which unit's part an action is: the unit link role that may take it."""

    LEAD = "lead"  # the responsible unit (主办)
    ASSIST = "assist"  # an assisting unit (协办)
    SUB = "sub"  # the descendant holding a 下派
    # Who may pass the ticket down and review what comes back up: the responsible unit, or
    # a descendant holding a signed 下派 (街道 → 社区, one level further). Not a link role.
    PARENT = "parent"


class SubState(StrEnum):
    """Where a 下派 stands; NONE: the ticket has no open 下派."""

    NONE = "none"
    DISPATCHED = "dispatched"  # passed down, not yet signed for
    HANDLING = "handling"  # signed for (or returned) and being handled below
    REPLIED = "replied"  # answered upward, waiting for the parent's review
    APPROVED = "approved"  # accepted: its text is the parent's reply draft
    ADOPTED = "adopted"  # the parent replied after approving it
    WITHDRAWN = "withdrawn"  # the ticket left the parent before the 下派 was finished


SUB_STATE_LABELS: dict[SubState, str] = {
    SubState.NONE: "未下派",
    SubState.DISPATCHED: "待下级签收",
    SubState.HANDLING: "下级办理中",
    SubState.REPLIED: "下级已答复，待审核",
    SubState.APPROVED: "已审核通过",
    SubState.ADOPTED: "已采用",
    SubState.WITHDRAWN: "已收回",
}
# Stages in which the descendant holds the ticket (and may read it).
OPEN_SUB_STATES: frozenset[SubState] = frozenset(
    {SubState.DISPATCHED, SubState.HANDLING, SubState.REPLIED}
)


def is_descendant(code: str, ancestor: str, parents: Mapping[str, str]) -> bool:
    """Whether unit `code` sits below `ancestor` in the parent chain (not itself)."""
    seen: set[str] = set()
    current = parents.get(code, "")
    while current and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = parents.get(current, "")
    return False


def descendants(ancestor: str, parents: Mapping[str, str]) -> list[str]:
    """Every unit below `ancestor`, in code order."""
    return sorted(c for c in parents if is_descendant(c, ancestor, parents))


class UnitLink(Protocol):
    """What these rules read of a ticket's unit link (hotline.domain.models.TicketUnit)."""

    unit_id: int
    role: str
    active: bool
    state: str
    parent_unit_id: int | None
    due_at: datetime | None


def open_subdispatch(
    links: Sequence[UnitLink], *, unit_id: int | None = None, parent_id: int | None = None
) -> UnitLink | None:
    """A 下派 still held below (passed down, handled or awaiting review): the one `unit_id`
    holds, or the one `parent_id` passed down (either: the ticket's first open one)."""
    return next(
        (
            link
            for link in links
            if link.role == "sub"
            and link.active
            and link.state in OPEN_SUB_STATES
            and (unit_id is None or link.unit_id == unit_id)
            and (parent_id is None or link.parent_unit_id == parent_id)
        ),
        None,
    )


def sub_stages(links: Sequence[UnitLink], unit_id: int | None) -> tuple[SubState, SubState]:
    """For a unit: the stage of the 下派 it holds and of the one it passed down (NONE when
    there is none). A street holding a 下派 from its district may pass it to a community."""
    if unit_id is None:
        return SubState.NONE, SubState.NONE
    own = open_subdispatch(links, unit_id=unit_id)
    below = open_subdispatch(links, parent_id=unit_id)
    return (
        SubState(own.state) if own is not None else SubState.NONE,
        SubState(below.state) if below is not None else SubState.NONE,
    )


def may_pass_down(
    links: Sequence[UnitLink], *, unit_id: int | None, lead_unit_id: int | None
) -> bool:
    """The responsible unit, or a descendant that signed for its 下派 and holds it (handling)."""
    if unit_id is None:
        return False
    if unit_id == lead_unit_id:
        return True
    own = open_subdispatch(links, unit_id=unit_id)
    return own is not None and own.state == SubState.HANDLING.value
