"""The ICS feed provider against a loopback feed server: one request a poll, real deltas, clear errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import pytest

from calmirror.config import FEED_CALENDAR_ID
from calmirror.engine import BlockSpec, Interval, Window
from calmirror.engine.provider import Create
from calmirror.errors import (
    Failure,
    NoAnswerError,
    ProviderError,
    SyncTokenExpiredError,
    TransientError,
    UnreadableDataError,
)
from calmirror.ics import IcsProvider
from calmirror.retry import RetryPolicy
from harness.feeds import FeedServer, feed_server
from tests.ical.samples import GOOGLE_FEED, OUTLOOK_FEED, calendar

DECEMBER = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
OWNER = ("me@example.com",)
ATTEMPTS = 2
MEETING = "UID:m1\nDTSTART:20261201T090000Z\nDTEND:20261201T100000Z\nSUMMARY:Planning"
OTHER = "UID:m2\nDTSTART:20261202T090000Z\nDTEND:20261202T100000Z\nSUMMARY:Review"

VEVENT_LINE = rb"^BEGIN:VEVENT\r?$"  # the provider's scan for any event in a body

Provide = Callable[..., IcsProvider]


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    """A running feed server."""
    async with feed_server() as running:
        yield running


@pytest.fixture
async def provide(server: FeedServer) -> AsyncIterator[Provide]:
    """Make providers of account 7 for a feed name, closing them afterwards."""
    made: list[IcsProvider] = []

    def make(name: str = "cal.ics", **options: object) -> IcsProvider:
        options.setdefault("retry", RetryPolicy(attempts=ATTEMPTS, wait=False))
        provider = IcsProvider(7, server.url(name), owner=OWNER, **options)  # type: ignore[arg-type]
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


async def test_an_unchanged_poll_is_one_request_answered_304(server: FeedServer, provide: Provide) -> None:
    feed = server.publish("cal.ics", calendar(MEETING))
    provider = provide()
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert [event.id for event in listing.events] == ["m1"]
    assert listing.cursor is not None
    delta = await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
    assert delta.events == ()
    assert delta.cursor == listing.cursor
    assert (feed.requests, feed.not_modified) == (2, 1)


async def test_a_server_without_validators_is_compared_by_content(
    server: FeedServer, provide: Provide
) -> None:
    feed = server.publish("cal.ics", calendar(MEETING))
    feed.validators = False
    provider = provide()
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert listing.cursor is not None
    delta = await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
    assert delta.events == ()
    assert feed.requests == 2
    assert feed.not_modified == 0


async def test_a_change_is_one_request_and_a_complete_delta(server: FeedServer, provide: Provide) -> None:
    moved = MEETING.replace("T090000Z", "T110000Z").replace("T100000Z", "T120000Z")
    feed = server.publish("cal.ics", calendar(MEETING, OTHER))
    provider = provide()
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert listing.cursor is not None
    server.publish("cal.ics", calendar(moved, "UID:m3\nDTSTART:20261203T090000Z\nDURATION:PT1H"))
    delta = await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
    changes = {event.id: event for event in delta.events}
    assert set(changes) == {"m1", "m2", "m3"}
    assert changes["m1"].interval == Interval.timed(
        datetime(2026, 12, 1, 11, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    )
    assert changes["m2"].cancelled  # vanished from the feed: a tombstone, no second request needed
    assert not changes["m3"].cancelled
    assert not delta.relist
    assert feed.requests == 2
    # The next poll starts from the new cursor and sees nothing new.
    assert delta.cursor is not None
    again = await provider.read_changes(FEED_CALENDAR_ID, delta.cursor, DECEMBER)
    assert again.events == ()
    assert feed.not_modified == 1


async def test_a_cursor_that_is_not_the_last_one_forces_a_listing(
    server: FeedServer, provide: Provide
) -> None:
    server.publish("cal.ics", calendar(MEETING))
    provider = provide()
    with pytest.raises(SyncTokenExpiredError):
        await provider.read_changes(FEED_CALENDAR_ID, "bm90IG91cnM=", DECEMBER)
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    server.publish("cal.ics", calendar(OTHER))
    assert listing.cursor is not None
    await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
    with pytest.raises(SyncTokenExpiredError):
        await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)


async def test_redirects_are_followed(server: FeedServer, provide: Provide) -> None:
    server.publish("new.ics", calendar(MEETING))
    server.publish("old.ics", "").redirect = "new.ics"
    listing = await provide("old.ics").list_window(FEED_CALENDAR_ID, DECEMBER)
    assert [event.id for event in listing.events] == ["m1"]


async def test_feeds_from_google_and_outlook_read_right(server: FeedServer, provide: Provide) -> None:
    server.publish("google.ics", GOOGLE_FEED)
    server.publish("outlook.ics", OUTLOOK_FEED)
    google = await provide("google.ics").list_window(FEED_CALENDAR_ID, DECEMBER)
    outlook = await provide("outlook.ics").list_window(FEED_CALENDAR_ID, DECEMBER)
    assert len([event for event in google.events if event.id.startswith("weekly123@google.com/")]) == 4
    board = next(event for event in outlook.events if event.summary == "Board review")
    assert board.interval == Interval.timed(
        datetime(2026, 12, 2, 14, tzinfo=UTC), datetime(2026, 12, 2, 15, tzinfo=UTC)
    )


async def test_floating_times_are_read_in_the_zone_the_feed_names(
    server: FeedServer, provide: Provide, caplog: pytest.LogCaptureFixture
) -> None:
    floating = "UID:f\nDTSTART:20261201T090000\nDTEND:20261201T100000"
    server.publish("berlin.ics", calendar(floating, head="X-WR-TIMEZONE:Europe/Berlin\r\n"))
    server.publish("plain.ics", calendar(floating))
    server.publish("mars.ics", calendar(floating, head="X-WR-TIMEZONE:Mars/Olympus_Mons\r\n"))
    caplog.set_level(logging.DEBUG, logger="calmirror.ics.provider")
    (berlin,) = (await provide("berlin.ics").list_window(FEED_CALENDAR_ID, DECEMBER)).events
    (plain,) = (await provide("plain.ics").list_window(FEED_CALENDAR_ID, DECEMBER)).events
    assert berlin.interval == Interval.timed(
        datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)
    )
    assert plain.interval == Interval.timed(
        datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)
    )
    mars = provide("mars.ics")
    for _ in range(2):
        (unknown,) = (await mars.list_window(FEED_CALENDAR_ID, DECEMBER)).events
        assert unknown.interval == plain.interval
    told = [record.getMessage() for record in caplog.records if "time zone" in record.getMessage()]
    assert told == [
        "the ICS feed of account 7 names no time zone; its floating times are read in UTC",
        "the ICS feed of account 7 names the unknown time zone 'Mars/Olympus_Mons'; its floating times "
        "are read in UTC",
    ]


async def test_a_body_is_hashed_scanned_and_parsed_off_the_event_loop(
    server: FeedServer, provide: Provide
) -> None:
    # A feed can be 20 MiB: the loop's own thread must run none of the work whose cost grows with it.
    feed = server.publish("cal.ics", calendar(MEETING))
    feed.validators = False  # every poll answers the whole body, to be hashed and compared
    provider = provide()
    on_loop: set[str] = set()

    def watch(frame: FrameType, event: str, arg: object) -> None:
        """Note calmirror's work on a body run on this (the loop's) thread: SHA-256, the scan, parsing."""
        caller = Path(frame.f_code.co_filename)
        name = getattr(arg, "__name__", "")
        pattern = getattr(getattr(arg, "__self__", None), "pattern", None)
        if event == "c_call" and caller.match("calmirror/ics/*.py"):
            if name == "openssl_sha256" or (name == "search" and pattern == VEVENT_LINE):
                on_loop.add(name)
        elif event == "call" and caller.match("calmirror/ical/parse.py"):
            on_loop.add("parse")

    sys.setprofile(watch)
    try:
        listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
        assert listing.cursor is not None
        same = await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
        server.publish("cal.ics", calendar(MEETING, OTHER)).validators = False
        assert same.cursor is not None
        changed = await provider.read_changes(FEED_CALENDAR_ID, same.cursor, DECEMBER)
    finally:
        sys.setprofile(None)
    assert (same.events, [event.id for event in changed.events]) == ((), ["m2"])
    assert on_loop == set()


def assert_secret_kept(error: BaseException, url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Check the feed's address appears neither in the error nor in any log record."""
    secret = url.rsplit("/", 1)[-1]
    assert secret not in str(error)
    assert url not in repr(error)
    assert "account 7" in str(error)
    for record in caplog.records:
        assert secret not in record.getMessage()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("500", ("transient", ATTEMPTS)),  # retried by the one policy, then raised
        ("404", ("not_found", 1)),
        ("401", ("auth", 1)),
        ("403", ("forbidden", 1)),
        ("truncated", ("transient", ATTEMPTS)),  # a connection cut short is worth one more try
    ],
)
async def test_failed_reads_raise_the_right_kind_and_keep_the_address_secret(
    server: FeedServer,
    provide: Provide,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    expected: tuple[str, int],
) -> None:
    error_kind, requests = expected
    caplog.set_level(logging.DEBUG)
    name = "s3cr3t-t0ken-4f9a.ics"
    feed = server.publish(name, calendar(MEETING, OTHER))
    feed.mode = mode  # type: ignore[assignment]
    provider = provide(name)
    with pytest.raises(ProviderError) as caught:
        await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert caught.value.kind == error_kind
    assert caught.value.account_id == 7
    assert feed.requests == requests
    assert_secret_kept(caught.value, server.url(name), caplog)
    assert name not in repr(provider)
    assert (provider.needs_reauth is not None) == (mode in {"401", "403"})
    if mode == "truncated":
        assert caught.value.reason == "truncated"


async def test_a_complete_answer_whose_body_stops_early_is_transient_and_read_again(
    server: FeedServer, provide: Provide
) -> None:
    # A 200 of its full declared length whose body ends before END:VCALENDAR (a cut export).
    feed = server.publish("cal.ics", calendar(MEETING, OTHER).removesuffix("END:VCALENDAR\r\n"))
    provider = provide()
    with pytest.raises(UnreadableDataError) as caught:
        await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert (caught.value.kind, caught.value.reason) == ("transient", "truncated")
    assert caught.value.account_id == 7
    assert "account 7" in str(caught.value)
    assert feed.requests == ATTEMPTS
    server.publish("cal.ics", calendar(MEETING, OTHER))
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert {event.id for event in listing.events} == {"m1", "m2"}


async def test_a_hung_feed_times_out_as_no_answer(
    server: FeedServer, provide: Provide, caplog: pytest.LogCaptureFixture
) -> None:
    name = "s3cr3t-t0ken-slow.ics"
    feed = server.publish(name, calendar(MEETING))
    feed.mode = "slow"
    with pytest.raises(NoAnswerError) as caught:
        await provide(name, timeout=0.2).list_window(FEED_CALENDAR_ID, DECEMBER)
    assert isinstance(caught.value, TransientError)
    assert feed.requests == ATTEMPTS
    assert_secret_kept(caught.value, server.url(name), caplog)


async def test_an_unreachable_feed_is_no_answer(provide: Provide, caplog: pytest.LogCaptureFixture) -> None:
    provider = IcsProvider(
        7, "http://127.0.0.1:9/s3cr3t-t0ken.ics", retry=RetryPolicy(attempts=1, wait=False)
    )
    try:
        with pytest.raises(NoAnswerError) as caught:
            await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    finally:
        await provider.aclose()
    assert_secret_kept(caught.value, "http://127.0.0.1:9/s3cr3t-t0ken.ics", caplog)


async def test_a_feed_that_empties_is_refused_and_one_always_empty_is_fine(
    server: FeedServer, provide: Provide
) -> None:
    server.publish("empty.ics", calendar())
    assert (await provide("empty.ics").list_window(FEED_CALENDAR_ID, DECEMBER)).events == ()
    server.publish("cal.ics", calendar(MEETING))
    provider = provide()
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert listing.cursor is not None
    server.publish("cal.ics", calendar())
    with pytest.raises(UnreadableDataError) as caught:
        await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)
    assert caught.value.reason == "empty"
    assert "nothing was deleted" in Failure.of(caught.value, "source", FEED_CALENDAR_ID).fix()
    # Nothing was taken from the failed read: the feed coming back is no change at all.
    server.publish("cal.ics", calendar(MEETING))
    assert (await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, DECEMBER)).events == ()


async def test_a_page_instead_of_a_feed_is_unparsable(server: FeedServer, provide: Provide) -> None:
    server.publish("cal.ics", "<!DOCTYPE html><html><body>Please sign in</body></html>")
    with pytest.raises(UnreadableDataError) as caught:
        await provide().list_window(FEED_CALENDAR_ID, DECEMBER)
    assert caught.value.reason == "unparsable"
    assert "account 7" in str(caught.value)


async def test_a_feed_over_the_size_cap_is_refused(server: FeedServer, provide: Provide) -> None:
    feed = server.publish("cal.ics", calendar(*(MEETING.replace("m1", f"m{n}") for n in range(200))))
    with pytest.raises(UnreadableDataError) as caught:
        await provide(max_bytes=4096).list_window(FEED_CALENDAR_ID, DECEMBER)
    assert caught.value.reason == "too_large"
    assert len(feed.body) > 4096


async def test_a_feed_is_read_only(server: FeedServer, provide: Provide) -> None:
    provider = provide()
    interval = Interval.timed(datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC))
    (outcome,) = await provider.write_blocks(FEED_CALENDAR_ID, [Create(BlockSpec(interval, "b1", "Busy"))])
    assert outcome.error is not None
    assert outcome.error.kind == "forbidden"
    assert "cannot be written" in Failure.of(outcome.error, "target", FEED_CALENDAR_ID).fix()
    assert await provider.get_block(FEED_CALENDAR_ID, "b1") is None
    assert await provider.list_blocks(FEED_CALENDAR_ID) == ()
    assert provider.provider == "ics"
    assert provider.account_id == 7


async def test_a_redirect_loop_is_refused_without_naming_the_address(
    server: FeedServer, provide: Provide, caplog: pytest.LogCaptureFixture
) -> None:
    name = "s3cr3t-t0ken-loop.ics"
    server.publish(name, "").redirect = name
    with pytest.raises(ProviderError) as caught:
        await provide(name).list_window(FEED_CALENDAR_ID, DECEMBER)
    assert caught.value.kind == "invalid"
    assert_secret_kept(caught.value, server.url(name), caplog)


async def test_a_moved_window_reads_again_and_reports_only_real_deletions(
    server: FeedServer, provide: Provide
) -> None:
    early = "UID:early\nDTSTART:20261130T090000Z\nDTEND:20261130T100000Z"
    feed = server.publish("cal.ics", calendar(early, MEETING, OTHER))
    provider = provide()
    listing = await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert listing.cursor is not None
    server.publish("cal.ics", calendar(early, MEETING))
    later = Window(datetime(2026, 12, 1, tzinfo=UTC), DECEMBER.end)
    delta = await provider.read_changes(FEED_CALENDAR_ID, listing.cursor, later)
    # "early" merely left the window; m2 was deleted.
    assert [(event.id, event.status) for event in delta.events] == [("m2", "cancelled")]
    assert feed.not_modified == 0


async def test_a_refused_address_asks_for_the_current_one_until_a_read_succeeds(
    server: FeedServer, provide: Provide
) -> None:
    feed = server.publish("cal.ics", calendar(MEETING))
    feed.mode = "401"
    provider = provide()
    with pytest.raises(ProviderError) as refused:
        await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert "current secret address" in Failure.of(refused.value, "source", FEED_CALENDAR_ID).fix()
    assert provider.needs_reauth is not None
    feed.mode = "ok"
    await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert provider.needs_reauth is None
    feed.mode = "404"
    with pytest.raises(ProviderError) as missing:
        await provider.list_window(FEED_CALENDAR_ID, DECEMBER)
    assert "still published" in Failure.of(missing.value, "source", FEED_CALENDAR_ID).fix()
