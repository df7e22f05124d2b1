"""The outbox on the command line: status and requeue, the same for every transport."""

from __future__ import annotations

import sys

from hotline.domain.timefmt import utcnow
from hotline.outbox.backlog import backlog
from hotline.outbox.delivery import requeue
from hotline.outbox.registry import view


async def print_status(transport: str) -> None:
    """「待发送 N 封，最早一封已等待…；发送失败 M 封」 for `transport`."""
    v = view(transport)
    b = await backlog(transport, now=utcnow())
    oldest = f"，最早一{v.counter}已等待{b.oldest_text}" if b.pending else ""
    print(f"待发送 {b.pending} {v.counter}{oldest}；发送失败 {b.failed} {v.counter}")


async def requeue_command(transport: str, *, every: bool, row_id: int | None) -> bool:
    """Requeue every failed row, or one by id; False when there was no such one."""
    v = view(transport)
    if every:
        count = await requeue(transport, now=utcnow())
        print(
            f"已将 {count} {v.counter}发送失败的{v.label}重新排队"
            if count
            else f"没有发送失败的{v.label}"
        )
        return True
    if row_id is not None and await requeue(transport, now=utcnow(), row_id=row_id) == 1:
        print(f"已将{v.label} {row_id} 重新排队")
        return True
    print(f"没有编号为 {row_id} 的发送失败{v.label}", file=sys.stderr)
    return False
