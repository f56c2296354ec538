"""Blocks as iCalendar: what block_calendar writes reads back as the same marked block, and only ours are."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calmirror.engine import BlockSpec, Interval, Window, block_id
from calmirror.ical import block_calendar, block_uid, read_events

OWNER = frozenset({"me@example.com"})


def spec_for(interval: Interval) -> BlockSpec:
    """Return the block the engine would plan for `interval`."""
    return BlockSpec(interval, block_id("target@example.com", interval), "Busy")


def around(interval: Interval) -> Window:
    """Return a window that lists the interval."""
    return Window(interval.start - timedelta(days=2), interval.end + timedelta(days=2))


def test_a_block_is_silent_private_and_marked() -> None:
    interval = Interval.timed(datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC))
    text = block_calendar(spec_for(interval)).decode()
    assert "PRODID:-//calmirror//calmirror//EN" in text
    assert f"UID:{block_uid(spec_for(interval).id)}" in text
    assert "DTSTART:20261201T090000Z" in text
    for line in ("CLASS:PRIVATE", "TRANSP:OPAQUE", "X-CALMIRROR-BLOCK:1", "DTSTAMP:"):
        assert line in text
    for absent in ("VALARM", "ATTENDEE", "ORGANIZER"):
        assert absent not in text


def test_an_all_day_block_is_written_as_dates() -> None:
    interval = Interval.days(date(2026, 12, 1), date(2026, 12, 3))
    text = block_calendar(spec_for(interval)).decode()
    assert "DTSTART;VALUE=DATE:20261201" in text
    assert "DTEND;VALUE=DATE:20261203" in text


def test_a_fraction_of_a_second_is_refused() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    interval = Interval.timed(start, start + timedelta(minutes=30, microseconds=1))
    with pytest.raises(ValueError, match="whole-second"):
        block_calendar(spec_for(interval))


def foreign(uid: str, mark: bool) -> str:
    """Return a calendar holding someone else's event that copies part of the mark."""
    lines = [f"UID:{uid}", "DTSTART:20261201T090000Z", "DTEND:20261201T100000Z"]
    if mark:
        lines.append("X-CALMIRROR-BLOCK:1")
    event = "\r\n".join(["BEGIN:VEVENT", *lines, "END:VEVENT"])
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{event}\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize(
    ("uid", "mark"),
    [
        ("abc@calmirror-block.invalid", False),  # our namespace, no mark property
        ("abc@example.com", True),  # the mark property, a foreign UID
        ("@calmirror-block.invalid", True),  # no block id in it
    ],
)
def test_half_a_mark_is_not_ours(uid: str, mark: bool) -> None:
    window = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    (event,) = read_events(foreign(uid, mark), window, owner=OWNER)
    assert not event.marked
    assert event.id == uid


def test_a_block_made_recurring_is_no_longer_one_of_ours() -> None:
    # Someone turned a block into a series: no instance is the block, so the engine writes it again.
    text = foreign("abc@calmirror-block.invalid", True).replace(
        "DTEND:20261201T100000Z", "DTEND:20261201T100000Z\r\nRRULE:FREQ=DAILY;COUNT=2"
    )
    window = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    events = read_events(text, window, owner=OWNER)
    assert [event.marked for event in events] == [False, False]
    assert "abc" not in {event.id for event in events}


instants = st.integers(min_value=946_684_800, max_value=4_102_444_800).map(
    lambda seconds: datetime.fromtimestamp(seconds, UTC)
)
timed = st.builds(
    lambda start, length: Interval.timed(start, start + timedelta(seconds=length)),
    instants,
    st.integers(min_value=0, max_value=14 * 86400),
)
all_day = st.builds(
    lambda first, days: Interval.days(first, first + timedelta(days=days)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=1, max_value=60),
)


@given(interval=st.one_of(timed, all_day), title=st.text(max_size=80))
def test_any_block_reads_back_as_the_same_marked_interval(interval: Interval, title: str) -> None:
    spec = BlockSpec(interval, block_id("target@example.com", interval), title)
    (event,) = read_events(block_calendar(spec), around(interval), owner=OWNER)
    assert event.marked
    assert event.id == spec.id
    assert event.interval == interval
    assert event.status == "confirmed"
    assert event.transparency == "opaque"


def test_a_block_with_broken_times_keeps_its_id() -> None:
    interval = Interval.timed(datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC))
    spec = spec_for(interval)
    text = block_calendar(spec).decode().replace("DTEND:20261201T100000Z", "DTEND:tomorrow-ish")
    (event,) = read_events(text, around(interval), owner=OWNER)
    assert (event.id, event.marked, event.interval) == (spec.id, True, None)
    assert event.time_problem == "unreadable DTEND"
