"""BlockIndex: which Graph event holds which of calmirror's blocks in one calendar, as far as seen."""

from __future__ import annotations

from collections.abc import Iterable


class BlockIndex:
    """Block id <-> Graph id of the blocks a listing saw carrying the mark, or calmirror itself wrote."""

    def __init__(self) -> None:
        self._graph_of: dict[str, str] = {}
        self._block_of: dict[str, str] = {}

    def put(self, block_id: str, graph_id: str) -> None:
        """Record that the Graph event `graph_id` holds the block `block_id`."""
        self.drop_block(block_id)
        self.drop_graph(graph_id)
        self._graph_of[block_id] = graph_id
        self._block_of[graph_id] = block_id

    def replace(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Forget everything and record the (block id, Graph id) pairs of a full listing of the blocks."""
        self._graph_of.clear()
        self._block_of.clear()
        for block_id, graph_id in pairs:
            self.put(block_id, graph_id)

    def graph_id(self, block_id: str) -> str | None:
        """Return the Graph id holding a block, None when unknown."""
        return self._graph_of.get(block_id)

    def block_id(self, graph_id: str) -> str | None:
        """Return the block a Graph event holds, None when it is not known as one."""
        return self._block_of.get(graph_id)

    def drop_graph(self, graph_id: str) -> str | None:
        """Forget a Graph event (deleted); return the block it held."""
        block_id = self._block_of.pop(graph_id, None)
        if block_id is not None:
            self._graph_of.pop(block_id, None)
        return block_id

    def drop_block(self, block_id: str) -> None:
        """Forget where a block is."""
        graph_id = self._graph_of.pop(block_id, None)
        if graph_id is not None:
            self._block_of.pop(graph_id, None)
