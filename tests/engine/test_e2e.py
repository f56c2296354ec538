"""The user-visible scenarios end to end: real client, emulator, both the incremental and the full path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calmirror.config import CalendarRef, Flow
from calmirror.emulator.requestlog import CallRecord
from calmirror.engine import SyncEngine, SyncSummary
from calmirror.google.blocks import is_marked
from tests.engine.conftest import EMAILS, OUTSIDER, MakeWorld, World, base_time, changed, rfc

PATHS = ("incremental", "full")
WRITES = ("insert", "update", "patch", "delete")


async def sync(world: World, path: str, *accounts: int) -> SyncSummary:
    """Run one pass: a change notice for each changed account's primary calendar, or a full reconcile."""
    if path == "full":
        return await world.engine.reconcile_all()
    summary = None
    for account_id in accounts:
        summary = await changed(world.engine, account_id, EMAILS[account_id])
    assert summary is not None
    return summary


def offset_span(start_minutes: int, end_minutes: int) -> list[tuple[str, str]]:
    """Return the block span of a one-hour meeting at the base time with these offsets."""
    start = base_time()
    return [(rfc(start - timedelta(minutes=start_minutes)), rfc(start + timedelta(minutes=60 + end_minutes)))]


async def quiet(world: World, path: str, *changed: int) -> None:
    """Assert that another pass right away writes nothing."""
    world.emulator.reset_requests()
    await sync(world, path, *changed)
    assert world.writes() == 0


@pytest.mark.parametrize("path", PATHS)
async def test_meeting_becomes_a_block_with_offsets(make_world: MakeWorld, path: str) -> None:
    """A confirmed two-person meeting becomes one private, silent block widened by the flow's offsets."""
    world = make_world()
    await world.meeting(1, base_time())

    summary = await sync(world, path, 1)

    assert summary.ok
    assert world.spans(2) == offset_span(10, 5)
    [block] = world.blocks(2)
    assert block["summary"] == "Busy"
    assert block["visibility"] == "private"
    assert block["reminders"] == {"useDefault": False}
    assert "attendees" not in block
    assert summary.flows["work"].count("created") == 1
    await quiet(world, path, 1)


@pytest.mark.parametrize("path", PATHS)
async def test_cancelled_meeting_loses_its_block(make_world: MakeWorld, path: str) -> None:
    """Deleting the source meeting removes its block."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await sync(world, path, 1)
    await world.users[1].delete_event(EMAILS[1], event["id"])

    summary = await sync(world, path, 1)

    assert world.blocks(2) == []
    assert summary.flows["work"].count("deleted") == 1
    await quiet(world, path, 1)


@pytest.mark.parametrize("path", PATHS)
async def test_free_removes_and_busy_restores(make_world: MakeWorld, path: str) -> None:
    """Busy -> free removes the block; free -> busy brings it back (restoring the tombstone)."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await sync(world, path, 1)
    event = await world.edit(1, event, transparency="transparent")
    await sync(world, path, 1)
    assert world.blocks(2) == []

    await world.edit(1, event, transparency="opaque")
    summary = await sync(world, path, 1)

    assert world.spans(2) == offset_span(10, 5)
    assert summary.flows["work"].count("restored") == 1
    await quiet(world, path, 1)


@pytest.mark.parametrize("path", PATHS)
async def test_declined_meeting_loses_its_block(make_world: MakeWorld, path: str) -> None:
    """The owner declining the meeting removes its block."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await sync(world, path, 1)
    declined = [
        {**a, "responseStatus": "declined"} if a["email"] == EMAILS[1] else a for a in event["attendees"]
    ]

    await world.edit(1, event, attendees=declined)
    await sync(world, path, 1)

    assert world.blocks(2) == []


@pytest.mark.parametrize("path", PATHS)
async def test_one_participant_makes_no_block(make_world: MakeWorld, path: str) -> None:
    """A solo entry is not a meeting: no block."""
    world = make_world()
    await world.meeting(1, base_time(), people=1)

    summary = await sync(world, path, 1)

    assert world.blocks(2) == []
    assert summary.flows["work"].count("skipped") == 1


@pytest.mark.parametrize("path", PATHS)
async def test_two_way_flows_do_not_ping_pong(make_world: MakeWorld, path: str) -> None:
    """With flows A->B and B->A, each meeting gets one block on the other side and blocks are not mirrored."""
    world = make_world((("ab", 1, 2, 0, 0), ("ba", 2, 1, 0, 0)))
    await world.meeting(1, base_time())
    await world.meeting(2, base_time() + timedelta(hours=3))

    for _ in range(3):
        await sync(world, path, 1, 2)

    assert len(world.blocks(1)) == 1
    assert len(world.blocks(2)) == 1
    assert len(world.live(1)) == 2
    assert len(world.live(2)) == 2
    await quiet(world, path, 1, 2)


@pytest.mark.parametrize("path", PATHS)
async def test_target_account_invited_gets_no_block(make_world: MakeWorld, path: str) -> None:
    """A meeting the target account itself attends needs no block: its own copy already makes it busy."""
    world = make_world()
    attendees = [{"email": EMAILS[1], "responseStatus": "accepted"}, {"email": EMAILS[2]}]
    await world.meeting(1, base_time(), attendees=attendees)
    copy_before = world.live(2)
    assert len(copy_before) == 1  # the emulator delivered bob's own copy

    await sync(world, path, 1)

    assert world.blocks(2) == []
    assert world.live(2) == copy_before


@pytest.mark.parametrize("path", PATHS)
async def test_invitation_listing_only_the_guest_gets_a_block(make_world: MakeWorld, path: str) -> None:
    """The organizer counts as a participant even when the attendee list names only the guest."""
    world = make_world()
    await world.meeting(3, base_time(), attendees=[{"email": EMAILS[1]}])  # carol invites alice
    [invitation] = world.live(1)
    assert [a["email"] for a in invitation["attendees"]] == [EMAILS[1]]

    summary = await sync(world, path, 1)

    assert world.spans(2) == offset_span(10, 5)
    assert summary.flows["work"].count("created") == 1
    await quiet(world, path, 1)


@pytest.mark.parametrize("path", PATHS)
async def test_meeting_the_target_organises_gets_no_block(make_world: MakeWorld, path: str) -> None:
    """A meeting organised by the target calendar itself already occupies it, so it gets no block."""
    world = make_world()
    attendees = [{"email": EMAILS[1]}, {"email": OUTSIDER}]  # bob invites alice and a partner
    await world.meeting(2, base_time(), attendees=attendees)

    summary = await sync(world, path, 1)

    assert world.blocks(2) == []
    assert summary.flows["work"].count("skipped") == 1


@pytest.mark.parametrize("path", PATHS)
async def test_moved_meeting_moves_its_block(make_world: MakeWorld, path: str) -> None:
    """Rescheduling the meeting replaces the block at the old time by one at the new time."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await sync(world, path, 1)
    later = base_time() + timedelta(hours=5)

    await world.edit(
        1, event, start={"dateTime": rfc(later)}, end={"dateTime": rfc(later + timedelta(hours=1))}
    )
    await sync(world, path, 1)

    assert world.spans(2) == [(rfc(later - timedelta(minutes=10)), rfc(later + timedelta(minutes=65)))]
    await quiet(world, path, 1)


async def test_dragged_block_is_put_back_and_later_removed_incrementally(make_world: MakeWorld) -> None:
    """A block its owner dragged away is put back in place, and still removed when its meeting goes."""
    world = make_world()
    event = await world.meeting(1, base_time())
    await changed(world.engine, 1, EMAILS[1])
    [block] = world.blocks(2)
    later = base_time() + timedelta(hours=6)
    moved = {k: v for k, v in block.items() if k not in ("etag", "updated", "created")}
    moved |= {"start": {"dateTime": rfc(later)}, "end": {"dateTime": rfc(later + timedelta(hours=1))}}
    await world.users[2].update_event(EMAILS[2], block["id"], moved)

    await changed(world.engine, 2, EMAILS[2])
    assert world.spans(2) == offset_span(10, 5)

    await world.users[1].delete_event(EMAILS[1], event["id"])
    await changed(world.engine, 1, EMAILS[1])
    assert world.blocks(2) == []


@pytest.mark.parametrize("path", PATHS)
async def test_recurring_series_gets_a_block_per_instance(make_world: MakeWorld, path: str) -> None:
    """A daily series of three meetings gets three blocks; deleting the series removes all of them."""
    world = make_world()
    start = base_time()
    series = await world.meeting(
        1,
        start,
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        start={"dateTime": rfc(start), "timeZone": "UTC"},
        end={"dateTime": rfc(start + timedelta(hours=1)), "timeZone": "UTC"},
    )
    await sync(world, path, 1)
    assert len(world.blocks(2)) == 3

    await world.users[1].delete_event(EMAILS[1], series["id"])
    await sync(world, path, 1)

    assert world.blocks(2) == []
    await quiet(world, path, 1)


@pytest.mark.parametrize("path", PATHS)
async def test_organizer_cancelling_one_occurrence_removes_only_its_block(
    make_world: MakeWorld, path: str
) -> None:
    """carol cancels one instance of a series alice is invited to: that block goes, the others stay."""
    world = make_world()
    start = base_time()
    attendees = [{"email": EMAILS[3]}, {"email": EMAILS[1]}, {"email": "guest@elsewhere.test"}]
    series = await world.meeting(
        3,
        start,
        attendees=attendees,
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        start={"dateTime": rfc(start), "timeZone": "UTC"},
        end={"dateTime": rfc(start + timedelta(hours=1)), "timeZone": "UTC"},
    )
    await sync(world, path, 1)
    assert len(world.blocks(2)) == 3
    second = start + timedelta(days=1)

    await world.users[3].delete_event(EMAILS[3], f"{series['id']}_{second:%Y%m%dT%H%M%SZ}")
    await sync(world, path, 1)

    others = [start, start + timedelta(days=2)]
    assert world.spans(2) == [
        (rfc(day - timedelta(minutes=10)), rfc(day + timedelta(minutes=65))) for day in others
    ]
    await quiet(world, path, 1)


async def test_invitation_to_the_account_still_blocks_its_secondary_calendar(make_world: MakeWorld) -> None:
    """An invitation lands in the account's primary calendar, so a secondary target still gets its block."""
    world = make_world()
    availability = world.emulator.create_calendar(EMAILS[2], "Availability")
    flow = Flow(
        id=9,
        name="alice-to-availability",
        source=CalendarRef(account_id=1, calendar_id=EMAILS[1]),
        target=CalendarRef(account_id=2, calendar_id=availability),
        start_offset=0,
        end_offset=0,
    )
    settings = world.settings.model_copy(update={"flows": (flow,)})
    engine = SyncEngine(settings, world.providers)
    attendees = [{"email": EMAILS[1], "responseStatus": "accepted"}, {"email": EMAILS[2]}]
    start = base_time()
    await world.meeting(1, start, attendees=attendees)

    summary = await engine.reconcile_all()

    assert summary.ok
    blocks = [e for e in world.emulator.store.raw_events(availability) if is_marked(e)]
    assert [(b["start"]["dateTime"], b["end"]["dateTime"]) for b in blocks] == [
        (rfc(start), rfc(start + timedelta(hours=1)))
    ]
    assert world.blocks(2) == []  # bob's primary holds his own copy of the meeting, and no block


async def test_every_write_notifies_nobody(make_world: MakeWorld) -> None:
    """Creates, restores, moves and deletes all go out with sendUpdates=none, batched or not."""
    world = make_world()
    log = world.emulator.requests.calls
    ours: list[CallRecord] = []

    async def calmirror_pass(path: str) -> None:
        first = len(log)
        await sync(world, path, 1)
        ours.extend(c for c in log[first:] if c.method_id.rsplit(".", 1)[-1] in WRITES)

    meeting = await world.meeting(1, base_time())
    await calmirror_pass("incremental")  # creates the block
    [block] = world.blocks(2)
    await world.users[2].delete_event(EMAILS[2], block["id"])  # someone deletes the block by hand
    await calmirror_pass("full")  # restores it
    later = {"dateTime": rfc(base_time() + timedelta(hours=2))}
    meeting = await world.edit(
        1, meeting, start=later, end={"dateTime": rfc(base_time() + timedelta(hours=3))}
    )
    await calmirror_pass("incremental")  # moves it: a delete and a create
    await world.users[1].delete_event(EMAILS[1], meeting["id"])
    await calmirror_pass("incremental")  # removes it

    verbs = sorted({c.method_id for c in ours})
    assert verbs == ["calendar.events.delete", "calendar.events.insert", "calendar.events.update"]
    assert all(c.param("sendUpdates") == "none" for c in ours), ours
    assert world.blocks(2) == []
