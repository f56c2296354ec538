"""The event loop keeps serving while Google calls are in flight on the client's worker threads."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient

LIST = "calendar.calendarList.list"


@asynccontextmanager
async def ticking() -> AsyncIterator[list[float]]:
    """Tick every 50 ms while the block runs; yield the tick times."""
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    task = asyncio.create_task(ticker())
    try:
        yield ticks
    finally:
        task.cancel()


def assert_on_time(ticks: list[float]) -> None:
    """Fail unless the ticker ran through one second without a stall."""
    assert len(ticks) >= 15
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.3


async def test_loop_serves_during_a_slow_call(emulator: Emulator, alice: CalendarClient) -> None:
    """A one-second call leaves the loop free: a ticker ticks on time and a second call finishes first."""
    await alice.list_calendars()  # token and service ready, so only the slow call is slow
    emulator.faults.add({"kind": "latency", "methods": [LIST], "seconds": 1.0, "times": 1})
    finished: list[str] = []

    async def call(name: str) -> None:
        await alice.list_calendars()
        finished.append(name)

    async with ticking() as ticks:
        slow = asyncio.create_task(call("slow"))
        await asyncio.sleep(0.1)  # the slow call is now held by the emulator
        await call("quick")
        await slow

    assert finished == ["quick", "slow"]
    assert_on_time(ticks)


async def test_loop_serves_during_a_slow_token_refresh(emulator: Emulator, alice: CalendarClient) -> None:
    """A first call whose token fetch takes a second (service build included) leaves the loop free."""
    emulator.faults.add({"kind": "latency", "methods": ["oauth2.token"], "seconds": 1.0, "times": 1})

    async with ticking() as ticks:
        await alice.list_calendars()

    assert len(emulator.requests.calls_of("oauth2.token")) == 1
    assert_on_time(ticks)
