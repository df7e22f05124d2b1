"""`python main.py sms send | list | requeue`: the SMS outbox from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from hotline.privacy.rules import mask_phone
from hotline.runtime.config import Settings

Runner = Callable[..., Any]
EXIT_USAGE = 2
USAGE = (
    "用法：python main.py sms send | list [--status S] [--limit N] | requeue --failed | requeue ID"
)


def sms_command(settings: Settings, args: argparse.Namespace, run: Runner) -> int:
    """Run one `sms` sub-command through the CLI's runner (data loaded, database open)."""
    command = args.sms_command
    if command == "send":
        return 0 if run(settings, lambda d: _send(settings, d), with_model=False) else 1
    if command == "list":
        run(settings, lambda d: _list(args.status, args.limit), with_model=False)
        return 0
    if command == "requeue" and args.failed != (args.id is not None):
        return 0 if run(settings, lambda d: _requeue(args.failed, args.id), with_model=False) else 1
    print(USAGE, file=sys.stderr)
    return EXIT_USAGE


async def _send(settings: Settings, deployment: Any) -> bool:
    """One delivery round now; False when the gateway stopped the round."""
    from hotline.domain.timefmt import utcnow
    from hotline.outbox.delivery import deliver_due
    from hotline.sms.transport import build

    transport = build(settings, deployment)
    try:
        report = await deliver_due(transport, now=utcnow())
    finally:
        await transport.close()
    print(
        f"短信网关 {transport.gateway.name}：发送 {len(report.sent)} 条，"
        f"稍后重试 {len(report.retrying)} 条，失败 {len(report.failed)} 条"
    )
    if report.aborted:
        print(f"本轮中止：{report.aborted}（其余 {report.deferred} 条稍后再发）", file=sys.stderr)
    return report.aborted is None


async def _list(status: str | None, limit: int) -> None:
    """The newest messages, phone numbers masked, with the backlog first."""
    from hotline.domain.timefmt import local_text
    from hotline.outbox.cli import print_status
    from hotline.outbox.models import OutboxMessage

    await print_status("sms")
    query = OutboxMessage.filter(transport="sms")
    if status is not None:
        query = query.filter(status=status)
    for row in await query.order_by("-id").limit(max(1, limit)):
        error = f"  {row.last_error}" if row.last_error else ""
        ticket = row.ticket_number or "-"
        print(
            f"#{row.id} {row.status} {mask_phone(row.phone)} {row.template} 工单{ticket} "
            f"尝试{row.attempts}次 {local_text(row.created_at)}{error}"
        )


async def _requeue(every: bool, row_id: int | None) -> bool:
    """Requeue every failed message, or one by id; False when there was no such one."""
    from hotline.outbox.cli import requeue_command

    return await requeue_command("sms", every=every, row_id=row_id)
