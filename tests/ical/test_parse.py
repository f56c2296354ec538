"""read_events: iCalendar feeds as Google, Outlook and broken generators write them, read as engine events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from calmirror.engine import Attendee, Interval, SourceEvent, Window
from calmirror.errors import Failure, UnreadableDataError
from calmirror.ical import read_events, read_feed
from tests.ical.samples import GOOGLE_FEED, OUTLOOK_FEED, calendar

OWNER = frozenset({"me@example.com"})
DECEMBER = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return a UTC instant in December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def by_id(events: tuple[SourceEvent, ...]) -> dict[str, SourceEvent]:
    """Index events by id, checking ids are unique."""
    index = {event.id: event for event in events}
    assert len(index) == len(events)
    return index


def test_google_feed_expands_the_series_with_its_moved_and_deleted_instances() -> None:
    events = by_id(read_events(GOOGLE_FEED, DECEMBER, owner=OWNER))
    series = {key: event for key, event in events.items() if key.startswith("weekly123@google.com/")}
    # Tuesdays 10:00 Berlin (UTC+1) are 09:00 UTC; the 15th is deleted, the 8th moved to 14:00 UTC.
    assert sorted(series) == [
        "weekly123@google.com/20261201T090000Z",
        "weekly123@google.com/20261208T090000Z",
        "weekly123@google.com/20261222T090000Z",
        "weekly123@google.com/20261229T090000Z",
    ]
    assert series["weekly123@google.com/20261208T090000Z"].interval == Interval.timed(
        at(8, 14), at(8, 14, 30)
    )
    first = series["weekly123@google.com/20261201T090000Z"]
    assert first.interval == Interval.timed(at(1, 9), at(1, 9, 30))
    assert first.summary == "Weekly sync"
    assert first.updated == datetime(2026, 11, 5, 8, tzinfo=UTC)
    assert first.organizer == Attendee("boss@example.com", response_status="accepted", organizer=True)
    assert first.attendees == (
        Attendee("me@example.com", is_self=True, response_status="accepted"),
        Attendee("boss@example.com", response_status="needsAction"),
        Attendee("room1@resource.calendar.google.com", resource=True, response_status="accepted"),
    )


def test_google_feed_maps_status_and_transparency() -> None:
    events = by_id(read_events(GOOGLE_FEED, DECEMBER, owner=OWNER))
    assert events["solo@google.com"].status == "tentative"
    assert events["solo@google.com"].transparency == "transparent"
    assert events["solo@google.com"].attendees is None
    assert events["solo@google.com"].organizer is None
    # A cancelled event is a tombstone: the engine folds it as gone, the filters skip it.
    assert events["gone@google.com"].cancelled
    assert events["gone@google.com"].time_problem is None


def test_cancelled_instance_is_a_tombstone_under_its_instance_id() -> None:
    feed = calendar(
        """
UID:s1
DTSTART:20261201T090000Z
DTEND:20261201T100000Z
RRULE:FREQ=DAILY;COUNT=3
""",
        """
UID:s1
RECURRENCE-ID:20261202T090000Z
DTSTART:20261202T090000Z
DTEND:20261202T100000Z
STATUS:CANCELLED
""",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert {key: event.status for key, event in events.items()} == {
        "s1/20261201T090000Z": "confirmed",
        "s1/20261202T090000Z": "cancelled",
        "s1/20261203T090000Z": "confirmed",
    }


def test_outlook_feed_maps_windows_zones_and_busy_status() -> None:
    events = by_id(read_events(OUTLOOK_FEED, DECEMBER, owner=OWNER))
    board = events["040000008200E00074C5B7101A82E00800000000"]
    assert board.interval == Interval.timed(at(2, 14), at(2, 15))  # New York is UTC-5 in December
    assert board.attendees == (Attendee("me@example.com", is_self=True, response_status="tentative"),)
    assert board.transparency == "opaque"
    assert events["free-one"].interval == Interval.timed(at(2, 8), at(2, 9))  # Berlin is UTC+1
    assert events["free-one"].transparency == "transparent"
    assert events["oof-one"].transparency == "opaque"
    # No attendee list: the owner's tentative answer is added, so the tentative policy still applies.
    assert events["tentative-alone"].attendees == (
        Attendee("me@example.com", is_self=True, response_status="tentative"),
    )


def test_all_day_events_are_judged_in_every_zone() -> None:
    feed = calendar(
        "UID:day\nDTSTART;VALUE=DATE:20261210\nDTEND;VALUE=DATE:20261212",
        "UID:noend\nDTSTART;VALUE=DATE:20261213",
        "UID:same\nDTSTART;VALUE=DATE:20261214\nDTEND;VALUE=DATE:20261214",
        "UID:edge\nDTSTART;VALUE=DATE:20261129\nDTEND;VALUE=DATE:20261130",
        "UID:outside\nDTSTART;VALUE=DATE:20261127\nDTEND;VALUE=DATE:20261128",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert events["day"].interval == Interval.days(date(2026, 12, 10), date(2026, 12, 12))
    assert events["noend"].interval == Interval.days(date(2026, 12, 13), date(2026, 12, 14))
    assert events["same"].interval == Interval.days(date(2026, 12, 14), date(2026, 12, 15))
    # The 29th ends at midnight UTC before the window, but in UTC-12 it is still the 29th at noon.
    assert "edge" in events
    assert "outside" not in events


def test_floating_times_are_read_in_the_calendar_zone() -> None:
    feed = calendar("UID:f\nDTSTART:20261201T090000\nDTEND:20261201T100000")
    (utc,) = read_events(feed, DECEMBER, owner=OWNER)
    (tokyo,) = read_events(feed, DECEMBER, owner=OWNER, zone="Asia/Tokyo")
    assert utc.interval == Interval.timed(at(1, 9), at(1, 10))
    assert tokyo.interval == Interval.timed(at(1, 0), at(1, 1))


@pytest.mark.parametrize(
    ("head", "zone", "hour", "known"),
    [
        ("X-WR-TIMEZONE:Europe/Berlin\n", None, 8, "Europe/Berlin"),  # a zone named the IANA way
        ("X-WR-TIMEZONE:W. Europe Standard Time\n", "Asia/Tokyo", 8, "Europe/Berlin"),  # Windows name
        ("X-WR-TIMEZONE:Mars/Olympus_Mons\n", "Asia/Tokyo", 0, None),  # unknown: the caller's zone
        ("", None, 9, None),  # none named: UTC
    ],
)
def test_a_feed_reads_its_floating_times_in_the_zone_it_names(
    head: str, zone: str | None, hour: int, known: str | None
) -> None:
    feed = calendar("UID:f\nDTSTART:20261201T090000\nDTEND:20261201T100000", head=head)
    read = read_feed(feed, DECEMBER, owner=OWNER, zone=zone)
    (event,) = read.events
    assert event.interval == Interval.timed(at(1, hour), at(1, hour + 1))
    assert read.zone == known
    assert read.stated_zone == (head.partition(":")[2].strip() or None)
    # read_events leaves the property alone: a CalDAV resource's zone is its collection's.
    (plain,) = read_events(feed, DECEMBER, owner=OWNER)
    assert plain.interval == Interval.timed(at(1, 9), at(1, 10))


def test_missing_dtend_uses_duration_or_the_rfc_default() -> None:
    feed = calendar(
        "UID:dur\nDTSTART:20261201T090000Z\nDURATION:PT45M",
        "UID:bare\nDTSTART:20261201T090000Z",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert events["dur"].interval == Interval.timed(at(1, 9), at(1, 9, 45))
    assert events["bare"].interval == Interval.timed(at(1, 9), at(1, 9))


def test_events_outside_the_window_are_left_out() -> None:
    feed = calendar(
        "UID:before\nDTSTART:20261129T090000Z\nDTEND:20261130T000000Z",
        "UID:inside\nDTSTART:20261130T000000Z\nDTEND:20261130T000100Z",
        "UID:daily\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert "before" not in events
    assert "inside" in events
    assert sum(key.startswith("daily/") for key in events) == 31  # Nov 30 .. Dec 30, not the whole year


def test_an_event_with_unreadable_times_is_reported_not_raised() -> None:
    feed = calendar(
        "UID:bad\nDTSTART:2026-12-01 nine o'clock\nSUMMARY:Broken",
        "UID:mars\nDTSTART;TZID=Mars/Olympus:20261201T090000\nDTEND;TZID=Mars/Olympus:20261201T100000",
        "UID:backwards\nDTSTART:20261201T100000Z\nDTEND:20261201T090000Z",
        "UID:mixed\nDTSTART;VALUE=DATE:20261201\nDTEND:20261201T100000Z",
        "UID:nostart\nSUMMARY:no times at all",
        "UID:badrule\nDTSTART:20261201T090000Z\nRRULE:FREQ=SOMETIMES",
        "UID:good\nDTSTART:20261201T090000Z\nDTEND:20261201T100000Z",
        "UID:deadbad\nDTSTART:garbage\nSTATUS:CANCELLED",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert events["good"].interval == Interval.timed(at(1, 9), at(1, 10))
    for key in ("bad", "mars", "backwards", "mixed", "nostart", "badrule"):
        assert events[key].interval is None, key
        assert events[key].time_problem, key
    assert events["bad"].summary == "Broken"
    assert "Mars/Olympus" in (events["mars"].time_problem or "")
    # A cancelled event's times do not matter: it is a tombstone, not a problem.
    assert events["deadbad"].cancelled
    assert events["deadbad"].time_problem is None


def test_duplicate_uids_fold_to_the_latest_revision() -> None:
    feed = calendar(
        "UID:dup\nSEQUENCE:2\nDTSTART:20261201T090000Z\nDTEND:20261201T100000Z\nSUMMARY:second",
        "UID:dup\nSEQUENCE:1\nDTSTART:20261201T110000Z\nDTEND:20261201T120000Z\nSUMMARY:first",
        "UID:twin\nDTSTAMP:20261101T000000Z\nDTSTART:20261202T090000Z\nSUMMARY:old",
        "UID:twin\nDTSTAMP:20261102T000000Z\nDTSTART:20261202T110000Z\nSUMMARY:new",
    )
    events = by_id(read_events(feed, DECEMBER, owner=OWNER))
    assert events["dup"].summary == "second"
    assert events["twin"].summary == "new"
    assert len(events) == 2


def test_a_feed_of_several_calendars_is_read_whole() -> None:
    one = calendar("UID:a\nDTSTART:20261201T090000Z")
    two = calendar("UID:b\nDTSTART:20261201T090000Z")
    assert set(by_id(read_events(one + two, DECEMBER, owner=OWNER))) == {"a", "b"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "unparsable"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n", "unparsable"),
        (calendar("UID:a\nDTSTART:20261201T090000Z")[:-40].encode(), "truncated"),
        (b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n", "unparsable"),
    ],
)
def test_data_that_is_not_icalendar_raises_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDataError) as caught:
        read_events(data, DECEMBER, owner=OWNER)
    assert caught.value.reason == reason
    # Cut short is a broken connection: transient and retried; the rest needs a person to look.
    assert (caught.value.kind, caught.value.retryable) == (
        ("transient", True) if reason == "truncated" else ("invalid", False)
    )


def test_unreadable_data_fix_is_chosen_by_reason() -> None:
    fixes = {
        reason: Failure.of(UnreadableDataError("x", reason=reason), "source", "feed", account_id=3).fix()
        for reason in ("unparsable", "truncated", "empty", "too_large")
    }
    assert len(set(fixes.values())) == 4
    assert "check the address" in fixes["unparsable"]
    assert "nothing was deleted" in fixes["empty"]
    assert all(fix.startswith("the source calendar feed cannot be read") for fix in fixes.values())


def test_instance_ids_are_deterministic_for_date_series() -> None:
    feed = calendar("UID:bday\nDTSTART;VALUE=DATE:20261201\nRRULE:FREQ=WEEKLY;COUNT=2")
    events = read_events(feed, DECEMBER, owner=OWNER)
    assert [event.id for event in events] == ["bday/20261201", "bday/20261208"]
    assert events == read_events(feed, DECEMBER, owner=OWNER)
    assert all(event.interval and event.interval.duration == timedelta(days=1) for event in events)


def test_a_floating_series_is_expanded_in_the_calendar_zone() -> None:
    feed = calendar(
        "UID:fs\nDTSTART:20261201T090000\nDTEND:20261201T100000\nRRULE:FREQ=DAILY;COUNT=5\nEXDATE:20261202T090000"
    )
    window = Window(at(1, 0), at(4, 0))
    events = read_events(feed, window, owner=OWNER, zone="America/Los_Angeles")
    # 09:00 in Los Angeles is 17:00 UTC; the 2nd is excluded, the 3rd is inside the window.
    assert [event.id for event in events] == ["fs/20261201T170000Z", "fs/20261203T170000Z"]
