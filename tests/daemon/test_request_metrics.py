"""The daemon's Google request counts in /metrics: each batch part under its own method and outcome."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from calmirror.daemon.errorkinds import KINDS
from calmirror.daemon.metrics import method_label
from calmirror.google.client import METHODS
from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    eventually,
    meeting_body,
    next_hour,
)

pytestmark = pytest.mark.slow

REQUESTS = "calmirror_provider_requests_total"


async def requests(daemon: DaemonProcess) -> dict[tuple[str, str], float]:
    """Return the Google rows of calmirror_provider_requests_total from /metrics by (method, outcome)."""
    _, text, _ = await daemon.get("/metrics")
    return {
        (s.labels["method"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == REQUESTS and s.labels["provider"] == "google"
    }


async def test_error_outcomes_of_every_method_are_shown_at_zero_before_any_error(
    daemon: DaemonProcess,
) -> None:
    """rate() needs a series before its first increase: every method's error kinds start at 0."""
    counts = await requests(daemon)
    for method in METHODS:
        for kind in KINDS:
            assert (method_label(method), kind) in counts, (method, kind)
    assert counts[("events.insert", "quota")] == 0
    assert counts[("events.insert", "transient")] == 0
    assert counts[("events.list", "ok")] >= 1


async def test_a_failed_insert_inside_a_batch_counts_under_events_insert_with_its_kind(
    emulator_process: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """A quota refusal and a 503 of one batch part each show as that kind of events.insert call."""
    daemons_insert = {"methods": ["calendar.events.insert"], "accounts": [BOB], "times": 1}
    rules = [
        {"kind": "status", "status": 403, "reason": "quotaExceeded", **daemons_insert},
        {"kind": "status", "status": 503, **daemons_insert},
    ]
    alice = emulator_process.client(ALICE)
    try:
        for hours, rule in enumerate(rules):
            await emulator_process.control("POST", "faults", {"rules": [rule]})
            await alice.insert_event(ALICE, meeting_body(next_hour(hours=hours)))
    finally:
        await alice.aclose()

    async def counted() -> bool:
        counts = await requests(daemon)
        return counts[("events.insert", "quota")] >= 1 and counts[("events.insert", "transient")] >= 1

    await eventually(counted, 20, "the failed batch parts counted under events.insert")
    counts = await requests(daemon)
    # The batch requests themselves went through (both changes may share one run, so one batch or more).
    assert counts[("batch", "ok")] >= 1
    fired = await emulator_process.control("GET", "faults")
    assert all(rule["fired"] == 1 for rule in fired["rules"]), fired
