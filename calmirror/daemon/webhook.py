"""Google push notifications: reading their headers, and the HMAC channel tokens that authenticate them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from calmirror.config import CalendarRef

PATH = "/api/v1/webhooks/google-calendar"
MAX_BODY_BYTES = 4096  # Google sends no body at all
STATES = ("sync", "exists", "not_exists")
RejectionReason = Literal[
    "missing_headers",
    "bad_token",
    "unknown_channel",
    "wrong_resource",
    "body_too_large",
    "rate_limited",
    "bad_state",
    "bad_body",  # a Graph notification that is not Graph's JSON (calmirror/daemon/graphhook.py)
]
REJECTIONS: tuple[RejectionReason, ...] = get_args(RejectionReason)  # calmirror_webhook_rejections_total
_VERSION = "v1"
MAX_TOKEN_LENGTH = 256  # Google's limit on a channel token
_ACCOUNT_ID = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts "²", which int() refuses


@dataclass(frozen=True)
class Notification:
    """The headers of one push notification that matter to calmirror."""

    channel_id: str
    resource_id: str
    state: str
    token: str | None


@dataclass(frozen=True)
class Rejection:
    """Why a request to the webhook is refused: a metric reason and the HTTP status to answer."""

    reason: RejectionReason
    status: int


def parse_headers(headers: Mapping[str, str]) -> Notification | Rejection:
    """Read a notification's headers, or say why not (required ones missing, unknown state)."""
    channel_id = headers.get("X-Goog-Channel-ID", "").strip()
    resource_id = headers.get("X-Goog-Resource-ID", "").strip()
    state = headers.get("X-Goog-Resource-State", "").strip()
    if not (channel_id and resource_id and state):
        return Rejection("missing_headers", 400)
    if state not in STATES:
        return Rejection("bad_state", 400)
    token = headers.get("X-Goog-Channel-Token", "").strip() or None
    return Notification(channel_id, resource_id, state, token)


def make_token(key: str, channel_id: str, ref: CalendarRef) -> str:
    """Return the channel token: the watched account and calendar, and an HMAC binding them to the channel.

    A process that never created the channel can still authenticate it and learn what it watches,
    so nothing about channels needs to be stored.
    """
    calendar = _b64(ref.calendar_id.encode())
    return f"{_VERSION}.{ref.account_id}.{calendar}.{_mac(key, channel_id, ref)}"


def verify_token(key: str, channel_id: str, token: str | None) -> CalendarRef | None:
    """Return the calendar an authentic token watches, or None for a missing, malformed or forged one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not _ACCOUNT_ID.fullmatch(parts[1]) or not parts[2]:
        return None
    try:
        calendar_id = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    ref = CalendarRef(account_id=int(parts[1]), calendar_id=calendar_id)
    if not hmac.compare_digest(parts[3].encode(), _mac(key, channel_id, ref).encode()):
        return None
    return ref


def _mac(key: str, channel_id: str, ref: CalendarRef) -> str:
    """Return the HMAC-SHA256 over the channel id, account id and calendar id, URL-safe base64."""
    message = "\n".join((_VERSION, channel_id, str(ref.account_id), ref.calendar_id)).encode()
    return _b64(hmac.new(key.encode(), message, hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    """Return URL-safe base64 without padding (no dots, so the token splits unambiguously)."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class RateLimiter:
    """A token bucket per channel: a burst of `burst`, refilled at `rate` per second (bounded memory)."""

    def __init__(
        self, *, rate: float = 10.0, burst: int = 20, max_channels: int = 1024, clock: Callable[[], float]
    ) -> None:
        self.rate, self.burst, self.max_channels, self.clock = rate, burst, max_channels, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # id -> (tokens, at)

    def allow(self, channel_id: str) -> bool:
        """Take one token from the channel's bucket; False when it is empty."""
        now = self.clock()
        tokens, at = self._buckets.pop(channel_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[channel_id] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_channels:
            self._buckets.popitem(last=False)
        return allowed
