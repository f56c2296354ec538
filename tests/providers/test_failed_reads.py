"""Nothing is deleted after a failed read, and the deletion guard holds a mass deletion in a CalDAV target."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from calmirror.config import FEED_CALENDAR_ID
from harness.davproxy import Fault
from tests.engine.conftest import base_time
from tests.ical.samples import calendar as feed_calendar
from tests.providers.conftest import FEED, FEED_NAME, GOOGLE, ONE_SERVER, MakeMixed, Mixed
from tests.providers.dav import DAV_EMAIL, ORGANIZER, stamp

FROM_CALDAV = ("from caldav", (3, "a"), (1, GOOGLE[1]), 0, 0)
FROM_FEED = ("from feed", (FEED, FEED_CALENDAR_ID), (1, GOOGLE[1]), 0, 0)
TO_CALDAV = ("to caldav", (1, GOOGLE[1]), (3, "b"), 0, 0)


def feed_meeting(uid: str, start: datetime) -> str:
    """Return a feed's VEVENT body of a one-hour meeting the owner is invited to."""
    return (
        f"UID:{uid}\nDTSTART:{stamp(start)}\nDTEND:{stamp(start + timedelta(hours=1))}\nSUMMARY:{uid}\n"
        f"ORGANIZER:mailto:{ORGANIZER}\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{DAV_EMAIL}"
    )


async def both_passes(world: Mixed, account_id: int, calendar: str) -> list[tuple[bool, str, str]]:
    """Run a poll of the source and the full reconcile; return each pass's (ok, failure kind, side)."""
    seen: list[tuple[bool, str, str]] = []
    for summary in (await world.changed(account_id, calendar), await world.reconcile()):
        [outcome] = summary.flows.values()
        [failure] = outcome.failures or [None]
        seen.append((outcome.ok, failure.kind if failure else "", failure.side if failure else ""))
    return seen


@pytest.mark.parametrize("fault", ["500", "dropped", "refused"])
async def test_a_caldav_source_that_cannot_be_read_deletes_no_block(
    make_mixed: MakeMixed, fault: str
) -> None:
    """While the source fails, its meeting's block stays although the meeting is gone; then it follows."""
    world = await make_mixed([FROM_CALDAV])
    t = base_time()
    await world.put_meeting(3, "a", "m1", t)
    await world.changed(3, "a")
    assert len(world.google_blocks(1)) == 1

    await world.drop_meeting(3, "a", "m1")
    if fault == "refused":
        await world.proxy.stop()  # nothing listens at the account's address any more
    else:
        world.proxy.inject(Fault(status=500, times=None) if fault == "500" else Fault(drop=True, times=None))
    assert await both_passes(world, 3, "a") == [(False, "transient", "source")] * 2
    assert len(world.google_blocks(1)) == 1

    if fault != "refused":
        world.proxy.clear()
        await world.changed(3, "a")
        assert world.google_blocks(1) == []


@ONE_SERVER
@pytest.mark.parametrize(
    ("fault", "kind"),
    [("500", "transient"), ("truncated", "transient"), ("cut", "transient"), ("empty", "invalid")],
)
async def test_a_feed_that_fails_deletes_no_block(make_mixed: MakeMixed, fault: str, kind: str) -> None:
    """A feed answering 500, cut short (connection or body), or suddenly without events keeps its blocks."""
    world = await make_mixed([FROM_FEED])
    t = base_time()
    world.feeds.publish(
        FEED_NAME, feed_calendar(feed_meeting("m1", t), feed_meeting("m2", t + timedelta(hours=2)))
    )
    await world.changed(FEED, FEED_CALENDAR_ID)
    assert len(world.google_blocks(1)) == 2

    if fault == "empty":
        world.feeds.publish(FEED_NAME, feed_calendar())
    elif fault == "cut":  # a complete 200 whose body stops before END:VCALENDAR
        world.feeds.publish(FEED_NAME, feed_calendar(feed_meeting("m1", t)).removesuffix("END:VCALENDAR\r\n"))
    else:
        world.feeds.publish(FEED_NAME, feed_calendar(feed_meeting("m1", t)))  # what a good read would show
        world.feeds.feeds[FEED_NAME].mode = "500" if fault == "500" else "truncated"
    assert await both_passes(world, FEED, FEED_CALENDAR_ID) == [(False, kind, "source")] * 2
    assert len(world.google_blocks(1)) == 2


async def test_the_deletion_guard_holds_a_mass_deletion_in_a_caldav_target(make_mixed: MakeMixed) -> None:
    """Deleting most blocks of a CalDAV target waits for a person; allowed, it happens."""
    world = await make_mixed([TO_CALDAV], deletion_guard_min_blocks=2, deletion_guard_percent=50)
    t = base_time()
    for n in range(4):
        await world.put_meeting(1, GOOGLE[1], f"m{n}", t + timedelta(hours=2 * n))
    await world.changed(1, GOOGLE[1])
    assert len(await world.dav_spans("b")) == 4

    for n in range(4):
        await world.drop_meeting(1, GOOGLE[1], f"m{n}")
    polled, full = await world.changed(1, GOOGLE[1]), await world.reconcile()
    assert [len(s.flows["to caldav"].held) for s in (polled, full)] == [4, 4]
    assert len(await world.dav_spans("b")) == 4

    await world.reconcile(allow_mass_deletion=True)
    assert await world.dav_spans("b") == []
