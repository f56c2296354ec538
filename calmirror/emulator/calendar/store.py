"""The emulator's synchronous in-memory state: calendars, versioned events, change counter, subscribers."""

from __future__ import annotations

import bisect
import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from calmirror.emulator.calendar.errors import ApiError, not_found, required_access
from calmirror.emulator.calendar.ev_times import zone

Event = dict[str, Any]
T = TypeVar("T")
MAX_CACHE_ENTRIES = 2048
MAX_VERSIONS = 32  # versions kept per event for page-token snapshots
Clock = Callable[[], datetime]
# ACL roles from weakest to strongest (https://developers.google.com/calendar/api/v3/reference/acl)
ROLES = ("freeBusyReader", "reader", "writer", "owner")


def at_least(role: str | None, need: str) -> bool:
    """Whether an access role (None: no access) is at least as strong as `need`."""
    return role is not None and ROLES.index(role) >= ROLES.index(need)


def _known_zone(name: str) -> None:
    """Raise ValueError unless `name` is an IANA time zone."""
    try:
        zone(name)
    except ApiError:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


def _utcnow() -> datetime:
    """Return the wall clock in UTC."""
    return datetime.now(UTC)


def format_updated(moment: datetime) -> str:
    """Render `updated`: UTC with milliseconds, e.g. `2026-01-02T03:04:05.678Z` (discovery doc)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_created(moment: datetime) -> str:
    """Render `created`: UTC, milliseconds always zero (events.list)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Calendar:
    """One calendar; the primary calendar of an account has the account's email as its id."""

    id: str
    owner: str
    summary: str
    primary: bool
    time_zone: str = "UTC"
    shared: dict[str, str] = field(default_factory=dict)  # account -> ACL role; the owner is implicit

    def role_of(self, account: str) -> str | None:
        """Return the account's access role on this calendar, or None when it cannot see it."""
        return "owner" if account == self.owner else self.shared.get(account)


@dataclass(frozen=True)
class Version:
    """One committed state of an event; `seq` is the store-wide change counter at commit."""

    seq: int
    event: Event


@dataclass
class _CalendarEvents:
    """The append-only version history of every event of one calendar."""

    history: dict[str, list[Version]] = field(default_factory=dict)
    sync_epoch: int = 0


class Store:
    """Calendars and events with tombstones, etags and a monotonically increasing change counter."""

    def __init__(self, *, clock: Clock = _utcnow, sync_token_ttl_seconds: float | None = None) -> None:
        self.clock = clock
        self.sync_token_ttl_seconds = sync_token_ttl_seconds
        self.secret = secrets.token_hex(4)  # binds tokens to this emulator instance (sync guide: opaque)
        self.cache: dict[Any, Any] = {}  # recurrence expansions and listings, keyed by version/snapshot
        self._calendars: dict[str, Calendar] = {}
        self._events: dict[str, _CalendarEvents] = {}
        self._seq = 0
        self._subscribers: list[Callable[[str], None]] = []

    # --- calendars -------------------------------------------------------------------------------

    def add_account(self, email: str, *, time_zone: str = "UTC") -> None:
        """Create the account's primary calendar (its id is the email) in an IANA time zone."""
        _known_zone(time_zone)
        if email not in self._calendars:
            self._calendars[email] = Calendar(email, email, email, primary=True, time_zone=time_zone)
            self._events[email] = _CalendarEvents()

    def create_calendar(
        self, owner: str, summary: str, calendar_id: str | None = None, *, time_zone: str = "UTC"
    ) -> str:
        """Create an extra calendar owned by `owner` in an IANA time zone and return its id."""
        if owner not in self._calendars:
            raise not_found()
        _known_zone(time_zone)
        cid = calendar_id or f"c_{secrets.token_hex(16)}@group.calendar.google.com"
        if cid in self._calendars:
            raise ValueError(f"calendar {cid} exists")
        self._calendars[cid] = Calendar(cid, owner, summary, primary=False, time_zone=time_zone)
        self._events[cid] = _CalendarEvents()
        return cid

    @property
    def accounts(self) -> list[str]:
        """Return the emails of all accounts."""
        return [c.id for c in self._calendars.values() if c.primary]

    def find_calendar(self, calendar_id: str) -> Calendar | None:
        """Return the calendar or None."""
        return self._calendars.get(calendar_id)

    def calendars_of(self, account: str) -> list[Calendar]:
        """Return the calendars an account can see (owned or shared with it), its primary first."""
        visible = [c for c in self._calendars.values() if c.role_of(account) is not None]
        return sorted(visible, key=lambda c: c.id != account)

    def share(self, calendar_id: str, account: str, role: str) -> None:
        """Give an account an ACL role on a calendar; role `none` takes the access away."""
        cal = self._calendars.get(calendar_id)
        if cal is None:
            raise not_found()
        if account not in self.accounts:
            raise ValueError(f"unknown account {account}")
        if account == cal.owner:
            raise ValueError(f"{account} owns {calendar_id}; its role cannot change")
        if role == "none":
            cal.shared.pop(account, None)
        elif role in ROLES:
            cal.shared[account] = role
        else:
            raise ValueError(f"role must be one of {', '.join((*ROLES, 'none'))}, not {role!r}")

    def resolve(self, account: str, calendar_id: str, *, need: str = "reader") -> Calendar:
        """Resolve `primary` and check access: unseen calendars 404, too weak a role 403 (errors guide)."""
        cid = account if calendar_id == "primary" else calendar_id
        cal = self._calendars.get(cid)
        role = cal.role_of(account) if cal is not None else None
        if cal is None or role is None:
            raise not_found()
        if not at_least(role, need):
            raise required_access(need)
        return cal

    # --- events ----------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Return the current value of the change counter."""
        return self._seq

    def get(self, calendar_id: str, event_id: str) -> Event | None:
        """Return a copy of the current stored event (tombstones included) or None."""
        versions = self._events[calendar_id].history.get(event_id)
        return copy.deepcopy(versions[-1].event) if versions else None

    def raw_events(self, calendar_id: str) -> list[Event]:
        """Inspection for tests: every stored event of a calendar, tombstones and exceptions included."""
        return [copy.deepcopy(v[-1].event) for v in self._events[calendar_id].history.values()]

    def snapshot(self, calendar_id: str, at_seq: int) -> list[Version]:
        """Return each event's latest version committed at or before `at_seq` (page-token snapshots)."""
        found = []
        for versions in self._events[calendar_id].history.values():
            if versions[-1].seq <= at_seq:  # the usual case: nothing changed since the snapshot
                found.append(versions[-1])
                continue
            i = bisect.bisect_right(versions, at_seq, key=lambda v: v.seq)
            if i:
                found.append(versions[i - 1])
        return found

    def commit(self, calendar_id: str, event: Event, *, notify: bool = True) -> Event:
        """Store a new version: fresh etag and `updated`, next change number; return a copy."""
        self._seq += 1
        now = self.clock()
        stored = copy.deepcopy(event)
        stored["etag"] = f'"{int(now.timestamp() * 1000)}{self._seq:06d}"'
        stored["updated"] = format_updated(now)
        stored.setdefault("created", format_created(now))
        versions = self._events[calendar_id].history.setdefault(stored["id"], [])
        versions.append(Version(self._seq, stored))
        del versions[:-MAX_VERSIONS]  # bounded memory; only page tokens older than this many writes notice
        if notify:
            self.notify(calendar_id)
        return copy.deepcopy(stored)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Return `compute()` cached under a key that names immutable inputs; the cache is bounded."""
        if key not in self.cache:
            if len(self.cache) >= MAX_CACHE_ENTRIES:
                self.cache.clear()  # simple bound: recomputation is always correct
            self.cache[key] = compute()
        value: T = self.cache[key]
        return value

    # --- subscriptions and sync-token epochs -----------------------------------------------------

    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Register `callback(calendar_id)`, run synchronously after every committed change."""
        self._subscribers.append(callback)

    def notify(self, calendar_id: str) -> None:
        """Run every subscriber for a changed calendar."""
        for callback in list(self._subscribers):
            callback(calendar_id)

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Make every outstanding sync token (of one calendar, or all) answer 410 (sync guide)."""
        for cid, events in self._events.items():
            if calendar_id is None or cid == calendar_id:
                events.sync_epoch += 1

    def sync_epoch(self, calendar_id: str) -> int:
        """Return the calendar's sync-token generation; tokens of older generations are invalid."""
        return self._events[calendar_id].sync_epoch
