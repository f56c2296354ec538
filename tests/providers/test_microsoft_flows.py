"""Meetings mirror between Microsoft and Google calendars, and between two mailboxes, through SyncEngine."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from calmirror.config.policy import FlowPolicy
from tests.engine.conftest import base_time
from tests.providers.conftest import GOOGLE, FlowSpec
from tests.providers.dav import Span
from tests.providers.graph import GraphWorld, graph_world, when

# (source, target) of each direction: Microsoft calendars as "primary", Google ones by address.
DIRECTIONS: dict[str, FlowSpec] = {
    "microsoft-to-google": ("mirror", (6, "primary"), (1, GOOGLE[1]), 10, 5),
    "google-to-microsoft": ("mirror", (1, GOOGLE[1]), (6, "primary"), 10, 5),
    "microsoft-to-microsoft": ("mirror", (6, "primary"), (7, "primary"), 10, 5),
}


def block(start: datetime, minutes: int = 60) -> Span:
    """Return the span of the block a meeting gets under the flows' 10/5 minute offsets."""
    return False, start - timedelta(minutes=10), start + timedelta(minutes=minutes + 5)


async def settle(world: GraphWorld, flow: FlowSpec, how: str) -> None:
    """Run one pass as a poll of the source would (a delta), or the full reconcile; it must succeed."""
    summary = await (world.changed(*flow[1]) if how == "poll" else world.reconcile())
    assert all(outcome.ok for outcome in summary.flows.values()), summary.flows


async def answer_invitation(
    world: GraphWorld, account_id: int, key: str, start: datetime, action: str
) -> None:
    """Have ORGANIZER invite a Microsoft source's mailbox (or a Google owner organise) and answer it."""
    if account_id in GOOGLE:
        await world.put_meeting(account_id, key, start, declined=action == "decline")
        return
    invitation = await world.invite(account_id, key, start)
    await world.respond(account_id, invitation, action)


@pytest.mark.parametrize("how", ["poll", "reconcile"])
@pytest.mark.parametrize("direction", list(DIRECTIONS))
async def test_create_move_cancel_decline_mirror(direction: str, how: str) -> None:
    """Each change in the source shows in the target's stored blocks after one pass."""
    flow = DIRECTIONS[direction]
    source, target = flow[1][0], flow[2][0]
    t = base_time()
    async with graph_world([flow]) as world:
        for key, hours in (("one", 0), ("two", 3)):
            await world.put_meeting(source, key, t + timedelta(hours=hours))
        await answer_invitation(world, source, "three", t + timedelta(hours=5), "accept")
        await settle(world, flow, how)
        assert world.spans(target) == [block(t), block(t + timedelta(hours=3)), block(t + timedelta(hours=5))]

        await world.put_meeting(source, "one", t + timedelta(hours=1), 30)  # moved and shortened
        await settle(world, flow, how)
        assert world.spans(target) == [
            block(t + timedelta(hours=1), 30),
            block(t + timedelta(hours=3)),
            block(t + timedelta(hours=5)),
        ]

        await world.drop_meeting(source, "two")  # cancelled
        await answer_invitation(world, source, "three", t + timedelta(hours=5), "decline")
        await settle(world, flow, how)
        assert world.spans(target) == [block(t + timedelta(hours=1), 30)]

        again = await world.reconcile()  # a full pass over the converged state plans nothing
        assert [o.plan.writes for o in again.targets if o.plan] == [0]


FROM_MICROSOFT: FlowSpec = ("from outlook", (6, "primary"), (1, GOOGLE[1]), 0, 0)


@pytest.mark.parametrize(
    ("policy", "blocked"),
    [
        ({}, ["accept", "tentativelyAccept", "unanswered"]),
        ({"tentative": "skip"}, ["accept", "unanswered"]),
        ({"unanswered": "skip"}, ["accept", "tentativelyAccept"]),
    ],
)
@pytest.mark.parametrize("how", ["poll", "reconcile"])
async def test_answers_to_invitations_follow_the_flow_policy(
    policy: dict[str, str], blocked: list[str], how: str
) -> None:
    """Invitations from another mailbox: accepted ones count, declined never, the others by the policy."""
    t = base_time()
    starts = {
        answer: t + timedelta(hours=2 * n)
        for n, answer in enumerate(["accept", "tentativelyAccept", "unanswered", "decline"])
    }
    async with graph_world([FROM_MICROSOFT], flow_fields={"policy": FlowPolicy(**policy)}) as world:
        for answer, start in starts.items():
            invitation = await world.invite(6, answer, start)
            if answer != "unanswered":
                await world.respond(6, invitation, answer)
        await settle(world, FROM_MICROSOFT, how)
        assert world.spans(1) == [(False, starts[a], starts[a] + timedelta(hours=1)) for a in blocked]

        # Everyone changes their mind: the one who declined accepts, the others decline.
        for answer, start in starts.items():
            invitation = await world.invite(6, answer, start)
            await world.respond(6, invitation, "accept" if answer == "decline" else "decline")
        await settle(world, FROM_MICROSOFT, how)
        assert world.spans(1) == [(False, starts["decline"], starts["decline"] + timedelta(hours=1))]


DAILY = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "numberOfOccurrences": 5}}


@pytest.mark.parametrize("how", ["poll", "reconcile"])
async def test_a_series_with_a_moved_and_a_cancelled_occurrence(how: str) -> None:
    """Each live occurrence of an Outlook series gets its block; moving and deleting one follow."""
    t, day = base_time(), timedelta(days=1)
    recurrence = DAILY | {"range": DAILY["range"] | {"startDate": t.date().isoformat()}}
    async with graph_world([FROM_MICROSOFT]) as world:
        await world.put_meeting(6, "standup", t, 30, recurrence=recurrence)
        await settle(world, FROM_MICROSOFT, how)
        assert world.spans(1) == [(False, t + n * day, t + n * day + timedelta(minutes=30)) for n in range(5)]

        mia = world.owners["mia@example.com"]
        series = world.graph_ids["standup"][1]
        window = {
            "startDateTime": f"{t:%Y-%m-%dT%H:%M:%SZ}",
            "endDateTime": f"{t + 6 * day:%Y-%m-%dT%H:%M:%SZ}",
        }
        occurrences = (await mia.request("GET", f"/me/events/{series}/instances", params=window))["value"]
        moved_to = t + 2 * day + timedelta(hours=2)
        moved = {"start": when(moved_to), "end": when(moved_to + timedelta(minutes=30))}
        await mia.request("PATCH", f"/me/events/{occurrences[2]['id']}", json=moved)
        await mia.request("DELETE", f"/me/events/{occurrences[3]['id']}")
        await settle(world, FROM_MICROSOFT, how)
        starts = [t, t + day, moved_to, t + 4 * day]
        assert world.spans(1) == [(False, s, s + timedelta(minutes=30)) for s in starts]

        await world.drop_meeting(6, "standup")
        await settle(world, FROM_MICROSOFT, how)
        assert world.spans(1) == []
