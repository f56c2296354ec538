"""Graph's source rules: what each showAs, answer, attendee type and all-day event means to the flows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from calmirror.config import CalendarRef, Flow
from calmirror.config.policy import FlowPolicy
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.engine import Interval, SourceEvent
from calmirror.engine.filters import participants, skip_reason
from calmirror.microsoft import MicrosoftCalendars
from calmirror.microsoft.events import parse_event
from tests.microsoft.conftest import ALICE, WINDOW, meeting, seed

FLOW = Flow(
    id=1,
    name="outlook to home",
    source=CalendarRef(account_id=1, calendar_id="primary"),
    target=CalendarRef(account_id=2, calendar_id="home"),
    policy=FlowPolicy(unanswered="skip", tentative="skip"),
)
CAROL = "carol@example.com"
SHOW_AS = ("unknown", "free", "tentative", "busy", "oof", "workingElsewhere")
RESPONSES = ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded")


def person(address: str, kind: str = "required", response: str = "none") -> dict[str, Any]:
    """One Graph attendee."""
    return {"type": kind, "status": {"response": response}, "emailAddress": {"address": address}}


async def listed(graph: GraphEmulator, alice: MicrosoftCalendars, body: dict[str, Any]) -> SourceEvent:
    """Seed one event into alice's calendar and return it as her listing reads it."""
    graph_id = seed(graph, body)
    events = (await alice.list_window("primary", WINDOW)).events
    return next(e for e in events if e.id == graph_id)


async def test_show_as_decides_busy(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """free and workingElsewhere are not busy; tentative, busy, oof and unknown are."""
    ids = {
        show_as: seed(graph, meeting("2026-12-08T10:00", "2026-12-08T11:00", show_as, showAs=show_as))
        for show_as in SHOW_AS
    }
    events = {e.id: e for e in (await alice.list_window("primary", WINDOW)).events}
    assert {show_as: events[i].transparency for show_as, i in ids.items()} == {
        "unknown": "opaque",
        "free": "transparent",
        "tentative": "opaque",
        "busy": "opaque",
        "oof": "opaque",
        "workingElsewhere": "transparent",
    }


async def test_rooms_do_not_count_as_participants(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """Alice's meeting with a room has one participant; with Bob as well, two."""
    room = person("room1@example.com", "resource")
    alone = await listed(graph, alice, meeting("2026-12-08T10:00", "2026-12-08T11:00", attendees=[room]))
    assert participants(alone) == 1
    assert skip_reason(alone, FLOW, frozenset()) is not None
    both = meeting("2026-12-09T10:00", "2026-12-09T11:00", attendees=[room, person("bob@example.com")])
    together = await listed(graph, alice, both)
    assert participants(together) == 2
    assert skip_reason(together, FLOW, frozenset()) is None


async def test_an_all_day_event_in_berlin_keeps_its_dates(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """An all-day event written in Berlin (answered in UTC, 23:00 the day before) keeps its own dates."""
    body = {
        "subject": "Offsite",
        "isAllDay": True,
        "start": {"dateTime": "2026-12-10T00:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-12-12T00:00:00", "timeZone": "Europe/Berlin"},
    }
    event = await listed(graph, alice, body)
    assert event.interval == Interval.days(date(2026, 12, 10), date(2026, 12, 12))


def invitation(response: str, **more: Any) -> dict[str, Any]:
    """Carol's meeting as it sits in alice's calendar, alice answering `response`."""
    return {
        "id": "AAMkInvite",
        "subject": "Review",
        "isOrganizer": False,
        "responseStatus": {"response": response, "time": "0001-01-01T00:00:00Z"},
        "organizer": {"emailAddress": {"address": CAROL}},
        "attendees": [person(ALICE, response="none"), person(CAROL, response="organizer")],
        "start": {"dateTime": "2026-12-08T10:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-08T11:00:00.0000000", "timeZone": "UTC"},
        "showAs": "busy",
        "lastModifiedDateTime": "2026-12-07T09:30:00.1234567Z",
        **more,
    }


def test_the_owners_answer_drives_the_flow_policies() -> None:
    """declined skips; tentative and unanswered skip under a skipping policy; accepted qualifies."""
    reasons = {r: skip_reason(parse_event(invitation(r), ALICE), FLOW, frozenset()) for r in RESPONSES}
    assert reasons == {
        "none": "you have not answered",
        "notResponded": "you have not answered",
        "tentativelyAccepted": "you accepted tentatively",
        "declined": "you declined",
        "accepted": None,
        "organizer": None,
    }


def test_the_owner_gets_an_entry_even_when_the_invitation_lists_a_group() -> None:
    """Invited through a group, alice has no attendee entry of her own: her answer still counts."""
    event = parse_event(invitation("declined", attendees=[person(CAROL)]), ALICE)
    assert [(a.email, a.is_self, a.response_status) for a in event.attendees or ()][-1] == (
        ALICE,
        True,
        "declined",
    )
    assert skip_reason(event, FLOW, frozenset()) == "you declined"


def test_cancelled_meetings_times_and_updates() -> None:
    """isCancelled is cancelled; 7 fractional digits read; lastModifiedDateTime is `updated`."""
    event = parse_event(invitation("accepted", isCancelled=True), ALICE)
    assert event.cancelled
    assert event.interval == Interval(
        datetime(2026, 12, 8, 10, tzinfo=UTC), datetime(2026, 12, 8, 11, tzinfo=UTC)
    )
    assert event.updated == datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=UTC)
    assert event.organizer is not None
    assert (event.organizer.email, event.organizer.is_self) == (CAROL, False)


def test_unreadable_times_are_a_time_problem() -> None:
    """An unknown zone or an end before the start leaves no interval and says why."""
    zone = parse_event(
        invitation("accepted", start={"dateTime": "2026-12-08T10:00:00", "timeZone": "Mars/Olympus"}), ALICE
    )
    backwards = parse_event(
        invitation("accepted", end={"dateTime": "2026-12-08T09:00:00", "timeZone": "UTC"}), ALICE
    )
    assert (zone.interval, backwards.interval) == (None, None)
    assert zone.time_problem is not None
    assert backwards.time_problem is not None


TEXT = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans())
WHEN = st.one_of(
    TEXT,
    st.fixed_dictionaries(
        {
            "dateTime": st.one_of(
                TEXT,
                st.datetimes().map(lambda d: d.isoformat() + ".0000000"),
            ),
            "timeZone": st.sampled_from(["UTC", "Europe/Berlin", "W. Europe Standard Time", "Nowhere", ""]),
        }
    ),
)


FIELDS = st.fixed_dictionaries(
    {
        "showAs": st.one_of(st.sampled_from(SHOW_AS), TEXT),
        "responseStatus": st.one_of(TEXT, st.builds(lambda r: {"response": r}, st.sampled_from(RESPONSES))),
        "isAllDay": st.one_of(st.booleans(), TEXT),
        "start": WHEN,
        "end": WHEN,
        "isCancelled": st.one_of(st.booleans(), TEXT),
        "attendees": st.one_of(
            TEXT, st.lists(st.one_of(TEXT, st.builds(person, st.text(max_size=10))), max_size=3)
        ),
        "originalStartTimeZone": st.one_of(TEXT, st.just("Tokyo Standard Time")),
    }
)


@settings(max_examples=300, deadline=None)
@given(fields=FIELDS)
def test_any_combination_parses(fields: dict[str, Any]) -> None:
    """Whatever the combination, parsing gives an event with an interval, or a time problem: never raises."""
    event = parse_event(invitation("accepted", **fields), ALICE)
    assert event.interval is not None or event.time_problem is not None or event.cancelled
