"""Push that silently stopped: a poll counts the changes no notification announced, per flow."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from calmirror.daemon.keys import SCHEDULER
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.daemon.pushaudit import GRACE
from tests.daemon.inprocess import serving_app
from tests.daemon.processes import (
    ALICE,
    BOB,
    EmulatorProcess,
    block_starts,
    eventually,
    meeting_body,
    next_hour,
)

pytestmark = pytest.mark.slow

MISSED = "calmirror_push_missed_changes_total"


async def missed(base_url: str) -> float:
    """Return the flow "work"'s calmirror_push_missed_changes_total from the daemon's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/metrics") as resp:
        text = await resp.text()
    values = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == MISSED and s.labels == {"flow": "work"}
    ]
    assert len(values) == 1, text
    return values[0]


async def poll(app: web.Application) -> None:
    """Run the scheduler's poll job now, as its interval would."""
    await app[SCHEDULER].get_job("poll").func()


async def insert_meeting(emulator: EmulatorProcess) -> None:
    """Have alice create a meeting tomorrow."""
    alice = emulator.client(ALICE)
    try:
        await alice.insert_event(ALICE, meeting_body(next_hour()))
    finally:
        await alice.aclose()


async def test_a_change_whose_notification_was_dropped_is_counted_by_the_poll_that_finds_it(
    emulator_process: EmulatorProcess,
) -> None:
    """The channel stays registered but Google sends nothing: the poll mirrors the change and counts it."""
    async with serving_app(emulator_process, DaemonOptions(push_grace=timedelta(0))) as (app, base_url):
        assert await missed(base_url) == 0  # shown before the first miss
        await emulator_process.control("POST", "faults", {"rules": [{"kind": "push_drop"}]})
        await insert_meeting(emulator_process)
        await poll(app)
        assert len(await block_starts(emulator_process, BOB)) == 1  # the poll mirrored it
        assert await missed(base_url) == 1


async def test_a_change_whose_notification_arrived_and_was_read_is_not_missed(
    emulator_process: EmulatorProcess,
) -> None:
    """Push works: the webhook run reads the change, so the poll finds nothing new and counts nothing."""
    async with serving_app(emulator_process, DaemonOptions(push_grace=timedelta(0))) as (app, base_url):
        await insert_meeting(emulator_process)

        async def mirrored() -> bool:
            return len(await block_starts(emulator_process, BOB)) == 1

        await eventually(mirrored, 15, "the webhook mirrored the meeting")
        await poll(app)
        assert await missed(base_url) == 0


async def test_a_change_younger_than_the_grace_is_not_counted_its_notification_may_be_on_its_way(
    emulator_process: EmulatorProcess,
) -> None:
    """A change made just before the poll: its missing notification may only be late, so it is not counted."""
    async with serving_app(emulator_process, DaemonOptions(push_grace=GRACE)) as (app, base_url):
        await emulator_process.control("POST", "faults", {"rules": [{"kind": "push_drop"}]})
        await insert_meeting(emulator_process)
        await poll(app)
        assert len(await block_starts(emulator_process, BOB)) == 1
        assert await missed(base_url) == 0


async def test_a_change_whose_notification_arrives_while_the_poll_reads_it_is_not_missed(
    emulator_process: EmulatorProcess,
) -> None:
    """The poll's read is slow and the notification comes during it: the change was announced after all."""
    async with serving_app(emulator_process, DaemonOptions(push_grace=timedelta(0))) as (app, base_url):
        rules = [
            {"kind": "push_delay", "seconds": 1.0, "times": 1},
            {
                "kind": "latency",
                "seconds": 3.0,
                "methods": ["calendar.events.list"],
                "accounts": [ALICE],
                "times": 1,
            },
        ]
        await emulator_process.control("POST", "faults", {"rules": rules})
        await insert_meeting(emulator_process)
        await poll(app)
        fired = await emulator_process.control("GET", "faults")
        assert all(rule["fired"] == 1 for rule in fired["rules"]), fired
        assert len(await block_starts(emulator_process, BOB)) == 1
        assert await missed(base_url) == 0
