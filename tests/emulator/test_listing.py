"""events.list: window, paging, filters, ordering and when nextSyncToken is given (events.list)."""

from __future__ import annotations

import pytest

from tests.emulator.store_api import ALICE, Api, reason


@pytest.fixture
def api() -> Api:
    """A fresh store with alice, bob and carol."""
    return Api()


def ids(items: list[dict[str, object]]) -> set[object]:
    """Return the ids of listed items."""
    return {item["id"] for item in items}


def test_overlap_is_strict_on_both_ends(api: Api) -> None:
    """end > timeMin and start < timeMax: touching events are excluded (discovery doc timeMin/timeMax)."""
    api.insert("2026-10-20T09:00:00Z", "2026-10-20T10:00:00Z", id="before00")
    api.insert("2026-10-20T11:00:00Z", "2026-10-20T12:00:00Z", id="after000")
    api.insert("2026-10-20T09:30:00Z", "2026-10-20T10:00:01Z", id="inside00")
    found = api.items(timeMin="2026-10-20T10:00:00Z", timeMax="2026-10-20T11:00:00Z")
    assert ids(found) == {"inside00"}


def test_time_params_need_an_offset(api: Api) -> None:
    """timeMin/timeMax without an offset answer 400 (discovery doc: offset mandatory; SO 17133777)."""
    assert api.call("events.list", query={"timeMin": "2026-10-20T10:00:00"})[0] == 400


def test_empty_range_is_time_range_empty(api: Api) -> None:
    """timeMin >= timeMax answers 400 timeRangeEmpty at location timeMax (errors guide)."""
    status, body = api.call(
        "events.list", query={"timeMin": "2026-10-20T10:00:00Z", "timeMax": "2026-10-20T10:00:00Z"}
    )
    assert (status, reason(body), body["error"]["errors"][0]["location"]) == (
        400,
        "timeRangeEmpty",
        "timeMax",
    )


def test_all_day_events_use_exclusive_end_dates(api: Api) -> None:
    """An all-day event on D covers [D, D+1) (discovery doc Event.end exclusive)."""
    api.insert("2026-10-20", "2026-10-21", id="fullda00")
    assert ids(api.items(timeMin="2026-10-21T00:00:00Z")) == set()
    assert ids(api.items(timeMin="2026-10-20T23:59:59Z")) == {"fullda00"}


def test_paging_is_a_consistent_snapshot(api: Api) -> None:
    """Changes during paging are not lost or duplicated; the page token encodes a snapshot (sync guide)."""
    for i in range(5):
        api.insert(f"2026-10-2{i}T10:00:00Z", f"2026-10-2{i}T11:00:00Z", id=f"page{i}000")
    first = api.ok("events.list", query={"maxResults": "2"})
    assert len(first["items"]) == 2
    assert "nextSyncToken" not in first
    api.insert("2026-10-28T10:00:00Z", "2026-10-28T11:00:00Z", id="late0000")
    rest = api.items(pageToken=first["nextPageToken"], maxResults="2")
    assert ids(first["items"]) | ids(rest) == {f"page{i}000" for i in range(5)}
    last = api.ok("events.list", query={"pageToken": first["nextPageToken"], "maxResults": "10"})
    delta = api.items(syncToken=last["nextSyncToken"])
    assert ids(delta) == {"late0000"}  # the change during paging arrives in the next delta


def test_page_token_of_another_query_is_rejected(api: Api) -> None:
    """A page token belongs to its query; a different query or a garbled token is a 400."""
    for i in range(3):
        api.insert(f"2026-10-2{i}T10:00:00Z", f"2026-10-2{i}T11:00:00Z")
    token = api.ok("events.list", query={"maxResults": "1"})["nextPageToken"]
    assert api.call("events.list", query={"maxResults": "1", "pageToken": token, "q": "x"})[0] == 400
    assert api.call("events.list", query={"pageToken": "garbage"})[0] == 400


def test_max_results_default_and_cap(api: Api) -> None:
    """maxResults defaults to 250 and is capped at 2500 (discovery doc maxResults)."""
    for _i in range(251):
        api.store.commit("alice@example.com", {**api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z")})
    assert len(api.ok("events.list")["items"]) == 250
    assert len(api.ok("events.list", query={"maxResults": "999999"})["items"]) == 251


def test_order_by_start_time_requires_single_events(api: Api) -> None:
    """orderBy=startTime without singleEvents answers 400; with it, items come in start order."""
    assert reason(api.call("events.list", query={"orderBy": "startTime"})[1]) == "invalid"
    api.insert("2026-10-22T10:00:00Z", "2026-10-22T11:00:00Z", id="bbbbb000")
    api.insert("2026-10-21T10:00:00Z", "2026-10-21T11:00:00Z", id="ccccc000")
    found = api.items(orderBy="startTime", singleEvents="true")
    assert [e["id"] for e in found] == ["ccccc000", "bbbbb000"]
    assert [e["id"] for e in api.items(orderBy="updated")] == ["bbbbb000", "ccccc000"]


def test_forbidden_filters_suppress_next_sync_token(api: Api) -> None:
    """A full sync with orderBy/q/iCalUID/property filters/updatedMin gets no nextSyncToken (sync guide)."""
    assert "nextSyncToken" in api.ok("events.list", query={"timeMin": "2026-01-01T00:00:00Z"})
    for extra in (
        {"q": "x"},
        {"orderBy": "updated"},
        {"privateExtendedProperty": "a=b"},
        {"updatedMin": "2026-01-01T00:00:00Z"},
        {"iCalUID": "x@google.com"},
    ):
        assert "nextSyncToken" not in api.ok("events.list", query=extra), extra


def test_extended_property_filters_must_all_match(api: Api) -> None:
    """Repeated privateExtendedProperty constraints must all match (discovery doc privateExtendedProperty)."""
    api.insert(
        "2026-10-20T10:00:00Z",
        "2026-10-20T11:00:00Z",
        id="both0000",
        extendedProperties={"private": {"a": "1", "b": "2"}, "shared": {"s": "3"}},
    )
    api.insert(
        "2026-10-20T10:00:00Z",
        "2026-10-20T11:00:00Z",
        id="one00000",
        extendedProperties={"private": {"a": "1"}},
    )
    assert ids(api.items(privateExtendedProperty="a=1")) == {"both0000", "one00000"}
    both = api.ok(
        "events.list", query=[("privateExtendedProperty", "a=1"), ("privateExtendedProperty", "b=2")]
    )
    assert ids(both["items"]) == {"both0000"}
    assert ids(api.items(sharedExtendedProperty="s=3")) == {"both0000"}
    assert ids(api.items(privateExtendedProperty="s=3")) == set()  # private and shared are separate


def test_text_search(api: Api) -> None:
    """q matches summary, description, location and attendee emails (discovery doc q)."""
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="qqqqq000", summary="Quarterly Review")
    api.insert(
        "2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="rrrrr000", attendees=[{"email": "zed@x.io"}]
    )
    assert ids(api.items(q="quarterly")) == {"qqqqq000"}
    assert ids(api.items(q="zed@")) == {"rrrrr000"}


def test_deleted_events_only_with_show_deleted(api: Api) -> None:
    """Cancelled events are listed only with showDeleted (with details), never by default."""
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="ddddd000")
    api.ok("events.delete", eventId="ddddd000")
    assert api.items() == []
    [tomb] = api.items(showDeleted="true")
    assert tomb["status"] == "cancelled"
    assert tomb["summary"] == "meeting"


def test_updated_min_includes_deletions(api: Api) -> None:
    """updatedMin filters by modification time and always includes deletions since then."""
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="old00000")
    since = api.clock.now.isoformat()
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="nev00000")
    api.ok("events.delete", eventId="old00000")
    found = {e["id"]: e["status"] for e in api.items(updatedMin=since)}
    assert found == {"nev00000": "confirmed", "old00000": "cancelled"}


def test_calendar_list_marks_only_the_primary(api: Api) -> None:
    """calendarList entries carry accessRole owner and primary only on the primary calendar."""
    extra = api.store.create_calendar("alice@example.com", "Work")
    items = api.ok("calendarList.list")["items"]
    assert [(e["id"], e.get("primary"), e["accessRole"]) for e in items] == [
        ("alice@example.com", True, "owner"),
        (extra, None, "owner"),
    ]
    assert api.call("events.list", account="bob@example.com", calendarId=extra)[0] == 404


def test_calendar_list_get_resolves_primary_and_hides_other_accounts(api: Api) -> None:
    """calendarList.get answers the account's own calendars (`primary` included), 404 for others."""
    extra = api.store.create_calendar("alice@example.com", "Work")
    assert api.ok("calendarList.get", calendarId="primary")["id"] == "alice@example.com"
    assert api.ok("calendarList.get", calendarId=extra)["summary"] == "Work"
    assert api.call("calendarList.get", account="bob@example.com", calendarId=extra)[0] == 404
    assert api.call("calendarList.get", calendarId="ghost@example.com")[0] == 404


def test_store_snapshot_sees_each_event_as_of_a_change_number(api: Api) -> None:
    """Page tokens rely on Store.snapshot: later writes are invisible to an older snapshot."""
    api.insert("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", id="snap0000", summary="before")
    at = api.store.seq
    api.ok("events.patch", eventId="snap0000", body={"summary": "after"})
    api.insert("2026-10-21T10:00:00Z", "2026-10-21T11:00:00Z", id="snap1111")
    assert [v.event["summary"] for v in api.store.snapshot(ALICE, at)] == ["before"]
    assert api.store.snapshot(ALICE, 0) == []
    latest = {v.event["id"]: v.event["summary"] for v in api.store.snapshot(ALICE, api.store.seq)}
    assert latest == {"snap0000": "after", "snap1111": "meeting"}


def test_without_time_max_nothing_is_cut_off_but_never_ending_series(api: Api) -> None:
    """No timeMax means no upper filter (discovery doc); only a series without end stops at the horizon."""
    api.insert("2031-05-01T10:00:00Z", "2031-05-01T11:00:00Z", id="farsingle")
    yearly = {"start": {"dateTime": "2030-03-01T10:00:00", "timeZone": "UTC"}}
    yearly["end"] = {"dateTime": "2030-03-01T11:00:00", "timeZone": "UTC"}
    api.ok("events.insert", body={"id": "finite00", **yearly, "recurrence": ["RRULE:FREQ=YEARLY;COUNT=3"]})
    api.ok("events.insert", body={"id": "forever0", **yearly, "recurrence": ["RRULE:FREQ=YEARLY"]})
    assert ids(api.items()) == {"farsingle", "finite00", "forever0"}
    expanded = ids(api.items(singleEvents="true", timeMin="2026-01-01T00:00:00Z"))
    assert expanded == {"farsingle", "finite00_20300301T100000Z", "finite00_20310301T100000Z"} | {
        "finite00_20320301T100000Z"
    }  # the never-ending series starts after now + 730 days, the horizon
    later = ids(api.items(singleEvents="true", timeMax="2033-01-01T00:00:00Z"))
    assert {"forever0_20300301T100000Z", "forever0_20320301T100000Z"} <= later  # a timeMax expands it
