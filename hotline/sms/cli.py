"""`python main.py sms send | list | requeue`: the SMS outbox from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from hotline.config import Settings
from hotline.privacy import mask_phone

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
    from hotline.sms.gateways import gateway_for
    from hotline.sms.sender import deliver_sms_due
    from hotline.timefmt import utcnow

    gateway = gateway_for(settings.sms, deployment.sms)
    try:
        report = await deliver_sms_due(gateway=gateway, now=utcnow())
    finally:
        await gateway.close()
    print(
        f"短信网关 {gateway.name}：发送 {len(report.sent)} 条，稍后重试 {len(report.retrying)} 条，"
        f"失败 {len(report.failed)} 条"
    )
    if report.aborted:
        print(f"本轮中止：{report.aborted}（其余 {report.deferred} 条稍后再发）", file=sys.stderr)
    return report.aborted is None


async def _list(status: str | None, limit: int) -> None:
    """The newest messages, phone numbers masked, with the backlog first."""
    from hotline.sms.backlog import sms_backlog
    from hotline.sms.models import OutboxSms
    from hotline.timefmt import local_text, utcnow

    backlog = await sms_backlog(now=utcnow())
    oldest = f"，最早一条已等待{backlog.oldest_text}" if backlog.pending else ""
    print(f"待发送 {backlog.pending} 条{oldest}；发送失败 {backlog.failed} 条")
    query = OutboxSms.all() if status is None else OutboxSms.filter(status=status)
    for row in await query.order_by("-id").limit(max(1, limit)):
        error = f"  {row.last_error}" if row.last_error else ""
        ticket = row.ticket_number or "-"
        print(
            f"#{row.id} {row.status} {mask_phone(row.phone)} {row.template} 工单{ticket} "
            f"尝试{row.attempts}次 {local_text(row.created_at)}{error}"
        )


async def _requeue(every: bool, row_id: int | None) -> bool:
    """Requeue every failed message, or one by id; False when there was no such one."""
    from hotline.sms.sender import requeue_failed_sms, requeue_sms
    from hotline.timefmt import utcnow

    if every:
        count = await requeue_failed_sms(now=utcnow())
        print(f"已将 {count} 条发送失败的短信重新排队" if count else "没有发送失败的短信")
        return True
    if row_id is not None and await requeue_sms(row_id, now=utcnow()):
        print(f"已将短信 {row_id} 重新排队")
        return True
    print(f"没有编号为 {row_id} 的发送失败短信", file=sys.stderr)
    return False
