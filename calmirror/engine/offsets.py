"""How a flow's offsets map a source event's interval to its block's, and back to decide deletions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from calmirror.config import Flow
from calmirror.engine.model import Interval, Window


def wanted_interval(interval: Interval, flow: Flow) -> Interval:
    """Return the block interval a flow wants for an event's interval."""
    if interval.all_day:
        return interval
    return Interval(
        interval.start - timedelta(minutes=flow.start_offset),
        interval.end + timedelta(minutes=flow.end_offset),
    )


def source_interval(block: Interval, flow: Flow) -> Interval | None:
    """Return the source interval for which a flow wants `block`; None when no event can want it."""
    if block.all_day:
        return block
    start = block.start + timedelta(minutes=flow.start_offset)
    end = block.end - timedelta(minutes=flow.end_offset)
    return Interval(start, end) if start <= end else None


def deletable(block: Interval, flows: Iterable[Flow], window: Window) -> bool:
    """Tell whether every source event that could want a block at this interval is listed in the window."""
    sources = (source_interval(block, flow) for flow in flows)
    return all(source is None or window.lists(source) for source in sources)
