"""The unit hierarchy's words: who among the units may act, and a 下派's stages (pure).

A ticket has one responsible unit (主办) for the citizen and the centre. Assisting units
(协办) give their opinion on their own clock; the responsible unit may pass the ticket down
(下派) to one of its descendants, which signs, handles and answers upward for review.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Party(StrEnum):
    """Which unit's part an action is: the unit link role that may take it."""

    LEAD = "lead"  # the responsible unit (主办)
    ASSIST = "assist"  # an assisting unit (协办)
    SUB = "sub"  # the descendant holding a 下派


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
