"""The reconcile planner, rule by rule (docs/design.md §3-§4)."""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from calmirror.config import CalendarRef, Flow
from calmirror.engine import (
    Attendee,
    Interval,
    Plan,
    SourceEvent,
    TargetBlock,
    Window,
    block_id,
    plan_target,
)
from calmirror.engine.cover import Cover
from calmirror.google.events import parse_event

WORK = CalendarRef(account_id=1, calendar_id="alice@work.example")
HOME = CalendarRef(account_id=2, calendar_id="alice@home.example")
HOME_IDS = frozenset({"alice@home.example"})
WINDOW = Window(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 12, 10, tzinfo=UTC))
OWNER = Attendee("alice@work.example", is_self=True, response_status="accepted")
GUEST = Attendee("bob@example.com", response_status="accepted")


def flow(flow_id: int = 1, *, source: CalendarRef = WORK, target: CalendarRef = HOME, **fields: Any) -> Flow:
    """Return a flow into HOME with no offsets unless told otherwise."""
    values = {"name": f"flow {flow_id}", "start_offset": 0, "end_offset": 0, **fields}
    return Flow(id=flow_id, source=source, target=target, **values)


def at(hour: float, day: int = 23, month: int = 11) -> datetime:
    """Return a UTC instant on a day of 2026."""
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


def span(start: float, end: float, day: int = 23) -> Interval:
    """Return a timed interval between two hours of a day."""
    return Interval(at(start, day), at(end, day))


def meeting(event_id: str, interval: Interval, **changes: Any) -> SourceEvent:
    """Return a qualifying two-person meeting."""
    return SourceEvent(
        **{"id": event_id, "summary": event_id, "interval": interval, "attendees": (OWNER, GUEST), **changes}
    )


def block(interval: Interval, block_id_: str | None = None, calendar: str = HOME.calendar_id) -> TargetBlock:
    """Return a live block, by default under its deterministic id."""
    return TargetBlock(interval, block_id_ or block_id(calendar, interval))


def plan(
    sources: Mapping[int, Sequence[SourceEvent] | None],
    target_events: Sequence[SourceEvent | TargetBlock] = (),
    *,
    flows: Sequence[Flow] = (flow(),),
    target: CalendarRef = HOME,
    window: Window = WINDOW,
    tombstones: frozenset[str] = frozenset(),
) -> Plan:
    """Plan the target with the given listings."""
    identities = frozenset({target.calendar_id})
    return plan_target(
        target, flows, sources, target_events, window, target_identities=identities, tombstones=tombstones
    )


def created(result: Plan) -> list[Interval]:
    """Return the intervals the plan creates or restores."""
    return sorted(spec.interval for spec in result.creates + result.restores)


def deleted(result: Plan) -> list[Interval]:
    """Return the intervals the plan deletes."""
    return sorted(target_block.interval for target_block in result.deletes)


def actions(result: Plan) -> dict[str, tuple[str, str | None]]:
    """Return each result's action and reason by event id."""
    return {item.event_id: (item.action, item.reason) for item in result.results}


def test_new_meeting_gets_a_block() -> None:
    """A qualifying meeting with no block gets one, with the deterministic id and the flow's title."""
    result = plan({1: [meeting("m", span(9, 10))]})
    assert [(spec.interval, spec.id, spec.title) for spec in result.creates] == [
        (span(9, 10), block_id(HOME.calendar_id, span(9, 10)), "Busy")
    ]
    assert actions(result) == {"m": ("created", "created")}
    assert result.results[0].block_id == result.creates[0].id


def test_existing_block_means_nothing_to_do() -> None:
    """A meeting whose block exists plans no writes and reports `existed`."""
    result = plan({1: [meeting("m", span(9, 10))]}, [block(span(9, 10))])
    assert result.empty
    assert actions(result) == {"m": ("existed", "block exists")}


def test_offsets_widen_the_block() -> None:
    """Offsets move the block's start earlier and its end later."""
    result = plan({1: [meeting("m", span(9, 10))]}, flows=[flow(start_offset=15, end_offset=30)])
    assert created(result) == [span(8.75, 10.5)]


def test_two_events_with_one_interval_share_a_block_and_a_cancel_keeps_it() -> None:
    """Two meetings at the same time share one block; cancelling one of them keeps the block."""
    both = plan({1: [meeting("a", span(9, 10)), meeting("b", span(9, 10))]})
    assert created(both) == [span(9, 10)]
    one_cancelled = plan(
        {1: [meeting("a", span(9, 10)), meeting("b", span(9, 10), status="cancelled")]}, [block(span(9, 10))]
    )
    assert one_cancelled.empty
    assert actions(one_cancelled) == {
        "a": ("existed", "block exists"),
        "b": ("skipped", "cancelled, not confirmed"),
    }


def test_moved_event_replaces_its_block() -> None:
    """A rescheduled meeting's old block is deleted and a block at the new time is created."""
    result = plan({1: [meeting("m", span(14, 15))]}, [block(span(9, 10))])
    assert (deleted(result), created(result)) == ([span(9, 10)], [span(14, 15)])
    assert actions(result)[block(span(9, 10)).id] == ("deleted", "no meeting needs it any more")
    gone = next(item for item in result.results if item.action == "deleted")
    assert (gone.flow_name, gone.block_id, gone.interval) == ("flow 1", block(span(9, 10)).id, span(9, 10))


def test_long_meeting_covers_a_short_one_until_it_is_cancelled() -> None:
    """A short meeting inside a long one needs no block; once the long one goes, it gets its own."""
    together = plan({1: [meeting("long", span(9, 12)), meeting("short", span(10, 11))]})
    assert created(together) == [span(9, 12)]
    assert actions(together)["short"] == ("existed", "covered")
    long_cancelled = plan(
        {1: [meeting("long", span(9, 12), status="cancelled"), meeting("short", span(10, 11))]},
        [block(span(9, 12))],
    )
    assert (deleted(long_cancelled), created(long_cancelled)) == ([span(9, 12)], [span(10, 11)])


def test_back_to_back_meetings_cover_one_spanning_them() -> None:
    """A desired interval covered by two adjacent blocks together needs no block of its own."""
    result = plan(
        {1: [meeting("a", span(9, 10)), meeting("b", span(10, 11)), meeting("c", span(9.5, 10.5))]},
        [block(span(9, 10)), block(span(10, 11))],
    )
    assert result.empty
    assert actions(result)["c"] == ("existed", "covered")


def test_covered_interval_with_its_own_block_keeps_it() -> None:
    """A block whose interval is still desired stays even when other blocks cover it."""
    result = plan(
        {1: [meeting("long", span(9, 12)), meeting("short", span(10, 11))]},
        [block(span(9, 12)), block(span(10, 11))],
    )
    assert result.empty


def test_all_day_blocks_neither_cover_nor_are_covered() -> None:
    """An all-day block never covers a timed meeting, and an all-day interval always gets its block."""
    day = Interval.days(date(2026, 11, 23), date(2026, 11, 24))
    result = plan({1: [meeting("day", day), meeting("m", span(9, 10)), meeting("wide", span(-2, 30))]})
    assert created(result) == sorted([day, span(-2, 30)])
    assert actions(result)["m"] == ("existed", "covered")


@pytest.mark.parametrize(
    ("changes", "block_stays"),
    [
        ({"transparency": "transparent"}, False),  # busy -> free
        ({"transparency": "opaque"}, True),
        ({"attendees": (Attendee(OWNER.email, is_self=True, response_status="declined"), GUEST)}, False),
        ({"attendees": (OWNER, Attendee("room@resource.calendar.google.com", resource=True))}, False),
        ({"attendees": (OWNER, GUEST, Attendee("room@resource.calendar.google.com", resource=True))}, True),
        ({"attendees": (OWNER, GUEST, Attendee("alice@home.example"))}, False),  # target invited
        ({"attendees": (OWNER, GUEST, Attendee("alice@home.example", response_status="declined"))}, True),
        ({"event_type": "workingLocation"}, False),
        ({"event_type": "outOfOffice"}, True),
    ],
)
def test_changes_to_the_source_event_keep_or_drop_its_block(
    changes: dict[str, Any], block_stays: bool
) -> None:
    """The block follows the event: free, declined, too few people or the target invited drop it."""
    result = plan({1: [meeting("m", span(9, 10), **changes)]}, [block(span(9, 10))])
    assert deleted(result) == ([] if block_stays else [span(9, 10)])
    assert not result.creates


@pytest.mark.parametrize(
    ("changes", "gets_block"),
    [
        ({"transparency": "transparent"}, False),
        ({}, True),  # free -> busy: the block comes
        ({"attendees": (OWNER, GUEST, Attendee("alice@home.example", response_status="needsAction"))}, False),
        ({"attendees": (OWNER, GUEST, Attendee("alice@home.example", response_status="declined"))}, True),
    ],
)
def test_qualifying_changes_create_the_block(changes: dict[str, Any], gets_block: bool) -> None:
    """An event that starts qualifying gets its block; one that does not, gets none."""
    assert created(plan({1: [meeting("m", span(9, 10), **changes)]})) == ([span(9, 10)] if gets_block else [])


def test_flows_both_ways_never_ping_pong() -> None:
    """With flows A->B and B->A, a block in B is never mirrored back into A, nor A's block into B."""
    a_to_b = flow(1, source=WORK, target=HOME)
    b_to_a = flow(2, source=HOME, target=WORK)
    ours_in_home = SourceEvent("h1", interval=span(9, 10), attendees=None, marked=True, summary="Busy")
    ours_in_work = SourceEvent("w1", interval=span(13, 14), attendees=None, marked=True, summary="Busy")
    into_home = plan({1: [meeting("m", span(9, 10)), ours_in_work]}, [ours_in_home], flows=[a_to_b])
    into_work = plan({2: [ours_in_home]}, [ours_in_work], flows=[b_to_a], target=WORK)
    assert into_home.empty
    assert actions(into_home)["w1"] == ("skipped", "a calmirror block")
    assert (created(into_work), deleted(into_work)) == ([], [span(13, 14)])


def test_two_flows_into_one_target_union_their_intervals() -> None:
    """Two flows with different offsets union their intervals; one flow's wider block covers the other's."""
    first = flow(1, name="work", block_title="Work")
    second = flow(
        2,
        source=CalendarRef(account_id=3, calendar_id="alice@club.example"),
        name="club",
        block_title="Club",
        start_offset=30,
    )
    result = plan(
        {
            2: [meeting("c", span(9, 10)), meeting("same", span(14.5, 15))],
            1: [meeting("w", span(9, 10)), meeting("w2", span(14, 15))],
        },
        flows=[second, first],
    )
    assert [(spec.interval, spec.title) for spec in result.creates] == [
        (span(8.5, 10), "Club"),
        (span(14, 15), "Work"),
    ]
    assert actions(result)["w"] == ("existed", "covered")
    assert actions(result)["same"] == ("created", "created")  # 14:30 - 30 min equals work's 14:00-15:00
    assert {item.flow_name for item in result.results} == {"work", "club"}


def test_equal_intervals_from_two_flows_get_one_block_titled_by_the_first_flow() -> None:
    """When two flows want the same interval, one block is written, titled by the lower flow id."""
    first = flow(1, block_title="One")
    second = flow(2, source=CalendarRef(account_id=3, calendar_id="c@example.com"), block_title="Two")
    result = plan({1: [meeting("a", span(9, 10))], 2: [meeting("b", span(9, 10))]}, flows=[second, first])
    assert [spec.title for spec in result.creates] == ["One"]


def test_all_day_busy_event_blocks_its_dates_without_offsets() -> None:
    """An all-day busy meeting gets an all-day block over its own dates; offsets do not apply."""
    days = Interval.days(date(2026, 11, 23), date(2026, 11, 25))
    result = plan({1: [meeting("offsite", days)]}, flows=[flow(start_offset=30, end_offset=30)])
    assert created(result) == [days]
    assert result.creates[0].interval.all_day


def test_weekly_berlin_series_across_the_dst_change() -> None:
    """10:00 Berlin instances are 08:00Z before and 09:00Z after DST ends; moves and cancels follow."""
    window = Window(datetime(2026, 10, 10, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    people = [{"email": "alice@work.example", "self": True}, {"email": "bob@example.com"}]

    def instance(day: str, local_start: str, local_end: str, **extra: Any) -> SourceEvent:
        when = {"timeZone": "Europe/Berlin"}
        return parse_event(
            {
                "id": f"weekly_{day.replace('-', '')}",
                "recurringEventId": "weekly",
                "attendees": people,
                "start": {"dateTime": f"{day}T{local_start}", **when},
                "end": {"dateTime": f"{day}T{local_end}", **when},
                **extra,
            }
        )

    series = [
        instance("2026-10-18", "10:00:00+02:00", "11:00:00+02:00"),
        instance("2026-10-25", "10:00:00", "11:00:00", status="cancelled"),
        instance("2026-11-01", "14:00:00", "15:00:00"),  # moved from 10:00
        instance("2026-11-08", "10:00:00", "11:00:00"),
    ]
    before = [
        block(Interval(at(8, 18, 10), at(9, 18, 10))),
        block(Interval(at(9, 25, 10), at(10, 25, 10))),
        block(Interval(at(9, 1), at(10, 1))),
        block(Interval(at(9, 8), at(10, 8))),
    ]
    result = plan({1: series}, before, window=window)
    assert deleted(result) == [Interval(at(9, 25, 10), at(10, 25, 10)), Interval(at(9, 1), at(10, 1))]
    assert created(result) == [Interval(at(13, 1), at(14, 1))]


def test_users_own_busy_event_is_never_touched() -> None:
    """An unmarked event at exactly a desired interval is invisible: our block is still created beside it."""
    own = SourceEvent("mine", interval=span(9, 10), summary="Busy", attendees=None)
    stray = SourceEvent("other", interval=span(15, 16), summary="Busy", attendees=None)
    result = plan({1: [meeting("m", span(9, 10))]}, [own, stray])
    assert created(result) == [span(9, 10)]
    assert not result.deletes
    assert {"mine", "other"}.isdisjoint(item.event_id for item in result.results)


def test_block_deleted_by_hand_is_recreated_and_restored_when_its_tombstone_is_known() -> None:
    """A block deleted by hand comes back while wanted, as a restore once its tombstone is known."""
    wanted = {1: [meeting("m", span(9, 10))]}
    unseen = plan(wanted)
    tombstone = SourceEvent(block_id(HOME.calendar_id, span(9, 10)), status="cancelled")
    seen = plan(wanted, [tombstone])
    told = plan(wanted, tombstones=frozenset({tombstone.id}))
    assert (created(unseen), [s.id for s in unseen.restores]) == ([span(9, 10)], [])
    assert [spec.id for spec in seen.restores] == [tombstone.id] == [spec.id for spec in told.restores]
    assert not seen.creates
    assert actions(seen)["m"] == ("restored", "restored")


@pytest.mark.parametrize("failed", [None, "missing"])
def test_failed_source_read_blocks_deletions_but_not_creates(failed: str | None) -> None:
    """When any source read of the target failed or is absent, nothing is deleted; creates still happen."""
    other = flow(2, source=CalendarRef(account_id=3, calendar_id="c@example.com"))
    sources: dict[int, Sequence[SourceEvent] | None] = {1: [meeting("m", span(14, 15))]}
    if failed is None:
        sources[2] = None
    result = plan(
        sources,
        [block(span(9, 10)), block(span(14, 15), "legacyid"), block(span(14, 15))],
        flows=[flow(), other],
    )
    assert not result.deletes
    full = plan({**sources, 2: []}, [block(span(9, 10))], flows=[flow(), other])
    assert (deleted(full), created(full)) == ([span(9, 10)], [span(14, 15)])
    again = plan(sources, [block(span(9, 10))], flows=[flow(), other])
    assert (deleted(again), created(again)) == ([], [span(14, 15)])


def test_event_with_unusable_times_is_an_error_and_blocks_deletions() -> None:
    """A live source event whose times cannot be read is reported as an error and stops deletions."""
    people = [{"email": "alice@work.example", "self": True}, {"email": "bob@example.com"}]
    broken = parse_event(
        {"id": "odd", "attendees": people, "start": {"dateTime": "2026-11-23T09:00:00"}, "end": {}}
    )
    result = plan({1: [broken]}, [block(span(9, 10))])
    assert not result.deletes
    assert result.results[0].action == "error"
    assert not result.results[0].success


@pytest.mark.parametrize(
    ("stale", "deleted_"),
    [
        (Interval(WINDOW.start - timedelta(hours=1), WINDOW.start + timedelta(hours=1)), True),
        (Interval(WINDOW.end - timedelta(hours=1), WINDOW.end + timedelta(hours=1)), True),
        (Interval(WINDOW.start - timedelta(hours=1), WINDOW.start), False),  # ends as the window starts
        (Interval(WINDOW.end + timedelta(days=1), WINDOW.end + timedelta(days=1, hours=1)), False),
        (Interval(WINDOW.start - timedelta(days=7), WINDOW.end + timedelta(days=7)), True),  # longer
        (Interval.days(date(2026, 11, 19), date(2026, 11, 20)), False),  # listed in UTC-12 only
        (Interval.days(date(2026, 11, 20), date(2026, 11, 21)), True),
        (Interval.days(date(2026, 11, 1), date(2026, 12, 31)), True),
        (span(9, 10), True),
    ],
)
def test_blocks_whose_source_would_be_listed_are_deleted(stale: Interval, deleted_: bool) -> None:
    """A stale block is deleted when an event wanting it would overlap the window, however long it is."""
    assert deleted(plan({1: []}, [block(stale)])) == ([stale] if deleted_ else [])


def test_three_week_block_of_a_cancelled_on_site_is_deleted() -> None:
    """A block longer than the window goes once its meeting is cancelled; it stays while it is wanted."""
    window = Window(at(0, 25), at(0, 2, 12))  # one week; the on-site runs three
    onsite = Interval(at(8, 21), at(18, 11, 12))
    wanted = {1: [meeting("onsite", onsite)]}
    cancelled = {1: [meeting("onsite", onsite, status="cancelled")]}
    assert not plan(wanted, [block(onsite)], window=window).deletes
    assert deleted(plan(cancelled, [block(onsite)], window=window)) == [onsite]


def test_block_whose_source_interval_lies_outside_the_window_is_kept() -> None:
    """With offsets, a block reaching into the window may belong to a meeting outside it: it stays."""
    flows = (flow(start_offset=0, end_offset=30),)
    # The block ends 20 minutes into the window, but its meeting would have ended 10 minutes before it.
    stale = Interval(WINDOW.start - timedelta(hours=1), WINDOW.start + timedelta(minutes=20))
    assert not plan({1: []}, [block(stale)], flows=flows).deletes
    assert deleted(plan({1: []}, [block(stale)])) == [stale]  # without offsets its meeting would be listed


def test_every_flow_into_the_target_must_see_the_source_interval() -> None:
    """One flow whose source interval for the block lies outside the window keeps the block."""
    flows = (
        flow(1),
        flow(2, source=CalendarRef(account_id=3, calendar_id="club@x.example"), start_offset=90),
    )
    stale = Interval(WINDOW.end - timedelta(hours=1), WINDOW.end + timedelta(hours=1))
    assert not plan({1: [], 2: []}, [block(stale)], flows=flows).deletes
    assert deleted(plan({1: [], 2: []}, [block(stale)], flows=flows[:1])) == [stale]


def test_a_block_no_flow_can_want_is_deleted_wherever_it_reaches() -> None:
    """A block shorter than a flow's offsets together cannot come from that flow, which then cannot object."""
    flows = (flow(start_offset=60, end_offset=60),)
    short = Interval(WINDOW.end - timedelta(minutes=30), WINDOW.end + timedelta(minutes=30))
    assert deleted(plan({1: []}, [block(short)], flows=flows)) == [short]


def test_duplicates_keep_the_deterministic_id() -> None:
    """Several blocks at one desired interval: the deterministic one stays, the others are deleted."""
    own = block(span(9, 10))
    result = plan(
        {1: [meeting("m", span(9, 10))]}, [block(span(9, 10), "zzzzz"), own, block(span(9, 10), "00000")]
    )
    assert sorted(b.id for b in result.deletes) == ["00000", "zzzzz"]
    assert actions(result)["m"] == ("existed", "block exists")
    assert actions(result)["zzzzz"] == ("deleted", "a second block at the same time")


def test_duplicates_without_the_deterministic_id_keep_the_smallest() -> None:
    """Without a deterministic-id block, the smallest id stays."""
    result = plan(
        {1: [meeting("m", span(9, 10))]}, [block(span(9, 10), "bbbbb"), block(span(9, 10), "aaaaa")]
    )
    assert [b.id for b in result.deletes] == ["bbbbb"]


def test_block_dragged_elsewhere_does_not_steal_the_id() -> None:
    """When a kept block holds another interval's id, that interval gets a salted id, never a false 409."""
    dragged = TargetBlock(span(14, 15), block_id(HOME.calendar_id, span(9, 10)))
    result = plan({1: [meeting("a", span(9, 10)), meeting("b", span(14, 15))]}, [dragged])
    assert [(spec.interval, spec.id) for spec in result.creates] == [
        (span(9, 10), block_id(HOME.calendar_id, span(9, 10), salt=1))
    ]
    assert not result.deletes


def test_block_dragged_to_an_undesired_time_is_deleted_and_its_id_restored() -> None:
    """A block dragged to an undesired time is deleted, and its interval restores the id afterwards."""
    dragged = TargetBlock(span(14, 15), block_id(HOME.calendar_id, span(9, 10)))
    result = plan({1: [meeting("a", span(9, 10))]}, [dragged])
    assert result.deletes == (dragged,)
    assert [(spec.interval, spec.id) for spec in result.restores] == [(span(9, 10), dragged.id)]


def test_flows_of_another_target_are_refused() -> None:
    """plan_target plans one target: a flow into another calendar is a programming error."""
    with pytest.raises(ValueError, match="target"):
        plan({1: []}, flows=[flow(target=WORK)])


def test_sync_type_is_carried_into_results() -> None:
    """Every result records what triggered the pass."""
    result = plan_target(
        HOME,
        [flow()],
        {1: [meeting("m", span(9, 10))]},
        [],
        WINDOW,
        target_identities=HOME_IDS,
        trigger="webhook",
    )
    assert {item.sync_type for item in result.results} == {"webhook"}


@pytest.mark.parametrize(
    ("runs", "probe", "inside"),
    [
        ([span(9, 10), span(10, 11)], span(9.5, 10.5), True),  # back-to-back runs merge
        ([span(9, 10), span(10.25, 11)], span(9.5, 10.5), False),  # a gap is not covered
        ([span(9, 12)], span(12, 12), True),  # a zero-length probe at the edge
        ([span(9, 12)], span(8.75, 10), False),
        ([span(11, 12), span(9, 10), span(9.5, 11.5)], span(9, 12), True),  # merged out of order
        ([], span(9, 9), False),
        ([span(14, 15), span(9, 10), span(11, 12), span(9.5, 14.5)], span(9, 15), True),  # bridges three runs
        ([span(14, 15), span(9, 10), span(11, 12)], span(10, 11), False),
    ],
)
def test_cover_answers_whether_a_span_lies_inside_the_union(
    runs: list[Interval], probe: Interval, inside: bool
) -> None:
    """The cover merges overlapping and touching intervals and reports containment in the union."""
    cover = Cover()
    for run in runs:  # added one by one in the given order, as the planner does
        cover.add(run)
    assert cover.covers(probe) is inside
    assert Cover(runs).covers(probe) is inside
