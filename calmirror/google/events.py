"""Parse Google Calendar event resources into the engine's model.

- `dateTime` with an offset becomes a UTC instant; a `dateTime` without offset is read in the
  `timeZone` next to it (zoneinfo); `date` makes an all-day interval (end exclusive).
- A live event whose times cannot be read keeps `interval=None` and says why in `time_problem`, so one
  odd event never stops a pass (the planner then refuses deletions for that flow: it cannot tell which
  block the event wants).
- Minimal cancelled tombstones (only `id` and `status`) parse without error.
- Missing `status` means confirmed, missing `transparency` means opaque, missing `eventType` means
  default; attendee and organizer emails are lowercased.
- The `organizer` is kept apart from `attendees`: Google stores the attendee list exactly as a client
  sent it, so the organizer is often missing from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calmirror.engine import Attendee, Interval, SourceEvent
from calmirror.google.blocks import is_marked


class _TimeError(ValueError):
    """An event's start or end cannot be read."""


def _instant(when: Mapping[str, Any]) -> datetime:
    """Read a `dateTime` end of an event as a UTC instant."""
    try:
        value = datetime.fromisoformat(str(when["dateTime"]))
    except ValueError as error:
        raise _TimeError(f"unreadable dateTime {when['dateTime']!r}") from error
    if value.tzinfo is None:
        zone_name = when.get("timeZone")
        if not zone_name:
            raise _TimeError("dateTime without offset or timeZone")
        try:
            value = value.replace(tzinfo=ZoneInfo(str(zone_name)))
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise _TimeError(f"unknown timeZone {zone_name!r}") from error
    return value.astimezone(UTC)


def _day(when: Mapping[str, Any]) -> date:
    """Read a `date` end of an all-day event."""
    try:
        return date.fromisoformat(str(when["date"]))
    except ValueError as error:
        raise _TimeError(f"unreadable date {when['date']!r}") from error


def parse_interval(start: Mapping[str, Any] | None, end: Mapping[str, Any] | None) -> Interval:
    """Read an event's start and end into an Interval; raise ValueError when they make none."""
    if not start or not end:
        raise _TimeError("start or end missing")
    try:
        if "dateTime" in start and "dateTime" in end:
            return Interval.timed(_instant(start), _instant(end))
        if "date" in start and "date" in end:
            return Interval.days(_day(start), _day(end))
    except _TimeError:
        raise
    except ValueError as error:  # e.g. an end before the start
        raise _TimeError(str(error)) from error
    raise _TimeError("start and end are neither both dateTime nor both date")


def _attendee(entry: Mapping[str, Any]) -> Attendee:
    """Read one attendee entry."""
    return Attendee(
        email=str(entry.get("email") or "").lower(),
        is_self=bool(entry.get("self", False)),
        resource=bool(entry.get("resource", False)),
        response_status=str(entry.get("responseStatus") or "needsAction"),
        organizer=bool(entry.get("organizer", False)),
    )


def _organizer(entry: Any) -> Attendee | None:
    """Read the organizer entry, when the resource names one with an email."""
    if not isinstance(entry, Mapping) or not entry.get("email"):
        return None
    return Attendee(
        email=str(entry["email"]).lower(),
        is_self=bool(entry.get("self", False)),
        response_status="accepted",
        organizer=True,
    )


def _updated(resource: Mapping[str, Any]) -> datetime | None:
    """Return when the event last changed (its RFC 3339 `updated`), None when missing or unreadable."""
    try:
        at = datetime.fromisoformat(str(resource["updated"]))
    except (KeyError, ValueError):
        return None
    return at.astimezone(UTC) if at.tzinfo is not None else None


def is_recurring(resource: Mapping[str, Any]) -> bool:
    """Tell whether a listed event belongs to a recurring series."""
    return bool(resource.get("recurringEventId") or resource.get("recurrence"))


def parse_event(resource: Mapping[str, Any]) -> SourceEvent:
    """Parse one Google event resource; never raises for an odd shape, only for a missing id."""
    status = str(resource.get("status") or "confirmed")
    interval: Interval | None = None
    problem: str | None = None
    if status != "cancelled" or "start" in resource:
        try:
            interval = parse_interval(resource.get("start"), resource.get("end"))
        except _TimeError as error:
            # A tombstone need not carry times; only a live event's missing times are a problem.
            problem = None if status == "cancelled" else str(error)
    attendees = resource.get("attendees")
    return SourceEvent(
        id=str(resource["id"]),
        status=status,
        summary=str(resource.get("summary") or ""),
        interval=interval,
        transparency=str(resource.get("transparency") or "opaque"),
        event_type=str(resource.get("eventType") or "default"),
        attendees=None if attendees is None else tuple(_attendee(entry) for entry in attendees),
        organizer=_organizer(resource.get("organizer")),
        marked=is_marked(resource),
        time_problem=problem,
        updated=_updated(resource),
    )


def parse_events(resources: Iterable[Mapping[str, Any]]) -> tuple[SourceEvent, ...]:
    """Parse a listing's event resources."""
    return tuple(parse_event(resource) for resource in resources)
