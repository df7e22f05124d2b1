"""Training rows from the database: the final category of every closed ticket.

Operators correct the category when they dispatch or re-dispatch a ticket (every 退单 and
改派 is a label correction), so a closed ticket's category is the label people settled on.
"""

from __future__ import annotations

from hotline.models import Ticket


async def closed_ticket_rows() -> tuple[list[str], list[str]]:
    """(texts, labels) of closed tickets with a category, oldest first."""
    rows = (
        await Ticket.filter(status="closed", category__isnull=False)
        .exclude(category="")
        .order_by("id")
        .values_list("title", "content", "category")
    )
    texts = [f"{title} {content}" for title, content, _ in rows]
    labels = [str(category) for _, _, category in rows]
    return texts, labels
