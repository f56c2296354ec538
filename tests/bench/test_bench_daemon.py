"""Smoke tests of the daemon benchmarks: their quick variants, real processes, figures that must hold."""

from __future__ import annotations

from typing import Any

import pytest

from bench import daemon, daemon_scale, daemon_stop
from bench.__main__ import table

pytestmark = pytest.mark.slow
KEYS = {"bench", "case", "metric", "value", "unit"}


def values(rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Index rows by (case, metric), after checking they have the contract's shape."""
    assert all(KEYS <= row.keys() <= KEYS | {"system"} for row in rows)
    assert all(isinstance(row["value"], int | float) for row in rows)
    return {(r["case"], r["metric"]): r["value"] for r in rows}


def test_daemon_latency_and_bidirectional_pair_figures_are_sane() -> None:
    rows = daemon.run(quick=True)
    value = values(rows)
    latency = "webhook to block, 12 changes"
    assert value[latency, "changes"] == 12
    # Every change wrote a block (or deleted one), so the daemon's own histogram saw each of them.
    assert value[latency, "histogram_count"] == 12
    # The floor is one delta read and one batch write with 50 ms latency each; 5 s would be broken.
    assert 0.05 < value[latency, "external_p50"] <= value[latency, "external_p99"] < 5
    for direction in ("A→B", "B→A"):
        case = f"bidirectional pair, one new meeting {direction}"
        assert value[case, "writes"] == 1  # exactly the one block
        assert value[case, "extra_writes"] == 0  # calmirror's own block, notified back, writes nothing
        assert 1 <= value[case, "reads"] <= 2
        assert value[case, "extra_reads"] <= 1
    assert "bidirectional pair" in table(rows)


def test_daemon_scale_quick_figures_are_sane() -> None:
    value = values(daemon_scale.run(quick=True))
    initial = "initial reconcile, 4 flows x 20 meetings"
    assert value[initial, "writes"] == 4 * 20
    assert value[initial, "token_requests"] == 4  # one refresh per account
    # Every calendar listed once; the channels are open during that first reconcile, so its own writes
    # come back as notifications: per calendar a delta read for the first, one for those that came
    # during it, and one for those over the channel's rate (held back a second): at most three.
    assert 4 <= value[initial, "reads"] <= 4 + 3 * 4
    assert value[initial, "quota_units"] == value[initial, "reads"] + 3 * value[initial, "writes"]
    assert 10 < value["daemon memory after the initial reconcile, 4 flows x 20 meetings", "rss"] < 400
    flood = "webhook flood, 200 notifications over 4 channels"
    assert value[flood, "other_status"] == 0  # authentic notifications: only 200 or the rate limit's 429
    assert value[flood, "accepted"] + value[flood, "rate_limited"] == 200
    assert value[flood, "accepted"] >= 4 * 10  # each channel's bucket allows a burst
    assert value[flood, "webhook_reconciles"] >= 4


def test_daemon_stop_quick_exits_zero_in_time() -> None:
    value = values(daemon_stop.run(quick=True))
    case = "SIGTERM 0.5 s into the first reconcile, 4 flows x 20 meetings"
    assert value[case, "exit_status"] == 0
    assert value[case, "stop_seconds"] < daemon_stop.LIMIT_SECONDS
