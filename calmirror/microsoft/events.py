"""Parse Graph event JSON into the engine's SourceEvent, by Graph's own rules.

- `showAs` free and workingElsewhere make an event transparent (not busy); tentative, busy, oof and
  unknown make it opaque. `isCancelled` makes it cancelled (a meeting its organizer called off).
- The mailbox owner's own answer is `responseStatus.response`; it becomes the owner's attendee entry
  (`is_self`) in the engine's words: declined, tentative (tentativelyAccepted), needsAction
  (notResponded, or none on an invitation), accepted (accepted, organizer). Resource attendees
  (rooms, equipment) are resources, so they never count as participants.
- Times are asked in UTC (`Prefer: outlook.timezone="UTC"`); `dateTime` carries 7 fractional digits
  and no offset, read in the `timeZone` next to it (IANA or Windows names). An all-day event's dates
  are its midnights, in that zone or else in `originalStartTimeZone`.
- Times that cannot be read leave `interval` None with the reason in `time_problem`: never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from calmirror.engine import Attendee, Interval, SourceEvent
from calmirror.ical.zones import iana_zone
from calmirror.microsoft.blocks import mark_of

TRANSPARENT = frozenset({"free", "workingElsewhere"})
RESPONSES = {
    "accepted": "accepted",
    "organizer": "accepted",
    "declined": "declined",
    "tentativelyAccepted": "tentative",
    "notResponded": "needsAction",
    "none": "needsAction",
}


class _TimeError(ValueError):
    """An event's start or end cannot be read."""


def _map(value: Any) -> Mapping[str, Any]:
    """Return `value` when it is a JSON object, else an empty one (odd shapes never raise)."""
    return value if isinstance(value, Mapping) else {}


def _address(value: Any) -> str:
    """Return the lowercased address of a recipient (`{"emailAddress": {"address"}}`)."""
    return str(_map(_map(value).get("emailAddress")).get("address") or "").lower()


def _local(text: Any) -> datetime:
    """Read Graph's `dateTime` (e.g. 2026-12-07T10:00:00.0000000), at most microseconds kept."""
    if not isinstance(text, str):
        raise _TimeError("dateTime missing")
    head, _, fraction = text.partition(".")
    if fraction and not fraction.isdigit():
        raise _TimeError(f"unreadable dateTime {text[:40]!r}")
    try:
        value = datetime.fromisoformat(head)
    except ValueError as error:
        raise _TimeError(f"unreadable dateTime {text[:40]!r}") from error
    return value.replace(microsecond=int((fraction + "000000")[:6]))


def _zone(name: Any) -> ZoneInfo:
    """Return the zone a `timeZone` names (UTC when absent)."""
    found = iana_zone(str(name)) if name else "UTC"
    if found is None:
        raise _TimeError(f"unknown timeZone {str(name)[:60]!r}")
    return ZoneInfo(found)


def _instant(when: Any) -> datetime:
    """Read a dateTimeTimeZone as a UTC instant."""
    value = _local(_map(when).get("dateTime"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(_map(when).get("timeZone")))
    return value.astimezone(UTC)


def _day(instant: datetime, zone: ZoneInfo) -> date | None:
    """Return the date an instant is the midnight of in `zone`, None when it is no midnight there."""
    local = instant.astimezone(zone)
    return local.date() if local.time() == time(0) else None


def _all_day(resource: Mapping[str, Any], start: datetime, end: datetime) -> Interval:
    """Read an all-day event's dates: midnights in the answer's zone, else in its original zone."""
    zones = [_map(resource.get("start")).get("timeZone"), resource.get("originalStartTimeZone")]
    for name in zones:
        try:
            zone = _zone(name)
        except _TimeError:
            continue
        first, last = _day(start, zone), _day(end, zone)
        if first is not None and last is not None and last > first:
            return Interval.days(first, last)
    raise _TimeError("an all-day event whose start and end are not midnights a day or more apart")


def parse_interval(resource: Mapping[str, Any]) -> Interval:
    """Read an event's start and end into an Interval; raise _TimeError when they make none."""
    start, end = _instant(resource.get("start")), _instant(resource.get("end"))
    if resource.get("isAllDay") is True:
        return _all_day(resource, start, end)
    try:
        return Interval.timed(start, end)
    except ValueError as error:  # an end before the start
        raise _TimeError(str(error)) from error


def _stamp(text: Any) -> datetime | None:
    """Read an Edm.DateTimeOffset such as 2026-12-07T10:00:00.1234567Z; None when missing or odd."""
    if not isinstance(text, str) or not text.endswith("Z"):
        return None
    try:
        return _local(text[:-1]).replace(tzinfo=UTC)
    except _TimeError:
        return None


def own_response(resource: Mapping[str, Any], owner: str) -> str:
    """Return the mailbox owner's answer in the engine's words (an organizer has accepted)."""
    response = str(_map(resource.get("responseStatus")).get("response") or "none")
    if response == "none" and _is_organizer(resource, owner):
        return "accepted"
    return RESPONSES.get(response, "needsAction")


def _is_organizer(resource: Mapping[str, Any], owner: str) -> bool:
    """Tell whether the mailbox owner organises the event."""
    organizer = _address(resource.get("organizer"))
    return resource.get("isOrganizer") is True or (bool(organizer) and organizer == owner)


def _attendees(resource: Mapping[str, Any], owner: str) -> tuple[Attendee, ...]:
    """Read the attendees; the owner's entry (added when missing on an invitation) holds their answer."""
    found: list[Attendee] = []
    mine = own_response(resource, owner)
    entries = resource.get("attendees")
    for entry in entries if isinstance(entries, list) else ():
        email = _address(entry)
        response = str(_map(_map(entry).get("status")).get("response") or "none")
        is_self = bool(owner) and email == owner
        found.append(
            Attendee(
                email=email,
                is_self=is_self,
                resource=_map(entry).get("type") == "resource",
                response_status=mine if is_self else RESPONSES.get(response, "needsAction"),
            )
        )
    if owner and not _is_organizer(resource, owner) and not any(a.is_self for a in found):
        found.append(Attendee(email=owner, is_self=True, response_status=mine))
    return tuple(found)


def _organizer(resource: Mapping[str, Any], owner: str) -> Attendee | None:
    """Read the organizer, when the event names one with an address."""
    email = _address(resource.get("organizer"))
    if not email:
        return None
    return Attendee(email=email, is_self=email == owner, response_status="accepted", organizer=True)


def is_series_master(resource: Mapping[str, Any]) -> bool:
    """Tell whether an item is a series master (never an event of its own: its occurrences are)."""
    return resource.get("type") == "seriesMaster"


def parse_event(resource: Mapping[str, Any], owner: str, block_id: str | None = None) -> SourceEvent:
    """Parse one Graph event of `owner`'s mailbox; `block_id` names the block it is known to hold.

    A marked event (known, or with its mark expanded) is listed under its block id, not its Graph id.
    """
    owner = owner.lower()
    block = block_id or mark_of(resource)
    status = "cancelled" if resource.get("isCancelled") is True else "confirmed"
    interval: Interval | None = None
    problem: str | None = None
    try:
        interval = parse_interval(resource)
    except (_TimeError, ValueError, OverflowError) as error:
        problem = None if status == "cancelled" else str(error) or "unreadable times"
    return SourceEvent(
        id=block or str(resource.get("id") or ""),
        status=status,
        summary=str(resource.get("subject") or ""),
        interval=interval,
        transparency="transparent" if resource.get("showAs") in TRANSPARENT else "opaque",
        attendees=_attendees(resource, owner),
        organizer=_organizer(resource, owner),
        marked=block is not None,
        time_problem=problem,
        updated=_stamp(resource.get("lastModifiedDateTime")),
    )


def tombstone(event_id: str, *, marked: bool = False) -> SourceEvent:
    """Return the cancelled event a deletion (@removed) stands for."""
    return SourceEvent(id=event_id, status="cancelled", marked=marked)
