"""A Hypothesis state machine over the engine with an Outlook mailbox as the target.

Random creates, moves, declines and cancellations in a Google source and an Outlook source (invitations
from another mailbox, answered with Graph's actions), foreign events put into the target, lost and
doubled triggers, and Graph faults (429 with Retry-After 0, 503, answers lost after the write was
carried out); after every clean full reconcile the target's marked blocks are exactly the desired
set (touching runs may share a block), none doubled, every foreign event as stored, and a second
reconcile plans no write.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calmirror.emulator.graph.model import StoredEvent
from calmirror.microsoft.blocks import MARK_ID
from tests.engine.conftest import base_time, covered
from tests.engine.test_state_machine import LoopThread
from tests.providers.conftest import GOOGLE, FlowSpec
from tests.providers.dav import Span
from tests.providers.graph import MICROSOFT, GraphWorld, graph_world, meeting_body

pytestmark = pytest.mark.slow

SOURCES = ("google", "outlook")  # Google account 1's primary calendar, Microsoft account 6's default one
TARGET = 7
FLOWS: list[FlowSpec] = [
    ("google to outlook", (1, GOOGLE[1]), (TARGET, "primary"), 10, 5),
    ("outlook to outlook", (6, "primary"), (TARGET, "primary"), 0, 0),
]
CALENDARS = {"google": (1, GOOGLE[1]), "outlook": (6, "primary"), "target": (TARGET, "primary")}
T = TypeVar("T")
SLOTS = st.integers(0, 24)  # half-hours after the base time
FAULTY = [
    "graph.batch",
    "graph.create_event",
    "graph.delete_event",
    "graph.patch_event",
    "graph.delta",
    "graph.list_events",
]


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    """A background event loop for the duration of one test."""
    runner = LoopThread()
    yield runner
    runner.close()


class OutlookConvergence(RuleBasedStateMachine):
    """Drives the sources' owners, Graph's faults and the triggers; checks the target after full passes."""

    runner: LoopThread

    def __init__(self) -> None:
        """Start an emulator with both sides and build the engine over the two flows into the target."""
        super().__init__()
        self.opened: AbstractAsyncContextManager[GraphWorld] = graph_world(FLOWS)
        self.world = self.runner.run(self.opened.__aenter__())
        self.base = base_time()
        self.meetings: dict[str, tuple[str, int, int, bool]] = {}  # key -> (source, slot, minutes, declined)
        self.invitations: dict[str, str] = {}  # an Outlook meeting's key -> its invitation's id in mailbox 6
        self.foreign: dict[str, StoredEvent] = {}  # the target's own events as their owner stored them
        self.keys = 0

    def teardown(self) -> None:
        """Check once more, then close every client and stop the emulator."""
        try:
            self.reconcile_and_check()
        finally:
            self.runner.run(self.opened.__aexit__(None, None, None))

    # --- the owners -----------------------------------------------------------------------------

    def _owner(self, work: Coroutine[Any, Any, T]) -> T:
        """Run what an owner does in Outlook, out of reach of the faults injected for calmirror."""
        faults = self.world.emulator.faults
        held = list(faults.rules)
        faults.clear()
        try:
            return self.runner.run(work)
        finally:
            faults.rules.extend(held)

    def _write(self, key: str) -> None:
        """Store a meeting's current version in its source (an Outlook one is invited, then answered)."""
        source, slot, minutes, declined = self.meetings[key]
        start = self.base + timedelta(minutes=30 * slot)
        if source == "google":
            self._owner(self.world.put_meeting(1, key, start, minutes, declined=declined))
            return
        self.invitations[key] = self._owner(self.world.invite(6, key, start, minutes))
        self._owner(self.world.respond(6, self.invitations[key], "decline" if declined else "accept"))

    @initialize(slots=st.lists(st.tuples(st.sampled_from(SOURCES), SLOTS), min_size=2, max_size=5))
    def meetings_at_first(self, slots: list[tuple[str, int]]) -> None:
        """The sources start with a few accepted hour-long meetings."""
        for source, slot in slots:
            self.create(source, slot, 60)

    @rule(source=st.sampled_from(SOURCES), slot=SLOTS, minutes=st.sampled_from([30, 60, 90]))
    def create(self, source: str, slot: int, minutes: int) -> None:
        """An owner accepts a new meeting."""
        self.keys += 1
        key = f"m{self.keys}"
        self.meetings[key] = (source, slot, minutes, False)
        self._write(key)

    @precondition(lambda self: self.meetings)
    @rule(data=st.data(), slot=SLOTS)
    def move(self, data: st.DataObject, slot: int) -> None:
        """A meeting moves to another slot (its organizer changes it; answers are kept)."""
        key = data.draw(st.sampled_from(sorted(self.meetings)))
        source, _slot, minutes, declined = self.meetings[key]
        self.meetings[key] = (source, slot, minutes, declined)
        self._write(key)

    @precondition(lambda self: self.meetings)
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        """The owner declines a meeting, or accepts it again."""
        key = data.draw(st.sampled_from(sorted(self.meetings)))
        source, slot, minutes, declined = self.meetings[key]
        self.meetings[key] = (source, slot, minutes, not declined)
        self._write(key)

    @precondition(lambda self: self.meetings)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """A meeting is cancelled: deleted by its organizer (an Outlook invitation is left cancelled)."""
        key = data.draw(st.sampled_from(sorted(self.meetings)))
        source = self.meetings.pop(key)[0]
        self._owner(self.world.drop_meeting(1 if source == "google" else 6, key))

    @rule(slot=SLOTS)
    def foreign_event(self, slot: int) -> None:
        """The target's owner puts an event of their own into it, often at a block's very time."""
        start = self.base + timedelta(minutes=30 * slot)
        key = f"own{len(self.foreign)}"
        body = meeting_body(start, start + timedelta(hours=1))
        graph_id = self._owner(self.world.organise(MICROSOFT[TARGET], key, body))
        self.foreign[graph_id] = self.world.graph.store.events[graph_id]

    # --- passes and faults ------------------------------------------------------------------------

    @rule(calendar=st.sampled_from([*SOURCES, "target"]), copies=st.integers(0, 2))
    def trigger(self, calendar: str, copies: int) -> None:
        """A calendar's change notice is lost (0), arrives (1) or arrives twice at once (2)."""
        ref = self.world.ref(*CALENDARS[calendar])
        self.runner.run_all(*(self.world.engine.calendars_changed([ref], "poll") for _ in range(copies)))

    @rule(
        method=st.sampled_from(FAULTY),
        how=st.sampled_from(["429", "503", "lost answer"]),
        times=st.integers(1, 4),
        calendar=st.sampled_from([*SOURCES, "target", "all"]),
    )
    def faulty_pass(self, method: str, how: str, times: int, calendar: str) -> None:
        """Graph fails the next few calls of one kind during one pass (a calendar's, or the full one)."""
        if how == "lost answer":
            fault = {"kind": "lost_response", "methods": [method], "times": times}
        else:
            fault = {
                "kind": "status",
                "status": int(how),
                "retry_after": 0,
                "methods": [method],
                "times": times,
            }
        self.world.emulator.faults.add(fault)
        try:
            if calendar == "all":
                self.runner.run(self.world.reconcile())
            else:
                self.trigger(calendar, 1)
        finally:
            self.world.emulator.faults.clear()

    # --- the check --------------------------------------------------------------------------------

    def _wanted(self) -> set[Span]:
        """Return the desired block spans of the target."""
        wanted = set()
        for source, slot, minutes, declined in self.meetings.values():
            if declined:
                continue
            start = self.base + timedelta(minutes=30 * slot)
            end = start + timedelta(minutes=minutes)
            if source == "google":
                start, end = start - timedelta(minutes=10), end + timedelta(minutes=5)
            wanted.add(_span(start, end))
        return wanted

    @invariant()
    def never_doubled(self) -> None:
        """Not even a pass that faults cut short stores a block twice (transactionId sees to it)."""
        marks = [block.extended[MARK_ID] for block in self.world.blocks(TARGET)]
        assert len(marks) == len(set(marks)), f"a block stored twice: {sorted(marks)}"

    @rule()
    def reconcile_and_check(self) -> None:
        """A clean full reconcile converges the target, touches no foreign event; a second plans nothing."""
        self.world.emulator.faults.clear()
        summary = self.runner.run(self.world.reconcile())
        assert summary.ok, {name: outcome.message for name, outcome in summary.flows.items()}
        blocks = self.world.spans(TARGET)
        wanted = self._wanted()
        self.never_doubled()
        assert len(blocks) == len(set(blocks)), f"two blocks share an interval: {blocks}"
        assert not set(blocks) - wanted, f"blocks nobody wants: {sorted(set(blocks) - wanted)}"
        missing = [span for span in wanted if span not in blocks and not covered(span, blocks)]
        assert not missing, f"desired spans without a block: {sorted(missing)}"
        assert self.world.foreign(TARGET) == self.foreign, "a foreign event changed"
        again = self.runner.run(self.world.reconcile())
        assert [outcome.plan.writes for outcome in again.targets if outcome.plan] == [0]


def _span(start: datetime, end: datetime) -> Span:
    """Return a timed span."""
    return False, start, end


def test_an_outlook_target_converges_under_random_changes_and_faults(loop_thread: LoopThread) -> None:
    """Whatever the owners, Graph and the triggers do, a clean full reconcile brings the target in line."""
    OutlookConvergence.runner = loop_thread
    run_state_machine_as_test(
        OutlookConvergence,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
