"""The executor against the emulator: 409 handling, foreign ids, lost responses, dry runs."""

from __future__ import annotations

from datetime import timedelta

from calmirror.engine import BlockSpec, EventProcessingResult, Interval, Plan, TargetBlock, block_id
from calmirror.engine.executor import apply_plan
from calmirror.google.blocks import block_body
from tests.engine.conftest import EMAILS, MakeWorld, base_time, changed

BOB = EMAILS[2]


def spec_at(hours: int = 0) -> BlockSpec:
    """Return a one-hour block spec in bob's calendar, `hours` after the base time."""
    start = base_time() + timedelta(hours=hours)
    interval = Interval.timed(start, start + timedelta(hours=1))
    return BlockSpec(interval=interval, id=block_id(BOB, interval), title="Busy")


async def test_create_on_a_tombstone_restores_it(make_world: MakeWorld) -> None:
    """A create whose id belongs to a deleted block gets 409, then revives the tombstone with our body."""
    world = make_world()
    spec = spec_at()
    await apply_plan(world.providers[2], BOB, Plan(creates=(spec,)))
    await apply_plan(world.providers[2], BOB, Plan(deletes=(TargetBlock(spec.interval, spec.id),)))
    assert world.blocks(2) == []
    world.emulator.reset_requests()

    report = await apply_plan(
        world.providers[2], BOB, Plan(creates=(spec,), results=(_created_result(spec),))
    )

    assert report.restored == (spec.id,)
    assert [result.action for result in report.results] == ["restored"]  # an action, not a reason to parse
    assert report.ok
    [block] = world.blocks(2)
    assert block["id"] == spec.id
    assert block["status"] == "confirmed"
    assert block["visibility"] == "private"
    assert block["reminders"] == {"useDefault": False}
    calls = world.calls()
    assert calls["calendar.events.insert"] == 1
    assert calls["calendar.events.get"] == 1
    assert calls["calendar.events.update"] == 1


async def test_create_on_our_live_block_counts_as_existed(make_world: MakeWorld) -> None:
    """A create whose block already exists (an earlier pass or a racing one) is `existed`, not rewritten."""
    world = make_world()
    spec = spec_at()
    await apply_plan(world.providers[2], BOB, Plan(creates=(spec,)))
    before = world.emulator.store.get(BOB, spec.id)
    world.emulator.reset_requests()

    report = await apply_plan(world.providers[2], BOB, Plan(creates=(spec,)))

    assert report.existed == (spec.id,)
    assert report.created == ()
    assert report.ok
    assert world.emulator.store.get(BOB, spec.id) == before
    assert "calendar.events.update" not in world.calls()


async def test_unmarked_event_with_the_block_id_is_never_touched(make_world: MakeWorld) -> None:
    """An event calmirror does not own that holds the block's id is an error and stays exactly as it was."""
    world = make_world()
    spec = spec_at()
    foreign = {**block_body(spec), "summary": "mine", "extendedProperties": {"private": {"x": "y"}}}
    await world.users[2].insert_event(BOB, foreign)
    before = world.emulator.store.get(BOB, spec.id)

    report = await apply_plan(world.providers[2], BOB, Plan(creates=(spec,)))

    assert not report.ok
    assert report.failed[0][0] == spec.id
    assert world.emulator.store.get(BOB, spec.id) == before


async def test_failed_writes_downgrade_their_results(make_world: MakeWorld) -> None:
    """A write that keeps failing turns its planned `created` result into an `error` result."""
    world = make_world()
    spec = spec_at()
    world.emulator.faults.add({"kind": "status", "status": 500, "methods": ["calendar.events.insert"]})
    plan = Plan(
        creates=(spec,),
        results=(_created_result(spec),),
    )

    report = await apply_plan(world.providers[2], BOB, plan)

    assert not report.ok
    assert world.blocks(2) == []
    [result] = report.results
    assert result.action == "error"
    assert not result.success
    assert result.error


async def test_lost_insert_response_then_next_pass_leaves_exactly_one_block(make_world: MakeWorld) -> None:
    """An insert applied but never answered, then another pass, leaves one block and a quiet third pass."""
    world = make_world()
    await world.meeting(1, base_time())
    rule = world.emulator.faults.add(
        {"kind": "lost_response", "methods": ["calendar.events.insert"], "times": 1}
    )

    await world.engine.reconcile_all()
    world.emulator.faults.clear()
    assert rule.fired == 1
    second = await world.engine.reconcile_all()

    assert second.ok
    assert len(world.blocks(2)) == 1
    world.emulator.reset_requests()
    await world.engine.reconcile_all()
    assert world.writes() == 0


async def test_dry_run_writes_nothing(make_world: MakeWorld) -> None:
    """A dry run reports the planned create but sends no write."""
    world = make_world()
    spec = spec_at()
    world.emulator.reset_requests()

    report = await apply_plan(world.providers[2], BOB, Plan(creates=(spec,)), dry_run=True)

    assert report.created == (spec.id,)
    assert report.dry_run
    assert world.calls() == {}
    assert world.blocks(2) == []


def _created_result(spec: BlockSpec) -> EventProcessingResult:
    """Return the planner's result for a block it wants created."""
    return EventProcessingResult(
        flow_name="work",
        event_id="src1",
        event_title="meeting",
        sync_type="manual",
        success=True,
        action="created",
        block_id=spec.id,
        interval=spec.interval,
    )


async def test_lost_batch_responses_are_unknown_and_the_next_pass_finds_the_blocks(
    make_world: MakeWorld,
) -> None:
    """Batches applied but never answered are `unknown`, not errors; the next pass sees the blocks exist."""
    world = make_world()
    for hours in (0, 3):
        await world.meeting(1, base_time() + timedelta(hours=hours))
    rule = world.emulator.faults.add({"kind": "lost_response", "methods": ["batch"]})

    summary = await world.engine.reconcile_all()

    world.emulator.faults.clear()
    assert rule.fired >= 1
    assert len(world.blocks(2)) == 2  # the writes happened, though no answer said so
    work = summary.flows["work"]
    assert (work.count("created"), work.count("unknown"), work.count("error")) == (0, 2, 0)
    assert work.message is not None
    assert "no answer" in work.message
    assert {result.action for result in world.engine.results()} == {"unknown"}
    assert world.engine.stats().errors == 0
    world.emulator.reset_requests()

    after = await changed(world.engine, 1, EMAILS[1])

    assert after.flows["work"].counts == {"existed": 2, "error": 0}
    assert world.writes() == 0


async def test_lost_answer_then_server_errors_is_unknown_not_an_error(make_world: MakeWorld) -> None:
    """A batch applied but unanswered, then 503 to every resend: the write is `unknown`, not an error.

    httplib2 silently resends once after a connection closed without an answer (it takes it for a stale
    keep-alive connection), so the answer is lost twice for the client to see "no answer".
    """
    world = make_world()
    await world.meeting(1, base_time())
    world.emulator.faults.add({"kind": "lost_response", "methods": ["batch"], "times": 2})
    world.emulator.faults.add({"kind": "status", "methods": ["batch"], "status": 503})

    summary = await world.engine.reconcile_all()

    world.emulator.faults.clear()
    assert len(world.blocks(2)) == 1  # the first attempt did write it
    work = summary.flows["work"]
    assert (work.count("created"), work.count("unknown"), work.count("error")) == (0, 1, 0)
    assert world.engine.stats().errors == 0

    after = await changed(world.engine, 1, EMAILS[1])

    assert after.flows["work"].counts == {"existed": 1, "error": 0}
