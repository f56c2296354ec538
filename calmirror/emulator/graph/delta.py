"""calendarView delta rounds: the window fixed by the first call, paging, and the state tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.instances import Instance, instances
from calmirror.emulator.graph.store import GraphStore


@dataclass(frozen=True)
class Removed:
    """An instance the client held that is gone from the window (deleted, cancelled or moved out)."""

    id: str


Change = Instance | Removed


@dataclass(frozen=True)
class Round:
    """One delta round of a calendar's window: changes after version `since` up to `upto`, `offset` served."""

    calendar_id: str
    start: datetime
    end: datetime
    since: int
    upto: int
    offset: int = 0


@dataclass(frozen=True)
class Page:
    """One answer of a round: its changes and either a next-page token or the delta token."""

    changes: tuple[Change, ...]
    skip_token: str | None
    delta_token: str | None


class DeltaRounds:
    """The state tokens handed out (`$skiptoken` and `$deltatoken`) and what each resumes."""

    def __init__(self) -> None:
        self.tokens: dict[str, Round] = {}

    def begin(self, store: GraphStore, calendar_id: str, start: datetime, end: datetime) -> Round:
        """The first round of a window: everything in it as of now."""
        return Round(calendar_id, start, end, since=0, upto=store.version)

    def resume(self, token: str, calendar_id: str, store: GraphStore, *, next_round: bool) -> Round:
        """The round a token continues; a delta token starts the next round from where the last ended."""
        found = self.tokens.get(token)
        if found is None or found.calendar_id != calendar_id:
            raise GraphError(
                410, "SyncStateNotFound", "The sync state generation is not found. Please resync."
            )
        if next_round:
            return Round(found.calendar_id, found.start, found.end, since=found.upto, upto=store.version)
        return found

    def invalidate(self) -> None:
        """Forget every token: the next use answers 410 (a server-side sync reset)."""
        self.tokens.clear()

    def page(self, store: GraphStore, round_: Round, size: int) -> Page:
        """Serve up to `size` changes of a round and the token that continues it."""
        changes = changes_of(store, round_)
        served = changes[round_.offset : round_.offset + size]
        token = secrets.token_urlsafe(24)
        if round_.offset + size < len(changes):
            self.tokens[token] = replace(round_, offset=round_.offset + size)
            return Page(tuple(served), token, None)
        self.tokens[token] = replace(round_, offset=len(changes))
        return Page(tuple(served), None, token)


def changes_of(store: GraphStore, round_: Round) -> list[Change]:
    """A round's changes as of its `upto` version: changed instances in the window, then what left it.

    After the first round, an event changed (added, updated or deleted) wholly outside the window comes
    as `@removed` too, as Graph's event delta says it may (https://learn.microsoft.com/graph/api/event-delta).
    """
    found: list[Change] = []
    for event_id in store.changed_between(round_.calendar_id, round_.since, round_.upto):
        now = store.at(event_id, round_.upto)
        shown = instances(now, round_.start, round_.end) if now is not None else []
        before = store.at(event_id, round_.since) if round_.since else None
        held = {i.id for i in instances(before, round_.start, round_.end)} if before is not None else set()
        found.extend(shown)
        found.extend(Removed(gone) for gone in sorted(held - {i.id for i in shown}))
        if round_.since and not shown and not held:
            found.append(Removed(event_id))
    return found
