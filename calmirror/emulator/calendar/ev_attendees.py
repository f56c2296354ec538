"""Attendee copies: each invited emulator account gets its own copy of the event."""

from __future__ import annotations

import copy

from calmirror.emulator.calendar.store import Event, Store

PER_COPY = ("reminders",)  # fields each calendar keeps for itself; private properties too (properties guide)


def mark_self(event: Event, calendar_id: str, owner: str) -> None:
    """Set `self` on the entries that represent this calendar's copy, remove it elsewhere (discovery doc)."""
    for person, email in ((event.get("organizer"), calendar_id), (event.get("creator"), owner)):
        if isinstance(person, dict):
            if person.get("email") == email:
                person["self"] = True
            else:
                person.pop("self", None)
    for attendee in event.get("attendees") or []:
        if attendee.get("email") == calendar_id:
            attendee["self"] = True
        else:
            attendee.pop("self", None)


def invited_accounts(store: Store, event: Event | None) -> set[str]:
    """Return the emulator accounts invited to an event (resources and the organizer excluded)."""
    if event is None:
        return set()
    organizer = event.get("organizer", {}).get("email")
    found = set()
    for attendee in event.get("attendees") or []:
        email = attendee.get("email")
        cal = store.find_calendar(email) if email else None
        if cal is not None and cal.primary and email != organizer and not attendee.get("resource"):
            found.add(email)
    return found


def _upsert_copy(store: Store, email: str, event: Event) -> None:
    """Write the attendee's copy, keeping its per-copy fields (reminders, private properties)."""
    existing = store.get(email, event["id"])
    mirror = copy.deepcopy(event)
    props = mirror.get("extendedProperties", {})
    props.pop("private", None)
    if existing is not None:
        for field in PER_COPY:
            if field in existing:
                mirror[field] = existing[field]
        private = existing.get("extendedProperties", {}).get("private")
        if private:
            props["private"] = private
        mirror["created"] = existing["created"]
    else:
        mirror["reminders"] = {"useDefault": True}
        mirror.pop("created", None)
    if props:
        mirror["extendedProperties"] = props
    else:
        mirror.pop("extendedProperties", None)
    mark_self(mirror, email, email)
    store.commit(email, mirror)


def _cancel_copy(store: Store, email: str, event: Event) -> None:
    """Cancel an attendee's copy (kept as a tombstone); a cancelled instance becomes a cancelled exception."""
    existing = store.get(email, event["id"])
    if existing is None:
        parent = event.get("recurringEventId")
        if event["status"] == "cancelled" and parent and store.get(email, parent) is not None:
            _upsert_copy(store, email, event)  # the instance is generated there: store its cancellation
        return
    if existing["status"] != "cancelled":
        existing["status"] = "cancelled"
        store.commit(email, existing)


def propagate(
    store: Store, event: Event, before: Event | None, *, skip: frozenset[str] = frozenset()
) -> None:
    """After an organizer's write: create/update invitees' copies, cancel those of removed invitees."""
    now = invited_accounts(store, event) - skip
    was = invited_accounts(store, before) - skip
    if event["status"] == "cancelled":
        was, now = was | now, set()
    for email in sorted(now):
        _upsert_copy(store, email, event)
    for email in sorted(was - now):
        _cancel_copy(store, email, event)


def reflect_response(store: Store, attendee: str, event_id: str, status: str) -> None:
    """Show an attendee's responseStatus in the organizer's copy and the other copies (discovery doc)."""
    organizer_copy = store.get(attendee, event_id)
    organizer = (organizer_copy or {}).get("organizer", {}).get("email")
    original = store.get(organizer, event_id) if organizer and store.find_calendar(organizer) else None
    if original is None:
        return
    entries = [a for a in original.get("attendees") or [] if a.get("email") == attendee]
    if not entries or entries[0].get("responseStatus") == status:
        return
    entries[0]["responseStatus"] = status
    stored = store.commit(organizer, original)
    propagate(store, stored, None, skip=frozenset({attendee}))
