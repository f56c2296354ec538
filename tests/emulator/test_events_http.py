"""Event semantics through the real google-api-python-client against the running emulator (python client)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator
from tests.emulator_helpers import calendar_service

ALICE, BOB = "alice@example.com", "bob@example.com"
BERLIN = "Europe/Berlin"


async def run(request: Any) -> Any:
    """Execute a googleapiclient request off the event loop the emulator runs on."""
    return await asyncio.to_thread(request.execute)


async def failure(request: Any) -> tuple[int, str, dict[str, Any]]:
    """Execute a request that must fail; return status, first reason and the error body."""
    with pytest.raises(HttpError) as caught:
        await run(request)
    body = json.loads(caught.value.content)
    return caught.value.status_code, body["error"]["errors"][0]["reason"], body


def timed(start: str, end: str, **fields: Any) -> dict[str, Any]:
    """A timed event body."""
    return {"summary": "m", "start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


async def test_paging_and_strict_overlap(emulator: Emulator) -> None:
    """Pages of maxResults follow nextPageToken; touching events are outside the window."""
    svc = calendar_service(emulator, ALICE)
    for hour in range(8, 14):
        await run(
            svc.events().insert(
                calendarId="primary",
                body=timed(f"2026-10-20T{hour:02d}:00:00Z", f"2026-10-20T{hour + 1:02d}:00:00Z"),
            )
        )
    window = {"timeMin": "2026-10-20T09:00:00Z", "timeMax": "2026-10-20T13:00:00Z"}
    seen: list[str] = []
    page = await run(svc.events().list(calendarId="primary", maxResults=3, **window))
    assert "nextSyncToken" not in page
    seen += [e["start"]["dateTime"] for e in page["items"]]
    page = await run(
        svc.events().list(calendarId="primary", maxResults=3, pageToken=page["nextPageToken"], **window)
    )
    seen += [e["start"]["dateTime"] for e in page["items"]]
    assert "nextSyncToken" in page
    assert "nextPageToken" not in page
    assert sorted(seen) == [f"2026-10-20T{h:02d}:00:00+00:00" for h in (9, 10, 11, 12)]


async def test_recurrence_across_berlin_dst_with_moved_and_cancelled_instance(emulator: Emulator) -> None:
    """Daily 10:00 Berlin keeps its wall time over DST end; moved and cancelled instances apply."""
    svc = calendar_service(emulator, ALICE)
    body = {
        "id": "standup0",
        "summary": "standup",
        "start": {"dateTime": "2026-10-23T10:00:00", "timeZone": BERLIN},
        "end": {"dateTime": "2026-10-23T10:15:00", "timeZone": BERLIN},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
    }
    await run(svc.events().insert(calendarId="primary", body=body))
    moved = timed("2026-10-24T16:00:00+02:00", "2026-10-24T16:15:00+02:00")
    await run(svc.events().patch(calendarId="primary", eventId="standup0_20261024T080000Z", body=moved))
    await run(svc.events().delete(calendarId="primary", eventId="standup0_20261026T090000Z"))
    page = await run(
        svc.events().list(
            calendarId="primary",
            singleEvents=True,
            orderBy="startTime",
            timeMin="2026-10-01T00:00:00Z",
            timeMax="2026-11-01T00:00:00Z",
        )
    )
    assert [(e["id"][9:], e["start"]["dateTime"]) for e in page["items"]] == [
        ("20261023T080000Z", "2026-10-23T08:00:00+00:00"),
        ("20261024T080000Z", "2026-10-24T14:00:00+00:00"),
        ("20261025T090000Z", "2026-10-25T09:00:00+00:00"),
        ("20261027T090000Z", "2026-10-27T09:00:00+00:00"),
    ]
    berlin = await run(
        svc.events().list(
            calendarId="primary", singleEvents=True, timeZone=BERLIN, timeMin="2026-10-27T00:00:00Z"
        )
    )
    assert berlin["items"][0]["start"]["dateTime"] == "2026-10-27T10:00:00+01:00"


async def test_sync_delta_with_tombstone_and_410(emulator: Emulator) -> None:
    """Deltas carry minimal tombstones; corrupted or invalidated tokens answer 410 (sync guide)."""
    svc = calendar_service(emulator, ALICE)
    event = await run(
        svc.events().insert(calendarId="primary", body=timed("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z"))
    )
    token = (await run(svc.events().list(calendarId="primary", timeMin="2026-10-01T00:00:00Z")))[
        "nextSyncToken"
    ]
    await run(svc.events().delete(calendarId="primary", eventId=event["id"]))
    delta = await run(svc.events().list(calendarId="primary", syncToken=token))
    assert delta["items"] == [
        {
            "kind": "calendar#event",
            "etag": delta["items"][0]["etag"],
            "id": event["id"],
            "status": "cancelled",
        }
    ]
    status, reason, body = await failure(svc.events().list(calendarId="primary", syncToken="1" + token))
    assert (status, reason) == (410, "fullSyncRequired")
    assert body["error"]["message"] == "Sync token is no longer valid, a full sync is required."
    emulator.invalidate_sync_tokens(ALICE)
    assert (await failure(svc.events().list(calendarId="primary", syncToken=delta["nextSyncToken"])))[
        0
    ] == 410


async def test_conflicts_restore_and_conditional_writes(emulator: Emulator) -> None:
    """409 on a tombstone id, restore by update, 410 second delete, 412 stale If-Match (errors guide)."""
    svc = calendar_service(emulator, ALICE)
    body = timed("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="block0001")
    first = await run(svc.events().insert(calendarId="primary", body=body))
    assert await run(svc.events().delete(calendarId="primary", eventId="block0001")) == ""
    assert (await failure(svc.events().delete(calendarId="primary", eventId="block0001")))[:2] == (
        410,
        "deleted",
    )
    assert (await failure(svc.events().insert(calendarId="primary", body=body)))[:2] == (409, "duplicate")
    restored = await run(
        svc.events().update(calendarId="primary", eventId="block0001", body={**body, "status": "confirmed"})
    )
    assert restored["status"] == "confirmed"
    stale = svc.events().patch(calendarId="primary", eventId="block0001", body={"summary": "x"})
    stale.headers["If-Match"] = first["etag"]
    assert (await failure(stale))[:2] == (412, "conditionNotMet")
    assert (await failure(svc.events().insert(calendarId="primary", body={**body, "id": "NOT-OK"})))[:2] == (
        400,
        "invalid",
    )


async def test_attendee_copies_between_two_accounts(emulator: Emulator) -> None:
    """bob gets a copy of alice's invitation; his decline shows in alice's copy (discovery doc attendees)."""
    alice, bob = calendar_service(emulator, ALICE), calendar_service(emulator, BOB)
    body = timed("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", attendees=[{"email": ALICE}, {"email": BOB}])
    event = await run(alice.events().insert(calendarId="primary", body=body, sendUpdates="none"))
    copy = await run(bob.events().get(calendarId="primary", eventId=event["id"]))
    mine = next(a for a in copy["attendees"] if a["email"] == BOB)
    assert (mine.get("self"), mine["responseStatus"]) == (True, "needsAction")
    mine["responseStatus"] = "declined"
    await run(
        bob.events().patch(calendarId="primary", eventId=event["id"], body={"attendees": copy["attendees"]})
    )
    original = await run(alice.events().get(calendarId="primary", eventId=event["id"]))
    assert next(a for a in original["attendees"] if a["email"] == BOB)["responseStatus"] == "declined"
    await run(alice.events().delete(calendarId="primary", eventId=event["id"]))
    assert (await run(bob.events().get(calendarId="primary", eventId=event["id"])))["status"] == "cancelled"


async def test_freebusy(emulator: Emulator) -> None:
    """freeBusy returns busy periods and a notFound item error with HTTP 200 (freebusy.query)."""
    svc = calendar_service(emulator, ALICE)
    await run(
        svc.events().insert(calendarId="primary", body=timed("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z"))
    )
    body = {
        "timeMin": "2026-10-20T00:00:00Z",
        "timeMax": "2026-10-21T00:00:00Z",
        "items": [{"id": ALICE}, {"id": "ghost@example.com"}],
    }
    answer = await run(svc.freebusy().query(body=body))
    assert answer["calendars"][ALICE]["busy"] == [
        {"start": "2026-10-20T10:00:00Z", "end": "2026-10-20T11:00:00Z"}
    ]
    assert answer["calendars"]["ghost@example.com"]["errors"] == [{"domain": "global", "reason": "notFound"}]
