"""The per-account quota limiter: sliding windows of quota units, waiting without blocking the loop."""

from __future__ import annotations

import asyncio
import time

from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient
from calmirror.google.quota import DEFAULT_LIMITS, QuotaLimiter, units_for
from calmirror.google.writes import Insert
from tests.google.conftest import MakeClient
from tests.google.helpers import ALICE, block, event_ids


def test_units_and_defaults() -> None:
    """Units (docs/design.md §7.3): writes 3, delete 2, the rest 1; limits default to 100/s and 1500/min."""
    calls = ["calendar.events." + m for m in ("insert", "update", "patch", "delete", "list", "get", "watch")]
    assert [units_for(m) for m in calls] == [3, 3, 3, 2, 1, 1, 1]
    assert DEFAULT_LIMITS == ((1.0, 100), (60.0, 1500))


async def test_acquire_waits_for_the_window() -> None:
    """Units that do not fit wait until the oldest spend leaves the window; those that fit do not wait."""
    limiter = QuotaLimiter(((0.3, 10),))

    assert await limiter.acquire(6) == 0.0
    assert await limiter.acquire(4) == 0.0
    started = time.monotonic()
    await limiter.acquire(3)

    assert 0.25 <= time.monotonic() - started < 0.6
    assert limiter.spent(0.3) == 3


async def test_oversized_spend_waits_for_an_empty_window() -> None:
    """A spend larger than the limit (a batch of 50 inserts) goes through once the window is empty."""
    limiter = QuotaLimiter(((0.2, 10),))
    await limiter.acquire(1)
    started = time.monotonic()

    await limiter.acquire(150)

    assert time.monotonic() - started >= 0.15
    assert limiter.spent(0.2) == 150


async def test_waiting_for_quota_leaves_the_loop_free() -> None:
    """While a spend waits for quota, other coroutines keep running."""
    limiter = QuotaLimiter(((0.3, 5),))
    await limiter.acquire(5)
    waiting = asyncio.create_task(limiter.acquire(5))
    await asyncio.sleep(0.05)

    assert not waiting.done()
    assert await waiting > 0


async def test_client_spends_units_like_google_counts_them(
    emulator: Emulator, make_client: MakeClient
) -> None:
    """The client's limiter is charged exactly the units the emulator accounts for the same calls."""
    limiter = QuotaLimiter(((1.0, 10_000), (60.0, 10_000)))
    client: CalendarClient = make_client(limiter=limiter)

    await client.apply_writes([Insert(ALICE, block(i, minute=n)) for n, i in enumerate(event_ids(60))])
    await client.list_events(ALICE)

    emulator_units = sum(emulator.requests.stats()["quota_units"][ALICE].values())
    assert emulator_units == 60 * 3 + 1
    assert limiter.spent(60.0) == emulator_units
