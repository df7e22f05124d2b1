"""Once-a-day jobs shared by every worker: a claim committed before the work, bounded retries.

The claim (`JobRun` row for the job and the local day) is its own short statement, apart from
the job's reading and writing. So a job that fails does not roll its claim back and get
started again by every worker at every sweep: the failure is recorded on the row, and the
job is claimed again only after `RETRY_AFTER`, at most `MAX_ATTEMPTS` times a day. A worker
that dies mid-job is covered the same way (its claim ages past `RETRY_AFTER`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from hotline.domain.models import JobRun

log = logging.getLogger("hotline.jobs")

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=10)


async def claim_daily(name: str, *, day: str, now: datetime) -> JobRun | None:
    """This worker's claim on today's run of `name`, or None (done, running, or given up)."""
    try:
        return await JobRun.create(name=name, day=day, created_at=now, attempted_at=now)
    except IntegrityError:
        pass  # claimed before: maybe a failed attempt that may be retried
    row = await JobRun.filter(name=name, day=day).first()
    if row is None or row.finished_at is not None or row.attempts >= MAX_ATTEMPTS:
        return None
    if row.attempted_at is not None and now - row.attempted_at < RETRY_AFTER:
        return None  # another worker is at it, or failed moments ago
    # Conditional on the attempt count read: of two workers retrying at once, one wins.
    taken = await JobRun.filter(id=row.id, attempts=row.attempts, finished_at=None).update(
        attempts=row.attempts + 1, attempted_at=now
    )
    if taken != 1:
        return None
    row.attempts += 1
    row.attempted_at = now
    log.warning("重新执行每日任务 %s（%s，第 %d 次）", name, day, row.attempts)
    return row


async def finish_daily(run: JobRun, *, now: datetime, using_db: object = None) -> None:
    """Mark the claimed run done (pass the job's transaction so it commits with its output)."""
    await JobRun.filter(id=run.id).using_db(using_db).update(finished_at=now, error="")


async def fail_daily(run: JobRun, error: BaseException) -> None:
    """Record why the claimed run failed; it is retried after RETRY_AFTER while attempts last."""
    text = f"{type(error).__name__}: {error}"[:500]
    await JobRun.filter(id=run.id).update(error=text)
    if run.attempts >= MAX_ATTEMPTS:
        log.error(
            "每日任务 %s（%s）已失败 %d 次，今天不再重试：%s", run.name, run.day, run.attempts, text
        )
