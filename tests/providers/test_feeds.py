"""ICS feeds as Outlook and Google publish them, mirrored into Google; an unchanged poll writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from calmirror.config import FEED_CALENDAR_ID
from tests.ical.samples import GOOGLE_FEED, OUTLOOK_FEED, calendar
from tests.providers.conftest import FEED, FEED_NAME, GOOGLE, ONE_SERVER, MakeMixed, Mixed
from tests.providers.dav import DAV_EMAIL, ORGANIZER, Span

FROM_FEED = ("from feed", (FEED, FEED_CALENDAR_ID), (1, GOOGLE[1]), 0, 0)
# The fixture feeds are of December 2026: the engine's now is pinned inside them.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# Google's export writes an override as a whole event, people included (without them, RFC 5545 says
# the moved instance has none, and a one-person event gets no block).
SERIES_FEED = GOOGLE_FEED.replace(
    "SUMMARY:Weekly sync (moved)\r\n",
    "SUMMARY:Weekly sync (moved)\r\nORGANIZER:mailto:boss@example.com\r\n"
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com\r\nATTENDEE:mailto:boss@example.com\r\n",
)


def span(day: int, hour: int, minute: int, minutes: int) -> Span:
    """Return a timed span in December 2026, UTC."""
    start = datetime(2026, 12, day, hour, minute, tzinfo=UTC)
    return False, start, start.replace(hour=hour + (minute + minutes) // 60, minute=(minute + minutes) % 60)


async def poll(world: Mixed) -> None:
    """Poll the feed, as its account's poll job does; the pass must succeed."""
    summary = await world.changed(FEED, FEED_CALENDAR_ID)
    assert summary.flows["from feed"].ok, summary.flows["from feed"].message


async def an_unchanged_poll_writes_nothing(world: Mixed) -> None:
    """Poll once more: one request, answered 304, and no call to Google at all."""
    feed = world.feeds.feeds[FEED_NAME]
    before = (feed.requests, feed.not_modified)
    world.emulator.reset_requests()
    await poll(world)
    assert (feed.requests - before[0], feed.not_modified - before[1]) == (1, 1)
    assert world.emulator.requests.stats()["calls"] == {}


@ONE_SERVER
async def test_an_outlook_feed_with_windows_zones(make_mixed: MakeMixed) -> None:
    """Windows zone names are read; FREE and single-person events get no block; a change moves it."""
    world = await make_mixed([FROM_FEED], clock=lambda: NOW)
    world.feeds.publish(FEED_NAME, OUTLOOK_FEED)

    await poll(world)
    # 09:00 Eastern is 14:00 UTC; the owner's TENTATIVE with an organizer is a two-person meeting
    # (the default tentative policy mirrors it); 09:00 W. Europe is 08:00 UTC.
    assert world.google_spans(1) == [span(2, 14, 0, 60), span(4, 8, 0, 60)]

    moved = OUTLOOK_FEED.replace("Eastern Standard Time:20261202T09", "Eastern Standard Time:20261202T11")
    world.feeds.publish(
        FEED_NAME, moved.replace("Eastern Standard Time:20261202T10", "Eastern Standard Time:20261202T12")
    )
    await poll(world)
    assert world.google_spans(1) == [span(2, 16, 0, 60), span(4, 8, 0, 60)]

    await an_unchanged_poll_writes_nothing(world)


@ONE_SERVER
async def test_a_google_exported_feed_with_a_series(make_mixed: MakeMixed) -> None:
    """The weekly series keeps its Berlin times, its moved instance and its exclusion; a change follows."""
    world = await make_mixed([FROM_FEED], clock=lambda: NOW)
    world.feeds.publish(FEED_NAME, SERIES_FEED)

    await poll(world)
    # 10:00 Berlin is 09:00 UTC; the 8th was moved to 15:00 Berlin; the 15th is excluded.
    assert world.google_spans(1) == [span(1, 9, 0, 30), span(8, 14, 0, 30)]

    moved = SERIES_FEED.replace(
        "DTSTART;TZID=Europe/Berlin:20261208T150000", "DTSTART;TZID=Europe/Berlin:20261208T160000"
    )
    world.feeds.publish(
        FEED_NAME,
        moved.replace("DTEND;TZID=Europe/Berlin:20261208T153000", "DTEND;TZID=Europe/Berlin:20261208T163000"),
    )
    await poll(world)
    assert world.google_spans(1) == [span(1, 9, 0, 30), span(8, 15, 0, 30)]

    await an_unchanged_poll_writes_nothing(world)


@ONE_SERVER
async def test_floating_times_follow_the_zone_the_feed_names(make_mixed: MakeMixed) -> None:
    """A floating 09:00 in December is 08:00 UTC in a feed naming Europe/Berlin, 09:00 in one naming none."""
    world = await make_mixed([FROM_FEED], clock=lambda: NOW)
    meeting = (
        "UID:f1\nDTSTART:20261203T090000\nDTEND:20261203T100000\nSUMMARY:Standup\n"
        f"ORGANIZER:mailto:{ORGANIZER}\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{DAV_EMAIL}"
    )
    world.feeds.publish(FEED_NAME, calendar(meeting, head="X-WR-TIMEZONE:Europe/Berlin\r\n"))
    await poll(world)
    assert world.google_spans(1) == [span(3, 8, 0, 60)]

    world.feeds.publish(FEED_NAME, calendar(meeting))
    await poll(world)
    assert world.google_spans(1) == [span(3, 9, 0, 60)]


async def test_a_feed_into_a_caldav_target(make_mixed: MakeMixed) -> None:
    """Neither side is Google: the Outlook feed's meetings become blocks in a CalDAV calendar."""
    world = await make_mixed(
        [("feed to caldav", (FEED, FEED_CALENDAR_ID), (3, "b"), 0, 0)], clock=lambda: NOW
    )
    world.feeds.publish(FEED_NAME, OUTLOOK_FEED)

    summary = await world.changed(FEED, FEED_CALENDAR_ID)

    assert summary.flows["feed to caldav"].ok
    assert await world.dav_spans("b") == [span(2, 14, 0, 60), span(4, 8, 0, 60)]
