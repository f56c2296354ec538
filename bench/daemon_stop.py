"""SIGTERM in the middle of the daemon's first big reconcile: exit status and how long the stop takes."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from bench import common, processes
from bench.daemon_scale import email, seed_all
from harness.processes import EmulatorProcess, daemon_env, eventually, free_port, start_daemon

BENCH = "daemon_stop"
# Adds no delay; its firing count says the first listing has begun (the signal handlers exist by then).
LISTING_MARK = {"kind": "latency", "methods": ["calendar.events.list"], "seconds": 0}
LIMIT_SECONDS = 10.0  # what the unit's stop path promises systemd (TimeoutStopSec is above it)


async def stop_during_first_reconcile(flows: int, meetings: int, after: float) -> list[dict[str, Any]]:
    """Seed a ring of `flows` calendars, start the daemon, SIGTERM it `after` seconds into its first listing.

    Timed from the first listing's start, not the process's: on a busy machine a signal sent by the
    clock of the process start could land before its handlers exist.
    """
    accounts = [email(i) for i in range(flows)]
    ring = [(f"flow{i:03d}", accounts[i], accounts[(i + 1) % flows]) for i in range(flows)]
    async with processes.emulator_running(accounts) as emulator:
        await seed_all(emulator, accounts, meetings)
        await emulator.control("POST", "faults", {"rules": [LISTING_MARK]})
        env = daemon_env(emulator, accounts, ring, port=free_port())
        env["LOG_LEVEL"] = "WARNING"
        daemon = await start_daemon(env)
        try:
            await eventually(partial(listing_began, emulator), 120, "the daemon's first listing")
            await asyncio.sleep(after)
            status, seconds = await daemon.terminate(60)
        finally:
            await daemon.kill()
    case = f"SIGTERM {after:g} s into the first reconcile, {flows} flows x {meetings} meetings"
    return [
        common.row(BENCH, case, "exit_status", status, "status"),
        common.row(BENCH, case, "stop_seconds", round(seconds, 2), "s"),
    ]


async def listing_began(emulator: EmulatorProcess) -> bool:
    """Tell whether the daemon has sent its first events.list (the mark rule fired)."""
    rules = (await emulator.control("GET", "faults"))["rules"]
    return any(rule["fired"] for rule in rules)


async def scenario(flows: int, meetings: int, delays: tuple[float, ...]) -> list[dict[str, Any]]:
    """Stop one fresh daemon per delay."""
    rows: list[dict[str, Any]] = []
    for after in delays:
        rows += await stop_during_first_reconcile(flows, meetings, after)
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Stop the daemon 1, 2 and 3 s into reconciling 100 flows x 100 meetings (quick: 4 x 20, once)."""
    if quick:
        return asyncio.run(scenario(4, 20, (0.5,)))
    return asyncio.run(scenario(100, 100, (1.0, 2.0, 3.0)))
