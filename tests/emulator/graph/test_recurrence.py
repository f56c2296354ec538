"""Recurring series over HTTP: occurrences in calendarView and instances, cancelled occurrences, delta."""

from __future__ import annotations

from typing import Any

from tests.emulator.graph.conftest import GraphClient
from tests.emulator.graph.test_events import ALICE
from tests.emulator.graph.test_views import VIEW, drain

TWO_WEEKS = "startDateTime=2026-12-07T00:00:00Z&endDateTime=2026-12-21T00:00:00Z"


def series(pattern: dict[str, Any], range_: dict[str, Any]) -> dict[str, Any]:
    """A series starting Monday 2026-12-07 10:00-11:00 Berlin time."""
    return {
        "subject": "Standup",
        "start": {"dateTime": "2026-12-07T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-12-07T11:00:00", "timeZone": "Europe/Berlin"},
        "recurrence": {"pattern": pattern, "range": {"startDate": "2026-12-07", **range_}},
    }


WEEKLY = series(
    {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
    {"type": "numbered", "numberOfOccurrences": 3},
)


async def test_weekly_series_shows_its_occurrences(alice: GraphClient) -> None:
    """calendarView lists each occurrence with its own id and times; /events lists the series master."""
    master = (await alice.call("POST", f"{ALICE}/events", json=WEEKLY)).body
    assert (master["type"], master["recurrence"]["pattern"]["daysOfWeek"]) == (
        "seriesMaster",
        ["monday", "wednesday"],
    )
    view = (await alice.call("GET", f"{VIEW}?{TWO_WEEKS}")).body["value"]
    assert [(o["type"], o["seriesMasterId"], o["start"]["dateTime"]) for o in view] == [
        ("occurrence", master["id"], "2026-12-07T09:00:00.0000000"),
        ("occurrence", master["id"], "2026-12-09T09:00:00.0000000"),
        ("occurrence", master["id"], "2026-12-14T09:00:00.0000000"),
    ]
    assert len({o["id"] for o in view}) == 3
    one = await alice.call("GET", f"{ALICE}/events/{view[1]['id']}")
    assert (one.status, one.body["start"]["dateTime"]) == (200, "2026-12-09T09:00:00.0000000")
    listed = (await alice.call("GET", f"{ALICE}/events")).body["value"]
    assert [e["id"] for e in listed] == [master["id"]]


async def test_daily_series_is_bounded_by_the_window_and_its_end_date(alice: GraphClient) -> None:
    """A daily series every 2 days up to an end date; instances lists those in the window."""
    body = series({"type": "daily", "interval": 2}, {"type": "endDate", "endDate": "2026-12-13"})
    master = (await alice.call("POST", f"{ALICE}/events", json=body)).body
    window = "startDateTime=2026-12-08T00:00:00Z&endDateTime=2026-12-31T00:00:00Z"
    found = (await alice.call("GET", f"{ALICE}/events/{master['id']}/instances?{window}")).body["value"]
    assert [o["start"]["dateTime"][:10] for o in found] == ["2026-12-09", "2026-12-11", "2026-12-13"]
    endless = series({"type": "daily", "interval": 1}, {"type": "noEnd"})
    await alice.call("POST", f"{ALICE}/events", json=endless)
    view = (await alice.call("GET", f"{VIEW}?{TWO_WEEKS}&$top=100")).body["value"]
    assert len(view) == 4 + 14


async def test_deleting_an_occurrence_cancels_it_and_delta_says_removed(alice: GraphClient) -> None:
    """A deleted occurrence leaves the view; the next delta round reports only it as `@removed`."""
    await alice.call("POST", f"{ALICE}/events", json=WEEKLY)
    items, link = await drain(alice, f"{VIEW}/delta?{TWO_WEEKS}")
    assert len(items) == 3
    gone = str(items[1]["id"])
    assert (await alice.call("DELETE", f"{ALICE}/events/{gone}")).status == 204
    view = (await alice.call("GET", f"{VIEW}?{TWO_WEEKS}")).body["value"]
    assert gone not in {o["id"] for o in view}
    assert len(view) == 2
    items, _ = await drain(alice, link)
    removed = [i for i in items if "@removed" in i]
    assert removed == [{"id": gone, "@removed": {"reason": "deleted"}}]
    assert (await alice.call("GET", f"{ALICE}/events/{gone}")).status == 404


async def test_unserved_recurrences_are_refused_clearly(alice: GraphClient) -> None:
    """Monthly patterns answer 400 saying the emulator does not serve them."""
    monthly = series({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 7}, {"type": "noEnd"})
    refused = await alice.call("POST", f"{ALICE}/events", json=monthly)
    assert (refused.status, refused.body["error"]["code"]) == (400, "ErrorInvalidRequest")
    assert "does not serve" in refused.body["error"]["message"]


async def test_changing_an_occurrence_makes_an_exception(alice: GraphClient) -> None:
    """A patched occurrence becomes an exception at its new time; the others and the series stay."""
    master = (await alice.call("POST", f"{ALICE}/events", json=WEEKLY)).body
    items, link = await drain(alice, f"{VIEW}/delta?{TWO_WEEKS}")
    second = str(items[1]["id"])
    moved = {"dateTime": "2026-12-09T15:00:00", "timeZone": "UTC"}
    moved_end = {"dateTime": "2026-12-09T16:00:00", "timeZone": "UTC"}
    patched = await alice.call(
        "PATCH", f"{ALICE}/events/{second}", json={"subject": "Moved", "start": moved, "end": moved_end}
    )
    assert (patched.status, patched.body["type"], patched.body["id"]) == (200, "exception", second)
    assert patched.body["seriesMasterId"] == master["id"]
    view = (await alice.call("GET", f"{VIEW}?{TWO_WEEKS}")).body["value"]
    assert [(o["type"], o["subject"], o["start"]["dateTime"][:16]) for o in view] == [
        ("occurrence", "Standup", "2026-12-07T09:00"),
        ("exception", "Moved", "2026-12-09T15:00"),
        ("occurrence", "Standup", "2026-12-14T09:00"),
    ]
    assert (await alice.call("GET", f"{ALICE}/events/{second}")).body["subject"] == "Moved"
    changed, _ = await drain(alice, link)
    assert {i["id"]: i["subject"] for i in changed}[second] == "Moved"
    own = await alice.call("PATCH", f"{ALICE}/events/{second}", json={"recurrence": WEEKLY["recurrence"]})
    assert (own.status, own.body["error"]["code"]) == (400, "ErrorInvalidRequest")
    assert (await alice.call("DELETE", f"{ALICE}/events/{second}")).status == 204
    assert len((await alice.call("GET", f"{VIEW}?{TWO_WEEKS}")).body["value"]) == 2
    restart = {"start": {"dateTime": "2026-12-07T11:00:00", "timeZone": "Europe/Berlin"}}
    restart["end"] = {"dateTime": "2026-12-07T12:00:00", "timeZone": "Europe/Berlin"}
    await alice.call("PATCH", f"{ALICE}/events/{master['id']}", json=restart)
    view = (await alice.call("GET", f"{VIEW}?{TWO_WEEKS}")).body["value"]
    assert [(o["type"], o["start"]["dateTime"][:16]) for o in view] == [
        ("occurrence", "2026-12-07T10:00"),
        ("occurrence", "2026-12-09T10:00"),
        ("occurrence", "2026-12-14T10:00"),
    ]
