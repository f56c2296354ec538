"""Blocks across providers in both directions at once, blocks people delete or drag, zoned CalDAV events."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from harness.caldav_servers import delete_object, put_object
from tests.caldav.helpers import calendar
from tests.engine.conftest import base_time
from tests.ical.samples import BERLIN
from tests.providers.conftest import GOOGLE, MakeMixed
from tests.providers.dav import dav_blocks, dav_objects, people, put, stamp

THERE = ("there", (1, GOOGLE[1]), (3, "b"), 0, 0)
BACK = ("back", (3, "b"), (1, GOOGLE[1]), 0, 0)


async def test_flows_both_ways_never_mirror_a_block_back(make_mixed: MakeMixed) -> None:
    """Google -> CalDAV and CalDAV -> Google on the same two calendars: each meeting gets one block.

    Every event counts as a meeting here (a block has no attendees): only the mark keeps blocks home.
    """
    world = await make_mixed([THERE, BACK], flow_fields={"min_participants": 1})
    t = base_time()
    await world.put_meeting(1, GOOGLE[1], "g", t)
    await world.put_meeting(3, "b", "d", t + timedelta(hours=3))

    for _ in range(2):
        await world.changed(1, GOOGLE[1])
        await world.changed(3, "b")
    await world.reconcile()

    hour = timedelta(hours=1)
    assert world.google_spans(1) == [(False, t + 3 * hour, t + 4 * hour)]
    assert await world.dav_spans("b") == [(False, t, t + hour)]
    assert len(await dav_objects(world.server, world.calendars["b"])) == 2
    again = await world.reconcile()
    assert [outcome.plan.writes for outcome in again.targets if outcome.plan] == [0, 0]


async def test_a_block_deleted_or_dragged_in_caldav_is_put_back(make_mixed: MakeMixed) -> None:
    """CalDAV keeps no tombstone: a deleted block is created again, a dragged one restored or replaced."""
    world = await make_mixed([THERE])
    t = base_time()
    await world.put_meeting(1, GOOGLE[1], "g1", t)
    await world.put_meeting(1, GOOGLE[1], "g2", t + timedelta(hours=3))
    await world.changed(1, GOOGLE[1])
    first, second = await dav_blocks(world.server, world.calendars["b"])
    wanted = await world.dav_spans("b")

    await delete_object(world.server.url(first.href))
    _all_day, start, end = second.span
    day = timedelta(days=1)
    dragged = second.data.replace(f"DTEND:{stamp(end)}".encode(), f"DTEND:{stamp(end + day)}".encode())
    dragged = dragged.replace(f"DTSTART:{stamp(start)}".encode(), f"DTSTART:{stamp(start + day)}".encode())
    await put_object(world.server.url(second.href), dragged)
    assert await world.dav_spans("b") != wanted
    await world.reconcile()

    assert await world.dav_spans("b") == wanted


async def test_a_zoned_caldav_meeting_is_blocked_at_its_utc_time(make_mixed: MakeMixed) -> None:
    """A DTSTART with a TZID and its VTIMEZONE gives the block the right UTC instants."""
    world = await make_mixed([("zoned", (3, "a"), (1, GOOGLE[1]), 0, 0)])
    local = base_time().astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    end = local + timedelta(minutes=45)
    data = calendar(
        f"UID:zoned\nDTSTART;TZID=Europe/Berlin:{local:%Y%m%dT%H%M%S}\n"
        f"DTEND;TZID=Europe/Berlin:{end:%Y%m%dT%H%M%S}\nSUMMARY:zoned\n{people()}"
    ).replace(b"BEGIN:VEVENT", BERLIN.replace("\n", "\r\n").encode() + b"BEGIN:VEVENT", 1)
    await put(world.server, world.calendars["a"], "zoned", data)

    await world.changed(3, "a")

    start = local.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    assert world.google_spans(1) == [(False, start, start + timedelta(minutes=45))]
