"""Properties of the planner over random sources and random existing blocks (docs/design.md §4)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from random import Random

from hypothesis import example, given, settings
from hypothesis import strategies as st

from calmirror.config import CalendarRef, Flow, FlowPolicy
from calmirror.engine import Attendee, Interval, Plan, SourceEvent, TargetBlock, Window, block_id, plan_target
from calmirror.engine.filters import skip_reason
from calmirror.engine.offsets import deletable, wanted_interval

TARGET = CalendarRef(account_id=2, calendar_id="me@home.example")
IDENTITIES = frozenset({"me@home.example"})
DAY0 = datetime(2026, 11, 23, tzinfo=UTC)
# The window cuts through the generated days, so blocks across its edges occur.
WINDOW = Window(DAY0 + timedelta(hours=10), DAY0 + timedelta(days=2, hours=14))
PEOPLE = (
    Attendee("me@work.example", is_self=True, response_status="accepted"),
    Attendee("bob@example.com"),
    Attendee("me@home.example"),
    Attendee("room@resource.calendar.google.com", resource=True),
)

timed = st.builds(
    lambda start, length: Interval(
        DAY0 + timedelta(minutes=15 * start), DAY0 + timedelta(minutes=15 * (start + length))
    ),
    st.integers(0, 4 * 24 * 3),
    st.integers(0, 12),
)
all_day = st.builds(
    lambda first, days: Interval.days(
        date(2026, 11, 22) + timedelta(days=first), date(2026, 11, 22) + timedelta(days=first + days)
    ),
    st.integers(0, 4),
    st.integers(1, 2),
)
# Long ones: several days, so they straddle the window's edges or outlast it.
long_timed = st.builds(
    lambda start, length: Interval(
        DAY0 - timedelta(days=1) + timedelta(minutes=15 * start),
        DAY0 - timedelta(days=1) + timedelta(minutes=15 * (start + length)),
    ),
    st.integers(0, 4 * 24 * 4),
    st.integers(4 * 12, 4 * 24 * 5),
)
long_all_day = st.builds(
    lambda first, days: Interval.days(
        date(2026, 11, 20) + timedelta(days=first), date(2026, 11, 20) + timedelta(days=first + days)
    ),
    st.integers(0, 5),
    st.integers(3, 8),
)
# Short ones just inside or outside an edge, where the flows' offsets decide what a listing shows.
near_edges = st.builds(
    lambda edge, shift, length: Interval(
        edge + timedelta(minutes=5 * shift), edge + timedelta(minutes=5 * (shift + length))
    ),
    st.sampled_from([WINDOW.start, WINDOW.end]),
    st.integers(-14, 8),
    st.integers(0, 8),
)
intervals = st.one_of(timed, timed, timed, all_day, long_timed, long_all_day, near_edges)
ZONES = st.sampled_from([-12, -11, 0, 1, 13, 14])
# Flow policies (docs/design.md §2.5): flows into one target that skip different meetings.
POLICIES = st.sampled_from(
    [
        FlowPolicy(),
        FlowPolicy(),
        FlowPolicy.model_validate(
            {"days": "mon-tue", "hours": "09:00-17:00", "time_zone": "Pacific/Kiritimati"}
        ),
        FlowPolicy.model_validate(
            {"days": "sat-sun,tue", "hours": "22:00-06:00", "time_zone": "Europe/London"}
        ),
        FlowPolicy.model_validate({"unanswered": "skip", "tentative": "skip", "all_day": "skip"}),
        FlowPolicy.model_validate({"skip_title_regex": "^hold"}),
    ]
)  # the extremes are where all-day dates mislead


@st.composite
def source_events(draw: st.DrawFn, flow_id: int) -> SourceEvent:
    """Draw a source event that may or may not qualify."""
    attendees = draw(
        st.one_of(st.none(), st.lists(st.sampled_from(PEOPLE), max_size=4, unique=True).map(tuple))
    )
    if attendees and draw(st.booleans()):
        attendees = (
            replace(
                attendees[0],
                response_status=draw(st.sampled_from(["declined", "accepted", "needsAction", "tentative"])),
            ),
            *attendees[1:],
        )
    return SourceEvent(
        id=f"s{flow_id}-{draw(st.integers(0, 30))}",
        summary=draw(st.sampled_from(["", "Planning", "Hold"])),
        status=draw(st.sampled_from(["confirmed", "confirmed", "confirmed", "cancelled", "tentative"])),
        interval=draw(intervals),
        transparency=draw(st.sampled_from(["opaque", "opaque", "transparent"])),
        event_type=draw(st.sampled_from(["default", "default", "outOfOffice", "workingLocation"])),
        attendees=attendees,
        marked=draw(st.integers(0, 9)) == 0,
    )


@st.composite
def target_items(draw: st.DrawFn) -> SourceEvent | TargetBlock:
    """Draw a target event: one of our blocks (own or odd id), an unmarked event or a tombstone."""
    kind = draw(st.sampled_from(["block", "block", "block", "unmarked", "tombstone", "marked-event"]))
    interval = draw(intervals)
    if kind == "block":
        odd = draw(st.one_of(st.none(), st.sampled_from(["oddaa", "oddbb", "oddcc"])))
        return TargetBlock(interval, odd or block_id(TARGET.calendar_id, interval))
    if kind == "tombstone" and draw(st.booleans()):  # the tombstone of a block once deleted
        return SourceEvent(id=block_id(TARGET.calendar_id, interval), status="cancelled")
    if kind == "marked-event":
        return SourceEvent(id=f"m{draw(st.integers(0, 50))}", interval=interval, marked=True, summary="Busy")
    if kind == "unmarked":
        return SourceEvent(id=f"u{draw(st.integers(0, 50))}", interval=interval, summary="Busy")
    return SourceEvent(id=f"t{draw(st.integers(0, 5))}", status="cancelled")


@dataclass(frozen=True)
class Case:
    """One random planning situation."""

    flows: tuple[Flow, ...]
    sources: Mapping[int, Sequence[SourceEvent] | None]
    target_events: tuple[SourceEvent | TargetBlock, ...]

    @property
    def complete(self) -> bool:
        """Tell whether every source read succeeded."""
        return all(self.sources.get(flow.id) is not None for flow in self.flows)


@st.composite
def cases(draw: st.DrawFn, *, may_fail: bool = True) -> Case:
    """Draw flows into TARGET, their sources (some failed) and the target's events."""
    flows = tuple(
        Flow(
            id=flow_id,
            name=f"flow {flow_id}",
            source=CalendarRef(account_id=1, calendar_id=f"src{flow_id}@example.com"),
            target=TARGET,
            start_offset=draw(st.sampled_from([0, 15, 30])),
            end_offset=draw(st.sampled_from([0, 15])),
            min_participants=draw(st.sampled_from([1, 2, 2])),
            policy=draw(POLICIES),
        )
        for flow_id in range(1, draw(st.integers(1, 3)) + 1)
    )
    sources: dict[int, Sequence[SourceEvent] | None] = {}
    for flow in flows:
        failed = may_fail and draw(st.integers(0, 5)) == 0
        sources[flow.id] = None if failed else draw(st.lists(source_events(flow.id), max_size=12))
    target_events = draw(st.lists(target_items(), max_size=12, unique_by=_identity))
    # Blocks the user dragged: each holds the id of an interval that is (likely) desired.
    wanted = sorted(desired(Case(flows, sources, ())))
    for _ in range(draw(st.integers(0, 2))):
        home = draw(st.sampled_from(wanted) if wanted else intervals)
        dragged = TargetBlock(
            draw(st.one_of(intervals, st.sampled_from(wanted or [home]))), block_id(TARGET.calendar_id, home)
        )
        if dragged.interval != home and all(item.id != dragged.id for item in target_events):
            target_events.append(dragged)
    return Case(flows, sources, tuple(target_events))


def _identity(item: SourceEvent | TargetBlock) -> str:
    """Event ids are unique within a calendar."""
    return item.id


def plan(case: Case, target_events: Sequence[SourceEvent | TargetBlock] | None = None) -> Plan:
    """Plan the case's target."""
    events = case.target_events if target_events is None else target_events
    return plan_target(TARGET, case.flows, case.sources, events, WINDOW, target_identities=IDENTITIES)


def apply(plan_: Plan, events: Sequence[SourceEvent | TargetBlock]) -> list[SourceEvent | TargetBlock]:
    """Carry out a plan as Google would: deletes leave tombstones, then creates and restores write blocks."""
    doomed = {block.id for block in plan_.deletes}
    after: list[SourceEvent | TargetBlock] = [
        SourceEvent(item.id, status="cancelled") if item.id in doomed else item for item in events
    ]
    live = {item.id for item in after if not (isinstance(item, SourceEvent) and item.cancelled)}
    gone = {item.id for item in after} - live
    for spec in plan_.creates + plan_.restores:
        assert spec.id not in live, "a create or restore must never hit a live event's id"
        assert (spec in plan_.restores) == (spec.id in gone), "a known tombstone is restored, never created"
        after = [item for item in after if item.id != spec.id]
        after.append(TargetBlock(spec.interval, spec.id))
        live.add(spec.id)
    return after


def desired(case: Case) -> set[Interval]:
    """Compute the desired set straight from docs/design.md §3.2."""
    return {
        wanted_interval(event.interval, flow)
        for flow in case.flows
        for event in case.sources.get(flow.id) or ()
        if event.interval is not None and skip_reason(event, flow, IDENTITIES) is None
    }


def blocks(events: Sequence[SourceEvent | TargetBlock]) -> list[TargetBlock]:
    """Return the live blocks among the target's events."""
    found = []
    for item in events:
        if isinstance(item, TargetBlock):
            found.append(item)
        elif item.marked and not item.cancelled and item.interval is not None:
            found.append(TargetBlock(item.interval, item.id))
    return found


def covered(interval: Interval, cover: Sequence[Interval]) -> bool:
    """Tell whether the union of the cover intervals contains the interval (the naive way)."""
    reach, touched = interval.start, False
    for other in sorted(cover):
        if other.start <= reach <= other.end:
            reach, touched = max(reach, other.end), True
    return touched and reach >= interval.end


@settings(max_examples=100, deadline=None)
@given(cases())
def test_a_second_plan_after_applying_is_empty(case: Case) -> None:
    """Applying a plan and planning again with the same sources plans nothing."""
    again = plan(case, apply(plan(case), case.target_events))
    assert again.empty, again


@settings(max_examples=100, deadline=None)
@given(cases())
def test_unmarked_events_are_never_deleted_or_returned(case: Case) -> None:
    """No delete, write or result names a live event without calmirror's mark (tombstones may be ours)."""
    unmarked = {
        item.id
        for item in case.target_events
        if isinstance(item, SourceEvent) and not (item.marked or item.cancelled)
    }
    result = plan(case)
    assert unmarked.isdisjoint(block.id for block in result.deletes)
    assert unmarked.isdisjoint(spec.id for spec in result.creates + result.restores)
    assert unmarked.isdisjoint(item.block_id for item in result.results)


@settings(max_examples=100, deadline=None)
@given(cases(may_fail=False))
def test_after_applying_blocks_match_the_desired_set(case: Case) -> None:
    """After a full pass each desired interval is blocked or covered; window blocks are desired, once."""
    wanted = desired(case)
    after = blocks(apply(plan(case), case.target_events))
    held = [block.interval for block in after]
    cover = [interval for interval in held if not interval.all_day and interval in wanted]
    for interval in wanted:
        assert interval in held or (not interval.all_day and covered(interval, cover)), interval
    visible = [block.interval for block in after if deletable(block.interval, case.flows, WINDOW)]
    assert set(visible) <= wanted, "an orphan the deletion rule can see was left behind"
    assert len(visible) == len(set(visible))


def listed(interval: Interval | None, zone_hours: int) -> bool:
    """Tell whether Google lists an event in WINDOW, reading all-day dates in the calendar's zone."""
    if interval is None:
        return True
    shift = timedelta(hours=zone_hours if interval.all_day else 0)
    return interval.end - shift > WINDOW.start and interval.start - shift < WINDOW.end


EDGE_FLOW = Flow(
    id=1,
    name="flow 1",
    source=CalendarRef(account_id=1, calendar_id="src1@example.com"),
    target=TARGET,
    start_offset=0,
    end_offset=15,
)
# In UTC+14 this all-day date ends exactly as the window starts, so Google does not list it there.
EDGE_DAY = SourceEvent(
    "s1-0", interval=Interval.days(date(2026, 11, 23), date(2026, 11, 24)), attendees=PEOPLE[:2]
)
# It ends as the window starts (not listed), but its block reaches 15 minutes into the window.
EDGE_MEETING = replace(EDGE_DAY, interval=Interval(WINDOW.start - timedelta(hours=1), WINDOW.start))


@settings(max_examples=150, deadline=None)
@given(cases(may_fail=False), ZONES, ZONES)
@example(Case((EDGE_FLOW,), {1: [EDGE_DAY]}, ()), 14, 0)
@example(Case((EDGE_FLOW,), {1: [EDGE_MEETING]}, ()), 0, 0)
def test_a_block_still_wanted_is_never_deleted(case: Case, source_zone: int, target_zone: int) -> None:
    """Given only what Google lists in the window, no block is deleted that an unlisted event still wants."""
    sources = {
        flow_id: [event for event in events or () if listed(event.interval, source_zone)]
        for flow_id, events in case.sources.items()
    }
    taken = {item.id for item in case.target_events}
    earlier = [TargetBlock(i, block_id(TARGET.calendar_id, i)) for i in sorted(desired(case))]  # a past pass
    target_events = tuple(
        item
        for item in [*case.target_events, *(block for block in earlier if block.id not in taken)]
        if listed(item.interval, target_zone) or (isinstance(item, SourceEvent) and item.cancelled)
    )
    seen = Case(case.flows, sources, target_events)
    still_wanted = desired(case) & {block.interval for block in blocks(target_events)}
    after = {block.interval for block in blocks(apply(plan(seen), target_events))}
    assert still_wanted <= after


@settings(max_examples=60, deadline=None)
@given(cases(), st.data())
def test_a_failed_read_means_no_deletes(case: Case, data: st.DataObject) -> None:
    """When any flow's read failed, the plan deletes nothing, whatever else it does."""
    failed_flow = data.draw(st.sampled_from(case.flows))
    failed = Case(case.flows, {**case.sources, failed_flow.id: None}, case.target_events)
    assert not plan(failed).deletes


@settings(max_examples=60, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_input_order(case: Case, random: Random) -> None:
    """Shuffling flows, source listings and the target listing yields the same plan."""
    flows = list(case.flows)
    random.shuffle(flows)
    sources = {
        key: None if events is None else random.sample(list(events), len(events))
        for key, events in case.sources.items()
    }
    shuffled = Case(
        tuple(flows), sources, tuple(random.sample(list(case.target_events), len(case.target_events)))
    )
    assert plan(shuffled) == plan(case)
