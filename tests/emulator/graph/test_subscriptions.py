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

from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.graph.subscriptions import iso
from tests.emulator.graph.conftest import GraphClient

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
    validations: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one POST as a Graph listener does."""
        if "validationToken" in request.query:
            token = request.query["validationToken"]
            self.validations.append(token)
            return web.Response(text=token if self.echo else "no", content_type="text/plain")
        self.items.extend((await request.json())["value"])
        return web.Response(status=202)


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """A running listener."""
    found = Listener()
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
