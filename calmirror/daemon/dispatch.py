"""Runs the engine's reconciles in the background, one queue per calendar, and records what each did."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from calmirror.config import CalendarRef
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.pushaudit import PushAudit
from calmirror.daemon.tasks import BackgroundTasks
from calmirror.engine import SyncSummary, TargetOutcome, Trigger
from calmirror.errors import Failure

log = logging.getLogger(__name__)

Changed = Callable[[Sequence[CalendarRef], Trigger], Awaitable[SyncSummary]]  # calendars -> run
ReconcileAll = Callable[[Trigger], Awaitable[SyncSummary]]

# The Google requests of the run in progress in this task (and the tasks it spawned), for its log line.
_REQUESTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("requests", default=None)

# Engine runs at once. Planning runs on the event loop, so a flood of notifications over many calendars
# would otherwise keep the loop too busy to answer webhooks; notifications for a waiting calendar
# coalesce meanwhile, so the bound costs no mirrored change.
RUNS_AT_ONCE = 8

# A notified run that failed only in ways waiting cures (a 5xx, a rate limit, a lost connection) runs
# again after these delays, so a throttling storm costs no block until the next poll (an hour or more).
RERUN_DELAYS = (5.0, 30.0, 120.0)
CURABLE = frozenset({"transient", "rate_limited"})


def count_request() -> None:
    """Count one Google request against the run the current task belongs to (if any)."""
    tally = _REQUESTS.get()
    if tally is not None:
        tally[0] += 1


class Dispatcher:
    """Owns every running reconcile: webhook triggers coalesce per calendar; shutdown is bounded."""

    def __init__(
        self,
        changed: Changed,
        reconcile_all: ReconcileAll,
        metrics: DaemonMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        runs_at_once: int = RUNS_AT_ONCE,
        audit: PushAudit | None = None,
        rerun_delays: Sequence[float] = RERUN_DELAYS,
    ) -> None:
        self._changed = changed
        self._reconcile_all = reconcile_all
        self._metrics = metrics
        self._clock = clock
        self.last_success: dict[str, datetime] = {}  # flow name -> time of its last successful sync
        self.closed = False
        self._pending: dict[CalendarRef, float | None] = {}  # earliest unserved notification receipt
        self._not_before: dict[CalendarRef, float] = {}  # a throttled calendar's next run waits until then
        self._draining: set[CalendarRef] = set()
        self._tasks = BackgroundTasks("reconcile")
        self._started: dict[int, float] = {}  # in-flight runs -> when they began
        self._recorded: weakref.WeakValueDictionary[int, TargetOutcome] = weakref.WeakValueDictionary()
        self._slots = asyncio.Semaphore(runs_at_once)
        self._audit = audit  # judges each poll's findings against the notifications that came
        self._rerun_delays = tuple(rerun_delays)
        self._reruns: dict[CalendarRef, int] = {}  # reruns since the calendar's last notification
        self._timers: dict[CalendarRef, asyncio.TimerHandle] = {}

    def calendar_changed(
        self, ref: CalendarRef, trigger: Trigger, received_at: float | None = None, *, delay: float = 0.0
    ) -> None:
        """Queue a delta read and reconcile for one calendar (a new run waits `delay` s); returns at once."""
        if self.closed:
            return
        if self._audit is not None:
            self._audit.notified(ref)
        self._reruns.pop(ref, None)  # a new notification starts a new chain of reruns
        earlier = self._pending.get(ref)
        self._pending[ref] = received_at if earlier is None else min(earlier, received_at or earlier)
        now = self._clock()
        if delay and self._not_before.get(ref, 0.0) <= now:  # one run per `delay` at most, never starved
            self._not_before[ref] = now + delay
        self._start_draining(ref, trigger)

    def _start_draining(self, ref: CalendarRef, trigger: Trigger) -> None:
        """Start serving a calendar's queue unless a task already does."""
        if ref not in self._draining:
            self._draining.add(ref)
            self._tasks.spawn(self._drain(ref, trigger))

    def _rerun_later(self, ref: CalendarRef, trigger: Trigger, summary: SyncSummary) -> None:
        """After a notified run, schedule the calendar's next rerun if only waiting cures what failed."""
        if self.closed:
            return  # close() has cancelled the timers; a run ending in its grace sets none
        if not _curable(summary):
            self._reruns.pop(ref, None)
            return
        done = self._reruns.get(ref, 0)
        if done >= len(self._rerun_delays) or ref in self._timers:
            return  # given up (the poll repairs it), or already due
        self._reruns[ref] = done + 1
        loop = asyncio.get_running_loop()
        self._timers[ref] = loop.call_later(self._rerun_delays[done], self._rerun, ref, trigger)

    def _rerun(self, ref: CalendarRef, trigger: Trigger) -> None:
        """Queue a rerun of a calendar that failed curably (no notification: the push audit is not told)."""
        self._timers.pop(ref, None)
        if self.closed:
            return
        self._pending.setdefault(ref, None)
        self._start_draining(ref, trigger)

    async def reconcile_all(self, trigger: Trigger) -> SyncSummary | None:
        """Run a full reconcile of every target and wait for it (None when shut down meanwhile)."""
        summary: SyncSummary | None = await self._tracked(
            self._run(trigger, lambda: self._reconcile_all(trigger))
        )
        return summary

    async def poll(self, refs: Iterable[CalendarRef]) -> None:
        """Read one delta per calendar and reconcile what they feed; waits for all of them."""
        if self.closed:
            return
        refs = list(refs)
        # A calendar with a notification not yet served is announced: what the poll finds there is not missed.
        audit = self._audit.begin(refs, self._pending.keys() | self._draining) if self._audit else None
        # One run for the whole poll: every calendar is marked before any is read, so each costs one read.
        await self._tracked(self._run("poll", partial(self._changed, refs, "poll")))
        if self._audit is not None and audit is not None:
            self._audit.finish(audit)

    def stuck_for(self) -> float:
        """Return how long the oldest run in progress has been running (0 when idle)."""
        return self._clock() - min(self._started.values()) if self._started else 0.0

    async def close(self, within: float) -> None:
        """Accept no more work; let running reconciles finish for `within` seconds, then cancel them."""
        self.closed = True
        self._pending.clear()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        late = await self._tasks.close(within)
        if late:
            log.warning("cancelled %d reconcile(s) still running after %.0fs", late, within)

    async def _drain(self, ref: CalendarRef, trigger: Trigger) -> None:
        """Serve the calendar's queued notifications: one run covers every one that came before it.

        A throttled notification holds the calendar's next run back until its `delay` has passed.
        """
        try:
            while ref in self._pending and not self.closed:
                wait = self._not_before.get(ref, 0.0) - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                async with self._slots:  # taken before the pop: what comes while waiting joins this run
                    if ref not in self._pending or self.closed:
                        return
                    received_at = self._pending.pop(ref)
                    summary = await self._run_now(trigger, lambda: self._changed([ref], trigger))
                if summary is not None:
                    self._rerun_later(ref, trigger, summary)
                if received_at is not None and summary is not None and _wrote(summary):
                    self._metrics.webhook_to_block.observe(self._clock() - received_at)
        finally:
            self._draining.discard(ref)

    async def _run(self, trigger: Trigger, work: Callable[[], Awaitable[SyncSummary]]) -> SyncSummary | None:
        """Run one engine call once fewer than RUNS_AT_ONCE are running."""
        async with self._slots:
            if self.closed:  # shutting down while this waited for a slot: start nothing new
                return None
            return await self._run_now(trigger, work)

    async def _run_now(
        self, trigger: Trigger, work: Callable[[], Awaitable[SyncSummary]]
    ) -> SyncSummary | None:
        """Run one engine call now, timing it and counting its Google requests; failures are logged."""
        key = id(asyncio.current_task())
        self._started[key] = started = self._clock()
        tally = [0]
        token = _REQUESTS.set(tally)
        try:
            summary = await work()
        except Exception:
            log.exception("reconcile (%s) failed", trigger)
            self._metrics.reconciles.labels(trigger=trigger, outcome="error").inc()
            return None
        finally:
            _REQUESTS.reset(token)
            self._started.pop(key, None)
        self._record(trigger, summary, self._clock() - started, tally[0])
        return summary

    def _record(self, trigger: Trigger, summary: SyncSummary, seconds: float, requests: int) -> None:
        """Count, time and log each target reconcile once (coalesced callers share one outcome)."""
        for outcome in summary.targets:
            if self._recorded.get(id(outcome)) is outcome:
                continue
            self._recorded[id(outcome)] = outcome
            self._metrics.reconciled(trigger, outcome.ok, seconds)
            creates, deletes = _writes(outcome)
            fields = {
                "event": "reconcile",
                "trigger": trigger,
                "target": str(outcome.target),
                "ok": outcome.ok,
                "creates": creates,
                "deletes": deletes,
                "duration_seconds": round(seconds, 3),
                "run_requests": requests,  # the whole run's, shared by the targets it reconciled
            }
            log.info(
                "reconcile trigger=%s target=%s ok=%s creates=%d deletes=%d duration=%.3fs run_requests=%d",
                trigger, outcome.target, outcome.ok, creates, deletes, seconds, requests,
                extra={"fields": fields},
            )  # fmt: skip
        for name, flow in summary.flows.items():
            if flow.ok:
                self.last_success[name] = flow.at

    async def _tracked(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Await work as a task only close() bounds; None when it was cancelled by close().

        The shield keeps a cancelled caller (a scheduler job at shutdown) from cancelling the work
        itself, so it gets close()'s grace like a webhook run.
        """
        task = self._tasks.spawn(work)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if self.closed and task.cancelled():
                return None
            raise


def _writes(outcome: TargetOutcome) -> tuple[int, int]:
    """Return the blocks a target reconcile created (or restored) and deleted."""
    report = outcome.report
    if report is None:
        return 0, 0
    return len(report.created) + len(report.restored), len(report.deleted)


def _wrote(summary: SyncSummary) -> bool:
    """Tell whether a run wrote any block."""
    return any(sum(_writes(outcome)) for outcome in summary.targets)


def _curable(summary: SyncSummary) -> bool:
    """Tell whether a run failed, and only in ways that waiting cures (its kinds are CURABLE)."""
    failures = [failure for outcome in summary.targets if not outcome.ok for failure in _failures(outcome)]
    return bool(failures) and all(failure.kind in CURABLE for failure in failures)


def _failures(outcome: TargetOutcome) -> list[Failure]:
    """Return every failed read and write of one target's run."""
    own = [outcome.failure] if outcome.failure is not None else []
    return [*own, *outcome.failed_sources.values(), *outcome.write_failures.values()]
