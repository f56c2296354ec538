"""Push channels and freeBusy through the client: watch, stop, busy intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import NotFoundError
from calmirror.google.client import CalendarClient
from tests.google.helpers import ALICE


async def test_watch_then_stop(emulator: Emulator, alice: CalendarClient) -> None:
    """A watch returns the channel with its resource id and expiry; stopping it twice is NotFoundError."""
    before = datetime.now(UTC)

    channel = await alice.watch_events(
        ALICE, channel_id="chan-1", address="http://127.0.0.1:9/hook", token="t0k", ttl_seconds=600
    )
    await alice.stop_channel(channel.id, channel.resource_id)

    assert (channel.id, channel.calendar_id) == ("chan-1", ALICE)
    assert channel.resource_id
    assert before + timedelta(seconds=590) < channel.expiration <= datetime.now(UTC) + timedelta(seconds=601)
    assert emulator.requests.stats()["calls"]["calendar.channels.stop"] == 1
    with pytest.raises(NotFoundError):
        await alice.stop_channel(channel.id, channel.resource_id)
