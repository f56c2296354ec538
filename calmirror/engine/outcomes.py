"""What a pass did: per-target outcomes, the per-flow summary built from them, and their counts.

Failures travel as `Failure` values (calmirror/errors.py): kind, status, reason, side and calendar.
Every reader (the sync table's hints, /health, /metrics, /stats) decides by those fields; the
`message` texts are for people only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import get_args

from calmirror.config import CalendarRef, Flow, Settings
from calmirror.engine.executor import ExecutionReport
from calmirror.engine.model import Action, EventProcessingResult, HoldReason, Plan
from calmirror.errors import Failure

COLUMNS: tuple[Action, ...] = get_args(Action)  # the sync table's count columns, "error" last


@dataclass(frozen=True)
class TargetOutcome:
    """One reconcile of one target calendar: the plan, what carrying it out did, or why it failed."""

    target: CalendarRef
    ok: bool
    failure: Failure | None = None  # the target's own read failed: nothing was planned
    plan: Plan | None = None
    report: ExecutionReport | None = None
    failed_sources: dict[int, Failure] = field(default_factory=dict)  # flow id -> its failed read

    @property
    def results(self) -> tuple[EventProcessingResult, ...]:
        """Return the per-event results, adjusted by the executor."""
        return self.report.results if self.report else ()

    @property
    def held(self) -> tuple[tuple[str, HoldReason], ...]:
        """Return the deletions this pass held back: (block id, why)."""
        return self.plan.held if self.plan else ()

    @property
    def write_failures(self) -> dict[str, Failure]:
        """Return the failed writes by block id."""
        return dict(self.report.failed) if self.report else {}

    @property
    def message(self) -> str | None:
        """Return a line for people describing what failed (None when nothing did)."""
        failures = [self.failure] if self.failure else []
        failures += [*self.failed_sources.values(), *self.write_failures.values()]
        return "; ".join(dict.fromkeys(f.describe() for f in failures)) or None


@dataclass(frozen=True)
class FlowOutcome:
    """What the last pass did for one flow: counts per table column, its failures, deletions held."""

    flow_name: str
    ok: bool
    message: str | None
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()
    held: tuple[tuple[str, HoldReason], ...] = ()  # deletions held in the flow's target (block id, why)
    held_by: tuple[str, ...] = ()  # the flows into that target whose read failed
    failing_since: datetime | None = None  # the first of an unbroken run of failed passes

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

    @property
    def held(self) -> int:
        """Return how many deletions the pass held back, in every target."""
        return sum(len(outcome.held) for outcome in self.targets)


def flow_outcomes(
    settings: Settings, outcomes: Iterable[TargetOutcome], at: datetime
) -> dict[str, FlowOutcome]:
    """Return the outcome of every flow into the reconciled targets."""
    flows: dict[str, FlowOutcome] = {}
    for outcome in outcomes:
        into = settings.flows_into(outcome.target)
        names = frozenset(flow.name for flow in into)
        held_by = tuple(flow.name for flow in into if flow.id in outcome.failed_sources)
        for flow in into:
            failures = _failures(outcome, flow, names)
            counts = count_columns(outcome.results, flow.name, names)
            failed_reads = (flow.id in outcome.failed_sources) + (outcome.report is None)
            counts["error"] = counts.get("error", 0) + failed_reads
            message = "; ".join(dict.fromkeys(_line(f) for f in failures))
            if counts.get("unknown"):  # not an error: the next pass reads the calendar and finishes the job
                message += ("; " if message else "") + (
                    f"{counts['unknown']} write(s) got no answer and may have happened"
                )
            flows[flow.name] = FlowOutcome(
                flow.name,
                counts["error"] == 0,
                message or None,
                at,
                counts,
                failures,
                outcome.held,
                held_by,
            )
    return flows


def _failures(outcome: TargetOutcome, flow: Flow, names: frozenset[str]) -> tuple[Failure, ...]:
    """Return what failed for one flow: its source's read, the target's read, its failed results."""
    failures = [outcome.failed_sources[flow.id]] if flow.id in outcome.failed_sources else []
    if outcome.failure is not None:
        failures.append(outcome.failure)
    written = outcome.write_failures
    for result in outcome.results:
        if result.action != "error" or not _belongs(result, flow.name, names):
            continue
        if result.block_id in written:
            failures.append(written[result.block_id])
        else:  # the planner's only error: a meeting whose start/end cannot be read
            src = flow.source
            failures.append(
                Failure("unusable_times", "source", src.calendar_id, src.account_id, "read", None, None)
            )
    return tuple(dict.fromkeys(failures))


def _line(failure: Failure) -> str:
    """Return a failure as people read it: what failed and the provider's words."""
    if failure.kind == "unusable_times":
        return f"a meeting in the source calendar {failure.calendar} has unusable start/end times"
    return f"{failure.describe()} ({failure.detail})" if failure.detail else failure.describe()


def _belongs(result: EventProcessingResult, flow_name: str, target_flows: frozenset[str]) -> bool:
    """Tell whether a result counts for a flow: its own, or one naming no single flow of the target."""
    return result.flow_name == flow_name or result.flow_name not in target_flows


def count_columns(
    results: Iterable[EventProcessingResult], flow_name: str, target_flows: frozenset[str]
) -> dict[str, int]:
    """Count one flow's results per table column.

    A result naming no single flow of the target (a deleted block names every flow into its target)
    belongs to the target, so it counts for each of them.
    """
    counts: Counter[str] = Counter()
    for result in results:
        if _belongs(result, flow_name, target_flows):
            counts[result.action] += 1
    return dict(counts)
