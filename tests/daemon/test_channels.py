"""ChannelManager against the in-process emulator on a fake clock: renewal, backoff, expiry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from calmirror.config import CalendarRef
from calmirror.daemon.channels import ChannelManager
from calmirror.emulator import Emulator
from calmirror.logs import RedactingFilter, setup_logging
from tests.emulator_helpers import WebhookReceiver, new_client

ALICE = "alice@example.com"
REF = CalendarRef(account_id=1, calendar_id=ALICE)
TTL = 604800
REFUSE = {"kind": "status", "status": 400, "reason": "push.webhookUrlUnauthorized"}


@dataclass
class Clock:
    """A settable clock for the manager; Google's expirations stay in real time."""

    now: float

    def __call__(self) -> float:
        """Return the time set last."""
        return self.now


@dataclass
class Channels:
    """A manager watching alice's primary calendar, its clock, and the emulator behind it."""

    manager: ChannelManager
    clock: Clock
    emulator: Emulator

    def watch_calls(self) -> int:
        """Return how many events.watch requests the emulator answered."""
        return sum(c.method_id == "calendar.events.watch" for c in self.emulator.requests.calls)


@pytest.fixture
async def channels(emulator: Emulator, webhook: WebhookReceiver) -> AsyncIterator[Channels]:
    """A started manager with one live channel; its channels are stopped afterwards."""
    client = new_client(emulator, ALICE)
    clock = Clock(time.time())
    manager = ChannelManager(
        {1: client},
        [REF],
        key="k" * 32,
        base_url=webhook.url.removesuffix("/hook"),
        ttl_seconds=TTL,
        clock=clock,
    )
    await manager.start()
    try:
        yield Channels(manager, clock, emulator)
    finally:
        await manager.stop_all(within=2.0)
        await client.aclose()


async def test_a_failing_renewal_backs_off_and_the_expired_channel_no_longer_counts(
    channels: Channels,
) -> None:
    """Renewal refused: retried after 30, 60, 120 s (not every check); once expired, "polling only"."""
    manager, clock = channels.manager, channels.clock
    assert channels.watch_calls() == 1
    assert manager.polling_reason(REF) is None
    channels.emulator.faults.add(REFUSE | {"methods": ["calendar.events.watch"]})
    clock.now += TTL - manager.renew_margin + 1
    for _ in range(10):  # 270 s of checks every 30 s
        await manager.renew_due()
        clock.now += manager.check_seconds
    assert channels.watch_calls() == 1 + 4  # at 0, 30, 90 and 210 s
    assert manager.polling_reason(REF) is None  # the old channel is still live meanwhile
    clock.now += manager.renew_margin
    await manager.renew_due()
    reason = manager.polling_reason(REF)
    assert reason is not None
    assert reason.startswith("channel expired, renewal failing: webhook address refused by Google (400 push.")
    assert manager.expiry(REF) is None


def masked_values() -> int:
    """Return how many literal values the log redactor masks on every line."""
    filters = (f for h in logging.getLogger().handlers for f in h.filters)
    return sum(len(f.secrets) for f in filters if isinstance(f, RedactingFilter))


async def test_registering_channels_does_not_grow_the_redactors_list(channels: Channels) -> None:
    """Channel tokens are masked by their shape, so minting them adds no work to every log line."""
    setup_logging("INFO", [], fmt="text", journald=False)
    before = masked_values()
    channels.emulator.faults.add(REFUSE | {"methods": ["calendar.events.watch"]} | {"times": 2})
    for _ in range(4):  # refused twice, then accepted twice
        await channels.manager.register(REF)
    assert channels.watch_calls() == 5
    assert masked_values() == before


async def test_a_refused_webhook_address_is_named_as_such_not_as_auth(
    emulator: Emulator, webhook: WebhookReceiver
) -> None:
    """Google's 403 push.webhookUrlUnauthorized is about the address, not the account's credentials."""
    emulator.faults.add(REFUSE | {"status": 403, "methods": ["calendar.events.watch"]})
    client = new_client(emulator, ALICE)
    base = webhook.url.removesuffix("/hook")
    manager = ChannelManager({1: client}, [REF], key="k" * 32, base_url=base, ttl_seconds=TTL)
    try:
        await manager.start()
        reason = manager.polling_reason(REF)
        assert reason is not None
        assert reason.startswith("webhook address refused by Google (403 push.webhookUrlUnauthorized)")
        unset = ChannelManager({1: client}, [REF], key="k" * 32, base_url=None, ttl_seconds=TTL)
        assert unset.polling_reason(REF) == "no WEBHOOK_BASE_URL"
    finally:
        await manager.stop_all(within=2.0)
        await client.aclose()


async def test_stop_all_awaits_the_channel_stops_it_cancels(channels: Channels) -> None:
    """A stop still hanging at the bound is cancelled and has ended when stop_all returns."""
    hang = {"kind": "timeout", "methods": ["calendar.channels.stop"], "seconds": 2, "times": 1}
    channels.emulator.faults.add(hang)
    await channels.manager.stop_all(within=0.3)
    assert channels.emulator.faults.rules[0].fired == 1  # the stop was sent and hung
    stops = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "ChannelManager._stop"]
    assert not stops, stops
