"""What a unit's worklist reads from its own link rows (`ticket_unit`), defined once.

A unit's workbench and its `GET /api/v1/tickets` list read only the unit's links: each link
carries a copy of what the lists select and sort on — the ticket's status, its next due
time, when it was received — and three marks derived from the ticket's events. The copy
is rewritten from the ticket and its events after every action (hotline.services.worklist),
so it can always be recomputed; `marks_of` is that recomputation for the marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.domain.lifecycle import Action

# The centre's answer to a unit's extension or pause request (the unit's 申请已答复 group).
ANSWERS = (
    Action.APPROVE_EXTENSION,
    Action.REFUSE_EXTENSION,
    Action.APPROVE_PAUSE,
    Action.DENY_PAUSE,
)
# A new request makes the previous answer stale.
REQUESTS = (Action.REQUEST_EXTENSION, Action.PAUSE)
# 重办 by the centre, or an answer returned by reply review (the 重办退回 group).
REDO = (Action.REOPEN, Action.RETURN_REPLY)
# Every action whose event changes a mark.
MARK_ACTIONS: tuple[str, ...] = tuple(
    a.value for a in (*ANSWERS, *REQUESTS, *REDO, Action.SUPERVISE)
)


@dataclass(frozen=True)
class Marks:
    """A ticket's marks as its unit links carry them."""

    supervised: bool = False  # 督办 at least once
    reopened: bool = False  # 重办 or an answer returned, at least once
    answered: bool = False  # the latest extension/pause request has the centre's answer

    def columns(self) -> dict[str, bool]:
        return {"supervised": self.supervised, "reopened": self.reopened, "answered": self.answered}


def marks_of(actions: Iterable[str], start: Marks = Marks()) -> Marks:
    """The marks of a ticket from its events' actions, oldest first (from `start`: the
    marks before these events)."""
    supervised, reopened, answered = start.supervised, start.reopened, start.answered
    answers = {a.value for a in ANSWERS}
    requests = {a.value for a in REQUESTS}
    redo = {a.value for a in REDO}
    for action in actions:
        if action == Action.SUPERVISE.value:
            supervised = True
        elif action in redo:
            reopened = True
        elif action in answers:
            answered = True
        elif action in requests:
            answered = False
    return Marks(supervised=supervised, reopened=reopened, answered=answered)
