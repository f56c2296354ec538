"""The plain-text tables the commands print: what a sync pass and a purge did."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from calmirror.commands._hints import with_next_step
from calmirror.config import Settings
from calmirror.engine import (
    COLUMNS,
    GUARD_FIX,
    EventProcessingResult,
    FlowOutcome,
    Interval,
    PurgeOutcome,
    SyncSummary,
)

_NEVER = Interval(datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))  # sorts first
SYNC_HEADER = ("flow", *COLUMNS[:-1], "errors", "status")  # the count columns, "error" as "errors"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows as left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def sync_table(summary: SyncSummary, settings: Settings, *, dry_run: bool) -> str:
    """Return the per-flow table of what a pass did (or, in a dry run, would do), then any problems."""
    rows: list[Sequence[str]] = [SYNC_HEADER]
    problems = []
    for name, outcome in summary.flows.items():
        state = "error" if not outcome.ok else "held" if outcome.held else "ok"
        status = state + (" (dry run)" if dry_run else "")
        rows.append((name, *(str(outcome.count(column)) for column in COLUMNS), status))
        if outcome.message:
            problems.append(f"{name}: {with_next_step(settings, outcome)}")
        if outcome.held:
            problems.append(f"{name}: {_held_line(outcome)}")
    return "\n".join([table(rows), *problems])


def _held_line(outcome: FlowOutcome) -> str:
    """Return the line saying which deletions in a flow's target were held back, and because of what."""
    reasons = ", ".join(sorted({reason for _, reason in outcome.held}))
    because = f" (read of {', '.join(outcome.held_by)} failed)" if outcome.held_by else ""
    fix = f"; {GUARD_FIX}" if any(reason == "guard" for _, reason in outcome.held) else ""
    return f"{len(outcome.held)} deletion(s) in its target held back: {reasons}{because}{fix}"


def purge_lines(outcomes: Iterable[PurgeOutcome]) -> str:
    """Return one line per removed (or, in a dry run, removable) block and a line per target."""
    lines = []
    for outcome in outcomes:
        verb = "would remove" if outcome.dry_run else "removed"
        for event in outcome.found:
            if event.id in outcome.deleted:
                lines.append(f"{verb} {outcome.target}: {event.id} at {_when(event.interval)}")
        for event_id, why in outcome.failed:
            lines.append(f"failed {outcome.target}: {event_id}: {why}")
        if outcome.error:
            lines.append(f"failed {outcome.target}: {outcome.error}")
        lines.append(f"{outcome.target}: {verb} {len(outcome.deleted)} block(s)")
    return "\n".join(lines)


_GUARDED = "(a calmirror block): held by the deletion guard"
_VERBS = {"created": "create", "restored": "restore", "deleted": "delete", "skipped": "skip"}
_LISTED = ("created", "restored", "deleted", "skipped", "error", "unknown")


def _action(result: EventProcessingResult) -> str:
    """Return what happened to the event, a restore counting as an action of its own."""
    action: str = result.action
    return "restored" if result.reason == "restored" else action


def _when(interval: Interval | None) -> str:
    """Return a block's time as `2026-05-04 09:55-11:05 UTC`, or its dates when all-day."""
    if interval is None:
        return ""
    if interval.all_day:
        last = interval.end_date - timedelta(days=1)
        return f"{interval.start_date}" + ("" if last == interval.start_date else f" to {last}") + " all day"
    end = (
        f"{interval.end:%H:%M}"
        if interval.end.date() == interval.start.date()
        else f"{interval.end:%Y-%m-%d %H:%M}"
    )
    return f"{interval.start:%Y-%m-%d %H:%M}-{end} UTC"


def event_lines(summary: SyncSummary, *, dry_run: bool) -> list[str]:
    """Return one line per block written (or, in a dry run, to write) or removed, and per skipped event.

    These lines carry meeting titles, so they go to the user's terminal only, never to a log.
    """
    rows: list[Sequence[str]] = []
    for outcome in summary.targets:
        for result in sorted(
            outcome.results, key=lambda r: (r.flow_name, r.interval or _NEVER, r.event_title)
        ):
            action = _action(result)
            if action not in _LISTED:
                continue
            verb = _VERBS.get(action, action)
            if dry_run and action != "skipped":
                verb = f"would {verb}"
            title = result.event_title or ("(a calmirror block)" if action == "deleted" else "(no title)")
            why = result.error if action in ("error", "unknown") else result.reason
            detail = why if why and why not in ("created", "restored") else ""
            rows.append(
                (verb, result.flow_name, _when(result.interval), title + (f": {detail}" if detail else ""))
            )
        held = outcome.plan.guarded if outcome.plan else ()
        rows += [("hold", f"target {outcome.target}", _when(b.interval), _GUARDED) for b in held]
    return table(rows).splitlines() if rows else []
