"""Push fault kinds: dropped, duplicated, delayed and reordered notifications (not 100% reliable)."""

from __future__ import annotations

import asyncio

from calmirror.emulator import Emulator
from tests.emulator.test_push import change, watch
from tests.emulator_helpers import WebhookReceiver


async def test_push_drop_loses_a_message(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """ "Expect a small percentage of messages to get dropped" — push_drop loses exactly `times`."""
    emulator.faults.add({"kind": "push_drop", "times": 1})
    await watch(emulator, webhook.url)
    change(emulator)
    received = await webhook.wait_for(1)
    await emulator.push.drain()
    assert [h["X-Goog-Resource-State"] for h in received] == ["exists"]


async def test_push_duplicate_sends_twice(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """push_duplicate delivers the same message number twice; receivers must be idempotent."""
    emulator.faults.add({"kind": "push_duplicate", "times": 1})
    await watch(emulator, webhook.url)
    received = await webhook.wait_for(2)
    assert [h["X-Goog-Message-Number"] for h in received] == ["1", "1"]


async def test_push_reorder_lets_a_later_message_overtake(
    emulator: Emulator, webhook: WebhookReceiver
) -> None:
    """push_reorder holds a message back so the next one arrives first (Google does not promise order)."""
    await watch(emulator, webhook.url)
    await webhook.wait_for(1)
    emulator.faults.add({"kind": "push_reorder", "seconds": 0.3, "times": 1})
    change(emulator)
    change(emulator)
    received = await webhook.wait_for(3)
    numbers = [int(h["X-Goog-Message-Number"]) for h in received[1:]]
    assert numbers[0] > numbers[1]


async def test_push_faults_respect_accounts(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """A push rule limited to another account leaves this account's channel alone."""
    emulator.faults.add({"kind": "push_drop", "accounts": ["bob@example.com"]})
    await watch(emulator, webhook.url)
    await asyncio.wait_for(webhook.wait_for(1), 5)
    assert webhook.received[0]["X-Goog-Resource-State"] == "sync"
