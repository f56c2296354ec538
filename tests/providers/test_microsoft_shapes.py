"""All-day events both ways, Outlook's showAs and resource attendees, as the calendars store them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.engine.conftest import base_time
from tests.providers.conftest import GOOGLE, FlowSpec
from tests.providers.graph import MICROSOFT, OUTSIDER, graph_world, invited, meeting_body

FROM_MICROSOFT: FlowSpec = ("from outlook", (6, "primary"), (1, GOOGLE[1]), 0, 0)
TO_MICROSOFT: FlowSpec = ("to outlook", (1, GOOGLE[1]), (6, "primary"), 0, 0)


def midnight(day: date) -> datetime:
    """Return a date's UTC midnight."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def test_an_outlook_all_day_meeting_becomes_an_all_day_google_block() -> None:
    """A two-day isAllDay meeting is one all-day Google block with the same dates."""
    first = base_time().date() + timedelta(days=1)
    async with graph_world([FROM_MICROSOFT]) as world:
        await world.organise(MICROSOFT[6], "offsite", meeting_body(first, first + timedelta(days=2)))
        await world.changed(6)
        [stored] = world.emulator.store.raw_events(GOOGLE[1])
        assert (stored["start"], stored["end"]) == (
            {"date": first.isoformat()},
            {"date": (first + timedelta(days=2)).isoformat()},
        )


async def test_a_google_all_day_meeting_becomes_an_all_day_outlook_block() -> None:
    """A Google all-day meeting is one isAllDay block in Outlook over the same dates."""
    first = base_time().date() + timedelta(days=1)
    async with graph_world([TO_MICROSOFT]) as world:
        await world.users[1].insert_event(
            GOOGLE[1],
            {
                "summary": "offsite",
                "start": {"date": first.isoformat()},
                "end": {"date": (first + timedelta(days=1)).isoformat()},
                "attendees": [{"email": GOOGLE[1], "responseStatus": "accepted"}, {"email": OUTSIDER}],
            },
        )
        await world.changed(1, GOOGLE[1])
        [block] = world.blocks(6)
        assert (block.is_all_day, block.start, block.end) == (
            True,
            midnight(first),
            midnight(first + timedelta(days=1)),
        )
        assert (block.show_as, block.sensitivity, block.attendees) == ("busy", "private", ())


@pytest.mark.parametrize(
    ("show_as", "mirrored"),
    [("busy", True), ("tentative", True), ("oof", True), ("free", False), ("workingElsewhere", False)],
)
@pytest.mark.parametrize("how", ["poll", "reconcile"])
async def test_show_as_free_or_working_elsewhere_is_not_mirrored(
    show_as: str, mirrored: bool, how: str
) -> None:
    """Outlook's free and workingElsewhere leave the time open; busy, tentative and oof block it.

    Changing showAs later adds or removes the block.
    """
    t = base_time()
    span = (False, t, t + timedelta(hours=1))
    async with graph_world([FROM_MICROSOFT]) as world:

        async def settle() -> None:
            await (world.changed(6) if how == "poll" else world.reconcile())

        await world.put_meeting(6, "m", t, showAs=show_as)
        await settle()
        assert world.spans(1) == ([span] if mirrored else [])

        await world.put_meeting(6, "m", t, showAs="free" if mirrored else "oof")
        await settle()
        assert world.spans(1) == ([] if mirrored else [span])


@pytest.mark.parametrize("how", ["poll", "reconcile"])
async def test_resource_attendees_do_not_count_toward_min_participants(how: str) -> None:
    """A meeting of its organizer with a room and a projector is no meeting; a person makes it one."""
    t = base_time()
    things = invited("room-1@example.com", "projector@example.com", kind="resource")
    async with graph_world([FROM_MICROSOFT]) as world:
        await world.put_meeting(6, "alone", t, attendees=things)
        await world.put_meeting(
            6, "with a guest", t + timedelta(hours=2), attendees=[*things, *invited(OUTSIDER)]
        )
        await (world.changed(6) if how == "poll" else world.reconcile())
        start = t + timedelta(hours=2)
        assert world.spans(1) == [(False, start, start + timedelta(hours=1))]
