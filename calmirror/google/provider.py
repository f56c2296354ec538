"""GoogleCalendars: one Google account behind the engine's provider protocol, over its CalendarClient."""

from __future__ import annotations

from collections.abc import Sequence

from calmirror.config import ProviderName
from calmirror.engine import (
    BlockOutcome,
    BlockWrite,
    Create,
    Delta,
    Listing,
    Remove,
    Restore,
    SourceEvent,
    Window,
)
from calmirror.errors import NotFoundError
from calmirror.google.blocks import MARK_KEY, MARK_VALUE, block_body
from calmirror.google.client import CalendarClient, RequestObserver
from calmirror.google.events import is_recurring, parse_event, parse_events
from calmirror.google.writes import Delete, Insert, Update, Write


class GoogleCalendars:
    """Lists, reads deltas and writes blocks with the calls (and request counts) Google needs."""

    provider: ProviderName = "google"

    def __init__(self, client: CalendarClient) -> None:
        self.client = client  # the daemon's push channels use it directly

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every Google call from now on (a batch's parts each with seconds None)."""
        self.client.observe(observer)

    @property
    def account_id(self) -> int:
        """Return the configured account's N."""
        return self.client.account_id

    @property
    def needs_reauth(self) -> str | None:
        """Return why Google refused the account's refresh token, else None."""
        return self.client.needs_reauth

    async def list_window(self, calendar_id: str, window: Window) -> Listing:
        """List the window's events, series expanded, with deleted ones as tombstones (one or more pages)."""
        pages = await self.client.list_events(
            calendar_id, time_min=window.start, time_max=window.end, show_deleted=True
        )
        return Listing(parse_events(pages.events), pages.next_sync_token)

    async def read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Read the changes since a sync token; a changed series asks for a new listing.

        Google's instance set for a changed series is not reliable in a delta (docs/design.md).
        """
        pages = await self.client.list_changes(calendar_id, cursor)
        relist = any(is_recurring(item) for item in pages.events)
        return Delta(parse_events(pages.events), pages.next_sync_token, relist=relist)

    async def write_blocks(self, calendar_id: str, writes: Sequence[BlockWrite]) -> list[BlockOutcome]:
        """Send the writes in batches; a Create is an insert under the block's id, a Restore an update."""
        outcomes = await self.client.apply_writes([_request(calendar_id, write) for write in writes])
        return [
            BlockOutcome(write, None if outcome.event is None else parse_event(outcome.event), outcome.error)
            for write, outcome in zip(writes, outcomes, strict=True)
        ]

    async def get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event holding the id; Google answers a deleted one as a cancelled tombstone."""
        try:
            return parse_event(await self.client.get_event(calendar_id, block_id))
        except NotFoundError:
            return None

    async def list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """List every marked live event at any time, filtered by the server on the private property."""
        # Blocks are single events; not expanding series keeps an unbounded listing cheap.
        pages = await self.client.list_events(
            calendar_id, private_property=(MARK_KEY, MARK_VALUE), single_events=False
        )
        # The server filters by the mark; checking again costs nothing and guards a lax server.
        return tuple(event for event in parse_events(pages.events) if event.marked and not event.cancelled)

    async def aclose(self) -> None:
        """Close the client's connections and worker threads."""
        await self.client.aclose()


def _request(calendar_id: str, write: BlockWrite) -> Write:
    """Render one block write as the Google call that makes it."""
    match write:
        case Create(spec):
            return Insert(calendar_id, block_body(spec))
        case Restore(spec):
            # The same body revives a tombstone (status confirmed) or puts back a block someone edited.
            return Update(calendar_id, spec.id, block_body(spec))
        case Remove(block_id):
            return Delete(calendar_id, block_id)
