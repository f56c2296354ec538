"""What a sync costs with Microsoft calendars, Google beside it: every source/target pairing at 50 ms.

SyncEngine runs in-process with the providers the runtime opens (MicrosoftCalendars on GraphClient,
GoogleCalendars on CalendarClient) against one in-process emulator serving Google and Graph with
50 ms latency on every response. Each pairing (Google or Microsoft source, Google or Microsoft
target) gets its own emulator, one flow (offsets 0) and `meetings` meetings seeded in the source;
every count comes from the emulator's request log, reset before each step, and after each step the
target's live blocks are read from the emulator's store and must be exactly the expected ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from bench import common, mixed
from bench.mixed import Counts, Kind, Party, Span
from calmirror.config import Flow
from calmirror.emulator import Emulator, start_emulator
from calmirror.emulator.graph.model import StoredEvent
from calmirror.engine import SyncEngine
from calmirror.google.client import CalendarClient

BENCH = "microsoft_costs"
LATENCY_MS = 50
DAYS_FORWARD = 30  # the daily window holds every seeded meeting (one an hour)
SOURCE, TARGET = 1, 2  # account numbers
EMAILS: dict[Kind, tuple[str, str]] = {
    "google": (common.ALICE, common.BOB),
    "microsoft": ("dana@contoso.com", "frank@contoso.com"),
}
PAIRINGS: tuple[tuple[Kind, Kind], ...] = (
    ("google", "google"),
    ("microsoft", "google"),
    ("google", "microsoft"),
    ("microsoft", "microsoft"),
)
CHANGES = ("new", "moved", "cancelled")
Step = Callable[[], Awaitable[object]]


@dataclass
class Rig:
    """One pairing: its emulator, engine, calendars, and how the source's owner changes a meeting."""

    emulator: Emulator
    engine: SyncEngine
    source: Party
    target: Party
    plan: common.Schedule
    owner: CalendarClient | None  # writes a Google source as its owner would; None for a Graph source
    graph_events: dict[int, StoredEvent] = field(default_factory=dict)

    @property
    def system(self) -> str:
        """Name the pairing, e.g. "microsoft → google"."""
        return f"{self.source.kind} → {self.target.kind}"

    async def measure(self, step: Step) -> Counts:
        """Run one step with a fresh request log; return what the emulator saw."""
        self.emulator.reset_requests()
        started = time.perf_counter()
        await step()
        return mixed.counts(self.emulator, time.perf_counter() - started)

    def expect(self, expected: set[Span], after: str) -> None:
        """Fail unless the target holds exactly these blocks, nothing else."""
        found = mixed.blocks(self.emulator, self.target)
        if found != expected:
            raise AssertionError(
                f"{self.system}: {len(found)} blocks after {after}, expected {len(expected)}"
                f" ({len(found - expected)} unexpected, {len(expected - found)} missing)"
            )

    async def poll(self, party: Party) -> None:
        """Poll one calendar as the scheduler would."""
        await self.engine.calendars_changed([party.ref], "poll")

    async def notified(self) -> None:
        """Handle the source calendar's notification as the daemon would."""
        await self.engine.calendars_changed([self.source.ref], "webhook")

    def span(self, i: int, shift: timedelta = timedelta(0)) -> Span:
        """Return the block meeting number i needs (offsets are 0)."""
        start = self.plan.start(i) + shift
        return start, start + timedelta(minutes=self.plan.minutes)

    async def change(self, kind: str, i: int) -> None:
        """Make meeting i new, moved by 10 minutes, or cancelled in the source, as its owner would."""
        start = self.plan.start(i) + (timedelta(minutes=10) if kind == "moved" else timedelta(0))
        if self.owner is None:
            if kind == "new":
                self.graph_events[i] = mixed.add_graph_meeting(
                    self.emulator, self.source.email, start, self.plan.minutes
                )
            elif kind == "moved":
                moved = mixed.move_graph_meeting(
                    self.emulator, self.graph_events[i], start, self.plan.minutes
                )
                self.graph_events[i] = moved
            else:
                mixed.delete_graph_meeting(self.emulator, self.graph_events.pop(i))
            return
        email, event_id = self.source.email, common.meeting_id(i)
        body = common.meeting(event_id, start, self.plan.minutes, email)
        if kind == "new":
            await self.owner.insert_event(email, body)
        elif kind == "moved":
            await self.owner.update_event(email, event_id, body)
        else:
            await self.owner.delete_event(email, event_id)


@asynccontextmanager
async def prepared(
    source_kind: Kind, target_kind: Kind, meetings: int, latency_ms: int
) -> AsyncIterator[Rig]:
    """Start an emulator for one pairing, seed the source and build the engine the runtime would."""
    source = Party(SOURCE, source_kind, EMAILS[source_kind][0])
    target = Party(TARGET, target_kind, EMAILS[target_kind][1])
    parties = (source, target)
    emulator = await start_emulator(
        accounts=[p.email for p in parties if p.kind == "google"] or [common.ALICE],
        microsoft_accounts=[p.email for p in parties if p.kind == "microsoft"],
        latency_ms=latency_ms,
    )
    flow = Flow(id=1, name="bench", source=source.ref, target=target.ref)
    config = mixed.settings(emulator, parties, [flow], days=DAYS_FORWARD)
    providers = mixed.providers(emulator, config)
    owner = None
    if source.kind == "google":
        owner = common.client(emulator, common.account(emulator, 99, source.email))
    rig = Rig(emulator, SyncEngine(config, providers), source, target, common.schedule(), owner)
    try:
        await seed(rig, meetings)
        yield rig
    finally:
        if owner is not None:
            await owner.aclose()
        await asyncio.gather(*(p.aclose() for p in providers.values()))
        await emulator.stop()


async def seed(rig: Rig, meetings: int) -> None:
    """Put the meetings in the source: Google's through its owner's batches, Graph's into its store."""
    if rig.owner is None:
        for i in range(meetings):
            mixed.add_graph_meeting(rig.emulator, rig.source.email, rig.plan.start(i), rig.plan.minutes)
        return
    email = rig.source.email
    bodies = [
        common.meeting(common.meeting_id(i), rig.plan.start(i), rig.plan.minutes, email)
        for i in range(meetings)
    ]
    await common.seed(rig.owner, email, bodies)


def count_rows(case: str, system: str, c: Counts) -> list[dict[str, Any]]:
    """Return the rows of one measured step."""
    values: list[tuple[str, float, str]] = [
        ("http_requests", c.http_requests, "requests"),
        ("token_requests", c.token_requests, "requests"),
        ("api_requests", c.api_requests, "requests"),
        ("batch_requests", c.batch_requests, "requests"),
        ("reads", c.reads, "calls"),
        ("writes", c.writes, "calls"),
        ("wall_clock", round(c.seconds * 1000, 1), "ms"),
    ]
    return [common.row(BENCH, case, metric, value, unit, system=system) for metric, value, unit in values]


def change_rows(case: str, system: str, samples: list[Counts]) -> list[dict[str, Any]]:
    """Rows for repeated changes: the worst counts seen, wall clock p50/p95 over the samples."""
    worst = max(samples, key=lambda c: (c.http_requests, c.writes, c.reads))
    rows = [r for r in count_rows(case, system, worst) if r["metric"] != "wall_clock"]
    wall = [c.seconds * 1000 for c in samples]
    for pct in (50, 95):
        value = round(common.percentile(wall, pct), 1)
        rows.append(common.row(BENCH, case, f"wall_clock_p{pct}", value, "ms", system=system))
    rows.append(common.row(BENCH, case, "samples", len(samples), "changes", system=system))
    return rows


async def pairing(rig: Rig, meetings: int, repeats: int) -> list[dict[str, Any]]:
    """Measure the first reconcile, a repeat, idle polls of both calendars and single changes."""
    engine, system = rig.engine, rig.system
    expected = {rig.span(i) for i in range(meetings)}
    rows: list[dict[str, Any]] = []
    first = await rig.measure(engine.reconcile_all)
    rig.expect(expected, "the first reconcile")
    rows += count_rows(f"first reconcile, {meetings} meetings, empty target", system, first)
    again = await rig.measure(engine.reconcile_all)
    rows += count_rows("full reconcile again, no changes", system, again)
    for side, party in (("source", rig.source), ("target", rig.target)):
        # The first poll of the target reads back the first reconcile's own writes: not idle yet.
        await rig.poll(party)
        poll = await rig.measure(partial(rig.poll, party))
        rows += count_rows(f"idle poll, {side} calendar", system, poll)
    rig.expect(expected, "the idle polls")
    samples: dict[str, list[Counts]] = {kind: [] for kind in CHANGES}
    for k in range(repeats):
        i = meetings + k
        for kind in CHANGES:
            await rig.change(kind, i)
            samples[kind].append(await rig.measure(rig.notified))
            shift = timedelta(minutes=10 if kind == "moved" else 0)
            extra = set() if kind == "cancelled" else {rig.span(i, shift)}
            rig.expect(expected | extra, f"the {kind} meeting")
    for kind, counted in samples.items():
        rows += change_rows(f"{kind} meeting (webhook)", system, counted)
    return rows


async def scenario(
    meetings: int,
    repeats: int,
    *,
    pairings: tuple[tuple[Kind, Kind], ...] = PAIRINGS,
    latency_ms: int = LATENCY_MS,
) -> list[dict[str, Any]]:
    """Measure every pairing on its own emulator, one after another."""
    rows: list[dict[str, Any]] = []
    for source_kind, target_kind in pairings:
        async with prepared(source_kind, target_kind, meetings, latency_ms) as rig:
            rows += await pairing(rig, meetings, repeats)
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure with 500 meetings and 10 changes of each kind (quick: 100 meetings, 2 changes)."""
    meetings, repeats = (100, 2) if quick else (500, 10)
    return asyncio.run(scenario(meetings, repeats))
