"""Which source events qualify for a block (docs/design.md §2).

Each filter is a small predicate returning the reason it skips an event, in the words of the person
who owns the calendars (commands print them as they are), or None when it lets the event through;
`skip_reason` applies them in order and returns the first reason. Decisions:

- Participants are the non-resource attendees plus the organizer, counted once per email (emails
  are lowercased on parsing): Google keeps the attendee list exactly as a client sent it, so the
  organizer is often not in it. An event without attendees (or whose list holds only rooms) counts
  one participant, its organizer or the calendar owner, so it never qualifies at the default
  threshold of 2 and always does at threshold 1.
- The attendee rule skips an event when the target is already an attendee that has not declined, or
  is its organizer (unless its own attendee entry declined): the meeting already occupies the target,
  and a block would double it. A `self` entry is the source calendar's own copy, not the target, so
  it never triggers the rule.
- `focusTime` and `outOfOffice` events count like any other busy event; only `workingLocation` and
  `birthday` are skipped.
- The flow's policy (`Flow.policy`, docs/design.md §2.5) adds optional rules: the owner's own answer
  (`self` attendee: `needsAction`, `tentative`), all-day meetings, working days and hours
  (calmirror/engine/worktime.py) and a title pattern. An event without the owner's attendee entry
  (one they created alone) counts as answered; an empty or missing title never matches.
"""

from __future__ import annotations

from collections.abc import Callable

from calmirror.config import Flow
from calmirror.config.policy import days_text
from calmirror.engine.model import Attendee, SourceEvent
from calmirror.engine.worktime import in_working_time

Filter = Callable[[SourceEvent, Flow, frozenset[str]], str | None]

# Event types that annotate a day rather than occupy it, with how a skip reason names them.
SKIPPED_EVENT_TYPES = {"workingLocation": "a working-location entry", "birthday": "a birthday"}


def confirmed(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip cancelled and tentative events: only confirmed meetings make the owner busy."""
    return None if event.status == "confirmed" else f"{event.status}, not confirmed"


def not_a_block(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip calmirror's own blocks, so flows A->B and B->A never mirror each other's blocks."""
    return "a calmirror block" if event.marked else None


def busy_event_type(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip working-location and birthday entries, which are annotations rather than meetings."""
    return SKIPPED_EVENT_TYPES.get(event.event_type)


def opaque(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip events shown as free: they do not make the owner busy."""
    return "marked free" if event.transparency == "transparent" else None


def not_declined(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip events the calendar's owner declined."""
    declined = any(attendee.is_self and attendee.declined for attendee in event.attendees or ())
    return "you declined" if declined else None


def _own_response(event: SourceEvent) -> str | None:
    """Return the source calendar owner's own response, or None when the event has no entry for them."""
    return next((attendee.response_status for attendee in event.attendees or () if attendee.is_self), None)


def answered(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip invitations the owner has not answered, when the flow's policy says so."""
    skip = flow.policy.unanswered == "skip" and _own_response(event) == "needsAction"
    return "you have not answered" if skip else None


def not_tentative(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip meetings the owner accepted tentatively, when the flow's policy says so."""
    skip = flow.policy.tentative == "skip" and _own_response(event) == "tentative"
    return "you accepted tentatively" if skip else None


def participants(event: SourceEvent) -> int:
    """Count the people in an event: distinct non-resource attendees and the organizer, at least one."""
    emails = {attendee.email for attendee in event.attendees or () if not attendee.resource}
    if event.organizer is not None:
        emails.add(event.organizer.email)
    return max(1, len(emails))


def enough_participants(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip events with fewer people than the flow asks for (solo entries are not meetings)."""
    count = participants(event)
    if count < flow.min_participants:
        people = "participant" if count == 1 else "participants"
        return f"{count} {people} (rooms do not count), the flow needs {flow.min_participants}"
    return None


def _is_target(attendee: Attendee, target_identities: frozenset[str]) -> bool:
    """Tell whether an entry stands for the target calendar (never the source's own `self` copy)."""
    return attendee.email in target_identities and not attendee.is_self and not attendee.resource


def target_not_invited(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip events the target attends or organises: the meeting itself already occupies the target."""
    attendees = event.attendees or ()
    if any(_is_target(attendee, target_identities) and not attendee.declined for attendee in attendees):
        return "the target calendar is invited, so the meeting already occupies it"
    organizer = event.organizer
    if organizer is None or not _is_target(organizer, target_identities):
        return None
    declined = any(attendee.email == organizer.email and attendee.declined for attendee in attendees)
    return None if declined else "the target calendar organises it, so the meeting already occupies it"


def timed_or_allowed(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip all-day meetings, when the flow's policy says so."""
    skip = flow.policy.all_day == "skip" and event.interval is not None and event.interval.all_day
    return "an all-day meeting" if skip else None


def in_working_days(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip meetings wholly outside the flow's working days and hours (never clipped: whole or nothing)."""
    interval, policy = event.interval, flow.policy
    if interval is None or in_working_time(interval, policy):
        return None
    return f"outside {days_text(policy.days) if interval.all_day else policy.working_time()}"


def title_allowed(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Skip meetings whose title matches the flow's skip pattern; a missing title never matches."""
    pattern = flow.policy.skip_title_regex
    skip = pattern is not None and bool(event.summary) and pattern.search(event.summary) is not None
    return "the title matches the flow's skip pattern" if skip else None


FILTERS: tuple[Filter, ...] = (
    confirmed,
    not_a_block,
    busy_event_type,
    opaque,
    not_declined,
    answered,
    not_tentative,
    enough_participants,
    target_not_invited,
    timed_or_allowed,
    in_working_days,
    title_allowed,
)


def skip_reason(event: SourceEvent, flow: Flow, target_identities: frozenset[str]) -> str | None:
    """Return why the event gets no block from this flow, or None when it qualifies."""
    for check in FILTERS:
        reason = check(event, flow, target_identities)
        if reason is not None:
            return reason
    return None
