"""Fixtures of the Microsoft end-to-end tests: the emulator process with Google and Microsoft accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from harness.processes import EmulatorProcess
from tests.microsoft_e2e.rig import mixed_emulator


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorProcess]:
    """`calmirror emulator --account ... --microsoft-account ... --allow-http-webhooks`, stopped after."""
    async with mixed_emulator() as process:
        yield process
