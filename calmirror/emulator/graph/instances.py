"""What a calendar shows in a window: single events, and the occurrences of series (with their ids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from calmirror.emulator.graph import times
from calmirror.emulator.graph.model import StoredEvent

SEPARATOR = "."  # never in a URL-safe base64 id, so an occurrence id splits unambiguously


@dataclass(frozen=True)
class Instance:
    """One thing in a view: a single event (`original` None), or an occurrence or exception of a series."""

    id: str
    event: StoredEvent  # what the instance shows: the event, the series master, or the exception
    start: datetime
    end: datetime
    original: date | None = None
    series: StoredEvent | None = None  # the series master of an exception

    @property
    def master(self) -> StoredEvent:
        """The series master (or the single event itself)."""
        return self.series or self.event


def occurrence_id(master_id: str, day: date) -> str:
    """The id of a series' occurrence on a (local) date."""
    return f"{master_id}{SEPARATOR}{day:%Y%m%d}"


def split_occurrence_id(event_id: str) -> tuple[str, date] | None:
    """The (series id, date) an occurrence id names, or None for any other id."""
    master, sep, day = event_id.rpartition(SEPARATOR)
    if not sep or len(day) != 8 or not day.isdigit():
        return None
    try:
        return master, datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


def occurrence_start(event: StoredEvent, day: date) -> datetime:
    """When a series' occurrence on a local date starts (the series' time of day in its start zone)."""
    local = event.start.astimezone(times.zone(event.start_zone))
    return datetime.combine(day, local.time(), local.tzinfo).astimezone(UTC)


def instances(event: StoredEvent, start: datetime, end: datetime) -> list[Instance]:
    """The event's instances overlapping [start, end): itself, or the series' uncancelled occurrences."""
    if event.recurrence is None:
        return [Instance(event.id, event, event.start, event.end)] if event.overlaps(start, end) else []
    found = []
    for day in event.recurrence.dates():
        begins = occurrence_start(event, day)
        if begins >= end:
            break
        ends = begins + (event.end - event.start)
        if day not in event.cancelled and day not in event.exceptions and ends > start:
            found.append(Instance(occurrence_id(event.id, day), event, begins, ends, day))
    # An exception may have moved far from its date, so each is checked on its own times.
    found.extend(
        exception(event, day) for day, changed in event.exceptions.items() if changed.overlaps(start, end)
    )
    return sorted(found, key=lambda instance: (instance.start, instance.id))


def exception(event: StoredEvent, day: date) -> Instance:
    """A series' changed occurrence on a date."""
    changed = event.exceptions[day]
    return Instance(occurrence_id(event.id, day), changed, changed.start, changed.end, day, series=event)


def occurrence(event: StoredEvent, day: date) -> Instance | None:
    """The series' occurrence on a date, or None if the series has none there (or it was cancelled)."""
    if event.recurrence is None or day in event.cancelled:
        return None
    if day in event.exceptions:
        return exception(event, day)
    for candidate in event.recurrence.dates():
        if candidate > day:
            return None
        if candidate == day:
            begins = occurrence_start(event, day)
            return Instance(
                occurrence_id(event.id, day), event, begins, begins + (event.end - event.start), day
            )
    return None
