"""Shared fixtures: an in-process emulator with three accounts for every test that asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from calmirror.emulator import Emulator, start_emulator
from tests.emulator_helpers import WebhookReceiver

ACCOUNTS = ("alice@example.com", "bob@example.com", "carol@example.com")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator (alice, bob, carol @example.com; http webhooks allowed), stopped after the test."""
    emu = await start_emulator(accounts=ACCOUNTS, allow_http_webhooks=True)
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    """A loopback webhook receiver that answers 200, stopped after the test."""
    receiver = await WebhookReceiver().start()
    try:
        yield receiver
    finally:
        await receiver.stop()
