"""Deterministic block ids, the ownership mark and the block body."""

import re
from datetime import UTC, date, datetime

from calmirror.engine import BlockSpec, Interval, block_id, is_marked
from calmirror.engine.ids import MARK_KEY, MARK_VALUE, block_body

MEETING = Interval(datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC))
DAY = Interval.days(date(2026, 11, 23), date(2026, 11, 24))


def test_block_id_is_a_fixed_function_of_calendar_and_interval() -> None:
    """The id of a given block never changes across runs, hosts or versions (fixed vectors)."""
    assert block_id("alice@example.com", MEETING) == "n5m36cvut6ivfuabqvndge6bpl"
    assert block_id("alice@example.com", DAY) == "5f8cm9aq496n754s4ttf0a7ma1"


def test_block_id_uses_googles_id_alphabet() -> None:
    """Ids are 26 characters of lowercase base32hex, which Google accepts as client-chosen ids."""
    for interval in (MEETING, DAY):
        assert re.fullmatch(r"[0-9a-v]{26}", block_id("bob@example.com", interval))


def test_block_id_differs_by_calendar_kind_interval_and_salt() -> None:
    """Another calendar, another interval, the all-day kind or a salt each give another id."""
    timed_day = Interval(DAY.start, DAY.end)
    ids = {
        block_id("alice@example.com", MEETING),
        block_id("bob@example.com", MEETING),
        block_id("alice@example.com", DAY),
        block_id("alice@example.com", timed_day),
        block_id("alice@example.com", MEETING, salt=1),
    }
    assert len(ids) == 5


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
