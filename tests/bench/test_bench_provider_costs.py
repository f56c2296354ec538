"""Smoke test of the provider-cost benchmark: a few meetings on a real Radicale, a feed, the real stack."""

from __future__ import annotations

from typing import Any

import pytest

from bench import common, provider_costs
from bench.__main__ import table
from harness.caldav_servers import running_server

KEYS = {"bench", "case", "system", "metric", "value", "unit"}
MEETINGS = 4


def index(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """Index rows by (system, case, metric), after checking they have the contract's shape."""
    assert all(KEYS - {"system"} <= row.keys() <= KEYS for row in rows)
    assert all(isinstance(row["value"], int | float) for row in rows)
    return {(r.get("system", ""), r["case"], r["metric"]): r["value"] for r in rows}


async def test_provider_costs_meet_their_targets_on_radicale_and_an_ics_feed() -> None:
    rows = await provider_costs.scenario(MEETINGS, ("radicale",))
    value = index(rows)
    first = f"first reconcile, {MEETINGS} meetings"
    for system in ("radicale → google", "google → radicale", "ics → google"):
        assert value[system, first, "writes"] == MEETINGS
    # Into Google the blocks go in one batch; into CalDAV one PUT each (CalDAV has no batch).
    assert value["google → radicale", first, "caldav_writes"] == MEETINGS
    assert value["radicale → google", first, "caldav_requests"] == 2  # PROPFIND, calendar-query
    for system in ("radicale → google", "google → radicale"):
        for side in ("source", "target"):
            assert value[system, f"unchanged poll, {side} calendar", "requests"] == 1
        for kind, writes in (("new", 1), ("moved", 2), ("cancelled", 1)):
            case = f"{kind} meeting, then a source poll"
            assert value[system, case, "reads"] <= 2
            assert value[system, case, "writes"] == writes
    feed_poll = ("ics → google", "unchanged poll, source calendar")
    assert (value[(*feed_poll, "feed_requests")], value[(*feed_poll, "feed_not_modified")]) == (1, 1)
    into_dav = value["google → radicale", first, "requests"]
    into_google = value["radicale → google", first, "requests"]
    assert value["", first, "requests_ratio"] == round(into_dav / into_google, 2)
    assert "radicale target/google target" in table(rows)


async def test_a_target_without_the_expected_blocks_fails_the_bench() -> None:
    plan = common.schedule()
    with running_server("radicale") as server:
        async with provider_costs.dav_to_google(server, plan, 2) as (rig, _):
            expected = {provider_costs.block_of(plan, i) for i in range(2)}
            with pytest.raises(AssertionError, match="0 blocks after nothing, expected 2"):
                await rig.expect(expected, "nothing")  # nothing was mirrored yet
