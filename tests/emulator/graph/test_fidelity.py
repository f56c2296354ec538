"""Everything the Graph emulator serves exists in Graph's published v1.0 model (msgraph-sdk)."""

from __future__ import annotations

from calmirror.emulator.graph import events, invitations, responses
from calmirror.emulator.graph.api import ROUTES
from calmirror.emulator.graph.server import GraphEmulator
from tests.emulator.graph_schema import check_body, check_response, graph_schema

# JSON batching is served by Graph's gateway, not modelled as a request builder in the SDK.
NOT_REQUEST_BUILDERS = {("POST", "/$batch")}


def test_every_served_route_is_a_graph_request_builder() -> None:
    """Each route template (`/users/{user}/...`, `/me/...` maps onto it) is a request-builder path."""
    schema = graph_schema()
    emulator = GraphEmulator(users=())
    for method, template in emulator.routes():
        if (method, template) not in NOT_REQUEST_BUILDERS:
            assert schema.has_route(template), template


def test_route_check_refuses_a_made_up_route() -> None:
    """The route check can fail: a misspelt segment is no request builder."""
    assert not graph_schema().has_route("/users/{user}/calendars/{calendar}/calendarview/delta")
    assert not graph_schema().has_route("/users/{user}/calendars/{calendar}/event")


def test_enum_tables_are_graphs() -> None:
    """The values the emulator accepts for showAs, sensitivity and attendee type are Graph's."""
    schema = graph_schema()
    assert schema.enum_values("freeBusyStatus") == events.SHOW_AS
    assert schema.enum_values("sensitivity") == events.SENSITIVITY
    assert schema.enum_values("attendeeType") == events.ATTENDEE_TYPES


def test_checker_refuses_a_misspelt_property() -> None:
    """An answer with a misspelt property, at the top or nested, fails the check the fixtures run."""
    schema = graph_schema()
    good = {
        "id": "x",
        "showAs": "busy",
        "start": {"dateTime": "2026-12-08T10:00:00.0000000", "timeZone": "UTC"},
        "attendees": [{"type": "required", "emailAddress": {"address": "a@example.com", "name": "A"}}],
    }
    assert check_response(schema, {"value": [good]}) == []
    assert check_response(schema, {**good, "showas": "busy"}) == ["showas: event has no property 'showas'"]
    nested = {**good, "start": {"dateTime": "2026-12-08T10:00:00", "timezone": "UTC"}}
    assert check_response(schema, nested) == ["start.timezone: DateTimeTimeZone has no property 'timezone'"]
    attendee = {**good, "attendees": [{"type": "required", "emailAdress": {}}]}
    assert check_response(schema, {"value": [attendee]}) == [
        "value[0].attendees[0].emailAdress: Attendee has no property 'emailAdress'"
    ]
    assert check_response(schema, {**good, "showAs": "away"}) == ["showAs: 'away' is not a FreeBusyStatus"]
    assert check_response(schema, {"value": [], "@odata.nextlink": "x"}) != []


ACTIONS = {
    "accept_event": "accepted",
    "tentatively_accept_event": "tentativelyAccepted",
    "decline_event": "declined",
}


def test_response_actions_take_graphs_bodies() -> None:
    """accept, tentativelyAccept and decline take exactly the properties of their PostRequestBody."""
    schema = graph_schema()
    actions = [route for route in ROUTES if route.handler in ACTIONS]
    assert len(actions) == 6  # each on /users/{id}/events/{id} and /users/{id}/calendars/{id}/events/{id}
    for route in actions:
        assert set(schema.body_properties(route.template)) == responses.BODY_KEYS[ACTIONS[route.handler]]
        assert ACTIONS[route.handler] in schema.enum_values("responseType")
    assert invitations.NOT_RESPONDED in schema.enum_values("responseType")


def test_body_check_refuses_a_misspelt_property() -> None:
    """The action body check can fail: a misspelt or mistyped property is named."""
    schema = graph_schema()
    accept = "/users/{user}/events/{event}/accept"
    assert check_body(schema, accept, {"comment": "ok", "sendResponse": True}) == []
    assert check_body(schema, accept, {"sendRespons": True}) == [f"sendRespons: no property of {accept}"]
    assert check_body(schema, accept, {"sendResponse": "yes"}) == ["sendResponse: 'yes' is not bool"]
