"""Meetings mirror between Google and CalDAV calendars both ways: create, move, cancel and decline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.engine.conftest import base_time
from tests.providers.conftest import GOOGLE, FlowSpec, MakeMixed, Mixed
from tests.providers.dav import Span

# (source, target) of each direction: CalDAV calendars by their short names, Google ones by address.
DIRECTIONS: dict[str, FlowSpec] = {
    "caldav-to-google": ("mirror", (3, "a"), (1, GOOGLE[1]), 10, 5),
    "google-to-caldav": ("mirror", (1, GOOGLE[1]), (3, "b"), 10, 5),
    "caldav-to-caldav": ("mirror", (3, "a"), (4, "b"), 10, 5),
}


def block(start: datetime, minutes: int = 60) -> Span:
    """Return the span of the block a meeting gets under the flows' 10/5 minute offsets."""
    return False, start - timedelta(minutes=10), start + timedelta(minutes=minutes + 5)


async def settle(world: Mixed, flow: FlowSpec, how: str) -> None:
    """Run one pass as a poll of the source would, or as the full reconcile; it must succeed."""
    source = flow[1]
    summary = await (world.changed(*source) if how == "poll" else world.reconcile())
    assert all(outcome.ok for outcome in summary.flows.values()), summary.flows


@pytest.mark.parametrize("how", ["poll", "reconcile"])
@pytest.mark.parametrize("direction", list(DIRECTIONS))
async def test_create_move_cancel_decline_mirror(make_mixed: MakeMixed, direction: str, how: str) -> None:
    """Each change in the source shows in the target's stored blocks after one pass."""
    flow = DIRECTIONS[direction]
    world = await make_mixed([flow])
    source, target = flow[1], flow[2]
    t = base_time()

    for key, hours in (("one", 0), ("two", 3), ("three", 5)):
        await world.put_meeting(*source, key, t + timedelta(hours=hours))
    await settle(world, flow, how)
    assert await world.spans(*target) == [
        block(t),
        block(t + timedelta(hours=3)),
        block(t + timedelta(hours=5)),
    ]

    await world.put_meeting(*source, "one", t + timedelta(hours=1), 30)  # moved and shortened
    await settle(world, flow, how)
    assert await world.spans(*target) == [
        block(t + timedelta(hours=1), 30),
        block(t + timedelta(hours=3)),
        block(t + timedelta(hours=5)),
    ]

    await world.drop_meeting(*source, "two")  # cancelled
    await world.put_meeting(*source, "three", t + timedelta(hours=5), declined=True)
    await settle(world, flow, how)
    assert await world.spans(*target) == [block(t + timedelta(hours=1), 30)]

    await world.put_meeting(*source, "three", t + timedelta(hours=5))  # accepted again
    await settle(world, flow, how)
    assert await world.spans(*target) == [block(t + timedelta(hours=1), 30), block(t + timedelta(hours=5))]

    again = await world.reconcile()  # a full pass over the converged state plans nothing
    assert [o.plan.writes for o in again.targets if o.plan] == [0]
