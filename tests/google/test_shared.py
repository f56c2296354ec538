"""Clients sharing one CalendarApi and one bound on calls, as runtime() builds them for the daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from calmirror.emulator import Emulator
from calmirror.google.discovery import calendar_api
from calmirror.google.writes import Insert
from tests.google.conftest import MakeClient
from tests.google.helpers import ALICE, BOB, block, event_ids

LIST = "calendar.calendarList.list"


async def test_shared_api_sends_each_call_with_its_own_account(
    emulator: Emulator, make_client: MakeClient
) -> None:
    """Many concurrent calls of two accounts over one shared API land in each account's own calendar."""
    api = await asyncio.to_thread(calendar_api, emulator.api_root)
    alice, bob = make_client(ALICE, 1, api=api), make_client(BOB, 2, api=api)
    ids = event_ids(12)

    await asyncio.gather(
        *(alice.insert_event(ALICE, block(i, minute=n)) for n, i in enumerate(ids[:6])),
        *(bob.insert_event(BOB, block(i, minute=n)) for n, i in enumerate(ids[6:])),
        alice.apply_writes([Insert(ALICE, block(f"bat{n:05d}", day=23)) for n in range(3)]),
    )

    alice_ids = {e["id"] for e in (await alice.list_events(ALICE)).events}
    bob_ids = {e["id"] for e in (await bob.list_events(BOB)).events}
    assert alice_ids == set(ids[:6]) | {f"bat{n:05d}" for n in range(3)}
    assert bob_ids == set(ids[6:])
    assert {c.account for c in emulator.requests.calls} == {ALICE, BOB}


async def test_calls_bound_is_shared_by_all_clients(emulator: Emulator, make_client: MakeClient) -> None:
    """With a process-wide bound of one call, bob's call waits for alice's slow one to finish."""
    calls = asyncio.Semaphore(1)
    alice, bob = make_client(ALICE, 1, calls=calls), make_client(BOB, 2, calls=calls)
    await asyncio.gather(alice.list_calendars(), bob.list_calendars())  # tokens first
    emulator.faults.add({"kind": "latency", "methods": [LIST], "seconds": 0.5, "times": 1})
    finished: list[str] = []

    async def call(name: str, pending: Awaitable[object]) -> None:
        await pending
        finished.append(name)

    slow = asyncio.create_task(call("alice", alice.list_calendars()))
    await asyncio.sleep(0.1)  # alice's call now holds the only slot, and the emulator holds her call
    await call("bob", bob.list_calendars())
    await slow

    assert finished == ["alice", "bob"]
