"""A storm of 429s from Graph: the daemon waits as told and converges to the right blocks, no duplicate."""

from __future__ import annotations

import pytest

from harness.processes import EmulatorProcess, daemon_env, free_port, running_daemon
from tests.daemon.processes import meeting_body
from tests.microsoft_e2e.rig import (
    ALICE,
    BOB,
    MIA,
    NINA,
    graph_meeting,
    hour,
    hour_from,
    mailboxes,
    reach_google,
    reach_outlook,
)

pytestmark = pytest.mark.slow

STORM = 40  # 429 answers before Graph calms down
CURED = 60.0  # a write still refused after its retries is run again 5 s, then 30 s later (dispatch.py)


async def test_a_429_storm_still_converges_to_exactly_the_right_blocks(emulator: EmulatorProcess) -> None:
    """Half of the daemon's Graph calls answer 429 (Retry-After 1) for a while; both directions converge."""
    flows = [("outlook", MIA, BOB), ("gmail", ALICE, NINA)]
    env = daemon_env(emulator, [ALICE, BOB], flows, port=free_port(), microsoft=[MIA, NINA])
    storm = {
        "methods": ["graph.*"],
        "accounts": [MIA, NINA],
        "kind": "status",
        "status": 429,
        "retry_after": 1,
        "probability": 0.5,
        "times": STORM,
    }
    # The storm's worst luck, made certain: nina's first block is refused on every attempt of a run.
    refused = {"methods": ["graph.create_event"], "accounts": [NINA], "kind": "status", "status": 429}
    refused |= {"retry_after": 1, "times": 3}
    alice = emulator.client(ALICE)
    try:
        async with mailboxes(emulator, MIA, NINA) as (mia, nina), running_daemon(env) as daemon:
            await emulator.control("POST", "faults", {"rules": [refused, storm]})
            outlook = [hour(1, n) for n in range(4)]
            gmail = [hour(2, n) for n in range(4)]
            for start in outlook:
                await mia.create(graph_meeting(start))  # its own calls ride the storm too
            for start in gmail:
                await alice.insert_event(ALICE, meeting_body(start))
            await reach_google(
                emulator, BOB, [hour_from(s) for s in outlook], "mia's meetings in bob's calendar", CURED
            )
            await reach_outlook(
                nina, [hour_from(s) for s in gmail], "alice's meetings in nina's calendar", CURED
            )
            assert "HTTP 429" in daemon.output, "the daemon met no 429: no storm to ride"
    finally:
        await alice.aclose()
