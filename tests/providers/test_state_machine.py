"""A Hypothesis state machine over the engine with real CalDAV calendars as source and target.

Random creates, moves, declines and cancellations in a Google and a CalDAV source, foreign events put
into the CalDAV target, lost and duplicated triggers, CalDAV requests failed or dropped (after being
carried out, too); after every full reconcile each target's blocks
are the desired set (tests/engine/conftest.py's oracle: no block nobody wants, none doubled, every
desired span blocked), no foreign event changed, and a second reconcile plans no write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from calmirror.emulator import start_emulator
from calmirror.engine import CalendarProvider, SyncEngine
from harness.caldav_servers import DavServer, get_object, make_calendar
from harness.davproxy import DavProxy, Fault
from harness.feeds import FeedServer
from tests.caldav.helpers import calendar
from tests.emulator_helpers import new_client
from tests.engine.conftest import base_time, covered
from tests.engine.test_state_machine import LoopThread
from tests.providers.conftest import GOOGLE, FlowSpec, Mixed, make_settings, open_test_providers
from tests.providers.dav import Span, put, stamp

pytestmark = pytest.mark.slow

SOURCES = ("google", "dav")  # Google account 1's primary calendar, CalDAV account 4's calendar "a"
SLOTS = st.integers(0, 24)  # half-hours after the base time


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    """A background event loop for the duration of one test."""
    runner = LoopThread()
    yield runner
    runner.close()


class CalDavConvergence(RuleBasedStateMachine):
    """Drives the sources' owners and the triggers; checks the targets after every full reconcile."""

    runner: LoopThread
    server: DavServer

    def __init__(self) -> None:
        """Start an emulator and a proxy, make two calendars, and build the engine over them."""
        super().__init__()
        run = self.runner.run
        emulator = run(start_emulator(accounts=tuple(GOOGLE.values())))
        calendars = {"a": run(make_calendar(self.server)), "b": run(make_calendar(self.server))}
        flows: list[FlowSpec] = [
            ("google to dav", (1, GOOGLE[1]), (3, calendars["b"]), 10, 5),
            ("dav to dav", (4, calendars["a"]), (3, calendars["b"]), 0, 0),
            ("dav to google", (4, calendars["a"]), (2, GOOGLE[2]), 0, 0),
        ]
        self.proxy = run(DavProxy(self.server.base_url).start())
        calendars = {name: self.proxy.url(url) for name, url in calendars.items()}
        principal = self.proxy.url(self.server.url(self.server.principal_path))
        config = make_settings(emulator, principal, "http://127.0.0.1:9/unused.ics", flows)
        self.providers: dict[int, CalendarProvider] = open_test_providers(emulator, config)
        users = {n: new_client(emulator, email, n) for n, email in GOOGLE.items()}  # the owners' clients
        engine = SyncEngine(config, self.providers)
        # No proxy and no feed here: the machine injects no faults and reads no feed.
        proxy, feeds = DavProxy(self.server.base_url), FeedServer()
        self.world = Mixed(
            emulator, self.server, proxy, feeds, config, engine, self.providers, users, calendars
        )
        self.base = base_time()
        self.meetings: dict[str, tuple[str, int, int, bool]] = {}  # key -> (source, slot, minutes, declined)
        self.foreign: dict[str, bytes | None] = {}  # URL -> the bytes its owner stored
        self.keys = 0

    def teardown(self) -> None:
        """Check once more, then close every client and stop the emulator."""
        try:
            self.reconcile_and_check()
        finally:
            self.runner.run_all(*(p.aclose() for p in self.providers.values()))
            self.runner.run_all(*(user.aclose() for user in self.world.users.values()))
            self.runner.run(self.world.emulator.stop())
            self.runner.run(self.proxy.stop())

    # --- the owners -----------------------------------------------------------------------------

    def _where(self, source: str) -> tuple[int, str]:
        """Return the account and calendar name of a source."""
        return (1, GOOGLE[1]) if source == "google" else (4, "a")

    def _write(self, key: str) -> None:
        """Store a meeting's current version in its source calendar."""
        source, slot, minutes, declined = self.meetings[key]
        start = self.base + timedelta(minutes=30 * slot)
        self.runner.run(self.world.put_meeting(*self._where(source), key, start, minutes, declined=declined))

    @rule(source=st.sampled_from(SOURCES), slot=SLOTS, minutes=st.sampled_from([30, 60, 90]))
    def create(self, source: str, slot: int, minutes: int) -> None:
        """An owner accepts a new meeting."""
        self.keys += 1
        key = f"m{self.keys}"
        self.meetings[key] = (source, slot, minutes, False)
        self._write(key)

    @rule(data=st.data(), slot=SLOTS)
    def move(self, data: st.DataObject, slot: int) -> None:
        """A meeting moves to another slot."""
        if self.meetings:
            key = data.draw(st.sampled_from(sorted(self.meetings)))
            source, _slot, minutes, declined = self.meetings[key]
            self.meetings[key] = (source, slot, minutes, declined)
            self._write(key)

    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        """The owner declines a meeting, or accepts it again."""
        if self.meetings:
            key = data.draw(st.sampled_from(sorted(self.meetings)))
            source, slot, minutes, declined = self.meetings[key]
            self.meetings[key] = (source, slot, minutes, not declined)
            self._write(key)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """A meeting is cancelled (its event deleted)."""
        if self.meetings:
            key = data.draw(st.sampled_from(sorted(self.meetings)))
            source = self.meetings.pop(key)[0]
            self.runner.run(self.world.drop_meeting(*self._where(source), key))

    @rule(slot=SLOTS)
    def foreign_event(self, slot: int) -> None:
        """Someone puts an event of their own into the CalDAV target, often at a block's very time."""
        start = self.base + timedelta(minutes=30 * slot)
        uid = f"foreign{len(self.foreign)}"
        data = calendar(
            f"UID:{uid}\nDTSTART:{stamp(start)}\nDTEND:{stamp(start + timedelta(hours=1))}\nSUMMARY:Own"
        )
        url = self.runner.run(put(self.server, self.world.calendars["b"], uid, data))
        self.foreign[url] = self.runner.run(get_object(url))

    # --- triggers ---------------------------------------------------------------------------------

    @rule(source=st.sampled_from(SOURCES), copies=st.integers(0, 2))
    def trigger(self, source: str, copies: int) -> None:
        """A source's change notice is lost (0), arrives (1) or arrives twice at once (2)."""
        ref = self.world.ref(*self._where(source))
        self.runner.run_all(*(self.world.engine.calendars_changed([ref], "poll") for _ in range(copies)))

    @rule(
        method=st.sampled_from(["PUT", "DELETE", "REPORT"]),
        how=st.sampled_from(["500", "drop", "carried out, then dropped"]),
        times=st.integers(1, 3),
    )
    def fault(self, method: str, how: str, times: int) -> None:
        """The CalDAV server fails the next few requests of one kind (until the next full reconcile)."""
        forward = how.startswith("carried")
        status = 500 if how == "500" else None
        self.proxy.inject(
            Fault(method=method, status=status, drop=status is None, forward=forward, times=times)
        )

    # --- the check --------------------------------------------------------------------------------

    def _wanted(self, target: str) -> set[Span]:
        """Return the desired block spans of a target ("dav" is calendar "b", "google" is account 2)."""
        wanted = set()
        for source, slot, minutes, declined in self.meetings.values():
            if declined or (target == "google" and source == "google"):
                continue
            start = self.base + timedelta(minutes=30 * slot)
            end = start + timedelta(minutes=minutes)
            if source == "google":
                start, end = start - timedelta(minutes=10), end + timedelta(minutes=5)
            wanted.add(_span(start, end))
        return wanted

    def _assert_target(self, target: str) -> None:
        """Assert that a target's blocks are the desired set (touching runs may share one block)."""
        blocks = self.runner.run(self.world.spans(*((3, "b") if target == "dav" else (2, GOOGLE[2]))))
        wanted = self._wanted(target)
        assert len(blocks) == len(set(blocks)), f"two blocks share an interval in {target}: {blocks}"
        assert not set(blocks) - wanted, f"blocks nobody wants in {target}: {sorted(set(blocks) - wanted)}"
        missing = [span for span in wanted if span not in blocks and not covered(span, blocks)]
        assert not missing, f"desired spans without a block in {target}: {sorted(missing)}"

    @rule()
    def reconcile_and_check(self) -> None:
        """A full reconcile converges every target, touches no foreign event; a second one plans nothing."""
        self.proxy.faults.clear()
        summary = self.runner.run(self.world.engine.reconcile_all())
        assert summary.ok, {name: outcome.message for name, outcome in summary.flows.items()}
        for target in ("dav", "google"):
            self._assert_target(target)
        for url, data in self.foreign.items():
            assert self.runner.run(get_object(url)) == data, f"foreign event {url} changed"
        again = self.runner.run(self.world.engine.reconcile_all())
        assert [outcome.plan.writes for outcome in again.targets if outcome.plan] == [0, 0]


def _span(start: datetime, end: datetime) -> Span:
    """Return a timed span."""
    return False, start, end


def test_caldav_targets_converge_under_random_changes(loop_thread: LoopThread, dav_server: DavServer) -> None:
    """Whatever the owners and the triggers do, a full reconcile brings every target to the desired set."""
    CalDavConvergence.runner = loop_thread
    CalDavConvergence.server = dav_server
    run_state_machine_as_test(
        CalDavConvergence,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
