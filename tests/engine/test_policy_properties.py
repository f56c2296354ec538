"""Properties of flow policies: a meeting gets a block exactly when an independent oracle says it qualifies.

The oracle walks each timed meeting minute by minute and reads the zone's wall clock at every
minute (all-day meetings day by day), instead of the production code's cut-at-offset-changes interval
math (calmirror/engine/worktime.py). Meetings and working hours sit on a 15-minute grid around the
DST changes of 2026 in New York, London and Lord Howe (a 30-minute shift), so every edge case of a
changing clock is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calmirror.config import CalendarRef, Flow, FlowPolicy
from calmirror.engine import Attendee, Interval, SourceEvent, Window, plan_target

TARGET = CalendarRef(account_id=2, calendar_id="me@home.example")
IDENTITIES = frozenset({TARGET.calendar_id})
MINUTE = timedelta(minutes=1)
# Days on which a zone's clock changes in 2026, as the UTC midnight before them.
DST_DAYS = {
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Europe/London": (date(2026, 3, 29), date(2026, 10, 25)),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4)),
    "Asia/Kolkata": (date(2026, 3, 8),),  # +05:30 all year
    "UTC": (date(2026, 11, 1),),
}
TITLES = ("Planning", "Hold", "hold: offsite", "Lunch?", "Lunch with Bob", "")
PATTERNS = (None, "^hold", "lunch\\?", "^$", "o")
DAY_TEXTS = ("mon-sun", "mon-fri", "sat-sun", "sun", "mon,wed,fri", "sun-thu", "fri")


@st.composite
def policies(draw: st.DrawFn) -> FlowPolicy:
    """Draw a policy: any answer rules, some days, maybe hours on a 15-minute grid, a zone, a pattern."""
    hours = None
    if draw(st.booleans()):
        start, end = draw(st.lists(st.integers(0, 24 * 4 - 1), min_size=2, max_size=2, unique=True))
        hours = f"{start // 4:02d}:{start % 4 * 15:02d}-{end // 4:02d}:{end % 4 * 15:02d}"
    return FlowPolicy.model_validate(
        {
            "unanswered": draw(st.sampled_from(["busy", "skip"])),
            "tentative": draw(st.sampled_from(["busy", "skip"])),
            "days": draw(st.sampled_from(DAY_TEXTS)),
            "time_zone": draw(st.sampled_from(sorted(DST_DAYS))),
            "all_day": draw(st.sampled_from(["block", "skip"])),
            **({"hours": hours} if hours else {}),
            **({"skip_title_regex": pattern} if (pattern := draw(st.sampled_from(PATTERNS))) else {}),
        }
    )


@st.composite
def meetings(draw: st.DrawFn, zone: str, number: int) -> SourceEvent:
    """Draw a meeting near one of the zone's clock changes: timed (up to three days) or all-day."""
    day = datetime.combine(draw(st.sampled_from(DST_DAYS[zone])), time(0), tzinfo=UTC)
    if draw(st.integers(0, 4)) == 0:
        first = day.date() + timedelta(days=draw(st.integers(-3, 3)))
        interval = Interval.days(first, first + timedelta(days=draw(st.integers(1, 8))))
    else:
        start = day + timedelta(minutes=15 * draw(st.integers(-4 * 48, 4 * 48)))
        length = draw(st.one_of(st.integers(0, 4 * 4), st.integers(0, 4 * 72)))
        interval = Interval(start, start + timedelta(minutes=15 * length))
    response = draw(st.sampled_from(["accepted", "needsAction", "tentative", "declined"]))
    return SourceEvent(
        id=f"e{number}",
        summary=draw(st.sampled_from(TITLES)),
        interval=interval,
        attendees=(Attendee("me@work.example", is_self=True, response_status=response), Attendee("b@x.test")),
    )


# --- the oracle ------------------------------------------------------------------------------------


def in_hours(moment: datetime, policy: FlowPolicy) -> bool:
    """Tell whether the zone's wall clock at `moment` shows working time (overnight: the start's day)."""
    local = moment.astimezone(policy.time_zone)
    today, clock = local.weekday() in policy.days, local.time().replace(tzinfo=None)
    yesterday = (local.date() - timedelta(days=1)).weekday() in policy.days
    hours = policy.hours
    if hours is None:
        return today
    if hours.start < hours.end:
        return today and hours.start <= clock < hours.end
    return (today and clock >= hours.start) or (yesterday and clock < hours.end)


def walks_into_working_time(interval: Interval, policy: FlowPolicy) -> bool:
    """Walk the meeting minute by minute (all-day: day by day) looking for working time."""
    if interval.all_day:
        day = interval.start_date
        while day < interval.end_date:
            if day.weekday() in policy.days:
                return True
            day += timedelta(days=1)
        return False
    moment = interval.start
    while True:
        if in_hours(moment, policy):
            return True
        moment += MINUTE
        if moment >= interval.end:
            return False


def oracle(event: SourceEvent, policy: FlowPolicy) -> bool:
    """Tell whether the meeting should have a block under `policy`, from the rules as written."""
    assert event.interval is not None
    assert event.attendees is not None
    response = event.attendees[0].response_status
    pattern = policy.skip_title_regex
    return (
        response != "declined"
        and not (policy.unanswered == "skip" and response == "needsAction")
        and not (policy.tentative == "skip" and response == "tentative")
        and not (policy.all_day == "skip" and event.interval.all_day)
        and not (pattern is not None and event.summary != "" and pattern.search(event.summary))
        and walks_into_working_time(event.interval, policy)
    )


# --- the properties --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A flow with a policy and the meetings of its source."""

    flow: Flow
    events: tuple[SourceEvent, ...]


def policy_flow(policy: FlowPolicy, *, min_participants: int = 2) -> Flow:
    """Return the flow "work" from me@work.example into TARGET under `policy`, without offsets."""
    source = CalendarRef(account_id=1, calendar_id="me@work.example")
    return Flow(
        id=1,
        name="work",
        source=source,
        target=TARGET,
        start_offset=0,
        end_offset=0,
        min_participants=min_participants,
        policy=policy,
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Draw a policy'd flow and up to six meetings around its zone's clock changes."""
    policy = draw(policies())
    flow = policy_flow(policy)
    count = draw(st.integers(1, 6))
    return Case(flow, tuple(draw(meetings(policy.time_zone.key, n)) for n in range(count)))


WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_a_meeting_gets_a_block_exactly_when_it_qualifies(case: Case) -> None:
    """Exactly the qualifying meetings get a block (or are covered); a block is a whole meeting."""
    plan = plan_target(TARGET, (case.flow,), {1: case.events}, (), WINDOW, target_identities=IDENTITIES)
    expected = {event.id for event in case.events if oracle(event, case.flow.policy)}
    blocked = {r.event_id for r in plan.results if r.action != "skipped"}
    assert blocked == expected
    meetings = {event.interval for event in case.events if event.id in expected}
    assert {spec.interval for spec in plan.creates} <= meetings
    for result in plan.results:
        assert (result.action == "skipped") == (result.reason not in ("created", "covered", "block exists"))


def _reference(policy: FlowPolicy, interval: Interval) -> bool:
    """Return whether a single meeting gets a block (the production path through the planner)."""
    event = SourceEvent(
        id="m",
        interval=interval,
        attendees=(Attendee("me@work.example", is_self=True, response_status="accepted"),),
    )
    flow = policy_flow(policy, min_participants=1)
    plan = plan_target(TARGET, (flow,), {1: (event,)}, (), WINDOW, target_identities=IDENTITIES)
    return len(plan.creates) == 1


# The instants the clocks change in 2026 (UTC), all between 00:00 and 03:00 local time.
CHANGES = (
    ("America/New_York", datetime(2026, 3, 8, 7, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),
    ("Europe/London", datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ("Europe/London", datetime(2026, 10, 25, 1, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
)


@dataclass(frozen=True)
class NearChange:
    """A short meeting next to a clock change, and working hours that start or end near it."""

    zone: str
    interval: Interval
    hours: str
    days: str


def _clock(quarters: int) -> str:
    """Return a count of quarter hours since midnight as HH:MM."""
    quarters %= 24 * 4
    return f"{quarters // 4:02d}:{quarters % 4 * 15:02d}"


@st.composite
def near_changes(draw: st.DrawFn) -> NearChange:
    """Draw a meeting of up to six hours that starts up to six hours before a change, hours edges at 00-04."""
    zone, change = draw(st.sampled_from(CHANGES))
    begin = change + timedelta(minutes=15 * draw(st.integers(-24, 4)))
    interval = Interval(begin, begin + timedelta(minutes=15 * draw(st.integers(0, 24))))
    edge, span = draw(st.integers(0, 16)), draw(st.integers(1, 24 * 4 - 1))
    start, end = (edge, edge + span) if draw(st.booleans()) else (edge - span, edge)
    hours = f"{_clock(start)}-{_clock(end)}"
    return NearChange(zone, interval, hours, draw(st.sampled_from(DAY_TEXTS)))


@settings(max_examples=500, deadline=None)
@given(near_changes())
def test_short_meetings_around_a_clock_change(case: NearChange) -> None:
    """Meetings next to a clock change qualify exactly when the wall clock shows working time."""
    policy = FlowPolicy.model_validate({"days": case.days, "hours": case.hours, "time_zone": case.zone})
    assert _reference(policy, case.interval) == walks_into_working_time(case.interval, policy)


def test_the_oracle_sees_the_clock_change() -> None:
    """Sanity check of the oracle itself: New York's 02:00-02:59 on 8 March 2026 never happens."""
    policy = FlowPolicy.model_validate({"hours": "02:00-03:00", "time_zone": "America/New_York"})
    lost_hour = Interval(datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 3, 8, 8, tzinfo=UTC))
    assert not walks_into_working_time(lost_hour, policy)
    assert _reference(policy, lost_hour) is False
    after = FlowPolicy.model_validate({"hours": "03:00-04:00", "time_zone": "America/New_York"})
    assert walks_into_working_time(lost_hour, after)  # 07:00 UTC is 03:00 EDT
    assert _reference(after, lost_hour) is True
