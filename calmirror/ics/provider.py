"""An ICS feed (ICS_ACCOUNT_<N>) as a CalendarProvider: a read-only calendar polled over HTTP(S).

Decisions:

- A feed has one calendar, FEED_CALENDAR_ID. Every read is one GET of the whole feed, hashed,
  scanned and parsed by calmirror/ical off the event loop (a large feed takes a second of CPU).
- Floating times are read in the zone the feed's X-WR-TIMEZONE names (Google, Apple and Outlook
  exports state it; Windows names mapped), else in the provider's `zone` (None: UTC); a feed naming
  no known zone is logged once.
- The cursor carries the answer's ETag, Last-Modified and body hash. `read_changes` sends them as
  If-None-Match/If-Modified-Since: 304 is an empty delta; a 200 whose body hash is unchanged is one
  too; otherwise the fresh read is compared with the events the provider returned last time, and the
  delta states every change (tombstones for vanished ids), so the engine never needs a second request.
  A cursor that is not the provider's latest (or after a restart) raises SyncTokenExpiredError.
- A failed read raises the error tree and changes nothing: never partial data. A body that stops
  before END:VCALENDAR is a TruncatedDataError, retried with its GET like a broken connection. A
  feed that had events and now has no VEVENT at all raises UnreadableDataError reason "empty" (a
  publishing fault must not delete every block); a feed that was always empty is fine. This process
  remembers "had events", so after a restart a feed emptied on purpose is accepted, and so is a
  broken export: nothing in an empty body tells them apart, and then only the deletion guard holds.
- 401 and 403 mean the address (the feed's only credential) was reset or revoked: `needs_reauth`
  says so until a read succeeds, and the fix asks for the current address.
- The address carries the feed's secret: it is in no log line, exception or repr, which name
  "the ICS feed of account N" instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from calmirror.config import FEED_CALENDAR_ID, ProviderName
from calmirror.engine import BlockOutcome, BlockWrite, Delta, Listing, SourceEvent, Window
from calmirror.errors import (
    FEED_READ_ONLY,
    FEED_REFUSED,
    ForbiddenError,
    NotFoundError,
    ProviderError,
    SyncTokenExpiredError,
    TransientError,
    UnreadableDataError,
)
from calmirror.ical import FeedEvents, read_feed
from calmirror.ics.cursor import FeedCursor
from calmirror.ics.diff import changed_events
from calmirror.ics.fetch import MAX_FEED_BYTES, FeedAnswer, fetch_feed
from calmirror.retry import RetryPolicy

log = logging.getLogger(__name__)

GET_METHOD = "ics.get"  # the one request a feed is read with, as metrics name it
# Told of every request attempt: (method, the translated failure or None, seconds).
RequestObserver = Callable[[str, ProviderError | None, float | None], None]


_VEVENT = re.compile(rb"^BEGIN:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class _Fresh:
    """One answered body: its hash and validators, and its events in the window (None: the body last read)."""

    digest: str
    etag: str | None
    last_modified: str | None
    events: tuple[SourceEvent, ...] | None
    has_events: bool  # it holds a VEVENT, in the window or not


@dataclass(frozen=True)
class _Read:
    """The provider's last successful read: its cursor, window and the events it returned."""

    cursor: FeedCursor
    window: Window
    events: dict[str, SourceEvent]


class IcsProvider:
    """One ICS_ACCOUNT_<N>: an iCalendar feed read over HTTP(S); it lists and polls, never writes."""

    def __init__(
        self,
        account_id: int,
        url: str | SecretStr,
        *,
        owner: Iterable[str] = (),
        zone: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_bytes: int = MAX_FEED_BYTES,
    ) -> None:
        """Make the provider; without a `session` it opens its own on first use (close it with close())."""
        self._account_id = account_id
        self._url = url if isinstance(url, SecretStr) else SecretStr(url)
        self._owner = frozenset(email.lower() for email in owner)
        self._zone = zone
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._max_bytes = max_bytes
        self._name = f"the ICS feed of account {account_id}"
        self._needs_reauth: str | None = None
        self._last: _Read | None = None
        self._had_events = False
        self._zone_told = False  # whether a missing or unknown zone of the feed was logged
        self._lock = asyncio.Lock()  # one read at a time: each read replaces what the next compares with
        self._observers: list[RequestObserver] = []

    def __repr__(self) -> str:
        """Name the account, never the address."""
        return f"IcsProvider(account {self._account_id})"

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every GET of the feed from now on: (method, failure or None, seconds)."""
        self._observers.append(observer)

    @property
    def account_id(self) -> int:
        """Return the configured account's N."""
        return self._account_id

    @property
    def provider(self) -> ProviderName:
        """Return "ics"."""
        return "ics"

    @property
    def needs_reauth(self) -> str | None:
        """Return why the feed's address was refused (a person must configure a new one), else None."""
        return self._needs_reauth

    async def aclose(self) -> None:
        """Close the HTTP session, when the provider opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def list_window(self, calendar_id: str, window: Window) -> Listing:
        """Read the whole feed and return its events overlapping `window`, cancelled ones as tombstones."""
        self._check(calendar_id)
        async with self._lock:
            fresh = await self._get({}, window, known=None)
            if fresh is None:  # a 304 to a request without conditions
                raise TransientError(f"{self._name}: answered 304 to an unconditional request", status=304)
            return Listing(fresh.events or (), self._remember(fresh, window).encode())

    async def read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Poll the feed with its validators: one request, the delta against the last read's events."""
        self._check(calendar_id)
        async with self._lock:
            last, held = self._last, FeedCursor.decode(cursor)
            if last is None or held != last.cursor:
                raise SyncTokenExpiredError(
                    f"{self._name}: the cursor is not the last read's", reason="cursor"
                )
            same_window = window == last.window
            conditions, known = (held.conditions(), held.digest) if same_window else ({}, None)
            fresh = await self._get(conditions, window, known=known)
            if fresh is None:
                return Delta((), cursor)
            if fresh.events is None:  # the body last read, answered again
                unchanged = FeedCursor(fresh.digest, fresh.etag, fresh.last_modified)
                self._last = _Read(unchanged, window, last.events)
                return Delta((), unchanged.encode())
            changes = changed_events(last.events, fresh.events, window)
            return Delta(changes, self._remember(fresh, window).encode())

    async def write_blocks(self, calendar_id: str, writes: Sequence[BlockWrite]) -> list[BlockOutcome]:
        """Refuse every write: a feed is read-only (the configuration never makes one a target)."""
        return [
            BlockOutcome(
                write,
                error=ForbiddenError(
                    f"{self._name} is read-only", reason=FEED_READ_ONLY, account_id=self._account_id
                ),
            )
            for write in writes
        ]

    async def get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return None: no block is ever written to a feed."""
        return None

    async def list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """Return nothing: no block is ever written to a feed."""
        return ()

    def _check(self, calendar_id: str) -> None:
        """Refuse any calendar id but the feed's one."""
        if calendar_id != FEED_CALENDAR_ID:
            raise NotFoundError(
                f"{self._name} has one calendar, {FEED_CALENDAR_ID!r}", account_id=self._account_id
            )

    async def _get(self, conditions: dict[str, str], window: Window, *, known: str | None) -> _Fresh | None:
        """GET the feed and read its body (None for a 304), retrying transient failures, a cut body too.

        `known` is the hash of the body last read: that body is not read again.
        """
        session = self._session
        if session is None:
            session = self._session = aiohttp.ClientSession(headers={"User-Agent": "calmirror"})

        async def attempt() -> _Fresh | None:
            answer = await self._fetch(session, conditions)
            if answer.body is None:
                return None
            # On a worker thread: hashing and scanning up to 20 MiB take CPU too, not only parsing.
            return await asyncio.to_thread(self._read_body, answer, answer.body, window, known)

        try:
            return await self._retry.call(attempt)
        except ProviderError as error:
            error.account_id = self._account_id
            raise

    async def _fetch(self, session: aiohttp.ClientSession, conditions: dict[str, str]) -> FeedAnswer:
        """GET the feed once, told to the observers; record whether its address was refused."""
        started, failure = time.monotonic(), None
        try:
            answer = await fetch_feed(
                session,
                self._url.get_secret_value(),
                name=self._name,
                conditions=conditions,
                time_limit=self._timeout,
                max_bytes=self._max_bytes,
            )
        except ProviderError as error:
            failure = error
            if error.reason == FEED_REFUSED:
                self._needs_reauth = str(error)
            raise
        finally:
            for observer in self._observers:
                observer(GET_METHOD, failure, time.monotonic() - started)
        self._needs_reauth = None
        return answer

    def _read_body(self, answer: FeedAnswer, body: bytes, window: Window, known: str | None) -> _Fresh:
        """Hash a body and, unless it is the one last read, read the window's events (on a worker thread)."""
        digest = hashlib.sha256(body).hexdigest()
        if digest == known:
            return _Fresh(digest, answer.etag, answer.last_modified, None, has_events=True)
        has_events = _VEVENT.search(body) is not None
        if self._had_events and not has_events:
            raise UnreadableDataError(
                f"{self._name} answered no events after it had some; nothing is deleted",
                reason="empty",
                status=200,
            )
        try:
            read = read_feed(body, window, owner=self._owner, zone=self._zone)
        except UnreadableDataError as error:
            # The same object goes on: a TruncatedDataError stays transient, so it is read again.
            error.args = (f"{self._name}: {error}",)
            error.status = 200
            raise
        self._tell_zone(read)
        return _Fresh(digest, answer.etag, answer.last_modified, read.events, has_events=has_events)

    def _tell_zone(self, read: FeedEvents) -> None:
        """Log once when the feed names no known zone: its floating times may then be off by hours."""
        if read.zone is not None or self._zone_told:
            return
        self._zone_told = True
        fallback = self._zone or "UTC"
        if read.stated_zone:
            log.warning(
                "%s names the unknown time zone %r; its floating times are read in %s",
                self._name,
                read.stated_zone,
                fallback,
            )
        else:
            log.debug("%s names no time zone; its floating times are read in %s", self._name, fallback)

    def _remember(self, fresh: _Fresh, window: Window) -> FeedCursor:
        """Keep a fresh read's events as the ones the next poll compares with; return its cursor."""
        events = fresh.events or ()
        self._had_events = self._had_events or fresh.has_events
        cursor = FeedCursor(fresh.digest, fresh.etag, fresh.last_modified)
        self._last = _Read(cursor, window, {event.id: event for event in events})
        log.debug("%s read: %d events in the window", self._name, len(events))
        return cursor
