"""Shared bench helpers: an emulator with latency, real clients and settings, seeded meetings, rows."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings
from calmirror.emulator import AccountCredentials, Emulator, start_emulator
from calmirror.google.client import CalendarClient
from calmirror.google.discovery import CalendarApi
from calmirror.google.quota import QuotaLimiter
from calmirror.google.writes import Insert

ALICE = "alice@example.com"  # owns the source calendar
BOB = "bob@example.com"  # owns the target calendar
TOKEN_METHOD = "oauth2.token"


def row(
    bench: str, case: str, metric: str, value: float, unit: str, *, system: str | None = None
) -> dict[str, Any]:
    """Return one result row in the shape docs/architecture.md fixes."""
    out: dict[str, Any] = {"bench": bench, "case": case, "metric": metric, "value": value, "unit": unit}
    if system is not None:
        out["system"] = system
    return out


def percentile(samples: Sequence[float], pct: float) -> float:
    """Return the nearest-rank percentile of the samples (no interpolation: it is a measured value)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@asynccontextmanager
async def emulator_running(
    *, latency_ms: int = 0, accounts: Sequence[str] = (ALICE, BOB)
) -> AsyncIterator[Emulator]:
    """Start the in-process emulator on loopback for the duration of the block."""
    emulator = await start_emulator(accounts=accounts, latency_ms=latency_ms)
    try:
        yield emulator
    finally:
        await emulator.stop()


class Root(Protocol):
    """Where an emulator answers (in-process, in a child or in a subprocess)."""

    @property
    def api_root(self) -> str: ...

    @property
    def token_uri(self) -> str: ...


class Endpoint(Root, Protocol):
    """Where an emulator answers and the credentials of its accounts."""

    @property
    def accounts(self) -> dict[str, AccountCredentials]: ...


def account(endpoint: Endpoint, account_id: int, email: str) -> GoogleAccount:
    """Return the configured GoogleAccount for one of the emulator's accounts."""
    creds = endpoint.accounts[email]
    return GoogleAccount(
        id=account_id,
        email=email,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        refresh_token=creds.refresh_token,
    )


def client(
    endpoint: Root, acct: GoogleAccount, *, max_threads: int = 4, api: CalendarApi | None = None
) -> CalendarClient:
    """Return a real CalendarClient pointed at the emulator, its quota limiter effectively off.

    The default limiter holds an account to Google's per-user quota (1,500 units a minute), which would
    turn every write-heavy case into a measurement of the limiter; the quota_units rows show that cost.
    """
    unthrottled = QuotaLimiter(limits=((1.0, 1_000_000),))
    return CalendarClient(
        acct,
        api_root=endpoint.api_root,
        token_uri=endpoint.token_uri,
        limiter=unthrottled,
        max_threads=max_threads,
        api=api,
    )


def settings(
    emulator: Emulator, accounts: Sequence[GoogleAccount], flows: Sequence[Flow], *, days_forward: int
) -> Settings:
    """Return Settings for these accounts and flows, with the daily window reaching `days_forward`."""
    return Settings(
        google_accounts={a.id: a for a in accounts},
        flows=tuple(flows),
        daily_reconcile_days_back=2,
        daily_reconcile_days_forward=days_forward,
        google_api_root_url=emulator.api_root,
        google_token_uri=emulator.token_uri,
    )


def flow(source: GoogleAccount, target: GoogleAccount, *, offsets: int = 5) -> Flow:
    """Return the one flow the benchmarks mirror: the source's primary into the target's primary."""
    return Flow(
        id=1,
        name="bench",
        source=CalendarRef(account_id=source.id, calendar_id=source.email),
        target=CalendarRef(account_id=target.id, calendar_id=target.email),
        start_offset=offsets,
        end_offset=offsets,
    )


def rfc3339(moment: datetime) -> str:
    """Render an aware instant the way Google accepts it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instant(text: str) -> datetime:
    """Parse an RFC 3339 instant (any offset) into an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def meeting(
    event_id: str, start: datetime, minutes: int, owner: str, *, summary: str = "Meeting"
) -> dict[str, Any]:
    """Return the body of a qualifying meeting: confirmed, opaque, the owner plus one guest."""
    return {
        "id": event_id,
        "summary": summary,
        "start": {"dateTime": rfc3339(start)},
        "end": {"dateTime": rfc3339(start + timedelta(minutes=minutes))},
        "attendees": [
            {"email": owner, "responseStatus": "accepted"},
            {"email": "guest@example.net", "responseStatus": "accepted"},
        ],
    }


@dataclass(frozen=True)
class Schedule:
    """Where the seeded meetings sit: one every `spacing` from `first`, none overlapping."""

    first: datetime
    spacing: timedelta
    minutes: int

    def start(self, i: int) -> datetime:
        """Return the start of meeting number i."""
        return self.first + i * self.spacing


def schedule() -> Schedule:
    """Return the bench schedule: hourly 30-minute meetings starting two whole hours from now."""
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    return Schedule(first, timedelta(hours=1), 30)


def meeting_id(i: int) -> str:
    """Return a Google-valid (base32hex) id for seeded meeting number i."""
    return f"m{i:06d}"


async def seed(source: CalendarClient, calendar_id: str, bodies: Iterable[dict[str, Any]]) -> None:
    """Insert events through the batch endpoint; raise if any insert failed."""
    outcomes = await source.apply_writes([Insert(calendar_id, body) for body in bodies])
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:
        raise RuntimeError(f"seeding failed for {len(errors)} events, first: {errors[0]!r}")


@dataclass(frozen=True)
class Cost:
    """What the emulator saw during one measured step."""

    http_requests: int
    token_requests: int
    calls: dict[str, int]
    quota_units: int
    seconds: float

    @property
    def writes(self) -> int:
        """Return the number of write calls (insert, update, patch, delete) executed."""
        return sum(
            n
            for m, n in self.calls.items()
            if m.rsplit(".", 1)[-1] in {"insert", "update", "patch", "delete"}
        )

    @property
    def reads(self) -> int:
        """Return the number of non-write API calls executed, token requests excluded."""
        return sum(self.calls.values()) - self.writes - self.calls.get(TOKEN_METHOD, 0)


def cost(emulator: Emulator, seconds: float) -> Cost:
    """Read the emulator's counters since the last reset into a Cost."""
    stats = emulator.requests.stats()
    calls = dict(stats["calls"])
    units = sum(n for per_method in stats["quota_units"].values() for n in per_method.values())
    return Cost(stats["http_requests"], calls.get(TOKEN_METHOD, 0), calls, units, seconds)


def cost_rows(bench: str, case: str, system: str, c: Cost) -> list[dict[str, Any]]:
    """Return the standard rows for one measured step."""
    return [
        row(bench, case, "http_requests", c.http_requests, "requests", system=system),
        row(bench, case, "token_requests", c.token_requests, "requests", system=system),
        row(bench, case, "api_calls", sum(c.calls.values()) - c.token_requests, "calls", system=system),
        row(bench, case, "writes", c.writes, "calls", system=system),
        row(bench, case, "quota_units", c.quota_units, "units", system=system),
        row(bench, case, "wall_clock", round(c.seconds * 1000, 1), "ms", system=system),
    ]
