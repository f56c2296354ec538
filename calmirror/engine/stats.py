"""The engine's counters (SyncEngineStats), the bounded results ledger and per-flow status."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel

from calmirror.config import CalendarRef, Settings
from calmirror.engine.model import EventProcessingResult, Plan
from calmirror.engine.outcomes import FlowOutcome, TargetOutcome, flow_outcomes

RECENT_RESULTS = 1000


class SyncEngineStats(BaseModel):
    """The engine's statistics, served by /api/v1/calendar/stats."""

    events_processed: int
    busy_blocks_created: int
    busy_blocks_deleted: int
    errors: int
    accounts: int
    sync_flows: int
    last_updated: str


class Ledger:
    """What the engine has done: counters, recent results, each flow's and target's status."""

    def __init__(self, *, accounts: int, flows: int, recent_size: int = RECENT_RESULTS) -> None:
        self.accounts = accounts
        self.flows = flows
        self.events_processed = 0
        self.created = 0
        self.deleted = 0
        self.errors = 0
        self.last_updated: datetime | None = None
        self.recent: deque[EventProcessingResult] = deque(maxlen=recent_size)
        self.flow_status: dict[str, FlowOutcome] = {}
        self.target_status: dict[CalendarRef, TargetOutcome] = {}  # each target's last reconcile

    def record(self, results: Iterable[EventProcessingResult], at: datetime) -> None:
        """Count one pass's results (dry runs are not recorded) and append them to the ledger."""
        for result in results:
            self.recent.append(result)
            self.events_processed += 1
            if result.action in ("created", "restored"):  # either way a block was written
                self.created += 1
            elif result.action == "deleted":
                self.deleted += 1
            elif result.action == "error":
                self.errors += 1
        self.last_updated = at

    def record_run(self, outcome: TargetOutcome, settings: Settings, at: datetime) -> None:
        """Count one reconcile once, however many callers it served: results, failures, flow status."""
        self.record(outcome.results, at)
        if outcome.report is None or outcome.failed_sources:  # a failed write has its result
            self.record_failure(at)
        self.target_status[outcome.target] = outcome = self._keep_holds(outcome)
        for name, flow in flow_outcomes(settings, (outcome,), at).items():
            self.flow_status[name] = self._with_since(flow)

    def _keep_holds(self, outcome: TargetOutcome) -> TargetOutcome:
        """Return the outcome, with the last known holds when this pass could not plan at all.

        A target that could not be read says nothing about its held deletions: they stay visible (and
        the guard's alert firing) until a pass that planned releases or confirms them.
        """
        before = self.target_status.get(outcome.target)
        if outcome.plan is not None or before is None or before.plan is None or not before.plan.held:
            return outcome
        return replace(outcome, plan=Plan(held=before.plan.held, guarded=before.plan.guarded))

    def _with_since(self, flow: FlowOutcome) -> FlowOutcome:
        """Return a flow's outcome with when its unbroken run of failed passes began (None when ok)."""
        if flow.ok:
            return flow
        before = self.flow_status.get(flow.flow_name)
        since = before.failing_since if before is not None and not before.ok else None
        return replace(flow, failing_since=since or flow.at)

    def record_failure(self, at: datetime) -> None:
        """Count a failure that produced no per-event result (a failed read or reconcile)."""
        self.errors += 1
        self.last_updated = at

    def snapshot(self) -> SyncEngineStats:
        """Return the SyncEngineStats counters."""
        return SyncEngineStats(
            events_processed=self.events_processed,
            busy_blocks_created=self.created,
            busy_blocks_deleted=self.deleted,
            errors=self.errors,
            accounts=self.accounts,
            sync_flows=self.flows,
            last_updated=self.last_updated.isoformat() if self.last_updated else "",
        )
