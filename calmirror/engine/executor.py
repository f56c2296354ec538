"""Carry out a Plan through a provider's write_blocks: deletes first, then creates and restores.

A write whose every attempt went unanswered (the connection broke or timed out after sending) may
have happened: it is reported as `unknown`, never as an error, and the caller must re-read the
calendar before trusting its picture of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from calmirror.engine.model import Action, BlockSpec, EventProcessingResult, Plan, SourceEvent
from calmirror.engine.provider import BlockOutcome, CalendarProvider, Create, Remove, Restore
from calmirror.errors import DuplicateError, Failure, GoneError, NoAnswerError, NotFoundError, ProviderError

WRITING: frozenset[Action] = frozenset({"created", "restored", "deleted"})  # results a write can change
_VERB = {"created": "create", "restored": "restore", "deleted": "delete"}


@dataclass(frozen=True)
class ExecutionReport:
    """What carrying out one plan did: block ids per outcome, the events written, adjusted results."""

    results: tuple[EventProcessingResult, ...] = ()
    created: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    existed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    failed: tuple[tuple[str, Failure], ...] = ()  # (block id, why)
    unknown: tuple[tuple[str, str], ...] = ()  # (block id, why): no answer, the write may have happened
    written: tuple[SourceEvent, ...] = ()  # live blocks as the calendar returned them, for its cache
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether every write of the plan succeeded."""
        return not self.failed


@dataclass
class _Tally:
    """The outcomes collected while executing one plan in one calendar."""

    calendar_id: str
    created: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    existed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    written: list[SourceEvent] = field(default_factory=list)

    def settle_error(self, event_id: str, error: ProviderError) -> None:
        """Record a write that did not succeed: unknown when no answer came, else failed."""
        if _unanswered(error):
            self.unknown[event_id] = _describe(error)
        else:
            self.failed[event_id] = Failure.of(error, "target", self.calendar_id, "write")

    def report(self, results: Sequence[EventProcessingResult]) -> ExecutionReport:
        """Freeze the tally, adjusting each planned result to what its write turned out to do."""
        adjusted = tuple(self._adjust(planned) for planned in results)
        return ExecutionReport(
            results=adjusted,
            created=tuple(self.created),
            restored=tuple(self.restored),
            existed=tuple(self.existed),
            deleted=tuple(self.deleted),
            failed=tuple(self.failed.items()),
            unknown=tuple(self.unknown.items()),
            written=tuple(self.written),
        )

    def _adjust(self, planned: EventProcessingResult) -> EventProcessingResult:
        """Return a planned result as its write ended: failed, unanswered, found existing or restored."""
        block, replace = planned.block_id, dataclasses.replace
        if block is None or planned.action not in WRITING:
            return planned
        if block in self.failed:
            failure = self.failed[block]
            # The reason says what failed (never the planned action, which did not happen).
            why = f"{_VERB[planned.action]} failed: {failure.kind}"
            return replace(planned, action="error", success=False, error=failure.detail, reason=why)
        if block in self.unknown:
            why = f"no answer ({self.unknown[block]}); the next pass checks whether it happened"
            return replace(planned, action="unknown", reason=why)
        if planned.action == "created" and block in self.existed:
            return replace(planned, action="existed")
        if planned.action == "created" and block in self.restored:  # its id turned out to be a tombstone
            return replace(planned, action="restored", reason="restored")
        return planned


async def apply_plan(
    provider: CalendarProvider, calendar_id: str, plan: Plan, *, dry_run: bool = False
) -> ExecutionReport:
    """Carry out `plan` in one calendar; a failed write is reported, and the next pass finishes the job."""
    if dry_run:
        return ExecutionReport(
            results=plan.results,
            created=tuple(spec.id for spec in plan.creates),
            restored=tuple(spec.id for spec in plan.restores),
            deleted=tuple(block.id for block in plan.deletes),
            dry_run=True,
        )
    tally = _Tally(calendar_id)
    removes = [Remove(block.id) for block in plan.deletes]
    writes: list[Create | Restore] = [Create(spec) for spec in plan.creates]
    writes += [Restore(spec) for spec in plan.restores]
    if not {remove.block_id for remove in removes}.isdisjoint(write.spec.id for write in writes):
        # A restore reuses the id of a block this plan deletes, and a batch's parts may run in any
        # order: the deletes go out first, on their own.
        await _send(provider, calendar_id, removes, [], tally)
        removes = []
    await _send(provider, calendar_id, removes, writes, tally)
    return tally.report(plan.results)


async def _send(
    provider: CalendarProvider,
    calendar_id: str,
    removes: list[Remove],
    writes: list[Create | Restore],
    tally: _Tally,
) -> None:
    """Send deletes and block writes together; resolve taken ids and vanished tombstones in a second round."""
    outcomes = await provider.write_blocks(calendar_id, [*removes, *writes])
    for remove, outcome in zip(removes, outcomes, strict=False):
        # An answer saying the event is already gone counts as done.
        if outcome.error is None or isinstance(outcome.error, GoneError | NotFoundError):
            tally.deleted.append(remove.block_id)
        else:
            tally.settle_error(remove.block_id, outcome.error)
    conflicts: list[BlockSpec] = []
    second: list[Create | Restore] = []
    for write, outcome in zip(writes, outcomes[len(removes) :], strict=True):
        if isinstance(write, Create) and isinstance(outcome.error, DuplicateError):
            conflicts.append(write.spec)
        elif isinstance(write, Restore) and isinstance(outcome.error, NotFoundError | GoneError):
            second.append(Create(write.spec))  # the tombstone was purged
        else:
            _settle(write, outcome, tally)
    second += await _resolve_conflicts(provider, calendar_id, conflicts, tally)
    if second:
        for write, outcome in zip(second, await provider.write_blocks(calendar_id, second), strict=True):
            _settle(write, outcome, tally)


def _settle(write: Create | Restore, outcome: BlockOutcome, tally: _Tally) -> None:
    """Record the final outcome of one create or restore."""
    if outcome.error is not None:
        tally.settle_error(write.spec.id, outcome.error)
        return
    if outcome.event is not None:
        tally.written.append(outcome.event)
    (tally.created if isinstance(write, Create) else tally.restored).append(write.spec.id)


async def _resolve_conflicts(
    provider: CalendarProvider, calendar_id: str, specs: Sequence[BlockSpec], tally: _Tally
) -> list[Create | Restore]:
    """Look at each event whose id a create found taken; return the writes it needs."""
    found = await asyncio.gather(
        *(provider.get_block(calendar_id, spec.id) for spec in specs), return_exceptions=True
    )
    writes: list[Create | Restore] = []
    for spec, event in zip(specs, found, strict=True):
        if isinstance(event, ProviderError):
            tally.failed[spec.id] = Failure.of(event, "target", calendar_id, "write")
        elif isinstance(event, BaseException):
            raise event
        elif event is None:
            writes.append(Create(spec))  # it vanished between the two answers: create it again
        elif event.cancelled:
            # Google keeps a deleted event's id: reviving the tombstone is the only way to reuse it.
            writes.append(Restore(spec))
        elif not event.marked:
            why = "an event calmirror does not own already has this block's id"
            tally.failed[spec.id] = Failure(
                "conflict", "target", calendar_id, None, "write", 409, "duplicate", why
            )
        elif event.interval == spec.interval:
            tally.existed.append(spec.id)
            tally.written.append(event)
        else:
            writes.append(Restore(spec))  # ours, edited
    return writes


def _unanswered(error: ProviderError) -> bool:
    """Tell whether a write got no answer at all (broken connection, timeout), so it may have happened."""
    return isinstance(error, NoAnswerError)


def _describe(error: ProviderError) -> str:
    """Return a short message for a failed write (translated messages carry no secrets)."""
    status = f"{error.status} " if error.status else ""
    return f"{status}{type(error).__name__}: {error}"
