"""Fixtures of the daemon tests: the emulator as a real process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.daemon.processes import ALICE, BOB, CAROL, EmulatorProcess, start_emulator_process


@pytest.fixture
async def emulator_process() -> AsyncIterator[EmulatorProcess]:
    """The emulator in its own process (alice, bob and carol), stopped after the test."""
    emulator = await start_emulator_process([ALICE, BOB, CAROL])
    try:
        yield emulator
    finally:
        await emulator.stop()
