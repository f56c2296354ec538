"""What a sync costs in Google requests and quota: calmirror and the per-event baseline side by side.

Both systems run the same scenario against their own emulator with 50 ms injected latency, through
the same real CalendarClient, and every figure is read from the emulator's request log.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench import common
from bench.baseline import SeedLiteralSync
from calmirror.config import CalendarRef
from calmirror.emulator import Emulator
from calmirror.engine import SyncEngine, Window
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars

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
    setup: Step  # an unmeasured full reconcile that fills the target before the change cases
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
    """Drive calmirror's SyncEngine: reconcile_all, and calendars_changed for polls and webhooks."""
    source = CalendarRef(account_id=SOURCE, calendar_id=common.ALICE)
    target = CalendarRef(account_id=TARGET, calendar_id=common.BOB)

    async def poll() -> None:
        await engine.calendars_changed([source], "poll")
        await engine.calendars_changed([target], "poll")

    return Driver(
        system="calmirror",
        full_reconcile=engine.reconcile_all,  # the daily backup reconcile's own window
        setup=engine.reconcile_all,
        poll=poll,
        polled_calendars=2,
        source_changed=lambda: engine.calendars_changed([source], "webhook"),
    )


def baseline_driver(sync: SeedLiteralSync, window: Window) -> Driver:
    """Drive the per-event baseline: every trigger re-lists the source range."""
    return Driver(
        system="baseline",
        full_reconcile=lambda: sync.sync_range(window.start, window.end),
        # Unmeasured setup only: four events at a time, as the client has four threads.
        setup=lambda: sync.sync_range(window.start, window.end, concurrency=4),
        poll=lambda: sync.sync_range(window.start, window.end),
        polled_calendars=1,  # it watches source calendars only
        source_changed=lambda: sync.calendar_changed(SOURCE, common.ALICE, window.start, window.end),
    )


async def live_blocks(target: CalendarClient, window: Window) -> int:
    """Count the live Busy events in the target over the window (the correctness check)."""
    listing = await target.list_events(common.BOB, time_min=window.start, time_max=window.end)
    return sum(1 for e in listing.events if e.get("status") != "cancelled" and e.get("summary") == "Busy")


@dataclass(frozen=True)
class Setup:
    """One system on its own emulator, the source seeded with `meetings` meetings."""

    system: str
    emulator: Emulator
    clients: dict[int, CalendarClient]
    driver: Driver
    window: Window
    plan: common.Schedule
    meetings: int

    async def expect_blocks(self, after: str) -> None:
        """Fail unless the target holds exactly one block per meeting (the system was correct)."""
        found = await live_blocks(self.clients[TARGET], self.window)
        if found != self.meetings:
            raise AssertionError(f"{self.system}: {found} blocks after {after}, expected {self.meetings}")


@asynccontextmanager
async def prepared(system: str, meetings: int, latency_ms: int) -> AsyncIterator[Setup]:
    """Start an emulator, seed the source calendar and build the system under test."""
    async with common.emulator_running(latency_ms=latency_ms) as emulator:
        alice = common.account(emulator, SOURCE, common.ALICE)
        bob = common.account(emulator, TARGET, common.BOB)
        clients = {SOURCE: common.client(emulator, alice), TARGET: common.client(emulator, bob)}
        settings = common.settings(
            emulator, [alice, bob], [common.flow(alice, bob)], days_forward=DAYS_FORWARD
        )
        engine = SyncEngine(settings, {n: GoogleCalendars(client) for n, client in clients.items()})
        window = engine.default_window()  # the daily reconcile's window, which both systems cover
        plan = common.schedule()
        bodies = [
            common.meeting(common.meeting_id(i), plan.start(i), plan.minutes, common.ALICE)
            for i in range(meetings)
        ]
        await common.seed(clients[SOURCE], common.ALICE, bodies)
        if system == "calmirror":
            driver = calmirror_driver(engine)
        else:
            driver = baseline_driver(SeedLiteralSync(settings, clients), window)
        try:
            yield Setup(system, emulator, clients, driver, window, plan, meetings)
        finally:
            for c in clients.values():
                await c.aclose()


async def idle_cases(s: Setup) -> list[dict[str, Any]]:
    """Measure the full reconcile into an empty target, the same again, and an idle poll."""
    rows: list[dict[str, Any]] = []
    full = await measure(s.emulator, s.driver.full_reconcile)
    await s.expect_blocks("the full reconcile")
    rows += common.cost_rows(BENCH, f"full reconcile, {s.meetings} meetings, empty target", s.system, full)
    again = await measure(s.emulator, s.driver.full_reconcile)
    rows += common.cost_rows(BENCH, "full reconcile again, no changes", s.system, again)
    poll = await measure(s.emulator, s.driver.poll)
    rows += common.cost_rows(BENCH, "idle poll", s.system, poll)
    per_calendar = poll.http_requests / s.driver.polled_calendars
    rows.append(
        common.row(BENCH, "idle poll", "requests_per_calendar", per_calendar, "requests", system=s.system)
    )
    await s.expect_blocks("the idle cases")
    return rows


async def change_cases(s: Setup, repeats: int) -> list[dict[str, Any]]:
    """Measure the webhook for a new, then moved, then cancelled meeting, `repeats` times over."""
    source = s.clients[SOURCE]
    samples: dict[str, list[common.Cost]] = {"new": [], "moved": [], "cancelled": []}
    for k in range(repeats):
        event_id, start = common.meeting_id(s.meetings + k), s.plan.start(s.meetings + k)
        body = common.meeting(event_id, start, s.plan.minutes, common.ALICE)
        await source.insert_event(common.ALICE, body)
        samples["new"].append(await measure(s.emulator, s.driver.source_changed))
        later = {"start": start + timedelta(minutes=10), "end": start + timedelta(minutes=40)}
        moved = {**body, **{key: {"dateTime": common.rfc3339(at)} for key, at in later.items()}}
        await source.update_event(common.ALICE, event_id, moved)
        samples["moved"].append(await measure(s.emulator, s.driver.source_changed))
        await source.delete_event(common.ALICE, event_id)
        samples["cancelled"].append(await measure(s.emulator, s.driver.source_changed))
    await s.expect_blocks("the single changes")
    rows: list[dict[str, Any]] = []
    for kind, costs in samples.items():
        rows += change_rows(f"{kind} meeting (webhook)", s.system, costs)
    return rows


async def scenario(
    system: str,
    meetings: int,
    repeats: int,
    *,
    phases: Sequence[str] = ("idle", "changes"),
    latency_ms: int = LATENCY_MS,
) -> list[dict[str, Any]]:
    """Measure the chosen phases for one system on its own emulator; the target is checked after each."""
    async with prepared(system, meetings, latency_ms) as s:
        rows: list[dict[str, Any]] = []
        if "idle" in phases:
            rows += await idle_cases(s)
        else:
            await s.driver.setup()
            await s.expect_blocks("the setup")
        if "changes" in phases:
            rows += await change_cases(s, repeats)
        return rows


def baseline_phase(meetings: int, phase: str) -> list[dict[str, Any]]:
    """Child-process entry: measure one phase of the baseline (single changes once each)."""
    return asyncio.run(scenario("baseline", meetings, 1, phases=(phase,)))


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
    # The baseline spends one request per meeting on every trigger, about 30 s per case at 500
    # meetings, so its two phases run at once, each in its own process and emulator, and its single
    # changes are measured once each.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = [pool.submit(baseline_phase, meetings, phase) for phase in ("idle", "changes")]
        for job in jobs:
            rows += job.result()
    return rows + ratios(rows)
