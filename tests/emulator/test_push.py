"""Watch channels and webhook delivery as Google documents them (push guide, events.watch)."""

from __future__ import annotations

import asyncio
import time
import uuid
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator, start_emulator
from tests.emulator_helpers import WebhookReceiver, calendar_service

ALICE = "alice@example.com"
BOB = "bob@example.com"


def change(emulator: Emulator, calendar_id: str = ALICE) -> None:
    """Commit a new event to a calendar, which notifies the store's subscribers."""
    event = {"id": uuid.uuid4().hex, "status": "confirmed", "summary": "x"}
    emulator.store.commit(calendar_id, event)


async def watch(emulator: Emulator, address: str, *, email: str = ALICE, **extra: Any) -> dict[str, Any]:
    """Open a channel on the account's primary calendar through the real client."""
    body = {"id": str(uuid.uuid4()), "type": "web_hook", "address": address, **extra}
    svc = calendar_service(emulator, email)
    answer: dict[str, Any] = await asyncio.to_thread(svc.events().watch(calendarId=email, body=body).execute)
    return answer


async def test_watch_answers_a_channel(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """events.watch answers kind api#channel with resourceId, resourceUri, token, expiration as ms string."""
    before = time.time() * 1000
    channel = await watch(emulator, webhook.url, token="target=t1")
    assert channel["kind"] == "api#channel"
    assert channel["token"] == "target=t1"
    assert channel["resourceId"]
    assert channel["resourceUri"].endswith(f"/calendars/{ALICE}/events")
    assert isinstance(channel["expiration"], str)
    assert abs(int(channel["expiration"]) - (before + 604800_000)) < 5000  # events.watch default ttl


async def test_sync_message_then_exists_messages(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """A `sync` message numbered 1 comes first, then `exists` per change, numbers rising with gaps."""
    channel = await watch(emulator, webhook.url, token="tok")
    await webhook.wait_for(1)
    change(emulator)
    change(emulator)
    received = await webhook.wait_for(3)
    states = [h["X-Goog-Resource-State"] for h in received]
    numbers = [int(h["X-Goog-Message-Number"]) for h in received]
    assert states == ["sync", "exists", "exists"]
    assert numbers[0] == 1
    assert numbers[1] - numbers[0] > 1
    assert sorted(numbers) == numbers
    assert numbers[2] - numbers[1] > 1
    for headers in received:
        assert headers["X-Goog-Channel-ID"] == channel["id"]
        assert headers["X-Goog-Channel-Token"] == "tok"
        assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
        assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
        expires = parsedate_to_datetime(headers["X-Goog-Channel-Expiration"])
        assert int(expires.timestamp()) == int(channel["expiration"]) // 1000
    assert webhook.bodies == [b"", b"", b""]


async def test_changes_elsewhere_do_not_notify(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """Events channels are per calendar: a change to another calendar sends nothing (push guide)."""
    await watch(emulator, webhook.url)
    await webhook.wait_for(1)
    change(emulator, BOB)
    await asyncio.sleep(0.1)
    await emulator.push.drain()
    assert len(webhook.received) == 1


async def test_http_address_rejected_unless_allowed(webhook: WebhookReceiver) -> None:
    """Real Google requires HTTPS: 400 push.webhookUrlNotHttps (push guide, practitioner reports)."""
    emulator = await start_emulator(accounts=[ALICE], allow_http_webhooks=False)
    try:
        with pytest.raises(HttpError) as caught:
            await watch(emulator, webhook.url)
    finally:
        await emulator.stop()
    assert caught.value.status_code == 400
    assert caught.value.error_details[0]["reason"] == "push.webhookUrlNotHttps"


async def test_channel_id_must_be_unique(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """Reusing a live channel id answers 400 channelIdNotUnique (practitioner reports, push guide)."""
    channel = await watch(emulator, webhook.url)
    with pytest.raises(HttpError) as caught:
        await watch(emulator, webhook.url, id=channel["id"])
    assert caught.value.error_details[0]["reason"] == "channelIdNotUnique"


async def test_channel_type_must_be_web_hook(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """Only `web_hook` (or `webhook`) channels exist for Calendar (discovery doc Channel.type)."""
    with pytest.raises(HttpError) as caught:
        await watch(emulator, webhook.url, type="email")
    assert caught.value.status_code == 400


async def test_stop_ends_notifications(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """channels.stop answers 204 and the channel sends nothing more; a second stop is 404 (push guide)."""
    channel = await watch(emulator, webhook.url)
    await webhook.wait_for(1)
    svc = calendar_service(emulator, ALICE)
    stop = svc.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]})
    assert await asyncio.to_thread(stop.execute) in ("", {})
    assert emulator.requests.calls_of("calendar.channels.stop")[-1].status == 204
    change(emulator)
    await emulator.push.drain()
    assert len(webhook.received) == 1
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(stop.execute)
    assert caught.value.status_code == 404


async def test_only_the_owner_may_stop(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """Only the user who created a channel may stop it; others get 404 (push guide)."""
    channel = await watch(emulator, webhook.url)
    svc = calendar_service(emulator, BOB)
    stop = svc.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]})
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(stop.execute)
    assert caught.value.status_code == 404
    assert channel["id"] in emulator.push.channels


async def test_watch_on_someone_elses_calendar_is_refused(
    emulator: Emulator, webhook: WebhookReceiver
) -> None:
    """Watching a calendar the account cannot read is refused like any other access (errors guide)."""
    svc = calendar_service(emulator, BOB)
    body = {"id": "c1", "type": "web_hook", "address": webhook.url}
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(svc.events().watch(calendarId=ALICE, body=body).execute)
    assert caught.value.status_code in (403, 404)


async def test_server_errors_are_retried(emulator: Emulator) -> None:
    """500/502/503/504 answers are retried with exponential backoff until success (push guide)."""
    emulator.push.retry_base_seconds = 0.01
    receiver = await WebhookReceiver([503, 500, 200]).start()
    try:
        await watch(emulator, receiver.url)
        received = await receiver.wait_for(3)
    finally:
        await receiver.stop()
    assert [h["X-Goog-Message-Number"] for h in received] == ["1", "1", "1"]
    assert [d.status for d in emulator.push.deliveries] == [503, 500, 200]


async def test_other_failures_are_not_retried(emulator: Emulator) -> None:
    """ "Every other return status code is considered to be a message failure" — no retry (push guide)."""
    emulator.push.retry_base_seconds = 0.01
    receiver = await WebhookReceiver([404]).start()
    try:
        await watch(emulator, receiver.url)
        await receiver.wait_for(1)
        await emulator.push.drain()
    finally:
        await receiver.stop()
    assert [d.status for d in emulator.push.deliveries] == [404]


async def test_channel_expires_after_ttl(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """`params.ttl` sets the expiration; after it the channel sends nothing (events.watch)."""
    channel = await watch(emulator, webhook.url, params={"ttl": "1"})
    assert int(channel["expiration"]) - time.time() * 1000 < 1500
    await webhook.wait_for(1)
    await asyncio.sleep(1.1)
    change(emulator)
    await emulator.push.drain()
    assert len(webhook.received) == 1
    assert channel["id"] not in emulator.push.channels


async def test_delivery_does_not_block_the_api(emulator: Emulator, webhook: WebhookReceiver) -> None:
    """Notifications go out in the background: a slow receiver does not delay API answers (push guide)."""
    emulator.faults.add({"kind": "push_delay", "seconds": 2.0})
    started = time.monotonic()
    await watch(emulator, webhook.url)
    assert time.monotonic() - started < 1.0
    assert webhook.received == []


async def test_a_held_message_is_not_sent_after_channels_stop(
    emulator: Emulator, webhook: WebhookReceiver
) -> None:
    """A message still held back when the channel stops is never sent: nothing after channels.stop."""
    channel = await watch(emulator, webhook.url)
    await webhook.wait_for(1)
    emulator.faults.add({"kind": "push_delay", "seconds": 0.2, "times": 1})
    change(emulator)
    svc = calendar_service(emulator, ALICE)
    stop = svc.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]})
    await asyncio.to_thread(stop.execute)
    await emulator.push.drain()
    assert [h["X-Goog-Resource-State"] for h in webhook.received] == ["sync"]


async def test_retries_end_when_the_channel_stops(emulator: Emulator) -> None:
    """A message being retried is given up once its channel is stopped (nothing after channels.stop)."""
    emulator.push.retry_base_seconds = 0.2
    receiver = await WebhookReceiver([503, 503, 503, 503]).start()
    try:
        channel = await watch(emulator, receiver.url)
        await receiver.wait_for(1)
        emulator.push.channels.pop(channel["id"])
        await emulator.push.drain()
    finally:
        await receiver.stop()
    assert [d.status for d in emulator.push.deliveries] == [503]


async def test_stopping_the_emulator_cancels_held_messages(webhook: WebhookReceiver) -> None:
    """Background deliveries are held by the hub and cancelled on stop: none arrives afterwards."""
    emulator = await start_emulator(accounts=[ALICE])
    emulator.faults.add({"kind": "push_delay", "seconds": 0.3})
    await watch(emulator, webhook.url)
    started = time.monotonic()
    await emulator.stop()
    assert time.monotonic() - started < 0.3
    change(emulator)  # the store outlives stop() for inspection; its changes queue nothing
    await asyncio.sleep(0.5)
    assert webhook.received == []
    assert emulator.push.deliveries == []
