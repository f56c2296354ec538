"""A block in Google Calendar: the private mark and the body it is written with."""

from datetime import UTC, date, datetime

from calmirror.engine import BlockSpec, Interval
from calmirror.google.blocks import MARK_KEY, MARK_VALUE, block_body, is_marked

MEETING = Interval(datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC))
DAY = Interval.days(date(2026, 11, 23), date(2026, 11, 24))


def test_timed_block_body_is_silent_private_opaque_and_marked() -> None:
    """A timed block is written in UTC with no reminders, attendees or description, and the mark."""
    body = block_body(BlockSpec(MEETING, "abcde12345", "Busy"))
    assert body == {
        "id": "abcde12345",
        "summary": "Busy",
        "start": {"dateTime": "2026-11-23T09:00:00Z"},
        "end": {"dateTime": "2026-11-23T10:00:00Z"},
        "status": "confirmed",
        "transparency": "opaque",
        "visibility": "private",
        "reminders": {"useDefault": False},
        "eventType": "default",
        "extendedProperties": {"private": {"calmirror": "block"}},
    }


def test_all_day_block_body_uses_dates() -> None:
    """An all-day block is written with `date` ends, the end exclusive."""
    body = block_body(BlockSpec(DAY, "abcde12345", "Away"))
    assert (body["start"], body["end"], body["summary"]) == (
        {"date": "2026-11-23"},
        {"date": "2026-11-24"},
        "Away",
    )


def test_is_marked_needs_the_private_mark() -> None:
    """Only the private property calmirror=block marks an event as ours; shared or other values do not."""
    assert is_marked({"extendedProperties": {"private": {MARK_KEY: MARK_VALUE}}})
    assert not is_marked({"extendedProperties": {"shared": {MARK_KEY: MARK_VALUE}}})
    assert not is_marked({"extendedProperties": {"private": {MARK_KEY: "other"}}})
    assert not is_marked({"id": "x"})
