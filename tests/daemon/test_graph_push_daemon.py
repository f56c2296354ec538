"""Graph push through the whole daemon: subscribed at start, notified meetings mirrored, /health shows it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from calmirror.config import CalendarRef
from calmirror.daemon.graphhook import PATH
from calmirror.daemon.keys import SCHEDULER, SUBSCRIPTIONS
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from tests.daemon.graphrig import DANA, dana_env
from tests.daemon.inprocess import serving_app
from tests.daemon.processes import BOB, EmulatorProcess, block_starts, eventually

pytestmark = pytest.mark.slow

SOURCE = CalendarRef(account_id=3, calendar_id="primary")


async def graph_emulator(*, allow_http: bool) -> GraphEmulator:
    """A Graph emulator with dana's mailbox."""
    return await start_graph_emulator(users=(DANA,), allow_http_webhooks=allow_http)


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A Graph emulator that may notify the daemon on loopback (http)."""
    emulator = await graph_emulator(allow_http=True)
    try:
        yield emulator
    finally:
        await emulator.stop()


def meeting(graph: GraphEmulator, start: datetime) -> None:
    """Put an hour's meeting with a colleague into dana's default calendar."""
    body: dict[str, Any] = {
        "subject": "Planning",
        "start": {"dateTime": f"{start:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        "end": {"dateTime": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "none"},
                "emailAddress": {"address": "erin@contoso.com"},
            }
        ],
    }
    graph.store.insert(graph.store.calendar(DANA, None), body)


def hour(days: int) -> datetime:
    """A whole hour `days` days from now."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


async def outlook_flow(url: str) -> dict[str, Any]:
    """The outlook flow's entry in /health."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as response:
        health = await response.json()
    flow: dict[str, Any] = next(flow for flow in health["flows"] if flow["name"] == "outlook")
    return flow


async def metrics(url: str) -> str:
    """The daemon's /metrics text."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        return await response.text()


async def test_a_notification_mirrors_the_meeting_and_shutdown_deletes_the_subscription(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """The poll runs once a day; the block still appears within seconds, through Graph's notification."""
    async with serving_app(emulator_process, DaemonOptions(), dana_env(graph)) as (app, url):
        subscriptions = list(graph.subscriptions.subscriptions.values())
        assert len(subscriptions) == 1
        assert subscriptions[0].notification_url == f"{url}{PATH}"
        flow = await outlook_flow(url)
        assert flow["polling_reason"] is None
        assert flow["channel_expires"].startswith(str(subscriptions[0].expiration.year))
        assert app[SCHEDULER].get_job("poll").trigger.interval == timedelta(days=1)

        served = len(graph.requests.http)
        forged = {"subscriptionId": subscriptions[0].id, "clientState": "v1.forged", "changeType": "created"}
        body = json.dumps({"value": [forged]})
        async with aiohttp.ClientSession() as session, session.post(url + PATH, data=body) as response:
            assert response.status == 403
        assert len(graph.requests.http) == served  # the forged one asked nothing of Graph

        start = hour(1)
        meeting(graph, start)

        async def mirrored() -> bool:
            return await block_starts(emulator_process, BOB) == [start]

        await eventually(mirrored, 15, "dana's meeting in bob's calendar through the notification")
        assert 'calmirror_webhook_notifications_total{state="created"} 1.0' in await metrics(url)
    assert graph.subscriptions.subscriptions == {}  # deleted at shutdown


async def test_a_refused_subscription_leaves_the_flow_polled_and_health_says_why(
    emulator_process: EmulatorProcess,
) -> None:
    """Graph refuses the http webhook address: no subscription, and /health names the refusal."""
    graph = await graph_emulator(allow_http=False)
    try:
        async with serving_app(emulator_process, DaemonOptions(), dana_env(graph)) as (_, url):
            flow = await outlook_flow(url)
            assert flow["channel_expires"] == "polling only"
            assert flow["polling_reason"].startswith("Microsoft Graph refused the subscription (400")
            assert 'calmirror_flow_polling_only{flow="outlook"} 1.0' in await metrics(url)
        assert graph.subscriptions.subscriptions == {}
    finally:
        await graph.stop()


async def test_a_change_push_missed_is_counted_for_a_microsoft_source(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """A subscription Graph lost silently: the poll finds the change and counts it as missed."""
    options = DaemonOptions(push_grace=timedelta(0))
    async with serving_app(emulator_process, options, dana_env(graph)) as (app, url):
        assert app[SUBSCRIPTIONS].expiry(SOURCE) is not None
        graph.subscriptions.subscriptions.clear()  # Graph stops notifying; the daemon cannot tell
        meeting(graph, hour(1))
        await app[SCHEDULER].get_job("poll").func()  # the main poll, as its schedule would run it
        assert 'calmirror_push_missed_changes_total{flow="outlook"} 1.0' in await metrics(url)


async def test_the_renewal_job_renews_the_subscription_and_push_goes_on(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """With an 8-second lifetime the scheduler's renewal job PATCHes the same subscription; push goes on."""
    async with serving_app(emulator_process, DaemonOptions(channel_ttl_seconds=8), dana_env(graph)) as (
        app,
        _,
    ):
        (sub_id,) = graph.subscriptions.subscriptions
        first_expiry = graph.subscriptions.subscriptions[sub_id].expiration
        renew = app[SCHEDULER].get_job("renew").func

        async def renewed() -> bool:
            await renew()
            live = graph.subscriptions.subscriptions.get(sub_id)
            return live is not None and live.expiration > first_expiry

        await eventually(renewed, 20, "the renewal job's PATCH")
        start = hour(2)
        meeting(graph, start)

        async def mirrored() -> bool:
            return await block_starts(emulator_process, BOB) == [start]

        await eventually(mirrored, 15, "a meeting notified through the renewed subscription")
        assert list(graph.subscriptions.subscriptions) == [sub_id]
