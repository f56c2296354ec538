"""How a block looks in Google Calendar: the private extended property that marks it, and its body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from calmirror.engine import BlockSpec, Interval

MARK_KEY = "calmirror"
MARK_VALUE = "block"


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
