"""The provider protocol: what the engine asks of any calendar service, in the engine's own values.

Every provider (Google, CalDAV, an ICS feed, ...) answers the same five questions in its own protocol:
list a window, read what changed since a cursor (or say it cannot), write a batch of blocks, find one
block by its id, and list every block it owns. It translates its wire failures into the one error
tree (calmirror.errors) at its own boundary; the engine never learns which provider it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from calmirror.config import ProviderName
from calmirror.engine.model import BlockSpec, SourceEvent, Window
from calmirror.errors import ProviderError


@dataclass(frozen=True)
class Listing:
    """A window's events, series expanded into instances, and where the next delta read starts.

    Cancelled events are tombstones (ids the calendar remembers as deleted); `cursor` is None when the
    provider cannot read deltas, so every refresh lists the window again.
    """

    events: tuple[SourceEvent, ...]
    cursor: str | None


@dataclass(frozen=True)
class Delta:
    """What changed since a cursor: changed events (cancelled ones are gone) and the next cursor.

    `relist` says the changes cannot be folded in item by item (a changed series whose instance set
    the delta does not state): the caller lists the window again, and may still use `events` to tell
    what changed.
    """

    events: tuple[SourceEvent, ...]
    cursor: str | None
    relist: bool = False


@dataclass(frozen=True)
class Create:
    """Write a new block under its deterministic id."""

    spec: BlockSpec


@dataclass(frozen=True)
class Restore:
    """Write a block over an existing event with its id: a deleted block, or one of ours someone edited."""

    spec: BlockSpec


@dataclass(frozen=True)
class Remove:
    """Delete one of calmirror's blocks, found by a listing that saw its mark."""

    block_id: str


BlockWrite = Create | Restore | Remove


@dataclass(frozen=True)
class BlockOutcome:
    """What happened to one write: the block as the calendar now holds it, or the translated error.

    A Create whose id is already taken fails with DuplicateError; the caller then looks at the event
    with `get_block` and decides (it existed, restore it, or it is not ours).
    """

    write: BlockWrite
    event: SourceEvent | None = None
    error: ProviderError | None = None


class CalendarProvider(Protocol):
    """One configured account of one calendar service, as the engine uses it."""

    @property
    def account_id(self) -> int:
        """Return the configured account's N."""
        ...

    @property
    def provider(self) -> ProviderName:
        """Return which service this is (for health, metrics and logs only: nothing plans by it)."""
        ...

    @property
    def needs_reauth(self) -> str | None:
        """Return why the account's credentials were refused (a person must renew them), else None."""
        ...

    async def list_window(self, calendar_id: str, window: Window) -> Listing:
        """List every event overlapping `window`, series expanded, with deleted ones as tombstones."""
        ...

    async def read_changes(self, calendar_id: str, cursor: str, window: Window) -> Delta:
        """Return what changed since `cursor` within the listed `window`.

        Raises SyncTokenExpiredError when the cursor is no longer valid: the caller lists again.
        """
        ...

    async def write_blocks(self, calendar_id: str, writes: Sequence[BlockWrite]) -> list[BlockOutcome]:
        """Carry out block writes, batched as the service allows; one outcome per write, in order."""
        ...

    async def get_block(self, calendar_id: str, block_id: str) -> SourceEvent | None:
        """Return the event holding a block's id (a tombstone if deleted), None when there is none."""
        ...

    async def list_blocks(self, calendar_id: str) -> tuple[SourceEvent, ...]:
        """Return every live event carrying calmirror's mark, at any time."""
        ...

    async def aclose(self) -> None:
        """Release the provider's connections and threads (the runtime calls it once, at the end)."""
        ...
