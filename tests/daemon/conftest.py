"""Fixtures of the daemon tests: the emulator as a real process, and a daemon mirroring alice into bob."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.daemon.processes import (
    ALICE,
    BOB,
    CAROL,
    DaemonProcess,
    EmulatorProcess,
    daemon_env,
    free_port,
    start_daemon,
    start_emulator_process,
)


@pytest.fixture
async def emulator_process() -> AsyncIterator[EmulatorProcess]:
    """The emulator in its own process (alice, bob and carol), stopped after the test."""
    emulator = await start_emulator_process([ALICE, BOB, CAROL])
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def daemon(emulator_process: EmulatorProcess) -> AsyncIterator[DaemonProcess]:
    """`calmirror run` mirroring alice into bob with webhooks; the poll interval is a day."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    process = await start_daemon(env)
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.kill()
