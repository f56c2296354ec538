"""calendarView's window rule and calendarView/delta rounds, paging and sync resets over HTTP."""

from __future__ import annotations

from tests.emulator.graph.conftest import GraphClient
from tests.emulator.graph.test_events import ALICE, event

VIEW = f"{ALICE}/calendarView"
WINDOW = "startDateTime=2026-12-08T09:00:00Z&endDateTime=2026-12-08T12:00:00Z"


async def ids(client: GraphClient, path: str) -> list[str]:
    """The ids of a collection's first page."""
    answer = await client.call("GET", path)
    assert answer.status == 200, answer.body
    return [e["id"] for e in answer.body["value"]]


async def created(client: GraphClient, start: str, end: str) -> str:
    """Create an event on 2026-12-08 from `start` to `end` (HH:MM) and return its id."""
    answer = await client.call(
        "POST", f"{ALICE}/events", json=event(start=f"2026-12-08T{start}:00", end=f"2026-12-08T{end}:00")
    )
    return str(answer.body["id"])


async def test_calendar_view_returns_an_event_iff_it_overlaps(alice: GraphClient) -> None:
    """Events overlapping [09:00, 12:00) are returned; ones ending at 09:00 or starting at 12:00 are not."""
    inside = await created(alice, "10:00", "11:00")
    across_start = await created(alice, "08:00", "09:30")
    across_end = await created(alice, "11:30", "13:00")
    around = await created(alice, "08:00", "13:00")
    await created(alice, "08:00", "09:00")
    await created(alice, "12:00", "13:00")
    assert set(await ids(alice, f"{VIEW}?{WINDOW}")) == {inside, across_start, across_end, around}


async def test_calendar_view_needs_a_window(alice: GraphClient) -> None:
    """Without startDateTime and endDateTime calendarView answers ErrorInvalidParameter."""
    answer = await alice.call("GET", VIEW)
    assert (answer.status, answer.body["error"]["code"]) == (400, "ErrorInvalidParameter")


async def drain(client: GraphClient, url: str, page_size: int = 10) -> tuple[list[dict[str, object]], str]:
    """Follow next links to the end of a delta round; the items and the delta link."""
    items: list[dict[str, object]] = []
    while True:
        answer = await client.call("GET", url, Prefer=f"odata.maxpagesize={page_size}")
        assert answer.status == 200, answer.body
        items.extend(answer.body["value"])
        if "@odata.deltaLink" in answer.body:
            return items, answer.body["@odata.deltaLink"]
        url = answer.body["@odata.nextLink"]


async def test_delta_reports_changes_then_deletions(alice: GraphClient) -> None:
    """A first round lists the window; the next only the changed event; after a delete, `@removed`."""
    first, second = await created(alice, "10:00", "11:00"), await created(alice, "10:30", "11:30")
    await created(alice, "14:00", "15:00")  # outside the window
    items, link = await drain(alice, f"{VIEW}/delta?{WINDOW}")
    assert {i["id"] for i in items} == {first, second}
    await alice.call("PATCH", f"{ALICE}/events/{second}", json={"subject": "Renamed"})
    items, link = await drain(alice, link)
    assert [(i["id"], i["subject"]) for i in items] == [(second, "Renamed")]
    await alice.call("DELETE", f"{ALICE}/events/{first}")
    items, link = await drain(alice, link)
    assert items == [{"id": first, "@removed": {"reason": "deleted"}}]
    items, _ = await drain(alice, link)
    assert items == []


async def test_delta_pages_and_keeps_its_window(alice: GraphClient) -> None:
    """odata.maxpagesize pages a round by next links; later rounds keep the first call's window."""
    made = {await created(alice, f"{9 + n // 4:02d}:{(n % 4) * 15:02d}", "11:59") for n in range(7)}
    items, link = await drain(alice, f"{VIEW}/delta?{WINDOW}", page_size=3)
    assert {i["id"] for i in items} == made
    assert len(items) == 7
    outside = await created(alice, "13:00", "14:00")
    inside = await created(alice, "11:00", "11:30")
    items, _ = await drain(
        alice, link + "&startDateTime=2026-12-08T00:00:00Z&endDateTime=2026-12-09T00:00:00Z"
    )
    assert [i["id"] for i in items if "@removed" not in i] == [inside]
    assert outside not in made


async def test_unknown_delta_token_needs_a_resync(alice: GraphClient) -> None:
    """A token the server does not know (expired or forged) answers 410 SyncStateNotFound."""
    _, link = await drain(alice, f"{VIEW}/delta?{WINDOW}")
    alice.emulator.api.deltas.invalidate()
    answer = await alice.call("GET", link)
    assert (answer.status, answer.body["error"]["code"]) == (410, "SyncStateNotFound")
    forged = await alice.call("GET", f"{VIEW}/delta?$deltatoken=forged")
    assert forged.status == 410


async def test_delta_reports_an_event_moved_out_of_the_window_as_removed(alice: GraphClient) -> None:
    """An event the client holds that moves out of the window comes back as `@removed`."""
    moved = await created(alice, "10:00", "11:00")
    _, link = await drain(alice, f"{VIEW}/delta?{WINDOW}")
    start = {"dateTime": "2026-12-08T15:00:00", "timeZone": "UTC"}
    end = {"dateTime": "2026-12-08T16:00:00", "timeZone": "UTC"}
    await alice.call("PATCH", f"{ALICE}/events/{moved}", json={"start": start, "end": end})
    items, _ = await drain(alice, link)
    assert items == [{"id": moved, "@removed": {"reason": "deleted"}}]


async def test_delta_reports_changes_outside_the_window_as_removed(alice: GraphClient) -> None:
    """Events outside the window that are added, updated or deleted come as `@removed` (event: delta)."""
    far = await created(alice, "14:00", "15:00")
    _, link = await drain(alice, f"{VIEW}/delta?{WINDOW}")
    added = await created(alice, "16:00", "17:00")
    await alice.call("PATCH", f"{ALICE}/events/{far}", json={"subject": "Renamed"})
    items, link = await drain(alice, link)
    assert sorted(i["id"] for i in items) == sorted([far, added])
    assert all(i["@removed"] == {"reason": "deleted"} for i in items)
    await alice.call("DELETE", f"{ALICE}/events/{added}")
    items, _ = await drain(alice, link)
    assert items == [{"id": added, "@removed": {"reason": "deleted"}}]
