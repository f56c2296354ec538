"""Reads against the emulator: paging, sync-token deltas, gets and the calendar list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import NotFoundError, SyncTokenExpiredError
from calmirror.google.client import CalendarClient
from calmirror.google.writes import Insert
from tests.google.helpers import ALICE, block, event_ids

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


async def seed(client: CalendarClient, ids: list[str]) -> None:
    """Insert one block per id into Alice's primary calendar."""
    outcomes = await client.apply_writes([Insert(ALICE, block(i, minute=n)) for n, i in enumerate(ids)])
    assert all(o.ok for o in outcomes)


async def test_listing_follows_every_page(emulator: Emulator, alice: CalendarClient) -> None:
    """600 events listed 250 per page arrive in three events.list calls, every event present."""
    ids = event_ids(600)
    await seed(alice, ids)
    emulator.reset_requests()

    listing = await alice.list_events(ALICE, time_min=WINDOW[0], time_max=WINDOW[1], page_size=250)

    assert sorted(e["id"] for e in listing.events) == ids
    assert emulator.requests.stats()["calls"] == {"calendar.events.list": 3}
    assert listing.next_sync_token


async def test_changes_since_a_sync_token(alice: CalendarClient) -> None:
    """A sync-token listing returns only what changed since the token, deletions included."""
    await seed(alice, ["keep0001", "gone0001"])
    full = await alice.list_events(ALICE)
    assert full.next_sync_token is not None
    await alice.insert_event(ALICE, block("fresh001"))
    await alice.delete_event(ALICE, "gone0001")

    delta = await alice.list_changes(ALICE, full.next_sync_token)

    assert {e["id"]: e["status"] for e in delta.events} == {"fresh001": "confirmed", "gone0001": "cancelled"}
    assert delta.next_sync_token not in (None, full.next_sync_token)


async def test_expired_sync_token_raises(emulator: Emulator, alice: CalendarClient) -> None:
    """A 410 on a sync-token listing surfaces as SyncTokenExpiredError, after a single attempt."""
    full = await alice.list_events(ALICE)
    assert full.next_sync_token is not None
    emulator.invalidate_sync_tokens(ALICE)
    emulator.reset_requests()

    with pytest.raises(SyncTokenExpiredError) as caught:
        await alice.list_changes(ALICE, full.next_sync_token)

    assert caught.value.status == 410
    assert emulator.requests.stats()["calls"] == {"calendar.events.list": 1}


async def test_any_410_on_a_sync_token_listing_means_relist(
    emulator: Emulator, alice: CalendarClient
) -> None:
    """A 410 without the fullSyncRequired reason (some answers lack it) is SyncTokenExpiredError too."""
    full = await alice.list_events(ALICE)
    assert full.next_sync_token is not None
    emulator.faults.add(
        {"kind": "status", "methods": ["calendar.events.list"], "status": 410, "reason": "deleted"}
    )

    with pytest.raises(SyncTokenExpiredError) as caught:
        await alice.list_changes(ALICE, full.next_sync_token)

    assert (caught.value.status, caught.value.reason) == (410, "deleted")


async def test_get_event_and_missing_event(alice: CalendarClient) -> None:
    """get_event returns the stored event; an unknown id raises NotFoundError."""
    await alice.insert_event(ALICE, block("here0001"))

    assert (await alice.get_event(ALICE, "here0001"))["summary"] == "Busy"
    with pytest.raises(NotFoundError):
        await alice.get_event(ALICE, "nothere01")


async def test_calendar_list_and_private_property_filter(emulator: Emulator, alice: CalendarClient) -> None:
    """The calendar list shows an extra calendar; a private-property listing returns only marked events."""
    extra = emulator.create_calendar(ALICE, "Work")
    marked = block("mark0001") | {"extendedProperties": {"private": {"calmirror": "block"}}}
    await alice.insert_event(extra, marked)
    await alice.insert_event(extra, block("plain001"))

    calendars = {c["id"] for c in await alice.list_calendars()}
    listing = await alice.list_events(extra, private_property=("calmirror", "block"))

    assert calendars == {ALICE, extra}
    assert [e["id"] for e in listing.events] == ["mark0001"]
