"""Request/response values and the route table the HTTP layer serves (Google's paths, discovery doc)."""

from __future__ import annotations

import zlib
from typing import Any

from calmirror.emulator.calendar import ev_writes, freebusy, listing
from calmirror.emulator.calendar.errors import bad_request
from calmirror.emulator.calendar.ev_request import ApiRequest, ApiResponse, Route, int_param
from calmirror.emulator.calendar.store import ROLES, Calendar, Store, at_least

__all__ = ["ROUTES", "ApiRequest", "ApiResponse", "Route"]


def calendar_list_entry(cal: Calendar, account: str) -> dict[str, Any]:
    """Render the account's CalendarListEntry; `primary` only present when true (calendarList)."""
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{zlib.crc32(cal.id.encode())}"',
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": cal.role_of(account),
        "defaultReminders": [],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if cal.id == account:
        entry["primary"] = True
    return entry


def calendar_list_list(store: Store, req: ApiRequest) -> ApiResponse:
    """calendarList.list: the calendars the account sees, at least `minAccessRole`; 100 a page, max 250."""
    size = int_param(req, "maxResults", 100, low=1, high=250)
    least = req.query.get("minAccessRole") or ROLES[0]
    if least not in ROLES:
        raise bad_request(f"Invalid value '{least}'.", location="minAccessRole")
    visible = [c for c in store.calendars_of(req.account) if at_least(c.role_of(req.account), least)]
    entries = [calendar_list_entry(c, req.account) for c in visible]
    start = int(req.query.get("pageToken") or 0) if (req.query.get("pageToken") or "0").isdigit() else 0
    body: dict[str, Any] = {"kind": "calendar#calendarList", "etag": f'"{store.seq}"'}
    body["items"] = entries[start : start + size]
    if start + size < len(entries):
        body["nextPageToken"] = str(start + size)
    return ApiResponse(200, body)


def calendar_list_get(store: Store, req: ApiRequest) -> ApiResponse:
    """calendarList.get: one of the account's own calendars, 404 otherwise."""
    cal = store.resolve(req.account, req.path_params["calendarId"], need=ROLES[0])
    return ApiResponse(200, calendar_list_entry(cal, req.account))


_EVENTS = "calendars/{calendarId}/events"
_EVENT = _EVENTS + "/{eventId}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "users/me/calendarList", "calendar.calendarList.list", calendar_list_list),
    Route("GET", "users/me/calendarList/{calendarId}", "calendar.calendarList.get", calendar_list_get),
    Route("GET", _EVENTS, "calendar.events.list", listing.list_events),
    Route("POST", _EVENTS, "calendar.events.insert", ev_writes.insert_event),
    Route("GET", _EVENT, "calendar.events.get", ev_writes.get_event),
    Route("PUT", _EVENT, "calendar.events.update", ev_writes.update_event),
    Route("PATCH", _EVENT, "calendar.events.patch", ev_writes.patch_event),
    Route("DELETE", _EVENT, "calendar.events.delete", ev_writes.delete_event),
    Route("GET", _EVENT + "/instances", "calendar.events.instances", listing.list_instances),
    Route("POST", "freeBusy", "calendar.freebusy.query", freebusy.query),
)
