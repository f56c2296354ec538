"""SIGKILLed daemons and Microsoft: the next process deletes their subscriptions; one block per meeting."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest

from harness.processes import EmulatorProcess, daemon_env, eventually, free_port, running_daemon, start_daemon
from tests.daemon.processes import meeting_body
from tests.microsoft_e2e.rig import (
    ALICE,
    BOB,
    MIA,
    NINA,
    OLGA,
    Mailbox,
    graph_meeting,
    hour,
    hour_from,
    mailboxes,
    reach_google,
    reach_outlook,
)

pytestmark = pytest.mark.slow

ROUNDS = 5  # each makes 3 meetings
SEED = 20261207


async def subscription_ids(sources: list[Mailbox]) -> list[set[str]]:
    """Each source mailbox's live subscription ids, as Graph lists them to its user."""
    return [{str(s["id"]) for s in await mailbox.subscriptions()} for mailbox in sources]


async def test_a_killed_daemons_subscriptions_are_deleted_by_the_next_one(emulator: EmulatorProcess) -> None:
    """After a SIGKILL the next process on the same config holds exactly one subscription per source."""
    flows = [("outlook", MIA, BOB), ("olga", OLGA, BOB)]
    env = daemon_env(emulator, [BOB], flows, port=free_port(), microsoft=[MIA, OLGA])
    async with mailboxes(emulator, MIA, OLGA) as sources:
        async with running_daemon(env):
            dead = await subscription_ids(sources)
            assert [len(ids) for ids in dead] == [1, 1]
        # running_daemon SIGKILLs: the dead process's subscriptions stay with Graph
        assert await subscription_ids(sources) == dead
        async with running_daemon(env) as daemon:

            async def replaced() -> bool:
                live = await subscription_ids(sources)
                return all(len(now) == 1 and not now & old for now, old in zip(live, dead, strict=True))

            await eventually(replaced, 20, "one new subscription per source, the dead process's deleted")
            start = hour(1)
            await sources[1].create(graph_meeting(start))
            await reach_google(
                emulator, BOB, [hour_from(start)], "olga's meeting through the new subscription"
            )
            assert [len(ids) for ids in await subscription_ids(sources)] == [1, 1]
            assert "deleted 1 subscription(s) an earlier process left" in daemon.output


async def test_random_sigkills_leave_exactly_one_block_per_meeting_in_outlook(
    emulator: EmulatorProcess,
) -> None:
    """Kills while alice's meetings go to nina and Graph loses answers: one block each, no orphan."""
    env = daemon_env(emulator, [ALICE], [("gmail", ALICE, NINA)], port=free_port(), microsoft=[NINA])
    rng = random.Random(SEED)
    alice = emulator.client(ALICE)
    starts: list[datetime] = []

    async def new_meeting() -> None:
        start = hour(rng.randint(1, 6), rng.randint(0, 20))
        while start in starts:
            start += timedelta(minutes=15)
        starts.append(start)
        await alice.insert_event(ALICE, meeting_body(start))

    # Graph applies some of nina's block writes but the answer never arrives: a resend must not duplicate.
    lost = {
        "methods": ["graph.create_event"],
        "accounts": [NINA],
        "kind": "lost_response",
        "probability": 0.4,
    }
    await emulator.control("POST", "faults", {"rules": [lost]})
    try:
        async with mailboxes(emulator, NINA) as (nina,):
            for kill in range(ROUNDS):
                daemon = await start_daemon(env)
                if kill % 2 == 0:  # most kills come once the process serves, however busy the machine
                    await daemon.wait_ready()
                await new_meeting()
                await new_meeting()
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # a random moment: startup, or mid-reconcile
                await daemon.kill()
                await new_meeting()  # between runs
            fired = (await emulator.control("GET", "faults"))["rules"][0]["fired"]
            await emulator.control("DELETE", "faults")
            async with running_daemon(env):
                want = sorted(hour_from(start) for start in starts)
                await reach_outlook(nina, want, f"one block for each of {len(starts)} meetings")
                await new_meeting()  # one more reconcile, by notification, over the settled state
                want = sorted(hour_from(start) for start in starts)
                await reach_outlook(nina, want, "still one block per meeting after another reconcile")
            assert fired > 0, "no answer was lost; the test did not exercise resends"
            calls = (await emulator.control("GET", "requests"))["calls"]
            deletes = [c for c in calls if c["method_id"] == "graph.delete_event" and c["account"] == NINA]
            assert deletes == [], "a duplicate block was made (and cleaned up later)"
    finally:
        await alice.aclose()
