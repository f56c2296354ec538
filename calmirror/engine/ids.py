"""Deterministic block ids, the ownership mark and the body every block is written with.

A block's id is a function of (target calendar, interval) alone, so two passes that want the same
block write the same id and the second insert answers 409 instead of duplicating (docs/design.md §3.5). The
encoding is versioned and frozen: changing it would orphan every block already written.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from calmirror.engine.model import BlockSpec, Interval

MARK_KEY = "calmirror"
MARK_VALUE = "block"

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


def is_marked(resource: Mapping[str, Any]) -> bool:
    """Tell whether a Google event resource carries calmirror's ownership mark."""
    private = (resource.get("extendedProperties") or {}).get("private") or {}
    return bool(private.get(MARK_KEY) == MARK_VALUE)


def _when(interval: Interval, instant: datetime) -> dict[str, str]:
    """Render one end of a block: `date` when all-day, `dateTime` in UTC otherwise."""
    if interval.all_day:
        return {"date": instant.date().isoformat()}
    spec = "seconds" if instant.microsecond == 0 else "microseconds"
    return {"dateTime": instant.replace(tzinfo=None).isoformat(timespec=spec) + "Z"}


def block_body(spec: BlockSpec) -> dict[str, Any]:
    """Return the full Google event body of a block: silent, private, opaque and marked.

    The same body creates a block and, sent as an update, revives its tombstone (`status: confirmed`)
    or puts back a block someone edited.
    """
    return {
        "id": spec.id,
        "summary": spec.title,
        "start": _when(spec.interval, spec.interval.start),
        "end": _when(spec.interval, spec.interval.end),
        "status": "confirmed",
        "transparency": "opaque",
        "visibility": "private",
        # No default reminders and no overrides: a mirrored block must never ring.
        "reminders": {"useDefault": False},
        "eventType": "default",
        "extendedProperties": {"private": {MARK_KEY: MARK_VALUE}},
    }
