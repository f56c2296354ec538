"""SyncEngine behaviour: incremental cost, coalescing, serialisation, broken accounts, stats and purge."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from calmirror.config import CalendarRef
from calmirror.engine import Window
from tests.engine.conftest import EMAILS, MakeWorld, base_time, changed, rfc

BOB = CalendarRef(account_id=2, calendar_id=EMAILS[2])


async def test_one_changed_event_costs_one_read_plus_its_writes(make_world: MakeWorld) -> None:
    """After warm-up, moving one meeting costs one list request and one batch carrying its two writes."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await changed(world.engine, 1, EMAILS[1])
    later = base_time() + timedelta(hours=2)
    await world.edit(
        1, event, start={"dateTime": rfc(later)}, end={"dateTime": rfc(later + timedelta(hours=1))}
    )
    world.emulator.reset_requests()

    await changed(world.engine, 1, EMAILS[1])

    stats = world.emulator.requests.stats()
    assert stats["calls"] == {
        "calendar.events.list": 1,
        "calendar.events.delete": 1,
        "calendar.events.insert": 1,
    }
    assert stats["http_requests"] == 2  # the list, then the delete and the create in one batch


async def test_unchanged_calendar_trigger_costs_one_read_and_no_write(make_world: MakeWorld) -> None:
    """A trigger with nothing new costs exactly the one delta read."""
    world = make_world()
    await world.meeting(1, base_time())
    await changed(world.engine, 1, EMAILS[1])
    world.emulator.reset_requests()

    await changed(world.engine, 1, EMAILS[1])

    assert world.calls() == {"calendar.events.list": 1}


async def test_concurrent_triggers_coalesce(make_world: MakeWorld) -> None:
    """Ten simultaneous triggers for one calendar cause at most two reconciles and two reads of it."""
    world = make_world()
    await world.meeting(1, base_time())
    await changed(world.engine, 1, EMAILS[1])
    await world.meeting(1, base_time() + timedelta(hours=3))
    before = world.engine.reconciles[BOB]
    world.emulator.reset_requests()

    await asyncio.gather(*(changed(world.engine, 1, EMAILS[1]) for _ in range(10)))

    assert world.engine.reconciles[BOB] - before <= 2
    assert world.calls()["calendar.events.list"] <= 2
    assert len(world.blocks(2)) == 2


async def test_reconciles_of_one_target_never_overlap(make_world: MakeWorld) -> None:
    """Triggers and full reconciles racing for one target run its applies strictly one at a time."""
    world = make_world((("work", 1, 2, 10, 5), ("home", 3, 2, 0, 0)))
    for hour in range(4):
        await world.meeting(1, base_time() + timedelta(hours=hour * 2))
        await world.meeting(3, base_time() + timedelta(hours=hour * 2 + 1))
    engine = world.engine
    running = 0
    peak = 0
    original = engine._apply

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await asyncio.sleep(0.01)  # widen the window in which an overlap would show
            return await original(*args, **kwargs)
        finally:
            running -= 1

    engine._apply = counting  # type: ignore[method-assign]
    await asyncio.gather(
        changed(engine, 1, EMAILS[1]),
        changed(engine, 3, EMAILS[3]),
        engine.reconcile_all(),
        changed(engine, 1, EMAILS[1]),
        engine.reconcile_all(),
    )

    assert peak == 1
    assert len(world.blocks(2)) == 8


async def test_broken_source_account_fails_only_its_flows_and_deletes_nothing(make_world: MakeWorld) -> None:
    """A revoked source account fails its flows; other flows go on and its blocks in the target stay."""
    world = make_world((("work", 1, 2, 0, 0), ("home", 3, 2, 0, 0), ("other", 1, 3, 0, 0)))
    await world.meeting(3, base_time())
    await world.engine.reconcile_all()
    assert len(world.blocks(2)) == 1
    world.emulator.revoke(EMAILS[3])
    await world.meeting(1, base_time() + timedelta(hours=3))

    summary = await world.engine.reconcile_all()

    assert summary.flows["work"].ok
    assert not summary.flows["home"].ok
    assert not summary.flows["other"].ok  # its target belongs to the revoked account
    assert len(world.blocks(2)) == 2  # carol's block kept, alice's added
    assert not summary.ok
    assert world.engine.flow_status()["home"].message
    assert world.engine.stats().errors == 2  # each target a failed read kept from finishing, once


async def test_stats_and_results_count_what_happened(make_world: MakeWorld) -> None:
    """The engine's stats count created and deleted blocks; the ledger holds per-event results."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await world.meeting(1, base_time() + timedelta(hours=4), people=1)
    await world.engine.reconcile_all()
    await world.users[1].delete_event(EMAILS[1], event["id"])
    await changed(world.engine, 1, EMAILS[1])

    stats = world.engine.stats()

    assert stats.busy_blocks_created == 1
    assert stats.busy_blocks_deleted == 1
    assert stats.errors == 0
    assert stats.accounts == 3
    assert stats.sync_flows == 1
    assert stats.last_updated
    actions = [(r.action, r.sync_type) for r in world.engine.results()]
    assert ("created", "manual") in actions
    assert ("deleted", "webhook") in actions
    assert ("skipped", "manual") in actions


async def test_merged_triggers_record_their_run_once(make_world: MakeWorld) -> None:
    """Nine triggers merged into the runs they share count each run's results once, not once per caller."""
    world = make_world()
    await world.meeting(1, base_time())
    await changed(world.engine, 1, EMAILS[1])  # one result: the block created
    await world.meeting(1, base_time() + timedelta(hours=3))
    before = world.engine.reconciles[BOB]

    await asyncio.gather(*(changed(world.engine, 1, EMAILS[1]) for _ in range(9)))

    assert world.engine.reconciles[BOB] - before == 2  # the first trigger's run and one for the other 8
    stats = world.engine.stats()
    assert stats.events_processed == 1 + 2 * 2  # each run saw both meetings
    assert stats.busy_blocks_created == 2
    assert len(world.engine.results()) == 5
    assert len(world.blocks(2)) == 2


async def test_dry_run_plans_but_writes_nothing(make_world: MakeWorld) -> None:
    """A dry-run reconcile reports the create it would make and changes no calendar."""
    world = make_world()
    await world.meeting(1, base_time())
    world.emulator.reset_requests()

    summary = await world.engine.reconcile_all(dry_run=True)

    assert summary.flows["work"].count("created") == 1
    assert world.writes() == 0
    assert world.blocks(2) == []
    assert world.engine.stats().busy_blocks_created == 0


async def test_purge_removes_every_block_and_nothing_else(make_world: MakeWorld) -> None:
    """Purge deletes calmirror's blocks in any time range and leaves every other event alone."""
    world = make_world()
    await world.meeting(1, base_time())
    far = base_time() + timedelta(days=40)
    await world.meeting(1, far)
    await world.meeting(2, base_time() + timedelta(hours=5))  # bob's own meeting
    await world.engine.reconcile_all()
    wide = Window(base_time() - timedelta(days=2), far + timedelta(days=2))
    await world.engine.reconcile_all(wide)
    assert len(world.blocks(2)) == 2
    own = [e for e in world.live(2) if e not in world.blocks(2)]

    [outcome] = await world.engine.purge()

    assert outcome.ok
    assert len(outcome.deleted) == 2
    assert world.blocks(2) == []
    assert world.live(2) == own


async def test_apply_cancelled_mid_way_is_finished_by_the_next_pass(make_world: MakeWorld) -> None:
    """A reconcile cancelled with its batch in flight forgets the target cache; the next pass is exact."""
    world = make_world()
    for hour in range(3):
        await world.meeting(1, base_time() + timedelta(hours=2 * hour))
    await world.engine.reconcile_all(dry_run=True)  # load the caches so the trigger goes straight to writing
    world.emulator.faults.add({"kind": "latency", "seconds": 0.2, "methods": ["batch"]})
    task = asyncio.ensure_future(changed(world.engine, 1, EMAILS[1]))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.3)  # the batch already sent lands after the cancellation
    world.emulator.faults.clear()
    assert task.cancelled()
    assert not world.engine.cache(2, EMAILS[2]).complete
    assert len(world.blocks(2)) == 3

    await changed(world.engine, 1, EMAILS[1])

    assert len(world.blocks(2)) == 3
    world.emulator.reset_requests()
    await world.engine.reconcile_all()
    assert world.writes() == 0


async def test_failed_write_fails_its_flow_only(make_world: MakeWorld) -> None:
    """A create refused for quota makes its flow an error with Google's reason; the other flow stays ok."""
    world = make_world((("work", 1, 2, 10, 5), ("home", 3, 2, 0, 0)))
    await world.meeting(1, base_time())
    await world.meeting(3, base_time() + timedelta(hours=4))
    await world.engine.reconcile_all()
    await world.meeting(1, base_time() + timedelta(hours=8))
    world.emulator.faults.add(
        {"kind": "status", "status": 403, "reason": "quotaExceeded", "methods": ["calendar.events.insert"]}
    )

    summary = await world.engine.reconcile_all()

    work, home = summary.flows["work"], summary.flows["home"]
    assert not work.ok
    assert work.count("error") == 1
    assert work.message is not None
    (failure,) = work.failures
    assert (failure.kind, failure.side, failure.operation) == ("quota", "target", "write")
    assert (failure.status, failure.reason, failure.calendar) == (403, "quotaExceeded", EMAILS[2])
    (failed,) = [r for r in summary.targets[0].results if r.action == "error"]
    assert failed.reason == "create failed: quota"  # never the planned "created"
    assert home.ok
    assert home.message is None
    assert world.engine.stats().errors == 1  # the failed write, counted once


async def test_garbled_source_read_deletes_no_block(make_world: MakeWorld) -> None:
    """A source listing answered by a proxy page fails its flow and leaves the target's blocks alone."""
    world = make_world()
    await world.meeting(1, base_time())
    await world.meeting(1, base_time() + timedelta(hours=3))
    await world.engine.reconcile_all()
    assert len(world.blocks(2)) == 2
    world.emulator.faults.add(
        {"kind": "garbled", "methods": ["calendar.events.list"], "accounts": [EMAILS[1]]}
    )

    summary = await world.engine.reconcile_all()

    assert not summary.flows["work"].ok
    assert len(world.blocks(2)) == 2


async def test_poll_with_nothing_new_confirms_flows_without_planning(make_world: MakeWorld) -> None:
    """A poll that reads empty deltas costs one read per calendar, plans nothing, and keeps flows current."""
    world = make_world()
    await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    runs, results = world.engine.reconciles[BOB], len(world.engine.results())
    before = world.engine.flow_status()["work"].at
    world.emulator.reset_requests()

    summary = await changed(world.engine, 1, EMAILS[1], trigger="poll")

    assert world.calls() == {"calendar.events.list": 1}  # the source's delta
    assert world.engine.reconciles[BOB] == runs
    assert len(world.engine.results()) == results
    assert summary.flows["work"].ok
    assert world.engine.flow_status()["work"].at >= before


async def test_poll_reconciles_where_something_changed(make_world: MakeWorld) -> None:
    """A poll whose delta carries a new meeting plans and writes its block."""
    world = make_world()
    await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    await world.meeting(1, base_time() + timedelta(hours=3))
    runs = world.engine.reconciles[BOB]

    await changed(world.engine, 1, EMAILS[1], trigger="poll")

    assert world.engine.reconciles[BOB] == runs + 1
    assert len(world.blocks(2)) == 2


async def test_poll_retries_a_target_whose_last_pass_failed(make_world: MakeWorld) -> None:
    """With nothing new, a poll still plans a target whose last write failed, and this time it lands."""
    world = make_world()
    await world.meeting(1, base_time())
    world.emulator.faults.add(
        {"kind": "status", "status": 403, "reason": "quotaExceeded", "methods": ["calendar.events.insert"]}
    )
    await world.engine.reconcile_all()
    world.emulator.faults.clear()
    assert world.blocks(2) == []

    summary = await changed(world.engine, 1, EMAILS[1], trigger="poll")

    assert summary.flows["work"].ok
    assert len(world.blocks(2)) == 1


async def poll(world: Any, order: tuple[int, ...]) -> None:
    """Poll one trigger per calendar, all at once, in the given order (the daemon names them together)."""
    await asyncio.gather(*(changed(world.engine, n, EMAILS[n], trigger="poll") for n in order))


async def test_poll_plans_every_target_a_changed_source_feeds(make_world: MakeWorld) -> None:
    """One source into two targets: after an idle poll, a new meeting reaches both by the next poll."""
    world = make_world((("work", 1, 2, 0, 0), ("copy", 1, 3, 0, 0)))
    await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    await poll(world, (1, 2, 3))  # idle: nothing new anywhere
    await world.meeting(1, base_time() + timedelta(hours=3))

    await poll(world, (1, 2, 3))

    assert (len(world.blocks(2)), len(world.blocks(3))) == (2, 2)


@pytest.mark.parametrize("order", [(1, 2), (2, 1)])
async def test_poll_mirrors_both_ways_in_any_order(make_world: MakeWorld, order: tuple[int, ...]) -> None:
    """A pair of flows A->B and B->A: a poll after an idle one mirrors new meetings on either side."""
    world = make_world((("there", 1, 2, 0, 0), ("back", 2, 1, 0, 0)))
    await world.engine.reconcile_all()
    await poll(world, order)
    await world.meeting(1, base_time())
    await world.meeting(2, base_time() + timedelta(hours=3))

    await poll(world, order)

    assert (len(world.blocks(1)), len(world.blocks(2))) == (1, 1)


async def test_poll_after_a_failed_source_read_plans_again(make_world: MakeWorld) -> None:
    """A pass whose source read failed settles nothing: the next poll plans, even if the delta is empty."""
    world = make_world()
    await world.engine.reconcile_all()
    await world.meeting(1, base_time())
    world.emulator.faults.add(
        {"kind": "status", "status": 503, "methods": ["calendar.events.list"], "accounts": [EMAILS[1]]}
    )
    failed = await changed(world.engine, 1, EMAILS[1], trigger="poll")
    world.emulator.faults.clear()
    assert not failed.flows["work"].ok
    assert not failed.targets[0].ok
    await changed(world.engine, 1, EMAILS[1], trigger="poll")  # the delta now carries the meeting

    assert len(world.blocks(2)) == 1


async def test_poll_after_a_change_read_while_a_target_wrote_plans_that_target(make_world: MakeWorld) -> None:
    """Target 2 is writing when a new meeting is read for target 3: target 2's next poll run plans it."""
    world = make_world((("work", 1, 2, 0, 0), ("copy", 1, 3, 0, 0)))
    await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    [block] = world.blocks(2)
    await world.users[2].delete_event(EMAILS[2], block["id"])  # target 2's next run writes it again
    world.emulator.faults.add(
        {"kind": "latency", "seconds": 0.6, "methods": ["batch"], "accounts": [EMAILS[2]]}
    )
    writing = asyncio.ensure_future(changed(world.engine, 2, EMAILS[2]))
    await asyncio.sleep(0.3)  # target 2's batch is being held
    await world.meeting(1, base_time() + timedelta(hours=3))

    await asyncio.gather(writing, changed(world.engine, 1, EMAILS[1], trigger="poll"))

    assert (len(world.blocks(2)), len(world.blocks(3))) == (2, 2)


async def test_a_poll_over_a_ring_reads_each_calendar_once(make_world: MakeWorld) -> None:
    """Every calendar a source and a target (1->2->3->1): a poll naming them all costs one read each."""
    world = make_world((("a", 1, 2, 0, 0), ("b", 2, 3, 0, 0), ("c", 3, 1, 0, 0)))
    await world.engine.reconcile_all()
    world.emulator.reset_requests()

    await world.engine.calendars_changed(list(world.settings.targets()), "poll")

    assert world.calls() == {"calendar.events.list": 3}


async def test_an_unread_source_holds_deletions_and_names_the_flow(make_world: MakeWorld) -> None:
    """carol's listing fails; alice cancels: the block stays, held as `source_unread` because of home."""
    world = make_world((("work", 1, 2, 0, 0), ("home", 3, 2, 0, 0)))
    meeting = await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    assert len(world.blocks(2)) == 1
    await world.users[1].delete_event(EMAILS[1], meeting["id"])
    world.emulator.faults.add(
        {"kind": "status", "status": 404, "methods": ["calendar.events.list"], "accounts": [EMAILS[3]]}
    )

    summary = await world.engine.reconcile_all()

    assert len(world.blocks(2)) == 1
    (target,) = summary.targets
    (block,) = world.blocks(2)
    assert target.held == ((block["id"], "source_unread"),)
    work, home = summary.flows["work"], summary.flows["home"]
    assert (work.held, work.held_by) == (target.held, ("home",))
    (failure,) = home.failures
    assert (failure.kind, failure.side, failure.status) == ("not_found", "source", 404)
    assert world.engine.target_status()[BOB].held == target.held


async def test_a_meeting_with_unusable_times_stays_reported_after_a_quiet_poll(make_world: MakeWorld) -> None:
    """An error no write can cure is not settled: a poll that finds nothing new reports it again."""
    world = make_world()
    meeting = await world.meeting(1, base_time())

    def unreadable_end(method: str, status: int, body: Any) -> None:
        """Serve the meeting without its end, as a server holding broken data would."""
        for item in (body or {}).get("items", []) if method == "calendar.events.list" else []:
            if item.get("id") == meeting["id"]:
                item["end"] = {}

    world.emulator.add_response_hook(unreadable_end)
    first = await changed(world.engine, 1, EMAILS[1])
    assert not first.flows["work"].ok

    again = await changed(world.engine, 1, EMAILS[1], trigger="poll")

    assert not again.flows["work"].ok
    assert not world.engine.flow_status()["work"].ok


async def test_a_guard_hold_stays_visible_while_the_target_cannot_be_read(make_world: MakeWorld) -> None:
    """A pass that cannot read the target knows nothing new about the guard's hold: it stays reported."""
    world = make_world()
    meetings = [await world.meeting(1, base_time() + timedelta(hours=2 * n)) for n in range(30)]
    await world.engine.reconcile_all()
    assert len(world.blocks(2)) == 30
    for meeting in meetings:
        await world.users[1].delete_event(EMAILS[1], meeting["id"])
    await changed(world.engine, 1, EMAILS[1])
    assert len(world.engine.target_status()[BOB].held) == 30
    world.emulator.faults.add(
        {"kind": "garbled", "methods": ["calendar.events.list"], "accounts": [EMAILS[2]]}
    )

    await changed(world.engine, 1, EMAILS[1])

    held = world.engine.target_status()[BOB].held
    assert len(held) == 30
    assert {reason for _, reason in held} == {"guard"}
    assert len(world.blocks(2)) == 30
