"""events.insert/get/update/patch/delete through the route handlers (events reference)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.store_api import ALICE, Api, reason

START, END = "2026-10-20T10:00:00+02:00", "2026-10-20T11:00:00+02:00"


@pytest.fixture
def api() -> Api:
    """A fresh store with alice, bob and carol."""
    return Api()


def body(**fields: Any) -> dict[str, Any]:
    """A minimal valid event body."""
    return {"summary": "m", "start": {"dateTime": START}, "end": {"dateTime": END}, **fields}


def test_insert_stamps_server_fields(api: Api) -> None:
    """Insert answers 200 with etag (quoted digits), iCalUID <id>@google.com, sequence 0, organizer."""
    event = api.ok("events.insert", body=body(id="abc12345"))
    assert event["etag"].startswith('"')
    assert event["etag"].strip('"').isdigit()
    assert (event["id"], event["iCalUID"], event["sequence"]) == ("abc12345", "abc12345@google.com", 0)
    assert event["organizer"] == {"email": ALICE, "self": True}
    assert event["creator"]["email"] == ALICE
    assert event["updated"].endswith("Z")
    assert len(event["updated"]) == 24
    assert event["eventType"] == "default"
    assert event["status"] == "confirmed"
    assert "transparency" not in event
    assert "visibility" not in event


def test_server_generated_ids_are_base32hex(api: Api) -> None:
    """Without a client id the server picks one of base32hex characters (discovery doc Event.id)."""
    event = api.ok("events.insert", body=body())
    assert all(c in "0123456789abcdefghijklmnopqrstuv" for c in event["id"])
    assert len(event["id"]) >= 5


@pytest.mark.parametrize("bad", ["abcd", "ABCDEF", "abcdw1", "abc-def", "a" * 1025])
def test_invalid_client_ids_are_400(api: Api, bad: str) -> None:
    """Ids outside [a-v0-9]{5,1024} answer 400 invalid 'Invalid resource id value.' (discovery doc)."""
    status, answer = api.call("events.insert", body=body(id=bad))
    assert (status, reason(answer), answer["error"]["message"]) == (
        400,
        "invalid",
        "Invalid resource id value.",
    )


def test_duplicate_id_is_409_even_for_a_tombstone(api: Api) -> None:
    """An id in use, including a deleted event's id, answers 409 duplicate (errors guide; SO 27542721)."""
    api.ok("events.insert", body=body(id="dup12345"))
    assert reason(api.call("events.insert", body=body(id="dup12345"))[1]) == "duplicate"
    assert api.call("events.delete", eventId="dup12345")[0] == 204
    status, answer = api.call("events.insert", body=body(id="dup12345"))
    assert (status, reason(answer)) == (409, "duplicate")


def test_get_returns_tombstones_and_404_for_unknown(api: Api) -> None:
    """get always returns cancelled events; unknown ids answer 404 notFound."""
    api.ok("events.insert", body=body(id="gone12345"))
    api.ok("events.delete", eventId="gone12345")
    event = api.ok("events.get", eventId="gone12345")
    assert event["status"] == "cancelled"
    assert event["summary"] == "m"
    status, answer = api.call("events.get", eventId="never12345")
    assert (status, reason(answer)) == (404, "notFound")


def test_second_delete_is_410_deleted(api: Api) -> None:
    """Deleting an already deleted event answers 410 deleted 'Resource has been deleted' (errors guide)."""
    api.ok("events.insert", body=body(id="del12345"))
    assert api.call("events.delete", eventId="del12345") == (204, None)
    status, answer = api.call("events.delete", eventId="del12345")
    assert (status, reason(answer), answer["error"]["message"]) == (
        410,
        "deleted",
        "Resource has been deleted",
    )
    assert api.call("events.delete", eventId="nope12345")[0] == 404


def test_update_with_confirmed_restores_a_tombstone(api: Api) -> None:
    """PUT with status confirmed revives a deleted event; without it the tombstone stays."""
    api.ok("events.insert", body=body(id="back12345"))
    api.ok("events.delete", eventId="back12345")
    assert api.ok("events.update", eventId="back12345", body=body(summary="x"))["status"] == "cancelled"
    restored = api.ok("events.update", eventId="back12345", body=body(status="confirmed"))
    assert restored["status"] == "confirmed"
    assert api.ok("events.get", eventId="back12345")["status"] == "confirmed"


def test_if_match_mismatch_is_412(api: Api) -> None:
    """A stale If-Match etag answers 412 conditionNotMet; the current one succeeds (versions guide)."""
    first = api.ok("events.insert", body=body(id="etag12345"))
    second = api.ok("events.patch", eventId="etag12345", body={"summary": "b"})
    assert second["etag"] != first["etag"]  # every write changes the etag (versions guide)
    status, answer = api.call(
        "events.patch", eventId="etag12345", body={"summary": "c"}, headers={"If-Match": first["etag"]}
    )
    assert (status, reason(answer)) == (412, "conditionNotMet")
    assert answer["error"]["errors"][0]["location"] == "If-Match"
    api.ok("events.patch", eventId="etag12345", body={"summary": "c"}, headers={"If-Match": second["etag"]})


def test_patch_merges_objects_replaces_arrays_and_null_deletes(api: Api) -> None:
    """Patch: nested objects merge, arrays replace, null removes a key (events.patch, properties guide)."""
    props = {"private": {"a": "1", "b": "2"}, "shared": {"s": "x"}}
    api.ok(
        "events.insert",
        body=body(
            id="pat12345",
            extendedProperties=props,
            recurrence=None,
            attendees=[{"email": "x@y.z"}, {"email": "w@y.z"}],
        ),
    )
    patch = {"extendedProperties": {"private": {"a": None, "c": "3"}}, "attendees": [{"email": "v@y.z"}]}
    event = api.ok("events.patch", eventId="pat12345", body=patch)
    assert event["extendedProperties"] == {"private": {"b": "2", "c": "3"}, "shared": {"s": "x"}}
    assert [a["email"] for a in event["attendees"]] == ["v@y.z"]
    assert event["summary"] == "m"


def test_update_is_a_full_replace(api: Api) -> None:
    """Properties missing from an update are deleted ('Any properties not included ... deleted')."""
    api.ok("events.insert", body=body(id="put12345", description="d", location="l"))
    event = api.ok("events.update", eventId="put12345", body=body())
    assert "description" not in event
    assert "location" not in event


def test_sequence_increments_on_time_changes_only(api: Api) -> None:
    """sequence increases when the time changes, not for a summary change (discovery doc Event.sequence)."""
    api.ok("events.insert", body=body(id="seq12345"))
    assert api.ok("events.patch", eventId="seq12345", body={"summary": "n"})["sequence"] == 0
    moved = {
        "start": {"dateTime": "2026-10-20T12:00:00+02:00"},
        "end": {"dateTime": "2026-10-20T13:00:00+02:00"},
    }
    assert api.ok("events.patch", eventId="seq12345", body=moved)["sequence"] == 1


def test_reminder_rules(api: Api) -> None:
    """useDefault with overrides, or more than 5 overrides, answer 400; minutes are clamped."""
    both = {"useDefault": True, "overrides": [{"method": "popup", "minutes": 10}]}
    assert (
        reason(api.call("events.insert", body=body(reminders=both))[1])
        == "cannotUseDefaultRemindersAndSpecifyOverride"
    )
    six = {"useDefault": False, "overrides": [{"method": "popup", "minutes": i} for i in range(6)]}
    status, error = api.call("events.insert", body=body(reminders=six))
    assert (status, reason(error)) == (400, "eventRemindersCountExceedsLimit")
    big = {"useDefault": False, "overrides": [{"method": "email", "minutes": 99999}]}
    event = api.ok("events.insert", body=body(reminders=big))
    assert event["reminders"]["overrides"] == [{"method": "email", "minutes": 40320}]
    assert api.ok("events.insert", body=body())["reminders"] == {"useDefault": True}


def test_extended_property_limits(api: Api) -> None:
    """Keys over 44 characters are silently dropped, values over 1024 silently truncated."""
    props = {"private": {"k" * 45: "v", "ok": "x" * 2000}}
    event = api.ok("events.insert", body=body(extendedProperties=props))
    assert event["extendedProperties"]["private"] == {"ok": "x" * 1024}


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ({"dateTime": "2026-10-20T10:00:00"}, {"dateTime": "2026-10-20T11:00:00"}, 400),  # no offset, no zone
        ({"dateTime": "2026-10-20T10:00:00", "timeZone": "Europe/Berlin"}, {"dateTime": END}, 200),
        ({"date": "2026-10-20"}, {"dateTime": END}, 400),  # date vs dateTime
        ({"dateTime": END}, {"dateTime": START}, 400),  # end before start
        ({"date": "2026-10-20"}, {"date": "2026-10-20"}, 400),  # empty all-day range
        (None, {"dateTime": END}, 400),
    ],
)
def test_start_end_validation(api: Api, start: Any, end: Any, status: int) -> None:
    """start/end are required, of one kind, offset or timeZone given, end after start."""
    assert api.call("events.insert", body={"start": start, "end": end})[0] == status


def test_end_before_start_is_time_range_empty(api: Api) -> None:
    """An end before the start answers 400 timeRangeEmpty (errors guide)."""
    status, answer = api.call("events.insert", body=body(start={"dateTime": END}, end={"dateTime": START}))
    assert (status, reason(answer)) == (400, "timeRangeEmpty")


def test_event_type_rules(api: Api) -> None:
    """fromGmail cannot be inserted and eventType is immutable (event types guide)."""
    assert api.call("events.insert", body=body(eventType="fromGmail"))[0] == 400
    api.ok("events.insert", body=body(id="tip12345"))
    assert api.call("events.patch", eventId="tip12345", body={"eventType": "focusTime"})[0] == 400


def test_transparency_and_visibility_echo_only_non_defaults(api: Api) -> None:
    """transparency opaque and visibility default are omitted; other values are returned."""
    event = api.ok("events.insert", body=body(transparency="transparent", visibility="private"))
    assert (event["transparency"], event["visibility"]) == ("transparent", "private")
    plain = api.ok("events.insert", body=body(transparency="opaque", visibility="default"))
    assert "transparency" not in plain
    assert "visibility" not in plain


def test_store_notifies_and_keeps_tombstones(api: Api) -> None:
    """subscribe callbacks run per committed change; raw_events keeps tombstones (architecture contract)."""
    seen: list[str] = []
    api.store.subscribe(seen.append)
    api.ok("events.insert", body=body(id="sub12345"))
    api.ok("events.delete", eventId="sub12345")
    assert seen == [ALICE, ALICE]
    assert [e["status"] for e in api.store.raw_events(ALICE)] == ["cancelled"]


def test_unknown_and_foreign_calendars(api: Api) -> None:
    """Unknown calendars answer 404 notFound; primary resolves to the account's email."""
    assert reason(api.call("events.list", calendarId="nobody@example.com")[1]) == "notFound"
    api.ok("events.insert", body=body(id="pri12345"))
    assert api.ok("events.get", calendarId=ALICE, eventId="pri12345")["id"] == "pri12345"


def test_send_updates_is_accepted(api: Api) -> None:
    """sendUpdates=none is a valid insert parameter (discovery doc events.insert)."""
    assert api.call("events.insert", body=body(), query={"sendUpdates": "none"})[0] == 200


def test_time_zone_parameter_and_if_none_match(api: Api) -> None:
    """get renders times in the timeZone parameter; If-None-Match on the etag answers 304 (discovery doc)."""
    event = api.ok("events.insert", body=body(id="tone12345"))
    shown = api.ok("events.get", eventId="tone12345", query={"timeZone": "America/New_York"})
    assert shown["start"]["dateTime"] == "2026-10-20T04:00:00-04:00"
    assert api.call("events.get", eventId="tone12345", headers={"If-None-Match": event["etag"]}) == (
        304,
        None,
    )
