"""What a pass did: per-target outcomes, the per-flow summary built from them, and their counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import get_args

from calmirror.config import CalendarRef, Settings
from calmirror.engine.executor import ExecutionReport
from calmirror.engine.model import Action, EventProcessingResult, Plan

COLUMNS: tuple[Action, ...] = get_args(Action)  # the sync table's count columns, "error" last


@dataclass(frozen=True)
class TargetOutcome:
    """One reconcile of one target calendar: the plan, what carrying it out did, or why it failed."""

    target: CalendarRef
    ok: bool
    message: str | None = None
    plan: Plan | None = None
    report: ExecutionReport | None = None
    failed_sources: dict[int, str] = field(default_factory=dict)  # flow id -> why its read failed

    @property
    def results(self) -> tuple[EventProcessingResult, ...]:
        """Return the per-event results, adjusted by the executor."""
        return self.report.results if self.report else ()


@dataclass(frozen=True)
class FlowOutcome:
    """What the last pass did for one flow: counts per table column, and whether it succeeded."""

    flow_name: str
    ok: bool
    message: str | None
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, column: str) -> int:
        """Return the count of one column (see COLUMNS)."""
        return self.counts.get(column, 0)


@dataclass(frozen=True)
class SyncSummary:
    """What one pass did, per flow and per target."""

    flows: dict[str, FlowOutcome]
    targets: tuple[TargetOutcome, ...]

    @property
    def ok(self) -> bool:
        """Tell whether every flow of the pass succeeded."""
        return all(outcome.ok for outcome in self.flows.values())


def flow_outcomes(
    settings: Settings, outcomes: Iterable[TargetOutcome], at: datetime
) -> dict[str, FlowOutcome]:
    """Return the outcome of every flow into the reconciled targets."""
    flows: dict[str, FlowOutcome] = {}
    for outcome in outcomes:
        into = settings.flows_into(outcome.target)
        names = frozenset(flow.name for flow in into)
        for flow in into:
            counts = count_columns(outcome.results, flow.name, names)
            problems = [outcome.failed_sources[flow.id]] if flow.id in outcome.failed_sources else []
            if outcome.report is None:  # the pass never got to planning: no result says why
                problems.append(outcome.message or "reconcile failed")
            failed_events = counts.get("error", 0)
            counts["error"] = failed_events + len(problems)
            if failed_events:  # failed writes (their message) or events with unusable times
                problems.append(outcome.message or f"{failed_events} event(s) could not be mirrored")
            if counts.get("unknown"):  # not an error: the next pass reads the calendar and finishes the job
                problems.append(f"{counts['unknown']} write(s) got no answer and may have happened")
            ok = counts["error"] == 0
            flows[flow.name] = FlowOutcome(flow.name, ok, "; ".join(problems) or None, at, counts)
    return flows


def count_columns(
    results: Iterable[EventProcessingResult], flow_name: str, target_flows: frozenset[str]
) -> dict[str, int]:
    """Count one flow's results per table column.

    A result naming no single flow of the target (a deleted block names every flow into its target)
    belongs to the target, so it counts for each of them.
    """
    counts: Counter[str] = Counter()
    for result in results:
        if result.flow_name == flow_name or result.flow_name not in target_flows:
            counts[result.action] += 1
    return dict(counts)
