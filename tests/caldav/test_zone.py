"""Floating times in a CalDAV calendar are read in the zone the calendar states (RFC 4791 section 5.2.2)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import SecretStr

from calmirror.caldav import CalDavProvider
from calmirror.config import CalDavAccount, CalendarRef, Flow, Settings
from calmirror.engine import Interval, SyncEngine, Window
from calmirror.errors import SyncTokenExpiredError, TransientError
from harness.caldav_servers import DavServer, make_calendar
from harness.davproxy import DavProxy, Fault
from tests.caldav.helpers import (
    DECEMBER,
    OWNER_EMAIL,
    at,
    set_calendar_property,
    store,
    vtimezone,
)
from tests.caldav.helpers import calendar as calendar_of

# 09:00 to 10:00 on 15 December, no zone: in Berlin (UTC+1 in winter) that is 08:00 UTC.
NINE = calendar_of("UID:lunch\nDTSTART:20261215T090000\nDTEND:20261215T100000\nSUMMARY:Standup")
NINE_AGAIN = calendar_of("UID:later\nDTSTART:20261216T090000\nDTEND:20261216T100000\nSUMMARY:Review")


def refuses_zone(server: DavServer, tzid: str) -> bool:
    """Tell whether the server cannot serve a calendar in this zone.

    Xandikos answers 500 to every time-range query in a calendar whose zone is not an IANA name.
    """
    return server.name == "xandikos" and tzid != "Europe/Berlin"


def intervals(events: tuple[object, ...]) -> dict[str, Interval | None]:
    """Index the events' intervals by id."""
    return {event.id: event.interval for event in events}  # type: ignore[attr-defined]


@pytest.mark.parametrize("tzid", ["Europe/Berlin", "W. Europe Standard Time"])
async def test_floating_times_are_read_in_the_calendars_zone_without_another_request(
    dav_server: DavServer, provider: CalDavProvider, proxy: DavProxy, calendar: str, tzid: str
) -> None:
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone(tzid))
    await store(proxy, calendar + "lunch.ics", NINE)
    if refuses_zone(dav_server, tzid):
        with pytest.raises(TransientError):  # a failed read, never a listing in the wrong zone
            await provider.list_window(calendar, DECEMBER)
        return

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
    caplog.set_level(logging.DEBUG, logger="calmirror.caldav")

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
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone("Mars/Olympus_Mons"))
    await store(proxy, calendar + "lunch.ics", NINE)
    if refuses_zone(dav_server, "Mars/Olympus_Mons"):
        with pytest.raises(TransientError):  # a failed read, never a listing in the wrong zone
            await provider.list_window(calendar, DECEMBER)
        return

    listing = await provider.list_window(calendar, DECEMBER)

    assert intervals(listing.events) == {"lunch": Interval.timed(at(15, 9), at(15, 10))}
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'Mars/Olympus_Mons'" in message and "in UTC" in message for message in warned)


async def test_a_floating_nine_oclock_in_a_berlin_calendar_becomes_a_block_at_eight_utc_in_winter(
    dav_server: DavServer, provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    day = date(datetime.now(UTC).year + 1, 1, 15)  # always ahead, always winter (UTC+1 in Berlin)
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone("Europe/Berlin"))
    meeting = (
        f"UID:standup\nDTSTART:{day:%Y%m%d}T090000\nDTEND:{day:%Y%m%d}T093000\nSUMMARY:Standup\n"
        f"ORGANIZER:mailto:{OWNER_EMAIL}\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{OWNER_EMAIL}\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:guest@example.net"
    )
    await store(proxy, calendar + "standup.ics", calendar_of(meeting))
    target = proxy.url(await make_calendar(dav_server))
    account = CalDavAccount(
        id=1, url=provider.url, username=dav_server.username, password=SecretStr(dav_server.password)
    )
    flow = Flow(
        id=1,
        name="berlin",
        source=CalendarRef(account_id=1, calendar_id=calendar),
        target=CalendarRef(account_id=1, calendar_id=target),
    )
    engine = SyncEngine(Settings(caldav_accounts={1: account}, flows=(flow,)), {1: provider})
    nine = datetime(day.year, day.month, day.day, tzinfo=UTC)

    summary = await engine.reconcile_all(Window(nine - timedelta(days=1), nine + timedelta(days=2)))

    assert summary.ok
    blocks = await provider.list_blocks(target)
    assert [block.interval for block in blocks] == [
        Interval.timed(nine + timedelta(hours=8), nine + timedelta(hours=8, minutes=30))
    ]


async def test_a_calendar_read_by_etags_keeps_its_zone_without_another_request(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await set_calendar_property(proxy, calendar, "calendar-timezone", vtimezone("Europe/Berlin"))
    await store(proxy, calendar + "lunch.ics", NINE)
    proxy.inject(Fault(501, "REPORT", "sync-collection", times=None))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    with pytest.raises(SyncTokenExpiredError):  # the server refuses sync-collection: ETags from now on
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    proxy.clear()

    listing = await provider.list_window(calendar, DECEMBER)

    assert intervals(listing.events) == {"lunch": Interval.timed(at(15, 8), at(15, 9))}
    assert proxy.counts() == {"PROPFIND": 1, "REPORT calendar-query": 1}  # the ETags' PROPFIND only
