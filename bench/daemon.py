"""The daemon as a real process: webhook-to-block latency, and what one change costs in an A↔B pair.

`calmirror run` runs as a subprocess against `calmirror emulator --latency-ms 50` as another; meetings
are written through the real Google client as their owner would, and every count is the emulator's
request log, read after the daemon has gone quiet.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from bench import common, processes
from harness.processes import EmulatorProcess

BENCH = "daemon"
ALICE, BOB = common.ALICE, common.BOB
MINUTES = 30


Span = tuple[datetime, datetime]


def block(body: dict[str, Any]) -> Span:
    """Return the (start, end) the daemon's block for a meeting body has (offsets are 0)."""
    return common.instant(body["start"]["dateTime"]), common.instant(body["end"]["dateTime"])


async def visible(emulator: EmulatorProcess, calendar_id: str, expected: set[Span]) -> float:
    """Poll the target through the control API until its blocks are `expected`; return when (perf_counter)."""
    deadline = time.monotonic() + 30
    while await processes.live_blocks(emulator, calendar_id) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{calendar_id} never showed the expected blocks {sorted(expected)}")
        await asyncio.sleep(0.005)
    return time.perf_counter()


def moved(body: dict[str, Any]) -> dict[str, Any]:
    """Return the meeting 10 minutes later."""
    start, end = (common.instant(body[k]["dateTime"]) + timedelta(minutes=10) for k in ("start", "end"))
    return {**body, "start": {"dateTime": common.rfc3339(start)}, "end": {"dateTime": common.rfc3339(end)}}


async def latency(changes: int) -> list[dict[str, Any]]:
    """Create, move and cancel meetings in turn; time each from the write's answer to the target's block."""
    case = f"webhook to block, {changes} changes"
    plan = common.schedule()
    samples: list[float] = []
    async with (
        processes.emulator_running([ALICE, BOB]) as emulator,
        processes.daemon_running(emulator, [ALICE, BOB], [("work", ALICE, BOB)]) as daemon,
    ):
        alice = processes.writer(emulator, ALICE)
        try:
            body: dict[str, Any] = {}
            for k in range(changes):
                step = k % 3
                if step == 0:
                    body = common.meeting(common.meeting_id(k), plan.start(k), MINUTES, ALICE)
                    await alice.insert_event(ALICE, body)
                elif step == 1:
                    body = moved(body)
                    await alice.update_event(ALICE, body["id"], body)
                else:
                    await alice.delete_event(ALICE, body["id"])
                written = time.perf_counter()
                seen = await visible(emulator, BOB, set() if step == 2 else {block(body)})
                samples.append(seen - written)
        finally:
            await alice.aclose()
        internal = await processes.metrics(daemon)
    return latency_rows(case, samples, internal)


def latency_rows(case: str, samples: list[float], internal: processes.Samples) -> list[dict[str, Any]]:
    """Rows for the external percentiles and the daemon's own histogram (bucket bounds, count, mean)."""
    rows = [common.row(BENCH, case, "changes", len(samples), "changes")]
    for pct in (50, 95, 99):
        value = round(common.percentile(samples, pct), 3)
        rows.append(
            common.row(BENCH, case, f"external_p{pct}", value, "s", system="write answer to block seen")
        )
    name = "calmirror_webhook_to_block_seconds"
    count, total = internal[f"{name}_count", ()], internal[f"{name}_sum", ()]
    system = "daemon histogram"
    rows.append(common.row(BENCH, case, "histogram_count", int(count), "observations", system=system))
    rows.append(common.row(BENCH, case, "histogram_mean", round(total / count, 3), "s", system=system))
    for pct in (50, 95, 99):
        bound = processes.bucket_quantile(internal, name, pct / 100)
        rows.append(common.row(BENCH, case, f"histogram_p{pct}_at_most", bound, "s", system=system))
    return rows


async def bidirectional(repeats: int) -> list[dict[str, Any]]:
    """Change one meeting on each side of an A↔B pair; count every request the daemon made until quiet."""
    plan = common.schedule()
    costs: dict[str, list[dict[str, int]]] = {"A→B": [], "B→A": []}
    flows = [("a-to-b", ALICE, BOB), ("b-to-a", BOB, ALICE)]
    async with (
        processes.emulator_running([ALICE, BOB]) as emulator,
        processes.daemon_running(emulator, [ALICE, BOB], flows),
    ):
        owners = {ALICE: processes.writer(emulator, ALICE, 1), BOB: processes.writer(emulator, BOB, 2)}
        try:
            for owner in owners.values():  # the owners' own token refreshes happen before counting
                await owner.list_events("primary", time_min=plan.start(0), time_max=plan.start(1))
            expected: dict[str, set[Span]] = {ALICE: set(), BOB: set()}
            for k in range(repeats * 2):
                direction, source, target = ("A→B", ALICE, BOB) if k % 2 == 0 else ("B→A", BOB, ALICE)
                body = common.meeting(common.meeting_id(k), plan.start(k), MINUTES, source)
                await processes.settle(emulator)
                await processes.reset_requests(emulator)
                await owners[source].insert_event(source, body)
                expected[target].add(block(body))
                await visible(emulator, target, expected[target])
                log = await processes.settle(emulator, quiet=1.5)
                costs[direction].append(daemon_cost(log, source))
        finally:
            for owner in owners.values():
                await owner.aclose()
    rows: list[dict[str, Any]] = []
    for direction, samples in costs.items():
        worst = max(samples, key=lambda c: (c["http_requests"], c["writes"], c["reads"]))
        case = f"bidirectional pair, one new meeting {direction}"
        rows += [common.row(BENCH, case, metric, value, unit(metric)) for metric, value in worst.items()]
        rows.append(common.row(BENCH, case, "samples", len(samples), "changes"))
    return rows


def daemon_cost(log: dict[str, Any], owner: str) -> dict[str, int]:
    """Count what the daemon made in a log that also holds the owner's one insert (taken out)."""
    calls = list(log["calls"])
    own = next(
        i
        for i, c in enumerate(calls)
        if c["method_id"] == "calendar.events.insert" and c["account"] == owner and not c["in_batch"]
    )
    del calls[own]
    writes = sum(1 for c in calls if processes.is_write(c))
    reads = sum(1 for c in calls if not processes.is_write(c) and not processes.is_token(c))
    return {
        "http_requests": len(log["http"]) - 1,
        "reads": reads,
        "writes": writes,
        "extra_reads": reads - 1,  # beyond the source's one delta read
        "extra_writes": writes - 1,  # beyond the one block the change needs
    }


def unit(metric: str) -> str:
    """Return the unit of a cost metric."""
    return "requests" if metric == "http_requests" else "calls"


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure latency over 200 changes (quick: 12) and the bidirectional pair 5 times per side (quick: 1)."""
    changes, repeats = (12, 1) if quick else (200, 5)
    rows = asyncio.run(latency(changes))
    return rows + asyncio.run(bidirectional(repeats))
