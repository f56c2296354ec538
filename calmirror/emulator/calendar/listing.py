"""events.list and events.instances: window, expansion, filters, order, paging, sync tokens (sync guide)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from calmirror.emulator.calendar.errors import bad_request, not_found
from calmirror.emulator.calendar.ev_request import ApiRequest, ApiResponse, int_param
from calmirror.emulator.calendar.ev_series import (
    FIRST,
    HORIZON,
    LAST,
    minimal,
    overlaps,
    render,
    series_items,
    split_series,
)
from calmirror.emulator.calendar.ev_times import check_range, instant, moment_of, parse_param
from calmirror.emulator.calendar.ev_tokens import (
    PageState,
    SyncState,
    fingerprint,
    make_page_token,
    make_sync_token,
    read_page_token,
    read_sync_token,
)
from calmirror.emulator.calendar.ev_writes import response_zone
from calmirror.emulator.calendar.recurrence import is_open_ended
from calmirror.emulator.calendar.store import Calendar, Event, Store, format_updated

NO_SYNC_TOKEN = ("orderBy", "q", "iCalUID", "privateExtendedProperty", "sharedExtendedProperty", "updatedMin")
SYNC_FORBIDDEN = (*NO_SYNC_TOKEN, "timeMin", "timeMax")  # not allowed together with syncToken (discovery doc)
NOT_IN_PAGE_FINGERPRINT = ("pageToken", "maxResults", "alt", "fields", "prettyPrint", "quotaUser", "key")


@dataclass(frozen=True)
class Query:
    """The parsed parameters of one events.list request."""

    single: bool
    show_deleted: bool
    time_min: datetime | None
    time_max: datetime | None
    updated_min: datetime | None
    order_by: str | None
    text: str | None
    ical_uid: str | None
    private: tuple[tuple[str, str], ...]
    shared: tuple[tuple[str, str], ...]
    event_types: tuple[str, ...]


def _bool(req: ApiRequest, name: str) -> bool | None:
    """Parse a boolean query parameter (`true`/`false`, as the python client sends them)."""
    raw = req.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"Invalid boolean value: '{raw}'.", location=name)
    return raw.lower() == "true"


def _properties(req: ApiRequest, name: str) -> tuple[tuple[str, str], ...]:
    """Parse repeated `propertyName=value` constraints."""
    pairs = []
    for raw in req.query.getall(name, []):
        key, sep, value = raw.partition("=")
        if not sep:
            raise bad_request(f"Invalid value for: {name}", location=name)
        pairs.append((key, value))
    return tuple(pairs)


def parse_query(req: ApiRequest) -> Query:
    """Parse and validate the listing parameters (discovery doc events.list)."""
    time_min, time_max = (
        parse_param(req.query.get("timeMin"), "timeMin"),
        parse_param(req.query.get("timeMax"), "timeMax"),
    )
    check_range(time_min, time_max)
    single = bool(_bool(req, "singleEvents"))
    order_by = req.query.get("orderBy")
    if order_by not in (None, "startTime", "updated") or (order_by == "startTime" and not single):
        raise bad_request(
            "The requested ordering is not available for the particular query.", location="orderBy"
        )
    return Query(
        single=single,
        show_deleted=bool(_bool(req, "showDeleted")),
        time_min=time_min,
        time_max=time_max,
        updated_min=parse_param(req.query.get("updatedMin"), "updatedMin"),
        order_by=order_by,
        text=req.query.get("q"),
        ical_uid=req.query.get("iCalUID"),
        private=_properties(req, "privateExtendedProperty"),
        shared=_properties(req, "sharedExtendedProperty"),
        event_types=tuple(req.query.getall("eventTypes", [])),
    )


def _bounds(
    lo: datetime | None, hi: datetime | None, store: Store
) -> tuple[tuple[datetime, datetime], datetime | None]:
    """Return the window and, without timeMax, the horizon (now + HORIZON) for series that never end."""
    return (lo or FIRST, hi or LAST), (None if hi else store.clock() + HORIZON)


def _full(events: list[Event], q: Query, cal: Calendar, store: Store) -> list[Event]:
    """Items of a full listing, before filters: singleEvents and showDeleted matrix."""
    (lo, hi), horizon = _bounds(q.time_min, q.time_max, store)
    singles, parents, exceptions = split_series(events)
    items = [e for e in singles if overlaps(e, cal.time_zone, lo, hi)]
    for pid, parent in parents.items():
        instances = series_items(parent, exceptions[pid], cal.time_zone, (lo, hi), store, horizon=horizon)
        if q.single:
            items += instances
        else:
            endless = horizon is not None and is_open_ended(parent)  # occurs after any timeMin
            items += [parent] if instances or endless else []
            exception_ids = {e["id"] for e in exceptions[pid]}
            items += [e for e in instances if e["id"] in exception_ids]  # cancelled with their series
    keep = q.show_deleted or q.updated_min is not None
    return [e for e in items if e["status"] != "cancelled" or keep or _cancelled_exception(e, parents, q)]


def _cancelled_exception(event: Event, parents: dict[str, Event], q: Query) -> bool:
    """Cancelled exceptions of a live series are listed when showDeleted and singleEvents are both off."""
    parent = parents.get(event.get("recurringEventId", ""))
    return not q.single and parent is not None and parent["status"] != "cancelled"


def _delta(
    events: list[Event], changed: set[str], q: Query, cal: Calendar, *, state: SyncState, store: Store
) -> list[Event]:
    """Items of an incremental sync: every change since the token, deletions included (sync guide).

    With singleEvents a changed series yields all its instances in the token's original window; calmirror
    relists a recurring series on any change, so the exact instance set cannot change its result.
    """
    if not q.single:
        return [e for e in events if e["id"] in changed]
    window, horizon = _bounds(
        parse_param(state.window[0], "timeMin"), parse_param(state.window[1], "timeMax"), store
    )
    singles, parents, exceptions = split_series(events)
    items = [e for e in singles if e["id"] in changed]
    for pid, parent in parents.items():
        if pid in changed or any(e["id"] in changed for e in exceptions[pid]):
            items += series_items(parent, exceptions[pid], cal.time_zone, window, store, horizon=horizon)
    return items


def _matches(event: Event, q: Query) -> bool:
    """Apply the property, text, iCalUID, eventTypes and updatedMin filters (discovery doc events.list)."""
    props = event.get("extendedProperties", {})
    for scope, wanted in (("private", q.private), ("shared", q.shared)):
        if any(props.get(scope, {}).get(k) != v for k, v in wanted):  # repeats must all match (discovery doc)
            return False
    if q.ical_uid is not None and event.get("iCalUID") != q.ical_uid:
        return False
    if q.event_types and event.get("eventType", "default") not in q.event_types:
        return False
    if q.updated_min is not None and event["updated"] < format_updated(q.updated_min):
        return False
    return q.text is None or q.text.lower() in _haystack(event)


def _haystack(event: Event) -> str:
    """Return the text `q` searches: summary, description, location, attendee and organizer names."""
    people = [*(event.get("attendees") or []), event.get("organizer") or {}]
    words = [event.get(k, "") for k in ("summary", "description", "location")]
    words += [p.get(k, "") for p in people for k in ("email", "displayName")]
    return " ".join(words).lower()


def _sort_key(q: Query, cal: Calendar) -> Callable[[Event], Any]:
    """Return the order: startTime, updated, or a stable id order otherwise (discovery doc orderBy)."""
    if q.order_by == "startTime":
        return lambda e: (instant(moment_of(e["start"]), cal.time_zone), e["id"])
    if q.order_by == "updated":
        return lambda e: (e["updated"], e["id"])
    return lambda e: e["id"]


def _out(event: Event, show_deleted: bool, tz_name: str) -> Event:
    """Render an item; cancelled ones are minimal unless showDeleted asks for details."""
    if event["status"] == "cancelled" and ("recurringEventId" in event or not show_deleted):
        return minimal(event, tz_name)
    return render(event, tz_name)


def _page_fingerprint(req: ApiRequest, cal: Calendar) -> str:
    """Digest of the query a page token belongs to."""
    pairs = [(k, v) for k, v in req.query.items() if k not in NOT_IN_PAGE_FINGERPRINT]
    return fingerprint([("calendar", cal.id), ("method", req.method_id), *pairs])


def _sync_fingerprint(req: ApiRequest) -> str:
    """Digest of the parameters a sync token must be reused with."""
    keys = ("singleEvents", "eventTypes")
    return fingerprint([(k, v) for k, v in req.query.items() if k in keys])


def _page(
    store: Store, req: ApiRequest, cal: Calendar, build: Callable[[int], list[Event]]
) -> tuple[list[Event], int, bool, dict[str, Any]]:
    """Slice one page of a snapshot-consistent listing; return items, snapshot, last-page flag, body."""
    fp = _page_fingerprint(req, cal)
    token = req.query.get("pageToken")
    state = read_page_token(store, cal.id, fp, token) if token else PageState(store.seq, 0)
    size = int_param(req, "maxResults", 250, low=1, high=2500)
    items = store.memo(("page", cal.id, fp, state.snapshot), lambda: build(state.snapshot))
    body: dict[str, Any] = {"kind": "calendar#events", "etag": f'"{state.snapshot}"', "summary": cal.summary}
    updated = max((e["updated"] for e in items), default=format_updated(store.clock()))
    body |= {
        "updated": updated,
        "timeZone": cal.time_zone,
        "accessRole": cal.role_of(req.account),
        "defaultReminders": [],
    }
    end = state.offset + size
    if end < len(items):
        body["nextPageToken"] = make_page_token(store, cal.id, fp, PageState(state.snapshot, end))
    return items[state.offset : end], state.snapshot, end >= len(items), body


def list_events(store: Store, req: ApiRequest) -> ApiResponse:
    """events.list (discovery doc, sync guide)."""
    cal = store.resolve(req.account, req.path_params["calendarId"])
    tz_name = response_zone(req, cal)
    sync_token = req.query.get("syncToken")
    for name in SYNC_FORBIDDEN if sync_token else ():
        if name in req.query:
            raise bad_request(f"The parameter {name} cannot be used with syncToken.", location=name)
    if sync_token and _bool(req, "showDeleted") is False:
        raise bad_request("showDeleted cannot be false with syncToken.", location="showDeleted")
    q = parse_query(req)
    sync_fp = _sync_fingerprint(req)
    state = read_sync_token(store, cal.id, sync_fp, sync_token) if sync_token else None

    def build(snapshot: int) -> list[Event]:
        versions = store.snapshot(cal.id, snapshot)
        events = [v.event for v in versions]
        if state is None:
            items = _full(events, q, cal, store)
        else:
            changed = {v.event["id"] for v in versions if v.seq > state.seq}
            items = _delta(events, changed, q, cal, state=state, store=store)
        return sorted((e for e in items if _matches(e, q)), key=_sort_key(q, cal))

    items, snapshot, last, body = _page(store, req, cal, build)
    if last and not any(name in req.query for name in NO_SYNC_TOKEN):
        window = state.window if state else (req.query.get("timeMin"), req.query.get("timeMax"))
        body["nextSyncToken"] = make_sync_token(store, cal.id, sync_fp, SyncState(snapshot, window))
    body["items"] = [_out(e, q.show_deleted, tz_name) for e in items]
    return ApiResponse(200, body)


def list_instances(store: Store, req: ApiRequest) -> ApiResponse:
    """events.instances: a series' instances; timeMin is inclusive here (discovery doc events.instances)."""
    cal = store.resolve(req.account, req.path_params["calendarId"])
    parent_id = req.path_params["eventId"]
    if store.get(cal.id, parent_id) is None:
        raise not_found()
    time_min, time_max = (
        parse_param(req.query.get("timeMin"), "timeMin"),
        parse_param(req.query.get("timeMax"), "timeMax"),
    )
    check_range(time_min, time_max)
    show_deleted = bool(_bool(req, "showDeleted"))
    original = parse_param(req.query.get("originalStart"), "originalStart")
    window, horizon = _bounds(time_min - timedelta(microseconds=1) if time_min else None, time_max, store)

    def build(snapshot: int) -> list[Event]:
        events = [v.event for v in store.snapshot(cal.id, snapshot)]
        _, parents, exceptions = split_series(events)
        parent = parents.get(parent_id)
        items = (
            series_items(parent, exceptions[parent_id], cal.time_zone, window, store, horizon=horizon)
            if parent
            else []
        )
        if original is not None:
            items = [
                e for e in items if instant(moment_of(e["originalStartTime"]), cal.time_zone) == original
            ]
        items = [e for e in items if show_deleted or e["status"] != "cancelled"]
        return sorted(items, key=lambda e: (instant(moment_of(e["start"]), cal.time_zone), e["id"]))

    items, _, _, body = _page(store, req, cal, build)
    tz_name = response_zone(req, cal)
    body["items"] = [_out(e, show_deleted, tz_name) for e in items]
    return ApiResponse(200, body)
