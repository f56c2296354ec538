"""Smoke test of the sync-cost benchmark: a tiny calendar, no latency, both systems, real stack."""

from __future__ import annotations

from bench import sync_costs
from bench.__main__ import table

KEYS = {"bench", "case", "metric", "value", "unit"}


async def test_sync_costs_rows_have_the_contract_shape_and_known_counts() -> None:
    rows = await sync_costs.scenario("calmirror", 3, 1, latency_ms=0)
    rows += await sync_costs.scenario("baseline", 3, 1, latency_ms=0)

    assert all(KEYS <= row.keys() <= KEYS | {"system"} for row in rows)
    assert all(isinstance(row["value"], int | float) for row in rows)
    value = {(r["system"], r["case"], r["metric"]): r["value"] for r in rows}
    # The per-event baseline: token + source list + per meeting one target search and one insert.
    assert value["baseline", "full reconcile, 3 meetings, empty target", "http_requests"] == 1 + 1 + 3 + 3
    assert value["baseline", "full reconcile, 3 meetings, empty target", "token_requests"] == 1
    assert value["calmirror", "full reconcile again, no changes", "writes"] == 0
    # calmirror's targets (docs/benchmarks.md): one request per calendar on an idle poll, and one
    # read plus the one write a new meeting needs.
    assert value["calmirror", "idle poll", "requests_per_calendar"] == 1
    assert value["calmirror", "new meeting (webhook)", "reads"] == 1
    assert value["calmirror", "new meeting (webhook)", "writes"] == 1
    assert "idle poll" in table(rows)
