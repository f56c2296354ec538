"""The engine's domain values: intervals, windows and plans."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from calmirror.engine import Interval, Plan, TargetBlock, Window

NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)
WINDOW = Window(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC))


def test_timed_interval_is_normalised_to_utc() -> None:
    """A timed interval built from another zone stores the same instants in UTC."""
    berlin = timezone(timedelta(hours=1))
    interval = Interval.timed(
        datetime(2026, 11, 23, 13, tzinfo=berlin), datetime(2026, 11, 23, 14, tzinfo=berlin)
    )
    assert interval == Interval(NOON, NOON + timedelta(hours=1))
    assert interval.start.tzinfo is UTC


def test_all_day_interval_never_equals_a_timed_one() -> None:
    """An all-day day and the timed span of its UTC midnights are different intervals."""
    day = Interval.days(date(2026, 11, 23), date(2026, 11, 24))
    assert day != Interval(day.start, day.end)
    assert (day.start_date, day.end_date) == (date(2026, 11, 23), date(2026, 11, 24))


@pytest.mark.parametrize(
    ("start", "end", "all_day"),
    [
        (NOON, NOON - timedelta(minutes=1), False),  # ends before it starts
        (NOON.replace(tzinfo=None), NOON.replace(tzinfo=None), False),  # naive
        (NOON.astimezone(timezone(timedelta(hours=2))), NOON, False),  # aware but not UTC
        (NOON, NOON + timedelta(days=1), True),  # all-day off midnight
        (NOON.replace(hour=0), NOON.replace(hour=0), True),  # all-day of no days
    ],
)
def test_invalid_intervals_are_refused(start: datetime, end: datetime, all_day: bool) -> None:
    """Intervals that end first, are not UTC, or are all-day off midnight raise ValueError."""
    with pytest.raises(ValueError, match=r"interval|UTC|all-day"):
        Interval(start, end, all_day)


def test_zero_length_timed_interval_is_allowed() -> None:
    """Google allows events that end when they start, so a timed interval may have no length."""
    assert Interval(NOON, NOON).duration == timedelta(0)


def test_intervals_order_by_start_then_end() -> None:
    """Intervals sort by start, then end, so plans can be sorted deterministically."""
    short, long_, later = (
        Interval(NOON, NOON + timedelta(hours=1)),
        Interval(NOON, NOON + timedelta(hours=2)),
        (Interval(NOON + timedelta(hours=1), NOON + timedelta(hours=2))),
    )
    assert sorted([later, long_, short]) == [short, long_, later]


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("interval", "listed"),
    [
        (Interval(NOON, NOON + HOUR), True),
        (Interval(WINDOW.start - HOUR, WINDOW.start), False),  # ends as the window starts
        (Interval(WINDOW.start, WINDOW.start + HOUR), True),
        (Interval(WINDOW.end - HOUR, WINDOW.end), True),
        (Interval(WINDOW.end, WINDOW.end + HOUR), False),  # starts as the window ends
        (Interval(WINDOW.start, WINDOW.start), False),  # no length, at the start
        (Interval(NOON, NOON), True),
        (Interval(WINDOW.start - timedelta(days=20), WINDOW.end + timedelta(days=20)), True),  # longer
        (Interval.days(date(2026, 11, 20), date(2026, 11, 21)), True),  # ends 20th 10:00Z in UTC+14
        (Interval.days(date(2026, 11, 19), date(2026, 11, 20)), False),  # listed in UTC-12 only
        (Interval.days(date(2026, 12, 3), date(2026, 12, 4)), True),  # starts 3rd 12:00Z in UTC-12
        (Interval.days(date(2026, 12, 4), date(2026, 12, 5)), False),  # listed in UTC+14 only
        (Interval.days(date(2026, 11, 1), date(2026, 12, 31)), True),
    ],
)
def test_window_lists_what_overlaps_it_strictly_in_every_zone(interval: Interval, listed: bool) -> None:
    """A window lists an interval that ends after it starts and starts before it ends, in every zone."""
    assert WINDOW.lists(interval) is listed


def test_window_must_not_be_empty() -> None:
    """A window that ends when it starts is refused."""
    with pytest.raises(ValueError, match="window"):
        Window(NOON, NOON)


def test_plan_counts_its_writes() -> None:
    """A plan with no creates, restores or deletes is empty; each write counts once."""
    block = TargetBlock(Interval(NOON, NOON + timedelta(hours=1)), "abcde")
    assert Plan().empty
    assert Plan(deletes=(block,)).writes == 1
    assert not Plan(deletes=(block,)).empty
