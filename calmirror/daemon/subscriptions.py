"""Graph subscriptions on the Microsoft source calendars: creating, renewing, recreating, sweeping, deleting.

Graph's subscription API: https://learn.microsoft.com/graph/api/resources/subscription (an Outlook
event subscription lives at most 10,080 minutes and is renewed by PATCHing expirationDateTime).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from calmirror.config import CalendarRef
from calmirror.daemon.channels import NO_KEY, WEBHOOKS_OFF
from calmirror.daemon.graphhook import PATH, make_client_state, verify_client_state
from calmirror.daemon.graphrecords import Subscribed, iso, listed, refusal, subscribed
from calmirror.daemon.pushretry import RETRY_BASE_SECONDS, PushFailure, check_seconds, renew_margin
from calmirror.daemon.tasks import BackgroundTasks
from calmirror.errors import NotFoundError, ProviderError
from calmirror.microsoft import GraphClient, MicrosoftCalendars

log = logging.getLogger(__name__)

MAX_MINUTES = 10_080  # Graph's longest lifetime for a subscription on Outlook events
MARGIN_MINUTES = 10  # asked for less than the maximum, so clock skew never makes Graph refuse it
MAX_LISTED = 20  # pages of /subscriptions read at startup (Graph pages them by 100 or so)
CHANGE_TYPES = "created,updated,deleted"


class SubscriptionManager:
    """Keeps one live Graph subscription on each Microsoft source calendar, or says why it is polled."""

    def __init__(
        self,
        calendars: Mapping[int, MicrosoftCalendars],
        sources: Sequence[CalendarRef],
        *,
        key: str | None,
        base_url: str | None,
        ttl_seconds: int,
        retry_seconds: float = RETRY_BASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.calendars = calendars  # resolves "primary" to the default calendar's id, as reads do
        self.clients: dict[int, GraphClient] = {n: provider.client for n, provider in calendars.items()}
        self.sources = tuple(dict.fromkeys(ref for ref in sources if ref.account_id in calendars))
        self.key = key
        self.address = base_url.rstrip("/") + PATH if base_url else None
        self.ttl_seconds = min(ttl_seconds, (MAX_MINUTES - MARGIN_MINUTES) * 60)
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.live: dict[CalendarRef, Subscribed] = {}
        self.failures: dict[CalendarRef, PushFailure] = {}
        self._by_id: dict[str, Subscribed] = {}
        self._work = BackgroundTasks("subscription")
        self._locks: dict[CalendarRef, asyncio.Lock] = {}  # one renewal or creation per calendar at once
        self._closing = False
        self._tried: set[CalendarRef] = set()  # calendars asked for before: a new subscription leaves a gap
        # Queues a read of a calendar (the dispatcher's, set once it exists): a subscription made again
        # after a removal, a lost one or a refusal missed the changes in between.
        self.catch_up: Callable[[CalendarRef], None] = lambda ref: None

    @property
    def enabled(self) -> bool:
        """Tell whether webhooks are configured and there is a Microsoft source to watch."""
        return self.key is not None and self.address is not None and bool(self.sources)

    @property
    def renew_margin(self) -> float:
        """Return how long before expiry a subscription is renewed."""
        return renew_margin(self.ttl_seconds)

    @property
    def check_seconds(self) -> float:
        """Return how often renewals and retries are looked at."""
        return check_seconds(self.ttl_seconds, self.retry_seconds)

    async def start(self) -> None:
        """Delete a dead process's subscriptions, then subscribe to every source calendar."""
        if not self.enabled:
            return
        await asyncio.gather(*(self._sweep(n) for n in {ref.account_id for ref in self.sources}))
        await asyncio.gather(*(self.ensure(ref) for ref in self.sources))

    async def renew_due(self) -> None:
        """Renew subscriptions close to expiry and retry calendars whose backoff has passed."""
        now = self.clock()
        for ref, sub in list(self.live.items()):
            if sub.expiration.timestamp() <= now:  # Graph has dropped it: polled until made again
                self._forget(ref)
        await asyncio.gather(*(self.ensure(ref) for ref in self.sources if self._due(ref, now)))

    def _due(self, ref: CalendarRef, now: float) -> bool:
        """Tell whether a calendar needs its subscription made or renewed now."""
        failure = self.failures.get(ref)
        if failure is not None:
            return failure.retry_at <= now
        sub = self.live.get(ref)
        return sub is None or sub.expiration.timestamp() - now < self.renew_margin

    async def ensure(self, ref: CalendarRef, *, force: bool = False) -> bool:
        """Renew the calendar's subscription (PATCH) when due (or `force`d), or make one if it has none.

        The work is a task of its own a cancelled caller does not cancel (a made subscription is
        then recorded, and deleted at shutdown).
        """
        if self.key is None or self.address is None or self._closing:
            return False
        return await asyncio.shield(self._work.spawn(self._ensure(ref, self.key, self.address, force)))

    async def _ensure(self, ref: CalendarRef, key: str, address: str, force: bool) -> bool:
        """Renew or create under the calendar's lock, so a renewal and a lifecycle event make one, not two."""
        async with self._locks.setdefault(ref, asyncio.Lock()):
            if not force and not self._due(ref, self.clock()):
                return ref in self.live  # renewed or made meanwhile
            return await self._renew_or_create(ref, key, address)

    async def _renew_or_create(self, ref: CalendarRef, key: str, address: str) -> bool:
        """PATCH the live subscription, or POST a new one when there is none or Graph lost it."""
        client = self.clients[ref.account_id]
        again = ref in self._tried
        self._tried.add(ref)
        expiry = iso(datetime.fromtimestamp(self.clock(), UTC) + timedelta(seconds=self.ttl_seconds))
        sub = self.live.get(ref)
        try:
            if sub is not None and await self._renewed(client, sub, expiry):
                return True
            await self._create(client, ref, key, address, expiry)
        except ProviderError as exc:
            self._failed(ref, exc)
            return False
        if again:  # Graph's advice: after making a subscription again, read what changed meanwhile
            self.catch_up(ref)
        return True

    async def _renewed(self, client: GraphClient, sub: Subscribed, expiry: str) -> bool:
        """PATCH a subscription's expiry; False (and forgotten) when Graph no longer knows it."""
        try:
            answer = await client.request(
                "PATCH",
                f"/subscriptions/{sub.id}",
                json={"expirationDateTime": expiry},
                name="subscriptions.update",
            )
        except NotFoundError:
            log.warning("subscription %s on %s is gone; making a new one", sub.id, sub.ref)
            self._forget(sub.ref)
            return False
        self._record(sub.ref, answer, "subscriptions.update")
        return True

    async def _create(
        self, client: GraphClient, ref: CalendarRef, key: str, address: str, expiry: str
    ) -> None:
        """POST a new subscription on the calendar's own events and record it."""
        # One calendar's events by its id: the mailbox's `/me/events` would notify every calendar's
        # changes, calmirror's own block writes into another calendar of the mailbox included.
        path = await self.calendars[ref.account_id].calendar_path(ref.calendar_id)
        body = {
            "changeType": CHANGE_TYPES,
            "notificationUrl": address,
            "lifecycleNotificationUrl": address,
            "resource": f"{path}/events",
            "expirationDateTime": expiry,
            "clientState": make_client_state(key, ref),  # masked in logs: it is never logged
        }
        answer = await client.request("POST", "/subscriptions", json=body, name="subscriptions.create")
        self._record(ref, answer, "subscriptions.create")

    def _record(self, ref: CalendarRef, answer: Any, method: str) -> None:
        """Keep the subscription Graph answered with."""
        sub = subscribed(ref, answer, method)
        self._forget(ref)
        self.live[ref], self._by_id[sub.id] = sub, sub
        self.failures.pop(ref, None)
        log.info("subscribed to %s through %s until %s", ref, sub.id, sub.expiration.isoformat())

    def _forget(self, ref: CalendarRef) -> None:
        """Drop a calendar's subscription from the books (expired or removed by Graph)."""
        sub = self.live.pop(ref, None)
        if sub is not None:
            self._by_id.pop(sub.id, None)

    def find(self, sub_id: str) -> Subscribed | None:
        """Return the live subscription with this id, or None."""
        return self._by_id.get(sub_id)

    def authentic(self, sub_id: str, state: str | None) -> Subscribed | None:
        """Return our live subscription when the clientState is the one made for its calendar."""
        sub = self._by_id.get(sub_id)
        if sub is None or self.key is None or not verify_client_state(self.key, sub.ref, state):
            return None
        return sub

    def lifecycle(self, sub: Subscribed, event: str) -> None:
        """Act on a lifecycle notification in the background: renew, or make the subscription again."""
        if event == "reauthorizationRequired":
            self._work.spawn(self.ensure(sub.ref, force=True))
        elif event == "subscriptionRemoved":
            self._forget(sub.ref)  # polled until the new one is made
            self._work.spawn(self.ensure(sub.ref))

    def expiry(self, ref: CalendarRef) -> datetime | None:
        """Return when the calendar's subscription expires, or None when it has none."""
        sub = self.live.get(ref)
        return sub.expiration if sub else None

    def polling_reason(self, ref: CalendarRef) -> str | None:
        """Return, in words, why a calendar is polled only, or None while a subscription watches it."""
        if self.address is None:
            return WEBHOOKS_OFF
        if self.key is None:
            return NO_KEY
        if ref in self.live:
            return None
        failure = self.failures.get(ref)
        return "not subscribed yet" if failure is None else refusal(failure.error)

    async def _sweep(self, account_id: int) -> None:
        """Delete the subscriptions an earlier process of this deployment left on an account."""
        assert self.key is not None
        client = self.clients[account_id]
        mine = [ref for ref in self.sources if ref.account_id == account_id]
        path: str | None = "/subscriptions"
        stale: list[str] = []
        try:
            for _ in range(MAX_LISTED):
                if path is None:
                    break
                page = await client.request("GET", path, name="subscriptions.list")
                found, path = listed(page, account_id)
                stale += [str(sub.get("id")) for sub in found if self._ours(sub, mine)]
            for sub_id in stale:
                await self._delete(client, sub_id)
        except ProviderError as exc:
            log.warning("cannot list the subscriptions of account %d: %s", account_id, exc)
        if stale:
            log.info(
                "deleted %d subscription(s) an earlier process left on account %d", len(stale), account_id
            )

    def _ours(self, found: dict[str, Any], mine: list[CalendarRef]) -> bool:
        """Tell whether a listed subscription is this deployment's on this address (an earlier process's)."""
        assert self.key is not None
        if found.get("notificationUrl") != self.address or not isinstance(found.get("id"), str):
            return False
        state = found.get("clientState")
        state = state if isinstance(state, str) else None
        return any(verify_client_state(self.key, ref, state) for ref in mine)

    async def stop_all(self, within: float) -> None:
        """Let renewals finish, then delete every live subscription; give up after `within` seconds."""
        self._closing = True
        started = time.monotonic()
        await self._work.close(within)
        within = max(0.1, within - (time.monotonic() - started))
        subs = list(self.live.values())
        self.live.clear()
        self._by_id.clear()
        deletes = BackgroundTasks("subscription delete")
        for sub in subs:
            deletes.spawn(self._delete(self.clients[sub.ref.account_id], sub.id))
        late = await deletes.close(within)
        if late:
            log.warning("%d subscription delete(s) unfinished after %.0fs; they expire", late, within)

    async def _delete(self, client: GraphClient, sub_id: str) -> None:
        """Delete one subscription; one Graph no longer knows counts as deleted."""
        try:
            await client.request("DELETE", f"/subscriptions/{sub_id}", name="subscriptions.delete")
        except NotFoundError:
            pass
        except ProviderError as exc:
            log.warning("deleting subscription %s failed: %s", sub_id, exc)

    def _failed(self, ref: CalendarRef, exc: ProviderError) -> None:
        """Record a refused subscription and when to retry (exponential backoff); the calendar is polled."""
        now = self.clock()
        failure = self.failures[ref] = PushFailure.after(
            self.failures.get(ref), exc, ref, self.retry_seconds, now
        )
        log.warning(
            "cannot subscribe to %s (%s), polling it; retrying in %.0fs", ref, exc, failure.retry_at - now
        )
