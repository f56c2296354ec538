"""The plain-text tables the commands print: what a sync pass and a purge did."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from calmirror.engine.outcomes import COLUMNS, SyncSummary
from calmirror.engine.purge import PurgeOutcome

SYNC_HEADER = ("flow", *COLUMNS[:-1], "errors", "status")  # the count columns, "error" as "errors"


def table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows as left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def sync_table(summary: SyncSummary, *, dry_run: bool) -> str:
    """Return the per-flow table of what a pass did (or, in a dry run, would do), then any problems."""
    rows: list[Sequence[str]] = [SYNC_HEADER]
    problems = []
    for name, outcome in summary.flows.items():
        status = ("ok" if outcome.ok else "error") + (" (dry run)" if dry_run else "")
        rows.append((name, *(str(outcome.count(column)) for column in COLUMNS), status))
        if outcome.message:
            problems.append(f"{name}: {outcome.message}")
    return "\n".join([table(rows), *problems])


def purge_lines(outcomes: Iterable[PurgeOutcome]) -> str:
    """Return one line per removed (or, in a dry run, removable) block and a line per target."""
    lines = []
    for outcome in outcomes:
        verb = "would remove" if outcome.dry_run else "removed"
        for event in outcome.found:
            if event["id"] in outcome.deleted:
                when = event.get("start", {})
                lines.append(
                    f"{verb} {outcome.target}: {event['id']} at {when.get('dateTime') or when.get('date')}"
                )
        for event_id, why in outcome.failed:
            lines.append(f"failed {outcome.target}: {event_id}: {why}")
        if outcome.error:
            lines.append(f"failed {outcome.target}: {outcome.error}")
        lines.append(f"{outcome.target}: {verb} {len(outcome.deleted)} block(s)")
    return "\n".join(lines)
