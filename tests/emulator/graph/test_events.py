"""Graph emulator events over HTTP: CRUD, transactionId, extended properties, time zones, errors."""

from __future__ import annotations

from typing import Any

from tests.emulator.graph.conftest import GraphClient

ALICE = "/users/alice@example.com"
PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name calmirror"


def event(
    subject: str = "Busy", start: str = "2026-12-08T10:00:00", end: str = "2026-12-08T11:00:00", **more: Any
) -> dict[str, Any]:
    """A minimal event body in UTC."""
    return {
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        **more,
    }


async def default_calendar(alice: GraphClient) -> str:
    """Alice's default calendar id."""
    answer = await alice.call("GET", f"{ALICE}/calendars")
    return next(c["id"] for c in answer.body["value"] if c["isDefaultCalendar"])


async def test_calendars_list_the_default_calendar(alice: GraphClient) -> None:
    """A mailbox starts with one default calendar it can edit, owned by the user."""
    answer = await alice.call("GET", f"{ALICE}/calendars")
    assert answer.status == 200
    [calendar] = answer.body["value"]
    assert (calendar["name"], calendar["canEdit"], calendar["isDefaultCalendar"]) == ("Calendar", True, True)
    assert calendar["owner"]["address"] == "alice@example.com"
    me = await alice.call("GET", "/me/calendar")
    assert me.body["id"] == calendar["id"]


async def test_create_read_update_delete(alice: GraphClient) -> None:
    """An event is created with server fields, read back, patched (new changeKey) and deleted (then 404)."""
    cal = await default_calendar(alice)
    base = f"{ALICE}/calendars/{cal}/events"
    body = event(showAs="busy", sensitivity="private", isReminderOn=False)
    body["attendees"] = [{"emailAddress": {"address": "bob@example.com"}, "type": "optional"}]
    created = await alice.call("POST", base, json=body)
    assert created.status == 201
    made = created.body
    assert made["id"]
    assert made["changeKey"]
    assert made["@odata.etag"] == f'W/"{made["changeKey"]}"'
    assert (made["showAs"], made["sensitivity"], made["isReminderOn"], made["isCancelled"]) == (
        "busy",
        "private",
        False,
        False,
    )
    assert made["attendees"][0]["type"] == "optional"
    assert made["attendees"][0]["status"]["response"] == "none"
    assert made["organizer"]["emailAddress"]["address"] == "alice@example.com"
    assert made["start"] == {"dateTime": "2026-12-08T10:00:00.0000000", "timeZone": "UTC"}
    read = await alice.call("GET", f"{base}/{made['id']}")
    assert read.body == made
    patched = await alice.call("PATCH", f"{base}/{made['id']}", json={"subject": "Moved", "showAs": "free"})
    assert (patched.status, patched.body["subject"], patched.body["showAs"]) == (200, "Moved", "free")
    assert patched.body["changeKey"] != made["changeKey"]
    assert patched.body["createdDateTime"] == made["createdDateTime"]
    assert (await alice.call("DELETE", f"{base}/{made['id']}")).status == 204
    gone = await alice.call("GET", f"{base}/{made['id']}")
    assert (gone.status, gone.body["error"]["code"]) == (404, "ErrorItemNotFound")


async def test_same_transaction_id_returns_the_first_event(alice: GraphClient) -> None:
    """A second POST with the same transactionId answers the first event instead of a duplicate."""
    first = await alice.call("POST", f"{ALICE}/events", json=event(transactionId="tx-1"))
    again = await alice.call("POST", f"{ALICE}/events", json=event("Other", transactionId="tx-1"))
    assert again.body["id"] == first.body["id"]
    listed = await alice.call("GET", f"{ALICE}/events")
    assert [e["id"] for e in listed.body["value"]] == [first.body["id"]]


async def test_extended_property_filter_and_expand(alice: GraphClient) -> None:
    """$filter by a singleValueExtendedProperty finds the tagged event; $expand returns the property."""
    tagged = await alice.call(
        "POST", f"{ALICE}/events", json=event(singleValueExtendedProperties=[{"id": PROP, "value": "src-1"}])
    )
    await alice.call("POST", f"{ALICE}/events", json=event("Untagged"))
    query = f"singleValueExtendedProperties/any(ep: ep/id eq '{PROP}' and ep/value eq 'src-1')"
    found = await alice.call(
        "GET", f"{ALICE}/events?$filter={query}&$expand=singleValueExtendedProperties($filter=id eq '{PROP}')"
    )
    assert [e["id"] for e in found.body["value"]] == [tagged.body["id"]]
    assert found.body["value"][0]["singleValueExtendedProperties"] == [{"id": PROP, "value": "src-1"}]
    upper = f"singleValueExtendedProperties/any(ep: ep/id eq '{PROP}' and ep/value eq 'SRC-1')"
    assert [e["id"] for e in (await alice.call("GET", f"{ALICE}/events?$filter={upper}")).body["value"]] == [
        tagged.body["id"]
    ]
    bare = await alice.call("GET", f"{ALICE}/events?$expand=singleValueExtendedProperties")
    assert (bare.status, bare.body["error"]["code"]) == (400, "ErrorInvalidRequest")
    other = f"singleValueExtendedProperties/any(ep: ep/id eq '{PROP}' and ep/value eq 'src-2')"
    assert (await alice.call("GET", f"{ALICE}/events?$filter={other}")).body["value"] == []
    assert "singleValueExtendedProperties" not in tagged.body


async def test_prefer_time_zone_renders_times_in_that_zone(alice: GraphClient) -> None:
    """Times are answered in UTC, or in the zone of `Prefer: outlook.timezone`."""
    made = await alice.call(
        "POST",
        f"{ALICE}/events",
        json={
            "subject": "Zoned",
            "start": {"dateTime": "2026-12-08T10:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-12-08T11:00:00", "timeZone": "W. Europe Standard Time"},
        },
    )
    assert made.body["start"] == {"dateTime": "2026-12-08T09:00:00.0000000", "timeZone": "UTC"}
    zoned = await alice.call(
        "GET", f"{ALICE}/events/{made.body['id']}", Prefer='outlook.timezone="Pacific Standard Time"'
    )
    assert zoned.body["end"] == {
        "dateTime": "2026-12-08T02:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }


async def test_error_bodies(alice: GraphClient) -> None:
    """Unknown property, bad enum, unknown segment and bad token get Graph's error codes and shape."""
    misspelt = await alice.call("POST", f"{ALICE}/events", json=event(shwoAs="busy"))
    assert (misspelt.status, misspelt.body["error"]["code"]) == (400, "RequestBodyRead")
    bad_enum = await alice.call("POST", f"{ALICE}/events", json=event(showAs="away"))
    assert (bad_enum.status, bad_enum.body["error"]["code"]) == (400, "ErrorInvalidRequest")
    segment = await alice.call("GET", f"{ALICE}/calendarz")
    assert (segment.status, segment.body["error"]["code"]) == (400, "BadRequest")
    other_user = await alice.call("GET", "/users/bob@example.com/calendars")
    assert (other_user.status, other_user.body["error"]["code"]) == (403, "ErrorAccessDenied")
    stranger = GraphClient(alice.session, alice.emulator, "not-a-token")
    refused = await stranger.call("GET", f"{ALICE}/calendars")
    assert (refused.status, refused.body["error"]["code"]) == (401, "InvalidAuthenticationToken")
    assert set(refused.body["error"]) == {"code", "message", "innerError"}


async def test_me_names_the_signed_in_user(alice: GraphClient) -> None:
    """GET /me answers the signed-in user's mail and userPrincipalName (schema-checked by the fixture)."""
    answer = await alice.call("GET", "/me")
    assert answer.status == 200
    assert (answer.body["mail"], answer.body["userPrincipalName"]) == ("alice@example.com",) * 2
    assert (await alice.call("GET", ALICE)).body == answer.body
