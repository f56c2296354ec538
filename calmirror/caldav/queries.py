"""The read requests of one calendar collection, each answer checked complete before it is used.

A listing's query, a sync-collection delta, every member's ETag and a calendar-multiget: an answer
that failed or left out part of what was asked raises (calmirror.caldav.errors.incomplete), so a
partial read is never taken for a complete one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from calmirror.caldav import bodies
from calmirror.caldav.errors import GONE, Operation, incomplete
from calmirror.caldav.multistatus import Entry, entries, normal_path, sync_token
from calmirror.caldav.state import CalendarState
from calmirror.caldav.urls import absolute
from calmirror.caldav.wire import DavWire, path_of
from calmirror.caldav.zone import ZONE_PROPERTIES
from calmirror.errors import SyncTokenExpiredError

MAX_SYNC_PAGES = 100  # a server cutting sync answers short (RFC 6578 section 3.6) is followed this far


def members(tree: Any, url: str, operation: Operation, account_id: int) -> list[Entry]:
    """Return a REPORT answer's member entries; raise when the answer about the request-URI failed.

    A 507 there says the server cut the answer short (RFC 4918 section 11.4, RFC 4791 section 7.8):
    read as complete, the members it left out would be taken for deleted.
    """
    own = normal_path(url)
    found = entries(tree)
    failed = sorted({str(entry.status) for entry in found if entry.path == own and entry.status >= 300})
    if failed:
        raise incomplete(operation, path_of(url), f"status {', '.join(failed)}", account_id)
    return [entry for entry in found if entry.path != own]


async def collection(wire: DavWire, url: str) -> Entry | None:
    """Return the collection's own properties: its DAV:sync-token (none: ETag mode) and its zone."""
    body = bodies.propfind("D:sync-token", *ZONE_PROPERTIES)
    answer = await wire.send("list", "PROPFIND", url, body, {"Depth": "0"})
    return next(iter(entries(answer.response.tree)), None)


async def all_etags(wire: DavWire, url: str) -> tuple[dict[str, str], Entry | None]:
    """Return every member resource's ETag and the collection's own entry (one PROPFIND Depth 1).

    A member left without an ETag, or an answer cut short (507 on the collection), fails the read:
    a resource missing from the ETags would be taken for deleted.
    """
    body = bodies.propfind("D:getetag", *ZONE_PROPERTIES)
    answer = await wire.send("etags", "PROPFIND", url, body, {"Depth": "1"})
    own = normal_path(url)
    found = await asyncio.to_thread(entries, answer.response.tree)  # thousands of members take a while
    failed = [e for e in found if e.status >= 300 or (e.path != own and e.etag is None)]
    if failed:
        why = f"{len(failed)} entries failed or without an ETag"
        raise incomplete("etags", path_of(url), why, wire.account_id)
    etags = {e.path: e.etag for e in found if e.path != own and e.etag is not None}
    return etags, next((e for e in found if e.path == own), None)


async def sync(wire: DavWire, url: str, token: str) -> tuple[dict[str, str | None], set[str], str]:
    """Read a sync-collection delta, following truncated answers; changed path -> ETag, deleted, token."""
    changed: dict[str, str | None] = {}
    deleted: set[str] = set()
    own = normal_path(url)
    for _ in range(MAX_SYNC_PAGES):
        answer = await wire.send("sync", "REPORT", url, bodies.sync_collection(token), {"Depth": "0"})
        truncated = False
        for entry in await asyncio.to_thread(entries, answer.response.tree):
            if entry.path == own:
                truncated = truncated or entry.status == 507
            elif entry.status == 404:
                deleted.add(entry.path)
                changed.pop(entry.path, None)
            else:
                changed[entry.path] = entry.etag
                deleted.discard(entry.path)
        next_token = sync_token(answer.response.tree) or token
        if not truncated:
            return changed, deleted, next_token
        if next_token == token:
            break  # cut short with no progress: asking again would only get the same answer
        token = next_token
    raise SyncTokenExpiredError("CalDAV sync answers never ended", reason="invalid_sync_token")


async def etag_changes(
    wire: DavWire, url: str, state: CalendarState
) -> tuple[dict[str, str | None], set[str], dict[str, str]]:
    """Compare every ETag with the last read's: changed path -> ETag, the deleted paths, every ETag now.

    The state is left as it is: a later request of the delta may fail, and the retry must compare
    against the same ETags again.
    """
    now, _ = await all_etags(wire, url)
    changed: dict[str, str | None] = {p: e for p, e in now.items() if state.etags.get(p) != e}
    return changed, set(state.etags) - set(now), now


async def multiget(wire: DavWire, url: str, paths: Sequence[str]) -> Any:
    """Ask for the data of the given resources in one calendar-multiget REPORT; return the answer's tree.

    The tree is read (multiget_members) on a worker thread, together with the data it holds.
    """
    body = bodies.multiget(urlsplit(absolute(url, path)).path for path in paths)
    answer = await wire.send("multiget", "REPORT", url, body, {"Depth": "1"})
    return answer.response.tree


def multiget_members(tree: Any, url: str, paths: Sequence[str], account_id: int) -> list[Entry]:
    """Return a multiget answer's entries for the given paths, checked complete.

    Only a 404 or 410 says a resource is gone: a member failed, answered without its data or left
    out fails the whole read, so nothing is taken for deleted, or skipped, that was merely not read.
    """
    wanted = set(paths)
    found = [e for e in members(tree, url, "multiget", account_id) if e.path in wanted]
    failed = [e for e in found if e.status not in GONE and (e.status >= 300 or e.calendar_data is None)]
    if failed:
        statuses = ", ".join(sorted({str(entry.status) for entry in failed}))
        why = f"{len(failed)} resources without data, status {statuses}"
        raise incomplete("multiget", path_of(url), why, account_id)
    missing = wanted - {entry.path for entry in found}
    if missing:  # neither read nor said to be gone: a change that would be lost
        raise incomplete("multiget", path_of(url), f"{len(missing)} resources left out", account_id)
    return found
