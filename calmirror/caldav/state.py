"""What the provider remembers of one calendar between reads: each resource's ETag and the ids it produced."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from calmirror.caldav.multistatus import Entry
from calmirror.engine import SourceEvent


@dataclass(frozen=True)
class Resource:
    """One calendar object as last read: its ETag, the instance ids it produced, the blocks it marked."""

    etag: str | None
    ids: frozenset[str] = frozenset()
    blocks: frozenset[str] = frozenset()  # block ids it carried with calmirror's whole mark

    @classmethod
    def of(cls, etag: str | None, events: tuple[SourceEvent, ...]) -> Resource:
        """Remember a resource's ETag and what reading it produced."""
        ids = frozenset(event.id for event in events)
        return cls(etag, ids, frozenset(event.id for event in events if event.marked))


@dataclass
class CalendarState:
    """One calendar's resources by path; `token` is None when deltas compare ETags instead of syncing.

    `etags` holds every resource's ETag (ETag mode only: the listing's query sees just the window).
    `cursor` is the last cursor handed out: any other one is stale and the caller must list again.
    `zone` is None when neither the calendar nor the configuration names one: floating times are UTC.
    """

    cursor: str | None = None
    token: str | None = None
    zone: str | None = None  # the IANA zone of floating times, as the last listing found it
    resources: dict[str, Resource] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    _blocks: dict[str, str] = field(default_factory=dict)  # block id -> path of the resource marking it

    def put(self, path: str, resource: Resource) -> Resource | None:
        """Record a resource as read or written; return what was known of it before."""
        old = self.drop(path)
        self.resources[path] = resource
        self._blocks.update((block_id, path) for block_id in resource.blocks)
        if resource.etag is not None and self.token is None and self.cursor is not None:
            self.etags[path] = resource.etag
        return old

    def drop(self, path: str) -> Resource | None:
        """Forget a deleted resource; return what was known of it."""
        old = self.resources.pop(path, None)
        self.etags.pop(path, None)
        for block_id in old.blocks if old else ():
            if self._blocks.get(block_id) == path:
                del self._blocks[block_id]
        return old

    def block(self, block_id: str) -> tuple[str, Resource] | None:
        """Return the path and resource last seen carrying a block's mark, None when none was."""
        path = self._blocks.get(block_id)
        return (path, self.resources[path]) if path is not None else None

    def apply(
        self,
        reads: Sequence[tuple[Entry, tuple[SourceEvent, ...]]],
        deleted: Iterable[str],
        *,
        token: str | None,
        etags: dict[str, str] | None,
    ) -> list[SourceEvent]:
        """Record a whole delta at once; return its events, with tombstones for the instance ids gone.

        `etags` (ETag mode) replaces every ETag before the read resources record theirs.
        """
        if etags is not None:
            self.etags = dict(etags)
        events: list[SourceEvent] = []
        for entry, read in reads:
            old = self.put(entry.path, Resource.of(entry.etag, read))
            events += read
            events += tombstones(old.ids - {event.id for event in read} if old else ())
        for path in deleted:
            old = self.drop(path)
            events += tombstones(old.ids if old else ())
        self.token = token
        return events


def tombstones(ids: Iterable[str]) -> list[SourceEvent]:
    """Return cancelled events for instance ids that are gone."""
    return [SourceEvent(id=event_id, status="cancelled") for event_id in sorted(ids)]
