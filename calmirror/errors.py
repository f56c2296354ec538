"""The one exception tree of calmirror; each provider translates its failures into it once, at its boundary.

Each provider error class names its `kind` (a short, bounded word used in /health, metrics and hints)
as a class attribute, so classifying an error never depends on the order of an isinstance chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Literal

# The bounded kinds of a provider failure ("error" for anything without a kind of its own).
ErrorKind = Literal[
    "error",
    "transient",
    "rate_limited",
    "auth",
    "forbidden",
    "quota",
    "not_found",
    "gone",
    "conflict",
    "invalid",
]


class CalmirrorError(Exception):
    """Base class for every error calmirror raises on purpose."""


class ConfigError(CalmirrorError):
    """Raised when the environment does not describe a runnable configuration; lists every problem."""

    def __init__(self, problems: list[str], warnings: tuple[str, ...] = ()) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems
        self.warnings = warnings  # e.g. a probable typo that explains a "missing" problem


class ProviderError(CalmirrorError):
    """Raised when a calendar provider call fails; carries its HTTP status and reason, never a secret."""

    retryable = False
    kind: ClassVar[ErrorKind] = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        account_id: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.account_id = account_id
        self.retry_after = retry_after


class AuthNeededError(ProviderError):
    """Raised when an account's credentials are refused (invalid_grant, HTTP 401): a person renews them."""

    kind: ClassVar[ErrorKind] = "auth"


class ForbiddenError(ProviderError):
    """Raised on a 403 that is not a rate limit: missing permission or a forbidden operation."""

    kind: ClassVar[ErrorKind] = "forbidden"


class QuotaExceededError(ForbiddenError):
    """Raised on 403 quotaExceeded, Google's long-term usage limit; retrying soon does not help."""

    kind: ClassVar[ErrorKind] = "quota"


class NotFoundError(ProviderError):
    """Raised when a calendar, event or channel does not exist (404)."""

    kind: ClassVar[ErrorKind] = "not_found"


class GoneError(ProviderError):
    """Raised when the resource was deleted (410 deleted), for example deleting a deleted event."""

    kind: ClassVar[ErrorKind] = "gone"


class SyncTokenExpiredError(ProviderError):
    """Raised when Google answers 410 to a sync-token listing: the cache must list the window again."""

    kind: ClassVar[ErrorKind] = "gone"


class DuplicateError(ProviderError):
    """Raised when an insert names an event id that already exists, live or deleted (409)."""

    kind: ClassVar[ErrorKind] = "conflict"


class PreconditionFailedError(ProviderError):
    """Raised when an If-Match etag no longer matches (412)."""

    kind: ClassVar[ErrorKind] = "conflict"


class InvalidRequestError(ProviderError):
    """Raised when Google rejects the request itself (400 and other non-retryable 4xx)."""

    kind: ClassVar[ErrorKind] = "invalid"


class RateLimitedError(ProviderError):
    """Raised on 429 or 403 rateLimitExceeded/userRateLimitExceeded; worth retrying after a wait."""

    kind: ClassVar[ErrorKind] = "rate_limited"
    retryable = True


class TransientError(ProviderError):
    """Raised on 5xx answers, timeouts and broken connections; worth retrying after a wait."""

    kind: ClassVar[ErrorKind] = "transient"
    retryable = True


class NoAnswerError(TransientError):
    """Raised when no readable answer came (timeout, broken connection, garbage): a write may be done."""


# Why calendar data could not be read, as UnreadableDataError.reason, with what the operator checks.
UnreadableReason = Literal["unparsable", "truncated", "empty", "too_large"]
UNREADABLE_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "unparsable": "its address answers something that is not iCalendar data (a web or login page?): "
        "check the address",
        "truncated": "its answer was cut short (a broken connection or server): it is retried; if it stays, "
        "check the server",
        "empty": "it answered no events after it had some, so nothing was deleted: check that it still "
        "publishes the calendar",
        "too_large": "its answer is larger than calmirror reads: publish a shorter range of the calendar",
    }
)


class UnreadableDataError(ProviderError):
    """Raised when calendar data (an iCalendar feed or resource) cannot be read; `reason` says how.

    A truncated answer is a TruncatedDataError: a broken connection, worth reading again.
    """

    kind: ClassVar[ErrorKind] = "invalid"

    def __init__(
        self,
        message: str,
        *,
        reason: UnreadableReason,
        status: int | None = None,
        account_id: int | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason, account_id=account_id)


class TruncatedDataError(UnreadableDataError):
    """Raised when calendar data stops before its end (a broken connection): transient, so retried."""

    kind: ClassVar[ErrorKind] = "transient"
    retryable = True

    def __init__(self, message: str, *, status: int | None = None, account_id: int | None = None) -> None:
        super().__init__(message, reason="truncated", status=status, account_id=account_id)


# The reason of an AuthNeededError whose password (a CalDAV app password) the server refused (HTTP 401).
PASSWORD_REFUSED = "unauthorized"  # noqa: S105 - a reason, not a secret
# Reasons of an AuthNeededError refusing the app registration rather than the user's grant, so that a new
# sign-in cannot cure it: its client secret was refused (wrong, expired, or needed and missing), or its
# client id names no application. Their fix names the variable to correct.
CLIENT_REFUSED = "invalid_client"
CLIENT_UNKNOWN = "unknown_client"
# The reason calmirror itself refuses an account whose grant signed in as another mailbox than its address.
WRONG_MAILBOX = "wrong_mailbox"
# Reasons of an ICS feed's failures: its address (which carries the feed's secret) was refused (401,
# 403) or names no feed (404, 410), and the refusal of any write (a feed is read-only).
FEED_REFUSED = "feed_refused"
FEED_NOT_FOUND = "feed_not_found"
FEED_READ_ONLY = "feed_read_only"

# What a failure was about: a provider error's kind, or a source event whose times cannot be read.
FailureKind = Literal[ErrorKind, "unusable_times"]
Side = Literal["source", "target"]
Operation = Literal["read", "write"]
# Kinds that retrying does not cure: a person must change access, quota, configuration or a grant.
NEEDS_PERSON: frozenset[FailureKind] = frozenset({"auth", "forbidden", "quota", "not_found", "invalid"})


@dataclass(frozen=True)
class Failure:
    """One failed read or write as a value: its kind, status and reason, and which side's calendar."""

    kind: FailureKind
    side: Side
    calendar: str
    account_id: int | None = None
    operation: Operation = "read"
    status: int | None = None
    reason: str | None = None
    detail: str = ""  # the provider's message, for people and logs only: nothing decides by it

    @classmethod
    def of(
        cls,
        error: BaseException,
        side: Side,
        calendar: str,
        operation: Operation = "read",
        account_id: int | None = None,
    ) -> Failure:
        """Return the value of a caught error (a non-provider exception is kind "error")."""
        if isinstance(error, ProviderError):
            status, reason, kind = error.status, error.reason, error.kind
            account_id = error.account_id if account_id is None else account_id
        else:
            status, reason, kind = None, None, "error"
        return cls(kind, side, calendar, account_id, operation, status, reason, str(error)[:300])

    @property
    def needs_person(self) -> bool:
        """Tell whether retrying cannot cure it (access, quota, a revoked grant, a refused request)."""
        return self.kind in NEEDS_PERSON

    @property
    def read_only(self) -> bool:
        """Tell whether the calendar can be read but not written by the account (403 requiredAccessLevel)."""
        return self.kind == "forbidden" and self.reason == "requiredAccessLevel"

    @property
    def answer(self) -> str:
        """Return the status and reason as the provider gave them, e.g. "HTTP 403 requiredAccessLevel"."""
        if self.status is None:
            return self.reason or self.kind
        return f"HTTP {self.status} {self.reason or '-'}"

    def describe(self) -> str:
        """Return one line naming the side, calendar, operation and answer."""
        account = f" (account {self.account_id})" if self.account_id is not None else ""
        what = "reading" if self.operation == "read" else "writing to"
        return f"{what} the {self.side} calendar {self.calendar}{account} failed: {self.answer}"

    def fix(self, renewal: str | None = None) -> str:
        """Return one sentence saying what to do about it; `renewal` is the account's own fix for "auth"."""
        account = f"account {self.account_id}" if self.account_id is not None else "the account"
        calendar = f"{self.side} calendar {self.calendar}"
        if self.reason == FEED_REFUSED:
            return (
                f"the feed of {account} refused its address: configure the calendar's current secret address."
            )
        if self.reason == FEED_NOT_FOUND:
            return (
                f"the feed address of {account} names no calendar: check it is still published, correct it."
            )
        if self.reason == FEED_READ_ONLY:
            return f"{account} is an ICS feed, which cannot be written: choose another target calendar."
        if self.kind == "auth":  # the account's own renewal says which provider's command or variable
            return f"{account} needs new credentials: {renewal or 'see accounts for how to renew them'}."
        if self.read_only:
            return f"give {account} write access to the {calendar} (sharing: make changes to events)."
        if self.kind == "forbidden":
            return f"share the {calendar} with {account}, or correct its id in the configuration."
        if self.kind == "not_found":
            return f"check that the {calendar} exists and is shared with {account}, or correct its id."
        if self.kind == "quota":
            return "the Calendar API quota is used up: raise it in the Cloud console or wait for its reset."
        unreadable = UNREADABLE_FIXES.get(self.reason or "") if self.kind == "invalid" else None
        if unreadable is not None:
            return f"the {calendar} cannot be read: {unreadable}."
        if self.kind == "invalid":
            return "the provider refused the request: see the daemon's log and report it."
        if self.kind == "unusable_times":
            return f"a meeting in the {calendar} has start/end times that cannot be read; fix that meeting."
        return "nothing yet: it is retried on the next pass."
