"""What a sync costs in Google requests and quota: calmirror and the seed-literal baseline side by side.

Both systems run the same scenario against their own emulator with 50 ms injected latency, through
the same real CalendarClient, and every figure is read from the emulator's request log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common
from bench.baseline import SeedLiteralSync
from calmirror.emulator import Emulator
from calmirror.engine.engine import SyncEngine
from calmirror.engine.model import Window
from calmirror.google.client import CalendarClient

BENCH = "sync_costs"
LATENCY_MS = 50
DAYS_FORWARD = 30  # the daily window must hold every seeded meeting (one per hour)
SOURCE, TARGET = 1, 2  # account ids: alice owns the source calendar, bob the target

Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Driver:
    """How one system performs the scenario's steps."""

    system: str
    full_reconcile: Step
    poll: Step  # one scheduled poll of every calendar the system watches
    polled_calendars: int
    source_changed: Step  # the webhook for the source calendar


async def measure(emulator: Emulator, step: Step) -> common.Cost:
    """Run one step with fresh counters and return what the emulator saw."""
    emulator.reset_requests()
    started = time.perf_counter()
    await step()
    return common.cost(emulator, time.perf_counter() - started)


def calmirror_driver(engine: SyncEngine) -> Driver:
    """Drive calmirror's SyncEngine: reconcile_all, and calendar_changed for polls and webhooks."""

    async def poll() -> None:
        await engine.calendar_changed(SOURCE, common.ALICE, trigger="polling")
        await engine.calendar_changed(TARGET, common.BOB, trigger="polling")

    return Driver(
        system="calmirror",
        full_reconcile=engine.reconcile_all,  # the daily backup reconcile's own window
        poll=poll,
        polled_calendars=2,
        source_changed=lambda: engine.calendar_changed(SOURCE, common.ALICE, trigger="webhook"),
    )


def baseline_driver(sync: SeedLiteralSync, window: Window) -> Driver:
    """Drive the seed-literal baseline: every trigger re-lists the source range."""
    return Driver(
        system="baseline",
        full_reconcile=lambda: sync.sync_range(window.start, window.end),
        poll=lambda: sync.sync_range(window.start, window.end),
        polled_calendars=1,  # it watches source calendars only
        source_changed=lambda: sync.calendar_changed(SOURCE, common.ALICE, window.start, window.end),
    )


async def live_blocks(target: CalendarClient, window: Window) -> int:
    """Count the live Busy events in the target over the window (the correctness check)."""
    listing = await target.list_events(common.BOB, time_min=window.start, time_max=window.end)
    return sum(1 for e in listing.events if e.get("status") != "cancelled" and e.get("summary") == "Busy")


async def scenario(
    system: str, meetings: int, repeats: int, *, latency_ms: int = LATENCY_MS
) -> list[dict[str, Any]]:
    """Seed `meetings`, then measure every case for one system; check the target after each phase."""
    rows: list[dict[str, Any]] = []
    async with common.emulator_running(latency_ms=latency_ms) as emulator:
        alice = common.account(emulator, SOURCE, common.ALICE)
        bob = common.account(emulator, TARGET, common.BOB)
        clients = {SOURCE: common.client(emulator, alice), TARGET: common.client(emulator, bob)}
        settings = common.settings(
            emulator, [alice, bob], [common.flow(alice, bob)], days_forward=DAYS_FORWARD
        )
        now = datetime.now(UTC)
        minute = now.replace(second=0, microsecond=0)  # the daily window, as the engine computes it
        window = Window(minute - timedelta(days=2), minute + timedelta(days=DAYS_FORWARD))
        plan = common.schedule(now)
        source = clients[SOURCE]
        bodies = [
            common.meeting(common.meeting_id(i), plan.start(i), plan.minutes, common.ALICE)
            for i in range(meetings)
        ]
        await common.seed(source, common.ALICE, bodies)
        if system == "calmirror":
            driver = calmirror_driver(SyncEngine(settings, clients))
        else:
            driver = baseline_driver(SeedLiteralSync(settings, clients), window)

        async def expect(blocks: int, after: str) -> None:
            found = await live_blocks(clients[TARGET], window)
            if found != blocks:
                raise AssertionError(f"{system}: {found} blocks after {after}, expected {blocks}")

        def record(case: str, c: common.Cost) -> None:
            rows.extend(common.cost_rows(BENCH, case, system, c))

        record(
            f"full reconcile, {meetings} meetings, empty target",
            await measure(emulator, driver.full_reconcile),
        )
        await expect(meetings, "the full reconcile")
        record("full reconcile again, no changes", await measure(emulator, driver.full_reconcile))
        c = await measure(emulator, driver.poll)
        record("idle poll", c)
        rows.append(
            common.row(
                BENCH,
                "idle poll",
                "requests_per_calendar",
                c.http_requests / driver.polled_calendars,
                "requests",
                system=system,
            )
        )
        await expect(meetings, "the idle cases")

        samples: dict[str, list[common.Cost]] = {"new": [], "moved": [], "cancelled": []}
        for k in range(repeats):
            event_id, start = common.meeting_id(meetings + k), plan.start(meetings + k)
            body = common.meeting(event_id, start, plan.minutes, common.ALICE)
            await source.insert_event(common.ALICE, body)
            samples["new"].append(await measure(emulator, driver.source_changed))
            moved = {
                **body,
                "start": {"dateTime": common.rfc3339(start + timedelta(minutes=10))},
                "end": {"dateTime": common.rfc3339(start + timedelta(minutes=40))},
            }
            await source.update_event(common.ALICE, event_id, moved)
            samples["moved"].append(await measure(emulator, driver.source_changed))
            await source.delete_event(common.ALICE, event_id)
            samples["cancelled"].append(await measure(emulator, driver.source_changed))
        await expect(meetings, "the single changes")
        for kind, costs in samples.items():
            rows.extend(change_rows(f"{kind} meeting (webhook)", system, costs))
        for c in clients.values():
            await c.aclose()
    return rows


def change_rows(case: str, system: str, costs: list[common.Cost]) -> list[dict[str, Any]]:
    """Rows for repeated single changes: the worst count seen, latency percentiles over the samples."""
    worst = max(costs, key=lambda c: (c.http_requests, c.quota_units))
    rows = [r for r in common.cost_rows(BENCH, case, system, worst) if r["metric"] != "wall_clock"]
    wall = [c.seconds * 1000 for c in costs]
    rows += [
        common.row(BENCH, case, "reads", worst.reads, "calls", system=system),
        common.row(BENCH, case, "wall_clock_p50", round(common.percentile(wall, 50), 1), "ms", system=system),
        common.row(BENCH, case, "wall_clock_p95", round(common.percentile(wall, 95), 1), "ms", system=system),
        common.row(BENCH, case, "samples", len(costs), "changes", system=system),
    ]
    return rows


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Baseline over calmirror for HTTP requests and quota units, per case."""
    value = {(r["case"], r["metric"], r.get("system")): r["value"] for r in rows}
    out = []
    for case in dict.fromkeys(r["case"] for r in rows):
        for metric in ("http_requests", "quota_units"):
            ours, theirs = value.get((case, metric, "calmirror")), value.get((case, metric, "baseline"))
            if ours and theirs is not None:
                out.append(
                    common.row(BENCH, case, f"{metric}_ratio", round(theirs / ours, 1), "baseline/calmirror")
                )
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure both systems; quick mode seeds 100 meetings instead of 500 and repeats changes less."""
    meetings, repeats = (100, 3) if quick else (500, 10)
    rows = asyncio.run(scenario("calmirror", meetings, repeats))
    # The baseline costs one request per meeting per trigger, so its changes are measured once each.
    rows += asyncio.run(scenario("baseline", meetings, 1))
    return rows + ratios(rows)
