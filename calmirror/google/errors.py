"""Translate googleapiclient, google-auth and transport failures into calmirror.errors, once."""

from __future__ import annotations

import http.client
import json
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import BatchError, HttpError

from calmirror.errors import (
    AuthNeededError,
    DuplicateError,
    ForbiddenError,
    GoneError,
    InvalidRequestError,
    NoAnswerError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    SyncTokenExpiredError,
    TransientError,
)

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
SYNC_TOKEN_REASONS = frozenset({"fullSyncRequired", "updatedMinTooLongAgo"})
# OAuth answers that no retry can fix: the refresh token or the OAuth client itself was rejected.
REAUTH_CODES = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
TRANSPORT_ERRORS = (OSError, ssl.SSLError, http.client.HTTPException, httplib2.HttpLib2Error, TransportError)


def translate(exc: BaseException, method: str, account_id: int | None) -> ProviderError | None:
    """Return the calmirror error for a failure of `method`, or None when it is not a Google failure."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, BatchError):
        return NoAnswerError(f"{method}: malformed batch response", account_id=account_id)
    if isinstance(exc, HttpError):
        return from_http_error(exc, method, account_id)
    if isinstance(exc, RefreshError):
        return from_refresh_error(exc, method, account_id)
    if isinstance(exc, TimeoutError):
        return NoAnswerError(f"{method}: timed out", account_id=account_id)
    if isinstance(exc, TRANSPORT_ERRORS):
        # The exception text of transport errors can hold URLs; the class name is enough.
        return NoAnswerError(f"{method}: connection failed ({type(exc).__name__})", account_id=account_id)
    return None


def from_http_error(exc: HttpError, method: str, account_id: int | None) -> ProviderError:
    """Translate an HTTP error answer by its status and Google's first errors[].reason."""
    status = int(exc.resp.status)
    reason, google_message = _reason_and_message(exc.content)
    retry_after = _retry_after(exc.resp)
    error_class = error_class_for(status, reason)
    text = f"{method}: HTTP {status} {reason or '-'}: {google_message}"
    return error_class(text, status=status, reason=reason, account_id=account_id, retry_after=retry_after)


def error_class_for(status: int, reason: str | None) -> type[ProviderError]:
    """Return the exception class for an HTTP status and Google reason."""
    if status == 403:
        if reason in RATE_LIMIT_REASONS:
            return RateLimitedError
        return QuotaExceededError if reason == "quotaExceeded" else ForbiddenError
    if status == 410:
        return SyncTokenExpiredError if reason in SYNC_TOKEN_REASONS else GoneError
    if status == 409:
        # "duplicate" is an id clash; "conflict" is a concurrent change that may succeed when re-sent.
        return DuplicateError if reason != "conflict" else TransientError
    by_status: dict[int, type[ProviderError]] = {
        401: AuthNeededError,
        404: NotFoundError,
        408: TransientError,
        412: PreconditionFailedError,
        429: RateLimitedError,
    }
    if status in by_status:
        return by_status[status]
    return TransientError if status >= 500 else InvalidRequestError


def from_refresh_error(exc: RefreshError, method: str, account_id: int | None) -> ProviderError:
    """Translate a failed token refresh: a rejected grant or client needs a human, the rest may pass."""
    code = oauth_error_code(exc)
    if code in REAUTH_CODES and not exc.retryable:
        return AuthNeededError(
            f"{method}: token refresh rejected ({code})", status=None, reason=code, account_id=account_id
        )
    # google-auth also raises non-retryable errors for a non-JSON answer (a proxy's 502 page), so
    # anything but an explicit rejection is treated as transient rather than stopping the account.
    return TransientError(f"{method}: token refresh failed ({code})", reason=code, account_id=account_id)


def oauth_error_code(exc: RefreshError) -> str:
    """Return the OAuth error code (e.g. invalid_grant) of a refresh failure, never its free text."""
    data = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return "refresh_failed"


def _reason_and_message(content: Any) -> tuple[str | None, str]:
    """Return Google's first errors[].reason and its top-level message from an error body."""
    try:
        error = json.loads(content)["error"]
    except (ValueError, TypeError, KeyError):
        return None, "no error body"
    if not isinstance(error, dict):
        return None, str(error)[:200]
    errors = error.get("errors") or [{}]
    reason = errors[0].get("reason") if isinstance(errors[0], dict) else None
    return reason, str(error.get("message", ""))[:500]


def _retry_after(resp: Any) -> float | None:
    """Return the Retry-After header in seconds (delta-seconds or an HTTP date), if present."""
    value = resp.get("retry-after") if resp is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
