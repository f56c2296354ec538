"""CalDavProvider: one CalDAV account as the engine's CalendarProvider (calmirror/engine/provider.py).

Reads: a listing is one PROPFIND for the collection's sync token (taken first, so a change racing the
listing shows again in the next delta, never falls in a gap) and one calendar-query REPORT for the
window, expanded client-side (servers' own expansion differs). A delta is one sync-collection REPORT,
plus one calendar-multiget for the resources whose ETag changed. A server without sync-collection is
read by ETags instead: one PROPFIND Depth 1, then the multiget.

Writes (calmirror/caldav/writes.py) go to `{collection}/{block id}.ics` with preconditions, so no
write can land on a resource it did not mean. The read requests and their completeness checks are in
calmirror/caldav/queries.py. One calendar's reads and write batches take turns (a lock per calendar).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from calmirror.caldav import bodies, queries
from calmirror.caldav.discovery import DavCalendar, list_calendars
from calmirror.caldav.errors import (
    GONE,
    NOT_CALMIRRORS,
    SYNC_UNSUPPORTED,
)
from calmirror.caldav.multistatus import DAV, Entry, normal_path
from calmirror.caldav.state import CalendarState, Resource
from calmirror.caldav.urls import block_url, collection_url
from calmirror.caldav.wire import DavWire, RequestObserver, open_client, path_of
from calmirror.caldav.writes import write_all
from calmirror.caldav.zone import stated_tzid
from calmirror.config import ProviderName
from calmirror.engine import (
    BlockOutcome,
    BlockWrite,
    Delta,
    Listing,
    SourceEvent,
    Window,
)
from calmirror.errors import InvalidRequestError, ProviderError, SyncTokenExpiredError
from calmirror.ical.blocks import BLOCK_UID_DOMAIN, block_uid
from calmirror.ical.parse import read_events
from calmirror.ical.zones import iana_zone
from calmirror.retry import RetryPolicy

log = logging.getLogger(__name__)

# The server's time-range filter is widened by a day each way: an all-day or floating event means
# other instants in other zones; read_events then judges each instance against the exact window.
QUERY_MARGIN = timedelta(days=1)
# Blocks are single events: "any time" is a range no block can fall outside of.
ALL_TIME = Window(datetime(1900, 1, 1, tzinfo=UTC), datetime(2300, 1, 1, tzinfo=UTC))
_ETAG_CURSOR = "etags:"
_SYNC_CURSOR = "sync:"


class CalDavProvider:
    """One CalDAV account (a server URL, a username and an app password) as a CalendarProvider."""

    def __init__(
        self,
        account_id: int,
        url: str,
        username: str,
        password: str,
        *,
        email: str | None = None,
        zone: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Make a provider; the password only ever reaches the HTTP client's Basic auth."""
        self._account_id = account_id
        self.url = url
        self._owner = frozenset({email.lower()} if email else set())
        self._zone = zone
        self._wire = DavWire(
            open_client(url, username, password, timeout),
            account_id=account_id,
            retry=retry or RetryPolicy(),
            timeout=timeout,
        )
        self._states: dict[str, CalendarState] = {}
        # One state-changing read or write batch per calendar at a time: a listing replaces the state
        # a concurrent write would otherwise record its ETag in, and lose.
        self._locks: dict[str, asyncio.Lock] = {}
        self._etags_only: set[str] = set()  # calendars whose server refused sync-collection
        self._zone_told: set[str] = set()  # calendars whose missing or unknown zone was logged

    def __repr__(self) -> str:
        """Name the account and server, never the password."""
        return f"CalDavProvider(account_id={self._account_id}, url={self.url!r})"

    @property
    def account_id(self) -> int:
        """Return the configured account's N."""
        return self._account_id

    @property
    def provider(self) -> ProviderName:
        """Return "caldav"."""
        return "caldav"

    @property
    def needs_reauth(self) -> str | None:
        """Return "unauthorized" while the server refuses the password (until a request passes), else None."""
        return self._wire.needs_reauth

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` about every request attempt: (method id, error or None, seconds)."""
        self._wire.observe(observer)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._wire.close()

    async def list_calendars(self) -> list[DavCalendar]:
        """Return the account's calendar collections, with the account's read/write access to each."""
        return await list_calendars(self._wire, self.url)

    # -- reads ---------------------------------------------------------------------------------

    async def list_window(self, calendar_id: str, window: Window) -> Listing:
        """List the window: the sync token (or every ETag) first, then one calendar-query REPORT."""
        async with self._lock(calendar_id):
            return await self._list_window(calendar_id, window)

    async def _list_window(self, calendar_id: str, window: Window) -> Listing:
        """List the window: the sync token (or every ETag) first, then one calendar-query REPORT.

        The PROPFIND that reads the token (or the ETags) also reads the calendar's zone, in which its
        floating times are read.
        """
        url = collection_url(calendar_id)
        state = CalendarState()
        collection: Entry | None = None
        if calendar_id not in self._etags_only:
            collection = await queries.collection(self._wire, url)
            state.token = collection.text(DAV + "sync-token") if collection else None
        if state.token is None:
            state.etags, own = await queries.all_etags(self._wire, url)
            collection = collection or own
        state.zone = self._zone_of(calendar_id, collection)
        start, end = window.start - QUERY_MARGIN, window.end + QUERY_MARGIN
        answer = await self._wire.send(
            "list", "REPORT", url, bodies.calendar_query(start, end), {"Depth": "1"}
        )
        state.cursor = self._next_cursor(state)
        tree, account = answer.response.tree, self._account_id
        members, reads = await self._read_answer(
            lambda: queries.members(tree, url, "list", account), window, state.zone
        )
        bare = [entry.path for entry in members if entry.status not in GONE and entry.calendar_data is None]
        if bare:  # a server that left out some data: fetch it rather than miss those events
            reads += (await self._multiget(url, bare, window, state.zone))[1]
        events: list[SourceEvent] = []
        for entry, read in reads:
            state.put(entry.path, Resource.of(entry.etag, read))
            events += read
        self._states[calendar_id] = state
        return Listing(tuple(events), state.cursor)

    async def read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Return what changed since `cursor`: the changed resources' instances, tombstones for the gone."""
        async with self._lock(calendar_id):
            return await self._read_changes(calendar_id, cursor, window)

    async def _read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Return what changed since `cursor`: the changed resources' instances, tombstones for the gone."""
        state = self._states.get(calendar_id)
        if state is None or state.cursor is None or state.cursor != cursor:
            raise SyncTokenExpiredError("CalDAV cursor unknown to this process", reason="invalid_sync_token")
        url = collection_url(calendar_id)
        token, etags = state.token, None
        if token is not None:
            changed, deleted, token = await self._sync(calendar_id, url, token)
        else:
            changed, deleted, etags = await queries.etag_changes(self._wire, url, state)
        fetch = [path for path, etag in changed.items() if _known_etag(state, path) != etag or etag is None]
        fetched, reads = await self._multiget(url, fetch, window, state.zone)
        # No await from here on: the state moves only once every request of the delta succeeded.
        gone = deleted | {entry.path for entry in fetched if entry.status in GONE}
        events = state.apply(reads, gone, token=token, etags=etags)
        state.cursor = self._next_cursor(state)
        return Delta(tuple(events), state.cursor)

    async def get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event stored at the block's address (marked or not), else the one holding its UID."""
        async with self._lock(calendar_id):
            return await self._get_block(calendar_id, block_id)

    async def _get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event stored at the block's address (marked or not), else the one holding its UID.

        A block another client moved keeps its UID at another address; a create there is refused as a
        UID conflict (RFC 4791 section 5.3.2.1), so it is looked up by UID rather than created again.
        """
        url = block_url(calendar_id, block_id)
        try:
            answer = await self._wire.send("get", "GET", url)
        except ProviderError as exc:
            if exc.kind != "not_found":
                raise
            self._state(calendar_id).drop(normal_path(url))
            return await self._holder(calendar_id, block_id)
        data = answer.response._raw_body or answer.response.raw
        zone = self._state(calendar_id).zone
        read = await asyncio.to_thread(self._read, normal_path(url), data, ALL_TIME, zone)
        self._state(calendar_id).put(normal_path(url), Resource.of(answer.etag, read))
        return next((event for event in read if event.id == block_id), read[0] if read else None)

    async def _holder(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event carrying a block's UID anywhere in the calendar (one calendar-query), or None."""
        url = collection_url(calendar_id)
        body = bodies.calendar_query(uid_part=block_uid(block_id))
        answer = await self._wire.send("get", "REPORT", url, body, {"Depth": "1"})
        state, tree, account = self._state(calendar_id), answer.response.tree, self._account_id
        _, reads = await self._read_answer(
            lambda: queries.members(tree, url, "get", account), ALL_TIME, state.zone
        )
        for entry, read in reads:
            found = next((event for event in read if event.id == block_id), None)
            if found is not None:
                state.put(entry.path, Resource.of(entry.etag, read))
                return found
        return None

    async def list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """Return every live block at any time: a calendar-query for calmirror's UIDs, checked client-side."""
        async with self._lock(calendar_id):
            return await self._list_blocks(calendar_id)

    async def _list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """Return every live block at any time: a calendar-query for calmirror's UIDs, checked client-side."""
        url = collection_url(calendar_id)
        body = bodies.calendar_query(uid_part=BLOCK_UID_DOMAIN)
        answer = await self._wire.send("list", "REPORT", url, body, {"Depth": "1"})
        state = self._state(calendar_id)
        blocks: list[SourceEvent] = []
        tree, account = answer.response.tree, self._account_id
        found, reads = await self._read_answer(
            lambda: queries.members(tree, url, "list", account), ALL_TIME, state.zone, ours=True
        )
        bare = [entry.path for entry in found if entry.status not in GONE and entry.calendar_data is None]
        if bare:  # left without data (a purge can do that): fetch them, or the blocks would be missed
            reads += (await self._multiget(url, bare, ALL_TIME, state.zone, ours=True))[1]
        for entry, read in reads:
            state.put(entry.path, Resource.of(entry.etag, read))
            blocks += [event for event in read if event.marked and not event.cancelled]
        return tuple(blocks)

    # -- writes --------------------------------------------------------------------------------

    async def write_blocks(self, calendar_id: str, writes: Sequence[BlockWrite]) -> list[BlockOutcome]:
        """Carry out the writes a few at a time, removals first; one outcome per write, in order."""
        async with self._lock(calendar_id):
            return await write_all(self._wire, self._state(calendar_id), calendar_id, writes)

    # -- helpers -------------------------------------------------------------------------------

    def _lock(self, calendar_id: str) -> asyncio.Lock:
        """Return the lock of one calendar's state (never shared across calendars)."""
        return self._locks.setdefault(calendar_id, asyncio.Lock())

    def _state(self, calendar_id: str) -> CalendarState:
        """Return a calendar's state, starting an empty one (no cursor) when it was never listed."""
        return self._states.setdefault(calendar_id, CalendarState())

    def _zone_of(self, calendar_id: str, collection: Entry | None) -> str | None:
        """Return the zone of a calendar's floating times: its own, else the configured one (None: UTC).

        A calendar without a known zone is logged once: its floating times may be off by hours.
        """
        stated = stated_tzid(collection)
        zone = iana_zone(stated) if stated else None
        if zone is None and calendar_id not in self._zone_told:
            self._zone_told.add(calendar_id)
            fallback = self._zone or "UTC"
            if stated:
                log.warning(
                    "CalDAV calendar %s states the unknown time zone %r; its floating times are read in %s",
                    path_of(calendar_id),
                    stated[:64],
                    fallback,
                )
            else:
                log.debug(
                    "CalDAV calendar %s states no time zone; its floating times are read in %s",
                    path_of(calendar_id),
                    fallback,
                )
        return zone or self._zone

    def _next_cursor(self, state: CalendarState) -> str:
        """Return a new opaque cursor for the state (the sync token, or a fresh mark in ETag mode)."""
        if state.token is not None:
            return _SYNC_CURSOR + state.token
        return _ETAG_CURSOR + uuid.uuid4().hex

    async def _sync(
        self, calendar_id: str, url: str, token: str
    ) -> tuple[dict[str, str | None], set[str], str]:
        """Read a sync-collection delta; a server without the report is read by ETags from now on."""
        try:
            return await queries.sync(self._wire, url, token)
        except InvalidRequestError as exc:
            if exc.reason != SYNC_UNSUPPORTED:
                raise
            # Read by ETags from now on; that needs a listing that records every ETag.
            self._etags_only.add(calendar_id)
            raise SyncTokenExpiredError(str(exc), status=exc.status, reason=exc.reason) from exc

    async def _multiget(
        self, url: str, paths: Sequence[str], window: Window, zone: str | None, *, ours: bool = False
    ) -> tuple[list[Entry], list[tuple[Entry, tuple[SourceEvent, ...]]]]:
        """Fetch the resources at `paths` (one multiget; none when no paths): their entries and instances."""
        if not paths:
            return [], []
        tree, account = await queries.multiget(self._wire, url, paths), self._account_id
        return await self._read_answer(
            lambda: queries.multiget_members(tree, url, paths, account), window, zone, ours=ours
        )

    async def _read_answer(
        self, select: Callable[[], list[Entry]], window: Window, zone: str | None, *, ours: bool = False
    ) -> tuple[list[Entry], list[tuple[Entry, tuple[SourceEvent, ...]]]]:
        """Read an answer's entries (`select`) and their instances in one worker-thread hop.

        Thousands of members and expanding series take CPU the event loop must not wait for. `ours`
        reads only resources naming calmirror's UID domain: a foreign series is never expanded there.
        """

        def work() -> tuple[list[Entry], list[tuple[Entry, tuple[SourceEvent, ...]]]]:
            found = select()
            readable = [(e, e.calendar_data) for e in found if e.status not in GONE]
            if ours:
                readable = [(e, data) for e, data in readable if BLOCK_UID_DOMAIN in (data or "").lower()]
            return found, [(e, self._read(e.path, data, window, zone)) for e, data in readable if data]

        return await asyncio.to_thread(work)

    def _read(
        self, path: str, data: str | bytes, window: Window, zone: str | None
    ) -> tuple[SourceEvent, ...]:
        """Return one resource's instances in the window; an unreadable one as an event without times."""
        try:
            return read_events(data, window, owner=self._owner, zone=zone)
        except (ValueError, ProviderError) as exc:
            log.warning("CalDAV resource %s cannot be read: %s", path, type(exc).__name__)
            return (SourceEvent(id=f"unreadable:{path}", time_problem="unreadable iCalendar data"),)


def _known_etag(state: CalendarState, path: str) -> str | None:
    """Return the ETag a resource had when last read or written, None when unknown."""
    known = state.resources.get(path)
    return known.etag if known else None


__all__ = ["NOT_CALMIRRORS", "CalDavProvider"]
