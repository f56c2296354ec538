"""Blocking helpers run on a worker thread: turn writes into requests and send them as one batch."""

from __future__ import annotations

from typing import Any

from calmirror.google.discovery import CalendarApi
from calmirror.google.writes import Delete, Insert, Update, Write

# Google documents larger batches, but its Calendar page long said 50 and clients still cap there.
BATCH_LIMIT = 50

PartResult = tuple[dict[str, Any] | None, BaseException | None]


def request_for(api: CalendarApi, write: Write) -> Any:
    """Return the googleapiclient request for one write; no write ever notifies attendees."""
    events = api.events
    match write:
        case Insert(calendar_id=calendar_id, body=body):
            return events.insert(calendarId=calendar_id, body=body, sendUpdates="none")
        case Update(calendar_id=calendar_id, event_id=event_id, body=body):
            return events.update(calendarId=calendar_id, eventId=event_id, body=body, sendUpdates="none")
        case Delete(calendar_id=calendar_id, event_id=event_id):
            return events.delete(calendarId=calendar_id, eventId=event_id, sendUpdates="none")


def run_batch(api: CalendarApi, http: Any, writes: list[Write]) -> list[PartResult]:
    """Send up to BATCH_LIMIT writes as one batch HTTP request; return each part's result in order."""
    if len(writes) > BATCH_LIMIT:
        raise ValueError(f"a batch holds at most {BATCH_LIMIT} calls, got {len(writes)}")
    results: list[PartResult] = [(None, None)] * len(writes)

    def collect(request_id: str, response: Any, exception: BaseException | None) -> None:
        event = response if isinstance(response, dict) and response else None
        results[int(request_id)] = (event, exception)

    batch = api.root.new_batch_http_request(callback=collect)
    for index, write in enumerate(writes):
        batch.add(request_for(api, write), request_id=str(index))
    batch.execute(http=http)
    return results
