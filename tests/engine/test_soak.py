"""Soak: 2,000 random source changes, each with a trigger, while 10% of the engine's requests fail."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest

from calmirror.emulator.requestlog import CallRecord
from tests.engine.conftest import (
    EMAILS,
    FlowSpec,
    MakeWorld,
    World,
    assert_converged,
    assert_untouched,
    base_time,
    changed,
    rfc,
)

FLOWS: tuple[FlowSpec, ...] = (("work", 1, 2, 10, 5), ("club", 3, 2, 0, 0), ("back", 2, 1, 0, 0))
CHANGES = 2000
FAULT_KINDS: tuple[dict[str, Any], ...] = (
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 429, "retry_after": 1},
    {"kind": "status", "status": 403, "reason": "rateLimitExceeded"},
    {"kind": "status", "status": 403, "reason": "quotaExceeded"},
    {"kind": "timeout", "seconds": 0.05},
    {"kind": "drop"},
    {"kind": "lost_response"},
)
# Rules are tried in order, each firing with this probability: about 10% of requests fail in total.
PER_KIND = 1 - 0.9 ** (1 / len(FAULT_KINDS))


class Soak:
    """Random users' changes with their expected foreign etags, and the engine's request accounting."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.etags: dict[tuple[str, str], str] = {}
        self.engine_calls: list[CallRecord] = []
        self.engine_http = 0

    def times(self) -> dict[str, Any]:
        """Return a random start/end over three days in half-hour slots."""
        start = base_time() + timedelta(minutes=30 * self.rng.randrange(144))
        end = start + timedelta(minutes=self.rng.choice([30, 60, 90]))
        return {"start": {"dateTime": rfc(start)}, "end": {"dateTime": rfc(end)}}

    def attendees(self, account: int) -> list[dict[str, Any]]:
        """Return the owner (accepted or declined) and 0-2 outside guests."""
        owner = {"email": EMAILS[account], "responseStatus": self.rng.choice(["accepted"] * 4 + ["declined"])}
        return [owner, *({"email": f"g{i}@elsewhere.test"} for i in range(self.rng.randrange(3)))]

    async def change(self) -> int:
        """Make one random change as a user and return the account whose calendar changed."""
        users = self.world.users
        roll = self.rng.random()
        if roll < 0.4 or len(self.events) < 10:
            account = self.rng.choice([1, 2, 3])
            body = {"summary": "m", "attendees": self.attendees(account), **self.times()}
            event = await users[account].insert_event(EMAILS[account], body)
            self.events.append((account, event))
        else:
            index = self.rng.randrange(len(self.events))
            account, event = self.events[index]
            if roll < 0.55:
                await users[account].delete_event(EMAILS[account], event["id"])
                self.events.pop(index)
                event = self.world.emulator.store.get(EMAILS[account], event["id"]) or event
            else:
                event = await users[account].update_event(
                    EMAILS[account], event["id"], self.edited(account, event)
                )
                self.events[index] = (account, event)
        self.etags[(EMAILS[account], event["id"])] = event["etag"]
        return account

    def edited(self, account: int, event: dict[str, Any]) -> dict[str, Any]:
        """Return the event with one random change: moved, busy/free flipped, or new attendees."""
        body = {k: v for k, v in event.items() if k not in ("etag", "updated", "created")}
        kind = self.rng.choice(["move", "transparency", "attendees"])
        if kind == "move":
            return body | self.times()
        if kind == "transparency":
            return body | {
                "transparency": "transparent" if body.get("transparency") != "transparent" else "opaque"
            }
        return body | {"attendees": self.attendees(account)}

    async def trigger(self, account: int) -> None:
        """Notify the engine under faults, counting the requests it makes."""
        log = self.world.emulator.requests
        faults = self.world.emulator.faults
        calls, http = len(log.calls), len(log.http)
        for kind in FAULT_KINDS:
            faults.add({**kind, "probability": PER_KIND})
        try:
            await changed(self.world.engine, account, EMAILS[account], trigger="webhook")
        finally:
            faults.clear()
        self.engine_calls += log.calls[calls:]
        self.engine_http += len(log.http) - http


@pytest.mark.slow
async def test_soak_converges_after_faults(make_world: MakeWorld) -> None:
    """After 2,000 changes under faults, one full reconcile leaves no missing, doubled or orphan block."""
    world = make_world(FLOWS)
    soak = Soak(world, random.Random(20261121))
    started = time.monotonic()
    for _ in range(CHANGES):
        await soak.trigger(await soak.change())
    faulted = sum(
        1 for call in soak.engine_calls if call.status >= 400 and call.status not in (404, 409, 410)
    )

    summary = await world.engine.reconcile_all()

    assert summary.ok, {name: outcome.message for name, outcome in summary.flows.items()}
    assert_converged(world.emulator, world.settings)
    assert_untouched(world.emulator, soak.etags)
    world.emulator.reset_requests()
    await world.engine.reconcile_all()
    assert world.writes() == 0
    reads = sum(
        1 for call in soak.engine_calls if call.method_id in ("calendar.events.list", "calendar.events.get")
    )
    assert faulted > CHANGES * 0.05  # the faults really fired
    blocks = len(world.blocks(2)) + len(world.blocks(1))
    print(  # the figures quoted in the report; run with -s to see them
        f"\nsoak: {CHANGES} changes in {time.monotonic() - started:.1f}s; engine per change: "
        f"{soak.engine_http / CHANGES:.2f} HTTP requests, {len(soak.engine_calls) / CHANGES:.2f} API calls, "
        f"{reads / CHANGES:.2f} reads; faulted calls {faulted}; blocks at the end {blocks}"
    )
