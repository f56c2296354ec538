"""Floating times in a CalDAV calendar are read in the zone the calendar states (RFC 4791 section 5.2.2)."""

from __future__ import annotations

import logging

import pytest

from calmirror.caldav import CalDavProvider
from calmirror.engine import Interval
from harness.caldav_servers import DavServer
from harness.davproxy import DavProxy
from tests.caldav.helpers import DECEMBER, at, calendar, set_calendar_property, store, vtimezone

# 09:00 to 10:00 on 15 December, no zone: in Berlin (UTC+1 in winter) that is 08:00 UTC.
NINE = calendar("UID:lunch\nDTSTART:20261215T090000\nDTEND:20261215T100000\nSUMMARY:Standup")
NINE_AGAIN = calendar("UID:later\nDTSTART:20261216T090000\nDTEND:20261216T100000\nSUMMARY:Review")


def skip_on_xandikos_unless_iana(server: DavServer, tzid: str) -> None:
    """Skip on Xandikos for a zone the IANA database lacks: it answers 500 to every time-range query."""
    if server.name == "xandikos" and tzid not in ("Europe/Berlin",):
        pytest.skip(f"Xandikos answers 500 to a time-range query in a calendar whose zone is {tzid!r}")


def intervals(events: tuple[object, ...]) -> dict[str, Interval | None]:
    """Index the events' intervals by id."""
    return {event.id: event.interval for event in events}  # type: ignore[attr-defined]


@pytest.mark.parametrize("tzid", ["Europe/Berlin", "W. Europe Standard Time"])
async def test_floating_times_are_read_in_the_calendars_zone_without_another_request(
    dav_server: DavServer, provider: CalDavProvider, proxy: DavProxy, calendar: str, tzid: str
) -> None:
    skip_on_xandikos_unless_iana(dav_server, tzid)
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone(tzid))
    await store(proxy, calendar + "lunch.ics", NINE)

    listing = await provider.list_window(calendar, DECEMBER)

    assert intervals(listing.events) == {"lunch": Interval.timed(at(15, 8), at(15, 9))}
    assert proxy.counts() == {"PROPFIND": 1, "REPORT calendar-query": 1}  # the zone cost no request
    await store(proxy, calendar + "later.ics", NINE_AGAIN)
    assert listing.cursor is not None
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)
    assert intervals(delta.events) == {"later": Interval.timed(at(16, 8), at(16, 9))}


async def test_a_calendar_without_a_zone_reads_floating_times_in_utc_and_says_so_once(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, caplog: pytest.LogCaptureFixture
) -> None:
    await store(proxy, calendar + "lunch.ics", NINE)
    caplog.set_level(logging.INFO, logger="calmirror.caldav")

    for _ in range(2):
        listing = await provider.list_window(calendar, DECEMBER)
        assert intervals(listing.events) == {"lunch": Interval.timed(at(15, 9), at(15, 10))}

    told = [r.getMessage() for r in caplog.records if "time zone" in r.getMessage()]
    assert len(told) == 1
    assert "floating times are read in UTC" in told[0]


async def test_an_unknown_zone_falls_back_to_utc_with_a_warning(
    dav_server: DavServer,
    provider: CalDavProvider,
    proxy: DavProxy,
    calendar: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    skip_on_xandikos_unless_iana(dav_server, "Mars/Olympus_Mons")
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone("Mars/Olympus_Mons"))
    await store(proxy, calendar + "lunch.ics", NINE)

    listing = await provider.list_window(calendar, DECEMBER)

    assert intervals(listing.events) == {"lunch": Interval.timed(at(15, 9), at(15, 10))}
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'Mars/Olympus_Mons'" in message and "in UTC" in message for message in warned)
