"""Watch channels on the source calendars: registering, renewing, retrying, adopting strays, stopping."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from calmirror.config import CalendarRef
from calmirror.daemon.pushretry import RETRY_BASE_SECONDS, PushFailure, check_seconds, renew_margin
from calmirror.daemon.tasks import BackgroundTasks
from calmirror.daemon.webhook import PATH, make_token
from calmirror.errors import Failure, NotFoundError, ProviderError
from calmirror.google.client import CalendarClient, Channel

log = logging.getLogger(__name__)

MAX_REMEMBERED_STOPS = 1000
WEBHOOKS_OFF = "no WEBHOOK_BASE_URL"  # the polling-only reason when webhooks are not configured
NO_KEY = "no WEBHOOK_API_KEY"


@dataclass(frozen=True)
class Watch:
    """A live channel calmirror opened on one calendar."""

    ref: CalendarRef
    channel: Channel


class ChannelManager:
    """Keeps one live watch channel on each source calendar, or says why a calendar is polled only."""

    def __init__(
        self,
        clients: Mapping[int, CalendarClient],
        sources: Sequence[CalendarRef],
        *,
        key: str | None,
        base_url: str | None,
        ttl_seconds: int,
        retry_seconds: float = RETRY_BASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = clients
        self.sources = tuple(dict.fromkeys(sources))
        self.key = key
        self.address = base_url.rstrip("/") + PATH if base_url else None
        self.ttl_seconds = ttl_seconds
        self.retry_seconds = retry_seconds  # the first wait after a refused watch; it doubles each time
        self.clock = clock
        self.watches: dict[CalendarRef, Watch] = {}
        self.failures: dict[CalendarRef, PushFailure] = {}
        self._by_id: dict[str, Watch] = {}
        self._pending: set[str] = set()  # ids being registered: their sync message may come first
        self._expired: set[CalendarRef] = set()  # calendars whose channel expired before its renewal
        self._stopped: OrderedDict[str, None] = OrderedDict()
        self._stops = BackgroundTasks("channel stop")
        self._registering = BackgroundTasks("channel registration")
        self._closing = False

    @property
    def enabled(self) -> bool:
        """Tell whether webhooks are configured at all."""
        return self.key is not None and self.address is not None

    @property
    def renew_margin(self) -> float:
        """Return how long before expiry a channel is replaced."""
        return renew_margin(self.ttl_seconds)

    @property
    def check_seconds(self) -> float:
        """Return how often renewals and retries are looked at."""
        return check_seconds(self.ttl_seconds, self.retry_seconds)

    async def start(self) -> None:
        """Open a channel on every source calendar (a failure leaves that calendar polled only)."""
        if self.enabled:
            await asyncio.gather(*(self.register(ref) for ref in self.sources))

    async def renew_due(self) -> None:
        """Replace channels close to expiry and retry calendars whose backoff has passed."""
        now = self.clock()
        self._drop_expired(now)
        due = [ref for ref in self.sources if self._due(ref, now)]
        await asyncio.gather(*(self.register(ref) for ref in due))

    def _due(self, ref: CalendarRef, now: float) -> bool:
        """Tell whether a calendar needs a new channel now: after a failure only once its backoff passed."""
        failure = self.failures.get(ref)
        if failure is not None:
            return failure.retry_at <= now
        watch = self.watches.get(ref)
        return watch is None or watch.channel.expiration.timestamp() - now < self.renew_margin

    def _drop_expired(self, now: float) -> None:
        """Forget channels Google has let expire, so their calendars show as polled only."""
        for ref, watch in list(self.watches.items()):
            if watch.channel.expiration.timestamp() <= now:
                del self.watches[ref]
                self._expired.add(ref)
                self._by_id.pop(watch.channel.id, None)
                self._remember_stop(watch.channel.id)  # a late notification is ours, not a stray
                log.warning("channel %s on %s expired; polling it", watch.channel.id, ref)

    async def register(self, ref: CalendarRef) -> bool:
        """Open a new channel on a calendar, then stop the one it replaces; False when Google refused.

        The work runs as a task of its own that a cancelled caller does not cancel: a watch Google
        may already have created is then recorded, and stop_all waits for it and stops it.
        """
        if self.key is None or self.address is None or self._closing:
            return False
        return await asyncio.shield(self._registering.spawn(self._register(ref, self.key, self.address)))

    async def _register(self, ref: CalendarRef, key: str, address: str) -> bool:
        """Watch a calendar through a new channel, record it, and stop the channel it replaces."""
        channel_id = str(uuid.uuid4())
        token = make_token(key, channel_id, ref)  # masked in logs by its shape (calmirror.logs)
        self._pending.add(channel_id)
        try:
            channel = await self.clients[ref.account_id].watch_events(
                ref.calendar_id,
                channel_id=channel_id,
                address=address,
                token=token,
                ttl_seconds=self.ttl_seconds,
            )
        except ProviderError as exc:
            self._failed(ref, exc)
            return False
        finally:
            self._pending.discard(channel_id)
        old = self.watches.get(ref)
        watch = Watch(ref, channel)
        self.watches[ref], self._by_id[channel_id] = watch, watch
        self.failures.pop(ref, None)
        self._expired.discard(ref)
        log.info("watching %s through channel %s until %s", ref, channel_id, channel.expiration.isoformat())
        if old is not None:
            await self._stop(old.ref, old.channel.id, old.channel.resource_id)
        return True

    def find(self, channel_id: str) -> Watch | None:
        """Return the live watch with this channel id, or None."""
        return self._by_id.get(channel_id)

    def is_ours(self, channel_id: str) -> bool:
        """Tell whether this process opened the channel (live, being opened, or already stopped)."""
        return channel_id in self._by_id or channel_id in self._pending or channel_id in self._stopped

    def stop_stray(self, ref: CalendarRef, channel_id: str, resource_id: str) -> None:
        """Stop, in the background and once, an authentic channel this process did not open (a crashed
        predecessor's); the notification's resource id is the only one known."""
        if self.is_ours(channel_id) or ref.account_id not in self.clients:
            return
        self._remember_stop(channel_id)
        log.info("stopping channel %s on %s left by an earlier process", channel_id, ref)
        self._stops.spawn(self._stop(ref, channel_id, resource_id))

    def expiry(self, ref: CalendarRef) -> datetime | None:
        """Return when the calendar's channel expires, or None when it has none."""
        watch = self.watches.get(ref)
        return watch.channel.expiration if watch else None

    def polling_reason(self, ref: CalendarRef) -> str | None:
        """Return, in words, why a calendar is polled only, or None while a channel watches it."""
        if self.address is None:
            return WEBHOOKS_OFF
        if self.key is None:
            return NO_KEY
        if ref in self.watches:
            return None
        failure = self.failures.get(ref)
        if failure is None:
            return "channel expired, renewing" if ref in self._expired else "not registered yet"
        why = _refusal(failure.error)
        return f"channel expired, renewal failing: {why}" if ref in self._expired else why

    async def stop_all(self, within: float) -> None:
        """Let registrations finish, then stop every live channel; cancel what is late after `within` s."""
        self._closing = True
        started = time.monotonic()
        await self._registering.close(within)  # a cancelled one's channel, if Google made it, expires
        within = max(0.1, within - (time.monotonic() - started))
        watches = list(self.watches.values())
        self.watches.clear()
        self._by_id.clear()
        for w in watches:
            self._stops.spawn(self._stop(w.ref, w.channel.id, w.channel.resource_id))
        late = await self._stops.close(within)
        if late:
            log.warning("%d channel stop(s) unfinished after %.0fs; they expire", late, within)

    async def _stop(self, ref: CalendarRef, channel_id: str, resource_id: str) -> None:
        """Stop one channel; one that Google no longer knows counts as stopped."""
        self._remember_stop(channel_id)
        self._by_id.pop(channel_id, None)
        try:
            await self.clients[ref.account_id].stop_channel(channel_id, resource_id)
        except NotFoundError:
            pass
        except ProviderError as exc:
            log.warning("stopping channel %s on %s failed: %s", channel_id, ref, exc)

    def _failed(self, ref: CalendarRef, exc: ProviderError) -> None:
        """Record a refused watch and when to retry (exponential backoff); the calendar is polled."""
        now = self.clock()
        failure = self.failures[ref] = PushFailure.after(
            self.failures.get(ref), exc, ref, self.retry_seconds, now
        )
        log.warning("cannot watch %s (%s), polling it; retrying in %.0fs", ref, exc, failure.retry_at - now)

    def _remember_stop(self, channel_id: str) -> None:
        """Remember a stopped channel id (bounded), so its late notifications cause no second stop."""
        self._stopped[channel_id] = None
        while len(self._stopped) > MAX_REMEMBERED_STOPS:
            self._stopped.popitem(last=False)


def _refusal(failure: Failure) -> str:
    """Return why Google refused a watch, in words: the address, the calendar, the account, or a hiccup."""
    answer = f"{failure.status} {failure.reason}" if failure.status else failure.answer
    if (failure.reason or "").startswith("push."):  # Google's reasons about the webhook address itself
        return f"webhook address refused by Google ({answer}); check WEBHOOK_BASE_URL and its domain"
    if failure.kind == "auth":
        return f"account {failure.account_id} needs re-authorisation ({answer})"
    if failure.kind in ("not_found", "forbidden"):
        return f"the account may not watch this calendar ({answer})"
    if failure.kind in ("transient", "rate_limited", "quota"):
        return f"Google did not open the channel for now ({answer}); retrying"
    return f"Google refused the watch ({answer})"
