"""Graph subscriptions in the emulator: validation, CRUD, change and lifecycle notifications really POSTed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from calmirror.emulator import start_emulator
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.graph.subscriptions import iso
from tests.emulator.graph.conftest import GraphClient, token_for
from tests.emulator.graph.test_recurrence import WEEKLY

EVENT = {
    "subject": "Standup",
    "start": {"dateTime": "2026-12-10T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-10T09:30:00", "timeZone": "UTC"},
}


@dataclass
class Listener:
    """A webhook listener on loopback: echoes validations (unless told not to) and keeps notifications."""

    url: str = ""
    echo: bool = True
    failures: int = 0  # notifications answered 500 before the listener works
    release: asyncio.Event = field(default_factory=asyncio.Event)
    validations: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one POST as a Graph listener does."""
        if "validationToken" in request.query:
            token = request.query["validationToken"]
            self.validations.append(token)
            return web.Response(text=token if self.echo else "no", content_type="text/plain")
        await self.release.wait()
        if self.failures:
            self.failures -= 1
            return web.Response(status=500)
        self.items.extend((await request.json())["value"])
        return web.Response(status=202)


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """A running listener."""
    found = Listener()
    found.release.set()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield found
    await runner.cleanup()


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str, seconds: float = 10) -> None:
    """Wait for a condition with a deadline."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


def request(listener: Listener, **extra: Any) -> dict[str, Any]:
    """A subscription request on alice's default calendar's events."""
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": listener.url,
        "lifecycleNotificationUrl": listener.url,
        "resource": "/me/events",
        "expirationDateTime": iso(datetime.now(UTC) + timedelta(hours=1)),
        "clientState": "secret-state",
        **extra,
    }


async def test_create_validates_then_notifies_each_change(
    graph: GraphEmulator, alice: GraphClient, listener: Listener
) -> None:
    """Creation POSTs the validation token first; every event write then POSTs a notification."""
    graph.subscriptions.allow_http = True
    created = await alice.call("POST", "/subscriptions", json=request(listener))
    assert created.status == 201, created.body
    sub = created.body
    assert len(listener.validations) == 1
    assert sub["clientState"] == "secret-state"
    assert sub["applicationId"] == graph.client.client_id
    event = (await alice.call("POST", "/me/events", json=EVENT)).body
    await alice.call("PATCH", f"/me/events/{event['id']}", json={"subject": "Later"})
    await alice.call("DELETE", f"/me/events/{event['id']}")
    await eventually(lambda: len(listener.items) == 3, "three notifications")
    assert [i["changeType"] for i in listener.items] == ["created", "updated", "deleted"]
    first = listener.items[0]
    assert first["subscriptionId"] == sub["id"]
    assert first["clientState"] == "secret-state"
    assert first["resourceData"]["id"] == event["id"]
    assert first["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
    listed = await alice.call("GET", "/subscriptions")
    assert [s["id"] for s in listed.body["value"]] == [sub["id"]]


async def test_refusals(graph: GraphEmulator, alice: GraphClient, listener: Listener) -> None:
    """http without the flag, a failed echo, a lifetime over 10,080 minutes: 400 and no subscription."""
    answer = await alice.call("POST", "/subscriptions", json=request(listener))
    assert answer.status == 400
    assert "HTTPS" in answer.body["error"]["message"]
    graph.subscriptions.allow_http = True
    listener.echo = False
    answer = await alice.call("POST", "/subscriptions", json=request(listener))
    assert (answer.status, answer.body["error"]["code"]) == (400, "ValidationError")
    listener.echo = True
    too_long = iso(datetime.now(UTC) + timedelta(minutes=10_081))
    answer = await alice.call("POST", "/subscriptions", json=request(listener, expirationDateTime=too_long))
    assert (answer.status, answer.body["error"]["code"]) == (400, "ExtensionError")
    answer = await alice.call("POST", "/subscriptions", json=request(listener, resource="me/messages"))
    assert answer.status == 400
    assert (await alice.call("GET", "/subscriptions")).body == {"value": []}


async def test_renew_delete_and_expiry_stop_notifications(
    graph: GraphEmulator, alice: GraphClient, listener: Listener
) -> None:
    """PATCH moves the expiry; a deleted or expired subscription sends nothing more."""
    graph.subscriptions.allow_http = True
    soon = iso(datetime.now(UTC) + timedelta(seconds=1))
    sub = (await alice.call("POST", "/subscriptions", json=request(listener, expirationDateTime=soon))).body
    later = iso(datetime.now(UTC) + timedelta(hours=2))
    renewed = await alice.call("PATCH", f"/subscriptions/{sub['id']}", json={"expirationDateTime": later})
    assert renewed.status == 200
    assert renewed.body["expirationDateTime"] == later
    assert (await alice.call("DELETE", f"/subscriptions/{sub['id']}")).status == 204
    assert (await alice.call("GET", f"/subscriptions/{sub['id']}")).status == 404
    sub = (await alice.call("POST", "/subscriptions", json=request(listener, expirationDateTime=soon))).body

    async def expired() -> bool:
        return (await alice.call("GET", f"/subscriptions/{sub['id']}")).status == 404

    await eventually(expired, "the short subscription expires")
    await alice.call("POST", "/me/events", json=EVENT)
    await graph.subscriptions.drain()
    assert listener.items == []


async def test_lifecycle_notifications(graph: GraphEmulator, alice: GraphClient, listener: Listener) -> None:
    """The control route sends each lifecycle event; subscriptionRemoved and a revoke remove it."""
    graph.subscriptions.allow_http = True
    sub = (await alice.call("POST", "/subscriptions", json=request(listener))).body
    async with aiohttp.ClientSession() as session:
        for event in ("reauthorizationRequired", "missed", "subscriptionRemoved"):
            url = f"{graph.login_root}/_emulator/graph/subscriptions/{sub['id']}/lifecycle/{event}"
            async with session.post(url) as response:
                assert response.status == 204
    await eventually(lambda: len(listener.items) == 3, "three lifecycle notifications")
    assert [i["lifecycleEvent"] for i in listener.items] == [
        "reauthorizationRequired",
        "missed",
        "subscriptionRemoved",
    ]
    assert all(i["clientState"] == "secret-state" for i in listener.items)
    assert (await alice.call("GET", "/subscriptions")).body == {"value": []}
    again = (await alice.call("POST", "/subscriptions", json=request(listener))).body
    graph.revoke("alice@example.com")
    await eventually(lambda: len(listener.items) == 4, "subscriptionRemoved on revoke")
    assert listener.items[-1]["subscriptionId"] == again["id"]
    assert again["id"] not in graph.subscriptions.subscriptions


async def test_notifications_never_hold_the_api_answer_and_are_retried(
    graph: GraphEmulator, alice: GraphClient, listener: Listener
) -> None:
    """A write answers while its notification is still held by the listener; a 500 is retried."""
    graph.subscriptions.allow_http = True
    await alice.call("POST", "/subscriptions", json=request(listener))
    listener.release.clear()
    listener.failures = 2
    created = await asyncio.wait_for(alice.call("POST", "/me/events", json=EVENT), 10)
    assert created.status == 201
    assert listener.items == []
    listener.release.set()
    await eventually(lambda: len(listener.items) == 1, "the notification after two 500s")
    statuses = [d.status for d in graph.subscriptions.deliveries if d.kind == "created"]
    assert statuses == [500, 500, 202]


async def test_occurrence_edits_notify_the_series(
    graph: GraphEmulator, alice: GraphClient, listener: Listener
) -> None:
    """Changing or cancelling one occurrence notifies an update of its series."""
    graph.subscriptions.allow_http = True
    await alice.call("POST", "/subscriptions", json=request(listener))
    master = (await alice.call("POST", "/me/events", json=WEEKLY)).body
    window = "startDateTime=2026-12-07T00:00:00Z&endDateTime=2026-12-21T00:00:00Z"
    first, second, _ = (await alice.call("GET", f"/me/events/{master['id']}/instances?{window}")).body[
        "value"
    ]
    await alice.call("PATCH", f"/me/events/{first['id']}", json={"subject": "Moved"})
    await alice.call("DELETE", f"/me/events/{second['id']}")
    await eventually(lambda: len(listener.items) == 3, "created, then two updates of the series")
    assert [(i["changeType"], i["resourceData"]["id"]) for i in listener.items] == [
        ("created", master["id"]),
        ("updated", master["id"]),
        ("updated", master["id"]),
    ]


async def test_mounted_in_calmirror_emulator(listener: Listener) -> None:
    """Inside `calmirror emulator` (http webhooks allowed there) subscriptions work; a revoke removes them."""
    emulator = await start_emulator(accounts=["ann@example.com"], microsoft_accounts=["mia@example.com"])
    try:
        graph = emulator.graph
        assert graph is not None
        async with aiohttp.ClientSession() as session:
            mia = GraphClient(
                session, graph, (await token_for(session, graph, "mia@example.com"))["access_token"]
            )
            created = await mia.call("POST", "/subscriptions", json=request(listener))
            assert created.status == 201
            emulator.revoke("mia@example.com")
            await eventually(lambda: len(listener.items) == 1, "subscriptionRemoved after the revoke")
        assert listener.items[0]["lifecycleEvent"] == "subscriptionRemoved"
        assert graph.subscriptions.subscriptions == {}
    finally:
        await emulator.stop()


async def test_a_calendar_resource_without_leading_slash_watches_that_calendar_only(
    graph: GraphEmulator, alice: GraphClient, listener: Listener
) -> None:
    """`me/calendars/{id}/events` notifies changes there, not in the mailbox's other calendars."""
    graph.subscriptions.allow_http = True
    team = graph.store.create_calendar("alice@example.com", "Team")
    resource = f"me/calendars/{team.id}/events"
    created = await alice.call("POST", "/subscriptions", json=request(listener, resource=resource))
    assert created.body["resource"] == resource
    await alice.call("POST", "/me/events", json=EVENT)  # the default calendar
    inside = (await alice.call("POST", f"/me/calendars/{team.id}/events", json=EVENT)).body
    await graph.subscriptions.drain()
    assert [i["resourceData"]["id"] for i in listener.items] == [inside["id"]]
