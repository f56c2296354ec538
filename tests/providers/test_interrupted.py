"""Writes cut off mid-way leave nothing a later pass does not repair: exactly the desired blocks, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calmirror.engine import SyncEngine
from harness.davproxy import Fault
from tests.engine.conftest import base_time
from tests.providers.conftest import GOOGLE, MakeMixed, open_test_providers

TO_CALDAV = ("to caldav", (1, GOOGLE[1]), (3, "b"), 0, 0)
MEETINGS = 6


@pytest.mark.parametrize("next_pass", ["same engine", "new engine"])
@pytest.mark.parametrize("dropped", [3, None])
async def test_puts_carried_out_but_never_answered_are_repaired(
    make_mixed: MakeMixed, dropped: int | None, next_pass: str
) -> None:
    """The proxy carries out PUTs and drops their connections (3 of them, or every attempt).

    Three are settled by the retry in the same pass (the create finds its block); when every attempt
    is dropped the writes end unknown, and the next pass, of this engine or a new one, finishes them.
    """
    world = await make_mixed([TO_CALDAV])
    t = base_time()
    starts = [t + timedelta(hours=2 * n) for n in range(MEETINGS)]
    for n, start in enumerate(starts):
        await world.put_meeting(1, GOOGLE[1], f"m{n}", start)
    world.proxy.inject(Fault(method="PUT", forward=True, drop=True, times=dropped))

    first = (await world.changed(1, GOOGLE[1])).flows["to caldav"]
    assert first.count("unknown") == (MEETINGS if dropped is None else 0)
    assert len(await world.dav_spans("b")) == MEETINGS  # every dropped PUT was carried out

    world.proxy.clear()
    if next_pass == "new engine":
        providers = open_test_providers(world.emulator, world.settings)
        try:
            await SyncEngine(world.settings, providers).reconcile_all()
        finally:
            for provider in providers.values():
                await provider.aclose()
    else:
        await world.changed(1, GOOGLE[1])
    assert await world.dav_spans("b") == [(False, start, start + timedelta(hours=1)) for start in starts]
