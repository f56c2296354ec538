"""The daemon's scheduled jobs: the interval polls, the daily full reconcile and channel renewal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, time

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

Job = Callable[[], Awaitable[None]]

# A late run is still worth doing; a second one queued behind it is not (coalesce, max_instances).
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


@dataclass(frozen=True)
class AccountPoll:
    """The poll of one account that has no push (CalDAV, ICS): its own interval, its own calendars."""

    account_id: int
    minutes: int
    run: Job

    @property
    def job_id(self) -> str:
        """Return the scheduler's id of this poll."""
        return f"poll-account-{self.account_id}"


def build_scheduler(
    *,
    poll_minutes: int,
    poll: Job,
    daily_at: time,
    daily: Job,
    renew: Job | None = None,
    renew_seconds: float = 300.0,
    account_polls: Sequence[AccountPoll] = (),
) -> AsyncIOScheduler:
    """Return a scheduler (not started): the polls, the daily reconcile at `daily_at` UTC and renewal.

    `poll` reads the calendars of push-capable accounts every `poll_minutes`; each account without push
    is read by its own job at its own interval.
    """
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(poll, IntervalTrigger(minutes=poll_minutes, timezone=UTC), id="poll")
    for account_poll in account_polls:
        trigger = IntervalTrigger(minutes=account_poll.minutes, timezone=UTC)
        scheduler.add_job(account_poll.run, trigger, id=account_poll.job_id)
    scheduler.add_job(
        daily,
        CronTrigger(hour=daily_at.hour, minute=daily_at.minute, timezone=UTC),
        id="daily",
        misfire_grace_time=3600,
    )
    if renew is not None:
        scheduler.add_job(renew, IntervalTrigger(seconds=renew_seconds, timezone=UTC), id="renew")
    return scheduler
