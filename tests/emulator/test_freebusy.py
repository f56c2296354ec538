"""freebusy.query through the route handler (freebusy.query, discovery doc FreeBusyResponse)."""

from __future__ import annotations

from tests.emulator.store_api import BOB, Api, reason

RANGE = {"timeMin": "2026-10-20T00:00:00Z", "timeMax": "2026-10-21T00:00:00Z"}


def test_busy_periods_merge_and_skip_free_or_cancelled() -> None:
    """Busy comes from opaque, live events, clipped and merged; transparent ones are free (freebusy.query)."""
    api = Api()
    api.insert("2026-10-19T23:00:00Z", "2026-10-20T01:00:00Z")
    api.insert("2026-10-20T09:00:00Z", "2026-10-20T10:00:00Z")
    api.insert("2026-10-20T09:30:00Z", "2026-10-20T11:00:00Z")
    api.insert("2026-10-20T12:00:00Z", "2026-10-20T13:00:00Z", transparency="transparent")
    gone = api.insert("2026-10-20T14:00:00Z", "2026-10-20T15:00:00Z")
    api.ok("events.delete", eventId=gone["id"])
    answer = api.ok("freebusy.query", body={**RANGE, "items": [{"id": "primary"}]})
    assert answer["kind"] == "calendar#freeBusy"
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2026-10-20T00:00:00Z", "end": "2026-10-20T01:00:00Z"},
        {"start": "2026-10-20T09:00:00Z", "end": "2026-10-20T11:00:00Z"},
    ]


def test_recurring_events_are_expanded() -> None:
    """Busy periods include the instances of recurring events (freebusy.query: expanded recurrences)."""
    api = Api()
    body = {
        "start": {"dateTime": "2026-10-19T10:00:00+02:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-10-19T11:00:00+02:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    api.ok("events.insert", body=body)
    busy = api.ok("freebusy.query", body={**RANGE, "items": [{"id": "primary"}]})["calendars"]["primary"][
        "busy"
    ]
    assert busy == [{"start": "2026-10-20T08:00:00Z", "end": "2026-10-20T09:00:00Z"}]


def test_exceptions_of_a_series_replace_their_instances() -> None:
    """A moved instance is busy at its new time, a cancelled one is free."""
    api = Api()
    body = {
        "id": "series00",
        "start": {"dateTime": "2026-10-19T10:00:00+02:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-10-19T11:00:00+02:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    api.ok("events.insert", body=body)
    moved = {"start": {"dateTime": "2026-10-20T14:00:00Z"}, "end": {"dateTime": "2026-10-20T15:00:00Z"}}
    api.ok("events.patch", eventId="series00_20261020T080000Z", body=moved)
    api.ok("events.delete", eventId="series00_20261021T080000Z")
    days = {"timeMin": "2026-10-19T00:00:00Z", "timeMax": "2026-10-22T00:00:00Z"}
    answer = api.ok("freebusy.query", body={**days, "items": [{"id": "primary"}]})
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2026-10-19T08:00:00Z", "end": "2026-10-19T09:00:00Z"},
        {"start": "2026-10-20T14:00:00Z", "end": "2026-10-20T15:00:00Z"},
    ]


def test_unknown_calendar_is_an_item_error_with_200() -> None:
    """An unknown or invisible calendar answers HTTP 200 with errors notFound for that item."""
    api = Api()
    answer = api.ok("freebusy.query", body={**RANGE, "items": [{"id": "ghost@example.com"}, {"id": BOB}]})
    for cid in ("ghost@example.com", BOB):
        assert answer["calendars"][cid] == {
            "errors": [{"domain": "global", "reason": "notFound"}],
            "busy": [],
        }


def test_empty_range_is_400() -> None:
    """timeMax <= timeMin answers 400 timeRangeEmpty (freebusy.query, errors guide)."""
    status, body = Api().call(
        "freebusy.query", body={"timeMin": RANGE["timeMax"], "timeMax": RANGE["timeMin"]}
    )
    assert (status, reason(body)) == (400, "timeRangeEmpty")
