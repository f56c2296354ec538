"""What one pass logs: a line when it wrote, one WARNING each for its failed writes and a guard's hold."""

from __future__ import annotations

import logging
from collections import Counter

from calmirror.config import CalendarRef
from calmirror.engine.executor import ExecutionReport
from calmirror.engine.guard import GUARD_FIX
from calmirror.engine.model import Plan, Trigger

log = logging.getLogger(__name__)


def log_pass(target: CalendarRef, trigger: Trigger, plan: Plan, report: ExecutionReport) -> None:
    """Log one target's pass: failed writes and a guard hold once each at WARNING, the writes at INFO."""
    if report.failed:
        _log_failed_writes(target, report)
    if plan.guarded and not report.dry_run:
        _log_guard(target, len(plan.guarded))
    if plan.writes:
        log.info(
            "%s %s (%s): %d created, %d restored, %d deleted, %d existed, %d unknown, %d failed",
            "planned" if report.dry_run else "reconciled", target, trigger,
            len(report.created), len(report.restored), len(report.deleted),
            len(report.existed), len(report.unknown), len(report.failed),
        )  # fmt: skip


def _log_failed_writes(target: CalendarRef, report: ExecutionReport) -> None:
    """Log a pass's failed writes to one target once, at WARNING: the calendar, count and each reason."""
    reasons = Counter(f"{failure.answer} ({failure.kind})" for _, failure in report.failed)
    listed = ", ".join(f"{count} x {reason}" for reason, count in sorted(reasons.items()))
    log.warning(
        "%d write(s) to target %s failed: %s", len(report.failed), target, listed,
        extra={"fields": {"event": "writes_failed", "target": str(target), "failed": len(report.failed),
                          "reasons": sorted(reasons)}},
    )  # fmt: skip


def _log_guard(target: CalendarRef, count: int) -> None:
    """Log once per pass that the deletion guard holds a target's deletions, and what a person does."""
    log.warning(
        "deletion guard: %d deletion(s) in target %s held, none made; %s", count, target, GUARD_FIX,
        extra={"fields": {"event": "deletions_guarded", "target": str(target), "held": count}},
    )  # fmt: skip
