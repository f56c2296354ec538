"""CalendarClient: one account's async Google Calendar API, every blocking call on its own threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2

from calmirror.config import GoogleAccount
from calmirror.errors import AuthNeededError, GoneError, NoAnswerError, ProviderError, SyncTokenExpiredError
from calmirror.google.answers import checked_answer, unknown_if_unanswered
from calmirror.google.batch import BATCH_LIMIT, PartResult, request_for, run_batch
from calmirror.google.credentials import credentials_for
from calmirror.google.discovery import CalendarApi, calendar_api
from calmirror.google.errors import translate
from calmirror.google.quota import QuotaLimiter, units_for
from calmirror.google.resources import Channel, EventPages, channel_from, rfc3339
from calmirror.google.writes import Delete, Insert, Update, Write, WriteOutcome, method_id
from calmirror.retry import RetryPolicy

__all__ = ["METHODS", "CalendarClient", "Channel", "EventPages", "RequestObserver"]

T = TypeVar("T")
log = logging.getLogger(__name__)

Request = Callable[[CalendarApi], Any]  # the shared resources -> googleapiclient HttpRequest
Work = Callable[[CalendarApi, Any], T]  # blocking work on a worker thread, given the thread's Http
# Told of every attempt: (method id, the translated failure or None, seconds); used for metrics. A part
# of a batch is told under its own method with seconds None: it is no HTTP request of its own (the
# batch is, told as "batch"), so counts per method see a write's failure whether batched or not.
RequestObserver = Callable[[str, ProviderError | None, float | None], None]
# Every method id a client tells its observers of, so metrics can show each before its first call.
METHODS = (
    "calendar.calendarList.list",
    "calendar.events.list",
    "calendar.events.get",
    "calendar.events.insert",
    "calendar.events.update",
    "calendar.events.delete",
    "calendar.events.watch",
    "calendar.channels.stop",
    "batch",
)


class CalendarClient:
    """One account's Google Calendar client: retried, quota-limited, translated, never blocking the loop."""

    def __init__(
        self,
        account: GoogleAccount,
        *,
        api_root: str,
        token_uri: str,
        retry: RetryPolicy | None = None,
        limiter: QuotaLimiter | None = None,
        timeout: float = 30.0,
        max_threads: int = 4,
        api: CalendarApi | None = None,
        calls: asyncio.Semaphore | None = None,
    ) -> None:
        """Make a client; runtime() hands every client one shared `api` and one process-wide `calls` bound."""
        self.account_id = account.id
        self.email = account.email
        self.needs_reauth: str | None = None
        self._api_root = api_root
        self._credentials = credentials_for(account, token_uri)
        self._retry = retry or RetryPolicy()
        self._limiter = limiter or QuotaLimiter()
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_threads, thread_name_prefix=f"google-{account.id}")
        # Held from a call's start until its thread is free, so a deadline times the call, not a queue.
        self._slots = asyncio.Semaphore(max_threads)
        self._hung = 0  # timed-out calls whose threads still run the request
        self._told_hung = False  # whether the wait for those threads was logged
        # Bounds the calls on worker threads across all clients: hundreds of threads building requests
        # and parsing answers at once would starve the event loop (and the webhook) of the GIL.
        self._calls = calls
        self._api = api
        self._api_lock = threading.Lock()
        self._local = threading.local()  # httplib2.Http is not thread-safe: one per worker thread
        self._https: list[httplib2.Http] = []
        self._observers: list[RequestObserver] = []

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` about every attempt from now on (a retried call is several attempts)."""
        self._observers.append(observer)

    async def list_calendars(self) -> list[dict[str, Any]]:
        """Return the account's calendar list entries."""

        def page(page_token: str | None, service: Any) -> Any:
            return service.calendar_list.list(maxResults=250, pageToken=page_token)

        listing = await self._list_pages("calendar.calendarList.list", page)
        return list(listing.events)

    async def list_events(
        self,
        calendar_id: str,
        *,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        single_events: bool = True,
        show_deleted: bool = False,
        private_property: tuple[str, str] | None = None,
        page_size: int = 2500,
    ) -> EventPages:
        """List a calendar's events in a window, following every page."""
        params = {
            "calendarId": calendar_id,
            "timeMin": rfc3339(time_min),
            "timeMax": rfc3339(time_max),
            "singleEvents": single_events,
            "showDeleted": show_deleted,
            "privateExtendedProperty": "=".join(private_property) if private_property else None,
            "maxResults": page_size,
        }

        def page(page_token: str | None, service: Any) -> Any:
            return service.events.list(**params, pageToken=page_token)

        return await self._list_pages("calendar.events.list", page)

    async def list_changes(
        self, calendar_id: str, sync_token: str, *, single_events: bool = True
    ) -> EventPages:
        """List what changed since `sync_token`; SyncTokenExpiredError when Google wants a full list."""

        def page(page_token: str | None, service: Any) -> Any:
            return service.events.list(
                calendarId=calendar_id,
                syncToken=sync_token,
                singleEvents=single_events,
                maxResults=2500,
                pageToken=page_token,
            )

        try:
            return await self._list_pages("calendar.events.list", page)
        except GoneError as exc:
            # Any 410 on a sync-token listing means the same thing: list the window again.
            raise SyncTokenExpiredError(
                str(exc), status=exc.status, reason=exc.reason, account_id=self.account_id
            ) from None

    async def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """Return one event (cancelled ones included)."""
        return await self._call(
            "calendar.events.get", lambda s: s.events.get(calendarId=calendar_id, eventId=event_id)
        )

    async def insert_event(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an event with the client-chosen id in body["id"]; DuplicateError when it exists."""
        return await self._write(Insert(calendar_id, body))

    async def update_event(self, calendar_id: str, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace an event with body."""
        return await self._write(Update(calendar_id, event_id, body))

    async def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete an event; GoneError when it was already deleted."""
        await self._write(Delete(calendar_id, event_id))

    async def watch_events(
        self, calendar_id: str, *, channel_id: str, address: str, token: str, ttl_seconds: int
    ) -> Channel:
        """Open a push channel on a calendar's events."""
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(ttl_seconds)},
        }
        answer = await self._call(
            "calendar.events.watch", lambda s: s.events.watch(calendarId=calendar_id, body=body)
        )
        return channel_from(answer, calendar_id, ttl_seconds)

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Stop a push channel."""
        body = {"id": channel_id, "resourceId": resource_id}
        await self._call("calendar.channels.stop", lambda s: s.channels.stop(body=body))

    async def apply_writes(self, writes: Sequence[Write]) -> list[WriteOutcome]:
        """Send writes in batches of at most 50, one outcome per write in order; transient failures resent."""
        outcomes: list[WriteOutcome] = [WriteOutcome(w, None, None) for w in writes]
        pending = list(range(len(writes)))
        unanswered: set[int] = set()  # writes an attempt of which got no answer: they may have happened

        async def send_pending() -> None:
            nonlocal pending
            for start in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[start : start + BATCH_LIMIT]
                results = await self._send_batch([writes[i] for i in chunk])
                for i, (event, error) in zip(chunk, results, strict=True):
                    outcomes[i] = WriteOutcome(writes[i], event, error)
                    if isinstance(error, NoAnswerError):
                        unanswered.add(i)
            retryable = [(i, e) for i in pending if (e := outcomes[i].error) is not None and e.retryable]
            pending = [i for i, _ in retryable]
            if retryable:
                # Raising the part error with the longest Retry-After makes the policy wait for it.
                raise max((e for _, e in retryable), key=lambda e: e.retry_after or 0.0)

        with contextlib.suppress(ProviderError):  # retries exhausted: each outcome holds its last error
            await self._retry.call(send_pending)
        return [unknown_if_unanswered(o) if i in unanswered else o for i, o in enumerate(outcomes)]

    async def aclose(self) -> None:
        """Stop the worker threads and close their connections."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        for http in self._https:
            http.close()

    async def _send_batch(
        self, writes: list[Write]
    ) -> list[tuple[dict[str, Any] | None, ProviderError | None]]:
        """Send one batch; a failure of the whole batch becomes every part's error."""
        units = sum(units_for(method_id(w)) for w in writes)
        sent = self.needs_reauth is None  # else _attempt refuses before any request: no part was tried
        results: list[tuple[dict[str, Any] | None, ProviderError | None]]
        try:
            raw: list[PartResult] = await self._attempt("batch", partial(run_batch, writes=writes), units)
        except ProviderError as error:
            results = [(None, error)] * len(writes)
        else:
            results = [
                (event, self._translate(exc, method_id(write)) if exc is not None else None)
                for write, (event, exc) in zip(writes, raw, strict=True)
            ]
        if sent:
            self._tell_parts(writes, [error for _, error in results])
        return results

    async def _write(self, write: Write) -> dict[str, Any]:
        """Send one write on its own, built exactly as a batch part is (sendUpdates=none)."""
        return await self._call(method_id(write), partial(request_for, write=write))

    async def _list_pages(self, method: str, page: Callable[[str | None, CalendarApi], Any]) -> EventPages:
        """Follow nextPageToken, each page its own retried call; return items and the final sync token."""
        items: list[dict[str, Any]] = []
        page_token: str | None = None
        while True:
            answer = await self._call(method, partial(page, page_token))
            items.extend(answer.get("items", []))
            page_token = answer.get("nextPageToken")
            if not page_token:
                return EventPages(tuple(items), answer.get("nextSyncToken"))

    async def _call(self, method: str, request: Request) -> dict[str, Any]:
        """Execute one API request under the retry policy; return its JSON object ({} for none)."""
        return await self._retry.call(
            partial(
                self._attempt,
                method,
                lambda api, http: checked_answer(method, request(api).execute(http=http)),
                units_for(method),
            )
        )

    async def _attempt(self, method: str, work: Work[T], units: int) -> T:
        """Make one attempt: spend quota, run `work(api, http)` on a worker thread, translate any failure."""
        if self.needs_reauth is not None:
            raise AuthNeededError(
                f"{method}: account needs re-authorisation ({self.needs_reauth})",
                reason=self.needs_reauth,
                account_id=self.account_id,
            )
        await self._limiter.acquire(units)
        await self._take_slot()
        started = time.monotonic()
        waited: asyncio.Future[T] | None = None  # once set, its thread releases the slot
        try:
            async with self._calls or contextlib.nullcontext():
                waited = self._on_free_thread(work)
                # The socket timeout bounds each read; the overall deadline also covers a token refresh.
                answer = await asyncio.wait_for(waited, timeout=self._timeout * 2)
        except Exception as exc:
            error = self._translate(exc, method)
            if error is None:
                raise
            self._tell(method, error, started)
            raise error from None  # the original text may carry URLs; the translation carries no secret
        finally:
            if waited is None:
                self._slots.release()
        self._tell(method, None, started)
        return answer

    async def _take_slot(self) -> None:
        """Wait for a free worker thread, saying so when calls that timed out still hold every one."""
        if self._slots.locked() and self._hung and not self._told_hung:
            self._told_hung = True  # once until the hung threads are free again, not once per call
            log.warning(
                "account %s: waiting for a worker thread, %d timed-out calls still hold theirs",
                self.account_id,
                self._hung,
            )
        await self._slots.acquire()

    def _on_free_thread(self, work: Work[T]) -> asyncio.Future[T]:
        """Run `work` on a worker thread; the slot the caller took is released when that thread is free.

        A call that times out leaves its thread running the hung request; keeping the slot until then
        makes the slots count threads really in use, so no later call's deadline waits for a thread.
        """
        loop = asyncio.get_running_loop()
        running = self._executor.submit(self._on_thread, work)
        waited = asyncio.wrap_future(running, loop=loop)
        state = {"free": False, "hung": False}

        def thread_free() -> None:
            state["free"] = True
            self._hung -= state["hung"]
            self._told_hung = self._told_hung and self._hung > 0
            self._slots.release()

        def call_over(_: object) -> None:
            if waited.cancelled() and not state["free"]:
                state["hung"] = True
                self._hung += 1

        def thread_done(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for the slot
                loop.call_soon_threadsafe(thread_free)

        running.add_done_callback(thread_done)
        waited.add_done_callback(call_over)
        return waited

    def _tell(self, method: str, error: ProviderError | None, started: float) -> None:
        """Report one attempt to the observers."""
        for observer in self._observers:
            observer(method, error, time.monotonic() - started)

    def _tell_parts(self, writes: list[Write], errors: list[ProviderError | None]) -> None:
        """Report each part of a sent batch under its own method, with no duration of its own."""
        for write, error in zip(writes, errors, strict=True):
            for observer in self._observers:
                observer(method_id(write), error, None)

    def _translate(self, exc: BaseException, method: str) -> ProviderError | None:
        """Translate a failure and remember a rejected refresh token: only this account stops."""
        error = translate(exc, method, self.account_id)
        if isinstance(error, AuthNeededError) and error.status is None and error.reason:
            self.needs_reauth = error.reason
        return error

    def _on_thread(self, work: Work[T]) -> T:
        """Worker-thread side: refresh the token if due (under the lock), then do the blocking work."""
        authorized, request = self._thread_http()
        self._credentials.ensure_valid(request)
        return work(self._shared_api(), authorized)

    def _thread_http(self) -> tuple[google_auth_httplib2.AuthorizedHttp, google_auth_httplib2.Request]:
        """Return this worker thread's authorized Http and token-refresh request, made on first use."""
        if not hasattr(self._local, "authorized"):
            http = httplib2.Http(timeout=self._timeout)
            self._https.append(http)
            self._local.authorized = google_auth_httplib2.AuthorizedHttp(self._credentials, http=http)
            self._local.request = google_auth_httplib2.Request(http)
        return self._local.authorized, self._local.request

    def _shared_api(self) -> CalendarApi:
        """Return the calendar resources, building them (once, on a worker thread) when none were given."""
        if self._api is None:
            with self._api_lock:
                if self._api is None:
                    self._api = calendar_api(self._api_root)
        return self._api
