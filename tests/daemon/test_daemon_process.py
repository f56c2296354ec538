"""`calmirror run` as a real process against `calmirror emulator` as another: webhooks drive the mirror."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    blocks,
    daemon_env,
    eventually,
    instant,
    meeting_body,
    notification_headers,
    start_daemon,
)

pytestmark = pytest.mark.slow


async def test_webhooks_mirror_create_move_cancel_and_stats_metrics_follow(
    emulator_process: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """With a day-long poll interval only webhooks can explain the blocks following the meeting."""
    channels = await emulator_process.channels()
    assert [c["calendar_id"] for c in channels] == [ALICE]
    alice = emulator_process.client(ALICE)
    try:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        event = await alice.insert_event(ALICE, meeting_body(start))

        async def mirrored(at: datetime) -> bool:
            return [instant(s) for s, _ in await blocks(emulator_process)] == [at]

        await eventually(lambda: mirrored(start))
        moved = start + timedelta(hours=3)
        await alice.update_event(ALICE, event["id"], meeting_body(moved))
        await eventually(lambda: mirrored(moved))
        await alice.delete_event(ALICE, event["id"])

        async def gone() -> bool:
            return await blocks(emulator_process) == []

        await eventually(gone)
    finally:
        await alice.aclose()

    status, text, _ = await daemon.get("/api/v1/calendar/stats")
    assert status == 200
    stats = json.loads(text)
    assert stats["busy_blocks_created"] == 2  # the first block and the moved one (a new interval)
    assert stats["busy_blocks_deleted"] == 2  # the old interval after the move, then the cancellation
    assert stats["errors"] == 0
    lines = [line for line in daemon.output.splitlines() if "reconcile trigger=webhook" in line]
    assert lines, daemon.output
    assert all(re.search(r" run_requests=[1-9]", line) for line in lines)  # per run, labelled so
    assert stats["recent_results"], "the ledger shows what was done"
    _, health_text, _ = await daemon.get("/health")
    for page in (text, health_text):  # nothing about the meeting leaves its calendar
        assert meeting_body(start)["summary"] not in page

    status, exposition, headers = await daemon.get("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }
    assert samples[("calmirror_ready", ())] == 1.0
    assert samples[("calmirror_webhooks_enabled", ())] == 1.0  # this daemon has WEBHOOK_BASE_URL
    assert samples[("calmirror_blocks_created_total", ())] == 2.0
    assert samples[("calmirror_webhook_notifications_total", (("state", "exists"),))] >= 3
    assert samples[("calmirror_reconciles_total", (("outcome", "ok"), ("trigger", "webhook")))] >= 3
    assert samples[("calmirror_webhook_to_block_seconds_count", ())] >= 3
    assert samples[("calmirror_flow_polling_only", (("flow", "work"),))] == 0.0
    assert samples[("calmirror_channel_expiry_timestamp_seconds", (("flow", "work"),))] > time.time()
    watches = (
        "calmirror_provider_requests_total",
        (("method", "events.watch"), ("outcome", "ok"), ("provider", "google")),
    )
    assert samples[watches] == 1
    assert any(name.startswith("process_") for name, _ in samples)
    _, open_metrics, headers = await daemon.get("/metrics", Accept="application/openmetrics-text")
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert open_metrics.rstrip().endswith("# EOF")


async def test_sigterm_exits_zero_in_time_and_stops_every_channel(
    emulator_process: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """SIGTERM: exit 0 within 10 s, and the emulator has no live channel left."""
    assert len(await emulator_process.channels()) == 1
    status, elapsed = await daemon.terminate()
    assert status == 0
    assert elapsed < 10
    assert await emulator_process.channels() == []
    assert "stopped" in daemon.output
    assert "unanswered" not in daemon.output  # an idle daemon has no request in flight to warn about


async def test_forged_notifications_are_rejected_without_a_google_request(
    emulator_process: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """Bad token, unknown channel, wrong resource id, missing headers, big body: refused, Google untouched."""
    (channel,) = await emulator_process.channels()
    real = notification_headers(channel)
    forged = [
        ({**real, "X-Goog-Channel-Token": channel["token"][:-4] + "AAAA"}, b"", 403),  # bad token
        ({**real, "X-Goog-Channel-ID": "not-a-channel-of-ours"}, b"", 403),  # unknown channel
        ({**real, "X-Goog-Resource-ID": "another-resource"}, b"", 403),  # wrong resource id
        ({k: v for k, v in real.items() if k != "X-Goog-Channel-Token"}, b"", 401),  # no token
        ({k: v for k, v in real.items() if k != "X-Goog-Resource-ID"}, b"", 400),  # missing header
        ({**real, "X-Goog-Resource-State": "bogus"}, b"", 400),
        (real, b"x" * 100_000, 413),  # oversized body
    ]
    await asyncio.sleep(0.5)  # let the sync message and startup work settle
    before = await emulator_process.stats()
    for headers, body, expected in forged:
        assert await daemon.post_webhook(headers, body) == expected, headers
    await asyncio.sleep(0.5)  # a reconcile the forgeries had caused would have started by now
    assert await emulator_process.stats() == before
    status, body = await daemon.health()
    assert status == 200
    _, exposition, _ = await daemon.get("/metrics")
    rejected = {
        s.labels["reason"]: s.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "calmirror_webhook_rejections"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert rejected["bad_token"] == 3
    assert rejected["wrong_resource"] == 1
    assert rejected["missing_headers"] == 1
    assert rejected["bad_state"] == 1
    assert rejected["body_too_large"] == 1
    assert channel["token"] not in daemon.output
    assert "X-Goog" not in daemon.output


async def test_a_new_process_adopts_and_stops_a_crashed_predecessors_channel(
    emulator_process: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """After SIGKILL the old channel still delivers; the next process mirrors from it and stops it."""
    (old,) = await emulator_process.channels()
    await daemon.kill()
    port = int(daemon.base_url.rsplit(":", 1)[1])
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=port)
    successor = await start_daemon(env)
    alice = emulator_process.client(ALICE)
    try:
        await successor.wait_ready()
        assert len(await emulator_process.channels()) == 2
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        await alice.insert_event(ALICE, meeting_body(start))

        async def only_new_channel_left() -> bool:
            ids = [c["id"] for c in await emulator_process.channels()]
            return len(ids) == 1 and old["id"] not in ids

        await eventually(only_new_channel_left)
        assert [instant(s) for s, _ in await blocks(emulator_process)] == [start]
    finally:
        await alice.aclose()
        await successor.kill()
