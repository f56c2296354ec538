"""Block writes to a CalDAV calendar, each under a precondition so it lands only where it means to.

A create goes to `{collection}/{block id}.ics` only where nothing is (If-None-Match: *); a restore or
a removal only over the ETag a read saw carrying calmirror's whole mark (If-Match), at the address
where that read saw it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from calmirror.caldav.errors import Operation, not_calmirrors
from calmirror.caldav.multistatus import normal_path
from calmirror.caldav.state import CalendarState, Resource
from calmirror.caldav.urls import absolute, block_url
from calmirror.caldav.wire import DavWire
from calmirror.engine import BlockOutcome, BlockSpec, BlockWrite, Create, Remove, Restore, SourceEvent
from calmirror.errors import ProviderError
from calmirror.ical.blocks import block_calendar

WRITE_CONCURRENCY = 4  # CalDAV has no batch: a few writes at a time, not hundreds


async def write_all(
    wire: DavWire, state: CalendarState, calendar_id: str, writes: Sequence[BlockWrite]
) -> list[BlockOutcome]:
    """Carry out the writes a few at a time, removals first; one outcome per write, in order.

    Removals go first so a block written under the id of one this batch removes lands afterwards.
    """
    slots = asyncio.Semaphore(WRITE_CONCURRENCY)

    async def one(write: BlockWrite) -> BlockOutcome:
        async with slots:
            try:
                return await _write(wire, state, calendar_id, write)
            except ProviderError as exc:
                return BlockOutcome(write, error=exc)

    outcomes: dict[int, BlockOutcome] = {}
    for removals in (True, False):
        turn = [n for n, write in enumerate(writes) if isinstance(write, Remove) == removals]
        answered = await asyncio.gather(*(one(writes[n]) for n in turn))
        outcomes.update(zip(turn, answered, strict=True))
    return [outcomes[n] for n in range(len(writes))]


async def _write(wire: DavWire, state: CalendarState, calendar_id: str, write: BlockWrite) -> BlockOutcome:
    """Carry out one write; raise its translated error."""
    if isinstance(write, Remove):
        await _remove(wire, state, calendar_id, write.block_id)
        return BlockOutcome(write)
    spec = write.spec
    seen = state.block(spec.id) if isinstance(write, Restore) else None
    # A restore goes where a read saw the block, which another client may have moved.
    url = absolute(calendar_id, seen[0]) if seen else block_url(calendar_id, spec.id)
    path = normal_path(url)
    known = state.resources.get(path)
    operation: Operation = "create" if isinstance(write, Create) else "restore"
    if isinstance(write, Create) or known is None:
        condition = {"If-None-Match": "*"}  # only where nothing is: a deleted block comes back
    elif spec.id in known.blocks and known.etag is not None:
        condition = {"If-Match": known.etag}  # only over the block a read saw carrying the mark
    else:
        raise not_calmirrors("restore", spec.id, wire.account_id)
    headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
    body = block_calendar(spec).decode()
    answer = await wire.send(operation, "PUT", url, body, headers)
    event = _written(spec)
    if answer.etag is None:
        state.drop(path)  # without its ETag the block cannot be removed safely: the next read finds it
    else:
        state.put(path, Resource(answer.etag, frozenset({spec.id}), frozenset({spec.id})))
    return BlockOutcome(write, event=event)


async def _remove(wire: DavWire, state: CalendarState, calendar_id: str, block_id: str) -> None:
    """Delete a block over the ETag a read saw carrying its mark; refuse anything else unsent."""
    seen = state.block(block_id)
    if seen is None or seen[1].etag is None:
        raise not_calmirrors("remove", block_id, wire.account_id)
    path, resource = seen
    url = absolute(calendar_id, path)
    await wire.send("remove", "DELETE", url, headers={"If-Match": str(resource.etag)})
    state.drop(path)


def _written(spec: BlockSpec) -> SourceEvent:
    """Return a block as written: a marked event at the spec's interval."""
    return SourceEvent(id=spec.id, summary=spec.title, interval=spec.interval, marked=True)
