"""Planner speed: plan 10,000 source events against 5,000 existing blocks (best of 3), and parse them."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import row
from calmirror.config import CalendarRef, Flow
from calmirror.engine import (
    Interval,
    Plan,
    SourceEvent,
    TargetBlock,
    Window,
    block_id,
    plan_target,
)
from calmirror.engine.offsets import wanted_interval
from calmirror.google.events import parse_event

BENCH = "planner"
EVENTS = 10_000
BLOCKS = 5_000
START = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=60))
TARGET = CalendarRef(account_id=2, calendar_id="bob@example.com")
FLOWS = tuple(
    Flow(
        id=flow_id,
        name=f"flow {flow_id}",
        source=CalendarRef(account_id=1, calendar_id=f"source{flow_id}@example.com"),
        target=TARGET,
        start_offset=5 * flow_id,
        end_offset=5,
    )
    for flow_id in (1, 2)
)


def _resource(rng: random.Random, index: int) -> dict[str, Any]:
    """Return one Google event resource: mostly meetings, some free, solo or cancelled."""
    start = START + timedelta(minutes=15 * rng.randrange(4 * 24 * 58))
    end = start + timedelta(minutes=15 * rng.randint(1, 8))
    people = [{"email": "alice@example.com", "self": True, "responseStatus": "accepted"}]
    people += [{"email": f"guest{n}@example.com"} for n in range(rng.choice([0, 1, 1, 3]))]
    return {
        "id": f"event{index}",
        "status": rng.choice(["confirmed"] * 9 + ["cancelled"]),
        "summary": f"Meeting {index}",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        "transparency": rng.choice(["opaque"] * 4 + ["transparent"]),
        "attendees": people,
    }


def _inputs() -> tuple[list[dict[str, Any]], dict[int, list[SourceEvent]], list[TargetBlock]]:
    """Build the resources, the parsed sources split over two flows and the existing blocks."""
    rng = random.Random(20261121)
    resources = [_resource(rng, index) for index in range(EVENTS)]
    events = [parse_event(resource) for resource in resources]
    sources = {1: events[: EVENTS // 2], 2: events[EVENTS // 2 :]}
    blocks = []
    for index in range(BLOCKS):
        if index % 2 == 0:  # half sit at an interval some event wants (or wanted)
            flow, event = FLOWS[index % 4 // 2], events[index]
            assert event.interval is not None
            interval = wanted_interval(event.interval, flow)
        else:  # the rest are stale
            start = START + timedelta(minutes=15 * rng.randrange(4 * 24 * 58))
            interval = Interval(start, start + timedelta(hours=1))
        blocks.append(TargetBlock(interval, block_id(TARGET.calendar_id, interval)))
    return resources, sources, blocks


def _best_of(repeat: int, work: Callable[[], object]) -> float:
    """Return the fastest wall time of `repeat` runs of `work`."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def _plan(sources: dict[int, list[SourceEvent]], blocks: list[TargetBlock]) -> Plan:
    """Plan the target once."""
    identities = frozenset({TARGET.calendar_id})
    return plan_target(TARGET, FLOWS, dict(sources), blocks, WINDOW, target_identities=identities)


def run() -> list[dict[str, Any]]:
    """Measure planning and parsing; rows carry bench, case, metric, value and unit."""
    resources, sources, blocks = _inputs()
    plan = _plan(sources, blocks)
    seconds = _best_of(3, lambda: _plan(sources, blocks))
    parse_seconds = _best_of(3, lambda: [parse_event(resource) for resource in resources])
    case = f"{EVENTS} events vs {BLOCKS} blocks"
    parsed = f"{EVENTS} events"
    return [
        row(BENCH, case, "plan time (best of 3)", seconds, "s", system="calmirror"),
        row(BENCH, case, "planning rate", EVENTS / seconds, "events/s", system="calmirror"),
        row(BENCH, case, "writes planned", plan.writes, "writes", system="calmirror"),
        row(BENCH, parsed, "parse time (best of 3)", parse_seconds, "s", system="calmirror"),
        row(BENCH, parsed, "parsing rate", EVENTS / parse_seconds, "events/s", system="calmirror"),
    ]
