"""Microsoft Graph change notifications: validation tokens, bounded body parsing, and clientState HMACs.

Graph's webhook contract: https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
(validation echo, 202 for notifications, clientState); lifecycle notifications:
https://learn.microsoft.com/graph/change-notifications-lifecycle-events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from calmirror.config import CalendarRef

PATH = "/api/v1/webhooks/microsoft-graph"
MAX_BODY_BYTES = 64 * 1024  # the same limit Caddy puts on webhook bodies
MAX_ITEMS = 100  # Graph batches notifications; more than this in one POST is not Graph
MAX_VALIDATION_TOKEN = 1024  # Graph's tokens are a short sentence with a request id
MAX_FIELD = 512  # a subscription id, clientState or event name longer than this is not Graph's
CHANGES = ("created", "updated", "deleted")
LIFECYCLE = ("reauthorizationRequired", "subscriptionRemoved", "missed")
_VERSION = "g1"


@dataclass(frozen=True)
class GraphItem:
    """One notification of a Graph POST: its subscription, clientState, and change or lifecycle event."""

    subscription_id: str
    client_state: str | None = field(repr=False)
    event: (
        str | None
    )  # a changeType, or a lifecycle event when `lifecycle`; None when calmirror knows neither
    lifecycle: bool


@dataclass(frozen=True)
class Notifications:
    """The readable items of a notification POST, and how many of its items were not Graph's shape."""

    items: tuple[GraphItem, ...]
    unreadable: int


def validation_echo(token: str) -> str | None:
    """Return the text to echo for a validation token, or None when it is not one Graph would send."""
    if not token or len(token) > MAX_VALIDATION_TOKEN:
        return None
    if not token.isascii() or not token.isprintable():
        return None
    return token


def parse_items(raw: bytes) -> Notifications | None:
    """Read a notification body `{"value": [...]}`; None when it is not one (junk, wrong shape, too many).

    An odd item does not refuse the others: Graph batches several subscriptions' notifications into
    one POST and retries the whole POST for up to 4 hours on any answer but a 2xx
    (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks), so one item of an
    event added later would otherwise silence every subscription until the poll.
    """
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, list) or not 0 < len(value) <= MAX_ITEMS:
        return None
    items = [item for item in map(_item, value) if item is not None]
    return Notifications(tuple(items), len(value) - len(items)) if items else None


def _item(entry: object) -> GraphItem | None:
    """One item of the `value` list (its event None when unknown), or None when a field is missing or odd."""
    if not isinstance(entry, dict):
        return None
    sub_id, state = entry.get("subscriptionId"), entry.get("clientState")
    lifecycle = "lifecycleEvent" in entry
    event = entry.get("lifecycleEvent") if lifecycle else entry.get("changeType")
    if not isinstance(sub_id, str) or not 0 < len(sub_id) <= MAX_FIELD:
        return None
    if state is not None and (not isinstance(state, str) or len(state) > MAX_FIELD):
        return None
    known = event in (LIFECYCLE if lifecycle else CHANGES)
    return GraphItem(sub_id, state, str(event) if known else None, lifecycle)


def make_client_state(key: str, ref: CalendarRef) -> str:
    """Return the clientState for a calendar's subscription: an HMAC over the account and calendar.

    A process that never created the subscription can still tell it is this deployment's, and for
    which calendar (Graph keeps clientState to 128 characters, too few for a calendar id itself).
    """
    message = "\n".join((_VERSION, str(ref.account_id), ref.calendar_id)).encode()
    mac = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return f"{_VERSION}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def verify_client_state(key: str, ref: CalendarRef, state: str | None) -> bool:
    """Tell, in constant time, whether a clientState is the one this key makes for the calendar."""
    if state is None or len(state) > MAX_FIELD:
        return False
    return hmac.compare_digest(state.encode(), make_client_state(key, ref).encode())
