"""Push notifications: events.watch channels, channels.stop, and webhook delivery (push guide)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from calmirror.emulator.calendar.api import ApiRequest, ApiResponse, Route
from calmirror.emulator.calendar.errors import ApiError, bad_request
from calmirror.emulator.calendar.store import Store
from calmirror.emulator.faults import PUSH_KINDS, Faults

DEFAULT_TTL_SECONDS = 604800  # events.watch: "Default is 604800 seconds"
RETRY_STATUSES = frozenset({500, 502, 503, 504})  # push guide: retried with exponential backoff; others final
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


@dataclass
class Channel:
    """A live notification channel on one calendar's events."""

    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    account: str
    address: str
    token: str | None
    expiration_ms: int
    number: int = 0


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt of a notification, for tests and the control API."""

    channel_id: str
    number: int
    state: str
    status: int  # 0 when the connection failed


@dataclass
class PushHub:
    """Watch channels and the background tasks that POST their notifications."""

    faults: Faults
    rng: random.Random
    allow_http: bool
    api_root: str = ""
    retry_base_seconds: float = 0.1
    max_attempts: int = 5
    channels: dict[str, Channel] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None
    _closed: bool = False

    def routes(self) -> tuple[Route, ...]:
        """The API routes this hub serves (discovery doc calendar.events.watch, calendar.channels.stop)."""
        return (
            Route("POST", "calendars/{calendarId}/events/watch", "calendar.events.watch", self.watch),
            Route("POST", "channels/stop", "calendar.channels.stop", self.stop_channel),
        )

    def watch(self, store: Store, req: ApiRequest) -> ApiResponse:
        """Open a channel and send its `sync` message (push guide, events.watch)."""
        calendar = store.resolve(req.account, req.path_params["calendarId"])
        body = req.body if isinstance(req.body, dict) else {}
        channel_id, address = body.get("id"), body.get("address")
        if not channel_id:
            raise ApiError(400, "required", "Required channel id", location="id")
        if body.get("type") not in ("web_hook", "webhook"):
            raise bad_request(f"Unknown channel type: {body.get('type')}", reason="invalid")
        if not address or urlsplit(str(address)).scheme not in ("https", "http"):
            raise bad_request(f"Invalid address: {address}", reason="invalid")
        if urlsplit(str(address)).scheme != "https" and not self.allow_http:
            raise bad_request(f"WebHook callback must be HTTPS: {address}", reason="push.webhookUrlNotHttps")
        if channel_id in self.channels:
            raise bad_request(f"Channel id not unique: {channel_id}", reason="channelIdNotUnique")
        channel = Channel(
            id=str(channel_id),
            resource_id=self._resource_id(calendar.id),
            resource_uri=f"{self.api_root}calendar/v3/calendars/{quote(calendar.id, safe='@')}/events",
            calendar_id=calendar.id,
            account=req.account,
            address=str(address),
            token=body.get("token"),
            expiration_ms=_expiration_ms(body),
        )
        self.channels[channel.id] = channel
        self._emit(channel, "sync")
        answer: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if channel.token is not None:
            answer["token"] = channel.token
        return ApiResponse(200, answer)

    def stop_channel(self, store: Store, req: ApiRequest) -> ApiResponse:
        """Stop a channel of this account: 204, or 404 for an unknown channel (push guide)."""
        body = req.body if isinstance(req.body, dict) else {}
        channel = self.channels.get(str(body.get("id")))
        if channel is None or channel.account != req.account or channel.resource_id != body.get("resourceId"):
            raise ApiError(404, "notFound", f"Channel '{body.get('id')}' not found for project 'emulator'")
        del self.channels[channel.id]
        return ApiResponse(204, None)

    def calendar_changed(self, calendar_id: str) -> None:
        """Store subscriber: queue an `exists` message on every live channel of the calendar (push guide)."""
        for channel in list(self.channels.values()):
            if channel.calendar_id == calendar_id:
                self._emit(channel, "exists")

    def _emit(self, channel: Channel, state: str) -> None:
        """Number a message (1 for sync, then increasing with gaps) and deliver it in the background."""
        if self._closed or not self._live(channel):  # a stopped emulator sends nothing more
            return
        # push guide: "1 for the sync message", later numbers increase but are not consecutive.
        channel.number = 1 if state == "sync" else channel.number + self.rng.randint(2, 40)
        rules = self.faults.fire("calendar.events.watch", channel.account, PUSH_KINDS)
        kinds = {rule.kind: rule for rule in rules}
        if "push_drop" in kinds:
            return
        delay = sum(r.seconds for r in rules if r.kind in ("push_delay", "push_reorder"))
        copies = 2 if "push_duplicate" in kinds else 1
        for _ in range(copies):
            task = asyncio.get_running_loop().create_task(
                self._deliver(channel, channel.number, state, delay)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, channel: Channel, number: int, state: str, delay: float) -> None:
        """POST one empty-bodied notification; retry 500/502/503/504 and connection errors with backoff."""
        if delay:
            await asyncio.sleep(delay)
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": formatdate(channel.expiration_ms / 1000, usegmt=True),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json; utf-8",
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(self.retry_base_seconds * 2 ** (attempt - 1))
            if not self._live(channel):  # stopped or expired while held back or retried
                return
            status = await self._post(channel.address, headers)
            self.deliveries.append(Delivery(channel.id, number, state, status))
            if status and status not in RETRY_STATUSES:  # success, or a failure that is not retried
                return

    def _live(self, channel: Channel) -> bool:
        """Whether the channel may still send; an expired one is forgotten (push guide: nothing after it)."""
        if time.time() * 1000 >= channel.expiration_ms:
            self.channels.pop(channel.id, None)
        return self.channels.get(channel.id) is channel

    async def _post(self, address: str, headers: dict[str, str]) -> int:
        """POST once and return the status, or 0 when the connection failed."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(address, data=b"", headers=headers) as resp:
                return resp.status
        except (TimeoutError, aiohttp.ClientError):
            return 0

    async def aclose(self) -> None:
        """Cancel pending deliveries, close the HTTP session, and queue nothing from now on."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def drain(self) -> None:
        """Wait until every queued notification was delivered or given up (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _resource_id(self, calendar_id: str) -> str:
        """An opaque id, stable per calendar (push guide: "version-stable")."""
        digest = hashlib.sha256(calendar_id.encode()).digest()[:20]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _expiration_ms(body: dict[str, Any]) -> int:
    """The more restrictive of the requested expiration and now + `params.ttl` (push guide, events.watch)."""
    params = body.get("params") or {}
    try:
        ttl = int(params.get("ttl", DEFAULT_TTL_SECONDS))
        requested = int(body["expiration"]) if body.get("expiration") else None
    except (TypeError, ValueError) as error:
        raise bad_request("Invalid value for ttl or expiration.", reason="invalid") from error
    expiration = int(time.time() * 1000) + max(ttl, 1) * 1000
    return min(expiration, requested) if requested else expiration
