"""Watch channels of the real daemon: renewal without a gap, polling when watch fails, SIGTERM mid-run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from calmirror.daemon.app import CHANNELS_FIRST_SECONDS
from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    block_starts,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
    start_daemon,
)

pytestmark = pytest.mark.slow

CHANNEL_TTL = 6  # seconds: renewed a quarter of its life before expiry, so every 4 to 5 s
RENEWALS = 3


async def stops(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """Return the channels.stop calls the emulator answered."""
    log = await emulator.control("GET", "requests")
    return [c for c in log["calls"] if c["method_id"] == "calendar.channels.stop"]


async def exists_delivered(emulator: EmulatorProcess, channel_id: str) -> bool:
    """Tell whether a change notification reached the daemon through this channel."""
    deliveries = (await emulator.control("GET", "channels"))["deliveries"]
    return any(
        d["channel_id"] == channel_id and d["state"] == "exists" and d["status"] == 200 for d in deliveries
    )


async def test_short_lived_channels_are_renewed_without_a_gap_and_the_old_ones_stopped(
    emulator_process: EmulatorProcess,
) -> None:
    """After each renewal only the new channel is live, and a meeting made at once mirrors through it."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env, "--channel-ttl", str(CHANNEL_TTL)):
            (first,) = await emulator_process.channels()
            seen, starts = [first["id"]], []
            for n in range(1, RENEWALS + 1):

                async def renewed() -> bool:
                    live = await emulator_process.channels()
                    return len(live) == 1 and live[0]["id"] not in seen

                await eventually(
                    renewed, CHANNEL_TTL + 3, f"renewal {n}: a new channel and the old one stopped"
                )
                (channel,) = await emulator_process.channels()
                seen.append(channel["id"])
                starts.append(next_hour(days=1, hours=n))
                await alice.insert_event(ALICE, meeting_body(starts[-1]))

                async def mirrored() -> bool:
                    return await block_starts(emulator_process) == starts

                await eventually(mirrored, 4, f"the meeting made right after renewal {n} mirrored")
                assert await exists_delivered(emulator_process, channel["id"])
        stopped = await stops(emulator_process)
        assert [c["status"] for c in stopped][:RENEWALS] == [204] * RENEWALS
    finally:
        await alice.aclose()


async def test_sigterm_while_a_reconcile_hangs_stops_every_channel_and_exits_zero_within_ten_seconds(
    emulator_process: EmulatorProcess,
) -> None:
    """A webhook reconcile waits on a read held past the 10 s bound; SIGTERM still ends it in time."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env) as daemon:
            (channel,) = await emulator_process.channels()
            latency = {"kind": "latency", "seconds": 20, "methods": ["calendar.events.list"]}
            await emulator_process.control("POST", "faults", {"rules": [latency]})
            await alice.insert_event(ALICE, meeting_body(next_hour()))

            async def notified() -> bool:
                return await exists_delivered(emulator_process, channel["id"])

            await eventually(notified, what="the change notification delivered")
            await asyncio.sleep(0.5)  # the delta read is now held by the emulator
            try:
                status, elapsed = await daemon.terminate(seconds=15)
            except TimeoutError:
                raise AssertionError(daemon.output) from None
        assert status == 0, daemon.output
        assert elapsed < 10, f"exit took {elapsed:.1f}s:\n{daemon.output}"
        assert await emulator_process.channels() == []
        assert "cancelled 1 reconcile(s) still running" in daemon.output  # one was in flight
    finally:
        await alice.aclose()


async def watch_statuses(emulator: EmulatorProcess) -> list[int]:
    """Return the statuses the emulator answered to events.watch, oldest first."""
    log = await emulator.control("GET", "requests")
    return [c["status"] for c in log["calls"] if c["method_id"] == "calendar.events.watch"]


async def test_a_refused_watch_leaves_the_calendar_polled_and_healthy_until_the_backoff_registers_it(
    emulator_process: EmulatorProcess,
) -> None:
    """Watch refused: ready, 200, "polling only"; retried with backoff; once Google accepts, webhooks work."""
    refuse = {"kind": "status", "status": 400, "reason": "push.webhookUrlNotHttps"}
    await emulator_process.control(
        "POST", "faults", {"rules": [refuse | {"methods": ["calendar.events.watch"]}]}
    )
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env, "--channel-retry", "1") as daemon:
            status, body = await daemon.health()
            assert status == 200, body
            (flow,) = body["flows"]
            assert flow["channel_expires"] == "polling only"
            assert flow["polling_reason"].startswith(
                "webhook address refused by Google (400 push.webhookUrlNotHttps)"
            )

            async def retried() -> bool:
                return len(await watch_statuses(emulator_process)) >= 2

            await eventually(retried, 5, "a second watch attempt after the first backoff")
            assert (await daemon.health())[0] == 200
            await emulator_process.control("DELETE", "faults")

            async def watched() -> bool:
                (flow,) = (await daemon.health())[1]["flows"]
                return flow["channel_expires"] != "polling only"

            await eventually(watched, 10, "the channel registered once the watch is accepted")
            statuses = await watch_statuses(emulator_process)
            assert statuses == [400] * (len(statuses) - 1) + [200]
            start = next_hour(days=2)
            await alice.insert_event(ALICE, meeting_body(start))

            async def mirrored() -> bool:
                return await block_starts(emulator_process) == [start]

            await eventually(mirrored, what="a meeting mirrored through the late channel")
    finally:
        await alice.aclose()


async def test_a_meeting_made_while_the_channel_is_being_opened_is_mirrored_at_startup(
    emulator_process: EmulatorProcess,
) -> None:
    """The startup listing comes after the watch, so a change made before the channel exists is not lost."""
    hold = {"kind": "latency", "seconds": 1.5, "methods": ["calendar.events.watch"]}
    await emulator_process.control("POST", "faults", {"rules": [hold]})
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    daemon = await start_daemon(env)
    try:

        async def watch_held() -> bool:
            log = await emulator_process.control("GET", "requests")
            return any(h["path"].endswith("/events/watch") for h in log["http"])

        await eventually(watch_held, 20, "the daemon asking for a channel")
        start = next_hour(days=1)
        await alice.insert_event(ALICE, meeting_body(start))
        await daemon.wait_ready()

        async def mirrored() -> bool:
            return await block_starts(emulator_process) == [start]

        await eventually(mirrored, 5, "the meeting made before the channel existed mirrored")
    finally:
        await alice.aclose()
        await daemon.kill()


async def test_a_slow_watch_does_not_hold_startup_and_its_calendar_is_read_again(
    emulator_process: EmulatorProcess,
) -> None:
    """Past the startup bound the listing goes ahead; once the channel opens, its calendar is re-read."""
    hold = {"kind": "latency", "seconds": CHANNELS_FIRST_SECONDS + 4, "methods": ["calendar.events.watch"]}
    await emulator_process.control("POST", "faults", {"rules": [hold]})
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    daemon = await start_daemon(env)
    try:
        await daemon.wait_ready()  # before the watch is answered
        assert await emulator_process.channels() == []
        start = next_hour(days=1)
        await alice.insert_event(ALICE, meeting_body(start))  # after the listing, before any channel

        async def mirrored() -> bool:
            return await block_starts(emulator_process) == [start]

        await eventually(mirrored, 10, "the meeting made before the late channel opened mirrored")
    finally:
        await alice.aclose()
        await daemon.kill()


async def sigterm_while_held(emulator: EmulatorProcess, method: str, seconds: float) -> DaemonProcess:
    """Start a daemon whose `method` calls take `seconds`; SIGTERM it during the first; return it exited."""
    hold = {"kind": "latency", "seconds": seconds, "methods": [f"calendar.{method}"]}
    await emulator.control("POST", "faults", {"rules": [hold]})
    env = daemon_env(emulator, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    daemon = await start_daemon(env)
    path = "/events" + ("/watch" if method == "events.watch" else "")

    async def held() -> bool:
        log = await emulator.control("GET", "requests")
        return any(h["path"].endswith(path) for h in log["http"])

    try:
        await eventually(held, 20, f"the daemon calling {method}")
        await asyncio.sleep(0.2)
        status, elapsed = await daemon.terminate(seconds=15)
    finally:
        await daemon.kill()
    assert status == 0, daemon.output
    assert elapsed < 10, f"exit took {elapsed:.1f}s:\n{daemon.output}"
    return daemon


async def test_sigterm_during_channel_registration_leaves_no_channel(
    emulator_process: EmulatorProcess,
) -> None:
    """A watch Google completes after SIGTERM is still recorded, then stopped before the exit."""
    await sigterm_while_held(emulator_process, "events.watch", 1.5)
    assert await emulator_process.channels() == []


async def test_sigterm_during_the_startup_reconcile_lets_it_finish_within_the_grace(
    emulator_process: EmulatorProcess,
) -> None:
    """A scheduled or startup run gets the same 5 s as a webhook run, not an immediate cancel."""
    daemon = await sigterm_while_held(emulator_process, "events.list", 1.5)
    assert "reconcile trigger=startup" in daemon.output
    assert await emulator_process.channels() == []


async def test_a_meeting_made_while_old_and_new_channel_overlap_is_mirrored(
    emulator_process: EmulatorProcess,
) -> None:
    """Between the new channel's creation and the old one's stop, a change still becomes a block."""
    hold = {"kind": "latency", "seconds": 2, "methods": ["calendar.channels.stop"]}
    await emulator_process.control("POST", "faults", {"rules": [hold]})
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env, "--channel-ttl", str(CHANNEL_TTL)):

            async def overlapping() -> bool:
                return len(await emulator_process.channels()) == 2

            await eventually(overlapping, CHANNEL_TTL + 3, "the renewal's new channel beside the old one")
            start = next_hour(days=1)
            await alice.insert_event(ALICE, meeting_body(start))
            assert len(await emulator_process.channels()) == 2, "the overlap ended before the change"

            async def mirrored() -> bool:
                return await block_starts(emulator_process) == [start]

            await eventually(mirrored, 4, "the meeting made during the overlap mirrored")
    finally:
        await alice.aclose()
