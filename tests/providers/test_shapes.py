"""Series, all-day events and foreign events across providers, as the calendars store them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from calmirror.engine import Interval, block_id
from harness.caldav_servers import get_object
from tests.caldav.helpers import calendar
from tests.engine.conftest import base_time
from tests.providers.conftest import GOOGLE, MakeMixed
from tests.providers.dav import Span, all_day_meeting, dav_objects, direct, people, put, stamp

TO_GOOGLE = ("to google", (3, "a"), (1, GOOGLE[1]), 0, 0)
TO_CALDAV = ("to caldav", (1, GOOGLE[1]), (3, "b"), 0, 0)


def timed(start: datetime, minutes: int = 30) -> Span:
    """Return a timed span."""
    return False, start, start + timedelta(minutes=minutes)


def series(start: datetime, count: int, *, moved: int, cancelled: int) -> bytes:
    """Return a daily series of `count` with instance `moved` two hours later and `cancelled` excluded."""
    end, moved_at = start + timedelta(minutes=30), start + timedelta(days=moved)
    return calendar(
        f"UID:standup\nDTSTART:{stamp(start)}\nDTEND:{stamp(end)}\nRRULE:FREQ=DAILY;COUNT={count}\n"
        f"EXDATE:{stamp(start + timedelta(days=cancelled))}\nSUMMARY:Standup\n{people()}",
        f"UID:standup\nRECURRENCE-ID:{stamp(moved_at)}\nDTSTART:{stamp(moved_at + timedelta(hours=2))}\n"
        f"DTEND:{stamp(moved_at + timedelta(hours=2, minutes=30))}\nSUMMARY:Standup (moved)\n{people()}",
    )


async def test_a_series_with_a_moved_and_a_cancelled_instance(make_mixed: MakeMixed) -> None:
    """Each live instance of a CalDAV series gets its block in Google; a changed series moves them."""
    world = await make_mixed([TO_GOOGLE])
    t = base_time()
    day = timedelta(days=1)
    await put(world.server, world.calendars["a"], "standup", series(t, 5, moved=2, cancelled=3))

    await world.changed(3, "a")
    assert world.google_spans(1) == [
        timed(t),
        timed(t + day),
        timed(t + 2 * day + timedelta(hours=2)),
        timed(t + 4 * day),
    ]

    later = t + timedelta(hours=1)  # the whole series an hour later and one instance shorter
    await put(world.server, world.calendars["a"], "standup", series(later, 4, moved=1, cancelled=2))
    await world.changed(3, "a")
    assert world.google_spans(1) == [
        timed(later),
        timed(later + day + timedelta(hours=2)),
        timed(later + 3 * day),
    ]

    await world.reconcile()
    assert len(world.google_blocks(1)) == 3


async def test_all_day_from_caldav_becomes_an_all_day_google_block(make_mixed: MakeMixed) -> None:
    """A two-day VALUE=DATE event is one all-day block with the same dates."""
    world = await make_mixed([TO_GOOGLE])
    first = base_time().date() + timedelta(days=1)
    await put(world.server, world.calendars["a"], "offsite", all_day_meeting("offsite", first, days=2))

    await world.changed(3, "a")

    [stored] = world.google_blocks(1)
    assert stored["start"] == {"date": first.isoformat()}
    assert stored["end"] == {"date": (first + timedelta(days=2)).isoformat()}


async def test_all_day_from_google_becomes_a_value_date_caldav_block(make_mixed: MakeMixed) -> None:
    """A Google all-day meeting is one VALUE=DATE block in the CalDAV target."""
    world = await make_mixed([TO_CALDAV])
    first = base_time().date() + timedelta(days=1)
    await world.users[1].insert_event(
        GOOGLE[1],
        {
            "summary": "offsite",
            "start": {"date": first.isoformat()},
            "end": {"date": (first + timedelta(days=1)).isoformat()},
            "attendees": [{"email": GOOGLE[1], "responseStatus": "accepted"}, {"email": "x@elsewhere.test"}],
        },
    )

    await world.changed(1, GOOGLE[1])

    [stored] = [obj for obj in await dav_objects(world.server, world.calendars["b"]) if obj.marked]
    assert stored.span == (True, midnight(first), midnight(first + timedelta(days=1)))
    assert f"DTSTART;VALUE=DATE:{first:%Y%m%d}".encode() in stored.data


def midnight(day: date) -> datetime:
    """Return a date's UTC midnight."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def test_foreign_events_in_a_caldav_target_are_never_touched(make_mixed: MakeMixed) -> None:
    """An event at a block's exact time and one at the block's resource name survive every pass unchanged.

    The blocks themselves are private, opaque and carry no attendee, organizer or alarm.
    """
    world = await make_mixed([TO_CALDAV])
    t = base_time()
    target = world.calendars["b"]
    squat = Interval.timed(t + timedelta(hours=4), t + timedelta(hours=5))
    squatted_id = block_id(target, squat)
    foreign = {
        "same-time": calendar(
            f"UID:lunch\nDTSTART:{stamp(t)}\nDTEND:{stamp(t + timedelta(hours=1))}\nSUMMARY:Mine"
        ),
        squatted_id: calendar(
            f"UID:{squatted_id}\nDTSTART:{stamp(squat.start)}\nDTEND:{stamp(squat.end)}\nSUMMARY:Also mine"
        ),
    }
    urls = {name: await put(world.server, target, name, data) for name, data in foreign.items()}
    stored = {name: await get_object(url) for name, url in urls.items()}

    await world.put_meeting(1, GOOGLE[1], "m1", t)
    await world.put_meeting(1, GOOGLE[1], "m2", squat.start)
    await world.changed(1, GOOGLE[1])
    await world.put_meeting(1, GOOGLE[1], "m1", t + timedelta(hours=1))  # its block moves away
    await world.drop_meeting(1, GOOGLE[1], "m2")
    await world.changed(1, GOOGLE[1])
    await world.put_meeting(1, GOOGLE[1], "m1", t)  # and back
    await world.put_meeting(1, GOOGLE[1], "m2", squat.start)
    await world.changed(1, GOOGLE[1])
    await world.reconcile()

    assert {name: await get_object(url) for name, url in urls.items()} == stored
    blocks = [obj for obj in await dav_objects(world.server, target) if obj.marked]
    assert sorted(obj.span for obj in blocks) == [timed(t, 60), timed(squat.start, 60)]
    for obj in blocks:
        assert direct(world.server, target) + f"{squatted_id}.ics" != world.server.url(obj.href)
        assert str(obj.event["CLASS"]) == "PRIVATE"
        assert str(obj.event["TRANSP"]) == "OPAQUE"
        assert not {"ATTENDEE", "ORGANIZER"} & set(obj.event)
        assert not obj.event.walk("VALARM")
