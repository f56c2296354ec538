"""The event loop keeps serving while Google calls are in flight on the client's worker threads."""

from __future__ import annotations

import asyncio
import itertools
import time

from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient

LIST = "calendar.calendarList.list"


async def test_loop_serves_during_a_slow_call(emulator: Emulator, alice: CalendarClient) -> None:
    """A one-second call leaves the loop free: a ticker ticks on time and a second call finishes first."""
    await alice.list_calendars()  # token and service ready, so only the slow call is slow
    emulator.faults.add({"kind": "latency", "methods": [LIST], "seconds": 1.0, "times": 1})
    ticks: list[float] = []
    finished: list[str] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def call(name: str) -> None:
        await alice.list_calendars()
        finished.append(name)

    ticking = asyncio.create_task(ticker())
    slow = asyncio.create_task(call("slow"))
    await asyncio.sleep(0.1)  # the slow call is now held by the emulator
    await call("quick")
    await slow
    ticking.cancel()

    assert finished == ["quick", "slow"]
    assert len(ticks) >= 15
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.3
