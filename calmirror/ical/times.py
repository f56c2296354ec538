"""Reading a VEVENT's times: its own start and end, an instance's interval and id suffix, when it changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from icalendar import Component

from calmirror.engine import Interval

# Properties whose breakage makes an event's times unreadable.
_TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE"})


class TimeError(ValueError):
    """An event's times cannot be read."""


def updated(component: Component) -> datetime | None:
    """Return LAST-MODIFIED (else DTSTAMP) as a UTC instant, None when neither is readable."""
    for name in ("LAST-MODIFIED", "DTSTAMP"):
        value = getattr(_value(component, name), "dt", None) if name not in _broken(component) else None
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _broken(component: Component) -> set[str]:
    """Return the names of the properties the parser could not read."""
    return {str(name) for name, _ in component.errors}


def own_interval(component: Component, zone: tzinfo) -> Interval:
    """Read one VEVENT's own DTSTART and DTEND (else DURATION, else RFC 5545's default)."""
    broken = sorted(_broken(component) & _TIME_PROPERTIES)
    if broken:
        raise TimeError(f"unreadable {', '.join(broken)}")
    if "DTSTART" not in component:
        raise TimeError("no DTSTART")
    start = _when(component, "DTSTART", zone)
    if "DTEND" in component:
        end = _when(component, "DTEND", zone)
    elif "DURATION" in component:
        duration = _value(component, "DURATION").dt
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise TimeError("unreadable DURATION")
        end = start + duration
    else:
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    return interval(start, end, zone)


def _when(component: Component, name: str, zone: tzinfo) -> date:
    """Read one date or date-time property; a TZID nobody knows is an error, not a floating time."""
    prop = _value(component, name)
    value = prop.dt
    tzid = prop.params.get("TZID")
    if not isinstance(value, date):
        raise TimeError(f"{name} is not a date or a date-time")
    if isinstance(value, datetime) and value.tzinfo is None and tzid:
        raise TimeError(f"unknown time zone {tzid!r} in {name}")
    return value


def _value(component: Component, name: str) -> Any:
    """Return one property's parsed value (the library's types are a wide union; callers check)."""
    return component.get(name)


def _aware(value: datetime, zone: tzinfo) -> datetime:
    """Return a date-time as a UTC instant, reading a floating one in the calendar's zone."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(UTC)


def interval(start: date, end: date, zone: tzinfo) -> Interval:
    """Build the interval of an instance's start and end (dates make an all-day interval)."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        if _aware(end, zone) < _aware(start, zone):
            raise TimeError("it ends before it starts")
        return Interval.timed(_aware(start, zone), _aware(end, zone))
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TimeError("DTSTART and DTEND are not both dates or both date-times")
    if end < start:
        raise TimeError("it ends before it starts")
    return Interval.days(start, max(end, start + timedelta(days=1)))


def recurrence_key(occurrence: Any, zone: tzinfo) -> str:
    """Render an instance's RECURRENCE-ID (its original start) as the id suffix: UTC, or a date."""
    recurrence = occurrence.get("RECURRENCE-ID")
    value = recurrence.dt if recurrence is not None else occurrence.start
    if isinstance(value, datetime):
        return _aware(value, zone).strftime("%Y%m%dT%H%M%SZ")
    return str(value.strftime("%Y%m%d"))
