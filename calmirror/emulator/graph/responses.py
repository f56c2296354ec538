"""Meeting responses: `accept`, `tentativelyAccept` and `decline` on an invitation's copy or one occurrence.

The attendee's copy takes the response; with `sendResponse` (default true) the organizer's event records
it in `attendees[].status`: https://learn.microsoft.com/graph/api/event-accept,
https://learn.microsoft.com/graph/api/event-tentativelyaccept, https://learn.microsoft.com/graph/api/event-decline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from calmirror.emulator.graph.errors import GraphError, invalid_request
from calmirror.emulator.graph.instances import Instance, occurrence
from calmirror.emulator.graph.invitations import organizer_event, shown_as
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse
from calmirror.emulator.graph.model import Attendee, StoredEvent, new_change_key
from calmirror.emulator.graph.store import GraphStore, single_copy

# The body each action takes (its PostRequestBody in Graph's model; tests/emulator/graph checks this).
BODY_KEYS = {
    "accepted": frozenset({"comment", "sendResponse"}),
    "tentativelyAccepted": frozenset({"comment", "sendResponse", "proposedNewTime"}),
    "declined": frozenset({"comment", "sendResponse", "proposedNewTime"}),
}


class Responses:
    """The response actions GraphApi serves; GraphApi supplies `store` and `_instance` (its own lookup
    of the event or occurrence an id names), so this mixin declares them without a body of its own."""

    store: GraphStore
    _instance: Callable[[str, str | None, str], Instance]

    def accept_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """POST .../events/{id}/accept."""
        return self._respond(request, self._instance(user, calendar, event), "accepted")

    def tentatively_accept_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """POST .../events/{id}/tentativelyAccept."""
        return self._respond(request, self._instance(user, calendar, event), "tentativelyAccepted")

    def decline_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """POST .../events/{id}/decline."""
        return self._respond(request, self._instance(user, calendar, event), "declined")

    def _respond(self, request: GraphRequest, instance: Instance, response: str) -> GraphResponse:
        """Check the body, record the response, answer 202 Accepted."""
        body = request.body if request.body is not None else {}
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        for key in body:
            if key not in BODY_KEYS[response] and not key.startswith("@odata."):
                raise GraphError(
                    400, "RequestBodyRead", f"The property '{key}' does not exist on the action."
                )
        send = body.get("sendResponse", True)
        if not isinstance(send, bool) or not isinstance(body.get("comment", ""), str):
            raise invalid_request("sendResponse must be true or false and comment a string")
        respond(self.store, instance, response, send=send)
        return GraphResponse(202)


def respond(store: GraphStore, instance: Instance, response: str, *, send: bool) -> None:
    """Set an attendee's response on their copy (or one occurrence), and on the organizer's if sent."""
    copy = instance.master
    if copy.organizer is None:
        raise invalid_request("You can't respond to a meeting you organized.")
    now = store.clock()
    organizer = organizer_event(store, copy)
    show = shown_as(response, organizer.show_as if organizer is not None else "busy")
    answered: dict[str, Any] = {"response": response, "response_time": now, "show_as": show}
    if instance.original is None:
        store.rewrite(copy, **answered)
    else:
        changed = replace(own_occurrence(copy, instance), **answered, change_key=new_change_key())
        store.rewrite(copy, exceptions={**copy.exceptions, instance.original: changed})
    if send and organizer is not None:
        address = store.calendars[copy.calendar_id].owner
        tell_organizer(store, organizer, instance, address, response=response, now=now)


def own_occurrence(series: StoredEvent, instance: Instance) -> StoredEvent:
    """An occurrence as an exception of its series: the exception it is, or a copy of the occurrence."""
    return instance.event if instance.series is not None else single_copy(series, instance)


def tell_organizer(
    store: GraphStore,
    organizer: StoredEvent,
    instance: Instance,
    address: str,
    *,
    response: str,
    now: datetime,
) -> None:
    """Record an attendee's response in the organizer's event (or that occurrence of the series)."""

    def with_status(attendees: tuple[Attendee, ...]) -> tuple[Attendee, ...]:
        """The attendees with this one's response."""
        return tuple(
            replace(a, response=response, time=now) if a.address.lower() == address else a for a in attendees
        )

    if instance.original is None:
        store.rewrite(organizer, attendees=with_status(organizer.attendees))
        return
    theirs = occurrence(organizer, instance.original)
    if theirs is not None:
        base = own_occurrence(organizer, theirs)
        changed = replace(base, attendees=with_status(base.attendees), change_key=new_change_key())
        store.rewrite(organizer, exceptions={**organizer.exceptions, instance.original: changed})
