"""Meetings between the emulator's mailboxes: each invited mailbox's copy, kept in step with the organizer's.

Outlook delivers a meeting to every attendee's default calendar as an event of its own (own id, same
iCalUId, `isOrganizer` false, `responseStatus` notResponded) and updates or cancels it with the
organizer's event: https://learn.microsoft.com/graph/outlook-calendar-concept-overview (meetings),
https://learn.microsoft.com/graph/api/resources/event (isCancelled, responseStatus).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from calmirror.emulator.graph.instances import occurrence_id, occurrence_start
from calmirror.emulator.graph.model import StoredEvent, new_id

if TYPE_CHECKING:
    from calmirror.emulator.graph.store import GraphStore

NOT_RESPONDED = "notResponded"


def shown_as(response: str, organizer_show_as: str) -> str:
    """How busy a meeting makes an attendee: tentative until accepted, free once declined."""
    if response == "accepted":
        return organizer_show_as
    return "free" if response == "declined" else "tentative"


def copies(store: GraphStore, event: StoredEvent) -> dict[str, StoredEvent]:
    """The invitation copies of an organizer's event, by the mailbox that holds each."""
    if event.ical_uid not in store.meetings:
        return {}  # never delivered: no need to look through every event
    owner = store.calendars[event.calendar_id].owner
    return {
        store.calendars[e.calendar_id].owner: e
        for e in store.events.values()
        if e.ical_uid == event.ical_uid and e.organizer is not None and e.organizer[0] == owner
    }


def organizer_event(store: GraphStore, copy: StoredEvent) -> StoredEvent | None:
    """The organizer's event a copy belongs to (None once it is deleted or not in the emulator)."""
    assert copy.organizer is not None, "only copies have an organizer of their own"
    return next(
        (
            e
            for e in store.events.values()
            if e.ical_uid == copy.ical_uid
            and e.organizer is None
            and store.calendars[e.calendar_id].owner == copy.organizer[0]
        ),
        None,
    )


def deliver(store: GraphStore, event: StoredEvent) -> None:
    """After an organizer's write: create or update each invited mailbox's copy, cancel dropped ones."""
    if event.organizer is not None:
        return  # an attendee changed their own copy: nothing goes out
    owner = store.mailboxes[store.calendars[event.calendar_id].owner]
    invited = {a.address.lower() for a in event.attendees} & set(store.mailboxes) - {owner.email}
    held = copies(store, event)
    for mailbox, copy in held.items():
        if mailbox not in invited and not copy.is_cancelled:
            store.rewrite(copy, is_cancelled=True)
    if invited:
        store.meetings.add(event.ical_uid)
    for mailbox in sorted(invited):
        previous = held.get(mailbox)
        calendar_id = previous.calendar_id if previous else store.mailboxes[mailbox].default_calendar_id
        store.rewrite(
            event, **mirrored(event, previous, calendar_id, (owner.email, owner.name), store.clock())
        )


def cancel(store: GraphStore, event: StoredEvent) -> None:
    """The organizer deleted a meeting: every copy says it is cancelled (and stays until removed)."""
    if event.organizer is None:
        for copy in copies(store, event).values():
            if not copy.is_cancelled:
                store.rewrite(copy, is_cancelled=True)


def mirrored(
    event: StoredEvent, previous: StoredEvent | None, calendar_id: str, organizer: tuple[str, str], now: Any
) -> dict[str, Any]:
    """The fields of a copy of `event` in a calendar, keeping what the attendee set (responses, removals)."""
    copy_id = previous.id if previous else new_id()
    response = previous.response if previous else NOT_RESPONDED
    own: dict[str, Any] = {
        "organizer": organizer,
        "calendar_id": calendar_id,
        "transaction_id": None,
        "extended": {},  # extended properties belong to one mailbox's item; invitations do not carry them
        "is_cancelled": False,
    }
    same_series = previous is not None and (previous.start, previous.end, previous.recurrence) == (
        event.start,
        event.end,
        event.recurrence,
    )
    kept = dict(previous.exceptions) if previous is not None and same_series else {}
    exceptions: dict[date, StoredEvent] = {**kept}
    for day, changed in event.exceptions.items():
        before = kept.get(day)
        answer = before.response if before else response
        exceptions[day] = replace(
            changed, **own, id=occurrence_id(copy_id, day), response=answer,
            response_time=before.response_time if before else None, show_as=shown_as(answer, changed.show_as),
        )  # fmt: skip
    dropped = previous.cancelled if previous is not None and same_series else frozenset()
    for day in event.cancelled - dropped:
        exceptions[day] = cancelled_occurrence(event, day, copy_id, own, exceptions.get(day))
    return {
        **own,
        "id": copy_id,
        "response": response,
        "response_time": previous.response_time if previous else None,
        "show_as": shown_as(response, event.show_as),
        "created": previous.created if previous else now,
        "cancelled": dropped,
        "exceptions": exceptions,
    }


def cancelled_occurrence(
    event: StoredEvent, day: date, copy_id: str, own: Mapping[str, Any], held: StoredEvent | None
) -> StoredEvent:
    """An occurrence the organizer cancelled, as the attendee's copy shows it: there, but cancelled."""
    begins = occurrence_start(event, day)
    base = held or replace(
        event, start=begins, end=begins + (event.end - event.start), recurrence=None, cancelled=frozenset()
    )
    return replace(base, **{**own, "is_cancelled": True}, id=occurrence_id(copy_id, day), exceptions={})
