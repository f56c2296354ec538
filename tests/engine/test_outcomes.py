"""Per-flow counts of a pass: each flow gets its own events' results and every target-level result."""

from __future__ import annotations

from calmirror.engine import Action, EventProcessingResult
from calmirror.engine.outcomes import count_columns

FLOWS = frozenset({"work, main", "client"})  # a comma in a flow name must not split it


def result(flow_name: str, action: Action, reason: str | None = None) -> EventProcessingResult:
    """Return a result of one pass."""
    return EventProcessingResult(flow_name, "ev1", "Busy", "poll", True, action, reason=reason)


def test_a_deleted_block_counts_for_every_flow_into_the_target() -> None:
    """A deleted block names every flow into its target, so each flow's row shows it once."""
    results = [
        result("client, work, main", "deleted", "no meeting needs it any more"),
        result("work, main", "created"),
        result("client", "skipped", "declined"),
        result("client", "restored", "the block's id was a tombstone"),
    ]

    assert count_columns(results, "work, main", FLOWS) == {"deleted": 1, "created": 1}
    assert count_columns(results, "client", FLOWS) == {"deleted": 1, "skipped": 1, "restored": 1}
