"""CalDAV reads against real Radicale and Xandikos: a window listed in two requests, deltas in one or two."""

from __future__ import annotations

from datetime import timedelta

from calmirror.caldav import CalDavProvider
from calmirror.engine import Interval, SourceEvent
from harness.davproxy import DavProxy
from tests.caldav.helpers import ALL_DAY, DECEMBER, FLOATING, SERIES, at, meeting, remove, store


def by_id(events: tuple[SourceEvent, ...]) -> dict[str, SourceEvent]:
    """Index events by id, checking ids are unique."""
    index = {event.id: event for event in events}
    assert len(index) == len(events)
    return index


async def test_window_expands_series_all_day_and_floating_in_two_requests(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "standup.ics", SERIES)
    await store(proxy, calendar + "offsite.ics", ALL_DAY)
    await store(proxy, calendar + "lunch.ics", FLOATING)
    await store(proxy, calendar + "january.ics", meeting("later", at(1, 9) + timedelta(days=60)))

    listing = await provider.list_window(calendar, DECEMBER)

    events = by_id(listing.events)
    assert events["standup/20261201T090000Z"].interval == Interval.timed(at(1, 9), at(1, 9, 30))
    assert events["standup/20261203T090000Z"].interval == Interval.timed(at(3, 11), at(3, 11, 30))
    assert events["standup/20261204T090000Z"].cancelled  # the cancelled instance is a tombstone
    assert "standup/20261206T090000Z" not in events  # COUNT=5 ends the series on the 5th
    assert events["offsite"].interval == Interval.days(at(10, 0).date(), at(12, 0).date())
    assert events["lunch"].interval == Interval.timed(at(15, 12), at(15, 13))  # floating, read in UTC
    assert "later" not in events
    assert listing.cursor is not None
    assert proxy.counts() == {"PROPFIND": 1, "REPORT calendar-query": 1}


async def test_an_unchanged_calendar_costs_one_request(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "standup.ics", SERIES)
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    proxy.clear()

    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)

    assert delta.events == ()
    assert delta.cursor is not None
    assert proxy.counts() == {"REPORT sync-collection": 1}


async def test_one_new_moved_or_deleted_event_is_at_most_two_reads(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "standup.ics", SERIES)
    await store(proxy, calendar + "review.ics", meeting("review", at(7, 10)))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None

    await store(proxy, calendar + "new.ics", meeting("new", at(8, 10)))
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)
    assert by_id(delta.events)["new"].interval == Interval.timed(at(8, 10), at(8, 11))
    assert proxy.count() <= 2
    assert delta.cursor is not None

    await store(proxy, calendar + "review.ics", meeting("review", at(9, 15)))
    delta = await provider.read_changes(calendar, delta.cursor, DECEMBER)
    assert [(e.id, e.interval) for e in delta.events] == [("review", Interval.timed(at(9, 15), at(9, 16)))]
    assert proxy.count() <= 2
    assert delta.cursor is not None

    await remove(proxy, calendar + "standup.ics")
    delta = await provider.read_changes(calendar, delta.cursor, DECEMBER)
    gone = by_id(delta.events)
    assert set(gone) == {f"standup/202612{day:02d}T090000Z" for day in range(1, 6)}
    assert all(event.cancelled for event in gone.values())
    assert proxy.count() <= 2


async def test_an_instance_dropped_from_a_series_becomes_a_tombstone(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "standup.ics", SERIES)
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    shorter = SERIES.replace(b"COUNT=5", b"COUNT=2")

    await store(proxy, calendar + "standup.ics", shorter)
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)

    events = by_id(delta.events)
    assert not events["standup/20261201T090000Z"].cancelled
    assert events["standup/20261205T090000Z"].cancelled
    assert proxy.count() <= 2
