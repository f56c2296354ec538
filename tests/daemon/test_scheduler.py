"""The daemon's jobs: when the poll and the daily reconcile come; a slow job never overlaps itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from calmirror.daemon.scheduler import AccountPoll, build_scheduler


async def nothing() -> None:
    """A job that does nothing."""


async def test_poll_and_daily_reconcile_are_scheduled_in_utc() -> None:
    """The poll comes every SYNC_INTERVAL_MINUTES; the daily reconcile at DAILY_RECONCILE_TIME in UTC."""
    scheduler = build_scheduler(poll_minutes=45, poll=nothing, daily_at=time(6, 30), daily=nothing)
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        poll, daily = scheduler.get_job("poll"), scheduler.get_job("daily")
        assert abs(poll.next_run_time - (now + timedelta(minutes=45))) < timedelta(seconds=5)
        first_daily = daily.next_run_time.astimezone(UTC)
        assert (first_daily.hour, first_daily.minute) == (6, 30)
        assert now < first_daily <= now + timedelta(days=1)
        assert (poll.coalesce, poll.max_instances) == (True, 1)
    finally:
        scheduler.shutdown(wait=False)


async def test_each_account_without_push_is_polled_at_its_own_interval() -> None:
    """A CalDAV or ICS account's calendars are read by a job of its own, every POLL_MINUTES."""
    polls = [AccountPoll(3, 5, nothing), AccountPoll(4, 15, nothing)]
    scheduler = build_scheduler(
        poll_minutes=60, poll=nothing, daily_at=time(6), daily=nothing, account_polls=polls
    )
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        for job_id, minutes in (("poll-account-3", 5), ("poll-account-4", 15), ("poll", 60)):
            job = scheduler.get_job(job_id)
            assert abs(job.next_run_time - (now + timedelta(minutes=minutes))) < timedelta(seconds=5)
            assert (job.coalesce, job.max_instances) == (True, 1)
    finally:
        scheduler.shutdown(wait=False)


async def test_a_job_still_running_is_not_started_again() -> None:
    """A renewal that outlasts its interval runs once at a time: the missed turns are skipped."""
    running, most, runs = 0, 0, 0

    async def slow() -> None:
        nonlocal running, most, runs
        running, runs = running + 1, runs + 1
        most = max(most, running)
        await asyncio.sleep(0.3)
        running -= 1

    scheduler = build_scheduler(
        poll_minutes=60, poll=nothing, daily_at=time(6), daily=nothing, renew=slow, renew_seconds=0.05
    )
    scheduler.start()
    try:
        await asyncio.sleep(0.8)
    finally:
        scheduler.shutdown(wait=False)

    assert runs >= 2  # it does run on its interval
    assert most == 1
