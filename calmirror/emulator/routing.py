"""Match `/calendar/v3/...` paths against Google's path templates and check query parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from calmirror.emulator.calendar.api import Route

# The standard parameters every method takes (discovery doc top-level `parameters`).
STANDARD_PARAMS = frozenset({"alt", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "userIp"})

# Query parameters per method, as the discovery document (rev 20261030) lists them; the fidelity
# test checks this table against the document.
_DOCUMENTED: Mapping[str, frozenset[str]] = {
    "calendar.calendarList.get": frozenset(),
    "calendar.calendarList.list": frozenset(
        {"maxResults", "minAccessRole", "pageToken", "showDeleted", "showHidden"}
        | {"showOwnOrganizationOnly", "syncToken"}
    ),
    "calendar.events.delete": frozenset({"sendNotifications", "sendUpdates"}),
    "calendar.events.get": frozenset({"alwaysIncludeEmail", "maxAttendees", "timeZone"}),
    "calendar.events.import": frozenset(
        {"conferenceDataVersion", "eventLabelVersion", "supportsAttachments"}
    ),
    "calendar.events.insert": frozenset(
        {"conferenceDataVersion", "eventLabelVersion", "maxAttendees", "sendNotifications", "sendUpdates"}
        | {"supportsAttachments"}
    ),
    "calendar.events.instances": frozenset(
        {"alwaysIncludeEmail", "maxAttendees", "maxResults", "originalStart", "pageToken", "showDeleted"}
        | {"timeMax", "timeMin", "timeZone"}
    ),
    "calendar.events.list": frozenset(
        {"alwaysIncludeEmail", "eventTypes", "iCalUID", "maxAttendees", "maxResults", "orderBy", "pageToken"}
        | {"privateExtendedProperty", "q", "sharedExtendedProperty", "showDeleted", "showHiddenInvitations"}
        | {"singleEvents", "syncToken", "timeMax", "timeMin", "timeZone", "updatedMin"}
    ),
    "calendar.events.move": frozenset({"destination", "sendNotifications", "sendUpdates"}),
    "calendar.events.patch": frozenset(
        {"alwaysIncludeEmail", "conferenceDataVersion", "eventLabelVersion", "maxAttendees"}
        | {"sendNotifications", "sendUpdates", "supportsAttachments"}
    ),
    "calendar.events.quickAdd": frozenset({"sendNotifications", "sendUpdates", "text"}),
    "calendar.freebusy.query": frozenset(),
    "calendar.channels.stop": frozenset(),
}
QUERY_PARAMS: Mapping[str, frozenset[str]] = {  # update takes patch's parameters, watch takes list's
    **_DOCUMENTED,
    "calendar.events.update": _DOCUMENTED["calendar.events.patch"],
    "calendar.events.watch": _DOCUMENTED["calendar.events.list"],
}


@dataclass(frozen=True)
class Match:
    """A route and the percent-decoded values of its path parameters."""

    route: Route
    path_params: dict[str, str]


class Router:
    """Find the route for an HTTP method and a path relative to `/calendar/v3/`."""

    def __init__(self, routes: Iterable[Route]) -> None:
        # Templates with more literal segments win ("events/watch" before "events/{eventId}").
        self.routes = sorted(routes, key=lambda r: -sum(not s.startswith("{") for s in r.path.split("/")))

    def match(self, http_method: str, raw_path: str) -> Match | None:
        """Return the matching route, or None (also for a path served under another HTTP method)."""
        segments = raw_path.strip("/").split("/")
        for route in self.routes:
            if route.http_method != http_method:
                continue
            params = _match_template(route.path.split("/"), segments)
            if params is not None:
                return Match(route, params)
        return None


def _match_template(template: list[str], segments: list[str]) -> dict[str, str] | None:
    """Match path segments against a template; parameters are percent-decoded per segment."""
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(template, segments, strict=True):
        if part.startswith("{"):
            if not segment:
                return None
            params[part[1:-1]] = unquote(segment)
        elif part != segment:
            return None
    return params


def unknown_params(method_id: str, names: Iterable[str]) -> list[str]:
    """Return the query parameter names the method does not take (Google answers 400).

    Methods without a table entry are not served; they answer 501 whatever their parameters.
    """
    if method_id not in QUERY_PARAMS:
        return []
    allowed = STANDARD_PARAMS | QUERY_PARAMS[method_id]
    return sorted({n for n in names if n not in allowed})


def unknown_param_body(name: str) -> dict[str, Any]:
    """The front end's 400 for an unknown query parameter (inferred from live Google answers)."""
    message = (
        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
        f"Field '{name}' could not be found in request message."
    )
    item = {"message": message, "reason": "invalid"}
    return {"error": {"code": 400, "message": message, "errors": [item], "status": "INVALID_ARGUMENT"}}
