"""events.get/insert/update/patch/delete with Google's status codes and error bodies (events reference)."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from calmirror.emulator.calendar.errors import ApiError, condition_not_met, deleted, duplicate, not_found
from calmirror.emulator.calendar.ev_attendees import mark_self, propagate, reflect_response
from calmirror.emulator.calendar.ev_request import ApiRequest, ApiResponse
from calmirror.emulator.calendar.ev_series import find_instance, render
from calmirror.emulator.calendar.ev_times import zone
from calmirror.emulator.calendar.ev_validate import READ_ONLY, check_id, normalize
from calmirror.emulator.calendar.store import Calendar, Event, Store

CARRIED = ("id", "iCalUID", "created", "organizer", "creator", "recurringEventId", "originalStartTime")


def response_zone(req: ApiRequest, cal: Calendar) -> str:
    """Return the zone responses render in: the timeZone parameter, else the calendar's (discovery doc)."""
    name = req.query.get("timeZone") or cal.time_zone
    zone(name)
    return name


def current(store: Store, cal: Calendar, event_id: str) -> Event | None:
    """Return the stored event, or the generated instance an instance id names, or None."""
    stored = store.get(cal.id, event_id)
    if stored is not None:
        return stored
    parent = store.get(cal.id, event_id.rpartition("_")[0]) if "_" in event_id else None
    return find_instance(parent, event_id, cal.time_zone, store)


def _existing(store: Store, req: ApiRequest, need: str = "writer") -> tuple[Calendar, Event]:
    """Resolve calendar and event, 404 when unknown, 412 when If-Match names another etag (versions guide)."""
    cal = store.resolve(req.account, req.path_params["calendarId"], need=need)
    event = current(store, cal, req.path_params["eventId"])
    if event is None:
        raise not_found()
    if_match = req.headers.get("If-Match")
    if if_match is not None and if_match not in ("*", event["etag"]):
        raise condition_not_met()
    return cal, event


def get_event(store: Store, req: ApiRequest) -> ApiResponse:
    """events.get: cancelled events are returned too; If-None-Match on the current etag -> 304."""
    cal, event = _existing(store, req, "reader")
    if req.headers.get("If-None-Match") == event["etag"]:
        return ApiResponse(304, None)
    return ApiResponse(200, render(event, response_zone(req, cal)))


def insert_event(store: Store, req: ApiRequest) -> ApiResponse:
    """events.insert: client ids validated, 409 on any existing id including tombstones (errors guide)."""
    cal = store.resolve(req.account, req.path_params["calendarId"], need="writer")
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("id") is not None:
        event_id = check_id(body["id"])
        if store.get(cal.id, event_id) is not None:
            raise duplicate()
    else:
        event_id = secrets.token_hex(13)  # 26 characters of [0-9a-f], valid base32hex
    event = normalize(body, organizer=cal.id, previous_type=None)
    event |= {"id": event_id, "iCalUID": f"{event_id}@google.com", "sequence": 0}
    event["organizer"] = {"email": cal.id} | ({} if cal.primary else {"displayName": cal.summary})
    event["creator"] = {"email": req.account}
    mark_self(event, cal.id, cal.owner)
    stored = store.commit(cal.id, event)
    propagate(store, stored, None)
    return ApiResponse(200, render(stored, response_zone(req, cal)))


def _invitee_copy(store: Store, cal: Calendar, event: Event) -> bool:
    """Whether this calendar holds an invitee's copy of another emulator calendar's event."""
    organizer = event.get("organizer", {}).get("email", cal.id)
    return organizer != cal.id and store.find_calendar(organizer) is not None


def _sequence(before: Event, after: Event) -> int:
    """Increase `sequence` when the time or recurrence changes, as Google does (RFC 5545 SEQUENCE)."""
    changed = any(before.get(k) != after.get(k) for k in ("start", "end", "recurrence"))
    return int(before.get("sequence", 0)) + (1 if changed else 0)


def _replace(
    store: Store, req: ApiRequest, cal: Calendar, before: Event, body: dict[str, Any]
) -> ApiResponse:
    """Store `body` as the full new state of `before` (update, and patch after merging)."""
    if _invitee_copy(store, cal, before):
        return _attendee_write(store, req, cal, before, body)
    organizer = before.get("organizer", {}).get("email", cal.id)
    event = normalize(body, organizer=organizer, previous_type=before.get("eventType", "default"))
    if before["status"] == "cancelled" and "status" not in body:
        event["status"] = "cancelled"  # only an explicit status revives a tombstone (events reference)
    event |= {k: before[k] for k in CARRIED if k in before}
    event["sequence"] = _sequence(before, event)
    mark_self(event, cal.id, cal.owner)
    stored = store.commit(cal.id, event)
    propagate(store, stored, before)
    return ApiResponse(200, render(stored, response_zone(req, cal)))


def _attendee_write(
    store: Store, req: ApiRequest, cal: Calendar, before: Event, body: dict[str, Any]
) -> ApiResponse:
    """An invitee writes its copy: only its response, reminders and private properties take effect."""
    wanted = normalize(body, organizer=before["organizer"]["email"], previous_type=before.get("eventType"))
    event = copy.deepcopy(before)
    event["reminders"] = wanted["reminders"]
    private = wanted.get("extendedProperties", {}).get("private")
    event.setdefault("extendedProperties", {}).pop("private", None)
    if private:
        event["extendedProperties"]["private"] = private
    mine = [a for a in wanted.get("attendees") or [] if a["email"] == cal.id]
    status = mine[0]["responseStatus"] if mine else None
    for attendee in event.get("attendees") or []:
        if attendee.get("email") == cal.id and status:
            attendee["responseStatus"] = status
    stored = store.commit(cal.id, event)
    if status:
        reflect_response(store, cal.id, stored["id"], status)
    return ApiResponse(200, render(stored, response_zone(req, cal)))


def update_event(store: Store, req: ApiRequest) -> ApiResponse:
    """events.update (PUT): full replace; `status: confirmed` on a tombstone restores it."""
    cal, before = _existing(store, req)
    return _replace(store, req, cal, before, req.body if isinstance(req.body, dict) else {})


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: nested objects merge, arrays replace, null deletes a key (events.patch)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def patch_event(store: Store, req: ApiRequest) -> ApiResponse:
    """events.patch: merge the body into the current state, then validate it like an update (events.patch)."""
    cal, before = _existing(store, req)
    if not isinstance(req.body, dict):
        raise ApiError(400, "invalid", "Invalid event body.")
    base = {k: v for k, v in before.items() if k not in READ_ONLY}
    return _replace(store, req, cal, before, merge(base, req.body))


def delete_event(store: Store, req: ApiRequest) -> ApiResponse:
    """events.delete: 204, tombstone kept with its data; 410 deleted when already deleted (errors guide)."""
    cal, before = _existing(store, req)
    if before["status"] == "cancelled":
        raise deleted()
    event = copy.deepcopy(before)
    event["status"] = "cancelled"
    stored = store.commit(cal.id, event)
    if _invitee_copy(store, cal, before):
        reflect_response(store, cal.id, stored["id"], "declined")  # an invitee removing it declines
    else:
        propagate(store, stored, before)
    return ApiResponse(204, None)
