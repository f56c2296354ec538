"""A Hypothesis state machine over planner, executor and engine against the emulator (real client).

Random source changes (long meetings across the window's edges included), manual block edits, lost
and duplicated triggers, write faults, applies cancelled mid-way and engine restarts, under a deletion
guard drawn per run (off, or thresholds low enough to hold); after every fault-free full reconcile the
target calendars must equal the desired set, no foreign event may have changed, and a second reconcile
must send no write. A target whose deletions the guard held may keep extra blocks, but still has a
block for every desired span and lost none in that pass; `allow_mass_deletion` then converges it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calmirror.config import CalendarRef
from calmirror.emulator import Emulator, start_emulator
from calmirror.engine import SyncEngine, SyncSummary
from calmirror.google.blocks import is_marked
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars
from tests.engine.conftest import (
    EMAILS,
    FlowSpec,
    assert_converged,
    assert_untouched,
    base_time,
    changed,
    make_settings,
    new_client,
    rfc,
)

T = TypeVar("T")
FLOWS: tuple[FlowSpec, ...] = (("work", 1, 2, 10, 5), ("club", 3, 2, 0, 0), ("back", 2, 1, 0, 0))
SOURCES = (1, 2, 3)
WRITES = ["calendar.events.insert", "calendar.events.update", "calendar.events.delete"]
FAULTS = (
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 500},
    {"kind": "drop"},
    {"kind": "lost_response"},
)


class LoopThread:
    """An event loop on a background thread, so the synchronous state machine can drive async code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run_all(self, *coros: Coroutine[Any, Any, Any]) -> None:
        """Run coroutines concurrently on the loop until all are done."""

        async def together() -> None:
            await asyncio.gather(*coros)

        self.run(together())

    def close(self) -> None:
        """Cancel what is still pending (idle server connections), then stop the loop and its thread."""

        async def cancel_pending() -> None:
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        self.run(cancel_pending())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    """A background event loop for the duration of one test."""
    runner = LoopThread()
    yield runner
    runner.close()


class Convergence(RuleBasedStateMachine):
    """Drives users, triggers and faults; checks convergence after fault-free full reconciles."""

    runner: LoopThread

    def __init__(self) -> None:
        super().__init__()
        self.emulator: Emulator = self.runner.run(start_emulator(accounts=tuple(EMAILS.values())))
        self.settings = make_settings(self.emulator, FLOWS)
        self.clients = {n: new_client(self.emulator, n) for n in EMAILS}
        self.users = {n: new_client(self.emulator, n) for n in EMAILS}
        self.engine = SyncEngine(self.settings, {n: GoogleCalendars(c) for n, c in self.clients.items()})
        self.base = base_time()
        self.events: list[tuple[int, dict[str, Any]]] = []  # the users' live events, latest version
        self.etags: dict[tuple[str, str], str] = {}  # every foreign event's expected etag

    def teardown(self) -> None:
        """Check the final state once more, then stop the emulator and close the clients."""
        try:
            self.reconcile_and_check()
        finally:
            clients: list[CalendarClient] = [*self.clients.values(), *self.users.values()]
            self.runner.run_all(*(c.aclose() for c in clients))
            self.runner.run(self.emulator.stop())

    @initialize(min_blocks=st.integers(0, 2), percent=st.sampled_from([0, 20, 40, 60]))
    def guard(self, min_blocks: int, percent: int) -> None:
        """The deletion guard of this run: off (0 %), or low enough that a few cancellations trip it."""
        guard = {"deletion_guard_min_blocks": min_blocks, "deletion_guard_percent": percent}
        self.settings = self.settings.model_copy(update=guard)
        self.engine = SyncEngine(self.settings, {n: GoogleCalendars(c) for n, c in self.clients.items()})

    def _held(self) -> set[CalendarRef]:
        """Return the targets whose last pass had deletions held by the deletion guard."""
        status = self.engine.target_status()
        return {ref for ref, outcome in status.items() if any(why == "guard" for _, why in outcome.held)}

    # --- users ---------------------------------------------------------------------------------------

    def _remember(self, account: int, event: dict[str, Any]) -> None:
        """Record the etag a foreign event must keep until its owner changes it."""
        self.etags[(EMAILS[account], event["id"])] = event["etag"]

    def _times(self, slot: int, minutes: int, all_day: bool) -> dict[str, Any]:
        """Return start/end for a slot (half-hours after the base time) or the slot's day when all-day."""
        start = self.base + timedelta(minutes=30 * slot)
        if all_day:
            day = start.date() + timedelta(days=1)
            return {
                "start": {"date": day.isoformat()},
                "end": {"date": (day + timedelta(days=1)).isoformat()},
            }
        return {
            "start": {"dateTime": rfc(start)},
            "end": {"dateTime": rfc(start + timedelta(minutes=minutes))},
        }

    @rule(
        account=st.sampled_from(SOURCES),
        slot=st.integers(0, 12),
        minutes=st.sampled_from([30, 60, 90]),
        people=st.integers(1, 3),
        kind=st.sampled_from(["busy", "busy", "busy", "free", "all-day"]),
    )
    def create(self, account: int, slot: int, minutes: int, people: int, kind: str) -> None:
        """A user adds an event (busy, free or all-day) to their calendar."""
        all_day, free = kind == "all-day", kind == "free"
        attendees = [{"email": EMAILS[account], "responseStatus": "accepted"}]
        attendees += [{"email": f"guest{i}@elsewhere.test"} for i in range(1, people)]
        body = {"summary": "meeting", "attendees": attendees, **self._times(slot, minutes, all_day)}
        if free:
            body["transparency"] = "transparent"
        event = self.runner.run(self.users[account].insert_event(EMAILS[account], body))
        self.events.append((account, event))
        self._remember(account, event)

    @rule(account=st.sampled_from(SOURCES), first=st.integers(0, 6), count=st.integers(3, 6))
    def create_many(self, account: int, first: int, count: int) -> None:
        """A user books a run of meetings, one per slot: enough blocks that cancelling them trips a guard."""
        for slot in range(first, first + count):
            self.create(account, slot, 30, 2, "busy")

    def _long_times(self, kind: str) -> dict[str, Any]:
        """Return start/end of a long event across an edge of the default window (now -2 to +14 days)."""
        days = {"across-start": (-4, 1), "across-end": (12, 16), "outlasting": (-6, 21), "offsite": (-5, 20)}
        first, last = (self.base + timedelta(days=n) for n in days[kind])
        if kind == "offsite":
            return {"start": {"date": first.date().isoformat()}, "end": {"date": last.date().isoformat()}}
        return {"start": {"dateTime": rfc(first)}, "end": {"dateTime": rfc(last)}}

    @rule(
        account=st.sampled_from(SOURCES),
        kind=st.sampled_from(["across-start", "across-end", "outlasting", "offsite"]),
    )
    def create_long(self, account: int, kind: str) -> None:
        """A user adds a multi-day meeting that straddles an edge of the window or outlasts it."""
        attendees = [
            {"email": EMAILS[account], "responseStatus": "accepted"},
            {"email": "guest@elsewhere.test"},
        ]
        body = {"summary": f"long {kind}", "attendees": attendees, **self._long_times(kind)}
        event = self.runner.run(self.users[account].insert_event(EMAILS[account], body))
        self.events.append((account, event))
        self._remember(account, event)

    def _change(self, pick: int, **changes: Any) -> None:
        """A user replaces one of their events with changed fields."""
        account, event = self.events[pick % len(self.events)]
        body = {k: v for k, v in event.items() if k not in ("etag", "updated", "created")} | changes
        updated = self.runner.run(self.users[account].update_event(EMAILS[account], event["id"], body))
        self.events[pick % len(self.events)] = (account, updated)
        self._remember(account, updated)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 99), slot=st.integers(0, 12), minutes=st.sampled_from([30, 60]))
    def move(self, pick: int, slot: int, minutes: int) -> None:
        """A user reschedules an event."""
        self._change(pick, **self._times(slot, minutes, all_day=False))

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 99))
    def cancel(self, pick: int) -> None:
        """A user deletes an event."""
        account, event = self.events.pop(pick % len(self.events))
        self.runner.run(self.users[account].delete_event(EMAILS[account], event["id"]))
        stored = self.emulator.store.get(EMAILS[account], event["id"])
        assert stored is not None
        self._remember(account, stored)

    @precondition(lambda self: len(self.events) > 1)
    @rule(account=st.sampled_from(SOURCES))
    def cancel_all(self, account: int) -> None:
        """A user clears their calendar at once: the pass that notices wants many deletions."""
        for pick in reversed(range(len(self.events))):
            if self.events[pick][0] == account:
                self.cancel(pick)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 99), status=st.sampled_from(["declined", "accepted"]))
    def respond(self, pick: int, status: str) -> None:
        """The owner declines or accepts an event."""
        account, event = self.events[pick % len(self.events)]
        attendees = [
            {**a, "responseStatus": status} if a["email"] == EMAILS[account] else a
            for a in event["attendees"]
        ]
        self._change(pick, attendees=attendees)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 99), people=st.integers(1, 3))
    def change_attendees(self, pick: int, people: int) -> None:
        """The guest list changes size."""
        account, event = self.events[pick % len(self.events)]
        owner = [a for a in event["attendees"] if a["email"] == EMAILS[account]]
        guests = [{"email": f"other{i}@elsewhere.test"} for i in range(1, people)]
        self._change(pick, attendees=owner + guests)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 99))
    def flip_transparency(self, pick: int) -> None:
        """Busy becomes free or free becomes busy."""
        _, event = self.events[pick % len(self.events)]
        self._change(
            pick, transparency="opaque" if event.get("transparency") == "transparent" else "transparent"
        )

    def _blocks(self, account: int) -> list[dict[str, Any]]:
        """Return the live blocks in an account's calendar."""
        events = self.emulator.store.raw_events(EMAILS[account])
        return [e for e in events if is_marked(e) and e.get("status") != "cancelled"]

    @rule(
        account=st.sampled_from([1, 2]),
        pick=st.integers(0, 99),
        slot=st.integers(0, 12),
        delete=st.booleans(),
    )
    def touch_block(self, account: int, pick: int, slot: int, delete: bool) -> None:
        """The target's owner drags one of calmirror's blocks elsewhere, or deletes it."""
        blocks = self._blocks(account)
        if not blocks:
            return
        block = blocks[pick % len(blocks)]
        client = self.users[account]
        if delete:
            self.runner.run(client.delete_event(EMAILS[account], block["id"]))
        else:
            body = {k: v for k, v in block.items() if k not in ("etag", "updated", "created")}
            self.runner.run(
                client.update_event(EMAILS[account], block["id"], body | self._times(slot, 60, False))
            )

    # --- triggers and faults -------------------------------------------------------------------------

    @rule(account=st.sampled_from(SOURCES), twice=st.booleans())
    def trigger(self, account: int, twice: bool) -> None:
        """A notification arrives for a calendar (sometimes twice at once); others are simply lost."""
        calls = [changed(self.engine, account, EMAILS[account]) for _ in range(2 if twice else 1)]
        self.runner.run_all(*calls)

    @rule(account=st.sampled_from(SOURCES), fault=st.sampled_from(FAULTS), reads=st.booleans())
    def faulty_trigger(self, account: int, fault: dict[str, Any], reads: bool) -> None:
        """A trigger whose writes (and sometimes reads) fail half the time in one of several ways."""
        methods = [*WRITES, "calendar.events.list", "calendar.events.get"] if reads else WRITES
        self.emulator.faults.add({**fault, "methods": methods, "probability": 0.5})
        try:
            self.runner.run(changed(self.engine, account, EMAILS[account]))
        finally:
            self.emulator.faults.clear()

    @rule(account=st.sampled_from(SOURCES))
    def interrupted_trigger(self, account: int) -> None:
        """A reconcile is cancelled while its writes are in flight (a crash between writes)."""
        # Writes travel in batches; holding each batch envelope back leaves time to interrupt.
        self.emulator.faults.add({"kind": "latency", "seconds": 0.05, "methods": ["batch"]})

        async def interrupt() -> None:
            task = asyncio.ensure_future(changed(self.engine, account, EMAILS[account]))
            await asyncio.sleep(0.02)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.sleep(0.15)  # let a batch already sent land before anyone looks

        try:
            self.runner.run(interrupt())
        finally:
            self.emulator.faults.clear()

    @rule()
    def restart(self) -> None:
        """The daemon restarts: every cache and counter is lost, the calendars keep everything."""
        self.engine = SyncEngine(self.settings, {n: GoogleCalendars(c) for n, c in self.clients.items()})

    @rule()
    def catch_up_and_check(self) -> None:
        """One fault-free trigger per calendar brings every target to the desired set from the caches."""
        for account in SOURCES:
            self.runner.run(changed(self.engine, account, EMAILS[account]))
        assert_converged(self.emulator, self.settings, self._held())

    @rule()
    def poll_and_check(self) -> None:
        """The interval poll alone (a trigger per source and target, all at once) converges from anywhere."""
        refs = {ref for flow in self.settings.flows for ref in (flow.source, flow.target)}
        calls = [changed(self.engine, r.account_id, r.calendar_id, trigger="poll") for r in refs]
        self.runner.run_all(*calls)
        assert_converged(self.emulator, self.settings, self._held())

    def _full(self, *, allow_mass_deletion: bool = False) -> SyncSummary:
        """Run a fault-free full reconcile that must succeed; check that guard-held targets lost nothing."""
        before = {ref: self._block_ids(ref) for ref in self.settings.targets()}
        summary = self.runner.run(self.engine.reconcile_all(allow_mass_deletion=allow_mass_deletion))
        assert summary.ok, {name: outcome.message for name, outcome in summary.flows.items()}
        for outcome in summary.targets:
            if any(why == "guard" for _, why in outcome.held):
                assert not allow_mass_deletion
                assert before[outcome.target] <= self._block_ids(outcome.target), "a held pass deleted"
        return summary

    def _block_ids(self, ref: CalendarRef) -> set[str]:
        """Return the ids of the live blocks in a target."""
        return {event["id"] for event in self._blocks(ref.account_id)}

    @rule()
    def reconcile_and_check(self) -> None:
        """A fault-free full reconcile converges, leaves foreign events alone; a second one writes nothing.

        Where the deletion guard held, the reconcile still blocks every desired span; after a person's
        `allow_mass_deletion` the targets equal the desired set.
        """
        self._full()
        assert_converged(self.emulator, self.settings, self._held())
        assert_untouched(self.emulator, self.etags)
        if self._held():
            self._full(allow_mass_deletion=True)
            assert not self._held()
        assert_converged(self.emulator, self.settings)
        assert_untouched(self.emulator, self.etags)
        self.emulator.reset_requests()
        self.runner.run(self.engine.reconcile_all())
        calls = self.emulator.requests.stats()["calls"]
        assert set(calls) == {"calendar.events.list"}, calls


def test_engine_converges_under_random_changes_and_faults(loop_thread: LoopThread) -> None:
    """Whatever users, triggers and faults do, a fault-free full reconcile converges to the desired set."""
    Convergence.runner = loop_thread
    run_state_machine_as_test(
        Convergence,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
