"""Parsing Google event resources into the engine's model."""

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from calmirror.engine import Attendee, Interval, TargetBlock
from calmirror.engine.filters import participants
from calmirror.google.events import parse_event, parse_events

MARK = {"private": {"calmirror": "block"}}


def timed(start: str, end: str, **extra: Any) -> dict[str, Any]:
    """Return a confirmed timed event resource."""
    return {
        "id": "ev1",
        "status": "confirmed",
        "start": {"dateTime": start},
        "end": {"dateTime": end},
        **extra,
    }


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """Return a UTC datetime."""
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ({"dateTime": "2026-11-23T10:00:00+01:00"}, {"dateTime": "2026-11-23T11:00:00+01:00"}, (9, 10)),
        ({"dateTime": "2026-11-23T09:00:00Z"}, {"dateTime": "2026-11-23T10:00:00Z"}, (9, 10)),
        (
            {"dateTime": "2026-11-23T10:00:00", "timeZone": "Europe/Berlin"},
            {"dateTime": "2026-11-23T11:00:00", "timeZone": "Europe/Berlin"},
            (9, 10),
        ),
        (
            {"dateTime": "2026-07-23T10:00:00", "timeZone": "Europe/Berlin"},
            {"dateTime": "2026-07-23T11:00:00", "timeZone": "Europe/Berlin"},
            (8, 9),
        ),
    ],
)
def test_date_times_become_utc_instants(
    start: dict[str, str], end: dict[str, str], expected: tuple[int, int]
) -> None:
    """Offsets are honoured, and a dateTime without offset is read in its timeZone, DST included."""
    event = parse_event({"id": "ev1", "start": start, "end": end})
    assert event.interval is not None
    day = date.fromisoformat(start["dateTime"][:10])
    assert (event.interval.start, event.interval.end) == (
        utc(day.year, day.month, day.day, expected[0]),
        utc(day.year, day.month, day.day, expected[1]),
    )
    assert not event.interval.all_day


def test_dates_become_an_all_day_interval() -> None:
    """`date` ends make an all-day interval with an exclusive end."""
    event = parse_event({"id": "d", "start": {"date": "2026-11-23"}, "end": {"date": "2026-11-25"}})
    assert event.interval == Interval.days(date(2026, 11, 23), date(2026, 11, 25))


def test_minimal_tombstone_parses() -> None:
    """A cancelled event carrying only id and status parses, with no interval and no problem."""
    event = parse_event({"id": "gone", "status": "cancelled"})
    assert event.cancelled
    assert (event.interval, event.time_problem, event.attendees) == (None, None, None)


@pytest.mark.parametrize(
    "resource",
    [
        {"id": "a"},
        timed("2026-11-23T10:00:00", "2026-11-23T11:00:00"),
        timed("2026-11-23T10:00:00Z", "2026-11-23T09:00:00Z"),
        timed("tomorrow", "2026-11-23T09:00:00Z"),
        {"id": "a", "start": {"date": "2026-11-23"}, "end": {"dateTime": "2026-11-23T09:00:00Z"}},
        {"id": "a", "start": {"dateTime": "2026-11-23T10:00:00", "timeZone": "Mars/Olympus"}, "end": {}},
    ],
)
def test_unusable_times_are_reported_not_raised(resource: dict[str, Any]) -> None:
    """A live event whose start and end make no interval keeps interval None and says why."""
    event = parse_event(resource)
    assert event.interval is None
    assert event.time_problem


def test_defaults_follow_google() -> None:
    """Missing status, transparency and eventType mean confirmed, opaque and default."""
    event = parse_event(timed("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z"))
    assert (event.status, event.transparency, event.event_type, event.marked) == (
        "confirmed",
        "opaque",
        "default",
        False,
    )


def test_attendees_are_read_with_lowercased_emails() -> None:
    """Attendee email, self, resource, response status and organizer are kept; emails lowercased."""
    resource = timed(
        "2026-11-23T09:00:00Z",
        "2026-11-23T10:00:00Z",
        attendees=[
            {"email": "Alice@Example.com", "self": True, "organizer": True, "responseStatus": "accepted"},
            {"email": "room-1@resource.calendar.google.com", "resource": True},
        ],
        summary="Planning",
        transparency="transparent",
        eventType="focusTime",
    )
    event = parse_event(resource)
    assert event.attendees == (
        Attendee("alice@example.com", is_self=True, response_status="accepted", organizer=True),
        Attendee("room-1@resource.calendar.google.com", resource=True),
    )
    assert (event.summary, event.transparency, event.event_type) == ("Planning", "transparent", "focusTime")


@pytest.mark.parametrize(
    ("organizer", "expected"),
    [
        ({"email": "Bob@Example.com", "displayName": "Bob"}, Attendee("bob@example.com", organizer=True)),
        (
            {"email": "alice@example.com", "self": True},
            Attendee("alice@example.com", is_self=True, organizer=True),
        ),
        ({"displayName": "no email"}, None),
        (None, None),
    ],
)
def test_organizer_is_read_apart_from_the_attendees(
    organizer: dict[str, Any] | None, expected: Attendee | None
) -> None:
    """The organizer entry is kept with its email lowercased and its self flag; without email it is none."""
    extra = {} if organizer is None else {"organizer": organizer}
    event = parse_event(timed("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z", **extra))
    assert event.organizer == (None if expected is None else replace(expected, response_status="accepted"))


def test_organizer_and_attendee_with_one_email_in_two_spellings_are_one_participant() -> None:
    """De-duplication by email is case-insensitive: the organizer listed as attendee counts once."""
    resource = timed(
        "2026-11-23T09:00:00Z",
        "2026-11-23T10:00:00Z",
        organizer={"email": "Bob@Example.COM"},
        attendees=[{"email": "bob@example.com"}, {"email": "alice@example.com", "self": True}],
    )
    assert participants(parse_event(resource)) == 2


def test_marked_live_event_is_a_block() -> None:
    """An event carrying the private mark is one of calmirror's blocks."""
    event = parse_event(timed("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z", extendedProperties=MARK))
    assert event.marked
    assert event.as_block() == TargetBlock(Interval(utc(2026, 11, 23, 9), utc(2026, 11, 23, 10)), "ev1")


@pytest.mark.parametrize(
    "resource",
    [
        timed("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z"),  # not marked
        timed("2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z", extendedProperties=MARK, status="cancelled"),
        {"id": "gone", "status": "cancelled"},
    ],
)
def test_unmarked_or_cancelled_events_are_not_blocks(resource: dict[str, Any]) -> None:
    """Unmarked events and cancelled ones are never treated as live blocks."""
    assert parse_event(resource).as_block() is None


def test_parse_events_keeps_listing_order() -> None:
    """A listing parses into events in the same order."""
    events = parse_events([{"id": "b", "status": "cancelled"}, {"id": "a", "status": "cancelled"}])
    assert [event.id for event in events] == ["b", "a"]
