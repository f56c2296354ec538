"""Deterministic block ids: a fixed function of (target calendar, interval) for every provider."""

import re
from datetime import UTC, date, datetime

from calmirror.engine import Interval, block_id

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
