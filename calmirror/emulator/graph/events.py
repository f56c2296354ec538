"""Event bodies: checking what a client writes (POST/PATCH) and rendering what Graph answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, time
from typing import Any

from calmirror.emulator.graph import recurrence, times
from calmirror.emulator.graph.errors import GraphError, invalid_request
from calmirror.emulator.graph.instances import Instance
from calmirror.emulator.graph.model import Attendee, JsonObject, StoredEvent

# Enum values from Graph's v1.0 model (tests/emulator/graph check them against msgraph-sdk).
SHOW_AS = ("unknown", "free", "tentative", "busy", "oof", "workingElsewhere")
SENSITIVITY = ("normal", "personal", "private", "confidential")
ATTENDEE_TYPES = ("required", "optional", "resource")
WRITABLE = frozenset(
    {
        "subject",
        "start",
        "end",
        "isAllDay",
        "showAs",
        "sensitivity",
        "isReminderOn",
        "attendees",
        "transactionId",
        "singleValueExtendedProperties",
        "recurrence",
        "responseRequested",
        "body",
    }
)
# Boolean properties a PATCH may change: (Graph name, StoredEvent field, default).
FLAGS = (
    ("isAllDay", "is_all_day", False),
    ("isReminderOn", "is_reminder_on", True),
    ("responseRequested", "response_requested", True),
)
NO_TIME = "0001-01-01T00:00:00Z"  # what Graph answers for a response that has no time yet


def check_writable(body: Mapping[str, Any]) -> None:
    """Refuse properties the emulator does not know, the way Graph refuses an unknown property."""
    for key in body:
        if key not in WRITABLE and not key.startswith("@odata."):
            raise GraphError(
                400,
                "RequestBodyRead",
                f"The property '{key}' does not exist on type 'microsoft.graph.event' "
                "or is not served by the emulator.",
            )


def choice(body: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    """An enum property, checked against its Graph values."""
    value = body.get(key, default)
    if value not in allowed:
        raise invalid_request(f"'{value}' is not a valid value for {key} ({', '.join(allowed)})")
    return str(value)


def flag(body: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean property."""
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise invalid_request(f"{key} must be true or false")
    return value


def attendees(value: object) -> tuple[Attendee, ...]:
    """Parse `attendees`: each an emailAddress with an address and a type."""
    if not isinstance(value, list):
        raise invalid_request("attendees must be a list")
    found = []
    for item in value:
        email = item.get("emailAddress") if isinstance(item, dict) else None
        if not isinstance(email, dict) or not isinstance(email.get("address"), str):
            raise invalid_request("each attendee needs emailAddress.address")
        kind = choice(item, "type", ATTENDEE_TYPES, "required")
        found.append(Attendee(email["address"], str(email.get("name") or email["address"]), kind))
    return tuple(found)


def extended(value: object) -> dict[str, str]:
    """Parse `singleValueExtendedProperties`: a list of `{id, value}` strings."""
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("value"), str)
        for p in value
    ):
        raise invalid_request("singleValueExtendedProperties must be a list of {id, value} strings")
    return {p["id"]: p["value"] for p in value}


def item_body(value: object) -> str:
    """The content of an itemBody (`{"contentType", "content"}`); absent or null is empty."""
    if value is None:
        return ""
    if not isinstance(value, dict) or not isinstance(value.get("content", ""), str):
        raise invalid_request("body must be an itemBody with a string content")
    return str(value.get("content", ""))


def series(value: object) -> recurrence.Recurrence | None:
    """The recurrence a body gives (null or absent: a single event)."""
    return None if value is None else recurrence.parse(value)


def zone_name(value: Mapping[str, Any]) -> str:
    """The zone a dateTimeTimeZone was written in (UTC when absent)."""
    return str(value.get("timeZone") or "UTC")


def check_times(event: StoredEvent) -> None:
    """End must not precede start; an all-day event spans whole days in its zone."""
    if event.end < event.start:
        raise invalid_request("The end of the event must not be before its start.")
    if event.is_all_day:
        starts = event.start.astimezone(times.zone(event.start_zone))
        ends = event.end.astimezone(times.zone(event.end_zone))
        if starts.time() != time(0) or ends.time() != time(0) or ends <= starts:
            raise invalid_request("An all-day event's start and end must be midnights, at least a day apart.")


def created(
    body: Mapping[str, Any], *, event_id: str, calendar_id: str, now: datetime, **server: Any
) -> StoredEvent:
    """The event a POST body describes (start and end are required)."""
    check_writable(body)
    if "start" not in body or "end" not in body:
        raise invalid_request("An event needs a start and an end.")
    transaction = body.get("transactionId")
    if transaction is not None and not isinstance(transaction, str):
        raise invalid_request("transactionId must be a string")
    event = StoredEvent(
        id=event_id,
        calendar_id=calendar_id,
        subject=str(body.get("subject") or ""),
        start=times.to_utc(body["start"]),
        end=times.to_utc(body["end"]),
        start_zone=zone_name(body["start"]),
        end_zone=zone_name(body["end"]),
        is_all_day=flag(body, "isAllDay", False),
        show_as=choice(body, "showAs", SHOW_AS, "busy"),
        sensitivity=choice(body, "sensitivity", SENSITIVITY, "normal"),
        is_reminder_on=flag(body, "isReminderOn", True),
        attendees=attendees(body.get("attendees", [])),
        transaction_id=transaction,
        extended=extended(body.get("singleValueExtendedProperties", [])),
        created=now,
        modified=now,
        recurrence=series(body.get("recurrence")),
        response_requested=flag(body, "responseRequested", True),
        body_text=item_body(body.get("body")),
        **server,
    )
    check_times(event)
    return event


def patched(event: StoredEvent, body: Mapping[str, Any], *, now: datetime, **server: Any) -> StoredEvent:
    """The event after a PATCH: only the properties the body names change; extended properties merge."""
    check_writable(body)
    changes: dict[str, Any] = {}
    if "subject" in body:
        changes["subject"] = str(body["subject"] or "")
    for key, field in (("start", "start"), ("end", "end")):
        if key in body:
            changes[field] = times.to_utc(body[key])
            changes[f"{field}_zone"] = zone_name(body[key])
    for key, name, default in FLAGS:
        if key in body:
            changes[name] = flag(body, key, default)
    if "showAs" in body:
        changes["show_as"] = choice(body, "showAs", SHOW_AS, "busy")
    if "sensitivity" in body:
        changes["sensitivity"] = choice(body, "sensitivity", SENSITIVITY, "normal")
    if "attendees" in body:
        # Attendees who stay keep their responses; new ones have none yet.
        known = {a.address.lower(): a for a in event.attendees}
        changes["attendees"] = tuple(
            replace(a, response=known[a.address.lower()].response, time=known[a.address.lower()].time)
            if a.address.lower() in known
            else a
            for a in attendees(body["attendees"])
        )
    if "singleValueExtendedProperties" in body:
        changes["extended"] = {**event.extended, **extended(body["singleValueExtendedProperties"])}
    if "recurrence" in body:
        changes["recurrence"] = series(body["recurrence"])
    if "body" in body:
        changes["body_text"] = item_body(body["body"])
    if event.recurrence is not None and {"recurrence", "start", "end"} & body.keys():
        # A series whose times or pattern change starts over: Outlook drops its exceptions and cancellations.
        changes.update(exceptions={}, cancelled=frozenset())
    result = replace(event, **changes, modified=now, **server)
    check_times(result)
    return result


def render(
    event: StoredEvent, owner: tuple[str, str], zone: str, expand: frozenset[str] | None
) -> JsonObject:
    """The event JSON Graph answers, in the `Prefer` zone; `expand` names the extended property to include."""
    address, name = event.organizer or owner
    answer: JsonObject = {
        "@odata.etag": f'W/"{event.change_key}"',
        "id": event.id,
        "createdDateTime": times.stamp(event.created),
        "lastModifiedDateTime": times.stamp(event.modified),
        "changeKey": event.change_key,
        "categories": [],
        "transactionId": event.transaction_id,
        "originalStartTimeZone": event.start_zone,
        "originalEndTimeZone": event.end_zone,
        "iCalUId": event.ical_uid,
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": event.is_reminder_on,
        "responseRequested": event.response_requested,
        "body": {"contentType": "text", "content": event.body_text},
        "subject": event.subject,
        "isAllDay": event.is_all_day,
        "isCancelled": event.is_cancelled,
        "isOrganizer": event.organizer is None,
        "showAs": event.show_as,
        "sensitivity": event.sensitivity,
        "type": "singleInstance" if event.recurrence is None else "seriesMaster",
        "seriesMasterId": None,
        "recurrence": None
        if event.recurrence is None
        else recurrence.render(event.recurrence, event.start_zone),
        "responseStatus": {"response": event.response, "time": stamp_or_none(event.response_time)},
        "start": times.render(event.start, zone),
        "end": times.render(event.end, zone),
        "attendees": [render_attendee(a) for a in event.attendees],
        "organizer": {"emailAddress": {"name": name, "address": address}},
    }
    if expand is not None:
        answer["singleValueExtendedProperties"] = [
            {"id": key, "value": value}
            for key, value in event.extended.items()
            if not expand or key in expand
        ]
    return answer


def render_instance(
    instance: Instance, owner: tuple[str, str], zone: str, expand: frozenset[str] | None
) -> JsonObject:
    """A single event, or one occurrence of a series (its own id and times, pointing at the series)."""
    answer = render(instance.event, owner, zone, expand)
    if instance.original is not None:
        answer.update(
            id=instance.id,
            start=times.render(instance.start, zone),
            end=times.render(instance.end, zone),
            type="exception" if instance.series is not None else "occurrence",
            seriesMasterId=instance.master.id,
            recurrence=None,
        )
    return answer


def render_attendee(attendee: Attendee) -> JsonObject:
    """One attendee as Graph answers it."""
    return {
        "type": attendee.type,
        "status": {"response": attendee.response, "time": stamp_or_none(attendee.time)},
        "emailAddress": {"name": attendee.name, "address": attendee.address},
    }


def stamp_or_none(when: datetime | None) -> str:
    """A response time as Graph writes it (a year-one stamp when there is no response yet)."""
    return NO_TIME if when is None else times.stamp(when)
