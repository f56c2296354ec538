"""The daemon's scheduled jobs: the interval poll, the daily full reconcile and channel renewal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, time

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

Job = Callable[[], Awaitable[None]]

# A late run is still worth doing; a second one queued behind it is not (coalesce, max_instances).
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def build_scheduler(
    *,
    poll_minutes: int,
    poll: Job,
    daily_at: time,
    daily: Job,
    renew: Job | None = None,
    renew_seconds: float = 300.0,
) -> AsyncIOScheduler:
    """Return a scheduler (not started) with the poll, the daily reconcile at `daily_at` UTC and renewal."""
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(poll, IntervalTrigger(minutes=poll_minutes, timezone=UTC), id="poll")
    scheduler.add_job(
        daily,
        CronTrigger(hour=daily_at.hour, minute=daily_at.minute, timezone=UTC),
        id="daily",
        misfire_grace_time=3600,
    )
    if renew is not None:
        scheduler.add_job(renew, IntervalTrigger(seconds=renew_seconds, timezone=UTC), id="renew")
    return scheduler
