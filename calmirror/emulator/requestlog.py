"""The emulator's request log and per-account quota accounting (quota guide; units of design.md §7.3)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

# Quota units per call (docs/design.md §7.3; events.patch: a patch costs three units).
_UNITS = {
    "insert": 3,
    "update": 3,
    "patch": 3,
    "import": 3,
    "quickAdd": 3,
    "move": 3,
    "delete": 2,
}


def quota_units(method_id: str) -> int:
    """Return the units one call of a method costs: writes 3, delete 2, everything else 1."""
    return _UNITS.get(method_id.rsplit(".", 1)[-1], 1)


@dataclass(frozen=True)
class HttpRecord:
    """One HTTP request as received (a batch envelope is one)."""

    http_method: str
    path: str
    at: float


@dataclass(frozen=True)
class CallRecord:
    """One API method execution (each batch part is one), with its outcome."""

    method_id: str
    account: str | None
    status: int
    in_batch: bool
    at: float
    query: tuple[tuple[str, str], ...] = ()  # the call's query parameters, repeated keys kept

    def param(self, name: str) -> str | None:
        """Return the first value of a query parameter, or None."""
        return next((value for key, value in self.query if key == name), None)


@dataclass
class RequestLog:
    """Every HTTP request and every method call the emulator saw since the last reset."""

    http: list[HttpRecord] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)

    def record_http(self, http_method: str, path: str) -> None:
        """Record an HTTP request as it arrives."""
        self.http.append(HttpRecord(http_method, path, time.time()))

    def record_call(
        self,
        method_id: str,
        account: str | None,
        status: int,
        *,
        in_batch: bool,
        query: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Record one method call, its query parameters and its answer status."""
        self.calls.append(CallRecord(method_id, account, status, in_batch, time.time(), query))

    def calls_of(self, method_id: str) -> list[CallRecord]:
        """Return the calls of one method, oldest first."""
        return [c for c in self.calls if c.method_id == method_id]

    def reset(self) -> None:
        """Forget everything recorded so far (counters included)."""
        self.http.clear()
        self.calls.clear()

    def stats(self) -> dict[str, Any]:
        """Return `{"http_requests", "calls", "quota_units"}` as in docs/architecture.md."""
        calls: dict[str, int] = {}
        units: dict[str, dict[str, int]] = {}
        for call in self.calls:
            calls[call.method_id] = calls.get(call.method_id, 0) + 1
            if call.account is not None and call.method_id.startswith("calendar."):
                per = units.setdefault(call.account, {})
                per[call.method_id] = per.get(call.method_id, 0) + quota_units(call.method_id)
        return {"http_requests": len(self.http), "calls": calls, "quota_units": units}

    def to_json(self) -> dict[str, Any]:
        """Return the whole log and its stats as JSON-ready data (control API)."""
        return {
            "http": [asdict(r) for r in self.http],
            "calls": [asdict(c) for c in self.calls],
            "stats": self.stats(),
        }
