"""Injectable faults: rules matched by method id and account, with Google's documented error bodies.

Graph calls are matched by the same rules (method ids `graph.*`); their bodies are built in
`calmirror.emulator.graph.errors`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CALL_KINDS = frozenset({"status", "timeout", "drop", "lost_response", "latency", "garbled"})
PUSH_KINDS = frozenset({"push_drop", "push_duplicate", "push_delay", "push_reorder"})

# status -> (domain, default reason, message) as Google documents them (errors guide).
_DEFAULT_REASON = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "duplicate",
    410: "fullSyncRequired",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
}
_REASONS = {
    "backendError": ("global", "Backend Error"),
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": ("usageLimits", "User Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "Calendar usage limits exceeded."),
    "fullSyncRequired": ("calendar", "Sync token is no longer valid, a full sync is required."),
    "authError": ("global", "Invalid Credentials"),
    "notFound": ("global", "Not Found"),
    "duplicate": ("global", "The requested identifier already exists."),
    "conditionNotMet": ("global", "Precondition Failed"),
    "badRequest": ("global", "Bad Request"),
}


class FaultRuleError(ValueError):
    """A fault rule that does not follow the documented format."""


@dataclass
class FaultRule:
    """One rule of the contract's fault format (docs/architecture.md)."""

    kind: str
    methods: tuple[str, ...] = ("*",)
    accounts: tuple[str, ...] | None = None
    status: int = 503
    reason: str | None = None
    retry_after: int | None = None
    seconds: float = 1.0
    times: int | None = None
    probability: float = 1.0
    fired: int = 0

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from its JSON object, rejecting unknown kinds and keys."""
        known = {"kind", "methods", "accounts", "status", "reason", "retry_after", "seconds"}
        unknown = set(data) - known - {"times", "probability"}
        if unknown:
            raise FaultRuleError(f"unknown fault rule keys: {sorted(unknown)}")
        kind = data.get("kind")
        if kind not in CALL_KINDS | PUSH_KINDS:
            raise FaultRuleError(f"unknown fault kind: {kind!r}")
        accounts = data.get("accounts")
        return cls(
            kind=str(kind),
            methods=tuple(data.get("methods") or ("*",)),
            accounts=tuple(accounts) if accounts is not None else None,
            status=int(data.get("status", 503)),
            reason=data.get("reason"),
            retry_after=data.get("retry_after"),
            seconds=float(data.get("seconds", 1.0)),
            times=data.get("times"),
            probability=float(data.get("probability", 1.0)),
        )

    def matches(self, method_id: str, account: str | None) -> bool:
        """Whether the rule covers this method and account and may still fire."""
        if self.times is not None and self.fired >= self.times:
            return False
        if not any(covers(pattern, method_id) for pattern in self.methods):
            return False
        return self.accounts is None or account in self.accounts

    def error_body(self) -> dict[str, Any]:
        """Google's error envelope for this status/reason (errors guide; 5xx answer backendError)."""
        reason = self.error_reason()
        domain, message = _REASONS.get(reason, ("global", reason))
        item = {"domain": domain, "reason": reason, "message": message}
        return {"error": {"errors": [item], "code": self.status, "message": message}}

    def error_reason(self) -> str:
        """The reason this rule answers with: the given one or the documented default for the status."""
        return self.reason or _DEFAULT_REASON.get(self.status, "backendError")

    def headers(self) -> dict[str, str]:
        """Extra response headers: Retry-After when the rule sets one."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


def covers(pattern: str, method_id: str) -> bool:
    """Whether a rule's method pattern names a method: exactly, or by a prefix ending in `.*`.

    "*" means every Calendar method; the token endpoints, batch envelopes and Graph calls are named
    explicitly ("graph.*" covers every Graph call, "graph.token" the identity platform's token endpoint).
    """
    if pattern == "*":
        return method_id.startswith("calendar.")
    if pattern.endswith(".*"):
        return method_id.startswith(pattern[:-1])
    return pattern == method_id


class Faults:
    """The ordered fault rules of one emulator, drawing probabilities from its seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule | Mapping[str, Any]) -> FaultRule:
        """Add a rule (a FaultRule or its JSON object); rules fire in the order added."""
        parsed = rule if isinstance(rule, FaultRule) else FaultRule.parse(rule)
        self.rules.append(parsed)
        return parsed

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def fire(self, method_id: str, account: str | None, kinds: frozenset[str]) -> list[FaultRule]:
        """Return the rules of the given kinds that fire now, in order, up to the first non-latency one."""
        fired: list[FaultRule] = []
        for rule in self.rules:
            if rule.kind not in kinds or not rule.matches(method_id, account):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            fired.append(rule)
            if rule.kind != "latency":
                break
        return fired

    def to_json(self) -> list[dict[str, Any]]:
        """Return the rules as JSON-ready data."""
        return [dict(vars(rule)) for rule in self.rules]
