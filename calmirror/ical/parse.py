"""Read one iCalendar object (an ICS feed, or one CalDAV resource) into the engine's events over a window.

The result means what a Google listing means (calmirror/google/events.py), so the filters need not know
where an event came from. Decisions:

- Series are expanded with recurring-ical-events (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides,
  moved instances). An instance's id is `{UID}/{its RECURRENCE-ID in UTC}` (`20261201T090000Z`, or
  `20261201` for a date), so it stays the same when the instance moves; a single event's id is its UID.
- Times: a TZID is read from the object's VTIMEZONE or the IANA database, Windows names ("Eastern
  Standard Time") included; floating times are read in the calendar's `zone` (UTC when None), a
  feed's (read_feed) in the zone its X-WR-TIMEZONE names when that is known; DATE
  values make all-day intervals; a missing DTEND means DURATION, else RFC 5545's default (one day for a
  date, zero length for a date-time). A DATE event whose DTEND equals its DTSTART (a common broken
  export) lasts one day.
- Events and instances whose STATUS is CANCELLED are returned as tombstones (status "cancelled"),
  with their times when readable: the engine's cache folds them as gone and the filters skip them. An
  instance removed by EXDATE is simply absent: a caller diffing ids sees it go.
- An event whose times cannot be read is returned once under its UID with `interval=None` and
  `time_problem` saying why (the planner then holds deletions for its flow); it never stops the read.
  Its whole UID is reported so, series included: no instance of a half-readable series is guessed.
- Duplicate copies of one UID and RECURRENCE-ID (broken feeds) are folded as RFC 5545 revisions: the
  highest SEQUENCE wins, then the latest LAST-MODIFIED/DTSTAMP, then the later copy in the data. Ids
  are unique in the result; should two UIDs still yield one id, calmirror's marked block wins, else
  the first UID in sorted order.
- What an event says about its people and the owner's time (Outlook's busy status included) is read
  by people.py; its times by times.py.
- Data that is not iCalendar at all raises UnreadableDataError (calmirror/errors.py) with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from hashlib import sha256
from zoneinfo import ZoneInfo

import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Calendar, Component

from calmirror.engine import Interval, SourceEvent, Window
from calmirror.errors import TruncatedDataError, UnreadableDataError
from calmirror.ical import people, times
from calmirror.ical.blocks import block_id_of
from calmirror.ical.zones import iana_zone

# Expansion looks this far beyond the window, then each instance is judged exactly: an all-day or
# floating instance means different instants in different zones.
_MARGIN = timedelta(days=2)
# A UID holding any of these is a series: its instances are expanded and get instance ids.
_SERIES_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")


@dataclass(frozen=True)
class _Reader:
    """How one read interprets events: whose calendar it is and the zone of its floating times."""

    owner: frozenset[str]
    zone: tzinfo
    window: Window


@dataclass(frozen=True)
class FeedEvents:
    """A feed's events, and the zone it names for its floating times (X-WR-TIMEZONE) as written."""

    events: tuple[SourceEvent, ...]
    stated_zone: str | None  # X-WR-TIMEZONE as written (at most 64 characters), None when missing
    zone: str | None  # the IANA zone that names, None when none is known (the caller's zone applied)


def read_events(
    data: bytes | str, window: Window, *, owner: frozenset[str], zone: str | None = None
) -> tuple[SourceEvent, ...]:
    """Return the VEVENT instances of one iCalendar object that overlap `window`, series expanded."""
    return _read(_calendars(data), window, owner, zone)


def read_feed(
    data: bytes | str, window: Window, *, owner: frozenset[str], zone: str | None = None
) -> FeedEvents:
    """Read a feed as read_events does, its floating times in its X-WR-TIMEZONE when that is a known zone.

    X-WR-TIMEZONE is no standard, but Google, Apple and Outlook exports name their calendar's zone by
    it (https://github.com/niccokunzmann/x-wr-timezone describes it); `zone` applies when a feed
    names none, or one that is neither an IANA nor a Windows zone name.
    """
    calendars = _calendars(data)
    stated = next((str(c["X-WR-TIMEZONE"]).strip()[:64] for c in calendars if "X-WR-TIMEZONE" in c), None)
    known = iana_zone(stated) if stated else None
    return FeedEvents(_read(calendars, window, owner, known or zone), stated or None, known)


def _read(
    calendars: list[Calendar], window: Window, owner: frozenset[str], zone: str | None
) -> tuple[SourceEvent, ...]:
    """Return the VEVENT instances of parsed calendars that overlap `window`, ids unique."""
    reader = _Reader(frozenset(email.lower() for email in owner), ZoneInfo(zone) if zone else UTC, window)
    events: dict[str, SourceEvent] = {}
    for uid, copies in sorted(_by_uid(calendars).items()):
        for event in _read_uid(uid, _latest_copies(copies), reader):
            held = events.get(event.id)
            if held is None or (event.marked and not held.marked):
                events[event.id] = event
    return tuple(events.values())


def _calendars(data: bytes | str) -> list[Calendar]:
    """Parse the data's VCALENDAR objects; raise UnreadableDataError when it is not iCalendar."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.lstrip("\ufeff").strip()
    if not text:
        raise UnreadableDataError("the calendar data is empty", reason="empty")
    if not text[:15].upper().startswith("BEGIN:VCALENDAR"):
        raise UnreadableDataError("the data does not start with BEGIN:VCALENDAR", reason="unparsable")
    if not text[-13:].upper().endswith("END:VCALENDAR"):
        raise TruncatedDataError("the calendar data ends before END:VCALENDAR")
    try:
        calendars: list[Calendar] = Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        # The library's message quotes the data; only its type is worth a log line.
        raise UnreadableDataError(
            f"the calendar data is not valid iCalendar ({type(error).__name__})", reason="unparsable"
        ) from None
    if not calendars or any(calendar.name != "VCALENDAR" for calendar in calendars):
        raise UnreadableDataError("the data holds something other than VCALENDAR", reason="unparsable")
    return calendars


def _by_uid(calendars: Iterable[Calendar]) -> dict[str, list[Component]]:
    """Group every VEVENT by UID; one without a UID gets a stable one from its content."""
    groups: dict[str, list[Component]] = defaultdict(list)
    for calendar in calendars:
        for component in calendar.walk("VEVENT"):
            uid = str(component.get("UID") or "").strip()
            groups[uid or "nouid-" + sha256(component.to_ical()).hexdigest()[:20]].append(component)
    return groups


def _latest_copies(copies: Sequence[Component]) -> list[Component]:
    """Keep one copy per RECURRENCE-ID: the latest revision (SEQUENCE, then modified, then position)."""
    latest: dict[bytes, tuple[tuple[int, datetime, int], Component]] = {}
    for position, component in enumerate(copies):
        recurrence = component.get("RECURRENCE-ID")
        key = recurrence.to_ical() if recurrence is not None and hasattr(recurrence, "to_ical") else b""
        rank = (_sequence(component), times.updated(component) or datetime.min.replace(tzinfo=UTC), position)
        if key not in latest or rank > latest[key][0]:
            latest[key] = (rank, component)
    return [component for _, component in latest.values()]


def _sequence(component: Component) -> int:
    """Return the SEQUENCE number, 0 when missing or unreadable."""
    try:
        return int(component.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0


def _read_uid(uid: str, copies: list[Component], reader: _Reader) -> list[SourceEvent]:
    """Return the events of one UID overlapping the window, or one event saying its times are unreadable."""
    first = next((c for c in copies if "RECURRENCE-ID" not in c), copies[0])
    single = not any(key in component for component in copies for key in _SERIES_PROPERTIES)
    try:
        found = (
            [(first, uid, times.own_interval(first, reader.zone))]
            if single
            else _instances(uid, copies, reader)
        )
    except times.TimeError as error:
        problem = str(error)
    # A third-party library expands untrusted data: whatever it raises, only this UID is lost.
    except Exception as error:
        problem = f"the series cannot be expanded ({type(error).__name__})"
    else:
        return [
            _event(component, event_id, interval, reader, single=single)
            for component, event_id, interval in found
            if _overlaps(interval, reader)
        ]
    cancelled = people.status(first) == "cancelled"  # a tombstone's times do not matter
    return [_event(first, uid, None, reader, single=single, problem=None if cancelled else problem)]


def _instances(uid: str, copies: list[Component], reader: _Reader) -> list[tuple[Component, str, Interval]]:
    """Expand one UID's series around the window: each instance with its id and interval."""
    calendar = Calendar()
    for component in copies:
        times.own_interval(component, reader.zone)  # the library would guess around unreadable times
        calendar.add_component(component)
    window = reader.window
    found = recurring_ical_events.of(calendar).between(window.start - _MARGIN, window.end + _MARGIN)
    return [
        (
            occurrence,
            f"{uid}/{times.recurrence_key(occurrence, reader.zone)}",
            times.interval(occurrence.start, occurrence.end, reader.zone),
        )
        for occurrence in found
    ]


def _overlaps(interval: Interval, reader: _Reader) -> bool:
    """Tell whether a listing of the window returns the interval (an all-day one judged in every zone)."""
    start, end = interval.widest_span()
    return end > reader.window.start and start < reader.window.end


def _event(
    component: Component,
    event_id: str,
    interval: Interval | None,
    reader: _Reader,
    *,
    single: bool,
    problem: str | None = None,
) -> SourceEvent:
    """Build the SourceEvent of one instance (or of a whole UID whose times are unreadable).

    Only a single event can be one of calmirror's blocks: instances of a series never are, so a
    block someone made recurring is written again rather than matched.
    """
    block = block_id_of(component) if single else None
    return SourceEvent(
        id=block or event_id,
        status=people.status(component),
        summary=str(component.get("SUMMARY") or ""),
        interval=interval,
        transparency=people.transparency(component),
        attendees=people.attendees(component, reader.owner),
        organizer=people.organizer(component, reader.owner),
        marked=block is not None,
        time_problem=problem,
        updated=times.updated(component),
    )
