"""A flow's policy decides which meetings get a block; the reason is in the owner's words (design.md §2.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calmirror.config import CalendarRef, Flow, FlowPolicy
from calmirror.engine import Attendee, Interval, SourceEvent, TargetBlock, Window, block_id, plan_target
from calmirror.engine.filters import skip_reason

SOURCE = CalendarRef(account_id=1, calendar_id="alice@work.example")
TARGET = CalendarRef(account_id=2, calendar_id="alice@home.example")
IDENTITIES = frozenset({TARGET.calendar_id})
GUEST = Attendee("bob@example.com")
NEW_YORK = ZoneInfo("America/New_York")


def flow(flow_id: int = 1, **policy: Any) -> Flow:
    """Return a flow into TARGET with the given policy variables (as their text)."""
    return Flow(
        id=flow_id,
        name=f"flow {flow_id}",
        source=CalendarRef(account_id=1, calendar_id=f"src{flow_id}@work.example"),
        target=TARGET,
        start_offset=0,
        end_offset=0,
        policy=FlowPolicy.model_validate(policy),
    )


def own(response: str) -> Attendee:
    """Return the source calendar owner's own attendee entry with this response."""
    return Attendee(SOURCE.calendar_id, is_self=True, response_status=response)


def at(start: datetime, minutes: int = 60, **changes: Any) -> SourceEvent:
    """Return a qualifying two-person meeting at `start` (any zone) lasting `minutes`."""
    values: dict[str, Any] = {
        "id": "m1",
        "summary": "Planning",
        "interval": Interval.timed(start, start + timedelta(minutes=minutes)),
        "attendees": (own("accepted"), GUEST),
    }
    return SourceEvent(**(values | changes))


def ny(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """Return a wall-clock time in New York in 2026 (8 March springs forward, 1 November falls back)."""
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


WORK = {"days": "mon-fri", "hours": "09:00-17:00", "time_zone": "America/New_York"}
OUTSIDE_WORK = "outside Mon-Fri 09:00-17:00 America/New_York"


@pytest.mark.parametrize(
    ("policy", "event", "reason"),
    [
        ({}, at(ny(9, 10), attendees=(own("needsAction"), GUEST)), None),
        (
            {"unanswered": "skip"},
            at(ny(9, 10), attendees=(own("needsAction"), GUEST)),
            "you have not answered",
        ),
        ({"unanswered": "skip"}, at(ny(9, 10)), None),
        # No entry of the owner's own: they made it alone, so there is nothing to answer.
        ({"unanswered": "skip"}, at(ny(9, 10), attendees=(GUEST, Attendee("carol@example.com"))), None),
        ({}, at(ny(9, 10), attendees=(own("tentative"), GUEST)), None),
        (
            {"tentative": "skip"},
            at(ny(9, 10), attendees=(own("tentative"), GUEST)),
            "you accepted tentatively",
        ),
        ({"tentative": "skip"}, at(ny(9, 10), attendees=(own("needsAction"), GUEST)), None),
        # A guest's tentative answer is not the owner's.
        (
            {"tentative": "skip"},
            at(ny(9, 10), attendees=(own("accepted"), Attendee("b@x.test", response_status="tentative"))),
            None,
        ),
        # The event's own status keeps today's rule, whatever the policy.
        ({}, at(ny(9, 10), status="tentative"), "tentative, not confirmed"),
        ({"all_day": "skip"}, at(ny(9, 10)), None),
        (
            {"all_day": "skip"},
            at(ny(9, 10), interval=Interval.days(date(2026, 3, 9), date(2026, 3, 10))),
            "an all-day meeting",
        ),
        (
            {"skip_title_regex": "^(hold|lunch\\?)"},
            at(ny(9, 10), summary="HOLD: offsite"),
            "the title matches the flow's skip pattern",
        ),
        (
            {"skip_title_regex": "lunch\\?"},
            at(ny(9, 10), summary="Team lunch? maybe"),
            "the title matches the flow's skip pattern",
        ),
        ({"skip_title_regex": "^(hold|lunch\\?)"}, at(ny(9, 10), summary="Lunch with Bob"), None),
        # A private event shows no title: it never matches, even a pattern matching the empty string.
        ({"skip_title_regex": "^$|.*"}, at(ny(9, 10), summary=""), None),
        (WORK, at(ny(9, 10)), None),  # Monday 10:00
        (WORK, at(ny(9, 8), minutes=61), None),  # 08:00-09:01: one minute inside is enough
        (WORK, at(ny(9, 8)), OUTSIDE_WORK),  # 08:00-09:00 ends as work starts
        (WORK, at(ny(9, 17)), OUTSIDE_WORK),
        (WORK, at(ny(9, 16, 59), minutes=0), None),  # a zero-length meeting counts by its start
        (WORK, at(ny(9, 17), minutes=0), OUTSIDE_WORK),
        (WORK, at(ny(14, 10)), OUTSIDE_WORK),  # a Saturday
        (WORK, at(ny(13, 23), minutes=11 * 60), OUTSIDE_WORK),  # Friday 23:00 - Saturday 10:00
        (WORK, at(ny(15, 23), minutes=11 * 60), None),  # Sunday 23:00 - Monday 10:00: counts on Monday
        # Read in New York, not UTC: 15:00 UTC on Saturday is 11:00 EDT on Saturday; 02:00 UTC on
        # Tuesday is still Monday 22:00 in New York.
        (WORK, at(datetime(2026, 3, 14, 15, tzinfo=UTC)), OUTSIDE_WORK),
        ({"days": "mon", "time_zone": "America/New_York"}, at(datetime(2026, 3, 10, 2, tzinfo=UTC)), None),
        ({"days": "mon"}, at(datetime(2026, 3, 10, 2, tzinfo=UTC)), "outside Mon UTC"),
        (
            {"hours": "09:00-17:00", "time_zone": "Europe/London"},
            at(datetime(2026, 7, 1, 8, tzinfo=UTC)),
            None,
        ),
        ({"hours": "09:00-17:00"}, at(datetime(2026, 7, 1, 8, tzinfo=UTC)), "outside 09:00-17:00 UTC"),
        # All-day meetings count by their dates; HOURS do not apply to them.
        (WORK, at(ny(9, 0), interval=Interval.days(date(2026, 3, 14), date(2026, 3, 16))), "outside Mon-Fri"),
        (WORK, at(ny(9, 0), interval=Interval.days(date(2026, 3, 14), date(2026, 3, 17))), None),
    ],
)
def test_policy_reason(policy: dict[str, str], event: SourceEvent, reason: str | None) -> None:
    """Each policy skips exactly its meetings, with the reason the owner reads."""
    assert skip_reason(event, flow(**policy), IDENTITIES) == reason


NIGHT = {"days": "fri", "hours": "22:00-06:00", "time_zone": "America/New_York"}


@pytest.mark.parametrize(
    ("start", "qualifies"),
    [
        (ny(13, 23), True),  # Friday 23:00
        (ny(14, 5, 30), True),  # Saturday 05:30: Friday's window, which runs past midnight
        (ny(14, 6), False),  # Saturday 06:00: the window has ended
        (ny(14, 23), False),  # Saturday's own night is not included
        (ny(13, 0), False),  # Friday 00:00-01:00 belongs to Thursday's night
        (ny(13, 21), False),
    ],
)
def test_overnight_window_belongs_to_the_day_it_starts(start: datetime, qualifies: bool) -> None:
    """HOURS=22:00-06:00 on Fridays is Friday 22:00 to Saturday 06:00, and nothing on Friday morning."""
    reason = skip_reason(at(start), flow(**NIGHT), IDENTITIES)
    assert (reason is None) == qualifies, reason


@pytest.mark.parametrize(
    ("start", "minutes", "qualifies"),
    [
        # Sunday 8 March 2026, 02:00 EST -> 03:00 EDT: the wall clock never shows 02:00-02:59.
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), 30, False),  # 01:30-02:00 EST, then the jump
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), 31, True),  # one minute more is 03:00 EDT
        # Sunday 1 November 2026, 02:00 EDT -> 01:00 EST: 01:00-01:59 happens twice.
        (datetime(2026, 11, 1, 5, 0, tzinfo=UTC), 60, False),  # 01:00-02:00 EDT (clock 01:00-01:59)
        (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), 60, False),  # 01:00-02:00 EST: the same clock again
        (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), 61, True),  # reaches 02:00 EST
    ],
)
def test_hours_are_read_on_the_wall_clock_across_dst(start: datetime, minutes: int, qualifies: bool) -> None:
    """HOURS=02:00-23:00 on Sundays in New York follows the clock through both DST changes of 2026."""
    policy = {"days": "sun", "hours": "02:00-23:00", "time_zone": "America/New_York"}
    reason = skip_reason(at(start, minutes), flow(**policy), IDENTITIES)
    assert (reason is None) == qualifies, reason


def test_lord_howe_half_hour_shift() -> None:
    """Lord Howe moves its clock by 30 minutes (5 April 2026, 02:00 LHDT -> 01:30 LHST): 01:30-02:00 twice."""
    policy = flow(days="sun", hours="02:00-03:00", time_zone="Australia/Lord_Howe")
    # 14:30-15:00 UTC is 01:30-02:00 LHDT (+11); 15:00-15:30 UTC is 01:30-02:00 LHST (+10:30).
    assert skip_reason(at(datetime(2026, 4, 4, 14, 30, tzinfo=UTC), 60), policy, IDENTITIES) is not None
    assert skip_reason(at(datetime(2026, 4, 4, 14, 30, tzinfo=UTC), 61), policy, IDENTITIES) is None


MONDAY = datetime(2026, 11, 23, 10, tzinfo=UTC)
WINDOW = Window(MONDAY - timedelta(days=2), MONDAY + timedelta(days=7))


def _plan(flows: tuple[Flow, ...], sources: dict[int, list[SourceEvent]], blocks: list[TargetBlock]) -> Any:
    """Plan TARGET for these flows, sources and existing blocks."""
    return plan_target(TARGET, flows, sources, blocks, WINDOW, target_identities=IDENTITIES)


def test_a_block_another_flow_still_wants_stays() -> None:
    """A weekend-only flow skips a Monday meeting, but the same time from a second flow keeps its block."""
    weekend, everyday = flow(1, days="sat-sun"), flow(2)
    meeting = at(MONDAY)
    assert meeting.interval is not None
    block = TargetBlock(meeting.interval, block_id(TARGET.calendar_id, meeting.interval))

    both = _plan((weekend, everyday), {1: [meeting], 2: [meeting]}, [block])
    assert both.empty
    [skipped] = [r for r in both.results if r.flow_name == "flow 1"]
    assert (skipped.action, skipped.reason) == ("skipped", "outside Sat-Sun UTC")

    alone = _plan((weekend,), {1: [meeting]}, [block])
    assert alone.deletes == (block,)  # a meeting that stops qualifying is like a cancelled one
    assert [r.reason for r in alone.results if r.action == "deleted"] == ["no meeting needs it any more"]
