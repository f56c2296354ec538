"""Graph change-notification subscriptions on events: validation, CRUD, and notifications really POSTed.

Behaviour follows https://learn.microsoft.com/graph/change-notifications-delivery-webhooks (validation
and delivery), https://learn.microsoft.com/graph/api/resources/subscription (properties, lifetimes)
and https://learn.microsoft.com/graph/change-notifications-lifecycle-events (lifecycle notifications).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from calmirror.emulator.graph.api import Route, match
from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.identity import Grant, Identity
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse
from calmirror.emulator.graph.model import JsonObject
from calmirror.emulator.graph.store import GraphStore
from calmirror.emulator.graph.webhooks import Delivery, Webhooks

MAX_EVENT_MINUTES = 10_080  # the maximum lifetime of a subscription on Outlook events
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
LIFECYCLE_EVENTS = frozenset({"reauthorizationRequired", "subscriptionRemoved", "missed"})
RESOURCES = (  # the event collections a subscription may watch; {calendar} None means every calendar
    "users/{user}/events",
    "users/{user}/calendars/{calendar}/events",
    "users/{user}/calendar/events",
)
FRACTION = re.compile(r"(\.\d{6})\d+")  # Graph writes 7 fraction digits; Python reads 6


@dataclass(frozen=True)
class Subscription:
    """One subscription: who made it, what it watches and where it notifies."""

    id: str
    resource: str
    user: str
    calendar_ids: frozenset[str]
    change_types: frozenset[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None = field(repr=False)
    expiration: datetime
    application_id: str
    creator_id: str

    def render(self) -> JsonObject:
        """The subscription as Graph answers it."""
        return {
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": ",".join(sorted(self.change_types)),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": iso(self.expiration),
            "creatorId": self.creator_id,
            "includeResourceData": False,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }


@dataclass
class SubscriptionHub:
    """The emulator's subscriptions and the background tasks that POST their notifications."""

    store: GraphStore
    identity: Identity
    allow_http: bool = False
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    webhooks: Webhooks = field(default_factory=Webhooks)

    def __post_init__(self) -> None:
        """Listen to the store's event writes."""
        self.store.listeners.append(self.event_changed)

    @staticmethod
    def routes() -> tuple[Route, ...]:
        """The Graph routes this hub serves (below `/v1.0`)."""
        return (
            Route("GET", "/subscriptions", "list"),
            Route("POST", "/subscriptions", "create"),
            Route("GET", "/subscriptions/{id}", "get"),
            Route("PATCH", "/subscriptions/{id}", "update"),
            Route("DELETE", "/subscriptions/{id}", "delete"),
        )

    def serves(self, path: str) -> bool:
        """Whether a path below `/v1.0` is one of this hub's."""
        return path.strip("/").split("/")[0].lower() == "subscriptions"

    async def handle(self, request: GraphRequest) -> GraphResponse:
        """Answer one subscription call; every failure is Graph's error body."""
        try:
            grant = self.identity.grant_for(request.headers.get("Authorization"))
            for route in self.routes():
                params = match(route.template, request.path)
                if params is not None and route.method == request.method:
                    handler: Callable[..., Awaitable[GraphResponse]] = getattr(self, "_" + route.handler)
                    return await handler(request, grant, **params)
            raise GraphError(405, "BadRequest", f"The HTTP method '{request.method}' is not allowed here.")
        except GraphError as error:
            return GraphResponse(error.status, error.body(), error.headers())

    # --- the routes --------------------------------------------------------------------------------

    async def _list(self, request: GraphRequest, grant: Grant) -> GraphResponse:
        """GET /subscriptions: the calling app's live subscriptions (for a user: the ones they made)."""
        mine = [s.render() for s in self._live() if self._owns(grant, s)]
        return GraphResponse(200, {"value": mine})

    async def _get(self, request: GraphRequest, grant: Grant, id: str) -> GraphResponse:
        """GET /subscriptions/{id}."""
        return GraphResponse(200, self._find(grant, id).render())

    async def _create(self, request: GraphRequest, grant: Grant) -> GraphResponse:
        """POST /subscriptions: validate the listener(s) first; 201 with the subscription."""
        body = request.body if isinstance(request.body, dict) else {}
        user, calendar_ids = self._resource(grant, body.get("resource"))
        changes = {c.strip() for c in str(body.get("changeType") or "").split(",") if c.strip()}
        if not changes or not changes <= CHANGE_TYPES:
            raise GraphError(400, "InvalidRequest", f"Invalid changeType '{body.get('changeType')}'.")
        url = self._url(body.get("notificationUrl"), "notificationUrl")
        lifecycle = body.get("lifecycleNotificationUrl")
        lifecycle = self._url(lifecycle, "lifecycleNotificationUrl") if lifecycle is not None else None
        state = body.get("clientState")
        if state is not None and (not isinstance(state, str) or len(state) > 255):
            raise GraphError(400, "InvalidRequest", "clientState must be a string of at most 255 characters.")
        subscription = Subscription(
            id=str(uuid.uuid4()),
            resource=str(body["resource"]),
            user=user,
            calendar_ids=calendar_ids,
            change_types=frozenset(changes),
            notification_url=url,
            lifecycle_url=lifecycle,
            client_state=state,
            expiration=expiration(body.get("expirationDateTime")),
            application_id=grant.client_id,
            creator_id=grant.user or grant.client_id,
        )
        for target in dict.fromkeys(u for u in (url, lifecycle) if u is not None):
            if not await self.webhooks.validate(subscription.id, target):
                raise GraphError(
                    400,
                    "ValidationError",
                    "Subscription validation request failed. Notification endpoint must respond with "
                    "200 OK to validation request.",
                )
        self.subscriptions[subscription.id] = subscription
        return GraphResponse(201, subscription.render())

    async def _update(self, request: GraphRequest, grant: Grant, id: str) -> GraphResponse:
        """PATCH /subscriptions/{id}: a new expirationDateTime (renewal) or notificationUrl."""
        found = self._find(grant, id)
        body = request.body if isinstance(request.body, dict) else {}
        if "expirationDateTime" in body:
            found = replace(found, expiration=expiration(body["expirationDateTime"]))
        if "notificationUrl" in body:
            found = replace(found, notification_url=self._url(body["notificationUrl"], "notificationUrl"))
        self.subscriptions[id] = found
        return GraphResponse(200, found.render())

    async def _delete(self, request: GraphRequest, grant: Grant, id: str) -> GraphResponse:
        """DELETE /subscriptions/{id}: 204."""
        del self.subscriptions[self._find(grant, id).id]
        return GraphResponse(204)

    # --- checks ------------------------------------------------------------------------------------

    def _live(self) -> list[Subscription]:
        """The subscriptions not yet expired; expired ones are forgotten (they send nothing more)."""
        now = datetime.now(UTC)
        for sub in [s for s in self.subscriptions.values() if s.expiration <= now]:
            del self.subscriptions[sub.id]
        return list(self.subscriptions.values())

    @staticmethod
    def _owns(grant: Grant, sub: Subscription) -> bool:
        """Whether a caller may see a subscription: same app, and for a user, one they made."""
        return sub.application_id == grant.client_id and (grant.user is None or grant.user == sub.user)

    def _find(self, grant: Grant, sub_id: str) -> Subscription:
        """A live subscription the caller owns, or Graph's 404."""
        found = next((s for s in self._live() if s.id == sub_id and self._owns(grant, s)), None)
        if found is None:
            raise GraphError(404, "ResourceNotFound", f"The object was not found. ({sub_id})")
        return found

    def _resource(self, grant: Grant, resource: Any) -> tuple[str, frozenset[str]]:
        """The mailbox and calendars a resource names (`/me/events`, `users/{id}/calendars/{id}/events`)."""
        path = str(resource or "").strip("/")
        head, _, rest = path.partition("/")
        if head.lower() == "me":
            if grant.user is None:
                raise GraphError(
                    400, "BadRequest", "/me request is only valid with delegated authentication flow."
                )
            path = f"users/{grant.user}/{rest}"
        for template in RESOURCES:
            params = match(template, path)
            if params is None:
                continue
            user = self.store.mailbox(params["user"]).email
            if grant.user is not None and grant.user != user:
                raise GraphError(403, "ExtensionError", "Access is denied. Check credentials and try again.")
            if "calendar" in params:
                return user, frozenset({self.store.calendar(user, params["calendar"]).id})
            if template.endswith("calendar/events"):
                return user, frozenset({self.store.calendar(user, None).id})
            return user, frozenset(c.id for c in self.store.calendars_of(user))
        raise GraphError(400, "InvalidRequest", f"Resource '{resource}' is not supported for subscriptions.")

    def _url(self, value: Any, name: str) -> str:
        """A listener URL: https, or http when the emulator allows it (loopback tests)."""
        scheme = urlsplit(str(value or "")).scheme
        if scheme == "https" or (scheme == "http" and self.allow_http):
            return str(value)
        raise GraphError(400, "InvalidRequest", f"The {name} must be an HTTPS URL: '{value}'.")

    # --- delivery ----------------------------------------------------------------------------------

    def event_changed(self, calendar_id: str, event_id: str, change_type: str) -> None:
        """Store listener: queue a change notification on every live subscription watching the calendar."""
        for sub in self._live():
            if calendar_id in sub.calendar_ids and change_type in sub.change_types:
                event = self.store.events.get(event_id)
                item = {
                    "subscriptionId": sub.id,
                    "subscriptionExpirationDateTime": iso(sub.expiration),
                    "changeType": change_type,
                    "resource": f"Users/{sub.user}/Events/{event_id}",
                    "resourceData": {
                        "@odata.type": "#Microsoft.Graph.Event",
                        "@odata.id": f"Users/{sub.user}/Events/{event_id}",
                        "@odata.etag": f'W/"{event.change_key}"' if event else None,
                        "id": event_id,
                    },
                    "clientState": sub.client_state,
                    "tenantId": self.tenant_id,
                }
                self._send(sub, sub.notification_url, item, change_type)

    def lifecycle(self, sub_id: str, event: str) -> None:
        """Send a lifecycle notification (subscriptionRemoved also removes the subscription)."""
        if event not in LIFECYCLE_EVENTS:
            raise ValueError(f"unknown lifecycle event {event!r}")
        sub = self.subscriptions[sub_id]
        if event == "subscriptionRemoved":
            del self.subscriptions[sub_id]
        if sub.lifecycle_url is None:
            return  # Graph sends lifecycle notifications only to subscriptions that asked for them
        item = {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": iso(sub.expiration),
            "lifecycleEvent": event,
            "resource": sub.resource,
            "clientState": sub.client_state,
            "tenantId": self.tenant_id,
        }
        self._send(sub, sub.lifecycle_url, item, event)

    def _send(self, sub: Subscription, url: str, item: JsonObject, kind: str) -> None:
        """POST one notification in the background; a change stops once the subscription is gone."""
        live = (lambda: sub.id in {s.id for s in self._live()}) if kind in CHANGE_TYPES else (lambda: True)
        self.webhooks.send(sub.id, url, {"value": [item]}, kind, live)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every POST to a listener so far (validations included), for tests."""
        return self.webhooks.deliveries

    async def drain(self) -> None:
        """Wait until every queued notification was delivered or given up (tests)."""
        await self.webhooks.drain()

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the HTTP session."""
        await self.webhooks.aclose()

    def user_revoked(self, user: str) -> None:
        """A user's grant was revoked: Graph removes their Outlook subscriptions (subscriptionRemoved)."""
        for sub in self._live():
            if sub.user == user.lower():
                self.lifecycle(sub.id, "subscriptionRemoved")


def iso(moment: datetime) -> str:
    """A UTC time as Graph writes it (seven fraction digits, Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def expiration(value: Any) -> datetime:
    """A requested expirationDateTime: in the future and at most 10,080 minutes away."""
    try:
        moment = datetime.fromisoformat(FRACTION.sub(r"\1", str(value)).replace("Z", "+00:00"))
    except ValueError:
        raise GraphError(400, "InvalidRequest", f"Invalid expirationDateTime '{value}'.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if moment <= now:
        raise GraphError(400, "InvalidRequest", "Subscription expiration can only be in the future.")
    if moment > now + timedelta(minutes=MAX_EVENT_MINUTES):
        raise GraphError(
            400,
            "ExtensionError",
            "Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription expiration "
            f"can only be {MAX_EVENT_MINUTES} minutes in the future.]",
        )
    return moment
