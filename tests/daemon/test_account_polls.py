"""An ICS account is read by its own poll job at its own interval, never by the Google calendars' poll."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from calmirror.daemon.keys import SCHEDULER
from calmirror.daemon.lifecycle import DaemonOptions
from harness.feeds import FeedServer, feed_server
from tests.daemon.inprocess import serving_app
from tests.daemon.processes import BOB, EmulatorProcess, block_starts
from tests.daemon.test_caldav_process import meeting

pytestmark = pytest.mark.slow

FEED = "school.ics"
EMPTY = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//calmirror//EN\r\nEND:VCALENDAR\r\n"


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server publishing an empty school calendar."""
    async with feed_server() as server:
        server.publish(FEED, EMPTY)
        yield server


async def test_a_feed_is_read_by_its_accounts_own_poll_job(
    emulator_process: EmulatorProcess, feeds: FeedServer
) -> None:
    """The feed reaches bob through job poll-account-3 (every 20 min); the Google poll never asks the feed."""
    extra = {
        "ICS_ACCOUNT_3_URL": feeds.url(FEED),
        "ICS_ACCOUNT_3_POLL_MINUTES": "20",
        "SYNC_FLOW_2_NAME": "school",
        "SYNC_FLOW_2_SOURCE_ACCOUNT_ID": "3",
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_2_TARGET_CALENDAR_ID": "primary",
    }
    async with serving_app(emulator_process, DaemonOptions(), extra) as (app, _):
        scheduler = app[SCHEDULER]
        job = scheduler.get_job("poll-account-3")
        assert job.trigger.interval == timedelta(minutes=20)
        start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        feed = feeds.publish(FEED, meeting(start))
        asked = feed.requests

        await scheduler.get_job("poll").func()  # the Google calendars' poll
        assert feed.requests == asked
        assert await block_starts(emulator_process, BOB) == []

        await job.func()
        assert feed.requests == asked + 1
        assert await block_starts(emulator_process, BOB) == [start]
