"""The webhook handler in-process, on the emulator: what an authentic notification leads to."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from calmirror.config import CalendarRef
from calmirror.daemon import routes
from calmirror.daemon.channels import ChannelManager
from calmirror.daemon.dispatch import Dispatcher
from calmirror.daemon.keys import CHANNELS, DISPATCHER, LIMITER, METRICS, WEBHOOK_KEY
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.routes import add_routes
from calmirror.daemon.webhook import PATH, RateLimiter, make_token
from calmirror.emulator import Emulator
from calmirror.engine import SyncSummary, Trigger
from tests.emulator_helpers import WebhookReceiver, new_client

KEY = "k" * 32
ALICE = "alice@example.com"
WATCHED = CalendarRef(account_id=1, calendar_id=ALICE)


@dataclass
class Daemon:
    """The daemon's webhook route over a real channel manager; the engine's runs are recorded."""

    http: TestClient[web.Request, web.Application]
    channels: ChannelManager
    reconciled: list[CalendarRef] = field(default_factory=list)
    ran: asyncio.Event = field(default_factory=asyncio.Event)

    async def notify(
        self, ref: CalendarRef, channel_id: str = "ch-1", body: Any = None, **headers: str
    ) -> int:
        """POST an authentic `exists` notification (with a body, if given); return the status."""
        sent = {
            "X-Goog-Channel-ID": channel_id,
            "X-Goog-Resource-ID": "res-1",
            "X-Goog-Resource-State": "exists",
            "X-Goog-Channel-Token": make_token(KEY, channel_id, ref),
        }
        async with self.http.post(PATH, headers=sent | headers, data=body) as response:
            return response.status


@asynccontextmanager
async def daemon(
    emulator: Emulator, *, sources: Sequence[CalendarRef] = (WATCHED,), burst: int = 20
) -> AsyncIterator[Daemon]:
    """Serve the routes as create_app wires them, with a limiter of `burst` that does not refill."""
    client = new_client(emulator, ALICE)
    channels = ChannelManager({1: client}, sources, key=KEY, base_url=None, ttl_seconds=3600)

    async def changed(refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        served.reconciled.extend(refs)
        served.ran.set()
        return SyncSummary(flows={}, targets=())

    async def reconcile_all(trigger: Trigger) -> SyncSummary:
        return SyncSummary(flows={}, targets=())

    app = web.Application()
    app[METRICS] = DaemonMetrics()
    app[CHANNELS], app[WEBHOOK_KEY] = channels, KEY
    app[DISPATCHER] = Dispatcher(changed, reconcile_all, app[METRICS])
    app[LIMITER] = RateLimiter(rate=0.0, burst=burst, clock=time.monotonic)
    add_routes(app)
    async with TestClient(TestServer(app)) as http:
        served = Daemon(http, channels)
        try:
            yield served
        finally:
            await app[DISPATCHER].close(1.0)
            await channels.stop_all(1.0)
            await client.aclose()


async def test_a_rate_limited_authentic_notification_is_coalesced_not_dropped(emulator: Emulator) -> None:
    """Over the bucket the change is still served (later, with others), and Google is not asked to retry."""
    async with daemon(emulator, burst=0) as served:
        assert await served.notify(WATCHED) == 200
        await asyncio.wait_for(served.ran.wait(), 3)
        assert served.reconciled == [WATCHED]


async def test_an_authentic_channel_on_a_calendar_no_flow_reads_is_stopped_once(
    emulator: Emulator, webhook: WebhookReceiver
) -> None:
    """A channel left from an earlier configuration is refused, and stopped, instead of notifying forever."""
    async with daemon(
        emulator, sources=(CalendarRef(account_id=1, calendar_id="team@example.com"),)
    ) as served:
        token = make_token(KEY, "old-ch", WATCHED)
        client = served.channels.clients[1]
        old = await client.watch_events(
            ALICE, channel_id="old-ch", address=webhook.url, token=token, ttl_seconds=3600
        )
        resource = {"X-Goog-Resource-ID": old.resource_id}
        assert await served.notify(WATCHED, "old-ch", **resource) == 403
        assert await served.notify(WATCHED, "old-ch", **resource) == 403
        await served.channels.stop_all(2.0)  # waits for the background stop
        assert emulator.push.channels == {}
        stops = emulator.requests.calls_of("calendar.channels.stop")
        assert [c.status for c in stops] == [204]
        assert served.reconciled == []


async def test_a_body_over_4_kib_sent_slowly_in_chunks_is_refused(emulator: Emulator) -> None:
    """The size check reads until the limit or the end, not just what happens to be buffered."""

    async def slowly() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 1024
            await asyncio.sleep(0.05)

    async with daemon(emulator) as served:
        assert await served.notify(WATCHED, body=slowly()) == 413
        assert served.reconciled == []


async def test_a_body_that_never_ends_is_refused_at_the_read_deadline(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sender that trickles its body cannot hold the handler."""
    monkeypatch.setattr(routes, "BODY_SECONDS", 0.2)

    async def stalled() -> AsyncIterator[bytes]:
        yield b"x"
        await asyncio.sleep(2)

    async with daemon(emulator) as served:
        async with asyncio.timeout(1.5):
            assert await served.notify(WATCHED, body=stalled()) == 413
        assert served.reconciled == []
