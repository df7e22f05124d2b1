"""A partial index whose WHERE is SQL text both databases read alike (tortoise's own
`PartialIndex` only writes `column = value` terms, and the sweeper's needs a `<>`)."""

from __future__ import annotations

from typing import Any

from tortoise.indexes import Index

# The running clocks not yet escalated. `true`/`false` are keywords on PostgreSQL and on
# SQLite ≥ 3.23 alike, so one text serves both; the sweeper's queries repeat it literally
# (`hotline.services.sweeper.RUNNING`), which is how both planners prove the index applies.
NOT_BREACHED = "is_open = true AND breached = false AND state <> 'paused'"
NOT_WARNED = "is_open = true AND warned = false AND state <> 'paused'"
# Clocks still open (a few percent of history): the digest reads them a range of ids at a time.
OPEN_CLOCK = "is_open = true"
# Tickets with a running clock (closed ones have none): `next_due_at < ?` implies it.
OVERDUE_CANDIDATES = "next_due_at IS NOT NULL"
# A unit's current links (the worklist's; hotline.services.worklist repeats the text), and
# those of them carrying a mark: a query naming one mark (`supervised = true`) implies it.
WORK_LINK = "active = true"
MARKED_LINK = "active = true AND (supervised = true OR reopened = true OR answered = true)"
# 下派 answered upward and waiting for the parent's review (a lead unit's 待审核 group): few.
SUB_REPLIED = "role = 'sub' AND state = 'replied' AND active = true"

# The rate rows that can be late at some cut-off (hotline.services.rate_daily repeats them).
UNSIGNED_DUE = "unsigned_due_at IS NOT NULL"
UNREPLIED_DUE = "unreplied_due_at IS NOT NULL"


class WhereIndex(Index):
    """An index over `fields` of the rows matching `where` (SQL text)."""

    def __init__(
        self,
        *expressions: Any,
        fields: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
        where: str = "",
    ) -> None:
        super().__init__(*expressions, fields=fields, name=name)
        self.where = where
        self.extra = f" WHERE {where}" if where else ""

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        """What a migration writes to build the same index."""
        path, args, kwargs = super().deconstruct()
        if self.where:
            kwargs["where"] = self.where
        return path, args, kwargs
