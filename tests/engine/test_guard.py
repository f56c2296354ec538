"""The deletion guard: a plan holds a target's deletions exactly when both thresholds are exceeded."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from calmirror.config import CalendarRef, Flow
from calmirror.engine import Attendee, Interval, Plan, SourceEvent, TargetBlock, Window, block_id, plan_target
from calmirror.engine.guard import GUARD_OFF, DeletionGuard

WORK = CalendarRef(account_id=1, calendar_id="alice@work.example")
HOME = CalendarRef(account_id=2, calendar_id="alice@home.example")
FLOW = Flow(id=1, name="work", source=WORK, target=HOME, start_offset=0, end_offset=0)
DAY0 = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = Window(DAY0 - timedelta(days=2), DAY0 + timedelta(days=14))
PEOPLE = (
    Attendee("alice@work.example", is_self=True, response_status="accepted"),
    Attendee("bob@example.com"),
)


def hour(n: int) -> Interval:
    """Return the n-th hour after DAY0."""
    return Interval(DAY0 + timedelta(hours=n), DAY0 + timedelta(hours=n, minutes=30))


def plan_after_cancelling(blocks: int, cancelled: int, new: int, guard: DeletionGuard) -> Plan:
    """Plan a target holding `blocks` mirrored meetings after `cancelled` of them went and `new` came."""
    kept = range(cancelled, blocks + new)
    meetings = [SourceEvent(f"m{n}", interval=hour(n), attendees=PEOPLE) for n in kept]
    target = [TargetBlock(hour(n), block_id(HOME.calendar_id, hour(n))) for n in range(blocks)]
    return plan_target(
        HOME,
        [FLOW],
        {1: meetings},
        target,
        WINDOW,
        target_identities=frozenset({HOME.calendar_id}),
        guard=guard,
    )


@given(
    blocks=st.integers(0, 80),
    share=st.floats(0, 1),
    new=st.integers(0, 3),
    min_blocks=st.integers(0, 60),
    percent=st.integers(0, 99),
)
@example(blocks=40, share=0.75, new=0, min_blocks=25, percent=50)  # 30 of 40 cancelled: held
@example(blocks=50, share=0.52, new=0, min_blocks=25, percent=50)  # 26 of 50: 52 % > 50 %: held
@example(blocks=52, share=0.5, new=0, min_blocks=25, percent=50)  # 26 of 52: exactly 50 %: made
@example(blocks=40, share=0.625, new=0, min_blocks=25, percent=50)  # 25 of 40: not more than 25: made
@example(blocks=40, share=0.75, new=2, min_blocks=25, percent=0)  # guard off
def test_the_guard_holds_exactly_when_both_thresholds_are_exceeded(
    blocks: int, share: float, new: int, min_blocks: int, percent: int
) -> None:
    """More than MIN_BLOCKS deletions *and* more than PERCENT % of the blocks: none made, all held as
    `guard`, creations still planned; otherwise every deletion is made and none held."""
    cancelled = round(blocks * share)
    result = plan_after_cancelling(blocks, cancelled, new, DeletionGuard(min_blocks, percent))
    exceeded = percent > 0 and cancelled > min_blocks and cancelled / blocks > percent / 100
    doomed = sorted(block_id(HOME.calendar_id, hour(n)) for n in range(cancelled))
    assert [spec.interval for spec in result.creates] == [hour(n) for n in range(blocks, blocks + new)]
    if exceeded:
        assert result.deletes == ()
        assert result.held == tuple((block, "guard") for block in doomed)
        assert sorted(block.id for block in result.guarded) == doomed
        assert not any(r.action == "deleted" for r in result.results)
    else:
        assert sorted(block.id for block in result.deletes) == doomed
        assert result.held == result.guarded == ()


def test_an_earlier_hold_keeps_the_guard_out_of_it() -> None:
    """A failed source read holds every deletion as `source_unread`, never as `guard` as well."""
    target = [TargetBlock(hour(n), block_id(HOME.calendar_id, hour(n))) for n in range(40)]
    result = plan_target(
        HOME, [FLOW], {1: None}, target, WINDOW, target_identities=frozenset(), guard=DeletionGuard(0, 1)
    )
    assert result.deletes == ()
    assert result.guarded == ()
    assert {why for _, why in result.held} == {"source_unread"}


def test_a_create_never_reuses_the_id_of_a_held_block() -> None:
    """A block dragged off its meeting's time is held, so the meeting's block needs a salted id of its own."""
    dragged = TargetBlock(hour(100), block_id(HOME.calendar_id, hour(0)))  # hour 0's id at hour 100
    others = [TargetBlock(hour(n), block_id(HOME.calendar_id, hour(n))) for n in range(200, 202)]
    meeting = SourceEvent("m0", interval=hour(0), attendees=PEOPLE)
    args = (HOME, [FLOW], {1: [meeting]}, [dragged, *others], WINDOW)
    held = plan_target(*args, target_identities=frozenset(), guard=DeletionGuard(0, 1))
    assert sorted(block.id for block in held.guarded) == sorted([dragged.id, *(b.id for b in others)])
    (spec,) = held.creates
    assert spec.interval == hour(0)
    assert spec.id != dragged.id
    assert held.restores == ()
    free = plan_target(*args, target_identities=frozenset(), guard=GUARD_OFF)
    assert [spec.id for spec in free.restores] == [dragged.id]  # without the guard: deleted, id reused


@pytest.mark.parametrize(("min_blocks", "percent"), [(-1, 50), (25, -1), (25, 100)])
def test_a_guard_out_of_bounds_is_refused(min_blocks: int, percent: int) -> None:
    """The guard's own bounds match the configuration's: MIN_BLOCKS >= 0, PERCENT 0..99."""
    with pytest.raises(ValueError, match="deletion guard"):
        DeletionGuard(min_blocks, percent)
