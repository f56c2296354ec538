"""Meetings between mailboxes: attendee copies, propagation, cancellation, and accept/tentative/decline."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from calmirror.emulator.graph.server import GraphEmulator
from tests.emulator.graph.conftest import GraphClient, token_for
from tests.emulator.graph.test_events import event
from tests.emulator.graph.test_recurrence import TWO_WEEKS, WEEKLY
from tests.emulator.graph.test_views import drain

WEEK = "startDateTime=2026-12-07T00:00:00Z&endDateTime=2026-12-14T00:00:00Z"
BOB = "bob@example.com"


def invited(*addresses: str) -> list[dict[str, Any]]:
    """Required attendees for an event body."""
    return [{"type": "required", "emailAddress": {"address": a, "name": a}} for a in addresses]


@pytest.fixture
async def bob(graph: GraphEmulator, session: aiohttp.ClientSession) -> GraphClient:
    """Bob's client with a delegated access token."""
    return GraphClient(session, graph, (await token_for(session, graph, BOB))["access_token"])


async def view(client: GraphClient, window: str = WEEK) -> list[dict[str, Any]]:
    """The client's default calendar view."""
    answer = await client.call("GET", f"/me/calendarView?{window}")
    assert answer.status == 200, answer.body
    return list(answer.body["value"])


def status_of(meeting: dict[str, Any], address: str) -> str:
    """An attendee's response as the organizer's event records it."""
    return str(
        next(a["status"]["response"] for a in meeting["attendees"] if a["emailAddress"]["address"] == address)
    )


async def test_an_invitation_lands_in_each_attendee_mailbox(alice: GraphClient, bob: GraphClient) -> None:
    """Bob's copy: own id, not his to organize, not responded, tentative, same iCalUId; strangers get none."""
    meeting = (
        await alice.call("POST", "/me/events", json=event(attendees=invited(BOB, "zed@example.org")))
    ).body
    [copy] = await view(bob)
    assert copy["id"] != meeting["id"]
    assert copy["iCalUId"] == meeting["iCalUId"]
    assert (copy["isOrganizer"], copy["responseStatus"]["response"], copy["showAs"]) == (
        False,
        "notResponded",
        "tentative",
    )
    assert copy["organizer"]["emailAddress"]["address"] == "alice@example.com"
    assert copy["subject"] == meeting["subject"]
    assert status_of(meeting, BOB) == "none"


async def test_updates_removal_and_cancellation_reach_the_copy(alice: GraphClient, bob: GraphClient) -> None:
    """A new subject shows in Bob's copy (same id, delta sees it); deleting the meeting cancels the copy."""
    meeting = (await alice.call("POST", "/me/events", json=event(attendees=invited(BOB)))).body
    _, link = await drain(bob, f"/me/calendarView/delta?{WEEK}")
    await alice.call("PATCH", f"/me/events/{meeting['id']}", json={"subject": "Moved"})
    [copy] = await view(bob)
    assert copy["subject"] == "Moved"
    changed, link = await drain(bob, link)
    assert [(c["id"], c["subject"]) for c in changed] == [(copy["id"], "Moved")]
    assert (await alice.call("DELETE", f"/me/events/{meeting['id']}")).status == 204
    [copy] = await view(bob)
    assert copy["isCancelled"] is True
    changed, _ = await drain(bob, link)
    assert [c["isCancelled"] for c in changed] == [True]


async def test_an_attendee_dropped_from_the_meeting_has_it_cancelled(
    alice: GraphClient, bob: GraphClient
) -> None:
    """Taking Bob off the attendees cancels his copy."""
    meeting = (await alice.call("POST", "/me/events", json=event(attendees=invited(BOB)))).body
    await alice.call("PATCH", f"/me/events/{meeting['id']}", json={"attendees": []})
    [copy] = await view(bob)
    assert copy["isCancelled"] is True


async def test_accept_and_decline_set_both_sides(alice: GraphClient, bob: GraphClient) -> None:
    """accept: Bob's copy accepted and busy, Alice's attendee accepted; decline unsent changes only Bob's."""
    meeting = (await alice.call("POST", "/me/events", json=event(attendees=invited(BOB)))).body
    [copy] = await view(bob)
    accepted = await bob.call(
        "POST", f"/me/events/{copy['id']}/accept", json={"comment": "ok", "sendResponse": True}
    )
    assert (accepted.status, accepted.body) == (202, None)
    [copy] = await view(bob)
    assert (copy["responseStatus"]["response"], copy["showAs"]) == ("accepted", "busy")
    assert status_of((await alice.call("GET", f"/me/events/{meeting['id']}")).body, BOB) == "accepted"

    calendar = (await bob.call("GET", "/me/calendar")).body["id"]
    path = f"/me/calendars/{calendar}/events/{copy['id']}/decline"
    declined = await bob.call("POST", path, json={"sendResponse": False})
    assert declined.status == 202
    [copy] = await view(bob)
    assert (copy["responseStatus"]["response"], copy["showAs"]) == ("declined", "free")
    assert status_of((await alice.call("GET", f"/me/events/{meeting['id']}")).body, BOB) == "accepted"


async def test_a_response_to_one_occurrence(alice: GraphClient, bob: GraphClient) -> None:
    """tentativelyAccept on an occurrence of Bob's copy answers for that occurrence only, on both sides."""
    await alice.call("POST", "/me/events", json={**WEEKLY, "attendees": invited(BOB)})
    occurrences = await view(bob, TWO_WEEKS)
    assert len(occurrences) == 3
    second = occurrences[1]
    assert (await bob.call("POST", f"/me/events/{second['id']}/tentativelyAccept", json={})).status == 202
    mine = [o["responseStatus"]["response"] for o in await view(bob, TWO_WEEKS)]
    assert mine == ["notResponded", "tentativelyAccepted", "notResponded"]
    theirs = [status_of(o, BOB) for o in await view(alice, TWO_WEEKS)]
    assert theirs == ["none", "tentativelyAccepted", "none"]


async def test_responses_refused(alice: GraphClient, bob: GraphClient) -> None:
    """The organizer cannot answer their own meeting; an action's unknown property is refused."""
    meeting = (await alice.call("POST", "/me/events", json=event(attendees=invited(BOB)))).body
    own = await alice.call("POST", f"/me/events/{meeting['id']}/accept", json={})
    assert (own.status, own.body["error"]["code"]) == (400, "ErrorInvalidRequest")
    [copy] = await view(bob)
    misspelt = await bob.call("POST", f"/me/events/{copy['id']}/accept", json={"sendRespons": True})
    assert (misspelt.status, misspelt.body["error"]["code"]) == (400, "RequestBodyRead")
    assert (
        await bob.call("POST", f"/me/events/{copy['id']}/accept", json={"proposedNewTime": {}})
    ).status == 400


async def test_organizer_changes_to_one_occurrence_reach_the_copy(
    alice: GraphClient, bob: GraphClient
) -> None:
    """An occurrence the organizer renames is renamed in Bob's copy; one it deletes is cancelled there."""
    await alice.call("POST", "/me/events", json={**WEEKLY, "attendees": invited(BOB)})
    first, second, _ = await view(alice, TWO_WEEKS)
    await alice.call("PATCH", f"/me/events/{first['id']}", json={"subject": "Only this one"})
    assert (await alice.call("DELETE", f"/me/events/{second['id']}")).status == 204
    copies = await view(bob, TWO_WEEKS)
    assert [(o["subject"], o["isCancelled"]) for o in copies] == [
        ("Only this one", False),
        ("Standup", True),
        ("Standup", False),
    ]
    assert {o["seriesMasterId"] for o in copies} != {first["seriesMasterId"]}  # Bob's own series
