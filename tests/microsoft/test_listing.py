"""Listing and deltas against the Graph emulator: ids, tombstones, series, marks and what each read costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from calmirror.emulator.graph.instances import occurrence
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.engine import BlockSpec, Create, Interval, Restore
from calmirror.engine.cache import CalendarCache
from calmirror.errors import NotFoundError, SyncTokenExpiredError
from calmirror.microsoft import MicrosoftCalendars
from tests.microsoft.conftest import ALICE, WINDOW, MakeProvider, http_count, meeting, seed, sibling_access


def graph_requests(graph: GraphEmulator) -> int:
    """How many requests reached Graph's routes (the token endpoint not counted)."""
    return http_count(graph, path_part="/v1.0/")


def spec(start: datetime, hours: int = 1, block: str = "blk1") -> BlockSpec:
    """A block spec starting at `start`."""
    return BlockSpec(Interval(start, start.replace(hour=start.hour + hours)), block, "Busy")


async def test_listing_returns_the_window_and_a_delta_link(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A listing holds the window's events under their Graph ids, times in UTC, and a cursor."""
    inside = seed(graph, meeting("2026-12-08T10:00", "2026-12-08T11:00", "Planning"))
    seed(graph, meeting("2026-12-30T10:00", "2026-12-30T11:00"))  # outside the window
    listing = await alice.list_window("primary", WINDOW)
    assert [(e.id, e.summary, e.interval) for e in listing.events] == [
        (
            inside,
            "Planning",
            Interval(datetime(2026, 12, 8, 10, tzinfo=UTC), datetime(2026, 12, 8, 11, tzinfo=UTC)),
        )
    ]
    assert listing.cursor is not None
    assert "deltatoken" in listing.cursor


async def test_each_delta_costs_one_request(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """An idle poll, a new, a moved and a cancelled meeting each cost exactly one delta request."""
    listing = await alice.list_window("primary", WINDOW)
    cursor = listing.cursor
    assert cursor is not None
    steps: list[tuple[str, int, list[str]]] = []

    async def poll(label: str) -> list[str]:
        nonlocal cursor
        before = graph_requests(graph)
        delta = await alice.read_changes("primary", str(cursor), WINDOW)
        cursor = delta.cursor
        ids = [f"{e.id}:{e.status}" for e in delta.events]
        steps.append((label, graph_requests(graph) - before, ids))
        assert not delta.relist
        return ids

    await poll("idle")
    new = seed(graph, meeting("2026-12-09T10:00", "2026-12-09T11:00"))
    await poll("new")
    stored = graph.store.events[new]
    graph.store.update(
        stored,
        {
            "start": {"dateTime": "2026-12-09T12:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-09T13:00:00", "timeZone": "UTC"},
        },
    )
    await poll("moved")
    graph.store.delete(graph.store.events[new])
    await poll("cancelled")
    assert steps == [
        ("idle", 1, []),
        ("new", 1, [f"{new}:confirmed"]),
        ("moved", 1, [f"{new}:confirmed"]),
        ("cancelled", 1, [f"{new}:cancelled"]),
    ]


async def test_listing_costs_a_blocks_query_and_the_delta_pages(
    graph: GraphEmulator, make_provider: MakeProvider
) -> None:
    """A listing of a named calendar: one query for the blocks, then one request per delta page."""
    for n in range(5):
        seed(graph, meeting(f"2026-12-1{n}T10:00", f"2026-12-1{n}T11:00"))
    provider = make_provider(page_size=2)
    calendar = graph.store.calendar(ALICE, None).id
    before = graph_requests(graph)
    listing = await provider.list_window(calendar, WINDOW)
    assert len(listing.events) == 5
    assert graph_requests(graph) - before == 1 + 3


async def test_a_series_lists_occurrences_and_its_changes_come_one_by_one(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A weekly series lists each occurrence; a moved one comes back moved, a cancelled one as a tombstone."""
    body = meeting("2026-12-07T09:00", "2026-12-07T10:00", "Standup")
    body["recurrence"] = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
        "range": {"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 4},
    }
    master = seed(graph, body)
    listing = await alice.list_window("primary", WINDOW)
    starts = [e.interval.start.date() for e in listing.events if e.interval]
    assert starts == [date(2026, 12, 7), date(2026, 12, 9), date(2026, 12, 14), date(2026, 12, 16)]
    assert master not in {e.id for e in listing.events}  # the series master is never an event
    moved_id, cancelled_id = listing.events[1].id, listing.events[2].id
    series = graph.store.events[master]
    found = occurrence(series, date(2026, 12, 9))
    assert found is not None
    graph.store.update_occurrence(
        found,
        {
            "start": {"dateTime": "2026-12-09T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-09T16:00:00", "timeZone": "UTC"},
        },
    )
    graph.store.cancel_occurrence(graph.store.events[master], date(2026, 12, 14))
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    assert not delta.relist
    changes = {e.id: e for e in delta.events}
    assert changes[moved_id].interval == Interval(
        datetime(2026, 12, 9, 15, tzinfo=UTC), datetime(2026, 12, 9, 16, tzinfo=UTC)
    )
    assert changes[cancelled_id].cancelled


async def test_an_expired_delta_link_asks_for_a_new_listing(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """Graph's 410 SyncStateNotFound becomes SyncTokenExpiredError."""
    listing = await alice.list_window("primary", WINDOW)
    graph.api.deltas.invalidate()
    with pytest.raises(SyncTokenExpiredError):
        await alice.read_changes("primary", str(listing.cursor), WINDOW)


async def test_blocks_are_listed_under_their_block_ids_and_deleted_ones_are_tombstones(
    graph: GraphEmulator, alice: MicrosoftCalendars, make_provider: MakeProvider
) -> None:
    """A block calmirror wrote is a marked event named by its block id, in listings and deltas alike."""
    listing = await alice.list_window("primary", WINDOW)
    block = spec(datetime(2026, 12, 10, 9, tzinfo=UTC))
    [outcome] = await alice.write_blocks("primary", [Create(block)])
    assert outcome.error is None
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    assert [(e.id, e.marked) for e in delta.events] == [("blk1", True)]
    relisted = await make_provider(access=sibling_access(graph)).list_window("primary", WINDOW)
    assert [(e.id, e.marked) for e in relisted.events] == [("blk1", True)]
    graph_id = next(iter(graph.store.events))
    graph.store.delete(graph.store.events[graph_id])
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled, e.marked) for e in delta.events] == [("blk1", True, True)]


async def test_a_sibling_process_block_in_a_delta_is_resolved_by_one_batch(
    graph: GraphEmulator, alice: MicrosoftCalendars, make_provider: MakeProvider
) -> None:
    """Another process's block shows in a delta as a block: one delta, then one $batch reading its mark."""
    listing = await alice.list_window("primary", WINDOW)
    sibling = make_provider(access=sibling_access(graph))
    await sibling.write_blocks("primary", [Create(spec(datetime(2026, 12, 11, 9, tzinfo=UTC), block="blk2"))])
    seed(graph, meeting("2026-12-11T13:00", "2026-12-11T14:00"))
    before = graph_requests(graph)
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    assert sorted((e.id == "blk2", e.marked) for e in delta.events) == [(False, False), (True, True)]
    assert graph_requests(graph) - before == 2


async def test_a_deleted_block_is_its_tombstone_after_a_refresh_of_the_index(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A block deleted before a write pass relists the blocks still comes back as its own tombstone."""
    listing = await alice.list_window("primary", WINDOW)
    one, two = (
        spec(datetime(2026, 12, 8, 10, tzinfo=UTC), block="x1"),
        spec(datetime(2026, 12, 9, 10, tzinfo=UTC), block="x2"),
    )
    await alice.write_blocks("primary", [Create(one), Create(two)])
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    by_start = {e.start: e for e in graph.store.events.values()}
    graph.store.delete(by_start[one.interval.start])
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled, e.marked) for e in delta.events] == [("x1", True, True)]
    graph.store.delete(by_start[two.interval.start])
    # Restoring x1 misses the index, so the provider lists the blocks again: x2 is gone from that listing.
    [restored] = await alice.write_blocks("primary", [Restore(one)])
    assert isinstance(restored.error, NotFoundError)
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled, e.marked) for e in delta.events] == [("x2", True, True)]


async def test_changes_outside_the_window_hide_nothing_inside_it(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A meeting moved far ahead leaves the window; events added or edited outside it touch nothing inside."""
    cache = CalendarCache(alice, "primary", margin=timedelta(0))
    moved = seed(graph, meeting("2026-12-08T10:00", "2026-12-08T11:00", "Moves"))
    kept = seed(graph, meeting("2026-12-09T10:00", "2026-12-09T11:00", "Stays"))
    far = seed(graph, meeting("2027-03-01T10:00", "2027-03-01T11:00", "Far"))
    await cache.relist(WINDOW)
    [outcome] = await alice.write_blocks("primary", [Create(spec(datetime(2026, 12, 10, 9, tzinfo=UTC)))])
    cache.write_back([outcome.event] if outcome.event else [], [])
    later = {"dateTime": "2027-06-01T10:00:00", "timeZone": "UTC"}
    graph.store.update(
        graph.store.events[moved], {"start": later, "end": later | {"dateTime": "2027-06-01T11:00:00"}}
    )
    graph.store.update(graph.store.events[far], {"subject": "Far, renamed"})
    seed(graph, meeting("2027-04-01T10:00", "2027-04-01T11:00", "New and far"))
    await cache.refresh(WINDOW)
    assert sorted(e.id for e in cache.source_events(WINDOW)) == sorted([kept, "blk1"])
    assert moved in cache.tombstones


async def test_a_block_edited_outside_the_window_is_not_taken_for_deleted(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """An edit outside the window comes as @removed: once the block is listed again, a create finds it."""
    listing = await alice.list_window("primary", WINDOW)
    far = spec(datetime(2027, 3, 1, 9, tzinfo=UTC), block="far")
    await alice.write_blocks("primary", [Create(far)])
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    [held] = graph.store.events.values()
    graph.store.update(held, {"subject": "Renamed"})
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled) for e in delta.events] == [("far", True)]
    assert [b.id for b in await alice.list_blocks("primary")] == ["far"]
    [again] = await alice.write_blocks("primary", [Create(far)])
    assert again.error is None
    assert list(graph.store.events) == [held.id]


async def test_a_deleted_block_looked_up_before_its_delta_is_still_its_tombstone(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """get_block finding a deleted block gone does not make its later @removed someone else's event."""
    listing = await alice.list_window("primary", WINDOW)
    await alice.write_blocks("primary", [Create(spec(datetime(2026, 12, 8, 10, tzinfo=UTC), block="x3"))])
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    [held] = graph.store.events.values()
    graph.store.delete(held)
    assert await alice.get_block("primary", "x3") is None
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled, e.marked) for e in delta.events] == [("x3", True, True)]
