"""Bench helpers for Google and Microsoft calendars in one emulator: accounts, meetings, blocks, counts.

The in-process emulator serves Google and, for Microsoft mailboxes, Graph on one port under one request
log; these helpers write meetings as their owners would, read a target's live blocks straight from
the emulator's stores (no request, so nothing is counted) and sort the log by provider.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import SecretStr

from bench import common
from calmirror.config import CalendarRef, Flow, MicrosoftAccount, Settings
from calmirror.config.models import DEFAULT_GRAPH_ROOT, DEFAULT_LOGIN_URL
from calmirror.emulator import Emulator
from calmirror.emulator.graph.model import StoredEvent
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.requestlog import CallRecord
from calmirror.engine import CalendarProvider
from calmirror.google.blocks import is_marked
from calmirror.google.provider import GoogleCalendars
from calmirror.microsoft import GraphClient, MicrosoftCalendars
from calmirror.microsoft.blocks import MARK_ID
from calmirror.runtime import graph_access

Kind = Literal["google", "microsoft"]
Span = tuple[datetime, datetime]
GUEST = "guest@example.net"  # no mailbox of the emulator's, so no invitation copy is made
GRAPH_WRITES = frozenset({"graph.create_event", "graph.patch_event", "graph.delete_event"})
TOKENS = frozenset({common.TOKEN_METHOD, "graph.token"})
BATCH_PATHS = ("/batch/calendar/v3", "/v1.0/$batch")


@dataclass(frozen=True)
class Party:
    """One calendar of a direction: its account number, its service and its owner's address."""

    n: int
    kind: Kind
    email: str

    @property
    def ref(self) -> CalendarRef:
        """Return the flow's name for its primary calendar (Google: the address; Graph: "primary")."""
        return CalendarRef(account_id=self.n, calendar_id=self.email if self.kind == "google" else "primary")


def graph_of(emulator: Emulator) -> GraphEmulator:
    """Return the emulator's Graph side (it has one when started with Microsoft accounts)."""
    if emulator.graph is None:
        raise RuntimeError("the emulator was started without Microsoft accounts")
    return emulator.graph


def microsoft_account(emulator: Emulator, n: int, email: str) -> MicrosoftAccount:
    """Return the configured MicrosoftAccount of one of the emulator's mailboxes (delegated)."""
    graph = graph_of(emulator)
    return MicrosoftAccount(
        id=n,
        email=email,
        client_id=graph.client.client_id,
        client_secret=SecretStr(graph.client.client_secret),
        refresh_token=SecretStr(graph.refresh_tokens[email]),
    )


def settings(emulator: Emulator, parties: Sequence[Party], flows: Sequence[Flow], *, days: int) -> Settings:
    """Return Settings for the parties' accounts and the flows, the daily window reaching `days` ahead."""
    google = {p.n: common.account(emulator, p.n, p.email) for p in parties if p.kind == "google"}
    microsoft = {p.n: microsoft_account(emulator, p.n, p.email) for p in parties if p.kind == "microsoft"}
    graph = emulator.graph
    graph_root = graph.graph_root if graph is not None else DEFAULT_GRAPH_ROOT
    login_url = graph.login_root if graph is not None else DEFAULT_LOGIN_URL
    return Settings(
        google_accounts=google,
        microsoft_accounts=microsoft,
        flows=tuple(flows),
        daily_reconcile_days_back=2,
        daily_reconcile_days_forward=days,
        google_api_root_url=emulator.api_root,
        google_token_uri=emulator.token_uri,
        microsoft_graph_root_url=graph_root,
        microsoft_login_url=login_url,
    )


def providers(emulator: Emulator, config: Settings) -> dict[int, CalendarProvider]:
    """Return the providers the runtime would open (Google's quota limiter off, see common.client)."""
    found: dict[int, CalendarProvider] = {
        n: GoogleCalendars(common.client(emulator, account)) for n, account in config.google_accounts.items()
    }
    for n, account in config.microsoft_accounts.items():
        found[n] = MicrosoftCalendars(GraphClient(graph_access(config, account)))
    return found


def graph_body(start: datetime, minutes: int, *, subject: str = "Meeting") -> dict[str, Any]:
    """Return a qualifying Graph meeting: the owner organises it, one guest is invited."""

    def when(at: datetime) -> dict[str, str]:
        return {"dateTime": at.replace(tzinfo=None).isoformat(), "timeZone": "UTC"}

    return {
        "subject": subject,
        "start": when(start),
        "end": when(start + timedelta(minutes=minutes)),
        "attendees": [
            {"type": "required", "status": {"response": "accepted"}, "emailAddress": {"address": GUEST}}
        ],
    }


def graph_calendar_id(emulator: Emulator, email: str) -> str:
    """Return the id of a mailbox's default calendar."""
    return graph_of(emulator).store.mailbox(email).default_calendar_id


def add_graph_meeting(emulator: Emulator, email: str, start: datetime, minutes: int) -> StoredEvent:
    """Store a meeting in a mailbox's default calendar as Outlook would (subscriptions are told)."""
    store = graph_of(emulator).store
    event, _ = store.insert(store.calendar(email, None), graph_body(start, minutes))
    return event


def move_graph_meeting(emulator: Emulator, event: StoredEvent, start: datetime, minutes: int) -> StoredEvent:
    """Move a stored Graph meeting to a new time as Outlook would."""
    body = graph_body(start, minutes)
    return graph_of(emulator).store.update(event, {"start": body["start"], "end": body["end"]})


def delete_graph_meeting(emulator: Emulator, event: StoredEvent) -> None:
    """Delete a stored Graph meeting as Outlook would."""
    store = graph_of(emulator).store
    store.delete(store.events[event.id])


def blocks(emulator: Emulator, party: Party) -> set[Span]:
    """Return (start, end) of every live calmirror block in a party's primary calendar, from the store."""
    if party.kind == "google":
        found = emulator.store.raw_events(party.email)
        live = [e for e in found if is_marked(e) and e.get("status") != "cancelled"]
        return {(common.instant(e["start"]["dateTime"]), common.instant(e["end"]["dateTime"])) for e in live}
    store = graph_of(emulator).store
    calendar = store.mailbox(party.email).default_calendar_id
    return {
        (e.start, e.end) for e in store.events_in(calendar) if MARK_ID in e.extended and not e.is_cancelled
    }


@dataclass(frozen=True)
class Counts:
    """What the emulator saw during one step, both services together."""

    http_requests: int  # every HTTP request, token requests and batch envelopes included
    token_requests: int
    batch_requests: int  # batch envelopes (Google's or Graph's $batch)
    reads: int  # read calls, batch parts included, token requests not
    writes: int  # write calls (each batch part is one)
    seconds: float

    @property
    def api_requests(self) -> int:
        """Return the HTTP requests that are not token requests."""
        return self.http_requests - self.token_requests


def is_write(call: CallRecord) -> bool:
    """Tell whether a logged call (Google or Graph) writes an event."""
    return call.method_id in GRAPH_WRITES or call.method_id.rsplit(".", 1)[-1] in {
        "insert",
        "update",
        "patch",
        "delete",
    }


def counts(emulator: Emulator, seconds: float) -> Counts:
    """Read the emulator's log since its last reset into Counts."""
    log = emulator.requests
    tokens = sum(1 for c in log.calls if c.method_id in TOKENS)
    writes = sum(1 for c in log.calls if is_write(c))
    reads = len(log.calls) - tokens - writes
    batches = sum(1 for h in log.http if h.path in BATCH_PATHS)
    return Counts(len(log.http), tokens, batches, reads, writes, seconds)


class WriteClock:
    """Notes when the emulator stores a write to a watched calendar: where a latency sample starts.

    It listens to both stores, so the clock starts at the write itself, however the write arrived.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._watched: str | None = None
        self.at: float | None = None
        emulator.store.subscribe(self._written)
        if emulator.graph is not None:
            emulator.graph.store.listeners.append(
                lambda calendar_id, _event, _kind: self._written(calendar_id)
            )

    def watch(self, calendar_id: str) -> None:
        """Start looking for the next write to this calendar."""
        self._watched, self.at = calendar_id, None

    def _written(self, calendar_id: str) -> None:
        """Note the first write to the watched calendar."""
        if calendar_id == self._watched and self.at is None:
            self.at = time.perf_counter()


def flow_env(n: int, name: str, source: Party, target: Party) -> dict[str, str]:
    """Return the SYNC_FLOW_<n>_* variables of a flow between two primary calendars, offsets 0."""
    prefix = f"SYNC_FLOW_{n}_"
    return {
        prefix + "NAME": name,
        prefix + "SOURCE_ACCOUNT_ID": str(source.n),
        prefix + "SOURCE_CALENDAR_ID": "primary",
        prefix + "TARGET_ACCOUNT_ID": str(target.n),
        prefix + "TARGET_CALENDAR_ID": "primary",
        prefix + "START_OFFSET": "0",
        prefix + "END_OFFSET": "0",
    }


def account_env(emulator: Emulator, party: Party) -> dict[str, str]:
    """Return the GOOGLE_ACCOUNT_<n>_* or MICROSOFT_ACCOUNT_<n>_* variables of a party's account."""
    if party.kind == "microsoft":
        token = graph_of(emulator).refresh_tokens[party.email]
        prefix = f"MICROSOFT_ACCOUNT_{party.n}_"
        return {prefix + "EMAIL": party.email, prefix + "REFRESH_TOKEN": token}
    creds = emulator.accounts[party.email]
    prefix = f"GOOGLE_ACCOUNT_{party.n}_"
    return {
        prefix + "EMAIL": party.email,
        prefix + "CLIENT_ID": creds.client_id,
        prefix + "CLIENT_SECRET": creds.client_secret,
        prefix + "REFRESH_TOKEN": creds.refresh_token,
    }


def service_env(emulator: Emulator, base: Mapping[str, str]) -> dict[str, str]:
    """Return `base` without calmirror's variables, plus where both services of the emulator answer."""
    prefixes = ("GOOGLE_", "MICROSOFT_", "SYNC_", "WEBHOOK_")
    env = {k: v for k, v in base.items() if not k.startswith(prefixes)}
    env |= {"GOOGLE_API_ROOT_URL": emulator.api_root, "GOOGLE_TOKEN_URI": emulator.token_uri}
    graph = emulator.graph
    if graph is not None:
        env |= {
            "MICROSOFT_GRAPH_ROOT_URL": graph.graph_root,
            "MICROSOFT_LOGIN_URL": graph.login_root,
            "MICROSOFT_CLIENT_ID": graph.client.client_id,
            "MICROSOFT_CLIENT_SECRET": graph.client.client_secret,
        }
    return env
