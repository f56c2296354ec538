"""Remove every block calmirror owns from a target calendar, found by the mark alone, in any time range."""

from __future__ import annotations

from dataclasses import dataclass

from calmirror.config import CalendarRef
from calmirror.engine.model import SourceEvent
from calmirror.engine.provider import CalendarProvider, Remove
from calmirror.errors import GoneError, NotFoundError, ProviderError


@dataclass(frozen=True)
class PurgeOutcome:
    """What purging one target removed (or would remove), and what failed."""

    target: CalendarRef
    found: tuple[SourceEvent, ...] = ()  # the marked events listed
    deleted: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (event id, why)
    error: str | None = None  # the listing itself failed
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether every block found was removed."""
        return self.error is None and not self.failed


async def purge_target(
    provider: CalendarProvider, target: CalendarRef, *, dry_run: bool = False
) -> PurgeOutcome:
    """List the target's marked events without time bounds and delete them (or only list them)."""
    try:
        found = await provider.list_blocks(target.calendar_id)
    except ProviderError as exc:
        return PurgeOutcome(target, error=f"listing failed: {exc}", dry_run=dry_run)
    if dry_run:
        return PurgeOutcome(target, found, deleted=tuple(event.id for event in found), dry_run=True)
    outcomes = await provider.write_blocks(target.calendar_id, [Remove(event.id) for event in found])
    deleted, failed = [], []
    for event, outcome in zip(found, outcomes, strict=True):
        if outcome.error is None or isinstance(outcome.error, GoneError | NotFoundError):
            deleted.append(event.id)
        else:
            failed.append((event.id, str(outcome.error)))
    return PurgeOutcome(target, found, tuple(deleted), tuple(failed))
