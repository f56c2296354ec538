"""SIGKILL at random moments while meetings change: the last process converges, stops dead channels."""

from __future__ import annotations

import asyncio
import random
from functools import partial
from typing import Any

import pytest

from calmirror.config import load_settings
from calmirror.google.client import CalendarClient
from tests.daemon.processes import (
    ALICE,
    BOB,
    EmulatorProcess,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
    start_daemon,
    stored_events,
)
from tests.engine.conftest import assert_converged, desired

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20261201


class Meetings:
    """alice's meetings, created, moved and cancelled at random (seeded) through the real client."""

    def __init__(self, client: CalendarClient, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.live: list[str] = []

    async def change(self) -> None:
        """Create, move or cancel one meeting."""
        kind = self.rng.choices(["create", "move", "cancel"], [4, 3, 2])[0] if self.live else "create"
        start = next_hour(days=self.rng.randint(1, 6), hours=self.rng.randint(0, 10))
        body = meeting_body(start, minutes=self.rng.choice([30, 60, 90]))
        if kind == "create":
            self.live.append((await self.client.insert_event(ALICE, body))["id"])
        elif kind == "move":
            await self.client.update_event(ALICE, self.rng.choice(self.live), body)
        else:
            event_id = self.live.pop(self.rng.randrange(len(self.live)))
            await self.client.delete_event(ALICE, event_id)


def converged(state: Any, settings: Any) -> bool:
    """Tell whether the oracle accepts the state."""
    try:
        assert_converged(state, settings)
    except AssertionError:
        return False
    return True


async def new_channel(emulator: EmulatorProcess, earlier: set[str]) -> bool:
    """Tell whether the emulator has a channel none of the `earlier` ids names."""
    return any(c["id"] not in earlier for c in await emulator.channels())


async def test_random_sigkills_leave_no_duplicate_missing_or_orphan_block_and_no_stale_channel(
    emulator_process: EmulatorProcess,
) -> None:
    """20 kills while meetings change; then one process: the desired blocks exactly, and only its channel."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    settings = load_settings(env, env_file=None, credentials_directory=None)
    rng = random.Random(SEED)
    alice = emulator_process.client(ALICE)
    meetings = Meetings(alice, rng)
    try:
        for _ in range(3):
            await meetings.change()
        for kill in range(KILLS):
            earlier = {c["id"] for c in await emulator_process.channels()}
            daemon = await start_daemon(env)
            if kill % 2:  # every other kill comes once this process has a channel, however busy the machine
                await eventually(partial(new_channel, emulator_process, earlier), 30, "the daemon's channel")
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            await meetings.change()  # during a run (its startup, or webhook reconciles)
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            await daemon.kill()
            await meetings.change()  # between runs
        stale = {c["id"] for c in await emulator_process.channels()}
        assert stale, "no dead process left a channel behind; the kills came too early to test adoption"

        async with running_daemon(env) as final:
            await meetings.change()  # notifies every channel, the dead processes' too

            async def only_own_channel() -> bool:
                live = [c["id"] for c in await emulator_process.channels()]
                return len(live) == 1 and live[0] not in stale and live[0] in final.output

            await eventually(only_own_channel, 15, f"the {len(stale)} dead processes' channels stopped")

            async def settled() -> bool:
                return converged(await stored_events(emulator_process, [ALICE, BOB]), settings)

            await eventually(settled, 15, "the blocks converged")
            await asyncio.sleep(0.5)
            state = await stored_events(emulator_process, [ALICE, BOB])
            assert_converged(state, settings)  # and it stays so
            assert len(desired(state, settings, settings.targets()[0])) >= 3, "too few meetings to tell"
    finally:
        await alice.aclose()
