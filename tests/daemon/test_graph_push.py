"""Graph push over real HTTP: the emulator validates and notifies the daemon's route; it reads and renews."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from calmirror.config import CalendarRef
from calmirror.daemon.graphhook import (
    PATH,
    make_client_state,
    parse_items,
    validation_echo,
    verify_client_state,
)
from calmirror.daemon.routes import PathOnlyAccessLogger
from calmirror.emulator.graph.subscriptions import iso
from harness.processes import eventually
from tests.daemon.graphrig import KEY, SOURCE, Rig, add_event, graph_rig

TOKEN = "Validation: Testing client application reachability for subscription Request-Id: 1f2e-3d4c"


def notification(sub_id: str, state: str | None, **extra: str) -> bytes:
    """A Graph change notification body for one subscription."""
    item = {"subscriptionId": sub_id, "clientState": state, "changeType": "updated", **extra}
    return json.dumps({"value": [item]}).encode()


async def subscribed(rig: Rig) -> str:
    """Subscribe the source calendar and return the subscription id."""
    await rig.manager.start()
    assert rig.manager.polling_reason(SOURCE) is None, rig.manager.polling_reason(SOURCE)
    return rig.manager.live[SOURCE].id


def test_client_state_and_body_checks() -> None:
    """Only this key's HMAC for this calendar verifies; junk bodies and tokens are refused."""
    state = make_client_state(KEY, SOURCE)
    assert len(state) <= 128  # Graph's limit on clientState
    assert verify_client_state(KEY, SOURCE, state)
    assert not verify_client_state(KEY, CalendarRef(account_id=2, calendar_id="primary"), state)
    assert not verify_client_state("another-key-of-32-characters-xxx", SOURCE, state)
    assert not verify_client_state(KEY, SOURCE, None)
    assert validation_echo(TOKEN) == TOKEN
    for bad in ("", "a\nb", "x" * 2000, "caf\u00e9"):
        assert validation_echo(bad) is None
    for junk in (b"{", b"[]", b'{"value": []}', b'{"value": [1]}', b'{"value": [{"subscriptionId": 3}]}'):
        assert parse_items(junk) is None
    exploded = parse_items(notification("s", None, changeType="exploded"))
    assert exploded is not None
    assert [item.event for item in exploded.items] == [
        None
    ]  # Graph's shape, an event calmirror does not know


async def test_validation_is_echoed_at_once_and_costs_nothing() -> None:
    """A validation POST gets its token back as text/plain; nothing is asked of Graph."""
    async with graph_rig() as rig:
        async with rig.session.post(
            rig.url + "/api/v1/webhooks/microsoft-graph", params={"validationToken": TOKEN}, data=b""
        ) as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            assert await response.text() == TOKEN
        assert (await rig.post(b"", validationToken="bad\x01token"))[0] == 400
        assert rig.answers == []
        assert rig.reads == []


async def test_a_change_is_read_through_the_notification() -> None:
    """Subscribing passes Graph's validation through the route; a change then causes a delta read."""
    async with graph_rig() as rig:
        await subscribed(rig)
        assert rig.emulator.subscriptions.deliveries[0].kind == "validation"
        add_event(rig.emulator.store, "Planning")

        async def read() -> bool:
            return any("Planning" in subjects for subjects in rig.reads)

        await eventually(read, 10, "a delta read that finds the new meeting")
        assert rig.metric("calmirror_webhook_notifications_total", state="created") == 1


async def test_forged_unknown_oversized_and_junk_cost_nothing() -> None:
    """Forged clientState, unknown subscription, oversized or junk body: refused, no request, no read."""
    async with graph_rig() as rig:
        sub_id = await subscribed(rig)
        before = len(rig.answers)
        ours = make_client_state(KEY, SOURCE)
        forged = make_client_state("another-key-of-32-characters-xxx", SOURCE)
        assert (await rig.post(notification(sub_id, forged)))[0] == 403
        assert (await rig.post(notification(sub_id, None)))[0] == 403
        assert (await rig.post(notification("a-dead-processes-subscription", ours)))[0] == 403
        assert (await rig.post(b"x" * 70_000))[0] == 413
        assert (await rig.post(b"{not json"))[0] == 400
        assert (await rig.post(json.dumps({"value": [{}] * 500}).encode()))[0] == 400
        add_event(rig.emulator.store, "Real")  # an authentic notification after them all

        async def read() -> bool:
            return bool(rig.reads)

        await eventually(read, 10, "the authentic notification's read")
        assert len(rig.reads) == 1  # the forged ones queued nothing before it
        assert len(rig.answers) == before + 1  # that one delta read, and nothing else
        assert rig.metric("calmirror_webhook_rejections_total", reason="bad_token") == 2
        assert rig.metric("calmirror_webhook_rejections_total", reason="unknown_channel") == 1
        assert rig.metric("calmirror_webhook_rejections_total", reason="body_too_large") == 1
        assert rig.metric("calmirror_webhook_rejections_total", reason="bad_body") == 2


async def test_a_replayed_notification_costs_one_coalesced_read_at_most() -> None:
    """Replaying an authentic notification many times reads the calendar, but never once per replay."""
    async with graph_rig() as rig:
        sub_id = await subscribed(rig)
        body = notification(sub_id, make_client_state(KEY, SOURCE))
        for _ in range(40):
            assert (await rig.post(body))[0] == 202

        async def settled() -> bool:
            return (
                bool(rig.reads)
                and rig.metric("calmirror_webhook_rejections_total", reason="rate_limited") > 0
            )

        await eventually(settled, 10, "reads and rate limiting")
        assert len(rig.reads) < 40


async def test_renewal_keeps_notifications_flowing() -> None:
    """Under a 6-second lifetime the same subscription is renewed (PATCH) and keeps notifying."""
    async with graph_rig(ttl_seconds=6) as rig:
        sub_id = await subscribed(rig)
        expiries: list[datetime] = [rig.manager.live[SOURCE].expiration]
        for n in range(3):
            add_event(rig.emulator.store, f"Meeting {n}")

            async def renewed_and_read(n: int = n) -> bool:
                await rig.manager.renew_due()  # what the scheduler's renewal job runs
                moved = rig.manager.live[SOURCE].expiration > expiries[-1]
                return moved and any(f"Meeting {n}" in subjects for subjects in rig.reads)

            await eventually(renewed_and_read, 15, f"renewal {n} and the read of meeting {n}")
            expiries.append(rig.manager.live[SOURCE].expiration)
        assert rig.manager.live[SOURCE].id == sub_id
        assert list(rig.emulator.subscriptions.subscriptions) == [sub_id]


async def test_a_dead_processes_subscriptions_are_deleted_by_the_next_start() -> None:
    """The next start deletes our earlier subscription, and leaves another deployment's alone."""
    async with graph_rig() as rig:
        dead = await subscribed(rig)
        rig.manager.live.clear()  # the process died: the next one remembers nothing
        rig.manager._by_id.clear()
        later = iso(datetime.now(UTC) + timedelta(hours=1))
        other = await rig.client.request(
            "POST",
            "/subscriptions",
            json={
                "changeType": "updated",
                "notificationUrl": rig.manager.address,
                "resource": "/me/events",
                "expirationDateTime": later,
                "clientState": make_client_state("another-deployments-key-32-chars", SOURCE),
            },
        )
        kept = await subscribed(rig)
        assert kept != dead
        assert set(rig.emulator.subscriptions.subscriptions) == {kept, other["id"]}


async def test_lifecycle_notifications_are_each_handled() -> None:
    """reauthorizationRequired renews, subscriptionRemoved makes a new one, missed reads the calendar."""
    async with graph_rig() as rig:
        sub_id = await subscribed(rig)
        hub = rig.emulator.subscriptions
        first_expiry = hub.subscriptions[sub_id].expiration
        hub.lifecycle(sub_id, "reauthorizationRequired")

        async def renewed() -> bool:
            return hub.subscriptions[sub_id].expiration > first_expiry

        await eventually(renewed, 10, "a renewal after reauthorizationRequired")
        hub.lifecycle(sub_id, "missed")

        async def read() -> bool:
            return bool(rig.reads)

        await eventually(read, 10, "a delta read after missed")
        hub.lifecycle(sub_id, "subscriptionRemoved")

        async def recreated() -> bool:
            live = rig.manager.live.get(SOURCE)
            return live is not None and live.id != sub_id and list(hub.subscriptions) == [live.id]

        await eventually(recreated, 10, "a new subscription after subscriptionRemoved")
        for event in ("reauthorizationRequired", "missed", "subscriptionRemoved"):
            assert rig.metric("calmirror_webhook_notifications_total", state=event) == 1


async def test_every_subscription_is_deleted_on_shutdown() -> None:
    """stop_all deletes what the process made, within its bound."""
    async with graph_rig() as rig:
        await subscribed(rig)
        await rig.manager.stop_all(5.0)
        assert rig.emulator.subscriptions.subscriptions == {}
        assert rig.manager.expiry(SOURCE) is None


async def test_a_refused_subscription_leaves_the_calendar_polled_and_says_why() -> None:
    """A listener that fails Graph's validation: no subscription, and the polling reason names the address."""
    async with graph_rig(path_suffix="/wrong-prefix") as rig:
        await rig.manager.start()
        assert rig.manager.expiry(SOURCE) is None
        reason = rig.manager.polling_reason(SOURCE)
        assert reason is not None
        assert "webhook address refused by Microsoft Graph" in reason
        assert "WEBHOOK_BASE_URL" in reason
    async with graph_rig(allow_http=False) as rig:
        await rig.manager.start()
        assert rig.manager.polling_reason(SOURCE) == (
            "Microsoft Graph refused the subscription (400 InvalidRequest)"
        )


def test_only_accepted_graph_notifications_are_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """Validation echoes and refusals (anyone can send them) stay at DEBUG; the query is never written."""
    logger = logging.getLogger("calmirror.test.access")
    access = PathOnlyAccessLogger(logger, "")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        for status in (200, 202, 403):
            request = make_mocked_request("POST", f"{PATH}?validationToken=query-secret")
            access.log(request, web.Response(status=status), 0.01)
    levels = [(record.levelno, record.getMessage().split()[-2]) for record in caplog.records]
    assert levels == [(logging.DEBUG, "200"), (logging.INFO, "202"), (logging.DEBUG, "403")]
    assert "query-secret" not in caplog.text


async def test_a_removal_and_renewals_at_once_make_one_subscription() -> None:
    """subscriptionRemoved while renewals run: the calendar gets one new subscription, not one each."""
    async with graph_rig() as rig:
        await subscribed(rig)
        hub = rig.emulator.subscriptions
        hub.subscriptions.clear()  # Graph removed it
        rig.manager.lifecycle(rig.manager.live[SOURCE], "subscriptionRemoved")  # as the route does
        assert all(await asyncio.gather(rig.manager.ensure(SOURCE), rig.manager.ensure(SOURCE)))
        assert list(hub.subscriptions) == [rig.manager.live[SOURCE].id]
