"""BlockIndex: which Graph event holds which of calmirror's blocks in one calendar, as far as seen."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

# How many forgotten holders of blocks are remembered (a listing no longer saw them, or a lookup found
# them gone: their deletion may still be on its way in a delta, and must come back as the block's
# tombstone), how many blocks' deleted holders (calmirror/microsoft/blocks.py: a create after a
# deletion) and how many copies of blocks. Far more than a calendar's deletions between two reads; the
# oldest is forgotten first.
REMEMBERED = 10_000


class BlockIndex:
    """Block id <-> Graph id of the blocks a listing saw carrying the mark, or calmirror itself wrote."""

    def __init__(self) -> None:
        self._graph_of: dict[str, str] = {}
        self._block_of: dict[str, str] = {}
        self._departed: OrderedDict[str, str] = OrderedDict()  # Graph id -> block it held, forgotten since
        self._deleted: OrderedDict[str, str] = OrderedDict()  # block id -> its last holder seen deleted
        self._strays: OrderedDict[str, str] = OrderedDict()  # Graph id -> block, of copies carrying its mark

    def put(self, block_id: str, graph_id: str) -> None:
        """Record that the Graph event `graph_id` holds the block `block_id`.

        A holder seen again was not deleted after all (Graph's delta says @removed also for an event
        edited outside the window), so it stops counting as the block's deleted one.
        """
        if self._deleted.get(block_id) == graph_id:
            del self._deleted[block_id]
        former = self._block_of.pop(graph_id, None)
        if former is not None:
            self._graph_of.pop(former, None)
        self.drop_block(block_id)
        self._departed.pop(graph_id, None)
        self._graph_of[block_id] = graph_id
        self._block_of[graph_id] = block_id

    def replace(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Hold exactly the (block id, Graph id) pairs of a full listing of the blocks."""
        for block_id in list(self._graph_of):
            self.drop_block(block_id)
        for block_id, graph_id in pairs:
            self.put(block_id, graph_id)

    def stray(self, graph_id: str, block_id: str) -> None:
        """Record that a Graph event is a copy of a block (its mark, not its event): never the block."""
        self._strays[graph_id] = block_id
        _bound(self._strays)

    def is_stray(self, graph_id: str) -> bool:
        """Tell whether a Graph event was seen as a copy of a block."""
        return graph_id in self._strays

    def graph_id(self, block_id: str) -> str | None:
        """Return the Graph id holding a block, None when unknown."""
        return self._graph_of.get(block_id)

    def block_id(self, graph_id: str) -> str | None:
        """Return the block a Graph event holds, None when it is not known as one."""
        return self._block_of.get(graph_id)

    def removed(self, graph_id: str) -> str | None:
        """Record that a Graph event was deleted (a delta's @removed); return the block it held, if any.

        A Graph id that once held a block (and was forgotten since: a listing no longer saw it, a
        lookup found it gone) still names that block, unless another event holds the block now.
        """
        block_id = self._block_of.pop(graph_id, None)
        if block_id is not None:
            self._graph_of.pop(block_id, None)
        else:
            block_id = self._departed.pop(graph_id, None)
            if block_id is None or block_id in self._graph_of:
                return None
        self._remember_deleted(block_id, graph_id)
        return block_id

    def holder_deleted(self, block_id: str) -> None:
        """Record that the event holding a block is deleted (calmirror deleted it, or Graph says 404)."""
        graph_id = self._graph_of.get(block_id)
        if graph_id is not None:
            self._remember_deleted(block_id, graph_id)
        self.drop_block(block_id)

    def holders(self, block_id: str) -> set[str]:
        """Return the Graph ids known to hold or to have held a block (its holder, its deleted one)."""
        return {gid for gid in (self._graph_of.get(block_id), self._deleted.get(block_id)) if gid is not None}

    def deleted_holder(self, block_id: str) -> str | None:
        """Return the Graph id of the block's last holder seen deleted, None when none was."""
        return self._deleted.get(block_id)

    def _remember_deleted(self, block_id: str, graph_id: str) -> None:
        """Keep a block's deleted holder (the newest last), forgetting the oldest past the bound."""
        self._deleted.pop(block_id, None)
        self._deleted[block_id] = graph_id
        _bound(self._deleted)

    def drop_block(self, block_id: str) -> None:
        """Forget where a block is; its former holder stays known as such (see `removed`)."""
        graph_id = self._graph_of.pop(block_id, None)
        if graph_id is not None:
            self._block_of.pop(graph_id, None)
            self._departed[graph_id] = block_id
            _bound(self._departed)


def _bound(remembered: OrderedDict[str, str]) -> None:
    """Forget the oldest entries past REMEMBERED."""
    while len(remembered) > REMEMBERED:
        remembered.popitem(last=False)
