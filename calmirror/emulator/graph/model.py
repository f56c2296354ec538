"""The Graph emulator's domain values: mailboxes, calendars, stored events and deletion tombstones."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from calmirror.emulator.graph.recurrence import Recurrence


@dataclass(frozen=True)
class Mailbox:
    """A user's mailbox: its address (the user id the emulator accepts), name and default calendar."""

    email: str
    name: str
    default_calendar_id: str


@dataclass(frozen=True)
class Calendar:
    """A calendar in a mailbox."""

    id: str
    owner: str
    name: str
    is_default: bool
    change_key: str


@dataclass(frozen=True)
class Attendee:
    """An attendee of an event: address, name, type (required/optional/resource) and response."""

    address: str
    name: str
    type: str
    response: str = "none"
    time: datetime | None = None  # when the attendee responded


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: start/end as UTC instants plus the zones they were written in."""

    id: str
    calendar_id: str
    subject: str
    start: datetime
    end: datetime
    start_zone: str
    end_zone: str
    is_all_day: bool
    show_as: str
    sensitivity: str
    is_reminder_on: bool
    attendees: tuple[Attendee, ...]
    transaction_id: str | None
    extended: Mapping[str, str]
    created: datetime
    modified: datetime
    change_key: str
    version: int  # the store's change counter when this version was written (delta rounds)
    ical_uid: str
    recurrence: Recurrence | None = None  # set on a series master
    cancelled: frozenset[date] = frozenset()  # occurrence dates deleted from a series
    exceptions: Mapping[date, StoredEvent] = field(default_factory=dict)  # changed occurrences by date
    response_requested: bool = True
    body_text: str = ""  # the itemBody's content (kept as text)
    # A meeting's copy in an attendee's calendar names its organizer; None: the calendar's owner does.
    organizer: tuple[str, str] | None = None  # (address, name)
    response: str = "organizer"  # this mailbox's responseStatus.response
    response_time: datetime | None = None
    is_cancelled: bool = False  # the organizer cancelled the meeting (the copy stays until removed)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the event shares time with the window [start, end) (calendarView's rule)."""
        return self.start < end and self.end > start


@dataclass(frozen=True)
class Tombstone:
    """What is left of a deleted event: when it went, so that delta rounds can report `@removed`."""

    id: str
    calendar_id: str
    version: int


def new_id(prefix: str = "AAMkA") -> str:
    """A Graph-looking opaque id (URL-safe base64, like Outlook's REST ids)."""
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode("ascii")


def new_change_key() -> str:
    """A fresh changeKey (opaque, new on every write)."""
    return base64.b64encode(secrets.token_bytes(12)).decode("ascii")


JsonObject = dict[str, Any]
