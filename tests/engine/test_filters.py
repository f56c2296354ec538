"""Which source events qualify for a block (docs/design.md §2)."""

from datetime import UTC, datetime

import pytest

from calmirror.config import CalendarRef, Flow
from calmirror.engine import Attendee, Interval, SourceEvent
from calmirror.engine.filters import participants, skip_reason

FLOW = Flow(
    id=1,
    name="work to home",
    source=CalendarRef(account_id=1, calendar_id="alice@work.example"),
    target=CalendarRef(account_id=2, calendar_id="alice@home.example"),
    start_offset=0,
    end_offset=0,
)
TARGET = frozenset({"alice@home.example"})
OWNER = Attendee("alice@work.example", is_self=True, response_status="accepted")
GUEST = Attendee("bob@example.com")
ROOM = Attendee("room@resource.calendar.google.com", resource=True)
ORGANIZER = Attendee("carol@example.com", organizer=True)  # an organizer who is not among the attendees
OWN_ORGANIZER = Attendee(OWNER.email, is_self=True, organizer=True)  # the source calendar organises
TARGET_ORGANIZER = Attendee("alice@home.example", organizer=True)
TARGET_AS_SELF = Attendee("alice@home.example", is_self=True, organizer=True)  # same email, source copy


def meeting(**changes: object) -> SourceEvent:
    """Return a qualifying two-person meeting, changed as given."""
    values: dict[str, object] = {
        "id": "m1",
        "interval": Interval(datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC)),
        "attendees": (OWNER, GUEST),
    }
    return SourceEvent(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"status": "cancelled"}, "cancelled, not confirmed"),
        ({"status": "tentative"}, "tentative, not confirmed"),
        ({"transparency": "transparent"}, "marked free"),
        ({"transparency": "opaque"}, None),
        ({"attendees": None}, "1 participant (rooms do not count), the flow needs 2"),
        ({"attendees": (OWNER,)}, "1 participant (rooms do not count), the flow needs 2"),
        ({"attendees": (OWNER, ROOM)}, "1 participant (rooms do not count), the flow needs 2"),
        ({"attendees": (OWNER, ROOM, GUEST)}, None),
        ({"attendees": (GUEST, Attendee("carol@example.com"))}, None),
        (
            {"attendees": (Attendee(OWNER.email, is_self=True, response_status="declined"), GUEST)},
            "you declined",
        ),
        ({"attendees": (OWNER, Attendee(GUEST.email, response_status="declined"))}, None),
        ({"marked": True}, "a calmirror block"),
        ({"event_type": "workingLocation"}, "a working-location entry"),
        ({"event_type": "birthday"}, "a birthday"),
        ({"event_type": "focusTime"}, None),
        ({"event_type": "outOfOffice"}, None),
        (
            {"attendees": (OWNER, GUEST, Attendee("alice@home.example"))},
            "the target calendar is invited, so the meeting already occupies it",
        ),
        ({"attendees": (OWNER, GUEST, Attendee("alice@home.example", response_status="declined"))}, None),
        ({"attendees": (OWNER,), "organizer": ORGANIZER}, None),
        (
            {"attendees": (OWNER,), "organizer": OWN_ORGANIZER},
            "1 participant (rooms do not count), the flow needs 2",
        ),
        ({"attendees": None, "organizer": ORGANIZER}, "1 participant (rooms do not count), the flow needs 2"),
        (
            {"attendees": (OWNER,), "organizer": TARGET_ORGANIZER},
            "the target calendar organises it, so the meeting already occupies it",
        ),
        (
            {
                "attendees": (OWNER, Attendee("alice@home.example", response_status="declined")),
                "organizer": TARGET_ORGANIZER,
            },
            None,
        ),
        ({"attendees": (GUEST,), "organizer": TARGET_AS_SELF}, None),
        (
            {"attendees": (OWNER, GUEST, Attendee("alice@home.example", response_status="tentative"))},
            "the target calendar is invited, so the meeting already occupies it",
        ),
    ],
)
def test_each_rule_skips_with_its_reason(changes: dict[str, object], reason: str | None) -> None:
    """An event qualifies only when every rule holds; the first failing rule names the reason."""
    assert skip_reason(meeting(**changes), FLOW, TARGET) == reason


def test_self_attendee_never_counts_as_the_target() -> None:
    """The source calendar's own copy (self) is not the target even when the emails match."""
    event = meeting(attendees=(Attendee("alice@home.example", is_self=True), GUEST))
    assert skip_reason(event, FLOW, TARGET) is None


def test_threshold_one_lets_solo_events_through() -> None:
    """With min_participants=1 an event without attendees (the owner alone) qualifies."""
    solo = FLOW.model_copy(update={"min_participants": 1})
    assert skip_reason(meeting(attendees=None), solo, TARGET) is None


def test_threshold_three_needs_three_people() -> None:
    """A flow asking for 3 participants skips two-person meetings."""
    bigger = FLOW.model_copy(update={"min_participants": 3})
    assert skip_reason(meeting(), bigger, TARGET) == "2 participants (rooms do not count), the flow needs 3"


@pytest.mark.parametrize(
    ("attendees", "organizer", "count"),
    [
        (None, None, 1),
        ((), None, 1),
        ((ROOM,), None, 1),
        ((OWNER, ROOM), None, 1),
        ((OWNER, GUEST, ROOM), None, 2),
        (None, OWN_ORGANIZER, 1),
        (None, ORGANIZER, 1),
        ((OWNER,), OWN_ORGANIZER, 1),
        ((OWNER,), ORGANIZER, 2),
        ((GUEST,), OWN_ORGANIZER, 2),
        ((OWNER, GUEST), Attendee(GUEST.email, organizer=True), 2),
        ((OWNER, GUEST, ROOM), ORGANIZER, 3),
    ],
)
def test_participants_count_people_not_rooms(
    attendees: tuple[Attendee, ...] | None, organizer: Attendee | None, count: int
) -> None:
    """Participants are distinct non-resource attendees plus the organizer, and at least one."""
    assert participants(meeting(attendees=attendees, organizer=organizer)) == count
