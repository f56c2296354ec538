"""Opaque page and sync tokens: urlsafe base64 JSON bound to emulator, calendar and query (sync guide)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from calmirror.emulator.calendar.errors import bad_request, full_sync_required
from calmirror.emulator.calendar.store import Store


@dataclass(frozen=True)
class SyncState:
    """What a sync token remembers: the change number it was issued at and the original window."""

    seq: int
    window: tuple[str | None, str | None]


@dataclass(frozen=True)
class PageState:
    """What a page token remembers: the snapshot's change number and the offset of the next page."""

    snapshot: int
    offset: int


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """Return a short stable digest of query parameters (order-insensitive, repeats kept)."""
    text = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(payload: dict[str, Any]) -> str:
    """Encode a payload as urlsafe base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _decode(token: str) -> dict[str, Any] | None:
    """Decode a token, or None when it is garbled."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    return payload if isinstance(payload, dict) else None


def make_sync_token(store: Store, calendar_id: str, fp: str, state: SyncState) -> str:
    """Issue a sync token for the calendar at `state.seq` (sync guide nextSyncToken)."""
    payload = {"k": store.secret, "c": calendar_id, "f": fp, "s": state.seq, "w": list(state.window)}
    payload |= {"e": store.sync_epoch(calendar_id), "t": store.clock().timestamp()}
    return _encode(payload)


def read_sync_token(store: Store, calendar_id: str, fp: str, token: str) -> SyncState:
    """Validate a sync token; unknown, garbled, expired or invalidated -> 410 fullSyncRequired."""
    p = _decode(token)
    try:
        valid = (
            p is not None
            and (p["k"], p["c"], p["f"], p["e"])
            == (store.secret, calendar_id, fp, store.sync_epoch(calendar_id))
            and isinstance(p["s"], int)
            and 0 <= p["s"] <= store.seq
        )
        ttl = store.sync_token_ttl_seconds
        if valid and p is not None and ttl is not None:
            valid = store.clock().timestamp() - float(p["t"]) <= ttl
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid or p is None:
        raise full_sync_required()
    window = p["w"] if isinstance(p["w"], list) and len(p["w"]) == 2 else [None, None]
    return SyncState(p["s"], (window[0], window[1]))


def make_page_token(store: Store, calendar_id: str, fp: str, state: PageState) -> str:
    """Issue a page token encoding the listing's snapshot, so changes during paging are not lost."""
    return _encode({"k": store.secret, "c": calendar_id, "f": fp, "s": state.snapshot, "o": state.offset})


def read_page_token(store: Store, calendar_id: str, fp: str, token: str) -> PageState:
    """Validate a page token of the same query; anything else -> 400 invalid."""
    p = _decode(token)
    try:
        if p is not None and (p["k"], p["c"], p["f"]) == (store.secret, calendar_id, fp):
            return PageState(int(p["s"]), int(p["o"]))
    except (KeyError, TypeError, ValueError):
        pass
    raise bad_request("Invalid page token value.", location="pageToken")
