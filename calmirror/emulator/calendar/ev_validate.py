"""Validation and normalisation of event bodies for insert/update/patch."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from calmirror.emulator.calendar.errors import ApiError, bad_request, invalid_id, time_range_empty
from calmirror.emulator.calendar.ev_times import moment_of, normalize_edt
from calmirror.emulator.calendar.recurrence import check_recurrence

ID_PATTERN = re.compile(r"^[a-v0-9]{5,1024}$")  # base32hex, lowercase (discovery doc Event.id)
READ_ONLY = frozenset(
    {"kind", "etag", "id", "created", "updated", "htmlLink", "iCalUID", "organizer", "creator", "sequence"}
    | {"recurringEventId", "originalStartTime"}
)
EVENT_FIELDS = frozenset(  # writable Event properties of the discovery document; others are ignored
    [
        "anyoneCanAddSelf",
        "attachments",
        "attendees",
        "attendeesOmitted",
        "birthdayProperties",
        "colorId",
        "conferenceData",
        "description",
        "end",
        "endTimeUnspecified",
        "eventLabelId",
        "eventType",
        "extendedProperties",
        "focusTimeProperties",
        "gadget",
        "guestsCanInviteOthers",
        "guestsCanModify",
        "guestsCanSeeOtherGuests",
        "hangoutLink",
        "location",
        "locked",
        "outOfOfficeProperties",
        "privateCopy",
        "recurrence",
        "reminders",
        "source",
        "start",
        "status",
        "summary",
        "transparency",
        "visibility",
        "workingLocationProperties",
    ]
)
EVENT_TYPES = frozenset({"default", "birthday", "focusTime", "outOfOffice", "workingLocation", "fromGmail"})
MAX_OVERRIDES = 5
MAX_REMINDER_MINUTES = 40320
MAX_PROPERTY_KEY = 44
MAX_PROPERTY_VALUE = 1024
ATTENDEE_FIELDS = ("email", "displayName", "optional", "resource", "responseStatus", "comment")


def check_id(event_id: Any) -> str:
    """Return a valid client-supplied id or raise 400 invalid (discovery doc Event.id)."""
    if not isinstance(event_id, str) or not ID_PATTERN.match(event_id):
        raise invalid_id()
    return event_id


def _enum(body: dict[str, Any], field: str, allowed: tuple[str, ...], default: str) -> None:
    """Validate an enum field and drop it when it holds the default (omitted in responses)."""
    value = body.get(field, default)
    if value not in allowed:
        raise bad_request(f"Invalid value for: {field}", location=field)
    if value == default:
        body.pop(field, None)


def _times(body: dict[str, Any]) -> None:
    """Normalise start/end: both present, same kind, end not before start (errors guide timeRangeEmpty)."""
    body["start"] = normalize_edt(body.get("start"), "start")
    body["end"] = normalize_edt(body.get("end"), "end")
    start, end = moment_of(body["start"]), moment_of(body["end"])
    if type(start) is not type(end):
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    all_day = isinstance(start, date) and "date" in body["start"]
    if end < start or (all_day and end == start):
        raise time_range_empty()
    if body.get("recurrence") is not None:
        if not isinstance(body["recurrence"], list) or not all(
            isinstance(r, str) for r in body["recurrence"]
        ):
            raise bad_request("Invalid recurrence rule.", location="recurrence")
        if not all_day and "timeZone" not in body["start"]:
            # "For recurring events this field is required" (discovery doc EventDateTime.timeZone).
            raise ApiError(400, "required", "Missing time zone definition for start time.")
        check_recurrence(body)


def _reminders(body: dict[str, Any]) -> None:
    """Validate reminders: not both default and overrides, at most 5, minutes clamped (events reference)."""
    reminders = body.get("reminders") or {"useDefault": True}
    if not isinstance(reminders, dict):
        raise bad_request("Invalid reminders.", location="reminders")
    overrides = reminders.get("overrides") or []
    if reminders.get("useDefault") and overrides:
        raise bad_request(
            "Cannot specify both default reminders and overrides at the same time.",
            reason="cannotUseDefaultRemindersAndSpecifyOverride",
        )
    if len(overrides) > MAX_OVERRIDES:
        raise bad_request("Too many reminders.", reason="eventRemindersCountExceedsLimit")
    kept = [
        {"method": o["method"], "minutes": max(0, min(int(o.get("minutes", 0)), MAX_REMINDER_MINUTES))}
        for o in overrides
        if isinstance(o, dict) and o.get("method") in ("email", "popup")  # unknown methods dropped
    ]
    body["reminders"] = {"useDefault": bool(reminders.get("useDefault"))} | (
        {"overrides": kept} if kept else {}
    )


def _properties(body: dict[str, Any]) -> None:
    """Drop keys over 44 chars and truncate values over 1024 chars silently (properties guide)."""
    props = body.get("extendedProperties")
    if props is None:
        return
    if not isinstance(props, dict):
        raise bad_request("Invalid extendedProperties.", location="extendedProperties")
    cleaned = {}
    for scope in ("private", "shared"):
        values = props.get(scope)
        if isinstance(values, dict):
            cleaned[scope] = {
                k: str(v)[:MAX_PROPERTY_VALUE]
                for k, v in values.items()
                if len(k) <= MAX_PROPERTY_KEY and v is not None
            }
    body["extendedProperties"] = cleaned


def _attendees(body: dict[str, Any], organizer: str) -> None:
    """Normalise attendees: email required, responseStatus defaulted, organizer flagged (discovery doc)."""
    attendees = body.get("attendees")
    if attendees is None:
        return
    if not isinstance(attendees, list):
        raise bad_request("Invalid attendees.", location="attendees")
    cleaned = []
    for raw in attendees:
        if not isinstance(raw, dict) or not raw.get("email"):
            raise ApiError(400, "required", "Missing attendee email.")
        entry = {k: raw[k] for k in ATTENDEE_FIELDS if raw.get(k) is not None}
        entry["email"] = str(entry["email"]).lower()
        if entry["email"] == organizer:
            entry["organizer"] = True
            entry.setdefault("responseStatus", "accepted")
        entry.setdefault("responseStatus", "needsAction")
        cleaned.append(entry)
    body["attendees"] = cleaned


def normalize(body: Any, *, organizer: str, previous_type: str | None) -> dict[str, Any]:
    """Return the stored form of a client body (read-only fields dropped) or raise 400."""
    if not isinstance(body, dict):
        raise bad_request("Invalid event body.")
    event = {k: v for k, v in body.items() if k in EVENT_FIELDS and v is not None}
    event_type = event.get("eventType", previous_type or "default")
    if event_type not in EVENT_TYPES:
        raise bad_request("Invalid event type.", location="eventType")
    if previous_type is None and event_type == "fromGmail":
        raise bad_request("Event type cannot be created using this API.", location="eventType")
    if previous_type is not None and event_type != previous_type:
        raise bad_request("Event type cannot be changed.", location="eventType")  # immutable
    event["eventType"] = event_type
    _times(event)
    event.setdefault("status", "confirmed")
    if event["status"] not in ("confirmed", "tentative", "cancelled"):
        raise bad_request("Invalid value for: status", location="status")
    _enum(event, "transparency", ("opaque", "transparent"), "opaque")
    _enum(event, "visibility", ("default", "public", "private", "confidential"), "default")
    _reminders(event)
    _properties(event)
    _attendees(event, organizer)
    return event
