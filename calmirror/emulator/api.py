"""Request/response values and the route table the HTTP layer serves (Google's paths, DISC)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

from calmirror.emulator.errors import bad_request, not_found
from calmirror.emulator.store import Calendar, Store


@dataclass(frozen=True)
class ApiRequest:
    """One authenticated API call as the HTTP layer hands it over."""

    account: str
    method_id: str
    path_params: Mapping[str, str]
    query: MultiMapping[str]
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class ApiResponse:
    """What a handler answers; the HTTP layer renders `body` as JSON (None: empty body)."""

    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One discovery method: HTTP method, path template relative to /calendar/v3/, handler."""

    http_method: str
    path: str
    method_id: str
    handler: Callable[[Store, ApiRequest], ApiResponse]


def calendar_list_entry(cal: Calendar) -> dict[str, Any]:
    """Render a CalendarListEntry; `primary` only present when true (research section 4)."""
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
        "accessRole": "owner",
        "defaultReminders": [],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if cal.primary:
        entry["primary"] = True
    return entry


def int_param(req: ApiRequest, name: str, default: int, *, low: int, high: int) -> int:
    """Parse an integer query parameter, capping it at `high` as Google does for maxResults (DISC)."""
    raw = req.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid value '{raw}'. Values must match the following regular expression: '-?\\d+'",
            location=name,
        ) from None
    if value < low:
        raise bad_request(f"Invalid value '{raw}'.", location=name)
    return min(value, high)


def calendar_list_list(store: Store, req: ApiRequest) -> ApiResponse:
    """calendarList.list: the account's calendars, maxResults default 100, max 250 (DISC)."""
    size = int_param(req, "maxResults", 100, low=1, high=250)
    entries = [calendar_list_entry(c) for c in store.calendars_of(req.account)]
    start = int(req.query.get("pageToken") or 0) if (req.query.get("pageToken") or "0").isdigit() else 0
    body: dict[str, Any] = {"kind": "calendar#calendarList", "etag": f'"{store.seq}"'}
    body["items"] = entries[start : start + size]
    if start + size < len(entries):
        body["nextPageToken"] = str(start + size)
    return ApiResponse(200, body)


def calendar_list_get(store: Store, req: ApiRequest) -> ApiResponse:
    """calendarList.get: one of the account's own calendars, 404 otherwise."""
    cid = req.path_params["calendarId"]
    cal = store.find_calendar(req.account if cid == "primary" else cid)
    if cal is None or cal.owner != req.account:
        raise not_found()
    return ApiResponse(200, calendar_list_entry(cal))


ROUTES: tuple[Route, ...] = (
    Route("GET", "users/me/calendarList", "calendar.calendarList.list", calendar_list_list),
    Route("GET", "users/me/calendarList/{calendarId}", "calendar.calendarList.get", calendar_list_get),
)
