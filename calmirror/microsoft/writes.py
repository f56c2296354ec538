"""Block writes to one Outlook calendar, sent as $batch parts: create, restore (PATCH) and remove.

A create carries the block's transactionId (one of its own after the block's event was seen deleted:
calmirror/microsoft/blocks.py), so a resent POST answers the event the first one made.
When that event is at another time (someone dragged the block), the create comes back as a
DuplicateError: the executor then looks at it with get_block and restores it. A restore or a removal
goes to the Graph event the index knows for the block (a listing of the blocks first, when it does
not know it); with no event holding the block it answers NotFoundError, which the executor reads as
"gone" (a removal is done, a restore becomes a create).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from calmirror.engine import BlockOutcome, BlockWrite, Create, Remove, Restore
from calmirror.errors import DuplicateError, NoAnswerError, NotFoundError, ProviderError
from calmirror.microsoft.blocks import block_body
from calmirror.microsoft.calls import BatchPart, PartAnswer
from calmirror.microsoft.client import GraphClient
from calmirror.microsoft.events import parse_event
from calmirror.microsoft.index import BlockIndex

Refresh = Callable[[], Awaitable[Any]]  # lists the calendar's blocks again, refilling the index


def _block_id(write: BlockWrite) -> str:
    """Return the block id a write is about."""
    return write.block_id if isinstance(write, Remove) else write.spec.id


async def write_all(
    client: GraphClient,
    path: str,
    index: BlockIndex,
    writes: Sequence[BlockWrite],
    *,
    owner: str,
    refresh: Refresh,
) -> list[BlockOutcome]:
    """Carry out the writes as $batch parts; one outcome per write, in order."""
    if any(not isinstance(w, Create) and index.graph_id(_block_id(w)) is None for w in writes):
        await refresh()
    outcomes: dict[int, BlockOutcome] = {}
    parts: list[BatchPart] = []
    sent: list[int] = []
    for n, write in enumerate(writes):
        part = _part(path, index, write)
        if part is None:
            why = f"no event in the calendar holds block {_block_id(write)}"
            error = NotFoundError(why, status=404, reason="not_found", account_id=client.account_id)
            outcomes[n] = BlockOutcome(write, error=error)
        else:
            parts.append(part)
            sent.append(n)
    for n, answer in zip(sent, await client.batch(parts), strict=True):
        outcomes[n] = _outcome(writes[n], answer, index, owner, client.account_id)
    return [outcomes[n] for n in range(len(writes))]


def _part(path: str, index: BlockIndex, write: BlockWrite) -> BatchPart | None:
    """Return the batch part of one write, None when no known Graph event holds its block."""
    if isinstance(write, Create):
        body = block_body(write.spec, create=True, after=index.deleted_holder(write.spec.id))
        return BatchPart("events.create", "POST", f"{path}/events", body)
    graph_id = index.graph_id(_block_id(write))
    if graph_id is None:
        return None
    if isinstance(write, Restore):
        body = block_body(write.spec, create=False)
        return BatchPart("events.update", "PATCH", f"{path}/events/{graph_id}", body)
    return BatchPart("events.delete", "DELETE", f"{path}/events/{graph_id}")


def _outcome(
    write: BlockWrite, answer: PartAnswer, index: BlockIndex, owner: str, account_id: int
) -> BlockOutcome:
    """Return a write's outcome from its part's answer, keeping the index in step."""
    block = _block_id(write)
    if answer.error is not None:
        if isinstance(answer.error, NotFoundError) and isinstance(write, Create):
            index.drop_block(block)
        elif isinstance(answer.error, NotFoundError):
            index.holder_deleted(block)  # the event the index knew for it is gone
        return BlockOutcome(write, error=answer.error)
    if isinstance(write, Remove):
        index.holder_deleted(block)
        return BlockOutcome(write)
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        error: ProviderError = NoAnswerError(
            f"{_name(write)}: the answer holds no event", account_id=account_id
        )
        return BlockOutcome(write, error=error)
    index.put(block, body["id"])
    event = parse_event(body, owner, block)
    if isinstance(write, Create) and event.interval != write.spec.interval:
        text = "events.create: its transactionId answers an existing block at another time"
        error = DuplicateError(text, reason="duplicate", account_id=account_id)
        return BlockOutcome(write, error=error)
    return BlockOutcome(write, event=event)


def _name(write: BlockWrite) -> str:
    """Return the method name of a write, for messages."""
    return "events.create" if isinstance(write, Create) else "events.update"
