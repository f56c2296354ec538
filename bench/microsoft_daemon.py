"""The daemon with Microsoft calendars: meeting created → block visible, per direction, at 50 ms latency.

`calmirror run` runs as a subprocess (webhooks on, Graph subscriptions and Google channels, a poll a
day) against the in-process emulator, which serves Google and Graph on one port with 50 ms latency on
every response. Four flows run side by side, each between calendars of its own: Google → Google,
Microsoft → Google, Google → Microsoft and Microsoft → Microsoft. Meetings are created one at a time,
in turn over the directions; a sample runs from the moment the emulator stores the meeting (a listener
on its store) until the target's live blocks, read from the emulator's store every 2 ms, include it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench import common, mixed
from bench.mixed import Party, Span
from calmirror.emulator import Emulator, start_emulator
from calmirror.google.client import CalendarClient
from harness.processes import WEBHOOK_KEY, DaemonProcess, free_port, start_daemon

BENCH = "microsoft_daemon"
LATENCY_MS = 50
MINUTES = 30
POLL_SECONDS = 0.002  # how often the target is looked at
GOAL_P50_SECONDS = 0.3


@dataclass(frozen=True)
class Direction:
    """One flow of the daemon: its name, source and target."""

    name: str
    source: Party
    target: Party


DIRECTIONS = (
    Direction("google → google", Party(1, "google", common.ALICE), Party(2, "google", common.BOB)),
    Direction(
        "microsoft → google",
        Party(5, "microsoft", "dana@contoso.com"),
        Party(3, "google", "carol@example.com"),
    ),
    Direction(
        "google → microsoft",
        Party(4, "google", "erin@example.com"),
        Party(6, "microsoft", "frank@contoso.com"),
    ),
    Direction(
        "microsoft → microsoft",
        Party(7, "microsoft", "gina@contoso.com"),
        Party(8, "microsoft", "hank@contoso.com"),
    ),
)


def parties() -> list[Party]:
    """Return every calendar of the four flows."""
    return [p for d in DIRECTIONS for p in (d.source, d.target)]


def daemon_env(emulator: Emulator, port: int) -> dict[str, str]:
    """Return the daemon's environment: every account, the four flows, webhooks on, a poll a day."""
    env = mixed.service_env(emulator, os.environ)
    for party in parties():
        env |= mixed.account_env(emulator, party)
    for n, direction in enumerate(DIRECTIONS, start=1):
        env |= mixed.flow_env(n, f"flow-{n}", direction.source, direction.target)
    return env | {
        "LISTEN_HOST": "127.0.0.1",
        "LISTEN_PORT": str(port),
        "SYNC_INTERVAL_MINUTES": "1440",
        "LOG_LEVEL": "WARNING",  # one line per reconcile would cost the daemon time it is measured on
        "WEBHOOK_BASE_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_API_KEY": WEBHOOK_KEY,
    }


@asynccontextmanager
async def daemon_running(emulator: Emulator) -> AsyncIterator[DaemonProcess]:
    """Run `calmirror run` against the emulator until the block ends; yields once it is ready and quiet."""
    daemon = await start_daemon(daemon_env(emulator, free_port()))
    try:
        await daemon.wait_ready(60)
        subscribed = len(mixed.graph_of(emulator).subscriptions.subscriptions)
        sources = sum(1 for d in DIRECTIONS if d.source.kind == "microsoft")
        if subscribed != sources:
            raise AssertionError(f"the daemon holds {subscribed} Graph subscriptions, expected {sources}")
        await quiet(emulator)
        yield daemon
    finally:
        await daemon.kill()


async def quiet(emulator: Emulator, seconds: float = 1.0, give_up: float = 60.0) -> None:
    """Wait until the emulator received no request for `seconds`."""
    deadline = time.monotonic() + give_up
    seen, since = len(emulator.requests.http), time.monotonic()
    while time.monotonic() - since < seconds:
        if time.monotonic() > deadline:
            raise AssertionError(f"the emulator kept receiving requests for {give_up} s")
        await asyncio.sleep(0.1)
        if len(emulator.requests.http) != seen:
            seen, since = len(emulator.requests.http), time.monotonic()


async def visible(emulator: Emulator, target: Party, expected: set[Span]) -> float:
    """Look at the target every 2 ms until its blocks are `expected`; return when (perf_counter)."""
    deadline = time.monotonic() + 30
    while mixed.blocks(emulator, target) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{target.email} never showed the expected {len(expected)} blocks")
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter()


async def create(
    emulator: Emulator, owners: dict[str, CalendarClient], source: Party, i: int, start: Any
) -> None:
    """Create meeting i in the source as its owner would: Google through the API, Graph in its store."""
    if source.kind == "microsoft":
        mixed.add_graph_meeting(emulator, source.email, start, MINUTES)
    else:
        await owners[source.email].insert_event(
            source.email, common.meeting(common.meeting_id(i), start, MINUTES, source.email)
        )


async def latency(samples: int) -> dict[str, list[float]]:
    """Create `samples` meetings per direction, in turn; return each direction's seconds to the block."""
    plan = common.schedule()
    google = [p.email for p in parties() if p.kind == "google"]
    microsoft = [p.email for p in parties() if p.kind == "microsoft"]
    emulator = await start_emulator(accounts=google, microsoft_accounts=microsoft, latency_ms=LATENCY_MS)
    found: dict[str, list[float]] = {d.name: [] for d in DIRECTIONS}
    try:
        clock = mixed.WriteClock(emulator)
        owners = {
            d.source.email: common.client(emulator, common.account(emulator, 90 + n, d.source.email))
            for n, d in enumerate(DIRECTIONS)
            if d.source.kind == "google"
        }
        try:
            for owner in owners.values():  # the owners' own token refreshes happen before timing
                await owner.list_events("primary", time_min=plan.start(0), time_max=plan.start(1))
            async with daemon_running(emulator):
                expected: dict[str, set[Span]] = {d.name: set() for d in DIRECTIONS}
                for k in range(samples):
                    for d in DIRECTIONS:
                        start = plan.start(k)
                        calendar = d.source.email
                        if d.source.kind == "microsoft":
                            calendar = mixed.graph_calendar_id(emulator, d.source.email)
                        clock.watch(calendar)
                        await create(emulator, owners, d.source, k, start)
                        expected[d.name].add((start, start + timedelta(minutes=MINUTES)))
                        seen = await visible(emulator, d.target, expected[d.name])
                        if clock.at is None:
                            raise AssertionError(f"{d.name}: the emulator never stored meeting {k}")
                        found[d.name].append(seen - clock.at)
        finally:
            for owner in owners.values():
                await owner.aclose()
    finally:
        await emulator.stop()
    return found


def latency_rows(found: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Rows per direction: the samples, p50/p95/p99 and the worst, and whether p50 meets its goal."""
    rows: list[dict[str, Any]] = []
    for name, samples in found.items():
        case = f"meeting created → block visible, {len(samples)} meetings"
        rows.append(common.row(BENCH, case, "samples", len(samples), "meetings", system=name))
        for pct in (50, 95, 99):
            value = round(common.percentile(samples, pct), 3)
            rows.append(common.row(BENCH, case, f"p{pct}", value, "s", system=name))
        rows.append(common.row(BENCH, case, "max", round(max(samples), 3), "s", system=name))
        met = int(common.percentile(samples, 50) < GOAL_P50_SECONDS)
        rows.append(common.row(BENCH, case, "p50_below_0.3_s", met, "1 yes, 0 no", system=name))
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure 30 meetings per direction (quick: 5)."""
    return latency_rows(asyncio.run(latency(5 if quick else 30)))
