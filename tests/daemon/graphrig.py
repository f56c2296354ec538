"""Graph push on loopback: the Graph emulator really POSTs to the daemon's webhook route, served for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from calmirror.config import CalendarRef
from calmirror.daemon.dispatch import Dispatcher
from calmirror.daemon.graphhook import PATH
from calmirror.daemon.graphroute import microsoft_graph_webhook
from calmirror.daemon.keys import DISPATCHER, LIMITER, METRICS, SUBSCRIPTIONS
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.subscriptions import SubscriptionManager
from calmirror.daemon.webhook import RateLimiter
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from calmirror.emulator.graph.store import GraphStore
from calmirror.engine import SyncSummary, Trigger
from calmirror.microsoft import GraphAccess, GraphClient, MicrosoftCalendars
from harness.processes import free_port

DANA = "dana@contoso.com"  # the Microsoft mailbox the daemon tests act for

ALICE = "alice@example.com"
KEY = "graph-push-test-key-of-32-chars!"
SOURCE = CalendarRef(account_id=1, calendar_id="primary")


@dataclass
class Rig:
    """The parts of one test: the emulator, the daemon-side route and manager, and what was read."""

    emulator: GraphEmulator
    client: GraphClient
    session: aiohttp.ClientSession
    app: web.Application
    url: str
    answers: list[int] = field(default_factory=list)  # statuses of every Graph answer (the requests made)
    reads: list[list[str]] = field(default_factory=list)  # subjects each delta read found

    @property
    def manager(self) -> SubscriptionManager:
        """The daemon's subscription manager."""
        return self.app[SUBSCRIPTIONS]

    def metric(self, name: str, **labels: str) -> float:
        """A sample of the daemon's metrics."""
        value = self.app[METRICS].registry.get_sample_value(name, labels)
        return value or 0.0

    async def read(self, refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        """What the engine does for a notified calendar, as far as Graph sees it: one delta read."""
        now = datetime.now(UTC)
        window = {"startDateTime": now.isoformat(), "endDateTime": (now + timedelta(days=30)).isoformat()}
        page = await self.client.request("GET", "/me/calendarView/delta", params=window)
        self.reads.append([item.get("subject", "") for item in page["value"]])
        return SyncSummary({}, ())

    async def post(self, body: bytes, **query: str) -> tuple[int, str]:
        """POST raw bytes to the daemon's webhook as an outsider would."""
        async with self.session.post(self.url + PATH, data=body, params=query) as response:
            return response.status, await response.text()


def meeting(subject: str, days: int = 1) -> dict[str, Any]:
    """An event body starting `days` from now."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    end = start + timedelta(hours=1)
    return {
        "subject": subject,
        "start": {"dateTime": start.replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
    }


def add_event(store: GraphStore, subject: str) -> str:
    """Write an event into alice's default calendar as Outlook would (the store notifies subscriptions)."""
    event, _ = store.insert(store.calendar(ALICE, None), meeting(subject))
    return event.id


@asynccontextmanager
async def graph_rig(
    *, ttl_seconds: int = 3600, allow_http: bool = True, key: str = KEY, path_suffix: str = ""
) -> AsyncIterator[Rig]:
    """Start the emulator and the daemon's webhook route (not yet subscribed); tear both down after."""
    emulator = await start_graph_emulator(users=[ALICE], allow_http_webhooks=allow_http)
    port = free_port()
    session = aiohttp.ClientSession()
    access = GraphAccess(
        account_id=1,
        email=ALICE,
        client_id=emulator.client.client_id,
        client_secret=emulator.client.client_secret,
        refresh_token=emulator.refresh_tokens[ALICE],
        graph_root=emulator.graph_root,
        login_url=emulator.login_root,
    )
    client = GraphClient(access)
    app = web.Application(client_max_size=64 * 1024)
    metrics = DaemonMetrics()
    base = f"http://127.0.0.1:{port}{path_suffix}"
    calendars = {1: MicrosoftCalendars(client)}
    manager = SubscriptionManager(calendars, [SOURCE], key=key, base_url=base, ttl_seconds=ttl_seconds)
    rig = Rig(emulator, client, session, app, f"http://127.0.0.1:{port}")
    emulator.hooks.append(lambda _name, status, _body: rig.answers.append(status))
    app[METRICS], app[LIMITER], app[SUBSCRIPTIONS] = (
        metrics,
        RateLimiter(clock=asyncio.get_running_loop().time),
        manager,
    )

    async def everything(trigger: Trigger) -> SyncSummary:
        return await rig.read([SOURCE], trigger)

    app[DISPATCHER] = dispatcher = Dispatcher(rig.read, everything, metrics)
    manager.catch_up = lambda ref: dispatcher.calendar_changed(ref, "webhook")
    app.router.add_post(PATH, microsoft_graph_webhook)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield rig
    finally:
        await app[DISPATCHER].close(1.0)
        await manager.stop_all(2.0)
        await runner.cleanup()
        await client.aclose()
        await emulator.stop()
        await session.close()


def dana_env(graph: GraphEmulator, source_calendar: str = "primary") -> dict[str, str]:
    """Dana as account 3 (delegated, on the emulator's app registration) and a flow from her into bob's."""
    return {
        "MICROSOFT_GRAPH_ROOT_URL": graph.graph_root,
        "MICROSOFT_LOGIN_URL": graph.login_root,
        "MICROSOFT_CLIENT_ID": graph.client.client_id,
        "MICROSOFT_CLIENT_SECRET": graph.client.client_secret,
        "MICROSOFT_ACCOUNT_3_EMAIL": DANA,
        "MICROSOFT_ACCOUNT_3_REFRESH_TOKEN": graph.refresh_tokens[DANA],
        "SYNC_FLOW_2_NAME": "outlook",
        "SYNC_FLOW_2_SOURCE_ACCOUNT_ID": "3",
        "SYNC_FLOW_2_SOURCE_CALENDAR_ID": source_calendar,
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_2_TARGET_CALENDAR_ID": "primary",
    }
