"""Block writes against the Graph emulator: batches, idempotent creates, removals, restores, the executor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calmirror.emulator.graph.model import StoredEvent
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.engine import BlockSpec, Create, Interval, Plan, Remove, Restore
from calmirror.engine.executor import apply_plan
from calmirror.errors import NotFoundError
from calmirror.microsoft import MicrosoftCalendars
from calmirror.microsoft.blocks import BODY_TEXT, MARK_ID
from tests.microsoft.conftest import WINDOW, MakeProvider, http_count, meeting, seed, sibling_access

DAY = datetime(2026, 12, 8, tzinfo=UTC)


def spec(n: int, hours: int = 1) -> BlockSpec:
    """The n-th block: quarter-hours apart from 08:00 on 2026-12-08."""
    start = DAY + timedelta(hours=8, minutes=15 * n)
    return BlockSpec(Interval(start, start + timedelta(hours=hours)), f"blk{n:03d}", "Busy")


def blocks(graph: GraphEmulator) -> dict[str, StoredEvent]:
    """Alice's stored events carrying calmirror's mark, by block id."""
    return {e.extended[MARK_ID]: e for e in graph.store.events.values() if MARK_ID in e.extended}


async def test_45_creates_go_out_in_3_batches(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """45 creates are three $batch requests; every block is private, busy, silent, marked, unattended."""
    specs = [spec(n) for n in range(45)]
    outcomes = await alice.write_blocks("primary", [Create(s) for s in specs])
    assert [o.error for o in outcomes] == [None] * 45
    assert [(o.event.id, o.event.marked) for o in outcomes if o.event] == [(s.id, True) for s in specs]
    assert http_count(graph, "POST", "/$batch") == 3
    stored = blocks(graph)
    assert sorted(stored) == [s.id for s in specs]
    one = stored["blk007"]
    assert (one.start, one.end) == (specs[7].interval.start, specs[7].interval.end)
    assert (one.sensitivity, one.show_as, one.is_reminder_on, one.response_requested) == (
        "private",
        "busy",
        False,
        False,
    )
    assert (one.attendees, one.body_text, one.transaction_id) == ((), BODY_TEXT, "calmirror-blk007")


async def test_a_resent_create_makes_no_second_block(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """The same create twice (a retry after a lost answer) leaves one event: its transactionId is fixed."""
    first = await alice.write_blocks("primary", [Create(spec(1))])
    again = await alice.write_blocks("primary", [Create(spec(1))])
    assert [o.error for o in first + again] == [None, None]
    assert len(graph.store.events) == 1


async def test_all_day_block(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """An all-day block is isAllDay with UTC midnights, and reads back as the same dates."""
    days = BlockSpec(Interval(DAY, DAY + timedelta(days=2), all_day=True), "allday", "Busy")
    [outcome] = await alice.write_blocks("primary", [Create(days)])
    assert outcome.event is not None
    assert outcome.event.interval == days.interval
    stored = blocks(graph)["allday"]
    assert (stored.is_all_day, stored.start, stored.start_zone) == (True, DAY, "UTC")


async def test_remove_deletes_and_a_missing_block_answers_not_found(
    graph: GraphEmulator, alice: MicrosoftCalendars, make_provider: MakeProvider
) -> None:
    """A removal deletes the event; one no event holds answers NotFoundError (the executor: gone)."""
    await alice.write_blocks("primary", [Create(spec(1)), Create(spec(2))])
    outcomes = await alice.write_blocks("primary", [Remove("blk001"), Remove("nosuch")])
    assert outcomes[0].error is None
    assert isinstance(outcomes[1].error, NotFoundError)
    assert sorted(blocks(graph)) == ["blk002"]


async def test_a_new_process_removes_a_block_it_never_saw(
    graph: GraphEmulator, make_provider: MakeProvider
) -> None:
    """A provider that has not listed the calendar finds the block's Graph id by the mark, then deletes it."""
    writer = make_provider()
    await writer.write_blocks("primary", [Create(spec(3))])
    other = make_provider(access=sibling_access(graph))
    [outcome] = await other.write_blocks("primary", [Remove("blk003")])
    assert outcome.error is None
    assert blocks(graph) == {}


async def test_restore_puts_an_edited_block_back(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """A block someone renamed and set free is PATCHed back to its spec, keeping its Graph id."""
    await alice.write_blocks("primary", [Create(spec(4))])
    stored = blocks(graph)["blk004"]
    graph.store.update(stored, {"subject": "Mine now", "showAs": "free"})
    [outcome] = await alice.write_blocks("primary", [Restore(spec(4))])
    assert outcome.error is None
    back = blocks(graph)["blk004"]
    assert (back.id, back.subject, back.show_as) == (stored.id, "Busy", "busy")


async def test_get_and_list_blocks_find_marked_events_only(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """get_block reads a block by its mark; list_blocks every block at any time, never other events."""
    seed(graph, meeting("2026-12-08T10:00", "2026-12-08T11:00"))
    far = BlockSpec(Interval(DAY + timedelta(days=400), DAY + timedelta(days=400, hours=1)), "far", "Busy")
    await alice.write_blocks("primary", [Create(spec(5)), Create(far)])
    found = await alice.get_block("primary", "blk005")
    assert found is not None
    assert (found.id, found.marked, found.interval) == (
        "blk005",
        True,
        spec(5).interval,
    )
    assert await alice.get_block("primary", "nosuch") is None
    assert sorted(b.id for b in await alice.list_blocks("primary")) == ["blk005", "far"]


async def test_executor_restores_a_dragged_block_whose_create_is_a_duplicate(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A create answered by the block dragged elsewhere is a duplicate; the executor puts the block back."""
    await alice.write_blocks("primary", [Create(spec(6))])
    stored = blocks(graph)["blk006"]
    later = {"dateTime": "2026-12-08T20:00:00", "timeZone": "UTC"}
    graph.store.update(
        stored, {"start": later, "end": {"dateTime": "2026-12-08T21:00:00", "timeZone": "UTC"}}
    )
    report = await apply_plan(alice, "primary", Plan(creates=(spec(6),)))
    assert report.ok
    assert report.restored == ("blk006",)
    back = blocks(graph)["blk006"]
    assert (back.id, back.start) == (stored.id, spec(6).interval.start)
    assert len(graph.store.events) == 1


async def test_executor_recreates_a_block_someone_deleted(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A deleted block is created again under the same transactionId (a deleted event's one is free)."""
    await alice.write_blocks("primary", [Create(spec(7))])
    graph.store.delete(blocks(graph)["blk007"])
    report = await apply_plan(alice, "primary", Plan(creates=(spec(7),)))
    assert report.ok
    assert report.created == ("blk007",)
    assert sorted(blocks(graph)) == ["blk007"]


async def test_a_users_copy_of_a_block_neither_shadows_it_nor_is_deleted(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A copy made in Outlook keeps the mark: it stays the user's event, and Remove deletes the block."""
    await alice.write_blocks("primary", [Create(spec(8))])
    original = blocks(graph)["blk008"]
    copy = seed(
        graph,
        meeting(
            "2026-12-09T10:00",
            "2026-12-09T11:00",
            "Busy",
            showAs="busy",
            singleValueExtendedProperties=[{"id": MARK_ID, "value": "blk008"}],
        ),
    )
    listing = await alice.list_window("primary", WINDOW)
    assert sorted((e.id, e.marked, e.interval.start) for e in listing.events) == sorted(
        [("blk008", True, spec(8).interval.start), (copy, False, datetime(2026, 12, 9, 10, tzinfo=UTC))]
    )
    assert [(b.id, b.interval) for b in await alice.list_blocks("primary")] == [("blk008", spec(8).interval)]
    found = await alice.get_block("primary", "blk008")
    assert found is not None
    assert found.interval == spec(8).interval
    [removed] = await alice.write_blocks("primary", [Remove("blk008")])
    assert removed.error is None
    assert original.id not in graph.store.events
    assert list(graph.store.events) == [copy]
    # Left alone, the copy does not become the block (which the planner would then delete as unwanted).
    assert await alice.list_blocks("primary") == ()
    assert await alice.get_block("primary", "blk008") is None
    relisted = await alice.list_window("primary", WINDOW)
    assert [(e.id, e.marked) for e in relisted.events] == [(copy, False)]


async def test_a_dragged_block_comes_back_when_deleted_transaction_ids_stay_taken(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """The executor deletes a dragged block and creates it again: its create must not reuse the deleted id."""
    graph.store.transactions_outlive_delete = True
    await alice.write_blocks("primary", [Create(spec(9))])
    graph.store.update(
        blocks(graph)["blk009"],
        {
            "start": {"dateTime": "2026-12-10T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-10T16:00:00", "timeZone": "UTC"},
        },
    )
    await alice.list_window("primary", WINDOW)
    [dragged] = await alice.list_blocks("primary")
    report = await apply_plan(alice, "primary", Plan(restores=(spec(9),), deletes=(dragged,)))
    assert report.ok
    [back] = graph.store.events.values()
    assert (back.extended[MARK_ID], back.start, back.end) == (
        "blk009",
        spec(9).interval.start,
        spec(9).interval.end,
    )


async def test_a_block_the_user_deleted_comes_back_when_deleted_transaction_ids_stay_taken(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """A deletion seen in a delta makes the next create of the block a new transaction."""
    graph.store.transactions_outlive_delete = True
    listing = await alice.list_window("primary", WINDOW)
    await alice.write_blocks("primary", [Create(spec(10))])
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    graph.store.delete(blocks(graph)["blk010"])
    delta = await alice.read_changes("primary", str(delta.cursor), WINDOW)
    assert [(e.id, e.cancelled) for e in delta.events if e.marked] == [("blk010", True)]
    report = await apply_plan(alice, "primary", Plan(creates=(spec(10),)))
    assert report.ok
    assert report.created == ("blk010",)
    assert sorted(blocks(graph)) == ["blk010"]
