"""One calendar's listing and writes at the same time: no write's record is lost to the listing."""

from __future__ import annotations

import asyncio

from calmirror.caldav import CalDavProvider
from calmirror.engine.provider import Create, Remove
from harness.caldav_servers import get_object
from harness.davproxy import DavProxy, Fault
from tests.caldav.helpers import DECEMBER, block_spec


async def test_a_write_during_a_listing_is_remembered(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5)
    gate = asyncio.Event()
    # The listing's query is answered by the server before the write, then held back until the write ran.
    proxy.inject(Fault(method="REPORT", report="calendar-query", forward=True, gate=gate))
    listing = asyncio.create_task(provider.list_window(calendar, DECEMBER))
    deadline = asyncio.get_running_loop().time() + 10
    while proxy.count("REPORT", "calendar-query") == 0:  # the query was answered by the server
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    write = asyncio.create_task(provider.write_blocks(calendar, [Create(spec)]))
    # Without a per-calendar lock the write finishes while the listing waits; with it, the write waits
    # for the listing and nothing can be observed of it, so this wait is bounded, not a condition.
    await asyncio.wait({write}, timeout=2.0)
    gate.set()
    await listing
    [created] = await write
    assert created.error is None

    [removed] = await provider.write_blocks(calendar, [Remove(spec.id)])

    assert removed.error is None  # the listing did not forget the ETag the create recorded
    assert await get_object(calendar + f"{spec.id}.ics") is None
