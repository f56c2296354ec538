"""What calmirror must never do in Outlook: touch a foreign event, double a block, delete after a bad read.

Also: blocks a person deletes or drags are put back, and the deletion guard holds mass deletions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from calmirror.emulator.graph.model import StoredEvent
from calmirror.engine import SyncEngine, SyncSummary
from calmirror.microsoft.blocks import MARK_ID, TRANSACTION_PREFIX
from tests.engine.conftest import base_time
from tests.microsoft.conftest import http_count
from tests.providers.conftest import GOOGLE, FlowSpec
from tests.providers.graph import MICROSOFT, GraphWorld, graph_world, meeting_body, open_providers, when

TO_MICROSOFT: FlowSpec = ("to outlook", (1, GOOGLE[1]), (6, "primary"), 0, 0)
FROM_MICROSOFT: FlowSpec = ("from outlook", (6, "primary"), (1, GOOGLE[1]), 0, 0)
MEETINGS = 6


def marks(world: GraphWorld, account_id: int) -> list[str]:
    """Return the block ids the blocks of a Microsoft target carry (one entry per stored block)."""
    return sorted(block.extended[MARK_ID] for block in world.blocks(account_id))


async def test_foreign_events_in_an_outlook_target_are_never_touched() -> None:
    """The owner's own events, an invitation, one at a block's very time and one that looks like calmirror's
    (its transactionId) stay exactly as stored through many passes of both kinds."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        mia = MICROSOFT[6]
        await world.organise(mia, "own", meeting_body(t, t + timedelta(hours=1)))
        await world.organise(
            mia, "lookalike", meeting_body(t, t + timedelta(hours=1), transactionId=TRANSACTION_PREFIX + "x")
        )
        await world.organise(
            mia, "alone", {"start": when(t + timedelta(hours=2)), "end": when(t + timedelta(hours=3))}
        )
        await world.invite(6, "invited", t + timedelta(hours=4))
        foreign = world.foreign(6)
        assert len(foreign) == 4

        for n in range(4):  # meetings at the foreign events' times come, move away and back, and go
            for key, hours in (("g1", 0), ("g2", 2 + n % 2), ("g3", 4)):
                await world.put_meeting(1, key, t + timedelta(hours=hours))
            await world.changed(1, GOOGLE[1])
            await world.changed(6)
            await world.reconcile()
            await world.drop_meeting(1, "g3")
            await world.changed(1, GOOGLE[1])
            await world.reconcile()

        assert world.foreign(6) == foreign  # every field, changeKey and version included
        assert world.spans(6) == [
            (False, t, t + timedelta(hours=1)),
            (False, t + timedelta(hours=3), t + timedelta(hours=4)),
        ]


async def test_two_processes_syncing_at_once_never_double_a_block() -> None:
    """Two engines with providers of their own write the same blocks at once: transactionId keeps one each."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        for n in range(MEETINGS):
            await world.put_meeting(1, f"m{n}", t + timedelta(hours=2 * n))
        providers = open_providers(world.emulator, world.settings)
        try:
            other = SyncEngine(world.settings, providers)
            await asyncio.gather(world.reconcile(), other.reconcile_all())
            assert len(marks(world, 6)) == len(set(marks(world, 6))) == MEETINGS

            for n in range(MEETINGS):  # every meeting moves; both notice at once
                await world.put_meeting(1, f"m{n}", t + timedelta(hours=2 * n, minutes=30))
            await asyncio.gather(
                world.changed(1, GOOGLE[1]), other.calendars_changed([world.ref(1, GOOGLE[1])], "poll")
            )
            await asyncio.gather(world.reconcile(), other.reconcile_all())
        finally:
            for provider in providers.values():
                await provider.aclose()
        assert len(marks(world, 6)) == len(set(marks(world, 6)))
        starts = [t + timedelta(hours=2 * n, minutes=30) for n in range(MEETINGS)]
        assert world.spans(6) == [(False, s, s + timedelta(hours=1)) for s in starts]


@pytest.mark.parametrize("next_pass", ["same engine", "new engine"])
@pytest.mark.parametrize("lost", [1, None])
async def test_creates_carried_out_but_never_answered_are_repaired(lost: int | None, next_pass: str) -> None:
    """Graph carries out the creates and their answer is lost (once, or on every attempt).

    Once: the retry of the batch, with the same transactionIds, gets the same events back. Always:
    the writes end unknown and the next pass, of this engine or of a new process, finishes them;
    never a second block.
    """
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        starts = [t + timedelta(hours=2 * n) for n in range(MEETINGS)]
        for n, start in enumerate(starts):
            await world.put_meeting(1, f"m{n}", start)
        world.emulator.faults.add({"kind": "lost_response", "methods": ["graph.create_event"], "times": lost})

        first = (await world.changed(1, GOOGLE[1])).flows["to outlook"]
        assert first.count("unknown") == (MEETINGS if lost is None else 0)
        assert len(world.blocks(6)) == MEETINGS  # every lost create was carried out

        world.emulator.faults.clear()
        if next_pass == "new engine":
            providers = open_providers(world.emulator, world.settings)
            try:
                await SyncEngine(world.settings, providers).reconcile_all()
            finally:
                for provider in providers.values():
                    await provider.aclose()
        else:
            await world.changed(1, GOOGLE[1])
        assert len(set(marks(world, 6))) == len(marks(world, 6))
        assert world.spans(6) == [(False, start, start + timedelta(hours=1)) for start in starts]


async def both_passes(world: GraphWorld) -> list[tuple[bool, str]]:
    """Run a poll of the Outlook source and the full reconcile; return each pass's (ok, failing side)."""
    seen: list[tuple[bool, str]] = []
    summaries: list[SyncSummary] = [await world.changed(6), await world.reconcile()]
    for summary in summaries:
        [outcome] = summary.flows.values()
        seen.append((outcome.ok, ",".join(sorted({f.side for f in outcome.failures}))))
    return seen


@pytest.mark.parametrize("fault", ["graph.delta", "graph.*", "revoked"])
async def test_an_outlook_source_that_cannot_be_read_deletes_no_block(fault: str) -> None:
    """While the source answers 503 beyond the retries (its delta, or every call), or its grant is revoked,
    its blocks stay although its meetings are gone."""
    t = base_time()
    async with graph_world([FROM_MICROSOFT]) as world:
        await world.put_meeting(6, "m1", t)
        await world.put_meeting(6, "m2", t + timedelta(hours=2))
        await world.changed(6)
        assert len(world.spans(1)) == 2

        await world.drop_meeting(6, "m1")
        await world.drop_meeting(6, "m2")
        if fault == "revoked":
            world.graph.revoke(MICROSOFT[6])
        else:
            world.emulator.faults.add({"kind": "status", "status": 503, "retry_after": 0, "methods": [fault]})
        assert await both_passes(world) == [(False, "source")] * 2
        assert len(world.spans(1)) == 2

        if fault != "revoked":
            world.emulator.faults.clear()
            await world.changed(6)
            assert world.spans(1) == []


@pytest.mark.parametrize("source", ["google", "outlook"])
async def test_the_deletion_guard_holds_a_mass_deletion_in_an_outlook_target(source: str) -> None:
    """Most blocks of an Outlook target going at once (meetings deleted, or cancelled by their organizer)
    waits for a person; allowed, it happens."""
    t = base_time()
    flow: FlowSpec = (
        "guarded",
        (1, GOOGLE[1]) if source == "google" else (6, "primary"),
        (7, "primary"),
        0,
        0,
    )
    async with graph_world([flow], deletion_guard_min_blocks=2, deletion_guard_percent=50) as world:
        for n in range(4):
            start = t + timedelta(hours=2 * n)
            await (
                world.put_meeting(1, f"m{n}", start)
                if source == "google"
                else world.invite(6, f"m{n}", start)
            )
        await world.changed(*flow[1])
        assert len(world.blocks(7)) == 4

        for n in range(4):
            await world.drop_meeting(
                1 if source == "google" else 6, f"m{n}"
            )  # Olga's deletion cancels Mia's copy
        polled, full = await world.changed(*flow[1]), await world.reconcile()
        assert [len(s.flows["guarded"].held) for s in (polled, full)] == [4, 4]
        assert len(world.blocks(7)) == 4

        await world.reconcile(allow_mass_deletion=True)
        assert world.blocks(7) == []


@pytest.mark.parametrize("how", ["target poll", "reconcile"])
async def test_a_block_deleted_in_outlook_is_put_back(how: str) -> None:
    """The owner deletes a block in Outlook: the next pass creates it again, once."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        await world.put_meeting(1, "m", t)
        await world.changed(1, GOOGLE[1])
        [block] = world.blocks(6)
        await world.owners[MICROSOFT[6]].request("DELETE", f"/me/events/{block.id}")
        assert world.blocks(6) == []

        await (world.changed(6) if how == "target poll" else world.reconcile())
        assert world.spans(6) == [(False, t, t + timedelta(hours=1))]
        assert marks(world, 6) == [block.extended[MARK_ID]]


@pytest.mark.parametrize("how", ["target poll", "reconcile"])
async def test_a_block_dragged_in_outlook_is_put_back_and_later_removed(how: str) -> None:
    """A block its owner dragged away is put back in place, and still removed when its meeting goes."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        await world.put_meeting(1, "m", t)
        await world.changed(1, GOOGLE[1])
        [block] = world.blocks(6)
        later = t + timedelta(hours=6)
        dragged = {"start": when(later), "end": when(later + timedelta(hours=1))}
        await world.owners[MICROSOFT[6]].request("PATCH", f"/me/events/{block.id}", json=dragged)
        assert world.spans(6) == [(False, later, later + timedelta(hours=1))]

        await (world.changed(6) if how == "target poll" else world.reconcile())
        assert world.spans(6) == [(False, t, t + timedelta(hours=1))]

        await world.drop_meeting(1, "m")
        await world.changed(1, GOOGLE[1])
        assert world.blocks(6) == []


async def test_an_idle_poll_of_an_outlook_source_costs_one_delta_request() -> None:
    """Once converged, a poll that finds nothing new asks Graph one delta request and writes nothing."""
    t = base_time()
    async with graph_world(
        [FROM_MICROSOFT, ("outlook to outlook", (6, "primary"), (7, "primary"), 0, 0)]
    ) as world:
        await world.put_meeting(6, "m", t)
        await world.reconcile()
        await world.changed(6)
        world.emulator.requests.reset()

        summary = await world.changed(6)

        assert [o.plan.writes for o in summary.targets if o.plan] == [0, 0]
        assert [c.method_id for c in world.emulator.requests.calls if c.method_id.startswith("graph.")] == [
            "graph.delta"
        ]


async def test_a_new_outlook_meeting_costs_one_delta_and_its_create() -> None:
    """A poll that finds one new meeting reads the source's delta and sends one create (in a batch).

    The target is planned from its cache, which the last pass's writes keep current.
    """
    t = base_time()
    async with graph_world([("outlook to outlook", (6, "primary"), (7, "primary"), 0, 0)]) as world:
        await world.put_meeting(6, "m1", t)
        await world.reconcile()
        await world.put_meeting(6, "m2", t + timedelta(hours=2))
        world.emulator.requests.reset()

        await world.changed(6)

        graph = [c for c in world.emulator.requests.calls if c.method_id.startswith("graph.")]
        assert sorted((c.method_id, c.account) for c in graph) == [
            ("graph.create_event", MICROSOFT[7]),
            ("graph.delta", MICROSOFT[6]),
        ]
        assert len(world.blocks(7)) == 2


async def _copy_block(world: GraphWorld, start: datetime) -> tuple[StoredEvent, dict[str, object]]:
    """Mirror a meeting at `start` to Mia's Outlook, copy its block two days on, let a poll see it."""
    await world.put_meeting(1, "m", start)
    await world.changed(1, GOOGLE[1])
    [block] = world.blocks(6)
    later = start + timedelta(days=2)
    copy = await world.owners[MICROSOFT[6]].request(
        "POST",
        "/me/events",
        json={
            "subject": "my copy",
            "start": when(later),
            "end": when(later + timedelta(hours=1)),
            "singleValueExtendedProperties": [{"id": MARK_ID, "value": block.extended[MARK_ID]}],
        },
    )
    await world.changed(6)  # a target poll sees the copy (a delta cannot show its mark)
    return block, copy


async def test_a_copy_of_a_cancelled_meetings_block_survives_the_full_reconcile() -> None:
    """calmirror removes a cancelled meeting's block; the user's copy of it is not taken for the block."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        _, copy = await _copy_block(world, t)
        kept = world.graph.store.events[str(copy["id"])]
        await world.drop_meeting(1, "m")
        await world.changed(1, GOOGLE[1])
        await world.reconcile()
        await world.reconcile()
        assert world.graph.store.events.get(str(copy["id"])) == kept
        assert world.spans(6) == [(False, t + timedelta(days=2), t + timedelta(days=2, hours=1))]


async def test_a_copy_stays_untouched_when_the_user_deletes_the_block_itself() -> None:
    """The block is put back by a new create, never by editing the copy; one block at the meeting's time."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        block, copy = await _copy_block(world, t)
        kept = world.graph.store.events[str(copy["id"])]
        await world.owners[MICROSOFT[6]].request("DELETE", f"/me/events/{block.id}")
        await world.changed(6)
        await world.reconcile()
        assert world.graph.store.events.get(str(copy["id"])) == kept
        at_meeting = [span for span in world.spans(6) if span[1] == t]
        assert at_meeting == [(False, t, t + timedelta(hours=1))]
        assert len(world.blocks(6)) == 2  # the copy and the new block


async def test_a_target_with_more_blocks_than_the_page_bound_still_reconciles() -> None:
    """Blocks only accumulate (those in the past stay), so listing them is not held to the page bound."""
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        await world.put_meeting(1, "m", t)
        await world.changed(1, GOOGLE[1])
        past = [t - timedelta(days=30, hours=2 * n) for n in range(5)]
        for n, start in enumerate(past):  # blocks of meetings long over
            body = meeting_body(
                start, start + timedelta(hours=1), transactionId=f"{TRANSACTION_PREFIX}old{n}"
            )
            body["singleValueExtendedProperties"] = [{"id": MARK_ID, "value": f"old{n}"}]
            await world.owners[MICROSOFT[6]].request("POST", "/me/events", json=body)
        client = world.providers[6].client
        client.page_size, client.max_pages = 1, 3  # 6 blocks > 3 pages of 1 (as 100,000 > 500 pages of 200)
        summary = await world.reconcile()
        assert all(outcome.ok for outcome in summary.targets)
        assert world.spans(6) == sorted(
            [(False, start, start + timedelta(hours=1)) for start in past]
            + [(False, t, t + timedelta(hours=1))]
        )


async def test_a_fresh_block_a_lagging_delta_leaves_out_is_not_taken_for_deleted() -> None:
    """Graph's delta is eventually consistent: a round that misses a block calmirror just wrote (still
    stored) leaves it alone, so it is neither rewritten nor doubled; an idle poll after it stays one read.
    """
    t = base_time()
    async with graph_world([TO_MICROSOFT]) as world:
        await world.changed(6)  # the target's first round, before any block
        hidden: set[str] = set()

        def lag(name: str, _status: int, body: Any) -> None:
            if name == "graph.delta" and isinstance(body, dict) and isinstance(body.get("value"), list):
                body["value"] = [item for item in body["value"] if item.get("id") not in hidden]

        world.graph.hooks.append(lag)
        await world.put_meeting(1, "m", t)
        await world.changed(1, GOOGLE[1])
        [block] = world.blocks(6)
        hidden.add(block.id)
        await world.changed(6)  # the next round does not list the fresh block yet
        await world.changed(1, GOOGLE[1])
        assert [b.id for b in world.blocks(6)] == [block.id]
        assert world.graph.store.events[block.id] == block

        before = http_count(world.graph, path_part="/v1.0/")
        await world.changed(6)  # an idle poll: the delta only
        assert http_count(world.graph, path_part="/v1.0/") == before + 1
