"""Graph's calendar routes: matching a request to a handler and answering it from the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from calmirror.emulator.graph import errors, events, queries, times
from calmirror.emulator.graph.delta import DeltaRounds, Page, Removed
from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.identity import Grant, Identity
from calmirror.emulator.graph.instances import Instance, instances, occurrence, split_occurrence_id
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse
from calmirror.emulator.graph.model import Calendar, JsonObject, StoredEvent
from calmirror.emulator.graph.paging import number, page_size, window
from calmirror.emulator.graph.responses import Responses
from calmirror.emulator.graph.store import GraphStore
from calmirror.emulator.graph.throttle import Throttle


@dataclass(frozen=True)
class Route:
    """A served route: HTTP method, Graph path template (`{user}` etc.) and handler name."""

    method: str
    template: str
    handler: str


USER = "/users/{user}"
CAL = USER + "/calendars/{calendar}"
ROUTES = (
    Route("GET", USER, "get_user"),
    Route("GET", USER + "/calendars", "list_calendars"),
    Route("GET", CAL, "get_calendar"),
    Route("GET", USER + "/calendar", "get_calendar"),
    *(
        route
        for base in (CAL, USER)
        for route in (
            Route("GET", base + "/events", "list_events"),
            Route("POST", base + "/events", "create_event"),
            Route("GET", base + "/events/{event}", "get_event"),
            Route("PATCH", base + "/events/{event}", "patch_event"),
            Route("DELETE", base + "/events/{event}", "delete_event"),
            Route("GET", base + "/events/{event}/instances", "list_instances"),
            Route("GET", base + "/calendarView", "calendar_view"),
            Route("GET", base + "/calendarView/delta", "delta"),
        )
    ),
    *(
        Route("POST", f"{base}/events/{{event}}/{action}", handler)
        for base in (CAL, USER)
        for action, handler in (
            ("accept", "accept_event"),
            ("tentativelyAccept", "tentatively_accept_event"),
            ("decline", "decline_event"),
        )
    ),
)


def match(template: str, path: str) -> dict[str, str] | None:
    """The path parameters if `path` fits `template`, else None."""
    want, have = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(have):
        return None
    found: dict[str, str] = {}
    for pattern, part in zip(want, have, strict=True):
        if pattern.startswith("{"):
            if not part:
                return None
            found[pattern[1:-1]] = part
        elif pattern.lower() != part.lower():  # Graph's segments are case-insensitive
            return None
    return found


class GraphApi(Responses):
    """Answers Graph calls from a store, checking the bearer token and the per-mailbox throttle first."""

    def __init__(self, store: GraphStore, identity: Identity, throttle: Throttle) -> None:
        self.store = store
        self.identity = identity
        self.throttle = throttle
        self.deltas = DeltaRounds()
        self.base_url = ""  # e.g. http://127.0.0.1:PORT/v1.0, for next and delta links

    def handle(self, request: GraphRequest) -> GraphResponse:
        """Answer one call; every failure is Graph's error body."""
        try:
            return self._dispatch(request)
        except GraphError as error:
            return GraphResponse(error.status, error.body(), error.headers())

    def _dispatch(self, request: GraphRequest) -> GraphResponse:
        """Authenticate, resolve `/me`, find the route and run its handler."""
        grant = self.identity.grant_for(request.headers.get("Authorization"))
        path = self._resolve_me(request.path, grant)
        allowed = False
        for route in ROUTES:
            params = match(route.template, path)
            if params is None:
                continue
            allowed = True
            if route.method != request.method:
                continue
            user = params["user"]
            if grant.user is not None and grant.user != user.lower():
                raise GraphError(
                    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
            self.throttle.admit(user)
            handler: Callable[..., GraphResponse] = getattr(self, route.handler)
            return handler(request, **params)
        if allowed:
            raise GraphError(405, "BadRequest", f"The HTTP method '{request.method}' is not allowed here.")
        segment = path.strip("/").split("/")[-1]
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    @staticmethod
    def _resolve_me(path: str, grant: Grant) -> str:
        """`/me/...` is the signed-in user's `/users/{id}/...`; app-only tokens have no `/me`."""
        head, _, rest = path.strip("/").partition("/")
        if head.lower() != "me":
            return path
        if grant.user is None:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        return f"/users/{grant.user}/{rest}"

    # --- helpers -----------------------------------------------------------------------------------

    def _render(self, request: GraphRequest, item: StoredEvent | Instance) -> JsonObject:
        """An event or occurrence in the `Prefer` zone, with the `$expand`ed extended properties."""
        instance = item if isinstance(item, Instance) else Instance(item.id, item, item.start, item.end)
        owner = self.store.mailboxes[self.store.calendars[instance.event.calendar_id].owner]
        zone = times.preferred_zone(request.headers.get("Prefer"))
        expand = queries.expansion(request.query.get("$expand"))
        return events.render_instance(instance, (owner.email, owner.name), zone, expand)

    def _instance(self, user: str, calendar: str | None, event_id: str) -> Instance:
        """The event or series occurrence an id names in the route's calendars."""
        calendar_ids = self._calendar_ids(user, calendar)
        split = split_occurrence_id(event_id)
        if split is None:
            event = self.store.event(calendar_ids, event_id)
            return Instance(event.id, event, event.start, event.end)
        found = occurrence(self.store.event(calendar_ids, split[0]), split[1])
        if found is None:
            raise errors.not_found(f"event {event_id}")
        return found

    def _calendar_ids(self, user: str, calendar: str | None) -> set[str]:
        """The calendars an event route covers: one, or all of the mailbox's for `/users/{id}/events`."""
        if calendar is not None:
            return {self.store.calendar(user, calendar).id}
        return {c.id for c in self.store.calendars_of(user)}

    def _page(self, request: GraphRequest, items: list[JsonObject]) -> GraphResponse:
        """A collection page by `$top`/`$skip` (or `odata.maxpagesize`), with `@odata.nextLink` if more."""
        size = page_size(request)
        skip = number(request.query.get("$skip", "0"), "$skip")
        answer: JsonObject = {"value": items[skip : skip + size]}
        if skip + size < len(items):
            query = {**request.query, "$skip": str(skip + size)}
            answer["@odata.nextLink"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        return GraphResponse(200, answer)

    # --- calendars ---------------------------------------------------------------------------------

    def get_user(self, request: GraphRequest, user: str) -> GraphResponse:
        """GET /users/{id} and /me: who the mailbox's user is (a tenant's address is both mail and UPN)."""
        mailbox = self.store.mailbox(user)
        body = {"id": mailbox.email, "displayName": mailbox.name, "mail": mailbox.email}
        return GraphResponse(200, body | {"userPrincipalName": mailbox.email})

    def list_calendars(self, request: GraphRequest, user: str) -> GraphResponse:
        """GET /users/{id}/calendars."""
        return self._page(request, [render_calendar(c, self.store) for c in self.store.calendars_of(user)])

    def get_calendar(self, request: GraphRequest, user: str, calendar: str | None = None) -> GraphResponse:
        """GET /users/{id}/calendars/{id} and /users/{id}/calendar (the default one)."""
        return GraphResponse(200, render_calendar(self.store.calendar(user, calendar), self.store))

    # --- events ------------------------------------------------------------------------------------

    def list_events(self, request: GraphRequest, user: str, calendar: str | None = None) -> GraphResponse:
        """GET .../events, with the extended-property `$filter`."""
        wanted = queries.event_filter(request.query.get("$filter"))
        found = [
            e
            for cal_id in sorted(self._calendar_ids(user, calendar))
            for e in self.store.events_in(cal_id)
            if queries.matches(e, wanted)
        ]
        return self._page(request, [self._render(request, e) for e in found])

    def create_event(self, request: GraphRequest, user: str, calendar: str | None = None) -> GraphResponse:
        """POST .../events: 201 with the event; a repeated transactionId answers the first event."""
        if not isinstance(request.body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        event, new = self.store.insert(self.store.calendar(user, calendar), request.body)
        return GraphResponse(201 if new else 200, self._render(request, event))

    def get_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """GET .../events/{id}."""
        return GraphResponse(200, self._render(request, self._instance(user, calendar, event)))

    def list_instances(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """GET .../events/{id}/instances?startDateTime&endDateTime: a series' occurrences in the window."""
        start, end = window(request.query)
        series = self.store.event(self._calendar_ids(user, calendar), event)
        return self._page(request, [self._render(request, i) for i in instances(series, start, end)])

    def patch_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """PATCH .../events/{id}: change the named properties."""
        if not isinstance(request.body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        found = self._instance(user, calendar, event)
        if found.original is not None:
            return GraphResponse(
                200, self._render(request, self.store.update_occurrence(found, request.body))
            )
        return GraphResponse(200, self._render(request, self.store.update(found.event, request.body)))

    def delete_event(
        self, request: GraphRequest, user: str, event: str, calendar: str | None = None
    ) -> GraphResponse:
        """DELETE .../events/{id}: 204."""
        found = self._instance(user, calendar, event)
        if found.original is None:
            self.store.delete(found.event)
        else:
            self.store.cancel_occurrence(found.master, found.original)
        return GraphResponse(204)

    # --- calendarView and delta --------------------------------------------------------------------

    def calendar_view(self, request: GraphRequest, user: str, calendar: str | None = None) -> GraphResponse:
        """GET .../calendarView?startDateTime&endDateTime: the events that overlap the window."""
        start, end = window(request.query)
        cal = self.store.calendar(user, calendar)
        found = [i for e in self.store.events_in(cal.id) for i in instances(e, start, end)]
        found.sort(key=lambda i: (i.start, i.id))
        return self._page(request, [self._render(request, i) for i in found])

    def delta(self, request: GraphRequest, user: str, calendar: str | None = None) -> GraphResponse:
        """GET .../calendarView/delta: a round of changes, paged by skip tokens, ended by a delta link."""
        cal = self.store.calendar(user, calendar)
        if "$skiptoken" in request.query:
            round_ = self.deltas.resume(request.query["$skiptoken"], cal.id, self.store, next_round=False)
        elif "$deltatoken" in request.query:
            round_ = self.deltas.resume(request.query["$deltatoken"], cal.id, self.store, next_round=True)
        else:
            round_ = self.deltas.begin(self.store, cal.id, *window(request.query))
        page = self.deltas.page(self.store, round_, page_size(request))
        return GraphResponse(200, self._delta_body(request, page))

    def _delta_body(self, request: GraphRequest, page: Page) -> JsonObject:
        """A delta page: changed events, `@removed` entries, and the next or delta link."""
        value = [
            {"id": c.id, "@removed": {"reason": "deleted"}}
            if isinstance(c, Removed)
            else self._render(request, c)
            for c in page.changes
        ]
        link = f"{self.base_url}{request.path}?"
        if page.skip_token is not None:
            return {"@odata.nextLink": link + urlencode({"$skiptoken": page.skip_token}), "value": value}
        return {"@odata.deltaLink": link + urlencode({"$deltatoken": page.delta_token}), "value": value}


def render_calendar(calendar: Calendar, store: GraphStore) -> JsonObject:
    """A calendar as Graph answers it."""
    owner = store.mailboxes[calendar.owner]
    return {
        "id": calendar.id,
        "name": calendar.name,
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": calendar.is_default,
        "changeKey": calendar.change_key,
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": True,
        "isRemovable": not calendar.is_default,
        "owner": {"name": owner.name, "address": owner.email},
    }
