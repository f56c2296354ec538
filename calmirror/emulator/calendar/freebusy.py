"""freebusy.query: merged busy periods of opaque, live events and instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from calmirror.emulator.calendar.errors import ApiError, bad_request
from calmirror.emulator.calendar.ev_request import ApiRequest, ApiResponse
from calmirror.emulator.calendar.ev_series import series_items, split_series
from calmirror.emulator.calendar.ev_times import check_range, parse_param, span, utc_text
from calmirror.emulator.calendar.store import Calendar, Event, Store

MAX_CALENDARS = 50  # calendarExpansionMax maximum (discovery doc FreeBusyRequest)


def _busy(store: Store, cal: Calendar, lo: datetime, hi: datetime) -> list[dict[str, str]]:
    """Return the calendar's busy periods in [lo, hi), overlapping periods merged."""
    items, parents, exceptions = split_series(store.raw_events(cal.id))
    for pid, parent in parents.items():
        items += series_items(parent, exceptions[pid], cal.time_zone, (lo, hi), store)
    periods = sorted(
        (max(s, lo), min(e, hi))
        for s, e in (span(item, cal.time_zone) for item in items if _blocks(item))
        if e > lo and s < hi
    )
    merged: list[list[datetime]] = []
    for start, end in periods:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [{"start": utc_text(s), "end": utc_text(e)} for s, e in merged]


def _blocks(event: Event) -> bool:
    """Busy time comes only from opaque, non-cancelled events (freebusy.query)."""
    return bool(event["status"] != "cancelled" and event.get("transparency", "opaque") == "opaque")


def query(store: Store, req: ApiRequest) -> ApiResponse:
    """freebusy.query; calendars the account cannot see answer `errors: notFound` with HTTP 200."""
    body = req.body if isinstance(req.body, dict) else {}
    lo, hi = parse_param(body.get("timeMin"), "timeMin"), parse_param(body.get("timeMax"), "timeMax")
    if lo is None or hi is None:
        raise bad_request("Missing timeMin or timeMax.", reason="required")
    check_range(lo, hi)
    items = body.get("items") or []
    if len(items) > MAX_CALENDARS:
        raise bad_request("Too many calendars requested.", reason="tooManyCalendarsRequested")
    calendars: dict[str, Any] = {}
    for item in items:
        cid = str(item.get("id", "")) if isinstance(item, dict) else ""
        try:
            cal = store.resolve(req.account, cid, need="freeBusyReader")
        except ApiError as error:  # unknown or not the account's: an item error inside HTTP 200
            calendars[cid] = {"errors": [{"domain": "global", "reason": error.reason}], "busy": []}
        else:
            calendars[cid] = {"busy": _busy(store, cal, lo, hi)}
    answer = {
        "kind": "calendar#freeBusy",
        "timeMin": utc_text(lo),
        "timeMax": utc_text(hi),
        "calendars": calendars,
    }
    return ApiResponse(200, answer)
