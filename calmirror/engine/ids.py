"""Deterministic block ids, a function of (target calendar, interval) alone, for every provider.

Two passes that want the same block write the same id, so the second create answers "exists" (409 in
Google, 412 in CalDAV) instead of duplicating (docs/design.md §3.5). The encoding is versioned and
frozen: changing it would orphan every block already written. Lowercase base32hex suits Google's event
ids, CalDAV resource names and Graph transaction ids alike.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from calmirror.engine.model import Interval

_ID_LENGTH = 26  # 130 bits of sha256; Google accepts 5 to 1024 characters of base32hex


def _instant(value: datetime) -> str:
    """Render a UTC instant the same way on every host and version."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def block_id(target_calendar_id: str, interval: Interval, *, salt: int = 0) -> str:
    """Return the block id for this interval in this calendar (lowercase base32hex, `0-9a-v`).

    `salt` > 0 gives the alternative ids the planner uses when the plain id is held by another live
    event (a block the user dragged elsewhere); salt 0 is the id every block normally has.
    """
    if interval.all_day:
        kind, start, end = "date", interval.start_date.isoformat(), interval.end_date.isoformat()
    else:
        kind, start, end = "dateTime", _instant(interval.start), _instant(interval.end)
    parts = ["calmirror-block-v1", target_calendar_id, kind, start, end]
    if salt:
        parts.append(str(salt))
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").lower()[:_ID_LENGTH]
