"""Attendee copies between emulator accounts (discovery doc Event.attendees, Event.organizer)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.store_api import ALICE, BOB, CAROL, Api

INVITE = [{"email": ALICE}, {"email": BOB}, {"email": "room@resource.calendar.google.com", "resource": True}]


@pytest.fixture
def api() -> Api:
    """alice invites bob (and a room) to one meeting."""
    api = Api()
    api.insert(
        "2026-10-20T10:00:00Z",
        "2026-10-20T11:00:00Z",
        id="meet0000",
        attendees=INVITE,
        extendedProperties={"private": {"mine": "alice"}, "shared": {"all": "yes"}},
    )
    return api


def selves(event: dict[str, Any]) -> dict[str, Any]:
    """Map attendee email -> (self, responseStatus)."""
    return {a["email"]: (a.get("self", False), a["responseStatus"]) for a in event["attendees"]}


def test_invitee_gets_its_own_copy(api: Api) -> None:
    """An invitee's calendar holds a copy, self on its own entry, needsAction."""
    copy = api.ok("events.get", account=BOB, eventId="meet0000")
    assert selves(copy)[BOB] == (True, "needsAction")
    assert selves(copy)[ALICE] == (False, "accepted")  # the organizer accepted
    assert copy["organizer"] == {"email": ALICE}
    assert copy["extendedProperties"] == {"shared": {"all": "yes"}}  # private properties are per copy
    assert api.store.raw_events(CAROL) == []


def test_organizer_update_and_delete_reach_the_copy(api: Api) -> None:
    """Organizer changes update the copy; deleting cancels it (discovery doc Event.status)."""
    api.ok("events.patch", eventId="meet0000", body={"summary": "renamed"})
    assert api.ok("events.get", account=BOB, eventId="meet0000")["summary"] == "renamed"
    api.ok("events.delete", eventId="meet0000")
    assert api.ok("events.get", account=BOB, eventId="meet0000")["status"] == "cancelled"


def test_removed_invitee_copy_is_cancelled_and_new_one_created(api: Api) -> None:
    """Replacing the attendee list cancels removed invitees' copies and creates new ones."""
    api.ok("events.patch", eventId="meet0000", body={"attendees": [{"email": ALICE}, {"email": CAROL}]})
    assert api.ok("events.get", account=BOB, eventId="meet0000")["status"] == "cancelled"
    assert selves(api.ok("events.get", account=CAROL, eventId="meet0000"))[CAROL] == (True, "needsAction")


def test_invitee_response_reaches_the_organizer(api: Api) -> None:
    """An invitee declining in its copy shows in the organizer's copy."""
    mine = api.ok("events.get", account=BOB, eventId="meet0000")
    for attendee in mine["attendees"]:
        if attendee["email"] == BOB:
            attendee["responseStatus"] = "declined"
    api.ok("events.update", account=BOB, eventId="meet0000", body=mine)
    assert selves(api.ok("events.get", eventId="meet0000"))[BOB] == (False, "declined")


def test_invitee_cannot_move_the_meeting(api: Api) -> None:
    """Only the invitee's response and per-copy fields take effect (emulator rule)."""
    moved = {"start": {"dateTime": "2026-10-21T10:00:00Z"}, "end": {"dateTime": "2026-10-21T11:00:00Z"}}
    api.ok("events.patch", account=BOB, eventId="meet0000", body=moved)
    assert api.ok("events.get", account=BOB, eventId="meet0000")["start"]["dateTime"].startswith("2026-10-20")


@pytest.mark.parametrize("cancel", ["delete", "patch"])
def test_organizer_cancelling_one_instance_cancels_it_for_invitees(api: Api, cancel: str) -> None:
    """Deleting an instance, or patching it to cancelled, cancels that occurrence in every copy."""
    start = {"dateTime": "2026-10-20T10:00:00", "timeZone": "UTC"}
    end = {"dateTime": "2026-10-20T11:00:00", "timeZone": "UTC"}
    series = {"id": "repeat00", "start": start, "end": end, "attendees": INVITE}
    api.ok("events.insert", body=series | {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]})
    second = "repeat00_20261027T100000Z"
    if cancel == "delete":
        api.ok("events.delete", eventId=second)
    else:
        api.ok("events.patch", eventId=second, body={"status": "cancelled"})
    window = {"timeMin": "2026-10-01T00:00:00Z", "timeMax": "2026-12-01T00:00:00Z", "singleEvents": "true"}
    for account in (ALICE, BOB):
        live = [e["id"] for e in api.items(account=account, **window) if e["id"].startswith("repeat00")]
        assert live == ["repeat00_20261020T100000Z", "repeat00_20261103T100000Z"], account
    assert api.ok("events.get", account=BOB, eventId=second)["status"] == "cancelled"
