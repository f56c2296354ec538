"""Events as clients see them: rendering, minimal tombstones, and recurring series as instances."""

from __future__ import annotations

import base64
import copy
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from calmirror.emulator.calendar.ev_times import render_edt, span
from calmirror.emulator.calendar.recurrence import Occurrence, expand, is_open_ended
from calmirror.emulator.calendar.store import Event, Store

HORIZON = timedelta(days=730)  # expansion bound when a query has no timeMax (emulator choice)
FIRST = datetime(1970, 1, 1, tzinfo=UTC)
LAST = datetime(9000, 1, 1, tzinfo=UTC)  # no timeMax: "the default is not to filter by start time"
HEAD = ("etag", "id", "status", "htmlLink", "created", "updated", "summary")  # Google's key order


def is_recurring(event: Event) -> bool:
    """True for the parent of a recurring series."""
    return bool(event.get("recurrence")) and "recurringEventId" not in event


def split_series(events: list[Event]) -> tuple[list[Event], dict[str, Event], dict[str, list[Event]]]:
    """Split events into singles, series parents and each parent's exceptions (orphans are singles)."""
    parents = {e["id"]: e for e in events if is_recurring(e)}
    exceptions: dict[str, list[Event]] = defaultdict(list)
    singles = []
    for e in events:
        if e.get("recurringEventId") in parents:
            exceptions[e["recurringEventId"]].append(e)
        elif e["id"] not in parents:
            singles.append(e)
    return singles, parents, exceptions


def render(event: Event, tz_name: str) -> Event:
    """Render a stored event for a response: kind first, times in the response zone (discovery doc Event)."""
    head = {k: event[k] for k in HEAD if k in event}
    out: Event = {"kind": "calendar#event", **head, **copy.deepcopy(event)}
    for field in ("start", "end", "originalStartTime"):
        if field in out:
            out[field] = render_edt(out[field], tz_name)
    out.setdefault("htmlLink", "https://www.google.com/calendar/event?eid=" + _eid(event["id"]))
    return out


def _eid(event_id: str) -> str:
    """Return the opaque `eid` of an htmlLink."""
    return base64.urlsafe_b64encode(event_id.encode()).decode().rstrip("=")


def minimal(event: Event, tz_name: str) -> Event:
    """A cancelled event as list/sync return it: only kind, etag, id, status (+ instance keys)."""
    out: Event = {"kind": "calendar#event", "etag": event["etag"], "id": event["id"], "status": "cancelled"}
    if "recurringEventId" in event:
        out["recurringEventId"] = event["recurringEventId"]
        out["originalStartTime"] = render_edt(event["originalStartTime"], tz_name)
    return out


def _edt(moment: Any, tz_name: str | None) -> dict[str, Any]:
    """Build a stored EventDateTime for a generated instance."""
    if isinstance(moment, datetime):
        return {"dateTime": moment.isoformat()} | ({"timeZone": tz_name} if tz_name else {})
    return {"date": moment.isoformat()}


def generated(parent: Event, occ: Occurrence) -> Event:
    """Build the stored form of a non-exception instance of a series (recurrence guide)."""
    inst = {k: copy.deepcopy(v) for k, v in parent.items() if k != "recurrence"}
    tz_name = parent["start"].get("timeZone")
    inst["id"] = occ.instance_id
    inst["recurringEventId"] = parent["id"]
    inst["originalStartTime"] = _edt(occ.start, tz_name)
    inst["start"] = _edt(occ.start, tz_name)
    inst["end"] = _edt(occ.end, parent["end"].get("timeZone"))
    return inst


def overlaps(event: Event, tz_name: str, lo: datetime, hi: datetime) -> bool:
    """Strict overlap: end > lo and start < hi (events.list)."""
    start, end = span(event, tz_name)
    return end > lo and start < hi


def series_items(
    parent: Event,
    exceptions: list[Event],
    tz_name: str,
    window: tuple[datetime, datetime],
    store: Store,
    *,
    horizon: datetime | None = None,
) -> list[Event]:
    """Return a series' instances in [lo, hi): generated ones plus exceptions, cancelled ones included.

    `horizon` (for a query without timeMax) bounds the expansion of a series that never ends only.
    """
    lo, hi = window
    until = min(hi, horizon) if horizon is not None and is_open_ended(parent) else hi
    overridden = {e["id"] for e in exceptions}
    items = [
        generated(parent, occ)
        for occ in expand(parent, tz_name, lo, until, store)
        if occ.instance_id not in overridden
    ]
    items += [copy.deepcopy(e) for e in exceptions if overlaps(e, tz_name, lo, hi)]
    if parent["status"] == "cancelled":
        for item in items:
            item["status"] = "cancelled"
    return items


def find_instance(parent: Event | None, event_id: str, tz_name: str, store: Store) -> Event | None:
    """Return the generated instance an instance id names, if the series has that occurrence."""
    stamp = event_id.rpartition("_")[2]
    if parent is None or not is_recurring(parent) or len(stamp) not in (8, 16):
        return None
    try:
        fmt = "%Y%m%d" if len(stamp) == 8 else "%Y%m%dT%H%M%SZ"
        moment = datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None
    window = (moment - timedelta(days=2), moment + timedelta(days=2))
    for occ in expand(parent, tz_name, *window, store):
        if occ.instance_id == event_id:
            return generated(parent, occ)
    return None
