"""Translate Graph and token-endpoint answers into calmirror.errors, once, by status and code.

Graph's error body is `{"error": {"code", "message"}}` (https://learn.microsoft.com/graph/errors); the
token endpoint's is `{"error", "error_codes"}` (OAuth 2.0, with AADSTS numbers). Nothing here reads a
message's wording: the class comes from the status, the code and the method; the message only names
them (never a URL's query, a token or a secret).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from calmirror.errors import (
    CLIENT_REFUSED,
    CLIENT_UNKNOWN,
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

# Methods that change a calendar: a refusal means read-only access, and a lost answer "maybe done".
WRITES = frozenset({"events.create", "events.update", "events.delete"})
SYNC_STATE_CODES = frozenset({"SyncStateNotFound", "SyncStateInvalid", "resyncRequired"})
# OAuth errors and AADSTS codes that say the grant or the client is dead: a person must act.
DEAD_GRANT_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "interaction_required", "consent_required"}
)
DEAD_GRANT_CODES = frozenset({70000, 70008, 50173, 700082, 65001, 50076, 50079, 7000215, 7000222, 700016})
# Refusals of the app registration, not of the user's grant: no such application (AADSTS700016), and a
# wrong, expired or missing client secret (AADSTS7000215, 7000222, 7000218).
UNKNOWN_CLIENT_CODES = frozenset({700016})
CLIENT_SECRET_CODES = frozenset({7000215, 7000222, 7000218})
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})
READ_ONLY = "requiredAccessLevel"  # the reason calmirror.errors.Failure reads as "read-only calendar"


def graph_code(body: Any) -> str | None:
    """Return the `error.code` of a Graph error body, None when the body is not one."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if isinstance(code, str) and code else None


def from_status(
    status: int, body: Any, method: str, account_id: int | None, retry_after: float | None = None
) -> ProviderError:
    """Return the calmirror error for a Graph error answer to `method`."""
    code = graph_code(body)
    error_class, reason = error_class_for(status, code, method)
    text = f"{method}: HTTP {status} {code or '-'}"
    return error_class(text, status=status, reason=reason, account_id=account_id, retry_after=retry_after)


def error_class_for(status: int, code: str | None, method: str) -> tuple[type[ProviderError], str | None]:
    """Return the exception class and reason for a Graph status and code."""
    if status == 401:
        return AuthNeededError, code
    if status == 403:
        if code == "ErrorQuotaExceeded":
            return QuotaExceededError, code
        return ForbiddenError, READ_ONLY if method in WRITES else code
    if status == 404:
        return NotFoundError, code
    if status == 410 or code in SYNC_STATE_CODES:
        sync = code in SYNC_STATE_CODES or method == "calendarView.delta"
        return (SyncTokenExpiredError if sync else GoneError), code
    if status == 409:
        # A create's answer clashing with an existing event is a duplicate; anything else is a
        # concurrent change (ErrorIrresolvableConflict), which a resend can pass.
        return (DuplicateError if method == "events.create" else TransientError), code
    if status == 412:
        return PreconditionFailedError, code
    if status == 429:
        return RateLimitedError, code
    if status in (502, 504) and method in WRITES:
        return NoAnswerError, code  # a gateway gave up waiting: the write may have been carried out
    if status >= 500 or status == 408:
        return TransientError, code
    return InvalidRequestError, code


def no_answer(method: str, cause: BaseException, account_id: int | None) -> ProviderError:
    """Return the error for a request that got no readable answer (timeout, broken connection, garbage)."""
    return NoAnswerError(f"{method}: no answer ({type(cause).__name__})", account_id=account_id)


def from_token_answer(
    status: int, body: Any, account_id: int | None, retry_after: float | None = None
) -> ProviderError:
    """Return the error for a refused token request: AuthNeededError when the grant or client is dead."""
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    codes = body.get("error_codes") if isinstance(body, dict) else None
    numbers = {c for c in codes if isinstance(c, int)} if isinstance(codes, list) else set()
    aadsts = f" AADSTS{min(numbers)}" if numbers else ""
    text = f"token: HTTP {status} {error or '-'}{aadsts}"
    common: dict[str, Any] = {"account_id": account_id}
    if numbers & UNKNOWN_CLIENT_CODES:
        return AuthNeededError(text, reason=CLIENT_UNKNOWN, **common)
    if error in CLIENT_ERRORS or numbers & CLIENT_SECRET_CODES:
        return AuthNeededError(text, reason=CLIENT_REFUSED, **common)
    if error in DEAD_GRANT_ERRORS or numbers & DEAD_GRANT_CODES:
        return AuthNeededError(text, reason=error or "invalid_grant", **common)
    if status == 429 or status >= 500 or error == "temporarily_unavailable":
        return TransientError(text, status=status, reason=error or None, retry_after=retry_after, **common)
    return InvalidRequestError(text, status=status, reason=error or None, **common)


def retry_after(value: str | None) -> float | None:
    """Return a Retry-After header in seconds (delta-seconds or an HTTP date), None when absent or odd."""
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
