"""The pure reconcile planner: listed events in, the writes a target calendar needs out (design.md §3-§4).

Decisions recorded here:

- Wanted interval: timed events `[start - start_offset, end + end_offset]` in UTC; all-day events
  their own date range. The desired set is the union over every flow into the target.
- Blocks are the marked, non-cancelled events of the target; unmarked events are invisible (a user's
  own "Busy" event at a desired interval still gets our block beside it, since we cannot own theirs).
  Cancelled events listed from the target join `tombstones`.
- Several blocks at one desired interval: the one with the deterministic id stays (else the smallest
  id), the rest are deleted. A block whose interval is still desired stays, whoever asked for it.
- Coverage: a desired timed interval wholly inside the union of the other desired timed intervals that
  keep or get a block needs no block of its own ("covered"). Missing intervals are decided longest
  first, then by start and end, so the plan is a function of the inputs alone and a second plan after
  applying this one is empty. All-day intervals never cover and are never covered. Blocks kept only
  because they may not be deleted never count as cover.
- `sources` must hold every event of each flow's source that overlaps the window (Google's strict
  rule, `Window.lists`). A block may be deleted only when, for every flow into the target, the source
  interval that flow would need for it (`offsets.source_interval`: the block minus the flow's offsets, or the
  block's dates when all-day) would have been listed: then any event still wanting the block is in
  `sources`. So a block longer than the window, or straddling an edge, is deleted once its meeting is
  gone, while a block whose meeting may lie outside the window stays. No deletions at all when a
  flow's read failed, is missing from `sources`, or lists a live event whose times cannot be read
  (its block cannot be told from an orphan).
- A create whose deterministic id is a tombstone, or a block this plan deletes, becomes a restore
  (the executor deletes first). When the id is held by another live event (a block someone dragged to
  another time that stays), the next salted id is used instead, so the plan still converges.
- Deletion guard (`engine/guard.py`): when the deletions exceed both of its thresholds, counted
  against the calmirror blocks in the target's listing, none is made; they are held with reason
  `guard` (and kept in `Plan.guarded` with their times), and creates never reuse their ids.
- Results: one per flow and listed source event; a deleted block gets a result of its own (see
  `EventProcessingResult`). Everything is sorted, so input order never changes the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from calmirror.config import CalendarRef, Flow
from calmirror.engine.cover import Cover
from calmirror.engine.filters import skip_reason
from calmirror.engine.guard import GUARD_OFF, DeletionGuard
from calmirror.engine.ids import block_id
from calmirror.engine.model import (
    Action,
    BlockSpec,
    EventProcessingResult,
    HoldReason,
    Interval,
    Plan,
    SourceEvent,
    TargetBlock,
    Trigger,
    Window,
)
from calmirror.engine.offsets import deletable, wanted_interval


@dataclass
class _Demand:
    """What the target's flows ask for: desired intervals with titles, and each event's verdict."""

    titles: dict[Interval, str] = field(default_factory=dict)
    wanting: list[tuple[Flow, SourceEvent, Interval]] = field(default_factory=list)
    results: list[EventProcessingResult] = field(default_factory=list)
    hold: HoldReason | None = None  # why no block may be deleted in this pass (None: deletions allowed)


def _collect_demand(
    flows: Sequence[Flow],
    sources: Mapping[int, Sequence[SourceEvent] | None],
    target_identities: frozenset[str],
    trigger: Trigger,
) -> _Demand:
    """Filter every flow's source events and gather the intervals they want."""
    demand = _Demand()
    for flow in flows:  # sorted by id: the first flow wanting an interval names its block
        events = sources.get(flow.id)
        if events is None:
            demand.hold = "source_unread"
            continue
        for event in events:
            reason = skip_reason(event, flow, target_identities)
            if reason is None and event.interval is None:
                demand.hold = demand.hold or "unusable_times"
            if reason is not None or event.interval is None:
                demand.results.append(_verdict(flow, event, trigger, reason))
                continue
            wanted = wanted_interval(event.interval, flow)
            demand.titles.setdefault(wanted, flow.block_title)
            demand.wanting.append((flow, event, wanted))
    return demand


def _verdict(flow: Flow, event: SourceEvent, trigger: Trigger, reason: str | None) -> EventProcessingResult:
    """Return the result of an event that gets no block: skipped by a filter, or unusable times."""
    return EventProcessingResult(
        flow_name=flow.name,
        event_id=event.id,
        event_title=event.summary,
        sync_type=trigger,
        success=reason is not None,
        action="skipped" if reason is not None else "error",
        error=None if reason is not None else f"unusable start/end: {event.time_problem}",
        reason=reason,
    )


@dataclass
class _Target:
    """The target calendar as the planner sees it: blocks by interval, tombstones, ids in use."""

    blocks: dict[Interval, list[TargetBlock]] = field(default_factory=lambda: defaultdict(list))
    tombstones: set[str] = field(default_factory=set)
    live_ids: set[str] = field(default_factory=set)

    @property
    def block_count(self) -> int:
        """Return how many of calmirror's live blocks the listing holds."""
        return sum(len(group) for group in self.blocks.values())


def _read_target(target_events: Iterable[SourceEvent | TargetBlock], tombstones: frozenset[str]) -> _Target:
    """Pick calmirror's blocks, the tombstones and the ids in use out of the target's listing."""
    seen = _Target(tombstones=set(tombstones))
    for item in target_events:
        block: TargetBlock | None = item if isinstance(item, TargetBlock) else None
        if isinstance(item, SourceEvent):
            if item.cancelled:
                seen.tombstones.add(item.id)
                continue
            block = item.as_block()  # None when not ours: never matched, kept, deleted or returned
        seen.live_ids.add(item.id)
        if block is not None:
            seen.blocks[block.interval].append(block)
    return seen


def _match_blocks(
    target: CalendarRef, flows: Sequence[Flow], seen: _Target, demand: _Demand, window: Window
) -> tuple[dict[Interval, str], list[tuple[TargetBlock, str]], list[TargetBlock]]:
    """Keep one block per desired interval; return the kept ids, the deletable rest, and those held."""
    kept: dict[Interval, str] = {}
    deletes: list[tuple[TargetBlock, str]] = []
    held: list[TargetBlock] = []
    for interval, group in seen.blocks.items():
        own_id = block_id(target.calendar_id, interval)
        group.sort(key=lambda block: (block.id != own_id, block.id))
        if interval in demand.titles:
            kept[interval] = group[0].id
            doomed, reason = group[1:], "a second block at the same time"
        else:
            doomed, reason = group, "no meeting needs it any more"
        if deletable(interval, flows, window):
            if demand.hold is None:
                deletes.extend((block, reason) for block in doomed)
            else:
                held.extend(doomed)
        # Otherwise they stay untouched, and never count as cover (only desired blocks do).
    return kept, deletes, held


def _missing_order(interval: Interval) -> tuple[bool, timedelta, Interval]:
    """Sort key for missing intervals: timed before all-day, longest first, then by start and end."""
    return (interval.all_day, -interval.duration, interval)


def _choose_missing(
    target: CalendarRef, seen: _Target, demand: _Demand, kept: Mapping[Interval, str], deleted: set[str]
) -> dict[Interval, tuple[BlockSpec, bool]]:
    """Return a spec for every desired interval that has no block and is not covered, with restore flag."""
    cover = Cover(interval for interval in kept if not interval.all_day)
    staying = seen.live_ids - deleted
    chosen: dict[Interval, tuple[BlockSpec, bool]] = {}
    for interval in sorted(demand.titles.keys() - kept.keys(), key=_missing_order):
        if not interval.all_day:
            if cover.covers(interval):
                continue
            cover.add(interval)
        salt = 0
        while (spec_id := block_id(target.calendar_id, interval, salt=salt)) in staying:
            salt += 1
        spec = BlockSpec(interval=interval, id=spec_id, title=demand.titles[interval])
        chosen[interval] = (spec, spec_id in seen.tombstones or spec_id in deleted)
    return chosen


def _event_result(
    flow: Flow,
    event: SourceEvent,
    wanted: Interval,
    *,
    trigger: Trigger,
    kept: Mapping[Interval, str],
    chosen: Mapping[Interval, tuple[BlockSpec, bool]],
) -> EventProcessingResult:
    """Return the result of a qualifying event: its block exists, is written now, or it is covered."""
    action: Action
    if wanted in kept:
        action, reason, block = "existed", "block exists", kept[wanted]
    elif wanted in chosen:
        spec, restore = chosen[wanted]
        action = "restored" if restore else "created"
        reason, block = action, spec.id
    else:
        action, reason, block = "existed", "covered", None
    return EventProcessingResult(
        flow_name=flow.name,
        event_id=event.id,
        event_title=event.summary,
        sync_type=trigger,
        success=True,
        action=action,
        reason=reason,
        block_id=block,
        interval=wanted,
    )


def _deleted_result(
    block: TargetBlock, reason: str, flow_names: str, trigger: Trigger
) -> EventProcessingResult:
    """Return the result of deleting a block, which no source event stands behind."""
    return EventProcessingResult(
        flow_name=flow_names,
        event_id=block.id,
        event_title="",
        sync_type=trigger,
        success=True,
        action="deleted",
        reason=reason,
        block_id=block.id,
        interval=block.interval,
    )


def _result_order(result: EventProcessingResult) -> tuple[object, ...]:
    """Sort key that makes the results independent of listing order."""
    interval = () if result.interval is None else (result.interval,)
    return (
        result.event_id,
        result.action,
        result.reason or "",
        result.block_id or "",
        interval,
        result.event_title,
    )


def plan_target(
    target: CalendarRef,
    flows: Sequence[Flow],
    sources: Mapping[int, Sequence[SourceEvent] | None],
    target_events: Sequence[SourceEvent | TargetBlock],
    window: Window,
    *,
    target_identities: frozenset[str],
    tombstones: frozenset[str] = frozenset(),
    trigger: Trigger = "poll",
    guard: DeletionGuard = GUARD_OFF,
) -> Plan:
    """Plan the creates, restores and deletes that make the target's blocks match its flows' sources."""
    if any(flow.target != target for flow in flows):
        raise ValueError(f"every flow given to plan_target must target {target}")
    ordered = sorted(flows, key=lambda flow: flow.id)
    demand = _collect_demand(ordered, sources, target_identities, trigger)
    seen = _read_target(target_events, tombstones)
    kept, deletes, held = _match_blocks(target, ordered, seen, demand, window)
    guarded: list[TargetBlock] = []
    if deletes and guard.holds(seen.block_count, len(deletes)):
        guarded, deletes = sorted(block for block, _ in deletes), []
    chosen = _choose_missing(target, seen, demand, kept, {block.id for block, _ in deletes})

    flow_names = ", ".join(flow.name for flow in ordered)
    results = demand.results
    results.extend(_event_result(*want, trigger=trigger, kept=kept, chosen=chosen) for want in demand.wanting)
    results.extend(_deleted_result(block, reason, flow_names, trigger) for block, reason in deletes)
    rank = {flow.name: index for index, flow in enumerate(ordered)}
    results.sort(key=lambda result: (rank.get(result.flow_name, len(rank)), *_result_order(result)))
    specs = sorted(chosen.values())
    return Plan(
        creates=tuple(spec for spec, restore in specs if not restore),
        restores=tuple(spec for spec, restore in specs if restore),
        deletes=tuple(sorted(block for block, _ in deletes)),
        results=tuple(results),
        held=_held(held, demand.hold, guarded),
        guarded=tuple(guarded),
    )


def _held(
    held: Iterable[TargetBlock], hold: HoldReason | None, guarded: Iterable[TargetBlock]
) -> tuple[tuple[str, HoldReason], ...]:
    """Return (block id, why) of every deletion the plan holds back, sorted."""
    why: list[tuple[str, HoldReason]] = [(block.id, hold) for block in held if hold is not None]
    why += [(block.id, "guard") for block in guarded]
    return tuple(sorted(why))
