"""Remove every block calmirror owns from a target calendar, found by the mark alone, in any time range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calmirror.config import CalendarRef
from calmirror.engine.ids import MARK_KEY, MARK_VALUE, is_marked
from calmirror.errors import GoneError, NotFoundError, ProviderError
from calmirror.google.writes import Delete

if TYPE_CHECKING:
    from calmirror.google.client import CalendarClient


@dataclass(frozen=True)
class PurgeOutcome:
    """What purging one target removed (or would remove), and what failed."""

    target: CalendarRef
    found: tuple[dict[str, Any], ...] = ()  # the marked events listed
    deleted: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (event id, why)
    error: str | None = None  # the listing itself failed
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether every block found was removed."""
        return self.error is None and not self.failed


async def purge_target(client: CalendarClient, target: CalendarRef, *, dry_run: bool = False) -> PurgeOutcome:
    """List the target's marked events without time bounds and delete them (or only list them)."""
    try:
        # Blocks are single events; not expanding series keeps an unbounded listing cheap.
        listing = await client.list_events(
            target.calendar_id, private_property=(MARK_KEY, MARK_VALUE), single_events=False
        )
    except ProviderError as exc:
        return PurgeOutcome(target, error=f"listing failed: {exc}", dry_run=dry_run)
    # The server filters by the mark; checking again costs nothing and guards a lax server.
    found = tuple(e for e in listing.events if is_marked(e) and e.get("status") != "cancelled")
    if dry_run:
        return PurgeOutcome(target, found, deleted=tuple(event["id"] for event in found), dry_run=True)
    outcomes = await client.apply_writes([Delete(target.calendar_id, event["id"]) for event in found])
    deleted, failed = [], []
    for event, outcome in zip(found, outcomes, strict=True):
        if outcome.error is None or isinstance(outcome.error, GoneError | NotFoundError):
            deleted.append(event["id"])
        else:
            failed.append((event["id"], str(outcome.error)))
    return PurgeOutcome(target, found, tuple(deleted), tuple(failed))
