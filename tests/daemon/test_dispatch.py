"""The dispatcher's bound on engine runs at once, and the coalescing that makes it cost no change."""

from __future__ import annotations

import asyncio
import gc
import math
import time
import weakref
from collections.abc import Sequence
from functools import partial

from calmirror.config import CalendarRef
from calmirror.daemon.dispatch import Dispatcher
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.engine import SyncSummary, TargetOutcome, Trigger
from calmirror.errors import Failure, FailureKind
from harness.processes import eventually

EMPTY = SyncSummary(flows={}, targets=())


class SlowEngine:
    """Stands in for the engine's calendar_changed: records runs, each held until `release` is set."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.runs: list[CalendarRef] = []
        self.release = asyncio.Event()

    async def changed(self, refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        """Run one 'reconcile' of calendars, counting how many run at the same time."""
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.runs.extend(refs)
        await self.release.wait()
        self.running -= 1
        return EMPTY

    async def everything(self, trigger: Trigger) -> SyncSummary:
        """Reconcile every target (unused here)."""
        return EMPTY


async def test_runs_at_once_are_bounded_and_waiting_notifications_coalesce() -> None:
    """Five calendars notified three times each with a bound of two: two run at once, each runs once."""
    engine = SlowEngine()
    dispatcher = Dispatcher(engine.changed, engine.everything, DaemonMetrics(), runs_at_once=2)
    refs = [CalendarRef(account_id=n, calendar_id=f"c{n}@example.com") for n in range(5)]

    for _ in range(3):
        for ref in refs:
            dispatcher.calendar_changed(ref, "webhook")
        await asyncio.sleep(0.01)
    assert engine.running == 2
    engine.release.set()
    await asyncio.sleep(0.2)  # the held runs end at once; the rest need no more than a few loop turns
    await dispatcher.close(within=1.0)

    assert engine.most_at_once == 2
    # The two that ran first were notified again while running, so they run once more; the three
    # that waited for a slot take all their notifications in one run.
    assert sorted(engine.runs, key=refs.index) == [refs[0], refs[0], refs[1], refs[1], *refs[2:]]


async def test_a_poll_waiting_for_a_slot_starts_nothing_once_shutdown_began() -> None:
    """Shutdown while a poll waits for a slot: the running run finishes, the poll never starts."""
    engine = SlowEngine()
    dispatcher = Dispatcher(engine.changed, engine.everything, DaemonMetrics(), runs_at_once=1)
    refs = [CalendarRef(account_id=n, calendar_id=f"c{n}@example.com") for n in range(4)]
    dispatcher.calendar_changed(refs[0], "webhook")
    await asyncio.sleep(0.01)
    polling = asyncio.ensure_future(dispatcher.poll(refs[1:]))
    await asyncio.sleep(0.01)
    assert engine.runs == [refs[0]]

    closing = asyncio.ensure_future(dispatcher.close(within=1.0))
    await asyncio.sleep(0.01)
    engine.release.set()
    await asyncio.gather(closing, polling)

    assert engine.runs == [refs[0]]


async def test_a_poll_is_one_run_over_every_calendar() -> None:
    """A poll hands all its calendars to the engine at once, so none is read twice for one poll."""
    engine = SlowEngine()
    engine.release.set()
    dispatcher = Dispatcher(engine.changed, engine.everything, DaemonMetrics())
    refs = [CalendarRef(account_id=n, calendar_id=f"c{n}@example.com") for n in range(4)]

    await dispatcher.poll(refs)

    assert (engine.runs, engine.most_at_once) == (refs, 1)


class QuickEngine(SlowEngine):
    """A stand-in whose every 'reconcile' takes 50 ms."""

    async def changed(self, refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        """Record the run and take a little time, as a delta read would."""
        self.runs.extend(refs)
        await asyncio.sleep(0.05)
        return EMPTY


async def test_throttled_notifications_hold_the_next_run_back() -> None:
    """A calendar notified every 10 ms for 1.5 s, each throttled by 1 s: a run about every second."""
    engine = QuickEngine()
    dispatcher = Dispatcher(engine.changed, engine.everything, DaemonMetrics())
    ref = CalendarRef(account_id=1, calendar_id="c1@example.com")

    started = time.monotonic()
    for _ in range(150):
        dispatcher.calendar_changed(ref, "webhook", delay=1.0)
        await asyncio.sleep(0.01)
    notified_for = time.monotonic() - started  # 1.5 s, or longer on a busy machine

    async def two_runs() -> bool:
        return len(engine.runs) >= 2

    await eventually(two_runs, 30.0, "the last notification's run")  # however busy the machine
    await dispatcher.close(within=1.0)

    # About one run a second while notified, plus the last one's: held back, never starved. The bound
    # follows the time that really passed, so a slow machine cannot make it fail.
    assert 2 <= len(engine.runs) <= math.ceil(notified_for) + 1


class FailingEngine:
    """Stands in for the engine's calendar_changed: each run fails with the next kind, then succeeds."""

    def __init__(self, *kinds: FailureKind) -> None:
        self.kinds = list(kinds)
        self.runs = 0
        self.settled = asyncio.Event()

    async def changed(self, refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        """Fail the target's write with the next kind, or succeed when none is left."""
        self.runs += 1
        if not self.kinds:
            self.settled.set()
            return SyncSummary(flows={}, targets=(TargetOutcome(refs[0], ok=True),))
        failure = Failure(self.kinds.pop(0), "target", "bob@example.com", 2, "write", 429)
        return SyncSummary(flows={}, targets=(TargetOutcome(refs[0], ok=False, failure=failure),))

    async def everything(self, trigger: Trigger) -> SyncSummary:
        """Reconcile every target (unused here)."""
        return EMPTY


async def test_a_notified_run_failing_on_rate_limits_runs_again_without_a_notification() -> None:
    """Two rate-limited runs, then the third succeeds: one notification, three runs, then none."""
    engine = FailingEngine("rate_limited", "transient")
    dispatcher = Dispatcher(engine.changed, engine.everything, DaemonMetrics(), rerun_delays=(0.01, 0.01))
    dispatcher.calendar_changed(CalendarRef(account_id=1, calendar_id="alice@example.com"), "webhook")
    await asyncio.wait_for(engine.settled.wait(), 5)
    await dispatcher.close(within=1.0)
    assert engine.runs == 3


async def test_reruns_are_bounded_and_never_follow_a_failure_a_person_must_fix() -> None:
    """Rate limits for ever: one run per delay, then the poll's turn; a forbidden write: no rerun."""
    ref = CalendarRef(account_id=1, calendar_id="alice@example.com")
    storm = FailingEngine(*["rate_limited"] * 10)
    dispatcher = Dispatcher(storm.changed, storm.everything, DaemonMetrics(), rerun_delays=(0.01, 0.01))
    dispatcher.calendar_changed(ref, "webhook")
    forbidden = FailingEngine("forbidden")
    other = Dispatcher(forbidden.changed, forbidden.everything, DaemonMetrics(), rerun_delays=(0.01,))
    other.calendar_changed(ref, "webhook")
    await asyncio.sleep(0.3)  # many times the delays: a rerun that were coming would have come
    await dispatcher.close(within=1.0)
    await other.close(within=1.0)
    assert (storm.runs, forbidden.runs) == (3, 1)


async def test_a_later_storm_gets_its_reruns_too() -> None:
    """Rate limits for ever: each notification's run gets its reruns, also after an earlier storm's."""
    storm = FailingEngine(*["rate_limited"] * 20)
    dispatcher = Dispatcher(storm.changed, storm.everything, DaemonMetrics(), rerun_delays=(0.01, 0.01))
    ref = CalendarRef(account_id=1, calendar_id="alice@example.com")

    async def runs(count: int) -> bool:
        return storm.runs == count and not dispatcher.stuck_for()

    dispatcher.calendar_changed(ref, "webhook")
    await eventually(partial(runs, 3), 10.0, "the first storm's run and its two reruns")
    dispatcher.calendar_changed(ref, "webhook")
    await eventually(partial(runs, 6), 10.0, "the second storm's run and its two reruns")
    await dispatcher.close(within=1.0)


async def test_no_rerun_timer_outlives_close() -> None:
    """A curably failed run ending during close()'s grace leaves nothing keeping the dispatcher alive."""
    alive = await _close_while_a_failing_run_ends()
    gc.collect()
    assert alive() is None


async def _close_while_a_failing_run_ends() -> weakref.ref[Dispatcher]:
    """Close a dispatcher while its notified run is running; the run then ends rate limited."""
    finishing = asyncio.Event()

    async def changed(refs: Sequence[CalendarRef], trigger: Trigger) -> SyncSummary:
        await finishing.wait()
        failure = Failure("rate_limited", "target", "bob@example.com", 2, "write", 429)
        return SyncSummary(flows={}, targets=(TargetOutcome(refs[0], ok=False, failure=failure),))

    async def everything(trigger: Trigger) -> SyncSummary:
        return EMPTY

    dispatcher = Dispatcher(changed, everything, DaemonMetrics(), rerun_delays=(60.0,))
    dispatcher.calendar_changed(CalendarRef(account_id=1, calendar_id="alice@example.com"), "webhook")

    async def running() -> bool:
        return dispatcher.stuck_for() > 0

    async def closing_begun() -> bool:
        return dispatcher.closed

    await eventually(running, 10.0, "the notified run")
    closing = asyncio.create_task(dispatcher.close(within=10.0))
    await eventually(closing_begun, 10.0, "close() begun")
    finishing.set()  # the run ends rate limited while close() waits for it
    await closing
    return weakref.ref(dispatcher)
