"""SyncEngine: calendar caches, serialised per-target reconciles, coalesced triggers and stats."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from calmirror.config import CalendarRef, Flow, Settings
from calmirror.config.calendars import PRIMARY
from calmirror.engine.cache import FORWARD_MARGIN, CalendarCache
from calmirror.engine.coalesce import Coalescer
from calmirror.engine.executor import ExecutionReport, apply_plan
from calmirror.engine.guard import GUARD_OFF, DeletionGuard
from calmirror.engine.model import EventProcessingResult, Plan, SourceEvent, Trigger, Window
from calmirror.engine.outcomes import FlowOutcome, SyncSummary, TargetOutcome, flow_outcomes
from calmirror.engine.passlog import log_pass
from calmirror.engine.planner import plan_target
from calmirror.engine.provider import CalendarProvider
from calmirror.engine.purge import PurgeOutcome, purge_target
from calmirror.engine.stats import Ledger, SyncEngineStats
from calmirror.errors import CalmirrorError, Failure, Side

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    """Return the wall clock in UTC."""
    return datetime.now(UTC)


class _TargetState:
    """The lock serialising reconciles of one target and the coalescer of its incremental runs."""

    def __init__(self, work: Callable[[], Awaitable[TargetOutcome]]) -> None:
        self.lock = asyncio.Lock()
        self.incremental = Coalescer(work)


class SyncEngine:
    """Keeps every target calendar's blocks equal to the desired set of its flows."""

    def __init__(
        self,
        settings: Settings,
        providers: Mapping[int, CalendarProvider],
        *,
        clock: Clock = _utcnow,
        cache_margin: timedelta = FORWARD_MARGIN,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.clock = clock
        self.cache_margin = cache_margin
        self.reconciles: Counter[CalendarRef] = Counter()  # runs per target (tests read it)
        self._caches: dict[CalendarRef, CalendarCache] = {}
        self._targets: dict[CalendarRef, _TargetState] = {}
        # Per settled target, the cache versions its last complete pass planned from.
        self._planned_from: dict[CalendarRef, dict[CalendarRef, int]] = {}
        self._stale: set[CalendarRef] = set()  # calendars with a trigger since their last read began
        self._ledger = Ledger(accounts=len(settings.accounts), flows=len(settings.flows))
        self._trigger: dict[CalendarRef, Trigger] = {}
        self._guard = DeletionGuard(settings.deletion_guard_min_blocks, settings.deletion_guard_percent)

    # --- public API ------------------------------------------------------------------------------

    def window(self, *, days_back: int, days_forward: int) -> Window:
        """Return a window around now, in whole minutes so that it moves smoothly."""
        now = self.clock().replace(second=0, microsecond=0)
        return Window(now - timedelta(days=days_back), now + timedelta(days=days_forward))

    def default_window(self) -> Window:
        """Return the daily reconcile's window around now."""
        days_back, days_forward = (
            self.settings.daily_reconcile_days_back,
            self.settings.daily_reconcile_days_forward,
        )
        return self.window(days_back=days_back, days_forward=days_forward)

    async def reconcile_all(
        self,
        window: Window | None = None,
        *,
        flows: Collection[str] | None = None,
        dry_run: bool = False,
        trigger: Trigger = "manual",
        allow_mass_deletion: bool = False,
    ) -> SyncSummary:
        """List every calendar involved from scratch, then plan and apply every affected target.

        `allow_mass_deletion` lifts the deletion guard for this pass: a person has looked.
        """
        guard = GUARD_OFF if allow_mass_deletion else self._guard
        window = window or self.default_window()
        targets = self._targets_of(flows)
        calendars = {ref for target in targets for ref in self._calendars_of(target)}
        await asyncio.gather(*(self._relist(ref, window) for ref in calendars))

        async def one(target: CalendarRef) -> TargetOutcome:
            async with self._target(target).lock:
                return await self._reconcile(target, window, dry_run=dry_run, trigger=trigger, guard=guard)

        outcomes = await asyncio.gather(*(one(target) for target in targets))
        return self._summarise(outcomes)

    async def calendars_changed(self, refs: Collection[CalendarRef], trigger: Trigger) -> SyncSummary:
        """Fetch several calendars' changes (one read each) and reconcile every target they feed.

        A poll names every calendar at once, so that no target's run reads a calendar that a later
        trigger of the same poll would mark as changed again.
        """
        targets = list(dict.fromkeys(target for ref in refs for target in self._fed_by(ref)))
        if not targets:
            return self._summarise(())
        # No await before every request is registered: a burst of triggers coalesces into one more run.
        self._stale.update(refs)
        for target in targets:
            self._trigger[target] = trigger
        outcomes = await asyncio.gather(*(self._target(target).incremental() for target in targets))
        return self._summarise(outcomes)

    async def purge(
        self, *, flows: Collection[str] | None = None, dry_run: bool = False
    ) -> list[PurgeOutcome]:
        """Remove every block calmirror owns from the affected targets, in any time range."""
        outcomes = []
        for target in self._targets_of(flows):
            async with self._target(target).lock:
                outcome = await purge_target(self.providers[target.account_id], target, dry_run=dry_run)
                if not dry_run:
                    self._cache(target).write_back((), outcome.deleted)
            outcomes.append(outcome)
        return outcomes

    def stats(self) -> SyncEngineStats:
        """Return the SyncEngineStats counters."""
        return self._ledger.snapshot()

    def target_status(self) -> dict[CalendarRef, TargetOutcome]:
        """Return the last reconcile of every target that has run."""
        return dict(self._ledger.target_status)

    def results(self) -> list[EventProcessingResult]:
        """Return the last results, oldest first (bounded)."""
        return list(self._ledger.recent)

    def flow_status(self) -> dict[str, FlowOutcome]:
        """Return the last outcome of every flow that has run."""
        return dict(self._ledger.flow_status)

    def cache(self, account_id: int, calendar_id: str) -> CalendarCache:
        """Return the cache of one calendar as seen by one account (created empty on first use)."""
        return self._cache(CalendarRef(account_id=account_id, calendar_id=calendar_id))

    # --- structure -------------------------------------------------------------------------------

    def _targets_of(self, names: Collection[str] | None) -> list[CalendarRef]:
        """Return the targets of the named flows (every target when None); unknown names raise."""
        if names is None:
            return list(self.settings.targets())
        known = {flow.name: flow for flow in self.settings.flows}
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise CalmirrorError(f"no such flow: {', '.join(unknown)}")
        return list(dict.fromkeys(known[name].target for name in names))

    def _calendars_of(self, target: CalendarRef) -> list[CalendarRef]:
        """Return the target and the sources of every flow into it."""
        return [target, *(flow.source for flow in self.settings.flows_into(target))]

    def _fed_by(self, ref: CalendarRef) -> list[CalendarRef]:
        """Return the targets whose reconcile depends on this calendar."""
        targets = [flow.target for flow in self.settings.flows_from(ref)]
        if ref in self.settings.targets():
            targets.append(ref)
        return list(dict.fromkeys(targets))

    def _cache(self, ref: CalendarRef) -> CalendarCache:
        """Return (creating on first use) the cache of one calendar."""
        if ref not in self._caches:
            provider = self.providers[ref.account_id]
            self._caches[ref] = CalendarCache(provider, ref.calendar_id, margin=self.cache_margin)
        return self._caches[ref]

    def _target(self, target: CalendarRef) -> _TargetState:
        """Return (creating on first use) the serialisation state of one target."""
        if target not in self._targets:

            async def work() -> TargetOutcome:
                async with self._targets[target].lock:
                    window = self.default_window()
                    calendars = set(self._calendars_of(target))
                    await asyncio.gather(*(self._catch_up(ref, window) for ref in calendars))
                    trigger = self._trigger.get(target, "webhook")
                    if trigger == "poll" and self._planned_from.get(target) == self._versions(target):
                        return self._confirm(target)
                    return await self._reconcile(target, window, trigger=trigger, guard=self._guard)

            self._targets[target] = _TargetState(work)
        return self._targets[target]

    async def _relist(self, ref: CalendarRef, window: Window) -> None:
        """List one calendar's window from scratch (covering every trigger seen so far)."""
        cache = self._cache(ref)
        async with cache.lock:
            self._stale.discard(ref)
            await cache.relist(window)

    async def _catch_up(self, ref: CalendarRef, window: Window) -> None:
        """Read a calendar only if a trigger arrived since its last read, or its cache cannot serve."""
        cache = self._cache(ref)
        async with cache.lock:
            if cache.ready(window) and ref not in self._stale:
                return
            self._stale.discard(ref)  # before reading: a trigger arriving meanwhile needs another read
            await cache.refresh(window)

    def _versions(self, target: CalendarRef) -> dict[CalendarRef, int]:
        """Return the cache version of the target and of every source it is planned from (-1: unread)."""
        caches = {ref: self._cache(ref) for ref in self._calendars_of(target)}
        return {ref: cache.version if cache.complete else -1 for ref, cache in caches.items()}

    def _confirm(self, target: CalendarRef) -> TargetOutcome:
        """Record that a poll found nothing new for a target whose last pass settled it: flows are current."""
        outcome = TargetOutcome(target, ok=True, plan=Plan(), report=ExecutionReport())
        self._ledger.record_run(outcome, self.settings, self.clock())
        return outcome

    # --- one reconcile ---------------------------------------------------------------------------

    async def _reconcile(
        self,
        target: CalendarRef,
        window: Window,
        *,
        trigger: Trigger,
        guard: DeletionGuard,
        dry_run: bool = False,
    ) -> TargetOutcome:
        """Reconcile one target and record its results once, however many callers this run serves."""
        self.reconciles[target] += 1
        # Taken in the same step as the plan's snapshot of the sources (no await between): a read by
        # another run while this one writes must still count as new for this target.
        versions = self._versions(target)
        outcome = await self._plan_and_apply(target, window, trigger=trigger, guard=guard, dry_run=dry_run)
        if not dry_run:
            self._ledger.record_run(outcome, self.settings, self.clock())
            # A poll may skip planning a target only while its last pass left nothing to finish and
            # none of its calendars has changed since: what that pass planned from is remembered.
            # Held deletions are unfinished too: each pass plans again, so the hold is reported (or
            # released) by a pass that looked, never cleared by a poll that did not.
            report = outcome.report
            settled = (
                outcome.ok
                and not outcome.held
                and report is not None
                and not report.unknown
                and not any(result.action == "error" for result in report.results)  # unusable times
            )
            if settled:
                self._planned_from[target] = versions
            else:
                self._planned_from.pop(target, None)
            if outcome.plan is not None and outcome.plan.guarded:
                # Only sources are watched, and a person clears a guard's hold from outside (the sync
                # command): the next pass reads the target again, so it releases the hold by itself.
                self._stale.add(target)
        return outcome

    async def _plan_and_apply(
        self, target: CalendarRef, window: Window, *, trigger: Trigger, guard: DeletionGuard, dry_run: bool
    ) -> TargetOutcome:
        """Plan one target from the caches and carry the plan out; the caller holds the target's lock."""
        flows = self.settings.flows_into(target)
        sources, failed = self._sources(flows, window)
        target_cache = self._cache(target)
        async with target_cache.lock:
            if not target_cache.complete:
                why = _read_failure(target_cache, target, "target")
                return TargetOutcome(target, ok=False, failure=why, failed_sources=failed)
            plan = plan_target(
                target,
                flows,
                sources,
                target_cache.source_events(window),
                window,
                target_identities=self._identities(target),
                tombstones=target_cache.tombstones,
                trigger=trigger,
                guard=guard,
            )
            report = await self._apply(target, target_cache, plan, dry_run=dry_run)
        log_pass(target, trigger, plan, report)
        return TargetOutcome(target, report.ok and not failed, None, plan, report, failed)

    def _sources(
        self, flows: Iterable[Flow], window: Window
    ) -> tuple[dict[int, tuple[SourceEvent, ...] | None], dict[int, Failure]]:
        """Return each flow's cached source events (None when its read failed) and the failures."""
        sources: dict[int, tuple[SourceEvent, ...] | None] = {}
        failed: dict[int, Failure] = {}
        for flow in flows:
            cache = self._cache(flow.source)
            if cache.complete:
                sources[flow.id] = cache.source_events(window)
            else:
                sources[flow.id] = None
                failed[flow.id] = _read_failure(cache, flow.source, "source")
        return sources, failed

    def _identities(self, target: CalendarRef) -> frozenset[str]:
        """Return the addresses under which the target calendar itself can appear as an attendee.

        Only the account's own calendar counts: an invitation to the account lands there, so it
        already occupies that calendar but not a secondary one, which still needs its block. A Google
        primary calendar's id is the account's email; a calendar spelt `primary` (a Microsoft
        mailbox's own) is the account's, so its address counts too.
        """
        account = self.settings.accounts.get(target.account_id)
        email = account.email if account is not None else None
        if target.calendar_id == PRIMARY and email is not None:
            return frozenset({PRIMARY, email.lower()})
        return frozenset({target.calendar_id.lower()})

    async def _apply(
        self, target: CalendarRef, cache: CalendarCache, plan: Plan, *, dry_run: bool
    ) -> ExecutionReport:
        """Carry out a plan and fold our own writes into the target's cache."""
        try:
            report = await apply_plan(
                self.providers[target.account_id], target.calendar_id, plan, dry_run=dry_run
            )
        except BaseException:
            cache.invalidate()  # interrupted mid-way: we no longer know what the calendar holds
            raise
        if report.unknown:
            cache.invalidate()  # writes that got no answer may have happened: read the calendar again
        elif not dry_run:
            cache.write_back(report.written, report.deleted)
        return report

    def _summarise(self, outcomes: Iterable[TargetOutcome]) -> SyncSummary:
        """Turn the target outcomes a caller waited for into per-flow outcomes (recorded where they ran)."""
        outcomes = tuple(outcomes)
        return SyncSummary(flows=flow_outcomes(self.settings, outcomes, self.clock()), targets=outcomes)


def _read_failure(cache: CalendarCache, ref: CalendarRef, side: Side) -> Failure:
    """Return why a calendar's cache could not serve: its last read's error as a Failure value."""
    if cache.error is None:  # not read yet (a read was interrupted): retried on the next pass
        return Failure("error", side, ref.calendar_id, ref.account_id, "read", None, None, "not read yet")
    return Failure.of(cache.error, side, ref.calendar_id, "read", ref.account_id)
