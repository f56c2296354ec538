"""Incremental sync: deltas, minimal tombstones, forbidden parameters and 410 (sync guide, errors guide)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.emulator.store_api import ALICE, BOB, Api, reason

WINDOW = {"timeMin": "2026-10-01T00:00:00Z", "timeMax": "2026-11-01T00:00:00Z"}
FULL_SYNC_BODY = {
    "error": {
        "errors": [
            {
                "domain": "calendar",
                "reason": "fullSyncRequired",
                "message": "Sync token is no longer valid, a full sync is required.",
                "locationType": "parameter",
                "location": "syncToken",
            }
        ],
        "code": 410,
        "message": "Sync token is no longer valid, a full sync is required.",
    }
}


@pytest.fixture
def api() -> Api:
    """A fresh store with alice, bob and carol."""
    return Api()


def full_sync(api: Api, **query: str) -> str:
    """Run a full sync and return its nextSyncToken."""
    page = api.ok("events.list", query={**WINDOW, **query})
    token: str = page["nextSyncToken"]
    return token


def test_delta_has_changes_and_minimal_tombstones(api: Api) -> None:
    """A delta holds every change since the token; deletions are minimal tombstones."""
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="keep0000")
    api.insert("2026-10-21T10:00:00Z", "2026-10-21T11:00:00Z", id="drop0000")
    token = full_sync(api)
    assert api.ok("events.list", query={"syncToken": token})["items"] == []
    api.ok("events.delete", eventId="drop0000")
    api.insert("2026-10-22T10:00:00Z", "2026-10-22T11:00:00Z", id="add00000")
    delta = api.ok("events.list", query={"syncToken": token})
    by_id = {e["id"]: e for e in delta["items"]}
    assert set(by_id) == {"drop0000", "add00000"}
    assert set(by_id["drop0000"]) == {"kind", "etag", "id", "status"}
    assert by_id["drop0000"]["status"] == "cancelled"
    assert delta["nextSyncToken"] != token
    assert api.ok("events.list", query={"syncToken": delta["nextSyncToken"]})["items"] == []


def test_delta_pages_are_consistent(api: Api) -> None:
    """A paged delta repeats the same syncToken with pageToken; the token comes on the last page."""
    token = full_sync(api)
    for i in range(5):
        api.insert(f"2026-10-2{i}T10:00:00Z", f"2026-10-2{i}T11:00:00Z")
    first = api.ok("events.list", query={"syncToken": token, "maxResults": "3"})
    assert "nextSyncToken" not in first
    assert len(first["items"]) == 3
    second = api.ok(
        "events.list", query={"syncToken": token, "maxResults": "3", "pageToken": first["nextPageToken"]}
    )
    assert len(second["items"]) == 2
    assert "nextSyncToken" in second


@pytest.mark.parametrize(
    "extra",
    [
        {"timeMin": "2026-10-01T00:00:00Z"},
        {"timeMax": "2026-10-01T00:00:00Z"},
        {"orderBy": "updated"},
        {"q": "x"},
        {"iCalUID": "a@google.com"},
        {"privateExtendedProperty": "a=b"},
        {"sharedExtendedProperty": "a=b"},
        {"updatedMin": "2026-10-01T00:00:00Z"},
        {"showDeleted": "false"},
    ],
)
def test_forbidden_parameters_with_sync_token_are_400(api: Api, extra: dict[str, str]) -> None:
    """Parameters forbidden with syncToken (and showDeleted=false) answer 400."""
    token = full_sync(api)
    assert api.call("events.list", query={"syncToken": token, **extra})[0] == 400


def test_garbled_and_unknown_tokens_are_410(api: Api) -> None:
    """Unknown or corrupted tokens answer 410 with the documented fullSyncRequired body (errors guide)."""
    token = full_sync(api)
    for bad in ("1" + token, "garbage", token[:-4], "eyJ4IjoxfQ=="):
        assert api.call("events.list", query={"syncToken": bad}) == (410, FULL_SYNC_BODY)


def test_token_of_another_calendar_or_query_is_410(api: Api) -> None:
    """Tokens are bound to their calendar and query shape (singleEvents) (sync guide: same query)."""
    token = full_sync(api)
    assert api.call("events.list", account=BOB, query={"syncToken": token})[0] == 410
    assert api.call("events.list", query={"syncToken": token, "singleEvents": "true"})[0] == 410


def test_invalidated_and_expired_tokens_are_410(api: Api) -> None:
    """Server-invalidated and expired tokens answer 410 fullSyncRequired (sync guide)."""
    token = full_sync(api)
    api.store.invalidate_sync_tokens(ALICE)
    assert reason(api.call("events.list", query={"syncToken": token})[1]) == "fullSyncRequired"
    fresh = full_sync(api)
    api.store.invalidate_sync_tokens()
    assert api.call("events.list", query={"syncToken": fresh})[0] == 410
    old = full_sync(api)
    api.clock.now += timedelta(days=8)
    assert api.call("events.list", query={"syncToken": old})[0] == 410


def test_recurring_change_yields_instances_in_the_token_window(api: Api) -> None:
    """With singleEvents a changed series yields its instances in the token's window (sync guide)."""
    token = full_sync(api, singleEvents="true")
    body = {
        "id": "serie000",
        "start": {"dateTime": "2026-10-26T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-10-26T11:00:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=DAILY"],
    }
    series = api.ok("events.insert", body=body)
    delta = api.ok("events.list", query={"syncToken": token, "singleEvents": "true"})
    assert [e["id"] for e in delta["items"]] == [f"serie000_202610{d}T090000Z" for d in range(26, 32)]
    api.ok("events.delete", eventId=series["id"])
    gone = api.ok("events.list", query={"syncToken": delta["nextSyncToken"], "singleEvents": "true"})["items"]
    assert len(gone) == 6
    assert all(
        set(e) == {"kind", "etag", "id", "status", "recurringEventId", "originalStartTime"} for e in gone
    )
