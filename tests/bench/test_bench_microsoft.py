"""Smoke tests of the Microsoft benchmarks: small sizes, the real providers and daemon, goals that hold."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import microsoft_costs, microsoft_daemon
from bench.__main__ import table

KEYS = {"bench", "case", "system", "metric", "value", "unit"}
MEETINGS = 45  # three $batch requests of at most 20 into a Graph target, one Google batch of 50


def index(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """Index rows by (system, case, metric), after checking they have the contract's shape."""
    assert all(row.keys() == KEYS for row in rows)
    assert all(isinstance(row["value"], int | float) for row in rows)
    return {(r["system"], r["case"], r["metric"]): r["value"] for r in rows}


async def test_microsoft_costs_meet_their_goals_for_every_pairing() -> None:
    rows = await microsoft_costs.scenario(MEETINGS, 1, latency_ms=0)
    value = index(rows)
    first = f"first reconcile, {MEETINGS} meetings, empty target"
    for source, target in microsoft_costs.PAIRINGS:
        system = f"{source} → {target}"
        assert value[system, first, "writes"] == MEETINGS
        per_batch = 20 if target == "microsoft" else 50
        assert value[system, first, "batch_requests"] == math.ceil(MEETINGS / per_batch)
        for side in ("source", "target"):  # an idle poll: one delta read per calendar
            assert value[system, f"idle poll, {side} calendar", "api_requests"] == 1
        for kind, writes in (("new", 1), ("moved", 2), ("cancelled", 1)):
            case = f"{kind} meeting (webhook)"
            # One delta read of the source, one batch into the target.
            assert value[system, case, "reads"] == 1
            assert value[system, case, "batch_requests"] == 1
            assert value[system, case, "api_requests"] == 2
            assert value[system, case, "writes"] == writes
    assert "microsoft → microsoft" in table(rows)


async def test_a_target_without_the_expected_blocks_fails_the_bench() -> None:
    async with microsoft_costs.prepared("google", "microsoft", 2, 0) as rig:
        with pytest.raises(AssertionError, match="0 blocks after nothing, expected 2"):
            rig.expect({rig.span(0), rig.span(1)}, "nothing")  # nothing was mirrored yet


def test_latency_rows_give_percentiles_and_judge_the_p50_goal() -> None:
    rows = microsoft_daemon.latency_rows({"microsoft → google": [0.1, 0.2, 0.4]})
    value = index(rows)
    case = "meeting created → block visible, 3 meetings"
    assert value["microsoft → google", case, "p50"] == 0.2
    assert value["microsoft → google", case, "p99"] == 0.4
    assert value["microsoft → google", case, "p50_below_0.3_s"] == 1
    missed = index(microsoft_daemon.latency_rows({"google → microsoft": [0.35, 0.4]}))
    assert missed["google → microsoft", "meeting created → block visible, 2 meetings", "p50_below_0.3_s"] == 0


@pytest.mark.slow
def test_microsoft_daemon_quick_latency_is_sane() -> None:
    value = index(microsoft_daemon.run(quick=True))
    for direction in microsoft_daemon.DIRECTIONS:
        case = "meeting created → block visible, 5 meetings"
        assert value[direction.name, case, "samples"] == 5
        # The floor is one delta read and one batch write at 50 ms each; 5 s would be broken.
        assert 0.1 <= value[direction.name, case, "p50"] <= value[direction.name, case, "p99"] < 5
