"""The Graph emulator's state: mailboxes by address, their calendars and events, and a change counter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from calmirror.emulator.graph import events, invitations
from calmirror.emulator.graph.errors import invalid_request, not_found
from calmirror.emulator.graph.instances import Instance
from calmirror.emulator.graph.model import (
    Calendar,
    Mailbox,
    StoredEvent,
    Tombstone,
    new_change_key,
    new_id,
)


def utc_now() -> datetime:
    """The wall clock in UTC (the store's default clock)."""
    return datetime.now(UTC)


class GraphStore:
    """Mailboxes, calendars and events; every write bumps `version` so delta rounds can find changes."""

    def __init__(
        self, clock: Callable[[], datetime] = utc_now, *, transactions_outlive_delete: bool = False
    ) -> None:
        self.clock = clock
        # Microsoft documents transactionId only as protection against a retried POST; whether a deleted
        # event's id is free again is not documented. By default it is; with this flag it stays taken,
        # and a POST reusing it answers the deleted event as it last was (a client must cope with both).
        self.transactions_outlive_delete = transactions_outlive_delete
        self.mailboxes: dict[str, Mailbox] = {}
        self.calendars: dict[str, Calendar] = {}
        self.events: dict[str, StoredEvent] = {}
        self.tombstones: dict[str, Tombstone] = {}
        self.transactions: dict[tuple[str, str], str] = {}  # (mailbox, transactionId) -> event id
        self.versions: dict[str, list[StoredEvent]] = {}  # every version of every event, oldest first
        self.meetings: set[str] = set()  # iCalUIds delivered to an attendee's mailbox (invitations.py)
        self.version = 0
        # Called with (calendar id, event id, changeType) after every event write: subscriptions notify.
        self.listeners: list[Callable[[str, str, str], None]] = []

    # --- mailboxes and calendars -------------------------------------------------------------------

    def add_mailbox(self, email: str, name: str | None = None) -> Mailbox:
        """Create a mailbox with its default calendar, named "Calendar" as Outlook names it."""
        calendar = Calendar(new_id("AAMkAC"), email.lower(), "Calendar", True, new_change_key())
        mailbox = Mailbox(email.lower(), name or email.split("@", maxsplit=1)[0].title(), calendar.id)
        self.mailboxes[mailbox.email] = mailbox
        self.calendars[calendar.id] = calendar
        return mailbox

    def create_calendar(self, email: str, name: str) -> Calendar:
        """Add a secondary calendar to a mailbox."""
        owner = self.mailbox(email).email
        calendar = Calendar(new_id("AAMkAC"), owner, name, False, new_change_key())
        self.calendars[calendar.id] = calendar
        return calendar

    def mailbox(self, user: str) -> Mailbox:
        """The mailbox a user id (its address) names."""
        mailbox = self.mailboxes.get(user.lower())
        if mailbox is None:
            raise not_found(f"user {user}")
        return mailbox

    def calendars_of(self, user: str) -> list[Calendar]:
        """A mailbox's calendars, the default one first."""
        owner = self.mailbox(user).email
        found = [c for c in self.calendars.values() if c.owner == owner]
        return sorted(found, key=lambda c: not c.is_default)

    def calendar(self, user: str, calendar_id: str | None) -> Calendar:
        """A calendar of a mailbox; `None` means its default calendar."""
        mailbox = self.mailbox(user)
        calendar = self.calendars.get(calendar_id or mailbox.default_calendar_id)
        if calendar is None or calendar.owner != mailbox.email:
            raise not_found(f"calendar {calendar_id}")
        return calendar

    # --- events ------------------------------------------------------------------------------------

    def _server_fields(self) -> dict[str, Any]:
        """The fields the server sets on every write: a new changeKey and the next version."""
        self.version += 1
        return {"change_key": new_change_key(), "version": self.version}

    def insert(self, calendar: Calendar, body: Mapping[str, Any]) -> tuple[StoredEvent, bool]:
        """Create an event, or return the earlier one with the same transactionId (and False)."""
        transaction = body.get("transactionId")
        earlier = (
            self.transactions.get((calendar.owner, transaction)) if isinstance(transaction, str) else None
        )
        if earlier is not None and earlier in self.events:
            return self.events[earlier], False
        if earlier is not None and self.transactions_outlive_delete:
            return self.versions[earlier][-1], False
        event_id = new_id()
        event = events.created(
            body,
            event_id=event_id,
            calendar_id=calendar.id,
            now=self.clock(),
            ical_uid=new_id("040000008200E0"),
            **self._server_fields(),
        )
        self._write(event)
        if event.transaction_id is not None:
            self.transactions[(calendar.owner, event.transaction_id)] = event.id
        invitations.deliver(self, event)
        return event, True

    def event(self, calendar_ids: set[str], event_id: str) -> StoredEvent:
        """An event in one of the given calendars."""
        event = self.events.get(event_id)
        if event is None or event.calendar_id not in calendar_ids:
            raise not_found(f"event {event_id}")
        return event

    def update(self, event: StoredEvent, body: Mapping[str, Any]) -> StoredEvent:
        """Apply a PATCH body to an event."""
        changed = events.patched(event, body, now=self.clock(), **self._server_fields())
        self._write(changed)
        invitations.deliver(self, changed)
        return changed

    def cancel_occurrence(self, event: StoredEvent, day: date) -> None:
        """Delete one occurrence of a series (the series gets a new version)."""
        left = {d: e for d, e in event.exceptions.items() if d != day}
        now, server = self.clock(), self._server_fields()
        series = replace(event, cancelled=event.cancelled | {day}, exceptions=left, modified=now, **server)
        self._write(series)
        invitations.deliver(self, series)

    def update_occurrence(self, instance: Instance, body: Mapping[str, Any]) -> Instance:
        """Change one occurrence: it becomes (or stays) an exception stored on its series."""
        if "recurrence" in body:
            raise invalid_request("An occurrence of a series cannot have its own recurrence.")
        master, day = instance.master, instance.original
        assert day is not None, "only occurrences are updated here"
        base = instance.event if instance.series is not None else single_copy(master, instance)
        now, server = self.clock(), self._server_fields()
        changed = events.patched(base, body, now=now, **server)
        series = replace(master, exceptions={**master.exceptions, day: changed}, modified=now, **server)
        self._write(series)
        invitations.deliver(self, series)
        return Instance(instance.id, changed, changed.start, changed.end, day, series=series)

    def rewrite(self, event: StoredEvent, **changes: Any) -> StoredEvent:
        """Store a server-side change of an event (new changeKey and version): invitations, responses."""
        changed = replace(event, **changes, modified=self.clock(), **self._server_fields())
        self._write(changed)
        return changed

    def _write(self, event: StoredEvent) -> None:
        """Store an event and keep the version (delta rounds ask what the client saw before)."""
        change = "updated" if event.id in self.versions else "created"
        self.events[event.id] = event
        self.versions.setdefault(event.id, []).append(event)
        self._changed(event.calendar_id, event.id, change)

    def at(self, event_id: str, version: int) -> StoredEvent | None:
        """An event as it was at a version (None before it existed or once it was deleted)."""
        gone = self.tombstones.get(event_id)
        if gone is not None and gone.version <= version:
            return None
        found = None
        for written in self.versions.get(event_id, []):
            if written.version <= version:
                found = written
        return found

    def changed_between(self, calendar_id: str, since: int, upto: int) -> list[str]:
        """Ids of a calendar's events written or deleted after `since` up to `upto`, oldest change first."""
        last: dict[str, int] = {}
        for event_id, written in self.versions.items():
            for event in written:
                if event.calendar_id == calendar_id and since < event.version <= upto:
                    last[event_id] = event.version
        for gone in self.tombstones.values():
            if gone.calendar_id == calendar_id and since < gone.version <= upto:
                last[gone.id] = gone.version
        return sorted(last, key=lambda event_id: (last[event_id], event_id))

    def delete(self, event: StoredEvent) -> None:
        """Delete an event, leaving a tombstone for delta rounds."""
        del self.events[event.id]
        self.version += 1
        self.tombstones[event.id] = Tombstone(event.id, event.calendar_id, self.version)
        self._changed(event.calendar_id, event.id, "deleted")
        invitations.cancel(self, event)

    def _changed(self, calendar_id: str, event_id: str, change_type: str) -> None:
        """Tell the listeners (subscriptions) about one event write, whatever made it."""
        for listener in list(self.listeners):
            listener(calendar_id, event_id, change_type)

    def events_in(self, calendar_id: str) -> list[StoredEvent]:
        """A calendar's events in start order."""
        found = [e for e in self.events.values() if e.calendar_id == calendar_id]
        return sorted(found, key=lambda e: (e.start, e.id))


def single_copy(master: StoredEvent, instance: Instance) -> StoredEvent:
    """An occurrence as an event of its own, the starting point of an exception."""
    return replace(
        master,
        id=instance.id,
        start=instance.start,
        end=instance.end,
        recurrence=None,
        cancelled=frozenset(),
        exceptions={},
    )
