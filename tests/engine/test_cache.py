"""The calendar cache against the emulator: deltas, 410, recurring changes, the window, tombstones."""

from __future__ import annotations

from datetime import timedelta

from calmirror.engine import Interval, Window
from calmirror.engine.cache import CalendarCache
from tests.engine.conftest import EMAILS, MakeWorld, World, base_time, rfc

ALICE = EMAILS[1]


def window() -> Window:
    """Return a window from a day ago to a week ahead."""
    start = base_time() - timedelta(days=2)
    return Window(start, start + timedelta(days=9))


async def loaded(world: World) -> CalendarCache:
    """Return alice's cache after its first full listing, with the request log cleared."""
    cache = CalendarCache(world.providers[1], ALICE)
    await cache.refresh(window())
    world.emulator.reset_requests()
    return cache


def ids(cache: CalendarCache) -> set[str]:
    """Return the ids of the cached live events in the window."""
    return {event.id for event in cache.source_events(window())}


async def test_delta_applies_a_change_with_one_read(make_world: MakeWorld) -> None:
    """A moved event reaches the cache through exactly one list request carrying the sync token."""
    world = make_world()
    event = await world.meeting(1, base_time())
    cache = await loaded(world)
    later = base_time() + timedelta(hours=3)
    await world.edit(
        1, event, start={"dateTime": rfc(later)}, end={"dateTime": rfc(later + timedelta(hours=1))}
    )
    world.emulator.reset_requests()

    await cache.refresh(window())

    assert world.calls() == {"calendar.events.list": 1}
    [cached] = cache.source_events(window())
    assert cached.interval == Interval.timed(later, later + timedelta(hours=1))
    assert cache.full_lists == 1
    assert cache.deltas == 1


async def test_expired_sync_token_relists(make_world: MakeWorld) -> None:
    """A 410 on the delta drops the cache and lists the window again, picking up every change."""
    world = make_world()
    await world.meeting(1, base_time())
    cache = await loaded(world)
    second = await world.meeting(1, base_time() + timedelta(hours=2))
    world.emulator.invalidate_sync_tokens(ALICE)
    world.emulator.reset_requests()

    await cache.refresh(window())

    assert cache.complete
    assert cache.full_lists == 2
    assert second["id"] in ids(cache)
    assert world.calls() == {"calendar.events.list": 2}  # the refused delta, then the full listing


async def test_recurring_change_relists_the_window(make_world: MakeWorld) -> None:
    """A delta holding instances of a series makes the cache list the whole window again."""
    world = make_world()
    cache = await loaded(world)
    start = base_time()
    await world.meeting(
        1,
        start,
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        start={"dateTime": rfc(start), "timeZone": "UTC"},
        end={"dateTime": rfc(start + timedelta(hours=1)), "timeZone": "UTC"},
    )
    world.emulator.reset_requests()

    await cache.refresh(window())

    assert cache.full_lists == 2
    assert world.calls() == {"calendar.events.list": 2}
    assert len(ids(cache)) == 3


async def test_cancellations_leave_the_cache_and_are_remembered(make_world: MakeWorld) -> None:
    """A deleted event disappears from the cache and its id is kept as a tombstone."""
    world = make_world()
    event = await world.meeting(1, base_time())
    cache = await loaded(world)
    await world.users[1].delete_event(ALICE, event["id"])

    await cache.refresh(window())

    assert ids(cache) == set()
    assert event["id"] in cache.tombstones


async def test_delta_items_outside_the_window_are_dropped(make_world: MakeWorld) -> None:
    """An event moved far beyond the cache window leaves the cache; one created there never enters."""
    world = make_world()
    event = await world.meeting(1, base_time())
    cache = await loaded(world)
    far = base_time() + timedelta(days=60)
    await world.edit(1, event, start={"dateTime": rfc(far)}, end={"dateTime": rfc(far + timedelta(hours=1))})
    await world.meeting(1, far + timedelta(days=1))

    await cache.refresh(window())

    assert cache.deltas == 1
    assert cache.source_events(Window(base_time() - timedelta(days=400), far + timedelta(days=400))) == ()


async def test_a_window_beyond_the_cache_relists(make_world: MakeWorld) -> None:
    """A reconcile window reaching past the cache window (plus its margin) lists again instead of a delta."""
    world = make_world()
    cache = await loaded(world)
    later = Window(window().start + timedelta(days=3), window().end + timedelta(days=3))

    await cache.refresh(later)

    assert cache.full_lists == 2
    assert cache.window is not None
    assert cache.window.end == later.end + cache.margin


async def test_failed_read_marks_the_cache_incomplete(make_world: MakeWorld) -> None:
    """A delta that fails after retries leaves the cache incomplete until the same delta succeeds."""
    world = make_world()
    await world.meeting(1, base_time())
    cache = await loaded(world)
    world.emulator.faults.add({"kind": "status", "status": 503, "methods": ["calendar.events.list"]})

    await cache.refresh(window())

    assert not cache.complete
    assert cache.error is not None
    world.emulator.faults.clear()
    world.emulator.reset_requests()
    await cache.refresh(window())
    assert cache.complete
    assert cache.full_lists == 1  # the kept sync token makes recovery one delta, not a relist
    assert world.calls() == {"calendar.events.list": 1}
    assert len(ids(cache)) == 1
