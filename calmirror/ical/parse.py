"""Read one iCalendar object (an ICS feed, or one CalDAV resource) into the engine's events over a window.

The result means what a Google listing means (calmirror/engine/events.py), so the filters need not know
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
- Outlook's X-MICROSOFT-CDO-BUSYSTATUS is the owner's own free/busy: FREE reads transparent, BUSY and
  OOF opaque, TENTATIVE makes the owner's answer tentative (their attendee entry, added when missing
  and an owner address is known: they are a participant) so a flow's tentative policy applies.
- Data that is not iCalendar at all raises UnreadableDataError (calmirror/errors.py) with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from hashlib import sha256
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Calendar, Component

from calmirror.engine import Attendee, Interval, SourceEvent, Window
from calmirror.errors import TruncatedDataError, UnreadableDataError
from calmirror.ical.blocks import block_id_of
from calmirror.ical.zones import iana_zone

# Expansion looks this far beyond the window, then each instance is judged exactly: an all-day or
# floating instance means different instants in different zones.
_MARGIN = timedelta(days=2)
# Properties whose breakage makes an event's times unreadable.
_TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE"})
# A UID holding any of these is a series: its instances are expanded and get instance ids.
_SERIES_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")
_PARTSTAT = MappingProxyType({"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"})
_STATUS_PROPERTY = "STATUS"
_STATUS = MappingProxyType({"CANCELLED": "cancelled", "TENTATIVE": "tentative"})


class _TimeError(ValueError):
    """An event's times cannot be read."""


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
        rank = (_sequence(component), _updated(component) or datetime.min.replace(tzinfo=UTC), position)
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
            [(first, uid, _own_interval(first, reader.zone))] if single else _instances(uid, copies, reader)
        )
    except _TimeError as error:
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
    cancelled = _status(first) == "cancelled"  # a tombstone's times do not matter
    return [_event(first, uid, None, reader, single=single, problem=None if cancelled else problem)]


def _instances(uid: str, copies: list[Component], reader: _Reader) -> list[tuple[Component, str, Interval]]:
    """Expand one UID's series around the window: each instance with its id and interval."""
    calendar = Calendar()
    for component in copies:
        _own_interval(component, reader.zone)  # the library would guess around unreadable times
        calendar.add_component(component)
    window = reader.window
    found = recurring_ical_events.of(calendar).between(window.start - _MARGIN, window.end + _MARGIN)
    return [
        (
            occurrence,
            f"{uid}/{_recurrence_key(occurrence, reader.zone)}",
            _interval(occurrence.start, occurrence.end, reader.zone),
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
    attendees = _attendees(component, reader.owner)
    return SourceEvent(
        id=block or event_id,
        status=_status(component),
        summary=str(component.get("SUMMARY") or ""),
        interval=interval,
        transparency=_transparency(component),
        attendees=_busy_status_answer(component, attendees, reader.owner),
        organizer=_organizer(component, reader.owner),
        marked=block is not None,
        time_problem=problem,
        updated=_updated(component),
    )


def _status(component: Component) -> str:
    """Map STATUS to the engine's words (confirmed when missing)."""
    status = component.get(_STATUS_PROPERTY) or ""
    return _STATUS.get(str(status).upper(), "confirmed")


def _busy_status(component: Component) -> str:
    """Return Outlook's X-MICROSOFT-CDO-BUSYSTATUS, upper-cased ("" when missing)."""
    return str(component.get("X-MICROSOFT-CDO-BUSYSTATUS") or "").strip().upper()


def _transparency(component: Component) -> str:
    """Map TRANSP and Outlook's busy status (which wins, being the owner's own) to the engine's words."""
    busy = _busy_status(component)
    if busy == "FREE":
        return "transparent"
    if busy in {"BUSY", "OOF", "TENTATIVE"}:
        return "opaque"
    return "transparent" if str(component.get("TRANSP") or "").upper() == "TRANSPARENT" else "opaque"


def _addresses(component: Component, name: str) -> list[Any]:
    """Return a property that may occur many times as a list."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _email(address: Any) -> str:
    """Return the lowercased email of a calendar address (mailto:, else its EMAIL parameter, else as is)."""
    text = str(address).strip()
    if text.lower().startswith("mailto:"):
        return text[7:].strip().lower()
    params = getattr(address, "params", {})
    return str(params.get("EMAIL") or text).strip().lower()


def _attendees(component: Component, owner: frozenset[str]) -> tuple[Attendee, ...] | None:
    """Read the ATTENDEE lines; None when the event has none."""
    entries = _addresses(component, "ATTENDEE")
    if not entries:
        return None
    attendees = []
    for entry in entries:
        params = getattr(entry, "params", {})
        email = _email(entry)
        attendees.append(
            Attendee(
                email=email,
                is_self=email in owner,
                resource=str(params.get("CUTYPE") or "").upper() in {"RESOURCE", "ROOM"},
                response_status=_PARTSTAT.get(str(params.get("PARTSTAT") or "").upper(), "needsAction"),
            )
        )
    return tuple(attendees)


def _busy_status_answer(
    component: Component, attendees: tuple[Attendee, ...] | None, owner: frozenset[str]
) -> tuple[Attendee, ...] | None:
    """Make the owner's answer tentative when Outlook says their time is tentative (a refusal stays)."""
    if _busy_status(component) != "TENTATIVE":
        return attendees
    entries = list(attendees or ())
    if not any(entry.is_self for entry in entries):
        if not owner:
            return attendees
        entries.append(Attendee(email=min(owner), is_self=True, response_status="tentative"))
    return tuple(
        Attendee(entry.email, True, entry.resource, "tentative", entry.organizer)
        if entry.is_self and not entry.declined
        else entry
        for entry in entries
    )


def _organizer(component: Component, owner: frozenset[str]) -> Attendee | None:
    """Read the ORGANIZER line, when there is one."""
    entry = component.get("ORGANIZER")
    if entry is None or not str(entry).strip():
        return None
    email = _email(entry)
    return Attendee(email=email, is_self=email in owner, response_status="accepted", organizer=True)


def _updated(component: Component) -> datetime | None:
    """Return LAST-MODIFIED (else DTSTAMP) as a UTC instant, None when neither is readable."""
    for name in ("LAST-MODIFIED", "DTSTAMP"):
        value = getattr(_value(component, name), "dt", None) if name not in _broken(component) else None
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _broken(component: Component) -> set[str]:
    """Return the names of the properties the parser could not read."""
    return {str(name) for name, _ in component.errors}


def _own_interval(component: Component, zone: tzinfo) -> Interval:
    """Read one VEVENT's own DTSTART and DTEND (else DURATION, else RFC 5545's default)."""
    broken = sorted(_broken(component) & _TIME_PROPERTIES)
    if broken:
        raise _TimeError(f"unreadable {', '.join(broken)}")
    if "DTSTART" not in component:
        raise _TimeError("no DTSTART")
    start = _when(component, "DTSTART", zone)
    if "DTEND" in component:
        end = _when(component, "DTEND", zone)
    elif "DURATION" in component:
        duration = _value(component, "DURATION").dt
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise _TimeError("unreadable DURATION")
        end = start + duration
    else:
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    return _interval(start, end, zone)


def _when(component: Component, name: str, zone: tzinfo) -> date:
    """Read one date or date-time property; a TZID nobody knows is an error, not a floating time."""
    prop = _value(component, name)
    value = prop.dt
    tzid = prop.params.get("TZID")
    if not isinstance(value, date):
        raise _TimeError(f"{name} is not a date or a date-time")
    if isinstance(value, datetime) and value.tzinfo is None and tzid:
        raise _TimeError(f"unknown time zone {tzid!r} in {name}")
    return value


def _value(component: Component, name: str) -> Any:
    """Return one property's parsed value (the library's types are a wide union; callers check)."""
    return component.get(name)


def _aware(value: datetime, zone: tzinfo) -> datetime:
    """Return a date-time as a UTC instant, reading a floating one in the calendar's zone."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(UTC)


def _interval(start: date, end: date, zone: tzinfo) -> Interval:
    """Build the interval of an instance's start and end (dates make an all-day interval)."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        if _aware(end, zone) < _aware(start, zone):
            raise _TimeError("it ends before it starts")
        return Interval.timed(_aware(start, zone), _aware(end, zone))
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise _TimeError("DTSTART and DTEND are not both dates or both date-times")
    if end < start:
        raise _TimeError("it ends before it starts")
    return Interval.days(start, max(end, start + timedelta(days=1)))


def _recurrence_key(occurrence: Any, zone: tzinfo) -> str:
    """Render an instance's RECURRENCE-ID (its original start) as the id suffix: UTC, or a date."""
    recurrence = occurrence.get("RECURRENCE-ID")
    value = recurrence.dt if recurrence is not None else occurrence.start
    if isinstance(value, datetime):
        return _aware(value, zone).strftime("%Y%m%dT%H%M%SZ")
    return str(value.strftime("%Y%m%d"))
