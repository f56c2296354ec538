"""The one exception tree of calmirror; Google failures are translated into it once, at the client layer."""

from __future__ import annotations


class CalmirrorError(Exception):
    """Base class for every error calmirror raises on purpose."""


class ConfigError(CalmirrorError):
    """Raised when the environment does not describe a runnable configuration; lists every problem."""

    def __init__(self, problems: list[str], warnings: tuple[str, ...] = ()) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems
        self.warnings = warnings  # e.g. a probable typo that explains a "missing" problem


class GoogleError(CalmirrorError):
    """Raised when a Google API call fails; carries the HTTP status and Google's reason, never a secret."""

    retryable = False

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


class AuthNeededError(GoogleError):
    """Raised when an account's refresh token is rejected (invalid_grant): a human must re-authorise it."""


class ForbiddenError(GoogleError):
    """Raised on a 403 that is not a rate limit: missing permission or a forbidden operation."""


class QuotaExceededError(ForbiddenError):
    """Raised on 403 quotaExceeded, Google's long-term usage limit; retrying soon does not help."""


class NotFoundError(GoogleError):
    """Raised when a calendar, event or channel does not exist (404)."""


class GoneError(GoogleError):
    """Raised when the resource was deleted (410 deleted), for example deleting a deleted event."""


class SyncTokenExpiredError(GoogleError):
    """Raised when Google answers 410 to a sync-token listing: the cache must list the window again."""


class DuplicateError(GoogleError):
    """Raised when an insert names an event id that already exists, live or deleted (409)."""


class PreconditionFailedError(GoogleError):
    """Raised when an If-Match etag no longer matches (412)."""


class InvalidRequestError(GoogleError):
    """Raised when Google rejects the request itself (400 and other non-retryable 4xx)."""


class RateLimitedError(GoogleError):
    """Raised on 429 or 403 rateLimitExceeded/userRateLimitExceeded; worth retrying after a wait."""

    retryable = True


class TransientError(GoogleError):
    """Raised on 5xx answers, timeouts and broken connections; worth retrying after a wait."""

    retryable = True


class NoAnswerError(TransientError):
    """Raised when no readable answer came (timeout, broken connection, garbage): a write may be done."""
