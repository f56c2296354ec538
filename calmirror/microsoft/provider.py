"""MicrosoftCalendars: one Microsoft 365 / Outlook.com account behind the engine's provider protocol.

Reads. A listing is one calendarView/delta round over the window (paged to its @odata.deltaLink, which
is the cursor), preceded by one query for the calendar's blocks (a $filter on calmirror's mark, with
the mark expanded), because a delta answer cannot carry an extended property. The blocks found fill
a per-calendar index (block id <-> Graph id, calmirror/microsoft/index.py) that calmirror's own writes
keep current; a delta item is a block when the index knows its Graph id. An item the index does not
know but whose transactionId says calmirror created it (another process, or a create whose answer was
lost) is fetched with its mark expanded, in one $batch. So an idle poll costs one delta request per
calendar, and a new, moved or cancelled meeting in a source calendar one delta request too.

A delta of calendarView states the occurrences of a changed series one by one (their own ids, and
@removed for those gone), so it is folded in item by item; only a series master in a delta (which
calendarView never shows) asks for a new listing.

Writes go out as $batch parts (calmirror/microsoft/writes.py). A block is listed under its block id,
read from the mark; Graph's own id stays inside this provider. Of several events carrying one mark (a
user copied a block in Outlook), only the block itself is listed as it; the others are the user's own
events (calmirror/microsoft/blocks.py says which is which).

A delta round reports @removed only for events the client held at the round before, so a block
calmirror wrote after that round and someone deleted before the next one would never be reported.
The provider remembers the blocks it wrote since the current round began; one the next round neither
lists nor removes (while it lies in the round's window) is looked up, because Graph's delta may lag a
fresh write, and reported as deleted only when the lookup answers 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from calmirror.config import ProviderName
from calmirror.engine import BlockOutcome, BlockWrite, Delta, Interval, Listing, Remove, SourceEvent, Window
from calmirror.errors import NotFoundError
from calmirror.microsoft.blocks import holder, is_ours, mark_expand, mark_filter, mark_of, may_be_ours
from calmirror.microsoft.calls import BatchPart
from calmirror.microsoft.client import GraphClient, RequestObserver
from calmirror.microsoft.errors import no_answer
from calmirror.microsoft.events import is_series_master, parse_event, tombstone
from calmirror.microsoft.index import BlockIndex
from calmirror.microsoft.writes import write_all


def _instant(value: datetime) -> str:
    """Render a window bound as calendarView wants it."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _holder(index: BlockIndex, block_id: str, items: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return which event carrying a block's mark is the block; the others are copies, never the block.

    A copy stays one once seen, so it is not taken for the block once the block itself is deleted (the
    planner would then delete the user's event as an unwanted block). Nor is an event calmirror did not
    create, when the index knows another event held the block (a copy no listing saw beside it).
    """
    known = index.holders(block_id)
    found = holder(
        block_id,
        [
            item
            for item in items
            if not index.is_stray(str(item.get("id")))
            and (not known or str(item.get("id")) in known or is_ours(item, block_id))
        ],
    )
    for item in items:
        if item is not found:
            index.stray(str(item.get("id")), block_id)
    return found


class MicrosoftCalendars:
    """Lists, reads deltas and writes blocks in one account's Outlook calendars through Graph."""

    provider: ProviderName = "microsoft"

    def __init__(self, client: GraphClient) -> None:
        self.client = client  # push uses it for subscriptions
        self._owner = client.access.email.lower()
        self._indexes: dict[str, BlockIndex] = {}
        self._paths: dict[str, str] = {}
        # Per calendar: Graph id -> (block id, interval) of the blocks written since the round began.
        self._unseen: dict[str, dict[str, tuple[str, Interval]]] = {}

    def __repr__(self) -> str:
        """Name the account, never its secrets."""
        return f"MicrosoftCalendars({self.client.access!r})"

    @property
    def account_id(self) -> int:
        """Return the configured account's N."""
        return self.client.account_id

    @property
    def needs_reauth(self) -> str | None:
        """Return why the token endpoint refused the account's grant, else None."""
        return self.client.needs_reauth

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every Graph request from now on (a batch's parts each with seconds None)."""
        self.client.observe(observer)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    async def calendar_path(self, calendar_id: str) -> str:
        """Return a calendar's Graph path by its id ("primary" resolved once); push subscribes below it."""
        return await self._path(calendar_id)

    async def list_window(self, calendar_id: str, window: Window) -> Listing:
        """Read the calendar's blocks, then list the window as the first round of a delta."""
        path = await self._path(calendar_id)
        self._unseen.pop(calendar_id, None)  # the new round holds every block written from now on
        await self._read_blocks(calendar_id, path)
        params = {"startDateTime": _instant(window.start), "endDateTime": _instant(window.end)}
        pages = await self.client.pages(
            f"{path}/calendarView/delta", name="calendarView.delta", params=params
        )
        return Listing(await self._parse(calendar_id, path, pages.items), pages.delta_link)

    async def read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Follow the delta link; @removed items are tombstones (a block's under its block id)."""
        path = await self._path(calendar_id)
        written = dict(self._unseen.get(calendar_id, {}))
        pages = await self.client.pages(cursor, name="calendarView.delta")
        relist = any(is_series_master(item) for item in pages.items)
        events = await self._parse(calendar_id, path, pages.items)
        gone = await self._unreported(calendar_id, path, written, pages.items, window)
        return Delta(events + gone, pages.delta_link, relist=relist)

    async def _unreported(
        self,
        calendar_id: str,
        path: str,
        written: Mapping[str, tuple[str, Interval]],
        items: Sequence[Mapping[str, Any]],
        window: Window,
    ) -> tuple[SourceEvent, ...]:
        """Return tombstones of the blocks written before a delta round that it neither lists nor removes.

        Graph's delta is eventually consistent and may miss a block just written, so each is first
        looked up (one $batch of GETs): only one that answers 404 is gone.
        """
        mentioned = {str(item.get("id")) for item in items}
        missing = [
            (graph_id, block)
            for graph_id, (block, interval) in written.items()
            if graph_id not in mentioned and interval.start < window.end and interval.end > window.start
        ]
        deleted = await self._deleted(path, [graph_id for graph_id, _ in missing]) if missing else set()
        unseen, index = self._unseen.get(calendar_id, {}), self._index(calendar_id)
        for graph_id in written:
            unseen.pop(graph_id, None)  # held by the client state from this round on, or gone
        gone: list[SourceEvent] = []
        for graph_id, block in missing:
            if graph_id in deleted:
                index.removed(graph_id)
                gone.append(tombstone(block, marked=True))
        return tuple(gone)

    async def _deleted(self, path: str, graph_ids: list[str]) -> set[str]:
        """Return which of the Graph events are gone (404), looked up in one $batch."""
        parts = [BatchPart("events.get", "GET", f"{path}/events/{gid}") for gid in graph_ids]
        deleted: set[str] = set()
        for graph_id, answer in zip(graph_ids, await self.client.batch(parts), strict=True):
            if isinstance(answer.error, NotFoundError):
                deleted.add(graph_id)
            elif answer.error is not None:
                raise answer.error  # the round fails whole and is read again; nothing is settled
        return deleted

    async def write_blocks(self, calendar_id: str, writes: Sequence[BlockWrite]) -> list[BlockOutcome]:
        """Carry out the writes as $batch parts; one outcome per write, in order."""
        path, index = await self._path(calendar_id), self._index(calendar_id)
        removed = [index.graph_id(w.block_id) for w in writes if isinstance(w, Remove)]
        outcomes = await write_all(
            self.client,
            path,
            index,
            writes,
            owner=self._owner,
            refresh=lambda: self._read_blocks(calendar_id, path),
        )
        unseen = self._unseen.setdefault(calendar_id, {})
        for graph_id in removed:
            unseen.pop(graph_id or "", None)
        for outcome in outcomes:
            written = outcome.event
            graph_id = index.graph_id(written.id) if written is not None else None
            if written is not None and written.interval is not None and graph_id is not None:
                unseen[graph_id] = (written.id, written.interval)
        return outcomes

    async def get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event carrying a block's mark, None when none does (Graph keeps no tombstones)."""
        path, index = await self._path(calendar_id), self._index(calendar_id)
        params = {"$filter": mark_filter(block_id), "$expand": mark_expand()}
        pages = await self.client.pages(f"{path}/events", name="events.list", params=params)
        found = _holder(index, block_id, [item for item in pages.items if mark_of(item) == block_id])
        if found is None:
            index.drop_block(block_id)
            return None
        index.put(block_id, str(found.get("id")))
        return parse_event(found, self._owner, block_id)

    async def list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """Return every live event carrying calmirror's mark, at any time (blocks are single events)."""
        items = await self._read_blocks(calendar_id, await self._path(calendar_id))
        index = self._index(calendar_id)
        held = (item for item in items if index.block_id(str(item.get("id"))) is not None)  # no stray copy
        parsed = (parse_event(item, self._owner) for item in held if not is_series_master(item))
        return tuple(event for event in parsed if event.marked and not event.cancelled)

    async def _read_blocks(self, calendar_id: str, path: str) -> tuple[dict[str, Any], ...]:
        """List the calendar's marked events (paged); the index holds each block's holder, no stray copy."""
        params = {"$filter": mark_filter(), "$expand": mark_expand()}
        # Uncapped: blocks of past meetings stay, so this outgrows any page bound in a calendar's life.
        pages = await self.client.pages(f"{path}/events", name="events.list", params=params, capped=False)
        index = self._index(calendar_id)
        carrying: dict[str, list[dict[str, Any]]] = {}
        for item in pages.items:
            if block := mark_of(item):
                carrying.setdefault(block, []).append(item)
        held = ((block, _holder(index, block, items)) for block, items in carrying.items())
        index.replace((block, str(found.get("id"))) for block, found in held if found is not None)
        return pages.items

    async def _parse(
        self, calendar_id: str, path: str, items: Sequence[Mapping[str, Any]]
    ) -> tuple[SourceEvent, ...]:
        """Parse delta items: @removed as tombstones, blocks under their block ids, no series masters."""
        index = self._index(calendar_id)
        unknown = [
            str(item.get("id"))
            for item in items
            if "@removed" not in item and index.block_id(str(item.get("id"))) is None and may_be_ours(item)
        ]
        gone = await self._resolve(index, path, unknown) if unknown else set()
        events: list[SourceEvent] = []
        for item in items:
            graph_id = str(item.get("id"))
            if "@removed" in item:
                block = index.removed(graph_id)
                events.append(tombstone(block or graph_id, marked=block is not None))
            elif not is_series_master(item) and graph_id not in gone:
                events.append(parse_event(item, self._owner, index.block_id(graph_id)))
        return tuple(events)

    async def _resolve(self, index: BlockIndex, path: str, graph_ids: list[str]) -> set[str]:
        """Fetch events calmirror may have made with their marks expanded; return those already gone."""
        expand = quote(mark_expand(), safe="()='$")
        parts = [BatchPart("events.get", "GET", f"{path}/events/{gid}?$expand={expand}") for gid in graph_ids]
        gone: set[str] = set()
        for graph_id, answer in zip(graph_ids, await self.client.batch(parts), strict=True):
            if isinstance(answer.error, NotFoundError):
                gone.add(graph_id)  # deleted since: the next delta says so
            elif answer.error is not None:
                raise answer.error
            elif (
                isinstance(answer.body, dict)
                and (block := mark_of(answer.body))
                and index.graph_id(block) is None
                and not index.is_stray(graph_id)
            ):
                index.put(block, graph_id)  # (a block already held makes this one a copy of it)
        return gone

    async def _path(self, calendar_id: str) -> str:
        """Return a calendar's path; "primary" is looked up once as the default calendar's own id.

        Every route then names one calendar by id, as calendarView/delta and the events routes all serve.
        """
        if calendar_id not in self._paths:
            resolved = calendar_id
            if calendar_id == "primary":
                primary = self.client.calendar_path("primary")
                answer = await self.client.request("GET", primary, name="calendars.get")
                if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
                    raise no_answer("calendars.get", ValueError("no calendar id"), self.account_id)
                resolved = answer["id"]
            self._paths[calendar_id] = self.client.calendar_path(resolved)
        return self._paths[calendar_id]

    def _index(self, calendar_id: str) -> BlockIndex:
        """Return a calendar's block index, empty until a listing or a write fills it."""
        return self._indexes.setdefault(calendar_id, BlockIndex())
